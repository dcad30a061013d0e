/*
 * parley-loadgen: one load generator for the relay benchmark, so that
 * parley-relay, nats-server (core and JetStream) and mosquitto (QoS 0 and
 * QoS 1) are measured by the same client code. Single-threaded: one epoll
 * loop over non-blocking sockets, a minimal WebSocket client (ws.c) and
 * one module per protocol.
 *
 * Workloads (1 KiB messages, sender/receiver pairs on one subject/topic/
 * recipient each):
 *   capacity  pairs with a fixed window of messages in flight; reports
 *             messages/s and messages per server CPU-second.
 *   latency   idle connections held open, then pairs paced at a fixed total
 *             rate; reports p50/p99 latency and server CPU %. It also
 *             reports the server's resident memory per idle connection
 *             (VmRSS before and after opening them).
 *   memory    only the idle connections and the memory figure.
 * Latency is receive time minus the send time written (CLOCK_MONOTONIC ns)
 * into the first 8 bytes of each payload. Server CPU comes from
 * /proc/PID/stat (utime + stime), memory from /proc/PID/status (VmRSS).
 *
 * After the measured window of a load workload nothing more is sent and
 * the generator waits (--drain) until every message is complete, then
 * counts the whole run: sent, acknowledged, received, lost, duplicates.
 * For a protocol whose server acknowledges messages (Parley, JetStream,
 * MQTT QoS 1) anything but "all acknowledged, all received once" fails the
 * run (exit status 4).
 *
 * Results are printed as one "result key=value ..." line per workload.
 * Every phase has a deadline; the program always stops by itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "loadgen.h"
#include "parley/common.h"
#include "ws.h"

#define SCRATCH_BYTES (256u * 1024u)
#define MAX_EVENTS 512
#define MAX_SAMPLES (16u * 1024u * 1024u)
#define LATENCY_PAIR_CAP 4096u /* paced mode: un-received messages per pair */
#define MAX_PRINTED_ERRORS 5

enum workload { WL_CAPACITY, WL_LATENCY, WL_MEMORY };

struct options {
    const struct proto *proto;
    enum workload workload;
    char host[64];
    uint16_t port, rx_port;       /* rx_port: receivers' server (another relay node), 0: port */
    uint32_t pairs;
    uint32_t window;
    uint32_t idle;
    double rate;
    double warmup_s;
    double duration_s;
    double settle_s;
    double connect_timeout_s;
    double drain_s;
    uint32_t parallel;
    long server_pid;
};

