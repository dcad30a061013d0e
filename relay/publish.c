/*
 * Brand directories and agents' prekeys: publications checked against the
 * brand's pinned key or the agent's own, stored, and served back; new
 * directories pushed to the connections that watch the brand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "session_impl.h"

/* ------------------------------------------------------------------ */
/* Directories */

void publish_send_directory(struct relay *r, struct conn *c, int b, const char *brand_id)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryResult res = PARLEY__DIRECTORY_RESULT__INIT;
    Parley__Directory *d = NULL;

    res.brand_id = (char *)brand_id;
    if (b >= 0 && r->brands[b].dir != NULL)
        d = parley__directory__unpack(NULL, r->brands[b].dir_len, r->brands[b].dir);
    res.directory = d;
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_RESULT;
    f.directory_result = &res;
    session_send_frame(r, c, &f);
    if (d != NULL)
        parley__directory__free_unpacked(d, NULL);
}

/*
 * A revocation takes effect at once: the agents it names lose their live
 * connections (and with them every delivery), as they lose authentication.
 */
static void close_revoked(struct relay *r, int b)
{
    const struct parley_revlist *revs = r->brands[b].revs;

    for (struct conn *c = r->conns; revs != NULL && c != NULL; c = c->next)
        if (c->authed && c->agent && c->brand == b && !c->closing &&
            parley_revlist_contains(revs, c->cert_serial)) {
            log_event(LOG_INFO, "revoked_closed", "\"conn\":\"%s\",\"brand\":%d", c->pseudonym, b);
            session_refuse(r, c, PARLEY__ERROR__CODE__REVOKED, "certificate revoked",
                           REJECT_revoked);
        }
}

void publish_set_directory(struct relay *r, int b, uint64_t version, const uint8_t *dir, size_t len)
{
    struct brand_state *bs = &r->brands[b];
    Parley__Directory *d;
    uint8_t *copy = malloc(len);

    if (copy == NULL)
        return;
    memcpy(copy, dir, len);
    free(bs->dir);
    bs->dir = copy;
    bs->dir_len = len;
    bs->dir_version = version;
    parley_revlist_free(bs->revs);
    bs->revs = NULL;
    /* The revocation list inside it is what agent authentication checks. */
    d = parley__directory__unpack(NULL, len, dir);
    if (d != NULL) {
        Parley__DirectoryBody *body =
            parley__directory_body__unpack(NULL, d->body.len, d->body.data);
        if (body != NULL && body->revocations != NULL)
            parley__revlist_from_pb(body->revocations, bs->brand->key, bs->brand->id, 0, &bs->revs);
        if (body != NULL)
            parley__directory_body__free_unpacked(body, NULL);
        parley__directory__free_unpacked(d, NULL);
    }
    close_revoked(r, b);
}

bool publish_stored_directory(struct relay *r, int b, uint64_t version, const uint8_t *dir,
                              size_t len)
{
    const struct relay_brand *brand = r->brands[b].brand;
    uint64_t signed_version = 0;
    parley_err err = parley_directory_check(dir, len, brand->key, brand->id, 0,
                                            relay_now_ms() / 1000u, &signed_version, NULL);

    /* Past its expiry it is still the brand's: served, as the clients judge it. */
    if ((err == PARLEY_OK || err == PARLEY_EEXPIRED) && signed_version == version) {
        publish_set_directory(r, b, version, dir, len);
        return true;
    }
    r->metrics.directories_dropped++;
    log_event(LOG_WARN, "directory_dropped", "\"brand\":%d,\"why\":\"%s\"", b,
              err == PARLEY_OK || err == PARLEY_EEXPIRED ? "stored as another version"
                                                         : parley_strerror(err));
    return false;
}

/* Brand id of an encoded directory, read before its signature is checked, to pick the key. */
static int directory_brand(const struct relay *r, const Parley__Directory *d)
{
    Parley__DirectoryBody *body;
    int b = -1;

    if (d->body.data == NULL)
        return -2;
    body = parley__directory_body__unpack(NULL, d->body.len, d->body.data);
    if (body == NULL)
        return -2;
    b = session_find_brand(r, body->brand_id);
    parley__directory_body__free_unpacked(body, NULL);
    return b;
}

