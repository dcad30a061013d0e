/*
 * Fuzz target: a revocation list verified against the pinned brand key
 * (parley_revlist_open) and every accessor over it, then opened again with
 * its own version as the last one seen (no rollback) and one above it
 * (rollback).
 */
#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct fixture *f = fixture_get();
    parley_revlist *r = NULL, *again = NULL;
    uint64_t version, prev = 0;
    size_t n;
    parley_err err;

    err = parley_revlist_open(&r, data, size, f->trust.brand_pk, FIXTURE_BRAND_ID, 0);
    if (err != PARLEY_OK) {
        FUZZ_ASSERT(r == NULL);
        return 0;
    }
    version = parley_revlist_version(r);
    n = parley_revlist_count(r);
    FUZZ_ASSERT(version != 0);
    for (size_t i = 0; i < n; i++) {
        uint64_t s = parley_revlist_serial(r, i);
        /* Sorted, without duplicates, and each one found. */
        FUZZ_ASSERT(i == 0 || s > prev);
        FUZZ_ASSERT(parley_revlist_contains(r, s));
        prev = s;
    }
    FUZZ_ASSERT(parley_revlist_serial(r, n) == 0);
    (void)parley_revlist_contains(r, 0);
    (void)parley_revlist_contains(r, UINT64_MAX);
    if (n > 0 && prev < UINT64_MAX)
        FUZZ_ASSERT(!parley_revlist_contains(r, prev + 1));

    err = parley_revlist_open(&again, data, size, f->trust.brand_pk, FIXTURE_BRAND_ID, version);
    FUZZ_ASSERT(err == PARLEY_OK && parley_revlist_count(again) == n);
    parley_revlist_free(again);
    if (version < UINT64_MAX) {
        again = NULL;
        err = parley_revlist_open(&again, data, size, f->trust.brand_pk, FIXTURE_BRAND_ID,
                                  version + 1);
        FUZZ_ASSERT(err == PARLEY_EROLLBACK && again == NULL);
    }
    parley_revlist_free(r);
    return 0;
}
