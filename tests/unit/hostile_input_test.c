/*
 * Hostile input to every decoder: buffers one byte over each documented
 * size limit, and protobuf junk nested more than 10,000 levels deep, at
 * the outer level and in the place of each sub-message and signed body.
 * Every decoder must answer with an error code (never PARLEY_OK), within
 * its limits and without exhausting the stack.
 */
#include <string.h>

#include "check.h"
#include "fixture.h"

#define DEEP 12000u /* about 42 KiB of nesting: under PARLEY_MAX_ENVELOPE */

static parley_identity *brand, *agent, *customer;
static uint8_t dkey[32]; /* the brand's directory key */
static const uint8_t conv[16] = {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
                                 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf};

/*
 * depth length-delimited layers around an empty core. Layer i, counted
 * from the outside, uses tags[i] while i < n_tags and the last tag after
 * that: a path through real sub-message fields, then junk of one field.
 */
static uint8_t *nest(const uint8_t *tags, size_t n_tags, size_t depth, size_t *len)
{
    size_t cap = depth * 11 + 1, start = cap;
    uint8_t *buf = malloc(cap);

    CHECK(buf != NULL);
    for (size_t k = depth; k-- > 0;) {
        uint8_t v[10];
        size_t vn = 0, inner = cap - start;

        do {
            v[vn++] = (uint8_t)((inner & 0x7f) | (inner > 0x7f ? 0x80 : 0));
            inner >>= 7;
        } while (inner > 0);
        start -= vn;
        memcpy(buf + start, v, vn);
        buf[--start] = tags[k < n_tags ? k : n_tags - 1];
    }
    *len = cap - start;
    memmove(buf, buf + start, *len);
    return buf;
}

