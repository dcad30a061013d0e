/*
 * The locker file. Layout: "PRLYTUI1" | salt (16) | opslimit (8, LE) |
 * memlimit (8, LE) | nonce (24) | XChaCha20-Poly1305 ciphertext of the
 * entries, the header before the ciphertext as associated data. Each
 * entry: kind (1) | name length (1) | name | value length (4, LE) | value.
 * Every write uses a fresh nonce and goes through a temporary file that
 * is synced and renamed, so a crash leaves the old file or the new one.
 */
#include "locker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define MAGIC "PRLYTUI1"
#define MAGIC_LEN 8u
#define SALT_LEN crypto_pwhash_SALTBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define HEADER_LEN (MAGIC_LEN + SALT_LEN + 16u + NONCE_LEN)
#define MAX_PLAIN (LOCKER_MAX_ENTRIES * (6u + LOCKER_MAX_NAME) + 4u * 1024u * 1024u)

struct entry {
    char kind;
    char *name;
    char *value;
};

struct locker {
    char *path;
    unsigned char *key; /* sodium_malloc */
    unsigned char salt[SALT_LEN];
    uint64_t ops, mem;
    struct entry *e;
    size_t n;
};

static void put_le(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

static void cost_params(parley_kdf_cost cost, uint64_t *ops, uint64_t *mem)
{
    switch (cost) {
    case PARLEY_KDF_MODERATE:
        *ops = crypto_pwhash_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_MEMLIMIT_MODERATE;
        break;
    case PARLEY_KDF_SENSITIVE:
        *ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
        *mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
        break;
    case PARLEY_KDF_INTERACTIVE:
    default:
        *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        break;
    }
}

static void entry_free(struct entry *e)
{
    free(e->name);
    if (e->value != NULL) {
        sodium_memzero(e->value, strlen(e->value));
        free(e->value);
    }
}

void locker_free(struct locker *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        entry_free(&l->e[i]);
    free(l->e);
    sodium_free(l->key);
    free(l->path);
    free(l);
}

static int add_entry(struct locker *l, char kind, const char *name, size_t name_len,
                     const char *value, size_t value_len)
{
    struct entry *v, *e;

    if (l->n >= LOCKER_MAX_ENTRIES)
        return LOCKER_EFULL;
    v = realloc(l->e, (l->n + 1) * sizeof(*v));
    if (v == NULL)
        return LOCKER_ENOMEM;
    l->e = v;
    e = &l->e[l->n];
    e->kind = kind;
    e->name = strndup(name, name_len);
    e->value = strndup(value, value_len);
    if (e->name == NULL || e->value == NULL) {
        entry_free(e);
        return LOCKER_ENOMEM;
    }
    l->n++;
    return LOCKER_OK;
}

static int parse_entries(struct locker *l, const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t name_len, value_len;
        int rc;

        if (n - i < 2)
            return LOCKER_EMALFORMED;
        name_len = p[i + 1];
        if (name_len == 0 || name_len > LOCKER_MAX_NAME || n - i - 2 < name_len + 4)
            return LOCKER_EMALFORMED;
        value_len = (size_t)get_le(p + i + 2 + name_len, 4);
        if (value_len > LOCKER_MAX_VALUE || n - i - 6 - name_len < value_len)
            return LOCKER_EMALFORMED;
        if (memchr(p + i + 2, 0, name_len) != NULL ||
            memchr(p + i + 6 + name_len, 0, value_len) != NULL)
            return LOCKER_EMALFORMED;
        rc = add_entry(l, (char)p[i], (const char *)p + i + 2, name_len,
                       (const char *)p + i + 6 + name_len, value_len);
        if (rc != LOCKER_OK)
            return rc == LOCKER_EFULL ? LOCKER_EMALFORMED : rc;
        i += 6 + name_len + value_len;
    }
    return LOCKER_OK;
}

