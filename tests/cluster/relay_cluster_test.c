/*
 * Relay nodes sharing a NATS JetStream cluster (--store nats://...): each
 * case starts its own three nats-server processes (nats-node.conf, data
 * in the case's temporary directory) and two relay nodes on loopback.
 *
 * - a conversation across nodes: live delivery from a node to a
 *   recipient on the other, catch-up on another node after a reconnect,
 *   deletion on `delivered`, a resend stored once;
 * - kill -9 of a sender's relay node during a burst: the client resends
 *   on the other node, every envelope arrives exactly once, the
 *   acknowledged ones in order;
 * - kill -9 of the stream leader's nats-server during a burst: nothing
 *   acknowledged is lost, and the node rejoins;
 * - every nats-server stopped: sends are refused with UNAVAILABLE at
 *   once, connections stay, /healthz says so, service resumes;
 * - erasure and TTL expiry remove envelopes from JetStream, as its API
 *   reports them; expiry is counted once across nodes, in the counters
 *   and the audit logs;
 * - max-db-bytes refuses sends once the stream is past it, under a
 *   steady stream of sends too;
 * - a sender's budget over time follows it to the other node;
 * - the byte quota per recipient and the per-pair quota hold across
 *   nodes: senders on both fill them at once and no more is stored, the
 *   sends past them get QUOTA_FULL, and room comes back on `delivered`;
 * - one agent publishing prekeys through both nodes at once never holds
 *   more than 100, nor part of a refused publication;
 * - a node killed right after acknowledging sends has their audit
 *   entries in its log once restarted, and the log verifies;
 * - the buckets' ages follow the ttl the nodes restart with;
 * - brand orders and directories: cluster_brand_test.c.
 *
 * Usage: relay-cluster PARLEY-RELAY [CASE], with PARLEY_NATS_SERVER and
 * PARLEY_NATS_CONF in the environment. Exit 77 when nats-server cannot run.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <nats/nats.h>
#include <sodium.h>

#include "cluster_brand.h"
#include "clustertk.h"

static void test_across_nodes(void)
{
    struct cluster c;
    parley_identity *x = tk_identity(), *y = tk_identity();
    uint8_t rx[32], ry[32];
    static struct burst b1, b2;
    unsigned count[BURST] = {0};
    size_t order[BURST];
    int refused = 0;
    wsc *wx, *wy;

    tk_routing(x, rx);
    tk_routing(y, ry);
    cluster_start(&c, "cluster-across");
    wx = connect_as(&c, 0, x);
    wy = connect_as(&c, 1, y);

    /* Live from node 0 to a recipient on node 1, in order; deleted once delivered. */
    burst_make(&b1, 20);
    burst_send(wx, &b1, ry);
    CHECK(burst_acks(wx, &b1, 20, &refused) == 20 && refused == 0);
    CHECK(burst_receive(wy, &b1, 20, count, order, 10000) == 20);
    for (size_t i = 0; i < 20; i++)
        CHECKM(order[i] == i && count[i] == 1, "delivery %zu was envelope %zu", i, order[i]);
    wait_stored(&c, ry, 0, 10000, "after delivered");

    /* A resend of what was stored and delivered is acknowledged and stored once. */
    memset(b1.acked, 0, sizeof(b1.acked));
    b1.n = 1;
    burst_send(wx, &b1, ry);
    CHECK(burst_acks(wx, &b1, 1, &refused) == 1);
    tk_expect_nothing(wy, 500, "a resend delivered again");

    /* Offline: stored; caught up on the other node, in order, then live. */
    wsc_free(wx);
    burst_make(&b2, 30);
    burst_send(wy, &b2, rx);
    CHECK(burst_acks(wy, &b2, 30, &refused) == 30);
    wait_stored(&c, rx, 30, 10000, "while the recipient is away");
    wx = connect_as(&c, 1, x);
    memset(count, 0, sizeof(count));
    CHECK(burst_receive(wx, &b2, 30, count, order, 10000) == 30);
    for (size_t i = 0; i < 30; i++)
        CHECKM(order[i] == i && count[i] == 1, "catch-up %zu was envelope %zu", i, order[i]);
    wait_stored(&c, rx, 0, 10000, "after catch-up");
    tk_expect_nothing(wx, 300, "a duplicate after catch-up");

    wsc_free(wx);
    wsc_free(wy);
    parley_identity_free(x);
    parley_identity_free(y);
    cluster_end(&c);
}

/*
 * The sender's node is killed mid-burst; the client resends what was not
 * acknowledged through the other node. Each envelope arrives once: the
 * resends of what was stored are de-duplicated by envelope id.
 */
static void test_relay_killed(void)
{
    struct cluster c;
    parley_identity *x = tk_identity(), *y = tk_identity();
    uint8_t ry[32];
    static struct burst b;
    unsigned count[BURST] = {0};
    size_t order[BURST], got, before_kill, last = 0;
    bool acked_before[BURST];
    int64_t t;
    int refused = 0;
    wsc *wx, *wy;

    tk_routing(y, ry);
    cluster_start(&c, "cluster-relaykill");
    wx = connect_as(&c, 0, x);
    wy = connect_as(&c, 1, y);
    burst_make(&b, BURST);
    burst_send(wx, &b, ry);
    before_kill = burst_acks(wx, &b, BURST / 4, &refused);
    memcpy(acked_before, b.acked, sizeof(acked_before));
    t = mono_ms();
    relay_kill(&c.node[0]);
    wsc_free(wx);
    /* Acknowledgements that were in flight at the kill may still be read: not counted. */
    wx = connect_as(&c, 1, x);
    printf("    served again by the other node in %lld ms\n", (long long)(mono_ms() - t));
    burst_send(wx, &b, ry);
    CHECK(burst_acks(wx, &b, BURST, &refused) == BURST);
    got = burst_receive(wy, &b, BURST, count, order, 10000);
    CHECKM(got == BURST, "%zu of %d envelopes arrived", got, BURST);
    for (size_t i = 0; i < BURST; i++)
        CHECKM(count[i] == 1, "envelope %zu arrived %u times", i, count[i]);
    /* Those acknowledged before the kill arrive in the order they were sent. */
    for (size_t i = 0; i < got; i++)
        if (acked_before[order[i]]) {
            CHECKM(order[i] >= last, "acknowledged envelope %zu after %zu", order[i], last);
            last = order[i];
        }
    tk_expect_nothing(wy, 300, "a duplicate");
    printf("    %zu acknowledged before the kill; all %d delivered once\n", before_kill, BURST);
    wsc_free(wx);
    wsc_free(wy);
    parley_identity_free(x);
    parley_identity_free(y);
    cluster_end(&c);
}

