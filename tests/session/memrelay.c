/*
 * In-memory relay (see memrelay.h). It follows docs/protocol.md section
 * 10 closely enough for the cores not to tell it from parley-relay:
 * challenge-response authentication, agents' certificates checked against
 * the brand key, store and forward per routing id with acknowledgements
 * and deletion on `delivered`, resend on reconnection, the directory
 * verified before it is stored, one-time prekeys handed out once.
 * relay-conformance (tests/relay/conformance_test.c) plays the same
 * frames to it and to parley-relay and expects the same answers of both:
 * a change to either that the other does not follow fails there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "custody.h"
#include "memrelay.h"

#define PUMP_LIMIT 100000

static void buf_set(struct mr_buf *b, const uint8_t *p, size_t n)
{
    free(b->p);
    b->p = malloc(n > 0 ? n : 1);
    CHECK(b->p != NULL);
    if (n > 0)
        memcpy(b->p, p, n);
    b->n = n;
}

static void buf_clear(struct mr_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : 16;
    v = realloc(v, *cap * size);
    CHECK(v != NULL);
    return v;
}

/* ------------------------------------------------------------------ */
/* Relay to client */

static void push_raw(struct mr_party *p, uint8_t *frame, size_t len)
{
    p->in = grow(p->in, &p->cap_in, p->n_in, sizeof(*p->in));
    p->in[p->n_in].p = frame;
    p->in[p->n_in].n = len;
    p->n_in++;
}

static void push_frame(struct mr_party *p, const Parley__Frame *f)
{
    uint8_t *buf;
    size_t len;

    CHECK_OK(parley__pack(&f->base, &buf, &len));
    push_raw(p, buf, len);
}

static void push_error(struct mr_party *p, Parley__Error__Code code, const uint8_t *envelope_id)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Error e = PARLEY__ERROR__INIT;

    e.code = code;
    e.message = (char *)"refused";
    if (envelope_id != NULL)
        e.envelope_id = (ProtobufCBinaryData){16, (uint8_t *)envelope_id};
    f.kind_case = PARLEY__FRAME__KIND_ERROR;
    f.error = &e;
    push_frame(p, &f);
}

/* For memrelay_order.c. */
void mr__push_frame(struct mr_party *p, const Parley__Frame *f)
{
    push_frame(p, f);
}

void mr__push_error(struct mr_party *p, Parley__Error__Code code, const uint8_t *envelope_id)
{
    push_error(p, code, envelope_id);
}

static void push_ack(struct mr_party *p, const uint8_t *envelope_id)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Ack a = PARLEY__ACK__INIT;

    if (envelope_id != NULL)
        a.envelope_id = (ProtobufCBinaryData){16, (uint8_t *)envelope_id};
    f.kind_case = PARLEY__FRAME__KIND_ACK;
    f.ack = &a;
    push_frame(p, &f);
    p->relay->acks++;
}

static void push_deliver(struct mr_party *p, const struct mr_buf *env)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Envelope *e = parley__envelope__unpack(NULL, env->n, env->p);

    CHECK(e != NULL);
    f.kind_case = PARLEY__FRAME__KIND_DELIVER;
    f.deliver = e;
    push_frame(p, &f);
    parley__envelope__free_unpacked(e, NULL);
}

static void push_directory(struct mr_party *p, const struct mr_buf *dir)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryResult res = PARLEY__DIRECTORY_RESULT__INIT;
    Parley__Directory *d = NULL;

    res.brand_id = p->relay->brand_id;
    if (dir->n > 0) {
        d = parley__directory__unpack(NULL, dir->n, dir->p);
        CHECK(d != NULL);
        res.directory = d;
    }
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_RESULT;
    f.directory_result = &res;
    push_frame(p, &f);
    if (d != NULL)
        parley__directory__free_unpacked(d, NULL);
}

static struct mr_party *party_by_routing(const struct mr_relay *r, const uint8_t routing[32])
{
    for (size_t i = 0; i < r->n_parties; i++)
        if (r->parties[i]->authed && memcmp(r->parties[i]->routing, routing, 32) == 0)
            return r->parties[i];
    return NULL;
}

/* Sends every stored envelope not yet sent on its recipient's connection, in arrival order. */
static bool relay_flush(struct mr_relay *r)
{
    bool moved = false;

    for (size_t i = 0; i < r->n_stored; i++) {
        struct mr_stored *s = &r->stored[i];
        struct mr_party *to;

        if (s->sent || s->held || (to = party_by_routing(r, s->recipient)) == NULL)
            continue;
        push_deliver(to, &s->env);
        s->sent = true;
        moved = true;
    }
    return moved;
}

static void unsent_for(struct mr_relay *r, const uint8_t routing[32])
{
    for (size_t i = 0; i < r->n_stored; i++)
        if (memcmp(r->stored[i].recipient, routing, 32) == 0)
            r->stored[i].sent = false;
}

