/*
 * The in-memory relay of the session tests (tests/session/memrelay.c)
 * against parley-relay: every case below plays the same frames, as a
 * client would send them, to both, and expects the same answers of both
 * (frame kinds, error codes, what is delivered and handed out). A case
 * that passes on one and fails on the other is drift: the session tests
 * would be proving the clients against a relay that does not exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "memrelay.h"
#include "testkit.h"

#define WAIT_MS 5000
#define MAX_LINKS MR_MAX_PARTIES

/* One relay of either kind, with the brand acme it serves. */
struct side {
    bool mem;
    struct tk_env env;          /* parley-relay */
    struct mr_relay mr;         /* the in-memory relay */
    struct mr_party parties[MAX_LINKS];
    size_t n_parties;
    struct tk_brand brand;
    parley_identity *agent;
    uint8_t *cert;
    size_t cert_len;
};

/* A client connection to a side, past the relay's hello. */
struct link {
    struct side *s;
    wsc *ws;
    struct mr_party *mp;
    uint8_t nonce[32], relay_key[32];
};

static void side_open(struct side *s, bool mem)
{
    uint64_t now = tk_now();

    memset(s, 0, sizeof(*s));
    s->mem = mem;
    tk_env_init(&s->env, mem ? "conform-mem" : "conform");
    tk_brand_make(&s->brand, "acme", s->env.dir);
    if (mem) {
        mr_init(&s->mr, parley_identity_sign_pk(s->brand.key), "acme", now * 1000u);
    } else {
        const char *args[] = {"--brand", s->brand.pin_path, NULL};
        tk_env_start(&s->env, args);
    }
    s->agent = tk_identity();
    tk_cert(s->brand.key, "acme", s->agent, "alice", "Alice", 1, now - 60, now + 3600, &s->cert,
            &s->cert_len);
}

static void side_close(struct side *s)
{
    if (s->mem) {
        for (size_t i = 0; i < s->n_parties; i++)
            mr_party_free(&s->parties[i]);
        mr_free(&s->mr);
    }
    free(s->cert);
    parley_identity_free(s->agent);
    tk_brand_free(&s->brand);
    tk_env_end(&s->env);
}

static Parley__Frame *link_recv(struct link *l)
{
    uint8_t *buf;
    size_t len;
    Parley__Frame *f;

    if (!l->s->mem)
        return pc_recv(l->ws, WAIT_MS);
    mr_route(&l->s->mr); /* parley-relay delivers as soon as it has stored */
    if (!mr_relay_take(l->mp, &buf, &len))
        return NULL;
    f = parley__frame__unpack(NULL, len, buf);
    free(buf);
    CHECKM(f != NULL, "the in-memory relay sent a frame that does not decode");
    return f;
}

static void link_open(struct side *s, struct link *l)
{
    Parley__Frame *f;

    memset(l, 0, sizeof(*l));
    l->s = s;
    if (!s->mem) {
        l->ws = wsc_open(s->env.relay.port);
        CHECK(l->ws != NULL);
        CHECK(pc_read_hello(l->ws, l->nonce, l->relay_key) == 0);
        return;
    }
    CHECK(s->n_parties < MAX_LINKS);
    l->mp = &s->parties[s->n_parties++];
    mr_attach(l->mp, &s->mr, "client", NULL, false);
    mr_accept(l->mp);
    f = link_recv(l);
    CHECK(f != NULL && f->kind_case == PARLEY__FRAME__KIND_HELLO);
    CHECK(parley__len_is(f->hello->nonce, 32) && parley__len_is(f->hello->relay_key, 32));
    memcpy(l->nonce, f->hello->nonce.data, 32);
    memcpy(l->relay_key, f->hello->relay_key.data, 32);
    parley__frame__free_unpacked(f, NULL);
}

static void link_close(struct link *l)
{
    if (l->s->mem)
        mr_hangup(l->mp);
    else
        wsc_free(l->ws);
    l->ws = NULL;
}

static void link_send_raw(struct link *l, const uint8_t *buf, size_t len)
{
    if (l->s->mem)
        mr_relay_receive(l->mp, buf, len);
    else
        CHECK(wsc_send_binary(l->ws, buf, len) == 0);
}

