/*
 * The special categories of GDPR art. 9, found by the compiled lexicons
 * (scan_lexicon.h, from the data files in client-lib/lexicon/). A text is
 * read as words, each folded for case and accents and stemmed in English
 * and French; the words are taken a sentence at a time (long sentences in
 * overlapping windows), every rule whose first word can start at a word
 * is tried there, and a term is kept unless a negative cue overlaps it
 * ("not") or sits in its sentence ("unless"), and only if its context
 * cue comes before it in the sentence ("near") and its condition holds
 * somewhere in the text ("if").
 *
 * Cost: each word is stemmed twice and looked up in a sorted index; a
 * rule's match is bounded by the pattern's length (patterns have at most
 * 16 positions and two 3-word gaps, lists nest at most 3 deep) and by a
 * step budget, so the scan stays linear in the text whatever it holds.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "scan_internal.h"
#include "scan_lexicon.h"

#define SPECIAL_COUNT (PARLEY_SCAN_BIOMETRIC + 1)
#define CHUNK_MAX 160   /* words read at once: one sentence, or a window of a long one */
#define OVERLAP 32      /* words shared by two windows of one sentence (> a pattern's span) */
#define CUE_WINDOW 12   /* a "near" cue ends at most this many words before its term */
#define STEP_BUDGET 4096 /* word comparisons allowed for one rule at one word */
#define COND_CACHE 16
#define LIST_TRY_MAX 64  /* members of one list a word can start (the generator checks) */
#define NONE ((size_t)-1)

/* Reads a text as chunks of words, each with its range to report. */
struct chunker {
    struct scan_token tok[CHUNK_MAX];
    size_t n;
    size_t from, to; /* report findings starting at words [from, to) */
    size_t pos;      /* bytes read so far */
    struct scan_token pending;
    bool have_pending;
    bool done;
    size_t used; /* words ever held, to wipe */
};

struct lex_ctx {
    const unsigned char *s;
    size_t len;
    struct scan_stemmer *stem[SCAN_LANG_COUNT];
    struct chunker *aux; /* for "if" conditions, read through the whole text; made on need */
    bool out_of_memory;
    struct chunker main;
    unsigned char reach[SPECIAL_COUNT][CHUNK_MAX];
    bool unless[SPECIAL_COUNT];
    unsigned cond_list[COND_CACHE];
    bool cond_value[COND_CACHE];
    size_t ncond;
    bool has_last[SPECIAL_COUNT];
    size_t last_start[SPECIAL_COUNT];
    size_t last_end[SPECIAL_COUNT];
    unsigned steps;
    unsigned serial;  /* one per word looked up */
    unsigned *stamp;  /* lex_rule_count entries: the serial a rule was last tried at */
    unsigned *tried;  /* lex_rule_count entries: the rules to try at the current word */
    size_t ntried;
};

/* ------------------------------------------------------------------ */
/* Words.                                                              */

/* True when some stem key of lang starts like the folded word w (4 letters or more). */
static bool stem_head_known(int lang, const char *w)
{
    return scan_sorted_has(lex_stem_heads[lang], lex_stem_head_count[lang], w, LEX_STEM_HEAD);
}

static void stem_token(struct lex_ctx *x, struct scan_token *t)
{
    for (int l = 0; l < SCAN_LANG_COUNT; l++) {
        t->stem[l][0] = '\0';
        if (t->kind != SCAN_TOKEN_WORD || t->digits || t->too_long)
            continue;
        /* Stems keep a word's start; keys have 4 letters or more. */
        if (strlen(t->fold) <= LEX_STEM_HEAD || !stem_head_known(l, t->fold))
            continue;
        if (!scan_stem(x->stem[l], t->fold, strlen(t->fold), t->stem[l], SCAN_KEY_MAX))
            t->stem[l][0] = '\0'; /* no stem: the word matches by its folded form only */
    }
}

static void chunker_init(struct chunker *c)
{
    c->used = 0;
    c->n = 0;
    c->from = 0;
    c->to = 0;
    c->pos = 0;
    c->have_pending = false;
    c->done = false;
}

