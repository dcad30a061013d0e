/*
 * The relay's durable store: envelopes (ciphertext and routing data only),
 * brand directories and agents' prekeys, in sqlite with WAL.
 *
 * Writes go through one writer thread in batches: the event loop hands over
 * everything that arrived in a loop iteration, the writer commits it in one
 * transaction with one sync, and hands the batch back with results. Reads
 * use a second connection on the loop thread.
 *
 * The audit log's entries about store changes are written by the writer
 * in the transaction that makes each change (the outbox, store_set_audit)
 * and read back by the loop, so an entry exists exactly when its change
 * does. A batch that fails says why (sqlite's code, errno and message).
 */
#ifndef RELAY_STORE_H
#define RELAY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_env {
    uint64_t seq;                 /* relay-wide order, assigned on arrival */
    uint8_t envelope_id[16];
    uint8_t conversation_id[16];
    uint8_t recipient[32];
    uint8_t *sealed;              /* owned by whoever holds the struct */
    size_t sealed_len;
    uint64_t stored_at;           /* Unix seconds */
};

enum store_op_kind {
    STORE_INSERT,       /* env -> inserted (0 when the envelope id was already stored) */
    STORE_DELETE,       /* env.recipient + env.envelope_id -> deleted, freed, expired list */
    STORE_EXPIRE,       /* cutoff -> expired list */
    STORE_DIRECTORY,    /* brand_id, version, blob */
    STORE_PREKEY_ADD,   /* env.recipient = owner routing id, blob = encoded prekey */
    STORE_PREKEY_DEL,   /* prekey_id */
    STORE_PREKEY_CLEAR, /* env.recipient = owner routing id: all of its prekeys, medium-term too */
    STORE_PREKEY_MEDIUM,/* env.recipient = owner, blob = encoded prekey, version = its creation
                           time, cutoff = its expiry: kept unless a newer one is stored */
    STORE_ERASE_STEP,   /* env.recipient: envelopes to or from it, and of the conversations
                           in blob (16 bytes each), seq <= cutoff, from unit on, at most limit
                           rows -> expired list, unit */
    STORE_BARRIER,      /* no work: answered once the batch holding it is committed */
    STORE_PROBE,        /* cutoff = Unix ms: a small write, to learn if the disk takes writes */
    STORE_AUDIT_DONE    /* the synced audit log holds the outbox up to entry audit_off of row
                           cutoff, which became its entry seq version: rows before cutoff are
                           deleted (cutoff stays, so new ids keep growing from it), and the
                           position is kept for the next start */
};

struct store_expired {            /* an envelope removed */
    uint8_t recipient[32];
    uint8_t sender[32];               /* all zeros when not recorded (databases of 0.1) */
    uint64_t bytes;
};

struct store_op {
    enum store_op_kind kind;
    uint64_t conn_serial;         /* who to answer; 0 for none */
    uint8_t reply_to[32];         /* routing id of the connection to answer */
    uint64_t submitted_ns;        /* CLOCK_MONOTONIC at arrival */
    struct store_env env;
    uint64_t cutoff;              /* STORE_EXPIRE: time; STORE_ERASE_STEP: highest seq */
    uint32_t unit, limit;         /* STORE_ERASE_STEP: where to go on; rows at most */
    bool checkpoint;              /* STORE_ERASE_STEP: truncate the WAL after the commit */
    uint64_t done_count, done_bytes;/* STORE_ERASE_STEP: what the job's earlier steps deleted */
    char brand_id[65];            /* STORE_DIRECTORY */
    uint64_t version;
    uint8_t *blob;                /* STORE_DIRECTORY, STORE_PREKEY_ADD; owned */
    size_t blob_len;
    int64_t prekey_id;
    /* Results, filled by the writer. */
    bool ok;                      /* the transaction committed */
    bool inserted;
    uint64_t freed;               /* bytes of sealed data removed */
    uint32_t deleted;
    struct store_expired *expired;/* STORE_EXPIRE: malloc'd */
    size_t n_expired;
    uint64_t audit_row;           /* the outbox row holding its audit entry (0: none), and the */
    uint32_t audit_off, audit_len;/* entry's body in the batch's audit text */
};

struct store_batch {
    struct store_op *ops;
    size_t n, cap;
    /* Results, filled by the writer. */
    int err;                      /* 0, or sqlite's extended result code of the failure */
    int sys_err;                  /* errno behind it, when sqlite knows one (0 otherwise) */
    char errmsg[128];             /* sqlite's message */
    bool wrote;                   /* committed, and something reached the database */
    char *audit;                  /* the ops' audit entries, one body a line: the outbox row */
    size_t audit_len, audit_cap;
};

