/*
 * Showing someone else's text: UTF-8 decoding that never fails, and the
 * invisible formatting characters a display must drop. parley-agent and
 * parley-customer print what others send through these two functions,
 * so both show a peer's text the same way.
 */
#ifndef PARLEY_TEXT_H
#define PARLEY_TEXT_H

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Decodes the code point at the start of s[0..n) into *cp and returns
 * the bytes it takes (1 to 4); returns 0, with *cp set to 0, only when n
 * is 0. A byte that does not start a valid sequence (a stray
 * continuation byte, an overlong form, a surrogate, a value past
 * U+10FFFF, a sequence cut short) gives U+FFFD and 1, so a loop over any
 * bytes always moves on. Thread-safe.
 */
PARLEY_API size_t parley_utf8_next(const char *s, size_t n, uint32_t *cp);

/*
 * 1 when cp is an invisible formatting character that a display of
 * someone else's text drops, 0 otherwise: the bidirectional embeddings
 * and overrides U+202A..U+202E, the isolates U+2066..U+2069 and the
 * directional marks U+200E, U+200F and U+061C. They show nothing
 * themselves, but can make the rest of a line read in another order than
 * it was written (a name that seems to say something else, a link that
 * seems to point elsewhere). Thread-safe.
 */
PARLEY_API int parley_text_invisible(uint32_t cp);

#ifdef __cplusplus
}
#endif
#endif
