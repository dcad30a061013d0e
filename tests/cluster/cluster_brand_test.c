/*
 * relay-cluster's cases about a brand's directories and orders on relay
 * nodes sharing a NATS JetStream cluster:
 *
 * - a directory published through one node is served and pushed by the
 *   other, also to a node cut off from NATS while it was stored;
 * - a brand order submitted on one node reaches the agents on both, their
 *   receipts are read back on either, and a replay is refused on the other;
 * - orders no brand signed, published on NATS, reach no agent;
 * - directories no brand signed, or stored as another version, written
 *   to the bucket: no node serves them, live or at its start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>
#include <sodium.h>

#include "cluster_brand.h"
#include "clustertk.h"

/* A directory published through one node is served and pushed by the other. */
void test_directory(void)
{
    struct cluster c;
    parley_identity *p = tk_identity(), *w = tk_identity();
    uint8_t *v1;
    size_t v1_len;
    wsc *wp, *ww;

    cluster_start(&c, "cluster-directory");
    tk_directory(c.brand.key, "acme", 1, "notice one", NULL, 0, &v1, &v1_len);
    ww = watch_directory(&c, 1, w);
    wp = connect_as(&c, 0, p);
    CHECK(pc_send_publish(wp, v1, v1_len) == 0);
    tk_expect_directory(wp, v1, v1_len, 5000, "the publisher's answer");
    tk_expect_directory(ww, v1, v1_len, 5000, "the push to a watcher on the other node");
    free(v1);
    wsc_free(wp);
    wsc_free(ww);
    parley_identity_free(p);
    parley_identity_free(w);
    cluster_end(&c);
}

/*
 * A directory stored while a node is cut off from NATS (its live copy lost)
 * reaches that node's watchers once it is back: node 1 speaks only to
 * server 2 (the servers do not advertise the others, nats-node.conf), which
 * is killed while node 0 publishes a new directory.
 */
void test_directory_reconnect(void)
{
    struct cluster c;
    parley_identity *p = tk_identity(), *w = tk_identity();
    char spec[sizeof(c.spec)];
    uint8_t *v1;
    size_t v1_len;
    Parley__Frame *f;
    wsc *wp, *ww;

    cluster_start(&c, "cluster-dir-reconnect");
    CHECK(relay_stop(&c.node[1], 15000) >= 0);
    memcpy(spec, c.spec, sizeof(spec));
    snprintf(c.spec, sizeof(c.spec), "nats://%.24s", c.nats.urls[2] + 7);
    relay_node(&c, 1, "2592000");
    memcpy(c.spec, spec, sizeof(spec));
    {
        /* A node given one server leaves the streams' replication as the first set it. */
        jsStreamInfo *si = NULL;
        CHECK(js_GetStreamInfo(&si, c.js, "PARLEY_AUDIT", NULL, NULL) == NATS_OK);
        CHECKM(si->Config->Replicas == 3, "the audit outbox's replicas lowered to %d",
               (int)si->Config->Replicas);
        jsStreamInfo_Destroy(si);
    }
    tk_directory(c.brand.key, "acme", 1, "notice one", NULL, 0, &v1, &v1_len);
    ww = watch_directory(&c, 1, w);
    natsproc_kill(&c.nats, 2);
    wp = connect_as(&c, 0, p);
    /* Sent again while a stream whose leader was server 2 elects another (UNAVAILABLE). */
    for (int64_t until = mono_ms() + 30000;; sleep_ms(500)) {
        CHECK(pc_send_publish(wp, v1, v1_len) == 0);
        f = pc_recv(wp, 30000); /* each of the store's calls may wait out its leader's election */
        CHECKM(f != NULL, "no answer to the publication");
        if (f->kind_case != PARLEY__FRAME__KIND_ERROR) {
            parley__frame__free_unpacked(f, NULL);
            break;
        }
        CHECKM(f->error->code == PARLEY__ERROR__CODE__UNAVAILABLE && mono_ms() < until,
               "the publication refused with %s", tk_error_name(f->error->code));
        parley__frame__free_unpacked(f, NULL);
    }
    CHECK(natsproc_restart(&c.nats, 2) == 0);
    CHECK(natsproc_wait_node(&c.nats, 2, WAIT_MS) == 0);
    tk_expect_directory(ww, v1, v1_len, 20000,
                        "the directory stored while the watcher's node was cut off");
    free(v1);
    wsc_free(wp);
    wsc_free(ww);
    parley_identity_free(p);
    parley_identity_free(w);
    cluster_end(&c);
}

