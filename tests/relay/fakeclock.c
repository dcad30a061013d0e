/*
 * Linked into parley-relay-fakeclock, the relay built for tests whose
 * clock must jump: PARLEY_RELAY_CLOCK_OFFSET_S (seconds, may be negative)
 * is added to the relay's wall clock from start-up on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "relay.h"

__attribute__((constructor)) static void fakeclock_init(void)
{
    const char *v = getenv("PARLEY_RELAY_CLOCK_OFFSET_S");
    char *end;
    long long s;

    if (v == NULL || *v == '\0')
        return;
    errno = 0;
    s = strtoll(v, &end, 10);
    if (*end != '\0' || errno != 0 || s < -(1LL << 40) || s > (1LL << 40)) {
        fprintf(stderr, "parley-relay-fakeclock: bad PARLEY_RELAY_CLOCK_OFFSET_S '%s'\n", v);
        exit(2);
    }
    relay_clock_offset_ms = (int64_t)s * 1000;
}
