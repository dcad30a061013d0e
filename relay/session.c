/*
 * The Parley relay protocol over whole WebSocket messages: challenge-
 * response authentication, the dispatch of each frame to the module that
 * handles it, and what happens once the store has committed a batch. The
 * relay reads only routing fields; sealed bytes are opaque.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "audit_store.h"
#include "log.h"
#include "session_impl.h"

/* ------------------------------------------------------------------ */
/* Sending frames */

bool session_send_frame(struct relay *r, struct conn *c, const Parley__Frame *f)
{
    size_t n = parley__frame__get_packed_size(f);
    uint8_t *p = conn_frame_begin(r, c, n);

    if (p == NULL)
        return false;
    parley__frame__pack(f, p);
    return true;
}

void session_send_error(struct relay *r, struct conn *c, Parley__Error__Code code,
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
    session_send_frame(r, c, &f);
}

/* An error frame, counted under why, then a policy close. */
void session_refuse(struct relay *r, struct conn *c, Parley__Error__Code code, const char *message,
                    enum reject_reason why)
{
    session_send_error(r, c, code, message, NULL);
    if (!c->authed)
        audit_auth(r->audit, c->serial,
                   c->agent                         ? "agent"
                   : sodium_is_zero(c->sign_pk, 32) ? NULL
                                                    : "customer",
                   -1, NULL, metrics_reason_name(why));
    conn_close(r, c, 1008, why, true);
}

void session_send_ack(struct relay *r, struct conn *c, const uint8_t *envelope_id)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Ack a = PARLEY__ACK__INIT;

    if (envelope_id != NULL)
        a.envelope_id = (ProtobufCBinaryData){16, (uint8_t *)envelope_id};
    f.kind_case = PARLEY__FRAME__KIND_ACK;
    f.ack = &a;
    session_send_frame(r, c, &f);
}

/* ------------------------------------------------------------------ */
/* Shared look-ups */

/* Sealed bytes up to this size are kept in pooled buffers of it (larger ones are allocated). */
#define SEALED_POOLED 4096u
#define FRAME_ARENA (64u * 1024u)

int session_pools_init(struct relay *r)
{
    pool_init(&r->sealed_pool, SEALED_POOLED, 512);
    conn_pools_init(r);
    return arena_init(&r->frames, FRAME_ARENA);
}

void session_pools_free(struct relay *r)
{
    pool_free(&r->tx_pool);
    pool_free(&r->window_pool);
    pool_free(&r->sealed_pool);
    arena_free(&r->frames);
}

uint8_t *session_sealed_copy(struct relay *r, const uint8_t *data, size_t len)
{
    uint8_t *p = len <= r->sealed_pool.size ? pool_get(&r->sealed_pool) : malloc(len);

    if (p != NULL)
        memcpy(p, data, len);
    return p;
}

void session_sealed_release(struct relay *r, struct store_env *e)
{
    if (e->sealed_len <= r->sealed_pool.size)
        pool_put(&r->sealed_pool, e->sealed);
    else
        free(e->sealed);
    e->sealed = NULL;
    e->sealed_len = 0;
}

bool session_hand_over(struct relay *r)
{
    if (r->pending.n == 0)
        return true;
    /* The store takes one batch at a time: the places of pending ops stay valid until then. */
    if (store_busy(r->store))
        return false;
    delivery_compact(r);
    if (r->pending.n == 0)
        return true;
    quota_budgets_fill(r);
    if (!store_submit(r->store, &r->pending))
        return false;
    r->batches_submitted++;
    r->budget_writes = 0;
    return true;
}

void session_submit(struct relay *r)
{
    erasure_schedule(r);
    (void)session_hand_over(r);
}

struct conn *session_online(struct relay *r, const uint8_t routing[32])
{
    struct map_entry *e = map_get(&r->online, routing);
    return e != NULL ? e->ptr : NULL;
}

int session_find_brand(const struct relay *r, const char *brand_id)
{
    for (size_t i = 0; i < r->n_brands; i++)
        if (strcmp(r->brands[i].brand->id, brand_id) == 0)
            return (int)i;
    return -1;
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
    session_send_frame(r, c, &f);
    audit_conn_open(r->audit, c->serial, c->addr);
}

