/*
 * Drawing. Every string reaches the screen through put_text() or
 * put_wide(), which decode UTF-8, replace what must not be drawn and
 * never write past the width they are given, so a message in any script
 * cannot spill into another pane. Nothing here has a fixed-size text
 * buffer: strings are drawn straight from their bytes, and messages are
 * laid out in a buffer sized to them (msgline.c), whatever their length.
 * The screen is redrawn whole from struct app; nothing here changes the
 * model except scroll clamping.
 */
#include "ui.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <parley/text.h>
#include <sodium.h>

#include "msgline.h"
#include "scanguard.h"
#include "textwidth.h"

enum { PAIR_ME = 1, PAIR_PEER, PAIR_OK, PAIR_BAD, PAIR_SYSTEM, PAIR_BAR };

int ui_start(void)
{
    if (initscr() == NULL)
        return -1;
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    if (has_colors()) {
        start_color();
        use_default_colors();
        init_pair(PAIR_ME, COLOR_CYAN, -1);
        init_pair(PAIR_PEER, COLOR_YELLOW, -1);
        init_pair(PAIR_OK, COLOR_GREEN, -1);
        init_pair(PAIR_BAD, COLOR_RED, -1);
        init_pair(PAIR_SYSTEM, COLOR_MAGENTA, -1);
        init_pair(PAIR_BAR, COLOR_WHITE, COLOR_BLUE);
    }
    return 0;
}

void ui_stop(void)
{
    endwin();
}

/* Where drawing goes: a run of w cells from (y, x), of which used are taken. */
struct pen {
    int w, used;
};

/* Draws one code point if it fits; returns 0 once the run is full. */
static int pen_put(struct pen *p, wchar_t c)
{
    wchar_t v = tw_visible(c);
    int cw = tw_cell(c);

    if (v == 0)
        return 1;
    if (cw == 0 && p->used == 0)
        return 1; /* a combining mark with nothing to sit on */
    if (p->used + cw > p->w)
        return 0;
    addnwstr(&v, 1);
    p->used += cw;
    return 1;
}

static void pen_pad(int y, int x, const struct pen *p, attr_t attr)
{
    for (int k = p->used; k < p->w; k++)
        mvaddch(y, x + k, ' ' | attr);
}

/*
 * Draws code points s[0..n) at (y, x) within w cells with attr; pads the
 * rest of the w cells with spaces when pad. Returns the cells used.
 */
static int put_wide(int y, int x, int w, const wchar_t *s, size_t n, attr_t attr, int pad)
{
    struct pen p = {w, 0};

    if (w <= 0)
        return 0;
    move(y, x);
    attron(attr);
    for (size_t i = 0; i < n && pen_put(&p, s[i]); i++)
        ;
    attroff(attr);
    if (pad)
        pen_pad(y, x, &p, attr);
    return p.used;
}

/* put_wide() for UTF-8 of any length, decoded as it is drawn. */
static int put_text(int y, int x, int w, const char *utf8, attr_t attr, int pad)
{
    struct pen p = {w, 0};
    size_t n = strlen(utf8), i = 0;

    if (w <= 0)
        return 0;
    move(y, x);
    attron(attr);
    while (i < n) {
        uint32_t cp;

        i += parley_utf8_next(utf8 + i, n - i, &cp);
        if (!pen_put(&p, (wchar_t)cp))
            break;
    }
    attroff(attr);
    if (pad)
        pen_pad(y, x, &p, attr);
    return p.used;
}

static attr_t pair(int p)
{
    return has_colors() ? COLOR_PAIR(p) : 0;
}

int ui_transcript_rows(void)
{
    return LINES - 3 > 1 ? LINES - 3 : 1;
}

static int list_width(void)
{
    if (COLS >= 120)
        return 30;
    if (COLS >= 90)
        return 26;
    return COLS >= 60 ? 22 : COLS / 3;
}

