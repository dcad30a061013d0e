/*
 * A brand order's two calls to a relay (parley/client.h): hand it in, or
 * read back the receipts stored for it. Each is one short WebSocket
 * connection authenticated with a throwaway key: the relay takes an order
 * from anyone, because only the brand's signature inside makes it one,
 * and answers about an order only to whoever shows the order itself.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "parley/client.h"
#include "transport.h"

/* The largest answer read: a status page of receipts. */
#define CALL_MAX_FRAME (256u * 1024u)

struct order_call {
    struct parley__transport *t;
    parley_identity *id;
    Parley__BrandOrder *order;
    bool status;                 /* a status request, else a submission */
    uint32_t skip;               /* receipts already read */
    parley_order_receipt_fn fn;
    void *arg;
    bool done;
    parley_err result;
    int relay_code;
};

static void call_end(struct order_call *oc, parley_err err, int relay_code)
{
    if (oc->done)
        return;
    oc->done = true;
    oc->result = err;
    oc->relay_code = relay_code;
}

static void call_send(struct order_call *oc, const Parley__Frame *f)
{
    size_t n = parley__frame__get_packed_size(f);
    uint8_t *buf = malloc(n > 0 ? n : 1);

    if (buf == NULL) {
        call_end(oc, PARLEY_ENOMEM, 0);
        return;
    }
    parley__frame__pack(f, buf);
    if (parley__transport_send(oc->t, buf, n) != PARLEY_OK)
        call_end(oc, PARLEY_EIO, 0);
    free(buf);
}

static void send_auth(struct order_call *oc, const Parley__Hello *h)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Auth a = PARLEY__AUTH__INIT;
    uint8_t sig[64];

    if (!parley__len_is(h->nonce, 32) || !parley__len_is(h->relay_key, 32) ||
        parley__relay_auth_sign(oc->id, h->nonce.data, h->relay_key.data, sig) != PARLEY_OK) {
        call_end(oc, PARLEY_EMALFORMED, 0);
        return;
    }
    a.sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(oc->id)};
    a.signature = (ProtobufCBinaryData){64, sig};
    f.kind_case = PARLEY__FRAME__KIND_AUTH;
    f.auth = &a;
    call_send(oc, &f);
}

static void send_request(struct order_call *oc)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__OrderStatusFetch fetch = PARLEY__ORDER_STATUS_FETCH__INIT;

    if (oc->status) {
        fetch.order = oc->order;
        fetch.skip = oc->skip;
        f.kind_case = PARLEY__FRAME__KIND_ORDER_STATUS_FETCH;
        f.order_status_fetch = &fetch;
    } else {
        f.kind_case = PARLEY__FRAME__KIND_ORDER_SUBMIT;
        f.order_submit = oc->order;
    }
    call_send(oc, &f);
}

/* The relay's refusal, as the library's error for the same reason. */
static parley_err refusal(int code)
{
    switch (code) {
    case PARLEY__ERROR__CODE__BAD_SIGNATURE:
        return PARLEY_EBADSIG;
    case PARLEY__ERROR__CODE__UNKNOWN_BRAND:
        return PARLEY_EWRONGBRAND;
    case PARLEY__ERROR__CODE__EXPIRED:
        return PARLEY_EEXPIRED;
    case PARLEY__ERROR__CODE__REPLAYED:
        return PARLEY_EREPLAY;
    case PARLEY__ERROR__CODE__MALFORMED:
        return PARLEY_EMALFORMED;
    default:
        return PARLEY_EREFUSED;
    }
}

/* A page of receipts: each handed to the caller; the next page asked for while some are left. */
static void on_status(struct order_call *oc, const Parley__OrderStatus *st)
{
    for (size_t i = 0; i < st->n_receipts; i++) {
        size_t n = parley__order_receipt__get_packed_size(st->receipts[i]);
        uint8_t *buf = n <= PARLEY_MAX_ORDER_RECEIPT ? malloc(n > 0 ? n : 1) : NULL;

        if (buf == NULL)
            continue; /* not one the relay should hold: the caller counts what it got */
        parley__order_receipt__pack(st->receipts[i], buf);
        oc->fn(oc->arg, buf, n);
        free(buf);
    }
    oc->skip += (uint32_t)st->n_receipts;
    if (st->n_receipts > 0 && oc->skip < st->total)
        send_request(oc);
    else
        call_end(oc, PARLEY_OK, 0);
}

