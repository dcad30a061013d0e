/*
 * Parley relay protocol for parley-loadgen (subprotocol "parley.v2", one
 * protobuf Frame per binary message; docs/relay-spec.tmp.md). Every
 * connection authenticates as a customer with a fresh identity; senders
 * send 1 KiB envelopes to their receiver's routing id and count the relay's
 * acks; receivers acknowledge deliveries with one Delivered frame per read.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "loadgen.h"
#include "parley.pb-c.h"
#include "parley/identity.h"

enum { PARLEY_WAIT_HELLO = 0, PARLEY_WAIT_AUTH_OK = 1, PARLEY_READY = 2 };

/* Relay frames are capped at 66,560 bytes; an id costs 18 bytes in Delivered. */
#define DELIVERED_BATCH 1024u
#define FRAME_MAX (1024u * 1024u)

static int send_frame(struct bench *b, struct conn *c, const Parley__Frame *f)
{
    size_t len = parley__frame__get_packed_size(f);
    uint8_t *p = bench_frame_begin(b, c, len);

    if (p == NULL)
        return -1;
    parley__frame__pack(f, p);
    bench_frame_end(b, c, p, len);
    return 0;
}

static int parley_open(struct bench *b, struct conn *c)
{
    c->step = PARLEY_WAIT_HELLO;
    return 0;
}

/* Answers the challenge: signature over nonce || relay_key || sign_key. */
static int on_hello(struct bench *b, struct conn *c, const Parley__Hello *h)
{
    parley_identity *id = NULL;
    uint8_t msg[96], sig[64];
    Parley__Auth auth = PARLEY__AUTH__INIT;
    Parley__Frame f = PARLEY__FRAME__INIT;
    int rc = -1;

    if (h->nonce.len != 32 || h->relay_key.len != 32) {
        bench_error(b, c, "parley: hello with bad nonce or relay key length");
        return -1;
    }
    if (parley_identity_generate(&id) != PARLEY_OK) {
        bench_error(b, c, "parley: cannot generate an identity");
        return -1;
    }
    memcpy(c->sign_pk, parley_identity_sign_pk(id), 32);
    memcpy(msg, h->nonce.data, 32);
    memcpy(msg + 32, h->relay_key.data, 32);
    memcpy(msg + 64, c->sign_pk, 32);
    if (parley_identity_sign(id, "relay-auth", msg, sizeof msg, sig) != PARLEY_OK) {
        bench_error(b, c, "parley: signing the challenge failed");
        goto done;
    }
    auth.sign_key.data = c->sign_pk;
    auth.sign_key.len = 32;
    auth.signature.data = sig;
    auth.signature.len = sizeof sig;
    f.kind_case = PARLEY__FRAME__KIND_AUTH;
    f.auth = &auth;
    if (send_frame(b, c, &f) != 0)
        goto done;
    c->step = PARLEY_WAIT_AUTH_OK;
    rc = 0;
done:
    parley_identity_free(id);
    return rc;
}

static int on_auth_ok(struct bench *b, struct conn *c, const Parley__AuthOk *ok)
{
    uint8_t rid[32];

    parley_routing_id(c->sign_pk, PARLEY_ROUTING_CUSTOMER, rid); /* no certificate: a customer */
    if (ok->routing_id.len != 32 || memcmp(ok->routing_id.data, rid, 32) != 0) {
        bench_error(b, c, "parley: auth_ok routing id differs from parley_routing_id()");
        return -1;
    }
    if (c->role == ROLE_RECEIVER)
        memcpy(c->pair->routing, rid, 32);
    c->step = PARLEY_READY;
    bench_conn_ready(b, c);
    return 0;
}

static int on_deliver(struct bench *b, struct conn *c, const Parley__Envelope *e)
{
    if (c->role != ROLE_RECEIVER || c->pair == NULL) {
        bench_error(b, c, "parley: delivery on a connection that receives nothing");
        return -1;
    }
    if (e->envelope_id.len != PARLEY_ID_BYTES || e->recipient.len != 32 ||
        memcmp(e->recipient.data, c->pair->routing, 32) != 0) {
        bench_error(b, c, "parley: delivered envelope has a bad id or recipient");
        return -1;
    }
    if (buf_append(&c->acks, e->envelope_id.data, PARLEY_ID_BYTES) != 0) {
        bench_error(b, c, "parley: out of memory");
        return -1;
    }
    bench_received(b, c->pair, e->sealed.data, e->sealed.len);
    return 0;
}

