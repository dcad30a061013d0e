/*
 * The brand directory: the brand-signed list of agent certificates,
 * revocations, queues and the privacy notice that customers consent to.
 * Clients fetch it through the relay and verify it against the pinned
 * brand key, refusing any version older than one already seen and any
 * directory past the expiry the brand signed into it: a relay that
 * freezes what it serves cannot hide a revocation for longer than that.
 *
 * What people read (agents' names, the notice) is sealed under the
 * brand's directory key, which the brand gives its clients with the pin
 * and never to a relay: the relay stores and serves the directory, checks
 * its signature and version, and reads only its revocation list.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DIRECTORY_MAX_AGENTS 4096u
#define DIRECTORY_MAX_LIST 256u /* purposes, queues */

struct dir_agent {
    parley_cert_info info;
    parley_err status;
    uint8_t *cert; /* encoded certificate */
    size_t cert_len;
};

struct parley_directory {
    int refs;                    /* references held; the last parley_directory_free frees */
    Parley__DirectoryBody *body;
    Parley__DirectoryContent *content;
    parley_scan_policy guard;    /* the brand's guard policy, from content->guard */
    parley_revlist *revs; /* the embedded revocation list, or NULL */
    struct dir_agent *agents;
    size_t n_agents;
};

void parley_directory_key(const parley_identity *brand, uint8_t out[32])
{
    static const uint8_t label[] = "parley/directory-key/v1";

    /* The Ed25519 secret key starts with the brand's seed. */
    crypto_generichash(out, 32, label, sizeof(label) - 1, brand->secret->sign_sk, 32);
}

/* Associated data of the sealed content: it belongs to this brand and version only. */
static size_t content_ad(uint8_t *ad, size_t cap, const char *brand_id, uint64_t version)
{
    static const char domain[] = "parley/directory-content/v1";
    size_t blen = strlen(brand_id), n = sizeof(domain) + blen + 1 + 8;

    if (n > cap)
        return 0;
    memcpy(ad, domain, sizeof(domain));
    memcpy(ad + sizeof(domain), brand_id, blen + 1);
    for (int i = 0; i < 8; i++)
        ad[sizeof(domain) + blen + 1 + (size_t)i] = (uint8_t)(version >> (56 - 8 * i));
    return n;
}