/* ------------------------------------------------------------------ */
/* Client to relay */

/* Why parley-relay refuses an agent's certificate for sign_pk, or 0 when it takes it. */
static Parley__Error__Code cert_refusal(const struct mr_relay *r, const Parley__AgentCert *cert,
                                        const uint8_t sign_pk[32])
{
    parley_cert_info info;
    parley_err err;

    if (parley__cert_body_decode(cert, &info) != PARLEY_OK)
        return PARLEY__ERROR__CODE__BAD_CERTIFICATE;
    if (strcmp(info.brand_id, r->brand_id) != 0)
        return PARLEY__ERROR__CODE__UNKNOWN_BRAND;
    err = parley__cert_check(cert, r->brand_pk, r->brand_id, r->now / 1000u, NULL, &info);
    if (err == PARLEY_EEXPIRED || err == PARLEY_ENOTYETVALID)
        return PARLEY__ERROR__CODE__EXPIRED;
    if (err != PARLEY_OK || memcmp(info.sign_pk, sign_pk, 32) != 0)
        return PARLEY__ERROR__CODE__BAD_CERTIFICATE;
    return 0;
}

static void on_auth(struct mr_relay *r, struct mr_party *p, const Parley__Auth *a)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__AuthOk ok = PARLEY__AUTH_OK__INIT;
    uint32_t left = 0;

    if (!parley__len_is(a->sign_key, 32) || !parley__len_is(a->signature, 64)) {
        push_error(p, PARLEY__ERROR__CODE__MALFORMED, NULL);
        r->auth_failures++;
        return;
    }
    if (parley__relay_auth_verify(a->sign_key.data, p->nonce, r->relay_key, a->signature.data) !=
        PARLEY_OK) {
        push_error(p, PARLEY__ERROR__CODE__AUTH_FAILED, NULL);
        r->auth_failures++;
        return;
    }
    if (a->cert != NULL) {
        Parley__Error__Code refusal = cert_refusal(r, a->cert, a->sign_key.data);

        if (refusal != 0) {
            push_error(p, refusal, NULL);
            r->auth_failures++;
            return;
        }
    }
    p->is_agent = a->cert != NULL;
    memcpy(p->sign_pk, a->sign_key.data, 32);
    parley_routing_id(p->sign_pk, p->is_agent ? PARLEY_ROUTING_AGENT : PARLEY_ROUTING_CUSTOMER,
                      p->routing);
    p->authed = true;
    for (size_t i = 0; i < r->n_prekeys; i++)
        left += !r->prekeys[i].medium_term && memcmp(r->prekeys[i].owner, p->sign_pk, 32) == 0;
    ok.routing_id = (ProtobufCBinaryData){32, p->routing};
    ok.agent = p->is_agent;
    if (p->is_agent) {
        ok.brand_id = r->brand_id;
        ok.prekeys_left = left;
    }
    f.kind_case = PARLEY__FRAME__KIND_AUTH_OK;
    f.auth_ok = &ok;
    push_frame(p, &f);
    /* An agent gets its brand's directory before anything stored, and each new one. */
    p->watching = p->is_agent;
    if (p->is_agent) {
        push_directory(p, &r->directory);
        mr__orders_on_auth(r, p);
    }
    unsent_for(r, p->routing);
}

static void on_send(struct mr_relay *r, struct mr_party *p, const Parley__Envelope *e)
{
    struct mr_capture *c;
    struct mr_stored *s;
    uint8_t *buf;
    size_t len;

    if (!parley__len_is(e->envelope_id, 16) || !parley__len_is(e->conversation_id, 16) ||
        !parley__len_is(e->recipient, 32) || e->sealed.len == 0) {
        push_error(p, PARLEY__ERROR__CODE__MALFORMED, NULL);
        return;
    }
    CHECK_OK(parley__pack(&e->base, &buf, &len));
    r->cap = grow(r->cap, &r->cap_cap, r->n_cap, sizeof(*r->cap));
    c = &r->cap[r->n_cap++];
    memset(c, 0, sizeof(*c));
    buf_set(&c->env, buf, len);
    memcpy(c->recipient, e->recipient.data, 32);
    if (r->drop_next > 0) {
        r->drop_next--;
        c->dropped = true;
        free(buf);
        push_ack(p, e->envelope_id.data);
        return;
    }
    for (size_t i = 0; i < r->n_stored; i++)
        if (memcmp(r->stored[i].id, e->envelope_id.data, 16) == 0) {
            free(buf); /* a resend: stored once, acknowledged again */
            push_ack(p, e->envelope_id.data);
            return;
        }
    r->stored = grow(r->stored, &r->cap_stored, r->n_stored, sizeof(*r->stored));
    s = &r->stored[r->n_stored++];
    memset(s, 0, sizeof(*s));
    memcpy(s->id, e->envelope_id.data, 16);
    memcpy(s->recipient, e->recipient.data, 32);
    memcpy(s->sender, p->routing, 32);
    memcpy(s->conv, e->conversation_id.data, 16);
    s->env.p = buf;
    s->env.n = len;
    s->held = r->hold ||
              (r->hold_to != NULL && memcmp(r->hold_to->routing, s->recipient, 32) == 0);
    push_ack(p, e->envelope_id.data);
}

