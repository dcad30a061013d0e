/*
 * The Parley relay protocol over whole WebSocket messages: challenge-
 * response authentication, store-and-forward of envelopes with
 * per-recipient order and quotas, acknowledgements, directories and
 * prekeys. The relay reads only routing fields; sealed bytes are opaque.
 *
 * Delivery: a connection first catches up from the store (draining),
 * then receives new envelopes as they arrive (live), before they are
 * even committed. A draining connection waits for the writer to commit
 * what arrived for it, so order per recipient is the store's order.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "audit.h"
#include "log.h"
#include "relay.h"
#include "server.h"

#define DRAIN_BATCH 64
#define MAX_PREKEYS_PER_OWNER 100u
#define RELAY_AUTH_DOMAIN "relay-auth"

/* ------------------------------------------------------------------ */
/* Sending frames */

static bool send_frame(struct relay *r, struct conn *c, const Parley__Frame *f)
{
    size_t n = parley__frame__get_packed_size(f);
    uint8_t *p = conn_frame_begin(r, c, n);

    if (p == NULL)
        return false;
    parley__frame__pack(f, p);
    return true;
}

static void send_error(struct relay *r, struct conn *c, Parley__Error__Code code,
                       const char *message, const uint8_t *envelope_id)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Error e = PARLEY__ERROR__INIT;

    e.code = code;
    e.message = (char *)message;
    if (envelope_id != NULL)
        e.envelope_id = (ProtobufCBinaryData){16, (uint8_t *)envelope_id};
    f.kind_case = PARLEY__FRAME__KIND_ERROR;
    f.error = &e;
    send_frame(r, c, &f);
}

/* An error frame, counted under why, then a policy close. */
static void refuse(struct relay *r, struct conn *c, Parley__Error__Code code, const char *message,
                   enum reject_reason why)
{
    send_error(r, c, code, message, NULL);
    if (!c->authed)
        audit_auth(r->audit, c->serial,
                   c->agent ? "agent" : sodium_is_zero(c->sign_pk, 32) ? NULL : "customer", -1,
                   NULL, metrics_reason_name(why));
    conn_close(r, c, 1008, why, true);
}

static void send_ack(struct relay *r, struct conn *c, const uint8_t *envelope_id)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Ack a = PARLEY__ACK__INIT;

    if (envelope_id != NULL)
        a.envelope_id = (ProtobufCBinaryData){16, (uint8_t *)envelope_id};
    f.kind_case = PARLEY__FRAME__KIND_ACK;
    f.ack = &a;
    send_frame(r, c, &f);
}

static bool send_deliver(struct relay *r, struct conn *c, const struct store_env *e)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Envelope env = PARLEY__ENVELOPE__INIT;

    env.envelope_id = (ProtobufCBinaryData){16, (uint8_t *)e->envelope_id};
    env.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)e->conversation_id};
    env.recipient = (ProtobufCBinaryData){32, (uint8_t *)e->recipient};
    env.sealed = (ProtobufCBinaryData){e->sealed_len, e->sealed};
    f.kind_case = PARLEY__FRAME__KIND_DELIVER;
    f.deliver = &env;
    if (!send_frame(r, c, &f))
        return false;
    r->metrics.envelopes_delivered++;
    audit_delivered(r->audit, c->serial, e->envelope_id);
    if (e->seq > c->cursor)
        c->cursor = e->seq;
    return true;
}

/* ------------------------------------------------------------------ */
/* Delivery */

static void drain_list(struct relay *r, struct conn *c, bool on)
{
    if (on == c->draining_listed)
        return;
    if (on) {
        c->drain_prev = NULL;
        c->drain_next = r->drainers;
        if (r->drainers != NULL)
            r->drainers->drain_prev = c;
        r->drainers = c;
    } else {
        if (c->drain_prev != NULL)
            c->drain_prev->drain_next = c->drain_next;
        else
            r->drainers = c->drain_next;
        if (c->drain_next != NULL)
            c->drain_next->drain_prev = c->drain_prev;
        c->drain_prev = c->drain_next = NULL;
    }
    c->draining_listed = on;
}

struct drain_ctx {
    struct relay *r;
    struct conn *c;
    bool full;
};

static int drain_one(void *arg, const struct store_env *e)
{
    struct drain_ctx *d = arg;

    /* Half the outbound limit at most: the rest is for live traffic and answers. */
    if (d->c->tx_len > 0 && d->c->tx_len + e->sealed_len + 128 > d->r->cfg.max_outbound / 2) {
        d->full = true;
        return 1;
    }
    return send_deliver(d->r, d->c, e) ? 0 : 1;
}

