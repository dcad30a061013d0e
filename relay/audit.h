/*
 * The relay's audit log: a hash-chained, metadata-only record of what the
 * relay did (connections, authentications, envelopes stored, delivered,
 * acknowledged, expired and erased, directory publications), and the code
 * that verifies such a chain.
 *
 * A log is JSON lines, one entry each, cut into batches (the entries the
 * relay wrote in one turn of its loop, at most AUDIT_BATCH_MAX bytes).
 * The last entry of a batch carries the batch's hash:
 *   {"seq":N,"ts":"...","event":"...",<fields>}                    (inside a batch)
 *   {"seq":N,"ts":"...","event":"...",<fields>,"prev":"<hex>","hash":"<hex>"}  (its last)
 * hash = BLAKE2b-256(prev hash bytes || the batch's lines, each but the
 * last followed by its newline, the last without its "hash" member, i.e.
 * up to and including "prev", closed by "}"). prev is the hash of the
 * batch before. A batch of one entry is hashed exactly as every entry was
 * before batches, so logs written one hash per entry still verify.
 * Entry 1 chains from audit_genesis. The log is cut into segments; each
 * segment file begins with a "segment" entry, a batch of its own, whose
 * prev (its anchor) is the previous segment's last hash, so what remains
 * after old segments are deleted still verifies.
 *
 * Nothing is lost silently: entries about store changes are committed
 * with the change (audit_export), and entries lost in a crash while the
 * file refused writes are counted by a "gap" entry at the next start.
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
/* A batch is sealed once its lines reach this many bytes (one more line may end it). */
#define AUDIT_BATCH_MAX (64u << 10)

extern const uint8_t audit_genesis[AUDIT_HASH_BYTES];

/* ------------------------------------------------------------------ */
/* The chain */

/* out = BLAKE2b-256(prev || canon[0..len)): a batch's hash, canon its canonical bytes. */
void audit_chain_hash(const uint8_t prev[AUDIT_HASH_BYTES], const char *canon, size_t len,
                      uint8_t out[AUDIT_HASH_BYTES]);

/* One entry, as read back from its line. */
struct audit_line {
    uint64_t seq;
    int64_t ts; /* Unix seconds */
    char event[32];
    bool sealed;   /* the last of its batch: prev and hash are set */
    size_t fields; /* where its members end: the offset of the tail ("prev", or the last brace) */
    uint8_t prev[AUDIT_HASH_BYTES];
    uint8_t hash[AUDIT_HASH_BYTES];
};

/*
 * Parses one line (without its newline) written by the relay: the layout,
 * printable ASCII only, lowercase hex. Does not check the hash. 0 or -1.
 * audit_line_parse takes only the last entry of a batch (sealed);
 * audit_entry_parse takes any entry.
 */
int audit_line_parse(const char *line, size_t len, struct audit_line *out);
int audit_entry_parse(const char *line, size_t len, struct audit_line *out);
/*
 * Whether the hash member of l, the batch's last line, is the hash of the
 * batch under l's own prev. text: the batch's lines joined by their
 * newlines, from its first line to the end of l (without its newline);
 * a batch of one entry is that line alone.
 */
bool audit_line_hash_ok(const char *text, size_t len, const struct audit_line *l);

/*
 * Verifies the chain across files, taken in the order of their first
 * entry's seq. expect (may be NULL): a hash the chain must reach (a head
 * recorded earlier), which detects entries cut off the end. Prints
 * "OK N entries ...", "INCOMPLETE N entries ...: G recorded gaps, E
 * entries lost" (the chain is intact but the relay recorded entries it
 * lost, each then named on a "GAP at entry seq N ..." line) or "FAIL at
 * entry seq N (line L of FILE): what" to out. Returns 0 (OK), 1 (FAIL),
 * 2 (a file cannot be read) or 3 (INCOMPLETE).
 */
int audit_verify(const char *const *paths, size_t n, const uint8_t *expect, FILE *out);

/* ------------------------------------------------------------------ */
/* Recording (loop thread only, unless said otherwise) */

struct audit;

/*
 * Opens the live segment at path (empty: "<db>.audit"), repairing a torn
 * last line and continuing the chain from the last entry (or from the
 * newest older segment), and starts the sync thread. If the relay died
 * holding entries it could not write (its held record), a gap entry
 * records what was lost. Segments older than retention seconds are
 * deleted; a new segment starts every segment seconds. key (borrowed,
 * copied) keys the pseudonyms. Returns 0, or -1 with a message in err.
 */
int audit_open(struct audit **out, const char *path, const char *db, uint64_t retention,
               uint64_t segment, const uint8_t key[32], char *err, size_t err_cap);

