/*
 * Agents' certificate requests, certificates and revocation lists: the
 * brand-signed statements that let a customer trust an agent key without
 * trusting the relay that delivered it.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct parley_revlist {
    uint64_t version;
    size_t n;
    uint64_t *serials; /* sorted ascending, no duplicates */
};

int parley_id_valid(const char *id)
{
    size_t n;

    if (id == NULL)
        return 0;
    n = strlen(id);
    if (n == 0 || n > PARLEY_MAX_ID)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

int parley_display_name_valid(const char *name)
{
    size_t n;

    if (name == NULL)
        return 0;
    n = strlen(name);
    return n > 0 && n <= PARLEY_MAX_DISPLAY_NAME &&
           parley__utf8_valid((const uint8_t *)name, n, false);
}

/* Packs body, signs it under domain with sk, packs {body, signature} of the given wrapper. */
static parley_err sign_wrapped(const ProtobufCMessage *body, const uint8_t sk[64],
                               const char *domain, ProtobufCMessage *wrapper,
                               ProtobufCBinaryData *w_body, ProtobufCBinaryData *w_sig,
                               uint8_t **out, size_t *out_len)
{
    uint8_t sig[64];
    uint8_t *bbuf;
    size_t blen;
    parley_err err = parley__pack(body, &bbuf, &blen);

    if (err != PARLEY_OK)
        return err;
    err = parley__sign_raw(sk, domain, bbuf, blen, sig);
    if (err == PARLEY_OK) {
        *w_body = (ProtobufCBinaryData){blen, bbuf};
        *w_sig = (ProtobufCBinaryData){sizeof(sig), sig};
        err = parley__pack(wrapper, out, out_len);
        *w_body = (ProtobufCBinaryData){0, NULL};
        *w_sig = (ProtobufCBinaryData){0, NULL};
    }
    free(bbuf);
    return err;
}

parley_err parley_request_create(const parley_identity *agent, const char *agent_id,
                                 const char *display_name, uint64_t now, uint8_t **out,
                                 size_t *out_len)
{
    Parley__CertRequestBody body = PARLEY__CERT_REQUEST_BODY__INIT;
    Parley__CertRequest req = PARLEY__CERT_REQUEST__INIT;

    if (agent == NULL || out == NULL || out_len == NULL || !parley_id_valid(agent_id) ||
        !parley_display_name_valid(display_name))
        return PARLEY_EINVAL;
    body.agent_id = (char *)agent_id;
    body.display_name = (char *)display_name;
    body.sign_key = (ProtobufCBinaryData){32, (uint8_t *)agent->sign_pk};
    body.box_key = (ProtobufCBinaryData){32, (uint8_t *)agent->box_pk};
    body.created_at = now;
    return sign_wrapped(&body.base, agent->secret->sign_sk, PARLEY__DOMAIN_REQUEST, &req.base,
                        &req.body, &req.signature, out, out_len);
}

parley_err parley_request_verify(const uint8_t *buf, size_t len, parley_cert_info *info)
{
    Parley__CertRequest *req;
    Parley__CertRequestBody *body = NULL;
    parley_err err = PARLEY_OK;

    if (buf == NULL || info == NULL)
        return PARLEY_EINVAL;
    if (len > PARLEY_MAX_CERT)
        return PARLEY_ETOOBIG;
    req = parley__cert_request__unpack(NULL, len, buf);
    if (req == NULL)
        return PARLEY_EMALFORMED;
    body = parley__cert_request_body__unpack(NULL, req->body.len, req->body.data);
    if (body == NULL || !parley__len_is(body->sign_key, 32) || !parley__len_is(body->box_key, 32) ||
        !parley_id_valid(body->agent_id) || !parley_display_name_valid(body->display_name)) {
        err = PARLEY_EMALFORMED;
        goto done;
    }
    err = parley__verify_pb(body->sign_key.data, body->sign_key.len, PARLEY__DOMAIN_REQUEST,
                            req->body, req->signature);
    if (err != PARLEY_OK)
        goto done;
    memset(info, 0, sizeof(*info));
    parley__copy_str(info->agent_id, sizeof(info->agent_id), body->agent_id);
    parley__copy_str(info->display_name, sizeof(info->display_name), body->display_name);
    memcpy(info->sign_pk, body->sign_key.data, 32);
    memcpy(info->box_pk, body->box_key.data, 32);
    info->not_before = body->created_at;
done:
    if (body != NULL)
        parley__cert_request_body__free_unpacked(body, NULL);
    parley__cert_request__free_unpacked(req, NULL);
    return err;
}

/* The commitment to an agent's display name: BLAKE2b-256 keyed by key over the domain and name. */
static void name_hash(const uint8_t key[32], const char *name, uint8_t out[32])
{
    static const char domain[] = "parley/agent-name/v1";
    crypto_generichash_state st;

    crypto_generichash_init(&st, key, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain)); /* with its NUL */
    crypto_generichash_update(&st, (const uint8_t *)name, strlen(name));
    crypto_generichash_final(&st, out, 32);
}

