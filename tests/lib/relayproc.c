/*
 * Processes for the tests (see relayproc.h), and the relay's HTTP endpoints.
 * Children get PR_SET_PDEATHSIG so a test killed by the harness's timeout
 * does not leave a relay behind.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relayproc.h"
#include "wsc.h"

#define MAX_RELAYS 16
#define MAX_ARGS 64

static struct relay_proc *running[MAX_RELAYS];

int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void tmpdir_make(char *out, size_t cap, const char *tag)
{
    const char *base = getenv("TMPDIR");
    int n;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    n = snprintf(out, cap, "%s/parley-test-%s-XXXXXX", base, tag);
    if (n <= 0 || (size_t)n >= cap || mkdtemp(out) == NULL) {
        fprintf(stderr, "cannot create a temporary directory: %s\n", strerror(errno));
        exit(1);
    }
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void tmpdir_remove(const char *dir)
{
    if (dir[0] != '\0')
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void remember(struct relay_proc *r, bool on)
{
    for (int i = 0; i < MAX_RELAYS; i++) {
        if (on && running[i] == NULL) {
            running[i] = r;
            return;
        }
        if (!on && running[i] == r)
            running[i] = NULL;
    }
}

char *read_file_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        size_t got;
        if (cap - n < 65536) {
            char *grown = realloc(buf, cap + 65536 + 1);
            if (grown == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
            cap += 65536;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

static int read_port(const char *path)
{
    char *text = read_file_all(path, NULL);
    char *end;
    long v;

    if (text == NULL)
        return -1;
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || v <= 0 || v > 65535)
        v = -1;
    free(text);
    return (int)v;
}

void child_redirect(const char *log, pid_t parent)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    if (fd >= 0) {
        dup2(fd, 2);
        dup2(fd, 1);
    }
}

int relay_start(struct relay_proc *r, const char *bin, const char *dir, const char *const *args)
{
    return relay_start_on(r, bin, dir, 0, args);
}

int relay_start_on(struct relay_proc *r, const char *bin, const char *dir, uint16_t port,
                   const char *const *args)
{
    const char *argv[MAX_ARGS];
    char port_arg[8];
    size_t n = 0;
    int64_t deadline;
    pid_t parent = getpid();

    memset(r, 0, sizeof(*r));
    r->bin = bin;
    snprintf(r->dir, sizeof(r->dir), "%s", dir);
    snprintf(r->db, sizeof(r->db), "%s/relay.db", dir);
    snprintf(r->log, sizeof(r->log), "%s/relay.log", dir);
    snprintf(r->port_file, sizeof(r->port_file), "%s/port", dir);
    unlink(r->port_file);
    argv[n++] = bin;
    snprintf(port_arg, sizeof(port_arg), "%u", (unsigned)port);
    argv[n++] = "--port";
    argv[n++] = port_arg;
    argv[n++] = "--port-file";
    argv[n++] = r->port_file;
    argv[n++] = "--db";
    argv[n++] = r->db;
    if (getenv("PARLEY_TEST_STORE") != NULL) {
        /* The relay suite on another store: its own namespace per test directory, the audit log
         * where it would be beside the database. */
        const char *base = strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir;
        size_t len = strlen(base), at = len > 32 ? len - 32 : 0;
        int k = snprintf(r->store, sizeof(r->store), "%s/", getenv("PARLEY_TEST_STORE"));

        for (size_t i = at; i < len && k > 0 && (size_t)k + 1 < sizeof(r->store); i++)
            r->store[k++] = (char)(isalnum((unsigned char)base[i]) ? base[i] : '_');
        r->store[k > 0 ? k : 0] = '\0';
        snprintf(r->audit, sizeof(r->audit), "%s.audit", r->db);
        argv[n++] = "--store";
        argv[n++] = r->store;
        argv[n++] = "--audit-log";
        argv[n++] = r->audit;
    }
    for (size_t i = 0; args != NULL && args[i] != NULL && n + 1 < MAX_ARGS; i++)
        argv[n++] = args[i];
    argv[n] = NULL;

    fflush(NULL);
    r->pid = fork();
    if (r->pid < 0) {
        r->pid = 0;
        return -1;
    }
    if (r->pid == 0) {
        child_redirect(r->log, parent);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    remember(r, true);
    deadline = mono_ms() + 15000;
    while (mono_ms() < deadline) {
        int bound = read_port(r->port_file);
        if (bound > 0) {
            r->port = (uint16_t)bound;
            return 0;
        }
        if (!relay_alive(r))
            break;
        sleep_ms(10);
    }
    fprintf(stderr, "relay did not start (log %s)\n", r->log);
    relay_kill(r);
    return -1;
}

bool relay_alive(struct relay_proc *r)
{
    int st;

    if (r->pid == 0)
        return false;
    if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
        remember(r, false);
        r->pid = 0;
        return false;
    }
    return true;
}

int relay_stop(struct relay_proc *r, int timeout_ms)
{
    return relay_stop_repeated(r, timeout_ms, 0);
}

