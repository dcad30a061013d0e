/*
 * Assertions for the unit tests: a failed check prints where it failed
 * and what was expected, then ends the test program with status 1 so
 * meson reports it. Error codes print with their parley_strerror() names.
 */
#ifndef PARLEY_TEST_CHECK_H
#define PARLEY_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "parley/parley.h"

static inline void check_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    exit(1);
}

static inline void check_fail_err(const char *file, int line, const char *what, parley_err got,
                                  parley_err want)
{
    fprintf(stderr, "%s:%d: %s\n    returned %d (%s), expected %d (%s)\n", file, line, what,
            (int)got, parley_strerror(got), (int)want, parley_strerror(want));
    exit(1);
}

/* Fails unless cond holds. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            check_fail(__FILE__, __LINE__, #cond);                                                 \
    } while (0)

/* Fails unless expr returns exactly the parley_err want. */
#define CHECK_ERR(expr, want)                                                                      \
    do {                                                                                           \
        parley_err check_got_ = (expr);                                                            \
        if (check_got_ != (want))                                                                  \
            check_fail_err(__FILE__, __LINE__, #expr, check_got_, (want));                         \
    } while (0)

#define CHECK_OK(expr) CHECK_ERR((expr), PARLEY_OK)

/* Fails if expr returns PARLEY_OK; gives back the code for further checks. */
#define CHECK_NOT_OK(expr, got)                                                                    \
    do {                                                                                           \
        (got) = (expr);                                                                            \
        if ((got) == PARLEY_OK)                                                                    \
            check_fail(__FILE__, __LINE__, #expr " must not succeed");                             \
    } while (0)

#endif
