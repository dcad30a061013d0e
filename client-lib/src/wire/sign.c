/*
 * The domain-separated signatures that every signed Parley object uses:
 * "parley/" domain "/v1" NUL, then the message (docs/protocol.md §3).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

size_t parley__signing_prefix(const char *domain, uint8_t *buf, size_t cap)
{
    size_t dlen = strlen(domain);
    size_t n = sizeof("parley/") - 1 + dlen + sizeof("/v1"); /* sizeof counts the NUL */

    if (dlen == 0 || dlen > PARLEY__DOMAIN_MAX || n > cap)
        return 0;
    memcpy(buf, "parley/", 7);
    memcpy(buf + 7, domain, dlen);
    memcpy(buf + 7 + dlen, "/v1", 4);
    return n;
}

/*
 * Ed25519 needs the whole message at once, so the prefix and the message
 * are joined in one buffer; on the stack for the common small case.
 */
static parley_err with_prefixed(const char *domain, const uint8_t *msg, size_t len,
                                uint8_t *stack, size_t stack_cap, uint8_t **joined,
                                size_t *joined_len)
{
    uint8_t prefix[sizeof("parley//v1") + PARLEY__DOMAIN_MAX];
    size_t plen = parley__signing_prefix(domain, prefix, sizeof(prefix));

    if (plen == 0 || len > SIZE_MAX - plen)
        return PARLEY_EINVAL;
    *joined = plen + len <= stack_cap ? stack : malloc(plen + len);
    if (*joined == NULL)
        return PARLEY_ENOMEM;
    memcpy(*joined, prefix, plen);
    if (len > 0)
        memcpy(*joined + plen, msg, len);
    *joined_len = plen + len;
    return PARLEY_OK;
}

parley_err parley__sign_raw(const uint8_t sk[64], const char *domain, const uint8_t *msg,
                            size_t len, uint8_t sig[64])
{
    uint8_t stack[1024];
    uint8_t *joined;
    size_t jlen;
    parley_err err = with_prefixed(domain, msg, len, stack, sizeof(stack), &joined, &jlen);

    if (err != PARLEY_OK)
        return err;
    crypto_sign_detached(sig, NULL, joined, jlen, sk);
    if (joined != stack)
        free(joined);
    return PARLEY_OK;
}

parley_err parley_verify(const uint8_t sign_pk[32], const char *domain, const uint8_t *msg,
                         size_t len, const uint8_t sig[64])
{
    uint8_t stack[1024];
    uint8_t *joined;
    size_t jlen;
    parley_err err;

    if (sign_pk == NULL || domain == NULL || sig == NULL || (msg == NULL && len > 0))
        return PARLEY_EINVAL;
    err = with_prefixed(domain, msg, len, stack, sizeof(stack), &joined, &jlen);
    if (err != PARLEY_OK)
        return err;
    if (crypto_sign_verify_detached(sig, joined, jlen, sign_pk) != 0)
        err = PARLEY_EBADSIG;
    if (joined != stack)
        free(joined);
    return err;
}

parley_err parley__verify_pb(const uint8_t *pk, size_t pk_len, const char *domain,
                             ProtobufCBinaryData body, ProtobufCBinaryData sig)
{
    if (pk == NULL || pk_len != crypto_sign_PUBLICKEYBYTES || !parley__len_is(sig, 64) ||
        body.data == NULL)
        return PARLEY_EMALFORMED;
    return parley_verify(pk, domain, body.data, body.len, sig.data);
}