/*
 * A brand order submitted through node 0 reaches an agent online on node
 * 1 at once and one connecting later on node 0; each answers on its node,
 * and the status on either node collects both receipts in the order they
 * came. The same order through node 1 is a replay.
 */
void test_orders(void)
{
    struct cluster c;
    parley_identity *cust = tk_identity(), *admin = tk_identity();
    parley_identity *alice = tk_identity(), *bob = tk_identity();
    uint8_t *alice_cert, *bob_cert, *order, alice_routing[32];
    int64_t t, t_stored, t_pushed;
    size_t alice_len, bob_len, len, n = 0;
    uint64_t now = tk_now();
    parley_order_info info;
    parley_order_receipt_info got;
    wsc *wa, *wb, *sub0, *sub1;

    cluster_start(&c, "cluster-orders");
    tk_cert(c.brand.key, "acme", alice, "alice", "Alice", 1, now - 60, now + 3600, &alice_cert,
            &alice_len);
    tk_cert(c.brand.key, "acme", bob, "bob", "Bob", 2, now - 60, now + 3600, &bob_cert, &bob_len);
    tko_make(c.brand.key, "acme", PARLEY_ORDER_EXPORT, cust, now, now + 3600, &order, &len);
    CHECK(parley_order_verify(order, len, NULL, NULL, 0, &info) == PARLEY_OK);
    wa = tko_agent(c.node[1].port, alice, alice_cert, alice_len, NULL);
    /* Past alice's read of the orders pending for her: an order stored while it runs can come
       to her twice (that read, and the notice), which her client answers alike. */
    parley_routing_id(parley_identity_sign_pk(alice), PARLEY_ROUTING_AGENT, alice_routing);
    tk_roundtrip_to(wa, alice_routing);
    sub0 = connect_as(&c, 0, admin);
    t = mono_ms();
    tko_send(sub0, PARLEY__FRAME__KIND_ORDER_SUBMIT, order, len);
    tko_expect_stored(sub0, info.order_id, "the order, through node 0");
    t_stored = mono_ms() - t;
    tko_expect_order(wa, info.order_id, "the order, to an agent online on node 1");
    t_pushed = mono_ms() - t;
    t = mono_ms();
    wb = tko_agent(c.node[0].port, bob, bob_cert, bob_len, NULL);
    tko_expect_order(wb, info.order_id, "the order, to an agent connecting on node 0");
    printf("    order stored in %lld ms, on the other node's agent after %lld ms; an agent "
           "connecting handed it after %lld ms\n",
           (long long)t_stored, (long long)t_pushed, (long long)(mono_ms() - t));

    tko_send_receipt(wa, alice, alice_cert, alice_len, info.order_id, 3);
    tko_expect_stored(wa, info.order_id, "alice's receipt, on node 1");
    CHECK(tko_status(sub0, order, len, 0, c.brand.key, "acme", &got, &n) == 1 && n == 1);
    CHECK(strcmp(got.agent.agent_id, "alice") == 0 && got.messages == 3);
    tko_send_receipt(wb, bob, bob_cert, bob_len, info.order_id, 0);
    tko_expect_stored(wb, info.order_id, "bob's receipt, on node 0");
    wsc_free(sub0);
    sub1 = connect_as(&c, 1, admin);
    CHECK(tko_status(sub1, order, len, 0, c.brand.key, "acme", &got, &n) == 2 && n == 2);
    CHECK(strcmp(got.agent.agent_id, "alice") == 0);
    CHECK(tko_status(sub1, order, len, 1, c.brand.key, "acme", &got, &n) == 2 && n == 1);
    CHECK(strcmp(got.agent.agent_id, "bob") == 0);

    /* Replayed on the other node; answered agents are not handed it again, on either node. */
    tko_send(sub1, PARLEY__FRAME__KIND_ORDER_SUBMIT, order, len);
    tko_expect_code(sub1, PARLEY__ERROR__CODE__REPLAYED, "the order again, through node 1");
    wsc_free(wa);
    wsc_free(wb);
    wa = tko_agent(c.node[0].port, alice, alice_cert, alice_len, NULL);
    wb = tko_agent(c.node[1].port, bob, bob_cert, bob_len, NULL);
    tk_expect_nothing(wa, 300, "the order again to alice, who answered");
    tk_expect_nothing(wb, 300, "the order again to bob, who answered");

    wsc_free(wa);
    wsc_free(wb);
    wsc_free(sub1);
    parley_free(order, len);
    free(alice_cert);
    free(bob_cert);
    parley_identity_free(cust);
    parley_identity_free(admin);
    parley_identity_free(alice);
    parley_identity_free(bob);
    cluster_end(&c);
}

