/*
 * The quota ledger of the NATS store (docs/cluster.md §3.9): what every
 * recipient, and every sender's share of a recipient, holds in the
 * envelope stream, counted across all relay nodes, so that quota-bytes
 * and pair-quota-count / pair-quota-bytes hold exactly as they do on one
 * relay (the stream itself keeps only the count per recipient,
 * max_msgs_per_subject).
 *
 * The ledger is the KV bucket `quota`: `r.<recipient hex>` and
 * `p.<hex of a hash of sender and recipient>`, each (count, bytes). The
 * worker reserves a batch's envelopes before it publishes them: it reads
 * the entries the batch touches (from its cache of what it wrote last, or
 * from the bucket stream's leader), admits the envelopes in order as the
 * relay's own admission does, and writes the entries back with
 * compare-and-set on the revision it read (a publication with
 * Nats-Expected-Last-Subject-Sequence, as kvStore_Update does); a write
 * that meets another node's (10071, "wrong last sequence") reads again
 * and admits what still fits. So two nodes never both admit past a
 * limit. A write whose answer is lost is found out by reading the entry
 * back: each write marks the value with its count of writes and a random
 * mark (settle_unsure). Once the batch has run, what was reserved and not stored
 * (refused by the stream, a duplicate, a publication that failed) is
 * given back, and what the batch's ops removed (their expired lists) is
 * counted off. The reads and the writes each go out at once, with a
 * reply subscription of the ledger's own (libnats's requests are
 * synchronous): a batch costs a few round trips whatever its size.
 *
 * An entry nobody wrote for longer than the bucket's age (the envelope
 * stream's max_age and a minute) is gone: every envelope it counted is
 * gone by then, swept or aged out of the stream. That
 * bounds what a node that died between reserving and publishing, or an
 * expiry the ledger did not hear of, leaves behind. Counts clamp at zero.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "internal.h" /* parley__grow */
#include "store_nats.h"

#define NONE UINT32_MAX
#define ATTEMPTS 16
#define WAIT_MS 2000
/* An entry's value: envelopes, bytes, its count of writes, the last write's random mark. */
#define LEDGER_VALUE (8 + 8 + 8 + 16)
/* round_trip's answer when answers are missing at WAIT_MS. */
#define UNANSWERED (-2)

static bool pairs_on(const struct nats_store *s)
{
    return s->params.pair_quota_count != 0 || s->params.pair_quota_bytes != 0;
}

static struct nats_ledger_cached *cache_slot(struct nats_store *s, const char *key,
                                             uint8_t h[16])
{
    crypto_generichash(h, 16, (const uint8_t *)key, strlen(key), NULL, 0);
    return &s->led_cache[nats_get_be64(h) % NATS_LEDGER_CACHE];
}

static void cache_put(struct nats_store *s, const struct nats_ledger_entry *e)
{
    uint8_t h[16];
    struct nats_ledger_cached *c = cache_slot(s, e->key, h);

    memcpy(c->h, h, 16);
    c->count = e->count;
    c->bytes = e->bytes;
    c->rev = e->rev;
    c->writes = e->writes;
}

/* The entry as this node wrote or read it last, when the cache has it. */
static bool cache_get(struct nats_store *s, struct nats_ledger_entry *e)
{
    uint8_t h[16];
    const struct nats_ledger_cached *c = cache_slot(s, e->key, h);

    if (memcmp(c->h, h, 16) != 0)
        return false;
    e->count = c->count;
    e->bytes = c->bytes;
    e->rev = c->rev;
    e->writes = c->writes;
    e->known = true;
    e->fresh = false;
    return true;
}

