/*
 * Message construction: sign the payload (domain-separated, binding sender,
 * recipient key, conversation and sequence), pad with sodium_pad, seal with
 * crypto_box_seal, wrap in an envelope; and the reverse, where every check
 * has its own error code and nothing unverified reaches the caller.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * Blocks carry their size in a header so they can be wiped on free: the
 * unpacked Sealed and Payload hold message plaintext.
 */
static void *wiping_alloc(void *data, size_t size)
{
    size_t *p;

    (void)data;
    if (size > SIZE_MAX - sizeof(max_align_t))
        return NULL;
    p = malloc(sizeof(max_align_t) + size);
    if (p == NULL)
        return NULL;
    *p = size;
    return (char *)p + sizeof(max_align_t);
}

static void wiping_free(void *data, void *ptr)
{
    char *base;

    (void)data;
    if (ptr == NULL)
        return;
    base = (char *)ptr - sizeof(max_align_t);
    sodium_memzero(ptr, *(size_t *)base);
    free(base);
}

ProtobufCAllocator parley__wiping_allocator = {wiping_alloc, wiping_free, NULL};

void parley__payload_free(Parley__Payload *p)
{
    if (p != NULL)
        parley__payload__free_unpacked(p, &parley__wiping_allocator);
}

parley_err parley__seal_payload(Parley__Payload *p, const parley_identity *sender,
                                const uint8_t recipient_box_pk[32], uint8_t **out,
                                size_t *out_len)
{
    Parley__Sealed sealed = PARLEY__SEALED__INIT;
    uint8_t sig[64];
    uint8_t *pbuf = NULL, *plain = NULL, *box = NULL;
    size_t plen, slen, cap, padded_len;
    parley_err err;

    p->sender_sign_key = (ProtobufCBinaryData){32, (uint8_t *)sender->sign_pk};
    p->recipient_key = (ProtobufCBinaryData){32, (uint8_t *)recipient_box_pk};
    err = parley__pack(&p->base, &pbuf, &plen);
    if (err != PARLEY_OK)
        return err;
    if (plen > PARLEY_MAX_ENVELOPE) {
        err = PARLEY_ETOOBIG;
        goto done;
    }
    err = parley__sign_raw(sender->secret->sign_sk, PARLEY__DOMAIN_PAYLOAD, pbuf, plen, sig);
    if (err != PARLEY_OK)
        goto done;
    sealed.payload = (ProtobufCBinaryData){plen, pbuf};
    sealed.signature = (ProtobufCBinaryData){sizeof(sig), sig};
    slen = parley__sealed__get_packed_size(&sealed);
    cap = slen + PARLEY_PAD_BLOCK;
    if (cap + crypto_box_SEALBYTES > PARLEY_MAX_ENVELOPE - 128) {
        err = PARLEY_ETOOBIG;
        goto done;
    }
    plain = malloc(cap);
    box = malloc(cap + crypto_box_SEALBYTES);
    if (plain == NULL || box == NULL) {
        err = PARLEY_ENOMEM;
        goto done;
    }
    parley__sealed__pack(&sealed, plain);
    if (sodium_pad(&padded_len, plain, slen, PARLEY_PAD_BLOCK, cap) != 0) {
        err = PARLEY_EINVAL;
        goto done;
    }
    crypto_box_seal(box, plain, padded_len, recipient_box_pk);
    *out = box;
    *out_len = padded_len + crypto_box_SEALBYTES;
    box = NULL;
done:
    parley_free(pbuf, pbuf != NULL ? plen : 0);
    parley_free(plain, plain != NULL ? cap : 0);
    free(box);
    return err;
}

static bool text_valid(ProtobufCBinaryData t)
{
    return t.len <= PARLEY_MAX_TEXT && parley__utf8_valid(t.data, t.len, true);
}

/*
 * A handed-over history entry, bounded as everywhere else: the text as a
 * Text body's, the writer's name (empty for the customer) as a display
 * name. Oversize is refused, never cut.
 */
