/*
 * The files parley-keys writes and every program reads. Each object is
 * stored as an 8-byte ASCII magic followed by the library's encoding, so
 * a file of the wrong kind is recognised before any parsing, and nothing
 * larger than the kind allows is read. Writes go through a temp file in
 * the destination's directory, synced and renamed, so readers see either
 * the old file or the new one, never a partial one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <parley/parley.h>

#include "files.h"
#include "report.h"

#define PIN_PREFIX "parley-brand-v1 "

/* The largest object is a directory (or a revocation list as large); nothing bigger is read. */
#define FILES_MAX (FILES_MAGIC_LEN + PARLEY_MAX_DIRECTORY)

/*
 * A pin line is at most PARLEY_PIN_MAX bytes; a longer one is read whole up
 * to a page so that the parser can call it malformed rather than too big.
 */
#define FILES_PIN_MAX 4096u

/* max: the largest file of the kind, magic included (the library's own limits). */
static const struct {
    enum files_kind kind;
    const char *magic;
    const char *name;
    size_t max;
} kinds[] = {
    {FILES_KIND_KEY, FILES_MAGIC_KEY, "key file", FILES_MAGIC_LEN + PARLEY_MAX_KEYFILE},
    {FILES_KIND_REQUEST, FILES_MAGIC_REQUEST, "certificate request",
     FILES_MAGIC_LEN + PARLEY_MAX_CERT},
    {FILES_KIND_CERT, FILES_MAGIC_CERT, "certificate", FILES_MAGIC_LEN + PARLEY_MAX_CERT},
    {FILES_KIND_REVLIST, FILES_MAGIC_REVLIST, "revocation list", FILES_MAX},
    {FILES_KIND_DIRECTORY, FILES_MAGIC_DIRECTORY, "directory", FILES_MAX},
    {FILES_KIND_PIN, NULL, "brand public key (pin) file", FILES_PIN_MAX},
    {FILES_KIND_ORDER, FILES_MAGIC_ORDER, "brand order", FILES_MAGIC_LEN + PARLEY_MAX_ORDER},
};

const char *files_kind_name(enum files_kind kind)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "unknown file";
}

const char *files_kind_magic(enum files_kind kind)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].kind == kind)
            return kinds[i].magic;
    return NULL;
}

enum files_kind files_kind_detect(const uint8_t *buf, size_t len)
{
    if (len >= sizeof(PIN_PREFIX) - 1 && memcmp(buf, PIN_PREFIX, sizeof(PIN_PREFIX) - 1) == 0)
        return FILES_KIND_PIN;
    if (len < FILES_MAGIC_LEN)
        return FILES_KIND_UNKNOWN;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].magic != NULL && memcmp(buf, kinds[i].magic, FILES_MAGIC_LEN) == 0)
            return kinds[i].kind;
    return FILES_KIND_UNKNOWN;
}

/* Reads at most cap bytes; a file longer than cap is refused, not cut. */
static int read_capped(const char *path, size_t cap, uint8_t **out, size_t *out_len)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        report_error(path, "cannot read: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        report_error(path, "cannot read: not a regular file");
        goto fail;
    }
    if ((uint64_t)st.st_size > cap) {
        report_error(path, "too big (over %zu bytes)", cap);
        goto fail;
    }
    buf = malloc(cap + 1);
    if (buf == NULL) {
        report_error(path, "out of memory");
        goto fail;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, cap + 1 - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            report_error(path, "cannot read: %s", strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > cap) {
            report_error(path, "too big (over %zu bytes)", cap);
            goto fail;
        }
    }
    close(fd);
    *out = buf;
    *out_len = len;
    return 0;
fail:
    if (buf != NULL) {
        sodium_memzero(buf, cap + 1);
        free(buf);
    }
    close(fd);
    return -1;
}

/* Explains why a file is not of the kind wanted. */
static void report_kind(const char *path, const struct files_object *f, enum files_kind want)
{
    const char *magic = files_kind_magic(want);

    if (f->kind != FILES_KIND_UNKNOWN) {
        report_error(path, "%s (it is a %s, not a %s)", parley_strerror(PARLEY_EWRONGTYPE),
                     files_kind_name(f->kind), files_kind_name(want));
    } else if (f->len < FILES_MAGIC_LEN && magic != NULL && memcmp(f->buf, magic, f->len) == 0) {
        report_error(path, "truncated (%zu bytes)", f->len);
    } else if (f->len == 0) {
        report_error(path, "empty file");
    } else {
        report_error(path, "not a Parley file (expected a %s)", files_kind_name(want));
    }
}

void files_report_unknown(const char *path, const struct files_object *f)
{
    if (f->len == 0) {
        report_error(path, "empty file");
        return;
    }
    for (size_t i = 0; f->len < FILES_MAGIC_LEN && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (kinds[i].magic != NULL && memcmp(f->buf, kinds[i].magic, f->len) == 0) {
            report_error(path, "truncated (%zu bytes)", f->len);
            return;
        }
    }
    report_error(path, "not a Parley file");
}

/* The largest file of a kind, or of any kind. */
static size_t kind_max(enum files_kind kind)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].kind == kind)
            return kinds[i].max;
    return FILES_MAX;
}

