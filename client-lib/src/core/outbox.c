/*
 * Sealing and the outbox: payloads sealed to the peer, written to the outbox
 * in the transaction of the state they change, sent until the relay
 * acknowledges them.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define OUTBOX_WINDOW 64u
#define RETRY_MS 2000u

static size_t varint(uint8_t *out, size_t v)
{
    size_t n = 0;

    do {
        out[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v != 0)
            out[n] |= 0x80;
        n++;
    } while (v != 0);
    return n;
}

/* Frame{send: envelope}: field 4, length-delimited, around the stored bytes. */
void queue_send(struct parley__core *c, const struct out_item *it)
{
    struct buf b;
    struct buf *frames =
        parley__grow(c->frames, &c->cap_frames, c->n_frames + 1, sizeof(*frames));
    uint8_t head[11];
    size_t h;

    if (frames == NULL)
        return;
    c->frames = frames;
    head[0] = 0x22;
    h = 1 + varint(head + 1, it->env_len);
    b.n = h + it->env_len;
    b.p = malloc(b.n);
    if (b.p == NULL)
        return;
    memcpy(b.p, head, h);
    memcpy(b.p + h, it->env, it->env_len);
    c->frames[c->n_frames++] = b;
}

void pump_outbox(struct parley__core *c, uint64_t now)
{
    size_t in_flight = 0;

    if (c->net != NET_READY)
        return;
    for (size_t i = 0; i < c->n_out; i++)
        in_flight += c->out[i].in_flight;
    for (size_t i = 0; i < c->n_out && in_flight < OUTBOX_WINDOW; i++) {
        struct out_item *it = &c->out[i];
        if (it->in_flight || it->retry_at > now)
            continue;
        queue_send(c, it);
        it->in_flight = true;
        in_flight++;
    }
}

struct out_item *out_add(struct parley__core *c)
{
    struct out_item *out = parley__grow(c->out, &c->cap_out, c->n_out + 1, sizeof(*out));

    if (out == NULL)
        return NULL;
    c->out = out;
    memset(&c->out[c->n_out], 0, sizeof(c->out[0]));
    return &c->out[c->n_out++];
}

void out_remove(struct parley__core *c, size_t i)
{
    free(c->out[i].env);
    memmove(&c->out[i], &c->out[i + 1], (c->n_out - i - 1) * sizeof(c->out[0]));
    c->n_out--;
}

/*
 * The routing id of a recipient: an agent's client writes to its customer
 * in the customer domain and to colleagues (handovers) in the agent
 * domain; a customer writes only to agents.
 */
void route_to(const struct parley__core *c, const struct conv *cv, const uint8_t to_sign[32],
              uint8_t routing[32])
{
    bool customer = c->agent && cv->has_customer && memcmp(to_sign, cv->customer, 32) == 0;

    parley_routing_id(to_sign, customer ? PARLEY_ROUTING_CUSTOMER : PARLEY_ROUTING_AGENT, routing);
}

/*
 * Writes an envelope to the outbox (row and memory) for conversation
 * conv, seq. On PARLEY_OK the outbox owns *env and *env is NULL.
 */
static parley_err outbox_put(struct parley__core *c, const uint8_t envelope_id[16],
                             const uint8_t conv[16], uint64_t seq, uint8_t **env, size_t env_len)
{
    Parley__OutboxEntry e = PARLEY__OUTBOX_ENTRY__INIT;
    struct out_item *it;
    uint8_t row[8];
    parley_err err;

    e.envelope_id = (ProtobufCBinaryData){16, (uint8_t *)envelope_id};
    e.envelope = (ProtobufCBinaryData){env_len, *env};
    e.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)conv};
    e.seq = seq;
    be64(row, c->next_row);
    err = parley__vault_put_pb(c->vault, "outbox", row, sizeof(row), &e.base);
    if (err != PARLEY_OK)
        return err;
    it = out_add(c);
    if (it == NULL)
        return PARLEY_ENOMEM;
    it->key = c->next_row++;
    memcpy(it->envelope_id, envelope_id, 16);
    memcpy(it->conv, conv, 16);
    it->seq = seq;
    it->env = *env;
    it->env_len = env_len;
    *env = NULL;
    return PARLEY_OK;
}

/*
 * Seals p for (to_sign, to_box) in conversation cv and writes it to the
 * outbox. seq 0 means the next of cv; announce adds a fresh receive key.
 * Must run inside a vault transaction; the caller saves cv and commits,
 * then calls pump_outbox. On failure nothing is added in memory.
 */
