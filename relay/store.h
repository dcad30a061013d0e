/*
 * The relay's durable store, as an interface: envelopes (ciphertext and
 * routing data only), brand directories, agents' prekeys, the relay's
 * own secrets and the audit log's outbox. One implementation per kind of
 * storage, chosen at start by `--store KIND:WHERE`: sqlite with WAL
 * (store_sqlite.c, `sqlite:PATH`, the default) today; the clustered one
 * on NATS JetStream (docs/cluster.md) goes beside it.
 *
 * Threading. The relay's loop is single-threaded and never waits on the
 * store. It queues work as ops in a batch and hands the batch over
 * (store_submit); the store runs it on its own thread(s) and wakes the
 * loop (the wake function), which takes the batch back with every op's
 * results (store_take_done), in submission order. Ops run in that order
 * too: a read op sees every write queued before it. Between handing a
 * batch over and taking it back the loop does not touch it. Only
 * start-up (before the loop runs), store_bytes_used and the audit
 * outbox's read are called outside that cycle.
 *
 * A batch's writes are atomic and durable when it comes back ok (sqlite:
 * one transaction, synced); a batch that failed comes back with every op
 * not ok and the reason (sqlite's code, errno, message), and nothing of
 * it stored. The audit entry of each change is committed with the
 * change (store_set_audit) and read back by the loop.
 */
#ifndef RELAY_STORE_H
#define RELAY_STORE_H

#include <pthread.h>
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

/*
 * One-time prekeys an owner may hold: STORE_PREKEY_PUBLISH's limit, which
 * a shared store keeps in its layout (the NATS prekey stream's per-subject
 * limit).
 */
#define STORE_PREKEYS_PER_OWNER 100u

/* A prekey of a publication: its encoding, and for a medium-term one its times. */
struct store_prekey {
    uint8_t *blob;                /* owned */
    size_t len;
    bool medium;
    uint64_t created, expires;    /* Unix seconds (medium-term) */
};

enum store_op_kind {
    STORE_INSERT,       /* env -> inserted (false when the envelope id was already stored) */
    STORE_DELETE,       /* env.recipient + env.envelope_id -> deleted, freed, expired list */
    STORE_EXPIRE,       /* cutoff, unit (0: a new sweep, 1: its next step) -> expired list,
                           unit (1: a step of a shared store stopped with more to read; the
                           relay queues the next step with the same cutoff) */
    STORE_FETCH,        /* env.recipient's envelopes with seq > cutoff, in order, at most limit
                           and about max_bytes (always one when there is one) -> envs */
    STORE_DIRECTORY,    /* brand_id, version, blob */
    STORE_PREKEY_PUBLISH,/* env.recipient = owner, prekeys, replace (all of its prekeys go
                           first, medium-term too), limit = one-time prekeys an owner may hold
                           -> refused (past limit: nothing changed) */
    STORE_PREKEY_TAKE,  /* env.recipient = owner, allow_one_time, cutoff = now -> blob: one of
                           its one-time prekeys, removed (one_time; only when allowed), else
                           its medium-term one if it expires after now, else none;
                           one_time_left: it had a one-time prekey */
    STORE_PREKEY_COUNT, /* env.recipient = owner -> count of its one-time prekeys */
    STORE_ERASE_STEP,   /* env.recipient: envelopes to or from it, and of the conversations
                           in blob (16 bytes each), seq <= cutoff, from unit on, at most limit
                           rows -> expired list, unit */
    STORE_PROBE,        /* cutoff = Unix ms: a small write, to learn if the disk takes writes */
    STORE_AUDIT_DONE,   /* the synced audit log holds the outbox up to entry audit_off of row
                           cutoff, which became its entry seq version: rows before cutoff are
                           deleted (cutoff stays, so new ids keep growing from it), and the
                           position is kept for the next start */
    /* Brand orders (relay/order.c), on either store. env.envelope_id is the order id. */
    STORE_ORDER_PUT,    /* brand_id, env.recipient = the customer's routing id, unit = kind,
                           cutoff = expires_at, blob = encoded BrandOrder -> inserted (false:
                           an order with this id is stored: a replay) */
    STORE_ORDER_PENDING,/* brand_id, key = an agent's signing key, cutoff = now -> envs: the
                           brand's orders not expired at cutoff that key has not answered (sealed:
                           the encoded BrandOrder), at most limit */
    STORE_RECEIPT_PUT,  /* brand_id, key = the agent's signing key, blob = encoded OrderReceipt
                           -> refused: the brand holds no such order; else stored (replacing
                           that agent's earlier receipt for it) */
    STORE_ORDER_STATUS, /* brand_id, unit = receipts to skip -> refused: no such order; else
                           count: its receipts, envs: at most limit of them from unit on, in
                           the order they came (sealed: the encoded OrderReceipt) */
    /* A sender's budget over time (quota.c), kept where every relay node finds it; only a
       shared store gets these (sqlite answers none). Neither makes its batch fail. */
    STORE_BUDGET_READ,  /* env.recipient = the sender -> budget (at_ms 0: none kept) */
    STORE_BUDGET_WRITE  /* env.recipient = the sender, budget: kept as it is, best effort */
};

