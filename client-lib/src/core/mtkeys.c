/*
 * An agent's medium-term prekey secrets at rest (prekey.h), rotated and
 * deleted on a schedule so that what they open is bounded in time.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define MT_TABLE "mtkey"

static int collect_mtkey(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                         size_t val_len)
{
    struct parley__mtkeys *keys = arg;
    Parley__StoredKey *k;
    size_t at;

    if (keys->n == PREKEY_MT_MAX)
        return 1;
    k = parley__stored_key__unpack(&parley__wiping_allocator, val_len, val);
    if (k == NULL)
        return 0;
    if (parley__len_is(k->public_key, 32) && parley__len_is(k->secret_key, 32)) {
        /* Kept oldest first. */
        for (at = keys->n; at > 0 && keys->k[at - 1].created_ms > k->created_ms; at--)
            keys->k[at] = keys->k[at - 1];
        memcpy(keys->k[at].pk, k->public_key.data, 32);
        memcpy(keys->k[at].sk, k->secret_key.data, 32);
        keys->k[at].created_ms = k->created_ms;
        keys->n++;
    }
    parley__stored_key__free_unpacked(k, &parley__wiping_allocator);
    return 0;
}

parley_err parley__mtkeys_load(struct parley__vault *v, struct parley__mtkeys *keys)
{
    memset(keys, 0, sizeof(*keys));
    return parley__vault_scan(v, MT_TABLE, NULL, 0, collect_mtkey, keys);
}

void parley__mtkeys_wipe(struct parley__mtkeys *keys)
{
    sodium_memzero(keys, sizeof(*keys));
}

bool parley__mtkeys_due(const struct parley__mtkeys *keys, uint64_t now_ms)
{
    return keys->n == 0 || now_ms >= keys->k[keys->n - 1].created_ms + PREKEY_MT_ROTATE_MS;
}

parley_err parley__mtkeys_add(struct parley__vault *v, struct parley__mtkeys *keys, uint64_t now_ms)
{
    Parley__StoredKey sk = PARLEY__STORED_KEY__INIT;
    uint8_t pk[32], sec[32];
    parley_err err;

    if (keys->n == PREKEY_MT_MAX)
        return PARLEY_ETOOBIG; /* the sweep makes room first */
    crypto_box_keypair(pk, sec);
    sk.public_key = (ProtobufCBinaryData){32, pk};
    sk.secret_key = (ProtobufCBinaryData){32, sec};
    sk.created_ms = now_ms;
    err = parley__vault_put_pb(v, MT_TABLE, pk, 32, &sk.base);
    if (err == PARLEY_OK) {
        memcpy(keys->k[keys->n].pk, pk, 32);
        memcpy(keys->k[keys->n].sk, sec, 32);
        keys->k[keys->n].created_ms = now_ms;
        keys->n++;
    }
    sodium_memzero(sec, sizeof(sec));
    return err;
}

/*
 * When key i may go: once replaced (its successor's creation), and once
 * senders refuse it (its expiry), plus the grace for envelopes in flight.
 * The newest is never deleted.
 */
static uint64_t delete_at(const struct parley__mtkeys *keys, size_t i)
{
    uint64_t expired = (keys->k[i].created_ms / 1000u + PREKEY_MT_LIFETIME_S) * 1000u;
    uint64_t replaced = keys->k[i + 1].created_ms;

    return (expired > replaced ? expired : replaced) + PREKEY_MT_GRACE_MS;
}

size_t parley__mtkeys_sweep(struct parley__vault *v, struct parley__mtkeys *keys, uint64_t now_ms)
{
    size_t gone = 0;

    while (keys->n > 1 && now_ms >= delete_at(keys, 0)) {
        if (parley__vault_del(v, MT_TABLE, keys->k[0].pk, 32) != PARLEY_OK)
            break;
        sodium_memzero(&keys->k[0], sizeof(keys->k[0]));
        memmove(&keys->k[0], &keys->k[1], (keys->n - 1) * sizeof(keys->k[0]));
        sodium_memzero(&keys->k[keys->n - 1], sizeof(keys->k[0]));
        keys->n--;
        gone++;
    }
    return gone;
}

uint64_t parley__mtkeys_deadline(const struct parley__mtkeys *keys, bool rotation)
{
    uint64_t d = UINT64_MAX;

    if (rotation && keys->n > 0)
        d = keys->k[keys->n - 1].created_ms + PREKEY_MT_ROTATE_MS;
    if (keys->n > 1 && delete_at(keys, 0) < d)
        d = delete_at(keys, 0);
    return d;
}
