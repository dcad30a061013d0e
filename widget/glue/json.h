/*
 * JSON text for the page: the glue hands events, listings and scan
 * results to JavaScript as JSON strings, which JSON.parse reads in one
 * call instead of one call per field. Text from other parties goes
 * through json_text(), which shows it the way every Parley client does
 * (parley/text.h): invalid UTF-8 becomes U+FFFD and the invisible
 * formatting characters are dropped.
 */
#ifndef PARLEY_WIDGET_JSON_H
#define PARLEY_WIDGET_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json {
    char *p; /* NUL-terminated while not failed */
    size_t n, cap;
    bool failed; /* out of memory: the text is incomplete and must not be used */
};

/* Empties j, keeping its memory (wiped: it may have held message text). */
void json_reset(struct json *j);
/* Wipes and frees. */
void json_free(struct json *j);

void json_raw(struct json *j, const char *s, size_t n);
#define JSON_LIT(j, lit) json_raw((j), (lit), sizeof(lit) - 1)
/* A comma, unless the object or array just opened: before each array element. */
void json_item(struct json *j);
/* "name": after json_item(). */
void json_key(struct json *j, const char *name);
void json_u64(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);
/* A JSON string of n bytes of UTF-8; invisible controls dropped when others_text. */
void json_text(struct json *j, const char *s, size_t n, bool others_text);
/* A JSON string of n bytes as lowercase hex. */
void json_hex(struct json *j, const uint8_t *p, size_t n);

#endif
