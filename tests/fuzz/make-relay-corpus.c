/*
 * Writes the seed corpora of the relay's fuzz targets: request heads
 * (ws_request), client frame streams (ws_frame) and config files
 * (config). Each gets what a well-behaved peer or operator sends and the
 * nasty cases beside it: heads cut short, over the limit, with headers
 * missing, repeated or overlong, NUL and bare CR bytes; frames fragmented
 * around a ping, control frames over 125 bytes or fragmented, unmasked,
 * with RSV bits, huge declared lengths, lengths with the top bit or not
 * in their shortest form; config values that overflow, are negative or
 * garbage, unknown keys, lines too long to read whole.
 *
 * Usage: make-relay-corpus OUTDIR  (writes OUTDIR/<target>/<name>)
 * Everything written is the same on every run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus_out.h"

static void put_str(const char *target, const char *name, const char *s)
{
    put(target, name, s, strlen(s));
}

/* A buffer that grows, for streams of frames and long inputs. */
struct buf {
    uint8_t p[1u << 17];
    size_t n;
};

static void add(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > sizeof(b->p)) {
        fprintf(stderr, "make-relay-corpus: seed too large\n");
        exit(1);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void add_fill(struct buf *b, int c, size_t n)
{
    while (n-- > 0) {
        uint8_t v = (uint8_t)c;
        add(b, &v, 1);
    }
}

#define UPGRADE_LINES                                                                              \
    "Upgrade: websocket\r\nConnection: Upgrade\r\n"                                                \
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"                 \
    "Sec-WebSocket-Protocol: parley.v2\r\n"

static void corpus_requests(void)
{
    static const char *const heads[][2] = {
        {"upgrade", "GET / HTTP/1.1\r\nHost: relay.example\r\n" UPGRADE_LINES
                    "Origin: https://shop.example\r\n\r\n"},
        {"healthz", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
        {"metrics", "GET /metrics HTTP/1.0\r\n\r\n"},
        {"post", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"},
        {"upgrade-cut", "GET / HTTP/1.1\r\n" UPGRADE_LINES},
        {"no-upgrade-header", "GET / HTTP/1.1\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: a\r\nSec-WebSocket-Version: 13\r\n\r\n"},
        {"no-key", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n"},
        {"two-keys", "GET / HTTP/1.1\r\n" UPGRADE_LINES "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n\r\n"},
        {"two-versions", "GET / HTTP/1.1\r\n" UPGRADE_LINES "Sec-WebSocket-Version: 8\r\n\r\n"},
        {"split-lists", "GET / HTTP/1.1\r\nUpgrade: h2c\r\nUpgrade: websocket\r\n"
                        "Connection: keep-alive\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: a\r\nSec-WebSocket-Version: 13\r\n\r\n"},
        {"version-8", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: a\r\nSec-WebSocket-Version: 8\r\n\r\n"},
        {"other-protocol", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: a\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: chat, parley.v20\r\n\r\n"},
        {"bare-cr", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"},
        {"folded", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"},
        {"no-colon", "GET / HTTP/1.1\r\nnonsense\r\n\r\n"},
        {"http2", "GET / HTTP/2.0\r\n\r\n"},
        {"nonsense", "NONSENSE\r\n\r\n"},
        {"lf-only", "GET / HTTP/1.1\nUpgrade: websocket\n\n"},
        {"upgrade-then-frame", "GET / HTTP/1.1\r\n" UPGRADE_LINES "\r\n\x82\x85" "abcd" "hello"},
    };
    static struct buf b;

    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
        put_str("ws_request", heads[i][0], heads[i][1]);
    put("ws_request", "nul", "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26);
    put("ws_request", "empty", "", 0);
    /* One header line of 8,000 bytes; a head exactly at 8 KiB; one over it. */
    b.n = 0;
    add(&b, "GET / HTTP/1.1\r\nSec-WebSocket-Key: ", 35);
    add_fill(&b, 'k', 8000);
    add(&b, "\r\n\r\n", 4);
    put("ws_request", "overlong-key", b.p, b.n);
    b.n = 0;
    add(&b, "GET / HTTP/1.1\r\nOrigin: ", 24);
    add_fill(&b, 'o', 8192 - 24 - 4);
    add(&b, "\r\n\r\n", 4);
    put("ws_request", "head-8192", b.p, b.n);
    b.n = 0;
    add(&b, "GET / HTTP/1.1\r\nX-Pad: ", 23);
    add_fill(&b, 'a', 8200);
    put("ws_request", "head-over-limit", b.p, b.n);
}

/* A client frame: b0, then the length in the encoding asked for (0: shortest), masked. */
static void frame(struct buf *b, uint8_t b0, uint64_t len, int encoding, int masked,
                  const void *payload, size_t n)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t h[14];
    size_t k = 2;

    if (encoding == 0)
        encoding = len < 126 ? 7 : len <= 0xffff ? 16 : 64;
    h[0] = b0;
    if (encoding == 7) {
        h[1] = (uint8_t)len;
    } else if (encoding == 16) {
        h[1] = 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        k = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        k = 10;
    }
    if (masked) {
        h[1] |= 0x80;
        memcpy(h + k, mask, 4);
        k += 4;
    }
    add(b, h, k);
    for (size_t i = 0; i < n; i++) {
        uint8_t v = (uint8_t)(((const uint8_t *)payload)[i] ^ (masked ? mask[i & 3] : 0));
        add(b, &v, 1);
    }
}

static void corpus_frames(void)
{
    static struct buf b;
    static uint8_t big[70000];

    memset(big, 'x', sizeof(big));
    b.n = 0;
    frame(&b, 0x82, 5, 0, 1, "hello", 5);
    put("ws_frame", "binary", b.p, b.n);
    b.n = 0;
    frame(&b, 0x02, 3, 0, 1, "abc", 3);
    frame(&b, 0x89, 2, 0, 1, "hi", 2);
    frame(&b, 0x00, 0, 0, 1, "", 0);
    frame(&b, 0x80, 3, 0, 1, "def", 3);
    put("ws_frame", "fragmented-ping-between", b.p, b.n);
    b.n = 0;
    frame(&b, 0x82, 300, 0, 1, big, 300);
    frame(&b, 0x82, 70000, 0, 1, big, 70000);
    put("ws_frame", "lengths-16-and-64", b.p, b.n);
    b.n = 0;
    frame(&b, 0x89, 126, 0, 1, big, 126);
    put("ws_frame", "ping-126", b.p, b.n);
    b.n = 0;
    frame(&b, 0x09, 4, 0, 1, "ping", 4);
    put("ws_frame", "ping-not-final", b.p, b.n);
    b.n = 0;
    frame(&b, 0x88, 2, 0, 1, "\x03\xe8", 2);
    put("ws_frame", "close-1000", b.p, b.n);
    b.n = 0;
    frame(&b, 0x82, 4, 0, 0, "open", 4);
    put("ws_frame", "unmasked", b.p, b.n);
    b.n = 0;
    frame(&b, 0xf2, 4, 0, 1, "rsv!", 4);
    put("ws_frame", "rsv-bits", b.p, b.n);
    b.n = 0;
    frame(&b, 0x81, 4, 0, 1, "text", 4);
    frame(&b, 0x83, 0, 0, 1, "", 0);
    frame(&b, 0x8b, 0, 0, 1, "", 0);
    put("ws_frame", "text-and-reserved-opcodes", b.p, b.n);
    b.n = 0;
    frame(&b, 0x82, (uint64_t)1 << 62, 0, 1, "", 0);
    put("ws_frame", "declared-2-62", b.p, b.n);
    b.n = 0;
    frame(&b, 0x82, (uint64_t)1 << 63, 64, 1, "", 0);
    put("ws_frame", "length-top-bit", b.p, b.n);
    b.n = 0;
    frame(&b, 0x82, 5, 16, 1, "hello", 5);
    put("ws_frame", "non-minimal-16", b.p, b.n);
    b.n = 0;
    frame(&b, 0x82, 300, 64, 1, big, 300);
    put("ws_frame", "non-minimal-64", b.p, b.n);
    b.n = 0;
    frame(&b, 0x82, 100, 0, 1, big, 40);
    put("ws_frame", "payload-cut", b.p, b.n);
    put("ws_frame", "header-cut", "\x82\xfe\x01", 3);
    put("ws_frame", "empty", "", 0);
}

static void corpus_configs(void)
{
    static struct buf b;

    put_str("config", "example",
            "# parley-relay configuration\n"
            "listen = 127.0.0.1\nport = 8787\ndb = /var/lib/parley/relay.db\n"
            "log = /var/log/parley/relay.log\nlog-level = info\n"
            "origin = https://shop.example\norigin = https://support.example\n"
            "ttl = 2592000\nexpiry-interval = 60\nmax-frame = 66560\n"
            "rate = 200\nburst = 400\nrate-unauth = 5\nburst-unauth = 20\n"
            "max-conn-per-ip = 256\nmax-outbound = 1048576\nmax-outbound-unauth = 16384\n"
            "quota-count = 10000\nquota-bytes = 67108864\nauth-timeout = 10\n"
            "idle-timeout = 60\nframe-timeout = 10\naudit-log = /var/lib/parley/relay.db.audit\n"
            "audit-retention = 31536000\naudit-segment = 86400\n"
            "port-file = /run/parley/port\ntls-cert = /etc/parley/cert.pem\n"
            "tls-key = /etc/parley/key.pem\n");
    put_str("config", "limits-at-bounds",
            "port = 65535\nmax-frame = 67108864\nauth-timeout = 86400\nidle-timeout = 86400\n"
            "frame-timeout = 86400\nexpiry-interval = 86400\nttl = 3162240000\n"
            "audit-retention = 3162240000\n");
    put_str("config", "overflow",
            "ttl = 99999999999999999999\nmax-frame = 18446744073709551615\n"
            "audit-retention = 9223372036854775808\nframe-timeout = 4294968\n");
    put_str("config", "negative-and-garbage",
            "port = -1\nrate = 1.5\nburst = 0x10\nquota-count = 12abc\nidle-timeout = \n");
    put_str("config", "unknown-and-malformed",
            "prot = 1\nport 80\n= 5\nPORT = 5\nlog-level = loud\n");
    put_str("config", "empty-strings", "db =\nlisten =   \norigin =\n");
    put_str("config", "comments-and-whitespace",
            "   # only a comment\n\n\t\r\n  port   =   9000   # trailing\r\nrate=1\n");
    put("config", "nul-byte", "port = 80\0port = 81\nrate = 5\n", 29);
    put("config", "empty", "", 0);
    b.n = 0;
    add(&b, "#", 1);
    add_fill(&b, 'x', 1022);
    add(&b, "port = 1\n", 9);
    put("config", "long-comment-line", b.p, b.n);
    b.n = 0;
    add(&b, "db = ", 5);
    add_fill(&b, 'd', 600);
    add(&b, "\n", 1);
    put("config", "long-value", b.p, b.n);
}

int main(int argc, char **argv)
{
    static const char *const targets[] = {"ws_request", "ws_frame", "config"};

    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    corpus_start(argv[1], targets, sizeof(targets) / sizeof(targets[0]));
    corpus_requests();
    corpus_frames();
    corpus_configs();
    return 0;
}
