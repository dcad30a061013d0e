/*
 * Erasure requests: a large erasure runs in steps between other commits
 * instead of holding up everyone's, a customer has one erasure in flight
 * at a time, everything it covers is gone once it answers, and it covers
 * only conversations bound to the key that signed it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testkit.h"

#define CONVS       1500 /* with their salts, as much as one frame of the default max-frame holds */
#define TO_AND_FROM 50

struct customer {
    parley_identity *id;
    uint8_t routing[32];
    uint8_t (*convs)[16];
    uint8_t (*salts)[16];
};

/* A customer with n conversations whose ids are bound to its key. */
static void customer_make(struct customer *c, size_t n)
{
    c->id = tk_identity();
    tk_routing(c->id, c->routing);
    c->convs = calloc(n, 16);
    c->salts = calloc(n, 16);
    CHECK(c->convs != NULL && c->salts != NULL);
    for (size_t i = 0; i < n; i++) {
        tk_random(c->salts[i], 16);
        parley_conversation_id(parley_identity_sign_pk(c->id), c->salts[i], c->convs[i]);
    }
}

static void customer_free(struct customer *c)
{
    parley_identity_free(c->id);
    free(c->convs);
    free(c->salts);
}

static void test_erasure_chunks(void)
{
    struct tk_env e;
    const char *args[] = {"--rate", "100000", "--burst", "100000", NULL};
    struct customer cust, other;
    parley_identity *agent = tk_identity(), *reader = tk_identity();
    uint8_t sealed[512], to_reader[32], eid[16], conv[16], to[32];
    bool acked = false, limited = false;
    uint32_t erased = 0;
    wsc *a, *c, *r;

    tk_random(sealed, sizeof(sealed));
    tk_routing(reader, to_reader);
    customer_make(&cust, CONVS);
    customer_make(&other, TO_AND_FROM); /* a conversation of its own for each envelope */
    tk_env_init(&e, "erasurechunks");
    tk_env_start(&e, args);

    /* Others' envelopes in the customer's conversations, and to it; some of its own. */
    a = pc_connect(e.relay.port, agent, NULL, 0);
    CHECK(a != NULL);
    tk_send_many(a, CONVS, (const uint8_t(*)[16])cust.convs, NULL, sealed, sizeof(sealed));
    tk_send_many(a, TO_AND_FROM, NULL, cust.routing, sealed, sizeof(sealed));
    /* What the erasure must leave alone: someone else's conversation, for someone else. */
    tk_send_many(a, TO_AND_FROM, (const uint8_t(*)[16])other.convs, to_reader, sealed,
                 sizeof(sealed));
    c = pc_connect(e.relay.port, cust.id, NULL, 0);
    CHECK(c != NULL);
    tk_send_many(c, TO_AND_FROM, NULL, NULL, sealed, sizeof(sealed));

    /*
     * The request, then at once an envelope and a second request on the same
     * connection: the envelope's commit does not wait for the erasure, and
     * the second request is refused while the first runs.
     */
    CHECK(pc_send_erase(c, cust.id, (const uint8_t(*)[16])cust.convs,
                        (const uint8_t(*)[16])cust.salts, CONVS) == 0);
    tk_random(eid, 16);
    tk_random(conv, 16);
    tk_random(to, 32);
    CHECK(pc_send_envelope(c, eid, conv, to, sealed, sizeof(sealed)) == 0);
    CHECK(pc_send_erase(c, cust.id, (const uint8_t(*)[16])cust.convs,
                        (const uint8_t(*)[16])cust.salts, CONVS) == 0);
    while (erased == 0) {
        Parley__Frame *f = pc_recv(c, 30000);
        CHECKM(f != NULL, "no answer to the erasure request");
        switch (f->kind_case) {
        case PARLEY__FRAME__KIND_DELIVER:
            break; /* what was stored for the customer, before the erasure took it */
        case PARLEY__FRAME__KIND_ACK:
            acked = true;
            break;
        case PARLEY__FRAME__KIND_ERROR:
            CHECKM(f->error->code == PARLEY__ERROR__CODE__RATE_LIMITED, "the second request got %s",
                   tk_error_name(f->error->code));
            limited = true;
            break;
        case PARLEY__FRAME__KIND_ERASED:
            CHECKM(acked, "the erasure held up an envelope sent after it until it was done");
            CHECKM(limited, "a second erasure was accepted while the first was in flight");
            erased = f->erased->envelopes;
            break;
        default:
            CHECKM(false, "unexpected frame %d", (int)f->kind_case);
        }
        parley__frame__free_unpacked(f, NULL);
    }
    CHECKM(erased == CONVS + 2 * TO_AND_FROM, "erased %u envelopes, not %d", erased,
           CONVS + 2 * TO_AND_FROM);
    tk_expect_nothing(c, 300, "one answer to the erasure");

    /* What it did not cover is all there: the reader's, and what the customer sent after. */
    r = pc_connect(e.relay.port, reader, NULL, 0);
    CHECK(r != NULL);
    for (int i = 0; i < TO_AND_FROM; i++) {
        Parley__Frame *f = tk_expect_kind(r, PARLEY__FRAME__KIND_DELIVER, 5000, "kept envelope");
        parley__frame__free_unpacked(f, NULL);
    }
    tk_expect_nothing(r, 200, "nothing else for the reader");
    CHECKM(tk_stored_until(&e.relay, TO_AND_FROM + 1, sizeof(sealed), 0),
           "not what the erasure did not cover stored after it");
    CHECK(tk_rejects(&e.relay, "rate_limited", 1) >= 1);
    wsc_free(a);
    wsc_free(c);
    wsc_free(r);
    parley_identity_free(agent);
    parley_identity_free(reader);
    customer_free(&cust);
    customer_free(&other);
    tk_env_end(&e);
}

