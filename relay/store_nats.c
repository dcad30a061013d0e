/*
 * The store on a NATS JetStream cluster shared by several relay nodes
 * (docs/cluster.md): `--store nats://HOST:PORT,HOST:PORT,...`.
 *
 * One worker thread runs the batches the loop hands over, op by op
 * (store_nats_ops.c), with libnats's synchronous calls but for the
 * envelopes' publications, which a batch sends all at once and collects
 * the acknowledgements of before it completes (store_nats_pub.c);
 * between batches it
 * probes the envelope stream every second, which only its leader with a
 * quorum answers, so the relay knows at once when writes cannot be
 * stored. A batch that meets an unreachable store fails whole: its
 * senders get UNAVAILABLE and resend (the envelope id de-duplicates what
 * was stored after all).
 *
 * Live delivery between nodes: the envelope stream republishes each
 * stored envelope's headers on pr.<recipient>.l; a node subscribes to
 * that subject for every recipient whose connection it holds
 * (store_watch), and each copy becomes a notice that makes the loop read
 * the recipient's envelopes after its cursor from the stream's leader.
 * When the connection to NATS comes back, every watched recipient reads
 * again: copies sent meanwhile were lost.
 *
 * The audit outbox is this node's, in JetStream (store_nats_outbox.c):
 * a batch's entries are stored there before its results go back, so a
 * node killed before its log took them writes them at its next start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "internal.h" /* parley__grow, libparley's wire layer's checked growth */
#include "nkey.h"
#include "store_nats.h"

#define PROBE_MS 1000
#define MAX_URLS 16
/* Directories stored by other nodes waiting for the loop, at most. */
#define DIRS_MAX 1024u
/* The quota ledger's entries outlive the envelope stream's max_age by this much (the servers'
 * clocks apart, the publication after the reservation). */
#define LEDGER_MARGIN_NS 60000000000LL

void nats_hex(const uint8_t *p, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, p, n);
}

/* Wakes the loop, unless it is going. */
static void wake_loop(struct nats_store *s)
{
    bool quiet;

    pthread_mutex_lock(&s->lock);
    quiet = s->quiet;
    if (!quiet)
        s->wake(s->wake_arg); /* under the lock, so that store_quiet waits for it */
    pthread_mutex_unlock(&s->lock);
}

void nats_wake(struct nats_store *s)
{
    wake_loop(s);
}

static void set_reachable(struct nats_store *s, bool up)
{
    bool back;

    pthread_mutex_lock(&s->lock);
    back = up && !s->reachable;
    if (back)
        s->notice_all = true; /* what was missed while out of reach is read again */
    s->reachable = up;
    pthread_mutex_unlock(&s->lock);
    if (back)
        wake_loop(s);
}

static void nt_quiet(struct store *base)
{
    struct nats_store *s = (struct nats_store *)base;

    pthread_mutex_lock(&s->lock);
    s->quiet = true;
    pthread_mutex_unlock(&s->lock);
}

/* Whether the envelope stream's leader answers (with its quorum); records its size. */
static bool probe(struct nats_store *s)
{
    jsStreamInfo *si = NULL;
    jsOptions o;
    bool ok;

    if (natsConnection_Status(s->nc) != NATS_CONN_STATUS_CONNECTED)
        return false;
    jsOptions_Init(&o);
    o.Wait = PROBE_MS;
    ok = js_GetStreamInfo(&si, s->js, s->env_stream, &o, NULL) == NATS_OK;
    if (ok)
        store_set_bytes_used(&s->base, si->State.Bytes);
    jsStreamInfo_Destroy(si);
    return ok;
}

static void run_batch(struct nats_store *s, struct store_batch *b)
{
    bool ok = natsConnection_Status(s->nc) == NATS_CONN_STATUS_CONNECTED;

    s->failure[0] = '\0';
    b->audit_len = 0;
    if (!ok)
        snprintf(s->failure, sizeof(s->failure), "not connected to NATS");
    /* The quotas kept across nodes, before anything is published (store_nats_ledger.c). */
    if (ok)
        ok = nats_ledger_reserve(s, b->ops, b->n) == 0;
    for (size_t i = 0; ok && i < b->n;) {
        struct store_op *op = &b->ops[i];

        if (op->kind == STORE_INSERT || op->kind == STORE_FETCH || op->kind == STORE_DELETE) {
            i += nats_run_group(s, op, b->n - i, &ok);
            continue;
        }
        i++;
        if (op->kind == STORE_AUDIT_DONE)
            nats_outbox_done(s, op);
        else if (nats_run_op(s, op) != 0)
            ok = false;
    }
    /* Done once every envelope it published is answered; the audit entries follow the answers. */
    if (ok)
        ok = nats_pub_settle(s, NULL) == 0;
    else
        nats_pub_abandon(s);
    /* What was reserved and not stored goes back; what was removed is counted off. */
    nats_ledger_settle(s, b->ops, b->n);
    /* Before the results go back, the entries are in JetStream: a node killed then keeps them. */
    if (ok)
        ok = nats_outbox_record(s, b);
    for (size_t i = 0; i < b->n; i++) {
        struct store_op *op = &b->ops[i];

        op->ok = ok;
        if (ok)
            continue;
        store_op_clear_results(op);
        /*
         * A read the store could not answer finds nothing for now; the
         * recipient reads again once the store is back (notice_all), so
         * connected clients stay connected meanwhile.
         */
        op->ok = op->kind == STORE_FETCH;
    }
    b->err = ok ? 0 : 1;
    b->sys_err = 0;
    snprintf(b->errmsg, sizeof(b->errmsg), "%s", ok ? "" : s->failure);
    b->wrote = ok;
    if (!ok)
        set_reachable(s, false);
}