static bool history_entry_valid(const Parley__HistoryEntry *e)
{
    return text_valid(e->text) &&
           (e->agent_id[0] == '\0' || parley_display_name_valid(e->agent_id));
}

/* Special-category consents: at most one per category, each present (checked by the agent). */
static bool specials_well_formed(Parley__SpecialConsent *const *s, size_t n)
{
    if (n > PARLEY_SCAN_CATEGORY_COUNT)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == NULL)
            return false;
    return true;
}

static bool handover_well_formed(const Parley__Handover *h)
{
    if (!parley__len_is(h->customer_sign_key, 32) || !parley__len_is(h->customer_receive_key, 32) ||
        !parley_id_valid(h->queue) || h->n_history > PARLEY__MAX_HISTORY ||
        !specials_well_formed(h->special_consents, h->n_special_consents))
        return false;
    for (size_t i = 0; i < h->n_history; i++)
        if (!history_entry_valid(h->history[i]))
            return false;
    return true;
}

/* Structure checks on a decoded payload, before its signature is checked. */
static bool payload_well_formed(const Parley__Payload *p)
{
    if (!parley__len_is(p->sender_sign_key, 32) || !parley__len_is(p->recipient_key, 32) ||
        !parley__len_is(p->conversation_id, PARLEY_CONVERSATION_ID_BYTES) ||
        (p->next_receive_key.len != 0 && p->next_receive_key.len != 32) || p->seq == 0)
        return false;
    switch (p->body_case) {
    case PARLEY__PAYLOAD__BODY_TEXT:
        return text_valid(p->text->text);
    case PARLEY__PAYLOAD__BODY_OPEN:
        return text_valid(p->open->text) && parley__len_is(p->open->customer_box_key, 32) &&
               parley_id_valid(p->open->queue) &&
               specials_well_formed(p->open->special_consents, p->open->n_special_consents);
    case PARLEY__PAYLOAD__BODY_CLAIM:
        return parley_id_valid(p->claim->agent_id);
    case PARLEY__PAYLOAD__BODY_TRANSFER:
        return p->transfer->target != NULL;
    case PARLEY__PAYLOAD__BODY_HANDOVER:
        return handover_well_formed(p->handover);
    case PARLEY__PAYLOAD__BODY_ERASE:
        return p->erase->request != NULL;
    case PARLEY__PAYLOAD__BODY_CUSTODY_ACK:
        return true; /* checked against the conversation by the session layer (ECUSTODY) */
    case PARLEY__PAYLOAD__BODY_CONSENT_UPDATE:
        return p->consent_update->receipt != NULL; /* checked by the agent's client (ENOCONSENT) */
    case PARLEY__PAYLOAD__BODY_SPECIAL_CONSENT:
        return true; /* checked by the agent's client (EBADSIG, EWRONGCONVERSATION, ...) */
    case PARLEY__PAYLOAD__BODY_CLOSE:
    case PARLEY__PAYLOAD__BODY_RECEIPT:
    case PARLEY__PAYLOAD__BODY_TYPING:
        return true;
    default:
        return false;
    }
}

/* Who sent it: a certified agent of the pinned brand, or an uncertified key. */
static parley_err check_sender(const Parley__Payload *p, const parley_trust *trust,
                               parley_cert_info *cert, int *is_agent)
{
    parley_err err;

    *is_agent = 0;
    if (p->sender_cert == NULL)
        return trust != NULL && trust->require_agent ? PARLEY_EUNTRUSTED : PARLEY_OK;
    if (trust == NULL || trust->brand_pk == NULL)
        return PARLEY_EUNTRUSTED;
    err = parley__cert_check(p->sender_cert, trust->brand_pk, trust->brand_id, trust->now,
                             trust->revs, cert);
    if (err == PARLEY_EBADSIG || err == PARLEY_EMALFORMED)
        return PARLEY_EUNTRUSTED;
    if (err != PARLEY_OK)
        return err;
    /* The certificate must be for the key that signed this payload. */
    if (sodium_memcmp(cert->sign_pk, p->sender_sign_key.data, 32) != 0)
        return PARLEY_EUNTRUSTED;
    *is_agent = 1;
    return PARLEY_OK;
}

