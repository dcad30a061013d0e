/*
 * The input-line editor: editing by code point with accents and emoji,
 * cursor moves, Ctrl-U, history with the draft kept, limits.
 */
#include <string.h>

#include "check.h"
#include "editor.h"

static struct editor e;
static char out[EDITOR_MAX * 4 + 1];

static const char *text(void)
{
    CHECK(editor_text(&e, out, sizeof(out)) != (size_t)-1);
    return out;
}

static void test_editing(void)
{
    editor_init(&e);
    CHECK(editor_insert_utf8(&e, "caf\xc3\xa9 \xf0\x9f\x99\x8f") == 0);
    CHECK(e.len == 6 && e.cur == 6);
    editor_backspace(&e); /* the whole emoji, not one byte of it */
    CHECK(strcmp(text(), "caf\xc3\xa9 ") == 0);
    editor_left(&e);
    editor_left(&e);
    editor_backspace(&e); /* the f */
    CHECK(strcmp(text(), "ca\xc3\xa9 ") == 0);
    editor_delete(&e);    /* the é */
    CHECK(strcmp(text(), "ca ") == 0);
    CHECK(editor_insert(&e, 0x05E9) == 0);
    CHECK(strcmp(text(), "ca\xd7\xa9 ") == 0);
    editor_home(&e);
    CHECK(e.cur == 0);
    editor_left(&e);
    CHECK(e.cur == 0);
    editor_end(&e);
    editor_right(&e);
    CHECK(e.cur == e.len);
    /* Control characters never enter the line. */
    CHECK(editor_insert(&e, 0x1B) == -1);
    CHECK(editor_insert(&e, 0x9B) == -1);
    CHECK(editor_insert(&e, 0xD800) == -1);
    /* Ctrl-U deletes what is before the cursor only. */
    editor_clear(&e);
    CHECK(editor_insert_utf8(&e, "hello world") == 0);
    for (int i = 0; i < 5; i++)
        editor_left(&e);
    editor_kill_before(&e);
    CHECK(strcmp(text(), "world") == 0 && e.cur == 0);
    editor_free(&e);
}

static void test_history(void)
{
    editor_init(&e);
    CHECK(editor_insert_utf8(&e, "first") == 0);
    CHECK(editor_submit(&e, out, sizeof(out)) == 5 && strcmp(out, "first") == 0);
    CHECK(e.len == 0);
    CHECK(editor_insert_utf8(&e, "second") == 0);
    editor_submit(&e, out, sizeof(out));
    CHECK(editor_insert_utf8(&e, "draft \xc3\xa9") == 0);
    editor_history_prev(&e);
    CHECK(strcmp(text(), "second") == 0);
    editor_history_prev(&e);
    CHECK(strcmp(text(), "first") == 0);
    editor_history_prev(&e); /* stays on the oldest */
    CHECK(strcmp(text(), "first") == 0);
    editor_history_next(&e);
    editor_history_next(&e);
    CHECK(strcmp(text(), "draft \xc3\xa9") == 0);
    editor_history_next(&e);
    CHECK(strcmp(text(), "draft \xc3\xa9") == 0);
    /* Empty lines and repeats are not kept. */
    editor_clear(&e);
    editor_submit(&e, out, sizeof(out));
    CHECK(editor_insert_utf8(&e, "second") == 0);
    editor_submit(&e, out, sizeof(out));
    CHECK(e.n_hist == 2);
    for (unsigned i = 0; i < EDITOR_HISTORY + 10; i++) {
        char line[16];
        snprintf(line, sizeof(line), "l%u", i);
        CHECK(editor_insert_utf8(&e, line) == 0);
        editor_submit(&e, out, sizeof(out));
    }
    CHECK(e.n_hist == EDITOR_HISTORY);
    editor_free(&e);
}

static void test_limits(void)
{
    char small[4];

    editor_init(&e);
    for (unsigned i = 0; i < EDITOR_MAX; i++)
        CHECK(editor_insert(&e, 0x1F600) == 0);
    CHECK(editor_insert(&e, 'x') == -1);
    CHECK(editor_text(&e, out, sizeof(out)) == EDITOR_MAX * 4);
    CHECK(editor_text(&e, small, sizeof(small)) == (size_t)-1 && small[0] == '\0');
    editor_free(&e);
}

int main(void)
{
    test_editing();
    test_history();
    test_limits();
    printf("ok\n");
    return 0;
}
