/*
 * The relay's audit log. Unit level: the chain code, a torn last line
 * repaired on reopening, segments and retention. Through a real relay:
 * traffic of every kind leaves a chain that verifies and holds no
 * routing id, key, envelope id, display name or sealed byte; then copies
 * of it, altered, reordered, shortened or cut mid-line, are each caught
 * by parley-audit at the right entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "testkit.h"

/* ------------------------------------------------------------------ */
/* Helpers */

/* The lines of a file (newlines kept, the last one may lack it). */
struct lines {
    char *text;
    char *at[4096];
    size_t len[4096];
    size_t n;
};

static void lines_read(struct lines *l, const char *path)
{
    size_t total = 0;

    memset(l, 0, sizeof(*l));
    l->text = read_file_all(path, &total);
    CHECKM(l->text != NULL, "cannot read %s", path);
    for (char *p = l->text; p < l->text + total && l->n < 4096;) {
        char *eol = memchr(p, '\n', (size_t)(l->text + total - p));
        size_t n = eol != NULL ? (size_t)(eol - p) + 1 : (size_t)(l->text + total - p);
        l->at[l->n] = p;
        l->len[l->n++] = n;
        p += n;
    }
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    CHECK(f != NULL);
    CHECK(fwrite(data, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}

/* Writes l's lines in the given order (index -1 ends the list). */
static void lines_write(const struct lines *l, const char *path, const long *order, size_t n)
{
    FILE *f = fopen(path, "wb");

    CHECK(f != NULL);
    for (size_t i = 0; i < n; i++)
        CHECK(fwrite(l->at[order[i]], 1, l->len[order[i]], f) == l->len[order[i]]);
    CHECK(fclose(f) == 0);
}

static uint64_t line_seq(const char *line)
{
    CHECK(strncmp(line, "{\"seq\":", 7) == 0);
    return strtoull(line + 7, NULL, 10);
}

static void expect_fail(const char *args, uint64_t seq, uint64_t line, const char *what)
{
    char out[4096], want[128];
    int rc = tk_audit_verify(args, out, sizeof(out));

    snprintf(want, sizeof(want), "FAIL at entry seq %llu (line %llu of ", (unsigned long long)seq,
             (unsigned long long)line);
    CHECKM(rc == 1, "verify %s: exit %d, expected 1: %s", args, rc, out);
    CHECKM(strncmp(out, want, strlen(want)) == 0, "verify %s: expected '%s...', got: %s", args,
           want, out);
    CHECKM(strstr(out, what) != NULL, "verify %s: expected '%s' in: %s", args, what, out);
}

static void expect_ok(const char *args, const char *what)
{
    char out[4096];
    int rc = tk_audit_verify(args, out, sizeof(out));

    CHECKM(rc == 0 && strncmp(out, "OK ", 3) == 0, "%s: verify %s: exit %d: %s", what, args, rc,
           out);
}

/* ------------------------------------------------------------------ */
/* Unit level: the chain */

static const uint8_t test_key[32] = {1, 2, 3};

/* Chains an entry about a store change as the relay does: its body, read back from outbox row
 * `row`. */
static void export_body(struct audit *a, uint64_t row, const char *body, size_t n)
{
    CHECKM(n > 0, "the body does not fit");
    CHECKM(audit_export(a, row, 0, body, n, false) == 0, "row %llu not chained",
           (unsigned long long)row);
}

static void test_chain_unit(void)
{
    struct tk_env e;
    struct audit *a = NULL;
    char path[400], err[600], hex[AUDIT_HEX_BYTES], args[600], body[AUDIT_BODY_MAX];
    uint8_t eid[16], who[32], addr[32] = {0};
    struct lines l;
    uint64_t seq;

    tk_env_init(&e, "audit-unit");
    snprintf(path, sizeof(path), "%s/unit.audit", e.dir);
    CHECKM(audit_open(&a, path, NULL, 3600, 3600, test_key, err, sizeof(err)) == 0, "%s", err);
    tk_random(eid, sizeof(eid));
    tk_random(who, sizeof(who));
    addr[15] = 7;
    audit_conn_open(a, 1, addr);
    audit_auth(a, 1, "customer", -1, who, NULL);
    audit_auth(a, 2, NULL, -1, NULL, "malformed");
    export_body(a, 1, body, audit_body_stored(a, body, sizeof(body), eid, who, who, 1234));
    audit_delivered(a, 1, eid);
    export_body(a, 2, body, audit_body_acked(a, body, sizeof(body), eid));
    export_body(a, 3, body, audit_body_expired(a, body, sizeof(body), 3, 3000));
    export_body(a, 4, body, audit_body_erased(a, body, sizeof(body), who, 2, 200));
    export_body(a, 5, body, audit_body_directory(a, body, sizeof(body), 1, 0, 7));
    /* Not an entry about a store change: refused. Chained already: not chained again. */
    {
        const char *auth = "\"ts\":\"2026-01-01T00:00:00.000Z\",\"event\":\"auth\"";
        uint64_t before;
        CHECK(audit_export(a, 6, 0, auth, strlen(auth), false) == -1);
        CHECK(audit_exported(a).row == 6);
        audit_head(a, &before, hex);
        CHECK(audit_export(a, 5, 0, body, strlen(body), true) == 0);
        audit_head(a, &seq, hex);
        CHECK(seq == before);
    }
    audit_conn_close(a, 1, 1000);
    audit_flush(a);
    audit_head(a, &seq, hex);
    CHECKM(seq == 12, "segment, start, 10 events: seq %llu", (unsigned long long)seq);
    audit_close(a);

    /*
     * One hash per batch: the segment and start entries are batches of their own, the ten
     * events of one flush one batch, stop one. Each batch's last line carries prev and the
     * hash of the batch; the others carry neither. Recomputed by hand from the genesis value.
     */
    lines_read(&l, path);
    CHECKM(l.n == 13, "%zu lines (segment, start, 10 events, stop)", l.n);
    {
        uint8_t prev[AUDIT_HASH_BYTES];
        size_t first = 0;
        memcpy(prev, audit_genesis, sizeof(prev));
        for (size_t i = 0; i < l.n; i++) {
            struct audit_line al;
            uint8_t h[AUDIT_HASH_BYTES];
            char canon[8192];
            size_t n = l.len[i] - 1, cut, batch;
            bool last = i == 0 || i == 1 || i == 11 || i == 12;

            CHECKM(audit_entry_parse(l.at[i], n, &al) == 0, "line %zu does not parse", i + 1);
            CHECK(al.seq == i + 1);
            CHECKM(al.sealed == last, "line %zu: sealed %d", i + 1, (int)al.sealed);
            CHECK((audit_line_parse(l.at[i], n, &al) == 0) == last);
            if (!last) {
                CHECK(!tk_contains(l.at[i], l.len[i], "\"prev\"") &&
                      !tk_contains(l.at[i], l.len[i], "\"hash\""));
                continue;
            }
            CHECK(memcmp(al.prev, prev, sizeof(prev)) == 0);
            batch = (size_t)(l.at[i] - l.at[first]) + n;
            CHECK(audit_line_hash_ok(l.at[first], batch, &al));
            /* BLAKE2b-256(prev || the batch's lines, the last without its hash member). */
            cut = batch - (9 + 64 + 1) - 1;
            memcpy(canon, l.at[first], cut);
            canon[cut] = '}';
            CHECK(memcmp(l.at[first] + cut, ",\"hash\":\"", 9) == 0);
            audit_chain_hash(prev, canon, cut + 1, h);
            CHECK(memcmp(h, al.hash, sizeof(h)) == 0);
            /* The last line alone does not verify: the hash covers the whole batch. */
            CHECK(i == first || !audit_line_hash_ok(l.at[i], n, &al));
            memcpy(prev, al.hash, sizeof(prev));
            first = i + 1;
        }
        CHECK(tk_contains(l.at[0], l.len[0], "\"event\":\"segment\""));
        CHECK(tk_contains(l.at[4], l.len[4], "\"ok\":false") &&
              !tk_contains(l.at[4], l.len[4], "\"role\""));
        CHECK(tk_contains(l.at[5], l.len[5], "\"bytes\":1234}"));
    }
    /* Hostile layouts are refused by the parser. */
    {
        struct audit_line al;
        char bad[AUDIT_LINE_MAX];
        size_t n = l.len[1] - 1;

        memcpy(bad, l.at[1], n);
        for (size_t i = n - 66; i < n - 2; i++)
            if (bad[i] >= 'a' && bad[i] <= 'f') {
                bad[i] = (char)(bad[i] - 'a' + 'A'); /* uppercase hex is not canonical */
                break;
            }
        CHECK(audit_line_parse(bad, n, &al) != 0);
        CHECK(audit_line_parse(l.at[1], n - 1, &al) != 0);
        memcpy(bad, l.at[1], n);
        bad[20] = '\t';
        CHECK(audit_line_parse(bad, n, &al) != 0);
        memcpy(bad, l.at[1], n);
        bad[n - 3] = bad[n - 3] == '0' ? '1' : '0'; /* the hash member itself */
        CHECK(audit_line_parse(bad, n, &al) == 0 && !audit_line_hash_ok(bad, n, &al));
    }
    {
        const char *paths[1] = {path};
        FILE *devnull = fopen("/dev/null", "w");
        CHECK(audit_verify(paths, 1, NULL, devnull) == 0);
        fclose(devnull);
    }

    /* A torn last line (a write cut short) is cut off when the log is reopened; the chain goes on.
     */
    {
        FILE *f = fopen(path, "ab");
        CHECK(f != NULL);
        CHECK(fwrite(l.at[5], 1, 40, f) == 40);
        CHECK(fclose(f) == 0);
        snprintf(args, sizeof(args), "'%s'", path);
        expect_fail(args, 14, 14, "torn");
        a = NULL;
        CHECKM(audit_open(&a, path, NULL, 3600, 3600, test_key, err, sizeof(err)) == 0, "%s", err);
        audit_close(a);
        free(l.text);
        lines_read(&l, path);
        CHECKM(l.n == 15, "%zu lines after reopening", l.n);
        CHECK(tk_contains(l.at[13], l.len[13], "\"event\":\"start\",\"repaired_bytes\":40,"));
        expect_ok(args, "reopened after a torn line");
    }
    /* A last entry that does not verify stops the relay from writing after it. */
    {
        char *text;
        size_t len;
        text = read_file_all(path, &len);
        text[len - 10] = text[len - 10] == '0' ? '1' : '0';
        write_file(path, text, len);
        free(text);
        a = NULL;
        CHECK(audit_open(&a, path, NULL, 3600, 3600, test_key, err, sizeof(err)) != 0);
        CHECKM(strstr(err, "does not verify") != NULL, "%s", err);
    }
    free(l.text);
    tk_env_end(&e);
}

/*
 * Writes l's lines without [from, to), the seqs of the lines after them
 * lowered to close the gap (a forger covering a removal).
 */
static void write_renumbered(const struct lines *l, const char *path, size_t from, size_t to)
{
    FILE *f = fopen(path, "wb");

    CHECK(f != NULL);
    for (size_t i = 0; i < l->n; i++) {
        const char *rest;
        if (i >= from && i < to)
            continue;
        if (i < to) {
            CHECK(fwrite(l->at[i], 1, l->len[i], f) == l->len[i]);
            continue;
        }
        rest = strchr(l->at[i], ',');
        fprintf(f, "{\"seq\":%llu", (unsigned long long)(line_seq(l->at[i]) - (to - from)));
        CHECK(fwrite(rest, 1, l->len[i] - (size_t)(rest - l->at[i]), f) ==
              l->len[i] - (size_t)(rest - l->at[i]));
    }
    CHECK(fclose(f) == 0);
}

/*
 * Tampering with a log of several batches: an entry changed, removed or
 * moved inside a batch, a batch removed or moved, with or without the
 * seqs renumbered to hide it, and entries left without their batch's
 * hash, are each caught at the right place.
 */
static void test_batches_unit(void)
{
    struct tk_env e;
    struct audit *a = NULL;
    char path[400], copy[400], err[600], args[600];
    uint8_t eid[16] = {5}, addr[32] = {0};
    struct lines l;

    tk_env_init(&e, "audit-batches");
    snprintf(path, sizeof(path), "%s/b.audit", e.dir);
    snprintf(copy, sizeof(copy), "%s/copy.audit", e.dir);
    snprintf(args, sizeof(args), "'%s'", copy);
    CHECKM(audit_open(&a, path, NULL, 3600, 3600, test_key, err, sizeof(err)) == 0, "%s", err);
    /* Lines 3-7: batch A (seq 3..7); lines 8-10: batch B (seq 8..10); line 11: stop. */
    for (uint64_t c = 1; c <= 5; c++)
        audit_conn_open(a, c, addr);
    audit_flush(a);
    for (uint64_t c = 1; c <= 3; c++)
        audit_delivered(a, c, eid);
    audit_flush(a);
    audit_close(a);
    lines_read(&l, path);
    CHECKM(l.n == 11, "%zu lines", l.n);
    {
        struct audit_line al;
        CHECK(audit_entry_parse(l.at[6], l.len[6] - 1, &al) == 0 && al.sealed);
        CHECK(audit_entry_parse(l.at[5], l.len[5] - 1, &al) == 0 && !al.sealed);
        CHECK(audit_entry_parse(l.at[9], l.len[9] - 1, &al) == 0 && al.sealed);
        /* An entry inside a batch without its closing brace is not an entry. */
        CHECK(audit_entry_parse(l.at[5], l.len[5] - 2, &al) != 0);
    }
    {
        char orig[600];
        snprintf(orig, sizeof(orig), "'%s'", path);
        expect_ok(orig, "a log of several batches");
    }
    {
        /* A field of an entry inside batch A changed: caught at A's last line. */
        char *t = malloc(l.len[3] + 1);
        long order[16];
        memcpy(t, l.at[3], l.len[3]);
        t[strstr(t, "\"conn\":") - t + 7] = '9';
        {
            FILE *f = fopen(copy, "wb");
            for (size_t j = 0; j < l.n; j++)
                CHECK(fwrite(j == 3 ? t : l.at[j], 1, l.len[j], f) == l.len[j]);
            CHECK(fclose(f) == 0);
        }
        free(t);
        expect_fail(args, 7, 7, "hash mismatch: an entry of the batch seq 3..7 (lines 3..7)");
        /* An entry of A removed: a seq gap; with the seqs after it renumbered, A's hash fails. */
        for (size_t j = 0, n = 0; j < l.n; j++)
            if (j != 4)
                order[n++] = (long)j;
        lines_write(&l, copy, order, l.n - 1);
        expect_fail(args, 5, 5, "seq gap");
        write_renumbered(&l, copy, 4, 5);
        expect_fail(args, 6, 6, "hash mismatch");
        /* Two entries of A swapped. */
        for (size_t j = 0; j < l.n; j++)
            order[j] = (long)j;
        order[3] = 4;
        order[4] = 3;
        lines_write(&l, copy, order, l.n);
        expect_fail(args, 4, 4, "reordered");
        /* Batch A removed: a seq gap; renumbered, B no longer chains to the batch before it. */
        for (size_t j = 0, n = 0; j < l.n; j++)
            if (j < 2 || j > 6)
                order[n++] = (long)j;
        lines_write(&l, copy, order, l.n - 5);
        expect_fail(args, 3, 3, "seq gap");
        write_renumbered(&l, copy, 2, 7);
        expect_fail(args, 5, 5, "prev mismatch");
        /* Batches A and B swapped. */
        {
            long swapped[] = {0, 1, 7, 8, 9, 2, 3, 4, 5, 6, 10};
            lines_write(&l, copy, swapped, 11);
            expect_fail(args, 3, 3, "seq gap");
        }
        /* B's last line cut off (and stop after it): B's entries have no hash. */
        lines_write(&l, copy, (long[]){0, 1, 2, 3, 4, 5, 6, 7, 8}, 9);
        expect_fail(args, 8, 8, "unsealed: entries seq 8..9");
        /* Entries added after the last hash. */
        for (size_t j = 0; j < l.n; j++)
            order[j] = (long)j;
        lines_write(&l, copy, order, l.n);
        {
            FILE *f = fopen(copy, "ab");
            fprintf(f, "{\"seq\":12,%.*s", (int)(l.len[3] - 9), l.at[3] + 9);
            CHECK(fclose(f) == 0);
        }
        expect_fail(args, 12, 12, "unsealed");
    }
    /* A relay that stopped with entries written but their batch unsealed cuts them on start. */
    {
        size_t len = 0, added;
        char *text = read_file_all(path, &len);
        FILE *f = fopen(path, "ab");
        added = (size_t)fprintf(f, "{\"seq\":12,%.*s", (int)(l.len[3] - 9), l.at[3] + 9);
        CHECK(fclose(f) == 0);
        a = NULL;
        CHECKM(audit_open(&a, path, NULL, 3600, 3600, test_key, err, sizeof(err)) == 0, "%s", err);
        audit_close(a);
        free(text);
        text = read_file_all(path, &len);
        {
            char want[64];
            snprintf(want, sizeof(want), "\"event\":\"start\",\"repaired_bytes\":%zu", added);
            CHECKM(tk_contains(text, len, want), "no %s", want);
        }
        free(text);
        snprintf(args, sizeof(args), "'%s'", path);
        expect_ok(args, "reopened after unsealed entries");
    }
    free(l.text);
    tk_env_end(&e);
}

/*
 * A log written one hash per entry, as the relay wrote it before batches
 * (every line a batch of its own), still verifies; a changed entry in it
 * is still caught.
 */
static void test_one_hash_per_entry(void)
{
    static const char *const bodies[] = {
        "\"ts\":\"2026-12-01T10:00:00.000Z\",\"event\":\"segment\"",
        "\"ts\":\"2026-12-01T10:00:00.001Z\",\"event\":\"start\"",
        "\"ts\":\"2026-12-01T10:00:01.000Z\",\"event\":\"conn_open\",\"conn\":1",
        "\"ts\":\"2026-12-01T10:00:02.000Z\",\"event\":\"stop\"",
    };
    struct tk_env e;
    uint8_t prev[AUDIT_HASH_BYTES], h[AUDIT_HASH_BYTES];
    char path[400], args[600], line[AUDIT_LINE_MAX], hex[AUDIT_HEX_BYTES];
    FILE *f;

    tk_env_init(&e, "audit-old");
    snprintf(path, sizeof(path), "%s/old.audit", e.dir);
    f = fopen(path, "wb");
    CHECK(f != NULL);
    memcpy(prev, audit_genesis, sizeof(prev));
    for (size_t i = 0; i < 4; i++) {
        int n;
        sodium_bin2hex(hex, sizeof(hex), prev, sizeof(prev));
        n = snprintf(line, sizeof(line), "{\"seq\":%zu,%s,\"prev\":\"%s\"}", i + 1, bodies[i], hex);
        audit_chain_hash(prev, line, (size_t)n, h);
        sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
        fprintf(f, "%.*s,\"hash\":\"%s\"}\n", n - 1, line, hex);
        memcpy(prev, h, sizeof(prev));
    }
    CHECK(fclose(f) == 0);
    snprintf(args, sizeof(args), "'%s'", path);
    expect_ok(args, "a log of one hash per entry");
    {
        size_t len;
        char *text = read_file_all(path, &len);
        strstr(text, "\"conn\":1")[7] = '2';
        write_file(path, text, len);
        free(text);
        expect_fail(args, 3, 3, "hash mismatch: the entry was altered");
    }
    tk_env_end(&e);
}

/* Segments: a new one each second, those older than the retention deleted, what remains verifies.
 */
static void test_segments_unit(void)
{
    struct tk_env e;
    struct audit *a = NULL;
    char path[400], err[600], args[600], seg[600];
    uint8_t eid[16] = {9};
    int64_t end = mono_ms() + 4500;
    size_t files = 0;

    tk_env_init(&e, "audit-seg");
    snprintf(path, sizeof(path), "%s/seg.audit", e.dir);
    CHECKM(audit_open(&a, path, NULL, 2, 1, test_key, err, sizeof(err)) == 0, "%s", err);
    while (mono_ms() < end) {
        audit_delivered(a, 1, eid);
        audit_flush(a);
        sleep_ms(50);
    }
    audit_close(a);
    {
        char listing[4096];
        snprintf(args, sizeof(args), "ls '%s'", e.dir);
        FILE *p = popen(args, "r");
        size_t n = fread(listing, 1, sizeof(listing) - 1, p);
        listing[n] = '\0';
        pclose(p);
        files = tk_count(listing, "seg.audit");
        CHECKM(files >= 2 && files <= 5, "segments kept: %zu\n%s", files, listing);
        CHECKM(strstr(listing, "seg.audit.000000000001") == NULL,
               "the first segment outlived a 2 s retention:\n%s", listing);
    }
    {
        size_t len;
        char *live = read_file_all(path, &len);
        CHECK(strncmp(strstr(live, "\"event\":"), "\"event\":\"segment\"", 17) == 0);
        CHECKM(strstr(live, "\"event\":\"pruned\"") != NULL ||
                   tk_count(live, "\"event\":\"segment\"") == 1,
               "no pruned entry");
        free(live);
    }
    /* The directory verifies from the first kept segment's anchor. */
    snprintf(args, sizeof(args), "'%s'", e.dir);
    expect_ok(args, "segments after pruning");
    {
        char out[4096];
        CHECK(tk_audit_verify(args, out, sizeof(out)) == 0);
        CHECKM(strstr(out,
                      "anchor 0000000000000000000000000000000000000000000000000000000000000000") ==
                   NULL,
               "the oldest segment was not pruned: %s", out);
    }
    /* Removing a whole segment between two others is caught at the next one's first entry. */
    if (files >= 3) {
        uint64_t *segs = NULL;
        size_t n = 0;
        char cmd[700], listing[4096];
        FILE *p;
        size_t got;
        char *tok;

        snprintf(cmd, sizeof(cmd), "ls '%s' | grep 'seg.audit\\.' | sort", e.dir);
        p = popen(cmd, "r");
        got = fread(listing, 1, sizeof(listing) - 1, p);
        listing[got] = '\0';
        pclose(p);
        segs = calloc(16, sizeof(*segs));
        for (tok = strtok(listing, "\n"); tok != NULL && n < 16; tok = strtok(NULL, "\n"))
            segs[n++] = strtoull(strrchr(tok, '.') + 1, NULL, 10);
        CHECK(n >= 2);
        snprintf(seg, sizeof(seg), "%s/seg.audit.%012llu", e.dir, (unsigned long long)segs[1]);
        CHECK(unlink(seg) == 0);
        {
            char want[64];
            snprintf(args, sizeof(args), "'%s'", e.dir);
            snprintf(want, sizeof(want), "FAIL at entry seq %llu (line 1 of ",
                     (unsigned long long)segs[1]);
            char out[4096];
            CHECK(tk_audit_verify(args, out, sizeof(out)) == 1);
            CHECKM(strncmp(out, want, strlen(want)) == 0 && strstr(out, "seq gap") != NULL,
                   "a missing segment: %s", out);
        }
        free(segs);
    }
    tk_env_end(&e);
}

/* ------------------------------------------------------------------ */
/* Through a relay */

static void publish_directory(wsc *a, const uint8_t *dir, size_t dir_len)
{
    Parley__Frame f = PARLEY__FRAME__INIT, *r;
    Parley__DirectoryPublish p = PARLEY__DIRECTORY_PUBLISH__INIT;

    p.directory = parley__directory__unpack(NULL, dir_len, dir);
    CHECK(p.directory != NULL);
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_PUBLISH;
    f.directory_publish = &p;
    CHECK(pc_send(a, &f) == 0);
    parley__directory__free_unpacked(p.directory, NULL);
    r = tk_expect_kind(a, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "publish");
    parley__frame__free_unpacked(r, NULL);
}

/* A request answered by the relay: everything sent before it has been read. */
static void sync_with(wsc *c)
{
    Parley__Frame f = PARLEY__FRAME__INIT, *r;
    Parley__DirectoryFetch q = PARLEY__DIRECTORY_FETCH__INIT;

    q.brand_id = "acme";
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_FETCH;
    f.directory_fetch = &q;
    CHECK(pc_send(c, &f) == 0);
    r = tk_expect_kind(c, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "fetch");
    parley__frame__free_unpacked(r, NULL);
}

#define N_ENV 4

static void test_relay(void)
{
    struct tk_env e;
    struct tk_brand b;
    parley_identity *agent = tk_identity(), *customer = tk_identity(), *away = tk_identity();
    char tag[17], sealed[N_ENV][64], name[96], audit_path[400], head[65] = {0}, args[1400];
    char copy[400];
    uint8_t *cert = NULL, *dir = NULL, rnd[8], to_agent[32], to_away[32], eids[N_ENV][16];
    size_t cert_len = 0, dir_len = 0, len = 0;
    const uint8_t *certs[1];
    size_t cert_lens[1];
    parley_directory_spec spec;
    struct lines l;
    char *text;
    wsc *a, *c;

    tk_random(rnd, sizeof(rnd));
    sodium_bin2hex(tag, sizeof(tag), rnd, sizeof(rnd));
    snprintf(name, sizeof(name), "CANARY-DISPLAYNAME-%s", tag);
    for (int i = 0; i < N_ENV; i++)
        snprintf(sealed[i], sizeof(sealed[i]), "CANARY-SEALED-%s-%d", tag, i);

    tk_env_init(&e, "audit");
    tk_brand_make(&b, "acme", e.dir);
    {
        const char *argv[] = {"--brand", b.pin_path, NULL};
        tk_env_start(&e, argv);
    }
    snprintf(audit_path, sizeof(audit_path), "%s.audit", e.relay.db);

    tk_cert(b.key, "acme", agent, "alice", name, 1, tk_now() - 60, tk_now() + 3600, &cert,
            &cert_len);
    certs[0] = cert;
    cert_lens[0] = cert_len;
    memset(&spec, 0, sizeof(spec));
    spec.brand_id = "acme";
    spec.version = 3;
    spec.certs = certs;
    spec.cert_lens = cert_lens;
    spec.n_certs = 1;
    spec.notice_text = "notice";
    spec.notice_version = 1;
    spec.issued_at = tk_now();
    CHECK(parley_directory_build(b.key, &spec, &dir, &dir_len) == PARLEY_OK);

    a = pc_connect(e.relay.port, agent, cert, cert_len);
    CHECKM(a != NULL, "agent refused");
    publish_directory(a, dir, dir_len);
    c = pc_connect(e.relay.port, customer, NULL, 0);
    CHECK(c != NULL);
    tk_agent_routing(agent, to_agent);
    tk_routing(away, to_away);
    for (int i = 0; i < N_ENV; i++) {
        tk_random(eids[i], 16);
        tk_send_acked(c, eids[i], i == 0 ? to_away : to_agent, (const uint8_t *)sealed[i],
                      strlen(sealed[i]));
    }
    for (int i = 1; i < N_ENV; i++)
        tk_expect_deliver(a, eids[i], NULL, 0, 5000);
    CHECK(pc_send_delivered(a, (const uint8_t(*)[16])eids[1], N_ENV - 1) == 0);
    sync_with(a);
    /* A failed authentication: a junk frame instead of Auth. */
    {
        wsc *bad = wsc_open(e.relay.port);
        CHECK(bad != NULL);
        CHECK(wsc_send_binary(bad, (const uint8_t *)"junk", 4) == 0);
        CHECK(wsc_wait_close(bad, 5000) == 1008);
        wsc_free(bad);
    }
    /* A customer closing with a code of its own. */
    CHECK(wsc_send_close(c, 1000) == 0);
    CHECK(wsc_wait_close(c, 5000) == 1000);
    wsc_free(c);
    sleep_ms(300); /* the deletions are committed, the close seen */
    wsc_free(a);
    CHECK(relay_stop(&e.relay, 15000) == 0);

    /* The relay's operator log names the head of the chain it closed. */
    text = read_file_all(e.relay.log, &len);
    CHECK(text != NULL);
    {
        const char *p = NULL, *q = text;
        while ((q = strstr(q, "\"event\":\"audit_closed\"")) != NULL)
            p = q++;
        CHECKM(p != NULL, "no audit_closed in the relay log");
        p = strstr(p, "\"hash\":\"");
        CHECK(p != NULL);
        memcpy(head, p + 8, 64);
    }
    free(text);

    snprintf(args, sizeof(args), "'%s'", audit_path);
    expect_ok(args, "the relay's audit log");
    snprintf(args, sizeof(args), "--expect-last-hash %s '%s'", head, audit_path);
    expect_ok(args, "the relay's audit log with its last hash");

    /* What it recorded, and what it did not. */
    text = read_file_all(audit_path, &len);
    CHECK(text != NULL);
    {
        static const char *const want[] = {
            "\"event\":\"conn_open\"",
            "\"event\":\"auth\",\"conn\":1,\"ok\":true,\"role\":\"agent\",\"brand\":0,\"who\":\"",
            "\"ok\":true,\"role\":\"customer\",\"who\":\"",
            "\"ok\":false,\"reason\":\"malformed\"",
            "\"event\":\"directory\",\"conn\":1,\"brand\":0,\"version\":3,",
            "\"event\":\"stored\",\"env\":\"",
            "\"event\":\"delivered\",\"conn\":1,\"env\":\"",
            "\"event\":\"acked\",\"env\":\"",
            "\"event\":\"conn_close\",\"conn\":2,\"code\":1000,",
            "\"code\":1008,",
            "\"event\":\"stop\"",
        };
        /* An entry's last member is followed by "prev" when it ends its batch, else by '}'. */
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
            char other[160];
            size_t n = strlen(want[i]);
            snprintf(other, sizeof(other), "%.*s}", (int)(n - 1), want[i]);
            CHECKM(tk_contains(text, len, want[i]) ||
                       (want[i][n - 1] == ',' && tk_contains(text, len, other)),
                   "not in the audit log: %s", want[i]);
        }
        CHECKM(tk_count(text, "\"event\":\"stored\"") == N_ENV, "stored entries: %zu",
               tk_count(text, "\"event\":\"stored\""));
        CHECKM(tk_count(text, "\"event\":\"acked\"") == N_ENV - 1, "acked entries");
    }
    CHECKM(!tk_contains(text, len, "CANARY-"), "content or a display name in the audit log");
    CHECKM(!tk_contains(text, len, "alice") && !tk_contains(text, len, "acme"),
           "agent or brand names in the audit log");
    {
        const parley_identity *who[] = {agent, customer, away, b.key};
        for (int i = 0; i < 4; i++) {
            char hex[65];
            uint8_t routing[32];
            sodium_bin2hex(hex, sizeof(hex), parley_identity_sign_pk(who[i]), 32);
            hex[16] = '\0';
            CHECKM(!tk_contains(text, len, hex), "a signing key in the audit log");
            tk_routing(who[i], routing);
            sodium_bin2hex(hex, sizeof(hex), routing, 32);
            hex[16] = '\0';
            CHECKM(!tk_contains(text, len, hex), "a routing id in the audit log");
            tk_agent_routing(who[i], routing);
            sodium_bin2hex(hex, sizeof(hex), routing, 32);
            hex[16] = '\0';
            CHECKM(!tk_contains(text, len, hex), "an agent routing id in the audit log");
        }
        for (int i = 0; i < N_ENV; i++) {
            char hex[33];
            sodium_bin2hex(hex, sizeof(hex), eids[i], 16);
            hex[16] = '\0';
            CHECKM(!tk_contains(text, len, hex), "an envelope id in the audit log");
        }
        CHECKM(!tk_contains(text, len, "127.0.0.1"), "an address in the audit log");
    }
    free(text);

    /* Tampering, each on a copy. */
    lines_read(&l, audit_path);
    CHECKM(l.n >= 20, "only %zu entries", l.n);
    snprintf(copy, sizeof(copy), "%s/copy.audit", e.dir);
    snprintf(args, sizeof(args), "'%s'", copy);
    {
        /* One byte of a field. */
        size_t i = 0;
        char *t, *digit;
        while (i < l.n && !tk_contains(l.at[i], l.len[i], "\"event\":\"stored\""))
            i++;
        CHECK(i < l.n);
        t = calloc(1, l.len[i] + 1);
        memcpy(t, l.at[i], l.len[i]);
        digit = strstr(t, "\"bytes\":");
        CHECK(digit != NULL);
        digit += 8;
        *digit = *digit == '9' ? '8' : (char)(*digit + 1);
        {
            FILE *f = fopen(copy, "wb");
            for (size_t j = 0; j < l.n; j++)
                CHECK(fwrite(j == i ? t : l.at[j], 1, l.len[j], f) == l.len[j]);
            CHECK(fclose(f) == 0);
        }
        free(t);
        /* Caught at the last line of its batch, whose hash covers it. */
        while (i < l.n && !tk_contains(l.at[i], l.len[i], "\"hash\":\""))
            i++;
        CHECK(i < l.n);
        expect_fail(args, line_seq(l.at[i]), i + 1, "hash mismatch");
    }
    {
        /* Two lines swapped. */
        long order[4096];
        size_t k = l.n / 2;
        for (size_t j = 0; j < l.n; j++)
            order[j] = (long)j;
        order[k] = (long)k + 1;
        order[k + 1] = (long)k;
        lines_write(&l, copy, order, l.n);
        expect_fail(args, line_seq(l.at[k]), k + 1, "reordered");
    }
    {
        /* A line deleted in the middle. */
        long order[4096];
        size_t k = l.n / 2, n = 0;
        for (size_t j = 0; j < l.n; j++)
            if (j != k)
                order[n++] = (long)j;
        lines_write(&l, copy, order, n);
        expect_fail(args, line_seq(l.at[k]), k + 1, "seq gap");
    }
    {
        /* Cut mid-line. */
        size_t total = (size_t)(l.at[l.n - 1] - l.text) + l.len[l.n - 1] / 2;
        write_file(copy, l.text, total);
        expect_fail(args, line_seq(l.at[l.n - 1]), l.n, "torn");
    }
    {
        /* The last line removed: what remains is a valid chain, but not the one the relay closed.
         */
        size_t total = (size_t)(l.at[l.n - 1] - l.text);
        write_file(copy, l.text, total);
        expect_ok(args, "the log without its last line");
        snprintf(args, sizeof(args), "--expect-last-hash %s '%s'", head, copy);
        expect_fail(args, line_seq(l.at[l.n - 1]), l.n, "truncated");
    }
    {
        /* A relay started on a log whose last line is torn repairs it and goes on with the chain.
         */
        size_t total = (size_t)(l.at[l.n - 1] - l.text) + l.len[l.n - 1];
        char *torn = malloc(total + 30);
        memcpy(torn, l.text, total);
        memcpy(torn + total, l.at[2], 30);
        write_file(audit_path, torn, total + 30);
        free(torn);
        {
            const char *argv[] = {"--brand", b.pin_path, NULL};
            tk_env_start(&e, argv);
        }
        CHECK(relay_stop(&e.relay, 15000) == 0);
        text = read_file_all(e.relay.log, &len);
        CHECKM(tk_contains(text, len, "\"repaired_bytes\":30"), "torn line not reported repaired");
        free(text);
        snprintf(args, sizeof(args), "--expect-last-hash %s '%s'", head, audit_path);
        expect_ok(args, "the log continued after a torn line");
    }
    free(l.text);
    free(cert);
    parley_free(dir, dir_len);
    parley_identity_free(agent);
    parley_identity_free(customer);
    parley_identity_free(away);
    tk_brand_free(&b);
    tk_env_end(&e);
}

/* Closed segments of the audit log at path (files "<path>.<12 digits>"). */
static size_t closed_segments(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[400];
    size_t n = 0, base_len;
    struct dirent *d;
    DIR *dp;

    CHECK(slash != NULL);
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    base_len = strlen(slash + 1);
    dp = opendir(dir);
    CHECK(dp != NULL);
    while ((d = readdir(dp)) != NULL)
        n += strncmp(d->d_name, slash + 1, base_len) == 0 && d->d_name[base_len] == '.' &&
             strlen(d->d_name + base_len + 1) == 12;
    closedir(dp);
    return n;
}

/* Starts the fake-clock relay with its clock offset_s seconds ahead, keeping the audit log at path. */
static void start_retention_relay(struct tk_env *e, const char *path, long offset_s)
{
    const char *argv[] = {"--audit-log", path, "--audit-segment", "1", "--audit-retention",
                          "15552000", NULL};
    char v[32];

    snprintf(v, sizeof(v), "%ld", offset_s);
    CHECK(setenv("PARLEY_RELAY_CLOCK_OFFSET_S", v, 1) == 0);
    tk_env_start(e, argv);
}

/*
 * The relay keeps its audit log for audit-retention (here six months, the
 * shortest it accepts), plus the segment an entry is in, on a relay whose
 * clock the test moves: a segment whose newest entry is just younger than
 * the retention stays, older ones are pruned (each recorded), and what
 * remains verifies from its anchor.
 */
static void test_relay_retention(void)
{
    const char *fake = getenv("PARLEY_RELAY_FAKECLOCK"), *real = tk_relay_bin;
    const char *const pruned[] = {"\"event\":\"audit_pruned\"", NULL};
    struct tk_env e;
    char path[400], args[600];
    parley_identity *id = tk_identity();
    size_t first, second;
    int64_t end;

    CHECKM(fake != NULL && fake[0] != '\0', "PARLEY_RELAY_FAKECLOCK is not set");
    tk_relay_bin = fake;
    tk_env_init(&e, "audit-ret");
    snprintf(path, sizeof(path), "%s/logs", e.dir);
    CHECK(mkdir(path, 0700) == 0);
    snprintf(path, sizeof(path), "%s/logs/relay-audit.log", e.dir);
    /* Today: traffic until the log has closed a few one-second segments. */
    start_retention_relay(&e, path, 0);
    end = mono_ms() + 20000;
    while (closed_segments(path) < 3 && mono_ms() < end) {
        wsc *c = pc_connect(e.relay.port, id, NULL, 0);
        CHECK(c != NULL);
        tk_roundtrip(c, id);
        wsc_free(c);
        sleep_ms(100);
    }
    CHECK(relay_stop(&e.relay, 15000) == 0);
    first = closed_segments(path);
    CHECKM(first >= 3, "only %zu segments closed", first);
    /* An hour short of six months later: all of them are kept. */
    start_retention_relay(&e, path, 15552000L - 3600);
    CHECK(relay_stop(&e.relay, 15000) == 0);
    CHECKM(relay_log_count(&e.relay, pruned) == 0, "a segment younger than six months was pruned");
    second = closed_segments(path);
    CHECK(second >= first);
    /* A minute past six months: the segments of the first day go, those of the second stay. */
    start_retention_relay(&e, path, 15552000L + 60);
    CHECK(relay_stop(&e.relay, 15000) == 0);
    CHECKM(relay_log_count(&e.relay, pruned) == (int)first, "%d segments pruned, expected %zu",
           relay_log_count(&e.relay, pruned), first);
    CHECK(closed_segments(path) >= second - first);
    CHECK(unsetenv("PARLEY_RELAY_CLOCK_OFFSET_S") == 0);
    tk_relay_bin = real;
    snprintf(args, sizeof(args), "'%s/logs'", e.dir);
    expect_ok(args, "the relay's segments after pruning");
    parley_identity_free(id);
    tk_env_end(&e);
}

/*
 * An erasure that takes several steps (more envelopes than one step
 * deletes) leaves one "erased" entry, with all it deleted: the entry is
 * committed with the step that ends it.
 */
static void test_relay_erasure(void)
{
    struct tk_env e;
    parley_identity *customer = tk_identity(), *agent = tk_identity();
    uint8_t to_customer[32], sealed[64];
    char *text;
    size_t len;
    Parley__Frame *f;
    wsc *a, *c;

    tk_env_init(&e, "audit-erasure");
    {
        const char *argv[] = {"--rate", "100000", "--burst", "100000", NULL};
        tk_env_start(&e, argv);
    }
    tk_routing(customer, to_customer);
    tk_random(sealed, sizeof(sealed));
    a = pc_connect(e.relay.port, agent, NULL, 0);
    CHECK(a != NULL);
    tk_send_many(a, 600, NULL, to_customer, sealed, sizeof(sealed));
    c = pc_connect(e.relay.port, customer, NULL, 0);
    CHECK(c != NULL);
    CHECK(pc_send_erase(c, customer, NULL, NULL, 0) == 0);
    for (;;) {
        f = pc_recv(c, 30000);
        CHECKM(f != NULL, "no answer to the erasure request");
        if (f->kind_case == PARLEY__FRAME__KIND_ERASED)
            break;
        CHECKM(f->kind_case == PARLEY__FRAME__KIND_DELIVER, "unexpected frame %d",
               (int)f->kind_case);
        parley__frame__free_unpacked(f, NULL);
    }
    CHECKM(f->erased->envelopes == 600, "erased %u", f->erased->envelopes);
    parley__frame__free_unpacked(f, NULL);
    wsc_free(a);
    wsc_free(c);
    CHECK(relay_stop(&e.relay, 15000) == 0);
    {
        char path[400];
        snprintf(path, sizeof(path), "%s.audit", e.relay.db);
        text = read_file_all(path, &len);
    }
    CHECK(text != NULL);
    CHECKM(tk_count(text, "\"event\":\"erased\"") == 1 &&
               tk_count(text, "\"envelopes\":600,\"bytes\":38400") == 1,
           "not one erased entry for all 600 envelopes");
    CHECKM(tk_count(text, "\"event\":\"stored\"") == 600, "stored entries");
    /* A commit's entries are chained together: batches of many entries, one hash each. */
    CHECKM(tk_count(text, "\"hash\":\"") * 4 < tk_count(text, "\n"), "%zu hashes for %zu entries",
           tk_count(text, "\"hash\":\""), tk_count(text, "\n"));
    free(text);
    parley_identity_free(customer);
    parley_identity_free(agent);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"chain", test_chain_unit},
        {"batches", test_batches_unit},
        {"one-hash-per-entry", test_one_hash_per_entry},
        {"segments", test_segments_unit},
        {"relay", test_relay},
        {"relay-retention", test_relay_retention},
        {"relay-erasure", test_relay_erasure},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
