/*
 * The brand directory the client holds: installed from the relay or the
 * store, its expiry told to the application, agents looked up in it.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/* The held directory, if it has not expired: without one, nothing new starts. */
bool dir_valid(const struct parley__core *c, uint64_t now)
{
    return c->dir != NULL && now / 1000u < parley_directory_expires_at(c->dir);
}

/* The directory's certificate for an agent signing key, if valid now. */
bool agent_by_key(const struct parley__core *c, const uint8_t sign_pk[32],
                  parley_cert_info *info, const uint8_t **cert, size_t *cert_len)
{
    if (c->dir == NULL)
        return false;
    for (size_t i = 0; i < parley_directory_agent_count(c->dir); i++) {
        parley_cert_info tmp;
        if (parley_directory_agent(c->dir, i, &tmp) != PARLEY_OK ||
            sodium_memcmp(tmp.sign_pk, sign_pk, 32) != 0)
            continue;
        if (info != NULL)
            *info = tmp;
        if (cert != NULL)
            *cert = parley_directory_agent_cert(c->dir, i, cert_len);
        return true;
    }
    return false;
}

/*
 * Tells the application, once per directory, that it expires within
 * PARLEY_DIRECTORY_WARN_DAYS days, and once that it has expired.
 */
void directory_expiry_check(struct parley__core *c, uint64_t now)
{
    parley_event ev;
    uint64_t expires;
    int level;

    if (c->dir == NULL)
        return;
    expires = parley_directory_expires_at(c->dir);
    level = now / 1000u >= expires                                        ? 2
            : now / 1000u + PARLEY_DIRECTORY_WARN_DAYS * 86400u > expires ? 1
                                                                          : 0;
    if (level <= c->dir_warned)
        return;
    c->dir_warned = level;
    event_init(&ev, PARLEY_EV_DIRECTORY_EXPIRY, NULL);
    ev.expires_at = expires;
    ev.error = level == 2 ? PARLEY_EEXPIRED : PARLEY_OK;
    emit(c, &ev, NULL, 0);
}

/* When directory_expiry_check has something new to say (Unix ms), or UINT64_MAX. */
uint64_t directory_expiry_deadline(const struct parley__core *c)
{
    uint64_t expires;

    if (c->dir == NULL || c->dir_warned == 2)
        return UINT64_MAX;
    expires = parley_directory_expires_at(c->dir);
    if (c->dir_warned == 0 && expires > PARLEY_DIRECTORY_WARN_DAYS * 86400u)
        return (expires - PARLEY_DIRECTORY_WARN_DAYS * 86400u) * 1000u;
    return expires * 1000u;
}

/*
 * Installs a verified directory: from the relay (refused when expired, older
 * than the one held, or of the same version but other bytes, so a relay
 * cannot swap a directory for another of the same version), or the one held
 * in the store at start-up (kept even if expired since: its version and
 * revocations still count).
 */
parley_err directory_install(struct parley__core *c, const uint8_t *buf, size_t len,
                             uint64_t now, bool from_relay)
{
    parley_directory *d = NULL;
    parley_err err =
        parley__directory_open_any(&d, buf, len, c->brand_pk, c->brand_id, c->dir_key,
                                   from_relay ? c->dir_version : 0, now / 1000u, from_relay);
    bool same;

    if (err != PARLEY_OK)
        return err;
    same = c->dir != NULL && parley_directory_version(d) == c->dir_version;
    if (same && (c->dir_bytes.n != len || sodium_memcmp(c->dir_bytes.p, buf, len) != 0)) {
        parley_directory_free(d);
        return PARLEY_EROLLBACK;
    }
    if (!same) {
        if (from_relay)
            err = parley__vault_put(c->vault, "meta", (const uint8_t *)"directory", 9, buf, len);
        if (err != PARLEY_OK || !buf_set(&c->dir_bytes, buf, len)) {
            parley_directory_free(d);
            return err != PARLEY_OK ? err : PARLEY_ENOMEM;
        }
        c->dir_warned = 0;
    }
    /* References the application holds keep the old one alive. */
    parley_directory_free(c->dir);
    c->dir = d;
    c->dir_version = parley_directory_version(d);
    return PARLEY_OK;
}

parley_err parley__core_directory_install(struct parley__core *c, const uint8_t *buf, size_t len,
                                          uint64_t now)
{
    parley_event ev;
    parley_err err;

    if (buf == NULL || len == 0 || len > PARLEY_MAX_DIRECTORY)
        return PARLEY_EINVAL;
    /* As from the relay: the same checks, whoever carried it. */
    err = directory_install(c, buf, len, now, true);
    if (err != PARLEY_OK)
        return err;
    event_init(&ev, PARLEY_EV_DIRECTORY, NULL);
    ev.notice_version = parley_directory_notice_version(c->dir);
    emit(c, &ev, NULL, 0);
    directory_expiry_check(c, now);
    return PARLEY_OK;
}

void on_directory(struct parley__core *c, const Parley__DirectoryResult *r, uint64_t now)
{
    uint8_t *buf;
    size_t len;
    parley_err err;

    if (r->directory == NULL)
        return; /* none published yet: keep what we have */
    if (parley__pack(&r->directory->base, &buf, &len) != PARLEY_OK)
        return;
    err = parley__core_directory_install(c, buf, len, now);
    free(buf);
    /* A relay serving an older, expired, swapped or forged directory: refused, reported. */
    if (err != PARLEY_OK)
        emit_rejected(c, NULL, err);
}