/* Whether stored envelope s falls under an erasure of customer's, naming ids. */
static bool erased_by(const struct mr_stored *s, const uint8_t customer[32], const uint8_t *ids,
                      size_t n_ids)
{
    if (memcmp(s->recipient, customer, 32) == 0 || memcmp(s->sender, customer, 32) == 0)
        return true;
    for (size_t i = 0; i < n_ids; i++)
        if (memcmp(s->conv, ids + 16 * i, 16) == 0)
            return true;
    return false;
}

/*
 * A customer's erasure request, checked as parley-relay checks it (the
 * same wire function) and carried out at once: every stored envelope to
 * the customer, from it, or in a conversation it named, then `erased`.
 */
static void on_erase(struct mr_relay *r, struct mr_party *p, const Parley__ErasureRequest *er)
{
    uint8_t *ids;
    size_t n_ids, kept = 0;
    parley_err err;
    Parley__Frame out = PARLEY__FRAME__INIT;
    Parley__Erased done = PARLEY__ERASED__INIT;

    if (p->is_agent) {
        push_error(p, PARLEY__ERROR__CODE__NOT_ALLOWED, NULL);
        return;
    }
    err = parley__erasure_request_check(er, p->sign_pk, 4096, &ids, &n_ids);
    if (err != PARLEY_OK) {
        push_error(p, err == PARLEY_EUNBOUND ? PARLEY__ERROR__CODE__UNBOUND
                                             : PARLEY__ERROR__CODE__BAD_SIGNATURE,
                   NULL);
        return;
    }
    for (size_t i = 0; i < r->n_stored; i++) {
        if (erased_by(&r->stored[i], p->routing, ids, n_ids)) {
            buf_clear(&r->stored[i].env);
            done.envelopes++;
        } else {
            r->stored[kept++] = r->stored[i];
        }
    }
    r->n_stored = kept;
    free(ids);
    out.kind_case = PARLEY__FRAME__KIND_ERASED;
    out.erased = &done;
    push_frame(p, &out);
}

static void on_delivered(struct mr_relay *r, struct mr_party *p, const Parley__Delivered *d)
{
    for (size_t k = 0; k < d->n_envelope_ids; k++) {
        if (!parley__len_is(d->envelope_ids[k], 16))
            continue;
        r->delivered_ids++;
        for (size_t i = 0; i < r->n_stored; i++) {
            struct mr_stored *s = &r->stored[i];
            if (memcmp(s->id, d->envelope_ids[k].data, 16) != 0 ||
                memcmp(s->recipient, p->routing, 32) != 0)
                continue;
            buf_clear(&s->env);
            memmove(s, s + 1, (r->n_stored - i - 1) * sizeof(*s));
            r->n_stored--;
            break;
        }
    }
}

static void on_directory_publish(struct mr_relay *r, struct mr_party *p,
                                 const Parley__DirectoryPublish *dp)
{
    uint64_t version = 0;
    parley_err err;
    uint8_t *buf;
    size_t len;

    if (dp->directory == NULL) {
        push_error(p, PARLEY__ERROR__CODE__MALFORMED, NULL);
        return;
    }
    CHECK_OK(parley__pack(&dp->directory->base, &buf, &len));
    /* A relay checks what it can without the directory key, as parley-relay does. */
    err = parley_directory_check(buf, len, r->brand_pk, r->brand_id, r->dir_version, r->now / 1000u,
                                 &version, NULL);
    if (err == PARLEY_OK && version == r->dir_version && r->directory.n > 0 &&
        (len != r->directory.n || memcmp(buf, r->directory.p, len) != 0))
        push_error(p, PARLEY__ERROR__CODE__CONFLICT, NULL);
    else if (err == PARLEY_OK && version == r->dir_version && r->directory.n > 0) {
        push_directory(p, &r->directory); /* what is stored already: the publisher is answered */
    } else if (err == PARLEY_OK) {
        r->dir_version = version;
        buf_set(&r->directory, buf, len);
        /* The publisher and everyone who watches the brand get the new one, as in relay/publish.c. */
        for (size_t i = 0; i < r->n_parties; i++) {
            struct mr_party *w = r->parties[i];
            if (w == p || (w->online && w->authed && w->watching))
                push_directory(w, &r->directory);
        }
    } else {
        push_error(p,
                   err == PARLEY_EEXPIRED    ? PARLEY__ERROR__CODE__EXPIRED
                   : err == PARLEY_EROLLBACK ? PARLEY__ERROR__CODE__ROLLBACK
                                             : PARLEY__ERROR__CODE__BAD_SIGNATURE,
                   NULL);
    }
    free(buf);
}

