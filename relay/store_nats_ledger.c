/*
 * The quota ledger of the NATS store (docs/cluster.md §3.9): what every
 * recipient, and every sender's share of a recipient, holds in the
 * envelope stream, counted across all relay nodes, so that quota-bytes
 * and pair-quota-count / pair-quota-bytes hold exactly as they do on one
 * relay (the stream itself keeps only the count per recipient,
 * max_msgs_per_subject).
 *
 * The ledger is the KV bucket `quota`: `r.<recipient hex>` and
 * `p.<hex of a hash of sender and recipient>`, each (count, bytes). The
 * worker reserves a batch's envelopes before it publishes them: it reads
 * each entry the batch touches once (from its cache of what it wrote
 * last, or the bucket), admits the envelopes in order as the relay's own
 * admission does, and writes each entry back with compare-and-set on the
 * revision it read; a write that meets another node's ("wrong last
 * sequence") reads again and admits what still fits. So two nodes never
 * both admit past a limit. Once the batch has run, what was reserved and
 * not stored (refused by the stream, a duplicate, a publication that
 * failed) is given back, and what the batch's ops removed (their expired
 * lists) is counted off. Round trips: per distinct entry, not per
 * envelope.
 *
 * An entry nobody wrote for longer than the bucket's age (ttl and a
 * minute) is gone: every envelope it counted has expired by then. That
 * bounds what a node that died between reserving and publishing, or an
 * expiry the ledger did not hear of, leaves behind. Counts clamp at zero.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h" /* parley__grow */
#include "store_nats.h"

#define NONE UINT32_MAX
#define ATTEMPTS 16

static bool pairs_on(const struct nats_store *s)
{
    return s->params.pair_quota_count != 0 || s->params.pair_quota_bytes != 0;
}

static struct nats_ledger_cached *cache_slot(struct nats_store *s, const char *key,
                                             uint8_t h[16])
{
    crypto_generichash(h, 16, (const uint8_t *)key, strlen(key), NULL, 0);
    return &s->led_cache[nats_get_be64(h) % NATS_LEDGER_CACHE];
}

static void cache_put(struct nats_store *s, const struct nats_ledger_entry *e)
{
    uint8_t h[16];
    struct nats_ledger_cached *c = cache_slot(s, e->key, h);

    memcpy(c->h, h, 16);
    c->count = e->count;
    c->bytes = e->bytes;
    c->rev = e->rev;
}

/* The batch's entry for a recipient (sender NULL) or a pair, added when new; NONE: no memory. */
static uint32_t entry_of(struct nats_store *s, const uint8_t recipient[32], const uint8_t *sender)
{
    char key[72], hex[65];
    struct nats_ledger_entry *grown;

    if (sender != NULL) {
        crypto_generichash_state st;
        uint8_t h[32];

        crypto_generichash_init(&st, NULL, 0, 32);
        crypto_generichash_update(&st, sender, 32);
        crypto_generichash_update(&st, recipient, 32);
        crypto_generichash_final(&st, h, 32);
        nats_hex(h, 32, hex);
    } else {
        nats_hex(recipient, 32, hex);
    }
    snprintf(key, sizeof(key), "%c.%s", sender != NULL ? 'p' : 'r', hex);
    for (size_t i = 0; i < s->n_led; i++)
        if (strcmp(s->led[i].key, key) == 0)
            return (uint32_t)i;
    if ((grown = parley__grow(s->led, &s->cap_led, s->n_led + 1, sizeof(*grown))) == NULL)
        return NONE;
    s->led = grown;
    memset(&s->led[s->n_led], 0, sizeof(s->led[0]));
    memcpy(s->led[s->n_led].key, key, sizeof(key));
    s->led[s->n_led].pair = sender != NULL;
    return (uint32_t)s->n_led++;
}

