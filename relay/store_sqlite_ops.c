/*
 * What each op of the sqlite store does, inside the one transaction its
 * batch runs in on the writer thread: writes, and the reads that must
 * see them (a drain's fetch, a prekey taken, counted or read). Each
 * op's audit entry joins the same transaction (the outbox), and a batch
 * that fails keeps sqlite's reason for the relay's metrics and log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* parley__grow */
#include "store_sqlite.h"

static const char *const writer_sql[W_COUNT] = {
    [W_INSERT] = "INSERT OR IGNORE INTO envelopes"
                 "(seq, envelope_id, recipient, conversation_id, sealed, stored_at, sender)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)",
    /* A confirmed envelope: found by its id, deleted by its seq (delete_one). */
    [W_DELETE_FIND] = "SELECT seq, length(sealed), sender FROM envelopes"
                      " WHERE envelope_id = ? AND recipient = ?",
    [W_DELETE] = "DELETE FROM envelopes WHERE seq = ?",
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
    /* Reads inside the batch's transaction: they see every write queued before them. */
    [W_FETCH] = "SELECT seq, envelope_id, conversation_id, sealed, stored_at FROM envelopes"
                " WHERE recipient = ? AND seq > ? ORDER BY seq LIMIT ?",
    [W_PREKEY_COUNT] = "SELECT count(*) FROM prekeys WHERE owner = ?",
    [W_PREKEY_FIRST] = "SELECT id, prekey FROM prekeys WHERE owner = ? ORDER BY id LIMIT 1",
    [W_MEDIUM_GET] = "SELECT prekey FROM medium_prekeys WHERE owner = ? AND expires_at > ?",
    /* Brand orders and their receipts. */
    [W_ORDER_PUT] = "INSERT OR IGNORE INTO orders(order_id, brand_id, expires_at, body)"
                    " VALUES (?, ?, ?, ?)",
    [W_ORDER_FIND] = "SELECT 1 FROM orders WHERE order_id = ? AND brand_id = ?",
    [W_ORDER_PENDING] = "SELECT body FROM orders o WHERE brand_id = ?1 AND expires_at > ?2"
                        " AND NOT EXISTS (SELECT 1 FROM order_receipts r"
                        " WHERE r.order_id = o.order_id AND r.agent = ?3)"
                        " ORDER BY rowid LIMIT ?4",
    [W_RECEIPT_PUT] = "INSERT INTO order_receipts(order_id, agent, receipt) VALUES (?, ?, ?)"
                      " ON CONFLICT(order_id, agent) DO UPDATE SET receipt = excluded.receipt",
    [W_RECEIPT_COUNT] = "SELECT count(*) FROM order_receipts WHERE order_id = ?",
    [W_RECEIPT_LIST] = "SELECT receipt FROM order_receipts WHERE order_id = ?"
                       " ORDER BY n LIMIT ? OFFSET ?",
    [W_ORDER_EXPIRE_RECEIPTS] = "DELETE FROM order_receipts WHERE order_id IN"
                                " (SELECT order_id FROM orders WHERE expires_at < ?)",
    [W_ORDER_EXPIRE] = "DELETE FROM orders WHERE expires_at < ?",
};