/* The nats-server leading the envelope stream is killed mid-burst. */
static void test_nats_killed(void)
{
    struct cluster c;
    parley_identity *x = tk_identity(), *y = tk_identity();
    uint8_t ry[32];
    static struct burst b;
    unsigned count[BURST] = {0};
    size_t order[BURST], got;
    int refused = 0, victim, rounds = 0;
    jsStreamInfo *si = NULL;
    int64_t t;
    wsc *wx, *wy;

    tk_routing(y, ry);
    cluster_start(&c, "cluster-natskill");
    wx = connect_as(&c, 0, x);
    wy = connect_as(&c, 1, y);
    CHECK(js_GetStreamInfo(&si, c.js, "PARLEY_ENV_0", NULL, NULL) == NATS_OK);
    CHECK(si->Cluster != NULL && si->Cluster->Leader != NULL);
    victim = natsproc_index(&c.nats, si->Cluster->Leader);
    jsStreamInfo_Destroy(si);
    CHECK(victim >= 0);
    burst_make(&b, BURST);
    burst_send(wx, &b, ry);
    burst_acks(wx, &b, BURST / 4, &refused);
    natsproc_kill(&c.nats, (size_t)victim);
    t = mono_ms();
    /* What is refused meanwhile is sent again, as a client does, until all is acknowledged. */
    while (burst_acks(wx, &b, BURST, &refused) < BURST) {
        CHECKM(mono_ms() - t < WAIT_MS, "not all acknowledged within %d ms", WAIT_MS);
        sleep_ms(250);
        burst_send(wx, &b, ry);
        rounds++;
    }
    got = burst_receive(wy, &b, BURST, count, order, 10000);
    CHECKM(got == BURST, "%zu of %d envelopes arrived", got, BURST);
    for (size_t i = 0; i < BURST; i++)
        CHECKM(count[i] == 1, "envelope %zu arrived %u times", i, count[i]);
    printf("    leader %s killed: %d sends refused, all acknowledged %lld ms after the kill\n",
           c.nats.node[victim].name, refused, (long long)(mono_ms() - t));
    /* The killed server rejoins. */
    CHECK(natsproc_restart(&c.nats, (size_t)victim) == 0);
    CHECK(natsproc_wait_node(&c.nats, (size_t)victim, WAIT_MS) == 0);
    CHECK(natsproc_wait_ready(&c.nats, WAIT_MS) == 0);
    tk_roundtrip(wx, x);
    (void)rounds;
    wsc_free(wx);
    wsc_free(wy);
    parley_identity_free(x);
    parley_identity_free(y);
    cluster_end(&c);
}

/* Every nats-server gone: sends refused at once, connections kept, service back with them. */
static void test_store_down(void)
{
    struct cluster c;
    parley_identity *x = tk_identity(), *y = tk_identity();
    uint8_t ry[32], eid[16], conv[16], sealed[64];
    int64_t t, refused_ms;
    int status;
    wsc *wx, *wy;

    tk_routing(y, ry);
    tk_random(conv, 16);
    tk_random(sealed, sizeof(sealed));
    cluster_start(&c, "cluster-down");
    wx = connect_as(&c, 0, x);
    wy = connect_as(&c, 1, y);
    CHECK(http_get(c.node[0].port, "/healthz", NULL) == 200);
    for (size_t i = 0; i < c.nats.n; i++)
        natsproc_kill(&c.nats, i);
    tk_random(eid, 16);
    t = mono_ms();
    CHECK(pc_send_envelope(wx, eid, conv, ry, sealed, sizeof(sealed)) == 0);
    tk_expect_error(wx, PARLEY__ERROR__CODE__UNAVAILABLE, eid, 5000);
    refused_ms = mono_ms() - t;
    while ((status = http_get(c.node[1].port, "/healthz", NULL)) != 503) {
        CHECKM(mono_ms() - t < 10000, "/healthz answered %d with every nats-server down", status);
        sleep_ms(100);
    }
    /* Both connections are still there. */
    tk_expect_nothing(wx, 300, "anything but the refusal");
    tk_expect_nothing(wy, 10, "anything while the store is down");
    CHECK(wsc_last_result(wx) == WSC_TIMEOUT && wsc_last_result(wy) == WSC_TIMEOUT);

    for (size_t i = 0; i < c.nats.n; i++)
        CHECK(natsproc_restart(&c.nats, i) == 0);
    CHECK(natsproc_wait_ready(&c.nats, WAIT_MS) == 0);
    t = mono_ms();
    for (;;) {
        Parley__Frame *f;
        CHECK(pc_send_envelope(wx, eid, conv, ry, sealed, sizeof(sealed)) == 0);
        f = pc_recv(wx, 5000);
        CHECKM(f != NULL, "the connection ended while the store came back");
        if (f->kind_case == PARLEY__FRAME__KIND_ACK) {
            parley__frame__free_unpacked(f, NULL);
            break;
        }
        CHECKM(f->kind_case == PARLEY__FRAME__KIND_ERROR &&
                   f->error->code == PARLEY__ERROR__CODE__UNAVAILABLE,
               "unexpected frame %d", (int)f->kind_case);
        parley__frame__free_unpacked(f, NULL);
        CHECKM(mono_ms() - t < WAIT_MS, "sends still refused %d ms after NATS came back", WAIT_MS);
        sleep_ms(250);
    }
    tk_expect_deliver(wy, eid, sealed, sizeof(sealed), 10000);
    while (http_get(c.node[1].port, "/healthz", NULL) != 200)
        CHECKM(mono_ms() - t < WAIT_MS, "/healthz not ok after NATS came back");
    printf("    refused with UNAVAILABLE in %lld ms; served again %lld ms after the cluster was "
           "ready\n",
           (long long)refused_ms, (long long)(mono_ms() - t));
    wsc_free(wx);
    wsc_free(wy);
    parley_identity_free(x);
    parley_identity_free(y);
    cluster_end(&c);
}

