/*
 * Verifying an audit chain across segment files (parley-audit only), so
 * that a data-protection officer can detect any entry or batch altered,
 * reordered or removed, and sees every gap the relay itself recorded. One
 * hash per batch: an entry is read into its batch's hash, checked at the
 * batch's last line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "audit_impl.h"

struct vfile {
    const char *path;
    uint64_t first_seq;
    bool dated; /* first line parsed */
    size_t order;
};

static int vfile_cmp(const void *x, const void *y)
{
    const struct vfile *a = x, *b = y;

    if (a->dated != b->dated)
        return a->dated ? -1 : 1;
    if (a->dated && a->first_seq != b->first_seq)
        return a->first_seq < b->first_seq ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Reads the first line of path; -1 if it cannot be opened. */
static int first_entry(const char *path, struct audit_line *l, bool *parsed)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    *parsed = false;
    if (f == NULL)
        return -1;
    n = getline(&line, &cap, f);
    if (n > 1 && line[n - 1] == '\n')
        *parsed = audit_line_parse(line, (size_t)n - 1, l) == 0;
    free(line);
    fclose(f);
    return 0;
}

struct vstate {
    FILE *out;
    const char *path;
    uint64_t line_no;
    bool seq_known;
    uint64_t expected;
    uint8_t prev[AUDIT_HASH_BYTES]; /* the last batch's hash */
    /* The batch being read: its hash so far, its first entry and line. */
    bool in_batch;
    crypto_generichash_state st;
    uint64_t batch_seq, batch_line;
};

static int vfail(const struct vstate *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int vfail(const struct vstate *v, const char *fmt, ...)
{
    va_list ap;

    if (v->seq_known)
        fprintf(v->out, "FAIL at entry seq %" PRIu64 " (line %" PRIu64 " of %s): ", v->expected,
                v->line_no, v->path);
    else
        fprintf(v->out, "FAIL at line %" PRIu64 " of %s: ", v->line_no, v->path);
    va_start(ap, fmt);
    vfprintf(v->out, fmt, ap);
    va_end(ap);
    fputc('\n', v->out);
    return 1;
}

/* After a seq that jumps ahead: is the missing entry the next line (a swap) or gone? */
static bool next_is(FILE *f, uint64_t seq)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    struct audit_line l;
    bool yes = n > 1 && line[n - 1] == '\n' && audit_entry_parse(line, (size_t)n - 1, &l) == 0 &&
               l.seq == seq;

    free(line);
    return yes;
}

/* Where the entry's seq belongs; 0, or 1 (a failure printed). */
static int check_seq(struct vstate *v, FILE *f, const struct audit_line *l)
{
    if (l->seq > v->expected && next_is(f, v->expected))
        return vfail(v,
                     "reordered: found seq %" PRIu64 " where seq %" PRIu64 " belongs (it comes next)",
                     l->seq, v->expected);
    if (l->seq > v->expected)
        return vfail(v, "seq gap: found seq %" PRIu64 ", expected %" PRIu64 " (entries missing)",
                     l->seq, v->expected);
    if (l->seq < v->expected)
        return vfail(v, "reordered: found seq %" PRIu64 " again or out of place", l->seq);
    return 0;
}

/*
 * Adds the entry to its batch's hash; at the batch's last entry (sealed),
 * checks that it chains to the batch before and that the hash covers
 * every line of the batch as read.
 */
static int hash_entry(struct vstate *v, const char *line, size_t len, const struct audit_line *l)
{
    uint8_t h[AUDIT_HASH_BYTES];
    char hex[AUDIT_HEX_BYTES];

    if (!v->in_batch) {
        crypto_generichash_init(&v->st, NULL, 0, AUDIT_HASH_BYTES);
        crypto_generichash_update(&v->st, v->prev, AUDIT_HASH_BYTES);
        v->in_batch = true;
        v->batch_seq = l->seq;
        v->batch_line = v->line_no;
    }
    if (!l->sealed) {
        crypto_generichash_update(&v->st, (const uint8_t *)line, len);
        crypto_generichash_update(&v->st, (const uint8_t *)"\n", 1);
        return 0;
    }
    v->in_batch = false;
    if (sodium_memcmp(l->prev, v->prev, AUDIT_HASH_BYTES) != 0) {
        sodium_bin2hex(hex, sizeof(hex), v->prev, AUDIT_HASH_BYTES);
        return vfail(v, "prev mismatch: does not chain to the batch before it (%s)", hex);
    }
    crypto_generichash_update(&v->st, (const uint8_t *)line, len - HASH_MEMBER_LEN - 1);
    crypto_generichash_update(&v->st, (const uint8_t *)"}", 1);
    crypto_generichash_final(&v->st, h, sizeof(h));
    if (sodium_memcmp(h, l->hash, sizeof(h)) != 0) {
        if (v->batch_seq == l->seq)
            return vfail(v, "hash mismatch: the entry was altered");
        return vfail(v,
                     "hash mismatch: an entry of the batch seq %" PRIu64 "..%" PRIu64
                     " (lines %" PRIu64 "..%" PRIu64 ") was altered",
                     v->batch_seq, l->seq, v->batch_line, v->line_no);
    }
    memcpy(v->prev, l->hash, AUDIT_HASH_BYTES);
    return 0;
}