int sqlite_prepare_writer(struct sqlite_store *s, char *err, size_t cap)
{
    for (int i = 0; i < W_COUNT; i++)
        if (sqlite3_prepare_v3(s->wdb, writer_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->w[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, cap, "prepare: %s", sqlite3_errmsg(s->wdb));
            return -1;
        }
    return 0;
}

int sqlite_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Keeps the first failure of the batch: sqlite's code for it, errno behind it, its message. */
static void note_error(struct sqlite_store *s, int rc)
{
    int ext = sqlite3_extended_errcode(s->wdb);

    if (s->err != 0)
        return;
    s->err = (ext & 0xff) == (rc & 0xff) ? ext : rc;
    s->sys_err = sqlite3_system_errno(s->wdb);
    snprintf(s->errmsg, sizeof(s->errmsg), "%s",
             (ext & 0xff) == (rc & 0xff) ? sqlite3_errmsg(s->wdb) : sqlite3_errstr(rc));
}

static int exec_w(struct sqlite_store *s, const char *sql)
{
    int rc = sqlite3_exec(s->wdb, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        note_error(s, rc);
    return rc == SQLITE_OK ? 0 : -1;
}

/* After a writer statement stepped to rc: notes a failure, readies st for reuse. 0 or -1. */
static int step_done(struct sqlite_store *s, sqlite3_stmt *st, int rc)
{
    if (rc != SQLITE_DONE)
        note_error(s, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int meta_set(struct sqlite_store *s, const char *name, const uint8_t *value, size_t len)
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

uint64_t sqlite_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/*
 * Steps a DELETE ... RETURNING recipient, length(sealed), sender, adding
 * each row to op's removed list (sender all zeros when not recorded).
 */
static int collect_removed(sqlite3_stmt *st, struct store_op *op)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != 32)
            continue;
        if (store_op_note_removed(
                op, sqlite3_column_blob(st, 0), (uint64_t)sqlite3_column_int64(st, 1),
                sqlite3_column_bytes(st, 2) == 32 ? sqlite3_column_blob(st, 2) : NULL) != 0)
            return SQLITE_NOMEM;
    }
    return rc;
}

/*
 * One step of an erasure: its units from op->unit on (0: envelopes to the
 * customer, 1: from it, 2 + i: of conversation i of the blob), deleting at
 * most op->limit rows; op->unit is left at the first unit not known done.
 */
static int erase_step(struct sqlite_store *s, struct store_op *op)
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

/* Steps a read statement to its end: rc of the last step, the statement readied for reuse. */
static int read_done(struct sqlite_store *s, sqlite3_stmt *st, int rc)
{
    if (rc == SQLITE_ROW)
        rc = SQLITE_DONE; /* stopped early, by choice */
    return step_done(s, st, rc);
}

/*
 * An envelope its recipient confirmed: looked up by its id, deleted by
 * its seq only when it is there. At capacity most of these find nothing
 * (asked for in case an earlier copy of an envelope whose insert was
 * taken back is stored), and a DELETE ... RETURNING would have sqlite
 * build and drop its table of returned rows on every run, found or not:
 * that was most of the writer's time.
 */
static int delete_one(struct sqlite_store *s, struct store_op *op)
{
    sqlite3_stmt *find = s->w[W_DELETE_FIND], *del = s->w[W_DELETE];
    sqlite3_int64 seq = 0;
    uint64_t bytes = 0;
    uint8_t sender[32];
    bool found, has_sender = false;
    int rc;

    sqlite3_bind_blob(find, 1, op->env.envelope_id, 16, SQLITE_STATIC);
    sqlite3_bind_blob(find, 2, op->env.recipient, 32, SQLITE_STATIC);
    rc = sqlite3_step(find);
    found = rc == SQLITE_ROW;
    if (found) {
        seq = sqlite3_column_int64(find, 0);
        bytes = (uint64_t)sqlite3_column_int64(find, 1);
        has_sender = sqlite3_column_bytes(find, 2) == 32;
        if (has_sender)
            memcpy(sender, sqlite3_column_blob(find, 2), 32);
    }
    if (read_done(s, find, rc) != 0)
        return -1;
    if (!found)
        return 0;
    sqlite3_bind_int64(del, 1, seq);
    rc = sqlite3_step(del);
    if (rc == SQLITE_DONE && sqlite3_changes(s->wdb) == 1 &&
        store_op_note_removed(op, op->env.recipient, bytes, has_sender ? sender : NULL) != 0)
        rc = SQLITE_NOMEM;
    return step_done(s, del, rc);
}

/* The recipient's envelopes after a seq, in order: at most limit, and about max_bytes. */
static int fetch(struct sqlite_store *s, struct store_op *op)
{
    sqlite3_stmt *st = s->w[W_FETCH];
    uint64_t bytes = 0;
    int rc = SQLITE_DONE;

    op->envs = calloc(op->limit > 0 ? op->limit : 1, sizeof(*op->envs));
    if (op->envs == NULL) {
        note_error(s, SQLITE_NOMEM);
        return -1;
    }
    sqlite3_bind_blob(st, 1, op->env.recipient, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->cutoff);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)op->limit);
    while (op->n_envs < op->limit && (op->n_envs == 0 || bytes < op->max_bytes) &&
           (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_env *e = &op->envs[op->n_envs];
        size_t n = (size_t)sqlite3_column_bytes(st, 3);

        if (sqlite3_column_bytes(st, 1) != 16 || sqlite3_column_bytes(st, 2) != 16 || n == 0)
            continue;
        if ((e->sealed = malloc(n)) == NULL) {
            rc = SQLITE_NOMEM;
            break;
        }
        e->seq = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(e->envelope_id, sqlite3_column_blob(st, 1), 16);
        memcpy(e->conversation_id, sqlite3_column_blob(st, 2), 16);
        memcpy(e->recipient, op->env.recipient, 32);
        memcpy(e->sealed, sqlite3_column_blob(st, 3), n);
        e->sealed_len = n;
        e->stored_at = (uint64_t)sqlite3_column_int64(st, 4);
        bytes += n;
        op->n_envs++;
    }
    if (op->n_envs == op->limit || (op->n_envs > 0 && bytes >= op->max_bytes))
        rc = SQLITE_DONE;
    return read_done(s, st, rc);
}

