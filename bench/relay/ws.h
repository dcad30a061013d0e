/*
 * A minimal WebSocket client (RFC 6455) for the load generator: the
 * upgrade request and response, masked client frames, and a decoder for
 * the unmasked frames a server sends. No extensions, no TLS.
 */
#ifndef BENCH_RELAY_WS_H
#define BENCH_RELAY_WS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum {
    WS_CONT = 0x0,
    WS_TEXT = 0x1,
    WS_BINARY = 0x2,
    WS_CLOSE = 0x8,
    WS_PING = 0x9,
    WS_PONG = 0xa,
};

/* Largest server frame accepted; anything larger is a protocol error here. */
#define WS_MAX_FRAME (16u * 1024u * 1024u)

/*
 * Appends the upgrade request to out. subprotocol may be NULL (no
 * Sec-WebSocket-Protocol header). Returns 0, or -1 when out cannot grow.
 */
int ws_request(struct buf *out, const char *host, uint16_t port, const char *subprotocol);

/*
 * Reads the server's upgrade response from data[0..len). Returns the number
 * of bytes it used (the header block) when the response is a 101 that
 * echoes subprotocol (when one was asked for), 0 when more bytes are
 * needed, -1 on a refusal or a malformed response (err then says why).
 * The Sec-WebSocket-Accept value is not verified: the peer is a local
 * server under test, not an untrusted party.
 */
long ws_response(const uint8_t *data, size_t len, const char *subprotocol, char *err,
                 size_t errlen);

/*
 * Appends a masked frame header for a FIN frame of len payload bytes and
 * returns where the payload goes; after filling it, call ws_frame_end()
 * with the same pointer and length to apply the mask. mask is any 32-bit
 * value (the caller's PRNG). NULL when out cannot grow.
 */
uint8_t *ws_frame_begin(struct buf *out, uint8_t opcode, size_t len, uint32_t mask);
void ws_frame_end(uint8_t *payload, size_t len);

/* One server frame, as found by ws_frame_parse(). */
struct ws_frame {
    uint8_t opcode;
    int fin;
    const uint8_t *payload;
    size_t len;
    size_t total; /* header + payload: what to consume */
};

/*
 * Decodes the frame at the start of data[0..len). Returns 1 and fills f
 * when a whole frame is there, 0 when more bytes are needed, -1 when the
 * frame is invalid for a server (masked, RSV set, too large).
 */
int ws_frame_parse(const uint8_t *data, size_t len, struct ws_frame *f);

#endif
