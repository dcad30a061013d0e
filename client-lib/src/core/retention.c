/*
 * The device's retention: history older than the retention period,
 * counted from when this device recorded each message (never from the
 * sender's clock, which this device does not control), is deleted with
 * the ids of its envelopes; a conversation with nothing left inside the
 * period goes whole (its record: consent receipt, the other party's
 * keys and certificate, sequence numbers, receipts). A conversation kept
 * on an erasure request goes whole when its legal hold runs out.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define DAY_MS (24ull * 3600 * 1000)
#define SEEN_KEEP_MS (60 * DAY_MS) /* relays keep envelopes 30 days by default */

struct conv_age {
    uint8_t id[16];
    uint32_t erasure;            /* as ConversationState.erasure */
    uint64_t erasure_ms;
    uint64_t newest;             /* the newest history record, by this device's clock */
    bool purge;                  /* the whole conversation goes */
};

struct sweep {
    uint64_t now, cutoff, hold_ms;
    uint64_t seen_cutoff;
    struct conv_age *convs;
    size_t n_convs, cap_convs;
    struct hist_row {
        uint8_t key[24];
        uint8_t envelope_id[16];
        bool has_envelope;
        uint64_t received;
    } *rows;
    size_t n_rows, cap_rows;
    uint8_t (*seen)[16];         /* seen ids past the relays' keeping */
    size_t n_seen, cap_seen;
};

