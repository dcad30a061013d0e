/*
 * Store and audit-log health (see health.h). The store reports each
 * failed transaction with sqlite's code, the errno behind it and its
 * message; here they become a cause (disk full, I/O error, busy, other),
 * counters, two log events per episode and the /healthz answer. Nothing
 * here is about a person: counts, causes and times only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "audit.h"
#include "health.h"
#include "log.h"
#include "relay.h"

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static enum store_cause cause_of(int code, int sys_err)
{
    if (sys_err == ENOSPC || sys_err == EDQUOT)
        return STORE_CAUSE_disk_full; /* also when it surfaces at fsync, as an I/O error */
    switch (code & 0xff) {
    case SQLITE_FULL:
        return STORE_CAUSE_disk_full;
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
        return STORE_CAUSE_io_error;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_CAUSE_busy;
    default:
        return STORE_CAUSE_other;
    }
}

/* Printable ASCII without quotes or backslashes: safe inside a JSON string and a text line. */
static void plain_copy(char *out, size_t cap, const char *in)
{
    size_t j = 0;

    for (size_t i = 0; in[i] != '\0' && j + 1 < cap; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
            out[j++] = (char)ch;
    }
    out[j] = '\0';
}

/*
 * Operations a client or the relay asked for that the failure refused:
 * not probes or outbox bookkeeping, nor reads the store answered anyway.
 */
static bool counted(const struct store_op *op)
{
    return op->kind != STORE_PROBE && op->kind != STORE_AUDIT_DONE && !op->ok;
}

void health_store_done(struct relay *r, const struct store_batch *b)
{
    struct store_health *h = &r->health;
    uint64_t ops = 0;

    for (size_t i = 0; i < b->n; i++)
        ops += counted(&b->ops[i]);
    if (b->err != 0) {
        enum store_cause cause = cause_of(b->err, b->sys_err);
        char msg[128], error[192];

        plain_copy(msg, sizeof(msg), b->errmsg);
        if (b->sys_err != 0)
            snprintf(error, sizeof(error), "%s; %s", msg, strerror(b->sys_err));
        else
            snprintf(error, sizeof(error), "%s", msg);
        r->metrics.store_refused[cause] += ops;
        if (!h->degraded || cause != h->cause)
            log_event(LOG_ERROR, "store_failed",
                      "\"cause\":\"%s\",\"error\":\"%s\",\"code\":%d,\"refused\":%" PRIu64,
                      metrics_cause_name(cause), error, b->err, ops);
        if (!h->degraded) {
            h->since_ms = wall_ms();
            h->refused = h->failed = 0;
        }
        h->degraded = true;
        h->cause = cause;
        snprintf(h->error, sizeof(h->error), "%s", error);
        h->refused += ops;
        h->failed++;
    } else if (b->wrote && h->degraded) {
        log_event(LOG_WARN, "store_recovered",
                  "\"cause\":\"%s\",\"after_ms\":%" PRId64 ",\"refused\":%" PRIu64
                  ",\"failed_transactions\":%" PRIu64,
                  metrics_cause_name(h->cause), wall_ms() - h->since_ms, h->refused, h->failed);
        h->degraded = false;
    }
    r->metrics.store_degraded = h->degraded;
}

void health_tick(struct relay *r)
{
    struct store_op *op;

    if (!r->health.degraded || r->stopping || r->pending.n > 0 || store_busy(r->store))
        return;
    op = store_batch_add(&r->pending, STORE_PROBE);
    if (op != NULL)
        op->cutoff = (uint64_t)wall_ms();
}

void health_metrics(struct relay *r)
{
    struct audit_status st;

    audit_status(r->audit, &st);
    r->metrics.store_degraded = r->health.degraded;
    r->metrics.audit_degraded = st.failing;
    r->metrics.audit_held = st.held;
    r->metrics.audit_lost = st.lost;
    /* A shared store's gauge is the cluster's: the envelope stream's bytes (docs/cluster.md §9). */
    if (store_shared(r->store))
        r->metrics.bytes_stored = store_bytes_used(r->store);
}

static void iso_time(char out[32], int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int health_render(struct relay *r, char *buf, size_t cap, size_t *len)
{
    const struct store_health *h = &r->health;
    struct audit_status st;
    char when[32];
    size_t n = 0;
    int k;

    audit_status(r->audit, &st);
    if (!store_reachable(r->store)) {
        *len = (size_t)snprintf(buf, cap, "degraded: the shared store (its quorum) is out of "
                                          "reach; sends are refused with UNAVAILABLE\n");
        return 503;
    }
    if (!h->degraded && !st.failing) {
        *len = (size_t)snprintf(buf, cap, "ok\n");
        return 200;
    }
    if (h->degraded) {
        iso_time(when, h->since_ms);
        k = snprintf(buf, cap,
                     "degraded: store refuses writes since %s (%s: %s); %" PRIu64
                     " operations refused\n",
                     when, metrics_cause_name(h->cause), h->error, h->refused);
        n = k > 0 && (size_t)k < cap ? (size_t)k : 0;
    }
    if (st.failing) {
        iso_time(when, st.since_ms);
        k = snprintf(buf + n, cap - n,
                     "degraded: audit log refuses writes since %s (%s); %" PRIu64
                     " entries waiting in memory\n",
                     when, strerror(st.error), st.held);
        n += k > 0 && (size_t)k < cap - n ? (size_t)k : 0;
    }
    *len = n;
    return 503;
}
