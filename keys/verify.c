/*
 * "parley-keys verify": checks a file the way clients will, against the
 * pinned brand key only: certificates (window, and revocation when a list
 * is given), revocation lists, directories (with each agent's status),
 * requests (self-signature) and brand key files (that they hold the pinned
 * key). One "OK" line and exit 0, or one error line and exit 1. With a
 * relay pin a directory is checked as a relay checks it: signature, brand,
 * revocations; its sealed content needs the client pin.
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
#include "pin.h"
#include "util.h"

#define CMD "verify"

static const char usage[] =
    "Usage: parley-keys verify FILE --brand brand.client [--at UNIXTIME]\n"
    "                          [--revocations revoked.list]\n"
    "\n"
    "Verifies FILE against the pinned brand key: a certificate, revocation list,\n"
    "directory (listing each agent's status), certificate request (self-signature;\n"
    "--brand optional) or brand key file (holds the pinned key). Prints \"OK ...\" and\n"
    "exits 0, or prints one error line and exits 1.\n"
    "\n"
    "  --brand FILE            the brand pin file (parley-brand-v1 line): the client pin\n"
    "                          (.client) opens a directory's agents and notice; the relay\n"
    "                          pin (.pub) checks its signature and revocations only\n"
    "  --at UNIXTIME           check validity at this time (default: now)\n"
    "  --revocations FILE      for a certificate: also check it is not revoked\n";

struct verify_opts {
    const char *file;
    const char *brand;
    const char *revocations;
    uint64_t at;
    parley_pin pin;
};

/* Loads and verifies the --revocations list; *out stays NULL when none was given. */
static int load_revocations(const struct verify_opts *o, parley_revlist **out)
{
    struct files_object f;
    parley_err err;

    *out = NULL;
    if (o->revocations == NULL)
        return 0;
    if (files_load(o->revocations, FILES_KIND_REVLIST, &f) != 0)
        return -1;
    err = parley_revlist_open(out, f.body, f.body_len, o->pin.brand_pk, o->pin.brand_id, 0);
    files_release(&f);
    if (err != PARLEY_OK) {
        report_error(o->revocations, "%s (checked against brand '%s')", keys_strerror(err),
                   o->pin.brand_id);
        return -1;
    }
    return 0;
}

static int verify_cert(const struct verify_opts *o, const struct files_object *f)
{
    parley_revlist *revs = NULL;
    parley_cert_info info;
    char until[KEYS_TIME_LEN];
    parley_err err;

    if (load_revocations(o, &revs) != 0)
        return KEYS_EXIT_FAIL;
    memset(&info, 0, sizeof(info));
    err = parley_cert_verify(f->body, f->body_len, o->pin.brand_pk, o->pin.brand_id, o->at, revs,
                             &info);
    parley_revlist_free(revs);
    if (err != PARLEY_OK) {
        keys_report_cert_error(o->file, err, f->body, f->body_len, o->pin.brand_id, &info);
        return KEYS_EXIT_FAIL;
    }
    keys_format_time(info.not_after, until);
    printf("OK certificate serial %" PRIu64 " for agent %s (%s) of brand %s, valid until %s%s\n",
           info.serial, info.agent_id, info.display_name, info.brand_id, until,
           o->revocations != NULL ? ", not revoked" : "");
    return KEYS_EXIT_OK;
}

static int verify_revlist(const struct verify_opts *o, const struct files_object *f)
{
    parley_revlist *r = NULL;
    parley_err err =
        parley_revlist_open(&r, f->body, f->body_len, o->pin.brand_pk, o->pin.brand_id, 0);

    if (err != PARLEY_OK) {
        report_error(o->file, "%s (checked against brand '%s')", keys_strerror(err), o->pin.brand_id);
        return KEYS_EXIT_FAIL;
    }
    printf("OK revocation list of brand %s, version %" PRIu64 ", %zu revoked serial%s\n",
           o->pin.brand_id, parley_revlist_version(r), parley_revlist_count(r),
           parley_revlist_count(r) == 1 ? "" : "s");
    keys_print_revlist(r);
    parley_revlist_free(r);
    return KEYS_EXIT_OK;
}

/* With a relay pin: what a relay checks, without the directory key. */
static int verify_sealed_directory(const struct verify_opts *o, const struct files_object *f)
{
    uint64_t version = 0, expires_at = 0;
    parley_err err = parley_directory_check(f->body, f->body_len, o->pin.brand_pk, o->pin.brand_id,
                                            0, o->at, &version, &expires_at);

    if (err != PARLEY_OK) {
        keys_report_directory_error(o->file, err, o->pin.brand_id, expires_at);
        return KEYS_EXIT_FAIL;
    }
    printf("OK directory of brand %s, version %" PRIu64 ", signature valid, content sealed\n",
           o->pin.brand_id, version);
    keys_print_sealed_directory(version, expires_at);
    return KEYS_EXIT_OK;
}