/* What is left of a sender's budget (quota.c's two buckets), and when it was counted. */
struct store_budget {
    double count, bytes;          /* envelopes, bytes */
    uint64_t at_ms;               /* Unix ms; 0: none */
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
    uint64_t cutoff;              /* STORE_EXPIRE: time; STORE_ERASE_STEP: highest seq;
                                     STORE_FETCH: seq read after; STORE_PREKEY_TAKE: now */
    uint32_t unit, limit;         /* STORE_ERASE_STEP: where to go on; rows at most */
    uint64_t max_bytes;           /* STORE_FETCH */
    bool checkpoint;              /* STORE_ERASE_STEP: truncate the WAL after the commit */
    uint64_t done_count, done_bytes;/* STORE_ERASE_STEP: what the job's earlier steps deleted */
    char brand_id[65];            /* STORE_DIRECTORY, orders */
    uint64_t version;
    uint8_t *blob;                /* STORE_DIRECTORY, STORE_ERASE_STEP, STORE_PREKEY_TAKE; owned */
    size_t blob_len;
    uint8_t key[32];              /* STORE_PREKEY_TAKE: the owner's signing key, for the answer;
                                     orders: the agent's signing key */
    struct store_prekey *prekeys; /* STORE_PREKEY_PUBLISH; owned */
    size_t n_prekeys;
    bool replace, allow_one_time;
    struct store_budget budget;   /* STORE_BUDGET_WRITE; STORE_BUDGET_READ's answer */
    /* Results, filled by the store. */
    bool ok;                      /* the batch committed */
    bool inserted;
    bool refused;                 /* STORE_PREKEY_PUBLISH: over the limit; STORE_INSERT (a
                                     shared store): over a quota the store keeps */
    bool refused_pair;            /* STORE_INSERT: it was the sender's share (pair-quota-*) */
    bool unanswered;              /* STORE_INSERT (a shared store): published, and its answer
                                     lost: it may be stored */
    bool one_time, one_time_left; /* STORE_PREKEY_TAKE */
    uint64_t count;               /* STORE_PREKEY_COUNT, STORE_ORDER_STATUS */
    uint64_t freed;               /* bytes of sealed data removed */
    uint32_t deleted;
    struct store_expired *expired;/* malloc'd */
    size_t n_expired, cap_expired;
    struct store_env *envs;       /* STORE_FETCH, STORE_ORDER_PENDING, STORE_ORDER_STATUS:
                                     malloc'd, each sealed malloc'd */
    size_t n_envs;
    uint64_t audit_row;           /* the outbox row holding its audit entry (0: none), and the */
    uint32_t audit_off, audit_len;/* entry's body in the batch's audit text */
};

struct store_batch {
    struct store_op *ops;
    size_t n, cap;
    /* Results, filled by the store. */
    int err;                      /* 0, or sqlite's extended result code of the failure */
    int sys_err;                  /* errno behind it, when known (0 otherwise) */
    char errmsg[128];             /* the store's message */
    bool wrote;                   /* committed, and something reached the disk */
    char *audit;                  /* the ops' audit entries, one body a line: the outbox row */
    size_t audit_len, audit_cap;
};

/*
 * Called on the store's thread for each op once it has run, inside its
 * transaction: writes to out (cap bytes) the body of the audit entry that
 * records the op's change, one line without its newline, and returns its
 * length; 0 for none. A batch's bodies go into the outbox as one row (a
 * line each), in the same transaction.
 */
typedef size_t (*store_audit_fn)(void *arg, const struct store_op *op, char *out, size_t cap);

/* Called on the store's thread when a batch is done; must only wake the loop. */
typedef void (*store_wake_fn)(void *arg);

/* Envelopes stored per recipient and sender (all zeros when not recorded). */
typedef void (*store_quota_fn)(void *arg, const uint8_t recipient[32], const uint8_t sender[32],
                               uint64_t count, uint64_t bytes);
typedef void (*store_dir_fn)(void *arg, const char *brand_id, uint64_t version,
                             const uint8_t *blob, size_t len);
typedef int (*store_outbox_fn)(void *arg, uint64_t row, const char *text, size_t len);