static void link_send(struct link *l, const Parley__Frame *f)
{
    uint8_t *buf;
    size_t len;

    CHECK(parley__pack(&f->base, &buf, &len) == PARLEY_OK);
    link_send_raw(l, buf, len);
    free(buf);
}

/* The next frame, of kind; the caller frees it. */
static Parley__Frame *expect_kind(struct link *l, Parley__Frame__KindCase kind, const char *what)
{
    Parley__Frame *f = link_recv(l);

    CHECKM(f != NULL && f->kind_case == kind, "%s relay, %s: got %s %d, expected kind %d",
           l->s->mem ? "in-memory" : "real", what, f == NULL ? "nothing" : "kind",
           f == NULL ? 0 : (int)f->kind_case, (int)kind);
    return f;
}

static void expect_error(struct link *l, Parley__Error__Code code, const char *what)
{
    Parley__Frame *f = expect_kind(l, PARLEY__FRAME__KIND_ERROR, what);

    CHECKM(f->error->code == code, "%s relay, %s: error %s, expected %s",
           l->s->mem ? "in-memory" : "real", what, tk_error_name(f->error->code),
           tk_error_name(code));
    parley__frame__free_unpacked(f, NULL);
}

static void expect_ack(struct link *l, const uint8_t *envelope_id, const char *what)
{
    Parley__Frame *f = expect_kind(l, PARLEY__FRAME__KIND_ACK, what);

    if (envelope_id != NULL)
        CHECKM(parley__len_is(f->ack->envelope_id, 16) &&
                   memcmp(f->ack->envelope_id.data, envelope_id, 16) == 0,
               "%s: the ack names another envelope", what);
    parley__frame__free_unpacked(f, NULL);
}

/* Sends Auth for id (an agent's with cert); returns nothing: the caller reads the answer. */
static void send_auth(struct link *l, const parley_identity *id, const uint8_t *cert,
                      size_t cert_len, bool wrong_nonce)
{
    uint8_t nonce[32], *buf;
    size_t len;

    memcpy(nonce, l->nonce, 32);
    nonce[0] ^= wrong_nonce ? 1 : 0;
    CHECK(pc_build_auth(id, nonce, l->relay_key, cert, cert_len, &buf, &len) == 0);
    link_send_raw(l, buf, len);
    free(buf);
}

/* Authenticates id; an agent (cert) also reads the directory that follows AuthOk. */
static void auth(struct link *l, const parley_identity *id, const uint8_t *cert, size_t cert_len)
{
    Parley__Frame *f;

    send_auth(l, id, cert, cert_len, false);
    f = expect_kind(l, PARLEY__FRAME__KIND_AUTH_OK, "authentication");
    parley__frame__free_unpacked(f, NULL);
    if (cert != NULL) {
        f = expect_kind(l, PARLEY__FRAME__KIND_DIRECTORY_RESULT, "an agent's directory");
        parley__frame__free_unpacked(f, NULL);
    }
}

/* An envelope in conversation conv (NULL: a random one) with an id of id_len bytes. */
static void send_envelope_in(struct link *l, const uint8_t id[16], const uint8_t to[32],
                             size_t id_len, const uint8_t *conv)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Envelope e = PARLEY__ENVELOPE__INIT;
    uint8_t random_conv[16], sealed[64];

    tk_random(random_conv, sizeof(random_conv));
    tk_random(sealed, sizeof(sealed));
    e.envelope_id = (ProtobufCBinaryData){id_len, (uint8_t *)id};
    e.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)(conv != NULL ? conv : random_conv)};
    e.recipient = (ProtobufCBinaryData){32, (uint8_t *)to};
    e.sealed = (ProtobufCBinaryData){sizeof(sealed), sealed};
    f.kind_case = PARLEY__FRAME__KIND_SEND;
    f.send = &e;
    link_send(l, &f);
}

static void send_envelope(struct link *l, const uint8_t id[16], const uint8_t to[32],
                          size_t id_len)
{
    send_envelope_in(l, id, to, id_len, NULL);
}

static void expect_deliver(struct link *l, const uint8_t id[16], const char *what)
{
    Parley__Frame *f = expect_kind(l, PARLEY__FRAME__KIND_DELIVER, what);

    CHECKM(parley__len_is(f->deliver->envelope_id, 16) &&
               memcmp(f->deliver->envelope_id.data, id, 16) == 0,
           "%s relay, %s: another envelope delivered", l->s->mem ? "in-memory" : "real", what);
    parley__frame__free_unpacked(f, NULL);
}

