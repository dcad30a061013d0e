/*
 * Customers' erasure requests: everything the relay holds to or from the
 * customer, and in the conversations it names, is deleted.
 *
 * An erasure can touch many thousands of envelopes, so it never runs as
 * one transaction that everyone else's commits would wait behind. Each
 * request becomes a job; a job advances one bounded step (at most
 * ERASE_STEP_ROWS envelopes deleted, ERASE_STEP_IDS conversations looked
 * up, through indexes) per batch the writer commits, beside whatever else
 * that batch holds, and jobs take turns. A customer has at most one job at
 * a time, and the relay at most MAX_ERASURES.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "custody.h"
#include "log.h"
#include "session_impl.h"

#define ERASE_STEP_ROWS 32u
#define ERASE_STEP_IDS 64u
#define MAX_ERASURE_IDS   4096u
#define MAX_ERASURES      64u
#define MAX_STEP_FAILURES 5u

struct erasure {
    struct erasure *next;
    uint8_t customer[32]; /* routing id */
    uint8_t *convs;       /* conversation ids, 16 bytes each */
    size_t n_convs;
    size_t slice;    /* first conversation of the step to come */
    uint32_t unit;   /* where in it (the store's numbering: 0 to, 1 from, 2 + i) */
    uint64_t cutoff; /* the last envelope received before the request */
    uint32_t deleted;
    uint64_t freed;
    uint32_t failures; /* store failures in a row */
    uint64_t started_ms;
    bool ordered; /* a brand order's: no customer connection asked, none is told */
};

static struct erasure *find_job(struct relay *r, const uint8_t customer[32])
{
    for (struct erasure *j = r->erasures; j != NULL; j = j->next)
        if (memcmp(j->customer, customer, 32) == 0)
            return j;
    return NULL;
}

static void refuse(struct relay *r, struct conn *c, enum reject_reason why,
                   Parley__Error__Code code, const char *message)
{
    metrics_reject(&r->metrics, why);
    session_send_error(r, c, code, message, NULL);
}

/*
 * Decodes and checks a request: signed by the key this connection
 * authenticated (only the customer itself may ask), naming only
 * conversations bound to that key: nobody else's conversation can be
 * named, even by someone who learnt its id (an agent, a former agent),
 * since only the customer holds the salts. Returns its conversation ids
 * (malloc'd, 16 bytes each, NULL when none) in *convs, or false after
 * refusing it.
 */
static bool request_check(struct relay *r, struct conn *c, const Parley__ErasureRequest *er,
                          uint8_t **convs, size_t *n_convs)
{
    parley_err err;

    *convs = NULL;
    *n_convs = 0;
    if (c->agent) {
        refuse(r, c, REJECT_not_allowed, PARLEY__ERROR__CODE__NOT_ALLOWED,
               "erasure request refused");
        return false;
    }
    err = parley__erasure_request_check(er, c->sign_pk, MAX_ERASURE_IDS, convs, n_convs);
    if (err == PARLEY_EUNBOUND)
        refuse(r, c, REJECT_unbound, PARLEY__ERROR__CODE__UNBOUND,
               "a conversation id is not bound to your key");
    else if (err == PARLEY_ENOMEM)
        refuse(r, c, REJECT_unavailable, PARLEY__ERROR__CODE__UNAVAILABLE, "out of memory");
    else if (err != PARLEY_OK)
        refuse(r, c, REJECT_bad_signature, PARLEY__ERROR__CODE__BAD_SIGNATURE,
               "erasure request refused");
    return err == PARLEY_OK;
}

/* Whether a job for customer (routing id) runs already, or no more may start now. */
static bool erasure_busy(const struct relay *r, const uint8_t customer[32])
{
    return find_job((struct relay *)r, customer) != NULL || r->n_erasures >= MAX_ERASURES;
}

