/*
 * Store-and-forward of envelopes: accepting a send (within the
 * recipient's quota), delivering in order, and deleting what recipients
 * acknowledge.
 *
 * A connection first catches up from the store (draining: STORE_FETCH
 * ops, which the store runs after every write queued before them), then
 * receives new envelopes as they arrive (live), before they are even
 * committed. So order per recipient is the store's order.
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

#include "internal.h" /* parley__grow */
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

bool delivery_send(struct relay *r, struct conn *c, const struct store_env *e,
                   const struct store_op *ins, uint64_t batch)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Envelope env = PARLEY__ENVELOPE__INIT;
    struct inflight *slot;

    if (c->inflight == NULL && (c->inflight = pool_get(&r->window_pool)) == NULL)
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
    slot->seq = e->seq;
    slot->batch = ins != NULL ? batch : 0;
    slot->op = ins != NULL ? (uint32_t)(ins - r->pending.ops) : 0;
    slot->sender_serial = ins != NULL ? ins->conn_serial : 0;
    if (ins != NULL)
        memcpy(slot->sender, ins->reply_to, 32);
    c->inflight_bytes += slot->bytes;
    return true;
}

/*
 * An acknowledged envelope leaves the window, its slot copied to *out
 * (false: it was not in it, e.g. sent on an earlier connection).
 */
static bool window_release(struct relay *r, struct conn *c, const uint8_t envelope_id[16],
                           struct inflight *out)
{
    bool found = false;

    for (size_t i = 0; i < c->n_inflight; i++)
        if (memcmp(c->inflight[i].envelope_id, envelope_id, 16) == 0) {
            *out = c->inflight[i];
            c->inflight_bytes -= c->inflight[i].bytes;
            c->inflight[i] = c->inflight[--c->n_inflight];
            found = true;
            break;
        }
    if (c->n_inflight == 0) {
        pool_put(&r->window_pool, c->inflight); /* idle connections hold no buffers */
        c->inflight = NULL;
    }
    return found;
}

/*
 * Asks the store for what c has not been sent yet: at most what its
 * window has room for. The store reads after every write queued before
 * the ask, so acknowledged envelopes are not sent again and new ones
 * come in order. One ask at a time per connection; an envelope arriving
 * for c meanwhile makes it ask again once the answer is in.
 */
static void fetch_more(struct relay *r, struct conn *c)
{
    struct store_op *op;
    uint64_t bytes = window_bytes(r);
    size_t room = r->cfg.window_envelopes - c->n_inflight;

    if (c->fetching) {
        c->refetch = true;
        return;
    }
    if (c->closing || c->live || c->auth_pending || !window_room(r, c, 0))
        return; /* resumed by delivery_on_delivered, or delivery_start */
    op = store_batch_add(&r->pending, STORE_FETCH);
    if (op == NULL) {
        conn_close(r, c, 1011, REJECT_unavailable, true);
        return;
    }
    memcpy(op->env.recipient, c->routing, 32);
    op->cutoff = c->cursor;
    op->limit = (uint32_t)(room < DRAIN_BATCH ? (room > 0 ? room : 1) : DRAIN_BATCH);
    op->max_bytes = c->inflight_bytes < bytes ? bytes - c->inflight_bytes : 1;
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
    c->fetching = true;
    c->refetch = false;
}

/* Whether e may go to c now: the window, and half the outbound limit at most (the rest is for
 * answers and pushes). */
static bool may_send(const struct relay *r, const struct conn *c, const struct store_env *e)
{
    return window_room(r, c, window_cost(e)) &&
           (conn_queued(c) == 0 || conn_queued(c) + window_cost(e) <= r->cfg.max_outbound / 2);
}

/*
 * The store's answer to fetch_more (c: NULL when the connection is gone
 * or closing). Sends what fits; asks again when there may be more;
 * otherwise c is caught up and goes live: new envelopes are sent as they
 * arrive, before they are even committed.
 */
void delivery_fetched(struct relay *r, struct conn *c, const struct store_op *op)
{
    uint64_t bytes = 0;
    bool full = false;

    if (c == NULL)
        return;
    c->fetching = false;
    if (!op->ok) {
        log_event(LOG_ERROR, "store_read_failed", "\"conn\":\"%s\"", c->pseudonym);
        conn_close(r, c, 1011, REJECT_unavailable, true);
        return;
    }
    for (size_t i = 0; i < op->n_envs && !full; i++) {
        const struct store_env *e = &op->envs[i];
        bytes += e->sealed_len;
        if (e->seq <= c->cursor)
            continue;
        full = !may_send(r, c, e) || !delivery_send(r, c, e, NULL, 0);
    }
    if (full || c->closing)
        return; /* resumed by delivery_on_delivered or session_writable */
    if (c->refetch || op->n_envs == op->limit || bytes >= op->max_bytes)
        fetch_more(r, c);
    else
        c->live = true;
}

