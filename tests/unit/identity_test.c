/*
 * Identities: keys derived from seeds, domain-separated signatures, the
 * fingerprint and routing id, the passphrase-encrypted key file and what
 * happens when a key file is damaged or forged; also the error names and
 * the NULL-tolerant destructors every caller relies on.
 */
#include <string.h>
#include <time.h>

#include "check.h"
#include "fixture.h"

#define PASS "correct horse battery staple"

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_seed_derivation(void)
{
    parley_identity *a = fx_identity(0x01), *a2 = fx_identity(0x01), *b = fx_identity(0x02);
    parley_identity *g1 = NULL, *g2 = NULL;
    uint8_t seed[32] = {0};

    CHECK(memcmp(parley_identity_sign_pk(a), parley_identity_sign_pk(a2), 32) == 0);
    CHECK(memcmp(parley_identity_box_pk(a), parley_identity_box_pk(a2), 32) == 0);
    CHECK(memcmp(parley_identity_sign_pk(a), parley_identity_sign_pk(b), 32) != 0);
    CHECK(memcmp(parley_identity_box_pk(a), parley_identity_box_pk(b), 32) != 0);
    CHECK(memcmp(parley_identity_sign_pk(a), parley_identity_box_pk(a), 32) != 0);

    CHECK_OK(parley_identity_generate(&g1));
    CHECK_OK(parley_identity_generate(&g2));
    CHECK(memcmp(parley_identity_sign_pk(g1), parley_identity_sign_pk(g2), 32) != 0);

    CHECK_ERR(parley_identity_from_seed(NULL, seed), PARLEY_EINVAL);
    CHECK_ERR(parley_identity_from_seed(&g1 /* unchanged on error */, NULL), PARLEY_EINVAL);
    CHECK_ERR(parley_identity_generate(NULL), PARLEY_EINVAL);

    parley_identity_free(a);
    parley_identity_free(a2);
    parley_identity_free(b);
    parley_identity_free(g1);
    parley_identity_free(g2);
}

static void test_sign_verify(void)
{
    parley_identity *a = fx_identity(0x01), *b = fx_identity(0x02);
    static const uint8_t msg[] = "challenge 42";
    const char *d32 = "abcdefghijklmnopqrstuvwxyz012345";
    const char *d33 = "abcdefghijklmnopqrstuvwxyz0123456";
    uint8_t sig[64], sig2[64], bad[sizeof(msg)];

    CHECK_OK(parley_identity_sign(a, "relay-auth", msg, sizeof(msg), sig));
    CHECK_OK(parley_verify(parley_identity_sign_pk(a), "relay-auth", msg, sizeof(msg), sig));
    /* Ed25519 is deterministic: the same input gives the same signature. */
    CHECK_OK(parley_identity_sign(a, "relay-auth", msg, sizeof(msg), sig2));
    CHECK(memcmp(sig, sig2, 64) == 0);

    /* Another domain, message, key or signature: refused. */
    CHECK_ERR(parley_verify(parley_identity_sign_pk(a), "payload", msg, sizeof(msg), sig),
              PARLEY_EBADSIG);
    memcpy(bad, msg, sizeof(msg));
    bad[0] ^= 1;
    CHECK_ERR(parley_verify(parley_identity_sign_pk(a), "relay-auth", bad, sizeof(bad), sig),
              PARLEY_EBADSIG);
    CHECK_ERR(parley_verify(parley_identity_sign_pk(b), "relay-auth", msg, sizeof(msg), sig),
              PARLEY_EBADSIG);
    sig2[63] ^= 0x10;
    CHECK_ERR(parley_verify(parley_identity_sign_pk(a), "relay-auth", msg, sizeof(msg), sig2),
              PARLEY_EBADSIG);
    /* A signature over the same bytes without the domain prefix is not accepted. */
    crypto_sign_detached(sig2, NULL, msg, sizeof(msg), a->secret->sign_sk);
    CHECK_ERR(parley_verify(parley_identity_sign_pk(a), "relay-auth", msg, sizeof(msg), sig2),
              PARLEY_EBADSIG);

    /* The domains the library signs itself are not available to callers. */
    {
        static const char *const reserved[] = {"payload", "agent-cert", "revocations", "directory",
                                               "consent", "prekey",     "cert-request"};

        for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
            CHECK_ERR(parley_identity_sign(a, reserved[i], msg, sizeof(msg), sig2), PARLEY_EINVAL);
    }

    /* Empty messages sign; domain labels are bounded. */
    CHECK_OK(parley_identity_sign(a, "relay-auth", NULL, 0, sig));
    CHECK_OK(parley_verify(parley_identity_sign_pk(a), "relay-auth", NULL, 0, sig));
    CHECK_OK(parley_identity_sign(a, d32, msg, sizeof(msg), sig));
    CHECK_OK(parley_verify(parley_identity_sign_pk(a), d32, msg, sizeof(msg), sig));
    CHECK_ERR(parley_identity_sign(a, d33, msg, sizeof(msg), sig), PARLEY_EINVAL);
    CHECK_ERR(parley_identity_sign(a, "", msg, sizeof(msg), sig), PARLEY_EINVAL);
    CHECK_ERR(parley_identity_sign(NULL, "x", msg, sizeof(msg), sig), PARLEY_EINVAL);
    CHECK_ERR(parley_identity_sign(a, NULL, msg, sizeof(msg), sig), PARLEY_EINVAL);
    CHECK_ERR(parley_identity_sign(a, "x", NULL, 3, sig), PARLEY_EINVAL);
    CHECK_ERR(parley_verify(parley_identity_sign_pk(a), d33, msg, sizeof(msg), sig), PARLEY_EINVAL);
    CHECK_ERR(parley_verify(NULL, "x", msg, sizeof(msg), sig), PARLEY_EINVAL);

    parley_identity_free(a);
    parley_identity_free(b);
}

