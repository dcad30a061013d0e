/*
 * Brand orders (docs/protocol.md §2.8, docs/gdpr.md): a brand asks for a
 * customer's data to be erased or exported without the customer's device.
 * Anyone may hand the relay an order (only the brand's signature makes it
 * one); the relay checks it against the brand key it serves, stores it
 * with its audit entry, erases what it holds to and from the customer's
 * routing id (an erasure order), and hands the order to every agent of
 * the brand as it connects, until that agent's signed receipt is stored.
 * Whoever holds the order may read the receipts back.
 *
 * On a shared store (docs/cluster.md §3.15) the store hands the loop the
 * orders other nodes stored, for the agents online here
 * (order_notices); agents connecting on any node read theirs from it.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "session_impl.h"

/* Orders handed to an agent per connection, and receipts per status answer. */
#define ORDERS_PER_AGENT 64u
#define RECEIPTS_PER_STATUS 32u
/* How far in the future an order's issue time may lie (clocks differ). */
#define ISSUE_SKEW_S 600u

static void order_refuse(struct relay *r, struct conn *c, enum reject_reason why,
                         Parley__Error__Code code, const char *message)
{
    metrics_reject(&r->metrics, why);
    session_send_error(r, c, code, message, NULL);
}

/*
 * Checks an order against the key of the brand it names. judge_time: its
 * validity window too (a submission; a status request may ask about an
 * expired order). Returns the brand's index, or -1 after refusing it.
 */
static int order_check(struct relay *r, struct conn *c, const Parley__BrandOrder *o,
                       bool judge_time, parley_order_info *info)
{
    uint64_t now = relay_now_ms() / 1000u;
    parley_err err;
    int b;

    if (o == NULL || parley__order_body_decode(o, info) != PARLEY_OK) {
        order_refuse(r, c, REJECT_malformed, PARLEY__ERROR__CODE__MALFORMED, "malformed order");
        return -1;
    }
    b = session_find_brand(r, info->brand_id);
    if (b < 0) {
        order_refuse(r, c, REJECT_unknown_brand, PARLEY__ERROR__CODE__UNKNOWN_BRAND,
                     "order of a brand not served here");
        return -1;
    }
    err = parley__order_check(o, r->brands[b].brand->key, info->brand_id, judge_time ? now : 0,
                              info);
    if (err == PARLEY_OK && judge_time && info->issued_at > now + ISSUE_SKEW_S)
        err = PARLEY_EEXPIRED;
    if (err == PARLEY_EEXPIRED) {
        order_refuse(r, c, REJECT_expired, PARLEY__ERROR__CODE__EXPIRED,
                     "order outside its validity");
        return -1;
    }
    if (err != PARLEY_OK) {
        order_refuse(r, c, REJECT_bad_signature, PARLEY__ERROR__CODE__BAD_SIGNATURE,
                     "order does not verify under the brand key");
        return -1;
    }
    return b;
}

/* A new op answering c about the order with this id, for brand b. NULL: no memory (refused). */
static struct store_op *order_op(struct relay *r, struct conn *c, enum store_op_kind kind, int b,
                                 const uint8_t order_id[16])
{
    struct store_op *op = store_batch_add(&r->pending, kind);

    if (op == NULL) {
        order_refuse(r, c, REJECT_unavailable, PARLEY__ERROR__CODE__UNAVAILABLE, "out of memory");
        return NULL;
    }
    memcpy(op->env.envelope_id, order_id, 16);
    memcpy(op->brand_id, r->brands[b].brand->id, strlen(r->brands[b].brand->id) + 1);
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
    return op;
}

/* m packed into a new op blob; false (op dropped, c told) without memory. */
static bool op_blob(struct relay *r, struct conn *c, struct store_op *op, const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);

    op->blob = malloc(n > 0 ? n : 1);
    if (op->blob == NULL) {
        store_batch_drop_last(&r->pending);
        order_refuse(r, c, REJECT_unavailable, PARLEY__ERROR__CODE__UNAVAILABLE, "out of memory");
        return false;
    }
    op->blob_len = protobuf_c_message_pack(m, op->blob);
    return true;
}