static void send_delivered(struct link *l, const uint8_t id[16])
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Delivered d = PARLEY__DELIVERED__INIT;
    ProtobufCBinaryData ids[1] = {{16, (uint8_t *)id}};

    d.envelope_ids = ids;
    d.n_envelope_ids = 1;
    f.kind_case = PARLEY__FRAME__KIND_DELIVERED;
    f.delivered = &d;
    link_send(l, &f);
}

/* ------------------------------------------------------------------ */
/* Cases: each takes a side and must pass on both. */

static void case_authentication(struct side *s)
{
    parley_identity *id = tk_identity();
    struct link l;
    Parley__Frame *f;
    uint8_t routing[32];

    link_open(s, &l);
    send_auth(&l, id, NULL, 0, false);
    f = expect_kind(&l, PARLEY__FRAME__KIND_AUTH_OK, "a customer's authentication");
    tk_routing(id, routing);
    CHECK(!f->auth_ok->agent && parley__len_is(f->auth_ok->routing_id, 32) &&
          memcmp(f->auth_ok->routing_id.data, routing, 32) == 0);
    parley__frame__free_unpacked(f, NULL);
    link_close(&l);

    link_open(s, &l);
    send_auth(&l, s->agent, s->cert, s->cert_len, false);
    f = expect_kind(&l, PARLEY__FRAME__KIND_AUTH_OK, "an agent's authentication");
    tk_agent_routing(s->agent, routing);
    CHECK(f->auth_ok->agent && strcmp(f->auth_ok->brand_id, "acme") == 0 &&
          f->auth_ok->prekeys_left == 0 && memcmp(f->auth_ok->routing_id.data, routing, 32) == 0);
    parley__frame__free_unpacked(f, NULL);
    f = expect_kind(&l, PARLEY__FRAME__KIND_DIRECTORY_RESULT, "an agent's directory");
    parley__frame__free_unpacked(f, NULL);
    /* Authenticated already: another Auth is out of place. */
    send_auth(&l, id, NULL, 0, false);
    expect_error(&l, PARLEY__ERROR__CODE__UNEXPECTED, "a second authentication");
    link_close(&l);
    parley_identity_free(id);
}

static const struct bad_cert {
    bool by_stranger;           /* signed by a key that is not the brand's */
    const char *brand_id;
    int64_t from_s, until_s;    /* validity, from now */
    Parley__Error__Code code;
    const char *what;
} bad_certs[] = {
    {true, "acme", -60, 3600, PARLEY__ERROR__CODE__BAD_CERTIFICATE, "a certificate of another key"},
    {false, "globex", -60, 3600, PARLEY__ERROR__CODE__UNKNOWN_BRAND,
     "a certificate of a brand not served"},
    {false, "acme", -7200, -3600, PARLEY__ERROR__CODE__EXPIRED, "an expired certificate"},
    {false, "acme", 3600, 7200, PARLEY__ERROR__CODE__EXPIRED, "a certificate not valid yet"},
};

static void case_refused_authentication(struct side *s)
{
    parley_identity *id = tk_identity(), *stranger = tk_identity();
    struct link l;
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryFetch df = PARLEY__DIRECTORY_FETCH__INIT;
    uint8_t *cert, garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    size_t cert_len;
    uint64_t now = tk_now();

    link_open(s, &l);
    send_auth(&l, id, NULL, 0, true);
    expect_error(&l, PARLEY__ERROR__CODE__AUTH_FAILED, "a signature over another nonce");
    link_close(&l);

    link_open(s, &l);
    df.brand_id = (char *)"acme";
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_FETCH;
    f.directory_fetch = &df;
    link_send(&l, &f);
    expect_error(&l, PARLEY__ERROR__CODE__NOT_AUTHENTICATED, "a fetch before authentication");
    link_close(&l);

    link_open(s, &l);
    link_send_raw(&l, garbage, sizeof(garbage));
    expect_error(&l, PARLEY__ERROR__CODE__MALFORMED, "a frame that does not decode");
    link_close(&l);

    /* Certificates refused: each signer, brand and validity, with the answer. */
    for (size_t i = 0; i < sizeof(bad_certs) / sizeof(bad_certs[0]); i++) {
        const struct bad_cert *bc = &bad_certs[i];

        tk_cert(bc->by_stranger ? stranger : s->brand.key, bc->brand_id, id, "mallory", "Mallory",
                i + 2, now + bc->from_s, now + bc->until_s, &cert, &cert_len);
        link_open(s, &l);
        send_auth(&l, id, cert, cert_len, false);
        expect_error(&l, bc->code, bc->what);
        link_close(&l);
        free(cert);
    }
    parley_identity_free(stranger);
    parley_identity_free(id);
}

