/*
 * NKeys in text form (nkey.h), as the NATS tools write them: base32
 * (RFC 4648 alphabet, no padding) of the prefix byte(s), the 32-byte key
 * and a CRC-16/XMODEM of both, little-endian. A public key's prefix is
 * its type; a seed's two bytes are 'S' and the type packed together.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "nkey.h"

#define PREFIX_SEED (18u << 3)
#define RAW_MAX (2 + 32 + 2)

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static uint8_t type_byte(enum nkey_type type)
{
    return type == NKEY_OPERATOR ? 14u << 3 : type == NKEY_ACCOUNT ? 0 : 20u << 3;
}

static uint16_t crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0;

    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int k = 0; k < 8; k++)
            crc = crc & 0x8000 ? (uint16_t)(crc << 1 ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* raw (n bytes, CRC appended here) to text; out holds n * 8 / 5 rounded up, plus the NUL. */
static void encode(uint8_t *raw, size_t n, char *out)
{
    uint16_t crc = crc16(raw, n);
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    raw[n++] = (uint8_t)crc;
    raw[n++] = (uint8_t)(crc >> 8);
    for (size_t i = 0; i < n; i++) {
        acc = acc << 8 | raw[i];
        for (bits += 8; bits >= 5; bits -= 5)
            out[o++] = b32[(acc >> (bits - 5)) & 31];
    }
    if (bits > 0)
        out[o++] = b32[(acc << (5 - bits)) & 31];
    out[o] = '\0';
}

/* Text to bytes with its CRC checked (and dropped); the byte count, or 0. */
static size_t decode(const char *text, size_t len, uint8_t raw[RAW_MAX])
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        const char *c = text[i] != '\0' ? strchr(b32, text[i]) : NULL;
        if (c == NULL || n == RAW_MAX)
            return 0;
        acc = acc << 5 | (uint32_t)(c - b32);
        if ((bits += 5) >= 8)
            raw[n++] = (uint8_t)(acc >> (bits -= 8));
    }
    if (n < 3 || crc16(raw, n - 2) != (uint16_t)(raw[n - 2] | raw[n - 1] << 8))
        return 0;
    return n - 2;
}

void nkey_public_text(enum nkey_type type, const uint8_t raw[32], char out[NKEY_PUBLIC_LEN + 1])
{
    uint8_t buf[RAW_MAX];

    buf[0] = type_byte(type);
    memcpy(buf + 1, raw, 32);
    encode(buf, 33, out);
}

void nkey_seed_text(enum nkey_type type, const uint8_t seed[32], char out[NKEY_SEED_LEN + 1])
{
    uint8_t buf[RAW_MAX], t = type_byte(type);

    buf[0] = (uint8_t)(PREFIX_SEED | t >> 5);
    buf[1] = (uint8_t)((t & 31) << 3);
    memcpy(buf + 2, seed, 32);
    encode(buf, 34, out);
    sodium_memzero(buf, sizeof(buf));
}

/* The user public key of a seed's text; false when it is not a user seed. */
static bool user_public(const char *text, size_t len, char pub[NKEY_PUBLIC_LEN + 1])
{
    uint8_t raw[RAW_MAX], pk[32], sk[64];
    size_t n = decode(text, len, raw);
    bool ok = n == 34 && (raw[0] & 0xf8) == PREFIX_SEED &&
              (uint8_t)((raw[0] & 7) << 5 | raw[1] >> 3) == type_byte(NKEY_USER);

    if (ok) {
        crypto_sign_seed_keypair(pk, sk, raw + 2);
        nkey_public_text(NKEY_USER, pk, pub);
    }
    sodium_memzero(raw, sizeof(raw));
    sodium_memzero(sk, sizeof(sk));
    return ok;
}

/*
 * The secret file at path whole, into buf (cap bytes, NUL-terminated):
 * refused when it is not a regular file, when its group or others may
 * read or write it, or when it is larger than a key file is. 0, or -1
 * with a message in err (the caller wipes buf in either case).
 */
static int secret_read(const char *path, char *buf, size_t cap, char *err, size_t errcap)
{
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    size_t n = 0;
    ssize_t got = 1;

    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode))
        snprintf(err, errcap, "%s: not a regular file", path);
    else if ((st.st_mode & 077) != 0)
        snprintf(err, errcap,
                 "%s: mode %04o lets its group or others read or write it; it holds a "
                 "secret: make it 0600 (chmod 600)",
                 path, (unsigned)(st.st_mode & 07777));
    else if (st.st_size >= (off_t)cap)
        snprintf(err, errcap, "%s: larger than a key file (%zu bytes at most)", path, cap - 1);
    else
        while (n + 1 < cap && (got = read(fd, buf + n, cap - 1 - n)) > 0)
            n += (size_t)got;
    close(fd);
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || st.st_size >= (off_t)cap)
        return -1;
    if (got < 0) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    buf[n] = '\0';
    return 0;
}

/* The next line of the text at *p (its length; *p moves past it), or NULL at the end. */
static const char *next_line(const char **p, size_t *len)
{
    const char *line = *p;

    if (*line == '\0')
        return NULL;
    *len = strcspn(line, "\n");
    *p = line + *len + (line[*len] == '\n');
    return line;
}

int nkey_creds_check(const char *path, char *err, size_t cap)
{
    char buf[NKEY_FILE_MAX + 1];
    const char *p = buf, *line;
    size_t len = 0;
    bool found = false;

    if (secret_read(path, buf, sizeof(buf), err, cap) != 0) {
        sodium_memzero(buf, sizeof(buf));
        return -1;
    }
    while (!found && (line = next_line(&p, &len)) != NULL)
        found = len >= 29 && strncmp(line, "-----BEGIN NATS USER JWT-----", 29) == 0;
    sodium_memzero(buf, sizeof(buf));
    if (found)
        return 0;
    snprintf(err, cap, "%s: no user JWT (-----BEGIN NATS USER JWT-----) in it", path);
    return -1;
}

int nkey_file_user_public(const char *path, char pub[NKEY_PUBLIC_LEN + 1], char *err, size_t cap)
{
    char buf[NKEY_FILE_MAX + 1];
    const char *p = buf, *line;
    size_t len = 0;
    bool found = false, ok = false;

    if (secret_read(path, buf, sizeof(buf), err, cap) != 0) {
        sodium_memzero(buf, sizeof(buf));
        return -1;
    }
    while (!found && (line = next_line(&p, &len)) != NULL) {
        size_t n = strcspn(line, " \t\r\n");
        if (n >= 2 && line[0] == 'S' && line[1] == 'U') {
            found = true;
            ok = user_public(line, n, pub);
        }
    }
    sodium_memzero(buf, sizeof(buf));
    if (ok)
        return 0;
    snprintf(err, cap, "%s: %s", path,
             found ? "its user seed (SU...) does not decode" : "no user seed (SU...) in it");
    return -1;
}