static uint64_t mono_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void reload_directories(struct nats_store *s);

/*
 * The store's thread (store.c's hand-off): batches, and a probe every
 * PROBE_MS, between them when idle, else after a batch, so that the
 * stream's size (max-db-bytes) stays current under a flood of sends too.
 */
static void worker_idle(void *arg)
{
    struct nats_store *s = arg;

    s->probed_ms = mono_ms();
    set_reachable(s, probe(s));
    reload_directories(s);
}

static void worker_run(void *arg, struct store_batch *b)
{
    struct nats_store *s = arg;

    run_batch(s, b);
    if (mono_ms() - s->probed_ms >= PROBE_MS)
        worker_idle(s);
}

static void worker_wake(void *arg)
{
    wake_loop(arg);
}

/* ------------------------------------------------------------------ */
/* Notices from libnats's threads */

static void on_claim(struct nats_store *s, const uint8_t routing[32], natsMsg *msg);

static void on_live(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    struct nats_store *s = closure;
    const char *subj = natsMsg_GetSubject(msg);
    uint8_t routing[32];
    bool queued = false;

    (void)nc;
    (void)sub;
    /* <live prefix>.<64 hex>.l (a stored envelope) or .c (a connection's claim) */
    size_t n = strlen(s->live_prefix);

    if (subj == NULL || strlen(subj) != n + 1 + 64 + 2 || strncmp(subj, s->live_prefix, n) != 0 ||
        sodium_hex2bin(routing, 32, subj + n + 1, 64, NULL, NULL, NULL) != 0) {
        natsMsg_Destroy(msg);
        return;
    }
    if (subj[n + 1 + 64 + 1] == 'c') {
        on_claim(s, routing, msg);
        return;
    }
    {
        pthread_mutex_lock(&s->lock);
        uint8_t(*grown)[32] = parley__grow(s->notices, &s->cap_notices, s->n_notices + 1, 32);

        if (grown != NULL)
            s->notices = grown;
        else
            s->notice_all = true; /* everyone reads again rather than lose this */
        if (s->n_notices < s->cap_notices)
            memcpy(s->notices[s->n_notices++], routing, 32);
        queued = true;
        pthread_mutex_unlock(&s->lock);
    }
    natsMsg_Destroy(msg);
    if (queued)
        wake_loop(s);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    struct nats_store *s = closure;

    (void)nc;
    pthread_mutex_lock(&s->lock);
    s->notice_all = true; /* live copies sent while disconnected are lost to this node */
    s->dirs_reload = true; /* and directories stored meanwhile (a revocation): the worker's */
    pthread_mutex_unlock(&s->lock);
    wake_loop(s);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    struct nats_store *s = closure;

    (void)nc;
    pthread_mutex_lock(&s->lock);
    s->reachable = false;
    pthread_mutex_unlock(&s->lock);
}

/* Another node's connection of routing authenticated: data is its node id and the time. */
static void on_claim(struct nats_store *s, const uint8_t routing[32], natsMsg *msg)
{
    const uint8_t *d = (const uint8_t *)natsMsg_GetData(msg);
    bool queued = false;

    if (natsMsg_GetDataLength(msg) == 24 && memcmp(d, s->node_id, 16) != 0) {
        pthread_mutex_lock(&s->lock);
        struct nats_claim *grown =
            parley__grow(s->claims, &s->cap_claims, s->n_claims + 1, sizeof(*grown));

        if (grown != NULL)
            s->claims = grown;
        if (s->n_claims < s->cap_claims) {
            memcpy(s->claims[s->n_claims].routing, routing, 32);
            s->claims[s->n_claims++].when_ms = nats_get_be64(d + 16);
            queued = true;
        }
        pthread_mutex_unlock(&s->lock);
    }
    natsMsg_Destroy(msg);
    if (queued)
        wake_loop(s);
}

/*
 * Hands a directory to the loop (nt_load_directories); false when no
 * memory took it, or when DIRS_MAX wait already (anyone able to publish
 * on NATS can send many): then the worker reads the bucket again at its
 * next idle moment (reload_directories), which holds each brand's last.
 */
