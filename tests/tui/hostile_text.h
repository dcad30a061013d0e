/*
 * Building hostile text for the parley-agent tests: long runs of a unit
 * (a letter, a combining mark, a wide character) with a tail to look for.
 */
#ifndef PARLEY_TEST_HOSTILE_TEXT_H
#define PARLEY_TEST_HOSTILE_TEXT_H

#include <stdlib.h>
#include <string.h>

#include "check.h"

/* unit repeated times, then tail; malloc'd, NUL-terminated. */
static inline char *repeat(const char *unit, size_t times, const char *tail)
{
    size_t u = strlen(unit), t = strlen(tail);
    char *s = malloc(u * times + t + 1);

    CHECK(s != NULL);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * u, unit, u);
    memcpy(s + u * times, tail, t + 1);
    return s;
}

#endif
