/*
 * The widget's client store: parley_store_ops over rows held in memory,
 * with a journal of committed changes that the page writes to IndexedDB.
 *
 * The store interface is synchronous and IndexedDB is not, so the page
 * loads every row into this store at start (widget_store_load), the
 * session reads and writes here, and each commit (or write outside a
 * transaction) becomes one batch that the page takes with
 * widget_store_next_batch and writes as one IndexedDB transaction. The
 * page holds back every frame and event the session produced until the
 * batches taken before them have committed, so what the relay is told was
 * kept is on disk first (widget/engine/README.md).
 *
 * A batch is a sequence of records, each
 *   op (1: put, 2: delete) | row id (16 bytes) | length (u32 LE) | row
 * where row (puts only; length 0 for a delete) is
 *   table length (u8) | table | key length (u16 LE) | key | value.
 * The row id is BLAKE2b-128 of "table NUL key" keyed by a secret of the
 * installation, so the IndexedDB keys name neither tables nor row keys.
 * The page encrypts each row under its WebCrypto key before writing it.
 *
 * Until widget_store_persist is called the store keeps everything in
 * memory only and makes no batches (a session that has not been given
 * consent to keep anything on the device); that call emits every row as
 * one batch and journals from then on.
 *
 * One store per module; calls come from the page's single thread.
 */
#ifndef PARLEY_WIDGET_STORE_H
#define PARLEY_WIDGET_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <parley/store.h>

#define WIDGET_ROW_ID_BYTES 16u
#define WIDGET_BATCH_PUT    1u
#define WIDGET_BATCH_DEL    2u

/* The store's operations (ctx unused: there is one store). */
const parley_store *widget_store(void);

/* Forgets every row, transaction, batch and the row-id key; memory-only again. */
void widget_store_reset(void);

/*
 * Sets the key the row ids are derived from (32 bytes, copied) and starts
 * journaling: every row held goes into one batch. Returns 0, or -1 when
 * out of memory (nothing changes) or inside a transaction.
 */
int widget_store_persist(const uint8_t key[32]);

/* 1 once widget_store_persist succeeded. */
int widget_store_persistent(void);

/*
 * Loads one row read back from IndexedDB (row as in a batch record,
 * stored under row id id), without journaling it. Returns 0; -1 when
 * the row is malformed, its id is not the id of its table and key under
 * the key given to widget_store_persist (a row moved or damaged), or out
 * of memory.
 */
int widget_store_load(const uint8_t id[WIDGET_ROW_ID_BYTES], const uint8_t *row, size_t len);

/*
 * The oldest batch not yet taken: 1 with *p and *len set (owned by the
 * store, valid until the next call), 0 when there is none.
 */
int widget_store_next_batch(const uint8_t **p, size_t *len);

/* Rows held in table (NULL: over all tables). */
size_t widget_store_rows(const char *table);

#endif
