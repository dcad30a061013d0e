/*
 * Relay authentication through real WebSocket connections: customers and
 * certified agents get in; every forged, replayed, foreign, expired or
 * revoked credential is refused with its own error code and a policy
 * close, and is counted; slow or out-of-order clients are cut off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testkit.h"

/* A relay serving brand "acme", its key in e's directory. */
static void start_with_brand(struct tk_env *e, struct tk_brand *b, const char *tag,
                             const char *const *more)
{
    const char *args[16];
    size_t n = 0;

    tk_env_init(e, tag);
    tk_brand_make(b, "acme", e->dir);
    args[n++] = "--brand";
    args[n++] = b->pin_path;
    for (size_t i = 0; more != NULL && more[i] != NULL && n + 1 < 16; i++)
        args[n++] = more[i];
    args[n] = NULL;
    tk_env_start(e, args);
}

/* The relay must answer with an error code and then close 1008. */
static void expect_refused(wsc *c, Parley__Error__Code code, const char *what)
{
    Parley__Frame *f = pc_recv(c, 5000);

    CHECKM(f != NULL, "%s: no answer to the auth frame", what);
    CHECKM(f->kind_case == PARLEY__FRAME__KIND_ERROR, "%s: relay accepted (frame kind %d)", what,
           (int)f->kind_case);
    CHECKM(f->error->code == code, "%s: error %s, expected %s", what,
           tk_error_name(f->error->code), tk_error_name(code));
    parley__frame__free_unpacked(f, NULL);
    tk_expect_close(c, 1008, 5000, what);
}

static void refused_auth(struct tk_env *e, const parley_identity *id, const uint8_t *cert,
                         size_t cert_len, Parley__Error__Code code, const char *reason)
{
    wsc *c = wsc_open(e->relay.port);
    Parley__Frame *f;
    double before = tk_rejects(&e->relay, reason, 0);

    CHECK(c != NULL);
    f = pc_auth(c, id, cert, cert_len, 5000);
    CHECKM(f != NULL, "%s: no answer to auth", reason);
    CHECKM(f->kind_case == PARLEY__FRAME__KIND_ERROR, "%s: relay accepted the credential", reason);
    CHECKM(f->error->code == code, "%s: error %s, expected %s", reason,
           tk_error_name(f->error->code), tk_error_name(code));
    parley__frame__free_unpacked(f, NULL);
    tk_expect_close(c, 1008, 5000, reason);
    wsc_free(c);
    CHECKM(tk_rejects(&e->relay, reason, before + 1) >= before + 1,
           "rejects_total{reason=\"%s\"} did not count the refusal", reason);
}

static void test_customer_ok(void)
{
    struct tk_env e;
    parley_identity *id = tk_identity();
    uint8_t routing[32];
    Parley__Frame *f;
    wsc *c;

    tk_env_init(&e, "auth");
    tk_env_start(&e, NULL);
    c = wsc_open(e.relay.port);
    CHECK(c != NULL);
    f = pc_auth(c, id, NULL, 0, 5000);
    CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_AUTH_OK, "customer not admitted");
    tk_routing(id, routing);
    CHECKM(f->auth_ok->routing_id.len == 32 &&
               memcmp(f->auth_ok->routing_id.data, routing, 32) == 0,
           "routing id is not parley_routing_id(sign key)");
    CHECK(!f->auth_ok->agent);
    parley__frame__free_unpacked(f, NULL);
    tk_roundtrip(c, id);
    CHECK(relay_metric(&e.relay, "parley_connections_authenticated") == 1);
    wsc_free(c);
    parley_identity_free(id);
    tk_env_end(&e);
}

