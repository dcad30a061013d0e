/*
 * Stemming for the sensitive-data guard: Snowball's English and French
 * stemmers (libstemmer), behind the small interface of scan_internal.h so
 * that another build (WebAssembly) can link Snowball's sources instead.
 * A stemmer keeps a working buffer: one per language per scan, never
 * shared between threads.
 */
#include <libstemmer.h>
#include <stdlib.h>
#include <string.h>

#include "scan_internal.h"

struct scan_stemmer {
    struct sb_stemmer *sb;
};

struct scan_stemmer *scan_stemmer_new(enum scan_lang lang)
{
    struct scan_stemmer *st = malloc(sizeof(*st));

    if (st == NULL)
        return NULL;
    st->sb = sb_stemmer_new(lang == SCAN_LANG_FR ? "french" : "english", "UTF_8");
    if (st->sb == NULL) {
        free(st);
        return NULL;
    }
    return st;
}

void scan_stemmer_free(struct scan_stemmer *st)
{
    if (st == NULL)
        return;
    /* Leave a word of no meaning in Snowball's buffer, not the last one scanned. */
    (void)sb_stemmer_stem(st->sb, (const sb_symbol *)"x", 1);
    sb_stemmer_delete(st->sb);
    free(st);
}

bool scan_stem(struct scan_stemmer *st, const char *word, size_t n, char *out, size_t cap)
{
    const sb_symbol *r;
    int rn;

    if (cap == 0)
        return false;
    out[0] = '\0';
    if (n > (size_t)INT32_MAX)
        return false;
    r = sb_stemmer_stem(st->sb, (const sb_symbol *)word, (int)n);
    if (r == NULL)
        return false;
    rn = sb_stemmer_length(st->sb);
    if (rn < 0 || (size_t)rn + 1 > cap)
        return false;
    memcpy(out, r, (size_t)rn);
    out[rn] = '\0';
    return true;
}
