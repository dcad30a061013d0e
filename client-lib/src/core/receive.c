/*
 * Receiving envelopes: opened with the conversation keys or prekeys,
 * checked, recorded in one transaction, acknowledged with `delivered`
 * once that transaction is committed.
 *
 * The held group. A payload that changes a conversation's state, its
 * outbox or the prekeys held is committed before the application hears
 * of it. The common ones (a text, a receipt or a typing notice from the
 * current peer) change only counters, keys and history: they are told
 * as soon as they are opened and verified, and recorded in a store
 * transaction left open (parley__vault_hold) that the next such payloads
 * join. It is committed at the next tick (the deadline is then at once)
 * or before anything else writes to the store; only then does the relay
 * hear `delivered` and the peer a delivery receipt. A crash before the
 * commit loses the group whole: the relay, never told, delivers those
 * envelopes again and they are told again (same conversation, sender and
 * seq) and recorded once. A commit that fails is told as PARLEY_EV_REJECTED
 * (PARLEY_EIO) for each text of the group.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/*
 * Tries the conversation's keys (newest first), then, for agents, every
 * one-time prekey secret held (at most PREKEY_KEEP) and the medium-term
 * prekeys. Never the identity key: nothing is
 * sealed to it, so it opens nothing.
 */
static parley_err open_envelope(struct parley__core *c, const Parley__Envelope *env,
                                const struct conv *cv, bool have_conv, struct opened *o,
                                uint64_t now)
{
    parley_trust trust;
    parley_err best = PARLEY_EBADSEAL, err;
    struct key_list *pre = NULL;
    struct parley__mtkeys *mt = NULL;

    memset(o, 0, sizeof(*o));
    memset(&trust, 0, sizeof(trust));
    trust.brand_pk = c->brand_pk;
    trust.brand_id = c->brand_id;
    trust.now = now / 1000u;
    trust.revs = c->dir != NULL ? parley_directory_revocations(c->dir) : NULL;
    trust.require_agent = !c->agent;
    for (size_t i = have_conv ? cv->n_keys : 0; i-- > 0;) {
        err = parley__open_sealed(env->sealed.data, env->sealed.len, cv->keys[i].pk,
                                  cv->keys[i].sk, env->conversation_id.data, &trust, &o->p,
                                  &o->cert, &o->is_agent);
        if (err == PARLEY_OK) {
            memcpy(o->used_pk, cv->keys[i].pk, 32);
            return PARLEY_OK;
        }
        if (err != PARLEY_EBADSEAL)
            return err; /* it opened: what failed is the content, not the key */
    }
    if (!c->agent)
        return best;
    pre = prekeys_load(c);
    mt = calloc(1, sizeof(*mt));
    if (pre == NULL || mt == NULL) {
        prekeys_unload(pre);
        free(mt);
        return PARLEY_ENOMEM;
    }
    parley__mtkeys_load(c->vault, mt);
    /* One-time prekeys first, then the medium-term ones, newest first. */
    for (size_t i = 0; i < pre->n + mt->n && best == PARLEY_EBADSEAL; i++) {
        bool one_time = i < pre->n;
        const uint8_t *pk = one_time ? pre->keys[i].pk : mt->k[mt->n - 1 - (i - pre->n)].pk;
        const uint8_t *sk = one_time ? pre->keys[i].sk : mt->k[mt->n - 1 - (i - pre->n)].sk;

        err = parley__open_sealed(env->sealed.data, env->sealed.len, pk, sk,
                                  env->conversation_id.data, &trust, &o->p, &o->cert,
                                  &o->is_agent);
        if (err == PARLEY_OK) {
            memcpy(o->used_pk, pk, 32);
            o->used_prekey = one_time;
            o->used_mt = !one_time;
        }
        best = err;
    }
    prekeys_unload(pre);
    parley__mtkeys_wipe(mt);
    free(mt);
    return best;
}

/* One `delivered` frame for n envelope ids. */
static void queue_delivered(struct parley__core *c, const uint8_t (*ids)[16], size_t n)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Delivered d = PARLEY__DELIVERED__INIT;
    ProtobufCBinaryData *bin = calloc(n, sizeof(*bin));

    if (bin == NULL)
        return; /* not acknowledged: delivered again on the next connection, seen, acknowledged */
    for (size_t i = 0; i < n; i++)
        bin[i] = (ProtobufCBinaryData){16, (uint8_t *)ids[i]};
    d.envelope_ids = bin;
    d.n_envelope_ids = n;
    f.kind_case = PARLEY__FRAME__KIND_DELIVERED;
    f.delivered = &d;
    queue_frame(c, &f);
    free(bin);
}

/*
 * While a group is held, every acknowledgement waits for its commit: the
 * envelope may be one of the group (or seen only in it), and even a
 * refused one costs nothing to refuse again.
 */
void send_delivered(struct parley__core *c, const uint8_t envelope_id[16])
{
    uint8_t (*acks)[16];

    if (!c->vault->held) {
        queue_delivered(c, (const uint8_t(*)[16])envelope_id, 1);
        return;
    }
    acks = parley__grow(c->acks, &c->cap_acks, c->n_acks + 1, sizeof(*acks));
    if (acks == NULL)
        return; /* delivered again on the next connection */
    c->acks = acks;
    memcpy(c->acks[c->n_acks++], envelope_id, 16);
}

