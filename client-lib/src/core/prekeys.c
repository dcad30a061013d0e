/*
 * Agents' prekeys: one-time prekeys published to the relay, the medium-term
 * prekey maintained and published, their secrets at rest.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define PREKEY_TARGET 20u
#define PREKEY_LOW 8u

static int collect_prekey(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                          size_t val_len)
{
    struct key_list *l = arg;
    Parley__StoredKey *k;

    (void)key;
    (void)key_len;
    if (l->n == PREKEY_KEEP)
        return 1;
    k = parley__stored_key__unpack(&parley__wiping_allocator, val_len, val);
    if (k != NULL && parley__len_is(k->public_key, 32) && parley__len_is(k->secret_key, 32)) {
        memcpy(l->keys[l->n].pk, k->public_key.data, 32);
        memcpy(l->keys[l->n].sk, k->secret_key.data, 32);
        l->keys[l->n].created = k->created_ms;
        l->n++;
    }
    if (k != NULL)
        parley__stored_key__free_unpacked(k, &parley__wiping_allocator);
    return 0;
}

/* The one-time prekey secrets this agent holds (at most PREKEY_KEEP), or NULL without memory. */
struct key_list *prekeys_load(struct parley__core *c)
{
    struct key_list *l = calloc(1, sizeof(*l));

    if (l != NULL)
        parley__vault_scan(c->vault, "prekey", NULL, 0, collect_prekey, l);
    return l;
}

void prekeys_unload(struct key_list *l)
{
    if (l == NULL)
        return;
    sodium_memzero(l, sizeof(*l));
    free(l);
}

/*
 * How many one-time prekeys to publish now (*want): up to PREKEY_TARGET on
 * the relay, with never more than PREKEY_KEEP secrets held, so that
 * someone taking prekeys and never using them makes senders fall back on
 * the medium-term prekey, not on secrets this client would not try. When
 * the relay has just said it has none of ours left (counted: not a guess
 * from a medium-term first contact, which a rate limit also causes), every
 * one published was handed out:
 * the secrets of those made more than PREKEY_KEEP_MS ago are deleted
 * first, in the caller's transaction: a first contact sealed to one that
 * has not come by then is given up, as one sealed to a medium-term prekey
 * whose secret is gone.
 */
static parley_err prekeys_room(struct parley__core *c, uint64_t now, bool counted, size_t *want)
{
    struct key_list *l = prekeys_load(c);
    size_t held = 0;
    parley_err err = l != NULL ? PARLEY_OK : PARLEY_ENOMEM;

    for (size_t i = 0; err == PARLEY_OK && i < l->n; i++) {
        if (counted && c->prekeys_left == 0 && now >= l->keys[i].created + PREKEY_KEEP_MS)
            err = parley__vault_del(c->vault, "prekey", l->keys[i].pk, 32);
        else
            held++;
    }
    prekeys_unload(l);
    *want = PREKEY_TARGET - c->prekeys_left;
    if (*want > PREKEY_KEEP - held)
        *want = PREKEY_KEEP - held;
    return err;
}

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
 * Publishes fresh one-time prekeys (prekeys_room says how many); their
 * secrets are stored first. replace: the relay drops the ones stored
 * before. counted: c->prekeys_left is the relay's count, just received.
 */
void publish_prekeys(struct parley__core *c, uint64_t now, bool replace, bool counted)
{
    Parley__Prekey *pks[PREKEY_TARGET];
    size_t n = 0, want = 0;

    if (!c->agent || c->prekeys_left >= PREKEY_LOW || parley__vault_begin(c->vault) != PARLEY_OK)
        return;
    if (prekeys_room(c, now, counted, &want) != PARLEY_OK) {
        parley__vault_rollback(c->vault);
        return;
    }
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
        c->prekeys_left += (uint32_t)n;
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
