/* Brand orders as the relay tests drive them (ordertk.h). */
#include <stdlib.h>
#include <string.h>

#include "ordertk.h"

wsc *tko_agent(uint16_t port, const parley_identity *id, const uint8_t *cert, size_t len,
               uint32_t *left)
{
    wsc *c = wsc_open(port);
    Parley__Frame *f;

    CHECK(c != NULL);
    f = pc_auth(c, id, cert, len, 10000);
    CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_AUTH_OK, "agent not authenticated");
    if (left != NULL)
        *left = f->auth_ok->prekeys_left;
    parley__frame__free_unpacked(f, NULL);
    f = tk_expect_kind(c, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 10000, "the agent's directory");
    parley__frame__free_unpacked(f, NULL);
    return c;
}

void tko_make(const parley_identity *signer, const char *brand_id, parley_order_kind kind,
              const parley_identity *customer, uint64_t issued, uint64_t expires, uint8_t **out,
              size_t *len)
{
    CHECK(parley_order_build(signer, brand_id, kind, parley_identity_sign_pk(customer), issued,
                             expires, out, len) == PARLEY_OK);
}

static void send_order(wsc *c, Parley__Frame__KindCase kind, const uint8_t *order, size_t len,
                       uint32_t skip)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__OrderStatusFetch fetch = PARLEY__ORDER_STATUS_FETCH__INIT;
    Parley__BrandOrder *o = parley__brand_order__unpack(NULL, len, order);

    CHECK(o != NULL);
    f.kind_case = kind;
    if (kind == PARLEY__FRAME__KIND_ORDER_SUBMIT) {
        f.order_submit = o;
    } else {
        fetch.order = o;
        fetch.skip = skip;
        f.order_status_fetch = &fetch;
    }
    CHECK(pc_send(c, &f) == 0);
    parley__brand_order__free_unpacked(o, NULL);
}

void tko_send(wsc *c, Parley__Frame__KindCase kind, const uint8_t *order, size_t len)
{
    send_order(c, kind, order, len, 0);
}

void tko_expect_code(wsc *c, Parley__Error__Code code, const char *what)
{
    Parley__Frame *f;

    while ((f = pc_recv(c, 5000)) != NULL && f->kind_case == PARLEY__FRAME__KIND_DELIVER)
        parley__frame__free_unpacked(f, NULL);
    CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_ERROR && f->error->code == code,
           "%s: expected %s, got %s", what, tk_error_name(code),
           f == NULL ? "nothing" : f->kind_case == PARLEY__FRAME__KIND_ERROR
                                       ? tk_error_name(f->error->code)
                                       : "another frame");
    parley__frame__free_unpacked(f, NULL);
}

void tko_expect_stored(wsc *c, const uint8_t order_id[16], const char *what)
{
    Parley__Frame *f = tk_expect_kind(c, PARLEY__FRAME__KIND_ORDER_STORED, 5000, what);

    CHECKM(parley__len_is(f->order_stored->order_id, 16) &&
               memcmp(f->order_stored->order_id.data, order_id, 16) == 0,
           "%s: another order id", what);
    parley__frame__free_unpacked(f, NULL);
}

void tko_expect_order(wsc *c, const uint8_t order_id[16], const char *what)
{
    Parley__Frame *f = tk_expect_kind(c, PARLEY__FRAME__KIND_ORDER, 5000, what);
    parley_order_info info;

    CHECK(parley__order_body_decode(f->order, &info) == PARLEY_OK);
    CHECKM(memcmp(info.order_id, order_id, 16) == 0, "%s: another order", what);
    parley__frame__free_unpacked(f, NULL);
}

void tko_send_named_receipt(wsc *c, const parley_identity *signer, const uint8_t *cert,
                            size_t cert_len, const uint8_t order_id[16])
{
    Parley__OrderReceiptBody body = PARLEY__ORDER_RECEIPT_BODY__INIT;
    Parley__OrderReceipt rc = PARLEY__ORDER_RECEIPT__INIT;
    Parley__Frame f = PARLEY__FRAME__INIT;
    uint8_t sig[64], *buf = NULL;
    size_t len = 0;

    body.agent_cert = parley__agent_cert__unpack(NULL, cert_len, cert);
    CHECK(body.agent_cert != NULL && body.agent_cert->display_name != NULL &&
          body.agent_cert->display_name[0] != '\0');
    body.order_id = (ProtobufCBinaryData){16, (uint8_t *)order_id};
    body.time_ms = tk_now() * 1000u;
    CHECK(parley__pack(&body.base, &buf, &len) == PARLEY_OK);
    CHECK(parley__sign_raw(signer->secret->sign_sk, PARLEY__DOMAIN_ORDER_RECEIPT, buf, len, sig) ==
          PARLEY_OK);
    rc.body = (ProtobufCBinaryData){len, buf};
    rc.signature = (ProtobufCBinaryData){64, sig};
    f.kind_case = PARLEY__FRAME__KIND_ORDER_RECEIPT;
    f.order_receipt = &rc;
    CHECK(pc_send(c, &f) == 0);
    parley__agent_cert__free_unpacked(body.agent_cert, NULL);
    free(buf);
}

void tko_send_receipt(wsc *c, const parley_identity *signer, const uint8_t *cert,
                      size_t cert_len, const uint8_t order_id[16], uint64_t messages)
{
    parley_order_receipt_info ri;
    Parley__Frame f = PARLEY__FRAME__INIT;
    uint8_t *buf;
    size_t len;

    memset(&ri, 0, sizeof(ri));
    memcpy(ri.order_id, order_id, 16);
    ri.outcome = PARLEY_ORDER_DONE;
    ri.conversations = 1;
    ri.messages = messages;
    ri.time_ms = tk_now() * 1000u;
    CHECK(parley__order_receipt_sign(signer, cert, cert_len, &ri, &buf, &len) == PARLEY_OK);
    f.kind_case = PARLEY__FRAME__KIND_ORDER_RECEIPT;
    f.order_receipt = parley__order_receipt__unpack(NULL, len, buf);
    CHECK(f.order_receipt != NULL);
    CHECK(pc_send(c, &f) == 0);
    parley__order_receipt__free_unpacked(f.order_receipt, NULL);
    free(buf);
}

uint32_t tko_status(wsc *c, const uint8_t *order, size_t len, uint32_t skip,
                    const parley_identity *brand_key, const char *brand_id,
                    parley_order_receipt_info *first, size_t *n)
{
    Parley__Frame *got;
    parley_order_receipt_info info;
    uint32_t total;

    send_order(c, PARLEY__FRAME__KIND_ORDER_STATUS_FETCH, order, len, skip);
    got = tk_expect_kind(c, PARLEY__FRAME__KIND_ORDER_STATUS, 5000, "the order's status");
    total = got->order_status->total;
    for (size_t i = 0; i < got->order_status->n_receipts; i++) {
        CHECKM(parley__order_receipt_check(got->order_status->receipts[i],
                                           parley_identity_sign_pk(brand_key), brand_id,
                                           &info) == PARLEY_OK,
               "receipt %zu of the status does not verify", i);
        if (i == 0 && first != NULL)
            *first = info;
    }
    if (n != NULL)
        *n = got->order_status->n_receipts;
    parley__frame__free_unpacked(got, NULL);
    return total;
}