/* The held group ended with err: acknowledged and owed receipts, or told as lost. */
void group_end(struct parley__core *c, parley_err err)
{
    if (err == PARLEY_OK && c->n_acks > 0)
        queue_delivered(c, (const uint8_t(*)[16])c->acks, c->n_acks);
    for (size_t i = 0; i < c->n_held; i++) {
        const struct held_text *h = &c->held[i];
        parley_event ev;

        if (err == PARLEY_OK) {
            receipt_due(c, h->conv, h->seq);
            continue;
        }
        event_init(&ev, PARLEY_EV_REJECTED, h->conv);
        ev.error = err;
        ev.seq = h->seq;
        memcpy(ev.sender_sign_pk, h->sender, 32);
        emit(c, &ev, NULL, 0);
    }
    c->n_acks = c->n_held = 0;
}

void settle_received(struct parley__core *c)
{
    if (c->vault->held || c->n_held > 0 || c->n_acks > 0)
        group_end(c, parley__vault_commit_held(c->vault));
}

void settle_hook(void *arg)
{
    settle_received(arg);
}

/* A text of the held group, owed a receipt once committed. */
static void hold_text(struct parley__core *c, const struct accept *a)
{
    struct held_text *h = parley__grow(c->held, &c->cap_held, c->n_held + 1, sizeof(*h));

    if (h == NULL)
        return; /* recorded all the same; only its delivery receipt waits for the next text */
    c->held = h;
    h = &c->held[c->n_held++];
    memcpy(h->conv, a->cv->id, 16);
    memcpy(h->sender, a->o->p->sender_sign_key.data, 32);
    h->seq = a->o->p->seq;
}

/*
 * Whether a's commit may wait in the held group: it changes no state the
 * application is told of, writes nothing to the outbox or pending, and
 * deletes no prekey. A body whose handler seals something (into the
 * outbox: sent once pumped, which must not happen before its record is
 * committed) must set one of these flags.
 */
static bool accept_may_wait(const struct accept *a)
{
    return !a->changed && a->handover == NULL && !a->notify_fanout && !a->erase && !a->claim &&
           !a->acknowledge && !a->consent_changed && !a->special && !a->o->used_prekey &&
           !a->o->used_mt;
}

/* Ends the joined transaction of a: held for the group, or lost with the group on err. */
static parley_err accept_hold(struct parley__core *c, const struct accept *a, parley_err err)
{
    if (err == PARLEY_OK)
        err = conv_save(c, a->cv);
    if (err != PARLEY_OK) {
        parley__vault_rollback(c->vault);
        group_end(c, err);
        return err;
    }
    parley__vault_hold(c->vault);
    return PARLEY_OK;
}

void receipt_due(struct parley__core *c, const uint8_t conv[16], uint64_t seq)
{
    for (size_t i = 0; i < c->n_receipts; i++)
        if (memcmp(c->receipts[i], conv, 16) == 0) {
            if (seq > c->receipt_seq[i])
                c->receipt_seq[i] = seq;
            return;
        }
    if (c->n_receipts < 64) {
        memcpy(c->receipts[c->n_receipts], conv, 16);
        c->receipt_seq[c->n_receipts++] = seq;
    }
}

parley_err accept_commit(struct parley__core *c, const struct accept *a)
{
    uint8_t when[8];
    size_t held = 0, n_before = c->n_out;
    bool wait = accept_may_wait(a);
    parley_err err = wait ? parley__vault_join(c->vault) : parley__vault_begin(c->vault);

    if (err != PARLEY_OK)
        return err;
    /* Remembered with its arrival time, so the retention sweep can forget it. */
    be64(when, c->now);
    err = parley__vault_put(c->vault, "seen", a->env->envelope_id.data, 16, when, sizeof(when));
    if (a->merge_history)
        held = history_held(c, a->cv, a->handover);
    for (size_t i = held; err == PARLEY_OK && a->handover != NULL && i < a->handover->n_history;
         i++) {
        const Parley__HistoryEntry *e = a->handover->history[i];
        err = history_add(c, a->cv, NULL, false,
                          e->from_customer ? a->cv->customer : a->o->p->sender_sign_key.data,
                          e->from_customer ? NULL : e->agent_id, 0, e->time_ms, e->text.data,
                          e->text.len, PARLEY_BODY_TEXT);
    }
    if (err == PARLEY_OK && a->text != NULL)
        err = history_add(c, a->cv, a->env->envelope_id.data, false,
                          a->o->p->sender_sign_key.data, a->sender_name, a->o->p->seq,
                          a->o->p->time_ms, a->text, a->text_len, PARLEY_BODY_TEXT);
    if (err == PARLEY_OK && a->o->used_prekey)
        err = parley__vault_del(c->vault, "prekey", a->o->used_pk, 32);
    if (err == PARLEY_OK && a->notify_fanout)
        err = notify_fanout(c, a->cv, &a->o->cert);
    if (err == PARLEY_OK && a->acknowledge)
        err = acknowledge_custody(c, a->cv, a->o->cert.sign_pk);
    if (err == PARLEY_OK && a->claim)
        err = seal_claim(c, a->cv);
    if (err == PARLEY_OK && a->erase)
        err = erase_local(c, a->cv);
    return wait ? accept_hold(c, a, err) : conv_commit(c, a->cv, err, n_before);
}

