/*
 * Receiving, agents' side: opens, handovers, custody acknowledgements,
 * erasure requests, and what the customer sends.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/*
 * Claims a conversation offered or handed to us: tells the customer who
 * now answers, with our key, and which custody the claim follows (0 after
 * an Open, else the counter of the acknowledgement the handover carried).
 */
static void claim_of(const struct parley__core *c, const struct conv *cv, Parley__Payload *p,
                     Parley__Claim *cl)
{
    cl->agent_id = (char *)c->cert_info.agent_id;
    cl->custody = cv->custody;
    p->body_case = PARLEY__PAYLOAD__BODY_CLAIM;
    p->claim = cl;
}

parley_err send_claim(struct parley__core *c, struct conv *cv, uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Claim cl = PARLEY__CLAIM__INIT;

    claim_of(c, cv, &p, &cl);
    return send_now(c, cv, &p, NULL, 0, NULL, now);
}

/* The same inside the transaction that takes a handover, so that a crash cannot lose it. */
parley_err seal_claim(struct parley__core *c, struct conv *cv)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Claim cl = PARLEY__CLAIM__INIT;
    uint64_t used;

    claim_of(c, cv, &p, &cl);
    return seal_to_outbox(c, cv, &p, 0, true, cv->customer, cv->peer_rk, c->now, &used);
}

/*
 * Agents, on a customer's erasure request (inside the receiving
 * transaction): the conversation's history and consent receipt are
 * deleted, or, where the brand must keep them, marked and left out of
 * listings.
 */
parley_err erase_local(struct parley__core *c, struct conv *cv)
{
    struct row_keys k = {NULL, 0, 0};
    parley_err err = PARLEY_OK;

    cv->erasure_ms = c->now; /* a legal hold runs from here */
    /* The brand's signed policy, or the host's own obligation. */
    if (c->keep_on_erasure || (c->dir != NULL && parley_directory_keep_on_erasure(c->dir))) {
        cv->erasure = 2;
        return PARLEY_OK;
    }
    err = parley__vault_scan(c->vault, "history", cv->id, 16, collect_history_key, &k);
    for (size_t i = 0; err == PARLEY_OK && i < k.n; i++)
        err = parley__vault_del(c->vault, "history", k.keys[i], 24);
    free(k.keys);
    buf_free(&cv->consent);
    for (size_t i = 0; i < cv->n_special; i++)
        buf_free(&cv->special[i]);
    cv->n_special = 0;
    cv->special_mask = 0;
    cv->erasure = 1;
    return err;
}

/* Matching the start of a handed-over history against the rows already held. */
struct history_match {
    const Parley__Handover *h;
    const uint8_t *customer;
    size_t matched;
};

static int match_history(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                         size_t val_len)
{
    struct history_match *m = arg;
    Parley__HistoryRecord *r =
        parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    const Parley__HistoryEntry *e;
    bool same;

    (void)key;
    (void)key_len;
    if (r == NULL)
        return 0;
    if (r->kind != PARLEY_BODY_TEXT) {
        parley__history_record__free_unpacked(r, &parley__wiping_allocator);
        return 0;
    }
    e = m->matched < m->h->n_history ? m->h->history[m->matched] : NULL;
    same = e != NULL &&
           e->from_customer == (parley__len_is(r->sender_sign_key, 32) &&
                                memcmp(r->sender_sign_key.data, m->customer, 32) == 0) &&
           e->text.len == r->text.len &&
           (e->text.len == 0 || memcmp(e->text.data, r->text.data, e->text.len) == 0);
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    m->matched += same;
    return !same;
}

/*
 * How many entries at the start of a handed-over history this agent holds
 * already: its own transcript of a conversation it held before (or was
 * offered) begins the history that comes back. Only what follows is
 * added; nothing held is ever replaced.
 */
size_t history_held(struct parley__core *c, const struct conv *cv,
                    const Parley__Handover *h)
{
    struct history_match m = {h, cv->customer, 0};

    if (parley__vault_scan(c->vault, "history", cv->id, 16, match_history, &m) != PARLEY_OK)
        return 0;
    return m.matched;
}

/*
 * Agents: an erasure request for cv must be signed by its customer and
 * list cv's id with the salt that binds it to that customer (§4.6).
 */
