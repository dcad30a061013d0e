/*
 * Storage limits beyond the recipient's queue: a sender's budget over
 * time (whoever the recipients), a cap per sender and recipient (one
 * sender cannot fill an agent's queue), and the database's size. Past any
 * of them the sender is refused with the envelope's id and resends later;
 * nothing refused is stored, nothing acknowledged is lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testkit.h"

enum outcome { PENDING, ACKED, QUOTA_FULL, UNAVAILABLE };

/* How long an answer may take: on the NATS store whose ledger answers are lost on purpose
 * (relay-quota-*-ledger-*-nats), each batch waits 2 s for each lost one, and batches queue. */
#define ANSWER_MS 20000

struct batch {
    size_t n;
    uint8_t (*ids)[16];
    uint8_t (*to)[32];
    enum outcome *got;
};

static void batch_init(struct batch *b, size_t n, const uint8_t *recipient)
{
    b->n = n;
    b->ids = calloc(n, 16);
    b->to = calloc(n, 32);
    b->got = calloc(n, sizeof(*b->got));
    CHECK(b->ids != NULL && b->to != NULL && b->got != NULL);
    for (size_t i = 0; i < n; i++) {
        tk_random(b->ids[i], 16);
        if (recipient != NULL)
            memcpy(b->to[i], recipient, 32);
        else
            tk_random(b->to[i], 32);
    }
}

static void batch_free(struct batch *b)
{
    free(b->ids);
    free(b->to);
    free(b->got);
}

static size_t batch_count(const struct batch *b, enum outcome o)
{
    size_t n = 0;

    for (size_t i = 0; i < b->n; i++)
        n += b->got[i] == o;
    return n;
}

/* Sends every envelope of b not yet acknowledged, pipelined, and waits for each answer. */
static void batch_send(wsc *c, struct batch *b, const uint8_t *sealed, size_t len)
{
    uint8_t conv[16], *buf = NULL;
    size_t buf_len = 0, waiting = 0;

    tk_random(conv, 16);
    for (size_t i = 0; i < b->n; i++) {
        uint8_t *m = NULL;
        size_t mlen = 0;
        if (b->got[i] == ACKED)
            continue;
        b->got[i] = PENDING;
        CHECK(pc_pack_envelope(b->ids[i], conv, b->to[i], sealed, len, &m, &mlen) == 0);
        CHECK(wsc_frame_append(&buf, &buf_len, m, mlen) == 0);
        free(m);
        waiting++;
    }
    CHECK(buf_len == 0 || wsc_send_raw(c, buf, buf_len) == 0);
    free(buf);
    while (waiting > 0) {
        Parley__Frame *f = pc_recv(c, ANSWER_MS);
        const ProtobufCBinaryData *eid = NULL;
        enum outcome o = PENDING;

        CHECKM(f != NULL, "%zu sends unanswered", waiting);
        if (f->kind_case == PARLEY__FRAME__KIND_ACK) {
            eid = &f->ack->envelope_id;
            o = ACKED;
        } else if (f->kind_case == PARLEY__FRAME__KIND_ERROR) {
            eid = &f->error->envelope_id;
            o = f->error->code == PARLEY__ERROR__CODE__QUOTA_FULL    ? QUOTA_FULL
                : f->error->code == PARLEY__ERROR__CODE__UNAVAILABLE ? UNAVAILABLE
                                                                     : PENDING;
            CHECKM(o != PENDING, "send refused with %s", tk_error_name(f->error->code));
        }
        for (size_t i = 0; eid != NULL && eid->len == 16 && i < b->n; i++)
            if (b->got[i] == PENDING && memcmp(eid->data, b->ids[i], 16) == 0) {
                b->got[i] = o;
                waiting--;
                break;
            }
        parley__frame__free_unpacked(f, NULL);
    }
}

/* Resends what was refused until everything is acknowledged (the limit frees up in time). */
static void batch_until_acked(wsc *c, struct batch *b, const uint8_t *sealed, size_t len,
                              int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;

    while (batch_count(b, ACKED) < b->n) {
        CHECKM(mono_ms() < deadline, "%zu of %zu envelopes still refused",
               b->n - batch_count(b, ACKED), b->n);
        sleep_ms(100); /* a client's pause before it resends */
        batch_send(c, b, sealed, len);
    }
}

static double stored(const struct tk_env *e)
{
    return relay_metric(&e->relay, "parley_envelopes_stored_total");
}

