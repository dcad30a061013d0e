/*
 * The relay-auth transcript (docs/protocol.md §10.3): what a client signs
 * to answer the relay's hello, and what the relay checks. One definition
 * for both sides, so they cannot drift apart: the nonce makes an old
 * answer useless on a new connection, the relay key makes it useless at
 * another relay, and the signing key is the one being authenticated.
 */
#include <string.h>

#include "internal.h"

void parley__relay_auth_transcript(const uint8_t nonce[32], const uint8_t relay_key[32],
                                   const uint8_t sign_pk[32],
                                   uint8_t out[PARLEY__RELAY_AUTH_LEN])
{
    memcpy(out, nonce, 32);
    memcpy(out + 32, relay_key, 32);
    memcpy(out + 64, sign_pk, 32);
}

parley_err parley__relay_auth_sign(const parley_identity *id, const uint8_t nonce[32],
                                   const uint8_t relay_key[32], uint8_t sig[64])
{
    uint8_t msg[PARLEY__RELAY_AUTH_LEN];

    parley__relay_auth_transcript(nonce, relay_key, id->sign_pk, msg);
    return parley__sign_raw(id->secret->sign_sk, PARLEY__DOMAIN_RELAY_AUTH, msg, sizeof(msg),
                            sig);
}

parley_err parley__relay_auth_verify(const uint8_t sign_pk[32], const uint8_t nonce[32],
                                     const uint8_t relay_key[32], const uint8_t sig[64])
{
    uint8_t msg[PARLEY__RELAY_AUTH_LEN];

    parley__relay_auth_transcript(nonce, relay_key, sign_pk, msg);
    return parley_verify(sign_pk, PARLEY__DOMAIN_RELAY_AUTH, msg, sizeof(msg), sig);
}
