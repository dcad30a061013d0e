/*
 * sqlite store with group commit. The writer thread owns one connection
 * and commits whole batches (one transaction, one WAL sync each); the
 * event loop owns a second connection for reads. WAL lets both work at
 * once. secure_delete zeroes what is deleted, in b-tree and overflow
 * pages alike, so removed ciphertext does not linger in the file.
 *
 * Each op's audit entry joins its transaction (the outbox), and a batch
 * that fails keeps sqlite's reason for the relay's metrics and log.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "store.h"

enum {
    W_INSERT,
    W_DELETE,
    W_EXPIRE,
    W_DIRECTORY,
    W_PREKEY_ADD,
    W_PREKEY_DEL,
    W_ERASE_TO,
    W_ERASE_FROM,
    W_ERASE_CONV,
    W_PREKEY_CLEAR,
    W_MEDIUM_SET,
    W_MEDIUM_CLEAR,
    W_OUTBOX_ADD,
    W_OUTBOX_DONE,
    W_META_SET,
    W_COUNT
};

static const char *const writer_sql[W_COUNT] = {
    [W_INSERT] = "INSERT OR IGNORE INTO envelopes"
                 "(seq, envelope_id, recipient, conversation_id, sealed, stored_at, sender)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)",
    [W_DELETE] = "DELETE FROM envelopes WHERE recipient = ? AND envelope_id = ?"
                 " RETURNING recipient, length(sealed), sender",
    [W_EXPIRE] = "DELETE FROM envelopes WHERE stored_at < ?"
                 " RETURNING recipient, length(sealed), sender",
    [W_DIRECTORY] = "INSERT INTO directories(brand_id, version, directory) VALUES (?, ?, ?)"
                    " ON CONFLICT(brand_id) DO UPDATE SET version = excluded.version,"
                    " directory = excluded.directory WHERE excluded.version >= version",
    [W_PREKEY_ADD] = "INSERT INTO prekeys(owner, prekey) VALUES (?, ?)",
    [W_PREKEY_DEL] = "DELETE FROM prekeys WHERE id = ?",
    [W_PREKEY_CLEAR] = "DELETE FROM prekeys WHERE owner = ?",
    /* The newest medium-term prekey of each owner. */
    [W_MEDIUM_SET] = "INSERT INTO medium_prekeys(owner, created_at, expires_at, prekey)"
                     " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(owner) DO UPDATE SET"
                     " created_at = excluded.created_at, expires_at = excluded.expires_at,"
                     " prekey = excluded.prekey WHERE excluded.created_at >= created_at",
    [W_MEDIUM_CLEAR] = "DELETE FROM medium_prekeys WHERE owner = ?",
    /* An erasure's units, each at most ?3 rows at a time through its index. */
    [W_ERASE_TO] = "DELETE FROM envelopes WHERE seq IN (SELECT seq FROM envelopes"
                   " WHERE recipient = ?1 AND seq <= ?2 LIMIT ?3)"
                   " RETURNING recipient, length(sealed), sender",
    [W_ERASE_FROM] = "DELETE FROM envelopes WHERE seq IN (SELECT seq FROM envelopes"
                     " WHERE sender = ?1 AND seq <= ?2 LIMIT ?3)"
                     " RETURNING recipient, length(sealed), sender",
    [W_ERASE_CONV] = "DELETE FROM envelopes WHERE seq IN (SELECT seq FROM envelopes"
                     " WHERE conversation_id = ?1 AND seq <= ?2 LIMIT ?3)"
                     " RETURNING recipient, length(sealed), sender",
    [W_OUTBOX_ADD] = "INSERT INTO audit_outbox(entry) VALUES (?)",
    /* The last row stays, so that new rows' ids (max + 1) keep growing. */
    [W_OUTBOX_DONE] = "DELETE FROM audit_outbox WHERE id < ?",
    [W_META_SET] = "INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)",
};

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
    " id INTEGER PRIMARY KEY, entry TEXT NOT NULL);";