struct bench {
    struct options opt;
    const struct proto *proto;
    int ep;
    struct conn *conns;
    uint32_t nconns;
    struct pair *pairs;
    uint32_t next_open; /* next connection to open */
    uint32_t open_limit; /* open connections up to this index */
    uint32_t opening;   /* connections between connect() and ready */
    uint32_t ready;
    struct conn *dirty;
    struct pair **refill; /* pairs whose window has room (capacity mode) */
    uint32_t nrefill;
    uint8_t *pair_queued;
    bool sending;
    bool measuring;
    bool failed;
    uint64_t received_total;
    uint64_t server_errors;
    uint64_t *samples;
    size_t nsamples, samples_cap;
    uint64_t rng;
    char tag[12];
    uint8_t payload[MSG_SIZE];
    uint8_t scratch[SCRATCH_BYTES];
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t secs_to_ns(double s) { return (uint64_t)(s * 1e9); }

/* ---------------------------------------------------------------------
 * Services for the protocol modules. */

uint32_t bench_random(struct bench *b)
{
    /* xorshift64*: WebSocket masks only need to vary, not to be secret. */
    b->rng ^= b->rng >> 12;
    b->rng ^= b->rng << 25;
    b->rng ^= b->rng >> 27;
    return (uint32_t)((b->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

const uint8_t *bench_payload(const struct bench *b) { return b->payload; }

const char *bench_run_tag(const struct bench *b) { return b->tag; }

const struct proto *bench_proto(const struct bench *b) { return b->proto; }

/* Messages of pair p not yet complete (acked where the server acks, and received). */
static uint64_t in_flight(const struct bench *b, const struct pair *p)
{
    uint64_t done = p->received;

    if (b->proto->acknowledged && p->acked < done)
        done = p->acked;
    return p->sent - done;
}

static void mark_dirty(struct bench *b, struct conn *c)
{
    if (!c->dirty) {
        c->dirty = true;
        c->next_dirty = b->dirty;
        b->dirty = c;
    }
}

uint8_t *bench_frame_begin(struct bench *b, struct conn *c, size_t len)
{
    uint8_t *p = ws_frame_begin(&c->out, WS_BINARY, len, bench_random(b));
    if (p == NULL)
        bench_error(b, c, "output buffer limit reached");
    return p;
}

void bench_frame_end(struct bench *b, struct conn *c, uint8_t *payload, size_t len)
{
    ws_frame_end(payload, len);
    mark_dirty(b, c);
}

static const char *role_name(enum role r)
{
    return r == ROLE_SENDER ? "sender" : r == ROLE_RECEIVER ? "receiver" : "idle";
}

void bench_error(struct bench *b, struct conn *c, const char *fmt, ...)
{
    va_list ap;

    if (!b->failed) {
        fprintf(stderr, "parley-loadgen: %s connection %u (%s): ", b->proto->name,
                c ? (unsigned)c->idx : 0u, c ? role_name(c->role) : "-");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    b->failed = true;
}

void bench_server_error(struct bench *b, struct conn *c, const char *what)
{
    if (b->server_errors < MAX_PRINTED_ERRORS)
        fprintf(stderr, "parley-loadgen: %s connection %u (%s): server says %s\n", b->proto->name,
                (unsigned)c->idx, role_name(c->role), what);
    b->server_errors++;
}

void bench_conn_ready(struct bench *b, struct conn *c)
{
    if (c->state == ST_READY)
        return;
    c->state = ST_READY;
    b->opening--;
    b->ready++;
}

static void queue_refill(struct bench *b, struct pair *p)
{
    if (b->opt.workload == WL_CAPACITY && !b->pair_queued[p->idx]) {
        b->pair_queued[p->idx] = 1;
        b->refill[b->nrefill++] = p;
    }
}

void bench_received(struct bench *b, struct pair *p, const uint8_t *payload, size_t len)
{
    uint64_t t = now_ns();

    if (len < 8) {
        bench_error(b, p->rx, "message of %zu bytes has no timestamp", len);
        return;
    }
    p->received++;
    b->received_total++;
    if (b->measuring && b->opt.workload == WL_LATENCY && b->nsamples < MAX_SAMPLES) {
        if (b->nsamples == b->samples_cap) {
            size_t cap = b->samples_cap ? b->samples_cap * 2 : 65536;
            uint64_t *s = realloc(b->samples, cap * sizeof *s);
            if (s == NULL) {
                bench_error(b, p->rx, "out of memory for latency samples");
                return;
            }
            b->samples = s;
            b->samples_cap = cap;
        }
        uint64_t sent = stamp_get(payload);
        b->samples[b->nsamples++] = t > sent ? t - sent : 0;
    }
    queue_refill(b, p);
}

void bench_acked(struct bench *b, struct pair *p)
{
    p->acked++;
    queue_refill(b, p);
}

/* ---------------------------------------------------------------------
 * Sockets. */

static int set_events(struct bench *b, struct conn *c, bool want_out)
{
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};

    if (epoll_ctl(b->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
        bench_error(b, c, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    c->want_out = want_out;
    return 0;
}

static void conn_flush(struct bench *b, struct conn *c)
{
    while (buf_used(&c->out) > 0) {
        ssize_t n = write(c->fd, buf_data(&c->out), buf_used(&c->out));
        if (n > 0) {
            buf_consume(&c->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out)
                set_events(b, c, true);
            return;
        }
        bench_error(b, c, "write: %s", n < 0 ? strerror(errno) : "short");
        return;
    }
    if (c->want_out)
        set_events(b, c, false);
}

static void flush_dirty(struct bench *b)
{
    while (b->dirty != NULL) {
        struct conn *c = b->dirty;
        b->dirty = c->next_dirty;
        c->dirty = false;
        if (c->state != ST_CONNECTING && c->state != ST_CLOSED)
            conn_flush(b, c);
    }
}

/* The port a connection goes to: receivers may be on another relay node. */
static uint16_t port_of(const struct bench *b, const struct conn *c)
{
    return c->role == ROLE_RECEIVER && b->opt.rx_port != 0 ? b->opt.rx_port : b->opt.port;
}

static int conn_open(struct bench *b, struct conn *c)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port_of(b, c))};
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    int one = 1;

    if (inet_pton(AF_INET, b->opt.host, &sa.sin_addr) != 1) {
        bench_error(b, c, "bad IPv4 address %s", b->opt.host);
        return -1;
    }
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        bench_error(b, c, "socket: %s (raise the open-files limit)", strerror(errno));
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        bench_error(b, c, "connect: %s", strerror(errno));
        return -1;
    }
    if (epoll_ctl(b->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        bench_error(b, c, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    c->want_out = true;
    c->state = ST_CONNECTING;
    b->opening++;
    return 0;
}

static void open_more(struct bench *b)
{
    while (!b->failed && b->next_open < b->open_limit && b->opening < b->opt.parallel)
        conn_open(b, &b->conns[b->next_open++]);
}

static void connected(struct bench *b, struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        bench_error(b, c, "connect to %s:%u: %s", b->opt.host, (unsigned)port_of(b, c),
                    strerror(err ? err : errno));
        return;
    }
    c->state = ST_UPGRADE;
    if (ws_request(&c->out, b->opt.host, port_of(b, c), b->proto->subprotocol) != 0) {
        bench_error(b, c, "out of memory");
        return;
    }
    conn_flush(b, c);
}

static void handle_frame(struct bench *b, struct conn *c, const struct ws_frame *f)
{
    switch (f->opcode) {
    case WS_PING: {
        uint8_t *p = ws_frame_begin(&c->out, WS_PONG, f->len, bench_random(b));
        if (p == NULL) {
            bench_error(b, c, "out of memory");
            return;
        }
        memcpy(p, f->payload, f->len);
        ws_frame_end(p, f->len);
        mark_dirty(b, c);
        return;
    }
    case WS_PONG:
        return;
    case WS_CLOSE: {
        unsigned code = f->len >= 2 ? ((unsigned)f->payload[0] << 8) | f->payload[1] : 1005u;
        int rlen = f->len > 2 ? (int)(f->len - 2) : 0;
        bench_error(b, c, "server closed the WebSocket: code %u %.*s", code, rlen,
                    f->len > 2 ? (const char *)f->payload + 2 : "");
        return;
    }
    case WS_TEXT:
    case WS_BINARY:
    case WS_CONT:
        if ((f->opcode == WS_CONT) != c->in_message) {
            bench_error(b, c, "WebSocket fragmentation out of order");
            return;
        }
        if (buf_append(&c->app, f->payload, f->len) != 0) {
            bench_error(b, c, "message buffer limit reached");
            return;
        }
        c->in_message = !f->fin;
        if (b->proto->on_data(b, c, f->fin) != 0 && !b->failed)
            bench_error(b, c, "%s: cannot handle what the server sent", b->proto->name);
        return;
    default:
        bench_error(b, c, "unknown WebSocket opcode %u", f->opcode);
        return;
    }
}

/* Decodes what arrived: the upgrade response, then frames. */
static void conn_input(struct bench *b, struct conn *c, const uint8_t *data, size_t len)
{
    const uint8_t *p = data;
    size_t avail = len, used = 0;
    bool from_in = buf_used(&c->in) > 0;

    if (from_in) {
        if (buf_append(&c->in, data, len) != 0) {
            bench_error(b, c, "input buffer limit reached");
            return;
        }
        p = buf_data(&c->in);
        avail = buf_used(&c->in);
    }
    if (c->state == ST_UPGRADE) {
        char err[160];
        long h = ws_response(p, avail, b->proto->subprotocol, err, sizeof err);
        if (h < 0) {
            bench_error(b, c, "%s", err);
            return;
        }
        if (h > 0) {
            used = (size_t)h;
            c->state = ST_HANDSHAKE;
            if (b->proto->on_open(b, c) != 0) {
                bench_error(b, c, "cannot open the session");
                return;
            }
        }
    }
    while (c->state != ST_UPGRADE && !b->failed && used < avail) {
        struct ws_frame f;
        int r = ws_frame_parse(p + used, avail - used, &f);
        if (r < 0) {
            bench_error(b, c, "invalid WebSocket frame from the server");
            return;
        }
        if (r == 0)
            break;
        handle_frame(b, c, &f);
        used += f.total;
    }
    if (from_in)
        buf_consume(&c->in, used);
    else if (used < avail && buf_append(&c->in, p + used, avail - used) != 0)
        bench_error(b, c, "input buffer limit reached");
}

static void conn_read(struct bench *b, struct conn *c)
{
    for (int round = 0; round < 4 && !b->failed; round++) {
        ssize_t n = read(c->fd, b->scratch, sizeof b->scratch);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            bench_error(b, c, "read: %s", strerror(errno));
            return;
        }
        if (n == 0) {
            bench_error(b, c, "server closed the connection");
            return;
        }
        conn_input(b, c, b->scratch, (size_t)n);
        if ((size_t)n < sizeof b->scratch)
            break;
    }
    if (!b->failed && c->state != ST_UPGRADE && b->proto->on_read_done(b, c) != 0)
        bench_error(b, c, "cannot answer the server");
}

static void handle_event(struct bench *b, const struct epoll_event *ev)
{
    struct conn *c = ev->data.ptr;

    if (c->state == ST_CONNECTING) {
        if (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLIN))
            connected(b, c);
        return;
    }
    if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        conn_read(b, c);
    if (!b->failed && (ev->events & EPOLLOUT))
        conn_flush(b, c);
}

/* ---------------------------------------------------------------------
 * The loop. */

static void send_refills(struct bench *b)
{
    uint64_t t = now_ns();

    for (uint32_t i = 0; i < b->nrefill && !b->failed; i++) {
        struct pair *p = b->refill[i];
        b->pair_queued[p->idx] = 0;
        while (b->sending && in_flight(b, p) < b->opt.window)
            if (b->proto->send(b, p, t) != 0)
                return;
    }
    b->nrefill = 0;
}

/* One turn: wait for events at most until deadline_ns, handle them, flush. */
static void loop_turn(struct bench *b, uint64_t deadline_ns)
{
    struct epoll_event ev[MAX_EVENTS];
    uint64_t now = now_ns();
    uint64_t wait = deadline_ns > now ? deadline_ns - now : 0;
    struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000u),
                          .tv_nsec = (long)(wait % 1000000000u)};
    int n;

    if (b->dirty != NULL || b->nrefill > 0)
        ts.tv_sec = ts.tv_nsec = 0;
    n = epoll_pwait2(b->ep, ev, MAX_EVENTS, &ts, NULL);
    if (n < 0 && errno != EINTR) {
        bench_error(b, NULL, "epoll_pwait2: %s", strerror(errno));
        return;
    }
    for (int i = 0; i < n && !b->failed; i++)
        handle_event(b, &ev[i]);
    if (b->nrefill > 0)
        send_refills(b);
    flush_dirty(b);
}

/* Opens connections [next_open, upto) and waits until all are ready. */
static int connect_all(struct bench *b, uint32_t upto)
{
    uint64_t deadline = now_ns() + secs_to_ns(b->opt.connect_timeout_s);

    b->open_limit = upto;
    while (!b->failed && b->ready < upto) {
        open_more(b);
        if (now_ns() > deadline) {
            fprintf(stderr,
                    "parley-loadgen: %s: only %u of %u connections ready after %.0f s\n",
                    b->proto->name, (unsigned)b->ready, (unsigned)upto,
                    b->opt.connect_timeout_s);
            return -1;
        }
        loop_turn(b, now_ns() + 10000000u);
    }
    return b->failed ? -1 : 0;
}

/* Keeps serving the sockets (pings, pongs) for a while without load. */
static void serve_for(struct bench *b, double seconds)
{
    uint64_t end = now_ns() + secs_to_ns(seconds);
    while (!b->failed && now_ns() < end)
        loop_turn(b, end);
}

/* ---------------------------------------------------------------------
 * The server's own accounting. */

static int server_cpu_ticks(long pid, uint64_t *ticks)
{
    char path[64], line[2048];
    FILE *f;
    char *p, *end;
    uint64_t ut, st;

    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    p = fgets(line, sizeof line, f);
    fclose(f);
    if (p == NULL || (p = strrchr(line, ')')) == NULL)
        return -1;
    /* After ")": state(3) ... utime is field 14, stime field 15. */
    p++;
    for (int field = 3; field < 14; field++) {
        p = strchr(p + 1, ' ');
        if (p == NULL)
            return -1;
    }
    errno = 0;
    ut = strtoull(p + 1, &end, 10);
    if (errno != 0 || end == p + 1)
        return -1;
    st = strtoull(end + 1, &p, 10);
    if (errno != 0 || p == end + 1)
        return -1;
    *ticks = ut + st;
    return 0;
}

static int server_rss(long pid, uint64_t *bytes)
{
    char path[64], line[256];
    FILE *f;
    int rc = -1;

    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            char *end;
            errno = 0;
            unsigned long long kb = strtoull(line + 6, &end, 10);
            if (errno == 0 && end != line + 6) {
                *bytes = (uint64_t)kb * 1024u;
                rc = 0;
            }
            break;
        }
    }
    fclose(f);
    return rc;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Busy time of every CPU on the machine, in clock ticks (/proc/stat). */
