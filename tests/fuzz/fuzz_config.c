/*
 * Fuzz target: config_load_stream() and config_check() (relay/config.c)
 * on a config file. Checks that a file read without error leaves every
 * string terminated within its field, the repeatable settings within
 * their counts, and that a file reading twice gives the same settings;
 * and that settings config_check() accepts are ones the relay can count
 * in (no timeout that wraps in milliseconds, no duration that turns
 * negative, no buffer bound that overflows). Inputs naming a brand pin
 * file are skipped: config reads that file, and the fuzzer must not make
 * it read /dev/stdin or a pipe.
 */
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "ws.h"

static int load(const uint8_t *data, size_t size, struct relay_config *c)
{
    FILE *f;
    int rc;

    config_defaults(c);
    f = size > 0 ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
    FUZZ_ASSERT(f != NULL);
    rc = config_load_stream(c, f, "fuzz.conf");
    fclose(f);
    return rc;
}

static void check_strings(const struct relay_config *c)
{
    FUZZ_ASSERT(memchr(c->listen, '\0', sizeof(c->listen)) != NULL);
    FUZZ_ASSERT(memchr(c->store, '\0', sizeof(c->store)) != NULL);
    FUZZ_ASSERT(memchr(c->tls_cert, '\0', sizeof(c->tls_cert)) != NULL);
    FUZZ_ASSERT(memchr(c->tls_key, '\0', sizeof(c->tls_key)) != NULL);
    FUZZ_ASSERT(memchr(c->log_path, '\0', sizeof(c->log_path)) != NULL);
    FUZZ_ASSERT(memchr(c->port_file, '\0', sizeof(c->port_file)) != NULL);
    FUZZ_ASSERT(memchr(c->audit_log, '\0', sizeof(c->audit_log)) != NULL);
    FUZZ_ASSERT(c->n_brands == 0 && c->n_origins <= RELAY_MAX_ORIGINS);
    for (size_t i = 0; i < c->n_origins; i++)
        FUZZ_ASSERT(c->origins[i][0] != '\0' &&
                    memchr(c->origins[i], '\0', sizeof(c->origins[i])) != NULL);
    FUZZ_ASSERT(c->port >= 0 && c->port <= 65535 && c->log_level >= 0 && c->log_level <= 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct relay_config c, again;

    if (size >= 5 && memmem(data, size, "brand", 5) != NULL)
        return 0;
    if (load(data, size, &c) != 0)
        return 0;
    check_strings(&c);
    FUZZ_ASSERT(load(data, size, &again) == 0 && memcmp(&c, &again, sizeof(c)) == 0);
    if (config_check(&c) != 0)
        return 0;
    FUZZ_ASSERT(c.listen[0] != '\0' && c.store[0] != '\0');
    FUZZ_ASSERT((uint64_t)c.auth_timeout * 1000u <= UINT32_MAX);
    FUZZ_ASSERT((uint64_t)c.idle_timeout * 1000u <= UINT32_MAX);
    FUZZ_ASSERT((uint64_t)c.frame_timeout * 1000u <= UINT32_MAX);
    FUZZ_ASSERT(c.max_frame >= 1024 && c.max_frame <= SIZE_MAX / 4 - WS_MAX_HEADER - HTTP_HEAD_MAX);
    FUZZ_ASSERT(c.ttl > 0 && c.ttl <= (uint64_t)INT64_MAX / 1000u);
    /* The audit log is kept 6 to 12 months, plus at most the rest of a year in its segment. */
    FUZZ_ASSERT(c.audit_retention >= 180u * 86400 && c.audit_retention <= 365u * 86400 &&
                c.audit_segment > 0 && c.audit_retention + c.audit_segment <= 366u * 86400);
    FUZZ_ASSERT(c.rate > 0 && c.burst > 0 && c.rate_unauth > 0 && c.burst_unauth > 0);
    return 0;
}