/* The largest depth of nest() that stays within limit bytes. */
static size_t depth_within(const uint8_t *tags, size_t n_tags, size_t limit)
{
    size_t lo = 1, hi = limit / 2;

    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2, len;
        free(nest(tags, n_tags, mid, &len));
        if (len <= limit)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static int structural(parley_err e)
{
    return e == PARLEY_EMALFORMED || e == PARLEY_ETOOBIG;
}

/* A {body, signature} wrapper around body, signed by brand under domain. */
static uint8_t *signed_wrapper(const uint8_t *body, size_t body_len, const char *domain,
                               size_t *len)
{
    Parley__AgentCert w = PARLEY__AGENT_CERT__INIT;
    uint8_t sig[64];
    uint8_t *out = NULL;

    CHECK_OK(parley__sign_raw(brand->secret->sign_sk, domain, body, body_len, sig));
    w.body = (ProtobufCBinaryData){body_len, (uint8_t *)body};
    w.signature = (ProtobufCBinaryData){64, sig};
    CHECK_OK(parley__pack(&w.base, &out, len));
    return out;
}

/* Feeds buf to every public decoder; each must refuse it with a structural error. */
static void feed_all(const uint8_t *buf, size_t len, const char *what)
{
    const uint8_t *bpk = parley_identity_sign_pk(brand);
    parley_trust t;
    parley_opened o;
    parley_cert_info info;
    parley_revlist *r = NULL;
    parley_directory *d = NULL;
    parley_identity *id = NULL;
    parley_err e[8];

    memset(&t, 0, sizeof(t));
    t.brand_pk = bpk;
    t.brand_id = FX_BRAND_ID;
    t.now = FX_NOW;
    e[0] = parley_open(buf, len, customer, &t, &o);
    e[1] = parley_cert_verify(buf, len, bpk, FX_BRAND_ID, FX_NOW, NULL, &info);
    e[2] = parley_cert_inspect(buf, len, &info);
    e[3] = parley_request_verify(buf, len, &info);
    e[4] = parley_revlist_open(&r, buf, len, bpk, FX_BRAND_ID, 0);
    e[5] = parley_directory_open(&d, buf, len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW);
    e[6] = parley_keyfile_peek(buf, len, NULL, NULL, NULL, 0);
    e[7] = parley_identity_import(&id, buf, len, "pass", 4, NULL, 0);
    for (int i = 0; i < 8; i++) {
        if (!structural(e[i]) && !(i == 1 && e[i] == PARLEY_EBADSIG) &&
            !((i == 4 || i == 5) && e[i] == PARLEY_EBADSIG)) {
            fprintf(stderr, "%s (%zu bytes): decoder %d returned %s\n", what, len, i,
                    parley_strerror(e[i]));
            CHECK(0);
        }
    }
    CHECK(o.text == NULL && r == NULL && d == NULL && id == NULL);
}

/* Seals plain (padded here) to the customer and runs parley__open_sealed and parley_open. */
static void open_inner(const uint8_t *plain, size_t len, parley_err want1, parley_err want2,
                       const char *what)
{
    parley_trust t;
    Parley__Payload *p = (Parley__Payload *)1;
    parley_cert_info ci;
    parley_opened o;
    int is_agent;
    size_t padded_len, sealed_len, env_len;
    uint8_t *padded = fx_pad(plain, len, &padded_len);
    uint8_t *sealed = fx_seal_raw(padded, padded_len, customer->box_pk, &sealed_len);
    uint8_t *env = fx_wrap(conv, customer, sealed, sealed_len, &env_len);
    parley_err got;

    memset(&t, 0, sizeof(t));
    t.brand_pk = parley_identity_sign_pk(brand);
    t.brand_id = FX_BRAND_ID;
    t.now = FX_NOW;
    got = parley__open_sealed(sealed, sealed_len, customer->box_pk, customer->secret->box_sk, conv,
                              &t, &p, &ci, &is_agent);
    if (got != want1 && got != want2) {
        fprintf(stderr, "%s: parley__open_sealed returned %s\n", what, parley_strerror(got));
        CHECK(0);
    }
    CHECK(p == NULL);
    got = parley_open(env, env_len, customer, &t, &o);
    if (got != want1 && got != want2) {
        fprintf(stderr, "%s: parley_open returned %s\n", what, parley_strerror(got));
        CHECK(0);
    }
    CHECK(o.text == NULL);
    free(padded);
    free(sealed);
    free(env);
}

/* Puts body in a Sealed as its payload, signed by agent, and opens it. */
static void open_payload(const uint8_t *body, size_t len, const char *what)
{
    Parley__Sealed s = PARLEY__SEALED__INIT;
    uint8_t sig[64], *buf;
    size_t buf_len;

    CHECK_OK(parley__sign_raw(agent->secret->sign_sk, PARLEY__DOMAIN_PAYLOAD, body, len, sig));
    s.payload = (ProtobufCBinaryData){len, (uint8_t *)body};
    s.signature = (ProtobufCBinaryData){64, sig};
    CHECK_OK(parley__pack(&s.base, &buf, &buf_len));
    open_inner(buf, buf_len, PARLEY_EMALFORMED, PARLEY_EMALFORMED, what);
    free(buf);
}

static void test_deep_nesting(void)
{
    /* Paths through the schema's sub-message fields, then the same field again and again. */
    static const struct {
        const char *what;
        uint8_t tags[4];
        size_t n;
    } paths[] = {
        {"field 1 (0x0a)", {0x0a}, 1},
        {"field 2 (0x12): Payload.sender_cert, AgentCert.signature", {0x12}, 1},
        {"field 3 (0x1a): DirectoryBody.certs, Open.consent", {0x1a}, 1},
        {"field 4 (0x22): DirectoryBody.revocations", {0x22}, 1},
        {"field 8 (0x42): DirectoryBody.queues", {0x42}, 1},
        {"Payload.transfer.target then 0x0a", {0x6a, 0x0a}, 2},
        {"Payload.open.consent then 0x0a", {0x5a, 0x1a, 0x0a}, 3},
        {"Payload.sender_cert then 0x0a", {0x12, 0x0a}, 2},
        {"DirectoryBody.revocations.body then 0x0a", {0x22, 0x0a}, 2},
        {"DirectoryBody.queues then 0x12", {0x42, 0x12}, 2},
        {"unknown field 15 (0x7a)", {0x7a}, 1},
        {"start-group (0x0b)", {0x0b}, 1},
    };
    const uint8_t *bpk = parley_identity_sign_pk(brand);

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        const char *what = paths[i].what;
        size_t len, small_len, w_len;
        uint8_t *deep = nest(paths[i].tags, paths[i].n, DEEP, &len);
        uint8_t *small, *w;
        parley_revlist *r = NULL;
        parley_directory *d = NULL;
        parley_cert_info info;

        CHECK(len <= PARLEY_MAX_ENVELOPE - 1024);
        /* At the outer level of every decoder. */
        feed_all(deep, len, what);
        /* As deep as fits under the 1 KiB limits of certificates, requests and key files. */
        small = nest(paths[i].tags, paths[i].n,
                     depth_within(paths[i].tags, paths[i].n, PARLEY_MAX_KEYFILE), &small_len);
        CHECK(small_len <= PARLEY_MAX_KEYFILE);
        feed_all(small, small_len, what);

        /* Inside the seal, as the Sealed itself and as its payload. */
        open_inner(deep, len, PARLEY_EMALFORMED, PARLEY_EMALFORMED, what);
        open_payload(deep, len, what);

        /* As brand-signed bodies, which are decoded once the signature holds. */
        w = signed_wrapper(deep, len, PARLEY__DOMAIN_DIRECTORY, &w_len);
        CHECK(structural(parley_directory_open(&d, w, w_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW)));
        CHECK(d == NULL);
        free(w);
        w = signed_wrapper(deep, len, PARLEY__DOMAIN_REVOCATIONS, &w_len);
        CHECK(structural(parley_revlist_open(&r, w, w_len, bpk, FX_BRAND_ID, 0)));
        CHECK(r == NULL);
        free(w);
        w = signed_wrapper(small, small_len - 80, PARLEY__DOMAIN_CERT, &w_len);
        CHECK(w_len <= PARLEY_MAX_CERT);
        CHECK(structural(parley_cert_verify(w, w_len, bpk, FX_BRAND_ID, FX_NOW, NULL, &info)));
        CHECK(structural(parley_cert_inspect(w, w_len, &info)));
        free(w);
        w = signed_wrapper(deep, len, PARLEY__DOMAIN_CERT, &w_len);
        CHECK(structural(parley_cert_verify(w, w_len, bpk, FX_BRAND_ID, FX_NOW, NULL, &info)));
        free(w);
        free(small);
        free(deep);
    }
}

