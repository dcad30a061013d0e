/*
 * The relay under abuse, measured against a real parley-relay on loopback.
 *
 *   erasure      A database of --envelopes envelopes; --customers customers
 *                each ask, at the same moment, to erase --ids conversations.
 *                Meanwhile a bystander sends an envelope every 1/--rate s
 *                (open loop) and times each acknowledgement: how long the
 *                erasures stall everyone else's commits. The erasures are
 *                given --limit-s seconds (default 1200); past that the
 *                figures printed are lower bounds (">=").
 *   slow-reader  A reader whose queue is full (--backlog envelopes of --size
 *                bytes) connects over a link of --bps bytes per second with
 *                --rtt-ms of delay before each acknowledgement reaches the
 *                relay, while a sender keeps trying to add to its queue.
 *                After --seconds: how many envelopes the relay delivered and
 *                deleted, how often it cut the reader off, how many sends it
 *                refused.
 *
 * Usage: bench-limits erasure|slow-reader --relay BIN [options] [-- RELAY-ARGS...]
 * The relay runs with its defaults except for RELAY-ARGS and, for the
 * erasure database, limits raised so that populating it is not refused.
 * Prints one line of figures; bench/limits/run.sh writes them up.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "relayproc.h"
#include "wsc.h"

#define MAX_RELAY_ARGS 48

struct opts {
    const char *mode, *relay;
    const char *relay_args[MAX_RELAY_ARGS];
    size_t n_relay_args;
    long envelopes, ids, customers, size, rate, backlog, bps, rtt_ms, seconds, limit_s;
};

static void die(const char *what)
{
    fprintf(stderr, "bench-limits: %s\n", what);
    relay_kill_all(true);
    exit(1);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile of n sorted values. */
static double quantile(const int64_t *v, size_t n, double q)
{
    size_t i;

    if (n == 0)
        return 0;
    i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i < n ? i : n - 1];
}

static void start_relay(struct relay_proc *rp, char *dir, size_t cap, const struct opts *o,
                        const char *const *fixed)
{
    const char *args[MAX_RELAY_ARGS * 2 + 1];
    size_t n = 0;

    for (size_t i = 0; fixed != NULL && fixed[i] != NULL; i++)
        args[n++] = fixed[i];
    for (size_t i = 0; i < o->n_relay_args; i++)
        args[n++] = o->relay_args[i];
    args[n] = NULL;
    tmpdir_make(dir, cap, "bench-limits");
    if (relay_start(rp, o->relay, dir, args) != 0)
        die("the relay did not start");
}

static wsc *connect_as(const struct relay_proc *rp, const parley_identity *id)
{
    wsc *c = pc_connect(rp->port, id, NULL, 0);

    if (c == NULL)
        die("cannot connect");
    return c;
}

static parley_identity *identity(void)
{
    parley_identity *id = NULL;

    if (parley_identity_generate(&id) != PARLEY_OK)
        die("cannot make an identity");
    return id;
}

/* ------------------------------------------------------------------ */
/* Sending many envelopes, pipelined */

struct env_spec {
    uint8_t conv[16];
    uint8_t to[32];
};

/* Sends n envelopes of size bytes on c, at most window unacknowledged; returns how many were
 * refused. */
static long send_all(wsc *c, const struct env_spec *specs, size_t n, long size, size_t window)
{
    uint8_t *sealed = malloc((size_t)size), *buf = NULL;
    size_t sent = 0, answered = 0, len = 0;
    long refused = 0;

    if (sealed == NULL)
        die("out of memory");
    randombytes_buf(sealed, (size_t)size);
    while (answered < n) {
        while (sent < n && sent - answered < window) {
            uint8_t eid[16], *m = NULL;
            size_t mlen = 0;
            randombytes_buf(eid, sizeof(eid));
            if (pc_pack_envelope(eid, specs[sent].conv, specs[sent].to, sealed, (size_t)size, &m,
                                 &mlen) != 0 ||
                wsc_frame_append(&buf, &len, m, mlen) != 0)
                die("out of memory");
            free(m);
            sent++;
        }
        if (len > 0 && wsc_send_raw(c, buf, len) != 0)
            die("send failed");
        len = 0;
        for (bool first = true;; first = false) {
            Parley__Frame *f = pc_recv(c, first ? 10000 : 0);
            if (f == NULL) {
                if (wsc_last_result(c) != WSC_TIMEOUT || first)
                    die("connection lost while sending");
                break;
            }
            if (f->kind_case == PARLEY__FRAME__KIND_ACK)
                answered++;
            else if (f->kind_case == PARLEY__FRAME__KIND_ERROR && f->error->envelope_id.len == 16) {
                answered++;
                refused++;
            }
            parley__frame__free_unpacked(f, NULL);
            if (answered == sent)
                break;
        }
    }
    free(buf);
    free(sealed);
    return refused;
}

