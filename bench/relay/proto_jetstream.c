/*
 * NATS JetStream for parley-loadgen: the durable configuration of NATS a
 * user would compare Parley with, over the same NATS protocol as core NATS
 * (nats.h), so nothing but JetStream differs.
 *
 * - One stream per run, file storage, one replica, work-queue retention
 *   (a message is removed once its consumer acknowledged it, as Parley
 *   deletes an envelope once delivered), its subjects bench.<run>.>.
 * - Publish with acknowledgement: each message is a PUB to the pair's
 *   subject with a reply subject of its own (_INBOX.<run>.c<conn>.<n>);
 *   the server's PubAck comes back on it once the message is stored.
 *   PubAcks must come back in the order of the publishes; one with an
 *   error (the message was not stored) ends the run as failed.
 * - One durable push consumer per pair, filtered on the pair's subject,
 *   AckExplicit: the receiver acknowledges every message with +ACK on its
 *   $JS.ACK reply subject (the acks of one socket read go out in one
 *   WebSocket frame, as Parley's Delivered ids do). A redelivery (delivery
 *   count above 1) is counted as a duplicate, not as a message received,
 *   and a gap in the consumer's delivery sequence is an error.
 * Every receiver sends the same stream configuration (JetStream accepts an
 * identical re-creation) and then creates its own consumer; the handshake
 * ends with a PING/PONG, so load starts only when all of it is in place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nats.h"

enum {
    JS_WAIT_INFO = 0,
    JS_WAIT_STREAM = 1,   /* receiver: stream create response */
    JS_WAIT_CONSUMER = 2, /* receiver: consumer create response */
    JS_WAIT_PONG = 3,
    JS_READY = 4,
};

enum { SID_INBOX = 1, SID_DELIVER = 2 };

/* The consumer never holds back deliveries: above the generator's cap. */
#define JS_MAX_ACK_PENDING 8192
#define JS_LINE_MAX 1024

static int js_open(struct bench *b, struct conn *c)
{
    c->step = JS_WAIT_INFO;
    return 0;
}

/* Queues "PUB subject reply len\r\njson\r\n" as one frame. */
static int api_request(struct bench *b, struct conn *c, const char *subject, const char *reply,
                       const char *json)
{
    char line[JS_LINE_MAX];
    size_t jlen = strlen(json);
    int k = snprintf(line, sizeof line, "PUB %s %s %zu\r\n%s\r\n", subject, reply, jlen, json);

    if (k < 0 || (size_t)k >= sizeof line) {
        bench_error(b, c, "jetstream: API request too long");
        return -1;
    }
    return nats_send_text(b, c, line, (size_t)k);
}

static int create_stream(struct bench *b, struct conn *c)
{
    const char *run = bench_run_tag(b);
    char subject[96], reply[96], json[512];
    int k1 = snprintf(subject, sizeof subject, "$JS.API.STREAM.CREATE.PB%s", run);
    int k2 = snprintf(reply, sizeof reply, "_INBOX.%s.c%u.api", run, (unsigned)c->idx);
    int k3 = snprintf(json, sizeof json,
                      "{\"name\":\"PB%s\",\"subjects\":[\"bench.%s.>\"],\"retention\":\"workqueue\","
                      "\"storage\":\"file\",\"num_replicas\":1,\"discard\":\"old\",\"max_msgs\":-1,"
                      "\"max_bytes\":-1,\"max_age\":0,\"max_consumers\":-1,\"max_msg_size\":-1}",
                      run, run);

    if (k1 < 0 || (size_t)k1 >= sizeof subject || k2 < 0 || (size_t)k2 >= sizeof reply || k3 < 0 ||
        (size_t)k3 >= sizeof json)
        return -1;
    c->step = JS_WAIT_STREAM;
    return api_request(b, c, subject, reply, json);
}

static int create_consumer(struct bench *b, struct conn *c)
{
    const char *run = bench_run_tag(b);
    unsigned i = (unsigned)c->pair->idx;
    char subject[128], reply[96], json[640];
    int k1 = snprintf(subject, sizeof subject, "$JS.API.CONSUMER.DURABLE.CREATE.PB%s.rx%u", run, i);
    int k2 = snprintf(reply, sizeof reply, "_INBOX.%s.c%u.api", run, (unsigned)c->idx);
    int k3 = snprintf(json, sizeof json,
                      "{\"stream_name\":\"PB%s\",\"config\":{\"durable_name\":\"rx%u\","
                      "\"deliver_subject\":\"_INBOX.%s.d%u\",\"deliver_policy\":\"all\","
                      "\"ack_policy\":\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,"
                      "\"filter_subject\":\"%s\",\"replay_policy\":\"instant\","
                      "\"max_ack_pending\":%d}}",
                      run, i, run, i, c->pair->name, JS_MAX_ACK_PENDING);

    if (k1 < 0 || (size_t)k1 >= sizeof subject || k2 < 0 || (size_t)k2 >= sizeof reply || k3 < 0 ||
        (size_t)k3 >= sizeof json)
        return -1;
    c->step = JS_WAIT_CONSUMER;
    return api_request(b, c, subject, reply, json);
}

