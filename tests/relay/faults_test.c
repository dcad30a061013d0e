/*
 * Store failures, injected into a real relay: the test build
 * parley-relay-faults (faultdisk.c) whose file writes fail as on a full
 * or failing disk while the test's control file says so, and a write
 * lock on the database held by the test itself.
 *
 * Each case proves what a user or operator would notice: sends refused
 * with UNAVAILABLE and counted, the cause in the metrics, the log and
 * /healthz, recovery without a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "testkit.h"

/* ------------------------------------------------------------------ */
/* Helpers */

static char fault_file[400];

/* A relay in a new directory, its disk faults controlled by <dir>/fault. */
static void start(struct tk_env *e, const char *tag)
{
    tk_env_init(e, tag);
    snprintf(fault_file, sizeof(fault_file), "%s/fault", e->dir);
    CHECK(setenv("PARLEY_RELAY_FAULTS", fault_file, 1) == 0);
    tk_env_start(e, NULL);
}

/* What the relay's disk does from its next write on: "full", "io", "full .audit", or "" (fine). */
static void fault_set(const char *what)
{
    FILE *f = fopen(fault_file, "w");

    CHECK(f != NULL);
    CHECK(fputs(what, f) >= 0);
    CHECK(fclose(f) == 0);
}

static double metric(const struct tk_env *e, const char *series)
{
    double v = relay_metric(&e->relay, series);

    CHECKM(v >= 0, "no %s in /metrics", series);
    return v;
}

/* /healthz: the status, the body into body (cap bytes). */
static int health(const struct tk_env *e, char *body, size_t cap)
{
    char *b = NULL;
    int status = http_get(e->relay.port, "/healthz", &b);

    snprintf(body, cap, "%s", b != NULL ? b : "");
    free(b);
    return status;
}

/* Waits (polling /healthz, at most 10 s) until the relay says it is healthy. */
static void wait_healthy(const struct tk_env *e)
{
    int64_t deadline = mono_ms() + 10000;
    char body[1024];

    while (health(e, body, sizeof(body)) != 200) {
        CHECKM(mono_ms() < deadline, "still unhealthy 10 s after the fault ended: %s", body);
        sleep_ms(20);
    }
    CHECKM(strcmp(body, "ok\n") == 0, "healthy body: %s", body);
}

static char *relay_log(const struct tk_env *e)
{
    size_t len;
    char *log = read_file_all(e->relay.log, &len);

    CHECKM(log != NULL, "no relay log");
    return log;
}

/* The lines of the relay log holding every one of the needles (NULL-terminated). */
static size_t log_lines_with(const char *log, const char *const *needles)
{
    size_t n = 0;

    for (const char *line = log; *line != '\0';) {
        const char *eol = strchr(line, '\n');
        size_t len = eol != NULL ? (size_t)(eol - line) : strlen(line);
        bool all = true;
        for (size_t i = 0; needles[i] != NULL && all; i++)
            all = memmem(line, len, needles[i], strlen(needles[i])) != NULL;
        n += all;
        line += len + (eol != NULL);
    }
    return n;
}

static void send_refused(wsc *c, const uint8_t eid[16], const uint8_t to[32], int timeout_ms)
{
    uint8_t conv[16], sealed[48];

    tk_random(conv, sizeof(conv));
    tk_random(sealed, sizeof(sealed));
    CHECK(pc_send_envelope(c, eid, conv, to, sealed, sizeof(sealed)) == 0);
    tk_expect_error(c, PARLEY__ERROR__CODE__UNAVAILABLE, eid, timeout_ms);
}

static void send_acked(wsc *c, const uint8_t eid[16], const uint8_t to[32])
{
    uint8_t sealed[48];

    tk_random(sealed, sizeof(sealed));
    tk_send_acked(c, eid, to, sealed, sizeof(sealed));
}

/*
 * A failure of the given kind, from the first refused send to recovery:
 * every refusal counted under its cause and as a rejected request, one
 * store_failed line with the error text, /healthz degraded with the
 * reason, then healthy again by itself once the fault ends (with a
 * store_recovered line), and the refused envelope taken on a resend.
 */