/*
 * Writes the entries recorded since the last call in one write(2), starts
 * a new segment when due. Call once per loop iteration. fdatasync runs on
 * the audit's own thread at most once a second. A file that refused a
 * write is tried again 100 ms later (at once after audit_retry_now);
 * meanwhile entries stay in memory, up to 8 MiB, and the held record
 * says what a crash would lose. NULL: no-op.
 */
void audit_flush(struct audit *a);
/* The disk took a write elsewhere (the store committed): try the file at the next flush. */
void audit_retry_now(struct audit *a);

/* Records "stop", writes and syncs everything, logs the head hash, frees. NULL: no-op. */
void audit_close(struct audit *a);

/* The last entry whose batch is sealed (written, or about to be), and its batch's hash as hex. */
void audit_head(const struct audit *a, uint64_t *seq, char hex[AUDIT_HEX_BYTES]);

struct audit_status {
    bool failing;     /* the file refused the last write */
    int error;        /* its errno */
    int64_t since_ms; /* Unix ms of the first refusal */
    uint64_t held;    /* entries in memory, not yet in the file */
    uint64_t lost;    /* entries recorded as lost (gap entries) since start */
};
void audit_status(const struct audit *a, struct audit_status *st);

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
void audit_delivered(struct audit *a, uint64_t conn, const uint8_t envelope_id[16]);

/* ------------------------------------------------------------------ */
/* Entries that record store changes */

/*
 * An entry about a change to the store is made durable by the store
 * itself: its body ("ts":...,"event":...,fields: the entry without seq,
 * prev and hash) is written to the store's outbox in the transaction that
 * makes the change, and chained into the log from there (audit_export)
 * once committed. So the entry exists exactly when the change does, and
 * a crash, or a log file that refuses writes, cannot lose it.
 *
 * The body builders run on the store's writer thread: they read only the
 * pseudonym key, fixed at audit_open. Each writes at most cap bytes to
 * out and returns the length, or 0 if it does not fit.
 */
#define AUDIT_BODY_MAX 512
/* An envelope committed to the store. */
size_t audit_body_stored(const struct audit *a, char *out, size_t cap,
                         const uint8_t envelope_id[16], const uint8_t from[32],
                         const uint8_t to[32], size_t bytes);
/* Deleted after the recipient acknowledged it. */
size_t audit_body_acked(const struct audit *a, char *out, size_t cap,
                        const uint8_t envelope_id[16]);
size_t audit_body_expired(const struct audit *a, char *out, size_t cap, uint64_t envelopes,
                          uint64_t bytes);
/* Everything held for who deleted on an erasure request. */
size_t audit_body_erased(const struct audit *a, char *out, size_t cap, const uint8_t who[32],
                         uint64_t envelopes, uint64_t bytes);
size_t audit_body_directory(const struct audit *a, char *out, size_t cap, uint64_t conn, int brand,
                            uint64_t version);
/* A brand order stored: its id (hex, not personal), kind, brand and the customer's pseudonym. */
size_t audit_body_order(const struct audit *a, char *out, size_t cap, uint64_t conn, int brand,
                        const uint8_t order_id[16], const char *kind, const uint8_t who[32]);

/*
 * A place in the store's outbox. Each row holds the entries of one
 * committed batch, in order; idx counts them from 0. seq is the log entry
 * that the entry at (row, idx) became (0 when not known). Row 0: none.
 */
struct audit_pos {
    uint64_t row;
    uint32_t idx;
    uint64_t seq;
};

/*
 * Chains the body of entry idx of outbox row `row`; entries must come in
 * outbox order, and those at or before the last one chained are skipped
 * (returns 0). Returns 0; 1 when the entries waiting for the file already
 * fill the memory limit (offer it again later); -1 when body is not an
 * entry about a store change (it is skipped, and logged). trusted: the
 * body was just built by this relay, not read back.
 */
int audit_export(struct audit *a, uint64_t row, uint32_t idx, const char *body, size_t len,
                 bool trusted);
/* The last entry chained. */
struct audit_pos audit_exported(const struct audit *a);
/* The last entry chained and known synced to disk. */
struct audit_pos audit_synced(struct audit *a);
/* At start: the outbox's entries up to pos are in the log already. */
void audit_set_exported(struct audit *a, struct audit_pos pos);
/*
 * At start: how many entries about store changes the log holds after
 * after_seq (*n), and the seq of the last of them (*last). Reads back
 * from the end of the live file through the closed segments. 0 or -1.
 */
int audit_count_store_entries(struct audit *a, uint64_t after_seq, uint64_t *n, uint64_t *last);
/*
 * This log's node id, the same across restarts: read from .<base>.node
 * beside the log, made and kept there the first time. 0, or -1 with a
 * message in err.
 */
int audit_node_id(struct audit *a, uint8_t out[16], char *err, size_t cap);
/* Writes everything recorded and syncs it now (clean stop). */
void audit_sync_now(struct audit *a);

#endif
