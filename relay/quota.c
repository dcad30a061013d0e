/*
 * The relay's allowances: token buckets, and what may be stored.
 *
 * Storage is bounded four ways, so that nobody can fill the relay's disk
 * for the length of the TTL: per recipient (quota-count, quota-bytes), per
 * sender and recipient (pair-quota-count, pair-quota-bytes: one sender
 * cannot fill an agent's queue), per sender over time (a budget of
 * sender-count envelopes and sender-bytes bytes that refills over
 * sender-window seconds, whoever the recipients), and for the whole
 * database (max-db-bytes). The stored counts are kept in memory from the
 * store's contents and every commit since; the senders' budgets live in
 * memory only (a restart refills them), and with a shared store also in
 * the store, where the node a sender connects to next reads them.
 *
 * One-time prekeys are handed out at a rate per requester (its connection)
 * and per owner, so that nobody can drain an agent's supply; past either,
 * the requester gets the owner's medium-term prekey instead.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "session_impl.h"

/* ------------------------------------------------------------------ */
/* Stored counts */

/* Adds to key's counts; returns its count now. */
static uint64_t account(struct map *m, const uint8_t key[32], int64_t count, int64_t bytes)
{
    struct map_entry *q = map_put(m, key);
    uint64_t now;

    if (q == NULL)
        return UINT64_MAX;
    q->a = (uint64_t)((int64_t)q->a + count);
    q->b = (uint64_t)((int64_t)q->b + bytes);
    now = q->a;
    if (q->a == 0)
        map_del(m, key);
    return now;
}

/* The pair's key: a hash, since a map key is 32 bytes. */
static void pair_key(const uint8_t sender[32], const uint8_t recipient[32], uint8_t key[32])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, sender, 32);
    crypto_generichash_update(&st, recipient, 32);
    crypto_generichash_final(&st, key, 32);
}

/* The bytes-stored gauge: a shared store's is the store's own (health_metrics). */
static void gauge_add(struct relay *r, int64_t bytes)
{
    if (!store_shared(r->store))
        r->metrics.bytes_stored = (uint64_t)((int64_t)r->metrics.bytes_stored + bytes);
}

/* Adds to the recipient's counts and, with a pair key (NULL: no sender recorded), the pair's. */
static uint64_t add_stored(struct relay *r, const uint8_t recipient[32], const uint8_t *key,
                           int64_t count, int64_t bytes)
{
    account(&r->quotas, recipient, count, bytes);
    gauge_add(r, bytes);
    return key != NULL ? account(&r->pairs, key, count, bytes) : UINT64_MAX;
}

uint64_t quota_add(struct relay *r, const uint8_t recipient[32], const uint8_t sender[32],
                   int64_t count, int64_t bytes)
{
    uint8_t key[32];

    if (sodium_is_zero(sender, 32))
        return add_stored(r, recipient, NULL, count, bytes);
    pair_key(sender, recipient, key);
    return add_stored(r, recipient, key, count, bytes);
}

/*
 * A pair's envelopes admitted and still in the pending batch (not yet
 * handed to the store), kept as a count in its entry's ptr. They are
 * counted in its a too, so the entry lives as long as any is pending.
 */
static uint64_t pending_of(const struct map_entry *q)
{
    return (uint64_t)(uintptr_t)q->ptr;
}

static void pending_add(struct relay *r, const uint8_t key[32], int delta)
{
    struct map_entry *q = map_get(&r->pairs, key);

    if (q != NULL && (delta > 0 || pending_of(q) > 0))
        q->ptr = (void *)(uintptr_t)(pending_of(q) + (uint64_t)(int64_t)delta);
}

uint64_t quota_unpend(struct relay *r, const uint8_t sender[32], const uint8_t recipient[32],
                      int64_t count, int64_t bytes)
{
    uint8_t key[32];
    const struct map_entry *q;

    if (sodium_is_zero(sender, 32))
        return UINT64_MAX;
    pair_key(sender, recipient, key);
    pending_add(r, key, -1);
    if (count != 0 || bytes != 0) {
        account(&r->quotas, recipient, count, bytes);
        gauge_add(r, bytes);
        account(&r->pairs, key, count, bytes);
    }
    q = map_get(&r->pairs, key);
    return q != NULL ? q->a - pending_of(q) : 0;
}

void quota_removed(struct relay *r, const struct store_op *op)
{
    /* A shared store counts what it holds itself (its ledger); this node's counts are its
     * sends in flight, which nothing removed was. */
    if (store_shared(r->store))
        return;
    for (size_t i = 0; i < op->n_expired; i++)
        quota_add(r, op->expired[i].recipient, op->expired[i].sender, -1,
                  -(int64_t)op->expired[i].bytes);
}

/* ------------------------------------------------------------------ */
/* Allowances kept per key (senders, prekey owners) */

/* A bucket's refill per second and its size; 0: no limit. */
struct allowance {
    double rate, burst;
};

