/*
 * The conversation list and each conversation's transcript as the agent
 * sees them: which section a conversation sits in (queued, mine,
 * transferred, closed), unread counts, the selection, delivery marks,
 * the customer's typing and the local verification flag. Filled from
 * client events and the local store; drawn by ui.c. No curses here.
 */
#ifndef PARLEY_TUI_CONVLIST_H
#define PARLEY_TUI_CONVLIST_H

#include <stddef.h>
#include <stdint.h>

#include "parley/client.h"

#define CONVLIST_MAX_MESSAGES 2000u

enum conv_section {
    SECTION_QUEUED = 0,
    SECTION_MINE,
    SECTION_TRANSFERRED,   /* transferred by me, or taken by a colleague */
    SECTION_CLOSED,
    SECTION_COUNT
};

enum msg_mark { MARK_NONE = 0, MARK_PENDING, MARK_DELIVERED, MARK_READ };

struct tui_msg {
    uint64_t time_ms;
    uint64_t seq;
    int from_me;
    int system;       /* a line from parley-agent itself, not in the history */
    char *sender;     /* display name; "" for the customer */
    char *text;       /* UTF-8 */
    unsigned special; /* received: special categories the guard finds in text (bit per category) */
};

struct tui_conv {
    uint8_t id[16];
    char label[12];   /* short hex of the id, how the agent names it */
    parley_conv_state state;
    char queue[PARLEY_MAX_ID + 1];
    char agent_name[PARLEY_MAX_DISPLAY_NAME + 1]; /* who holds it, when known */
    uint8_t customer_pk[32];
    int has_customer;
    unsigned unread;
    int verified;
    char consent[256];            /* the customer's consent receipt, as the header shows it */
    int typing;
    int64_t typing_until;         /* monotonic ms */
    uint64_t delivered_seq, read_seq, sent_seq;
    uint64_t session_first_seq;   /* my first seq sent in this session, 0: none */
    uint64_t last_peer_seq;       /* highest seq received from the customer */
    uint64_t read_sent_seq;       /* what our last read receipt covered */
    struct tui_msg *msgs;
    size_t n_msgs, cap_msgs;
    int scroll;                   /* transcript lines scrolled up from the bottom */
    int dirty;                    /* history must be reloaded from the store */
};

struct convlist {
    struct tui_conv *v;
    size_t n, cap;
    int sel;          /* index into v, -1 when empty */
};

void convlist_init(struct convlist *cl);
void convlist_free(struct convlist *cl);

enum conv_section convlist_section(parley_conv_state s);
const char *convlist_section_name(enum conv_section s);
const char *convlist_state_name(parley_conv_state s);

/* Index of the conversation, or -1. */
int convlist_find(const struct convlist *cl, const uint8_t id[16]);

/*
 * Adds the conversation or updates its state. Returns its index (or -1
 * when out of memory) and sets *entered_queue when it just entered the
 * queue (new, or a state other than queued before). The first
 * conversation added is selected.
 */
int convlist_update(struct convlist *cl, const uint8_t id[16], parley_conv_state state,
                    const char *queue, int *entered_queue);

/*
 * Display order: by section, then in the order conversations arrived.
 * Writes up to max indexes into order; returns how many.
 */
size_t convlist_order(const struct convlist *cl, int *order, size_t max);

/* Selects the next (dir > 0) or previous conversation in display order, wrapping. */
void convlist_step(struct convlist *cl, int dir);
/* Selects index i and clears its unread count. */
void convlist_select(struct convlist *cl, int i);
struct tui_conv *convlist_selected(struct convlist *cl);

/* Transcript: removes history lines (keeps system lines) before a reload. */
void conv_clear_history(struct tui_conv *c);
/*
 * Appends a message; system lines and history lines are kept in time
 * order (stable). Drops the oldest beyond CONVLIST_MAX_MESSAGES.
 * Returns 0, -1 when out of memory.
 */
int conv_add(struct tui_conv *c, const struct tui_msg *m);

/* The mark an own message shows: read ✓✓, delivered ✓, pending …, none. */
enum msg_mark conv_mark(const struct tui_conv *c, const struct tui_msg *m);

/* Total unread messages over all conversations. */
unsigned convlist_unread(const struct convlist *cl);

#endif