static int read_file(const char *path, unsigned char **out, size_t *len)
{
    struct stat st;
    unsigned char *buf;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT ? LOCKER_ENOENT : LOCKER_EIO;
    if (fstat(fd, &st) != 0 || st.st_size < 0) {
        close(fd);
        return LOCKER_EIO;
    }
    if ((uint64_t)st.st_size > HEADER_LEN + MAX_PLAIN + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
        close(fd);
        return LOCKER_EMALFORMED;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return LOCKER_ENOMEM;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *len = got;
    return LOCKER_OK;
}

int locker_open(struct locker **out, const char *path, const char *pass, size_t pass_len,
                parley_kdf_cost cost)
{
    struct locker *l;
    unsigned char *file = NULL, *plain = NULL;
    size_t file_len = 0;
    unsigned long long plain_len = 0;
    int rc;

    *out = NULL;
    if (sodium_init() < 0)
        return LOCKER_ENOMEM;
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return LOCKER_ENOMEM;
    l->path = strdup(path);
    l->key = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    if (l->path == NULL || l->key == NULL) {
        rc = LOCKER_ENOMEM;
        goto fail;
    }
    rc = read_file(path, &file, &file_len);
    if (rc == LOCKER_ENOENT) {
        randombytes_buf(l->salt, sizeof(l->salt));
        cost_params(cost, &l->ops, &l->mem);
    } else if (rc != LOCKER_OK) {
        goto fail;
    } else {
        if (file_len < HEADER_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
            memcmp(file, MAGIC, MAGIC_LEN) != 0) {
            rc = LOCKER_EMALFORMED;
            goto fail;
        }
        memcpy(l->salt, file + MAGIC_LEN, SALT_LEN);
        l->ops = get_le(file + MAGIC_LEN + SALT_LEN, 8);
        l->mem = get_le(file + MAGIC_LEN + SALT_LEN + 8, 8);
        if (l->ops < crypto_pwhash_OPSLIMIT_MIN || l->ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
            l->mem < crypto_pwhash_MEMLIMIT_MIN || l->mem > crypto_pwhash_MEMLIMIT_SENSITIVE) {
            rc = LOCKER_EMALFORMED;
            goto fail;
        }
    }
    if (crypto_pwhash(l->key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, pass, pass_len,
                      l->salt, l->ops, (size_t)l->mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        rc = LOCKER_ENOMEM;
        goto fail;
    }
    if (file != NULL) {
        size_t clen = file_len - HEADER_LEN;
        plain = malloc(clen);
        if (plain == NULL) {
            rc = LOCKER_ENOMEM;
            goto fail;
        }
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                plain, &plain_len, NULL, file + HEADER_LEN, clen, file, HEADER_LEN,
                file + HEADER_LEN - NONCE_LEN, l->key) != 0) {
            rc = LOCKER_EPASSPHRASE;
            goto fail;
        }
        rc = parse_entries(l, plain, (size_t)plain_len);
        if (rc != LOCKER_OK)
            goto fail;
    }
    rc = LOCKER_OK;
    *out = l;
    l = NULL;
fail:
    if (plain != NULL) {
        sodium_memzero(plain, (size_t)plain_len);
        free(plain);
    }
    free(file);
    locker_free(l);
    return rc;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int save(struct locker *l)
{
    size_t plain_len = 0, off = 0, out_len;
    unsigned char *plain = NULL, *out = NULL;
    unsigned long long clen = 0;
    char tmp[4200];
    int fd = -1, rc = LOCKER_EIO;

    for (size_t i = 0; i < l->n; i++)
        plain_len += 6 + strlen(l->e[i].name) + strlen(l->e[i].value);
    plain = malloc(plain_len + 1);
    out_len = HEADER_LEN + plain_len + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    out = malloc(out_len);
    if (plain == NULL || out == NULL) {
        rc = LOCKER_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < l->n; i++) {
        size_t nl = strlen(l->e[i].name), vl = strlen(l->e[i].value);
        plain[off] = (unsigned char)l->e[i].kind;
        plain[off + 1] = (unsigned char)nl;
        memcpy(plain + off + 2, l->e[i].name, nl);
        put_le(plain + off + 2 + nl, vl, 4);
        memcpy(plain + off + 6 + nl, l->e[i].value, vl);
        off += 6 + nl + vl;
    }
    memcpy(out, MAGIC, MAGIC_LEN);
    memcpy(out + MAGIC_LEN, l->salt, SALT_LEN);
    put_le(out + MAGIC_LEN + SALT_LEN, l->ops, 8);
    put_le(out + MAGIC_LEN + SALT_LEN + 8, l->mem, 8);
    randombytes_buf(out + HEADER_LEN - NONCE_LEN, NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + HEADER_LEN, &clen, plain, plain_len, out,
                                               HEADER_LEN, NULL, out + HEADER_LEN - NONCE_LEN,
                                               l->key);
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", l->path) >= sizeof(tmp))
        goto fail;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail;
    if (write_all(fd, out, HEADER_LEN + (size_t)clen) != 0 || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        goto fail;
    }
    close(fd);
    if (rename(tmp, l->path) != 0) {
        unlink(tmp);
        goto fail;
    }
    rc = LOCKER_OK;
fail:
    if (plain != NULL) {
        sodium_memzero(plain, plain_len);
        free(plain);
    }
    free(out);
    return rc;
}

static int find(const struct locker *l, char kind, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].kind == kind && strcmp(l->e[i].name, name) == 0)
            return (int)i;
    return -1;
}

const char *locker_get(const struct locker *l, char kind, const char *name)
{
    int i = find(l, kind, name);

    return i >= 0 ? l->e[i].value : NULL;
}

int locker_put(struct locker *l, char kind, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    int i = find(l, kind, name), rc;

    if (nl == 0 || nl > LOCKER_MAX_NAME || vl > LOCKER_MAX_VALUE)
        return LOCKER_EFULL;
    if (i >= 0) {
        char *v = strdup(value);
        if (v == NULL)
            return LOCKER_ENOMEM;
        sodium_memzero(l->e[i].value, strlen(l->e[i].value));
        free(l->e[i].value);
        l->e[i].value = v;
    } else {
        rc = add_entry(l, kind, name, nl, value, vl);
        if (rc != LOCKER_OK)
            return rc;
    }
    return save(l);
}

int locker_del(struct locker *l, char kind, const char *name)
{
    int i = find(l, kind, name);

    if (i < 0)
        return LOCKER_ENOENT;
    entry_free(&l->e[i]);
    memmove(l->e + i, l->e + i + 1, (l->n - (size_t)i - 1) * sizeof(l->e[0]));
    l->n--;
    return save(l);
}

size_t locker_names(const struct locker *l, char kind, const char **names, size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].kind == kind) {
            if (k < max)
                names[k] = l->e[i].name;
            k++;
        }
    return k;
}

const char *locker_strerror(int status)
{
    switch (status) {
    case LOCKER_OK: return "ok";
    case LOCKER_EIO: return "cannot read or write the file";
    case LOCKER_EMALFORMED: return "not a saved-replies file, or damaged";
    case LOCKER_EPASSPHRASE: return "wrong passphrase (or the file was altered)";
    case LOCKER_ENOMEM: return "out of memory";
    case LOCKER_EFULL: return "too many entries or too long";
    case LOCKER_ENOENT: return "no such entry";
    }
    return "unknown error";
}
