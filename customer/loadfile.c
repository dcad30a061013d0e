/*
 * Reads what parley-keys wrote. Sizes are capped before anything is
 * allocated, and the pin line is parsed as strictly as parley-keys writes
 * it, so both tools always agree on which key a pin file names. Clients
 * take only the client pin: the relay pin lacks the directory key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "loadfile.h"

#define PIN_PREFIX "parley-brand-v1 "
#define PIN_MAX    256

static void complain(const char *path, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, path, what);
}

/* Reads the whole regular file at path if it holds at most cap bytes. */
static int read_capped(const char *path, size_t cap, uint8_t **out, size_t *out_len)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *out = NULL;
    *out_len = 0;
    if (fd < 0) {
        complain(path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        complain(path, "not a regular file");
        goto fail;
    }
    if ((uint64_t)st.st_size > cap) {
        complain(path, "too large");
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        complain(path, "out of memory");
        goto fail;
    }
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            complain(path, n < 0 ? strerror(errno) : "file shrank while read");
            goto fail;
        }
        len += (size_t)n;
    }
    close(fd);
    *out = buf;
    *out_len = len;
    return 0;
fail:
    close(fd);
    if (buf != NULL) {
        sodium_memzero(buf, (size_t)st.st_size + 1);
        free(buf);
    }
    return -1;
}

static int lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Says a relay pin was given, and names the client pin parley-keys wrote beside it. */
static void complain_relay_pin(const char *path)
{
    size_t n = strlen(path);

    if (n > 4 && strcmp(path + n - 4, ".pub") == 0)
        fprintf(stderr, "%s: %s: this is a relay pin; clients need the client pin (%.*s.client)\n",
                program_invocation_short_name, path, (int)(n - 4), path);
    else
        fprintf(stderr,
                "%s: %s: this is a relay pin; clients need the client pin (the .client file "
                "from parley-keys brand init)\n",
                program_invocation_short_name, path);
}

int loadfile_pin(const char *path, struct loadfile_pin *pin)
{
    const size_t plen = sizeof(PIN_PREFIX) - 1;
    uint8_t *buf;
    size_t len, id_len, rest;
    const char *s, *id, *space, *hex;
    int rc = -1, relay_pin = 0;

    if (read_capped(path, PIN_MAX, &buf, &len) != 0)
        return -1;
    s = (const char *)buf;
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len < plen || memcmp(s, PIN_PREFIX, plen) != 0 || memchr(s, '\0', len) != NULL ||
        memchr(s, '\n', len) != NULL)
        goto fail;
    id = s + plen;
    space = memchr(id, ' ', len - plen);
    if (space == NULL)
        goto fail;
    id_len = (size_t)(space - id);
    hex = space + 1;
    rest = (size_t)(s + len - hex);
    if (id_len == 0 || id_len > PARLEY_MAX_ID || rest < 64 || !lower_hex(hex, 64))
        goto fail;
    if (rest == 64) {
        relay_pin = 1;
        goto fail;
    }
    if (rest != 64 + 1 + 64 || hex[64] != ' ' || !lower_hex(hex + 65, 64))
        goto fail;
    memcpy(pin->brand_id, id, id_len);
    pin->brand_id[id_len] = '\0';
    if (!parley_id_valid(pin->brand_id) ||
        sodium_hex2bin(pin->brand_pk, 32, hex, 64, NULL, NULL, NULL) != 0 ||
        sodium_hex2bin(pin->dir_key, 32, hex + 65, 64, NULL, NULL, NULL) != 0)
        goto fail;
    rc = 0;
fail:
    if (rc != 0)
        loadfile_pin_wipe(pin);
    if (relay_pin)
        complain_relay_pin(path);
    else if (rc != 0)
        complain(path, "not a brand client pin file "
                       "(parley-brand-v1 <brand-id> <hex key> <hex directory key>)");
    loadfile_release(buf, len);
    return rc;
}

void loadfile_pin_wipe(struct loadfile_pin *pin)
{
    sodium_memzero(pin, sizeof(*pin));
}

int loadfile_object(const char *path, const char *magic, size_t cap, uint8_t **out, size_t *len)
{
    uint8_t *buf;
    size_t n;

    *out = NULL;
    *len = 0;
    if (read_capped(path, cap + LOADFILE_MAGIC_LEN, &buf, &n) != 0)
        return -1;
    if (n <= LOADFILE_MAGIC_LEN || memcmp(buf, magic, LOADFILE_MAGIC_LEN) != 0) {
        char what[64];

        snprintf(what, sizeof(what), "not a %.8s file", magic);
        complain(path, what);
        loadfile_release(buf, n);
        return -1;
    }
    /* The object moves to the front so the caller frees one buffer. */
    memmove(buf, buf + LOADFILE_MAGIC_LEN, n - LOADFILE_MAGIC_LEN);
    sodium_memzero(buf + n - LOADFILE_MAGIC_LEN, LOADFILE_MAGIC_LEN);
    *out = buf;
    *len = n - LOADFILE_MAGIC_LEN;
    return 0;
}

void loadfile_release(uint8_t *buf, size_t len)
{
    if (buf == NULL)
        return;
    sodium_memzero(buf, len);
    free(buf);
}