static parley_err erasure_check(const Parley__ErasureRequest *r, const struct conv *cv)
{
    Parley__ErasureRequestBody *b;
    parley_err err = PARLEY_EUNBOUND;

    if (r == NULL || parley__verify_pb(cv->customer, 32, PARLEY__DOMAIN_ERASURE, r->body,
                                       r->signature) != PARLEY_OK)
        return PARLEY_EBADSIG;
    b = parley__erasure_request_body__unpack(NULL, r->body.len, r->body.data);
    if (b == NULL || !parley__len_is(b->customer_sign_key, 32) ||
        memcmp(b->customer_sign_key.data, cv->customer, 32) != 0)
        err = PARLEY_EMALFORMED;
    for (size_t i = 0; err == PARLEY_EUNBOUND && i < b->n_conversation_ids; i++)
        if (parley__len_is(b->conversation_ids[i], 16) &&
            memcmp(b->conversation_ids[i].data, cv->id, 16) == 0 &&
            i < b->n_conversation_salts &&
            parley__conversation_bound(cv->customer, b->conversation_salts[i], cv->id))
            err = PARLEY_OK;
    if (b != NULL)
        parley__erasure_request_body__free_unpacked(b, NULL);
    return err;
}

/* Agents: the first message of a conversation, from its customer. */
static parley_err agent_open(struct parley__core *c, const Parley__Envelope *env, struct conv *cv,
                             const struct opened *o)
{
    const Parley__Payload *p = o->p;

    /* The id must be this customer's (§4.6): nobody opens a conversation in another's name. */
    if (!parley__conversation_bound(p->sender_sign_key.data, p->open->conversation_salt,
                                    env->conversation_id.data))
        return PARLEY_EUNBOUND;
    if (!consent_valid(c, p->open->consent, p->sender_sign_key.data))
        return PARLEY_ENOCONSENT;
    memcpy(cv->id, env->conversation_id.data, 16);
    memcpy(cv->salt, p->open->conversation_salt.data, 16);
    cv->has_salt = true;
    cv->state = PARLEY_CONV_QUEUED;
    parley__copy_str(cv->queue, sizeof(cv->queue), p->open->queue);
    memcpy(cv->customer, p->sender_sign_key.data, 32);
    cv->has_customer = true;
    memcpy(cv->peer_rk, p->next_receive_key.len == 32 ? p->next_receive_key.data
                                                      : p->open->customer_box_key.data,
           32);
    cv->has_peer_rk = true;
    buf_set_pb(&cv->consent, &p->open->consent->base);
    seq_ok(c, cv, o, true);
    /* What the customer consented to send before its first words (art. 9(2)(a)). */
    return special_take_all(cv, p->open->special_consents, p->open->n_special_consents);
}

/*
 * Agents: a colleague hands a conversation over (§11.3). Accepted only
 * with a chain of custody: the id bound to the customer key by the salt,
 * the customer's acknowledgement that the sender holds the conversation,
 * at a custody counter above any this client has seen for it. A
 * conversation already held is updated, never reset: its history,
 * consent, numbering of other senders and erasure mark stay.
 */
static parley_err agent_handover(struct parley__core *c, const Parley__Envelope *env,
                                 struct conv *cv, bool have_conv, const struct opened *o)
{
    const Parley__Handover *h = o->p->handover;
    const uint8_t *id = env->conversation_id.data, *customer = h->customer_sign_key.data;
    struct parley__custody held;
    parley_err err;

    if (!parley__conversation_bound(customer, h->conversation_salt, id))
        return PARLEY_EUNBOUND;
    if (parley__custody_ack_check(h->custody, customer, id, &held) != PARLEY_OK ||
        sodium_memcmp(held.agent, o->p->sender_sign_key.data, 32) != 0)
        return PARLEY_ECUSTODY;
    if (have_conv && ((cv->has_customer && sodium_memcmp(cv->customer, customer, 32) != 0) ||
                      held.counter <= cv->custody || cv->erasure != 0))
        return PARLEY_ECUSTODY;
    /*
     * A colleague's certificate is taken only on a valid directory (one
     * expired may hide its revocation); for a conversation new to this
     * agent, the consent is checked as an Open's would be.
     */
    if (!dir_valid(c, c->now))
        return PARLEY_ENODIRECTORY;
    if (!have_conv && !consent_valid(c, h->consent, customer))
        return PARLEY_ENOCONSENT;
    if (!have_conv) {
        memcpy(cv->id, id, 16);
        parley__copy_str(cv->queue, sizeof(cv->queue), h->queue);
        memcpy(cv->customer, customer, 32);
        cv->has_customer = true;
    }
    /* The newer receipt of the two: the customer may have changed its consent since. */
    if (h->consent != NULL && consent_newer(&cv->consent, h->consent) &&
        (cv->consent.n == 0 || consent_valid(c, h->consent, customer)))
        buf_set_pb(&cv->consent, &h->consent->base);
    /* The customer's consents to special categories, each checked as if it came from it. */
    err = special_take_all(cv, h->special_consents, h->n_special_consents);
    if (err != PARLEY_OK)
        return err;
    memcpy(cv->salt, h->conversation_salt.data, 16);
    cv->has_salt = true;
    cv->state = PARLEY_CONV_ACTIVE;
    memcpy(cv->peer_rk, h->customer_receive_key.data, 32);
    cv->has_peer_rk = true;
    cv->custody = held.counter;
    /*
     * The customer's count starts afresh: its receipts to the previous
     * agent used numbers this agent never sees, and what it sent before
     * is sealed to keys this agent never had.
     */
    seq_forget(cv, customer);
    seq_ok(c, cv, o, true);
    return PARLEY_OK;
}