static bool dir_queue(struct nats_store *s, const char *brand, uint64_t version,
                      const uint8_t *blob, size_t len)
{
    struct nats_dir d = {.version = version, .len = len};
    struct nats_dir *grown = NULL;
    bool queued = false;

    if (len == 0 || (d.blob = malloc(len)) == NULL)
        return false;
    snprintf(d.brand, sizeof(d.brand), "%s", brand);
    memcpy(d.blob, blob, len);
    pthread_mutex_lock(&s->lock);
    if (s->n_dirs_new < DIRS_MAX)
        grown = parley__grow(s->dirs_new, &s->cap_dirs_new, s->n_dirs_new + 1, sizeof(*grown));
    if (grown != NULL)
        s->dirs_new = grown;
    if (grown != NULL && s->n_dirs_new < s->cap_dirs_new) {
        s->dirs_new[s->n_dirs_new++] = d;
        s->directories = queued = true;
        d.blob = NULL;
    } else {
        s->dirs_reload = true;
    }
    pthread_mutex_unlock(&s->lock);
    free(d.blob);
    return queued;
}

/*
 * A directory was stored by some node: the message on $KV.<bucket>.<hex
 * brand id> carries the value itself (version, then the directory), which
 * the loop takes (nt_load_directories) rather than read the bucket again,
 * where a lagging replica could still answer with the older one.
 */
static void on_directory(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    struct nats_store *s = closure;
    const char *subj = natsMsg_GetSubject(msg), *key = subj != NULL ? strrchr(subj, '.') : NULL;
    int len = natsMsg_GetDataLength(msg);
    char brand[65];
    size_t blen = 0;

    (void)nc;
    (void)sub;
    if (key != NULL && len > 8 &&
        sodium_hex2bin((uint8_t *)brand, sizeof(brand) - 1, key + 1, strlen(key + 1), NULL,
                       &blen, NULL) == 0) {
        brand[blen] = '\0';
        if (dir_queue(s, brand, nats_get_be64((const uint8_t *)natsMsg_GetData(msg)),
                      (const uint8_t *)natsMsg_GetData(msg) + 8, (size_t)len - 8))
            wake_loop(s);
    }
    natsMsg_Destroy(msg);
}

static int nt_take_notice(struct store *base, uint8_t routing[32], uint64_t *when_ms)
{
    struct nats_store *s = (struct nats_store *)base;
    int kind = 0;

    pthread_mutex_lock(&s->lock);
    if (s->n_claims > 0) {
        s->n_claims--;
        memcpy(routing, s->claims[s->n_claims].routing, 32);
        *when_ms = s->claims[s->n_claims].when_ms;
        kind = 4;
    } else if (s->directories) {
        s->directories = false;
        kind = 3;
    } else if (s->notice_all) {
        s->notice_all = false;
        s->n_notices = 0;
        kind = 2;
    } else if (s->n_notices > 0) {
        memcpy(routing, s->notices[--s->n_notices], 32);
        kind = 1;
    }
    pthread_mutex_unlock(&s->lock);
    return kind;
}

static int nt_take_order(struct store *base, char brand_id[65], uint8_t **blob, size_t *len)
{
    return nats_orders_take((struct nats_store *)base, brand_id, blob, len);
}

static void nt_watch(struct store *base, const uint8_t routing[32], bool on)
{
    struct nats_store *s = (struct nats_store *)base;
    struct map_entry *e = map_get(&s->watched, routing);
    char subject[128], hex[65];

    if (!on) {
        if (e != NULL) {
            natsSubscription_Unsubscribe(e->ptr);
            natsSubscription_Destroy(e->ptr);
            map_del(&s->watched, routing);
        }
        return;
    }
    if (e != NULL || (e = map_put(&s->watched, routing)) == NULL)
        return;
    nats_hex(routing, 32, hex);
    snprintf(subject, sizeof(subject), "%s.%s.*", s->live_prefix, hex);
    if (natsConnection_Subscribe((natsSubscription **)&e->ptr, s->nc, subject, on_live, s) !=
        NATS_OK) {
        map_del(&s->watched, routing);
        pthread_mutex_lock(&s->lock);
        s->notice_all = true; /* without live copies, reads after the next probe catch up */
        pthread_mutex_unlock(&s->lock);
        return;
    }
    natsSubscription_SetPendingLimits(e->ptr, -1, -1);
    /* This node holds the connection now: an older one on another node is replaced (4004). */
    {
        uint8_t claim[24];
        struct timespec now;

        clock_gettime(CLOCK_REALTIME, &now);
        memcpy(claim, s->node_id, 16);
        nats_put_be64(claim + 16, (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u);
        snprintf(subject, sizeof(subject), "%s.%s.c", s->live_prefix, hex);
        natsConnection_Publish(s->nc, subject, claim, sizeof(claim));
    }
}

static bool nt_reachable(struct store *base)
{
    struct nats_store *s = (struct nats_store *)base;
    bool up;

    pthread_mutex_lock(&s->lock);
    up = s->reachable;
    pthread_mutex_unlock(&s->lock);
    return up;
}

/* ------------------------------------------------------------------ */
/* Opening */

static bool set_names(struct nats_store *s, const char *ns);

/*
 * Why libnats could not connect, without its source position ("(conn.c:1905): "), and
 * said plainly where it only reports the connection's end.
 */
static const char *connect_error(void)
{
    const char *e = nats_GetLastError(NULL), *p;

    if (e == NULL)
        return "unknown error";
    if (e[0] == '(' && (p = strstr(e, "): ")) != NULL)
        e = p + 3;
    if (strncmp(e, "Expected 'PONG', got ''", 23) == 0)
        return "the server closed the connection while it was being set up (with TLS: it does "
               "not accept this relay's client certificate, or wants one)";
    return e;
}

/*
 * The client's key files, each readable (named by its setting when not); a
 * .creds file must hold a user JWT, and a user NKey's public key is derived
 * from its seed file (libnats reads either file again to sign). 0, or -1.
 */
static int key_files(natsOptions *o, const struct store_client *c, char *err, size_t cap)
{
    const char *files[] = {c->tls_ca, c->tls_cert, c->tls_key, c->creds, c->nkey};
    static const char *const names[] = {"nats-tls-ca", "nats-tls-cert", "nats-tls-key",
                                        "nats-creds", "nats-nkey"};
    char pub[NKEY_PUBLIC_LEN + 1], why[600];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        FILE *f = files[i][0] != '\0' ? fopen(files[i], "r") : NULL;

        if (files[i][0] != '\0' && f == NULL) {
            snprintf(err, cap, "nats: %s %s: %s", names[i], files[i], strerror(errno));
            return -1;
        }
        if (f != NULL)
            fclose(f);
    }
    if (c->creds[0] != '\0' && nkey_creds_check(c->creds, why, sizeof(why)) != 0) {
        snprintf(err, cap, "nats: nats-creds %s", why);
        return -1;
    }
    if (c->nkey[0] != '\0' && nkey_file_user_public(c->nkey, pub, why, sizeof(why)) != 0) {
        snprintf(err, cap, "nats: nats-nkey %s", why);
        return -1;
    }
    if (c->nkey[0] != '\0' && natsOptions_SetNKeyFromSeed(o, pub, c->nkey) != NATS_OK) {
        snprintf(err, cap, "nats: nats-nkey %s: %s", c->nkey, connect_error());
        return -1;
    }
    return 0;
}

