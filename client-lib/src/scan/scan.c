/*
 * The sensitive-data guard. Before a text is sent, the host scans it here,
 * on the device, for identifiers (checked by their checksum or a strict
 * shape, so that order numbers, dates and prices do not fire:
 * scan_ident.c) and for the special categories of GDPR art. 9 (by French
 * and English lexicons compiled in from client-lib/lexicon: words folded
 * for case and accents and stemmed, negative cues for figurative and
 * non-personal uses, context cues for ambiguous words: scan_lexicon.c).
 * The host's policy then allows, warns, blocks or redacts. No I/O: the
 * text never leaves the device.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "scan_internal.h"

/* ------------------------------------------------------------------ */
/* Findings, kept sorted by start then category, first cap only.       */

static bool finding_before(const parley_scan_finding *f, size_t start, parley_scan_category c)
{
    return f->start < start || (f->start == start && f->category <= c);
}

void scan_sink_add(struct scan_sink *s, parley_scan_category c, size_t start, size_t end,
                   unsigned confidence)
{
    size_t i = s->used;
    size_t keep;

    s->total++;
    while (i > 0 && !finding_before(&s->out[i - 1], start, c))
        i--;
    if (i >= s->cap)
        return;
    keep = s->used < s->cap ? s->used : s->cap - 1;
    memmove(&s->out[i + 1], &s->out[i], (keep - i) * sizeof(*s->out));
    s->out[i].category = c;
    s->out[i].start = start;
    s->out[i].end = end;
    s->out[i].confidence = confidence;
    if (s->used < s->cap)
        s->used++;
}

void scan_sink_widen(struct scan_sink *s, parley_scan_category c, size_t start, size_t end,
                     unsigned confidence)
{
    for (size_t i = 0; i < s->used; i++) {
        parley_scan_finding *f = &s->out[i];

        if (f->category == c && f->start == start) {
            if (end > f->end)
                f->end = end;
            if (confidence > f->confidence)
                f->confidence = confidence;
            return;
        }
    }
}

