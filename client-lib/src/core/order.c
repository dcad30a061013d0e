/*
 * Brand orders, agents' side (docs/protocol.md §11.9): the relay hands an
 * agent's client each order of its brand that it has not answered. The
 * client checks the brand's signature and the expiry, carries the order
 * out on every conversation it holds with that customer (erase: history,
 * consent receipt, keys, seen envelope ids, what waits to go out; unless
 * the brand or the host keeps conversations on erasure; export: the
 * customer's export, handed to the application), tells the application,
 * and answers with a receipt signed by the agent's key. The receipt is
 * kept (table "orders"), so an order the relay hands over again is
 * answered with the same receipt, never carried out twice.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/* A customer's conversations as the "conv" table holds them. */
struct of_customer {
    const uint8_t *customer;
    uint8_t (*ids)[16];
    size_t n, cap;
};

static int collect_customer_conv(void *arg, const uint8_t *key, size_t key_len,
                                 const uint8_t *val, size_t val_len)
{
    struct of_customer *x = arg;
    Parley__ConversationState *s;
    uint8_t(*grown)[16];
    bool theirs;

    if (key_len != 16)
        return 0;
    s = parley__conversation_state__unpack(&parley__wiping_allocator, val_len, val);
    theirs = s != NULL && parley__len_is(s->customer_sign_key, 32) &&
             sodium_memcmp(s->customer_sign_key.data, x->customer, 32) == 0;
    if (s != NULL)
        parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
    if (!theirs)
        return 0;
    grown = parley__grow(x->ids, &x->cap, x->n + 1, sizeof(*grown));
    if (grown == NULL)
        return -1;
    x->ids = grown;
    memcpy(x->ids[x->n++], key, 16);
    return 0;
}

/* A history row's key and the envelope it recorded (its seen id). */
struct hist_ref {
    uint8_t key[24];
    uint8_t envelope_id[16];
    bool has_envelope;
};

struct hist_refs {
    struct hist_ref *v;
    size_t n, cap;
};

static int collect_hist_ref(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                            size_t val_len)
{
    struct hist_refs *l = arg;
    Parley__HistoryRecord *r;
    struct hist_ref *grown;

    if (key_len != 24)
        return 0;
    grown = parley__grow(l->v, &l->cap, l->n + 1, sizeof(*grown));
    if (grown == NULL)
        return -1;
    l->v = grown;
    grown = &l->v[l->n++];
    memset(grown, 0, sizeof(*grown));
    memcpy(grown->key, key, 24);
    r = parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    if (r != NULL && parley__len_is(r->envelope_id, 16)) {
        memcpy(grown->envelope_id, r->envelope_id.data, 16);
        grown->has_envelope = true;
    }
    if (r != NULL)
        parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    return 0;
}

/*
 * One conversation, inside the order's transaction: its history rows
 * counted, and for an erasure (unless kept) deleted with their seen ids,
 * its consent receipt, custody acknowledgement, receive keys and unsent
 * payloads; the conversation closed and marked erased. The record stays,
 * emptied, so that a replayed envelope cannot bring it back; the
 * retention sweep deletes it later.
 */
static parley_err order_conv(struct parley__core *c, const uint8_t id[16], bool erase, bool keep,
                             uint64_t *messages)
{
    struct hist_refs l = {NULL, 0, 0};
    struct conv cv;
    parley_err err = conv_load(c, id, &cv);

    if (err == PARLEY_OK)
        err = parley__vault_scan(c->vault, "history", id, 16, collect_hist_ref, &l);
    *messages += l.n;
    if (err != PARLEY_OK || !erase)
        goto done;
    if (keep) {
        if (cv.erasure == 0) {
            cv.erasure = 2;
            cv.erasure_ms = c->now; /* the legal hold runs from here */
        }
        err = conv_save(c, &cv);
        goto done;
    }
    for (size_t i = 0; err == PARLEY_OK && i < l.n; i++) {
        err = parley__vault_del(c->vault, "history", l.v[i].key, 24);
        if (err == PARLEY_OK && l.v[i].has_envelope)
            err = parley__vault_del(c->vault, "seen", l.v[i].envelope_id, 16);
    }
    if (err == PARLEY_OK)
        err = drop_unsent(c, id);
    if (err == PARLEY_OK) {
        buf_free(&cv.consent);
        buf_free(&cv.custody_ack);
        conv_forget_keys(&cv);
        cv.state = PARLEY_CONV_CLOSED;
        cv.erasure = 1;
        cv.erasure_ms = c->now;
        cv.history_count = 0;
        err = conv_save(c, &cv);
    }
done:
    free(l.v);
    conv_free(&cv);
    return err;
}

/* The receipt: signed, kept with the change in the caller's transaction, and sent. */
static parley_err receipt_make(struct parley__core *c, const parley_order_receipt_info *ri)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    parley_err err = parley__order_receipt_sign(c->id, c->cert.p, c->cert.n, ri, &buf, &len);

    if (err == PARLEY_OK)
        err = parley__vault_put(c->vault, "orders", ri->order_id, PARLEY_ORDER_ID_BYTES, buf, len);
    free(buf);
    return err;
}