parley_err parley__directory_seal_content(const parley_identity *brand,
                                          const Parley__DirectoryContent *content,
                                          Parley__DirectoryBody *body, uint8_t *nonce,
                                          uint8_t **sealed, size_t *sealed_len)
{
    uint8_t key[32], ad[64 + PARLEY_MAX_ID];
    uint8_t *plain;
    size_t plen, ad_len = content_ad(ad, sizeof(ad), body->brand_id, body->version);
    parley_err err;

    if (ad_len == 0)
        return PARLEY_EINVAL;
    err = parley__pack(&content->base, &plain, &plen);
    if (err != PARLEY_OK)
        return err;
    *sealed = malloc(plen + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    if (*sealed == NULL) {
        parley_free(plain, plen);
        return PARLEY_ENOMEM;
    }
    parley_directory_key(brand, key);
    /*
     * The nonce is a keyed hash of what is sealed: the same directory seals
     * the same way (known-answer tests), and two different contents never
     * share a nonce under the key.
     */
    {
        crypto_generichash_state st;
        static const uint8_t label[] = "parley/directory-nonce/v1";

        crypto_generichash_init(&st, key, 32, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
        crypto_generichash_update(&st, label, sizeof(label));
        crypto_generichash_update(&st, ad, ad_len);
        crypto_generichash_update(&st, plain, plen);
        crypto_generichash_final(&st, nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    }
    crypto_aead_xchacha20poly1305_ietf_encrypt(*sealed, NULL, plain, plen, ad, ad_len, NULL,
                                               nonce, key);
    sodium_memzero(key, sizeof(key));
    parley_free(plain, plen);
    *sealed_len = plen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    body->nonce = (ProtobufCBinaryData){crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, nonce};
    body->sealed_content = (ProtobufCBinaryData){*sealed_len, *sealed};
    return PARLEY_OK;
}

/*
 * The spec's purposes: every one with its flag and description in
 * purpose_list (field 7), and the required ones' names in purposes (field
 * 4), which is what a reader from before optional purposes consents to.
 * *list, *ptrs and *required are the caller's to free.
 */
static parley_err purposes_fill(const parley_directory_spec *spec, Parley__DirectoryContent *content,
                                Parley__Purpose **list, Parley__Purpose ***ptrs, char ***required)
{
    size_t n = spec->n_purposes, n_required = 0;

    *list = calloc(n + 1, sizeof(**list));
    *ptrs = calloc(n + 1, sizeof(**ptrs));
    *required = calloc(n + 1, sizeof(**required));
    if (*list == NULL || *ptrs == NULL || *required == NULL)
        return PARLEY_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *text = spec->purpose_descriptions != NULL && spec->purpose_descriptions[i] != NULL
                               ? spec->purpose_descriptions[i]
                               : "";
        bool optional = spec->purpose_optional != NULL && spec->purpose_optional[i] != 0;

        if (!parley_id_valid(spec->purposes[i]) || strlen(text) > PARLEY_MAX_PURPOSE_TEXT ||
            !parley__utf8_valid((const uint8_t *)text, strlen(text), true))
            return PARLEY_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(spec->purposes[j], spec->purposes[i]) == 0)
                return PARLEY_EINVAL;
        parley__purpose__init(&(*list)[i]);
        (*list)[i].name = (char *)spec->purposes[i];
        (*list)[i].required = !optional;
        (*list)[i].description = (char *)text;
        (*ptrs)[i] = &(*list)[i];
        if (!optional)
            (*required)[n_required++] = (char *)spec->purposes[i];
    }
    content->purpose_list = *ptrs;
    content->n_purpose_list = n;
    content->purposes = *required;
    content->n_purposes = n_required;
    return PARLEY_OK;
}

/*
 * The brand's guard policy as rules, one per category it does not allow
 * (rules has room for PARLEY_SCAN_CATEGORY_COUNT). PARLEY_EINVAL for an
 * action out of range.
 */
static parley_err guard_rules(const parley_scan_policy *guard, Parley__GuardRule *rules,
                              Parley__GuardRule **ptrs, size_t *n)
{
    *n = 0;
    for (unsigned c = 0; guard != NULL && c < PARLEY_SCAN_CATEGORY_COUNT; c++) {
        if ((unsigned)guard->action[c] > PARLEY_SCAN_CONFIRM)
            return PARLEY_EINVAL;
        if (guard->action[c] == PARLEY_SCAN_ALLOW)
            continue;
        parley__guard_rule__init(&rules[*n]);
        rules[*n].category = c;
        rules[*n].action = (uint32_t)guard->action[c];
        ptrs[*n] = &rules[*n];
        (*n)++;
    }
    return PARLEY_OK;
}

/* Rules into a policy: a category not named is allowed, an unknown action blocks. */
static void guard_policy_of(const Parley__DirectoryContent *c, parley_scan_policy *p)
{
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < c->n_guard; i++) {
        uint32_t cat = c->guard[i]->category, act = c->guard[i]->action;
        parley_scan_action a = act <= PARLEY_SCAN_CONFIRM ? (parley_scan_action)act
                                                          : PARLEY_SCAN_BLOCK;

        /* A category named twice keeps its last rule; one this library does not know is skipped. */
        if (cat < PARLEY_SCAN_CATEGORY_COUNT)
            p->action[cat] = a;
    }
}

/* What a directory being built holds until it is signed: unpacked, owned. */
struct dir_parts {
    Parley__AgentCert **certs;
    size_t n_certs;
    Parley__RevocationList *revs;
    Parley__Queue *queues, **queue_ptrs;
    Parley__Purpose *purpose_list, **purpose_ptrs;
    char **required;
    Parley__GuardRule rules[PARLEY_SCAN_CATEGORY_COUNT], *rule_ptrs[PARLEY_SCAN_CATEGORY_COUNT];
    size_t n_rules;
};

