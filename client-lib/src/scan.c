/*
 * The sensitive-data guard. Before a text is sent, the host scans it here,
 * on the device, for identifiers (checked by their checksum or a strict
 * shape, so that order numbers, dates and prices do not fire) and for the
 * special categories of GDPR art. 9 (by curated French and English
 * phrase lexicons, folded for case and accents, with idioms vetoed and
 * ambiguous words accepted only after a personal cue). The host's policy
 * then allows, warns, blocks or redacts. No I/O and no allocation in the
 * scan itself: the text never leaves the caller's memory.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "parley/scan.h"

/* ------------------------------------------------------------------ */
/* Findings, kept sorted by start then category, first cap only.       */

struct sink {
    parley_scan_finding *out;
    size_t cap;
    size_t used;
    size_t total;
};

static bool finding_before(const parley_scan_finding *f, size_t start, parley_scan_category c)
{
    return f->start < start || (f->start == start && f->category <= c);
}

static void sink_add(struct sink *s, parley_scan_category c, size_t start, size_t end,
                     unsigned confidence)
{
    size_t i = s->used;
    size_t keep;

    s->total++;
    while (i > 0 && !finding_before(&s->out[i - 1], start, c))
        i--;
    if (i >= s->cap)
        return;
    keep = s->used < s->cap ? s->used : s->cap - 1;
    memmove(&s->out[i + 1], &s->out[i], (keep - i) * sizeof(*s->out));
    s->out[i].category = c;
    s->out[i].start = start;
    s->out[i].end = end;
    s->out[i].confidence = confidence;
    if (s->used < s->cap)
        s->used++;
}

/* Widens the finding of category c that starts at start, if it was kept. */
static void sink_widen(struct sink *s, parley_scan_category c, size_t start, size_t end,
                       unsigned confidence)
{
    for (size_t i = 0; i < s->used; i++) {
        parley_scan_finding *f = &s->out[i];

        if (f->category == c && f->start == start) {
            if (end > f->end)
                f->end = end;
            if (confidence > f->confidence)
                f->confidence = confidence;
            return;
        }
    }
}