/* Reads an entry: from the cache unless fresh is asked (or it is not there). 0 or -1. */
static int entry_read(struct nats_store *s, struct nats_ledger_entry *e, bool fresh)
{
    uint8_t h[16];
    struct nats_ledger_cached *c = cache_slot(s, e->key, h);
    kvEntry *k = NULL;
    natsStatus st;

    if (!fresh && memcmp(c->h, h, 16) == 0) {
        e->count = c->count;
        e->bytes = c->bytes;
        e->rev = c->rev;
        e->known = true;
        e->fresh = false;
        return 0;
    }
    st = kvStore_Get(&k, s->quota, e->key);
    if (st != NATS_OK && st != NATS_NOT_FOUND) {
        snprintf(s->failure, sizeof(s->failure), "quota ledger: %s", nats_GetLastError(NULL));
        return -1;
    }
    e->count = e->bytes = e->rev = 0;
    if (st == NATS_OK) {
        e->rev = kvEntry_Revision(k);
        if (kvEntry_ValueLen(k) >= 16) {
            e->count = nats_get_be64(kvEntry_Value(k));
            e->bytes = nats_get_be64((const uint8_t *)kvEntry_Value(k) + 8);
        }
    }
    kvEntry_Destroy(k);
    e->known = e->fresh = true;
    cache_put(s, e);
    return 0;
}

static uint64_t clamped(uint64_t v, int64_t add)
{
    return add < 0 && (uint64_t)-add > v ? 0 : v + (uint64_t)add;
}

/*
 * Writes the entry's value plus its change, on the revision read: 1 when
 * written (the entry then holds it, its change 0), 0 when another node
 * wrote it meanwhile (the entry holds what is there now), -1 on failure.
 */
static int entry_write(struct nats_store *s, struct nats_ledger_entry *e)
{
    uint64_t count = clamped(e->count, e->add_count), bytes = clamped(e->bytes, e->add_bytes);
    uint64_t rev = 0;
    uint8_t v[16];
    natsStatus st;

    nats_put_be64(v, count);
    nats_put_be64(v + 8, bytes);
    st = e->rev != 0 ? kvStore_Update(&rev, s->quota, e->key, v, 16, e->rev)
                     : kvStore_Create(&rev, s->quota, e->key, v, 16);
    if (st != NATS_OK)
        return entry_read(s, e, true) == 0 ? 0 : -1;
    e->count = count;
    e->bytes = bytes;
    e->rev = rev;
    e->add_count = e->add_bytes = 0;
    cache_put(s, e);
    return 1;
}

/* Applies the entry's change whatever the limits (what is given back or removed). 0 or -1. */
static int entry_apply(struct nats_store *s, struct nats_ledger_entry *e)
{
    if (e->add_count == 0 && e->add_bytes == 0)
        return 0;
    if (!e->known && entry_read(s, e, false) != 0)
        return -1;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        int rc;

        if (e->rev == 0 && e->add_count <= 0 && e->add_bytes <= 0) {
            e->add_count = e->add_bytes = 0; /* nothing there (aged out) to take from */
            return 0;
        }
        if ((rc = entry_write(s, e)) != 0)
            return rc > 0 ? 0 : -1;
    }
    snprintf(s->failure, sizeof(s->failure), "quota ledger: %s written by too many at once",
             e->key);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Reserving a batch's envelopes */

static bool fits(const struct nats_store *s, const struct nats_ledger_entry *e, uint64_t count,
                 uint64_t bytes)
{
    /* The recipient's count is the stream's own limit (max_msgs_per_subject). */
    uint64_t lc = e->pair ? s->params.pair_quota_count : 0;
    uint64_t lb = e->pair ? s->params.pair_quota_bytes : s->params.quota_bytes;

    return (lc == 0 || clamped(e->count, e->add_count) + count <= lc) &&
           (lb == 0 || clamped(e->bytes, e->add_bytes) + bytes <= lb);
}