/*
 * The key of that commitment: derived from the brand's signing secret and
 * the certificate's fields, so that a certificate is the same bytes each
 * time it is issued, and nobody without the brand key can guess a name
 * from its hash.
 */
static void name_key(const parley_identity *brand, const parley_cert_info *info, uint8_t out[32])
{
    static const char domain[] = "parley/agent-name-key/v1";
    crypto_generichash_state st;
    uint8_t serial[8];

    for (int i = 0; i < 8; i++)
        serial[i] = (uint8_t)(info->serial >> (56 - 8 * i));
    crypto_generichash_init(&st, brand->secret->sign_sk, 64, 32);
    crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
    crypto_generichash_update(&st, (const uint8_t *)info->agent_id, strlen(info->agent_id) + 1);
    crypto_generichash_update(&st, info->sign_pk, 32);
    crypto_generichash_update(&st, serial, sizeof(serial));
    crypto_generichash_update(&st, (const uint8_t *)info->display_name,
                              strlen(info->display_name));
    crypto_generichash_final(&st, out, 32);
}

/*
 * The display name of a certificate whose body commits to it (hash): the
 * one beside the body if it matches (else PARLEY_EBADSIG), or "" when the
 * certificate comes without it, as agents present theirs to a relay.
 */
static parley_err name_open(const Parley__AgentCert *cert, const uint8_t hash[32], char *out,
                            size_t cap)
{
    uint8_t got[32];

    out[0] = '\0';
    if (cert->display_name == NULL || cert->display_name[0] == '\0')
        return cert->display_name_key.len == 0 ? PARLEY_OK : PARLEY_EMALFORMED;
    if (!parley_display_name_valid(cert->display_name) ||
        !parley__len_is(cert->display_name_key, 32))
        return PARLEY_EMALFORMED;
    name_hash(cert->display_name_key.data, cert->display_name, got);
    if (sodium_memcmp(got, hash, 32) != 0)
        return PARLEY_EBADSIG;
    parley__copy_str(out, cap, cert->display_name);
    return PARLEY_OK;
}

parley_err parley_cert_issue(const parley_identity *brand, const parley_cert_info *info,
                             uint8_t **out, size_t *out_len)
{
    Parley__AgentCertBody body = PARLEY__AGENT_CERT_BODY__INIT;
    Parley__AgentCert cert = PARLEY__AGENT_CERT__INIT;
    uint8_t key[32], hash[32];
    parley_err err;

    if (brand == NULL || info == NULL || out == NULL || out_len == NULL ||
        !parley_id_valid(info->brand_id) || !parley_id_valid(info->agent_id) ||
        !parley_display_name_valid(info->display_name) || info->not_before >= info->not_after ||
        info->serial == 0)
        return PARLEY_EINVAL;
    body.brand_id = (char *)info->brand_id;
    body.agent_id = (char *)info->agent_id;
    /* The name itself stays beside the body, so that it can be left out towards a relay. */
    name_key(brand, info, key);
    name_hash(key, info->display_name, hash);
    body.display_name_hash = (ProtobufCBinaryData){32, hash};
    cert.display_name = (char *)info->display_name;
    cert.display_name_key = (ProtobufCBinaryData){32, key};
    body.sign_key = (ProtobufCBinaryData){32, (uint8_t *)info->sign_pk};
    body.box_key = (ProtobufCBinaryData){32, (uint8_t *)info->box_pk};
    body.serial = info->serial;
    body.not_before = info->not_before;
    body.not_after = info->not_after;
    err = sign_wrapped(&body.base, brand->secret->sign_sk, PARLEY__DOMAIN_CERT, &cert.base,
                       &cert.body, &cert.signature, out, out_len);
    sodium_memzero(key, sizeof(key));
    return err;
}

