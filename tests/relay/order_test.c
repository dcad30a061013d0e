/*
 * Brand orders at the relay: a valid erasure order deletes what the relay
 * holds to and from the customer, is recorded in the audit log, goes to
 * every agent of the brand (online now or connecting later) until that
 * agent's receipt is stored, and its receipts can be read back; forged,
 * foreign, expired and replayed orders are each refused with their own
 * code, and so are receipts that are not the sending agent's own; an
 * order and its receipts go a ttl after it expired. On either store
 * (tests/cluster runs it on NATS too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "ordertk.h"

struct order_env {
    struct tk_env e;
    struct tk_brand b;
    char audit[320];
    parley_identity *alice, *bob;
    uint8_t *alice_cert, *bob_cert;
    size_t alice_len, bob_len;
};

/* The relay with these settings too (NULL-terminated; NULL: none). */
static void start_with(struct order_env *oe, const char *tag, const char *const *more)
{
    uint64_t now = tk_now();
    const char *args[16] = {"--brand", NULL, "--audit-log", oe->audit};
    size_t n = 4;

    tk_env_init(&oe->e, tag);
    tk_brand_make(&oe->b, "acme", oe->e.dir);
    snprintf(oe->audit, sizeof(oe->audit), "%s/relay.audit", oe->e.dir);
    args[1] = oe->b.pin_path;
    for (size_t i = 0; more != NULL && more[i] != NULL && n < 15; i++)
        args[n++] = more[i];
    args[n] = NULL;
    tk_env_start(&oe->e, args);
    oe->alice = tk_identity();
    oe->bob = tk_identity();
    tk_cert(oe->b.key, "acme", oe->alice, "alice", "Alice", 1, now - 60, now + 3600,
            &oe->alice_cert, &oe->alice_len);
    tk_cert(oe->b.key, "acme", oe->bob, "bob", "Bob", 2, now - 60, now + 3600, &oe->bob_cert,
            &oe->bob_len);
}

static void start(struct order_env *oe, const char *tag)
{
    start_with(oe, tag, NULL);
}

static void finish(struct order_env *oe)
{
    free(oe->alice_cert);
    free(oe->bob_cert);
    parley_identity_free(oe->alice);
    parley_identity_free(oe->bob);
    tk_brand_free(&oe->b);
    tk_env_end(&oe->e);
}

static wsc *agent_connect(const struct order_env *oe, const parley_identity *id,
                          const uint8_t *cert, size_t len)
{
    return tko_agent(oe->e.relay.port, id, cert, len, NULL);
}

/* Waits until the audit log holds needle (entries reach the file after their commit). */
static bool audit_has(const char *path, const char *needle, char *copy, size_t cap)
{
    for (int i = 0; i < 100; i++) {
        FILE *fp = fopen(path, "r");
        size_t n = 0;

        if (fp != NULL) {
            n = fread(copy, 1, cap - 1, fp);
            fclose(fp);
        }
        copy[n] = '\0';
        if (strstr(copy, needle) != NULL)
            return true;
        usleep(50 * 1000);
    }
    return false;
}

