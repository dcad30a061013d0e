/*
 * Client storage: a small synchronous key-value interface the library
 * keeps its state in (identity, peer keys, counters, outbox, history),
 * and the default sqlite implementation. The library encrypts every value
 * before it reaches the store (XChaCha20-Poly1305 under a key derived from
 * the passphrase with Argon2id), so a host may plug in any store.
 */
#ifndef PARLEY_STORE_H
#define PARLEY_STORE_H

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called by scan for each entry; return non-zero to stop. Pointers valid during the call only. */
typedef int (*parley_store_scan_fn)(void *arg, const uint8_t *key, size_t key_len,
                                    const uint8_t *val, size_t val_len);

/*
 * The operations a store provides. Tables are short ASCII names; keys and
 * values are byte strings (keys at most 256 bytes, values at most 1 MiB).
 * Every function returns 0 on success and -1 on failure, except get (1
 * found, 0 absent, -1 failure). Calls come from one thread at a time.
 * Writes between begin and commit must become durable together or not
 * at all; outside a transaction each write is durable on return.
 */
typedef struct parley_store_ops {
    int (*begin)(void *ctx);
    int (*commit)(void *ctx);
    int (*rollback)(void *ctx);
    /* *val is malloc'd and freed by the caller. */
    int (*get)(void *ctx, const char *table, const uint8_t *key, size_t key_len, uint8_t **val,
               size_t *val_len);
    int (*put)(void *ctx, const char *table, const uint8_t *key, size_t key_len,
               const uint8_t *val, size_t val_len);
    int (*del)(void *ctx, const char *table, const uint8_t *key, size_t key_len);
    /* Entries whose key starts with prefix (prefix_len 0: all), in bytewise key order. */
    int (*scan)(void *ctx, const char *table, const uint8_t *prefix, size_t prefix_len,
                parley_store_scan_fn fn, void *arg);
    void (*close)(void *ctx);
    /*
     * Optional (NULL: nothing to do): leaves nothing of deleted rows in the
     * store's files (journals, free space), called outside a transaction
     * after the library erased something, e.g. on an erasure request.
     */
    int (*compact)(void *ctx);
} parley_store_ops;

typedef struct parley_store {
    const parley_store_ops *ops;
    void *ctx;
} parley_store;

/*
 * Closes a store through its ops table (a store whose close is NULL
 * needs none) and clears *store. NULL, or a store cleared already: no-op.
 */
PARLEY_API void parley_store_close(parley_store *store);

/*
 * Opens (creating if needed) the default store: one sqlite database at
 * path, WAL mode, synchronous=FULL, secure_delete; compact checkpoints and
 * truncates the WAL, whose frames would otherwise keep deleted rows. Fills *out. Returns PARLEY_OK,
 * PARLEY_EINVAL, PARLEY_EIO (cannot open or create), PARLEY_ENOMEM.
 * Release with parley_store_close(out).
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_store_sqlite_open(parley_store *out,
                                                                const char *path);

#ifdef __cplusplus
}
#endif
#endif
