/*
 * Brand orders at agents' clients: an erasure order for a customer key
 * empties every conversation the agent holds with that customer (history,
 * consent receipt, seen envelope ids) and each agent answers with a
 * receipt signed by its own key that verifies against the brand; an
 * export order hands the application the customer's export; an order for
 * a customer nobody knows still gets a receipt, with zero counts; where
 * the brand keeps conversations on erasure they are kept and the receipt
 * says so. An order handed over again gets the same receipt and is not
 * carried out twice; forged, foreign and expired orders change nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "world.h"

/* CHECK, saying more when it fails. */
#define CHECKM(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fprintf(stderr, __VA_ARGS__), fputc('\n', stderr);                                    \
        CHECK(cond);                                                                               \
    } while (0)

static struct world w;

struct needle {
    struct mr_party *p;
    const char *text;
    int found;
};

static int look(void *arg, const char *table, const uint8_t *key, size_t key_len,
                const uint8_t *val, size_t val_len)
{
    struct needle *nd = arg;
    uint8_t *plain = NULL;
    size_t plain_len = 0;

    (void)val;
    (void)val_len;
    if (parley__vault_get(nd->p->vault, table, key, key_len, &plain, &plain_len) != PARLEY_OK)
        return 0; /* the store's own marks: not sealed */
    nd->found += memmem(plain, plain_len, nd->text, strlen(nd->text)) != NULL;
    parley_free(plain, plain_len);
    return 0;
}

/* Rows of p's store (decrypted) holding text. */
static int rows_holding(struct mr_party *p, const char *text)
{
    struct needle nd = {p, text, 0};

    memstore_each(p->ms, look, &nd);
    return nd.found;
}

static void order_for(const parley_identity *signer, const char *brand_id,
                      parley_order_kind kind, const uint8_t customer[32], uint64_t issued,
                      uint64_t expires, uint8_t **out, size_t *len, uint8_t id[16])
{
    parley_order_info info;

    CHECK_OK(parley_order_build(signer, brand_id, kind, customer, issued, expires, out, len));
    CHECK_OK(parley_order_verify(*out, *len, NULL, NULL, 0, &info));
    memcpy(id, info.order_id, 16);
}

/* The receipt agent p gave for the order: verified against the brand; its fields. */
static parley_order_receipt_info receipt_of(const struct scene *s, const struct mr_party *p,
                                            const uint8_t id[16])
{
    const struct mr_buf *b = mr_receipt_of(&s->relay, id, p->sign_pk);
    parley_order_receipt_info ri;

    CHECKM(b != NULL, "%s gave no receipt", p->name);
    CHECK_OK(parley_order_receipt_verify(b->p, b->n, parley_identity_sign_pk(w.brand), W_BRAND,
                                         &ri));
    CHECK(memcmp(ri.order_id, id, 16) == 0);
    CHECK(memcmp(ri.agent.sign_pk, p->sign_pk, 32) == 0);
    return ri;
}

