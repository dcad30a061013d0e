/*
 * Helpers for parley-keys: number parsing that refuses anything
 * surprising (a sign, spaces, overflow), and the renderings of keys and
 * times every command prints.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "util.h"

int keys_parse_u64(const char *s, uint64_t *out)
{
    unsigned long long v;
    char *end = NULL;

    if (s == NULL || s[0] < '0' || s[0] > '9')
        return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return 0;
    *out = (uint64_t)v;
    return 1;
}

void keys_hex32(const uint8_t bin[32], char out[KEYS_HEX32_LEN])
{
    sodium_bin2hex(out, KEYS_HEX32_LEN, bin, 32);
}

void keys_format_time(uint64_t t, char out[KEYS_TIME_LEN])
{
    struct tm tm;
    time_t tt = (time_t)t;

    /* Times past year 9999 do not fit the format; show the number. */
    if (t > 253402300799u || (uint64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
        strftime(out, KEYS_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, KEYS_TIME_LEN, "%" PRIu64, t);
}

uint64_t keys_now(void)
{
    time_t t = time(NULL);

    return t < 0 ? 0 : (uint64_t)t;
}

const char *keys_strerror(parley_err err)
{
    if (err == PARLEY_EMALFORMED)
        return "malformed (truncated or corrupt)";
    return parley_strerror(err);
}
