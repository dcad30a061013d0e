/*
 * Screen width of text. Everything that reaches the screen goes through
 * these functions, so one place decides how a wide emoji, a combining
 * accent, a right-to-left letter or a stray control byte is drawn, and
 * no line ever runs past its pane. Decoding and the invisible formatting
 * characters are libparley's (parley/text.h), shared with parley-customer.
 */
#include "textwidth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include <parley/text.h>

size_t tw_decode(const char *s, size_t n, wchar_t *out, size_t cap)
{
    size_t i = 0, k = 0;

    while (i < n && k < cap) {
        uint32_t cp;

        i += parley_utf8_next(s + i, n - i, &cp);
        out[k++] = (wchar_t)cp;
    }
    return k;
}

size_t tw_encode(unsigned long cp, char out[4])
{
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

wchar_t tw_visible(wchar_t c)
{
    if (parley_text_invisible((uint32_t)c))
        return 0;
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0))
        return TW_REPLACEMENT;
    if (wcwidth(c) < 0)
        return TW_REPLACEMENT;
    return c;
}

int tw_cell(wchar_t c)
{
    wchar_t v = tw_visible(c);
    int w;

    if (v == 0)
        return 0;
    w = wcwidth(v);
    if (w < 0)
        return 1;
    return w > 2 ? 2 : w;
}

int tw_width(const wchar_t *s, size_t n)
{
    int w = 0;

    for (size_t i = 0; i < n; i++)
        w += tw_cell(s[i]);
    return w;
}

size_t tw_fit(const wchar_t *s, size_t n, int width)
{
    int used = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        int w = tw_cell(s[i]);
        if (used + w > width)
            break;
        used += w;
    }
    return i;
}

size_t tw_wrap(const wchar_t *s, size_t n, size_t start, int width, size_t *next)
{
    size_t i, last_space = SIZE_MAX;
    int used = 0;

    if (start >= n) {
        *next = n;
        return n;
    }
    for (i = start; i < n; i++) {
        int w;

        if (s[i] == L'\n') {
            *next = i + 1;
            return i;
        }
        w = tw_cell(s[i]);
        if (used + w > width)
            break;
        if (s[i] == L' ')
            last_space = i;
        used += w;
    }
    if (i == n) {
        *next = n;
        return n;
    }
    if (s[i] == L' ') {
        *next = i + 1;
        return i;
    }
    if (last_space != SIZE_MAX && last_space > start) {
        *next = last_space + 1;
        return last_space;
    }
    if (i == start) /* not even one character fits: take it anyway */
        i = start + 1;
    *next = i;
    return i;
}

int tw_contains_ci(const char *haystack, const char *needle)
{
    size_t hn = strlen(haystack), nn = strlen(needle), hw, nw;
    wchar_t *h, *n;
    int found = 0;

    if (nn == 0)
        return 1;
    h = malloc((hn + 1) * sizeof(*h));
    n = malloc((nn + 1) * sizeof(*n));
    if (h == NULL || n == NULL)
        goto out;
    hw = tw_decode(haystack, hn, h, hn + 1);
    nw = tw_decode(needle, nn, n, nn + 1);
    for (size_t i = 0; i < hw; i++)
        h[i] = (wchar_t)towlower((wint_t)h[i]);
    for (size_t i = 0; i < nw; i++)
        n[i] = (wchar_t)towlower((wint_t)n[i]);
    for (size_t i = 0; i + nw <= hw && !found; i++)
        if (wmemcmp(h + i, n, nw) == 0)
            found = 1;
out:
    free(h);
    free(n);
    return found;
}

size_t tw_cut_utf8(char *s, size_t n)
{
    size_t start = n, need;
    unsigned c;

    /* The last sequence starts at the last byte that is not a continuation byte. */
    while (start > 0 && n - start < 4 && ((unsigned char)s[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0)
        return n;
    c = (unsigned char)s[start - 1];
    need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (c >= 0xC0 && n - (start - 1) < need) {
        s[start - 1] = '\0';
        return start - 1;
    }
    return n;
}
