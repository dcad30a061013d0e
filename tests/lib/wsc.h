/*
 * A deliberately small WebSocket client for the relay's integration tests:
 * blocking sockets with poll() timeouts, and a frame writer that can lie
 * (unmasked, text, RSV bits, absurd or unkept declared lengths) so hostile
 * peers can be played as easily as well-behaved ones. Above it, helpers
 * that speak the Parley relay protocol (Hello, Auth, envelopes, Delivered).
 *
 * Nothing here is thread-safe; every call blocks at most its timeout.
 */
#ifndef PARLEY_TEST_WSC_H
#define PARLEY_TEST_WSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parley.pb-c.h"
#include "parley/parley.h"

typedef struct wsc wsc;

/* What a receive call ended with. */
enum wsc_result {
    WSC_OK = 0,        /* a frame was read */
    WSC_TIMEOUT = -1,  /* nothing complete within the timeout */
    WSC_EOF = -2,      /* the peer closed the TCP connection (FIN or RST) */
    WSC_ERROR = -3     /* a local error or a frame no server may send */
};

/* First byte bits for wsc_send_frame(). */
#define WSC_FIN 0x80u
#define WSC_RSV1 0x40u
#define WSC_OP_CONT 0x0u
#define WSC_OP_TEXT 0x1u
#define WSC_OP_BINARY 0x2u
#define WSC_OP_CLOSE 0x8u
#define WSC_OP_PING 0x9u
#define WSC_OP_PONG 0xau

/* One received frame; payload is malloc'd and released by wsc_msg_clear(). */
struct wsc_msg {
    uint8_t opcode;
    bool fin;
    uint8_t *payload;
    size_t len;
    int close_code;    /* close frames: the code, 1005 when the frame had none */
};

void wsc_msg_clear(struct wsc_msg *m);

/* A TCP connection to 127.0.0.1:port, connected within timeout_ms. -1 on failure. */
int wsc_tcp_connect(uint16_t port, int timeout_ms);
/* The same with SO_RCVBUF set before connecting (0: system default), to play a slow reader. */
int wsc_tcp_connect_rcvbuf(uint16_t port, int timeout_ms, int rcvbuf);

/* Wraps a connected socket (owned from now on). NULL on allocation failure (fd is closed). */
wsc *wsc_from_fd(int fd);

/* TCP connect, no upgrade yet. NULL on failure. */
wsc *wsc_tcp(uint16_t port);

/*
 * Sends an HTTP upgrade request. protocol and origin may be NULL (header
 * left out). Returns the HTTP status, or -1 on I/O error, timeout or a 101
 * whose Sec-WebSocket-Accept or subprotocol is wrong.
 */
int wsc_upgrade(wsc *c, const char *protocol, const char *origin, int timeout_ms);

/* TCP connect and upgrade with subprotocol parley.v2. NULL on failure. */
wsc *wsc_open(uint16_t port);
/* The same over a socket with SO_RCVBUF set first (0: system default), to play a slow reader. */
wsc *wsc_open_rcvbuf(uint16_t port, int rcvbuf);

/* Closes the socket and frees. NULL is a no-op. */
void wsc_free(wsc *c);

int wsc_fd(const wsc *c);

/*
 * Paced reading, to play a reader on a slow link: once paced, c reads from
 * its socket only the bytes allowed so far (each read takes them from the
 * allowance); a receive call finding none left returns WSC_TIMEOUT at once.
 * wsc_pace() starts (or ends) pacing with an empty allowance.
 */
void wsc_pace(wsc *c, bool paced);
void wsc_allow_read(wsc *c, size_t bytes);
size_t wsc_read_allowance(const wsc *c);

/* Writes all n bytes within a few seconds; 0, or -1 on error (peer gone, timeout). */
int wsc_send_raw(wsc *c, const void *p, size_t n);

/*
 * Writes one frame: first byte b0 (FIN, RSV, opcode) as given, a header
 * declaring declared_len, masked or not, then only the first send_len
 * bytes of payload (send_len may be smaller than declared_len to leave a
 * frame unfinished). 0 or -1.
 */
int wsc_send_frame(wsc *c, uint8_t b0, bool masked, uint64_t declared_len, const uint8_t *payload,
                   size_t send_len);

/* A whole masked binary message in one frame. */
int wsc_send_binary(wsc *c, const uint8_t *p, size_t n);

/* A masked close frame with code. */
int wsc_send_close(wsc *c, uint16_t code);

/* Reads the next frame of any kind. */
enum wsc_result wsc_recv(wsc *c, int timeout_ms, struct wsc_msg *m);