void order_on_submit(struct relay *r, struct conn *c, const Parley__BrandOrder *o)
{
    parley_order_info info;
    uint8_t customer[32];
    struct store_op *op;
    int b = order_check(r, c, o, true, &info);

    if (b < 0)
        return;
    parley_routing_id(info.customer_sign_pk, PARLEY_ROUTING_CUSTOMER, customer);
    op = order_op(r, c, STORE_ORDER_PUT, b, info.order_id);
    if (op == NULL || !op_blob(r, c, op, &o->base))
        return;
    memcpy(op->env.recipient, customer, 32);
    op->unit = (uint32_t)info.kind;
    op->cutoff = info.expires_at;
}

void order_on_receipt(struct relay *r, struct conn *c, const Parley__OrderReceipt *rc)
{
    const struct relay_brand *brand = c->agent ? r->brands[c->brand].brand : NULL;
    parley_order_receipt_info info;
    struct store_op *op;
    parley_err err;

    if (brand == NULL) {
        order_refuse(r, c, REJECT_not_allowed, PARLEY__ERROR__CODE__NOT_ALLOWED,
                     "only agents answer orders");
        return;
    }
    err = parley__order_receipt_check(rc, brand->key, brand->id, &info);
    if (err == PARLEY_EMALFORMED) {
        order_refuse(r, c, REJECT_malformed, PARLEY__ERROR__CODE__MALFORMED, "malformed receipt");
        return;
    }
    /* The receipt must be this connection's own: the key it authenticated with signed it. */
    if (err != PARLEY_OK || sodium_memcmp(info.agent.sign_pk, c->sign_pk, 32) != 0) {
        order_refuse(r, c, REJECT_bad_signature, PARLEY__ERROR__CODE__BAD_SIGNATURE,
                     "receipt does not verify for this agent");
        return;
    }
    /* Kept as it came: a certificate beside which the agent's name comes, or whose body holds
       it (issued before names were committed to), would put the name in the store. */
    if (info.agent.display_name[0] != '\0') {
        order_refuse(r, c, REJECT_not_allowed, PARLEY__ERROR__CODE__NOT_ALLOWED,
                     "a receipt naming its agent in clear is not stored");
        return;
    }
    op = order_op(r, c, STORE_RECEIPT_PUT, c->brand, info.order_id);
    if (op == NULL || !op_blob(r, c, op, &rc->base))
        return;
    memcpy(op->key, c->sign_pk, 32);
}

void order_on_status(struct relay *r, struct conn *c, const Parley__OrderStatusFetch *f)
{
    parley_order_info info;
    struct store_op *op;
    int b = order_check(r, c, f->order, false, &info);

    if (b < 0)
        return;
    op = order_op(r, c, STORE_ORDER_STATUS, b, info.order_id);
    if (op == NULL)
        return;
    op->unit = f->skip;
    op->limit = RECEIPTS_PER_STATUS;
}

void order_agent_ready(struct relay *r, struct conn *c)
{
    struct store_op *op;

    if (!c->agent || (op = store_batch_add(&r->pending, STORE_ORDER_PENDING)) == NULL)
        return; /* without memory: its next connection reads them */
    memcpy(op->brand_id, r->brands[c->brand].brand->id, strlen(r->brands[c->brand].brand->id) + 1);
    memcpy(op->key, c->sign_pk, 32);
    op->cutoff = relay_now_ms() / 1000u;
    op->limit = ORDERS_PER_AGENT;
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
}

/*
 * An order from the store (another node's notice, or read from the
 * bucket), unpacked when it is brand b's and verifies under its key: the
 * relay checks again what any NATS publisher could have put there. NULL
 * (dropped and counted) when not.
 */
static Parley__BrandOrder *order_from_store(struct relay *r, int b, const uint8_t *blob,
                                            size_t len)
{
    Parley__BrandOrder *o = parley__brand_order__unpack(NULL, len, blob);
    parley_order_info info;

    if (o != NULL && b >= 0 &&
        parley__order_check(o, r->brands[b].brand->key, r->brands[b].brand->id, 0, &info) ==
            PARLEY_OK &&
        strcmp(info.brand_id, r->brands[b].brand->id) == 0)
        return o;
    if (o != NULL)
        parley__brand_order__free_unpacked(o, NULL);
    r->metrics.orders_dropped++;
    log_event(LOG_WARN, "order_dropped", "\"why\":\"does not verify under the brand key\"");
    return NULL;
}

/* An order to an agent, as frame 19. */
static void send_order(struct relay *r, struct conn *c, Parley__BrandOrder *o)
{
    Parley__Frame f = PARLEY__FRAME__INIT;

    f.kind_case = PARLEY__FRAME__KIND_ORDER;
    f.order = o;
    session_send_frame(r, c, &f);
}

