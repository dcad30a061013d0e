/*
 * Message layout: a name and a text of any length, in any script, come
 * out whole, in order, with the name, the text and the delivery mark
 * where the drawing code expects them; bad bytes become U+FFFD.
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hostile_text.h"
#include "msgline.h"
#include "textwidth.h"

static size_t count(const struct msgline *l, size_t from, size_t to, wchar_t c)
{
    size_t n = 0;

    for (size_t i = from; i < to; i++)
        n += l->w[i] == c;
    return n;
}

/* 16,648 characters of name: the name, ": ", the text and the mark all follow in full. */
static void test_name_of_16648_characters_laid_out_whole(void)
{
    struct msgline l;
    char *name = repeat("N", 16648, "");

    msgline_init(&l);
    CHECK(msgline_build(&l, name, 1, "hello", " \xe2\x9c\x93") == 0);
    CHECK(l.name_len == 16648 && count(&l, 0, l.name_len, L'N') == 16648);
    CHECK(l.w[16648] == L':' && l.w[16649] == L' ');
    CHECK(wmemcmp(l.w + 16650, L"hello", 5) == 0);
    CHECK(l.mark_start == 16655 && l.n == 16657 && l.w[16656] == 0x2713);
    msgline_free(&l);
    free(name);
}

/* A megabyte of text, then a short one in the same buffer: each laid out exactly. */
static void test_megabyte_text_then_short_reuses_buffer(void)
{
    struct msgline l;
    size_t mib = 1u << 20;
    char *text = repeat("x", mib - 3, "END");

    msgline_init(&l);
    CHECK(msgline_build(&l, "customer", 1, text, "") == 0);
    CHECK(l.n == 8 + 2 + mib && l.mark_start == l.n);
    CHECK(count(&l, 10, l.n - 3, L'x') == mib - 3 && wmemcmp(l.w + l.n - 3, L"END", 3) == 0);
    CHECK(msgline_build(&l, "--", 0, "short", "") == 0);
    CHECK(l.name_len == 2 && l.n == 8 && wmemcmp(l.w, L"-- short", 8) == 0);
    msgline_free(&l);
    free(text);
}

/* Combining marks and wide characters are kept as they are; the widths add up. */
static void test_combining_and_wide_characters_kept(void)
{
    struct msgline l;
    char *marks = repeat("\xcc\x81", 100000, "\xe6\xbc\xa2\xe5\xad\x97"); /* U+0301..., 漢字 */

    msgline_init(&l);
    CHECK(msgline_build(&l, "\xe5\x90\x8d", 1, marks, "") == 0);
    CHECK(l.name_len == 1 && l.w[0] == 0x540D);
    CHECK(count(&l, 3, l.n, 0x0301) == 100000);
    CHECK(l.w[l.n - 2] == 0x6F22 && l.w[l.n - 1] == 0x5B57);
    CHECK(tw_width(l.w, l.n) == 2 + 1 + 1 + 0 + 4);
    msgline_free(&l);
    free(marks);
}

/* Hostile bytes: each bad byte is one U+FFFD, nothing is read past the strings. */
static void test_bad_utf8_becomes_replacement(void)
{
    struct msgline l;

    msgline_init(&l);
    CHECK(msgline_build(&l, "\xff\xfe", 1, "a\xe2\x82", "\xc0") == 0);
    CHECK(l.name_len == 2 && l.w[0] == TW_REPLACEMENT && l.w[1] == TW_REPLACEMENT);
    CHECK(l.w[4] == L'a' && l.w[5] == TW_REPLACEMENT && l.w[6] == TW_REPLACEMENT);
    CHECK(l.mark_start == 7 && l.n == 8 && l.w[7] == TW_REPLACEMENT);
    CHECK(msgline_build(&l, "", 1, "", "") == 0 && l.n == 2 && l.name_len == 0);
    msgline_free(&l);
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    test_name_of_16648_characters_laid_out_whole();
    test_megabyte_text_then_short_reuses_buffer();
    test_combining_and_wide_characters_kept();
    test_bad_utf8_becomes_replacement();
    return 0;
}
