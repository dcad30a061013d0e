/*
 * The WebSocket rules a real relay enforces on what relay/ws.c parses:
 * control frames over 125 bytes or fragmented, continuations without a
 * start and starts inside a message, lengths with the top bit set or not
 * in their shortest form are each closed with 1002; a message fragmented
 * around a ping, an upgrade request and a frame sent one byte at a time
 * all work; a handshake with two keys is not upgraded. A bystander keeps
 * working throughout.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "testkit.h"
#include "ws.h"

struct fixture {
    struct tk_env e;
    parley_identity *by_id;
    wsc *by;
};

static void fixture_start(struct fixture *f, const char *tag)
{
    tk_env_init(&f->e, tag);
    tk_env_start(&f->e, NULL);
    f->by_id = tk_identity();
    f->by = pc_connect(f->e.relay.port, f->by_id, NULL, 0);
    CHECKM(f->by != NULL, "bystander cannot connect");
}

/* The bystander still works and the relay is alive. */
static void fixture_end(struct fixture *f)
{
    tk_roundtrip(f->by, f->by_id);
    CHECKM(relay_alive(&f->e.relay), "the relay died");
    wsc_free(f->by);
    parley_identity_free(f->by_id);
    tk_env_end(&f->e);
}

static wsc *authed(struct fixture *f, parley_identity **id)
{
    return tk_connect_new(f->e.relay.port, id);
}

/* One hostile frame (b0, declared length, payload) on a fresh connection: closed with code. */
static void expect_closed(struct fixture *f, uint8_t b0, uint64_t declared, const uint8_t *p,
                          size_t n, int code, const char *what)
{
    parley_identity *id;
    wsc *c = authed(f, &id);

    CHECK(wsc_send_frame(c, b0, true, declared, p, n) == 0);
    tk_expect_close(c, code, 5000, what);
    wsc_free(c);
    parley_identity_free(id);
}

/* Raw header bytes (already masked form) then nothing: closed with code. */
static void expect_closed_raw(struct fixture *f, const void *hdr, size_t n, int code,
                              const char *what)
{
    parley_identity *id;
    wsc *c = authed(f, &id);

    CHECK(wsc_send_raw(c, hdr, n) == 0);
    tk_expect_close(c, code, 5000, what);
    wsc_free(c);
    parley_identity_free(id);
}

static void test_control_frames_over_125_or_fragmented(void)
{
    struct fixture f;
    uint8_t p[200];

    memset(p, 'p', sizeof(p));
    fixture_start(&f, "ws-control");
    expect_closed(&f, WSC_FIN | WSC_OP_PING, 126, p, 126, 1002, "ping of 126 bytes");
    expect_closed(&f, WSC_FIN | WSC_OP_PONG, 200, p, 200, 1002, "pong of 200 bytes");
    expect_closed(&f, WSC_FIN | WSC_OP_CLOSE, 126, p, 126, 1002, "close of 126 bytes");
    expect_closed(&f, WSC_OP_PING, 4, p, 4, 1002, "ping without FIN");
    expect_closed(&f, WSC_OP_CLOSE, 2, (const uint8_t *)"\x03\xe8", 2, 1002, "close without FIN");
    expect_closed(&f, WSC_FIN | 0xb, 0, p, 0, 1002, "reserved control opcode 0xb");
    {
        /* A ping of exactly 125 bytes is fine: its pong comes back whole. */
        parley_identity *id;
        wsc *c = authed(&f, &id);
        struct wsc_msg m;
        CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_PING, true, 125, p, 125) == 0);
        CHECK(wsc_recv(c, 5000, &m) == WSC_OK);
        CHECKM(m.opcode == WSC_OP_PONG && m.len == 125, "125-byte ping not answered whole");
        wsc_msg_clear(&m);
        tk_roundtrip(c, id);
        wsc_free(c);
        parley_identity_free(id);
    }
    fixture_end(&f);
}