static int parley_data(struct bench *b, struct conn *c, bool message_end)
{
    Parley__Frame *f;
    int rc = 0;

    if (!message_end)
        return 0;
    if (buf_used(&c->app) > FRAME_MAX) {
        bench_error(b, c, "parley: frame over %u bytes", FRAME_MAX);
        return -1;
    }
    f = parley__frame__unpack(NULL, buf_used(&c->app), buf_data(&c->app));
    buf_consume(&c->app, buf_used(&c->app));
    if (f == NULL) {
        bench_error(b, c, "parley: frame does not decode");
        return -1;
    }
    switch (f->kind_case) {
    case PARLEY__FRAME__KIND_HELLO:
        if (c->step == PARLEY_WAIT_HELLO)
            rc = on_hello(b, c, f->hello);
        break;
    case PARLEY__FRAME__KIND_AUTH_OK:
        if (c->step == PARLEY_WAIT_AUTH_OK)
            rc = on_auth_ok(b, c, f->auth_ok);
        break;
    case PARLEY__FRAME__KIND_ACK:
        if (c->role == ROLE_SENDER && c->pair != NULL)
            bench_acked(b, c->pair);
        break;
    case PARLEY__FRAME__KIND_DELIVER:
        rc = on_deliver(b, c, f->deliver);
        break;
    case PARLEY__FRAME__KIND_ERROR: {
        char what[160];
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value(&parley__error__code__descriptor, f->error->code);
        snprintf(what, sizeof what, "error %s: %s", v ? v->name : "?",
                 f->error->message ? f->error->message : "");
        bench_server_error(b, c, what);
        if (c->step != PARLEY_READY)
            rc = -1;
        break;
    }
    default:
        bench_error(b, c, "parley: unexpected frame kind %d", (int)f->kind_case);
        rc = -1;
        break;
    }
    parley__frame__free_unpacked(f, NULL);
    return rc;
}

/* One Delivered frame per read (split only past DELIVERED_BATCH ids). */
static int parley_read_done(struct bench *b, struct conn *c)
{
    ProtobufCBinaryData ids[DELIVERED_BATCH];

    while (buf_used(&c->acks) > 0) {
        size_t n = buf_used(&c->acks) / PARLEY_ID_BYTES;
        const uint8_t *p = buf_data(&c->acks);
        Parley__Delivered d = PARLEY__DELIVERED__INIT;
        Parley__Frame f = PARLEY__FRAME__INIT;

        if (n > DELIVERED_BATCH)
            n = DELIVERED_BATCH;
        for (size_t i = 0; i < n; i++) {
            ids[i].data = (uint8_t *)p + i * PARLEY_ID_BYTES;
            ids[i].len = PARLEY_ID_BYTES;
        }
        d.n_envelope_ids = n;
        d.envelope_ids = ids;
        f.kind_case = PARLEY__FRAME__KIND_DELIVERED;
        f.delivered = &d;
        if (send_frame(b, c, &f) != 0)
            return -1;
        buf_consume(&c->acks, n * PARLEY_ID_BYTES);
    }
    return 0;
}

static int parley_send(struct bench *b, struct pair *p, uint64_t t_ns)
{
    uint8_t envelope_id[PARLEY_ID_BYTES];
    uint8_t sealed[MSG_SIZE];
    Parley__Envelope e = PARLEY__ENVELOPE__INIT;
    Parley__Frame f = PARLEY__FRAME__INIT;

    randombytes_buf(envelope_id, sizeof envelope_id);
    memcpy(sealed, bench_payload(b), MSG_SIZE);
    stamp_put(sealed, t_ns);
    e.envelope_id.data = envelope_id;
    e.envelope_id.len = sizeof envelope_id;
    e.conversation_id.data = p->conversation;
    e.conversation_id.len = sizeof p->conversation;
    e.recipient.data = p->routing;
    e.recipient.len = sizeof p->routing;
    e.sealed.data = sealed;
    e.sealed.len = sizeof sealed;
    f.kind_case = PARLEY__FRAME__KIND_SEND;
    f.send = &e;
    if (send_frame(b, p->tx, &f) != 0)
        return -1;
    p->sent++;
    return 0;
}

const struct proto proto_parley = {
    .name = "parley",
    .subprotocol = "parley.v2",
    .acknowledged = true,
    .on_open = parley_open,
    .on_data = parley_data,
    .on_read_done = parley_read_done,
    .send = parley_send,
};
