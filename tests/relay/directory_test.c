/*
 * Brand directories and agents' one-time prekeys through the relay: a
 * published directory is verified against the pinned brand key, stored,
 * served back byte for byte and never rolled back; prekeys come only from
 * agents, signed by themselves, and each is handed out once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testkit.h"

/* Checks that a DirectoryResult carries exactly the encoded directory want (or none). */
static void check_result(Parley__Frame *f, const char *brand_id, const uint8_t *want,
                         size_t want_len, const char *what)
{
    Parley__DirectoryResult *r = f->directory_result;

    CHECKM(r->brand_id != NULL && strcmp(r->brand_id, brand_id) == 0,
           "%s: result names another brand", what);
    if (want == NULL) {
        CHECKM(r->directory == NULL, "%s: a directory where none exists", what);
        return;
    }
    CHECKM(r->directory != NULL, "%s: no directory", what);
    {
        size_t n = parley__directory__get_packed_size(r->directory);
        uint8_t *got = malloc(n);
        CHECK(got != NULL);
        parley__directory__pack(r->directory, got);
        CHECKM(n == want_len && memcmp(got, want, n) == 0,
               "%s: directory differs from what was published", what);
        free(got);
    }
}

static Parley__Frame *fetch(wsc *c, const char *brand_id)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryFetch df = PARLEY__DIRECTORY_FETCH__INIT;

    df.brand_id = (char *)brand_id;
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_FETCH;
    f.directory_fetch = &df;
    CHECK(pc_send(c, &f) == 0);
    return tk_expect_kind(c, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "directory fetch");
}

