/*
 * The chain of custody of a conversation. Only the customer says which
 * agent holds its conversation: when it accepts an agent's claim it signs
 * an acknowledgement (conversation, customer, agent, a counter that only
 * grows) and sends it to that agent, who shows it to the next agent when
 * it hands the conversation over. An agent's client takes a handover only
 * from the agent the newest acknowledgement it has seen names, so no
 * colleague can take, reset or rewrite a conversation on its own word.
 */
#include <stdlib.h>
#include <string.h>

#include "custody.h"

bool parley__conversation_bound(const uint8_t customer_pk[32], ProtobufCBinaryData salt,
                                const uint8_t conversation_id[16])
{
    uint8_t id[PARLEY_CONVERSATION_ID_BYTES];

    if (!parley__len_is(salt, PARLEY_CONVERSATION_SALT_BYTES))
        return false;
    parley_conversation_id(customer_pk, salt.data, id);
    return sodium_memcmp(id, conversation_id, sizeof(id)) == 0;
}

/* Every id of body bound to customer_pk by the salt in the same place. */
static bool erasure_ids_bound(const Parley__ErasureRequestBody *body,
                              const uint8_t customer_pk[32])
{
    if (body->n_conversation_salts != body->n_conversation_ids)
        return false;
    for (size_t i = 0; i < body->n_conversation_ids; i++)
        if (!parley__len_is(body->conversation_ids[i], 16) ||
            !parley__conversation_bound(customer_pk, body->conversation_salts[i],
                                        body->conversation_ids[i].data))
            return false;
    return true;
}

parley_err parley__erasure_request_check(const Parley__ErasureRequest *er,
                                         const uint8_t customer_pk[32], size_t max_ids,
                                         uint8_t **ids, size_t *n_ids)
{
    Parley__ErasureRequestBody *body = NULL;
    parley_err err = PARLEY_EBADSIG;

    *ids = NULL;
    *n_ids = 0;
    if (parley__verify_pb(customer_pk, 32, PARLEY__DOMAIN_ERASURE, er->body, er->signature) ==
        PARLEY_OK)
        body = parley__erasure_request_body__unpack(NULL, er->body.len, er->body.data);
    if (body == NULL || !parley__len_is(body->customer_sign_key, 32) ||
        sodium_memcmp(body->customer_sign_key.data, customer_pk, 32) != 0 ||
        body->n_conversation_ids > max_ids)
        goto done;
    err = PARLEY_EUNBOUND;
    if (!erasure_ids_bound(body, customer_pk))
        goto done;
    err = PARLEY_ENOMEM;
    if (body->n_conversation_ids > 0 && (*ids = malloc(16 * body->n_conversation_ids)) == NULL)
        goto done;
    for (size_t i = 0; i < body->n_conversation_ids; i++)
        memcpy(*ids + 16 * i, body->conversation_ids[i].data, 16);
    *n_ids = body->n_conversation_ids;
    err = PARLEY_OK;
done:
    if (body != NULL)
        parley__erasure_request_body__free_unpacked(body, NULL);
    return err;
}

parley_err parley__custody_ack_make(const parley_identity *customer, const uint8_t conv[16],
                                    const uint8_t agent_pk[32], uint64_t counter, uint64_t time_ms,
                                    uint8_t **out, size_t *out_len)
{
    Parley__CustodyAckBody body = PARLEY__CUSTODY_ACK_BODY__INIT;
    Parley__CustodyAck ack = PARLEY__CUSTODY_ACK__INIT;
    uint8_t sig[64], *bbuf;
    size_t blen;
    parley_err err;

    body.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)conv};
    body.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)customer->sign_pk};
    body.agent_sign_key = (ProtobufCBinaryData){32, (uint8_t *)agent_pk};
    body.counter = counter;
    body.time_ms = time_ms;
    err = parley__pack(&body.base, &bbuf, &blen);
    if (err != PARLEY_OK)
        return err;
    err = parley__sign_raw(customer->secret->sign_sk, PARLEY__DOMAIN_CUSTODY, bbuf, blen, sig);
    if (err == PARLEY_OK) {
        ack.body = (ProtobufCBinaryData){blen, bbuf};
        ack.signature = (ProtobufCBinaryData){64, sig};
        err = parley__pack(&ack.base, out, out_len);
    }
    free(bbuf);
    return err;
}

parley_err parley__custody_ack_check(const Parley__CustodyAck *ack, const uint8_t customer[32],
                                     const uint8_t conv[16], struct parley__custody *out)
{
    Parley__CustodyAckBody *b;
    bool ok;

    if (ack == NULL || parley__verify_pb(customer, 32, PARLEY__DOMAIN_CUSTODY, ack->body,
                                         ack->signature) != PARLEY_OK)
        return PARLEY_ECUSTODY;
    b = parley__custody_ack_body__unpack(NULL, ack->body.len, ack->body.data);
    if (b == NULL)
        return PARLEY_ECUSTODY;
    ok = parley__len_is(b->conversation_id, 16) &&
         sodium_memcmp(b->conversation_id.data, conv, 16) == 0 &&
         parley__len_is(b->customer_sign_key, 32) &&
         sodium_memcmp(b->customer_sign_key.data, customer, 32) == 0 &&
         parley__len_is(b->agent_sign_key, 32) && b->counter > 0;
    if (ok) {
        memcpy(out->agent, b->agent_sign_key.data, 32);
        out->counter = b->counter;
    }
    parley__custody_ack_body__free_unpacked(b, NULL);
    return ok ? PARLEY_OK : PARLEY_ECUSTODY;
}

parley_err parley__custody_ack_check_buf(const uint8_t *ack, size_t len, const uint8_t customer[32],
                                         const uint8_t conv[16], struct parley__custody *out)
{
    Parley__CustodyAck *a = len > 0 ? parley__custody_ack__unpack(NULL, len, ack) : NULL;
    parley_err err = parley__custody_ack_check(a, customer, conv, out);

    if (a != NULL)
        parley__custody_ack__free_unpacked(a, NULL);
    return err;
}
