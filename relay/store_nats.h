/*
 * Internals of the NATS JetStream store, shared by its files:
 * store_nats.c (connecting, the worker thread, notices, start-up reads),
 * store_nats_ops.c (what each op does), store_nats_pub.c and
 * store_nats_group.c (pipelining), store_nats_outbox.c (the audit outbox). The layout
 * is docs/cluster.md's: nothing outside the NATS store includes this.
 */
#ifndef RELAY_STORE_NATS_H
#define RELAY_STORE_NATS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <nats/nats.h>

#include "map.h"
#include "store.h"

/* What precedes the sealed bytes in a stored envelope: ids and arrival time. */
#define NATS_ENV_HEAD (16 + 16 + 32 + 8)
/* Envelope ids remembered from fetches, for deleting by sequence. */
#define NATS_SEQ_CACHE 8192

struct nats_seq {
    uint8_t envelope_id[16];
    uint8_t recipient[32];
    uint8_t sender[32];
    uint64_t seq, bytes;
};

/* The quota ledger (store_nats_ledger.c): an entry a batch touches, as read and as changed. */
enum nats_ask { NATS_ASK_NONE, NATS_ASK_READ, NATS_ASK_WRITE };

struct nats_ledger_entry {
    char key[72];                 /* r.<recipient hex>, or p.<hex of hash(sender, recipient)> */
    bool pair;
    bool known, fresh;            /* read (fresh: from the bucket, not this node's cache) */
    bool written;                 /* the batch's reservation on it is written */
    uint64_t count, bytes, rev;   /* its value at revision rev (0: no entry) */
    uint64_t writes;              /* the value's count of writes, at rev */
    uint8_t nonce[16];            /* the write sent last: its mark in the value */
    bool unsure;                  /* that write went unanswered: it may have landed */
    int64_t add_count, add_bytes; /* the change to write */
    int64_t undo_count, undo_bytes;/* taken back after it was written */
    bool need;                    /* to be read (again) */
    enum nats_ask ask;            /* the question of the round under way */
    natsMsg *reply;               /* its answer (under pub_lock while the round is open) */
};

/* A batch's op, for the ledger: its entries (UINT32_MAX: none) and whether it is reserved. */
struct nats_ledger_op {
    uint32_t r, p;
    bool held;
    bool pair;                    /* not held because of the pair's entry */
};

/* The ledger's entries as this node wrote them last (a read saved when nobody else wrote). */
#define NATS_LEDGER_CACHE 4096

struct nats_ledger_cached {
    uint8_t h[16];                /* hash of the key */
    uint64_t count, bytes, rev, writes;
};

/* Envelopes published and not answered yet, at most (store_nats_pub.c). */
#define NATS_PUB_MAX 256

enum nats_pub_state { NATS_PUB_FREE, NATS_PUB_SENT, NATS_PUB_DONE, NATS_PUB_FAILED };

struct nats_pub {
    struct store_op *op;          /* the INSERT it publishes; NULL: the slot is free */
    const natsMsg *msg;           /* as libnats hands it back with the answer */
    enum nats_pub_state state;
    uint64_t sent_ms;             /* CLOCK_MONOTONIC */
    uint64_t stream_seq;          /* the stream's sequence, once stored */
};

/* Reads and deletes in flight together (store_nats_group.c). */
#define NATS_REQ_MAX 256

struct nats_req {
    struct store_op *op;          /* a FETCH or a DELETE */
    uint64_t after;               /* FETCH: the sequence read last */
    uint64_t seq, bytes;          /* DELETE: the envelope's sequence and size */
    uint8_t sender[32];           /* DELETE: the envelope's sender */
    natsMsg *reply;               /* the round's answer */
};

/*
 * A reply subscription of the store's own (store_nats_group.c), for
 * requests sent together without waiting for each answer (libnats's
 * requests are synchronous): an answer to <prefix><round>.<index> is
 * handed to take (libnats's thread, under pub_lock) while round is the
 * current one; take returns whether it kept the message.
 */
struct nats_store;

struct nats_replies {
    natsSubscription *sub;
    char prefix[80];              /* the reply subjects' inbox, with its dot */
    uint64_t round;
    bool (*take)(struct nats_store *s, size_t index, natsMsg *msg);
    struct nats_store *s;
};