static int verify_entry(struct vstate *v, FILE *f, const char *line, size_t len, bool started,
                        struct audit_line *l)
{
    if (audit_entry_parse(line, len, l) != 0)
        return vfail(v, "malformed line");
    if (!started) {
        v->seq_known = true;
        v->expected = l->seq;
        memcpy(v->prev, l->prev, AUDIT_HASH_BYTES); /* the anchor (a sealed line, below) */
        if (l->seq == 1 && sodium_memcmp(l->prev, audit_genesis, AUDIT_HASH_BYTES) != 0)
            return vfail(v, "prev mismatch: entry 1 does not chain from the genesis value");
    } else if (check_seq(v, f, l) != 0) {
        return 1;
    }
    if (v->line_no == 1 && (strcmp(l->event, "segment") != 0 || !l->sealed))
        return vfail(v, "a file must begin with a segment entry, a batch of its own: entries "
                        "before it are missing");
    return hash_entry(v, line, len, l);
}

/* A file that ends inside a batch: its last entries have no hash. */
static int unsealed(struct vstate *v)
{
    fprintf(v->out,
            "FAIL at entry seq %" PRIu64 " (line %" PRIu64 " of %s): unsealed: entries seq %" PRIu64
            "..%" PRIu64 " are not followed by their batch's hash (the file was cut short, or "
            "they were added)\n",
            v->batch_seq, v->batch_line, v->path, v->batch_seq, v->expected - 1);
    return 1;
}

/* The GAP lines, printed after the verdict. */
struct gaps {
    char *text;
    size_t len, cap;
    uint64_t n, entries;
};

static void gap_append(struct gaps *g, const char *s, size_t n)
{
    if (g->len + n + 1 > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        char *grown;
        while (cap < g->len + n + 1)
            cap *= 2;
        grown = realloc(g->text, cap);
        if (grown == NULL)
            return;
        g->text = grown;
        g->cap = cap;
    }
    memcpy(g->text + g->len, s, n);
    g->len += n;
    g->text[g->len] = '\0';
}

static bool member_is(const char *name, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(name, lit, n) == 0;
}

/*
 * A gap the relay recorded: "gap" (why, entries, since, until, then the
 * count of each event lost) or, from older relays, "lost" (entries).
 * Describes it as "N entries lost between A and B (why): event n, ...".
 */
static void note_gap(struct gaps *g, const struct vstate *v, const char *line, size_t len,
                     const struct audit_line *l)
{
    const char *end = line + l->fields, *p;
    char since[32] = "", until[32] = "", why[32] = "", counts[512] = "", desc[800];
    uint64_t entries = 0;
    size_t cl = 0, nl;
    int n, vl;

    /* The members after "event":"<name>": ,"name":value up to the tail. */
    p = memmem(line, (size_t)(end - line), "\"event\":\"", 9);
    p = p != NULL ? memchr(p + 9, '"', (size_t)(end - p - 9)) : NULL;
    for (p = p != NULL ? p + 1 : end; p < end && *p == ',' && p[1] == '"';) {
        const char *name = p + 2, *ne = memchr(name, '"', (size_t)(end - name)), *val, *ve;
        if (ne == NULL || ne + 1 >= end || ne[1] != ':')
            break;
        val = ne + 2;
        if (*val == '"') {
            val++;
            ve = memchr(val, '"', (size_t)(end - val));
            if (ve == NULL)
                break;
            p = ve + 1;
        } else {
            for (ve = val; ve < end && *ve >= '0' && *ve <= '9'; ve++)
                ;
            p = ve;
        }
        nl = (size_t)(ne - name);
        vl = (int)(ve - val);
        if (member_is(name, nl, "entries"))
            entries = strtoull(val, NULL, 10);
        else if (member_is(name, nl, "since"))
            snprintf(since, sizeof(since), "%.*s", vl, val);
        else if (member_is(name, nl, "until"))
            snprintf(until, sizeof(until), "%.*s", vl, val);
        else if (member_is(name, nl, "why"))
            snprintf(why, sizeof(why), "%.*s", vl, val);
        else if (cl < sizeof(counts) &&
                 (n = snprintf(counts + cl, sizeof(counts) - cl, "%s%.*s %.*s", cl ? ", " : "",
                               (int)nl, name, vl, val)) > 0)
            cl += (size_t)n;
    }
    g->n++;
    g->entries += entries;
    n = snprintf(desc, sizeof(desc),
                 "GAP at entry seq %" PRIu64 " (line %" PRIu64 " of %s): %" PRIu64
                 " entries lost%s%s%s%s%s%s%s%s%s\n",
                 l->seq, v->line_no, v->path, entries, since[0] ? " between " : "", since,
                 until[0] ? " and " : "", until, why[0] ? " (" : "", why, why[0] ? ")" : "",
                 counts[0] ? ": " : "", counts);
    if (n > 0)
        gap_append(g, desc, (size_t)n < sizeof(desc) ? (size_t)n : sizeof(desc) - 1);
}