/*
 * The next chunk: the words up to the next sentence mark, at most
 * CHUNK_MAX. A sentence cut at CHUNK_MAX goes on in a window that
 * repeats its last 2 * OVERLAP words, so that every word is reported
 * once with at least OVERLAP words of context on each side.
 */
static bool chunk_next(struct lex_ctx *x, struct chunker *c)
{
    bool cut;

    if (c->done)
        return false;
    if (c->to > 0 && c->n == CHUNK_MAX && c->to == CHUNK_MAX - OVERLAP) {
        memmove(c->tok, c->tok + CHUNK_MAX - 2 * OVERLAP, 2 * OVERLAP * sizeof(c->tok[0]));
        c->n = 2 * OVERLAP;
        c->from = OVERLAP;
    } else {
        c->n = 0;
        c->from = 0;
    }
    while (c->n < CHUNK_MAX) {
        bool sentence;

        if (c->have_pending) {
            c->tok[c->n++] = c->pending;
            c->have_pending = false;
            continue;
        }
        if (!scan_next_token(x->s, x->len, &c->pos, &c->pending, &sentence)) {
            c->done = true;
            break;
        }
        stem_token(x, &c->pending);
        if (sentence && c->n > 0) {
            c->have_pending = true;
            break;
        }
        c->tok[c->n++] = c->pending;
    }
    if (c->n > c->used)
        c->used = c->n;
    cut = c->n == CHUNK_MAX && !c->have_pending && !c->done;
    c->to = cut ? CHUNK_MAX - OVERLAP : c->n;
    return c->n > c->from || cut;
}

/* ------------------------------------------------------------------ */
/* Patterns.                                                           */

static bool elem_matches(const struct lex_elem *e, const struct scan_token *t)
{
    switch (e->kind) {
    case LEX_STEM:
        return t->kind == SCAN_TOKEN_WORD && !t->too_long && t->stem[e->lang][0] != '\0' &&
               strcmp(t->stem[e->lang], e->key) == 0 && strlen(t->fold) >= e->arg;
    case LEX_EXACT:
        return !t->too_long && strcmp(t->fold, e->key) == 0;
    case LEX_PREFIX:
        return t->kind == SCAN_TOKEN_WORD && strncmp(t->fold, e->key, strlen(e->key)) == 0;
    case LEX_NUMBER:
        return t->kind == SCAN_TOKEN_WORD && t->digits;
    default:
        return false;
    }
}

static size_t match_pattern(struct lex_ctx *x, const struct chunker *c, unsigned pat, size_t i,
                            bool adjacent);
static size_t list_candidates(unsigned list, const struct scan_token *w,
                              unsigned out[LIST_TRY_MAX]);

/*
 * The longest match of positions [k, npos) of pattern pat from word i,
 * as the index after its last word, or NONE. adjacent: word i must not
 * follow punctuation (it continues a phrase); a gap lifts that.
 */
static size_t match_from(struct lex_ctx *x, const struct chunker *c, const struct lex_pattern *p,
                         unsigned k, size_t i, bool adjacent)
{
    const struct lex_pos *pos;
    size_t best = NONE;

    if (k == p->npos)
        return i;
    if (x->steps == 0)
        return NONE;
    x->steps--;
    pos = &lex_positions[p->first + k];
    if (pos->optional)
        best = match_from(x, c, p, k + 1, i, adjacent);
    for (unsigned a = 0; a < pos->nalt; a++) {
        const struct lex_elem *e = &lex_elems[pos->first + a];
        size_t r = NONE;

        if (e->kind == LEX_GAP) {
            for (size_t g = 0; g <= e->arg && i + g <= c->n; g++) {
                size_t q = match_from(x, c, p, k + 1, i + g, adjacent && g == 0);

                if (q != NONE && (best == NONE || q > best))
                    best = q;
            }
            continue;
        }
        if (i >= c->n || (adjacent && c->tok[i].brk))
            continue;
        if (e->kind == LEX_LIST) {
            unsigned members[LIST_TRY_MAX];
            size_t nm = list_candidates(e->arg, &c->tok[i], members);

            for (size_t m = 0; m < nm; m++) {
                size_t q = match_pattern(x, c, members[m], i, adjacent);

                if (q != NONE)
                    q = match_from(x, c, p, k + 1, q, true);
                if (q != NONE && (r == NONE || q > r))
                    r = q;
            }
        } else if (elem_matches(e, &c->tok[i])) {
            r = match_from(x, c, p, k + 1, i + 1, true);
        }
        if (r != NONE && (best == NONE || r > best))
            best = r;
    }
    return best;
}

