/*
 * The brand's policy on this device: the guard policy the brand signed
 * into its directory, combined with the host's own into the one the host
 * applies before a send, and enforced here too, so that a host which
 * ignores it cannot send what the brand blocks or has redacted; and the
 * redaction of one received message in this device's own store.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/* Findings scanned on the stack first; a text with more is scanned again into the heap. */
#define POLICY_FINDINGS 16u

/* What a text redacted in the store is replaced by when the guard finds nothing in it. */
#define REDACTED_WHOLE "[redacted]"

parley_err parley__core_scan_policy(struct parley__core *c, const parley_scan_policy *local,
                                    parley_scan_policy *out)
{
    parley_scan_policy brand, mine;

    if (out == NULL)
        return PARLEY_EINVAL;
    if (local != NULL)
        mine = *local;
    else
        parley_scan_policy_default(&mine);
    /* The newest directory held, also once expired: it is still the brand's last word. */
    if (c->dir != NULL)
        parley_directory_guard_policy(c->dir, &brand);
    else
        memset(&brand, 0, sizeof(brand)); /* no brand policy yet: everything ALLOW */
    return parley_scan_policy_stricter(out, &brand, &mine);
}

struct findings {
    parley_scan_finding stack[POLICY_FINDINGS], *f;
    size_t n, cap;
};

/* Scans text into x (x->f: the stack, or the heap for a text with more findings). */
static parley_err scan_into(struct findings *x, const char *text, size_t n)
{
    parley_err err;

    x->f = x->stack;
    x->cap = POLICY_FINDINGS;
    x->n = 0;
    err = parley_scan(text, n, x->f, x->cap, &x->n);
    if (err == PARLEY_ETOOBIG && x->n > x->cap) {
        x->f = calloc(x->n, sizeof(*x->f));
        if (x->f == NULL)
            return PARLEY_ENOMEM;
        x->cap = x->n;
        err = parley_scan(text, n, x->f, x->cap, &x->n);
    }
    return err;
}

/* Where the findings were says something about the text. */
static void findings_free(struct findings *x)
{
    if (x->f == NULL)
        return;
    sodium_memzero(x->f, x->cap * sizeof(*x->f));
    if (x->f != x->stack)
        free(x->f);
    x->f = NULL;
}

parley_err text_categories(const char *text, size_t n, uint32_t *mask)
{
    struct findings x;
    parley_err err = scan_into(&x, text, n);

    *mask = 0;
    for (size_t i = 0; err == PARLEY_OK && i < x.n; i++)
        *mask |= PARLEY_SCAN_BIT(x.f[i].category);
    findings_free(&x);
    return err;
}

/*
 * Refuses text (n bytes) with PARLEY_EPOLICY when it holds a finding
 * that the brand's policy blocks or has redacted: the host either
 * refused it or sent the redacted copy, whose markers are no finding.
 * A text that cannot be scanned is refused too (PARLEY_ENOMEM).
 */
parley_err brand_policy_check(const struct parley__core *c, const char *text, size_t n)
{
    parley_scan_policy brand;
    uint32_t found;
    parley_err err;

    if (c->dir == NULL)
        return PARLEY_OK;
    parley_directory_guard_policy(c->dir, &brand);
    err = text_categories(text, n, &found);
    for (unsigned cat = 0; err == PARLEY_OK && cat < PARLEY_SCAN_CATEGORY_COUNT; cat++)
        if ((found & PARLEY_SCAN_BIT(cat)) && (brand.action[cat] == PARLEY_SCAN_BLOCK ||
                                               brand.action[cat] == PARLEY_SCAN_REDACT))
            err = PARLEY_EPOLICY;
    return err;
}

struct nth_received {
    uint8_t (*keys)[24];
    size_t n, cap;
};

static int collect_received(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                            size_t val_len)
{
    struct nth_received *r = arg;
    Parley__HistoryRecord *h;
    uint8_t(*grown)[24];
    bool theirs;

    if (key_len != 24)
        return 0;
    h = parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    if (h == NULL)
        return 0;
    theirs = !h->from_me && h->kind == PARLEY_BODY_TEXT;
    parley__history_record__free_unpacked(h, &parley__wiping_allocator);
    if (!theirs)
        return 0;
    grown = parley__grow(r->keys, &r->cap, r->n + 1, sizeof(*grown));
    if (grown == NULL)
        return -1;
    r->keys = grown;
    memcpy(r->keys[r->n++], key, 24);
    return 0;
}

/* text (n bytes) with every finding replaced by its marker, or REDACTED_WHOLE when none. */
static parley_err redacted_copy(const char *text, size_t n, char **out, size_t *out_len)
{
    parley_scan_policy all;
    parley_scan_verdict v = PARLEY_SCAN_PASS;
    struct findings x;
    parley_err err = scan_into(&x, text, n);

    memset(&all, 0, sizeof(all));
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        all.action[c] = PARLEY_SCAN_REDACT;
    *out = NULL;
    if (err == PARLEY_OK)
        err = parley_scan_apply(&all, text, n, x.f, x.n, out, out_len, &v);
    findings_free(&x);
    if (err == PARLEY_OK && v != PARLEY_SCAN_REDACTED) {
        *out = malloc(sizeof(REDACTED_WHOLE));
        if (*out == NULL)
            return PARLEY_ENOMEM;
        memcpy(*out, REDACTED_WHOLE, sizeof(REDACTED_WHOLE));
        *out_len = sizeof(REDACTED_WHOLE) - 1;
    }
    return err;
}

parley_err parley__core_redact(struct parley__core *c, const uint8_t conv[16], size_t nth)
{
    struct nth_received r = {NULL, 0, 0};
    Parley__HistoryRecord *h = NULL;
    uint8_t *val = NULL;
    size_t val_len = 0, red_len = 0;
    char *red = NULL;
    struct conv cv;
    parley_err err;

    if (conv == NULL || nth == 0)
        return PARLEY_EINVAL;
    err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err;
    conv_free(&cv);
    err = parley__vault_scan(c->vault, "history", conv, 16, collect_received, &r);
    if (err == PARLEY_OK && nth > r.n)
        err = PARLEY_EINVAL;
    if (err == PARLEY_OK)
        err = parley__vault_get(c->vault, "history", r.keys[r.n - nth], 24, &val, &val_len);
    if (err == PARLEY_OK) {
        h = parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
        err = h != NULL ? PARLEY_OK : PARLEY_EMALFORMED;
    }
    if (err == PARLEY_OK)
        err = redacted_copy((const char *)h->text.data, h->text.len, &red, &red_len);
    if (err == PARLEY_OK) {
        ProtobufCBinaryData original = h->text;

        h->text = (ProtobufCBinaryData){red_len, (uint8_t *)red};
        err = parley__vault_put_pb(c->vault, "history", r.keys[r.n - nth], 24, &h->base);
        h->text = original; /* freed (and wiped) with the record; red below */
    }
    if (err == PARLEY_OK)
        parley__vault_compact(c->vault); /* the old text gone from the files too */
    if (h != NULL)
        parley__history_record__free_unpacked(h, &parley__wiping_allocator);
    if (red != NULL)
        parley_free(red, red_len + 1);
    if (val != NULL)
        parley_free(val, val_len);
    free(r.keys);
    return err;
}
