/*
 * Small helpers shared by every parley-keys command: the one-line error
 * format, strict number parsing, hex and time rendering, KDF cost names.
 */
#ifndef KEYS_UTIL_H
#define KEYS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <parley/parley.h>

/* Exit codes (docs/keys.md): 0 success, 1 failure, 2 usage error. */
#define KEYS_EXIT_OK    0
#define KEYS_EXIT_FAIL  1
#define KEYS_EXIT_USAGE 2

#define KEYS_PROG "parley-keys"

/* Prints "parley-keys: <subject>: <message>\n" on stderr; subject may be NULL. */
void keys_error(const char *subject, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Parses a decimal unsigned 64-bit number: digits only, no sign, no
 * spaces, no overflow. Returns 1 on success, 0 otherwise.
 */
int keys_parse_u64(const char *s, uint64_t *out);

/* Lowercase hex of 32 bytes into out (65 bytes with the NUL). */
#define KEYS_HEX32_LEN 65u
void keys_hex32(const uint8_t bin[32], char out[KEYS_HEX32_LEN]);

/* "2025-01-31T12:00:00Z", or the bare number when it is beyond time_t. */
#define KEYS_TIME_LEN 32u
void keys_format_time(uint64_t t, char out[KEYS_TIME_LEN]);

/* interactive | moderate | sensitive | minimum. Returns 1 if known. */
int keys_parse_kdf(const char *s, parley_kdf_cost *out);

/*
 * parley_strerror(), with "malformed" explained: to an admin, a malformed
 * file is a truncated or corrupted one.
 */
const char *keys_strerror(parley_err err);

/* Current Unix time in seconds. */
uint64_t keys_now(void);

#endif
