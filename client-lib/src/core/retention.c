/*
 * The client's own retention: old history and long-seen envelope ids
 * deleted.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define SEEN_KEEP_MS (60ull * 24 * 3600 * 1000) /* relays keep envelopes 30 days by default */

struct sweep {
    uint64_t cutoff;             /* history older than this goes */
    uint64_t seen_cutoff;
    uint8_t (*held)[16];         /* conversation ids kept after an erasure request */
    size_t n_held, cap_held;
    uint8_t (*keys)[24];
    size_t n, cap;
};

static bool sweep_add(struct sweep *w, const uint8_t *key, size_t len)
{
    uint8_t(*grown)[24] = parley__grow(w->keys, &w->cap, w->n + 1, sizeof(*grown));

    if (grown == NULL)
        return false;
    w->keys = grown;
    memset(w->keys[w->n], 0, 24);
    memcpy(w->keys[w->n++], key, len);
    return true;
}

static int sweep_history(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                         size_t val_len)
{
    struct sweep *w = arg;
    Parley__HistoryRecord *r;
    bool old;

    if (key_len != 24)
        return 0;
    for (size_t i = 0; i < w->n_held; i++)
        if (memcmp(key, w->held[i], 16) == 0)
            return 0; /* kept by the brand's obligation: retention does not apply */
    r = parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    if (r == NULL)
        return 0;
    old = r->time_ms < w->cutoff;
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    return old && !sweep_add(w, key, 24) ? -1 : 0;
}

static int sweep_seen(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                      size_t val_len)
{
    struct sweep *w = arg;
    uint64_t when = 0;

    if (key_len != 16 || val_len != 8)
        return 0;
    for (int i = 0; i < 8; i++)
        when = (when << 8) | val[i];
    return when < w->seen_cutoff && !sweep_add(w, key, 16) ? -1 : 0;
}

static int collect_held(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    struct sweep *w = arg;
    Parley__ConversationState *s;
    uint8_t(*grown)[16];
    int ret = 0;

    if (key_len != 16)
        return 0;
    s = parley__conversation_state__unpack(&parley__wiping_allocator, val_len, val);
    if (s != NULL && s->erasure == 2) {
        grown = parley__grow(w->held, &w->cap_held, w->n_held + 1, sizeof(*grown));
        if (grown != NULL) {
            w->held = grown;
            memcpy(w->held[w->n_held++], key, 16);
        }
        ret = grown == NULL ? -1 : 0;
    }
    if (s != NULL)
        parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
    return ret;
}

/*
 * The client's own retention: history older than history_retention_ms
 * (when set) is deleted, except conversations the brand must keep, and
 * envelope ids seen long ago are forgotten (relays keep envelopes for 30
 * days by default, so none will come again).
 */
void sweep_retention(struct parley__core *c, uint64_t now)
{
    struct sweep w;
    parley_err err;

    memset(&w, 0, sizeof(w));
    w.cutoff = c->history_retention_ms > 0 && now > c->history_retention_ms
                   ? now - c->history_retention_ms
                   : 0;
    w.seen_cutoff = now > SEEN_KEEP_MS ? now - SEEN_KEEP_MS : 0;
    /* Without the full list of conversations the brand must keep, no history goes. */
    if (w.cutoff > 0 &&
        parley__vault_scan(c->vault, "conv", NULL, 0, collect_held, &w) == PARLEY_OK)
        parley__vault_scan(c->vault, "history", NULL, 0, sweep_history, &w);
    {
        size_t n_history = w.n;
        parley__vault_scan(c->vault, "seen", NULL, 0, sweep_seen, &w);
        if (w.n > 0 && parley__vault_begin(c->vault) == PARLEY_OK) {
            err = PARLEY_OK;
            for (size_t i = 0; err == PARLEY_OK && i < w.n; i++)
                err = parley__vault_del(c->vault, i < n_history ? "history" : "seen", w.keys[i],
                                        i < n_history ? 24 : 16);
            if (err == PARLEY_OK && parley__vault_commit(c->vault) == PARLEY_OK && n_history > 0)
                parley__vault_compact(c->vault); /* retention means gone from the files too */
            else if (err != PARLEY_OK)
                parley__vault_rollback(c->vault);
        }
    }
    free(w.keys);
    free(w.held);
}
