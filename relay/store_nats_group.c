/*
 * The envelope ops of a batch, pipelined (docs/cluster.md §8). A batch
 * the loop hands over under load holds, one after another, the sends of
 * many connections (INSERT), the reads of many recipients (FETCH) and
 * their `delivered` (DELETE). Run one by one, each costs a round trip
 * to the stream's leader; here a run of them costs a few:
 *
 * - every INSERT is published as it comes (store_nats_pub.c);
 * - then, once those are acknowledged (a read sees the writes queued
 *   before it), every FETCH asks for its recipient's next envelope and
 *   every DELETE of an envelope fetched here deletes it by sequence, all
 *   at once, with one reply subscription of the store's own (libnats's
 *   requests are synchronous); the FETCHes that found one and want more
 *   ask again, in rounds, until each has its window's worth or found
 *   nothing more.
 *
 * A run ends before an op of any other kind, and before a FETCH and a
 * DELETE of the same recipient would meet in it, so that what each op
 * sees is what running them in order would have shown. A DELETE of an
 * envelope not fetched here runs alone (it reads the subject first).
 * An answer that is an error, or none within WAIT_MS, fails the batch,
 * as a synchronous call's failure does.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_nats.h"

#define WAIT_MS 2000

/* libnats's thread: an answer of the current round, handed to its taker. */
static void on_answer(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    struct nats_replies *r = closure;
    const char *subj = natsMsg_GetSubject(msg);
    size_t n = strlen(r->prefix);
    unsigned long long round = 0, index = 0;

    (void)nc;
    (void)sub;
    if (subj != NULL && strncmp(subj, r->prefix, n) == 0 &&
        sscanf(subj + n, "%llu.%llu", &round, &index) == 2) {
        pthread_mutex_lock(&r->s->pub_lock);
        if (round == r->round && r->take(r->s, (size_t)index, msg)) {
            msg = NULL;
            pthread_cond_broadcast(&r->s->pub_cond);
        }
        pthread_mutex_unlock(&r->s->pub_lock);
    }
    natsMsg_Destroy(msg); /* late (a round given up) or not ours */
}

int nats_replies_init(struct nats_store *s, struct nats_replies *r,
                      bool (*take)(struct nats_store *s, size_t index, natsMsg *msg))
{
    natsInbox *inbox = NULL;
    char all[96];

    r->s = s;
    r->take = take;
    if (natsInbox_Create(&inbox) != NATS_OK)
        return -1;
    snprintf(r->prefix, sizeof(r->prefix), "%s.", (const char *)inbox);
    natsInbox_Destroy(inbox);
    snprintf(all, sizeof(all), "%s*.*", r->prefix);
    if (natsConnection_Subscribe(&r->sub, s->nc, all, on_answer, r) != NATS_OK)
        return -1;
    natsSubscription_SetPendingLimits(r->sub, -1, -1);
    return 0;
}

/* Under pub_lock: a read's or a delete's answer of the current round. */
static bool take_reply(struct nats_store *s, size_t index, natsMsg *msg)
{
    if (index >= s->n_reqs || s->reqs[index].reply != NULL)
        return false;
    s->reqs[index].reply = msg;
    s->n_answered++;
    return true;
}

int nats_group_init(struct nats_store *s)
{
    return nats_replies_init(s, &s->req, take_reply);
}

/* Sends the round's requests: a FETCH's next envelope, a DELETE by sequence. 0 or -1. */
static int send_round(struct nats_store *s, uint64_t round)
{
    for (size_t i = 0; i < s->n_reqs; i++) {
        struct nats_req *q = &s->reqs[i];
        char api[96], req[160], reply[128], subject[128];
        int n;

        if (q->op->kind == STORE_FETCH) {
            nats_env_subject(s, q->op->env.recipient, subject);
            n = nats_next_request(api, req, s->env_stream, subject, q->after);
        } else {
            snprintf(api, sizeof(api), "$JS.API.STREAM.MSG.DELETE.%s", s->env_stream);
            n = snprintf(req, sizeof(req), "{\"seq\":%" PRIu64 ",\"no_erase\":true}", q->seq);
        }
        snprintf(reply, sizeof(reply), "%s%" PRIu64 ".%zu", s->req.prefix, round, i);
        if (natsConnection_PublishRequest(s->nc, api, reply, req, n) != NATS_OK) {
            snprintf(s->failure, sizeof(s->failure), "%s: %s",
                     q->op->kind == STORE_FETCH ? "read" : "delete", nats_GetLastError(NULL));
            return -1;
        }
    }
    return 0;
}

