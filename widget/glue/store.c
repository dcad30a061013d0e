/*
 * The widget's in-memory client store and its journal of committed
 * changes (store.h). Each table is an array of rows sorted bytewise by
 * key, which gives the interface's ordered prefix scans; a transaction
 * keeps an undo log so that a rollback restores the rows exactly, and a
 * redo journal that becomes one batch at commit.
 */
#include "store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define MAX_TABLES     32u
#define MAX_TABLE_NAME 63u
#define MAX_KEY        256u
#define MAX_VALUE      (1024u * 1024u)

struct row {
    uint8_t *key; /* one block: key, then value */
    size_t key_len;
    size_t val_len;
};

struct table {
    char name[MAX_TABLE_NAME + 1];
    struct row *rows;
    size_t n, cap;
};

struct buf {
    uint8_t *p;
    size_t n, cap;
};

/* What a write inside a transaction replaced: the old row, or none (block NULL). */
struct undo {
    size_t table;
    struct row old;
    uint8_t *key; /* when old.key is NULL: the key that was absent */
    size_t key_len;
};

static struct {
    struct table tables[MAX_TABLES];
    size_t n_tables;
    bool in_tx;
    struct undo *undo;
    size_t n_undo, cap_undo;
    struct buf journal;
    struct buf *batches; /* committed, not yet taken, oldest first */
    size_t n_batches, cap_batches;
    struct buf taken; /* the batch last handed out */
    bool persistent;
    uint8_t row_key[32];
} st;

/* Grows *arr (elements of elem bytes, *cap of them) to hold need; false when out of memory. */
static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t next = *cap ? *cap : 8;
    void *p;

    if (need <= *cap)
        return true;
    while (next < need) {
        if (next > SIZE_MAX / 2 / elem)
            return false;
        next *= 2;
    }
    p = realloc(*arr, next * elem);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = next;
    return true;
}