/* Erasure removes from JetStream what was to, from and in the customer's conversations. */
static void test_erasure(void)
{
    struct cluster c;
    parley_identity *cust = tk_identity(), *agent = tk_identity(), *other = tk_identity();
    uint8_t rc[32], ra[32], salt[16], conv[16], sealed[100];
    static struct burst to_cust, from_cust, others;
    int refused = 0;
    wsc *wc, *wa, *wo;
    Parley__Frame *f;

    tk_routing(cust, rc);
    tk_routing(agent, ra);
    tk_random(salt, 16);
    tk_random(sealed, sizeof(sealed));
    parley_conversation_id(parley_identity_sign_pk(cust), salt, conv);
    cluster_start(&c, "cluster-erasure");
    wa = connect_as(&c, 1, agent);
    wo = connect_as(&c, 1, other);
    burst_make(&to_cust, 3);
    memcpy(to_cust.conv, conv, 16);
    burst_send(wa, &to_cust, rc);
    CHECK(burst_acks(wa, &to_cust, 3, &refused) == 3);
    wsc_free(wa); /* away: what the customer sends it stays stored */
    wc = connect_as(&c, 0, cust);
    {
        unsigned count[BURST] = {0};
        size_t order[BURST];
        /* Delivered but not acknowledged by the customer: still stored. */
        Parley__Frame *d;
        for (int i = 0; i < 3; i++) {
            d = tk_expect_kind(wc, PARLEY__FRAME__KIND_DELIVER, 10000, "delivery to the customer");
            parley__frame__free_unpacked(d, NULL);
        }
        (void)count;
        (void)order;
    }
    burst_make(&from_cust, 4);
    memcpy(from_cust.conv, conv, 16);
    burst_send(wc, &from_cust, ra);
    CHECK(burst_acks(wc, &from_cust, 4, &refused) == 4);
    burst_make(&others, 2);
    burst_send(wo, &others, ra);
    CHECK(burst_acks(wo, &others, 2, &refused) == 2);
    wait_stored(&c, rc, 3, 10000, "to the customer");
    wait_stored(&c, ra, 6, 10000, "to the agent");

    CHECK(pc_send_erase(wc, cust, (const uint8_t(*)[16])conv, (const uint8_t(*)[16])salt, 1) == 0);
    f = tk_expect_kind(wc, PARLEY__FRAME__KIND_ERASED, 30000, "the erasure's answer");
    CHECKM(f->erased->envelopes == 7, "erased %u envelopes, not 7", f->erased->envelopes);
    parley__frame__free_unpacked(f, NULL);
    wait_stored(&c, rc, 0, 1, "to the customer after erasure");
    wait_stored(&c, ra, 2, 1, "to the agent after erasure (only the other sender's)");
    wsc_free(wc);
    wsc_free(wo);
    parley_identity_free(cust);
    parley_identity_free(agent);
    parley_identity_free(other);
    cluster_end(&c);
}

/* The envelopes and bytes of the `expired` entries in a node's audit log. */
static void audit_expired(struct cluster *c, size_t node, uint64_t *envelopes, uint64_t *bytes)
{
    char path[320];
    size_t len = 0;
    char *log, *at;

    snprintf(path, sizeof(path), "%s/node%zu.audit", c->dir, node);
    log = read_file_all(path, &len);
    for (at = log; at != NULL && (at = strstr(at, "\"event\":\"expired\"")) != NULL; at++) {
        const char *n = strstr(at, "\"envelopes\":"), *b = strstr(at, "\"bytes\":");
        const char *eol = strchr(at, '\n');

        CHECKM(n != NULL && b != NULL && (eol == NULL || (n < eol && b < eol)),
               "an expired entry without its counts in node %zu's audit log", node);
        *envelopes += strtoull(n + 12, NULL, 10);
        *bytes += strtoull(b + 8, NULL, 10);
    }
    free(log);
}

static double expired_total(struct cluster *c)
{
    return relay_metric(&c->node[0], "parley_envelopes_expired_total") +
           relay_metric(&c->node[1], "parley_envelopes_expired_total");
}

/*
 * TTL expiry: both nodes sweep every second, at once, and remove from
 * JetStream what is older than the ttl before the stream's max_age (the
 * backstop, above the ttl) would; each envelope is counted once across
 * the nodes, by their expired counters and their audit logs' `expired`
 * entries, and the quota ledger counts them off (the recipient's
 * quota-bytes, full before, takes as many again). More envelopes than a
 * sweep's step takes (64): the sweep goes on in steps.
 */
#define EXPIRED 150

