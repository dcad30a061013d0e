/*
 * The command parser. It only splits and checks; the application decides
 * what a command does in the current conversation, so the same rules
 * (and the same one-line errors) hold whatever is on the screen.
 */
#include "command.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const command_help[] = {
    "/claim              take the selected queued conversation",
    "/transfer AGENT     hand the conversation to colleague AGENT (agent id)",
    "/close [REASON]     close the conversation",
    "/verify             show both fingerprints to compare aloud; mark verified",
    "/canned NAME        put saved reply NAME into the input line",
    "/canned add NAME TEXT   save a reply     /canned del NAME   delete one",
    "/canned             list saved replies",
    "/search TEXT        search the local history of every conversation",
    "/export [FILE]      write the conversation and its consent receipt as JSON",
    "/export --customer [FILE]   ... every conversation with this customer",
    "/redact [N]         redact the Nth last message received (default 1) in your store",
    "/help               this help            /quit   leave parley-agent",
    "Tab/Shift-Tab: next/previous conversation   PgUp/PgDn: scroll   Esc: close panel",
    "Up/Down: input history   Left/Right/Home/End: move   Ctrl-U: delete to start",
    "A line starting with // sends a message beginning with /",
    NULL,
};

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static char *skip_spaces(char *s)
{
    while (is_space(*s))
        s++;
    return s;
}

static void trim_end(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (is_space(s[n - 1]) || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

int command_agent_id_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

int command_canned_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Cuts the next word off *rest: returns it NUL-terminated; *rest is what follows. */
static char *next_word(char **rest)
{
    char *w = skip_spaces(*rest), *e = w;

    while (*e != '\0' && !is_space(*e))
        e++;
    if (*e != '\0') {
        *e = '\0';
        *rest = skip_spaces(e + 1);
    } else {
        *rest = e;
    }
    return w;
}

static void fail(struct command *out, const char *msg)
{
    out->kind = CMD_ERROR;
    snprintf(out->error, sizeof(out->error), "%s", msg);
}

static int take_name(struct command *out, const char *w)
{
    if (strlen(w) > COMMAND_NAME_MAX)
        return -1;
    snprintf(out->name, sizeof(out->name), "%s", w);
    return 0;
}

void command_parse(char *line, struct command *out)
{
    char *rest, *cmd;

    memset(out, 0, sizeof(*out));
    out->text = "";
    trim_end(line);
    rest = skip_spaces(line);
    if (*rest == '\0') {
        out->kind = CMD_NONE;
        return;
    }
    if (rest[0] != '/' || rest[1] == '/') {
        out->kind = CMD_TEXT;
        out->text = rest[0] == '/' ? rest + 1 : rest;
        return;
    }
    cmd = next_word(&rest);
    if (strcmp(cmd, "/claim") == 0 || strcmp(cmd, "/verify") == 0 ||
        strcmp(cmd, "/help") == 0 || strcmp(cmd, "/quit") == 0) {
        if (*rest != '\0') {
            char msg[80];
            snprintf(msg, sizeof(msg), "%s takes no argument", cmd);
            fail(out, msg);
            return;
        }
        out->kind = cmd[1] == 'c' ? CMD_CLAIM : cmd[1] == 'v' ? CMD_VERIFY
                    : cmd[1] == 'h' ? CMD_HELP : CMD_QUIT;
        return;
    }
    if (strcmp(cmd, "/transfer") == 0) {
        char *id = next_word(&rest);
        if (*id == '\0' || *rest != '\0') {
            fail(out, "usage: /transfer AGENT (one agent id, e.g. /transfer bob)");
            return;
        }
        if (!command_agent_id_valid(id)) {
            fail(out, "/transfer: an agent id is 1-64 characters of a-z 0-9 . _ -");
            return;
        }
        (void)take_name(out, id);
        out->kind = CMD_TRANSFER;
        return;
    }
    if (strcmp(cmd, "/close") == 0) {
        out->kind = CMD_CLOSE;
        out->text = rest;
        return;
    }
    if (strcmp(cmd, "/search") == 0) {
        if (*rest == '\0') {
            fail(out, "usage: /search TEXT");
            return;
        }
        out->kind = CMD_SEARCH;
        out->text = rest;
        return;
    }
    if (strcmp(cmd, "/redact") == 0) {
        char *end = rest;

        out->n = 1;
        if (*rest != '\0')
            out->n = rest[0] >= '1' && rest[0] <= '9' ? strtoul(rest, &end, 10) : 0;
        if (out->n == 0 || out->n > 100000 || *end != '\0') {
            fail(out, "usage: /redact [N] (N: 1 for the last message received, 2 the one before)");
            return;
        }
        out->kind = CMD_REDACT;
        return;
    }
    if (strcmp(cmd, "/export") == 0) {
        out->kind = CMD_EXPORT;
        if (strncmp(rest, "--customer", 10) == 0 && (rest[10] == '\0' || is_space(rest[10]))) {
            out->kind = CMD_EXPORT_CUSTOMER;
            rest = skip_spaces(rest + 10);
        }
        out->text = rest;
        return;
    }
    if (strcmp(cmd, "/canned") == 0) {
        char *name = next_word(&rest);
        if (*name == '\0') {
            out->kind = CMD_CANNED_LIST;
            return;
        }
        if (strcmp(name, "add") == 0 || strcmp(name, "del") == 0) {
            int add = name[0] == 'a';
            name = next_word(&rest);
            if (*name == '\0' || (add && *rest == '\0') || (!add && *rest != '\0')) {
                fail(out, add ? "usage: /canned add NAME TEXT" : "usage: /canned del NAME");
                return;
            }
            if (!command_canned_name_valid(name)) {
                fail(out, "/canned: a name is 1-32 characters of A-Z a-z 0-9 . _ -");
                return;
            }
            (void)take_name(out, name);
            out->kind = add ? CMD_CANNED_ADD : CMD_CANNED_DEL;
            out->text = rest;
            return;
        }
        if (*rest != '\0') {
            fail(out, "usage: /canned NAME (or /canned add NAME TEXT)");
            return;
        }
        if (!command_canned_name_valid(name)) {
            fail(out, "/canned: a name is 1-32 characters of A-Z a-z 0-9 . _ -");
            return;
        }
        (void)take_name(out, name);
        out->kind = CMD_CANNED;
        return;
    }
    {
        char msg[160];
        snprintf(msg, sizeof(msg), "unknown command %.40s (type /help)", cmd);
        fail(out, msg);
    }
}
