/*
 * Brand orders at the in-memory relay (see memrelay.h), following
 * docs/protocol.md §10.6 as parley-relay does: orders checked against the
 * brand key and stored once, handed to every agent until its receipt is
 * stored; receipts checked to be the answering agent's own, for an order
 * held.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "memrelay.h"

static void *grow_by_one(void *v, size_t *cap, size_t n, size_t size)
{
    void *grown = parley__grow(v, cap, n + 1, size);

    CHECK(grown != NULL);
    return grown;
}

static const struct mr_order *order_held(const struct mr_relay *r, const uint8_t id[16])
{
    for (size_t i = 0; i < r->n_orders; i++)
        if (memcmp(r->orders[i].id, id, 16) == 0)
            return &r->orders[i];
    return NULL;
}

void mr_push_order(struct mr_party *p, const uint8_t *order, size_t len)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__BrandOrder *o = parley__brand_order__unpack(NULL, len, order);

    CHECK(o != NULL);
    f.kind_case = PARLEY__FRAME__KIND_ORDER;
    f.order = o;
    mr__push_frame(p, &f);
    parley__brand_order__free_unpacked(o, NULL);
}

/* The relay's checks in its order: shape, brand served, signature, validity window. */
static int order_refusal(const struct mr_relay *r, const Parley__BrandOrder *o,
                         parley_order_info *info)
{
    uint64_t now = r->now / 1000u;
    parley_err err;

    if (o == NULL || parley__order_body_decode(o, info) != PARLEY_OK)
        return PARLEY__ERROR__CODE__MALFORMED;
    if (strcmp(info->brand_id, r->brand_id) != 0)
        return PARLEY__ERROR__CODE__UNKNOWN_BRAND;
    err = parley__order_check(o, r->brand_pk, r->brand_id, now, info);
    if (err == PARLEY_EEXPIRED || (err == PARLEY_OK && info->issued_at > now + 600))
        return PARLEY__ERROR__CODE__EXPIRED;
    return err == PARLEY_OK ? 0 : PARLEY__ERROR__CODE__BAD_SIGNATURE;
}

int mr_submit_order(struct mr_relay *r, const uint8_t *order, size_t len)
{
    Parley__BrandOrder *o = parley__brand_order__unpack(NULL, len, order);
    parley_order_info info;
    struct mr_order *held;
    int refusal = order_refusal(r, o, &info);

    if (o != NULL)
        parley__brand_order__free_unpacked(o, NULL);
    if (refusal != 0)
        return refusal;
    if (order_held(r, info.order_id) != NULL)
        return PARLEY__ERROR__CODE__REPLAYED;
    r->orders = grow_by_one(r->orders, &r->cap_orders, r->n_orders, sizeof(*r->orders));
    held = &r->orders[r->n_orders++];
    memcpy(held->id, info.order_id, 16);
    held->order.p = malloc(len);
    CHECK(held->order.p != NULL);
    memcpy(held->order.p, order, len);
    held->order.n = len;
    for (size_t i = 0; i < r->n_parties; i++)
        if (r->parties[i]->authed && r->parties[i]->is_agent)
            mr_push_order(r->parties[i], order, len);
    return 0;
}

size_t mr_receipt_count(const struct mr_relay *r, const uint8_t order_id[16])
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_receipts; i++)
        n += memcmp(r->receipts[i].order_id, order_id, 16) == 0;
    return n;
}

const struct mr_buf *mr_receipt_of(const struct mr_relay *r, const uint8_t order_id[16],
                                   const uint8_t agent[32])
{
    for (size_t i = 0; i < r->n_receipts; i++)
        if (memcmp(r->receipts[i].order_id, order_id, 16) == 0 &&
            memcmp(r->receipts[i].agent, agent, 32) == 0)
            return &r->receipts[i].receipt;
    return NULL;
}

void mr__orders_on_auth(struct mr_relay *r, struct mr_party *p)
{
    for (size_t i = 0; i < r->n_orders; i++)
        if (mr_receipt_of(r, r->orders[i].id, p->sign_pk) == NULL)
            mr_push_order(p, r->orders[i].order.p, r->orders[i].order.n);
}

void mr__on_order_receipt(struct mr_relay *r, struct mr_party *p, const Parley__OrderReceipt *rc)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__OrderStored st = PARLEY__ORDER_STORED__INIT;
    parley_order_receipt_info info;
    struct mr_receipt *slot;

    if (!p->is_agent) {
        mr__push_error(p, PARLEY__ERROR__CODE__NOT_ALLOWED, NULL);
        return;
    }
    if (parley__order_receipt_check(rc, r->brand_pk, r->brand_id, &info) != PARLEY_OK ||
        memcmp(info.agent.sign_pk, p->sign_pk, 32) != 0) {
        mr__push_error(p, PARLEY__ERROR__CODE__BAD_SIGNATURE, NULL);
        return;
    }
    if (order_held(r, info.order_id) == NULL) {
        mr__push_error(p, PARLEY__ERROR__CODE__UNKNOWN_ORDER, NULL);
        return;
    }
    slot = NULL;
    for (size_t i = 0; i < r->n_receipts && slot == NULL; i++)
        if (memcmp(r->receipts[i].order_id, info.order_id, 16) == 0 &&
            memcmp(r->receipts[i].agent, p->sign_pk, 32) == 0)
            slot = &r->receipts[i];
    if (slot == NULL) {
        r->receipts = grow_by_one(r->receipts, &r->cap_receipts, r->n_receipts,
                                  sizeof(*r->receipts));
        slot = &r->receipts[r->n_receipts++];
        memcpy(slot->order_id, info.order_id, 16);
        memcpy(slot->agent, p->sign_pk, 32);
    } else {
        free(slot->receipt.p);
    }
    CHECK_OK(parley__pack(&rc->base, &slot->receipt.p, &slot->receipt.n));
    st.order_id = (ProtobufCBinaryData){16, info.order_id};
    f.kind_case = PARLEY__FRAME__KIND_ORDER_STORED;
    f.order_stored = &st;
    mr__push_frame(p, &f);
}

void mr__on_order_submit(struct mr_relay *r, struct mr_party *p, const Parley__BrandOrder *o)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__OrderStored st = PARLEY__ORDER_STORED__INIT;
    parley_order_info info;
    uint8_t *buf;
    size_t len;
    int refusal;

    CHECK_OK(parley__pack(&o->base, &buf, &len));
    refusal = mr_submit_order(r, buf, len);
    if (refusal == 0)
        CHECK_OK(parley__order_body_decode(o, &info));
    free(buf);
    if (refusal != 0) {
        mr__push_error(p, (Parley__Error__Code)refusal, NULL);
        return;
    }
    st.order_id = (ProtobufCBinaryData){16, info.order_id};
    f.kind_case = PARLEY__FRAME__KIND_ORDER_STORED;
    f.order_stored = &st;
    mr__push_frame(p, &f);
}

void mr__orders_free(struct mr_relay *r)
{
    for (size_t i = 0; i < r->n_orders; i++)
        free(r->orders[i].order.p);
    for (size_t i = 0; i < r->n_receipts; i++)
        free(r->receipts[i].receipt.p);
    free(r->orders);
    free(r->receipts);
}
