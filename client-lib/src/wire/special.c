/*
 * Consent to special-category data. GDPR art. 9 forbids processing
 * health, beliefs, political opinions, union membership, ethnic origin,
 * sexual orientation and biometric data unless, among other grounds, the
 * person gave explicit consent (art. 9(2)(a)). A customer's client asks
 * for it, separately and category by category, before such a text goes;
 * the answer is this signed object, so that the agents hold proof of it
 * and not only the customer's device a memory of a prompt.
 */
#include <stdlib.h>
#include <string.h>

#include "special.h"

static bool wording_valid(const char *w, size_t n)
{
    return n > 0 && n <= PARLEY__MAX_WORDING && parley__utf8_valid((const uint8_t *)w, n, true);
}

parley_err parley__special_make(const parley_identity *customer, const uint8_t conv[16],
                                uint32_t categories, const char *wording, uint64_t time_ms,
                                uint8_t **out, size_t *out_len)
{
    Parley__SpecialConsentBody body = PARLEY__SPECIAL_CONSENT_BODY__INIT;
    Parley__SpecialConsent sc = PARLEY__SPECIAL_CONSENT__INIT;
    uint32_t cats[PARLEY_SCAN_CATEGORY_COUNT];
    uint8_t sig[64], *bbuf;
    size_t blen, n = 0;
    parley_err err;

    if (customer == NULL || conv == NULL || wording == NULL || out == NULL || out_len == NULL ||
        categories == 0 || (categories & ~PARLEY_SCAN_SPECIAL) != 0 ||
        !wording_valid(wording, strlen(wording)))
        return PARLEY_EINVAL;
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        if (categories & PARLEY_SCAN_BIT(c))
            cats[n++] = c;
    body.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)conv};
    body.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)customer->sign_pk};
    body.categories = cats;
    body.n_categories = n;
    body.wording = (char *)wording;
    body.time_ms = time_ms;
    err = parley__pack(&body.base, &bbuf, &blen);
    if (err != PARLEY_OK)
        return err;
    err = parley__sign_raw(customer->secret->sign_sk, PARLEY__DOMAIN_SPECIAL, bbuf, blen, sig);
    if (err == PARLEY_OK) {
        sc.body = (ProtobufCBinaryData){blen, bbuf};
        sc.signature = (ProtobufCBinaryData){64, sig};
        err = parley__pack(&sc.base, out, out_len);
    }
    free(bbuf);
    return err;
}

/* The categories of a body: a mask within PARLEY_SCAN_SPECIAL, 0 when one is not. */
static uint32_t body_categories(const Parley__SpecialConsentBody *b)
{
    uint32_t mask = 0;

    for (size_t i = 0; i < b->n_categories; i++) {
        if (b->categories[i] >= PARLEY_SCAN_CATEGORY_COUNT ||
            (PARLEY_SCAN_BIT(b->categories[i]) & PARLEY_SCAN_SPECIAL) == 0)
            return 0;
        mask |= PARLEY_SCAN_BIT(b->categories[i]);
    }
    return mask;
}

parley_err parley__special_check(const Parley__SpecialConsent *s, const uint8_t customer[32],
                                 const uint8_t conv[16], struct parley__special *out)
{
    Parley__SpecialConsentBody *b;
    parley_err err = PARLEY_OK;

    if (s == NULL)
        return PARLEY_EMALFORMED;
    if (parley__verify_pb(customer, 32, PARLEY__DOMAIN_SPECIAL, s->body, s->signature) != PARLEY_OK)
        return PARLEY_EBADSIG;
    b = parley__special_consent_body__unpack(NULL, s->body.len, s->body.data);
    if (b == NULL)
        return PARLEY_EMALFORMED;
    if (!parley__len_is(b->customer_sign_key, 32) ||
        sodium_memcmp(b->customer_sign_key.data, customer, 32) != 0)
        err = PARLEY_EBADSIG;
    else if (!parley__len_is(b->conversation_id, 16) ||
             sodium_memcmp(b->conversation_id.data, conv, 16) != 0)
        err = PARLEY_EWRONGCONVERSATION;
    else if ((out->categories = body_categories(b)) == 0 ||
             !wording_valid(b->wording, strlen(b->wording)))
        err = PARLEY_EMALFORMED;
    else
        out->time_ms = b->time_ms;
    parley__special_consent_body__free_unpacked(b, NULL);
    return err;
}

uint32_t parley__special_categories(const uint8_t *s, size_t len)
{
    Parley__SpecialConsent *sc = len > 0 ? parley__special_consent__unpack(NULL, len, s) : NULL;
    Parley__SpecialConsentBody *b = NULL;
    uint32_t mask = 0;

    if (sc != NULL)
        b = parley__special_consent_body__unpack(NULL, sc->body.len, sc->body.data);
    if (b != NULL) {
        mask = body_categories(b);
        parley__special_consent_body__free_unpacked(b, NULL);
    }
    if (sc != NULL)
        parley__special_consent__free_unpacked(sc, NULL);
    return mask;
}

parley_err parley__special_check_buf(const uint8_t *s, size_t len, const uint8_t customer[32],
                                     const uint8_t conv[16], struct parley__special *out)
{
    Parley__SpecialConsent *sc = len > 0 ? parley__special_consent__unpack(NULL, len, s) : NULL;
    parley_err err;

    if (sc == NULL)
        return PARLEY_EMALFORMED;
    err = parley__special_check(sc, customer, conv, out);
    parley__special_consent__free_unpacked(sc, NULL);
    return err;
}
