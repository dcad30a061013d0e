/*
 * What a hostile relay can build by itself: envelopes around payloads it
 * signs with keys of its own (or claims to come from someone else),
 * re-wrapped copies of envelopes it carried, and prekeys it made up.
 */
#ifndef PARLEY_TEST_FORGE_H
#define PARLEY_TEST_FORGE_H

#include <stdbool.h>

#include "internal.h"

struct forge {
    const uint8_t *sign_sk;      /* 64-byte Ed25519 secret key that signs the payload */
    const uint8_t *claimed_pk;   /* sender_sign_key written in it (NULL: the signer's own) */
    const uint8_t *cert;         /* sender_cert (encoded AgentCert), or NULL */
    size_t cert_len;
    const uint8_t *to_box;       /* X25519 key sealed to and bound as recipient_key */
    const uint8_t *to_sign;      /* recipient's signing key: gives the routing id */
    const uint8_t *conv;         /* 16 bytes, in the payload and the envelope */
    uint64_t seq;
    uint64_t time_ms;
    const char *text;            /* a Text body ... */
    const char *claim_agent;     /* ... or, when set, a Claim body (following claim_custody) ... */
    uint64_t claim_custody;
    const char *open_queue;      /* ... or, when set, an Open of text to this queue */
    const uint8_t *consent;      /* the Open's encoded ConsentReceipt, or NULL for none */
    size_t consent_len;
    const uint8_t *salt;         /* the Open's conversation salt (16 bytes), or NULL for none */
    const Parley__Payload *body; /* ... or, when set, this payload's body (any kind) */
    bool to_agent;               /* addressed in the agent routing domain (a handover) */
};

/* What a consent receipt says; forge_consent() signs it as given. */
struct forge_consent {
    const uint8_t *sign_sk;      /* signs the receipt */
    const uint8_t *customer_pk;  /* customer_sign_key written in it */
    const char *brand_id;
    uint32_t notice_version;
    const char *notice_text;     /* hashed into notice_hash */
    bool withdrawn;
    const char *const *purposes; /* the purposes accepted; NULL: acme's required one, "support" */
    size_t n_purposes;
};

/* An encoded ConsentReceipt; *out malloc'd. */
void forge_consent(const struct forge_consent *fc, uint8_t **out, size_t *out_len);

/* A new envelope (random id) around the forged payload; *env malloc'd. */
void forge_envelope(const struct forge *f, uint8_t **env, size_t *len);
/* A copy of env with a new random envelope id (new_id) and/or another conversation id. */
void forge_rewrap(const uint8_t *env, size_t len, bool new_id, const uint8_t *new_conv,
                  uint8_t **out, size_t *out_len);
/* An encoded Prekey naming owner_pk, for box_pk, signed with sign_sk. */
void forge_prekey(const uint8_t owner_pk[32], const uint8_t sign_sk[64], const uint8_t box_pk[32],
                  uint8_t **out, size_t *out_len);
/* Envelope id of an encoded envelope. */
void envelope_id_of(const uint8_t *env, size_t len, uint8_t id[16]);

#endif
