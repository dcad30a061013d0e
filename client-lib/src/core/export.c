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

#include "core.h"

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
    JB_LIT(&b, ",\"messages\":[");
    err = parley__core_history_all(c, info->conversation_id, export_message, &x);
    JB_LIT(&b, "]}\n");
    if (err == PARLEY_OK && b.failed)
        err = PARLEY_ENOMEM;
    if (err != PARLEY_OK) {
        parley_free(b.p, b.cap);
        return err;
    }
    *json = b.p;
    *len = b.n;
    return PARLEY_OK;
}
