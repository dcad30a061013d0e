/*
 * Key extraction from a device's store (see keyring.h).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "keyring.h"

static const char *const known_tables[] = {"meta",    "identity", "conv",   "outbox", "pending",
                                           "history", "seen",     "prekey", "mtkey"};

void keyring_init(struct keyring *kr)
{
    memset(kr, 0, sizeof(*kr));
}

void keyring_free(struct keyring *kr)
{
    if (kr->k != NULL)
        sodium_memzero(kr->k, kr->cap * sizeof(*kr->k));
    free(kr->k);
    memset(kr, 0, sizeof(*kr));
}

void keyring_add(struct keyring *kr, const uint8_t sk[32], const char *origin)
{
    struct kr_key *k;

    if (kr->n == kr->cap) {
        size_t cap = kr->cap ? kr->cap * 2 : 64;
        struct kr_key *grown = calloc(cap, sizeof(*grown));
        CHECK(grown != NULL);
        if (kr->n > 0)
            memcpy(grown, kr->k, kr->n * sizeof(*grown));
        if (kr->k != NULL)
            sodium_memzero(kr->k, kr->cap * sizeof(*kr->k));
        free(kr->k);
        kr->k = grown;
        kr->cap = cap;
    }
    k = &kr->k[kr->n++];
    memcpy(k->sk, sk, 32);
    /* The public half is derived, not read: a stored pk that lies cannot hide a secret. */
    CHECK(crypto_scalarmult_base(k->pk, k->sk) == 0);
    memcpy(k->origin, origin, strnlen(origin, sizeof(k->origin) - 1));
}

struct harvest {
    struct keyring *kr;
    struct mr_party *p;
    size_t rows;
};

static void harvest_value(struct keyring *kr, const char *table, const uint8_t *val, size_t len)
{
    if (strcmp(table, "identity") == 0) {
        parley_identity *id = NULL;

        CHECK(len == 32);
        CHECK_OK(parley_identity_from_seed(&id, val));
        keyring_add(kr, id->secret->box_sk, "identity");
        parley_identity_free(id);
    } else if (strcmp(table, "conv") == 0) {
        Parley__ConversationState *s =
            parley__conversation_state__unpack(&parley__wiping_allocator, len, val);

        CHECK(s != NULL);
        for (size_t i = 0; i < s->n_receive_keys; i++) {
            CHECK(parley__len_is(s->receive_keys[i]->secret_key, 32));
            keyring_add(kr, s->receive_keys[i]->secret_key.data, "conv");
        }
        parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
    } else if (strcmp(table, "prekey") == 0 || strcmp(table, "mtkey") == 0) {
        Parley__StoredKey *k = parley__stored_key__unpack(&parley__wiping_allocator, len, val);

        CHECK(k != NULL && parley__len_is(k->secret_key, 32));
        keyring_add(kr, k->secret_key.data, table);
        parley__stored_key__free_unpacked(k, &parley__wiping_allocator);
    }
}

static int harvest_row(void *arg, const char *table, const uint8_t *key, size_t key_len,
                       const uint8_t *val, size_t val_len)
{
    struct harvest *h = arg;
    bool known = false;
    uint8_t *plain = NULL;
    size_t plain_len = 0;

    (void)val;
    (void)val_len;
    for (size_t i = 0; i < sizeof(known_tables) / sizeof(known_tables[0]); i++)
        known = known || strcmp(table, known_tables[i]) == 0;
    if (!known) {
        fprintf(stderr, "store of %s has a table the test does not know: %s\n", h->p->name, table);
        CHECK(known);
    }
    h->rows++;
    if (strcmp(table, "meta") == 0 && ((key_len == 3 && memcmp(key, "kdf", 3) == 0) ||
                                       (key_len == 6 && memcmp(key, "format", 6) == 0)))
        return 0; /* the only rows in clear: salt and limits, and the store's format */
    CHECK_OK(parley__vault_get(h->p->vault, table, key, key_len, &plain, &plain_len));
    harvest_value(h->kr, table, plain, plain_len);
    parley_free(plain, plain_len);
    return 0;
}

void keyring_of_party(struct keyring *kr, struct mr_party *p)
{
    struct harvest h = {kr, p, 0};

    CHECK(p->vault != NULL);
    memstore_each(p->ms, harvest_row, &h);
    CHECK(h.rows == memstore_rows(p->ms, NULL));
    if (p->agent != NULL)
        keyring_add(kr, p->agent->secret->box_sk, "keyfile");
}

int keyring_opens(const struct keyring *kr, const uint8_t *env, size_t len)
{
    Parley__Envelope *e = parley__envelope__unpack(NULL, len, env);
    uint8_t *plain;
    int found = -1;

    CHECK(e != NULL && e->sealed.len >= crypto_box_SEALBYTES);
    plain = malloc(e->sealed.len - crypto_box_SEALBYTES + 1);
    CHECK(plain != NULL);
    for (size_t i = 0; i < kr->n && found < 0; i++)
        if (crypto_box_seal_open(plain, e->sealed.data, e->sealed.len, kr->k[i].pk,
                                 kr->k[i].sk) == 0)
            found = (int)i;
    sodium_memzero(plain, e->sealed.len - crypto_box_SEALBYTES);
    free(plain);
    parley__envelope__free_unpacked(e, NULL);
    return found;
}

bool store_newest_receive_key(struct mr_party *p, const uint8_t conv[16], uint8_t pk[32])
{
    Parley__ConversationState *s;
    uint8_t *val = NULL;
    size_t len = 0;
    bool found = false;

    if (parley__vault_get(p->vault, "conv", conv, 16, &val, &len) != PARLEY_OK)
        return false;
    s = parley__conversation_state__unpack(&parley__wiping_allocator, len, val);
    parley_free(val, len);
    CHECK(s != NULL);
    if (s->n_receive_keys > 0) {
        const Parley__StoredKey *k = s->receive_keys[s->n_receive_keys - 1];
        CHECK(parley__len_is(k->public_key, 32));
        memcpy(pk, k->public_key.data, 32);
        found = true;
    }
    parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
    return found;
}

size_t store_rows(const struct mr_party *p)
{
    return memstore_rows(p->ms, NULL);
}
