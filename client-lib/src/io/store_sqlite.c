/*
 * The default client store: parley_store_ops on one sqlite database with a
 * single key-value table. Values reach it already encrypted by the
 * library; sqlite gives the durability the interface promises (WAL with
 * synchronous=FULL, one fsync per commit) and secure_delete keeps removed
 * rows out of free pages. Statements are prepared once at open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "parley/store.h"

#define STORE_MAX_KEY 256u
#define STORE_MAX_VALUE (1024u * 1024u)
#define STORE_MAX_TABLE 64u
#define STORE_BUSY_MS 5000

enum {
    S_GET,
    S_PUT,
    S_DEL,
    S_SCAN_FROM,  /* k >= prefix: empty prefix or one of only 0xff bytes */
    S_SCAN_RANGE, /* prefix <= k < successor(prefix) */
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_COUNT
};

static const char *const store_sql[S_COUNT] = {
    [S_GET] = "SELECT v FROM kv WHERE tbl = ?1 AND k = ?2",
    [S_PUT] = "INSERT OR REPLACE INTO kv(tbl, k, v) VALUES (?1, ?2, ?3)",
    [S_DEL] = "DELETE FROM kv WHERE tbl = ?1 AND k = ?2",
    [S_SCAN_FROM] = "SELECT k, v FROM kv WHERE tbl = ?1 AND k >= ?2 ORDER BY k",
    [S_SCAN_RANGE] = "SELECT k, v FROM kv WHERE tbl = ?1 AND k >= ?2 AND k < ?3 ORDER BY k",
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS kv(tbl TEXT NOT NULL, k BLOB NOT NULL, v BLOB NOT NULL,"
    " PRIMARY KEY(tbl, k)) WITHOUT ROWID;";

struct store_sqlite {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    bool in_tx;
    bool scanning; /* the scan statements are in use: no nested scan */
};

/* Table names are short printable ASCII: they never carry user data. */
static bool table_ok(const char *table)
{
    size_t n;

    if (table == NULL)
        return false;
    for (n = 0; table[n] != '\0'; n++) {
        unsigned char ch = (unsigned char)table[n];
        if (n >= STORE_MAX_TABLE || ch < 0x21 || ch > 0x7e)
            return false;
    }
    return n > 0;
}

static bool key_ok(const uint8_t *key, size_t key_len)
{
    return key_len <= STORE_MAX_KEY && (key != NULL || key_len == 0);
}

/* A zero-length blob must not be bound from a NULL pointer: that binds SQL NULL. */
static int bind_bytes(sqlite3_stmt *st, int idx, const uint8_t *p, size_t len)
{
    if (len == 0)
        return sqlite3_bind_zeroblob(st, idx, 0);
    return sqlite3_bind_blob(st, idx, p, (int)len, SQLITE_STATIC);
}

static void stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows; 0 or -1. */
static int run_simple(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    stmt_done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int store_begin(void *ctx)
{
    struct store_sqlite *s = ctx;

    if (s->in_tx)
        return -1;
    if (run_simple(s->stmt[S_BEGIN]) != 0)
        return -1;
    s->in_tx = true;
    return 0;
}

static int store_rollback(void *ctx)
{
    struct store_sqlite *s = ctx;

    if (!s->in_tx)
        return -1;
    s->in_tx = false;
    if (run_simple(s->stmt[S_ROLLBACK]) != 0)
        return sqlite3_get_autocommit(s->db) ? 0 : -1;
    return 0;
}

static int store_commit(void *ctx)
{
    struct store_sqlite *s = ctx;

    if (!s->in_tx)
        return -1;
    if (run_simple(s->stmt[S_COMMIT]) != 0) {
        /* All or nothing: a commit that did not happen leaves no half transaction behind. */
        if (!sqlite3_get_autocommit(s->db))
            run_simple(s->stmt[S_ROLLBACK]);
        s->in_tx = false;
        return -1;
    }
    s->in_tx = false;
    return 0;
}

static int store_get(void *ctx, const char *table, const uint8_t *key, size_t key_len,
                     uint8_t **val, size_t *val_len)
{
    struct store_sqlite *s = ctx;
    sqlite3_stmt *st = s->stmt[S_GET];
    const void *blob;
    int rc, n, ret = -1;
    uint8_t *copy;

    if (val == NULL || val_len == NULL)
        return -1;
    *val = NULL;
    *val_len = 0;
    if (!table_ok(table) || !key_ok(key, key_len))
        return -1;
    if (sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) != SQLITE_OK ||
        bind_bytes(st, 2, key, key_len) != SQLITE_OK)
        goto fail;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        ret = 0;
        goto fail;
    }
    if (rc != SQLITE_ROW)
        goto fail;
    blob = sqlite3_column_blob(st, 0);
    n = sqlite3_column_bytes(st, 0);
    if (n < 0 || (n > 0 && blob == NULL))
        goto fail;
    copy = malloc(n > 0 ? (size_t)n : 1);
    if (copy == NULL)
        goto fail;
    if (n > 0)
        memcpy(copy, blob, (size_t)n);
    *val = copy;
    *val_len = (size_t)n;
    ret = 1;
fail:
    stmt_done(st);
    return ret;
}

static int store_put(void *ctx, const char *table, const uint8_t *key, size_t key_len,
                     const uint8_t *val, size_t val_len)
{
    struct store_sqlite *s = ctx;
    sqlite3_stmt *st = s->stmt[S_PUT];

    if (!table_ok(table) || !key_ok(key, key_len) || val_len > STORE_MAX_VALUE ||
        (val == NULL && val_len > 0))
        return -1;
    if (sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) != SQLITE_OK ||
        bind_bytes(st, 2, key, key_len) != SQLITE_OK ||
        bind_bytes(st, 3, val, val_len) != SQLITE_OK) {
        stmt_done(st);
        return -1;
    }
    return run_simple(st);
}

