/*
 * NATS client protocol for parley-loadgen, spoken inside binary WebSocket
 * frames to nats-server's websocket listener: INFO, CONNECT, SUB, PUB, MSG,
 * PING/PONG. Receivers subscribe to one subject per pair; a PING after the
 * SUB and its PONG prove the subscription is in place before load starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

enum { NATS_WAIT_INFO = 0, NATS_WAIT_PONG = 1, NATS_READY = 2 };

#define NATS_MAX_LINE 4096u

static const char connect_line[] =
    "CONNECT {\"verbose\":false,\"pedantic\":false,\"lang\":\"c\",\"version\":\"0.1.0\","
    "\"protocol\":1,\"echo\":false,\"name\":\"parley-loadgen\"}\r\n";

static int send_text(struct bench *b, struct conn *c, const char *s, size_t len)
{
    uint8_t *p = bench_frame_begin(b, c, len);
    if (p == NULL)
        return -1;
    memcpy(p, s, len);
    bench_frame_end(b, c, p, len);
    return 0;
}

static int nats_open(struct bench *b, struct conn *c)
{
    c->step = NATS_WAIT_INFO;
    return 0;
}

/* Login: CONNECT, the receiver's SUB, then a PING whose PONG ends the handshake. */
static int nats_login(struct bench *b, struct conn *c)
{
    char line[256];
    size_t n = 0;
    int k;

    if (sizeof connect_line - 1 > sizeof line)
        return -1;
    memcpy(line, connect_line, sizeof connect_line - 1);
    n = sizeof connect_line - 1;
    if (c->role == ROLE_RECEIVER) {
        k = snprintf(line + n, sizeof line - n, "SUB %s 1\r\n", c->pair->name);
        if (k < 0 || (size_t)k >= sizeof line - n)
            return -1;
        n += (size_t)k;
    }
    if (sizeof line - n < 6)
        return -1;
    memcpy(line + n, "PING\r\n", 6);
    n += 6;
    c->step = NATS_WAIT_PONG;
    return send_text(b, c, line, n);
}

/* Payload size: the last space-separated token of a MSG line. */
static int msg_size(const char *line, size_t len, size_t *size)
{
    size_t i = len;
    size_t v = 0;

    while (i > 0 && line[i - 1] != ' ')
        i--;
    if (i == len)
        return -1;
    for (size_t j = i; j < len; j++) {
        if (line[j] < '0' || line[j] > '9' || v > 100000000u)
            return -1;
        v = v * 10 + (size_t)(line[j] - '0');
    }
    *size = v;
    return 0;
}

static int nats_data(struct bench *b, struct conn *c, bool message_end)
{
    for (;;) {
        const char *s = (const char *)buf_data(&c->app);
        size_t avail = buf_used(&c->app);
        const char *nl = memchr(s, '\n', avail);
        size_t llen, used;

        if (nl == NULL) {
            if (avail > NATS_MAX_LINE) {
                bench_error(b, c, "nats: protocol line too long");
                return -1;
            }
            return 0;
        }
        llen = (size_t)(nl - s);
        used = llen + 1;
        if (llen > 0 && s[llen - 1] == '\r')
            llen--;

        if (llen >= 4 && memcmp(s, "MSG ", 4) == 0) {
            size_t size;
            if (msg_size(s, llen, &size) != 0) {
                bench_error(b, c, "nats: bad MSG line");
                return -1;
            }
            if (avail - used < size + 2)
                return 0; /* the payload has not arrived yet */
            if (c->pair != NULL && c->role == ROLE_RECEIVER)
                bench_received(b, c->pair, (const uint8_t *)s + used, size);
            used += size + 2;
        } else if (llen == 4 && memcmp(s, "PING", 4) == 0) {
            if (send_text(b, c, "PONG\r\n", 6) != 0)
                return -1;
        } else if (llen == 4 && memcmp(s, "PONG", 4) == 0) {
            if (c->step == NATS_WAIT_PONG) {
                c->step = NATS_READY;
                bench_conn_ready(b, c);
            }
        } else if (llen >= 4 && memcmp(s, "INFO", 4) == 0) {
            if (c->step == NATS_WAIT_INFO && nats_login(b, c) != 0)
                return -1;
        } else if (llen >= 3 && memcmp(s, "+OK", 3) == 0) {
            /* verbose is off; tolerate it anyway */
        } else if (llen >= 4 && memcmp(s, "-ERR", 4) == 0) {
            char what[128];
            snprintf(what, sizeof what, "%.*s", (int)llen, s);
            bench_server_error(b, c, what);
        } else {
            bench_error(b, c, "nats: unexpected line: %.*s", (int)(llen > 60 ? 60 : llen), s);
            return -1;
        }
        buf_consume(&c->app, used);
    }
}

static int nats_read_done(struct bench *b, struct conn *c) { return 0; }

static int nats_send(struct bench *b, struct pair *p, uint64_t t_ns)
{
    char head[64];
    int k = snprintf(head, sizeof head, "PUB %s %u\r\n", p->name, MSG_SIZE);
    size_t hlen, len;
    uint8_t *f;

    if (k < 0 || (size_t)k >= sizeof head)
        return -1;
    hlen = (size_t)k;
    len = hlen + MSG_SIZE + 2;
    f = bench_frame_begin(b, p->tx, len);
    if (f == NULL)
        return -1;
    memcpy(f, head, hlen);
    memcpy(f + hlen, bench_payload(b), MSG_SIZE);
    stamp_put(f + hlen, t_ns);
    memcpy(f + hlen + MSG_SIZE, "\r\n", 2);
    bench_frame_end(b, p->tx, f, len);
    p->sent++;
    return 0;
}

static uint64_t nats_in_flight(const struct pair *p) { return p->sent - p->received; }

const struct proto proto_nats = {
    .name = "nats",
    .subprotocol = NULL,
    .on_open = nats_open,
    .on_data = nats_data,
    .on_read_done = nats_read_done,
    .send = nats_send,
    .in_flight = nats_in_flight,
};
