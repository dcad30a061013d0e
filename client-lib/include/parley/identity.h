/*
 * Parley identities: an Ed25519 signing key and an X25519 box key, the
 * fingerprint people compare aloud, and the passphrase-encrypted key file.
 */
#ifndef PARLEY_IDENTITY_H
#define PARLEY_IDENTITY_H

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parley_identity parley_identity;

/*
 * Cost of the passphrase hash (Argon2id) used when a key file or a store
 * is created. Any other value is taken as PARLEY_KDF_INTERACTIVE.
 */
typedef enum parley_kdf_cost {
    PARLEY_KDF_INTERACTIVE = 0, /* 64 MiB, for keys unlocked often (agents) */
    PARLEY_KDF_MODERATE = 1,    /* 256 MiB, for brand keys */
    PARLEY_KDF_SENSITIVE = 2    /* 1 GiB */
} parley_kdf_cost;

/*
 * Creates a new random identity in *out. The secret halves live in
 * sodium_malloc memory and are wiped by parley_identity_free().
 * Returns PARLEY_OK, PARLEY_EINVAL (out NULL) or PARLEY_ENOMEM.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_identity_generate(parley_identity **out);

/* Wipes and frees. NULL is a no-op. */
PARLEY_API void parley_identity_free(parley_identity *id);

/* Public halves: pointers into id, valid until parley_identity_free(). */
PARLEY_API const uint8_t *parley_identity_sign_pk(const parley_identity *id);
PARLEY_API const uint8_t *parley_identity_box_pk(const parley_identity *id);

/*
 * Writes an Ed25519 signature of msg, prefixed by the domain string
 * "parley/<domain>/v1\0", into sig. Used by higher layers (relay
 * authentication); domain must be a short ASCII label. The domains the
 * library signs itself (payload, agent-cert, revocations, directory,
 * consent, prekey, cert-request, erasure, custody) are refused with
 * PARLEY_EINVAL, so no caller can be led into signing a message, a
 * certificate or a customer's statement by this route.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_identity_sign(const parley_identity *id,
                                                            const char *domain,
                                                            const uint8_t *msg, size_t len,
                                                            uint8_t sig[64]);

/* Checks a signature made by parley_identity_sign(). PARLEY_OK or PARLEY_EBADSIG. */
PARLEY_API PARLEY_NODISCARD parley_err parley_verify(const uint8_t sign_pk[32],
                                                     const char *domain, const uint8_t *msg,
                                                     size_t len, const uint8_t sig[64]);

/*
 * Encrypts the identity under a passphrase: Argon2id (crypto_pwhash) at
 * the given cost, then XChaCha20-Poly1305 with the public keys and label
 * as associated data. label (may be NULL, at most 128 bytes) is stored in
 * clear and authenticated. On PARLEY_OK, *out is a new buffer of *out_len
 * bytes, freed with parley_free(). Returns PARLEY_EINVAL, PARLEY_ENOMEM.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_identity_export(const parley_identity *id,
                                                              const char *label,
                                                              const char *pass, size_t pass_len,
                                                              parley_kdf_cost cost,
                                                              uint8_t **out, size_t *out_len);

/*
 * Reads a buffer written by parley_identity_export(). label_out (may be
 * NULL) receives the label, NUL-terminated, if it fits label_cap bytes.
 * Returns PARLEY_EMALFORMED (not a key file, truncated), PARLEY_ETOOBIG,
 * PARLEY_EPASSPHRASE (wrong passphrase or altered file), PARLEY_ENOMEM.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_identity_import(parley_identity **out,
                                                              const uint8_t *buf, size_t len,
                                                              const char *pass, size_t pass_len,
                                                              char *label_out, size_t label_cap);

/*
 * Reads only the public halves and label of a key file; no passphrase.
 * sign_pk and box_pk receive 32 bytes each. Returns PARLEY_EMALFORMED,
 * PARLEY_ETOOBIG (over PARLEY_MAX_KEYFILE), PARLEY_EINVAL (label_cap too
 * small for the label).
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_keyfile_peek(const uint8_t *buf, size_t len,
                                                           uint8_t sign_pk[32],
                                                           uint8_t box_pk[32], char *label_out,
                                                           size_t label_cap);

/* "12345 67890 ..." : 12 groups of 5 digits, 11 spaces, NUL. */
#define PARLEY_FINGERPRINT_LEN 72u

/*
 * Writes the fingerprint of a signing key: 12 groups of 5 decimal digits
 * from BLAKE2b-512 over "parley/fingerprint/v1\0" || sign_pk. Pure.
 */
PARLEY_API void parley_fingerprint(const uint8_t sign_pk[32], char out[PARLEY_FINGERPRINT_LEN]);

/*
 * Customers and agents have routing ids in separate domains, so a key
 * that authenticates to the relay without its certificate (as a
 * customer) never reads the mailbox it has as an agent.
 */
typedef enum parley_routing_domain {
    PARLEY_ROUTING_CUSTOMER = 0, /* everyone without a valid agent certificate */
    PARLEY_ROUTING_AGENT = 1     /* holders of a brand certificate */
} parley_routing_domain;

/*
 * The relay routing id of a signing key in a domain:
 * BLAKE2b-256("parley/routing/customer/v2\0" || sign_pk) for customers,
 * BLAKE2b-256("parley/routing/agent/v2\0" || sign_pk) for agents. Any
 * other domain value is taken as PARLEY_ROUTING_CUSTOMER. Pure.
 */
PARLEY_API void parley_routing_id(const uint8_t sign_pk[32], parley_routing_domain domain,
                                  uint8_t out[32]);

/* Bytes of the random salt a customer keeps with each conversation. */
#define PARLEY_CONVERSATION_SALT_BYTES 16u

/*
 * The id of a customer's conversation: BLAKE2b with a 16-byte output over
 * "parley/conversation/v2\0" || customer_sign_pk || salt. Whoever learns
 * the salt (the conversation's agents, the relay in an erasure request)
 * can check that the id belongs to that customer key; nobody can make an
 * id of another customer's without its key. Pure, thread-safe.
 */
PARLEY_API void parley_conversation_id(const uint8_t customer_sign_pk[32],
                                       const uint8_t salt[PARLEY_CONVERSATION_SALT_BYTES],
                                       uint8_t out[PARLEY_CONVERSATION_ID_BYTES]);

#ifdef __cplusplus
}
#endif
#endif