/* True when [start, end) overlaps an identifier already kept. */
static bool sink_covers_identifier(const struct sink *s, size_t start, size_t end)
{
    for (size_t i = 0; i < s->used; i++) {
        const parley_scan_finding *f = &s->out[i];

        if (f->category >= PARLEY_SCAN_CARD && f->start < end && start < f->end)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Bytes and characters.                                               */

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(unsigned char c)
{
    return is_digit(c) || is_alpha(c);
}

static unsigned char to_upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}

/*
 * Decodes one UTF-8 character at s[pos]; returns its length in bytes and
 * the code point in *cp, or length 1 and *cp = 0xFFFFFFFF when the bytes
 * are not valid UTF-8 (overlong, surrogate, truncated).
 */
static size_t utf8_decode(const unsigned char *s, size_t len, size_t pos, uint32_t *cp)
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

/*
 * Folded forms: lowercase ASCII letters and digits, ' ' for any space,
 * '\'' for apostrophes, '-' for dashes, LETTER for a letter without an
 * ASCII folding, OTHER for anything else (punctuation, invalid bytes).
 */
#define FOLD_LETTER '\x01'
#define FOLD_OTHER '\x02'

/* U+00C0..U+00FF folded; "" marks a non-letter. */
static const char *const latin1_fold[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y",
};

/*
 * Folds the character at s[pos] into out (0 to 2 chars, *nout); returns
 * its length in bytes. Combining accents fold to nothing, so decomposed
 * "e\u0301" matches like "é".
 */
static size_t fold_at(const unsigned char *s, size_t len, size_t pos, char out[2], size_t *nout)
{
    uint32_t cp;
    size_t k = utf8_decode(s, len, pos, &cp);
    const char *f = NULL;

    *nout = 1;
    if (cp < 0x80) {
        unsigned char c = (unsigned char)cp;

        if (c >= 'A' && c <= 'Z')
            out[0] = (char)(c - 'A' + 'a');
        else if (is_alnum(c) || c == '\'' || c == '-')
            out[0] = (char)c;
        else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
            out[0] = ' ';
        else if (c == '`')
            out[0] = '\'';
        else
            out[0] = (c == '.' || c == '!' || c == '?' || c == ';') ? '.' : FOLD_OTHER;
        return k;
    }
    if (cp == 0xFFFFFFFFu) {
        out[0] = FOLD_OTHER;
        return k;
    }
    if (cp >= 0xc0 && cp <= 0xff)
        f = latin1_fold[cp - 0xc0];
    else if (cp == 0x152 || cp == 0x153)
        f = "oe";
    else if (cp == 0x178)
        f = "y";
    else if (cp >= 0x300 && cp <= 0x36f) {
        *nout = 0;
        return k;
    } else if (cp == 0x2019 || cp == 0x2018 || cp == 0x2bc || cp == 0xb4)
        f = "'";
    else if (cp == 0xa0 || cp == 0x202f || cp == 0x2009 || cp == 0x2007)
        f = " ";
    else if (cp == 0x2010 || cp == 0x2011 || cp == 0x2013 || cp == 0x2014)
        f = "-";
    else if (cp == 0x2026)
        f = ".";
    if (f == NULL) {
        /* Other letters (Latin Extended, Greek, ...) still join words. */
        out[0] = (cp >= 0x100 && cp < 0x2000) ? FOLD_LETTER : FOLD_OTHER;
        return k;
    }
    if (f[0] == '\0') {
        out[0] = FOLD_OTHER;
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
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == FOLD_LETTER;
}

/* Reads a text as a stream of folded characters. */
struct fold {
    const unsigned char *s;
    size_t len;
    size_t pos; /* byte offset after the characters read so far */
    char buf[2];
    size_t nbuf;
    size_t ibuf;
};

static void fold_init(struct fold *f, const unsigned char *s, size_t len, size_t pos)
{
    f->s = s;
    f->len = len;
    f->pos = pos;
    f->nbuf = 0;
    f->ibuf = 0;
}

/* Next folded character, or -1 at the end of the text. */
static int fold_next(struct fold *f)
{
    while (f->ibuf >= f->nbuf) {
        if (f->pos >= f->len)
            return -1;
        f->pos += fold_at(f->s, f->len, f->pos, f->buf, &f->nbuf);
        f->ibuf = 0;
    }
    return (unsigned char)f->buf[f->ibuf++];
}

static int fold_peek(const struct fold *f)
{
    struct fold g = *f;

    return fold_next(&g);
}

/* The folded character ending at byte pos (the last one if it folds to two). */
static int fold_before(const unsigned char *s, size_t len, size_t pos)
{
    for (size_t k = 1; k <= 4 && k <= pos; k++) {
        uint32_t cp;
        char out[2];
        size_t n;

        if (k < 4 && (s[pos - k] & 0xc0) == 0x80)
            continue;
        if (utf8_decode(s, len, pos - k, &cp) != k)
            return FOLD_OTHER;
        fold_at(s, len, pos - k, out, &n);
        if (n == 0) /* a combining mark: look at the base character */
            return fold_before(s, len, pos - k);
        return (unsigned char)out[n - 1];
    }
    return pos == 0 ? ' ' : FOLD_OTHER;
}

/* A word starts at pos: a word character not preceded by one. */
static bool word_start(const unsigned char *s, size_t len, size_t pos)
{
    char out[2];
    size_t n;

    if ((s[pos] & 0xc0) == 0x80)
        return false;
    fold_at(s, len, pos, out, &n);
    if (n == 0 || !fold_is_word((unsigned char)out[0]))
        return false;
    return pos == 0 || !fold_is_word(fold_before(s, len, pos));
}

/*
 * Matches a lexicon pattern at a word start. Patterns are folded text:
 * ' ' matches one or more spaces or dashes, '-' matches an optional dash
 * or spaces ("burn-out", "burnout", "burn out"), '\'' an apostrophe or
 * spaces, a final '*' any further letters. The match must end at a word
 * boundary. On success *end is the byte offset after the match.
 */
static bool pattern_match(const unsigned char *s, size_t len, size_t pos, const char *pat,
                          size_t *end)
{
    struct fold f;
    int c;

    fold_init(&f, s, len, pos);
    for (const char *p = pat; *p != '\0'; p++) {
        switch (*p) {
        case '*':
            while (fold_is_word(fold_peek(&f)))
                fold_next(&f);
            break;
        case ' ':
            c = fold_peek(&f);
            if (c != ' ' && c != '-')
                return false;
            while ((c = fold_peek(&f)) == ' ' || c == '-')
                fold_next(&f);
            break;
        case '-':
            while ((c = fold_peek(&f)) == ' ' || c == '-')
                fold_next(&f);
            break;
        case '\'':
            c = fold_peek(&f);
            if (c == '\'')
                fold_next(&f);
            else if (c == ' ')
                while (fold_peek(&f) == ' ')
                    fold_next(&f);
            else
                return false;
            break;
        default:
            if (fold_next(&f) != (unsigned char)*p)
                return false;
            break;
        }
    }
    if (f.ibuf < f.nbuf || fold_is_word(fold_peek(&f)))
        return false;
    *end = f.pos;
    return true;
}

/* ------------------------------------------------------------------ */
/* Identifiers.                                                        */

/* One separator inside a number: space, dash, dot, or a Unicode space. */
static size_t number_separator(const unsigned char *s, size_t len, size_t pos)
{
    uint32_t cp;
    size_t k;

    if (pos >= len)
        return 0;
    if (s[pos] == ' ' || s[pos] == '-' || s[pos] == '.')
        return 1;
    k = utf8_decode(s, len, pos, &cp);
    if (cp == 0xa0 || cp == 0x202f || cp == 0x2009 || cp == 0x2007 || cp == 0x2011)
        return k;
    return 0;
}

/* A number may start at pos: nothing alphanumeric or numeric glued before it. */
static bool number_boundary(const unsigned char *s, size_t pos)
{
    unsigned char p;

    if (pos == 0)
        return true;
    p = s[pos - 1];
    if (is_alnum(p) || p >= 0x80 || p == '_' || p == '+' || p == '@' || p == '#' || p == '/')
        return false;
    if ((p == '.' || p == ',' || p == '-' || p == ':') && pos >= 2 && is_digit(s[pos - 2]))
        return false;
    return true;
}

/* Nothing alphanumeric glued after end, and not a decimal or date part. */
static bool number_end(const unsigned char *s, size_t len, size_t end)
{
    if (end >= len)
        return true;
    if (is_alnum(s[end]) || s[end] >= 0x80 || s[end] == '_' || s[end] == '@')
        return false;
    if ((s[end] == ',' || s[end] == '.' || s[end] == '/' || s[end] == ':') && end + 1 < len &&
        is_digit(s[end + 1]))
        return false;
    return true;
}

#define RUN_MAX_GROUPS 12u
#define RUN_MAX_DIGITS 24u

/* Digit groups separated by single separators, as people write numbers. */
struct run {
    size_t ngroups;
    size_t gstart[RUN_MAX_GROUPS];
    size_t gend[RUN_MAX_GROUPS];
    unsigned char sep[RUN_MAX_GROUPS]; /* separator byte before group i (0 for the first) */
};

static void read_run(const unsigned char *s, size_t len, size_t pos, struct run *r)
{
    r->ngroups = 0;
    while (pos < len && is_digit(s[pos]) && r->ngroups < RUN_MAX_GROUPS) {
        size_t g = r->ngroups++;
        size_t k;

        r->gstart[g] = pos;
        while (pos < len && is_digit(s[pos]))
            pos++;
        r->gend[g] = pos;
        k = number_separator(s, len, pos);
        if (k == 0 || pos + k >= len || !is_digit(s[pos + k]))
            break;
        if (g + 1 < RUN_MAX_GROUPS)
            r->sep[g + 1] = s[pos];
        pos += k;
    }
    if (r->ngroups > 0)
        r->sep[0] = 0;
}

/* Copies the digits of groups [0, last] into d; returns their count (0 if too many). */
static size_t run_digits(const unsigned char *s, const struct run *r, size_t last,
                         char d[RUN_MAX_DIGITS])
{
    size_t n = 0;

    for (size_t g = 0; g <= last; g++)
        for (size_t i = r->gstart[g]; i < r->gend[g]; i++) {
            if (n >= RUN_MAX_DIGITS)
                return 0;
            d[n++] = (char)s[i];
        }
    return n;
}

static bool luhn_valid(const char *d, size_t n)
{
    unsigned sum = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned)(d[n - 1 - i] - '0');

        if (i % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return n > 0 && sum % 10 == 0;
}

static unsigned prefix_value(const char *d, size_t k)
{
    unsigned v = 0;

    for (size_t i = 0; i < k; i++)
        v = v * 10 + (unsigned)(d[i] - '0');
    return v;
}

/* Issuer ranges of the networks seen in Europe, with their lengths. */
static bool card_issuer_known(const char *d, size_t n)
{
    unsigned p2 = prefix_value(d, 2), p3 = prefix_value(d, 3), p4 = prefix_value(d, 4);

    if (d[0] == '4')
        return n == 16 || n == 19; /* Visa, CB co-badged */
    if (p2 >= 51 && p2 <= 55)
        return n == 16; /* Mastercard */
    if (p4 >= 2221 && p4 <= 2720)
        return n == 16; /* Mastercard 2-series */
    if (p2 == 34 || p2 == 37)
        return n == 15; /* American Express */
    if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39)
        return n >= 14 && n <= 19; /* Diners Club */
    if (p4 >= 3528 && p4 <= 3589)
        return n >= 16 && n <= 19; /* JCB */
    if (p2 == 50 || (p2 >= 56 && p2 <= 69))
        return n >= 13 && n <= 19; /* Maestro, Discover, UnionPay */
    return false;
}

/*
 * A card number at the start of a run: the longest prefix of its groups
 * with 13 to 19 digits, one kind of separator, a known issuer range and
 * a valid Luhn digit.
 */
static bool find_card(const unsigned char *s, size_t len, const struct run *r, size_t *end)
{
    for (size_t last = r->ngroups; last-- > 0;) {
        char d[RUN_MAX_DIGITS];
        size_t n = run_digits(s, r, last, d);
        bool same_sep = true;

        for (size_t g = 2; g <= last; g++)
            if (r->sep[g] != r->sep[1])
                same_sep = false;
        if (n < 13 || n > 19 || !same_sep)
            continue;
        if (!number_end(s, len, r->gend[last]))
            continue;
        if (card_issuer_known(d, n) && luhn_valid(d, n)) {
            *end = r->gend[last];
            return true;
        }
    }
    return false;
}

/*
 * French NIR: sex, year, month, department (2A/2B for Corsica), commune,
 * order, then a key equal to 97 - (number mod 97), the Corsican
 * departments counting as 19 and 18. Written with or without single
 * separators between the digits.
 */
static bool find_nir(const unsigned char *s, size_t len, size_t pos, size_t *end)
{
    char sym[15];
    size_t n = 0;
    uint64_t num = 0;
    unsigned month, key;

    if (s[pos] != '1' && s[pos] != '2' && s[pos] != '7' && s[pos] != '8')
        return false;
    while (n < 15 && pos < len) {
        unsigned char c = s[pos];

        if (is_digit(c) || (n == 6 && (c == 'A' || c == 'B' || c == 'a' || c == 'b'))) {
            sym[n++] = (char)to_upper(c);
            pos++;
            continue;
        }
        if (n == 0 || n == 15)
            break;
        {
            size_t k = number_separator(s, len, pos);

            if (k == 0 || pos + k >= len || !is_alnum(s[pos + k]))
                return false;
            pos += k;
        }
    }
    if (n != 15 || !number_end(s, len, pos))
        return false;
    if (sym[6] == 'A' || sym[6] == 'B') {
        if (sym[5] != '2')
            return false;
    }
    month = (unsigned)((sym[3] - '0') * 10 + (sym[4] - '0'));
    if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50))
        return false;
    for (size_t i = 0; i < 13; i++) {
        unsigned v;

        if (i == 5 && (sym[6] == 'A' || sym[6] == 'B')) {
            num = num * 100 + (sym[6] == 'A' ? 19u : 18u);
            i++;
            continue;
        }
        if (!is_digit((unsigned char)sym[i]))
            return false;
        v = (unsigned)(sym[i] - '0');
        num = num * 10 + v;
    }
    if (!is_digit((unsigned char)sym[13]) || !is_digit((unsigned char)sym[14]))
        return false;
    key = (unsigned)((sym[13] - '0') * 10 + (sym[14] - '0'));
    if (key != 97 - (unsigned)(num % 97))
        return false;
    *end = pos;
    return true;
}