/* The shorter of two retention periods (0: not set). */
static uint64_t shorter(uint64_t a, uint64_t b)
{
    return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

uint64_t retention_ms(const struct parley__core *c)
{
    uint64_t brand = c->dir != NULL ? parley_directory_history_days(c->dir) * DAY_MS : 0;
    uint64_t r = shorter(c->history_retention_ms, brand);

    return r != 0 ? r : PARLEY_HISTORY_DEFAULT_DAYS * DAY_MS;
}

/* How long a conversation kept on erasure stays after the request. */
static uint64_t legal_hold_ms(const struct parley__core *c, uint64_t retention)
{
    uint32_t days = c->dir != NULL ? parley_directory_legal_hold_days(c->dir) : 0;

    return days != 0 ? days * DAY_MS : retention;
}

static struct conv_age *conv_of(struct sweep *w, const uint8_t id[16])
{
    for (size_t i = 0; i < w->n_convs; i++)
        if (memcmp(w->convs[i].id, id, 16) == 0)
            return &w->convs[i];
    return NULL;
}

static int collect_conv(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    struct sweep *w = arg;
    Parley__ConversationState *s;
    struct conv_age *grown;

    if (key_len != 16)
        return 0;
    s = parley__conversation_state__unpack(&parley__wiping_allocator, val_len, val);
    if (s == NULL)
        return 0; /* unreadable: left for the host to see, never guessed at */
    grown = parley__grow(w->convs, &w->cap_convs, w->n_convs + 1, sizeof(*grown));
    if (grown != NULL) {
        w->convs = grown;
        memset(&w->convs[w->n_convs], 0, sizeof(w->convs[0]));
        memcpy(w->convs[w->n_convs].id, key, 16);
        w->convs[w->n_convs].erasure = s->erasure;
        w->convs[w->n_convs].erasure_ms = s->erasure_ms;
        w->n_convs++;
    }
    parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
    return grown == NULL ? -1 : 0;
}

static int collect_history(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                           size_t val_len)
{
    struct sweep *w = arg;
    Parley__HistoryRecord *r;
    struct hist_row *grown, *row;
    struct conv_age *cv;

    if (key_len != 24)
        return 0;
    r = parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    if (r == NULL)
        return 0;
    grown = parley__grow(w->rows, &w->cap_rows, w->n_rows + 1, sizeof(*grown));
    if (grown != NULL) {
        w->rows = grown;
        row = &w->rows[w->n_rows++];
        memset(row, 0, sizeof(*row));
        memcpy(row->key, key, 24);
        row->has_envelope = parley__len_is(r->envelope_id, 16);
        if (row->has_envelope)
            memcpy(row->envelope_id, r->envelope_id.data, 16);
        /* Stores written before received_ms existed: the time the record carries. */
        row->received = r->received_ms != 0 ? r->received_ms : r->time_ms;
        cv = conv_of(w, key);
        if (cv != NULL && row->received > cv->newest)
            cv->newest = row->received;
    }
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    return grown == NULL ? -1 : 0;
}

static int collect_seen(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    struct sweep *w = arg;
    uint8_t(*grown)[16];
    uint64_t when = 0;

    if (key_len != 16 || val_len != 8)
        return 0;
    for (int i = 0; i < 8; i++)
        when = (when << 8) | val[i];
    if (when >= w->seen_cutoff)
        return 0;
    grown = parley__grow(w->seen, &w->cap_seen, w->n_seen + 1, sizeof(*grown));
    if (grown == NULL)
        return -1;
    w->seen = grown;
    memcpy(w->seen[w->n_seen++], key, 16);
    return 0;
}

/*
 * Which conversations go whole: one kept on erasure once its hold has
 * run out (counted from the request, else from its newest message), any
 * other once its newest message (or, with none left, its erasure) is
 * older than the cutoff.
 */
static void decide(struct sweep *w)
{
    for (size_t i = 0; i < w->n_convs; i++) {
        struct conv_age *cv = &w->convs[i];
        uint64_t since = cv->erasure_ms > cv->newest ? cv->erasure_ms : cv->newest;

        if (cv->erasure == 2)
            cv->purge = since != 0 && w->now >= since && w->now - since >= w->hold_ms;
        else
            cv->purge = since != 0 && since < w->cutoff;
    }
}

/* Deletes a row, in the sweep's transaction (begun by the first deletion). */
static parley_err del(struct parley__core *c, bool *begun, const char *table, const uint8_t *key,
                      size_t len)
{
    if (!*begun) {
        parley_err err = parley__vault_begin(c->vault);

        if (err != PARLEY_OK)
            return err;
        *begun = true;
    }
    return parley__vault_del(c->vault, table, key, len);
}

/*
 * Deletes, in one transaction, what decide() and the cutoffs leave out;
 * *history tells whether any history or conversation went.
 */
static parley_err purge(struct parley__core *c, struct sweep *w, bool *history)
{
    bool begun = false;
    parley_err err = PARLEY_OK;

    for (size_t i = 0; err == PARLEY_OK && i < w->n_rows; i++) {
        const struct hist_row *r = &w->rows[i];
        const struct conv_age *cv = conv_of(w, r->key);
        bool held = cv != NULL && cv->erasure == 2;

        if ((cv != NULL && cv->purge) || (!held && r->received < w->cutoff)) {
            err = del(c, &begun, "history", r->key, 24);
            if (err == PARLEY_OK && r->has_envelope)
                err = del(c, &begun, "seen", r->envelope_id, 16);
            *history = true;
        }
    }
    for (size_t i = 0; err == PARLEY_OK && i < w->n_convs; i++)
        if (w->convs[i].purge) {
            err = del(c, &begun, "conv", w->convs[i].id, 16);
            *history = true;
        }
    for (size_t i = 0; err == PARLEY_OK && i < w->n_seen; i++)
        err = del(c, &begun, "seen", w->seen[i], 16);
    if (!begun)
        return err;
    if (err == PARLEY_OK)
        return parley__vault_commit(c->vault);
    parley__vault_rollback(c->vault);
    return err;
}

/*
 * Runs the retention at time now (this device's clock): the shorter of
 * the host's history retention and the brand's (the library's default
 * when neither sets one), and the brand's legal hold for conversations
 * kept on erasure. Envelope ids seen long ago are forgotten too (relays
 * keep envelopes 30 days by default, so none will come again). Nothing
 * is deleted unless every conversation record could be read first.
 */
void sweep_retention(struct parley__core *c, uint64_t now)
{
    struct sweep w;
    bool any = false;

    memset(&w, 0, sizeof(w));
    w.now = now;
    w.cutoff = now > retention_ms(c) ? now - retention_ms(c) : 0;
    w.hold_ms = legal_hold_ms(c, retention_ms(c));
    w.seen_cutoff = now > SEEN_KEEP_MS ? now - SEEN_KEEP_MS : 0;
    if (parley__vault_scan(c->vault, "conv", NULL, 0, collect_conv, &w) == PARLEY_OK &&
        parley__vault_scan(c->vault, "history", NULL, 0, collect_history, &w) == PARLEY_OK &&
        parley__vault_scan(c->vault, "seen", NULL, 0, collect_seen, &w) == PARLEY_OK) {
        decide(&w);
        if (purge(c, &w, &any) == PARLEY_OK && any)
            parley__vault_compact(c->vault); /* retention means gone from the files too */
    }
    sodium_memzero(w.rows, w.cap_rows * sizeof(*w.rows));
    free(w.rows);
    free(w.convs);
    free(w.seen);
}