/* Authentication and TLS as the configuration gives them (docs/operations.md). 0, or -1. */
static int client_options(natsOptions *o, const struct store_client *c, char *err, size_t cap)
{
    const char *what = NULL;

    if (key_files(o, c, err, cap) != 0)
        return -1;
    if (c->user[0] != '\0' && natsOptions_SetUserInfo(o, c->user, c->password) != NATS_OK)
        what = "nats-user";
    else if (c->token[0] != '\0' && natsOptions_SetToken(o, c->token) != NATS_OK)
        what = "nats-token";
    else if (c->creds[0] != '\0' &&
             natsOptions_SetUserCredentialsFromFiles(o, c->creds, NULL) != NATS_OK)
        what = c->creds;
    else if ((c->tls_ca[0] != '\0' || c->tls_cert[0] != '\0') &&
             natsOptions_SetSecure(o, true) != NATS_OK)
        what = "TLS";
    else if (c->tls_ca[0] != '\0' && natsOptions_LoadCATrustedCertificates(o, c->tls_ca) != NATS_OK)
        what = c->tls_ca;
    else if (c->tls_cert[0] != '\0' &&
             natsOptions_LoadCertificatesChain(o, c->tls_cert, c->tls_key) != NATS_OK)
        what = c->tls_cert;
    if (what == NULL)
        return 0;
    snprintf(err, cap, "nats: %s: %s", what, connect_error());
    return -1;
}

