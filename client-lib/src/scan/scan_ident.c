/*
 * Identifiers for the sensitive-data guard: payment cards (issuer range
 * and Luhn), IBANs (country length and mod 97), French NIRs (key mod 97,
 * Corsica's 2A/2B), e-mail addresses (a top-level domain of the Public
 * Suffix List) and phone numbers (French, UK, North American and
 * international shapes, not after a reference word such as "order").
 */
#include <string.h>

#include "scan_internal.h"
#include "scan_lexicon.h"

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

/* One separator inside a number: space, dash, dot, or a Unicode space. */
static size_t number_separator(const unsigned char *s, size_t len, size_t pos)
{
    uint32_t cp;
    size_t k;

    if (pos >= len)
        return 0;
    if (s[pos] == ' ' || s[pos] == '-' || s[pos] == '.')
        return 1;
    k = scan_utf8_decode(s, len, pos, &cp);
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

bool scan_tld_known(const char *tld, size_t n)
{
    char low[64];

    if (n == 0 || n >= sizeof(low))
        return false;
    for (size_t i = 0; i < n; i++)
        low[i] = (tld[i] >= 'A' && tld[i] <= 'Z') ? (char)(tld[i] - 'A' + 'a') : tld[i];
    low[n] = '\0';
    return scan_sorted_has(lex_tlds, lex_tld_count, low, 0);
}

#define EMAIL_MAX_LABELS 16

/*
 * An address starting at pos: a dot-atom local part (no leading,
 * trailing or doubled dot), '@', then two or more labels of letters,
 * digits and inner dashes, the last one a top-level domain of the Public
 * Suffix List ("name@2x.png" is an image, not an address). Labels after
 * the last such domain are not part of it ("a@b.fr.Merci"), and a final
 * dot is the sentence's.
 */
static bool find_email(const unsigned char *s, size_t len, size_t pos, size_t *end)
{
    size_t at = pos, p, labels = 0, label_start;
    size_t lstart[EMAIL_MAX_LABELS], lend[EMAIL_MAX_LABELS];

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
    while (labels < EMAIL_MAX_LABELS) {
        label_start = p;
        while (p < len && email_domain_char(s[p]))
            p++;
        if (p == label_start || p - label_start > 63 || s[label_start] == '-' || s[p - 1] == '-')
            break;
        lstart[labels] = label_start;
        lend[labels] = p;
        labels++;
        if (p + 1 < len && s[p] == '.' && email_domain_char(s[p + 1]))
            p++;
        else
            break;
    }
    for (size_t last = labels; last-- > 1;) {
        size_t e = lend[last];

        if (!scan_tld_known((const char *)s + lstart[last], e - lstart[last]))
            continue;
        if (e < len && (s[e] == '@' || s[e] == '_'))
            return false;
        *end = e;
        return true;
    }
    return false;
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
    char word[16];

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
    if (!scan_fold_word(s, len, wstart, wend, word, sizeof(word)))
        return false;
    for (size_t i = 0; i < sizeof(phone_vetoes) / sizeof(phone_vetoes[0]); i++)
        if (strcmp(word, phone_vetoes[i]) == 0)
            return true;
    return false;
}

/*
 * A phone number at pos. French: 0X then 8 digits (written whole or in
 * groups), +33 or 0033 then 9 digits, with an optional "(0)". UK: 11
 * digits from 01, 02, 03, 07 or 08 in at most three groups. North
 * America: 3-3-4. Other countries: +CC then 8 to 15 digits in all.
 */
/* A candidate phone number as written: its digits and how they are grouped. */
struct phone_run {
    char d[RUN_MAX_DIGITS];
    size_t n, groups, gsize[16];
    size_t last_digit_end;
    bool plus, paren_first;
};

/*
 * Reads the run of digit groups starting at pos ("+", "(" or a digit),
 * through single separators and a "(0)" after the country code. False
 * when it cannot be a phone number however it goes on.
 */
static bool read_phone_run(const unsigned char *s, size_t len, size_t pos, struct phone_run *r)
{
    size_t p = pos, seps_in_row = 0;

    memset(r, 0, sizeof(*r));
    r->last_digit_end = pos;
    if (s[p] == '+' || s[p] == '(') {
        r->plus = s[p] == '+';
        r->paren_first = s[p] == '(';
        p++;
        if (p >= len || !is_digit(s[p]))
            return false;
    }
    while (p < len) {
        if (is_digit(s[p])) {
            if (r->n >= RUN_MAX_DIGITS)
                return false;
            if (seps_in_row > 0 || r->groups == 0) {
                if (r->groups >= 16)
                    return false;
                r->gsize[r->groups++] = 0;
            }
            r->d[r->n++] = (char)s[p++];
            r->gsize[r->groups - 1]++;
            r->last_digit_end = p;
            seps_in_row = 0;
            continue;
        }
        if (r->plus && r->groups == 1 && r->n <= 3 && len - p >= 4 &&
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
    return true;
}

/* Whether the run, written at s + pos, has the shape of a number of some numbering plan. */
static bool phone_plan_fits(const unsigned char *s, size_t pos, const struct phone_run *r)
{
    const char *d = r->d;
    size_t n = r->n, groups = r->groups;
    const size_t *gsize = r->gsize;

    if (r->plus) {
        bool fr = n >= 2 && d[0] == '3' && d[1] == '3';

        /* "+33 06 ..." is a common slip for "+33 6 ..." */
        if (fr)
            return (n == 11 && d[2] != '0') || (n == 12 && d[2] == '0' && d[3] != '0');
        return n >= 8 && n <= 15 && !(groups > 1 && gsize[0] > 3);
    }
    if (d[0] == '0' && d[1] == '0') {
        if (groups < 2 || gsize[0] < 3 || gsize[0] > 5)
            return false;
        if (d[2] == '3' && d[3] == '3')
            return n == 13 && d[4] != '0';
        return n >= 10 && n <= 17;
    }
    if (d[0] == '0' && n == 10 && d[1] != '0') {
        if (groups == 1)
            return !r->paren_first;
        /* "06 12 34 56 78", "0612 34 56 78": pairs, not "05 78 006 084" */
        for (size_t g = 0; g < groups; g++)
            if (gsize[g] % 2 != 0)
                return false;
        return true;
    }
    if (d[0] == '0' && n == 11 &&
        (d[1] == '1' || d[1] == '2' || d[1] == '3' || d[1] == '7' || d[1] == '8'))
        return groups <= 3 && !r->paren_first;
    if (n == 10 && d[0] >= '2' && d[0] <= '9' && groups == 3 && gsize[0] == 3 &&
        gsize[1] == 3 && gsize[2] == 4)
        return r->paren_first || s[pos + 3] == '-' || s[pos + 3] == '.';
    /* 1-800-555-0199 */
    return n == 11 && d[0] == '1' && groups == 4 && gsize[0] == 1 && gsize[1] == 3 &&
           gsize[2] == 3 && gsize[3] == 4;
}

static bool find_phone(const unsigned char *s, size_t len, size_t pos, size_t *end)
{
    struct phone_run r;

    /* A phone number does not continue a run of digit groups (IBAN, references). */
    if (pos >= 2 && number_separator(s, len, pos - 1) == 1 && is_digit(s[pos - 2]))
        return false;
    if (!read_phone_run(s, len, pos, &r))
        return false;
    if (r.n < 8 || !number_end(s, len, r.last_digit_end) || !phone_plan_fits(s, pos, &r))
        return false;
    if (number_after_reference_word(s, len, pos))
        return false;
    *end = r.last_digit_end;
    return true;
}

/* One left-to-right pass; each span is taken by the first detector that fits. */
void scan_identifiers(const unsigned char *s, size_t len, struct scan_sink *k)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t end;

        if (email_local_char(c) && c != '.' && (i == 0 || !email_local_char(s[i - 1])) &&
            find_email(s, len, i, &end)) {
            scan_sink_add(k, PARLEY_SCAN_EMAIL, i, end, 97);
            i = end;
            continue;
        }
        if (is_alpha(c) && (i == 0 || (!is_alnum(s[i - 1]) && s[i - 1] < 0x80))) {
            if (find_iban(s, len, i, &end)) {
                scan_sink_add(k, PARLEY_SCAN_IBAN, i, end, 99);
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
                    scan_sink_add(k, PARLEY_SCAN_CARD, i, end, 98);
                    i = end;
                    continue;
                }
                if (find_nir(s, len, i, &end)) {
                    scan_sink_add(k, PARLEY_SCAN_NIR, i, end, 98);
                    i = end;
                    continue;
                }
            }
            if (find_phone(s, len, i, &end)) {
                scan_sink_add(k, PARLEY_SCAN_PHONE, i, end, 90);
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

            i += scan_utf8_decode(s, len, i, &cp);
            continue;
        }
        i++;
    }
}
