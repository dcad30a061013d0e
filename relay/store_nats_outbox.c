/*
 * The NATS store's audit outbox (docs/cluster.md §9, "Audit"): the
 * entries recording a batch's changes, between the store and this node's
 * audit log, durable in JetStream as the sqlite store's outbox rows are
 * in its database.
 *
 * Each batch's entries are published, before its results go back to the
 * loop, on this node's own subject au.<node> of the audit stream (one
 * message per row, the row's id its stream sequence); the loop chains
 * them into the log from a copy kept in memory. Once the synced log holds
 * them (STORE_AUDIT_DONE), the position is written to the meta bucket
 * (audit.<node>) and the subject purged up to it. At start the node reads
 * the position and what is left on its subject, and the relay chains
 * what its log lacks, as after a crash with sqlite. The node's id comes
 * from beside its audit log (audit_node_id), so it survives restarts.
 *
 * The entries hold what the log holds: pseudonyms (keyed hashes), counts,
 * sizes, brand indexes and versions; nothing the envelope stream's own
 * subjects do not already tell more plainly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* parley__grow */
#include "store_nats.h"

#define WAIT_MS 2000
#define MARK_LEN (8 + 4 + 8)

void nats_outbox_free(struct nats_store *s)
{
    for (size_t i = 0; i < s->n_rows; i++)
        free(s->rows[i].text);
    free(s->rows);
}

/* The op's audit entry, a line of the batch's audit text; false without memory for it. */
static bool record_op(struct nats_store *s, struct store_batch *b, struct store_op *op)
{
    char body[512];
    size_t n = store_audit_body(&s->base, op, body, sizeof(body));

    op->audit_row = 0;
    if (n == 0)
        return true;
    {
        char *grown = parley__grow(b->audit, &b->audit_cap, b->audit_len + n + 2, 1);

        if (grown == NULL)
            return false;
        b->audit = grown;
    }
    if (b->audit_len > 0)
        b->audit[b->audit_len++] = '\n';
    memcpy(b->audit + b->audit_len, body, n);
    op->audit_row = 1;
    op->audit_off = (uint32_t)b->audit_len;
    op->audit_len = (uint32_t)n;
    b->audit_len += n;
    b->audit[b->audit_len] = '\0';
    return true;
}

/*
 * Rows a failed batch may have stored after all (a publication whose
 * answer was lost) are taken off the subject before the next row, so that
 * the subject holds exactly the rows the loop was given. 0, or -1.
 */
static int drop_unanswered(struct nats_store *s)
{
    for (int i = 0; s->au_unsure && i < 64; i++) {
        natsMsg *last = NULL;
        jsErrCode code = 0;
        natsStatus st = js_GetLastMsg(&last, s->js, s->au_stream, s->au_subject, NULL, &code);
        uint64_t seq = st == NATS_OK ? natsMsg_GetSequence(last) : 0;

        natsMsg_Destroy(last);
        if (st != NATS_OK && st != NATS_NOT_FOUND && code != 10037) {
            snprintf(s->failure, sizeof(s->failure), "audit outbox: %s", nats_GetLastError(NULL));
            return -1;
        }
        if (seq <= s->au_last) {
            s->au_unsure = false;
        } else if (js_DeleteMsg(s->js, s->au_stream, seq, NULL, &code) != NATS_OK &&
                   code != 10057) {
            snprintf(s->failure, sizeof(s->failure), "audit outbox: %s", nats_GetLastError(NULL));
            return -1;
        }
    }
    return s->au_unsure ? -1 : 0;
}

/* Publishes text as the next row: its id (the stream's sequence), or 0 (s->failure). */
static uint64_t publish_row(struct nats_store *s, const char *text, size_t len)
{
    jsPubAck *pa = NULL;
    jsPubOptions po;
    uint64_t id = 0;

    if (drop_unanswered(s) != 0)
        return 0;
    jsPubOptions_Init(&po);
    po.MaxWait = WAIT_MS;
    if (js_Publish(&pa, s->js, s->au_subject, text, (int)len, &po, NULL) == NATS_OK)
        id = s->au_last = pa->Sequence;
    else
        snprintf(s->failure, sizeof(s->failure), "audit outbox: %s", nats_GetLastError(NULL));
    jsPubAck_Destroy(pa);
    s->au_unsure = id == 0;
    return id;
}