/* The batch's entry for a recipient (sender NULL) or a pair, added when new; NONE: no memory. */
static uint32_t entry_of(struct nats_store *s, const uint8_t recipient[32], const uint8_t *sender)
{
    char key[72], hex[65];
    struct nats_ledger_entry *grown;

    if (sender != NULL) {
        crypto_generichash_state st;
        uint8_t h[32];

        crypto_generichash_init(&st, NULL, 0, 32);
        crypto_generichash_update(&st, sender, 32);
        crypto_generichash_update(&st, recipient, 32);
        crypto_generichash_final(&st, h, 32);
        nats_hex(h, 32, hex);
    } else {
        nats_hex(recipient, 32, hex);
    }
    snprintf(key, sizeof(key), "%c.%s", sender != NULL ? 'p' : 'r', hex);
    for (size_t i = 0; i < s->n_led; i++)
        if (strcmp(s->led[i].key, key) == 0)
            return (uint32_t)i;
    if ((grown = parley__grow(s->led, &s->cap_led, s->n_led + 1, sizeof(*grown))) == NULL)
        return NONE;
    s->led = grown;
    memset(&s->led[s->n_led], 0, sizeof(s->led[0]));
    memcpy(s->led[s->n_led].key, key, sizeof(key));
    s->led[s->n_led].pair = sender != NULL;
    return (uint32_t)s->n_led++;
}

static uint64_t clamped(uint64_t v, int64_t add)
{
    return add < 0 && (uint64_t)-add > v ? 0 : v + (uint64_t)add;
}

static bool changed(const struct nats_ledger_entry *e)
{
    return e->add_count != 0 || e->add_bytes != 0;
}

/* Under pub_lock: an entry's answer of the current round. */
static bool take_reply(struct nats_store *s, size_t index, natsMsg *msg)
{
    if (index >= s->n_led || s->led[index].ask == NATS_ASK_NONE || s->led[index].reply != NULL)
        return false;
    s->led[index].reply = msg;
    s->led_answered++;
    return true;
}

int nats_ledger_init(struct nats_store *s)
{
    return nats_replies_init(s, &s->led_replies, take_reply);
}

/*
 * Sends entry i's question: a read of its last value from the bucket
 * stream's leader, or its new value published with the revision it
 * must follow (0: none may exist), which JetStream refuses with 10071
 * ("wrong last sequence") when another node wrote it meanwhile.
 */
static int ask(struct nats_store *s, size_t i, uint64_t round)
{
    struct nats_ledger_entry *e = &s->led[i];
    char reply[128], subject[160], api[128], req[200], rev[24];
    natsMsg *m = NULL;
    uint8_t v[LEDGER_VALUE];
    natsStatus st;

    snprintf(reply, sizeof(reply), "%s%" PRIu64 ".%zu", s->led_replies.prefix, round, i);
    snprintf(subject, sizeof(subject), "$KV.%squota.%s", s->bucket_prefix, e->key);
    if (e->ask == NATS_ASK_READ) {
        int n = snprintf(req, sizeof(req), "{\"last_by_subj\":\"%s\"}", subject);

        snprintf(api, sizeof(api), "$JS.API.STREAM.MSG.GET.KV_%squota", s->bucket_prefix);
        st = natsConnection_PublishRequest(s->nc, api, reply, req, n);
    } else {
        /* A write sent again (its answer lost) is the same write: of the two, one lands. */
        if (!e->unsure)
            randombytes_buf(e->nonce, sizeof(e->nonce));
        nats_put_be64(v, clamped(e->count, e->add_count));
        nats_put_be64(v + 8, clamped(e->bytes, e->add_bytes));
        nats_put_be64(v + 16, e->writes + 1);
        memcpy(v + 24, e->nonce, sizeof(e->nonce));
        snprintf(rev, sizeof(rev), "%" PRIu64, e->rev);
        st = natsMsg_Create(&m, subject, reply, (const char *)v, (int)sizeof(v));
        if (st == NATS_OK)
            st = natsMsgHeader_Set(m, "Nats-Expected-Last-Subject-Sequence", rev);
        if (st == NATS_OK)
            st = natsConnection_PublishMsg(s->nc, m);
        natsMsg_Destroy(m);
    }
    if (st != NATS_OK)
        snprintf(s->failure, sizeof(s->failure), "quota ledger: %s", nats_GetLastError(NULL));
    return st == NATS_OK ? 0 : -1;
}

