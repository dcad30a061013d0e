/*
 * Consent to special-category data (GDPR art. 9(2)(a)), conversation by
 * conversation. A customer's client refuses to send a text in which the
 * guard finds a special category (health ... biometric) that the customer
 * has not explicitly consented to send in that conversation
 * (PARLEY_ESPECIAL). The consent is a signed object (wire/special.c) that
 * travels before the text: inside the Open for a conversation's first
 * text, alone otherwise; agents check it, keep it with the conversation
 * and hand it on with a Handover.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/* Customers: consents given before the conversation they are for exists. */
struct special_next {
    uint32_t categories; /* all of them */
    size_t n;
    struct {
        uint32_t categories;
        char *wording;
        uint64_t time_ms;
    } item[PARLEY_SCAN_CATEGORY_COUNT];
};

/* Keeps an encoded consent naming categories in cv when it adds one. False: out of memory. */
static bool special_append(struct conv *cv, const uint8_t *enc, size_t n, uint32_t categories)
{
    if ((categories & ~cv->special_mask) == 0 || cv->n_special == PARLEY_SCAN_CATEGORY_COUNT)
        return true; /* nothing new: the consent held already says it */
    if (!buf_set(&cv->special[cv->n_special], enc, n))
        return false;
    cv->n_special++;
    cv->special_mask |= categories;
    return true;
}

bool special_load(struct conv *cv, const ProtobufCBinaryData *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t cats = parley__special_categories(list[i].data, list[i].len);

        if (cats == 0 || !special_append(cv, list[i].data, list[i].len, cats))
            return false;
    }
    return true;
}

/* What the customer consented to: in cv, or (cv NULL) for the next conversation. */
static uint32_t consented(const struct parley__core *c, const struct conv *cv)
{
    if (cv != NULL)
        return cv->special_mask;
    return c->special_next != NULL ? c->special_next->categories : 0;
}

/* The special categories in text (n bytes) not consented to; none for agents. */
static parley_err special_missing(const struct parley__core *c, const struct conv *cv,
                                  const char *text, size_t n, uint32_t *missing)
{
    uint32_t found = 0;
    parley_err err;

    *missing = 0;
    if (c->agent)
        return PARLEY_OK;
    err = text_categories(text, n, &found);
    if (err == PARLEY_OK)
        *missing = found & PARLEY_SCAN_SPECIAL & ~consented(c, cv);
    return err;
}

parley_err special_check(const struct parley__core *c, const struct conv *cv, const char *text,
                         size_t n)
{
    uint32_t missing;
    parley_err err = special_missing(c, cv, text, n, &missing);

    return err != PARLEY_OK ? err : missing != 0 ? PARLEY_ESPECIAL : PARLEY_OK;
}

parley_err parley__core_special_needed(struct parley__core *c, const uint8_t conv[16],
                                       const char *text, uint32_t *categories)
{
    struct conv cv;
    parley_err err;

    if (text == NULL || categories == NULL)
        return PARLEY_EINVAL;
    *categories = 0;
    if (conv == NULL)
        return special_missing(c, NULL, text, strlen(text), categories);
    err = conv_load(c, conv, &cv);
    if (err == PARLEY_OK)
        err = special_missing(c, &cv, text, strlen(text), categories);
    conv_free(&cv);
    return err;
}

void special_next_free(struct parley__core *c)
{
    if (c->special_next == NULL)
        return;
    for (size_t i = 0; i < c->special_next->n; i++)
        parley_free(c->special_next->item[i].wording, strlen(c->special_next->item[i].wording));
    free(c->special_next);
    c->special_next = NULL;
}

/* Customers: a consent for the next conversation opened, signed once its id exists. */
static parley_err special_next_add(struct parley__core *c, uint32_t categories,
                                   const char *wording, uint64_t now)
{
    struct special_next *s = c->special_next;
    uint32_t fresh;

    if (s == NULL && (s = c->special_next = calloc(1, sizeof(*s))) == NULL)
        return PARLEY_ENOMEM;
    fresh = categories & ~s->categories;
    if (fresh == 0)
        return PARLEY_OK;
    if ((s->item[s->n].wording = strdup(wording)) == NULL)
        return PARLEY_ENOMEM;
    s->item[s->n].categories = fresh;
    s->item[s->n].time_ms = now;
    s->n++;
    s->categories |= fresh;
    return PARLEY_OK;
}

struct special_add {
    const uint8_t *enc;
    size_t len;
    uint32_t categories;
};

/* In the transaction that sends a consent: kept with the conversation. */
static parley_err special_sent(struct parley__core *c, struct conv *cv, uint64_t seq, void *arg)
{
    const struct special_add *add = arg;

    (void)c;
    (void)seq;
    return special_append(cv, add->enc, add->len, add->categories) ? PARLEY_OK : PARLEY_ENOMEM;
}

/* Sends the consent p (add: its encoding) in cv: now to the agent, or when one claims. */
static parley_err special_send(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                               struct special_add *add, uint64_t now)
{
    size_t n_before = c->n_out;
    parley_err err;

    if (cv->state == PARLEY_CONV_ACTIVE)
        return send_now_with(c, cv, p, true, special_sent, add, NULL, now);
    /* Waiting for a claim or a transfer: before the texts that wait too, in order. */
    err = parley__vault_begin(c->vault);
    if (err != PARLEY_OK)
        return err;
    err = pending_add(c, cv->id, NULL, p);
    if (err == PARLEY_OK)
        err = special_sent(c, cv, 0, add);
    return conv_commit(c, cv, err, n_before);
}

