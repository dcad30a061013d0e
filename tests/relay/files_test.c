/*
 * What the relay writes about people (its database with the WAL and
 * shared-memory files beside it, the audit log) is readable by the
 * relay's own user only, whatever the umask it was started with, and a
 * database left readable by an older relay is closed up on start.
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

static void expect_private_files(const struct relay_proc *r)
{
    char path[400];

    expect_mode(r->db, "database");
    snprintf(path, sizeof(path), "%s-wal", r->db);
    expect_mode(path, "write-ahead log");
    snprintf(path, sizeof(path), "%s-shm", r->db);
    expect_mode(path, "shared-memory index");
    snprintf(path, sizeof(path), "%s.audit", r->db);
    expect_mode(path, "audit log");
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

    /* Files an earlier relay left open to everyone are made private again. */
    CHECK(chmod(e.relay.db, 0644) == 0);
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

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"file_modes", test_file_modes},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
