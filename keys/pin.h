/*
 * The brand pin files, one text line each, the trust anchors Parley
 * programs are configured with:
 *   relay pin   "parley-brand-v1 <brand-id> <64 hex brand key>\n"
 *               for relay operators: checks signatures only;
 *   client pin  "parley-brand-v1 <brand-id> <64 hex brand key> <64 hex directory key>\n"
 *               for widgets and agent clients: also opens the directory's
 *               sealed content (names, notice). Never given to a relay.
 */
#ifndef KEYS_PIN_H
#define KEYS_PIN_H

#include <stddef.h>
#include <stdint.h>

#include <parley/parley.h>

struct keys_pin {
    char brand_id[PARLEY_MAX_ID + 1];
    uint8_t brand_pk[32];
    int has_dir_key; /* a client pin */
    uint8_t dir_key[32];
};

/* Longest pin line (a client pin), with its newline and NUL. */
#define KEYS_PIN_MAX (sizeof("parley-brand-v1 ") + PARLEY_MAX_ID + 1 + 64 + 1 + 64 + 1)

/*
 * Writes the line into out: a client pin when pin->has_dir_key, else a
 * relay pin. Returns its length, or 0 if brand_id is invalid. A client pin
 * line holds the directory key: wipe out after use.
 */
size_t keys_pin_format(const struct keys_pin *pin, char out[KEYS_PIN_MAX]);

/* Parses a pin file's bytes (3 or 4 fields), strictly. Returns 1 on success. */
int keys_pin_parse(const uint8_t *buf, size_t len, struct keys_pin *pin);

/* Reads and parses path; prints one error line and returns -1 on failure. */
int keys_pin_load(const char *path, struct keys_pin *pin);

/* Wipes the directory key (and the rest) of a pin no longer needed. */
void keys_pin_wipe(struct keys_pin *pin);

#endif