/* The directory a publication is checked against: the newest handed to the store, else the stored one. */
static void newest(const struct brand_state *bs, const uint8_t **dir, size_t *len, uint64_t *version)
{
    *dir = bs->pending != NULL ? bs->pending : bs->dir;
    *len = bs->pending != NULL ? bs->pending_len : bs->dir_len;
    *version = bs->pending != NULL ? bs->pending_version : bs->dir_version;
}

/* Hands a publication to the store; the brand's directory changes once it is committed. */
static void submit_directory(struct relay *r, struct conn *c, int b, uint64_t version,
                             uint8_t **buf, size_t len)
{
    struct brand_state *bs = &r->brands[b];
    struct store_op *op = store_batch_add(&r->pending, STORE_DIRECTORY);
    uint8_t *copy = malloc(len);

    if (op == NULL || copy == NULL) {
        if (op != NULL)
            store_batch_drop_last(&r->pending);
        free(copy);
        session_store_refused(r, c, NULL);
        return;
    }
    snprintf(op->brand_id, sizeof(op->brand_id), "%s", bs->brand->id);
    op->version = version;
    op->blob = *buf;
    op->blob_len = len;
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
    *buf = NULL;
    memcpy(copy, op->blob, len);
    free(bs->pending);
    bs->pending = copy;
    bs->pending_len = len;
    bs->pending_version = version;
}

void publish_on_directory(struct relay *r, struct conn *c, const Parley__DirectoryPublish *p)
{
    struct brand_state *bs;
    const uint8_t *cur;
    uint8_t *buf = NULL;
    size_t len = 0, cur_len;
    uint64_t version = 0, cur_version;
    parley_err err;
    int b;

    if (p->directory == NULL || (b = directory_brand(r, p->directory)) == -2) {
        metrics_reject(&r->metrics, REJECT_malformed);
        session_send_error(r, c, PARLEY__ERROR__CODE__MALFORMED, "bad directory", NULL);
        return;
    }
    if (b < 0) {
        metrics_reject(&r->metrics, REJECT_unknown_brand);
        session_send_error(r, c, PARLEY__ERROR__CODE__UNKNOWN_BRAND, "brand not served here", NULL);
        return;
    }
    if (!bucket_take(&c->publications, r->cfg.publish_rate / 60.0, r->cfg.publish_rate, 1,
                     relay_now_ms())) {
        metrics_reject(&r->metrics, REJECT_rate_limited);
        session_send_error(r, c, PARLEY__ERROR__CODE__RATE_LIMITED, "too many publications", NULL);
        return;
    }
    bs = &r->brands[b];
    newest(bs, &cur, &cur_len, &cur_version);
    /* Signatures cover body bytes, which survive re-encoding unchanged. */
    if (parley__pack(&p->directory->base, &buf, &len) != PARLEY_OK)
        return;
    /* The relay cannot open the content (names, notice): only the brand's clients can. */
    err = parley_directory_check(buf, len, bs->brand->key, bs->brand->id, cur_version,
                                 relay_now_ms() / 1000u, &version, NULL);
    if (err == PARLEY_EEXPIRED) {
        metrics_reject(&r->metrics, REJECT_expired);
        session_send_error(r, c, PARLEY__ERROR__CODE__EXPIRED, "directory past its expiry", NULL);
    } else if (err == PARLEY_EROLLBACK) {
        metrics_reject(&r->metrics, REJECT_rollback);
        session_send_error(r, c, PARLEY__ERROR__CODE__ROLLBACK, "older than the stored directory",
                           NULL);
    } else if (err != PARLEY_OK) {
        metrics_reject(&r->metrics, REJECT_bad_signature);
        session_send_error(r, c, PARLEY__ERROR__CODE__BAD_SIGNATURE, parley_strerror(err), NULL);
    } else if (version == cur_version && cur != NULL &&
               (len != cur_len || memcmp(buf, cur, len) != 0)) {
        metrics_reject(&r->metrics, REJECT_conflict);
        session_send_error(r, c, PARLEY__ERROR__CODE__CONFLICT,
                           "another directory with this version is stored", NULL);
    } else if (version == cur_version && cur != NULL && bs->pending == NULL) {
        /* What is stored already: nothing to write or push; the publisher is answered. */
        publish_send_directory(r, c, b, bs->brand->id);
    } else {
        submit_directory(r, c, b, version, &buf, len);
        log_event(LOG_INFO, "directory_published", "\"brand\":%d,\"version\":%llu", b,
                  (unsigned long long)version);
    }
    free(buf);
}