static int host_busy_ticks(uint64_t *ticks)
{
    char line[512];
    FILE *f = fopen("/proc/stat", "r");
    char *p, *end;
    uint64_t v[8] = {0};

    if (f == NULL)
        return -1;
    p = fgets(line, sizeof line, f);
    fclose(f);
    if (p == NULL || strncmp(line, "cpu ", 4) != 0)
        return -1;
    p = line + 4;
    /* user nice system idle iowait irq softirq steal */
    for (int i = 0; i < 8; i++) {
        errno = 0;
        v[i] = strtoull(p, &end, 10);
        if (errno != 0 || end == p)
            return -1;
        p = end;
    }
    *ticks = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return 0;
}

struct snapshot {
    uint64_t t_ns;
    uint64_t received;
    uint64_t server_ticks;
    uint64_t host_ticks;
    double self_cpu;
    bool have_server;
    bool have_host;
};

static void take_snapshot(struct bench *b, struct snapshot *s)
{
    s->t_ns = now_ns();
    s->received = b->received_total;
    s->self_cpu = self_cpu_s();
    s->have_server = b->opt.server_pid > 0 && server_cpu_ticks(b->opt.server_pid, &s->server_ticks) == 0;
    s->have_host = host_busy_ticks(&s->host_ticks) == 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static uint64_t percentile(const uint64_t *s, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return s[rank - 1];
}

/* ---------------------------------------------------------------------
 * Workloads. */

static int measure_memory(struct bench *b)
{
    uint64_t before = 0, after = 0;
    bool have = b->opt.server_pid > 0;

    if (have && server_rss(b->opt.server_pid, &before) != 0)
        have = false;
    if (connect_all(b, b->opt.idle) != 0)
        return -1;
    serve_for(b, b->opt.settle_s);
    if (b->failed)
        return -1;
    if (have && server_rss(b->opt.server_pid, &after) != 0)
        have = false;
    if (!have) {
        fprintf(stderr, "parley-loadgen: no --server-pid or /proc unreadable: no memory figure\n");
        return 0;
    }
    printf("result workload=memory proto=%s conns=%u rss_before=%" PRIu64 " rss_after=%" PRIu64
           " bytes_per_conn=%.0f\n",
           b->proto->name, (unsigned)b->opt.idle, before, after,
           b->opt.idle ? ((double)after - (double)before) / b->opt.idle : 0.0);
    fflush(stdout);
    return 0;
}

/* The whole run's messages, counted once the drain is over. */
struct totals {
    uint64_t sent, acked, received, duplicates, lost, unacked;
    double drain_s;
};

/* Stops sending and waits up to --drain seconds until nothing is in flight. */
static void drain(struct bench *b, struct totals *t)
{
    uint64_t start = now_ns(), end = start + secs_to_ns(b->opt.drain_s);
    uint32_t busy = 0; /* pairs [0, busy) are known complete */

    b->sending = false;
    b->measuring = false;
    while (!b->failed) {
        while (busy < b->opt.pairs && in_flight(b, &b->pairs[busy]) == 0)
            busy++;
        if (busy == b->opt.pairs || now_ns() >= end)
            break;
        loop_turn(b, end);
    }
    memset(t, 0, sizeof *t);
    t->drain_s = (double)(now_ns() - start) / 1e9;
    for (uint32_t i = 0; i < b->opt.pairs; i++) {
        const struct pair *p = &b->pairs[i];
        t->sent += p->sent;
        t->acked += p->acked;
        t->received += p->received;
        t->duplicates += p->duplicates;
        t->lost += p->sent > p->received ? p->sent - p->received : 0;
        /* More received than sent can only be a delivery counted twice. */
        t->duplicates += p->received > p->sent ? p->received - p->sent : 0;
        if (b->proto->acknowledged)
            t->unacked += p->sent > p->acked ? p->sent - p->acked : 0;
    }
}

static void print_load_result(struct bench *b, const struct snapshot *s0, const struct snapshot *s1,
                              uint64_t max_lag_ns, uint64_t skipped, const struct totals *t)
{
    double secs = (double)(s1->t_ns - s0->t_ns) / 1e9;
    uint64_t msgs = s1->received - s0->received;
    double tick = (double)sysconf(_SC_CLK_TCK);
    double cpu = -1;

    if (s0->have_server && s1->have_server)
        cpu = (double)(s1->server_ticks - s0->server_ticks) / tick;
    printf("result workload=%s proto=%s pairs=%u msgs=%" PRIu64 " seconds=%.3f msgs_per_s=%.0f",
           b->opt.workload == WL_CAPACITY ? "capacity" : "latency", b->proto->name,
           (unsigned)b->opt.pairs, msgs, secs, (double)msgs / secs);
    if (cpu >= 0)
        printf(" server_cpu_s=%.2f server_cpu_pct=%.1f msgs_per_cpu_s=%.0f", cpu,
               100.0 * cpu / secs, cpu > 0 ? (double)msgs / cpu : 0.0);
    printf(" gen_cpu_pct=%.1f", 100.0 * (s1->self_cpu - s0->self_cpu) / secs);
    if (cpu >= 0 && s0->have_host && s1->have_host) {
        /* Everything else the machine ran meanwhile: the noise indicator. */
        double host = (double)(s1->host_ticks - s0->host_ticks) / tick;
        double others = host - cpu - (s1->self_cpu - s0->self_cpu);
        printf(" others_cpu_pct=%.1f", others > 0 ? 100.0 * others / secs : 0.0);
    }
    if (b->opt.workload == WL_CAPACITY) {
        printf(" window=%u", (unsigned)b->opt.window);
    } else {
        qsort(b->samples, b->nsamples, sizeof *b->samples, cmp_u64);
        if (b->nsamples > 0)
            printf(" target_rate=%.0f idle=%u samples=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f"
                   " p999_us=%.1f max_us=%.1f",
                   b->opt.rate, (unsigned)b->opt.idle, b->nsamples,
                   percentile(b->samples, b->nsamples, 0.50) / 1e3,
                   percentile(b->samples, b->nsamples, 0.90) / 1e3,
                   percentile(b->samples, b->nsamples, 0.99) / 1e3,
                   percentile(b->samples, b->nsamples, 0.999) / 1e3,
                   b->samples[b->nsamples - 1] / 1e3);
        printf(" max_lag_us=%.1f skipped=%" PRIu64, (double)max_lag_ns / 1e3, skipped);
    }
    printf(" sent=%" PRIu64 " received=%" PRIu64 " lost=%" PRIu64 " duplicates=%" PRIu64, t->sent,
           t->received, t->lost, t->duplicates);
    if (b->proto->acknowledged)
        printf(" acked=%" PRIu64 " unacked=%" PRIu64, t->acked, t->unacked);
    printf(" drain_s=%.2f errors=%" PRIu64 "\n", t->drain_s, b->server_errors);
    fflush(stdout);
}

static int run_load(struct bench *b)
{
    struct snapshot s0 = {0}, s1 = {0};
    struct totals totals;
    uint64_t start, warm_end, end, next_due, interval = 0, max_lag = 0, skipped = 0;
    uint32_t rr = 0;
    bool paced = b->opt.workload == WL_LATENCY;

    if (connect_all(b, b->nconns) != 0)
        return -1;
    b->sending = true;
    start = now_ns();
    warm_end = start + secs_to_ns(b->opt.warmup_s);
    end = warm_end + secs_to_ns(b->opt.duration_s);
    next_due = start;
    if (paced) {
        interval = (uint64_t)(1e9 / b->opt.rate);
        if (interval == 0)
            interval = 1;
    } else {
        for (uint32_t i = 0; i < b->opt.pairs; i++)
            queue_refill(b, &b->pairs[i]);
    }
    for (;;) {
        uint64_t now = now_ns();
        if (b->failed)
            return -1;
        if (!b->measuring && now >= warm_end) {
            take_snapshot(b, &s0);
            b->measuring = true;
            max_lag = 0;
            skipped = 0;
        }
        if (now >= end)
            break;
        if (paced) {
            while (next_due <= now && !b->failed) {
                struct pair *p = &b->pairs[rr++ % b->opt.pairs];
                if (now - next_due > max_lag)
                    max_lag = now - next_due;
                if (in_flight(b, p) < LATENCY_PAIR_CAP)
                    b->proto->send(b, p, now_ns());
                else
                    skipped++;
                next_due += interval;
            }
            loop_turn(b, next_due < end ? next_due : end);
        } else {
            loop_turn(b, end);
        }
    }
    take_snapshot(b, &s1);
    drain(b, &totals);
    if (b->failed)
        return -1;
    print_load_result(b, &s0, &s1, max_lag, skipped, &totals);
    if (b->proto->acknowledged && (totals.lost || totals.unacked || totals.duplicates)) {
        fprintf(stderr,
                "parley-loadgen: %s: after %.1f s of drain, %" PRIu64 " of %" PRIu64
                " messages not received, %" PRIu64 " not acknowledged, %" PRIu64 " duplicates\n",
                b->proto->name, totals.drain_s, totals.lost, totals.sent, totals.unacked,
                totals.duplicates);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Setup. */

static void usage(FILE *f)
{
    fputs("usage: parley-loadgen --proto nats|jetstream|mqtt|mqtt-qos1|parley --port N [options]\n"
          "  --workload capacity|latency|memory  (default capacity)\n"
          "  --host ADDR        IPv4 address of the server (default 127.0.0.1)\n"
          "  --rx-port N        receivers connect to this port (another relay node)\n"
          "  --server-pid PID   read the server's CPU time and memory from /proc\n"
          "  --pairs N          sender/receiver pairs (default 100)\n"
          "  --window N         capacity: messages in flight per pair (default 16)\n"
          "  --rate N           latency: total messages/s, paced (default 10000)\n"
          "  --idle N           idle connections (default 5000 for latency and memory)\n"
          "  --warmup S         seconds of load before measuring (default 2)\n"
          "  --duration S       seconds measured (default 10)\n"
          "  --settle S         seconds between opening idle connections and reading RSS (default 1)\n"
          "  --parallel N       connection handshakes in progress at once (default 200)\n"
          "  --connect-timeout S  give up if connections are not ready by then (default 120)\n"
          "  --drain S          after the load, wait this long for messages in flight (default 10)\n",
          f);
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    bool idle_set = false;
    uint32_t port = 0, rx_port = 0, pid = 0;

    memset(o, 0, sizeof *o);
    memcpy(o->host, "127.0.0.1", sizeof "127.0.0.1");
    o->workload = WL_CAPACITY;
    o->pairs = 100;
    o->window = 16;
    o->rate = 10000;
    o->warmup_s = 2;
    o->duration_s = 10;
    o->settle_s = 1;
    o->connect_timeout_s = 120;
    o->drain_s = 10;
    o->parallel = 200;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (v == NULL) {
            fprintf(stderr, "parley-loadgen: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--proto") == 0) {
            o->proto = strcmp(v, "nats") == 0        ? &proto_nats
                       : strcmp(v, "jetstream") == 0 ? &proto_jetstream
                       : strcmp(v, "mqtt") == 0      ? &proto_mqtt
                       : strcmp(v, "mqtt-qos1") == 0 ? &proto_mqtt_qos1
                       : strcmp(v, "parley") == 0    ? &proto_parley
                                                     : NULL;
            bad = o->proto == NULL;
        } else if (strcmp(a, "--workload") == 0) {
            if (strcmp(v, "capacity") == 0)
                o->workload = WL_CAPACITY;
            else if (strcmp(v, "latency") == 0)
                o->workload = WL_LATENCY;
            else if (strcmp(v, "memory") == 0)
                o->workload = WL_MEMORY;
            else
                bad = 1;
        } else if (strcmp(a, "--host") == 0) {
            size_t n = strlen(v);
            bad = n >= sizeof o->host;
            if (!bad)
                memcpy(o->host, v, n + 1);
        } else if (strcmp(a, "--port") == 0) {
            bad = parse_u32(v, &port) != 0 || port == 0 || port > 65535;
        } else if (strcmp(a, "--rx-port") == 0) {
            bad = parse_u32(v, &rx_port) != 0 || rx_port == 0 || rx_port > 65535;
        } else if (strcmp(a, "--server-pid") == 0) {
            bad = parse_u32(v, &pid) != 0;
        } else if (strcmp(a, "--pairs") == 0) {
            bad = parse_u32(v, &o->pairs) != 0 || o->pairs == 0 || o->pairs > 100000;
        } else if (strcmp(a, "--window") == 0) {
            bad = parse_u32(v, &o->window) != 0 || o->window == 0 || o->window > 100000;
        } else if (strcmp(a, "--idle") == 0) {
            bad = parse_u32(v, &o->idle) != 0 || o->idle > 1000000;
            idle_set = true;
        } else if (strcmp(a, "--rate") == 0) {
            bad = parse_double(v, &o->rate) != 0 || o->rate < 1;
        } else if (strcmp(a, "--warmup") == 0) {
            bad = parse_double(v, &o->warmup_s) != 0;
        } else if (strcmp(a, "--duration") == 0) {
            bad = parse_double(v, &o->duration_s) != 0 || o->duration_s <= 0;
        } else if (strcmp(a, "--settle") == 0) {
            bad = parse_double(v, &o->settle_s) != 0;
        } else if (strcmp(a, "--parallel") == 0) {
            bad = parse_u32(v, &o->parallel) != 0 || o->parallel == 0;
        } else if (strcmp(a, "--drain") == 0) {
            bad = parse_double(v, &o->drain_s) != 0;
        } else if (strcmp(a, "--connect-timeout") == 0) {
            bad = parse_double(v, &o->connect_timeout_s) != 0;
        } else {
            fprintf(stderr, "parley-loadgen: unknown option %s\n", a);
            usage(stderr);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "parley-loadgen: bad value for %s: %s\n", a, v);
            return -1;
        }
    }
    if (o->proto == NULL || port == 0) {
        usage(stderr);
        return -1;
    }
    o->port = (uint16_t)port;
    o->rx_port = (uint16_t)rx_port;
    o->server_pid = (long)pid;
    if (!idle_set)
        o->idle = o->workload == WL_CAPACITY ? 0 : 5000;
    if (o->workload == WL_MEMORY)
        o->pairs = 0;
    return 0;
}

/* Each connection is a descriptor; leave headroom for the rest. */
static int raise_nofile(uint32_t conns)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)conns + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max < need) {
        rl.rlim_max = need; /* only root may do this */
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(stderr, "parley-loadgen: cannot raise the open-files limit to %lu: %s\n",
                (unsigned long)need, strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * Resets every connection (no TIME_WAIT left behind on loopback ports) and
 * frees the bench, also one that bench_new() did not finish.
 */
static void bench_free(struct bench *b)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    for (uint32_t i = 0; b->conns != NULL && i < b->nconns; i++) {
        struct conn *c = &b->conns[i];
        if (c->fd >= 0) {
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close(c->fd);
        }
        buf_free(&c->in);
        buf_free(&c->app);
        buf_free(&c->out);
        buf_free(&c->acks);
    }
    if (b->ep >= 0)
        close(b->ep);
    free(b->conns);
    free(b->pairs);
    free(b->refill);
    free(b->pair_queued);
    free(b->samples);
    free(b);
}

static struct bench *bench_new(const struct options *o)
{
    struct bench *b = calloc(1, sizeof *b);

    if (b == NULL)
        return NULL;
    b->opt = *o;
    b->proto = o->proto;
    b->ep = -1;
    b->conns = calloc(o->idle + 2 * o->pairs ? o->idle + 2 * o->pairs : 1, sizeof *b->conns);
    b->pairs = calloc(o->pairs ? o->pairs : 1, sizeof *b->pairs);
    b->refill = calloc(o->pairs ? o->pairs : 1, sizeof *b->refill);
    b->pair_queued = calloc(o->pairs ? o->pairs : 1, 1);
    b->ep = epoll_create1(EPOLL_CLOEXEC);
    if (b->conns == NULL || b->pairs == NULL || b->refill == NULL || b->pair_queued == NULL ||
        b->ep < 0) {
        bench_free(b);
        return NULL;
    }
    b->nconns = o->idle + 2 * o->pairs;
    randombytes_buf(b->payload, sizeof b->payload);
    randombytes_buf(&b->rng, sizeof b->rng);
    b->rng |= 1;
    snprintf(b->tag, sizeof b->tag, "%08x", (unsigned)(b->rng & 0xffffffffu));
    for (uint32_t i = 0; i < b->nconns; i++) {
        b->conns[i].fd = -1;
        b->conns[i].idx = i;
        b->conns[i].role = ROLE_IDLE;
        b->conns[i].state = ST_CLOSED;
    }
    for (uint32_t i = 0; i < o->pairs; i++) {
        struct pair *p = &b->pairs[i];
        p->idx = i;
        p->tx = &b->conns[o->idle + 2 * i];
        p->rx = &b->conns[o->idle + 2 * i + 1];
        p->tx->role = ROLE_SENDER;
        p->rx->role = ROLE_RECEIVER;
        p->tx->pair = p->rx->pair = p;
        /* One subject/topic per pair; a run-unique prefix keeps runs apart. */
        bool mqtt = o->proto == &proto_mqtt || o->proto == &proto_mqtt_qos1;
        snprintf(p->name, sizeof p->name, "bench%c%s%c%u", mqtt ? '/' : '.', b->tag,
                 mqtt ? '/' : '.', (unsigned)i);
        randombytes_buf(p->conversation, sizeof p->conversation);
    }
    return b;
}

int main(int argc, char **argv)
{
    struct options o;
    struct bench *b;
    uint64_t server_errors;
    int rc = 0;

    if (parse_options(argc, argv, &o) != 0)
        return 2;
    if (parley_init() != PARLEY_OK) {
        fprintf(stderr, "parley-loadgen: libsodium does not start\n");
        return 1;
    }
    if (raise_nofile(o.idle + 2 * o.pairs) != 0)
        return 1;
    b = bench_new(&o);
    if (b == NULL) {
        fprintf(stderr, "parley-loadgen: out of memory\n");
        return 1;
    }
    if (o.workload != WL_CAPACITY && o.idle > 0)
        rc = measure_memory(b);
    if (rc == 0 && o.workload != WL_MEMORY)
        rc = run_load(b);
    if (rc == 0 && b->failed)
        rc = -1;
    server_errors = b->server_errors;
    bench_free(b);
    if (rc < 0)
        return 1;
    if (server_errors > 0) {
        fprintf(stderr, "parley-loadgen: %s: %" PRIu64 " error replies from the server\n",
                o.proto->name, server_errors);
        return 3;
    }
    return rc > 0 ? 4 : 0;
}
