/*
 * parley-scan: runs the library's sensitive-data guard over text on stdin
 * and prints, for each input line, one JSON object naming what was found
 * and where (byte offsets within the line). It lets a data-protection
 * officer or a test check the guard without a client. Lines are taken as
 * bytes: invalid UTF-8 is scanned too, and offsets count bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley/scan.h"

static void usage(FILE *f)
{
    fputs("usage: parley-scan [--help]\n"
          "\n"
          "Reads text on stdin and prints one JSON object per input line:\n"
          "  {\"line\": N, \"findings\": [{\"category\": \"...\", \"start\": S, \"end\": E}]}\n"
          "N counts lines from 1; S and E are byte offsets within the line (E exclusive).\n"
          "Categories: health, religion, politics, union, ethnicity, sexual_orientation,\n"
          "biometric, card, iban, nir, email, phone. Nothing is sent anywhere.\n",
          f);
}

/* Scans one line and prints its object; returns 0, or 1 if out of memory. */
static int scan_line(unsigned long long lineno, const char *line, size_t len)
{
    parley_scan_finding small[32];
    parley_scan_finding *found = small;
    size_t cap = sizeof(small) / sizeof(small[0]), n = 0;
    parley_err err;
    int rc = 0;

    if (len > PARLEY_SCAN_MAX_TEXT)
        len = PARLEY_SCAN_MAX_TEXT; /* only the start of a huge line is scanned */
    err = parley_scan(line, len, found, cap, &n);
    if (err == PARLEY_ETOOBIG && n > cap) {
        cap = n;
        found = calloc(cap, sizeof(*found));
        if (found == NULL) {
            rc = 1;
            goto fail;
        }
        err = parley_scan(line, len, found, cap, &n);
    }
    if (err != PARLEY_OK)
        n = 0;
    printf("{\"line\": %llu, \"findings\": [", lineno);
    for (size_t i = 0; i < n; i++)
        printf("%s{\"category\": \"%s\", \"start\": %zu, \"end\": %zu}", i ? ", " : "",
               parley_scan_category_name(found[i].category), found[i].start, found[i].end);
    fputs("]}\n", stdout);
fail:
    if (found != small)
        free(found);
    return rc;
}

int main(int argc, char **argv)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    unsigned long long lineno = 0;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        fprintf(stderr, "parley-scan: unknown argument '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    while ((got = getline(&line, &cap, stdin)) != -1) {
        size_t len = (size_t)got;

        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (scan_line(++lineno, line, len) != 0) {
            fputs("parley-scan: out of memory\n", stderr);
            rc = 1;
            goto fail;
        }
    }
    if (ferror(stdin)) {
        fputs("parley-scan: error reading stdin\n", stderr);
        rc = 1;
    }
fail:
    free(line);
    if (fflush(stdout) != 0)
        rc = 1;
    return rc;
}
