/*
 * Fuzz target: everything behind the seal. The input is the plaintext of
 * a sealed box: it is sealed here to the fixed recipient (with
 * crypto_box_seal, so the fuzzer need not forge seals) and opened with
 * parley__open_sealed(), reaching the padding check, the Sealed and
 * Payload decoders, the payload structure checks, the signature, the
 * recipient and conversation bindings and the sender's certificate.
 *
 * First input byte even: the input is padded with sodium_pad() first, so
 * the decoders see it whole. Odd: sealed as is, to fuzz the padding check.
 * A valid Sealed encoding starts with 0x0a (field 1, length-delimited),
 * which is even.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct fixture *f = fixture_get();
    Parley__Payload *p = NULL;
    parley_cert_info cert;
    uint8_t *plain, *box;
    size_t plain_len = size, cap;
    int is_agent = 0;
    parley_err err;

    /* Over the envelope limit the seal is refused before it is opened. */
    if (size > PARLEY_MAX_ENVELOPE)
        return 0;
    cap = size + PARLEY_PAD_BLOCK;
    plain = malloc(cap);
    box = malloc(cap + crypto_box_SEALBYTES);
    FUZZ_ASSERT(plain != NULL && box != NULL);
    if (size > 0)
        memcpy(plain, data, size);
    if (size > 0 && data[0] % 2 == 0)
        FUZZ_ASSERT(sodium_pad(&plain_len, plain, size, PARLEY_PAD_BLOCK, cap) == 0);
    crypto_box_seal(box, plain, plain_len, f->recipient->box_pk);
    err = parley__open_sealed(box, plain_len + crypto_box_SEALBYTES, f->recipient->box_pk,
                              f->recipient->secret->box_sk, fixture_conversation_id,
                              &f->trust, &p, &cert, &is_agent);
    /* The seal is genuine: failing it would be a bug in the open path. */
    FUZZ_ASSERT(err != PARLEY_EBADSEAL);
    if (err == PARLEY_OK) {
        FUZZ_ASSERT(p != NULL && p->seq != 0);
        FUZZ_ASSERT(sodium_memcmp(p->recipient_key.data, f->recipient->box_pk, 32) == 0);
        FUZZ_ASSERT(sodium_memcmp(p->conversation_id.data, fixture_conversation_id, 16) == 0);
        if (is_agent)
            FUZZ_ASSERT(p->sender_cert != NULL);
        parley__payload_free(p);
    } else {
        FUZZ_ASSERT(p == NULL);
    }
    free(plain);
    free(box);
    return 0;
}
