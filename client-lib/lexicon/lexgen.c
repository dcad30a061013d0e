/*
 * scan-lexgen: compiles the sensitive-data guard's lexicons (the *.lex
 * files beside this one, format in README.md) and the top-level domains
 * of the Public Suffix List into C tables (scan_lexicon.h), so that
 * libparley carries its data inside and reads no file at run time. Words
 * are folded, split and stemmed by the library's own code (scan_text.c,
 * scan_stem.c), so a lexicon word and a word of a message meet alike.
 *
 * Usage: scan-lexgen --psl public_suffix_list.dat --out lexicon.c FILE.lex...
 * A malformed line stops the build with FILE:LINE and the reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan_internal.h"
#include "scan_lexicon.h"

#define MAX_ALT 64
#define MAX_POS 16
#define MAX_SPAN 24    /* words a pattern may cover, gaps counted at their longest */
#define GAP_WORDS 3    /* "..." */
#define MAX_DEPTH 3    /* lists inside lists */
#define MAX_LISTS 4096 /* LEX_NO_LIST stays out of range */
#define LIST_TRY_MAX 64 /* members of a list one word may start: scan_lexicon.c tries so many */

static const char *const category_files[] = {
    "health", "religion", "politics", "union", "ethnicity", "sexual_orientation", "biometric",
};
#define CATEGORY_FILES (sizeof(category_files) / sizeof(category_files[0]))
static const char *const lang_names[SCAN_LANG_COUNT] = {"en", "fr"};

/* Growable arrays. */
#define PUSH(arr, n, cap, item)                                                    \
    do {                                                                           \
        if ((n) == (cap)) {                                                        \
            size_t c2_ = (cap) ? (cap) * 2 : 64;                                   \
            void *p_ = realloc((arr), c2_ * sizeof(*(arr)));                       \
            if (p_ == NULL)                                                        \
                die("out of memory");                                              \
            (arr) = p_;                                                            \
            (cap) = c2_;                                                           \
        }                                                                          \
        (arr)[(n)++] = (item);                                                     \
    } while (0)

struct elem {
    unsigned char kind;
    unsigned char lang;
    unsigned short arg;
    char *key;
};
struct pos {
    unsigned first;
    unsigned char nalt;
    unsigned char optional;
};
struct pattern {
    unsigned first;
    unsigned char npos;
};
struct list {
    char *name;
    unsigned char lang;
    unsigned *members;
    size_t n, cap;
    size_t kfirst, kcount; /* its members by first word, in the list key table */
    const char *where;     /* first use, for the error when undefined */
};
struct rule {
    unsigned pattern;
    unsigned char category, kind, confidence;
    unsigned short near, cond;
    char *source;
};
struct key {
    char *key;
    unsigned rule;
};

static struct elem *elems;
static size_t nelems, celems;
static struct pos *positions;
static size_t npositions, cpositions;
static struct pattern *patterns;
static size_t npatterns, cpatterns;
static struct list *lists;
static size_t nlists, clists;
static struct rule *rules;
static size_t nrules, crules;
static char **tlds;
static size_t ntlds, ctlds;
static struct scan_stemmer *stemmers[SCAN_LANG_COUNT];
static char where[512]; /* FILE:LINE of the line being read */

static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "scan-lexgen: %s%s", where, where[0] ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static char *dup_str(const char *s)
{
    char *d = strdup(s);

    if (d == NULL)
        die("out of memory");
    return d;
}

static unsigned list_id(const char *name, unsigned char lang)
{
    struct list l;

    for (size_t i = 0; i < nlists; i++)
        if (lists[i].lang == lang && strcmp(lists[i].name, name) == 0)
            return (unsigned)i;
    if (nlists >= MAX_LISTS)
        die("too many lists");
    memset(&l, 0, sizeof(l));
    l.name = dup_str(name);
    l.lang = lang;
    l.where = NULL;
    PUSH(lists, nlists, clists, l);
    return (unsigned)(nlists - 1);
}

