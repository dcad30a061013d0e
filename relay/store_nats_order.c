/*
 * Brand orders on the NATS JetStream store (docs/cluster.md §3.15): the
 * bucket parley_orders, written and read on the store's worker thread,
 * and the notice that hands an order stored by one node to the agents
 * connected to the others.
 *
 * Keys are hex ids only: o.<brand>.<order> holds the order's expiry, the
 * random nonce of the submission that stored it and the encoded
 * BrandOrder, created with kvStore_Create so that a replayed
 * order id is refused once cluster-wide; r.<brand>.<order>.<agent key>
 * holds an agent's receipt (the encoded OrderReceipt) after the revision
 * at which that agent first answered, so that a receipt sent again keeps
 * its place. Expired orders go with their receipts at the expiry sweep;
 * the bucket's max age (the longest validity of an order, plus the
 * relay's ttl) removes whatever a sweep missed, and the sweeps' delete
 * markers.
 *
 * Once it stored an order, a node publishes it on po.<brand> (core NATS:
 * the node's id, then the encoded order); the other nodes hand it to
 * their agents of the brand that are online. Agents that connect later,
 * or that a node missed while cut off from NATS, read their pending
 * orders from the bucket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h" /* parley__grow */
#include "parley/admin.h"
#include "store_nats.h"

#define WAIT_MS 2000
#define ISSUE_SKEW_S 600u
/* Orders of other nodes waiting for the loop, at most (then the oldest goes). */
#define FRESH_MAX 1024u
/* An order's value: its expiry (8 bytes) and the nonce of the submission that stored it (16). */
#define ORDER_HEAD 24u
enum { ORDER_ABSENT, ORDER_OURS, ORDER_THEIRS };
/* Receipts one status read collects, at most (one per agent of the brand). */
#define RECEIPTS_MAX 65536u

struct nats_order_new {           /* an order another node stored */
    char brand[65];
    uint8_t *blob;
    size_t len;
};

struct nats_orders {
    kvStore *kv;
    natsSubscription *sub;
    char subject[64];             /* po, under the namespace */
    /* Under the store's lock: orders other nodes stored, for the loop. */
    struct nats_order_new *fresh;
    size_t n_fresh, cap_fresh;
};

/* key = prefix.<brand hex>[.<order hex>[.<agent hex>]]; false when it does not fit. */
static bool order_key(char *out, size_t cap, char prefix, const char *brand, const uint8_t *order,
                      const uint8_t *agent)
{
    char b[129], o[33], a[65];
    int n;

    nats_hex((const uint8_t *)brand, strlen(brand), b);
    if (order != NULL)
        nats_hex(order, 16, o);
    if (agent != NULL)
        nats_hex(agent, 32, a);
    n = snprintf(out, cap, "%c.%s%s%s%s%s", prefix, b, order ? "." : "", order ? o : "",
                 agent ? "." : "", agent ? a : "");
    return n > 0 && (size_t)n < cap;
}

static int kv_failed(struct nats_store *s, const char *what)
{
    snprintf(s->failure, sizeof(s->failure), "orders: %s: %s", what, nats_GetLastError(NULL));
    return -1;
}

/* ------------------------------------------------------------------ */
/* Reading many entries: a watch of a filter, up to its initial values' end */

/* Called for each entry; 0 to go on, -1 on failure. */
typedef int (*entry_fn)(struct nats_store *s, kvEntry *e, void *arg);

static int each_entry(struct nats_store *s, const char *filter, bool meta_only, entry_fn fn,
                      void *arg)
{
    kvWatcher *w = NULL;
    kvWatchOptions o;
    int rc = 0;

    kvWatchOptions_Init(&o);
    o.IgnoreDeletes = true;
    o.MetaOnly = meta_only;
    if (kvStore_Watch(&w, s->ord->kv, filter, &o) != NATS_OK)
        return kv_failed(s, "watch");
    for (;;) {
        kvEntry *e = NULL;

        if (kvWatcher_Next(&e, w, WAIT_MS) != NATS_OK) {
            rc = kv_failed(s, "read");
            break;
        }
        if (e == NULL)
            break; /* every stored entry was read */
        rc = fn(s, e, arg);
        kvEntry_Destroy(e);
        if (rc != 0)
            break;
    }
    kvWatcher_Destroy(w);
    return rc;
}

