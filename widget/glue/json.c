/*
 * The JSON the glue writes for the page (json.h): one growable buffer,
 * and strings written code point by code point so that whatever bytes a
 * peer sent, the page gets valid JSON and the text a Parley client shows.
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/text.h>
#include <sodium.h>

void json_reset(struct json *j)
{
    if (j->p != NULL)
        sodium_memzero(j->p, j->cap);
    j->n = 0;
    j->failed = false;
    if (j->p != NULL)
        j->p[0] = '\0';
}

void json_free(struct json *j)
{
    json_reset(j);
    free(j->p);
    memset(j, 0, sizeof(*j));
}

void json_raw(struct json *j, const char *s, size_t n)
{
    if (j->failed)
        return;
    if (n >= SIZE_MAX / 2 - j->n) {
        j->failed = true;
        return;
    }
    if (j->n + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        char *p;

        while (cap < j->n + n + 1)
            cap *= 2;
        p = malloc(cap);
        if (p == NULL) {
            j->failed = true;
            return;
        }
        /* Not realloc: the old block may hold message text, wiped before it is freed. */
        if (j->p != NULL) {
            memcpy(p, j->p, j->n);
            sodium_memzero(j->p, j->cap);
            free(j->p);
        }
        j->p = p;
        j->cap = cap;
    }
    memcpy(j->p + j->n, s, n);
    j->n += n;
    j->p[j->n] = '\0';
}

void json_item(struct json *j)
{
    if (j->n > 0 && j->p[j->n - 1] != '{' && j->p[j->n - 1] != '[')
        JSON_LIT(j, ",");
}

void json_key(struct json *j, const char *name)
{
    json_item(j);
    JSON_LIT(j, "\"");
    json_raw(j, name, strlen(name));
    JSON_LIT(j, "\":");
}

void json_u64(struct json *j, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);

    json_raw(j, tmp, (size_t)n);
}

void json_bool(struct json *j, bool v)
{
    if (v)
        JSON_LIT(j, "true");
    else
        JSON_LIT(j, "false");
}

/* The UTF-8 encoding of cp (a scalar value) into out; its length. */
static size_t utf8_put(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

void json_text(struct json *j, const char *s, size_t n, bool others_text)
{
    size_t i = 0;

    JSON_LIT(j, "\"");
    while (i < n) {
        uint32_t cp;
        char enc[8];
        size_t used = parley_utf8_next(s + i, n - i, &cp);

        i += used;
        if (others_text && parley_text_invisible(cp))
            continue;
        if (cp == '"' || cp == '\\') {
            enc[0] = '\\';
            enc[1] = (char)cp;
            json_raw(j, enc, 2);
        } else if (cp < 0x20 || cp == 0x7f) {
            int k = snprintf(enc, sizeof(enc), "\\u%04x", (unsigned)cp);

            json_raw(j, enc, (size_t)k);
        } else {
            json_raw(j, enc, utf8_put(cp, enc));
        }
    }
    JSON_LIT(j, "\"");
}

void json_hex(struct json *j, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];

    if (n > 64) {
        j->failed = true;
        return;
    }
    sodium_bin2hex(hex, sizeof(hex), p, n);
    JSON_LIT(j, "\"");
    json_raw(j, hex, 2 * n);
    JSON_LIT(j, "\"");
}