/*
 * Sends stored envelopes to c while its queue has room; resumed when the
 * queue drains. Reads the store only once every write that preceded (the
 * batch pending when c authenticated, or when an envelope for it arrived
 * meanwhile) is committed, so acknowledged envelopes are not sent again
 * and new ones come in order. Goes live when the store has nothing more.
 */
static void drain(struct relay *r, struct conn *c)
{
    struct drain_ctx d = {r, c, false};

    while (!c->closing && !c->live) {
        int n;

        if (r->batches_done < c->wait_batch)
            return; /* resumed by session_store_done */
        n = store_fetch(r->store, c->routing, c->cursor, DRAIN_BATCH, drain_one, &d);
        if (n < 0) {
            log_event(LOG_ERROR, "store_read_failed", "\"conn\":\"%s\"", c->pseudonym);
            conn_close(r, c, 1011, REJECT_unavailable, true);
            return;
        }
        if (d.full || c->closing)
            return; /* resumed by session_writable */
        if (n < DRAIN_BATCH) {
            c->live = true;
            drain_list(r, c, false);
        }
    }
}

/* The number the pending batch will have once handed to the writer. */
static uint64_t pending_batch(const struct relay *r)
{
    return r->batches_submitted + 1;
}

void session_submit(struct relay *r)
{
    if (r->pending.n > 0 && store_submit(r->store, &r->pending))
        r->batches_submitted++;
}

static struct conn *online(struct relay *r, const uint8_t routing[32])
{
    struct map_entry *e = map_get(&r->online, routing);
    return e != NULL ? e->ptr : NULL;
}

void session_writable(struct relay *r, struct conn *c)
{
    if (c->authed && !c->live)
        drain(r, c);
}

/* ------------------------------------------------------------------ */
/* Authentication */

void session_start(struct relay *r, struct conn *c)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Hello h = PARLEY__HELLO__INIT;

    h.nonce = (ProtobufCBinaryData){32, c->nonce};
    h.relay_key = (ProtobufCBinaryData){32, r->relay_id};
    h.time = relay_now_ms() / 1000u;
    f.kind_case = PARLEY__FRAME__KIND_HELLO;
    f.hello = &h;
    send_frame(r, c, &f);
    audit_conn_open(r->audit, c->serial, c->addr);
}

static int find_brand(const struct relay *r, const char *brand_id)
{
    for (size_t i = 0; i < r->n_brands; i++)
        if (strcmp(r->brands[i].brand->id, brand_id) == 0)
            return (int)i;
    return -1;
}

/* Checks an agent certificate; on success sets c->brand. Refuses and returns false otherwise. */
static bool auth_agent(struct relay *r, struct conn *c, const Parley__AgentCert *cert)
{
    parley_cert_info info;
    parley_err err;
    int b;

    if (parley__cert_body_decode(cert, &info) != PARLEY_OK) {
        refuse(r, c, PARLEY__ERROR__CODE__BAD_CERTIFICATE, "malformed certificate",
               REJECT_bad_certificate);
        return false;
    }
    b = find_brand(r, info.brand_id);
    if (b < 0) {
        refuse(r, c, PARLEY__ERROR__CODE__UNKNOWN_BRAND, "brand not served here",
               REJECT_unknown_brand);
        return false;
    }
    err = parley__cert_check(cert, r->brands[b].brand->key, info.brand_id,
                             relay_now_ms() / 1000u, r->brands[b].revs, &info);
    if (err == PARLEY_EEXPIRED || err == PARLEY_ENOTYETVALID) {
        refuse(r, c, PARLEY__ERROR__CODE__EXPIRED, "certificate outside its validity",
               REJECT_expired);
        return false;
    }
    if (err == PARLEY_EREVOKED) {
        refuse(r, c, PARLEY__ERROR__CODE__REVOKED, "certificate revoked", REJECT_revoked);
        return false;
    }
    if (err != PARLEY_OK || sodium_memcmp(info.sign_pk, c->sign_pk, 32) != 0) {
        refuse(r, c, PARLEY__ERROR__CODE__BAD_CERTIFICATE, "certificate does not verify",
               REJECT_bad_certificate);
        return false;
    }
    c->brand = b;
    return true;
}

static void send_directory(struct relay *r, struct conn *c, int b, const char *brand_id)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryResult res = PARLEY__DIRECTORY_RESULT__INIT;
    Parley__Directory *d = NULL;

    res.brand_id = (char *)brand_id;
    if (b >= 0 && r->brands[b].dir != NULL)
        d = parley__directory__unpack(NULL, r->brands[b].dir_len, r->brands[b].dir);
    res.directory = d;
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_RESULT;
    f.directory_result = &res;
    send_frame(r, c, &f);
    if (d != NULL)
        parley__directory__free_unpacked(d, NULL);
}