static void dir_parts_free(struct dir_parts *d)
{
    for (size_t i = 0; i < d->n_certs; i++)
        if (d->certs[i] != NULL)
            parley__agent_cert__free_unpacked(d->certs[i], NULL);
    free(d->certs);
    if (d->revs != NULL)
        parley__revocation_list__free_unpacked(d->revs, NULL);
    free(d->queues);
    free(d->queue_ptrs);
    free(d->purpose_list);
    free(d->purpose_ptrs);
    free(d->required);
}

static parley_err spec_check(const parley_identity *brand, const parley_directory_spec *spec,
                             uint8_t **out, size_t *out_len)
{
    if (brand == NULL || spec == NULL || out == NULL || out_len == NULL ||
        !parley_id_valid(spec->brand_id) || spec->version == 0 || spec->notice_text == NULL ||
        (spec->expires_at != 0 && spec->expires_at <= spec->issued_at) ||
        (spec->n_certs > 0 && (spec->certs == NULL || spec->cert_lens == NULL)) ||
        (spec->n_purposes > 0 && spec->purposes == NULL) ||
        (spec->n_queues > 0 && spec->queues == NULL))
        return PARLEY_EINVAL;
    if (spec->n_certs > DIRECTORY_MAX_AGENTS || spec->n_purposes > DIRECTORY_MAX_LIST ||
        spec->n_queues > DIRECTORY_MAX_LIST || strlen(spec->notice_text) > PARLEY_MAX_NOTICE)
        return PARLEY_ETOOBIG;
    return PARLEY_OK;
}

/* Every certificate, unpacked: each must be the brand's own. */
static parley_err parts_certs(const parley_identity *brand, const parley_directory_spec *spec,
                              struct dir_parts *d)
{
    parley_err err = PARLEY_OK;

    for (; err == PARLEY_OK && d->n_certs < spec->n_certs; d->n_certs++) {
        size_t i = d->n_certs;
        parley_cert_info info;

        if (spec->cert_lens[i] > PARLEY_MAX_CERT)
            return PARLEY_ETOOBIG;
        d->certs[i] = parley__agent_cert__unpack(NULL, spec->cert_lens[i], spec->certs[i]);
        if (d->certs[i] == NULL)
            return PARLEY_EMALFORMED;
        err = parley__cert_authentic(d->certs[i], brand->sign_pk, spec->brand_id, &info);
    }
    return err;
}

/* The revocation list, if any: it must verify under the brand key too. */
static parley_err parts_revocations(const parley_identity *brand,
                                    const parley_directory_spec *spec, struct dir_parts *d)
{
    parley_revlist *check = NULL;
    parley_err err;

    if (spec->revocations == NULL)
        return PARLEY_OK;
    err = parley_revlist_open(&check, spec->revocations, spec->revocations_len, brand->sign_pk,
                              spec->brand_id, 0);
    parley_revlist_free(check);
    if (err != PARLEY_OK)
        return err;
    d->revs = parley__revocation_list__unpack(NULL, spec->revocations_len, spec->revocations);
    return d->revs != NULL ? PARLEY_OK : PARLEY_ENOMEM;
}

static parley_err parts_queues(const parley_directory_spec *spec, struct dir_parts *d)
{
    for (size_t i = 0; i < spec->n_queues; i++) {
        parley__queue__init(&d->queues[i]);
        if (!parley_id_valid(spec->queues[i].name) ||
            (spec->queues[i].n_agent_ids > 0 && spec->queues[i].agent_ids == NULL) ||
            spec->queues[i].n_agent_ids > DIRECTORY_MAX_AGENTS)
            return PARLEY_EINVAL;
        d->queues[i].name = (char *)spec->queues[i].name;
        d->queues[i].agent_ids = (char **)spec->queues[i].agent_ids;
        d->queues[i].n_agent_ids = spec->queues[i].n_agent_ids;
        d->queue_ptrs[i] = &d->queues[i];
    }
    return PARLEY_OK;
}

