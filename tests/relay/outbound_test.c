/*
 * What the relay queues to one connection stays bounded whatever the peer
 * does: a client that floods pings and never reads the pongs is cut off,
 * before or after authenticating, with its reason in the log and the
 * metrics, while the relay's resident memory stays flat and a bystander
 * keeps working. A reader that is merely slow is never cut off: delivery
 * is windowed, and its acknowledgements are applied even once its
 * connection is closing.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "testkit.h"

#define RSS_GROWTH_MAX_KB (32 * 1024) /* what the flood may add to the relay's memory */
#define FLOOD_MS          30000       /* the relay must end the connection before this */

struct flood {
    uint64_t sent;
    long rss_before_kb, rss_max_kb;
    bool closed; /* the relay ended the connection */
};

static void sample_rss(const struct relay_proc *r, struct flood *f)
{
    long kb = relay_rss_kb(r);
    if (kb > f->rss_max_kb)
        f->rss_max_kb = kb;
}

/*
 * Writes masked empty pings on c as fast as the socket takes them, never
 * reading, sampling the relay's RSS, until the relay ends the connection
 * (EPIPE or reset), the relay has grown by RSS_GROWTH_MAX_KB or FLOOD_MS
 * have passed.
 */
static void ping_flood(const struct relay_proc *r, wsc *c, struct flood *f)
{
    enum { PINGS = 8192, PING = 2 + 4 };
    static uint8_t buf[PINGS * PING];
    uint64_t next_sample = 0;
    int64_t deadline = mono_ms() + FLOOD_MS;
    size_t off = 0;

    for (int i = 0; i < PINGS; i++) {
        uint8_t *p = buf + i * PING;
        p[0] = WSC_FIN | WSC_OP_PING;
        p[1] = 0x80;
        tk_random(p + 2, 4);
    }
    memset(f, 0, sizeof(*f));
    f->rss_before_kb = f->rss_max_kb = relay_rss_kb(r);
    CHECK(f->rss_before_kb > 0);
    while (f->rss_max_kb - f->rss_before_kb < RSS_GROWTH_MAX_KB && mono_ms() < deadline) {
        ssize_t n = send(wsc_fd(c), buf + off, sizeof(buf) - off, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0) {
            f->sent += (uint64_t)n;
            off = (off + (size_t)n) % sizeof(buf);
            if (f->sent >= next_sample) {
                sample_rss(r, f);
                next_sample = f->sent + (1u << 20);
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            struct pollfd pfd = {wsc_fd(c), POLLOUT, 0};
            poll(&pfd, 1, 100);
            sample_rss(r, f);
            continue;
        }
        f->closed = true; /* EPIPE, ECONNRESET: the relay is done with us */
        break;
    }
    sample_rss(r, f);
}

static void report(const char *what, const struct flood *f)
{
    printf("   %s: %.1f MiB of pings sent, relay VmRSS %.1f MiB before, %.1f MiB at most "
           "(+%.1f MiB), %s\n",
           what, (double)f->sent / 1048576.0, f->rss_before_kb / 1024.0, f->rss_max_kb / 1024.0,
           (f->rss_max_kb - f->rss_before_kb) / 1024.0,
           f->closed ? "connection closed by the relay" : "connection still open");
}

static void check_flood(const struct flood *f, const char *what)
{
    report(what, f);
    CHECKM(f->rss_max_kb - f->rss_before_kb < RSS_GROWTH_MAX_KB, "%s: the relay grew by %ld KiB",
           what, f->rss_max_kb - f->rss_before_kb);
    CHECKM(f->closed, "%s: the relay kept the connection open for %d s (%.0f MiB)", what,
           FLOOD_MS / 1000, (double)f->sent / 1048576.0);
}

/* A close event with this reason in the relay's log. */
static void expect_close_logged(const struct relay_proc *r, const char *reason)
{
    char want[64];
    const char *needles[] = {"\"event\":\"close\"", want, NULL};

    snprintf(want, sizeof(want), "\"reason\":\"%s\"", reason);
    CHECKM(relay_log_count(r, needles) > 0, "no close with reason %s in the relay log", reason);
}

/* Before authenticating: a small budget and a frame rate of its own. */
static void test_ping_flood_unauthenticated(struct tk_env *e, wsc *by, parley_identity *by_id)
{
    struct flood f;
    wsc *c = wsc_open(e->relay.port);

    CHECK(c != NULL);
    ping_flood(&e->relay, c, &f);
    check_flood(&f, "unauthenticated");
    wsc_free(c);
    CHECK(tk_rejects(&e->relay, "rate_limited", 1) >= 1);
    expect_close_logged(&e->relay, "rate_limited");
    tk_roundtrip(by, by_id);
}

static void test_ping_flood(void)
{
    struct tk_env e;
    parley_identity *by_id = tk_identity();
    wsc *by;

    tk_env_init(&e, "pingflood");
    tk_env_start(&e, NULL);
    by = pc_connect(e.relay.port, by_id, NULL, 0);
    CHECK(by != NULL);
    test_ping_flood_unauthenticated(&e, by, by_id);
    wsc_free(by);
    parley_identity_free(by_id);
    tk_env_end(&e);
}

/*
 * After authenticating, within the frame rate: the pongs a reader leaves
 * unread count against max-outbound like everything else, and it is cut
 * off as a slow reader.
 */
static void test_ping_flood_authenticated(void)
{
    struct tk_env e;
    const char *args[] = {"--max-outbound", "65536",   "--rate", "1000000",
                          "--burst",        "1000000", NULL};
    parley_identity *id = tk_identity(), *by_id = tk_identity();
    struct flood f;
    wsc *c, *by;

    tk_env_init(&e, "pingflood-auth");
    tk_env_start(&e, args);
    by = pc_connect(e.relay.port, by_id, NULL, 0);
    CHECK(by != NULL);
    {
        Parley__Frame *ok;
        c = wsc_open_rcvbuf(e.relay.port, 4096);
        CHECK(c != NULL);
        ok = pc_auth(c, id, NULL, 0, 5000);
        CHECK(ok != NULL && ok->kind_case == PARLEY__FRAME__KIND_AUTH_OK);
        parley__frame__free_unpacked(ok, NULL);
    }
    ping_flood(&e.relay, c, &f);
    check_flood(&f, "authenticated");
    wsc_free(c);
    CHECK(tk_rejects(&e.relay, "slow_reader", 1) >= 1);
    expect_close_logged(&e.relay, "slow_reader");
    tk_roundtrip(by, by_id);
    wsc_free(by);
    parley_identity_free(id);
    parley_identity_free(by_id);
    tk_env_end(&e);
}

/*
 * A reader that stops reading during a flood bigger than max-outbound,
 * then reads slowly (a few KiB at a time, acknowledging each envelope as
 * it comes, while the sender keeps adding), with the default settings:
 * it is never cut off and gets everything, in order, exactly once.
 */
static void test_slow_reader(void)
{
    enum { FLOOD = 200, MORE = 100, SEALED = 16000, STEP = 4096 };
    static uint8_t ids[FLOOD + MORE][16];
    struct tk_env e;
    parley_identity *sender_id = tk_identity(), *reader_id = tk_identity();
    uint8_t to[32], conv[16], *sealed = malloc(SEALED), *buf = NULL;
    size_t len = 0, sent = FLOOD, got = 0;
    wsc *sender, *reader;
    Parley__Frame *f;

    CHECK(sealed != NULL);
    tk_random(sealed, SEALED);
    tk_random(conv, 16);
    tk_routing(reader_id, to);
    tk_env_init(&e, "slowreader");
    tk_env_start(&e, NULL);
    sender = pc_connect(e.relay.port, sender_id, NULL, 0);
    CHECK(sender != NULL);
    reader = wsc_open_rcvbuf(e.relay.port, 4096);
    CHECK(reader != NULL);
    f = pc_auth(reader, reader_id, NULL, 0, 5000);
    CHECK(f != NULL && f->kind_case == PARLEY__FRAME__KIND_AUTH_OK);
    parley__frame__free_unpacked(f, NULL);
    wsc_pace(reader, true); /* from now on it reads only what it is allowed */

    /* The flood, 3.2 MB, all of it stored while the reader reads nothing. */
    for (size_t i = 0; i < FLOOD; i++) {
        uint8_t *m = NULL;
        size_t mlen = 0;
        tk_random(ids[i], 16);
        CHECK(pc_pack_envelope(ids[i], conv, to, sealed, SEALED, &m, &mlen) == 0);
        CHECK(wsc_frame_append(&buf, &len, m, mlen) == 0);
        free(m);
    }
    CHECKM(wsc_send_raw(sender, buf, len) == 0, "the sender was held up by a slow recipient");
    free(buf);
    for (size_t i = 0; i < FLOOD; i++)
        tk_expect_ack(sender, ids[i], 10000);

    /* It reads STEP bytes at a time; every tenth envelope read, the sender sends five more. */
    while (got < FLOOD + MORE) {
        if (wsc_read_allowance(reader) == 0)
            wsc_allow_read(reader, STEP);
        /* Returns at once when the allowance is spent mid-frame; waits for data otherwise. */
        f = pc_recv(reader, 10000);
        if (f == NULL) {
            CHECKM(wsc_last_result(reader) == WSC_TIMEOUT,
                   "the slow reader was cut off after %zu envelopes (close %d)", got,
                   wsc_last_close(reader));
            CHECKM(wsc_read_allowance(reader) == 0, "nothing more came after %zu envelopes", got);
            continue;
        }
        CHECKM(f->kind_case == PARLEY__FRAME__KIND_DELIVER, "the reader got frame kind %d",
               (int)f->kind_case);
        CHECKM(memcmp(f->deliver->envelope_id.data, ids[got], 16) == 0,
               "envelope %zu delivered out of order", got);
        CHECK(pc_send_delivered(reader, (const uint8_t(*)[16])ids[got], 1) == 0);
        parley__frame__free_unpacked(f, NULL);
        if (++got % 10 == 0 && sent < FLOOD + MORE)
            for (int k = 0; k < 5; k++, sent++) {
                tk_random(ids[sent], 16);
                tk_send_acked(sender, ids[sent], to, sealed, SEALED);
            }
    }
    wsc_allow_read(reader, 1u << 20);
    tk_expect_nothing(reader, 300, "each envelope once");
    CHECKM(relay_metric(&e.relay, "parley_rejects_total{reason=\"slow_reader\"}") == 0,
           "a slow reader was cut off");
    /* Its acknowledgements were all applied: nothing is left stored. */
    CHECKM(tk_stored_until(&e.relay, 0, SEALED, 5000), "envelopes still stored");
    wsc_free(reader);
    wsc_free(sender);
    free(sealed);
    parley_identity_free(sender_id);
    parley_identity_free(reader_id);
    tk_env_end(&e);
}

/*
 * Acknowledgements that arrive after the relay decided to close the
 * connection (here: replaced by a newer one with the same key) are still
 * applied, by the routing id the connection proved.
 */
static void test_acks_after_close(void)
{
    enum { N = 5 };
    struct tk_env e;
    parley_identity *sender_id = tk_identity(), *reader_id = tk_identity();
    uint8_t to[32], ids[N][16], sealed[64];
    wsc *sender, *old, *fresh;

    tk_random(sealed, sizeof(sealed));
    tk_routing(reader_id, to);
    tk_env_init(&e, "acksafterclose");
    tk_env_start(&e, NULL);
    sender = pc_connect(e.relay.port, sender_id, NULL, 0);
    old = pc_connect(e.relay.port, reader_id, NULL, 0);
    CHECK(sender != NULL && old != NULL);
    for (int i = 0; i < N; i++) {
        tk_random(ids[i], 16);
        tk_send_acked(sender, ids[i], to, sealed, sizeof(sealed));
        tk_expect_deliver(old, ids[i], sealed, sizeof(sealed), 5000);
    }
    /* A newer connection takes over; the old one is told to go (4004), then acknowledges. */
    fresh = pc_connect(e.relay.port, reader_id, NULL, 0);
    CHECK(fresh != NULL);
    tk_expect_close(old, 4004, 5000, "the replaced connection");
    CHECK(pc_send_delivered(old, (const uint8_t(*)[16])ids, N) == 0);
    {
        double acked = tk_metric_until(&e.relay, "parley_envelopes_acknowledged_total", N, 5000);
        CHECKM(acked == N, "%.0f of %d late acknowledgements applied", acked, N);
    }
    wsc_free(old);
    wsc_free(fresh);
    wsc_free(sender);
    parley_identity_free(sender_id);
    parley_identity_free(reader_id);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"ping_flood", test_ping_flood},
        {"ping_flood_authenticated", test_ping_flood_authenticated},
        {"slow_reader", test_slow_reader},
        {"acks_after_close", test_acks_after_close},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
