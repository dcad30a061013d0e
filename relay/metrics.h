/*
 * Relay counters and the store latency histogram, rendered in the
 * Prometheus text format. Only numbers: no ids, keys or content.
 */
#ifndef RELAY_METRICS_H
#define RELAY_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Reasons a frame, connection or request was refused; label values of parley_rejects_total. */
#define REJECT_REASONS(X) \
    X(malformed) X(too_big) X(text_frame) X(unmasked) X(protocol) X(bad_request) \
    X(subprotocol) X(origin) X(not_authenticated) X(auth_failed) X(auth_timeout) \
    X(unknown_brand) X(bad_certificate) X(expired) X(revoked) X(rate_limited) X(quota_full) \
    X(conn_limit) X(slow_reader) X(idle_timeout) X(frame_timeout) X(bad_signature) \
    X(rollback) X(not_allowed) X(unexpected) X(unavailable) X(conflict) \
    X(pair_quota) X(sender_quota) X(storage_full) X(unbound) \
    X(prekey_rate) X(replayed) X(unknown_order)

enum reject_reason {
#define X(n) REJECT_##n,
    REJECT_REASONS(X)
#undef X
    REJECT_COUNT
};

/* Why the store refused operations; label values of parley_store_refused_total. */
#define STORE_CAUSES(X) X(disk_full) X(io_error) X(busy) X(other)

enum store_cause {
#define X(n) STORE_CAUSE_##n,
    STORE_CAUSES(X)
#undef X
    STORE_CAUSE_COUNT
};

#define LATENCY_BUCKETS 14

struct metrics {
    uint64_t connections;
    uint64_t connections_authenticated;
    uint64_t frames_in, frames_out;
    uint64_t envelopes_stored, envelopes_delivered, envelopes_acknowledged, envelopes_expired;
    uint64_t envelopes_unwritten;        /* acknowledged by the recipient before their commit */
    uint64_t orders_dropped;             /* from the store, not verifying under the brand key */
    uint64_t directories_dropped;        /* the same for directories */
    uint64_t bytes_stored;
    uint64_t rejects[REJECT_COUNT];
    uint64_t latency_buckets[LATENCY_BUCKETS]; /* cumulative at render time */
    uint64_t latency_count;
    double latency_sum;
    uint64_t store_refused[STORE_CAUSE_COUNT]; /* operations in failed transactions */
    uint64_t store_degraded;                   /* 1 while the store refuses writes */
    uint64_t audit_degraded;                   /* 1 while the audit log file refuses writes */
    uint64_t audit_held;                       /* audit entries waiting in memory for the file */
    uint64_t audit_lost;                       /* audit entries recorded as lost (gap entries) */
};

void metrics_reject(struct metrics *m, enum reject_reason r);
const char *metrics_reason_name(enum reject_reason r);
const char *metrics_cause_name(enum store_cause c);
void metrics_observe_store(struct metrics *m, double seconds);
/* Renders into buf; returns the length written (truncated output is never produced: 0 if cap is too small). */
size_t metrics_render(const struct metrics *m, char *buf, size_t cap);

#endif
