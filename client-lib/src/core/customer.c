/*
 * Receiving, customers' side: claims in custody order, transfers, and what
 * the current agent sends.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/* Customer: tells every other agent the Open went to that the conversation is taken. */
parley_err notify_fanout(struct parley__core *c, struct conv *cv,
                         const parley_cert_info *winner)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Claim cl = PARLEY__CLAIM__INIT;
    parley_err err = PARLEY_OK;

    cl.agent_id = (char *)winner->agent_id;
    p.body_case = PARLEY__PAYLOAD__BODY_CLAIM;
    p.claim = &cl;
    /* The list stays: these agents hold the first message, and hear of an erasure too. */
    for (size_t i = 0; err == PARLEY_OK && i < cv->n_fanout; i++)
        if (memcmp(cv->fanout[i], winner->sign_pk, 32) != 0)
            err = pending_add(c, cv->id, cv->fanout[i], &p);
    return err;
}

/* Customer: queues its signed acknowledgement of the agent now holding cv, for that agent. */
parley_err acknowledge_custody(struct parley__core *c, const struct conv *cv,
                               const uint8_t agent[32])
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__CustodyAck *ack;
    uint8_t *packed;
    size_t len;
    parley_err err = parley__custody_ack_make(c->id, cv->id, agent, cv->custody, c->now, &packed,
                                              &len);

    if (err != PARLEY_OK)
        return err;
    ack = parley__custody_ack__unpack(NULL, len, packed);
    free(packed);
    if (ack == NULL)
        return PARLEY_ENOMEM;
    p.body_case = PARLEY__PAYLOAD__BODY_CUSTODY_ACK;
    p.custody_ack = ack;
    err = pending_add(c, cv->id, NULL, &p);
    parley__custody_ack__free_unpacked(ack, NULL);
    return err;
}

/*
 * Customer: an agent's claim, in custody order (§11.3): the first claim
 * from an agent the Open went to, following no custody; or, during a
 * transfer, the claim of the target the current agent announced,
 * following the current custody counter. Each accepted claim moves the
 * counter on by one, and the customer acknowledges it. Sets *notify when
 * the other agents must be told.
 */
static bool customer_claim(struct conv *cv, const struct opened *o, bool *notify)
{
    bool from_fanout = false, first, transfer;

    for (size_t i = 0; i < cv->n_fanout; i++)
        from_fanout = from_fanout || memcmp(cv->fanout[i], o->cert.sign_pk, 32) == 0;
    first = cv->state == PARLEY_CONV_WAITING && from_fanout && cv->custody == 0 &&
            o->p->claim->custody == 0;
    transfer = cv->state == PARLEY_CONV_TRANSFERRING &&
               memcmp(cv->target.sign_pk, o->cert.sign_pk, 32) == 0 &&
               o->p->claim->custody == cv->custody;
    if (!(first || transfer) || !buf_set_pb(&cv->agent_cert, &o->p->sender_cert->base))
        return false;
    cv->agent = o->cert;
    *notify = first;
    if (!from_fanout && cv->n_fanout < MAX_FANOUT)
        memcpy(cv->fanout[cv->n_fanout++], o->cert.sign_pk, 32); /* a transfer target */
    buf_free(&cv->target_cert);
    memset(&cv->target, 0, sizeof(cv->target));
    cv->state = PARLEY_CONV_ACTIVE;
    cv->custody++;
    return true;
}

/* Customer: the current agent announces a transfer; the target must hold a valid certificate. */
static parley_err customer_transfer(struct parley__core *c, struct conv *cv,
                                    const Parley__Transfer *t, uint64_t now)
{
    parley_cert_info target;
    uint8_t *tb;
    size_t tl;
    parley_err err = parley__pack(&t->target->base, &tb, &tl);

    if (err != PARLEY_OK)
        return err;
    err = parley_cert_verify(tb, tl, c->brand_pk, c->brand_id, now / 1000u,
                             c->dir != NULL ? parley_directory_revocations(c->dir) : NULL,
                             &target);
    if (err == PARLEY_OK && sodium_memcmp(target.sign_pk, cv->agent.sign_pk, 32) == 0)
        err = PARLEY_ECUSTODY; /* to itself: no transfer at all */
    if (err == PARLEY_OK && !buf_set(&cv->target_cert, tb, tl))
        err = PARLEY_ENOMEM;
    if (err == PARLEY_OK) {
        cv->target = target;
        cv->state = PARLEY_CONV_TRANSFERRING;
    }
    free(tb);
    return err;
}

