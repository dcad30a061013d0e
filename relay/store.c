/*
 * The store interface (see store.h): choosing the implementation a
 * `--store KIND:WHERE` names, passing each call to it, and the batches
 * of ops, which are the same whatever runs them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h" /* parley__grow, libparley's wire layer's checked growth */
#include "store.h"

static const struct store_ops *const kinds[] = {
    &store_sqlite_ops,
#ifdef PARLEY_HAVE_NATS
    &store_nats_ops,
#endif
};

static struct store_params params = {.ttl = 2592000,
                                     .quota_count = 10000,
                                     .max_frame = 66560,
                                     .client = {"", "", "", "", "", "", "", ""},
                                     .sender_window = 3600,
                                     .quota_bytes = 64ull << 20,
                                     .pair_quota_count = 2500,
                                     .pair_quota_bytes = 16ull << 20,
                                     .expiry_interval = 60};

void store_configure(const struct store_params *p)
{
    params = *p;
}

const struct store_params *store_params(void)
{
    return &params;
}

/* The implementation spec names, and where its WHERE begins; NULL when none does. */
static const struct store_ops *kind_of(const char *spec, const char **where)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i]->kind);
        if (strncmp(spec, kinds[i]->kind, n) == 0 && spec[n] == ':') {
            *where = spec + n + 1;
            return kinds[i];
        }
    }
    return NULL;
}

bool store_spec_ok(const char *spec)
{
    const char *where;

    return kind_of(spec, &where) != NULL && where[0] != '\0' &&
           strlen(where) < sizeof(((struct store *)0)->where);
}

int store_open(struct store **out, const char *spec, store_wake_fn wake, void *wake_arg,
               uint64_t *max_seq, char *err, size_t err_cap)
{
    const char *where = NULL;
    const struct store_ops *ops = kind_of(spec, &where);

    *out = NULL;
    if (ops == NULL && strncmp(spec, "nats://", 7) == 0) {
        snprintf(err, err_cap, "%s: this relay was built without libnats (the NATS JetStream "
                 "store); rebuild it with libnats-dev installed", spec);
        return -1;
    }
    if (ops == NULL || !store_spec_ok(spec)) {
        snprintf(err, err_cap, "%s: not a store this relay has (sqlite:PATH%s)", spec,
                 sizeof(kinds) / sizeof(kinds[0]) > 1 ? " or nats://HOST:PORT,..." : "");
        return -1;
    }
    if (ops->open(out, where, wake, wake_arg, max_seq, err, err_cap) != 0)
        return -1;
    (*out)->ops = ops;
    snprintf((*out)->where, sizeof((*out)->where), "%s", where);
    return 0;
}

const char *store_where(const struct store *s)
{
    return s->where;
}

void store_set_audit(struct store *s, store_audit_fn fn, void *arg)
{
    pthread_mutex_lock(&s->hand.lock);
    s->hand.audit = fn;
    s->hand.audit_arg = arg;
    pthread_mutex_unlock(&s->hand.lock);
}

size_t store_audit_body(struct store *s, const struct store_op *op, char *out, size_t cap)
{
    return s->hand.audit != NULL ? s->hand.audit(s->hand.audit_arg, op, out, cap) : 0;
}

void store_close(struct store *s)
{
    if (s != NULL)
        s->ops->close(s);
}

/* ------------------------------------------------------------------ */
/* The hand-off between the loop and the store's thread */

static void batch_swap(struct store_batch *a, struct store_batch *b)
{
    struct store_batch t = *a;
    *a = *b;
    *b = t;
}

bool store_submit(struct store *s, struct store_batch *b)
{
    struct store_handoff *h = &s->hand;
    bool handed = false;

    if (b->n == 0)
        return true;
    pthread_mutex_lock(&h->lock);
    /* Busy until the loop has also taken the previous results back. */
    if (!h->has_work && !h->has_done) {
        store_batch_clear(&h->work);
        batch_swap(&h->work, b);
        h->has_work = true;
        pthread_cond_broadcast(&h->cond);
        handed = true;
    }
    pthread_mutex_unlock(&h->lock);
    return handed;
}

