/*
 * parley-keys: the brand admin's key tool. It creates the brand identity,
 * certifies agents from their requests, revokes certificates, signs the
 * brand directory, and shows or verifies any of these files. This file
 * only dispatches to the commands and prints the overall help.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util.h"

static const char usage[] =
    "Usage: parley-keys COMMAND [OPTIONS]\n"
    "\n"
    "Brand admin:\n"
    "  brand init        create the brand key and its two pin files (relay, client)\n"
    "  brand client-pin  write the client pin again from the brand key\n"
    "  brand sign        issue an agent certificate from a certificate request\n"
    "  brand revoke      add a certificate serial to the revocation list\n"
    "  brand directory   assemble and sign the brand directory\n"
    "  brand order       erasure and access orders for a customer key: sign, submit, status\n"
    "Agent:\n"
    "  agent request     create an agent key and a certificate request\n"
    "Anyone:\n"
    "  show FILE         print what a Parley file holds\n"
    "  verify FILE       verify a file against the pinned brand key\n"
    "\n"
    "'parley-keys COMMAND --help' describes each command.\n"
    "Exit status: 0 success, 1 failure (verification, files, passphrase), 2 usage error.\n";

static const char usage_brand[] =
    "Usage: parley-keys brand init|client-pin|sign|revoke|directory|order [OPTIONS]\n"
    "  init        create the brand key and its two pin files (relay, client)\n"
    "  client-pin  write the client pin again from the brand key\n"
    "  sign        issue an agent certificate from a certificate request\n"
    "  revoke      add a certificate serial to the revocation list\n"
    "  directory   assemble and sign the brand directory\n"
    "  order       erasure and access orders for a customer key: sign, submit, status\n";

static const char usage_agent[] = "Usage: parley-keys agent request [OPTIONS]\n"
                                  "  request     create an agent key and a certificate request\n";

struct command {
    const char *group; /* NULL for top-level commands */
    const char *name;
    const char *full_name;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"brand", "init", "brand init", cmd_brand_init},
    {"brand", "client-pin", "brand client-pin", cmd_brand_client_pin},
    {"brand", "sign", "brand sign", cmd_brand_sign},
    {"brand", "revoke", "brand revoke", cmd_brand_revoke},
    {"brand", "directory", "brand directory", cmd_brand_directory},
    {"brand", "order", "brand order", cmd_brand_order},
    {"agent", "request", "agent request", cmd_agent_request},
    {NULL, "show", "show", cmd_show},
    {NULL, "verify", "verify", cmd_verify},
};

static int is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "help") == 0;
}

/* Runs cmd with argv[0] replaced by its full name, so messages say "brand sign: ...". */
static int run_command(const struct command *cmd, int argc, char **argv)
{
    char *name = (char *)cmd->full_name;

    argv[0] = name;
    return cmd->run(argc, argv);
}

/* "brand X ..." and "agent X ...": argv[0] is the group. */
static int dispatch_group(const char *group, const char *group_usage, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, KEYS_PROG ": %s: which command? (see '" KEYS_PROG " %s --help')\n", group,
                group);
        return KEYS_EXIT_USAGE;
    }
    if (is_help(argv[1])) {
        fputs(group_usage, stdout);
        return KEYS_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (commands[i].group != NULL && strcmp(commands[i].group, group) == 0 &&
            strcmp(commands[i].name, argv[1]) == 0)
            return run_command(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, KEYS_PROG ": %s: unknown command '%s' (see '" KEYS_PROG " %s --help')\n", group,
            argv[1], group);
    return KEYS_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (parley_init() != PARLEY_OK) {
        report_error(NULL, "cannot initialise libsodium");
        return KEYS_EXIT_FAIL;
    }
    if (argc < 2) {
        fputs(usage, stderr);
        return KEYS_EXIT_USAGE;
    }
    if (is_help(argv[1])) {
        fputs(usage, stdout);
        return KEYS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf(KEYS_PROG " %s\n", PARLEY_VERSION_STRING);
        return KEYS_EXIT_OK;
    }
    if (strcmp(argv[1], "brand") == 0)
        return dispatch_group("brand", usage_brand, argc - 1, argv + 1);
    if (strcmp(argv[1], "agent") == 0)
        return dispatch_group("agent", usage_agent, argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (commands[i].group == NULL && strcmp(commands[i].name, argv[1]) == 0)
            return run_command(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, KEYS_PROG ": unknown command '%s' (see '" KEYS_PROG " --help')\n", argv[1]);
    return KEYS_EXIT_USAGE;
}
