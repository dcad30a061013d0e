/*
 * Brand-signed objects: id and display-name rules, certificate requests,
 * certificates, revocation lists and the directory. Each round trip is
 * followed by the forgeries a relay or a rogue brand could attempt, each
 * with the error code the caller is promised.
 */
#include <string.h>

#include "check.h"
#include "fixture.h"

struct world {
    parley_identity *brand, *other_brand, *agent, *agent2, *agent3;
};

/* The brand's directory key: directories' readable content is sealed under it. */
static uint8_t dkey[32];

static void world_init(struct world *w)
{
    w->brand = fx_identity(0x01);
    w->agent = fx_identity(0x02);
    w->agent2 = fx_identity(0x04);
    w->agent3 = fx_identity(0x05);
    w->other_brand = fx_identity(0x09);
}

static void world_free(struct world *w)
{
    parley_identity_free(w->brand);
    parley_identity_free(w->agent);
    parley_identity_free(w->agent2);
    parley_identity_free(w->agent3);
    parley_identity_free(w->other_brand);
}

static uint8_t *dup_bytes(const uint8_t *b, size_t n)
{
    uint8_t *p = malloc(n > 0 ? n : 1);

    CHECK(p != NULL);
    memcpy(p, b, n);
    return p;
}

/* Packs {body, signature} signed by sk under domain, as the brand's tools would. */
static uint8_t *sign_wrapper(const ProtobufCMessage *body, const uint8_t sk[64], const char *domain,
                             size_t *len)
{
    Parley__AgentCert w = PARLEY__AGENT_CERT__INIT; /* every wrapper is {bytes 1, bytes 2} */
    uint8_t sig[64];
    uint8_t *bbuf = NULL, *out = NULL;
    size_t blen;

    CHECK_OK(parley__pack(body, &bbuf, &blen));
    CHECK_OK(parley__sign_raw(sk, domain, bbuf, blen, sig));
    w.body = (ProtobufCBinaryData){blen, bbuf};
    w.signature = (ProtobufCBinaryData){64, sig};
    CHECK_OK(parley__pack(&w.base, &out, len));
    free(bbuf);
    return out;
}

static void test_id_rules(void)
{
    char id64[65], id65[66];

    memset(id64, 'a', 64);
    id64[64] = '\0';
    memset(id65, 'z', 65);
    id65[65] = '\0';
    CHECK(parley_id_valid("acme"));
    CHECK(parley_id_valid("a"));
    CHECK(parley_id_valid("agent.1_x-y9"));
    CHECK(parley_id_valid(id64));
    CHECK(!parley_id_valid(id65));
    CHECK(!parley_id_valid(""));
    CHECK(!parley_id_valid(NULL));
    CHECK(!parley_id_valid("Acme"));
    CHECK(!parley_id_valid("a b"));
    CHECK(!parley_id_valid("a/b"));
    CHECK(!parley_id_valid("am\xc3\xa9lie"));
    CHECK(!parley_id_valid("a\n"));
}

static void test_display_name_rules(void)
{
    char n128[129], n129[130], e128[129];

    memset(n128, 'n', 128);
    n128[128] = '\0';
    memset(n129, 'n', 129);
    n129[129] = '\0';
    for (size_t i = 0; i < 128; i += 2)
        memcpy(e128 + i, "\xc3\xa9", 2);
    e128[128] = '\0';

    /* Accents, CJK, 4-byte characters, the highest code point, NBSP. */
    CHECK(parley_display_name_valid("Am\xc3\xa9lie Dupr\xc3\xa9"));
    CHECK(parley_display_name_valid("\xe6\x9d\x8e\xe5\xb0\x8f\xe9\xbe\x99"));
    CHECK(parley_display_name_valid("Zo\xc3\xab \xf0\x9f\x98\x80"));
    CHECK(parley_display_name_valid("\xf4\x8f\xbf\xbf"));
    CHECK(parley_display_name_valid("a\xc2\xa0"
                                    "b"));
    CHECK(parley_display_name_valid("\xef\xbf\xbd"));
    CHECK(parley_display_name_valid(n128));
    CHECK(parley_display_name_valid(e128));

    CHECK(!parley_display_name_valid(NULL));
    CHECK(!parley_display_name_valid(""));
    CHECK(!parley_display_name_valid(n129));
    e128[127] = 'x'; /* 127 bytes of UTF-8 then "x": still 128 bytes, now one é cut short */
    CHECK(!parley_display_name_valid(e128));
    /* Overlong forms of '/' and of U+07FF, U+FFFF. */
    CHECK(!parley_display_name_valid("\xc0\xaf"));
    CHECK(!parley_display_name_valid("\xc1\xbf"));
    CHECK(!parley_display_name_valid("\xe0\x80\xaf"));
    CHECK(!parley_display_name_valid("\xe0\x9f\xbf"));
    CHECK(!parley_display_name_valid("\xf0\x80\x80\xaf"));
    CHECK(!parley_display_name_valid("\xf0\x8f\xbf\xbf"));
    /* UTF-16 surrogates, beyond U+10FFFF, bytes that never occur in UTF-8. */
    CHECK(!parley_display_name_valid("\xed\xa0\x80"));
    CHECK(!parley_display_name_valid("\xed\xbf\xbf"));
    CHECK(!parley_display_name_valid("\xf4\x90\x80\x80"));
    CHECK(!parley_display_name_valid("\xf5\x80\x80\x80"));
    CHECK(!parley_display_name_valid("\xfe"));
    CHECK(!parley_display_name_valid("\xff"));
    /* Stray continuation bytes and truncated sequences. */
    CHECK(!parley_display_name_valid("\x80"));
    CHECK(!parley_display_name_valid("a\xbf"
                                     "b"));
    CHECK(!parley_display_name_valid("caf\xc3"));
    CHECK(!parley_display_name_valid("\xe2\x82"));
    CHECK(!parley_display_name_valid("\xf0\x9f\x98"));
    CHECK(!parley_display_name_valid("\xc3"
                                     "a"));
    /* C0 controls, DEL, C1 controls (U+0080..U+009F). */
    CHECK(!parley_display_name_valid("a\x01"));
    CHECK(!parley_display_name_valid("a\tb"));
    CHECK(!parley_display_name_valid("a\nb"));
    CHECK(!parley_display_name_valid("\x1b[31m"));
    CHECK(!parley_display_name_valid("a\x7f"));
    CHECK(!parley_display_name_valid("\xc2\x80"));
    CHECK(!parley_display_name_valid("\xc2\x85"));
    CHECK(!parley_display_name_valid("\xc2\x9f"));
}

