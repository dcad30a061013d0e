/*
 * MQTT 3.1.1 client protocol for parley-loadgen, inside binary WebSocket
 * frames (subprotocol "mqtt") to mosquitto's websockets listener. Receivers
 * subscribe to one topic per pair and wait for the SUBACK before load;
 * keep-alive off: idle connections send nothing. Two configurations:
 * - proto_mqtt: PUBLISH at QoS 0 (at most once, no broker acknowledgement),
 *   clean sessions.
 * - proto_mqtt_qos1: PUBLISH at QoS 1 (at least once) on persistent
 *   sessions (clean session off, so the broker keeps a receiver's queue
 *   while it is away), subscriptions granted at QoS 1. The sender counts a
 *   message acknowledged on the broker's PUBACK, which must carry the
 *   packet id of its oldest unacknowledged PUBLISH (the broker acks in
 *   order); the receiver answers every delivery with a PUBACK (those of one
 *   socket read in one WebSocket frame, as Parley's Delivered ids are). A
 *   delivery flagged DUP (a redelivery) counts as a duplicate.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loadgen.h"

enum { MQTT_WAIT_CONNACK = 0, MQTT_WAIT_SUBACK = 1, MQTT_READY = 2 };

enum {
    MQTT_CONNECT = 1,
    MQTT_CONNACK = 2,
    MQTT_PUBLISH = 3,
    MQTT_PUBACK = 4,
    MQTT_SUBSCRIBE = 8,
    MQTT_SUBACK = 9,
    MQTT_PINGRESP = 13,
};

/* Writes the remaining-length varint; returns its size (1..4). */
static size_t put_varint(uint8_t *p, size_t v)
{
    size_t n = 0;
    do {
        uint8_t byte = (uint8_t)(v % 128);
        v /= 128;
        if (v > 0)
            byte |= 0x80;
        p[n++] = byte;
    } while (v > 0 && n < 4);
    return n;
}