static void store_failure(const char *tag, const char *fault, const char *cause,
                          const char *error, bool hold_lock)
{
    struct tk_env e;
    parley_identity *id = tk_identity();
    uint8_t to[32], eid[4][16];
    char series[128], body[1024], *log;
    sqlite3 *db = NULL;
    wsc *c;

    start(&e, tag);
    c = pc_connect(e.relay.port, id, NULL, 0);
    CHECK(c != NULL);
    tk_random(to, sizeof(to));
    for (int i = 0; i < 4; i++)
        tk_random(eid[i], 16);
    send_acked(c, eid[0], to);
    CHECKM(health(&e, body, sizeof(body)) == 200, "unhealthy before the fault: %s", body);

    if (hold_lock) {
        /* Another process holds the write lock: the relay waits 5 s for it, then gives up. */
        CHECK(sqlite3_open(e.relay.db, &db) == SQLITE_OK);
        sqlite3_busy_timeout(db, 10000);
        CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    } else {
        fault_set(fault);
    }
    for (int i = 1; i < (hold_lock ? 2 : 4); i++)
        send_refused(c, eid[i], to, 20000);

    /* Counted: each refused send, under its cause and as a refused request. */
    CHECKM(metric(&e, "parley_rejects_total{reason=\"unavailable\"}") == (hold_lock ? 1 : 3),
           "refused sends not counted as unavailable");
    snprintf(series, sizeof(series), "parley_store_refused_total{cause=\"%s\"}", cause);
    CHECKM(metric(&e, series) >= (hold_lock ? 1 : 3), "refused operations not counted by cause");
    CHECK(metric(&e, "parley_store_degraded") == 1);
    /* /healthz: degraded, with the cause and sqlite's reason. */
    CHECKM(health(&e, body, sizeof(body)) == 503, "healthz during the fault: %s", body);
    CHECKM(strncmp(body, "degraded: store refuses writes since ", 37) == 0 &&
               strstr(body, cause) != NULL && strstr(body, error) != NULL,
           "healthz body: %s", body);
    /* Logged once, when it began, with the error text. */
    log = relay_log(&e);
    {
        const char *failed[] = {"\"event\":\"store_failed\"", NULL};
        const char *detail[] = {"\"event\":\"store_failed\"", "\"cause\":\"", cause, error, NULL};
        CHECKM(log_lines_with(log, failed) == 1, "store_failed lines: %zu",
               log_lines_with(log, failed));
        CHECKM(log_lines_with(log, detail) == 1, "store_failed without cause %s and '%s'", cause,
               error);
    }
    free(log);

    /* The fault ends: healthy again without any traffic (the relay probes), and logged. */
    if (hold_lock) {
        CHECK(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(db);
    } else {
        fault_set("");
    }
    wait_healthy(&e);
    CHECK(metric(&e, "parley_store_degraded") == 0);
    log = relay_log(&e);
    {
        const char *recovered[] = {"\"event\":\"store_recovered\"", "\"refused\":", NULL};
        CHECKM(log_lines_with(log, recovered) == 1, "no store_recovered line");
    }
    free(log);
    send_acked(c, eid[1], to);
    wsc_free(c);
    parley_identity_free(id);
    tk_env_end(&e);
}

/* ------------------------------------------------------------------ */
/* Store failures are visible */

static void test_store_failure_visible(void)
{
    store_failure("faults-full", "full", "disk_full", "database or disk is full", false);
}

static void test_store_io_error_visible(void)
{
    store_failure("faults-io", "io", "io_error", "disk I/O error", false);
}

static void test_store_busy_visible(void)
{
    store_failure("faults-busy", NULL, "busy", "database is locked", true);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"store_failure_visible", test_store_failure_visible},
        {"store_io_error_visible", test_store_io_error_visible},
        {"store_busy_visible", test_store_busy_visible},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
