/*
 * Envelopes published to JetStream without waiting for each one's
 * acknowledgement (docs/cluster.md §8): the worker publishes every
 * INSERT of a batch at once (js_PublishMsgAsync) and collects the
 * PubAcks as they come, so a batch of n envelopes costs about one round
 * trip to the stream's leader instead of n.
 *
 * What does not change: an op's result is what JetStream answered for
 * its envelope (stored, a duplicate of a stored one, or refused at the
 * recipient's limit), and the batch completes, so senders are
 * acknowledged, only once every envelope it published is answered. An
 * answer that is an error, or none within WAIT_MS, fails the batch: its
 * senders get UNAVAILABLE and resend, and the envelope id (Nats-Msg-Id)
 * stores once what was stored after all.
 *
 * At most NATS_PUB_MAX envelopes are in flight: the worker waits for
 * answers before it publishes more. The acknowledgement handler runs on
 * a libnats thread; it only fills in the op and the slot, under
 * pub_lock, and wakes the worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_nats.h"

#define WAIT_MS 2000
#define ERR_PER_SUBJECT_FULL 10077

static uint64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static struct nats_pub *slot_of(struct nats_store *s, const natsMsg *msg)
{
    for (size_t i = 0; i < NATS_PUB_MAX; i++)
        if (s->pubs[i].op != NULL && s->pubs[i].msg == msg)
            return &s->pubs[i];
    return NULL;
}

/* libnats's thread: the answer for one envelope (pa: stored; pae: refused or failed). */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    struct nats_store *s = closure;
    struct nats_pub *p;

    (void)js;
    pthread_mutex_lock(&s->pub_lock);
    /* None when the batch gave up on it meanwhile (its senders were told UNAVAILABLE). */
    if ((p = slot_of(s, msg)) != NULL && p->state == NATS_PUB_SENT) {
        if (pa != NULL) {
            p->op->inserted = !pa->Duplicate;
            p->stream_seq = pa->Sequence;
            p->state = NATS_PUB_DONE;
        } else if (pae != NULL && pae->ErrCode == ERR_PER_SUBJECT_FULL) {
            p->op->refused = true; /* the recipient's queue is full, whichever node filled it */
            p->state = NATS_PUB_DONE;
        } else {
            p->state = NATS_PUB_FAILED;
            if (s->pub_failure[0] == '\0')
                snprintf(s->pub_failure, sizeof(s->pub_failure), "store envelope: %s",
                         pae != NULL && pae->ErrText != NULL ? pae->ErrText : "no answer");
        }
        p->msg = NULL;
        pthread_cond_broadcast(&s->pub_cond);
    }
    pthread_mutex_unlock(&s->pub_lock);
    natsMsg_Destroy(msg);
}

int nats_pub_init(struct nats_store *s)
{
    jsOptions o;

    pthread_mutex_init(&s->pub_lock, NULL);
    pthread_cond_init(&s->pub_cond, NULL);
    s->pub_ready = true;
    jsOptions_Init(&o);
    o.PublishAsync.AckHandler = on_ack;
    o.PublishAsync.AckHandlerClosure = s;
    /* The library's own bound, never reached: the worker keeps to NATS_PUB_MAX. */
    o.PublishAsync.MaxPending = 2 * NATS_PUB_MAX;
    return natsConnection_JetStream(&s->js_pub, s->nc, &o) == NATS_OK ? 0 : -1;
}

/* Worker, under pub_lock: a finished slot's result kept, and the slot freed. */
static bool harvest(struct nats_store *s, struct nats_pub *p)
{
    bool failed = p->state == NATS_PUB_FAILED;

    if (p->state == NATS_PUB_DONE && p->op->inserted) {
        s->inserted[s->n_inserted % NATS_SEQ_CACHE].relay = p->op->env.seq;
        s->inserted[s->n_inserted++ % NATS_SEQ_CACHE].stream = p->stream_seq;
    }
    p->op = NULL;
    p->msg = NULL;
    p->state = NATS_PUB_FREE;
    s->n_pubs--;
    return !failed;
}

/* Worker, under pub_lock: what is answered is taken in; false when a publication failed. */
static bool harvest_all(struct nats_store *s)
{
    bool ok = true;

    for (size_t i = 0; i < NATS_PUB_MAX; i++)
        if (s->pubs[i].op != NULL && s->pubs[i].state != NATS_PUB_SENT)
            ok = harvest(s, &s->pubs[i]) && ok;
    return ok;
}

/*
 * Worker, under pub_lock: the library forgets what is still in flight
 * (a late answer finds no slot) and every slot is freed. The envelopes
 * may be stored all the same; their senders resend. The lock is let go
 * around the library's call, which takes the context's own lock (held
 * by libnats's thread on its way to on_ack).
 */
