/*
 * The default sqlite store against the parley_store_ops contract: single
 * operations, bytewise scan order and prefix edges (empty prefix, 0xff
 * bytes, a prefix equal to a whole key), transactions, what survives a
 * close or a crashed process, the size limits and the file settings.
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "parley/store.h"

#define MAX_KEY 256u
#define MAX_VALUE (1024u * 1024u)

static char dir[256];
static char db_path[320];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void cleanup(void)
{
    if (dir[0] != '\0')
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static parley_store open_store(void)
{
    parley_store s;

    CHECK_OK(parley_store_sqlite_open(&s, db_path));
    CHECK(s.ops != NULL && s.ctx != NULL);
    return s;
}

static void close_store(parley_store *s)
{
    parley_store_close(s);
    CHECK(s->ops == NULL && s->ctx == NULL);
    parley_store_close(s); /* closed already: nothing happens */
}

static int put(parley_store *s, const char *tbl, const void *k, size_t kn, const void *v,
               size_t vn)
{
    return s->ops->put(s->ctx, tbl, k, kn, v, vn);
}

static int put_str(parley_store *s, const char *tbl, const char *k, const char *v)
{
    return put(s, tbl, k, strlen(k), v, strlen(v));
}

/* 1 and the value equal to want, 0 absent; anything else fails the test. */
static int get_is(parley_store *s, const char *tbl, const void *k, size_t kn, const void *want,
                  size_t want_len)
{
    uint8_t *v = (uint8_t *)"not touched";
    size_t vn = 12345;
    int rc = s->ops->get(s->ctx, tbl, k, kn, &v, &vn);

    if (rc == 0) {
        CHECK(v == NULL && vn == 0);
        return 0;
    }
    CHECK(rc == 1);
    CHECK(v != NULL);
    CHECK(vn == want_len);
    CHECK(want_len == 0 || memcmp(v, want, want_len) == 0);
    free(v);
    return 1;
}

static int has_str(parley_store *s, const char *tbl, const char *k, const char *want)
{
    return get_is(s, tbl, k, strlen(k), want, want != NULL ? strlen(want) : 0);
}

/* ------------------------------------------------------------------ */

struct key {
    uint8_t b[8];
    size_t n;
};

struct seen {
    struct key keys[64];
    size_t n;
    size_t stop_after; /* 0: never */
    parley_store *nested;
    int nested_rc;
    int values_ok;
};

static int collect(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                   size_t val_len)
{
    struct seen *s = arg;

    CHECK(key_len <= sizeof(s->keys[0].b));
    CHECK(s->n < 64);
    memcpy(s->keys[s->n].b, key, key_len);
    s->keys[s->n].n = key_len;
    s->n++;
    /* Each value is its key reversed, so a value delivered with the wrong key shows. */
    if (val_len != key_len)
        s->values_ok = 0;
    for (size_t i = 0; i < key_len && i < val_len; i++)
        if (val[i] != key[key_len - 1 - i])
            s->values_ok = 0;
    if (s->nested != NULL) {
        struct seen inner = {.values_ok = 1};
        s->nested_rc = s->nested->ops->scan(s->nested->ctx, "sc", NULL, 0, collect, &inner);
    }
    return s->stop_after != 0 && s->n >= s->stop_after;
}

static int key_cmp(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->b, y->b, n);

    if (c != 0)
        return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

static const struct key scan_keys[] = {
    {{0xff, 0xff, 0x01}, 3}, {{0x01, 0xff}, 2}, {{0x02}, 1},      {{0xff}, 1},
    {{0x00}, 1},             {{0x01, 0x00}, 2}, {{0x80, 0x7f}, 2}, {{0xff, 0x00}, 2},
    {{0x01}, 1},             {{0xff, 0xff}, 2}, {{0x01, 0x00, 0x00}, 3}, {{0}, 0},
    {{0x7f}, 1},             {{0x01, 0xfe, 0xff}, 3},
};
#define N_SCAN_KEYS (sizeof(scan_keys) / sizeof(scan_keys[0]))

static bool has_prefix(const struct key *k, const uint8_t *p, size_t pn)
{
    return pn == 0 || (k->n >= pn && memcmp(k->b, p, pn) == 0);
}