static int connect_to(struct nats_store *s, const char *where, char *err, size_t cap)
{
    char list[512], *save = NULL, *tok;
    char urls[MAX_URLS][128];
    const char *ptrs[MAX_URLS];
    int n = 0;
    natsOptions *o = NULL;
    natsStatus st;

    /* WHERE of nats://a:4222,b:4222/NAMESPACE is //a:4222,b:4222/NAMESPACE */
    snprintf(list, sizeof(list), "%s", where[0] == '/' && where[1] == '/' ? where + 2 : where);
    tok = strchr(list, '/');
    if (tok != NULL)
        *tok++ = '\0';
    if (!set_names(s, tok != NULL ? tok : "")) {
        snprintf(err, cap, "nats:%s: a namespace is 1 to 32 letters, digits, '_' or '-'", where);
        return -1;
    }
    for (tok = strtok_r(list, ",", &save); tok != NULL && n < MAX_URLS;
         tok = strtok_r(NULL, ",", &save)) {
        if (tok[0] == '\0')
            continue;
        snprintf(urls[n], sizeof(urls[n]), "%s%s", strstr(tok, "://") ? "" : "nats://", tok);
        ptrs[n] = urls[n];
        n++;
    }
    if (n == 0) {
        snprintf(err, cap, "nats:%s: no server named", where);
        return -1;
    }
    /* As many replicas as servers named (a cluster of three: R3), five at most; an existing
     * stream's are never lowered (ensure_stream). */
    s->replicas = n > 5 ? 5 : n;
    if (natsOptions_Create(&o) != NATS_OK || natsOptions_SetServers(o, ptrs, n) != NATS_OK ||
        natsOptions_SetMaxReconnect(o, -1) != NATS_OK ||
        natsOptions_SetReconnectWait(o, 250) != NATS_OK ||
        natsOptions_SetPingInterval(o, 1000) != NATS_OK ||
        natsOptions_SetMaxPingsOut(o, 2) != NATS_OK ||
        natsOptions_SetFailRequestsOnDisconnect(o, true) != NATS_OK ||
        natsOptions_SetReconnectBufSize(o, 0) != NATS_OK ||
        /* Publications and pipelined requests leave at once, not when libnats's flusher wakes
         * (about a millisecond later, several on a busy machine): a batch waits for them. */
        natsOptions_SetSendAsap(o, true) != NATS_OK ||
        natsOptions_SetRetryOnFailedConnect(o, false, NULL, NULL) != NATS_OK ||
        natsOptions_SetReconnectedCB(o, on_reconnected, s) != NATS_OK ||
        natsOptions_SetDisconnectedCB(o, on_disconnected, s) != NATS_OK) {
        natsOptions_Destroy(o);
        snprintf(err, cap, "nats:%s: cannot set the client's options", where);
        return -1;
    }
    if (client_options(o, &s->params.client, err, cap) != 0) {
        natsOptions_Destroy(o);
        return -1;
    }
    st = natsConnection_Connect(&s->nc, o);
    natsOptions_Destroy(o);
    if (st != NATS_OK) {
        snprintf(err, cap, "nats:%s: cannot connect: %s", where, connect_error());
        return -1;
    }
    if (natsConnection_JetStream(&s->js, s->nc, NULL) != NATS_OK || nats_pub_init(s) != 0 ||
        nats_group_init(s) != 0 || nats_ledger_init(s) != 0) {
        snprintf(err, cap, "nats:%s: no JetStream context", where);
        return -1;
    }
    return 0;
}

/* Creates the stream, or brings an existing one's settings to cfg. */
/*
 * Creates the stream, or brings an existing one to cfg's settings, except
 * that its replication is never lowered: a node given fewer servers in
 * `store` than the one that created it (one name behind a DNS entry, say)
 * leaves the cluster's R3 as it is.
 */
static int ensure_stream(struct nats_store *s, jsStreamConfig *cfg, char *err, size_t cap)
{
    jsErrCode code = 0;
    natsStatus st = js_AddStream(NULL, s->js, cfg, NULL, &code);

    if (st != NATS_OK) {
        jsStreamInfo *si = NULL;

        if (js_GetStreamInfo(&si, s->js, cfg->Name, NULL, NULL) == NATS_OK &&
            si->Config->Replicas > cfg->Replicas)
            cfg->Replicas = si->Config->Replicas;
        jsStreamInfo_Destroy(si);
        st = js_UpdateStream(NULL, s->js, cfg, NULL, &code);
    }
    if (st != NATS_OK) {
        snprintf(err, cap, "stream %s: %s (JetStream error %d)", cfg->Name,
                 nats_GetLastError(NULL), (int)code);
        return -1;
    }
    return 0;
}

/*
 * An existing bucket's max age brought to ttl_ns (its stream KV_<bucket>),
 * as ensure_stream brings an envelope stream's: the ttl or the sender
 * window changed since the bucket was made. Its duplicate window is kept
 * within the new age, as JetStream requires.
 */
static int kv_max_age(struct nats_store *s, const char *bucket, int64_t ttl_ns, char *err,
                      size_t cap)
{
    char stream[112];
    jsStreamInfo *si = NULL;
    jsErrCode code = 0;
    natsStatus st;

    snprintf(stream, sizeof(stream), "KV_%s", bucket);
    if (js_GetStreamInfo(&si, s->js, stream, NULL, &code) != NATS_OK) {
        snprintf(err, cap, "key-value bucket %s: %s (JetStream error %d)", bucket,
                 nats_GetLastError(NULL), (int)code);
        return -1;
    }
    st = NATS_OK;
    if (si->Config->MaxAge != ttl_ns) {
        si->Config->MaxAge = ttl_ns;
        if (ttl_ns > 0 && si->Config->Duplicates > ttl_ns)
            si->Config->Duplicates = ttl_ns;
        st = js_UpdateStream(NULL, s->js, si->Config, NULL, &code);
    }
    jsStreamInfo_Destroy(si);
    if (st != NATS_OK) {
        snprintf(err, cap, "key-value bucket %s: max age: %s (JetStream error %d)", bucket,
                 nats_GetLastError(NULL), (int)code);
        return -1;
    }
    return 0;
}

static int ensure_kv(struct nats_store *s, kvStore **kv, const char *name, int64_t ttl_ns,
                     char *err, size_t cap)
{
    char bucket[96];
    kvConfig kc;

    snprintf(bucket, sizeof(bucket), "%s%s", s->bucket_prefix, name);
    kvConfig_Init(&kc);
    kc.Bucket = bucket;
    kc.History = 1;
    kc.TTL = ttl_ns;
    kc.StorageType = js_FileStorage;
    kc.Replicas = s->replicas;
    if (js_CreateKeyValue(kv, s->js, &kc) == NATS_OK)
        return 0;
    if (js_KeyValue(kv, s->js, bucket) != NATS_OK) {
        snprintf(err, cap, "key-value bucket %s: %s", bucket, nats_GetLastError(NULL));
        return -1;
    }
    return kv_max_age(s, bucket, ttl_ns, err, cap);
}

