/*
 * Store-and-forward through real connections: delivery to online and
 * offline recipients, order per recipient, deletion on acknowledgement and
 * redelivery without it, TTL expiry, quotas, duplicate sends, and that
 * nothing acknowledged is lost across a relay restart or a SIGTERM drain.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testkit.h"

#define MAX_BATCH 64

/* Envelopes a test sends: ids, and sealed bytes that start with the id. */
struct batch {
    size_t n;
    uint8_t ids[MAX_BATCH][16];
    uint8_t sealed[MAX_BATCH][200];
    size_t sealed_len[MAX_BATCH];
};

static void batch_fill(struct batch *b, size_t n)
{
    memset(b, 0, sizeof(*b));
    b->n = n;
    for (size_t i = 0; i < n; i++) {
        tk_random(b->ids[i], 16);
        b->sealed_len[i] = 40 + (i * 7) % 150;
        tk_random(b->sealed[i], b->sealed_len[i]);
        memcpy(b->sealed[i], b->ids[i], 16);
    }
}

/* Writes envelopes [from, to) of b in one burst, without waiting for acks. */
static void send_burst(wsc *c, const struct batch *b, size_t from, size_t to,
                       const uint8_t recipient[32])
{
    uint8_t *buf = NULL, conv[16];
    size_t len = 0;

    tk_random(conv, sizeof(conv));
    for (size_t i = from; i < to; i++) {
        uint8_t *msg = NULL;
        size_t mlen = 0;
        CHECK(pc_pack_envelope(b->ids[i], conv, recipient, b->sealed[i], b->sealed_len[i], &msg,
                               &mlen) == 0);
        CHECK(wsc_frame_append(&buf, &len, msg, mlen) == 0);
        free(msg);
    }
    CHECK(wsc_send_raw(c, buf, len) == 0);
    free(buf);
}

/* Reads acks for envelopes [from, to) of b, in any order. */
static void expect_acks(wsc *c, const struct batch *b, size_t from, size_t to)
{
    bool seen[MAX_BATCH] = {false};

    for (size_t k = from; k < to; k++) {
        Parley__Frame *f = tk_expect_kind(c, PARLEY__FRAME__KIND_ACK, 5000, "ack of a burst");
        bool found = false;
        for (size_t i = from; i < to && !found; i++)
            if (!seen[i] && f->ack->envelope_id.len == 16 &&
                memcmp(f->ack->envelope_id.data, b->ids[i], 16) == 0)
                seen[i] = found = true;
        CHECKM(found, "ack for an envelope not sent or acked twice");
        parley__frame__free_unpacked(f, NULL);
    }
}

/* Expects envelopes [from, to) of b delivered to c in exactly that order. */
static void expect_in_order(wsc *c, const struct batch *b, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        Parley__Frame *f = pc_recv(c, 5000);
        CHECKM(f != NULL, "envelope %zu of [%zu, %zu) never delivered", i, from, to);
        CHECKM(f->kind_case == PARLEY__FRAME__KIND_DELIVER, "expected deliver %zu, got kind %d",
               i, (int)f->kind_case);
        if (f->deliver->envelope_id.len != 16 ||
            memcmp(f->deliver->envelope_id.data, b->ids[i], 16) != 0) {
            size_t at = SIZE_MAX;
            for (size_t j = 0; j < b->n; j++)
                if (f->deliver->envelope_id.len == 16 &&
                    memcmp(f->deliver->envelope_id.data, b->ids[j], 16) == 0)
                    at = j;
            tk_fail(__FILE__, __LINE__, "delivery order",
                    "expected envelope %zu, got envelope %zd", i, at == SIZE_MAX ? -1 : (ssize_t)at);
        }
        CHECKM(f->deliver->sealed.len == b->sealed_len[i] &&
                   memcmp(f->deliver->sealed.data, b->sealed[i], b->sealed_len[i]) == 0,
               "sealed bytes of envelope %zu altered", i);
        parley__frame__free_unpacked(f, NULL);
    }
}

static void ack_all(wsc *c, const struct batch *b, size_t from, size_t to)
{
    CHECK(pc_send_delivered(c, (const uint8_t(*)[16])b->ids[from], to - from) == 0);
}

/* Waits (bounded) until the relay's series reaches at least want. */
static double wait_metric(const struct relay_proc *r, const char *series, double want, int ms)
{
    int64_t deadline = mono_ms() + ms;
    double v;

    for (;;) {
        v = relay_metric(r, series);
        if (v >= want || mono_ms() > deadline)
            return v;
        sleep_ms(50);
    }
}