static void receipt_send(struct parley__core *c, const uint8_t *buf, size_t len)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__OrderReceipt *r = parley__order_receipt__unpack(NULL, len, buf);

    if (r == NULL)
        return;
    f.kind_case = PARLEY__FRAME__KIND_ORDER_RECEIPT;
    f.order_receipt = r;
    queue_frame(c, &f);
    parley__order_receipt__free_unpacked(r, NULL);
}

/* Carries the order out in one transaction with its receipt; ri filled. */
static parley_err order_run(struct parley__core *c, const parley_order_info *o,
                            parley_order_receipt_info *ri)
{
    struct of_customer x = {o->customer_sign_pk, NULL, 0, 0};
    bool erase = o->kind == PARLEY_ORDER_ERASE;
    bool keep = c->keep_on_erasure || (c->dir != NULL && parley_directory_keep_on_erasure(c->dir));
    parley_err err = parley__vault_scan(c->vault, "conv", NULL, 0, collect_customer_conv, &x);

    memset(ri, 0, sizeof(*ri));
    memcpy(ri->order_id, o->order_id, PARLEY_ORDER_ID_BYTES);
    ri->time_ms = c->now;
    ri->conversations = (uint32_t)x.n;
    ri->outcome = erase && keep && x.n > 0 ? PARLEY_ORDER_KEPT : PARLEY_ORDER_DONE;
    if (err == PARLEY_OK)
        err = parley__vault_begin(c->vault);
    for (size_t i = 0; err == PARLEY_OK && i < x.n; i++)
        err = order_conv(c, x.ids[i], erase, keep, &ri->messages);
    if (err == PARLEY_OK)
        err = receipt_make(c, ri);
    if (err == PARLEY_OK)
        err = parley__vault_commit(c->vault);
    else if (c->vault->in_tx)
        parley__vault_rollback(c->vault);
    free(x.ids);
    return err;
}

/* Tells the application: the order, the customer, what was done; an export's JSON in text. */
static void order_event(struct parley__core *c, const parley_order_info *o,
                        const parley_order_receipt_info *ri, parley_err err, const char *json,
                        size_t len)
{
    parley_event ev;

    event_init(&ev, PARLEY_EV_ORDER, NULL);
    memcpy(ev.order_id, o->order_id, PARLEY_ORDER_ID_BYTES);
    memcpy(ev.sender_sign_pk, o->customer_sign_pk, 32);
    ev.order_kind = o->kind;
    ev.order_outcome = err == PARLEY_OK ? ri->outcome : PARLEY_ORDER_FAILED;
    ev.order_conversations = err == PARLEY_OK ? ri->conversations : 0;
    ev.order_messages = err == PARLEY_OK ? ri->messages : 0;
    ev.error = err;
    emit(c, &ev, (const uint8_t *)json, json != NULL ? len : 0);
}

/* The receipt held for the order, to the relay; false when none is held. */
static bool receipt_resend(struct parley__core *c, const uint8_t order_id[16])
{
    uint8_t *held = NULL;
    size_t held_len = 0;

    if (parley__vault_get(c->vault, "orders", order_id, PARLEY_ORDER_ID_BYTES, &held,
                          &held_len) != PARLEY_OK)
        return false;
    receipt_send(c, held, held_len);
    parley_free(held, held_len);
    return true;
}

void on_order(struct parley__core *c, const Parley__BrandOrder *bo)
{
    parley_order_receipt_info ri;
    parley_order_info o;
    char *json = NULL;
    size_t len = 0;
    parley_err err;

    if (!c->agent || c->net != NET_READY || bo == NULL)
        return;
    err = parley__order_check(bo, c->brand_pk, c->brand_id, c->now / 1000u, &o);
    if (err != PARLEY_OK) {
        emit_rejected(c, NULL, err); /* forged, another brand's, expired: nothing done */
        return;
    }
    /* Answered before (the relay lost the receipt, or this is a replay): the same receipt. */
    if (receipt_resend(c, o.order_id))
        return;
    memset(&ri, 0, sizeof(ri));
    /* An export is made before anything is recorded: the receipt says it was handed over. */
    err = o.kind == PARLEY_ORDER_EXPORT
              ? parley__core_export_customer(c, o.customer_sign_pk, &json, &len)
              : PARLEY_OK;
    if (err == PARLEY_OK)
        err = order_run(c, &o, &ri);
    /* Failed: nothing changed, no receipt; the relay hands the order over again next time. */
    if (err == PARLEY_OK && o.kind == PARLEY_ORDER_ERASE && ri.conversations > 0)
        parley__vault_compact(c->vault); /* no old copy of what was erased stays in the files */
    if (err == PARLEY_OK)
        receipt_resend(c, o.order_id);
    order_event(c, &o, &ri, err, json, len);
    parley_free(json, len);
}
