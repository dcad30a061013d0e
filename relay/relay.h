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

#include <libwebsockets.h>

#include "config.h"
#include "health.h"
#include "map.h"
#include "metrics.h"
#include "store.h"
#include "web.h"

struct audit;
struct erasure;
struct parley_revlist;

struct brand_state {
    const struct relay_brand *brand;     /* from the config */
    uint64_t dir_version;                /* 0: no directory stored */
    uint8_t *dir;                        /* encoded Directory, as published */
    size_t dir_len;
    struct parley_revlist *revs;         /* from the stored directory, or NULL */
};

enum conn_state { CONN_HTTP, CONN_WS };

struct inflight {
    uint8_t envelope_id[16];
    size_t bytes;
};

/* A token bucket: refills at a rate per second up to a burst (quota.c). */
struct bucket {
    double tokens;
    uint64_t ms;                         /* last refill; 0: never used, full */
};

/* Takes n tokens if there are that many (true); otherwise takes none (false). */
bool bucket_take(struct bucket *b, double rate, double burst, double n, uint64_t now_ms);

struct conn {
    struct lws *wsi;
    struct conn *prev, *next;            /* all connections */
    struct conn *drain_prev, *drain_next;/* connections catching up from the store */
    uint64_t serial;
    enum conn_state state;
    bool authed, agent, closing, shut, draining_listed, live;
    bool proven;                         /* authenticated once: routing is its own, for good */
    bool rx_stop;                        /* input no longer parsed (broken, or the peer closed) */
    uint16_t close_code;
    int brand;                           /* index into relay.brands, -1 for customers */
    uint64_t cert_serial;                /* agents: their certificate's serial */
    int watch_brand;                     /* brand whose directory it fetched: new versions are pushed */
    uint8_t sign_pk[32];
    uint8_t routing[32];
    uint8_t nonce[32];
    uint8_t addr[32];                    /* client address, key of relay.per_ip */
    char pseudonym[17];                  /* for logs */
    /* Receive side: bytes not yet parsed, and the message being assembled. */
    uint8_t *rx;
    size_t rx_len, rx_cap;
    uint8_t *msg;
    size_t msg_len;
    uint8_t msg_opcode;
    uint64_t frame_started_ms;           /* 0: no frame in progress */
    uint64_t last_rx_ms, opened_ms;
    size_t rx_after_close;               /* bytes received once closing */
    bool ping_sent;
    /* Send side: frames queued after LWS_PRE bytes of headroom; the first tx_off are sent. */
    uint8_t *tx;
    size_t tx_len, tx_cap, tx_off;
    /* A file from the web root being sent after the queue: its descriptor (-1: none), bytes left. */
    int file_fd;
    uint64_t file_left;
    /* Frames received (at the unauthenticated rate until authenticated). */
    struct bucket frames;
    uint32_t over_limit;
    struct bucket publications;          /* directory publications */
    struct bucket prekey_fetches;        /* one-time prekeys handed to it */
    /* Delivery: highest seq sent, and the batch that must be committed before we read the store. */
    uint64_t cursor;
    uint64_t wait_batch;
    /* The window: envelopes sent and not yet acknowledged with delivered (delivery.c). */
    struct inflight *inflight;           /* window-envelopes slots once it has had one */
    size_t n_inflight;
    uint64_t inflight_bytes;
};

struct relay {
    struct relay_config cfg;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    struct store *store;
    struct audit *audit;                 /* metadata-only audit log */
    struct web web;                      /* static files (--web-root) */
    struct store_batch pending;          /* arrived this iteration, not yet handed over */
    struct store_batch done;
    struct metrics metrics;
    struct store_health health;          /* whether the store takes writes (health.c) */
    uint64_t outbox_done;                /* audit outbox rows deleted up to (audit_store.c) */
    bool outbox_more;                    /* committed outbox rows may wait to be chained */
    struct brand_state brands[RELAY_MAX_BRANDS];
    size_t n_brands;
    struct map online;                   /* routing id -> conn */
    struct map quotas;                   /* recipient -> a: count, b: bytes stored */
    struct map pairs;                    /* hash of sender, recipient -> a: count, b: bytes */
    struct map senders;                  /* sender -> ptr: its budget (quota.c) */
    struct map prekey_owners;            /* prekey owner -> ptr: one-time prekeys handed out */
    uint64_t unsettled_bytes;            /* of envelopes accepted, not yet committed */
    struct erasure *erasures;            /* jobs in turn, the first one's step next (erasure.c) */
    size_t n_erasures;
    bool erase_in_flight;                /* a step is in the pending or the writer's batch */
    struct map per_ip;                   /* address -> a: connections */
    struct conn *conns;
    struct conn *drainers;
    uint64_t next_serial;
    uint64_t assigned_seq;
    uint64_t batches_submitted, batches_done;   /* the pending batch will be number submitted + 1 */
    uint8_t relay_id[32];
    struct {
        int64_t id;
        uint64_t batch;                  /* the batch that deletes it */
    } prekeys_taken[256];                /* handed out, delete not yet committed */
    size_t n_prekeys_taken;
    bool stopping;
    uint64_t stop_deadline_ms;
    int exit_code;
};

uint64_t relay_now_ms(void);
/*
 * Added to relay_now_ms(); always 0 in parley-relay. The test build of the
 * relay (tests/relay/fakeclock.c) sets it, so that a test can let thirty
 * days pass for the TTL without waiting for them.
 */
extern int64_t relay_clock_offset_ms;
uint64_t relay_mono_ns(void);

/* server.c: connection output. */
bool conn_queue_frame(struct relay *r, struct conn *c, uint8_t opcode, const uint8_t *payload,
                      size_t len);
/* Bytes queued to c and not yet taken by its socket. */
size_t conn_queued(const struct conn *c);
/*
 * Takes one frame from c's token bucket. False when over the rate: the
 * refusal is counted, and the connection closed (1008) if it has not
 * authenticated or has been over the rate for too long.
 */
bool conn_rate_take(struct relay *r, struct conn *c);
/* Queues a close frame with code, stops reading, closes once flushed. */
void conn_close(struct relay *r, struct conn *c, uint16_t code, enum reject_reason why,
                bool count);

/* session.c: the Parley protocol over whole binary messages. */
void session_start(struct relay *r, struct conn *c);
void session_message(struct relay *r, struct conn *c, const uint8_t *msg, size_t len);
void session_closed(struct relay *r, struct conn *c);
void session_writable(struct relay *r, struct conn *c);
void session_store_done(struct relay *r);
/* Hands the pending batch to the writer if it is idle. */
void session_submit(struct relay *r);
void session_expire(struct relay *r);
int session_load(struct relay *r);

#endif