/* Scans with prefix and compares with the sorted, filtered key list. */
static void check_scan(parley_store *s, const uint8_t *prefix, size_t pn, size_t want_count)
{
    struct key want[N_SCAN_KEYS];
    struct seen got = {.values_ok = 1};
    size_t n = 0;

    for (size_t i = 0; i < N_SCAN_KEYS; i++)
        if (has_prefix(&scan_keys[i], prefix, pn))
            want[n++] = scan_keys[i];
    qsort(want, n, sizeof(want[0]), key_cmp);
    CHECK(n == want_count); /* the expectation itself, so a wrong model cannot pass */
    CHECK(s->ops->scan(s->ctx, "sc", prefix, pn, collect, &got) == 0);
    if (got.n != n)
        fprintf(stderr, "prefix of %zu bytes: %zu entries, expected %zu\n", pn, got.n, n);
    CHECK(got.n == n);
    CHECK(got.values_ok);
    for (size_t i = 0; i < n; i++)
        CHECK(key_cmp(&got.keys[i], &want[i]) == 0);
}

static void test_basic(void)
{
    parley_store s = open_store();
    uint8_t *v;
    size_t vn;

    CHECK(has_str(&s, "t", "absent", NULL) == 0);
    CHECK(put_str(&s, "t", "k1", "one") == 0);
    CHECK(has_str(&s, "t", "k1", "one") == 1);
    CHECK(put_str(&s, "t", "k1", "uno, overwritten") == 0);
    CHECK(has_str(&s, "t", "k1", "uno, overwritten") == 1);
    /* Tables are separate namespaces. */
    CHECK(has_str(&s, "u", "k1", NULL) == 0);
    CHECK(put_str(&s, "u", "k1", "other table") == 0);
    CHECK(has_str(&s, "t", "k1", "uno, overwritten") == 1);
    CHECK(has_str(&s, "u", "k1", "other table") == 1);
    CHECK(s.ops->del(s.ctx, "t", (const uint8_t *)"k1", 2) == 0);
    CHECK(has_str(&s, "t", "k1", NULL) == 0);
    CHECK(has_str(&s, "u", "k1", "other table") == 1);
    /* Deleting what is not there is not an error. */
    CHECK(s.ops->del(s.ctx, "t", (const uint8_t *)"k1", 2) == 0);

    /* Binary keys and values with NULs; the empty value and the empty key. */
    {
        const uint8_t k[] = {0x00, 0x01, 0x00}, val[] = {0x00, 0xff, 0x00, 0x00};
        CHECK(put(&s, "t", k, sizeof(k), val, sizeof(val)) == 0);
        CHECK(get_is(&s, "t", k, sizeof(k), val, sizeof(val)) == 1);
        CHECK(get_is(&s, "t", k, 2, NULL, 0) == 0); /* a prefix of a key is another key */
        CHECK(put(&s, "t", k, sizeof(k), NULL, 0) == 0);
        CHECK(get_is(&s, "t", k, sizeof(k), NULL, 0) == 1);
        CHECK(put(&s, "t", NULL, 0, "e", 1) == 0);
        CHECK(get_is(&s, "t", NULL, 0, "e", 1) == 1);
        CHECK(get_is(&s, "t", k, 1, NULL, 0) == 0);
    }

    /* Bad arguments. */
    CHECK(s.ops->get(s.ctx, "t", (const uint8_t *)"k", 1, NULL, &vn) == -1);
    CHECK(s.ops->get(s.ctx, "t", (const uint8_t *)"k", 1, &v, NULL) == -1);
    CHECK(put_str(&s, NULL, "k", "v") == -1);
    CHECK(put_str(&s, "", "k", "v") == -1);
    CHECK(put_str(&s, "has space", "k", "v") == -1);
    CHECK(put(&s, "t", NULL, 3, "v", 1) == -1);
    CHECK(put(&s, "t", "k", 1, NULL, 3) == -1);
    close_store(&s);
}

