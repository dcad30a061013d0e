/*
 * Identities on disk: unlocking a key file with its passphrase, telling a
 * brand key from an agent key by its label, and encrypting a new identity
 * under a new passphrase.
 */
#ifndef KEYS_KEYFILE_H
#define KEYS_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include <parley/parley.h>

#include "passphrase.h"

/* Longest key file label the library stores. */
#define KEYS_LABEL_MAX 128u

#define KEYS_LABEL_BRAND "brand "
#define KEYS_LABEL_AGENT "agent "

/*
 * Reads and unlocks the key file at path. label receives its label.
 * Prints one error line naming path and returns -1 on failure.
 */
int keys_identity_load(const char *path, const struct passphrase_source *src, parley_identity **out,
                       char label[KEYS_LABEL_MAX + 1]);

/* As keys_identity_load(), for a brand key: brand_id comes from the label "brand <id>". */
int keys_brand_load(const char *path, const struct passphrase_source *src, parley_identity **out,
                    char brand_id[PARLEY_MAX_ID + 1]);

/*
 * Asks for a new passphrase (for the key file that will be at path) and
 * encrypts id under it. *out is freed with parley_free(). Prints an error
 * and returns -1 on failure.
 */
int keys_identity_seal(const parley_identity *id, const char *label, const char *path,
                       const struct passphrase_source *src, parley_kdf_cost cost, uint8_t **out,
                       size_t *out_len);

#endif
