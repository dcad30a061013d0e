/*
 * relay/ws.c on its own: the HTTP request head and the WebSocket frame
 * header as a peer may send them before authenticating. Heads and headers
 * cut at every byte, over the size limit, malformed, with headers
 * missing, repeated or overlong; frame lengths in every encoding, non-
 * minimal and with the top bit set; masking at every phase.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ws.h"

#define UPGRADE_HEAD                                                                               \
    "GET /ws HTTP/1.1\r\n"                                                                         \
    "Host: relay.example\r\n"                                                                      \
    "Upgrade: websocket\r\n"                                                                       \
    "Connection: keep-alive, Upgrade\r\n"                                                          \
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                                              \
    "Sec-WebSocket-Version: 13\r\n"                                                                \
    "Sec-WebSocket-Protocol: chat, " WS_SUBPROTOCOL "\r\n"                                         \
    "Origin: https://shop.example\r\n"                                                             \
    "\r\n"

static long parse(const char *s, struct http_request *r)
{
    return http_parse_request((const uint8_t *)s, strlen(s), r);
}

/* A head of a request line plus headers, NUL-terminated in out. */
static void head(char *out, size_t cap, const char *headers)
{
    int n = snprintf(out, cap, "GET / HTTP/1.1\r\n%s\r\n", headers);

    CHECK(n > 0 && (size_t)n < cap);
}

static void test_accept_key_matches_rfc6455(void)
{
    char out[32];

    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
    CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
}

static void test_upgrade_head_parsed(void)
{
    struct http_request r;
    long n = parse(UPGRADE_HEAD, &r);

    CHECK(n == (long)strlen(UPGRADE_HEAD));
    CHECK(strcmp(r.method, "GET") == 0 && strcmp(r.path, "/ws") == 0);
    CHECK(r.upgrade_websocket && r.connection_upgrade && r.version == 13);
    CHECK(strcmp(r.key, "dGhlIHNhbXBsZSBub25jZQ==") == 0);
    CHECK(r.has_protocol && r.protocol_ok);
    CHECK(r.has_origin && strcmp(r.origin, "https://shop.example") == 0);
    CHECK(http_is_upgrade(&r));
}

/* Every prefix of a head needs more bytes; the whole head parses alike whatever follows it. */
static void test_head_split_at_every_byte(void)
{
    const char *h = UPGRADE_HEAD;
    size_t len = strlen(h);
    uint8_t *buf = malloc(len + 16);
    struct http_request r;

    CHECK(buf != NULL);
    memcpy(buf, h, len);
    for (size_t k = 0; k < len; k++) {
        uint8_t *exact = malloc(k > 0 ? k : 1);
        CHECK(exact != NULL);
        memcpy(exact, buf, k);
        CHECK(http_parse_request(exact, k, &r) == 0);
        free(exact);
    }
    /* A frame's first bytes pipelined behind the head do not change it. */
    memcpy(buf + len, "\x82\x85\x01\x02\x03\x04hello", 11);
    CHECK(http_parse_request(buf, len + 11, &r) == (long)len && http_is_upgrade(&r));
    free(buf);
}