/* IBAN lengths of the countries customers of European brands mostly have. */
static const struct {
    char cc[3];
    unsigned char len;
} iban_lengths[] = {
    {"AD", 24}, {"AT", 20}, {"BE", 16}, {"BG", 22}, {"CH", 21}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DK", 18}, {"EE", 20}, {"ES", 24}, {"FI", 18}, {"FR", 27}, {"GB", 22},
    {"GR", 27}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IS", 26}, {"IT", 27}, {"LI", 21},
    {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MT", 31}, {"NL", 18}, {"NO", 15},
    {"PL", 28}, {"PT", 25}, {"RO", 24}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27},
    {"MA", 28}, {"TN", 24}, {"TR", 26},
};

static size_t iban_length(unsigned char a, unsigned char b)
{
    for (size_t i = 0; i < sizeof(iban_lengths) / sizeof(iban_lengths[0]); i++)
        if (iban_lengths[i].cc[0] == a && iban_lengths[i].cc[1] == b)
            return iban_lengths[i].len;
    return 0;
}

/* ISO 13616: the country and check digits moved to the end, letters as 10..35, mod 97 == 1. */
static bool iban_checksum_ok(const char *c, size_t n)
{
    unsigned rem = 0;

    for (size_t k = 0; k < n; k++) {
        unsigned char x = (unsigned char)c[(k + 4) % n];

        if (is_digit(x))
            rem = (rem * 10 + (unsigned)(x - '0')) % 97;
        else if (x >= 'A' && x <= 'Z')
            rem = (rem * 100 + (unsigned)(x - 'A' + 10)) % 97;
        else
            return false;
    }
    return rem == 1;
}

static bool find_iban(const unsigned char *s, size_t len, size_t pos, size_t *end)
{
    char c[34];
    size_t want, n = 0;

    if (len - pos < 15 || !is_alpha(s[pos]) || !is_alpha(s[pos + 1]) || !is_digit(s[pos + 2]) ||
        !is_digit(s[pos + 3]))
        return false;
    want = iban_length(to_upper(s[pos]), to_upper(s[pos + 1]));
    if (want == 0)
        return false;
    while (n < want && pos < len) {
        if (is_alnum(s[pos])) {
            c[n++] = (char)to_upper(s[pos++]);
            continue;
        }
        if (n == 1 || n == 3)
            return false; /* the country code and check digits stay whole */
        if ((s[pos] == ' ' || s[pos] == '-') && pos + 1 < len && is_alnum(s[pos + 1]))
            pos++;
        else
            return false;
    }
    if (n != want || (pos < len && (is_alnum(s[pos]) || s[pos] >= 0x80)))
        return false;
    for (size_t k = 4; k < n; k++)
        if (!is_alnum((unsigned char)c[k]))
            return false;
    if (!iban_checksum_ok(c, n))
        return false;
    *end = pos;
    return true;
}

/* Characters of an e-mail local part (dot-atom, plus UTF-8 letters). */
static bool email_local_char(unsigned char c)
{
    return is_alnum(c) || c >= 0x80 || c == '.' || c == '_' || c == '%' || c == '+' ||
           c == '-' || c == '=' || c == '~';
}

static bool email_domain_char(unsigned char c)
{
    return is_alnum(c) || c >= 0x80 || c == '-';
}

/*
 * An address starting at pos: a dot-atom local part (no leading,
 * trailing or doubled dot), '@', then two or more labels of letters,
 * digits and inner dashes, the last one alphabetic and 2 or more long.
 * A final dot is the sentence's, not the address's.
 */
static bool find_email(const unsigned char *s, size_t len, size_t pos, size_t *end)
{
    size_t at = pos, p, labels = 0, last_label = 0, label_start;

    while (at < len && email_local_char(s[at]))
        at++;
    if (at == pos || at >= len || s[at] != '@' || at - pos > 64)
        return false;
    if (s[pos] == '.' || s[at - 1] == '.')
        return false;
    for (size_t i = pos; i + 1 < at; i++)
        if (s[i] == '.' && s[i + 1] == '.')
            return false;
    p = at + 1;
    for (;;) {
        label_start = p;
        while (p < len && email_domain_char(s[p]))
            p++;
        if (p == label_start || p - label_start > 63 || s[label_start] == '-' || s[p - 1] == '-')
            break;
        labels++;
        last_label = label_start;
        if (p + 1 < len && s[p] == '.' && email_domain_char(s[p + 1]))
            p++;
        else
            break;
    }
    if (labels < 2 || p == label_start)
        return false;
    if (p - last_label < 2)
        return false;
    if (!(p - last_label > 4 && s[last_label] == 'x' && s[last_label + 1] == 'n' &&
          s[last_label + 2] == '-' && s[last_label + 3] == '-'))
        for (size_t i = last_label; i < p; i++)
            if (!is_alpha(s[i]) && s[i] < 0x80)
                return false;
    if (p < len && (s[p] == '@' || s[p] == '_'))
        return false;
    *end = p;
    return true;
}

/* Words that make a following number an order, invoice or parcel number. */
static const char *const phone_vetoes[] = {
    "order", "orders", "commande", "cmd", "ref", "reference", "invoice", "facture",
    "tracking", "suivi", "colis", "parcel", "ticket", "dossier", "n", "no", "nr", "num",
    "transaction", "contrat", "contract", "serial", "serie", "imei", "siret", "siren",
    "rma", "bon", "case", "booking", "reservation", "account", "compte", "client",
    "customer", "membre", "member", "iban", "rib", "bic", "code", "article", "item", "sku",
};

/* True if the word just before pos (same sentence) is one of phone_vetoes. */
static bool number_after_reference_word(const unsigned char *s, size_t len, size_t pos)
{
    size_t p = pos, wend, wstart;

    while (p > 0 && (s[p - 1] == ' ' || s[p - 1] == ':' || s[p - 1] == '#' || s[p - 1] == '.' ||
                     s[p - 1] == '(' || s[p - 1] == '\t'))
        p--;
    /* "n°" and "nº": skip the degree or ordinal sign. */
    if (p >= 2 && s[p - 2] == 0xc2 && (s[p - 1] == 0xb0 || s[p - 1] == 0xba))
        p -= 2;
    wend = p;
    while (p > 0 && (is_alnum(s[p - 1]) || s[p - 1] >= 0x80))
        p--;
    wstart = p;
    if (wstart == wend)
        return pos > 0 && wend < pos && s[wend] == '#';
    for (size_t i = 0; i < sizeof(phone_vetoes) / sizeof(phone_vetoes[0]); i++) {
        size_t e;

        if (pattern_match(s, len, wstart, phone_vetoes[i], &e) && e == wend)
            return true;
    }
    return false;
}

/*
 * A phone number at pos. French: 0X then 8 digits (written whole or in
 * groups), +33 or 0033 then 9 digits, with an optional "(0)". UK: 11
 * digits from 01, 02, 03, 07 or 08 in at most three groups. North
 * America: 3-3-4. Other countries: +CC then 8 to 15 digits in all.
 */