static bool buf_add(struct buf *b, const void *p, size_t n)
{
    void *v = b->p;

    if (n > SIZE_MAX - b->n || !grow(&v, &b->cap, b->n + n, 1))
        return false;
    b->p = v;
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return true;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static int compare(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);

    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* Index of the first row whose key is not below key. */
static size_t lower_bound(const struct table *t, const uint8_t *key, size_t key_len)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (compare(t->rows[mid].key, t->rows[mid].key_len, key, key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool table_name_ok(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;

    if (n == 0 || n > MAX_TABLE_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if (name[i] <= ' ' || name[i] > '~')
            return false;
    return true;
}

/* The table called name (made when create), or -1. */
static int table_find(const char *name, size_t len, bool create)
{
    for (size_t i = 0; i < st.n_tables; i++)
        if (strlen(st.tables[i].name) == len && memcmp(st.tables[i].name, name, len) == 0)
            return (int)i;
    if (!create || st.n_tables == MAX_TABLES)
        return -1;
    memcpy(st.tables[st.n_tables].name, name, len);
    st.tables[st.n_tables].name[len] = '\0';
    return (int)st.n_tables++;
}

static void row_id(const char *table, const uint8_t *key, size_t key_len,
                   uint8_t id[WIDGET_ROW_ID_BYTES])
{
    crypto_generichash_state h;

    crypto_generichash_init(&h, st.row_key, sizeof(st.row_key), WIDGET_ROW_ID_BYTES);
    crypto_generichash_update(&h, (const uint8_t *)table, strlen(table) + 1);
    crypto_generichash_update(&h, key, key_len);
    crypto_generichash_final(&h, id, WIDGET_ROW_ID_BYTES);
}

/* Appends one batch record (val NULL: a delete) to b. */
static bool record_add(struct buf *b, const char *table, const uint8_t *key, size_t key_len,
                       const uint8_t *val, size_t val_len)
{
    uint8_t head[1 + WIDGET_ROW_ID_BYTES + 4], tk[3];
    size_t tlen = strlen(table);
    uint32_t len = val != NULL ? (uint32_t)(1 + tlen + 2 + key_len + val_len) : 0;
    size_t before = b->n;

    head[0] = val != NULL ? WIDGET_BATCH_PUT : WIDGET_BATCH_DEL;
    row_id(table, key, key_len, head + 1);
    for (int i = 0; i < 4; i++)
        head[1 + WIDGET_ROW_ID_BYTES + i] = (uint8_t)(len >> (8 * i));
    tk[0] = (uint8_t)tlen;
    tk[1] = (uint8_t)(key_len & 0xff);
    tk[2] = (uint8_t)(key_len >> 8);
    if (buf_add(b, head, sizeof(head)) &&
        (val == NULL || (buf_add(b, tk, 1) && buf_add(b, table, tlen) && buf_add(b, tk + 1, 2) &&
                         buf_add(b, key, key_len) && buf_add(b, val, val_len))))
        return true;
    b->n = before;
    return false;
}

static bool batch_push(struct buf *b)
{
    void *v = st.batches;

    if (!grow(&v, &st.cap_batches, st.n_batches + 1, sizeof(*st.batches)))
        return false;
    st.batches = v;
    st.batches[st.n_batches++] = *b;
    memset(b, 0, sizeof(*b));
    return true;
}

/*
 * Records a change in the transaction's journal, or outside a transaction
 * prepares it in *one, a batch of its own pushed once the change is made
 * (room for it is made here, so that push cannot fail).
 */
static bool journal(const char *table, const uint8_t *key, size_t key_len, const uint8_t *val,
                    size_t val_len, struct buf *one)
{
    void *v = st.batches;

    if (!st.persistent)
        return true;
    if (st.in_tx)
        return record_add(&st.journal, table, key, key_len, val, val_len);
    if (!grow(&v, &st.cap_batches, st.n_batches + 1, sizeof(*st.batches)))
        return false;
    st.batches = v;
    return record_add(one, table, key, key_len, val, val_len);
}

/* Remembers, inside a transaction, what row i of table t (or its absence at key) was. */
static bool undo_note(size_t t, size_t i, bool present, const uint8_t *key, size_t key_len)
{
    struct undo u = {t, {NULL, 0, 0}, NULL, 0};
    void *v = st.undo;

    if (!st.in_tx)
        return true;
    if (!grow(&v, &st.cap_undo, st.n_undo + 1, sizeof(*st.undo)))
        return false;
    st.undo = v;
    if (present) {
        const struct row *r = &st.tables[t].rows[i];

        u.old = *r;
        u.old.key = malloc(r->key_len + r->val_len + 1);
        if (u.old.key == NULL)
            return false;
        memcpy(u.old.key, r->key, r->key_len + r->val_len);
    } else {
        u.key = malloc(key_len + 1);
        if (u.key == NULL)
            return false;
        memcpy(u.key, key, key_len);
        u.key_len = key_len;
    }
    st.undo[st.n_undo++] = u;
    return true;
}

/* Puts a row (taking ownership of block) or, block NULL, deletes key. */
static bool table_set(size_t t, const uint8_t *key, size_t key_len, uint8_t *block, size_t val_len)
{
    struct table *tb = &st.tables[t];
    size_t i = lower_bound(tb, key, key_len);
    bool present = i < tb->n && compare(tb->rows[i].key, tb->rows[i].key_len, key, key_len) == 0;
    void *v = tb->rows;

    if (block == NULL) {
        if (present) {
            free(tb->rows[i].key);
            memmove(&tb->rows[i], &tb->rows[i + 1], (tb->n - i - 1) * sizeof(*tb->rows));
            tb->n--;
        }
        return true;
    }
    if (present) {
        free(tb->rows[i].key);
    } else {
        if (!grow(&v, &tb->cap, tb->n + 1, sizeof(*tb->rows)))
            return false;
        tb->rows = v;
        memmove(&tb->rows[i + 1], &tb->rows[i], (tb->n - i) * sizeof(*tb->rows));
        tb->n++;
    }
    tb->rows[i] = (struct row){block, key_len, val_len};
    return true;
}

static uint8_t *block_make(const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    uint8_t *b = malloc(key_len + val_len + 1);

    if (b != NULL) {
        memcpy(b, key, key_len);
        if (val_len > 0)
            memcpy(b + key_len, val, val_len);
    }
    return b;
}

/*
 * The write behind put and del: undo note and journal first, then the
 * change. A failure inside a transaction leaves the rows as they were
 * before this write, and the caller rolls back.
 */
static int store_write(const char *table, const uint8_t *key, size_t key_len, const uint8_t *val,
                       size_t val_len)
{
    struct buf one = {0};
    size_t i, journal_was = st.journal.n;
    bool present;
    uint8_t *block = NULL;
    int t;

    if (!table_name_ok(table) || (key == NULL && key_len > 0) || key_len > MAX_KEY ||
        val_len > MAX_VALUE)
        return -1;
    t = table_find(table, strlen(table), true);
    if (t < 0)
        return -1;
    i = lower_bound(&st.tables[t], key, key_len);
    present = i < st.tables[t].n &&
              compare(st.tables[t].rows[i].key, st.tables[t].rows[i].key_len, key, key_len) == 0;
    if (val != NULL && (block = block_make(key, key_len, val, val_len)) == NULL)
        return -1;
    if (!undo_note((size_t)t, i, present, key, key_len) ||
        !journal(table, key, key_len, val, val_len, &one) ||
        !table_set((size_t)t, key, key_len, block, val_len)) {
        free(block);
        buf_free(&one);
        st.journal.n = journal_was;
        return -1;
    }
    if (one.n > 0)
        (void)batch_push(&one); /* room made by journal() */
    return 0;
}

static int store_begin(void *ctx)
{
    (void)ctx;
    if (st.in_tx)
        return -1;
    st.in_tx = true;
    return 0;
}

static void undo_clear(void)
{
    for (size_t i = 0; i < st.n_undo; i++) {
        free(st.undo[i].old.key);
        free(st.undo[i].key);
    }
    st.n_undo = 0;
}

static int store_commit(void *ctx)
{
    (void)ctx;
    if (!st.in_tx)
        return -1;
    if (st.journal.n > 0 && !batch_push(&st.journal))
        return -1; /* the caller rolls back: the rows go back to their old values */
    st.in_tx = false;
    undo_clear();
    buf_free(&st.journal);
    return 0;
}

static int store_rollback(void *ctx)
{
    (void)ctx;
    if (!st.in_tx)
        return -1;
    /* Newest first, so every row ends as it was at begin. */
    for (size_t i = st.n_undo; i-- > 0;) {
        struct undo *u = &st.undo[i];

        if (u->old.key != NULL) {
            (void)table_set(u->table, u->old.key, u->old.key_len, u->old.key, u->old.val_len);
            u->old.key = NULL; /* now the table's */
        } else {
            (void)table_set(u->table, u->key, u->key_len, NULL, 0);
        }
    }
    undo_clear();
    buf_free(&st.journal);
    st.in_tx = false;
    return 0;
}

static int store_get(void *ctx, const char *table, const uint8_t *key, size_t key_len,
                     uint8_t **val, size_t *val_len)
{
    int t = table_name_ok(table) ? table_find(table, strlen(table), false) : -1;
    const struct table *tb;
    size_t i;

    (void)ctx;
    *val = NULL;
    *val_len = 0;
    if (t < 0)
        return table_name_ok(table) ? 0 : -1;
    tb = &st.tables[t];
    i = lower_bound(tb, key, key_len);
    if (i == tb->n || compare(tb->rows[i].key, tb->rows[i].key_len, key, key_len) != 0)
        return 0;
    *val = malloc(tb->rows[i].val_len + 1);
    if (*val == NULL)
        return -1;
    memcpy(*val, tb->rows[i].key + key_len, tb->rows[i].val_len);
    *val_len = tb->rows[i].val_len;
    return 1;
}

static int store_put(void *ctx, const char *table, const uint8_t *key, size_t key_len,
                     const uint8_t *val, size_t val_len)
{
    static const uint8_t empty[1];

    (void)ctx;
    return store_write(table, key, key_len, val != NULL ? val : empty, val_len);
}

static int store_del(void *ctx, const char *table, const uint8_t *key, size_t key_len)
{
    (void)ctx;
    return store_write(table, key, key_len, NULL, 0);
}

/*
 * Calls fn for each row of table whose key starts with prefix, in key
 * order. fn may write to the store: the next row is found again after
 * each call, from a copy of the key just passed.
 */
static int store_scan(void *ctx, const char *table, const uint8_t *prefix, size_t prefix_len,
                      parley_store_scan_fn fn, void *arg)
{
    uint8_t last[MAX_KEY + 1];
    size_t last_len = 0, i;
    bool started = false;
    int t;

    (void)ctx;
    if (!table_name_ok(table) || fn == NULL || (prefix == NULL && prefix_len > 0) ||
        prefix_len > MAX_KEY)
        return -1;
    t = table_find(table, strlen(table), false);
    if (t < 0)
        return 0;
    for (;;) {
        const struct table *tb = &st.tables[t];
        const struct row *r;

        i = started ? lower_bound(tb, last, last_len) : lower_bound(tb, prefix, prefix_len);
        if (started && i < tb->n &&
            compare(tb->rows[i].key, tb->rows[i].key_len, last, last_len) == 0)
            i++;
        if (i == tb->n)
            return 0;
        r = &tb->rows[i];
        if (r->key_len < prefix_len || (prefix_len > 0 && memcmp(r->key, prefix, prefix_len) != 0))
            return 0;
        memcpy(last, r->key, r->key_len);
        last_len = r->key_len;
        started = true;
        if (fn(arg, r->key, r->key_len, r->key + r->key_len, r->val_len) != 0)
            return 0;
    }
}

static void store_close(void *ctx)
{
    (void)ctx;
}

static const parley_store_ops widget_ops = {
    .begin = store_begin,
    .commit = store_commit,
    .rollback = store_rollback,
    .get = store_get,
    .put = store_put,
    .del = store_del,
    .scan = store_scan,
    .close = store_close,
    .compact = NULL, /* IndexedDB keeps no journal of deleted rows that a page could clear */
};

static const parley_store the_store = {&widget_ops, NULL};

const parley_store *widget_store(void)
{
    return &the_store;
}

void widget_store_reset(void)
{
    if (st.in_tx)
        (void)store_rollback(NULL);
    for (size_t t = 0; t < st.n_tables; t++) {
        for (size_t i = 0; i < st.tables[t].n; i++)
            free(st.tables[t].rows[i].key);
        free(st.tables[t].rows);
    }
    for (size_t b = 0; b < st.n_batches; b++)
        buf_free(&st.batches[b]);
    free(st.batches);
    free(st.undo);
    buf_free(&st.taken);
    sodium_memzero(st.row_key, sizeof(st.row_key));
    memset(&st, 0, sizeof(st));
}

int widget_store_persist(const uint8_t key[32])
{
    struct buf all = {0};

    if (st.in_tx || key == NULL)
        return -1;
    memcpy(st.row_key, key, sizeof(st.row_key));
    for (size_t t = 0; t < st.n_tables; t++)
        for (size_t i = 0; i < st.tables[t].n; i++) {
            const struct row *r = &st.tables[t].rows[i];

            if (!record_add(&all, st.tables[t].name, r->key, r->key_len, r->key + r->key_len,
                            r->val_len))
                goto fail;
        }
    if (all.n > 0 && !batch_push(&all))
        goto fail;
    st.persistent = true;
    return 0;
fail:
    buf_free(&all);
    sodium_memzero(st.row_key, sizeof(st.row_key));
    return -1;
}

int widget_store_persistent(void)
{
    return st.persistent;
}

int widget_store_load(const uint8_t id[WIDGET_ROW_ID_BYTES], const uint8_t *row, size_t len)
{
    uint8_t want[WIDGET_ROW_ID_BYTES];
    char table[MAX_TABLE_NAME + 1];
    size_t tlen, key_len;
    const uint8_t *key;
    uint8_t *block;
    int t;

    if (id == NULL || row == NULL || len < 1)
        return -1;
    tlen = row[0];
    if (tlen == 0 || tlen > MAX_TABLE_NAME || len < 1 + tlen + 2)
        return -1;
    memcpy(table, row + 1, tlen);
    table[tlen] = '\0';
    key_len = (size_t)row[1 + tlen] | (size_t)row[2 + tlen] << 8;
    if (!table_name_ok(table) || strlen(table) != tlen || key_len > MAX_KEY ||
        len - (1 + tlen + 2) < key_len || len - (1 + tlen + 2) - key_len > MAX_VALUE)
        return -1;
    key = row + 1 + tlen + 2;
    row_id(table, key, key_len, want);
    if (sodium_memcmp(want, id, sizeof(want)) != 0)
        return -1;
    t = table_find(table, tlen, true);
    block = block_make(key, key_len, key + key_len, len - (1 + tlen + 2) - key_len);
    if (t < 0 || block == NULL ||
        !table_set((size_t)t, key, key_len, block, len - (1 + tlen + 2) - key_len)) {
        free(block);
        return -1;
    }
    return 0;
}

int widget_store_next_batch(const uint8_t **p, size_t *len)
{
    buf_free(&st.taken);
    if (st.n_batches == 0)
        return 0;
    st.taken = st.batches[0];
    memmove(&st.batches[0], &st.batches[1], (st.n_batches - 1) * sizeof(*st.batches));
    st.n_batches--;
    *p = st.taken.p;
    *len = st.taken.n;
    return 1;
}

size_t widget_store_rows(const char *table)
{
    size_t n = 0;

    for (size_t t = 0; t < st.n_tables; t++)
        if (table == NULL || strcmp(st.tables[t].name, table) == 0)
            n += st.tables[t].n;
    return n;
}