static void test_limits(void)
{
    parley_store s = open_store();
    uint8_t *big = malloc(MAX_VALUE + 1);
    uint8_t key[MAX_KEY + 1];
    char long_table[80];

    CHECK(big != NULL);
    memset(big, 0xa5, MAX_VALUE + 1);
    big[0] = 1;
    big[MAX_VALUE - 1] = 2;
    memset(key, 'k', sizeof(key));

    CHECK(put(&s, "lim", key, MAX_KEY, "v", 1) == 0);
    CHECK(get_is(&s, "lim", key, MAX_KEY, "v", 1) == 1);
    CHECK(put(&s, "lim", key, MAX_KEY + 1, "v", 1) == -1);
    CHECK(s.ops->del(s.ctx, "lim", key, MAX_KEY + 1) == -1);
    {
        uint8_t *v = NULL;
        size_t vn = 0;
        CHECK(s.ops->get(s.ctx, "lim", key, MAX_KEY + 1, &v, &vn) == -1);
    }

    CHECK(put(&s, "lim", "big", 3, big, MAX_VALUE) == 0);
    CHECK(get_is(&s, "lim", "big", 3, big, MAX_VALUE) == 1);
    CHECK(put(&s, "lim", "big", 3, big, MAX_VALUE + 1) == -1);
    CHECK(get_is(&s, "lim", "big", 3, big, MAX_VALUE) == 1); /* the refused put changed nothing */

    memset(long_table, 'x', sizeof(long_table) - 1);
    long_table[sizeof(long_table) - 1] = '\0';
    CHECK(put_str(&s, long_table, "k", "v") == -1);
    long_table[64] = '\0';
    CHECK(put_str(&s, long_table, "k", "v") == 0);
    free(big);
    close_store(&s);
}

static void test_scan(void)
{
    parley_store s = open_store();

    /* Neighbours in other tables must never show up in a scan of "sc". */
    CHECK(put_str(&s, "s", "\x01", "x") == 0);
    CHECK(put_str(&s, "scc", "\x01", "x") == 0);
    for (size_t i = 0; i < N_SCAN_KEYS; i++) {
        uint8_t rev[8];
        for (size_t j = 0; j < scan_keys[i].n; j++)
            rev[j] = scan_keys[i].b[scan_keys[i].n - 1 - j];
        CHECK(put(&s, "sc", scan_keys[i].b, scan_keys[i].n, rev, scan_keys[i].n) == 0);
    }

    check_scan(&s, NULL, 0, N_SCAN_KEYS);
    check_scan(&s, (const uint8_t *)"\xff", 1, 4);
    check_scan(&s, (const uint8_t *)"\xff\xff", 2, 2);
    check_scan(&s, (const uint8_t *)"\xff\xff\xff", 3, 0);
    check_scan(&s, (const uint8_t *)"\x01", 1, 5);
    check_scan(&s, (const uint8_t *)"\x01\xff", 2, 1); /* successor 0x02 is excluded */
    check_scan(&s, (const uint8_t *)"\x01\xfe", 2, 1); /* 01 fe ff, but not 01 ff */
    check_scan(&s, (const uint8_t *)"\x01\x00", 2, 2); /* a whole key and its extension */
    check_scan(&s, (const uint8_t *)"\x01\x00\x00", 3, 1);
    check_scan(&s, (const uint8_t *)"\x00", 1, 1);
    check_scan(&s, (const uint8_t *)"\x80", 1, 1);
    check_scan(&s, (const uint8_t *)"\x03", 1, 0);

    /* A non-zero return stops the scan. */
    {
        struct seen got = {.stop_after = 3, .values_ok = 1};
        CHECK(s.ops->scan(s.ctx, "sc", NULL, 0, collect, &got) == 0);
        CHECK(got.n == 3);
    }
    /* A scan inside a scan is refused, and the outer one is unharmed. */
    {
        struct seen got = {.nested = &s, .nested_rc = 0, .values_ok = 1};
        CHECK(s.ops->scan(s.ctx, "sc", NULL, 0, collect, &got) == 0);
        CHECK(got.nested_rc == -1);
        CHECK(got.n == N_SCAN_KEYS);
    }
    /* An empty table, and prefixes longer than any key limit. */
    {
        struct seen got = {.values_ok = 1};
        uint8_t long_prefix[MAX_KEY + 1];
        memset(long_prefix, 0xff, sizeof(long_prefix));
        CHECK(s.ops->scan(s.ctx, "empty", NULL, 0, collect, &got) == 0);
        CHECK(got.n == 0);
        CHECK(s.ops->scan(s.ctx, "sc", long_prefix, MAX_KEY, collect, &got) == 0);
        CHECK(got.n == 0);
        CHECK(s.ops->scan(s.ctx, "sc", long_prefix, MAX_KEY + 1, collect, &got) == -1);
        CHECK(s.ops->scan(s.ctx, "sc", NULL, 0, NULL, &got) == -1);
    }
    close_store(&s);
}