/* A stream's settings common to all: one subject filter, file storage, the store's replicas. */
static void stream_config(const struct nats_store *s, jsStreamConfig *c, const char *name,
                          const char **subjects)
{
    jsStreamConfig_Init(c);
    c->Name = name;
    c->Subjects = subjects;
    c->SubjectsLen = 1;
    c->Storage = js_FileStorage;
    c->Replicas = s->replicas;
}

int nats_kv_open(struct nats_store *s, kvStore **kv, const char *name, int64_t ttl_ns, char *err,
                 size_t cap)
{
    return ensure_kv(s, kv, name, ttl_ns, err, cap);
}

/*
 * The envelope stream's max_age: a backstop for when no relay runs, above
 * the ttl so that the relays' sweeps (which count and audit what they
 * remove) normally come first. A sweep reaches an envelope at most one
 * expiry-interval (plus the second its arrival time is rounded to) after
 * its ttl; one more interval covers a sweep still going on in steps
 * through a large backlog; a minute more covers the relay nodes' clocks
 * apart (kept in NTP) and a stream leader's election (about 5 to 7 s).
 */
static int64_t max_age_ns(const struct store_params *p)
{
    return ((int64_t)p->ttl + 2 * (int64_t)p->expiry_interval + 61) * 1000000000LL;
}

static int ensure_layout(struct nats_store *s, char *err, size_t cap)
{
    const struct store_params *p = &s->params;
    char env_all[64], pk_all[64], au_all[64], live[80];
    const char *env_subjects[] = {env_all}, *pk_subjects[] = {pk_all}, *au_subjects[] = {au_all};
    int64_t ttl_ns = (int64_t)p->ttl * 1000000000LL;
    int64_t window_ns = (int64_t)p->sender_window * 1000000000LL;
    jsRePublish rp = {env_all, live, true};
    jsStreamConfig c;

    snprintf(env_all, sizeof(env_all), "%s.*", s->env_prefix);
    snprintf(pk_all, sizeof(pk_all), "%s.*", s->pk_prefix);
    snprintf(au_all, sizeof(au_all), "%s.*", s->au_prefix);
    snprintf(live, sizeof(live), "%s.{{wildcard(1)}}.l", s->live_prefix);
    stream_config(s, &c, s->env_stream, env_subjects);
    c.MaxAge = max_age_ns(p);
    c.MaxMsgsPerSubject = p->quota_count;
    c.Discard = js_DiscardNew;
    c.DiscardNewPerSubject = true;
    c.MaxMsgSize = (int32_t)(p->max_frame + NATS_ENV_HEAD);
    c.Duplicates = ttl_ns < 600000000000LL ? ttl_ns : 600000000000LL;
    c.RePublish = &rp;
    if (ensure_stream(s, &c, err, cap) != 0)
        return -1;
    stream_config(s, &c, s->pk_stream, pk_subjects);
    c.MaxMsgSize = (int32_t)p->max_frame;
    /* The per-agent limit is the server's, exact across nodes (store_nats_ops.c's publication). */
    c.MaxMsgsPerSubject = STORE_PREKEYS_PER_OWNER;
    c.Discard = js_DiscardNew;
    c.DiscardNewPerSubject = true;
    if (ensure_stream(s, &c, err, cap) != 0)
        return -1;
    /* Each node's audit outbox, au.<node> (store_nats_outbox.c). A row older than the audit
     * log keeps its entries is of no use: that of a node id no node uses any more goes then. */
    stream_config(s, &c, s->au_stream, au_subjects);
    c.MaxAge = (int64_t)p->audit_retention * 1000000000LL;
    if (ensure_stream(s, &c, err, cap) != 0)
        return -1;
    return ensure_kv(s, &s->dirs, "directories", 0, err, cap) != 0 ||
                   ensure_kv(s, &s->medium, "medium_prekeys", 0, err, cap) != 0 ||
                   ensure_kv(s, &s->erasure, "erasure", ttl_ns, err, cap) != 0 ||
                   ensure_kv(s, &s->meta, "meta", 0, err, cap) != 0 ||
                   ensure_kv(s, &s->budgets, "budgets", window_ns, err, cap) != 0 ||
                   /* An entry nobody wrote for longer counts only envelopes gone, also when
                    * no relay swept them (the stream's max_age removed them). */
                   ensure_kv(s, &s->quota, "quota", max_age_ns(p) + LEDGER_MARGIN_NS, err,
                             cap) != 0 ||
                   nats_orders_open(s, err, cap) != 0
               ? -1
               : 0;
}

