/*
 * The relay's allowances: token buckets, and the storage accounts (the
 * envelopes and bytes stored for each recipient), kept in memory from the
 * store's contents and every commit since.
 */
#include "session.h"

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

void quota_add(struct relay *r, const uint8_t recipient[32], int64_t count, int64_t bytes)
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