/* Sends every entry's question (ask not NONE) at once and waits for all answers. 0 or -1. */
static int round_trip(struct nats_store *s)
{
    struct timespec until;
    size_t asked = 0;
    uint64_t round;
    int rc = 0;

    pthread_mutex_lock(&s->pub_lock);
    round = ++s->led_replies.round;
    s->led_answered = 0;
    pthread_mutex_unlock(&s->pub_lock);
    for (size_t i = 0; i < s->n_led && rc == 0; i++)
        if (s->led[i].ask != NATS_ASK_NONE) {
            asked++;
            rc = ask(s, i, round);
        }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&s->pub_lock);
    while (rc == 0 && s->led_answered < asked)
        if (pthread_cond_timedwait(&s->pub_cond, &s->pub_lock, &until) != 0)
            break;
    if (rc == 0 && s->led_answered < asked) {
        snprintf(s->failure, sizeof(s->failure), "quota ledger: no answer within %d ms",
                 WAIT_MS);
        rc = UNANSWERED;
    }
    s->led_replies.round++; /* closed: answers still on their way are dropped */
    pthread_mutex_unlock(&s->pub_lock);
    return rc;
}

/*
 * After a write of e went unanswered: whether it landed, from the value
 * read back (found, at revision seq, its count of writes and its mark).
 * Its mark there: it did (WRITTEN, the value read is the one it wrote).
 * The revision it followed still the last: it did not yet, and is sent
 * again with its mark (UNSURE). The first write after that revision
 * another's: it never will (READ, the value read is the entry's). Later
 * writes on top: that cannot be told, -1.
 */
enum { UNSURE, WRITTEN, READ };

static int settle_unsure(struct nats_store *s, const struct nats_ledger_entry *e, int found,
                         uint64_t seq, uint64_t writes, const uint8_t *mark)
{
    if (found > 0 && mark != NULL && sodium_memcmp(mark, e->nonce, sizeof(e->nonce)) == 0)
        return WRITTEN;
    if ((found > 0 ? seq : 0) == e->rev)
        return UNSURE;
    if (found > 0 && writes == e->writes + 1)
        return READ;
    snprintf(s->failure, sizeof(s->failure),
             "quota ledger: a write's answer was lost and others wrote after it");
    return -1;
}

/* A read's answer: the entry's value and revision (none: 0s). 0 or -1. */
static int take_read(struct nats_store *s, struct nats_ledger_entry *e)
{
    uint8_t *v = NULL;
    size_t len = 0;
    uint64_t seq = 0, writes = 0;
    int found = nats_next_answer(s, "the quota ledger", e->reply, &v, &len, &seq), fate = READ;

    if (found < 0)
        return -1;
    if (found > 0 && len >= 24)
        writes = nats_get_be64(v + 16);
    if (e->unsure &&
        (fate = settle_unsure(s, e, found, seq, writes, len >= LEDGER_VALUE ? v + 24 : NULL)) < 0) {
        free(v);
        return -1;
    }
    if (fate == WRITTEN) { /* its change is in (what was written, if it changed since) */
        e->add_count = e->add_bytes = 0;
        e->written = true;
    }
    e->unsure = fate == UNSURE;
    if (fate == WRITTEN || fate == READ) {
        e->count = e->bytes = e->rev = e->writes = 0;
        if (found > 0) {
            e->rev = seq;
            e->writes = writes;
            if (len >= 16) {
                e->count = nats_get_be64(v);
                e->bytes = nats_get_be64(v + 8);
            }
        }
    }
    free(v);
    e->known = e->fresh = true;
    cache_put(s, e);
    return 0;
}

/* A write's answer: 1 written (its change is in), 0 another node wrote first, -1 failure. */
static int take_write(struct nats_store *s, struct nats_ledger_entry *e)
{
    const char *json = natsMsg_GetDataLength(e->reply) > 0 ? natsMsg_GetData(e->reply) : "";
    const char *seq = strstr(json, "\"seq\":");

    if (strstr(json, "\"err_code\":10071") != NULL)
        return 0; /* read again: when unsure, that read tells whether the first went in */
    if (strstr(json, "\"error\"") != NULL || seq == NULL) {
        snprintf(s->failure, sizeof(s->failure), "quota ledger: %.80s", json);
        return -1;
    }
    e->count = clamped(e->count, e->add_count);
    e->bytes = clamped(e->bytes, e->add_bytes);
    e->writes++;
    e->rev = strtoull(seq + 6, NULL, 10);
    e->add_count = e->add_bytes = 0;
    e->written = true;
    e->unsure = false;
    cache_put(s, e);
    return 1;
}