/* Alice and Bob on a fresh relay (args as for tk_env_start); returns Alice's connection. */
static wsc *pair_start(struct tk_env *e, const char *tag, const char *const *args,
                       parley_identity **alice, parley_identity **bob, uint8_t to_bob[32])
{
    wsc *a;

    *alice = tk_identity();
    *bob = tk_identity();
    tk_env_init(e, tag);
    tk_env_start(e, args);
    tk_routing(*bob, to_bob);
    a = pc_connect(e->relay.port, *alice, NULL, 0);
    CHECK(a != NULL);
    return a;
}

static void pair_end(struct tk_env *e, parley_identity *alice, parley_identity *bob)
{
    parley_identity_free(alice);
    parley_identity_free(bob);
    tk_env_end(e);
}

static void test_online_and_offline(void)
{
    struct tk_env e;
    parley_identity *alice, *bob;
    uint8_t to_bob[32], eid[16], sealed[300];
    wsc *a, *b;

    a = pair_start(&e, "delivery", NULL, &alice, &bob, to_bob);
    b = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(b != NULL);

    /* Online: delivered at once, bytes untouched. */
    tk_random(eid, 16);
    tk_random(sealed, sizeof(sealed));
    tk_send_acked(a, eid, to_bob, sealed, sizeof(sealed));
    tk_expect_deliver(b, eid, sealed, sizeof(sealed), 5000);
    CHECK(pc_send_delivered(b, (const uint8_t(*)[16])eid, 1) == 0);

    /* Offline: stored, then delivered on connection. */
    CHECK(wsc_send_close(b, 1000) == 0);
    tk_expect_close(b, 1000, 5000, "client-initiated close is echoed");
    wsc_free(b);
    tk_random(eid, 16);
    tk_random(sealed, sizeof(sealed));
    tk_send_acked(a, eid, to_bob, sealed, sizeof(sealed));
    CHECK(wait_metric(&e.relay, "parley_envelopes_stored_total", 2, 3000) == 2);
    b = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(b != NULL);
    tk_expect_deliver(b, eid, sealed, sizeof(sealed), 5000);
    tk_expect_nothing(b, 300, "only the stored envelope");
    wsc_free(a);
    wsc_free(b);
    pair_end(&e, alice, bob);
}

static void test_order_offline(void)
{
    struct tk_env e;
    parley_identity *alice, *bob;
    uint8_t to_bob[32];
    static struct batch b;
    wsc *a, *r;

    a = pair_start(&e, "order", NULL, &alice, &bob, to_bob);
    batch_fill(&b, 50);
    send_burst(a, &b, 0, 50, to_bob);
    expect_acks(a, &b, 0, 50);
    r = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(r != NULL);
    expect_in_order(r, &b, 0, 50);
    tk_expect_nothing(r, 300, "exactly 50 deliveries");
    wsc_free(a);
    wsc_free(r);
    pair_end(&e, alice, bob);
}

static void test_order_mixed(void)
{
    struct tk_env e;
    parley_identity *alice, *bob;
    uint8_t to_bob[32], nonce[32], relay_key[32], *auth = NULL;
    size_t auth_len = 0;
    static struct batch b;
    Parley__Frame *f;
    wsc *a, *r;

    a = pair_start(&e, "order", NULL, &alice, &bob, to_bob);
    batch_fill(&b, 60);
    send_burst(a, &b, 0, 20, to_bob);
    expect_acks(a, &b, 0, 20);

    /* Bob authenticates while Alice keeps sending: stored and live interleave. */
    r = wsc_open(e.relay.port);
    CHECK(r != NULL && pc_read_hello(r, nonce, relay_key) == 0);
    CHECK(pc_build_auth(bob, nonce, relay_key, NULL, 0, &auth, &auth_len) == 0);
    CHECK(wsc_send_binary(r, auth, auth_len) == 0);
    send_burst(a, &b, 20, 40, to_bob);
    f = tk_expect_kind(r, PARLEY__FRAME__KIND_AUTH_OK, 5000, "bob auth");
    parley__frame__free_unpacked(f, NULL);
    expect_in_order(r, &b, 0, 40);
    expect_acks(a, &b, 20, 40);

    /* Then purely live. */
    send_burst(a, &b, 40, 60, to_bob);
    expect_in_order(r, &b, 40, 60);
    expect_acks(a, &b, 40, 60);
    tk_expect_nothing(r, 300, "each envelope exactly once");
    free(auth);
    wsc_free(a);
    wsc_free(r);
    pair_end(&e, alice, bob);
}