static void on_auth(struct relay *r, struct conn *c, const Parley__Auth *a)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__AuthOk ok = PARLEY__AUTH_OK__INIT;
    uint8_t msg[96];
    struct map_entry *slot;
    struct conn *old;

    c->agent = a->cert != NULL; /* what it claims, until verified */
    if (!parley__len_is(a->sign_key, 32) || !parley__len_is(a->signature, 64)) {
        refuse(r, c, PARLEY__ERROR__CODE__MALFORMED, "bad auth frame", REJECT_malformed);
        return;
    }
    memcpy(c->sign_pk, a->sign_key.data, 32);
    memcpy(msg, c->nonce, 32);
    memcpy(msg + 32, r->relay_id, 32);
    memcpy(msg + 64, c->sign_pk, 32);
    if (parley_verify(c->sign_pk, RELAY_AUTH_DOMAIN, msg, sizeof(msg), a->signature.data) !=
        PARLEY_OK) {
        refuse(r, c, PARLEY__ERROR__CODE__AUTH_FAILED, "challenge signature does not verify",
               REJECT_auth_failed);
        return;
    }
    if (a->cert != NULL && !auth_agent(r, c, a->cert))
        return;
    /* A valid certificate gives the agent mailbox; without one, the key's customer one. */
    parley_routing_id(c->sign_pk, c->agent ? PARLEY_ROUTING_AGENT : PARLEY_ROUTING_CUSTOMER,
                      c->routing);
    log_pseudonym(c->routing, 32, c->pseudonym);
    slot = map_put(&r->online, c->routing);
    if (slot == NULL) {
        conn_close(r, c, 1011, REJECT_unavailable, true);
        return;
    }
    old = slot->ptr;
    slot->ptr = c;
    if (old != NULL && old != c) {
        old->authed = false; /* no longer the owner of the routing id */
        drain_list(r, old, false);
        conn_close(r, old, 4004, REJECT_unexpected, false);
    }
    c->authed = true;
    c->tokens = r->cfg.burst;
    c->bucket_ms = relay_now_ms();
    r->metrics.connections_authenticated++;
    ok.routing_id = (ProtobufCBinaryData){32, c->routing};
    ok.agent = c->agent;
    if (c->agent) {
        long left = store_prekey_count(r->store, c->routing);
        ok.brand_id = (char *)r->brands[c->brand].brand->id;
        ok.prekeys_left = left > 0 ? (uint32_t)left : 0;
    }
    f.kind_case = PARLEY__FRAME__KIND_AUTH_OK;
    f.auth_ok = &ok;
    send_frame(r, c, &f);
    audit_auth(r->audit, c->serial, c->agent ? "agent" : "customer", c->agent ? c->brand : -1,
               c->routing, NULL);
    log_event(LOG_INFO, "authenticated", "\"conn\":\"%s\",\"role\":\"%s\"", c->pseudonym,
              c->agent ? "agent" : "customer");
    /*
     * An agent gets its brand's directory before anything stored: an Open
     * sealed while it was away may carry consent to a notice newer than
     * the one it last saw. Later versions are pushed as they are published.
     */
    if (c->agent) {
        c->watch_brand = c->brand;
        send_directory(r, c, c->brand, r->brands[c->brand].brand->id);
    }
    /* Catch up from the store once everything that arrived before is committed. */
    c->live = false;
    c->cursor = 0;
    c->wait_batch = r->pending.n > 0 ? pending_batch(r) : r->batches_submitted;
    drain_list(r, c, true);
    drain(r, c);
}

/* ------------------------------------------------------------------ */
/* Envelopes */

static void quota_add(struct relay *r, const uint8_t recipient[32], int64_t count, int64_t bytes)
{
    struct map_entry *q = map_put(&r->quotas, recipient);

    if (q == NULL)
        return;
    q->a = (uint64_t)((int64_t)q->a + count);
    q->b = (uint64_t)((int64_t)q->b + bytes);
    r->metrics.bytes_stored = (uint64_t)((int64_t)r->metrics.bytes_stored + bytes);
    if (q->a == 0)
        map_del(&r->quotas, recipient);
}

