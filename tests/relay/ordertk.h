/*
 * Brand orders as the relay tests drive them (relay-order, relay-cluster):
 * an agent's connection, an order or a status request sent, the answers
 * expected. Every expectation ends the test with a message when it fails.
 */
#ifndef PARLEY_TEST_ORDERTK_H
#define PARLEY_TEST_ORDERTK_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "testkit.h"

/* An agent connection on port, past its AuthOk (*left: the count of prekeys it gave; may be
   NULL) and directory result. */
wsc *tko_agent(uint16_t port, const parley_identity *id, const uint8_t *cert, size_t len,
               uint32_t *left);
/* An order signed by signer for brand_id. *out freed with parley_free. */
void tko_make(const parley_identity *signer, const char *brand_id, parley_order_kind kind,
              const parley_identity *customer, uint64_t issued, uint64_t expires, uint8_t **out,
              size_t *len);
/* Sends an encoded order in frame kind (submit or status fetch). */
void tko_send(wsc *c, Parley__Frame__KindCase kind, const uint8_t *order, size_t len);
/* The next frame that is not a delivery: an error with code. The connection stays open. */
void tko_expect_code(wsc *c, Parley__Error__Code code, const char *what);
/* The next frame: OrderStored for this order id. */
void tko_expect_stored(wsc *c, const uint8_t order_id[16], const char *what);
/* The next frame is the order with this id, handed to an agent. */
void tko_expect_order(wsc *c, const uint8_t order_id[16], const char *what);
/* Sends a receipt for order_id signed by signer, naming cert. */
void tko_send_receipt(wsc *c, const parley_identity *signer, const uint8_t *cert,
                      size_t cert_len, const uint8_t order_id[16], uint64_t messages);
/* The same, but with the whole certificate: the agent's name beside its body, in clear. */
void tko_send_named_receipt(wsc *c, const parley_identity *signer, const uint8_t *cert,
                            size_t cert_len, const uint8_t order_id[16]);
/*
 * Reads the order's receipts back (from skip on): the total stored; every
 * receipt handed back verified against brand_key for brand_id, the first
 * in *first (when one came), how many came in *n (may be NULL).
 */
uint32_t tko_status(wsc *c, const uint8_t *order, size_t len, uint32_t skip,
                    const parley_identity *brand_key, const char *brand_id,
                    parley_order_receipt_info *first, size_t *n);

#endif