static bool find_phone(const unsigned char *s, size_t len, size_t pos, size_t *end)
{
    char d[RUN_MAX_DIGITS];
    size_t n = 0, p = pos, last_digit_end = pos, groups = 0, gsize[16];
    size_t seps_in_row = 0;
    bool plus = false, paren_first = false;

    /* A phone number does not continue a run of digit groups (IBAN, references). */
    if (pos >= 2 && number_separator(s, len, pos - 1) == 1 && is_digit(s[pos - 2]))
        return false;
    if (s[p] == '+') {
        plus = true;
        p++;
        if (p >= len || !is_digit(s[p]))
            return false;
    } else if (s[p] == '(') {
        paren_first = true;
        p++;
        if (p >= len || !is_digit(s[p]))
            return false;
    }
    while (p < len) {
        if (is_digit(s[p])) {
            if (n >= RUN_MAX_DIGITS)
                return false;
            if (seps_in_row > 0 || groups == 0) {
                if (groups >= 16)
                    return false;
                gsize[groups++] = 0;
            }
            d[n++] = (char)s[p++];
            gsize[groups - 1]++;
            last_digit_end = p;
            seps_in_row = 0;
            continue;
        }
        if (plus && groups == 1 && n <= 3 && len - p >= 4 &&
            memcmp(s + p + (s[p] == ' ' ? 1 : 0), "(0)", 3) == 0) {
            p += (s[p] == ' ' ? 1 : 0) + 3; /* "+33 (0)6 ...": the trunk 0 is not dialled */
            seps_in_row = 1;
            continue;
        }
        {
            size_t k = number_separator(s, len, p);

            if (k == 0 && (s[p] == '(' || s[p] == ')'))
                k = 1;
            if (k == 0 || seps_in_row >= 2)
                break;
            p += k;
            seps_in_row++;
        }
    }
    if (n < 8 || !number_end(s, len, last_digit_end))
        return false;
    if (plus) {
        bool fr = n >= 2 && d[0] == '3' && d[1] == '3';

        /* "+33 06 ..." is a common slip for "+33 6 ..." */
        if (fr && !(n == 11 && d[2] != '0') && !(n == 12 && d[2] == '0' && d[3] != '0'))
            return false;
        if (!fr && (n < 8 || n > 15 || (groups > 1 && gsize[0] > 3)))
            return false;
    } else if (d[0] == '0' && d[1] == '0') {
        if (groups < 2 || gsize[0] < 3 || gsize[0] > 5)
            return false;
        if (d[2] == '3' && d[3] == '3') {
            if (n != 13 || d[4] == '0')
                return false;
        } else if (n < 10 || n > 17) {
            return false;
        }
    } else if (d[0] == '0' && n == 10 && d[1] != '0') {
        if (groups == 1) {
            if (paren_first)
                return false;
        } else {
            /* "06 12 34 56 78", "0612 34 56 78": pairs, not "05 78 006 084" */
            for (size_t g = 0; g < groups; g++)
                if (gsize[g] % 2 != 0)
                    return false;
        }
    } else if (d[0] == '0' && n == 11 &&
               (d[1] == '1' || d[1] == '2' || d[1] == '3' || d[1] == '7' || d[1] == '8')) {
        if (groups > 3 || paren_first)
            return false;
    } else if (n == 10 && d[0] >= '2' && d[0] <= '9' && groups == 3 && gsize[0] == 3 &&
               gsize[1] == 3 && gsize[2] == 4) {
        if (!paren_first && s[pos + 3] != '-' && s[pos + 3] != '.')
            return false;
    } else if (n == 11 && d[0] == '1' && groups == 4 && gsize[0] == 1 && gsize[1] == 3 &&
               gsize[2] == 3 && gsize[3] == 4) {
        /* 1-800-555-0199 */
    } else {
        return false;
    }
    if (number_after_reference_word(s, len, pos))
        return false;
    *end = last_digit_end;
    return true;
}

/* One left-to-right pass; each span is taken by the first detector that fits. */
static void scan_identifiers(const unsigned char *s, size_t len, struct sink *k)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t end;

        if (email_local_char(c) && c != '.' && (i == 0 || !email_local_char(s[i - 1])) &&
            find_email(s, len, i, &end)) {
            sink_add(k, PARLEY_SCAN_EMAIL, i, end, 97);
            i = end;
            continue;
        }
        if (is_alpha(c) && (i == 0 || (!is_alnum(s[i - 1]) && s[i - 1] < 0x80))) {
            if (find_iban(s, len, i, &end)) {
                sink_add(k, PARLEY_SCAN_IBAN, i, end, 99);
                i = end;
                continue;
            }
            while (i < len && (is_alnum(s[i]) || s[i] >= 0x80))
                i++;
            continue;
        }
        if ((is_digit(c) || ((c == '+' || c == '(') && i + 1 < len && is_digit(s[i + 1]))) &&
            number_boundary(s, i)) {
            struct run r;

            if (is_digit(c)) {
                read_run(s, len, i, &r);
                if (find_card(s, len, &r, &end)) {
                    sink_add(k, PARLEY_SCAN_CARD, i, end, 98);
                    i = end;
                    continue;
                }
                if (find_nir(s, len, i, &end)) {
                    sink_add(k, PARLEY_SCAN_NIR, i, end, 98);
                    i = end;
                    continue;
                }
            }
            if (find_phone(s, len, i, &end)) {
                sink_add(k, PARLEY_SCAN_PHONE, i, end, 90);
                i = end;
                continue;
            }
        }
        if (is_digit(c)) {
            while (i < len && is_digit(s[i]))
                i++;
            continue;
        }
        if (c >= 0x80) {
            uint32_t cp;

            i += utf8_decode(s, len, i, &cp);
            continue;
        }
        i++;
    }
}

/* ------------------------------------------------------------------ */
/* Special categories.                                                 */

enum {
    T_CUE = 1,            /* needs a personal cue earlier in the sentence */
    T_PARTNER_OF_MAN = 2, /* fires only if the text says the writer is a man */
    T_PARTNER_OF_WOMAN = 4,
};

struct term {
    const char *pat;
    unsigned char category;
    unsigned char confidence;
    unsigned char flags;
};

#define H PARLEY_SCAN_HEALTH
#define R PARLEY_SCAN_RELIGION
#define P PARLEY_SCAN_POLITICS
#define U PARLEY_SCAN_UNION
#define E PARLEY_SCAN_ETHNICITY
#define S PARLEY_SCAN_SEXUAL_ORIENTATION
#define B PARLEY_SCAN_BIOMETRIC

/*
 * The lexicon. Unambiguous words and phrases stand alone; words with an
 * everyday sense ("sick", "church", "union", "gay") need a cue such as
 * "I", "my", "je", "mon" before them in the same sentence, and the idioms
 * in vetoes below cancel any term they overlap.
 */