static void on_send(struct relay *r, struct conn *c, Parley__Envelope *env)
{
    struct map_entry *q;
    struct store_op *op;
    struct conn *to;
    const uint8_t *eid = parley__len_is(env->envelope_id, 16) ? env->envelope_id.data : NULL;

    if (eid == NULL || !parley__len_is(env->conversation_id, 16) ||
        !parley__len_is(env->recipient, 32) || env->sealed.len == 0) {
        metrics_reject(&r->metrics, REJECT_malformed);
        send_error(r, c, PARLEY__ERROR__CODE__MALFORMED, "bad envelope", eid);
        return;
    }
    q = map_get(&r->quotas, env->recipient.data);
    if (q != NULL && (q->a + 1 > r->cfg.quota_count || q->b + env->sealed.len > r->cfg.quota_bytes)) {
        metrics_reject(&r->metrics, REJECT_quota_full);
        send_error(r, c, PARLEY__ERROR__CODE__QUOTA_FULL, "recipient's queue is full", eid);
        return;
    }
    op = store_batch_add(&r->pending, STORE_INSERT);
    if (op == NULL) {
        send_error(r, c, PARLEY__ERROR__CODE__UNAVAILABLE, "out of memory", eid);
        return;
    }
    op->env.seq = ++r->assigned_seq;
    memcpy(op->env.envelope_id, eid, 16);
    memcpy(op->env.conversation_id, env->conversation_id.data, 16);
    memcpy(op->env.recipient, env->recipient.data, 32);
    /* Take the unpacked bytes rather than copy them: the frame is freed without them. */
    op->env.sealed = env->sealed.data;
    op->env.sealed_len = env->sealed.len;
    env->sealed.data = NULL;
    env->sealed.len = 0;
    op->env.stored_at = relay_now_ms() / 1000u;
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
    op->submitted_ns = relay_mono_ns();
    quota_add(r, op->env.recipient, 1, (int64_t)op->env.sealed_len);

    to = online(r, op->env.recipient);
    if (to != NULL && to->authed && !to->closing) {
        if (to->live)
            send_deliver(r, to, &op->env);
        else
            to->wait_batch = pending_batch(r); /* read from the store once committed */
    }
}

static void on_delivered(struct relay *r, struct conn *c, const Parley__Delivered *d)
{
    for (size_t i = 0; i < d->n_envelope_ids; i++) {
        struct store_op *op;

        if (!parley__len_is(d->envelope_ids[i], 16)) {
            metrics_reject(&r->metrics, REJECT_malformed);
            send_error(r, c, PARLEY__ERROR__CODE__MALFORMED, "bad envelope id", NULL);
            return;
        }
        op = store_batch_add(&r->pending, STORE_DELETE);
        if (op == NULL)
            return;
        memcpy(op->env.recipient, c->routing, 32);
        memcpy(op->env.envelope_id, d->envelope_ids[i].data, 16);
    }
}

/* ------------------------------------------------------------------ */
/* Directories and prekeys */

static void brand_set_directory(struct relay *r, int b, uint64_t version, const uint8_t *dir,
                                size_t len)
{
    struct brand_state *bs = &r->brands[b];
    Parley__Directory *d;
    uint8_t *copy = malloc(len);

    if (copy == NULL)
        return;
    memcpy(copy, dir, len);
    free(bs->dir);
    bs->dir = copy;
    bs->dir_len = len;
    bs->dir_version = version;
    parley_revlist_free(bs->revs);
    bs->revs = NULL;
    /* The revocation list inside it is what agent authentication checks. */
    d = parley__directory__unpack(NULL, len, dir);
    if (d != NULL) {
        Parley__DirectoryBody *body =
            parley__directory_body__unpack(NULL, d->body.len, d->body.data);
        if (body != NULL && body->revocations != NULL)
            parley__revlist_from_pb(body->revocations, bs->brand->key, bs->brand->id, 0,
                                    &bs->revs);
        if (body != NULL)
            parley__directory_body__free_unpacked(body, NULL);
        parley__directory__free_unpacked(d, NULL);
    }
}

/* Brand id of an encoded directory, read before its signature is checked, to pick the key. */
static int directory_brand(const struct relay *r, const Parley__Directory *d)
{
    Parley__DirectoryBody *body;
    int b = -1;

    if (d->body.data == NULL)
        return -2;
    body = parley__directory_body__unpack(NULL, d->body.len, d->body.data);
    if (body == NULL)
        return -2;
    b = find_brand(r, body->brand_id);
    parley__directory_body__free_unpacked(body, NULL);
    return b;
}