static bool wording_ok(const char *w)
{
    size_t n = w != NULL ? strlen(w) : 0;

    return n > 0 && n <= PARLEY__MAX_WORDING && parley__utf8_valid((const uint8_t *)w, n, true);
}

parley_err parley__core_special_consent(struct parley__core *c, const uint8_t conv[16],
                                        uint32_t categories, const char *wording, uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    struct special_add add = {NULL, 0, 0};
    uint8_t *enc = NULL;
    struct conv cv;
    parley_err err;

    if (c->agent)
        return PARLEY_ESTATE;
    if (categories == 0 || (categories & ~PARLEY_SCAN_SPECIAL) != 0 || !wording_ok(wording))
        return PARLEY_EINVAL;
    if (conv == NULL)
        return special_next_add(c, categories, wording, now);
    err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err;
    add.categories = categories & ~cv.special_mask;
    if (cv.state != PARLEY_CONV_WAITING && cv.state != PARLEY_CONV_ACTIVE &&
        cv.state != PARLEY_CONV_TRANSFERRING)
        err = PARLEY_ESTATE;
    else if (add.categories != 0)
        err = parley__special_make(c->id, cv.id, add.categories, wording, now, &enc, &add.len);
    if (err == PARLEY_OK && enc != NULL) {
        add.enc = enc;
        p.special_consent = parley__special_consent__unpack(NULL, add.len, enc);
        p.body_case = PARLEY__PAYLOAD__BODY_SPECIAL_CONSENT;
        err = p.special_consent != NULL ? special_send(c, &cv, &p, &add, now) : PARLEY_ENOMEM;
        if (p.special_consent != NULL)
            parley__special_consent__free_unpacked(p.special_consent, NULL);
    }
    free(enc);
    conv_free(&cv);
    return err;
}

parley_err special_for_open(struct parley__core *c, struct conv *cv, Parley__Open *o)
{
    const struct special_next *s = c->special_next;
    parley_err err = PARLEY_OK;

    if (s == NULL || s->n == 0)
        return PARLEY_OK;
    o->special_consents = calloc(s->n, sizeof(*o->special_consents));
    if (o->special_consents == NULL)
        return PARLEY_ENOMEM;
    for (size_t i = 0; err == PARLEY_OK && i < s->n; i++) {
        uint8_t *enc = NULL;
        size_t len = 0;

        err = parley__special_make(c->id, cv->id, s->item[i].categories, s->item[i].wording,
                                   s->item[i].time_ms, &enc, &len);
        if (err == PARLEY_OK && !special_append(cv, enc, len, s->item[i].categories))
            err = PARLEY_ENOMEM;
        if (err == PARLEY_OK &&
            (o->special_consents[i] = parley__special_consent__unpack(NULL, len, enc)) == NULL)
            err = PARLEY_ENOMEM;
        if (err == PARLEY_OK)
            o->n_special_consents++;
        free(enc);
    }
    return err;
}

void special_open_done(struct parley__core *c, Parley__Open *o, bool opened)
{
    special_list_free(o->special_consents, o->n_special_consents);
    o->special_consents = NULL;
    o->n_special_consents = 0;
    if (opened)
        special_next_free(c);
}

parley_err special_take(struct conv *cv, const Parley__SpecialConsent *s)
{
    struct parley__special got;
    uint8_t *enc;
    size_t len;
    parley_err err = parley__special_check(s, cv->customer, cv->id, &got);

    if (err == PARLEY_OK)
        err = parley__pack(&s->base, &enc, &len);
    if (err != PARLEY_OK)
        return err;
    if (!special_append(cv, enc, len, got.categories))
        err = PARLEY_ENOMEM;
    free(enc);
    return err;
}

parley_err special_take_all(struct conv *cv, Parley__SpecialConsent *const *list, size_t n)
{
    parley_err err = PARLEY_OK;

    for (size_t i = 0; err == PARLEY_OK && i < n; i++)
        err = special_take(cv, list[i]);
    return err;
}

void special_emit(struct parley__core *c, const struct conv *cv, size_t from)
{
    for (size_t i = from; i < cv->n_special; i++) {
        Parley__SpecialConsent *s =
            parley__special_consent__unpack(NULL, cv->special[i].n, cv->special[i].p);
        Parley__SpecialConsentBody *b =
            s != NULL ? parley__special_consent_body__unpack(NULL, s->body.len, s->body.data)
                      : NULL;
        parley_event ev;

        if (b != NULL) {
            event_init(&ev, PARLEY_EV_SPECIAL_CONSENT, cv->id);
            ev.special_categories = parley__special_categories(cv->special[i].p, cv->special[i].n);
            ev.time_ms = b->time_ms;
            emit(c, &ev, (const uint8_t *)b->wording, strlen(b->wording));
            parley__special_consent_body__free_unpacked(b, NULL);
        }
        if (s != NULL)
            parley__special_consent__free_unpacked(s, NULL);
    }
}

parley_err special_list(const struct conv *cv, Parley__SpecialConsent ***out, size_t *n)
{
    *n = 0;
    *out = cv->n_special > 0 ? calloc(cv->n_special, sizeof(**out)) : NULL;
    if (cv->n_special > 0 && *out == NULL)
        return PARLEY_ENOMEM;
    for (size_t i = 0; i < cv->n_special; i++) {
        (*out)[i] = parley__special_consent__unpack(NULL, cv->special[i].n, cv->special[i].p);
        if ((*out)[i] == NULL)
            return PARLEY_ENOMEM;
        (*n)++;
    }
    return PARLEY_OK;
}

void special_list_free(Parley__SpecialConsent **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        parley__special_consent__free_unpacked(list[i], NULL);
    free(list);
}
