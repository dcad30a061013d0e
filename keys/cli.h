/*
 * Command-line plumbing shared by the parley-keys commands: each command
 * describes its options in a table that cli_parse() reads, so every
 * command spells, checks and reports its options the same way; help and
 * usage-error output; the passphrase and KDF options several commands
 * accept.
 */
#ifndef KEYS_CLI_H
#define KEYS_CLI_H

#include <stdint.h>

#include <parley/parley.h>

#include "passphrase.h"

/* What an option's value is, and where cli_parse() puts it. */
enum cli_kind {
    CLI_STR,  /* const char **: the argument as given */
    CLI_FLAG, /* int *: set to 1; the option takes no argument */
    CLI_U64,  /* uint64_t *: a decimal number from min to max */
    CLI_KDF,  /* parley_kdf_cost *: interactive, moderate or sensitive */
    CLI_CALL, /* call(cmd, "--name", argument, dest): 0, or an exit code after a message */
};

struct cli_opt {
    const char *name;  /* without the leading "--"; NULL ends a table */
    enum cli_kind kind;
    void *dest;
    int *seen;         /* set to 1 when the option is given; may be NULL */
    uint64_t min, max; /* CLI_U64; max 0: no upper bound */
    int (*call)(const char *cmd, const char *opt, const char *arg, void *dest);
};

/* clang-format off */
#define CLI_STR_OPT(n, d)            {(n), CLI_STR, (d), NULL, 0, 0, NULL}
#define CLI_FLAG_OPT(n, d)           {(n), CLI_FLAG, (d), NULL, 0, 0, NULL}
#define CLI_U64_OPT(n, d, s, lo, hi) {(n), CLI_U64, (d), (s), (lo), (hi), NULL}
#define CLI_KDF_OPT(d)               {"kdf", CLI_KDF, (d), NULL, 0, 0, NULL}
#define CLI_CALL_OPT(n, f, d)        {(n), CLI_CALL, (d), NULL, 0, 0, (f)}
#define CLI_END_OPT                  {NULL, CLI_STR, NULL, NULL, 0, 0, NULL}
/* clang-format on */

/*
 * Parses a command's argv (argv[0] is the command's name) against opts,
 * plus --help and, when pass is not NULL, --passphrase-file and
 * --passphrase-env. Operands are left in argv[*first .. argc). Returns -1
 * to go on, or an exit code (KEYS_EXIT_OK after --help, KEYS_EXIT_USAGE
 * after a message on stderr).
 */
int cli_parse(const char *cmd, const char *usage, int argc, char **argv,
              const struct cli_opt *opts, struct passphrase_source *pass, int *first);

/* The same for a command that takes no operands. */
int cli_parse_options(const char *cmd, const char *usage, int argc, char **argv,
                      const struct cli_opt *opts, struct passphrase_source *pass);

/* Prints usage on stdout; returns KEYS_EXIT_OK. */
int cli_help(const char *usage);

/* Prints "parley-keys: <cmd>: <message> (see --help)"; returns KEYS_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a required number option; returns 0 or prints a usage error and returns -1. */
int cli_u64(const char *cmd, const char *opt, const char *arg, uint64_t *out);

/* Text shared by every usage message that takes a passphrase. */
#define CLI_HELP_PASS                                                                              \
    "  --passphrase-file FILE  read the passphrase from the first line of FILE\n"                  \
    "  --passphrase-env VAR    read the passphrase from environment variable VAR\n"                \
    "                          (default: ask on the terminal, echo off)\n"
#define CLI_HELP_KDF                                                                               \
    "  --kdf COST              passphrase hashing cost: interactive, moderate or\n"                \
    "                          sensitive\n"

#endif
