/*
 * Store and audit-log failures, injected into a real relay: the test
 * build parley-relay-faults (faultdisk.c) whose file writes fail as on a
 * full or failing disk while the test's control file says so, and a
 * write lock on the database held by the test itself.
 *
 * Each case proves what a user or operator would notice: sends refused
 * with UNAVAILABLE and counted, the cause in the metrics, the log and
 * /healthz, recovery without a restart; and after a kill -9, an audit log
 * that has an entry for every acknowledged envelope and, for what a crash
 * did lose, a gap entry that parley-audit reports.
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

/* Waits (polling /metrics, at most 10 s) until series has the value want. */
static void wait_metric(const struct tk_env *e, const char *series, double want)
{
    int64_t deadline = mono_ms() + 10000;
    double v;

    while ((v = relay_metric(&e->relay, series)) != want) {
        CHECKM(mono_ms() < deadline, "%s is %g, expected %g", series, v, want);
        sleep_ms(20);
    }
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
static void store_failure(const char *tag, const char *fault, const char *cause, const char *error,
                          bool hold_lock)
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

/* ------------------------------------------------------------------ */
/* The audit log has no silent gaps */

/* The relay's audit log (malloc'd text). */
static char *audit_text(const struct tk_env *e)
{
    char path[400];
    size_t len;
    char *text;

    snprintf(path, sizeof(path), "%s.audit", e->relay.db);
    text = read_file_all(path, &len);
    CHECKM(text != NULL, "no audit log");
    return text;
}

static size_t audit_count(const struct tk_env *e, const char *event)
{
    char needle[64], *text = audit_text(e);
    size_t n;

    snprintf(needle, sizeof(needle), "\"event\":\"%s\"", event);
    n = tk_count(text, needle);
    free(text);
    return n;
}

/* parley-audit verify on the log, named as docs/operations.md names it. */
static int audit_verify(const struct tk_env *e, char *out, size_t cap)
{
    char args[400];

    snprintf(args, sizeof(args), "'%s.audit'*", e->relay.db);
    return tk_audit_verify(args, out, cap);
}

/* Rows of the database's audit outbox (entries not yet known to be in the synced log). */
static int outbox_rows(const struct tk_env *e)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n = -1;

    CHECK(sqlite3_open_v2(e->relay.db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM audit_outbox", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#define MAX_ACKED 64

/* A relay; sender c, one envelope of it acknowledged; its offline recipient; another customer. */
struct kill_case {
    struct tk_env e;
    parley_identity *sender, *recipient, *other;
    uint8_t to[32];
    uint8_t acked[MAX_ACKED][16];
    size_t n_acked;
    wsc *c;
};

/*
 * n envelopes from c to the recipient, sent at once (so that the relay
 * commits several in one transaction), then each acknowledged.
 */
static void kill_case_send(struct kill_case *k, wsc *c, size_t n)
{
    uint8_t conv[16], sealed[48];

    CHECK(k->n_acked + n <= MAX_ACKED);
    for (size_t i = k->n_acked; i < k->n_acked + n; i++) {
        tk_random(k->acked[i], 16);
        tk_random(conv, sizeof(conv));
        tk_random(sealed, sizeof(sealed));
        CHECK(pc_send_envelope(c, k->acked[i], conv, k->to, sealed, sizeof(sealed)) == 0);
    }
    for (size_t i = k->n_acked; i < k->n_acked + n; i++)
        tk_expect_ack(c, k->acked[i], 5000);
    k->n_acked += n;
}

static void kill_case_start(struct kill_case *k, const char *tag)
{
    memset(k, 0, sizeof(*k));
    k->sender = tk_identity();
    k->recipient = tk_identity();
    k->other = tk_identity();
    start(&k->e, tag);
    tk_routing(k->recipient, k->to);
    k->c = pc_connect(k->e.relay.port, k->sender, NULL, 0);
    CHECK(k->c != NULL);
    kill_case_send(k, k->c, 1);
}

/*
 * kill -9, then a restart with the disk fine: the recipient gets every
 * acknowledged envelope exactly once, the relay stops cleanly leaving its
 * outbox empty, and the log has a "stored" entry for each of them.
 */
static void kill_case_restart(struct kill_case *k)
{
    wsc *r;

    relay_kill(&k->e.relay);
    wsc_free(k->c);
    fault_set("");
    tk_env_start(&k->e, NULL);
    r = pc_connect(k->e.relay.port, k->recipient, NULL, 0);
    CHECK(r != NULL);
    for (size_t i = 0; i < k->n_acked; i++)
        tk_expect_deliver(r, k->acked[i], NULL, 0, 5000);
    tk_expect_nothing(r, 300, "an envelope that was refused, or one twice");
    wsc_free(r);
    CHECK(relay_stop(&k->e.relay, 15000) == 0);
    /* The database's outbox; on the NATS store (PARLEY_TEST_STORE) it is in JetStream. */
    if (getenv("PARLEY_TEST_STORE") == NULL)
        CHECKM(outbox_rows(&k->e) <= 1, "a clean stop left %d rows in the audit outbox",
               outbox_rows(&k->e)); /* the last one stays: ids grow from it */
    CHECKM(audit_count(&k->e, "stored") == k->n_acked,
           "%zu stored entries for %zu acknowledged envelopes", audit_count(&k->e, "stored"),
           k->n_acked);
}

static void kill_case_end(struct kill_case *k)
{
    parley_identity_free(k->sender);
    parley_identity_free(k->recipient);
    parley_identity_free(k->other);
    tk_env_end(&k->e);
}

/*
 * The kill-after-recovery sequence: the disk fills, sends are refused,
 * space returns, sends are acknowledged, the relay is killed at once.
 * Nothing acknowledged is lost, and every acknowledged envelope has its
 * "stored" entry: the entry was committed with the envelope.
 */
static void test_audit_complete_after_kill(void)
{
    struct kill_case k;
    uint8_t refused[16];
    char out[4096];
    wsc *d;

    kill_case_start(&k, "faults-kill");
    fault_set("full");
    for (int i = 0; i < 3; i++) {
        tk_random(refused, 16);
        send_refused(k.c, refused, k.to, 5000);
    }
    d = pc_connect(k.e.relay.port, k.other, NULL, 0); /* entries the audit file cannot take yet */
    CHECK(d != NULL);
    wsc_free(d);
    fault_set("");
    for (int i = 0; i < 4; i++)
        kill_case_send(&k, k.c, 10);
    kill_case_restart(&k);
    CHECKM(audit_count(&k.e, "gap") == 0, "a gap recorded, though nothing was lost");
    CHECKM(audit_verify(&k.e, out, sizeof(out)) == 0 && strncmp(out, "OK ", 3) == 0, "verify: %s",
           out);
    kill_case_end(&k);
}

/*
 * A crash while the audit log refuses writes (its own disk full, the
 * database's fine): the envelopes acknowledged meanwhile get their
 * "stored" entries from the database at the next start; the connection
 * entries that only memory held are lost, and a chained gap entry says
 * so (how many of each event, between which times), which parley-audit
 * verify reports.
 */
static void test_audit_gap_recorded(void)
{
    struct kill_case k;
    char out[4096], body[1024], *text;
    wsc *d;

    kill_case_start(&k, "faults-gap");
    fault_set("full .audit");
    d = pc_connect(k.e.relay.port, k.other, NULL, 0);
    CHECK(d != NULL);
    kill_case_send(&k, d, 5);
    CHECK(wsc_send_close(d, 1000) == 0);
    CHECK(wsc_wait_close(d, 5000) == 1000);
    wsc_free(d);
    wait_metric(&k.e, "parley_connections_authenticated", 1); /* d's close is recorded */
    CHECK(metric(&k.e, "parley_audit_degraded") == 1);
    CHECKM(metric(&k.e, "parley_audit_entries_held") >= 3 + 5, "entries held");
    CHECKM(health(&k.e, body, sizeof(body)) == 503 &&
               strstr(body, "degraded: audit log refuses writes since ") != NULL &&
               strstr(body, "No space left on device") != NULL,
           "healthz while the audit log refuses writes: %s", body);
    kill_case_restart(&k);

    text = audit_text(&k.e);
    CHECKM(tk_count(text, "\"event\":\"gap\",\"why\":\"crash\",\"entries\":3,\"since\":\"") == 1 &&
               tk_count(text, ",\"conn_open\":1,\"conn_close\":1,\"auth\":1,\"prev\":") +
                       tk_count(text, ",\"conn_open\":1,\"conn_close\":1,\"auth\":1}") ==
                   1,
           "no gap entry for d's conn_open, auth and conn_close");
    free(text);
    CHECKM(audit_verify(&k.e, out, sizeof(out)) == 3, "verify exit status: %s", out);
    printf("parley-audit verify: %s", out);
    CHECKM(strncmp(out, "INCOMPLETE ", 11) == 0 &&
               strstr(out, ": 1 recorded gap, 3 entries lost\n") != NULL &&
               strstr(out, "\nGAP at entry seq ") != NULL &&
               strstr(out, " 3 entries lost between ") != NULL &&
               strstr(out, "(crash): conn_open 1, conn_close 1, auth 1\n") != NULL,
           "verify output: %s", out);
    text = relay_log(&k.e);
    {
        const char *recovered[] = {"\"event\":\"audit_recovered\"", "\"entries\":5", NULL};
        const char *gap[] = {"\"event\":\"audit_gap\"", "\"why\":\"crash\"", "\"entries\":3", NULL};
        CHECKM(log_lines_with(text, recovered) == 1, "no audit_recovered line");
        CHECKM(log_lines_with(text, gap) == 1, "no audit_gap line");
    }
    free(text);
    kill_case_end(&k);
}

/*
 * A directory publication whose commit fails changes nothing: the
 * publisher is told to retry, and the relay goes on serving (and checking
 * agents against) the directory it has stored.
 */
static void test_directory_commit_fails(void)
{
    struct tk_env e;
    struct tk_brand acme;
    parley_identity *id = tk_identity();
    uint8_t *v1, *v2;
    size_t v1_len, v2_len;
    const char *args[3] = {"--brand", NULL, NULL};
    wsc *c;

    tk_env_init(&e, "faults-directory");
    snprintf(fault_file, sizeof(fault_file), "%s/fault", e.dir);
    CHECK(setenv("PARLEY_RELAY_FAULTS", fault_file, 1) == 0);
    tk_brand_make(&acme, "acme", e.dir);
    args[1] = acme.pin_path;
    tk_env_start(&e, args);
    tk_directory(acme.key, "acme", 1, "notice one", NULL, 0, &v1, &v1_len);
    tk_directory(acme.key, "acme", 2, "notice two", NULL, 0, &v2, &v2_len);
    c = pc_connect(e.relay.port, id, NULL, 0);
    CHECK(c != NULL);
    CHECK(pc_send_publish(c, v1, v1_len) == 0);
    tk_expect_directory(c, v1, v1_len, 5000, "version 1 published");

    fault_set("full");
    CHECK(pc_send_publish(c, v2, v2_len) == 0);
    tk_expect_error(c, PARLEY__ERROR__CODE__UNAVAILABLE, NULL, 20000);
    CHECK(pc_send_fetch(c, "acme") == 0);
    tk_expect_directory(c, v1, v1_len, 5000, "after a failed commit, the stored directory");

    fault_set("");
    wait_healthy(&e);
    CHECK(pc_send_publish(c, v2, v2_len) == 0);
    tk_expect_directory(c, v2, v2_len, 5000, "version 2 published once the disk takes writes");
    CHECK(pc_send_fetch(c, "acme") == 0);
    tk_expect_directory(c, v2, v2_len, 5000, "version 2 stored");
    wsc_free(c);
    free(v1);
    free(v2);
    tk_brand_free(&acme);
    parley_identity_free(id);
    tk_env_end(&e);
}

/*
 * While the disk refuses writes a recipient still gets everything stored
 * for it, more than one window of it, although its acknowledgements
 * cannot be applied; nothing comes twice.
 */
static void test_drain_while_disk_full(void)
{
    struct tk_env e;
    parley_identity *from_id = tk_identity(), *to_id = tk_identity();
    uint8_t to[32], ids[100][16], sealed[300];
    wsc *from, *c;

    start(&e, "faults-drain");
    tk_routing(to_id, to);
    from = pc_connect(e.relay.port, from_id, NULL, 0);
    CHECK(from != NULL);
    tk_random(sealed, sizeof(sealed));
    for (size_t i = 0; i < 100; i++) {
        tk_random(ids[i], 16);
        tk_send_acked(from, ids[i], to, sealed, sizeof(sealed));
    }
    fault_set("full");
    c = pc_connect(e.relay.port, to_id, NULL, 0);
    CHECK(c != NULL);
    for (size_t i = 0; i < 100; i++) {
        tk_expect_deliver(c, ids[i], sealed, sizeof(sealed), 20000);
        CHECK(pc_send_delivered(c, (const uint8_t(*)[16])ids[i], 1) == 0);
    }
    tk_expect_nothing(c, 500, "a delivery after all 100");
    fault_set("");
    wait_healthy(&e);
    wsc_free(c);
    wsc_free(from);
    parley_identity_free(from_id);
    parley_identity_free(to_id);
    tk_env_end(&e);
}

/*
 * A one-time prekey is handed out only with its removal: while the disk
 * refuses writes, a fetch gets the agent's medium-term prekey, and the
 * one-time prekey goes, once, when the disk takes writes again.
 */
static void test_prekey_taken_once(void)
{
    struct tk_env e;
    struct tk_brand acme;
    parley_identity *agent = tk_identity(), *cust = tk_identity();
    uint8_t *cert, *keys[2], *got;
    size_t cert_len, lens[2], len;
    const char *args[3] = {"--brand", NULL, NULL};
    uint64_t now = tk_now();
    Parley__Frame *f;
    wsc *a, *c;

    tk_env_init(&e, "faults-prekey");
    snprintf(fault_file, sizeof(fault_file), "%s/fault", e.dir);
    CHECK(setenv("PARLEY_RELAY_FAULTS", fault_file, 1) == 0);
    tk_brand_make(&acme, "acme", e.dir);
    args[1] = acme.pin_path;
    tk_env_start(&e, args);
    tk_cert(acme.key, "acme", agent, "alice", "Alice", 1, now - 60, now + 3600, &cert, &cert_len);
    a = pc_connect(e.relay.port, agent, cert, cert_len);
    CHECK(a != NULL);
    tk_prekey(agent, agent, 1, false, 0, &keys[0], &lens[0]);
    tk_prekey(agent, agent, 2, true, now + 86400, &keys[1], &lens[1]);
    CHECK(pc_send_prekeys(a, keys, lens, 2, false) == 0);
    f = tk_expect_kind(a, PARLEY__FRAME__KIND_ACK, 5000, "prekey publication");
    parley__frame__free_unpacked(f, NULL);
    c = pc_connect(e.relay.port, cust, NULL, 0);
    CHECK(c != NULL);

    fault_set("full");
    CHECK(pc_send_prekey_fetch(c, parley_identity_sign_pk(agent)) == 0);
    got = tk_read_prekey(c, agent, &len);
    CHECKM(got != NULL && len == lens[1] && memcmp(got, keys[1], len) == 0,
           "while the disk is full: not the medium-term prekey");
    free(got);
    fault_set("");
    wait_healthy(&e);
    CHECK(pc_send_prekey_fetch(c, parley_identity_sign_pk(agent)) == 0);
    got = tk_read_prekey(c, agent, &len);
    CHECKM(got != NULL && len == lens[0] && memcmp(got, keys[0], len) == 0,
           "once the disk takes writes: not the one-time prekey");
    free(got);
    CHECK(pc_send_prekey_fetch(c, parley_identity_sign_pk(agent)) == 0);
    got = tk_read_prekey(c, agent, &len);
    CHECKM(got != NULL && len == lens[1] && memcmp(got, keys[1], len) == 0,
           "the one-time prekey handed out twice");
    free(got);
    wsc_free(a);
    wsc_free(c);
    free(keys[0]);
    free(keys[1]);
    free(cert);
    tk_brand_free(&acme);
    parley_identity_free(agent);
    parley_identity_free(cust);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"drain_while_disk_full", test_drain_while_disk_full},
        {"prekey_taken_once", test_prekey_taken_once},
        {"directory_commit_fails", test_directory_commit_fails},
        {"store_failure_visible", test_store_failure_visible},
        {"store_io_error_visible", test_store_io_error_visible},
        {"store_busy_visible", test_store_busy_visible},
        {"audit_complete_after_kill", test_audit_complete_after_kill},
        {"audit_gap_recorded", test_audit_gap_recorded},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
