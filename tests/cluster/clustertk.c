/* The relay-cluster test's kit (clustertk.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <sodium.h>

#include "clustertk.h"

const char *nats_bin, *nats_conf;

/*
 * Node i on the cluster's store, with this ttl, sender budget (sender-count envelopes over an
 * hour; NULL: no budget) and these settings more (NULL: none).
 */
void relay_node_args(struct cluster *c, size_t i, const char *ttl, const char *sender_count,
                     const char *const *more)
{
    char audit[320];
    const char *args[32] = {"--store",
                            c->spec,
                            "--audit-log",
                            audit,
                            "--rate",
                            "100000",
                            "--burst",
                            "100000",
                            "--sender-count",
                            "0",
                            "--sender-bytes",
                            "0",
                            "--ttl",
                            ttl,
                            "--brand",
                            c->brand.pin_path,
                            "--expiry-interval",
                            "1"};
    size_t n = 18;

    for (size_t k = 0; more != NULL && more[k] != NULL && n + 1 < 32; k++)
        args[n++] = more[k];
    if (sender_count != NULL)
        args[9] = sender_count;
    snprintf(audit, sizeof(audit), "%s/node%zu.audit", c->dir, i);
    CHECKM(relay_start(&c->node[i], tk_relay_bin, c->dir, args) == 0, "relay node %zu", i);
}

/* Node i with this ttl, max-db-bytes (NULL: the default) and sender budget (NULL: none). */
void relay_node_full(struct cluster *c, size_t i, const char *ttl, const char *max_db,
                     const char *sender_count)
{
    const char *more[] = {"--max-db-bytes", max_db, NULL};

    relay_node_args(c, i, ttl, sender_count, max_db != NULL ? more : NULL);
}

void relay_node_with(struct cluster *c, size_t i, const char *ttl, const char *max_db)
{
    relay_node_full(c, i, ttl, max_db, NULL);
}

void relay_node(struct cluster *c, size_t i, const char *ttl)
{
    relay_node_with(c, i, ttl, NULL);
}

void cluster_start(struct cluster *c, const char *tag)
{
    const char *urls[NATSPROC_NODES];
    int n;

    memset(c, 0, sizeof(*c));
    tmpdir_make(c->dir, sizeof(c->dir), tag);
    tk_brand_make(&c->brand, "acme", c->dir);
    CHECKM(natsproc_start(&c->nats, nats_bin, nats_conf, c->dir, NATSPROC_NODES, WAIT_MS) == 0,
           "the NATS cluster did not form");
    n = snprintf(c->spec, sizeof(c->spec), "nats://");
    for (size_t i = 0; i < c->nats.n; i++)
        n += snprintf(c->spec + n, sizeof(c->spec) - (size_t)n, "%s%s", i ? "," : "",
                      c->nats.urls[i] + 7);
    for (size_t i = 0; i < c->nats.n; i++)
        urls[i] = c->nats.urls[i];
    {
        natsOptions *o = NULL;
        CHECK(natsOptions_Create(&o) == NATS_OK);
        CHECK(natsOptions_SetServers(o, urls, (int)c->nats.n) == NATS_OK);
        CHECK(natsOptions_SetMaxReconnect(o, -1) == NATS_OK);
        CHECK(natsOptions_SetReconnectWait(o, 100) == NATS_OK);
        CHECK(natsConnection_Connect(&c->nc, o) == NATS_OK);
        natsOptions_Destroy(o);
        CHECK(natsConnection_JetStream(&c->js, c->nc, NULL) == NATS_OK);
    }
    relay_node(c, 0, "2592000");
    relay_node(c, 1, "2592000");
}

void cluster_end(struct cluster *c)
{
    for (size_t i = 0; i < 2; i++)
        if (c->node[i].pid != 0) {
            int status = relay_stop(&c->node[i], 15000);
            CHECKM(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                   "relay node %zu did not exit 0 on SIGTERM (wait status %d)", i, status);
        }
    jsCtx_Destroy(c->js);
    natsConnection_Destroy(c->nc);
    natsproc_stop(&c->nats, 10000);
    tk_brand_free(&c->brand);
    tmpdir_remove(c->dir);
}

