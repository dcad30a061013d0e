/*
 * Encryption of the client's state at rest. The store sees row keys (ids
 * and counters, nothing secret) and sealed values only, but for the
 * passphrase hash's salt and limits and the store's format mark.
 */
#include <stdlib.h>
#include <string.h>

#include "vault.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define AD_MAX 300u

static const uint8_t check_plain[] = "parley/vault-check/v1";
static const uint8_t kdf_key[] = "kdf";
#define KDF_PARAMS_LEN (crypto_pwhash_SALTBYTES + 16u)

/*
 * meta/format (in clear): the layout of what the library keeps, written
 * when a store is created. Stores written by libparley 0.1.0 have none:
 * their outbox holds envelopes addressed to routing ids of wire version 1
 * and their conversations predate conversation ids bound to the customer,
 * so they are refused rather than half understood.
 */
static const uint8_t format_key[] = "format";
static const uint8_t format_value[] = "parley/store/v2";

/* PARLEY_OK for a store of this format; created (written) when the store is new. */
static parley_err check_format(const parley_store *store, bool is_new)
{
    uint8_t *got = NULL;
    size_t got_len = 0;
    int rc;

    if (is_new)
        return store->ops->put(store->ctx, "meta", format_key, sizeof(format_key) - 1, format_value,
                               sizeof(format_value) - 1) == 0
                   ? PARLEY_OK
                   : PARLEY_EIO;
    rc = store->ops->get(store->ctx, "meta", format_key, sizeof(format_key) - 1, &got, &got_len);
    if (rc < 0)
        return PARLEY_EIO;
    rc = rc == 1 && got_len == sizeof(format_value) - 1 && memcmp(got, format_value, got_len) == 0;
    free(got);
    return rc ? PARLEY_OK : PARLEY_EWRONGTYPE;
}

static size_t make_ad(uint8_t *ad, const char *table, const uint8_t *key, size_t key_len)
{
    size_t tlen = strlen(table);

    if (tlen + 1 + key_len > AD_MAX)
        return 0;
    memcpy(ad, table, tlen);
    ad[tlen] = 0;
    if (key_len > 0)
        memcpy(ad + tlen + 1, key, key_len);
    return tlen + 1 + key_len;
}

static parley_err seal_value(const struct parley__vault *v, const char *table, const uint8_t *key,
                             size_t key_len, const uint8_t *val, size_t val_len, uint8_t **out,
                             size_t *out_len)
{
    uint8_t ad[AD_MAX];
    size_t ad_len = make_ad(ad, table, key, key_len);
    uint8_t *buf;

    if (ad_len == 0)
        return PARLEY_EINVAL;
    buf = malloc(NONCE_LEN + val_len + TAG_LEN);
    if (buf == NULL)
        return PARLEY_ENOMEM;
    randombytes_buf(buf, NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + NONCE_LEN, NULL, val, val_len, ad, ad_len,
                                               NULL, buf, v->key);
    *out = buf;
    *out_len = NONCE_LEN + val_len + TAG_LEN;
    return PARLEY_OK;
}

static parley_err open_value(const struct parley__vault *v, const char *table, const uint8_t *key,
                             size_t key_len, const uint8_t *sealed, size_t len, uint8_t **out,
                             size_t *out_len)
{
    uint8_t ad[AD_MAX];
    size_t ad_len = make_ad(ad, table, key, key_len);
    uint8_t *buf;

    if (ad_len == 0 || len < NONCE_LEN + TAG_LEN)
        return PARLEY_EIO;
    buf = malloc(len - NONCE_LEN - TAG_LEN + 1);
    if (buf == NULL)
        return PARLEY_ENOMEM;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf, NULL, NULL, sealed + NONCE_LEN,
                                                   len - NONCE_LEN, ad, ad_len, sealed,
                                                   v->key) != 0) {
        free(buf);
        return PARLEY_EIO;
    }
    *out = buf;
    *out_len = len - NONCE_LEN - TAG_LEN;
    return PARLEY_OK;
}

/*
 * The Argon2id parameters, meta/kdf (in clear): salt (16) || opslimit (8,
 * LE) || memlimit (8, LE). Read from what the store holds (present), or
 * made with the limits of cost and written for a new store.
 */
static parley_err vault_kdf_params(const parley_store *store, bool present, const uint8_t *got,
                                   size_t got_len, parley_kdf_cost cost,
                                   uint8_t params[KDF_PARAMS_LEN], uint64_t *ops, uint64_t *mem)
{
    if (!present) {
        unsigned long long o;
        size_t m;

        parley__kdf_limits(cost, &o, &m);
        *ops = o;
        *mem = m;
        randombytes_buf(params, crypto_pwhash_SALTBYTES);
        memcpy(params + crypto_pwhash_SALTBYTES, ops, 8);
        memcpy(params + crypto_pwhash_SALTBYTES + 8, mem, 8);
        return store->ops->put(store->ctx, "meta", kdf_key, 3, params, KDF_PARAMS_LEN) == 0
                   ? PARLEY_OK
                   : PARLEY_EIO;
    }
    if (got_len != KDF_PARAMS_LEN)
        return PARLEY_EIO;
    memcpy(params, got, KDF_PARAMS_LEN);
    memcpy(ops, params + crypto_pwhash_SALTBYTES, 8);
    memcpy(mem, params + crypto_pwhash_SALTBYTES + 8, 8);
    if (*ops < crypto_pwhash_OPSLIMIT_MIN || *ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
        *mem < crypto_pwhash_MEMLIMIT_MIN || *mem > crypto_pwhash_MEMLIMIT_SENSITIVE)
        return PARLEY_EIO;
    return PARLEY_OK;
}

