/*
 * The NATS client protocol as parley-loadgen speaks it, shared by core
 * NATS (proto_nats.c) and JetStream (proto_jetstream.c): the text protocol
 * (INFO, CONNECT, SUB, PUB, MSG, PING/PONG, +OK/-ERR) inside binary
 * WebSocket frames to nats-server's websocket listener.
 */
#ifndef BENCH_RELAY_NATS_H
#define BENCH_RELAY_NATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loadgen.h"

/* One MSG (or HMSG) from the server; pointers into the connection's input. */
struct nats_msg {
    const char *subject;
    size_t subject_len;
    unsigned long sid;
    const char *reply; /* NULL when the message has no reply subject */
    size_t reply_len;
    const char *header; /* HMSG only: the header block, NULL for MSG */
    size_t header_len;
    const uint8_t *payload;
    size_t size;
};

/* What differs between core NATS and JetStream on top of the shared parser. */
struct nats_hooks {
    /* INFO arrived while c->step is 0 (a fresh connection): log in. 0 or -1. */
    int (*login)(struct bench *b, struct conn *c);
    /* A PONG arrived (the answer to the client's PING). 0 or -1. */
    int (*pong)(struct bench *b, struct conn *c);
    /* A MSG or HMSG arrived. 0 or -1. */
    int (*msg)(struct bench *b, struct conn *c, const struct nats_msg *m);
};

/*
 * Consumes the whole protocol lines and messages in c->app, calling the
 * hooks; answers the server's PINGs. 0, or -1 on a protocol error.
 */
int nats_parse(struct bench *b, struct conn *c, const struct nats_hooks *h);

/* Queues len bytes of protocol text as one WebSocket frame. 0 or -1. */
int nats_send_text(struct bench *b, struct conn *c, const char *s, size_t len);

/*
 * Writes the CONNECT line (verbose and echo off) into line[0..cap);
 * returns its length, or 0 when it does not fit.
 */
size_t nats_connect_line(char *line, size_t cap);

/*
 * Queues "PUB subject [reply] 1024" with the benchmark payload stamped with
 * t_ns, as one WebSocket frame. reply may be NULL. 0 or -1.
 */
int nats_publish(struct bench *b, struct conn *c, const char *subject, const char *reply,
                 uint64_t t_ns);

#endif