static void prekey_remove(struct mr_relay *r, size_t i)
{
    buf_clear(&r->prekeys[i].prekey);
    memmove(&r->prekeys[i], &r->prekeys[i + 1], (r->n_prekeys - i - 1) * sizeof(r->prekeys[0]));
    r->n_prekeys--;
}

/* Index of owner's medium-term prekey, or -1. */
static long medium_term_of(const struct mr_relay *r, const uint8_t owner[32])
{
    for (size_t i = 0; i < r->n_prekeys; i++)
        if (r->prekeys[i].medium_term && memcmp(r->prekeys[i].owner, owner, 32) == 0)
            return (long)i;
    return -1;
}

/* Stores one verified prekey of p: one-time ones pile up, a medium-term one replaces an older. */
static void prekey_store(struct mr_relay *r, struct mr_party *p, const Parley__Prekey *pk,
                         const Parley__PrekeyBody *body)
{
    struct mr_prekey *slot;
    long old = body->medium_term ? medium_term_of(r, p->sign_pk) : -1;
    uint8_t *buf;
    size_t len;

    if (old >= 0 && r->prekeys[old].created_at > body->created_at)
        return; /* a newer one is kept */
    if (old >= 0)
        prekey_remove(r, (size_t)old);
    CHECK_OK(parley__pack(&pk->base, &buf, &len));
    r->prekeys = grow(r->prekeys, &r->cap_prekeys, r->n_prekeys, sizeof(*r->prekeys));
    slot = &r->prekeys[r->n_prekeys++];
    memset(slot, 0, sizeof(*slot));
    memcpy(slot->owner, p->sign_pk, 32);
    slot->prekey.p = buf;
    slot->prekey.n = len;
    slot->medium_term = body->medium_term;
    slot->created_at = body->created_at;
    slot->expires_at = body->expires_at;
    r->prekeys_published += !body->medium_term;
    r->medium_term_published += body->medium_term;
}

/* Why parley-relay refuses a prekey p publishes, or 0 when it takes it; *body when taken. */
static Parley__Error__Code prekey_refusal(const struct mr_relay *r, const struct mr_party *p,
                                          const Parley__Prekey *pk, Parley__PrekeyBody **body)
{
    *body = parley__prekey_body__unpack(NULL, pk->body.len, pk->body.data);
    if (*body == NULL || !parley__len_is((*body)->owner_sign_key, 32) ||
        memcmp((*body)->owner_sign_key.data, p->sign_pk, 32) != 0 ||
        !parley__len_is((*body)->box_key, 32) ||
        parley__verify_pb(p->sign_pk, 32, PARLEY__DOMAIN_PREKEY, pk->body, pk->signature) !=
            PARLEY_OK)
        return PARLEY__ERROR__CODE__BAD_SIGNATURE;
    if ((*body)->medium_term && (*body)->expires_at <= r->now / 1000u)
        return PARLEY__ERROR__CODE__EXPIRED;
    return 0;
}

/* A publication is taken whole or not at all, as parley-relay takes it. */
static void on_prekey_publish(struct mr_relay *r, struct mr_party *p,
                              const Parley__PrekeyPublish *pub)
{
    Parley__Error__Code refusal = 0;

    if (!p->is_agent) {
        push_error(p, PARLEY__ERROR__CODE__NOT_ALLOWED, NULL);
        return;
    }
    for (size_t i = 0; refusal == 0 && i < pub->n_prekeys; i++) {
        Parley__PrekeyBody *body;

        refusal = prekey_refusal(r, p, pub->prekeys[i], &body);
        if (body != NULL)
            parley__prekey_body__free_unpacked(body, NULL);
    }
    if (refusal != 0) {
        push_error(p, refusal, NULL);
        return;
    }
    /* The agent no longer holds the secrets of its one-time prekeys stored before. */
    for (size_t i = r->n_prekeys; pub->replace && i-- > 0;)
        if (!r->prekeys[i].medium_term && memcmp(r->prekeys[i].owner, p->sign_pk, 32) == 0)
            prekey_remove(r, i);
    for (size_t i = 0; i < pub->n_prekeys; i++) {
        Parley__PrekeyBody *body;

        CHECK(prekey_refusal(r, p, pub->prekeys[i], &body) == 0);
        prekey_store(r, p, pub->prekeys[i], body);
        parley__prekey_body__free_unpacked(body, NULL);
    }
    push_ack(p, NULL);
}