static void test_agent_ok(void)
{
    struct tk_env e;
    struct tk_brand b;
    parley_identity *agent = tk_identity();
    uint8_t *cert, routing[32];
    size_t cert_len;
    Parley__Frame *f;
    wsc *c;

    start_with_brand(&e, &b, "auth", NULL);
    tk_cert(b.key, "acme", agent, "alice", "Alice", 1, tk_now() - 60, tk_now() + 3600, &cert,
            &cert_len);
    /* Something waits for the agent: it must come after the directory. */
    {
        parley_identity *cust = tk_identity();
        uint8_t eid[16];
        wsc *s;

        tk_agent_routing(agent, routing);
        s = pc_connect(e.relay.port, cust, NULL, 0);
        CHECK(s != NULL);
        tk_random(eid, sizeof(eid));
        tk_send_acked(s, eid, routing, (const uint8_t *)"waiting", 7);
        wsc_free(s);
        parley_identity_free(cust);
    }
    c = wsc_open(e.relay.port);
    CHECK(c != NULL);
    f = pc_auth(c, agent, cert, cert_len, 5000);
    CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_AUTH_OK, "certified agent refused");
    tk_agent_routing(agent, routing);
    CHECK(f->auth_ok->routing_id.len == 32 &&
          memcmp(f->auth_ok->routing_id.data, routing, 32) == 0);
    CHECKM(f->auth_ok->agent, "AuthOk does not say agent");
    CHECKM(f->auth_ok->brand_id != NULL && strcmp(f->auth_ok->brand_id, "acme") == 0,
           "AuthOk brand_id is not the certificate's brand");
    parley__frame__free_unpacked(f, NULL);
    /* Unasked, the brand's directory, then what was stored. */
    f = tk_expect_kind(c, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "the brand's directory");
    CHECKM(strcmp(f->directory_result->brand_id, "acme") == 0, "directory of another brand");
    parley__frame__free_unpacked(f, NULL);
    f = tk_expect_kind(c, PARLEY__FRAME__KIND_DELIVER, 5000, "the stored envelope");
    CHECK(f->deliver->sealed.len == 7 && memcmp(f->deliver->sealed.data, "waiting", 7) == 0);
    CHECK(pc_send_delivered(c, (const uint8_t(*)[16])f->deliver->envelope_id.data, 1) == 0);
    parley__frame__free_unpacked(f, NULL);
    tk_roundtrip_to(c, routing);
    wsc_free(c);
    free(cert);
    parley_identity_free(agent);
    tk_brand_free(&b);
    tk_env_end(&e);
}

/*
 * An agent's key that authenticates without its certificate is a customer:
 * it gets the customer routing id of that key and never the envelopes sent
 * to it as an agent (nor does the agent read what is sent to the key as a
 * customer).
 */
static void test_agent_key_as_customer(void)
{
    struct tk_env e;
    struct tk_brand b;
    parley_identity *agent = tk_identity(), *cust = tk_identity();
    uint8_t *cert, as_agent[32], as_customer[32], to_agent[16], to_customer[16];
    size_t cert_len;
    Parley__Frame *f;
    wsc *s, *c;

    start_with_brand(&e, &b, "auth", NULL);
    tk_cert(b.key, "acme", agent, "alice", "Alice", 1, tk_now() - 60, tk_now() + 3600, &cert,
            &cert_len);
    tk_agent_routing(agent, as_agent);
    tk_routing(agent, as_customer);
    CHECKM(memcmp(as_agent, as_customer, 32) != 0, "one routing id for both domains");
    s = pc_connect(e.relay.port, cust, NULL, 0);
    CHECK(s != NULL);
    tk_random(to_agent, sizeof(to_agent));
    tk_send_acked(s, to_agent, as_agent, (const uint8_t *)"for the agent", 13);
    tk_random(to_customer, sizeof(to_customer));
    tk_send_acked(s, to_customer, as_customer, (const uint8_t *)"for the key", 11);

    /* Without the certificate: the customer mailbox, stored envelopes first. */
    c = wsc_open(e.relay.port);
    CHECK(c != NULL);
    f = pc_auth(c, agent, NULL, 0, 5000);
    CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_AUTH_OK,
           "key without certificate refused");
    CHECKM(!f->auth_ok->agent, "AuthOk says agent without a certificate");
    CHECKM(f->auth_ok->routing_id.len == 32 &&
               memcmp(f->auth_ok->routing_id.data, as_customer, 32) == 0,
           "a key without its certificate did not get its customer routing id");
    parley__frame__free_unpacked(f, NULL);
    tk_expect_deliver(c, to_customer, (const uint8_t *)"for the key", 11, 5000);
    /* Fails on any other delivery, such as the agent's envelope. */
    tk_roundtrip_to(c, as_customer);
    wsc_free(c);

    /* With it: the agent mailbox, where the envelope still waits. */
    c = pc_connect(e.relay.port, agent, cert, cert_len);
    CHECKM(c != NULL, "certified agent refused");
    tk_expect_deliver(c, to_agent, (const uint8_t *)"for the agent", 13, 5000);
    tk_roundtrip_to(c, as_agent);
    wsc_free(c);
    wsc_free(s);
    free(cert);
    parley_identity_free(agent);
    parley_identity_free(cust);
    tk_brand_free(&b);
    tk_env_end(&e);
}

