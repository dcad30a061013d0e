/*
 * parley-agent's state shared by the event and command handling
 * (app.c) and the drawing (ui.c).
 */
#ifndef PARLEY_TUI_APP_H
#define PARLEY_TUI_APP_H

#include <stdint.h>

#include "convlist.h"
#include "editor.h"
#include "accesslog.h"
#include "guard.h"
#include "locker.h"
#include "parley/parley.h"

#define APP_PANEL_LINES 400u

enum conn_state { CONN_CONNECTING = 0, CONN_CONNECTED, CONN_RETRYING };

struct app {
    parley_client *client;
    struct locker *locker;
    struct convlist list;
    struct editor input;
    struct guard guard;           /* the sensitive-data check before a message leaves */
    struct accesslog access;      /* who viewed, searched, exported or redacted what */
    uint8_t viewed[16];           /* the conversation last logged as viewed */
    int viewed_set;
    parley_cert_info me;
    char relay[256];
    enum conn_state conn;
    int64_t reconnect_at;         /* monotonic ms, CONN_RETRYING */
    parley_err conn_error;
    char status[256];             /* one-line message for the status bar */
    int64_t status_until;
    /* A panel over the transcript (help, search results), closed with Esc. */
    int panel;
    char panel_title[128];
    char *panel_lines[APP_PANEL_LINES];
    size_t n_panel;
    int panel_scroll;
    int typing_sent;              /* we told the customer we are typing */
    uint8_t typing_conv[16];
    int quit;
    int bell;                     /* ring once at the next draw */
    int redraw;
};

int64_t app_now(void);

/* events.c */
/* A line from parley-agent itself (not in the history) in c's transcript. */
void app_system_line(struct tui_conv *c, const char *text);
/* Reloads from the store what changed; every conversation of the store when all. */
void app_refresh(struct app *a, int all);
/* The selected conversation is on screen: its messages are read, and the customer told so. */
void app_mark_seen(struct app *a);
/* The parley_event_fn: user is the struct app. */
void app_on_event(void *user, const parley_event *ev);
/* Sets the status bar message for a few seconds (printf-style). */
void app_status(struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
