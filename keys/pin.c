/*
 * Reading and writing the brand pin files. The format is strict (one line,
 * single spaces, lowercase hex, three or four fields) so that two tools
 * never disagree about which key a file pins, or whether it is a relay pin
 * or a client pin.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "files.h"
#include "pin.h"
#include "util.h"

#define PIN_PREFIX "parley-brand-v1 "

size_t keys_pin_format(const struct keys_pin *pin, char out[KEYS_PIN_MAX])
{
    char hex[KEYS_HEX32_LEN], dhex[KEYS_HEX32_LEN];
    int n;

    if (!parley_id_valid(pin->brand_id))
        return 0;
    keys_hex32(pin->brand_pk, hex);
    if (pin->has_dir_key) {
        keys_hex32(pin->dir_key, dhex);
        n = snprintf(out, KEYS_PIN_MAX, PIN_PREFIX "%s %s %s\n", pin->brand_id, hex, dhex);
        sodium_memzero(dhex, sizeof(dhex));
    } else {
        n = snprintf(out, KEYS_PIN_MAX, PIN_PREFIX "%s %s\n", pin->brand_id, hex);
    }
    return n > 0 && (size_t)n < KEYS_PIN_MAX ? (size_t)n : 0;
}

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int keys_pin_parse(const uint8_t *buf, size_t len, struct keys_pin *pin)
{
    const char *s = (const char *)buf;
    const char *id, *space, *hex;
    size_t plen = sizeof(PIN_PREFIX) - 1, id_len, rest;
    struct keys_pin p;

    /* The line ends with one newline; tolerate a file whose last newline was lost. */
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len < plen || len >= KEYS_PIN_MAX || memcmp(s, PIN_PREFIX, plen) != 0 ||
        memchr(s, '\0', len) != NULL || memchr(s, '\n', len) != NULL)
        return 0;
    id = s + plen;
    space = memchr(id, ' ', len - plen);
    if (space == NULL)
        return 0;
    id_len = (size_t)(space - id);
    hex = space + 1;
    rest = (size_t)(s + len - hex);
    /* "<key>" (relay pin) or "<key> <directory key>" (client pin), nothing else. */
    if (id_len == 0 || id_len > PARLEY_MAX_ID || (rest != 64 && rest != 64 + 1 + 64) ||
        !is_lower_hex(hex, 64) || (rest > 64 && (hex[64] != ' ' || !is_lower_hex(hex + 65, 64))))
        return 0;
    memset(&p, 0, sizeof(p));
    memcpy(p.brand_id, id, id_len);
    p.brand_id[id_len] = '\0';
    p.has_dir_key = rest > 64;
    if (!parley_id_valid(p.brand_id) ||
        sodium_hex2bin(p.brand_pk, 32, hex, 64, NULL, NULL, NULL) != 0 ||
        (p.has_dir_key && sodium_hex2bin(p.dir_key, 32, hex + 65, 64, NULL, NULL, NULL) != 0)) {
        sodium_memzero(&p, sizeof(p));
        return 0;
    }
    *pin = p;
    sodium_memzero(&p, sizeof(p));
    return 1;
}

int keys_pin_load(const char *path, struct keys_pin *pin)
{
    struct keys_file f;
    int rc = 0;

    if (keys_file_load(path, KEYS_KIND_PIN, &f) != 0)
        return -1;
    if (!keys_pin_parse(f.buf, f.len, pin)) {
        keys_error(path, "malformed brand pin line");
        rc = -1;
    }
    keys_file_release(&f);
    return rc;
}

void keys_pin_wipe(struct keys_pin *pin)
{
    sodium_memzero(pin, sizeof(*pin));
}