/* ------------------------------------------------------------------ */
/* Erasure flood */

struct bystander {
    wsc *c;
    uint8_t to[32], conv[16];
    uint8_t *sealed;
    int64_t *sent_us;    /* by envelope number */
    int64_t *latency_us; /* by envelope number, -1 until acknowledged */
    size_t n, cap;
};

static void bystander_send(struct bystander *b)
{
    uint8_t eid[16] = {0};
    uint32_t k = (uint32_t)b->n;

    if (b->n == b->cap)
        die("bystander: too many envelopes");
    memcpy(eid, &k, sizeof(k));
    randombytes_buf(eid + 4, 12);
    b->sent_us[b->n] = now_us();
    b->latency_us[b->n] = -1;
    b->n++;
    if (pc_send_envelope(b->c, eid, b->conv, b->to, b->sealed, 1024) != 0)
        die("bystander cannot send");
}

static void bystander_read(struct bystander *b)
{
    Parley__Frame *f;

    while ((f = pc_recv(b->c, 0)) != NULL) {
        if (f->kind_case == PARLEY__FRAME__KIND_ACK && f->ack->envelope_id.len == 16) {
            uint32_t k;
            memcpy(&k, f->ack->envelope_id.data, sizeof(k));
            if (k < b->n)
                b->latency_us[k] = now_us() - b->sent_us[k];
        } else if (f->kind_case == PARLEY__FRAME__KIND_ERROR) {
            die("the bystander's envelope was refused");
        }
        parley__frame__free_unpacked(f, NULL);
    }
    if (wsc_last_result(b->c) != WSC_TIMEOUT)
        die("the bystander lost its connection");
}

/*
 * Latencies (us) of the envelopes sent in [from, to), sorted into out;
 * returns the count. One still unacknowledged counts as its age at now,
 * a lower bound.
 */
static size_t window_latencies(const struct bystander *b, int64_t from, int64_t to, int64_t now,
                               int64_t *out)
{
    size_t n = 0;

    for (size_t i = 0; i < b->n; i++)
        if (b->sent_us[i] >= from && b->sent_us[i] < to)
            out[n++] = b->latency_us[i] < 0 ? now - b->sent_us[i] : b->latency_us[i];
    qsort(out, n, sizeof(*out), cmp_i64);
    return n;
}

