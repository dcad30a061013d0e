/*
 * The cluster harness works: three nats-server processes form a
 * JetStream cluster on loopback, an R3 stream takes a publication
 * (de-duplicated by its message id), the stream's leader is killed with
 * SIGKILL and the two others carry on with everything acknowledged
 * before, and the killed node, restarted, rejoins and catches up.
 *
 * Usage: cluster-harness NATS_SERVER NODE_CONF. Exit 77 (skipped) only
 * when NATS_SERVER cannot run at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "natsproc.h"
#include "relayproc.h"

#define STREAM "HARNESS"
#define WAIT_MS 60000

static struct natsproc cluster;
static char dir[256];

static void fail(int line, const char *what)
{
    fprintf(stderr, "harness_test.c:%d: check failed: %s\n", line, what);
    natsproc_show_logs(&cluster);
    natsproc_stop(&cluster, 5000);
    fprintf(stderr, "(servers' stores and logs kept in %s)\n", dir);
    exit(1);
}

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail(__LINE__, #cond);                                                                 \
    } while (0)

static natsConnection *connect_all(void)
{
    const char *urls[NATSPROC_NODES];
    natsOptions *o = NULL;
    natsConnection *nc = NULL;

    for (size_t i = 0; i < cluster.n; i++)
        urls[i] = cluster.urls[i];
    REQUIRE(natsOptions_Create(&o) == NATS_OK);
    REQUIRE(natsOptions_SetServers(o, urls, (int)cluster.n) == NATS_OK);
    REQUIRE(natsOptions_SetMaxReconnect(o, -1) == NATS_OK);
    REQUIRE(natsOptions_SetReconnectWait(o, 100) == NATS_OK);
    REQUIRE(natsConnection_Connect(&nc, o) == NATS_OK);
    natsOptions_Destroy(o);
    return nc;
}

/* Publishes with a message id until the stream acknowledges it (or WAIT_MS pass); returns its sequence. */
static uint64_t publish(jsCtx *js, const char *id, const char *data, bool *duplicate, int *refused)
{
    int64_t deadline = mono_ms() + WAIT_MS;
    jsPubOptions po;

    jsPubOptions_Init(&po);
    po.MsgId = id;
    po.MaxWait = 2000;
    while (mono_ms() < deadline) {
        jsPubAck *pa = NULL;
        natsStatus s = js_Publish(&pa, js, "harness.a", data, (int)strlen(data), &po, NULL);

        if (s == NATS_OK) {
            uint64_t seq = pa->Sequence;
            *duplicate = pa->Duplicate;
            jsPubAck_Destroy(pa);
            return seq;
        }
        (*refused)++;
        sleep_ms(50);
    }
    return 0;
}

/* Whether every replica of the stream is current and online, as its leader reports. */
static bool replicas_current(jsCtx *js, char *leader, size_t cap)
{
    jsStreamInfo *si = NULL;
    bool ok;

    if (js_GetStreamInfo(&si, js, STREAM, NULL, NULL) != NATS_OK)
        return false;
    ok = si->Cluster != NULL && si->Cluster->Leader != NULL &&
         si->Cluster->ReplicasLen == NATSPROC_NODES - 1;
    for (int i = 0; ok && i < si->Cluster->ReplicasLen; i++)
        ok = si->Cluster->Replicas[i]->Current && !si->Cluster->Replicas[i]->Offline;
    if (ok)
        snprintf(leader, cap, "%s", si->Cluster->Leader);
    jsStreamInfo_Destroy(si);
    return ok;
}

static void wait_replicas_current(jsCtx *js, char *leader, size_t cap)
{
    int64_t deadline = mono_ms() + WAIT_MS;

    while (!replicas_current(js, leader, cap)) {
        REQUIRE(mono_ms() < deadline);
        sleep_ms(50);
    }
}

int main(int argc, char **argv)
{
    natsConnection *nc;
    jsCtx *js = NULL;
    jsOptions jo;
    jsStreamConfig sc;
    const char *subjects[] = {"harness.>"};
    char leader[32];
    natsMsg *m = NULL;
    bool dup = false;
    int refused = 0, victim;
    int64_t t, formed_ms, failover_ms, rejoin_ms;
    uint64_t held = 0, last = 0;

    if (argc != 3 || !natsproc_runnable(argv[1])) {
        fprintf(stderr, "nats-server cannot run here (%s): skipped\n", argc > 1 ? argv[1] : "");
        return 77;
    }
    tmpdir_make(dir, sizeof(dir), "cluster");

    /* The cluster forms. */
    t = mono_ms();
    REQUIRE(natsproc_start(&cluster, argv[1], argv[2], dir, NATSPROC_NODES, WAIT_MS) == 0);
    formed_ms = mono_ms() - t;
    nc = connect_all();
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    REQUIRE(natsConnection_JetStream(&js, nc, &jo) == NATS_OK);

    /* An R3 stream takes a publication, once per message id. */
    jsStreamConfig_Init(&sc);
    sc.Name = STREAM;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Replicas = NATSPROC_NODES;
    sc.Duplicates = 120LL * 1000000000LL;
    REQUIRE(js_AddStream(NULL, js, &sc, NULL, NULL) == NATS_OK);
    wait_replicas_current(js, leader, sizeof(leader));
    REQUIRE(publish(js, "m1", "one", &dup, &refused) == 1 && !dup);
    REQUIRE(publish(js, "m1", "one", &dup, &refused) == 1 && dup);

    /* kill -9 the stream's leader: the other two elect another and take the next one. */
    victim = natsproc_index(&cluster, leader);
    REQUIRE(victim >= 0);
    natsproc_kill(&cluster, (size_t)victim);
    t = mono_ms();
    refused = 0;
    REQUIRE(publish(js, "m2", "two", &dup, &refused) == 2);
    failover_ms = mono_ms() - t;
    REQUIRE(js_GetMsg(&m, js, STREAM, 1, NULL, NULL) == NATS_OK);
    REQUIRE(natsMsg_GetDataLength(m) == 3 && memcmp(natsMsg_GetData(m), "one", 3) == 0);
    natsMsg_Destroy(m);

    /* The killed node comes back, rejoins and holds both messages itself. */
    t = mono_ms();
    REQUIRE(natsproc_restart(&cluster, (size_t)victim) == 0);
    REQUIRE(natsproc_wait_node(&cluster, (size_t)victim, WAIT_MS) == 0);
    REQUIRE(natsproc_wait_ready(&cluster, WAIT_MS) == 0);
    wait_replicas_current(js, leader, sizeof(leader));
    while (natsproc_stream_state(&cluster, (size_t)victim, STREAM, &held, &last) != 0 ||
           held != 2 || last != 2) {
        REQUIRE(mono_ms() - t < WAIT_MS);
        sleep_ms(50);
    }
    rejoin_ms = mono_ms() - t;
    REQUIRE(publish(js, "m3", "three", &dup, &refused) == 3 && !dup);

    printf("cluster formed in %lld ms; after kill -9 of the leader (%s) the next publication was "
           "acknowledged in %lld ms (%d refused meanwhile); the node rejoined and caught up in "
           "%lld ms\n",
           (long long)formed_ms, cluster.node[victim].name, (long long)failover_ms, refused,
           (long long)rejoin_ms);

    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    natsproc_stop(&cluster, 10000);
    for (size_t i = 0; i < cluster.n; i++)
        REQUIRE(cluster.node[i].pid == 0);
    tmpdir_remove(dir);
    return 0;
}