static void test_directory(void)
{
    struct tk_env e;
    struct tk_brand acme, globex;
    parley_identity *customer = tk_identity(), *rogue = tk_identity();
    uint8_t *v1, *v2, *v3, *forged, *foreign;
    size_t v1_len, v2_len, v3_len, forged_len, foreign_len;
    Parley__Frame *f;
    wsc *c;

    tk_env_init(&e, "directory");
    tk_brand_make(&acme, "acme", e.dir);
    tk_brand_make(&globex, "globex", e.dir);
    {
        const char *args[] = {"--brand", acme.pin_path, NULL};
        tk_env_start(&e, args);
    }
    tk_directory(acme.key, "acme", 1, "notice one", NULL, 0, &v1, &v1_len);
    tk_directory(acme.key, "acme", 2, "notice two", NULL, 0, &v2, &v2_len);
    tk_directory(acme.key, "acme", 3, "notice three", NULL, 0, &v3, &v3_len);
    tk_directory(rogue, "acme", 4, "notice by someone else", NULL, 0, &forged, &forged_len);
    tk_directory(globex.key, "globex", 1, "another brand", NULL, 0, &foreign, &foreign_len);
    c = pc_connect(e.relay.port, customer, NULL, 0);
    CHECK(c != NULL);

    f = fetch(c, "acme");
    check_result(f, "acme", NULL, 0, "fetch before any publish");
    parley__frame__free_unpacked(f, NULL);

    CHECK(pc_send_publish(c, v2, v2_len) == 0);
    f = tk_expect_kind(c, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "publish v2");
    check_result(f, "acme", v2, v2_len, "publish echo");
    parley__frame__free_unpacked(f, NULL);
    f = fetch(c, "acme");
    check_result(f, "acme", v2, v2_len, "fetch after publish");
    parley__frame__free_unpacked(f, NULL);

    /* Older version: refused, the stored one stays. */
    CHECK(pc_send_publish(c, v1, v1_len) == 0);
    tk_expect_error(c, PARLEY__ERROR__CODE__ROLLBACK, NULL, 5000);
    CHECK(tk_rejects(&e.relay, "rollback", 1) >= 1);

    /* A flipped signature bit, and a valid signature by a key that is not the brand's. */
    {
        Parley__Directory *d = parley__directory__unpack(NULL, v3_len, v3);
        Parley__Frame pf = PARLEY__FRAME__INIT;
        Parley__DirectoryPublish p = PARLEY__DIRECTORY_PUBLISH__INIT;
        CHECK(d != NULL && d->signature.len == 64);
        d->signature.data[0] ^= 0x80;
        p.directory = d;
        pf.kind_case = PARLEY__FRAME__KIND_DIRECTORY_PUBLISH;
        pf.directory_publish = &p;
        CHECK(pc_send(c, &pf) == 0);
        parley__directory__free_unpacked(d, NULL);
    }
    tk_expect_error(c, PARLEY__ERROR__CODE__BAD_SIGNATURE, NULL, 5000);
    CHECK(pc_send_publish(c, forged, forged_len) == 0);
    tk_expect_error(c, PARLEY__ERROR__CODE__BAD_SIGNATURE, NULL, 5000);
    CHECK(tk_rejects(&e.relay, "bad_signature", 2) >= 2);

    /* A brand this relay does not serve. */
    CHECK(pc_send_publish(c, foreign, foreign_len) == 0);
    tk_expect_error(c, PARLEY__ERROR__CODE__UNKNOWN_BRAND, NULL, 5000);
    f = fetch(c, "globex");
    check_result(f, "globex", NULL, 0, "fetch of a brand not served");
    parley__frame__free_unpacked(f, NULL);

    f = fetch(c, "acme");
    check_result(f, "acme", v2, v2_len, "fetch after refused publishes");
    parley__frame__free_unpacked(f, NULL);
    wsc_free(c);

    /* Durable, and the version floor survives a restart. */
    CHECK(relay_stop(&e.relay, 15000) == 0);
    {
        const char *args[] = {"--brand", acme.pin_path, NULL};
        tk_env_start(&e, args);
    }
    c = pc_connect(e.relay.port, customer, NULL, 0);
    CHECK(c != NULL);
    f = fetch(c, "acme");
    check_result(f, "acme", v2, v2_len, "fetch after restart");
    parley__frame__free_unpacked(f, NULL);
    CHECK(pc_send_publish(c, v1, v1_len) == 0);
    tk_expect_error(c, PARLEY__ERROR__CODE__ROLLBACK, NULL, 5000);
    CHECK(pc_send_publish(c, v3, v3_len) == 0);
    f = tk_expect_kind(c, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "publish v3");
    check_result(f, "acme", v3, v3_len, "publish v3 echo");
    parley__frame__free_unpacked(f, NULL);
    wsc_free(c);

    free(v1);
    free(v2);
    free(v3);
    free(forged);
    free(foreign);
    parley_identity_free(customer);
    parley_identity_free(rogue);
    tk_brand_free(&acme);
    tk_brand_free(&globex);
    tk_env_end(&e);
}

/*
 * A directory whose brand-signed expiry has passed is refused (EXPIRED) and
 * not stored: the relay keeps serving the last one it accepted, which
 * clients refuse in their turn once it lapses.
 */
static void test_expired_directory(void)
{
    struct tk_env e;
    struct tk_brand acme;
    parley_identity *customer = tk_identity();
    parley_directory_spec spec;
    uint8_t *v1, *lapsed = NULL;
    size_t v1_len, lapsed_len = 0;
    Parley__Frame *f;
    wsc *c;

    tk_env_init(&e, "directory");
    tk_brand_make(&acme, "acme", e.dir);
    {
        const char *args[] = {"--brand", acme.pin_path, NULL};
        tk_env_start(&e, args);
    }
    tk_directory(acme.key, "acme", 1, "notice one", NULL, 0, &v1, &v1_len);
    memset(&spec, 0, sizeof(spec));
    spec.brand_id = "acme";
    spec.version = 2;
    spec.notice_text = "notice two";
    spec.notice_version = 2;
    spec.issued_at = tk_now() - 2 * 86400;
    spec.expires_at = tk_now() - 60;
    CHECK(parley_directory_build(acme.key, &spec, &lapsed, &lapsed_len) == PARLEY_OK);
    c = pc_connect(e.relay.port, customer, NULL, 0);
    CHECK(c != NULL);
    CHECK(pc_send_publish(c, v1, v1_len) == 0);
    parley__frame__free_unpacked(
        tk_expect_kind(c, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "publish v1"), NULL);
    CHECK(pc_send_publish(c, lapsed, lapsed_len) == 0);
    tk_expect_error(c, PARLEY__ERROR__CODE__EXPIRED, NULL, 5000);
    CHECK(tk_rejects(&e.relay, "expired", 1) >= 1);
    f = fetch(c, "acme");
    check_result(f, "acme", v1, v1_len, "fetch after an expired publish");
    parley__frame__free_unpacked(f, NULL);
    wsc_free(c);
    free(v1);
    parley_free(lapsed, lapsed_len);
    parley_identity_free(customer);
    tk_brand_free(&acme);
    tk_env_end(&e);
}