static void on_prekey_fetch(struct mr_relay *r, struct mr_party *p, const Parley__PrekeyFetch *pf)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__PrekeyResult res = PARLEY__PREKEY_RESULT__INIT;
    Parley__Prekey *pk = NULL;
    struct mr_buf served = {NULL, 0};

    if (!parley__len_is(pf->owner_sign_key, 32)) {
        push_error(p, PARLEY__ERROR__CODE__MALFORMED, NULL);
        return;
    }
    if (r->serve_prekey.n > 0) {
        served = r->serve_prekey;
        r->serve_prekey.p = NULL;
        r->serve_prekey.n = 0;
    } else {
        long mt = medium_term_of(r, pf->owner_sign_key.data);

        for (size_t i = 0; i < r->n_prekeys; i++)
            if (!r->prekeys[i].medium_term &&
                memcmp(r->prekeys[i].owner, pf->owner_sign_key.data, 32) == 0) {
                served = r->prekeys[i].prekey;
                memmove(&r->prekeys[i], &r->prekeys[i + 1],
                        (r->n_prekeys - i - 1) * sizeof(r->prekeys[0]));
                r->n_prekeys--;
                r->prekeys_fetched++;
                break;
            }
        /* None left: the medium-term one, while valid, handed out and kept. */
        if (served.n == 0 && mt >= 0 && r->now / 1000u < r->prekeys[mt].expires_at) {
            buf_set(&served, r->prekeys[mt].prekey.p, r->prekeys[mt].prekey.n);
            r->medium_term_fetched++;
        }
    }
    if (served.n > 0) {
        pk = parley__prekey__unpack(NULL, served.n, served.p);
        CHECK(pk != NULL);
    }
    res.owner_sign_key = pf->owner_sign_key;
    res.prekey = pk;
    f.kind_case = PARLEY__FRAME__KIND_PREKEY_RESULT;
    f.prekey_result = &res;
    push_frame(p, &f);
    if (pk != NULL)
        parley__prekey__free_unpacked(pk, NULL);
    buf_clear(&served);
}

static void relay_on_frame(struct mr_relay *r, struct mr_party *p, const uint8_t *frame,
                           size_t len)
{
    Parley__Frame *f = parley__frame__unpack(NULL, len, frame);

    if (r->watch != NULL && memmem(frame, len, r->watch, strlen(r->watch)) != NULL)
        r->watch_hits++;
    if (f == NULL) {
        push_error(p, PARLEY__ERROR__CODE__MALFORMED, NULL);
        return;
    }
    if (!p->authed) {
        if (f->kind_case == PARLEY__FRAME__KIND_AUTH)
            on_auth(r, p, f->auth);
        else
            push_error(p, PARLEY__ERROR__CODE__NOT_AUTHENTICATED, NULL);
        parley__frame__free_unpacked(f, NULL);
        return;
    }
    switch (f->kind_case) {
    case PARLEY__FRAME__KIND_SEND:
        on_send(r, p, f->send);
        break;
    case PARLEY__FRAME__KIND_DELIVERED:
        on_delivered(r, p, f->delivered);
        break;
    case PARLEY__FRAME__KIND_DIRECTORY_PUBLISH:
        on_directory_publish(r, p, f->directory_publish);
        break;
    case PARLEY__FRAME__KIND_DIRECTORY_FETCH:
        p->watching = true;
        push_directory(p, r->serve_dir.n > 0 ? &r->serve_dir : &r->directory);
        break;
    case PARLEY__FRAME__KIND_PREKEY_PUBLISH:
        on_prekey_publish(r, p, f->prekey_publish);
        break;
    case PARLEY__FRAME__KIND_PREKEY_FETCH:
        on_prekey_fetch(r, p, f->prekey_fetch);
        break;
    case PARLEY__FRAME__KIND_ERASE:
        on_erase(r, p, f->erase);
        break;
    case PARLEY__FRAME__KIND_ORDER_RECEIPT:
        mr__on_order_receipt(r, p, f->order_receipt);
        break;
    case PARLEY__FRAME__KIND_ORDER_SUBMIT:
        mr__on_order_submit(r, p, f->order_submit);
        break;
    default:
        push_error(p, PARLEY__ERROR__CODE__UNEXPECTED, NULL);
        break;
    }
    parley__frame__free_unpacked(f, NULL);
}

/* ------------------------------------------------------------------ */
/* Relay and parties */

void mr_init(struct mr_relay *r, const uint8_t brand_pk[32], const char *brand_id, uint64_t now)
{
    memset(r, 0, sizeof(*r));
    r->now = now;
    randombytes_buf(r->relay_key, sizeof(r->relay_key));
    memcpy(r->brand_pk, brand_pk, 32);
    CHECK(parley__copy_str(r->brand_id, sizeof(r->brand_id), brand_id));
}

