/*
 * The input line editor. It works on code points and knows nothing about
 * the screen; the drawing code asks for the text and the cursor and
 * decides what part of the line is visible.
 */
#include "editor.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "textwidth.h"

#define EDITOR_TEXT_MAX (EDITOR_MAX * 4u + 1u)

void editor_init(struct editor *e)
{
    memset(e, 0, sizeof(*e));
}

void editor_free(struct editor *e)
{
    for (size_t i = 0; i < e->n_hist; i++)
        free(e->hist[i]);
    free(e->draft);
    memset(e, 0, sizeof(*e));
}

static int acceptable(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
        return 0;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return 1;
}

int editor_insert(struct editor *e, uint32_t cp)
{
    if (!acceptable(cp) || e->len >= EDITOR_MAX)
        return -1;
    memmove(e->buf + e->cur + 1, e->buf + e->cur, (e->len - e->cur) * sizeof(e->buf[0]));
    e->buf[e->cur++] = cp;
    e->len++;
    return 0;
}

int editor_insert_utf8(struct editor *e, const char *s)
{
    wchar_t tmp[EDITOR_MAX];
    size_t n = tw_decode(s, strlen(s), tmp, EDITOR_MAX);
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        uint32_t cp = (uint32_t)tmp[i];
        if (cp == '\n' || cp == '\t')
            cp = ' ';
        if (editor_insert(e, cp) != 0 && acceptable(cp))
            rc = -1;
    }
    return rc;
}

void editor_backspace(struct editor *e)
{
    if (e->cur == 0)
        return;
    memmove(e->buf + e->cur - 1, e->buf + e->cur, (e->len - e->cur) * sizeof(e->buf[0]));
    e->cur--;
    e->len--;
}

void editor_delete(struct editor *e)
{
    if (e->cur == e->len)
        return;
    e->cur++;
    editor_backspace(e);
}

void editor_left(struct editor *e)
{
    if (e->cur > 0)
        e->cur--;
}

void editor_right(struct editor *e)
{
    if (e->cur < e->len)
        e->cur++;
}

void editor_home(struct editor *e)
{
    e->cur = 0;
}

void editor_end(struct editor *e)
{
    e->cur = e->len;
}

void editor_kill_before(struct editor *e)
{
    memmove(e->buf, e->buf + e->cur, (e->len - e->cur) * sizeof(e->buf[0]));
    e->len -= e->cur;
    e->cur = 0;
}

void editor_clear(struct editor *e)
{
    e->len = e->cur = 0;
}

size_t editor_text(const struct editor *e, char *out, size_t cap)
{
    size_t n = 0;

    if (cap == 0)
        return (size_t)-1;
    for (size_t i = 0; i < e->len; i++) {
        char u[4];
        size_t k = tw_encode(e->buf[i], u);
        if (n + k + 1 > cap) {
            out[0] = '\0';
            return (size_t)-1;
        }
        memcpy(out + n, u, k);
        n += k;
    }
    out[n] = '\0';
    return n;
}

static void set_line(struct editor *e, const char *s)
{
    editor_clear(e);
    (void)editor_insert_utf8(e, s);
}

void editor_history_prev(struct editor *e)
{
    if (e->hist_pos == 0)
        return;
    if (e->hist_pos == e->n_hist) {
        char *t = malloc(EDITOR_TEXT_MAX);
        if (t == NULL)
            return;
        editor_text(e, t, EDITOR_TEXT_MAX);
        free(e->draft);
        e->draft = t;
    }
    e->hist_pos--;
    set_line(e, e->hist[e->hist_pos]);
}

void editor_history_next(struct editor *e)
{
    if (e->hist_pos >= e->n_hist)
        return;
    e->hist_pos++;
    if (e->hist_pos == e->n_hist) {
        set_line(e, e->draft != NULL ? e->draft : "");
        free(e->draft);
        e->draft = NULL;
    } else {
        set_line(e, e->hist[e->hist_pos]);
    }
}

size_t editor_submit(struct editor *e, char *out, size_t cap)
{
    size_t n = editor_text(e, out, cap);

    if (n == (size_t)-1)
        return n;
    if (n > 0 && (e->n_hist == 0 || strcmp(e->hist[e->n_hist - 1], out) != 0)) {
        char *copy = strdup(out);
        if (copy != NULL) {
            if (e->n_hist == EDITOR_HISTORY) {
                free(e->hist[0]);
                memmove(e->hist, e->hist + 1, (EDITOR_HISTORY - 1) * sizeof(e->hist[0]));
                e->n_hist--;
            }
            e->hist[e->n_hist++] = copy;
        }
    }
    free(e->draft);
    e->draft = NULL;
    e->hist_pos = e->n_hist;
    editor_clear(e);
    return n;
}