static void test_ack_and_redelivery(void)
{
    struct tk_env e;
    parley_identity *alice, *bob;
    uint8_t to_bob[32];
    static struct batch b;
    wsc *a, *r;

    a = pair_start(&e, "ack", NULL, &alice, &bob, to_bob);
    batch_fill(&b, 6);
    send_burst(a, &b, 0, 6, to_bob);
    expect_acks(a, &b, 0, 6);

    /* Received but not acknowledged: everything comes again. */
    r = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(r != NULL);
    expect_in_order(r, &b, 0, 6);
    wsc_free(r);
    r = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(r != NULL);
    expect_in_order(r, &b, 0, 6);

    /* Acknowledge the first four: only the last two come back. */
    ack_all(r, &b, 0, 4);
    CHECK(wait_metric(&e.relay, "parley_envelopes_acknowledged_total", 4, 3000) == 4);
    CHECK(wsc_send_close(r, 1000) == 0);
    tk_expect_close(r, 1000, 5000, "close handshake");
    wsc_free(r);
    r = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(r != NULL);
    expect_in_order(r, &b, 4, 6);
    tk_expect_nothing(r, 300, "acknowledged envelopes are not redelivered");

    /* Acknowledge the rest: once the relay has deleted them, nothing is left. */
    ack_all(r, &b, 4, 6);
    CHECK(wait_metric(&e.relay, "parley_envelopes_acknowledged_total", 6, 3000) == 6);
    CHECK(tk_stored_until(&e.relay, 0, 1, 3000));
    CHECK(wsc_send_close(r, 1000) == 0);
    tk_expect_close(r, 1000, 5000, "close handshake");
    wsc_free(r);
    r = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(r != NULL);
    tk_expect_nothing(r, 500, "acknowledged envelopes are gone");
    wsc_free(r);
    wsc_free(a);
    pair_end(&e, alice, bob);
}

/*
 * A recipient that acknowledges and reconnects at once (a flaky mobile
 * link) must not get what it acknowledged on the previous connection.
 */
static void test_ack_then_reconnect(void)
{
    struct tk_env e;
    parley_identity *alice, *bob;
    uint8_t to_bob[32];
    static struct batch b;
    wsc *a, *r;

    a = pair_start(&e, "ack", NULL, &alice, &bob, to_bob);
    batch_fill(&b, 5);
    r = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(r != NULL);
    for (size_t i = 0; i < 5; i++) {
        uint8_t nonce[32], relay_key[32], *auth = NULL;
        size_t auth_len = 0;
        wsc *next;
        Parley__Frame *f;

        send_burst(a, &b, i, i + 1, to_bob);
        expect_acks(a, &b, i, i + 1);
        expect_in_order(r, &b, i, i + 1);
        /* The next connection is already open and challenged, as a client retrying would be. */
        next = wsc_open(e.relay.port);
        CHECK(next != NULL && pc_read_hello(next, nonce, relay_key) == 0);
        CHECK(pc_build_auth(bob, nonce, relay_key, NULL, 0, &auth, &auth_len) == 0);
        /* Acknowledge, close cleanly (the echo proves Delivered was read), authenticate anew. */
        ack_all(r, &b, i, i + 1);
        CHECK(wsc_send_close(r, 1000) == 0);
        tk_expect_close(r, 1000, 5000, "close handshake");
        wsc_free(r);
        CHECK(wsc_send_binary(next, auth, auth_len) == 0);
        free(auth);
        r = next;
        f = tk_expect_kind(r, PARLEY__FRAME__KIND_AUTH_OK, 5000, "reconnect");
        parley__frame__free_unpacked(f, NULL);
        f = pc_recv(r, 300);
        CHECKM(f == NULL, "cycle %zu: envelope acknowledged before the reconnect was "
                          "delivered again (frame kind %d)",
               i, f != NULL ? (int)f->kind_case : 0);
    }
    wsc_free(r);
    wsc_free(a);
    pair_end(&e, alice, bob);
}

/*
 * A backlog of large envelopes (attachments) with the default limits:
 * 20 of 60,000 bytes are well within quota and max_frame, so the
 * recipient must be able to fetch them all when it connects, acknowledging
 * them as they come.
 */