/* A valid payload from the agent whose sender_cert is a brand-signed junk body. */
static void test_junk_sender_cert(void)
{
    static const uint8_t tag[] = {0x0a};
    Parley__Payload pl;
    Parley__Text tx;
    Parley__AgentCert cert = PARLEY__AGENT_CERT__INIT;
    uint8_t sig[64], *sealed;
    size_t junk_len, sealed_len;
    uint8_t *junk = nest(tag, 1, DEEP / 2, &junk_len);
    char text[] = "bonjour";
    parley_err got;

    CHECK_OK(parley__sign_raw(brand->secret->sign_sk, PARLEY__DOMAIN_CERT, junk, junk_len, sig));
    cert.body = (ProtobufCBinaryData){junk_len, junk};
    cert.signature = (ProtobufCBinaryData){64, sig};
    fx_text_payload(&pl, &tx, agent, customer->box_pk, conv, text);
    pl.sender_cert = &cert;
    sealed = fx_sealed_bytes(&pl, agent->secret->sign_sk, &sealed_len);
    /* Authentic payload, certificate too big to be one: refused as untrusted or too big. */
    open_inner(sealed, sealed_len, PARLEY_ETOOBIG, PARLEY_EUNTRUSTED, "junk sender_cert");
    free(sealed);
    /* The same within the certificate size limit. */
    junk_len = 900;
    CHECK_OK(parley__sign_raw(brand->secret->sign_sk, PARLEY__DOMAIN_CERT, junk, junk_len, sig));
    cert.body.len = junk_len;
    sealed = fx_sealed_bytes(&pl, agent->secret->sign_sk, &sealed_len);
    open_inner(sealed, sealed_len, PARLEY_EUNTRUSTED, PARLEY_EMALFORMED, "junk sender_cert");
    free(sealed);
    (void)got;
    free(junk);
}