parley_err seal_to_outbox(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                          uint64_t seq, bool announce, const uint8_t to_sign[32],
                          const uint8_t to_box[32], uint64_t now, uint64_t *seq_out)
{
    /* p may come from an unpack: every field set here is put back before return. */
    Parley__Payload saved = *p;
    ProtobufCBinaryData saved_open_key = {0, NULL};
    Parley__AgentCert *cert = NULL;
    uint8_t envelope_id[16], routing[32];
    uint8_t *sealed = NULL, *env = NULL;
    size_t sealed_len = 0, env_len = 0;
    parley_err err;

    if (c->agent) {
        cert = parley__agent_cert__unpack(NULL, c->cert.n, c->cert.p);
        if (cert == NULL)
            return PARLEY_EMALFORMED;
    }
    p->sender_cert = cert;
    p->conversation_id = (ProtobufCBinaryData){16, cv->id};
    p->seq = seq != 0 ? seq : ++cv->my_seq;
    p->time_ms = now;
    if (announce)
        p->next_receive_key = (ProtobufCBinaryData){32, (uint8_t *)conv_receive_key(cv, now)};
    if (p->body_case == PARLEY__PAYLOAD__BODY_OPEN) {
        saved_open_key = p->open->customer_box_key;
        p->open->customer_box_key = p->next_receive_key;
    }
    *seq_out = p->seq;
    err = parley__seal_payload(p, c->id, to_box, &sealed, &sealed_len);
    if (err == PARLEY_OK) {
        randombytes_buf(envelope_id, sizeof(envelope_id));
        route_to(c, cv, to_sign, routing);
        err = parley__envelope_pack(envelope_id, cv->id, routing, sealed, sealed_len, &env,
                                    &env_len);
    }
    if (err == PARLEY_OK)
        err = outbox_put(c, envelope_id, cv->id, p->seq, &env, env_len);
    if (p->body_case == PARLEY__PAYLOAD__BODY_OPEN)
        p->open->customer_box_key = saved_open_key;
    *p = saved;
    if (cert != NULL)
        parley__agent_cert__free_unpacked(cert, NULL);
    free(sealed);
    free(env);
    return err;
}

/*
 * Ends the transaction a change of cv runs in: on err == PARLEY_OK, saves
 * cv and commits; otherwise (or when that fails) rolls back, and the
 * envelopes sealed into the outbox since it held n_before go from memory
 * too. Returns the outcome.
 */
parley_err conv_commit(struct parley__core *c, const struct conv *cv, parley_err err,
                       size_t n_before)
{
    if (err == PARLEY_OK)
        err = conv_save(c, cv);
    if (err == PARLEY_OK)
        err = parley__vault_commit(c->vault);
    else
        parley__vault_rollback(c->vault);
    if (err != PARLEY_OK)
        while (c->n_out > n_before)
            out_remove(c, c->n_out - 1);
    return err;
}

/* The peer of cv: who we seal to now. False when not known yet. */
bool conv_peer(const struct parley__core *c, const struct conv *cv, const uint8_t **sign,
               const uint8_t **box)
{
    if (!cv->has_peer_rk)
        return false;
    if (c->agent) {
        if (!cv->has_customer)
            return false;
        *sign = cv->customer;
    } else {
        if (cv->agent_cert.n == 0)
            return false;
        *sign = cv->agent.sign_pk;
    }
    *box = cv->peer_rk;
    return true;
}

/*
 * Customers: why nothing more may be sealed to the agent holding cv: the
 * directory held revokes it (PARLEY_EREVOKED), or has expired, so that it
 * could be hiding a revocation (PARLEY_ENODIRECTORY). PARLEY_OK otherwise.
 */
parley_err peer_refusal(const struct parley__core *c, const struct conv *cv, uint64_t now)
{
    const parley_revlist *revs;

    if (c->agent || cv->agent_cert.n == 0)
        return PARLEY_OK;
    revs = c->dir != NULL ? parley_directory_revocations(c->dir) : NULL;
    if (revs != NULL && parley_revlist_contains(revs, cv->agent.serial))
        return PARLEY_EREVOKED;
    return dir_valid(c, now) ? PARLEY_OK : PARLEY_ENODIRECTORY;
}

/* Customers: refuses sealing to the agent of cv as peer_refusal says, and tells the application. */
parley_err peer_check(struct parley__core *c, const struct conv *cv, uint64_t now)
{
    parley_err err = peer_refusal(c, cv, now);

    if (err != PARLEY_OK)
        emit_rejected(c, cv->id, err);
    return err;
}

/*
 * Sends p to the conversation's peer now: seal, outbox, whatever `also`
 * adds, save, commit. announce: with a fresh receive key. Drops the
 * newest out item again if the commit fails.
 */