/* The names under the namespace (empty: none); false for a namespace NATS cannot carry. */
static bool set_names(struct nats_store *s, const char *ns)
{
    size_t n = strlen(ns);
    bool ok = n <= 32;

    for (size_t i = 0; i < n && ok; i++)
        ok = (ns[i] >= 'a' && ns[i] <= 'z') || (ns[i] >= 'A' && ns[i] <= 'Z') ||
             (ns[i] >= '0' && ns[i] <= '9') || ns[i] == '_' || ns[i] == '-';
    if (!ok)
        return false;
    snprintf(s->env_stream, sizeof(s->env_stream), "PARLEY_%.32s%sENV_0", ns, n ? "_" : "");
    snprintf(s->pk_stream, sizeof(s->pk_stream), "PARLEY_%.32s%sPREKEYS", ns, n ? "_" : "");
    snprintf(s->env_prefix, sizeof(s->env_prefix), "%.32s%spe.0", ns, n ? "." : "");
    snprintf(s->pk_prefix, sizeof(s->pk_prefix), "%.32s%spk", ns, n ? "." : "");
    snprintf(s->live_prefix, sizeof(s->live_prefix), "%.32s%spr", ns, n ? "." : "");
    snprintf(s->bucket_prefix, sizeof(s->bucket_prefix), "parley_%.32s%s", ns, n ? "_" : "");
    snprintf(s->au_stream, sizeof(s->au_stream), "PARLEY_%.32s%sAUDIT", ns, n ? "_" : "");
    snprintf(s->au_prefix, sizeof(s->au_prefix), "%.32s%sau", ns, n ? "." : "");
    return true;
}

static void nt_close(struct store *base);

