/*
 * parley-agent's command line and the files it names: the brand pin
 * file, the agent's key file and certificate, the optional directory to
 * publish, and where the passphrase comes from. No curses here.
 */
#ifndef PARLEY_TUI_OPTIONS_H
#define PARLEY_TUI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "parley/parley.h"

#define OPTIONS_MAX_PASSPHRASE 1024u

struct options {
    const char *relay;
    const char *brand_path;
    const char *key_path;
    const char *cert_path;
    const char *store_path;
    const char *directory_path;   /* optional: a directory this agent publishes */
    const char *passphrase_env;
    const char *passphrase_file;
    parley_kdf_cost kdf;          /* for a new store and saved-replies file */
    parley_scan_policy guard;     /* the sensitive-data guard before a send */
    int keep_on_erasure;          /* keep conversations a customer asks to erase */
    uint32_t history_days;        /* 0: closed conversations kept until erased */
    int help;
};

/*
 * Parses argv. On a usage error writes one line into err and returns -1;
 * 0 otherwise (options->help set for --help).
 */
int options_parse(struct options *o, int argc, char **argv, char *err, size_t err_cap);
extern const char options_usage[];

/*
 * Reads a binary file that starts with the 8-byte magic; *out (malloc)
 * gets the bytes after it. Returns 0, or -1 with a one-line reason in err.
 */
int options_load_magic(const char *path, const char *magic, size_t max, uint8_t **out,
                       size_t *out_len, char *err, size_t err_cap);

/* Reads a brand pin file "parley-brand-v1 <id> <hex>". 0 or -1 with err. */
int options_load_pin(const char *path, char id[PARLEY_MAX_ID + 1], uint8_t pk[32],
                     uint8_t dir_key[32], char *err, size_t err_cap);

/*
 * The passphrase from --passphrase-env or --passphrase-file (first line,
 * without its newline). Returns 1 when one was given and read, 0 when
 * the terminal must ask, -1 on error (err set). out is
 * OPTIONS_MAX_PASSPHRASE + 1 bytes; *len its length.
 */
int options_passphrase(const struct options *o, char *out, size_t *len, char *err,
                       size_t err_cap);

#endif
