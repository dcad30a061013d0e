/*
 * Error names and the small shared helpers every module needs: library
 * initialisation, wiping frees, and the domain-separated signatures that
 * all signed Parley objects use.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const names[PARLEY_ERR_COUNT_] = {
    [PARLEY_OK] = "success",
    [PARLEY_EINVAL] = "invalid argument",
    [PARLEY_ENOMEM] = "out of memory",
    [PARLEY_EIO] = "input/output error",
    [PARLEY_EBADSEAL] = "bad seal",
    [PARLEY_EBADPADDING] = "bad padding",
    [PARLEY_EMALFORMED] = "malformed",
    [PARLEY_ETOOBIG] = "too big",
    [PARLEY_EBADSIG] = "bad signature",
    [PARLEY_EWRONGRECIPIENT] = "wrong recipient",
    [PARLEY_EWRONGCONVERSATION] = "wrong conversation",
    [PARLEY_EUNTRUSTED] = "untrusted sender",
    [PARLEY_EEXPIRED] = "expired",
    [PARLEY_ENOTYETVALID] = "not yet valid",
    [PARLEY_EREVOKED] = "revoked",
    [PARLEY_EROLLBACK] = "rollback",
    [PARLEY_EPASSPHRASE] = "wrong passphrase",
    [PARLEY_EWRONGBRAND] = "another brand",
    [PARLEY_EWRONGTYPE] = "wrong kind of file",
    [PARLEY_EEXIST] = "already exists",
    [PARLEY_ENOCONSENT] = "no consent",
    [PARLEY_ESTATE] = "not possible in this state",
    [PARLEY_ENOAGENT] = "no such agent",
    [PARLEY_EREPLAY] = "replayed",
    [PARLEY_ECUSTODY] = "custody not acknowledged by the customer",
    [PARLEY_ENODIRECTORY] = "no valid directory",
    [PARLEY_ENOPREKEY] = "no prekey",
    [PARLEY_EUNBOUND] = "conversation not bound to this customer",
};

const char *parley_strerror(parley_err err)
{
    if ((unsigned)err >= PARLEY_ERR_COUNT_ || names[err] == NULL)
        return "unknown error";
    return names[err];
}

void parley_free(void *buf, size_t len)
{
    if (buf == NULL)
        return;
    sodium_memzero(buf, len);
    free(buf);
}

parley_err parley_init(void)
{
    return sodium_init() < 0 ? PARLEY_ENOMEM : PARLEY_OK;
}

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

parley_err parley__pack(const ProtobufCMessage *msg, uint8_t **out, size_t *out_len)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n > 0 ? n : 1);

    if (buf == NULL)
        return PARLEY_ENOMEM;
    *out_len = protobuf_c_message_pack(msg, buf);
    *out = buf;
    return PARLEY_OK;
}

bool parley__copy_str(char *dst, size_t cap, const char *src)
{
    size_t n;

    if (src == NULL)
        return false;
    n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}
