/*
 * The layout of one message for the transcript. The buffer is sized from
 * the byte lengths of what goes in (UTF-8 never decodes to more code
 * points than it has bytes), so no name or text is too long for it: a
 * colleague's 16 KiB display name or a megabyte of text is laid out
 * whole, and wrapping (tw_wrap) decides what the pane shows.
 */
#include "msgline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "textwidth.h"

void msgline_init(struct msgline *l)
{
    memset(l, 0, sizeof(*l));
}

void msgline_free(struct msgline *l)
{
    free(l->w);
    msgline_init(l);
}

static int reserve(struct msgline *l, size_t need)
{
    wchar_t *w;

    if (need <= l->cap)
        return 0;
    if (need > SIZE_MAX / sizeof(*w))
        return -1;
    w = realloc(l->w, need * sizeof(*w));
    if (w == NULL)
        return -1;
    l->w = w;
    l->cap = need;
    return 0;
}

int msgline_build(struct msgline *l, const char *name, int colon, const char *text,
                  const char *mark)
{
    size_t nl = strlen(name), tl = strlen(text), ml = strlen(mark), n;

    l->n = l->name_len = l->mark_start = 0;
    if (tl > SIZE_MAX - nl - ml - 2 || reserve(l, nl + tl + ml + 2) != 0)
        return -1;
    n = tw_decode(name, nl, l->w, l->cap);
    l->name_len = n;
    if (colon)
        l->w[n++] = L':';
    l->w[n++] = L' ';
    n += tw_decode(text, tl, l->w + n, l->cap - n);
    l->mark_start = n;
    n += tw_decode(mark, ml, l->w + n, l->cap - n);
    l->n = n;
    return 0;
}
