/*
 * Where a program's passphrase comes from: a file (its first line), an
 * environment variable, or the terminal with echo off; and the names of
 * the passphrase hashing costs on command lines. Passphrases live in
 * sodium_malloc memory and are wiped when released.
 */
#ifndef PARLEY_COMMON_PASSPHRASE_H
#define PARLEY_COMMON_PASSPHRASE_H

#include <stddef.h>

#include <parley/identity.h>

/* Longest passphrase accepted, in bytes. */
#define PASSPHRASE_MAX 1024u

/* --passphrase-file and --passphrase-env; both NULL: the terminal. */
struct passphrase_source {
    const char *file;
    const char *env;
};

struct passphrase {
    char *buf; /* sodium_malloc, PASSPHRASE_MAX + 2 bytes, NUL-terminated */
    size_t len;
};

enum passphrase_flags {
    PASSPHRASE_NEW = 1u << 0,      /* protects something new: the terminal asks twice, and an
                                      empty passphrase is refused from any source */
    PASSPHRASE_NONEMPTY = 1u << 1, /* refuse an empty passphrase from any source */
    PASSPHRASE_NO_TTY = 1u << 2    /* without file or variable, return 0: the caller asks */
};

/*
 * Gets the passphrase for subject (the file it unlocks, named in the
 * prompt and in messages) from src, as flags say. Returns 1 with *out
 * filled, 0 (only with PASSPHRASE_NO_TTY) when src names no source and
 * *out is an empty buffer for the caller to fill, or -1 after printing
 * one error line. Release *out with passphrase_release() in every case.
 */
int passphrase_get(const struct passphrase_source *src, const char *subject, unsigned flags,
                   struct passphrase *out);

/* Wipes and frees. Safe on a zeroed struct. */
void passphrase_release(struct passphrase *p);

/*
 * The cost names of --kdf: interactive, moderate, sensitive. Returns 1
 * and sets *out for a known name, 0 otherwise.
 */
int passphrase_cost_parse(const char *name, parley_kdf_cost *out);

/* What --kdf accepts, for usage and error messages. */
#define PASSPHRASE_COST_NAMES "interactive, moderate or sensitive"

#endif
