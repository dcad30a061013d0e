/*
 * Conversation ids bound to the customer (docs/protocol.md §4.6): the
 * customer derives each id from its key and a salt, its erasure request
 * lists every id with its salt, and an agent refuses an Open, a Handover
 * or an erasure request whose id the salt does not bind to the customer
 * key it claims (EUNBOUND). And a handed-over history is bounded at
 * decode like everything else: oversize is a refusal, never a cut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "handover.h"
#include "keyring.h"

static struct world w;

/* The erasure request the customer keeps until the relay confirms it. */
static Parley__ErasureRequestBody *stored_erasure(struct mr_party *p)
{
    Parley__ErasureRequest *r;
    Parley__ErasureRequestBody *b;
    uint8_t *val;
    size_t len;

    CHECK_OK(parley__vault_get(p->vault, "meta", (const uint8_t *)"erase", 5, &val, &len));
    r = parley__erasure_request__unpack(NULL, len, val);
    CHECK(r != NULL);
    CHECK_OK(parley__verify_pb(p->sign_pk, 32, PARLEY__DOMAIN_ERASURE, r->body, r->signature));
    b = parley__erasure_request_body__unpack(NULL, r->body.len, r->body.data);
    CHECK(b != NULL);
    parley__erasure_request__free_unpacked(r, NULL);
    parley_free(val, len);
    return b;
}

static void test_conversation_id_binding_customer(void)
{
    struct scene s;
    Parley__ErasureRequestBody *b;
    uint8_t second[16], id[16];
    bool first_listed = false, second_listed = false;

    printf("conversation_id_binding: ids come from the customer key and a salt; the erasure "
           "request lists each id with its salt\n");
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    CHECK_OK(parley__core_open(s.customer.core, "support", "Encore moi", second, s.relay.now));
    mr_pump(&s.relay);
    CHECK(memcmp(s.conv, second, 16) != 0);
    CHECK_OK(parley__core_erase(s.customer.core, s.relay.now));
    b = stored_erasure(&s.customer); /* kept until the relay confirms it */
    mr_pump(&s.relay);
    CHECK(mr_count(&s.customer, PARLEY_EV_ERASED) == 1); /* the relay took it as bound */
    CHECK(b->n_conversation_ids == 2 && b->n_conversation_salts == 2);
    for (size_t i = 0; i < b->n_conversation_ids; i++) {
        CHECK(parley__len_is(b->conversation_ids[i], 16));
        CHECK(parley__len_is(b->conversation_salts[i], 16));
        parley_conversation_id(s.customer.sign_pk, b->conversation_salts[i].data, id);
        CHECK(memcmp(id, b->conversation_ids[i].data, 16) == 0);
        /* Bound to this customer only. */
        parley_conversation_id(s.alice.sign_pk, b->conversation_salts[i].data, id);
        CHECK(memcmp(id, b->conversation_ids[i].data, 16) != 0);
        first_listed = first_listed || memcmp(b->conversation_ids[i].data, s.conv, 16) == 0;
        second_listed = second_listed || memcmp(b->conversation_ids[i].data, second, 16) == 0;
    }
    CHECK(first_listed && second_listed);
    parley__erasure_request_body__free_unpacked(b, NULL);
    scene_free(&s);
}

/* A consent receipt that holds, signed by cust for acme's current notice. */
static void consent_for(const parley_identity *cust, uint8_t **rc, size_t *len)
{
    struct forge_consent fc;

    memset(&fc, 0, sizeof(fc));
    fc.sign_sk = cust->secret->sign_sk;
    fc.customer_pk = parley_identity_sign_pk(cust);
    fc.brand_id = W_BRAND;
    fc.notice_version = 3;
    fc.notice_text = "Acme keeps this conversation to answer you.";
    forge_consent(&fc, rc, len);
}