static void on_frame(void *arg, const uint8_t *msg, size_t len)
{
    struct order_call *oc = arg;
    Parley__Frame *f = len <= CALL_MAX_FRAME ? parley__frame__unpack(NULL, len, msg) : NULL;

    if (f == NULL) {
        call_end(oc, PARLEY_EMALFORMED, 0);
        return;
    }
    switch (f->kind_case) {
    case PARLEY__FRAME__KIND_HELLO:
        send_auth(oc, f->hello);
        break;
    case PARLEY__FRAME__KIND_AUTH_OK:
        send_request(oc);
        break;
    case PARLEY__FRAME__KIND_ERROR:
        call_end(oc, refusal(f->error->code), f->error->code);
        break;
    case PARLEY__FRAME__KIND_ORDER_STORED:
        if (!oc->status)
            call_end(oc, PARLEY_OK, 0);
        break;
    case PARLEY__FRAME__KIND_ORDER_STATUS:
        if (oc->status)
            on_status(oc, f->order_status);
        break;
    default:
        break; /* nothing else concerns a throwaway key */
    }
    parley__frame__free_unpacked(f, NULL);
}

static void on_state(void *arg, int connected, int close_code)
{
    (void)close_code;
    if (!connected)
        call_end(arg, PARLEY_EIO, 0);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static parley_err order_call_run(struct order_call *oc, const char *relay_url, int timeout_ms)
{
    uint64_t deadline = mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    parley_err err = parley_identity_generate(&oc->id);

    if (err == PARLEY_OK)
        err = parley__transport_new(&oc->t, relay_url, on_frame, on_state, oc);
    if (err == PARLEY_OK)
        err = parley__transport_connect(oc->t);
    while (err == PARLEY_OK && !oc->done) {
        uint64_t now = mono_ms();
        if (now >= deadline) {
            call_end(oc, PARLEY_ETIMEOUT, 0);
            break;
        }
        parley__transport_service(oc->t, (int)(deadline - now < 100 ? deadline - now : 100));
    }
    if (err == PARLEY_OK)
        err = oc->result;
    parley__transport_free(oc->t);
    parley_identity_free(oc->id);
    return err;
}

static parley_err order_call(const char *relay_url, const uint8_t *order, size_t len,
                             int timeout_ms, bool status, parley_order_receipt_fn fn, void *arg,
                             int *relay_code)
{
    struct order_call oc;
    parley_err err;

    if (relay_code != NULL)
        *relay_code = 0;
    if (relay_url == NULL || order == NULL || (status && fn == NULL))
        return PARLEY_EINVAL;
    if (len > PARLEY_MAX_ORDER)
        return PARLEY_ETOOBIG;
    memset(&oc, 0, sizeof(oc));
    oc.order = parley__brand_order__unpack(NULL, len, order);
    if (oc.order == NULL)
        return PARLEY_EMALFORMED;
    oc.status = status;
    oc.fn = fn;
    oc.arg = arg;
    err = order_call_run(&oc, relay_url, timeout_ms);
    if (relay_code != NULL)
        *relay_code = oc.relay_code;
    parley__brand_order__free_unpacked(oc.order, NULL);
    return err;
}

parley_err parley_order_submit(const char *relay_url, const uint8_t *order, size_t len,
                               int timeout_ms, int *relay_code)
{
    return order_call(relay_url, order, len, timeout_ms, false, NULL, NULL, relay_code);
}

parley_err parley_order_status(const char *relay_url, const uint8_t *order, size_t len,
                               int timeout_ms, parley_order_receipt_fn fn, void *arg,
                               int *relay_code)
{
    return order_call(relay_url, order, len, timeout_ms, true, fn, arg, relay_code);
}