static void entry_change(struct nats_store *s, uint32_t i, int64_t count, int64_t bytes)
{
    if (i != NONE) {
        s->led[i].add_count += count;
        s->led[i].add_bytes += bytes;
    }
}

/*
 * Admits the batch's envelopes in order against what was read, as the
 * relay's own admission does (the recipient first, then the pair).
 * Returns whether an envelope was refused on a value from the cache.
 */
static bool admit(struct nats_store *s, const struct store_op *ops)
{
    bool stale = false;

    for (size_t i = 0; i < s->n_led; i++)
        s->led[i].add_count = s->led[i].add_bytes = 0;
    for (size_t i = 0; i < s->n_led_ops; i++) {
        struct nats_ledger_op *lo = &s->led_ops[i];
        uint64_t len = ops[i].env.sealed_len;
        const struct nats_ledger_entry *r, *p;

        if (lo->r == NONE)
            continue;
        r = &s->led[lo->r];
        p = lo->p != NONE ? &s->led[lo->p] : NULL;
        lo->held = fits(s, r, 1, len) && (p == NULL || fits(s, p, 1, len));
        lo->pair = fits(s, r, 1, len);
        if (!lo->held) {
            stale = stale || !(lo->pair ? p : r)->fresh;
            continue;
        }
        entry_change(s, lo->r, 1, (int64_t)len);
        entry_change(s, lo->p, 1, (int64_t)len);
    }
    return stale;
}

/* Refuses the last envelope held on entry k; its change leaves k, and its other entry (undone
 * there later when that one is written already). */
static void drop_last(struct nats_store *s, const struct store_op *ops, uint32_t k)
{
    for (size_t i = s->n_led_ops; i-- > 0;) {
        struct nats_ledger_op *lo = &s->led_ops[i];
        int64_t len = (int64_t)ops[i].env.sealed_len;
        uint32_t other;

        if (!lo->held || (lo->r != k && lo->p != k))
            continue;
        lo->held = false;
        lo->pair = s->led[k].pair;
        other = lo->r == k ? lo->p : lo->r;
        entry_change(s, k, -1, -len);
        if (other != NONE && s->led[other].written) {
            s->led[other].undo_count -= 1;
            s->led[other].undo_bytes -= len;
        } else {
            entry_change(s, other, -1, -len);
        }
        return;
    }
}

/* Writes entry k's reservation; another node's write meanwhile refuses what no longer fits. */
static int reserve_entry(struct nats_store *s, const struct store_op *ops, uint32_t k)
{
    struct nats_ledger_entry *e = &s->led[k];

    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        int rc;

        if (e->add_count == 0 && e->add_bytes == 0)
            break;
        if ((rc = entry_write(s, e)) < 0)
            return -1;
        if (rc > 0)
            break;
        e->add_count = e->add_bytes = 0; /* recomputed from the envelopes still held */
        for (size_t i = 0; i < s->n_led_ops; i++)
            if (s->led_ops[i].held && (s->led_ops[i].r == k || s->led_ops[i].p == k)) {
                e->add_count += 1;
                e->add_bytes += (int64_t)ops[i].env.sealed_len;
            }
        while ((e->add_count != 0 || e->add_bytes != 0) && !fits(s, e, 0, 0))
            drop_last(s, ops, k);
        if (attempt == ATTEMPTS - 1) {
            snprintf(s->failure, sizeof(s->failure),
                     "quota ledger: %s written by too many at once", e->key);
            return -1;
        }
    }
    e->written = true;
    return 0;
}