/* What an erasure deletes by, besides the recipient: once the sender column exists. */
static const char erasure_indexes[] =
    "CREATE INDEX IF NOT EXISTS envelopes_by_sender ON envelopes(sender, seq);"
    "CREATE INDEX IF NOT EXISTS envelopes_by_conversation ON envelopes(conversation_id, seq);";

struct store {
    sqlite3 *wdb, *rdb;
    sqlite3_stmt *w[W_COUNT];
    sqlite3_stmt *fetch, *prekey_peek, *prekey_count, *medium, *outbox;
    sqlite3_stmt *page_count, *freelist_count; /* the writer's, for the database's size */
    uint64_t page_size, db_bytes;              /* db_bytes under lock */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct store_batch work;      /* being committed (owned by the writer while busy) */
    struct store_batch done;      /* committed, waiting for the loop */
    bool busy, has_work, has_done, stop, thread_started;
    store_wake_fn wake;
    void *wake_arg;
    store_audit_fn audit;
    void *audit_arg;
    /* The failure of the batch being committed (writer thread). */
    int err, sys_err;
    char errmsg[128];
};

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

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

/* Keeps the first failure of the batch: sqlite's code for it, errno behind it, its message. */
static void note_error(struct store *s, int rc)
{
    int ext = sqlite3_extended_errcode(s->wdb);

    if (s->err != 0)
        return;
    s->err = (ext & 0xff) == (rc & 0xff) ? ext : rc;
    s->sys_err = sqlite3_system_errno(s->wdb);
    snprintf(s->errmsg, sizeof(s->errmsg), "%s",
             (ext & 0xff) == (rc & 0xff) ? sqlite3_errmsg(s->wdb) : sqlite3_errstr(rc));
}

static int exec_w(struct store *s, const char *sql)
{
    int rc = sqlite3_exec(s->wdb, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        note_error(s, rc);
    return rc == SQLITE_OK ? 0 : -1;
}

/* After a writer statement stepped to rc: notes a failure, readies st for reuse. 0 or -1. */
static int step_done(struct store *s, sqlite3_stmt *st, int rc)
{
    if (rc != SQLITE_DONE)
        note_error(s, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int meta_set(struct store *s, const char *name, const uint8_t *value, size_t len)
{
    sqlite3_stmt *st = s->w[W_META_SET];

    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, value, (int)len, SQLITE_STATIC);
    return step_done(s, st, sqlite3_step(st));
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int open_conn(sqlite3 **db, const char *path, char *err, size_t cap)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, cap, "%s: %s", path, *db ? sqlite3_errmsg(*db) : "cannot open");
        return -1;
    }
    sqlite3_busy_timeout(*db, 5000);
    if (exec(*db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                  "PRAGMA foreign_keys=OFF;") != 0) {
        snprintf(err, cap, "%s: %s", path, sqlite3_errmsg(*db));
        return -1;
    }
    return 0;
}

/*
 * Steps a DELETE ... RETURNING recipient, length(sealed), sender, adding
 * each row to op's removed list (sender all zeros when not recorded).
 */
static int collect_removed(sqlite3_stmt *st, struct store_op *op)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_expired *grown;

        if (sqlite3_column_bytes(st, 0) != 32)
            continue;
        grown = realloc(op->expired, (op->n_expired + 1) * sizeof(*grown));
        if (grown == NULL)
            return SQLITE_NOMEM;
        op->expired = grown;
        memcpy(grown[op->n_expired].recipient, sqlite3_column_blob(st, 0), 32);
        grown[op->n_expired].bytes = (uint64_t)sqlite3_column_int64(st, 1);
        if (sqlite3_column_bytes(st, 2) == 32)
            memcpy(grown[op->n_expired].sender, sqlite3_column_blob(st, 2), 32);
        else
            memset(grown[op->n_expired].sender, 0, 32);
        op->n_expired++;
        op->deleted++;
        op->freed += (uint64_t)sqlite3_column_int64(st, 1);
    }
    return rc;
}