void publish_directory_done(struct relay *r, const struct store_op *op, struct conn *c)
{
    int b = session_find_brand(r, op->brand_id);
    struct brand_state *bs = b >= 0 ? &r->brands[b] : NULL;

    /* The newest publication handed over is settled: what is stored is what counts now. */
    if (bs != NULL && bs->pending != NULL && bs->pending_version == op->version) {
        free(bs->pending);
        bs->pending = NULL;
    }
    if (!op->ok) {
        session_store_refused(r, c, NULL);
        return;
    }
    if (bs != NULL && (bs->dir == NULL || op->version >= bs->dir_version))
        publish_set_directory(r, b, op->version, op->blob, op->blob_len);
    /* The publisher and everyone who fetched this brand's directory get the new one. */
    for (struct conn *w = r->conns; w != NULL; w = w->next)
        if (w->authed && !w->closing && (w == c || (b >= 0 && w->watch_brand == b)))
            publish_send_directory(r, w, b, op->brand_id);
}

/* ------------------------------------------------------------------ */
/* Prekeys */

/*
 * Checks each prekey of a publication: signed by the publishing agent,
 * for its own key, a 32-byte box key; a medium-term one not expired.
 * Fills medium[i], created[i], expires[i]. Returns the error to answer,
 * or 0 when all are good.
 */
static Parley__Error__Code prekeys_check(struct relay *r, const struct conn *c,
                                         const Parley__PrekeyPublish *p, bool *medium,
                                         uint64_t *created, uint64_t *expires)
{
    uint64_t now = relay_now_ms() / 1000u;

    for (size_t i = 0; i < p->n_prekeys; i++) {
        Parley__PrekeyBody *body =
            parley__prekey_body__unpack(NULL, p->prekeys[i]->body.len, p->prekeys[i]->body.data);
        bool good = body != NULL && parley__len_is(body->owner_sign_key, 32) &&
                    parley__len_is(body->box_key, 32) &&
                    sodium_memcmp(body->owner_sign_key.data, c->sign_pk, 32) == 0 &&
                    parley__verify_pb(c->sign_pk, 32, PARLEY__DOMAIN_PREKEY, p->prekeys[i]->body,
                                      p->prekeys[i]->signature) == PARLEY_OK;
        if (good) {
            medium[i] = body->medium_term;
            created[i] = body->created_at;
            expires[i] = body->expires_at;
        }
        if (body != NULL)
            parley__prekey_body__free_unpacked(body, NULL);
        if (!good) {
            metrics_reject(&r->metrics, REJECT_bad_signature);
            return PARLEY__ERROR__CODE__BAD_SIGNATURE;
        }
        if (medium[i] && expires[i] <= now) {
            metrics_reject(&r->metrics, REJECT_expired);
            return PARLEY__ERROR__CODE__EXPIRED;
        }
    }
    return 0;
}

/* The publication's prekeys for the store, their times from the checks. */
static bool prekeys_copy(struct store_op *op, const Parley__PrekeyPublish *p, const bool *medium,
                         const uint64_t *created, const uint64_t *expires)
{
    op->prekeys = calloc(p->n_prekeys + 1, sizeof(*op->prekeys));
    if (op->prekeys == NULL)
        return false;
    for (size_t i = 0; i < p->n_prekeys; i++, op->n_prekeys++) {
        struct store_prekey *k = &op->prekeys[i];
        if (parley__pack(&p->prekeys[i]->base, &k->blob, &k->len) != PARLEY_OK)
            return false;
        k->medium = medium[i];
        k->created = created[i];
        k->expires = expires[i];
    }
    return true;
}

/*
 * A publication is stored whole or not at all: the one-time supply is
 * bounded (the medium-term prekey is one more, outside it), and a
 * replacing publication first removes what the agent published before
 * (its device no longer holds those secrets). Answered once committed.
 */