static void test_ttl(void)
{
    struct cluster c;
    parley_identity *x = tk_identity(), *y = tk_identity();
    uint8_t ry[32];
    static struct burst b, again;
    const char *more[] = {"--quota-bytes", "18000", NULL}; /* 150 envelopes of 120 bytes */
    uint64_t envelopes = 0, bytes = 0;
    int refused = 0;
    int64_t t, deadline, max_age;
    jsStreamInfo *si = NULL;
    wsc *wx, *wy;

    tk_routing(y, ry);
    cluster_start(&c, "cluster-ttl");
    for (size_t i = 0; i < 2; i++) {
        CHECK(relay_stop(&c.node[i], 15000) >= 0);
        relay_node_args(&c, i, "2", NULL, more);
    }
    CHECK(js_GetStreamInfo(&si, c.js, "PARLEY_ENV_0", NULL, NULL) == NATS_OK);
    CHECKM(si->Config->MaxAge > 2 * 1000000000LL, "the stream's max_age is not above the ttl");
    max_age = si->Config->MaxAge;
    jsStreamInfo_Destroy(si);
    /* The ledger's entries outlive every envelope they count, the stream's backstop included;
     * its age follows the ttl the nodes restarted with, as the stream's does. */
    CHECK(js_GetStreamInfo(&si, c.js, "KV_parley_quota", NULL, NULL) == NATS_OK);
    CHECKM(si->Config->MaxAge >= max_age && si->Config->MaxAge < 3600 * 1000000000LL,
           "the quota ledger's entries age out after %lld ms, the envelopes they count after "
           "%lld ms", (long long)(si->Config->MaxAge / 1000000), (long long)(max_age / 1000000));
    jsStreamInfo_Destroy(si);
    wx = connect_as(&c, 1, x);
    burst_make(&b, EXPIRED);
    burst_send(wx, &b, ry);
    CHECK(burst_acks(wx, &b, EXPIRED, &refused) == EXPIRED);
    wait_stored(&c, ry, EXPIRED, 1, "right after the sends");
    t = mono_ms();
    wait_stored(&c, ry, 0, 20000, "after the ttl");
    printf("    %d expired %lld ms after the sends (ttl 2 s)\n", EXPIRED,
           (long long)(mono_ms() - t));
    deadline = mono_ms() + 10000;
    while (expired_total(&c) < EXPIRED && mono_ms() < deadline)
        sleep_ms(100);
    sleep_ms(2500); /* more sweeps on both nodes: none may count them again */
    CHECKM(expired_total(&c) == EXPIRED, "the nodes counted %.0f expired envelopes, not %d",
           expired_total(&c), EXPIRED);
    for (deadline = mono_ms() + 10000;; sleep_ms(100)) { /* the logs follow the store */
        envelopes = bytes = 0;
        audit_expired(&c, 0, &envelopes, &bytes);
        audit_expired(&c, 1, &envelopes, &bytes);
        if (envelopes >= EXPIRED || mono_ms() > deadline)
            break;
    }
    CHECKM(envelopes == EXPIRED && bytes == EXPIRED * sizeof(b.sealed[0]),
           "the audit logs' expired entries count %llu envelopes and %llu bytes, not %d and %zu",
           (unsigned long long)envelopes, (unsigned long long)bytes, EXPIRED,
           EXPIRED * sizeof(b.sealed[0]));
    wy = connect_as(&c, 0, y);
    tk_expect_nothing(wy, 500, "an expired envelope");
    wsc_free(wy);
    /* The quota ledger was told: the recipient's quota-bytes is free again, on both nodes. */
    burst_make(&again, EXPIRED);
    burst_send(wx, &again, ry);
    CHECKM(burst_acks(wx, &again, EXPIRED, &refused) == EXPIRED,
           "sends refused after the recipient's envelopes expired");
    wsc_free(wx);
    parley_identity_free(x);
    parley_identity_free(y);
    cluster_end(&c);
}

/* The max age of the bucket's stream (KV_parley_<name>), in seconds. */
static int64_t stream_age_s(struct cluster *c, const char *stream)
{
    jsStreamInfo *si = NULL;
    int64_t age;

    CHECKM(js_GetStreamInfo(&si, c->js, stream, NULL, NULL) == NATS_OK, "no stream %s", stream);
    age = si->Config->MaxAge / 1000000000LL;
    jsStreamInfo_Destroy(si);
    return age;
}

static int64_t bucket_age_s(struct cluster *c, const char *name)
{
    char stream[96];

    snprintf(stream, sizeof(stream), "KV_parley_%s", name);
    return stream_age_s(c, stream);
}

/*
 * The buckets' ages follow the ttl: the nodes restarted with a ttl of 7
 * days, then of 30 (the erasure index's age is the ttl; the orders', 90
 * days and ten minutes more), and the buckets made at the first start
 * take the ttl of each. The audit outbox's follows audit-retention (365
 * days by default, then 180): a row the log would no longer keep goes.
 */
static void test_bucket_ages(void)
{
    static const char *const ttl[] = {"604800", "2592000"};
    static const char *const retention[] = {"31536000", "15552000"};
    struct cluster c;

    cluster_start(&c, "cluster-bucket-ages");
    for (size_t k = 0; k < 2; k++) {
        const char *more[] = {"--audit-retention", retention[k], NULL};
        int64_t t = atoll(ttl[k]);

        for (size_t i = 0; i < 2; i++) {
            CHECK(relay_stop(&c.node[i], 15000) >= 0);
            relay_node_args(&c, i, ttl[k], NULL, more);
        }
        CHECKM(stream_age_s(&c, "PARLEY_AUDIT") == atoll(retention[k]),
               "the audit outbox's age is %lld s, not %s",
               (long long)stream_age_s(&c, "PARLEY_AUDIT"), retention[k]);
        CHECKM(bucket_age_s(&c, "erasure") == t, "the erasure index's age is %lld s, not %lld",
               (long long)bucket_age_s(&c, "erasure"), (long long)t);
        CHECKM(bucket_age_s(&c, "orders") == 90 * 86400 + 600 + t,
               "the orders' bucket's age is %lld s, not %lld",
               (long long)bucket_age_s(&c, "orders"), (long long)(90 * 86400 + 600 + t));
    }
    cluster_end(&c);
}

/*
 * max-db-bytes against the envelope stream's size: a node refuses sends once
 * the stream holds more, also while sends keep it busy without a pause (its
 * figure is not only refreshed when idle).
 */