/* Splits word into folded tokens as a message would be; returns their count. */
static size_t split_words(const char *word, struct scan_token *t, size_t max)
{
    size_t pos = 0, n = 0, len = strlen(word);
    bool sentence;

    while (n < max && scan_next_token((const unsigned char *)word, len, &pos, &t[n], &sentence)) {
        if (sentence)
            die("'%s': a sentence mark inside a pattern", word);
        if (t[n].too_long)
            die("'%s': a word longer than %d bytes", word, SCAN_KEY_MAX - 1);
        n++;
    }
    if (pos < len && n == max)
        die("'%s': too many words", word);
    return n;
}

/* True when the word as written in the lexicon (src) has no lowercase letter: "MS", "CGT". */
static bool acronym(const char *src, const struct scan_token *t)
{
    for (size_t i = t->start; i < t->end; i++)
        if (src[i] >= 'a' && src[i] <= 'z')
            return false;
    return true;
}

/*
 * The element for one word of a pattern (t, split from src): by stem in
 * lang, or by its exact folded form when marked '=', for numbers,
 * symbols, words of one or two letters and acronyms.
 */
static struct elem word_elem(const char *src, const struct scan_token *t, unsigned char lang,
                             char how)
{
    struct elem e;
    char stem[SCAN_KEY_MAX];

    memset(&e, 0, sizeof(e));
    e.lang = lang;
    if (how == '=' || t->kind == SCAN_TOKEN_SYMBOL || t->digits || strlen(t->fold) <= 2 ||
        acronym(src, t)) {
        e.kind = LEX_EXACT;
        e.key = dup_str(t->fold);
        return e;
    }
    if (!scan_stem(stemmers[lang], t->fold, strlen(t->fold), stem, sizeof(stem)) ||
        stem[0] == '\0')
        die("cannot stem '%s'", t->fold);
    if (strlen(stem) < 4) {
        /* A stem this short ("queer" -> "que" in French, "aïd" -> "aid") catches other words. */
        e.kind = LEX_EXACT;
        e.key = dup_str(t->fold);
        return e;
    }
    e.kind = LEX_STEM;
    e.key = dup_str(stem);
    /*
     * Where Snowball took off a derivational suffix of 4 letters or more
     * ("royaliste" -> "royal", "communiste" -> "commun"), only words about
     * as long as the lexicon's match: its inflections, not the bare root.
     */
    if (strlen(t->fold) >= strlen(stem) + 4)
        e.arg = (unsigned short)(strlen(t->fold) - 1);
    return e;
}

static void add_pos(const struct elem *alts, size_t nalt, bool optional)
{
    struct pos p;

    p.first = (unsigned)nelems;
    p.nalt = (unsigned char)nalt;
    p.optional = optional;
    for (size_t i = 0; i < nalt; i++)
        PUSH(elems, nelems, celems, alts[i]);
    PUSH(positions, npositions, cpositions, p);
}

/* A pattern of the words t[0, n) of src, each by word_elem(); returns its id. */
static unsigned words_pattern(const char *src, const struct scan_token *t, size_t n,
                              unsigned char lang, char how)
{
    struct pattern pat;

    pat.first = (unsigned)npositions;
    for (size_t i = 0; i < n; i++) {
        struct elem e = word_elem(src, &t[i], lang, how);

        add_pos(&e, 1, false);
    }
    pat.npos = (unsigned char)n;
    PUSH(patterns, npatterns, cpatterns, pat);
    return (unsigned)(npatterns - 1);
}

/*
 * One alternative of an atom: "@list", "=word", "prefix*", "#" or
 * "word". An alternative of several words ("afro-caribbean", "d'origine")
 * becomes a list of its own with that one phrase.
 */
static struct elem parse_alt(const char *a, unsigned char lang)
{
    struct elem e;
    struct scan_token t[MAX_POS];
    size_t n = strlen(a), nw;
    const char *w = a[0] == '=' ? a + 1 : a;