int audit_verify(const char *const *paths, size_t n, const uint8_t *expect, FILE *out)
{
    struct gaps gaps = {NULL, 0, 0, 0, 0};
    struct vfile *files = calloc(n ? n : 1, sizeof(*files));
    struct vstate v = {.out = out};
    uint8_t anchor[AUDIT_HASH_BYTES];
    uint64_t entries = 0, first = 0;
    bool reached = expect == NULL;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;

    if (files == NULL)
        return 2;
    for (size_t i = 0; i < n; i++) {
        struct audit_line l;
        files[i].path = paths[i];
        files[i].order = i;
        if (first_entry(paths[i], &l, &files[i].dated) != 0) {
            fprintf(out, "parley-audit: %s: %s\n", paths[i], strerror(errno));
            rc = 2;
            goto done;
        }
        files[i].first_seq = l.seq;
    }
    if (n > 1)
        qsort(files, n, sizeof(*files), vfile_cmp);
    for (size_t i = 0; i < n && rc == 0; i++) {
        FILE *f = fopen(files[i].path, "rb");
        ssize_t got;

        if (f == NULL) {
            fprintf(out, "parley-audit: %s: %s\n", files[i].path, strerror(errno));
            rc = 2;
            break;
        }
        v.path = files[i].path;
        v.line_no = 0;
        while (rc == 0 && (got = getline(&line, &cap, f)) > 0) {
            struct audit_line l;
            size_t len = (size_t)got;

            v.line_no++;
            if (line[len - 1] != '\n') {
                rc = vfail(&v, "torn line: the file ends mid-entry (truncated)");
                break;
            }
            rc = verify_entry(&v, f, line, len - 1, entries > 0, &l);
            if (rc != 0)
                break;
            if (entries == 0) {
                memcpy(anchor, l.prev, sizeof(anchor));
                first = l.seq;
            }
            entries++;
            if (strcmp(l.event, "gap") == 0 || strcmp(l.event, "lost") == 0)
                note_gap(&gaps, &v, line, len - 1, &l);
            v.expected = l.seq + 1;
            if (!reached && l.sealed && sodium_memcmp(l.hash, expect, AUDIT_HASH_BYTES) == 0)
                reached = true;
        }
        if (rc == 0 && v.in_batch)
            rc = unsealed(&v);
        fclose(f);
    }
    if (rc == 0 && entries == 0) {
        fprintf(out, "FAIL: no entries\n");
        rc = 1;
    }
    if (rc == 0 && !reached) {
        fprintf(out,
                "FAIL at entry seq %" PRIu64 " (line %" PRIu64 " of %s): truncated: the "
                "chain ends at seq %" PRIu64 " without reaching the expected hash\n",
                v.expected, v.line_no + 1, v.path, v.expected - 1);
        rc = 1;
    }
    if (rc == 0) {
        char a[AUDIT_HEX_BYTES], h[AUDIT_HEX_BYTES];
        sodium_bin2hex(a, sizeof(a), anchor, sizeof(anchor));
        sodium_bin2hex(h, sizeof(h), v.prev, sizeof(v.prev));
        fprintf(out,
                "%s %" PRIu64 " entries (seq %" PRIu64 "..%" PRIu64 "; anchor %s; last hash %s)",
                gaps.n > 0 ? "INCOMPLETE" : "OK", entries, first, v.expected - 1, a, h);
        if (gaps.n > 0)
            fprintf(out, ": %" PRIu64 " recorded gap%s, %" PRIu64 " entries lost", gaps.n,
                    gaps.n == 1 ? "" : "s", gaps.entries);
        fputc('\n', out);
        if (gaps.n > 0)
            rc = 3;
    }
    if (gaps.text != NULL)
        fputs(gaps.text, out);
done:
    free(gaps.text);
    free(line);
    free(files);
    return rc;
}
