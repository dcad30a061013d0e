/*
 * The sensitive-data guard: a local scan of a text before it is sent, for
 * the special categories of GDPR art. 9 (by French and English lexicons
 * compiled into the library, with Snowball stemming) and for identifiers
 * with a checksum or a strict shape (payment cards, IBAN, French NIR,
 * e-mail addresses with a Public Suffix List domain, phone numbers), and
 * the host's policy deciding what happens to a text with findings.
 * Nothing here does I/O or reads a file: a scanned text and its findings
 * never leave the device.
 */
#ifndef PARLEY_SCAN_H
#define PARLEY_SCAN_H

#include "parley/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What a finding is. The first seven are the special categories of GDPR
 * art. 9, the last five identifiers. Values are stable.
 */
typedef enum parley_scan_category {
    PARLEY_SCAN_HEALTH = 0,             /* "health": illness, pregnancy, disability, care */
    PARLEY_SCAN_RELIGION = 1,           /* "religion": religious or philosophical beliefs */
    PARLEY_SCAN_POLITICS = 2,           /* "politics": political opinions, party membership */
    PARLEY_SCAN_UNION = 3,              /* "union": trade-union membership */
    PARLEY_SCAN_ETHNICITY = 4,          /* "ethnicity": racial or ethnic origin */
    PARLEY_SCAN_SEXUAL_ORIENTATION = 5, /* "sexual_orientation" */
    PARLEY_SCAN_BIOMETRIC = 6,          /* "biometric": biometric or genetic data */
    PARLEY_SCAN_CARD = 7,               /* "card": payment card number, Luhn-valid */
    PARLEY_SCAN_IBAN = 8,               /* "iban": IBAN, mod 97 and country length */
    PARLEY_SCAN_NIR = 9,                /* "nir": French social security number, key valid */
    PARLEY_SCAN_EMAIL = 10,             /* "email" */
    PARLEY_SCAN_PHONE = 11,             /* "phone": French or international number */
    PARLEY_SCAN_CATEGORY_COUNT = 12
} parley_scan_category;

/*
 * Returns the category's name as listed above ("health", ...,
 * "sexual_orientation", ..., "phone"): a string literal, never freed.
 * Unknown values give NULL. Thread-safe.
 */
PARLEY_API const char *parley_scan_category_name(parley_scan_category c);

/* A set of categories as a mask: the bit of each category. */
#define PARLEY_SCAN_BIT(c) (1u << (unsigned)(c))
/* The special categories of GDPR art. 9 (health ... biometric) as a mask. */
#define PARLEY_SCAN_SPECIAL 0x7Fu

/*
 * One finding: text[start, end) in bytes (end exclusive). confidence
 * runs from 0 to 100: identifiers that pass a checksum score 95 or more;
 * a lexicon term that needs its context (a personal pronoun before it)
 * scores lower than an unambiguous phrase.
 */
typedef struct parley_scan_finding {
    parley_scan_category category;
    size_t start;
    size_t end;
    unsigned confidence;
} parley_scan_finding;

/* Longest text parley_scan() accepts, in bytes. */
#define PARLEY_SCAN_MAX_TEXT (1024u * 1024u)

/*
 * Scans text (len bytes, borrowed; any bytes: invalid UTF-8 is skipped,
 * offsets stay byte offsets into text; a NUL byte is an ordinary
 * separator). Findings go to out (cap entries, may be NULL when cap is 0)
 * ordered by start, then by category; overlapping lexicon hits of one
 * category are merged into one finding. *n receives the number of
 * findings in the text, which may exceed cap: then out holds the first
 * cap and PARLEY_ETOOBIG is returned, so the caller can retry with a
 * larger array. Returns PARLEY_OK, PARLEY_EINVAL (text NULL with len > 0,
 * out NULL with cap > 0, n NULL), PARLEY_ETOOBIG (len over
 * PARLEY_SCAN_MAX_TEXT, in which case *n is 0, or more findings than cap),
 * PARLEY_ENOMEM (its working state could not be allocated: *n is 0 and
 * out is cleared). No I/O, no global state; thread-safe. It allocates a
 * few tens of KiB of working state (stemmers, the words of one sentence),
 * wiped and freed before it returns. Time is linear in len.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_scan(const char *text, size_t len,
                                                   parley_scan_finding *out, size_t cap,
                                                   size_t *n);

/*
 * What the host wants done with a category's findings. From the laxest
 * to the strictest: ALLOW, WARN, CONFIRM, REDACT, BLOCK (the values are
 * stable and are not that order).
 */