/*
 * Runs one round: a read of every entry marked need (from the cache when
 * fresh is false and it is there), or else a write of every entry with a
 * change (write). Marks need on the writes another node came first to,
 * and on those whose answer did not come (once: the read back tells
 * whether they landed; a second time the round fails). Returns how many
 * those were, or -1.
 */
static int ledger_round(struct nats_store *s, bool write, bool fresh)
{
    int rc = 0, conflicts = 0;
    bool any = false, lost;

    for (size_t i = 0; i < s->n_led; i++) {
        struct nats_ledger_entry *e = &s->led[i];

        e->ask = NATS_ASK_NONE;
        if (!write && e->need && (fresh || !cache_get(s, e)))
            e->ask = NATS_ASK_READ;
        else if (write && changed(e) && e->known)
            e->ask = NATS_ASK_WRITE;
        e->need = e->need && e->ask == NATS_ASK_READ;
        any = any || e->ask != NATS_ASK_NONE;
    }
    if (any)
        rc = round_trip(s);
    if ((lost = rc == UNANSWERED))
        rc = 0;
    /* Every answer that came is taken, also after a failure: a write that went in is known. */
    for (size_t i = 0; i < s->n_led; i++) {
        struct nats_ledger_entry *e = &s->led[i];
        int w;

        if (e->reply != NULL && e->ask == NATS_ASK_READ) {
            if (take_read(s, e) != 0)
                rc = -1;
            e->need = false;
        } else if (e->reply != NULL && e->ask == NATS_ASK_WRITE) {
            if ((w = take_write(s, e)) < 0)
                rc = -1;
            conflicts += w == 0;
            e->need = w == 0;
        } else if (lost && e->ask == NATS_ASK_WRITE && !e->unsure) {
            e->unsure = true;
            e->need = true;
            conflicts++;
        } else if (lost && e->ask != NATS_ASK_NONE) {
            rc = -1; /* a read unanswered, or a write sent again */
        }
        natsMsg_Destroy(e->reply);
        e->reply = NULL;
        e->ask = NATS_ASK_NONE;
    }
    return rc < 0 ? -1 : conflicts;
}

/* Applies every entry's change whatever the limits (what is given back or removed). 0 or -1. */
static int ledger_apply(struct nats_store *s)
{
    for (size_t i = 0; i < s->n_led; i++)
        s->led[i].need = changed(&s->led[i]) && !s->led[i].known;
    if (ledger_round(s, false, false) < 0)
        return -1;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        int conflicts;

        for (size_t i = 0; i < s->n_led; i++) {
            struct nats_ledger_entry *e = &s->led[i];

            if (e->rev == 0 && e->add_count <= 0 && e->add_bytes <= 0)
                e->add_count = e->add_bytes = 0; /* nothing there (aged out) to take from */
        }
        if ((conflicts = ledger_round(s, true, false)) <= 0)
            return conflicts;
        if (ledger_round(s, false, true) < 0)
            return -1;
    }
    snprintf(s->failure, sizeof(s->failure), "quota ledger: written by too many at once");
    return -1;
}

/* ------------------------------------------------------------------ */
/* Reserving a batch's envelopes */

static bool fits(const struct nats_store *s, const struct nats_ledger_entry *e, uint64_t count,
                 uint64_t bytes)
{
    /* The recipient's count is the stream's own limit (max_msgs_per_subject). */
    uint64_t lc = e->pair ? s->params.pair_quota_count : 0;
    uint64_t lb = e->pair ? s->params.pair_quota_bytes : s->params.quota_bytes;

    return (lc == 0 || clamped(e->count, e->add_count) + count <= lc) &&
           (lb == 0 || clamped(e->bytes, e->add_bytes) + bytes <= lb);
}

static void entry_change(struct nats_store *s, uint32_t i, int64_t count, int64_t bytes)
{
    if (i != NONE) {
        s->led[i].add_count += count;
        s->led[i].add_bytes += bytes;
    }
}

/*
 * Admits the batch's envelopes in order against what was read, as the
 * relay's own admission does (the recipient first, then the pair).
 * Returns whether an envelope was refused on a value from the cache.
 */