static void test_fingerprint_routing(void)
{
    parley_identity *a = fx_identity(0x01), *b = fx_identity(0x02);
    char fa[PARLEY_FINGERPRINT_LEN], fa2[PARLEY_FINGERPRINT_LEN], fb[PARLEY_FINGERPRINT_LEN];
    uint8_t ra[32], ra2[32], rb[32];

    memset(fa, 'x', sizeof(fa));
    parley_fingerprint(parley_identity_sign_pk(a), fa);
    parley_fingerprint(parley_identity_sign_pk(a), fa2);
    parley_fingerprint(parley_identity_sign_pk(b), fb);
    CHECK(strlen(fa) == PARLEY_FINGERPRINT_LEN - 1);
    for (size_t i = 0; i < PARLEY_FINGERPRINT_LEN - 1; i++) {
        if (i % 6 == 5)
            CHECK(fa[i] == ' ');
        else
            CHECK(fa[i] >= '0' && fa[i] <= '9');
    }
    CHECK(strcmp(fa, fa2) == 0);
    CHECK(strcmp(fa, fb) != 0);

    parley_routing_id(parley_identity_sign_pk(a), PARLEY_ROUTING_CUSTOMER, ra);
    parley_routing_id(parley_identity_sign_pk(a), PARLEY_ROUTING_CUSTOMER, ra2);
    parley_routing_id(parley_identity_sign_pk(b), PARLEY_ROUTING_CUSTOMER, rb);
    CHECK(memcmp(ra, ra2, 32) == 0);
    CHECK(memcmp(ra, rb, 32) != 0);
    /* One key, two mailboxes: as a customer it never reads what is sent to it as an agent. */
    parley_routing_id(parley_identity_sign_pk(a), PARLEY_ROUTING_AGENT, ra2);
    CHECK(memcmp(ra, ra2, 32) != 0);
    CHECK(memcmp(ra2, parley_identity_sign_pk(a), 32) != 0);
    /* The routing id reveals neither key. */
    CHECK(memcmp(ra, parley_identity_sign_pk(a), 32) != 0);
    CHECK(memcmp(ra, parley_identity_box_pk(a), 32) != 0);

    parley_identity_free(a);
    parley_identity_free(b);
}