/*
 * One step of an erasure: its units from op->unit on (0: envelopes to the
 * customer, 1: from it, 2 + i: of conversation i of the blob), deleting at
 * most op->limit rows; op->unit is left at the first unit not known done.
 */
static int erase_step(struct store *s, struct store_op *op)
{
    size_t units = 2 + op->blob_len / 16;
    uint32_t left = op->limit;
    int rc = SQLITE_DONE;

    while (op->unit < units && left > 0) {
        sqlite3_stmt *st = s->w[op->unit == 0   ? W_ERASE_TO
                                : op->unit == 1 ? W_ERASE_FROM
                                                : W_ERASE_CONV];
        uint32_t before = op->deleted;

        if (op->unit < 2)
            sqlite3_bind_blob(st, 1, op->env.recipient, 32, SQLITE_STATIC);
        else
            sqlite3_bind_blob(st, 1, op->blob + 16 * (op->unit - 2), 16, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)op->cutoff);
        sqlite3_bind_int64(st, 3, left);
        rc = collect_removed(st, op);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_DONE)
            return -1;
        if (op->deleted - before == left)
            break; /* this unit may hold more: the next step goes on with it */
        left -= op->deleted - before;
        op->unit++;
    }
    op->checkpoint = op->checkpoint && op->unit == units; /* only once it is all done */
    return 0;
}

static int run_op(struct store *s, struct store_op *op)
{
    sqlite3_stmt *st;
    int rc;

    switch (op->kind) {
    case STORE_INSERT:
        st = s->w[W_INSERT];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)op->env.seq);
        sqlite3_bind_blob(st, 2, op->env.envelope_id, 16, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, op->env.recipient, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, op->env.conversation_id, 16, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, op->env.sealed, (int)op->env.sealed_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)op->env.stored_at);
        sqlite3_bind_blob(st, 7, op->reply_to, 32, SQLITE_STATIC);
        rc = sqlite3_step(st);
        op->inserted = rc == SQLITE_DONE && sqlite3_changes(s->wdb) == 1;
        break;
    case STORE_DELETE:
        st = s->w[W_DELETE];
        sqlite3_bind_blob(st, 1, op->env.recipient, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, op->env.envelope_id, 16, SQLITE_STATIC);
        rc = collect_removed(st, op);
        break;
    case STORE_EXPIRE:
        st = s->w[W_EXPIRE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)op->cutoff);
        rc = collect_removed(st, op);
        break;
    case STORE_ERASE_STEP:
        return erase_step(s, op);
    case STORE_DIRECTORY:
        st = s->w[W_DIRECTORY];
        sqlite3_bind_text(st, 1, op->brand_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)op->version);
        sqlite3_bind_blob(st, 3, op->blob, (int)op->blob_len, SQLITE_STATIC);
        rc = sqlite3_step(st);
        break;
    case STORE_PREKEY_ADD:
        st = s->w[W_PREKEY_ADD];
        sqlite3_bind_blob(st, 1, op->env.recipient, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, op->blob, (int)op->blob_len, SQLITE_STATIC);
        rc = sqlite3_step(st);
        break;
    case STORE_PREKEY_DEL:
        st = s->w[W_PREKEY_DEL];
        sqlite3_bind_int64(st, 1, op->prekey_id);
        rc = sqlite3_step(st);
        break;
    case STORE_PREKEY_CLEAR:
        st = s->w[W_PREKEY_CLEAR];
        sqlite3_bind_blob(st, 1, op->env.recipient, 32, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            break;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        st = s->w[W_MEDIUM_CLEAR];
        sqlite3_bind_blob(st, 1, op->env.recipient, 32, SQLITE_STATIC);
        rc = sqlite3_step(st);
        break;
    case STORE_PREKEY_MEDIUM:
        st = s->w[W_MEDIUM_SET];
        sqlite3_bind_blob(st, 1, op->env.recipient, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)op->version);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)op->cutoff);
        sqlite3_bind_blob(st, 4, op->blob, (int)op->blob_len, SQLITE_STATIC);
        rc = sqlite3_step(st);
        break;
    case STORE_AUDIT_DONE: {
        uint8_t mark[24];
        st = s->w[W_OUTBOX_DONE];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)op->cutoff);
        rc = sqlite3_step(st);
        put_be64(mark, op->cutoff);
        put_be64(mark + 8, op->audit_off);
        put_be64(mark + 16, op->version);
        if (rc == SQLITE_DONE && meta_set(s, "audit_outbox", mark, sizeof(mark)) != 0)
            rc = SQLITE_ERROR; /* meta_set noted why */
        break;
    }
    case STORE_PROBE: {
        uint8_t when[8];
        put_be64(when, op->cutoff);
        return meta_set(s, "store_probe", when, sizeof(when));
    }
    case STORE_BARRIER:
        return 0;
    default:
        return -1;
    }
    return step_done(s, st, rc);
}