void mr_free(struct mr_relay *r)
{
    for (size_t i = 0; i < r->n_stored; i++)
        buf_clear(&r->stored[i].env);
    for (size_t i = 0; i < r->n_cap; i++)
        buf_clear(&r->cap[i].env);
    for (size_t i = 0; i < r->n_prekeys; i++)
        buf_clear(&r->prekeys[i].prekey);
    free(r->stored);
    free(r->cap);
    free(r->prekeys);
    mr__orders_free(r);
    buf_clear(&r->directory);
    buf_clear(&r->serve_dir);
    buf_clear(&r->serve_prekey);
    memset(r, 0, sizeof(*r));
}

static void open_core(struct mr_party *p)
{
    parley_session_config sc;

    parley__kdf_allow_test_cost();
    memset(&sc, 0, sizeof(sc));
    sc.struct_size = sizeof(sc);
    sc.store = &p->store;
    sc.passphrase = "device pass";
    sc.passphrase_len = 11;
    sc.kdf_cost = PARLEY__KDF_TEST_ONLY;
    sc.brand_pk = p->relay->brand_pk;
    sc.brand_id = p->relay->brand_id;
    sc.directory_key = p->relay->client_dir_key;
    sc.history_retention_days = p->history_retention_days;
    sc.agent_identity = p->agent;
    sc.agent_cert = p->cert;
    sc.agent_cert_len = p->cert_len;
    sc.publish_directory = p->publish_dir;
    sc.publish_directory_len = p->publish_dir_len;
    CHECK_OK(parley_session_new(&p->session, &sc, p->relay->now));
    p->core = parley__session_core(p->session);
    p->vault = parley__session_vault(p->session);
    memcpy(p->sign_pk, parley_session_sign_pk(p->session), 32);
    parley_routing_id(p->sign_pk, p->agent != NULL ? PARLEY_ROUTING_AGENT : PARLEY_ROUTING_CUSTOMER,
                      p->routing);
    p->incarnations++;
}

int mr_reboot(struct mr_party *p)
{
    int mark;

    mr_crash(p);
    mr_restart(p);
    mark = p->n_events;
    mr_connect(p);
    mr_pump(p->relay);
    return mark;
}

size_t mr_prekeys_for(const struct mr_relay *r, const struct mr_party *p)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_prekeys; i++)
        n += !r->prekeys[i].medium_term && memcmp(r->prekeys[i].owner, p->sign_pk, 32) == 0;
    return n;
}

const struct mr_prekey *mr_medium_term_of(const struct mr_relay *r, const struct mr_party *p)
{
    long i = medium_term_of(r, p->sign_pk);

    return i >= 0 ? &r->prekeys[i] : NULL;
}

void mr_medium_term_box(const struct mr_relay *r, const struct mr_party *p, uint8_t box[32])
{
    const struct mr_prekey *mt = mr_medium_term_of(r, p);
    Parley__Prekey *pk;
    Parley__PrekeyBody *body;

    CHECK(mt != NULL);
    pk = parley__prekey__unpack(NULL, mt->prekey.n, mt->prekey.p);
    CHECK(pk != NULL);
    body = parley__prekey_body__unpack(NULL, pk->body.len, pk->body.data);
    CHECK(body != NULL && parley__len_is(body->box_key, 32));
    memcpy(box, body->box_key.data, 32);
    parley__prekey_body__free_unpacked(body, NULL);
    parley__prekey__free_unpacked(pk, NULL);
}

size_t mr_drain_prekeys(struct mr_relay *r, const struct mr_party *p, bool medium_term)
{
    size_t n = 0;

    for (size_t i = r->n_prekeys; i-- > 0;)
        if ((medium_term || !r->prekeys[i].medium_term) &&
            memcmp(r->prekeys[i].owner, p->sign_pk, 32) == 0) {
            prekey_remove(r, i);
            n++;
        }
    r->prekeys_fetched += (int)n;
    return n;
}

void mr_party_init(struct mr_party *p, struct mr_relay *r, const char *name,
                   const parley_identity *agent, const uint8_t *cert, size_t cert_len,
                   const uint8_t *publish_dir, size_t publish_dir_len)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->relay = r;
    p->agent = agent;
    p->cert = cert;
    p->cert_len = cert_len;
    p->publish_dir = publish_dir;
    p->publish_dir_len = publish_dir_len;
    p->ms = memstore_new();
    CHECK(p->ms != NULL);
    memstore_as_store(p->ms, &p->store);
    p->events = calloc(MR_MAX_EVENTS, sizeof(*p->events));
    CHECK(p->events != NULL);
    CHECK(r->n_parties < MR_MAX_PARTIES);
    r->parties[r->n_parties++] = p;
    open_core(p);
}

void mr_attach(struct mr_party *p, struct mr_relay *r, const char *name, parley_session *s,
               bool agent)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->relay = r;
    p->attached = true;
    p->session = s;
    if (s != NULL) {
        memcpy(p->sign_pk, parley_session_sign_pk(s), 32);
        parley_routing_id(p->sign_pk, agent ? PARLEY_ROUTING_AGENT : PARLEY_ROUTING_CUSTOMER,
                          p->routing);
    }
    CHECK(r->n_parties < MR_MAX_PARTIES);
    r->parties[r->n_parties++] = p;
}