parley_err parley__open_sealed(const uint8_t *sealed_buf, size_t len, const uint8_t box_pk[32],
                               const uint8_t box_sk[32], const uint8_t conversation_id[16],
                               const parley_trust *trust, Parley__Payload **out,
                               parley_cert_info *sender_cert, int *sender_is_agent)
{
    Parley__Sealed *sealed = NULL;
    Parley__Payload *p = NULL;
    uint8_t *plain = NULL;
    size_t plen = 0, unpadded;
    parley_err err;

    *out = NULL;
    if (len > PARLEY_MAX_ENVELOPE)
        return PARLEY_ETOOBIG;
    if (len < crypto_box_SEALBYTES)
        return PARLEY_EBADSEAL;
    plen = len - crypto_box_SEALBYTES;
    plain = malloc(plen > 0 ? plen : 1);
    if (plain == NULL)
        return PARLEY_ENOMEM;
    if (crypto_box_seal_open(plain, sealed_buf, len, box_pk, box_sk) != 0) {
        err = PARLEY_EBADSEAL;
        goto done;
    }
    if (plen % PARLEY_PAD_BLOCK != 0 ||
        sodium_unpad(&unpadded, plain, plen, PARLEY_PAD_BLOCK) != 0) {
        err = PARLEY_EBADPADDING;
        goto done;
    }
    sealed = parley__sealed__unpack(&parley__wiping_allocator, unpadded, plain);
    if (sealed == NULL || sealed->payload.data == NULL) {
        err = PARLEY_EMALFORMED;
        goto done;
    }
    p = parley__payload__unpack(&parley__wiping_allocator, sealed->payload.len,
                                sealed->payload.data);
    if (p == NULL || !payload_well_formed(p)) {
        err = PARLEY_EMALFORMED;
        goto done;
    }
    err = parley__verify_pb(p->sender_sign_key.data, 32, PARLEY__DOMAIN_PAYLOAD, sealed->payload,
                            sealed->signature);
    if (err != PARLEY_OK)
        goto done;
    if (sodium_memcmp(p->recipient_key.data, box_pk, 32) != 0) {
        err = PARLEY_EWRONGRECIPIENT;
        goto done;
    }
    if (sodium_memcmp(p->conversation_id.data, conversation_id, PARLEY_CONVERSATION_ID_BYTES) !=
        0) {
        err = PARLEY_EWRONGCONVERSATION;
        goto done;
    }
    err = check_sender(p, trust, sender_cert, sender_is_agent);
    if (err != PARLEY_OK)
        goto done;
    *out = p;
    p = NULL;
done:
    parley__payload_free(p);
    if (sealed != NULL)
        parley__sealed__free_unpacked(sealed, &parley__wiping_allocator);
    parley_free(plain, plen > 0 ? plen : 1);
    return err;
}

parley_err parley__envelope_pack(const uint8_t envelope_id[16], const uint8_t conversation_id[16],
                                 const uint8_t recipient[32], const uint8_t *sealed,
                                 size_t sealed_len, uint8_t **out, size_t *out_len)
{
    Parley__Envelope env = PARLEY__ENVELOPE__INIT;

    env.envelope_id = (ProtobufCBinaryData){PARLEY_ENVELOPE_ID_BYTES, (uint8_t *)envelope_id};
    env.conversation_id =
        (ProtobufCBinaryData){PARLEY_CONVERSATION_ID_BYTES, (uint8_t *)conversation_id};
    env.recipient = (ProtobufCBinaryData){PARLEY_ROUTING_ID_BYTES, (uint8_t *)recipient};
    env.sealed = (ProtobufCBinaryData){sealed_len, (uint8_t *)sealed};
    if (parley__envelope__get_packed_size(&env) > PARLEY_MAX_ENVELOPE)
        return PARLEY_ETOOBIG;
    return parley__pack(&env.base, out, out_len);
}

