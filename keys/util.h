/*
 * Small helpers shared by every parley-keys command: strict number
 * parsing, hex and time rendering, error texts for an admin. Errors are
 * printed with report_error(), the one error line of every program.
 */
#ifndef KEYS_UTIL_H
#define KEYS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <parley/parley.h>

#include "report.h"

/* Exit codes (docs/keys.md): 0 success, 1 failure, 2 usage error. */
#define KEYS_EXIT_OK    0
#define KEYS_EXIT_FAIL  1
#define KEYS_EXIT_USAGE 2

#define KEYS_PROG "parley-keys"

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

/*
 * parley_strerror(), with "malformed" explained: to an admin, a malformed
 * file is a truncated or corrupted one.
 */
const char *keys_strerror(parley_err err);

/* Current Unix time in seconds. */
uint64_t keys_now(void);

#endif