parley_err send_now_with(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                         bool announce, send_also_fn also, void *arg, uint64_t *seq,
                         uint64_t now)
{
    const uint8_t *sign, *box;
    size_t n_before = c->n_out;
    uint64_t used = 0;
    parley_err err;

    if (!conv_peer(c, cv, &sign, &box))
        return PARLEY_ESTATE;
    err = peer_check(c, cv, now);
    if (err == PARLEY_OK)
        err = parley__vault_begin(c->vault);
    if (err != PARLEY_OK)
        return err;
    err = seal_to_outbox(c, cv, p, 0, announce, sign, box, now, &used);
    if (err == PARLEY_OK && also != NULL)
        err = also(c, cv, used, arg);
    err = conv_commit(c, cv, err, n_before);
    if (err != PARLEY_OK)
        return err;
    if (seq != NULL)
        *seq = used;
    pump_outbox(c, now);
    return PARLEY_OK;
}

struct sent_text {
    const uint8_t *text;
    size_t len;
    uint64_t now;
};

/* The text just sealed goes to our own history. */
static parley_err sent_to_history(struct parley__core *c, struct conv *cv, uint64_t seq,
                                  void *arg)
{
    const struct sent_text *t = arg;

    return history_add(c, cv, c->out[c->n_out - 1].envelope_id, true,
                       parley_identity_sign_pk(c->id), c->agent ? c->cert_info.display_name : NULL,
                       seq, t->now, t->text, t->len, PARLEY_BODY_TEXT);
}

/* Sends p to the conversation's peer now, announcing a fresh key; a text also goes to history. */
parley_err send_now(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                    const uint8_t *history_text, size_t history_len, uint64_t *seq,
                    uint64_t now)
{
    struct sent_text t = {history_text, history_len, now};

    return send_now_with(c, cv, p, true, history_text != NULL ? sent_to_history : NULL, &t, seq,
                         now);
}

/*
 * The relay holds the envelope: it leaves the outbox. The row itself is
 * deleted at the next tick, with every other acknowledged row, in one
 * transaction; should the process die first, the envelope is simply sent
 * again and acknowledged again (the relay and the recipient both
 * de-duplicate by envelope id).
 */
void on_ack(struct parley__core *c, const Parley__Ack *a)
{
    if (!parley__len_is(a->envelope_id, 16))
        return;
    for (size_t i = 0; i < c->n_out; i++) {
        parley_event ev;
        uint64_t *acked;

        if (memcmp(c->out[i].envelope_id, a->envelope_id.data, 16) != 0)
            continue;
        acked = parley__grow(c->acked, &c->cap_acked, c->n_acked + 1, sizeof(*acked));
        if (acked == NULL)
            return; /* kept: resent later, acknowledged again */
        c->acked = acked;
        c->acked[c->n_acked++] = c->out[i].key;
        event_init(&ev, PARLEY_EV_SENT, c->out[i].conv);
        ev.seq = c->out[i].seq;
        out_remove(c, i);
        emit(c, &ev, NULL, 0);
        return;
    }
}

/*
 * The rows of acknowledged envelopes go in the held group of received
 * payloads (receive.c), or start one: a crash that loses them only sends
 * those envelopes again, acknowledged again.
 */
void flush_acked(struct parley__core *c)
{
    uint8_t row[8];
    parley_err err;

    if (c->n_acked == 0 || parley__vault_join(c->vault) != PARLEY_OK)
        return;
    err = PARLEY_OK;
    for (size_t i = 0; err == PARLEY_OK && i < c->n_acked; i++) {
        be64(row, c->acked[i]);
        err = parley__vault_del(c->vault, "outbox", row, sizeof(row));
    }
    if (err != PARLEY_OK) {
        parley__vault_rollback(c->vault);
        group_end(c, err); /* what the group held is lost with it: told */
        return;
    }
    parley__vault_hold(c->vault);
    c->n_acked = 0;
}

void on_error(struct parley__core *c, const Parley__Error *e, uint64_t now)
{
    parley_event ev;

    /* Envelopes refused for now (rate, quota, store): resent after a pause. */
    if (parley__len_is(e->envelope_id, 16) && (e->code == PARLEY__ERROR__CODE__RATE_LIMITED ||
                                               e->code == PARLEY__ERROR__CODE__QUOTA_FULL ||
                                               e->code == PARLEY__ERROR__CODE__UNAVAILABLE)) {
        for (size_t i = 0; i < c->n_out; i++)
            if (memcmp(c->out[i].envelope_id, e->envelope_id.data, 16) == 0) {
                c->out[i].in_flight = false;
                c->out[i].retry_at = now + RETRY_MS;
            }
    }
    event_init(&ev, PARLEY_EV_RELAY_ERROR, NULL);
    ev.relay_code = (int)e->code;
    ev.error = PARLEY_EIO;
    emit(c, &ev, NULL, 0);
}
