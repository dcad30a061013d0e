/*
 * MQTT 3.1.1 client protocol for parley-loadgen, inside binary WebSocket
 * frames (subprotocol "mqtt") to mosquitto's websockets listener. Messages
 * are PUBLISH at QoS 0 (at most once, no broker acknowledgement); receivers
 * subscribe to one topic per pair and wait for the SUBACK before load.
 * Clean sessions, keep-alive off: idle connections send nothing.
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
    pkt[n++] = 0x02; /* clean session, no will, no credentials */
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
    pkt[n++] = 0; /* requested QoS 0 */
    c->step = MQTT_WAIT_SUBACK;
    return send_packet(b, c, pkt, n);
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
            if (rem < 3 || body[2] == 0x80) {
                bench_error(b, c, "mqtt: subscription refused");
                return -1;
            }
            if (c->step == MQTT_WAIT_SUBACK) {
                c->step = MQTT_READY;
                bench_conn_ready(b, c);
            }
            break;
        case MQTT_PUBLISH: {
            unsigned qos = (p[0] >> 1) & 3;
            size_t tlen, skip;
            if (rem < 2)
                goto malformed;
            tlen = ((size_t)body[0] << 8) | body[1];
            skip = 2 + tlen + (qos > 0 ? 2 : 0);
            if (skip > rem)
                goto malformed;
            if (c->pair != NULL && c->role == ROLE_RECEIVER)
                bench_received(b, c->pair, body + skip, rem - skip);
            break;
        }
        case MQTT_PINGRESP:
            break;
        default:
            bench_error(b, c, "mqtt: unexpected packet type %u", type);
            return -1;
        }
        buf_consume(&c->app, hlen + rem);
    }
malformed:
    bench_error(b, c, "mqtt: malformed PUBLISH");
    return -1;
}

static int mqtt_read_done(struct bench *b, struct conn *c) { return 0; }

static int mqtt_send(struct bench *b, struct pair *p, uint64_t t_ns)
{
    size_t tlen = strlen(p->name);
    size_t rem = 2 + tlen + MSG_SIZE;
    size_t len = 1 + varint_size(rem) + rem, n = 0;
    uint8_t *f = bench_frame_begin(b, p->tx, len);

    if (f == NULL)
        return -1;
    f[n++] = MQTT_PUBLISH << 4; /* QoS 0, no retain, no dup */
    n += put_varint(f + n, rem);
    n += put_str(f + n, p->name, tlen);
    memcpy(f + n, bench_payload(b), MSG_SIZE);
    stamp_put(f + n, t_ns);
    bench_frame_end(b, p->tx, f, len);
    p->sent++;
    return 0;
}

static uint64_t mqtt_in_flight(const struct pair *p) { return p->sent - p->received; }

const struct proto proto_mqtt = {
    .name = "mqtt",
    .subprotocol = "mqtt",
    .on_open = mqtt_open,
    .on_data = mqtt_data,
    .on_read_done = mqtt_read_done,
    .send = mqtt_send,
    .in_flight = mqtt_in_flight,
};
