/*
 * The input line: text held as Unicode code points so that editing moves
 * and deletes whole characters, never half of an "é" or an emoji, plus a
 * history of submitted lines. No curses here.
 */
#ifndef PARLEY_TUI_EDITOR_H
#define PARLEY_TUI_EDITOR_H

#include <stddef.h>
#include <stdint.h>

/* 4096 code points of at most 4 bytes: never more than a message may hold. */
#define EDITOR_MAX 4096u
#define EDITOR_HISTORY 64u

struct editor {
    uint32_t buf[EDITOR_MAX];
    size_t len, cur;
    char *hist[EDITOR_HISTORY]; /* oldest first, UTF-8, owned */
    size_t n_hist;
    size_t hist_pos;            /* == n_hist: editing a new line */
    char *draft;                /* the new line while browsing history */
};

void editor_init(struct editor *e);
/* Frees history and draft. */
void editor_free(struct editor *e);

/*
 * Inserts a code point at the cursor. Refuses (returns -1) control
 * characters, non-scalars and a full line; 0 otherwise.
 */
int editor_insert(struct editor *e, uint32_t cp);
/* Inserts UTF-8 text (invalid bytes become U+FFFD); -1 if it did not all fit. */
int editor_insert_utf8(struct editor *e, const char *s);
void editor_backspace(struct editor *e);
void editor_delete(struct editor *e);
void editor_left(struct editor *e);
void editor_right(struct editor *e);
void editor_home(struct editor *e);
void editor_end(struct editor *e);
/* Ctrl-U: deletes from the start of the line to the cursor. */
void editor_kill_before(struct editor *e);
void editor_clear(struct editor *e);

/* Up/Down through the history; the line being typed is kept as a draft. */
void editor_history_prev(struct editor *e);
void editor_history_next(struct editor *e);

/*
 * Writes the line as NUL-terminated UTF-8 into out. Returns the byte
 * length, or (size_t)-1 if cap is too small (out then holds "").
 */
size_t editor_text(const struct editor *e, char *out, size_t cap);

/*
 * Takes the line: writes it to out like editor_text(), adds it to the
 * history when not empty nor equal to the last entry, and clears it.
 */
size_t editor_submit(struct editor *e, char *out, size_t cap);

#endif
