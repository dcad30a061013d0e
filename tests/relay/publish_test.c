/*
 * Publications cannot be turned against the relay or its users: a
 * directory the relay already has is neither stored nor pushed again, a
 * different one under the same version is refused, each connection may
 * publish only so often, and a published revocation ends the revoked
 * agent's live connections at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testkit.h"

#define WATCHERS  30
#define REPUBLISH 40

struct brand_env {
    struct tk_env e;
    struct tk_brand b;
};

static void start(struct brand_env *be, const char *tag, const char *const *extra)
{
    const char *args[16] = {"--brand", NULL};
    size_t n = 2;

    tk_env_init(&be->e, tag);
    tk_brand_make(&be->b, "acme", be->e.dir);
    args[1] = be->b.pin_path;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n + 1 < 16; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    tk_env_start(&be->e, args);
}

static void finish(struct brand_env *be)
{
    tk_brand_free(&be->b);
    tk_env_end(&be->e);
}

/* A notice of n bytes of text, so that the directory is about that large. */
static char *notice_of(size_t n, char fill)
{
    char *t = malloc(n + 1);

    CHECK(t != NULL);
    memset(t, fill, n);
    t[n] = '\0';
    return t;
}

static int directory_logged(const struct relay_proc *r)
{
    const char *needles[] = {"\"event\":\"directory_published\"", NULL};
    return relay_log_count(r, needles);
}

static void test_directory_republish(void)
{
    const char *args[] = {"--publish-rate", "1000", NULL};
    struct brand_env be;
    parley_identity *pub_id = tk_identity(), *watcher_ids[WATCHERS];
    wsc *pub, *watchers[WATCHERS];
    char *notice = notice_of(60000, 'a'), *other = notice_of(60000, 'b');
    uint8_t *v1, *v2, *v2b;
    size_t v1_len, v2_len, v2b_len;
    double frames_before, frames_after;

    start(&be, "republish", args);
    tk_directory(be.b.key, "acme", 1, notice, NULL, 0, &v1, &v1_len);
    tk_directory(be.b.key, "acme", 2, notice, NULL, 0, &v2, &v2_len);
    tk_directory(be.b.key, "acme", 2, other, NULL, 0, &v2b, &v2b_len);
    CHECK(v1_len > 60000 && v1_len < 66000);
    for (int i = 0; i < WATCHERS; i++) {
        Parley__Frame *f;
        watcher_ids[i] = tk_identity();
        watchers[i] = pc_connect(be.e.relay.port, watcher_ids[i], NULL, 0);
        CHECK(watchers[i] != NULL);
        CHECK(pc_send_fetch(watchers[i], "acme") == 0);
        f = tk_expect_kind(watchers[i], PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "fetch");
        parley__frame__free_unpacked(f, NULL);
    }
    pub = pc_connect(be.e.relay.port, pub_id, NULL, 0);
    CHECK(pub != NULL);

    /* The first publication is stored and pushed to every watcher. */
    CHECK(pc_send_publish(pub, v1, v1_len) == 0);
    tk_expect_directory(pub, v1, v1_len, 5000, "publication of v1");
    for (int i = 0; i < WATCHERS; i++)
        tk_expect_directory(watchers[i], v1, v1_len, 5000, "push of v1");

    /* The same bytes again and again: answered, never stored or pushed again. */
    frames_before = relay_metric(&be.e.relay, "parley_frames_out_total");
    for (int k = 0; k < REPUBLISH; k++)
        CHECK(pc_send_publish(pub, v1, v1_len) == 0);
    for (int k = 0; k < REPUBLISH; k++)
        tk_expect_directory(pub, v1, v1_len, 5000, "answer to a re-publication");
    frames_after = relay_metric(&be.e.relay, "parley_frames_out_total");
    printf("   %d re-publications of a %zu-byte directory with %d watchers: %.0f frames sent\n",
           REPUBLISH, v1_len, WATCHERS, frames_after - frames_before);
    CHECKM(frames_after - frames_before == REPUBLISH,
           "re-publications made the relay send %.0f frames, not one answer each",
           frames_after - frames_before);

    /* The same version with other bytes is refused. */
    CHECK(pc_send_publish(pub, v2, v2_len) == 0);
    tk_expect_directory(pub, v2, v2_len, 5000, "publication of v2");
    CHECK(pc_send_publish(pub, v2b, v2b_len) == 0);
    tk_expect_error(pub, PARLEY__ERROR__CODE__CONFLICT, NULL, 5000);
    CHECK(tk_rejects(&be.e.relay, "conflict", 1) >= 1);

    /* Each watcher's next frame is v2: nothing was pushed in between, and the conflict was not. */
    for (int i = 0; i < WATCHERS; i++) {
        tk_expect_directory(watchers[i], v2, v2_len, 5000, "push of v2");
        tk_expect_nothing(watchers[i], i == 0 ? 300 : 0, "no push of a refused directory");
    }
    CHECKM(directory_logged(&be.e.relay) == 2, "%d directories stored, not 2",
           directory_logged(&be.e.relay));
    {
        wsc *late = pc_connect(be.e.relay.port, pub_id, NULL, 0);
        CHECK(late != NULL);
        CHECK(pc_send_fetch(late, "acme") == 0);
        tk_expect_directory(late, v2, v2_len, 5000, "the stored directory");
        wsc_free(late);
    }
    for (int i = 0; i < WATCHERS; i++) {
        wsc_free(watchers[i]);
        parley_identity_free(watcher_ids[i]);
    }
    wsc_free(pub);
    parley_identity_free(pub_id);
    free(v1);
    free(v2);
    free(v2b);
    free(notice);
    free(other);
    finish(&be);
}

