/*
 * Application calls on conversations: open, send, claim, close, receipts and
 * typing.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/* The index of queue in the held directory, or -1. */
static int queue_index(const struct parley__core *c, const char *queue)
{
    int qi = -1;

    for (size_t q = 0; q < parley_directory_queue_count(c->dir); q++)
        if (strcmp(parley_directory_queue_name(c->dir, q), queue) == 0)
            qi = (int)q;
    return qi;
}

/*
 * A new conversation of this customer in queue qi, waiting: its id bound
 * to the customer key by a salt that stays here and travels only end to
 * end, and the valid agents of the queue its Open goes to.
 */
static void conv_new_customer(const struct parley__core *c, const char *queue, size_t qi,
                              struct conv *cv)
{
    memset(cv, 0, sizeof(*cv));
    randombytes_buf(cv->salt, sizeof(cv->salt));
    cv->has_salt = true;
    memcpy(cv->customer, parley_identity_sign_pk(c->id), 32);
    cv->has_customer = true;
    parley_conversation_id(cv->customer, cv->salt, cv->id);
    cv->state = PARLEY_CONV_WAITING;
    parley__copy_str(cv->queue, sizeof(cv->queue), queue);
    cv->my_seq = 1; /* the Open is seq 1 to every agent */
    for (size_t i = 0; i < parley_directory_queue_size(c->dir, qi); i++) {
        int a = parley_directory_find_agent(c->dir, parley_directory_queue_agent(c->dir, qi, i));
        parley_cert_info info;

        if (a >= 0 && parley_directory_agent(c->dir, (size_t)a, &info) == PARLEY_OK &&
            cv->n_fanout < MAX_FANOUT)
            memcpy(cv->fanout[cv->n_fanout++], info.sign_pk, 32);
    }
}

/* In one transaction: the Open waiting for a prekey of each agent, the first text, the state. */
static parley_err open_commit(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                              const char *text, size_t n, uint64_t now)
{
    parley_err err = parley__vault_begin(c->vault);

    for (size_t i = 0; err == PARLEY_OK && i < cv->n_fanout; i++)
        err = pending_add(c, cv->id, cv->fanout[i], p);
    if (err == PARLEY_OK)
        err = history_add(c, cv, NULL, true, cv->customer, NULL, 1, now, (const uint8_t *)text,
                          n, PARLEY_BODY_TEXT);
    if (err == PARLEY_OK)
        err = conv_save(c, cv);
    if (err == PARLEY_OK)
        err = parley__vault_commit(c->vault);
    else if (c->vault->in_tx)
        parley__vault_rollback(c->vault);
    return err;
}

bool parley__core_erase_confirmed(const struct parley__core *c)
{
    return !c->agent && c->erase_confirmed && c->erase_request.n == 0;
}

void parley__core_wiped(struct parley__core *c)
{
    c->wiped = true;
}

parley_err parley__core_open(struct parley__core *c, const char *queue, const char *text,
                             uint8_t conversation_id[16], uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Open o = PARLEY__OPEN__INIT;
    Parley__ConsentReceipt *consent = NULL;
    struct conv cv;
    size_t n = text != NULL ? strlen(text) : 0;
    int qi;
    parley_err err;

    if (c->agent)
        return PARLEY_ESTATE;
    if (!dir_valid(c, now))
        return PARLEY_ENODIRECTORY;
    if (!parley__core_has_consent(c))
        return PARLEY_ENOCONSENT;
    if (text == NULL || n > PARLEY_MAX_TEXT || !parley__utf8_valid((const uint8_t *)text, n, true) ||
        !parley_id_valid(queue) || (qi = queue_index(c, queue)) < 0)
        return PARLEY_EINVAL;
    err = brand_policy_check(c, text, n);
    if (err == PARLEY_OK)
        err = special_check(c, NULL, text, n);
    if (err != PARLEY_OK)
        return err;
    conv_new_customer(c, queue, (size_t)qi, &cv);
    if (cv.n_fanout == 0)
        return PARLEY_ENOAGENT;
    /* The customer's consents to special categories go first, inside the Open. */
    if (!buf_set(&cv.consent, c->consent.p, c->consent.n) ||
        (consent = parley__consent_receipt__unpack(NULL, c->consent.n, c->consent.p)) == NULL ||
        special_for_open(c, &cv, &o) != PARLEY_OK) {
        special_open_done(c, &o, false);
        if (consent != NULL)
            parley__consent_receipt__free_unpacked(consent, NULL);
        conv_free(&cv);
        return PARLEY_ENOMEM;
    }
    o.queue = cv.queue;
    o.consent = consent;
    o.conversation_salt = (ProtobufCBinaryData){16, cv.salt};
    o.text = (ProtobufCBinaryData){n, (uint8_t *)text};
    o.customer_box_key = (ProtobufCBinaryData){0, NULL}; /* set when sealed */
    p.body_case = PARLEY__PAYLOAD__BODY_OPEN;
    p.open = &o;
    err = open_commit(c, &cv, &p, text, n, now);
    special_open_done(c, &o, err == PARLEY_OK);
    parley__consent_receipt__free_unpacked(consent, NULL);
    if (err == PARLEY_OK) {
        memcpy(conversation_id, cv.id, 16);
        emit_state(c, &cv);
        flush_pending(c, now);
    }
    conv_free(&cv);
    return err;
}