static void on_directory_publish(struct relay *r, struct conn *c, const Parley__DirectoryPublish *p)
{
    struct brand_state *bs;
    struct store_op *op;
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t version = 0;
    parley_err err;
    int b;

    if (p->directory == NULL || (b = directory_brand(r, p->directory)) == -2) {
        metrics_reject(&r->metrics, REJECT_malformed);
        send_error(r, c, PARLEY__ERROR__CODE__MALFORMED, "bad directory", NULL);
        return;
    }
    if (b < 0) {
        metrics_reject(&r->metrics, REJECT_unknown_brand);
        send_error(r, c, PARLEY__ERROR__CODE__UNKNOWN_BRAND, "brand not served here", NULL);
        return;
    }
    bs = &r->brands[b];
    /* Signatures cover body bytes, which survive re-encoding unchanged. */
    if (parley__pack(&p->directory->base, &buf, &len) != PARLEY_OK)
        return;
    /* The relay cannot open the content (names, notice): only the brand's clients can. */
    err = parley_directory_check(buf, len, bs->brand->key, bs->brand->id, bs->dir_version,
                                 &version);
    if (err == PARLEY_EROLLBACK) {
        metrics_reject(&r->metrics, REJECT_rollback);
        send_error(r, c, PARLEY__ERROR__CODE__ROLLBACK, "older than the stored directory", NULL);
    } else if (err != PARLEY_OK) {
        metrics_reject(&r->metrics, REJECT_bad_signature);
        send_error(r, c, PARLEY__ERROR__CODE__BAD_SIGNATURE, parley_strerror(err), NULL);
    } else if ((op = store_batch_add(&r->pending, STORE_DIRECTORY)) != NULL) {
        snprintf(op->brand_id, sizeof(op->brand_id), "%s", bs->brand->id);
        op->version = version;
        op->blob = buf;
        op->blob_len = len;
        op->conn_serial = c->serial;
        memcpy(op->reply_to, c->routing, 32);
        brand_set_directory(r, b, version, buf, len);
        buf = NULL;
        log_event(LOG_INFO, "directory_published", "\"brand\":%d,\"version\":%llu", b,
                  (unsigned long long)version);
    }
    free(buf);
}

static void on_prekey_publish(struct relay *r, struct conn *c, const Parley__PrekeyPublish *p)
{
    long have;

    if (!c->agent) {
        metrics_reject(&r->metrics, REJECT_not_allowed);
        send_error(r, c, PARLEY__ERROR__CODE__NOT_ALLOWED, "only agents publish prekeys", NULL);
        return;
    }
    have = p->replace ? 0 : store_prekey_count(r->store, c->routing);
    if (have < 0 || (size_t)have + p->n_prekeys > MAX_PREKEYS_PER_OWNER) {
        metrics_reject(&r->metrics, REJECT_quota_full);
        send_error(r, c, PARLEY__ERROR__CODE__QUOTA_FULL, "too many prekeys", NULL);
        return;
    }
    for (size_t i = 0; i < p->n_prekeys; i++) {
        Parley__PrekeyBody *body = parley__prekey_body__unpack(NULL, p->prekeys[i]->body.len,
                                                                p->prekeys[i]->body.data);
        bool good = body != NULL && parley__len_is(body->owner_sign_key, 32) &&
                    parley__len_is(body->box_key, 32) &&
                    sodium_memcmp(body->owner_sign_key.data, c->sign_pk, 32) == 0 &&
                    parley__verify_pb(c->sign_pk, 32, PARLEY__DOMAIN_PREKEY, p->prekeys[i]->body,
                                      p->prekeys[i]->signature) == PARLEY_OK;
        if (body != NULL)
            parley__prekey_body__free_unpacked(body, NULL);
        if (!good) {
            metrics_reject(&r->metrics, REJECT_bad_signature);
            send_error(r, c, PARLEY__ERROR__CODE__BAD_SIGNATURE, "prekey does not verify", NULL);
            return;
        }
    }
    if (p->replace) {
        /* The agent no longer holds the secrets of what it published before (a new device store). */
        struct store_op *op = store_batch_add(&r->pending, STORE_PREKEY_CLEAR);
        if (op == NULL)
            return;
        memcpy(op->env.recipient, c->routing, 32);
    }
    for (size_t i = 0; i < p->n_prekeys; i++) {
        struct store_op *op = store_batch_add(&r->pending, STORE_PREKEY_ADD);
        if (op == NULL || parley__pack(&p->prekeys[i]->base, &op->blob, &op->blob_len) != PARLEY_OK)
            return;
        memcpy(op->env.recipient, c->routing, 32);
    }
    {
        /* Answered once the prekeys are committed. */
        struct store_op *op = store_batch_add(&r->pending, STORE_BARRIER);
        if (op != NULL) {
            op->conn_serial = c->serial;
            memcpy(op->reply_to, c->routing, 32);
        }
    }
}

