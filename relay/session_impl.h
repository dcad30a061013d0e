/*
 * What the modules of the relay protocol share. session.c authenticates,
 * dispatches frames and applies store completions; delivery.c moves
 * envelopes (store-and-forward, acknowledgements); quota.c keeps the
 * storage accounts; publish.c handles directories and prekeys; erasure.c
 * carries out customers' erasure requests. Loop thread only.
 */
#ifndef RELAY_SESSION_IMPL_H
#define RELAY_SESSION_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "internal.h"
#include "relay.h"
#include "session.h"

/* session.c: answers, and what every module looks up. */
bool session_send_frame(struct relay *r, struct conn *c, const Parley__Frame *f);
void session_send_error(struct relay *r, struct conn *c, Parley__Error__Code code,
                        const char *message, const uint8_t *envelope_id);
/* An error frame, counted under why, then a policy close. */
void session_refuse(struct relay *r, struct conn *c, Parley__Error__Code code, const char *message,
                    enum reject_reason why);
void session_send_ack(struct relay *r, struct conn *c, const uint8_t *envelope_id);
/* The store refused an op (its transaction failed): counted, and c (may be NULL) told to retry. */
void session_store_refused(struct relay *r, struct conn *c, const uint8_t *envelope_id);
/* Index of the served brand with this id, or -1. */
int session_find_brand(const struct relay *r, const char *brand_id);
/* A copy of an envelope's sealed bytes (pooled when small), or NULL; released by the next. */
uint8_t *session_sealed_copy(struct relay *r, const uint8_t *data, size_t len);
void session_sealed_release(struct relay *r, struct store_env *e);
/* The authenticated connection holding this routing id, or NULL. */
struct conn *session_online(struct relay *r, const uint8_t routing[32]);
/* That connection if it is still the one with this serial and not closing, else NULL. */
struct conn *session_conn(struct relay *r, uint64_t serial, const uint8_t routing[32]);

/* delivery.c */
/* Sends e to c; ins: its insert, pending in the batch numbered batch (NULL: read from the store). */
bool delivery_send(struct relay *r, struct conn *c, const struct store_env *e,
                   const struct store_op *ins, uint64_t batch);
void delivery_start(struct relay *r, struct conn *c);
void delivery_stop(struct relay *r, struct conn *c);
/* The answer to a STORE_FETCH of c's (c: NULL when gone or closing). */
void delivery_fetched(struct relay *r, struct conn *c, const struct store_op *op);
void delivery_on_send(struct relay *r, struct conn *c, Parley__Envelope *env);
/* Envelopes were stored for recipient (by this node or another): its connection reads them. */
void delivery_notice(struct relay *r, const uint8_t recipient[32]);
void delivery_on_delivered(struct relay *r, struct conn *c, const Parley__Delivered *d);
/* An insert a shared store refused at a quota it keeps: the sender is told which (c: NULL). */
void delivery_store_refused(struct relay *r, struct conn *c, const struct store_op *op);
/* Drops from the pending batch the inserts taken back; the rest are then the store's. */
void delivery_compact(struct relay *r);
/* A batch taken back from the store: its inserts whose senders were acknowledged early are not
 * acknowledged again. */
void delivery_batch_back(struct relay *r, struct store_batch *b);

/* quota.c: what may be stored. */
enum quota_verdict {
    QUOTA_OK,        /* accepted and counted */
    QUOTA_RECIPIENT, /* the recipient's queue is full */
    QUOTA_PAIR,      /* this sender has filled its share of the recipient's queue */
    QUOTA_SENDER,    /* the sender's budget is spent for now */
    QUOTA_STORAGE    /* the database is at max-db-bytes */
};
/* Whether sender may store len bytes for recipient now; if so, counted as stored. */
enum quota_verdict quota_admit(struct relay *r, const uint8_t sender[32],
                               const uint8_t recipient[32], size_t len);
/*
 * Envelopes and bytes stored for recipient by sender (zeros: unknown); negative to release.
 * Returns how many the pair has stored now (UINT64_MAX when the sender is unknown).
 */
uint64_t quota_add(struct relay *r, const uint8_t recipient[32], const uint8_t sender[32],
                   int64_t count, int64_t bytes);
/*
 * An admitted envelope leaves the pending batch: handed to the store (count and bytes 0), or
 * taken back (-1 and minus its size). Returns how many of the pair's envelopes are counted
 * outside the pending batch: stored, or in the store's hands (UINT64_MAX: sender unknown).
 */