parley_err parley_seal_text(const parley_seal_params *sp, const char *text, size_t text_len,
                            uint8_t **out, size_t *out_len)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Text body = PARLEY__TEXT__INIT;
    Parley__AgentCert *cert = NULL;
    uint8_t envelope_id[PARLEY_ENVELOPE_ID_BYTES], routing[PARLEY_ROUTING_ID_BYTES];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    parley_err err;

    if (sp == NULL || sp->sender == NULL || sp->recipient_sign_pk == NULL ||
        sp->recipient_box_pk == NULL || sp->conversation_id == NULL || sp->seq == 0 ||
        (text == NULL && text_len > 0) || out == NULL || out_len == NULL)
        return PARLEY_EINVAL;
    if (text_len > PARLEY_MAX_TEXT)
        return PARLEY_ETOOBIG;
    if (!parley__utf8_valid((const uint8_t *)text, text_len, true))
        return PARLEY_EINVAL;
    if (sp->sender_cert != NULL) {
        parley_cert_info info;

        if (sp->sender_cert_len > PARLEY_MAX_CERT)
            return PARLEY_ETOOBIG;
        cert = parley__agent_cert__unpack(NULL, sp->sender_cert_len, sp->sender_cert);
        if (cert == NULL)
            return PARLEY_EMALFORMED;
        /* A certificate for another key would only make every receiver refuse the message. */
        if (parley__cert_body_decode(cert, &info) != PARLEY_OK ||
            sodium_memcmp(info.sign_pk, sp->sender->sign_pk, 32) != 0) {
            parley__agent_cert__free_unpacked(cert, NULL);
            return PARLEY_EINVAL;
        }
    }
    body.text = (ProtobufCBinaryData){text_len, (uint8_t *)text};
    p.sender_cert = cert;
    p.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)sp->conversation_id};
    p.seq = sp->seq;
    p.time_ms = sp->time_ms;
    if (sp->next_receive_pk != NULL)
        p.next_receive_key = (ProtobufCBinaryData){32, (uint8_t *)sp->next_receive_pk};
    p.body_case = PARLEY__PAYLOAD__BODY_TEXT;
    p.text = &body;
    err = parley__seal_payload(&p, sp->sender, sp->recipient_box_pk, &sealed, &sealed_len);
    if (err != PARLEY_OK)
        goto done;
    randombytes_buf(envelope_id, sizeof(envelope_id));
    /* A customer writes to agents; an agent (with its certificate) to its customer. */
    parley_routing_id(sp->recipient_sign_pk,
                      sp->sender_cert != NULL ? PARLEY_ROUTING_CUSTOMER : PARLEY_ROUTING_AGENT,
                      routing);
    err = parley__envelope_pack(envelope_id, sp->conversation_id, routing, sealed, sealed_len, out,
                                out_len);
done:
    free(sealed);
    if (cert != NULL)
        parley__agent_cert__free_unpacked(cert, NULL);
    return err;
}