static bool can_send(const struct parley__core *c, const struct conv *cv)
{
    if (c->agent)
        return cv->state == PARLEY_CONV_ACTIVE;
    return cv->state == PARLEY_CONV_WAITING || cv->state == PARLEY_CONV_ACTIVE ||
           cv->state == PARLEY_CONV_TRANSFERRING;
}

parley_err parley__core_send_text(struct parley__core *c, const uint8_t conv[16],
                                  const char *text, uint64_t *seq, uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Text t = PARLEY__TEXT__INIT;
    struct conv cv;
    size_t n = text != NULL ? strlen(text) : 0;
    parley_err err;

    if (seq != NULL)
        *seq = 0;
    if (!c->agent && !parley__core_has_consent(c))
        return PARLEY_ENOCONSENT;
    if (text == NULL || n > PARLEY_MAX_TEXT || !parley__utf8_valid((const uint8_t *)text, n, true))
        return PARLEY_EINVAL;
    err = brand_policy_check(c, text, n);
    if (err != PARLEY_OK)
        return err;
    err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err == PARLEY_EINVAL ? PARLEY_EINVAL : err;
    if (!can_send(c, &cv))
        err = PARLEY_ESTATE;
    else
        err = special_check(c, &cv, text, n);
    if (err != PARLEY_OK) {
        conv_free(&cv);
        return err;
    }
    t.text = (ProtobufCBinaryData){n, (uint8_t *)text};
    p.body_case = PARLEY__PAYLOAD__BODY_TEXT;
    p.text = &t;
    if (cv.state == PARLEY_CONV_ACTIVE) {
        err = send_now(c, &cv, &p, (const uint8_t *)text, n, seq, now);
    } else {
        /* No agent yet: kept (on disk) until one claims, then sealed to it. */
        err = pending_add(c, cv.id, NULL, &p);
    }
    conv_free(&cv);
    return err;
}

parley_err parley__core_claim(struct parley__core *c, const uint8_t conv[16], uint64_t now)
{
    struct conv cv;
    parley_err err;

    if (!c->agent)
        return PARLEY_ESTATE;
    err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err;
    if (cv.state != PARLEY_CONV_QUEUED) {
        conv_free(&cv);
        return PARLEY_ESTATE;
    }
    cv.state = PARLEY_CONV_ACTIVE;
    err = send_claim(c, &cv, now);
    if (err == PARLEY_OK)
        emit_state(c, &cv);
    conv_free(&cv);
    return err;
}

parley_err parley__core_close(struct parley__core *c, const uint8_t conv[16], const char *reason,
                              uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Close cl = PARLEY__CLOSE__INIT;
    struct conv cv;
    parley_err err = conv_load(c, conv, &cv);

    if (err != PARLEY_OK)
        return err;
    if (cv.state == PARLEY_CONV_CLOSED) {
        conv_free(&cv);
        return PARLEY_OK;
    }
    /* Closed here also when its agent may not be written to: only the Close is not sealed. */
    if (cv.state == PARLEY_CONV_ACTIVE && peer_refusal(c, &cv, now) == PARLEY_OK) {
        cl.reason = (char *)(reason != NULL ? reason : "");
        p.body_case = PARLEY__PAYLOAD__BODY_CLOSE;
        p.close = &cl;
        err = send_now(c, &cv, &p, NULL, 0, NULL, now);
    }
    if (err == PARLEY_OK) {
        cv.state = PARLEY_CONV_CLOSED;
        conv_forget_keys(&cv);
        err = conv_save(c, &cv);
    }
    if (err == PARLEY_OK)
        emit_state(c, &cv);
    conv_free(&cv);
    return err;
}

