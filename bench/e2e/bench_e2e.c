/*
 * End-to-end benchmark: a customer and an agent talking through a real
 * parley-relay on loopback, with everything a message costs on the way:
 * sealing, the sender's durable outbox, the relay's durable store, the
 * receiver's verification and durable history, and the delivery receipt
 * that flows back. Each client is driven by its own host thread, as an
 * application would drive it; --mode picks how (see below).
 *
 * Per run: a fresh directory, relay and pair of clients; the customer
 * consents and opens a conversation, the agent claims it, then
 *  (1) latency: one text at a time with a pause between, customer
 *      parley_conversation_send_text() to the agent's PARLEY_EV_MESSAGE callback (the
 *      send time travels in the text, CLOCK_MONOTONIC, same process);
 *  (2) throughput: the customer calls parley_conversation_send_text() back to back
 *      (the outbox window of the library limits what is in flight to the
 *      relay); the agent counts arrivals and the customer counts the
 *      delivery receipts that come back.
 * Prints a markdown table of the median, min and max over the runs. A
 * program, not a test: it asserts no timing.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h" /* the test-only passphrase cost */
#include "parley/parley.h"

#define BRAND_ID "acme"
#define AGENT_ID "alice"
#define MAX_MSGS 100000u
#define MAX_TEXT 4096u
#define MAX_RUNS 50
#define SETUP_TIMEOUT_MS 20000
#define DRAIN_TIMEOUT_MS 120000

enum mode { MODE_THREAD, MODE_LOOP };

struct opts {
    const char *relay;
    int runs;
    int warmup;
    int lat_msgs;
    int pause_ms;
    int tput_msgs;
    size_t text_size;
    int window;
    enum mode mode;
};

/* What one message went through; times in ns on CLOCK_MONOTONIC, 0: not yet. */
struct msg {
    uint64_t seq;
    int64_t send_start, send_end; /* around parley_conversation_send_text() */
    int64_t acked;                /* customer: PARLEY_EV_SENT (the relay stored it) */
    int64_t arrived;              /* agent: PARLEY_EV_MESSAGE */
    int64_t transit;              /* agent: arrived minus the send time carried in the text */
    int64_t receipt;              /* customer: PARLEY_EV_DELIVERED covering it */
};

/*
 * One client and the thread that drives it. Callbacks run on that thread
 * only; the counters are read by the other threads.
 */
struct side {
    const char *name;
    parley_client *c;
    enum mode mode;
    pthread_t thread;
    atomic_bool stop;
    atomic_int connected, directories, relay_errors, disconnected;
    atomic_int rejected;          /* PARLEY_EV_REJECTED: an envelope that did not open */
    atomic_int gaps, replays;     /* PARLEY_EV_GAP; PARLEY_EV_REPLAY or _REORDER */
    atomic_int messages;          /* agent: PARLEY_EV_MESSAGE from the benchmark */
    atomic_int sent_events;       /* PARLEY_EV_SENT */
    atomic_int delivered_events;  /* PARLEY_EV_DELIVERED */
    atomic_uint_fast64_t delivered_up_to;
    atomic_uint_fast64_t pumps;   /* loop turns */
};

struct run {
    struct opts o;
    char dir[256];
    pid_t relay_pid;
    int port;
    parley_identity *brand, *agent_id;
    uint8_t *keyfile, *cert, *directory;
    size_t keyfile_len, cert_len, directory_len;
    struct side customer, agent;
    uint8_t conv[16];
    /* The current phase's messages; index i carries "#i" in its text. */
    struct msg *msgs;
    atomic_int n_msgs;            /* messages in the phase (bounds the agent's index) */
    int n_sent;                   /* sent so far: customer thread only */
    int receipt_next;             /* first message without a receipt yet: customer thread */
    int wait_for;                 /* arrivals the customer waits for */
};

/* Figures of one run, by name; the table takes median, min and max over runs. */
enum fig {
    F_LAT_P50, F_LAT_P90, F_LAT_P99, F_LAT_MAX,
    F_SEND_P50, F_ACK_P50, F_RECEIPT_P50,
    F_LAT_CLIENT_CPU, F_LAT_RELAY_CPU,
    F_TPUT /* then T_COUNT figures per throughput variant */
};

/* Throughput figures, once per variant: application window, then unbounded burst. */
enum tfig {
    T_SENT_RATE, T_DELIV_RATE, T_RECEIPT_RATE,
    T_SEND_CALL_P50, T_LOAD_P50, T_LOAD_MAX, T_BACKLOG,
    T_LOST, T_REJECTED, T_GAPS,
    T_RECEIPTS_SENT, T_RECEIPTS_GOT,
    T_CLIENT_CPU, T_RELAY_CPU,
    T_AFTER,
    T_COUNT
};

#define F_COUNT (F_TPUT + 2 * T_COUNT)
#define TFIG(variant, t) (F_TPUT + (variant) * T_COUNT + (t))