static void run_erasure(const struct opts *o)
{
    /*
     * A request naming 4,096 conversations is larger than the default
     * max-frame. The senders that fill the database and the bystander are
     * not to be slowed by the relay's storage limits, only by the erasures.
     */
    static const char *const fixed[] = {"--max-frame",
                                        "262144",
                                        "--rate",
                                        "1000000",
                                        "--burst",
                                        "1000000",
                                        "--quota-count",
                                        "1000000",
                                        "--quota-bytes",
                                        "100000000000",
                                        "--sender-count",
                                        "0",
                                        "--sender-bytes",
                                        "0",
                                        NULL};
    enum { FILLERS = 50, PER_CONV = 2, OWN = 100 };
    struct relay_proc rp;
    char dir[256];
    size_t nc = (size_t)o->customers, nid = (size_t)o->ids, total = (size_t)o->envelopes;
    parley_identity **cust = calloc(nc, sizeof(*cust)), *filler_id;
    uint8_t(*convs)[16] = calloc(nc * nid, 16), (*salts)[16] = calloc(nc * nid, 16);
    struct env_spec *specs = calloc(total, sizeof(*specs));
    size_t n = 0, with_envelopes = nid / 4;
    long refused = 0;
    wsc **ec = calloc(nc, sizeof(*ec));
    int64_t *done_us = calloc(nc, sizeof(*done_us)), t_flood, t_end;
    uint32_t *erased = calloc(nc, sizeof(*erased));
    struct bystander b;
    bool unfinished;

    if (cust == NULL || convs == NULL || salts == NULL || specs == NULL || ec == NULL ||
        done_us == NULL || erased == NULL)
        die("out of memory");
    start_relay(&rp, dir, sizeof(dir), o, fixed);
    /* What the erasures will delete: a quarter of each customer's conversations have envelopes
     * from others (agents' messages and handovers), plus envelopes to and from the customer. */
    for (size_t k = 0; k < nc; k++) {
        uint8_t me[32];
        cust[k] = identity();
        parley_routing_id(parley_identity_sign_pk(cust[k]), PARLEY_ROUTING_CUSTOMER, me);
        /* Conversation ids bound to the customer's key, as the library makes them. */
        randombytes_buf(salts[k * nid], 16 * nid);
        for (size_t j = 0; j < nid; j++)
            parley_conversation_id(parley_identity_sign_pk(cust[k]), salts[k * nid + j],
                                   convs[k * nid + j]);
        for (size_t j = 0; j < with_envelopes; j++)
            for (int r = 0; r < PER_CONV && n < total; r++, n++) {
                memcpy(specs[n].conv, convs[k * nid + j], 16);
                randombytes_buf(specs[n].to, 32);
            }
        for (int j = 0; j < OWN && n < total; j++, n++) {
            randombytes_buf(specs[n].conv, 16);
            memcpy(specs[n].to, me, 32);
        }
    }
    total -= nc * OWN; /* sent by the customers themselves, below */
    for (; n < total; n++) {
        randombytes_buf(specs[n].conv, 16);
        randombytes_buf(specs[n].to, 32); /* bystanders' queues, untouched by the erasures */
    }
    /* Shuffle, so that erased rows are spread through the table as in life. */
    for (size_t i = total - 1; i > 0; i--) {
        size_t j = randombytes_uniform((uint32_t)(i + 1));
        struct env_spec t = specs[i];
        specs[i] = specs[j];
        specs[j] = t;
    }
    fprintf(stderr, "populating %zu envelopes...\n", total);
    for (size_t f = 0; f < FILLERS; f++) {
        size_t from = total * f / FILLERS, to = total * (f + 1) / FILLERS;
        wsc *c;
        filler_id = identity();
        c = connect_as(&rp, filler_id);
        refused += send_all(c, specs + from, to - from, o->size, 256);
        wsc_free(c);
        parley_identity_free(filler_id);
    }
    for (size_t k = 0; k < nc; k++) {
        /* Each customer also sent some itself. */
        struct env_spec own[OWN];
        for (int j = 0; j < OWN; j++) {
            randombytes_buf(own[j].conv, 16);
            randombytes_buf(own[j].to, 32);
        }
        ec[k] = connect_as(&rp, cust[k]);
        refused += send_all(ec[k], own, OWN, o->size, 256);
    }
    if (refused > 0)
        die("the relay refused envelopes while populating (raise its limits with -- ARGS)");

    memset(&b, 0, sizeof(b));
    {
        parley_identity *bid = identity();
        b.c = connect_as(&rp, bid);
        parley_identity_free(bid);
    }
    randombytes_buf(b.to, 32);
    randombytes_buf(b.conv, 16);
    b.cap = 1u << 20;
    b.sealed = calloc(1, 1024);
    b.sent_us = calloc(b.cap, sizeof(int64_t));
    b.latency_us = calloc(b.cap, sizeof(int64_t));
    if (b.sealed == NULL || b.sent_us == NULL || b.latency_us == NULL)
        die("out of memory");

    fprintf(stderr, "bystander alone for 2 s, then %zu erasures of %zu ids...\n", nc, nid);
    {
        int64_t period = 1000000 / o->rate, next = now_us(), t0 = next;
        size_t pending = nc;
        bool flooding = false;
        unfinished = false;
        struct pollfd *pfd = calloc(nc + 1, sizeof(*pfd));

        if (pfd == NULL)
            die("out of memory");
        t_flood = t0 + 2000000;
        t_end = INT64_MAX;
        for (int64_t next_ping = t0;;) {
            int64_t now = now_us();
            int timeout;

            /* The waiting customers say something now and then, as clients do, or idle out. */
            if (now >= next_ping) {
                for (size_t k = 0; k < nc; k++)
                    if (wsc_send_frame(ec[k], WSC_FIN | WSC_OP_PING, true, 0, NULL, 0) != 0)
                        die("an erasing customer lost its connection");
                next_ping = now + 10000000;
            }
            if (!flooding && now >= t_flood) {
                for (size_t k = 0; k < nc; k++)
                    if (pc_send_erase(ec[k], cust[k], (const uint8_t(*)[16])convs[k * nid],
                                      (const uint8_t(*)[16])salts[k * nid], nid) != 0)
                        die("cannot send the erasure request");
                flooding = true;
                t_flood = now_us();
            }
            if (now >= next) {
                bystander_send(&b);
                next += period;
            }
            if (now >= t_end)
                break;
            timeout = (int)((next - now_us()) / 1000);
            pfd[0] = (struct pollfd){wsc_fd(b.c), POLLIN, 0};
            for (size_t k = 0; k < nc; k++)
                pfd[k + 1] = (struct pollfd){wsc_fd(ec[k]), POLLIN, 0};
            poll(pfd, nc + 1, timeout > 0 ? timeout : 0);
            bystander_read(&b);
            for (size_t k = 0; k < nc; k++) {
                Parley__Frame *f;
                while ((f = pc_recv(ec[k], 0)) != NULL) {
                    if (f->kind_case == PARLEY__FRAME__KIND_ERASED && done_us[k] == 0) {
                        done_us[k] = now_us() - t_flood;
                        erased[k] = f->erased->envelopes;
                        pending--;
                    } else if (f->kind_case == PARLEY__FRAME__KIND_ERROR && done_us[k] == 0) {
                        die("an erasure request was refused");
                    }
                    parley__frame__free_unpacked(f, NULL);
                }
                if (wsc_last_result(ec[k]) != WSC_TIMEOUT)
                    die("an erasing customer lost its connection");
            }
            if (flooding && pending == 0 && t_end == INT64_MAX)
                t_end = now_us() + 1000000; /* a second more, to see the tail settle */
            if (now_us() - t_flood > o->limit_s * 1000000) {
                unfinished = true; /* figures below are lower bounds */
                break;
            }
        }
        /* Everything sent before the end must be acknowledged. */
        if (!unfinished) {
            int64_t deadline = now_us() + 60000000;
            size_t missing;
            do {
                missing = 0;
                for (size_t i = 0; i < b.n; i++)
                    missing += b.latency_us[i] < 0;
                if (missing > 0)
                    bystander_read(&b);
            } while (missing > 0 && now_us() < deadline);
            if (missing > 0)
                die("bystander envelopes never acknowledged");
        }
        free(pfd);
    }
    {
        int64_t *lat = calloc(b.n, sizeof(*lat)), last = 0;
        uint64_t total_erased = 0;
        size_t before, during;
        double b50, b99, d50, d99, dmax;

        if (lat == NULL)
            die("out of memory");
        int64_t now = now_us();
        before = window_latencies(&b, 0, t_flood, now, lat);
        b50 = quantile(lat, before, 0.5) / 1000.0;
        b99 = quantile(lat, before, 0.99) / 1000.0;
        for (size_t k = 0; k < nc; k++) {
            total_erased += erased[k];
            if (done_us[k] > last)
                last = done_us[k];
        }
        if (unfinished)
            last = now - t_flood;
        during = window_latencies(&b, t_flood, t_flood + last, now, lat);
        d50 = quantile(lat, during, 0.5) / 1000.0;
        d99 = quantile(lat, during, 0.99) / 1000.0;
        dmax = during > 0 ? (double)lat[during - 1] / 1000.0 : 0;
        /* Unfinished: erasures_done_s, p50, p99 and max are lower bounds (">="). */
        printf("erasure envelopes=%ld customers=%zu ids=%zu erased=%llu erasures_done_s%s%.2f "
               "acks_during=%zu p50_ms%s%.2f p99_ms%s%.2f max_ms%s%.2f quiet_p50_ms=%.2f "
               "quiet_p99_ms=%.2f\n",
               o->envelopes, nc, nid, (unsigned long long)total_erased, unfinished ? ">=" : "=",
               (double)last / 1e6, during, unfinished ? ">=" : "=", d50, unfinished ? ">=" : "=",
               d99, unfinished ? ">=" : "=", dmax, b50, b99);
        free(lat);
    }
    wsc_free(b.c);
    for (size_t k = 0; k < nc; k++) {
        wsc_free(ec[k]);
        parley_identity_free(cust[k]);
    }
    relay_stop(&rp, 30000);
    tmpdir_remove(dir);
    free(b.sealed);
    free(b.sent_us);
    free(b.latency_us);
    free(cust);
    free(convs);
    free(salts);
    free(specs);
    free(ec);
    free(done_us);
    free(erased);
}

