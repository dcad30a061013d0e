/*
 * The agent's confirmation before a message that looks sensitive leaves:
 * the first Enter on such a text only warns (its category names on the
 * status bar, the text kept in the input line), a second Enter on the
 * same text in the same conversation sends it, and any edit in between
 * asks again. Blocked texts stay for editing; redacted ones are sent as
 * the redacted copy. No curses and no client here.
 */
#ifndef PARLEY_TUI_GUARD_H
#define PARLEY_TUI_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "parley/parley.h"
#include "scanguard.h"

enum guard_decision {
    GUARD_SEND = 0,      /* send the text as typed */
    GUARD_SEND_REDACTED, /* send r->redacted; note says what was replaced */
    GUARD_HOLD           /* do not send; keep the text; note says why */
};

struct guard {
    parley_scan_policy local;  /* the agent's own (--guard) */
    parley_scan_policy policy; /* what applies: the stricter of local and the brand's */
    int pending;      /* a warning is shown; Enter on the same text sends */
    uint8_t mark[32]; /* keyed hash of the conversation and the text warned about */
    uint8_t key[32];  /* random per run: the mark tells nothing about the text */
};

/*
 * Starts with policy p (copied) as both the agent's own and the one that
 * applies, and nothing pending. The caller sets policy to the stricter
 * of local and the brand's (parley_client_scan_policy) before each send.
 */
void guard_init(struct guard *g, const parley_scan_policy *p);
/* Wipes the key and the mark. */
void guard_free(struct guard *g);

/*
 * Decides about text (NUL-terminated) about to be sent in conversation
 * conv. *r receives the scan's result; the caller sends r->redacted on
 * GUARD_SEND_REDACTED and calls scanguard_result_wipe(r) in every case.
 * note (always set, "" when there is nothing to say) is the status bar
 * line: "sensitive: card — Enter again to send, Esc to edit" for a
 * warning, a refusal for a blocked text or one that could not be
 * checked, what was replaced for a redacted one. The categories are
 * named, never the text.
 */
enum guard_decision guard_submit(struct guard *g, const uint8_t conv[16], const char *text,
                                 struct scanguard_result *r, char *note, size_t note_cap);

/* The text was edited, Esc pressed or the conversation changed: warn again. */
void guard_reset(struct guard *g);

/* 1 while a warning waits for its second Enter. */
int guard_pending(const struct guard *g);

#endif
