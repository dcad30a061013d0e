/*
 * Consent: the customer's signed receipt over the brand's notice, and an
 * agent's check of it.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

bool consent_valid(const struct parley__core *c, const Parley__ConsentReceipt *r,
                   const uint8_t customer[32])
{
    Parley__ConsentReceiptBody *b;
    bool ok;

    /* Without the notice there is nothing to check consent against: never assumed. */
    if (r == NULL || c->dir == NULL ||
        parley__verify_pb(customer, 32, PARLEY__DOMAIN_CONSENT, r->body, r->signature) != PARLEY_OK)
        return false;
    b = parley__consent_receipt_body__unpack(NULL, r->body.len, r->body.data);
    if (b == NULL)
        return false;
    ok = strcmp(b->brand_id, c->brand_id) == 0 && parley__len_is(b->customer_sign_key, 32) &&
         memcmp(b->customer_sign_key.data, customer, 32) == 0 && b->notice_version > 0 &&
         !b->withdrawn;
    /*
     * Against the notice this agent knows: not a version from the future,
     * and for the current version, the very text (its hash) the brand signed.
     */
    if (ok) {
        uint32_t current = parley_directory_notice_version(c->dir);
        const char *notice = parley_directory_notice_text(c->dir);
        uint8_t hash[32];

        crypto_generichash(hash, sizeof(hash), (const uint8_t *)notice, strlen(notice), NULL, 0);
        ok = b->notice_version < current ||
             (b->notice_version == current && parley__len_is(b->notice_hash, 32) &&
              sodium_memcmp(b->notice_hash.data, hash, 32) == 0);
    }
    parley__consent_receipt_body__free_unpacked(b, NULL);
    return ok;
}

uint32_t consent_version_of(const struct buf *b)
{
    Parley__ConsentReceipt *r = parley__consent_receipt__unpack(NULL, b->n, b->p);
    Parley__ConsentReceiptBody *body = NULL;
    uint32_t v = 0;

    if (r != NULL)
        body = parley__consent_receipt_body__unpack(NULL, r->body.len, r->body.data);
    if (body != NULL) {
        v = body->notice_version;
        parley__consent_receipt_body__free_unpacked(body, NULL);
    }
    if (r != NULL)
        parley__consent_receipt__free_unpacked(r, NULL);
    return v;
}

int parley__core_has_consent(const struct parley__core *c)
{
    return c->dir != NULL && c->consent.n > 0 &&
           c->consent_version == parley_directory_notice_version(c->dir);
}

parley_err parley__core_consent(struct parley__core *c, uint64_t now)
{
    Parley__ConsentReceiptBody body = PARLEY__CONSENT_RECEIPT_BODY__INIT;
    Parley__ConsentReceipt r = PARLEY__CONSENT_RECEIPT__INIT;
    const char *purposes[256];
    uint8_t hash[32], sig[64], *bbuf, *rbuf;
    size_t blen, rlen, np;
    const char *notice;
    parley_err err;

    if (c->agent)
        return PARLEY_ESTATE;
    if (!dir_valid(c, now))
        return PARLEY_ENODIRECTORY;
    notice = parley_directory_notice_text(c->dir);
    crypto_generichash(hash, sizeof(hash), (const uint8_t *)notice, strlen(notice), NULL, 0);
    np = parley_directory_purpose_count(c->dir);
    if (np > 256)
        np = 256;
    for (size_t i = 0; i < np; i++)
        purposes[i] = parley_directory_purpose(c->dir, i);
    body.brand_id = c->brand_id;
    body.notice_version = parley_directory_notice_version(c->dir);
    body.notice_hash = (ProtobufCBinaryData){32, hash};
    body.purposes = (char **)purposes;
    body.n_purposes = np;
    body.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(c->id)};
    body.time_ms = now;
    err = parley__pack(&body.base, &bbuf, &blen);
    if (err != PARLEY_OK)
        return err;
    parley__sign_raw(c->id->secret->sign_sk, PARLEY__DOMAIN_CONSENT, bbuf, blen, sig);
    r.body = (ProtobufCBinaryData){blen, bbuf};
    r.signature = (ProtobufCBinaryData){64, sig};
    err = parley__pack(&r.base, &rbuf, &rlen);
    free(bbuf);
    if (err != PARLEY_OK)
        return err;
    err = parley__vault_put(c->vault, "meta", (const uint8_t *)"consent", 7, rbuf, rlen);
    if (err == PARLEY_OK) {
        buf_set(&c->consent, rbuf, rlen);
        c->consent_version = body.notice_version;
    }
    free(rbuf);
    return err;
}

parley_err parley__core_withdraw_consent(struct parley__core *c, uint64_t now)
{
    parley_err err;

    if (c->agent)
        return PARLEY_ESTATE;
    err = parley__vault_del(c->vault, "meta", (const uint8_t *)"consent", 7);
    if (err != PARLEY_OK)
        return err;
    buf_free(&c->consent);
    c->consent_version = 0;
    return parley__core_erase(c, now);
}