/*
 * The op's audit entry, a line of the batch's outbox row. Without memory
 * for it the batch fails: no change is committed without its entry.
 */
static int record_op(struct store *s, struct store_batch *b, struct store_op *op)
{
    char body[512];
    size_t n = s->audit != NULL ? s->audit(s->audit_arg, op, body, sizeof(body)) : 0;

    op->audit_row = 0;
    if (n == 0)
        return 0;
    if (b->audit_len + n + 1 > b->audit_cap) {
        size_t cap = b->audit_cap ? b->audit_cap * 2 : 16384;
        char *grown;
        while (cap < b->audit_len + n + 1)
            cap *= 2;
        grown = realloc(b->audit, cap);
        if (grown == NULL) {
            note_error(s, SQLITE_NOMEM);
            return -1;
        }
        b->audit = grown;
        b->audit_cap = cap;
    }
    if (b->audit_len > 0)
        b->audit[b->audit_len++] = '\n';
    memcpy(b->audit + b->audit_len, body, n);
    op->audit_row = 1; /* the row's id once inserted */
    op->audit_off = (uint32_t)b->audit_len;
    op->audit_len = (uint32_t)n;
    b->audit_len += n;
    return 0;
}

/* The batch's audit entries into the outbox, one row, in its transaction. */
static int record_batch(struct store *s, struct store_batch *b)
{
    sqlite3_stmt *st = s->w[W_OUTBOX_ADD];
    uint64_t row;

    if (b->audit_len == 0)
        return 0;
    sqlite3_bind_text(st, 1, b->audit, (int)b->audit_len, SQLITE_STATIC);
    if (step_done(s, st, sqlite3_step(st)) != 0)
        return -1;
    row = (uint64_t)sqlite3_last_insert_rowid(s->wdb);
    for (size_t i = 0; i < b->n; i++)
        if (b->ops[i].audit_row != 0)
            b->ops[i].audit_row = row;
    return 0;
}

static void commit_batch(struct store *s, struct store_batch *b)
{
    int changes = sqlite3_total_changes(s->wdb);
    bool ok;

    s->err = s->sys_err = 0;
    s->errmsg[0] = '\0';
    b->audit_len = 0;
    ok = exec_w(s, "BEGIN IMMEDIATE") == 0;
    for (size_t i = 0; ok && i < b->n; i++)
        ok = run_op(s, &b->ops[i]) == 0 && record_op(s, b, &b->ops[i]) == 0;
    if (ok)
        ok = record_batch(s, b) == 0 && exec_w(s, "COMMIT") == 0;
    b->err = ok ? 0 : s->err != 0 ? s->err : SQLITE_ERROR;
    b->sys_err = ok ? 0 : s->sys_err;
    snprintf(b->errmsg, sizeof(b->errmsg), "%s", ok ? "" : s->errmsg);
    b->wrote = ok && sqlite3_total_changes(s->wdb) != changes;
    if (!ok) {
        exec(s->wdb, "ROLLBACK");
        for (size_t i = 0; i < b->n; i++) {
            b->ops[i].inserted = false;
            b->ops[i].deleted = 0;
            b->ops[i].freed = 0;
            b->ops[i].n_expired = 0;
            b->ops[i].audit_row = 0;
        }
    }
    for (size_t i = 0; i < b->n; i++)
        b->ops[i].ok = ok;
    /*
     * Deleted envelopes leave the file for good: secure_delete zeroed their
     * pages, and a checkpoint that truncates the WAL drops the older copies
     * of those pages it still held. It runs at the end of an erasure and
     * with every expiry sweep (each minute by default), whatever it deleted, so the
     * copies of acknowledged envelopes go too. When a reader is busy the
     * checkpoint is partial; the next sweep tries again.
     */
    for (size_t i = 0; ok && i < b->n; i++)
        if (b->ops[i].kind == STORE_EXPIRE ||
            (b->ops[i].kind == STORE_ERASE_STEP && b->ops[i].checkpoint)) {
            exec(s->wdb, "PRAGMA wal_checkpoint(TRUNCATE)");
            break;
        }
}

