/*
 * Screen width of text: UTF-8 decoding to code points, the number of
 * terminal cells each one takes, and word wrapping to a pane's width.
 * No curses here, so the rules are unit-tested on their own.
 */
#ifndef PARLEY_TUI_TEXTWIDTH_H
#define PARLEY_TUI_TEXTWIDTH_H

#include <stddef.h>
#include <wchar.h>

#define TW_REPLACEMENT ((wchar_t)0xFFFD)

/*
 * Decodes UTF-8 into out (at most cap code points). Invalid or truncated
 * sequences, surrogates and overlong forms become U+FFFD, one per bad
 * byte. Returns the number of code points written.
 */
size_t tw_decode(const char *s, size_t n, wchar_t *out, size_t cap);

/*
 * Encodes one code point as UTF-8 into out (4 bytes room). Returns the
 * byte count, 0 for a value that is not a Unicode scalar.
 */
size_t tw_encode(unsigned long cp, char out[4]);

/*
 * What to draw for c: c itself, U+FFFD for control and unprintable
 * characters, or 0 to draw nothing (the invisible formatting characters
 * of parley_text_invisible(): bidirectional overrides, isolates and
 * marks, which could reorder the rest of a line on some terminals).
 */
wchar_t tw_visible(wchar_t c);

/* Cells tw_visible(c) takes: 0 (combining, dropped), 1 or 2. Never negative. */
int tw_cell(wchar_t c);

/* Cells a run of code points takes. */
int tw_width(const wchar_t *s, size_t n);

/*
 * One wrapped line of s[start..n) in width cells: returns the end of the
 * line (exclusive) and sets *next to where the following line starts
 * (after the space it broke at). Breaks at the last space that fits,
 * otherwise mid-word; a newline ends a line. Always makes progress when
 * start < n, even when width is smaller than one wide character.
 */
size_t tw_wrap(const wchar_t *s, size_t n, size_t start, int width, size_t *next);

/* How many code points of s, from the start, fit in width cells. */
size_t tw_fit(const wchar_t *s, size_t n, int width);

/*
 * Drops a multi-byte sequence left incomplete at the end of s[0..n) (as
 * snprintf leaves it when it cuts a string short) by writing a NUL over
 * its first byte. Returns the new length.
 */
size_t tw_cut_utf8(char *s, size_t n);

/* 1 if needle occurs in haystack (both UTF-8), ignoring case; an empty needle matches. */
int tw_contains_ci(const char *haystack, const char *needle);

#endif