/*
 * Agents: the customer's new receipt (§11.2): signed by the customer of
 * cv, valid as an Open's, later than the one held. It replaces that one.
 */
static parley_err agent_consent_update(struct parley__core *c, struct conv *cv,
                                       const Parley__ConsentUpdate *u, struct accept *a)
{
    if (c->dir == NULL)
        return PARLEY_ENODIRECTORY;
    if (!consent_valid(c, u->receipt, cv->customer))
        return PARLEY_ENOCONSENT;
    if (!consent_newer(&cv->consent, u->receipt))
        return PARLEY_EREPLAY;
    if (!buf_set_pb(&cv->consent, &u->receipt->base))
        return PARLEY_ENOMEM;
    a->consent_changed = true;
    return PARLEY_OK;
}

/* Agents: the customer acknowledges our claim (§11.3). */
static parley_err agent_custody_ack(struct parley__core *c, struct conv *cv,
                                    const Parley__CustodyAck *ack)
{
    struct parley__custody got;

    if (cv->state != PARLEY_CONV_ACTIVE ||
        parley__custody_ack_check(ack, cv->customer, cv->id, &got) != PARLEY_OK ||
        sodium_memcmp(got.agent, parley_identity_sign_pk(c->id), 32) != 0 ||
        got.counter <= cv->custody || !buf_set_pb(&cv->custody_ack, &ack->base))
        return PARLEY_ECUSTODY;
    cv->custody = got.counter;
    return PARLEY_OK;
}

/* An Open from a customer, for a conversation new to this agent. */
static parley_err agent_take_open(struct parley__core *c, const Parley__Envelope *env,
                                  struct conv *cv, const struct opened *o, struct accept *a,
                                  uint64_t now)
{
    /* Consent can only be checked against the notice of a valid directory. */
    parley_err err = dir_valid(c, now) ? agent_open(c, env, cv, o) : PARLEY_ENODIRECTORY;

    if (err != PARLEY_OK)
        return err;
    a->text = o->p->open->text.data;
    a->text_len = o->p->open->text.len;
    a->changed = true;
    return PARLEY_OK;
}

/* A colleague's handover: taken, then claimed in the same transaction. */
static parley_err agent_take_handover(struct parley__core *c, const Parley__Envelope *env,
                                      struct conv *cv, bool have_conv, const struct opened *o,
                                      struct accept *a)
{
    parley_err err = agent_handover(c, env, cv, have_conv, o);

    if (err != PARLEY_OK)
        return err;
    a->handover = o->p->handover;
    a->merge_history = have_conv;
    a->claim = true;
    a->changed = true;
    return PARLEY_OK;
}

/*
 * The customer's own sequence check. Typing notices use no number of
 * their own (replayed() found stale ones already); a claim or an erasure
 * request may be the first this agent hears from the customer since it
 * was offered the conversation. False: dropped, the application was told.
 */
static bool agent_seq_ok(struct parley__core *c, struct conv *cv, const struct opened *o)
{
    Parley__Payload__BodyCase body = o->p->body_case;

    return body == PARLEY__PAYLOAD__BODY_TYPING ||
           seq_ok(c, cv, o,
                  body == PARLEY__PAYLOAD__BODY_CLAIM || body == PARLEY__PAYLOAD__BODY_ERASE ||
                      body == PARLEY__PAYLOAD__BODY_CONSENT_UPDATE);
}

