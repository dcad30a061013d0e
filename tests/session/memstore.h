/*
 * An in-memory parley_store for tests: one sorted array of (table, key,
 * value) rows, transactions by copy-on-begin. Each core under test gets a
 * store of its own that the test can read row by row, and "crash" at any
 * point between two calls.
 */
#ifndef PARLEY_TEST_MEMSTORE_H
#define PARLEY_TEST_MEMSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parley/store.h"

struct memstore;

/* A new empty store; NULL on allocation failure. */
struct memstore *memstore_new(void);
/* Frees every row. NULL: no-op. Not through ops->close (which does nothing). */
void memstore_free(struct memstore *ms);
/* Fills *out with ops over ms; ms stays owned by the caller. */
void memstore_as_store(struct memstore *ms, parley_store *out);

/* Raw rows, every table, in (table, key) order; fn returns non-zero to stop. */
typedef int (*memstore_row_fn)(void *arg, const char *table, const uint8_t *key, size_t key_len,
                               const uint8_t *val, size_t val_len);
void memstore_each(const struct memstore *ms, memstore_row_fn fn, void *arg);
size_t memstore_rows(const struct memstore *ms, const char *table); /* NULL: all tables */

/* A power cut: an open transaction is lost, committed rows stay. */
void memstore_crash(struct memstore *ms);
bool memstore_in_tx(const struct memstore *ms);
/* The next n commits fail, leaving the rows as they were at begin (a disk full or gone). */
void memstore_fail_commits(struct memstore *ms, unsigned n);
/* Commits that succeeded so far. */
unsigned memstore_commits(const struct memstore *ms);
/* Number of begin calls refused because a transaction was already open. */
unsigned memstore_nested_begins(const struct memstore *ms);

#endif