static parley_body_kind body_kind(Parley__Payload__BodyCase c)
{
    switch (c) {
    case PARLEY__PAYLOAD__BODY_TEXT:
        return PARLEY_BODY_TEXT;
    case PARLEY__PAYLOAD__BODY_OPEN:
        return PARLEY_BODY_OPEN;
    case PARLEY__PAYLOAD__BODY_CLAIM:
        return PARLEY_BODY_CLAIM;
    case PARLEY__PAYLOAD__BODY_TRANSFER:
        return PARLEY_BODY_TRANSFER;
    case PARLEY__PAYLOAD__BODY_CLOSE:
        return PARLEY_BODY_CLOSE;
    case PARLEY__PAYLOAD__BODY_RECEIPT:
        return PARLEY_BODY_RECEIPT;
    case PARLEY__PAYLOAD__BODY_TYPING:
        return PARLEY_BODY_TYPING;
    case PARLEY__PAYLOAD__BODY_HANDOVER:
        return PARLEY_BODY_HANDOVER;
    case PARLEY__PAYLOAD__BODY_ERASE:
        return PARLEY_BODY_ERASE;
    case PARLEY__PAYLOAD__BODY_CUSTODY_ACK:
        return PARLEY_BODY_CUSTODY_ACK;
    case PARLEY__PAYLOAD__BODY_CONSENT_UPDATE:
        return PARLEY_BODY_CONSENT_UPDATE;
    case PARLEY__PAYLOAD__BODY_SPECIAL_CONSENT:
        return PARLEY_BODY_SPECIAL_CONSENT;
    default:
        return PARLEY_BODY_NONE;
    }
}

parley_err parley_open(const uint8_t *env_buf, size_t env_len, const parley_identity *id,
                       const parley_trust *trust, parley_opened *out)
{
    Parley__Envelope *env;
    Parley__Payload *p = NULL;
    const ProtobufCBinaryData *text = NULL;
    parley_err err;

    if (env_buf == NULL || id == NULL || out == NULL)
        return PARLEY_EINVAL;
    memset(out, 0, sizeof(*out));
    if (env_len > PARLEY_MAX_ENVELOPE)
        return PARLEY_ETOOBIG;
    env = parley__envelope__unpack(NULL, env_len, env_buf);
    if (env == NULL)
        return PARLEY_EMALFORMED;
    if (!parley__len_is(env->envelope_id, PARLEY_ENVELOPE_ID_BYTES) ||
        !parley__len_is(env->conversation_id, PARLEY_CONVERSATION_ID_BYTES) ||
        !parley__len_is(env->recipient, PARLEY_ROUTING_ID_BYTES) || env->sealed.data == NULL) {
        err = PARLEY_EMALFORMED;
        goto done;
    }
    err = parley__open_sealed(env->sealed.data, env->sealed.len, id->box_pk, id->secret->box_sk,
                              env->conversation_id.data, trust, &p, &out->sender_cert,
                              &out->sender_is_agent);
    if (err != PARLEY_OK)
        goto done;
    if (p->body_case == PARLEY__PAYLOAD__BODY_TEXT)
        text = &p->text->text;
    else if (p->body_case == PARLEY__PAYLOAD__BODY_OPEN)
        text = &p->open->text;
    if (text != NULL) {
        out->text_len = text->len;
        out->text = malloc(text->len + 1);
        if (out->text == NULL) {
            err = PARLEY_ENOMEM;
            goto done;
        }
        if (text->len > 0)
            memcpy(out->text, text->data, text->len);
        out->text[text->len] = '\0';
    }
    memcpy(out->envelope_id, env->envelope_id.data, PARLEY_ENVELOPE_ID_BYTES);
    memcpy(out->conversation_id, env->conversation_id.data, PARLEY_CONVERSATION_ID_BYTES);
    memcpy(out->sender_sign_pk, p->sender_sign_key.data, 32);
    out->seq = p->seq;
    out->time_ms = p->time_ms;
    if (p->next_receive_key.len == 32) {
        out->has_next_receive_pk = 1;
        memcpy(out->next_receive_pk, p->next_receive_key.data, 32);
    }
    out->kind = body_kind(p->body_case);
done:
    if (err != PARLEY_OK)
        memset(out, 0, sizeof(*out));
    parley__payload_free(p);
    parley__envelope__free_unpacked(env, NULL);
    return err;
}

void parley_opened_clear(parley_opened *o)
{
    if (o == NULL)
        return;
    parley_free(o->text, o->text != NULL ? o->text_len + 1 : 0);
    sodium_memzero(o, sizeof(*o));
}
