/*
 * "parley-keys brand revoke": adds a certificate serial to the brand's
 * signed revocation list. The existing list must verify under the same
 * brand key before it is extended, so a tampered or foreign list is never
 * re-signed; every change bumps the version so clients refuse rollbacks.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "files.h"
#include "keyfile.h"
#include "util.h"

#define CMD "brand revoke"

static const char usage[] =
    "Usage: parley-keys brand revoke SERIAL --key brand.key --revocations revoked.list\n"
    "                                [--passphrase-file FILE | --passphrase-env VAR]\n"
    "\n"
    "Adds SERIAL to the brand's signed revocation list, creating the list (version 1)\n"
    "or replacing it with the next version. An existing list must verify under the\n"
    "brand key.\n"
    "\n"
    "  --key FILE              the brand key file\n"
    "  --revocations FILE      the revocation list to create or update\n" CLI_HELP_PASS;

struct revoke_opts {
    uint64_t serial;
    const char *key;
    const char *list;
    struct passphrase_source pass;
};

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, struct revoke_opts *o)
{
    const struct cli_opt opts[] = {
        CLI_STR_OPT("key", &o->key),
        CLI_STR_OPT("revocations", &o->list),
        CLI_END_OPT,
    };
    int rc, first;

    memset(o, 0, sizeof(*o));
    if ((rc = cli_parse(CMD, usage, argc, argv, opts, &o->pass, &first)) != -1)
        return rc;
    if (argc - first != 1)
        return cli_usage_error(CMD, "give exactly one SERIAL");
    if (cli_u64(CMD, "SERIAL", argv[first], &o->serial) != 0)
        return KEYS_EXIT_USAGE;
    if (o->serial == 0)
        return cli_usage_error(CMD, "serial 0 is never issued");
    if (o->key == NULL || o->list == NULL)
        return cli_usage_error(CMD, "--key and --revocations are required");
    return -1;
}

/* Opens the current list, if there is one, under the brand key. *out stays NULL if none. */
static int load_list(const char *path, const parley_identity *brand, const char *brand_id,
                     parley_revlist **out)
{
    struct files_object f;
    parley_err err;

    *out = NULL;
    if (!files_path_exists(path))
        return 0;
    if (files_load(path, FILES_KIND_REVLIST, &f) != 0)
        return -1;
    err = parley_revlist_open(out, f.body, f.body_len, parley_identity_sign_pk(brand), brand_id, 0);
    files_release(&f);
    if (err != PARLEY_OK) {
        report_error(path, "%s (refusing to replace a list this brand key cannot verify)",
                   keys_strerror(err));
        return -1;
    }
    return 0;
}

/* Current serials plus the new one; the library sorts them. */
static uint64_t *serials_with(const parley_revlist *cur, uint64_t serial, size_t *n)
{
    size_t have = cur != NULL ? parley_revlist_count(cur) : 0;
    uint64_t *v = malloc((have + 1) * sizeof(*v));

    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < have; i++)
        v[i] = parley_revlist_serial(cur, i);
    v[have] = serial;
    *n = have + 1;
    return v;
}

static int run(const struct revoke_opts *o)
{
    parley_identity *brand = NULL;
    parley_revlist *cur = NULL;
    char brand_id[PARLEY_MAX_ID + 1];
    uint64_t *serials = NULL, version;
    uint8_t *list = NULL;
    size_t n = 0, list_len = 0;
    parley_err err;
    int rc = KEYS_EXIT_FAIL;

    if (keys_brand_load(o->key, &o->pass, &brand, brand_id) != 0 ||
        load_list(o->list, brand, brand_id, &cur) != 0)
        goto fail;
    if (cur != NULL && parley_revlist_contains(cur, o->serial)) {
        printf("serial %" PRIu64 " is already revoked; %s stays at version %" PRIu64 "\n",
               o->serial, o->list, parley_revlist_version(cur));
        rc = KEYS_EXIT_OK;
        goto fail;
    }
    version = cur != NULL ? parley_revlist_version(cur) + 1 : 1;
    serials = serials_with(cur, o->serial, &n);
    if (version == 0 || serials == NULL) {
        report_error(o->list, "cannot extend the list");
        goto fail;
    }
    err = parley_revlist_build(brand, brand_id, version, serials, n, keys_now(), &list, &list_len);
    if (err != PARLEY_OK) {
        report_error(o->list, "cannot sign the list: %s", keys_strerror(err));
        goto fail;
    }
    if (files_write(o->list, FILES_MAGIC_REVLIST, list, list_len, FILES_MODE_PUBLIC, 1) != 0)
        goto fail;
    printf("revoked:      serial %" PRIu64 "\n", o->serial);
    printf("list:         %s, version %" PRIu64 ", %zu serial%s\n", o->list, version, n,
           n == 1 ? "" : "s");
    rc = KEYS_EXIT_OK;
fail:
    parley_free(list, list_len);
    free(serials);
    parley_revlist_free(cur);
    parley_identity_free(brand);
    return rc;
}

int cmd_brand_revoke(int argc, char **argv)
{
    struct revoke_opts o;
    int rc = parse(argc, argv, &o);

    return rc >= 0 ? rc : run(&o);
}
