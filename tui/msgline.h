/*
 * One transcript message laid out for drawing: "Name: text ✓✓" as code
 * points, with where the name ends and where the delivery mark starts,
 * in a buffer that grows to whatever length the sender chose. No curses
 * here, so the layout is unit-tested with hostile names and texts.
 */
#ifndef PARLEY_TUI_MSGLINE_H
#define PARLEY_TUI_MSGLINE_H

#include <stddef.h>
#include <wchar.h>

struct msgline {
    wchar_t *w;          /* w[0..n): the whole message */
    size_t n, cap;
    size_t name_len;     /* w[0..name_len) is the sender's name */
    size_t mark_start;   /* w[mark_start..n) is the delivery mark */
};

void msgline_init(struct msgline *l);
void msgline_free(struct msgline *l);

/*
 * Lays out name, ": " (" " without colon), text and mark (all UTF-8,
 * any length; bad bytes become U+FFFD) into l, growing its buffer as
 * needed; the buffer is kept for the next message. Returns 0, or -1 when
 * memory runs out (l is then empty).
 */
int msgline_build(struct msgline *l, const char *name, int colon, const char *text,
                  const char *mark);

#endif
