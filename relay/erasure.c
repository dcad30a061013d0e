/*
 * Customers' erasure requests: everything the relay holds to or from the
 * customer, and in the conversations it names, is deleted.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "log.h"
#include "session.h"

/*
 * A customer's erasure request: everything the relay holds to or from
 * that customer, up to now, is deleted (what it sends afterwards, such as
 * the notices telling its agents, is not). Only the customer itself may
 * ask: the request is signed by the key this connection authenticated.
 */
void erasure_on_request(struct relay *r, struct conn *c, const Parley__ErasureRequest *er)
{
    Parley__ErasureRequestBody *body;
    struct store_op *op;
    uint8_t *convs = NULL;
    size_t n_convs = 0;
    bool good;

    body = parley__erasure_request_body__unpack(NULL, er->body.len, er->body.data);
    good = body != NULL && parley__len_is(body->customer_sign_key, 32) &&
           sodium_memcmp(body->customer_sign_key.data, c->sign_pk, 32) == 0 &&
           body->n_conversation_ids <= 4096 &&
           parley__verify_pb(c->sign_pk, 32, PARLEY__DOMAIN_ERASURE, er->body, er->signature) ==
               PARLEY_OK;
    /* The customer's conversation ids (random, so only the customer knows them). */
    if (good && body->n_conversation_ids > 0 &&
        (convs = malloc(16 * body->n_conversation_ids)) != NULL)
        for (size_t i = 0; i < body->n_conversation_ids; i++)
            if (parley__len_is(body->conversation_ids[i], 16))
                memcpy(convs + 16 * n_convs++, body->conversation_ids[i].data, 16);
    if (body != NULL)
        parley__erasure_request_body__free_unpacked(body, NULL);
    if (!good || c->agent) {
        free(convs);
        metrics_reject(&r->metrics, c->agent ? REJECT_not_allowed : REJECT_bad_signature);
        session_send_error(
            r, c, c->agent ? PARLEY__ERROR__CODE__NOT_ALLOWED : PARLEY__ERROR__CODE__BAD_SIGNATURE,
            "erasure request refused", NULL);
        return;
    }
    op = store_batch_add(&r->pending, STORE_ERASE_ALL);
    if (op == NULL) {
        free(convs);
        return;
    }
    memcpy(op->env.recipient, c->routing, 32);
    op->blob = convs;
    op->blob_len = 16 * n_convs;
    op->cutoff = r->assigned_seq;
    op->conn_serial = c->serial;
    memcpy(op->reply_to, c->routing, 32);
}

void erasure_done(struct relay *r, struct store_op *op, struct conn *c)
{
    quota_removed(r, op);
    if (op->ok)
        audit_erased(r->audit, op->env.recipient, op->deleted, op->freed);
    if (c != NULL) {
        if (op->ok) {
            Parley__Frame f = PARLEY__FRAME__INIT;
            Parley__Erased e = PARLEY__ERASED__INIT;
            e.envelopes = op->deleted;
            f.kind_case = PARLEY__FRAME__KIND_ERASED;
            f.erased = &e;
            session_send_frame(r, c, &f);
        } else {
            session_send_error(r, c, PARLEY__ERROR__CODE__UNAVAILABLE, "store failed, retry", NULL);
        }
    }
    log_event(LOG_INFO, "erased", "\"conn\":\"%s\",\"envelopes\":%u",
              c != NULL ? c->pseudonym : "-", op->deleted);
}
