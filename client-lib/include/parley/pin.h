/*
 * The brand pin: the one text line through which a brand hands its trust
 * anchor to the programs it configures.
 *
 *   relay pin   "parley-brand-v1 <brand-id> <64 hex brand key>\n"
 *               for relay operators: the relay checks signatures only;
 *   client pin  "parley-brand-v1 <brand-id> <64 hex brand key> <64 hex directory key>\n"
 *               for widgets and agent clients, which also open the
 *               directory's sealed content (names, notice). Never given
 *               to a relay.
 *
 * The format is strict (single spaces, lowercase hex, a valid brand id,
 * at most one final newline) so that two programs never disagree about
 * which key a pin names, or whether it is a relay or a client pin.
 */
#ifndef PARLEY_PIN_H
#define PARLEY_PIN_H

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a pin line says. Plain data; a client pin's directory_key is secret from relays. */
typedef struct parley_pin {
    char brand_id[PARLEY_MAX_ID + 1];
    uint8_t brand_pk[PARLEY_KEY_BYTES];
    int has_directory_key;                   /* 1: a client pin */
    uint8_t directory_key[PARLEY_KEY_BYTES]; /* zero in a relay pin */
} parley_pin;

/*
 * Longest pin line in bytes: a client pin with the longest brand id and
 * its newline. A buffer for parley_pin_format() needs one byte more.
 */
#define PARLEY_PIN_MAX (16u + PARLEY_MAX_ID + 1u + 64u + 1u + 64u + 1u)

/*
 * Parses a pin line: len bytes of line (borrowed; NUL-terminated or not),
 * with or without its final newline. On PARLEY_OK *out holds the pin;
 * has_directory_key says which kind it is, and the caller decides
 * whether that kind is the one it needs. Returns PARLEY_EINVAL (line or
 * out NULL), PARLEY_ETOOBIG (over PARLEY_PIN_MAX bytes), PARLEY_EMALFORMED
 * (anything else than the format above: another prefix, a bad brand id,
 * uppercase or short hex, extra spaces or fields, a NUL or a second
 * line). On failure *out is zeroed. Pure, thread-safe.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_pin_parse(const char *line, size_t len,
                                                        parley_pin *out);

/*
 * Writes pin's line, newline included, NUL-terminated, into out (cap
 * bytes; PARLEY_PIN_MAX + 1 always suffice): a client pin when
 * pin->has_directory_key, else a relay pin. Returns the line's length
 * without the NUL, or 0 (out unchanged) when pin's brand id is invalid,
 * cap is too small or an argument is NULL. A client pin line holds the
 * directory key: wipe out when done. Pure, thread-safe.
 */
PARLEY_API size_t parley_pin_format(const parley_pin *pin, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
