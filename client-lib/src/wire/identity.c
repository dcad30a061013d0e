/*
 * Identities: key generation, the passphrase-encrypted key file, the
 * fingerprint people read aloud, routing ids and the conversation ids
 * bound to a customer key. Secret halves live only
 * in sodium_malloc memory and are wiped on every path.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define KEYFILE_LABEL_MAX 128u
#define KEYFILE_AD_DOMAIN "parley/keyfile/v1"

static parley_err identity_alloc(parley_identity **out)
{
    parley_identity *id;

    if (out == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    if (sodium_init() < 0)
        return PARLEY_ENOMEM;
    id = calloc(1, sizeof(*id));
    if (id == NULL)
        return PARLEY_ENOMEM;
    id->secret = sodium_malloc(sizeof(*id->secret));
    if (id->secret == NULL) {
        free(id);
        return PARLEY_ENOMEM;
    }
    *out = id;
    return PARLEY_OK;
}

/*
 * Both key pairs come from one 32-byte seed: the signing seed is the seed
 * itself, the box secret key is BLAKE2b-256 keyed by the seed over a fixed
 * label. So a key file stores one seed and known-answer tests need one.
 */
static void identity_derive(parley_identity *id, const uint8_t seed[32])
{
    uint8_t box_seed[crypto_box_SEEDBYTES];
    static const uint8_t label[] = "parley/box-seed/v1";

    crypto_sign_seed_keypair(id->sign_pk, id->secret->sign_sk, seed);
    crypto_generichash(box_seed, sizeof(box_seed), label, sizeof(label) - 1, seed, 32);
    crypto_box_seed_keypair(id->box_pk, id->secret->box_sk, box_seed);
    sodium_memzero(box_seed, sizeof(box_seed));
}

parley_err parley_identity_from_seed(parley_identity **out, const uint8_t seed[32])
{
    parley_err err;

    if (seed == NULL)
        return PARLEY_EINVAL;
    err = identity_alloc(out);
    if (err != PARLEY_OK)
        return err;
    identity_derive(*out, seed);
    return PARLEY_OK;
}

parley_err parley_identity_generate(parley_identity **out)
{
    uint8_t seed[32];
    parley_err err;

    if (sodium_init() < 0)
        return PARLEY_ENOMEM;
    randombytes_buf(seed, sizeof(seed));
    err = parley_identity_from_seed(out, seed);
    sodium_memzero(seed, sizeof(seed));
    return err;
}

void parley_identity_free(parley_identity *id)
{
    if (id == NULL)
        return;
    sodium_free(id->secret); /* wipes */
    free(id);
}

const uint8_t *parley_identity_sign_pk(const parley_identity *id)
{
    return id->sign_pk;
}

const uint8_t *parley_identity_box_pk(const parley_identity *id)
{
    return id->box_pk;
}

/* Domains the library signs itself: callers may not produce such signatures directly. */
static bool domain_reserved(const char *domain)
{
    static const char *const reserved[] = {
        PARLEY__DOMAIN_PAYLOAD, PARLEY__DOMAIN_CERT,   PARLEY__DOMAIN_REVOCATIONS,
        PARLEY__DOMAIN_DIRECTORY, PARLEY__DOMAIN_CONSENT, PARLEY__DOMAIN_PREKEY,
        PARLEY__DOMAIN_REQUEST, PARLEY__DOMAIN_ERASURE, PARLEY__DOMAIN_CUSTODY,
        PARLEY__DOMAIN_ORDER, PARLEY__DOMAIN_ORDER_RECEIPT,
        PARLEY__DOMAIN_SPECIAL,
    };

    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcmp(domain, reserved[i]) == 0)
            return true;
    return false;
}

parley_err parley_identity_sign(const parley_identity *id, const char *domain,
                                const uint8_t *msg, size_t len, uint8_t sig[64])
{
    if (id == NULL || domain == NULL || sig == NULL || (msg == NULL && len > 0) ||
        domain_reserved(domain))
        return PARLEY_EINVAL;
    return parley__sign_raw(id->secret->sign_sk, domain, msg, len, sig);
}

/* Set by tests only (see internal.h); the shared library never sets it. */
static bool kdf_test_cost_allowed;

void parley__kdf_allow_test_cost(void)
{
    kdf_test_cost_allowed = true;
}

void parley__kdf_limits(parley_kdf_cost cost, unsigned long long *ops, size_t *mem)
{
    if (cost == PARLEY__KDF_TEST_ONLY && kdf_test_cost_allowed) {
        *ops = crypto_pwhash_OPSLIMIT_MIN;
        *mem = crypto_pwhash_MEMLIMIT_MIN;
        return;
    }
    switch (cost) {
    case PARLEY_KDF_MODERATE:
        *ops = crypto_pwhash_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_MEMLIMIT_MODERATE;
        break;
    case PARLEY_KDF_SENSITIVE:
        *ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
        *mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
        break;
    case PARLEY_KDF_INTERACTIVE:
    default:
        *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        break;
    }
}