static bool admit(struct nats_store *s, const struct store_op *ops)
{
    bool stale = false;

    for (size_t i = 0; i < s->n_led; i++)
        s->led[i].add_count = s->led[i].add_bytes = 0;
    for (size_t i = 0; i < s->n_led_ops; i++) {
        struct nats_ledger_op *lo = &s->led_ops[i];
        uint64_t len = ops[i].env.sealed_len;
        const struct nats_ledger_entry *r, *p;

        if (lo->r == NONE)
            continue;
        r = &s->led[lo->r];
        p = lo->p != NONE ? &s->led[lo->p] : NULL;
        lo->held = fits(s, r, 1, len) && (p == NULL || fits(s, p, 1, len));
        lo->pair = fits(s, r, 1, len);
        if (!lo->held) {
            stale = stale || !(lo->pair ? p : r)->fresh;
            continue;
        }
        entry_change(s, lo->r, 1, (int64_t)len);
        entry_change(s, lo->p, 1, (int64_t)len);
    }
    return stale;
}

/* Refuses the last envelope held on entry k; its change leaves k, and its other entry (undone
 * there later when that one is written already). */
static void drop_last(struct nats_store *s, const struct store_op *ops, uint32_t k)
{
    for (size_t i = s->n_led_ops; i-- > 0;) {
        struct nats_ledger_op *lo = &s->led_ops[i];
        int64_t len = (int64_t)ops[i].env.sealed_len;
        uint32_t other;

        if (!lo->held || (lo->r != k && lo->p != k))
            continue;
        lo->held = false;
        lo->pair = s->led[k].pair;
        other = lo->r == k ? lo->p : lo->r;
        entry_change(s, k, -1, -len);
        if (other != NONE && s->led[other].written) {
            s->led[other].undo_count -= 1;
            s->led[other].undo_bytes -= len;
        } else {
            entry_change(s, other, -1, -len);
        }
        return;
    }
}

/* After another node wrote entry k first: its change again from the envelopes still held, and
 * from the last, those that no longer fit refused. */
static void recount(struct nats_store *s, const struct store_op *ops, uint32_t k)
{
    struct nats_ledger_entry *e = &s->led[k];

    e->add_count = e->add_bytes = 0;
    for (size_t i = 0; i < s->n_led_ops; i++)
        if (s->led_ops[i].held && (s->led_ops[i].r == k || s->led_ops[i].p == k)) {
            e->add_count += 1;
            e->add_bytes += (int64_t)ops[i].env.sealed_len;
        }
    while (changed(e) && !fits(s, e, 0, 0))
        drop_last(s, ops, k);
}

/* Writes every entry's reservation, in rounds while other nodes' writes come first. 0 or -1. */
static int reserve_all(struct nats_store *s, const struct store_op *ops)
{
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        int conflicts = ledger_round(s, true, false);

        if (conflicts <= 0)
            return conflicts;
        if (ledger_round(s, false, true) < 0)
            return -1;
        for (uint32_t k = 0; k < s->n_led; k++)
            if (!s->led[k].written && changed(&s->led[k]))
                recount(s, ops, k);
    }
    snprintf(s->failure, sizeof(s->failure), "quota ledger: written by too many at once");
    return -1;
}

/* The batch's INSERTs and their entries; 0 or -1 (no memory). */
static int collect_inserts(struct nats_store *s, const struct store_op *ops, size_t n)
{
    struct nats_ledger_op *grown = parley__grow(s->led_ops, &s->cap_led_ops, n, sizeof(*grown));

    if (grown == NULL)
        return -1;
    s->led_ops = grown;
    s->n_led_ops = n;
    for (size_t i = 0; i < n; i++)
        s->led_ops[i] = (struct nats_ledger_op){NONE, NONE, false, false};
    for (size_t i = 0; i < n; i++) {
        const struct store_op *op = &ops[i];
        struct nats_ledger_op *lo = &s->led_ops[i];

        if (op->kind != STORE_INSERT || op->refused)
            continue;
        if ((lo->r = entry_of(s, op->env.recipient, NULL)) == NONE)
            return -1;
        if (pairs_on(s) && !sodium_is_zero(op->reply_to, 32) &&
            (lo->p = entry_of(s, op->env.recipient, op->reply_to)) == NONE)
            return -1;
    }
    return 0;
}