static int prekey_count(struct sqlite_store *s, const uint8_t owner[32], uint64_t *count)
{
    sqlite3_stmt *st = s->w[W_PREKEY_COUNT];
    int rc;

    sqlite3_bind_blob(st, 1, owner, 32, SQLITE_STATIC);
    rc = sqlite3_step(st);
    *count = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    return read_done(s, st, rc);
}

/* Runs a statement that takes the owner (1) and writes; 0 or -1. */
static int owner_write(struct sqlite_store *s, int which, const uint8_t owner[32])
{
    sqlite3_stmt *st = s->w[which];

    sqlite3_bind_blob(st, 1, owner, 32, SQLITE_STATIC);
    return step_done(s, st, sqlite3_step(st));
}

static int prekey_store(struct sqlite_store *s, const uint8_t owner[32],
                        const struct store_prekey *k)
{
    sqlite3_stmt *st = s->w[k->medium ? W_MEDIUM_SET : W_PREKEY_ADD];

    sqlite3_bind_blob(st, 1, owner, 32, SQLITE_STATIC);
    if (k->medium) {
        sqlite3_bind_int64(st, 2, (sqlite3_int64)k->created);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)k->expires);
        sqlite3_bind_blob(st, 4, k->blob, (int)k->len, SQLITE_STATIC);
    } else {
        sqlite3_bind_blob(st, 2, k->blob, (int)k->len, SQLITE_STATIC);
    }
    return step_done(s, st, sqlite3_step(st));
}

/*
 * A publication, whole or not at all: past the limit of one-time prekeys
 * nothing changes; a replacing one first removes everything the owner
 * published before (its device no longer holds those secrets).
 */
static int prekey_publish(struct sqlite_store *s, struct store_op *op)
{
    uint64_t have = 0, one_time = 0;

    for (size_t i = 0; i < op->n_prekeys; i++)
        one_time += !op->prekeys[i].medium;
    if (!op->replace && prekey_count(s, op->env.recipient, &have) != 0)
        return -1;
    if (have + one_time > op->limit) {
        op->refused = true;
        return 0;
    }
    if (op->replace && (owner_write(s, W_PREKEY_CLEAR, op->env.recipient) != 0 ||
                        owner_write(s, W_MEDIUM_CLEAR, op->env.recipient) != 0))
        return -1;
    for (size_t i = 0; i < op->n_prekeys; i++)
        if (prekey_store(s, op->env.recipient, &op->prekeys[i]) != 0)
            return -1;
    return 0;
}

/* Copies column col of st's row into op's blob. */
static int take_blob(struct store_op *op, sqlite3_stmt *st, int col)
{
    size_t n = (size_t)sqlite3_column_bytes(st, col);

    if (n == 0 || (op->blob = malloc(n)) == NULL)
        return -1;
    memcpy(op->blob, sqlite3_column_blob(st, col), n);
    op->blob_len = n;
    return 0;
}

