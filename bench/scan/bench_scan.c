/*
 * Sensitive-data guard benchmark: parley_scan() throughput on customer
 * messages (the lines of the labelled corpus, scanned one by one as a
 * client does before each send) and on adversarial texts built to make a
 * matcher work hard: long texts with no sentence mark, runs of words
 * that start many rules or almost match them, near-valid card numbers,
 * addresses with no known domain, one huge word, invalid UTF-8. Each
 * adversarial text is scanned at 64 KiB and at 1 MiB (the largest text
 * parley_scan() accepts): a matcher that backtracks shows a ratio far
 * above 16 between the two times. Figures are medians of several runs,
 * in CPU time of the process.
 *
 * Usage: bench-scan [--runs N] CORPUS.tsv...
 * Prints a markdown table on stdout; exits non-zero if a scan fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/scan.h"

#define MAX_RUNS 51
#define SMALL (64u * 1024u)
#define LARGE PARLEY_SCAN_MAX_TEXT

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench-scan: %s: %s\n", what, why);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        die("clock_gettime", strerror(errno));
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Scans text; returns the number of findings. */
static size_t scan_once(const char *text, size_t len)
{
    static parley_scan_finding f[256];
    size_t n = 0;
    parley_err err = parley_scan(text, len, f, sizeof(f) / sizeof(f[0]), &n);

    if (err != PARLEY_OK && err != PARLEY_ETOOBIG)
        die("parley_scan", parley_strerror(err));
    return n;
}

/* The messages of the corpus files: their text column, one per line. */
struct corpus {
    char **msg;
    size_t *len;
    size_t n, cap, bytes;
};

static void corpus_read(struct corpus *c, const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;

    if (f == NULL)
        die(path, strerror(errno));
    while ((got = getline(&line, &cap, f)) != -1) {
        char *text, *end;

        if (line[0] == '#' || (text = strchr(line, '\t')) == NULL)
            continue;
        text++;
        end = text + strcspn(text, "\t\n");
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 512;
            c->msg = realloc(c->msg, c->cap * sizeof(*c->msg));
            c->len = realloc(c->len, c->cap * sizeof(*c->len));
            if (c->msg == NULL || c->len == NULL)
                die("realloc", "out of memory");
        }
        c->len[c->n] = (size_t)(end - text);
        c->msg[c->n] = strndup(text, c->len[c->n]);
        if (c->msg[c->n] == NULL)
            die("strndup", "out of memory");
        c->bytes += c->len[c->n];
        c->n++;
    }
    free(line);
    fclose(f);
}

/* Fills buf with len bytes of pattern repeated. */
static void repeat(char *buf, size_t len, const char *pattern)
{
    size_t p = strlen(pattern);

    for (size_t i = 0; i < len; i++)
        buf[i] = pattern[i % p];
}

struct adversary {
    const char *name;
    const char *pattern; /* repeated to the length; NULL: see fill() */
};

static const struct adversary adversaries[] = {
    {"one sentence of near-matches, no sentence mark",
     "I am sick of my wife is d'origine type 1 member of the as a black friday union jack "},
    {"words that start many rules (\"my\", \"je suis\", \"I'm\")", "my je suis I'm we are "},
    {"one term repeated (every word a finding)", "diabetes "},
    {"near-valid card numbers", "4970 1012 3456 7890 "},
    {"digits with separators, no sentence", "06 12 34 56 7 "},
    {"'@' everywhere, no known domain", "a.b@c.d@e.f@2x.png@"},
    {"one word the length of the text", "a"},
    {"invalid UTF-8 and combining accents", "\xff\xfe\xc3\x28" "e\xcc\x81\xcc\x81 "},
};
#define N_ADV (sizeof(adversaries) / sizeof(adversaries[0]))

int main(int argc, char **argv)
{
    struct corpus c = {0};
    int runs = 7;
    double t[MAX_RUNS];
    char *buf;
    size_t findings = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = (int)strtol(argv[++i], NULL, 10);
            if (runs < 1 || runs > MAX_RUNS)
                die("--runs", "1 to 51");
        } else {
            corpus_read(&c, argv[i]);
        }
    }
    if (c.n == 0)
        die("usage", "bench-scan [--runs N] CORPUS.tsv...");
    buf = malloc(LARGE);
    if (buf == NULL)
        die("malloc", "out of memory");

    /* Warm-up, then customer messages one by one, as clients scan them. */
    for (size_t m = 0; m < c.n; m++)
        findings += scan_once(c.msg[m], c.len[m]);
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();

        for (int rep = 0; rep < 20; rep++)
            for (size_t m = 0; m < c.n; m++)
                scan_once(c.msg[m], c.len[m]);
        t[r] = now_s() - t0;
    }
    {
        double s = median(t, runs), bytes = 20.0 * (double)c.bytes;

        printf("| input | size | median time | throughput |\n|---|---:|---:|---:|\n");
        printf("| %zu corpus messages, one call each (mean %.0f B) | %.0f KiB x 20 | %.1f ms | "
               "%.0f KB/s (%.1f us per message) |\n",
               c.n, (double)c.bytes / (double)c.n, (double)c.bytes / 1024.0, s * 1e3,
               bytes / s / 1000.0, s / (20.0 * (double)c.n) * 1e6);
    }
    /* The same messages as one text (a long paste). */
    {
        size_t len = 0;

        for (size_t m = 0; m < c.n && len + c.len[m] + 1 < LARGE; m++) {
            memcpy(buf + len, c.msg[m], c.len[m]);
            len += c.len[m];
            buf[len++] = '\n';
        }
        for (int r = 0; r < runs; r++) {
            double t0 = now_s();

            scan_once(buf, len);
            t[r] = now_s() - t0;
        }
        {
            double s = median(t, runs);

            printf("| the corpus as one text | %.0f KiB | %.1f ms | %.0f KB/s |\n",
                   (double)len / 1024.0, s * 1e3, (double)len / s / 1000.0);
        }
    }
    printf("\nAdversarial texts, each at 64 KiB and at 1 MiB (ratio of times: 16 is linear):\n\n");
    printf("| adversarial text | 64 KiB | 1 MiB | throughput at 1 MiB | ratio |\n"
           "|---|---:|---:|---:|---:|\n");
    for (size_t a = 0; a < N_ADV; a++) {
        double small, large;

        repeat(buf, LARGE, adversaries[a].pattern);
        for (int r = 0; r < runs; r++) {
            double t0 = now_s();

            scan_once(buf, SMALL);
            t[r] = now_s() - t0;
        }
        small = median(t, runs);
        for (int r = 0; r < runs; r++) {
            double t0 = now_s();

            scan_once(buf, LARGE);
            t[r] = now_s() - t0;
        }
        large = median(t, runs);
        printf("| %s | %.1f ms | %.1f ms | %.0f KB/s | %.1f |\n", adversaries[a].name,
               small * 1e3, large * 1e3, (double)LARGE / large / 1000.0, large / small);
    }
    printf("\n%d runs per figure; %zu findings in the corpus messages.\n", runs, findings);
    for (size_t m = 0; m < c.n; m++)
        free(c.msg[m]);
    free(c.msg);
    free(c.len);
    free(buf);
    return 0;
}