static void send_stored(struct relay *r, struct conn *c, const uint8_t order_id[16])
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__OrderStored s = PARLEY__ORDER_STORED__INIT;

    s.order_id = (ProtobufCBinaryData){16, (uint8_t *)order_id};
    f.kind_case = PARLEY__FRAME__KIND_ORDER_STORED;
    f.order_stored = &s;
    session_send_frame(r, c, &f);
}

/* An order of the brand to every agent of it online here (once it verifies). */
static void hand_to_agents(struct relay *r, const char *brand_id, const uint8_t *blob, size_t len)
{
    int b = session_find_brand(r, brand_id);
    Parley__BrandOrder *o = b >= 0 ? order_from_store(r, b, blob, len) : NULL;

    for (struct conn *a = r->conns; o != NULL && a != NULL; a = a->next)
        if (a->authed && !a->closing && a->agent && a->brand == b)
            send_order(r, a, o);
    if (o != NULL)
        parley__brand_order__free_unpacked(o, NULL);
}

void order_notices(struct relay *r)
{
    char brand_id[65];
    uint8_t *blob = NULL;
    size_t len = 0;

    while (store_take_order(r->store, brand_id, &blob, &len) == 1) {
        hand_to_agents(r, brand_id, blob, len);
        free(blob);
    }
}

/* The order is stored: the submitter told, the relay's erasure started, online agents handed it. */
static void order_stored(struct relay *r, const struct store_op *op, struct conn *c)
{
    if (c != NULL)
        send_stored(r, c, op->env.envelope_id);
    if (op->unit == PARLEY_ORDER_ERASE && !erasure_order(r, op->env.recipient))
        log_event(LOG_ERROR, "order_erasure_not_started", NULL);
    hand_to_agents(r, op->brand_id, op->blob, op->blob_len);
    log_event(LOG_INFO, "order_stored", "\"kind\":\"%s\"",
              op->unit == PARLEY_ORDER_ERASE ? "erase" : "export");
}

static void send_status(struct relay *r, struct conn *c, const struct store_op *op)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__OrderStatus st = PARLEY__ORDER_STATUS__INIT;
    Parley__OrderReceipt *list[RECEIPTS_PER_STATUS];
    size_t n = 0;

    for (size_t i = 0; i < op->n_envs && n < RECEIPTS_PER_STATUS; i++) {
        list[n] = parley__order_receipt__unpack(NULL, op->envs[i].sealed_len, op->envs[i].sealed);
        n += list[n] != NULL;
    }
    st.order_id = (ProtobufCBinaryData){16, (uint8_t *)op->env.envelope_id};
    st.receipts = list;
    st.n_receipts = n;
    st.total = op->count < UINT32_MAX ? (uint32_t)op->count : UINT32_MAX;
    f.kind_case = PARLEY__FRAME__KIND_ORDER_STATUS;
    f.order_status = &st;
    session_send_frame(r, c, &f);
    for (size_t i = 0; i < n; i++)
        parley__order_receipt__free_unpacked(list[i], NULL);
}

void order_done(struct relay *r, const struct store_op *op, struct conn *c)
{
    if (!op->ok) {
        session_store_refused(r, c, NULL);
        return;
    }
    switch (op->kind) {
    case STORE_ORDER_PUT:
        if (!op->inserted) {
            if (c != NULL)
                order_refuse(r, c, REJECT_replayed, PARLEY__ERROR__CODE__REPLAYED,
                             "this order was submitted before");
            return;
        }
        order_stored(r, op, c);
        break;
    case STORE_ORDER_PENDING:
        for (size_t i = 0; c != NULL && i < op->n_envs; i++) {
            Parley__BrandOrder *o =
                order_from_store(r, c->brand, op->envs[i].sealed, op->envs[i].sealed_len);

            if (o != NULL) {
                send_order(r, c, o);
                parley__brand_order__free_unpacked(o, NULL);
            }
        }
        break;
    case STORE_RECEIPT_PUT:
    case STORE_ORDER_STATUS:
        if (c != NULL && op->refused)
            order_refuse(r, c, REJECT_unknown_order, PARLEY__ERROR__CODE__UNKNOWN_ORDER,
                         "no such order of this brand here");
        else if (c != NULL && op->kind == STORE_RECEIPT_PUT)
            send_stored(r, c, op->env.envelope_id);
        else if (c != NULL)
            send_status(r, c, op);
        break;
    default:
        break;
    }
}