/* What an implementation provides; every call but open on a store it opened. */
struct store_ops {
    const char *kind; /* the KIND of --store KIND:WHERE */
    int (*open)(struct store **out, const char *where, store_wake_fn wake, void *wake_arg,
                uint64_t *max_seq, char *err, size_t err_cap);
    void (*close)(struct store *s);
    int (*meta)(struct store *s, const char *name, uint8_t out[32]);
    int (*load_quotas)(struct store *s, store_quota_fn fn, void *arg);
    int (*load_directories)(struct store *s, store_dir_fn fn, void *arg);
    /* NULL for a store whose outbox is its own (sqlite): see store_outbox_open. */
    int (*outbox_open)(struct store *s, const uint8_t node[16], char *err, size_t cap);
    int (*outbox_read)(struct store *s, uint64_t from, size_t limit, store_outbox_fn fn,
                       void *arg);
    int (*outbox_mark)(struct store *s, uint64_t *row, uint32_t *idx, uint64_t *seq);
    /*
     * A store shared by several relay nodes (NULL for one node's own): it
     * keeps the per-recipient count quota itself (an INSERT over it comes
     * back refused), orders envelopes itself (FETCH's seq is its own), and
     * tells the loop about envelopes stored by any node for the recipients
     * watched here, and about brand orders other nodes stored (take_order).
     */
    void (*watch)(struct store *s, const uint8_t routing[32], bool on);
    int (*take_notice)(struct store *s, uint8_t routing[32], uint64_t *when_ms);
    int (*take_order)(struct store *s, char brand_id[65], uint8_t **blob, size_t *len);
    bool (*reachable)(struct store *s);
    /* From now on the store must not call its wake function (the loop is going). */
    void (*quiet)(struct store *s);
};

/*
 * How batches pass between the loop and an implementation's thread, the
 * same for all of them: one batch at a time is in the store's hands,
 * from store_submit until the loop takes it back with store_take_done.
 * The implementation says how to run a batch (run), how to wake the loop
 * once one is done (wake), and what to do every idle_ms while none comes
 * (idle; NULL: nothing); all three on its thread, with arg.
 */
struct store_worker {
    void (*run)(void *arg, struct store_batch *b);
    void (*wake)(void *arg);
    void (*idle)(void *arg);
    int idle_ms;
    void *arg;
};

struct store_handoff {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    struct store_worker worker;
    struct store_batch work;      /* the store's while has_work or has_done */
    bool has_work, has_done, stop, started, ready;
    uint64_t bytes;               /* store_bytes_used */
    store_audit_fn audit;         /* set before the first batch */
    void *audit_arg;
};

/* Every implementation's handle begins with this. */
struct store {
    const struct store_ops *ops;
    char where[512];              /* WHERE of --store (sqlite: the database path) */
    struct store_handoff hand;
};

/*
 * For implementations: store_handoff_init before anything can fail in
 * open; store_handoff_start starts the thread (0, or -1);
 * store_handoff_stop lets it finish the batch it runs and joins it, and
 * frees what the hand-off holds (safe on a store whose open failed).
 */
void store_handoff_init(struct store *s);
int store_handoff_start(struct store *s, const struct store_worker *w);
void store_handoff_stop(struct store *s);
/* The store's thread: the size store_bytes_used reports; the audit body of an op (0: none). */
void store_set_bytes_used(struct store *s, uint64_t bytes);
size_t store_audit_body(struct store *s, const struct store_op *op, char *out, size_t cap);
/*
 * For implementations: adds an envelope removed by op (DELETE, ERASE_STEP,
 * EXPIRE) to its expired list, and to deleted and freed; sender NULL when
 * not recorded. 0, or -1 out of memory.
 */
int store_op_note_removed(struct store_op *op, const uint8_t recipient[32], uint64_t bytes,
                          const uint8_t *sender);
/* Clears what a store filled in an op that ran in a batch that failed (what it owns freed). */
void store_op_clear_results(struct store_op *op);

extern const struct store_ops store_sqlite_ops;
#ifdef PARLEY_HAVE_NATS
extern const struct store_ops store_nats_ops;
#endif

/* A shared store's client settings, as NATS clients take them ("": not given); borrowed. */
struct store_client {
    const char *user, *password, *token;
    const char *tls_ca, *tls_cert, *tls_key; /* PEM files; TLS is on with the CA or a cert */
    const char *creds, *nkey;     /* files: a .creds (JWT and seed), a user's NKey seed */
};

/* What a store that enforces limits itself needs of the configuration; before store_open. */
struct store_params {
    uint64_t ttl;                 /* seconds */
    uint32_t quota_count;         /* envelopes stored per recipient */
    size_t max_frame;             /* largest envelope */
    struct store_client client;   /* read during store_open only */
    uint64_t sender_window;       /* seconds a sender's spent budget takes to refill */
    uint64_t quota_bytes;         /* bytes stored per recipient */
    uint32_t pair_quota_count;    /* envelopes stored per sender and recipient (0: no limit) */
    uint64_t pair_quota_bytes;    /* bytes stored per sender and recipient (0: no limit) */
    uint32_t expiry_interval;     /* seconds between the relay's expiry sweeps */
    uint64_t audit_retention;     /* seconds the audit log keeps an entry (0: no limit) */
};
void store_configure(const struct store_params *p);
const struct store_params *store_params(void);