    memset(&e, 0, sizeof(e));
    e.lang = lang;
    if (a[0] == '@') {
        if (n < 2)
            die("an empty list name");
        e.kind = LEX_LIST;
        e.arg = (unsigned short)list_id(a + 1, lang);
        if (lists[e.arg].where == NULL)
            lists[e.arg].where = dup_str(where);
        return e;
    }
    if (strcmp(a, "#") == 0) {
        e.kind = LEX_NUMBER;
        return e;
    }
    if (n > 1 && a[n - 1] == '*') {
        char buf[SCAN_KEY_MAX + 1];

        if (n > SCAN_KEY_MAX)
            die("'%s': prefix too long", a);
        memcpy(buf, a, n - 1);
        buf[n - 1] = '\0';
        if (split_words(buf, t, 2) != 1 || strlen(t[0].fold) < 3)
            die("'%s': a prefix is one word of 3 letters or more", a);
        e.kind = LEX_PREFIX;
        e.key = dup_str(t[0].fold);
        return e;
    }
    nw = split_words(w, t, MAX_POS);
    if (nw == 0)
        die("'%s' holds no word", a);
    if (nw == 1)
        return word_elem(w, &t[0], lang, a[0]);
    {
        char name[32];
        unsigned id, pat = words_pattern(w, t, nw, lang, a[0]);

        snprintf(name, sizeof(name), " phrase %zu", npatterns);
        id = list_id(name, lang);
        PUSH(lists[id].members, lists[id].n, lists[id].cap, pat);
        e.kind = LEX_LIST;
        e.arg = (unsigned short)id;
        return e;
    }
}