/* Signs with both identities and requires the same signature: same secret key. */
static void check_same_identity(const parley_identity *x, const parley_identity *y)
{
    static const uint8_t msg[] = "same key?";
    uint8_t sx[64], sy[64];

    CHECK(memcmp(parley_identity_sign_pk(x), parley_identity_sign_pk(y), 32) == 0);
    CHECK(memcmp(parley_identity_box_pk(x), parley_identity_box_pk(y), 32) == 0);
    CHECK(memcmp(x->secret->box_sk, y->secret->box_sk, 32) == 0);
    CHECK_OK(parley_identity_sign(x, "t", msg, sizeof(msg), sx));
    CHECK_OK(parley_identity_sign(y, "t", msg, sizeof(msg), sy));
    CHECK(memcmp(sx, sy, 64) == 0);
}

/* Unpacks a key file, lets edit change it, packs it again. */
static uint8_t *keyfile_edit(const uint8_t *kf_buf, size_t kf_len, void (*edit)(Parley__KeyFile *),
                             size_t *len)
{
    Parley__KeyFile *kf = parley__key_file__unpack(NULL, kf_len, kf_buf);
    uint8_t *out = NULL;

    CHECK(kf != NULL);
    edit(kf);
    CHECK_OK(parley__pack(&kf->base, &out, len));
    parley__key_file__free_unpacked(kf, NULL);
    return out;
}

/* Unpacked with the default allocator: the replaced string is freed with it. */
static void edit_label(Parley__KeyFile *kf)
{
    free(kf->label);
    kf->label = strdup("brand evil");
    CHECK(kf->label != NULL);
}
static void edit_sign_key(Parley__KeyFile *kf)
{
    kf->sign_key.data[0] ^= 0x01;
}
static void edit_box_key(Parley__KeyFile *kf)
{
    kf->box_key.data[31] ^= 0x80;
}
static void edit_salt(Parley__KeyFile *kf)
{
    kf->salt.data[3] ^= 0x04;
}
static void edit_nonce(Parley__KeyFile *kf)
{
    kf->nonce.data[7] ^= 0x02;
}
static void edit_ciphertext(Parley__KeyFile *kf)
{
    kf->ciphertext.data[kf->ciphertext.len - 1] ^= 0x01;
}
static void edit_memlimit_huge(Parley__KeyFile *kf)
{
    kf->memlimit = UINT64_MAX;
}
static void edit_memlimit_over(Parley__KeyFile *kf)
{
    kf->memlimit = (uint64_t)crypto_pwhash_MEMLIMIT_SENSITIVE + 1;
}
static void edit_memlimit_zero(Parley__KeyFile *kf)
{
    kf->memlimit = 0;
}
static void edit_opslimit_huge(Parley__KeyFile *kf)
{
    kf->opslimit = UINT64_MAX;
}
static void edit_opslimit_zero(Parley__KeyFile *kf)
{
    kf->opslimit = 0;
}
static void edit_short_salt(Parley__KeyFile *kf)
{
    kf->salt.len -= 1;
}
static void edit_no_ciphertext(Parley__KeyFile *kf)
{
    kf->ciphertext.len = 0;
}

