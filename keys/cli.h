/*
 * Command-line plumbing shared by the parley-keys commands: the long
 * option identifiers, help and usage-error output, and the passphrase and
 * KDF options that several commands accept.
 */
#ifndef KEYS_CLI_H
#define KEYS_CLI_H

#include <getopt.h>
#include <stdint.h>

#include <parley/parley.h>

#include "passphrase.h"

enum keys_opt {
    OPT_HELP = 'h',
    OPT_FIRST_LONG = 256,
    OPT_AGENT_ID,
    OPT_AT,
    OPT_BRAND,
    OPT_BRAND_ID,
    OPT_CLIENT_PIN,
    OPT_DAYS,
    OPT_FORCE,
    OPT_KDF,
    OPT_KEY,
    OPT_NAME,
    OPT_NOT_BEFORE,
    OPT_NOTICE,
    OPT_NOTICE_VERSION,
    OPT_OUT,
    OPT_PASS_ENV,
    OPT_PASS_FILE,
    OPT_PUB,
    OPT_PURPOSE,
    OPT_OPTIONAL_PURPOSE,
    OPT_KEEP_ON_ERASURE,
    OPT_GUARD,
    OPT_HISTORY_DAYS,
    OPT_LEGAL_HOLD_DAYS,
    OPT_QUEUE,
    OPT_REVOCATIONS,
    OPT_SERIAL,
    OPT_VALID_DAYS,
    OPT_VERSION,
    OPT_CUSTOMER,
    OPT_RELAY,
    OPT_DIRECTORY,
    OPT_TIMEOUT
};

/* clang-format off */
#define CLI_OPT_HELP {"help", no_argument, NULL, OPT_HELP}
#define CLI_OPTS_PASS                                                                   \
    {"passphrase-file", required_argument, NULL, OPT_PASS_FILE},                       \
    {"passphrase-env", required_argument, NULL, OPT_PASS_ENV}
#define CLI_OPT_END {NULL, 0, NULL, 0}
/* clang-format on */

/* Short options: only -h. The leading ':' makes a missing argument visible. */
#define CLI_SHORT ":h"

/* Resets getopt for a new command's argv (argv[0] is the command's name). */
void cli_reset(void);

/* Prints usage on stdout; returns KEYS_EXIT_OK. */
int cli_help(const char *usage);

/* Prints "parley-keys: <cmd>: <message> (see --help)"; returns KEYS_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports what getopt_long() returned for an unknown option or missing argument. */
int cli_bad_option(const char *cmd, int c, char **argv);

/*
 * Handles --passphrase-file and --passphrase-env. Returns 1 if c was one of
 * them, 0 if not, -1 (after a usage message) when both sources are given.
 */
int cli_pass_option(const char *cmd, int c, const char *arg, struct passphrase_source *src);

/* Parses a required number option; returns 0 or prints a usage error and returns -1. */
int cli_u64(const char *cmd, const char *opt, const char *arg, uint64_t *out);

/* Parses --kdf; returns 0 or prints a usage error and returns -1. */
int cli_kdf(const char *cmd, const char *arg, parley_kdf_cost *out);

/* Text shared by every usage message that takes a passphrase. */
#define CLI_HELP_PASS                                                                              \
    "  --passphrase-file FILE  read the passphrase from the first line of FILE\n"                  \
    "  --passphrase-env VAR    read the passphrase from environment variable VAR\n"                \
    "                          (default: ask on the terminal, echo off)\n"
#define CLI_HELP_KDF                                                                               \
    "  --kdf COST              passphrase hashing cost: interactive, moderate or\n"                \
    "                          sensitive\n"

#endif