static void test_request(struct world *w)
{
    const char *name = "Am\xc3\xa9lie Dupr\xc3\xa9";
    parley_cert_info info;
    uint8_t *req = NULL, *bad = NULL, *cert;
    size_t req_len, bad_len, cert_len;
    parley_err got;

    CHECK_OK(parley_request_create(w->agent, "amelie", name, 1700000042, &req, &req_len));
    memset(&info, 0x55, sizeof(info));
    CHECK_OK(parley_request_verify(req, req_len, &info));
    CHECK(info.brand_id[0] == '\0');
    CHECK(strcmp(info.agent_id, "amelie") == 0);
    CHECK(strcmp(info.display_name, name) == 0);
    CHECK(memcmp(info.sign_pk, parley_identity_sign_pk(w->agent), 32) == 0);
    CHECK(memcmp(info.box_pk, parley_identity_box_pk(w->agent), 32) == 0);
    CHECK(info.serial == 0 && info.not_after == 0);
    CHECK(info.not_before == 1700000042);

    CHECK_ERR(parley_request_create(w->agent, "Amelie", name, 1, &bad, &bad_len), PARLEY_EINVAL);
    CHECK_ERR(parley_request_create(w->agent, "amelie", "bad\x01", 1, &bad, &bad_len),
              PARLEY_EINVAL);
    CHECK_ERR(parley_request_create(NULL, "amelie", name, 1, &bad, &bad_len), PARLEY_EINVAL);
    CHECK_ERR(parley_request_verify(NULL, 0, &info), PARLEY_EINVAL);
    CHECK_ERR(parley_request_verify(req, req_len, NULL), PARLEY_EINVAL);

    /* A request for agent's keys signed by someone else: the requester lacks the key. */
    {
        Parley__CertRequestBody body = PARLEY__CERT_REQUEST_BODY__INIT;

        body.agent_id = (char *)"amelie";
        body.display_name = (char *)name;
        body.sign_key = (ProtobufCBinaryData){32, w->agent->sign_pk};
        body.box_key = (ProtobufCBinaryData){32, w->agent->box_pk};
        body.created_at = 1;
        bad =
            sign_wrapper(&body.base, w->agent2->secret->sign_sk, PARLEY__DOMAIN_REQUEST, &bad_len);
        CHECK_ERR(parley_request_verify(bad, bad_len, &info), PARLEY_EBADSIG);
        parley_free(bad, bad_len);
        /* Signed by the right key but for another purpose (domain). */
        bad = sign_wrapper(&body.base, w->agent->secret->sign_sk, PARLEY__DOMAIN_CERT, &bad_len);
        CHECK_ERR(parley_request_verify(bad, bad_len, &info), PARLEY_EBADSIG);
        parley_free(bad, bad_len);
    }

    /* Every flipped bit and every truncation is refused. */
    bad = dup_bytes(req, req_len);
    for (size_t bit = 0; bit < req_len * 8; bit++) {
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        CHECK_NOT_OK(parley_request_verify(bad, req_len, &info), got);
        CHECK(got == PARLEY_EBADSIG || got == PARLEY_EMALFORMED);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t n = 0; n < req_len; n++) {
        CHECK_NOT_OK(parley_request_verify(bad, n, &info), got);
        CHECK(got == PARLEY_EBADSIG || got == PARLEY_EMALFORMED);
    }
    free(bad);

    /* A certificate is not a request. */
    cert = fx_cert(w->brand, FX_BRAND_ID, w->agent, "amelie", 7, FX_NOT_BEFORE, FX_NOT_AFTER,
                   &cert_len);
    CHECK_NOT_OK(parley_request_verify(cert, cert_len, &info), got);
    CHECK(got == PARLEY_EMALFORMED || got == PARLEY_EWRONGTYPE || got == PARLEY_EBADSIG);
    parley_free(cert, cert_len);
    parley_free(req, req_len);
}

