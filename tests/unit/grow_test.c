/*
 * parley__grow, the one helper every growable array of the library uses
 * (and parley__grow_wiped, the same for arrays of plaintext):
 * capacities double (so filling an array element by element costs a
 * logarithmic number of reallocations), a request that would overflow
 * size_t is refused and leaves the array as it was.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "internal.h"

static void grows_geometrically(void)
{
    uint64_t *v = NULL, *g;
    size_t cap = 0, moves = 0;

    for (size_t n = 0; n < 100000; n++) {
        size_t before = cap;

        g = parley__grow(v, &cap, n + 1, sizeof(*v));
        CHECK(g != NULL);
        CHECK(cap >= n + 1);
        if (cap != before) {
            CHECK(before == 0 ? cap == 16 : cap == 2 * before);
            moves++;
        }
        v = g;
        v[n] = n;
    }
    for (size_t n = 0; n < 100000; n++)
        CHECK(v[n] == n);
    CHECK(moves <= 14); /* 16 doubled 13 times passes 100,000 */
    free(v);
}

static void jumps_to_what_is_needed(void)
{
    size_t cap = 0;
    char *p = parley__grow(NULL, &cap, 1000, 1);

    CHECK(p != NULL && cap == 1024);
    /* Already enough room: the same array, the same capacity. */
    CHECK(parley__grow(p, &cap, 1024, 1) == p && cap == 1024);
    p = parley__grow(p, &cap, 5000, 1);
    CHECK(p != NULL && cap == 8192);
    free(p);
}

static void refuses_overflow(void)
{
    size_t cap = 16;
    uint64_t *v = parley__grow(NULL, &cap, 16, sizeof(*v)); /* cap says 16: nothing to do */
    uint64_t *keep;

    CHECK(v == NULL && cap == 16);
    cap = 0;
    v = parley__grow(NULL, &cap, 4, sizeof(*v));
    CHECK(v != NULL && cap == 16);
    keep = v;
    /* More elements than size_t can count bytes of: refused, nothing changed. */
    CHECK(parley__grow(v, &cap, SIZE_MAX / sizeof(*v) + 1, sizeof(*v)) == NULL);
    CHECK(cap == 16);
    CHECK(parley__grow(v, &cap, SIZE_MAX / 2 + 1, 2) == NULL); /* doubling would pass SIZE_MAX */
    CHECK(cap == 16);
    CHECK(parley__grow(v, &cap, 17, 0) == NULL);         /* elements of no size: a caller's bug */
    CHECK(cap == 16);
    v[15] = 42; /* still the caller's, still whole */
    CHECK(v == keep && v[15] == 42);
    free(v);
}

/* The wiping variant grows alike and keeps what the array held. */
static void wiped_keeps_contents(void)
{
    char *p = NULL, *g;
    size_t cap = 0;

    for (size_t n = 0; n < 5000; n++) {
        size_t before = cap;

        g = parley__grow_wiped(p, &cap, n + 1, 1);
        CHECK(g != NULL && cap >= n + 1);
        CHECK(cap == before || (before == 0 ? cap == 16 : cap == 2 * before));
        CHECK(cap != before || g == p);
        p = g;
        p[n] = (char)('a' + n % 26);
    }
    for (size_t n = 0; n < 5000; n++)
        CHECK(p[n] == (char)('a' + n % 26));
    CHECK(parley__grow_wiped(p, &cap, SIZE_MAX / 2 + 1, 2) == NULL && cap == 8192);
    free(p);
}

int main(void)
{
    grows_geometrically();
    wiped_keeps_contents();
    jumps_to_what_is_needed();
    refuses_overflow();
    return 0;
}