/* Appends a copy of p to op->envs (room for cap made on the first); -1 without memory. */
static int keep_blob(struct store_op *op, size_t cap, const uint8_t *p, size_t n)
{
    struct store_env *e;

    if (op->envs == NULL && (op->envs = calloc(cap > 0 ? cap : 1, sizeof(*op->envs))) == NULL)
        return -1;
    e = &op->envs[op->n_envs];
    if ((e->sealed = malloc(n > 0 ? n : 1)) == NULL)
        return -1;
    memcpy(e->sealed, p, n);
    e->sealed_len = n;
    memcpy(e->envelope_id, op->env.envelope_id, 16);
    op->n_envs++;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The ops */

/* The order's notice to the other nodes: lost ones are read by agents as they connect. */
static void order_notice(struct nats_store *s, const struct store_op *op)
{
    char subject[200], brand[129];
    uint8_t *m = malloc(16 + op->blob_len);

    if (m == NULL)
        return;
    nats_hex((const uint8_t *)op->brand_id, strlen(op->brand_id), brand);
    snprintf(subject, sizeof(subject), "%s.%s", s->ord->subject, brand);
    memcpy(m, s->node_id, 16);
    memcpy(m + 16, op->blob, op->blob_len);
    natsConnection_Publish(s->nc, subject, m, (int)(16 + op->blob_len));
    free(m);
}

/*
 * The order's entry as the bucket's leader holds it: 1 and its value
 * (the caller frees it) when it holds the order, 0 when it does not (or
 * holds its purge marker), -1 when the store did not answer. Read from
 * the leader: kvStore_Get may ask a replica that has not yet applied an
 * order another node just stored.
 */
static int order_read(struct nats_store *s, const struct store_op *op, natsMsg **out)
{
    char key[200], stream[112], subject[320];
    natsMsg *m = NULL;
    jsErrCode code = 0;
    natsStatus st;
    const char *verb = NULL;

    *out = NULL;
    if (!order_key(key, sizeof(key), 'o', op->brand_id, op->env.envelope_id, NULL))
        return 0;
    snprintf(stream, sizeof(stream), "KV_%sorders", s->bucket_prefix);
    snprintf(subject, sizeof(subject), "$KV.%sorders.%s", s->bucket_prefix, key);
    st = js_GetLastMsg(&m, s->js, stream, subject, NULL, &code);
    if (st == NATS_NOT_FOUND || code == 10037)
        return 0;
    if (st != NATS_OK)
        return kv_failed(s, "read order");
    /* A purged order leaves a marker: KV-Operation PURGE (or DEL). */
    if (natsMsgHeader_Get(m, "KV-Operation", &verb) == NATS_OK) {
        natsMsg_Destroy(m);
        return 0;
    }
    *out = m;
    return 1;
}

/* Whether the brand holds the order: 1, 0, or -1 when the store did not answer. */
static int order_held(struct nats_store *s, const struct store_op *op)
{
    natsMsg *m = NULL;
    int held = order_read(s, op, &m);

    natsMsg_Destroy(m);
    return held;
}

/* Whose the entry read back is: absent (value NULL), this submission's (it holds nonce), another's. */
static int order_fate(const uint8_t *value, size_t len, const uint8_t nonce[16])
{
    if (value == NULL)
        return ORDER_ABSENT;
    if (len >= ORDER_HEAD && sodium_memcmp(value + 8, nonce, 16) == 0)
        return ORDER_OURS;
    return ORDER_THEIRS;
}

/* After a refused or unanswered create: the entry read back, and whose submission wrote it. */
static int order_fate_read(struct nats_store *s, const struct store_op *op,
                           const uint8_t nonce[16])
{
    natsMsg *m = NULL;
    int held = order_read(s, op, &m), fate;

    if (held < 0)
        return -1;
    fate = order_fate(m != NULL ? (const uint8_t *)natsMsg_GetData(m) : NULL,
                      m != NULL ? (size_t)natsMsg_GetDataLength(m) : 0, nonce);
    natsMsg_Destroy(m);
    return fate;
}

/*
 * The value: expiry (8 bytes), this submission's random nonce (16), the
 * order. A create whose answer was lost (a timeout, the bucket's leader
 * changing) may have landed all the same: the entry read back is ours
 * when it holds our nonce, a replay when it holds another's.
 */
static int order_put(struct nats_store *s, struct store_op *op)
{
    char key[200];
    uint8_t *v = malloc(ORDER_HEAD + op->blob_len), nonce[16];
    natsStatus st;
    int fate = ORDER_OURS;

    if (v == NULL || !order_key(key, sizeof(key), 'o', op->brand_id, op->env.envelope_id, NULL)) {
        free(v);
        return -1;
    }
    randombytes_buf(nonce, sizeof(nonce));
    nats_put_be64(v, op->cutoff);
    memcpy(v + 8, nonce, 16);
    memcpy(v + ORDER_HEAD, op->blob, op->blob_len);
    st = kvStore_Create(NULL, s->ord->kv, key, v, (int)(ORDER_HEAD + op->blob_len));
    free(v);
    if (st != NATS_OK && (fate = order_fate_read(s, op, nonce)) < 0)
        return -1;
    if (fate == ORDER_ABSENT)
        return kv_failed(s, "store order");
    if (fate == ORDER_OURS) {
        op->inserted = true;
        order_notice(s, op);
    }
    return 0; /* another's: a replay */
}

/* The agent's receipt: in the place of its first one, if it answered before. */
static int receipt_put(struct nats_store *s, struct store_op *op)
{
    char key[260];
    int held = order_held(s, op);
    uint8_t *v;

    if (held <= 0) {
        op->refused = held == 0;
        return held;
    }
    if (!order_key(key, sizeof(key), 'r', op->brand_id, op->env.envelope_id, op->key) ||
        (v = malloc(8 + op->blob_len)) == NULL)
        return -1;
    memcpy(v + 8, op->blob, op->blob_len);
    for (int attempt = 0; attempt < 8; attempt++) {
        kvEntry *e = NULL;
        natsStatus st = kvStore_Get(&e, s->ord->kv, key);
        uint64_t first = 0; /* 0: the entry's own revision is its place */

        if (st != NATS_OK && st != NATS_NOT_FOUND)
            break;
        if (e != NULL && kvEntry_ValueLen(e) >= 8)
            first = nats_get_be64(kvEntry_Value(e));
        if (e != NULL && first == 0)
            first = kvEntry_Revision(e);
        nats_put_be64(v, first);
        st = e != NULL ? kvStore_Update(NULL, s->ord->kv, key, v, (int)(8 + op->blob_len),
                                        kvEntry_Revision(e))
                       : kvStore_Create(NULL, s->ord->kv, key, v, (int)(8 + op->blob_len));
        kvEntry_Destroy(e);
        if (st == NATS_OK) {
            free(v);
            return 0;
        }
    }
    free(v);
    return kv_failed(s, "store receipt");
}

/* The orders an agent answered, from the keys of its receipts (order hex, 32 digits each). */
struct answered {
    char (*ids)[33];
    size_t n, cap;
};

static int note_answered(struct nats_store *s, kvEntry *e, void *arg)
{
    struct answered *a = arg;
    const char *key = kvEntry_Key(e), *dot;
    char(*grown)[33];

    (void)s;
    /* r.<brand>.<order>.<agent>: the order is the 32 digits before the last dot */
    if (key == NULL || (dot = strrchr(key, '.')) == NULL || dot - key < 34)
        return 0;
    if ((grown = parley__grow(a->ids, &a->cap, a->n + 1, sizeof(*grown))) == NULL)
        return -1;
    a->ids = grown;
    memcpy(a->ids[a->n], dot - 32, 32);
    a->ids[a->n++][32] = '\0';
    return 0;
}

struct pending {
    struct store_op *op;
    struct answered done;
};

static int note_pending(struct nats_store *s, kvEntry *e, void *arg)
{
    struct pending *p = arg;
    const char *key = kvEntry_Key(e);
    const uint8_t *v = kvEntry_Value(e);
    size_t n = (size_t)kvEntry_ValueLen(e), klen = key != NULL ? strlen(key) : 0;

    (void)s;
    if (p->op->n_envs >= p->op->limit)
        return 0;
    if (n <= ORDER_HEAD || klen < 33 || nats_get_be64(v) <= p->op->cutoff)
        return 0; /* expired (or not an order of this relay's) */
    for (size_t i = 0; i < p->done.n; i++)
        if (memcmp(p->done.ids[i], key + klen - 32, 32) == 0)
            return 0;
    return keep_blob(p->op, p->op->limit, v + ORDER_HEAD, n - ORDER_HEAD);
}

/* The brand's unexpired orders the agent has not answered, in the order they were stored. */
static int orders_pending(struct nats_store *s, struct store_op *op)
{
    struct pending p = {op, {NULL, 0, 0}};
    char filter[260], brand[129], agent[65];
    int rc;

    if (op->limit == 0)
        return 0;
    nats_hex((const uint8_t *)op->brand_id, strlen(op->brand_id), brand);
    nats_hex(op->key, 32, agent);
    snprintf(filter, sizeof(filter), "r.%s.*.%s", brand, agent);
    rc = each_entry(s, filter, true, note_answered, &p.done);
    if (rc == 0) {
        snprintf(filter, sizeof(filter), "o.%s.*", brand);
        rc = each_entry(s, filter, false, note_pending, &p);
    }
    free(p.done.ids);
    return rc;
}

/* An order's receipts as read: each with its place (the revision its agent first answered at). */
struct receipts {
    struct rc_entry {
        uint64_t place;
        uint8_t *blob;
        size_t len;
    } * list;
    size_t n, cap;
};

static int note_receipt(struct nats_store *s, kvEntry *e, void *arg)
{
    struct receipts *r = arg;
    const uint8_t *v = kvEntry_Value(e);
    size_t n = (size_t)kvEntry_ValueLen(e);
    struct rc_entry *grown;

    (void)s;
    if (n <= 8 || r->n >= RECEIPTS_MAX)
        return 0;
    if ((grown = parley__grow(r->list, &r->cap, r->n + 1, sizeof(*grown))) == NULL)
        return -1;
    r->list = grown;
    if ((r->list[r->n].blob = malloc(n - 8)) == NULL)
        return -1;
    memcpy(r->list[r->n].blob, v + 8, n - 8);
    r->list[r->n].len = n - 8;
    r->list[r->n].place = nats_get_be64(v) != 0 ? nats_get_be64(v) : kvEntry_Revision(e);
    r->n++;
    return 0;
}

static int by_place(const void *a, const void *b)
{
    uint64_t x = ((const struct rc_entry *)a)->place, y = ((const struct rc_entry *)b)->place;

    return x < y ? -1 : x > y;
}

/* The order's receipts: how many, and at most limit of them from unit on, in the order they came. */
static int order_status(struct nats_store *s, struct store_op *op)
{
    struct receipts r = {NULL, 0, 0};
    char filter[260];
    int held = order_held(s, op), rc;

    if (held <= 0) {
        op->refused = held == 0;
        return held;
    }
    if (!order_key(filter, sizeof(filter) - 2, 'r', op->brand_id, op->env.envelope_id, NULL))
        return -1;
    snprintf(filter + strlen(filter), 3, ".*");
    rc = each_entry(s, filter, false, note_receipt, &r);
    if (rc == 0) {
        if (r.n > 1)
            qsort(r.list, r.n, sizeof(*r.list), by_place);
        op->count = r.n;
        for (size_t i = op->unit; rc == 0 && i < r.n && op->n_envs < op->limit; i++)
            rc = keep_blob(op, op->limit, r.list[i].blob, r.list[i].len);
    }
    for (size_t i = 0; i < r.n; i++)
        free(r.list[i].blob);
    free(r.list);
    return rc;
}

/* Purges every key of the filter (an expired order's receipts). */
static int purge_one(struct nats_store *s, kvEntry *e, void *arg)
{
    (void)arg;
    return kvStore_Purge(s->ord->kv, kvEntry_Key(e), NULL) == NATS_OK ? 0
                                                                     : kv_failed(s, "purge");
}

/* An order that expired before the cutoff goes, its receipts first. */
static int expire_one(struct nats_store *s, kvEntry *e, void *arg)
{
    const uint64_t *cutoff = arg;
    const char *key = kvEntry_Key(e);
    char filter[260];

    if (kvEntry_ValueLen(e) < 8 || nats_get_be64(kvEntry_Value(e)) >= *cutoff)
        return 0;
    snprintf(filter, sizeof(filter), "r.%s.*", key + 2);
    if (each_entry(s, filter, true, purge_one, NULL) != 0)
        return -1;
    return purge_one(s, e, NULL);
}

int nats_orders_expire(struct nats_store *s, uint64_t cutoff)
{
    /* What a sweep could not delete, the next one does: the batch it came in is not failed. */
    if (s->ord != NULL && each_entry(s, "o.>", false, expire_one, &cutoff) != 0)
        s->failure[0] = '\0';
    return 0;
}

int nats_orders_run(struct nats_store *s, struct store_op *op)
{
    switch (op->kind) {
    case STORE_ORDER_PUT:
        return order_put(s, op);
    case STORE_ORDER_PENDING:
        return orders_pending(s, op);
    case STORE_RECEIPT_PUT:
        return receipt_put(s, op);
    case STORE_ORDER_STATUS:
        return order_status(s, op);
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ */
/* Orders stored by other nodes */

static void on_order(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    struct nats_store *s = closure;
    struct nats_orders *o = s->ord;
    const char *subj = natsMsg_GetSubject(msg), *hex = subj != NULL ? strrchr(subj, '.') : NULL;
    const uint8_t *d = (const uint8_t *)natsMsg_GetData(msg);
    int len = natsMsg_GetDataLength(msg);
    struct nats_order_new n = {.len = len > 16 ? (size_t)len - 16 : 0};
    size_t blen = 0;
    bool queued = false;

    (void)nc;
    (void)sub;
    if (hex != NULL && n.len > 0 && memcmp(d, s->node_id, 16) != 0 &&
        sodium_hex2bin((uint8_t *)n.brand, sizeof(n.brand) - 1, hex + 1, strlen(hex + 1), NULL,
                       &blen, NULL) == 0 &&
        (n.blob = malloc(n.len)) != NULL) {
        n.brand[blen] = '\0';
        memcpy(n.blob, d + 16, n.len);
        pthread_mutex_lock(&s->lock);
        if (o->n_fresh >= FRESH_MAX) { /* the oldest goes: its agents read it as they connect */
            free(o->fresh[0].blob);
            memmove(o->fresh, o->fresh + 1, --o->n_fresh * sizeof(*o->fresh));
        }
        struct nats_order_new *grown =
            parley__grow(o->fresh, &o->cap_fresh, o->n_fresh + 1, sizeof(*grown));

        if (grown != NULL) {
            o->fresh = grown;
            o->fresh[o->n_fresh++] = n;
            n.blob = NULL;
            queued = true;
        }
        pthread_mutex_unlock(&s->lock);
        free(n.blob);
    }
    natsMsg_Destroy(msg);
    if (queued)
        nats_wake(s);
}

int nats_orders_take(struct nats_store *s, char brand_id[65], uint8_t **blob, size_t *len)
{
    struct nats_orders *o = s->ord;
    int got = 0;

    if (o == NULL)
        return 0;
    pthread_mutex_lock(&s->lock);
    if (o->n_fresh > 0) {
        struct nats_order_new *n = &o->fresh[0];

        memcpy(brand_id, n->brand, sizeof(n->brand));
        *blob = n->blob;
        *len = n->len;
        memmove(o->fresh, o->fresh + 1, --o->n_fresh * sizeof(*o->fresh));
        got = 1;
    }
    pthread_mutex_unlock(&s->lock);
    return got;
}

/* ------------------------------------------------------------------ */
/* Opening and closing */

int nats_orders_open(struct nats_store *s, char *err, size_t cap)
{
    struct nats_orders *o = calloc(1, sizeof(*o));
    char all[80];
    /* An order lives at most its validity past its issue (and the clocks' skew), then a ttl. */
    int64_t age_s = (int64_t)PARLEY_ORDER_MAX_DAYS * 86400 + ISSUE_SKEW_S + (int64_t)s->params.ttl;

    if (o == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    s->ord = o;
    /* po beside pr: the live prefix is "pr" under the namespace */
    snprintf(o->subject, sizeof(o->subject), "%.*spo", (int)strlen(s->live_prefix) - 2,
             s->live_prefix);
    if (nats_kv_open(s, &o->kv, "orders", age_s * 1000000000LL, err, cap) != 0)
        return -1;
    snprintf(all, sizeof(all), "%s.*", o->subject);
    if (natsConnection_Subscribe(&o->sub, s->nc, all, on_order, s) != NATS_OK) {
        snprintf(err, cap, "cannot subscribe to %s", all);
        return -1;
    }
    natsSubscription_SetPendingLimits(o->sub, -1, -1);
    return 0;
}

void nats_orders_close(struct nats_store *s)
{
    if (s->ord == NULL)
        return;
    natsSubscription_Destroy(s->ord->sub);
    kvStore_Destroy(s->ord->kv);
    s->ord->sub = NULL;
    s->ord->kv = NULL;
}

void nats_orders_free(struct nats_store *s)
{
    struct nats_orders *o = s->ord;

    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n_fresh; i++)
        free(o->fresh[i].blob);
    free(o->fresh);
    free(o);
    s->ord = NULL;
}
