/*
 * Shared test fixtures (see fixture.h): deterministic identities and
 * certificates, and hand-made envelopes for the hostile-case tests.
 */
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "people.h"

static void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);

    CHECK(p != NULL);
    return p;
}

parley_identity *fx_identity(uint8_t fill)
{
    uint8_t seed[32];
    parley_identity *id = NULL;

    memset(seed, fill, sizeof(seed));
    CHECK_OK(parley_identity_from_seed(&id, seed));
    return id;
}

uint8_t *fx_cert(const parley_identity *brand, const char *brand_id, const parley_identity *agent,
                 const char *agent_id, uint64_t serial, uint64_t not_before, uint64_t not_after,
                 size_t *len)
{
    return people_cert(brand, brand_id, agent, agent_id, "Agent Zo\xc3\xa9", serial, not_before,
                       not_after, len);
}

uint8_t *fx_envelope_sealed(const uint8_t *env, size_t env_len, size_t *len)
{
    Parley__Envelope *e = parley__envelope__unpack(NULL, env_len, env);
    uint8_t *out;

    CHECK(e != NULL);
    out = xmalloc(e->sealed.len);
    memcpy(out, e->sealed.data, e->sealed.len);
    *len = e->sealed.len;
    parley__envelope__free_unpacked(e, NULL);
    return out;
}

uint8_t *fx_envelope_with_conversation(const uint8_t *env, size_t env_len, const uint8_t conv[16],
                                       size_t *len)
{
    Parley__Envelope *e = parley__envelope__unpack(NULL, env_len, env);
    uint8_t *out = NULL;

    CHECK(e != NULL);
    CHECK(parley__len_is(e->conversation_id, 16));
    memcpy(e->conversation_id.data, conv, 16);
    CHECK_OK(parley__pack(&e->base, &out, len));
    parley__envelope__free_unpacked(e, NULL);
    return out;
}

uint8_t *fx_unseal(const uint8_t *env, size_t env_len, const parley_identity *id, size_t *len)
{
    size_t sealed_len, unpadded;
    uint8_t *sealed = fx_envelope_sealed(env, env_len, &sealed_len);
    uint8_t *plain;

    CHECK(sealed_len >= crypto_box_SEALBYTES);
    plain = xmalloc(sealed_len - crypto_box_SEALBYTES);
    CHECK(crypto_box_seal_open(plain, sealed, sealed_len, id->box_pk, id->secret->box_sk) == 0);
    CHECK(sodium_unpad(&unpadded, plain, sealed_len - crypto_box_SEALBYTES, PARLEY_PAD_BLOCK) == 0);
    free(sealed);
    *len = unpadded;
    return plain;
}

uint8_t *fx_pad(const uint8_t *buf, size_t len, size_t *padded_len)
{
    uint8_t *out = xmalloc(len + PARLEY_PAD_BLOCK);

    memcpy(out, buf, len);
    CHECK(sodium_pad(padded_len, out, len, PARLEY_PAD_BLOCK, len + PARLEY_PAD_BLOCK) == 0);
    return out;
}

uint8_t *fx_seal_raw(const uint8_t *plain, size_t len, const uint8_t box_pk[32], size_t *out_len)
{
    uint8_t *out = xmalloc(len + crypto_box_SEALBYTES);

    CHECK(crypto_box_seal(out, plain, len, box_pk) == 0);
    *out_len = len + crypto_box_SEALBYTES;
    return out;
}

uint8_t *fx_wrap(const uint8_t conv[16], const parley_identity *to, const uint8_t *sealed,
                 size_t len, size_t *out_len)
{
    static const uint8_t envelope_id[16] = {0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
                                            0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef};
    uint8_t routing[32];
    uint8_t *out = NULL;

    /* The fixtures' recipients are customers. */
    parley_routing_id(to->sign_pk, PARLEY_ROUTING_CUSTOMER, routing);
    CHECK_OK(parley__envelope_pack(envelope_id, conv, routing, sealed, len, &out, out_len));
    return out;
}

uint8_t *fx_sealed_bytes(const Parley__Payload *p, const uint8_t sk[64], size_t *len)
{
    Parley__Sealed sealed = PARLEY__SEALED__INIT;
    uint8_t sig[64];
    uint8_t *pbuf = NULL, *out = NULL;
    size_t plen;

    CHECK_OK(parley__pack(&p->base, &pbuf, &plen));
    CHECK_OK(parley__sign_raw(sk, PARLEY__DOMAIN_PAYLOAD, pbuf, plen, sig));
    sealed.payload = (ProtobufCBinaryData){plen, pbuf};
    sealed.signature = (ProtobufCBinaryData){sizeof(sig), sig};
    CHECK_OK(parley__pack(&sealed.base, &out, len));
    free(pbuf);
    return out;
}

void fx_text_payload(Parley__Payload *p, Parley__Text *t, const parley_identity *sender,
                     const uint8_t recipient_box_pk[32], const uint8_t conv[16], char *text)
{
    parley__payload__init(p);
    parley__text__init(t);
    t->text = (ProtobufCBinaryData){strlen(text), (uint8_t *)text};
    p->sender_sign_key = (ProtobufCBinaryData){32, (uint8_t *)sender->sign_pk};
    p->recipient_key = (ProtobufCBinaryData){32, (uint8_t *)recipient_box_pk};
    p->conversation_id = (ProtobufCBinaryData){16, (uint8_t *)conv};
    p->seq = 1;
    p->time_ms = UINT64_C(1750000000123);
    p->body_case = PARLEY__PAYLOAD__BODY_TEXT;
    p->text = t;
}