/* ------------------------------------------------------------------ */
/* Slow reader */

struct pending_ack {
    uint8_t id[16];
    int64_t due_us;
};

static wsc *reader_connect(const struct relay_proc *rp, const parley_identity *id)
{
    wsc *c = wsc_open_rcvbuf(rp->port, 16384);
    Parley__Frame *f;

    if (c == NULL)
        die("reader cannot connect");
    f = pc_auth(c, id, NULL, 0, 5000);
    if (f == NULL || f->kind_case != PARLEY__FRAME__KIND_AUTH_OK)
        die("reader: not authenticated");
    parley__frame__free_unpacked(f, NULL);
    wsc_pace(c, true);
    return c;
}

static void run_slow_reader(const struct opts *o)
{
    enum { SENDERS = 25 };
    struct relay_proc rp;
    char dir[256];
    parley_identity *reader_id = identity(), *flooder_id = identity();
    uint8_t to[32];
    size_t per = (size_t)o->backlog / SENDERS, n_acks = 0, cap_acks = 1u << 16;
    struct pending_ack *acks = calloc(cap_acks, sizeof(*acks));
    struct env_spec *specs = calloc(per, sizeof(*specs));
    long received = 0, acked = 0, cutoffs = 0, flood_acked = 0, flood_refused = 0;
    double deleted0, deleted1, cut_metric;
    uint8_t *sealed = malloc((size_t)o->size);
    wsc *reader, *flooder;
    int64_t t0, t_end, next_flood, last_budget;

    if (acks == NULL || specs == NULL || sealed == NULL)
        die("out of memory");
    randombytes_buf(sealed, (size_t)o->size);
    start_relay(&rp, dir, sizeof(dir), o, NULL);
    parley_routing_id(parley_identity_sign_pk(reader_id), PARLEY_ROUTING_CUSTOMER, to);
    for (size_t i = 0; i < per; i++) {
        randombytes_buf(specs[i].conv, 16);
        memcpy(specs[i].to, to, 32);
    }
    fprintf(stderr, "filling the reader's queue with %ld envelopes of %ld bytes...\n", o->backlog,
            o->size);
    for (int s = 0; s < SENDERS; s++) {
        parley_identity *sid = identity();
        wsc *c = connect_as(&rp, sid);
        if (send_all(c, specs, per, o->size, 64) > 0)
            die("the relay refused part of the backlog");
        wsc_free(c);
        parley_identity_free(sid);
    }
    deleted0 = relay_metric(&rp, "parley_envelopes_acknowledged_total");
    flooder = connect_as(&rp, flooder_id);
    reader = reader_connect(&rp, reader_id);
    fprintf(stderr, "reading at %ld B/s, %ld ms before each acknowledgement arrives, for %ld s\n",
            o->bps, o->rtt_ms, o->seconds);
    t0 = last_budget = next_flood = now_us();
    t_end = t0 + o->seconds * 1000000;
    while (now_us() < t_end) {
        int64_t now = now_us();
        Parley__Frame *f;

        /* The link: bps bytes a second reach the reader. */
        wsc_allow_read(reader, (size_t)((now - last_budget) * o->bps / 1000000));
        last_budget += (int64_t)((now - last_budget) * o->bps / 1000000) * 1000000 / o->bps;
        while ((f = pc_recv(reader, 0)) != NULL) {
            if (f->kind_case == PARLEY__FRAME__KIND_DELIVER && f->deliver->envelope_id.len == 16) {
                received++;
                if (n_acks == cap_acks)
                    die("too many acknowledgements in flight");
                memcpy(acks[n_acks].id, f->deliver->envelope_id.data, 16);
                acks[n_acks++].due_us = now + o->rtt_ms * 1000;
            }
            parley__frame__free_unpacked(f, NULL);
        }
        if (wsc_last_result(reader) != WSC_TIMEOUT) {
            /* Cut off: a client reconnects (the library waits up to a second at first). */
            cutoffs++;
            wsc_free(reader);
            n_acks = 0;
            sleep_ms(1000);
            reader = reader_connect(&rp, reader_id);
            continue;
        }
        /* Acknowledgements reach the relay one round trip after the envelope. */
        {
            size_t k = 0;
            while (k < n_acks && acks[k].due_us <= now)
                k++;
            for (size_t i = 0; i < k; i++)
                if (pc_send_delivered(reader, (const uint8_t(*)[16])acks[i].id, 1) != 0)
                    break;
            acked += (long)k;
            memmove(acks, acks + k, (n_acks - k) * sizeof(*acks));
            n_acks -= k;
        }
        /* The sender keeps trying: 20 envelopes a second. */
        if (now >= next_flood) {
            uint8_t eid[16], conv[16];
            randombytes_buf(eid, 16);
            randombytes_buf(conv, 16);
            if (pc_send_envelope(flooder, eid, conv, to, sealed, (size_t)o->size) != 0)
                die("the sender lost its connection");
            next_flood += 50000;
        }
        while ((f = pc_recv(flooder, 0)) != NULL) {
            if (f->kind_case == PARLEY__FRAME__KIND_ACK)
                flood_acked++;
            else if (f->kind_case == PARLEY__FRAME__KIND_ERROR)
                flood_refused++;
            parley__frame__free_unpacked(f, NULL);
        }
        sleep_ms(5);
    }
    sleep_ms(500); /* the last acknowledgements reach the store */
    deleted1 = relay_metric(&rp, "parley_envelopes_acknowledged_total");
    cut_metric = relay_metric(&rp, "parley_rejects_total{reason=\"slow_reader\"}");
    printf("slow-reader backlog=%ld size=%ld bps=%ld rtt_ms=%ld seconds=%ld received=%ld "
           "acked_by_reader=%ld deleted_by_relay=%.0f drain_per_s=%.1f cutoffs=%ld "
           "slow_reader_rejects=%.0f sender_acked=%ld sender_refused=%ld\n",
           o->backlog, o->size, o->bps, o->rtt_ms, o->seconds, received, acked, deleted1 - deleted0,
           (deleted1 - deleted0) / (double)o->seconds, cutoffs, cut_metric, flood_acked,
           flood_refused);
    wsc_free(reader);
    wsc_free(flooder);
    relay_stop(&rp, 30000);
    tmpdir_remove(dir);
    parley_identity_free(reader_id);
    parley_identity_free(flooder_id);
    free(acks);
    free(specs);
    free(sealed);
}

