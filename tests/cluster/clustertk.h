/*
 * The relay-cluster test's kit: three nats-server processes and two relay
 * nodes on loopback (struct cluster), bursts of envelopes sent, answered
 * and received, and what JetStream holds, as its API reports it.
 */
#ifndef PARLEY_TEST_CLUSTERTK_H
#define PARLEY_TEST_CLUSTERTK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "natsproc.h"
#include "ordertk.h"

#define WAIT_MS    60000
#define BURST      200
#define SEALED_LEN sizeof(((struct burst *)0)->sealed[0])

/* nats-server and the configuration each node runs with (main sets them). */
extern const char *nats_bin, *nats_conf;

struct cluster {
    char dir[256];
    struct natsproc nats;
    char spec[160];
    struct relay_proc node[2];
    struct tk_brand brand; /* "acme", served by both nodes */
    natsConnection *nc;
    jsCtx *js;
};

struct burst {
    size_t n;
    uint8_t ids[BURST][16];
    uint8_t sealed[BURST][120];
    bool acked[BURST];
    uint8_t conv[16];
};

/*
 * Node i on the cluster's store, with this ttl, sender budget (sender-count envelopes over an
 * hour; NULL: no budget) and these settings more (NULL: none).
 */
void relay_node_args(struct cluster *c, size_t i, const char *ttl, const char *sender_count,
                     const char *const *more);

/* Node i with this ttl, max-db-bytes (NULL: the default) and sender budget (NULL: none). */
void relay_node_full(struct cluster *c, size_t i, const char *ttl, const char *max_db,
                     const char *sender_count);

void relay_node_with(struct cluster *c, size_t i, const char *ttl, const char *max_db);

void relay_node(struct cluster *c, size_t i, const char *ttl);

void cluster_start(struct cluster *c, const char *tag);

void cluster_end(struct cluster *c);

/* Messages of a stream on one subject, as JetStream reports them; -1 when it does not answer. */
int64_t subject_count(struct cluster *c, const char *stream, const char *prefix, const uint8_t *id,
                      size_t id_len);

/* Envelopes stored for a recipient. */
int64_t stored_for(struct cluster *c, const uint8_t recipient[32]);

void wait_stored(struct cluster *c, const uint8_t recipient[32], int64_t want, int ms,
                 const char *what);

void burst_make(struct burst *b, size_t n);

size_t burst_index(const struct burst *b, const uint8_t *id, size_t len);

/* Writes the envelopes of b not acknowledged yet, pipelined. */
void burst_send(wsc *w, const struct burst *b, const uint8_t to[32]);

/*
 * Reads acknowledgements (and UNAVAILABLE refusals) until `until` are
 * acknowledged or the connection ends; returns how many are.
 */
size_t burst_acks(wsc *w, struct burst *b, size_t until, int *refused);

/* Reads deliveries of b's envelopes into got (counts per envelope, order of arrival). */
size_t burst_receive(wsc *w, const struct burst *b, size_t want, unsigned *count, size_t *order,
                     int timeout_ms);

wsc *connect_as(struct cluster *c, size_t node, const parley_identity *id);

/* Reads an answer for each envelope of b not acknowledged yet; counts the QUOTA_FULL ones. */
size_t burst_answers(wsc *w, struct burst *b, size_t *quota_full);

/* A watcher of brand acme's directory on node, which holds none yet. */
wsc *watch_directory(struct cluster *c, size_t node, const parley_identity *id);

#endif