/* A known value sealed under the key tells a wrong passphrase from damage. */
static parley_err vault_check(struct parley__vault *v, const parley_store *store)
{
    static const uint8_t check_key[] = "check";
    uint8_t *got = NULL, *plain = NULL, *sealed = NULL;
    size_t got_len = 0, plain_len = 0, sealed_len = 0;
    parley_err err;
    int rc = store->ops->get(store->ctx, "meta", check_key, 5, &got, &got_len);

    if (rc < 0)
        return PARLEY_EIO;
    if (rc == 1) {
        err = open_value(v, "meta", check_key, 5, got, got_len, &plain, &plain_len);
        if (err == PARLEY_EIO)
            err = PARLEY_EPASSPHRASE;
        else if (err == PARLEY_OK &&
                 (plain_len != sizeof(check_plain) || memcmp(plain, check_plain, plain_len) != 0))
            err = PARLEY_EPASSPHRASE;
        free(plain);
    } else {
        err = seal_value(v, "meta", check_key, 5, check_plain, sizeof(check_plain), &sealed,
                         &sealed_len);
        if (err == PARLEY_OK &&
            store->ops->put(store->ctx, "meta", check_key, 5, sealed, sealed_len) != 0)
            err = PARLEY_EIO;
        free(sealed);
    }
    free(got);
    return err;
}

