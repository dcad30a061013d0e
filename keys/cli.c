/*
 * Command-line plumbing for parley-keys. Each command describes its
 * options in a table; cli_parse() reads argv with getopt_long() against it,
 * so the messages and the shared options are identical across commands.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "util.h"

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

/* getopt_long() values: an option's index in its table from OPT_BASE on. */
enum { OPT_HELP = 'h', OPT_PASS_FILE = 254, OPT_PASS_ENV = 255, OPT_BASE = 256 };

#define CLI_MAX_OPTS 40

/* Reports what getopt_long() returned for an unknown option or missing argument. */
static int bad_option(const char *cmd, int c, char **argv)
{
    const char *opt = optind > 0 ? argv[optind - 1] : "?";

    if (c == ':')
        return cli_usage_error(cmd, "option %s needs a value", opt);
    if (optopt != 0 && optopt < OPT_PASS_FILE)
        return cli_usage_error(cmd, "unknown option -%c", optopt);
    return cli_usage_error(cmd, "unknown option %s", opt);
}

/* --passphrase-file or --passphrase-env: 0, or an exit code when both are given. */
static int pass_option(const char *cmd, int c, const char *arg, struct passphrase_source *src)
{
    if (src->file != NULL || src->env != NULL)
        return cli_usage_error(cmd, "give at most one of --passphrase-file and --passphrase-env");
    if (c == OPT_PASS_FILE)
        src->file = arg;
    else
        src->env = arg;
    return 0;
}

int cli_u64(const char *cmd, const char *opt, const char *arg, uint64_t *out)
{
    if (keys_parse_u64(arg, out))
        return 0;
    cli_usage_error(cmd, "%s wants a decimal number, not '%s'", opt, arg);
    return -1;
}

/* A number option within its bounds: 0, or an exit code after a message. */
static int number_option(const char *cmd, const struct cli_opt *o, const char *opt,
                         const char *arg)
{
    uint64_t *v = o->dest;

    if (cli_u64(cmd, opt, arg, v) != 0)
        return KEYS_EXIT_USAGE;
    if (*v >= o->min && (o->max == 0 || *v <= o->max))
        return 0;
    if (o->max == 0)
        return cli_usage_error(cmd, "%s must be at least %" PRIu64, opt, o->min);
    return cli_usage_error(cmd, "%s must be between %" PRIu64 " and %" PRIu64, opt, o->min,
                           o->max);
}

/* The value of option o: 0, or an exit code after a message. */
static int take_option(const char *cmd, const struct cli_opt *o, const char *arg)
{
    char opt[80];

    snprintf(opt, sizeof(opt), "--%s", o->name);
    if (o->seen != NULL)
        *o->seen = 1;
    switch (o->kind) {
    case CLI_STR:
        *(const char **)o->dest = arg;
        return 0;
    case CLI_FLAG:
        *(int *)o->dest = 1;
        return 0;
    case CLI_U64:
        return number_option(cmd, o, opt, arg);
    case CLI_KDF:
        if (passphrase_cost_parse(arg, o->dest))
            return 0;
        return cli_usage_error(cmd, "--kdf wants " PASSPHRASE_COST_NAMES ", not '%s'", arg);
    default: /* CLI_CALL */
        return o->call(cmd, opt, arg, o->dest);
    }
}

int cli_parse(const char *cmd, const char *usage, int argc, char **argv,
              const struct cli_opt *opts, struct passphrase_source *pass, int *first)
{
    struct option longopts[CLI_MAX_OPTS + 4];
    size_t n = 0;
    int c, rc;

    for (; opts[n].name != NULL; n++) {
        if (n == CLI_MAX_OPTS)
            return cli_usage_error(cmd, "too many options in this build"); /* a bug: caught by tests */
        longopts[n] = (struct option){opts[n].name,
                                      opts[n].kind == CLI_FLAG ? no_argument : required_argument,
                                      NULL, OPT_BASE + (int)n};
    }
    longopts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    if (pass != NULL) {
        longopts[n++] = (struct option){"passphrase-file", required_argument, NULL, OPT_PASS_FILE};
        longopts[n++] = (struct option){"passphrase-env", required_argument, NULL, OPT_PASS_ENV};
    }
    longopts[n] = (struct option){NULL, 0, NULL, 0};
    optind = 0; /* glibc: full re-initialisation, as a new argv follows */
    opterr = 0;
    /* Short options: only -h. The leading ':' makes a missing argument visible. */
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == OPT_HELP)
            return cli_help(usage);
        if (pass != NULL && (c == OPT_PASS_FILE || c == OPT_PASS_ENV))
            rc = pass_option(cmd, c, optarg, pass);
        else if (c >= OPT_BASE)
            rc = take_option(cmd, &opts[c - OPT_BASE], optarg);
        else
            rc = bad_option(cmd, c, argv);
        if (rc != 0)
            return rc;
    }
    *first = optind;
    return -1;
}

int cli_parse_options(const char *cmd, const char *usage, int argc, char **argv,
                      const struct cli_opt *opts, struct passphrase_source *pass)
{
    int first, rc = cli_parse(cmd, usage, argc, argv, opts, pass, &first);

    if (rc == -1 && first < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[first]);
    return rc;
}
