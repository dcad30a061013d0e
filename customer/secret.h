/*
 * The store passphrase of parley-customer: from an environment variable
 * or a file for scripts and demos, else typed on the terminal.
 */
#ifndef PARLEY_CUSTOMER_SECRET_H
#define PARLEY_CUSTOMER_SECRET_H

#include <stddef.h>

#define SECRET_MAX 1024u

/* A passphrase in sodium_malloc memory; wiped by secret_release. */
struct secret {
    char *buf;
    size_t len;
};

/*
 * Fills s from the variable env_var (if not NULL), else the first line of
 * file (if not NULL), else /dev/tty with echo off. Refuses an empty or
 * over-long passphrase. Returns 0, or -1 after printing why on stderr.
 */
int secret_get(struct secret *s, const char *env_var, const char *file);
void secret_release(struct secret *s);

#endif
