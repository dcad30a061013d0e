/*
 * The sensitive-data guard of the widget: libparley's parley_scan() on
 * the customer's text, in the page, and the widget's policy over its
 * findings. The policy adds one action to parley_scan_policy's: WARN
 * here tells the person without asking them anything, CONFIRM is the
 * library's WARN (send once confirmed). Offsets go back to the page in
 * UTF-16 code units, the unit of a JavaScript string.
 *
 * The default is parley-customer's (special categories need a
 * confirmation; e-mail addresses and phone numbers, which customers give
 * on purpose to be called back, pass) except that payment card numbers,
 * IBANs and French social security numbers are redacted, as libparley's
 * own default does: a customer pasting a card number into a chat almost
 * never means the agent to keep it.
 *
 * Once the session holds the brand's signed directory, the policy applied
 * is, for each category, the stricter of the brand's guard policy and the
 * widget's (parley_session_scan_policy, as every Parley client combines
 * them): a page cannot make the widget laxer than the brand.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <parley/common.h>
#include <parley/scan.h>
#include <parley/session.h>
#include <parley/text.h>

#include "glue.h"
#include "json.h"

#define STACK_FINDINGS 32u

static uint8_t guard[PARLEY_SCAN_CATEGORY_COUNT];
static bool guard_set;

static void guard_default(void)
{
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        guard[c] = WIDGET_GUARD_CONFIRM;
    guard[PARLEY_SCAN_CARD] = WIDGET_GUARD_REDACT;
    guard[PARLEY_SCAN_IBAN] = WIDGET_GUARD_REDACT;
    guard[PARLEY_SCAN_NIR] = WIDGET_GUARD_REDACT;
    guard[PARLEY_SCAN_EMAIL] = WIDGET_GUARD_ALLOW;
    guard[PARLEY_SCAN_PHONE] = WIDGET_GUARD_ALLOW;
    guard_set = true;
}

int parley_widget_guard_policy(const uint8_t actions[PARLEY_SCAN_CATEGORY_COUNT])
{
    if (actions == NULL) {
        guard_default();
        return PARLEY_OK;
    }
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        if (actions[c] > WIDGET_GUARD_REDACT)
            return PARLEY_EINVAL;
    memcpy(guard, actions, sizeof(guard));
    guard_set = true;
    return PARLEY_OK;
}

static void library_policy(parley_scan_policy *p)
{
    static const parley_scan_action as[] = {
        [WIDGET_GUARD_ALLOW] = PARLEY_SCAN_ALLOW,   [WIDGET_GUARD_WARN] = PARLEY_SCAN_ALLOW,
        [WIDGET_GUARD_CONFIRM] = PARLEY_SCAN_WARN,  [WIDGET_GUARD_BLOCK] = PARLEY_SCAN_BLOCK,
        [WIDGET_GUARD_REDACT] = PARLEY_SCAN_REDACT,
    };

    memset(p, 0, sizeof(*p));
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        p->action[c] = as[guard[c]];
    p->min_confidence = 0;
    p->mask = 0; /* "[card]" markers: the agent sees what was removed */
}

/*
 * The policy in force, p in the library's terms and actions[] in the
 * widget's: the widget's own combined with the brand's when a session
 * holds a directory. A category the combination leaves at ALLOW keeps
 * the widget's own ALLOW or WARN (which tells without asking, and is
 * ALLOW to the library).
 */
static void policy_in_force(parley_scan_policy *p, uint8_t actions[PARLEY_SCAN_CATEGORY_COUNT])
{
    static const uint8_t as[] = {
        [PARLEY_SCAN_ALLOW] = WIDGET_GUARD_ALLOW,    [PARLEY_SCAN_WARN] = WIDGET_GUARD_CONFIRM,
        [PARLEY_SCAN_CONFIRM] = WIDGET_GUARD_CONFIRM, [PARLEY_SCAN_REDACT] = WIDGET_GUARD_REDACT,
        [PARLEY_SCAN_BLOCK] = WIDGET_GUARD_BLOCK,
    };
    parley_scan_policy mine;
    struct parley_session *s = widget_session();

    library_policy(&mine);
    memcpy(actions, guard, PARLEY_SCAN_CATEGORY_COUNT);
    if (s == NULL || parley_session_scan_policy(s, &mine, p) != PARLEY_OK) {
        *p = mine;
        return;
    }
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        if (p->action[c] != PARLEY_SCAN_ALLOW)
            actions[c] = (unsigned)p->action[c] < sizeof(as) ? as[p->action[c]] : WIDGET_GUARD_BLOCK;
}

/* UTF-16 code units in text[0, off), as the page's string counts them. */
static size_t utf16_units(const char *text, size_t off)
{
    size_t i = 0, units = 0;

    while (i < off) {
        uint32_t cp;

        i += parley_utf8_next(text + i, off - i, &cp);
        units += cp >= 0x10000 ? 2 : 1;
    }
    return units;
}

static const char *verdict_name(parley_scan_verdict v)
{
    switch (v) {
    case PARLEY_SCAN_BLOCKED:
        return "blocked";
    case PARLEY_SCAN_REDACTED:
        return "redacted";
    case PARLEY_SCAN_WARNED:
        return "warned";
    case PARLEY_SCAN_PASS:
    default:
        return "pass";
    }
}

