/*
 * Writing seed corpora: OUTDIR/<target>/<name>, one file per seed, for
 * the corpus generators (make-corpus, make-relay-corpus). Any failure
 * ends the generator with a message: a half-written corpus is no corpus.
 */
#ifndef PARLEY_FUZZ_CORPUS_OUT_H
#define PARLEY_FUZZ_CORPUS_OUT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *out_root;

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "corpus: mkdir %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* Makes root and root/<target> for each target; later put()s write under root. */
static void corpus_start(const char *root, const char *const *targets, size_t n)
{
    char dir[4096];

    out_root = root;
    make_dir(out_root);
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(dir, sizeof(dir), "%s/%s", out_root, targets[i]);

        if (k < 0 || (size_t)k >= sizeof(dir)) {
            fprintf(stderr, "corpus: path too long\n");
            exit(1);
        }
        make_dir(dir);
    }
}

static void put(const char *target, const char *name, const void *buf, size_t len)
{
    char path[4096];
    FILE *fp;
    int n = snprintf(path, sizeof(path), "%s/%s/%s", out_root, target, name);

    if (n < 0 || (size_t)n >= sizeof(path)) {
        fprintf(stderr, "corpus: path too long\n");
        exit(1);
    }
    fp = fopen(path, "wb");
    if (fp == NULL || (len > 0 && fwrite(buf, 1, len, fp) != len) || fclose(fp) != 0) {
        fprintf(stderr, "corpus: write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

#endif
