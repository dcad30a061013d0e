/*
 * Text for the sensitive-data guard: UTF-8 decoding, folding of case and
 * accents, and the split into words that the lexicons are matched on.
 * The lexicon generator is built from this same file, so a lexicon word
 * and a word of a message are folded and split alike.
 */
#include <string.h>

#include "scan_internal.h"

size_t scan_utf8_decode(const unsigned char *s, size_t len, size_t pos, uint32_t *cp)
{
    unsigned c = s[pos];
    size_t k;
    uint32_t v;

    *cp = 0xFFFFFFFFu;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        k = 1;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        k = 2;
        v = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 3;
        v = c & 0x07;
    } else {
        return 1;
    }
    if (len - pos <= k)
        return 1;
    for (size_t j = 1; j <= k; j++) {
        if ((s[pos + j] & 0xc0) != 0x80)
            return 1;
        v = (v << 6) | (s[pos + j] & 0x3f);
    }
    if ((k == 2 && v < 0x800) || (k == 3 && (v < 0x10000 || v > 0x10ffff)) ||
        (v >= 0xd800 && v <= 0xdfff))
        return 1;
    *cp = v;
    return k + 1;
}

/* U+00C0..U+00FF folded; "" marks a non-letter. */
static const char *const latin1_fold[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y",
};

/* U+0100..U+017F (Latin Extended-A: Māori, Polish, Czech, Turkish ...) folded. */
static const char latin_ext_a_fold[128 + 1] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkklllllll"
    "lllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

static char fold_ascii(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'' || c == '-')
        return (char)c;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
        return ' ';
    if (c == '`')
        return '\'';
    if (c == '.' || c == '!' || c == '?' || c == ';')
        return '.';
    return SCAN_FOLD_OTHER;
}

size_t scan_fold_at(const unsigned char *s, size_t len, size_t pos, char out[2], size_t *nout)
{
    uint32_t cp;
    size_t k = scan_utf8_decode(s, len, pos, &cp);
    const char *f = NULL;
    char one[2] = {0, 0};

    *nout = 1;
    if (cp < 0x80) {
        out[0] = fold_ascii((unsigned char)cp);
        return k;
    }
    if (cp == 0xFFFFFFFFu) {
        out[0] = SCAN_FOLD_OTHER;
        return k;
    }
    if (cp >= 0xc0 && cp <= 0xff) {
        f = latin1_fold[cp - 0xc0];
    } else if (cp == 0x152 || cp == 0x153) {
        f = "oe";
    } else if (cp == 0x132 || cp == 0x133) {
        f = "ij";
    } else if (cp >= 0x100 && cp <= 0x17f) {
        one[0] = latin_ext_a_fold[cp - 0x100];
        f = one;
    } else if (cp == 0x218 || cp == 0x219) {
        f = "s";
    } else if (cp == 0x21a || cp == 0x21b) {
        f = "t";
    } else if (cp >= 0x300 && cp <= 0x36f) {
        *nout = 0;
        return k;
    } else if (cp == 0x2019 || cp == 0x2018 || cp == 0x2bc || cp == 0xb4) {
        f = "'";
    } else if (cp == 0xa0 || cp == 0x202f || cp == 0x2009 || cp == 0x2007) {
        f = " ";
    } else if (cp == 0x2010 || cp == 0x2011 || cp == 0x2013 || cp == 0x2014) {
        f = "-";
    } else if (cp == 0x2026 || cp == 0x2028 || cp == 0x2029) {
        f = ".";
    }
    if (f == NULL) {
        /* Other letters (Greek, Cyrillic, ...) still make words, matching nothing. */
        out[0] = (cp >= 0x100 && cp < 0x2000) ? SCAN_FOLD_LETTER : SCAN_FOLD_OTHER;
        return k;
    }
    if (f[0] == '\0') {
        out[0] = SCAN_FOLD_OTHER;
        return k;
    }
    out[0] = f[0];
    if (f[1] != '\0') {
        out[1] = f[1];
        *nout = 2;
    }
    return k;
}

static bool fold_is_word(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == SCAN_FOLD_LETTER;
}

/* Separators that join the words of a phrase: "burn-out", "d'origine", "A&E", "40 %". */
static bool soft_separator(int c, unsigned char raw)
{
    return c == ' ' || c == '-' || c == '\'' || raw == '/' || raw == '&' || raw == '%' ||
           raw == '+';
}

/* A '.' ends a sentence unless a word follows at once ("2.5", "e.g", "example.com"). */
static bool sentence_mark(const unsigned char *s, size_t len, size_t pos, size_t k, int c)
{
    char next[2];
    size_t n = 0;

    if (c == '.' && s[pos] == '.' && pos + k < len) {
        scan_fold_at(s, len, pos + k, next, &n);
        if (n > 0 && fold_is_word((unsigned char)next[0]))
            return false;
    }
    return c == '.' || s[pos] == '\n' || s[pos] == '\r';
}

bool scan_next_token(const unsigned char *s, size_t len, size_t *pos, struct scan_token *t,
                     bool *sentence)
{
    size_t p = *pos, n = 0;
    bool all_digits = true;

    *sentence = false;
    t->brk = false;
    /* Skip to the start of a word or a standing symbol. */
    while (p < len) {
        char f[2];
        size_t nf, k = scan_fold_at(s, len, p, f, &nf);
        int c = nf ? (unsigned char)f[0] : 0;

        if (nf > 0 && fold_is_word(c))
            break;
        if (s[p] == '%' || s[p] == '&' || s[p] == '+') {
            t->kind = SCAN_TOKEN_SYMBOL;
            t->start = p;
            t->end = p + 1;
            t->fold[0] = (char)s[p];
            t->fold[1] = '\0';
            t->digits = false;
            t->too_long = false;
            *pos = p + 1;
            return true;
        }
        if (nf > 0 && sentence_mark(s, len, p, k, c))
            *sentence = true;
        else if (nf > 0 && !soft_separator(c, s[p]))
            t->brk = true;
        p += k;
    }
    if (p >= len) {
        *pos = p;
        return false;
    }
    t->kind = SCAN_TOKEN_WORD;
    t->start = p;
    t->too_long = false;
    while (p < len) {
        char f[2];
        size_t nf, k = scan_fold_at(s, len, p, f, &nf);

        if (nf > 0 && !fold_is_word((unsigned char)f[0]))
            break;
        for (size_t i = 0; i < nf; i++) {
            if (f[i] < '0' || f[i] > '9')
                all_digits = false;
            if (n + 1 < SCAN_KEY_MAX)
                t->fold[n++] = f[i];
            else
                t->too_long = true;
        }
        p += k;
    }
    t->fold[n] = '\0';
    t->end = p;
    t->digits = all_digits;
    *pos = p;
    return true;
}

bool scan_fold_word(const unsigned char *s, size_t len, size_t start, size_t end, char *out,
                    size_t cap)
{
    size_t n = 0;

    for (size_t p = start; p < end && p < len;) {
        char f[2];
        size_t nf, k = scan_fold_at(s, len, p, f, &nf);

        for (size_t i = 0; i < nf; i++) {
            if (n + 1 >= cap)
                return false;
            out[n++] = f[i];
        }
        p += k;
    }
    if (cap == 0)
        return false;
    out[n] = '\0';
    return true;
}

bool scan_sorted_has(const char *const *sorted, size_t n, const char *key, size_t prefix)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = prefix > 0 ? strncmp(sorted[mid], key, prefix) : strcmp(sorted[mid], key);

        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}
