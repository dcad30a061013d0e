/*
 * Shared state of parley-loadgen: connections, sender/receiver pairs, and
 * the interface each protocol (NATS, MQTT, Parley) implements on top of
 * the common WebSocket transport in loadgen.c.
 */
#ifndef BENCH_RELAY_LOADGEN_H
#define BENCH_RELAY_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MSG_SIZE 1024u      /* application payload of every message */
#define PARLEY_ID_BYTES 16u /* envelope and conversation ids */

enum role { ROLE_IDLE, ROLE_SENDER, ROLE_RECEIVER };

enum conn_state {
    ST_CONNECTING, /* TCP connect in progress */
    ST_UPGRADE,    /* waiting for the HTTP 101 */
    ST_HANDSHAKE,  /* protocol-level login (CONNECT, auth, SUB) */
    ST_READY,
    ST_CLOSED,
};

struct pair;

struct conn {
    int fd;
    uint32_t idx;
    enum role role;
    enum conn_state state;
    int step;           /* protocol handshake step, owned by the protocol */
    bool want_out;      /* EPOLLOUT is registered */
    bool dirty;         /* queued for a flush at the end of the loop turn */
    bool in_message;    /* a fragmented data message is being reassembled */
    struct pair *pair;  /* NULL for idle connections */
    struct conn *next_dirty;
    struct buf in;      /* socket bytes not yet decoded (partial frames) */
    struct buf app;     /* WebSocket payload bytes not yet used by the protocol */
    struct buf out;     /* bytes waiting for the socket */
    struct buf acks;    /* Parley: envelope ids to acknowledge as delivered */
    uint8_t sign_pk[32];
};

struct pair {
    uint32_t idx;
    struct conn *tx, *rx;
    uint64_t sent, acked, received;
    uint64_t duplicates;       /* redeliveries of a message already received */
    uint64_t rx_seq;           /* JetStream: last consumer delivery sequence */
    char name[32];             /* NATS subject / MQTT topic */
    uint8_t routing[32];       /* Parley: routing id of rx */
    uint8_t conversation[16];  /* Parley */
};

struct bench;

struct proto {
    const char *name;
    const char *subprotocol; /* Sec-WebSocket-Protocol, NULL for none */
    /*
     * The server acknowledges each message to its sender once it has taken
     * responsibility for it (bench_acked): a message is then in flight
     * until both its ack and its delivery arrived, and after the run every
     * message sent must be acknowledged and received exactly once. Without
     * acks (at most once) a message is in flight until it is received.
     */
    bool acknowledged;
    /* The upgrade succeeded: send whatever opens the session. 0 or -1. */
    int (*on_open)(struct bench *b, struct conn *c);
    /*
     * WebSocket payload bytes were appended to c->app; message_end says a
     * data message just ended (Parley frames are whole messages; NATS and
     * MQTT are byte streams and ignore it). Consume what is used. 0 or -1.
     */
    int (*on_data)(struct bench *b, struct conn *c, bool message_end);
    /* All bytes of one socket read were handled (batching point). 0 or -1. */
    int (*on_read_done)(struct bench *b, struct conn *c);
    /* Queue one message from p->tx to p->rx stamped with t_ns. 0 or -1. */
    int (*send)(struct bench *b, struct pair *p, uint64_t t_ns);
};

extern const struct proto proto_nats;
extern const struct proto proto_jetstream;
extern const struct proto proto_mqtt;
extern const struct proto proto_mqtt_qos1;
extern const struct proto proto_parley;

/* Services loadgen.c offers to the protocols. */
uint8_t *bench_frame_begin(struct bench *b, struct conn *c, size_t len);
void bench_frame_end(struct bench *b, struct conn *c, uint8_t *payload, size_t len);
const uint8_t *bench_payload(const struct bench *b); /* MSG_SIZE random bytes */
void bench_conn_ready(struct bench *b, struct conn *c);
void bench_received(struct bench *b, struct pair *p, const uint8_t *payload, size_t len);
void bench_acked(struct bench *b, struct pair *p);
void bench_error(struct bench *b, struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void bench_server_error(struct bench *b, struct conn *c, const char *what);
uint32_t bench_random(struct bench *b);
const struct proto *bench_proto(const struct bench *b);
/* Eight hex digits unique to this run: names of subjects, streams, inboxes. */
const char *bench_run_tag(const struct bench *b);

/* Little-endian stamp in the first 8 bytes of a payload. */
static inline void stamp_put(uint8_t *p, uint64_t t)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(t >> (8 * i));
}

static inline uint64_t stamp_get(const uint8_t *p)
{
    uint64_t t = 0;
    for (int i = 7; i >= 0; i--)
        t = (t << 8) | p[i];
    return t;
}

#endif
