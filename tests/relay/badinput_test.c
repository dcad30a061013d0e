/*
 * Hostile and broken input at the HTTP and WebSocket layers: truncated,
 * oversized, unmasked, text, reserved-bit and junk frames, absurd declared
 * lengths, bad upgrades and disallowed origins. Each gets the contract's
 * close code or HTTP status, is counted by reason, and leaves a
 * well-behaved connection and the HTTP endpoints working.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testkit.h"

/* A relay with a bystander connection, shared by the cases of one test. */
struct fixture {
    struct tk_env e;
    parley_identity *by_id;
    wsc *by;
};

static void fixture_start(struct fixture *f, const char *tag, const char *const *args)
{
    tk_env_init(&f->e, tag);
    tk_env_start(&f->e, args);
    f->by_id = tk_identity();
    f->by = pc_connect(f->e.relay.port, f->by_id, NULL, 0);
    CHECKM(f->by != NULL, "bystander cannot connect");
}

/* The bystander still works, /healthz still answers, and the reason was counted. */
static void fixture_check(struct fixture *f, const char *reason, double min)
{
    char *body = NULL;

    tk_roundtrip(f->by, f->by_id);
    CHECKM(http_get(f->e.relay.port, "/healthz", &body) == 200, "relay unhealthy");
    free(body);
    if (reason != NULL) {
        double v = tk_rejects(&f->e.relay, reason, min);
        CHECKM(v >= min, "parley_rejects_total{reason=\"%s\"} is %g, expected >= %g", reason, v,
               min);
    }
}

static void fixture_end(struct fixture *f)
{
    wsc_free(f->by);
    parley_identity_free(f->by_id);
    tk_env_end(&f->e);
}

static wsc *authed(struct fixture *f, parley_identity **id)
{
    return tk_connect_new(f->e.relay.port, id);
}

static void test_truncated(void)
{
    struct fixture f;
    parley_identity *id;
    uint8_t part[10] = {1, 2, 3};
    wsc *c;

    fixture_start(&f, "truncated", NULL);
    /* A frame cut short, then the socket closed under it. */
    c = authed(&f, &id);
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_BINARY, true, 100, part, sizeof(part)) == 0);
    wsc_free(c);
    parley_identity_free(id);
    /* Half a header, then gone. */
    c = authed(&f, &id);
    CHECK(wsc_send_raw(c, "\x82\xfe\x01", 3) == 0);
    wsc_free(c);
    parley_identity_free(id);
    /* Half an HTTP request, then gone. */
    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL && wsc_send_raw(c, "GET / HTTP/1.1\r\nUpgr", 20) == 0);
    wsc_free(c);
    sleep_ms(100);
    CHECK(relay_alive(&f.e.relay));
    fixture_check(&f, NULL, 0);
    fixture_end(&f);
}

static void test_frames(void)
{
    struct fixture f;
    parley_identity *id;
    static uint8_t big[70000];
    uint8_t junk[64];
    int64_t t0;
    wsc *c;

    fixture_start(&f, "frames", NULL);

    /* Over the default max_frame (66560). */
    c = authed(&f, &id);
    CHECK(wsc_send_binary(c, big, sizeof(big)) == 0);
    tk_expect_close(c, 1009, 5000, "70000-byte message");
    wsc_free(c);
    parley_identity_free(id);
    fixture_check(&f, "too_big", 1);

    /* A length of 2^62: refused at the header. */
    c = authed(&f, &id);
    t0 = mono_ms();
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_BINARY, true, (uint64_t)1 << 62, big, 0) == 0);
    tk_expect_close(c, 1009, 3000, "declared length 2^62");
    CHECKM(mono_ms() - t0 < 1000, "2^62 declared length not refused at once");
    wsc_free(c);
    parley_identity_free(id);
    fixture_check(&f, "too_big", 2);

    /* Junk inside a binary frame, after and before authentication. */
    memset(junk, 0xff, sizeof(junk));
    c = authed(&f, &id);
    CHECK(wsc_send_binary(c, junk, sizeof(junk)) == 0);
    tk_expect_error(c, PARLEY__ERROR__CODE__MALFORMED, NULL, 5000);
    tk_expect_close(c, 1008, 5000, "junk protobuf after auth");
    wsc_free(c);
    parley_identity_free(id);
    c = wsc_open(f.e.relay.port);
    CHECK(c != NULL);
    parley__frame__free_unpacked(tk_expect_kind(c, PARLEY__FRAME__KIND_HELLO, 5000, "hello"),
                                 NULL);
    CHECK(wsc_send_binary(c, junk, sizeof(junk)) == 0);
    tk_expect_error(c, PARLEY__ERROR__CODE__MALFORMED, NULL, 5000);
    tk_expect_close(c, 1008, 5000, "junk protobuf before auth");
    wsc_free(c);
    fixture_check(&f, "malformed", 2);

    /* Unmasked client frame. */
    c = authed(&f, &id);
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_BINARY, false, 4, junk, 4) == 0);
    tk_expect_close(c, 1002, 5000, "unmasked frame");
    wsc_free(c);
    parley_identity_free(id);
    fixture_check(&f, "unmasked", 1);

    /* Text frame. */
    c = authed(&f, &id);
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_TEXT, true, 5, (const uint8_t *)"hello", 5) == 0);
    tk_expect_close(c, 1003, 5000, "text frame");
    wsc_free(c);
    parley_identity_free(id);
    fixture_check(&f, "text_frame", 1);

    /* RSV1 set (no extension was negotiated), and an unknown opcode. */
    c = authed(&f, &id);
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_RSV1 | WSC_OP_BINARY, true, 4, junk, 4) == 0);
    tk_expect_close(c, 1002, 5000, "RSV1 bit set");
    wsc_free(c);
    parley_identity_free(id);
    c = authed(&f, &id);
    CHECK(wsc_send_frame(c, WSC_FIN | 0x3, true, 4, junk, 4) == 0);
    tk_expect_close(c, 1002, 5000, "reserved opcode 3");
    wsc_free(c);
    parley_identity_free(id);
    fixture_check(&f, "protocol", 2);

    /* Ping is answered with a pong carrying the same payload. */
    c = authed(&f, &id);
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_PING, true, 4, (const uint8_t *)"abcd", 4) == 0);
    {
        struct wsc_msg m;
        CHECK(wsc_recv(c, 5000, &m) == WSC_OK);
        CHECKM(m.opcode == WSC_OP_PONG && m.len == 4 && memcmp(m.payload, "abcd", 4) == 0,
               "ping not answered with its pong");
        wsc_msg_clear(&m);
    }
    tk_roundtrip(c, id);
    wsc_free(c);
    parley_identity_free(id);
    fixture_end(&f);
}

