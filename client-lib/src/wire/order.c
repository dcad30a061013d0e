/*
 * Brand orders and their receipts (docs/protocol.md §2.8): a brand asks
 * the relay and every agent client to erase or export what they hold
 * about one customer key, without that customer's device; each agent
 * client answers with a receipt signed by its own key. The relay, the
 * agents' clients and parley-keys all check them here.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool kind_known(int kind)
{
    return kind == PARLEY_ORDER_ERASE || kind == PARLEY_ORDER_EXPORT;
}

parley_err parley_order_build(const parley_identity *brand, const char *brand_id,
                              parley_order_kind kind, const uint8_t customer_sign_pk[32],
                              uint64_t issued_at, uint64_t expires_at, uint8_t **out,
                              size_t *out_len)
{
    Parley__BrandOrderBody body = PARLEY__BRAND_ORDER_BODY__INIT;
    Parley__BrandOrder o = PARLEY__BRAND_ORDER__INIT;
    uint8_t order_id[PARLEY_ORDER_ID_BYTES], sig[64], *bbuf = NULL;
    size_t blen = 0;
    parley_err err;

    if (brand == NULL || brand->secret == NULL || !parley_id_valid(brand_id) ||
        !kind_known((int)kind) || customer_sign_pk == NULL || out == NULL || out_len == NULL ||
        expires_at <= issued_at || expires_at - issued_at > PARLEY_ORDER_MAX_DAYS * 86400ull)
        return PARLEY_EINVAL;
    randombytes_buf(order_id, sizeof(order_id));
    body.brand_id = (char *)brand_id;
    body.order_id = (ProtobufCBinaryData){sizeof(order_id), order_id};
    body.kind = kind == PARLEY_ORDER_EXPORT ? PARLEY__BRAND_ORDER_BODY__KIND__EXPORT
                                            : PARLEY__BRAND_ORDER_BODY__KIND__ERASE;
    body.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)customer_sign_pk};
    body.issued_at = issued_at;
    body.expires_at = expires_at;
    err = parley__pack(&body.base, &bbuf, &blen);
    if (err != PARLEY_OK)
        return err;
    err = parley__sign_raw(brand->secret->sign_sk, PARLEY__DOMAIN_ORDER, bbuf, blen, sig);
    o.body = (ProtobufCBinaryData){blen, bbuf};
    o.signature = (ProtobufCBinaryData){64, sig};
    if (err == PARLEY_OK)
        err = parley__pack(&o.base, out, out_len);
    free(bbuf);
    return err;
}

parley_err parley__order_body_decode(const Parley__BrandOrder *o, parley_order_info *info)
{
    Parley__BrandOrderBody *b;
    parley_err err = PARLEY_EMALFORMED;

    memset(info, 0, sizeof(*info));
    if (o == NULL || o->body.data == NULL || o->body.len > PARLEY_MAX_ORDER)
        return PARLEY_EMALFORMED;
    b = parley__brand_order_body__unpack(NULL, o->body.len, o->body.data);
    if (b == NULL)
        return PARLEY_EMALFORMED;
    if (parley_id_valid(b->brand_id) && parley__len_is(b->order_id, PARLEY_ORDER_ID_BYTES) &&
        parley__len_is(b->customer_sign_key, 32) && kind_known((int)b->kind) &&
        b->expires_at > b->issued_at &&
        b->expires_at - b->issued_at <= PARLEY_ORDER_MAX_DAYS * 86400ull) {
        memcpy(info->brand_id, b->brand_id, strlen(b->brand_id) + 1); /* checked: fits */
        memcpy(info->order_id, b->order_id.data, PARLEY_ORDER_ID_BYTES);
        memcpy(info->customer_sign_pk, b->customer_sign_key.data, 32);
        info->kind = (parley_order_kind)b->kind;
        info->issued_at = b->issued_at;
        info->expires_at = b->expires_at;
        err = PARLEY_OK;
    }
    parley__brand_order_body__free_unpacked(b, NULL);
    return err;
}

parley_err parley__order_check(const Parley__BrandOrder *o, const uint8_t brand_pk[32],
                               const char *brand_id, uint64_t now, parley_order_info *info)
{
    /* Signature first: nothing unsigned is looked at beyond its structure. */
    parley_err err = parley__verify_pb(brand_pk, 32, PARLEY__DOMAIN_ORDER, o->body, o->signature);

    if (err == PARLEY_OK)
        err = parley__order_body_decode(o, info);
    if (err == PARLEY_OK && brand_id != NULL && strcmp(info->brand_id, brand_id) != 0)
        err = PARLEY_EWRONGBRAND;
    if (err == PARLEY_OK && now != 0 && now >= info->expires_at)
        err = PARLEY_EEXPIRED;
    return err;
}

parley_err parley_order_verify(const uint8_t *buf, size_t len, const uint8_t brand_pk[32],
                               const char *brand_id, uint64_t now, parley_order_info *info)
{
    Parley__BrandOrder *o;
    parley_err err;

    if (buf == NULL || info == NULL)
        return PARLEY_EINVAL;
    memset(info, 0, sizeof(*info));
    if (len > PARLEY_MAX_ORDER)
        return PARLEY_ETOOBIG;
    o = parley__brand_order__unpack(NULL, len, buf);
    if (o == NULL)
        return PARLEY_EMALFORMED;
    /* Without a key: its fields only, to show a file. */
    err = brand_pk != NULL ? parley__order_check(o, brand_pk, brand_id, now, info)
                           : parley__order_body_decode(o, info);
    parley__brand_order__free_unpacked(o, NULL);
    return err;
}