static void case_store_and_forward(struct side *s)
{
    parley_identity *cust = tk_identity();
    struct link c, a;
    uint8_t to[32], id1[16], id2[16];
    Parley__Frame f = PARLEY__FRAME__INIT;

    tk_agent_routing(s->agent, to);
    tk_random(id1, sizeof(id1));
    tk_random(id2, sizeof(id2));
    link_open(s, &c);
    auth(&c, cust, NULL, 0);
    send_envelope(&c, id1, to, 16);
    expect_ack(&c, id1, "a stored envelope");
    send_envelope(&c, id1, to, 16); /* a resend: acknowledged again, stored once */
    expect_ack(&c, id1, "an envelope sent again");
    send_envelope(&c, id1, to, 15);
    expect_error(&c, PARLEY__ERROR__CODE__MALFORMED, "an envelope id of 15 bytes");

    link_open(s, &a);
    auth(&a, s->agent, s->cert, s->cert_len);
    expect_deliver(&a, id1, "what was stored while the agent was away");
    send_delivered(&a, id1);
    link_close(&a);

    /* Acknowledged: never delivered again; the next one comes first. */
    send_envelope(&c, id2, to, 16);
    expect_ack(&c, id2, "a second envelope");
    link_open(s, &a);
    auth(&a, s->agent, s->cert, s->cert_len);
    expect_deliver(&a, id2, "after an acknowledged delivery");
    /* Not acknowledged: delivered again on the next connection. */
    link_close(&a);
    link_open(s, &a);
    auth(&a, s->agent, s->cert, s->cert_len);
    expect_deliver(&a, id2, "an unacknowledged envelope on reconnection");
    send_delivered(&a, id2);

    /* A frame no client sends. */
    f.kind_case = PARLEY__FRAME__KIND_HELLO;
    {
        Parley__Hello h = PARLEY__HELLO__INIT;
        f.hello = &h;
        link_send(&c, &f);
    }
    expect_error(&c, PARLEY__ERROR__CODE__UNEXPECTED, "a hello from a client");
    link_close(&a);
    link_close(&c);
    parley_identity_free(cust);
}

