/*
 * Listings: conversations, a conversation's history, and its export.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

struct list_ctx {
    struct parley__core *c;
    parley_conversation_fn fn;
    void *user;
};

/*
 * What a listing tells of a conversation; pointers into cv and into the
 * consent receipt's body, returned for consent_info_free() once the
 * caller is done with info.
 */
static Parley__ConsentReceiptBody *conv_info(const struct conv *cv, parley_conversation_info *info)
{
    Parley__ConsentReceiptBody *b;

    memset(info, 0, sizeof(*info));
    memcpy(info->conversation_id, cv->id, 16);
    info->state = cv->state;
    info->queue = cv->queue;
    if (cv->state == PARLEY_CONV_TRANSFERRING && cv->target_cert.n > 0) {
        info->has_agent = 1;
        info->agent = cv->target;
    } else if (cv->agent_cert.n > 0) {
        info->has_agent = 1;
        info->agent = cv->agent;
    }
    memcpy(info->customer_sign_pk, cv->customer, 32);
    info->messages = cv->history_count;
    info->peer_delivered_seq = cv->peer_delivered;
    info->peer_read_seq = cv->peer_read;
    info->erasure = cv->erasure;
    info->reduced_secrecy = cv->reduced_secrecy;
    info->special_consent = cv->special_mask;
    b = consent_body_of(cv->consent.p, cv->consent.n);
    if (b != NULL) {
        info->consent_notice_version = b->notice_version;
        info->consent_time_ms = b->time_ms;
        info->consent_purposes = (const char *const *)b->purposes;
        info->n_consent_purposes = b->n_purposes;
        info->consent_withdrawn = (const char *const *)b->withdrawn_purposes;
        info->n_consent_withdrawn = b->n_withdrawn_purposes;
    }
    return b;
}

static void consent_info_free(Parley__ConsentReceiptBody *b)
{
    if (b != NULL)
        parley__consent_receipt_body__free_unpacked(b, NULL);
}

static int list_one(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                    size_t val_len)
{
    struct list_ctx *l = arg;
    parley_conversation_info info;
    Parley__ConsentReceiptBody *b;
    struct conv cv;
    int stop;

    if (key_len != 16 || conv_load(l->c, key, &cv) != PARLEY_OK)
        return 0;
    b = conv_info(&cv, &info);
    stop = l->fn(l->user, &info);
    consent_info_free(b);
    conv_free(&cv);
    return stop;
}

parley_err parley__core_list(struct parley__core *c, parley_conversation_fn fn, void *user)
{
    struct list_ctx l = {c, fn, user};

    if (fn == NULL)
        return PARLEY_EINVAL;
    return parley__vault_scan(c->vault, "conv", NULL, 0, list_one, &l);
}

struct history_ctx {
    parley_history_fn fn;
    void *user;
};

static int history_one(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                       size_t val_len)
{
    struct history_ctx *h = arg;
    Parley__HistoryRecord *r = parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    parley_history_entry e;
    char *text;
    int stop = 0;

    if (r == NULL)
        return 0;
    text = malloc(r->text.len + 1);
    if (text != NULL && parley__len_is(r->sender_sign_key, 32)) {
        memcpy(text, r->text.data, r->text.len);
        text[r->text.len] = '\0';
        memset(&e, 0, sizeof(e));
        e.seq = r->seq;
        e.time_ms = r->time_ms;
        e.from_me = r->from_me;
        memcpy(e.sender_sign_pk, r->sender_sign_key.data, 32);
        e.sender_name = r->sender_name;
        e.text = text;
        e.text_len = r->text.len;
        stop = h->fn(h->user, &e);
    }
    if (text != NULL)
        parley_free(text, r->text.len + 1);
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    return stop;
}

/* A conversation's history; include_held: also one kept after an erasure request. */
static parley_err history_scan(struct parley__core *c, const uint8_t conv[16],
                               parley_history_fn fn, void *user, bool include_held)
{
    struct history_ctx h = {fn, user};
    struct conv cv;
    bool held;
    parley_err err;

    if (fn == NULL)
        return PARLEY_EINVAL;
    err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err;
    held = cv.erasure == 2;
    conv_free(&cv);
    if (held && !include_held)
        return PARLEY_OK; /* kept only because the brand must: left out of searches */
    return parley__vault_scan(c->vault, "history", conv, 16, history_one, &h);
}

parley_err parley__core_history(struct parley__core *c, const uint8_t conv[16],
                                parley_history_fn fn, void *user)
{
    return history_scan(c, conv, fn, user, false);
}

parley_err parley__core_history_all(struct parley__core *c, const uint8_t conv[16],
                                    parley_history_fn fn, void *user)
{
    return history_scan(c, conv, fn, user, true);
}

parley_err parley__core_export(struct parley__core *c, const uint8_t conv[16], char **json,
                               size_t *len)
{
    parley_conversation_info info;
    Parley__ConsentReceiptBody *b;
    struct conv cv;
    parley_err err;

    if (json == NULL || len == NULL)
        return PARLEY_EINVAL;
    err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err;
    b = conv_info(&cv, &info);
    if (c->agent && !info.has_agent) {
        /* Exported by an agent: the agent of the record is the one exporting. */
        info.has_agent = 1;
        info.agent = c->cert_info;
    }
    err = parley__core_export_json(c, &info, cv.consent.p, cv.consent.n, c->brand_id, json, len);
    consent_info_free(b);
    conv_free(&cv);
    return err;
}