static size_t varint_size(size_t v)
{
    return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

static size_t put_str(uint8_t *p, const char *s, size_t len)
{
    p[0] = (uint8_t)(len >> 8);
    p[1] = (uint8_t)len;
    memcpy(p + 2, s, len);
    return len + 2;
}

static unsigned qos_of(const struct bench *b)
{
    return bench_proto(b) == &proto_mqtt_qos1 ? 1u : 0u;
}

/* Packet id of a pair's n-th QoS 1 message: 1..65535, then again. */
static uint16_t packet_id(uint64_t n) { return (uint16_t)(n % 65535u + 1u); }

static int send_packet(struct bench *b, struct conn *c, const uint8_t *pkt, size_t len)
{
    uint8_t *p = bench_frame_begin(b, c, len);
    if (p == NULL)
        return -1;
    memcpy(p, pkt, len);
    bench_frame_end(b, c, p, len);
    return 0;
}

static int mqtt_open(struct bench *b, struct conn *c)
{
    uint8_t pkt[128];
    char id[48];
    int k = snprintf(id, sizeof id, "lg-%ld-%u", (long)getpid(), (unsigned)c->idx);
    size_t idlen, rem, n = 0;

    if (k < 0 || (size_t)k >= sizeof id)
        return -1;
    idlen = (size_t)k;
    rem = 10 + 2 + idlen;
    pkt[n++] = MQTT_CONNECT << 4;
    n += put_varint(pkt + n, rem);
    n += put_str(pkt + n, "MQTT", 4);
    pkt[n++] = 4;    /* protocol level 3.1.1 */
    pkt[n++] = qos_of(b) ? 0x00 : 0x02; /* clean session or not; no will, no credentials */
    pkt[n++] = 0;    /* keep-alive 0: off */
    pkt[n++] = 0;
    n += put_str(pkt + n, id, idlen);
    c->step = MQTT_WAIT_CONNACK;
    return send_packet(b, c, pkt, n);
}

static int mqtt_subscribe(struct bench *b, struct conn *c)
{
    uint8_t pkt[96];
    size_t tlen = strlen(c->pair->name);
    size_t rem = 2 + 2 + tlen + 1, n = 0;

    if (rem + 5 > sizeof pkt)
        return -1;
    pkt[n++] = (MQTT_SUBSCRIBE << 4) | 0x02;
    n += put_varint(pkt + n, rem);
    pkt[n++] = 0; /* packet id 1 */
    pkt[n++] = 1;
    n += put_str(pkt + n, c->pair->name, tlen);
    pkt[n++] = (uint8_t)qos_of(b); /* requested QoS */
    c->step = MQTT_WAIT_SUBACK;
    return send_packet(b, c, pkt, n);
}

/* A message from the broker: count it, and queue the PUBACK at QoS 1. */
static int on_publish(struct bench *b, struct conn *c, uint8_t flags, const uint8_t *body,
                      size_t rem)
{
    unsigned qos = (flags >> 1) & 3;
    size_t tlen, skip;

    if (rem < 2)
        goto malformed;
    tlen = ((size_t)body[0] << 8) | body[1];
    skip = 2 + tlen + (qos > 0 ? 2 : 0);
    if (skip > rem || qos > 1)
        goto malformed;
    if (c->pair == NULL || c->role != ROLE_RECEIVER) {
        bench_error(b, c, "mqtt: PUBLISH on a connection that receives nothing");
        return -1;
    }
    if (qos != qos_of(b)) {
        bench_error(b, c, "mqtt: PUBLISH at QoS %u, subscribed at %u", qos, qos_of(b));
        return -1;
    }
    if (qos == 1) {
        const uint8_t ack[4] = {MQTT_PUBACK << 4, 2, body[2 + tlen], body[3 + tlen]};
        if (buf_append(&c->acks, ack, sizeof ack) != 0) {
            bench_error(b, c, "mqtt: out of memory");
            return -1;
        }
    }
    if (flags & 0x08)
        c->pair->duplicates++;
    else
        bench_received(b, c->pair, body + skip, rem - skip);
    return 0;
malformed:
    bench_error(b, c, "mqtt: malformed PUBLISH");
    return -1;
}

/* The broker stored the sender's oldest unacknowledged message. */
static int on_puback(struct bench *b, struct conn *c, const uint8_t *body, size_t rem)
{
    struct pair *p = c->pair;
    uint16_t id;

    if (rem != 2 || p == NULL || c->role != ROLE_SENDER || qos_of(b) == 0) {
        bench_error(b, c, "mqtt: unexpected PUBACK");
        return -1;
    }
    id = (uint16_t)(((unsigned)body[0] << 8) | body[1]);
    if (p->acked >= p->sent || id != packet_id(p->acked)) {
        bench_error(b, c, "mqtt: PUBACK for packet %u, expected %u", (unsigned)id,
                    (unsigned)packet_id(p->acked));
        return -1;
    }
    bench_acked(b, p);
    return 0;
}

static int mqtt_data(struct bench *b, struct conn *c, bool message_end)
{
    for (;;) {
        const uint8_t *p = buf_data(&c->app);
        size_t avail = buf_used(&c->app);
        size_t rem = 0, hlen = 1, mult = 1;
        uint8_t type;

        if (avail < 2)
            return 0;
        for (;;) {
            if (hlen >= avail)
                return 0;
            if (hlen > 4) {
                bench_error(b, c, "mqtt: bad remaining length");
                return -1;
            }
            rem += (size_t)(p[hlen] & 0x7f) * mult;
            mult *= 128;
            if ((p[hlen++] & 0x80) == 0)
                break;
        }
        if (avail - hlen < rem)
            return 0;
        type = p[0] >> 4;
        const uint8_t *body = p + hlen;

        switch (type) {
        case MQTT_CONNACK:
            if (rem != 2 || body[1] != 0) {
                bench_error(b, c, "mqtt: connection refused (code %u)", rem == 2 ? body[1] : 255u);
                return -1;
            }
            if (c->step == MQTT_WAIT_CONNACK) {
                if (c->role == ROLE_RECEIVER) {
                    if (mqtt_subscribe(b, c) != 0)
                        return -1;
                } else {
                    c->step = MQTT_READY;
                    bench_conn_ready(b, c);
                }
            }
            break;
        case MQTT_SUBACK:
            if (rem < 3 || body[2] != qos_of(b)) {
                bench_error(b, c, "mqtt: subscription refused or not granted at QoS %u",
                            qos_of(b));
                return -1;
            }
            if (c->step == MQTT_WAIT_SUBACK) {
                c->step = MQTT_READY;
                bench_conn_ready(b, c);
            }
            break;
        case MQTT_PUBLISH:
            if (on_publish(b, c, p[0], body, rem) != 0)
                return -1;
            break;
        case MQTT_PUBACK:
            if (on_puback(b, c, body, rem) != 0)
                return -1;
            break;
        case MQTT_PINGRESP:
            break;
        default:
            bench_error(b, c, "mqtt: unexpected packet type %u", type);
            return -1;
        }
        buf_consume(&c->app, hlen + rem);
    }
}

/* The PUBACKs of one read, in one frame. */
static int mqtt_read_done(struct bench *b, struct conn *c)
{
    size_t n = buf_used(&c->acks);

    if (n == 0)
        return 0;
    if (send_packet(b, c, buf_data(&c->acks), n) != 0)
        return -1;
    buf_consume(&c->acks, n);
    return 0;
}

static int mqtt_send(struct bench *b, struct pair *p, uint64_t t_ns)
{
    unsigned qos = qos_of(b);
    size_t tlen = strlen(p->name);
    size_t rem = 2 + tlen + (qos ? 2 : 0) + MSG_SIZE;
    size_t len = 1 + varint_size(rem) + rem, n = 0;
    uint8_t *f = bench_frame_begin(b, p->tx, len);

    if (f == NULL)
        return -1;
    f[n++] = (uint8_t)(MQTT_PUBLISH << 4 | qos << 1); /* no retain, no dup */
    n += put_varint(f + n, rem);
    n += put_str(f + n, p->name, tlen);
    if (qos) {
        uint16_t id = packet_id(p->sent);
        f[n++] = (uint8_t)(id >> 8);
        f[n++] = (uint8_t)id;
    }
    memcpy(f + n, bench_payload(b), MSG_SIZE);
    stamp_put(f + n, t_ns);
    bench_frame_end(b, p->tx, f, len);
    p->sent++;
    return 0;
}

const struct proto proto_mqtt = {
    .name = "mqtt",
    .subprotocol = "mqtt",
    .acknowledged = false,
    .on_open = mqtt_open,
    .on_data = mqtt_data,
    .on_read_done = mqtt_read_done,
    .send = mqtt_send,
};

const struct proto proto_mqtt_qos1 = {
    .name = "mqtt-qos1",
    .subprotocol = "mqtt",
    .acknowledged = true,
    .on_open = mqtt_open,
    .on_data = mqtt_data,
    .on_read_done = mqtt_read_done,
    .send = mqtt_send,
};