bool store_take_done(struct store *s, struct store_batch *done)
{
    struct store_handoff *h = &s->hand;
    bool took = false;

    pthread_mutex_lock(&h->lock);
    if (h->has_done) {
        store_batch_clear(done);
        batch_swap(done, &h->work);
        h->has_done = false;
        took = true;
    }
    pthread_mutex_unlock(&h->lock);
    return took;
}

bool store_busy(struct store *s)
{
    struct store_handoff *h = &s->hand;
    bool busy;

    pthread_mutex_lock(&h->lock);
    busy = h->has_work || h->has_done;
    pthread_mutex_unlock(&h->lock);
    return busy;
}

/* Waits for a batch or the stop, calling idle every idle_ms meanwhile; under the lock. */
static void await_work(struct store_handoff *h)
{
    const struct store_worker *w = &h->worker;
    struct timespec until;

    while (!h->has_work && !h->stop) {
        if (w->idle == NULL) {
            pthread_cond_wait(&h->cond, &h->lock);
            continue;
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += w->idle_ms / 1000;
        until.tv_nsec += (long)(w->idle_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&h->cond, &h->lock, &until) != 0 && !h->has_work &&
            !h->stop) {
            pthread_mutex_unlock(&h->lock);
            w->idle(w->arg);
            pthread_mutex_lock(&h->lock);
        }
    }
}

