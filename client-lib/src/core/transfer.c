/*
 * Transfers: the customer told, the history and the customer's custody
 * acknowledgement handed to the next agent.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define HANDOVER_MAX 60000u     /* a Handover's bytes: with a certificate, still one envelope */

struct history_collect {
    Parley__HistoryEntry *entries;
    Parley__HistoryEntry **ptrs;
    uint8_t **texts;
    char **names;
    size_t n, cap;
    const uint8_t *customer;
};

static int collect_history(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                           size_t val_len)
{
    struct history_collect *h = arg;
    Parley__HistoryRecord *r;

    if (h->n == h->cap)
        return 1;
    r = parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    if (r == NULL)
        return 0;
    if (r->kind == PARLEY_BODY_TEXT && (h->texts[h->n] = malloc(r->text.len + 1)) != NULL) {
        Parley__HistoryEntry *e = &h->entries[h->n];
        parley__history_entry__init(e);
        memcpy(h->texts[h->n], r->text.data, r->text.len);
        e->text = (ProtobufCBinaryData){r->text.len, h->texts[h->n]};
        e->from_customer = parley__len_is(r->sender_sign_key, 32) &&
                           memcmp(r->sender_sign_key.data, h->customer, 32) == 0;
        h->names[h->n] = strdup(r->sender_name);
        e->agent_id = h->names[h->n] != NULL ? h->names[h->n] : (char *)"";
        e->time_ms = r->time_ms;
        h->ptrs[h->n] = e;
        h->n++;
    }
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    return 0;
}

/* Agents: our custody of cv, as the customer acknowledged it; NULL while unconfirmed. */
static Parley__CustodyAck *custody_confirmed(const struct parley__core *c, const struct conv *cv)
{
    struct parley__custody got;

    if (parley__custody_ack_check_buf(cv->custody_ack.p, cv->custody_ack.n, cv->customer, cv->id,
                                      &got) != PARLEY_OK ||
        sodium_memcmp(got.agent, parley_identity_sign_pk(c->id), 32) != 0 ||
        got.counter != cv->custody)
        return NULL;
    return parley__custody_ack__unpack(NULL, cv->custody_ack.n, cv->custody_ack.p);
}

/*
 * The history a handover carries: the most recent entries that fit in
 * one envelope (a long conversation's oldest lines are left out rather
 * than the handover never leaving).
 */
static void handover_fit(Parley__Handover *h)
{
    while (h->n_history > 0 && parley__handover__get_packed_size(h) > HANDOVER_MAX) {
        h->history++;
        h->n_history--;
    }
}

static void history_collect_free(struct history_collect *hc)
{
    for (size_t i = 0; i < hc->n; i++) {
        parley_free(hc->texts[i], hc->entries[i].text.len + 1);
        free(hc->names[i]);
    }
    free(hc->entries);
    free(hc->ptrs);
    free(hc->texts);
    free(hc->names);
}

struct handing {
    Parley__Payload *handover;
    const uint8_t *target;
};

/*
 * With the Transfer to the customer, in its transaction: the Handover
 * (with our custody acknowledgement and the salt) waiting for a prekey of
 * the target, and the conversation handed over, its keys and our
 * acknowledgement forgotten.
 */
static parley_err hand_over(struct parley__core *c, struct conv *cv, uint64_t seq, void *arg)
{
    const struct handing *h = arg;

    (void)seq;
    cv->state = PARLEY_CONV_TRANSFERRED;
    conv_forget_keys(cv);
    buf_free(&cv->custody_ack);
    return pending_add(c, cv->id, h->target, h->handover);
}

/* The agent with agent_id in the directory, if valid and not this agent; its certificate. */
static parley_err transfer_target(const struct parley__core *c, const char *agent_id,
                                  parley_cert_info *info, const uint8_t **cert, size_t *cert_len)
{
    int a;

    if (c->dir == NULL || (a = parley_directory_find_agent(c->dir, agent_id)) < 0 ||
        parley_directory_agent(c->dir, (size_t)a, info) != PARLEY_OK ||
        memcmp(info->sign_pk, parley_identity_sign_pk(c->id), 32) == 0)
        return PARLEY_ENOAGENT;
    *cert = parley_directory_agent_cert(c->dir, (size_t)a, cert_len);
    return PARLEY_OK;
}