static void draw_list(struct app *a, int top, int rows, int w)
{
    int *order = NULL;
    size_t n = 0, k = 0;
    int y = top;

    if (a->list.n > 0) {
        order = malloc(a->list.n * sizeof(*order));
        if (order != NULL)
            n = convlist_order(&a->list, order, a->list.n);
    }
    for (int s = 0; s < SECTION_COUNT && y < top + rows; s++) {
        char head[64];
        unsigned count = 0, unread = 0;
        for (size_t i = 0; i < n; i++)
            if ((int)convlist_section(a->list.v[order[i]].state) == s) {
                count++;
                unread += a->list.v[order[i]].unread;
            }
        if (unread > 0)
            snprintf(head, sizeof(head), "%s %u [%u new]", convlist_section_name(s), count, unread);
        else
            snprintf(head, sizeof(head), "%s %u", convlist_section_name(s), count);
        put_text(y++, 0, w, head, A_BOLD, 1);
        for (; k < n && y < top + rows; k++) {
            struct tui_conv *c = &a->list.v[order[k]];
            char line[160];
            attr_t attr = 0;
            if ((int)convlist_section(c->state) != s)
                break;
            if (c->unread > 0)
                snprintf(line, sizeof(line), "%s %s %s (%u)", order[k] == a->list.sel ? ">" : " ",
                         c->label, c->queue, c->unread);
            else
                snprintf(line, sizeof(line), "%s %s %s%s", order[k] == a->list.sel ? ">" : " ",
                         c->label, c->queue, c->verified ? " \xe2\x9c\x93" : "");
            if (order[k] == a->list.sel)
                attr = A_REVERSE;
            else if (c->unread > 0)
                attr = A_BOLD;
            put_text(y++, 0, w, line, attr, 1);
        }
    }
    for (; y < top + rows; y++)
        put_text(y, 0, w, "", 0, 1);
    free(order);
}

/* One message as drawn: "Name: text ✓✓" in wide characters, and the name's colours. */
struct built {
    struct msgline line;
    attr_t name_attr;
};

/* Lays out message m; returns 0, or -1 when memory runs out. */
static int build_msg(const struct app *a, const struct tui_conv *c, const struct tui_msg *m,
                     struct built *b)
{
    const char *name, *mark = "";
    char special[160], names[128];

    if (m->system) {
        name = "--";
        b->name_attr = pair(PAIR_SYSTEM) | A_BOLD;
    } else if (m->from_me) {
        name = a->me.display_name;
        b->name_attr = pair(PAIR_ME) | A_BOLD;
    } else if (m->sender[0] != '\0') {
        name = m->sender;
        b->name_attr = pair(PAIR_ME);
    } else {
        name = "customer";
        b->name_attr = pair(PAIR_PEER) | A_BOLD;
    }
    switch (conv_mark(c, m)) {
    case MARK_READ: mark = " \xe2\x9c\x93\xe2\x9c\x93"; break;
    case MARK_DELIVERED: mark = " \xe2\x9c\x93"; break;
    case MARK_PENDING: mark = " \xe2\x80\xa6"; break;
    case MARK_NONE: break;
    }
    /* Special-category data received: marked, so the agent can /redact it from this store. */
    if (m->special != 0) {
        snprintf(special, sizeof(special), " \xe2\x9a\xa0 %s",
                 scanguard_names(m->special, names, sizeof(names)));
        mark = special;
    }
    return msgline_build(&b->line, name, !m->system, m->text, mark);
}

struct dline {
    size_t msg, start, end;
    int first;
};

/* Wraps every message of c to body_w cells; *n_lines lines in *out (malloc'd). */
static void layout(const struct app *a, const struct tui_conv *c, int body_w, struct built *b,
                   struct dline **out, size_t *n_lines)
{
    struct dline *lines = NULL;
    size_t n = 0, cap = 0;

    for (size_t i = 0; i < c->n_msgs; i++) {
        size_t pos = 0, next;
        int first = 1;
        if (build_msg(a, c, &c->msgs[i], b) != 0)
            continue; /* out of memory: this message is left out of the screen */
        do {
            size_t end = tw_wrap(b->line.w, b->line.n, pos, body_w, &next);
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                struct dline *v = realloc(lines, nc * sizeof(*v));
                if (v == NULL)
                    goto out;
                lines = v;
                cap = nc;
            }
            lines[n++] = (struct dline){i, pos, end, first};
            first = 0;
            pos = next;
        } while (pos < b->line.n);
    }
out:
    *out = lines;
    *n_lines = n;
}

/* Draws line d of its message, laid out in b, on row y after the time column. */
static void draw_dline(const struct tui_msg *m, const struct dline *d, const struct built *b,
                       int y, int x, int w)
{
    const struct msgline *l = &b->line;
    char hhmm[8] = "      ";
    int used;

    if (d->first) {
        time_t t = (time_t)(m->time_ms / 1000);
        struct tm tm;
        if (localtime_r(&t, &tm) != NULL)
            strftime(hhmm, sizeof(hhmm), "%H:%M ", &tm);
    }
    put_text(y, x, 6, hhmm, A_DIM, 1);
    used = 6;
    for (size_t k = d->start; k < d->end;) {
        size_t seg_end = d->end;
        attr_t attr = m->system ? pair(PAIR_SYSTEM) : 0;
        if (d->first && k < l->name_len) {
            seg_end = l->name_len < d->end ? l->name_len : d->end;
            attr = b->name_attr;
        } else if (k >= l->mark_start) {
            attr = pair(PAIR_OK) | A_BOLD;
        } else if (l->mark_start < d->end) {
            seg_end = l->mark_start;
        }
        used += put_wide(y, x + used, w - used, l->w + k, seg_end - k, attr, 0);
        k = seg_end;
    }
    if (used < w)
        put_text(y, x + used, w - used, "", 0, 1);
}

