/*
 * Error names and the small helpers every module needs: library
 * initialisation, wiping frees, packing, growable arrays and bounded
 * string copies.
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
    [PARLEY_EPURPOSE] = "not a purpose of the notice the customer may refuse",
    [PARLEY_ESPECIAL] = "special-category data without the customer's explicit consent",
    [PARLEY_EPOLICY] = "refused by the brand's policy",
    [PARLEY_ETIMEOUT] = "the relay did not answer in time",
    [PARLEY_EREFUSED] = "refused by the relay",
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

/* The capacity to grow cap to for need elements of elem bytes; 0 when it would overflow. */
static size_t grow_want(size_t cap, size_t need, size_t elem)
{
    size_t want = cap > 0 ? cap : 16;

    while (want < need)
        want = want > SIZE_MAX / 2 ? need : want * 2;
    return elem == 0 || want > SIZE_MAX / elem ? 0 : want;
}

void *parley__grow(void *arr, size_t *cap, size_t need, size_t elem)
{
    size_t want;
    void *grown;

    if (need <= *cap)
        return arr;
    want = grow_want(*cap, need, elem);
    grown = want > 0 ? realloc(arr, want * elem) : NULL;
    if (grown != NULL)
        *cap = want;
    return grown;
}

void *parley__grow_wiped(void *arr, size_t *cap, size_t need, size_t elem)
{
    size_t want;
    void *grown;

    if (need <= *cap)
        return arr;
    want = grow_want(*cap, need, elem);
    grown = want > 0 ? malloc(want * elem) : NULL;
    if (grown == NULL)
        return NULL;
    if (arr != NULL) {
        memcpy(grown, arr, *cap * elem);
        parley_free(arr, *cap * elem);
    }
    *cap = want;
    return grown;
}

bool parley__config_copy(void *dst, size_t dst_size, const void *src, size_t base_size)
{
    const uint8_t *bytes = src;
    size_t n;

    memcpy(&n, src, sizeof(n));
    if (n == 0)
        n = base_size;
    if (n < base_size || n < sizeof(n))
        return false;
    for (size_t i = dst_size; i < n; i++)
        if (bytes[i] != 0)
            return false;
    memset(dst, 0, dst_size);
    memcpy(dst, src, n < dst_size ? n : dst_size);
    memcpy(dst, &dst_size, sizeof(dst_size));
    return true;
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
