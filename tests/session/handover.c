/*
 * Chain-of-custody scenes for the core tests (see handover.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "custody.h"
#include "handover.h"
#include "keyring.h"

Parley__ConversationState *conv_state_of(struct mr_party *p, const uint8_t conv[16])
{
    Parley__ConversationState *s;
    uint8_t *val;
    size_t len;

    if (parley__vault_get(p->vault, "conv", conv, 16, &val, &len) != PARLEY_OK)
        return NULL;
    s = parley__conversation_state__unpack(&parley__wiping_allocator, len, val);
    parley_free(val, len);
    CHECK(s != NULL);
    return s;
}

void conv_state_free(Parley__ConversationState *s)
{
    if (s != NULL)
        parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
}

uint64_t custody_of(struct mr_party *p, const uint8_t conv[16], bool *acknowledged)
{
    Parley__ConversationState *s = conv_state_of(p, conv);
    struct parley__custody got;
    uint64_t counter;

    CHECK(s != NULL);
    counter = s->custody_counter;
    *acknowledged =
        parley__custody_ack_check_buf(s->custody_ack.data, s->custody_ack.len,
                                      s->customer_sign_key.data, conv, &got) == PARLEY_OK &&
        memcmp(got.agent, p->sign_pk, 32) == 0 && got.counter == counter;
    conv_state_free(s);
    return counter;
}

void salt_of(struct mr_party *customer, const uint8_t conv[16], uint8_t salt[16])
{
    Parley__ConversationState *s = conv_state_of(customer, conv);

    CHECK(s != NULL && parley__len_is(s->conversation_salt, 16));
    memcpy(salt, s->conversation_salt.data, 16);
    conv_state_free(s);
}

struct transcript_scan {
    struct transcript *t;
    const uint8_t *customer;
};

static int transcript_row(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                          size_t val_len)
{
    struct transcript_scan *ts = arg;
    struct transcript *t = ts->t;
    Parley__HistoryRecord *r =
        parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    char(*grown)[MR_TEXT];
    size_t n;

    (void)key;
    (void)key_len;
    CHECK(r != NULL && parley__len_is(r->sender_sign_key, 32));
    grown = realloc(t->rows, (t->n + 1) * sizeof(*t->rows));
    CHECK(grown != NULL);
    t->rows = grown;
    n = r->text.len < MR_TEXT - 3 ? r->text.len : MR_TEXT - 3;
    t->rows[t->n][0] = memcmp(r->sender_sign_key.data, ts->customer, 32) == 0 ? 'C' : 'A';
    t->rows[t->n][1] = ':';
    memcpy(t->rows[t->n] + 2, r->text.data, n);
    t->rows[t->n][2 + n] = '\0';
    t->n++;
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    return 0;
}

void transcript_of(struct mr_party *p, const uint8_t conv[16], struct transcript *t)
{
    Parley__ConversationState *s = conv_state_of(p, conv);
    struct transcript_scan ts = {t, NULL};

    memset(t, 0, sizeof(*t));
    CHECK(s != NULL && parley__len_is(s->customer_sign_key, 32));
    ts.customer = s->customer_sign_key.data;
    CHECK_OK(parley__vault_scan(p->vault, "history", conv, 16, transcript_row, &ts));
    conv_state_free(s);
}

void transcript_free(struct transcript *t)
{
    free(t->rows);
    memset(t, 0, sizeof(*t));
}

bool transcript_same(const struct transcript *a, const struct transcript *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->rows[i], b->rows[i]) != 0)
            return false;
    return true;
}

int transcript_count(const struct transcript *t, const char *text)
{
    int n = 0;

    for (size_t i = 0; i < t->n; i++)
        n += strcmp(t->rows[i] + 2, text) == 0;
    return n;
}

void take_prekey(struct mr_relay *r, const struct mr_party *owner, uint8_t box_pk[32])
{
    for (size_t i = 0; i < r->n_prekeys; i++) {
        Parley__Prekey *pk;
        Parley__PrekeyBody *body;

        if (r->prekeys[i].medium_term || memcmp(r->prekeys[i].owner, owner->sign_pk, 32) != 0)
            continue;
        pk = parley__prekey__unpack(NULL, r->prekeys[i].prekey.n, r->prekeys[i].prekey.p);
        CHECK(pk != NULL);
        body = parley__prekey_body__unpack(NULL, pk->body.len, pk->body.data);
        CHECK(body != NULL && parley__len_is(body->box_key, 32));
        memcpy(box_pk, body->box_key.data, 32);
        parley__prekey_body__free_unpacked(body, NULL);
        parley__prekey__free_unpacked(pk, NULL);
        free(r->prekeys[i].prekey.p);
        memmove(&r->prekeys[i], &r->prekeys[i + 1], (r->n_prekeys - i - 1) * sizeof(r->prekeys[0]));
        r->n_prekeys--;
        return;
    }
    CHECK(!"a prekey of the recipient on the relay");
}

parley_identity *identity_of(struct mr_party *p)
{
    parley_identity *id = NULL;
    uint8_t *seed;
    size_t len;

    CHECK_OK(parley__vault_get(p->vault, "identity", (const uint8_t *)"self", 4, &seed, &len));
    CHECK(len == 32);
    CHECK_OK(parley_identity_from_seed(&id, seed));
    parley_free(seed, len);
    return id;
}

Parley__CustodyAck *ack_make(const parley_identity *signer, const uint8_t conv[16],
                             const uint8_t agent_pk[32], uint64_t counter)
{
    Parley__CustodyAck *ack;
    uint8_t *packed;
    size_t len;

    CHECK_OK(parley__custody_ack_make(signer, conv, agent_pk, counter, 1, &packed, &len));
    ack = parley__custody_ack__unpack(NULL, len, packed);
    CHECK(ack != NULL);
    free(packed);
    return ack;
}

Parley__CustodyAck *ack_of(struct mr_party *p, const uint8_t conv[16])
{
    Parley__ConversationState *s = conv_state_of(p, conv);
    Parley__CustodyAck *ack = NULL;

    CHECK(s != NULL);
    if (s->custody_ack.len > 0) {
        ack = parley__custody_ack__unpack(NULL, s->custody_ack.len, s->custody_ack.data);
        CHECK(ack != NULL);
    }
    conv_state_free(s);
    return ack;
}

void handover_inject(struct mr_relay *r, const struct handover_spec *spec)
{
    Parley__Payload body = PARLEY__PAYLOAD__INIT;
    Parley__Handover h = PARLEY__HANDOVER__INIT;
    Parley__ConsentReceipt *consent = NULL;
    struct forge f;
    uint8_t box[32], receive_pk[32], receive_sk[32], *env;
    size_t len;

    if (spec->consent != NULL) {
        consent = parley__consent_receipt__unpack(NULL, spec->consent_len, spec->consent);
        CHECK(consent != NULL);
    }
    crypto_box_keypair(receive_pk, receive_sk);
    h.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)spec->customer_pk};
    h.customer_receive_key = (ProtobufCBinaryData){
        32, (uint8_t *)(spec->receive_pk != NULL ? spec->receive_pk : receive_pk)};
    h.consent = consent;
    h.queue = (char *)"support";
    h.history = (Parley__HistoryEntry **)spec->history;
    h.n_history = spec->n_history;
    if (spec->salt != NULL)
        h.conversation_salt = (ProtobufCBinaryData){16, (uint8_t *)spec->salt};
    h.custody = (Parley__CustodyAck *)spec->custody;
    h.special_consents = (Parley__SpecialConsent **)spec->specials;
    h.n_special_consents = spec->n_specials;
    body.body_case = PARLEY__PAYLOAD__BODY_HANDOVER;
    body.handover = &h;
    take_prekey(r, spec->to, box);
    memset(&f, 0, sizeof(f));
    f.sign_sk = spec->from->secret->sign_sk;
    f.cert = spec->from_cert;
    f.cert_len = spec->from_cert_len;
    f.to_box = box;
    f.to_sign = spec->to->sign_pk;
    f.to_agent = true;
    f.conv = spec->conv;
    f.seq = spec->seq;
    f.time_ms = r->now;
    f.body = &body;
    forge_envelope(&f, &env, &len);
    mr_inject(r, spec->to, env, len);
    mr_pump(r);
    free(env);
    if (consent != NULL)
        parley__consent_receipt__free_unpacked(consent, NULL);
    sodium_memzero(receive_sk, sizeof(receive_sk));
}

void spec_for(struct handover_spec *h, struct scene *s, const struct world *w, int from,
              struct mr_party *to, const uint8_t *salt, const Parley__CustodyAck *custody,
              uint64_t seq)
{
    memset(h, 0, sizeof(*h));
    h->from = w->agents[from];
    h->from_cert = w->certs[from];
    h->from_cert_len = w->cert_lens[from];
    h->to = to;
    h->conv = s->conv;
    h->seq = seq;
    h->customer_pk = s->customer.sign_pk;
    h->salt = salt;
    h->custody = custody;
}

int customer_to_alice(struct scene *s, const parley_identity *customer,
                      const Parley__Payload *body, uint64_t seq)
{
    struct forge f;
    uint8_t key[32], *env;
    size_t len;
    int mark = s->alice.n_events;

    CHECK(store_newest_receive_key(&s->alice, s->conv, key));
    memset(&f, 0, sizeof(f));
    f.sign_sk = customer->secret->sign_sk;
    f.to_box = key;
    f.to_sign = s->alice.sign_pk;
    f.to_agent = true;
    f.conv = s->conv;
    f.seq = seq;
    f.time_ms = s->relay.now;
    f.body = body;
    forge_envelope(&f, &env, &len);
    mr_inject(&s->relay, &s->alice, env, len);
    mr_pump(&s->relay);
    free(env);
    return mark;
}

void carol_join(struct mr_party *carol, struct scene *s, const struct world *w)
{
    mr_party_init(carol, &s->relay, "carol", w->agents[W_CAROL], w->certs[W_CAROL],
                  w->cert_lens[W_CAROL], NULL, 0);
    mr_connect(carol);
    mr_pump(&s->relay);
    CHECK(parley__core_ready(carol->core));
}

void open_to_alice(struct scene *s, const struct world *w, const parley_identity *cust,
                   const uint8_t conv[16], const uint8_t *salt, const uint8_t *rc, size_t rc_len)
{
    struct forge f;
    uint8_t box[32], *env;
    size_t len;

    mr_medium_term_box(&s->relay, &s->alice, box); /* a prekey alice keeps after use */
    memset(&f, 0, sizeof(f));
    f.sign_sk = cust->secret->sign_sk;
    f.to_box = box;
    f.to_sign = s->alice.sign_pk;
    f.conv = conv;
    f.seq = 1;
    f.time_ms = s->relay.now;
    f.text = "Bonjour, ma commande";
    f.open_queue = "support";
    f.consent = rc;
    f.consent_len = rc_len;
    f.salt = salt;
    forge_envelope(&f, &env, &len);
    mr_inject(&s->relay, &s->alice, env, len);
    mr_pump(&s->relay);
    free(env);
    CHECK(mr_stored_for(&s->relay, &s->alice) == 0);
}

int run_cases(int argc, char **argv, struct world *w, const struct named_case *cases, size_t n)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    world_init(w);
    for (size_t i = 0; i < n; i++) {
        bool named = argc < 2;

        for (int a = 1; a < argc; a++)
            named = named || strcmp(argv[a], cases[i].name) == 0;
        if (named)
            cases[i].run();
    }
    world_free(w);
    printf("ok\n");
    return 0;
}