/*
 * Login: CONNECT and the inbox subscription for every connection that
 * sends or receives, the delivery subscription for receivers, then the
 * stream (receivers) or a PING (everyone else).
 */
static int js_login(struct bench *b, struct conn *c)
{
    char line[JS_LINE_MAX];
    size_t n = nats_connect_line(line, sizeof line);
    int k = 0;

    if (n == 0)
        return -1;
    if (c->role == ROLE_SENDER)
        k = snprintf(line + n, sizeof line - n, "SUB _INBOX.%s.c%u.* %d\r\n", bench_run_tag(b),
                     (unsigned)c->idx, SID_INBOX);
    else if (c->role == ROLE_RECEIVER)
        k = snprintf(line + n, sizeof line - n, "SUB _INBOX.%s.c%u.* %d\r\nSUB _INBOX.%s.d%u %d\r\n",
                     bench_run_tag(b), (unsigned)c->idx, SID_INBOX, bench_run_tag(b),
                     (unsigned)c->pair->idx, SID_DELIVER);
    if (k < 0 || (size_t)k >= sizeof line - n)
        return -1;
    n += (size_t)k;
    if (c->role != ROLE_RECEIVER) {
        if (sizeof line - n < 6)
            return -1;
        memcpy(line + n, "PING\r\n", 6);
        n += 6;
        c->step = JS_WAIT_PONG;
        return nats_send_text(b, c, line, n);
    }
    if (nats_send_text(b, c, line, n) != 0)
        return -1;
    return create_stream(b, c);
}

static int js_pong(struct bench *b, struct conn *c)
{
    if (c->step == JS_WAIT_PONG) {
        c->step = JS_READY;
        bench_conn_ready(b, c);
    }
    return 0;
}

/* An API response or PubAck with an "error" object: report it. */
static bool reply_failed(struct bench *b, struct conn *c, const struct nats_msg *m, const char *what)
{
    const char *e = memmem(m->payload, m->size, "\"error\"", 7);
    char msg[200];

    if (m->header != NULL) {
        /* A status message, e.g. 503 no responders: no stream for the subject. */
        const char *eol = memchr(m->header, '\r', m->header_len);
        int hl = (int)(eol ? (size_t)(eol - m->header) : m->header_len);
        snprintf(msg, sizeof msg, "%s: status %.*s", what, hl > 80 ? 80 : hl, m->header);
        bench_server_error(b, c, msg);
        return true;
    }
    if (e == NULL)
        return false;
    snprintf(msg, sizeof msg, "%s: %.*s", what, (int)(m->size > 160 ? 160 : m->size),
             (const char *)m->payload);
    bench_server_error(b, c, msg);
    return true;
}

static int on_api_reply(struct bench *b, struct conn *c, const struct nats_msg *m)
{
    if (c->step == JS_WAIT_STREAM) {
        if (reply_failed(b, c, m, "stream create"))
            return -1;
        return create_consumer(b, c);
    }
    if (c->step == JS_WAIT_CONSUMER) {
        if (reply_failed(b, c, m, "consumer create"))
            return -1;
        c->step = JS_WAIT_PONG;
        return nats_send_text(b, c, "PING\r\n", 6);
    }
    bench_error(b, c, "jetstream: API reply out of turn");
    return -1;
}

/* Last token of a dot-separated subject as a number; -1 when it is none. */
static int last_number(const char *s, size_t len, uint64_t *out)
{
    size_t i = len;
    uint64_t v = 0;

    while (i > 0 && s[i - 1] != '.')
        i--;
    if (i == len || len - i > 19)
        return -1;
    for (size_t j = i; j < len; j++) {
        if (s[j] < '0' || s[j] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[j] - '0');
    }
    *out = v;
    return 0;
}