/* With the defaults: one connection cannot park hundreds of large envelopes for strangers. */
static void test_sender_quota(void)
{
    struct tk_env e;
    parley_identity *id = tk_identity(), *other = tk_identity();
    enum { N = 300, SIZE = 65000 };
    uint8_t *sealed = malloc(SIZE);
    struct batch b;
    size_t acked;
    wsc *c, *o;

    CHECK(sealed != NULL);
    tk_random(sealed, SIZE);
    tk_env_init(&e, "senderquota");
    {
        const char *args[] = {"--rate", "100000", "--burst", "100000", NULL};
        tk_env_start(&e, args);
    }
    c = pc_connect(e.relay.port, id, NULL, 0);
    CHECK(c != NULL);
    batch_init(&b, N, NULL);
    batch_send(c, &b, sealed, SIZE);
    acked = batch_count(&b, ACKED);
    printf("   %d envelopes of %d bytes for random recipients: %zu stored, %zu refused\n", N, SIZE,
           acked, batch_count(&b, QUOTA_FULL));
    CHECKM(acked * SIZE <= (16u << 20), "%zu envelopes of %d bytes stored for one sender", acked,
           SIZE);
    CHECKM(acked > 0 && batch_count(&b, QUOTA_FULL) == N - acked,
           "%zu acknowledged, %zu refused with QUOTA_FULL", acked, batch_count(&b, QUOTA_FULL));
    CHECK(tk_rejects(&e.relay, "sender_quota", 1) >= 1);
    CHECKM(stored(&e) == (double)acked, "%.0f envelopes stored, %zu acknowledged", stored(&e),
           acked);
    /* Another sender is not affected. */
    o = pc_connect(e.relay.port, other, NULL, 0);
    CHECK(o != NULL);
    tk_roundtrip(o, other);
    wsc_free(o);
    wsc_free(c);
    batch_free(&b);
    free(sealed);
    parley_identity_free(id);
    parley_identity_free(other);
    tk_env_end(&e);
}

/* A budget refills over its window: what was refused goes through later, once. */
static void test_sender_budget_refills(void)
{
    struct tk_env e;
    const char *args[] = {"--sender-count", "5", "--sender-window", "1", NULL};
    parley_identity *id = tk_identity();
    uint8_t sealed[100];
    struct batch b;
    wsc *c;

    tk_random(sealed, sizeof(sealed));
    tk_env_init(&e, "senderrefill");
    tk_env_start(&e, args);
    c = pc_connect(e.relay.port, id, NULL, 0);
    CHECK(c != NULL);
    batch_init(&b, 12, NULL);
    batch_send(c, &b, sealed, sizeof(sealed));
    CHECKM(batch_count(&b, ACKED) == 5 && batch_count(&b, QUOTA_FULL) == 7,
           "a budget of 5: %zu acknowledged, %zu refused", batch_count(&b, ACKED),
           batch_count(&b, QUOTA_FULL));
    batch_until_acked(c, &b, sealed, sizeof(sealed), 10000);
    CHECK(stored(&e) == 12);
    wsc_free(c);
    batch_free(&b);
    parley_identity_free(id);
    tk_env_end(&e);
}

