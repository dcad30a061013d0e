/*
 * "parley-keys agent request": run by an agent on their own machine. It
 * creates the agent's identity, keeps it in a passphrase-encrypted key
 * file, and writes a self-signed certificate request for the brand admin.
 * The request holds public keys only; secrets never leave the key file.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "describe.h"
#include "files.h"
#include "keyfile.h"
#include "util.h"

#define CMD "agent request"

static const char usage[] =
    "Usage: parley-keys agent request --agent-id ID --name \"Display Name\" --key agent.key\n"
    "                                 --out agent.req [--force] [--kdf COST]\n"
    "                                 [--passphrase-file FILE | --passphrase-env VAR]\n"
    "\n"
    "Creates the agent's identity in --key (encrypted under a new passphrase, mode 0600)\n"
    "and a certificate request in --out to send to the brand admin.\n"
    "\n"
    "  --agent-id ID           agent id: 1-64 characters of a-z 0-9 . _ -\n"
    "  --name NAME             display name customers see (UTF-8, 1-128 bytes)\n"
    "  --key FILE              the encrypted agent key file to create\n"
    "  --out FILE              the certificate request to create\n"
    "  --force                 replace existing files\n" CLI_HELP_KDF
    "                          (default: interactive)\n" CLI_HELP_PASS;

struct request_opts {
    const char *agent_id;
    const char *name;
    const char *key;
    const char *out;
    int force;
    parley_kdf_cost cost;
    struct passphrase_source pass;
};

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, struct request_opts *o)
{
    const struct cli_opt opts[] = {
        CLI_STR_OPT("agent-id", &o->agent_id),
        CLI_STR_OPT("name", &o->name),
        CLI_STR_OPT("key", &o->key),
        CLI_STR_OPT("out", &o->out),
        CLI_FLAG_OPT("force", &o->force),
        CLI_KDF_OPT(&o->cost),
        CLI_END_OPT,
    };
    int rc;

    memset(o, 0, sizeof(*o));
    o->cost = PARLEY_KDF_INTERACTIVE;
    if ((rc = cli_parse_options(CMD, usage, argc, argv, opts, &o->pass)) != -1)
        return rc;
    if (o->agent_id == NULL || o->name == NULL || o->key == NULL || o->out == NULL)
        return cli_usage_error(CMD, "--agent-id, --name, --key and --out are required");
    if (!parley_id_valid(o->agent_id))
        return cli_usage_error(CMD, "invalid agent id '%s' (1-64 of a-z 0-9 . _ -)", o->agent_id);
    if (!parley_display_name_valid(o->name))
        return cli_usage_error(CMD, "invalid display name (1-128 bytes of UTF-8, no controls)");
    if (strcmp(o->key, o->out) == 0)
        return cli_usage_error(CMD, "--key and --out name the same file");
    return -1;
}

/* Both files or neither: stage both, then rename both. */
static int write_both(const struct request_opts *o, const uint8_t *key, size_t key_len,
                      const uint8_t *req, size_t req_len)
{
    struct files_staged k, r;

    if (files_stage(&k, o->key, FILES_MAGIC_KEY, key, key_len, FILES_MODE_SECRET) != 0)
        return -1;
    if (files_stage(&r, o->out, FILES_MAGIC_REQUEST, req, req_len, FILES_MODE_PUBLIC) != 0) {
        files_discard(&k);
        return -1;
    }
    if (files_commit(&k, o->force) != 0) {
        files_discard(&r);
        return -1;
    }
    if (files_commit(&r, o->force) != 0) {
        if (!o->force)
            unlink(o->key);
        return -1;
    }
    return 0;
}

static int run(const struct request_opts *o)
{
    parley_identity *agent = NULL;
    char label[KEYS_LABEL_MAX + 1];
    uint8_t *key = NULL, *req = NULL;
    size_t key_len = 0, req_len = 0;
    parley_err err;
    int rc = KEYS_EXIT_FAIL;

    if (!o->force && (files_refuse_existing(o->key) != 0 || files_refuse_existing(o->out) != 0))
        return KEYS_EXIT_FAIL;
    err = parley_identity_generate(&agent);
    if (err == PARLEY_OK)
        err = parley_request_create(agent, o->agent_id, o->name, keys_now(), &req, &req_len);
    if (err != PARLEY_OK) {
        report_error(o->out, "cannot create the request: %s", keys_strerror(err));
        goto fail;
    }
    snprintf(label, sizeof(label), KEYS_LABEL_AGENT "%s", o->agent_id);
    if (keys_identity_seal(agent, label, o->key, &o->pass, o->cost, &key, &key_len) != 0 ||
        write_both(o, key, key_len, req, req_len) != 0)
        goto fail;
    printf("agent id:     %s\n", o->agent_id);
    printf("name:         %s\n", o->name);
    keys_print_keys(parley_identity_sign_pk(agent), parley_identity_box_pk(agent));
    printf("key file:     %s (encrypted, stays on this machine)\n", o->key);
    printf("request:      %s (send it to the brand admin and read them the fingerprint)\n", o->out);
    rc = KEYS_EXIT_OK;
fail:
    parley_free(key, key_len);
    parley_free(req, req_len);
    parley_identity_free(agent);
    return rc;
}

int cmd_agent_request(int argc, char **argv)
{
    struct request_opts o;
    int rc = parse(argc, argv, &o);

    return rc >= 0 ? rc : run(&o);
}