static void on_prekey_fetch(struct relay *r, struct conn *c, const Parley__PrekeyFetch *p)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__PrekeyResult res = PARLEY__PREKEY_RESULT__INIT;
    Parley__Prekey *pk = NULL;
    uint8_t owner[32], buf[1024];
    int64_t id = 0;
    long n;

    if (!parley__len_is(p->owner_sign_key, 32)) {
        metrics_reject(&r->metrics, REJECT_malformed);
        send_error(r, c, PARLEY__ERROR__CODE__MALFORMED, "bad prekey fetch", NULL);
        return;
    }
    parley_routing_id(p->owner_sign_key.data, PARLEY_ROUTING_AGENT, owner); /* owners are agents */
    {
        int64_t skip[256];
        for (size_t i = 0; i < r->n_prekeys_taken; i++)
            skip[i] = r->prekeys_taken[i].id;
        n = store_prekey_peek(r->store, owner, skip, r->n_prekeys_taken, buf, sizeof(buf), &id);
    }
    if (n > 0 && r->n_prekeys_taken < sizeof(r->prekeys_taken) / sizeof(r->prekeys_taken[0])) {
        struct store_op *op = store_batch_add(&r->pending, STORE_PREKEY_DEL);
        pk = parley__prekey__unpack(NULL, (size_t)n, buf);
        if (op != NULL && pk != NULL) {
            op->prekey_id = id;
            r->prekeys_taken[r->n_prekeys_taken].id = id;
            r->prekeys_taken[r->n_prekeys_taken++].batch = pending_batch(r);
        } else if (pk != NULL) {
            parley__prekey__free_unpacked(pk, NULL);
            pk = NULL;
        }
    }
    res.owner_sign_key = p->owner_sign_key;
    res.prekey = pk;
    f.kind_case = PARLEY__FRAME__KIND_PREKEY_RESULT;
    f.prekey_result = &res;
    send_frame(r, c, &f);
    if (pk != NULL)
        parley__prekey__free_unpacked(pk, NULL);
}

/*
 * A customer's erasure request: everything the relay holds to or from
 * that customer, up to now, is deleted (what it sends afterwards, such as
 * the notices telling its agents, is not). Only the customer itself may
 * ask: the request is signed by the key this connection authenticated.
 */
static void on_erase(struct relay *r, struct conn *c, const Parley__ErasureRequest *er)
{
    Parley__ErasureRequestBody *body;
    struct store_op *op;
    uint8_t *convs = NULL;
    size_t n_convs = 0;
    bool good;

    body = parley__erasure_request_body__unpack(NULL, er->body.len, er->body.data);
    good = body != NULL && parley__len_is(body->customer_sign_key, 32) &&
           sodium_memcmp(body->customer_sign_key.data, c->sign_pk, 32) == 0 &&
           body->n_conversation_ids <= 4096 &&
           parley__verify_pb(c->sign_pk, 32, PARLEY__DOMAIN_ERASURE, er->body, er->signature) ==
               PARLEY_OK;
    /* The customer's conversation ids (random, so only the customer knows them). */
    if (good && body->n_conversation_ids > 0 &&
        (convs = malloc(16 * body->n_conversation_ids)) != NULL)
        for (size_t i = 0; i < body->n_conversation_ids; i++)
            if (parley__len_is(body->conversation_ids[i], 16))
                memcpy(convs + 16 * n_convs++, body->conversation_ids[i].data, 16);
    if (body != NULL)
        parley__erasure_request_body__free_unpacked(body, NULL);
    if (!good || c->agent) {
        free(convs);
        metrics_reject(&r->metrics, c->agent ? REJECT_not_allowed : REJECT_bad_signature);
        send_error(r, c,
                   c->agent ? PARLEY__ERROR__CODE__NOT_ALLOWED : PARLEY__ERROR__CODE__BAD_SIGNATURE,
                   "erasure request refused", NULL);
        return;
    }
    op = store_batch_add(&r->pending, STORE_ERASE_ALL);
    if (op == NULL) {
        free(convs);
        return;
    }
    memcpy(op->env.recipient, c->routing, 32);
    op->blob = convs;
    op->blob_len = 16 * n_convs;
    op->cutoff = r->assigned_seq;
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
}

/* ------------------------------------------------------------------ */
/* Dispatch */

static bool rate_ok(struct relay *r, struct conn *c)
{
    uint64_t now = relay_now_ms();
    double refill = (double)(now - c->bucket_ms) * r->cfg.rate / 1000.0;

    c->bucket_ms = now;
    c->tokens += refill;
    if (c->tokens > r->cfg.burst)
        c->tokens = r->cfg.burst;
    if (c->tokens >= 1.0) {
        c->tokens -= 1.0;
        c->over_limit = 0;
        return true;
    }
    metrics_reject(&r->metrics, REJECT_rate_limited);
    if (++c->over_limit >= 1000)
        conn_close(r, c, 1008, REJECT_rate_limited, true);
    return false;
}