int files_load(const char *path, enum files_kind want, struct files_object *f)
{
    memset(f, 0, sizeof(*f));
    if (read_capped(path, FILES_MAX, &f->buf, &f->len) != 0)
        return -1;
    f->kind = files_kind_detect(f->buf, f->len);
    if (want != FILES_KIND_UNKNOWN && f->kind != want) {
        report_kind(path, f, want);
        files_release(f);
        return -1;
    }
    /* A file of the kind wanted, larger than any such object can be. */
    if (f->len > kind_max(f->kind)) {
        report_error(path, "too big for a %s (over %zu bytes)", files_kind_name(f->kind),
                     kind_max(f->kind));
        files_release(f);
        return -1;
    }
    if (f->kind == FILES_KIND_PIN || f->kind == FILES_KIND_UNKNOWN) {
        f->body = f->buf;
        f->body_len = f->len;
    } else {
        f->body = f->buf + FILES_MAGIC_LEN;
        f->body_len = f->len - FILES_MAGIC_LEN;
    }
    return 0;
}

void files_release(struct files_object *f)
{
    if (f->buf != NULL) {
        /* Key files are encrypted, but wipe anyway: cheap, and nothing lingers. */
        sodium_memzero(f->buf, f->len);
        free(f->buf);
    }
    memset(f, 0, sizeof(*f));
}

int files_text_load(const char *path, size_t cap, char **out)
{
    uint8_t *buf;
    size_t len;

    if (read_capped(path, cap, &buf, &len) != 0)
        return -1;
    if (memchr(buf, '\0', len) != NULL) {
        report_error(path, "not a text file (holds a NUL byte)");
        free(buf);
        return -1;
    }
    buf[len] = '\0'; /* read_capped() leaves room for one more byte */
    *out = (char *)buf;
    return 0;
}

int files_path_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

int files_refuse_existing(const char *path)
{
    if (!files_path_exists(path))
        return 0;
    report_error(path, "already exists (use --force)");
    return -1;
}

/* Splits path into a directory (for the temp file and the sync) and a base name. */
static int split_path(const char *path, char **dir, const char **base)
{
    const char *slash = strrchr(path, '/');
    size_t dlen;

    if (slash == NULL) {
        *dir = strdup(".");
        *base = path;
    } else {
        dlen = slash == path ? 1 : (size_t)(slash - path);
        *dir = strndup(path, dlen);
        *base = slash + 1;
    }
    return *dir == NULL || **base == '\0' ? -1 : 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

int files_stage(struct files_staged *s, const char *path, const char *magic, const uint8_t *data,
                size_t len, mode_t mode)
{
    char *dir = NULL;
    const char *base;
    size_t tlen;
    int fd = -1;

    memset(s, 0, sizeof(*s));
    if (split_path(path, &dir, &base) != 0) {
        report_error(path, "not a file name");
        goto fail;
    }
    tlen = strlen(dir) + strlen(base) + sizeof("/..tmp-XXXXXX");
    s->tmp = malloc(tlen);
    s->path = strdup(path);
    if (s->tmp == NULL || s->path == NULL) {
        report_error(path, "out of memory");
        goto fail;
    }
    snprintf(s->tmp, tlen, "%s/.%s.tmp-XXXXXX", dir, base);
    fd = mkstemp(s->tmp); /* created 0600: no window where a key file is readable */
    if (fd < 0) {
        report_error(path, "cannot create: %s", strerror(errno));
        free(s->tmp);
        s->tmp = NULL;
        goto fail;
    }
    if (fchmod(fd, mode) != 0 ||
        (magic != NULL && write_all(fd, (const uint8_t *)magic, FILES_MAGIC_LEN) != 0) ||
        write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        report_error(path, "cannot write: %s", strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        report_error(path, "cannot write: %s", strerror(errno));
        goto fail;
    }
    free(dir);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(dir);
    files_discard(s);
    return -1;
}

/* rename() that never replaces: renameat2 where the filesystem has it, else link. */
static int rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
    if (link(from, to) != 0)
        return -1;
    unlink(from);
    return 0;
}

int files_commit(struct files_staged *s, int replace)
{
    char *dir = NULL;
    const char *base;
    int rc;

    if (s->tmp == NULL)
        return -1;
    rc = replace ? rename(s->tmp, s->path) : rename_noreplace(s->tmp, s->path);
    if (rc != 0) {
        if (errno == EEXIST)
            report_error(s->path, "already exists (use --force)");
        else
            report_error(s->path, "cannot write: %s", strerror(errno));
        files_discard(s);
        return -1;
    }
    free(s->tmp);
    s->tmp = NULL;
    if (split_path(s->path, &dir, &base) != 0 || sync_dir(dir) != 0) {
        report_error(s->path, "written, but its directory could not be synced: %s",
                     strerror(errno));
        rc = -1;
    }
    free(dir);
    files_discard(s);
    return rc;
}

void files_discard(struct files_staged *s)
{
    if (s->tmp != NULL)
        unlink(s->tmp);
    free(s->tmp);
    free(s->path);
    s->tmp = NULL;
    s->path = NULL;
}

int files_write(const char *path, const char *magic, const uint8_t *data, size_t len, mode_t mode,
                int replace)
{
    struct files_staged s;

    if (files_stage(&s, path, magic, data, len, mode) != 0)
        return -1;
    return files_commit(&s, replace);
}
