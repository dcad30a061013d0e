/*
 * Fuzz target: the brand directory a customer fetches through the relay,
 * verified against the pinned brand key (parley_directory_open), then every
 * accessor over every index and one past the end. Each agent certificate
 * the directory hands out must itself verify under the brand key.
 */
#include <string.h>

#include "fixture.h"

/* Reads the whole string so that a missing NUL or a dangling pointer shows. */
static size_t touch(const char *s)
{
    FUZZ_ASSERT(s != NULL);
    return strlen(s);
}

static void walk(const parley_directory *d)
{
    size_t n, total = 0;

    (void)parley_directory_version(d);
    (void)parley_directory_notice_version(d);
    FUZZ_ASSERT(touch(parley_directory_notice_text(d)) <= PARLEY_MAX_NOTICE);

    n = parley_directory_purpose_count(d);
    for (size_t i = 0; i < n; i++)
        total += touch(parley_directory_purpose(d, i));
    FUZZ_ASSERT(parley_directory_purpose(d, n) == NULL);

    n = parley_directory_agent_count(d);
    for (size_t i = 0; i < n; i++) {
        parley_cert_info info, again;
        const uint8_t *cert;
        size_t len = 0;
        parley_err status = parley_directory_agent(d, i, &info);

        FUZZ_ASSERT(status == PARLEY_OK || status == PARLEY_EEXPIRED ||
                    status == PARLEY_ENOTYETVALID || status == PARLEY_EREVOKED);
        FUZZ_ASSERT(strcmp(info.brand_id, FIXTURE_BRAND_ID) == 0);
        {
            /* An agent id may be listed twice; the lookup finds one holding it. */
            int at = parley_directory_find_agent(d, info.agent_id);
            parley_cert_info found;

            FUZZ_ASSERT(at >= 0 && (size_t)at < n);
            (void)parley_directory_agent(d, (size_t)at, &found);
            FUZZ_ASSERT(strcmp(found.agent_id, info.agent_id) == 0);
        }
        cert = parley_directory_agent_cert(d, i, &len);
        FUZZ_ASSERT(cert != NULL && len > 0);
        /*
         * What the directory hands out for transfers must verify on its
         * own. ETOOBIG is tolerated: a wrapper may carry unknown fields
         * past the certificate size limit.
         */
        status = parley_cert_verify(cert, len, parley_identity_sign_pk(fixture_get()->brand),
                                    FIXTURE_BRAND_ID, FIXTURE_NOW, NULL, &again);
        FUZZ_ASSERT(status == PARLEY_OK || status == PARLEY_EEXPIRED ||
                    status == PARLEY_ENOTYETVALID || status == PARLEY_ETOOBIG);
        if (status != PARLEY_ETOOBIG)
            FUZZ_ASSERT(again.serial == info.serial &&
                        memcmp(again.sign_pk, info.sign_pk, 32) == 0);
    }
    {
        parley_cert_info info;
        size_t len = 0;

        FUZZ_ASSERT(parley_directory_agent(d, n, &info) == PARLEY_EINVAL);
        FUZZ_ASSERT(parley_directory_agent_cert(d, n, &len) == NULL);
    }

    {
        const parley_revlist *r = parley_directory_revocations(d);
        size_t k = r != NULL ? parley_revlist_count(r) : 0;

        for (size_t i = 0; i < k; i++)
            FUZZ_ASSERT(parley_revlist_contains(r, parley_revlist_serial(r, i)));
    }
    FUZZ_ASSERT(parley_directory_find_agent(d, "") == -1);

    n = parley_directory_queue_count(d);
    for (size_t q = 0; q < n; q++) {
        size_t m = parley_directory_queue_size(d, q);

        total += touch(parley_directory_queue_name(d, q));
        for (size_t i = 0; i < m; i++) {
            const char *id = parley_directory_queue_agent(d, q, i);

            total += touch(id);
            (void)parley_directory_find_agent(d, id);
        }
        FUZZ_ASSERT(parley_directory_queue_agent(d, q, m) == NULL);
    }
    FUZZ_ASSERT(parley_directory_queue_name(d, n) == NULL);
    FUZZ_ASSERT(parley_directory_queue_size(d, n) == 0);
    FUZZ_ASSERT(parley_directory_queue_agent(d, n, 0) == NULL);
    FUZZ_ASSERT(total <= PARLEY_MAX_DIRECTORY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct fixture *f = fixture_get();
    parley_directory *d = NULL, *again = NULL;
    uint64_t version, checked = 0;
    uint8_t key[32];
    parley_err err, relay_err;

    parley_directory_key(f->brand, key);
    /* What a relay checks, without the key, must never accept less than a client. */
    relay_err = parley_directory_check(data, size, f->trust.brand_pk, FIXTURE_BRAND_ID, 0,
                                       FIXTURE_NOW, &checked, NULL);
    err = parley_directory_open(&d, data, size, f->trust.brand_pk, FIXTURE_BRAND_ID, key, 0,
                                FIXTURE_NOW);
    if (err != PARLEY_OK) {
        FUZZ_ASSERT(d == NULL);
        return 0;
    }
    FUZZ_ASSERT(relay_err == PARLEY_OK && checked == parley_directory_version(d));
    walk(d);
    version = parley_directory_version(d);
    FUZZ_ASSERT(version != 0);
    if (version < UINT64_MAX) {
        err = parley_directory_open(&again, data, size, f->trust.brand_pk, FIXTURE_BRAND_ID, key,
                                    version + 1, FIXTURE_NOW);
        FUZZ_ASSERT(err == PARLEY_EROLLBACK && again == NULL);
    }
    parley_directory_free(d);
    return 0;
}
