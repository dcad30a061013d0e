/*
 * Entries about store changes travel through the store's outbox (see
 * audit_store.h): an entry is committed with the change it records, so
 * neither a crash nor a log file that refuses writes can separate the
 * two. Rows are chained into the log in id order, each exactly once: at
 * start, the rows after the position the store last kept are matched,
 * in order, with the store entries the log holds after that position's
 * seq, and only the rest are chained.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "audit_store.h"
#include "log.h"
#include "relay.h"

/* Rows read per query. */
#define PUMP_ROWS 256

static int brand_index(const struct relay *r, const char *brand_id)
{
    for (size_t i = 0; i < r->cfg.n_brands; i++)
        if (strcmp(r->cfg.brands[i].id, brand_id) == 0)
            return (int)i;
    return -1;
}

/* Runs on the writer thread: reads the op, the audit's key and the (fixed) configuration only. */
size_t audit_store_body(void *arg, const struct store_op *op, char *out, size_t cap)
{
    const struct relay *r = arg;

    switch (op->kind) {
    case STORE_INSERT:
        return op->inserted ? audit_body_stored(r->audit, out, cap, op->env.envelope_id,
                                                op->reply_to, op->env.recipient, op->env.sealed_len)
                            : 0;
    case STORE_DELETE:
        return op->deleted > 0 ? audit_body_acked(r->audit, out, cap, op->env.envelope_id) : 0;
    case STORE_EXPIRE:
        return op->deleted > 0 ? audit_body_expired(r->audit, out, cap, op->deleted, op->freed) : 0;
    case STORE_ERASE_STEP:
        /* The step that ends the job (checkpoint, once run) records all it deleted. */
        return op->checkpoint
                   ? audit_body_erased(r->audit, out, cap, op->env.recipient,
                                       op->done_count + op->deleted, op->done_bytes + op->freed)
                   : 0;
    case STORE_DIRECTORY:
        return audit_body_directory(r->audit, out, cap, op->conn_serial,
                                    brand_index(r, op->brand_id), op->version);
    case STORE_ORDER_PUT:
        return op->inserted ? audit_body_order(r->audit, out, cap, op->conn_serial,
                                               brand_index(r, op->brand_id), op->env.envelope_id,
                                               op->unit == 0 ? "erase" : "export", op->env.recipient)
                            : 0;
    default:
        return 0;
    }
}

struct pump {
    struct relay *r;
    uint64_t chained;
    bool stopped;
};

/* Offers each entry (line) of an outbox row to the log, in order. */
static int export_row(void *arg, uint64_t row, const char *text, size_t len)
{
    struct pump *p = arg;
    uint32_t idx = 0;

    for (const char *line = text, *end = text + len; line < end && !p->stopped; idx++) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl != NULL ? (size_t)(nl - line) : (size_t)(end - line);
        struct audit_pos before = audit_exported(p->r->audit);
        int rc = audit_export(p->r->audit, row, idx, line, n, false);

        p->stopped = rc == 1; /* the log has too much waiting */
        p->chained += rc == 0 && audit_exported(p->r->audit).seq != before.seq;
        line += n + 1;
    }
    return p->stopped;
}

/* Chains up to max_rows rows of waiting entries (adding to *chained). True when none is left. */
static bool pump(struct relay *r, size_t max_rows, uint64_t *chained)
{
    struct pump p = {r, 0, false};
    bool all = false;

    for (size_t done = 0; done < max_rows && !p.stopped; done += PUMP_ROWS) {
        struct audit_pos at = audit_exported(r->audit);
        /* The last row chained may have more: read from it, or from the first row after none. */
        int n = store_outbox_read(r->store, at.row != 0 ? at.row : 1, PUMP_ROWS, export_row, &p);

        if (n < 0) {
            log_event(LOG_ERROR, "audit_outbox_unreadable", NULL);
            break;
        }
        if (n < PUMP_ROWS && !p.stopped) {
            all = true;
            break;
        }
    }
    if (chained != NULL)
        *chained += p.chained;
    return all;
}

void audit_store_pump(struct relay *r)
{
    if (r->audit != NULL && r->outbox_more)
        r->outbox_more = !pump(r, 16 * PUMP_ROWS, NULL);
}

/* Chains every waiting entry, flushing the log as it goes, while it makes progress. */
static uint64_t pump_all(struct relay *r)
{
    uint64_t chained = 0;

    for (;;) {
        struct audit_pos before = audit_exported(r->audit), after;
        bool all = pump(r, 16 * PUMP_ROWS, &chained);

        audit_flush(r->audit);
        after = audit_exported(r->audit);
        if (all || (after.row == before.row && after.idx == before.idx)) {
            r->outbox_more = !all;
            return chained;
        }
    }
}

