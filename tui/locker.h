/*
 * The agent's own encrypted file beside the client store
 * (<store>.canned): saved replies and the customers verified by
 * fingerprint. XChaCha20-Poly1305 under a key from Argon2id of the
 * agent's passphrase, with the salt and cost stored in the file.
 */
#ifndef PARLEY_TUI_LOCKER_H
#define PARLEY_TUI_LOCKER_H

#include <stddef.h>

#include "parley/identity.h"

#define LOCKER_KIND_CANNED 'c'
#define LOCKER_KIND_VERIFIED 'v'
#define LOCKER_MAX_ENTRIES 512u
#define LOCKER_MAX_NAME 64u
#define LOCKER_MAX_VALUE 16384u

enum locker_status {
    LOCKER_OK = 0,
    LOCKER_EIO = -1,        /* cannot read or write the file */
    LOCKER_EMALFORMED = -2, /* not a locker file, truncated, over the limits */
    LOCKER_EPASSPHRASE = -3,/* wrong passphrase or altered file */
    LOCKER_ENOMEM = -4,
    LOCKER_EFULL = -5,      /* LOCKER_MAX_ENTRIES reached, or a value too long */
    LOCKER_ENOENT = -6      /* no such entry */
};

struct locker;

/*
 * Opens path with the passphrase, or creates an empty locker (written on
 * the first change) with a new salt at cost when the file does not
 * exist. pass is borrowed.
 */
int locker_open(struct locker **out, const char *path, const char *pass, size_t pass_len,
                parley_kdf_cost cost);
/* Wipes and frees. NULL: no-op. */
void locker_free(struct locker *l);

/* The value of (kind, name), borrowed until the next change; NULL if absent. */
const char *locker_get(const struct locker *l, char kind, const char *name);
/* Sets (kind, name) and rewrites the file atomically (mode 0600). */
int locker_put(struct locker *l, char kind, const char *name, const char *value);
int locker_del(struct locker *l, char kind, const char *name);
/* Names of kind, borrowed, in insertion order; returns the total count. */
size_t locker_names(const struct locker *l, char kind, const char **names, size_t max);

const char *locker_strerror(int status);

#endif