static void test_bad_signature(void)
{
    struct tk_env e;
    parley_identity *id = tk_identity(), *other = tk_identity();
    Parley__Frame *reply;
    uint8_t nonce[32], relay_key[32], *auth = NULL, *forged = NULL;
    size_t auth_len = 0, forged_len = 0;
    Parley__Frame *f;
    wsc *c;

    tk_env_init(&e, "auth");
    tk_env_start(&e, NULL);

    /* Signed by another key than the one claimed. */
    c = wsc_open(e.relay.port);
    CHECK(c != NULL && pc_read_hello(c, nonce, relay_key) == 0);
    CHECK(pc_build_auth(other, nonce, relay_key, NULL, 0, &auth, &auth_len) == 0);
    f = parley__frame__unpack(NULL, auth_len, auth);
    CHECK(f != NULL);
    f->auth->sign_key.data = (uint8_t *)parley_identity_sign_pk(id);
    CHECK(pc_send(c, f) == 0);
    f->auth->sign_key.data = NULL;
    f->auth->sign_key.len = 0;
    parley__frame__free_unpacked(f, NULL);
    expect_refused(c, PARLEY__ERROR__CODE__AUTH_FAILED, "signature by another key");
    wsc_free(c);
    free(auth);

    /* Right key, one flipped bit in the signature. */
    c = wsc_open(e.relay.port);
    CHECK(c != NULL && pc_read_hello(c, nonce, relay_key) == 0);
    CHECK(pc_build_auth(id, nonce, relay_key, NULL, 0, &forged, &forged_len) == 0);
    f = parley__frame__unpack(NULL, forged_len, forged);
    CHECK(f != NULL && f->auth->signature.len == 64);
    f->auth->signature.data[10] ^= 0x01;
    CHECK(pc_send(c, f) == 0);
    parley__frame__free_unpacked(f, NULL);
    expect_refused(c, PARLEY__ERROR__CODE__AUTH_FAILED, "flipped signature bit");
    wsc_free(c);
    free(forged);

    CHECK(tk_rejects(&e.relay, "auth_failed", 2) >= 2);
    /* The key itself is fine: a correct signature still gets in. */
    c = wsc_open(e.relay.port);
    CHECK(c != NULL);
    reply = pc_auth(c, id, NULL, 0, 5000);
    CHECK(reply != NULL && reply->kind_case == PARLEY__FRAME__KIND_AUTH_OK);
    parley__frame__free_unpacked(reply, NULL);
    wsc_free(c);
    parley_identity_free(id);
    parley_identity_free(other);
    tk_env_end(&e);
}

static void test_replayed_auth(void)
{
    struct tk_env e;
    parley_identity *id = tk_identity();
    uint8_t nonce[32], relay_key[32], nonce2[32], key2[32], *auth = NULL;
    size_t auth_len = 0;
    Parley__Frame *f;
    wsc *first, *second;

    tk_env_init(&e, "auth");
    tk_env_start(&e, NULL);
    first = wsc_open(e.relay.port);
    CHECK(first != NULL && pc_read_hello(first, nonce, relay_key) == 0);
    CHECK(pc_build_auth(id, nonce, relay_key, NULL, 0, &auth, &auth_len) == 0);
    CHECK(wsc_send_binary(first, auth, auth_len) == 0);
    f = tk_expect_kind(first, PARLEY__FRAME__KIND_AUTH_OK, 5000, "first auth");
    parley__frame__free_unpacked(f, NULL);

    /* Someone who captured that Auth frame replays it on a new connection. */
    second = wsc_open(e.relay.port);
    CHECK(second != NULL && pc_read_hello(second, nonce2, key2) == 0);
    CHECKM(memcmp(nonce, nonce2, 32) != 0, "the relay reused a challenge nonce");
    CHECKM(memcmp(relay_key, key2, 32) == 0, "relay key changed between connections");
    CHECK(wsc_send_binary(second, auth, auth_len) == 0);
    expect_refused(second, PARLEY__ERROR__CODE__AUTH_FAILED, "replayed auth");
    wsc_free(second);

    /* The legitimate session was not displaced by the replay. */
    tk_roundtrip(first, id);
    wsc_free(first);
    free(auth);
    parley_identity_free(id);
    tk_env_end(&e);
}