static void make_prekey(const parley_identity *owner, const parley_identity *signer, uint64_t id,
                        uint8_t **out, size_t *out_len)
{
    tk_prekey(owner, signer, id, false, 0, out, out_len);
}

static int publish_prekeys(wsc *c, uint8_t *const *keys, const size_t *lens, size_t n)
{
    return pc_send_prekeys(c, keys, lens, n, false);
}

static void send_prekey_fetch(wsc *c, const parley_identity *owner)
{
    CHECK(pc_send_prekey_fetch(c, parley_identity_sign_pk(owner)) == 0);
}

/* Reads a PrekeyResult; returns 1 if it carried exactly want, 0 if empty. */
static int read_prekey_result(wsc *c, const parley_identity *owner, const uint8_t *want,
                              size_t want_len)
{
    size_t n = 0;
    uint8_t *got = tk_read_prekey(c, owner, &n);

    if (got == NULL)
        return 0;
    CHECKM(want != NULL && n == want_len && memcmp(got, want, n) == 0,
           "prekey handed out differs from the one published");
    free(got);
    return 1;
}

static void test_prekeys(void)
{
    struct tk_env e;
    struct tk_brand b;
    parley_identity *agent = tk_identity(), *customer = tk_identity(), *other = tk_identity();
    uint8_t *cert, *pk[3], *bad[2];
    size_t cert_len, pk_len[3], bad_len[2];
    Parley__Frame *f;
    wsc *a, *c;
    int handed;

    tk_env_init(&e, "prekeys");
    tk_brand_make(&b, "acme", e.dir);
    {
        const char *args[] = {"--brand", b.pin_path, NULL};
        tk_env_start(&e, args);
    }
    tk_cert(b.key, "acme", agent, "alice", "Alice", 1, tk_now() - 60, tk_now() + 3600, &cert,
            &cert_len);
    a = pc_connect(e.relay.port, agent, cert, cert_len);
    c = pc_connect(e.relay.port, customer, NULL, 0);
    CHECK(a != NULL && c != NULL);
    for (int i = 0; i < 3; i++)
        make_prekey(agent, agent, (uint64_t)i + 1, &pk[i], &pk_len[i]);

    /* None yet. */
    send_prekey_fetch(c, agent);
    CHECK(read_prekey_result(c, agent, NULL, 0) == 0);

    /* An agent publishes one: acknowledged with an empty envelope id. */
    CHECK(publish_prekeys(a, &pk[0], &pk_len[0], 1) == 0);
    f = tk_expect_kind(a, PARLEY__FRAME__KIND_ACK, 5000, "prekey publish");
    CHECKM(f->ack->envelope_id.len == 0, "prekey ack carries an envelope id");
    parley__frame__free_unpacked(f, NULL);

    /* One-time: the first fetch gets it, the second gets none. */
    send_prekey_fetch(c, agent);
    CHECK(read_prekey_result(c, agent, pk[0], pk_len[0]) == 1);
    send_prekey_fetch(c, agent);
    CHECKM(read_prekey_result(c, agent, NULL, 0) == 0, "a one-time prekey was handed out twice");

    /* Two published, three fetches in one burst: each handed out once, then none. */
    CHECK(publish_prekeys(a, &pk[1], &pk_len[1], 2) == 0);
    f = tk_expect_kind(a, PARLEY__FRAME__KIND_ACK, 5000, "prekey publish");
    parley__frame__free_unpacked(f, NULL);
    send_prekey_fetch(c, agent);
    send_prekey_fetch(c, agent);
    send_prekey_fetch(c, agent);
    handed = 0;
    for (int i = 0; i < 3; i++) {
        Parley__Frame *r = tk_expect_kind(c, PARLEY__FRAME__KIND_PREKEY_RESULT, 5000, "fetch");
        if (r->prekey_result->prekey != NULL) {
            size_t n = parley__prekey__get_packed_size(r->prekey_result->prekey);
            uint8_t *buf = malloc(n);
            CHECK(buf != NULL);
            parley__prekey__pack(r->prekey_result->prekey, buf);
            CHECKM((n == pk_len[1] && memcmp(buf, pk[1], n) == 0 && !(handed & 1)) ||
                       (n == pk_len[2] && memcmp(buf, pk[2], n) == 0 && !(handed & 2)),
                   "a prekey handed out twice or altered");
            handed |= n == pk_len[1] && memcmp(buf, pk[1], n) == 0 ? 1 : 2;
            free(buf);
        }
        parley__frame__free_unpacked(r, NULL);
    }
    CHECKM(handed == 3, "burst of fetches did not hand out both prekeys exactly once");
    sleep_ms(200);
    send_prekey_fetch(c, agent);
    CHECK(read_prekey_result(c, agent, NULL, 0) == 0);

    /* Customers may not publish prekeys. */
    make_prekey(customer, customer, 9, &bad[0], &bad_len[0]);
    CHECK(publish_prekeys(c, &bad[0], &bad_len[0], 1) == 0);
    tk_expect_error(c, PARLEY__ERROR__CODE__NOT_ALLOWED, NULL, 5000);
    CHECK(tk_rejects(&e.relay, "not_allowed", 1) >= 1);

    /* An agent's prekey signed by another key; one claiming another owner. */
    make_prekey(agent, other, 10, &bad[1], &bad_len[1]);
    CHECK(publish_prekeys(a, &bad[1], &bad_len[1], 1) == 0);
    tk_expect_error(a, PARLEY__ERROR__CODE__BAD_SIGNATURE, NULL, 5000);
    free(bad[1]);
    make_prekey(other, agent, 11, &bad[1], &bad_len[1]);
    CHECK(publish_prekeys(a, &bad[1], &bad_len[1], 1) == 0);
    f = tk_expect_kind(a, PARLEY__FRAME__KIND_ERROR, 5000, "prekey for another owner");
    CHECKM(f->error->code == PARLEY__ERROR__CODE__BAD_SIGNATURE ||
               f->error->code == PARLEY__ERROR__CODE__NOT_ALLOWED,
           "prekey for another owner: %s", tk_error_name(f->error->code));
    parley__frame__free_unpacked(f, NULL);
    send_prekey_fetch(c, agent);
    CHECKM(read_prekey_result(c, agent, NULL, 0) == 0, "a refused prekey was stored");
    send_prekey_fetch(c, other);
    CHECKM(read_prekey_result(c, other, NULL, 0) == 0, "a prekey was stored for another owner");

    wsc_free(a);
    wsc_free(c);
    for (int i = 0; i < 3; i++)
        free(pk[i]);
    free(bad[0]);
    free(bad[1]);
    free(cert);
    parley_identity_free(agent);
    parley_identity_free(customer);
    parley_identity_free(other);
    tk_brand_free(&b);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"directory_publish_fetch", test_directory},
        {"expired_directory_refused", test_expired_directory},
        {"prekeys", test_prekeys},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
