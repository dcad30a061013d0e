/*
 * "parley-keys show": says what a file is and what it holds, from its
 * magic, without a passphrase. Certificates are decoded without checking
 * their signature (and say so); revocation lists and directories are only
 * decoded by the library after their signature checks out, so they need
 * a brand pin file to show their contents. A directory's agents and notice
 * are sealed under the directory key: the client pin shows them, the relay
 * pin only what a relay sees.
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

#define CMD "show"

static const char usage[] =
    "Usage: parley-keys show FILE [--brand brand.client|brand.pub]\n"
    "\n"
    "Prints what FILE holds: key file (label, public keys, fingerprint; no passphrase\n"
    "needed), certificate request, certificate (signature not checked), revocation\n"
    "list, directory, or brand pin file.\n"
    "\n"
    "  --brand FILE            brand pin file; needed to show the contents of revocation\n"
    "                          lists and directories, which are read only once verified.\n"
    "                          A directory's agents and notice need the client pin\n"
    "                          (.client); the relay pin (.pub) shows what a relay sees\n";

static int show_key(const char *path, const struct files_object *f)
{
    uint8_t sign_pk[32], box_pk[32];
    char label[KEYS_LABEL_MAX + 1];
    parley_err err =
        parley_keyfile_peek(f->body, f->body_len, sign_pk, box_pk, label, sizeof(label));

    if (err != PARLEY_OK) {
        report_error(path, "%s", keys_strerror(err));
        return KEYS_EXIT_FAIL;
    }
    printf("label:        %s\n", label);
    keys_print_keys(sign_pk, box_pk);
    printf("secret:       encrypted under a passphrase\n");
    return KEYS_EXIT_OK;
}

static int show_request(const char *path, const struct files_object *f)
{
    parley_cert_info info;
    char created[KEYS_TIME_LEN];
    parley_err err = parley_request_verify(f->body, f->body_len, &info);

    if (err != PARLEY_OK) {
        report_error(path, "%s", keys_strerror(err));
        return KEYS_EXIT_FAIL;
    }
    keys_format_time(info.not_before, created);
    printf("agent id:     %s\n", info.agent_id);
    printf("name:         %s\n", info.display_name);
    keys_print_keys(info.sign_pk, info.box_pk);
    printf("created:      %s (%" PRIu64 ")\n", created, info.not_before);
    printf("self-signature: valid\n");
    return KEYS_EXIT_OK;
}

static int show_cert(const char *path, const struct files_object *f)
{
    parley_cert_info info;
    parley_err err = parley_cert_inspect(f->body, f->body_len, &info);

    if (err != PARLEY_OK) {
        report_error(path, "%s", keys_strerror(err));
        return KEYS_EXIT_FAIL;
    }
    keys_print_cert(&info);
    printf("signature:    not checked (use '" KEYS_PROG " verify FILE --brand brand.client')\n");
    return KEYS_EXIT_OK;
}

/* Revocation lists and directories: readable only once verified under the pin. */
static int show_signed(const char *path, const struct files_object *f, const parley_pin *pin)
{
    parley_revlist *r = NULL;
    parley_directory *d = NULL;
    uint64_t version = 0, expires_at = 0, now = keys_now();
    parley_err err;

    if (pin == NULL) {
        printf("size:         %zu bytes\n", f->body_len);
        printf("contents:     shown once verified: add --brand brand.client\n");
        return KEYS_EXIT_OK;
    }
    if (f->kind == FILES_KIND_REVLIST)
        err = parley_revlist_open(&r, f->body, f->body_len, pin->brand_pk, pin->brand_id, 0);
    else
        err = parley_directory_check(f->body, f->body_len, pin->brand_pk, pin->brand_id, 0, now,
                                     &version, &expires_at);
    if (err == PARLEY_OK && f->kind != FILES_KIND_REVLIST && pin->has_directory_key)
        err = parley_directory_open(&d, f->body, f->body_len, pin->brand_pk, pin->brand_id,
                                    pin->directory_key, 0, now);
    if (err != PARLEY_OK) {
        keys_report_directory_error(path, err, pin->brand_id, expires_at);
        return KEYS_EXIT_FAIL;
    }
    printf("brand id:     %s (signature valid)\n", pin->brand_id);
    if (r != NULL)
        keys_print_revlist(r);
    else if (d != NULL)
        keys_print_directory(d);
    else
        keys_print_sealed_directory(version, expires_at);
    parley_revlist_free(r);
    parley_directory_free(d);
    return KEYS_EXIT_OK;
}

static int show_pin(const char *path, const struct files_object *f)
{
    parley_pin pin;

    if (parley_pin_parse((const char *)f->buf, f->len, &pin) != PARLEY_OK) {
        report_error(path, "malformed brand pin line");
        return KEYS_EXIT_FAIL;
    }
    printf("pin:          %s\n",
           pin.has_directory_key ? "client pin (brand key and directory key: for widgets and agent "
                             "clients, never a relay)"
                           : "relay pin (brand key only: for relay operators)");
    printf("brand id:     %s\n", pin.brand_id);
    keys_print_keys(pin.brand_pk, NULL);
    sodium_memzero(&pin, sizeof(pin));
    return KEYS_EXIT_OK;
}

static int show(const char *path, const parley_pin *pin)
{
    struct files_object f;
    int rc = KEYS_EXIT_FAIL;

    if (files_load(path, FILES_KIND_UNKNOWN, &f) != 0)
        return KEYS_EXIT_FAIL;
    if (f.kind == FILES_KIND_UNKNOWN) {
        files_report_unknown(path, &f);
        goto done;
    }
    printf("file:         %s\n", path);
    printf("kind:         %s\n", files_kind_name(f.kind));
    switch (f.kind) {
    case FILES_KIND_KEY:
        rc = show_key(path, &f);
        break;
    case FILES_KIND_REQUEST:
        rc = show_request(path, &f);
        break;
    case FILES_KIND_CERT:
        rc = show_cert(path, &f);
        break;
    case FILES_KIND_PIN:
        rc = show_pin(path, &f);
        break;
    case FILES_KIND_ORDER:
        rc = keys_show_order(path, &f, pin);
        break;
    default:
        rc = show_signed(path, &f, pin);
        break;
    }
done:
    files_release(&f);
    return rc;
}

int cmd_show(int argc, char **argv)
{
    const char *brand = NULL;
    const struct cli_opt opts[] = {
        CLI_STR_OPT("brand", &brand),
        CLI_END_OPT,
    };
    parley_pin pin;
    int rc, first;

    if ((rc = cli_parse(CMD, usage, argc, argv, opts, NULL, &first)) != -1)
        return rc;
    if (argc - first != 1)
        return cli_usage_error(CMD, "give exactly one FILE");
    if (brand != NULL && pin_load(brand, PIN_ANY, &pin) != 0)
        return KEYS_EXIT_FAIL;
    rc = show(argv[first], brand != NULL ? &pin : NULL);
    if (brand != NULL)
        sodium_memzero(&pin, sizeof(pin));
    return rc;
}
