/*
 * The people every suite talks about: the brand "acme", its agents alice
 * and bob (queue "support") and carol (queue "vip"), their certificates
 * and the brand's directory, made through the public admin calls
 * (parley/admin.h) the way parley-keys makes them. The unit, session,
 * relay and client fixtures build on these, so a change to how a test
 * brand looks is made once. No network and no files except
 * people_write_pin, so the suites without I/O use it in the browser build
 * too. Every helper ends the test on an unexpected failure.
 */
#ifndef PARLEY_TEST_PEOPLE_H
#define PARLEY_TEST_PEOPLE_H

#include <stddef.h>
#include <stdint.h>

#include "parley/admin.h"
#include "parley/parley.h"

#define PEOPLE_BRAND "acme"
#define PEOPLE_NOTICE "Acme keeps this conversation to answer you."

enum { PEOPLE_ALICE, PEOPLE_BOB, PEOPLE_CAROL, PEOPLE_AGENTS };

/* "alice", "bob", "carol" and their display names (UTF-8). */
extern const char *const people_agent_ids[PEOPLE_AGENTS];
extern const char *const people_agent_names[PEOPLE_AGENTS];

/* A certificate by brand for agent, valid [not_before, not_after) (Unix
 * seconds); freed with parley_free(). */
uint8_t *people_cert(const parley_identity *brand, const char *brand_id,
                     const parley_identity *agent, const char *agent_id, const char *name,
                     uint64_t serial, uint64_t not_before, uint64_t not_after, size_t *len);

/* Fresh identities for the three agents and their certificates by brand
 * (brand id acme, serials 100, 101, 102), valid [not_before, not_after). */
void people_agents(const parley_identity *brand, uint64_t not_before, uint64_t not_after,
                   parley_identity *agents[PEOPLE_AGENTS], uint8_t *certs[PEOPLE_AGENTS],
                   size_t cert_lens[PEOPLE_AGENTS]);

/*
 * *spec as acme's directory of this version, issued at issued_at, with
 * these certificates: queue "support" holds the agents named in support
 * (n_support of them), and when n_certs is the three agents' queue "vip"
 * holds carol; notice PEOPLE_NOTICE (version 3). q is the queues' storage,
 * which must outlive *spec. The caller may change any field before
 * parley_directory_build().
 */
void people_directory_spec(parley_directory_spec *spec, parley_queue_spec q[2], uint64_t version,
                           uint64_t issued_at, const uint8_t *const *certs, const size_t *cert_lens,
                           size_t n_certs, const char *const *support, size_t n_support);

/* The purposes of acme's notice: support (required), surveys and
 * marketing (optional), with what the customer is asked. */
void people_purposes(parley_directory_spec *spec);

/* Writes the relay's pin line ("parley-brand-v1 ID KEY") for brand to path. */
void people_write_pin(const char *path, const char *brand_id, const parley_identity *brand);

#endif
