/*
 * NKeys: the Ed25519 keys NATS clients authenticate with, in their text
 * form (base32 of a type prefix, the key and a CRC-16). The relay reads a
 * user's seed file (nats-nkey) and gives NATS the public key it derives;
 * libnats signs with the seed itself. Secrets: a seed's bytes are wiped
 * after use; nothing here logs.
 */
#ifndef RELAY_NKEY_H
#define RELAY_NKEY_H

#include <stddef.h>
#include <stdint.h>

#define NKEY_SEED_LEN 58   /* "S" + type + 56 more */
#define NKEY_PUBLIC_LEN 56

/* Key types, the first letter of a public key: operator, account, user. */
enum nkey_type { NKEY_OPERATOR = 'O', NKEY_ACCOUNT = 'A', NKEY_USER = 'U' };

/* The text of a key of type: public (raw: 32 bytes) and, with a seed, its seed text. */
void nkey_public_text(enum nkey_type type, const uint8_t raw[32], char out[NKEY_PUBLIC_LEN + 1]);
void nkey_seed_text(enum nkey_type type, const uint8_t seed[32], char out[NKEY_SEED_LEN + 1]);
/*
 * The user public key of the seed in the file at path: its first line
 * that begins with "SU" (a seed file alone, or the seed block of a .creds
 * file). 0, or -1 with a message in err (never the seed).
 */
int nkey_file_user_public(const char *path, char pub[NKEY_PUBLIC_LEN + 1], char *err,
                          size_t cap);

/*
 * Whether the file at path looks like a NATS .creds file: it holds a user
 * JWT block (libnats reads the JWT and the seed from it). 0, or -1 with a
 * message in err.
 *
 * Both read a secret: the file must be a regular one that only its owner
 * may read or write (mode 0600 or stricter) and at most NKEY_FILE_MAX
 * bytes; what they read is wiped after use.
 */
#define NKEY_FILE_MAX 8192
int nkey_creds_check(const char *path, char *err, size_t cap);

#endif