/* Messages of a stream on one subject, as JetStream reports them; -1 when it does not answer. */
int64_t subject_count(struct cluster *c, const char *stream, const char *prefix, const uint8_t *id,
                      size_t id_len)
{
    char subject[80], hex[65];
    jsStreamInfo *si = NULL;
    jsOptions o;
    int64_t n = 0;

    sodium_bin2hex(hex, sizeof(hex), id, id_len);
    snprintf(subject, sizeof(subject), "%s.%s", prefix, hex);
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = subject;
    if (js_GetStreamInfo(&si, c->js, stream, &o, NULL) != NATS_OK)
        return -1;
    if (si->State.Subjects != NULL)
        for (int i = 0; i < si->State.Subjects->Count; i++)
            n += (int64_t)si->State.Subjects->List[i].Msgs;
    jsStreamInfo_Destroy(si);
    return n;
}

/* Envelopes stored for a recipient. */
int64_t stored_for(struct cluster *c, const uint8_t recipient[32])
{
    return subject_count(c, "PARLEY_ENV_0", "pe.0", recipient, 32);
}

void wait_stored(struct cluster *c, const uint8_t recipient[32], int64_t want, int ms,
                 const char *what)
{
    int64_t deadline = mono_ms() + ms, n;

    while ((n = stored_for(c, recipient)) != want) {
        CHECKM(mono_ms() < deadline, "%s: JetStream holds %lld envelopes, not %lld", what,
               (long long)n, (long long)want);
        sleep_ms(50);
    }
}

void burst_make(struct burst *b, size_t n)
{
    memset(b, 0, sizeof(*b));
    b->n = n;
    tk_random(b->conv, 16);
    for (size_t i = 0; i < n; i++) {
        tk_random(b->ids[i], 16);
        tk_random(b->sealed[i], sizeof(b->sealed[i]));
        memcpy(b->sealed[i], b->ids[i], 16);
    }
}

size_t burst_index(const struct burst *b, const uint8_t *id, size_t len)
{
    for (size_t i = 0; len == 16 && i < b->n; i++)
        if (memcmp(b->ids[i], id, 16) == 0)
            return i;
    return SIZE_MAX;
}

/* Writes the envelopes of b not acknowledged yet, pipelined. */
void burst_send(wsc *w, const struct burst *b, const uint8_t to[32])
{
    uint8_t *buf = NULL;
    size_t len = 0;

    for (size_t i = 0; i < b->n; i++) {
        uint8_t *msg = NULL;
        size_t mlen = 0;
        if (b->acked[i])
            continue;
        CHECK(pc_pack_envelope(b->ids[i], b->conv, to, b->sealed[i], sizeof(b->sealed[i]), &msg,
                               &mlen) == 0);
        CHECK(wsc_frame_append(&buf, &len, msg, mlen) == 0);
        free(msg);
    }
    if (len > 0)
        CHECK(wsc_send_raw(w, buf, len) == 0);
    free(buf);
}

/*
 * Reads acknowledgements (and UNAVAILABLE refusals) until `until` are
 * acknowledged or the connection ends; returns how many are.
 */
size_t burst_acks(wsc *w, struct burst *b, size_t until, int *refused)
{
    size_t acked = 0;

    for (size_t i = 0; i < b->n; i++)
        acked += b->acked[i];
    while (acked < until) {
        Parley__Frame *f = pc_recv(w, 10000);
        size_t k;

        if (f == NULL)
            break;
        if (f->kind_case == PARLEY__FRAME__KIND_ACK) {
            k = burst_index(b, f->ack->envelope_id.data, f->ack->envelope_id.len);
            CHECKM(k != SIZE_MAX, "an ack for an envelope not sent");
            acked += !b->acked[k];
            b->acked[k] = true;
        } else if (f->kind_case == PARLEY__FRAME__KIND_ERROR) {
            CHECKM(f->error->code == PARLEY__ERROR__CODE__UNAVAILABLE, "send refused with %s",
                   tk_error_name(f->error->code));
            (*refused)++;
        }
        parley__frame__free_unpacked(f, NULL);
    }
    return acked;
}