/*
 * Orders no brand signed, put where the nodes read orders from (a notice
 * on po.<brand>, an entry in parley_orders) by any NATS publisher: no
 * agent is handed them, each node counts what it dropped, and a real
 * order after them still reaches the agents.
 */
void test_forged_orders(void)
{
    struct cluster c;
    parley_identity *cust = tk_identity(), *forger = tk_identity(), *admin = tk_identity();
    parley_identity *alice = tk_identity(), *bob = tk_identity();
    uint8_t *alice_cert, *bob_cert, *forged, *order, *m, alice_routing[32];
    char key[200], hex[33];
    size_t alice_len, bob_len, forged_len, len;
    uint64_t now = tk_now();
    parley_order_info info, finfo;
    kvStore *kv = NULL;
    wsc *wa, *wb, *sub;

    cluster_start(&c, "cluster-forged-orders");
    tk_cert(c.brand.key, "acme", alice, "alice", "Alice", 1, now - 60, now + 3600, &alice_cert,
            &alice_len);
    tk_cert(c.brand.key, "acme", bob, "bob", "Bob", 2, now - 60, now + 3600, &bob_cert, &bob_len);
    tko_make(forger, "acme", PARLEY_ORDER_ERASE, cust, now, now + 3600, &forged, &forged_len);
    CHECK(parley_order_verify(forged, forged_len, NULL, NULL, 0, &finfo) == PARLEY_OK);
    wa = tko_agent(c.node[1].port, alice, alice_cert, alice_len, NULL);
    parley_routing_id(parley_identity_sign_pk(alice), PARLEY_ROUTING_AGENT, alice_routing);
    tk_roundtrip_to(wa, alice_routing);
    /* A notice from a "node": 16 bytes of node id, then the order. */
    CHECK((m = malloc(16 + forged_len)) != NULL);
    tk_random(m, 16);
    memcpy(m + 16, forged, forged_len);
    CHECK(natsConnection_Publish(c.nc, "po.61636d65", m, (int)(16 + forged_len)) == NATS_OK);
    CHECK(natsConnection_Flush(c.nc) == NATS_OK);
    /* An entry: expiry, nonce, order. */
    CHECK(js_KeyValue(&kv, c.js, "parley_orders") == NATS_OK);
    CHECK((m = realloc(m, 24 + forged_len)) != NULL);
    memset(m, 0xff, 8);
    tk_random(m + 8, 16);
    memcpy(m + 24, forged, forged_len);
    sodium_bin2hex(hex, sizeof(hex), finfo.order_id, 16);
    snprintf(key, sizeof(key), "o.61636d65.%s", hex);
    CHECK(kvStore_Create(NULL, kv, key, m, (int)(24 + forged_len)) == NATS_OK);
    wb = tko_agent(c.node[0].port, bob, bob_cert, bob_len, NULL);
    tk_expect_nothing(wb, 1000, "a forged order read from the bucket");
    CHECKM(tk_metric_until(&c.node[1], "parley_orders_dropped_total", 1, 10000) == 1,
           "node 1 did not count the forged notice");
    CHECKM(tk_metric_until(&c.node[0], "parley_orders_dropped_total", 2, 10000) == 2,
           "node 0 did not count the forged notice and entry");
    /* A real one after them: the next frame alice and bob see. */
    tko_make(c.brand.key, "acme", PARLEY_ORDER_EXPORT, cust, now, now + 3600, &order, &len);
    CHECK(parley_order_verify(order, len, NULL, NULL, 0, &info) == PARLEY_OK);
    sub = connect_as(&c, 0, admin);
    tko_send(sub, PARLEY__FRAME__KIND_ORDER_SUBMIT, order, len);
    tko_expect_stored(sub, info.order_id, "the order");
    tko_expect_order(wa, info.order_id, "the real order, first, on node 1");
    tko_expect_order(wb, info.order_id, "the real order, first, on node 0");
    kvStore_Destroy(kv);
    free(m);
    parley_free(forged, forged_len);
    parley_free(order, len);
    free(alice_cert);
    free(bob_cert);
    wsc_free(wa);
    wsc_free(wb);
    wsc_free(sub);
    parley_identity_free(cust);
    parley_identity_free(forger);
    parley_identity_free(admin);
    parley_identity_free(alice);
    parley_identity_free(bob);
    cluster_end(&c);
}