static void test_certificate_refusals(void)
{
    struct tk_env e;
    struct tk_brand b;
    parley_identity *agent = tk_identity(), *rogue = tk_identity(), *other = tk_identity();
    uint8_t *cert;
    size_t cert_len;
    uint64_t now = tk_now();

    start_with_brand(&e, &b, "auth", NULL);

    /* A brand this relay does not serve, properly signed by that brand. */
    tk_cert(rogue, "globex", agent, "alice", "Alice", 1, now - 60, now + 3600, &cert, &cert_len);
    refused_auth(&e, agent, cert, cert_len, PARLEY__ERROR__CODE__UNKNOWN_BRAND, "unknown_brand");
    free(cert);

    /* Brand id served here, signature by another key. */
    tk_cert(rogue, "acme", agent, "alice", "Alice", 2, now - 60, now + 3600, &cert, &cert_len);
    refused_auth(&e, agent, cert, cert_len, PARLEY__ERROR__CODE__BAD_CERTIFICATE,
                 "bad_certificate");
    free(cert);

    /* A genuine certificate, but for another agent's key. */
    tk_cert(b.key, "acme", other, "bob", "Bob", 3, now - 60, now + 3600, &cert, &cert_len);
    refused_auth(&e, agent, cert, cert_len, PARLEY__ERROR__CODE__BAD_CERTIFICATE,
                 "bad_certificate");
    free(cert);

    /* Expired, and not yet valid. */
    tk_cert(b.key, "acme", agent, "alice", "Alice", 4, now - 7200, now - 10, &cert, &cert_len);
    refused_auth(&e, agent, cert, cert_len, PARLEY__ERROR__CODE__EXPIRED, "expired");
    free(cert);
    tk_cert(b.key, "acme", agent, "alice", "Alice", 5, now + 3600, now + 7200, &cert, &cert_len);
    refused_auth(&e, agent, cert, cert_len, PARLEY__ERROR__CODE__EXPIRED, "expired");
    free(cert);

    parley_identity_free(agent);
    parley_identity_free(rogue);
    parley_identity_free(other);
    tk_brand_free(&b);
    tk_env_end(&e);
}

/* Publishes dir on c and expects the relay to accept it. */
static void publish(wsc *c, const uint8_t *dir, size_t dir_len)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryPublish p = PARLEY__DIRECTORY_PUBLISH__INIT;
    Parley__Frame *r;

    p.directory = parley__directory__unpack(NULL, dir_len, dir);
    CHECK(p.directory != NULL);
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_PUBLISH;
    f.directory_publish = &p;
    CHECK(pc_send(c, &f) == 0);
    parley__directory__free_unpacked(p.directory, NULL);
    r = tk_expect_kind(c, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "directory publish");
    CHECK(r->directory_result->directory != NULL);
    parley__frame__free_unpacked(r, NULL);
}

static void test_revoked(void)
{
    struct tk_env e;
    struct tk_brand b;
    parley_identity *agent = tk_identity(), *admin = tk_identity();
    uint8_t *cert, *revs = NULL, *dir = NULL;
    size_t cert_len, revs_len = 0, dir_len = 0;
    uint64_t now = tk_now(), serials[2] = {99, 7};
    parley_directory_spec spec;
    const uint8_t *certs[1];
    size_t cert_lens[1];
    wsc *c, *pub;

    start_with_brand(&e, &b, "auth", NULL);
    tk_cert(b.key, "acme", agent, "alice", "Alice", 7, now - 60, now + 3600, &cert, &cert_len);

    /* Valid before the revocation is published. */
    c = pc_connect(e.relay.port, agent, cert, cert_len);
    CHECKM(c != NULL, "agent refused before revocation");
    wsc_free(c);

    CHECK(parley_revlist_build(b.key, "acme", 1, serials, 2, now, &revs, &revs_len) == PARLEY_OK);
    certs[0] = cert;
    cert_lens[0] = cert_len;
    memset(&spec, 0, sizeof(spec));
    spec.brand_id = "acme";
    spec.version = 1;
    spec.certs = certs;
    spec.cert_lens = cert_lens;
    spec.n_certs = 1;
    spec.revocations = revs;
    spec.revocations_len = revs_len;
    spec.notice_text = "notice";
    spec.notice_version = 1;
    spec.issued_at = now;
    CHECK(parley_directory_build(b.key, &spec, &dir, &dir_len) == PARLEY_OK);
    pub = pc_connect(e.relay.port, admin, NULL, 0);
    CHECK(pub != NULL);
    publish(pub, dir, dir_len);
    wsc_free(pub);

    refused_auth(&e, agent, cert, cert_len, PARLEY__ERROR__CODE__REVOKED, "revoked");

    /* The revocation is durable: still refused after a restart. */
    CHECK(relay_stop(&e.relay, 15000) == 0);
    {
        const char *args[] = {"--brand", b.pin_path, NULL};
        tk_env_start(&e, args);
    }
    refused_auth(&e, agent, cert, cert_len, PARLEY__ERROR__CODE__REVOKED, "revoked");

    free(cert);
    parley_free(revs, revs_len);
    parley_free(dir, dir_len);
    parley_identity_free(agent);
    parley_identity_free(admin);
    tk_brand_free(&b);
    tk_env_end(&e);
}