/* The body, signed by the brand into a Directory: *out malloc'd. */
static parley_err directory_sign(const parley_identity *brand, const Parley__DirectoryBody *body,
                                 uint8_t **out, size_t *out_len)
{
    Parley__Directory dir = PARLEY__DIRECTORY__INIT;
    uint8_t sig[64], *bbuf = NULL;
    size_t blen = 0;
    parley_err err = parley__pack(&body->base, &bbuf, &blen);

    if (err == PARLEY_OK && blen > PARLEY_MAX_DIRECTORY - 128)
        err = PARLEY_ETOOBIG;
    if (err == PARLEY_OK)
        err = parley__sign_raw(brand->secret->sign_sk, PARLEY__DOMAIN_DIRECTORY, bbuf, blen, sig);
    if (err == PARLEY_OK) {
        dir.body = (ProtobufCBinaryData){blen, bbuf};
        dir.signature = (ProtobufCBinaryData){sizeof(sig), sig};
        err = parley__pack(&dir.base, out, out_len);
    }
    free(bbuf);
    return err;
}

parley_err parley_directory_build(const parley_identity *brand, const parley_directory_spec *spec,
                                  uint8_t **out, size_t *out_len)
{
    Parley__DirectoryBody body = PARLEY__DIRECTORY_BODY__INIT;
    Parley__DirectoryContent content = PARLEY__DIRECTORY_CONTENT__INIT;
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES], *sealed = NULL;
    size_t sealed_len = 0;
    struct dir_parts d;
    parley_err err = spec_check(brand, spec, out, out_len);

    if (err != PARLEY_OK)
        return err;
    memset(&d, 0, sizeof(d));
    if (guard_rules(spec->guard, d.rules, d.rule_ptrs, &d.n_rules) != PARLEY_OK)
        return PARLEY_EINVAL;
    d.certs = calloc(spec->n_certs + 1, sizeof(*d.certs));
    d.queues = calloc(spec->n_queues + 1, sizeof(*d.queues));
    d.queue_ptrs = calloc(spec->n_queues + 1, sizeof(*d.queue_ptrs));
    if (d.certs == NULL || d.queues == NULL || d.queue_ptrs == NULL)
        err = PARLEY_ENOMEM;
    if (err == PARLEY_OK)
        err = parts_certs(brand, spec, &d);
    if (err == PARLEY_OK)
        err = parts_revocations(brand, spec, &d);
    if (err == PARLEY_OK)
        err = parts_queues(spec, &d);
    if (err != PARLEY_OK)
        goto done;
    content.certs = d.certs;
    content.n_certs = spec->n_certs;
    content.notice_text = (char *)spec->notice_text;
    content.notice_version = spec->notice_version;
    err = purposes_fill(spec, &content, &d.purpose_list, &d.purpose_ptrs, &d.required);
    if (err != PARLEY_OK)
        goto done;
    content.queues = d.queue_ptrs;
    content.n_queues = spec->n_queues;
    content.keep_on_erasure = spec->keep_on_erasure != 0 || spec->legal_hold_days > 0;
    content.guard = d.rule_ptrs;
    content.n_guard = d.n_rules;
    content.history_days = spec->history_days;
    content.legal_hold_days = spec->legal_hold_days;
    body.brand_id = (char *)spec->brand_id;
    body.version = spec->version;
    body.revocations = d.revs;
    body.issued_at = spec->issued_at;
    body.expires_at = spec->expires_at != 0
                          ? spec->expires_at
                          : spec->issued_at + PARLEY_DIRECTORY_DEFAULT_DAYS * 86400u;
    err = parley__directory_seal_content(brand, &content, &body, nonce, &sealed, &sealed_len);
    if (err == PARLEY_OK)
        err = directory_sign(brand, &body, out, out_len);
done:
    free(sealed);
    dir_parts_free(&d);
    return err;
}

parley_directory *parley__directory_ref(parley_directory *d)
{
    __atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
    return d;
}