static void test_storage_full(void)
{
    struct cluster c;
    parley_identity *x = tk_identity(), *y = tk_identity();
    uint8_t ry[32], eid[16], conv[16], sealed[1024];
    int64_t t;
    int sent = 0;
    wsc *wx;

    tk_routing(y, ry);
    tk_random(conv, 16);
    tk_random(sealed, sizeof(sealed));
    cluster_start(&c, "cluster-full");
    CHECK(relay_stop(&c.node[0], 15000) >= 0);
    relay_node_with(&c, 0, "2592000", "65536");
    wx = connect_as(&c, 0, x);
    t = mono_ms();
    /* One send after the other, each answered: the node's store thread is never idle long. */
    for (;;) {
        Parley__Frame *f;

        CHECKM(mono_ms() - t < 30000, "%d sends of 1 KiB acknowledged in 30 s, none refused "
               "(max-db-bytes 64 KiB)", sent);
        tk_random(eid, 16);
        CHECK(pc_send_envelope(wx, eid, conv, ry, sealed, sizeof(sealed)) == 0);
        f = pc_recv(wx, 5000);
        CHECKM(f != NULL, "no answer to send %d", sent);
        if (f->kind_case == PARLEY__FRAME__KIND_ERROR) {
            CHECKM(f->error->code == PARLEY__ERROR__CODE__UNAVAILABLE,
                   "send %d refused with %d", sent, (int)f->error->code);
            parley__frame__free_unpacked(f, NULL);
            break;
        }
        CHECKM(f->kind_case == PARLEY__FRAME__KIND_ACK, "unexpected frame %d",
               (int)f->kind_case);
        parley__frame__free_unpacked(f, NULL);
        sent++;
    }
    printf("    %d sends of 1 KiB stored, then refused (max-db-bytes 64 KiB), %lld ms\n", sent,
           (long long)(mono_ms() - t));
    wsc_free(wx);
    parley_identity_free(x);
    parley_identity_free(y);
    cluster_end(&c);
}


/*
 * Two senders on two nodes fill one recipient's byte quota at once: what
 * is stored stays within it, exactly filled, the rest is QUOTA_FULL. A
 * sender moving to the other node keeps its share of another recipient
 * (the pair quota): the sends past it are refused there too, and room
 * comes back when the recipient, on the first node, acknowledges.
 */
static void test_quotas(void)
{
    struct cluster c;
    parley_identity *x = tk_identity(), *y = tk_identity(), *r1 = tk_identity(),
                    *r2 = tk_identity();
    static struct burst bx, by, pair1, pair2;
    const char *more[] = {"--quota-bytes", "12000", "--pair-quota-count", "90", NULL};
    uint8_t to1[32], to2[32];
    size_t ax, ay, fx, fy, full;
    unsigned count[BURST] = {0};
    size_t order[BURST];
    wsc *wx, *wy, *w2;

    tk_routing(r1, to1);
    tk_routing(r2, to2);
    cluster_start(&c, "cluster-quotas");
    for (size_t i = 0; i < 2; i++) {
        CHECK(relay_stop(&c.node[i], 15000) >= 0);
        relay_node_args(&c, i, "2592000", NULL, more);
    }
    /* 12,000 bytes: 100 envelopes of 120; 80 from each node at once. */
    wx = connect_as(&c, 0, x);
    wy = connect_as(&c, 1, y);
    burst_make(&bx, 80);
    burst_make(&by, 80);
    burst_send(wx, &bx, to1);
    burst_send(wy, &by, to1);
    ax = burst_answers(wx, &bx, &fx);
    ay = burst_answers(wy, &by, &fy);
    printf("    byte quota of 100 envelopes: %zu + %zu stored, %zu + %zu refused\n", ax, ay, fx,
           fy);
    CHECKM(ax + ay == 12000 / SEALED_LEN, "%zu envelopes of %zu bytes acknowledged for a quota "
           "of 12000 bytes", ax + ay, SEALED_LEN);
    wait_stored(&c, to1, 100, 10000, "the byte quota's recipient");
    CHECK(tk_rejects(&c.node[0], "quota_full", 0) + tk_rejects(&c.node[1], "quota_full", 0) ==
          (double)(fx + fy));

    /* x's share of r2 is 90 envelopes, wherever x sends from. */
    burst_make(&pair1, 60);
    burst_send(wx, &pair1, to2);
    CHECK(burst_answers(wx, &pair1, &full) == 60 && full == 0);
    wsc_free(wx);
    wx = connect_as(&c, 1, x);
    burst_make(&pair2, 60);
    burst_send(wx, &pair2, to2);
    CHECKM(burst_answers(wx, &pair2, &full) == 30 && full == 30,
           "a pair quota of 90 after 60 stored through the other node: %zu refused", full);
    CHECK(tk_rejects(&c.node[1], "pair_quota", 1) >= 1);
    wait_stored(&c, to2, 90, 10000, "the pair quota's recipient");

    /* r2 takes and acknowledges on node 0: x's share frees up on node 1. */
    w2 = connect_as(&c, 0, r2);
    CHECK(burst_receive(w2, &pair1, 60, count, order, 10000) == 60);
    wait_stored(&c, to2, 30, 10000, "after the recipient acknowledged");
    /* The ledger follows the deletions by a batch or so: resent as a client does. */
    for (int64_t until = mono_ms() + 10000;; sleep_ms(100)) {
        burst_send(wx, &pair2, to2);
        burst_answers(wx, &pair2, &full);
        if (full == 0)
            break;
        CHECKM(mono_ms() < until, "room freed by delivered on the other node: %zu still "
               "refused after 10 s", full);
    }
    wait_stored(&c, to2, 60, 10000, "the refused sends, resent");
    wsc_free(wx);
    wsc_free(wy);
    wsc_free(w2);
    parley_identity_free(x);
    parley_identity_free(y);
    parley_identity_free(r1);
    parley_identity_free(r2);
    cluster_end(&c);
}

/*
 * Waits until the subscription a relay node made for routing's live subject (when a connection
 * of that key authenticated on it) is known to every NATS server but the one it was made on,
 * from its routes (/routez): a claim published on any server then reaches that node. Until
 * then a claim published elsewhere may find no interest there and be dropped.
 */
static void wait_routed(struct cluster *c, const uint8_t routing[32])
{
    char hex[65];
    int64_t deadline = mono_ms() + WAIT_MS;
    size_t heard;

    sodium_bin2hex(hex, sizeof(hex), routing, 32);
    do {
        heard = 0;
        for (size_t i = 0; i < c->nats.n; i++) {
            char *body = NULL;

            heard += http_get(c->nats.node[i].http_port, "/routez?subs=1", &body) == 200 &&
                     strstr(body, hex) != NULL;
            free(body);
        }
        if (heard + 1 >= c->nats.n)
            return;
        sleep_ms(20);
    } while (mono_ms() < deadline);
    CHECKM(false, "the connection's subscription reached %zu of the other %zu servers", heard,
           c->nats.n - 1);
}