static void case_prekeys(struct side *s)
{
    parley_identity *cust = tk_identity();
    struct link c, a;
    uint8_t *keys[3], *expired;
    size_t lens[3], expired_len;
    uint64_t now = tk_now();
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__PrekeyPublish pub = PARLEY__PREKEY_PUBLISH__INIT;
    Parley__PrekeyFetch fetch = PARLEY__PREKEY_FETCH__INIT;
    Parley__Prekey *pks[3];

    for (size_t i = 0; i < 3; i++) {
        tk_prekey(s->agent, s->agent, i + 1, i == 2, now + 86400, &keys[i], &lens[i]);
        pks[i] = parley__prekey__unpack(NULL, lens[i], keys[i]);
        CHECK(pks[i] != NULL);
    }
    link_open(s, &c);
    auth(&c, cust, NULL, 0);
    link_open(s, &a);
    auth(&a, s->agent, s->cert, s->cert_len);

    pub.prekeys = pks;
    pub.n_prekeys = 3;
    f.kind_case = PARLEY__FRAME__KIND_PREKEY_PUBLISH;
    f.prekey_publish = &pub;
    link_send(&c, &f);
    expect_error(&c, PARLEY__ERROR__CODE__NOT_ALLOWED, "prekeys published by a customer");
    link_send(&a, &f);
    expect_ack(&a, NULL, "an agent's prekeys");

    /* Two one-time prekeys, each once, then the medium-term one, kept. */
    fetch.owner_sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(s->agent)};
    f.kind_case = PARLEY__FRAME__KIND_PREKEY_FETCH;
    f.prekey_fetch = &fetch;
    {
        bool seen[3] = {false, false, false};

        for (int k = 0; k < 4; k++) {
            Parley__Frame *r;
            uint8_t *got;
            size_t got_len;
            int which = -1;

            link_send(&c, &f);
            r = expect_kind(&c, PARLEY__FRAME__KIND_PREKEY_RESULT, "a prekey fetch");
            CHECKM(r->prekey_result->prekey != NULL, "fetch %d: no prekey handed out", k);
            CHECK(parley__pack(&r->prekey_result->prekey->base, &got, &got_len) == PARLEY_OK);
            for (int i = 0; i < 3; i++)
                if (got_len == lens[i] && memcmp(got, keys[i], got_len) == 0)
                    which = i;
            free(got);
            parley__frame__free_unpacked(r, NULL);
            CHECKM(which >= 0, "fetch %d: a prekey never published", k);
            if (k < 2)
                CHECKM(which < 2 && !seen[which], "fetch %d: not a fresh one-time prekey", k);
            else
                CHECKM(which == 2, "fetch %d: not the medium-term prekey", k);
            seen[which] = true;
        }
    }
    fetch.owner_sign_key.len = 31;
    link_send(&c, &f);
    expect_error(&c, PARLEY__ERROR__CODE__MALFORMED, "a fetch for a 31-byte key");

    /* A medium-term prekey already expired is refused, and nothing of its publication kept. */
    tk_prekey(s->agent, s->agent, 9, true, now - 60, &expired, &expired_len);
    parley__prekey__free_unpacked(pks[2], NULL);
    pks[2] = parley__prekey__unpack(NULL, expired_len, expired);
    CHECK(pks[2] != NULL);
    f.kind_case = PARLEY__FRAME__KIND_PREKEY_PUBLISH;
    f.prekey_publish = &pub; /* the oneof's pointer held the fetch */
    link_send(&a, &f);
    expect_error(&a, PARLEY__ERROR__CODE__EXPIRED, "an expired medium-term prekey");
    free(expired);

    for (size_t i = 0; i < 3; i++) {
        parley__prekey__free_unpacked(pks[i], NULL);
        free(keys[i]);
    }
    link_close(&a);
    link_close(&c);
    parley_identity_free(cust);
}

static void publish_dir(struct link *l, const uint8_t *dir, size_t len)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryPublish dp = PARLEY__DIRECTORY_PUBLISH__INIT;

    dp.directory = parley__directory__unpack(NULL, len, dir);
    CHECK(dp.directory != NULL);
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_PUBLISH;
    f.directory_publish = &dp;
    link_send(l, &f);
    parley__directory__free_unpacked(dp.directory, NULL);
}

static void expect_directory(struct link *l, const uint8_t *want, size_t want_len,
                             const char *what)
{
    Parley__Frame *f = expect_kind(l, PARLEY__FRAME__KIND_DIRECTORY_RESULT, what);
    uint8_t *got = NULL;
    size_t got_len = 0;

    CHECKM(f->directory_result->directory != NULL, "%s: no directory", what);
    CHECK(parley__pack(&f->directory_result->directory->base, &got, &got_len) == PARLEY_OK);
    CHECKM(got_len == want_len && memcmp(got, want, got_len) == 0, "%s: another directory", what);
    free(got);
    parley__frame__free_unpacked(f, NULL);
}

static void case_directory(struct side *s)
{
    struct link a;
    uint8_t *v1, *v2, *v2b;
    size_t v1_len, v2_len, v2b_len;
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryFetch df = PARLEY__DIRECTORY_FETCH__INIT;

    tk_directory(s->brand.key, "acme", 1, "Notice one.", NULL, 0, &v1, &v1_len);
    tk_directory(s->brand.key, "acme", 2, "Notice two.", NULL, 0, &v2, &v2_len);
    tk_directory(s->brand.key, "acme", 2, "Another notice two.", NULL, 0, &v2b, &v2b_len);
    link_open(s, &a);
    auth(&a, s->agent, s->cert, s->cert_len);
    publish_dir(&a, v2, v2_len);
    expect_directory(&a, v2, v2_len, "a directory published");
    publish_dir(&a, v1, v1_len);
    expect_error(&a, PARLEY__ERROR__CODE__ROLLBACK, "an older directory");
    publish_dir(&a, v2b, v2b_len);
    expect_error(&a, PARLEY__ERROR__CODE__CONFLICT, "another directory of the same version");
    df.brand_id = (char *)"acme";
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_FETCH;
    f.directory_fetch = &df;
    link_send(&a, &f);
    expect_directory(&a, v2, v2_len, "the directory fetched");
    link_close(&a);
    free(v1);
    free(v2);
    free(v2b);
}