static void test_order_erase(void)
{
    struct order_env oe;
    parley_identity *cust = tk_identity(), *sender = tk_identity(), *admin = tk_identity();
    uint8_t cust_routing[32], sealed[128], *order, eid[16], conv[16], to[32];
    char hex[65], *audit = malloc(1 << 20);
    size_t order_len;
    uint64_t now = tk_now();
    parley_order_info info;
    wsc *alice, *c, *s, *sub;

    CHECK(audit != NULL);
    start(&oe, "order-erase");
    tk_routing(cust, cust_routing);
    tk_random(sealed, sizeof(sealed));
    alice = agent_connect(&oe, oe.alice, oe.alice_cert, oe.alice_len);
    /* Three envelopes to the customer, two from it; one between others that stays. */
    s = pc_connect(oe.e.relay.port, sender, NULL, 0);
    CHECK(s != NULL);
    tk_send_many(s, 3, NULL, cust_routing, sealed, sizeof(sealed));
    c = pc_connect(oe.e.relay.port, cust, NULL, 0);
    CHECK(c != NULL);
    for (int i = 0; i < 3; i++) {
        Parley__Frame *f = tk_expect_kind(c, PARLEY__FRAME__KIND_DELIVER, 5000, "to customer");
        parley__frame__free_unpacked(f, NULL);
    }
    tk_send_many(c, 2, NULL, NULL, sealed, sizeof(sealed));
    tk_random(eid, 16);
    tk_random(conv, 16);
    tk_random(to, 32);
    tk_send_acked(s, eid, to, sealed, sizeof(sealed));
    wsc_free(c); /* never acknowledged: the relay still holds the three */
    CHECKM(tk_stored_until(&oe.e.relay, 6, sizeof(sealed), 0), "not the six envelopes stored");

    /* Anyone may hand in the order: here a connection with a key of its own. */
    tko_make(oe.b.key, "acme", PARLEY_ORDER_ERASE, cust, now - 10, now + 86400, &order,
               &order_len);
    CHECK(parley_order_verify(order, order_len, parley_identity_sign_pk(oe.b.key), "acme", now,
                              &info) == PARLEY_OK);
    sub = pc_connect(oe.e.relay.port, admin, NULL, 0);
    CHECK(sub != NULL);
    tko_send(sub, PARLEY__FRAME__KIND_ORDER_SUBMIT, order, order_len);
    tko_expect_stored(sub, info.order_id, "the order");
    tko_expect_order(alice, info.order_id, "the order, to the agent online");
    CHECKM(tk_stored_until(&oe.e.relay, 1, sizeof(sealed), 5000),
           "the customer's envelopes are still stored");

    /* The same order again is a replay, refused with its own code. */
    tko_send(sub, PARLEY__FRAME__KIND_ORDER_SUBMIT, order, order_len);
    tko_expect_code(sub, PARLEY__ERROR__CODE__REPLAYED, "a replayed order");
    tk_expect_nothing(alice, 300, "a replay handed to agents");

    /* The audit log: the order's entry and the erasure's, without the customer's key. */
    sodium_bin2hex(hex, sizeof(hex), info.order_id, 16);
    CHECKM(audit_has(oe.audit, hex, audit, 1 << 20), "no audit entry names the order");
    CHECK(audit_has(oe.audit, "\"event\":\"order\"", audit, 1 << 20));
    CHECK(audit_has(oe.audit, "\"event\":\"erased\"", audit, 1 << 20));
    sodium_bin2hex(hex, sizeof(hex), parley_identity_sign_pk(cust), 32);
    CHECKM(strstr(audit, hex) == NULL, "the customer's key is in the audit log");
    /* Erased: the customer, back, is handed none of the three it never acknowledged. */
    c = pc_connect(oe.e.relay.port, cust, NULL, 0);
    CHECK(c != NULL);
    tk_expect_nothing(c, 500, "an envelope to the customer after the erasure order");
    wsc_free(c);
    parley_free(order, order_len);
    wsc_free(alice);
    wsc_free(s);
    wsc_free(sub);
    parley_identity_free(cust);
    parley_identity_free(sender);
    parley_identity_free(admin);
    free(audit);
    finish(&oe);
}

static void test_order_refused(void)
{
    struct order_env oe;
    struct tk_brand other;
    parley_identity *cust = tk_identity(), *admin = tk_identity(), *forger = tk_identity();
    uint64_t now = tk_now();
    uint8_t *order;
    size_t len;
    wsc *sub, *alice;

    start(&oe, "order-refused");
    tk_brand_make(&other, "globex", oe.e.dir);
    alice = agent_connect(&oe, oe.alice, oe.alice_cert, oe.alice_len);
    sub = pc_connect(oe.e.relay.port, admin, NULL, 0);
    CHECK(sub != NULL);
    /* Forged: acme's name, another key's signature. */
    tko_make(forger, "acme", PARLEY_ORDER_ERASE, cust, now, now + 3600, &order, &len);
    tko_send(sub, PARLEY__FRAME__KIND_ORDER_SUBMIT, order, len);
    tko_expect_code(sub, PARLEY__ERROR__CODE__BAD_SIGNATURE, "a forged order");
    parley_free(order, len);
    /* Another brand's, properly signed by it. */
    tko_make(other.key, "globex", PARLEY_ORDER_ERASE, cust, now, now + 3600, &order, &len);
    tko_send(sub, PARLEY__FRAME__KIND_ORDER_SUBMIT, order, len);
    tko_expect_code(sub, PARLEY__ERROR__CODE__UNKNOWN_BRAND, "another brand's order");
    parley_free(order, len);
    /* Expired, and not yet valid. */
    tko_make(oe.b.key, "acme", PARLEY_ORDER_EXPORT, cust, now - 7200, now - 3600, &order, &len);
    tko_send(sub, PARLEY__FRAME__KIND_ORDER_SUBMIT, order, len);
    tko_expect_code(sub, PARLEY__ERROR__CODE__EXPIRED, "an expired order");
    parley_free(order, len);
    tko_make(oe.b.key, "acme", PARLEY_ORDER_EXPORT, cust, now + 7200, now + 9000, &order, &len);
    tko_send(sub, PARLEY__FRAME__KIND_ORDER_SUBMIT, order, len);
    tko_expect_code(sub, PARLEY__ERROR__CODE__EXPIRED, "an order from the future");
    parley_free(order, len);
    /* Not an order at all. */
    {
        Parley__Frame f = PARLEY__FRAME__INIT;
        Parley__BrandOrder o = PARLEY__BRAND_ORDER__INIT;
        uint8_t junk[40];
        tk_random(junk, sizeof(junk));
        o.body = (ProtobufCBinaryData){sizeof(junk), junk};
        f.kind_case = PARLEY__FRAME__KIND_ORDER_SUBMIT;
        f.order_submit = &o;
        CHECK(pc_send(sub, &f) == 0);
        tko_expect_code(sub, PARLEY__ERROR__CODE__MALFORMED, "a malformed order");
    }
    tk_expect_nothing(alice, 300, "a refused order handed to an agent");
    CHECK(tk_rejects(&oe.e.relay, "bad_signature", 1) >= 1);
    CHECK(tk_rejects(&oe.e.relay, "expired", 2) >= 2);
    tk_roundtrip(sub, admin); /* the connection still served */
    wsc_free(sub);
    wsc_free(alice);
    tk_brand_free(&other);
    parley_identity_free(cust);
    parley_identity_free(admin);
    parley_identity_free(forger);
    finish(&oe);
}