static double figs[F_COUNT][MAX_RUNS];
static struct run *cur; /* the run the callbacks belong to */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* Stops the run's relay and removes its directory (kept with PARLEY_KEEP_BENCH_DIR). */
static void run_cleanup(struct run *r)
{
    if (r->relay_pid > 0) {
        kill(r->relay_pid, SIGTERM);
        waitpid(r->relay_pid, NULL, 0);
        r->relay_pid = 0;
    }
    if (r->dir[0] == '\0')
        return;
    if (getenv("PARLEY_KEEP_BENCH_DIR") == NULL)
        nftw(r->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    else
        fprintf(stderr, "bench-e2e: kept %s\n", r->dir);
    r->dir[0] = '\0';
}

static void die(const char *what)
{
    fprintf(stderr, "bench-e2e: %s\n", what);
    if (cur != NULL)
        run_cleanup(cur);
    exit(1);
}

static void check_ok(parley_err err, const char *what)
{
    if (err != PARLEY_OK) {
        fprintf(stderr, "bench-e2e: %s: %s\n", what, parley_strerror(err));
        die("giving up");
    }
}

/* ------------------------------------------------------------------ */
/* Events */

/* "#<index> <send ns> " at the start of every benchmark text. */
static bool parse_text(const char *text, long *index, int64_t *sent)
{
    char *end;

    if (text == NULL || text[0] != '#')
        return false;
    errno = 0;
    *index = strtol(text + 1, &end, 10);
    if (errno != 0 || *end != ' ')
        return false;
    *sent = (int64_t)strtoll(end + 1, &end, 10);
    return errno == 0 && *end == ' ';
}

/* The message with seq, or NULL; msgs are in seq order. */
static struct msg *find_seq(struct run *r, uint64_t seq)
{
    int lo = 0, hi = r->n_sent - 1;

    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (r->msgs[mid].seq == seq)
            return &r->msgs[mid];
        if (r->msgs[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static void on_event(void *user, const parley_event *ev)
{
    struct side *s = user;
    struct run *r = cur;
    int64_t now = mono_ns();

    switch (ev->kind) {
    case PARLEY_EV_CONNECTED:
        atomic_fetch_add(&s->connected, 1);
        break;
    case PARLEY_EV_DISCONNECTED:
        atomic_fetch_add(&s->disconnected, 1);
        break;
    case PARLEY_EV_DIRECTORY:
        atomic_fetch_add(&s->directories, 1);
        break;
    case PARLEY_EV_MESSAGE: {
        long i;
        int64_t sent;

        if (parse_text(ev->text, &i, &sent) && i >= 0 && i < atomic_load(&r->n_msgs)) {
            r->msgs[i].arrived = now;
            r->msgs[i].transit = now - sent;
            atomic_fetch_add(&s->messages, 1);
        }
        break;
    }
    case PARLEY_EV_SENT: {
        struct msg *m = s == &r->customer ? find_seq(r, ev->seq) : NULL;
        if (m != NULL && m->acked == 0)
            m->acked = now;
        atomic_fetch_add(&s->sent_events, 1);
        break;
    }
    case PARLEY_EV_DELIVERED: {
        /* Receipts are cumulative: one covers every message up to its seq. */
        if (s == &r->customer)
            for (; r->receipt_next < r->n_sent && r->msgs[r->receipt_next].seq <= ev->seq;
                 r->receipt_next++)
                r->msgs[r->receipt_next].receipt = now;
        if (ev->seq > atomic_load(&s->delivered_up_to))
            atomic_store(&s->delivered_up_to, ev->seq);
        atomic_fetch_add(&s->delivered_events, 1);
        break;
    }
    case PARLEY_EV_REJECTED:
        if (atomic_fetch_add(&s->rejected, 1) == 0)
            fprintf(stderr, "bench-e2e: %s: an envelope was rejected: %s\n", s->name,
                    parley_strerror(ev->error));
        break;
    case PARLEY_EV_GAP:
        atomic_fetch_add(&s->gaps, 1);
        break;
    case PARLEY_EV_REPLAY:
    case PARLEY_EV_REORDER:
        atomic_fetch_add(&s->replays, 1);
        break;
    case PARLEY_EV_RELAY_ERROR:
        atomic_fetch_add(&s->relay_errors, 1);
        fprintf(stderr, "bench-e2e: %s: relay error %d\n", s->name, ev->relay_code);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ */
/* Driving a client from its host thread */

/*
 * One turn of the host loop, waiting up to timeout_ms. MODE_LOOP: the
 * host services the network itself (run_once). MODE_THREAD: the library's
 * service thread does; the host waits on the event descriptor and
 * dispatches the callbacks.
 */
static void pump(struct side *s, int timeout_ms)
{
    atomic_fetch_add(&s->pumps, 1);
    if (s->mode == MODE_LOOP) {
        parley_client_run_once(s->c, timeout_ms);
    } else {
        struct pollfd p = {parley_client_event_fd(s->c), POLLIN, 0};
        if (poll(&p, 1, timeout_ms) > 0)
            parley_client_dispatch(s->c);
    }
}

/* Pumps s until pred holds or timeout_ms passes; returns pred's last value. */
static bool pump_until(struct side *s, bool (*pred)(struct run *), struct run *r, int timeout_ms)
{
    int64_t deadline = mono_ns() + (int64_t)timeout_ms * 1000000;

    while (!pred(r)) {
        if (mono_ns() > deadline)
            return false;
        pump(s, 5);
    }
    return true;
}

/* Pumps both clients from the calling thread (set-up only). */
static bool pump_both_until(struct run *r, bool (*pred)(struct run *), int timeout_ms)
{
    int64_t deadline = mono_ns() + (int64_t)timeout_ms * 1000000;

    while (!pred(r)) {
        if (mono_ns() > deadline)
            return false;
        pump(&r->agent, 2);
        if (r->customer.c != NULL)
            pump(&r->customer, 2);
    }
    return true;
}

static void pump_for(struct side *s, int ms)
{
    int64_t deadline = mono_ns() + (int64_t)ms * 1000000;
    int64_t left;

    while ((left = deadline - mono_ns()) > 0)
        pump(s, (int)((left + 999999) / 1000000));
}

static void *agent_main(void *arg)
{
    struct side *s = arg;

    while (!atomic_load(&s->stop))
        pump(s, 20);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Brand, relay and clients */

static uint8_t *issue_cert(const parley_identity *brand, const parley_identity *agent,
                           size_t *len)
{
    parley_cert_info ci;
    uint8_t *out;
    uint64_t now = (uint64_t)time(NULL);

    memset(&ci, 0, sizeof(ci));
    snprintf(ci.brand_id, sizeof(ci.brand_id), "%s", BRAND_ID);
    snprintf(ci.agent_id, sizeof(ci.agent_id), "%s", AGENT_ID);
    snprintf(ci.display_name, sizeof(ci.display_name), "Alice Martin");
    memcpy(ci.sign_pk, parley_identity_sign_pk(agent), 32);
    memcpy(ci.box_pk, parley_identity_box_pk(agent), 32);
    ci.serial = 100;
    ci.not_before = now - 3600;
    ci.not_after = now + 86400;
    check_ok(parley_cert_issue(brand, &ci, &out, len), "parley_cert_issue");
    return out;
}

static void brand_setup(struct run *r)
{
    static const char *const ids[] = {AGENT_ID};
    parley_queue_spec q = {"support", ids, 1};
    parley_directory_spec spec;
    const uint8_t *certs[1];
    size_t lens[1];
    char path[320], hex[65];
    FILE *f;

    snprintf(r->dir, sizeof(r->dir), "/tmp/parley-bench-e2e-XXXXXX");
    if (mkdtemp(r->dir) == NULL)
        die("mkdtemp failed");
    check_ok(parley_identity_generate(&r->brand), "brand identity");
    check_ok(parley_identity_generate(&r->agent_id), "agent identity");
    check_ok(parley_identity_export(r->agent_id, AGENT_ID, "agent pass", 10, PARLEY__KDF_TEST_ONLY,
                                    &r->keyfile, &r->keyfile_len),
             "agent key export");
    r->cert = issue_cert(r->brand, r->agent_id, &r->cert_len);
    certs[0] = r->cert;
    lens[0] = r->cert_len;
    memset(&spec, 0, sizeof(spec));
    spec.brand_id = BRAND_ID;
    spec.version = 1;
    spec.certs = certs;
    spec.cert_lens = lens;
    spec.n_certs = 1;
    spec.notice_text = "Acme keeps this conversation to answer you.";
    spec.notice_version = 1;
    spec.queues = &q;
    spec.n_queues = 1;
    spec.issued_at = (uint64_t)time(NULL);
    check_ok(parley_directory_build(r->brand, &spec, &r->directory, &r->directory_len),
             "parley_directory_build");
    snprintf(path, sizeof(path), "%s/brand.pub", r->dir);
    f = fopen(path, "w");
    if (f == NULL)
        die("cannot write the brand pin file");
    sodium_bin2hex(hex, sizeof(hex), parley_identity_sign_pk(r->brand), 32);
    fprintf(f, "parley-brand-v1 %s %s\n", BRAND_ID, hex);
    fclose(f);
}

static int read_port(const char *path)
{
    char text[32];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    long v;

    if (fd < 0)
        return -1;
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    text[n] = '\0';
    v = strtol(text, NULL, 10);
    return v > 0 && v < 65536 ? (int)v : -1;
}

static void relay_start(struct run *r)
{
    char port_file[320], db[320], log[320], brand[320];
    const char *argv[] = {r->o.relay, "--listen", "127.0.0.1", "--port", "0",
                          "--port-file", port_file, "--db", db, "--brand", brand,
                          "--log", log, "--rate", "1000000", "--burst", "1000000",
                          "--quota-count", "1000000", NULL};
    pid_t parent = getpid();
    int64_t deadline;

    snprintf(port_file, sizeof(port_file), "%s/port", r->dir);
    snprintf(db, sizeof(db), "%s/relay.db", r->dir);
    snprintf(log, sizeof(log), "%s/relay.log", r->dir);
    snprintf(brand, sizeof(brand), "%s/brand.pub", r->dir);
    fflush(NULL);
    r->relay_pid = fork();
    if (r->relay_pid < 0)
        die("fork failed");
    if (r->relay_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        execv(r->o.relay, (char *const *)argv);
        _exit(127);
    }
    deadline = mono_ns() + 15 * 1000000000LL;
    while (mono_ns() < deadline) {
        int status;
        r->port = read_port(port_file);
        if (r->port > 0)
            return;
        if (waitpid(r->relay_pid, &status, WNOHANG) == r->relay_pid)
            die("the relay exited at start (PARLEY_KEEP_BENCH_DIR=1 keeps its log)");
        usleep(10000);
    }
    die("the relay did not start");
}

/* The relay's user+system CPU time in ns, from /proc. */
static int64_t relay_cpu_ns(const struct run *r)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)r->relay_pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* After "pid (comm)": state is field 3; utime and stime are fields 14 and 15. */
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                            &ut, &st) != 2)
        return 0;
    return (int64_t)((ut + st) * (1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

/* This process's user+system CPU time in ns: both clients, all their threads. */
static int64_t self_cpu_ns(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static void client_new(struct run *r, struct side *s, const char *name, bool agent)
{
    parley_client_config cfg;
    uint8_t dir_key[32];
    char url[64], path[320];

    s->name = name;
    s->mode = r->o.mode;
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", r->port);
    snprintf(path, sizeof(path), "%s/%s.db", r->dir, name);
    memset(&cfg, 0, sizeof(cfg));
    cfg.relay_url = url;
    cfg.brand_pk = parley_identity_sign_pk(r->brand);
    cfg.brand_id = BRAND_ID;
    parley_directory_key(r->brand, dir_key);
    cfg.directory_key = dir_key;
    cfg.storage_path = path;
    cfg.passphrase = "store pass";
    cfg.passphrase_len = 10;
    cfg.kdf_cost = PARLEY__KDF_TEST_ONLY;
    if (agent) {
        cfg.agent_key = r->keyfile;
        cfg.agent_key_len = r->keyfile_len;
        cfg.key_passphrase = "agent pass";
        cfg.key_passphrase_len = 10;
        cfg.agent_cert = r->cert;
        cfg.agent_cert_len = r->cert_len;
        cfg.publish_directory = r->directory;
        cfg.publish_directory_len = r->directory_len;
    }
    cfg.on_event = on_event;
    cfg.user = s;
    check_ok(parley_client_new(&s->c, &cfg), "parley_client_new");
    if (s->mode == MODE_THREAD)
        check_ok(parley_client_start_thread(s->c), "parley_client_start_thread");
    check_ok(parley_client_connect(s->c), "parley_client_connect");
}

static bool agent_ready(struct run *r)
{
    return atomic_load(&r->agent.connected) > 0 && atomic_load(&r->agent.directories) > 0;
}

static bool customer_ready(struct run *r)
{
    return atomic_load(&r->customer.connected) > 0 && atomic_load(&r->customer.directories) > 0;
}

static bool state_is(struct side *s, const uint8_t conv[16], parley_conv_state want)
{
    parley_conv_state st;
    return parley_conversation_state(s->c, conv, &st) == PARLEY_OK && st == want;
}

static bool agent_queued(struct run *r)
{
    return state_is(&r->agent, r->conv, PARLEY_CONV_QUEUED);
}

static bool customer_active(struct run *r)
{
    return state_is(&r->customer, r->conv, PARLEY_CONV_ACTIVE) &&
           state_is(&r->agent, r->conv, PARLEY_CONV_ACTIVE);
}

static bool outboxes_empty(struct run *r)
{
    return parley_client_outbox_size(r->customer.c) == 0 &&
           parley_client_outbox_size(r->agent.c) == 0;
}

/* Relay, clients, consent, open, claim: an ACTIVE conversation. */
static void conversation_setup(struct run *r)
{
    brand_setup(r);
    relay_start(r);
    client_new(r, &r->agent, "agent", true);
    if (!pump_both_until(r, agent_ready, SETUP_TIMEOUT_MS))
        die("the agent did not connect");
    client_new(r, &r->customer, "customer", false);
    if (!pump_both_until(r, customer_ready, SETUP_TIMEOUT_MS))
        die("the customer did not connect");
    check_ok(parley_client_consent(r->customer.c, NULL, 0), "parley_client_consent");
    check_ok(parley_conversation_open(r->customer.c, "support", "Bonjour", r->conv),
             "parley_conversation_open");
    if (!pump_both_until(r, agent_queued, SETUP_TIMEOUT_MS))
        die("the conversation did not reach the agent");
    check_ok(parley_conversation_claim(r->agent.c, r->conv), "parley_conversation_claim");
    if (!pump_both_until(r, customer_active, SETUP_TIMEOUT_MS))
        die("the conversation did not become active");
    if (!pump_both_until(r, outboxes_empty, SETUP_TIMEOUT_MS))
        die("the outboxes did not drain");
}

static void conversation_teardown(struct run *r)
{
    parley_client_free(r->customer.c);
    parley_client_free(r->agent.c);
    run_cleanup(r);
    parley_identity_free(r->brand);
    parley_identity_free(r->agent_id);
    parley_free(r->keyfile, r->keyfile_len);
    parley_free(r->cert, r->cert_len);
    parley_free(r->directory, r->directory_len);
}

/* ------------------------------------------------------------------ */
/* Workloads, on the customer's host thread */

static bool arrived(struct run *r)
{
    return atomic_load(&r->agent.messages) >= r->wait_for;
}

static bool receipted(struct run *r)
{
    return arrived(r) && r->receipt_next == r->n_sent && outboxes_empty(r);
}

/* Starts a phase of n messages once nothing of the previous one is in flight. */
static void phase_begin(struct run *r, int n)
{
    r->wait_for = r->n_sent;
    if (!pump_until(&r->customer, receipted, r, DRAIN_TIMEOUT_MS))
        die("the previous phase did not drain");
    atomic_store(&r->n_msgs, 0);
    memset(r->msgs, 0, sizeof(r->msgs[0]) * (size_t)n);
    r->n_sent = 0;
    r->receipt_next = 0;
    r->wait_for = 0;
    atomic_store(&r->agent.messages, 0);
    atomic_store(&r->n_msgs, n);
}

/* Sends message i of the phase, timing the call. */
static void send_one(struct run *r, int i)
{
    char text[MAX_TEXT + 1];
    struct msg *m = &r->msgs[i];
    uint64_t seq = 0;
    int len;
    parley_err err;

    m->send_start = mono_ns();
    len = snprintf(text, sizeof(text), "#%d %" PRId64 " ", i, m->send_start);
    while ((size_t)len < r->o.text_size)
        text[len++] = 'x';
    text[len] = '\0';
    err = parley_conversation_send_text(r->customer.c, r->conv, text, &seq);
    m->send_end = mono_ns();
    check_ok(err, "parley_conversation_send_text");
    m->seq = seq;
    r->n_sent = i + 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values, in microseconds. */
static double pct_us(const int64_t *v, int n, double p)
{
    int k;

    if (n == 0)
        return 0;
    k = (int)(p / 100.0 * n + 0.999999) - 1;
    if (k < 0)
        k = 0;
    if (k >= n)
        k = n - 1;
    return (double)v[k] / 1000.0;
}

/*
 * Sorted durations (stamp at `to` minus stamp at `from`, offsets into
 * struct msg) over messages [first, first + n) where both are set.
 */
static int durations(const struct run *r, int first, int n, size_t to, size_t from, int64_t *out)
{
    int k = 0;

    for (int i = first; i < first + n; i++) {
        int64_t t, f;
        memcpy(&t, (const char *)&r->msgs[i] + to, sizeof(t));
        memcpy(&f, (const char *)&r->msgs[i] + from, sizeof(f));
        if (t != 0 && f != 0)
            out[k++] = t - f;
    }
    qsort(out, (size_t)k, sizeof(out[0]), cmp_i64);
    return k;
}

#define STAMP(field) offsetof(struct msg, field)

/* (1) One message at a time, a pause between: the latency a person chatting sees. */
static void latency_phase(struct run *r, int run, int64_t *d)
{
    int w = r->o.warmup, n = r->o.lat_msgs, k;
    int64_t cpu0 = 0, relay0 = 0, cpu1, relay1;

    phase_begin(r, w + n);
    for (int i = 0; i < w + n; i++) {
        if (i == w) {
            cpu0 = self_cpu_ns();
            relay0 = relay_cpu_ns(r);
        }
        send_one(r, i);
        r->wait_for = i + 1;
        if (!pump_until(&r->customer, arrived, r, DRAIN_TIMEOUT_MS))
            die("a message did not arrive");
        pump_for(&r->customer, r->o.pause_ms);
    }
    r->wait_for = w + n;
    if (!pump_until(&r->customer, receipted, r, DRAIN_TIMEOUT_MS))
        die("receipts did not come back");
    cpu1 = self_cpu_ns();
    relay1 = relay_cpu_ns(r);
    k = 0;
    for (int i = w; i < w + n; i++)
        d[k++] = r->msgs[i].transit;
    qsort(d, (size_t)k, sizeof(d[0]), cmp_i64);
    figs[F_LAT_P50][run] = pct_us(d, k, 50);
    figs[F_LAT_P90][run] = pct_us(d, k, 90);
    figs[F_LAT_P99][run] = pct_us(d, k, 99);
    figs[F_LAT_MAX][run] = pct_us(d, k, 100);
    k = durations(r, w, n, STAMP(send_end), STAMP(send_start), d);
    figs[F_SEND_P50][run] = pct_us(d, k, 50);
    k = durations(r, w, n, STAMP(acked), STAMP(send_start), d);
    figs[F_ACK_P50][run] = pct_us(d, k, 50);
    k = durations(r, w, n, STAMP(receipt), STAMP(send_start), d);
    figs[F_RECEIPT_P50][run] = pct_us(d, k, 50);
    figs[F_LAT_CLIENT_CPU][run] = (double)(cpu1 - cpu0) / n / 1000.0;
    figs[F_LAT_RELAY_CPU][run] = (double)(relay1 - relay0) / n / 1000.0;
}

static int troubles(const struct run *r)
{
    return atomic_load(&r->customer.rejected) + atomic_load(&r->agent.rejected) +
           atomic_load(&r->customer.gaps) + atomic_load(&r->agent.gaps) +
           atomic_load(&r->customer.replays) + atomic_load(&r->agent.replays);
}

/*
 * Pumps the customer until every message arrived and was receipted, or
 * until nothing moved for a few seconds with both outboxes empty (some
 * messages were lost). True when complete.
 */
static bool drain(struct run *r)
{
    int64_t deadline = mono_ns() + (int64_t)DRAIN_TIMEOUT_MS * 1000000, moved = mono_ns();
    int last = -1;

    r->wait_for = r->n_sent;
    while (!receipted(r)) {
        int now_state = atomic_load(&r->agent.messages) + r->receipt_next + troubles(r);
        int64_t now = mono_ns();

        if (now_state != last) {
            last = now_state;
            moved = now;
        } else if (now - moved > 3000000000LL && outboxes_empty(r)) {
            return false;
        }
        if (now > deadline)
            return false;
        pump(&r->customer, 5);
    }
    return true;
}

/*
 * (2) Back to back: what one customer's client sustains. window 0: every
 * call as soon as the previous one returns (the library's outbox window
 * limits what is in flight to the relay); window W: the application also
 * waits, pumping, while W messages are without a delivery receipt.
 */
static void throughput_phase(struct run *r, int run, int variant, int window, int64_t *d)
{
    int n = r->o.tput_msgs, k, receipts0, agent_sent0, troubles0, gaps0;
    int64_t t0, t_sent, t_arrived = 0, t_receipt = 0, cpu0, relay0, cpu1, relay1;

    phase_begin(r, n);
    receipts0 = atomic_load(&r->customer.delivered_events);
    agent_sent0 = atomic_load(&r->agent.sent_events);
    troubles0 = atomic_load(&r->customer.rejected) + atomic_load(&r->agent.rejected);
    gaps0 = atomic_load(&r->customer.gaps) + atomic_load(&r->agent.gaps);
    cpu0 = self_cpu_ns();
    relay0 = relay_cpu_ns(r);
    t0 = mono_ns();
    for (int i = 0; i < n; i++) {
        if (window > 0)
            while (r->n_sent - r->receipt_next >= window)
                pump(&r->customer, 5);
        send_one(r, i);
        /* The host loop itself is the network in MODE_LOOP: let it move between calls. */
        if (r->customer.mode == MODE_LOOP)
            parley_client_run_once(r->customer.c, 0);
    }
    t_sent = mono_ns();
    figs[TFIG(variant, T_BACKLOG)][run] = (double)parley_client_outbox_size(r->customer.c);
    if (!drain(r))
        fprintf(stderr, "bench-e2e: run %d: %d of %d messages arrived, %d receipted\n", run + 1,
                atomic_load(&r->agent.messages), n, r->receipt_next);
    cpu1 = self_cpu_ns();
    relay1 = relay_cpu_ns(r);
    for (int i = 0; i < n; i++) {
        if (r->msgs[i].arrived > t_arrived)
            t_arrived = r->msgs[i].arrived;
        if (r->msgs[i].receipt > t_receipt)
            t_receipt = r->msgs[i].receipt;
    }
    k = atomic_load(&r->agent.messages);
    figs[TFIG(variant, T_SENT_RATE)][run] = n / ((double)(t_sent - t0) / 1e9);
    figs[TFIG(variant, T_DELIV_RATE)][run] = t_arrived > t0 ? k / ((double)(t_arrived - t0) / 1e9) : 0;
    figs[TFIG(variant, T_RECEIPT_RATE)][run] =
        t_receipt > t0 ? r->receipt_next / ((double)(t_receipt - t0) / 1e9) : 0;
    figs[TFIG(variant, T_LOST)][run] = n - k;
    figs[TFIG(variant, T_REJECTED)][run] =
        atomic_load(&r->customer.rejected) + atomic_load(&r->agent.rejected) - troubles0;
    figs[TFIG(variant, T_GAPS)][run] =
        atomic_load(&r->customer.gaps) + atomic_load(&r->agent.gaps) - gaps0;
    k = durations(r, 0, n, STAMP(send_end), STAMP(send_start), d);
    figs[TFIG(variant, T_SEND_CALL_P50)][run] = pct_us(d, k, 50);
    k = 0;
    for (int i = 0; i < n; i++)
        if (r->msgs[i].arrived != 0)
            d[k++] = r->msgs[i].transit;
    qsort(d, (size_t)k, sizeof(d[0]), cmp_i64);
    figs[TFIG(variant, T_LOAD_P50)][run] = pct_us(d, k, 50) / 1000.0;
    figs[TFIG(variant, T_LOAD_MAX)][run] = pct_us(d, k, 100) / 1000.0;
    figs[TFIG(variant, T_RECEIPTS_SENT)][run] = atomic_load(&r->agent.sent_events) - agent_sent0;
    figs[TFIG(variant, T_RECEIPTS_GOT)][run] = atomic_load(&r->customer.delivered_events) - receipts0;
    figs[TFIG(variant, T_CLIENT_CPU)][run] = (double)(cpu1 - cpu0) / n / 1000.0;
    figs[TFIG(variant, T_RELAY_CPU)][run] = (double)(relay1 - relay0) / n / 1000.0;

    /* Is the conversation still usable? One more text, a few seconds to arrive. */
    k = atomic_load(&r->agent.messages);
    atomic_store(&r->n_msgs, n + 1);
    send_one(r, n);
    r->wait_for = k + 1;
    figs[TFIG(variant, T_AFTER)][run] = pump_until(&r->customer, arrived, r, 5000) ? 1 : 0;
}

static void one_run(const struct opts *o, int run, struct msg *msgs, int64_t *d)
{
    static struct run r;

    memset(&r, 0, sizeof(r));
    r.o = *o;
    r.msgs = msgs;
    cur = &r;
    conversation_setup(&r);
    /* The customer's host thread is this one; the agent gets its own. */
    if (pthread_create(&r.agent.thread, NULL, agent_main, &r.agent) != 0)
        die("cannot start the agent thread");
    latency_phase(&r, run, d);
    if (troubles(&r) > 0)
        die("the latency phase saw rejected, missing or replayed envelopes");
    /* The windowed variant first: the burst may leave the conversation with lost messages. */
    throughput_phase(&r, run, 0, o->window, d);
    throughput_phase(&r, run, 1, 0, d);
    atomic_store(&r.agent.stop, true);
    pthread_join(r.agent.thread, NULL);
    if (atomic_load(&r.customer.relay_errors) + atomic_load(&r.agent.relay_errors) > 0 ||
        atomic_load(&r.customer.disconnected) + atomic_load(&r.agent.disconnected) > 0)
        die("a run saw relay errors or disconnections");
    fprintf(stderr,
            "run %d: latency p50 %.0f us p99 %.0f us; window %d: delivered %.0f/s; "
            "burst: sent %.0f/s, delivered %.0f/s, lost %.0f\n",
            run + 1, figs[F_LAT_P50][run], figs[F_LAT_P99][run], o->window,
            figs[TFIG(0, T_DELIV_RATE)][run], figs[TFIG(1, T_SENT_RATE)][run],
            figs[TFIG(1, T_DELIV_RATE)][run], figs[TFIG(1, T_LOST)][run]);
    conversation_teardown(&r);
    cur = NULL;
}

/* ------------------------------------------------------------------ */
/* Report */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fmt(char *out, size_t cap, double v, int decimals)
{
    snprintf(out, cap, "%.*f", decimals, v);
}

static void row(int runs, const char *workload, const char *figure, int f, int decimals)
{
    double v[MAX_RUNS], med;
    char a[32], b[32], c[32];

    memcpy(v, figs[f], sizeof(double) * (size_t)runs);
    qsort(v, (size_t)runs, sizeof(double), cmp_double);
    med = runs % 2 ? v[runs / 2] : (v[runs / 2 - 1] + v[runs / 2]) / 2;
    fmt(a, sizeof(a), med, decimals);
    fmt(b, sizeof(b), v[0], decimals);
    fmt(c, sizeof(c), v[runs - 1], decimals);
    printf("| %s | %s | %s | %s–%s |\n", workload, figure, a, b, c);
}

static void report(const struct opts *o)
{
    int n = o->runs;

    printf("%d run(s); each: fresh relay and clients, %s mode; latency: %d messages after "
           "%d of warm-up, %d ms apart; throughput: %d messages back to back, with an "
           "application window of %d then without; texts of %zu bytes\n\n",
           n, o->mode == MODE_THREAD ? "service-thread" : "run_once", o->lat_msgs, o->warmup,
           o->pause_ms, o->tput_msgs, o->window, o->text_size);
    printf("| workload | figure | median | min–max |\n");
    printf("|---|---|---:|---:|\n");
    row(n, "(1) latency", "send → agent callback, p50 µs", F_LAT_P50, 0);
    row(n, "(1) latency", "send → agent callback, p90 µs", F_LAT_P90, 0);
    row(n, "(1) latency", "send → agent callback, p99 µs", F_LAT_P99, 0);
    row(n, "(1) latency", "send → agent callback, max µs", F_LAT_MAX, 0);
    row(n, "(1) latency", "parley_conversation_send_text() call, p50 µs", F_SEND_P50, 0);
    row(n, "(1) latency", "send → relay ack (PARLEY_EV_SENT), p50 µs", F_ACK_P50, 0);
    row(n, "(1) latency", "send → delivery receipt back (PARLEY_EV_DELIVERED), p50 µs",
        F_RECEIPT_P50, 0);
    row(n, "(1) latency", "client CPU per message (both clients), µs", F_LAT_CLIENT_CPU, 0);
    row(n, "(1) latency", "relay CPU per message, µs", F_LAT_RELAY_CPU, 0);
    for (int v = 0; v < 2; v++) {
        char w[64];

        if (v == 0)
            snprintf(w, sizeof(w), "(2a) throughput, window %d", o->window);
        else
            snprintf(w, sizeof(w), "(2b) throughput, burst");
        row(n, w, "sent/s (parley_conversation_send_text() calls)", TFIG(v, T_SENT_RATE), 0);
        row(n, w, "delivered/s (agent callbacks)", TFIG(v, T_DELIV_RATE), 0);
        row(n, w, "receipted/s (receipt back at the customer)", TFIG(v, T_RECEIPT_RATE), 0);
        row(n, w, "messages lost (never reached the agent)", TFIG(v, T_LOST), 0);
        row(n, w, "envelopes rejected (PARLEY_EV_REJECTED, both sides)", TFIG(v, T_REJECTED), 0);
        row(n, w, "gaps reported (PARLEY_EV_GAP, both sides)", TFIG(v, T_GAPS), 0);
        row(n, w, "parley_conversation_send_text() call, p50 µs", TFIG(v, T_SEND_CALL_P50), 0);
        row(n, w, "send → agent callback, p50 ms", TFIG(v, T_LOAD_P50), 1);
        row(n, w, "send → agent callback, max ms", TFIG(v, T_LOAD_MAX), 1);
        row(n, w, "customer outbox backlog when the sends end", TFIG(v, T_BACKLOG), 0);
        row(n, w, "receipt envelopes the agent sent", TFIG(v, T_RECEIPTS_SENT), 0);
        row(n, w, "receipts the customer got (PARLEY_EV_DELIVERED)", TFIG(v, T_RECEIPTS_GOT),
            0);
        row(n, w, "a text sent afterwards arrived (1 yes, 0 no)", TFIG(v, T_AFTER), 0);
        row(n, w, "client CPU per message (both clients), µs", TFIG(v, T_CLIENT_CPU), 0);
        row(n, w, "relay CPU per message, µs", TFIG(v, T_RELAY_CPU), 0);
    }
}

/* ------------------------------------------------------------------ */

static int parse_int(const char *s, int lo, int hi, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "bench-e2e: %s must be %d..%d\n", what, lo, hi);
        exit(2);
    }
    return (int)v;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench-e2e --relay PATH [--runs N] [--warmup N] [--latency-msgs N]\n"
            "                 [--pause-ms N] [--throughput-msgs N] [--size BYTES]\n"
            "                 [--window N] [--mode thread|loop]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct opts o = {NULL, 5, 50, 500, 20, 2000, 100, 16, MODE_THREAD};
    struct msg *msgs;
    int64_t *d;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL)
            usage();
        if (strcmp(a, "--relay") == 0)
            o.relay = v;
        else if (strcmp(a, "--runs") == 0)
            o.runs = parse_int(v, 1, MAX_RUNS, "--runs");
        else if (strcmp(a, "--warmup") == 0)
            o.warmup = parse_int(v, 0, 10000, "--warmup");
        else if (strcmp(a, "--latency-msgs") == 0)
            o.lat_msgs = parse_int(v, 1, 50000, "--latency-msgs");
        else if (strcmp(a, "--pause-ms") == 0)
            o.pause_ms = parse_int(v, 0, 10000, "--pause-ms");
        else if (strcmp(a, "--throughput-msgs") == 0)
            o.tput_msgs = parse_int(v, 1, (int)MAX_MSGS, "--throughput-msgs");
        else if (strcmp(a, "--size") == 0)
            o.text_size = (size_t)parse_int(v, 32, (int)MAX_TEXT, "--size");
        else if (strcmp(a, "--window") == 0)
            o.window = parse_int(v, 1, 10000, "--window");
        else if (strcmp(a, "--mode") == 0 && strcmp(v, "thread") == 0)
            o.mode = MODE_THREAD;
        else if (strcmp(a, "--mode") == 0 && strcmp(v, "loop") == 0)
            o.mode = MODE_LOOP;
        else
            usage();
        i++;
    }
    if (o.relay == NULL)
        usage();
    if (o.warmup + o.lat_msgs > (int)MAX_MSGS)
        die("--warmup plus --latency-msgs is too many");
    check_ok(parley_init(), "parley_init");
    parley__kdf_allow_test_cost(); /* the benchmark's stores and key file protect nothing */
    msgs = calloc(MAX_MSGS + 1, sizeof(*msgs));
    d = calloc(MAX_MSGS, sizeof(*d));
    if (msgs == NULL || d == NULL)
        die("out of memory");
    for (int run = 0; run < o.runs; run++)
        one_run(&o, run, msgs, d);
    report(&o);
    free(msgs);
    free(d);
    return 0;
}