static void test_fragment_order_enforced(void)
{
    struct fixture f;
    parley_identity *id;
    uint8_t p[8] = {0};
    wsc *c;

    fixture_start(&f, "ws-fragments");
    expect_closed(&f, WSC_FIN | WSC_OP_CONT, 4, p, 4, 1002, "continuation without a start");
    c = authed(&f, &id);
    CHECK(wsc_send_frame(c, WSC_OP_BINARY, true, 4, p, 4) == 0);
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_BINARY, true, 4, p, 4) == 0);
    tk_expect_close(c, 1002, 5000, "a new message inside a fragmented one");
    wsc_free(c);
    parley_identity_free(id);
    /* Fragments adding up past max-frame: refused as too big, before the last arrives. */
    c = authed(&f, &id);
    {
        static uint8_t half[40000];
        CHECK(wsc_send_frame(c, WSC_OP_BINARY, true, sizeof(half), half, sizeof(half)) == 0);
        CHECK(wsc_send_frame(c, WSC_OP_CONT, true, sizeof(half), half, sizeof(half)) == 0);
        tk_expect_close(c, 1009, 5000, "fragments over max-frame together");
    }
    wsc_free(c);
    parley_identity_free(id);
    fixture_end(&f);
}

/* A message cut in three with a ping between the pieces arrives whole. */
static void test_fragmented_message_with_ping_between(void)
{
    struct fixture f;
    parley_identity *id;
    uint8_t me[32], eid[16], conv[16], sealed[300], *msg = NULL;
    size_t len = 0, a, b;
    wsc *c;

    fixture_start(&f, "ws-reassembly");
    c = authed(&f, &id);
    tk_routing(id, me);
    tk_random(eid, sizeof(eid));
    tk_random(conv, sizeof(conv));
    tk_random(sealed, sizeof(sealed));
    CHECK(pc_pack_envelope(eid, conv, me, sealed, sizeof(sealed), &msg, &len) == 0);
    a = len / 3;
    b = 2 * len / 3;
    CHECK(wsc_send_frame(c, WSC_OP_BINARY, true, a, msg, a) == 0);
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_PING, true, 2, (const uint8_t *)"hi", 2) == 0);
    CHECK(wsc_send_frame(c, WSC_OP_CONT, true, b - a, msg + a, b - a) == 0);
    CHECK(wsc_send_frame(c, WSC_OP_CONT, true, 0, msg, 0) == 0);
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_CONT, true, len - b, msg + b, len - b) == 0);
    /* The ack and the live delivery, in either order; the delivery is the message as sent. */
    for (int got = 0; got != 3;) {
        Parley__Frame *fr = pc_recv(c, 5000);
        CHECKM(fr != NULL, "the reassembled message was neither acked nor delivered");
        if (fr->kind_case == PARLEY__FRAME__KIND_ACK && fr->ack->envelope_id.len == 16 &&
            memcmp(fr->ack->envelope_id.data, eid, 16) == 0)
            got |= 1;
        else if (fr->kind_case == PARLEY__FRAME__KIND_DELIVER &&
                 fr->deliver->envelope_id.len == 16 &&
                 memcmp(fr->deliver->envelope_id.data, eid, 16) == 0 &&
                 fr->deliver->sealed.len == sizeof(sealed) &&
                 memcmp(fr->deliver->sealed.data, sealed, sizeof(sealed)) == 0)
            got |= 2;
        else
            CHECKM(false, "unexpected frame kind %d", (int)fr->kind_case);
        parley__frame__free_unpacked(fr, NULL);
    }
    CHECK(pc_send_delivered(c, (const uint8_t(*)[16])eid, 1) == 0);
    free(msg);
    wsc_free(c);
    parley_identity_free(id);
    fixture_end(&f);
}

static void test_lengths_refused_at_the_header(void)
{
    struct fixture f;
    int64_t t0;

    fixture_start(&f, "ws-lengths");
    t0 = mono_ms();
    /* 2^63 and 2^64 - 1: the top bit is not a length. */
    expect_closed_raw(&f, "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00mask", 14, 1002,
                      "64-bit length with the top bit set");
    expect_closed_raw(&f, "\x82\xff\xff\xff\xff\xff\xff\xff\xff\xffmask", 14, 1002,
                      "64-bit length 2^64 - 1");
    /* Lengths not in their shortest form. */
    expect_closed_raw(&f, "\x82\xfe\x00\x05mask", 8, 1002, "5 in the 16-bit form");
    expect_closed_raw(&f, "\x82\xff\x00\x00\x00\x00\x00\x00\x01\x00mask", 14, 1002,
                      "256 in the 64-bit form");
    /* Huge but well-formed: too big, at once, without waiting for a byte of payload. */
    expect_closed_raw(&f, "\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xffmask", 14, 1009,
                      "2^63 - 1 declared");
    CHECKM(mono_ms() - t0 < 5000, "refusing five headers took %lld ms",
           (long long)(mono_ms() - t0));
    fixture_end(&f);
}