static int store_del(void *ctx, const char *table, const uint8_t *key, size_t key_len)
{
    struct store_sqlite *s = ctx;
    sqlite3_stmt *st = s->stmt[S_DEL];

    if (!table_ok(table) || !key_ok(key, key_len))
        return -1;
    if (sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) != SQLITE_OK ||
        bind_bytes(st, 2, key, key_len) != SQLITE_OK) {
        stmt_done(st);
        return -1;
    }
    return run_simple(st);
}

/*
 * The smallest byte string greater than every string starting with
 * prefix: drop trailing 0xff bytes, then add one to the last byte.
 * Returns its length, or 0 when there is none (empty or all 0xff).
 */
static size_t prefix_successor(const uint8_t *prefix, size_t len, uint8_t *out)
{
    while (len > 0 && prefix[len - 1] == 0xff)
        len--;
    if (len == 0)
        return 0;
    memcpy(out, prefix, len);
    out[len - 1]++;
    return len;
}

/*
 * The callback may call get, put and del (sqlite lets a connection write
 * while it reads, though rows changed mid-scan may or may not be seen);
 * it may not start another scan.
 */
static int store_scan(void *ctx, const char *table, const uint8_t *prefix, size_t prefix_len,
                      parley_store_scan_fn fn, void *arg)
{
    struct store_sqlite *s = ctx;
    uint8_t upper[STORE_MAX_KEY];
    size_t upper_len;
    sqlite3_stmt *st;
    int rc, ret = -1;

    if (fn == NULL || s->scanning || !table_ok(table) || !key_ok(prefix, prefix_len))
        return -1;
    upper_len = prefix_successor(prefix, prefix_len, upper);
    st = s->stmt[upper_len > 0 ? S_SCAN_RANGE : S_SCAN_FROM];
    if (sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) != SQLITE_OK ||
        bind_bytes(st, 2, prefix, prefix_len) != SQLITE_OK ||
        (upper_len > 0 && bind_bytes(st, 3, upper, upper_len) != SQLITE_OK)) {
        stmt_done(st);
        return -1;
    }
    s->scanning = true;
    for (;;) {
        const void *k, *v;
        int kn, vn;

        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW)
            goto fail;
        k = sqlite3_column_blob(st, 0);
        kn = sqlite3_column_bytes(st, 0);
        v = sqlite3_column_blob(st, 1);
        vn = sqlite3_column_bytes(st, 1);
        if (kn < 0 || vn < 0 || (kn > 0 && k == NULL) || (vn > 0 && v == NULL))
            goto fail;
        if (fn(arg, kn > 0 ? k : (const void *)"", (size_t)kn, vn > 0 ? v : (const void *)"",
               (size_t)vn) != 0)
            break;
    }
    ret = 0;