static void test_erase_order(void)
{
    struct scene s;
    uint8_t *order, id[16], stranger[32];
    size_t len;
    uint64_t now;
    parley_order_receipt_info ri;
    const struct mr_event *e;
    int mark;

    scene_init(&s, &w);
    scene_open(&s, "bonjour, ma carte 4970 1010 est bloquee");
    scene_claim(&s);
    scene_say(&s, &s.customer, "merci, commande 8841");
    scene_say(&s, &s.alice, "je regarde la commande");
    CHECK(rows_holding(&s.alice, "commande 8841") >= 1);
    CHECK(rows_holding(&s.bob, "ma carte 4970") >= 1);
    now = s.relay.now / 1000u;
    mark = s.alice.n_events;
    order_for(w.brand, W_BRAND, PARLEY_ORDER_ERASE, s.customer.sign_pk, now, now + 86400, &order,
              &len, id);
    CHECK(mr_submit_order(&s.relay, order, len) == 0);
    mr_pump(&s.relay);

    /* Both agents carried it out and answered with a receipt the brand can check. */
    CHECK(mr_receipt_count(&s.relay, id) == 2);
    ri = receipt_of(&s, &s.alice, id);
    CHECK(ri.outcome == PARLEY_ORDER_DONE && ri.conversations == 1);
    CHECKM(ri.messages == 3, "alice erased %llu messages", (unsigned long long)ri.messages);
    CHECK(strcmp(ri.agent.agent_id, "alice") == 0);
    {
        /* What goes to the relay names the agent by id and key, never by display name. */
        const struct mr_buf *b = mr_receipt_of(&s.relay, id, s.alice.sign_pk);
        CHECK(memmem(b->p, b->n, "Alice Martin", 12) == NULL);
    }
    ri = receipt_of(&s, &s.bob, id);
    CHECK(ri.outcome == PARLEY_ORDER_DONE && ri.conversations == 1 && ri.messages == 1);
    CHECK(rows_holding(&s.alice, "commande 8841") == 0);
    CHECK(rows_holding(&s.alice, "ma carte 4970") == 0);
    CHECK(rows_holding(&s.bob, "ma carte 4970") == 0);
    CHECK(memstore_rows(s.alice.ms, "history") == 0 && memstore_rows(s.bob.ms, "history") == 0);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_CLOSED));
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_ORDER) == 1);
    e = mr_last(&s.alice, PARLEY_EV_ORDER);
    CHECK(e->ev.error == PARLEY_OK && e->ev.order_kind == PARLEY_ORDER_ERASE &&
          e->ev.order_conversations == 1 && memcmp(e->ev.order_id, id, 16) == 0 &&
          memcmp(e->ev.sender_sign_pk, s.customer.sign_pk, 32) == 0);

    /* Handed over again (a relay that lost the receipt): the same receipt, nothing redone. */
    {
        const struct mr_buf *before = mr_receipt_of(&s.relay, id, s.alice.sign_pk);
        uint8_t *copy = malloc(before->n);
        size_t copy_len = before->n;

        CHECK(copy != NULL);
        memcpy(copy, before->p, copy_len);
        mark = s.alice.n_events;
        mr_push_order(&s.alice, order, len);
        mr_pump(&s.relay);
        CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_ORDER) == 0);
        before = mr_receipt_of(&s.relay, id, s.alice.sign_pk);
        CHECK(before->n == copy_len && memcmp(before->p, copy, copy_len) == 0);
        free(copy);
    }
    /* A reconnection: the relay hands over no order alice answered. */
    mark = mr_reboot(&s.alice);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_ORDER) == 0);
    parley_free(order, len);

    /* A customer nobody here knows: a receipt all the same, with zero counts. */
    randombytes_buf(stranger, sizeof(stranger));
    order_for(w.brand, W_BRAND, PARLEY_ORDER_ERASE, stranger, now, now + 86400, &order, &len, id);
    CHECK(mr_submit_order(&s.relay, order, len) == 0);
    mr_pump(&s.relay);
    ri = receipt_of(&s, &s.bob, id);
    CHECK(ri.outcome == PARLEY_ORDER_DONE && ri.conversations == 0 && ri.messages == 0);
    ri = receipt_of(&s, &s.alice, id);
    CHECK(ri.conversations == 0 && ri.messages == 0);
    parley_free(order, len);
    scene_free(&s);
}

static void test_export_order(void)
{
    struct scene s;
    uint8_t *order, id[16];
    char hex[65];
    size_t len;
    uint64_t now;
    parley_order_receipt_info ri;
    const struct mr_event *e;

    scene_init(&s, &w);
    scene_open(&s, "ou en est ma livraison");
    scene_claim(&s);
    scene_say(&s, &s.alice, "elle part demain");
    now = s.relay.now / 1000u;
    order_for(w.brand, W_BRAND, PARLEY_ORDER_EXPORT, s.customer.sign_pk, now, now + 86400,
              &order, &len, id);
    CHECK(mr_submit_order(&s.relay, order, len) == 0);
    mr_pump(&s.relay);
    ri = receipt_of(&s, &s.alice, id);
    CHECK(ri.outcome == PARLEY_ORDER_DONE && ri.conversations == 1 && ri.messages == 2);
    e = mr_last(&s.alice, PARLEY_EV_ORDER);
    CHECK(e != NULL && e->ev.error == PARLEY_OK && e->ev.order_kind == PARLEY_ORDER_EXPORT);
    sodium_bin2hex(hex, sizeof(hex), s.customer.sign_pk, 32);
    CHECKM(strstr(e->text, "\"customer_sign_key\":\"") != NULL && strstr(e->text, hex) != NULL,
           "the export names another customer: %s", e->text);
    CHECK(e->ev.text_len > strlen(e->text) - 1); /* the whole export, longer than a test line */
    /* An export erases nothing. */
    CHECK(rows_holding(&s.alice, "elle part demain") >= 1);
    parley_free(order, len);
    scene_free(&s);
}