static void test_upgrades(void)
{
    struct fixture f;
    const char *args[] = {"--origin", "https://shop.example", NULL};
    char big_header[10000];
    wsc *c;

    fixture_start(&f, "upgrade", args);

    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL);
    CHECKM(wsc_upgrade(c, NULL, NULL, 5000) == 400, "upgrade without subprotocol not refused");
    wsc_free(c);
    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL);
    CHECKM(wsc_upgrade(c, "chat, superchat", NULL, 5000) == 400,
           "upgrade with another subprotocol not refused");
    wsc_free(c);
    /* A client of wire version 1 would misroute: it is refused at the upgrade. */
    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL);
    CHECKM(wsc_upgrade(c, "parley.v1", NULL, 5000) == 400, "a parley.v1 client not refused");
    wsc_free(c);
    fixture_check(&f, "subprotocol", 3);

    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL);
    CHECKM(wsc_upgrade(c, "parley.v2", "https://evil.example", 5000) == 403,
           "disallowed Origin not refused");
    wsc_free(c);
    fixture_check(&f, "origin", 1);
    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL);
    CHECKM(wsc_upgrade(c, "parley.v2", "https://shop.example", 5000) == 101,
           "allowed Origin refused");
    parley__frame__free_unpacked(
        tk_expect_kind(c, PARLEY__FRAME__KIND_HELLO, 5000, "hello after allowed origin"), NULL);
    wsc_free(c);
    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL);
    CHECKM(wsc_upgrade(c, "other, parley.v2", NULL, 5000) == 101,
           "no Origin (non-browser client) with parley.v2 listed refused");
    wsc_free(c);

    /* Malformed request line, and a head over 8 KiB. */
    CHECKM(http_raw(f.e.relay.port, "NONSENSE\r\n\r\n", 12, NULL) == 400,
           "malformed request line not answered 400");
    memset(big_header, 'a', sizeof(big_header));
    memcpy(big_header, "GET / HTTP/1.1\r\nX-Pad: ", 23);
    CHECKM(http_raw(f.e.relay.port, big_header, sizeof(big_header), NULL) == 400,
           "request head over 8 KiB not answered 400");
    fixture_check(&f, "bad_request", 2);
    fixture_end(&f);
}

static void test_http(void)
{
    static const char *const names[] = {
        "parley_connections",
        "parley_connections_authenticated",
        "parley_frames_in_total",
        "parley_frames_out_total",
        "parley_envelopes_stored_total",
        "parley_envelopes_delivered_total",
        "parley_envelopes_acknowledged_total",
        "parley_envelopes_expired_total",
        "parley_bytes_stored",
        "parley_rejects_total{reason=",
        "parley_store_latency_seconds_bucket{le=",
        "parley_store_latency_seconds_sum",
        "parley_store_latency_seconds_count",
    };
    struct fixture f;
    char *body = NULL;

    fixture_start(&f, "http", NULL);
    tk_roundtrip(f.by, f.by_id);
    CHECK(http_get(f.e.relay.port, "/healthz", &body) == 200);
    CHECKM(body != NULL && strcmp(body, "ok\n") == 0, "/healthz body is not \"ok\\n\"");
    free(body);
    CHECK(http_get(f.e.relay.port, "/no-such-page", &body) == 404);
    free(body);
    CHECK(http_get(f.e.relay.port, "/metrics", &body) == 200);
    CHECK(body != NULL);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char line[128];
        snprintf(line, sizeof(line), "\n%s", names[i]);
        CHECKM(strstr(body, line) != NULL, "/metrics lacks %s", names[i]);
    }
    CHECKM(strstr(body, "parley_store_latency_seconds_bucket{le=\"+Inf\"}") != NULL,
           "latency histogram lacks its +Inf bucket");
    CHECKM(metric_in(body, "parley_connections_authenticated") == 1,
           "authenticated gauge does not count the bystander");
    CHECKM(metric_in(body, "parley_envelopes_stored_total") >= 1 &&
               metric_in(body, "parley_envelopes_delivered_total") >= 1 &&
               metric_in(body, "parley_store_latency_seconds_count") >= 1,
           "counters did not move after an envelope went through");
    free(body);
    fixture_end(&f);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"truncated_then_closed", test_truncated},
        {"hostile_frames", test_frames},
        {"bad_upgrades", test_upgrades},
        {"http_endpoints", test_http},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
