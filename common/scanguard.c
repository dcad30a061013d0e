/*
 * The sensitive-data guard of the two clients (see scanguard.h). It
 * exists so that parley-customer and parley-agent read the same --guard
 * syntax, start from the same default and describe findings with the
 * same words; what each client then asks of the person is its own.
 */
#include "scanguard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Findings kept on the stack; a text with more is scanned again into the heap. */
#define STACK_FINDINGS 32u

/* By parley_scan_action value. */
static const char *const action_names[] = {"allow", "warn", "block", "redact", "confirm"};

/* What a category is, in the words shown before a send. */
static const char *const category_words[PARLEY_SCAN_CATEGORY_COUNT] = {
    [PARLEY_SCAN_HEALTH] = "health information",
    [PARLEY_SCAN_RELIGION] = "religious or philosophical beliefs",
    [PARLEY_SCAN_POLITICS] = "political opinions",
    [PARLEY_SCAN_UNION] = "trade-union membership",
    [PARLEY_SCAN_ETHNICITY] = "racial or ethnic origin",
    [PARLEY_SCAN_SEXUAL_ORIENTATION] = "sexual orientation",
    [PARLEY_SCAN_BIOMETRIC] = "biometric or genetic data",
    [PARLEY_SCAN_CARD] = "a payment card number",
    [PARLEY_SCAN_IBAN] = "a bank account number",
    [PARLEY_SCAN_NIR] = "a French social security number",
    [PARLEY_SCAN_EMAIL] = "an e-mail address",
    [PARLEY_SCAN_PHONE] = "a phone number",
};

void scanguard_policy_none(parley_scan_policy *p)
{
    memset(p, 0, sizeof(*p)); /* PARLEY_SCAN_ALLOW everywhere, no threshold, markers */
}

const char *scanguard_action_name(parley_scan_action a)
{
    return (unsigned)a < sizeof(action_names) / sizeof(action_names[0]) ? action_names[a] : "?";
}

void scanguard_policy_default(parley_scan_policy *p)
{
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        p->action[c] = PARLEY_SCAN_WARN;
    p->action[PARLEY_SCAN_EMAIL] = PARLEY_SCAN_ALLOW;
    p->action[PARLEY_SCAN_PHONE] = PARLEY_SCAN_ALLOW;
    p->min_confidence = 0;
    p->mask = 0;
}

static int category_by_name(const char *name, size_t len)
{
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++) {
        const char *n = parley_scan_category_name((parley_scan_category)c);

        if (n != NULL && strlen(n) == len && memcmp(n, name, len) == 0)
            return (int)c;
    }
    return -1;
}

static int action_by_name(const char *name, size_t len)
{
    for (size_t a = 0; a < sizeof(action_names) / sizeof(action_names[0]); a++)
        if (strlen(action_names[a]) == len && memcmp(action_names[a], name, len) == 0)
            return (int)a;
    return -1;
}

int scanguard_policy_parse(parley_scan_policy *p, const char *spec, char *err, size_t err_cap)
{
    parley_scan_policy next = *p;
    const char *item = spec;

    for (;;) {
        size_t len = strcspn(item, ",");
        const char *eq = memchr(item, '=', len);
        int cat, act;

        if (len == 0) {
            snprintf(err, err_cap, "empty item in \"%s\" (CATEGORY=ACTION,...)", spec);
            return -1;
        }
        if (eq == NULL) {
            snprintf(err, err_cap, "\"%.*s\" is not CATEGORY=ACTION", (int)len, item);
            return -1;
        }
        cat = category_by_name(item, (size_t)(eq - item));
        if (cat < 0) {
            snprintf(err, err_cap,
                     "unknown category \"%.*s\" (health, religion, politics, union, ethnicity, "
                     "sexual_orientation, biometric, card, iban, nir, email, phone)",
                     (int)(eq - item), item);
            return -1;
        }
        act = action_by_name(eq + 1, len - (size_t)(eq + 1 - item));
        if (act < 0) {
            snprintf(err, err_cap,
                     "unknown action \"%.*s\" for %.*s (allow, warn, confirm, block, redact)",
                     (int)(len - (size_t)(eq + 1 - item)), eq + 1, (int)(eq - item), item);
            return -1;
        }
        next.action[cat] = (parley_scan_action)act;
        if (item[len] == '\0')
            break;
        item += len + 1;
    }
    *p = next;
    return 0;
}