/* Checks an agent certificate; on success sets c->brand. Refuses and returns false otherwise. */
static bool auth_agent(struct relay *r, struct conn *c, const Parley__AgentCert *cert)
{
    parley_cert_info info;
    parley_err err;
    int b;

    if (parley__cert_body_decode(cert, &info) != PARLEY_OK) {
        session_refuse(r, c, PARLEY__ERROR__CODE__BAD_CERTIFICATE, "malformed certificate",
                       REJECT_bad_certificate);
        return false;
    }
    b = session_find_brand(r, info.brand_id);
    if (b < 0) {
        session_refuse(r, c, PARLEY__ERROR__CODE__UNKNOWN_BRAND, "brand not served here",
                       REJECT_unknown_brand);
        return false;
    }
    err = parley__cert_check(cert, r->brands[b].brand->key, info.brand_id, relay_now_ms() / 1000u,
                             r->brands[b].revs, &info);
    if (err == PARLEY_EEXPIRED || err == PARLEY_ENOTYETVALID) {
        session_refuse(r, c, PARLEY__ERROR__CODE__EXPIRED, "certificate outside its validity",
                       REJECT_expired);
        return false;
    }
    if (err == PARLEY_EREVOKED) {
        session_refuse(r, c, PARLEY__ERROR__CODE__REVOKED, "certificate revoked", REJECT_revoked);
        return false;
    }
    if (err != PARLEY_OK || sodium_memcmp(info.sign_pk, c->sign_pk, 32) != 0) {
        session_refuse(r, c, PARLEY__ERROR__CODE__BAD_CERTIFICATE, "certificate does not verify",
                       REJECT_bad_certificate);
        return false;
    }
    c->brand = b;
    c->cert_serial = info.serial;
    return true;
}

/*
 * Authenticated: AuthOk (an agent's with its count of one-time prekeys),
 * then, for an agent, its brand's directory, then what is stored for it.
 */
static void auth_done(struct relay *r, struct conn *c)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__AuthOk ok = PARLEY__AUTH_OK__INIT;

    c->auth_pending = 0;
    ok.routing_id = (ProtobufCBinaryData){32, c->routing};
    ok.agent = c->agent;
    if (c->agent) {
        ok.brand_id = (char *)r->brands[c->brand].brand->id;
        ok.prekeys_left = c->prekeys_left < UINT32_MAX ? (uint32_t)c->prekeys_left : UINT32_MAX;
    }
    f.kind_case = PARLEY__FRAME__KIND_AUTH_OK;
    f.auth_ok = &ok;
    session_send_frame(r, c, &f);
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
        publish_send_directory(r, c, c->brand, r->brands[c->brand].brand->id);
        order_agent_ready(r, c);
    }
    delivery_start(r, c);
}

/* One of the store's answers the AuthOk waits for is in. */
static void auth_answered(struct relay *r, struct conn *c)
{
    if (c->auth_pending > 0 && --c->auth_pending == 0)
        auth_done(r, c);
}

/* An agent is told how many one-time prekeys the store holds for it: true when it is asked. */
static bool prekey_count_read(struct relay *r, struct conn *c)
{
    struct store_op *op = store_batch_add(&r->pending, STORE_PREKEY_COUNT);

    if (op == NULL)
        return false; /* none counted: the agent publishes more, which the limit bounds */
    memcpy(op->env.recipient, c->routing, 32);
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
    return true;
}

