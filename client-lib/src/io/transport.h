/*
 * The client's WebSocket transport on libwebsockets: one connection to
 * the relay carrying binary frames of the parley.v2 subprotocol. It knows
 * nothing of the protocol; the client feeds what it receives to the core.
 * Not thread-safe: every call from the thread that services it, except
 * parley__transport_wake().
 */
#ifndef PARLEY_TRANSPORT_H
#define PARLEY_TRANSPORT_H

#include "parley/common.h"

struct parley__transport;

/* A whole binary message from the relay; frame valid during the call only. */
typedef void (*parley__transport_frame_fn)(void *arg, const uint8_t *frame, size_t len);
/*
 * Connection state changes: connected 1 once the WebSocket is open,
 * 0 when it closed or failed (close_code 0 when no close frame came).
 */
typedef void (*parley__transport_state_fn)(void *arg, int connected, int close_code);

/*
 * Creates a transport for url ("ws://host:port/path" or "wss://..."). It
 * does not connect yet. Returns PARLEY_OK, PARLEY_EINVAL (bad url),
 * PARLEY_ENOMEM, PARLEY_EIO (libwebsockets context failed).
 */
parley_err parley__transport_new(struct parley__transport **out, const char *url,
                                 parley__transport_frame_fn on_frame,
                                 parley__transport_state_fn on_state, void *arg);
void parley__transport_free(struct parley__transport *t);

/* Starts connecting; the outcome arrives through on_state during service. */
parley_err parley__transport_connect(struct parley__transport *t);
/* Closes the connection (normal closure) if open; on_state(0) follows. */
void parley__transport_disconnect(struct parley__transport *t);
/* Queues one binary frame (copied). PARLEY_EINVAL when not connected, PARLEY_ETOOBIG over 1 MiB queued. */
parley_err parley__transport_send(struct parley__transport *t, const uint8_t *frame, size_t len);
/* Runs the event loop for up to timeout_ms (0: only what is ready). */
void parley__transport_service(struct parley__transport *t, int timeout_ms);
/* Makes a service call in progress return early. Safe from any thread. */
void parley__transport_wake(struct parley__transport *t);
int parley__transport_connected(const struct parley__transport *t);

#endif