static void test_keyfile_round_trip(void)
{
    parley_identity *a = fx_identity(0x01), *b = NULL;
    const char *label = "brand acme — clé de signature";
    char got[160], label129[130];
    uint8_t sign_pk[32], box_pk[32];
    uint8_t *kf = NULL, *kf2 = NULL;
    size_t kf_len, kf2_len;

    CHECK_OK(
        parley_identity_export(a, label, PASS, strlen(PASS), PARLEY__KDF_TEST_ONLY, &kf, &kf_len));
    CHECK(kf_len > 0 && kf_len <= PARLEY_MAX_KEYFILE);
    /* The seed never appears in clear. */
    CHECK(memmem(kf, kf_len, a->secret->sign_sk, 32) == NULL);
    CHECK(memmem(kf, kf_len, a->secret->box_sk, 32) == NULL);

    CHECK_OK(parley_identity_import(&b, kf, kf_len, PASS, strlen(PASS), got, sizeof(got)));
    CHECK(strcmp(got, label) == 0);
    check_same_identity(a, b);
    parley_identity_free(b);
    b = NULL;
    CHECK_OK(parley_identity_import(&b, kf, kf_len, PASS, strlen(PASS), NULL, 0));
    check_same_identity(a, b);
    parley_identity_free(b);
    b = NULL;

    /* The public halves and label are readable without the passphrase. */
    memset(got, 'x', sizeof(got));
    CHECK_OK(parley_keyfile_peek(kf, kf_len, sign_pk, box_pk, got, sizeof(got)));
    CHECK(memcmp(sign_pk, parley_identity_sign_pk(a), 32) == 0);
    CHECK(memcmp(box_pk, parley_identity_box_pk(a), 32) == 0);
    CHECK(strcmp(got, label) == 0);
    CHECK_OK(parley_keyfile_peek(kf, kf_len, NULL, NULL, NULL, 0));
    CHECK_ERR(parley_keyfile_peek(kf, kf_len, NULL, NULL, got, strlen(label)), PARLEY_EINVAL);
    CHECK_ERR(parley_keyfile_peek(NULL, kf_len, NULL, NULL, NULL, 0), PARLEY_EINVAL);

    /* A label that does not fit the caller's buffer: refused, nothing leaked. */
    b = (parley_identity *)1;
    CHECK_ERR(parley_identity_import(&b, kf, kf_len, PASS, strlen(PASS), got, 5), PARLEY_EINVAL);
    CHECK(b == NULL);

    /* Wrong passphrase, including the empty one and a prefix of the right one. */
    b = (parley_identity *)1;
    CHECK_ERR(parley_identity_import(&b, kf, kf_len, "wrong", 5, NULL, 0), PARLEY_EPASSPHRASE);
    CHECK(b == NULL);
    CHECK_ERR(parley_identity_import(&b, kf, kf_len, "", 0, NULL, 0), PARLEY_EPASSPHRASE);
    CHECK_ERR(parley_identity_import(&b, kf, kf_len, PASS, strlen(PASS) - 1, NULL, 0),
              PARLEY_EPASSPHRASE);
    CHECK_ERR(parley_identity_import(&b, kf, kf_len, NULL, 0, NULL, 0), PARLEY_EINVAL);
    parley_free(kf, kf_len);
    kf = NULL;

    /* No label, and an empty passphrase, are allowed and round-trip. */
    CHECK_OK(parley_identity_export(a, NULL, "", 0, PARLEY__KDF_TEST_ONLY, &kf, &kf_len));
    CHECK_OK(parley_identity_import(&b, kf, kf_len, "", 0, got, sizeof(got)));
    CHECK(got[0] == '\0');
    check_same_identity(a, b);
    parley_identity_free(b);
    b = NULL;
    CHECK_ERR(parley_identity_import(&b, kf, kf_len, "x", 1, NULL, 0), PARLEY_EPASSPHRASE);
    parley_free(kf, kf_len);
    kf = NULL;

    /* Two exports of one identity differ (fresh salt and nonce). */
    CHECK_OK(
        parley_identity_export(a, "l", PASS, strlen(PASS), PARLEY__KDF_TEST_ONLY, &kf, &kf_len));
    CHECK_OK(
        parley_identity_export(a, "l", PASS, strlen(PASS), PARLEY__KDF_TEST_ONLY, &kf2, &kf2_len));
    CHECK(kf_len == kf2_len && memcmp(kf, kf2, kf_len) != 0);
    parley_free(kf, kf_len);
    parley_free(kf2, kf2_len);
    kf = NULL;

    /* Labels: 128 bytes is the limit. */
    memset(label129, 'l', 129);
    label129[129] = '\0';
    CHECK_ERR(parley_identity_export(a, label129, PASS, strlen(PASS), PARLEY__KDF_TEST_ONLY, &kf,
                                     &kf_len),
              PARLEY_EINVAL);
    label129[128] = '\0';
    CHECK_OK(parley_identity_export(a, label129, PASS, strlen(PASS), PARLEY__KDF_TEST_ONLY, &kf,
                                    &kf_len));
    CHECK_OK(parley_identity_import(&b, kf, kf_len, PASS, strlen(PASS), got, sizeof(got)));
    CHECK(strcmp(got, label129) == 0);
    parley_identity_free(b);
    parley_free(kf, kf_len);

    CHECK_ERR(parley_identity_export(NULL, "l", PASS, 4, PARLEY__KDF_TEST_ONLY, &kf, &kf_len),
              PARLEY_EINVAL);
    CHECK_ERR(parley_identity_export(a, "l", NULL, 0, PARLEY__KDF_TEST_ONLY, &kf, &kf_len),
              PARLEY_EINVAL);
    parley_identity_free(a);
}

