/*
 * The audit chain (see audit.h for the format): computing a batch's
 * hash and parsing a line as the relay writes it, which the relay needs
 * to continue a chain and parley-audit to verify one (audit_verify.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "audit.h"
#include "audit_impl.h"

const uint8_t audit_genesis[AUDIT_HASH_BYTES]; /* 32 zero bytes */

/* ------------------------------------------------------------------ */
/* The chain */

void audit_chain_hash(const uint8_t prev[AUDIT_HASH_BYTES], const char *canon, size_t len,
                      uint8_t out[AUDIT_HASH_BYTES])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, AUDIT_HASH_BYTES);
    crypto_generichash_update(&st, prev, AUDIT_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)canon, len);
    crypto_generichash_final(&st, out, AUDIT_HASH_BYTES);
}

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static int hex32(const char *s, uint8_t out[AUDIT_HASH_BYTES])
{
    size_t got = 0;

    if (!is_lower_hex(s, 64) ||
        sodium_hex2bin(out, AUDIT_HASH_BYTES, s, 64, NULL, &got, NULL) != 0 ||
        got != AUDIT_HASH_BYTES)
        return -1;
    return 0;
}

static bool has_prefix(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" -> Unix seconds. */
static int parse_ts(const char *s, int64_t *out)
{
    struct tm tm;
    const char *e;

    memset(&tm, 0, sizeof(tm));
    e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (e == NULL || e - s != 19 || e[0] != '.' || e[1] < '0' || e[1] > '9' || e[2] < '0' ||
        e[2] > '9' || e[3] < '0' || e[3] > '9' || e[4] != 'Z')
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

/* Whether line[0..len) ends with a batch's tail: ,"prev":"<hex>","hash":"<hex>"} */
static bool has_tail(const char *line, size_t len)
{
    const char *end = line + len, *tail = end - TAIL_LEN;

    return len >= TAIL_LEN && has_prefix(tail, end, ",\"prev\":\"") &&
           has_prefix(tail + TAIL_PREV + 64, end, "\",\"hash\":\"") && memcmp(end - 2, "\"}", 2) == 0;
}

int audit_entry_parse(const char *line, size_t len, struct audit_line *l)
{
    const char *p = line, *end = line + len, *tail;
    char ts[25];
    size_t n;

    memset(l, 0, sizeof(*l));
    if (len < 40 || len >= AUDIT_LINE_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
            return -1;
    if (!has_prefix(p, end, "{\"seq\":"))
        return -1;
    p += 7;
    if (*p < '1' || *p > '9')
        return -1;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (l->seq > (UINT64_MAX - 9) / 10)
            return -1;
        l->seq = l->seq * 10 + (uint64_t)(*p - '0');
    }
    if (!has_prefix(p, end, ",\"ts\":\""))
        return -1;
    p += 7;
    if (end - p < 24 + 11)
        return -1;
    memcpy(ts, p, 24);
    ts[24] = '\0';
    if (parse_ts(ts, &l->ts) != 0)
        return -1;
    p += 24;
    if (!has_prefix(p, end, "\",\"event\":\""))
        return -1;
    p += 11;
    for (n = 0; p + n < end && ((p[n] >= 'a' && p[n] <= 'z') || p[n] == '_'); n++)
        ;
    if (n == 0 || n >= sizeof(l->event) || p + n >= end || p[n] != '"')
        return -1;
    memcpy(l->event, p, n);
    p += n + 1;
    l->sealed = has_tail(line, len);
    tail = l->sealed ? end - TAIL_LEN : end - 1;
    if (p > tail || (p < tail && *p != ',') || (!l->sealed && *tail != '}'))
        return -1;
    l->fields = (size_t)(tail - line);
    if (l->sealed && (hex32(tail + TAIL_PREV, l->prev) != 0 || hex32(tail + TAIL_PREV + 74, l->hash) != 0))
        return -1;
    return 0;
}

int audit_line_parse(const char *line, size_t len, struct audit_line *l)
{
    if (audit_entry_parse(line, len, l) != 0 || !l->sealed)
        return -1;
    return 0;
}

bool audit_line_hash_ok(const char *text, size_t len, const struct audit_line *l)
{
    crypto_generichash_state st;
    uint8_t h[AUDIT_HASH_BYTES];

    /* Canonical bytes: the batch up to its last line's prev member, closed by '}'. */
    if (!l->sealed || len < HASH_MEMBER_LEN + 1)
        return false;
    crypto_generichash_init(&st, NULL, 0, AUDIT_HASH_BYTES);
    crypto_generichash_update(&st, l->prev, AUDIT_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)text, len - HASH_MEMBER_LEN - 1);
    crypto_generichash_update(&st, (const uint8_t *)"}", 1);
    crypto_generichash_final(&st, h, sizeof(h));
    return sodium_memcmp(h, l->hash, sizeof(h)) == 0;
}
