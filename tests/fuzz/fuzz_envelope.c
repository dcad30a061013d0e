/*
 * Fuzz target: parley_open(), the whole receive path a malicious relay can
 * reach, on an envelope addressed to the fixed recipient under the pinned
 * brand key. Checks what an opened message promises its caller.
 */
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct fixture *f = fixture_get();
    parley_opened o;
    parley_err err;

    err = parley_open(data, size, f->recipient, &f->trust, &o);
    if (err != PARLEY_OK) {
        FUZZ_ASSERT(o.text == NULL);
        return 0;
    }
    FUZZ_ASSERT(o.kind != PARLEY_BODY_NONE);
    FUZZ_ASSERT(o.seq != 0);
    if (o.kind == PARLEY_BODY_TEXT || o.kind == PARLEY_BODY_OPEN) {
        FUZZ_ASSERT(o.text != NULL);
        FUZZ_ASSERT(strlen(o.text) == o.text_len);
        FUZZ_ASSERT(o.text_len <= PARLEY_MAX_TEXT);
    } else {
        FUZZ_ASSERT(o.text == NULL);
    }
    if (o.sender_is_agent) {
        FUZZ_ASSERT(memcmp(o.sender_cert.sign_pk, o.sender_sign_pk, 32) == 0);
        FUZZ_ASSERT(strcmp(o.sender_cert.brand_id, FIXTURE_BRAND_ID) == 0);
        FUZZ_ASSERT(o.sender_cert.not_before <= FIXTURE_NOW &&
                    FIXTURE_NOW < o.sender_cert.not_after);
        FUZZ_ASSERT(!parley_revlist_contains(f->revs, o.sender_cert.serial));
    }
    parley_opened_clear(&o);
    return 0;
}