/* Associated data: domain, both public keys, label. Binds the clear parts of the file. */
static size_t keyfile_ad(uint8_t *ad, size_t cap, const uint8_t *sign_pk, const uint8_t *box_pk,
                         const char *label)
{
    size_t llen = strlen(label);
    size_t n = sizeof(KEYFILE_AD_DOMAIN) + 64 + llen;

    if (n > cap)
        return 0;
    memcpy(ad, KEYFILE_AD_DOMAIN, sizeof(KEYFILE_AD_DOMAIN));
    memcpy(ad + sizeof(KEYFILE_AD_DOMAIN), sign_pk, 32);
    memcpy(ad + sizeof(KEYFILE_AD_DOMAIN) + 32, box_pk, 32);
    memcpy(ad + sizeof(KEYFILE_AD_DOMAIN) + 64, label, llen);
    return n;
}

parley_err parley_identity_export(const parley_identity *id, const char *label, const char *pass,
                                  size_t pass_len, parley_kdf_cost cost, uint8_t **out,
                                  size_t *out_len)
{
    Parley__KeyFile kf = PARLEY__KEY_FILE__INIT;
    uint8_t salt[crypto_pwhash_SALTBYTES];
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    uint8_t ct[32 + crypto_aead_xchacha20poly1305_ietf_ABYTES];
    uint8_t ad[sizeof(KEYFILE_AD_DOMAIN) + 64 + KEYFILE_LABEL_MAX];
    uint8_t *key = NULL;
    unsigned long long ops;
    size_t mem, ad_len;
    parley_err err = PARLEY_OK;

    if (label == NULL)
        label = "";
    if (id == NULL || pass == NULL || out == NULL || out_len == NULL ||
        strlen(label) > KEYFILE_LABEL_MAX)
        return PARLEY_EINVAL;
    key = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    if (key == NULL)
        return PARLEY_ENOMEM;
    parley__kdf_limits(cost, &ops, &mem);
    randombytes_buf(salt, sizeof(salt));
    randombytes_buf(nonce, sizeof(nonce));
    if (crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, pass, pass_len, salt, ops,
                      mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        err = PARLEY_ENOMEM;
        goto done;
    }
    ad_len = keyfile_ad(ad, sizeof(ad), id->sign_pk, id->box_pk, label);
    /* The Ed25519 secret key's first half is the seed everything derives from. */
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, id->secret->sign_sk, 32, ad, ad_len,
                                               NULL, nonce, key);
    kf.label = (char *)label;
    kf.sign_key = (ProtobufCBinaryData){32, (uint8_t *)id->sign_pk};
    kf.box_key = (ProtobufCBinaryData){32, (uint8_t *)id->box_pk};
    kf.salt = (ProtobufCBinaryData){sizeof(salt), salt};
    kf.opslimit = ops;
    kf.memlimit = mem;
    kf.nonce = (ProtobufCBinaryData){sizeof(nonce), nonce};
    kf.ciphertext = (ProtobufCBinaryData){sizeof(ct), ct};
    err = parley__pack(&kf.base, out, out_len);
done:
    sodium_free(key);
    return err;
}

static parley_err keyfile_unpack(const uint8_t *buf, size_t len, Parley__KeyFile **out)
{
    Parley__KeyFile *kf;

    if (buf == NULL)
        return PARLEY_EINVAL;
    if (len > PARLEY_MAX_KEYFILE)
        return PARLEY_ETOOBIG;
    kf = parley__key_file__unpack(NULL, len, buf);
    if (kf == NULL)
        return PARLEY_EMALFORMED;
    if (!parley__len_is(kf->sign_key, 32) || !parley__len_is(kf->box_key, 32) ||
        !parley__len_is(kf->salt, crypto_pwhash_SALTBYTES) ||
        !parley__len_is(kf->nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES) ||
        !parley__len_is(kf->ciphertext, 32 + crypto_aead_xchacha20poly1305_ietf_ABYTES) ||
        strlen(kf->label) > KEYFILE_LABEL_MAX ||
        /* A file must not make us spend more than the SENSITIVE cost. */
        kf->opslimit < crypto_pwhash_OPSLIMIT_MIN ||
        kf->opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
        kf->memlimit < crypto_pwhash_MEMLIMIT_MIN ||
        kf->memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE) {
        parley__key_file__free_unpacked(kf, NULL);
        return PARLEY_EMALFORMED;
    }
    *out = kf;
    return PARLEY_OK;
}

