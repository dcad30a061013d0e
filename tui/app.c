/*
 * parley-agent: the agents' terminal client. It unlocks the agent's key,
 * runs the Parley client on its service thread and polls the terminal
 * and the client's event descriptor together, so typing never waits on
 * the network. Events update the conversation model (events.c,
 * convlist.c); the local store stays the source of truth for
 * transcripts, which are reloaded from it when they change. Drawing is
 * ui.c's; commands and keys are handled here.
 */
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "app.h"
#include "command.h"
#include "files.h"
#include "options.h"
#include "pin.h"
#include "textwidth.h"
#include "ui.h"

#define MAX_KEYS_PER_TURN 512
#define INPUT_TEXT_MAX (EDITOR_MAX * 4u + 1u)

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

/* ---- panel (help, search results, saved replies) ---- */

static void panel_clear(struct app *a)
{
    for (size_t i = 0; i < a->n_panel; i++)
        free(a->panel_lines[i]);
    a->n_panel = 0;
    a->panel = 0;
    a->panel_scroll = 0;
}

static void panel_open(struct app *a, const char *title)
{
    panel_clear(a);
    a->panel = 1;
    snprintf(a->panel_title, sizeof(a->panel_title), "%s", title);
    a->redraw = 1;
}

static void panel_add(struct app *a, const char *line)
{
    char *copy;

    if (a->n_panel >= APP_PANEL_LINES)
        return;
    copy = strdup(line);
    if (copy != NULL)
        a->panel_lines[a->n_panel++] = copy;
}

/* ---- commands ---- */

static void refresh_state(struct app *a, struct tui_conv *c)
{
    parley_conv_state st;
    int entered;

    if (parley_conversation_state(a->client, c->id, &st) == PARLEY_OK)
        (void)convlist_update(&a->list, c->id, st, NULL, &entered);
    c->dirty = 1;
}

static void typing_stop(struct app *a)
{
    if (a->typing_sent) {
        parley_err err = parley_conversation_typing(a->client, a->typing_conv, 0);
        (void)err; /* best effort: the notice also expires on the customer's side */
        a->typing_sent = 0;
    }
}

/* Tells the customer we are typing while a message (not a command) is being written. */
static void typing_update(struct app *a)
{
    struct tui_conv *c = convlist_selected(&a->list);
    int writing = a->input.len > 0 && a->input.buf[0] != '/';

    if (a->typing_sent && (c == NULL || !writing || memcmp(c->id, a->typing_conv, 16) != 0))
        typing_stop(a);
    if (!a->typing_sent && writing && c != NULL && c->state == PARLEY_CONV_ACTIVE &&
        parley_conversation_typing(a->client, c->id, 1) == PARLEY_OK) {
        a->typing_sent = 1;
        memcpy(a->typing_conv, c->id, 16);
    }
}

static const char *state_refusal(const struct tui_conv *c)
{
    switch (c->state) {
    case PARLEY_CONV_QUEUED: return "still queued: /claim it first";
    case PARLEY_CONV_TAKEN: return "a colleague took this conversation";
    case PARLEY_CONV_TRANSFERRED: return "transferred: no longer yours";
    case PARLEY_CONV_CLOSED: return "this conversation is closed";
    default: return "not possible in this conversation's state";
    }
}

/*
 * Sends text after the sensitive-data guard. Returns 1 when the guard
 * holds it back, so that it stays in the input line (a warning waiting
 * for a second Enter, a blocked category), 0 otherwise.
 */
