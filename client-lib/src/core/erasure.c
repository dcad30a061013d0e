/*
 * Erasure, customers' side: the signed request to the relay and the agents,
 * what waits to go out dropped, what was kept about agents forgotten.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

int collect_conv_id(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                           size_t val_len)
{
    struct conv_ids *l = arg;
    struct conv_ref *r;
    Parley__ConversationState *s;

    if (key_len != 16)
        return 0;
    r = parley__grow(l->ids, &l->cap, l->n + 1, sizeof(*r));
    if (r == NULL)
        return -1;
    l->ids = r;
    r = &l->ids[l->n++];
    memset(r, 0, sizeof(*r));
    memcpy(r->id, key, 16);
    s = parley__conversation_state__unpack(&parley__wiping_allocator, val_len, val);
    if (s != NULL && parley__len_is(s->conversation_salt, 16)) {
        memcpy(r->salt, s->conversation_salt.data, 16);
        r->salted = true;
    }
    if (s != NULL)
        parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
    return 0;
}

struct rows_of {
    const uint8_t *conv;
    uint64_t *rows;
    size_t n, cap;
};

/* The "pending" rows of one conversation. */
static int collect_pending_of(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                              size_t val_len)
{
    struct rows_of *r = arg;
    Parley__PendingSend *ps;
    uint64_t *rows;
    bool mine;

    if (key_len != 8)
        return 0;
    ps = parley__pending_send__unpack(&parley__wiping_allocator, val_len, val);
    mine = ps != NULL && parley__len_is(ps->conversation_id, 16) &&
           memcmp(ps->conversation_id.data, r->conv, 16) == 0;
    if (ps != NULL)
        parley__pending_send__free_unpacked(ps, &parley__wiping_allocator);
    if (!mine)
        return 0;
    rows = parley__grow(r->rows, &r->cap, r->n + 1, sizeof(*rows));
    if (rows == NULL)
        return -1;
    r->rows = rows;
    r->rows[r->n++] = row_of(key, 8);
    return 0;
}

/*
 * Customers, asking for erasure (and agents, on a brand's erasure order):
 * what still waits to go out in conversation id (texts not yet sent or not
 * yet sealed, an Open not yet sealed) is dropped, so that nothing of it
 * reaches the relay after the request.
 */
parley_err drop_unsent(struct parley__core *c, const uint8_t id[16])
{
    struct rows_of l = {id, NULL, 0, 0};
    parley_err err = PARLEY_OK;
    uint8_t row[8];

    for (size_t i = c->n_out; err == PARLEY_OK && i-- > 0;) {
        if (memcmp(c->out[i].conv, id, 16) != 0)
            continue;
        be64(row, c->out[i].key);
        err = parley__vault_del(c->vault, "outbox", row, sizeof(row));
        if (err == PARLEY_OK)
            out_remove(c, i);
    }
    if (err == PARLEY_OK)
        err = parley__vault_scan(c->vault, "pending", NULL, 0, collect_pending_of, &l);
    for (size_t i = 0; err == PARLEY_OK && i < l.n; i++) {
        be64(row, l.rows[i]);
        err = parley__vault_del(c->vault, "pending", row, sizeof(row));
    }
    free(l.rows);
    return err;
}

/* A history row written by an agent loses the agent's name and key; the text stays. */
static parley_err anonymise_row(struct parley__core *c, const uint8_t key[24])
{
    static uint8_t nobody[32];
    Parley__HistoryRecord *r;
    uint8_t *val;
    size_t len;
    parley_err err = parley__vault_get(c->vault, "history", key, 24, &val, &len);

    if (err != PARLEY_OK)
        return err;
    r = parley__history_record__unpack(&parley__wiping_allocator, len, val);
    parley_free(val, len);
    if (r == NULL)
        return PARLEY_EIO;
    if (!r->from_me) {
        char *name = r->sender_name;
        ProtobufCBinaryData key_was = r->sender_sign_key;

        r->sender_name = (char *)"";
        r->sender_sign_key = (ProtobufCBinaryData){32, nobody};
        err = parley__vault_put_pb(c->vault, "history", key, 24, &r->base);
        r->sender_name = name; /* freed with the rest */
        r->sender_sign_key = key_was;
    }
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    return err;
}

