/*
 * The brand directory: the brand-signed list of agent certificates,
 * revocations, queues and the privacy notice that customers consent to.
 * Clients fetch it through the relay and verify it against the pinned
 * brand key, refusing any version older than one already seen.
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
    Parley__DirectoryBody *body;
    parley_revlist *revs; /* the embedded revocation list, or NULL */
    struct dir_agent *agents;
    size_t n_agents;
};

parley_err parley_directory_build(const parley_identity *brand, const parley_directory_spec *spec,
                                  uint8_t **out, size_t *out_len)
{
    Parley__DirectoryBody body = PARLEY__DIRECTORY_BODY__INIT;
    Parley__Directory dir = PARLEY__DIRECTORY__INIT;
    Parley__AgentCert **certs = NULL;
    Parley__RevocationList *revs = NULL;
    Parley__Queue *queues = NULL, **queue_ptrs = NULL;
    uint8_t sig[64];
    uint8_t *bbuf = NULL;
    size_t blen = 0, n_certs = 0;
    parley_err err = PARLEY_OK;

    if (brand == NULL || spec == NULL || out == NULL || out_len == NULL ||
        !parley_id_valid(spec->brand_id) || spec->version == 0 || spec->notice_text == NULL ||
        (spec->n_certs > 0 && (spec->certs == NULL || spec->cert_lens == NULL)) ||
        (spec->n_purposes > 0 && spec->purposes == NULL) ||
        (spec->n_queues > 0 && spec->queues == NULL))
        return PARLEY_EINVAL;
    if (spec->n_certs > DIRECTORY_MAX_AGENTS || spec->n_purposes > DIRECTORY_MAX_LIST ||
        spec->n_queues > DIRECTORY_MAX_LIST || strlen(spec->notice_text) > PARLEY_MAX_NOTICE)
        return PARLEY_ETOOBIG;

    certs = calloc(spec->n_certs + 1, sizeof(*certs));
    queues = calloc(spec->n_queues + 1, sizeof(*queues));
    queue_ptrs = calloc(spec->n_queues + 1, sizeof(*queue_ptrs));
    if (certs == NULL || queues == NULL || queue_ptrs == NULL) {
        err = PARLEY_ENOMEM;
        goto done;
    }
    for (; n_certs < spec->n_certs; n_certs++) {
        parley_cert_info info;

        if (spec->cert_lens[n_certs] > PARLEY_MAX_CERT) {
            err = PARLEY_ETOOBIG;
            goto done;
        }
        certs[n_certs] =
            parley__agent_cert__unpack(NULL, spec->cert_lens[n_certs], spec->certs[n_certs]);
        if (certs[n_certs] == NULL) {
            err = PARLEY_EMALFORMED;
            goto done;
        }
        err = parley__cert_authentic(certs[n_certs], brand->sign_pk, spec->brand_id, &info);
        if (err != PARLEY_OK) {
            n_certs++;
            goto done;
        }
    }
    if (spec->revocations != NULL) {
        parley_revlist *check = NULL;

        err = parley_revlist_open(&check, spec->revocations, spec->revocations_len,
                                  brand->sign_pk, spec->brand_id, 0);
        parley_revlist_free(check);
        if (err != PARLEY_OK)
            goto done;
        revs = parley__revocation_list__unpack(NULL, spec->revocations_len, spec->revocations);
        if (revs == NULL) {
            err = PARLEY_ENOMEM;
            goto done;
        }
    }
    for (size_t i = 0; i < spec->n_queues; i++) {
        parley__queue__init(&queues[i]);
        if (!parley_id_valid(spec->queues[i].name) ||
            (spec->queues[i].n_agent_ids > 0 && spec->queues[i].agent_ids == NULL) ||
            spec->queues[i].n_agent_ids > DIRECTORY_MAX_AGENTS) {
            err = PARLEY_EINVAL;
            goto done;
        }
        queues[i].name = (char *)spec->queues[i].name;
        queues[i].agent_ids = (char **)spec->queues[i].agent_ids;
        queues[i].n_agent_ids = spec->queues[i].n_agent_ids;
        queue_ptrs[i] = &queues[i];
    }
    body.brand_id = (char *)spec->brand_id;
    body.version = spec->version;
    body.certs = certs;
    body.n_certs = spec->n_certs;
    body.revocations = revs;
    body.notice_text = (char *)spec->notice_text;
    body.notice_version = spec->notice_version;
    body.purposes = (char **)spec->purposes;
    body.n_purposes = spec->n_purposes;
    body.queues = queue_ptrs;
    body.n_queues = spec->n_queues;
    body.issued_at = spec->issued_at;
    err = parley__pack(&body.base, &bbuf, &blen);
    if (err != PARLEY_OK)
        goto done;
    if (blen > PARLEY_MAX_DIRECTORY - 128) {
        err = PARLEY_ETOOBIG;
        goto done;
    }
    err = parley__sign_raw(brand->secret->sign_sk, PARLEY__DOMAIN_DIRECTORY, bbuf, blen, sig);
    if (err != PARLEY_OK)
        goto done;
    dir.body = (ProtobufCBinaryData){blen, bbuf};
    dir.signature = (ProtobufCBinaryData){sizeof(sig), sig};
    err = parley__pack(&dir.base, out, out_len);
done:
    free(bbuf);
    for (size_t i = 0; i < n_certs; i++)
        if (certs[i] != NULL)
            parley__agent_cert__free_unpacked(certs[i], NULL);
    free(certs);
    if (revs != NULL)
        parley__revocation_list__free_unpacked(revs, NULL);
    free(queues);
    free(queue_ptrs);
    return err;
}

