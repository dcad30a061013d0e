/*
 * Processes under test, and parley-relay's in particular (the one relay
 * launcher of the tests): a private temporary directory per test,
 * the relay started on port 0 with its log in that directory, the bound
 * port read back from --port-file, and a bounded stop (SIGTERM, then
 * SIGKILL). Also plain-HTTP GETs of /healthz and /metrics and a reader for
 * Prometheus values.
 *
 * Every relay started here is remembered, so a failing test can end them
 * all (and show their logs) before it exits.
 */
#ifndef PARLEY_TEST_RELAYPROC_H
#define PARLEY_TEST_RELAYPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct relay_proc {
    pid_t pid;            /* 0 when not running */
    uint16_t port;
    char dir[256];        /* the test's temporary directory */
    char db[320];
    char log[320];
    char port_file[320];
    char store[400];      /* --store, when $PARLEY_TEST_STORE names another store */
    char audit[340];
    const char *bin;
};

/* A new empty directory under $TMPDIR (or /tmp); exits the test on failure. */
void tmpdir_make(char *out, size_t cap, const char *tag);
/* Removes dir and everything in it. */
void tmpdir_remove(const char *dir);

/*
 * In a child just forked by parent: dies with it (PR_SET_PDEATHSIG, or at
 * once if it is gone already), stdout and stderr appended to log.
 */
void child_redirect(const char *log, pid_t parent);

/*
 * Starts bin with --port 0 --port-file --db in dir and the extra args
 * (NULL-terminated, may be NULL), stderr appended to dir/relay.log. Waits
 * at most 15 s for the port file. 0, or -1 (the process is then ended).
 * With $PARLEY_TEST_STORE (e.g. nats://127.0.0.1:4222) the relay also gets
 * --store $PARLEY_TEST_STORE/<a namespace of this directory's own> and
 * --audit-log <db>.audit: the relay suite on another store.
 */
int relay_start(struct relay_proc *r, const char *bin, const char *dir, const char *const *args);
/* The same on port (0: an ephemeral one), e.g. the port a relay had before a restart. */
int relay_start_on(struct relay_proc *r, const char *bin, const char *dir, uint16_t port,
                   const char *const *args);

/*
 * SIGTERM, then waits up to timeout_ms for the exit; SIGKILL after that.
 * Returns the wait status, or -1 if the relay had to be killed.
 */
int relay_stop(struct relay_proc *r, int timeout_ms);

/*
 * As relay_stop, but SIGTERM and SIGINT in turn again every every_ms
 * until the relay is gone (a supervisor, or an impatient operator, who
 * repeats the stop while the relay drains and closes).
 */
int relay_stop_repeated(struct relay_proc *r, int timeout_ms, int every_ms);

/* SIGKILL and reap. No-op if not running. */
void relay_kill(struct relay_proc *r);

/* True if the process is still running (not exited). */
bool relay_alive(struct relay_proc *r);

/* Ends every relay still running (SIGKILL); prints each log's tail if show_logs. */
void relay_kill_all(bool show_logs);

/* Reads a whole file; NULL if missing. *len gets its size. NUL-terminated. */
char *read_file_all(const char *path, size_t *len);

/*
 * GET path over plain HTTP/1.1; returns the status (or -1) and the body
 * (malloc'd, NUL-terminated) in *body when body is not NULL.
 */
int http_get(uint16_t port, const char *path, char **body);

/* Sends request bytes as they are and reads the reply to EOF; as http_get(). */
int http_raw(uint16_t port, const void *request, size_t request_len, char **body);

/*
 * The same, keeping the whole response: head and body, *resp_len bytes
 * (malloc'd, NUL-terminated past them; NULL when the status is -1), read
 * within timeout_ms.
 */
int http_exchange(uint16_t port, const void *request, size_t request_len, int timeout_ms,
                  char **resp, size_t *resp_len);

/*
 * The value of the sample named exactly `series` (name with its labels,
 * e.g. parley_rejects_total{reason="too_big"}) in Prometheus text.
 * Returns -1 if absent.
 */
double metric_in(const char *text, const char *series);

/* Fetches /metrics and returns metric_in(series); -1 on failure. */
double relay_metric(const struct relay_proc *r, const char *series);

/* The relay's resident memory (VmRSS of /proc/<pid>/status) in KiB; -1 if unreadable. */
long relay_rss_kb(const struct relay_proc *r);

/* How many lines of the relay's log hold every one of the NULL-terminated needles. */
int relay_log_count(const struct relay_proc *r, const char *const *needles);

/* Current monotonic time in milliseconds. */
int64_t mono_ms(void);
void sleep_ms(int ms);

#endif