struct nats_outbox_row {
    uint64_t id;
    char *text;
    size_t len;
};

struct nats_store {
    struct store base;
    natsConnection *nc;
    jsCtx *js;
    kvStore *dirs, *medium, *erasure, *meta, *budgets, *quota;
    int replicas;
    /*
     * Names: streams, subject prefixes (pe.0, pk, pr) and buckets, each
     * under the namespace of nats://HOSTS/NAMESPACE when one is given, so
     * that several relay clusters can share one NATS cluster.
     */
    char env_stream[64], pk_stream[64], env_prefix[48], pk_prefix[48], live_prefix[48];
    char bucket_prefix[48];
    struct store_params params;
    pthread_mutex_t lock;
    store_wake_fn wake;
    void *wake_arg;
    /* Under lock: reachability, notices for the loop. */
    bool reachable, notice_all, directories;
    bool quiet;                   /* the loop is going: no more wakes */
    natsSubscription *dir_sub;
    uint8_t (*notices)[32];
    size_t n_notices, cap_notices;
    struct nats_claim {           /* connections authenticated on other nodes */
        uint8_t routing[32];
        uint64_t when_ms;
    } * claims;
    size_t n_claims, cap_claims;
    uint8_t node_id[16];          /* random, tells this node's claims from others' */
    struct nats_dir {             /* directories stored by any node, as their messages carry them */
        char brand[65];
        uint64_t version;
        uint8_t *blob;
        size_t len;
    } * dirs_new;
    size_t n_dirs_new, cap_dirs_new;
    bool started;                 /* the start-up read of the directories is done */
    bool dirs_reload;             /* reconnected: every directory read again (worker) */
    /* The loop's: subscriptions of the watched recipients (ptr: natsSubscription). */
    struct map watched;
    /* The worker's. */
    struct nats_seq seqs[NATS_SEQ_CACHE];
    uint8_t indexed[4096][32];    /* erasure index entries written lately (hashes) */
    int64_t indexed_ms[4096];     /* and when each was written (Unix ms) */
    /* This node's latest inserts: the relay's seq and the stream's (erasure cutoffs). */
    struct { uint64_t relay, stream; } inserted[NATS_SEQ_CACHE];
    size_t n_inserted;
    uint64_t expire_after;        /* where the expiry sweep's next step goes on (a sequence) */
    char failure[128];
    uint64_t probed_ms;           /* CLOCK_MONOTONIC of the last probe */
    /* Under lock: the audit outbox's rows not in the synced log yet, and its kept position. */
    struct nats_outbox_row *rows;
    size_t n_rows, cap_rows;
    uint64_t next_row, mark_row, mark_seq;
    uint32_t mark_idx;
    /* The worker's: this node's audit outbox in JetStream (store_nats_outbox.c). */
    char au_stream[64], au_prefix[48], au_subject[96], au_key[64];
    bool au_ready;                /* nats_outbox_open named this node: rows are published */
    bool au_unsure;               /* a row's publication failed: it may be stored all the same */
    uint64_t au_last;             /* the id of the last row published */
    /* Publications in flight: the worker's, and libnats's acknowledgement thread's. */
    jsCtx *js_pub;                /* the context whose publications are answered by on_ack */
    bool pub_ready, pub_used;      /* pub_used: a publication went through js_pub (worker's) */
    pthread_mutex_t pub_lock;
    pthread_cond_t pub_cond;
    struct nats_pub pubs[NATS_PUB_MAX];
    size_t n_pubs;
    char pub_failure[128];
    /* Reads and deletes in flight: the worker's, and the reply subscription's (under pub_lock). */
    struct nats_replies req;
    struct nats_req reqs[NATS_REQ_MAX];
    size_t n_reqs, n_answered;
    /* The quota ledger's work on the current batch, and its cache (the worker's). */
    struct nats_ledger_entry *led;
    size_t n_led, cap_led;
    struct nats_ledger_op *led_ops;
    size_t n_led_ops, cap_led_ops;
    struct nats_ledger_cached led_cache[NATS_LEDGER_CACHE];
    struct nats_orders *ord;      /* brand orders (store_nats_order.c) */
    /* Its questions in flight: the worker's, and the reply subscription's (under pub_lock). */
    struct nats_replies led_replies;
    size_t led_answered;
};

