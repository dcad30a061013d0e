/*
 * Fuzz target: parley__open_sealed() on the input as sealed-box bytes,
 * opened with the fixed recipient's key. Mutations almost never survive
 * the seal, so this target mostly covers the size and seal checks and the
 * corpus's valid seals; fuzz_inner.c reaches behind the seal.
 */
#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct fixture *f = fixture_get();
    Parley__Payload *p = NULL;
    parley_cert_info cert;
    int is_agent = 0;
    parley_err err;

    err = parley__open_sealed(data, size, f->recipient->box_pk, f->recipient->secret->box_sk,
                              fixture_conversation_id, &f->trust, &p, &cert, &is_agent);
    if (err != PARLEY_OK) {
        FUZZ_ASSERT(p == NULL);
        return 0;
    }
    FUZZ_ASSERT(p != NULL);
    FUZZ_ASSERT(p->seq != 0);
    if (is_agent)
        FUZZ_ASSERT(p->sender_cert != NULL);
    parley__payload_free(p);
    return 0;
}