/*
 * A second connection with the same key, on the other node, replaces the first (close 4004)
 * once the first node's subscription has reached every server.
 */
static void test_replaced(void)
{
    struct cluster c;
    parley_identity *x = tk_identity();
    uint8_t rx[32];
    wsc *first, *second;

    cluster_start(&c, "cluster-replaced");
    tk_routing(x, rx);
    first = connect_as(&c, 0, x);
    wait_routed(&c, rx);
    second = connect_as(&c, 1, x);
    tk_expect_close(first, 4004, 5000, "the older connection, on the other node");
    tk_roundtrip(second, x);
    wsc_free(first);
    wsc_free(second);
    parley_identity_free(x);
    cluster_end(&c);
}

/*
 * Sends n envelopes one after the other, each answered; returns how many were acknowledged
 * before the first refusal, which must be QUOTA_FULL (n: none refused).
 */
static size_t send_until_refused(wsc *w, const uint8_t to[32], size_t n)
{
    uint8_t eid[16], conv[16], sealed[200];

    tk_random(conv, 16);
    tk_random(sealed, sizeof(sealed));
    for (size_t i = 0; i < n; i++) {
        Parley__Frame *f;
        bool acked;

        tk_random(eid, 16);
        CHECK(pc_send_envelope(w, eid, conv, to, sealed, sizeof(sealed)) == 0);
        f = pc_recv(w, 10000);
        CHECKM(f != NULL, "no answer to send %zu", i);
        acked = f->kind_case == PARLEY__FRAME__KIND_ACK;
        CHECKM(acked || (f->kind_case == PARLEY__FRAME__KIND_ERROR &&
                         f->error->code == PARLEY__ERROR__CODE__QUOTA_FULL),
               "send %zu answered with frame %d (error %s)", i, (int)f->kind_case,
               f->kind_case == PARLEY__FRAME__KIND_ERROR ? tk_error_name(f->error->code) : "-");
        parley__frame__free_unpacked(f, NULL);
        if (!acked)
            return i;
    }
    return n;
}

/*
 * A sender's budget follows it to another node: 15 of its 20 envelopes spent on node 0,
 * it reconnects on node 1 and is refused after the other 5, not after a fresh 20.
 */
static void test_sender_budget(void)
{
    struct cluster c;
    parley_identity *x = tk_identity(), *y = tk_identity();
    uint8_t ry[32];
    size_t n;
    wsc *w;

    tk_routing(y, ry);
    cluster_start(&c, "cluster-budget");
    for (size_t i = 0; i < 2; i++) {
        CHECK(relay_stop(&c.node[i], 15000) >= 0);
        relay_node_full(&c, i, "2592000", NULL, "20");
    }
    w = connect_as(&c, 0, x);
    n = send_until_refused(w, ry, 15);
    CHECKM(n == 15, "node 0 refused send %zu of a budget of 20", n);
    wsc_free(w);
    w = connect_as(&c, 1, x);
    n = send_until_refused(w, ry, 20);
    printf("    15 envelopes sent on node 0, %zu more on node 1 (sender-count 20)\n", n);
    CHECKM(n == 5, "node 1 took %zu envelopes, not the 5 left of the budget", n);
    CHECK(tk_rejects(&c.node[1], "sender_quota", 1) >= 1);
    wsc_free(w);
    parley_identity_free(x);
    parley_identity_free(y);
    cluster_end(&c);
}

/* One-time prekeys on the agent's subject of the prekey stream. */
static int64_t prekeys_of(struct cluster *c, const parley_identity *agent)
{
    uint8_t routing[32];
    int64_t n;

    tk_agent_routing(agent, routing);
    n = subject_count(c, "PARLEY_PREKEYS", "pk", routing, 32);
    CHECK(n >= 0);
    return n;
}

/* The prekey stream keeps at most 100 per agent itself, refusing the one past it. */
static void check_prekey_stream(struct cluster *c, const char *when)
{
    jsStreamInfo *si = NULL;

    CHECK(js_GetStreamInfo(&si, c->js, "PARLEY_PREKEYS", NULL, NULL) == NATS_OK);
    CHECKM(si->Config->MaxMsgsPerSubject == 100 && si->Config->Discard == js_DiscardNew &&
               si->Config->DiscardNewPerSubject,
           "%s: the prekey stream keeps %lld per subject, discard %d, per subject %d", when,
           (long long)si->Config->MaxMsgsPerSubject, (int)si->Config->Discard,
           (int)si->Config->DiscardNewPerSubject);
    jsStreamInfo_Destroy(si);
}

#define RACE_KEYS 51
#define RACE_ROUNDS 4

/*
 * One agent publishes 51 one-time prekeys through each node at the same
 * time: 102 would pass the limit of 100. A publication the stream
 * refuses a prekey of is refused whole, whatever part of it the stream
 * had taken: the agent never holds more than 100, nor part of one.
 */