void nats_hex(const uint8_t *p, size_t n, char *out);
void nats_put_be64(uint8_t *p, uint64_t v);
uint64_t nats_get_be64(const uint8_t *p);
/* Runs one op on the worker thread: 0, or -1 when the store could not be reached. */
int nats_run_op(struct nats_store *s, struct store_op *op);
/*
 * The next message of subject after seq, from the stream's leader: 1 with
 * *msg (its data, malloc'd, *len bytes) and *at its sequence, 0 when
 * there is none, -1 when the stream could not answer.
 */
int nats_next(struct nats_store *s, const char *stream, const char *subject, uint64_t after,
              uint8_t **msg, size_t *len, uint64_t *at);
/* nats_next in two halves: the request (its API subject and body; the body's length)... */
int nats_next_request(char api[96], char req[160], const char *stream, const char *subject,
                      uint64_t after);
/* ... and its answer, as nats_next returns (reply stays the caller's). */
int nats_next_answer(struct nats_store *s, const char *stream, natsMsg *reply, uint8_t **msg,
                     size_t *len, uint64_t *at);
/* The envelope stream's subject of a recipient. */
void nats_env_subject(const struct nats_store *s, const uint8_t recipient[32], char out[128]);
/* Whether a FETCH has room for more; nats_fetch_keep adds a message read (msg taken). 0 or -1. */
bool nats_fetch_wants(const struct store_op *op);
int nats_fetch_keep(struct nats_store *s, struct store_op *op, uint8_t *msg, size_t len,
                    uint64_t at);
/* A DELETE's envelope, when this node fetched it lately: its sequence, size and sender
 * (forgotten). */
bool nats_seq_take(struct nats_store *s, const struct store_op *op, uint64_t *seq,
                   uint64_t *bytes, uint8_t sender[32]);
/*
 * Runs the ops from ops on while they are INSERT, FETCH and DELETE, the
 * latter two pipelined (store_nats_group.c); returns how many it ran (at
 * least one when the first is of these kinds), *ok false when one failed
 * (s->failure). nats_group_init: after connecting; 0 or -1.
 */
size_t nats_run_group(struct nats_store *s, struct store_op *ops, size_t n, bool *ok);
int nats_group_init(struct nats_store *s);
/* Subscribes r to a new inbox, its answers going to take; 0 or -1. */
int nats_replies_init(struct nats_store *s, struct nats_replies *r,
                      bool (*take)(struct nats_store *s, size_t index, natsMsg *msg));
/*
 * The pipelined publication of envelopes (store_nats_pub.c), on the
 * worker. nats_pub_init: after connecting; 0 or -1. nats_pub_send
 * publishes msg (taken, whatever the outcome) for op without waiting for
 * its acknowledgement, which fills in op's inserted or refused later:
 * 0, or -1 with s->failure when it could not be sent or an earlier one
 * failed (everything in flight is then given up). nats_pub_settle waits
 * until every publication for recipient (NULL: all) is answered: 0, or
 * -1 as above. nats_pub_abandon gives up what is in flight (the batch
 * failed otherwise). nats_pub_free: after libnats's threads are gone (the
 * context js_pub is destroyed with the others, before).
 */
int nats_pub_init(struct nats_store *s);
int nats_pub_send(struct nats_store *s, struct store_op *op, natsMsg *msg, jsPubOptions *po);
int nats_pub_settle(struct nats_store *s, const uint8_t *recipient);
void nats_pub_abandon(struct nats_store *s);
void nats_pub_free(struct nats_store *s);
/*
 * Senders' budgets (store_nats_budget.c), on the worker: the write is
 * published without waiting for an answer; the read leaves op->budget
 * zero (none) when nothing is kept or the store does not answer.
 */
void nats_budget_write(struct nats_store *s, const struct store_op *op);
void nats_budget_read(struct nats_store *s, struct store_op *op);
/*
 * The quota ledger (store_nats_ledger.c), on the worker. nats_ledger_reserve,
 * before a batch's envelopes are published: each INSERT that would pass
 * quota-bytes or the pair quotas, counted across all nodes, comes back
 * refused (refused_pair: by the pair's), the others are counted in the
 * ledger; 0, or -1 with s->failure (the batch fails). nats_ledger_removed
 * takes op's expired list (the envelopes a DELETE, ERASE_STEP or EXPIRE
 * removed: recipient, sender, bytes) to be counted off, and empties it,
 * so it counts once; nats_ledger_settle, once the batch has run (whether
 * it failed or not, before its results are cleared): gives back what was
 * reserved and not stored, and counts off every op's expired list
 * (nats_ledger_removed on each, so an op's own code need not call it),
 * writing each entry once; -1 when the ledger could not be written (its
 * entries stay high until they age out).
 */