static void test_cert(struct world *w)
{
    parley_cert_info info, got_info;
    uint8_t *cert, *bad = NULL;
    size_t cert_len, bad_len, bare_len;
    const uint8_t *bpk = parley_identity_sign_pk(w->brand);
    parley_err got;

    memset(&info, 0, sizeof(info));
    memcpy(info.brand_id, FX_BRAND_ID, sizeof(FX_BRAND_ID));
    memcpy(info.agent_id, "amelie", 7);
    memcpy(info.display_name, "Am\xc3\xa9lie", 8);
    memcpy(info.sign_pk, parley_identity_sign_pk(w->agent), 32);
    memcpy(info.box_pk, parley_identity_box_pk(w->agent), 32);
    info.serial = 7;
    info.not_before = FX_NOT_BEFORE;
    info.not_after = FX_NOT_AFTER;
    CHECK_OK(parley_cert_issue(w->brand, &info, &cert, &cert_len));
    CHECK(cert_len <= PARLEY_MAX_CERT);

    memset(&got_info, 0x55, sizeof(got_info));
    CHECK_OK(parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, FX_NOW, NULL, &got_info));
    CHECK(memcmp(&info, &got_info, sizeof(info)) == 0);
    CHECK_OK(parley_cert_verify(cert, cert_len, bpk, NULL, FX_NOW, NULL, NULL));
    memset(&got_info, 0, sizeof(got_info));
    CHECK_OK(parley_cert_inspect(cert, cert_len, &got_info));
    CHECK(memcmp(&info, &got_info, sizeof(info)) == 0);

    /* Validity window: not_before inclusive, not_after exclusive; info still filled. */
    CHECK_OK(parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, FX_NOT_BEFORE, NULL, NULL));
    CHECK_OK(parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, FX_NOT_AFTER - 1, NULL, NULL));
    memset(&got_info, 0, sizeof(got_info));
    CHECK_ERR(
        parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, FX_NOT_BEFORE - 1, NULL, &got_info),
        PARLEY_ENOTYETVALID);
    CHECK(got_info.serial == 7 && strcmp(got_info.agent_id, "amelie") == 0);
    memset(&got_info, 0, sizeof(got_info));
    CHECK_ERR(parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, FX_NOT_AFTER, NULL, &got_info),
              PARLEY_EEXPIRED);
    CHECK(got_info.serial == 7);
    CHECK_ERR(parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, 0, NULL, NULL),
              PARLEY_ENOTYETVALID);
    CHECK_ERR(parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, UINT64_MAX, NULL, NULL),
              PARLEY_EEXPIRED);

    /* Pinned key and id: another brand's key, another brand id. */
    CHECK_ERR(parley_cert_verify(cert, cert_len, parley_identity_sign_pk(w->other_brand),
                                 FX_BRAND_ID, FX_NOW, NULL, NULL),
              PARLEY_EBADSIG);
    CHECK_ERR(parley_cert_verify(cert, cert_len, bpk, "other", FX_NOW, NULL, NULL),
              PARLEY_EWRONGBRAND);
    CHECK_ERR(parley_cert_verify(cert, cert_len, NULL, FX_BRAND_ID, FX_NOW, NULL, NULL),
              PARLEY_EINVAL);
    CHECK_ERR(parley_cert_verify(NULL, 0, bpk, FX_BRAND_ID, FX_NOW, NULL, NULL), PARLEY_EINVAL);
    CHECK_ERR(parley_cert_inspect(cert, cert_len, NULL), PARLEY_EINVAL);

    /* A certificate issued by another brand key claiming our id. */
    bad = fx_cert(w->other_brand, FX_BRAND_ID, w->agent, "amelie", 7, FX_NOT_BEFORE, FX_NOT_AFTER,
                  &bad_len);
    CHECK_ERR(parley_cert_verify(bad, bad_len, bpk, FX_BRAND_ID, FX_NOW, NULL, NULL),
              PARLEY_EBADSIG);
    /* inspect is for display only and does not check the signature. */
    CHECK_OK(parley_cert_inspect(bad, bad_len, &got_info));
    CHECK(strcmp(got_info.agent_id, "amelie") == 0);
    parley_free(bad, bad_len);

    /* A certificate body signed under another domain (e.g. a request signature). */
    {
        Parley__AgentCert *c = parley__agent_cert__unpack(NULL, cert_len, cert);
        uint8_t sig[64];

        CHECK(c != NULL);
        CHECK_OK(parley__sign_raw(w->brand->secret->sign_sk, PARLEY__DOMAIN_DIRECTORY, c->body.data,
                                  c->body.len, sig));
        memcpy(c->signature.data, sig, 64);
        CHECK_OK(parley__pack(&c->base, &bad, &bad_len));
        CHECK_ERR(parley_cert_verify(bad, bad_len, bpk, FX_BRAND_ID, FX_NOW, NULL, NULL),
                  PARLEY_EBADSIG);
        parley_free(bad, bad_len);
        /* Without a signature: neither verified nor displayed. */
        c->signature.len = 0;
        CHECK_OK(parley__pack(&c->base, &bad, &bad_len));
        CHECK_ERR(parley_cert_verify(bad, bad_len, bpk, FX_BRAND_ID, FX_NOW, NULL, NULL),
                  PARLEY_EMALFORMED);
        CHECK_ERR(parley_cert_inspect(bad, bad_len, &got_info), PARLEY_EMALFORMED);
        parley_free(bad, bad_len);
        c->signature.len = 64;
        parley__agent_cert__free_unpacked(c, NULL);
    }

    /* A brand-signed body that breaks the rules (serial 0, empty window). */
    {
        Parley__AgentCertBody body = PARLEY__AGENT_CERT_BODY__INIT;

        body.brand_id = (char *)FX_BRAND_ID;
        body.agent_id = (char *)"amelie";
        body.display_name = (char *)"Am\xc3\xa9lie";
        body.sign_key = (ProtobufCBinaryData){32, w->agent->sign_pk};
        body.box_key = (ProtobufCBinaryData){32, w->agent->box_pk};
        body.serial = 0;
        body.not_before = 10;
        body.not_after = 20;
        bad = sign_wrapper(&body.base, w->brand->secret->sign_sk, PARLEY__DOMAIN_CERT, &bad_len);
        CHECK_ERR(parley_cert_verify(bad, bad_len, bpk, FX_BRAND_ID, 15, NULL, NULL),
                  PARLEY_EMALFORMED);
        parley_free(bad, bad_len);
        body.serial = 3;
        body.not_before = 20;
        bad = sign_wrapper(&body.base, w->brand->secret->sign_sk, PARLEY__DOMAIN_CERT, &bad_len);
        CHECK_ERR(parley_cert_verify(bad, bad_len, bpk, FX_BRAND_ID, 20, NULL, NULL),
                  PARLEY_EMALFORMED);
        CHECK_ERR(parley_cert_inspect(bad, bad_len, &got_info), PARLEY_EMALFORMED);
        parley_free(bad, bad_len);
    }

    /* Issuing refuses what verification would refuse. */
    got_info = info;
    got_info.serial = 0;
    CHECK_ERR(parley_cert_issue(w->brand, &got_info, &bad, &bad_len), PARLEY_EINVAL);
    got_info = info;
    got_info.not_after = got_info.not_before;
    CHECK_ERR(parley_cert_issue(w->brand, &got_info, &bad, &bad_len), PARLEY_EINVAL);
    got_info = info;
    got_info.brand_id[0] = 'A';
    CHECK_ERR(parley_cert_issue(w->brand, &got_info, &bad, &bad_len), PARLEY_EINVAL);
    got_info = info;
    got_info.display_name[0] = '\n';
    CHECK_ERR(parley_cert_issue(w->brand, &got_info, &bad, &bad_len), PARLEY_EINVAL);
    CHECK_ERR(parley_cert_issue(NULL, &info, &bad, &bad_len), PARLEY_EINVAL);

    /* Every flipped bit: never accepted; every truncation: never accepted. */
    bad = dup_bytes(cert, cert_len);
    for (size_t bit = 0; bit < cert_len * 8; bit++) {
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        CHECK_NOT_OK(parley_cert_verify(bad, cert_len, bpk, FX_BRAND_ID, FX_NOW, NULL, NULL), got);
        CHECK(got == PARLEY_EBADSIG || got == PARLEY_EMALFORMED);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /*
     * Except its body and signature alone, as agents present it to a relay:
     * valid, without the display name (the fields after them carry it).
     */
    {
        Parley__AgentCert *full = parley__agent_cert__unpack(NULL, cert_len, cert);
        Parley__AgentCert bare = PARLEY__AGENT_CERT__INIT;

        CHECK(full != NULL && full->display_name[0] != '\0');
        bare.body = full->body;
        bare.signature = full->signature;
        bare_len = parley__agent_cert__get_packed_size(&bare);
        parley__agent_cert__free_unpacked(full, NULL);
        CHECK(bare_len < cert_len);
        CHECK_OK(parley_cert_verify(bad, bare_len, bpk, FX_BRAND_ID, FX_NOW, NULL, &got_info));
        CHECK(got_info.display_name[0] == '\0' && got_info.serial == info.serial);
    }
    for (size_t n = 0; n < cert_len; n++) {
        if (n == bare_len)
            continue;
        CHECK_NOT_OK(parley_cert_verify(bad, n, bpk, FX_BRAND_ID, FX_NOW, NULL, NULL), got);
        CHECK(got == PARLEY_EBADSIG || got == PARLEY_EMALFORMED);
        CHECK_NOT_OK(parley_cert_inspect(bad, n, &got_info), got);
        CHECK(got == PARLEY_EMALFORMED);
    }
    free(bad);
    parley_free(cert, cert_len);
}

