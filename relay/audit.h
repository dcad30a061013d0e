/*
 * The relay's audit log: a hash-chained, metadata-only record of what the
 * relay did (connections, authentications, envelopes stored, delivered,
 * acknowledged, expired and erased, directory publications), and the code
 * that verifies such a chain.
 *
 * A log is JSON lines, one entry each:
 *   {"seq":N,"ts":"...","event":"...",<fields>,"prev":"<hex>","hash":"<hex>"}
 * hash = BLAKE2b-256(prev hash bytes || the entry without its "hash"
 * member, i.e. the line up to and including "prev", closed by "}").
 * Entry 1 chains from audit_genesis. The log is cut into segments; each
 * segment file begins with a "segment" entry whose prev (its anchor) is the
 * previous segment's last hash, so what remains after old segments are
 * deleted still verifies.
 *
 * Ids are keyed hashes (16 hex chars) under a key kept in the database;
 * nothing written is content, key material, a name, a raw id or an address.
 */
#ifndef RELAY_AUDIT_H
#define RELAY_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AUDIT_HASH_BYTES 32
#define AUDIT_HEX_BYTES  (2 * AUDIT_HASH_BYTES + 1)
#define AUDIT_LINE_MAX   1024

extern const uint8_t audit_genesis[AUDIT_HASH_BYTES];

/* ------------------------------------------------------------------ */
/* The chain */

/* out = BLAKE2b-256(prev || canon[0..len)). */
void audit_chain_hash(const uint8_t prev[AUDIT_HASH_BYTES], const char *canon, size_t len,
                      uint8_t out[AUDIT_HASH_BYTES]);

/* One entry, as read back from its line. */
struct audit_line {
    uint64_t seq;
    int64_t ts; /* Unix seconds */
    char event[32];
    uint8_t prev[AUDIT_HASH_BYTES];
    uint8_t hash[AUDIT_HASH_BYTES];
};

/*
 * Parses one line (without its newline) written by the relay: the layout,
 * printable ASCII only, lowercase hex. Does not check the hash. 0 or -1.
 */
int audit_line_parse(const char *line, size_t len, struct audit_line *out);
/* Whether the line's hash member is the hash of its canonical bytes under its own prev. */
bool audit_line_hash_ok(const char *line, size_t len, const struct audit_line *l);

/*
 * Verifies the chain across files, taken in the order of their first
 * entry's seq. expect (may be NULL): a hash the chain must reach (a head
 * recorded earlier), which detects entries cut off the end. Prints
 * "OK N entries ..." or "FAIL at entry seq N (line L of FILE): what" to
 * out. Returns 0 (OK), 1 (FAIL) or 2 (a file cannot be read).
 */
int audit_verify(const char *const *paths, size_t n, const uint8_t *expect, FILE *out);

/* ------------------------------------------------------------------ */
/* Recording (loop thread only) */

struct audit;

/*
 * Opens the live segment at path (empty: "<db>.audit"), repairing a torn
 * last line and continuing the chain from the last entry (or from the
 * newest older segment), and starts the sync thread. Segments older than
 * retention seconds are deleted; a new segment starts every segment
 * seconds. key (borrowed, copied) keys the pseudonyms. Returns 0, or -1
 * with a message in err.
 */
int audit_open(struct audit **out, const char *path, const char *db, uint64_t retention,
               uint64_t segment, const uint8_t key[32], char *err, size_t err_cap);

/*
 * Writes the entries recorded since the last call in one write(2), starts
 * a new segment when due. Call once per loop iteration. fdatasync runs on
 * the audit's own thread at most once a second. NULL: no-op.
 */
void audit_flush(struct audit *a);

/* Records "stop", writes and syncs everything, logs the head hash, frees. NULL: no-op. */
void audit_close(struct audit *a);

/* The hash of the last entry recorded, as hex. */
void audit_head(const struct audit *a, uint64_t *seq, char hex[AUDIT_HEX_BYTES]);

/*
 * Events. Every function accepts a NULL audit (no-op). conn is the
 * connection's serial, which restarts at 1 after each "start" entry.
 * Routing ids (32 bytes) and envelope ids (16 bytes) are written only as
 * keyed hashes.
 */
void audit_conn_open(struct audit *a, uint64_t conn, const uint8_t addr[32]);
/* code: the close code sent or received, 0 when the connection just ended. */
void audit_conn_close(struct audit *a, uint64_t conn, unsigned code);
/*
 * failure NULL: authenticated as role ("customer" or "agent"), brand index
 * for agents (-1: none), who = routing id. Otherwise the reason it was
 * refused; role may be NULL when no Auth frame said, who is ignored.
 */
void audit_auth(struct audit *a, uint64_t conn, const char *role, int brand, const uint8_t *who,
                const char *failure);
/* Committed to the store. */
void audit_stored(struct audit *a, const uint8_t envelope_id[16], const uint8_t from[32],
                  const uint8_t to[32], size_t bytes);
void audit_delivered(struct audit *a, uint64_t conn, const uint8_t envelope_id[16]);
/* Deleted after the recipient acknowledged it. */
void audit_acked(struct audit *a, const uint8_t envelope_id[16]);
void audit_expired(struct audit *a, uint64_t envelopes, uint64_t bytes);
/* Everything held for who deleted on an erasure request. */
void audit_erased(struct audit *a, const uint8_t who[32], uint64_t envelopes, uint64_t bytes);
void audit_directory(struct audit *a, uint64_t conn, int brand, uint64_t version);

#endif