static const char *action_name(uint8_t a)
{
    static const char *const names[] = {"allow", "warn", "confirm", "block", "redact"};

    return a <= WIDGET_GUARD_REDACT ? names[a] : "allow";
}

static void scan_json(struct json *j, const char *text, const parley_scan_finding *f, size_t n,
                      const uint8_t actions[PARLEY_SCAN_CATEGORY_COUNT],
                      parley_scan_verdict verdict, const char *redacted, size_t redacted_len)
{
    JSON_LIT(j, "{\"findings\":[");
    for (size_t i = 0; i < n; i++) {
        uint8_t a = actions[f[i].category];

        json_item(j);
        JSON_LIT(j, "{\"category\":\"");
        json_raw(j, parley_scan_category_name(f[i].category),
                 strlen(parley_scan_category_name(f[i].category)));
        JSON_LIT(j, "\",\"start\":");
        json_u64(j, utf16_units(text, f[i].start));
        JSON_LIT(j, ",\"end\":");
        json_u64(j, utf16_units(text, f[i].end));
        JSON_LIT(j, ",\"confidence\":");
        json_u64(j, f[i].confidence);
        /* The first seven categories are GDPR art. 9's special categories. */
        JSON_LIT(j, ",\"special\":");
        json_bool(j, f[i].category <= PARLEY_SCAN_BIOMETRIC);
        JSON_LIT(j, ",\"action\":\"");
        json_raw(j, action_name(a), strlen(action_name(a)));
        JSON_LIT(j, "\"}");
    }
    JSON_LIT(j, "],\"verdict\":\"");
    json_raw(j, verdict_name(verdict), strlen(verdict_name(verdict)));
    JSON_LIT(j, "\"");
    if (redacted != NULL) {
        json_key(j, "redacted");
        json_text(j, redacted, redacted_len, false);
    }
    JSON_LIT(j, "}");
}

/*
 * Scans text (len bytes of UTF-8, at most PARLEY_MAX_TEXT: what can be
 * sent) under the policy in force (the widget's, made stricter by the
 * brand's once the session holds its directory). Returns
 *   {"findings":[{category,start,end,confidence,special,action}],
 *    "action":"allow"|"warn"|"confirm"|"block"|"redact", "redacted"?}
 * or NULL when the text could not be checked (too long, out of memory):
 * the page must then not send it.
 */
const char *parley_widget_scan(const char *text, size_t len)
{
    parley_scan_finding stack[STACK_FINDINGS], *f = stack;
    parley_scan_policy policy;
    uint8_t actions[PARLEY_SCAN_CATEGORY_COUNT];
    parley_scan_verdict verdict = PARLEY_SCAN_PASS;
    char *redacted = NULL;
    size_t n = 0, redacted_len = 0;
    struct json *j = widget_json();
    parley_err err;

    if (!guard_set)
        guard_default();
    json_reset(j);
    if (text == NULL || len > PARLEY_MAX_TEXT)
        return NULL;
    err = parley_scan(text, len, stack, STACK_FINDINGS, &n);
    if (err == PARLEY_ETOOBIG && n > STACK_FINDINGS) {
        f = calloc(n, sizeof(*f));
        err = f == NULL ? PARLEY_ENOMEM : parley_scan(text, len, f, n, &n);
    }
    policy_in_force(&policy, actions);
    if (err == PARLEY_OK)
        err = parley_scan_apply(&policy, text, len, f, n, &redacted, &redacted_len, &verdict);
    if (err == PARLEY_OK)
        scan_json(j, text, f, n, actions, verdict, redacted, redacted_len);
    if (redacted != NULL)
        parley_free(redacted, redacted_len);
    if (f != stack)
        free(f);
    return err == PARLEY_OK && !j->failed ? j->p : NULL;
}

/* conv as an id, NULL for "" (the conversation opened next); false when neither. */
static bool conv_or_next(const char *conv, uint8_t id[16], const uint8_t **out)
{
    *out = NULL;
    if (conv == NULL || conv[0] == '\0')
        return true;
    *out = id;
    return widget_conv_id(conv, id);
}

int parley_widget_special_needed(const char *conv, const char *text)
{
    const uint8_t *which;
    uint8_t id[16];
    uint32_t need = 0;
    parley_err err;

    if (widget_session() == NULL || text == NULL || !conv_or_next(conv, id, &which))
        return PARLEY_EINVAL;
    err = parley_session_conversation_special_needed(widget_session(), which, text, &need);
    json_reset(widget_json());
    if (err == PARLEY_OK)
        json_u64(widget_json(), need);
    return err;
}

int parley_widget_special_consent(const char *conv, double categories, const char *wording,
                                  double now)
{
    const uint8_t *which;
    uint8_t id[16];

    if (widget_session() == NULL || wording == NULL || !conv_or_next(conv, id, &which) ||
        !(categories >= 1 && categories <= PARLEY_SCAN_SPECIAL))
        return PARLEY_EINVAL;
    return parley_session_conversation_special_consent(widget_session(), which,
                                                       (uint32_t)categories, wording,
                                                       widget_time(now));
}