static void test_frame_before_auth(void)
{
    struct tk_env e;
    uint8_t nonce[32], relay_key[32], eid[16], conv[16], to[32], sealed[8] = "sealed!";
    wsc *c;

    tk_env_init(&e, "auth");
    tk_env_start(&e, NULL);
    tk_random(eid, 16);
    tk_random(conv, 16);
    tk_random(to, 32);

    c = wsc_open(e.relay.port);
    CHECK(c != NULL && pc_read_hello(c, nonce, relay_key) == 0);
    CHECK(pc_send_envelope(c, eid, conv, to, sealed, sizeof(sealed)) == 0);
    expect_refused(c, PARLEY__ERROR__CODE__NOT_AUTHENTICATED, "send before auth");
    wsc_free(c);
    CHECK(tk_rejects(&e.relay, "not_authenticated", 1) >= 1);
    /* Nothing was stored for the recipient. */
    CHECK(relay_metric(&e.relay, "parley_envelopes_stored_total") == 0);
    tk_env_end(&e);
}

static void test_auth_timeout(void)
{
    struct tk_env e;
    const char *args[] = {"--auth-timeout", "1", NULL};
    uint8_t nonce[32], relay_key[32];
    int64_t t0;
    wsc *c;

    tk_env_init(&e, "auth");
    tk_env_start(&e, args);
    c = wsc_open(e.relay.port);
    CHECK(c != NULL && pc_read_hello(c, nonce, relay_key) == 0);
    t0 = mono_ms();
    tk_expect_close(c, 4001, 5000, "silent after Hello");
    CHECKM(mono_ms() - t0 >= 700, "closed before the auth timeout ran out");
    wsc_free(c);

    /* A bare TCP connection that never upgrades is not kept forever either. */
    c = wsc_tcp(e.relay.port);
    CHECK(c != NULL);
    CHECKM(wsc_wait_eof(c, 5000), "unauthenticated TCP connection kept open");
    wsc_free(c);
    CHECK(tk_rejects(&e.relay, "auth_timeout", 1) >= 1);
    tk_env_end(&e);
}

static void test_replaced(void)
{
    struct tk_env e;
    parley_identity *id = tk_identity();
    wsc *old, *fresh;

    tk_env_init(&e, "auth");
    tk_env_start(&e, NULL);
    old = pc_connect(e.relay.port, id, NULL, 0);
    CHECK(old != NULL);
    fresh = pc_connect(e.relay.port, id, NULL, 0);
    CHECK(fresh != NULL);
    tk_expect_close(old, 4004, 5000, "older connection with the same key");
    tk_roundtrip(fresh, id);
    wsc_free(old);
    wsc_free(fresh);
    parley_identity_free(id);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"customer_ok", test_customer_ok},
        {"agent_ok", test_agent_ok},
        {"agent_key_as_customer", test_agent_key_as_customer},
        {"bad_signature", test_bad_signature},
        {"replayed_auth", test_replayed_auth},
        {"certificate_refusals", test_certificate_refusals},
        {"revoked", test_revoked},
        {"frame_before_auth", test_frame_before_auth},
        {"auth_timeout", test_auth_timeout},
        {"replaced_by_newer_connection", test_replaced},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