/*
 * Called on the writer thread for each op once it has run, inside its
 * transaction: writes to out (cap bytes) the body of the audit entry that
 * records the op's change, one line without its newline, and returns its
 * length; 0 for none. A batch's bodies go into the outbox as one row (a
 * line each), in the same transaction.
 */
typedef size_t (*store_audit_fn)(void *arg, const struct store_op *op, char *out, size_t cap);

/* Called on the writer thread when a batch is done; must only wake the loop. */
typedef void (*store_wake_fn)(void *arg);

/*
 * Opens (creating if needed) the database. *max_seq receives the highest
 * envelope seq stored. Returns 0, or -1 with a message in err.
 */
int store_open(struct store **out, const char *path, store_wake_fn wake, void *wake_arg,
               uint64_t *max_seq, char *err, size_t err_cap);
/* Sets the outbox writer; before the first batch is submitted. */
void store_set_audit(struct store *s, store_audit_fn fn, void *arg);
/* Waits for the writer to finish its batch, stops it, closes. NULL: no-op. */
void store_close(struct store *s);

/* Appends an op to b (growing it); returns the op, zeroed but for kind, or NULL. */
struct store_op *store_batch_add(struct store_batch *b, enum store_op_kind kind);
/* Frees what the ops own and empties b (keeps its capacity). */
void store_batch_clear(struct store_batch *b);
void store_batch_free(struct store_batch *b);

/*
 * Hands b to the writer if it is idle: b's ops move to the writer and b is
 * left empty. Returns true if handed over, false if the writer is busy
 * (try again after the next completion).
 */
bool store_submit(struct store *s, struct store_batch *b);
/* Takes the completed batch, if any, into done (which must be empty). */
bool store_take_done(struct store *s, struct store_batch *done);
bool store_writer_busy(struct store *s);
/* Bytes of the database's pages in use, as of the last commit. Any thread. */
uint64_t store_db_bytes(struct store *s);

/* Loop-thread reads. */
typedef int (*store_env_fn)(void *arg, const struct store_env *e);
/* Calls fn for the recipient's envelopes with seq > after, in order, at most limit. Returns count or -1. */
int store_fetch(struct store *s, const uint8_t recipient[32], uint64_t after, size_t limit,
                store_env_fn fn, void *arg);
/* Envelopes stored per recipient and sender (all zeros when not recorded). */
typedef void (*store_quota_fn)(void *arg, const uint8_t recipient[32], const uint8_t sender[32],
                               uint64_t count, uint64_t bytes);
int store_load_quotas(struct store *s, store_quota_fn fn, void *arg);
typedef void (*store_dir_fn)(void *arg, const char *brand_id, uint64_t version,
                             const uint8_t *blob, size_t len);
int store_load_directories(struct store *s, store_dir_fn fn, void *arg);
/* One prekey of owner not in skip[]; copies it into buf (cap). Returns its length, 0 if none, -1. */
long store_prekey_peek(struct store *s, const uint8_t owner[32], const int64_t *skip,
                       size_t n_skip, uint8_t *buf, size_t cap, int64_t *id);
long store_prekey_count(struct store *s, const uint8_t owner[32]);
/* owner's medium-term prekey, if one is stored that expires after now: as store_prekey_peek. */
long store_prekey_medium(struct store *s, const uint8_t owner[32], uint64_t now, uint8_t *buf,
                         size_t cap);
/* A persistent random value kept in the database (relay id, log salt). */
int store_meta(struct store *s, const char *name, uint8_t out[32]);

/*
 * The audit outbox. store_outbox_read calls fn for rows with id >= from,
 * in order, at most limit (fn returns nonzero to stop); text holds the
 * row's entries, a line each. Returns the rows read or -1.
 * store_outbox_mark gives the position the last STORE_AUDIT_DONE kept
 * (row, entry, seq; 0s for none); start-up only.
 */
typedef int (*store_outbox_fn)(void *arg, uint64_t row, const char *text, size_t len);
int store_outbox_read(struct store *s, uint64_t from, size_t limit, store_outbox_fn fn,
                      void *arg);
int store_outbox_mark(struct store *s, uint64_t *row, uint32_t *idx, uint64_t *seq);

#endif