parley_err parley__cert_body_decode(const Parley__AgentCert *cert, parley_cert_info *info)
{
    Parley__AgentCertBody *b;
    parley_err err = PARLEY_OK;
    bool committed;

    if (cert->body.len > PARLEY_MAX_CERT)
        return PARLEY_ETOOBIG;
    b = parley__agent_cert_body__unpack(NULL, cert->body.len, cert->body.data);
    if (b == NULL)
        return PARLEY_EMALFORMED;
    /* The name committed to (display_name_hash), or, in older certificates, in the body. */
    committed = b->display_name_hash.len > 0;
    if (!parley__len_is(b->sign_key, 32) || !parley__len_is(b->box_key, 32) ||
        !parley_id_valid(b->brand_id) || !parley_id_valid(b->agent_id) ||
        (committed ? !parley__len_is(b->display_name_hash, 32) || b->display_name[0] != '\0'
                   : !parley_display_name_valid(b->display_name)) ||
        b->serial == 0 || b->not_before >= b->not_after) {
        err = PARLEY_EMALFORMED;
    } else {
        memset(info, 0, sizeof(*info));
        parley__copy_str(info->brand_id, sizeof(info->brand_id), b->brand_id);
        parley__copy_str(info->agent_id, sizeof(info->agent_id), b->agent_id);
        if (committed)
            err = name_open(cert, b->display_name_hash.data, info->display_name,
                            sizeof(info->display_name));
        else
            parley__copy_str(info->display_name, sizeof(info->display_name), b->display_name);
        memcpy(info->sign_pk, b->sign_key.data, 32);
        memcpy(info->box_pk, b->box_key.data, 32);
        info->serial = b->serial;
        info->not_before = b->not_before;
        info->not_after = b->not_after;
    }
    parley__agent_cert_body__free_unpacked(b, NULL);
    return err;
}

parley_err parley__cert_authentic(const Parley__AgentCert *cert, const uint8_t brand_pk[32],
                                  const char *brand_id, parley_cert_info *info)
{
    /* Signature first: nothing unsigned is looked at beyond its structure. */
    parley_err err =
        parley__verify_pb(brand_pk, 32, PARLEY__DOMAIN_CERT, cert->body, cert->signature);

    if (err != PARLEY_OK)
        return err;
    err = parley__cert_body_decode(cert, info);
    if (err != PARLEY_OK)
        return err;
    if (brand_id != NULL && strcmp(info->brand_id, brand_id) != 0)
        return PARLEY_EWRONGBRAND;
    return PARLEY_OK;
}

parley_err parley__cert_status(const parley_cert_info *info, uint64_t now,
                               const parley_revlist *revs)
{
    if (now < info->not_before)
        return PARLEY_ENOTYETVALID;
    if (now >= info->not_after)
        return PARLEY_EEXPIRED;
    if (revs != NULL && parley_revlist_contains(revs, info->serial))
        return PARLEY_EREVOKED;
    return PARLEY_OK;
}

parley_err parley__cert_check(const Parley__AgentCert *cert, const uint8_t brand_pk[32],
                              const char *brand_id, uint64_t now, const parley_revlist *revs,
                              parley_cert_info *info)
{
    parley_cert_info tmp;
    parley_err err;

    if (info == NULL)
        info = &tmp;
    err = parley__cert_authentic(cert, brand_pk, brand_id, info);
    return err != PARLEY_OK ? err : parley__cert_status(info, now, revs);
}

static parley_err cert_unpack(const uint8_t *buf, size_t len, Parley__AgentCert **out)
{
    if (buf == NULL)
        return PARLEY_EINVAL;
    if (len > PARLEY_MAX_CERT)
        return PARLEY_ETOOBIG;
    *out = parley__agent_cert__unpack(NULL, len, buf);
    return *out == NULL ? PARLEY_EMALFORMED : PARLEY_OK;
}

parley_err parley_cert_verify(const uint8_t *buf, size_t len, const uint8_t brand_pk[32],
                              const char *brand_id, uint64_t now, const parley_revlist *revs,
                              parley_cert_info *info)
{
    Parley__AgentCert *cert;
    parley_err err;

    if (brand_pk == NULL)
        return PARLEY_EINVAL;
    err = cert_unpack(buf, len, &cert);
    if (err != PARLEY_OK)
        return err;
    err = parley__cert_check(cert, brand_pk, brand_id, now, revs, info);
    parley__agent_cert__free_unpacked(cert, NULL);
    return err;
}

parley_err parley_cert_inspect(const uint8_t *buf, size_t len, parley_cert_info *info)
{
    Parley__AgentCert *cert;
    parley_err err;

    if (info == NULL)
        return PARLEY_EINVAL;
    err = cert_unpack(buf, len, &cert);
    if (err != PARLEY_OK)
        return err;
    err = parley__len_is(cert->signature, 64) ? parley__cert_body_decode(cert, info)
                                               : PARLEY_EMALFORMED;
    parley__agent_cert__free_unpacked(cert, NULL);
    return err;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts and removes duplicates in place; returns the new count. */
static size_t sort_unique(uint64_t *v, size_t n)
{
    size_t k = 0;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_u64);
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[k])
            v[++k] = v[i];
    return k + 1;
}

#define REVLIST_MAX_SERIALS 65536u

