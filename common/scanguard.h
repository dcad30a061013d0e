/*
 * The sensitive-data guard as parley-customer and parley-agent apply it
 * before a send: the clients' default policy, the --guard option that
 * changes it, and one call that scans a text with parley_scan(), applies
 * the policy and says what the person must be told, by category name
 * only. No I/O: a text and its findings never leave this module except
 * as the redacted copy the caller asked for.
 */
#ifndef PARLEY_COMMON_SCANGUARD_H
#define PARLEY_COMMON_SCANGUARD_H

#include <stddef.h>

#include <parley/parley.h>

/* Bit (1u << category) of a parley_scan_category in the masks below. */
#define SCANGUARD_BIT(c) (1u << (unsigned)(c))

struct scanguard_result {
    parley_scan_verdict verdict;
    unsigned warn;   /* categories found whose action is WARN */
    unsigned block;  /* ... BLOCK */
    unsigned redact; /* ... REDACT (replaced in redacted) */
    unsigned confirm; /* ... CONFIRM: the person must confirm them explicitly */
    char *redacted;  /* REDACTED: the text to send instead; NULL otherwise */
    size_t redacted_len;
};

/*
 * parley-agent's default: warn for the special categories and for card,
 * IBAN and NIR; allow e-mail addresses and phone numbers, which customers
 * give on purpose to be called back. Markers ("[card]") when redacting.
 * (parley-customer starts from the library's customer default,
 * parley_scan_policy_default(), as the support widget does.)
 */
void scanguard_policy_default(parley_scan_policy *p);

/* A policy that allows everything: what --guard of `parley-keys brand directory` starts from. */
void scanguard_policy_none(parley_scan_policy *p);

/* "allow", "warn", "confirm", "block" or "redact"; "?" out of range. */
const char *scanguard_action_name(parley_scan_action a);

/*
 * Applies spec, "CATEGORY=ACTION[,CATEGORY=ACTION...]" with the category
 * names of parley/scan.h and the actions allow, warn, confirm, block, redact, on
 * top of *p. On an unknown category or action, an empty item or a
 * missing '=', writes one line into err, leaves *p unchanged and
 * returns -1; 0 otherwise.
 */
int scanguard_policy_parse(parley_scan_policy *p, const char *spec, char *err, size_t err_cap);

/*
 * Scans text (NUL-terminated, borrowed) and applies p. Fills *r; on
 * REDACTED, r->redacted is the copy to send, freed by
 * scanguard_result_wipe(). Returns PARLEY_OK or the scanner's error
 * (PARLEY_ENOMEM, PARLEY_ETOOBIG, PARLEY_EINVAL), in which case the
 * caller must not send: a text that could not be checked is refused.
 */
parley_err scanguard_check(const parley_scan_policy *p, const char *text,
                           struct scanguard_result *r);

/* Wipes and frees the redacted copy; r may be zeroed or NULL. */
void scanguard_result_wipe(struct scanguard_result *r);

/*
 * Writes the category names of mask, in category order, as "card, health"
 * into out (always NUL-terminated, cut if cap is short). Returns out.
 */
char *scanguard_names(unsigned mask, char *out, size_t cap);

/*
 * Writes what the categories of mask are, for a person, each followed by
 * its name: "a payment card number (card) and health information
 * (health)". Always NUL-terminated. Returns out.
 */
char *scanguard_describe(unsigned mask, char *out, size_t cap);

#endif
