/*
 * In-memory parley_store (see memstore.h). Rows live in one array sorted
 * by table name, then key bytes (shorter first on a common prefix), which
 * is the order parley_store_ops.scan promises. begin takes a deep copy
 * that rollback puts back; commit drops it.
 */
#include <stdlib.h>
#include <string.h>

#include "memstore.h"

#define TABLE_MAX 32u
#define KEY_MAX 256u
#define VAL_MAX (1024u * 1024u)

struct row {
    char table[TABLE_MAX];
    uint8_t *key;
    size_t key_len;
    uint8_t *val;
    size_t val_len;
};

struct rows {
    struct row *v;
    size_t n, cap;
};

struct memstore {
    struct rows live;
    struct rows saved;          /* the rows at begin, while a transaction is open */
    bool in_tx;
    unsigned nested;
    unsigned fail_commits;      /* the next commits fail (and roll back), as a full disk's */
    unsigned commits;
};

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n > 0 ? n : 1);

    if (d != NULL && n > 0)
        memcpy(d, p, n);
    return d;
}

static void rows_clear(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].key);
        free(r->v[i].val);
    }
    free(r->v);
    memset(r, 0, sizeof(*r));
}

static int rows_copy(struct rows *dst, const struct rows *src)
{
    memset(dst, 0, sizeof(*dst));
    if (src->n == 0)
        return 0;
    dst->v = calloc(src->n, sizeof(*dst->v));
    if (dst->v == NULL)
        return -1;
    dst->cap = src->n;
    for (size_t i = 0; i < src->n; i++) {
        struct row *d = &dst->v[i];
        *d = src->v[i];
        d->key = dup_bytes(src->v[i].key, src->v[i].key_len);
        d->val = dup_bytes(src->v[i].val, src->v[i].val_len);
        dst->n = i + 1;
        if (d->key == NULL || d->val == NULL) {
            rows_clear(dst);
            return -1;
        }
    }
    return 0;
}

static int row_cmp(const struct row *r, const char *table, const uint8_t *key, size_t key_len)
{
    int c = strcmp(r->table, table);
    size_t n = r->key_len < key_len ? r->key_len : key_len;

    if (c != 0)
        return c;
    c = n > 0 ? memcmp(r->key, key, n) : 0;
    if (c != 0)
        return c;
    return r->key_len < key_len ? -1 : r->key_len > key_len ? 1 : 0;
}

/* Index of the first row not below (table, key); *found when it is equal. */
static size_t rows_find(const struct rows *r, const char *table, const uint8_t *key,
                        size_t key_len, bool *found)
{
    size_t lo = 0, hi = r->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (row_cmp(&r->v[mid], table, key, key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < r->n && row_cmp(&r->v[lo], table, key, key_len) == 0;
    return lo;
}

static bool args_ok(const char *table, size_t key_len)
{
    return table != NULL && strlen(table) > 0 && strlen(table) < TABLE_MAX && key_len <= KEY_MAX;
}

static int ms_begin(void *ctx)
{
    struct memstore *ms = ctx;

    if (ms->in_tx) {
        ms->nested++;
        return -1;
    }
    if (rows_copy(&ms->saved, &ms->live) != 0)
        return -1;
    ms->in_tx = true;
    return 0;
}

static int ms_rollback(void *ctx);

static int ms_commit(void *ctx)
{
    struct memstore *ms = ctx;

    if (!ms->in_tx)
        return -1;
    if (ms->fail_commits > 0) {
        ms->fail_commits--;
        ms_rollback(ctx);
        return -1;
    }
    rows_clear(&ms->saved);
    ms->in_tx = false;
    ms->commits++;
    return 0;
}

void memstore_fail_commits(struct memstore *ms, unsigned n)
{
    ms->fail_commits = n;
}

unsigned memstore_commits(const struct memstore *ms)
{
    return ms->commits;
}

static int ms_rollback(void *ctx)
{
    struct memstore *ms = ctx;

    if (!ms->in_tx)
        return -1;
    rows_clear(&ms->live);
    ms->live = ms->saved;
    memset(&ms->saved, 0, sizeof(ms->saved));
    ms->in_tx = false;
    return 0;
}

static int ms_get(void *ctx, const char *table, const uint8_t *key, size_t key_len, uint8_t **val,
                  size_t *val_len)
{
    struct memstore *ms = ctx;
    bool found;
    size_t i;

    if (!args_ok(table, key_len))
        return -1;
    i = rows_find(&ms->live, table, key, key_len, &found);
    if (!found)
        return 0;
    *val = dup_bytes(ms->live.v[i].val, ms->live.v[i].val_len);
    if (*val == NULL)
        return -1;
    *val_len = ms->live.v[i].val_len;
    return 1;
}

static int ms_put(void *ctx, const char *table, const uint8_t *key, size_t key_len,
                  const uint8_t *val, size_t val_len)
{
    struct memstore *ms = ctx;
    struct rows *r = &ms->live;
    struct row nr;
    bool found;
    size_t i;

    if (!args_ok(table, key_len) || val_len > VAL_MAX)
        return -1;
    memset(&nr, 0, sizeof(nr));
    memcpy(nr.table, table, strlen(table) + 1);
    nr.key = dup_bytes(key, key_len);
    nr.key_len = key_len;
    nr.val = dup_bytes(val, val_len);
    nr.val_len = val_len;
    if (nr.key == NULL || nr.val == NULL)
        goto fail;
    i = rows_find(r, table, key, key_len, &found);
    if (found) {
        free(r->v[i].key);
        free(r->v[i].val);
        r->v[i] = nr;
        return 0;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct row *grown = realloc(r->v, cap * sizeof(*grown));
        if (grown == NULL)
            goto fail;
        r->v = grown;
        r->cap = cap;
    }
    memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof(r->v[0]));
    r->v[i] = nr;
    r->n++;
    return 0;
fail:
    free(nr.key);
    free(nr.val);
    return -1;
}

static int ms_del(void *ctx, const char *table, const uint8_t *key, size_t key_len)
{
    struct memstore *ms = ctx;
    struct rows *r = &ms->live;
    bool found;
    size_t i;

    if (!args_ok(table, key_len))
        return -1;
    i = rows_find(r, table, key, key_len, &found);
    if (!found)
        return 0;
    free(r->v[i].key);
    free(r->v[i].val);
    memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof(r->v[0]));
    r->n--;
    return 0;
}