int nats_ledger_reserve(struct nats_store *s, struct store_op *ops, size_t n);
/* The ledger's reply subscription (its reads and writes go out together, in rounds): after
 * connecting; 0 or -1. */
int nats_ledger_init(struct nats_store *s);
void nats_ledger_removed(struct nats_store *s, struct store_op *op);
int nats_ledger_settle(struct nats_store *s, struct store_op *ops, size_t n);
/*
 * The audit outbox (store_nats_outbox.c). nats_outbox_record: on the
 * worker, once a batch's ops ran, its entries become rows (published on
 * this node's subject once nats_outbox_open named it), each op's
 * audit_row naming its row: true, or false with s->failure.
 * nats_outbox_done runs a STORE_AUDIT_DONE. The other three are
 * store_ops's outbox_open, outbox_read and outbox_mark.
 */
bool nats_outbox_record(struct nats_store *s, struct store_batch *b);
void nats_outbox_done(struct nats_store *s, const struct store_op *op);
int nats_outbox_open(struct store *base, const uint8_t node[16], char *err, size_t cap);
int nats_outbox_read(struct store *base, uint64_t from, size_t limit, store_outbox_fn fn,
                     void *arg);
int nats_outbox_mark(struct store *base, uint64_t *row, uint32_t *idx, uint64_t *seq);
void nats_outbox_free(struct nats_store *s);
/*
 * Deletes (erase: and overwrites) the message at seq of stream, on its
 * leader: 1 removed, 0 gone already (JetStream's 10037, or its 10057 with
 * "no message found" or "stream store EOF": another node or an earlier
 * call removed it), -1 any other failure (s->failure, prefixed with what:
 * the server's error object). nats_delete_answer reads such an answer (reply
 * stays the caller's).
 */
int nats_delete_seq(struct nats_store *s, const char *stream, uint64_t seq, bool erase,
                    const char *what);
int nats_delete_answer(struct nats_store *s, natsMsg *reply, const char *what);
/*
 * One step of an expiry sweep (store_nats_expire.c): deletes the envelopes
 * that arrived before op->cutoff, from the stream's start (op->unit 0) or
 * where the last step stopped (1), filling op's expired list with those
 * this call removed; op->unit 1 when the step stopped with more to read.
 * 0, or -1 (s->failure).
 */
int nats_expire(struct nats_store *s, struct store_op *op);
/* Messages stored on one subject (stream info filtered by it); -1 when unanswered. */
int64_t nats_subject_count(struct nats_store *s, const char *stream, const char *subject);

/* Wakes the loop, unless it is going (any thread). */
void nats_wake(struct nats_store *s);
/* Opens (creating it if needed) the key-value bucket parley_<name>, under the namespace. 0 or -1. */
int nats_kv_open(struct nats_store *s, kvStore **kv, const char *name, int64_t ttl_ns, char *err,
                 size_t cap);
/*
 * Brand orders (store_nats_order.c, docs/cluster.md §3.15). open: the
 * bucket and the subscription to orders other nodes store (0 or -1);
 * run: an order op on the worker (0, or -1 with s->failure); expire: the
 * orders that expired before cutoff go, with their receipts (always 0:
 * what it could not delete, the next sweep does); take: 1
 * with an order another node stored (its brand id, the encoded order,
 * malloc'd), 0 when none is left (the loop). close before libnats is
 * torn down, free after.
 */
int nats_orders_open(struct nats_store *s, char *err, size_t cap);
int nats_orders_run(struct nats_store *s, struct store_op *op);
int nats_orders_expire(struct nats_store *s, uint64_t cutoff);
int nats_orders_take(struct nats_store *s, char brand_id[65], uint8_t **blob, size_t *len);
void nats_orders_close(struct nats_store *s);
void nats_orders_free(struct nats_store *s);

#endif
