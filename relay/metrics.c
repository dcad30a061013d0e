/*
 * Prometheus text exposition of the relay's counters. Everything is
 * updated on the event loop thread, so plain integers suffice.
 */
#include <stdarg.h>
#include <stdio.h>

#include "metrics.h"

static const char *const reason_names[REJECT_COUNT] = {
#define X(n) #n,
    REJECT_REASONS(X)
#undef X
};

static const char *const cause_names[STORE_CAUSE_COUNT] = {
#define X(n) #n,
    STORE_CAUSES(X)
#undef X
};

/* Upper bounds of the store latency buckets, in seconds. */
static const double latency_le[LATENCY_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                   0.005,  0.01,    0.025,  0.05,  0.1,
                                                   0.25,   0.5,     1.0,    2.5};

void metrics_reject(struct metrics *m, enum reject_reason r)
{
    if (r < REJECT_COUNT)
        m->rejects[r]++;
}

const char *metrics_reason_name(enum reject_reason r)
{
    return r < REJECT_COUNT ? reason_names[r] : "unknown";
}

const char *metrics_cause_name(enum store_cause c)
{
    return c < STORE_CAUSE_COUNT ? cause_names[c] : "unknown";
}

void metrics_observe_store(struct metrics *m, double seconds)
{
    for (int i = 0; i < LATENCY_BUCKETS; i++)
        if (seconds <= latency_le[i]) {
            m->latency_buckets[i]++;
            break;
        }
    m->latency_count++;
    m->latency_sum += seconds;
}

struct out {
    char *buf;
    size_t cap, len;
    int overflow;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->overflow)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->overflow = 1;
    else
        o->len += (size_t)n;
}

static void counter(struct out *o, const char *name, const char *type, const char *help,
                    uint64_t v)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
        (unsigned long long)v);
}

/* A counter with one label: name{label="names[i]"} values[i]. */
static void labelled(struct out *o, const char *name, const char *help, const char *label,
                     const char *const *names, const uint64_t *values, int n)
{
    put(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (int i = 0; i < n; i++)
        put(o, "%s{%s=\"%s\"} %llu\n", name, label, names[i], (unsigned long long)values[i]);
}

size_t metrics_render(const struct metrics *m, char *buf, size_t cap)
{
    struct out o = {buf, cap, 0, 0};
    uint64_t cumulative = 0;

    counter(&o, "parley_connections", "gauge", "Open connections.", m->connections);
    counter(&o, "parley_connections_authenticated", "gauge", "Authenticated connections.",
            m->connections_authenticated);
    counter(&o, "parley_frames_in_total", "counter", "WebSocket messages received.", m->frames_in);
    counter(&o, "parley_frames_out_total", "counter", "WebSocket messages sent.", m->frames_out);
    counter(&o, "parley_envelopes_stored_total", "counter", "Envelopes stored durably.",
            m->envelopes_stored);
    counter(&o, "parley_envelopes_delivered_total", "counter", "Envelopes sent to recipients.",
            m->envelopes_delivered);
    counter(&o, "parley_envelopes_acknowledged_total", "counter",
            "Envelopes their recipient acknowledged (then deleted, or never written).",
            m->envelopes_acknowledged);
    counter(&o, "parley_envelopes_unwritten_total", "counter",
            "Envelopes acknowledged by their recipient before their commit, so never written.",
            m->envelopes_unwritten);
    counter(&o, "parley_orders_dropped_total", "counter",
            "Brand orders from the shared store that did not verify under the brand key.",
            m->orders_dropped);
    counter(&o, "parley_directories_dropped_total", "counter",
            "Directories from the store that did not verify under the brand key.",
            m->directories_dropped);
    counter(&o, "parley_envelopes_expired_total", "counter", "Envelopes deleted by the TTL.",
            m->envelopes_expired);
    counter(&o, "parley_bytes_stored", "gauge", "Bytes of sealed data stored.", m->bytes_stored);
    labelled(&o, "parley_rejects_total", "Refused frames, requests and connections by reason.",
             "reason", reason_names, m->rejects, REJECT_COUNT);
    put(&o, "# HELP parley_store_latency_seconds Time from arrival to durable commit.\n"
            "# TYPE parley_store_latency_seconds histogram\n");
    for (int i = 0; i < LATENCY_BUCKETS; i++) {
        cumulative += m->latency_buckets[i];
        put(&o, "parley_store_latency_seconds_bucket{le=\"%g\"} %llu\n", latency_le[i],
            (unsigned long long)cumulative);
    }
    put(&o, "parley_store_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
        (unsigned long long)m->latency_count);
    put(&o, "parley_store_latency_seconds_sum %.6f\n", m->latency_sum);
    put(&o, "parley_store_latency_seconds_count %llu\n", (unsigned long long)m->latency_count);
    labelled(&o, "parley_store_refused_total", "Store operations refused, by cause.", "cause",
             cause_names, m->store_refused, STORE_CAUSE_COUNT);
    counter(&o, "parley_store_degraded", "gauge", "1 while the store refuses writes.",
            m->store_degraded);
    counter(&o, "parley_audit_degraded", "gauge", "1 while the audit log file refuses writes.",
            m->audit_degraded);
    counter(&o, "parley_audit_entries_held", "gauge",
            "Audit entries waiting in memory for the audit log file.", m->audit_held);
    counter(&o, "parley_audit_entries_lost_total", "counter",
            "Audit entries recorded as lost in gap entries since start.", m->audit_lost);
    return o.overflow ? 0 : o.len;
}