static size_t match_pattern(struct lex_ctx *x, const struct chunker *c, unsigned pat, size_t i,
                            bool adjacent)
{
    return match_from(x, c, &lex_patterns[pat], 0, i, adjacent);
}

/* A rule tried at word i, within a fresh step budget. */
static size_t match_rule(struct lex_ctx *x, const struct chunker *c, unsigned rule, size_t i)
{
    x->steps = STEP_BUDGET;
    return match_pattern(x, c, lex_rules[rule].pattern, i, false);
}

/* True when some pattern of list ends after word from and at most at word i, in this chunk. */
static bool list_before(struct lex_ctx *x, const struct chunker *c, unsigned list, size_t i)
{
    size_t lo = i > CUE_WINDOW ? i - CUE_WINDOW : 0;

    for (size_t j = i; j-- > lo;) {
        unsigned members[LIST_TRY_MAX];
        size_t nm = list_candidates(list, &c->tok[j], members);

        for (size_t m = 0; m < nm; m++) {
            size_t e;

            x->steps = STEP_BUDGET;
            e = match_pattern(x, c, members[m], j, false);
            if (e != NONE && e <= i)
                return true;
        }
    }
    return false;
}

/* True when some pattern of list matches anywhere in the text (cached per scan). */
static bool list_in_text(struct lex_ctx *x, unsigned list)
{
    bool found = false;

    for (size_t i = 0; i < x->ncond; i++)
        if (x->cond_list[i] == list)
            return x->cond_value[i];
    if (x->aux == NULL && (x->aux = malloc(sizeof(*x->aux))) == NULL) {
        x->out_of_memory = true;
        return false;
    }
    chunker_init(x->aux);
    while (!found && chunk_next(x, x->aux))
        for (size_t i = x->aux->from; !found && i < x->aux->to; i++) {
            unsigned members[LIST_TRY_MAX];
            size_t nm = list_candidates(list, &x->aux->tok[i], members);

            for (size_t m = 0; !found && m < nm; m++) {
                x->steps = STEP_BUDGET;
                found = match_pattern(x, x->aux, members[m], i, false) != NONE;
            }
        }
    explicit_bzero(x->aux->tok, x->aux->used * sizeof(x->aux->tok[0]));
    if (x->ncond < COND_CACHE) {
        x->cond_list[x->ncond] = list;
        x->cond_value[x->ncond++] = found;
    }
    return found;
}

/* ------------------------------------------------------------------ */
/* The index.                                                          */