static void abandon(struct nats_store *s)
{
    natsMsgList pending = {NULL, 0};

    /* libnats 3.4.1 asks for the list only once a publication went through (it has none before). */
    if (s->pub_used) {
        pthread_mutex_unlock(&s->pub_lock);
        if (js_PublishAsyncGetPendingList(&pending, s->js_pub) == NATS_OK)
            natsMsgList_Destroy(&pending);
        pthread_mutex_lock(&s->pub_lock);
    }
    for (size_t i = 0; i < NATS_PUB_MAX; i++)
        if (s->pubs[i].op != NULL) {
            /* Sent and not answered: the stream may hold it (the quota ledger keeps it). */
            s->pubs[i].op->unanswered = s->pubs[i].state == NATS_PUB_SENT;
            s->pubs[i].state = NATS_PUB_FAILED;
            harvest(s, &s->pubs[i]);
        }
    s->pub_failure[0] = '\0';
}

/* Worker, under pub_lock: whether to wait on (room: for a free slot; else for recipient's
 * publications, or all of them when recipient is NULL), after taking in what was answered. */
static bool still_waiting(const struct nats_store *s, const uint8_t *recipient, bool room)
{
    if (room)
        return s->n_pubs >= NATS_PUB_MAX;
    for (size_t i = 0; i < NATS_PUB_MAX; i++) {
        const struct nats_pub *p = &s->pubs[i];

        if (p->op != NULL && p->state == NATS_PUB_SENT &&
            (recipient == NULL || memcmp(p->op->env.recipient, recipient, 32) == 0))
            return true;
    }
    return false;
}

/* Worker, under pub_lock: waits as still_waiting says, WAIT_MS at most for any answer. */
static bool wait_answers(struct nats_store *s, const uint8_t *recipient, bool room)
{
    for (;;) {
        uint64_t oldest = UINT64_MAX, now, left;
        struct timespec until;

        if (!harvest_all(s))
            return false;
        if (!still_waiting(s, recipient, room))
            return true;
        for (size_t i = 0; i < NATS_PUB_MAX; i++)
            if (s->pubs[i].op != NULL && s->pubs[i].state == NATS_PUB_SENT &&
                s->pubs[i].sent_ms < oldest)
                oldest = s->pubs[i].sent_ms;
        now = now_ms();
        if (oldest == UINT64_MAX || now >= oldest + WAIT_MS) {
            snprintf(s->pub_failure, sizeof(s->pub_failure),
                     "store envelope: no acknowledgement within %d ms", WAIT_MS);
            return false;
        }
        left = oldest + WAIT_MS - now;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(left / 1000);
        until.tv_nsec += (long)(left % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->pub_cond, &s->pub_lock, &until);
    }
}

/* Worker, under pub_lock (released): the failure recorded becomes the batch's; -1. */
static int failed(struct nats_store *s)
{
    snprintf(s->failure, sizeof(s->failure), "%s",
             s->pub_failure[0] != '\0' ? s->pub_failure : "store envelope: failed");
    abandon(s);
    pthread_mutex_unlock(&s->pub_lock);
    return -1;
}

int nats_pub_send(struct nats_store *s, struct store_op *op, natsMsg *msg, jsPubOptions *po)
{
    struct nats_pub *p = NULL;
    natsStatus st;

    pthread_mutex_lock(&s->pub_lock);
    if (!wait_answers(s, NULL, true)) {
        natsMsg_Destroy(msg);
        return failed(s);
    }
    for (size_t i = 0; i < NATS_PUB_MAX && p == NULL; i++)
        if (s->pubs[i].op == NULL)
            p = &s->pubs[i];
    /* Registered before it is sent: the answer may come before the call returns. */
    p->op = op;
    p->msg = msg;
    p->state = NATS_PUB_SENT;
    p->sent_ms = now_ms();
    s->n_pubs++;
    pthread_mutex_unlock(&s->pub_lock);
    st = js_PublishMsgAsync(s->js_pub, &msg, po);
    if (st != NATS_OK) {
        /* Not sent (not connected): no answer will come, and the message is still ours. */
        pthread_mutex_lock(&s->pub_lock);
        snprintf(s->pub_failure, sizeof(s->pub_failure), "store envelope: %s",
                 nats_GetLastError(NULL));
        natsMsg_Destroy(msg);
        return failed(s);
    }
    s->pub_used = true;
    return 0;
}

int nats_pub_settle(struct nats_store *s, const uint8_t *recipient)
{
    pthread_mutex_lock(&s->pub_lock);
    if (s->n_pubs > 0 && !wait_answers(s, recipient, false))
        return failed(s);
    pthread_mutex_unlock(&s->pub_lock);
    return 0;
}

void nats_pub_abandon(struct nats_store *s)
{
    pthread_mutex_lock(&s->pub_lock);
    abandon(s);
    pthread_mutex_unlock(&s->pub_lock);
}

void nats_pub_free(struct nats_store *s)
{
    if (!s->pub_ready)
        return;
    pthread_mutex_destroy(&s->pub_lock);
    pthread_cond_destroy(&s->pub_cond);
}
