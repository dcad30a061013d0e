/*
 * Drawing hostile text: parley-agent's real screen code (ui.c) on a
 * curses screen that writes to /dev/null, read back cell by cell. Names
 * and messages of any length, a megabyte of text, a pile of combining
 * marks, a screenful of wide characters and bidirectional controls must
 * draw without touching memory they do not own (run under ASan), stay
 * inside the transcript pane and keep the end of the message visible.
 */
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "check.h"
#include "hostile_text.h"
#include "ui.h"

#define ROWS 30
#define COLUMNS 100
#define LIST_W 26 /* ui.c's list width for 100 columns */

static SCREEN *screen_open(void)
{
    FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
    SCREEN *s;

    CHECK(out != NULL && in != NULL);
    s = newterm("xterm-256color", out, in);
    CHECK(s != NULL);
    set_term(s);
    CHECK(resizeterm(ROWS, COLUMNS) == OK);
    return s;
}

/* An app with one selected conversation holding one message. */
static void app_with_message(struct app *a, const char *sender, const char *text)
{
    uint8_t id[16] = {0xab, 0xcd, 0xef};
    struct tui_msg m;
    int entered;

    memset(a, 0, sizeof(*a));
    convlist_init(&a->list);
    editor_init(&a->input);
    snprintf(a->me.display_name, sizeof(a->me.display_name), "Alice");
    snprintf(a->me.agent_id, sizeof(a->me.agent_id), "alice");
    CHECK(convlist_update(&a->list, id, PARLEY_CONV_ACTIVE, "support", &entered) == 0);
    memset(&m, 0, sizeof(m));
    m.time_ms = 1767225600000u;
    m.seq = 1;
    m.sender = (char *)sender;
    m.text = (char *)text;
    CHECK(conv_add(&a->list.v[0], &m) == 0);
}

static void app_free(struct app *a)
{
    convlist_free(&a->list);
    editor_free(&a->input);
}

/* Row y as code points (spacing and combining), NUL-terminated. */
static void row_text(int y, wchar_t *out, int cap)
{
    int n = mvinnwstr(y, 0, out, cap - 1);

    out[n > 0 ? n : 0] = L'\0';
}

/*
 * What must hold on every screen: each transcript row fits the terminal,
 * the separator between list and transcript is intact on every row, and
 * nothing of the message leaks into the list pane.
 */
static void check_panes(wchar_t leak)
{
    for (int y = 1; y < ROWS - 2; y++) {
        wchar_t row[4 * COLUMNS];
        chtype sep = mvinch(y, LIST_W) & A_CHARTEXT;

        row_text(y, row, (int)(sizeof(row) / sizeof(row[0])));
        CHECK(sep == (ACS_VLINE & A_CHARTEXT));
        for (int x = 0; x < LIST_W && row[x] != L'\0'; x++)
            CHECK(row[x] != leak);
        CHECK(wcswidth(row, wcslen(row)) <= COLUMNS);
    }
}

/* The transcript's last line of text (the lowest row with anything right of the list). */
static void last_line(wchar_t *row, int cap)
{
    for (int y = ROWS - 3; y >= 1; y--) {
        row_text(y, row, cap);
        for (size_t x = LIST_W + 1; x < wcslen(row); x++)
            if (row[x] != L' ')
                return;
    }
    row[0] = L'\0';
}

/* The message's end is on the transcript's last line. */
static int last_line_shows(const wchar_t *needle)
{
    wchar_t row[4 * COLUMNS];

    last_line(row, (int)(sizeof(row) / sizeof(row[0])));
    return wcsstr(row, needle) != NULL;
}

/* A colleague's 16,648-character display name (handover history) before a short text. */
static void test_huge_display_name_stays_in_its_pane(void)
{
    static struct app a;
    char *name = repeat("Z", 16648, "");

    app_with_message(&a, name, "tail of the message");
    ui_draw(&a);
    check_panes(L'Z');
    CHECK(last_line_shows(L"tail of the message"));
    app_free(&a);
    free(name);
}

/* A megabyte of text from the customer: drawn whole, its end on the last row. */
static void test_megabyte_text_draws_to_its_end(void)
{
    static struct app a;
    char *text = repeat("lorem ipsum ", (1u << 20) / 12, "END-OF-TEXT");

    app_with_message(&a, "", text);
    ui_draw(&a);
    check_panes(L'm');
    CHECK(last_line_shows(L"END-OF-TEXT"));
    app_free(&a);
    free(text);
}

/* 200,000 combining acute accents on one letter take no room and hide nothing after them. */
static void test_combining_marks_hide_nothing(void)
{
    static struct app a;
    char *text = repeat("\xcc\x81", 200000, " visible-after-marks");
    char *with_base = malloc(strlen(text) + 2);

    CHECK(with_base != NULL);
    with_base[0] = 'q';
    memcpy(with_base + 1, text, strlen(text) + 1);
    app_with_message(&a, "", with_base);
    ui_draw(&a);
    check_panes(L'q');
    CHECK(last_line_shows(L"visible-after-marks"));
    app_free(&a);
    free(text);
    free(with_base);
}

/* Wide characters in the name and 300,000 of them in the text never overrun a row. */
static void test_wide_characters_fit_the_pane(void)
{
    static struct app a;
    char *name = repeat("\xe5\x90\x8d", 5000, "");     /* 名 */
    char *text = repeat("\xe6\xbc\xa2", 300000, "\xe7\xb5\x82"); /* 漢 ... 終 */

    app_with_message(&a, name, text);
    ui_draw(&a);
    check_panes(0x6F22);
    CHECK(last_line_shows(L"\x7d42"));
    app_free(&a);
    free(name);
    free(text);
}

/* Bidirectional overrides and isolates in a name or a text are not drawn. */
static void test_bidi_controls_not_drawn(void)
{
    static struct app a;
    wchar_t row[4 * COLUMNS];

    app_with_message(&a, "Mallory\xe2\x80\xae", "abc\xe2\x81\xa6" "def\xe2\x80\x8f!");
    ui_draw(&a);
    last_line(row, (int)(sizeof(row) / sizeof(row[0])));
    CHECK(wcsstr(row, L"Mallory: abcdef!") != NULL);
    for (size_t i = 0; row[i] != L'\0'; i++)
        CHECK(row[i] != 0x202E && row[i] != 0x2066 && row[i] != 0x200F);
    app_free(&a);
}

/* Special-category data received from the customer carries a marker naming the category. */
static void test_special_category_marked(void)
{
    static struct app a;

    app_with_message(&a, "", "je suis enceinte depuis mars");
    ui_draw(&a);
    CHECK(last_line_shows(L"customer: je suis enceinte depuis mars \x26a0 health"));
    app_free(&a);
    app_with_message(&a, "", "le colis est en retard");
    ui_draw(&a);
    CHECK(last_line_shows(L"le colis est en retard"));
    CHECK(!last_line_shows(L"\x26a0"));
    app_free(&a);
}

int main(void)
{
    SCREEN *s;

    if (setlocale(LC_ALL, "C.UTF-8") == NULL) {
        fprintf(stderr, "no C.UTF-8 locale\n");
        return 1;
    }
    s = screen_open();
    test_huge_display_name_stays_in_its_pane();
    test_megabyte_text_draws_to_its_end();
    test_combining_marks_hide_nothing();
    test_wide_characters_fit_the_pane();
    test_bidi_controls_not_drawn();
    test_special_category_marked();
    endwin();
    delscreen(s);
    printf("tui draw: ok\n");
    return 0;
}
