/*
 * Conversation export for access and portability requests (GDPR art. 15
 * and 20): the local history and the customer's signed consent receipt as
 * one JSON document, written by the library so every host exports the
 * same thing (the file it goes into is io/export_file.c's).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define DAY_MS (24ull * 3600 * 1000)

struct jbuf {
    char *p;
    size_t n, cap;
    bool failed;
};

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
    char *grown;

    if (b->failed)
        return;
    /* Conversations in clear: no old copy of the buffer is left in freed memory. */
    grown = n < SIZE_MAX - b->n - 1 ? parley__grow_wiped(b->p, &b->cap, b->n + n + 1, 1) : NULL;
    if (grown == NULL) {
        b->failed = true;
        return;
    }
    b->p = grown;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* A string literal, its length counted by the compiler. */
#define JB_LIT(b, lit) jb_put((b), (lit), sizeof(lit) - 1)

static void jb_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jb_printf(struct jbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        b->failed = true;
    else
        jb_put(b, tmp, (size_t)n);
}

/* A JSON string: UTF-8 passes through (already validated), controls and quotes escaped. */
static void jb_string(struct jbuf *b, const char *s, size_t n)
{
    JB_LIT(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            jb_put(b, esc, 2);
        } else if (ch < 0x20) {
            jb_printf(b, "\\u%04x", ch);
        } else {
            jb_put(b, (const char *)&s[i], 1);
        }
    }
    JB_LIT(b, "\"");
}

static void jb_hex(struct jbuf *b, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];

    if (n > 64) {
        b->failed = true;
        return;
    }
    sodium_bin2hex(hex, sizeof(hex), p, n);
    jb_string(b, hex, 2 * n);
}

/* Hands the document over on success (err PARLEY_OK and nothing failed), frees it otherwise. */
static parley_err jb_finish(struct jbuf *b, parley_err err, char **json, size_t *len)
{
    if (err == PARLEY_OK && b->failed)
        err = PARLEY_ENOMEM;
    if (err != PARLEY_OK) {
        parley_free(b->p, b->cap);
        return err;
    }
    *json = b->p;
    *len = b->n;
    return PARLEY_OK;
}

