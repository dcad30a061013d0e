/*
 * Brands, agents and directories for the core tests (see world.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "people.h"
#include "world.h"

uint8_t *world_cert(const parley_identity *brand, const parley_identity *agent, const char *id,
                    const char *name, uint64_t serial, size_t *len)
{
    return people_cert(brand, W_BRAND, agent, id, name, serial, W_T0 / 1000u - 86400u,
                       W_T0 / 1000u + 30u * 86400u, len);
}

static void build_directory(const parley_identity *brand, uint64_t version,
                            const uint8_t *const *certs, const size_t *lens, size_t n,
                            const char *const *support, size_t n_support, uint64_t expires_at,
                            const uint8_t *revs, size_t revs_len,
                            const parley_directory_spec *policy, uint8_t **out, size_t *out_len)
{
    parley_queue_spec q[2];
    parley_directory_spec spec;

    people_directory_spec(&spec, q, version, W_T0 / 1000u, certs, lens, n, support, n_support);
    people_purposes(&spec);
    if (expires_at != 0 && expires_at <= spec.issued_at)
        spec.issued_at = expires_at - 86400u; /* one that has lapsed already */
    spec.expires_at = expires_at;
    spec.revocations = revs;
    spec.revocations_len = revs_len;
    if (policy != NULL) {
        spec.keep_on_erasure = policy->keep_on_erasure;
        spec.guard = policy->guard;
        spec.history_days = policy->history_days;
        spec.legal_hold_days = policy->legal_hold_days;
    }
    CHECK_OK(parley_directory_build(brand, &spec, out, out_len));
}

void world_directory(const struct world *w, uint64_t version, uint64_t expires_at, uint8_t **out,
                     size_t *out_len)
{
    static const char *const support[] = {"alice", "bob"};

    build_directory(w->brand, version, (const uint8_t *const *)w->certs, w->cert_lens, W_AGENTS,
                    support, 2, expires_at, NULL, 0, NULL, out, out_len);
}

void world_directory_revoking(const struct world *w, uint64_t version, uint64_t serial,
                              uint8_t **out, size_t *out_len)
{
    static const char *const support[] = {"alice", "bob"};
    uint8_t *revs;
    size_t revs_len;

    CHECK_OK(
        parley_revlist_build(w->brand, W_BRAND, 1, &serial, 1, W_T0 / 1000u, &revs, &revs_len));
    build_directory(w->brand, version, (const uint8_t *const *)w->certs, w->cert_lens, W_AGENTS,
                    support, 2, 0, revs, revs_len, NULL, out, out_len);
    parley_free(revs, revs_len);
}

void world_directory_policy(const struct world *w, uint64_t version,
                            const parley_directory_spec *policy, uint8_t **out, size_t *out_len)
{
    static const char *const support[] = {"alice", "bob"};

    build_directory(w->brand, version, (const uint8_t *const *)w->certs, w->cert_lens, W_AGENTS,
                    support, 2, 0, NULL, 0, policy, out, out_len);
}

void world_init(struct world *w)
{
    static const char *const support[] = {"alice", "bob"};
    static const char *const alice_only[] = {"alice"};
    const uint8_t *certs[W_AGENTS];

    CHECK_OK(parley_init());
    memset(w, 0, sizeof(*w));
    CHECK_OK(parley_identity_generate(&w->brand));
    people_agents(w->brand, W_T0 / 1000u - 86400u, W_T0 / 1000u + 30u * 86400u, w->agents,
                  w->certs, w->cert_lens);
    for (int i = 0; i < W_AGENTS; i++)
        certs[i] = w->certs[i];
    build_directory(w->brand, 1, certs, w->cert_lens, W_AGENTS, support, 2, 0, NULL, 0, NULL, &w->dir_v1,
                    &w->dir_v1_len);
    build_directory(w->brand, 2, certs, w->cert_lens, W_AGENTS, support, 2, 0, NULL, 0, NULL, &w->dir_v2,
                    &w->dir_v2_len);
    CHECK_OK(parley_identity_generate(&w->other_brand));
    CHECK_OK(parley_identity_generate(&w->impostor));
    w->impostor_cert = world_cert(w->other_brand, w->impostor, "alice", "Alice Martin", 100,
                                  &w->impostor_cert_len);
    certs[0] = w->impostor_cert;
    build_directory(w->other_brand, 9, certs, &w->impostor_cert_len, 1, alice_only, 1, 0, NULL, 0, NULL,
                    &w->other_dir, &w->other_dir_len);
}