/*
 * A new directory reaches, besides its publisher, every connection that
 * watches the brand (agents, and customers once they fetched it), and
 * nobody else; the same one published again is answered to its
 * publisher only.
 */
static void case_directory_push(struct side *s)
{
    parley_identity *watcher = tk_identity(), *idle = tk_identity();
    struct link a, w, i;
    uint8_t *v1, *v2, to_idle[32], probe[16];
    size_t v1_len, v2_len;
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryFetch df = PARLEY__DIRECTORY_FETCH__INIT;

    tk_directory(s->brand.key, "acme", 1, "Notice one.", NULL, 0, &v1, &v1_len);
    tk_directory(s->brand.key, "acme", 2, "Notice two.", NULL, 0, &v2, &v2_len);
    tk_routing(idle, to_idle);
    tk_random(probe, sizeof(probe));
    link_open(s, &a);
    auth(&a, s->agent, s->cert, s->cert_len);
    publish_dir(&a, v1, v1_len);
    expect_directory(&a, v1, v1_len, "the first directory, to its publisher");
    link_open(s, &w);
    auth(&w, watcher, NULL, 0);
    df.brand_id = (char *)"acme";
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_FETCH;
    f.directory_fetch = &df;
    link_send(&w, &f);
    expect_directory(&w, v1, v1_len, "the directory a customer fetched");
    link_open(s, &i);
    auth(&i, idle, NULL, 0);

    publish_dir(&a, v2, v2_len);
    expect_directory(&a, v2, v2_len, "a new directory, to its publisher");
    expect_directory(&w, v2, v2_len, "a new directory, pushed to a customer who fetched");
    publish_dir(&a, v2, v2_len);
    expect_directory(&a, v2, v2_len, "the same directory again, to its publisher");
    /* Nothing more for the others: the next frame each gets is what follows. */
    send_envelope(&w, probe, to_idle, 16);
    expect_ack(&w, probe, "an envelope after the publications");
    expect_deliver(&i, probe, "a customer who never fetched: no directory came first");
    link_send(&w, &f);
    expect_directory(&w, v2, v2_len, "a fetch after the same directory again: nothing before");
    link_close(&i);
    link_close(&w);
    link_close(&a);
    free(v1);
    free(v2);
    parley_identity_free(idle);
    parley_identity_free(watcher);
}

/* An erasure request for named's conversations, signed by signer. */
static void send_erase(struct link *l, const parley_identity *signer,
                       const parley_identity *named, const uint8_t conv[16],
                       const uint8_t salt[16])
{
    size_t len;
    uint8_t *frame = pc_erase_frame(signer, named, (const uint8_t(*)[16])conv,
                                    (const uint8_t(*)[16])salt, conv != NULL ? 1 : 0, &len);

    CHECK(frame != NULL);
    link_send_raw(l, frame, len);
    free(frame);
}

/*
 * A customer's erasure: refused when forged, when it names a conversation
 * not bound to the customer, and from an agent; otherwise every stored
 * envelope to the customer, from it and in the conversation it names is
 * deleted, the count is the same on both relays, and the rest stays.
 */