/* Stores dir as version in the directories bucket, as a node would (any NATS publisher may). */
static void put_directory(struct cluster *c, uint64_t version, const uint8_t *dir, size_t len)
{
    kvStore *kv = NULL;
    uint8_t *v = malloc(8 + len);

    CHECK(v != NULL);
    for (int i = 0; i < 8; i++)
        v[i] = (uint8_t)(version >> (56 - 8 * i));
    memcpy(v + 8, dir, len);
    CHECK(js_KeyValue(&kv, c->js, "parley_directories") == NATS_OK);
    CHECK(kvStore_Put(NULL, kv, "61636d65", v, (int)(8 + len)) == NATS_OK); /* hex of "acme" */
    kvStore_Destroy(kv);
    free(v);
}

/*
 * Directories put in the bucket by a NATS publisher: one signed by
 * another key, one of the brand's stored as a version it is not. Neither
 * reaches a watcher nor stands in the way of the brand's next (had the
 * forged version 9 been taken, version 1 would be refused as a
 * rollback), and a node starting with a forged one stored serves none.
 */
void test_forged_directory(void)
{
    struct cluster c;
    parley_identity *forger = tk_identity(), *p = tk_identity(), *w = tk_identity();
    uint8_t *forged, *v1, *v2;
    size_t forged_len, v1_len, v2_len;
    Parley__Frame *f;
    wsc *wp, *ww;

    cluster_start(&c, "cluster-forged-directory");
    tk_directory(forger, "acme", 9, "forged", NULL, 0, &forged, &forged_len);
    tk_directory(c.brand.key, "acme", 1, "notice one", NULL, 0, &v1, &v1_len);
    tk_directory(c.brand.key, "acme", 2, "notice two", NULL, 0, &v2, &v2_len);
    ww = watch_directory(&c, 1, w);
    put_directory(&c, 9, forged, forged_len);
    put_directory(&c, 8, v2, v2_len);
    tk_expect_nothing(ww, 1000, "a directory that does not verify");
    for (size_t i = 0; i < 2; i++)
        CHECKM(tk_metric_until(&c.node[i], "parley_directories_dropped_total", 2, 10000) == 2,
               "node %zu did not count the two directories it dropped", i);
    wp = connect_as(&c, 0, p);
    CHECK(pc_send_publish(wp, v1, v1_len) == 0);
    tk_expect_directory(wp, v1, v1_len, 5000, "the brand's directory after the forged ones");
    tk_expect_directory(ww, v1, v1_len, 5000, "its push to a watcher on the other node");
    wsc_free(ww);
    /* At a node's start: the forged one stored last is not served. */
    put_directory(&c, 9, forged, forged_len);
    CHECK(relay_stop(&c.node[1], 15000) >= 0);
    relay_node(&c, 1, "2592000");
    ww = connect_as(&c, 1, w);
    CHECK(pc_send_fetch(ww, "acme") == 0);
    f = tk_expect_kind(ww, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "fetch after the start");
    CHECKM(f->directory_result->directory == NULL, "a node served a forged directory it started with");
    parley__frame__free_unpacked(f, NULL);
    CHECK(tk_metric_until(&c.node[1], "parley_directories_dropped_total", 1, 10000) >= 1);
    free(forged);
    free(v1);
    free(v2);
    wsc_free(wp);
    wsc_free(ww);
    parley_identity_free(forger);
    parley_identity_free(p);
    parley_identity_free(w);
    cluster_end(&c);
}
