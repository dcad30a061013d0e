/*
 * One error line for every program (see report.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "report.h"

void report_error(const char *subject, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", program_invocation_short_name);
    if (subject != NULL)
        fprintf(stderr, "%s: ", subject);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
