/*
 * The brand pin line (parley/pin.h): parsed and written here only, so
 * that parley-keys, which writes it, and every program or widget that
 * reads it agree byte for byte on what a pin says.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "parley/cert.h"
#include "parley/pin.h"

#define PIN_PREFIX     "parley-brand-v1 "
#define PIN_PREFIX_LEN (sizeof(PIN_PREFIX) - 1)
#define PIN_HEX_LEN    (2 * PARLEY_KEY_BYTES)

static int lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int hex_key(const char *hex, uint8_t out[PARLEY_KEY_BYTES])
{
    return lower_hex(hex, PIN_HEX_LEN) &&
           sodium_hex2bin(out, PARLEY_KEY_BYTES, hex, PIN_HEX_LEN, NULL, NULL, NULL) == 0;
}

parley_err parley_pin_parse(const char *line, size_t len, parley_pin *out)
{
    const char *id, *space, *hex;
    size_t id_len, rest;
    parley_pin p;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (line == NULL || out == NULL)
        return PARLEY_EINVAL;
    if (len > PARLEY_PIN_MAX)
        return PARLEY_ETOOBIG;
    /* One final newline; a line whose newline was lost is still the same pin. */
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len < PIN_PREFIX_LEN || memcmp(line, PIN_PREFIX, PIN_PREFIX_LEN) != 0 ||
        memchr(line, '\0', len) != NULL || memchr(line, '\n', len) != NULL)
        return PARLEY_EMALFORMED;
    id = line + PIN_PREFIX_LEN;
    space = memchr(id, ' ', len - PIN_PREFIX_LEN);
    if (space == NULL)
        return PARLEY_EMALFORMED;
    id_len = (size_t)(space - id);
    hex = space + 1;
    rest = (size_t)(line + len - hex);
    /* "<key>" (relay pin) or "<key> <directory key>" (client pin), nothing else. */
    if (id_len == 0 || id_len > PARLEY_MAX_ID ||
        (rest != PIN_HEX_LEN && rest != 2 * PIN_HEX_LEN + 1) ||
        (rest > PIN_HEX_LEN && hex[PIN_HEX_LEN] != ' '))
        return PARLEY_EMALFORMED;
    memset(&p, 0, sizeof(p));
    memcpy(p.brand_id, id, id_len);
    p.has_directory_key = rest > PIN_HEX_LEN;
    if (!parley_id_valid(p.brand_id) || !hex_key(hex, p.brand_pk) ||
        (p.has_directory_key && !hex_key(hex + PIN_HEX_LEN + 1, p.directory_key))) {
        sodium_memzero(&p, sizeof(p));
        return PARLEY_EMALFORMED;
    }
    *out = p;
    sodium_memzero(&p, sizeof(p));
    return PARLEY_OK;
}

size_t parley_pin_format(const parley_pin *pin, char *out, size_t cap)
{
    char line[PARLEY_PIN_MAX + 1];
    char hex[PIN_HEX_LEN + 1], dhex[PIN_HEX_LEN + 1];
    int n;

    if (pin == NULL || out == NULL || !parley_id_valid(pin->brand_id))
        return 0;
    sodium_bin2hex(hex, sizeof(hex), pin->brand_pk, PARLEY_KEY_BYTES);
    if (pin->has_directory_key) {
        sodium_bin2hex(dhex, sizeof(dhex), pin->directory_key, PARLEY_KEY_BYTES);
        n = snprintf(line, sizeof(line), PIN_PREFIX "%s %s %s\n", pin->brand_id, hex, dhex);
        sodium_memzero(dhex, sizeof(dhex));
    } else {
        n = snprintf(line, sizeof(line), PIN_PREFIX "%s %s\n", pin->brand_id, hex);
    }
    if (n <= 0 || (size_t)n >= sizeof(line) || (size_t)n >= cap) {
        sodium_memzero(line, sizeof(line));
        return 0;
    }
    memcpy(out, line, (size_t)n + 1);
    sodium_memzero(line, sizeof(line));
    return (size_t)n;
}
