/*
 * The audit log's entries about store changes, between the store and the
 * log: the store's writer puts each entry's body in its outbox inside the
 * transaction that makes the change; the loop chains committed rows into
 * the log, recovers at start the rows a crash kept from it, and lets the
 * store delete rows once the log holding them is synced.
 */
#ifndef RELAY_AUDIT_STORE_H
#define RELAY_AUDIT_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct relay;
struct store_batch;
struct store_op;

/* The store's audit callback (store_audit_fn): the body recording op's change, or 0. */
size_t audit_store_body(void *arg, const struct store_op *op, char *out, size_t cap);
/*
 * At start, after store_open and audit_open: connects the two, and chains
 * the rows the log does not hold yet. 0, or -1 with a message in err.
 */
int audit_store_start(struct relay *r, char *err, size_t cap);
/* After each batch the writer finished, before its ops are answered. */
void audit_store_done(struct relay *r, const struct store_batch *b);
/* Chains committed rows that wait (each loop iteration; cheap when none do). */
void audit_store_pump(struct relay *r);
/* Once a second: rows the synced log holds are deleted from the outbox. */
void audit_store_tick(struct relay *r);
/*
 * At a clean stop, once the loop has ended and the writer has committed
 * and answered everything: chains the rows left, syncs the log and adds
 * to the pending batch the op that empties the outbox (true; the caller
 * submits it and waits), so the next start has nothing to recover.
 */
bool audit_store_stop(struct relay *r);

#endif