/*
 * Customers, once the agents are told: what the conversation kept about
 * them goes (their certificates with names and keys, the agents its first
 * message went to, their receive keys and sequence counters, their names
 * and keys in the history). The customer's own copy of the conversation,
 * its texts and consent, stays on the device.
 */
static parley_err forget_parties(struct parley__core *c, struct conv *cv)
{
    struct row_keys k = {NULL, 0, 0};
    parley_err err = parley__vault_scan(c->vault, "history", cv->id, 16, collect_history_key, &k);

    if (err == PARLEY_OK)
        err = parley__vault_begin(c->vault);
    for (size_t i = 0; err == PARLEY_OK && i < k.n; i++)
        err = anonymise_row(c, k.keys[i]);
    free(k.keys);
    if (err != PARLEY_OK) {
        if (c->vault->in_tx)
            parley__vault_rollback(c->vault);
        return err;
    }
    buf_free(&cv->agent_cert);
    buf_free(&cv->target_cert);
    sodium_memzero(&cv->agent, sizeof(cv->agent));
    sodium_memzero(&cv->target, sizeof(cv->target));
    sodium_memzero(cv->fanout, sizeof(cv->fanout));
    cv->n_fanout = 0;
    sodium_memzero(cv->senders, sizeof(cv->senders));
    cv->n_senders = 0;
    sodium_memzero(cv->peer_rk, sizeof(cv->peer_rk));
    cv->has_peer_rk = false;
    err = conv_save(c, cv);
    if (err == PARLEY_OK)
        return parley__vault_commit(c->vault);
    parley__vault_rollback(c->vault);
    return err;
}

parley_err send_to_holders(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                           uint64_t now)
{
    const uint8_t *current = NULL;
    bool current_told = false;
    parley_err err = PARLEY_OK;

    if (cv->state == PARLEY_CONV_ACTIVE) {
        current = cv->agent.sign_pk;
        err = send_now(c, cv, p, NULL, 0, NULL, now);
    }
    /* The others through one-time prekeys: their conversation keys are gone or never were. */
    for (size_t i = 0; err == PARLEY_OK && i < cv->n_fanout; i++) {
        if (current != NULL && memcmp(cv->fanout[i], current, 32) == 0)
            continue;
        if (cv->agent_cert.n > 0 && memcmp(cv->fanout[i], cv->agent.sign_pk, 32) == 0)
            current_told = true;
        err = pending_add(c, cv->id, cv->fanout[i], p);
    }
    /* A closed conversation's last agent, when a transfer brought it there. */
    if (err == PARLEY_OK && current == NULL && !current_told && cv->agent_cert.n > 0 &&
        cv->state == PARLEY_CONV_CLOSED)
        err = pending_add(c, cv->id, cv->agent.sign_pk, p);
    if (err == PARLEY_OK && cv->state == PARLEY_CONV_TRANSFERRING && cv->target_cert.n > 0)
        err = pending_add(c, cv->id, cv->target.sign_pk, p); /* handed the history already */
    return err;
}

/*
 * Tells every agent who holds part of one conversation (the agents its
 * first message went to, and those it was transferred to) and closes it.
 */
static parley_err erase_conversation(struct parley__core *c, const uint8_t id[16],
                                     Parley__ErasureRequest *req, uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Erase e = PARLEY__ERASE__INIT;
    struct conv cv;
    parley_err err = conv_load(c, id, &cv);

    if (err != PARLEY_OK)
        return err;
    e.request = req;
    p.body_case = PARLEY__PAYLOAD__BODY_ERASE;
    p.erase = &e;
    err = send_to_holders(c, &cv, &p, now);
    if (err == PARLEY_OK && cv.state != PARLEY_CONV_CLOSED) {
        cv.state = PARLEY_CONV_CLOSED;
        conv_forget_keys(&cv);
        err = conv_save(c, &cv);
        if (err == PARLEY_OK)
            emit_state(c, &cv);
    }
    if (err == PARLEY_OK)
        err = forget_parties(c, &cv);
    conv_free(&cv);
    return err;
}

