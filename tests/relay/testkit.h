/*
 * Shared scaffolding of the relay integration tests: named test cases,
 * checks that end the program with a clear message (after ending every
 * relay and showing its log), a per-test environment (temporary directory
 * plus relay), brand and agent fixtures, and expectations on relay frames.
 */
#ifndef PARLEY_TEST_TESTKIT_H
#define PARLEY_TEST_TESTKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relayproc.h"
#include "wsc.h"

/* The relay binary, from argv[1]. */
extern const char *tk_relay_bin;

/* Ends the test program: prints where and why, kills relays, shows their logs. */
void tk_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            tk_fail(__FILE__, __LINE__, #cond, NULL);                                              \
    } while (0)

/* CHECK with an explanation (printf format). */
#define CHECKM(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            tk_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                       \
    } while (0)

struct tk_case {
    const char *name;
    void (*fn)(void);
};

/*
 * Runs the cases in order, printing each name and its result. argv[1] is
 * the relay binary; an optional argv[2] runs only the case of that name.
 */
int tk_main(int argc, char **argv, const struct tk_case *cases, size_t n);

/* A temporary directory and a relay in it. */
struct tk_env {
    char dir[256];
    struct relay_proc relay;
};

/* Creates the directory only (for pin files written before the relay starts). */
void tk_env_init(struct tk_env *e, const char *tag);
/* Starts the relay in e->dir with args (NULL-terminated, may be NULL). */
void tk_env_start(struct tk_env *e, const char *const *args);
/* Stops the relay (bounded) and removes the directory. */
void tk_env_end(struct tk_env *e);

/* Fixtures */
parley_identity *tk_identity(void);
/* A new identity (*id, freed by the caller), connected and authenticated on port; else fails. */
wsc *tk_connect_new(uint16_t port, parley_identity **id);
/* Routing ids: a key without a certificate (a customer), and a certified agent's. */
void tk_routing(const parley_identity *id, uint8_t out[32]);
void tk_agent_routing(const parley_identity *id, uint8_t out[32]);
void tk_random(uint8_t *p, size_t n);
uint64_t tk_now(void);

struct tk_brand {
    parley_identity *key;
    char id[65];
    char pin_path[320];
};

/* A brand key, with its pin file "parley-brand-v1 <id> <hex>" written into dir. */
void tk_brand_make(struct tk_brand *b, const char *id, const char *dir);
void tk_brand_free(struct tk_brand *b);

/*
 * A certificate signed by signer for agent under brand_id, display name
 * name, valid [not_before, not_after). *out freed with free().
 */
void tk_cert(const parley_identity *signer, const char *brand_id, const parley_identity *agent,
             const char *agent_id, const char *name, uint64_t serial, uint64_t not_before,
             uint64_t not_after, uint8_t **out, size_t *out_len);

/*
 * A directory of brand_id signed by signer, with this version and notice
 * (whose length sets the directory's size) and, when revs is not NULL, an
 * encoded revocation list. *out freed with free().
 */
void tk_directory(const parley_identity *signer, const char *brand_id, uint64_t version,
                  const char *notice, const uint8_t *revs, size_t revs_len, uint8_t **out,
                  size_t *out_len);

/*
 * An encoded Prekey for owner's key signed by signer: one-time, or
 * medium-term expiring at expires_at (Unix seconds). *out freed with free().
 */
void tk_prekey(const parley_identity *owner, const parley_identity *signer, uint64_t id,
               bool medium, uint64_t expires_at, uint8_t **out, size_t *out_len);

/* Reads a PrekeyResult for owner: its encoded prekey (malloc'd, *len), or NULL when it has none. */
uint8_t *tk_read_prekey(wsc *c, const parley_identity *owner, size_t *len);

/* Expectations on what the relay sends. Each fails the test otherwise. */
Parley__Frame *tk_expect_kind(wsc *c, Parley__Frame__KindCase kind, int timeout_ms,
                              const char *what);
void tk_expect_ack(wsc *c, const uint8_t envelope_id[16], int timeout_ms);
/* A DirectoryResult carrying exactly the encoded directory want. */
void tk_expect_directory(wsc *c, const uint8_t *want, size_t want_len, int timeout_ms,
                         const char *what);
/* An Error frame with code; if envelope_id is not NULL it must be echoed. */
void tk_expect_error(wsc *c, Parley__Error__Code code, const uint8_t *envelope_id, int timeout_ms);
/* A close frame with code within timeout_ms (other frames are skipped). */
void tk_expect_close(wsc *c, int code, int timeout_ms, const char *what);
/* The next frame is a deliver of envelope_id (sealed bytes compared when sealed is not NULL). */
void tk_expect_deliver(wsc *c, const uint8_t envelope_id[16], const uint8_t *sealed,
                       size_t sealed_len, int timeout_ms);
/* No binary message arrives within ms. */
void tk_expect_nothing(wsc *c, int ms, const char *what);

/* How many times needle occurs in the string hay. */
size_t tk_count(const char *hay, const char *needle);

/*
 * Runs `parley-audit verify ARGS` (the binary from $PARLEY_AUDIT, else
 * beside the relay binary); its output into out (cap bytes), its exit
 * status returned.
 */
int tk_audit_verify(const char *args, char *out, size_t cap);

/* Whether needle occurs in the len bytes at hay (NULL: no). */
bool tk_contains(const char *hay, size_t len, const char *needle);

/*
 * Waits up to timeout_ms until the relay's store holds n envelopes of each
 * sealed bytes: on sqlite, its bytes-stored gauge is n × each; on NATS,
 * its envelope stream holds n messages (the servers' monitor, port in
 * $PARLEY_TEST_STORE_MONITOR). False, with what it found on stderr, if not.
 */
bool tk_stored_until(const struct relay_proc *r, size_t n, size_t each, int timeout_ms);

/* Whether the relay stores in its sqlite database (else in $PARLEY_TEST_STORE). */
bool tk_on_sqlite(const struct relay_proc *r);

/*
 * Whether needle is in the relay's database file or its write-ahead log;
 * on another store ($PARLEY_TEST_STORE), in any file of its servers' data
 * directory ($PARLEY_TEST_STORE_DATA).
 */
bool tk_in_store(const struct relay_proc *r, const char *needle);

/*
 * Sends n envelopes of sealed at once (pipelined) and waits for every ack:
 * envelope i in conversation convs[i] (a random one if convs is NULL), to
 * recipient (a random one each if NULL).
 */
void tk_send_many(wsc *c, size_t n, const uint8_t (*convs)[16], const uint8_t *recipient,
                  const uint8_t *sealed, size_t sealed_len);

/* Sends an envelope and waits for its ack. */
void tk_send_acked(wsc *c, const uint8_t envelope_id[16], const uint8_t recipient[32],
                   const uint8_t *sealed, size_t sealed_len);

/*
 * A well-behaved authenticated connection proves the relay still serves
 * it: sends an envelope to itself, gets the ack and the delivery, and
 * acknowledges it.
 */
void tk_roundtrip(wsc *c, const parley_identity *id);
/* The same for a connection whose routing id is me (an agent's); any other frame fails. */
void tk_roundtrip_to(wsc *c, const uint8_t me[32]);

/* Reads parley_rejects_total{reason="<reason>"} (waiting up to 3 s for it to reach at least min). */
double tk_rejects(const struct relay_proc *r, const char *reason, double min);

/*
 * Reads the metric series until it equals want or timeout_ms pass (the
 * relay updates its counters at its commits); returns the last value read.
 */
double tk_metric_until(const struct relay_proc *r, const char *series, double want,
                       int timeout_ms);

const char *tk_error_name(int code);

#endif
