/*
 * Sealing and opening one message: a payload signed by the sender
 * (domain-separated, binding the recipient key and conversation), padded,
 * sealed with crypto_box_seal, and wrapped in an envelope the relay routes.
 *
 * Internal to the library, and low-level: one envelope at a time, with
 * no conversation around it. parley_open() checks everything an envelope
 * carries (seal, padding, signature, the recipient and conversation bound
 * in it, the sender's certificate), but not what only a conversation
 * knows: sequence numbers (replay, reordering, gaps), the forward-secret
 * receive keys the peer announced, prekeys, custody. The protocol core
 * does those, and applications reach sealing only through it (parley_client
 * in parley/client.h). Tests, fuzzers and benchmarks that link the static
 * core use these directly; the shared library does not export them.
 */
#ifndef PARLEY_SEAL_H
#define PARLEY_SEAL_H

#include "parley/common.h"
#include "parley/identity.h"
#include "parley/cert.h"

typedef struct parley_seal_params {
    const parley_identity *sender; /* borrowed */
    const uint8_t *sender_cert;    /* encoded certificate for agents, else NULL */
    size_t sender_cert_len;
    const uint8_t *recipient_sign_pk; /* 32 bytes: gives the routing id, an agent's when
                                         the sender has no certificate (a customer), a
                                         customer's when it has one (an agent) */
    const uint8_t *recipient_box_pk;  /* 32 bytes: the key sealed to, bound in the payload */
    const uint8_t *conversation_id;   /* 16 bytes */
    uint64_t seq;                     /* per sender and conversation, from 1 */
    uint64_t time_ms;                 /* Unix milliseconds */
    const uint8_t *next_receive_pk;   /* 32 bytes or NULL */
} parley_seal_params;

/*
 * Seals a text message into a new envelope with a random envelope id.
 * text is UTF-8 (no NUL; else PARLEY_EINVAL) of at most PARLEY_MAX_TEXT
 * bytes. On PARLEY_OK, *out is a buffer of *out_len bytes (at most
 * PARLEY_MAX_ENVELOPE), freed with parley_free(). Returns PARLEY_EINVAL (also when sender_cert is
 * not a certificate for the sender's key), PARLEY_EMALFORMED (sender_cert does not decode),
 * PARLEY_ETOOBIG, PARLEY_ENOMEM. Thread-safe for distinct senders.
 */
PARLEY_NODISCARD parley_err parley_seal_text(const parley_seal_params *p, const char *text,
                                             size_t text_len, uint8_t **out, size_t *out_len);

/* Who the receiver trusts. All pointers borrowed. */
typedef struct parley_trust {
    const uint8_t *brand_pk; /* pinned brand key, 32 bytes; NULL: no agent is trusted */
    const char *brand_id;
    uint64_t now;               /* Unix seconds, for certificate windows */
    const parley_revlist *revs; /* may be NULL */
    int require_agent;          /* 1: a sender without a valid certificate is refused */
} parley_trust;

typedef enum parley_body_kind {
    PARLEY_BODY_NONE = 0,
    PARLEY_BODY_TEXT = 1,
    PARLEY_BODY_OPEN = 2,
    PARLEY_BODY_CLAIM = 3,
    PARLEY_BODY_TRANSFER = 4,
    PARLEY_BODY_CLOSE = 5,
    PARLEY_BODY_RECEIPT = 6,
    PARLEY_BODY_TYPING = 7,
    PARLEY_BODY_HANDOVER = 8,
    PARLEY_BODY_ERASE = 9,
    PARLEY_BODY_CUSTODY_ACK = 10,
    PARLEY_BODY_CONSENT_UPDATE = 11,
    PARLEY_BODY_SPECIAL_CONSENT = 12
} parley_body_kind;

typedef struct parley_opened {
    uint8_t envelope_id[16];
    uint8_t conversation_id[16];
    uint8_t sender_sign_pk[32];
    int sender_is_agent;          /* 1 when a valid certificate came with it */
    parley_cert_info sender_cert; /* filled when sender_is_agent */
    uint64_t seq;
    uint64_t time_ms;
    int has_next_receive_pk;
    uint8_t next_receive_pk[32];
    parley_body_kind kind;
    char *text; /* TEXT and OPEN bodies: NUL-terminated, owned */
    size_t text_len;
} parley_opened;

/*
 * Opens an envelope addressed to id. Checks, in this order, each with its
 * own code: size (PARLEY_ETOOBIG), envelope structure (PARLEY_EMALFORMED),
 * seal (PARLEY_EBADSEAL), padding (PARLEY_EBADPADDING), inner structure
 * (PARLEY_EMALFORMED), signature (PARLEY_EBADSIG), recipient key bound in
 * the payload is id's (PARLEY_EWRONGRECIPIENT), conversation id matches
 * the envelope's (PARLEY_EWRONGCONVERSATION), then the sender's
 * certificate, if any, against trust (PARLEY_EUNTRUSTED, PARLEY_EWRONGBRAND,
 * PARLEY_EEXPIRED, PARLEY_ENOTYETVALID, PARLEY_EREVOKED); with
 * trust->require_agent a sender without one is PARLEY_EUNTRUSTED.
 * On PARLEY_OK the caller owns out's text and releases it with
 * parley_opened_clear(); on failure out holds nothing to release.
 */
PARLEY_NODISCARD parley_err parley_open(const uint8_t *env, size_t env_len,
                                        const parley_identity *id, const parley_trust *trust,
                                        parley_opened *out);

/* Wipes and frees what parley_open() put in o. Safe on a zeroed struct. */
void parley_opened_clear(parley_opened *o);

#endif
