/*
 * Scripts for parley-customer --script: one step per line, either text to
 * send or a directive. Blank lines and lines starting with '#' are skipped.
 *
 *   wait-agent            wait until an agent has claimed the conversation
 *   wait-text SUBSTRING   wait for an agent message containing SUBSTRING
 *   sleep MS              pause, still servicing the network
 *   consent yes|no        the answer to the privacy notice (default yes)
 *   close                 close the conversation
 *   expect-closed         wait until the conversation is closed
 *   say TEXT              send TEXT even if it looks like a directive
 *   guard-answer yes|no   the answer to the next sensitive-data warning
 *                         (without it, or once used: no, nothing is sent)
 *   special-answer TEXT   the line typed at the next question asking for
 *                         explicit consent to a special category (art. 9),
 *                         e.g. "special-answer consent health" (without it,
 *                         or once used: nothing typed, nothing sent)
 */
#ifndef PARLEY_CUSTOMER_SCRIPT_H
#define PARLEY_CUSTOMER_SCRIPT_H

#include <stddef.h>

enum script_op {
    SCRIPT_SEND,
    SCRIPT_WAIT_AGENT,
    SCRIPT_WAIT_TEXT,
    SCRIPT_SLEEP,
    SCRIPT_CONSENT,
    SCRIPT_CLOSE,
    SCRIPT_EXPECT_CLOSED,
    SCRIPT_GUARD_ANSWER,
    SCRIPT_SPECIAL_ANSWER
};

struct script_step {
    enum script_op op;
    char *arg;     /* SEND, WAIT_TEXT, SPECIAL_ANSWER: the text; NULL otherwise */
    long ms;       /* SLEEP */
    int yes;       /* CONSENT, GUARD_ANSWER */
    unsigned line; /* in the file, for messages */
};

struct script {
    struct script_step *steps;
    size_t n;
    int consent; /* the last consent directive, 1 (yes) without one */
};

/* Parses path. Returns 0, or -1 after printing file:line and why on stderr. */
int script_load(const char *path, struct script *s);
void script_free(struct script *s);

#endif
