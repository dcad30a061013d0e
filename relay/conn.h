/*
 * One client connection of the relay: its state, its output queue and
 * how it closes. Every frame is queued whole after LWS_PRE bytes of
 * headroom and written as the socket takes it; every queued byte counts
 * against the connection's outbound budget (small until it
 * authenticates), and past it the connection is cut off. A close queues
 * the close frame, stops reading and ends the connection once flushed,
 * within seconds whatever the peer does. The protocol above (session.h)
 * queues through here; nothing here calls up into it. Loop thread only.
 */
#ifndef RELAY_CONN_H
#define RELAY_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

struct lws;
struct relay;

enum conn_state { CONN_HTTP, CONN_WS };

/*
 * An envelope sent and not yet acknowledged. One sent live, as it
 * arrived, also says where its insert is (batch: the number of the batch
 * that holds it, 0 for one read from the store; op: its place in that
 * batch while pending) and who sent it, so that a delivery confirmed
 * before the commit can take the insert back or acknowledge the sender.
 */
struct inflight {
    uint8_t envelope_id[16];
    size_t bytes;
    uint64_t seq;
    uint64_t batch;
    uint32_t op;
    uint64_t sender_serial;
    uint8_t sender[32];
};

/* A token bucket: refills at a rate per second up to a burst. */
struct bucket {
    double tokens;
    uint64_t ms;                         /* last refill; 0: never used, full */
};

/* Takes n tokens if there are that many (true); otherwise takes none (false). */
bool bucket_take(struct bucket *b, double rate, double burst, double n, uint64_t now_ms);

struct conn {
    struct lws *wsi;
    struct conn *prev, *next;            /* all connections */
    uint64_t serial;
    enum conn_state state;
    bool authed, agent, closing, shut, live;
    unsigned auth_pending;               /* authenticated, its AuthOk waits for this many
                                            store answers */
    bool budget_pending;                 /* its sender budget is being read: no send yet */
    uint64_t prekeys_left;               /* agents: one-time prekeys stored, for the AuthOk */
    bool fetching, refetch;              /* a STORE_FETCH is out; ask again once it is in */
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
    uint64_t authed_at_ms;               /* Unix ms of authentication (replacement across nodes) */
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
    /* Delivery: the highest seq sent. */
    uint64_t cursor;
    /* The window: envelopes sent and not yet acknowledged with delivered (delivery.c). */
    struct inflight *inflight;           /* window-envelopes slots once it has had one */
    size_t n_inflight;
    uint64_t inflight_bytes;
};

/* Sets up the relay's pools of output queues and delivery windows (relay.tx_pool, window_pool). */
void conn_pools_init(struct relay *r);
/* Gives c's output queue back (the connection is gone). */
void conn_release(struct relay *r, struct conn *c);
/* Queues raw bytes (an HTTP answer) outside any budget. False when out of memory. */
bool conn_queue_raw(struct conn *c, const void *data, size_t len);
bool conn_queue_frame(struct relay *r, struct conn *c, uint8_t opcode, const uint8_t *payload,
                      size_t len);
/*
 * Reserves room for one binary frame of len payload bytes on c's queue
 * and returns where to write the payload. NULL when c is closing or, being
 * too far behind (over max_outbound), has just been cut off.
 */
uint8_t *conn_frame_begin(struct relay *r, struct conn *c, size_t len);
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
/*
 * On a writeable callback: writes what the socket takes of the queue
 * (refilled from a file being served). -1: drop the connection now; 0:
 * more to write, or closing; 1: idle and open, the protocol may queue more.
 */
int conn_write(struct relay *r, struct conn *c);

#endif