static int verify_directory(const struct verify_opts *o, const struct files_object *f)
{
    parley_directory *d = NULL;
    parley_cert_info info;
    size_t valid = 0, n;
    uint64_t expires_at = 0;
    parley_err err;

    if (!o->pin.has_directory_key)
        return verify_sealed_directory(o, f);
    err = parley_directory_check(f->body, f->body_len, o->pin.brand_pk, o->pin.brand_id, 0, o->at,
                                 NULL, &expires_at);
    if (err == PARLEY_OK)
        err = parley_directory_open(&d, f->body, f->body_len, o->pin.brand_pk, o->pin.brand_id,
                                    o->pin.directory_key, 0, o->at);
    if (err != PARLEY_OK) {
        keys_report_directory_error(o->file, err, o->pin.brand_id, expires_at);
        return KEYS_EXIT_FAIL;
    }
    n = parley_directory_agent_count(d);
    for (size_t i = 0; i < n; i++)
        valid += parley_directory_agent(d, i, &info) == PARLEY_OK;
    printf("OK directory of brand %s, version %" PRIu64 ", %zu agent%s, %zu valid\n",
           o->pin.brand_id, parley_directory_version(d), n, n == 1 ? "" : "s", valid);
    keys_print_directory(d);
    parley_directory_free(d);
    return KEYS_EXIT_OK;
}

static int verify_request(const struct verify_opts *o, const struct files_object *f)
{
    parley_cert_info info;
    char fp[PARLEY_FINGERPRINT_LEN];
    parley_err err = parley_request_verify(f->body, f->body_len, &info);

    if (err != PARLEY_OK) {
        report_error(o->file, "%s", keys_strerror(err));
        return KEYS_EXIT_FAIL;
    }
    parley_fingerprint(info.sign_pk, fp);
    printf("OK certificate request from agent %s (%s), self-signature valid, fingerprint %s\n",
           info.agent_id, info.display_name, fp);
    return KEYS_EXIT_OK;
}

/* A brand key file matches the pin when it holds the same public key under the same id. */
static int verify_key(const struct verify_opts *o, const struct files_object *f)
{
    uint8_t sign_pk[32];
    char label[KEYS_LABEL_MAX + 1], want[KEYS_LABEL_MAX + 1];
    parley_err err = parley_keyfile_peek(f->body, f->body_len, sign_pk, NULL, label, sizeof(label));

    if (err != PARLEY_OK) {
        report_error(o->file, "%s", keys_strerror(err));
        return KEYS_EXIT_FAIL;
    }
    snprintf(want, sizeof(want), KEYS_LABEL_BRAND "%s", o->pin.brand_id);
    if (sodium_memcmp(sign_pk, o->pin.brand_pk, 32) != 0 || strcmp(label, want) != 0) {
        report_error(o->file, "not the key pinned in %s (label \"%s\")", o->brand, label);
        return KEYS_EXIT_FAIL;
    }
    printf("OK key file holds the pinned key of brand %s\n", o->pin.brand_id);
    return KEYS_EXIT_OK;
}

static int verify(struct verify_opts *o)
{
    struct files_object f;
    int rc = KEYS_EXIT_FAIL;

    if (files_load(o->file, FILES_KIND_UNKNOWN, &f) != 0)
        return KEYS_EXIT_FAIL;
    if (f.kind == FILES_KIND_UNKNOWN) {
        files_report_unknown(o->file, &f);
        goto done;
    }
    if (f.kind == FILES_KIND_PIN) {
        report_error(o->file, "a brand pin file: nothing to verify");
        goto done;
    }
    if (f.kind == FILES_KIND_REQUEST && o->brand == NULL) {
        rc = verify_request(o, &f);
        goto done;
    }
    if (o->brand == NULL) {
        rc = cli_usage_error(CMD, "--brand is required to verify a %s", files_kind_name(f.kind));
        goto done;
    }
    if (pin_load(o->brand, PIN_ANY, &o->pin) != 0)
        goto done;
    if (o->revocations != NULL && f.kind != FILES_KIND_CERT) {
        rc = cli_usage_error(CMD, "--revocations applies to certificates only");
        goto done;
    }
    switch (f.kind) {
    case FILES_KIND_CERT:
        rc = verify_cert(o, &f);
        break;
    case FILES_KIND_REVLIST:
        rc = verify_revlist(o, &f);
        break;
    case FILES_KIND_DIRECTORY:
        rc = verify_directory(o, &f);
        break;
    case FILES_KIND_REQUEST:
        rc = verify_request(o, &f);
        break;
    case FILES_KIND_ORDER:
        rc = keys_show_order(o->file, &f, &o->pin);
        if (rc == KEYS_EXIT_OK)
            printf("OK order of brand %s, signature valid\n", o->pin.brand_id);
        break;
    default:
        rc = verify_key(o, &f);
        break;
    }
done:
    files_release(&f);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    struct verify_opts o;
    int rc, first, have_at = 0;
    const struct cli_opt opts[] = {
        CLI_STR_OPT("brand", &o.brand),
        CLI_U64_OPT("at", &o.at, &have_at, 0, 0),
        CLI_STR_OPT("revocations", &o.revocations),
        CLI_END_OPT,
    };

    memset(&o, 0, sizeof(o));
    if ((rc = cli_parse(CMD, usage, argc, argv, opts, NULL, &first)) != -1)
        return rc;
    if (argc - first != 1)
        return cli_usage_error(CMD, "give exactly one FILE");
    o.file = argv[first];
    if (!have_at)
        o.at = keys_now();
    rc = verify(&o);
    sodium_memzero(&o.pin, sizeof(o.pin));
    return rc;
}