/* Keeps a copy of the row for the loop (nats_outbox_read). */
static bool keep_row(struct nats_store *s, uint64_t id, const char *text, size_t len)
{
    struct nats_outbox_row *grown;
    char *copy = malloc(len + 1);

    if (copy == NULL)
        return false;
    memcpy(copy, text, len);
    copy[len] = '\0';
    pthread_mutex_lock(&s->lock);
    grown = parley__grow(s->rows, &s->cap_rows, s->n_rows + 1, sizeof(*grown));
    if (grown != NULL) {
        s->rows = grown;
        s->rows[s->n_rows++] = (struct nats_outbox_row){id, copy, len};
    }
    pthread_mutex_unlock(&s->lock);
    if (grown == NULL)
        free(copy);
    return grown != NULL;
}

/*
 * The batch's text as rows of at most max bytes, cut between lines; each
 * op's entry then names its row (its body stays where it is in b->audit).
 */
static bool record_rows(struct nats_store *s, struct store_batch *b, size_t max)
{
    size_t i = 0, kept;
    uint64_t last = s->au_last;

    pthread_mutex_lock(&s->lock);
    kept = s->n_rows;
    pthread_mutex_unlock(&s->lock);

    for (size_t from = 0; from < b->audit_len;) {
        size_t to = from, first = i;
        uint64_t id;

        for (; i < b->n; i++) {
            const struct store_op *op = &b->ops[i];

            if (op->audit_row == 0)
                continue;
            if (to > from && op->audit_off + op->audit_len - from > max)
                break;
            to = op->audit_off + op->audit_len;
        }
        id = s->au_ready ? publish_row(s, b->audit + from, to - from) : s->next_row++;
        if (id != 0 && !keep_row(s, id, b->audit + from, to - from)) {
            snprintf(s->failure, sizeof(s->failure), "out of memory");
            id = 0;
        }
        if (id == 0) {
            /* The batch fails: none of its rows is the loop's, those published go first. */
            pthread_mutex_lock(&s->lock);
            while (s->n_rows > kept)
                free(s->rows[--s->n_rows].text);
            pthread_mutex_unlock(&s->lock);
            s->au_unsure = s->au_ready;
            s->au_last = last;
            return false;
        }
        for (size_t k = first; k < i; k++)
            if (b->ops[k].audit_row != 0)
                b->ops[k].audit_row = id;
        from = to + 1;
    }
    return true;
}

bool nats_outbox_record(struct nats_store *s, struct store_batch *b)
{
    int64_t max = natsConnection_GetMaxPayload(s->nc);

    for (size_t i = 0; i < b->n; i++) {
        if (!record_op(s, b, &b->ops[i])) {
            snprintf(s->failure, sizeof(s->failure), "out of memory");
            return false;
        }
    }
    /* A row leaves room for the message's own headers within the servers' max_payload. */
    return record_rows(s, b, max > 8192 ? (size_t)max - 4096 : 4096);
}

/*
 * Rows before op->cutoff are in the synced log: the position is kept in
 * the meta bucket, then the subject is purged up to it and the copies
 * dropped. Housekeeping: a step that fails is done by the next one.
 */