static int cmd_send(struct app *a, struct tui_conv *c, const char *text)
{
    struct scanguard_result r;
    char note[256];
    uint64_t seq = 0;
    enum guard_decision d;
    parley_err err;

    /* The brand's signed policy where it is stricter than the agent's own. */
    if (parley_client_scan_policy(a->client, &a->guard.local, &a->guard.policy) != PARLEY_OK)
        a->guard.policy = a->guard.local;
    d = guard_submit(&a->guard, c->id, text, &r, note, sizeof(note));

    if (d == GUARD_HOLD) {
        scanguard_result_wipe(&r);
        app_status(a, "%s", note);
        return 1;
    }
    err = parley_conversation_send_text(a->client, c->id,
                                        d == GUARD_SEND_REDACTED ? r.redacted : text, &seq);
    scanguard_result_wipe(&r);
    if (err == PARLEY_OK) {
        a->typing_sent = 0; /* a message ends the typing notice */
        if (c->session_first_seq == 0)
            c->session_first_seq = seq;
        c->dirty = 1;
        c->scroll = 0;
        if (a->conn != CONN_CONNECTED)
            app_status(a, "%s%skept in the outbox until the relay is back", note,
                       note[0] != '\0' ? "; " : "");
        else if (note[0] != '\0')
            app_status(a, "%s", note);
        return 0;
    }
    if (err == PARLEY_ESTATE)
        app_status(a, "not sent: %s", state_refusal(c));
    else if (err == PARLEY_EPOLICY)
        app_status(a, "not sent: the brand's policy refuses what this message contains");
    else if (err == PARLEY_EINVAL)
        app_status(a, "not sent: the message is not valid text or is too long");
    else
        app_status(a, "not sent: %s", parley_strerror(err));
    return 0;
}

static void cmd_verify(struct app *a, struct tui_conv *c)
{
    char mine[PARLEY_FINGERPRINT_LEN], theirs[PARLEY_FINGERPRINT_LEN], hex[65], line[160];
    int rc;

    if (!c->has_customer) {
        app_status(a, "/verify: the customer's key is not known yet");
        return;
    }
    parley_fingerprint(parley_client_sign_pk(a->client), mine);
    parley_fingerprint(c->customer_pk, theirs);
    /* 12 groups of 5 digits, as two lines of six: easier to read aloud, fits 80 columns. */
    app_system_line(c, "Compare these aloud with the customer (e.g. on the phone):");
    app_system_line(c, "your fingerprint:");
    snprintf(line, sizeof(line), "  %.35s", mine);
    app_system_line(c, line);
    snprintf(line, sizeof(line), "  %s", mine + 36);
    app_system_line(c, line);
    app_system_line(c, "customer fingerprint:");
    snprintf(line, sizeof(line), "  %.35s", theirs);
    app_system_line(c, line);
    snprintf(line, sizeof(line), "  %s", theirs + 36);
    app_system_line(c, line);
    sodium_bin2hex(hex, sizeof(hex), c->customer_pk, 32);
    rc = locker_put(a->locker, LOCKER_KIND_VERIFIED, hex, "1");
    c->verified = 1;
    c->scroll = 0;
    if (rc != LOCKER_OK)
        app_status(a, "marked verified for this session only: %s", locker_strerror(rc));
    else
        app_status(a, "customer marked verified on this device");
}

struct search_ctx {
    struct app *a;
    const char *needle;
    const char *label;
    size_t hits;
};

static int on_search(void *user, const parley_history_entry *e)
{
    struct search_ctx *s = user;
    char line[512], hhmm[8] = "--:--";
    time_t t = (time_t)(e->time_ms / 1000);
    struct tm tm;

    if (!tw_contains_ci(e->text, s->needle))
        return 0;
    s->hits++;
    if (localtime_r(&t, &tm) != NULL)
        strftime(hhmm, sizeof(hhmm), "%H:%M", &tm);
    /* One row of the panel: a long text is cut, never in the middle of a character. */
    snprintf(line, sizeof(line), "#%s %s %s: %s", s->label, hhmm,
             e->from_me ? "me" : e->sender_name[0] ? e->sender_name : "customer", e->text);
    tw_cut_utf8(line, strlen(line));
    panel_add(s->a, line);
    return 0;
}

/*
 * Access and portability requests: the conversation and its consent
 * receipt, or (customer) every conversation held with its customer, as JSON.
 */