uint64_t quota_unpend(struct relay *r, const uint8_t sender[32], const uint8_t recipient[32],
                      int64_t count, int64_t bytes);
/* Releases what op (delete, expiry, erasure) removed from the store. */
void quota_removed(struct relay *r, const struct store_op *op);
/* Gives back to sender's budget an envelope that was not stored after all. */
void quota_refund(struct relay *r, const uint8_t sender[32], size_t len);
/*
 * With a shared store, a sender's budget follows it between relay nodes:
 * quota_budget_read queues the read of c's (true: its answer is to wait
 * for), quota_budget_loaded applies the answer, and quota_budgets_fill
 * puts every sender's state now into the writes of the pending batch (as
 * it is handed over; each send or refund queues one per sender and batch).
 */
bool quota_budget_read(struct relay *r, const struct conn *c);
void quota_budget_loaded(struct relay *r, const struct store_op *op);
void quota_budgets_fill(struct relay *r);
/* An admitted envelope's commit is done: the database size now includes it (or it failed). */
void quota_settled(struct relay *r, size_t len);
/* Whether c may be handed one of owner's one-time prekeys now (then counted). */
bool quota_prekey_take(struct relay *r, struct conn *c, const uint8_t owner[32]);
/* Gives back what quota_prekey_take counted, when owner had none (c may be NULL: gone). */
void quota_prekey_refund(struct relay *r, struct conn *c, const uint8_t owner[32]);
/* Forgets the allowances of senders and owners idle long enough to have them full again. */
void quota_sweep(struct relay *r);
/* Forgets every allowance (at the end). */
void quota_free(struct relay *r);

/* publish.c */
void publish_send_directory(struct relay *r, struct conn *c, int b, const char *brand_id);
void publish_set_directory(struct relay *r, int b, uint64_t version, const uint8_t *dir,
                           size_t len);
/*
 * A directory read from the store (at start, or stored by another node):
 * set as brand b's when it verifies under the brand key and is the
 * version it was stored as; else dropped and counted, as anyone able to
 * write to a shared store could have put it there. true when set.
 */
bool publish_stored_directory(struct relay *r, int b, uint64_t version, const uint8_t *dir,
                              size_t len);
void publish_on_directory(struct relay *r, struct conn *c, const Parley__DirectoryPublish *p);
void publish_on_prekeys(struct relay *r, struct conn *c, const Parley__PrekeyPublish *p);
void publish_on_prekey_fetch(struct relay *r, struct conn *c, const Parley__PrekeyFetch *p);
void publish_directory_done(struct relay *r, const struct store_op *op, struct conn *c);
/* The answers to STORE_PREKEY_PUBLISH and STORE_PREKEY_TAKE (c: NULL when gone or closing). */
void publish_prekeys_done(struct relay *r, const struct store_op *op, struct conn *c);
void publish_prekey_taken(struct relay *r, const struct store_op *op, struct conn *c);

/* erasure.c */
void erasure_on_request(struct relay *r, struct conn *c, const Parley__ErasureRequest *er);
/* Adds the next erasure step to the pending batch, unless one is on its way. */
void erasure_schedule(struct relay *r);
void erasure_done(struct relay *r, struct store_op *op);
/* Drops the jobs not finished (at the end: the customer asks again). */
void erasure_free(struct relay *r);
/*
 * A brand order's job: everything to or from customer (routing id) up to now. It starts whatever
 * else runs (each stored order starts one job, once). False: no memory.
 */
bool erasure_order(struct relay *r, const uint8_t customer[32]);

/* order.c: brand orders and agents' receipts */
void order_on_submit(struct relay *r, struct conn *c, const Parley__BrandOrder *o);
void order_on_receipt(struct relay *r, struct conn *c, const Parley__OrderReceipt *rc);
void order_on_status(struct relay *r, struct conn *c, const Parley__OrderStatusFetch *f);
/* An agent authenticated: the orders of its brand it has not answered are read for it. */
void order_agent_ready(struct relay *r, struct conn *c);
/* A shared store: the orders other nodes stored, to the agents of their brand online here. */
void order_notices(struct relay *r);
/* The answers to the order ops (c: NULL when gone or closing). */
void order_done(struct relay *r, const struct store_op *op, struct conn *c);

#endif
