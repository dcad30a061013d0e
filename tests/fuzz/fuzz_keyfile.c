/*
 * Fuzz target: the passphrase-encrypted key file. parley_keyfile_peek()
 * runs on every input, with a label buffer that fits any label and with
 * one too small. parley_identity_import() runs only when the file asks
 * for a cheap Argon2id (at most 3 passes over 64 KiB): the costs a file
 * may ask for go up to 1 GiB, which would stall the fuzzer. The fuzzer
 * cannot find the passphrase, so the corpus carries files written with
 * FIXTURE_PASSPHRASE and the cheapest cost.
 */
#include <string.h>

#include "fixture.h"

#define CHEAP_OPSLIMIT 3u
#define CHEAP_MEMLIMIT 65536u

static int cheap(const uint8_t *data, size_t size)
{
    Parley__KeyFile *kf;
    int ok;

    if (size > PARLEY_MAX_KEYFILE)
        return 0;
    kf = parley__key_file__unpack(NULL, size, data);
    if (kf == NULL)
        return 0;
    ok = kf->opslimit <= CHEAP_OPSLIMIT && kf->memlimit <= CHEAP_MEMLIMIT;
    parley__key_file__free_unpacked(kf, NULL);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t sign_pk[32], box_pk[32];
    char label[129], small[8];
    parley_identity *id = NULL;
    parley_err peek, err;

    (void)fixture_get();
    peek = parley_keyfile_peek(data, size, sign_pk, box_pk, label, sizeof(label));
    if (peek == PARLEY_OK) {
        FUZZ_ASSERT(strlen(label) < sizeof(label));
        err = parley_keyfile_peek(data, size, NULL, NULL, small, sizeof(small));
        FUZZ_ASSERT(err == (strlen(label) < sizeof(small) ? PARLEY_OK : PARLEY_EINVAL));
    }
    if (!cheap(data, size))
        return 0;
    err = parley_identity_import(&id, data, size, FIXTURE_PASSPHRASE,
                                 strlen(FIXTURE_PASSPHRASE), label, sizeof(label));
    if (err == PARLEY_OK) {
        /* Import checks no more than peek does before the passphrase. */
        FUZZ_ASSERT(peek == PARLEY_OK);
        FUZZ_ASSERT(memcmp(parley_identity_sign_pk(id), sign_pk, 32) == 0);
        FUZZ_ASSERT(memcmp(parley_identity_box_pk(id), box_pk, 32) == 0);
    } else {
        FUZZ_ASSERT(id == NULL);
    }
    parley_identity_free(id);
    return 0;
}