static void test_transactions(void)
{
    parley_store s = open_store();

    CHECK(s.ops->commit(s.ctx) == -1);
    CHECK(s.ops->rollback(s.ctx) == -1);

    CHECK(put_str(&s, "x", "a", "1") == 0);
    CHECK(s.ops->begin(s.ctx) == 0);
    CHECK(s.ops->begin(s.ctx) == -1); /* nested */
    CHECK(put_str(&s, "x", "b", "2") == 0);
    CHECK(put_str(&s, "x", "c", "3") == 0);
    CHECK(has_str(&s, "x", "b", "2") == 1); /* own writes are visible inside */
    CHECK(s.ops->commit(s.ctx) == 0);
    CHECK(s.ops->commit(s.ctx) == -1);
    CHECK(has_str(&s, "x", "b", "2") == 1);
    CHECK(has_str(&s, "x", "c", "3") == 1);

    CHECK(s.ops->begin(s.ctx) == 0);
    CHECK(put_str(&s, "x", "d", "4") == 0);
    CHECK(s.ops->del(s.ctx, "x", (const uint8_t *)"a", 1) == 0);
    CHECK(put_str(&s, "x", "b", "changed") == 0);
    CHECK(has_str(&s, "x", "a", NULL) == 0);
    CHECK(s.ops->rollback(s.ctx) == 0);
    CHECK(s.ops->rollback(s.ctx) == -1);
    CHECK(has_str(&s, "x", "d", NULL) == 0);
    CHECK(has_str(&s, "x", "a", "1") == 1);
    CHECK(has_str(&s, "x", "b", "2") == 1);

    /* A refused write inside a transaction does not spoil the rest. */
    CHECK(s.ops->begin(s.ctx) == 0);
    CHECK(put_str(&s, "x", "e", "5") == 0);
    CHECK(put_str(&s, "bad table", "f", "6") == -1);
    CHECK(s.ops->commit(s.ctx) == 0);
    CHECK(has_str(&s, "x", "e", "5") == 1);

    /* Left open at close: rolled back. */
    CHECK(s.ops->begin(s.ctx) == 0);
    CHECK(put_str(&s, "x", "g", "7") == 0);
    close_store(&s);

    s = open_store();
    CHECK(has_str(&s, "x", "g", NULL) == 0);
    CHECK(has_str(&s, "x", "e", "5") == 1);
    CHECK(has_str(&s, "x", "a", "1") == 1);
    close_store(&s);
}

/* A child that writes and dies without closing: what returned must be on disk. */
static void crash_child(int use_tx, const char *key)
{
    pid_t pid;
    int st;

    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        parley_store c;
        if (parley_store_sqlite_open(&c, db_path) != PARLEY_OK)
            _exit(2);
        if (use_tx == 1 && c.ops->begin(c.ctx) != 0)
            _exit(3);
        if (put_str(&c, "crash", key, "v") != 0)
            _exit(4);
        if (use_tx == 2 && (c.ops->begin(c.ctx) != 0 || put_str(&c, "crash", "tx-2b", "v") != 0 ||
                            c.ops->commit(c.ctx) != 0))
            _exit(5);
        _exit(0); /* no close, no commit of an open transaction */
    }
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_reopen_and_crash(void)
{
    parley_store s = open_store();

    CHECK(put_str(&s, "keep", "name", "value") == 0);
    close_store(&s);

    crash_child(0, "plain");
    crash_child(1, "uncommitted");
    crash_child(2, "tx-2a");

    s = open_store();
    CHECK(has_str(&s, "keep", "name", "value") == 1);
    CHECK(has_str(&s, "crash", "plain", "v") == 1);
    CHECK(has_str(&s, "crash", "uncommitted", NULL) == 0);
    CHECK(has_str(&s, "crash", "tx-2a", "v") == 1);
    CHECK(has_str(&s, "crash", "tx-2b", "v") == 1);
    close_store(&s);
}