/* An Open from cust to alice for conv carrying salt (may be NULL): refused with err, or taken. */
static void open_checked(struct scene *s, const parley_identity *cust, const uint8_t conv[16],
                         const uint8_t *salt, parley_err err)
{
    uint8_t *rc;
    size_t rc_len;
    int mark = s->alice.n_events;

    consent_for(cust, &rc, &rc_len);
    open_to_alice(s, &w, cust, conv, salt, rc, rc_len);
    free(rc);
    if (err == PARLEY_OK) {
        CHECK(mr_state_is(&s->alice, conv, PARLEY_CONV_QUEUED));
        return;
    }
    CHECK(mr_rejected_since(&s->alice, mark, err));
    CHECK(mr_count_since(&s->alice, mark, PARLEY_EV_CONVERSATION) == 0);
    CHECK(mr_count_since(&s->alice, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(conv_state_of(&s->alice, conv) == NULL);
}

/* A handover of cust's conversation from alice to bob, with cust's acknowledgement of alice. */
static void handover_to_bob(struct scene *s, const parley_identity *cust, const uint8_t conv[16],
                            const uint8_t salt[16], const Parley__HistoryEntry *const *history,
                            size_t n, parley_err err)
{
    struct handover_spec h;
    Parley__CustodyAck *ack = ack_make(cust, conv, s->alice.sign_pk, 1);
    uint8_t *rc;
    size_t rc_len;
    int mark = s->bob.n_events;

    consent_for(cust, &rc, &rc_len);
    memset(&h, 0, sizeof(h));
    h.from = w.agents[W_ALICE];
    h.from_cert = w.certs[W_ALICE];
    h.from_cert_len = w.cert_lens[W_ALICE];
    h.to = &s->bob;
    h.conv = conv;
    h.seq = 100 + (uint64_t)s->bob.n_events;
    h.customer_pk = parley_identity_sign_pk(cust);
    h.salt = salt;
    h.custody = ack;
    h.consent = rc;
    h.consent_len = rc_len;
    h.history = history;
    h.n_history = n;
    handover_inject(&s->relay, &h);
    free(rc);
    parley__custody_ack__free_unpacked(ack, NULL);
    if (err == PARLEY_OK) {
        CHECK(mr_state_is(&s->bob, conv, PARLEY_CONV_ACTIVE));
        CHECK(mr_count_since(&s->bob, mark, PARLEY_EV_REJECTED) == 0);
        return;
    }
    if (!mr_rejected_since(&s->bob, mark, err)) {
        mr_dump(&s->bob, mark);
        CHECK(!"handover refused as expected");
    }
    CHECK(mr_count_since(&s->bob, mark, PARLEY_EV_CONVERSATION) == 0);
    CHECK(conv_state_of(&s->bob, conv) == NULL);
}

/* An erasure request signed by cust, listing ids with salts, sent to alice in conv as cust. */
static void erase_to_alice(struct scene *s, const parley_identity *cust, const uint8_t conv[16],
                           const uint8_t *const *ids, const uint8_t *const *salts, size_t n,
                           uint64_t seq)
{
    Parley__ErasureRequestBody b = PARLEY__ERASURE_REQUEST_BODY__INIT;
    Parley__ErasureRequest r = PARLEY__ERASURE_REQUEST__INIT;
    Parley__Erase e = PARLEY__ERASE__INIT;
    Parley__Payload body = PARLEY__PAYLOAD__INIT;
    ProtobufCBinaryData pids[4], psalts[4];
    struct forge f;
    uint8_t key[32], sig[64], *bbuf, *env;
    size_t blen, len;

    CHECK(n <= 4);
    for (size_t i = 0; i < n; i++) {
        pids[i] = (ProtobufCBinaryData){16, (uint8_t *)ids[i]};
        psalts[i] = (ProtobufCBinaryData){16, (uint8_t *)salts[i]};
    }
    b.brand_id = (char *)W_BRAND;
    b.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(cust)};
    b.time_ms = s->relay.now;
    b.conversation_ids = pids;
    b.n_conversation_ids = n;
    b.conversation_salts = psalts;
    b.n_conversation_salts = n;
    CHECK_OK(parley__pack(&b.base, &bbuf, &blen));
    CHECK_OK(parley__sign_raw(cust->secret->sign_sk, PARLEY__DOMAIN_ERASURE, bbuf, blen, sig));
    r.body = (ProtobufCBinaryData){blen, bbuf};
    r.signature = (ProtobufCBinaryData){64, sig};
    e.request = &r;
    body.body_case = PARLEY__PAYLOAD__BODY_ERASE;
    body.erase = &e;
    CHECK(store_newest_receive_key(&s->alice, conv, key));
    memset(&f, 0, sizeof(f));
    f.sign_sk = cust->secret->sign_sk;
    f.to_box = key;
    f.to_sign = s->alice.sign_pk;
    f.to_agent = true;
    f.conv = conv;
    f.seq = seq;
    f.time_ms = s->relay.now;
    f.body = &body;
    forge_envelope(&f, &env, &len);
    mr_inject(&s->relay, &s->alice, env, len);
    mr_pump(&s->relay);
    free(env);
    free(bbuf);
}

static void test_conversation_id_binding_agent(void)
{
    struct scene s;
    parley_identity *cust, *other;
    struct transcript before, after;
    uint8_t salt[16], other_salt[16], conv[16], real_salt[16];
    const uint8_t *ids[1], *salts[1];
    int mark;

    printf("conversation_id_binding: agents refuse an Open, a Handover or an erasure request "
           "whose id the salt does not bind to the customer (EUNBOUND)\n");
    scene_init(&s, &w);
    CHECK_OK(parley_identity_generate(&cust));
    CHECK_OK(parley_identity_generate(&other));
    randombytes_buf(salt, sizeof(salt));
    randombytes_buf(other_salt, sizeof(other_salt));

    /* Opens: an id of the customer's choosing, another customer's id, no salt at all. */
    randombytes_buf(conv, sizeof(conv));
    open_checked(&s, cust, conv, salt, PARLEY_EUNBOUND);
    parley_conversation_id(parley_identity_sign_pk(other), salt, conv);
    open_checked(&s, cust, conv, salt, PARLEY_EUNBOUND);
    parley_conversation_id(parley_identity_sign_pk(cust), salt, conv);
    open_checked(&s, cust, conv, NULL, PARLEY_EUNBOUND);
    open_checked(&s, cust, conv, other_salt, PARLEY_EUNBOUND);
    open_checked(&s, cust, conv, salt, PARLEY_OK);

    /* Handovers: the same rule, whatever custody they show. */
    parley_conversation_id(parley_identity_sign_pk(cust), other_salt, conv);
    handover_to_bob(&s, cust, conv, salt, NULL, 0, PARLEY_EUNBOUND);
    handover_to_bob(&s, cust, conv, NULL, NULL, 0, PARLEY_EUNBOUND);
    handover_to_bob(&s, cust, conv, other_salt, NULL, 0, PARLEY_OK);

    /* Erasure requests: signed by the real customer, but not binding this conversation. */
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    scene_say(&s, &s.customer, "Ma commande 4471");
    parley_identity_free(cust);
    cust = identity_of(&s.customer);
    salt_of(&s.customer, s.conv, real_salt);
    transcript_of(&s.alice, s.conv, &before);
    mark = s.alice.n_events;
    ids[0] = s.conv; /* with a salt that does not bind it */
    salts[0] = other_salt;
    erase_to_alice(&s, cust, s.conv, ids, salts, 1, 30);
    ids[0] = conv; /* listing only another conversation */
    salts[0] = real_salt;
    erase_to_alice(&s, cust, s.conv, ids, salts, 1, 31);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_REJECTED) == 2);
    CHECK(mr_rejected_since(&s.alice, mark, PARLEY_EUNBOUND));
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_ERASED) == 0);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_ACTIVE));
    transcript_of(&s.alice, s.conv, &after);
    CHECK(transcript_same(&before, &after) && after.n == 2);
    transcript_free(&after);
    /* The customer's own request erases it. */
    CHECK_OK(parley__core_erase(s.customer.core, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_ERASED) == 1);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_CLOSED));
    transcript_of(&s.alice, s.conv, &after);
    CHECK(after.n == 0);
    transcript_free(&after);
    transcript_free(&before);
    parley_identity_free(cust);
    parley_identity_free(other);
    scene_free(&s);
}