/* ------------------------------------------------------------------ */

static long number(const char *flag, const char *v)
{
    char *end;
    long n;

    errno = 0;
    n = v != NULL ? strtol(v, &end, 10) : -1;
    if (v == NULL || errno != 0 || *end != '\0' || n <= 0) {
        fprintf(stderr, "bench-limits: %s needs a positive number\n", flag);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    struct opts o = {.envelopes = 100000,
                     .ids = 4096,
                     .customers = 3,
                     .size = 1024,
                     .rate = 100,
                     .backlog = 10000,
                     .bps = 20000,
                     .rtt_ms = 300,
                     .seconds = 20,
                     .limit_s = 1200};
    int i;

    if (argc < 2 || sodium_init() < 0 || parley_init() != PARLEY_OK) {
        fprintf(stderr, "usage: bench-limits erasure|slow-reader --relay BIN [options] "
                        "[-- RELAY-ARGS...]\n");
        return 2;
    }
    o.mode = argv[1];
    if (strcmp(o.mode, "slow-reader") == 0)
        o.size = 1500;
    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc && o.n_relay_args < MAX_RELAY_ARGS; i++)
                o.relay_args[o.n_relay_args++] = argv[i];
            break;
        }
        if (strcmp(a, "--relay") == 0 && v != NULL)
            o.relay = v;
        else if (strcmp(a, "--envelopes") == 0)
            o.envelopes = number(a, v);
        else if (strcmp(a, "--ids") == 0)
            o.ids = number(a, v);
        else if (strcmp(a, "--customers") == 0)
            o.customers = number(a, v);
        else if (strcmp(a, "--size") == 0)
            o.size = number(a, v);
        else if (strcmp(a, "--rate") == 0)
            o.rate = number(a, v);
        else if (strcmp(a, "--backlog") == 0)
            o.backlog = number(a, v);
        else if (strcmp(a, "--bps") == 0)
            o.bps = number(a, v);
        else if (strcmp(a, "--rtt-ms") == 0)
            o.rtt_ms = number(a, v);
        else if (strcmp(a, "--seconds") == 0)
            o.seconds = number(a, v);
        else if (strcmp(a, "--limit-s") == 0)
            o.limit_s = number(a, v);
        else {
            fprintf(stderr, "bench-limits: unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    if (o.relay == NULL) {
        fprintf(stderr, "bench-limits: --relay BIN is required\n");
        return 2;
    }
    if (strcmp(o.mode, "erasure") == 0)
        run_erasure(&o);
    else if (strcmp(o.mode, "slow-reader") == 0)
        run_slow_reader(&o);
    else {
        fprintf(stderr, "bench-limits: unknown mode %s\n", o.mode);
        return 2;
    }
    return 0;
}
