/*
 * The fixed world every fuzz target and the corpus generator share: the
 * recipient identity envelopes are sealed to, the pinned brand key and id,
 * the agents and the customer who send, the conversation, the clock and
 * the brand's revocation list. All keys come from fixed seeds, so a corpus
 * written once stays valid for every later build of the targets.
 */
#ifndef PARLEY_FUZZ_FIXTURE_H
#define PARLEY_FUZZ_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "internal.h"

#define FIXTURE_BRAND_ID "acme"
#define FIXTURE_NOW 1767225600u /* 2026-01-01T00:00:00Z, Unix seconds */
#define FIXTURE_DAY 86400u
#define FIXTURE_REVLIST_VERSION 3u
#define FIXTURE_PASSPHRASE "fuzz passphrase"

/* Seeds: 31 characters and the NUL, 32 bytes each. */
static const uint8_t fixture_recipient_seed[32] = "parley fuzz seed: recipient 001";
static const uint8_t fixture_brand_seed[32] = "parley fuzz seed: brand acme 01";
static const uint8_t fixture_other_brand_seed[32] = "parley fuzz seed: other brand 1";
static const uint8_t fixture_agent_seed[32] = "parley fuzz seed: agent alice 1";
static const uint8_t fixture_agent2_seed[32] = "parley fuzz seed: agent bob 001";
static const uint8_t fixture_customer_seed[32] = "parley fuzz seed: customer 0001";
static const uint8_t fixture_conversation_id[PARLEY_CONVERSATION_ID_BYTES] =
    "conversation 01";

/* Serials the brand has revoked, in the fixed revocation list. */
static const uint64_t fixture_revoked[] = {7, 9};

struct fixture {
    parley_identity *recipient; /* envelopes in the corpora are sealed to it */
    parley_identity *brand;     /* its public key is the pinned brand key */
    parley_revlist *revs;       /* fixed list: version 3, serials 7 and 9 */
    parley_trust trust;         /* brand key, brand id, FIXTURE_NOW, revs */
};

/* Aborts: a fixture that cannot be built makes every result meaningless. */
static inline void fixture_check(parley_err err, const char *what)
{
    if (err != PARLEY_OK) {
        fprintf(stderr, "fuzz fixture: %s: %s\n", what, parley_strerror(err));
        abort();
    }
}

static inline parley_identity *fixture_identity(const uint8_t seed[32])
{
    parley_identity *id = NULL;

    fixture_check(parley_identity_from_seed(&id, seed), "identity");
    return id;
}

/*
 * Builds the fixture once per process and returns it; later calls return
 * the same object. Never freed: it lives as long as the fuzzing process.
 */
static inline const struct fixture *fixture_get(void)
{
    static struct fixture f;
    static int ready;
    uint8_t *rl = NULL;
    size_t rl_len = 0;

    if (ready)
        return &f;
    fixture_check(parley_init(), "init");
    f.recipient = fixture_identity(fixture_recipient_seed);
    f.brand = fixture_identity(fixture_brand_seed);
    fixture_check(parley_revlist_build(f.brand, FIXTURE_BRAND_ID, FIXTURE_REVLIST_VERSION,
                                       fixture_revoked,
                                       sizeof(fixture_revoked) / sizeof(fixture_revoked[0]),
                                       FIXTURE_NOW - FIXTURE_DAY, &rl, &rl_len),
                  "revlist build");
    fixture_check(parley_revlist_open(&f.revs, rl, rl_len, parley_identity_sign_pk(f.brand),
                                      FIXTURE_BRAND_ID, 0),
                  "revlist open");
    parley_free(rl, rl_len);
    f.trust.brand_pk = parley_identity_sign_pk(f.brand);
    f.trust.brand_id = FIXTURE_BRAND_ID;
    f.trust.now = FIXTURE_NOW;
    f.trust.revs = f.revs;
    f.trust.require_agent = 0;
    ready = 1;
    return &f;
}

#endif