/* The next frame is an error with code; the connection stays open. */
static void expect_refused(wsc *c, Parley__Error__Code code, const char *what)
{
    Parley__Frame *f;

    while ((f = pc_recv(c, 5000)) != NULL && f->kind_case == PARLEY__FRAME__KIND_DELIVER)
        parley__frame__free_unpacked(f, NULL); /* what is stored for it */
    CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_ERROR && f->error->code == code,
           "%s: expected %s", what, tk_error_name(code));
    parley__frame__free_unpacked(f, NULL);
}

/*
 * Conversation ids are bound to the customer's key: nobody can erase a
 * conversation by naming its id, not even someone who learnt it (another
 * customer, an agent of the queue), and a customer cannot name another's.
 */
static void test_erasure_binding(void)
{
    struct tk_env e;
    struct customer victim, thief;
    parley_identity *agent = tk_identity();
    uint8_t sealed[64], salt[16], to[32];
    Parley__Frame *f;
    wsc *a, *t, *v;

    tk_random(sealed, sizeof(sealed));
    customer_make(&victim, 2);
    customer_make(&thief, 1);
    tk_env_init(&e, "erasurebinding");
    tk_env_start(&e, NULL);
    a = pc_connect(e.relay.port, agent, NULL, 0);
    CHECK(a != NULL);
    tk_random(to, 32);
    tk_send_many(a, 2, (const uint8_t(*)[16])victim.convs, to, sealed, sizeof(sealed));
    t = pc_connect(e.relay.port, thief.id, NULL, 0);
    CHECK(t != NULL);

    /* The victim's conversation id with a salt of the thief's choosing. */
    tk_random(salt, 16);
    CHECK(pc_send_erase(t, thief.id, (const uint8_t(*)[16])victim.convs[0],
                        (const uint8_t(*)[16])salt, 1) == 0);
    expect_refused(t, PARLEY__ERROR__CODE__UNBOUND, "another customer's conversation");
    /* Even with the victim's own salt: the id is bound to the victim's key. */
    CHECK(pc_send_erase(t, thief.id, (const uint8_t(*)[16])victim.convs[0],
                        (const uint8_t(*)[16])victim.salts[0], 1) == 0);
    expect_refused(t, PARLEY__ERROR__CODE__UNBOUND, "another customer's conversation and salt");
    /* Ids without their salts cannot be checked. */
    CHECK(pc_send_erase(t, thief.id, (const uint8_t(*)[16])victim.convs, NULL, 2) == 0);
    expect_refused(t, PARLEY__ERROR__CODE__UNBOUND, "conversation ids without salts");
    /* One bad id among good ones refuses the whole request. */
    {
        uint8_t ids[2][16], salts[2][16];
        memcpy(ids[0], thief.convs[0], 16);
        memcpy(salts[0], thief.salts[0], 16);
        memcpy(ids[1], victim.convs[1], 16);
        memcpy(salts[1], victim.salts[1], 16);
        CHECK(pc_send_erase(t, thief.id, (const uint8_t(*)[16])ids, (const uint8_t(*)[16])salts,
                            2) == 0);
        expect_refused(t, PARLEY__ERROR__CODE__UNBOUND, "a request with one foreign id");
    }
    CHECK(tk_rejects(&e.relay, "unbound", 4) >= 4);
    CHECK(tk_stored_until(&e.relay, 2, sizeof(sealed), 0));

    /* Its own conversations, with their salts: the thief's request is carried out. */
    CHECK(pc_send_erase(t, thief.id, (const uint8_t(*)[16])thief.convs,
                        (const uint8_t(*)[16])thief.salts, 1) == 0);
    f = tk_expect_kind(t, PARLEY__FRAME__KIND_ERASED, 5000, "the thief's own erasure");
    CHECK(f->erased->envelopes == 0);
    parley__frame__free_unpacked(f, NULL);

    /* The victim's erasure of its own works, and takes both. */
    v = pc_connect(e.relay.port, victim.id, NULL, 0);
    CHECK(v != NULL);
    CHECK(pc_send_erase(v, victim.id, (const uint8_t(*)[16])victim.convs,
                        (const uint8_t(*)[16])victim.salts, 2) == 0);
    f = tk_expect_kind(v, PARLEY__FRAME__KIND_ERASED, 5000, "the victim's erasure");
    CHECKM(f->erased->envelopes == 2, "erased %u, not 2", f->erased->envelopes);
    parley__frame__free_unpacked(f, NULL);
    wsc_free(a);
    wsc_free(t);
    wsc_free(v);
    parley_identity_free(agent);
    customer_free(&victim);
    customer_free(&thief);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"erasure_chunks", test_erasure_chunks},
        {"erasure_binding", test_erasure_binding},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
