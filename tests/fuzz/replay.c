/*
 * Corpus replay for builds without libFuzzer: runs a fuzz target's
 * LLVMFuzzerTestOneInput() once on every file named on the command line or
 * found (one level deep) in a directory named there, so `meson test
 * --suite fuzz` re-checks every seed and every input fuzzing kept. A
 * target that crashes or trips an invariant fails the test; so does an
 * empty or missing corpus, since a replay of nothing proves nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "parley/common.h"

/* Every input libFuzzer could give is at most this; larger files are skipped. */
#define REPLAY_MAX_INPUT (PARLEY_MAX_DIRECTORY * 2u)

static int run_file(const char *path, size_t *count)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf;
    size_t len;

    if (fp == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* One byte over the limit tells a file that is too large. */
    buf = malloc(REPLAY_MAX_INPUT + 1);
    if (buf == NULL) {
        fclose(fp);
        fprintf(stderr, "replay: out of memory\n");
        return -1;
    }
    len = fread(buf, 1, REPLAY_MAX_INPUT + 1, fp);
    if (ferror(fp) || len > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: %s: unreadable or over %u bytes\n", path, REPLAY_MAX_INPUT);
        fclose(fp);
        free(buf);
        return -1;
    }
    fclose(fp);
    /* A copy of exactly len bytes, so that an over-read past it is an over-read. */
    {
        uint8_t *exact = malloc(len > 0 ? len : 1);

        if (exact == NULL) {
            free(buf);
            return -1;
        }
        if (len > 0)
            memcpy(exact, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
    }
    (*count)++;
    return 0;
}

static int run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        int n;

        if (e->d_name[0] == '.')
            continue;
        n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            fprintf(stderr, "replay: path too long in %s\n", dir);
            rc = -1;
            break;
        }
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (run_file(path, count) != 0) {
            rc = -1;
            break;
        }
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if ((S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i], &count)) != 0)
            return 1;
    }
    if (count == 0) {
        fprintf(stderr, "replay: no input found\n");
        return 1;
    }
    printf("replay: %zu inputs, no failure\n", count);
    return 0;
}