void session_writable(struct relay *r, struct conn *c)
{
    if (c->authed && !c->live)
        fetch_more(r, c);
}

/* Catches c up from the store, then live. */
void delivery_start(struct relay *r, struct conn *c)
{
    c->live = false;
    c->cursor = 0;
    fetch_more(r, c);
}

void delivery_stop(struct relay *r, struct conn *c)
{
    pool_put(&r->window_pool, c->inflight);
    c->inflight = NULL;
    c->n_inflight = 0;
    c->inflight_bytes = 0;
}

/* ------------------------------------------------------------------ */
/* Delivered before the commit */

/*
 * A sender's envelope is acknowledged once it is safe: committed to the
 * store, or confirmed delivered by its recipient, whose client commits an
 * envelope before it confirms it. Whichever comes first acknowledges it.
 * An envelope confirmed while its insert still waits in the pending batch
 * is never written: the insert is taken back, and there is nothing to
 * delete (so no write at all, no audit entry of a change that never was).
 * One confirmed while the store is committing its insert is deleted as
 * usual, and its sender acknowledged at once rather than again at the
 * commit.
 */
struct early_ack {
    uint64_t batch, seq;
};

/* The slot's insert if it still waits in the pending batch, for recipient c. */
static struct store_op *pending_insert(struct relay *r, const struct conn *c,
                                       const struct inflight *s)
{
    struct store_op *op;

    if (s->batch != r->batches_submitted + 1 || s->op >= r->pending.n)
        return NULL;
    op = &r->pending.ops[s->op];
    if (op->kind != STORE_INSERT || op->env.sealed == NULL ||
        memcmp(op->env.envelope_id, s->envelope_id, 16) != 0 ||
        memcmp(op->env.recipient, c->routing, 32) != 0)
        return NULL;
    return op;
}

static void ack_sender(struct relay *r, const struct inflight *s)
{
    struct conn *from = session_conn(r, s->sender_serial, s->sender);

    if (from != NULL)
        session_send_ack(r, from, s->envelope_id);
}

/*
 * Takes back the insert of an envelope its recipient c confirmed before
 * the batch holding it was handed over. True when nothing more is to be
 * done; false when a stored copy (an earlier send of the same envelope)
 * may still have to be deleted: its sender has other envelopes to c
 * stored or in the store's hands.
 */
static bool take_back(struct relay *r, const struct conn *c, const struct inflight *s)
{
    struct store_op *op = pending_insert(r, c, s);
    uint64_t left;

    if (op == NULL)
        return false;
    ack_sender(r, s);
    left = quota_unpend(r, op->reply_to, op->env.recipient, -1, -(int64_t)op->env.sealed_len);
    quota_settled(r, op->env.sealed_len);
    quota_refund(r, op->reply_to, op->env.sealed_len);
    session_sealed_release(r, &op->env); /* sealed NULL: dropped before the hand-over */
    r->metrics.envelopes_acknowledged++;
    r->metrics.envelopes_unwritten++;
    return left == 0;
}

/* The recipient confirmed an envelope whose insert the store is committing: acked now. */
static void ack_early(struct relay *r, const struct inflight *s)
{
    if (s->batch <= r->batches_done || s->batch > r->batches_submitted)
        return; /* committed, and acknowledged then */
    struct early_ack *grown = parley__grow(r->early, &r->cap_early, r->n_early + 1, sizeof(*grown));

    if (grown == NULL)
        return; /* acknowledged at the commit instead */
    r->early = grown;
    r->early[r->n_early++] = (struct early_ack){s->batch, s->seq};
    ack_sender(r, s);
}

void delivery_compact(struct relay *r)
{
    size_t n = 0;

    for (size_t i = 0; i < r->pending.n; i++) {
        struct store_op *op = &r->pending.ops[i];
        if (op->kind == STORE_INSERT) {
            if (op->env.sealed == NULL)
                continue; /* taken back: owns nothing */
            quota_unpend(r, op->reply_to, op->env.recipient, 0, 0); /* to the store */
        }
        if (n != i)
            r->pending.ops[n] = *op;
        n++;
    }
    r->pending.n = n;
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const struct early_ack *)a)->seq, y = ((const struct early_ack *)b)->seq;
    return x < y ? -1 : x > y;
}