/* Bodies either side may receive from its current peer. */
void peer_body(struct parley__core *c, struct conv *cv, const struct opened *o,
               struct accept *a)
{
    const Parley__Payload *p = o->p;
    parley_event ev;

    event_init(&ev, 0, cv->id); /* its kind depends on the body */
    switch (p->body_case) {
    case PARLEY__PAYLOAD__BODY_TEXT:
        a->text = p->text->text.data;
        a->text_len = p->text->text.len;
        a->sender_name = o->is_agent ? o->cert.display_name : NULL;
        break;
    case PARLEY__PAYLOAD__BODY_RECEIPT:
        if (p->receipt->kind == PARLEY__RECEIPT__KIND__READ) {
            if (p->receipt->up_to_seq > cv->peer_read)
                cv->peer_read = p->receipt->up_to_seq;
            ev.kind = PARLEY_EV_READ;
        } else {
            if (p->receipt->up_to_seq > cv->peer_delivered)
                cv->peer_delivered = p->receipt->up_to_seq;
            ev.kind = PARLEY_EV_DELIVERED;
        }
        ev.seq = p->receipt->up_to_seq;
        emit(c, &ev, NULL, 0);
        break;
    case PARLEY__PAYLOAD__BODY_TYPING:
        typing_taken(cv, p);
        ev.kind = PARLEY_EV_TYPING;
        ev.active = p->typing->active;
        emit(c, &ev, NULL, 0);
        break;
    case PARLEY__PAYLOAD__BODY_CLOSE:
        cv->state = PARLEY_CONV_CLOSED;
        conv_forget_keys(cv);
        a->changed = true;
        break;
    case PARLEY__PAYLOAD__BODY_ERASE:
        /* Only an agent acts on it, once erasure_check found it the customer's, for cv. */
        if (!c->agent)
            break;
        a->erase = true;
        cv->state = PARLEY_CONV_CLOSED;
        conv_forget_keys(cv);
        a->changed = true;
        break;
    default:
        break;
    }
}

/*
 * A text just taken: shown to the application, and owed a delivery
 * receipt, at once when committed, else once its group is.
 */
void emit_received_text(struct parley__core *c, const struct accept *a)
{
    if (a->text == NULL)
        return;
    emit_message(c, a->cv, a->o, a->text, a->text_len);
    if (c->vault->held)
        hold_text(c, a);
    else
        receipt_due(c, a->cv->id, a->o->p->seq);
}

/* Reports a payload refused with err, and acknowledges it: it will not be taken later either. */
void refuse(struct parley__core *c, const Parley__Envelope *env, parley_err err)
{
    emit_rejected(c, env->conversation_id.data, err);
    send_delivered(c, env->envelope_id.data);
}

void on_deliver(struct parley__core *c, const Parley__Envelope *env, uint64_t now)
{
    struct conv cv;
    struct opened o;
    uint8_t *seen = NULL;
    size_t seen_len = 0;
    bool have_conv;
    parley_err err;

    if (!parley__len_is(env->envelope_id, 16) || !parley__len_is(env->conversation_id, 16) ||
        env->sealed.data == NULL) {
        emit_rejected(c, NULL, PARLEY_EMALFORMED);
        if (parley__len_is(env->envelope_id, 16))
            send_delivered(c, env->envelope_id.data);
        return;
    }
    /* Already recorded: the relay did not get our acknowledgement. Acknowledge again, show nothing. */
    if (parley__vault_get(c->vault, "seen", env->envelope_id.data, 16, &seen, &seen_len) ==
        PARLEY_OK) {
        parley_free(seen, seen_len);
        send_delivered(c, env->envelope_id.data);
        return;
    }
    have_conv = conv_load(c, env->conversation_id.data, &cv) == PARLEY_OK;
    if (!have_conv)
        memset(&cv, 0, sizeof(cv));
    err = open_envelope(c, env, &cv, have_conv, &o, now);
    if (err == PARLEY_EBADSEAL && have_conv &&
        (cv.state == PARLEY_CONV_CLOSED || cv.state == PARLEY_CONV_TRANSFERRED ||
         cv.state == PARLEY_CONV_TAKEN)) {
        /* Late traffic for a conversation whose keys are gone by design: dropped quietly. */
        send_delivered(c, env->envelope_id.data);
    } else if (err != PARLEY_OK) {
        emit_rejected(c, env->conversation_id.data, err);
        send_delivered(c, env->envelope_id.data);
    } else if (c->agent) {
        agent_receive(c, env, &cv, have_conv, &o, now);
    } else {
        customer_receive(c, env, &cv, have_conv, &o, now);
    }
    parley__payload_free(o.p);
    conv_free(&cv);
}
