/*
 * The customer's explicit consent to send special-category data (GDPR
 * art. 9(2)(a)) in one conversation (docs/protocol.md §11.10): signed by
 * the customer when it confirms, for the categories it names, with the
 * wording it was shown, and checked by every agent who receives it.
 */
#ifndef PARLEY_SPECIAL_H
#define PARLEY_SPECIAL_H

#include "internal.h"

/* The wording a consent may carry, in bytes. */
#define PARLEY__MAX_WORDING 1024u

/* What a verified consent says. */
struct parley__special {
    uint32_t categories; /* PARLEY_SCAN_BIT() of each category, art. 9 ones only */
    uint64_t time_ms;
};

/*
 * The consent of customer to send data of categories (a mask within
 * PARLEY_SCAN_SPECIAL, not 0) in conversation conv, after being shown
 * wording (UTF-8, at most PARLEY__MAX_WORDING bytes, not empty): a
 * SpecialConsent signed (domain "special-consent") by customer, packed
 * into *out (malloc'd, *out_len bytes). PARLEY_EINVAL for bad arguments.
 */
parley_err parley__special_make(const parley_identity *customer, const uint8_t conv[16],
                                uint32_t categories, const char *wording, uint64_t time_ms,
                                uint8_t **out, size_t *out_len);

/*
 * Checks a consent: signed by customer (PARLEY_EBADSIG otherwise), for
 * that customer and conversation conv (PARLEY_EWRONGCONVERSATION for
 * another), naming at least one special category and only those, with a
 * wording as parley__special_make takes (PARLEY_EMALFORMED otherwise).
 * On PARLEY_OK *out says what was consented to, and when.
 */
parley_err parley__special_check(const Parley__SpecialConsent *s, const uint8_t customer[32],
                                 const uint8_t conv[16], struct parley__special *out);

/*
 * The categories an encoded SpecialConsent names, without checking its
 * signature: for one checked before it was stored. 0 when malformed.
 */
uint32_t parley__special_categories(const uint8_t *s, size_t len);

/* The same on an encoded SpecialConsent (as kept in the conversation state). */
parley_err parley__special_check_buf(const uint8_t *s, size_t len, const uint8_t customer[32],
                                     const uint8_t conv[16], struct parley__special *out);

#endif