static const struct term terms[] = {
    /* health */
    {"diabet*", H, 90, 0}, {"cancer", H, 85, 0}, {"cancers", H, 85, 0},
    {"chemo*", H, 90, 0}, {"chimio*", H, 90, 0}, {"radiotherap*", H, 90, 0},
    {"pregnan*", H, 90, 0}, {"suis enceinte", H, 90, 0}, {"etais enceinte", H, 90, 0},
    {"est enceinte", H, 85, 0}, {"etant enceinte", H, 90, 0}, {"tombee enceinte", H, 90, 0},
    {"femme enceinte", H, 85, 0}, {"grossesse*", H, 90, 0}, {"accouch*", H, 85, 0},
    {"miscarriage*", H, 90, 0}, {"fausse couche", H, 90, 0}, {"maternity leave", H, 80, 0},
    {"conge maternite", H, 80, 0}, {"conge mat", H, 75, 0}, {"hospital", H, 80, 0}, {"hospitals", H, 80, 0},
    {"hopita*", H, 80, 0}, {"clinique", H, 70, T_CUE}, {"clinic", H, 70, T_CUE},
    {"aux urgences", H, 80, 0}, {"emergency room", H, 80, 0}, {"surgery", H, 80, 0},
    {"operated on", H, 85, 0}, {"chirurgi*", H, 85, 0}, {"me faire operer", H, 85, 0},
    {"fait operer", H, 85, 0}, {"ete opere*", H, 85, 0}, {"depressi*", H, 85, 0},
    {"anxiety", H, 70, T_CUE}, {"burn-out", H, 85, 0}, {"panic attack*", H, 90, 0},
    {"crise d'angoisse", H, 90, 0}, {"crises d'angoisse", H, 90, 0}, {"asthm*", H, 90, 0},
    {"epilep*", H, 90, 0}, {"hiv", H, 90, 0}, {"vih", H, 90, 0}, {"sida", H, 85, 0},
    {"hearing aid*", H, 85, 0}, {"appareil auditif", H, 85, 0},
    {"appareils auditifs", H, 85, 0}, {"wheelchair*", H, 85, 0}, {"fauteuil roulant", H, 85, 0},
    {"disabilit*", H, 85, 0}, {"am disabled", H, 85, 0}, {"disabled son", H, 85, 0},
    {"disabled daughter", H, 85, 0}, {"disabled mother", H, 85, 0},
    {"disabled father", H, 85, 0}, {"disabled person", H, 80, 0}, {"handicap*", H, 85, 0},
    {"autis*", H, 90, 0}, {"alzheimer*", H, 90, 0}, {"parkinson*", H, 90, 0},
    {"sclerose en plaques", H, 90, 0}, {"multiple sclerosis", H, 90, 0}, {"insulin*", H, 90, 0},
    {"dialys*", H, 90, 0}, {"on medication", H, 85, 0}, {"medication", H, 70, T_CUE},
    {"medicament*", H, 70, T_CUE}, {"traitement medical", H, 85, 0},
    {"medical treatment", H, 85, 0}, {"arret maladie", H, 90, 0}, {"sick leave", H, 90, 0},
    {"sick note", H, 85, 0}, {"arret de travail", H, 80, 0}, {"malade", H, 75, T_CUE},
    {"malades", H, 75, T_CUE}, {"sick", H, 70, T_CUE}, {"ill", H, 70, T_CUE},
    {"illness", H, 85, 0}, {"maladie*", H, 85, 0}, {"doctor", H, 65, T_CUE},
    {"doctors", H, 65, T_CUE}, {"docteur", H, 65, T_CUE}, {"medecin*", H, 65, T_CUE},
    {"ordonnance", H, 80, 0}, {"prescription*", H, 80, 0}, {"therapy", H, 70, T_CUE},
    {"therapie", H, 70, T_CUE}, {"therapist", H, 70, T_CUE}, {"psychiatr*", H, 85, 0},
    {"psychologue", H, 70, T_CUE}, {"psychologist", H, 70, T_CUE}, {"migraine*", H, 85, 0},
    {"allerg*", H, 85, 0}, {"coeliaque", H, 90, 0}, {"celiac", H, 90, 0},
    {"coeliac", H, 90, 0}, {"heart attack", H, 90, 0}, {"crise cardiaque", H, 90, 0},
    {"infarctus", H, 90, 0}, {"avc", H, 85, 0}, {"stroke", H, 70, T_CUE},
    {"covid*", H, 70, T_CUE}, {"blood test*", H, 85, 0}, {"prise de sang", H, 85, 0},
    {"analyse de sang", H, 85, 0}, {"analyses de sang", H, 85, 0}, {"blood type", H, 85, 0},
    {"groupe sanguin", H, 85, 0}, {"broke my leg", H, 85, 0}, {"broke my arm", H, 85, 0},
    {"broke my wrist", H, 85, 0}, {"broken leg", H, 85, 0}, {"broken arm", H, 85, 0},
    {"jambe cassee", H, 85, 0}, {"bras casse", H, 85, 0}, {"fracture*", H, 80, 0},
    {"ivf", H, 85, 0}, {"endometrio*", H, 90, 0}, {"blind", H, 65, T_CUE},
    {"aveugle", H, 70, T_CUE}, {"deaf", H, 70, T_CUE}, {"sourd", H, 70, T_CUE},
    {"sourde", H, 70, T_CUE}, {"mental health", H, 80, 0}, {"sante mentale", H, 80, 0},
    {"kine", H, 65, T_CUE}, {"kinesitherap*", H, 80, 0}, {"physiotherap*", H, 80, 0},
    {"tumeur", H, 90, 0}, {"tumour", H, 90, 0}, {"tumor", H, 90, 0}, {"flu", H, 65, T_CUE},
    {"grippe", H, 70, T_CUE}, {"gastro", H, 70, T_CUE}, {"fievre", H, 70, T_CUE},
    {"fever", H, 70, T_CUE}, {"hospitalis*", H, 85, 0}, {"hospitaliz*", H, 85, 0},

    /* religion */
    {"muslim*", R, 90, 0}, {"musulman*", R, 90, 0}, {"islam*", R, 85, 0},
    {"chretien*", R, 85, 0}, {"catholi*", R, 85, 0}, {"protestant*", R, 85, 0},
    {"evangeli*", R, 75, T_CUE}, {"jewish", R, 90, 0}, {"juif", R, 90, 0}, {"juive", R, 90, 0},
    {"juifs", R, 90, 0}, {"judaism", R, 90, 0}, {"judaisme", R, 90, 0}, {"hindu*", R, 85, 0},
    {"hindou*", R, 85, 0}, {"buddhis*", R, 85, 0}, {"bouddhis*", R, 85, 0}, {"sikh*", R, 85, 0},
    {"atheis*", R, 85, 0}, {"athee*", R, 85, 0}, {"agnosti*", R, 80, 0}, {"jehovah*", R, 85, 0},
    {"mormon*", R, 85, 0}, {"religious reasons", R, 85, 0}, {"raisons religieuses", R, 85, 0},
    {"motifs religieux", R, 85, 0}, {"convictions religieuses", R, 85, 0},
    {"religious beliefs", R, 85, 0}, {"my religion", R, 85, 0}, {"ma religion", R, 85, 0},
    {"my faith", R, 80, 0}, {"fais le ramadan", R, 85, 0}, {"faire le ramadan", R, 85, 0},
    {"ramadan", R, 70, T_CUE}, {"christian", R, 70, T_CUE}, {"christians", R, 70, T_CUE},
    {"mosque", R, 70, 0}, {"mosquee", R, 70, 0}, {"church", R, 65, T_CUE},
    {"eglise", R, 65, T_CUE}, {"synagogue", R, 75, T_CUE}, {"kosher", R, 70, T_CUE},
    {"casher", R, 70, T_CUE}, {"cacher", R, 60, T_CUE}, {"halal", R, 65, T_CUE},
    {"hijab", R, 75, T_CUE}, {"kippa", R, 75, T_CUE}, {"shabbat", R, 75, T_CUE},
    {"sabbath", R, 75, T_CUE}, {"croyant", R, 70, T_CUE}, {"croyante", R, 70, T_CUE},
    {"pratiquant", R, 70, T_CUE}, {"pratiquante", R, 70, T_CUE}, {"believer", R, 70, T_CUE},
    {"eid", R, 70, T_CUE}, {"l'aid", R, 70, T_CUE}, {"yom kippur", R, 75, T_CUE},
    {"yom kippour", R, 75, T_CUE}, {"careme", R, 70, T_CUE}, {"bar mitzvah", R, 85, 0},
    {"bat mitzvah", R, 85, 0}, {"bapteme", R, 70, T_CUE}, {"premiere communion", R, 75, 0},
    {"first communion", R, 75, 0}, {"quaker*", R, 80, 0},

    /* political opinions */
    {"rassemblement national", P, 90, 0}, {"front national", P, 90, 0},
    {"france insoumise", P, 90, 0}, {"parti socialiste", P, 90, 0},
    {"parti communiste", P, 90, 0}, {"les republicains", P, 80, 0},
    {"republicain*", P, 70, T_CUE}, {"reconquete", P, 70, T_CUE}, {"vote rn", P, 90, 0},
    {"vote lfi", P, 90, 0}, {"vote ps", P, 85, 0}, {"vote ecolo", P, 85, 0},
    {"vote a gauche", P, 90, 0}, {"vote a droite", P, 90, 0}, {"vote le pen", P, 90, 0},
    {"vote macron", P, 90, 0}, {"vote melenchon", P, 90, 0}, {"vote zemmour", P, 90, 0},
    {"vote pour le rn", P, 90, 0}, {"vote pour macron", P, 90, 0},
    {"vote pour melenchon", P, 90, 0}, {"vote pour zemmour", P, 90, 0},
    {"vote pour le pen", P, 90, 0}, {"vote labour", P, 90, 0}, {"voted labour", P, 90, 0},
    {"vote tory", P, 90, 0}, {"voted tory", P, 90, 0}, {"vote conservative", P, 90, 0},
    {"voted conservative", P, 90, 0}, {"vote republican", P, 90, 0},
    {"voted republican", P, 90, 0}, {"vote democrat", P, 90, 0}, {"voted democrat", P, 90, 0},
    {"voted for trump", P, 90, 0}, {"voted for brexit", P, 90, 0}, {"voted leave", P, 85, 0},
    {"voted remain", P, 85, 0}, {"lfi", P, 70, T_CUE}, {"insoumis*", P, 70, T_CUE},
    {"au rn", P, 75, T_CUE}, {"militant", P, 65, T_CUE}, {"militante", P, 65, T_CUE},
    {"encarte*", P, 80, 0}, {"parti politique", P, 85, 0}, {"political party", P, 85, 0},
    {"membre du parti", P, 85, 0}, {"adherent du parti", P, 85, 0},
    {"adherente du parti", P, 85, 0}, {"party member*", P, 85, 0}, {"labour party", P, 90, 0},
    {"labour voter", P, 90, 0}, {"labour supporter", P, 90, 0}, {"labour member", P, 90, 0},
    {"tory", P, 80, 0}, {"tories", P, 75, 0}, {"conservative party", P, 90, 0},
    {"lib dem*", P, 85, 0}, {"liberal democrat*", P, 85, 0}, {"green party", P, 85, 0},
    {"reform uk", P, 90, 0}, {"snp", P, 70, T_CUE}, {"democrat", P, 70, T_CUE},
    {"democrats", P, 70, T_CUE}, {"democratic party", P, 85, 0}, {"republican party", P, 85, 0},
    {"gop", P, 70, T_CUE}, {"maga", P, 85, 0}, {"far right", P, 85, 0}, {"far left", P, 85, 0},
    {"extreme droite", P, 85, 0}, {"extreme gauche", P, 85, 0}, {"suis de gauche", P, 90, 0},
    {"suis de droite", P, 90, 0}, {"left wing", P, 80, 0}, {"right wing", P, 80, 0},
    {"communist*", P, 85, 0}, {"communiste*", P, 85, 0}, {"socialist*", P, 80, 0},
    {"socialiste*", P, 80, 0}, {"anarchist*", P, 80, 0}, {"anarchiste*", P, 80, 0},
    {"ecologiste*", P, 70, T_CUE}, {"marxist*", P, 80, 0}, {"marxiste*", P, 80, 0},
    {"libertarian*", P, 80, 0}, {"gilets jaunes", P, 85, 0}, {"gilet jaune", P, 85, 0},
    {"political views", P, 85, 0},
    {"political opinion*", P, 85, 0}, {"opinions politiques", P, 85, 0},
    {"convictions politiques", P, 85, 0}, {"engagement politique", P, 85, 0},
    {"brexiteer*", P, 85, 0}, {"remainer*", P, 85, 0}, {"macronist*", P, 85, 0},
    {"macroniste*", P, 85, 0}, {"le pen", P, 65, T_CUE}, {"melenchon", P, 65, T_CUE},
    {"zemmour", P, 65, T_CUE}, {"trump", P, 60, T_CUE}, {"biden", P, 60, T_CUE},
    {"farage", P, 65, T_CUE}, {"starmer", P, 65, T_CUE}, {"macron", P, 60, T_CUE},
    {"conservative voter", P, 85, 0},

    /* trade-union membership */
    {"trade union*", U, 90, 0}, {"labour union*", U, 90, 0}, {"labor union*", U, 90, 0},
    {"union member*", U, 90, 0}, {"union rep*", U, 90, 0}, {"union card", U, 90, 0},
    {"union dues", U, 90, 0}, {"union meeting*", U, 85, 0}, {"shop steward*", U, 90, 0},
    {"syndiqu*", U, 90, 0}, {"syndicat*", U, 85, 0}, {"syndical*", U, 90, 0},
    {"cgt", U, 85, 0}, {"cfdt", U, 90, 0}, {"force ouvriere", U, 90, 0}, {"unsa", U, 85, 0},
    {"cfe-cgc", U, 90, 0}, {"cftc", U, 90, 0}, {"fsu", U, 80, 0}, {"teamsters", U, 85, 0},
    {"afl-cio", U, 90, 0}, {"unison", U, 70, T_CUE}, {"my union", U, 85, 0},
    {"our union", U, 85, 0}, {"the union", U, 70, T_CUE}, {"union", U, 65, T_CUE},
    {"unite union", U, 85, 0}, {"gmb", U, 70, T_CUE}, {"rmt", U, 70, T_CUE},
    {"delegue du personnel", U, 60, T_CUE},

    /* racial or ethnic origin */
    {"as a black", E, 90, 0}, {"black woman", E, 85, 0}, {"black women", E, 85, 0},
    {"black man", E, 85, 0}, {"black men", E, 85, 0}, {"black person", E, 85, 0},
    {"black people", E, 85, 0}, {"black customer*", E, 85, 0}, {"black family", E, 85, 0},
    {"black community", E, 85, 0}, {"am black", E, 90, 0}, {"being black", E, 85, 0},
    {"suis noir", E, 85, 0}, {"suis noire", E, 85, 0}, {"femme noire", E, 80, T_CUE},
    {"homme noir", E, 80, T_CUE}, {"personne noire", E, 80, 0}, {"personnes noires", E, 80, 0},
    {"en tant que noir", E, 90, 0}, {"en tant que noire", E, 90, 0}, {"maghrebin*", E, 85, 0},
    {"d'origine africaine", E, 80, T_CUE}, {"d'origine arabe", E, 80, T_CUE},
    {"d'origine asiatique", E, 80, T_CUE}, {"d'origine algerienne", E, 80, T_CUE},
    {"d'origine marocaine", E, 80, T_CUE}, {"d'origine tunisienne", E, 80, T_CUE},
    {"d'origine senegalaise", E, 80, T_CUE}, {"d'origine malienne", E, 80, T_CUE},
    {"d'origine antillaise", E, 80, T_CUE}, {"d'origine turque", E, 80, T_CUE},
    {"d'origine chinoise", E, 80, T_CUE}, {"d'origine vietnamienne", E, 80, T_CUE},
    {"d'origine indienne", E, 80, T_CUE}, {"d'origine juive", E, 80, T_CUE},
    {"d'origine etrangere", E, 75, T_CUE}, {"d'origine immigree", E, 75, T_CUE},
    {"african american*", E, 90, 0}, {"afro-american*", E, 90, 0},
    {"afro-americain*", E, 90, 0}, {"afro-descendant*", E, 90, 0}, {"hispanic*", E, 85, 0},
    {"latino", E, 80, 0}, {"latina", E, 80, 0}, {"latinx", E, 85, 0},
    {"asian american*", E, 85, 0}, {"of african descent", E, 90, 0},
    {"of asian descent", E, 90, 0}, {"of arab descent", E, 90, 0},
    {"of mexican descent", E, 90, 0}, {"of indian descent", E, 90, 0},
    {"of pakistani descent", E, 90, 0}, {"of chinese descent", E, 90, 0},
    {"of caribbean descent", E, 90, 0}, {"of nigerian descent", E, 90, 0},
    {"of jamaican descent", E, 90, 0}, {"ethnic minorit*", E, 85, 0},
    {"minorite ethnique", E, 85, 0}, {"minorites ethniques", E, 85, 0},
    {"ethnic origin*", E, 85, 0}, {"ethnic background", E, 85, 0},
    {"origine ethnique", E, 85, 0}, {"origines ethniques", E, 85, 0},
    {"ethnicity", E, 80, 0}, {"ethnie", E, 80, 0}, {"my race", E, 85, 0},
    {"ma race", E, 75, 0}, {"skin colour", E, 80, 0}, {"skin color", E, 80, 0},
    {"couleur de peau", E, 80, 0}, {"colour of my skin", E, 85, 0},
    {"color of my skin", E, 85, 0}, {"mixed race", E, 85, 0}, {"metis", E, 85, 0},
    {"metisse", E, 85, 0}, {"metisses", E, 85, 0}, {"biracial", E, 85, 0},
    {"indigenous", E, 65, T_CUE}, {"aboriginal", E, 70, T_CUE}, {"gitan", E, 75, T_CUE},
    {"gitane", E, 75, T_CUE}, {"gitans", E, 75, T_CUE}, {"tsigane*", E, 85, 0},
    {"kabyle*", E, 80, 0}, {"beur", E, 80, 0}, {"beurette", E, 80, 0}, {"rebeu*", E, 80, 0},
    {"renoi*", E, 80, 0}, {"suis arabe", E, 85, 0}, {"am arab", E, 85, 0},
    {"i'm arab", E, 85, 0}, {"suis asiatique", E, 85, 0}, {"am asian", E, 85, 0},
    {"asian woman", E, 80, 0}, {"asian man", E, 80, 0}, {"suis maghrebin", E, 85, 0},
    {"racial profiling", E, 80, 0}, {"because of my race", E, 90, 0},

    /* sexual orientation */
    {"lesbi*", S, 90, 0}, {"bisexu*", S, 90, 0}, {"homosexu*", S, 90, 0},
    {"heterosexu*", S, 85, 0}, {"pansexu*", S, 90, 0}, {"asexu*", S, 70, T_CUE},
    {"lgbt*", S, 85, 0}, {"queer", S, 85, 0}, {"gay", S, 75, T_CUE}, {"gays", S, 75, T_CUE},
    {"gay couple", S, 90, 0}, {"gay man", S, 90, 0}, {"gay men", S, 90, 0},
    {"gay bar", S, 85, 0}, {"gay pride", S, 80, 0}, {"same sex", S, 85, 0},
    {"meme sexe", S, 85, 0}, {"my coming out", S, 85, 0}, {"mon coming out", S, 85, 0},
    {"came out as", S, 85, 0}, {"hetero", S, 70, T_CUE}, {"homo", S, 70, T_CUE},
    {"my husband", S, 75, T_PARTNER_OF_MAN}, {"my boyfriend", S, 75, T_PARTNER_OF_MAN},
    {"mon mari", S, 75, T_PARTNER_OF_MAN}, {"mon copain", S, 70, T_PARTNER_OF_MAN},
    {"mon petit ami", S, 75, T_PARTNER_OF_MAN}, {"mon compagnon", S, 75, T_PARTNER_OF_MAN},
    {"mon fiance", S, 75, T_PARTNER_OF_MAN}, {"my fiance", S, 75, T_PARTNER_OF_MAN},
    {"my wife", S, 75, T_PARTNER_OF_WOMAN}, {"my girlfriend", S, 75, T_PARTNER_OF_WOMAN},
    {"ma femme", S, 75, T_PARTNER_OF_WOMAN}, {"ma copine", S, 70, T_PARTNER_OF_WOMAN},
    {"ma petite amie", S, 75, T_PARTNER_OF_WOMAN}, {"ma compagne", S, 75, T_PARTNER_OF_WOMAN},
    {"ma fiancee", S, 75, T_PARTNER_OF_WOMAN}, {"my fiancee", S, 75, T_PARTNER_OF_WOMAN},

    /* biometric and genetic data */
    {"fingerprint*", B, 85, 0}, {"empreinte digitale", B, 90, 0},
    {"empreintes digitales", B, 90, 0}, {"empreinte vocale", B, 90, 0},
    {"lecteur d'empreinte*", B, 90, 0}, {"capteur d'empreinte*", B, 90, 0},
    {"mes empreintes", B, 85, 0}, {"mon empreinte", B, 85, 0}, {"face id", B, 85, 0},
    {"touch id", B, 85, 0}, {"facial recognition", B, 90, 0}, {"face recognition", B, 90, 0},
    {"reconnaissance faciale", B, 90, 0}, {"iris scan*", B, 90, 0}, {"scan de l'iris", B, 90, 0},
    {"retina*", B, 85, 0}, {"retine", B, 85, 0}, {"dna test*", B, 90, 0}, {"dna kit*", B, 90, 0},
    {"dna sample*", B, 90, 0}, {"dna result*", B, 90, 0}, {"my dna", B, 90, 0},
    {"test adn", B, 90, 0}, {"tests adn", B, 90, 0}, {"kit adn", B, 90, 0},
    {"analyse adn", B, 90, 0}, {"mon adn", B, 90, 0}, {"test genetique", B, 90, 0},
    {"tests genetiques", B, 90, 0}, {"genetic test*", B, 90, 0}, {"analyse genetique", B, 90, 0},
    {"genetic data", B, 90, 0}, {"donnees genetiques", B, 90, 0},
    {"donnees biometriques", B, 90, 0}, {"biometric*", B, 85, 0}, {"biometrie", B, 85, 0},
    {"biometrique*", B, 85, 0}, {"23andme", B, 90, 0}, {"ancestrydna", B, 90, 0},
    {"myheritage", B, 70, T_CUE}, {"genome*", B, 85, 0}, {"voiceprint*", B, 90, 0},
    {"voice print*", B, 90, 0}, {"palm vein*", B, 90, 0}, {"palm scan*", B, 90, 0},
    {"dna", B, 70, T_CUE}, {"adn", B, 70, T_CUE}, {"brca*", B, 85, 0},
    {"mutation genetique", B, 85, 0}, {"genetic mutation", B, 85, 0},
    {"gene mutation", B, 85, 0}, {"face scan*", B, 85, 0}, {"facial scan*", B, 85, 0},
    {"scan of my face", B, 85, 0}, {"empreinte de mon doigt", B, 85, 0},
    {"empreinte du pouce", B, 85, 0}, {"thumbprint*", B, 85, 0},
};

