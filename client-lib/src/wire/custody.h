/*
 * A conversation's chain of custody (docs/protocol.md §11.3): the
 * customer's signed acknowledgements of which agent holds it, and the
 * binding of conversation ids to the customer's key.
 */
#ifndef PARLEY_CUSTODY_H
#define PARLEY_CUSTODY_H

#include "internal.h"

/* What a verified acknowledgement says. */
struct parley__custody {
    uint8_t agent[32]; /* the agent who holds the conversation */
    uint64_t counter;  /* 1 for the first claim, one more per accepted transfer */
};

/* True when salt is 16 bytes and binds conversation_id to customer_pk (§4.6). */
bool parley__conversation_bound(const uint8_t customer_pk[32], ProtobufCBinaryData salt,
                                const uint8_t conversation_id[16]);

/*
 * A customer's erasure request as a relay checks it (docs/protocol.md
 * §10, `erase`): signed by customer_pk, the key that asks, for that key, naming at
 * most max_ids conversations, each bound to the key by the salt given
 * with it. PARLEY_EBADSIG (not signed so, or not for that key, or too
 * many ids), PARLEY_EUNBOUND (a conversation is not the key's),
 * PARLEY_ENOMEM; on PARLEY_OK *ids holds the conversation ids (16 bytes
 * each, malloc'd, NULL when there are none) and *n_ids their number.
 */
parley_err parley__erasure_request_check(const Parley__ErasureRequest *er,
                                         const uint8_t customer_pk[32], size_t max_ids,
                                         uint8_t **ids, size_t *n_ids);

/*
 * The customer's acknowledgement that agent_pk holds conversation conv at
 * counter: a CustodyAck signed (domain "custody") by customer, packed into
 * *out (malloc'd, *out_len bytes).
 */
parley_err parley__custody_ack_make(const parley_identity *customer, const uint8_t conv[16],
                                    const uint8_t agent_pk[32], uint64_t counter, uint64_t time_ms,
                                    uint8_t **out, size_t *out_len);

/*
 * Checks an acknowledgement: present, signed by customer, for conversation
 * conv and that customer, with a counter of at least 1. On PARLEY_OK *out
 * says who holds the conversation at which counter; anything else is
 * PARLEY_ECUSTODY.
 */
parley_err parley__custody_ack_check(const Parley__CustodyAck *ack, const uint8_t customer[32],
                                     const uint8_t conv[16], struct parley__custody *out);

/* The same on an encoded CustodyAck (as kept in the conversation state). */
parley_err parley__custody_ack_check_buf(const uint8_t *ack, size_t len, const uint8_t customer[32],
                                         const uint8_t conv[16], struct parley__custody *out);

#endif
