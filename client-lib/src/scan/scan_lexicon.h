/*
 * The compiled lexicons of the sensitive-data guard: tables written at
 * build time by scan-lexgen (client-lib/lexicon/lexgen.c) from the data
 * files in client-lib/lexicon/ and from the Public Suffix List, read by
 * scan_lexicon.c and scan_ident.c. The format of the data files is in
 * client-lib/lexicon/README.md.
 */
#ifndef PARLEY_SCAN_LEXICON_H
#define PARLEY_SCAN_LEXICON_H

#include <stddef.h>

/* What one alternative of a pattern position matches. */
enum lex_elem_kind {
    LEX_STEM = 0,   /* a word whose stem in lang is key, at least arg bytes long folded */
    LEX_EXACT = 1,  /* a word whose folded form is key */
    LEX_PREFIX = 2, /* a word whose folded form starts with key */
    LEX_LIST = 3,   /* any pattern of list arg */
    LEX_GAP = 4,    /* 0 to arg words of any kind */
    LEX_NUMBER = 5, /* a word of digits only */
};

struct lex_elem {
    unsigned char kind;
    unsigned char lang;
    unsigned short arg;
    const char *key;
};

/* One position of a pattern: elems[first, first + nalt) are its alternatives. */
struct lex_pos {
    unsigned first;
    unsigned char nalt;
    unsigned char optional;
};

/* A sequence of positions: positions[first, first + npos). */
struct lex_pattern {
    unsigned first;
    unsigned char npos;
};

/*
 * A named list: the patterns list_members[first, first + count), and
 * list_keys[kfirst, kfirst + kcount): its members by the keys of their
 * first word (as in struct lex_key below, rule being a member pattern).
 */
struct lex_list {
    unsigned first;
    unsigned count;
    unsigned kfirst;
    unsigned kcount;
};

enum lex_rule_kind {
    LEX_RULE_TERM = 0,   /* a finding of category */
    LEX_RULE_NOT = 1,    /* cancels the findings of category it overlaps */
    LEX_RULE_UNLESS = 2, /* cancels the findings of category in its sentence */
};

/* No list: near and cond below. */
#define LEX_NO_LIST 0xFFFFu

struct lex_rule {
    unsigned pattern;
    unsigned char category;
    unsigned char kind;
    unsigned char confidence;
    unsigned short near; /* a list that must match before it in the sentence, or LEX_NO_LIST */
    unsigned short cond; /* a list that must match somewhere in the text, or LEX_NO_LIST */
};

/*
 * Index from a word to the rules whose first position it can match,
 * sorted by key (strcmp), then rule. Keys start with a letter naming
 * what they are: 'e' an English stem, 'f' a French stem, 'x' a folded
 * word, 'p' a folded prefix, 'n' any number ("n" alone).
 */
struct lex_key {
    const char *key;
    unsigned rule;
};

extern const struct lex_elem lex_elems[];
extern const struct lex_pos lex_positions[];
extern const struct lex_pattern lex_patterns[];
extern const struct lex_list lex_lists[];
extern const unsigned lex_list_members[];
extern const struct lex_rule lex_rules[];
extern const size_t lex_rule_count;
extern const struct lex_key lex_list_keys[];
extern const struct lex_key lex_term_keys[];
extern const size_t lex_term_key_count;
extern const struct lex_key lex_veto_keys[];
extern const size_t lex_veto_key_count;
/*
 * The first 3 letters of every stem key of each language, sorted
 * (strcmp): a word that starts otherwise cannot match a stem, so it need
 * not be stemmed (Snowball changes endings only, and stem keys have 4
 * letters or more).
 */
#define LEX_STEM_HEAD 3
extern const char *const lex_stem_heads[2][1024];
extern const size_t lex_stem_head_count[2];
/* Longest prefix key, in bytes (without its 'p'). */
extern const size_t lex_prefix_max;

/* Top-level domains of the Public Suffix List, sorted (strcmp), lowercase. */
extern const char *const lex_tlds[];
extern const size_t lex_tld_count;

#endif