static void test_prekeys_race(void)
{
    struct cluster c;
    uint64_t now = tk_now();
    unsigned refused = 0, overlapped = 0;

    cluster_start(&c, "cluster-prekeys");
    check_prekey_stream(&c, "created");
    /* A stream of an earlier relay, without the limit, is brought to it. */
    for (size_t i = 0; i < 2; i++)
        CHECK(relay_stop(&c.node[i], 15000) >= 0);
    {
        jsStreamInfo *si = NULL;
        CHECK(js_GetStreamInfo(&si, c.js, "PARLEY_PREKEYS", NULL, NULL) == NATS_OK);
        si->Config->MaxMsgsPerSubject = -1;
        si->Config->Discard = js_DiscardOld;
        si->Config->DiscardNewPerSubject = false;
        CHECK(js_UpdateStream(NULL, c.js, si->Config, NULL, NULL) == NATS_OK);
        jsStreamInfo_Destroy(si);
    }
    relay_node(&c, 0, "2592000");
    relay_node(&c, 1, "2592000");
    check_prekey_stream(&c, "after a restart on an older stream");
    for (int round = 0; round < RACE_ROUNDS; round++) {
        parley_identity *agent = tk_identity();
        uint8_t *cert, *keys[2][RACE_KEYS];
        size_t cert_len, lens[2][RACE_KEYS];
        uint32_t left;
        int64_t held;
        wsc *wa, *wb, *wc;
        Parley__Frame *f;

        tk_cert(c.brand.key, "acme", agent, "alice", "Alice", (uint64_t)round + 1, now - 60,
                now + 3600, &cert, &cert_len);
        for (size_t k = 0; k < 2; k++)
            for (size_t i = 0; i < RACE_KEYS; i++)
                tk_prekey(agent, agent, k * 1000 + i + 1, false, 0, &keys[k][i], &lens[k][i]);
        /* The second connection replaces the first (4004) once its node hears of it: the first
         * publication is in its node's store by then. */
        wa = tko_agent(c.node[0].port, agent, cert, cert_len, &left);
        CHECK(pc_send_prekeys(wa, keys[0], lens[0], RACE_KEYS, false) == 0);
        wb = tko_agent(c.node[1].port, agent, cert, cert_len, &left);
        overlapped += left < RACE_KEYS; /* node 0's was not all stored when node 1 counted */
        CHECK(pc_send_prekeys(wb, keys[1], lens[1], RACE_KEYS, false) == 0);
        f = pc_recv(wb, 10000);
        CHECKM(f != NULL, "no answer to the publication on node 1");
        if (f->kind_case == PARLEY__FRAME__KIND_ERROR) {
            CHECKM(f->error->code == PARLEY__ERROR__CODE__QUOTA_FULL, "publication refused with %s",
                   tk_error_name(f->error->code));
            refused++;
        } else {
            CHECKM(f->kind_case == PARLEY__FRAME__KIND_ACK, "unexpected frame %d",
                   (int)f->kind_case);
        }
        parley__frame__free_unpacked(f, NULL);
        /* Node 0 answers this count after its publication is done. */
        wc = tko_agent(c.node[0].port, agent, cert, cert_len, &left);
        held = prekeys_of(&c, agent);
        printf("    round %d: the agent holds %lld one-time prekeys (auth_ok: %u)\n", round,
               (long long)held, left);
        CHECKM(held <= 100, "the agent holds %lld one-time prekeys, more than 100",
               (long long)held);
        /* Interleaved, both can be refused: none is held then, still no part of one. */
        CHECKM(held % RACE_KEYS == 0 && (uint64_t)held == left,
               "the agent holds %lld one-time prekeys (auth_ok %u), not whole publications of %d",
               (long long)held, left, RACE_KEYS);
        for (size_t k = 0; k < 2; k++)
            for (size_t i = 0; i < RACE_KEYS; i++)
                free(keys[k][i]);
        free(cert);
        wsc_free(wa);
        wsc_free(wb);
        wsc_free(wc);
        parley_identity_free(agent);
    }
    printf("    %u of %d rounds: node 1 counted before node 0's publication was whole; %u refused "
           "on node 1\n",
           overlapped, RACE_ROUNDS, refused);
    cluster_end(&c);
}

/* Entries of one event in node i's audit log (its live file: one segment here). */
static size_t audit_events(const struct cluster *c, size_t i, const char *event)
{
    char path[320], needle[64];
    char *text;
    size_t n;

    snprintf(path, sizeof(path), "%s/node%zu.audit", c->dir, i);
    snprintf(needle, sizeof(needle), "\"event\":\"%s\"", event);
    text = read_file_all(path, NULL);
    CHECKM(text != NULL, "no audit log %s", path);
    n = tk_count(text, needle);
    free(text);
    return n;
}

/*
 * A node killed right after acknowledging sends keeps their audit
 * entries: restarted, its log holds a "stored" entry for each, and an
 * "acked" one for each delivered envelope, and verifies; stopped cleanly,
 * its outbox in JetStream (au.<node>, the node's id beside its log) keeps
 * at most the row its position points into.
 */
static void test_audit_killed(void)
{
    struct cluster c;
    parley_identity *x = tk_identity(), *y = tk_identity();
    uint8_t ry[32], node[16];
    static struct burst b1, b2;
    unsigned count[BURST] = {0};
    size_t order[BURST];
    char path[320], out[4096], *hex;
    int refused = 0;
    wsc *wx, *wy;

    tk_routing(y, ry);
    cluster_start(&c, "cluster-audit");
    wx = connect_as(&c, 0, x);
    burst_make(&b1, 20);
    burst_send(wx, &b1, ry);
    CHECK(burst_acks(wx, &b1, 20, &refused) == 20);
    wy = connect_as(&c, 0, y);
    CHECK(burst_receive(wy, &b1, 20, count, order, 10000) == 20);
    wait_stored(&c, ry, 0, 10000, "after delivered");
    wsc_free(wy);
    burst_make(&b2, 30);
    burst_send(wx, &b2, ry);
    CHECK(burst_acks(wx, &b2, 30, &refused) == 30 && refused == 0);
    relay_kill(&c.node[0]);
    wsc_free(wx);

    relay_node(&c, 0, "2592000");
    CHECK(relay_stop(&c.node[0], 15000) == 0);
    CHECKM(audit_events(&c, 0, "stored") == 50 && audit_events(&c, 0, "acked") == 20,
           "node 0's log has %zu stored and %zu acked entries, not 50 and 20",
           audit_events(&c, 0, "stored"), audit_events(&c, 0, "acked"));
    snprintf(path, sizeof(path), "'%s/node0.audit'*", c.dir);
    CHECKM(tk_audit_verify(path, out, sizeof(out)) == 0 && strncmp(out, "OK ", 3) == 0,
           "verify: %s", out);
    snprintf(path, sizeof(path), "%s/.node0.audit.node", c.dir);
    hex = read_file_all(path, NULL);
    CHECKM(hex != NULL && sodium_hex2bin(node, 16, hex, strlen(hex), "\n", NULL, NULL) == 0,
           "no node id beside node 0's audit log");
    free(hex);
    {
        int64_t left = subject_count(&c, "PARLEY_AUDIT", "au", node, 16);
        CHECKM(left >= 0 && left <= 1, "%lld rows of node 0's outbox left after a clean stop",
               (long long)left);
    }
    parley_identity_free(x);
    parley_identity_free(y);
    cluster_end(&c);
}

