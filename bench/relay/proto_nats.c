/*
 * NATS client protocol for parley-loadgen, spoken inside binary WebSocket
 * frames to nats-server's websocket listener: INFO, CONNECT, SUB, PUB, MSG,
 * PING/PONG. The parser and the publishing here serve JetStream too
 * (proto_jetstream.c); core NATS itself is the rest of this file:
 * receivers subscribe to one subject per pair, and a PING after the SUB
 * and its PONG prove the subscription is in place before load starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nats.h"

enum { NATS_WAIT_INFO = 0, NATS_WAIT_PONG = 1, NATS_READY = 2 };

#define NATS_MAX_LINE 4096u
#define NATS_MAX_TOKENS 6

static const char connect_line[] =
    "CONNECT {\"verbose\":false,\"pedantic\":false,\"lang\":\"c\",\"version\":\"0.1.0\","
    "\"protocol\":1,\"headers\":true,\"no_responders\":true,\"echo\":false,"
    "\"name\":\"parley-loadgen\"}\r\n";

int nats_send_text(struct bench *b, struct conn *c, const char *s, size_t len)
{
    uint8_t *p = bench_frame_begin(b, c, len);
    if (p == NULL)
        return -1;
    memcpy(p, s, len);
    bench_frame_end(b, c, p, len);
    return 0;
}

size_t nats_connect_line(char *line, size_t cap)
{
    if (sizeof connect_line - 1 > cap)
        return 0;
    memcpy(line, connect_line, sizeof connect_line - 1);
    return sizeof connect_line - 1;
}

int nats_publish(struct bench *b, struct conn *c, const char *subject, const char *reply,
                 uint64_t t_ns)
{
    char head[160];
    int k = snprintf(head, sizeof head, "PUB %s%s%s %u\r\n", subject, reply ? " " : "",
                     reply ? reply : "", MSG_SIZE);
    size_t hlen, len;
    uint8_t *f;

    if (k < 0 || (size_t)k >= sizeof head)
        return -1;
    hlen = (size_t)k;
    len = hlen + MSG_SIZE + 2;
    f = bench_frame_begin(b, c, len);
    if (f == NULL)
        return -1;
    memcpy(f, head, hlen);
    memcpy(f + hlen, bench_payload(b), MSG_SIZE);
    stamp_put(f + hlen, t_ns);
    memcpy(f + hlen + MSG_SIZE, "\r\n", 2);
    bench_frame_end(b, c, f, len);
    return 0;
}

/* Splits line[0..len) at spaces; returns the number of tokens, -1 past max. */
static int split(const char *line, size_t len, const char **tok, size_t *tlen, int max)
{
    int n = 0;
    size_t i = 0;

    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == len)
            break;
        if (n == max)
            return -1;
        tok[n] = line + i;
        while (i < len && line[i] != ' ' && line[i] != '\t')
            i++;
        tlen[n] = (size_t)(line + i - tok[n]);
        n++;
    }
    return n;
}

static int parse_size(const char *s, size_t len, size_t *out)
{
    size_t v = 0;

    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/*
 * Reads the control line of a MSG (hmsg false) or HMSG into m, except the
 * payload; *total is the byte count that follows the line (without CRLF).
 */
static int parse_msg_line(const char *line, size_t len, bool hmsg, struct nats_msg *m,
                          size_t *total)
{
    const char *tok[NATS_MAX_TOKENS];
    size_t tlen[NATS_MAX_TOKENS], hdr = 0, sid;
    int n = split(line, len, tok, tlen, NATS_MAX_TOKENS);
    int sizes = hmsg ? 2 : 1;

    /* MSG subject sid [reply] size; HMSG subject sid [reply] hdr_size size */
    if (n != 3 + sizes && n != 4 + sizes)
        return -1;
    memset(m, 0, sizeof *m);
    m->subject = tok[1];
    m->subject_len = tlen[1];
    if (parse_size(tok[2], tlen[2], &sid) != 0)
        return -1;
    m->sid = (unsigned long)sid;
    if (n == 4 + sizes) {
        m->reply = tok[3];
        m->reply_len = tlen[3];
    }
    if (parse_size(tok[n - 1], tlen[n - 1], total) != 0)
        return -1;
    if (hmsg && (parse_size(tok[n - 2], tlen[n - 2], &hdr) != 0 || hdr > *total))
        return -1;
    m->header_len = hdr;
    return 0;
}

int nats_parse(struct bench *b, struct conn *c, const struct nats_hooks *h)
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

        if ((llen >= 4 && memcmp(s, "MSG ", 4) == 0) || (llen >= 5 && memcmp(s, "HMSG ", 5) == 0)) {
            bool hmsg = s[0] == 'H';
            struct nats_msg m;
            size_t total;
            if (parse_msg_line(s, llen, hmsg, &m, &total) != 0) {
                bench_error(b, c, "nats: bad %s line: %.*s", hmsg ? "HMSG" : "MSG",
                            (int)(llen > 80 ? 80 : llen), s);
                return -1;
            }
            if (avail - used < total + 2)
                return 0; /* the payload has not arrived yet */
            if (hmsg)
                m.header = s + used;
            m.payload = (const uint8_t *)s + used + m.header_len;
            m.size = total - m.header_len;
            if (h->msg(b, c, &m) != 0)
                return -1;
            used += total + 2;
        } else if (llen == 4 && memcmp(s, "PING", 4) == 0) {
            if (nats_send_text(b, c, "PONG\r\n", 6) != 0)
                return -1;
        } else if (llen == 4 && memcmp(s, "PONG", 4) == 0) {
            if (h->pong(b, c) != 0)
                return -1;
        } else if (llen >= 4 && memcmp(s, "INFO", 4) == 0) {
            if (c->step == NATS_WAIT_INFO && h->login(b, c) != 0)
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

/* ---------------------------------------------------------------------
 * Core NATS: at most once, nothing stored. */

static int core_open(struct bench *b, struct conn *c)
{
    c->step = NATS_WAIT_INFO;
    return 0;
}

/* Login: CONNECT, the receiver's SUB, then a PING whose PONG ends the handshake. */
static int core_login(struct bench *b, struct conn *c)
{
    char line[512];
    size_t n = nats_connect_line(line, sizeof line);
    int k;

    if (n == 0)
        return -1;
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
    return nats_send_text(b, c, line, n);
}

static int core_pong(struct bench *b, struct conn *c)
{
    if (c->step == NATS_WAIT_PONG) {
        c->step = NATS_READY;
        bench_conn_ready(b, c);
    }
    return 0;
}

static int core_msg(struct bench *b, struct conn *c, const struct nats_msg *m)
{
    if (c->pair != NULL && c->role == ROLE_RECEIVER && m->header == NULL)
        bench_received(b, c->pair, m->payload, m->size);
    return 0;
}

static const struct nats_hooks core_hooks = {
    .login = core_login,
    .pong = core_pong,
    .msg = core_msg,
};

static int core_data(struct bench *b, struct conn *c, bool message_end)
{
    return nats_parse(b, c, &core_hooks);
}

static int core_read_done(struct bench *b, struct conn *c) { return 0; }

static int core_send(struct bench *b, struct pair *p, uint64_t t_ns)
{
    if (nats_publish(b, p->tx, p->name, NULL, t_ns) != 0)
        return -1;
    p->sent++;
    return 0;
}

const struct proto proto_nats = {
    .name = "nats",
    .subprotocol = NULL,
    .acknowledged = false,
    .on_open = core_open,
    .on_data = core_data,
    .on_read_done = core_read_done,
    .send = core_send,
};