/* The PubAck of the sender's publish number n (its reply subject's last token). */
static int on_puback(struct bench *b, struct conn *c, const struct nats_msg *m)
{
    struct pair *p = c->pair;
    uint64_t n;

    if (last_number(m->subject, m->subject_len, &n) != 0) {
        bench_error(b, c, "jetstream: reply on %.*s", (int)m->subject_len, m->subject);
        return -1;
    }
    if (n != p->acked) {
        bench_error(b, c, "jetstream: PubAck for publish %llu, expected %llu",
                    (unsigned long long)n, (unsigned long long)p->acked);
        return -1;
    }
    if (reply_failed(b, c, m, "publish"))
        return -1; /* not stored: the run is void */
    if (memmem(m->payload, m->size, "\"seq\":", 6) == NULL) {
        bench_error(b, c, "jetstream: PubAck without a sequence: %.*s",
                    (int)(m->size > 80 ? 80 : m->size), (const char *)m->payload);
        return -1;
    }
    bench_acked(b, p);
    return 0;
}

/*
 * The fields of a $JS.ACK reply subject, counted from its end (2.9 has
 * 9 tokens, later servers 12; the last five are the same):
 * ... .<delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending>
 */
static int ack_fields(const char *s, size_t len, uint64_t *delivered, uint64_t *cseq)
{
    uint64_t f[5];
    size_t end = len;

    if (len < 8 || memcmp(s, "$JS.ACK.", 8) != 0)
        return -1;
    for (int i = 4; i >= 0; i--) {
        size_t start = end;
        if (last_number(s, end, &f[i]) != 0)
            return -1;
        while (start > 0 && s[start - 1] != '.')
            start--;
        if (start == 0)
            return -1;
        end = start - 1;
    }
    *delivered = f[0];
    *cseq = f[2];
    return 0;
}

static int on_delivery(struct bench *b, struct conn *c, const struct nats_msg *m)
{
    struct pair *p = c->pair;
    uint64_t delivered, cseq;
    char line[160];
    int k;

    if (m->header != NULL) {
        reply_failed(b, c, m, "consumer delivery");
        return -1;
    }
    if (m->reply == NULL || ack_fields(m->reply, m->reply_len, &delivered, &cseq) != 0) {
        bench_error(b, c, "jetstream: delivery without a $JS.ACK reply subject");
        return -1;
    }
    if (cseq != p->rx_seq + 1) {
        bench_error(b, c, "jetstream: consumer sequence %llu after %llu",
                    (unsigned long long)cseq, (unsigned long long)p->rx_seq);
        return -1;
    }
    p->rx_seq = cseq;
    if (delivered == 1)
        bench_received(b, p, m->payload, m->size);
    else
        p->duplicates++;
    k = snprintf(line, sizeof line, "PUB %.*s 4\r\n+ACK\r\n", (int)m->reply_len, m->reply);
    if (k < 0 || (size_t)k >= sizeof line || buf_append(&c->acks, line, (size_t)k) != 0) {
        bench_error(b, c, "jetstream: cannot queue the ack");
        return -1;
    }
    return 0;
}

static int js_msg(struct bench *b, struct conn *c, const struct nats_msg *m)
{
    if (m->sid == SID_DELIVER && c->role == ROLE_RECEIVER)
        return on_delivery(b, c, m);
    if (m->sid != SID_INBOX || c->pair == NULL) {
        bench_error(b, c, "jetstream: message on subscription %lu", m->sid);
        return -1;
    }
    if (c->role == ROLE_RECEIVER)
        return on_api_reply(b, c, m);
    return on_puback(b, c, m);
}

static const struct nats_hooks js_hooks = {
    .login = js_login,
    .pong = js_pong,
    .msg = js_msg,
};

static int js_data(struct bench *b, struct conn *c, bool message_end)
{
    return nats_parse(b, c, &js_hooks);
}

/* The acks of one read, in one frame. */
static int js_read_done(struct bench *b, struct conn *c)
{
    size_t n = buf_used(&c->acks);

    if (n == 0)
        return 0;
    if (nats_send_text(b, c, (const char *)buf_data(&c->acks), n) != 0)
        return -1;
    buf_consume(&c->acks, n);
    return 0;
}

static int js_send(struct bench *b, struct pair *p, uint64_t t_ns)
{
    char reply[64];
    int k = snprintf(reply, sizeof reply, "_INBOX.%s.c%u.%llu", bench_run_tag(b),
                     (unsigned)p->tx->idx, (unsigned long long)p->sent);

    if (k < 0 || (size_t)k >= sizeof reply || nats_publish(b, p->tx, p->name, reply, t_ns) != 0)
        return -1;
    p->sent++;
    return 0;
}

const struct proto proto_jetstream = {
    .name = "jetstream",
    .subprotocol = NULL,
    .acknowledged = true,
    .on_open = js_open,
    .on_data = js_data,
    .on_read_done = js_read_done,
    .send = js_send,
};
