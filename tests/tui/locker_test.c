/*
 * The saved-replies file: encrypted at rest, reopened with the
 * passphrase, refused with a wrong one or when altered, rewritten whole.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "locker.h"

static char dir[64], path[128];

static size_t file_size(void)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return (size_t)st.st_size;
}

static int file_has(const char *needle)
{
    char buf[8192];
    FILE *f = fopen(path, "rb");
    size_t n;
    int found = 0;

    CHECK(f != NULL);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    for (size_t i = 0; i + strlen(needle) <= n; i++)
        if (memcmp(buf + i, needle, strlen(needle)) == 0)
            found = 1;
    return found;
}

int main(void)
{
    struct locker *l;
    const char *names[8];
    struct stat st;
    FILE *f;
    unsigned char byte;

    snprintf(dir, sizeof(dir), "/tmp/parley-locker-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/agent.db.canned", dir);

    CHECK(locker_open(&l, path, "pass", 4, PARLEY_KDF_INTERACTIVE) == LOCKER_OK);
    CHECK(locker_get(l, LOCKER_KIND_CANNED, "hello") == NULL);
    CHECK(access(path, F_OK) != 0); /* nothing written before a change */
    CHECK(locker_put(l, LOCKER_KIND_CANNED, "hello", "Bonjour, je regarde \xc3\xa7" "a.") == LOCKER_OK);
    CHECK(locker_put(l, LOCKER_KIND_CANNED, "bye", "Bonne journ\xc3\xa9" "e") == LOCKER_OK);
    CHECK(locker_put(l, LOCKER_KIND_VERIFIED, "00ff", "1") == LOCKER_OK);
    CHECK(locker_put(l, LOCKER_KIND_CANNED, "hello", "Bonjour !") == LOCKER_OK);
    CHECK(locker_names(l, LOCKER_KIND_CANNED, names, 8) == 2 && strcmp(names[0], "hello") == 0);
    CHECK(locker_del(l, LOCKER_KIND_CANNED, "bye") == LOCKER_OK);
    CHECK(locker_del(l, LOCKER_KIND_CANNED, "bye") == LOCKER_ENOENT);
    locker_free(l);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(!file_has("Bonjour") && !file_has("hello")); /* encrypted at rest */

    CHECK(locker_open(&l, path, "wrong", 5, PARLEY_KDF_INTERACTIVE) == LOCKER_EPASSPHRASE);
    CHECK(locker_open(&l, path, "pass", 4, PARLEY_KDF_INTERACTIVE) == LOCKER_OK);
    CHECK(strcmp(locker_get(l, LOCKER_KIND_CANNED, "hello"), "Bonjour !") == 0);
    CHECK(locker_get(l, LOCKER_KIND_CANNED, "bye") == NULL);
    CHECK(locker_get(l, LOCKER_KIND_VERIFIED, "00ff") != NULL);
    CHECK(locker_get(l, LOCKER_KIND_CANNED, "00ff") == NULL);
    locker_free(l);

    /* One flipped bit in the ciphertext: refused, not misread. */
    f = fopen(path, "r+b");
    CHECK(f != NULL);
    CHECK(fseek(f, (long)file_size() - 3, SEEK_SET) == 0 && fread(&byte, 1, 1, f) == 1);
    byte ^= 1;
    CHECK(fseek(f, (long)file_size() - 3, SEEK_SET) == 0 && fwrite(&byte, 1, 1, f) == 1);
    fclose(f);
    CHECK(locker_open(&l, path, "pass", 4, PARLEY_KDF_INTERACTIVE) == LOCKER_EPASSPHRASE);
    /* Truncated, or not a locker at all. */
    CHECK(truncate(path, 20) == 0);
    CHECK(locker_open(&l, path, "pass", 4, PARLEY_KDF_INTERACTIVE) == LOCKER_EMALFORMED);
    f = fopen(path, "wb");
    CHECK(f != NULL);
    fputs("PRLYKEY1 something else entirely, long enough to pass the size check....", f);
    fclose(f);
    CHECK(locker_open(&l, path, "pass", 4, PARLEY_KDF_INTERACTIVE) == LOCKER_EMALFORMED);
    unlink(path);
    rmdir(dir);
    printf("ok\n");
    return 0;
}