static void case_erasure(struct side *s)
{
    parley_identity *cust = tk_identity(), *other = tk_identity(), *stranger = tk_identity();
    struct link c, a, o;
    uint8_t to_agent[32], to_cust[32], to_other[32], salt[16], conv[16], wrong[16];
    uint8_t from_cust[16], in_conv[16], to_cust_id[16], kept[16], probe[16];
    Parley__Frame *f;

    tk_agent_routing(s->agent, to_agent);
    tk_routing(cust, to_cust);
    tk_routing(other, to_other);
    tk_random(salt, sizeof(salt));
    parley_conversation_id(parley_identity_sign_pk(cust), salt, conv);
    memcpy(wrong, conv, 16);
    wrong[0] ^= 1;
    tk_random(from_cust, 16);
    tk_random(in_conv, 16);
    tk_random(to_cust_id, 16);
    tk_random(kept, 16);
    tk_random(probe, 16);

    /* The agent, alone: one in the customer's conversation (as a handover
     * would be), one to the customer, one to someone else. */
    link_open(s, &a);
    auth(&a, s->agent, s->cert, s->cert_len);
    send_envelope_in(&a, in_conv, to_other, 16, conv);
    expect_ack(&a, in_conv, "an envelope in the customer's conversation");
    send_envelope(&a, to_cust_id, to_cust, 16);
    expect_ack(&a, to_cust_id, "an envelope to the customer");
    send_envelope(&a, kept, to_other, 16);
    expect_ack(&a, kept, "an envelope of someone else's");
    send_erase(&a, s->agent, s->agent, NULL, NULL);
    expect_error(&a, PARLEY__ERROR__CODE__NOT_ALLOWED, "an agent's erasure request");
    link_close(&a);

    link_open(s, &c);
    auth(&c, cust, NULL, 0);
    expect_deliver(&c, to_cust_id, "what was stored for the customer");
    send_envelope(&c, from_cust, to_agent, 16);
    expect_ack(&c, from_cust, "the customer's envelope");
    send_erase(&c, stranger, cust, conv, salt);
    expect_error(&c, PARLEY__ERROR__CODE__BAD_SIGNATURE, "a request signed by someone else");
    send_erase(&c, cust, cust, wrong, salt);
    expect_error(&c, PARLEY__ERROR__CODE__UNBOUND, "a conversation not bound to the customer");
    send_erase(&c, cust, cust, conv, salt);
    f = expect_kind(&c, PARLEY__FRAME__KIND_ERASED, "the erasure");
    CHECKM(f->erased->envelopes == 3, "%s relay: %u envelopes erased, expected 3",
           s->mem ? "in-memory" : "real", f->erased->envelopes);
    parley__frame__free_unpacked(f, NULL);

    /* What the customer sends afterwards is kept, and comes first now. */
    send_envelope(&c, probe, to_agent, 16);
    expect_ack(&c, probe, "an envelope after the erasure");
    link_open(s, &a);
    auth(&a, s->agent, s->cert, s->cert_len);
    expect_deliver(&a, probe, "the agent's first envelope after the erasure");
    link_open(s, &o);
    auth(&o, other, NULL, 0);
    expect_deliver(&o, kept, "someone else's envelope, kept");
    link_close(&o);
    link_close(&a);
    link_close(&c);
    parley_identity_free(stranger);
    parley_identity_free(other);
    parley_identity_free(cust);
}

/* An order of this brand for a throwaway customer key, issued at issued (Unix s). */
static void make_order(const parley_identity *signer, const char *brand_id, uint64_t issued,
                       uint64_t expires, uint8_t **out, size_t *len, uint8_t id[16])
{
    parley_identity *cust = tk_identity();
    parley_order_info info;

    CHECK(parley_order_build(signer, brand_id, PARLEY_ORDER_ERASE, parley_identity_sign_pk(cust),
                             issued, expires, out, len) == PARLEY_OK);
    CHECK(parley_order_verify(*out, *len, NULL, NULL, 0, &info) == PARLEY_OK);
    memcpy(id, info.order_id, 16);
    parley_identity_free(cust);
}

static void send_order(struct link *l, const uint8_t *order, size_t len)
{
    Parley__Frame f = PARLEY__FRAME__INIT;

    f.kind_case = PARLEY__FRAME__KIND_ORDER_SUBMIT;
    f.order_submit = parley__brand_order__unpack(NULL, len, order);
    CHECK(f.order_submit != NULL);
    link_send(l, &f);
    parley__brand_order__free_unpacked(f.order_submit, NULL);
}

static void send_receipt(struct link *l, const parley_identity *agent, const uint8_t *cert,
                         size_t cert_len, const uint8_t id[16])
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    parley_order_receipt_info ri;
    uint8_t *buf;
    size_t len;

    memset(&ri, 0, sizeof(ri));
    memcpy(ri.order_id, id, 16);
    CHECK(parley__order_receipt_sign(agent, cert, cert_len, &ri, &buf, &len) == PARLEY_OK);
    f.kind_case = PARLEY__FRAME__KIND_ORDER_RECEIPT;
    f.order_receipt = parley__order_receipt__unpack(NULL, len, buf);
    CHECK(f.order_receipt != NULL);
    link_send(l, &f);
    parley__order_receipt__free_unpacked(f.order_receipt, NULL);
    free(buf);
}