void parley_directory_free(parley_directory *d)
{
    /* Shared references may be released from several threads: the last one frees. */
    if (d == NULL || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (size_t i = 0; i < d->n_agents; i++)
        free(d->agents[i].cert);
    free(d->agents);
    parley_revlist_free(d->revs);
    if (d->content != NULL)
        parley__directory_content__free_unpacked(d->content, NULL);
    if (d->body != NULL)
        parley__directory_body__free_unpacked(d->body, NULL);
    free(d);
}

static parley_err directory_load_agents(parley_directory *d, const uint8_t brand_pk[32],
                                        const parley_revlist *revs, uint64_t now)
{
    Parley__DirectoryContent *b = d->content;
    const char *brand_id = d->body->brand_id;

    d->agents = calloc(b->n_certs + 1, sizeof(*d->agents));
    if (d->agents == NULL)
        return PARLEY_ENOMEM;
    for (size_t i = 0; i < b->n_certs; i++) {
        struct dir_agent *a = &d->agents[d->n_agents];
        /* A certificate that is not the brand's own makes the whole directory untrustworthy. */
        parley_err err = parley__cert_authentic(b->certs[i], brand_pk, brand_id, &a->info);

        if (err != PARLEY_OK)
            return err;
        a->status = parley__cert_status(&a->info, now, revs);
        err = parley__pack(&b->certs[i]->base, &a->cert, &a->cert_len);
        if (err != PARLEY_OK)
            return err;
        d->n_agents++;
        /* Handed out for transfers: it must pass every other check too. */
        if (a->cert_len > PARLEY_MAX_CERT)
            return PARLEY_EMALFORMED;
    }
    return PARLEY_OK;
}

/*
 * The relay's part of the checks (size, structure, signature, brand id,
 * rollback, revocation list), shared by parley_directory_check and
 * parley_directory_open. On PARLEY_OK *body and *revs (NULL when none) are
 * the caller's.
 */
static parley_err directory_verify(const uint8_t *buf, size_t len, const uint8_t brand_pk[32],
                                   const char *brand_id, uint64_t last_seen_version,
                                   Parley__DirectoryBody **body_out, parley_revlist **revs_out)
{
    Parley__Directory *dir;
    Parley__DirectoryBody *body = NULL;
    parley_revlist *revs = NULL;
    parley_err err;

    if (buf == NULL || brand_pk == NULL)
        return PARLEY_EINVAL;
    if (len > PARLEY_MAX_DIRECTORY)
        return PARLEY_ETOOBIG;
    dir = parley__directory__unpack(NULL, len, buf);
    if (dir == NULL)
        return PARLEY_EMALFORMED;
    err = parley__verify_pb(brand_pk, 32, PARLEY__DOMAIN_DIRECTORY, dir->body, dir->signature);
    if (err != PARLEY_OK)
        goto done;
    body = parley__directory_body__unpack(NULL, dir->body.len, dir->body.data);
    if (body == NULL || !parley_id_valid(body->brand_id) || body->version == 0 ||
        !parley__len_is(body->nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES) ||
        body->sealed_content.len < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
        err = PARLEY_EMALFORMED;
        goto done;
    }
    err = parley__brand_version_check(body->brand_id, brand_id, body->version, last_seen_version);
    if (err != PARLEY_OK)
        goto done;
    if (body->revocations != NULL) {
        err = parley__revlist_from_pb(body->revocations, brand_pk, body->brand_id, 0, &revs);
        if (err != PARLEY_OK)
            goto done;
    }
    *body_out = body;
    *revs_out = revs;
    body = NULL;
done:
    if (body != NULL)
        parley__directory_body__free_unpacked(body, NULL);
    parley__directory__free_unpacked(dir, NULL);
    return err;
}

parley_err parley_directory_check(const uint8_t *buf, size_t len, const uint8_t brand_pk[32],
                                  const char *brand_id, uint64_t last_seen_version, uint64_t now,
                                  uint64_t *version, uint64_t *expires_at)
{
    Parley__DirectoryBody *body = NULL;
    parley_revlist *revs = NULL;
    parley_err err = directory_verify(buf, len, brand_pk, brand_id, last_seen_version, &body,
                                      &revs);

    if (err != PARLEY_OK)
        return err;
    if (version != NULL)
        *version = body->version;
    if (expires_at != NULL)
        *expires_at = body->expires_at;
    /* Last, so that PARLEY_EEXPIRED says everything else holds. 0 (no expiry) never holds. */
    if (now >= body->expires_at)
        err = PARLEY_EEXPIRED;
    parley_revlist_free(revs);
    parley__directory_body__free_unpacked(body, NULL);
    return err;
}

/*
 * Purposes with their flags, as the builder writes them: at most
 * PARLEY_MAX_PURPOSES ids, none twice, each description text within
 * PARLEY_MAX_PURPOSE_TEXT bytes. Consent is given by name: a list a
 * customer cannot answer unambiguously refuses the whole directory.
 */
static bool purpose_list_valid(const Parley__DirectoryContent *c)
{
    if (c->n_purpose_list > PARLEY_MAX_PURPOSES)
        return false;
    for (size_t i = 0; i < c->n_purpose_list; i++) {
        const Parley__Purpose *p = c->purpose_list[i];
        size_t n = strlen(p->description);

        if (!parley_id_valid(p->name) || n > PARLEY_MAX_PURPOSE_TEXT ||
            !parley__utf8_valid((const uint8_t *)p->description, n, true))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->purpose_list[j]->name, p->name) == 0)
                return false;
    }
    return true;
}