static parley_err vault_unlock(struct parley__vault *v, const parley_store *store, const char *pass,
                               size_t pass_len, parley_kdf_cost cost)
{
    uint8_t params[KDF_PARAMS_LEN];
    uint8_t *got = NULL;
    size_t got_len = 0;
    uint64_t ops = 0, mem = 0;
    parley_err err;
    int rc;

    memset(v, 0, sizeof(*v));
    v->store = *store;
    v->key = sodium_malloc(32);
    if (v->key == NULL)
        return PARLEY_ENOMEM;
    rc = store->ops->get(store->ctx, "meta", kdf_key, 3, &got, &got_len);
    if (rc < 0)
        return PARLEY_EIO;
    /* Before anything else: a store of another format is not touched. */
    err = check_format(store, rc == 0);
    if (err == PARLEY_OK)
        err = vault_kdf_params(store, rc == 1, got, got_len, cost, params, &ops, &mem);
    free(got);
    if (err != PARLEY_OK)
        return err;
    if (crypto_pwhash(v->key, 32, pass, pass_len, params, ops, (size_t)mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return PARLEY_ENOMEM;
    return vault_check(v, store);
}

void parley_store_close(parley_store *store)
{
    if (store == NULL || store->ops == NULL)
        return;
    if (store->ops->close != NULL)
        store->ops->close(store->ctx);
    store->ops = NULL;
    store->ctx = NULL;
}

parley_err parley__vault_open(struct parley__vault *v, const parley_store *store, const char *pass,
                              size_t pass_len, parley_kdf_cost cost)
{
    parley_err err = vault_unlock(v, store, pass, pass_len, cost);

    if (err != PARLEY_OK)
        parley__vault_close(v); /* the key, when it was made, is wiped and freed */
    return err;
}

/* Before a write outside the held transaction: its owner ends it. */
static void settle(struct parley__vault *v)
{
    if (v->held && !v->in_tx) {
        if (v->settle != NULL)
            v->settle(v->settle_arg);
        if (v->held)
            (void)parley__vault_commit_held(v);
    }
}

void parley__vault_close(struct parley__vault *v)
{
    settle(v);
    sodium_free(v->key); /* wipes */
    v->key = NULL;
}

void parley__vault_compact(struct parley__vault *v)
{
    /* Best effort: what it could not clear now goes with the next compaction or checkpoint. */
    settle(v);
    if (v->store.ops->compact != NULL && !v->in_tx)
        (void)v->store.ops->compact(v->store.ctx);
}

parley_err parley__vault_begin(struct parley__vault *v)
{
    settle(v);
    if (v->store.ops->begin(v->store.ctx) != 0)
        return PARLEY_EIO;
    v->in_tx = true;
    return PARLEY_OK;
}

parley_err parley__vault_commit(struct parley__vault *v)
{
    v->in_tx = false;
    if (v->store.ops->commit(v->store.ctx) != 0) {
        v->store.ops->rollback(v->store.ctx);
        return PARLEY_EIO;
    }
    return PARLEY_OK;
}

void parley__vault_rollback(struct parley__vault *v)
{
    v->in_tx = false;
    v->held = false;
    v->store.ops->rollback(v->store.ctx);
}

parley_err parley__vault_join(struct parley__vault *v)
{
    if (!v->held)
        return parley__vault_begin(v);
    v->held = false;
    v->in_tx = true;
    return PARLEY_OK;
}

void parley__vault_hold(struct parley__vault *v)
{
    v->in_tx = false;
    v->held = true;
}

parley_err parley__vault_commit_held(struct parley__vault *v)
{
    if (!v->held)
        return PARLEY_OK;
    v->held = false;
    return parley__vault_commit(v);
}

parley_err parley__vault_put(struct parley__vault *v, const char *table, const uint8_t *key,
                             size_t key_len, const uint8_t *val, size_t val_len)
{
    uint8_t *sealed;
    size_t sealed_len;
    parley_err err;

    settle(v);
    err = seal_value(v, table, key, key_len, val, val_len, &sealed, &sealed_len);
    if (err != PARLEY_OK)
        return err;
    if (v->store.ops->put(v->store.ctx, table, key, key_len, sealed, sealed_len) != 0)
        err = PARLEY_EIO;
    free(sealed);
    return err;
}

parley_err parley__vault_put_pb(struct parley__vault *v, const char *table, const uint8_t *key,
                                size_t key_len, const ProtobufCMessage *msg)
{
    uint8_t *buf;
    size_t len;
    parley_err err = parley__pack(msg, &buf, &len);

    if (err != PARLEY_OK)
        return err;
    err = parley__vault_put(v, table, key, key_len, buf, len);
    parley_free(buf, len);
    return err;
}

parley_err parley__vault_get(struct parley__vault *v, const char *table, const uint8_t *key,
                             size_t key_len, uint8_t **val, size_t *val_len)
{
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    parley_err err;
    int rc = v->store.ops->get(v->store.ctx, table, key, key_len, &sealed, &sealed_len);

    if (rc < 0)
        return PARLEY_EIO;
    if (rc == 0)
        return PARLEY_EINVAL;
    err = open_value(v, table, key, key_len, sealed, sealed_len, val, val_len);
    free(sealed);
    return err;
}

parley_err parley__vault_del(struct parley__vault *v, const char *table, const uint8_t *key,
                             size_t key_len)
{
    settle(v);
    return v->store.ops->del(v->store.ctx, table, key, key_len) == 0 ? PARLEY_OK : PARLEY_EIO;
}

struct wipe_keys {
    struct wipe_key {
        uint8_t *key;
        size_t len;
    } *v;
    size_t n, cap;
    bool failed;
};

static int wipe_collect(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    struct wipe_keys *w = arg;
    struct wipe_key *grown = parley__grow(w->v, &w->cap, w->n + 1, sizeof(*grown));

    (void)val, (void)val_len;
    if (grown == NULL) {
        w->failed = true;
        return 1;
    }
    w->v = grown;
    w->v[w->n].key = malloc(key_len > 0 ? key_len : 1);
    if (w->v[w->n].key == NULL) {
        w->failed = true;
        return 1;
    }
    memcpy(w->v[w->n].key, key, key_len);
    w->v[w->n++].len = key_len;
    return 0;
}

parley_err parley__vault_wipe(struct parley__vault *v, const char *const *tables, size_t n)
{
    parley_err err = parley__vault_begin(v);

    for (size_t t = 0; err == PARLEY_OK && t < n; t++) {
        struct wipe_keys w = {NULL, 0, 0, false};

        if (v->store.ops->scan(v->store.ctx, tables[t], NULL, 0, wipe_collect, &w) != 0)
            err = PARLEY_EIO;
        else if (w.failed)
            err = PARLEY_ENOMEM;
        for (size_t i = 0; i < w.n; i++) {
            if (err == PARLEY_OK)
                err = parley__vault_del(v, tables[t], w.v[i].key, w.v[i].len);
            free(w.v[i].key);
        }
        free(w.v);
    }
    if (err == PARLEY_OK)
        err = parley__vault_commit(v);
    else if (v->in_tx)
        parley__vault_rollback(v);
    if (err == PARLEY_OK)
        parley__vault_compact(v);
    return err;
}

struct scan_ctx {
    struct parley__vault *v;
    const char *table;
    parley__vault_scan_fn fn;
    void *arg;
    parley_err err;
};

static int scan_one(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                    size_t val_len)
{
    struct scan_ctx *s = arg;
    uint8_t *plain;
    size_t plain_len;
    int stop;

    s->err = open_value(s->v, s->table, key, key_len, val, val_len, &plain, &plain_len);
    if (s->err != PARLEY_OK)
        return 1;
    stop = s->fn(s->arg, key, key_len, plain, plain_len);
    parley_free(plain, plain_len);
    if (stop < 0)
        s->err = PARLEY_ENOMEM;
    return stop != 0;
}

parley_err parley__vault_scan(struct parley__vault *v, const char *table, const uint8_t *prefix,
                              size_t prefix_len, parley__vault_scan_fn fn, void *arg)
{
    struct scan_ctx s = {v, table, fn, arg, PARLEY_OK};

    if (v->store.ops->scan(v->store.ctx, table, prefix, prefix_len, scan_one, &s) != 0)
        return PARLEY_EIO;
    return s.err;
}