/* Parses a pattern ("d'origine @origin (heritage/descent)") into a new pattern id. */
static unsigned parse_pattern(char *text, unsigned char lang)
{
    static struct elem alts[MAX_POS][MAX_ALT];
    size_t nalt[MAX_POS];
    bool optional[MAX_POS];
    size_t npos = 0;
    struct pattern pat;
    unsigned span = 0;
    char *save = NULL;

    for (char *atom = strtok_r(text, " \t", &save); atom != NULL;
         atom = strtok_r(NULL, " \t", &save)) {
        size_t n = strlen(atom);
        bool opt = false;

        if (strcmp(atom, "...") == 0) {
            if (npos == 0)
                die("a pattern cannot start with '...'");
            if (npos == MAX_POS)
                die("a pattern longer than %d positions", MAX_POS);
            memset(&alts[npos][0], 0, sizeof(alts[npos][0]));
            alts[npos][0].kind = LEX_GAP;
            alts[npos][0].arg = GAP_WORDS;
            nalt[npos] = 1;
            optional[npos++] = false;
            span += GAP_WORDS;
            continue;
        }
        if (atom[0] == '(' && n > 2 && atom[n - 1] == ')') {
            opt = true;
            atom[n - 1] = '\0';
            atom++;
        }
        if (strchr(atom, '/') == NULL && atom[0] != '@' && atom[0] != '#' && !opt &&
            atom[strlen(atom) - 1] != '*') {
            /* A plain atom may hold several words: "d'origine", "born-again", "A&E". */
            struct scan_token t[MAX_POS];
            const char *w = atom[0] == '=' ? atom + 1 : atom;
            size_t nw = split_words(w, t, MAX_POS);

            if (nw == 0)
                die("'%s' holds no word", atom);
            for (size_t i = 0; i < nw; i++) {
                if (npos == MAX_POS)
                    die("a pattern longer than %d positions", MAX_POS);
                alts[npos][0] = word_elem(w, &t[i], lang, atom[0]);
                nalt[npos] = 1;
                optional[npos++] = false;
            }
            span += (unsigned)nw;
            continue;
        }
        if (npos == MAX_POS)
            die("a pattern longer than %d positions", MAX_POS);
        nalt[npos] = 0;
        for (char *alt = atom, *slash; alt != NULL; alt = slash ? slash + 1 : NULL) {
            slash = strchr(alt, '/');
            if (slash != NULL)
                *slash = '\0';
            if (*alt == '\0')
                die("an empty alternative in '%s'", atom);
            if (nalt[npos] == MAX_ALT)
                die("too many alternatives");
            alts[npos][nalt[npos]++] = parse_alt(alt, lang);
        }
        if (opt && npos == 0)
            die("a pattern cannot start with an optional word");
        optional[npos++] = opt;
        span++;
    }
    if (npos == 0)
        die("an empty pattern");
    if (span > MAX_SPAN)
        die("a pattern longer than %d words", MAX_SPAN);
    if (alts[npos - 1][0].kind == LEX_GAP)
        die("a pattern cannot end with '...'");
    pat.first = (unsigned)npositions;
    for (size_t i = 0; i < npos; i++)
        add_pos(alts[i], nalt[i], optional[i]);
    pat.npos = (unsigned char)npos;
    PUSH(patterns, npatterns, cpatterns, pat);
    return (unsigned)(npatterns - 1);
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* Options after '|': "self", "near=@list", "if=@list", "conf=N". */
static void parse_options(char *opts, struct rule *r, unsigned char lang)
{
    char *save = NULL;

    for (char *o = strtok_r(opts, " \t", &save); o != NULL; o = strtok_r(NULL, " \t", &save)) {
        if (strcmp(o, "self") == 0) {
            r->near = (unsigned short)list_id("self", lang);
        } else if (strncmp(o, "near=@", 6) == 0 && o[6] != '\0') {
            r->near = (unsigned short)list_id(o + 6, lang);
        } else if (strncmp(o, "if=@", 4) == 0 && o[4] != '\0') {
            r->cond = (unsigned short)list_id(o + 4, lang);
        } else if (strncmp(o, "conf=", 5) == 0) {
            char *end;
            long v = strtol(o + 5, &end, 10);

            if (*end != '\0' || v < 1 || v > 100)
                die("conf is a number from 1 to 100");
            r->confidence = (unsigned char)v;
        } else {
            die("unknown option '%s'", o);
        }
    }
    if (r->near != LEX_NO_LIST && lists[r->near].where == NULL)
        lists[r->near].where = dup_str(where);
    if (r->cond != LEX_NO_LIST && lists[r->cond].where == NULL)
        lists[r->cond].where = dup_str(where);
}

static void parse_line(char *line, int category, unsigned char lang)
{
    char *bar, *rest, *source = dup_str(trim(line));
    struct rule r;

    line = trim(line);
    if (line[0] == '@') {
        char *eq = strchr(line, '=');
        unsigned id;
        unsigned p;

        if (eq == NULL)
            die("a list line is '@name = pattern'");
        *eq = '\0';
        id = list_id(trim(line + 1), lang);
        if (strchr(lists[id].name, ' ') != NULL || lists[id].name[0] == '\0')
            die("a list name is one word");
        p = parse_pattern(trim(eq + 1), lang);
        PUSH(lists[id].members, lists[id].n, lists[id].cap, p);
        free(source);
        return;
    }
    memset(&r, 0, sizeof(r));
    r.near = LEX_NO_LIST;
    r.cond = LEX_NO_LIST;
    rest = line + strcspn(line, " \t");
    if (*rest != '\0')
        *rest++ = '\0';
    if (strcmp(line, "term") == 0) {
        r.kind = LEX_RULE_TERM;
    } else if (strcmp(line, "not") == 0) {
        r.kind = LEX_RULE_NOT;
    } else if (strcmp(line, "unless") == 0) {
        r.kind = LEX_RULE_UNLESS;
    } else {
        die("a line starts with term, not, unless or @list");
    }
    if (category < 0)
        die("lists.*.lex holds lists only");
    r.category = (unsigned char)category;
    bar = strchr(rest, '|');
    if (bar != NULL) {
        *bar = '\0';
        if (r.kind != LEX_RULE_TERM)
            die("options go with term only");
        parse_options(bar + 1, &r, lang);
    }
    if (r.confidence == 0)
        r.confidence = r.near != LEX_NO_LIST || r.cond != LEX_NO_LIST ? 70 : 85;
    r.pattern = parse_pattern(trim(rest), lang);
    if (r.kind != LEX_RULE_TERM &&
        positions[patterns[r.pattern].first + patterns[r.pattern].npos - 1].optional)
        die("a negative cue ending with an optional word matches without it: make it required");
    r.source = source;
    PUSH(rules, nrules, crules, r);
}

static void read_lexicon(const char *path)
{
    const char *base = path ? strrchr(path, '/') : NULL;
    char name[64], *dot, *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
    int category = -1, lang = -1;
    FILE *f;

    if (path == NULL)
        die("no lexicon file");
    base = base ? base + 1 : path;
    snprintf(where, sizeof(where), "%s", path);
    if (strlen(base) >= sizeof(name))
        die("file name too long");
    memcpy(name, base, strlen(base) + 1);
    dot = strchr(name, '.');
    if (dot == NULL || strchr(dot + 1, '.') == NULL || strcmp(strchr(dot + 1, '.'), ".lex") != 0)
        die("a lexicon is named CATEGORY.LANG.lex or lists.LANG.lex");
    *dot = '\0';
    *strchr(dot + 1, '.') = '\0';
    for (size_t c = 0; c < CATEGORY_FILES; c++)
        if (strcmp(name, category_files[c]) == 0)
            category = (int)c;
    for (int l = 0; l < SCAN_LANG_COUNT; l++)
        if (strcmp(dot + 1, lang_names[l]) == 0)
            lang = l;
    if ((category < 0 && strcmp(name, "lists") != 0) || lang < 0)
        die("unknown category or language in the file name");
    f = fopen(path, "r");
    if (f == NULL)
        die("%s", strerror(errno));
    while (getline(&line, &cap, f) != -1) {
        char *t;

        lineno++;
        snprintf(where, sizeof(where), "%s:%lu", path, lineno);
        t = trim(line);
        if (t[0] == '\0' || t[0] == '#')
            continue;
        parse_line(t, category, (unsigned char)lang);
    }
    free(line);
    fclose(f);
    where[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* Public Suffix List: the last label of every rule.                   */

static int utf8_next(const unsigned char **s, uint32_t *cp)
{
    size_t k = scan_utf8_decode(*s, strlen((const char *)*s), 0, cp);

    if (*cp == 0xFFFFFFFFu)
        return -1;
    *s += k;
    return 0;
}

static char punycode_digit(uint32_t d)
{
    return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

/* RFC 3492 encoding of a UTF-8 label, with the "xn--" prefix. */
static void punycode(const char *label, char *out, size_t cap)
{
    uint32_t cps[64], n = 128, delta = 0, bias = 72, h, b = 0;
    size_t ncp = 0, o = 4;
    const unsigned char *s = (const unsigned char *)label;

    memcpy(out, "xn--", 4);
    while (*s != '\0') {
        if (ncp == 64 || utf8_next(&s, &cps[ncp]) != 0)
            die("public suffix list: a bad label");
        ncp++;
    }
    for (size_t i = 0; i < ncp; i++)
        if (cps[i] < 128) {
            if (o + 2 >= cap)
                die("public suffix list: label too long");
            out[o++] = (char)cps[i];
            b++;
        }
    h = b;
    if (b > 0)
        out[o++] = '-';
    while (h < ncp) {
        uint32_t m = 0xFFFFFFFFu;

        for (size_t i = 0; i < ncp; i++)
            if (cps[i] >= n && cps[i] < m)
                m = cps[i];
        delta += (m - n) * (h + 1);
        n = m;
        for (size_t i = 0; i < ncp; i++) {
            if (cps[i] < n)
                delta++;
            if (cps[i] != n)
                continue;
            for (uint32_t q = delta, k = 36;; k += 36) {
                uint32_t t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;

                if (o + 2 >= cap)
                    die("public suffix list: label too long");
                if (q < t) {
                    out[o++] = punycode_digit(q);
                    break;
                }
                out[o++] = punycode_digit(t + (q - t) % (36 - t));
                q = (q - t) / (36 - t);
            }
            /* bias adaptation */
            delta = h == b ? delta / 700 : delta / 2;
            delta += delta / (h + 1);
            for (bias = 0; delta > 455; bias += 36)
                delta /= 35;
            bias += 36 * delta / (delta + 38);
            delta = 0;
            h++;
        }
        delta++;
        n++;
    }
    out[o] = '\0';
}

static void add_tld(const char *t)
{
    for (size_t i = 0; i < ntlds; i++)
        if (strcmp(tlds[i], t) == 0)
            return;
    PUSH(tlds, ntlds, ctlds, dup_str(t));
}

static void read_psl(const char *path)
{
    char *line = NULL;
    size_t cap = 0;
    FILE *f = fopen(path, "r");

    snprintf(where, sizeof(where), "%s", path);
    if (f == NULL)
        die("%s", strerror(errno));
    while (getline(&line, &cap, f) != -1) {
        char *t = trim(line), *dot, buf[128];
        bool ascii = true;

        if (t[0] == '\0' || (t[0] == '/' && t[1] == '/'))
            continue;
        t[strcspn(t, " \t")] = '\0';
        dot = strrchr(t, '.');
        t = dot ? dot + 1 : t + (t[0] == '!');
        for (char *c = t; *c; c++) {
            if ((unsigned char)*c >= 0x80)
                ascii = false;
            else if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        }
        if (t[0] == '\0' || strcmp(t, "*") == 0)
            continue;
        add_tld(t);
        if (!ascii) {
            punycode(t, buf, sizeof(buf));
            add_tld(buf);
        }
    }
    free(line);
    fclose(f);
    where[0] = '\0';
    if (ntlds < 100)
        die("%s: fewer than 100 top-level domains, not a Public Suffix List", path);
}

/* ------------------------------------------------------------------ */
/* The index and the output.                                           */

static size_t stem_head_count[SCAN_LANG_COUNT];
/* keys[0]: terms, keys[1]: negative cues, keys[2]: the members of one list. */
static struct key *keys[3];
static size_t nkeys[3], ckeys[3];

static void add_key(int which, char type, const char *k, unsigned rule)
{
    struct key e;
    size_t n = strlen(k);

    e.key = malloc(n + 2);
    if (e.key == NULL)
        die("out of memory");
    e.key[0] = type;
    memcpy(e.key + 1, k, n + 1);
    e.rule = rule;
    PUSH(keys[which], nkeys[which], ckeys[which], e);
}

/* Adds the keys a pattern's first position can start with. */
static void index_pattern(int which, unsigned pat, unsigned rule, int depth)
{
    const struct pos *p = &positions[patterns[pat].first];

    if (depth > MAX_DEPTH)
        die("lists nested deeper than %d (or a list that holds itself)", MAX_DEPTH);
    for (unsigned a = 0; a < p->nalt; a++) {
        const struct elem *e = &elems[p->first + a];

        switch (e->kind) {
        case LEX_STEM:
            add_key(which, e->lang == SCAN_LANG_FR ? 'f' : 'e', e->key, rule);
            break;
        case LEX_EXACT:
            add_key(which, 'x', e->key, rule);
            break;
        case LEX_PREFIX:
            add_key(which, 'p', e->key, rule);
            break;
        case LEX_NUMBER:
            add_key(which, 'n', "", rule);
            break;
        case LEX_LIST:
            for (size_t m = 0; m < lists[e->arg].n; m++)
                index_pattern(which, lists[e->arg].members[m], rule, depth + 1);
            break;
        default:
            die("a pattern starts with a gap");
        }
    }
}

static int key_cmp(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    return c ? c : (x->rule > y->rule) - (x->rule < y->rule);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_str(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            fprintf(o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f || c == '?')
            fprintf(o, "\\%03o", c);
        else
            fputc(c, o);
    }
    fputc('"', o);
}

static void put_comment(FILE *o, const char *s)
{
    fputs("    /* ", o);
    for (; *s; s++)
        fputc(s[0] == '*' && s[1] == '/' ? '+' : *s, o);
    fputs(" */\n", o);
}

static void write_keys(FILE *o, const char *name, const char *count, int which)
{
    size_t n = 0;

    qsort(keys[which], nkeys[which], sizeof(struct key), key_cmp);
    fprintf(o, "const struct lex_key %s[] = {\n", name);
    for (size_t i = 0; i < nkeys[which]; i++) {
        if (i > 0 && key_cmp(&keys[which][i - 1], &keys[which][i]) == 0)
            continue;
        fputs("    {", o);
        put_str(o, keys[which][i].key);
        fprintf(o, ", %u},\n", keys[which][i].rule);
        n++;
    }
    fprintf(o, "    {\"\", 0},\n};\nconst size_t %s = %zu;\n\n", count, n);
}

/* The first LEX_STEM_HEAD letters of the stem keys of each language, sorted, once each. */
static void write_stem_heads(FILE *o)
{
    char **heads = NULL;
    size_t n, cap = 0;

    fputs("const char *const lex_stem_heads[2][1024] = {\n", o);
    for (int l = 0; l < SCAN_LANG_COUNT; l++) {
        n = 0;
        for (size_t i = 0; i < nelems; i++) {
            bool seen = false;

            if (elems[i].kind != LEX_STEM || elems[i].lang != l)
                continue;
            if (strlen(elems[i].key) < LEX_STEM_HEAD + 1)
                die("stem '%s' shorter than %d letters", elems[i].key, LEX_STEM_HEAD + 1);
            for (size_t j = 0; j < n && !seen; j++)
                seen = strncmp(heads[j], elems[i].key, LEX_STEM_HEAD) == 0;
            if (!seen)
                PUSH(heads, n, cap, elems[i].key);
        }
        if (n > 1024)
            die("more than 1024 stem heads");
        qsort(heads, n, sizeof(char *), str_cmp);
        fputs("    {\n", o);
        for (size_t j = 0; j < n; j++)
            fprintf(o, "        \"%.*s\",\n", LEX_STEM_HEAD, heads[j]);
        fprintf(o, "    },\n");
        stem_head_count[l] = n;
    }
    fprintf(o, "};\nconst size_t lex_stem_head_count[2] = {%zu, %zu};\n\n", stem_head_count[0],
            stem_head_count[1]);
    free(heads);
}

/* Each list's members by the keys of their first word, list after list. */
static void write_list_keys(FILE *o)
{
    size_t total = 0;

    fputs("const struct lex_key lex_list_keys[] = {\n", o);
    for (size_t l = 0; l < nlists; l++) {
        for (size_t i = 0; i < nkeys[2]; i++)
            free(keys[2][i].key);
        nkeys[2] = 0;
        for (size_t m = 0; m < lists[l].n; m++)
            index_pattern(2, lists[l].members[m], lists[l].members[m], 0);
        qsort(keys[2], nkeys[2], sizeof(struct key), key_cmp);
        lists[l].kfirst = total;
        for (size_t i = 0, same = 0; i < nkeys[2]; i++) {
            if (i > 0 && key_cmp(&keys[2][i - 1], &keys[2][i]) == 0)
                continue;
            same = i > 0 && strcmp(keys[2][i - 1].key, keys[2][i].key) == 0 ? same + 1 : 1;
            if (same > LIST_TRY_MAX)
                die("list @%s: more than %d members start with one word", lists[l].name,
                    LIST_TRY_MAX);
            fputs("    {", o);
            put_str(o, keys[2][i].key);
            fprintf(o, ", %u},\n", keys[2][i].rule);
            total++;
        }
        lists[l].kcount = total - lists[l].kfirst;
    }
    fputs("    {\"\", 0},\n};\n\n", o);
}

static void write_output(const char *path)
{
    FILE *o = fopen(path, "w");
    size_t prefix_max = 0, members = 0;

    where[0] = '\0';
    if (o == NULL)
        die("%s: %s", path, strerror(errno));
    fputs("/* Written by scan-lexgen from client-lib/lexicon and the Public Suffix List. */\n"
          "#include \"scan_lexicon.h\"\n\n",
          o);
    fputs("const struct lex_elem lex_elems[] = {\n", o);
    for (size_t i = 0; i < nelems; i++) {
        fprintf(o, "    {%u, %u, %u, ", elems[i].kind, elems[i].lang, elems[i].arg);
        if (elems[i].key)
            put_str(o, elems[i].key);
        else
            fputs("0", o);
        fputs("},\n", o);
        if (elems[i].kind == LEX_PREFIX && strlen(elems[i].key) > prefix_max)
            prefix_max = strlen(elems[i].key);
    }
    fprintf(o, "};\nconst size_t lex_prefix_max = %zu;\n\n", prefix_max);
    write_stem_heads(o);
    fputs("const struct lex_pos lex_positions[] = {\n", o);
    for (size_t i = 0; i < npositions; i++)
        fprintf(o, "    {%u, %u, %u},\n", positions[i].first, positions[i].nalt,
                positions[i].optional);
    fputs("};\n\nconst struct lex_pattern lex_patterns[] = {\n", o);
    for (size_t i = 0; i < npatterns; i++)
        fprintf(o, "    {%u, %u},\n", patterns[i].first, patterns[i].npos);
    fputs("};\n\n", o);
    write_list_keys(o);
    fputs("const struct lex_list lex_lists[] = {\n", o);
    for (size_t i = 0; i < nlists; i++) {
        fprintf(o, "    {%zu, %zu, %zu, %zu}, /* @%s (%s) */\n", members, lists[i].n,
                lists[i].kfirst, lists[i].kcount, lists[i].name, lang_names[lists[i].lang]);
        members += lists[i].n;
    }
    fputs("    {0, 0, 0, 0},\n};\n\nconst unsigned lex_list_members[] = {\n", o);
    for (size_t i = 0; i < nlists; i++)
        for (size_t m = 0; m < lists[i].n; m++)
            fprintf(o, "    %u,\n", lists[i].members[m]);
    fputs("    0,\n};\n\nconst struct lex_rule lex_rules[] = {\n", o);
    for (size_t i = 0; i < nrules; i++) {
        put_comment(o, rules[i].source);
        fprintf(o, "    {%u, %u, %u, %u, %u, %u},\n", rules[i].pattern, rules[i].category,
                rules[i].kind, rules[i].confidence, rules[i].near, rules[i].cond);
    }
    fprintf(o, "};\nconst size_t lex_rule_count = %zu;\n\n", nrules);
    write_keys(o, "lex_term_keys", "lex_term_key_count", 0);
    write_keys(o, "lex_veto_keys", "lex_veto_key_count", 1);
    qsort(tlds, ntlds, sizeof(char *), str_cmp);
    fputs("const char *const lex_tlds[] = {\n", o);
    for (size_t i = 0; i < ntlds; i++) {
        fputs("    ", o);
        put_str(o, tlds[i]);
        fputs(",\n", o);
    }
    fprintf(o, "};\nconst size_t lex_tld_count = %zu;\n", ntlds);
    if (fclose(o) != 0)
        die("%s: write failed", path);
}

static void release(void)
{
    for (size_t i = 0; i < nelems; i++)
        free(elems[i].key);
    for (size_t i = 0; i < nlists; i++) {
        free(lists[i].name);
        free(lists[i].members);
        free((char *)lists[i].where);
    }
    for (size_t i = 0; i < nrules; i++)
        free(rules[i].source);
    for (int w = 0; w < 3; w++) {
        for (size_t i = 0; i < nkeys[w]; i++)
            free(keys[w][i].key);
        free(keys[w]);
    }
    for (size_t i = 0; i < ntlds; i++)
        free(tlds[i]);
    free(elems);
    free(positions);
    free(patterns);
    free(lists);
    free(rules);
    free(tlds);
    for (int l = 0; l < SCAN_LANG_COUNT; l++)
        scan_stemmer_free(stemmers[l]);
}

int main(int argc, char **argv)
{
    const char *out = NULL, *psl = NULL;
    int first = 1;

    while (first + 1 < argc && argv[first][0] == '-') {
        if (strcmp(argv[first], "--out") == 0)
            out = argv[first + 1];
        else if (strcmp(argv[first], "--psl") == 0)
            psl = argv[first + 1];
        else
            break;
        first += 2;
    }
    if (out == NULL || psl == NULL || first >= argc) {
        fputs("usage: scan-lexgen --psl public_suffix_list.dat --out lexicon.c FILE.lex...\n",
              stderr);
        return 2;
    }
    for (int l = 0; l < SCAN_LANG_COUNT; l++)
        if ((stemmers[l] = scan_stemmer_new((enum scan_lang)l)) == NULL)
            die("cannot create the %s stemmer", lang_names[l]);
    for (int i = first; i < argc; i++)
        read_lexicon(argv[i]);
    for (size_t i = 0; i < nlists; i++)
        if (lists[i].n == 0)
            die("%s: list @%s (%s) is used but never defined",
                lists[i].where ? lists[i].where : "?", lists[i].name,
                lang_names[lists[i].lang]);
    for (size_t i = 0; i < nlists; i++)
        for (size_t m = 0; m < lists[i].n; m++)
            index_pattern(0, lists[i].members[m], 0, 0); /* checks nesting only */
    for (size_t i = 0; i < nkeys[0]; i++)
        free(keys[0][i].key);
    nkeys[0] = 0;
    for (size_t r = 0; r < nrules; r++)
        index_pattern(rules[r].kind == LEX_RULE_TERM ? 0 : 1, rules[r].pattern, (unsigned)r, 0);
    read_psl(psl);
    write_output(out);
    release();
    return 0;
}
