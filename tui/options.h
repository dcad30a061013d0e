/*
 * parley-agent's command line: the files it names (brand pin, the
 * agent's key file and certificate, the optional directory to publish),
 * where the passphrase comes from, and the data-protection switches. The
 * files themselves are read by the programs' shared code (common/). No
 * curses here.
 */
#ifndef PARLEY_TUI_OPTIONS_H
#define PARLEY_TUI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "parley/parley.h"
#include "passphrase.h"

struct options {
    const char *relay;
    const char *brand_path;
    const char *key_path;
    const char *cert_path;
    const char *store_path;
    const char *directory_path;   /* optional: a directory this agent publishes */
    struct passphrase_source pass; /* --passphrase-file, --passphrase-env */
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

#endif
