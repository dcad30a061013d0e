/*
 * UTF-8 validation for what people read: display names, notices and chat
 * text. Shortest forms only, no surrogates, no NUL; names also refuse
 * every control character, texts keep tab and line breaks.
 */
#include "internal.h"

static bool control_allowed(uint32_t cp, bool text)
{
    if (cp == 0)
        return false;
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
        return text && (cp == '\t' || cp == '\n' || cp == '\r');
    return true;
}

bool parley__utf8_valid(const uint8_t *s, size_t n, bool text)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp;

        if (c < 0x80) {
            if (!control_allowed(c, text))
                return false;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + k >= n)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || !control_allowed(cp, text))
            return false;
        i += k + 1;
    }
    return true;
}