void session_message(struct relay *r, struct conn *c, const uint8_t *msg, size_t len)
{
    Parley__Frame *f;

    if (c->closing)
        return;
    f = parley__frame__unpack(NULL, len, msg);
    if (f == NULL) {
        refuse(r, c, PARLEY__ERROR__CODE__MALFORMED, "frame does not decode", REJECT_malformed);
        return;
    }
    if (!c->authed) {
        if (f->kind_case == PARLEY__FRAME__KIND_AUTH)
            on_auth(r, c, f->auth);
        else
            refuse(r, c, PARLEY__ERROR__CODE__NOT_AUTHENTICATED, "authenticate first",
                   REJECT_not_authenticated);
        goto done;
    }
    if (!rate_ok(r, c)) {
        const uint8_t *eid = f->kind_case == PARLEY__FRAME__KIND_SEND &&
                                     parley__len_is(f->send->envelope_id, 16)
                                 ? f->send->envelope_id.data
                                 : NULL;
        if (!c->closing)
            send_error(r, c, PARLEY__ERROR__CODE__RATE_LIMITED, "slow down", eid);
        goto done;
    }
    switch (f->kind_case) {
    case PARLEY__FRAME__KIND_SEND:
        on_send(r, c, f->send);
        break;
    case PARLEY__FRAME__KIND_DELIVERED:
        on_delivered(r, c, f->delivered);
        break;
    case PARLEY__FRAME__KIND_DIRECTORY_PUBLISH:
        on_directory_publish(r, c, f->directory_publish);
        break;
    case PARLEY__FRAME__KIND_DIRECTORY_FETCH:
        c->watch_brand = find_brand(r, f->directory_fetch->brand_id);
        send_directory(r, c, c->watch_brand, f->directory_fetch->brand_id);
        break;
    case PARLEY__FRAME__KIND_PREKEY_PUBLISH:
        on_prekey_publish(r, c, f->prekey_publish);
        break;
    case PARLEY__FRAME__KIND_PREKEY_FETCH:
        on_prekey_fetch(r, c, f->prekey_fetch);
        break;
    case PARLEY__FRAME__KIND_ERASE:
        on_erase(r, c, f->erase);
        break;
    default:
        metrics_reject(&r->metrics, REJECT_unexpected);
        send_error(r, c, PARLEY__ERROR__CODE__UNEXPECTED, "unexpected frame", NULL);
        break;
    }
done:
    parley__frame__free_unpacked(f, NULL);
}

void session_closed(struct relay *r, struct conn *c)
{
    struct map_entry *e;

    drain_list(r, c, false);
    if (c->state == CONN_WS)
        audit_conn_close(r->audit, c->serial, c->close_code);
    if (!c->authed)
        return;
    r->metrics.connections_authenticated--;
    e = map_get(&r->online, c->routing);
    if (e != NULL && e->ptr == c)
        map_del(&r->online, c->routing);
    log_event(LOG_INFO, "closed", "\"conn\":\"%s\"", c->pseudonym);
}

/* ------------------------------------------------------------------ */
/* Store completions */

static struct conn *reply_target(struct relay *r, const struct store_op *op)
{
    struct conn *c = op->conn_serial != 0 ? online(r, op->reply_to) : NULL;
    return c != NULL && c->serial == op->conn_serial && !c->closing ? c : NULL;
}

