/*
 * TTL expiry in the NATS JetStream store (docs/cluster.md §3.7): the
 * relay's sweep (STORE_EXPIRE, every expiry-interval) removes the
 * envelopes that arrived before its cutoff, as the sqlite store does, and
 * says which it removed (recipient, sender, bytes) so that the relay
 * writes the `expired` audit entry and counts them. The stream's max_age
 * stays as a backstop above the ttl, for when no relay runs.
 *
 * The envelope stream holds envelopes in the order they were stored, so
 * the sweep reads it from its start (next_by_subj over all recipients'
 * subjects: the leader skips deleted sequences itself) and stops at the
 * first envelope that is young enough; one that arrived earlier behind it
 * (another node's clock a little ahead) goes when that one does. A step
 * reads at most EXPIRE_STEP envelopes, so that a large backlog never holds
 * the worker for long: the op then says it has more to do (unit 1), and
 * the relay queues the next step at once, behind the sends that came
 * meanwhile.
 *
 * Several nodes sweep the same stream. Each counts only what its own
 * delete removed: a sequence deleted already (by another node's sweep, or
 * by a `delivered`) answers 10057 and is not counted, so no envelope is
 * counted twice across the cluster.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_nats.h"

#define WAIT_MS 2000
/* Envelopes read per step of a sweep, at most. */
#define EXPIRE_STEP 64

/* The recipient of an answer's message, from its subject "....pe.0.<hex>"; false if none. */
static bool answer_recipient(natsMsg *reply, uint8_t recipient[32])
{
    const char *json = natsMsg_GetData(reply), *v, *end;
    size_t n = 0;

    if (json == NULL || (v = strstr(json, "\"subject\":\"")) == NULL)
        return false;
    v += 11;
    if ((end = strchr(v, '"')) == NULL || end - v < 64)
        return false;
    return sodium_hex2bin(recipient, 32, end - 64, 64, NULL, &n, NULL) == 0 && n == 32;
}

/*
 * The stream's next message of any recipient after seq, from its leader:
 * 1 with its data (malloc'd), sequence and recipient, 0 when none, -1.
 */
static int next_any(struct nats_store *s, uint64_t after, uint8_t **msg, size_t *len,
                    uint64_t *at, uint8_t recipient[32], bool *has_recipient)
{
    char api[96], req[160], all[64];
    natsMsg *reply = NULL;
    int n, rc;

    snprintf(all, sizeof(all), "%s.*", s->env_prefix);
    n = nats_next_request(api, req, s->env_stream, all, after);
    if (natsConnection_Request(&reply, s->nc, api, req, n, WAIT_MS) != NATS_OK) {
        snprintf(s->failure, sizeof(s->failure), "expiry read: %s", nats_GetLastError(NULL));
        return -1;
    }
    rc = nats_next_answer(s, s->env_stream, reply, msg, len, at);
    *has_recipient = rc > 0 && answer_recipient(reply, recipient);
    natsMsg_Destroy(reply);
    return rc;
}

/* Deletes the envelope at seq if it arrived before the cutoff: 1 deleted or not, 0 young, -1. */
static int expire_one(struct nats_store *s, struct store_op *op, const uint8_t *msg, size_t len,
                      uint64_t seq, const uint8_t recipient[32])
{
    int rc;

    if (nats_get_be64(msg + 64) >= op->cutoff)
        return 0;
    rc = nats_delete_seq(s, s->env_stream, seq, false, "expire");
    if (rc <= 0)
        return rc < 0 ? -1 : 1; /* gone already: another node's sweep, or a `delivered` */
    return store_op_note_removed(op, recipient, len - NATS_ENV_HEAD, msg + 32) == 0 ? 1 : -1;
}

int nats_expire(struct nats_store *s, struct store_op *op)
{
    /* A new sweep starts from the stream's beginning; its next steps go on from the last. */
    uint64_t after = op->unit != 0 ? s->expire_after : 0;

    op->unit = 0;
    for (int i = 0; i < EXPIRE_STEP; i++) {
        uint8_t *msg = NULL, recipient[32];
        size_t len = 0;
        bool has_recipient = false;
        uint64_t at = 0;
        int rc = next_any(s, after, &msg, &len, &at, recipient, &has_recipient);

        if (rc <= 0)
            return rc; /* nothing more stored */
        /* Not an envelope of this relay's layout: left to the stream's max_age. */
        rc = len > NATS_ENV_HEAD && has_recipient ? expire_one(s, op, msg, len, at, recipient) : 1;
        free(msg);
        if (rc <= 0)
            return rc; /* the first young envelope ends the sweep */
        after = at;
    }
    s->expire_after = after;
    op->unit = 1;
    return 0;
}
