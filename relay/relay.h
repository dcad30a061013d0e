/*
 * The relay's shared state: configuration, the store, the connection
 * registry and metrics, and each connection's protocol state. Everything
 * here is touched only on the event loop thread; the store's writer
 * thread talks to it through store_submit / store_take_done.
 */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <libwebsockets.h>

#include "config.h"
#include "health.h"
#include "map.h"
#include "metrics.h"
#include "pool.h"
#include "store.h"
#include "web.h"

struct audit;
struct conn;
struct early_ack;
struct erasure;
struct parley_revlist;

struct brand_state {
    const struct relay_brand *brand;     /* from the config */
    uint64_t dir_version;                /* 0: no directory stored */
    uint8_t *dir;                        /* encoded Directory, as published */
    size_t dir_len;
    struct parley_revlist *revs;         /* from the stored directory, or NULL */
    /* The newest publication handed to the store and not yet committed (NULL: none). */
    uint8_t *pending;
    size_t pending_len;
    uint64_t pending_version;
};

struct relay {
    struct relay_config cfg;
    struct ev_loop *loop;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    ev_prepare flush_watcher;            /* hands the batch over before the loop sleeps */
    ev_timer sweep_timer, expiry_timer;
    ev_signal sig_term, sig_int, sig_hup;
    bool watching;                       /* the watchers are started */
    bool log_open;
    struct store *store;
    struct audit *audit;                 /* metadata-only audit log */
    struct web web;                      /* static files (--web-root) */
    struct store_batch pending;          /* arrived this iteration, not yet handed over */
    struct store_batch done;
    uint64_t batches_submitted;          /* handed to the store; the pending batch is the next */
    uint64_t batches_done;               /* taken back from it */
    struct early_ack *early;             /* inserts in the store's hands, sender acked (delivery.c) */
    size_t n_early, cap_early;
    /* Reused per message (pool.h): output queues, delivery windows, envelopes' sealed bytes. */
    struct pool tx_pool, window_pool, sealed_pool;
    struct arena frames;                 /* decodes the frame being handled */
    struct metrics metrics;
    struct store_health health;          /* whether the store takes writes (health.c) */
    uint64_t outbox_done;                /* audit outbox rows deleted up to (audit_store.c) */
    bool outbox_more;                    /* committed outbox rows may wait to be chained */
    struct brand_state brands[RELAY_MAX_BRANDS];
    size_t n_brands;
    struct map online;                   /* routing id -> conn */
    struct map quotas;                   /* recipient -> a: count, b: bytes stored */
    struct map pairs;                    /* hash of sender, recipient -> a: count, b: bytes */
    struct map senders;                  /* sender -> ptr: its budget, a: the batch number
                                            its state is written with (quota.c) */
    size_t budget_writes;                /* STORE_BUDGET_WRITEs in the pending batch (0: none,
                                            no pass over it to fill them in) */
    struct map prekey_owners;            /* prekey owner -> ptr: one-time prekeys handed out */
    uint64_t unsettled_bytes;            /* of envelopes accepted, not yet committed */
    struct erasure *erasures;            /* jobs in turn, the first one's step next (erasure.c) */
    size_t n_erasures;
    bool erase_in_flight;                /* a step is in the pending or the writer's batch */
    bool expire_in_flight;               /* an expiry sweep's step is, likewise */
    struct map per_ip;                   /* address -> a: connections */
    struct conn *conns;
    uint64_t next_serial;
    uint64_t assigned_seq;
    uint8_t relay_id[32];
    bool stopping;
    uint64_t stop_deadline_ms;
    int exit_code;
};

/*
 * Brings the relay up (web root, store, logs, audit log, loaded state,
 * listener). 0, or -1 with a message on stderr; relay_close() in both
 * cases.
 */
int relay_open(struct relay *r);
/* Runs the loop until a drained stop; returns the exit status. */
int relay_run(struct relay *r);
/* Takes down whatever relay_open brought up, committing what arrived first. */
void relay_close(struct relay *r);

uint64_t relay_now_ms(void);
/*
 * Added to relay_now_ms(); always 0 in parley-relay. The test build of the
 * relay (tests/relay/fakeclock.c) sets it, so that a test can let thirty
 * days pass for the TTL without waiting for them.
 */
extern int64_t relay_clock_offset_ms;
uint64_t relay_mono_ns(void);

#endif