/* Reads the receipts of the order back: how many there are, the first verified. */
static uint32_t status_of(wsc *c, const uint8_t *order, size_t len, const struct order_env *oe,
                          parley_order_receipt_info *first)
{
    size_t n = 0;
    uint32_t total = tko_status(c, order, len, 0, oe->b.key, "acme", first, &n);

    CHECK(n == total);
    return total;
}

static void test_order_receipts(void)
{
    struct order_env oe;
    parley_identity *cust = tk_identity(), *admin = tk_identity();
    parley_order_receipt_info got;
    parley_order_info info;
    uint8_t *order, unknown[16];
    size_t len;
    uint64_t now = tk_now();
    wsc *sub, *alice, *bob;

    start(&oe, "order-receipts");
    tko_make(oe.b.key, "acme", PARLEY_ORDER_EXPORT, cust, now, now + 3600, &order, &len);
    CHECK(parley_order_verify(order, len, parley_identity_sign_pk(oe.b.key), NULL, 0, &info) ==
          PARLEY_OK);
    sub = pc_connect(oe.e.relay.port, admin, NULL, 0);
    CHECK(sub != NULL);
    tko_send(sub, PARLEY__FRAME__KIND_ORDER_SUBMIT, order, len);
    tko_expect_stored(sub, info.order_id, "the export order");
    CHECK(status_of(sub, order, len, &oe, &got) == 0);

    /* Agents connecting later are handed it. */
    alice = agent_connect(&oe, oe.alice, oe.alice_cert, oe.alice_len);
    tko_expect_order(alice, info.order_id, "the order, at alice's connection");
    bob = agent_connect(&oe, oe.bob, oe.bob_cert, oe.bob_len);
    tko_expect_order(bob, info.order_id, "the order, at bob's connection");

    /* Not alice's own receipt; a customer's; an order the relay does not hold. */
    tko_send_receipt(alice, oe.bob, oe.bob_cert, oe.bob_len, info.order_id, 1);
    tko_expect_code(alice, PARLEY__ERROR__CODE__BAD_SIGNATURE, "bob's receipt on alice's connection");
    tko_send_receipt(sub, oe.alice, oe.alice_cert, oe.alice_len, info.order_id, 1);
    tko_expect_code(sub, PARLEY__ERROR__CODE__NOT_ALLOWED, "a receipt from a customer connection");
    tk_random(unknown, sizeof(unknown));
    tko_send_receipt(alice, oe.alice, oe.alice_cert, oe.alice_len, unknown, 1);
    tko_expect_code(alice, PARLEY__ERROR__CODE__UNKNOWN_ORDER, "a receipt for no order");

    /* A receipt whose certificate names alice in clear: the name would be stored. */
    tko_send_named_receipt(alice, oe.alice, oe.alice_cert, oe.alice_len, info.order_id);
    tko_expect_code(alice, PARLEY__ERROR__CODE__NOT_ALLOWED, "a receipt naming its agent");
    CHECK(status_of(sub, order, len, &oe, &got) == 0);

    /* Alice answers: stored, read back, verified; alice is not handed it again. */
    tko_send_receipt(alice, oe.alice, oe.alice_cert, oe.alice_len, info.order_id, 7);
    tko_expect_stored(alice, info.order_id, "alice's receipt");
    CHECK(status_of(sub, order, len, &oe, &got) == 1);
    CHECK(strcmp(got.agent.agent_id, "alice") == 0 && got.messages == 7 &&
          memcmp(got.order_id, info.order_id, 16) == 0);
    wsc_free(alice);
    wsc_free(bob);
    alice = agent_connect(&oe, oe.alice, oe.alice_cert, oe.alice_len);
    tk_expect_nothing(alice, 300, "an order handed again to the agent who answered it");
    bob = agent_connect(&oe, oe.bob, oe.bob_cert, oe.bob_len);
    tko_expect_order(bob, info.order_id, "the order, again to bob who did not answer");
    tko_send_receipt(bob, oe.bob, oe.bob_cert, oe.bob_len, info.order_id, 0);
    tko_expect_stored(bob, info.order_id, "bob's receipt");
    CHECK(status_of(sub, order, len, &oe, &got) == 2);
    CHECK(strcmp(got.agent.agent_id, "alice") == 0);
    /* Alice answers again: her receipt is replaced, in its place; paging goes on from skip. */
    tko_send_receipt(alice, oe.alice, oe.alice_cert, oe.alice_len, info.order_id, 9);
    tko_expect_stored(alice, info.order_id, "alice's second receipt");
    CHECK(status_of(sub, order, len, &oe, &got) == 2);
    CHECK(strcmp(got.agent.agent_id, "alice") == 0 && got.messages == 9);
    {
        size_t n = 0;
        CHECK(tko_status(sub, order, len, 1, oe.b.key, "acme", &got, &n) == 2 && n == 1);
        CHECK(strcmp(got.agent.agent_id, "bob") == 0);
        CHECK(tko_status(sub, order, len, 2, oe.b.key, "acme", &got, &n) == 2 && n == 0);
    }
    parley_free(order, len);
    wsc_free(sub);
    wsc_free(alice);
    wsc_free(bob);
    parley_identity_free(cust);
    parley_identity_free(admin);
    finish(&oe);
}