void nats_outbox_done(struct nats_store *s, const struct store_op *op)
{
    size_t keep = 0;

    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_rows; i++) {
        if (s->rows[i].id < op->cutoff)
            free(s->rows[i].text);
        else
            s->rows[keep++] = s->rows[i];
    }
    s->n_rows = keep;
    s->mark_row = op->cutoff;
    s->mark_idx = op->audit_off;
    s->mark_seq = op->version;
    pthread_mutex_unlock(&s->lock);
    if (s->au_ready) {
        uint8_t mark[MARK_LEN];
        jsOptions o;

        nats_put_be64(mark, op->cutoff);
        nats_put_be64(mark + 8, op->version);
        for (int i = 0; i < 4; i++)
            mark[16 + i] = (uint8_t)(op->audit_off >> (24 - 8 * i));
        jsOptions_Init(&o);
        o.Stream.Purge.Subject = s->au_subject;
        o.Stream.Purge.Sequence = op->cutoff;
        if (kvStore_Put(NULL, s->meta, s->au_key, mark, sizeof(mark)) == NATS_OK)
            js_PurgeStream(s->js, s->au_stream, &o, NULL);
    }
}

/* The position kept last (zeros for none): 0, or -1 when the bucket does not answer. */
static int read_mark(struct nats_store *s)
{
    kvEntry *e = NULL;
    natsStatus st = kvStore_Get(&e, s->meta, s->au_key);
    int rc = st == NATS_OK || st == NATS_NOT_FOUND ? 0 : -1;

    if (st == NATS_OK && kvEntry_ValueLen(e) == MARK_LEN) {
        const uint8_t *v = kvEntry_Value(e);

        s->mark_row = nats_get_be64(v);
        s->mark_seq = nats_get_be64(v + 8);
        s->mark_idx = (uint32_t)v[16] << 24 | (uint32_t)v[17] << 16 | (uint32_t)v[18] << 8 | v[19];
    }
    kvEntry_Destroy(e);
    return rc;
}

/* The rows left on this node's subject from the kept position on, into memory. 0, or -1. */
static int read_rows(struct nats_store *s)
{
    uint64_t at = s->mark_row > 0 ? s->mark_row - 1 : 0;

    for (;;) {
        uint8_t *text = NULL;
        size_t len = 0;
        int rc = nats_next(s, s->au_stream, s->au_subject, at, &text, &len, &at);

        if (rc <= 0)
            return rc;
        if (!keep_row(s, at, (const char *)text, len)) {
            free(text);
            return -1;
        }
        free(text);
        s->au_last = at;
    }
}

int nats_outbox_open(struct store *base, const uint8_t node[16], char *err, size_t cap)
{
    struct nats_store *s = (struct nats_store *)base;
    char hex[33];
    jsStreamInfo *si = NULL;

    nats_hex(node, 16, hex);
    snprintf(s->au_subject, sizeof(s->au_subject), "%s.%s", s->au_prefix, hex);
    snprintf(s->au_key, sizeof(s->au_key), "audit.%s", hex);
    if (read_mark(s) != 0 || js_GetStreamInfo(&si, s->js, s->au_stream, NULL, NULL) != NATS_OK) {
        snprintf(err, cap, "audit outbox: %s", nats_GetLastError(NULL));
        return -1;
    }
    /* A position past the stream's end is of a stream since deleted: nothing of it is left. */
    if (s->mark_row > si->State.LastSeq + 1)
        s->mark_row = s->mark_idx = s->mark_seq = 0;
    jsStreamInfo_Destroy(si);
    if (read_rows(s) != 0) {
        snprintf(err, cap, "audit outbox: %s", s->failure);
        return -1;
    }
    s->au_ready = true;
    return 0;
}

int nats_outbox_read(struct store *base, uint64_t from, size_t limit, store_outbox_fn fn,
                     void *arg)
{
    struct nats_store *s = (struct nats_store *)base;
    int n = 0;

    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_rows && (size_t)n < limit; i++) {
        if (s->rows[i].id < from)
            continue;
        n++;
        if (fn(arg, s->rows[i].id, s->rows[i].text, s->rows[i].len) != 0)
            break;
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

int nats_outbox_mark(struct store *base, uint64_t *row, uint32_t *idx, uint64_t *seq)
{
    struct nats_store *s = (struct nats_store *)base;

    pthread_mutex_lock(&s->lock);
    *row = s->mark_row;
    *idx = s->mark_idx;
    *seq = s->mark_seq;
    pthread_mutex_unlock(&s->lock);
    return 0;
}
