/*
 * The people of the core tests: the brand "acme" with agents alice and
 * bob (queue "support") and carol (queue "vip"), its directory in two
 * versions, and a second brand whose key certifies an impostor. A scene
 * puts a customer, alice and bob on one in-memory relay.
 */
#ifndef PARLEY_TEST_WORLD_H
#define PARLEY_TEST_WORLD_H

#include "memrelay.h"
#include "people.h"

#define W_BRAND PEOPLE_BRAND
#define W_T0 1750000000000ull /* the fake clock starts here (Unix ms) */

enum { W_ALICE = PEOPLE_ALICE, W_BOB = PEOPLE_BOB, W_CAROL = PEOPLE_CAROL, W_AGENTS = PEOPLE_AGENTS };

struct world {
    parley_identity *brand;
    parley_identity *agents[W_AGENTS];
    uint8_t *certs[W_AGENTS];
    size_t cert_lens[W_AGENTS];
    uint8_t *dir_v1, *dir_v2;
    size_t dir_v1_len, dir_v2_len;
    /* Another brand's key, and what it signs: a certificate claiming to be
     * acme's alice for an impostor's keys, and an acme-named directory. */
    parley_identity *other_brand, *impostor;
    uint8_t *impostor_cert;
    size_t impostor_cert_len;
    uint8_t *other_dir;
    size_t other_dir_len;
};

void world_init(struct world *w);
void world_free(struct world *w);
/*
 * A directory of acme with every agent (queue support: alice and bob) in
 * version `version`, issued at W_T0 (or a day before expires_at when that
 * is earlier), valid until expires_at
 * (Unix seconds; 0: the default 30 days). *out freed with parley_free.
 */
void world_directory(const struct world *w, uint64_t version, uint64_t expires_at, uint8_t **out,
                     size_t *out_len);
/* The same, with the default expiry, revoking the certificate of this serial. */
void world_directory_revoking(const struct world *w, uint64_t version, uint64_t serial,
                              uint8_t **out, size_t *out_len);
/*
 * The same, with the default expiry, carrying the brand's policy of
 * *policy: its guard, history_days, legal_hold_days and keep_on_erasure.
 */
void world_directory_policy(const struct world *w, uint64_t version,
                            const parley_directory_spec *policy, uint8_t **out, size_t *out_len);
/* Encoded certificate by `brand` for `agent` (brand id acme), valid around W_T0. */
uint8_t *world_cert(const parley_identity *brand, const parley_identity *agent, const char *id,
                    const char *name, uint64_t serial, size_t *len);

struct scene {
    struct mr_relay relay;
    struct mr_party customer, alice, bob;
    uint8_t conv[16];
};

/* Relay and parties, connected; alice publishes directory v2; the customer has it. */
void scene_init(struct scene *s, const struct world *w);
/* Consent and an Open to "support" with text; both agents hold it QUEUED. */
void scene_open(struct scene *s, const char *text);
/* alice claims; the customer is ACTIVE with alice, bob is told (TAKEN). */
void scene_claim(struct scene *s);
void scene_free(struct scene *s);

/* p reconnects to a relay that serves dir (copied) on every fetch from now on. */
void scene_serve_directory(struct scene *s, struct mr_party *p, const uint8_t *dir, size_t len);

/* Sends text from p in s->conv and runs the relay until it settles. */
void scene_say(struct scene *s, struct mr_party *p, const char *text);

#endif