/* Sends a round and waits for all its answers (in s->reqs[].reply). 0 or -1. */
static int round_trip(struct nats_store *s)
{
    struct timespec until;
    uint64_t round;
    int rc = 0;

    pthread_mutex_lock(&s->pub_lock);
    round = ++s->req.round;
    s->n_answered = 0;
    pthread_mutex_unlock(&s->pub_lock);
    if (send_round(s, round) != 0)
        return -1;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&s->pub_lock);
    while (s->n_answered < s->n_reqs && rc == 0)
        rc = pthread_cond_timedwait(&s->pub_cond, &s->pub_lock, &until);
    if (s->n_answered < s->n_reqs) {
        s->req.round++; /* answers still on their way are dropped */
        snprintf(s->failure, sizeof(s->failure), "read or delete: no answer within %d ms",
                 WAIT_MS);
        rc = -1;
    } else {
        s->req.round++; /* all in: the worker takes them without the lock */
        rc = 0;
    }
    pthread_mutex_unlock(&s->pub_lock);
    return rc;
}

/* A DELETE's answer: deleted, or gone already (10057, 10037); -1 for any other. */
static int delete_answer(struct nats_store *s, struct nats_req *q)
{
    int rc = nats_delete_answer(s, q->reply, "delete");

    if (rc > 0)
        return store_op_note_removed(q->op, q->op->env.recipient, q->bytes, q->sender);
    return rc < 0 ? -1 : 0;
}

/* Takes the round's answers in; keeps the FETCHes that want more. 0 or -1. */
static int take_answers(struct nats_store *s)
{
    size_t keep = 0;
    int rc = 0;

    for (size_t i = 0; i < s->n_reqs; i++) {
        struct nats_req *q = &s->reqs[i];
        bool more = false;

        if (rc == 0 && q->op->kind == STORE_DELETE) {
            rc = delete_answer(s, q);
        } else if (rc == 0) {
            uint8_t *msg = NULL;
            size_t len = 0;
            int found = nats_next_answer(s, s->env_stream, q->reply, &msg, &len, &q->after);

            if (found < 0 || (found > 0 && nats_fetch_keep(s, q->op, msg, len, q->after) != 0))
                rc = -1;
            more = found > 0 && nats_fetch_wants(q->op);
        }
        natsMsg_Destroy(q->reply);
        q->reply = NULL;
        if (more)
            s->reqs[keep++] = *q;
    }
    pthread_mutex_lock(&s->pub_lock);
    s->n_reqs = rc == 0 ? keep : 0;
    pthread_mutex_unlock(&s->pub_lock);
    return rc;
}

/* Whether op, joining the run, would meet an op of the other kind for its recipient. */
static bool meets(const struct nats_store *s, const struct store_op *op)
{
    for (size_t i = 0; i < s->n_reqs; i++)
        if (s->reqs[i].op->kind != op->kind &&
            memcmp(s->reqs[i].op->env.recipient, op->env.recipient, 32) == 0)
            return true;
    return false;
}

/* Worker: adds a FETCH, or a DELETE of an envelope fetched here, to the run; false if not. */
static bool join(struct nats_store *s, struct store_op *op)
{
    struct nats_req q = {op, 0, 0, 0, {0}, NULL};

    if (op->kind == STORE_FETCH)
        q.after = op->cutoff;
    else if (!nats_seq_take(s, op, &q.seq, &q.bytes, q.sender))
        return false;
    pthread_mutex_lock(&s->pub_lock);
    s->reqs[s->n_reqs++] = q;
    pthread_mutex_unlock(&s->pub_lock);
    return true;
}

size_t nats_run_group(struct nats_store *s, struct store_op *ops, size_t n, bool *ok)
{
    size_t i = 0;

    for (; i < n && *ok && s->n_reqs < NATS_REQ_MAX; i++) {
        struct store_op *op = &ops[i];

        if (op->kind == STORE_INSERT) {
            *ok = nats_run_op(s, op) == 0;
            continue;
        }
        if ((op->kind != STORE_FETCH && op->kind != STORE_DELETE) || meets(s, op))
            break;
        if (!join(s, op))
            *ok = nats_run_op(s, op) == 0;
    }
    if (*ok && nats_pub_settle(s, NULL) != 0)
        *ok = false;
    while (*ok && s->n_reqs > 0)
        *ok = round_trip(s) == 0 && take_answers(s) == 0;
    pthread_mutex_lock(&s->pub_lock);
    for (size_t k = 0; k < s->n_reqs; k++)
        natsMsg_Destroy(s->reqs[k].reply);
    s->n_reqs = 0;
    s->req.round++;
    pthread_mutex_unlock(&s->pub_lock);
    return i;
}