/* The action p takes on f, as parley_scan_apply() decides it. */
static parley_scan_action action_for(const parley_scan_policy *p, const parley_scan_finding *f)
{
    if (f->confidence < p->min_confidence)
        return PARLEY_SCAN_ALLOW;
    return p->action[f->category];
}

parley_err scanguard_check(const parley_scan_policy *p, const char *text,
                           struct scanguard_result *r)
{
    parley_scan_finding stack[STACK_FINDINGS], *found = stack;
    size_t len = strlen(text), n = 0, cap = STACK_FINDINGS;
    parley_err err;

    memset(r, 0, sizeof(*r));
    err = parley_scan(text, len, stack, cap, &n);
    if (err == PARLEY_ETOOBIG && n > cap) {
        found = calloc(n, sizeof(*found));
        if (found == NULL) {
            err = PARLEY_ENOMEM;
            goto done;
        }
        cap = n;
        err = parley_scan(text, len, found, cap, &n);
    }
    if (err != PARLEY_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        switch (action_for(p, &found[i])) {
        case PARLEY_SCAN_WARN:
            r->warn |= SCANGUARD_BIT(found[i].category);
            break;
        case PARLEY_SCAN_BLOCK:
            r->block |= SCANGUARD_BIT(found[i].category);
            break;
        case PARLEY_SCAN_REDACT:
            r->redact |= SCANGUARD_BIT(found[i].category);
            break;
        case PARLEY_SCAN_CONFIRM:
            r->confirm |= SCANGUARD_BIT(found[i].category);
            break;
        case PARLEY_SCAN_ALLOW:
            break;
        }
    }
    err = parley_scan_apply(p, text, len, found, n, &r->redacted, &r->redacted_len, &r->verdict);
done:
    /* Where the findings were says something about the text: gone with it. */
    sodium_memzero(found, cap * sizeof(*found));
    if (found != stack)
        free(found);
    if (err != PARLEY_OK) {
        scanguard_result_wipe(r);
        memset(r, 0, sizeof(*r));
    }
    return err;
}

void scanguard_result_wipe(struct scanguard_result *r)
{
    if (r == NULL || r->redacted == NULL)
        return;
    sodium_memzero(r->redacted, r->redacted_len);
    parley_free(r->redacted, r->redacted_len);
    r->redacted = NULL;
    r->redacted_len = 0;
}

char *scanguard_names(unsigned mask, char *out, size_t cap)
{
    size_t used = 0;

    if (cap == 0)
        return out;
    out[0] = '\0';
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++) {
        int k;

        if (!(mask & SCANGUARD_BIT(c)))
            continue;
        k = snprintf(out + used, cap - used, "%s%s", used > 0 ? ", " : "",
                     parley_scan_category_name((parley_scan_category)c));
        if (k < 0 || (size_t)k >= cap - used)
            break;
        used += (size_t)k;
    }
    return out;
}

char *scanguard_describe(unsigned mask, char *out, size_t cap)
{
    unsigned total = 0, seen = 0;
    size_t used = 0;

    if (cap == 0)
        return out;
    out[0] = '\0';
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        total += (mask & SCANGUARD_BIT(c)) != 0;
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++) {
        const char *sep;
        int k;

        if (!(mask & SCANGUARD_BIT(c)))
            continue;
        seen++;
        sep = seen == 1 ? "" : seen == total ? " and " : ", ";
        k = snprintf(out + used, cap - used, "%s%s (%s)", sep, category_words[c],
                     parley_scan_category_name((parley_scan_category)c));
        if (k < 0 || (size_t)k >= cap - used)
            break;
        used += (size_t)k;
    }
    return out;
}