/* Varints that overflow or claim more bytes than there are. */
static void test_bad_lengths(void)
{
    static const uint8_t huge_len[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t long_varint[] = {0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t short_body[] = {0x0a, 0x10, 0x00};
    static const uint8_t lone_tag[] = {0x0a};

    feed_all(huge_len, sizeof(huge_len), "length 2^64-1");
    feed_all(long_varint, sizeof(long_varint), "11-byte varint");
    feed_all(short_body, sizeof(short_body), "length past the end");
    feed_all(lone_tag, sizeof(lone_tag), "tag without length");
    open_inner(huge_len, sizeof(huge_len), PARLEY_EMALFORMED, PARLEY_EMALFORMED, "sealed 2^64");
    open_payload(huge_len, sizeof(huge_len), "payload 2^64");
}

/* One byte over each documented limit: PARLEY_ETOOBIG; at the limit: decoded (and malformed). */
static void test_size_limits(void)
{
    const uint8_t *bpk = parley_identity_sign_pk(brand);
    size_t big_len = PARLEY_MAX_DIRECTORY + 1;
    uint8_t *big = calloc(1, big_len);
    parley_trust t;
    parley_opened o;
    parley_cert_info info;
    parley_revlist *r = NULL;
    parley_directory *d = NULL;
    parley_identity *id = NULL;
    Parley__Payload *p = NULL;
    int is_agent;

    CHECK(big != NULL);
    memset(&t, 0, sizeof(t));
    CHECK_ERR(parley_open(big, PARLEY_MAX_ENVELOPE + 1, customer, &t, &o), PARLEY_ETOOBIG);
    CHECK_ERR(parley_open(big, PARLEY_MAX_ENVELOPE, customer, &t, &o), PARLEY_EMALFORMED);
    CHECK_ERR(parley__open_sealed(big, PARLEY_MAX_ENVELOPE + 1, customer->box_pk,
                                  customer->secret->box_sk, conv, &t, &p, &info, &is_agent),
              PARLEY_ETOOBIG);
    CHECK_ERR(parley__open_sealed(big, PARLEY_MAX_ENVELOPE, customer->box_pk,
                                  customer->secret->box_sk, conv, &t, &p, &info, &is_agent),
              PARLEY_EBADSEAL);
    CHECK_ERR(parley_cert_verify(big, PARLEY_MAX_CERT + 1, bpk, FX_BRAND_ID, FX_NOW, NULL, &info),
              PARLEY_ETOOBIG);
    CHECK_ERR(parley_cert_verify(big, PARLEY_MAX_CERT, bpk, FX_BRAND_ID, FX_NOW, NULL, &info),
              PARLEY_EMALFORMED);
    CHECK_ERR(parley_cert_inspect(big, PARLEY_MAX_CERT + 1, &info), PARLEY_ETOOBIG);
    CHECK_ERR(parley_cert_inspect(big, PARLEY_MAX_CERT, &info), PARLEY_EMALFORMED);
    CHECK_ERR(parley_request_verify(big, PARLEY_MAX_CERT + 1, &info), PARLEY_ETOOBIG);
    CHECK_ERR(parley_request_verify(big, PARLEY_MAX_CERT, &info), PARLEY_EMALFORMED);
    CHECK_ERR(parley_revlist_open(&r, big, PARLEY_MAX_DIRECTORY + 1, bpk, FX_BRAND_ID, 0),
              PARLEY_ETOOBIG);
    CHECK_ERR(parley_revlist_open(&r, big, PARLEY_MAX_DIRECTORY, bpk, FX_BRAND_ID, 0),
              PARLEY_EMALFORMED);
    CHECK_ERR(parley_directory_open(&d, big, PARLEY_MAX_DIRECTORY + 1, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
              PARLEY_ETOOBIG);
    CHECK_ERR(parley_directory_open(&d, big, PARLEY_MAX_DIRECTORY, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
              PARLEY_EMALFORMED);
    CHECK_ERR(parley_keyfile_peek(big, PARLEY_MAX_KEYFILE + 1, NULL, NULL, NULL, 0),
              PARLEY_ETOOBIG);
    CHECK_ERR(parley_keyfile_peek(big, PARLEY_MAX_KEYFILE, NULL, NULL, NULL, 0), PARLEY_EMALFORMED);
    CHECK_ERR(parley_identity_import(&id, big, PARLEY_MAX_KEYFILE + 1, "p", 1, NULL, 0),
              PARLEY_ETOOBIG);
    CHECK_ERR(parley_identity_import(&id, big, PARLEY_MAX_KEYFILE, "p", 1, NULL, 0),
              PARLEY_EMALFORMED);
    CHECK(r == NULL && d == NULL && id == NULL && p == NULL);

    /* A well-formed envelope one byte over the limit is refused before decoding. */
    {
        uint8_t *env, routing[32];
        size_t env_len, sealed_len = PARLEY_MAX_ENVELOPE - 100;

        parley_routing_id(customer->sign_pk, PARLEY_ROUTING_CUSTOMER, routing);

        CHECK_ERR(
            parley__envelope_pack(conv, conv, routing, big, PARLEY_MAX_ENVELOPE, &env, &env_len),
            PARLEY_ETOOBIG);
        for (;;) {
            CHECK_OK(parley__envelope_pack(conv, conv, routing, big, sealed_len, &env, &env_len));
            if (env_len >= PARLEY_MAX_ENVELOPE)
                break;
            free(env);
            sealed_len++;
        }
        CHECK(env_len == PARLEY_MAX_ENVELOPE);
        free(env);
        CHECK_ERR(parley__envelope_pack(conv, conv, routing, big, sealed_len + 1, &env, &env_len),
                  PARLEY_ETOOBIG);
    }
    free(big);
}

int main(void)
{
    CHECK_OK(parley_init());
    brand = fx_identity(0x01);
    agent = fx_identity(0x02);
    customer = fx_identity(0x03);
    parley_directory_key(brand, dkey);
    test_deep_nesting();
    test_junk_sender_cert();
    test_bad_lengths();
    test_size_limits();
    parley_identity_free(brand);
    parley_identity_free(agent);
    parley_identity_free(customer);
    return 0;
}
