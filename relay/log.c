/*
 * JSON-lines log. Ids are written as keyed hashes under a per-relay salt,
 * so lines can be correlated with each other but not with keys or routing
 * ids seen elsewhere.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "log.h"

static FILE *log_file;
static char log_path[512];
static int log_level = LOG_INFO;
static uint8_t log_salt[32];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_open(const char *path, int level, const uint8_t salt[32])
{
    log_level = level;
    memcpy(log_salt, salt, sizeof(log_salt));
    snprintf(log_path, sizeof(log_path), "%s", path != NULL ? path : "");
    return log_reopen();
}

int log_reopen(void)
{
    FILE *f;

    if (log_path[0] == '\0') {
        log_file = stderr;
        return 0;
    }
    f = fopen(log_path, "a");
    if (f == NULL)
        return -1;
    setvbuf(f, NULL, _IOLBF, 0);
    if (log_file != NULL && log_file != stderr)
        fclose(log_file);
    log_file = f;
    return 0;
}

void log_close(void)
{
    if (log_file != NULL && log_file != stderr)
        fclose(log_file);
    log_file = NULL;
    sodium_memzero(log_salt, sizeof(log_salt));
}

void log_event(int level, const char *event, const char *fields, ...)
{
    char ts[40];
    struct timespec now;
    struct tm tm;
    FILE *f = log_file != NULL ? log_file : stderr;

    if (level < log_level)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"event\":\"%s\"", ts,
            now.tv_nsec / 1000000, level_names[level & 3], event);
    if (fields != NULL) {
        va_list ap;
        fputc(',', f);
        va_start(ap, fields);
        vfprintf(f, fields, ap);
        va_end(ap);
    }
    fputs("}\n", f);
}

void log_pseudonym(const uint8_t *id, size_t len, char out[17])
{
    uint8_t h[8];

    crypto_generichash(h, sizeof(h), id, len, log_salt, sizeof(log_salt));
    sodium_bin2hex(out, 17, h, sizeof(h));
}