struct bob_history {
    size_t name_len, text_len, n;
};

static int on_history(void *user, const parley_history_entry *e)
{
    struct bob_history *h = user;

    h->name_len = strlen(e->sender_name);
    h->text_len = e->text_len;
    h->n++;
    return 0;
}

/* A new conversation of cust handed from alice to bob with one history entry. */
static void entry_to_bob(struct scene *s, const parley_identity *cust, const char *name,
                         const uint8_t *text, size_t text_len, parley_err err)
{
    Parley__HistoryEntry e = PARLEY__HISTORY_ENTRY__INIT;
    const Parley__HistoryEntry *hist[] = {&e};
    struct bob_history h;
    uint8_t salt[16], conv[16];

    randombytes_buf(salt, sizeof(salt));
    parley_conversation_id(parley_identity_sign_pk(cust), salt, conv);
    e.agent_id = (char *)name;
    e.time_ms = s->relay.now;
    e.text = (ProtobufCBinaryData){text_len, (uint8_t *)text};
    handover_to_bob(s, cust, conv, salt, hist, 1, err);
    if (err != PARLEY_OK)
        return;
    /* Taken whole: nothing cut. */
    memset(&h, 0, sizeof(h));
    CHECK_OK(parley__core_history(s->bob.core, conv, on_history, &h));
    CHECK(h.n == 1 && h.name_len == strlen(name) && h.text_len == text_len);
}