static void expect_import(const uint8_t *kf, size_t kf_len, void (*edit)(Parley__KeyFile *),
                          parley_err want_import, parley_err want_peek, const char *what)
{
    parley_identity *b = (parley_identity *)1;
    uint8_t *bad;
    size_t bad_len;
    parley_err got;
    double t0 = now_seconds();

    bad = keyfile_edit(kf, kf_len, edit, &bad_len);
    got = parley_identity_import(&b, bad, bad_len, PASS, strlen(PASS), NULL, 0);
    if (got != want_import) {
        fprintf(stderr, "key file edit '%s'\n", what);
        CHECK_ERR(got, want_import);
    }
    CHECK(b == NULL);
    CHECK_ERR(parley_keyfile_peek(bad, bad_len, NULL, NULL, NULL, 0), want_peek);
    /* Refusals never run an expensive key derivation. */
    CHECK(now_seconds() - t0 < 2.0);
    parley_free(bad, bad_len);
}

static void test_keyfile_hostile(void)
{
    parley_identity *a = fx_identity(0x01), *c = fx_identity(0x03), *b = NULL;
    uint8_t *kf = NULL, *bad, *trunc;
    size_t kf_len, bad_len;
    char got[64];

    CHECK_OK(parley_identity_export(a, "agent amelie", PASS, strlen(PASS), PARLEY__KDF_TEST_ONLY,
                                    &kf, &kf_len));

    /* Authenticated clear parts: changing any is caught by the passphrase check. */
    expect_import(kf, kf_len, edit_label, PARLEY_EPASSPHRASE, PARLEY_OK, "label");
    expect_import(kf, kf_len, edit_sign_key, PARLEY_EPASSPHRASE, PARLEY_OK, "sign key");
    expect_import(kf, kf_len, edit_box_key, PARLEY_EPASSPHRASE, PARLEY_OK, "box key");
    expect_import(kf, kf_len, edit_salt, PARLEY_EPASSPHRASE, PARLEY_OK, "salt");
    expect_import(kf, kf_len, edit_nonce, PARLEY_EPASSPHRASE, PARLEY_OK, "nonce");
    expect_import(kf, kf_len, edit_ciphertext, PARLEY_EPASSPHRASE, PARLEY_OK, "ciphertext");
    /* Cost parameters outside libsodium's range, or absurd ones: refused before hashing. */
    expect_import(kf, kf_len, edit_memlimit_huge, PARLEY_EMALFORMED, PARLEY_EMALFORMED,
                  "memlimit 2^64-1");
    expect_import(kf, kf_len, edit_memlimit_over, PARLEY_EMALFORMED, PARLEY_EMALFORMED,
                  "memlimit over SENSITIVE");
    expect_import(kf, kf_len, edit_memlimit_zero, PARLEY_EMALFORMED, PARLEY_EMALFORMED,
                  "memlimit 0");
    expect_import(kf, kf_len, edit_opslimit_huge, PARLEY_EMALFORMED, PARLEY_EMALFORMED,
                  "opslimit 2^64-1");
    expect_import(kf, kf_len, edit_opslimit_zero, PARLEY_EMALFORMED, PARLEY_EMALFORMED,
                  "opslimit 0");
    expect_import(kf, kf_len, edit_short_salt, PARLEY_EMALFORMED, PARLEY_EMALFORMED, "short salt");
    expect_import(kf, kf_len, edit_no_ciphertext, PARLEY_EMALFORMED, PARLEY_EMALFORMED,
                  "no ciphertext");

    /*
     * A file whose clear public keys are authenticated but are not the keys
     * of the sealed seed (made by someone who knows the passphrase): the
     * seed is checked against them.
     */
    {
        Parley__KeyFile *kf_pb = parley__key_file__unpack(NULL, kf_len, kf);
        uint8_t key[32], ad[18 + 64 + 16], ct[32 + 16];
        size_t ad_len = 0;

        CHECK(kf_pb != NULL);
        memcpy(kf_pb->sign_key.data, c->sign_pk, 32);
        memcpy(kf_pb->box_key.data, c->box_pk, 32);
        CHECK(crypto_pwhash(key, sizeof(key), PASS, strlen(PASS), kf_pb->salt.data, kf_pb->opslimit,
                            (size_t)kf_pb->memlimit, crypto_pwhash_ALG_ARGON2ID13) == 0);
        memcpy(ad, "parley/keyfile/v1", 18);
        ad_len += 18;
        memcpy(ad + ad_len, c->sign_pk, 32);
        memcpy(ad + ad_len + 32, c->box_pk, 32);
        ad_len += 64;
        memcpy(ad + ad_len, "agent amelie", 12);
        ad_len += 12;
        crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, a->secret->sign_sk, 32, ad, ad_len,
                                                   NULL, kf_pb->nonce.data, key);
        memcpy(kf_pb->ciphertext.data, ct, sizeof(ct));
        CHECK_OK(parley__pack(&kf_pb->base, &bad, &bad_len));
        parley__key_file__free_unpacked(kf_pb, NULL);
        b = (parley_identity *)1;
        CHECK_ERR(parley_identity_import(&b, bad, bad_len, PASS, strlen(PASS), NULL, 0),
                  PARLEY_EMALFORMED);
        CHECK(b == NULL);
        sodium_memzero(key, sizeof(key));
        parley_free(bad, bad_len);
    }

    /* Every truncation is refused, by both readers. */
    for (size_t n = 0; n < kf_len; n++) {
        parley_err got_err;

        trunc = malloc(n > 0 ? n : 1);
        CHECK(trunc != NULL);
        memcpy(trunc, kf, n);
        CHECK_NOT_OK(parley_identity_import(&b, trunc, n, PASS, strlen(PASS), NULL, 0), got_err);
        CHECK(got_err == PARLEY_EMALFORMED || got_err == PARLEY_EPASSPHRASE);
        CHECK(b == NULL);
        CHECK_NOT_OK(parley_keyfile_peek(trunc, n, NULL, NULL, NULL, 0), got_err);
        CHECK(got_err == PARLEY_EMALFORMED);
        free(trunc);
    }

    /* Over the size limit; not a key file at all. */
    bad_len = PARLEY_MAX_KEYFILE + 1;
    bad = calloc(1, bad_len);
    CHECK(bad != NULL);
    memcpy(bad, kf, kf_len);
    CHECK_ERR(parley_identity_import(&b, bad, bad_len, PASS, strlen(PASS), NULL, 0),
              PARLEY_ETOOBIG);
    CHECK_ERR(parley_keyfile_peek(bad, bad_len, NULL, NULL, NULL, 0), PARLEY_ETOOBIG);
    memset(bad, 0xff, 100);
    CHECK_ERR(parley_identity_import(&b, bad, 100, PASS, strlen(PASS), NULL, 0), PARLEY_EMALFORMED);
    CHECK_ERR(parley_keyfile_peek(bad, 100, NULL, NULL, got, sizeof(got)), PARLEY_EMALFORMED);
    free(bad);

    parley_free(kf, kf_len);
    parley_identity_free(a);
    parley_identity_free(c);
}

