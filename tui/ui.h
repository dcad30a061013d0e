/*
 * Drawing parley-agent with ncursesw: conversation list, transcript,
 * status bar and input line, from the state in struct app.
 */
#ifndef PARLEY_TUI_UI_H
#define PARLEY_TUI_UI_H

#include "app.h"

/* Starts curses (UTF-8 locale expected). Returns 0 or -1. */
int ui_start(void);
void ui_stop(void);
/* Draws the whole screen. */
void ui_draw(struct app *a);
/* Rows of the transcript pane, for page scrolling. */
int ui_transcript_rows(void);

/*
 * Asks for a passphrase on the screen with echo off. prompt and note are
 * one line each (note may be NULL). Returns its length, or -1 when the
 * agent cancelled (Esc, Ctrl-C, Ctrl-D on an empty line).
 */
int ui_ask_passphrase(const char *prompt, const char *note, char *out, size_t cap);

#endif