/*
 * The signed erasure request: every conversation id with its salt, so
 * the relay can check that they are this customer's. A conversation
 * without a salt (none is made so) could not pass that check and would
 * make the relay refuse the request. *out malloc'd.
 */
static parley_err erasure_request_sign(struct parley__core *c, const struct conv_ids *l,
                                       uint64_t now, uint8_t **out, size_t *out_len)
{
    Parley__ErasureRequestBody body = PARLEY__ERASURE_REQUEST_BODY__INIT;
    Parley__ErasureRequest r = PARLEY__ERASURE_REQUEST__INIT;
    ProtobufCBinaryData *ids = calloc(l->n + 1, sizeof(*ids));
    ProtobufCBinaryData *salts = calloc(l->n + 1, sizeof(*salts));
    uint8_t sig[64], *bbuf = NULL;
    size_t blen = 0, n = 0;
    parley_err err = PARLEY_ENOMEM;

    if (ids == NULL || salts == NULL)
        goto done;
    for (size_t i = 0; i < l->n; i++)
        if (l->ids[i].salted) {
            ids[n] = (ProtobufCBinaryData){16, l->ids[i].id};
            salts[n++] = (ProtobufCBinaryData){16, l->ids[i].salt};
        }
    body.brand_id = c->brand_id;
    body.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(c->id)};
    body.time_ms = now;
    /* The relay also deletes what agents sent each other about these (handovers). */
    body.conversation_ids = ids;
    body.n_conversation_ids = n;
    body.conversation_salts = salts;
    body.n_conversation_salts = n;
    err = parley__pack(&body.base, &bbuf, &blen);
    if (err != PARLEY_OK)
        goto done;
    parley__sign_raw(c->id->secret->sign_sk, PARLEY__DOMAIN_ERASURE, bbuf, blen, sig);
    r.body = (ProtobufCBinaryData){blen, bbuf};
    r.signature = (ProtobufCBinaryData){64, sig};
    err = parley__pack(&r.base, out, out_len);
done:
    free(bbuf);
    free(ids);
    free(salts);
    return err;
}

/* Kept until the relay confirms it, and sent again on every connection until then. */
static parley_err erasure_request_keep(struct parley__core *c, const uint8_t *req, size_t len,
                                       Parley__ErasureRequest **out)
{
    parley_err err = parley__vault_put(c->vault, "meta", (const uint8_t *)"erase", 5, req, len);

    if (err == PARLEY_OK && !buf_set(&c->erase_request, req, len))
        err = PARLEY_ENOMEM;
    if (err == PARLEY_OK && (*out = parley__erasure_request__unpack(NULL, len, req)) == NULL)
        err = PARLEY_ENOMEM;
    return err;
}

parley_err parley__core_erase(struct parley__core *c, uint64_t now)
{
    Parley__ErasureRequest *req = NULL;
    struct conv_ids l = {NULL, 0, 0};
    uint8_t *rbuf = NULL;
    size_t rlen = 0;
    parley_err err;

    if (c->agent)
        return PARLEY_ESTATE;
    err = parley__vault_scan(c->vault, "conv", NULL, 0, collect_conv_id, &l);
    if (err == PARLEY_OK)
        err = erasure_request_sign(c, &l, now, &rbuf, &rlen);
    if (err == PARLEY_OK)
        err = erasure_request_keep(c, rbuf, rlen, &req);
    free(rbuf);
    if (err != PARLEY_OK) {
        free(l.ids);
        return err;
    }
    /* Nothing written before the request leaves after it. */
    for (size_t i = 0; err == PARLEY_OK && i < l.n; i++)
        err = drop_unsent(c, l.ids[i].id);
    /* The relay first, so that the notices to the agents sent next are not erased with the rest. */
    send_erase_frame(c);
    for (size_t i = 0; err == PARLEY_OK && i < l.n; i++)
        err = erase_conversation(c, l.ids[i].id, req, now);
    free(l.ids);
    parley__erasure_request__free_unpacked(req, NULL);
    flush_pending(c, now);
    parley__vault_compact(c->vault); /* no old copy of what was forgotten stays in the files */
    return err;
}