static void test_strerror(void)
{
    for (int i = 0; i < PARLEY_ERR_COUNT_; i++) {
        const char *s = parley_strerror((parley_err)i);

        CHECK(s != NULL && s[0] != '\0');
        CHECK(strcmp(s, "unknown error") != 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(s, parley_strerror((parley_err)j)) != 0);
    }
    CHECK(strcmp(parley_strerror(PARLEY_OK), "success") == 0);
    CHECK(strcmp(parley_strerror(PARLEY_EBADSIG), "bad signature") == 0);
    CHECK(strcmp(parley_strerror(PARLEY_ERR_COUNT_), "unknown error") == 0);
    CHECK(strcmp(parley_strerror((parley_err)1000), "unknown error") == 0);
    CHECK(strcmp(parley_strerror((parley_err)-1), "unknown error") == 0);
}

static void test_null_frees(void)
{
    parley_opened o;

    parley_free(NULL, 0);
    parley_free(NULL, 100);
    parley_identity_free(NULL);
    parley_revlist_free(NULL);
    parley_directory_free(NULL);
    parley_opened_clear(NULL);
    memset(&o, 0, sizeof(o));
    parley_opened_clear(&o);
    parley_opened_clear(&o);
    CHECK(o.text == NULL);
}

/* The Argon2id limits a key file was written with. */
static void keyfile_limits(const uint8_t *kf, size_t len, uint64_t *ops, uint64_t *mem)
{
    Parley__KeyFile *k = parley__key_file__unpack(NULL, len, kf);

    CHECK(k != NULL);
    *ops = k->opslimit;
    *mem = k->memlimit;
    parley__key_file__free_unpacked(k, NULL);
}