/*
 * The erasure index outlives the envelopes it names: an envelope sent more
 * than half a ttl after its pair was first indexed writes the entry again,
 * so an erasure after the first entry's age still finds it. ttl 12 s, on a
 * namespace of its own (the buckets' ages are set as they are created).
 */
static void test_index_age(void)
{
    struct cluster c;
    parley_identity *cust = tk_identity(), *agent = tk_identity();
    uint8_t ra[32], salt[16], conv[16];
    static struct burst first, second;
    int refused = 0;
    int64_t t0;
    wsc *wc;
    Parley__Frame *f;

    tk_routing(agent, ra);
    tk_random(salt, 16);
    parley_conversation_id(parley_identity_sign_pk(cust), salt, conv);
    cluster_start(&c, "cluster-index-age");
    for (size_t i = 0; i < 2; i++)
        CHECK(relay_stop(&c.node[i], 15000) >= 0);
    strncat(c.spec, "/idx", sizeof(c.spec) - strlen(c.spec) - 1);
    relay_node(&c, 0, "12");
    relay_node(&c, 1, "12");
    wc = connect_as(&c, 0, cust);
    burst_make(&first, 1);
    memcpy(first.conv, conv, 16);
    t0 = mono_ms();
    burst_send(wc, &first, ra);
    CHECK(burst_acks(wc, &first, 1, &refused) == 1);
    /* Past half the ttl: the second envelope writes the index entries again. */
    sleep_ms((int)(t0 + 7000 - mono_ms()));
    burst_make(&second, 1);
    memcpy(second.conv, conv, 16);
    burst_send(wc, &second, ra);
    CHECK(burst_acks(wc, &second, 1, &refused) == 1);
    /* Past the first writing's age (12 s), before the second envelope's ttl ends (19 s); the
     * first envelope may or may not have expired yet. */
    sleep_ms((int)(t0 + 14000 - mono_ms()));
    CHECK(pc_send_erase(wc, cust, (const uint8_t(*)[16])conv, (const uint8_t(*)[16])salt, 1) == 0);
    f = tk_expect_kind(wc, PARLEY__FRAME__KIND_ERASED, 30000, "the erasure's answer");
    if (mono_ms() >= t0 + 19000)
        printf("    inconclusive: the erasure was answered after the second envelope's ttl\n");
    else
        CHECKM(f->erased->envelopes >= 1,
               "erased %u envelopes, not the second one still stored (its index entry aged "
               "out?)", f->erased->envelopes);
    parley__frame__free_unpacked(f, NULL);
    wsc_free(wc);
    parley_identity_free(cust);
    parley_identity_free(agent);
    cluster_end(&c);
}

/* Stores an empty message on subject, with a KV-Operation header when op is not NULL. */
static void publish_empty(struct cluster *c, const char *subject, const char *op)
{
    natsMsg *m = NULL;
    jsPubAck *pa = NULL;

    CHECK(natsMsg_Create(&m, subject, NULL, NULL, 0) == NATS_OK);
    if (op != NULL)
        CHECK(natsMsgHeader_Set(m, "KV-Operation", op) == NATS_OK);
    CHECKM(js_PublishMsg(&pa, c->js, m, NULL, NULL) == NATS_OK, "%s not stored", subject);
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(m);
}

/*
 * An empty message where the relay reads (a quota ledger entry deleted by an
 * operator's `nats kv del`, an empty publication on a recipient's envelope
 * subject): read as nothing stored there, not as a store failure that would
 * refuse the recipient's sends and withhold its envelopes.
 */
static void test_empty_messages(void)
{
    struct cluster c;
    parley_identity *x = tk_identity(), *r = tk_identity();
    static struct burst b;
    uint8_t to[32];
    char hex[65], subject[160];
    unsigned count[BURST] = {0};
    size_t order[BURST], full;
    wsc *wx, *wr;

    tk_routing(r, to);
    sodium_bin2hex(hex, sizeof(hex), to, 32);
    cluster_start(&c, "cluster-empty");
    snprintf(subject, sizeof(subject), "$KV.parley_quota.r.%s", hex);
    publish_empty(&c, subject, "DEL");
    snprintf(subject, sizeof(subject), "pe.0.%s", hex);
    publish_empty(&c, subject, NULL);
    wx = connect_as(&c, 0, x);
    burst_make(&b, 3);
    burst_send(wx, &b, to);
    CHECKM(burst_answers(wx, &b, &full) == 3 && full == 0,
           "sends to a recipient whose ledger entry was deleted: %zu refused", full);
    wr = connect_as(&c, 1, r);
    CHECKM(burst_receive(wr, &b, 3, count, order, 10000) == 3,
           "the envelopes stored behind an empty message were not delivered");
    wsc_free(wx);
    wsc_free(wr);
    parley_identity_free(x);
    parley_identity_free(r);
    cluster_end(&c);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"across_nodes", test_across_nodes}, {"relay_killed", test_relay_killed},
        {"nats_killed", test_nats_killed},   {"store_down", test_store_down},
        {"erasure", test_erasure},           {"ttl", test_ttl},
        {"directory", test_directory},       {"replaced", test_replaced},
        {"storage_full", test_storage_full}, {"sender_budget", test_sender_budget},
        {"quotas", test_quotas},
        {"prekeys_race", test_prekeys_race},
        {"audit_killed", test_audit_killed},
        {"orders", test_orders},
        {"empty_messages", test_empty_messages},
        {"index_age", test_index_age},
        {"directory_reconnect", test_directory_reconnect},
        {"bucket_ages", test_bucket_ages},
        {"forged_orders", test_forged_orders},
        {"forged_directory", test_forged_directory},
    };

    nats_bin = getenv("PARLEY_NATS_SERVER");
    nats_conf = getenv("PARLEY_NATS_CONF");
    if (nats_bin == NULL || nats_conf == NULL || !natsproc_runnable(nats_bin)) {
        fprintf(stderr, "nats-server cannot run here: skipped\n");
        return 77;
    }
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
