/*
 * A NATS JetStream cluster under test: three nats-server processes on
 * loopback, one config file (nats-node.conf) filled in through the
 * environment, ports picked free at start and kept across restarts, each
 * node's store and log in the test's temporary directory.
 *
 * Readiness is read from each node's monitoring port: /healthz answers
 * 200 once the node's JetStream is current with the meta leader and its
 * streams, and /jsz names the meta leader as that node sees it.
 *
 * Every process is a child of the test with PR_SET_PDEATHSIG, so a test
 * killed by meson's timeout leaves no server behind.
 */
#ifndef PARLEY_TEST_NATSPROC_H
#define PARLEY_TEST_NATSPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NATSPROC_NODES 3

struct natsproc_node {
    pid_t pid;                    /* 0 when not running */
    char name[8];                 /* n1, n2, n3 */
    uint16_t port, cluster_port, http_port;
    char store[300];
    char log[300];
};

struct natsproc {
    const char *bin;              /* nats-server */
    const char *conf;             /* nats-node.conf */
    char dir[256];                /* the test's temporary directory */
    size_t n;
    struct natsproc_node node[NATSPROC_NODES];
    char urls[NATSPROC_NODES][32];/* nats://127.0.0.1:PORT of each node */
};

/*
 * Whether bin can run here at all (it exists, is executable and answers
 * --version). A test skips (exit 77) only when this is false.
 */
bool natsproc_runnable(const char *bin);

/*
 * Starts n nodes (at most NATSPROC_NODES) of conf with bin under dir and
 * waits up to timeout_ms for the cluster: every node healthy and agreeing
 * on a meta leader. Tries again with other ports if one was taken in the
 * meantime. 0, or -1 with the servers stopped and their logs shown.
 */
int natsproc_start(struct natsproc *c, const char *bin, const char *conf, const char *dir,
                   size_t n, int timeout_ms);

/* Waits until every running node is healthy and all name the same meta leader. 0 or -1. */
int natsproc_wait_ready(struct natsproc *c, int timeout_ms);

/* Waits until node i answers /healthz with 200. 0 or -1. */
int natsproc_wait_node(struct natsproc *c, size_t i, int timeout_ms);

/* The meta leader's name as node i sees it, into out (cap); 0, or -1 when it knows none. */
int natsproc_meta_leader(struct natsproc *c, size_t i, char *out, size_t cap);

/* Index of the node with this server name, or -1. */
int natsproc_index(const struct natsproc *c, const char *name);

/* kill -9 node i and reap it. No-op if it is not running. */
void natsproc_kill(struct natsproc *c, size_t i);

/* Starts node i again on the same ports and store (not waiting). 0 or -1. */
int natsproc_restart(struct natsproc *c, size_t i);

/*
 * Node i's own copy of a stream, from its /jsz: messages held and last
 * sequence. 0, or -1 when the node does not report that stream.
 */
int natsproc_stream_state(struct natsproc *c, size_t i, const char *stream, uint64_t *messages,
                          uint64_t *last_seq);

/* SIGTERM to every node, SIGKILL after timeout_ms; reaps them all. */
void natsproc_stop(struct natsproc *c, int timeout_ms);

/* Prints the last lines of every node's log to stderr (after a failure). */
void natsproc_show_logs(const struct natsproc *c);

#endif