static void test_revlist(struct world *w)
{
    static const uint64_t serials[] = {9, 3, 9, 42, 3, UINT64_MAX};
    static const uint64_t same_set[] = {UINT64_MAX, 42, 3, 9};
    const uint8_t *bpk = parley_identity_sign_pk(w->brand);
    parley_revlist *r = NULL;
    uint8_t *rl, *rl2, *bad;
    size_t rl_len, rl2_len, bad_len;
    parley_cert_info info;
    uint8_t *cert;
    size_t cert_len;
    parley_err got;

    CHECK_OK(parley_revlist_build(w->brand, FX_BRAND_ID, 5, serials, 6, 1750000000, &rl, &rl_len));
    /* Duplicates and order do not change the signed list. */
    CHECK_OK(
        parley_revlist_build(w->brand, FX_BRAND_ID, 5, same_set, 4, 1750000000, &rl2, &rl2_len));
    CHECK(rl_len == rl2_len && memcmp(rl, rl2, rl_len) == 0);
    parley_free(rl2, rl2_len);

    CHECK_OK(parley_revlist_open(&r, rl, rl_len, bpk, FX_BRAND_ID, 0));
    CHECK(parley_revlist_version(r) == 5);
    CHECK(parley_revlist_count(r) == 4);
    CHECK(parley_revlist_serial(r, 0) == 3 && parley_revlist_serial(r, 1) == 9);
    CHECK(parley_revlist_serial(r, 2) == 42 && parley_revlist_serial(r, 3) == UINT64_MAX);
    CHECK(parley_revlist_serial(r, 4) == 0);
    CHECK(parley_revlist_contains(r, 3) && parley_revlist_contains(r, 9));
    CHECK(parley_revlist_contains(r, 42) && parley_revlist_contains(r, UINT64_MAX));
    CHECK(!parley_revlist_contains(r, 0) && !parley_revlist_contains(r, 4));
    CHECK(!parley_revlist_contains(r, 7) && !parley_revlist_contains(NULL, 3));

    /* A certificate whose serial is listed is revoked; another is not. */
    cert = fx_cert(w->brand, FX_BRAND_ID, w->agent, "amelie", 9, FX_NOT_BEFORE, FX_NOT_AFTER,
                   &cert_len);
    memset(&info, 0, sizeof(info));
    CHECK_ERR(parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, FX_NOW, r, &info),
              PARLEY_EREVOKED);
    CHECK(info.serial == 9 && strcmp(info.agent_id, "amelie") == 0);
    /* An expired certificate reports expiry first. */
    CHECK_ERR(parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, FX_NOT_AFTER, r, &info),
              PARLEY_EEXPIRED);
    parley_free(cert, cert_len);
    cert = fx_cert(w->brand, FX_BRAND_ID, w->agent, "amelie", 8, FX_NOT_BEFORE, FX_NOT_AFTER,
                   &cert_len);
    CHECK_OK(parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, FX_NOW, r, &info));
    parley_free(cert, cert_len);
    parley_revlist_free(r);

    /* Rollback: an older version is refused, the same version accepted. */
    r = (parley_revlist *)1;
    CHECK_ERR(parley_revlist_open(&r, rl, rl_len, bpk, FX_BRAND_ID, 6), PARLEY_EROLLBACK);
    CHECK(r == NULL);
    CHECK_OK(parley_revlist_open(&r, rl, rl_len, bpk, FX_BRAND_ID, 5));
    parley_revlist_free(r);
    CHECK_ERR(parley_revlist_open(&r, rl, rl_len, bpk, FX_BRAND_ID, UINT64_MAX), PARLEY_EROLLBACK);

    /* Another brand's key; our key but another brand id. */
    CHECK_ERR(parley_revlist_open(&r, rl, rl_len, parley_identity_sign_pk(w->other_brand),
                                  FX_BRAND_ID, 0),
              PARLEY_EBADSIG);
    CHECK_ERR(parley_revlist_open(&r, rl, rl_len, bpk, "other", 0), PARLEY_EWRONGBRAND);
    CHECK_OK(parley_revlist_build(w->brand, "other", 9, serials, 1, 1, &bad, &bad_len));
    CHECK_ERR(parley_revlist_open(&r, bad, bad_len, bpk, FX_BRAND_ID, 0), PARLEY_EWRONGBRAND);
    parley_free(bad, bad_len);

    /* Every flipped bit is refused with a crypto or structure error. */
    bad = dup_bytes(rl, rl_len);
    for (size_t bit = 0; bit < rl_len * 8; bit++) {
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        CHECK_NOT_OK(parley_revlist_open(&r, bad, rl_len, bpk, FX_BRAND_ID, 0), got);
        CHECK(got == PARLEY_EBADSIG || got == PARLEY_EMALFORMED);
        CHECK(r == NULL);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t n = 0; n < rl_len; n++) {
        CHECK_NOT_OK(parley_revlist_open(&r, bad, n, bpk, FX_BRAND_ID, 0), got);
        CHECK(got == PARLEY_EBADSIG || got == PARLEY_EMALFORMED);
    }
    free(bad);

    /* A brand-signed list that is neither sorted nor unique is normalised on reading. */
    {
        Parley__RevocationListBody body = PARLEY__REVOCATION_LIST_BODY__INIT;
        uint64_t raw[] = {50, 1, 50, 20};

        body.brand_id = (char *)FX_BRAND_ID;
        body.version = 2;
        body.serials = raw;
        body.n_serials = 4;
        bad = sign_wrapper(&body.base, w->brand->secret->sign_sk, PARLEY__DOMAIN_REVOCATIONS,
                           &bad_len);
        CHECK_OK(parley_revlist_open(&r, bad, bad_len, bpk, FX_BRAND_ID, 0));
        CHECK(parley_revlist_count(r) == 3);
        CHECK(parley_revlist_serial(r, 0) == 1 && parley_revlist_serial(r, 1) == 20 &&
              parley_revlist_serial(r, 2) == 50);
        CHECK(parley_revlist_contains(r, 50));
        parley_revlist_free(r);
        parley_free(bad, bad_len);
        /* Version 0 is not a valid list, even brand-signed. */
        body.version = 0;
        bad = sign_wrapper(&body.base, w->brand->secret->sign_sk, PARLEY__DOMAIN_REVOCATIONS,
                           &bad_len);
        CHECK_ERR(parley_revlist_open(&r, bad, bad_len, bpk, FX_BRAND_ID, 0), PARLEY_EMALFORMED);
        parley_free(bad, bad_len);
    }

    /* Empty list; invalid arguments. */
    CHECK_OK(parley_revlist_build(w->brand, FX_BRAND_ID, 1, NULL, 0, 0, &bad, &bad_len));
    CHECK_OK(parley_revlist_open(&r, bad, bad_len, bpk, FX_BRAND_ID, 1));
    CHECK(parley_revlist_count(r) == 0 && !parley_revlist_contains(r, 0));
    parley_revlist_free(r);
    parley_free(bad, bad_len);
    CHECK_ERR(parley_revlist_build(w->brand, FX_BRAND_ID, 0, NULL, 0, 0, &bad, &bad_len),
              PARLEY_EINVAL);
    CHECK_ERR(parley_revlist_build(w->brand, FX_BRAND_ID, 1, NULL, 2, 0, &bad, &bad_len),
              PARLEY_EINVAL);
    CHECK_ERR(parley_revlist_build(w->brand, "Bad Id", 1, NULL, 0, 0, &bad, &bad_len),
              PARLEY_EINVAL);
    CHECK_ERR(parley_revlist_open(NULL, rl, rl_len, bpk, FX_BRAND_ID, 0), PARLEY_EINVAL);
    CHECK_ERR(parley_revlist_open(&r, rl, rl_len, NULL, FX_BRAND_ID, 0), PARLEY_EINVAL);
    parley_free(rl, rl_len);
}

/* The directory of the round-trip test: three agents, one revoked, one expired. */
struct dir_fixture {
    uint8_t *certs[3];
    size_t cert_lens[3];
    uint8_t *revs;
    size_t revs_len;
    parley_directory_spec spec;
    parley_queue_spec queues[2];
};

static const char *const purposes[] = {"support", "improvement"};
static const int purpose_optional[] = {0, 1};
static const char *const purpose_texts[] = {NULL, "am\xc3\xa9lioration du service"};
static const char *const billing_agents[] = {"amelie", "zoe"};
static const char *const tech_agents[] = {"zoe"};
static const char notice[] = "Vos donn\xc3\xa9"
                             "es sont trait\xc3\xa9"
                             "es par ACME pour "
                             "r\xc3\xa9pondre \xc3\xa0 vos questions.";