/* Opens the sealed content: PARLEY_EBADSEAL with another brand's (or no valid) key. */
static parley_err open_content(parley_directory *d, const uint8_t key[32])
{
    uint8_t ad[64 + PARLEY_MAX_ID], *plain;
    size_t plen = d->body->sealed_content.len - crypto_aead_xchacha20poly1305_ietf_ABYTES;
    size_t ad_len = content_ad(ad, sizeof(ad), d->body->brand_id, d->body->version);
    Parley__DirectoryContent *c;

    plain = malloc(plen > 0 ? plen : 1);
    if (plain == NULL)
        return PARLEY_ENOMEM;
    if (ad_len == 0 ||
        crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, d->body->sealed_content.data,
                                                   d->body->sealed_content.len, ad, ad_len,
                                                   d->body->nonce.data, key) != 0) {
        free(plain);
        return PARLEY_EBADSEAL;
    }
    c = parley__directory_content__unpack(NULL, plen, plain);
    parley_free(plain, plen > 0 ? plen : 1);
    if (c == NULL)
        return PARLEY_EMALFORMED;
    d->content = c;
    if (c->n_certs > DIRECTORY_MAX_AGENTS || c->n_purposes > DIRECTORY_MAX_LIST ||
        c->n_queues > DIRECTORY_MAX_LIST || c->n_guard > DIRECTORY_MAX_LIST ||
        strlen(c->notice_text) > PARLEY_MAX_NOTICE || !purpose_list_valid(c))
        return PARLEY_EMALFORMED;
    guard_policy_of(c, &d->guard);
    return PARLEY_OK;
}