/* Reads an HTTP response head byte by byte (no further: frames follow); its status. */
static int read_status(wsc *c)
{
    char head[2048];
    size_t n = 0;
    int status = -1;
    int64_t deadline = mono_ms() + 5000;

    while (n + 1 < sizeof(head)) {
        struct pollfd p = {wsc_fd(c), POLLIN, 0};
        int left = (int)(deadline - mono_ms());
        ssize_t r;

        if (left <= 0 || poll(&p, 1, left) <= 0)
            return -1;
        r = recv(wsc_fd(c), head + n, 1, 0);
        if (r <= 0)
            return -1;
        n++;
        if (n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    head[n] = '\0';
    if (sscanf(head, "HTTP/1.1 %d", &status) != 1)
        return -1;
    return status;
}

static int send_bytewise(wsc *c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (wsc_send_raw(c, p + i, 1) != 0)
            return -1;
    return 0;
}

/* The upgrade request one byte per write, then the Auth frame one byte per write. */
static void test_handshake_and_frame_one_byte_at_a_time(void)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " WS_SUBPROTOCOL
                              "\r\n\r\n";
    struct fixture f;
    parley_identity *id = tk_identity();
    uint8_t nonce[32], relay_key[32], *auth = NULL, *framed = NULL;
    size_t auth_len = 0, framed_len = 0;
    Parley__Frame *ok;
    wsc *c;

    fixture_start(&f, "ws-bytewise");
    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL);
    CHECK(send_bytewise(c, (const uint8_t *)req, sizeof(req) - 1) == 0);
    CHECKM(read_status(c) == 101, "upgrade sent byte by byte not answered 101");
    CHECK(pc_read_hello(c, nonce, relay_key) == 0);
    CHECK(pc_build_auth(id, nonce, relay_key, NULL, 0, &auth, &auth_len) == 0);
    CHECK(wsc_frame_append(&framed, &framed_len, auth, auth_len) == 0);
    CHECK(send_bytewise(c, framed, framed_len) == 0);
    ok = tk_expect_kind(c, PARLEY__FRAME__KIND_AUTH_OK, 5000, "auth sent byte by byte");
    parley__frame__free_unpacked(ok, NULL);
    tk_roundtrip(c, id);
    free(auth);
    free(framed);
    wsc_free(c);
    parley_identity_free(id);
    fixture_end(&f);
}

/* Two keys: not upgraded. Upgrade and Connection on two lines each: upgraded. */
static void test_repeated_handshake_headers(void)
{
    static const char two_keys[] =
        "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " WS_SUBPROTOCOL "\r\n\r\n";
    static const char split_lists[] =
        "GET / HTTP/1.1\r\nUpgrade: websocket\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
        "Connection: keep-alive\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " WS_SUBPROTOCOL "\r\n\r\n";
    struct fixture f;
    wsc *c;

    fixture_start(&f, "ws-repeated");
    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL && wsc_send_raw(c, two_keys, sizeof(two_keys) - 1) == 0);
    CHECKM(read_status(c) == 400, "a handshake with two keys was not refused as a bad request");
    wsc_free(c);
    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL && wsc_send_raw(c, split_lists, sizeof(split_lists) - 1) == 0);
    CHECKM(read_status(c) == 101, "Upgrade and Connection over two lines not upgraded");
    wsc_free(c);
    fixture_end(&f);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"control_frames_over_125_or_fragmented", test_control_frames_over_125_or_fragmented},
        {"fragment_order_enforced", test_fragment_order_enforced},
        {"fragmented_message_with_ping_between", test_fragmented_message_with_ping_between},
        {"lengths_refused_at_the_header", test_lengths_refused_at_the_header},
        {"handshake_and_frame_one_byte_at_a_time", test_handshake_and_frame_one_byte_at_a_time},
        {"repeated_handshake_headers", test_repeated_handshake_headers},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
