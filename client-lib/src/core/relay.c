/*
 * The relay link: authentication, what a connection starts, and the dispatch
 * of relay frames.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/* Customers: an erasure request not yet confirmed by the relay goes (again). */
void send_erase_frame(struct parley__core *c)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__ErasureRequest *r;

    if (c->net != NET_READY || c->erase_request.n == 0)
        return;
    r = parley__erasure_request__unpack(NULL, c->erase_request.n, c->erase_request.p);
    if (r == NULL)
        return;
    f.kind_case = PARLEY__FRAME__KIND_ERASE;
    f.erase = r;
    queue_frame(c, &f);
    parley__erasure_request__free_unpacked(r, NULL);
}

static void on_hello(struct parley__core *c, const Parley__Hello *h)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Auth a = PARLEY__AUTH__INIT;
    Parley__AgentCert *cert = NULL, bare = PARLEY__AGENT_CERT__INIT;
    uint8_t sig[64];

    if (c->net != NET_HELLO || !parley__len_is(h->nonce, 32) || !parley__len_is(h->relay_key, 32) ||
        parley__relay_auth_sign(c->id, h->nonce.data, h->relay_key.data, sig) != PARLEY_OK)
        return;
    a.sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(c->id)};
    a.signature = (ProtobufCBinaryData){64, sig};
    if (c->agent) {
        cert = parley__agent_cert__unpack(NULL, c->cert.n, c->cert.p);
        if (cert != NULL) {
            /* The body and the brand's signature: the display name stays out (§10.3). */
            bare.body = cert->body;
            bare.signature = cert->signature;
            a.cert = &bare;
        }
    }
    f.kind_case = PARLEY__FRAME__KIND_AUTH;
    f.auth = &a;
    queue_frame(c, &f);
    if (cert != NULL)
        parley__agent_cert__free_unpacked(cert, NULL);
    c->net = NET_AUTH;
}

static void on_auth_ok(struct parley__core *c, const Parley__AuthOk *ok, uint64_t now)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryFetch df = PARLEY__DIRECTORY_FETCH__INIT;
    bool replace_prekeys = false;

    if (c->net != NET_AUTH)
        return;
    c->net = NET_READY;
    c->prekeys_left = ok->prekeys_left;
    if (c->agent) {
        /*
         * More prekeys on the relay than secrets here (a new store for the
         * same key): customers would seal to keys this device cannot open.
         * A fresh set replaces them.
         */
        struct key_list *mine = prekeys_load(c);
        if (mine != NULL && ok->prekeys_left > mine->n) {
            c->prekeys_left = 0;
            replace_prekeys = true;
        }
        prekeys_unload(mine);
    }
    emit_simple(c, PARLEY_EV_CONNECTED, NULL);
    if (c->publish_dir.n > 0) {
        Parley__Directory *d = parley__directory__unpack(NULL, c->publish_dir.n, c->publish_dir.p);
        if (d != NULL) {
            Parley__DirectoryPublish dp = PARLEY__DIRECTORY_PUBLISH__INIT;
            dp.directory = d;
            f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_PUBLISH;
            f.directory_publish = &dp;
            queue_frame(c, &f);
            parley__directory__free_unpacked(d, NULL);
        }
    }
    df.brand_id = c->brand_id;
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_FETCH;
    f.directory_fetch = &df;
    queue_frame(c, &f);
    publish_prekeys(c, now, replace_prekeys, true);
    mt_maintain(c, now, true); /* after a replacing publication, which may drop what came before */
    c->prekey_retry_at = 0;    /* flush_pending below asks again */
    send_erase_frame(c); /* before the outbox: what is sent after it is not erased */
    for (size_t i = 0; i < c->n_out; i++)
        c->out[i].in_flight = false;
    pump_outbox(c, now);
    flush_pending(c, now);
}

void parley__core_frame(struct parley__core *c, const uint8_t *frame, size_t len, uint64_t now)
{
    Parley__Frame *f;

    c->now = now;
    if (c->wiped)
        return;
    if (len > PARLEY_MAX_DIRECTORY + 1024) {
        emit_rejected(c, NULL, PARLEY_ETOOBIG);
        return;
    }
    f = parley__frame__unpack(NULL, len, frame);
    if (f == NULL) {
        emit_rejected(c, NULL, PARLEY_EMALFORMED);
        return;
    }
    switch (f->kind_case) {
    case PARLEY__FRAME__KIND_HELLO:
        on_hello(c, f->hello);
        break;
    case PARLEY__FRAME__KIND_AUTH_OK:
        on_auth_ok(c, f->auth_ok, now);
        break;
    case PARLEY__FRAME__KIND_ACK:
        on_ack(c, f->ack);
        pump_outbox(c, now);
        break;
    case PARLEY__FRAME__KIND_DELIVER:
        if (c->net == NET_READY)
            on_deliver(c, f->deliver, now);
        break;
    case PARLEY__FRAME__KIND_DIRECTORY_RESULT:
        on_directory(c, f->directory_result, now);
        break;
    case PARLEY__FRAME__KIND_ORDER:
        on_order(c, f->order);
        break;
    case PARLEY__FRAME__KIND_PREKEY_RESULT:
        on_prekey_result(c, f->prekey_result, now);
        break;
    case PARLEY__FRAME__KIND_ERROR:
        on_error(c, f->error, now);
        break;
    case PARLEY__FRAME__KIND_ERASED:
        if (c->erase_request.n > 0 &&
            parley__vault_del(c->vault, "meta", (const uint8_t *)"erase", 5) == PARLEY_OK) {
            parley_event ev;

            buf_free(&c->erase_request);
            c->erase_confirmed = true;
            event_init(&ev, PARLEY_EV_ERASED, NULL);
            ev.erased = f->erased->envelopes;
            emit(c, &ev, NULL, 0);
        }
        break;
    default:
        break;
    }
    parley__frame__free_unpacked(f, NULL);
}

void parley__core_connected(struct parley__core *c, uint64_t now)
{
    if (c->wiped)
        return;
    c->net = NET_HELLO;
}

void parley__core_disconnected(struct parley__core *c, uint64_t now)
{
    c->net = NET_DOWN;
    c->n_waits = 0;
    c->n_acks = 0; /* for the connection lost: what it held comes again, seen or taken */
    for (size_t i = 0; i < c->n_out; i++)
        c->out[i].in_flight = false;
    /* Frames not yet written are dropped: the outbox resends what matters. */
    for (size_t i = c->frame_head; i < c->n_frames; i++)
        free(c->frames[i].p);
    c->frame_head = c->n_frames = 0;
}

int parley__core_ready(const struct parley__core *c)
{
    return c->net == NET_READY;
}