static parley_err send_small(struct parley__core *c, const uint8_t conv[16], Parley__Payload *p,
                             uint64_t now)
{
    struct conv cv;
    parley_err err = conv_load(c, conv, &cv);

    if (err != PARLEY_OK)
        return err;
    err = cv.state == PARLEY_CONV_ACTIVE ? send_now(c, &cv, p, NULL, 0, NULL, now) : PARLEY_ESTATE;
    conv_free(&cv);
    return err;
}

parley_err parley__core_mark_read(struct parley__core *c, const uint8_t conv[16], uint64_t seq,
                                  uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Receipt r = PARLEY__RECEIPT__INIT;

    r.kind = PARLEY__RECEIPT__KIND__READ;
    r.up_to_seq = seq;
    p.body_case = PARLEY__PAYLOAD__BODY_RECEIPT;
    p.receipt = &r;
    return send_small(c, conv, &p, now);
}

parley_err parley__core_typing(struct parley__core *c, const uint8_t conv[16], int active,
                               uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Typing t = PARLEY__TYPING__INIT;
    Parley__AgentCert *cert = NULL;
    struct out_item it;
    const uint8_t *sign, *box;
    uint8_t routing[32], *sealed = NULL;
    size_t sealed_len = 0;
    struct conv cv;
    parley_err err = conv_load(c, conv, &cv);

    if (err != PARLEY_OK)
        return err;
    /*
     * A typing notice is fleeting: sealed and sent now if connected, never
     * written to the outbox nor resent, and it neither uses a sequence
     * number nor announces a key: it carries the last number and a time
     * later than the previous notice's, which receivers check (§11.4).
     */
    if (cv.state != PARLEY_CONV_ACTIVE || !conv_peer(c, &cv, &sign, &box)) {
        err = PARLEY_ESTATE;
        goto done;
    }
    if ((err = peer_check(c, &cv, now)) != PARLEY_OK)
        goto done;
    if (c->net != NET_READY)
        goto done;
    if (c->agent && (cert = parley__agent_cert__unpack(NULL, c->cert.n, c->cert.p)) == NULL) {
        err = PARLEY_EMALFORMED;
        goto done;
    }
    t.active = active != 0;
    p.body_case = PARLEY__PAYLOAD__BODY_TYPING;
    p.typing = &t;
    p.sender_cert = cert;
    p.conversation_id = (ProtobufCBinaryData){16, cv.id};
    p.seq = cv.my_seq > 0 ? cv.my_seq : 1;
    /* Each later than the last: receivers take a notice only after the one before (§11.4). */
    p.time_ms = now > c->typing_ms ? now : c->typing_ms + 1;
    memset(&it, 0, sizeof(it));
    err = parley__seal_payload(&p, c->id, box, &sealed, &sealed_len);
    if (err == PARLEY_OK) {
        randombytes_buf(it.envelope_id, 16);
        route_to(c, &cv, sign, routing);
        err = parley__envelope_pack(it.envelope_id, cv.id, routing, sealed, sealed_len, &it.env,
                                    &it.env_len);
    }
    if (err == PARLEY_OK) {
        c->typing_ms = p.time_ms;
        queue_send(c, &it);
    }
    free(it.env);
    free(sealed);
    if (cert != NULL)
        parley__agent_cert__free_unpacked(cert, NULL);
done:
    conv_free(&cv);
    return err;
}

parley_err parley__core_state(struct parley__core *c, const uint8_t conv[16],
                              parley_conv_state *state)
{
    struct conv cv;
    parley_err err = conv_load(c, conv, &cv);

    if (err == PARLEY_OK)
        *state = cv.state;
    conv_free(&cv);
    return err;
}