parley_err parley_keyfile_peek(const uint8_t *buf, size_t len, uint8_t sign_pk[32],
                               uint8_t box_pk[32], char *label_out, size_t label_cap)
{
    Parley__KeyFile *kf;
    parley_err err = keyfile_unpack(buf, len, &kf);

    if (err != PARLEY_OK)
        return err;
    if (sign_pk != NULL)
        memcpy(sign_pk, kf->sign_key.data, 32);
    if (box_pk != NULL)
        memcpy(box_pk, kf->box_key.data, 32);
    if (label_out != NULL && !parley__copy_str(label_out, label_cap, kf->label))
        err = PARLEY_EINVAL;
    parley__key_file__free_unpacked(kf, NULL);
    return err;
}

parley_err parley_identity_import(parley_identity **out, const uint8_t *buf, size_t len,
                                  const char *pass, size_t pass_len, char *label_out,
                                  size_t label_cap)
{
    Parley__KeyFile *kf = NULL;
    parley_identity *id = NULL;
    uint8_t *key = NULL, *seed = NULL;
    uint8_t ad[sizeof(KEYFILE_AD_DOMAIN) + 64 + KEYFILE_LABEL_MAX];
    size_t ad_len;
    parley_err err;

    if (out == NULL || pass == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    if (sodium_init() < 0)
        return PARLEY_ENOMEM;
    err = keyfile_unpack(buf, len, &kf);
    if (err != PARLEY_OK)
        return err;
    key = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES + 32);
    if (key == NULL) {
        err = PARLEY_ENOMEM;
        goto done;
    }
    seed = key + crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
    if (crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, pass, pass_len,
                      kf->salt.data, kf->opslimit, (size_t)kf->memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        err = PARLEY_ENOMEM;
        goto done;
    }
    ad_len = keyfile_ad(ad, sizeof(ad), kf->sign_key.data, kf->box_key.data, kf->label);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed, NULL, NULL, kf->ciphertext.data,
                                                   kf->ciphertext.len, ad, ad_len,
                                                   kf->nonce.data, key) != 0) {
        err = PARLEY_EPASSPHRASE;
        goto done;
    }
    err = parley_identity_from_seed(&id, seed);
    if (err != PARLEY_OK)
        goto done;
    /* The clear public keys are authenticated, but check they match the seed too. */
    if (sodium_memcmp(id->sign_pk, kf->sign_key.data, 32) != 0 ||
        sodium_memcmp(id->box_pk, kf->box_key.data, 32) != 0) {
        err = PARLEY_EMALFORMED;
        goto done;
    }
    if (label_out != NULL && !parley__copy_str(label_out, label_cap, kf->label)) {
        err = PARLEY_EINVAL;
        goto done;
    }
    *out = id;
    id = NULL;
done:
    parley_identity_free(id);
    sodium_free(key);
    parley__key_file__free_unpacked(kf, NULL);
    return err;
}

void parley_fingerprint(const uint8_t sign_pk[32], char out[PARLEY_FINGERPRINT_LEN])
{
    static const uint8_t domain[] = "parley/fingerprint/v1";
    uint8_t h[64];
    crypto_generichash_state st;
    char *p = out;

    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, domain, sizeof(domain)); /* with its NUL */
    crypto_generichash_update(&st, sign_pk, 32);
    crypto_generichash_final(&st, h, sizeof(h));
    /* 12 groups: each takes 5 bytes as a big-endian 40-bit number, mod 100000. */
    for (int g = 0; g < 12; g++) {
        uint64_t v = 0;
        for (int i = 0; i < 5; i++)
            v = (v << 8) | h[g * 5 + i];
        v %= 100000u;
        for (int d = 4; d >= 0; d--) {
            p[d] = (char)('0' + v % 10);
            v /= 10;
        }
        p += 5;
        *p++ = g == 11 ? '\0' : ' ';
    }
}

void parley_routing_id(const uint8_t sign_pk[32], parley_routing_domain domain, uint8_t out[32])
{
    static const uint8_t customer[] = "parley/routing/customer/v2";
    static const uint8_t agent[] = "parley/routing/agent/v2";
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, 32);
    if (domain == PARLEY_ROUTING_AGENT)
        crypto_generichash_update(&st, agent, sizeof(agent)); /* with its NUL */
    else
        crypto_generichash_update(&st, customer, sizeof(customer));
    crypto_generichash_update(&st, sign_pk, 32);
    crypto_generichash_final(&st, out, 32);
}

void parley_conversation_id(const uint8_t customer_sign_pk[32],
                            const uint8_t salt[PARLEY_CONVERSATION_SALT_BYTES],
                            uint8_t out[PARLEY_CONVERSATION_ID_BYTES])
{
    static const uint8_t domain[] = "parley/conversation/v2";
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, PARLEY_CONVERSATION_ID_BYTES);
    crypto_generichash_update(&st, domain, sizeof(domain)); /* with its NUL */
    crypto_generichash_update(&st, customer_sign_pk, 32);
    crypto_generichash_update(&st, salt, PARLEY_CONVERSATION_SALT_BYTES);
    crypto_generichash_final(&st, out, PARLEY_CONVERSATION_ID_BYTES);
}