/* What the conversation's customer sends: one handler per body, then its keys. */
static parley_err agent_take_from_customer(struct parley__core *c, struct conv *cv,
                                           const struct opened *o, struct accept *a)
{
    const Parley__Payload *p = o->p;
    parley_err err = PARLEY_OK;

    switch (p->body_case) {
    case PARLEY__PAYLOAD__BODY_CLAIM:
        /* The customer tells us a colleague took it. */
        if (cv->state == PARLEY_CONV_QUEUED) {
            cv->state = PARLEY_CONV_TAKEN;
            a->taken_by = p->claim->agent_id;
            a->changed = true;
        }
        break;
    case PARLEY__PAYLOAD__BODY_CONSENT_UPDATE:
        err = agent_consent_update(c, cv, p->consent_update, a);
        break;
    case PARLEY__PAYLOAD__BODY_SPECIAL_CONSENT:
        err = special_take(cv, p->special_consent);
        a->special = true;
        break;
    case PARLEY__PAYLOAD__BODY_CUSTODY_ACK:
        err = agent_custody_ack(c, cv, p->custody_ack);
        a->changed = err == PARLEY_OK; /* told again: it can now be handed on */
        break;
    case PARLEY__PAYLOAD__BODY_ERASE:
        err = erasure_check(p->erase->request, cv);
        if (err == PARLEY_OK)
            peer_body(c, cv, o, a);
        break;
    default:
        peer_body(c, cv, o, a);
        break;
    }
    if (err != PARLEY_OK)
        return err;
    if (p->next_receive_key.len == 32) {
        memcpy(cv->peer_rk, p->next_receive_key.data, 32);
        cv->has_peer_rk = true;
    }
    if (!o->used_prekey && !o->used_mt)
        conv_keys_used(cv, o->used_pk);
    return PARLEY_OK;
}

/*
 * Every first contact (open, notice, handover) uses a prekey; one sealed
 * to the medium-term prekey means the relay has no one-time one left:
 * replenish now.
 */
static void agent_prekey_used(struct parley__core *c, const struct opened *o, uint64_t now)
{
    if (o->used_prekey && c->prekeys_left > 0)
        c->prekeys_left--;
    if (o->used_mt)
        c->prekeys_left = 0;
    if (o->used_prekey || o->used_mt)
        publish_prekeys(c, now, false, false);
}

/* A payload taken: recorded (committed, or held: receive.c), acknowledged once committed, told. */
static void agent_accept(struct parley__core *c, struct accept *a, uint64_t now)
{
    struct conv *cv = a->cv;
    bool reduced = mark_reduced(cv, a->o->p, a->o->used_mt);

    if (accept_commit(c, a) != PARLEY_OK)
        return; /* not acknowledged: the relay delivers it again */
    send_delivered(c, a->env->envelope_id.data);
    if (a->changed)
        emit_state_by(c, cv, a->taken_by);
    if (reduced)
        emit_reduced(c, cv);
    if (a->erase) {
        parley__vault_compact(c->vault); /* no old copy of what was erased stays in the files */
        emit_erased(c, cv);
    }
    if (a->consent_changed)
        emit_simple(c, PARLEY_EV_CONSENT, cv->id);
    special_emit(c, cv, a->special_from); /* before the text it was given for */
    emit_received_text(c, a);
    if (a->claim)
        pump_outbox(c, now);
    agent_prekey_used(c, a->o, now);
}

void agent_receive(struct parley__core *c, const Parley__Envelope *env, struct conv *cv,
                   bool have_conv, struct opened *o, uint64_t now)
{
    const Parley__Payload *p = o->p;
    struct accept a = {.env = env, .cv = cv, .o = o, .special_from = cv->n_special};
    parley_err err;

    if (have_conv && replayed(c, env, cv, o))
        return;
    if (p->body_case == PARLEY__PAYLOAD__BODY_OPEN && !have_conv && !o->is_agent) {
        err = agent_take_open(c, env, cv, o, &a, now);
    } else if (p->body_case == PARLEY__PAYLOAD__BODY_HANDOVER && o->is_agent) {
        err = agent_take_handover(c, env, cv, have_conv, o, &a);
    } else if (have_conv && cv->has_customer && !o->is_agent &&
               memcmp(p->sender_sign_key.data, cv->customer, 32) == 0) {
        if (!agent_seq_ok(c, cv, o)) {
            send_delivered(c, env->envelope_id.data);
            return;
        }
        err = agent_take_from_customer(c, cv, o, &a);
    } else {
        err = PARLEY_EUNTRUSTED;
    }
    if (err != PARLEY_OK) {
        refuse(c, env, err);
        return;
    }
    agent_accept(c, &a, now);
}