/* Idioms and names that contain a term without meaning it. */
static const char *const vetoes[] = {
    "sick of", "sick and tired", "sick to death", "makes me sick", "make me sick",
    "rend malade", "rendre malade", "rendent malade", "ill-fitting", "ill fitting",
    "ill-informed", "ill advised", "ill-advised", "ill-prepared", "ill-equipped", "ill-timed",
    "ill-suited", "ill-mannered", "malade de rire", "european union", "union europeenne",
    "soviet union", "credit union", "union jack", "union square", "union station", "unionpay",
    "union pay", "civil union", "union civile", "union libre", "state of the union", "union des",
    "the union of", "black friday", "black and white", "gay-lussac", "gay lussac",
    "empreinte carbone", "carbon footprint", "browser fingerprint*", "device fingerprint*",
    "key fingerprint*", "fingerprint of the key", "fingerprints on the", "covered in fingerprints",
    "full of fingerprints", "fingerprint-resistant", "anti-fingerprint", "l'adn de",
    "dans l'adn", "dans notre adn", "dans son adn", "in our dna", "in its dna",
    "part of our dna", "brand dna", "company dna", "trump card", "labour costs",
    "labour cost", "labour market", "church street", "church road", "church lane",
    "rue de l'eglise", "place de l'eglise", "blind spot", "roller blind*", "window blind*",
    "cancer research", "flu-like", "syndicat de copropriete", "syndicat des coproprietaires",
    "syndicat d'initiative", "syndicat des eaux", "syndicat intercommunal", "christian dior",
    "christian louboutin", "christian lacroix", "doctor who", "doctor strange",
    "blind test", "tory burch", "retina display", "ecran retina", "fracture numerique",
    "hospital pass",
};

