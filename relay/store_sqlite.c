/*
 * The sqlite store (see store.h), with group commit. The writer thread
 * owns one connection and runs whole batches (one transaction, one WAL
 * sync each: store_sqlite_ops.c); a second connection serves start-up
 * and the audit outbox's reads. WAL lets both work at once.
 * secure_delete zeroes what is deleted, in b-tree and overflow pages
 * alike, so removed ciphertext does not linger in the file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "store_sqlite.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS envelopes("
    " seq INTEGER PRIMARY KEY,"
    " envelope_id BLOB NOT NULL UNIQUE,"
    " recipient BLOB NOT NULL,"
    " conversation_id BLOB NOT NULL,"
    " sealed BLOB NOT NULL,"
    " stored_at INTEGER NOT NULL,"
    " sender BLOB);"
    "CREATE INDEX IF NOT EXISTS envelopes_by_recipient ON envelopes(recipient, seq);"
    "CREATE INDEX IF NOT EXISTS envelopes_by_time ON envelopes(stored_at);"
    "CREATE TABLE IF NOT EXISTS directories("
    " brand_id TEXT PRIMARY KEY, version INTEGER NOT NULL, directory BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS prekeys("
    " id INTEGER PRIMARY KEY, owner BLOB NOT NULL, prekey BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS prekeys_by_owner ON prekeys(owner, id);"
    "CREATE TABLE IF NOT EXISTS medium_prekeys(owner BLOB PRIMARY KEY,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, prekey BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit_outbox("
    " id INTEGER PRIMARY KEY, entry TEXT NOT NULL);"
    /* Brand orders and the agents' receipts (relay/order.c), until the order expired a TTL ago. */
    "CREATE TABLE IF NOT EXISTS orders(order_id BLOB PRIMARY KEY, brand_id TEXT NOT NULL,"
    " expires_at INTEGER NOT NULL, body BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS orders_by_brand ON orders(brand_id, expires_at);"
    "CREATE TABLE IF NOT EXISTS order_receipts(n INTEGER PRIMARY KEY, order_id BLOB NOT NULL,"
    " agent BLOB NOT NULL, receipt BLOB NOT NULL, UNIQUE(order_id, agent));";

/* What an erasure deletes by, besides the recipient: once the sender column exists. */
static const char erasure_indexes[] =
    "CREATE INDEX IF NOT EXISTS envelopes_by_sender ON envelopes(sender, seq);"
    "CREATE INDEX IF NOT EXISTS envelopes_by_conversation ON envelopes(conversation_id, seq);";

/* The database and the WAL and index beside it, left readable by others (an older relay): closed up. */
static int make_private(const char *path, char *err, size_t cap)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[4200];

    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        if (chmod(p, 0600) != 0 && errno != ENOENT) {
            snprintf(err, cap, "%s: cannot make it private: %s", p, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int open_conn(sqlite3 **db, const char *path, char *err, size_t cap)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, cap, "%s: %s", path, *db ? sqlite3_errmsg(*db) : "cannot open");
        return -1;
    }
    sqlite3_busy_timeout(*db, 5000);
    if (sqlite_exec(*db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                  "PRAGMA foreign_keys=OFF;") != 0) {
        snprintf(err, cap, "%s: %s", path, sqlite3_errmsg(*db));
        return -1;
    }
    return 0;
}

/* Bytes the database's pages in use take (free pages are reused before the file grows). */
static uint64_t measure(struct sqlite_store *s)
{
    uint64_t pages = 0, free_pages = 0;

    if (sqlite3_step(s->page_count) == SQLITE_ROW)
        pages = (uint64_t)sqlite3_column_int64(s->page_count, 0);
    if (sqlite3_step(s->freelist_count) == SQLITE_ROW)
        free_pages = (uint64_t)sqlite3_column_int64(s->freelist_count, 0);
    sqlite3_reset(s->page_count);
    sqlite3_reset(s->freelist_count);
    return (pages > free_pages ? pages - free_pages : 0) * s->page_size;
}

/* The store's thread (store.c's hand-off): one transaction a batch, then the size. */
static void writer_run(void *arg, struct store_batch *b)
{
    struct sqlite_store *s = arg;
    uint64_t used;

    sqlite_commit_batch(s, b);
    used = measure(s);
    store_set_bytes_used(&s->base, used);
}