fail:
    s->scanning = false;
    stmt_done(st);
    return ret;
}

static void store_close(void *ctx)
{
    struct store_sqlite *s = ctx;

    if (s == NULL)
        return;
    for (size_t i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    /* An open transaction is rolled back by the close. */
    sqlite3_close(s->db);
    free(s);
}

/* Deleted rows are zeroed in the database (secure_delete); their old frames leave the WAL here. */
static int store_compact(void *ctx)
{
    struct store_sqlite *s = ctx;

    if (s->in_tx)
        return -1;
    return sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) ==
                   SQLITE_OK
               ? 0
               : -1;
}

static const parley_store_ops sqlite_ops = {
    .begin = store_begin,
    .commit = store_commit,
    .rollback = store_rollback,
    .get = store_get,
    .put = store_put,
    .del = store_del,
    .scan = store_scan,
    .close = store_close,
    .compact = store_compact,
};

/* Opens path (created when create; else a missing file is fine) and sets it to 0600. */
static int narrow(const char *path, bool create)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : O_NOFOLLOW), 0600);
    int rc;

    if (fd < 0)
        return !create && errno == ENOENT ? 0 : -1;
    rc = fchmod(fd, 0600);
    close(fd);
    return rc;
}

/*
 * The database holds ciphertext only, but its shape is nobody else's
 * business: it is created 0600 whatever the umask, and a database, WAL
 * or shared-memory index left readable to others (by an older program,
 * or a file made by hand) is narrowed to 0600 before sqlite opens them.
 * sqlite creates the WAL and the index with the database's mode.
 */
static int make_private(const char *path)
{
    static const char *const suffix[] = {"-wal", "-shm"};
    char side[4096];

    if (narrow(path, true) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++)
        if ((size_t)snprintf(side, sizeof(side), "%s%s", path, suffix[i]) >= sizeof(side) ||
            narrow(side, false) != 0)
            return -1;
    return 0;
}

PARLEY_API parley_err parley_store_sqlite_open(parley_store *out, const char *path)
{
    struct store_sqlite *s;
    sqlite3_stmt *mode = NULL;
    parley_err err = PARLEY_EIO;

    if (out == NULL || path == NULL || path[0] == '\0')
        return PARLEY_EINVAL;
    out->ops = NULL;
    out->ctx = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return PARLEY_ENOMEM;
    if (make_private(path) != 0)
        goto fail;
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        if (s->db != NULL && sqlite3_errcode(s->db) == SQLITE_NOMEM)
            err = PARLEY_ENOMEM;
        goto fail;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    /* journal_mode answers with the mode in force: anything but wal is a failure. */
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &mode, NULL) != SQLITE_OK ||
        sqlite3_step(mode) != SQLITE_ROW || mode == NULL ||
        sqlite3_column_text(mode, 0) == NULL ||
        strcmp((const char *)sqlite3_column_text(mode, 0), "wal") != 0)
        goto fail;
    sqlite3_finalize(mode);
    mode = NULL;
    if (sqlite3_exec(s->db,
                     "PRAGMA synchronous=FULL; PRAGMA secure_delete=ON; PRAGMA trusted_schema=OFF;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    for (size_t i = 0; i < S_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                               NULL) != SQLITE_OK)
            goto fail;
    out->ops = &sqlite_ops;
    out->ctx = s;
    return PARLEY_OK;
fail:
    sqlite3_finalize(mode);
    store_close(s);
    return err;
}
