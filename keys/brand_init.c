/*
 * "parley-keys brand init": creates a brand identity. The secret goes
 * into a passphrase-encrypted key file the admin keeps; the public half
 * goes into two pin files: the relay pin (brand key only) for relay
 * operators, and the client pin (brand key and directory key) that
 * widgets and agent clients are shipped with. All three files are
 * written, or none.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "commands.h"
#include "files.h"
#include "keyfile.h"
#include "pin.h"
#include "util.h"

#define CMD      "brand init"
#define PATH_CAP 4096

static const char usage[] =
    "Usage: parley-keys brand init --brand-id ID --out brand.key [--pub brand.pub]\n"
    "                              [--client-pin brand.client] [--force] [--kdf COST]\n"
    "                              [--passphrase-file FILE | --passphrase-env VAR]\n"
    "\n"
    "Creates the brand identity: writes it to --out encrypted under a new passphrase\n"
    "(mode 0600), the relay pin (brand key) for relay operators, and the client pin\n"
    "(brand key and directory key) for widgets and agent clients.\n"
    "\n"
    "  --brand-id ID           brand id: 1-64 characters of a-z 0-9 . _ -\n"
    "  --out FILE              the encrypted brand key file to create\n"
    "  --pub FILE              the relay pin (default: --out with .key replaced by .pub)\n"
    "  --client-pin FILE       the client pin (default: --out with .key replaced by\n"
    "                          .client); never give it to a relay\n"
    "  --force                 replace existing files\n" CLI_HELP_KDF
    "                          (default: moderate)\n" CLI_HELP_PASS;

struct init_opts {
    const char *brand_id;
    const char *out;
    const char *pub;
    const char *client;
    char pub_default[PATH_CAP];
    char client_default[PATH_CAP];
    int force;
    parley_kdf_cost cost;
    struct passphrase_source pass;
};

/* brand.key -> brand<ext>; anything else gets ext appended. */
static int default_path(const char *out, const char *ext, char path[PATH_CAP])
{
    size_t n = strlen(out);
    int w;

    if (n > 4 && strcmp(out + n - 4, ".key") == 0)
        w = snprintf(path, PATH_CAP, "%.*s%s", (int)(n - 4), out, ext);
    else
        w = snprintf(path, PATH_CAP, "%s%s", out, ext);
    return w > 0 && w < PATH_CAP ? 0 : -1;
}

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, struct init_opts *o)
{
    const struct cli_opt opts[] = {
        CLI_STR_OPT("brand-id", &o->brand_id),
        CLI_STR_OPT("out", &o->out),
        CLI_STR_OPT("pub", &o->pub),
        CLI_STR_OPT("client-pin", &o->client),
        CLI_FLAG_OPT("force", &o->force),
        CLI_KDF_OPT(&o->cost),
        CLI_END_OPT,
    };
    int rc;

    memset(o, 0, sizeof(*o));
    o->cost = PARLEY_KDF_MODERATE;
    if ((rc = cli_parse_options(CMD, usage, argc, argv, opts, &o->pass)) != -1)
        return rc;
    if (o->brand_id == NULL || o->out == NULL)
        return cli_usage_error(CMD, "--brand-id and --out are required");
    if (!parley_id_valid(o->brand_id))
        return cli_usage_error(CMD, "invalid brand id '%s' (1-64 of a-z 0-9 . _ -)", o->brand_id);
    if (o->pub == NULL) {
        if (default_path(o->out, ".pub", o->pub_default) != 0)
            return cli_usage_error(CMD, "--out path too long");
        o->pub = o->pub_default;
    }
    if (o->client == NULL) {
        if (default_path(o->out, ".client", o->client_default) != 0)
            return cli_usage_error(CMD, "--out path too long");
        o->client = o->client_default;
    }
    if (strcmp(o->pub, o->out) == 0)
        return cli_usage_error(CMD, "--pub and --out name the same file");
    if (strcmp(o->client, o->out) == 0)
        return cli_usage_error(CMD, "--client-pin and --out name the same file");
    if (strcmp(o->client, o->pub) == 0)
        return cli_usage_error(CMD, "--client-pin and --pub name the same file");
    return -1;
}

/* What brand init writes, in the order it commits them. */
struct init_file {
    const char *path;
    const char *magic;
    const uint8_t *data;
    size_t len;
    mode_t mode;
};

