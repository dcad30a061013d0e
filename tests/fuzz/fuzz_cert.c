/*
 * Fuzz target: an agent certificate, verified against the pinned brand
 * key with the fixed revocation list (parley_cert_verify) and decoded for
 * display without the signature (parley_cert_inspect). A certificate that
 * verifies must inspect to the same contents.
 */
#include <string.h>

#include "fixture.h"

static int info_equal(const parley_cert_info *a, const parley_cert_info *b)
{
    return strcmp(a->brand_id, b->brand_id) == 0 && strcmp(a->agent_id, b->agent_id) == 0 &&
           strcmp(a->display_name, b->display_name) == 0 &&
           memcmp(a->sign_pk, b->sign_pk, 32) == 0 && memcmp(a->box_pk, b->box_pk, 32) == 0 &&
           a->serial == b->serial && a->not_before == b->not_before &&
           a->not_after == b->not_after;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct fixture *f = fixture_get();
    parley_cert_info verified, inspected;
    parley_err verr, ierr;

    memset(&verified, 0, sizeof(verified));
    memset(&inspected, 0, sizeof(inspected));
    verr = parley_cert_verify(data, size, f->trust.brand_pk, FIXTURE_BRAND_ID, FIXTURE_NOW,
                              f->revs, &verified);
    ierr = parley_cert_inspect(data, size, &inspected);
    if (verr == PARLEY_OK || verr == PARLEY_EEXPIRED || verr == PARLEY_ENOTYETVALID ||
        verr == PARLEY_EREVOKED || verr == PARLEY_EWRONGBRAND) {
        /* Authentic: decodes the same without the signature check. */
        FUZZ_ASSERT(ierr == PARLEY_OK);
        if (verr != PARLEY_EWRONGBRAND)
            FUZZ_ASSERT(info_equal(&verified, &inspected));
        FUZZ_ASSERT(parley_id_valid(inspected.brand_id) && parley_id_valid(inspected.agent_id));
        FUZZ_ASSERT(parley_display_name_valid(inspected.display_name));
        FUZZ_ASSERT(inspected.serial != 0 && inspected.not_before < inspected.not_after);
    }
    if (verr == PARLEY_OK)
        FUZZ_ASSERT(!parley_revlist_contains(f->revs, verified.serial));
    /* Without a brand id or revocation list, only signature and window remain. */
    verr = parley_cert_verify(data, size, f->trust.brand_pk, NULL, FIXTURE_NOW, NULL, NULL);
    FUZZ_ASSERT(verr != PARLEY_EWRONGBRAND && verr != PARLEY_EREVOKED);
    return 0;
}