parley_err parley_revlist_build(const parley_identity *brand, const char *brand_id,
                                uint64_t version, const uint64_t *serials, size_t n,
                                uint64_t issued_at, uint8_t **out, size_t *out_len)
{
    Parley__RevocationListBody body = PARLEY__REVOCATION_LIST_BODY__INIT;
    Parley__RevocationList rl = PARLEY__REVOCATION_LIST__INIT;
    uint64_t *sorted;
    parley_err err;

    if (brand == NULL || out == NULL || out_len == NULL || !parley_id_valid(brand_id) ||
        (serials == NULL && n > 0) || version == 0)
        return PARLEY_EINVAL;
    if (n > REVLIST_MAX_SERIALS)
        return PARLEY_ETOOBIG;
    sorted = malloc((n > 0 ? n : 1) * sizeof(*sorted));
    if (sorted == NULL)
        return PARLEY_ENOMEM;
    if (n > 0)
        memcpy(sorted, serials, n * sizeof(*sorted));
    body.brand_id = (char *)brand_id;
    body.version = version;
    body.serials = sorted;
    body.n_serials = sort_unique(sorted, n);
    body.issued_at = issued_at;
    err = sign_wrapped(&body.base, brand->secret->sign_sk, PARLEY__DOMAIN_REVOCATIONS, &rl.base,
                       &rl.body, &rl.signature, out, out_len);
    free(sorted);
    return err;
}

parley_err parley__brand_version_check(const char *got_brand, const char *brand_id,
                                       uint64_t version, uint64_t last_seen_version)
{
    if (brand_id != NULL && strcmp(got_brand, brand_id) != 0)
        return PARLEY_EWRONGBRAND;
    return version < last_seen_version ? PARLEY_EROLLBACK : PARLEY_OK;
}

parley_err parley__revlist_from_pb(const Parley__RevocationList *rl, const uint8_t brand_pk[32],
                                   const char *brand_id, uint64_t last_seen_version,
                                   parley_revlist **out)
{
    Parley__RevocationListBody *body;
    parley_revlist *r = NULL;
    parley_err err;

    err = parley__verify_pb(brand_pk, 32, PARLEY__DOMAIN_REVOCATIONS, rl->body, rl->signature);
    if (err != PARLEY_OK)
        return err;
    body = parley__revocation_list_body__unpack(NULL, rl->body.len, rl->body.data);
    if (body == NULL || !parley_id_valid(body->brand_id) || body->version == 0 ||
        body->n_serials > REVLIST_MAX_SERIALS) {
        err = PARLEY_EMALFORMED;
        goto done;
    }
    err = parley__brand_version_check(body->brand_id, brand_id, body->version, last_seen_version);
    if (err != PARLEY_OK)
        goto done;
    r = calloc(1, sizeof(*r));
    if (r == NULL || (r->serials = malloc((body->n_serials + 1) * sizeof(uint64_t))) == NULL) {
        free(r);
        r = NULL;
        err = PARLEY_ENOMEM;
        goto done;
    }
    if (body->n_serials > 0)
        memcpy(r->serials, body->serials, body->n_serials * sizeof(uint64_t));
    r->n = sort_unique(r->serials, body->n_serials);
    r->version = body->version;
    *out = r;
done:
    if (body != NULL)
        parley__revocation_list_body__free_unpacked(body, NULL);
    return err;
}

parley_err parley_revlist_open(parley_revlist **out, const uint8_t *buf, size_t len,
                               const uint8_t brand_pk[32], const char *brand_id,
                               uint64_t last_seen_version)
{
    Parley__RevocationList *rl;
    parley_err err;

    if (out == NULL || buf == NULL || brand_pk == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    if (len > PARLEY_MAX_DIRECTORY)
        return PARLEY_ETOOBIG;
    rl = parley__revocation_list__unpack(NULL, len, buf);
    if (rl == NULL)
        return PARLEY_EMALFORMED;
    err = parley__revlist_from_pb(rl, brand_pk, brand_id, last_seen_version, out);
    parley__revocation_list__free_unpacked(rl, NULL);
    return err;
}

void parley_revlist_free(parley_revlist *r)
{
    if (r == NULL)
        return;
    free(r->serials);
    free(r);
}

uint64_t parley_revlist_version(const parley_revlist *r)
{
    return r->version;
}

size_t parley_revlist_count(const parley_revlist *r)
{
    return r->n;
}

uint64_t parley_revlist_serial(const parley_revlist *r, size_t i)
{
    return i < r->n ? r->serials[i] : 0;
}

int parley_revlist_contains(const parley_revlist *r, uint64_t serial)
{
    return r != NULL &&
           bsearch(&serial, r->serials, r->n, sizeof(uint64_t), cmp_u64) != NULL;
}