/* One of the owner's one-time prekeys, removed in this transaction (so handed out once). */
static int take_one_time(struct sqlite_store *s, struct store_op *op)
{
    sqlite3_stmt *st = s->w[W_PREKEY_FIRST];
    int64_t id = 0;
    int rc;

    sqlite3_bind_blob(st, 1, op->env.recipient, 32, SQLITE_STATIC);
    rc = sqlite3_step(st);
    op->one_time_left = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW && op->allow_one_time && take_blob(op, st, 1) == 0) {
        id = sqlite3_column_int64(st, 0);
        op->one_time = true;
    }
    if (read_done(s, st, rc) != 0)
        return -1;
    if (!op->one_time)
        return 0;
    st = s->w[W_PREKEY_DEL];
    sqlite3_bind_int64(st, 1, id);
    return step_done(s, st, sqlite3_step(st));
}

static int prekey_take(struct sqlite_store *s, struct store_op *op)
{
    sqlite3_stmt *st;
    int rc;

    if (take_one_time(s, op) != 0)
        return -1;
    if (op->one_time)
        return 0;
    st = s->w[W_MEDIUM_GET];
    sqlite3_bind_blob(st, 1, op->env.recipient, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->cutoff);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        take_blob(op, st, 0);
    return read_done(s, st, rc);
}

/* ------------------------------------------------------------------ */
/* Brand orders */

/* Orders that expired before cutoff go, with their receipts. */
static int orders_expire(struct sqlite_store *s, uint64_t cutoff)
{
    sqlite3_stmt *st = s->w[W_ORDER_EXPIRE_RECEIPTS];

    sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
    if (step_done(s, st, sqlite3_step(st)) != 0)
        return -1;
    st = s->w[W_ORDER_EXPIRE];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
    return step_done(s, st, sqlite3_step(st));
}

/* Steps st (its parameters bound), appending column 0 of each row to op->envs, at most limit. */
static int collect_blobs(struct sqlite_store *s, sqlite3_stmt *st, struct store_op *op)
{
    int rc = SQLITE_DONE;

    op->envs = calloc(op->limit > 0 ? op->limit : 1, sizeof(*op->envs));
    if (op->envs == NULL) {
        note_error(s, SQLITE_NOMEM);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return -1;
    }
    while (op->n_envs < op->limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_env *e = &op->envs[op->n_envs];
        size_t n = (size_t)sqlite3_column_bytes(st, 0);

        if (n == 0)
            continue;
        if ((e->sealed = malloc(n)) == NULL) {
            rc = SQLITE_NOMEM;
            break;
        }
        memcpy(e->sealed, sqlite3_column_blob(st, 0), n);
        e->sealed_len = n;
        memcpy(e->envelope_id, op->env.envelope_id, 16);
        op->n_envs++;
    }
    return read_done(s, st, rc);
}

static int orders_pending(struct sqlite_store *s, struct store_op *op)
{
    sqlite3_stmt *st = s->w[W_ORDER_PENDING];

    sqlite3_bind_text(st, 1, op->brand_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->cutoff);
    sqlite3_bind_blob(st, 3, op->key, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)op->limit);
    return collect_blobs(s, st, op);
}

/* Whether the brand holds the order env.envelope_id: 1, 0, or -1 on failure. */
static int order_held(struct sqlite_store *s, const struct store_op *op)
{
    sqlite3_stmt *st = s->w[W_ORDER_FIND];
    int rc;

    sqlite3_bind_blob(st, 1, op->env.envelope_id, 16, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, op->brand_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (read_done(s, st, rc) != 0)
        return -1;
    return rc == SQLITE_ROW;
}

static int receipt_put(struct sqlite_store *s, struct store_op *op)
{
    sqlite3_stmt *st = s->w[W_RECEIPT_PUT];
    int held = order_held(s, op);

    if (held <= 0) {
        op->refused = held == 0;
        return held;
    }
    sqlite3_bind_blob(st, 1, op->env.envelope_id, 16, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, op->key, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, op->blob, (int)op->blob_len, SQLITE_STATIC);
    return step_done(s, st, sqlite3_step(st));
}

static int order_status(struct sqlite_store *s, struct store_op *op)
{
    sqlite3_stmt *st = s->w[W_RECEIPT_COUNT];
    int held = order_held(s, op), rc;

    if (held <= 0) {
        op->refused = held == 0;
        return held;
    }
    sqlite3_bind_blob(st, 1, op->env.envelope_id, 16, SQLITE_STATIC);
    rc = sqlite3_step(st);
    op->count = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    if (read_done(s, st, rc) != 0)
        return -1;
    st = s->w[W_RECEIPT_LIST];
    sqlite3_bind_blob(st, 1, op->env.envelope_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->limit);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)op->unit);
    return collect_blobs(s, st, op);
}