static void *serve(void *arg)
{
    struct store_handoff *h = arg;

    pthread_mutex_lock(&h->lock);
    for (;;) {
        await_work(h);
        if (!h->has_work && h->stop)
            break;
        pthread_mutex_unlock(&h->lock);
        h->worker.run(h->worker.arg, &h->work);
        pthread_mutex_lock(&h->lock);
        h->has_work = false;
        h->has_done = true;
        pthread_cond_broadcast(&h->cond);
        pthread_mutex_unlock(&h->lock);
        h->worker.wake(h->worker.arg);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

void store_handoff_init(struct store *s)
{
    pthread_mutex_init(&s->hand.lock, NULL);
    pthread_cond_init(&s->hand.cond, NULL);
    s->hand.ready = true;
}

int store_handoff_start(struct store *s, const struct store_worker *w)
{
    s->hand.worker = *w;
    if (pthread_create(&s->hand.thread, NULL, serve, &s->hand) != 0)
        return -1;
    s->hand.started = true;
    return 0;
}

void store_handoff_stop(struct store *s)
{
    struct store_handoff *h = &s->hand;

    if (!h->ready)
        return;
    if (h->started) {
        pthread_mutex_lock(&h->lock);
        h->stop = true;
        pthread_cond_broadcast(&h->cond);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->thread, NULL);
        h->started = false;
    }
    store_batch_free(&h->work);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    h->ready = false;
}

uint64_t store_bytes_used(struct store *s)
{
    uint64_t v;

    pthread_mutex_lock(&s->hand.lock);
    v = s->hand.bytes;
    pthread_mutex_unlock(&s->hand.lock);
    return v;
}

void store_set_bytes_used(struct store *s, uint64_t bytes)
{
    pthread_mutex_lock(&s->hand.lock);
    s->hand.bytes = bytes;
    pthread_mutex_unlock(&s->hand.lock);
}

int store_meta(struct store *s, const char *name, uint8_t out[32])
{
    return s->ops->meta(s, name, out);
}

int store_load_quotas(struct store *s, store_quota_fn fn, void *arg)
{
    return s->ops->load_quotas(s, fn, arg);
}

int store_load_directories(struct store *s, store_dir_fn fn, void *arg)
{
    return s->ops->load_directories(s, fn, arg);
}

int store_outbox_read(struct store *s, uint64_t from, size_t limit, store_outbox_fn fn,
                      void *arg)
{
    return s->ops->outbox_read(s, from, limit, fn, arg);
}

int store_outbox_open(struct store *s, const uint8_t node[16], char *err, size_t cap)
{
    return s->ops->outbox_open != NULL ? s->ops->outbox_open(s, node, err, cap) : 0;
}

int store_outbox_mark(struct store *s, uint64_t *row, uint32_t *idx, uint64_t *seq)
{
    return s->ops->outbox_mark(s, row, idx, seq);
}

bool store_shared(const struct store *s)
{
    return s->ops->watch != NULL;
}

void store_watch(struct store *s, const uint8_t routing[32], bool on)
{
    if (s->ops->watch != NULL)
        s->ops->watch(s, routing, on);
}

int store_take_notice(struct store *s, uint8_t routing[32], uint64_t *when_ms)
{
    return s->ops->take_notice != NULL ? s->ops->take_notice(s, routing, when_ms) : 0;
}

int store_take_order(struct store *s, char brand_id[65], uint8_t **blob, size_t *len)
{
    return s->ops->take_order != NULL ? s->ops->take_order(s, brand_id, blob, len) : 0;
}

bool store_reachable(struct store *s)
{
    return s->ops->reachable == NULL || s->ops->reachable(s);
}

void store_quiet(struct store *s)
{
    if (s != NULL && s->ops->quiet != NULL)
        s->ops->quiet(s);
}

/* ------------------------------------------------------------------ */
/* Batches */

struct store_op *store_batch_add(struct store_batch *b, enum store_op_kind kind)
{
    struct store_op *op, *grown = parley__grow(b->ops, &b->cap, b->n + 1, sizeof(*grown));

    if (grown == NULL)
        return NULL;
    b->ops = grown;
    op = &b->ops[b->n++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    return op;
}

static void op_release(struct store_op *op)
{
    free(op->env.sealed);
    free(op->blob);
    free(op->expired);
    for (size_t k = 0; k < op->n_envs; k++)
        free(op->envs[k].sealed);
    free(op->envs);
    for (size_t k = 0; k < op->n_prekeys; k++)
        free(op->prekeys[k].blob);
    free(op->prekeys);
}

void store_op_clear_results(struct store_op *op)
{
    op->inserted = op->refused = op->refused_pair = op->one_time = op->one_time_left = false;
    op->unanswered = false;
    op->deleted = 0;
    op->freed = 0;
    op->count = 0;
    op->audit_row = 0;
    op->n_expired = 0;
    for (size_t k = 0; k < op->n_envs; k++)
        free(op->envs[k].sealed);
    free(op->envs);
    op->envs = NULL;
    op->n_envs = 0;
    if (op->kind == STORE_PREKEY_TAKE) {
        free(op->blob);
        op->blob = NULL;
        op->blob_len = 0;
    }
}

int store_op_note_removed(struct store_op *op, const uint8_t recipient[32], uint64_t bytes,
                          const uint8_t *sender)
{
    struct store_expired *grown =
        parley__grow(op->expired, &op->cap_expired, op->n_expired + 1, sizeof(*grown));

    if (grown == NULL)
        return -1;
    op->expired = grown;
    memcpy(grown[op->n_expired].recipient, recipient, 32);
    grown[op->n_expired].bytes = bytes;
    if (sender != NULL)
        memcpy(grown[op->n_expired].sender, sender, 32);
    else
        memset(grown[op->n_expired].sender, 0, 32);
    op->n_expired++;
    op->deleted++;
    op->freed += bytes;
    return 0;
}

void store_batch_drop_last(struct store_batch *b)
{
    if (b->n > 0)
        op_release(&b->ops[--b->n]);
}

void store_batch_clear(struct store_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        op_release(&b->ops[i]);
    b->n = 0;
}

void store_batch_free(struct store_batch *b)
{
    store_batch_clear(b);
    free(b->ops);
    b->ops = NULL;
    b->cap = 0;
    free(b->audit);
    b->audit = NULL;
    b->audit_len = b->audit_cap = 0;
}