static void cmd_export(struct app *a, const struct tui_conv *c, const char *path, int customer)
{
    char name[64], *json = NULL;
    size_t len = 0;
    parley_err err;
    FILE *f;

    if (path[0] == '\0') {
        snprintf(name, sizeof(name), "parley-%s%s.json", c->label, customer ? "-customer" : "");
        path = name;
    }
    if (customer && !c->has_customer)
        err = PARLEY_ESTATE;
    else if (customer)
        err = parley_client_export_customer(a->client, c->customer_pk, &json, &len);
    else
        err = parley_conversation_export(a->client, c->id, &json, &len);
    if (err != PARLEY_OK) {
        app_status(a, "/export: %s", parley_strerror(err));
        return;
    }
    /* Never over another file; private to the agent (0600) whatever the umask. */
    err = parley_export_file_open(path, 0, &f);
    if (err != PARLEY_OK) {
        /* The reason first: a long path is cut at the edge of the status bar. */
        app_status(a, "/export: %s (%s)",
                   err == PARLEY_EEXIST ? "the file already exists"
                   : err == PARLEY_EIO  ? strerror(errno)
                                        : parley_strerror(err),
                   path);
    } else if (fwrite(json, 1, len, f) != len || fclose(f) != 0) {
        app_status(a, "/export: %s: write failed", path);
    } else {
        (void)accesslog_record(&a->access, "exported", c->id,
                               customer ? "\"scope\":\"customer\"" : "\"scope\":\"conversation\"");
        app_status(a, "exported %s#%s to %s", customer ? "the customer of " : "", c->label, path);
    }
    parley_free(json, len);
}

static void cmd_search(struct app *a, const char *needle)
{
    struct search_ctx s = {a, needle, NULL, 0};
    char title[128];

    panel_open(a, "");
    for (size_t i = 0; i < a->list.n; i++) {
        size_t before = s.hits;
        char matches[32];

        s.label = a->list.v[i].label;
        if (parley_conversation_history(a->client, a->list.v[i].id, on_search, &s) != PARLEY_OK)
            panel_add(a, "(a conversation's history could not be read)");
        /* Which conversations the search showed, never what was searched for. */
        snprintf(matches, sizeof(matches), "\"matches\":%zu", s.hits - before);
        if (s.hits > before)
            (void)accesslog_record(&a->access, "searched", a->list.v[i].id, matches);
    }
    if (s.hits == 0)
        (void)accesslog_record(&a->access, "searched", NULL, "\"matches\":0");
    if (s.hits == 0)
        panel_add(a, "no match in the local history");
    snprintf(title, sizeof(title), "Search \"%.60s\": %zu match%s (Esc to close)", needle, s.hits,
             s.hits == 1 ? "" : "es");
    snprintf(a->panel_title, sizeof(a->panel_title), "%s", title);
}

static void cmd_canned_list(struct app *a)
{
    const char *names[LOCKER_MAX_ENTRIES];
    size_t n = locker_names(a->locker, LOCKER_KIND_CANNED, names, LOCKER_MAX_ENTRIES);

    panel_open(a, "Saved replies (/canned NAME inserts one; Esc to close)");
    if (n == 0)
        panel_add(a, "none yet: /canned add NAME TEXT");
    for (size_t i = 0; i < n && i < LOCKER_MAX_ENTRIES; i++) {
        char line[256];
        snprintf(line, sizeof(line), "%-16s %s", names[i],
                 locker_get(a->locker, LOCKER_KIND_CANNED, names[i]));
        panel_add(a, line);
    }
}