int relay_stop_repeated(struct relay_proc *r, int timeout_ms, int every_ms)
{
    int64_t deadline = mono_ms() + timeout_ms, next = 0;
    int st, sent = 0;

    if (r->pid == 0)
        return -1;
    kill(r->pid, SIGTERM);
    while (mono_ms() < deadline) {
        pid_t w = waitpid(r->pid, &st, WNOHANG);
        if (w == r->pid) {
            remember(r, false);
            r->pid = 0;
            return st;
        }
        if (every_ms > 0 && mono_ms() >= next) {
            kill(r->pid, sent++ % 2 == 0 ? SIGINT : SIGTERM);
            next = mono_ms() + every_ms;
        }
        sleep_ms(every_ms > 0 && every_ms < 10 ? every_ms : 10);
    }
    relay_kill(r);
    return -1;
}

void relay_kill(struct relay_proc *r)
{
    if (r->pid == 0)
        return;
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    remember(r, false);
    r->pid = 0;
}

void relay_kill_all(bool show_logs)
{
    for (int i = 0; i < MAX_RELAYS; i++) {
        struct relay_proc *r = running[i];
        size_t len = 0;
        char *log;

        if (r == NULL)
            continue;
        relay_kill(r);
        running[i] = NULL;
        if (!show_logs)
            continue;
        log = read_file_all(r->log, &len);
        if (log != NULL) {
            const char *tail = len > 4000 ? log + len - 4000 : log;
            fprintf(stderr, "---- relay log (%s), last lines ----\n%s\n----\n", r->log, tail);
            free(log);
        }
    }
}

int http_get(uint16_t port, const char *path, char **body)
{
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);

    if (n <= 0 || (size_t)n >= sizeof(req))
        return -1;
    return http_raw(port, req, (size_t)n, body);
}

int http_exchange(uint16_t port, const void *request, size_t request_len, int timeout_ms,
                  char **resp, size_t *resp_len)
{
    size_t len = 0;
    int fd, status = -1;
    wsc *c;
    int64_t deadline = mono_ms() + timeout_ms;

    *resp = NULL;
    *resp_len = 0;
    fd = wsc_tcp_connect(port, 5000);
    if (fd < 0)
        return -1;
    c = wsc_from_fd(fd);
    if (c == NULL)
        return -1;
    if (wsc_send_raw(c, request, request_len) != 0)
        goto done;
    /* The relay closes after the reply: read to EOF. */
    for (;;) {
        uint8_t buf[65536];
        ssize_t got;
        struct pollfd pfd = {fd, POLLIN, 0};
        int left = (int)(deadline - mono_ms());

        if (left <= 0 || poll(&pfd, 1, left) <= 0)
            goto done;
        got = read(fd, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && len > 0)
            break; /* reset after a complete reply */
        if (got < 0)
            goto done;
        if (got == 0)
            break;
        {
            char *grown = realloc(*resp, len + (size_t)got + 1);
            if (grown == NULL)
                goto done;
            *resp = grown;
            memcpy(*resp + len, buf, (size_t)got);
            len += (size_t)got;
            (*resp)[len] = '\0';
        }
    }
    if (*resp != NULL && sscanf(*resp, "HTTP/1.1 %d", &status) != 1)
        status = -1;
done:
    if (status < 0) {
        free(*resp);
        *resp = NULL;
        len = 0;
    }
    *resp_len = len;
    wsc_free(c);
    return status;
}

int http_raw(uint16_t port, const void *request, size_t request_len, char **body)
{
    char *resp, *sep;
    size_t len;
    int status = http_exchange(port, request, request_len, 5000, &resp, &len);

    if (body != NULL)
        *body = NULL;
    sep = resp != NULL ? strstr(resp, "\r\n\r\n") : NULL;
    if (body != NULL && sep != NULL) {
        *body = strdup(sep + 4);
        if (*body == NULL)
            status = -1;
    }
    free(resp);
    return status;
}

double metric_in(const char *text, const char *series)
{
    size_t n = strlen(series);
    const char *p = text;

    while (p != NULL && *p != '\0') {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

double relay_metric(const struct relay_proc *r, const char *series)
{
    char *body = NULL;
    double v = -1;

    if (http_get(r->port, "/metrics", &body) == 200 && body != NULL)
        v = metric_in(body, series);
    free(body);
    return v;
}

long relay_rss_kb(const struct relay_proc *r)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)r->pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

int relay_log_count(const struct relay_proc *r, const char *const *needles)
{
    size_t len = 0;
    char *log = read_file_all(r->log, &len);
    int count = 0;

    for (char *line = log; line != NULL && *line != '\0';) {
        char *end = strchr(line, '\n');
        bool all = true;
        if (end != NULL)
            *end = '\0';
        for (size_t i = 0; all && needles[i] != NULL; i++)
            all = strstr(line, needles[i]) != NULL;
        count += all;
        line = end != NULL ? end + 1 : NULL;
    }
    free(log);
    return count;
}