static void draw_transcript(struct app *a, struct tui_conv *c, int top, int x, int rows, int w)
{
    struct dline *lines = NULL;
    struct built b;
    size_t n_lines = 0, built_for = SIZE_MAX;
    int body_w = w - 6, first_shown;

    if (body_w < 4) {
        for (int y = top; y < top + rows; y++)
            put_text(y, x, w, "", 0, 1);
        return;
    }
    msgline_init(&b.line);
    layout(a, c, body_w, &b, &lines, &n_lines);
    if (c->scroll > (int)n_lines - rows)
        c->scroll = (int)n_lines - rows;
    if (c->scroll < 0)
        c->scroll = 0;
    first_shown = (int)n_lines - rows - c->scroll;
    if (first_shown < 0)
        first_shown = 0;
    for (int r = 0; r < rows; r++) {
        size_t li = (size_t)first_shown + (size_t)r;
        int y = top + r;
        const struct dline *d = li < n_lines ? &lines[li] : NULL;

        /* Lines come in message order: each message is laid out once more, not once a line. */
        if (d != NULL && d->msg != built_for)
            built_for = build_msg(a, c, &c->msgs[d->msg], &b) == 0 ? d->msg : SIZE_MAX;
        if (d == NULL || d->msg != built_for)
            put_text(y, x, w, "", 0, 1);
        else
            draw_dline(&c->msgs[d->msg], d, &b, y, x, w);
    }
    free(lines);
    msgline_free(&b.line);
}

static void draw_panel(struct app *a, int top, int x, int rows, int w)
{
    int body = rows - 1;

    put_text(top, x, w, a->panel_title, A_BOLD | A_UNDERLINE, 1);
    if (a->panel_scroll > (int)a->n_panel - body)
        a->panel_scroll = (int)a->n_panel - body;
    if (a->panel_scroll < 0)
        a->panel_scroll = 0;
    for (int r = 0; r < body; r++) {
        size_t i = (size_t)a->panel_scroll + (size_t)r;
        put_text(top + 1 + r, x, w, i < a->n_panel ? a->panel_lines[i] : "", 0, 1);
    }
}

static void draw_header(struct app *a, struct tui_conv *c, int w)
{
    char line[1024];
    attr_t bar = pair(PAIR_BAR) | A_BOLD;

    if (a->panel) {
        put_text(0, 0, w, " Esc: back to the conversation", bar, 1);
        return;
    }
    if (c == NULL) {
        put_text(0, 0, w, " Parley \xe2\x80\x94 no conversation yet", bar, 1);
        return;
    }
    snprintf(line, sizeof(line),
             " #%s \xc2\xb7 %s \xc2\xb7 %s%s%s \xc2\xb7 %s \xc2\xb7 %s%s%s", c->label,
             c->queue[0] ? c->queue : "?", convlist_state_name(c->state),
             c->agent_name[0] && c->state != PARLEY_CONV_ACTIVE ? " " : "",
             c->agent_name[0] && c->state != PARLEY_CONV_ACTIVE ? c->agent_name : "",
             c->consent[0] ? c->consent : "no consent receipt", c->verified ? "verified \xe2\x9c\x93" : "not verified (/verify)",
             c->typing ? " \xc2\xb7 customer is typing\xe2\x80\xa6" : "",
             c->state == PARLEY_CONV_QUEUED ? " \xc2\xb7 /claim to take it" : "");
    put_text(0, 0, w, line, bar, 1);
}

