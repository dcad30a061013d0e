/*
 * Passphrases for the customer's encrypted store. Scripts pass them by
 * environment variable or file; people type them on the terminal
 * (/dev/tty, so that stdin stays the chat input) with echo off. Every
 * buffer that held one is wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "secret.h"

static void complain(const char *what, const char *detail)
{
    fprintf(stderr, "%s: %s%s%s\n", program_invocation_short_name, what, detail != NULL ? ": " : "",
            detail != NULL ? detail : "");
}

/* Reads up to SECRET_MAX + 1 bytes, one at a time from a terminal so nothing past Enter is lost. */
static int read_line(int fd, struct secret *s, int one_line)
{
    while (s->len < SECRET_MAX + 1) {
        ssize_t n = read(fd, s->buf + s->len, one_line ? 1 : SECRET_MAX + 1 - s->len);

        if (n < 0 && errno == EINTR && !one_line)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        s->len += (size_t)n;
        if (one_line && s->buf[s->len - 1] == '\n')
            break;
    }
    return 0;
}

/* Keeps the first line, without "\n" or "\r\n". */
static void first_line(struct secret *s)
{
    char *nl = memchr(s->buf, '\n', s->len);

    if (nl != NULL) {
        sodium_memzero(nl, s->len - (size_t)(nl - s->buf));
        s->len = (size_t)(nl - s->buf);
    }
    if (s->len > 0 && s->buf[s->len - 1] == '\r')
        s->buf[--s->len] = '\0';
}

static volatile sig_atomic_t tty_signal;

static void on_signal(int sig)
{
    tty_signal = sig;
}

/*
 * Echo off while the passphrase is typed; the terminal is restored on
 * every path, and a signal that interrupted the read is then re-raised.
 */
static int from_tty(struct secret *s)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};
    struct sigaction sa, old[4];
    struct termios saved, quiet;
    static const char prompt[] = "Store passphrase: ";
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    int have_termios, rc = -1;

    if (fd < 0) {
        complain("no terminal to ask the store passphrase on",
                 "use --passphrase-env or --passphrase-file");
        return -1;
    }
    have_termios = tcgetattr(fd, &saved) == 0;
    if (write(fd, prompt, sizeof(prompt) - 1) < 0)
        goto out;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    tty_signal = 0;
    for (size_t i = 0; i < 4; i++)
        sigaction(sigs[i], &sa, &old[i]);
    if (have_termios) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        (void)tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    rc = read_line(fd, s, 1);
    if (have_termios)
        (void)tcsetattr(fd, TCSAFLUSH, &saved);
    (void)!write(fd, "\n", 1);
    for (size_t i = 0; i < 4; i++)
        sigaction(sigs[i], &old[i], NULL);
    if (tty_signal != 0) {
        rc = -1;
        raise(tty_signal);
    }
out:
    close(fd);
    return rc;
}

int secret_get(struct secret *s, const char *env_var, const char *file)
{
    s->len = 0;
    s->buf = sodium_malloc(SECRET_MAX + 2);
    if (s->buf == NULL) {
        complain("out of memory", NULL);
        return -1;
    }
    memset(s->buf, 0, SECRET_MAX + 2);
    if (env_var != NULL) {
        const char *v = getenv(env_var);

        if (v == NULL) {
            complain("environment variable not set", env_var);
            goto fail;
        }
        s->len = strnlen(v, SECRET_MAX + 1);
        memcpy(s->buf, v, s->len);
    } else if (file != NULL) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        int rc;

        if (fd < 0) {
            complain(file, strerror(errno));
            goto fail;
        }
        rc = read_line(fd, s, 0);
        close(fd);
        if (rc != 0) {
            complain(file, strerror(errno));
            goto fail;
        }
    } else if (from_tty(s) != 0) {
        goto fail;
    }
    first_line(s);
    if (s->len == 0 || s->len > SECRET_MAX) {
        complain(s->len == 0 ? "empty passphrase" : "passphrase too long", NULL);
        goto fail;
    }
    return 0;
fail:
    secret_release(s);
    return -1;
}

void secret_release(struct secret *s)
{
    if (s->buf != NULL)
        sodium_free(s->buf);
    s->buf = NULL;
    s->len = 0;
}
