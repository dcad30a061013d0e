/*
 * Forgeries of a hostile relay (see forge.h). Payloads are signed and
 * sealed here by hand, not through the library's sealing path, so a test
 * can put any signer behind any claimed sender.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "forge.h"

static void seal_payload(const Parley__Payload *p, const uint8_t sign_sk[64],
                         const uint8_t to_box[32], uint8_t **out, size_t *out_len)
{
    Parley__Sealed sealed = PARLEY__SEALED__INIT;
    uint8_t sig[64], *pbuf, *plain, *box;
    size_t plen, slen, cap, padded;

    CHECK_OK(parley__pack(&p->base, &pbuf, &plen));
    CHECK_OK(parley__sign_raw(sign_sk, PARLEY__DOMAIN_PAYLOAD, pbuf, plen, sig));
    sealed.payload = (ProtobufCBinaryData){plen, pbuf};
    sealed.signature = (ProtobufCBinaryData){64, sig};
    slen = parley__sealed__get_packed_size(&sealed);
    cap = slen + PARLEY_PAD_BLOCK;
    plain = malloc(cap);
    box = malloc(cap + crypto_box_SEALBYTES);
    CHECK(plain != NULL && box != NULL);
    parley__sealed__pack(&sealed, plain);
    CHECK(sodium_pad(&padded, plain, slen, PARLEY_PAD_BLOCK, cap) == 0);
    CHECK(crypto_box_seal(box, plain, padded, to_box) == 0);
    *out = box;
    *out_len = padded + crypto_box_SEALBYTES;
    free(pbuf);
    free(plain);
}

void forge_envelope(const struct forge *f, uint8_t **env, size_t *len)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Text t = PARLEY__TEXT__INIT;
    Parley__Claim cl = PARLEY__CLAIM__INIT;
    Parley__Open op = PARLEY__OPEN__INIT;
    Parley__AgentCert *cert = NULL;
    Parley__ConsentReceipt *consent = NULL;
    uint8_t signer_pk[32], id[16], routing[32], next[32], next_sk[32], *sealed;
    size_t sealed_len;

    /* An Ed25519 secret key holds its public half in its last 32 bytes. */
    memcpy(signer_pk, f->sign_sk + 32, 32);
    if (f->cert != NULL) {
        cert = parley__agent_cert__unpack(NULL, f->cert_len, f->cert);
        CHECK(cert != NULL);
    }
    crypto_box_keypair(next, next_sk);
    p.sender_sign_key = (ProtobufCBinaryData){32, (uint8_t *)(f->claimed_pk != NULL
                                                                   ? f->claimed_pk
                                                                   : signer_pk)};
    p.sender_cert = cert;
    p.recipient_key = (ProtobufCBinaryData){32, (uint8_t *)f->to_box};
    p.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)f->conv};
    p.seq = f->seq;
    p.time_ms = f->time_ms;
    p.next_receive_key = (ProtobufCBinaryData){32, next};
    if (f->open_queue != NULL) {
        if (f->consent != NULL) {
            consent = parley__consent_receipt__unpack(NULL, f->consent_len, f->consent);
            CHECK(consent != NULL);
        }
        op.queue = (char *)f->open_queue;
        op.customer_box_key = (ProtobufCBinaryData){32, next};
        op.consent = consent;
        op.text = (ProtobufCBinaryData){strlen(f->text), (uint8_t *)f->text};
        if (f->salt != NULL)
            op.conversation_salt = (ProtobufCBinaryData){16, (uint8_t *)f->salt};
        p.body_case = PARLEY__PAYLOAD__BODY_OPEN;
        p.open = &op;
    } else if (f->body != NULL) {
        /* The members of the body union are all pointers: copying one copies the one set. */
        p.body_case = f->body->body_case;
        p.text = f->body->text;
    } else if (f->claim_agent != NULL) {
        cl.agent_id = (char *)f->claim_agent;
        cl.custody = f->claim_custody;
        p.body_case = PARLEY__PAYLOAD__BODY_CLAIM;
        p.claim = &cl;
    } else {
        t.text = (ProtobufCBinaryData){strlen(f->text), (uint8_t *)f->text};
        p.body_case = PARLEY__PAYLOAD__BODY_TEXT;
        p.text = &t;
    }
    seal_payload(&p, f->sign_sk, f->to_box, &sealed, &sealed_len);
    randombytes_buf(id, sizeof(id));
    /* As parley_seal_text: an agent writes to its customer, a customer to agents. */
    /* Agents write to customers, except handovers, which go to colleagues. */
    parley_routing_id(f->to_sign,
                      f->cert != NULL && !f->to_agent ? PARLEY_ROUTING_CUSTOMER
                                                      : PARLEY_ROUTING_AGENT,
                      routing);
    CHECK_OK(parley__envelope_pack(id, f->conv, routing, sealed, sealed_len, env, len));
    free(sealed);
    if (cert != NULL)
        parley__agent_cert__free_unpacked(cert, NULL);
    if (consent != NULL)
        parley__consent_receipt__free_unpacked(consent, NULL);
    sodium_memzero(next_sk, sizeof(next_sk));
}

