/*
 * Internals of the sensitive-data guard, shared by its parts: the
 * findings sink (scan.c), text folding and words (scan_text.c, also built
 * into the lexicon generator), stemming (scan_stem.c, also in the
 * generator), identifiers (scan_ident.c) and lexicon matching
 * (scan_lexicon.c over the tables the generator writes).
 */
#ifndef PARLEY_SCAN_INTERNAL_H
#define PARLEY_SCAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parley/scan.h"

/* ------------------------------------------------------------------ */
/* Findings, kept sorted by start then category, the first cap only.   */

struct scan_sink {
    parley_scan_finding *out;
    size_t cap;
    size_t used;
    size_t total;
};

void scan_sink_add(struct scan_sink *s, parley_scan_category c, size_t start, size_t end,
                   unsigned confidence);
/* Widens the kept finding of category c that starts at start, if any. */
void scan_sink_widen(struct scan_sink *s, parley_scan_category c, size_t start, size_t end,
                     unsigned confidence);
/* True when [start, end) overlaps an identifier already kept. */
bool scan_sink_covers_identifier(const struct scan_sink *s, size_t start, size_t end);

/* ------------------------------------------------------------------ */
/* Characters and words (scan_text.c).                                 */

/*
 * Folded characters: lowercase ASCII letters and digits, ' ' for a
 * space, '\'' for an apostrophe, '-' for a dash, '.' for a sentence
 * mark, SCAN_FOLD_LETTER for a letter without an ASCII folding,
 * SCAN_FOLD_OTHER for anything else (punctuation, invalid bytes).
 */
#define SCAN_FOLD_LETTER '\x01'
#define SCAN_FOLD_OTHER '\x02'

/*
 * Decodes one UTF-8 character at s[pos]; returns its length in bytes and
 * the code point in *cp, or length 1 and *cp = 0xFFFFFFFF when the bytes
 * are not valid UTF-8 (overlong, surrogate, truncated).
 */
size_t scan_utf8_decode(const unsigned char *s, size_t len, size_t pos, uint32_t *cp);

/*
 * Folds the character at s[pos] into out (0 to 2 chars, *nout) and
 * returns its length in bytes. Case and accents go ("É" -> "e", "Œ" ->
 * "oe", "ā" -> "a"); combining accents fold to nothing, so a decomposed
 * "e\u0301" reads like "é".
 */
size_t scan_fold_at(const unsigned char *s, size_t len, size_t pos, char out[2], size_t *nout);

/* Longest folded word the lexicon compares, with its NUL. */
#define SCAN_KEY_MAX 32

/* Languages with a lexicon and a stemmer. */
enum scan_lang { SCAN_LANG_EN = 0, SCAN_LANG_FR = 1, SCAN_LANG_COUNT = 2 };

enum scan_token_kind {
    SCAN_TOKEN_WORD = 0,   /* letters and digits */
    SCAN_TOKEN_SYMBOL = 1, /* one of % & + standing alone */
};

/*
 * A word of the text. Words are runs of letters and digits; spaces,
 * dashes, apostrophes, '&', '%', '+' and '/' separate them softly, other
 * punctuation (commas, brackets, quotes ...) sets brk, and a sentence
 * mark ('.', '!', '?', ';', a line break) ends the sentence.
 */
struct scan_token {
    size_t start; /* bytes of the text */
    size_t end;
    unsigned char kind;
    bool brk;      /* punctuation other than a soft separator before it */
    bool digits;   /* only digits */
    bool too_long; /* folded form longer than SCAN_KEY_MAX - 1: fold is its start */
    char fold[SCAN_KEY_MAX];
    char stem[SCAN_LANG_COUNT][SCAN_KEY_MAX]; /* filled by the caller */
};

/*
 * Reads the next word at or after *pos into *t (stems left empty) and
 * moves *pos after it. *sentence is set when a sentence mark lies between
 * *pos and the word. Returns false at the end of the text.
 */
bool scan_next_token(const unsigned char *s, size_t len, size_t *pos, struct scan_token *t,
                     bool *sentence);

/*
 * Folds the word s[start, end) into out (cap bytes with the NUL); returns
 * false if it does not fit. Used for single words next to numbers.
 */
bool scan_fold_word(const unsigned char *s, size_t len, size_t start, size_t end, char *out,
                    size_t cap);

/* ------------------------------------------------------------------ */
/* Stemming (scan_stem.c): Snowball's English and French stemmers.     */

struct scan_stemmer;

/* A stemmer for lang, or NULL when out of memory. */
struct scan_stemmer *scan_stemmer_new(enum scan_lang lang);
void scan_stemmer_free(struct scan_stemmer *st);

/*
 * Stems a folded word (n bytes) into out (cap bytes with the NUL).
 * Returns false when out of memory or when the stem does not fit; out is
 * then the empty string.
 */
bool scan_stem(struct scan_stemmer *st, const char *word, size_t n, char *out, size_t cap);

/*
 * True when key is in sorted, an array of n strings in strcmp order: the
 * whole string (prefix 0), or its first prefix bytes against the first
 * prefix bytes of an entry.
 */
bool scan_sorted_has(const char *const *sorted, size_t n, const char *key, size_t prefix);

/* ------------------------------------------------------------------ */
/* Detectors.                                                          */

/* True when tld (n bytes, any case) is a top-level domain of the Public Suffix List. */
bool scan_tld_known(const char *tld, size_t n);

/* Identifiers with a checksum or a strict shape (scan_ident.c). */
void scan_identifiers(const unsigned char *s, size_t len, struct scan_sink *k);

/* The special categories by lexicon (scan_lexicon.c); PARLEY_ENOMEM or PARLEY_OK. */
parley_err scan_special(const unsigned char *s, size_t len, struct scan_sink *k);

#endif