typedef enum parley_scan_action {
    PARLEY_SCAN_ALLOW = 0,  /* send as is, say nothing */
    PARLEY_SCAN_WARN = 1,   /* send as is once the person has confirmed */
    PARLEY_SCAN_BLOCK = 2,  /* do not send */
    PARLEY_SCAN_REDACT = 3, /* send a copy with the span replaced */
    PARLEY_SCAN_CONFIRM = 4 /* send as is only after an explicit, separate confirmation of
                               the person (GDPR art. 9(2)(a)), never by a default answer */
} parley_scan_action;

/*
 * A policy: one action per category. Findings whose confidence is below
 * min_confidence are treated as ALLOW. mask is 0 to replace a redacted
 * span by a marker naming its category ("[card]"), or a printable ASCII
 * character other than space that replaces each character of the span
 * (spaces and dashes are kept, so "4970 1012 ..." becomes "**** **** ...").
 */
typedef struct parley_scan_policy {
    parley_scan_action action[PARLEY_SCAN_CATEGORY_COUNT];
    unsigned min_confidence;
    char mask;
} parley_scan_policy;

/*
 * Fills *p with the library's default policy, the one a customer's
 * client (the support widget) applies when neither its host nor the
 * brand says otherwise: CONFIRM for the special categories (the
 * customer's explicit consent, which the library requires before a
 * customer sends them: parley_conversation_special_consent), REDACT for
 * card, IBAN and NIR, ALLOW for e-mail and phone (customers give them on
 * purpose, to be called back), min_confidence 0, markers. Thread-safe.
 */
PARLEY_API void parley_scan_policy_default(parley_scan_policy *p);

/*
 * The stricter of two policies, as every Parley client combines the
 * brand's policy (parley_directory_guard_policy) with its own: for each
 * category the stricter action of a and b (ALLOW < WARN < CONFIRM <
 * REDACT < BLOCK), the lower min_confidence (the one that acts on more
 * findings), and b's mask (a presentation choice of the device; a's when
 * b has none). out may be a or b. Returns PARLEY_OK, or PARLEY_EINVAL
 * for a NULL argument or an action out of range (*out unchanged).
 * Thread-safe.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_scan_policy_stricter(parley_scan_policy *out,
                                                                   const parley_scan_policy *a,
                                                                   const parley_scan_policy *b);

/*
 * The outcome of a policy over a text's findings. From the least to the
 * most severe: PASS, WARNED, CONFIRM, REDACTED, BLOCKED (the values are
 * stable and are not that order).
 */
typedef enum parley_scan_verdict {
    PARLEY_SCAN_PASS = 0,     /* nothing to say: send the text */
    PARLEY_SCAN_WARNED = 1,   /* send the text after the person confirms */
    PARLEY_SCAN_REDACTED = 2, /* send *redacted_out instead; findings whose action is WARN
                                 or CONFIRM may remain in it and still need their answer */
    PARLEY_SCAN_BLOCKED = 3,  /* send nothing */
    PARLEY_SCAN_CONFIRM_NEEDED = 4 /* send the text only after the person's explicit,
                                      separate confirmation */
} parley_scan_verdict;

/*
 * Applies policy to findings (n entries from parley_scan() on the same
 * text, or built by the host; any order, overlaps allowed) and stores
 * the outcome in *verdict: BLOCKED if any finding's action is BLOCK,
 * else REDACTED if any is REDACT, else CONFIRM_NEEDED if any is CONFIRM,
 * else WARNED if any is WARN, else PASS.
 * On REDACTED, *redacted_out is a new NUL-terminated copy of text with
 * each REDACT span (overlapping spans merged) replaced, *redacted_len its
 * length without the NUL; free it with parley_free(*redacted_out,
 * *redacted_len). Otherwise *redacted_out is NULL and *redacted_len 0.
 * A BLOCKED verdict is not an error: the call
 * returns PARLEY_OK and the host refuses the send.
 * Returns PARLEY_OK, PARLEY_EINVAL (NULL arguments, a finding outside
 * text or with start >= end or an unknown category, a policy action or
 * mask out of range), PARLEY_ETOOBIG (len over PARLEY_SCAN_MAX_TEXT),
 * PARLEY_ENOMEM. Thread-safe; everything borrowed.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_scan_apply(const parley_scan_policy *policy,
                                                         const char *text, size_t len,
                                                         const parley_scan_finding *findings,
                                                         size_t n, char **redacted_out,
                                                         size_t *redacted_len,
                                                         parley_scan_verdict *verdict);

#ifdef __cplusplus
}
#endif
#endif
