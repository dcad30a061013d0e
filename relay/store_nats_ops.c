/*
 * What each op does in the NATS JetStream store (docs/cluster.md §3),
 * on the store's worker thread.
 *
 * An envelope is one message on its recipient's subject pe.0.<recipient>
 * of the envelope stream, its envelope id as Nats-Msg-Id (a resend within
 * the duplicate window is acknowledged and stored once). Its data is the
 * envelope's ids (envelope, conversation, sender), its arrival time and
 * the sealed bytes: ciphertext and routing ids only, as the sqlite file
 * holds. Reads go to the stream's leader (STREAM.MSG.GET with
 * next_by_subj), which has every acknowledged message; a replica could
 * still lack one just acknowledged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "internal.h" /* parley__grow */
#include "store_nats.h"

#define WAIT_MS 2000
#define ERR_PER_SUBJECT_FULL 10077 /* a subject at max_msgs_per_subject, discard new */

/* ------------------------------------------------------------------ */
/* Reading from the leader */

void nats_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

uint64_t nats_get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The JSON string value after "key":" in json, decoded from base64; NULL if absent. */
static uint8_t *json_b64(const char *json, const char *key, size_t *len)
{
    char pat[32];
    const char *v, *end;
    uint8_t *out;

    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    if ((v = strstr(json, pat)) == NULL)
        return NULL;
    v += strlen(pat);
    if ((end = strchr(v, '"')) == NULL)
        return NULL;
    if ((out = malloc((size_t)(end - v) / 4 * 3 + 3)) == NULL)
        return NULL;
    if (sodium_base642bin(out, (size_t)(end - v) / 4 * 3 + 3, v, (size_t)(end - v), NULL, len,
                          NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

int nats_next_request(char api[96], char req[160], const char *stream, const char *subject,
                      uint64_t after)
{
    snprintf(api, 96, "$JS.API.STREAM.MSG.GET.%s", stream);
    return snprintf(req, 160, "{\"seq\":%" PRIu64 ",\"next_by_subj\":\"%s\"}", after + 1,
                    subject);
}

int nats_next_answer(struct nats_store *s, const char *stream, natsMsg *reply, uint8_t **msg,
                     size_t *len, uint64_t *at)
{
    const char *json = natsMsg_GetDataLength(reply) > 0 ? natsMsg_GetData(reply) : NULL, *m;
    int rc = -1;

    if (json == NULL) {
        snprintf(s->failure, sizeof(s->failure), "read from %s: empty answer", stream);
    } else if ((m = strstr(json, "\"message\":")) != NULL) {
        const char *q = strstr(m, "\"seq\":");
        /* An empty message (a key-value delete or purge marker, or anyone's empty
         * publication) has no "data": it reads as no bytes, which no reader takes. */
        *len = 0;
        *msg = strstr(m, "\"data\":") != NULL ? json_b64(m, "data", len) : calloc(1, 1);
        if (q != NULL && *msg != NULL) {
            *at = strtoull(q + 6, NULL, 10);
            rc = 1;
        } else {
            free(*msg);
            *msg = NULL;
            snprintf(s->failure, sizeof(s->failure), "read from %s: unreadable answer", stream);
        }
    } else if (strstr(json, "\"err_code\":10037") != NULL) {
        rc = 0;
    } else {
        snprintf(s->failure, sizeof(s->failure), "read from %s: %.80s", stream, json);
    }
    return rc;
}

int nats_next(struct nats_store *s, const char *stream, const char *subject, uint64_t after,
              uint8_t **msg, size_t *len, uint64_t *at)
{
    char api[96], req[160];
    natsMsg *reply = NULL;
    int n = nats_next_request(api, req, stream, subject, after), rc;

    if (natsConnection_Request(&reply, s->nc, api, req, n, WAIT_MS) != NATS_OK) {
        snprintf(s->failure, sizeof(s->failure), "read from %s: %s", stream,
                 nats_GetLastError(NULL));
        return -1;
    }
    rc = nats_next_answer(s, stream, reply, msg, len, at);
    natsMsg_Destroy(reply);
    return rc;
}

int64_t nats_subject_count(struct nats_store *s, const char *stream, const char *subject)
{
    jsStreamInfo *si = NULL;
    jsOptions o;
    int64_t n = 0;

    jsOptions_Init(&o);
    o.Wait = WAIT_MS;
    o.Stream.Info.SubjectsFilter = subject;
    if (js_GetStreamInfo(&si, s->js, stream, &o, NULL) != NATS_OK) {
        snprintf(s->failure, sizeof(s->failure), "count on %s: %s", stream,
                 nats_GetLastError(NULL));
        return -1;
    }
    if (si->State.Subjects != NULL)
        for (int i = 0; i < si->State.Subjects->Count; i++)
            n += (int64_t)si->State.Subjects->List[i].Msgs;
    jsStreamInfo_Destroy(si);
    return n;
}

void nats_env_subject(const struct nats_store *s, const uint8_t recipient[32], char out[128])
{
    char hex[65];

    nats_hex(recipient, 32, hex);
    snprintf(out, 128, "%s.%s", s->env_prefix, hex);
}

/*
 * JetStream answers every failed delete with err_code 10057 and says why
 * in the description: "no message found" and "stream store EOF" (a
 * sequence past the last) are gone already, "message delete not
 * permitted" (deny_delete) or a storage error are not.
 */
int nats_delete_answer(struct nats_store *s, natsMsg *reply, const char *what)
{
    const char *json =
        reply != NULL && natsMsg_GetDataLength(reply) > 0 ? natsMsg_GetData(reply) : "(no answer)";
    const char *error = strstr(json, "\"error\":");

    if (strstr(json, "\"success\":true") != NULL)
        return 1;
    if (strstr(json, "\"err_code\":10037") != NULL ||
        (strstr(json, "\"err_code\":10057") != NULL &&
         (strstr(json, "\"description\":\"no message found\"") != NULL ||
          strstr(json, "\"description\":\"stream store EOF\"") != NULL)))
        return 0;
    /* The error object (code, err_code, description), not the answer's type before it. */
    snprintf(s->failure, sizeof(s->failure), "%s: %s", what, error != NULL ? error + 8 : json);
    return -1;
}

/*
 * A raw request rather than js_DeleteMsg / js_EraseMsg: libnats 3.4.1 does
 * not always give back JetStream's error code, and "deleted already"
 * (10057) must be told from a failure.
 */
int nats_delete_seq(struct nats_store *s, const char *stream, uint64_t seq, bool erase,
                    const char *what)
{
    char api[96], req[64];
    natsMsg *reply = NULL;
    int n, rc;

    snprintf(api, sizeof(api), "$JS.API.STREAM.MSG.DELETE.%s", stream);
    n = snprintf(req, sizeof(req), "{\"seq\":%" PRIu64 "%s}", seq,
                 erase ? "" : ",\"no_erase\":true");
    if (natsConnection_Request(&reply, s->nc, api, req, n, WAIT_MS) != NATS_OK) {
        snprintf(s->failure, sizeof(s->failure), "%s: %s", what, nats_GetLastError(NULL));
        return -1;
    }
    rc = nats_delete_answer(s, reply, what);
    natsMsg_Destroy(reply);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The erasure index: which recipients hold envelopes from a sender, or of a conversation */

/* Unix time in ms. */
static int64_t unix_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Whether an index entry written at ms is young enough to be left as it is:
 * the bucket drops an entry ttl after its last write, and every envelope
 * it names must be found by an erasure until that envelope's own ttl ends,
 * so an entry older than half the ttl is written again by the next
 * envelope that needs it.
 */
static bool index_young(const struct nats_store *s, int64_t ms)
{
    return unix_ms() - ms < (int64_t)s->params.ttl * 500;
}

/* The key's list with recipient added (n entries of 32 bytes in v), or NULL (no memory). */
static uint8_t *index_list(const uint8_t *v, size_t n, const uint8_t recipient[32], bool have,
                           size_t *len)
{
    uint8_t *list = malloc(32 * (n + 1));

    if (list == NULL)
        return NULL;
    if (n > 0)
        memcpy(list, v, 32 * n);
    if (!have)
        memcpy(list + 32 * n++, recipient, 32);
    *len = 32 * n;
    return list;
}

/*
 * Adds recipient to the key's list (compare-and-set, so that nodes writing
 * at once merge), or writes the list again when it holds the recipient but
 * was written more than half a ttl ago (index_young).
 */
static int index_add(struct nats_store *s, const char *key, const uint8_t recipient[32])
{
    uint8_t h[32], *slot;
    size_t at;

    crypto_generichash(h, 32, (const uint8_t *)key, strlen(key), recipient, 32);
    at = nats_get_be64(h) % (sizeof(s->indexed) / sizeof(s->indexed[0]));
    slot = s->indexed[at];
    if (memcmp(slot, h, 32) == 0 && index_young(s, s->indexed_ms[at]))
        return 0; /* written lately */
    for (int attempt = 0; attempt < 8; attempt++) {
        kvEntry *e = NULL;
        natsStatus st = kvStore_Get(&e, s->erasure, key);
        const uint8_t *v = st == NATS_OK ? kvEntry_Value(e) : NULL;
        size_t n = st == NATS_OK ? (size_t)kvEntry_ValueLen(e) / 32 : 0, len = 0;
        bool have = false;
        uint8_t *list;

        if (st != NATS_OK && st != NATS_NOT_FOUND) {
            kvEntry_Destroy(e);
            snprintf(s->failure, sizeof(s->failure), "erasure index: %s",
                     nats_GetLastError(NULL));
            return -1;
        }
        for (size_t i = 0; i < n && !have; i++)
            have = memcmp(v + 32 * i, recipient, 32) == 0;
        if (have && index_young(s, kvEntry_Created(e) / 1000000)) {
            memcpy(slot, h, 32);
            s->indexed_ms[at] = kvEntry_Created(e) / 1000000;
            kvEntry_Destroy(e);
            return 0;
        }
        if ((list = index_list(v, n, recipient, have, &len)) == NULL) {
            kvEntry_Destroy(e);
            return -1;
        }
        st = e != NULL ? kvStore_Update(NULL, s->erasure, key, list, (int)len,
                                        kvEntry_Revision(e))
                       : kvStore_Create(NULL, s->erasure, key, list, (int)len);
        kvEntry_Destroy(e);
        free(list);
        if (st == NATS_OK) {
            memcpy(slot, h, 32);
            s->indexed_ms[at] = unix_ms();
            return 0;
        }
    }
    snprintf(s->failure, sizeof(s->failure), "erasure index: %s", nats_GetLastError(NULL));
    return -1;
}

static void index_key(char prefix, const uint8_t *id, size_t n, char out[80])
{
    char hex[65];

    nats_hex(id, n, hex);
    snprintf(out, 80, "%c.%s", prefix, hex);
}

/* ------------------------------------------------------------------ */
/* Envelopes */

/*
 * Publishes the envelope (store_nats_pub.c); its acknowledgement comes
 * later. The erasure index names where it goes first: an entry for an
 * envelope that was not stored after all costs erasure one empty read.
 */
static int insert(struct nats_store *s, struct store_op *op)
{
    size_t len = NATS_ENV_HEAD + op->env.sealed_len;
    uint8_t *body;
    char subject[128], id[33], key[80];
    jsPubOptions po;
    natsMsg *msg = NULL;
    natsStatus st;

    /* Where the sender's and the conversation's envelopes went, for erasure. */
    index_key('s', op->reply_to, 32, key);
    if (index_add(s, key, op->env.recipient) != 0)
        return -1;
    index_key('c', op->env.conversation_id, 16, key);
    if (index_add(s, key, op->env.recipient) != 0)
        return -1;
    if ((body = malloc(len)) == NULL)
        return -1;
    memcpy(body, op->env.envelope_id, 16);
    memcpy(body + 16, op->env.conversation_id, 16);
    memcpy(body + 32, op->reply_to, 32);
    nats_put_be64(body + 64, op->env.stored_at);
    memcpy(body + NATS_ENV_HEAD, op->env.sealed, op->env.sealed_len);
    nats_env_subject(s, op->env.recipient, subject);
    nats_hex(op->env.envelope_id, 16, id);
    st = natsMsg_Create(&msg, subject, NULL, (const char *)body, (int)len);
    free(body);
    if (st != NATS_OK) {
        snprintf(s->failure, sizeof(s->failure), "store envelope: %s", natsStatus_GetText(st));
        return -1;
    }
    jsPubOptions_Init(&po);
    po.MsgId = id;
    return nats_pub_send(s, op, msg, &po);
}

static struct nats_seq *seq_slot(struct nats_store *s, const uint8_t envelope_id[16])
{
    return &s->seqs[nats_get_be64(envelope_id) % NATS_SEQ_CACHE];
}

bool nats_fetch_wants(const struct store_op *op)
{
    uint64_t bytes = 0;

    for (size_t i = 0; i < op->n_envs; i++)
        bytes += op->envs[i].sealed_len;
    return op->n_envs < op->limit && (op->n_envs == 0 || bytes < op->max_bytes);
}

int nats_fetch_keep(struct nats_store *s, struct store_op *op, uint8_t *msg, size_t len,
                    uint64_t at)
{
    struct store_env *e;
    struct nats_seq *slot;

    if (len <= NATS_ENV_HEAD) {
        free(msg);
        return 0; /* not an envelope of this relay's */
    }
    if (op->n_envs == 0 && (op->envs = calloc(op->limit, sizeof(*op->envs))) == NULL) {
        free(msg);
        return -1;
    }
    e = &op->envs[op->n_envs++];
    e->seq = at;
    memcpy(e->envelope_id, msg, 16);
    memcpy(e->conversation_id, msg + 16, 16);
    memcpy(e->recipient, op->env.recipient, 32);
    e->stored_at = nats_get_be64(msg + 64);
    e->sealed_len = len - NATS_ENV_HEAD;
    slot = seq_slot(s, e->envelope_id);
    memcpy(slot->sender, msg + 32, 32);
    memmove(msg, msg + NATS_ENV_HEAD, e->sealed_len);
    e->sealed = msg;
    memcpy(slot->envelope_id, e->envelope_id, 16);
    memcpy(slot->recipient, e->recipient, 32);
    slot->seq = at;
    slot->bytes = e->sealed_len;
    return 0;
}

static int fetch(struct nats_store *s, struct store_op *op)
{
    char subject[128];
    uint64_t after = op->cutoff;

    nats_env_subject(s, op->env.recipient, subject);
    while (nats_fetch_wants(op)) {
        uint8_t *msg = NULL;
        size_t len = 0;
        int rc = nats_next(s, s->env_stream, subject, after, &msg, &len, &after);

        if (rc <= 0)
            return rc;
        if (nats_fetch_keep(s, op, msg, len, after) != 0)
            return -1;
    }
    return 0;
}

/*
 * Calls fn on each message of subject, in order, with its data (fn may
 * take it: *msg = NULL), its length and sequence; fn returns 0 to go on,
 * 1 to stop, -1 on failure. Returns 1 when fn stopped, 0 at the end, -1.
 */
typedef int (*walk_fn)(struct nats_store *s, uint8_t **msg, size_t len, uint64_t seq, void *arg);

static int walk(struct nats_store *s, const char *stream, const char *subject, walk_fn fn,
                void *arg)
{
    uint64_t after = 0;

    for (;;) {
        uint8_t *msg = NULL;
        size_t len = 0;
        int rc = nats_next(s, stream, subject, after, &msg, &len, &after);

        if (rc > 0) {
            rc = fn(s, &msg, len, after, arg);
            free(msg);
            if (rc == 0)
                continue;
        }
        return rc;
    }
}

struct found {
    const uint8_t *envelope_id;
    uint64_t seq, bytes;
    uint8_t sender[32];
};

static int match_id(struct nats_store *s, uint8_t **msg, size_t len, uint64_t seq, void *arg)
{
    struct found *f = arg;

    (void)s;
    if (len <= NATS_ENV_HEAD || memcmp(*msg, f->envelope_id, 16) != 0)
        return 0;
    f->seq = seq;
    f->bytes = len - NATS_ENV_HEAD;
    memcpy(f->sender, *msg + 32, 32);
    return 1;
}

bool nats_seq_take(struct nats_store *s, const struct store_op *op, uint64_t *seq,
                   uint64_t *bytes, uint8_t sender[32])
{
    struct nats_seq *slot = seq_slot(s, op->env.envelope_id);

    if (memcmp(slot->envelope_id, op->env.envelope_id, 16) != 0 ||
        memcmp(slot->recipient, op->env.recipient, 32) != 0 || slot->seq == 0)
        return false;
    *seq = slot->seq;
    *bytes = slot->bytes;
    memcpy(sender, slot->sender, 32);
    slot->seq = 0;
    return true;
}

static int delete_one(struct nats_store *s, struct store_op *op)
{
    uint64_t seq = 0, bytes = 0;
    uint8_t sender[32];
    int rc;

    if (!nats_seq_take(s, op, &seq, &bytes, sender)) {
        /* Not fetched lately here: looked for on the recipient's subject. */
        struct found f = {op->env.envelope_id, 0, 0, {0}};
        char subject[128];

        nats_env_subject(s, op->env.recipient, subject);
        if ((rc = walk(s, s->env_stream, subject, match_id, &f)) <= 0)
            return rc; /* gone already (another node deleted it, or it expired) */
        seq = f.seq;
        bytes = f.bytes;
        memcpy(sender, f.sender, 32);
    }
    rc = nats_delete_seq(s, s->env_stream, seq, false, "delete");
    if (rc < 0)
        return -1;
    /* Removed here (not by another node, or max_age, meanwhile): counted off the ledger. */
    return rc > 0 ? store_op_note_removed(op, op->env.recipient, bytes, sender) : 0;
}

/* Whether a stored envelope (its head) falls under the erasure of customer and convs. */
static bool erased_by(const uint8_t *head, const struct store_op *op)
{
    if (memcmp(head + 32, op->env.recipient, 32) == 0)
        return true;
    for (size_t i = 0; i + 16 <= op->blob_len; i += 16)
        if (memcmp(head + 16, op->blob + i, 16) == 0)
            return true;
    return false;
}

struct erasing {
    struct store_op *op;
    const uint8_t *recipient;
    bool all;
    uint64_t cutoff;
};

/* Erases (overwrites on every replica) an envelope up to the cutoff that falls under the op. */
static int erase_one(struct nats_store *s, uint8_t **msg, size_t len, uint64_t seq, void *arg)
{
    struct erasing *e = arg;
    int rc;

    if (seq > e->cutoff)
        return 1;
    if (len < NATS_ENV_HEAD || !(e->all || erased_by(*msg, e->op)))
        return 0;
    rc = nats_delete_seq(s, s->env_stream, seq, true, "erase");
    if (rc < 0)
        return -1;
    return rc > 0 ? store_op_note_removed(e->op, e->recipient, len - NATS_ENV_HEAD, *msg + 32)
                  : 0;
}

static int erase_subject(struct nats_store *s, struct store_op *op, const uint8_t recipient[32],
                         bool all, uint64_t cutoff)
{
    struct erasing e = {op, recipient, all, cutoff};
    char subject[128];

    nats_env_subject(s, recipient, subject);
    return walk(s, s->env_stream, subject, erase_one, &e) < 0 ? -1 : 0;
}

/* The recipients listed under an index key (malloc'd, 32 bytes each); the key is then removed. */
static int index_take(struct nats_store *s, const char *key, uint8_t **list, size_t *n,
                      size_t *cap)
{
    kvEntry *e = NULL;
    natsStatus st = kvStore_Get(&e, s->erasure, key);
    uint8_t *grown;
    size_t k;

    if (st == NATS_NOT_FOUND)
        return 0;
    if (st != NATS_OK) {
        snprintf(s->failure, sizeof(s->failure), "erasure index: %s", nats_GetLastError(NULL));
        return -1;
    }
    k = (size_t)kvEntry_ValueLen(e) / 32;
    if ((grown = parley__grow(*list, cap, *n + k + 1, 32)) == NULL) {
        kvEntry_Destroy(e);
        return -1;
    }
    *list = grown;
    memcpy(*list + 32 * *n, kvEntry_Value(e), 32 * k);
    *n += k;
    kvEntry_Destroy(e);
    memset(s->indexed, 0, sizeof(s->indexed)); /* written again by the next envelope */
    return 0;
}

/*
 * The whole erasure in one step: everything stored to the customer, and
 * every envelope from it or in its listed conversations on the subjects
 * the index names, up to the stream's last sequence before the first
 * envelope this node stored after the request (the relay's cutoff is its
 * own numbering of arrivals): what the customer sends after survives.
 */
static int erase_step(struct nats_store *s, struct store_op *op)
{
    char key[80];
    uint8_t *list = NULL;
    size_t n = 0, list_cap = 0;
    uint64_t cutoff;
    jsStreamInfo *si = NULL;
    int rc = 0;

    if (js_GetStreamInfo(&si, s->js, s->env_stream, NULL, NULL) != NATS_OK) {
        snprintf(s->failure, sizeof(s->failure), "erase: %s", nats_GetLastError(NULL));
        return -1;
    }
    cutoff = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    /* What this node stored after the request (the relay's seq past op->cutoff) survives. */
    for (size_t i = 0; i < NATS_SEQ_CACHE && i < s->n_inserted; i++)
        if (s->inserted[i].relay > op->cutoff && s->inserted[i].stream <= cutoff)
            cutoff = s->inserted[i].stream - 1;
    index_key('s', op->env.recipient, 32, key);
    rc = index_take(s, key, &list, &n, &list_cap);
    for (size_t i = 0; rc == 0 && i + 16 <= op->blob_len; i += 16) {
        index_key('c', op->blob + i, 16, key);
        rc = index_take(s, key, &list, &n, &list_cap);
    }
    if (rc == 0)
        rc = erase_subject(s, op, op->env.recipient, true, cutoff);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool seen = memcmp(list + 32 * i, op->env.recipient, 32) == 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = memcmp(list + 32 * k, list + 32 * i, 32) == 0;
        if (!seen)
            rc = erase_subject(s, op, list + 32 * i, false, cutoff);
    }
    /* The index keys go once their envelopes are gone. */
    index_key('s', op->env.recipient, 32, key);
    if (rc == 0)
        kvStore_Delete(s->erasure, key);
    for (size_t i = 0; rc == 0 && i + 16 <= op->blob_len; i += 16) {
        index_key('c', op->blob + i, 16, key);
        kvStore_Delete(s->erasure, key);
    }
    free(list);
    op->unit = (uint32_t)(2 + op->blob_len / 16);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Directories and prekeys */

static int directory_put(struct nats_store *s, struct store_op *op)
{
    char key[140];
    uint8_t *v = malloc(8 + op->blob_len);
    natsStatus st;

    if (v == NULL)
        return -1;
    nats_hex((const uint8_t *)op->brand_id, strlen(op->brand_id), key);
    nats_put_be64(v, op->version);
    memcpy(v + 8, op->blob, op->blob_len);
    st = kvStore_Put(NULL, s->dirs, key, v, (int)(8 + op->blob_len));
    free(v);
    if (st != NATS_OK) {
        snprintf(s->failure, sizeof(s->failure), "directory: %s", nats_GetLastError(NULL));
        return -1;
    }
    return 0;
}

static void prekey_subject(const struct nats_store *s, const uint8_t owner[32], char out[128])
{
    char hex[65];

    nats_hex(owner, 32, hex);
    snprintf(out, 128, "%s.%s", s->pk_prefix, hex);
}

static int medium_put(struct nats_store *s, const char *key, const struct store_prekey *p)
{
    uint8_t *v = malloc(16 + p->len);
    kvEntry *e = NULL;
    natsStatus st;

    if (v == NULL)
        return -1;
    /* Only a newer medium-term prekey replaces the stored one. */
    if (kvStore_Get(&e, s->medium, key) == NATS_OK && kvEntry_ValueLen(e) >= 16 &&
        nats_get_be64(kvEntry_Value(e)) > p->created) {
        kvEntry_Destroy(e);
        free(v);
        return 0;
    }
    kvEntry_Destroy(e);
    nats_put_be64(v, p->created);
    nats_put_be64(v + 8, p->expires);
    memcpy(v + 16, p->blob, p->len);
    st = kvStore_Put(NULL, s->medium, key, v, (int)(16 + p->len));
    free(v);
    if (st != NATS_OK) {
        snprintf(s->failure, sizeof(s->failure), "medium-term prekey: %s",
                 nats_GetLastError(NULL));
        return -1;
    }
    return 0;
}

/* Takes back the one-time prekeys a publication stored (one handed out meantime is gone). */
static int prekeys_unpublish(struct nats_store *s, const uint64_t *seqs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (nats_delete_seq(s, s->pk_stream, seqs[i], false, "prekey") < 0)
            return -1;
    return 0;
}

/*
 * The owner's one-time prekeys, one message each: the stream holds at
 * most op->limit per owner and refuses the one past it (10077), whichever
 * node publishes. A publication the stream refused a prekey of is taken
 * back whole, so that it changes nothing (op->refused), as in one
 * transaction; one that failed otherwise is taken back too, as far as
 * the store can be reached. 0, or -1.
 */
static int publish_one_time(struct nats_store *s, struct store_op *op, const char *subject)
{
    uint64_t *seqs = calloc(op->n_prekeys + 1, sizeof(*seqs));
    size_t n = 0;
    int rc = 0;

    if (seqs == NULL)
        return -1;
    for (size_t i = 0; rc == 0 && i < op->n_prekeys; i++) {
        const struct store_prekey *p = &op->prekeys[i];
        jsPubAck *pa = NULL;
        jsPubOptions po;
        jsErrCode code = 0;

        if (p->medium)
            continue;
        jsPubOptions_Init(&po);
        po.MaxWait = WAIT_MS;
        if (js_Publish(&pa, s->js, subject, p->blob, (int)p->len, &po, &code) == NATS_OK) {
            seqs[n++] = pa->Sequence;
        } else if (code == ERR_PER_SUBJECT_FULL) {
            op->refused = true;
            rc = 1;
        } else {
            snprintf(s->failure, sizeof(s->failure), "prekeys: %s", nats_GetLastError(NULL));
            rc = -1;
        }
        jsPubAck_Destroy(pa);
    }
    if (rc != 0) {
        char failure[sizeof(s->failure)];

        memcpy(failure, s->failure, sizeof(failure));
        if (prekeys_unpublish(s, seqs, n) != 0)
            rc = -1;
        else if (rc < 0)
            memcpy(s->failure, failure, sizeof(failure));
    }
    free(seqs);
    return rc < 0 ? -1 : 0;
}

static int prekey_publish(struct nats_store *s, struct store_op *op)
{
    char subject[128], key[65];
    uint64_t one_time = 0;

    prekey_subject(s, op->env.recipient, subject);
    nats_hex(op->env.recipient, 32, key);
    for (size_t i = 0; i < op->n_prekeys; i++)
        one_time += !op->prekeys[i].medium;
    if (one_time > op->limit) {
        op->refused = true;
        return 0;
    }
    if (op->replace) {
        jsOptions o;
        jsOptions_Init(&o);
        o.Stream.Purge.Subject = subject;
        if (js_PurgeStream(s->js, s->pk_stream, &o, NULL) != NATS_OK ||
            (kvStore_Delete(s->medium, key) != NATS_OK)) {
            snprintf(s->failure, sizeof(s->failure), "prekeys: %s", nats_GetLastError(NULL));
            return -1;
        }
    }
    if (publish_one_time(s, op, subject) != 0)
        return -1;
    /* The medium-term prekey last: a refused publication leaves the stored one. */
    for (size_t i = 0; !op->refused && i < op->n_prekeys; i++)
        if (op->prekeys[i].medium && medium_put(s, key, &op->prekeys[i]) != 0)
            return -1;
    return 0;
}

/* The delete is the claim: of two nodes taking one prekey, one gets it, the other the next. */
static int claim_prekey(struct nats_store *s, uint8_t **msg, size_t len, uint64_t seq, void *arg)
{
    struct store_op *op = arg;
    int rc;

    op->one_time_left = true;
    if (!op->allow_one_time)
        return 1;
    rc = nats_delete_seq(s, s->pk_stream, seq, false, "prekey");
    if (rc == 1) {
        op->blob = *msg;
        op->blob_len = len;
        op->one_time = true;
        *msg = NULL;
    }
    return rc;
}

/* One of the owner's one-time prekeys, removed as it is handed out. */
static int take_one_time(struct nats_store *s, struct store_op *op)
{
    char subject[128];

    prekey_subject(s, op->env.recipient, subject);
    return walk(s, s->pk_stream, subject, claim_prekey, op) < 0 ? -1 : 0;
}

static int prekey_take(struct nats_store *s, struct store_op *op)
{
    char key[65];
    kvEntry *e = NULL;
    natsStatus st;

    if (take_one_time(s, op) != 0)
        return -1;
    if (op->one_time)
        return 0;
    nats_hex(op->env.recipient, 32, key);
    st = kvStore_Get(&e, s->medium, key);
    if (st == NATS_OK && kvEntry_ValueLen(e) > 16 &&
        nats_get_be64((const uint8_t *)kvEntry_Value(e) + 8) > op->cutoff) {
        op->blob_len = (size_t)kvEntry_ValueLen(e) - 16;
        if ((op->blob = malloc(op->blob_len)) == NULL) {
            kvEntry_Destroy(e);
            return -1;
        }
        memcpy(op->blob, (const uint8_t *)kvEntry_Value(e) + 16, op->blob_len);
    }
    kvEntry_Destroy(e);
    if (st != NATS_OK && st != NATS_NOT_FOUND) {
        snprintf(s->failure, sizeof(s->failure), "medium-term prekey: %s",
                 nats_GetLastError(NULL));
        return -1;
    }
    return 0;
}

int nats_run_op(struct nats_store *s, struct store_op *op)
{
    char subject[128];
    int64_t n;

    switch (op->kind) {
    case STORE_INSERT:
        return op->refused ? 0 : insert(s, op); /* refused: by the quota ledger */
    case STORE_DELETE:
        return delete_one(s, op);
    case STORE_EXPIRE:
        /* Orders go with a sweep's first step (always 0), envelopes in steps (store_nats_expire.c). */
        if (op->unit == 0)
            nats_orders_expire(s, op->cutoff);
        return nats_expire(s, op);
    case STORE_FETCH:
        /* A read sees the writes queued before it: the recipient's envelopes in flight land first. */
        return nats_pub_settle(s, op->env.recipient) != 0 ? -1 : fetch(s, op);
    case STORE_ERASE_STEP:
        /* Its cutoff is taken from the stream sequences of this node's earlier inserts. */
        return nats_pub_settle(s, NULL) != 0 ? -1 : erase_step(s, op);
    case STORE_DIRECTORY:
        return directory_put(s, op);
    case STORE_PREKEY_PUBLISH:
        return prekey_publish(s, op);
    case STORE_PREKEY_TAKE:
        return prekey_take(s, op);
    case STORE_PREKEY_COUNT:
        prekey_subject(s, op->env.recipient, subject);
        if ((n = nats_subject_count(s, s->pk_stream, subject)) < 0)
            return -1;
        op->count = (uint64_t)n;
        return 0;
    case STORE_BUDGET_READ:
        nats_budget_read(s, op);
        return 0;
    case STORE_BUDGET_WRITE:
        nats_budget_write(s, op);
        return 0;
    case STORE_PROBE:
        snprintf(subject, sizeof(subject), "%s.none", s->env_prefix);
        n = nats_subject_count(s, s->env_stream, subject);
        return n < 0 ? -1 : 0;
    case STORE_ORDER_PUT:
    case STORE_ORDER_PENDING:
    case STORE_RECEIPT_PUT:
    case STORE_ORDER_STATUS:
        return nats_orders_run(s, op);
    default:
        return 0;
    }
}