/* A directory whose brand keeps conversations on erasure: kept, marked, and the receipt says so. */
static void test_kept_by_policy(void)
{
    struct scene s;
    parley_directory_spec policy;
    uint8_t *dir, *order, id[16];
    size_t dir_len, len;
    uint64_t now;
    parley_order_receipt_info ri;

    memset(&policy, 0, sizeof(policy));
    policy.keep_on_erasure = 1;
    policy.legal_hold_days = 30;
    world_directory_policy(&w, 3, &policy, &dir, &dir_len);
    scene_init(&s, &w);
    scene_open(&s, "facture 5512 contestee");
    scene_claim(&s);
    scene_serve_directory(&s, &s.alice, dir, dir_len);
    now = s.relay.now / 1000u;
    order_for(w.brand, W_BRAND, PARLEY_ORDER_ERASE, s.customer.sign_pk, now, now + 86400, &order,
              &len, id);
    CHECK(mr_submit_order(&s.relay, order, len) == 0);
    mr_pump(&s.relay);
    ri = receipt_of(&s, &s.alice, id);
    CHECK(ri.outcome == PARLEY_ORDER_KEPT && ri.conversations == 1 && ri.messages == 1);
    CHECK(rows_holding(&s.alice, "facture 5512") >= 1);
    ri = receipt_of(&s, &s.bob, id); /* bob still holds directory v2: no hold */
    CHECK(ri.outcome == PARLEY_ORDER_DONE);
    CHECK(rows_holding(&s.bob, "facture 5512") == 0);
    parley_free(order, len);
    parley_free(dir, dir_len);
    scene_free(&s);
}

/* Forged, foreign and expired orders handed to an agent: rejected, nothing done, no receipt. */
static void test_hostile_orders(void)
{
    struct scene s;
    uint8_t *order, id[16];
    size_t len;
    uint64_t now;
    int mark;
    struct {
        const parley_identity *signer;
        const char *brand;
        int64_t from, to;
        parley_err want;
    } bad[] = {
        {NULL, W_BRAND, 0, 86400, PARLEY_EBADSIG},        /* another key signed acme's order */
        {NULL, "globex", 0, 86400, PARLEY_EWRONGBRAND},   /* acme's key, another brand's name */
        {NULL, W_BRAND, -7200, -3600, PARLEY_EEXPIRED},   /* expired an hour ago */
    };

    bad[0].signer = w.other_brand;
    bad[1].signer = w.brand;
    bad[2].signer = w.brand;
    scene_init(&s, &w);
    scene_open(&s, "numero client 77120");
    now = s.relay.now / 1000u;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        order_for(bad[i].signer, bad[i].brand, PARLEY_ORDER_ERASE, s.customer.sign_pk,
                  (uint64_t)((int64_t)now + bad[i].from), (uint64_t)((int64_t)now + bad[i].to),
                  &order, &len, id);
        mark = s.alice.n_events;
        mr_push_order(&s.alice, order, len);
        mr_pump(&s.relay);
        CHECKM(mr_rejected_since(&s.alice, mark, bad[i].want), "case %zu not rejected with %s", i,
               parley_strerror(bad[i].want));
        CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_ORDER) == 0);
        CHECK(mr_receipt_count(&s.relay, id) == 0);
        parley_free(order, len);
    }
    /* Garbage in the order frame: rejected, the session goes on. */
    {
        uint8_t junk[64];
        Parley__BrandOrder o = PARLEY__BRAND_ORDER__INIT;
        uint8_t *buf;
        size_t n;

        randombytes_buf(junk, sizeof(junk));
        o.body = (ProtobufCBinaryData){sizeof(junk), junk};
        o.signature = (ProtobufCBinaryData){10, junk}; /* not a signature's length */
        CHECK_OK(parley__pack(&o.base, &buf, &n));
        mark = s.alice.n_events;
        mr_push_order(&s.alice, buf, n);
        mr_pump(&s.relay);
        CHECK(mr_rejected_since(&s.alice, mark, PARLEY_EMALFORMED));
        free(buf);
    }
    CHECK(rows_holding(&s.alice, "numero client 77120") >= 1);
    scene_free(&s);
}

int main(void)
{
    CHECK_OK(parley_init());
    world_init(&w);
    test_erase_order();
    test_export_order();
    test_kept_by_policy();
    test_hostile_orders();
    world_free(&w);
    printf("ok\n");
    return 0;
}