/* Stages every file, then renames each, so a failure leaves no new file. */
static int write_all_or_none(const struct init_opts *o, const struct init_file *files, size_t n)
{
    struct files_staged st[3];
    size_t staged = 0, committed = 0;

    if (n > sizeof(st) / sizeof(st[0]))
        return -1;
    for (; staged < n; staged++)
        if (files_stage(&st[staged], files[staged].path, files[staged].magic, files[staged].data,
                       files[staged].len, files[staged].mode) != 0)
            goto fail;
    for (; committed < n; committed++)
        if (files_commit(&st[committed], o->force) != 0)
            goto fail;
    return 0;
fail:
    /*
     * A key without its pins (or a pin without its key) is of no use: do not
     * leave a new one behind. With --force the old files are already gone.
     */
    for (size_t i = 0; !o->force && i < committed; i++)
        unlink(files[i].path);
    for (size_t i = 0; i < staged; i++)
        files_discard(&st[i]);
    return -1;
}

static int run(const struct init_opts *o)
{
    parley_identity *brand = NULL;
    parley_pin pin;
    char line[PARLEY_PIN_MAX + 1], client_line[PARLEY_PIN_MAX + 1];
    struct init_file files[3];
    char label[KEYS_LABEL_MAX + 1];
    char hex[KEYS_HEX32_LEN], fp[PARLEY_FINGERPRINT_LEN];
    uint8_t *key = NULL;
    size_t key_len = 0, line_len, client_len;
    parley_err err;
    int rc = KEYS_EXIT_FAIL;

    if (!o->force && (files_refuse_existing(o->out) != 0 || files_refuse_existing(o->pub) != 0 ||
                      files_refuse_existing(o->client) != 0))
        return KEYS_EXIT_FAIL;
    memset(&pin, 0, sizeof(pin));
    memset(client_line, 0, sizeof(client_line));
    err = parley_identity_generate(&brand);
    if (err != PARLEY_OK) {
        report_error(o->out, "cannot create the brand key: %s", keys_strerror(err));
        goto fail;
    }
    snprintf(label, sizeof(label), KEYS_LABEL_BRAND "%s", o->brand_id);
    if (keys_identity_seal(brand, label, o->out, &o->pass, o->cost, &key, &key_len) != 0)
        goto fail;
    memcpy(pin.brand_id, o->brand_id, strlen(o->brand_id) + 1);
    memcpy(pin.brand_pk, parley_identity_sign_pk(brand), 32);
    line_len = parley_pin_format(&pin, line, sizeof(line));
    pin.has_directory_key = 1;
    parley_directory_key(brand, pin.directory_key);
    client_len = parley_pin_format(&pin, client_line, sizeof(client_line));
    if (line_len == 0 || client_len == 0)
        goto fail;
    files[0] = (struct init_file){o->out, FILES_MAGIC_KEY, key, key_len, FILES_MODE_SECRET};
    files[1] = (struct init_file){o->pub, NULL, (const uint8_t *)line, line_len, FILES_MODE_PUBLIC};
    /* Public to the brand's customers (it is in every widget), never to the relay. */
    files[2] = (struct init_file){o->client, NULL, (const uint8_t *)client_line, client_len,
                                  FILES_MODE_PUBLIC};
    if (write_all_or_none(o, files, 3) != 0)
        goto fail;
    keys_hex32(pin.brand_pk, hex);
    parley_fingerprint(pin.brand_pk, fp);
    printf("brand id:     %s\n", o->brand_id);
    printf("public key:   %s\n", hex);
    printf("fingerprint:  %s\n", fp);
    printf("key file:     %s (encrypted, keep it offline)\n", o->out);
    printf("relay pin:    %s (give it to relay operators: brand key only)\n", o->pub);
    printf("client pin:   %s (ship it with widgets and agent clients; never to a relay)\n",
           o->client);
    rc = KEYS_EXIT_OK;
fail:
    sodium_memzero(&pin, sizeof(pin));
    sodium_memzero(client_line, sizeof(client_line));
    parley_free(key, key_len);
    parley_identity_free(brand);
    return rc;
}

int cmd_brand_init(int argc, char **argv)
{
    struct init_opts o;
    int rc = parse(argc, argv, &o);

    return rc >= 0 ? rc : run(&o);
}