/* With the default settings, a connection publishes at most six times a minute. */
static void test_publish_rate(void)
{
    struct brand_env be;
    parley_identity *id = tk_identity();
    uint8_t *v1;
    size_t v1_len;
    wsc *c;

    start(&be, "publishrate", NULL);
    tk_directory(be.b.key, "acme", 1, "notice", NULL, 0, &v1, &v1_len);
    c = pc_connect(be.e.relay.port, id, NULL, 0);
    CHECK(c != NULL);
    CHECK(pc_send_publish(c, v1, v1_len) == 0);
    tk_expect_directory(c, v1, v1_len, 5000, "first publication");
    for (int k = 0; k < 6; k++)
        CHECK(pc_send_publish(c, v1, v1_len) == 0);
    for (int k = 0; k < 5; k++)
        tk_expect_directory(c, v1, v1_len, 5000, "publication within the rate");
    tk_expect_error(c, PARLEY__ERROR__CODE__RATE_LIMITED, NULL, 5000);
    CHECK(tk_rejects(&be.e.relay, "rate_limited", 1) >= 1);
    /* The connection stays usable. */
    tk_roundtrip(c, id);
    wsc_free(c);
    parley_identity_free(id);
    free(v1);
    finish(&be);
}

static wsc *agent_connect(const struct brand_env *be, const parley_identity *id, uint64_t serial,
                          uint8_t **cert, size_t *cert_len)
{
    uint64_t now = tk_now();
    wsc *c;

    tk_cert(be->b.key, "acme", id, serial == 7 ? "alice" : "bob", serial == 7 ? "Alice" : "Bob",
            serial, now - 60, now + 3600, cert, cert_len);
    c = pc_connect(be->e.relay.port, id, *cert, *cert_len);
    CHECKM(c != NULL, "agent with serial %llu refused", (unsigned long long)serial);
    return c;
}

static void test_revoked_agent_closed(void)
{
    struct brand_env be;
    parley_identity *alice = tk_identity(), *bob = tk_identity(), *cust = tk_identity();
    uint8_t *alice_cert, *bob_cert, *revs = NULL, *dir;
    uint8_t to_alice[32], eid[16], sealed[48];
    size_t alice_cert_len, bob_cert_len, revs_len = 0, dir_len;
    uint64_t serials[1] = {7};
    wsc *a, *b, *c;

    start(&be, "revoked", NULL);
    a = agent_connect(&be, alice, 7, &alice_cert, &alice_cert_len);
    b = agent_connect(&be, bob, 8, &bob_cert, &bob_cert_len);
    c = pc_connect(be.e.relay.port, cust, NULL, 0);
    CHECK(c != NULL);
    tk_agent_routing(alice, to_alice);
    tk_random(sealed, sizeof(sealed));

    /* Alice is served while her certificate holds. */
    tk_random(eid, 16);
    tk_send_acked(c, eid, to_alice, sealed, sizeof(sealed));
    tk_expect_deliver(a, eid, sealed, sizeof(sealed), 5000);

    /* The brand revokes her; the customer happens to publish the new directory. */
    CHECK(parley_revlist_build(be.b.key, "acme", 1, serials, 1, tk_now(), &revs, &revs_len) ==
          PARLEY_OK);
    tk_directory(be.b.key, "acme", 1, "notice", revs, revs_len, &dir, &dir_len);
    CHECK(pc_send_publish(c, dir, dir_len) == 0);
    tk_expect_directory(c, dir, dir_len, 5000, "publication");
    tk_expect_error(a, PARLEY__ERROR__CODE__REVOKED, NULL, 5000);
    tk_expect_close(a, 1008, 5000, "revoked agent's live connection");
    CHECK(tk_rejects(&be.e.relay, "revoked", 1) >= 1);

    /* Nothing more reaches her: stored, not delivered; and she cannot come back. */
    tk_random(eid, 16);
    tk_send_acked(c, eid, to_alice, sealed, sizeof(sealed));
    wsc_free(a);
    a = wsc_open(be.e.relay.port);
    CHECK(a != NULL);
    {
        Parley__Frame *f = pc_auth(a, alice, alice_cert, alice_cert_len, 5000);
        CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_ERROR &&
                   f->error->code == PARLEY__ERROR__CODE__REVOKED,
               "the revoked agent authenticated again");
        parley__frame__free_unpacked(f, NULL);
    }

    /* Bob, not revoked, keeps his connection and gets the new directory. */
    tk_expect_directory(b, dir, dir_len, 5000, "push to the other agent");
    {
        uint8_t to_bob[32];
        tk_agent_routing(bob, to_bob);
        tk_random(eid, 16);
        tk_send_acked(c, eid, to_bob, sealed, sizeof(sealed));
        tk_expect_deliver(b, eid, sealed, sizeof(sealed), 5000);
    }
    wsc_free(a);
    wsc_free(b);
    wsc_free(c);
    free(alice_cert);
    free(bob_cert);
    free(dir);
    parley_free(revs, revs_len);
    parley_identity_free(alice);
    parley_identity_free(bob);
    parley_identity_free(cust);
    finish(&be);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"directory_republish", test_directory_republish},
        {"publish_rate", test_publish_rate},
        {"revoked_agent_closed", test_revoked_agent_closed},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
