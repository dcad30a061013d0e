/*
 * Where a passphrase comes from: a file (first line), an environment
 * variable, or the terminal with echo off. Passphrases live in
 * sodium_malloc memory and are wiped when released.
 */
#ifndef KEYS_PASSPHRASE_H
#define KEYS_PASSPHRASE_H

#include <stddef.h>

/* Longest passphrase accepted, in bytes. */
#define KEYS_PASS_MAX 1024u

struct keys_pass_src {
    const char *file; /* --passphrase-file, or NULL */
    const char *env;  /* --passphrase-env, or NULL */
};

struct keys_pass {
    char *buf; /* sodium_malloc, NUL-terminated */
    size_t len;
};

/*
 * Gets the passphrase for the key file named keyfile. With is_new, the
 * terminal asks twice and both must match, and an empty passphrase is
 * refused from any source. Prints one error line and returns -1 on
 * failure; on success release with keys_pass_release().
 */
int keys_pass_get(const struct keys_pass_src *src, const char *keyfile, int is_new,
                  struct keys_pass *out);

/* Wipes and frees. Safe on a zeroed struct. */
void keys_pass_release(struct keys_pass *p);

#endif
