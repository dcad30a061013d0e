/*
 * Store-and-forward of envelopes: accepting a send (within the
 * recipient's quota), delivering in order, and deleting what recipients
 * acknowledge.
 *
 * A connection first catches up from the store (draining), then receives
 * new envelopes as they arrive (live), before they are even committed. A
 * draining connection waits for the writer to commit what arrived for it,
 * so order per recipient is the store's order.
 *
 * Delivery is windowed: at most window-envelopes envelopes and
 * window-bytes bytes (never more than half of max-outbound) are sent to a
 * connection and not yet acknowledged with `delivered`. A full window
 * sends a live connection back to draining, and each acknowledgement
 * makes room for the next envelope from the store. So a slow reader gets
 * everything at its own pace and never has megabytes queued ahead of it,
 * and nothing it is sent is ever more than a window beyond what it has
 * taken in.
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "session_impl.h"

#define DRAIN_BATCH 64

/* ------------------------------------------------------------------ */
/* Delivery */

/* What a deliver frame of e takes in the window: its sealed bytes and the routing around them. */
static size_t window_cost(const struct store_env *e)
{
    return e->sealed_len + 96;
}

static uint64_t window_bytes(const struct relay *r)
{
    return r->cfg.window_bytes < r->cfg.max_outbound / 2 ? r->cfg.window_bytes
                                                         : r->cfg.max_outbound / 2;
}

/* Whether an envelope of this cost may go now; one always may when none is outstanding. */
static bool window_room(const struct relay *r, const struct conn *c, size_t cost)
{
    return c->n_inflight == 0 ||
           (c->n_inflight < r->cfg.window_envelopes && c->inflight_bytes + cost <= window_bytes(r));
}

bool delivery_send(struct relay *r, struct conn *c, const struct store_env *e)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Envelope env = PARLEY__ENVELOPE__INIT;
    struct inflight *slot;

    if (c->inflight == NULL &&
        (c->inflight = calloc(r->cfg.window_envelopes, sizeof(*c->inflight))) == NULL)
        return false;
    if (c->n_inflight >= r->cfg.window_envelopes)
        return false;

    env.envelope_id = (ProtobufCBinaryData){16, (uint8_t *)e->envelope_id};
    env.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)e->conversation_id};
    env.recipient = (ProtobufCBinaryData){32, (uint8_t *)e->recipient};
    env.sealed = (ProtobufCBinaryData){e->sealed_len, e->sealed};
    f.kind_case = PARLEY__FRAME__KIND_DELIVER;
    f.deliver = &env;
    if (!session_send_frame(r, c, &f))
        return false;
    r->metrics.envelopes_delivered++;
    audit_delivered(r->audit, c->serial, e->envelope_id);
    if (e->seq > c->cursor)
        c->cursor = e->seq;
    slot = &c->inflight[c->n_inflight++];
    memcpy(slot->envelope_id, e->envelope_id, 16);
    slot->bytes = window_cost(e);
    c->inflight_bytes += slot->bytes;
    return true;
}

/* An acknowledged envelope leaves the window (one acknowledged on an earlier connection was not in
 * it). */
static void window_release(struct conn *c, const uint8_t envelope_id[16])
{
    for (size_t i = 0; i < c->n_inflight; i++)
        if (memcmp(c->inflight[i].envelope_id, envelope_id, 16) == 0) {
            c->inflight_bytes -= c->inflight[i].bytes;
            c->inflight[i] = c->inflight[--c->n_inflight];
            break;
        }
    if (c->n_inflight == 0) {
        free(c->inflight); /* idle connections hold no buffers */
        c->inflight = NULL;
    }
}

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

    /* The window, and half the outbound limit at most: the rest is for answers and pushes. */
    if (!window_room(d->r, d->c, window_cost(e)) ||
        (conn_queued(d->c) > 0 &&
         conn_queued(d->c) + window_cost(e) > d->r->cfg.max_outbound / 2)) {
        d->full = true;
        return 1;
    }
    return delivery_send(d->r, d->c, e) ? 0 : 1;
}

/*
 * Sends stored envelopes to c while its window and its queue have room;
 * resumed when an acknowledgement frees the window or the queue drains.
 * Reads the store only once every write that preceded (the batch pending
 * when c authenticated, or when an envelope for it arrived meanwhile) is
 * committed, so acknowledged envelopes are not sent again and new ones
 * come in order. Goes live when the store has nothing more.
 */