void publish_on_prekeys(struct relay *r, struct conn *c, const Parley__PrekeyPublish *p)
{
    size_t n = p->n_prekeys;
    bool *medium = calloc(n + 1, sizeof(*medium));
    uint64_t *created = calloc(n + 1, sizeof(*created)), *expires = calloc(n + 1, sizeof(*expires));
    Parley__Error__Code err;
    struct store_op *op;

    if (medium == NULL || created == NULL || expires == NULL) {
        session_send_error(r, c, PARLEY__ERROR__CODE__UNAVAILABLE, "out of memory", NULL);
        goto done;
    }
    if (!c->agent) {
        metrics_reject(&r->metrics, REJECT_not_allowed);
        session_send_error(r, c, PARLEY__ERROR__CODE__NOT_ALLOWED, "only agents publish prekeys",
                           NULL);
        goto done;
    }
    err = prekeys_check(r, c, p, medium, created, expires);
    if (err != 0) {
        session_send_error(r, c, err,
                           err == PARLEY__ERROR__CODE__EXPIRED ? "medium-term prekey expired"
                                                               : "prekey does not verify",
                           NULL);
        goto done;
    }
    op = store_batch_add(&r->pending, STORE_PREKEY_PUBLISH);
    if (op == NULL || !prekeys_copy(op, p, medium, created, expires)) {
        if (op != NULL)
            store_batch_drop_last(&r->pending);
        session_send_error(r, c, PARLEY__ERROR__CODE__UNAVAILABLE, "out of memory", NULL);
        goto done;
    }
    memcpy(op->env.recipient, c->routing, 32);
    op->replace = p->replace;
    op->limit = STORE_PREKEYS_PER_OWNER;
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
done:
    free(medium);
    free(created);
    free(expires);
}

void publish_prekeys_done(struct relay *r, const struct store_op *op, struct conn *c)
{
    if (!op->ok) {
        session_store_refused(r, c, NULL);
    } else if (op->refused) {
        metrics_reject(&r->metrics, REJECT_quota_full);
        if (c != NULL)
            session_send_error(r, c, PARLEY__ERROR__CODE__QUOTA_FULL, "too many prekeys", NULL);
    } else if (c != NULL) {
        session_send_ack(r, c, NULL);
    }
}

/*
 * A one-time prekey while the requester and the owner are within their
 * rates and one is left (the store removes it as it hands it out, so it
 * goes to one requester only); otherwise the owner's medium-term prekey
 * (kept, not deleted), if it has a valid one; otherwise none.
 */
void publish_on_prekey_fetch(struct relay *r, struct conn *c, const Parley__PrekeyFetch *p)
{
    struct store_op *op;

    if (!parley__len_is(p->owner_sign_key, 32)) {
        metrics_reject(&r->metrics, REJECT_malformed);
        session_send_error(r, c, PARLEY__ERROR__CODE__MALFORMED, "bad prekey fetch", NULL);
        return;
    }
    op = store_batch_add(&r->pending, STORE_PREKEY_TAKE);
    if (op == NULL) {
        session_send_error(r, c, PARLEY__ERROR__CODE__UNAVAILABLE, "out of memory", NULL);
        return;
    }
    /* Owners are agents. */
    parley_routing_id(p->owner_sign_key.data, PARLEY_ROUTING_AGENT, op->env.recipient);
    memcpy(op->key, p->owner_sign_key.data, 32);
    op->allow_one_time = quota_prekey_take(r, c, op->env.recipient);
    op->cutoff = relay_now_ms() / 1000u;
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
}

void publish_prekey_taken(struct relay *r, const struct store_op *op, struct conn *c)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__PrekeyResult res = PARLEY__PREKEY_RESULT__INIT;
    Parley__Prekey *pk = NULL;

    if (op->allow_one_time && !op->one_time)
        quota_prekey_refund(r, c, op->env.recipient); /* none was handed out */
    if (op->one_time_left && !op->allow_one_time)
        metrics_reject(&r->metrics, REJECT_prekey_rate);
    if (c == NULL)
        return; /* a one-time prekey taken for nobody is used by nobody */
    if (op->blob != NULL)
        pk = parley__prekey__unpack(NULL, op->blob_len, op->blob);
    res.owner_sign_key = (ProtobufCBinaryData){32, (uint8_t *)op->key};
    res.prekey = pk;
    f.kind_case = PARLEY__FRAME__KIND_PREKEY_RESULT;
    f.prekey_result = &res;
    session_send_frame(r, c, &f);
    if (pk != NULL)
        parley__prekey__free_unpacked(pk, NULL);
}