/* Runs a typed line. Returns 1 when the line must stay in the input (held by the guard). */
static int run_line(struct app *a, char *line)
{
    struct command cmd;
    struct tui_conv *c = convlist_selected(&a->list);
    parley_err err;
    const char *v;
    int rc;

    command_parse(line, &cmd);
    if (cmd.kind != CMD_TEXT && cmd.kind != CMD_NONE && cmd.kind != CMD_CANNED)
        typing_stop(a);
    switch (cmd.kind) {
    case CMD_NONE:
        return 0;
    case CMD_ERROR:
        app_status(a, "%s", cmd.error);
        return 0;
    case CMD_HELP:
        panel_open(a, "Commands (Esc to close)");
        for (size_t i = 0; command_help[i] != NULL; i++)
            panel_add(a, command_help[i]);
        return 0;
    case CMD_QUIT:
        a->quit = 1;
        return 0;
    case CMD_CANNED_LIST:
        cmd_canned_list(a);
        return 0;
    case CMD_CANNED:
        v = locker_get(a->locker, LOCKER_KIND_CANNED, cmd.name);
        if (v == NULL) {
            app_status(a, "no saved reply \"%s\" (/canned lists them)", cmd.name);
            return 0;
        }
        if (editor_insert_utf8(&a->input, v) != 0)
            app_status(a, "saved reply \"%s\" did not all fit in the input line", cmd.name);
        return 0;
    case CMD_CANNED_ADD:
        rc = locker_put(a->locker, LOCKER_KIND_CANNED, cmd.name, cmd.text);
        if (rc == LOCKER_OK)
            app_status(a, "saved reply \"%s\"", cmd.name);
        else
            app_status(a, "cannot save \"%s\": %s", cmd.name, locker_strerror(rc));
        return 0;
    case CMD_CANNED_DEL:
        rc = locker_del(a->locker, LOCKER_KIND_CANNED, cmd.name);
        if (rc == LOCKER_OK)
            app_status(a, "deleted saved reply \"%s\"", cmd.name);
        else
            app_status(a, "cannot delete \"%s\": %s", cmd.name, locker_strerror(rc));
        return 0;
    case CMD_SEARCH:
        cmd_search(a, cmd.text);
        return 0;
    default:
        break;
    }
    if (c == NULL) {
        app_status(a, "no conversation selected");
        return 0;
    }
    panel_clear(a);
    switch (cmd.kind) {
    case CMD_TEXT:
        return cmd_send(a, c, cmd.text);
    case CMD_CLAIM:
        err = parley_conversation_claim(a->client, c->id);
        if (err == PARLEY_OK) {
            app_status(a, "claimed #%s", c->label);
            app_system_line(c, "you claimed this conversation");
        }
        else if (err == PARLEY_ESTATE)
            app_status(a, "/claim: #%s is %s, not queued", c->label, convlist_state_name(c->state));
        else
            app_status(a, "/claim: %s", parley_strerror(err));
        refresh_state(a, c);
        break;
    case CMD_TRANSFER:
        if (strcmp(cmd.name, a->me.agent_id) == 0) {
            app_status(a, "/transfer: %s is you", cmd.name);
            break;
        }
        err = parley_conversation_transfer(a->client, c->id, cmd.name);
        if (err == PARLEY_OK) {
            char note[128];
            app_status(a, "transferred #%s to %s", c->label, cmd.name);
            snprintf(note, sizeof(note), "you transferred this conversation to %s", cmd.name);
            app_system_line(c, note);
        }
        else if (err == PARLEY_ENOAGENT)
            app_status(a, "/transfer: no valid agent \"%s\" in the brand directory", cmd.name);
        else if (err == PARLEY_ESTATE)
            app_status(a, "/transfer: %s", state_refusal(c));
        else
            app_status(a, "/transfer: %s", parley_strerror(err));
        refresh_state(a, c);
        break;
    case CMD_CLOSE:
        err = parley_conversation_close(a->client, c->id, cmd.text[0] ? cmd.text : "resolved");
        if (err == PARLEY_OK) {
            app_status(a, "closed #%s", c->label);
            app_system_line(c, "you closed this conversation");
        }
        else if (err == PARLEY_ESTATE)
            app_status(a, "/close: %s", state_refusal(c));
        else
            app_status(a, "/close: %s", parley_strerror(err));
        refresh_state(a, c);
        break;
    case CMD_VERIFY:
        cmd_verify(a, c);
        break;
    case CMD_REDACT:
        err = parley_conversation_redact(a->client, c->id, cmd.n);
        if (err == PARLEY_OK) {
            char which[32];

            snprintf(which, sizeof(which), "\"message\":%lu", cmd.n);
            (void)accesslog_record(&a->access, "redacted", c->id, which);
            app_status(a, "message %lu received, counting back, redacted in this device's store",
                       cmd.n);
        }
        else if (err == PARLEY_EINVAL)
            app_status(a, "/redact: no such message received (1 is the last one)");
        else
            app_status(a, "/redact: %s", parley_strerror(err));
        c->dirty = 1;
        break;
    case CMD_EXPORT:
    case CMD_EXPORT_CUSTOMER:
        cmd_export(a, c, cmd.text, cmd.kind == CMD_EXPORT_CUSTOMER);
        break;
    default:
        break;
    }
    return 0;
}

/* ---- keys ---- */

static void scroll_page(struct app *a, int dir)
{
    struct tui_conv *c = convlist_selected(&a->list);
    int page = ui_transcript_rows() - 2;

    if (page < 1)
        page = 1;
    if (a->panel)
        a->panel_scroll -= dir * page; /* clamped when drawn */
    else if (c != NULL)
        c->scroll += dir * page;
}