/* Words after which an ambiguous term is about a person. */
static const char *const cues[] = {
    "i", "me", "my", "myself", "mine", "we", "our", "us", "ourselves", "he", "she", "his",
    "her", "him", "they", "their", "je", "j", "moi", "mon", "ma", "mes", "nous", "notre",
    "nos", "il", "elle", "ils", "elles", "son", "sa", "ses", "leur", "lui", "suis",
    "sommes", "am", "as a", "as an", "en tant que", "being", "etant", "m", "ton", "ta", "tes",
    "votre", "vos", "wife", "husband", "femme", "mari",
};

/* Phrases by which the writer says whether they are a man or a woman. */
static const char *const says_man[] = {
    "as a man", "i'm a man", "i am a man", "i'm a guy", "as a guy", "je suis un homme",
    "en tant qu'homme", "being a man", "i'm a bloke", "both men", "deux hommes",
    "mon mari et moi sommes deux hommes", "we are two men", "we're two men",
};
static const char *const says_woman[] = {
    "as a woman", "i'm a woman", "i am a woman", "je suis une femme", "en tant que femme",
    "being a woman", "both women", "deux femmes", "we are two women", "we're two women",
};

static bool any_pattern_at(const unsigned char *s, size_t len, size_t pos,
                           const char *const *pats, size_t npats, size_t *end)
{
    char first[2];
    size_t nf;

    fold_at(s, len, pos, first, &nf);
    if (nf == 0)
        return false;
    for (size_t i = 0; i < npats; i++)
        if (pats[i][0] == first[0] && pattern_match(s, len, pos, pats[i], end))
            return true;
    return false;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* True if some pattern matches at a word start in [from, to) and ends after min_end. */
static bool pattern_in_range(const unsigned char *s, size_t len, size_t from, size_t to,
                             size_t min_end, const char *const *pats, size_t npats)
{
    for (size_t q = from; q < to && q < len; q++) {
        size_t e;

        if (word_start(s, len, q) && any_pattern_at(s, len, q, pats, npats, &e) && e > min_end)
            return true;
    }
    return false;
}

/* A veto phrase overlapping [a, b). */
static bool vetoed(const unsigned char *s, size_t len, size_t a, size_t b)
{
    size_t from = a > 48 ? a - 48 : 0;

    return pattern_in_range(s, len, from, b, a, vetoes, COUNT(vetoes));
}

/* A cue word within the 60 bytes before a, in the same sentence. */
static bool has_cue(const unsigned char *s, size_t len, size_t a)
{
    size_t from = a > 60 ? a - 60 : 0;
    size_t q = a;

    while (q > from && s[q - 1] != '.' && s[q - 1] != '!' && s[q - 1] != '?' &&
           s[q - 1] != '\n' && s[q - 1] != ';')
        q--;
    return pattern_in_range(s, len, q, a, 0, cues, COUNT(cues));
}

/* True if s[from, to) holds only blanks: two hits of a category so joined are one. */
static bool only_spaces(const unsigned char *s, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '-')
            return false;
    return true;
}