/*
 * An order and its receipts go a ttl after the order expired: its status
 * is then refused as an order the relay does not hold, and an agent
 * connecting is not handed it once it expired.
 */
static void test_order_expiry(void)
{
    static const char *const more[] = {"--ttl", "1", "--expiry-interval", "1", NULL};
    struct order_env oe;
    parley_identity *cust = tk_identity(), *admin = tk_identity();
    parley_order_info info;
    uint8_t *order;
    size_t len;
    uint64_t now = tk_now();
    bool gone = false;
    wsc *sub, *alice, *bob;

    start_with(&oe, "order-expiry", more);
    tko_make(oe.b.key, "acme", PARLEY_ORDER_EXPORT, cust, now - 10, now + 2, &order, &len);
    CHECK(parley_order_verify(order, len, NULL, NULL, 0, &info) == PARLEY_OK);
    sub = pc_connect(oe.e.relay.port, admin, NULL, 0);
    CHECK(sub != NULL);
    tko_send(sub, PARLEY__FRAME__KIND_ORDER_SUBMIT, order, len);
    tko_expect_stored(sub, info.order_id, "the order");
    alice = agent_connect(&oe, oe.alice, oe.alice_cert, oe.alice_len);
    tko_expect_order(alice, info.order_id, "the order, before it expired");
    tko_send_receipt(alice, oe.alice, oe.alice_cert, oe.alice_len, info.order_id, 1);
    tko_expect_stored(alice, info.order_id, "alice's receipt");
    /* Expired (and a ttl past it): swept within a few sweeps. */
    for (int i = 0; i < 200 && !gone; i++) {
        Parley__Frame *f;

        usleep(100 * 1000);
        tko_send(sub, PARLEY__FRAME__KIND_ORDER_STATUS_FETCH, order, len);
        f = pc_recv(sub, 5000);
        CHECKM(f != NULL, "no answer to a status request");
        gone = f->kind_case == PARLEY__FRAME__KIND_ERROR &&
               f->error->code == PARLEY__ERROR__CODE__UNKNOWN_ORDER;
        CHECKM(gone || f->kind_case == PARLEY__FRAME__KIND_ORDER_STATUS, "an unexpected answer");
        parley__frame__free_unpacked(f, NULL);
    }
    CHECKM(gone, "the order is still held 20 s after it expired");
    bob = agent_connect(&oe, oe.bob, oe.bob_cert, oe.bob_len);
    tk_expect_nothing(bob, 300, "an expired order handed to an agent");
    parley_free(order, len);
    wsc_free(sub);
    wsc_free(alice);
    wsc_free(bob);
    parley_identity_free(cust);
    parley_identity_free(admin);
    finish(&oe);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"order_erase", test_order_erase},
        {"order_refused", test_order_refused},
        {"order_receipts", test_order_receipts},
        {"order_expiry", test_order_expiry},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