/* Bytes the database's pages in use take (free pages are reused before the file grows). */
static uint64_t measure(struct store *s)
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

static void *writer_main(void *arg)
{
    struct store *s = arg;
    uint64_t used;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->has_work && !s->stop)
            pthread_cond_wait(&s->cond, &s->lock);
        if (!s->has_work && s->stop)
            break;
        pthread_mutex_unlock(&s->lock);
        commit_batch(s, &s->work);
        used = measure(s);
        pthread_mutex_lock(&s->lock);
        s->db_bytes = used;
        s->has_work = false;
        s->has_done = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        s->wake(s->wake_arg);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err, size_t cap)
{
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
        snprintf(err, cap, "prepare: %s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

int store_open(struct store **out, const char *path, store_wake_fn wake, void *wake_arg,
               uint64_t *max_seq, char *err, size_t cap)
{
    struct store *s = calloc(1, sizeof(*s));
    sqlite3_stmt *st = NULL;

    *out = NULL;
    if (s == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->wake = wake;
    s->wake_arg = wake_arg;
    if (make_private(path, err, cap) != 0 || open_conn(&s->wdb, path, err, cap) != 0)
        goto fail;
    if (exec(s->wdb, schema) != 0) {
        snprintf(err, cap, "%s: %s", path, sqlite3_errmsg(s->wdb));
        goto fail;
    }
    /* Databases from before erasure requests: the sender column is added (empty for old rows). */
    if (sqlite3_prepare_v2(s->wdb, "SELECT sender FROM envelopes LIMIT 0", -1, &st, NULL) !=
        SQLITE_OK) {
        if (exec(s->wdb, "ALTER TABLE envelopes ADD COLUMN sender BLOB") != 0) {
            snprintf(err, cap, "%s: %s", path, sqlite3_errmsg(s->wdb));
            goto fail;
        }
    } else {
        sqlite3_finalize(st);
        st = NULL;
    }
    if (exec(s->wdb, erasure_indexes) != 0) {
        snprintf(err, cap, "%s: %s", path, sqlite3_errmsg(s->wdb));
        goto fail;
    }
    if (open_conn(&s->rdb, path, err, cap) != 0)
        goto fail;
    for (int i = 0; i < W_COUNT; i++)
        if (prepare(s->wdb, writer_sql[i], &s->w[i], err, cap) != 0)
            goto fail;
    if (prepare(s->wdb, "PRAGMA page_count", &s->page_count, err, cap) != 0 ||
        prepare(s->wdb, "PRAGMA freelist_count", &s->freelist_count, err, cap) != 0 ||
        prepare(s->wdb, "PRAGMA page_size", &st, err, cap) != 0)
        goto fail;
    s->page_size = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 4096;
    sqlite3_finalize(st);
    st = NULL;
    s->db_bytes = measure(s);
    if (prepare(s->rdb,
                "SELECT seq, envelope_id, conversation_id, sealed, stored_at FROM envelopes"
                " WHERE recipient = ? AND seq > ? ORDER BY seq LIMIT ?",
                &s->fetch, err, cap) != 0 ||
        prepare(s->rdb, "SELECT id, prekey FROM prekeys WHERE owner = ? ORDER BY id LIMIT 64",
                &s->prekey_peek, err, cap) != 0 ||
        prepare(s->rdb, "SELECT count(*) FROM prekeys WHERE owner = ?", &s->prekey_count, err,
                cap) != 0 ||
        prepare(s->rdb, "SELECT prekey FROM medium_prekeys WHERE owner = ? AND expires_at > ?",
                &s->medium, err, cap) != 0 ||
        prepare(s->rdb, "SELECT id, entry FROM audit_outbox WHERE id >= ? ORDER BY id LIMIT ?",
                &s->outbox, err, cap) != 0)
        goto fail;
    if (prepare(s->rdb, "SELECT coalesce(max(seq), 0) FROM envelopes", &st, err, cap) != 0)
        goto fail;
    *max_seq = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
        snprintf(err, cap, "cannot start the writer thread");
        goto fail;
    }
    s->thread_started = true;
    *out = s;
    return 0;
fail:
    store_close(s);
    return -1;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    if (s->thread_started) {
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    store_batch_free(&s->work);
    store_batch_free(&s->done);
    for (int i = 0; i < W_COUNT; i++)
        sqlite3_finalize(s->w[i]);
    sqlite3_finalize(s->fetch);
    sqlite3_finalize(s->prekey_peek);
    sqlite3_finalize(s->prekey_count);
    sqlite3_finalize(s->medium);
    sqlite3_finalize(s->page_count);
    sqlite3_finalize(s->freelist_count);
    sqlite3_finalize(s->outbox);
    if (s->wdb != NULL)
        exec(s->wdb, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(s->rdb);
    sqlite3_close(s->wdb);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

struct store_op *store_batch_add(struct store_batch *b, enum store_op_kind kind)
{
    struct store_op *op;

    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct store_op *grown = realloc(b->ops, cap * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        b->ops = grown;
        b->cap = cap;
    }
    op = &b->ops[b->n++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    return op;
}

void store_batch_clear(struct store_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->ops[i].env.sealed);
        free(b->ops[i].blob);
        free(b->ops[i].expired);
    }
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

static void batch_swap(struct store_batch *a, struct store_batch *b)
{
    struct store_batch t = *a;
    *a = *b;
    *b = t;
}

bool store_submit(struct store *s, struct store_batch *b)
{
    bool handed = false;

    if (b->n == 0)
        return true;
    pthread_mutex_lock(&s->lock);
    /* Busy until the loop has also taken the previous results back. */
    if (!s->has_work && !s->has_done) {
        store_batch_clear(&s->work);
        batch_swap(&s->work, b);
        s->has_work = true;
        pthread_cond_broadcast(&s->cond);
        handed = true;
    }
    pthread_mutex_unlock(&s->lock);
    return handed;
}

bool store_take_done(struct store *s, struct store_batch *done)
{
    bool took = false;

    pthread_mutex_lock(&s->lock);
    if (s->has_done) {
        store_batch_clear(done);
        batch_swap(done, &s->work);
        s->has_done = false;
        took = true;
    }
    pthread_mutex_unlock(&s->lock);
    return took;
}

uint64_t store_db_bytes(struct store *s)
{
    uint64_t v;

    pthread_mutex_lock(&s->lock);
    v = s->db_bytes;
    pthread_mutex_unlock(&s->lock);
    return v;
}

bool store_writer_busy(struct store *s)
{
    bool busy;

    pthread_mutex_lock(&s->lock);
    busy = s->has_work || s->has_done;
    pthread_mutex_unlock(&s->lock);
    return busy;
}

/* After a loop-thread read stepped to rc over n rows: readies st for reuse; n, or -1 on failure. */
static int read_done(sqlite3_stmt *st, int rc, int n)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -1;
}

int store_fetch(struct store *s, const uint8_t recipient[32], uint64_t after, size_t limit,
                store_env_fn fn, void *arg)
{
    sqlite3_stmt *st = s->fetch;
    int n = 0, rc;

    sqlite3_bind_blob(st, 1, recipient, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_env e;

        if (sqlite3_column_bytes(st, 1) != 16 || sqlite3_column_bytes(st, 2) != 16)
            continue;
        memset(&e, 0, sizeof(e));
        e.seq = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(e.envelope_id, sqlite3_column_blob(st, 1), 16);
        memcpy(e.conversation_id, sqlite3_column_blob(st, 2), 16);
        memcpy(e.recipient, recipient, 32);
        e.sealed = (uint8_t *)sqlite3_column_blob(st, 3);
        e.sealed_len = (size_t)sqlite3_column_bytes(st, 3);
        e.stored_at = (uint64_t)sqlite3_column_int64(st, 4);
        n++;
        if (fn(arg, &e) != 0)
            break;
    }
    return read_done(st, rc, n);
}

int store_load_quotas(struct store *s, store_quota_fn fn, void *arg)
{
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

int store_load_directories(struct store *s, store_dir_fn fn, void *arg)
{
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

long store_prekey_peek(struct store *s, const uint8_t owner[32], const int64_t *skip,
                       size_t n_skip, uint8_t *buf, size_t cap, int64_t *id)
{
    sqlite3_stmt *st = s->prekey_peek;
    long len = 0;
    int rc;

    sqlite3_bind_blob(st, 1, owner, 32, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t rid = sqlite3_column_int64(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        bool skipped = false;

        for (size_t i = 0; i < n_skip; i++)
            skipped = skipped || skip[i] == rid;
        if (skipped || n > cap || n == 0)
            continue;
        memcpy(buf, sqlite3_column_blob(st, 1), n);
        *id = rid;
        len = (long)n;
        break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        len = -1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return len;
}

long store_prekey_medium(struct store *s, const uint8_t owner[32], uint64_t now, uint8_t *buf,
                         size_t cap)
{
    sqlite3_stmt *st = s->medium;
    long len = 0;
    int rc;

    sqlite3_bind_blob(st, 1, owner, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n > 0 && n <= cap) {
            memcpy(buf, sqlite3_column_blob(st, 0), n);
            len = (long)n;
        }
    } else if (rc != SQLITE_DONE) {
        len = -1;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return len;
}

long store_prekey_count(struct store *s, const uint8_t owner[32])
{
    sqlite3_stmt *st = s->prekey_count;
    long n = -1;

    sqlite3_bind_blob(st, 1, owner, 32, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return n;
}

int store_meta(struct store *s, const char *name, uint8_t out[32])
{
    sqlite3_stmt *st;
    int rc = -1;

    /* Only called at start-up, before any batch: the writer connection is free. */
    if (store_writer_busy(s) ||
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

void store_set_audit(struct store *s, store_audit_fn fn, void *arg)
{
    pthread_mutex_lock(&s->lock);
    s->audit = fn;
    s->audit_arg = arg;
    pthread_mutex_unlock(&s->lock);
}

int store_outbox_read(struct store *s, uint64_t from, size_t limit, store_outbox_fn fn,
                      void *arg)
{
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

int store_outbox_mark(struct store *s, uint64_t *row, uint32_t *idx, uint64_t *seq)
{
    sqlite3_stmt *st;

    *row = *seq = 0;
    *idx = 0;
    /* Start-up only, before any batch: the writer connection is free. */
    if (store_writer_busy(s) ||
        sqlite3_prepare_v2(s->wdb, "SELECT value FROM meta WHERE name = 'audit_outbox'", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 24) {
        const uint8_t *v = sqlite3_column_blob(st, 0);
        *row = get_be64(v);
        *idx = (uint32_t)get_be64(v + 8);
        *seq = get_be64(v + 16);
    }
    sqlite3_finalize(st);
    return 0;
}