parley_err parley__order_receipt_sign(const parley_identity *agent, const uint8_t *cert,
                                      size_t cert_len, const parley_order_receipt_info *r,
                                      uint8_t **out, size_t *out_len)
{
    Parley__OrderReceiptBody body = PARLEY__ORDER_RECEIPT_BODY__INIT;
    Parley__OrderReceipt rc = PARLEY__ORDER_RECEIPT__INIT;
    Parley__AgentCert *ac = parley__agent_cert__unpack(NULL, cert_len, cert);
    Parley__AgentCert bare = PARLEY__AGENT_CERT__INIT;
    uint8_t sig[64], *bbuf = NULL;
    size_t blen = 0;
    parley_err err;

    if (ac == NULL)
        return PARLEY_EMALFORMED;
    /* The body and the brand's signature: the display name stays out, as at the relay's
       authentication (the receipt goes to the relay and to the brand). */
    bare.body = ac->body;
    bare.signature = ac->signature;
    body.order_id = (ProtobufCBinaryData){PARLEY_ORDER_ID_BYTES, (uint8_t *)r->order_id};
    body.agent_cert = &bare;
    body.outcome = (Parley__OrderReceiptBody__Outcome)r->outcome;
    body.conversations = r->conversations;
    body.messages = r->messages;
    body.time_ms = r->time_ms;
    err = parley__pack(&body.base, &bbuf, &blen);
    parley__agent_cert__free_unpacked(ac, NULL);
    if (err != PARLEY_OK)
        return err;
    err = parley__sign_raw(agent->secret->sign_sk, PARLEY__DOMAIN_ORDER_RECEIPT, bbuf, blen, sig);
    rc.body = (ProtobufCBinaryData){blen, bbuf};
    rc.signature = (ProtobufCBinaryData){64, sig};
    if (err == PARLEY_OK)
        err = parley__pack(&rc.base, out, out_len);
    free(bbuf);
    return err;
}

/* The receipt's fields, its certificate authentic under brand_pk (its time not judged here). */
static parley_err receipt_fields(const Parley__OrderReceiptBody *b, const uint8_t brand_pk[32],
                                 const char *brand_id, parley_order_receipt_info *info)
{
    parley_err err;

    if (!parley__len_is(b->order_id, PARLEY_ORDER_ID_BYTES) || b->agent_cert == NULL ||
        (int)b->outcome < PARLEY_ORDER_DONE || (int)b->outcome > PARLEY_ORDER_FAILED)
        return PARLEY_EMALFORMED;
    err = brand_pk != NULL ? parley__cert_authentic(b->agent_cert, brand_pk, brand_id, &info->agent)
                           : parley__cert_body_decode(b->agent_cert, &info->agent);
    if (err != PARLEY_OK)
        return err;
    memcpy(info->order_id, b->order_id.data, PARLEY_ORDER_ID_BYTES);
    info->outcome = (parley_order_outcome)b->outcome;
    info->conversations = b->conversations;
    info->messages = b->messages;
    info->time_ms = b->time_ms;
    return PARLEY_OK;
}

parley_err parley__order_receipt_check(const Parley__OrderReceipt *r, const uint8_t brand_pk[32],
                                       const char *brand_id, parley_order_receipt_info *info)
{
    Parley__OrderReceiptBody *b;
    parley_err err;

    memset(info, 0, sizeof(*info));
    if (r == NULL || r->body.data == NULL || r->body.len > PARLEY_MAX_ORDER_RECEIPT)
        return PARLEY_EMALFORMED;
    b = parley__order_receipt_body__unpack(NULL, r->body.len, r->body.data);
    if (b == NULL)
        return PARLEY_EMALFORMED;
    err = receipt_fields(b, brand_pk, brand_id, info);
    parley__order_receipt_body__free_unpacked(b, NULL);
    /* The agent's own key signs it: the one its certificate names. */
    if (err == PARLEY_OK)
        err = parley__verify_pb(info->agent.sign_pk, 32, PARLEY__DOMAIN_ORDER_RECEIPT, r->body,
                                r->signature);
    return err;
}

parley_err parley_order_receipt_verify(const uint8_t *buf, size_t len, const uint8_t brand_pk[32],
                                       const char *brand_id, parley_order_receipt_info *info)
{
    Parley__OrderReceipt *r;
    parley_err err;

    if (buf == NULL || brand_pk == NULL || info == NULL)
        return PARLEY_EINVAL;
    memset(info, 0, sizeof(*info));
    if (len > PARLEY_MAX_ORDER_RECEIPT)
        return PARLEY_ETOOBIG;
    r = parley__order_receipt__unpack(NULL, len, buf);
    if (r == NULL)
        return PARLEY_EMALFORMED;
    err = parley__order_receipt_check(r, brand_pk, brand_id, info);
    parley__order_receipt__free_unpacked(r, NULL);
    return err;
}