static void writer_wake(void *arg)
{
    struct sqlite_store *s = arg;

    s->wake(s->wake_arg);
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err, size_t cap)
{
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
        snprintf(err, cap, "prepare: %s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

static void sq_close(struct store *base);

static int sq_open(struct store **out, const char *path, store_wake_fn wake, void *wake_arg,
               uint64_t *max_seq, char *err, size_t cap)
{
    struct sqlite_store *s = calloc(1, sizeof(*s));
    sqlite3_stmt *st = NULL;
    struct store_worker writer = {writer_run, writer_wake, NULL, 0, s};

    *out = NULL;
    if (s == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    store_handoff_init(&s->base);
    s->wake = wake;
    s->wake_arg = wake_arg;
    if (make_private(path, err, cap) != 0 || open_conn(&s->wdb, path, err, cap) != 0)
        goto fail;
    if (sqlite_exec(s->wdb, schema) != 0) {
        snprintf(err, cap, "%s: %s", path, sqlite3_errmsg(s->wdb));
        goto fail;
    }
    /* Databases from before erasure requests: the sender column is added (empty for old rows). */
    if (sqlite3_prepare_v2(s->wdb, "SELECT sender FROM envelopes LIMIT 0", -1, &st, NULL) !=
        SQLITE_OK) {
        if (sqlite_exec(s->wdb, "ALTER TABLE envelopes ADD COLUMN sender BLOB") != 0) {
            snprintf(err, cap, "%s: %s", path, sqlite3_errmsg(s->wdb));
            goto fail;
        }
    } else {
        sqlite3_finalize(st);
        st = NULL;
    }
    if (sqlite_exec(s->wdb, erasure_indexes) != 0) {
        snprintf(err, cap, "%s: %s", path, sqlite3_errmsg(s->wdb));
        goto fail;
    }
    if (open_conn(&s->rdb, path, err, cap) != 0)
        goto fail;
    if (sqlite_prepare_writer(s, err, cap) != 0)
        goto fail;
    if (prepare(s->wdb, "PRAGMA page_count", &s->page_count, err, cap) != 0 ||
        prepare(s->wdb, "PRAGMA freelist_count", &s->freelist_count, err, cap) != 0 ||
        prepare(s->wdb, "PRAGMA page_size", &st, err, cap) != 0)
        goto fail;
    s->page_size = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 4096;
    sqlite3_finalize(st);
    st = NULL;
    store_set_bytes_used(&s->base, measure(s));
    if (prepare(s->rdb, "SELECT id, entry FROM audit_outbox WHERE id >= ? ORDER BY id LIMIT ?",
                &s->outbox, err, cap) != 0)
        goto fail;
    if (prepare(s->rdb, "SELECT coalesce(max(seq), 0) FROM envelopes", &st, err, cap) != 0)
        goto fail;
    *max_seq = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (store_handoff_start(&s->base, &writer) != 0) {
        snprintf(err, cap, "cannot start the writer thread");
        goto fail;
    }
    *out = &s->base;
    return 0;
fail:
    sq_close(&s->base);
    return -1;
}

static void sq_close(struct store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;

    if (s == NULL)
        return;
    store_handoff_stop(&s->base);
    for (int i = 0; i < W_COUNT; i++)
        sqlite3_finalize(s->w[i]);
    sqlite3_finalize(s->page_count);
    sqlite3_finalize(s->freelist_count);
    sqlite3_finalize(s->outbox);
    if (s->wdb != NULL)
        sqlite_exec(s->wdb, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(s->rdb);
    sqlite3_close(s->wdb);
    free(s);
}

/* After a read stepped to rc over n rows: readies st for reuse; n, or -1 on failure. */
static int read_done(sqlite3_stmt *st, int rc, int n)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -1;
}

static int sq_load_quotas(struct store *base, store_quota_fn fn, void *arg)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    static const uint8_t none[32];
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(s->rdb,
                           "SELECT recipient, sender, count(*), sum(length(sealed)) FROM envelopes"
                           " GROUP BY recipient, sender",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_bytes(st, 0) == 32)
            fn(arg, sqlite3_column_blob(st, 0),
               sqlite3_column_bytes(st, 1) == 32 ? sqlite3_column_blob(st, 1) : none,
               (uint64_t)sqlite3_column_int64(st, 2), (uint64_t)sqlite3_column_int64(st, 3));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int sq_load_directories(struct store *base, store_dir_fn fn, void *arg)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(s->rdb, "SELECT brand_id, version, directory FROM directories", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(arg, (const char *)sqlite3_column_text(st, 0), (uint64_t)sqlite3_column_int64(st, 1),
           sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int sq_meta(struct store *base, const char *name, uint8_t out[32])
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_stmt *st;
    int rc = -1;

    /* Only called at start-up, before any batch: the writer connection is free. */
    if (store_busy(base) ||
        sqlite3_prepare_v2(s->wdb, "SELECT value FROM meta WHERE name = ?", -1, &st, NULL) !=
            SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(out, sqlite3_column_blob(st, 0), 32);
        rc = 0;
    }
    sqlite3_finalize(st);
    if (rc == 0)
        return 0;
    randombytes_buf(out, 32);
    if (sqlite3_prepare_v2(s->wdb, "INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, out, 32, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static int sq_outbox_read(struct store *base, uint64_t from, size_t limit, store_outbox_fn fn,
                      void *arg)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_stmt *st = s->outbox;
    int n = 0, rc;

    sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        if (fn(arg, (uint64_t)sqlite3_column_int64(st, 0),
               (const char *)sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1)) != 0)
            break;
    }
    return read_done(st, rc, n);
}

static int sq_outbox_mark(struct store *base, uint64_t *row, uint32_t *idx, uint64_t *seq)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    sqlite3_stmt *st;

    *row = *seq = 0;
    *idx = 0;
    /* Start-up only, before any batch: the writer connection is free. */
    if (store_busy(base) ||
        sqlite3_prepare_v2(s->wdb, "SELECT value FROM meta WHERE name = 'audit_outbox'", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 24) {
        const uint8_t *v = sqlite3_column_blob(st, 0);
        *row = sqlite_get_be64(v);
        *idx = (uint32_t)sqlite_get_be64(v + 8);
        *seq = sqlite_get_be64(v + 16);
    }
    sqlite3_finalize(st);
    return 0;
}

const struct store_ops store_sqlite_ops = {
    .kind = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .meta = sq_meta,
    .load_quotas = sq_load_quotas,
    .load_directories = sq_load_directories,
    .outbox_read = sq_outbox_read,
    .outbox_mark = sq_outbox_mark,
};
