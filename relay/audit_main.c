/*
 * parley-audit: checks a relay's audit log. It recomputes the hash chain
 * across the segment files given (or found in a directory), names the
 * first entry that was altered, reordered, removed or cut short, and
 * reports every gap the relay itself recorded.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "internal.h" /* parley__grow */
#include "audit.h"

static void usage(FILE *f)
{
    fprintf(
        f, "usage: parley-audit verify [--expect-last-hash HEX] FILE|DIR...\n\n"
           "Verifies a parley-relay audit log: every entry's hash, its link to the entry\n"
           "before it, and the sequence numbers, across the segment files given (taken in\n"
           "the order of their first entry). A directory stands for every file in it that\n"
           "begins with an audit entry.\n\n"
           "  --expect-last-hash HEX  the chain must reach the entry with this hash (the\n"
           "                          relay logs its last hash as audit_closed on shutdown);\n"
           "                          detects entries removed from the end\n\n"
           "Prints 'OK N entries ...' and exits 0; 'INCOMPLETE N entries ...' and exits 3\n"
           "when the chain is intact but records entries the relay lost (gap entries), each\n"
           "then named on a 'GAP at entry seq N ...' line; or\n"
           "'FAIL at entry seq N (line L of FILE): what' and exits 1; 2 on usage or I/O errors.\n");
}

struct names {
    char **v;
    size_t n, cap;
};

static int add(struct names *s, const char *path)
{
    char *copy = strdup(path);
    char **grown;

    if (copy == NULL)
        return -1;
    grown = parley__grow(s->v, &s->cap, s->n + 1, sizeof(*grown));
    if (grown == NULL) {
        free(copy);
        return -1;
    }
    s->v = grown;
    s->v[s->n++] = copy;
    return 0;
}

static bool begins_with_entry(const char *path)
{
    char head[8] = {0};
    FILE *f = fopen(path, "rb");
    bool yes;

    if (f == NULL)
        return false;
    yes = fread(head, 1, 7, f) == 7 && memcmp(head, "{\"seq\":", 7) == 0;
    fclose(f);
    return yes;
}

/* A directory's segments: its regular files that begin with an audit entry. */
static int add_dir(struct names *s, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t before = s->n;
    int rc = 0;

    if (d == NULL) {
        fprintf(stderr, "parley-audit: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && begins_with_entry(path))
            rc = add(s, path);
    }
    closedir(d);
    if (rc == 0 && s->n == before) {
        fprintf(stderr, "parley-audit: %s: no audit log files in it\n", dir);
        rc = -1;
    }
    return rc;
}

static int verify(int argc, char **argv)
{
    struct names files = {NULL, 0, 0};
    uint8_t expect[AUDIT_HASH_BYTES];
    bool have_expect = false;
    int rc = 2;

    for (int i = 0; i < argc; i++) {
        struct stat st;

        if (strcmp(argv[i], "--expect-last-hash") == 0) {
            size_t got = 0;
            if (i + 1 >= argc ||
                sodium_hex2bin(expect, sizeof(expect), argv[i + 1], strlen(argv[i + 1]), NULL, &got,
                               NULL) != 0 ||
                got != sizeof(expect) || strlen(argv[i + 1]) != 2 * sizeof(expect)) {
                fprintf(stderr, "parley-audit: --expect-last-hash needs 64 hex digits\n");
                goto done;
            }
            have_expect = true;
            i++;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "parley-audit: unknown option %s (try --help)\n", argv[i]);
            goto done;
        } else if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (add_dir(&files, argv[i]) != 0)
                goto done;
        } else if (add(&files, argv[i]) != 0) {
            goto done;
        }
    }
    if (files.n == 0) {
        usage(stderr);
        goto done;
    }
    rc = audit_verify((const char *const *)files.v, files.n, have_expect ? expect : NULL, stdout);
done:
    for (size_t i = 0; i < files.n; i++)
        free(files.v[i]);
    free(files.v);
    return rc;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "parley-audit: libsodium failed to start\n");
        return 2;
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0) {
                usage(stdout);
                return 0;
            }
        return verify(argc - 2, argv + 2);
    }
    usage(stderr);
    return 2;
}
