/*
 * Consent: the customer's signed receipt over the brand's notice, purpose
 * by purpose, an agent's check of it, and the receipt's updates (optional
 * purposes withdrawn or accepted later), carried to every agent holding a
 * copy of it.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

static bool listed(char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

Parley__ConsentReceiptBody *consent_body_of(const uint8_t *p, size_t n)
{
    Parley__ConsentReceipt *r = n > 0 ? parley__consent_receipt__unpack(NULL, n, p) : NULL;
    Parley__ConsentReceiptBody *b = NULL;

    if (r != NULL) {
        b = parley__consent_receipt_body__unpack(NULL, r->body.len, r->body.data);
        parley__consent_receipt__free_unpacked(r, NULL);
    }
    return b;
}

/* Against the notice the directory d holds: its version and text, and every purpose it requires. */
static bool consent_matches(const parley_directory *d, const Parley__ConsentReceiptBody *b)
{
    uint32_t current = parley_directory_notice_version(d);
    const char *notice = parley_directory_notice_text(d);
    uint8_t hash[32];

    if (b->notice_version < current)
        return true; /* an older notice: what it said is not known here */
    crypto_generichash(hash, sizeof(hash), (const uint8_t *)notice, strlen(notice), NULL, 0);
    if (b->notice_version != current || !parley__len_is(b->notice_hash, 32) ||
        sodium_memcmp(b->notice_hash.data, hash, 32) != 0)
        return false;
    for (size_t i = 0; i < parley_directory_purpose_count(d); i++)
        if (parley_directory_purpose_required(d, i) &&
            !listed(b->purposes, b->n_purposes, parley_directory_purpose(d, i)))
            return false;
    return true;
}

bool consent_valid(const struct parley__core *c, const Parley__ConsentReceipt *r,
                   const uint8_t customer[32])
{
    Parley__ConsentReceiptBody *b;
    bool ok;

    /* Without the notice there is nothing to check consent against: never assumed. */
    if (r == NULL || c->dir == NULL ||
        parley__verify_pb(customer, 32, PARLEY__DOMAIN_CONSENT, r->body, r->signature) != PARLEY_OK)
        return false;
    b = parley__consent_receipt_body__unpack(NULL, r->body.len, r->body.data);
    if (b == NULL)
        return false;
    ok = strcmp(b->brand_id, c->brand_id) == 0 && parley__len_is(b->customer_sign_key, 32) &&
         memcmp(b->customer_sign_key.data, customer, 32) == 0 && b->notice_version > 0 &&
         !b->withdrawn && consent_matches(c->dir, b);
    parley__consent_receipt_body__free_unpacked(b, NULL);
    return ok;
}

bool consent_newer(const struct buf *held, const Parley__ConsentReceipt *r)
{
    Parley__ConsentReceiptBody *old = consent_body_of(held->p, held->n);
    Parley__ConsentReceiptBody *b =
        r != NULL ? parley__consent_receipt_body__unpack(NULL, r->body.len, r->body.data) : NULL;
    bool newer = b != NULL && (old == NULL || b->notice_version > old->notice_version ||
                               (b->notice_version == old->notice_version && b->time_ms > old->time_ms));

    if (old != NULL)
        parley__consent_receipt_body__free_unpacked(old, NULL);
    if (b != NULL)
        parley__consent_receipt_body__free_unpacked(b, NULL);
    return newer;
}

uint32_t consent_version_of(const struct buf *b)
{
    Parley__ConsentReceiptBody *body = consent_body_of(b->p, b->n);
    uint32_t v = 0;

    if (body != NULL) {
        v = body->notice_version;
        parley__consent_receipt_body__free_unpacked(body, NULL);
    }
    return v;
}

int parley__core_has_consent(const struct parley__core *c)
{
    return c->dir != NULL && c->consent.n > 0 &&
           c->consent_version == parley_directory_notice_version(c->dir);
}

int parley__core_consent_accepted(const struct parley__core *c, const char *purpose)
{
    Parley__ConsentReceiptBody *b;
    int yes;

    if (purpose == NULL || !parley__core_has_consent(c) ||
        (b = consent_body_of(c->consent.p, c->consent.n)) == NULL)
        return 0;
    yes = listed(b->purposes, b->n_purposes, purpose) ? 1 : 0;
    parley__consent_receipt_body__free_unpacked(b, NULL);
    return yes;
}