static void test_large_backlog(void)
{
    enum { N = 20, SIZE = 60000 };
    struct tk_env e;
    parley_identity *alice, *bob;
    uint8_t to_bob[32], conv[16], ids[N][16], *sealed = malloc(SIZE);
    Parley__Frame *f;
    wsc *a, *r;

    CHECK(sealed != NULL);
    a = pair_start(&e, "backlog", NULL, &alice, &bob, to_bob);
    tk_random(conv, 16);
    tk_random(sealed, SIZE);
    for (int i = 0; i < N; i++) {
        tk_random(ids[i], 16);
        CHECK(pc_send_envelope(a, ids[i], conv, to_bob, sealed, SIZE) == 0);
        tk_expect_ack(a, ids[i], 5000);
    }
    r = wsc_open(e.relay.port);
    CHECK(r != NULL);
    f = pc_auth(r, bob, NULL, 0, 5000);
    CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_AUTH_OK,
           "recipient with %d x %d bytes stored: no AuthOk (%s %d)", N, SIZE,
           f == NULL && wsc_last_result(r) == WSC_EOF ? "closed with" : "got",
           f == NULL ? wsc_last_close(r) : (int)f->kind_case);
    parley__frame__free_unpacked(f, NULL);
    for (int i = 0; i < N; i++) {
        f = pc_recv(r, 5000);
        CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_DELIVER,
               "stored envelope %d of %d not delivered (connection %s %d)", i, N,
               f == NULL && wsc_last_result(r) == WSC_EOF ? "closed with" : "state",
               f == NULL ? wsc_last_close(r) : (int)f->kind_case);
        CHECK(memcmp(f->deliver->envelope_id.data, ids[i], 16) == 0);
        CHECK(f->deliver->sealed.len == SIZE);
        /* Acknowledged as it comes: the relay sends a window's worth ahead, not more. */
        CHECK(pc_send_delivered(r, (const uint8_t(*)[16])ids[i], 1) == 0);
        parley__frame__free_unpacked(f, NULL);
    }
    free(sealed);
    wsc_free(a);
    wsc_free(r);
    pair_end(&e, alice, bob);
}

static void test_ttl(void)
{
    struct tk_env e;
    const char *args[] = {"--ttl", "1", "--expiry-interval", "1", NULL};
    parley_identity *alice, *bob;
    uint8_t to_bob[32];
    static struct batch b;
    int64_t t0;
    wsc *a, *r;

    a = pair_start(&e, "ttl", args, &alice, &bob, to_bob);
    batch_fill(&b, 4);
    send_burst(a, &b, 0, 3, to_bob);
    expect_acks(a, &b, 0, 3);
    t0 = mono_ms();
    CHECKM(wait_metric(&e.relay, "parley_envelopes_expired_total", 3, 6000) >= 3,
           "stored envelopes not expired after the TTL");
    CHECKM(mono_ms() - t0 >= 500, "expired well before the TTL");
    /* A shared store's gauge is the stream's size as of its last probe (once a second). */
    CHECK(tk_metric_until(&e.relay, "parley_bytes_stored", 0, 3000) == 0);
    r = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(r != NULL);
    tk_expect_nothing(r, 500, "expired envelopes are gone");

    /* A fresh one is still delivered. */
    send_burst(a, &b, 3, 4, to_bob);
    expect_in_order(r, &b, 3, 4);
    expect_acks(a, &b, 3, 4);
    wsc_free(a);
    wsc_free(r);
    pair_end(&e, alice, bob);
}

