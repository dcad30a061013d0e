/*
 * The client's encrypted view of a parley_store: every value is sealed
 * with XChaCha20-Poly1305 under a key derived from the passphrase
 * (Argon2id; its salt and limits kept in the store's "meta" table), with
 * the table name and row key as associated data, so values cannot be
 * moved between rows unnoticed.
 */
#ifndef PARLEY_VAULT_H
#define PARLEY_VAULT_H

#include "internal.h"
#include "parley/store.h"

struct parley__vault {
    parley_store store;
    uint8_t *key;              /* sodium_malloc, 32 bytes */
    bool in_tx;
    /*
     * A transaction left open by parley__vault_hold, to be committed
     * later. Whatever else would use the store for a write first calls
     * settle(settle_arg), which must end it (parley__vault_commit_held).
     */
    bool held;
    void (*settle)(void *arg);
    void *settle_arg;
};

/*
 * Derives the key (creating the salt and the format mark on first use).
 * PARLEY_EPASSPHRASE when wrong, PARLEY_EWRONGTYPE for a store of another
 * format (libparley 0.1.0). On failure nothing is left to close.
 */
parley_err parley__vault_open(struct parley__vault *v, const parley_store *store,
                              const char *pass, size_t pass_len, parley_kdf_cost cost);
void parley__vault_close(struct parley__vault *v);

/*
 * Transactions. begin settles a held transaction first (see above);
 * rollback inside a joined one rolls back what it held too.
 */
parley_err parley__vault_begin(struct parley__vault *v);
parley_err parley__vault_commit(struct parley__vault *v);
void parley__vault_rollback(struct parley__vault *v);
/*
 * A transaction whose commit may wait: join continues the held one (or
 * begins), hold leaves it open for a later parley__vault_commit_held
 * instead of committing now, so that several changes share one commit.
 * Until then the store's own reads see the changes; a crash loses them all.
 */
parley_err parley__vault_join(struct parley__vault *v);
void parley__vault_hold(struct parley__vault *v);
/* Commits the held transaction (PARLEY_OK when none is held); on failure it is rolled back. */
parley_err parley__vault_commit_held(struct parley__vault *v);
parley_err parley__vault_put(struct parley__vault *v, const char *table, const uint8_t *key,
                             size_t key_len, const uint8_t *val, size_t val_len);
/* PARLEY_OK with *val malloc'd (free with parley_free), PARLEY_EINVAL when absent. */
parley_err parley__vault_get(struct parley__vault *v, const char *table, const uint8_t *key,
                             size_t key_len, uint8_t **val, size_t *val_len);
parley_err parley__vault_del(struct parley__vault *v, const char *table, const uint8_t *key,
                             size_t key_len);
/* Returns 0 to go on, 1 to stop, -1 to stop because memory ran out (PARLEY_ENOMEM). */
typedef int (*parley__vault_scan_fn)(void *arg, const uint8_t *key, size_t key_len,
                                     const uint8_t *val, size_t val_len);
/*
 * Decrypted values in key order; an entry that does not decrypt is
 * PARLEY_EIO, a callback that ran out of memory PARLEY_ENOMEM: a list
 * collected from a scan that did not return PARLEY_OK is not whole.
 */
parley_err parley__vault_scan(struct parley__vault *v, const char *table, const uint8_t *prefix,
                              size_t prefix_len, parley__vault_scan_fn fn, void *arg);

/* After deletions that must not be recoverable (erasure): the store's compact, if it has one. */
void parley__vault_compact(struct parley__vault *v);
/*
 * Deletes every row of the n tables named, in one transaction, then
 * compacts: nothing of them is left in the store's files.
 */
parley_err parley__vault_wipe(struct parley__vault *v, const char *const *tables, size_t n);

/* Packs a protobuf message and puts it. */
parley_err parley__vault_put_pb(struct parley__vault *v, const char *table, const uint8_t *key,
                                size_t key_len, const ProtobufCMessage *msg);

#endif