void audit_store_done(struct relay *r, const struct store_batch *b)
{
    uint64_t row = 0;
    uint32_t idx = 0;

    if (r->audit == NULL || b->err != 0)
        return;
    if (b->wrote)
        audit_retry_now(r->audit); /* the disk took this write: the log file may too */
    for (size_t i = 0; i < b->n; i++) {
        const struct store_op *op = &b->ops[i];

        if (op->kind == STORE_AUDIT_DONE && op->cutoff > r->outbox_done)
            r->outbox_done = op->cutoff;
        if (op->audit_row == 0)
            continue;
        if (op->audit_row != row) /* a batch's entries can take several rows */
            idx = 0;
        row = op->audit_row;
        /* Chained from the batch, unless entries wait before it or the log has too much waiting. */
        if (r->outbox_more || audit_export(r->audit, op->audit_row, idx, b->audit + op->audit_off,
                                           op->audit_len, true) == 1)
            r->outbox_more = true;
        idx++;
    }
    audit_store_pump(r);
}

/* Rows the synced log holds go from the outbox with the next batch. False if none. */
static bool outbox_done(struct relay *r)
{
    struct audit_pos at = audit_synced(r->audit);
    struct store_op *op;

    if (at.row <= r->outbox_done || (op = store_batch_add(&r->pending, STORE_AUDIT_DONE)) == NULL)
        return false;
    op->cutoff = at.row;
    op->audit_off = at.idx;
    op->version = at.seq;
    return true;
}

void audit_store_tick(struct relay *r)
{
    if (r->audit != NULL && !r->stopping) /* a stop empties the outbox itself */
        outbox_done(r);
}

/* Walks the outbox's entries after a position, counting down those the log holds. */
struct skip {
    struct audit_pos at; /* the last entry passed */
    uint64_t left;       /* entries still to pass */
    bool any;            /* an entry after the mark exists */
};

static int skip_row(void *arg, uint64_t row, const char *text, size_t len)
{
    struct skip *k = arg;
    uint32_t idx = 0;

    for (const char *line = text, *end = text + len; line < end; idx++) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        line = nl != NULL ? nl + 1 : end;
        if (row == k->at.row && idx <= k->at.idx && k->at.row != 0)
            continue; /* at or before the mark */
        k->any = true;
        if (k->left == 0)
            return 1;
        k->at.row = row;
        k->at.idx = idx;
        k->left--;
    }
    return 0;
}

int audit_store_start(struct relay *r, char *err, size_t cap)
{
    struct audit_pos mark = {0, 0, 0};
    uint64_t in_log = 0, last_seq = 0, recovered;
    struct skip k;

    store_set_audit(r->store, audit_store_body, r);
    if (store_shared(r->store)) {
        uint8_t node[16];

        if (audit_node_id(r->audit, node, err, cap) != 0 ||
            store_outbox_open(r->store, node, err, cap) != 0)
            return -1;
    }
    if (store_outbox_mark(r->store, &mark.row, &mark.idx, &mark.seq) != 0) {
        snprintf(err, cap, "cannot read the audit outbox position");
        return -1;
    }
    audit_set_exported(r->audit, mark);
    r->outbox_done = mark.row;
    /* After a clean stop nothing follows the mark: nothing to match, nothing to read back. */
    k = (struct skip){mark, 0, false};
    if (store_outbox_read(r->store, mark.row != 0 ? mark.row : 1, 2, skip_row, &k) < 0) {
        snprintf(err, cap, "cannot read the audit outbox");
        return -1;
    }
    if (!k.any)
        return 0;
    /* Entries after the mark that the log already holds: as many as its store entries after its
     * seq. */
    if (audit_count_store_entries(r->audit, mark.seq, &in_log, &last_seq) != 0) {
        snprintf(err, cap, "cannot read the audit log back");
        return -1;
    }
    if (in_log > 0) {
        k = (struct skip){mark, in_log, false};
        if (store_outbox_read(r->store, mark.row != 0 ? mark.row : 1, SIZE_MAX, skip_row, &k) < 0) {
            snprintf(err, cap, "cannot read the audit outbox");
            return -1;
        }
        if (k.left > 0)
            log_event(LOG_WARN, "audit_outbox_short", "\"in_log\":%" PRIu64 ",\"missing\":%" PRIu64,
                      in_log, k.left);
        k.at.seq = last_seq;
        audit_set_exported(r->audit, k.at);
    }
    /* The rest were committed but never reached the log: chain them now. */
    recovered = pump_all(r);
    if (recovered > 0)
        log_event(LOG_WARN, "audit_recovered",
                  "\"entries\":%" PRIu64 ",\"why\":\"committed before the relay stopped, not in "
                  "the log\"",
                  recovered);
    return 0;
}

bool audit_store_stop(struct relay *r)
{
    if (r->audit == NULL)
        return false;
    pump_all(r);
    audit_sync_now(r->audit);
    return outbox_done(r);
}