/* A head ending exactly at HTTP_HEAD_MAX is read; one byte more is refused, not waited for. */
static void test_head_size_limit(void)
{
    char *big = malloc(HTTP_HEAD_MAX + 64);
    const char *start = "GET / HTTP/1.1\r\nX-Pad: ";
    struct http_request r;
    size_t s = strlen(start);

    CHECK(big != NULL);
    memcpy(big, start, s);
    memset(big + s, 'a', HTTP_HEAD_MAX - s - 4);
    memcpy(big + HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
    CHECK(http_parse_request((uint8_t *)big, HTTP_HEAD_MAX, &r) == (long)HTTP_HEAD_MAX);
    memmove(big + s + 1, big + s, HTTP_HEAD_MAX - s);
    CHECK(http_parse_request((uint8_t *)big, HTTP_HEAD_MAX + 1, &r) == -1);
    /* Without an end at all: refused once the limit is reached, before that more is needed. */
    memset(big, 'a', HTTP_HEAD_MAX + 64);
    CHECK(http_parse_request((uint8_t *)big, HTTP_HEAD_MAX - 1, &r) == 0);
    CHECK(http_parse_request((uint8_t *)big, HTTP_HEAD_MAX, &r) == -1);
    CHECK(http_parse_request((uint8_t *)big, HTTP_HEAD_MAX + 64, &r) == -1);
    free(big);
}

/* A header line of several kilobytes: read within its bounds, and no key comes of it. */
static void test_overlong_header_lines(void)
{
    char *h = malloc(HTTP_HEAD_MAX);
    char *hdr = malloc(7000);
    struct http_request r;

    CHECK(h != NULL && hdr != NULL);
    memcpy(hdr, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Key: ", 87);
    memset(hdr + 87, 'k', 6000);
    memcpy(hdr + 6087, "\r\n", 3);
    head(h, HTTP_HEAD_MAX, hdr);
    CHECK(parse(h, &r) > 0);
    CHECK(r.key[sizeof(r.key) - 1] == '\0' && strlen(r.key) < sizeof(r.key));
    CHECK(!http_is_upgrade(&r));
    /* An Origin is kept whole, never cut to a prefix that could equal an allowed one. */
    memset(hdr, 'o', 6000);
    memcpy(hdr, "Origin: ", 8);
    memcpy(hdr + 6000, "\r\n", 3);
    head(h, HTTP_HEAD_MAX, hdr);
    CHECK(parse(h, &r) > 0 && r.has_origin && strlen(r.origin) == 6000 - 8);
    /* A path as long as its field allows, and one byte longer. */
    memset(hdr, '/', sizeof(r.path));
    snprintf(h, HTTP_HEAD_MAX, "GET %.*s HTTP/1.1\r\n\r\n", (int)sizeof(r.path) - 1, hdr);
    CHECK(parse(h, &r) > 0 && strlen(r.path) == sizeof(r.path) - 1);
    snprintf(h, HTTP_HEAD_MAX, "GET %.*s HTTP/1.1\r\n\r\n", (int)sizeof(r.path), hdr);
    CHECK(parse(h, &r) == -1);
    free(h);
    free(hdr);
}

/* Each header the upgrade needs, left out in turn: no upgrade. */
static void test_missing_upgrade_headers(void)
{
    static const char *const lines[] = {
        "Upgrade: websocket\r\n",
        "Connection: Upgrade\r\n",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
        "Sec-WebSocket-Version: 13\r\n",
    };
    char hdrs[512], h[1024];
    struct http_request r;

    for (size_t skip = 0; skip <= 4; skip++) {
        size_t n = 0;
        for (size_t i = 0; i < 4; i++)
            if (i != skip) {
                memcpy(hdrs + n, lines[i], strlen(lines[i]));
                n += strlen(lines[i]);
            }
        hdrs[n] = '\0';
        head(h, sizeof(h), hdrs);
        CHECK(parse(h, &r) > 0);
        CHECK(http_is_upgrade(&r) == (skip == 4));
    }
    /* Version 8, an empty key, POST. */
    head(h, sizeof(h), "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: a\r\n"
                       "Sec-WebSocket-Version: 8\r\n");
    CHECK(parse(h, &r) > 0 && !http_is_upgrade(&r));
    head(h, sizeof(h), "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key:\r\n"
                       "Sec-WebSocket-Version: 13\r\n");
    CHECK(parse(h, &r) > 0 && !http_is_upgrade(&r));
    snprintf(h, sizeof(h), "POST / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: a\r\nSec-WebSocket-Version: 13\r\n\r\n");
    CHECK(parse(h, &r) > 0 && !http_is_upgrade(&r));
}

/*
 * Repeated headers. Upgrade and Connection are lists (RFC 7230 3.2.2):
 * two lines mean their tokens together, in either order. A key or a
 * version sent twice is a malformed handshake (RFC 6455 11.3.1, 11.3.5).
 */
static void test_repeated_upgrade_headers(void)
{
    char h[1024];
    struct http_request r;

    head(h, sizeof(h), "Upgrade: websocket\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                       "Connection: keep-alive\r\nSec-WebSocket-Key: a\r\n"
                       "Sec-WebSocket-Version: 13\r\n");
    CHECK(parse(h, &r) > 0 && http_is_upgrade(&r));
    head(h, sizeof(h), "Upgrade: h2c\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: a\r\n"
                       "Sec-WebSocket-Version: 13\r\n");
    CHECK(parse(h, &r) > 0 && http_is_upgrade(&r));
    head(h, sizeof(h), "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: a\r\n"
                       "Sec-WebSocket-Key: b\r\nSec-WebSocket-Version: 13\r\n");
    CHECK(parse(h, &r) > 0 && !http_is_upgrade(&r));
    head(h, sizeof(h), "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: a\r\n"
                       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n");
    CHECK(parse(h, &r) > 0 && !http_is_upgrade(&r));
}

static void test_subprotocol_tokens(void)
{
    char h[512];
    struct http_request r;

    head(h, sizeof(h), "Sec-WebSocket-Protocol: " WS_SUBPROTOCOL "0, x" WS_SUBPROTOCOL "\r\n");
    CHECK(parse(h, &r) > 0 && r.has_protocol && !r.protocol_ok);
    head(h, sizeof(h), "sec-websocket-protocol:a\r\nSEC-WEBSOCKET-PROTOCOL:  " WS_SUBPROTOCOL
                       " \t\r\n");
    CHECK(parse(h, &r) > 0 && r.protocol_ok);
    head(h, sizeof(h), "Sec-WebSocket-Protocol: ,,, ,\r\n");
    CHECK(parse(h, &r) > 0 && r.has_protocol && !r.protocol_ok);
    head(h, sizeof(h), "UPGRADE: WebSocket\r\nconnection: UPGRADE\r\n");
    CHECK(parse(h, &r) > 0 && r.upgrade_websocket && r.connection_upgrade);
}

static void test_malformed_heads_refused(void)
{
    static const char *const bad[] = {
        "NONSENSE\r\n\r\n",
        " / HTTP/1.1\r\n\r\n",
        "GET  HTTP/1.1\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.10\r\n\r\n",
        "GETTINGLONG / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
        "GET / HTTP/1.1\r\nBad name: x\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\n\tfolded: x\r\n\r\n",
    };
    struct http_request r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(parse(bad[i], &r) == -1);
    /* A NUL anywhere in the head. */
    CHECK(http_parse_request((const uint8_t *)"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26, &r) == -1);
    /* The smallest head: a request line and the blank line. */
    CHECK(parse("GET / HTTP/1.0\r\n\r\n", &r) == 18 && !http_is_upgrade(&r));
}

/* A frame header, its mask and the payload length in each encoding. */
static void test_frame_lengths(void)
{
    static const uint64_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 1u << 20,
                                    0x7fffffffffffffffull};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t b[WS_MAX_HEADER];
        struct ws_header h;
        size_t n = ws_write_header(b, WS_OP_BINARY, lens[i]);
        size_t want = lens[i] < 126 ? 2 : lens[i] <= 0xffff ? 4 : 10;

        CHECK(n == want);
        CHECK(ws_parse_header(b, n, &h) == (int)n);
        CHECK(h.len == lens[i] && h.size == n && h.fin && !h.masked && h.rsv == 0 &&
              h.opcode == WS_OP_BINARY);
        /* The same, masked by a client. */
        b[1] |= 0x80;
        memcpy(b + n, "\xde\xad\xbe\xef", 4);
        CHECK(ws_parse_header(b, n + 4, &h) == (int)(n + 4));
        CHECK(h.masked && h.len == lens[i] && memcmp(h.mask, "\xde\xad\xbe\xef", 4) == 0);
        /* Cut at every byte: more is needed, never a wrong answer. */
        for (size_t k = 0; k < n + 4; k++)
            CHECK(ws_parse_header(b, k, &h) == 0);
    }
}

/* Lengths not in their shortest encoding, and 64-bit lengths with the top bit set. */
static void test_frame_lengths_refused(void)
{
    struct ws_header h;
    uint8_t b[14];

    memcpy(b, "\x82\xfe\x00\x7d", 4); /* 125 in the 16-bit form */
    CHECK(ws_parse_header(b, 8, &h) == -1);
    memcpy(b, "\x82\xff\x00\x00\x00\x00\x00\x00\xff\xff", 10); /* 65535 in the 64-bit form */
    CHECK(ws_parse_header(b, 14, &h) == -1);
    memcpy(b, "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10); /* 2^63 */
    CHECK(ws_parse_header(b, 14, &h) == -1);
    memcpy(b, "\x82\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10); /* 2^64 - 1 */
    CHECK(ws_parse_header(b, 14, &h) == -1);
    memcpy(b, "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10); /* 2^63 - 1, unmasked */
    CHECK(ws_parse_header(b, 10, &h) == 10 && h.len == 0x7fffffffffffffffull && !h.masked);
}

/* FIN, the three RSV bits, every opcode and the mask bit come out as sent. */
static void test_frame_bits_reported(void)
{
    for (unsigned b0 = 0; b0 < 256; b0++) {
        uint8_t b[6] = {(uint8_t)b0, 0x80 | 5, 1, 2, 3, 4};
        struct ws_header h;

        CHECK(ws_parse_header(b, 6, &h) == 6);
        CHECK(h.fin == ((b0 & 0x80) != 0) && h.rsv == ((b0 >> 4) & 7) && h.opcode == (b0 & 15));
        CHECK(h.masked && h.len == 5);
        b[1] = 5;
        CHECK(ws_parse_header(b, 2, &h) == 2 && !h.masked);
    }
}

/* Unmasking matches RFC 6455's definition at every phase, in one piece or split. */
static void test_unmask_every_phase(void)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t plain[80], buf[80];

    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = (uint8_t)(i * 7 + 1);
    for (uint64_t off = 0; off < 8; off++)
        for (size_t n = 0; n <= 64; n++) {
            memcpy(buf, plain, n);
            ws_unmask(buf, n, mask, off);
            for (size_t i = 0; i < n; i++)
                CHECK(buf[i] == (plain[i] ^ mask[(off + i) & 3]));
            /* Twice restores; in two parts equals one go. */
            ws_unmask(buf, n / 3, mask, off);
            ws_unmask(buf + n / 3, n - n / 3, mask, off + n / 3);
            CHECK(memcmp(buf, plain, n) == 0);
        }
}

int main(void)
{
    test_accept_key_matches_rfc6455();
    test_upgrade_head_parsed();
    test_head_split_at_every_byte();
    test_head_size_limit();
    test_overlong_header_lines();
    test_missing_upgrade_headers();
    test_repeated_upgrade_headers();
    test_subprotocol_tokens();
    test_malformed_heads_refused();
    test_frame_lengths();
    test_frame_lengths_refused();
    test_frame_bits_reported();
    test_unmask_every_phase();
    printf("relay ws: ok\n");
    return 0;
}