/* A new job for customer's envelopes and those of convs (taken over; NULL when none). */
static bool job_start(struct relay *r, const uint8_t customer[32], uint8_t *convs, size_t n_convs,
                      bool ordered)
{
    struct erasure *j = calloc(1, sizeof(*j)), **tail;

    if (j == NULL) {
        free(convs);
        return false;
    }
    memcpy(j->customer, customer, 32);
    j->convs = convs;
    j->n_convs = n_convs;
    j->cutoff = r->assigned_seq;
    j->started_ms = relay_now_ms();
    j->ordered = ordered;
    for (tail = &r->erasures; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = j;
    r->n_erasures++;
    return true;
}

bool erasure_order(struct relay *r, const uint8_t customer[32])
{
    if (!job_start(r, customer, NULL, 0, true))
        return false;
    log_event(LOG_INFO, "erasure_started", "\"order\":true,\"conversations\":0");
    return true;
}

/*
 * A customer's erasure request: everything the relay holds to or from
 * that customer, up to now, is deleted (what it sends afterwards, such as
 * the notices telling its agents, is not).
 */
void erasure_on_request(struct relay *r, struct conn *c, const Parley__ErasureRequest *er)
{
    uint8_t *convs;
    size_t n_convs;

    if (!request_check(r, c, er, &convs, &n_convs))
        return;
    if (erasure_busy(r, c->routing)) {
        free(convs);
        refuse(r, c, REJECT_rate_limited, PARLEY__ERROR__CODE__RATE_LIMITED,
               r->n_erasures >= MAX_ERASURES ? "too many erasures in progress, retry later"
                                             : "your erasure is in progress");
        return;
    }
    if (!job_start(r, c->routing, convs, n_convs, false)) {
        refuse(r, c, REJECT_unavailable, PARLEY__ERROR__CODE__UNAVAILABLE, "out of memory");
        return;
    }
    log_event(LOG_INFO, "erasure_started", "\"conn\":\"%s\",\"conversations\":%zu", c->pseudonym,
              n_convs);
}

/* Before a batch goes to the writer: the next step of the job whose turn it is. */
void erasure_schedule(struct relay *r)
{
    struct erasure *j = r->erasures;
    struct store_op *op;
    size_t n;

    if (j == NULL || r->erase_in_flight || r->stopping)
        return;
    n = j->n_convs - j->slice < ERASE_STEP_IDS ? j->n_convs - j->slice : ERASE_STEP_IDS;
    op = store_batch_add(&r->pending, STORE_ERASE_STEP);
    if (op == NULL)
        return;
    if (n > 0 && (op->blob = malloc(16 * n)) == NULL) {
        store_batch_drop_last(&r->pending); /* tried again next time */
        return;
    }
    if (n > 0)
        memcpy(op->blob, j->convs + 16 * j->slice, 16 * n);
    op->blob_len = 16 * n;
    memcpy(op->env.recipient, j->customer, 32);
    op->cutoff = j->cutoff;
    op->unit = j->unit;
    op->limit = ERASE_STEP_ROWS;
    op->checkpoint = j->slice + n == j->n_convs;
    op->done_count = j->deleted; /* the step that ends the job records the whole of it */
    op->done_bytes = j->freed;
    r->erase_in_flight = true;
}

/* The job is over: the customer is told on its connection, if it has one now. */
static void finish(struct relay *r, struct erasure *j, bool ok)
{
    struct conn *c = j->ordered ? NULL : session_online(r, j->customer);

    if (c != NULL && (!c->authed || c->closing))
        c = NULL;
    /* Its audit entry was committed with its last step (audit_store.c). */
    if (c != NULL && ok) {
        Parley__Frame f = PARLEY__FRAME__INIT;
        Parley__Erased e = PARLEY__ERASED__INIT;
        e.envelopes = j->deleted;
        f.kind_case = PARLEY__FRAME__KIND_ERASED;
        f.erased = &e;
        session_send_frame(r, c, &f);
    } else if (!ok) {
        session_store_refused(r, c, NULL);
    }
    log_event(LOG_INFO, "erased", "\"conn\":\"%s\",\"envelopes\":%u,\"ms\":%llu,\"ok\":%s",
              c != NULL ? c->pseudonym : "-", j->deleted,
              (unsigned long long)(relay_now_ms() - j->started_ms), ok ? "true" : "false");
    free(j->convs);
    free(j);
}

void erasure_done(struct relay *r, struct store_op *op)
{
    struct erasure *j = r->erasures, **tail;
    size_t n = op->blob_len / 16;

    r->erase_in_flight = false;
    if (j == NULL)
        return;
    quota_removed(r, op);
    r->erasures = j->next;
    j->next = NULL;
    if (!op->ok) {
        if (++j->failures >= MAX_STEP_FAILURES) {
            r->n_erasures--;
            finish(r, j, false);
            return;
        }
    } else {
        j->failures = 0;
        j->deleted += op->deleted;
        j->freed += op->freed;
        if (op->unit >= 2 + n) {
            j->slice += n;
            j->unit = 2; /* to and from the customer: done with the first step */
        } else {
            j->unit = op->unit;
        }
        if (j->slice >= j->n_convs && j->unit >= 2 && op->unit >= 2 + n) {
            r->n_erasures--;
            finish(r, j, true);
            return;
        }
    }
    /* Not done: its next step comes after the other jobs' (turns). */
    for (tail = &r->erasures; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = j;
}

void erasure_free(struct relay *r)
{
    while (r->erasures != NULL) {
        struct erasure *j = r->erasures;
        r->erasures = j->next;
        free(j->convs);
        free(j);
    }
    r->n_erasures = 0;
}
