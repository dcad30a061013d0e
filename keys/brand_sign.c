/*
 * "parley-keys brand sign": turns an agent's certificate request into a
 * brand certificate. The request's self-signature proves the requester
 * holds the keys; the admin confirms the fingerprint with the agent out of
 * band before handing the certificate back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "commands.h"
#include "describe.h"
#include "files.h"
#include "keyfile.h"
#include "util.h"

#define CMD         "brand sign"
#define DAY_SECONDS 86400u
#define MAX_DAYS    36500u

static const char usage[] =
    "Usage: parley-keys brand sign REQUEST --key brand.key --out agent.cert\n"
    "                              [--name \"Display Name\"] [--days N] [--not-before UNIXTIME]\n"
    "                              [--serial N] [--force]\n"
    "                              [--passphrase-file FILE | --passphrase-env VAR]\n"
    "\n"
    "Checks the request's self-signature and issues a certificate signed by the brand key.\n"
    "\n"
    "  --key FILE              the brand key file\n"
    "  --out FILE              the certificate to create\n"
    "  --name NAME             display name (default: the one in the request)\n"
    "  --days N                validity in days, 1-36500 (default 365)\n"
    "  --not-before UNIXTIME   start of validity (default: now)\n"
    "  --serial N              serial number, non-zero (default: random 63-bit)\n"
    "  --force                 replace an existing certificate file\n" CLI_HELP_PASS;

struct sign_opts {
    const char *request;
    const char *key;
    const char *out;
    const char *name;
    uint64_t days;
    uint64_t not_before;
    int have_not_before;
    uint64_t serial;
    int force;
    struct passphrase_source pass;
};

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, struct sign_opts *o)
{
    const struct cli_opt opts[] = {
        CLI_STR_OPT("key", &o->key),
        CLI_STR_OPT("out", &o->out),
        CLI_STR_OPT("name", &o->name),
        CLI_U64_OPT("days", &o->days, NULL, 1, MAX_DAYS),
        CLI_U64_OPT("not-before", &o->not_before, &o->have_not_before, 0, 0),
        CLI_U64_OPT("serial", &o->serial, NULL, 1, 0),
        CLI_FLAG_OPT("force", &o->force),
        CLI_END_OPT,
    };
    int rc, first;

    memset(o, 0, sizeof(*o));
    o->days = 365;
    if ((rc = cli_parse(CMD, usage, argc, argv, opts, &o->pass, &first)) != -1)
        return rc;
    if (argc - first != 1)
        return cli_usage_error(CMD, "give exactly one REQUEST file");
    o->request = argv[first];
    if (o->key == NULL || o->out == NULL)
        return cli_usage_error(CMD, "--key and --out are required");
    if (o->name != NULL && !parley_display_name_valid(o->name))
        return cli_usage_error(CMD, "invalid display name (1-128 bytes of UTF-8, no controls)");
    return -1;
}

/* A random serial: 63 bits so it stays positive wherever it is read as signed. */
static uint64_t random_serial(void)
{
    uint64_t s = 0;

    while (s == 0) {
        randombytes_buf(&s, sizeof(s));
        s &= UINT64_C(0x7fffffffffffffff);
    }
    return s;
}

/* Reads and checks the request; fills info's agent fields. */
static int load_request(const char *path, parley_cert_info *info)
{
    struct files_object f;
    parley_err err;

    if (files_load(path, FILES_KIND_REQUEST, &f) != 0)
        return -1;
    err = parley_request_verify(f.body, f.body_len, info);
    files_release(&f);
    if (err != PARLEY_OK) {
        report_error(path, "%s", keys_strerror(err));
        return -1;
    }
    return 0;
}

/* Fills the certificate's brand, name, serial and window from the options. */
static int fill_cert(const struct sign_opts *o, const char *brand_id, parley_cert_info *info)
{
    uint64_t nb = o->have_not_before ? o->not_before : keys_now();
    uint64_t span = o->days * DAY_SECONDS;

    if (nb > UINT64_MAX - span) {
        cli_usage_error(CMD, "--not-before plus --days is past the end of time");
        return -1;
    }
    memcpy(info->brand_id, brand_id, strlen(brand_id) + 1);
    if (o->name != NULL)
        memcpy(info->display_name, o->name, strlen(o->name) + 1);
    info->serial = o->serial != 0 ? o->serial : random_serial();
    info->not_before = nb;
    info->not_after = nb + span;
    return 0;
}

static int run(const struct sign_opts *o)
{
    parley_identity *brand = NULL;
    parley_cert_info info;
    char brand_id[PARLEY_MAX_ID + 1];
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    parley_err err;
    int rc = KEYS_EXIT_FAIL;

    if (!o->force && files_refuse_existing(o->out) != 0)
        return KEYS_EXIT_FAIL;
    if (load_request(o->request, &info) != 0)
        return KEYS_EXIT_FAIL;
    if (keys_brand_load(o->key, &o->pass, &brand, brand_id) != 0)
        goto fail;
    if (fill_cert(o, brand_id, &info) != 0) {
        rc = KEYS_EXIT_USAGE;
        goto fail;
    }
    err = parley_cert_issue(brand, &info, &cert, &cert_len);
    if (err != PARLEY_OK) {
        report_error(o->out, "cannot issue the certificate: %s", keys_strerror(err));
        goto fail;
    }
    if (files_write(o->out, FILES_MAGIC_CERT, cert, cert_len, FILES_MODE_PUBLIC, o->force) != 0)
        goto fail;
    keys_print_cert(&info);
    printf("certificate:  %s\n", o->out);
    rc = KEYS_EXIT_OK;
fail:
    parley_free(cert, cert_len);
    parley_identity_free(brand);
    return rc;
}

int cmd_brand_sign(int argc, char **argv)
{
    struct sign_opts o;
    int rc = parse(argc, argv, &o);

    return rc >= 0 ? rc : run(&o);
}