static void switch_conv(struct app *a, int dir)
{
    typing_stop(a);
    panel_clear(a);
    convlist_step(&a->list, dir);
}

/*
 * Enter: the line leaves the input (and goes to the history) and runs;
 * when the guard holds a message back, it is put back for the second
 * Enter or for editing.
 */
static void submit(struct app *a)
{
    static char line[INPUT_TEXT_MAX], typed[INPUT_TEXT_MAX];
    size_t n = editor_text(&a->input, typed, sizeof(typed));

    if (n == (size_t)-1 || editor_submit(&a->input, line, sizeof(line)) == (size_t)-1)
        return;
    if (run_line(a, line) != 0)
        (void)editor_insert_utf8(&a->input, typed); /* it came from the editor: it fits */
    sodium_memzero(typed, n);
    sodium_memzero(line, sizeof(line));
}

/* Any edit, Esc or another conversation: a held warning asks again on the next Enter. */
static void guard_edit(struct app *a)
{
    if (!guard_pending(&a->guard))
        return;
    guard_reset(&a->guard);
    a->status[0] = '\0';
}

/* Keys that change neither the text nor the conversation keep a warning pending. */
static int key_keeps_text(int r, wint_t ch)
{
    if (r == KEY_CODE_YES)
        return ch == KEY_RESIZE || ch == KEY_LEFT || ch == KEY_RIGHT || ch == KEY_HOME ||
               ch == KEY_END || ch == KEY_PPAGE || ch == KEY_NPAGE || ch == KEY_ENTER;
    return ch == '\r' || ch == '\n' || ch == 1 || ch == 5 || ch == 12;
}

static void on_key(struct app *a, int r, wint_t ch)
{
    a->redraw = 1;
    if (!key_keeps_text(r, ch))
        guard_edit(a);
    if (r == KEY_CODE_YES) {
        switch (ch) {
        case KEY_RESIZE: break;
        case KEY_LEFT: editor_left(&a->input); break;
        case KEY_RIGHT: editor_right(&a->input); break;
        case KEY_HOME: editor_home(&a->input); break;
        case KEY_END: editor_end(&a->input); break;
        case KEY_UP: editor_history_prev(&a->input); break;
        case KEY_DOWN: editor_history_next(&a->input); break;
        case KEY_BACKSPACE: editor_backspace(&a->input); break;
        case KEY_DC: editor_delete(&a->input); break;
        case KEY_PPAGE: scroll_page(a, 1); break;
        case KEY_NPAGE: scroll_page(a, -1); break;
        case KEY_BTAB: switch_conv(a, -1); break;
        case KEY_ENTER: submit(a); break;
        default: break;
        }
        typing_update(a);
        return;
    }
    switch (ch) {
    case '\t': switch_conv(a, 1); break;
    case '\r':
    case '\n': submit(a); break;
    case 1: editor_home(&a->input); break;      /* Ctrl-A */
    case 5: editor_end(&a->input); break;       /* Ctrl-E */
    case 21: editor_kill_before(&a->input); break; /* Ctrl-U */
    case 3: a->quit = 1; break;                 /* Ctrl-C */
    case 12: clearok(curscr, TRUE); break;      /* Ctrl-L */
    case 27: panel_clear(a); break;             /* Esc */
    case 127:
    case 8: editor_backspace(&a->input); break;
    default:
        if (ch >= 0x20 && editor_insert(&a->input, (uint32_t)ch) != 0 && a->input.len >= EDITOR_MAX)
            app_status(a, "the input line is full");
        break;
    }
    typing_update(a);
}

/* ---- start-up ---- */

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static int curses_on;

