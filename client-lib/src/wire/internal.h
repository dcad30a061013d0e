/*
 * Library internals shared by the modules of client-lib: the identity
 * layout, domain-separated signatures over encoded bodies, and the
 * payload-level seal and open used by the session layer.
 */
#ifndef PARLEY_INTERNAL_H
#define PARLEY_INTERNAL_H

#include <sodium.h>
#include <stdbool.h>

#include "parley.pb-c.h"
#include "parley/parley.h"
#include "seal.h"

struct parley__secret {
    uint8_t sign_sk[crypto_sign_SECRETKEYBYTES];
    uint8_t box_sk[crypto_box_SECRETKEYBYTES];
};

struct parley_identity {
    uint8_t sign_pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t box_pk[crypto_box_PUBLICKEYBYTES];
    struct parley__secret *secret; /* sodium_malloc */
};

/*
 * Derives an identity from a 32-byte seed: the same seed always gives the
 * same keys (stored identities, known-answer tests). seed is borrowed.
 * Same returns as parley_identity_generate(). Not exported: a test hook
 * for tests that link the static core.
 */
PARLEY_NODISCARD parley_err parley_identity_from_seed(parley_identity **out,
                                                      const uint8_t seed[32]);

/*
 * The cheapest Argon2id cost, libsodium's minimum (8 KiB, one pass), which
 * protects nothing: for tests only, and not a cost of the public API. The
 * library uses it only once parley__kdf_allow_test_cost() was called,
 * which tests that link the static core do first. The shared library
 * exports neither, so a program that passes this value to libparley gets
 * PARLEY_KDF_INTERACTIVE, as for any unknown cost.
 */
#define PARLEY__KDF_TEST_ONLY ((parley_kdf_cost)3)
void parley__kdf_allow_test_cost(void);

/* Argon2id limits for a cost, for key files and the client store. */
void parley__kdf_limits(parley_kdf_cost cost, unsigned long long *ops, size_t *mem);

/* Entries of history one Handover may carry. */
#define PARLEY__MAX_HISTORY 10000u

/* Domain labels of every signature Parley makes (docs/protocol.md). */
#define PARLEY__DOMAIN_PAYLOAD "payload"
#define PARLEY__DOMAIN_CERT "agent-cert"
#define PARLEY__DOMAIN_REVOCATIONS "revocations"
#define PARLEY__DOMAIN_DIRECTORY "directory"
#define PARLEY__DOMAIN_CONSENT "consent"
#define PARLEY__DOMAIN_PREKEY "prekey"
#define PARLEY__DOMAIN_REQUEST "cert-request"
#define PARLEY__DOMAIN_ERASURE "erasure"
#define PARLEY__DOMAIN_CUSTODY "custody"
#define PARLEY__DOMAIN_ORDER "order"
#define PARLEY__DOMAIN_ORDER_RECEIPT "order-receipt"
#define PARLEY__DOMAIN_SPECIAL "special-consent"
#define PARLEY__DOMAIN_RELAY_AUTH "relay-auth" /* not reserved: signed through the public API too */
#define PARLEY__DOMAIN_MAX 32u

/*
 * Signing input: "parley/" domain "/v1" NUL, then msg. Written into buf
 * (cap bytes); returns its length, or 0 if it does not fit.
 */
size_t parley__signing_prefix(const char *domain, uint8_t *buf, size_t cap);

/* Ed25519 over prefix(domain) || msg with a raw secret key. */
parley_err parley__sign_raw(const uint8_t sk[64], const char *domain, const uint8_t *msg,
                            size_t len, uint8_t sig[64]);

/*
 * Relay authentication (docs/protocol.md §10.3): the transcript nonce ||
 * relay_key || sign_pk, signed by the client under the domain
 * "relay-auth" and checked by the relay. verify: PARLEY_OK or
 * PARLEY_EBADSIG.
 */