/* A claim from an agent that does not hold the conversation yet, in custody order. */
static parley_err customer_take_claim(struct parley__core *c, struct conv *cv,
                                      const struct opened *o, struct accept *a)
{
    /* Too late, not an agent of this conversation, or out of custody order: not shown. */
    if (!customer_claim(cv, o, &a->notify_fanout))
        return PARLEY_ECUSTODY;
    a->changed = true;
    a->acknowledge = true;
    seq_ok(c, cv, o, true);
    return PARLEY_OK;
}

/*
 * What the current agent sends, once its sequence number passed. A
 * transfer to a target that does not verify is reported, and the payload
 * is still taken (acknowledged, its keys noted) without changing state.
 */
static void customer_take_from_agent(struct parley__core *c, struct conv *cv,
                                     const struct opened *o, struct accept *a, uint64_t now)
{
    parley_err err;

    if (o->p->body_case != PARLEY__PAYLOAD__BODY_TRANSFER) {
        peer_body(c, cv, o, a);
        return;
    }
    err = customer_transfer(c, cv, o->p->transfer, now);
    if (err != PARLEY_OK)
        emit_rejected(c, cv->id, err);
    a->changed = err == PARLEY_OK;
}

/* A payload taken: keys noted, recorded (committed or held), acknowledged once committed, told. */
static void customer_accept(struct parley__core *c, struct accept *a, uint64_t now)
{
    const Parley__Payload *p = a->o->p;
    struct conv *cv = a->cv;

    if (p->next_receive_key.len == 32 && cv->state != PARLEY_CONV_CLOSED) {
        memcpy(cv->peer_rk, p->next_receive_key.data, 32);
        cv->has_peer_rk = true;
    }
    conv_keys_used(cv, a->o->used_pk);
    if (accept_commit(c, a) != PARLEY_OK)
        return; /* not acknowledged: the relay delivers it again */
    send_delivered(c, a->env->envelope_id.data);
    if (a->changed)
        emit_state(c, cv);
    emit_received_text(c, a);
    if (a->changed && cv->state == PARLEY_CONV_ACTIVE)
        flush_pending(c, now);
}

void customer_receive(struct parley__core *c, const Parley__Envelope *env, struct conv *cv,
                      bool have_conv, struct opened *o, uint64_t now)
{
    const Parley__Payload *p = o->p;
    struct accept a = {.env = env, .cv = cv, .o = o};
    bool current;
    parley_err err = PARLEY_OK;

    if (!have_conv || !o->is_agent) {
        refuse(c, env, PARLEY_EUNTRUSTED);
        return;
    }
    if (replayed(c, env, cv, o))
        return;
    current = cv->agent_cert.n > 0 && cv->state != PARLEY_CONV_TRANSFERRING &&
              memcmp(cv->agent.sign_pk, o->cert.sign_pk, 32) == 0;
    if (!dir_valid(c, now) && ((p->body_case == PARLEY__PAYLOAD__BODY_CLAIM && !current) ||
                               p->body_case == PARLEY__PAYLOAD__BODY_TRANSFER)) {
        /* A new agent's certificate, with a directory that may hide its revocation. */
        err = PARLEY_ENODIRECTORY;
    } else if (p->body_case == PARLEY__PAYLOAD__BODY_CLAIM && !current) {
        err = customer_take_claim(c, cv, o, &a);
    } else if (current) {
        if (p->body_case != PARLEY__PAYLOAD__BODY_TYPING && !seq_ok(c, cv, o, false)) {
            send_delivered(c, env->envelope_id.data);
            return;
        }
        customer_take_from_agent(c, cv, o, &a, now);
    } else {
        /* A transfer only the current agent may announce; nobody else speaks here. */
        err = p->body_case == PARLEY__PAYLOAD__BODY_TRANSFER ? PARLEY_ECUSTODY
                                                             : PARLEY_EUNTRUSTED;
    }
    if (err != PARLEY_OK) {
        refuse(c, env, err);
        return;
    }
    customer_accept(c, &a, now);
}
