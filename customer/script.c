/*
 * Parses parley-customer scripts (see script.h) into steps up front, so a
 * mistake on line 12 is reported before line 1 sends anything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/parley.h>

#include "script.h"

#define SCRIPT_MAX_STEPS 10000u

static int bad(const char *path, unsigned line, const char *why)
{
    fprintf(stderr, "%s: %s:%u: %s\n", program_invocation_short_name, path, line, why);
    return -1;
}

/* A line that starts like a directive but is not a valid one. */
static int misused(const char *path, unsigned line, const char *why)
{
    fprintf(stderr, "%s: %s:%u: %s (to send the line as text, start it with 'say ')\n",
            program_invocation_short_name, path, line, why);
    return -1;
}

/* Returns the argument after a directive word, or NULL if line is not that directive. */
static const char *directive(const char *line, const char *word)
{
    size_t n = strlen(word);

    if (strncmp(line, word, n) != 0)
        return NULL;
    if (line[n] == '\0')
        return line + n;
    if (line[n] != ' ')
        return NULL;
    while (line[n] == ' ')
        n++;
    return line + n;
}

static int parse_line(const char *path, unsigned no, const char *line, struct script_step *st,
                      struct script *s)
{
    const char *arg;

    memset(st, 0, sizeof(*st));
    st->line = no;
    if ((arg = directive(line, "wait-agent")) != NULL) {
        st->op = SCRIPT_WAIT_AGENT;
        return *arg == '\0' ? 0 : misused(path, no, "wait-agent takes no argument");
    }
    if ((arg = directive(line, "expect-closed")) != NULL) {
        st->op = SCRIPT_EXPECT_CLOSED;
        return *arg == '\0' ? 0 : misused(path, no, "expect-closed takes no argument");
    }
    if ((arg = directive(line, "close")) != NULL) {
        st->op = SCRIPT_CLOSE;
        return *arg == '\0' ? 0 : misused(path, no, "close takes no argument");
    }
    if ((arg = directive(line, "consent")) != NULL) {
        st->op = SCRIPT_CONSENT;
        if (strcmp(arg, "yes") != 0 && strcmp(arg, "no") != 0)
            return misused(path, no, "consent takes yes or no");
        st->yes = strcmp(arg, "yes") == 0;
        s->consent = st->yes;
        return 0;
    }
    if ((arg = directive(line, "guard-answer")) != NULL) {
        st->op = SCRIPT_GUARD_ANSWER;
        if (strcmp(arg, "yes") != 0 && strcmp(arg, "no") != 0)
            return misused(path, no, "guard-answer takes yes or no");
        st->yes = strcmp(arg, "yes") == 0;
        return 0;
    }
    if ((arg = directive(line, "sleep")) != NULL) {
        char *end;

        st->op = SCRIPT_SLEEP;
        errno = 0;
        st->ms = strtol(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || errno != 0 || st->ms < 0 || st->ms > 3600000)
            return misused(path, no, "sleep takes milliseconds, 0..3600000");
        return 0;
    }
    if ((arg = directive(line, "wait-text")) != NULL) {
        st->op = SCRIPT_WAIT_TEXT;
        if (*arg == '\0')
            return bad(path, no, "wait-text needs the text to wait for");
    } else if ((arg = directive(line, "special-answer")) != NULL) {
        st->op = SCRIPT_SPECIAL_ANSWER;
        if (*arg == '\0')
            return misused(path, no, "special-answer needs the line typed, e.g. consent health");
    } else if ((arg = directive(line, "say")) != NULL) {
        st->op = SCRIPT_SEND;
        if (*arg == '\0')
            return bad(path, no, "say needs a text");
    } else {
        st->op = SCRIPT_SEND;
        arg = line;
    }
    if (strlen(arg) > PARLEY_MAX_TEXT)
        return bad(path, no, "text too long");
    st->arg = strdup(arg);
    return st->arg != NULL ? 0 : bad(path, no, "out of memory");
}

int script_load(const char *path, struct script *s)
{
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned no = 0;
    int rc = -1;

    memset(s, 0, sizeof(*s));
    s->consent = 1;
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, path, strerror(errno));
        return -1;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        struct script_step *grown;

        no++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (memchr(line, '\0', (size_t)n) != NULL) {
            bad(path, no, "NUL byte in line");
            goto fail;
        }
        if (s->n == SCRIPT_MAX_STEPS) {
            bad(path, no, "too many steps");
            goto fail;
        }
        grown = realloc(s->steps, (s->n + 1) * sizeof(*grown));
        if (grown == NULL) {
            bad(path, no, "out of memory");
            goto fail;
        }
        s->steps = grown;
        if (parse_line(path, no, line, &s->steps[s->n], s) != 0) {
            free(s->steps[s->n].arg);
            goto fail;
        }
        s->n++;
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: %s: read error\n", program_invocation_short_name, path);
        goto fail;
    }
    rc = 0;
fail:
    free(line);
    fclose(f);
    if (rc != 0)
        script_free(s);
    return rc;
}

void script_free(struct script *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->steps[i].arg);
    free(s->steps);
    memset(s, 0, sizeof(*s));
}