static void op_done(struct relay *r, struct store_op *op, uint64_t now_ns)
{
    struct conn *c = reply_target(r, op);

    switch (op->kind) {
    case STORE_INSERT:
        if (!op->ok) {
            quota_add(r, op->env.recipient, -1, -(int64_t)op->env.sealed_len);
            if (c != NULL)
                send_error(r, c, PARLEY__ERROR__CODE__UNAVAILABLE, "store failed, retry",
                           op->env.envelope_id);
            break;
        }
        if (op->inserted) {
            r->metrics.envelopes_stored++;
            audit_stored(r->audit, op->env.envelope_id, op->reply_to, op->env.recipient,
                         op->env.sealed_len);
            metrics_observe_store(&r->metrics, (double)(now_ns - op->submitted_ns) / 1e9);
        } else {
            quota_add(r, op->env.recipient, -1, -(int64_t)op->env.sealed_len); /* a resend */
        }
        if (c != NULL)
            send_ack(r, c, op->env.envelope_id);
        break;
    case STORE_DELETE:
        if (op->deleted > 0) {
            audit_acked(r->audit, op->env.envelope_id);
            r->metrics.envelopes_acknowledged += op->deleted;
            quota_add(r, op->env.recipient, -(int64_t)op->deleted, -(int64_t)op->freed);
        }
        break;
    case STORE_ERASE_ALL:
        for (size_t i = 0; i < op->n_expired; i++)
            quota_add(r, op->expired[i].recipient, -1, -(int64_t)op->expired[i].bytes);
        if (op->ok)
            audit_erased(r->audit, op->env.recipient, op->deleted, op->freed);
        if (c != NULL) {
            if (op->ok) {
                Parley__Frame f = PARLEY__FRAME__INIT;
                Parley__Erased e = PARLEY__ERASED__INIT;
                e.envelopes = op->deleted;
                f.kind_case = PARLEY__FRAME__KIND_ERASED;
                f.erased = &e;
                send_frame(r, c, &f);
            } else {
                send_error(r, c, PARLEY__ERROR__CODE__UNAVAILABLE, "store failed, retry", NULL);
            }
        }
        log_event(LOG_INFO, "erased", "\"conn\":\"%s\",\"envelopes\":%u",
                  c != NULL ? c->pseudonym : "-", op->deleted);
        break;
    case STORE_EXPIRE:
        r->metrics.envelopes_expired += op->deleted;
        for (size_t i = 0; i < op->n_expired; i++)
            quota_add(r, op->expired[i].recipient, -1, -(int64_t)op->expired[i].bytes);
        if (op->deleted > 0) {
            audit_expired(r->audit, op->deleted, op->freed);
            log_event(LOG_INFO, "expired", "\"envelopes\":%u", op->deleted);
        }
        break;
    case STORE_DIRECTORY:
        if (op->ok) {
            /* The publisher and everyone who fetched this brand's directory get the new one. */
            int b = find_brand(r, op->brand_id);
            audit_directory(r->audit, op->conn_serial, b, op->version);
            for (struct conn *w = r->conns; w != NULL; w = w->next)
                if (w->authed && !w->closing && (w == c || (b >= 0 && w->watch_brand == b)))
                    send_directory(r, w, b, op->brand_id);
        } else if (c != NULL) {
            send_error(r, c, PARLEY__ERROR__CODE__UNAVAILABLE, "store failed, retry", NULL);
        }
        break;
    case STORE_BARRIER:
        if (c != NULL) {
            if (op->ok)
                send_ack(r, c, NULL);
            else
                send_error(r, c, PARLEY__ERROR__CODE__UNAVAILABLE, "store failed, retry", NULL);
        }
        break;
    default:
        break;
    }
}

void session_store_done(struct relay *r)
{
    uint64_t now_ns = relay_mono_ns();

    while (store_take_done(r->store, &r->done)) {
        r->batches_done++;
        for (size_t i = 0; i < r->done.n; i++)
            op_done(r, &r->done.ops[i], now_ns);
        for (size_t i = 0; i < r->n_prekeys_taken;)
            if (r->prekeys_taken[i].batch <= r->batches_done)
                r->prekeys_taken[i] = r->prekeys_taken[--r->n_prekeys_taken];
            else
                i++;
        store_batch_clear(&r->done);
        /* Whatever arrived meanwhile goes next, without waiting for the loop to idle. */
        session_submit(r);
    }
    for (struct conn *c = r->drainers, *next; c != NULL; c = next) {
        next = c->drain_next;
        drain(r, c);
    }
}

void session_expire(struct relay *r)
{
    struct store_op *op = store_batch_add(&r->pending, STORE_EXPIRE);
    uint64_t now = relay_now_ms() / 1000u;

    if (op != NULL)
        op->cutoff = now > r->cfg.ttl ? now - r->cfg.ttl : 0;
}

/* ------------------------------------------------------------------ */
/* Start-up */

static void load_quota(void *arg, const uint8_t recipient[32], uint64_t count, uint64_t bytes)
{
    quota_add(arg, recipient, (int64_t)count, (int64_t)bytes);
}

static void load_directory(void *arg, const char *brand_id, uint64_t version, const uint8_t *blob,
                           size_t len)
{
    struct relay *r = arg;
    int b = find_brand(r, brand_id);

    if (b >= 0)
        brand_set_directory(r, b, version, blob, len);
}

int session_load(struct relay *r)
{
    r->n_brands = r->cfg.n_brands;
    for (size_t i = 0; i < r->n_brands; i++)
        r->brands[i].brand = &r->cfg.brands[i];
    if (store_load_quotas(r->store, load_quota, r) != 0 ||
        store_load_directories(r->store, load_directory, r) != 0)
        return -1;
    return 0;
}