void mr_relay_receive(struct mr_party *p, const uint8_t *frame, size_t len)
{
    CHECK(p->online);
    relay_on_frame(p->relay, p, frame, len);
}

bool mr_relay_take(struct mr_party *p, uint8_t **frame, size_t *len)
{
    if (p->head_in == p->n_in)
        return false;
    *frame = p->in[p->head_in].p;
    *len = p->in[p->head_in].n;
    if (++p->head_in == p->n_in)
        p->head_in = p->n_in = 0;
    return true;
}

static void drop_inbound(struct mr_party *p)
{
    for (size_t i = p->head_in; i < p->n_in; i++)
        free(p->in[i].p);
    p->head_in = p->n_in = 0;
}

static void close_core(struct mr_party *p)
{
    if (!p->attached)
        parley_session_free(p->session);
    p->session = NULL;
    p->core = NULL;
    p->vault = NULL;
}

void mr_party_free(struct mr_party *p)
{
    drop_inbound(p);
    free(p->in);
    close_core(p);
    memstore_free(p->ms);
    free(p->events);
    memset(p, 0, sizeof(*p));
}

void mr_accept(struct mr_party *p)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Hello h = PARLEY__HELLO__INIT;

    CHECK((p->session != NULL || p->attached) && !p->online);
    p->online = true;
    p->authed = false;
    p->watching = false;
    randombytes_buf(p->nonce, sizeof(p->nonce));
    h.nonce = (ProtobufCBinaryData){32, p->nonce};
    h.relay_key = (ProtobufCBinaryData){32, p->relay->relay_key};
    h.time = p->relay->now / 1000u;
    f.kind_case = PARLEY__FRAME__KIND_HELLO;
    f.hello = &h;
    push_frame(p, &f);
}

void mr_connect(struct mr_party *p)
{
    CHECK(p->core != NULL);
    mr_accept(p);
    parley_session_opened(p->session, p->relay->now);
}

static void lose_connection(struct mr_party *p)
{
    if (p->authed)
        unsent_for(p->relay, p->routing);
    p->online = false;
    p->authed = false;
    p->watching = false;
    drop_inbound(p);
}

void mr_hangup(struct mr_party *p)
{
    lose_connection(p);
}

void mr_disconnect(struct mr_party *p)
{
    lose_connection(p);
    parley_session_closed(p->session, PARLEY_EIO, 0, p->relay->now);
}

void mr_crash(struct mr_party *p)
{
    lose_connection(p);
    close_core(p);
    memstore_crash(p->ms);
}

void mr_power_cut(struct mr_party *p)
{
    lose_connection(p);
    memstore_crash(p->ms); /* before the core is freed: nothing it would still write lands */
    close_core(p);
}

void mr_restart(struct mr_party *p)
{
    CHECK(p->core == NULL);
    open_core(p);
}

static void record_events(struct mr_party *p)
{
    parley_event ev;

    while (parley_session_next_event(p->session, &ev)) {
        struct mr_event *e;

        if (ev.kind <= PARLEY_EV_SPECIAL_CONSENT)
            p->count[ev.kind]++;
        if (getenv("PARLEY_TEST_VERBOSE") != NULL)
            fprintf(stderr, "  [%s] event %d state %d err %s seq %llu text %s\n", p->name,
                    ev.kind, ev.state, parley_strerror(ev.error), (unsigned long long)ev.seq,
                    ev.text != NULL ? ev.text : "");
        CHECK(p->n_events < MR_MAX_EVENTS);
        e = &p->events[p->n_events++];
        e->ev = ev;
        e->ev.queue = NULL;
        e->text[0] = '\0';
        if (ev.text != NULL)
            snprintf(e->text, sizeof(e->text), "%s", ev.text);
        e->ev.text = e->text;
    }
}

static bool drain_out(struct mr_party *p)
{
    const uint8_t *frame;
    size_t len;
    bool moved = false;

    while (parley_session_next_frame(p->session, &frame, &len)) {
        if (p->online)
            relay_on_frame(p->relay, p, frame, len);
        moved = true;
    }
    return moved;
}

void mr_flush_out(struct mr_party *p)
{
    drain_out(p);
    record_events(p);
}

bool mr_feed_one(struct mr_party *p)
{
    struct mr_buf b;

    if (p->head_in == p->n_in)
        return false;
    b = p->in[p->head_in++];
    if (p->head_in == p->n_in)
        p->head_in = p->n_in = 0;
    if (p->relay->before_deliver != NULL) {
        Parley__Frame *f = parley__frame__unpack(NULL, b.n, b.p);
        if (f != NULL && f->kind_case == PARLEY__FRAME__KIND_DELIVER) {
            uint8_t *env;
            size_t len;
            CHECK_OK(parley__pack(&f->deliver->base, &env, &len));
            p->relay->before_deliver(p->relay->hook_arg, p, env, len);
            free(env);
        }
        if (f != NULL)
            parley__frame__free_unpacked(f, NULL);
    }
    parley_session_feed(p->session, b.p, b.n, p->relay->now);
    free(b.p);
    record_events(p);
    return true;
}