static int run_op(struct sqlite_store *s, struct store_op *op)
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
        return delete_one(s, op);
    case STORE_EXPIRE:
        if (orders_expire(s, op->cutoff) != 0)
            return -1;
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
    case STORE_FETCH:
        return fetch(s, op);
    case STORE_PREKEY_PUBLISH:
        return prekey_publish(s, op);
    case STORE_PREKEY_TAKE:
        return prekey_take(s, op);
    case STORE_PREKEY_COUNT:
        return prekey_count(s, op->env.recipient, &op->count);
    case STORE_ORDER_PUT:
        st = s->w[W_ORDER_PUT];
        sqlite3_bind_blob(st, 1, op->env.envelope_id, 16, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, op->brand_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)op->cutoff);
        sqlite3_bind_blob(st, 4, op->blob, (int)op->blob_len, SQLITE_STATIC);
        rc = sqlite3_step(st);
        op->inserted = rc == SQLITE_DONE && sqlite3_changes(s->wdb) == 1;
        break;
    case STORE_ORDER_PENDING:
        return orders_pending(s, op);
    case STORE_RECEIPT_PUT:
        return receipt_put(s, op);
    case STORE_ORDER_STATUS:
        return order_status(s, op);
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
    case STORE_BUDGET_READ:
    case STORE_BUDGET_WRITE:
        return 0; /* one relay keeps its senders' budgets in memory: none here */
    case STORE_PROBE: {
        uint8_t when[8];
        put_be64(when, op->cutoff);
        return meta_set(s, "store_probe", when, sizeof(when));
    }
    default:
        return -1;
    }
    return step_done(s, st, rc);
}

/*
 * The op's audit entry, a line of the batch's outbox row. Without memory
 * for it the batch fails: no change is committed without its entry.
 */
static int record_op(struct sqlite_store *s, struct store_batch *b, struct store_op *op)
{
    char body[512], *grown;
    size_t n = store_audit_body(&s->base, op, body, sizeof(body));

    op->audit_row = 0;
    if (n == 0)
        return 0;
    grown = parley__grow(b->audit, &b->audit_cap, b->audit_len + n + 1, 1);
    if (grown == NULL) {
        note_error(s, SQLITE_NOMEM);
        return -1;
    }
    b->audit = grown;
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
static int record_batch(struct sqlite_store *s, struct store_batch *b)
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

static bool is_read(const struct store_op *op)
{
    return op->kind == STORE_FETCH || op->kind == STORE_PREKEY_COUNT ||
           op->kind == STORE_PREKEY_TAKE || op->kind == STORE_ORDER_PENDING ||
           op->kind == STORE_ORDER_STATUS;
}

/*
 * After a batch failed and was rolled back: nothing it did counts. Its
 * reads are answered again from what is committed, outside any
 * transaction, so recipients still get what was stored while the disk
 * refuses writes; a prekey take then hands out only the medium-term
 * prekey, since no one-time prekey could be removed.
 */
static void failed_op(struct sqlite_store *s, struct store_op *op)
{
    store_op_clear_results(op);
    if (op->kind == STORE_PREKEY_TAKE)
        op->allow_one_time = false;
    if (is_read(op))
        op->ok = run_op(s, op) == 0;
}

void sqlite_commit_batch(struct sqlite_store *s, struct store_batch *b)
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
    for (size_t i = 0; i < b->n; i++)
        b->ops[i].ok = ok;
    if (!ok) {
        sqlite_exec(s->wdb, "ROLLBACK");
        for (size_t i = 0; i < b->n; i++)
            failed_op(s, &b->ops[i]);
    }
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
            sqlite_exec(s->wdb, "PRAGMA wal_checkpoint(TRUNCATE)");
            break;
        }
}