/*
 * The test-only cost is no cost of the public API: until a test that links
 * the static core allows it, asking for it (or any unknown cost) gives the
 * interactive cost, which is all the shared library ever does.
 */
static void test_kdf_test_cost_gated(void)
{
    static const parley_kdf_cost unknown[] = {PARLEY__KDF_TEST_ONLY, (parley_kdf_cost)99};
    parley_identity *a = fx_identity(0x01);
    uint8_t *kf = NULL;
    size_t kf_len;
    uint64_t ops, mem;

    for (size_t i = 0; i < 2; i++) {
        CHECK_OK(parley_identity_export(a, "l", PASS, strlen(PASS), unknown[i], &kf, &kf_len));
        keyfile_limits(kf, kf_len, &ops, &mem);
        CHECK(ops == crypto_pwhash_OPSLIMIT_INTERACTIVE &&
              mem == crypto_pwhash_MEMLIMIT_INTERACTIVE);
        parley_free(kf, kf_len);
    }
    parley__kdf_allow_test_cost();
    CHECK_OK(
        parley_identity_export(a, "l", PASS, strlen(PASS), PARLEY__KDF_TEST_ONLY, &kf, &kf_len));
    keyfile_limits(kf, kf_len, &ops, &mem);
    CHECK(ops == crypto_pwhash_OPSLIMIT_MIN && mem == crypto_pwhash_MEMLIMIT_MIN);
    parley_free(kf, kf_len);
    parley_identity_free(a);
}

int main(void)
{
    CHECK_OK(parley_init());
    test_kdf_test_cost_gated(); /* first: it allows the test cost for the rest */
    test_seed_derivation();
    test_sign_verify();
    test_fingerprint_routing();
    test_keyfile_round_trip();
    test_keyfile_hostile();
    test_strerror();
    test_null_frees();
    return 0;
}