/* One sender fills at most its share of a recipient's queue; others still get through. */
static void test_pair_quota(void)
{
    struct tk_env e;
    const char *args[] = {"--pair-quota-count", "5", NULL};
    parley_identity *a_id = tk_identity(), *b_id = tk_identity(), *r_id = tk_identity();
    uint8_t to[32], sealed[64];
    struct batch ba, bb;
    wsc *a, *b, *r;

    tk_random(sealed, sizeof(sealed));
    tk_routing(r_id, to);
    tk_env_init(&e, "pairquota");
    tk_env_start(&e, args);
    a = pc_connect(e.relay.port, a_id, NULL, 0);
    b = pc_connect(e.relay.port, b_id, NULL, 0);
    CHECK(a != NULL && b != NULL);
    batch_init(&ba, 8, to);
    batch_send(a, &ba, sealed, sizeof(sealed));
    CHECKM(batch_count(&ba, ACKED) == 5 && batch_count(&ba, QUOTA_FULL) == 3,
           "a cap of 5: %zu acknowledged, %zu refused", batch_count(&ba, ACKED),
           batch_count(&ba, QUOTA_FULL));
    CHECK(tk_rejects(&e.relay, "pair_quota", 1) >= 1);
    batch_init(&bb, 5, to);
    batch_send(b, &bb, sealed, sizeof(sealed));
    CHECKM(batch_count(&bb, ACKED) == 5, "another sender refused: the cap is per sender");

    /* The recipient reads and acknowledges; the first sender's share frees up. */
    r = pc_connect(e.relay.port, r_id, NULL, 0);
    CHECK(r != NULL);
    for (int i = 0; i < 10; i++) {
        Parley__Frame *f =
            tk_expect_kind(r, PARLEY__FRAME__KIND_DELIVER, ANSWER_MS, "stored envelope");
        CHECK(pc_send_delivered(r, (const uint8_t(*)[16])f->deliver->envelope_id.data, 1) == 0);
        parley__frame__free_unpacked(f, NULL);
    }
    batch_until_acked(a, &ba, sealed, sizeof(sealed), 3 * ANSWER_MS);
    for (int i = 0; i < 3; i++) {
        Parley__Frame *f =
            tk_expect_kind(r, PARLEY__FRAME__KIND_DELIVER, ANSWER_MS, "resent envelope");
        parley__frame__free_unpacked(f, NULL);
    }
    /* Exactly freed, not more: 3 of a's held, 2 more fit. */
    batch_free(&ba);
    batch_init(&ba, 3, to);
    batch_send(a, &ba, sealed, sizeof(sealed));
    CHECKM(batch_count(&ba, ACKED) == 2 && batch_count(&ba, QUOTA_FULL) == 1,
           "3 held of a cap of 5: %zu acknowledged, %zu refused", batch_count(&ba, ACKED),
           batch_count(&ba, QUOTA_FULL));
    wsc_free(a);
    wsc_free(b);
    wsc_free(r);
    batch_free(&ba);
    batch_free(&bb);
    parley_identity_free(a_id);
    parley_identity_free(b_id);
    parley_identity_free(r_id);
    tk_env_end(&e);
}

/* The database stops growing at max-db-bytes: UNAVAILABLE, until deletions make room. */
static void test_db_size_limit(void)
{
    struct tk_env e;
    const char *args[] = {"--max-db-bytes", "1048576", NULL};
    parley_identity *id = tk_identity(), *r_id = tk_identity();
    enum { N = 40, SIZE = 60000 };
    uint8_t *sealed = malloc(SIZE), to[32];
    struct batch b;
    size_t acked;
    wsc *c, *r;

    CHECK(sealed != NULL);
    tk_random(sealed, SIZE);
    tk_routing(r_id, to);
    tk_env_init(&e, "dbsize");
    tk_env_start(&e, args);
    c = pc_connect(e.relay.port, id, NULL, 0);
    CHECK(c != NULL);
    batch_init(&b, N, to);
    batch_send(c, &b, sealed, SIZE);
    acked = batch_count(&b, ACKED);
    printf("   a 1 MiB database took %zu envelopes of %d bytes\n", acked, SIZE);
    CHECKM(acked > 0 && acked * SIZE <= 1048576 && batch_count(&b, UNAVAILABLE) == N - acked,
           "%zu acknowledged, %zu refused with UNAVAILABLE", acked, batch_count(&b, UNAVAILABLE));
    CHECK(tk_rejects(&e.relay, "storage_full", 1) >= 1);
    CHECKM(stored(&e) == (double)acked, "refused envelopes were stored");

    /* The recipient drains what is stored; the rest then fits, and nothing was lost. */
    r = pc_connect(e.relay.port, r_id, NULL, 0);
    CHECK(r != NULL);
    {
        int64_t deadline = mono_ms() + 30000;
        size_t delivered = 0;
        while (delivered < N) {
            Parley__Frame *f;
            CHECKM(mono_ms() < deadline, "%zu of %d delivered, %zu acknowledged", delivered, N,
                   batch_count(&b, ACKED));
            while ((f = pc_recv(r, 200)) != NULL) {
                CHECK(f->kind_case == PARLEY__FRAME__KIND_DELIVER);
                CHECK(pc_send_delivered(r, (const uint8_t(*)[16])f->deliver->envelope_id.data, 1) ==
                      0);
                parley__frame__free_unpacked(f, NULL);
                delivered++;
            }
            CHECK(wsc_last_result(r) == WSC_TIMEOUT);
            if (batch_count(&b, ACKED) < N)
                batch_send(c, &b, sealed, SIZE); /* the refused ones, again */
        }
    }
    CHECK(stored(&e) == N);
    wsc_free(c);
    wsc_free(r);
    batch_free(&b);
    free(sealed);
    parley_identity_free(id);
    parley_identity_free(r_id);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"sender_quota", test_sender_quota},
        {"sender_budget_refills", test_sender_budget_refills},
        {"pair_quota", test_pair_quota},
        {"db_size_limit", test_db_size_limit},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