void world_free(struct world *w)
{
    for (int i = 0; i < W_AGENTS; i++) {
        parley_identity_free(w->agents[i]);
        parley_free(w->certs[i], w->cert_lens[i]);
    }
    parley_identity_free(w->brand);
    parley_free(w->dir_v1, w->dir_v1_len);
    parley_free(w->dir_v2, w->dir_v2_len);
    parley_identity_free(w->other_brand);
    parley_identity_free(w->impostor);
    parley_free(w->impostor_cert, w->impostor_cert_len);
    parley_free(w->other_dir, w->other_dir_len);
    memset(w, 0, sizeof(*w));
}

void scene_init(struct scene *s, const struct world *w)
{
    memset(s, 0, sizeof(*s));
    mr_init(&s->relay, parley_identity_sign_pk(w->brand), W_BRAND, W_T0);
    parley_directory_key(w->brand, s->relay.client_dir_key);
    mr_party_init(&s->alice, &s->relay, "alice", w->agents[W_ALICE], w->certs[W_ALICE],
                  w->cert_lens[W_ALICE], w->dir_v2, w->dir_v2_len);
    mr_party_init(&s->bob, &s->relay, "bob", w->agents[W_BOB], w->certs[W_BOB],
                  w->cert_lens[W_BOB], NULL, 0);
    mr_party_init(&s->customer, &s->relay, "customer", NULL, NULL, 0, NULL, 0);
    mr_connect(&s->alice);
    mr_pump(&s->relay);
    mr_connect(&s->bob);
    mr_connect(&s->customer);
    mr_pump(&s->relay);
    CHECK(parley__core_ready(s->alice.core) && parley__core_ready(s->bob.core) &&
          parley__core_ready(s->customer.core));
    CHECK(mr_count(&s->customer, PARLEY_EV_DIRECTORY) >= 1);
    CHECK(s->relay.dir_version == 2);
    CHECK(s->relay.prekeys_published == 40); /* 20 one-time prekeys each */
}

void scene_open(struct scene *s, const char *text)
{
    CHECK_OK(parley__core_consent(s->customer.core, NULL, 0, s->relay.now));
    CHECK_OK(parley__core_open(s->customer.core, "support", text, s->conv, s->relay.now));
    mr_pump(&s->relay);
    CHECK(mr_state_is(&s->alice, s->conv, PARLEY_CONV_QUEUED));
    CHECK(mr_state_is(&s->bob, s->conv, PARLEY_CONV_QUEUED));
    CHECK(mr_text_count(&s->alice, text) == 1 && mr_text_count(&s->bob, text) == 1);
}

void scene_claim(struct scene *s)
{
    const struct mr_event *e;

    CHECK_OK(parley__core_claim(s->alice.core, s->conv, s->relay.now));
    mr_pump(&s->relay);
    CHECK(mr_state_is(&s->customer, s->conv, PARLEY_CONV_ACTIVE));
    CHECK(mr_state_is(&s->alice, s->conv, PARLEY_CONV_ACTIVE));
    CHECK(mr_state_is(&s->bob, s->conv, PARLEY_CONV_TAKEN));
    e = mr_last(&s->customer, PARLEY_EV_CONVERSATION);
    CHECK(e != NULL && strcmp(e->ev.agent.agent_id, "alice") == 0);
}

void scene_free(struct scene *s)
{
    mr_party_free(&s->customer);
    mr_party_free(&s->alice);
    mr_party_free(&s->bob);
    mr_free(&s->relay);
}

void scene_serve_directory(struct scene *s, struct mr_party *p, const uint8_t *dir, size_t len)
{
    mr_disconnect(p);
    free(s->relay.serve_dir.p);
    s->relay.serve_dir.p = malloc(len);
    CHECK(s->relay.serve_dir.p != NULL);
    memcpy(s->relay.serve_dir.p, dir, len);
    s->relay.serve_dir.n = len;
    mr_connect(p);
    mr_pump(&s->relay);
}

void scene_say(struct scene *s, struct mr_party *p, const char *text)
{
    mr_advance(&s->relay, 1000);
    CHECK_OK(parley__core_send_text(p->core, s->conv, text, NULL, s->relay.now));
    mr_pump(&s->relay);
}