static void drain(struct relay *r, struct conn *c)
{
    struct drain_ctx d = {r, c, false};

    while (!c->closing && !c->live) {
        int n;

        if (r->batches_done < c->wait_batch)
            return; /* resumed by session_store_done */
        if (!window_room(r, c, 0))
            return; /* resumed by delivery_on_delivered */
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

void session_writable(struct relay *r, struct conn *c)
{
    if (c->authed && !c->live)
        drain(r, c);
}

/* Catches c up from the store once everything that arrived before is committed. */
void delivery_start(struct relay *r, struct conn *c)
{
    c->live = false;
    c->cursor = 0;
    c->wait_batch = r->pending.n > 0 ? session_pending_batch(r) : r->batches_submitted;
    drain_list(r, c, true);
    drain(r, c);
}

void delivery_stop(struct relay *r, struct conn *c)
{
    drain_list(r, c, false);
    free(c->inflight);
    c->inflight = NULL;
    c->n_inflight = 0;
    c->inflight_bytes = 0;
}

/* After a commit: connections waiting for it read the store. */
void delivery_resume(struct relay *r)
{
    for (struct conn *c = r->drainers, *next; c != NULL; c = next) {
        next = c->drain_next;
        drain(r, c);
    }
}

/* ------------------------------------------------------------------ */
/* Envelopes */

/* A send refused for now: counted, and answered with the envelope id so the sender retries. */
static void refuse_send(struct relay *r, struct conn *c, enum reject_reason why,
                        Parley__Error__Code code, const char *message, const uint8_t *eid)
{
    metrics_reject(&r->metrics, why);
    session_send_error(r, c, code, message, eid);
}

/* What a sender is told when its envelope cannot be stored now. */
static const struct {
    enum reject_reason why;
    Parley__Error__Code code;
    const char *message;
} refusals[] = {
    [QUOTA_RECIPIENT] = {REJECT_quota_full, PARLEY__ERROR__CODE__QUOTA_FULL,
                         "recipient's queue is full"},
    [QUOTA_PAIR] = {REJECT_pair_quota, PARLEY__ERROR__CODE__QUOTA_FULL,
                    "your share of the recipient's queue is full"},
    [QUOTA_SENDER] = {REJECT_sender_quota, PARLEY__ERROR__CODE__QUOTA_FULL,
                      "you have stored too much for now"},
    [QUOTA_STORAGE] = {REJECT_storage_full, PARLEY__ERROR__CODE__UNAVAILABLE,
                       "relay storage full, retry later"},
};

void delivery_on_send(struct relay *r, struct conn *c, Parley__Envelope *env)
{
    enum quota_verdict verdict;
    struct store_op *op;
    struct conn *to;
    const uint8_t *eid = parley__len_is(env->envelope_id, 16) ? env->envelope_id.data : NULL;

    if (eid == NULL || !parley__len_is(env->conversation_id, 16) ||
        !parley__len_is(env->recipient, 32) || env->sealed.len == 0) {
        refuse_send(r, c, REJECT_malformed, PARLEY__ERROR__CODE__MALFORMED, "bad envelope", eid);
        return;
    }
    verdict = quota_admit(r, c->routing, env->recipient.data, env->sealed.len);
    if (verdict != QUOTA_OK) {
        refuse_send(r, c, refusals[verdict].why, refusals[verdict].code, refusals[verdict].message,
                    eid);
        return;
    }
    op = store_batch_add(&r->pending, STORE_INSERT);
    if (op == NULL) {
        quota_add(r, env->recipient.data, c->routing, -1, -(int64_t)env->sealed.len);
        quota_refund(r, c->routing, env->sealed.len);
        quota_settled(r, env->sealed.len);
        metrics_reject(&r->metrics, REJECT_unavailable);
        session_send_error(r, c, PARLEY__ERROR__CODE__UNAVAILABLE, "out of memory", eid);
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

    to = session_online(r, op->env.recipient);
    if (to != NULL && to->authed && !to->closing) {
        if (to->live && window_room(r, to, window_cost(&op->env)) && delivery_send(r, to, &op->env))
            return;
        /* Draining, or its window is full: read from the store once this is committed. */
        to->live = false;
        to->wait_batch = session_pending_batch(r);
        drain_list(r, to, true);
    }
}

void delivery_on_delivered(struct relay *r, struct conn *c, const Parley__Delivered *d)
{
    for (size_t i = 0; i < d->n_envelope_ids; i++) {
        struct store_op *op;

        if (!parley__len_is(d->envelope_ids[i], 16)) {
            metrics_reject(&r->metrics, REJECT_malformed);
            session_send_error(r, c, PARLEY__ERROR__CODE__MALFORMED, "bad envelope id", NULL);
            return;
        }
        window_release(c, d->envelope_ids[i].data);
        op = store_batch_add(&r->pending, STORE_DELETE);
        if (op == NULL)
            return;
        memcpy(op->env.recipient, c->routing, 32);
        memcpy(op->env.envelope_id, d->envelope_ids[i].data, 16);
    }
    if (c->authed && !c->closing && !c->live)
        drain(r, c); /* the window has room again */
}
