/*
 * "parley-keys brand client-pin": writes the client pin again from the
 * brand key, for an admin who lost it or created the brand before
 * directories were sealed. The directory key is derived from the brand
 * key, so the file is byte for byte the one brand init wrote.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "commands.h"
#include "files.h"
#include "keyfile.h"
#include "pin.h"
#include "util.h"

#define CMD "brand client-pin"

static const char usage[] =
    "Usage: parley-keys brand client-pin --key brand.key --out brand.client [--force]\n"
    "                                    [--passphrase-file FILE | --passphrase-env VAR]\n"
    "\n"
    "Writes the client pin (brand id, brand key and directory key) from the brand key,\n"
    "as brand init did. Ship it with widgets and agent clients; never give it to a\n"
    "relay (relays get the .pub relay pin).\n"
    "\n"
    "  --key FILE              the brand key file\n"
    "  --out FILE              the client pin to write\n"
    "  --force                 replace an existing --out\n" CLI_HELP_PASS;

struct client_pin_opts {
    const char *key;
    const char *out;
    int force;
    struct passphrase_source pass;
};

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, struct client_pin_opts *o)
{
    const struct cli_opt opts[] = {
        CLI_STR_OPT("key", &o->key),
        CLI_STR_OPT("out", &o->out),
        CLI_FLAG_OPT("force", &o->force),
        CLI_END_OPT,
    };
    int rc;

    memset(o, 0, sizeof(*o));
    if ((rc = cli_parse_options(CMD, usage, argc, argv, opts, &o->pass)) != -1)
        return rc;
    if (o->key == NULL || o->out == NULL)
        return cli_usage_error(CMD, "--key and --out are required");
    if (strcmp(o->key, o->out) == 0)
        return cli_usage_error(CMD, "--key and --out name the same file");
    return -1;
}

static int run(const struct client_pin_opts *o)
{
    parley_identity *brand = NULL;
    parley_pin pin;
    char line[PARLEY_PIN_MAX + 1];
    size_t line_len;
    int rc = KEYS_EXIT_FAIL;

    memset(&pin, 0, sizeof(pin));
    memset(line, 0, sizeof(line));
    /* Before the passphrase prompt: no point unlocking a key for a refused write. */
    if (!o->force && files_refuse_existing(o->out) != 0)
        return KEYS_EXIT_FAIL;
    if (keys_brand_load(o->key, &o->pass, &brand, pin.brand_id) != 0)
        goto done;
    memcpy(pin.brand_pk, parley_identity_sign_pk(brand), 32);
    pin.has_directory_key = 1;
    parley_directory_key(brand, pin.directory_key);
    line_len = parley_pin_format(&pin, line, sizeof(line));
    if (line_len == 0 ||
        files_write(o->out, NULL, (const uint8_t *)line, line_len, FILES_MODE_PUBLIC, o->force) != 0)
        goto done;
    printf("brand id:     %s\n", pin.brand_id);
    printf("client pin:   %s (ship it with widgets and agent clients; never to a relay)\n", o->out);
    rc = KEYS_EXIT_OK;
done:
    sodium_memzero(&pin, sizeof(pin));
    sodium_memzero(line, sizeof(line));
    parley_identity_free(brand);
    return rc;
}

int cmd_brand_client_pin(int argc, char **argv)
{
    struct client_pin_opts o;
    int rc = parse(argc, argv, &o);

    return rc >= 0 ? rc : run(&o);
}