static void dir_fixture_init(struct dir_fixture *f, struct world *w)
{
    static const uint64_t revoked[] = {8};

    f->certs[0] = fx_cert(w->brand, FX_BRAND_ID, w->agent, "amelie", 7, FX_NOT_BEFORE, FX_NOT_AFTER,
                          &f->cert_lens[0]);
    f->certs[1] = fx_cert(w->brand, FX_BRAND_ID, w->agent2, "zoe", 8, FX_NOT_BEFORE, FX_NOT_AFTER,
                          &f->cert_lens[1]);
    f->certs[2] = fx_cert(w->brand, FX_BRAND_ID, w->agent3, "old", 9, FX_NOT_BEFORE, FX_NOW - 1,
                          &f->cert_lens[2]);
    CHECK_OK(
        parley_revlist_build(w->brand, FX_BRAND_ID, 3, revoked, 1, FX_NOW, &f->revs, &f->revs_len));
    f->queues[0] = (parley_queue_spec){"billing", billing_agents, 2};
    f->queues[1] = (parley_queue_spec){"tech", tech_agents, 1};
    memset(&f->spec, 0, sizeof(f->spec));
    f->spec.brand_id = FX_BRAND_ID;
    f->spec.version = 12;
    f->spec.certs = (const uint8_t *const *)f->certs;
    f->spec.cert_lens = f->cert_lens;
    f->spec.n_certs = 3;
    f->spec.revocations = f->revs;
    f->spec.revocations_len = f->revs_len;
    f->spec.notice_text = notice;
    f->spec.notice_version = 4;
    f->spec.purposes = purposes;
    f->spec.n_purposes = 2;
    f->spec.purpose_optional = purpose_optional;
    f->spec.purpose_descriptions = purpose_texts;
    f->spec.queues = f->queues;
    f->spec.n_queues = 2;
    f->spec.issued_at = FX_NOW;
}

static void dir_fixture_free(struct dir_fixture *f)
{
    for (int i = 0; i < 3; i++)
        parley_free(f->certs[i], f->cert_lens[i]);
    parley_free(f->revs, f->revs_len);
}

static void test_directory_round_trip(struct world *w)
{
    const uint8_t *bpk = parley_identity_sign_pk(w->brand);
    struct dir_fixture f;
    parley_directory *d = NULL;
    parley_cert_info info;
    const uint8_t *c;
    uint8_t *dir;
    size_t dir_len, c_len = 0;

    dir_fixture_init(&f, w);
    CHECK_OK(parley_directory_build(w->brand, &f.spec, &dir, &dir_len));
    /* What a relay stores and serves: no notice text, no agent name or id in clear. */
    CHECK(memmem(dir, dir_len, notice, strlen(notice)) == NULL);
    CHECK(memmem(dir, dir_len, "amelie", 6) == NULL);
    {
        uint64_t version = 0;
        uint8_t wrong[32];

        CHECK_OK(parley_directory_check(dir, dir_len, bpk, FX_BRAND_ID, 0, FX_NOW, &version, NULL));
        CHECK(version == 12);
        CHECK_ERR(parley_directory_check(dir, dir_len, bpk, FX_BRAND_ID, 13, FX_NOW, NULL, NULL),
                  PARLEY_EROLLBACK);
        parley_directory_key(w->other_brand, wrong);
        CHECK_ERR(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, wrong, 0, FX_NOW),
                  PARLEY_EBADSEAL);
        CHECK_ERR(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, NULL, 0, FX_NOW),
                  PARLEY_EINVAL);
    }
    CHECK_OK(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW));

    CHECK(parley_directory_version(d) == 12);
    CHECK(parley_directory_notice_version(d) == 4);
    CHECK(parley_directory_keep_on_erasure(d) == 0);
    {
        /* The brand's retention duty travels signed and sealed with the rest. */
        parley_directory_spec keep = f.spec;
        parley_directory *k = NULL;
        uint8_t *kd;
        size_t kd_len;

        keep.keep_on_erasure = 1;
        CHECK_OK(parley_directory_build(w->brand, &keep, &kd, &kd_len));
        CHECK_OK(parley_directory_open(&k, kd, kd_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW));
        CHECK(parley_directory_keep_on_erasure(k) == 1);
        parley_directory_free(k);
        parley_free(kd, kd_len);
    }
    CHECK(strcmp(parley_directory_notice_text(d), notice) == 0);
    CHECK(parley_directory_purpose_count(d) == 2);
    CHECK(strcmp(parley_directory_purpose(d, 0), purposes[0]) == 0);
    CHECK(strcmp(parley_directory_purpose(d, 1), purposes[1]) == 0);
    CHECK(parley_directory_purpose(d, 2) == NULL);
    CHECK(parley_directory_purpose_required(d, 0) == 1 && parley_directory_purpose_required(d, 1) == 0);
    CHECK(strcmp(parley_directory_purpose_description(d, 0), "") == 0);
    CHECK(strcmp(parley_directory_purpose_description(d, 1), purpose_texts[1]) == 0);
    CHECK(parley_directory_find_purpose(d, "improvement") == 1);
    CHECK(parley_directory_find_purpose(d, "marketing") == -1);

    CHECK(parley_directory_agent_count(d) == 3);
    memset(&info, 0, sizeof(info));
    CHECK_OK(parley_directory_agent(d, 0, &info));
    CHECK(strcmp(info.agent_id, "amelie") == 0 && info.serial == 7);
    CHECK(memcmp(info.sign_pk, parley_identity_sign_pk(w->agent), 32) == 0);
    CHECK(memcmp(info.box_pk, parley_identity_box_pk(w->agent), 32) == 0);
    CHECK(strcmp(info.brand_id, FX_BRAND_ID) == 0);
    CHECK_ERR(parley_directory_agent(d, 1, &info), PARLEY_EREVOKED);
    CHECK(strcmp(info.agent_id, "zoe") == 0 && info.serial == 8);
    CHECK_ERR(parley_directory_agent(d, 2, &info), PARLEY_EEXPIRED);
    CHECK(strcmp(info.agent_id, "old") == 0);
    CHECK_ERR(parley_directory_agent(d, 3, &info), PARLEY_EINVAL);
    CHECK_ERR(parley_directory_agent(d, 0, NULL), PARLEY_EINVAL);
    for (size_t i = 0; i < 3; i++) {
        c = parley_directory_agent_cert(d, i, &c_len);
        CHECK(c != NULL && c_len == f.cert_lens[i] && memcmp(c, f.certs[i], c_len) == 0);
    }
    CHECK(parley_directory_agent_cert(d, 3, &c_len) == NULL);
    /* The certificate handed out for a transfer verifies on its own. */
    c = parley_directory_agent_cert(d, 0, NULL);
    CHECK_OK(parley_cert_verify(c, f.cert_lens[0], bpk, FX_BRAND_ID, FX_NOW, NULL, NULL));

    CHECK(parley_directory_queue_count(d) == 2);
    CHECK(strcmp(parley_directory_queue_name(d, 0), "billing") == 0);
    CHECK(strcmp(parley_directory_queue_name(d, 1), "tech") == 0);
    CHECK(parley_directory_queue_name(d, 2) == NULL);
    CHECK(parley_directory_queue_size(d, 0) == 2 && parley_directory_queue_size(d, 1) == 1);
    CHECK(parley_directory_queue_size(d, 2) == 0);
    CHECK(strcmp(parley_directory_queue_agent(d, 0, 0), "amelie") == 0);
    CHECK(strcmp(parley_directory_queue_agent(d, 0, 1), "zoe") == 0);
    CHECK(strcmp(parley_directory_queue_agent(d, 1, 0), "zoe") == 0);
    CHECK(parley_directory_queue_agent(d, 1, 1) == NULL);
    CHECK(parley_directory_queue_agent(d, 2, 0) == NULL);
    parley_directory_free(d);

    /* Statuses follow the time given to open. */
    CHECK_OK(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 12, FX_NOT_BEFORE - 1));
    CHECK_ERR(parley_directory_agent(d, 0, &info), PARLEY_ENOTYETVALID);
    CHECK_ERR(parley_directory_agent(d, 1, &info), PARLEY_ENOTYETVALID);
    parley_directory_free(d);

    /* A minimal directory: no certificates, revocations, purposes or queues. */
    parley_free(dir, dir_len);
    memset(&f.spec.certs, 0, sizeof(f.spec) - offsetof(parley_directory_spec, certs));
    f.spec.notice_text = "";
    f.spec.issued_at = FX_NOW;
    CHECK_OK(parley_directory_build(w->brand, &f.spec, &dir, &dir_len));
    CHECK_OK(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW));
    CHECK(parley_directory_agent_count(d) == 0 && parley_directory_queue_count(d) == 0);
    CHECK(parley_directory_purpose_count(d) == 0);
    CHECK(strcmp(parley_directory_notice_text(d), "") == 0);
    parley_directory_free(d);
    parley_free(dir, dir_len);
    dir_fixture_free(&f);
}