static void test_quota(void)
{
    struct tk_env e;
    const char *args[] = {"--quota-count", "3", "--quota-bytes", "1000", NULL};
    parley_identity *alice = tk_identity(), *bob = tk_identity(), *carol = tk_identity();
    uint8_t to_bob[32], to_carol[32], conv[16], big[600];
    static struct batch b;
    bool acked = false;
    wsc *a, *r;

    tk_env_init(&e, "quota");
    tk_env_start(&e, args);
    tk_routing(bob, to_bob);
    tk_routing(carol, to_carol);
    tk_random(conv, 16);
    batch_fill(&b, 6);
    a = pc_connect(e.relay.port, alice, NULL, 0);
    CHECK(a != NULL);
    send_burst(a, &b, 0, 3, to_bob);
    expect_acks(a, &b, 0, 3);

    /* The fourth for Bob is refused, naming the envelope. */
    CHECK(pc_send_envelope(a, b.ids[3], conv, to_bob, b.sealed[3], b.sealed_len[3]) == 0);
    tk_expect_error(a, PARLEY__ERROR__CODE__QUOTA_FULL, b.ids[3], 5000);
    CHECK(tk_rejects(&e.relay, "quota_full", 1) >= 1);

    /* Other recipients are not affected; the byte quota applies too. */
    tk_random(big, sizeof(big));
    tk_send_acked(a, b.ids[4], to_carol, big, sizeof(big));
    CHECK(pc_send_envelope(a, b.ids[5], conv, to_carol, big, sizeof(big)) == 0);
    tk_expect_error(a, PARLEY__ERROR__CODE__QUOTA_FULL, b.ids[5], 5000);

    /* Bob takes and acknowledges his three: room again. */
    r = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(r != NULL);
    expect_in_order(r, &b, 0, 3);
    ack_all(r, &b, 0, 3);
    for (int attempt = 0; attempt < 30 && !acked; attempt++) {
        Parley__Frame *f;
        CHECK(pc_send_envelope(a, b.ids[3], conv, to_bob, b.sealed[3], b.sealed_len[3]) == 0);
        f = pc_recv(a, 5000);
        CHECK(f != NULL);
        if (f->kind_case == PARLEY__FRAME__KIND_ACK)
            acked = true;
        else
            CHECKM(f->kind_case == PARLEY__FRAME__KIND_ERROR &&
                       f->error->code == PARLEY__ERROR__CODE__QUOTA_FULL,
                   "unexpected answer while retrying");
        parley__frame__free_unpacked(f, NULL);
        if (!acked)
            sleep_ms(100);
    }
    CHECKM(acked, "quota not released after the recipient acknowledged");
    expect_in_order(r, &b, 3, 4);
    wsc_free(a);
    wsc_free(r);
    parley_identity_free(alice);
    parley_identity_free(bob);
    parley_identity_free(carol);
    tk_env_end(&e);
}

static void test_duplicate(void)
{
    struct tk_env e;
    parley_identity *alice, *bob;
    uint8_t to_bob[32];
    static struct batch b;
    wsc *a, *r;

    a = pair_start(&e, "dup", NULL, &alice, &bob, to_bob);
    batch_fill(&b, 2);
    /* A sender retrying: the same envelope twice, in the same burst and once more later. */
    send_burst(a, &b, 0, 1, to_bob);
    send_burst(a, &b, 0, 1, to_bob);
    tk_expect_ack(a, b.ids[0], 5000);
    tk_expect_ack(a, b.ids[0], 5000);
    send_burst(a, &b, 0, 2, to_bob);
    tk_expect_ack(a, b.ids[0], 5000);
    tk_expect_ack(a, b.ids[1], 5000);
    CHECK(wait_metric(&e.relay, "parley_envelopes_stored_total", 2, 3000) == 2);
    r = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(r != NULL);
    expect_in_order(r, &b, 0, 2);
    tk_expect_nothing(r, 500, "a resent envelope is delivered once");
    wsc_free(a);
    wsc_free(r);
    pair_end(&e, alice, bob);
}

/* After the restart: everything acknowledged arrives, in order; nothing unknown appears. */
static size_t expect_acked(wsc *r, const struct batch *b, const bool *acked, size_t n)
{
    size_t got = 0;

    for (size_t i = 0; i < n; i++) {
        Parley__Frame *f;
        if (!acked[i])
            continue;
        f = pc_recv(r, 5000);
        CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_DELIVER,
               "acknowledged envelope %zu lost across the restart", i);
        while (f->deliver->envelope_id.len == 16 &&
               memcmp(f->deliver->envelope_id.data, b->ids[i], 16) != 0) {
            size_t j;
            for (j = 0; j < n; j++)
                if (memcmp(f->deliver->envelope_id.data, b->ids[j], 16) == 0)
                    break;
            CHECKM(j < n && !acked[j] && j < i, "envelope %zu missing or out of order", i);
            parley__frame__free_unpacked(f, NULL);
            f = pc_recv(r, 5000);
            CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_DELIVER,
                   "acknowledged envelope %zu lost across the restart", i);
        }
        parley__frame__free_unpacked(f, NULL);
        got++;
    }
    return got;
}