static void expect_stored(struct link *l, const uint8_t id[16], const char *what)
{
    Parley__Frame *f = expect_kind(l, PARLEY__FRAME__KIND_ORDER_STORED, what);

    CHECKM(parley__len_is(f->order_stored->order_id, 16) &&
               memcmp(f->order_stored->order_id.data, id, 16) == 0,
           "%s: another order id", what);
    parley__frame__free_unpacked(f, NULL);
}

/* Brand orders: each refusal's code, the order to the agent online, its receipt. */
static void case_orders(struct side *s)
{
    struct link a, c;
    parley_identity *admin = tk_identity(), *forger = tk_identity();
    struct tk_brand other;
    uint8_t *order, id[16], bad_id[16];
    size_t len;
    uint64_t now = tk_now();
    Parley__Frame *f;

    tk_brand_make(&other, "globex", s->env.dir);
    link_open(s, &a);
    auth(&a, s->agent, s->cert, s->cert_len);
    link_open(s, &c);
    auth(&c, admin, NULL, 0);
    make_order(forger, "acme", now, now + 3600, &order, &len, bad_id);
    send_order(&c, order, len);
    expect_error(&c, PARLEY__ERROR__CODE__BAD_SIGNATURE, "a forged order");
    parley_free(order, len);
    make_order(other.key, "globex", now, now + 3600, &order, &len, bad_id);
    send_order(&c, order, len);
    expect_error(&c, PARLEY__ERROR__CODE__UNKNOWN_BRAND, "another brand's order");
    parley_free(order, len);
    make_order(s->brand.key, "acme", now - 7200, now - 3600, &order, &len, bad_id);
    send_order(&c, order, len);
    expect_error(&c, PARLEY__ERROR__CODE__EXPIRED, "an expired order");
    parley_free(order, len);
    make_order(s->brand.key, "acme", now - 10, now + 3600, &order, &len, id);
    send_order(&c, order, len);
    expect_stored(&c, id, "a valid order");
    f = expect_kind(&a, PARLEY__FRAME__KIND_ORDER, "the order, to the agent online");
    parley__frame__free_unpacked(f, NULL);
    send_order(&c, order, len);
    expect_error(&c, PARLEY__ERROR__CODE__REPLAYED, "the order again");
    send_receipt(&c, s->agent, s->cert, s->cert_len, id);
    expect_error(&c, PARLEY__ERROR__CODE__NOT_ALLOWED, "a receipt from a customer");
    send_receipt(&a, s->agent, s->cert, s->cert_len, bad_id);
    expect_error(&a, PARLEY__ERROR__CODE__UNKNOWN_ORDER, "a receipt for no order held");
    send_receipt(&a, s->agent, s->cert, s->cert_len, id);
    expect_stored(&a, id, "the agent's receipt");
    parley_free(order, len);
    link_close(&a);
    link_close(&c);
    tk_brand_free(&other);
    parley_identity_free(admin);
    parley_identity_free(forger);
}

/* ------------------------------------------------------------------ */

/* Each case on the in-memory relay first, then on parley-relay. */
#define BOTH(fn)                                                                                   \
    static void both_##fn(void)                                                                    \
    {                                                                                              \
        struct side s;                                                                             \
        for (int mem = 1; mem >= 0; mem--) {                                                       \
            side_open(&s, mem != 0);                                                               \
            fn(&s);                                                                                \
            side_close(&s);                                                                        \
        }                                                                                          \
    }

BOTH(case_authentication)
BOTH(case_refused_authentication)
BOTH(case_store_and_forward)
BOTH(case_prekeys)
BOTH(case_directory)
BOTH(case_erasure)
BOTH(case_directory_push)
BOTH(case_orders)

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"authentication", both_case_authentication},
        {"refused authentication", both_case_refused_authentication},
        {"store and forward", both_case_store_and_forward},
        {"prekeys", both_case_prekeys},
        {"directory", both_case_directory},
        {"erasure", both_case_erasure},
        {"directory push", both_case_directory_push},
        {"brand orders", both_case_orders},
    };

    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
