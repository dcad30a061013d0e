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
 * memory only (a restart refills them).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "session.h"

struct sender_budget {
    struct bucket count, bytes;
};

bool bucket_take(struct bucket *b, double rate, double burst, double n, uint64_t now_ms)
{
    if (b->ms == 0)
        b->tokens = burst;
    else if (now_ms > b->ms)
        b->tokens += (double)(now_ms - b->ms) * rate / 1000.0;
    b->ms = now_ms;
    if (b->tokens > burst)
        b->tokens = burst;
    if (b->tokens < n)
        return false;
    b->tokens -= n;
    return true;
}

/* ------------------------------------------------------------------ */
/* Stored counts */

static void account(struct map *m, const uint8_t key[32], int64_t count, int64_t bytes)
{
    struct map_entry *q = map_put(m, key);

    if (q == NULL)
        return;
    q->a = (uint64_t)((int64_t)q->a + count);
    q->b = (uint64_t)((int64_t)q->b + bytes);
    if (q->a == 0)
        map_del(m, key);
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

void quota_add(struct relay *r, const uint8_t recipient[32], const uint8_t sender[32],
               int64_t count, int64_t bytes)
{
    account(&r->quotas, recipient, count, bytes);
    r->metrics.bytes_stored = (uint64_t)((int64_t)r->metrics.bytes_stored + bytes);
    if (!sodium_is_zero(sender, 32)) {
        uint8_t key[32];
        pair_key(sender, recipient, key);
        account(&r->pairs, key, count, bytes);
    }
}

void quota_removed(struct relay *r, const struct store_op *op)
{
    for (size_t i = 0; i < op->n_expired; i++)
        quota_add(r, op->expired[i].recipient, op->expired[i].sender, -1,
                  -(int64_t)op->expired[i].bytes);
}

/* ------------------------------------------------------------------ */
/* Senders' budgets */

static struct sender_budget *budget_of(struct relay *r, const uint8_t sender[32])
{
    struct map_entry *e = map_put(&r->senders, sender);

    if (e == NULL)
        return NULL;
    if (e->ptr == NULL && (e->ptr = calloc(1, sizeof(struct sender_budget))) == NULL) {
        map_del(&r->senders, sender);
        return NULL;
    }
    return e->ptr;
}

static double per_second(double amount, const struct relay *r)
{
    return amount / (double)r->cfg.sender_window;
}

/* Takes one envelope of len bytes from the sender's budget, or nothing. */
static bool budget_take(struct relay *r, const uint8_t sender[32], size_t len)
{
    const struct relay_config *cfg = &r->cfg;
    struct sender_budget *b;
    uint64_t now = relay_now_ms();

    if (cfg->sender_count == 0 && cfg->sender_bytes == 0)
        return true;
    b = budget_of(r, sender);
    if (b == NULL)
        return false;
    if (cfg->sender_count != 0 &&
        !bucket_take(&b->count, per_second(cfg->sender_count, r), cfg->sender_count, 1, now))
        return false;
    if (cfg->sender_bytes != 0 && !bucket_take(&b->bytes, per_second((double)cfg->sender_bytes, r),
                                               (double)cfg->sender_bytes, (double)len, now)) {
        b->count.tokens += 1; /* both or neither */
        return false;
    }
    return true;
}

void quota_refund(struct relay *r, const uint8_t sender[32], size_t len)
{
    struct map_entry *e = map_get(&r->senders, sender);
    struct sender_budget *b = e != NULL ? e->ptr : NULL;

    if (b == NULL)
        return;
    b->count.tokens += 1;
    b->bytes.tokens += (double)len;
}

static bool budget_full(struct map_entry *e, void *arg)
{
    struct relay *r = arg;
    const struct relay_config *cfg = &r->cfg;
    struct sender_budget *b = e->ptr;
    uint64_t now = relay_now_ms();

    bucket_take(&b->count, per_second(cfg->sender_count, r), cfg->sender_count, 0, now);
    bucket_take(&b->bytes, per_second((double)cfg->sender_bytes, r), (double)cfg->sender_bytes, 0,
                now);
    if (b->count.tokens < cfg->sender_count || b->bytes.tokens < (double)cfg->sender_bytes)
        return false;
    free(b); /* full again: the same as no entry at all */
    return true;
}

void quota_sweep(struct relay *r)
{
    map_sweep(&r->senders, budget_full, r);
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
        store_db_bytes(r->store) + r->unsettled_bytes + len > cfg->max_db_bytes)
        return QUOTA_STORAGE;
    if (!budget_take(r, sender, len))
        return QUOTA_SENDER;
    r->unsettled_bytes += len;
    quota_add(r, recipient, sender, 1, (int64_t)len);
    return QUOTA_OK;
}

void quota_settled(struct relay *r, size_t len)
{
    r->unsettled_bytes -= len < r->unsettled_bytes ? len : r->unsettled_bytes;
}