/*
 * Reads until the peer closes: returns the close frame's code (skipping
 * other frames), 0 on EOF without a close frame, -1 on timeout or error.
 */
int wsc_wait_close(wsc *c, int timeout_ms);

/* True if the peer has closed the connection (EOF or reset) within timeout_ms. */
bool wsc_wait_eof(wsc *c, int timeout_ms);

/* Result and close code of the last pc_recv() that returned NULL. */
enum wsc_result wsc_last_result(const wsc *c);
int wsc_last_close(const wsc *c);

/* ------------------------------------------------------------------ */
/* Parley relay protocol */

/* Packs f and sends it as one binary message. */
int pc_send(wsc *c, const Parley__Frame *f);

/*
 * The next binary message, unpacked (free with parley__frame__free_unpacked).
 * Pings and pongs are skipped without answering. NULL on timeout, EOF,
 * close (see wsc_last_result / wsc_last_close) or a message that does not
 * decode.
 */
Parley__Frame *pc_recv(wsc *c, int timeout_ms);

/* Reads Hello; 0 and the challenge, or -1. */
int pc_read_hello(wsc *c, uint8_t nonce[32], uint8_t relay_key[32]);

/*
 * Builds the packed Auth frame answering (nonce, relay_key): the
 * signature is parley_identity_sign(id, "relay-auth", nonce||relay_key||sign_key).
 * cert (may be NULL) is an encoded AgentCert. *out is malloc'd. 0 or -1.
 */
int pc_build_auth(const parley_identity *id, const uint8_t nonce[32], const uint8_t relay_key[32],
                  const uint8_t *cert, size_t cert_len, uint8_t **out, size_t *out_len);

/*
 * Reads Hello, authenticates and returns the relay's answer (AuthOk or
 * Error), or NULL if none came within timeout_ms.
 */
Parley__Frame *pc_auth(wsc *c, const parley_identity *id, const uint8_t *cert, size_t cert_len,
                       int timeout_ms);

/*
 * Opens a connection and authenticates; NULL unless the relay answered
 * AuthOk with routing_id == parley_routing_id(sign key, its domain) and, for an agent
 * (cert given), then sent its brand's directory (consumed here).
 */
wsc *pc_connect(uint16_t port, const parley_identity *id, const uint8_t *cert, size_t cert_len);

/* Frame{send: Envelope}. */
int pc_send_envelope(wsc *c, const uint8_t envelope_id[16], const uint8_t conversation_id[16],
                     const uint8_t recipient[32], const uint8_t *sealed, size_t sealed_len);

/* Packs Frame{send: Envelope} into *out (malloc'd), for pipelined writes. */
int pc_pack_envelope(const uint8_t envelope_id[16], const uint8_t conversation_id[16],
                     const uint8_t recipient[32], const uint8_t *sealed, size_t sealed_len,
                     uint8_t **out, size_t *out_len);

/* Frame{delivered: {envelope_ids}}. */
int pc_send_delivered(wsc *c, const uint8_t (*ids)[16], size_t n);

/* Frame{directory_publish} of an encoded Directory; Frame{directory_fetch} of a brand. */
int pc_send_publish(wsc *c, const uint8_t *dir, size_t len);
int pc_send_fetch(wsc *c, const char *brand_id);

/* Frame{prekey_publish} of encoded Prekeys; Frame{prekey_fetch} of an owner's signing key. */
int pc_send_prekeys(wsc *c, uint8_t *const *keys, const size_t *lens, size_t n, bool replace);
int pc_send_prekey_fetch(wsc *c, const uint8_t owner_sign_pk[32]);

/*
 * A customer's signed erasure request for its n conversations (16-byte
 * ids) with their salts (NULL: none), as the library sends it.
 */
int pc_send_erase(wsc *c, const parley_identity *id, const uint8_t (*convs)[16],
                  const uint8_t (*salts)[16], size_t n);

/*
 * The same request as a packed Frame{erase} (malloc, *len bytes; NULL when
 * out of memory), for named's key but signed by signer, who may be
 * someone else: a forgery.
 */
uint8_t *pc_erase_frame(const parley_identity *signer, const parley_identity *named,
                        const uint8_t (*convs)[16], const uint8_t (*salts)[16], size_t n,
                        size_t *len);

/* Appends a masked binary frame carrying msg to buf (malloc-grown). 0 or -1. */
int wsc_frame_append(uint8_t **buf, size_t *len, const uint8_t *msg, size_t n);

#endif