void mr_pump(struct mr_relay *r)
{
    for (int round = 0; round < PUMP_LIMIT; round++) {
        bool moved = false;

        for (size_t i = 0; i < r->n_parties; i++) {
            struct mr_party *p = r->parties[i];

            if (p->core == NULL)
                continue;
            moved |= drain_out(p);
            while (mr_feed_one(p)) {
                moved = true;
                moved |= drain_out(p);
            }
            if (parley_session_deadline(p->session) <= r->now)
                parley_session_tick(p->session, r->now);
            moved |= drain_out(p);
            record_events(p);
        }
        moved |= relay_flush(r);
        if (!moved)
            return;
    }
    CHECK(!"the cores and the relay never settle");
}

void mr_route(struct mr_relay *r)
{
    relay_flush(r);
}

void mr_advance(struct mr_relay *r, uint64_t ms)
{
    r->now += ms;
}

void mr_inject(struct mr_relay *r, struct mr_party *to, const uint8_t *env, size_t len)
{
    Parley__Envelope *e = parley__envelope__unpack(NULL, len, env);
    struct mr_stored *s;

    CHECK(e != NULL && parley__len_is(e->envelope_id, 16));
    r->stored = grow(r->stored, &r->cap_stored, r->n_stored, sizeof(*r->stored));
    s = &r->stored[r->n_stored++];
    memset(s, 0, sizeof(*s));
    memcpy(s->id, e->envelope_id.data, 16);
    memcpy(s->recipient, to->routing, 32);
    buf_set(&s->env, env, len);
    parley__envelope__free_unpacked(e, NULL);
}

void mr_release(struct mr_relay *r)
{
    for (size_t i = 0; i < r->n_stored; i++)
        r->stored[i].held = false;
}

void mr_release_reversed(struct mr_relay *r)
{
    size_t idx[64], n = 0;

    for (size_t i = 0; i < r->n_stored && n < 64; i++)
        if (r->stored[i].held)
            idx[n++] = i;
    for (size_t a = 0, b = n; a + 1 < b; a++, b--) {
        struct mr_stored t = r->stored[idx[a]];
        r->stored[idx[a]] = r->stored[idx[b - 1]];
        r->stored[idx[b - 1]] = t;
    }
    mr_release(r);
}

size_t mr_stored_for(const struct mr_relay *r, const struct mr_party *p)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_stored; i++)
        n += memcmp(r->stored[i].recipient, p->routing, 32) == 0;
    return n;
}

/* ------------------------------------------------------------------ */
/* Events */

int mr_count(const struct mr_party *p, parley_event_kind kind)
{
    return mr_count_since(p, 0, kind);
}

int mr_count_since(const struct mr_party *p, int mark, parley_event_kind kind)
{
    int n = 0;

    for (int i = mark; i < p->n_events; i++)
        n += p->events[i].ev.kind == kind;
    return n;
}

int mr_text_count(const struct mr_party *p, const char *text)
{
    int n = 0;

    for (int i = 0; i < p->n_events; i++)
        n += p->events[i].ev.kind == PARLEY_EV_MESSAGE && strcmp(p->events[i].text, text) == 0;
    return n;
}

bool mr_rejected_since(const struct mr_party *p, int mark, parley_err err)
{
    for (int i = mark; i < p->n_events; i++)
        if (p->events[i].ev.kind == PARLEY_EV_REJECTED && p->events[i].ev.error == err)
            return true;
    return false;
}

const struct mr_event *mr_last(const struct mr_party *p, parley_event_kind kind)
{
    for (int i = p->n_events; i-- > 0;)
        if (p->events[i].ev.kind == kind)
            return &p->events[i];
    return NULL;
}

void mr_dump(const struct mr_party *p, int mark)
{
    for (int i = mark; i < p->n_events; i++) {
        const parley_event *ev = &p->events[i].ev;
        fprintf(stderr, "    [%s] #%d kind %d state %d error %s seq %llu gap %llu..%llu %s\n",
                p->name, i, ev->kind, ev->state, parley_strerror(ev->error),
                (unsigned long long)ev->seq, (unsigned long long)ev->gap_from,
                (unsigned long long)ev->gap_to, p->events[i].text);
    }
}

bool mr_state_is(struct mr_party *p, const uint8_t conv[16], parley_conv_state want)
{
    parley_conv_state s;

    return p->core != NULL && parley__core_state(p->core, conv, &s) == PARLEY_OK && s == want;
}