static void test_handover_history_bounds(void)
{
    struct scene s;
    parley_identity *cust;
    char name[PARLEY_MAX_DISPLAY_NAME + 2];
    uint8_t *text = malloc(PARLEY_MAX_TEXT + 1);

    printf("handover_history_bounds: a handed-over line's name over 128 bytes or text over "
           "16384 bytes is refused at decode (EMALFORMED), not cut\n");
    CHECK(text != NULL);
    scene_init(&s, &w);
    CHECK_OK(parley_identity_generate(&cust));
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    memset(text, 't', PARLEY_MAX_TEXT + 1);
    /* At the limits: taken. */
    name[PARLEY_MAX_DISPLAY_NAME] = '\0';
    entry_to_bob(&s, cust, name, text, PARLEY_MAX_TEXT, PARLEY_OK);
    entry_to_bob(&s, cust, "", text, 1, PARLEY_OK); /* a customer's line has no name */
    /* One byte over either: refused. */
    name[PARLEY_MAX_DISPLAY_NAME] = 'n';
    entry_to_bob(&s, cust, name, text, 10, PARLEY_EMALFORMED);
    entry_to_bob(&s, cust, "Alice Martin", text, PARLEY_MAX_TEXT + 1, PARLEY_EMALFORMED);
    /* Not text, or a name that is not a display name. */
    text[3] = 0xff;
    entry_to_bob(&s, cust, "Alice Martin", text, 10, PARLEY_EMALFORMED);
    text[3] = 't';
    entry_to_bob(&s, cust, "Alice\x1b[2J", text, 10, PARLEY_EMALFORMED);
    parley_identity_free(cust);
    free(text);
    scene_free(&s);
}

int main(int argc, char **argv)
{
    static const struct named_case cases[] = {
        {"conversation_id_binding_customer", test_conversation_id_binding_customer},
        {"conversation_id_binding_agent", test_conversation_id_binding_agent},
        {"handover_history_bounds", test_handover_history_bounds},
    };

    return run_cases(argc, argv, &w, cases, sizeof(cases) / sizeof(cases[0]));
}