static const char *state_name(parley_conv_state s)
{
    static const char *const names[] = {"waiting", "queued", "active", "transferring",
                                        "transferred", "taken", "closed"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

struct export_ctx {
    struct jbuf *b;
    size_t messages;
};

/* ,"name":["a","b"] */
static void jb_names(struct jbuf *b, const char *name, char *const *list, size_t n)
{
    jb_printf(b, ",\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            JB_LIT(b, ",");
        jb_string(b, list[i], strlen(list[i]));
    }
    JB_LIT(b, "]");
}

static void export_consent(struct jbuf *b, const uint8_t *receipt, size_t len,
                           const uint8_t customer[32], const char *brand_id)
{
    Parley__ConsentReceipt *r = parley__consent_receipt__unpack(NULL, len, receipt);
    Parley__ConsentReceiptBody *body = NULL;
    size_t b64_len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len);
    bool valid;

    if (r != NULL)
        body = parley__consent_receipt_body__unpack(NULL, r->body.len, r->body.data);
    valid = body != NULL &&
            parley__verify_pb(customer, 32, PARLEY__DOMAIN_CONSENT, r->body, r->signature) ==
                PARLEY_OK &&
            strcmp(body->brand_id, brand_id) == 0;
    if (b64 == NULL) {
        b->failed = true;
    } else {
        sodium_bin2base64(b64, b64_len, receipt, len, sodium_base64_VARIANT_ORIGINAL);
        JB_LIT(b, ",\"consent\":{\"receipt_base64\":");
        jb_string(b, b64, strlen(b64));
        jb_printf(b, ",\"signature_valid\":%s", valid ? "true" : "false");
        if (body != NULL) {
            jb_printf(b, ",\"notice_version\":%u,\"time_ms\":%llu,\"notice_hash\":",
                      body->notice_version, (unsigned long long)body->time_ms);
            jb_hex(b, body->notice_hash.data, body->notice_hash.len <= 64 ? body->notice_hash.len : 0);
            jb_names(b, "purposes", body->purposes, body->n_purposes);
            jb_names(b, "withdrawn_purposes", body->withdrawn_purposes,
                     body->n_withdrawn_purposes);
        }
        JB_LIT(b, "}");
    }
    free(b64);
    if (body != NULL)
        parley__consent_receipt_body__free_unpacked(body, NULL);
    if (r != NULL)
        parley__consent_receipt__free_unpacked(r, NULL);
}

/* One consent to special categories: what it says, checked again here, and the signed bytes. */
static void export_special(struct jbuf *b, const struct buf *s, const struct conv *cv)
{
    Parley__SpecialConsent *sc = parley__special_consent__unpack(NULL, s->n, s->p);
    Parley__SpecialConsentBody *body =
        sc != NULL ? parley__special_consent_body__unpack(NULL, sc->body.len, sc->body.data) : NULL;
    struct parley__special got;
    size_t b64_len = sodium_base64_encoded_len(s->n, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len);
    bool valid = parley__special_check_buf(s->p, s->n, cv->customer, cv->id, &got) == PARLEY_OK;
    unsigned k = 0;

    if (b64 == NULL || body == NULL) {
        b->failed = true;
        goto done;
    }
    sodium_bin2base64(b64, b64_len, s->p, s->n, sodium_base64_VARIANT_ORIGINAL);
    JB_LIT(b, "{\"categories\":[");
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        if (parley__special_categories(s->p, s->n) & PARLEY_SCAN_BIT(c))
            jb_printf(b, "%s\"%s\"", k++ > 0 ? "," : "",
                      parley_scan_category_name((parley_scan_category)c));
    JB_LIT(b, "],\"wording\":");
    jb_string(b, body->wording, strlen(body->wording));
    jb_printf(b, ",\"time_ms\":%llu,\"signature_valid\":%s,\"consent_base64\":",
              (unsigned long long)body->time_ms, valid ? "true" : "false");
    jb_string(b, b64, strlen(b64));
    JB_LIT(b, "}");
done:
    free(b64);
    if (body != NULL)
        parley__special_consent_body__free_unpacked(body, NULL);
    if (sc != NULL)
        parley__special_consent__free_unpacked(sc, NULL);
}

/* The customer's explicit consents to special categories (art. 9(2)(a)) in the conversation. */
static parley_err export_specials(struct parley__core *c, struct jbuf *b, const uint8_t conv[16])
{
    struct conv cv;
    parley_err err = conv_load(c, conv, &cv);

    if (err != PARLEY_OK)
        return err;
    JB_LIT(b, ",\"special_consents\":[");
    for (size_t i = 0; i < cv.n_special; i++) {
        if (i > 0)
            JB_LIT(b, ",");
        export_special(b, &cv.special[i], &cv);
    }
    JB_LIT(b, "]");
    conv_free(&cv);
    return PARLEY_OK;
}

static int export_message(void *user, const parley_history_entry *e)
{
    struct export_ctx *x = user;

    if (x->messages++ > 0)
        JB_LIT(x->b, ",");
    JB_LIT(x->b, "{");
    jb_printf(x->b, "\"seq\":%llu,\"time_ms\":%llu,\"from_me\":%s,\"sender\":",
              (unsigned long long)e->seq, (unsigned long long)e->time_ms,
              e->from_me ? "true" : "false");
    jb_string(x->b, e->sender_name, strlen(e->sender_name));
    JB_LIT(x->b, ",\"sender_sign_key\":");
    jb_hex(x->b, e->sender_sign_pk, 32);
    JB_LIT(x->b, ",\"text\":");
    jb_string(x->b, e->text, e->text_len);
    JB_LIT(x->b, "}");
    return 0;
}

/*
 * What GDPR art. 15(1) asks to be told besides the data itself: who
 * decides (the brand), the purposes of the notice, the recipients (the
 * brand's agent named in the record, every valid agent of the queue for
 * a conversation's first message, the relay operator as processor, which
 * holds sealed envelopes only), how long this device keeps it, and where
 * it came from.
 */
static void export_processing(struct parley__core *c, struct jbuf *b,
                              const parley_conversation_info *info, const char *brand_id)
{
    const parley_directory *d = parley__core_directory(c);
    uint32_t hold = d != NULL ? parley_directory_legal_hold_days(d) : 0;
    size_t np = d != NULL ? parley_directory_purpose_count(d) : 0;

    JB_LIT(b, ",\"processing\":{\"controller\":");
    jb_string(b, brand_id, strlen(brand_id));
    JB_LIT(b, ",\"purposes\":[");
    for (size_t i = 0; i < np; i++) {
        const char *p = parley_directory_purpose(d, i);

        if (i > 0)
            JB_LIT(b, ",");
        jb_string(b, p, strlen(p));
    }
    JB_LIT(b, "],\"recipients\":[");
    if (info->has_agent) {
        JB_LIT(b, "{\"kind\":\"agent\",\"agent_id\":");
        jb_string(b, info->agent.agent_id, strlen(info->agent.agent_id));
        JB_LIT(b, "},");
    }
    JB_LIT(b, "{\"kind\":\"queue\",\"queue\":");
    jb_string(b, info->queue, strlen(info->queue));
    JB_LIT(b, ",\"holds\":\"the first message, on the device of every agent of the queue\"},"
              "{\"kind\":\"relay\",\"role\":\"processor\",\"holds\":\"sealed envelopes "
              "and routing metadata until delivered, at most its TTL (30 days by default)\"}]");
    jb_printf(b, ",\"retention\":{\"history_days\":%llu,\"counted_from\":\"receipt on this "
                 "device\"",
              (unsigned long long)(retention_ms(c) / DAY_MS));
    if (d != NULL && parley_directory_keep_on_erasure(d))
        jb_printf(b, ",\"legal_hold_days\":%llu",
                  (unsigned long long)(hold != 0 ? hold : retention_ms(c) / DAY_MS));
    JB_LIT(b, "},\"source\":\"the customer, through the brand's support chat: messages typed "
              "by the customer and by the brand's agents\"}");
}

parley_err parley__core_export_json(struct parley__core *c, const parley_conversation_info *info,
                                    const uint8_t *consent, size_t consent_len,
                                    const char *brand_id, char **json, size_t *len)
{
    struct jbuf b = {NULL, 0, 0, false};
    struct export_ctx x = {&b, 0};
    char fp[PARLEY_FINGERPRINT_LEN];
    parley_err err;

    JB_LIT(&b, "{\"format\":\"parley-export-v1\",\"brand_id\":");
    jb_string(&b, brand_id, strlen(brand_id));
    JB_LIT(&b, ",\"conversation_id\":");
    jb_hex(&b, info->conversation_id, 16);
    JB_LIT(&b, ",\"queue\":");
    jb_string(&b, info->queue, strlen(info->queue));
    jb_printf(&b, ",\"state\":\"%s\",\"customer_sign_key\":", state_name(info->state));
    jb_hex(&b, info->customer_sign_pk, 32);
    if (info->erasure != 0)
        jb_printf(&b, ",\"erasure\":\"%s\"", info->erasure == 2 ? "kept" : "deleted");
    if (info->has_agent) {
        parley_fingerprint(info->agent.sign_pk, fp);
        JB_LIT(&b, ",\"agent\":{\"agent_id\":");
        jb_string(&b, info->agent.agent_id, strlen(info->agent.agent_id));
        JB_LIT(&b, ",\"display_name\":");
        jb_string(&b, info->agent.display_name, strlen(info->agent.display_name));
        JB_LIT(&b, ",\"sign_key\":");
        jb_hex(&b, info->agent.sign_pk, 32);
        JB_LIT(&b, ",\"fingerprint\":");
        jb_string(&b, fp, strlen(fp));
        JB_LIT(&b, "}");
    }
    if (consent_len > 0)
        export_consent(&b, consent, consent_len, info->customer_sign_pk, brand_id);
    err = export_specials(c, &b, info->conversation_id);
    export_processing(c, &b, info, brand_id);
    JB_LIT(&b, ",\"messages\":[");
    if (err == PARLEY_OK)
        err = parley__core_history_all(c, info->conversation_id, export_message, &x);
    JB_LIT(&b, "]}\n");
    return jb_finish(&b, err, json, len);
}

struct customer_ctx {
    const uint8_t *customer;
    uint8_t (*ids)[16];
    size_t n, cap;
    bool failed;
};

static int customer_conv(void *user, const parley_conversation_info *info)
{
    struct customer_ctx *x = user;
    uint8_t(*grown)[16];

    if (sodium_memcmp(info->customer_sign_pk, x->customer, 32) != 0)
        return 0;
    grown = parley__grow(x->ids, &x->cap, x->n + 1, sizeof(*grown));
    if (grown == NULL) {
        x->failed = true;
        return 1;
    }
    x->ids = grown;
    memcpy(x->ids[x->n++], info->conversation_id, 16);
    return 0;
}

parley_err parley__core_export_customer(struct parley__core *c, const uint8_t customer[32],
                                        char **json, size_t *len)
{
    struct customer_ctx x = {customer, NULL, 0, 0, false};
    struct jbuf b = {NULL, 0, 0, false};
    parley_err err;

    if (customer == NULL || json == NULL || len == NULL)
        return PARLEY_EINVAL;
    err = parley__core_list(c, customer_conv, &x);
    if (err == PARLEY_OK && x.failed)
        err = PARLEY_ENOMEM;
    JB_LIT(&b, "{\"format\":\"parley-customer-export-v1\",\"brand_id\":");
    jb_string(&b, c->brand_id, strlen(c->brand_id));
    JB_LIT(&b, ",\"customer_sign_key\":");
    jb_hex(&b, customer, 32);
    JB_LIT(&b, ",\"conversations\":[");
    for (size_t i = 0; err == PARLEY_OK && i < x.n; i++) {
        char *one = NULL;
        size_t one_len = 0;

        err = parley__core_export(c, x.ids[i], &one, &one_len);
        if (err != PARLEY_OK)
            break;
        if (i > 0)
            JB_LIT(&b, ",");
        jb_put(&b, one, one_len > 0 && one[one_len - 1] == '\n' ? one_len - 1 : one_len);
        parley_free(one, one_len);
    }
    JB_LIT(&b, "]}\n");
    free(x.ids);
    return jb_finish(&b, err, json, len);
}