/* Signs a hand-made directory body with sk. */
static uint8_t *sign_directory(Parley__DirectoryBody *body, const uint8_t sk[64], size_t *len)
{
    return sign_wrapper(&body->base, sk, PARLEY__DOMAIN_DIRECTORY, len);
}

static void test_directory_hostile(struct world *w)
{
    const uint8_t *bpk = parley_identity_sign_pk(w->brand);
    const uint8_t *opk = parley_identity_sign_pk(w->other_brand);
    struct dir_fixture f;
    parley_directory *d = NULL;
    uint8_t *dir, *bad, *foreign;
    size_t dir_len, bad_len, foreign_len;
    parley_err got;

    dir_fixture_init(&f, w);
    CHECK_OK(parley_directory_build(w->brand, &f.spec, &dir, &dir_len));

    /* Rollback: older than seen is refused; the same version is accepted. */
    d = (parley_directory *)1;
    CHECK_ERR(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 13, FX_NOW),
              PARLEY_EROLLBACK);
    CHECK(d == NULL);
    CHECK_OK(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 12, FX_NOW));
    parley_directory_free(d);

    /* Another brand's key, another brand id. */
    CHECK_ERR(parley_directory_open(&d, dir, dir_len, opk, FX_BRAND_ID, dkey, 0, FX_NOW), PARLEY_EBADSIG);
    CHECK_ERR(parley_directory_open(&d, dir, dir_len, bpk, "other", dkey, 0, FX_NOW), PARLEY_EWRONGBRAND);

    /* A relay edits the sealed content inside the signed body: the signature fails. */
    {
        Parley__Directory *pd = parley__directory__unpack(NULL, dir_len, dir);

        CHECK(pd != NULL && pd->body.len > 8);
        pd->body.data[pd->body.len - 5] ^= 0x20;
        CHECK_OK(parley__pack(&pd->base, &bad, &bad_len));
        CHECK_ERR(parley_directory_open(&d, bad, bad_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
                  PARLEY_EBADSIG);
        parley_free(bad, bad_len);
        parley__directory__free_unpacked(pd, NULL);
    }

    /* Every third flipped bit, and every truncation: never accepted. */
    bad = dup_bytes(dir, dir_len);
    for (size_t bit = 0; bit < dir_len * 8; bit += 3) {
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        CHECK_NOT_OK(parley_directory_open(&d, bad, dir_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW), got);
        CHECK(got == PARLEY_EBADSIG || got == PARLEY_EMALFORMED);
        CHECK(d == NULL);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t n = 0; n < dir_len; n++) {
        CHECK_NOT_OK(parley_directory_open(&d, bad, n, bpk, FX_BRAND_ID, dkey, 0, FX_NOW), got);
        CHECK(got == PARLEY_EBADSIG || got == PARLEY_EMALFORMED);
    }
    free(bad);

    /* A directory built by another brand with its own certificates. */
    foreign = fx_cert(w->other_brand, FX_BRAND_ID, w->agent, "amelie", 7, FX_NOT_BEFORE,
                      FX_NOT_AFTER, &foreign_len);
    {
        parley_directory_spec s = f.spec;
        const uint8_t *certs[1] = {foreign};

        s.certs = certs;
        s.cert_lens = &foreign_len;
        s.n_certs = 1;
        s.revocations = NULL;
        CHECK_OK(parley_directory_build(w->other_brand, &s, &bad, &bad_len));
        CHECK_ERR(parley_directory_open(&d, bad, bad_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
                  PARLEY_EBADSIG);
        parley_free(bad, bad_len);
        /* Our brand will not build a directory around a foreign certificate... */
        CHECK_ERR(parley_directory_build(w->brand, &s, &bad, &bad_len), PARLEY_EBADSIG);
        /* ...nor around foreign revocations, or certificates of another brand id. */
        s.n_certs = 0;
        s.revocations = NULL;
        CHECK_OK(parley_revlist_build(w->other_brand, FX_BRAND_ID, 1, NULL, 0, 0, &bad, &bad_len));
        s.revocations = bad;
        s.revocations_len = bad_len;
        CHECK_ERR(parley_directory_build(w->brand, &s, &dir, &dir_len /* unchanged */),
                  PARLEY_EBADSIG);
        s.revocations = NULL;
        parley_free(bad, bad_len);
        bad = fx_cert(w->brand, "other", w->agent, "amelie", 7, FX_NOT_BEFORE, FX_NOT_AFTER,
                      &bad_len);
        certs[0] = bad;
        s.cert_lens = &bad_len;
        s.n_certs = 1;
        CHECK_ERR(parley_directory_build(w->brand, &s, &dir, &dir_len), PARLEY_EWRONGBRAND);
        parley_free(bad, bad_len);
    }

    /* Hand-made, brand-signed bodies whose contents are not all the brand's. */
    {
        Parley__DirectoryBody body = PARLEY__DIRECTORY_BODY__INIT;
        Parley__DirectoryContent content = PARLEY__DIRECTORY_CONTENT__INIT;
        Parley__AgentCert *certs[2];
        Parley__RevocationList *rl;
        uint8_t *orl, nonce[24], *sealed;
        size_t orl_len, sealed_len;

        certs[0] = parley__agent_cert__unpack(NULL, f.cert_lens[0], f.certs[0]);
        certs[1] = parley__agent_cert__unpack(NULL, foreign_len, foreign);
        CHECK(certs[0] != NULL && certs[1] != NULL);
        body.brand_id = (char *)FX_BRAND_ID;
        body.version = 20;
        body.expires_at = FX_NOW + 86400;
        content.certs = certs;
        content.n_certs = 2;
        content.notice_text = (char *)"";
        /* One certificate from another brand key makes the whole directory untrusted. */
        CHECK_OK(parley__directory_seal_content(w->brand, &content, &body, nonce, &sealed,
                                                &sealed_len));
        bad = sign_directory(&body, w->brand->secret->sign_sk, &bad_len);
        CHECK_ERR(parley_directory_open(&d, bad, bad_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
                  PARLEY_EBADSIG);
        parley_free(bad, bad_len);
        free(sealed);
        /* The same content sealed under another brand's directory key does not open. */
        content.n_certs = 1;
        CHECK_OK(parley__directory_seal_content(w->other_brand, &content, &body, nonce, &sealed,
                                                &sealed_len));
        bad = sign_directory(&body, w->brand->secret->sign_sk, &bad_len);
        CHECK_ERR(parley_directory_open(&d, bad, bad_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
                  PARLEY_EBADSEAL);
        /* What a relay checks holds all the same: it cannot tell, and need not. */
        CHECK_OK(parley_directory_check(bad, bad_len, bpk, FX_BRAND_ID, 0, FX_NOW, NULL, NULL));
        parley_free(bad, bad_len);
        free(sealed);
        CHECK_OK(parley__directory_seal_content(w->brand, &content, &body, nonce, &sealed,
                                                &sealed_len));
        /* Revocations signed by another brand key. */
        CHECK_OK(parley_revlist_build(w->other_brand, FX_BRAND_ID, 1, NULL, 0, 0, &orl, &orl_len));
        rl = parley__revocation_list__unpack(NULL, orl_len, orl);
        CHECK(rl != NULL);
        body.revocations = rl;
        bad = sign_directory(&body, w->brand->secret->sign_sk, &bad_len);
        CHECK_ERR(parley_directory_open(&d, bad, bad_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
                  PARLEY_EBADSIG);
        CHECK_ERR(parley_directory_check(bad, bad_len, bpk, FX_BRAND_ID, 0, FX_NOW, NULL, NULL),
                  PARLEY_EBADSIG);
        parley_free(bad, bad_len);
        body.revocations = NULL;
        /* A directory body signed as something else (a revocation list). */
        bad = sign_wrapper(&body.base, w->brand->secret->sign_sk, PARLEY__DOMAIN_REVOCATIONS,
                           &bad_len);
        CHECK_ERR(parley_directory_open(&d, bad, bad_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
                  PARLEY_EBADSIG);
        parley_free(bad, bad_len);
        free(sealed);
        parley__revocation_list__free_unpacked(rl, NULL);
        parley_free(orl, orl_len);
        parley__agent_cert__free_unpacked(certs[0], NULL);
        parley__agent_cert__free_unpacked(certs[1], NULL);
    }

    /* Limits on what a brand admin can put in. */
    {
        parley_directory_spec s = f.spec;
        size_t big = PARLEY_MAX_CERT + 1;
        char *long_notice = malloc(PARLEY_MAX_NOTICE + 2);

        CHECK(long_notice != NULL);
        memset(long_notice, 'n', PARLEY_MAX_NOTICE + 1);
        long_notice[PARLEY_MAX_NOTICE + 1] = '\0';
        s.notice_text = long_notice;
        CHECK_ERR(parley_directory_build(w->brand, &s, &bad, &bad_len), PARLEY_ETOOBIG);
        long_notice[PARLEY_MAX_NOTICE] = '\0';
        CHECK_OK(parley_directory_build(w->brand, &s, &bad, &bad_len));
        CHECK_OK(parley_directory_open(&d, bad, bad_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW));
        CHECK(strlen(parley_directory_notice_text(d)) == PARLEY_MAX_NOTICE);
        parley_directory_free(d);
        parley_free(bad, bad_len);
        free(long_notice);
        s = f.spec;
        s.cert_lens = &big;
        s.n_certs = 1;
        CHECK_ERR(parley_directory_build(w->brand, &s, &bad, &bad_len), PARLEY_ETOOBIG);
        s = f.spec;
        s.version = 0;
        CHECK_ERR(parley_directory_build(w->brand, &s, &bad, &bad_len), PARLEY_EINVAL);
        s = f.spec;
        s.brand_id = "ACME";
        CHECK_ERR(parley_directory_build(w->brand, &s, &bad, &bad_len), PARLEY_EINVAL);
    }
    CHECK_ERR(parley_directory_open(NULL, dir, dir_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
              PARLEY_EINVAL);
    CHECK_ERR(parley_directory_open(&d, dir, dir_len, NULL, FX_BRAND_ID, dkey, 0, FX_NOW), PARLEY_EINVAL);

    parley_free(foreign, foreign_len);
    parley_free(dir, dir_len);
    dir_fixture_free(&f);
}

/*
 * A directory carries the expiry the brand signed: from then on clients
 * and relays refuse it, so a relay that keeps serving an old one cannot
 * hide a later revocation for longer than that.
 */
static void test_directory_expiry(struct world *w)
{
    const uint8_t *bpk = parley_identity_sign_pk(w->brand);
    struct dir_fixture f;
    parley_directory *d = NULL;
    uint64_t version = 0, expires = 0;
    uint8_t *dir;
    size_t dir_len;

    dir_fixture_init(&f, w);
    /* By default, 30 days after issue. */
    CHECK_OK(parley_directory_build(w->brand, &f.spec, &dir, &dir_len));
    CHECK_OK(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW));
    CHECK(parley_directory_issued_at(d) == FX_NOW);
    CHECK(parley_directory_expires_at(d) == FX_NOW + 30u * 86400u);
    parley_directory_free(d);
    d = NULL;
    parley_free(dir, dir_len);

    f.spec.expires_at = FX_NOW + 3600;
    CHECK_OK(parley_directory_build(w->brand, &f.spec, &dir, &dir_len));
    CHECK_OK(parley_directory_check(dir, dir_len, bpk, FX_BRAND_ID, 0, FX_NOW + 3599, &version,
                                    &expires));
    CHECK(version == 12 && expires == FX_NOW + 3600);
    /* From expires_at on: refused, by a relay and by a client, the version still told. */
    version = expires = 0;
    CHECK_ERR(parley_directory_check(dir, dir_len, bpk, FX_BRAND_ID, 0, FX_NOW + 3600, &version,
                                     &expires),
              PARLEY_EEXPIRED);
    CHECK(version == 12 && expires == FX_NOW + 3600);
    CHECK_ERR(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW + 3600),
              PARLEY_EEXPIRED);
    CHECK(d == NULL);
    /* Other faults come first: an expired directory is otherwise sound. */
    CHECK_ERR(parley_directory_check(dir, dir_len, bpk, FX_BRAND_ID, 13, FX_NOW + 3600, NULL, NULL),
              PARLEY_EROLLBACK);
    parley_free(dir, dir_len);

    /* The builder refuses an expiry that is not after the issue time. */
    f.spec.expires_at = FX_NOW;
    CHECK_ERR(parley_directory_build(w->brand, &f.spec, &dir, &dir_len), PARLEY_EINVAL);
    f.spec.expires_at = FX_NOW - 1;
    CHECK_ERR(parley_directory_build(w->brand, &f.spec, &dir, &dir_len), PARLEY_EINVAL);

    /* A signed body without an expiry (as wire version 1 made them) is always expired. */
    {
        Parley__DirectoryBody body = PARLEY__DIRECTORY_BODY__INIT;
        Parley__DirectoryContent content = PARLEY__DIRECTORY_CONTENT__INIT;
        uint8_t nonce[24], *sealed, *bad;
        size_t sealed_len, bad_len;

        body.brand_id = (char *)FX_BRAND_ID;
        body.version = 20;
        body.issued_at = FX_NOW;
        content.notice_text = (char *)"";
        CHECK_OK(
            parley__directory_seal_content(w->brand, &content, &body, nonce, &sealed, &sealed_len));
        bad = sign_directory(&body, w->brand->secret->sign_sk, &bad_len);
        CHECK_ERR(parley_directory_check(bad, bad_len, bpk, FX_BRAND_ID, 0, FX_NOW, NULL, NULL),
                  PARLEY_EEXPIRED);
        CHECK_ERR(parley_directory_open(&d, bad, bad_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
                  PARLEY_EEXPIRED);
        parley_free(bad, bad_len);
        free(sealed);
    }
    dir_fixture_free(&f);
}

/* Seals content as the brand and signs it: a directory as any writer could make it. */
static uint8_t *hand_made_directory(struct world *w, Parley__DirectoryContent *content, size_t *len)
{
    Parley__DirectoryBody body = PARLEY__DIRECTORY_BODY__INIT;
    uint8_t nonce[24], *sealed, *out;
    size_t sealed_len;

    body.brand_id = (char *)FX_BRAND_ID;
    body.version = 30;
    body.issued_at = FX_NOW;
    body.expires_at = FX_NOW + 86400;
    content->notice_text = (char *)"Notice.";
    CHECK_OK(parley__directory_seal_content(w->brand, content, &body, nonce, &sealed, &sealed_len));
    out = sign_directory(&body, w->brand->secret->sign_sk, len);
    free(sealed);
    return out;
}

/*
 * Purposes with their required/optional flag: what the builder refuses,
 * what a reader refuses, and a directory from before the flags (purposes
 * by name only), whose purposes are all required.
 */
static void test_directory_purposes(struct world *w)
{
    const uint8_t *bpk = parley_identity_sign_pk(w->brand);
    struct dir_fixture f;
    parley_directory_spec s;
    parley_directory *d = NULL;
    uint8_t *dir;
    size_t dir_len;

    dir_fixture_init(&f, w);
    {
        static const char *const dup[] = {"support", "support"};
        static const char *const not_id[] = {"Support Chat"};
        static const char *const bad_text[] = {NULL, "caf\xc3"};
        char *long_text = malloc(PARLEY_MAX_PURPOSE_TEXT + 2);
        const char *long_texts[] = {NULL, long_text};

        CHECK(long_text != NULL);
        s = f.spec;
        s.purposes = dup;
        CHECK_ERR(parley_directory_build(w->brand, &s, &dir, &dir_len), PARLEY_EINVAL);
        s.purposes = not_id;
        s.n_purposes = 1;
        CHECK_ERR(parley_directory_build(w->brand, &s, &dir, &dir_len), PARLEY_EINVAL);
        s = f.spec;
        s.purpose_descriptions = bad_text;
        CHECK_ERR(parley_directory_build(w->brand, &s, &dir, &dir_len), PARLEY_EINVAL);
        memset(long_text, 'x', PARLEY_MAX_PURPOSE_TEXT + 1);
        long_text[PARLEY_MAX_PURPOSE_TEXT + 1] = '\0';
        s.purpose_descriptions = long_texts;
        CHECK_ERR(parley_directory_build(w->brand, &s, &dir, &dir_len), PARLEY_EINVAL);
        long_text[PARLEY_MAX_PURPOSE_TEXT] = '\0';
        CHECK_OK(parley_directory_build(w->brand, &s, &dir, &dir_len));
        parley_free(dir, dir_len);
        s.n_purposes = PARLEY_MAX_PURPOSES + 1;
        CHECK_ERR(parley_directory_build(w->brand, &s, &dir, &dir_len), PARLEY_ETOOBIG);
        free(long_text);
    }
    /* Without flags every purpose is required. */
    s = f.spec;
    s.purpose_optional = NULL;
    s.purpose_descriptions = NULL;
    CHECK_OK(parley_directory_build(w->brand, &s, &dir, &dir_len));
    CHECK_OK(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW));
    CHECK(parley_directory_purpose_required(d, 0) == 1 && parley_directory_purpose_required(d, 1) == 1);
    CHECK(strcmp(parley_directory_purpose_description(d, 1), "") == 0);
    CHECK(parley_directory_purpose_required(d, 2) == 0 && parley_directory_purpose_description(d, 2) == NULL);
    parley_directory_free(d);
    parley_free(dir, dir_len);

    /* Purposes by name only (field 4): every one required, no sentence. */
    {
        Parley__DirectoryContent content = PARLEY__DIRECTORY_CONTENT__INIT;
        char *names[] = {(char *)"support", (char *)"billing"};

        content.purposes = names;
        content.n_purposes = 2;
        dir = hand_made_directory(w, &content, &dir_len);
        CHECK_OK(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW));
        CHECK(parley_directory_purpose_count(d) == 2);
        CHECK(strcmp(parley_directory_purpose(d, 1), "billing") == 0);
        CHECK(parley_directory_purpose_required(d, 0) == 1 && parley_directory_purpose_required(d, 1) == 1);
        CHECK(strcmp(parley_directory_purpose_description(d, 0), "") == 0);
        parley_directory_free(d);
        parley_free(dir, dir_len);
    }
    /* A list no customer could answer by name is refused whole. */
    {
        Parley__DirectoryContent content = PARLEY__DIRECTORY_CONTENT__INIT;
        Parley__Purpose a = PARLEY__PURPOSE__INIT, b = PARLEY__PURPOSE__INIT;
        Parley__Purpose *list[] = {&a, &b};

        a.name = (char *)"support";
        a.required = true;
        b.name = (char *)"support";
        content.purpose_list = list;
        content.n_purpose_list = 2;
        dir = hand_made_directory(w, &content, &dir_len);
        CHECK_ERR(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
                  PARLEY_EMALFORMED);
        parley_free(dir, dir_len);
        b.name = (char *)"Not An Id";
        dir = hand_made_directory(w, &content, &dir_len);
        CHECK_ERR(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
                  PARLEY_EMALFORMED);
        parley_free(dir, dir_len);
        b.name = (char *)"surveys";
        b.description = (char *)"bad\xff";
        dir = hand_made_directory(w, &content, &dir_len);
        CHECK_ERR(parley_directory_open(&d, dir, dir_len, bpk, FX_BRAND_ID, dkey, 0, FX_NOW),
                  PARLEY_EMALFORMED);
        parley_free(dir, dir_len);
    }
    dir_fixture_free(&f);
}

int main(void)
{
    struct world w;

    CHECK_OK(parley_init());
    world_init(&w);
    parley_directory_key(w.brand, dkey);
    test_id_rules();
    test_display_name_rules();
    test_request(&w);
    test_cert(&w);
    test_revlist(&w);
    test_directory_round_trip(&w);
    test_directory_hostile(&w);
    test_directory_expiry(&w);
    test_directory_purposes(&w);
    world_free(&w);
    return 0;
}