/* Reads the entries the batch's INSERTs touch and admits them; a refusal made on a value from
 * the cache is made again on the bucket's. 0 or -1. */
static int read_and_admit(struct nats_store *s, const struct store_op *ops)
{
    for (size_t i = 0; i < s->n_led; i++)
        s->led[i].need = true;
    if (ledger_round(s, false, false) < 0)
        return -1;
    if (!admit(s, ops))
        return 0;
    for (size_t i = 0; i < s->n_led_ops; i++) {
        const struct nats_ledger_op *lo = &s->led_ops[i];

        if (lo->r != NONE && !lo->held)
            s->led[lo->pair ? lo->p : lo->r].need = !s->led[lo->pair ? lo->p : lo->r].fresh;
    }
    if (ledger_round(s, false, true) < 0)
        return -1;
    admit(s, ops);
    return 0;
}

int nats_ledger_reserve(struct nats_store *s, struct store_op *ops, size_t n)
{
    s->n_led = 0;
    s->n_led_ops = 0;
    if (collect_inserts(s, ops, n) != 0) {
        snprintf(s->failure, sizeof(s->failure), "quota ledger: out of memory");
        return -1;
    }
    if (s->n_led == 0)
        return 0;
    if (read_and_admit(s, ops) != 0 || reserve_all(s, ops) != 0)
        return -1;
    /* What a refusal after another node's write took back from entries written already. */
    for (size_t i = 0; i < s->n_led; i++) {
        struct nats_ledger_entry *e = &s->led[i];

        e->add_count = e->undo_count;
        e->add_bytes = e->undo_bytes;
        e->undo_count = e->undo_bytes = 0;
    }
    if (ledger_apply(s) != 0)
        return -1;
    for (size_t i = 0; i < s->n_led_ops; i++)
        if (s->led_ops[i].r != NONE && !s->led_ops[i].held) {
            ops[i].refused = true;
            ops[i].refused_pair = s->led_ops[i].pair;
        }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Giving back, counting off */

void nats_ledger_removed(struct nats_store *s, struct store_op *op)
{
    for (size_t i = 0; i < op->n_expired; i++) {
        const struct store_expired *x = &op->expired[i];
        bool pair = pairs_on(s) && !sodium_is_zero(x->sender, 32);

        entry_change(s, entry_of(s, x->recipient, NULL), -1, -(int64_t)x->bytes);
        if (pair)
            entry_change(s, entry_of(s, x->recipient, x->sender), -1, -(int64_t)x->bytes);
    }
    op->n_expired = 0; /* counted off once */
}

int nats_ledger_settle(struct nats_store *s, struct store_op *ops, size_t n)
{
    int rc = 0;

    /* A reservation's write still unsure stays counted; what follows is written anew. */
    for (size_t i = 0; i < s->n_led; i++) {
        s->led[i].add_count = s->led[i].add_bytes = 0;
        s->led[i].unsure = false;
    }
    /*
     * Reserved, and not stored after all: refused by the stream, a
     * duplicate, or failed. Given back only where the reservation was
     * written (a batch that failed before may not have written it), and not
     * for a publication whose answer was lost (the stream may hold it): a
     * count too high goes with the entry's age, one too low would let the
     * recipient's queue pass its quota.
     */
    for (size_t i = 0; i < s->n_led_ops && i < n; i++) {
        const struct nats_ledger_op *lo = &s->led_ops[i];
        int64_t len = (int64_t)ops[i].env.sealed_len;

        if (!lo->held || ops[i].inserted || ops[i].unanswered)
            continue;
        if (lo->r != NONE && s->led[lo->r].written)
            entry_change(s, lo->r, -1, -len);
        if (lo->p != NONE && s->led[lo->p].written)
            entry_change(s, lo->p, -1, -len);
    }
    s->n_led_ops = 0;
    for (size_t i = 0; i < n; i++)
        nats_ledger_removed(s, &ops[i]);
    /* On a failure (the store is out of reach) the entries stay high until they age out. */
    rc = ledger_apply(s);
    s->n_led = 0;
    return rc;
}