/*
 * Opens the store spec names ("sqlite:PATH"), creating it if needed.
 * *max_seq receives the highest envelope seq stored. Returns 0, or -1
 * with a message in err (an unknown kind included).
 */
int store_open(struct store **out, const char *spec, store_wake_fn wake, void *wake_arg,
               uint64_t *max_seq, char *err, size_t err_cap);
/* Whether spec names a kind of store this relay has, with a place (config check). */
bool store_spec_ok(const char *spec);
/* WHERE of the spec it was opened with (sqlite: the database path). */
const char *store_where(const struct store *s);
/* Sets the outbox writer; before the first batch is submitted. */
void store_set_audit(struct store *s, store_audit_fn fn, void *arg);
/* Finishes the batch being run, stops the store's threads, closes. NULL: no-op. */
void store_close(struct store *s);

/* Appends an op to b (growing it); returns the op, zeroed but for kind, or NULL. */
struct store_op *store_batch_add(struct store_batch *b, enum store_op_kind kind);
/* Takes back the op added last (what it owns is freed). */
void store_batch_drop_last(struct store_batch *b);
/* Frees what the ops own and empties b (keeps its capacity). */
void store_batch_clear(struct store_batch *b);
void store_batch_free(struct store_batch *b);

/*
 * Hands b to the store if it can take it: b's ops move to the store and b
 * is left empty. Returns true if handed over, false if the store is busy
 * (try again after the next completion).
 */
bool store_submit(struct store *s, struct store_batch *b);
/* Takes the completed batch, if any, into done (which must be empty). */
bool store_take_done(struct store *s, struct store_batch *done);
/* Whether a batch is in the store's hands or waits to be taken back. */
bool store_busy(struct store *s);
/* Bytes the store's data takes on disk, as of the last batch. Any thread. */
uint64_t store_bytes_used(struct store *s);

/* Start-up, before the loop runs. A persistent random value (relay id, log salt, audit key). */
int store_meta(struct store *s, const char *name, uint8_t out[32]);
int store_load_quotas(struct store *s, store_quota_fn fn, void *arg);
int store_load_directories(struct store *s, store_dir_fn fn, void *arg);

/*
 * The audit outbox. store_outbox_read calls fn for rows with id >= from,
 * in order, at most limit (fn returns nonzero to stop); text holds the
 * row's entries, a line each. Returns the rows read or -1. It reads on
 * the calling thread: at start, and on the loop only while the log lags
 * behind what the store committed. store_outbox_mark gives the position
 * the last STORE_AUDIT_DONE kept (row, entry, seq; 0s for none); start-up
 * only. A batch's entries may take several rows (each entry's audit_row
 * says which); their entries are counted from 0 in each row.
 */
int store_outbox_read(struct store *s, uint64_t from, size_t limit, store_outbox_fn fn,
                      void *arg);
/*
 * A shared store keeps each node's outbox apart: node names this one's
 * (the same across its restarts, audit_node_id), and what is left of it
 * is read, before store_outbox_mark and the first batch. Start-up only;
 * 0 (also for a store of one node), or -1 with a message in err.
 */
int store_outbox_open(struct store *s, const uint8_t node[16], char *err, size_t cap);
int store_outbox_mark(struct store *s, uint64_t *row, uint32_t *idx, uint64_t *seq);

/*
 * A shared store (one that other relay nodes write too: the NATS one).
 * store_watch: this node holds (on) or no longer holds the connection of
 * routing. store_take_notice: 1 with a watched recipient for whom any
 * node stored envelopes since, 2 when every watched recipient must read
 * again (the store was out of reach), 3 when a node stored a brand
 * directory (store_load_directories then gives those stored since the
 * last call), 4 when a connection
 * of routing authenticated on another node at *when_ms (Unix ms; an older
 * one here is replaced), 0 when nothing is left. Loop only.
 */
bool store_shared(const struct store *s);
void store_watch(struct store *s, const uint8_t routing[32], bool on);
int store_take_notice(struct store *s, uint8_t routing[32], uint64_t *when_ms);
/*
 * A shared store: 1 with a brand order another node stored since (its
 * brand id and the encoded BrandOrder, *blob malloc'd: the caller's), for
 * the agents online here; 0 when none is left. Loop only.
 */
int store_take_order(struct store *s, char brand_id[65], uint8_t **blob, size_t *len);
/* Whether the store can take writes now (a shared store's quorum); any thread. */
bool store_reachable(struct store *s);
/* The loop is going: the store's own threads must not wake it any more (before it is gone). */
void store_quiet(struct store *s);

#endif