/* The matching rows are copied first, so fn may write to the store. */
static int ms_scan(void *ctx, const char *table, const uint8_t *prefix, size_t prefix_len,
                   parley_store_scan_fn fn, void *arg)
{
    struct memstore *ms = ctx;
    struct rows match;
    bool found;
    size_t i;
    int rc = 0;

    if (!args_ok(table, prefix_len))
        return -1;
    memset(&match, 0, sizeof(match));
    for (i = rows_find(&ms->live, table, prefix, prefix_len, &found); i < ms->live.n; i++) {
        const struct row *r = &ms->live.v[i];
        if (strcmp(r->table, table) != 0 || r->key_len < prefix_len ||
            (prefix_len > 0 && memcmp(r->key, prefix, prefix_len) != 0))
            break;
        match.n++;
    }
    if (match.n > 0) {
        struct rows view = {&ms->live.v[i - match.n], match.n, match.n};
        match.n = 0;
        if (rows_copy(&match, &view) != 0)
            return -1;
    }
    for (i = 0; i < match.n; i++)
        if (fn(arg, match.v[i].key, match.v[i].key_len, match.v[i].val, match.v[i].val_len) != 0)
            break;
    rows_clear(&match);
    return rc;
}

static void ms_close(void *ctx)
{
    (void)ctx;
}

static const parley_store_ops memstore_ops = {
    .begin = ms_begin,
    .commit = ms_commit,
    .rollback = ms_rollback,
    .get = ms_get,
    .put = ms_put,
    .del = ms_del,
    .scan = ms_scan,
    .close = ms_close,
};

struct memstore *memstore_new(void)
{
    return calloc(1, sizeof(struct memstore));
}

void memstore_free(struct memstore *ms)
{
    if (ms == NULL)
        return;
    rows_clear(&ms->live);
    rows_clear(&ms->saved);
    free(ms);
}

void memstore_as_store(struct memstore *ms, parley_store *out)
{
    out->ops = &memstore_ops;
    out->ctx = ms;
}

void memstore_each(const struct memstore *ms, memstore_row_fn fn, void *arg)
{
    for (size_t i = 0; i < ms->live.n; i++) {
        const struct row *r = &ms->live.v[i];
        if (fn(arg, r->table, r->key, r->key_len, r->val, r->val_len) != 0)
            return;
    }
}

size_t memstore_rows(const struct memstore *ms, const char *table)
{
    size_t n = 0;

    for (size_t i = 0; i < ms->live.n; i++)
        n += table == NULL || strcmp(ms->live.v[i].table, table) == 0;
    return n;
}

void memstore_crash(struct memstore *ms)
{
    if (ms->in_tx)
        ms_rollback(ms);
}

bool memstore_in_tx(const struct memstore *ms)
{
    return ms->in_tx;
}

unsigned memstore_nested_begins(const struct memstore *ms)
{
    return ms->nested;
}
