/*
 * The WebSocket (RFC 6455) server side, as pure functions over byte
 * buffers: the HTTP request head, the accept key, frame headers and
 * masking. No I/O, so every rule can be unit-tested and fuzzed.
 */
#ifndef RELAY_WS_H
#define RELAY_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_SUBPROTOCOL "parley.v2"
#define HTTP_HEAD_MAX 8192u

enum { WS_OP_CONT = 0x0, WS_OP_TEXT = 0x1, WS_OP_BINARY = 0x2, WS_OP_CLOSE = 0x8,
       WS_OP_PING = 0x9, WS_OP_PONG = 0xa };

struct http_request {
    char method[8];
    char path[256];
    bool upgrade_websocket;   /* Upgrade: websocket */
    bool connection_upgrade;  /* Connection: ... upgrade ... */
    int version;              /* Sec-WebSocket-Version: 13, -1 bad or repeated, 0 absent */
    char key[64];             /* Sec-WebSocket-Key ("" when too long) */
    unsigned key_count;       /* how many Sec-WebSocket-Key headers */
    bool has_protocol;        /* any Sec-WebSocket-Protocol header */
    bool protocol_ok;         /* ... listing parley.v2 */
    bool has_origin;
    char origin[HTTP_HEAD_MAX]; /* whole: a cut Origin could pass for an allowed one */
    char if_none_match[128];  /* If-None-Match ("" when absent or too long) */
    /*
     * Accept-Encoding, as far as gzip goes: 1 named with a weight above
     * zero, -1 refused (q=0) or named in an element not understood, 0 not
     * named; any_coding the same for "*". A refusal in any header wins.
     */
    signed char gzip, any_coding;
};

/*
 * Parses an HTTP/1.1 request head from buf. Returns the head's length
 * (through the blank line) when complete, 0 when more bytes are needed,
 * -1 when malformed or over HTTP_HEAD_MAX.
 */
long http_parse_request(const uint8_t *buf, size_t len, struct http_request *r);

/* True when r's Accept-Encoding lets the answer be gzip-encoded (RFC 9110 12.5.3). */
bool http_accepts_gzip(const struct http_request *r);

/* True when r asks for a WebSocket upgrade we can answer (version 13 and a key, each once). */
bool http_is_upgrade(const struct http_request *r);

/* True when r carries any WebSocket handshake header: a failed handshake, unless http_is_upgrade. */
bool http_wants_upgrade(const struct http_request *r);

/* The reason phrase of the statuses the relay answers with. */
const char *http_reason(int status);

/*
 * Writes a response head to out: the status line, Content-Type (unless
 * ctype is NULL), Content-Length (unless length is negative), "Connection:
 * close", the extra header lines (each ending in CRLF; may be NULL) and
 * the blank line. Returns its length, 0 when it does not fit in cap.
 */
size_t http_format_head(char *out, size_t cap, int status, const char *ctype, int64_t length,
                        const char *extra);

/* Sec-WebSocket-Accept for key: base64(SHA-1(key || GUID)), NUL-terminated (29 bytes). */
void ws_accept_key(const char *key, char out[32]);

struct ws_header {
    bool fin;
    uint8_t rsv;      /* the three RSV bits, must be 0 */
    uint8_t opcode;
    bool masked;
    uint64_t len;     /* payload length as declared */
    uint8_t mask[4];
    size_t size;      /* header bytes */
};

/* Parses a frame header. Returns its size, 0 if more bytes are needed, -1 if invalid encoding. */
int ws_parse_header(const uint8_t *buf, size_t avail, struct ws_header *h);

/* XORs n bytes with the mask, starting at payload offset off. */
void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t off);

/* Writes an unmasked server frame header for a payload of len bytes; returns 2, 4 or 10. */
size_t ws_write_header(uint8_t *out, uint8_t opcode, uint64_t len);

#define WS_MAX_HEADER 14u

#endif
