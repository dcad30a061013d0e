/*
 * The relay's life. relay_open() brings it up in order: the web root, the
 * store, the operator log (its salt is kept in the store), the audit log
 * and the store's outbox behind it, the state the protocol keeps in
 * memory, and the listener. relay_run() runs the loop until a drained
 * stop. relay_close() takes down whatever is up, in reverse, from any
 * point: after relay_open failed half-way as after the loop ran, so no
 * early exit leaves the store's writer or the audit log's thread running.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "audit.h"
#include "audit_store.h"
#include "log.h"
#include "relay.h"
#include "server.h"
#include "session.h"

int64_t relay_clock_offset_ms;

uint64_t relay_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u +
           (uint64_t)relay_clock_offset_ms;
}

uint64_t relay_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The relay's identity and the operator log, keyed by secrets kept in the store. */
static int open_log(struct relay *r)
{
    uint8_t salt[32];
    int rc = -1;

    if (store_meta(r->store, "relay_id", r->relay_id) != 0 ||
        store_meta(r->store, "log_salt", salt) != 0)
        fprintf(stderr, "parley-relay: store %s: cannot read relay identity\n", r->cfg.store);
    else if (log_open(r->cfg.log_path, r->cfg.log_level, salt) != 0)
        fprintf(stderr, "parley-relay: %s: %s\n", r->cfg.log_path, strerror(errno));
    else
        rc = 0;
    r->log_open = rc == 0;
    sodium_memzero(salt, sizeof(salt));
    return rc;
}

static int open_audit(struct relay *r)
{
    char err[600];
    uint8_t key[32];
    int rc = store_meta(r->store, "audit_key", key);

    if (rc == 0)
        rc = audit_open(&r->audit, r->cfg.audit_log,
                        store_shared(r->store) ? "parley-relay" : store_where(r->store),
                        r->cfg.audit_retention,
                        r->cfg.audit_segment, key, err, sizeof(err));
    else
        snprintf(err, sizeof(err), "cannot read its key from the store");
    sodium_memzero(key, sizeof(key));
    if (rc != 0) {
        fprintf(stderr, "parley-relay: audit log %s\n", err);
        return -1;
    }
    if (audit_store_start(r, err, sizeof(err)) != 0) {
        fprintf(stderr, "parley-relay: audit log: %s\n", err);
        return -1;
    }
    return 0;
}

int relay_open(struct relay *r)
{
    char err[600];
    uint64_t max_seq = 0;
    int rc;

    if (web_open(&r->web, r->cfg.web_root, r->cfg.web_frame_ancestors, r->cfg.web_max_file, err,
                 sizeof(err)) != 0) {
        fprintf(stderr, "parley-relay: web root %s\n", err);
        return -1;
    }
    store_configure(&(struct store_params){
        .ttl = r->cfg.ttl,
        .quota_count = r->cfg.quota_count,
        .max_frame = r->cfg.max_frame,
        .client = {r->cfg.nats_user, r->cfg.nats_password, r->cfg.nats_token, r->cfg.nats_tls_ca,
                   r->cfg.nats_tls_cert, r->cfg.nats_tls_key, r->cfg.nats_creds,
                   r->cfg.nats_nkey},
        .sender_window = r->cfg.sender_window,
        .quota_bytes = r->cfg.quota_bytes,
        .pair_quota_count = r->cfg.pair_quota_count,
        .pair_quota_bytes = r->cfg.pair_quota_bytes,
        .expiry_interval = r->cfg.expiry_interval,
        .audit_retention = r->cfg.audit_retention});
    rc = store_open(&r->store, r->cfg.store, server_wake, r, &max_seq, err, sizeof(err));
    /* The client library keeps its own copy of the secrets; these are not needed again. */
    sodium_memzero(r->cfg.nats_password, sizeof(r->cfg.nats_password));
    sodium_memzero(r->cfg.nats_token, sizeof(r->cfg.nats_token));
    if (rc != 0) {
        fprintf(stderr, "parley-relay: store %s\n", err);
        return -1;
    }
    r->assigned_seq = max_seq;
    if (open_log(r) != 0 || open_audit(r) != 0)
        return -1;
    if (session_pools_init(r) != 0) {
        fprintf(stderr, "parley-relay: out of memory\n");
        return -1;
    }
    if (map_init(&r->online) != 0 || map_init(&r->quotas) != 0 || map_init(&r->pairs) != 0 ||
        map_init(&r->senders) != 0 || map_init(&r->prekey_owners) != 0 ||
        map_init(&r->per_ip) != 0 || session_load(r) != 0) {
        fprintf(stderr, "parley-relay: cannot load the store\n");
        return -1;
    }
    return server_listen(r);
}

int relay_run(struct relay *r)
{
    return server_run(r);
}

/* Applies the store's results until its writer is idle. */
static void settle(struct relay *r)
{
    struct timespec ms = {0, 1000000};

    while (store_busy(r->store)) {
        session_store_done(r);
        nanosleep(&ms, NULL);
    }
}

/* Hands the pending batch over, waiting for the writer as long as it takes. */
static void submit_all(struct relay *r)
{
    struct timespec ms = {0, 1000000};

    while (!session_hand_over(r)) {
        session_store_done(r);
        nanosleep(&ms, NULL);
    }
}

static void free_state(struct relay *r)
{
    struct map *all[] = {&r->online, &r->quotas, &r->pairs, &r->senders, &r->prekey_owners,
                         &r->per_ip};

    session_free(r);
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        map_free(all[i]);
    store_batch_free(&r->pending);
    store_batch_free(&r->done);
    free(r->early);
    r->early = NULL;
    r->n_early = r->cap_early = 0;
    session_pools_free(r);
}

void relay_close(struct relay *r)
{
    /* Stopped: what arrived is committed and answered before the connections go. */
    server_stop(r);
    if (r->store != NULL) {
        submit_all(r);
        settle(r);
    }
    store_quiet(r->store);
    server_close(r);
    if (r->store != NULL && r->audit != NULL && audit_store_stop(r)) {
        submit_all(r);
        settle(r);
    }
    store_close(r->store);
    r->store = NULL;
    audit_close(r->audit);
    r->audit = NULL;
    web_close(&r->web);
    free_state(r);
    if (r->log_open) {
        log_event(LOG_INFO, "stopped", NULL);
        log_close();
        r->log_open = false;
    }
}