void forge_consent(const struct forge_consent *fc, uint8_t **out, size_t *out_len)
{
    static const char *const support[] = {"support"};
    Parley__ConsentReceiptBody b = PARLEY__CONSENT_RECEIPT_BODY__INIT;
    Parley__ConsentReceipt r = PARLEY__CONSENT_RECEIPT__INIT;
    uint8_t hash[32], sig[64], *body;
    size_t body_len;

    crypto_generichash(hash, sizeof(hash), (const uint8_t *)fc->notice_text,
                       strlen(fc->notice_text), NULL, 0);
    b.brand_id = (char *)fc->brand_id;
    b.notice_version = fc->notice_version;
    b.notice_hash = (ProtobufCBinaryData){32, hash};
    b.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)fc->customer_pk};
    b.time_ms = 1;
    b.withdrawn = fc->withdrawn;
    b.purposes = (char **)(fc->purposes != NULL ? fc->purposes : support);
    b.n_purposes = fc->purposes != NULL ? fc->n_purposes : 1;
    CHECK_OK(parley__pack(&b.base, &body, &body_len));
    CHECK_OK(parley__sign_raw(fc->sign_sk, PARLEY__DOMAIN_CONSENT, body, body_len, sig));
    r.body = (ProtobufCBinaryData){body_len, body};
    r.signature = (ProtobufCBinaryData){64, sig};
    CHECK_OK(parley__pack(&r.base, out, out_len));
    free(body);
}

void forge_rewrap(const uint8_t *env, size_t len, bool new_id, const uint8_t *new_conv,
                  uint8_t **out, size_t *out_len)
{
    Parley__Envelope *e = parley__envelope__unpack(NULL, len, env);
    uint8_t id[16], conv[16];

    CHECK(e != NULL && parley__len_is(e->envelope_id, 16) &&
          parley__len_is(e->conversation_id, 16) && parley__len_is(e->recipient, 32));
    memcpy(id, e->envelope_id.data, 16);
    memcpy(conv, e->conversation_id.data, 16);
    if (new_id)
        randombytes_buf(id, sizeof(id));
    if (new_conv != NULL)
        memcpy(conv, new_conv, 16);
    CHECK_OK(parley__envelope_pack(id, conv, e->recipient.data, e->sealed.data, e->sealed.len,
                                   out, out_len));
    parley__envelope__free_unpacked(e, NULL);
}

void forge_prekey(const uint8_t owner_pk[32], const uint8_t sign_sk[64], const uint8_t box_pk[32],
                  uint8_t **out, size_t *out_len)
{
    Parley__PrekeyBody body = PARLEY__PREKEY_BODY__INIT;
    Parley__Prekey pk = PARLEY__PREKEY__INIT;
    uint8_t sig[64], *bbuf;
    size_t blen;

    body.owner_sign_key = (ProtobufCBinaryData){32, (uint8_t *)owner_pk};
    body.prekey_id = 7;
    body.box_key = (ProtobufCBinaryData){32, (uint8_t *)box_pk};
    body.created_at = 1;
    CHECK_OK(parley__pack(&body.base, &bbuf, &blen));
    CHECK_OK(parley__sign_raw(sign_sk, PARLEY__DOMAIN_PREKEY, bbuf, blen, sig));
    pk.body = (ProtobufCBinaryData){blen, bbuf};
    pk.signature = (ProtobufCBinaryData){64, sig};
    CHECK_OK(parley__pack(&pk.base, out, out_len));
    free(bbuf);
}

void envelope_id_of(const uint8_t *env, size_t len, uint8_t id[16])
{
    Parley__Envelope *e = parley__envelope__unpack(NULL, len, env);

    CHECK(e != NULL && parley__len_is(e->envelope_id, 16));
    memcpy(id, e->envelope_id.data, 16);
    parley__envelope__free_unpacked(e, NULL);
}
