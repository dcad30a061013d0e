/*
 * What the agent typed: a message to send or one of the slash commands,
 * with its arguments checked. No curses and no client here.
 */
#ifndef PARLEY_TUI_COMMAND_H
#define PARLEY_TUI_COMMAND_H

#include <stddef.h>

#define COMMAND_NAME_MAX 64u

enum command_kind {
    CMD_NONE = 0,     /* empty line */
    CMD_TEXT,         /* a message: text */
    CMD_CLAIM,
    CMD_TRANSFER,     /* name: agent id */
    CMD_CLOSE,        /* text: reason, may be empty */
    CMD_VERIFY,
    CMD_CANNED,       /* name: saved reply to insert */
    CMD_CANNED_ADD,   /* name, text */
    CMD_CANNED_DEL,   /* name */
    CMD_CANNED_LIST,
    CMD_SEARCH,       /* text */
    CMD_EXPORT,       /* text: file to write, may be empty */
    CMD_EXPORT_CUSTOMER, /* text: file to write, may be empty */
    CMD_REDACT,       /* n: which message of the other side, counting back (1: the last) */
    CMD_HELP,
    CMD_QUIT,
    CMD_ERROR         /* error: one line for the status bar */
};

struct command {
    enum command_kind kind;
    char name[COMMAND_NAME_MAX + 1];
    const char *text;            /* points into the parsed line */
    unsigned long n;             /* CMD_REDACT */
    char error[160];
};

/*
 * Parses one input line (UTF-8, NUL-terminated). A line not starting
 * with '/' is a message; "//" starts a message that begins with '/'.
 * Surrounding spaces are trimmed from messages and arguments. out->text
 * borrows from line.
 */
void command_parse(char *line, struct command *out);

/* 1 if s is a valid agent id ([a-z0-9._-], 1..64 bytes). */
int command_agent_id_valid(const char *s);

/* 1 if s is a valid saved reply name ([A-Za-z0-9._-], 1..32 bytes). */
int command_canned_name_valid(const char *s);

/* Help text, one line per command, NULL-terminated. */
extern const char *const command_help[];

#endif