#define PARLEY__RELAY_AUTH_LEN 96u
void parley__relay_auth_transcript(const uint8_t nonce[32], const uint8_t relay_key[32],
                                   const uint8_t sign_pk[32],
                                   uint8_t out[PARLEY__RELAY_AUTH_LEN]);
parley_err parley__relay_auth_sign(const parley_identity *id, const uint8_t nonce[32],
                                   const uint8_t relay_key[32], uint8_t sig[64]);
parley_err parley__relay_auth_verify(const uint8_t sign_pk[32], const uint8_t nonce[32],
                                     const uint8_t relay_key[32], const uint8_t sig[64]);

/* Checks a {body, signature} pair; PARLEY_EMALFORMED if the signature or key length is wrong. */
parley_err parley__verify_pb(const uint8_t *pk, size_t pk_len, const char *domain,
                             ProtobufCBinaryData body, ProtobufCBinaryData sig);

/* Packs msg into a new malloc'd buffer; PARLEY_ENOMEM on failure. */
parley_err parley__pack(const ProtobufCMessage *msg, uint8_t **out, size_t *out_len);

/* True if b is exactly n bytes long. */
static inline bool parley__len_is(ProtobufCBinaryData b, size_t n)
{
    return b.len == n && b.data != NULL;
}

/*
 * Valid UTF-8 without NUL. text: tab and line breaks allowed (chat text);
 * otherwise no control character at all (names).
 */
bool parley__utf8_valid(const uint8_t *s, size_t n, bool text);

/*
 * Makes room for at least need elements of elem bytes in arr, whose
 * capacity is *cap elements: returns the array (moved, perhaps) with *cap
 * raised, or NULL when out of memory or when the size would overflow, the
 * old array then left as it was. Capacities grow geometrically (doubling
 * from 16), so filling an array one element at a time stays linear. Every
 * growable array of the library grows through it.
 */
void *parley__grow(void *arr, size_t *cap, size_t need, size_t elem);
/* The same for an array that holds secrets or plaintext: the old block is wiped, not left behind. */
void *parley__grow_wiped(void *arr, size_t *cap, size_t need, size_t elem);

/*
 * Copies a caller's configuration struct, whose first member is its
 * size_t struct_size, into the library's own (dst, dst_size bytes, the
 * library's sizeof): struct_size 0 stands for base_size (the struct's
 * first version); fields the caller's version lacks stay zero, and dst's
 * struct_size is set to dst_size. False when struct_size is below
 * base_size, or above dst_size with a byte past it that is not zero (an
 * option this library does not know).
 */
bool parley__config_copy(void *dst, size_t dst_size, const void *src, size_t base_size);

/* Copies a protobuf string into a fixed buffer; false if it does not fit or is NULL. */
bool parley__copy_str(char *dst, size_t cap, const char *src);

/*
 * Certificate checks on an already-unpacked AgentCert, in two stages:
 * authentic (signature, structure, brand) and status at a time (window,
 * revocation). parley__cert_check runs both, as parley_cert_verify does.
 */
parley_err parley__cert_authentic(const Parley__AgentCert *cert, const uint8_t brand_pk[32],
                                  const char *brand_id, parley_cert_info *info);
parley_err parley__cert_status(const parley_cert_info *info, uint64_t now,
                               const parley_revlist *revs);
parley_err parley__cert_check(const Parley__AgentCert *cert, const uint8_t brand_pk[32],
                              const char *brand_id, uint64_t now, const parley_revlist *revs,
                              parley_cert_info *info);
/*
 * A versioned brand-signed object (revocation list, directory): another
 * brand than brand_id (NULL: any) is PARLEY_EWRONGBRAND, a version below
 * last_seen_version PARLEY_EROLLBACK.
 */
parley_err parley__brand_version_check(const char *got_brand, const char *brand_id,
                                       uint64_t version, uint64_t last_seen_version);
/* Verifies an unpacked revocation list and builds its lookup table. */
parley_err parley__revlist_from_pb(const Parley__RevocationList *rl, const uint8_t brand_pk[32],
                                   const char *brand_id, uint64_t last_seen_version,
                                   parley_revlist **out);