parley_err consent_propagate(struct parley__core *c, uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__ConsentUpdate u = PARLEY__CONSENT_UPDATE__INIT;
    struct conv_ids l = {NULL, 0, 0};
    parley_err err;

    u.receipt = parley__consent_receipt__unpack(NULL, c->consent.n, c->consent.p);
    if (u.receipt == NULL)
        return PARLEY_ENOMEM;
    p.body_case = PARLEY__PAYLOAD__BODY_CONSENT_UPDATE;
    p.consent_update = &u;
    err = parley__vault_scan(c->vault, "conv", NULL, 0, collect_conv_id, &l);
    for (size_t i = 0; err == PARLEY_OK && i < l.n; i++) {
        struct conv cv;

        if (conv_load(c, l.ids[i].id, &cv) != PARLEY_OK)
            continue;
        /* An erased conversation has forgotten its agents, who deleted their copy. */
        if (cv.n_fanout > 0 || cv.agent_cert.n > 0) {
            err = buf_set(&cv.consent, c->consent.p, c->consent.n) ? conv_save(c, &cv)
                                                                   : PARLEY_ENOMEM;
            if (err == PARLEY_OK)
                err = send_to_holders(c, &cv, &p, now);
        }
        conv_free(&cv);
    }
    free(l.ids);
    parley__consent_receipt__free_unpacked(u.receipt, NULL);
    flush_pending(c, now);
    return err;
}

/*
 * Signs body (its purposes and withdrawals set by the caller) as of now,
 * keeps it as the customer's receipt, and, when one was held already,
 * hands it to every agent holding a copy.
 */
static parley_err consent_sign(struct parley__core *c, Parley__ConsentReceiptBody *body,
                               uint64_t now)
{
    Parley__ConsentReceipt r = PARLEY__CONSENT_RECEIPT__INIT;
    uint8_t sig[64], *bbuf, *rbuf;
    size_t blen, rlen;
    bool update = c->consent.n > 0;
    parley_err err;

    body->brand_id = c->brand_id;
    body->customer_sign_key =
        (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(c->id)};
    body->time_ms = now;
    err = parley__pack(&body->base, &bbuf, &blen);
    if (err != PARLEY_OK)
        return err;
    parley__sign_raw(c->id->secret->sign_sk, PARLEY__DOMAIN_CONSENT, bbuf, blen, sig);
    r.body = (ProtobufCBinaryData){blen, bbuf};
    r.signature = (ProtobufCBinaryData){64, sig};
    err = parley__pack(&r.base, &rbuf, &rlen);
    free(bbuf);
    if (err != PARLEY_OK)
        return err;
    err = parley__vault_put(c->vault, "meta", (const uint8_t *)"consent", 7, rbuf, rlen);
    if (err == PARLEY_OK && !buf_set(&c->consent, rbuf, rlen))
        err = PARLEY_ENOMEM;
    if (err == PARLEY_OK)
        c->consent_version = body->notice_version;
    free(rbuf);
    if (err == PARLEY_OK && update)
        err = consent_propagate(c, now);
    return err;
}

/*
 * The optional purposes the previous receipt accepted (or had withdrawn)
 * under the same notice and accepted is leaving out: withdrawn, so that
 * agents see it was refused after being given, not never given.
 */
static size_t withdrawals(const Parley__ConsentReceiptBody *prev, const Parley__ConsentReceiptBody *b,
                          const char **out, size_t cap)
{
    size_t n = 0;

    if (prev == NULL || prev->notice_version != b->notice_version)
        return 0;
    for (size_t i = 0; i < prev->n_purposes + prev->n_withdrawn_purposes && n < cap; i++) {
        const char *name = i < prev->n_purposes ? prev->purposes[i]
                                                : prev->withdrawn_purposes[i - prev->n_purposes];
        if (!listed(b->purposes, b->n_purposes, name) && !listed((char **)out, n, name))
            out[n++] = name;
    }
    return n;
}