/* The batch's INSERTs and their entries; 0 or -1 (no memory). */
static int collect_inserts(struct nats_store *s, const struct store_op *ops, size_t n)
{
    struct nats_ledger_op *grown = parley__grow(s->led_ops, &s->cap_led_ops, n, sizeof(*grown));

    if (grown == NULL)
        return -1;
    s->led_ops = grown;
    s->n_led_ops = n;
    for (size_t i = 0; i < n; i++) {
        const struct store_op *op = &ops[i];
        struct nats_ledger_op *lo = &s->led_ops[i];

        *lo = (struct nats_ledger_op){NONE, NONE, false, false};
        if (op->kind != STORE_INSERT || op->refused)
            continue;
        if ((lo->r = entry_of(s, op->env.recipient, NULL)) == NONE)
            return -1;
        if (pairs_on(s) && !sodium_is_zero(op->reply_to, 32) &&
            (lo->p = entry_of(s, op->env.recipient, op->reply_to)) == NONE)
            return -1;
    }
    return 0;
}

int nats_ledger_reserve(struct nats_store *s, struct store_op *ops, size_t n)
{
    s->n_led = 0;
    s->n_led_ops = 0;
    if (collect_inserts(s, ops, n) != 0) {
        snprintf(s->failure, sizeof(s->failure), "quota ledger: out of memory");
        return -1;
    }
    for (size_t i = 0; i < s->n_led; i++)
        if (entry_read(s, &s->led[i], false) != 0)
            return -1;
    /* A refusal on what this node wrote last is checked against the bucket before it stands. */
    if (admit(s, ops)) {
        for (size_t i = 0; i < s->n_led_ops; i++) {
            const struct nats_ledger_op *lo = &s->led_ops[i];
            uint32_t k = lo->pair ? lo->p : lo->r;

            if (lo->r != NONE && !lo->held && !s->led[k].fresh && entry_read(s, &s->led[k], true))
                return -1;
        }
        admit(s, ops);
    }
    for (uint32_t k = 0; k < s->n_led; k++)
        if (reserve_entry(s, ops, k) != 0)
            return -1;
    for (size_t i = 0; i < s->n_led; i++) {
        struct nats_ledger_entry *e = &s->led[i];

        e->add_count = e->undo_count;
        e->add_bytes = e->undo_bytes;
        e->undo_count = e->undo_bytes = 0;
        if (entry_apply(s, e) != 0)
            return -1;
    }
    for (size_t i = 0; i < s->n_led_ops; i++)
        if (s->led_ops[i].r != NONE && !s->led_ops[i].held) {
            ops[i].refused = true;
            ops[i].refused_pair = s->led_ops[i].pair;
        }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Giving back, counting off */

void nats_ledger_removed(struct nats_store *s, struct store_op *op)
{
    for (size_t i = 0; i < op->n_expired; i++) {
        const struct store_expired *x = &op->expired[i];
        bool pair = pairs_on(s) && !sodium_is_zero(x->sender, 32);

        entry_change(s, entry_of(s, x->recipient, NULL), -1, -(int64_t)x->bytes);
        if (pair)
            entry_change(s, entry_of(s, x->recipient, x->sender), -1, -(int64_t)x->bytes);
    }
    op->n_expired = 0; /* counted off once */
}

int nats_ledger_settle(struct nats_store *s, struct store_op *ops, size_t n)
{
    int rc = 0;

    for (size_t i = 0; i < s->n_led; i++)
        s->led[i].add_count = s->led[i].add_bytes = 0;
    /* Reserved, and not stored after all: refused by the stream, a duplicate, or failed. */
    for (size_t i = 0; i < s->n_led_ops && i < n; i++) {
        const struct nats_ledger_op *lo = &s->led_ops[i];

        if (lo->held && !ops[i].inserted) {
            entry_change(s, lo->r, -1, -(int64_t)ops[i].env.sealed_len);
            entry_change(s, lo->p, -1, -(int64_t)ops[i].env.sealed_len);
        }
    }
    s->n_led_ops = 0;
    for (size_t i = 0; i < n; i++)
        nats_ledger_removed(s, &ops[i]);
    /* On the first failure (the store is out of reach) the rest stays high until it ages out. */
    for (size_t i = 0; i < s->n_led && rc == 0; i++)
        rc = entry_apply(s, &s->led[i]);
    s->n_led = 0;
    return rc;
}
