/*
 * "parley-keys brand init": creates a brand identity. The secret goes
 * into a passphrase-encrypted key file the admin keeps; the public half
 * goes into the pin file that widgets and agent clients are shipped with.
 * Both files are written, or neither.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "files.h"
#include "keyfile.h"
#include "pin.h"
#include "util.h"

#define CMD      "brand init"
#define PATH_CAP 4096

static const char usage[] =
    "Usage: parley-keys brand init --brand-id ID --out brand.key [--pub brand.pub] [--force]\n"
    "                              [--kdf COST] [--passphrase-file FILE | --passphrase-env VAR]\n"
    "\n"
    "Creates the brand identity: writes it to --out encrypted under a new passphrase\n"
    "(mode 0600), and writes the brand public pin file for widgets and agent clients.\n"
    "\n"
    "  --brand-id ID           brand id: 1-64 characters of a-z 0-9 . _ -\n"
    "  --out FILE              the encrypted brand key file to create\n"
    "  --pub FILE              the pin file (default: --out with .key replaced by .pub)\n"
    "  --force                 replace existing files\n" CLI_HELP_KDF
    "                          (default: moderate)\n" CLI_HELP_PASS;

struct init_opts {
    const char *brand_id;
    const char *out;
    const char *pub;
    char pub_default[PATH_CAP];
    int force;
    parley_kdf_cost cost;
    struct keys_pass_src pass;
};

/* brand.key -> brand.pub; anything else gets ".pub" appended. */
static int default_pub(const char *out, char pub[PATH_CAP])
{
    size_t n = strlen(out);
    int w;

    if (n > 4 && strcmp(out + n - 4, ".key") == 0)
        w = snprintf(pub, PATH_CAP, "%.*s.pub", (int)(n - 4), out);
    else
        w = snprintf(pub, PATH_CAP, "%s.pub", out);
    return w > 0 && w < PATH_CAP ? 0 : -1;
}

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, struct init_opts *o)
{
    static const struct option longopts[] = {
        CLI_OPT_HELP,
        {"brand-id", required_argument, NULL, OPT_BRAND_ID},
        {"out", required_argument, NULL, OPT_OUT},
        {"pub", required_argument, NULL, OPT_PUB},
        {"force", no_argument, NULL, OPT_FORCE},
        {"kdf", required_argument, NULL, OPT_KDF},
        CLI_OPTS_PASS,
        CLI_OPT_END,
    };
    int c, p;

    memset(o, 0, sizeof(*o));
    o->cost = PARLEY_KDF_MODERATE;
    cli_reset();
    while ((c = getopt_long(argc, argv, CLI_SHORT, longopts, NULL)) != -1) {
        if ((p = cli_pass_option(CMD, c, optarg, &o->pass)) != 0) {
            if (p < 0)
                return KEYS_EXIT_USAGE;
            continue;
        }
        switch (c) {
        case OPT_HELP:
            return cli_help(usage);
        case OPT_BRAND_ID:
            o->brand_id = optarg;
            break;
        case OPT_OUT:
            o->out = optarg;
            break;
        case OPT_PUB:
            o->pub = optarg;
            break;
        case OPT_FORCE:
            o->force = 1;
            break;
        case OPT_KDF:
            if (cli_kdf(CMD, optarg, &o->cost) != 0)
                return KEYS_EXIT_USAGE;
            break;
        default:
            return cli_bad_option(CMD, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (o->brand_id == NULL || o->out == NULL)
        return cli_usage_error(CMD, "--brand-id and --out are required");
    if (!parley_id_valid(o->brand_id))
        return cli_usage_error(CMD, "invalid brand id '%s' (1-64 of a-z 0-9 . _ -)", o->brand_id);
    if (o->pub == NULL) {
        if (default_pub(o->out, o->pub_default) != 0)
            return cli_usage_error(CMD, "--out path too long");
        o->pub = o->pub_default;
    }
    if (strcmp(o->pub, o->out) == 0)
        return cli_usage_error(CMD, "--pub and --out name the same file");
    return -1;
}

/* Stages both files, then renames both, so a failure leaves neither new file. */
static int write_both(const struct init_opts *o, const uint8_t *key, size_t key_len,
                      const char *pin_line, size_t pin_len)
{
    struct keys_staged k, p;

    if (keys_stage(&k, o->out, KEYS_MAGIC_KEY, key, key_len, KEYS_MODE_SECRET) != 0)
        return -1;
    if (keys_stage(&p, o->pub, NULL, (const uint8_t *)pin_line, pin_len, KEYS_MODE_PUBLIC) != 0) {
        keys_discard(&k);
        return -1;
    }
    if (keys_commit(&k, o->force) != 0) {
        keys_discard(&p);
        return -1;
    }
    if (keys_commit(&p, o->force) != 0) {
        /* A key without its pin file is of no use; do not leave a new one behind. */
        if (!o->force)
            unlink(o->out);
        return -1;
    }
    return 0;
}

static int run(const struct init_opts *o)
{
    parley_identity *brand = NULL;
    struct keys_pin pin;
    char line[KEYS_PIN_MAX];
    char label[KEYS_LABEL_MAX + 1];
    char hex[KEYS_HEX32_LEN], fp[PARLEY_FINGERPRINT_LEN];
    uint8_t *key = NULL;
    size_t key_len = 0, line_len;
    parley_err err;
    int rc = KEYS_EXIT_FAIL;

    if (!o->force && (keys_refuse_existing(o->out) != 0 || keys_refuse_existing(o->pub) != 0))
        return KEYS_EXIT_FAIL;
    err = parley_identity_generate(&brand);
    if (err != PARLEY_OK) {
        keys_error(o->out, "cannot create the brand key: %s", keys_strerror(err));
        goto fail;
    }
    snprintf(label, sizeof(label), KEYS_LABEL_BRAND "%s", o->brand_id);
    if (keys_identity_seal(brand, label, o->out, &o->pass, o->cost, &key, &key_len) != 0)
        goto fail;
    memcpy(pin.brand_id, o->brand_id, strlen(o->brand_id) + 1);
    memcpy(pin.brand_pk, parley_identity_sign_pk(brand), 32);
    line_len = keys_pin_format(&pin, line);
    if (line_len == 0 || write_both(o, key, key_len, line, line_len) != 0)
        goto fail;
    keys_hex32(pin.brand_pk, hex);
    parley_fingerprint(pin.brand_pk, fp);
    printf("brand id:     %s\n", o->brand_id);
    printf("public key:   %s\n", hex);
    printf("fingerprint:  %s\n", fp);
    printf("key file:     %s (encrypted, keep it offline)\n", o->out);
    printf("pin file:     %s (ship it with widgets and agent clients)\n", o->pub);
    rc = KEYS_EXIT_OK;
fail:
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
