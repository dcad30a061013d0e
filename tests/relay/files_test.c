/*
 * What the relay writes about people (its database with the WAL and
 * shared-memory files beside it, the audit log; on another store, the
 * audit log) is readable by the relay's own user only, whatever the
 * umask it was started with, and a database or audit log (with its held
 * record and node id) left readable by an older relay or an operator is
 * closed up on start.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "testkit.h"

static void expect_mode(const char *path, const char *what)
{
    struct stat st;

    CHECKM(stat(path, &st) == 0, "%s (%s) missing", what, path);
    CHECKM((st.st_mode & 07777) == 0600, "%s has mode %04o, not 0600", what,
           (unsigned)(st.st_mode & 07777));
}

/* The audit log's own files beside it: .<log name>.held, and on another store .<log name>.node. */
static void audit_side_path(const struct relay_proc *r, const char *what, char *out, size_t cap)
{
    const char *slash = strrchr(r->db, '/');

    snprintf(out, cap, "%.*s.%s.audit.%s", (int)(slash + 1 - r->db), r->db, slash + 1, what);
}

/* The audit log with its files, and on the sqlite store the database with its WAL and index. */
static void expect_private_files(const struct relay_proc *r)
{
    char path[400];

    snprintf(path, sizeof(path), "%s.audit", r->db);
    expect_mode(path, "audit log");
    audit_side_path(r, "held", path, sizeof(path));
    expect_mode(path, "audit log's held record");
    if (!tk_on_sqlite(r)) {
        audit_side_path(r, "node", path, sizeof(path));
        expect_mode(path, "audit log's node id");
        return;
    }
    expect_mode(r->db, "database");
    snprintf(path, sizeof(path), "%s-wal", r->db);
    expect_mode(path, "write-ahead log");
    snprintf(path, sizeof(path), "%s-shm", r->db);
    expect_mode(path, "shared-memory index");
}

/* What expect_private_files checks, each set to 0644. */
static void open_up_files(const struct relay_proc *r)
{
    char path[400];

    snprintf(path, sizeof(path), "%s.audit", r->db);
    CHECK(chmod(path, 0644) == 0);
    audit_side_path(r, "held", path, sizeof(path));
    CHECK(chmod(path, 0644) == 0);
    if (!tk_on_sqlite(r)) {
        audit_side_path(r, "node", path, sizeof(path));
        CHECK(chmod(path, 0644) == 0);
        return;
    }
    CHECK(chmod(r->db, 0644) == 0);
}

static void test_file_modes(void)
{
    struct tk_env e;
    parley_identity *id = tk_identity();
    uint8_t eid[16], to[32], sealed[64];
    mode_t old = umask(0);
    wsc *c;

    tk_env_init(&e, "filemodes");
    tk_env_start(&e, NULL);
    c = pc_connect(e.relay.port, id, NULL, 0);
    CHECK(c != NULL);
    tk_random(eid, 16);
    tk_random(to, 32);
    tk_random(sealed, sizeof(sealed));
    tk_send_acked(c, eid, to, sealed, sizeof(sealed));
    expect_private_files(&e.relay);
    wsc_free(c);
    CHECK(relay_stop(&e.relay, 15000) >= 0);

    /* Files an earlier relay (or an operator) left open to everyone are made private again. */
    open_up_files(&e.relay);
    tk_env_start(&e, NULL);
    c = pc_connect(e.relay.port, id, NULL, 0);
    CHECK(c != NULL);
    tk_random(eid, 16);
    tk_send_acked(c, eid, to, sealed, sizeof(sealed));
    expect_private_files(&e.relay);
    wsc_free(c);
    umask(old);
    parley_identity_free(id);
    tk_env_end(&e);
}

/* --store sqlite:PATH puts the database (and the audit log beside it) at PATH; unknown kinds are
 * refused. */
static void test_store_option(void)
{
    struct tk_env e;
    parley_identity *id = tk_identity();
    char spec[600], path[400];
    const char *args[] = {"--store", spec, NULL};
    uint8_t eid[16], to[32], sealed[64];
    struct stat st;
    wsc *c;

    tk_env_init(&e, "store-option");
    snprintf(path, sizeof(path), "%s/elsewhere.db", e.dir);
    snprintf(spec, sizeof(spec), "sqlite:%s", path);
    tk_env_start(&e, args);
    c = pc_connect(e.relay.port, id, NULL, 0);
    CHECK(c != NULL);
    tk_random(eid, 16);
    tk_random(to, 32);
    tk_random(sealed, sizeof(sealed));
    tk_send_acked(c, eid, to, sealed, sizeof(sealed));
    wsc_free(c);
    CHECKM(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "no database at the store's path");
    snprintf(spec, sizeof(spec), "%s.audit", path);
    CHECKM(stat(spec, &st) == 0, "no audit log beside the store's database");
    CHECKM(stat(e.relay.db, &st) != 0, "--db's database made although --store came after it");
    CHECK(relay_stop(&e.relay, 15000) >= 0);

    /* A kind no relay has: it does not start (exit 2, a configuration error). nats:// would be
     * refused only while nothing listens at the address it names. */
    snprintf(spec, sizeof(spec), "redis://127.0.0.1:6379");
    CHECKM(relay_start(&e.relay, tk_relay_bin, e.dir, args) != 0, "started on an unknown store");
    parley_identity_free(id);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"file_modes", test_file_modes},
        {"store_option", test_store_option},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