static void scan_special(const unsigned char *s, size_t len, struct sink *k)
{
    bool man = pattern_in_range(s, len, 0, len, 0, says_man, COUNT(says_man));
    bool woman = pattern_in_range(s, len, 0, len, 0, says_woman, COUNT(says_woman));
    size_t last_start[PARLEY_SCAN_BIOMETRIC + 1];
    size_t last_end[PARLEY_SCAN_BIOMETRIC + 1];

    memset(last_end, 0, sizeof(last_end));
    memset(last_start, 0, sizeof(last_start));
    for (size_t p = 0; p < len; p++) {
        size_t best_end[PARLEY_SCAN_BIOMETRIC + 1] = {0};
        unsigned best_conf[PARLEY_SCAN_BIOMETRIC + 1] = {0};
        char first[2];
        size_t nf;

        if (!word_start(s, len, p))
            continue;
        fold_at(s, len, p, first, &nf);
        for (size_t t = 0; t < COUNT(terms); t++) {
            const struct term *tm = &terms[t];
            size_t e;

            if (tm->pat[0] != first[0] || !pattern_match(s, len, p, tm->pat, &e))
                continue;
            if (e <= best_end[tm->category])
                continue;
            if ((tm->flags & T_PARTNER_OF_MAN) && !man)
                continue;
            if ((tm->flags & T_PARTNER_OF_WOMAN) && !woman)
                continue;
            if ((tm->flags & T_CUE) && !has_cue(s, len, p))
                continue;
            if (vetoed(s, len, p, e) || sink_covers_identifier(k, p, e))
                continue;
            best_end[tm->category] = e;
            best_conf[tm->category] = tm->confidence;
        }
        for (unsigned c = 0; c <= PARLEY_SCAN_BIOMETRIC; c++) {
            if (best_end[c] == 0)
                continue;
            if (last_end[c] > 0 && (last_end[c] > p ||
                                    (p - last_end[c] <= 2 && only_spaces(s, last_end[c], p)))) {
                sink_widen(k, (parley_scan_category)c, last_start[c], best_end[c], best_conf[c]);
                if (best_end[c] > last_end[c])
                    last_end[c] = best_end[c];
                continue;
            }
            sink_add(k, (parley_scan_category)c, p, best_end[c], best_conf[c]);
            last_start[c] = p;
            last_end[c] = best_end[c];
        }
    }
}

/* ------------------------------------------------------------------ */
/* Public API.                                                         */

static const char *const category_names[PARLEY_SCAN_CATEGORY_COUNT] = {
    "health", "religion", "politics", "union", "ethnicity", "sexual_orientation",
    "biometric", "card", "iban", "nir", "email", "phone",
};

const char *parley_scan_category_name(parley_scan_category c)
{
    if ((unsigned)c >= PARLEY_SCAN_CATEGORY_COUNT)
        return NULL;
    return category_names[c];
}

parley_err parley_scan(const char *text, size_t len, parley_scan_finding *out, size_t cap,
                       size_t *n)
{
    struct sink k;

    if (n == NULL || (text == NULL && len > 0) || (out == NULL && cap > 0))
        return PARLEY_EINVAL;
    *n = 0;
    if (len > PARLEY_SCAN_MAX_TEXT)
        return PARLEY_ETOOBIG;
    k.out = out;
    k.cap = cap;
    k.used = 0;
    k.total = 0;
    if (len > 0) {
        scan_identifiers((const unsigned char *)text, len, &k);
        scan_special((const unsigned char *)text, len, &k);
    }
    *n = k.total;
    return k.total > cap ? PARLEY_ETOOBIG : PARLEY_OK;
}

void parley_scan_policy_default(parley_scan_policy *p)
{
    if (p == NULL)
        return;
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        p->action[c] = PARLEY_SCAN_WARN;
    p->action[PARLEY_SCAN_CARD] = PARLEY_SCAN_REDACT;
    p->action[PARLEY_SCAN_IBAN] = PARLEY_SCAN_REDACT;
    p->action[PARLEY_SCAN_NIR] = PARLEY_SCAN_REDACT;
    p->min_confidence = 0;
    p->mask = 0;
}

static parley_scan_action action_for(const parley_scan_policy *p, const parley_scan_finding *f)
{
    if (f->confidence < p->min_confidence)
        return PARLEY_SCAN_ALLOW;
    return p->action[f->category];
}

/*
 * Writes the redacted text into buf (NULL: only counts) and returns its
 * length. Spans are visited in order of start; overlapping or touching
 * REDACT spans become one, named after the earliest.
 */
static size_t redact(const parley_scan_policy *p, const char *text, size_t len,
                     const parley_scan_finding *f, size_t n, char *buf)
{
    size_t pos = 0, o = 0;

    for (;;) {
        const parley_scan_finding *next = NULL;
        size_t start, end;
        bool grew;

        for (size_t i = 0; i < n; i++) {
            if (action_for(p, &f[i]) != PARLEY_SCAN_REDACT || f[i].end <= pos)
                continue;
            if (next == NULL || f[i].start < next->start)
                next = &f[i];
        }
        if (next == NULL)
            break;
        start = next->start > pos ? next->start : pos;
        end = next->end;
        do {
            grew = false;
            for (size_t i = 0; i < n; i++)
                if (action_for(p, &f[i]) == PARLEY_SCAN_REDACT && f[i].start <= end &&
                    f[i].end > end) {
                    end = f[i].end;
                    grew = true;
                }
        } while (grew);
        if (buf != NULL)
            memcpy(buf + o, text + pos, start - pos);
        o += start - pos;
        if (p->mask == 0) {
            const char *name = category_names[next->category];
            size_t nl = strlen(name);

            if (buf != NULL) {
                buf[o] = '[';
                memcpy(buf + o + 1, name, nl);
                buf[o + 1 + nl] = ']';
            }
            o += nl + 2;
        } else {
            for (size_t i = start; i < end; i++) {
                unsigned char c = (unsigned char)text[i];

                if ((c & 0xc0) == 0x80)
                    continue; /* one mask character per UTF-8 character */
                if (buf != NULL)
                    buf[o] = (c == ' ' || c == '-') ? (char)c : p->mask;
                o++;
            }
        }
        pos = end;
    }
    if (buf != NULL)
        memcpy(buf + o, text + pos, len - pos);
    return o + (len - pos);
}

parley_err parley_scan_apply(const parley_scan_policy *policy, const char *text, size_t len,
                             const parley_scan_finding *findings, size_t n, char **redacted_out,
                             size_t *redacted_len, parley_scan_verdict *verdict)
{
    parley_scan_verdict v = PARLEY_SCAN_PASS;
    size_t out_len;
    char *buf;

    if (redacted_out != NULL)
        *redacted_out = NULL;
    if (redacted_len != NULL)
        *redacted_len = 0;
    if (verdict != NULL)
        *verdict = PARLEY_SCAN_PASS;
    if (policy == NULL || redacted_out == NULL || redacted_len == NULL || verdict == NULL ||
        (text == NULL && len > 0) || (findings == NULL && n > 0))
        return PARLEY_EINVAL;
    if (len > PARLEY_SCAN_MAX_TEXT)
        return PARLEY_ETOOBIG;
    if (policy->mask != 0 && (policy->mask <= ' ' || policy->mask > '~'))
        return PARLEY_EINVAL;
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        if ((unsigned)policy->action[c] > PARLEY_SCAN_REDACT)
            return PARLEY_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const parley_scan_finding *f = &findings[i];
        parley_scan_verdict fv = PARLEY_SCAN_PASS;

        if ((unsigned)f->category >= PARLEY_SCAN_CATEGORY_COUNT || f->start >= f->end ||
            f->end > len)
            return PARLEY_EINVAL;
        switch (action_for(policy, f)) {
        case PARLEY_SCAN_ALLOW:
            break;
        case PARLEY_SCAN_WARN:
            fv = PARLEY_SCAN_WARNED;
            break;
        case PARLEY_SCAN_REDACT:
            fv = PARLEY_SCAN_REDACTED;
            break;
        case PARLEY_SCAN_BLOCK:
            fv = PARLEY_SCAN_BLOCKED;
            break;
        }
        if (fv > v)
            v = fv;
    }
    if (v == PARLEY_SCAN_REDACTED) {
        out_len = redact(policy, text, len, findings, n, NULL);
        buf = malloc(out_len + 1);
        if (buf == NULL)
            return PARLEY_ENOMEM;
        redact(policy, text, len, findings, n, buf);
        buf[out_len] = '\0';
        *redacted_out = buf;
        *redacted_len = out_len;
    }
    *verdict = v;
    return PARLEY_OK;
}