/*
 * 10 envelopes acknowledged, 30 more in flight when the relay is told to
 * stop; every_ms > 0: told again and again (SIGINT, SIGTERM) while it
 * drains and closes, which must change nothing.
 */
static void restart_case(const char *tag, int every_ms)
{
    struct tk_env e;
    parley_identity *alice, *bob;
    uint8_t to_bob[32];
    static struct batch b;
    bool acked[MAX_BATCH] = {false};
    size_t n_acked = 0;
    int status, code = -1;
    wsc *a, *r;

    a = pair_start(&e, tag, NULL, &alice, &bob, to_bob);
    batch_fill(&b, 40);
    send_burst(a, &b, 0, 10, to_bob);
    expect_acks(a, &b, 0, 10);
    for (size_t i = 0; i < 10; i++)
        acked[i] = true;
    n_acked = 10;

    send_burst(a, &b, 10, 40, to_bob);
    kill(e.relay.pid, SIGTERM);
    if (every_ms > 0)
        kill(e.relay.pid, SIGINT);
    for (;;) {
        Parley__Frame *f = pc_recv(a, 10000);
        if (f == NULL)
            break;
        CHECK(f->kind_case == PARLEY__FRAME__KIND_ACK);
        for (size_t i = 10; i < 40; i++)
            if (memcmp(f->ack->envelope_id.data, b.ids[i], 16) == 0 && !acked[i]) {
                acked[i] = true;
                n_acked++;
            }
        parley__frame__free_unpacked(f, NULL);
    }
    code = wsc_last_close(a);
    CHECKM(code == 1001, "sender saw close %d while draining, expected 1001", code);
    wsc_free(a);
    status = relay_stop_repeated(&e.relay, 15000, every_ms);
    CHECKM(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "relay did not exit 0 after SIGTERM (status %d)", status);

    tk_env_start(&e, NULL);
    r = pc_connect(e.relay.port, bob, NULL, 0);
    CHECK(r != NULL);
    CHECK(expect_acked(r, &b, acked, 40) == n_acked);
    printf("   %zu of 40 acknowledged before the stop, all delivered after restart\n", n_acked);
    wsc_free(r);
    pair_end(&e, alice, bob);
}

static void test_restart(void)
{
    restart_case("restart", 0);
}

/* A stop repeated every millisecond until the relay is gone: a clean exit, nothing lost. */
static void test_stop_repeated(void)
{
    restart_case("stoprepeated", 1);
}

static void test_sigterm_drain(void)
{
    struct tk_env e;
    parley_identity *alice = tk_identity();
    wsc *authed, *fresh;
    int status;
    int64_t t0;

    tk_env_init(&e, "drain");
    tk_env_start(&e, NULL);
    authed = pc_connect(e.relay.port, alice, NULL, 0);
    fresh = wsc_open(e.relay.port);
    CHECK(authed != NULL && fresh != NULL);
    t0 = mono_ms();
    kill(e.relay.pid, SIGTERM);
    tk_expect_close(authed, 1001, 8000, "authenticated client during drain");
    tk_expect_close(fresh, 1001, 8000, "unauthenticated client during drain");
    /* As RFC 6455 clients do: answer the close, then close TCP once the relay has. */
    CHECK(wsc_send_close(authed, 1001) == 0 && wsc_send_close(fresh, 1001) == 0);
    CHECKM(wsc_wait_eof(authed, 8000) && wsc_wait_eof(fresh, 8000),
           "relay kept the TCP connection open after its close frame");
    wsc_free(authed);
    wsc_free(fresh);
    status = relay_stop(&e.relay, 15000);
    CHECKM(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "relay did not exit 0 after SIGTERM (status %d)", status);
    CHECKM(mono_ms() - t0 < 5000, "drain took %.1f s with every client gone",
           (double)(mono_ms() - t0) / 1000.0);
    parley_identity_free(alice);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"online_and_offline", test_online_and_offline},
        {"order_offline_50", test_order_offline},
        {"order_mixed_offline_live", test_order_mixed},
        {"ack_deletes_and_redelivery", test_ack_and_redelivery},
        {"ack_then_immediate_reconnect", test_ack_then_reconnect},
        {"large_backlog", test_large_backlog},
        {"ttl_expiry", test_ttl},
        {"quota", test_quota},
        {"duplicate_send", test_duplicate},
        {"restart_nothing_lost", test_restart},
        {"sigterm_drain", test_sigterm_drain},
        {"stop_repeated", test_stop_repeated},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
