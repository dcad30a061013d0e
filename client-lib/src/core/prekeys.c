/*
 * Agents' prekeys: one-time prekeys published to the relay, the medium-term
 * prekey maintained and published, their secrets at rest.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define PREKEY_TARGET 20u
#define PREKEY_LOW 8u

/* Sends prekeys (n, each unpacked by parley__prekey_sign) in one publication, and frees them. */
static void send_prekeys(struct parley__core *c, Parley__Prekey **pks, size_t n, bool replace)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__PrekeyPublish pub = PARLEY__PREKEY_PUBLISH__INIT;

    pub.prekeys = pks;
    pub.n_prekeys = n;
    pub.replace = replace;
    f.kind_case = PARLEY__FRAME__KIND_PREKEY_PUBLISH;
    f.prekey_publish = &pub;
    if (n > 0)
        queue_frame(c, &f);
    for (size_t i = 0; i < n; i++)
        parley__prekey__free_unpacked(pks[i], NULL);
}

/*
 * Publishes fresh one-time prekeys up to PREKEY_TARGET; their secrets are
 * stored first. replace: the relay drops the ones stored before.
 */
void publish_prekeys(struct parley__core *c, uint64_t now, bool replace)
{
    Parley__Prekey *pks[PREKEY_TARGET];
    size_t n = 0, want;

    if (!c->agent || c->prekeys_left >= PREKEY_LOW)
        return;
    want = PREKEY_TARGET - c->prekeys_left;
    if (parley__vault_begin(c->vault) != PARLEY_OK)
        return;
    for (; n < want; n++) {
        Parley__StoredKey sk = PARLEY__STORED_KEY__INIT;
        uint8_t pk[32], sec[32];
        parley_err err;

        crypto_box_keypair(pk, sec);
        sk.public_key = (ProtobufCBinaryData){32, pk};
        sk.secret_key = (ProtobufCBinaryData){32, sec};
        sk.created_ms = now;
        err = parley__vault_put_pb(c->vault, "prekey", pk, 32, &sk.base);
        sodium_memzero(sec, sizeof(sec));
        if (err != PARLEY_OK || parley__prekey_sign(c->id, pk, now, false, &pks[n]) != PARLEY_OK)
            break;
    }
    if (n == want && parley__vault_commit(c->vault) == PARLEY_OK) {
        send_prekeys(c, pks, n, replace);
        c->prekeys_left = PREKEY_TARGET;
        return;
    }
    if (n != want)
        parley__vault_rollback(c->vault);
    for (size_t i = 0; i < n; i++)
        parley__prekey__free_unpacked(pks[i], NULL);
}

/*
 * Agents: the medium-term prekey, for when no one-time prekey is left. A
 * new one is made and published when there is none or the newest is a
 * week old (only while connected, so it reaches the relay at once); on
 * each connection the newest is published again (the relay keeps the
 * newest per agent, so this is harmless and restores one a relay lost);
 * secrets past their grace are deleted, connected or not.
 */
void mt_maintain(struct parley__core *c, uint64_t now, bool connected_now)
{
    struct parley__mtkeys keys;
    Parley__Prekey *pk = NULL;
    bool ready = c->net == NET_READY, fresh = false;
    parley_err err;

    if (!c->agent)
        return;
    c->mt_next = UINT64_MAX;
    if (parley__mtkeys_load(c->vault, &keys) != PARLEY_OK)
        return;
    err = parley__vault_begin(c->vault);
    if (err == PARLEY_OK) {
        parley__mtkeys_sweep(c->vault, &keys, now);
        if (ready && parley__mtkeys_due(&keys, now)) {
            err = parley__mtkeys_add(c->vault, &keys, now);
            fresh = err == PARLEY_OK;
        }
        if (err == PARLEY_OK)
            err = parley__vault_commit(c->vault);
        else
            parley__vault_rollback(c->vault);
    }
    if (err == PARLEY_OK && ready && (fresh || connected_now) && keys.n > 0 &&
        parley__prekey_sign(c->id, keys.k[keys.n - 1].pk, keys.k[keys.n - 1].created_ms, true,
                            &pk) == PARLEY_OK)
        send_prekeys(c, &pk, 1, false);
    c->mt_next = parley__mtkeys_deadline(&keys, ready);
    parley__mtkeys_wipe(&keys);
}

int collect_prekey(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                   size_t val_len)
{
    struct key_list *l = arg;
    Parley__StoredKey *k;

    if (l->n == 64)
        return 1;
    k = parley__stored_key__unpack(&parley__wiping_allocator, val_len, val);
    if (k != NULL && parley__len_is(k->public_key, 32) && parley__len_is(k->secret_key, 32)) {
        memcpy(l->keys[l->n].pk, k->public_key.data, 32);
        memcpy(l->keys[l->n].sk, k->secret_key.data, 32);
        l->n++;
    }
    if (k != NULL)
        parley__stored_key__free_unpacked(k, &parley__wiping_allocator);
    return 0;
}