static void draw_status(struct app *a, int y, int w)
{
    char line[1024], conn[96], extra[64] = "";
    size_t out = a->client != NULL ? parley_client_outbox_size(a->client) : 0;
    int64_t now = app_now();

    switch (a->conn) {
    case CONN_CONNECTED:
        snprintf(conn, sizeof(conn), "\xe2\x97\x8f connected");
        break;
    case CONN_CONNECTING:
        snprintf(conn, sizeof(conn), "\xe2\x97\x8b connecting\xe2\x80\xa6");
        break;
    case CONN_RETRYING: {
        int64_t left = a->reconnect_at - now;
        long secs = left > 0 ? (long)((left + 999) / 1000) : 0;
        snprintf(conn, sizeof(conn), "\xe2\x97\x8b reconnecting in %lds", secs);
        break;
    }
    }
    if (out > 0)
        snprintf(extra, sizeof(extra), " \xe2\x94\x82 outbox %zu", out);
    snprintf(line, sizeof(line), " %s \xe2\x94\x82 %s (%s)%s%s%s", conn, a->me.display_name,
             a->me.agent_id, extra, a->status[0] ? " \xe2\x94\x82 " : "", a->status);
    put_text(y, 0, w, line, pair(PAIR_BAR), 1);
}

static void draw_input(struct app *a, int y, int w)
{
    static wchar_t line[EDITOR_MAX];
    const struct editor *e = &a->input;
    size_t start = 0;
    int avail = w - 2, before;

    for (size_t i = 0; i < e->len; i++)
        line[i] = (wchar_t)e->buf[i];
    put_text(y, 0, 2, "> ", A_BOLD, 0);
    /* Scroll horizontally so that the cursor stays on screen. */
    while (start < e->cur && tw_width(line + start, e->cur - start) > avail - 1)
        start++;
    put_wide(y, 2, avail, line + start, e->len - start, 0, 1);
    before = tw_width(line + start, e->cur - start);
    move(y, 2 + (before < avail ? before : avail - 1));
}

void ui_draw(struct app *a)
{
    int lw, rows, tx, tw;
    struct tui_conv *c = convlist_selected(&a->list);

    erase();
    if (COLS < 30 || LINES < 6) {
        put_text(0, 0, COLS, "terminal too small", A_BOLD, 0);
        refresh();
        return;
    }
    lw = list_width();
    rows = ui_transcript_rows();
    tx = lw + 1;
    tw = COLS - tx;
    draw_header(a, c, COLS);
    draw_list(a, 1, rows, lw);
    for (int y = 1; y < 1 + rows; y++)
        mvaddch(y, lw, ACS_VLINE);
    if (a->panel)
        draw_panel(a, 1, tx, rows, tw);
    else if (c != NULL)
        draw_transcript(a, c, 1, tx, rows, tw);
    else {
        put_text(2, tx + 1, tw - 1, "Queued conversations appear on the left;", 0, 0);
        put_text(3, tx + 1, tw - 1, "a bell rings when one arrives. /help lists commands.", 0, 0);
    }
    draw_status(a, LINES - 2, COLS);
    draw_input(a, LINES - 1, COLS);
    if (a->bell) {
        beep();
        a->bell = 0;
    }
    refresh();
}

int ui_ask_passphrase(const char *prompt, const char *note, char *out, size_t cap)
{
    size_t n = 0;
    int errors = 0;

    for (;;) {
        wint_t ch;
        int r;
        int y = LINES / 2 - 2 > 0 ? LINES / 2 - 2 : 0;

        erase();
        put_text(y, 2, COLS - 4, "parley-agent", A_BOLD, 0);
        put_text(y + 1, 2, COLS - 4, prompt, 0, 0);
        if (note != NULL)
            put_text(y + 2, 2, COLS - 4, note, pair(PAIR_BAD) | A_BOLD, 0);
        put_text(y + 4, 2, COLS - 4, "Passphrase (not shown; Esc cancels): ", 0, 0);
        refresh();
        r = get_wch(&ch);
        if (r == ERR) {
            if (++errors > 100)
                return -1; /* the terminal is gone */
            continue;
        }
        errors = 0;
        if (r == KEY_CODE_YES) {
            if (ch == KEY_BACKSPACE)
                ch = 127;
            else if (ch == KEY_ENTER)
                ch = '\r';
            else
                continue;
        }
        if (ch == 27 || ch == 3 || (ch == 4 && n == 0))
            return -1;
        if (ch == '\r' || ch == '\n')
            break;
        if (ch == 21) {
            sodium_memzero(out, n);
            n = 0;
        } else if (ch == 127 || ch == 8) {
            while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
                out[--n] = '\0';
            if (n > 0)
                out[--n] = '\0';
        } else if (ch >= 0x20) {
            char u[4];
            size_t k = tw_encode((unsigned long)ch, u);
            if (k > 0 && n + k < cap) {
                memcpy(out + n, u, k);
                n += k;
            }
        }
    }
    out[n] = '\0';
    return (int)n;
}