/* The entry of key in m with its n buckets (ptr), full when new; NULL when out of memory. */
static struct map_entry *entry_of(struct map *m, const uint8_t key[32], size_t n)
{
    struct map_entry *e = map_put(m, key);

    if (e == NULL)
        return NULL;
    if (e->ptr == NULL && (e->ptr = calloc(n, sizeof(struct bucket))) == NULL) {
        map_del(m, key);
        return NULL;
    }
    return e;
}

static struct bucket *buckets_of(struct map *m, const uint8_t key[32], size_t n)
{
    struct map_entry *e = entry_of(m, key, n);

    return e != NULL ? e->ptr : NULL;
}

struct sweep {
    const struct allowance *a;
    size_t n;
    uint64_t now;
};

/* An entry whose buckets are all full again is the same as none: dropped. */
static bool buckets_full(struct map_entry *e, void *arg)
{
    const struct sweep *w = arg;
    struct bucket *b = e->ptr;

    for (size_t i = 0; i < w->n; i++) {
        if (w->a[i].burst == 0)
            continue;
        bucket_take(&b[i], w->a[i].rate, w->a[i].burst, 0, w->now);
        if (b[i].tokens < w->a[i].burst)
            return false;
    }
    free(b);
    return true;
}

static void sweep_map(struct map *m, const struct allowance *a, size_t n)
{
    struct sweep w = {a, n, relay_now_ms()};

    map_sweep(m, buckets_full, &w);
}

/* A sender's budget: [0] envelopes, [1] bytes, refilled over sender-window. */
static void sender_allowance(const struct relay *r, struct allowance a[2])
{
    double window = (double)r->cfg.sender_window;

    a[0] = (struct allowance){r->cfg.sender_count / window, r->cfg.sender_count};
    a[1] = (struct allowance){(double)r->cfg.sender_bytes / window, (double)r->cfg.sender_bytes};
}

/*
 * The sender's budget changed: with a shared store, its state goes there
 * with the pending batch, once per batch however many sends changed it
 * (filled in as the batch is handed over: quota_budgets_fill).
 */
static void budget_changed(struct relay *r, struct map_entry *e)
{
    uint64_t batch = r->batches_submitted + 1;
    struct store_op *op;

    if (e->a == batch || !store_shared(r->store))
        return;
    op = store_batch_add(&r->pending, STORE_BUDGET_WRITE);
    if (op == NULL)
        return; /* the next change writes it */
    memcpy(op->env.recipient, e->key, 32);
    e->a = batch;
    r->budget_writes++;
}

/* Takes one envelope of len bytes from the sender's budget, or nothing. */
static bool budget_take(struct relay *r, const uint8_t sender[32], size_t len)
{
    struct allowance a[2];
    struct map_entry *e;
    struct bucket *b;
    uint64_t now = relay_now_ms();

    sender_allowance(r, a);
    if (a[0].burst == 0 && a[1].burst == 0)
        return true;
    e = entry_of(&r->senders, sender, 2);
    if (e == NULL)
        return false;
    b = e->ptr;
    if (a[0].burst != 0 && !bucket_take(&b[0], a[0].rate, a[0].burst, 1, now))
        return false;
    if (a[1].burst != 0 && !bucket_take(&b[1], a[1].rate, a[1].burst, (double)len, now)) {
        b[0].tokens += 1; /* both or neither */
        return false;
    }
    budget_changed(r, e);
    return true;
}

void quota_refund(struct relay *r, const uint8_t sender[32], size_t len)
{
    struct map_entry *e = map_get(&r->senders, sender);
    struct bucket *b = e != NULL ? e->ptr : NULL;

    if (b == NULL)
        return;
    b[0].tokens += 1;
    b[1].tokens += (double)len;
    budget_changed(r, e);
}

/* ------------------------------------------------------------------ */
/* Budgets across relay nodes (a shared store) */

bool quota_budget_read(struct relay *r, const struct conn *c)
{
    struct allowance a[2];
    struct store_op *op;

    sender_allowance(r, a);
    if (!store_shared(r->store) || (a[0].burst == 0 && a[1].burst == 0))
        return false;
    op = store_batch_add(&r->pending, STORE_BUDGET_READ);
    if (op == NULL)
        return false; /* this node's own count of the sender, for once */
    memcpy(op->env.recipient, c->routing, 32);
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
    return true;
}

/*
 * Each bucket keeps the lower of what this node holds and what the store
 * kept, both refilled for the time passed: whichever node counted a send
 * last, the sender has it counted. The store's entry may lag behind this
 * node's own (written, not yet stored); it never holds more than was left.
 */