bool scan_sink_covers_identifier(const struct scan_sink *s, size_t start, size_t end)
{
    for (size_t i = 0; i < s->used; i++) {
        const parley_scan_finding *f = &s->out[i];

        if (f->category >= PARLEY_SCAN_CARD && f->start < end && start < f->end)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Public API.                                                         */

static const char *const category_names[PARLEY_SCAN_CATEGORY_COUNT] = {
    "health", "religion", "politics", "union", "ethnicity", "sexual_orientation",
    "biometric", "card", "iban", "nir", "email", "phone",
};

const char *parley_scan_category_name(parley_scan_category c)
{
    if ((unsigned)c >= PARLEY_SCAN_CATEGORY_COUNT)
        return NULL;
    return category_names[c];
}

parley_err parley_scan(const char *text, size_t len, parley_scan_finding *out, size_t cap,
                       size_t *n)
{
    struct scan_sink k;

    if (n == NULL || (text == NULL && len > 0) || (out == NULL && cap > 0))
        return PARLEY_EINVAL;
    *n = 0;
    if (len > PARLEY_SCAN_MAX_TEXT)
        return PARLEY_ETOOBIG;
    k.out = out;
    k.cap = cap;
    k.used = 0;
    k.total = 0;
    if (len > 0) {
        parley_err err;

        scan_identifiers((const unsigned char *)text, len, &k);
        err = scan_special((const unsigned char *)text, len, &k);
        if (err != PARLEY_OK) {
            if (cap > 0)
                memset(out, 0, cap * sizeof(*out));
            return err;
        }
    }
    *n = k.total;
    return k.total > cap ? PARLEY_ETOOBIG : PARLEY_OK;
}

void parley_scan_policy_default(parley_scan_policy *p)
{
    if (p == NULL)
        return;
    /* Special categories: the customer's explicit consent, which the library requires anyway. */
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        p->action[c] = PARLEY_SCAN_CONFIRM;
    p->action[PARLEY_SCAN_CARD] = PARLEY_SCAN_REDACT;
    p->action[PARLEY_SCAN_IBAN] = PARLEY_SCAN_REDACT;
    p->action[PARLEY_SCAN_NIR] = PARLEY_SCAN_REDACT;
    p->action[PARLEY_SCAN_EMAIL] = PARLEY_SCAN_ALLOW;
    p->action[PARLEY_SCAN_PHONE] = PARLEY_SCAN_ALLOW;
    p->min_confidence = 0;
    p->mask = 0;
}

/* How strict an action is: ALLOW < WARN < CONFIRM < REDACT < BLOCK; -1 out of range. */
static int strictness(parley_scan_action a)
{
    static const int rank[] = {
        [PARLEY_SCAN_ALLOW] = 0,  [PARLEY_SCAN_WARN] = 1,  [PARLEY_SCAN_CONFIRM] = 2,
        [PARLEY_SCAN_REDACT] = 3, [PARLEY_SCAN_BLOCK] = 4,
    };

    return (unsigned)a < sizeof(rank) / sizeof(rank[0]) ? rank[a] : -1;
}

static bool policy_valid(const parley_scan_policy *p)
{
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        if (strictness(p->action[c]) < 0)
            return false;
    return p->mask == 0 || (p->mask > ' ' && p->mask <= '~');
}

parley_err parley_scan_policy_stricter(parley_scan_policy *out, const parley_scan_policy *a,
                                       const parley_scan_policy *b)
{
    parley_scan_policy r;

    if (out == NULL || a == NULL || b == NULL || !policy_valid(a) || !policy_valid(b))
        return PARLEY_EINVAL;
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        r.action[c] = strictness(a->action[c]) >= strictness(b->action[c]) ? a->action[c]
                                                                            : b->action[c];
    r.min_confidence = a->min_confidence < b->min_confidence ? a->min_confidence
                                                             : b->min_confidence;
    r.mask = b->mask != 0 ? b->mask : a->mask;
    *out = r;
    return PARLEY_OK;
}

static parley_scan_action action_for(const parley_scan_policy *p, const parley_scan_finding *f)
{
    if (f->confidence < p->min_confidence)
        return PARLEY_SCAN_ALLOW;
    return p->action[f->category];
}

/*
 * Writes the redacted text into buf (NULL: only counts) and returns its
 * length. Spans are visited in order of start; overlapping or touching
 * REDACT spans become one, named after the earliest.
 */
static size_t redact(const parley_scan_policy *p, const char *text, size_t len,
                     const parley_scan_finding *f, size_t n, char *buf)
{
    size_t pos = 0, o = 0;

    for (;;) {
        const parley_scan_finding *next = NULL;
        size_t start, end;
        bool grew;

        for (size_t i = 0; i < n; i++) {
            if (action_for(p, &f[i]) != PARLEY_SCAN_REDACT || f[i].end <= pos)
                continue;
            if (next == NULL || f[i].start < next->start)
                next = &f[i];
        }
        if (next == NULL)
            break;
        start = next->start > pos ? next->start : pos;
        end = next->end;
        do {
            grew = false;
            for (size_t i = 0; i < n; i++)
                if (action_for(p, &f[i]) == PARLEY_SCAN_REDACT && f[i].start <= end &&
                    f[i].end > end) {
                    end = f[i].end;
                    grew = true;
                }
        } while (grew);
        if (buf != NULL)
            memcpy(buf + o, text + pos, start - pos);
        o += start - pos;
        if (p->mask == 0) {
            const char *name = category_names[next->category];
            size_t nl = strlen(name);

            if (buf != NULL) {
                buf[o] = '[';
                memcpy(buf + o + 1, name, nl);
                buf[o + 1 + nl] = ']';
            }
            o += nl + 2;
        } else {
            for (size_t i = start; i < end; i++) {
                unsigned char c = (unsigned char)text[i];

                if ((c & 0xc0) == 0x80)
                    continue; /* one mask character per UTF-8 character */
                if (buf != NULL)
                    buf[o] = (c == ' ' || c == '-') ? (char)c : p->mask;
                o++;
            }
        }
        pos = end;
    }
    if (buf != NULL)
        memcpy(buf + o, text + pos, len - pos);
    return o + (len - pos);
}

parley_err parley_scan_apply(const parley_scan_policy *policy, const char *text, size_t len,
                             const parley_scan_finding *findings, size_t n, char **redacted_out,
                             size_t *redacted_len, parley_scan_verdict *verdict)
{
    parley_scan_verdict v = PARLEY_SCAN_PASS;
    parley_scan_action strictest = PARLEY_SCAN_ALLOW;
    size_t out_len;
    char *buf;

    if (redacted_out != NULL)
        *redacted_out = NULL;
    if (redacted_len != NULL)
        *redacted_len = 0;
    if (verdict != NULL)
        *verdict = PARLEY_SCAN_PASS;
    if (policy == NULL || redacted_out == NULL || redacted_len == NULL || verdict == NULL ||
        (text == NULL && len > 0) || (findings == NULL && n > 0))
        return PARLEY_EINVAL;
    if (len > PARLEY_SCAN_MAX_TEXT)
        return PARLEY_ETOOBIG;
    if (!policy_valid(policy))
        return PARLEY_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const parley_scan_finding *f = &findings[i];
        parley_scan_action a;

        if ((unsigned)f->category >= PARLEY_SCAN_CATEGORY_COUNT || f->start >= f->end ||
            f->end > len)
            return PARLEY_EINVAL;
        a = action_for(policy, f);
        if (strictness(a) > strictness(strictest))
            strictest = a;
    }
    /* Each action's verdict; the strictest action found decides. */
    switch (strictest) {
    case PARLEY_SCAN_WARN: v = PARLEY_SCAN_WARNED; break;
    case PARLEY_SCAN_CONFIRM: v = PARLEY_SCAN_CONFIRM_NEEDED; break;
    case PARLEY_SCAN_REDACT: v = PARLEY_SCAN_REDACTED; break;
    case PARLEY_SCAN_BLOCK: v = PARLEY_SCAN_BLOCKED; break;
    default: break;
    }
    if (v == PARLEY_SCAN_REDACTED) {
        out_len = redact(policy, text, len, findings, n, NULL);
        buf = malloc(out_len + 1);
        if (buf == NULL)
            return PARLEY_ENOMEM;
        redact(policy, text, len, findings, n, buf);
        buf[out_len] = '\0';
        *redacted_out = buf;
        *redacted_len = out_len;
    }
    *verdict = v;
    return PARLEY_OK;
}