/* First entry of keys[0, n) whose key is >= k. */
static size_t key_lower_bound(const struct lex_key *keys, size_t n, const char *k)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(keys[mid].key, k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Adds the members of keys[0, n) filed under key to out (each once); returns the new count. */
static size_t list_lookup(const struct lex_key *keys, size_t n, const char *key,
                          unsigned out[LIST_TRY_MAX], size_t nout)
{
    for (size_t i = key_lower_bound(keys, n, key); i < n && strcmp(keys[i].key, key) == 0; i++) {
        bool seen = false;

        for (size_t j = 0; j < nout && !seen; j++)
            seen = out[j] == keys[i].rule;
        if (!seen && nout < LIST_TRY_MAX)
            out[nout++] = keys[i].rule;
    }
    return nout;
}

/* Builds the index keys of a word ("e"+stem, "f"+stem, "x"+form, "n", "p"+prefix) for each. */
static void word_keys(const struct scan_token *w, void (*each)(const char *key, void *arg),
                      void *arg)
{
    char key[SCAN_KEY_MAX + 1];
    size_t flen = strlen(w->fold);

    for (int l = 0; l < SCAN_LANG_COUNT; l++)
        if (w->stem[l][0] != '\0') {
            key[0] = l == SCAN_LANG_FR ? 'f' : 'e';
            memcpy(key + 1, w->stem[l], strlen(w->stem[l]) + 1);
            each(key, arg);
        }
    key[0] = 'x';
    memcpy(key + 1, w->fold, flen + 1);
    each(key, arg);
    if (w->digits)
        each("n", arg);
    for (size_t k = 3; k <= flen && k <= lex_prefix_max; k++) {
        key[0] = 'p';
        memcpy(key + 1, w->fold, k);
        key[k + 1] = '\0';
        each(key, arg);
    }
}

struct list_lookup_arg {
    const struct lex_list *list;
    unsigned *out;
    size_t n;
};

static void list_lookup_each(const char *key, void *arg)
{
    struct list_lookup_arg *a = arg;

    a->n = list_lookup(lex_list_keys + a->list->kfirst, a->list->kcount, key, a->out, a->n);
}

/* The members of list whose first word can be w, into out; returns their count. */
static size_t list_candidates(unsigned list, const struct scan_token *w,
                              unsigned out[LIST_TRY_MAX])
{
    struct list_lookup_arg a = {&lex_lists[list], out, 0};

    word_keys(w, list_lookup_each, &a);
    return a.n;
}

/* Adds the rules filed under key to x->tried, each once per word. */
static void lookup(struct lex_ctx *x, const struct lex_key *keys, size_t n, const char *key)
{
    for (size_t i = key_lower_bound(keys, n, key); i < n && strcmp(keys[i].key, key) == 0; i++) {
        unsigned r = keys[i].rule;

        if (x->stamp[r] != x->serial) {
            x->stamp[r] = x->serial;
            x->tried[x->ntried++] = r;
        }
    }
}

struct rule_lookup_arg {
    struct lex_ctx *x;
    const struct lex_key *keys;
    size_t n;
};

static void rule_lookup_each(const char *key, void *arg)
{
    struct rule_lookup_arg *a = arg;

    lookup(a->x, a->keys, a->n, key);
}

/* Sets x->tried to the rules of an index whose first position the word can match. */
static void candidates(struct lex_ctx *x, const struct lex_key *keys, size_t n,
                       const struct scan_token *w)
{
    struct rule_lookup_arg a = {x, keys, n};

    x->ntried = 0;
    if (++x->serial == 0) {
        memset(x->stamp, 0, lex_rule_count * sizeof(*x->stamp));
        x->serial = 1;
    }
    word_keys(w, rule_lookup_each, &a);
}

/* ------------------------------------------------------------------ */
/* One chunk.                                                          */

static void find_vetoes(struct lex_ctx *x, const struct chunker *c)
{
    memset(x->reach, 0, sizeof(x->reach));
    memset(x->unless, 0, sizeof(x->unless));
    for (size_t i = 0; i < c->n; i++) {
        candidates(x, lex_veto_keys, lex_veto_key_count, &c->tok[i]);
        for (size_t r = 0; r < x->ntried; r++) {
            const struct lex_rule *rule = &lex_rules[x->tried[r]];
            size_t e;

            if (rule->category >= SPECIAL_COUNT)
                continue;
            if (rule->kind == LEX_RULE_UNLESS && x->unless[rule->category])
                continue;
            e = match_rule(x, c, x->tried[r], i);
            if (e == NONE)
                continue;
            if (rule->kind == LEX_RULE_UNLESS)
                x->unless[rule->category] = true;
            else if (e > x->reach[rule->category][i])
                x->reach[rule->category][i] = (unsigned char)e;
        }
    }
    /* reach[c][i]: the furthest end of a "not" match starting at or before word i */
    for (unsigned cat = 0; cat < SPECIAL_COUNT; cat++)
        for (size_t i = 1; i < c->n; i++)
            if (x->reach[cat][i - 1] > x->reach[cat][i])
                x->reach[cat][i] = x->reach[cat][i - 1];
}

/* True if s[from, to) holds only blanks and dashes: two hits so joined are one. */
static bool only_spaces(const unsigned char *s, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '-')
            return false;
    return true;
}