/* Reads cv's text history (at most PARLEY__MAX_HISTORY entries) into hc. */
static parley_err history_gather(struct parley__core *c, const struct conv *cv,
                                 struct history_collect *hc)
{
    hc->cap = cv->history_count < PARLEY__MAX_HISTORY ? cv->history_count : PARLEY__MAX_HISTORY;
    hc->entries = calloc(hc->cap + 1, sizeof(*hc->entries));
    hc->ptrs = calloc(hc->cap + 1, sizeof(*hc->ptrs));
    hc->texts = calloc(hc->cap + 1, sizeof(*hc->texts));
    hc->names = calloc(hc->cap + 1, sizeof(*hc->names));
    hc->customer = cv->customer;
    if (hc->entries == NULL || hc->ptrs == NULL || hc->texts == NULL || hc->names == NULL)
        return PARLEY_ENOMEM;
    return parley__vault_scan(c->vault, "history", cv->id, 16, collect_history, hc);
}

/*
 * The Handover: what the new agent needs to go on (the customer's keys
 * and numbering, consent, queue, history, salt, and our custody as the
 * customer acknowledged it). Points into cv and hc.
 */
static void handover_build(Parley__Handover *h, struct conv *cv, struct history_collect *hc,
                           Parley__ConsentReceipt *consent, Parley__CustodyAck *custody)
{
    h->customer_sign_key = (ProtobufCBinaryData){32, cv->customer};
    h->customer_receive_key = (ProtobufCBinaryData){32, cv->peer_rk};
    for (size_t i = 0; i < cv->n_senders; i++)
        if (memcmp(cv->senders[i].key, cv->customer, 32) == 0)
            h->customer_seq = cv->senders[i].highest;
    h->consent = consent;
    h->queue = cv->queue;
    h->history = hc->ptrs;
    h->n_history = hc->n;
    h->conversation_salt = (ProtobufCBinaryData){16, cv->salt};
    h->custody = custody;
    handover_fit(h);
}

parley_err parley__core_transfer(struct parley__core *c, const uint8_t conv[16],
                                 const char *agent_id, uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT, hp = PARLEY__PAYLOAD__INIT;
    Parley__Transfer t = PARLEY__TRANSFER__INIT;
    Parley__Handover h = PARLEY__HANDOVER__INIT;
    Parley__AgentCert *target = NULL;
    Parley__ConsentReceipt *consent = NULL;
    Parley__CustodyAck *custody = NULL;
    Parley__SpecialConsent **specials = NULL;
    size_t n_specials = 0;
    struct history_collect hc;
    parley_cert_info info;
    const uint8_t *cert = NULL;
    size_t cert_len = 0;
    struct conv cv;
    parley_err err;

    if (!c->agent)
        return PARLEY_ESTATE;
    /* The colleague's certificate only from a valid directory: one expired may hide its revocation. */
    err = dir_valid(c, now) ? transfer_target(c, agent_id, &info, &cert, &cert_len)
                            : PARLEY_ENODIRECTORY;
    if (err == PARLEY_OK)
        err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err;
    memset(&hc, 0, sizeof(hc));
    /* Only a custody the customer acknowledged can be handed on (§11.3). */
    if (cv.state != PARLEY_CONV_ACTIVE)
        err = PARLEY_ESTATE;
    else if ((custody = custody_confirmed(c, &cv)) == NULL || !cv.has_salt)
        err = PARLEY_ECUSTODY;
    else if ((target = parley__agent_cert__unpack(NULL, cert_len, cert)) == NULL)
        err = PARLEY_ENOMEM;
    else
        err = history_gather(c, &cv, &hc);
    if (err == PARLEY_OK)
        err = special_list(&cv, &specials, &n_specials);
    if (err != PARLEY_OK)
        goto done;
    if (cv.consent.n > 0)
        consent = parley__consent_receipt__unpack(NULL, cv.consent.n, cv.consent.p);
    handover_build(&h, &cv, &hc, consent, custody);
    h.special_consents = specials; /* the customer's own consents, checked by the next agent */
    h.n_special_consents = n_specials;
    hp.body_case = PARLEY__PAYLOAD__BODY_HANDOVER;
    hp.handover = &h;
    /* The customer learns the new agent's certificate and checks it against the brand key. */
    t.target = target;
    p.body_case = PARLEY__PAYLOAD__BODY_TRANSFER;
    p.transfer = &t;
    /* No key announced: the customer's replies go to the new agent. */
    err = send_now_with(c, &cv, &p, false, hand_over, &(struct handing){&hp, info.sign_pk}, NULL,
                        now);
    if (err == PARLEY_OK) {
        emit_state(c, &cv);
        flush_pending(c, now);
    }
done:
    special_list_free(specials, n_specials);
    history_collect_free(&hc);
    if (custody != NULL)
        parley__custody_ack__free_unpacked(custody, NULL);
    if (consent != NULL)
        parley__consent_receipt__free_unpacked(consent, NULL);
    if (target != NULL)
        parley__agent_cert__free_unpacked(target, NULL);
    conv_free(&cv);
    return err;
}