/* Reads deliveries of b's envelopes into got (counts per envelope, order of arrival). */
size_t burst_receive(wsc *w, const struct burst *b, size_t want, unsigned *count, size_t *order,
                     int timeout_ms)
{
    size_t n = 0;

    while (n < want) {
        Parley__Frame *f = pc_recv(w, timeout_ms);
        size_t k;

        if (f == NULL)
            break;
        CHECKM(f->kind_case == PARLEY__FRAME__KIND_DELIVER, "expected a delivery, got kind %d",
               (int)f->kind_case);
        k = burst_index(b, f->deliver->envelope_id.data, f->deliver->envelope_id.len);
        CHECKM(k != SIZE_MAX, "a delivery of an envelope never sent");
        CHECKM(f->deliver->sealed.len == sizeof(b->sealed[k]) &&
                   memcmp(f->deliver->sealed.data, b->sealed[k], sizeof(b->sealed[k])) == 0,
               "sealed bytes altered");
        CHECK(pc_send_delivered(w, (const uint8_t(*)[16])b->ids[k], 1) == 0);
        count[k]++;
        order[n++] = k;
        parley__frame__free_unpacked(f, NULL);
    }
    return n;
}

wsc *connect_as(struct cluster *c, size_t node, const parley_identity *id)
{
    wsc *w = pc_connect(c->node[node].port, id, NULL, 0);

    CHECKM(w != NULL, "cannot authenticate on node %zu", node);
    return w;
}

/* ------------------------------------------------------------------ */

/* Reads an answer for each envelope of b not acknowledged yet; counts the QUOTA_FULL ones. */
size_t burst_answers(wsc *w, struct burst *b, size_t *quota_full)
{
    size_t waiting = 0, acked = 0;

    *quota_full = 0;
    for (size_t i = 0; i < b->n; i++)
        waiting += !b->acked[i];
    while (waiting > 0) {
        Parley__Frame *f = pc_recv(w, 10000);
        const ProtobufCBinaryData *id;
        size_t k;

        CHECKM(f != NULL, "%zu sends unanswered", waiting);
        CHECKM(f->kind_case == PARLEY__FRAME__KIND_ACK ||
                   (f->kind_case == PARLEY__FRAME__KIND_ERROR &&
                    f->error->code == PARLEY__ERROR__CODE__QUOTA_FULL),
               "a send answered with kind %d (error %s)", (int)f->kind_case,
               f->kind_case == PARLEY__FRAME__KIND_ERROR ? tk_error_name(f->error->code) : "-");
        id =
            f->kind_case == PARLEY__FRAME__KIND_ACK ? &f->ack->envelope_id : &f->error->envelope_id;
        k = burst_index(b, id->data, id->len);
        CHECKM(k != SIZE_MAX, "an answer for an envelope not sent");
        if (f->kind_case == PARLEY__FRAME__KIND_ACK) {
            b->acked[k] = true;
            acked++;
        } else {
            (*quota_full)++;
        }
        waiting--;
        parley__frame__free_unpacked(f, NULL);
    }
    return acked;
}

/* What the envelopes of b stored are: 120 bytes each. */

wsc *watch_directory(struct cluster *c, size_t node, const parley_identity *id)
{
    wsc *w = connect_as(c, node, id);
    Parley__Frame *f;

    CHECK(pc_send_fetch(w, "acme") == 0);
    f = tk_expect_kind(w, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "fetch before publishing");
    CHECK(f->directory_result->directory == NULL);
    parley__frame__free_unpacked(f, NULL);
    return w;
}
