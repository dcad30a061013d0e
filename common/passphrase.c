/*
 * Passphrases for key files and stores, for every program. Automation
 * passes them by file or by environment variable; people type them on
 * the terminal (/dev/tty, so redirected stdin and stdout, a chat's input
 * for one, do not interfere) with echo turned off. Every buffer that held
 * one is wiped.
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

#include "passphrase.h"
#include "report.h"

static int pass_alloc(struct passphrase *p)
{
    p->len = 0;
    p->buf = sodium_malloc(PASSPHRASE_MAX + 2);
    if (p->buf == NULL)
        return -1;
    memset(p->buf, 0, PASSPHRASE_MAX + 2);
    return 0;
}

void passphrase_release(struct passphrase *p)
{
    if (p->buf != NULL)
        sodium_free(p->buf); /* wipes */
    p->buf = NULL;
    p->len = 0;
}

/* Keeps the first line of what was read, without its "\n" or "\r\n". */
static void keep_first_line(struct passphrase *p)
{
    char *nl = memchr(p->buf, '\n', p->len);

    if (nl != NULL) {
        sodium_memzero(nl, p->len - (size_t)(nl - p->buf));
        p->len = (size_t)(nl - p->buf);
    }
    if (p->len > 0 && p->buf[p->len - 1] == '\r')
        p->buf[--p->len] = '\0';
}

/* Reads up to PASSPHRASE_MAX + 1 bytes from fd; a line that long is refused later. */
static int read_fd(int fd, struct passphrase *p)
{
    while (p->len < PASSPHRASE_MAX + 1) {
        ssize_t n = read(fd, p->buf + p->len, PASSPHRASE_MAX + 1 - p->len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        p->len += (size_t)n;
    }
    return 0;
}

static int from_file(const char *path, struct passphrase *p)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0) {
        report_error(path, "cannot read passphrase file: %s", strerror(errno));
        return -1;
    }
    rc = read_fd(fd, p);
    close(fd);
    if (rc != 0) {
        report_error(path, "cannot read passphrase file: %s", strerror(errno));
        return -1;
    }
    keep_first_line(p);
    return 0;
}

static int from_env(const char *var, struct passphrase *p)
{
    const char *v = getenv(var);
    size_t n;

    if (v == NULL) {
        report_error(NULL, "environment variable %s is not set", var);
        return -1;
    }
    n = strlen(v);
    if (n > PASSPHRASE_MAX) {
        report_error(NULL, "passphrase in %s is longer than %u bytes", var, PASSPHRASE_MAX);
        return -1;
    }
    memcpy(p->buf, v, n);
    p->len = n;
    return 0;
}

/* Signal caught while echo is off: re-raised once the terminal is restored. */
static volatile sig_atomic_t tty_signal;

static void on_tty_signal(int sig)
{
    tty_signal = sig;
}

static const int tty_signals[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};
#define N_TTY_SIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))

/* Without SA_RESTART, so a signal interrupts the read instead of waiting for Enter. */
static void catch_signals(struct sigaction old[N_TTY_SIGNALS])
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_tty_signal;
    sigemptyset(&sa.sa_mask);
    tty_signal = 0;
    for (size_t i = 0; i < N_TTY_SIGNALS; i++)
        sigaction(tty_signals[i], &sa, &old[i]);
}

static void release_signals(const struct sigaction old[N_TTY_SIGNALS])
{
    for (size_t i = 0; i < N_TTY_SIGNALS; i++)
        sigaction(tty_signals[i], &old[i], NULL);
}

/* One line from the terminal, a byte at a time so nothing past the newline is consumed. */
static int read_tty_line(int fd, struct passphrase *p)
{
    while (p->len < PASSPHRASE_MAX + 1 && tty_signal == 0) {
        ssize_t n = read(fd, p->buf + p->len, 1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -1 : 0;
        if (p->buf[p->len++] == '\n')
            break;
    }
    return tty_signal == 0 ? 0 : -1;
}

/*
 * Asks once on the terminal, echo off. The terminal state is restored on
 * every path, including a signal, which is then delivered as usual.
 */
static int ask_tty(int fd, const char *prompt, struct passphrase *p)
{
    struct sigaction old_sa[N_TTY_SIGNALS];
    struct termios old, quiet;
    int have_termios = tcgetattr(fd, &old) == 0;
    int rc;

    if (write(fd, prompt, strlen(prompt)) < 0)
        return -1;
    catch_signals(old_sa);
    if (have_termios) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
            release_signals(old_sa);
            return -1;
        }
    }
    rc = read_tty_line(fd, p);
    if (have_termios)
        tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0)
        rc = -1;
    release_signals(old_sa);
    if (tty_signal != 0) {
        passphrase_release(p);
        raise(tty_signal); /* returns only if the signal was ignored */
        return -1;
    }
    keep_first_line(p);
    return rc;
}

static int from_tty(const char *subject, int is_new, struct passphrase *p)
{
    struct passphrase again = {NULL, 0};
    char prompt[512];
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    int rc = -1;

    if (fd < 0) {
        report_error(subject, "no terminal to ask the passphrase on "
                              "(use --passphrase-file or --passphrase-env)");
        return -1;
    }
    snprintf(prompt, sizeof(prompt), "%s for %s: ", is_new ? "New passphrase" : "Passphrase",
             subject);
    if (ask_tty(fd, prompt, p) != 0) {
        report_error(subject, "cannot read the passphrase from the terminal");
        goto done;
    }
    if (is_new) {
        if (pass_alloc(&again) != 0 || ask_tty(fd, "Repeat the passphrase: ", &again) != 0) {
            report_error(subject, "cannot read the passphrase from the terminal");
            goto done;
        }
        if (again.len != p->len || sodium_memcmp(again.buf, p->buf, p->len) != 0) {
            report_error(subject, "the two passphrases differ");
            goto done;
        }
    }
    rc = 0;
done:
    passphrase_release(&again);
    close(fd);
    return rc;
}

int passphrase_get(const struct passphrase_source *src, const char *subject, unsigned flags,
                   struct passphrase *out)
{
    int is_new = (flags & PASSPHRASE_NEW) != 0;
    int rc;

    if (pass_alloc(out) != 0) {
        report_error(subject, "out of memory");
        return -1;
    }
    if (src->file != NULL)
        rc = from_file(src->file, out);
    else if (src->env != NULL)
        rc = from_env(src->env, out);
    else if (flags & PASSPHRASE_NO_TTY)
        return 0;
    else
        rc = from_tty(subject, is_new, out);
    if (rc == 0 && out->len > PASSPHRASE_MAX) {
        report_error(subject, "passphrase longer than %u bytes", PASSPHRASE_MAX);
        rc = -1;
    }
    if (rc == 0 && (is_new || (flags & PASSPHRASE_NONEMPTY)) && out->len == 0) {
        report_error(subject, "empty passphrase refused");
        rc = -1;
    }
    if (rc != 0) {
        passphrase_release(out);
        return -1;
    }
    return 1;
}

int passphrase_cost_parse(const char *name, parley_kdf_cost *out)
{
    static const struct {
        const char *name;
        parley_kdf_cost cost;
    } costs[] = {
        {"interactive", PARLEY_KDF_INTERACTIVE},
        {"moderate", PARLEY_KDF_MODERATE},
        {"sensitive", PARLEY_KDF_SENSITIVE},
    };

    for (size_t i = 0; i < sizeof(costs) / sizeof(costs[0]); i++) {
        if (strcmp(name, costs[i].name) == 0) {
            *out = costs[i].cost;
            return 1;
        }
    }
    return 0;
}