/* The settings the interface promises, read back from the file itself. */
static void test_file_settings(void)
{
    parley_store s = open_store();
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct stat sb;

    CHECK(put_str(&s, "t", "k", "v") == 0);
    CHECK(stat(db_path, &sb) == 0);
    CHECK((sb.st_mode & 0777) == 0600);
    CHECK(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
    sqlite3_finalize(st);
    CHECK(sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_schema WHERE name = 'kv'", -1, &st,
                             NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(strstr((const char *)sqlite3_column_text(st, 0), "WITHOUT ROWID") != NULL);
    sqlite3_finalize(st);
    sqlite3_close(db);
    close_store(&s);
}

/* The mode bits of path (and 0 when it does not exist). */
static unsigned mode_of(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (unsigned)(sb.st_mode & 07777) : 0;
}

/*
 * Under umask 000, the database, its WAL and its shared-memory index are
 * private to their owner while the store is open: a new store, and one
 * whose files an older program left readable to everyone (the leftover
 * WAL and index included, which sqlite reuses as they are).
 */
static void test_file_modes_any_umask(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char path[3][400];
    mode_t old = umask(0);
    parley_store s;

    for (size_t i = 0; i < 3; i++)
        snprintf(path[i], sizeof(path[i]), "%s/modes.db%s", dir, suffix[i]);
    CHECK_OK(parley_store_sqlite_open(&s, path[0]));
    CHECK(put_str(&s, "t", "k", "v") == 0);
    for (size_t i = 0; i < 3; i++) {
        printf("   new store, umask 000: %s is %03o\n", path[i], mode_of(path[i]));
        CHECK(mode_of(path[i]) == 0600);
    }
    parley_store_close(&s);
    /* Left readable by everyone, WAL and index too (as a crash leaves them): closed up. */
    for (size_t i = 0; i < 3; i++) {
        FILE *f = fopen(path[i], "ab");

        CHECK(f != NULL);
        fclose(f);
        CHECK(chmod(path[i], 0644) == 0);
    }
    CHECK_OK(parley_store_sqlite_open(&s, path[0]));
    for (size_t i = 0; i < 3; i++) {
        printf("   store left 644, opened again: %s is %03o\n", path[i], mode_of(path[i]));
        CHECK(mode_of(path[i]) == 0600);
    }
    CHECK(put_str(&s, "t", "k2", "v2") == 0);
    for (size_t i = 0; i < 3; i++)
        CHECK(mode_of(path[i]) == 0600);
    parley_store_close(&s);
    umask(old);
}

static void test_open_errors(void)
{
    parley_store s;
    char bad[400];

    CHECK_ERR(parley_store_sqlite_open(NULL, db_path), PARLEY_EINVAL);
    CHECK_ERR(parley_store_sqlite_open(&s, NULL), PARLEY_EINVAL);
    CHECK_ERR(parley_store_sqlite_open(&s, ""), PARLEY_EINVAL);
    snprintf(bad, sizeof(bad), "%s/no/such/dir/db", dir);
    CHECK_ERR(parley_store_sqlite_open(&s, bad), PARLEY_EIO);
    CHECK(s.ops == NULL && s.ctx == NULL);
}

/* Whether the file at path holds needle (a missing file holds nothing). */
static bool file_holds(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    static char buf[1 << 20];
    size_t n;
    bool found;

    if (f == NULL)
        return false;
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    found = memmem(buf, n, needle, strlen(needle)) != NULL;
    return found;
}

/*
 * After an erasure the library deletes rows and compacts: nothing of a
 * deleted value is left in the database file or its WAL.
 */
static void test_compact(void)
{
    static const char canary[] = "CANARY-erased-row-value";
    parley_store s = open_store();
    char wal[340];

    snprintf(wal, sizeof(wal), "%s-wal", db_path);
    CHECK(s.ops->compact != NULL);
    CHECK(s.ops->begin(s.ctx) == 0);
    CHECK(put_str(&s, "history", "row", canary) == 0);
    CHECK(s.ops->commit(s.ctx) == 0);
    CHECK(file_holds(db_path, canary) || file_holds(wal, canary));
    CHECK(s.ops->del(s.ctx, "history", (const uint8_t *)"row", 3) == 0);
    /* Not inside a transaction. */
    CHECK(s.ops->begin(s.ctx) == 0);
    CHECK(s.ops->compact(s.ctx) == -1);
    CHECK(s.ops->rollback(s.ctx) == 0);
    CHECK(s.ops->compact(s.ctx) == 0);
    CHECK(!file_holds(db_path, canary));
    CHECK(!file_holds(wal, canary));
    CHECK(has_str(&s, "history", "row", NULL) == 0);
    close_store(&s);
}

int main(void)
{
    const char *base = getenv("TMPDIR");

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    snprintf(dir, sizeof(dir), "%s/parley-storetest-XXXXXX", base);
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    atexit(cleanup);
    snprintf(db_path, sizeof(db_path), "%s/store.db", dir);

    test_open_errors();
    test_basic();
    test_limits();
    test_scan();
    test_transactions();
    test_reopen_and_crash();
    test_file_settings();
    test_file_modes_any_umask();
    test_compact();
    printf("store: all checks passed\n");
    return 0;
}
