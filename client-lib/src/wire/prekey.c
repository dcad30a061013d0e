/*
 * Prekeys (see prekey.h): building and signing them for the agent who
 * publishes them, and checking them for the sender who seals to them.
 */
#include <stdlib.h>
#include <string.h>

#include "prekey.h"

parley_err parley__prekey_sign(const parley_identity *id, const uint8_t box_pk[32],
                               uint64_t created_ms, bool medium_term, Parley__Prekey **out)
{
    Parley__PrekeyBody body = PARLEY__PREKEY_BODY__INIT;
    Parley__Prekey pk = PARLEY__PREKEY__INIT;
    uint8_t sig[64], *bbuf = NULL, *pbuf = NULL;
    size_t blen = 0, plen = 0;
    parley_err err;

    *out = NULL;
    body.owner_sign_key = (ProtobufCBinaryData){32, (uint8_t *)id->sign_pk};
    if (medium_term) {
        for (int i = 0; i < 8; i++)
            body.prekey_id = (body.prekey_id << 8) | box_pk[i];
        body.medium_term = true;
        body.expires_at = created_ms / 1000u + PREKEY_MT_LIFETIME_S;
    } else {
        body.prekey_id = randombytes_random();
    }
    body.box_key = (ProtobufCBinaryData){32, (uint8_t *)box_pk};
    body.created_at = created_ms / 1000u;
    err = parley__pack(&body.base, &bbuf, &blen);
    if (err == PARLEY_OK)
        err = parley__sign_raw(id->secret->sign_sk, PARLEY__DOMAIN_PREKEY, bbuf, blen, sig);
    if (err == PARLEY_OK) {
        pk.body = (ProtobufCBinaryData){blen, bbuf};
        pk.signature = (ProtobufCBinaryData){64, sig};
        err = parley__pack(&pk.base, &pbuf, &plen);
    }
    if (err == PARLEY_OK && (*out = parley__prekey__unpack(NULL, plen, pbuf)) == NULL)
        err = PARLEY_ENOMEM;
    free(bbuf);
    free(pbuf);
    return err;
}

parley_err parley__prekey_verify(const Parley__Prekey *pk, const uint8_t owner[32], uint64_t now_s,
                                 uint8_t box[32], bool *medium_term)
{
    Parley__PrekeyBody *body;
    parley_err err = PARLEY_OK;

    if (parley__verify_pb(owner, 32, PARLEY__DOMAIN_PREKEY, pk->body, pk->signature) != PARLEY_OK)
        return PARLEY_EBADSIG;
    body = parley__prekey_body__unpack(NULL, pk->body.len, pk->body.data);
    if (body == NULL || !parley__len_is(body->box_key, 32) ||
        !parley__len_is(body->owner_sign_key, 32) ||
        sodium_memcmp(body->owner_sign_key.data, owner, 32) != 0)
        err = PARLEY_EMALFORMED;
    /* A relay may hand out an old medium-term prekey: its owner may have deleted the secret. */
    else if (body->medium_term && now_s >= body->expires_at)
        err = PARLEY_EEXPIRED;
    if (err == PARLEY_OK) {
        memcpy(box, body->box_key.data, 32);
        *medium_term = body->medium_term;
    }
    if (body != NULL)
        parley__prekey_body__free_unpacked(body, NULL);
    return err;
}
