/*
 * Whether the relay's store and audit log take writes. A failed store
 * transaction is counted by cause for every operation it refused, logged
 * when an episode of failures starts (and when its cause changes) and
 * when a write succeeds again, and /healthz says "degraded", with the
 * reason, in between. While degraded and idle, the relay tries a small
 * write once a second, so that it notices the disk is back by itself.
 */
#ifndef RELAY_HEALTH_H
#define RELAY_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

struct relay;
struct store_batch;

struct store_health {
    bool degraded; /* the last transaction that reached the disk failed */
    enum store_cause cause;
    char error[192];  /* sqlite's message, and the errno text behind it */
    int64_t since_ms; /* Unix ms of the episode's first failure */
    uint64_t refused; /* operations refused in this episode */
    uint64_t failed;  /* transactions failed in this episode */
};

/* After each batch the writer finished (loop thread), before its ops are answered. */
void health_store_done(struct relay *r, const struct store_batch *b);
/* Once a second: a probe write while degraded and idle. */
void health_tick(struct relay *r);
/* Copies the audit log's state into the metrics (before rendering them). */
void health_metrics(struct relay *r);
/*
 * The /healthz answer: 200 with "ok\n", or 503 with one line per
 * reason, each starting "degraded: ". Writes the body to buf (cap),
 * its length to *len, and returns the status.
 */
int health_render(struct relay *r, char *buf, size_t cap, size_t *len);

#endif