static bool same_names(char *const *a, size_t na, char *const *b, size_t nb)
{
    for (size_t i = 0; na == nb && i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return na == nb;
}

/* The same answers to the same notice: the receipt held stands. */
static bool same_answers(const Parley__ConsentReceiptBody *prev, const Parley__ConsentReceiptBody *b)
{
    return prev != NULL && !prev->withdrawn && prev->notice_version == b->notice_version &&
           parley__len_is(prev->notice_hash, 32) &&
           memcmp(prev->notice_hash.data, b->notice_hash.data, 32) == 0 &&
           same_names(prev->purposes, prev->n_purposes, b->purposes, b->n_purposes) &&
           same_names(prev->withdrawn_purposes, prev->n_withdrawn_purposes, b->withdrawn_purposes,
                      b->n_withdrawn_purposes);
}

parley_err parley__core_consent(struct parley__core *c, const char *const *accepted,
                                size_t n_accepted, uint64_t now)
{
    if (c->wiped)
        return PARLEY_ESTATE;
    Parley__ConsentReceiptBody body = PARLEY__CONSENT_RECEIPT_BODY__INIT;
    Parley__ConsentReceiptBody *prev;
    const char *purposes[PARLEY_MAX_PURPOSES], *withdrawn[2 * PARLEY_MAX_PURPOSES];
    uint8_t hash[32];
    size_t np = 0;
    const char *notice;
    parley_err err;

    if (c->agent)
        return PARLEY_ESTATE;
    if (!dir_valid(c, now))
        return PARLEY_ENODIRECTORY;
    if (n_accepted > 0 && accepted == NULL)
        return PARLEY_EINVAL;
    for (size_t i = 0; i < n_accepted; i++) {
        if (accepted[i] == NULL)
            return PARLEY_EINVAL;
        if (parley_directory_find_purpose(c->dir, accepted[i]) < 0)
            return PARLEY_EPURPOSE;
    }
    /* In the brand's order: every required purpose, and the optional ones accepted. */
    for (size_t i = 0; i < parley_directory_purpose_count(c->dir) && np < PARLEY_MAX_PURPOSES; i++) {
        const char *name = parley_directory_purpose(c->dir, i);

        if (parley_directory_purpose_required(c->dir, i) ||
            listed((char *const *)accepted, n_accepted, name))
            purposes[np++] = name;
    }
    notice = parley_directory_notice_text(c->dir);
    crypto_generichash(hash, sizeof(hash), (const uint8_t *)notice, strlen(notice), NULL, 0);
    body.notice_version = parley_directory_notice_version(c->dir);
    body.notice_hash = (ProtobufCBinaryData){32, hash};
    body.purposes = (char **)purposes;
    body.n_purposes = np;
    prev = consent_body_of(c->consent.p, c->consent.n);
    body.withdrawn_purposes = (char **)withdrawn;
    body.n_withdrawn_purposes = withdrawals(prev, &body, withdrawn, 2 * PARLEY_MAX_PURPOSES);
    err = same_answers(prev, &body) ? PARLEY_OK : consent_sign(c, &body, now);
    if (prev != NULL)
        parley__consent_receipt_body__free_unpacked(prev, NULL);
    return err;
}

parley_err parley__core_withdraw_purpose(struct parley__core *c, const char *purpose,
                                         bool *ended, uint64_t now)
{
    Parley__ConsentReceiptBody *prev;
    const char *withdrawn[2 * PARLEY_MAX_PURPOSES], *kept_list[PARLEY_MAX_PURPOSES];
    size_t kept = 0, n_withdrawn = 0;
    int i;
    parley_err err;

    if (c->agent)
        return PARLEY_ESTATE;
    if (purpose == NULL)
        return PARLEY_EINVAL;
    if (c->dir == NULL)
        return PARLEY_ENODIRECTORY;
    if ((i = parley_directory_find_purpose(c->dir, purpose)) < 0)
        return PARLEY_EPURPOSE;
    /* Without what the service needs there is no service: consent ends, erasure follows. */
    if (parley_directory_purpose_required(c->dir, (size_t)i)) {
        *ended = true;
        return parley__core_withdraw_consent(c, now);
    }
    prev = consent_body_of(c->consent.p, c->consent.n);
    if (prev == NULL)
        return PARLEY_ENOCONSENT;
    if (!listed(prev->purposes, prev->n_purposes, purpose)) {
        parley__consent_receipt_body__free_unpacked(prev, NULL);
        return PARLEY_OK; /* not given, or withdrawn already */
    }
    /*
     * The same notice as the receipt held, even if the directory has
     * expired since: withdrawing is never harder than consenting was.
     */
    for (size_t j = 0; j < prev->n_purposes && kept < PARLEY_MAX_PURPOSES; j++)
        if (strcmp(prev->purposes[j], purpose) != 0)
            kept_list[kept++] = prev->purposes[j];
    withdrawn[n_withdrawn++] = purpose;
    for (size_t j = 0; j < prev->n_withdrawn_purposes && n_withdrawn < 2 * PARLEY_MAX_PURPOSES; j++)
        withdrawn[n_withdrawn++] = prev->withdrawn_purposes[j];
    {
        Parley__ConsentReceiptBody body = PARLEY__CONSENT_RECEIPT_BODY__INIT;

        body.notice_version = prev->notice_version;
        body.notice_hash = prev->notice_hash;
        body.purposes = (char **)kept_list;
        body.n_purposes = kept;
        body.withdrawn_purposes = (char **)withdrawn;
        body.n_withdrawn_purposes = n_withdrawn;
        err = consent_sign(c, &body, now);
    }
    parley__consent_receipt_body__free_unpacked(prev, NULL);
    return err;
}

parley_err parley__core_withdraw_consent(struct parley__core *c, uint64_t now)
{
    parley_err err;

    if (c->agent)
        return PARLEY_ESTATE;
    err = parley__vault_del(c->vault, "meta", (const uint8_t *)"consent", 7);
    if (err != PARLEY_OK)
        return err;
    buf_free(&c->consent);
    c->consent_version = 0;
    return parley__core_erase(c, now);
}