/*
 * Seals a directory's content under the brand's directory key into body
 * (nonce: 24 bytes the body points to; *sealed malloc'd, owned by the
 * caller, pointed to by body->sealed_content).
 */
parley_err parley__directory_seal_content(const parley_identity *brand,
                                          const Parley__DirectoryContent *content,
                                          Parley__DirectoryBody *body, uint8_t *nonce,
                                          uint8_t **sealed, size_t *sealed_len);
/*
 * parley_directory_open, with the expiry checked or not (check_expiry
 * false: a client reloading the directory it held, expired or not, to keep
 * its revocations and version).
 */
parley_err parley__directory_open_any(parley_directory **out, const uint8_t *buf, size_t len,
                                      const uint8_t brand_pk[32], const char *brand_id,
                                      const uint8_t dir_key[32], uint64_t last_seen_version,
                                      uint64_t now, bool check_expiry);
/* Takes one more reference to d (released with parley_directory_free). Thread-safe. */
parley_directory *parley__directory_ref(parley_directory *d);
/* Decodes a certificate body into info without checking the signature. */
parley_err parley__cert_body_decode(const Parley__AgentCert *cert, parley_cert_info *info);

/*
 * Brand orders (order.c). body_decode: the body's fields, checked for
 * shape only (PARLEY_EMALFORMED). check: the brand's signature first, then
 * the fields, brand_id (NULL: any; PARLEY_EWRONGBRAND) and expiry (now in
 * Unix seconds, 0: not judged; PARLEY_EEXPIRED). receipt_sign: signs r
 * with the agent's key, naming its encoded certificate. receipt_check: the
 * certificate authentic under brand_pk (NULL: only decoded, for a relay
 * that checked it otherwise), the signature by its key.
 */
parley_err parley__order_body_decode(const Parley__BrandOrder *o, parley_order_info *info);
parley_err parley__order_check(const Parley__BrandOrder *o, const uint8_t brand_pk[32],
                               const char *brand_id, uint64_t now, parley_order_info *info);
parley_err parley__order_receipt_sign(const parley_identity *agent, const uint8_t *cert,
                                      size_t cert_len, const parley_order_receipt_info *r,
                                      uint8_t **out, size_t *out_len);
parley_err parley__order_receipt_check(const Parley__OrderReceipt *r, const uint8_t brand_pk[32],
                                       const char *brand_id, parley_order_receipt_info *info);

/*
 * protobuf-c allocator that wipes every block it frees: used for every
 * unpack whose result holds plaintext.
 */
extern ProtobufCAllocator parley__wiping_allocator;

/*
 * Seals a payload for recipient_box_pk: fills sender_sign_key and
 * recipient_key, packs, signs, pads to PARLEY_PAD_BLOCK, seals.
 * *out is malloc'd.
 */
parley_err parley__seal_payload(Parley__Payload *p, const parley_identity *sender,
                                const uint8_t recipient_box_pk[32], uint8_t **out,
                                size_t *out_len);

/*
 * Opens sealed bytes with a raw box key pair and runs every check of
 * parley_open() short of the envelope. On PARLEY_OK *out is an unpacked
 * payload freed with parley__payload_free().
 */
parley_err parley__open_sealed(const uint8_t *sealed, size_t len, const uint8_t box_pk[32],
                               const uint8_t box_sk[32], const uint8_t conversation_id[16],
                               const parley_trust *trust, Parley__Payload **out,
                               parley_cert_info *sender_cert, int *sender_is_agent);
void parley__payload_free(Parley__Payload *p);

/* Packs an envelope. *out is malloc'd; PARLEY_ETOOBIG over PARLEY_MAX_ENVELOPE. */
parley_err parley__envelope_pack(const uint8_t envelope_id[16], const uint8_t conversation_id[16],
                                 const uint8_t recipient[32], const uint8_t *sealed,
                                 size_t sealed_len, uint8_t **out, size_t *out_len);

#endif