static int nt_open(struct store **out, const char *where, store_wake_fn wake, void *wake_arg,
                   uint64_t *max_seq, char *err, size_t cap)
{
    struct nats_store *s = calloc(1, sizeof(*s));
    struct store_worker worker = {worker_run, worker_wake, worker_idle, PROBE_MS, s};
    char dir_subject[96];

    *out = NULL;
    *max_seq = 0; /* the stream orders envelopes, not the relay */
    if (s == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    store_handoff_init(&s->base);
    s->wake = wake;
    s->wake_arg = wake_arg;
    s->params = *store_params();
    s->next_row = 1;
    s->reachable = true;
    randombytes_buf(s->node_id, sizeof(s->node_id));
    if (map_init(&s->watched) != 0) {
        snprintf(err, cap, "out of memory");
        goto fail;
    }
    if (connect_to(s, where, err, cap) != 0 || ensure_layout(s, err, cap) != 0)
        goto fail;
    snprintf(dir_subject, sizeof(dir_subject), "$KV.%sdirectories.>", s->bucket_prefix);
    if (natsConnection_Subscribe(&s->dir_sub, s->nc, dir_subject, on_directory, s) != NATS_OK) {
        snprintf(err, cap, "cannot watch the directories");
        goto fail;
    }
    if (store_handoff_start(&s->base, &worker) != 0) {
        snprintf(err, cap, "cannot start the store's thread");
        goto fail;
    }
    *out = &s->base;
    return 0;
fail:
    nt_close(&s->base);
    return -1;
}

static bool drop_watch(struct map_entry *e, void *arg)
{
    (void)arg;
    natsSubscription_Destroy(e->ptr);
    return true;
}

/* A store whose library threads outlived nt_close's wait: never freed. */
static struct nats_store *left_open;

static void nt_close(struct store *base)
{
    struct nats_store *s = (struct nats_store *)base;

    if (s == NULL)
        return;
    store_handoff_stop(&s->base);
    /* Closed first: no message or event is delivered to this store after. */
    if (s->nc != NULL)
        natsConnection_Close(s->nc);
    if (s->watched.buckets != NULL) {
        map_sweep(&s->watched, drop_watch, NULL);
        map_free(&s->watched);
    }
    natsSubscription_Destroy(s->dir_sub);
    natsSubscription_Destroy(s->req.sub);
    natsSubscription_Destroy(s->led_replies.sub);
    nats_orders_close(s);
    kvStore_Destroy(s->dirs);
    kvStore_Destroy(s->medium);
    kvStore_Destroy(s->erasure);
    kvStore_Destroy(s->meta);
    kvStore_Destroy(s->budgets);
    kvStore_Destroy(s->quota);
    jsCtx_Destroy(s->js);
    jsCtx_Destroy(s->js_pub);
    natsConnection_Destroy(s->nc);
    /*
     * libnats calls back on threads of its own (connection events,
     * subscriptions) that may still run after the close: the library is
     * torn down, waiting for them, before the store they point to goes.
     * The relay opens one store per process. Should they not all be
     * gone within the wait, the store stays allocated (reachable from
     * here: no leak is reported) for whatever of them still runs.
     */
    if (nats_CloseAndWait(5000) != NATS_OK) {
        left_open = s;
        return;
    }
    nats_pub_free(s);
    nats_outbox_free(s);
    nats_orders_free(s);
    free(s->notices);
    free(s->claims);
    for (size_t i = 0; i < s->n_dirs_new; i++)
        free(s->dirs_new[i].blob);
    free(s->dirs_new);
    free(s->led);
    free(s->led_ops);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ------------------------------------------------------------------ */
/* Start-up reads */

/* The relay's secrets are the cluster's: the first node creates each, the others read it. */
static int nt_meta(struct store *base, const char *name, uint8_t out[32])
{
    struct nats_store *s = (struct nats_store *)base;

    for (int attempt = 0; attempt < 3; attempt++) {
        kvEntry *e = NULL;
        natsStatus st = kvStore_Get(&e, s->meta, name);

        if (st == NATS_OK && kvEntry_ValueLen(e) == 32) {
            memcpy(out, kvEntry_Value(e), 32);
            kvEntry_Destroy(e);
            return 0;
        }
        kvEntry_Destroy(e);
        if (st != NATS_NOT_FOUND)
            return -1;
        randombytes_buf(out, 32);
        if (kvStore_Create(NULL, s->meta, name, out, 32) == NATS_OK)
            return 0;
    }
    return -1;
}

static int nt_load_quotas(struct store *base, store_quota_fn fn, void *arg)
{
    (void)base;
    (void)fn;
    (void)arg;
    return 0; /* the stream counts per recipient itself */
}

/*
 * Calls fn on every stored directory. The keys and each one's last value
 * are the bucket stream's leader's (a replica just back could answer with
 * an older one, or list fewer keys). 0 or -1.
 */
static int read_directories(struct nats_store *s, store_dir_fn fn, void *arg)
{
    char stream[112], filter[112];
    jsStreamInfo *si = NULL;
    jsOptions o;
    int rc = 0;

    snprintf(stream, sizeof(stream), "KV_%sdirectories", s->bucket_prefix);
    snprintf(filter, sizeof(filter), "$KV.%sdirectories.>", s->bucket_prefix);
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = filter;
    if (js_GetStreamInfo(&si, s->js, stream, &o, NULL) != NATS_OK)
        return -1;
    for (int i = 0; si->State.Subjects != NULL && i < si->State.Subjects->Count && rc == 0; i++) {
        const char *subject = si->State.Subjects->List[i].Subject, *key = strrchr(subject, '.');
        natsMsg *m = NULL;
        char brand[65];
        size_t blen = 0;
        int len;

        if (js_GetLastMsg(&m, s->js, stream, subject, NULL, NULL) != NATS_OK) {
            rc = -1;
            break;
        }
        len = natsMsg_GetDataLength(m);
        /* A deleted key's last message is empty. */
        if (len > 8 && key != NULL &&
            sodium_hex2bin((uint8_t *)brand, sizeof(brand) - 1, key + 1, strlen(key + 1), NULL,
                           &blen, NULL) == 0) {
            const uint8_t *v = (const uint8_t *)natsMsg_GetData(m);

            brand[blen] = '\0';
            fn(arg, brand, nats_get_be64(v), v + 8, (size_t)len - 8);
        }
        natsMsg_Destroy(m);
    }
    jsStreamInfo_Destroy(si);
    return rc;
}

static void queue_directory(void *arg, const char *brand, uint64_t version, const uint8_t *blob,
                            size_t len)
{
    (void)dir_queue(arg, brand, version, blob, len);
}

/*
 * Worker, after a reconnection: every directory read again and handed to
 * the loop, which keeps the newer ones, so that one stored by another node
 * while this one was cut off (its live message lost) is not missed until
 * the next. Tried again at the next idle moment when the read fails.
 */
static void reload_directories(struct nats_store *s)
{
    bool reload;

    pthread_mutex_lock(&s->lock);
    reload = s->dirs_reload;
    s->dirs_reload = false;
    pthread_mutex_unlock(&s->lock);
    if (!reload)
        return;
    if (read_directories(s, queue_directory, s) != 0) {
        pthread_mutex_lock(&s->lock);
        s->dirs_reload = true;
        pthread_mutex_unlock(&s->lock);
        return;
    }
    wake_loop(s);
}

/* At start, every stored directory; later, those stored since by any node (on_directory). */
static int nt_load_directories(struct store *base, store_dir_fn fn, void *arg)
{
    struct nats_store *s = (struct nats_store *)base;
    struct nats_dir *list;
    size_t n;

    if (!s->started) {
        s->started = true;
        return read_directories(s, fn, arg);
    }
    pthread_mutex_lock(&s->lock);
    list = s->dirs_new;
    n = s->n_dirs_new;
    s->dirs_new = NULL;
    s->n_dirs_new = s->cap_dirs_new = 0;
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < n; i++) {
        fn(arg, list[i].brand, list[i].version, list[i].blob, list[i].len);
        free(list[i].blob);
    }
    free(list);
    return 0;
}

const struct store_ops store_nats_ops = {
    .kind = "nats",
    .open = nt_open,
    .close = nt_close,
    .meta = nt_meta,
    .load_quotas = nt_load_quotas,
    .load_directories = nt_load_directories,
    .outbox_open = nats_outbox_open,
    .outbox_read = nats_outbox_read,
    .outbox_mark = nats_outbox_mark,
    .watch = nt_watch,
    .take_notice = nt_take_notice,
    .take_order = nt_take_order,
    .reachable = nt_reachable,
    .quiet = nt_quiet,
};
