/*
 * Text width: decoding hostile UTF-8, the cells each character takes,
 * and wrapping that never exceeds the pane whatever the script.
 */
#include <locale.h>
#include <string.h>

#include "check.h"
#include "textwidth.h"

static size_t dec(const char *s, wchar_t *out)
{
    return tw_decode(s, strlen(s), out, 256);
}

static void test_decode(void)
{
    wchar_t w[256];
    char u[4];

    CHECK(dec("caf\xc3\xa9", w) == 4 && w[3] == 0xE9);
    CHECK(dec("\xf0\x9f\x99\x8f", w) == 1 && w[0] == 0x1F64F);
    /* Bad bytes become U+FFFD one by one: lone continuation, overlong, surrogate, truncated. */
    CHECK(dec("\x80", w) == 1 && w[0] == TW_REPLACEMENT);
    CHECK(dec("\xc0\xaf", w) == 2 && w[0] == TW_REPLACEMENT);
    CHECK(dec("\xed\xa0\x80", w) == 3 && w[0] == TW_REPLACEMENT);
    CHECK(dec("a\xe2\x82", w) == 3 && w[0] == 'a' && w[1] == TW_REPLACEMENT);
    CHECK(dec("\xf4\x90\x80\x80", w) == 4 && w[0] == TW_REPLACEMENT); /* past U+10FFFF */
    CHECK(dec("\xf8\x88\x80\x80\x80", w) == 5 && w[4] == TW_REPLACEMENT);
    CHECK(dec("\xf4\x8f\xbf\xbf", w) == 1 && w[0] == 0x10FFFF);
    CHECK(tw_encode(0xE9, u) == 2 && memcmp(u, "\xc3\xa9", 2) == 0);
    CHECK(tw_encode(0x1F64F, u) == 4);
    CHECK(tw_encode(0xD800, u) == 0);
}

static void test_cells(void)
{
    CHECK(tw_cell(L'a') == 1);
    CHECK(tw_cell(0xE9) == 1);         /* é */
    CHECK(tw_cell(0x1F4E6) == 2);      /* 📦 */
    CHECK(tw_cell(0x4E2D) == 2);       /* 中 */
    CHECK(tw_cell(0x05E9) == 1);       /* ש, right-to-left */
    CHECK(tw_cell(0x0301) == 0);       /* combining acute */
    CHECK(tw_cell(0x1B) == 1 && tw_visible(0x1B) == TW_REPLACEMENT); /* ESC never reaches the terminal */
    CHECK(tw_cell(0x9B) == 1 && tw_visible(0x9B) == TW_REPLACEMENT); /* C1 CSI */
    CHECK(tw_visible(0x202E) == 0 && tw_cell(0x202E) == 0);          /* RLO dropped */
    CHECK(tw_visible(0x2067) == 0);
}

/* Every invisible formatting character parley-customer drops is dropped here too. */
static void test_invisible_formatting_dropped(void)
{
    static const wchar_t dropped[] = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066,
                                      0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C};

    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
        CHECK(tw_visible(dropped[i]) == 0 && tw_cell(dropped[i]) == 0);
    /* Their neighbours are letters, joiners and spaces that scripts need. */
    CHECK(tw_visible(0x200D) != 0 && tw_visible(0x0627) == 0x0627 && tw_visible(0x2029) != 0);
}

/* A string cut by snprintf loses its last, incomplete character only. */
static void test_cut_utf8(void)
{
    char s[16];

    snprintf(s, sizeof(s), "caf\xc3\xa9");
    CHECK(tw_cut_utf8(s, 5) == 5 && strcmp(s, "caf\xc3\xa9") == 0);
    snprintf(s, sizeof(s), "ab\xe2\x80");
    CHECK(tw_cut_utf8(s, 4) == 2 && strcmp(s, "ab") == 0);
    snprintf(s, sizeof(s), "ab\xf0\x9f\x93");
    CHECK(tw_cut_utf8(s, 5) == 2 && strcmp(s, "ab") == 0);
    snprintf(s, sizeof(s), "ab\xf0");
    CHECK(tw_cut_utf8(s, 3) == 2 && strcmp(s, "ab") == 0);
    snprintf(s, sizeof(s), "\x80\x80\x80\x80\x80");
    CHECK(tw_cut_utf8(s, 5) == 5);
    CHECK(tw_cut_utf8(s, 0) == 0);
}

static void test_wrap(void)
{
    wchar_t w[256];
    size_t n = dec("Bonjour, ma commande n'est pas arriv\xc3\xa9" "e", w), pos = 0, next, end;
    int lines = 0;

    /* Breaks at spaces, every line fits. */
    while (pos < n) {
        end = tw_wrap(w, n, pos, 12, &next);
        CHECK(tw_width(w + pos, end - pos) <= 12);
        CHECK(next > pos);
        pos = next;
        lines++;
    }
    CHECK(lines == 4);
    /* A word longer than the line is cut. */
    n = dec("aaaaaaaaaaaaaaaaaaaa", w);
    end = tw_wrap(w, n, 0, 8, &next);
    CHECK(end == 8 && next == 8);
    /* Wide characters are never split over the edge. */
    n = dec("\xf0\x9f\x93\xa6\xf0\x9f\x93\xa6\xf0\x9f\x93\xa6", w);
    end = tw_wrap(w, n, 0, 5, &next);
    CHECK(end == 2 && tw_width(w, end) == 4);
    /* Width 1 with a wide character still makes progress. */
    end = tw_wrap(w, n, 0, 1, &next);
    CHECK(next == 1);
    /* Newlines end lines. */
    n = dec("ab\ncd", w);
    end = tw_wrap(w, n, 0, 40, &next);
    CHECK(end == 2 && next == 3);
    /* Fit. */
    n = dec("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xf0\x9f\x99\x8f!", w);
    CHECK(tw_fit(w, n, 6) == 5);
    CHECK(tw_fit(w, n, 7) == 6);
}

static void test_search(void)
{
    CHECK(tw_contains_ci("Bonjour, ma COMMANDE", "commande"));
    CHECK(tw_contains_ci("\xc3\x89t\xc3\xa9 \xc3\xa0 Paris", "\xc3\xa9t\xc3\xa9"));
    CHECK(!tw_contains_ci("colis", "commande"));
    CHECK(tw_contains_ci("x", ""));
}

int main(void)
{
    CHECK(setlocale(LC_CTYPE, "C.UTF-8") != NULL);
    test_decode();
    test_cells();
    test_invisible_formatting_dropped();
    test_cut_utf8();
    test_wrap();
    test_search();
    printf("ok\n");
    return 0;
}