void delivery_batch_back(struct relay *r, struct store_batch *b)
{
    size_t n = 0, mine = 0, k = 0;

    if (r->n_early == 0)
        return;
    /* This batch's entries first, in seq order, as its inserts are; the others stay. */
    for (size_t i = 0; i < r->n_early; i++)
        if (r->early[i].batch == r->batches_done) {
            struct early_ack t = r->early[mine];
            r->early[mine++] = r->early[i];
            r->early[i] = t;
        }
    qsort(r->early, mine, sizeof(*r->early), by_seq);
    for (size_t i = 0; i < b->n && k < mine; i++) {
        struct store_op *op = &b->ops[i];
        if (op->kind != STORE_INSERT)
            continue;
        while (k < mine && r->early[k].seq < op->env.seq)
            k++;
        if (k < mine && r->early[k].seq == op->env.seq)
            op->conn_serial = 0; /* acknowledged already: no ack, no retry asked for */
    }
    for (size_t i = mine; i < r->n_early; i++)
        if (r->early[i].batch > r->batches_done)
            r->early[n++] = r->early[i];
    r->n_early = n;
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

void delivery_store_refused(struct relay *r, struct conn *c, const struct store_op *op)
{
    enum quota_verdict v = op->refused_pair ? QUOTA_PAIR : QUOTA_RECIPIENT;

    if (c == NULL)
        metrics_reject(&r->metrics, refusals[v].why);
    else
        refuse_send(r, c, refusals[v].why, refusals[v].code, refusals[v].message,
                    op->env.envelope_id);
}

void delivery_on_send(struct relay *r, struct conn *c, Parley__Envelope *env)
{
    enum quota_verdict verdict;
    struct store_op *op;
    struct conn *to;
    uint8_t *sealed;
    const uint8_t *eid = parley__len_is(env->envelope_id, 16) ? env->envelope_id.data : NULL;

    if (eid == NULL || !parley__len_is(env->conversation_id, 16) ||
        !parley__len_is(env->recipient, 32) || env->sealed.len == 0) {
        refuse_send(r, c, REJECT_malformed, PARLEY__ERROR__CODE__MALFORMED, "bad envelope", eid);
        return;
    }
    if (c->budget_pending) {
        /* Sent before its AuthOk: the sender's budget is not known here yet. */
        refuse_send(r, c, REJECT_unavailable, PARLEY__ERROR__CODE__UNAVAILABLE,
                    "not ready, retry", eid);
        return;
    }
    verdict = quota_admit(r, c->routing, env->recipient.data, env->sealed.len);
    if (verdict != QUOTA_OK) {
        refuse_send(r, c, refusals[verdict].why, refusals[verdict].code, refusals[verdict].message,
                    eid);
        return;
    }
    sealed = session_sealed_copy(r, env->sealed.data, env->sealed.len);
    op = sealed != NULL ? store_batch_add(&r->pending, STORE_INSERT) : NULL;
    if (op == NULL) {
        struct store_env none = {.sealed = sealed, .sealed_len = env->sealed.len};
        session_sealed_release(r, &none);
        quota_unpend(r, c->routing, env->recipient.data, -1, -(int64_t)env->sealed.len);
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
    op->env.sealed = sealed;
    op->env.sealed_len = env->sealed.len;
    op->env.stored_at = relay_now_ms() / 1000u;
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
    op->submitted_ns = relay_mono_ns();

    to = session_online(r, op->env.recipient);
    /* A shared store orders envelopes itself: the recipient reads this one from it. */
    if (to != NULL && to->authed && !to->closing && !store_shared(r->store) && to->live &&
        window_room(r, to, window_cost(&op->env)) &&
        delivery_send(r, to, &op->env, op, r->batches_submitted + 1))
        return;
    /* Catching up, or its window is full: it reads this from the store, after the insert. */
    delivery_notice(r, op->env.recipient);
}

void delivery_notice(struct relay *r, const uint8_t recipient[32])
{
    struct conn *to = session_online(r, recipient);

    if (to != NULL && to->authed && !to->closing) {
        to->live = false;
        fetch_more(r, to);
    }
}

void delivery_on_delivered(struct relay *r, struct conn *c, const Parley__Delivered *d)
{
    for (size_t i = 0; i < d->n_envelope_ids; i++) {
        struct store_op *op;
        struct inflight slot;

        if (!parley__len_is(d->envelope_ids[i], 16)) {
            metrics_reject(&r->metrics, REJECT_malformed);
            session_send_error(r, c, PARLEY__ERROR__CODE__MALFORMED, "bad envelope id", NULL);
            return;
        }
        if (window_release(r, c, d->envelope_ids[i].data, &slot) && slot.batch != 0) {
            if (take_back(r, c, &slot))
                continue; /* never written, nothing to delete */
            ack_early(r, &slot);
        }
        op = store_batch_add(&r->pending, STORE_DELETE);
        if (op == NULL)
            return;
        memcpy(op->env.recipient, c->routing, 32);
        memcpy(op->env.envelope_id, d->envelope_ids[i].data, 16);
    }
    if (c->authed && !c->closing && !c->live)
        fetch_more(r, c); /* the window has room again */
}