static void on_auth(struct relay *r, struct conn *c, const Parley__Auth *a)
{
    struct map_entry *slot;
    struct conn *old;

    c->agent = a->cert != NULL; /* what it claims, until verified */
    if (!parley__len_is(a->sign_key, 32) || !parley__len_is(a->signature, 64)) {
        session_refuse(r, c, PARLEY__ERROR__CODE__MALFORMED, "bad auth frame", REJECT_malformed);
        return;
    }
    memcpy(c->sign_pk, a->sign_key.data, 32);
    if (parley__relay_auth_verify(c->sign_pk, c->nonce, r->relay_id, a->signature.data) !=
        PARLEY_OK) {
        session_refuse(r, c, PARLEY__ERROR__CODE__AUTH_FAILED,
                       "challenge signature does not verify", REJECT_auth_failed);
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
    c->authed_at_ms = relay_now_ms();
    store_watch(r->store, c->routing, true);
    if (old != NULL && old != c) {
        old->authed = false; /* no longer the owner of the routing id */
        delivery_stop(r, old);
        conn_close(r, old, 4004, REJECT_unexpected, false);
    }
    c->authed = c->proven = true;
    c->frames = (struct bucket){0, 0}; /* a full bucket at the authenticated rate */
    r->metrics.connections_authenticated++;
    /* The sender's budget as the other relay nodes left it, before any send of it is taken. */
    c->budget_pending = quota_budget_read(r, c);
    c->auth_pending = c->budget_pending + (c->agent && prekey_count_read(r, c));
    if (c->auth_pending == 0)
        auth_done(r, c);
}

/* ------------------------------------------------------------------ */
/* Dispatch */

/*
 * A connection being closed still has its acknowledgements applied: they
 * delete by the routing id it proved, which is safe whatever else it does.
 */
static void message_after_close(struct relay *r, struct conn *c, const uint8_t *msg, size_t len)
{
    Parley__Frame *f = c->proven ? parley__frame__unpack(&r->frames.allocator, len, msg) : NULL;

    if (f != NULL && f->kind_case == PARLEY__FRAME__KIND_DELIVERED)
        delivery_on_delivered(r, c, f->delivered);
    if (f != NULL)
        parley__frame__free_unpacked(f, &r->frames.allocator);
    arena_reset(&r->frames);
}

void session_message(struct relay *r, struct conn *c, const uint8_t *msg, size_t len)
{
    Parley__Frame *f;

    if (c->closing) {
        message_after_close(r, c, msg, len);
        return;
    }
    f = parley__frame__unpack(&r->frames.allocator, len, msg);
    if (f == NULL) {
        arena_reset(&r->frames);
        session_refuse(r, c, PARLEY__ERROR__CODE__MALFORMED, "frame does not decode",
                       REJECT_malformed);
        return;
    }
    if (!c->authed) {
        if (f->kind_case == PARLEY__FRAME__KIND_AUTH)
            on_auth(r, c, f->auth);
        else
            session_refuse(r, c, PARLEY__ERROR__CODE__NOT_AUTHENTICATED, "authenticate first",
                           REJECT_not_authenticated);
        goto done;
    }
    if (!conn_rate_take(r, c)) {
        const uint8_t *eid =
            f->kind_case == PARLEY__FRAME__KIND_SEND && parley__len_is(f->send->envelope_id, 16)
                ? f->send->envelope_id.data
                : NULL;
        if (!c->closing)
            session_send_error(r, c, PARLEY__ERROR__CODE__RATE_LIMITED, "slow down", eid);
        goto done;
    }
    switch (f->kind_case) {
    case PARLEY__FRAME__KIND_SEND:
        delivery_on_send(r, c, f->send);
        break;
    case PARLEY__FRAME__KIND_DELIVERED:
        delivery_on_delivered(r, c, f->delivered);
        break;
    case PARLEY__FRAME__KIND_DIRECTORY_PUBLISH:
        publish_on_directory(r, c, f->directory_publish);
        break;
    case PARLEY__FRAME__KIND_DIRECTORY_FETCH:
        c->watch_brand = session_find_brand(r, f->directory_fetch->brand_id);
        publish_send_directory(r, c, c->watch_brand, f->directory_fetch->brand_id);
        break;
    case PARLEY__FRAME__KIND_PREKEY_PUBLISH:
        publish_on_prekeys(r, c, f->prekey_publish);
        break;
    case PARLEY__FRAME__KIND_PREKEY_FETCH:
        publish_on_prekey_fetch(r, c, f->prekey_fetch);
        break;
    case PARLEY__FRAME__KIND_ERASE:
        erasure_on_request(r, c, f->erase);
        break;
    case PARLEY__FRAME__KIND_ORDER_SUBMIT:
        order_on_submit(r, c, f->order_submit);
        break;
    case PARLEY__FRAME__KIND_ORDER_RECEIPT:
        order_on_receipt(r, c, f->order_receipt);
        break;
    case PARLEY__FRAME__KIND_ORDER_STATUS_FETCH:
        order_on_status(r, c, f->order_status_fetch);
        break;
    default:
        metrics_reject(&r->metrics, REJECT_unexpected);
        session_send_error(r, c, PARLEY__ERROR__CODE__UNEXPECTED, "unexpected frame", NULL);
        break;
    }
done:
    parley__frame__free_unpacked(f, &r->frames.allocator);
    arena_reset(&r->frames);
}

void session_closed(struct relay *r, struct conn *c)
{
    struct map_entry *e;

    delivery_stop(r, c);
    if (c->state == CONN_WS)
        audit_conn_close(r->audit, c->serial, c->close_code);
    if (!c->authed)
        return;
    r->metrics.connections_authenticated--;
    e = map_get(&r->online, c->routing);
    if (e != NULL && e->ptr == c) {
        map_del(&r->online, c->routing);
        store_watch(r->store, c->routing, false);
    }
    log_event(LOG_INFO, "closed", "\"conn\":\"%s\"", c->pseudonym);
}

/* ------------------------------------------------------------------ */
/* Store completions */

struct conn *session_conn(struct relay *r, uint64_t serial, const uint8_t routing[32])
{
    struct conn *c = serial != 0 ? session_online(r, routing) : NULL;
    return c != NULL && c->serial == serial && !c->closing ? c : NULL;
}

static struct conn *reply_target(struct relay *r, const struct store_op *op)
{
    return session_conn(r, op->conn_serial, op->reply_to);
}

void session_store_refused(struct relay *r, struct conn *c, const uint8_t *envelope_id)
{
    metrics_reject(&r->metrics, REJECT_unavailable);
    if (c != NULL)
        session_send_error(r, c, PARLEY__ERROR__CODE__UNAVAILABLE, "store failed, retry",
                           envelope_id);
}

static void session_store_notices(struct relay *r);
static void expire_step(struct relay *r, uint64_t cutoff, uint32_t unit);

/* A directory stored by another node: a newer one replaces this node's and goes to its watchers. */
static void newer_directory(void *arg, const char *brand_id, uint64_t version, const uint8_t *blob,
                            size_t len)
{
    struct relay *r = arg;
    int b = session_find_brand(r, brand_id);

    const struct brand_state *bs = b >= 0 ? &r->brands[b] : NULL;

    /* Not newer, or this node's own publication, which its completion applies and pushes. */
    if (bs == NULL || (bs->dir != NULL && version <= bs->dir_version) ||
        (bs->pending != NULL && version <= bs->pending_version) ||
        !publish_stored_directory(r, b, version, blob, len))
        return;
    for (struct conn *w = r->conns; w != NULL; w = w->next)
        if (w->authed && !w->closing && w->watch_brand == b)
            publish_send_directory(r, w, b, brand_id);
}

/* The audit entries of these changes were committed with them (audit_store.c). */
static void op_done(struct relay *r, struct store_op *op, uint64_t now_ns)
{
    struct conn *c = reply_target(r, op);
    bool stored;

    switch (op->kind) {
    case STORE_INSERT:
        quota_settled(r, op->env.sealed_len);
        stored = op->ok && op->inserted && !op->refused;
        /* Not stored after all (a failure, or a resend of what is stored): not counted. A
         * shared store counts each recipient's queue itself, across nodes; the sender's budget
         * stays this node's. */
        if (!stored || store_shared(r->store))
            quota_add(r, op->env.recipient, op->reply_to, -1, -(int64_t)op->env.sealed_len);
        if (!stored)
            quota_refund(r, op->reply_to, op->env.sealed_len);
        if (!op->ok) {
            session_store_refused(r, c, op->env.envelope_id);
            break;
        }
        if (op->refused) {
            delivery_store_refused(r, c, op);
            break;
        }
        if (op->inserted) {
            r->metrics.envelopes_stored++;
            metrics_observe_store(&r->metrics, (double)(now_ns - op->submitted_ns) / 1e9);
        }
        if (c != NULL)
            session_send_ack(r, c, op->env.envelope_id);
        break;
    case STORE_DELETE:
        if (op->deleted > 0) {
            r->metrics.envelopes_acknowledged += op->deleted;
            quota_removed(r, op);
        }
        break;
    case STORE_ERASE_STEP:
        erasure_done(r, op);
        break;
    case STORE_EXPIRE:
        r->metrics.envelopes_expired += op->deleted;
        quota_removed(r, op);
        if (op->deleted > 0) {
            log_event(LOG_INFO, "expired", "\"envelopes\":%u", op->deleted);
        }
        r->expire_in_flight = false;
        /* A shared store sweeps in steps: the next one goes at once, behind what came meanwhile. */
        if (op->ok && op->unit != 0 && !r->stopping)
            expire_step(r, op->cutoff, 1);
        break;
    case STORE_DIRECTORY:
        publish_directory_done(r, op, c);
        break;
    case STORE_FETCH:
        delivery_fetched(r, c, op);
        break;
    case STORE_PREKEY_PUBLISH:
        publish_prekeys_done(r, op, c);
        break;
    case STORE_PREKEY_TAKE:
        publish_prekey_taken(r, op, c);
        break;
    case STORE_PREKEY_COUNT:
        /* A failed read counts none: the agent publishes more, which the limit bounds. */
        if (c != NULL && c->auth_pending > 0) {
            c->prekeys_left = op->ok ? op->count : 0;
            auth_answered(r, c);
        }
        break;
    case STORE_BUDGET_READ:
        /* Unanswered: the node goes on with its own count of the sender. */
        quota_budget_loaded(r, op);
        if (c != NULL && c->budget_pending) {
            c->budget_pending = false;
            auth_answered(r, c);
        }
        break;
    case STORE_ORDER_PUT:
    case STORE_ORDER_PENDING:
    case STORE_RECEIPT_PUT:
    case STORE_ORDER_STATUS:
        order_done(r, op, c);
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
        delivery_batch_back(r, &r->done);
        health_store_done(r, &r->done);
        audit_store_done(r, &r->done);
        for (size_t i = 0; i < r->done.n; i++) {
            op_done(r, &r->done.ops[i], now_ns);
            if (r->done.ops[i].kind == STORE_INSERT)
                session_sealed_release(r, &r->done.ops[i].env);
        }
        store_batch_clear(&r->done);
        /* Whatever arrived meanwhile goes next, without waiting for the loop to idle. */
        session_submit(r);
    }
    session_store_notices(r);
}

/* A shared store's news: envelopes stored by any node for recipients connected here, orders. */
static void session_store_notices(struct relay *r)
{
    uint8_t routing[32];
    uint64_t when = 0;
    int kind;

    while ((kind = store_take_notice(r->store, routing, &when)) != 0) {
        if (kind == 1) {
            delivery_notice(r, routing);
            continue;
        }
        if (kind == 4) {
            /* A newer connection with the same key, on another node, replaces this one. */
            struct conn *c = session_online(r, routing);
            if (c != NULL && c->authed && !c->closing && c->authed_at_ms <= when) {
                delivery_stop(r, c);
                conn_close(r, c, 4004, REJECT_unexpected, false);
            }
            continue;
        }
        if (kind == 3) {
            if (store_load_directories(r->store, newer_directory, r) != 0)
                log_event(LOG_ERROR, "directories_unreadable", NULL);
            continue;
        }
        /* Everything read again: envelopes, and the orders pending for each agent (notices of
           orders stored meanwhile by other nodes may be lost). */
        for (struct conn *c = r->conns; c != NULL; c = c->next) {
            if (c->authed && !c->closing)
                delivery_notice(r, c->routing);
            if (c->authed && !c->closing && c->agent)
                order_agent_ready(r, c);
        }
    }
    order_notices(r);
    session_submit(r);
}

/* Queues a step of an expiry sweep: unit 0 begins one, 1 goes on. */
static void expire_step(struct relay *r, uint64_t cutoff, uint32_t unit)
{
    struct store_op *op = store_batch_add(&r->pending, STORE_EXPIRE);

    if (op == NULL)
        return;
    op->cutoff = cutoff;
    op->unit = unit;
    r->expire_in_flight = true;
}

void session_expire(struct relay *r)
{
    uint64_t now = relay_now_ms() / 1000u;

    quota_sweep(r);
    /* A sweep still going on in steps is not begun again. */
    if (!r->expire_in_flight)
        expire_step(r, now > r->cfg.ttl ? now - r->cfg.ttl : 0, 0);
}

/* ------------------------------------------------------------------ */
/* Start-up */

static void load_quota(void *arg, const uint8_t recipient[32], const uint8_t sender[32],
                       uint64_t count, uint64_t bytes)
{
    quota_add(arg, recipient, sender, (int64_t)count, (int64_t)bytes);
}

static void load_directory(void *arg, const char *brand_id, uint64_t version, const uint8_t *blob,
                           size_t len)
{
    struct relay *r = arg;
    int b = session_find_brand(r, brand_id);

    if (b >= 0)
        (void)publish_stored_directory(r, b, version, blob, len);
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

void session_free(struct relay *r)
{
    for (size_t i = 0; i < r->n_brands; i++) {
        free(r->brands[i].dir);
        parley_revlist_free(r->brands[i].revs);
        free(r->brands[i].pending);
        r->brands[i].pending = NULL;
        r->brands[i].dir = NULL;
        r->brands[i].revs = NULL;
    }
    erasure_free(r);
    quota_free(r);
}