static void emit(struct lex_ctx *x, struct scan_sink *k, unsigned cat, size_t p, size_t e,
                 unsigned conf)
{
    if (scan_sink_covers_identifier(k, p, e))
        return;
    if (x->has_last[cat] && (x->last_end[cat] > p || (p - x->last_end[cat] <= 2 &&
                                                      only_spaces(x->s, x->last_end[cat], p)))) {
        scan_sink_widen(k, (parley_scan_category)cat, x->last_start[cat], e, conf);
        if (e > x->last_end[cat])
            x->last_end[cat] = e;
        return;
    }
    scan_sink_add(k, (parley_scan_category)cat, p, e, conf);
    x->has_last[cat] = true;
    x->last_start[cat] = p;
    x->last_end[cat] = e;
}

static void find_terms(struct lex_ctx *x, const struct chunker *c, struct scan_sink *k)
{
    for (size_t i = c->from; i < c->to; i++) {
        size_t best_end[SPECIAL_COUNT] = {0};
        unsigned best_conf[SPECIAL_COUNT] = {0};

        candidates(x, lex_term_keys, lex_term_key_count, &c->tok[i]);
        for (size_t r = 0; r < x->ntried; r++) {
            const struct lex_rule *rule = &lex_rules[x->tried[r]];
            unsigned cat = rule->category;
            size_t e;

            if (cat >= SPECIAL_COUNT || x->unless[cat])
                continue;
            e = match_rule(x, c, x->tried[r], i);
            if (e == NONE || e <= best_end[cat] || x->reach[cat][e - 1] > i)
                continue;
            if (rule->near != LEX_NO_LIST && !list_before(x, c, rule->near, i))
                continue;
            if (rule->cond != LEX_NO_LIST && !list_in_text(x, rule->cond))
                continue;
            best_end[cat] = e;
            best_conf[cat] = rule->confidence;
        }
        for (unsigned cat = 0; cat < SPECIAL_COUNT; cat++)
            if (best_end[cat] > 0)
                emit(x, k, cat, c->tok[i].start, c->tok[best_end[cat] - 1].end, best_conf[cat]);
    }
}

parley_err scan_special(const unsigned char *s, size_t len, struct scan_sink *k)
{
    struct lex_ctx *x = malloc(sizeof(*x));
    parley_err err = PARLEY_OK;

    if (x == NULL)
        return PARLEY_ENOMEM;
    /* Everything but the words, which chunk_next() fills before they are read. */
    memset(x, 0, offsetof(struct lex_ctx, main));
    memset((char *)x + offsetof(struct lex_ctx, reach), 0,
           sizeof(*x) - offsetof(struct lex_ctx, reach));
    chunker_init(&x->main);
    x->stamp = calloc(lex_rule_count, sizeof(*x->stamp));
    x->tried = calloc(lex_rule_count, sizeof(*x->tried));
    if (x->stamp == NULL || x->tried == NULL)
        err = PARLEY_ENOMEM;
    x->s = s;
    x->len = len;
    for (int l = 0; l < SCAN_LANG_COUNT && err == PARLEY_OK; l++)
        if ((x->stem[l] = scan_stemmer_new((enum scan_lang)l)) == NULL)
            err = PARLEY_ENOMEM;
    if (err == PARLEY_OK) {
        while (chunk_next(x, &x->main)) {
            find_vetoes(x, &x->main);
            find_terms(x, &x->main, k);
        }
        if (x->out_of_memory)
            err = PARLEY_ENOMEM;
    }
    for (int l = 0; l < SCAN_LANG_COUNT; l++)
        scan_stemmer_free(x->stem[l]);
    free(x->stamp);
    free(x->tried);
    /* The words of the text were copied here: gone before the memory is. */
    explicit_bzero(x->main.tok, x->main.used * sizeof(x->main.tok[0]));
    explicit_bzero(&x->main.pending, sizeof(x->main.pending));
    if (x->aux != NULL) {
        explicit_bzero(&x->aux->pending, sizeof(x->aux->pending));
        free(x->aux);
    }
    free(x);
    return err;
}
