/*
 * JSON-lines logging for operators. Callers pass only pseudonymous ids
 * (see log_pseudonym), counts and reasons: never content, keys or names.
 */
#ifndef RELAY_LOG_H
#define RELAY_LOG_H

#include <stdint.h>

enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Opens path (append) or uses stderr when path is empty. Returns 0 or -1. */
int log_open(const char *path, int level, const uint8_t salt[32]);
/* Reopens the same path (after rotation, on SIGHUP). */
int log_reopen(void);
void log_close(void);

/*
 * Writes {"ts":...,"level":...,"event":event, then fields}. fields is a
 * printf format producing the remaining JSON members, e.g.
 * "\"conn\":\"%s\",\"code\":%d", or NULL.
 */
void log_event(int level, const char *event, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));

/* 16 hex chars: keyed BLAKE2b of an id under the relay's log salt. */
void log_pseudonym(const uint8_t *id, size_t len, char out[17]);

#endif