void quota_budget_loaded(struct relay *r, const struct store_op *op)
{
    const double kept[2] = {op->budget.count, op->budget.bytes};
    uint64_t now = relay_now_ms(), at = op->budget.at_ms;
    struct allowance a[2];
    struct map_entry *e;
    struct bucket *b;

    if (!op->ok || at == 0 || (e = entry_of(&r->senders, op->env.recipient, 2)) == NULL)
        return;
    sender_allowance(r, a);
    b = e->ptr;
    for (size_t i = 0; i < 2; i++) {
        double t = kept[i] > 0 ? kept[i] : 0;
        if (a[i].burst == 0)
            continue;
        bucket_take(&b[i], a[i].rate, a[i].burst, 0, now);
        if (now > at)
            t += (double)(now - at) * a[i].rate / 1000.0;
        if (t < b[i].tokens)
            b[i].tokens = t;
    }
}

void quota_budgets_fill(struct relay *r)
{
    struct allowance a[2];
    uint64_t now;

    if (r->budget_writes == 0)
        return;
    sender_allowance(r, a);
    now = relay_now_ms();
    for (size_t i = 0; i < r->pending.n; i++) {
        struct store_op *op = &r->pending.ops[i];
        const struct map_entry *e;
        struct bucket b[2] = {{0, 0}, {0, 0}}; /* none kept: full */

        if (op->kind != STORE_BUDGET_WRITE)
            continue;
        e = map_get(&r->senders, op->env.recipient);
        if (e != NULL && e->ptr != NULL)
            memcpy(b, e->ptr, sizeof(b));
        for (size_t k = 0; k < 2; k++)
            bucket_take(&b[k], a[k].rate, a[k].burst, 0, now);
        op->budget = (struct store_budget){b[0].tokens, b[1].tokens, now};
    }
}

/* One-time prekeys handed out: [0] per owner; the requester's bucket is its connection's. */
static struct allowance per_minute(uint32_t n)
{
    return (struct allowance){n / 60.0, n};
}

bool quota_prekey_take(struct relay *r, struct conn *c, const uint8_t owner[32])
{
    struct allowance requester = per_minute(r->cfg.prekey_fetch_rate);
    struct allowance target = per_minute(r->cfg.prekey_owner_rate);
    uint64_t now = relay_now_ms();
    struct bucket *b = NULL;

    if (target.burst != 0 && (b = buckets_of(&r->prekey_owners, owner, 1)) == NULL)
        return false;
    if (requester.burst != 0 &&
        !bucket_take(&c->prekey_fetches, requester.rate, requester.burst, 1, now))
        return false;
    if (b != NULL && !bucket_take(b, target.rate, target.burst, 1, now)) {
        c->prekey_fetches.tokens += requester.burst != 0; /* both or neither */
        return false;
    }
    return true;
}

void quota_prekey_refund(struct relay *r, struct conn *c, const uint8_t owner[32])
{
    struct map_entry *e = map_get(&r->prekey_owners, owner);

    if (c != NULL && r->cfg.prekey_fetch_rate != 0)
        c->prekey_fetches.tokens += 1;
    if (e != NULL && e->ptr != NULL && r->cfg.prekey_owner_rate != 0)
        ((struct bucket *)e->ptr)->tokens += 1;
}

void quota_sweep(struct relay *r)
{
    struct allowance a[2];

    sender_allowance(r, a);
    sweep_map(&r->senders, a, 2);
    a[0] = per_minute(r->cfg.prekey_owner_rate);
    sweep_map(&r->prekey_owners, a, 1);
}

static bool release(struct map_entry *e, void *arg)
{
    free(e->ptr);
    return true;
}

void quota_free(struct relay *r)
{
    map_sweep(&r->senders, release, NULL);
    map_sweep(&r->prekey_owners, release, NULL);
}

/* ------------------------------------------------------------------ */
/* Admission */

enum quota_verdict quota_admit(struct relay *r, const uint8_t sender[32],
                               const uint8_t recipient[32], size_t len)
{
    const struct map_entry *q = map_get(&r->quotas, recipient);
    const struct relay_config *cfg = &r->cfg;
    uint8_t key[32];

    if (q != NULL && (q->a + 1 > cfg->quota_count || q->b + len > cfg->quota_bytes))
        return QUOTA_RECIPIENT;
    pair_key(sender, recipient, key);
    q = map_get(&r->pairs, key);
    if (q != NULL && ((cfg->pair_quota_count != 0 && q->a + 1 > cfg->pair_quota_count) ||
                      (cfg->pair_quota_bytes != 0 && q->b + len > cfg->pair_quota_bytes)))
        return QUOTA_PAIR;
    if (cfg->max_db_bytes != 0 &&
        store_bytes_used(r->store) + r->unsettled_bytes + len > cfg->max_db_bytes)
        return QUOTA_STORAGE;
    if (!budget_take(r, sender, len))
        return QUOTA_SENDER;
    r->unsettled_bytes += len;
    /* The pair's key once per envelope admitted: a BLAKE2b per derivation shows at capacity. */
    add_stored(r, recipient, sodium_is_zero(sender, 32) ? NULL : key, 1, (int64_t)len);
    pending_add(r, key, 1);
    return QUOTA_OK;
}

void quota_settled(struct relay *r, size_t len)
{
    r->unsettled_bytes -= len < r->unsettled_bytes ? len : r->unsettled_bytes;
}
