/*
 * The brand public pin file: one text line
 * "parley-brand-v1 <brand-id> <64 lowercase hex>\n", the trust anchor that
 * widgets and agent clients are configured with.
 */
#ifndef KEYS_PIN_H
#define KEYS_PIN_H

#include <stddef.h>
#include <stdint.h>

#include <parley/parley.h>

struct keys_pin {
    char brand_id[PARLEY_MAX_ID + 1];
    uint8_t brand_pk[32];
};

/* Longest pin line, with its newline and NUL. */
#define KEYS_PIN_MAX (sizeof("parley-brand-v1 ") + PARLEY_MAX_ID + 1 + 64 + 1)

/* Writes the line into out; returns its length, or 0 if brand_id is invalid. */
size_t keys_pin_format(const struct keys_pin *pin, char out[KEYS_PIN_MAX]);

/* Parses a pin file's bytes, strictly. Returns 1 on success. */
int keys_pin_parse(const uint8_t *buf, size_t len, struct keys_pin *pin);

/* Reads and parses path; prints one error line and returns -1 on failure. */
int keys_pin_load(const char *path, struct keys_pin *pin);

#endif
