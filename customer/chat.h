/*
 * What the customer sees: library events turned into transcript lines,
 * loud warnings for anything a relay may have tampered with, and the
 * state scripts wait on.
 */
#ifndef PARLEY_CUSTOMER_CHAT_H
#define PARLEY_CUSTOMER_CHAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <parley/parley.h>

struct chat {
    parley_client *client;     /* set once created: read receipts, agents' keys (its records) */
    const char *brand_id;
    FILE *out; /* the transcript */
    FILE *err; /* where warnings are repeated: stderr */
    /* The conversation this run is in, once opened. */
    bool have_conv;
    uint8_t conv[16];
    parley_conv_state state;
    bool agent_present; /* an agent has claimed it and is talking */
    bool closed;
    char agent_name[PARLEY_MAX_DISPLAY_NAME + 1];
    uint64_t delivered, read;
    bool typing;
    /* Directory and connection, for the start-up sequence. */
    bool directory;
    uint32_t notice_version;
    bool connected;
    bool erased; /* the relay confirmed an erasure request */
    unsigned warnings;
    /* Agent messages received in this conversation, for wait-text. */
    char **texts;
    size_t n_texts, cap_texts, text_cursor;
};

/* Sets up c (out is the transcript stream). */
void chat_init(struct chat *c, FILE *out, const char *brand_id);
void chat_free(struct chat *c);

/*
 * Moves the agent keys that earlier versions kept in clear in the store
 * (table customer_agents) into c->client's sealed records, deleting each
 * row once moved. 0, or -1 when the store could not be read or written.
 */
int chat_move_known_agents(struct chat *c, const parley_store *store);

/* The brand's verified privacy notice and purposes, as the customer reads them. */
void chat_notice(struct chat *c, uint32_t version, const char *text, const char *const *purposes,
                 size_t n_purposes);

/* The parley_event_fn: user is the struct chat. */
void chat_on_event(void *user, const parley_event *ev);

/* Records the conversation this run opened. */
void chat_opened(struct chat *c, const uint8_t conv[16]);

/* Prints the customer's own message as sent with sequence number seq. */
void chat_print_own(struct chat *c, const char *text, uint64_t seq);

/* A status line ("* ..."). */
void chat_status(struct chat *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A loud warning: "!! ..." on the transcript and on stderr. */
void chat_warn(struct chat *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A line of the sensitive-data guard, "!! ..." on the transcript only:
 * never on stderr, which may end up in a log. Without a newline when it
 * is a question whose answer is typed on the same line.
 */
void chat_guard(struct chat *c, bool newline, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Shows text the person typed, indented, so it can be typed again. */
void chat_print_draft(struct chat *c, const char *text);

/*
 * 1 if an agent message containing needle arrived after the previous
 * match; moves past it.
 */
int chat_take_text(struct chat *c, const char *needle);

#endif
