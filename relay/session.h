/*
 * The Parley relay protocol over whole binary WebSocket messages: what the
 * network side (server.c) calls as connections open, send, drain and
 * close, and as the store hands back what it committed. The protocol's
 * own modules share session_impl.h. Loop thread only.
 */
#ifndef RELAY_SESSION_H
#define RELAY_SESSION_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct relay;

/* A WebSocket connection opened: the relay's hello is queued. */
void session_start(struct relay *r, struct conn *c);
/* One whole binary message from c (acknowledgements only, once c is closing). */
void session_message(struct relay *r, struct conn *c, const uint8_t *msg, size_t len);
/* c is gone: its routing id, window and drain are released. */
void session_closed(struct relay *r, struct conn *c);
/* c's queue is out: it may be sent more of what is stored for it. */
void session_writable(struct relay *r, struct conn *c);
/* The store finished a batch (the loop was woken): its results are applied. */
void session_store_done(struct relay *r);
/* Hands the pending batch to the writer if it is idle (and queues an erasure step first). */
void session_submit(struct relay *r);
/* The buffers reused per message (pool.h); 0 or -1. session_pools_free: none kept. */
int session_pools_init(struct relay *r);
void session_pools_free(struct relay *r);
/* Hands the pending batch over as it is, if the store can take it: true when nothing is left. */
bool session_hand_over(struct relay *r);
/* Queues an expiry sweep (and forgets idle allowances). */
void session_expire(struct relay *r);
/* At start: the brands served, the stored quotas and directories. 0 or -1. */
int session_load(struct relay *r);
/* At the end: frees what the protocol holds in memory (directories, erasures, allowances). */
void session_free(struct relay *r);

#endif