parley_err parley__directory_open_any(parley_directory **out, const uint8_t *buf, size_t len,
                                      const uint8_t brand_pk[32], const char *brand_id,
                                      const uint8_t dir_key[32], uint64_t last_seen_version,
                                      uint64_t now, bool check_expiry)
{
    parley_directory *d = NULL;
    parley_revlist *revs = NULL;
    parley_err err;

    if (out == NULL || dir_key == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return PARLEY_ENOMEM;
    d->refs = 1;
    err = directory_verify(buf, len, brand_pk, brand_id, last_seen_version, &d->body, &revs);
    if (err == PARLEY_OK && check_expiry && now >= d->body->expires_at)
        err = PARLEY_EEXPIRED;
    if (err == PARLEY_OK)
        err = open_content(d, dir_key);
    if (err == PARLEY_OK)
        err = directory_load_agents(d, brand_pk, revs, now);
    if (err != PARLEY_OK) {
        parley_revlist_free(revs);
        parley_directory_free(d);
        return err;
    }
    d->revs = revs;
    *out = d;
    return PARLEY_OK;
}

parley_err parley_directory_open(parley_directory **out, const uint8_t *buf, size_t len,
                                 const uint8_t brand_pk[32], const char *brand_id,
                                 const uint8_t dir_key[32], uint64_t last_seen_version,
                                 uint64_t now)
{
    return parley__directory_open_any(out, buf, len, brand_pk, brand_id, dir_key, last_seen_version,
                                      now, true);
}

uint64_t parley_directory_version(const parley_directory *d)
{
    return d->body->version;
}

uint64_t parley_directory_issued_at(const parley_directory *d)
{
    return d->body->issued_at;
}

uint64_t parley_directory_expires_at(const parley_directory *d)
{
    return d->body->expires_at;
}

uint32_t parley_directory_notice_version(const parley_directory *d)
{
    return d->content->notice_version;
}

const char *parley_directory_notice_text(const parley_directory *d)
{
    return d->content->notice_text;
}

int parley_directory_keep_on_erasure(const parley_directory *d)
{
    return d->content->keep_on_erasure ? 1 : 0;
}

void parley_directory_guard_policy(const parley_directory *d, parley_scan_policy *out)
{
    *out = d->guard;
}

uint32_t parley_directory_history_days(const parley_directory *d)
{
    return d->content->history_days;
}

uint32_t parley_directory_legal_hold_days(const parley_directory *d)
{
    return d->content->legal_hold_days;
}

/* Purposes come from field 7 when the brand wrote it, else from field 4, all required. */
size_t parley_directory_purpose_count(const parley_directory *d)
{
    return d->content->n_purpose_list > 0 ? d->content->n_purpose_list : d->content->n_purposes;
}

const char *parley_directory_purpose(const parley_directory *d, size_t i)
{
    if (i >= parley_directory_purpose_count(d))
        return NULL;
    return d->content->n_purpose_list > 0 ? d->content->purpose_list[i]->name
                                          : d->content->purposes[i];
}

int parley_directory_purpose_required(const parley_directory *d, size_t i)
{
    if (i >= parley_directory_purpose_count(d))
        return 0;
    return d->content->n_purpose_list > 0 ? d->content->purpose_list[i]->required : 1;
}

const char *parley_directory_purpose_description(const parley_directory *d, size_t i)
{
    if (i >= parley_directory_purpose_count(d))
        return NULL;
    return d->content->n_purpose_list > 0 ? d->content->purpose_list[i]->description : "";
}

int parley_directory_find_purpose(const parley_directory *d, const char *name)
{
    for (size_t i = 0; name != NULL && i < parley_directory_purpose_count(d); i++)
        if (strcmp(parley_directory_purpose(d, i), name) == 0)
            return (int)i;
    return -1;
}

size_t parley_directory_agent_count(const parley_directory *d)
{
    return d->n_agents;
}

parley_err parley_directory_agent(const parley_directory *d, size_t i, parley_cert_info *info)
{
    if (i >= d->n_agents || info == NULL)
        return PARLEY_EINVAL;
    *info = d->agents[i].info;
    return d->agents[i].status;
}

const uint8_t *parley_directory_agent_cert(const parley_directory *d, size_t i, size_t *len)
{
    if (i >= d->n_agents)
        return NULL;
    if (len != NULL)
        *len = d->agents[i].cert_len;
    return d->agents[i].cert;
}

size_t parley_directory_queue_count(const parley_directory *d)
{
    return d->content->n_queues;
}

const char *parley_directory_queue_name(const parley_directory *d, size_t i)
{
    return i < d->content->n_queues ? d->content->queues[i]->name : NULL;
}

size_t parley_directory_queue_size(const parley_directory *d, size_t q)
{
    return q < d->content->n_queues ? d->content->queues[q]->n_agent_ids : 0;
}

const char *parley_directory_queue_agent(const parley_directory *d, size_t q, size_t i)
{
    if (q >= d->content->n_queues || i >= d->content->queues[q]->n_agent_ids)
        return NULL;
    return d->content->queues[q]->agent_ids[i];
}

const parley_revlist *parley_directory_revocations(const parley_directory *d)
{
    return d->revs;
}

int parley_directory_find_agent(const parley_directory *d, const char *agent_id)
{
    for (size_t i = 0; i < d->n_agents; i++)
        if (strcmp(d->agents[i].info.agent_id, agent_id) == 0)
            return (int)i;
    return -1;
}
