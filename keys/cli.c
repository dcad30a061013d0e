/*
 * Command-line plumbing for parley-keys. Each command parses its own argv
 * with getopt_long(); these helpers keep the messages and the shared
 * options identical across commands.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "util.h"

void cli_reset(void)
{
    optind = 0; /* glibc: full re-initialisation, as a new argv follows */
    opterr = 0;
}

int cli_help(const char *usage)
{
    fputs(usage, stdout);
    return KEYS_EXIT_OK;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, KEYS_PROG ": %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see '" KEYS_PROG " %s --help')\n", cmd);
    return KEYS_EXIT_USAGE;
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
    const char *opt = optind > 0 ? argv[optind - 1] : "?";

    if (c == ':')
        return cli_usage_error(cmd, "option %s needs a value", opt);
    if (optopt != 0 && optopt < OPT_FIRST_LONG)
        return cli_usage_error(cmd, "unknown option -%c", optopt);
    return cli_usage_error(cmd, "unknown option %s", opt);
}

int cli_pass_option(const char *cmd, int c, const char *arg, struct passphrase_source *src)
{
    if (c != OPT_PASS_FILE && c != OPT_PASS_ENV)
        return 0;
    if (src->file != NULL || src->env != NULL) {
        cli_usage_error(cmd, "give at most one of --passphrase-file and --passphrase-env");
        return -1;
    }
    if (c == OPT_PASS_FILE)
        src->file = arg;
    else
        src->env = arg;
    return 1;
}

int cli_u64(const char *cmd, const char *opt, const char *arg, uint64_t *out)
{
    if (keys_parse_u64(arg, out))
        return 0;
    cli_usage_error(cmd, "%s wants a decimal number, not '%s'", opt, arg);
    return -1;
}

int cli_kdf(const char *cmd, const char *arg, parley_kdf_cost *out)
{
    if (passphrase_cost_parse(arg, out))
        return 0;
    cli_usage_error(cmd, "--kdf wants " PASSPHRASE_COST_NAMES ", not '%s'", arg);
    return -1;
}
