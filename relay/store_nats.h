/*
 * Internals of the NATS JetStream store, shared by its two files:
 * store_nats.c (connecting, the worker thread, notices, start-up reads,
 * the audit outbox) and store_nats_ops.c (what each op does). The layout
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
    uint64_t seq, bytes;
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
    kvStore *dirs, *medium, *erasure, *meta;
    int replicas;
    /*
     * Names: streams, subject prefixes (pe.0, pk, pr) and buckets, each
     * under the namespace of nats://HOSTS/NAMESPACE when one is given, so
     * that several relay clusters can share one NATS cluster.
     */
    char env_stream[64], pk_stream[64], env_prefix[48], pk_prefix[48], live_prefix[48];
    char bucket_prefix[48];
    struct store_params params;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct store_batch work, done;
    bool has_work, has_done, stop, thread_started;
    store_wake_fn wake;
    void *wake_arg;
    store_audit_fn audit;
    void *audit_arg;
    /* Under lock: reachability, the stream's size, notices for the loop. */
    bool reachable, notice_all, directories;
    bool quiet;                   /* the loop is going: no more wakes */
    natsSubscription *dir_sub;
    uint64_t bytes;
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
    /* The loop's: subscriptions of the watched recipients (ptr: natsSubscription). */
    struct map watched;
    /* The worker's. */
    struct nats_seq seqs[NATS_SEQ_CACHE];
    uint8_t indexed[4096][32];    /* erasure index entries written lately (hashes) */
    /* This node's latest inserts: the relay's seq and the stream's (erasure cutoffs). */
    struct { uint64_t relay, stream; } inserted[NATS_SEQ_CACHE];
    size_t n_inserted;
    char failure[128];
    /* Under lock: the audit outbox (this node's, in memory) and its last kept position. */
    struct nats_outbox_row *rows;
    size_t n_rows, cap_rows;
    uint64_t next_row, mark_row, mark_seq;
    uint32_t mark_idx;
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
/* Messages stored on one subject (stream info filtered by it); -1 when unanswered. */
int64_t nats_subject_count(struct nats_store *s, const char *stream, const char *subject);

#endif
