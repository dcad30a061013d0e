/*
 * Key files for parley-keys: a brand's or an agent's identity, encrypted
 * under a passphrase by the library, behind the "PRLYKEY1" magic. The
 * label says whose key it is ("brand acme", "agent alice"), which is how
 * brand commands learn the brand id without asking for it again.
 */
#include <string.h>

#include "files.h"
#include "keyfile.h"
#include "util.h"

int keys_identity_load(const char *path, const struct passphrase_source *src, parley_identity **out,
                       char label[KEYS_LABEL_MAX + 1])
{
    struct files_object f;
    struct passphrase pass = {NULL, 0};
    parley_err err;
    int rc = -1;

    *out = NULL;
    if (files_load(path, FILES_KIND_KEY, &f) != 0)
        return -1;
    /* Check the structure first: no passphrase prompt for a file that cannot open. */
    err = parley_keyfile_peek(f.body, f.body_len, NULL, NULL, label, KEYS_LABEL_MAX + 1);
    if (err != PARLEY_OK) {
        report_error(path, "%s", keys_strerror(err));
        goto done;
    }
    if (passphrase_get(src, path, 0, &pass) < 0)
        goto done;
    err = parley_identity_import(out, f.body, f.body_len, pass.buf, pass.len, label,
                                 KEYS_LABEL_MAX + 1);
    if (err == PARLEY_EPASSPHRASE) {
        report_error(path, "%s (or the key file was altered)", keys_strerror(err));
        goto done;
    }
    if (err != PARLEY_OK) {
        report_error(path, "%s", keys_strerror(err));
        goto done;
    }
    rc = 0;
done:
    passphrase_release(&pass);
    files_release(&f);
    return rc;
}

int keys_brand_load(const char *path, const struct passphrase_source *src, parley_identity **out,
                    char brand_id[PARLEY_MAX_ID + 1])
{
    char label[KEYS_LABEL_MAX + 1];
    size_t plen = sizeof(KEYS_LABEL_BRAND) - 1;

    if (keys_identity_load(path, src, out, label) != 0)
        return -1;
    if (strncmp(label, KEYS_LABEL_BRAND, plen) != 0 || !parley_id_valid(label + plen)) {
        report_error(path, "not a brand key (its label is \"%s\")", label);
        parley_identity_free(*out);
        *out = NULL;
        return -1;
    }
    memcpy(brand_id, label + plen, strlen(label + plen) + 1);
    return 0;
}

int keys_identity_seal(const parley_identity *id, const char *label, const char *path,
                       const struct passphrase_source *src, parley_kdf_cost cost, uint8_t **out,
                       size_t *out_len)
{
    struct passphrase pass = {NULL, 0};
    parley_err err;

    if (passphrase_get(src, path, PASSPHRASE_NEW, &pass) < 0)
        return -1;
    err = parley_identity_export(id, label, pass.buf, pass.len, cost, out, out_len);
    passphrase_release(&pass);
    if (err != PARLEY_OK) {
        report_error(path, "cannot encrypt the key: %s", keys_strerror(err));
        return -1;
    }
    return 0;
}