void parley_directory_free(parley_directory *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_agents; i++)
        free(d->agents[i].cert);
    free(d->agents);
    parley_revlist_free(d->revs);
    if (d->body != NULL)
        parley__directory_body__free_unpacked(d->body, NULL);
    free(d);
}

static parley_err directory_load_agents(parley_directory *d, const uint8_t brand_pk[32],
                                        const parley_revlist *revs, uint64_t now)
{
    Parley__DirectoryBody *b = d->body;

    d->agents = calloc(b->n_certs + 1, sizeof(*d->agents));
    if (d->agents == NULL)
        return PARLEY_ENOMEM;
    for (size_t i = 0; i < b->n_certs; i++) {
        struct dir_agent *a = &d->agents[d->n_agents];
        /* A certificate that is not the brand's own makes the whole directory untrustworthy. */
        parley_err err = parley__cert_authentic(b->certs[i], brand_pk, b->brand_id, &a->info);

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

parley_err parley_directory_open(parley_directory **out, const uint8_t *buf, size_t len,
                                 const uint8_t brand_pk[32], const char *brand_id,
                                 uint64_t last_seen_version, uint64_t now)
{
    Parley__Directory *dir;
    parley_directory *d = NULL;
    parley_revlist *revs = NULL;
    parley_err err;

    if (out == NULL || buf == NULL || brand_pk == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    if (len > PARLEY_MAX_DIRECTORY)
        return PARLEY_ETOOBIG;
    dir = parley__directory__unpack(NULL, len, buf);
    if (dir == NULL)
        return PARLEY_EMALFORMED;
    err = parley__verify_pb(brand_pk, 32, PARLEY__DOMAIN_DIRECTORY, dir->body, dir->signature);
    if (err != PARLEY_OK)
        goto done;
    d = calloc(1, sizeof(*d));
    if (d == NULL) {
        err = PARLEY_ENOMEM;
        goto done;
    }
    d->body = parley__directory_body__unpack(NULL, dir->body.len, dir->body.data);
    if (d->body == NULL || !parley_id_valid(d->body->brand_id) || d->body->version == 0 ||
        d->body->n_certs > DIRECTORY_MAX_AGENTS || d->body->n_purposes > DIRECTORY_MAX_LIST ||
        d->body->n_queues > DIRECTORY_MAX_LIST ||
        strlen(d->body->notice_text) > PARLEY_MAX_NOTICE) {
        err = PARLEY_EMALFORMED;
        goto done;
    }
    if (brand_id != NULL && strcmp(d->body->brand_id, brand_id) != 0) {
        err = PARLEY_EWRONGBRAND;
        goto done;
    }
    if (d->body->version < last_seen_version) {
        err = PARLEY_EROLLBACK;
        goto done;
    }
    if (d->body->revocations != NULL) {
        err = parley__revlist_from_pb(d->body->revocations, brand_pk, d->body->brand_id, 0,
                                      &revs);
        if (err != PARLEY_OK)
            goto done;
    }
    err = directory_load_agents(d, brand_pk, revs, now);
    if (err != PARLEY_OK)
        goto done;
    d->revs = revs;
    revs = NULL;
    *out = d;
    d = NULL;
done:
    parley_revlist_free(revs);
    parley_directory_free(d);
    parley__directory__free_unpacked(dir, NULL);
    return err;
}

uint64_t parley_directory_version(const parley_directory *d)
{
    return d->body->version;
}

uint32_t parley_directory_notice_version(const parley_directory *d)
{
    return d->body->notice_version;
}

const char *parley_directory_notice_text(const parley_directory *d)
{
    return d->body->notice_text;
}

size_t parley_directory_purpose_count(const parley_directory *d)
{
    return d->body->n_purposes;
}

const char *parley_directory_purpose(const parley_directory *d, size_t i)
{
    return i < d->body->n_purposes ? d->body->purposes[i] : NULL;
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
    return d->body->n_queues;
}

const char *parley_directory_queue_name(const parley_directory *d, size_t i)
{
    return i < d->body->n_queues ? d->body->queues[i]->name : NULL;
}

size_t parley_directory_queue_size(const parley_directory *d, size_t q)
{
    return q < d->body->n_queues ? d->body->queues[q]->n_agent_ids : 0;
}

const char *parley_directory_queue_agent(const parley_directory *d, size_t q, size_t i)
{
    if (q >= d->body->n_queues || i >= d->body->queues[q]->n_agent_ids)
        return NULL;
    return d->body->queues[q]->agent_ids[i];
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