static void fatal(const char *fmt, ...)
{
    va_list ap;

    if (curses_on)
        ui_stop();
    fprintf(stderr, "parley-agent: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void use_utf8_locale(void)
{
    setlocale(LC_ALL, "");
    if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
        setlocale(LC_CTYPE, "C.UTF-8");
}

/* The files named on the command line, and the passphrase when one was given there. */
struct inputs {
    parley_pin pin;
    struct files_object key, cert, dir;
    struct passphrase pass;
    int pass_given; /* from --passphrase-env or --passphrase-file */
};

/* Before the screen is taken over: each failure is one line naming the file. */
static void load_inputs(const struct options *o, struct inputs *in)
{
    memset(in, 0, sizeof(*in));
    if (pin_load(o->brand_path, PIN_CLIENT, &in->pin) != 0 ||
        files_load(o->key_path, FILES_KIND_KEY, &in->key) != 0 ||
        files_load(o->cert_path, FILES_KIND_CERT, &in->cert) != 0 ||
        (o->directory_path != NULL &&
         files_load(o->directory_path, FILES_KIND_DIRECTORY, &in->dir) != 0))
        exit(1);
    in->pass_given = passphrase_get(&o->pass, o->key_path, PASSPHRASE_NO_TTY, &in->pass);
    if (in->pass_given < 0)
        exit(1);
}

static void release_inputs(struct inputs *in)
{
    sodium_memzero(&in->pin, sizeof(in->pin));
    files_release(&in->key);
    files_release(&in->cert);
    files_release(&in->dir);
    passphrase_release(&in->pass);
}

/* Unlocks the key file: with the passphrase given, else up to three tries on screen. */
static void unlock(const struct options *o, struct inputs *in)
{
    char prompt[600], note[128];
    struct passphrase *pass = &in->pass;
    int given = in->pass_given;

    snprintf(prompt, sizeof(prompt), "Unlock your key %s", o->key_path);
    note[0] = '\0';
    for (int attempt = 1; attempt <= 3; attempt++) {
        parley_identity *id = NULL;
        parley_err e;

        if (!given) {
            int n = ui_ask_passphrase(prompt, note[0] ? note : NULL, pass->buf,
                                      PASSPHRASE_MAX + 1);
            if (n < 0)
                fatal("cancelled");
            pass->len = (size_t)n;
        }
        e = parley_identity_import(&id, in->key.body, in->key.body_len, pass->buf, pass->len, NULL,
                                   0);
        parley_identity_free(id);
        if (e == PARLEY_OK)
            return;
        if (e != PARLEY_EPASSPHRASE)
            fatal("%s: %s", o->key_path, parley_strerror(e));
        if (given)
            fatal("%s: wrong passphrase (or the key file was altered)", o->key_path);
        snprintf(note, sizeof(note), "Wrong passphrase. %d %s left.", 3 - attempt,
                 3 - attempt == 1 ? "try" : "tries");
    }
    fatal("%s: wrong passphrase, 3 tries", o->key_path);
}

static void show_unlocking(const char *what)
{
    erase();
    mvaddstr(LINES / 2, 2, what);
    refresh();
}

int main(int argc, char **argv)
{
    static struct app a;
    struct options o;
    struct inputs in;
    parley_client_config cfg;
    char err[512], locker_path[4200], access_path[4200], access_err[4300];
    struct sigaction sa;
    parley_err e;
    int rc, efd;
    int64_t last_tick = 0;
    int dead_reads = 0;

    if (options_parse(&o, argc, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "parley-agent: %s\n%s", err, options_usage);
        return 2;
    }
    if (o.help) {
        fputs(options_usage, stdout);
        return 0;
    }
    if (parley_init() != PARLEY_OK)
        fatal("cannot start libsodium");
    if ((size_t)snprintf(locker_path, sizeof(locker_path), "%s.canned", o.store_path) >=
        sizeof(locker_path))
        fatal("--store: path too long");
    load_inputs(&o, &in);
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        fatal("needs a terminal");
    use_utf8_locale();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (ui_start() != 0)
        fatal("cannot start the terminal screen");
    curses_on = 1;

    unlock(&o, &in);
    show_unlocking("Unlocking your store\xe2\x80\xa6");
    e = parley_cert_verify(in.cert.body, in.cert.body_len, in.pin.brand_pk, in.pin.brand_id,
                           (uint64_t)time(NULL),
                           NULL, &a.me);
    if (e != PARLEY_OK)
        fatal("%s: %s (for brand %s)", o.cert_path, parley_strerror(e), in.pin.brand_id);
    editor_init(&a.input);
    guard_init(&a.guard, &o.guard);
    convlist_init(&a.list);
    snprintf(a.relay, sizeof(a.relay), "%s", o.relay);
    memset(&cfg, 0, sizeof(cfg));
    cfg.relay_url = o.relay;
    cfg.brand_pk = in.pin.brand_pk;
    cfg.brand_id = in.pin.brand_id;
    cfg.directory_key = in.pin.directory_key;
    cfg.storage_path = o.store_path;
    cfg.passphrase = in.pass.buf;
    cfg.passphrase_len = in.pass.len;
    cfg.kdf_cost = o.kdf;
    cfg.agent_key = in.key.body;
    cfg.agent_key_len = in.key.body_len;
    cfg.key_passphrase = in.pass.buf;
    cfg.key_passphrase_len = in.pass.len;
    cfg.agent_cert = in.cert.body;
    cfg.agent_cert_len = in.cert.body_len;
    cfg.publish_directory = in.dir.body;
    cfg.publish_directory_len = in.dir.body_len;
    cfg.keep_on_erasure = o.keep_on_erasure;
    cfg.history_retention_days = o.history_days;
    cfg.on_event = app_on_event;
    cfg.user = &a;
    e = parley_client_new(&a.client, &cfg);
    if (e == PARLEY_EPASSPHRASE)
        fatal("%s: this store is locked with another passphrase than your key", o.store_path);
    if (e == PARLEY_EWRONGTYPE)
        fatal("%s: a store of an older Parley (0.1.0): move it aside to start afresh (your key "
              "and certificate stay valid)",
              o.store_path);
    if (e != PARLEY_OK)
        fatal("%s: %s", o.store_path, parley_strerror(e));
    if ((size_t)snprintf(access_path, sizeof(access_path), "%s.access", o.store_path) >=
            sizeof(access_path) ||
        accesslog_open(&a.access, access_path, a.me.agent_id, access_err, sizeof(access_err)) != 0) {
        parley_client_free(a.client);
        fatal("access log: %s", access_err);
    }
    rc = locker_open(&a.locker, locker_path, in.pass.buf, in.pass.len, o.kdf);
    passphrase_release(&in.pass);
    if (rc != LOCKER_OK) {
        parley_client_free(a.client);
        fatal("%s: %s", locker_path, locker_strerror(rc));
    }
    app_refresh(&a, 1);
    if (parley_client_start_thread(a.client) != PARLEY_OK ||
        parley_client_connect(a.client) != PARLEY_OK) {
        parley_client_free(a.client);
        fatal("cannot start the network thread");
    }
    efd = parley_client_event_fd(a.client);
    nodelay(stdscr, TRUE);
    a.redraw = 1;

    while (!a.quit && got_signal == 0) {
        struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {efd, POLLIN, 0}};
        int64_t now = app_now();
        int n;

        /* A warning stays on the status bar until it is answered. */
        if (a.status[0] != '\0' && now >= a.status_until && !guard_pending(&a.guard)) {
            a.status[0] = '\0';
            a.redraw = 1;
        }
        for (size_t i = 0; i < a.list.n; i++)
            if (a.list.v[i].typing && now >= a.list.v[i].typing_until) {
                a.list.v[i].typing = 0;
                a.redraw = 1;
            }
        if (now - last_tick >= 1000) {
            last_tick = now;
            a.redraw |= a.conn == CONN_RETRYING || parley_client_outbox_size(a.client) > 0;
        }
        if (a.redraw) {
            app_mark_seen(&a);
            ui_draw(&a);
            a.redraw = 0;
        }
        n = poll(p, 2, 250);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (p[1].revents & POLLIN)) {
            parley_client_dispatch(a.client);
            app_refresh(&a, 0);
        }
        if (n > 0 && (p[0].revents & (POLLHUP | POLLERR)) && !(p[0].revents & POLLIN))
            break; /* the terminal went away */
        for (int k = 0; k < MAX_KEYS_PER_TURN; k++) {
            wint_t ch;
            int r = get_wch(&ch);
            if (r == ERR) {
                /* Readable but nothing to read, turn after turn: the terminal closed. */
                if (k == 0 && n > 0 && (p[0].revents & POLLIN) && ++dead_reads > 50)
                    a.quit = 1;
                break;
            }
            dead_reads = 0;
            on_key(&a, r, ch);
        }
        app_refresh(&a, 0);
    }
    typing_stop(&a);
    ui_stop();
    parley_client_free(a.client);
    locker_free(a.locker);
    convlist_free(&a.list);
    panel_clear(&a);
    editor_free(&a.input);
    guard_free(&a.guard);
    accesslog_close(&a.access);
    release_inputs(&in);
    return 0;
}
