/*
 * The widget's C glue without a browser (natively and, in the wasm build,
 * under Node): the in-memory store against the store interface's promises
 * (ordered prefix scans, transactions that roll back exactly, writes seen
 * by scans in progress) and its journal (one batch per commit or write
 * outside a transaction, none before persisting, every row at persisting,
 * rows that load back only under their own id); a session kept across a
 * restart through the batches alone, as the page keeps it in IndexedDB;
 * and the JSON the page reads (others' text shown as Parley clients show
 * it, guard offsets in UTF-16 units).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/parley.h>
#include <sodium.h>

#include "glue.h"
#include "json.h"
#include "store.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* IndexedDB as the page keeps it: row id -> row, written batch by batch. */
#define DISK_MAX 512
static struct {
    uint8_t id[WIDGET_ROW_ID_BYTES];
    uint8_t *row;
    size_t len;
} disk[DISK_MAX];
static size_t disk_n;

static void disk_clear(void)
{
    for (size_t i = 0; i < disk_n; i++)
        free(disk[i].row);
    disk_n = 0;
}

/* Applies one batch; returns its record count, -1 if malformed. */
static int disk_apply(const uint8_t *b, size_t len)
{
    size_t i = 0;
    int records = 0;

    while (i < len) {
        uint8_t op;
        const uint8_t *id;
        uint32_t rlen;
        size_t k;

        if (len - i < 1 + WIDGET_ROW_ID_BYTES + 4)
            return -1;
        op = b[i];
        id = b + i + 1;
        rlen = (uint32_t)b[i + 17] | (uint32_t)b[i + 18] << 8 | (uint32_t)b[i + 19] << 16 |
               (uint32_t)b[i + 20] << 24;
        i += 1 + WIDGET_ROW_ID_BYTES + 4;
        if (len - i < rlen || (op != WIDGET_BATCH_PUT && op != WIDGET_BATCH_DEL) ||
            (op == WIDGET_BATCH_DEL && rlen != 0))
            return -1;
        for (k = 0; k < disk_n && memcmp(disk[k].id, id, WIDGET_ROW_ID_BYTES) != 0; k++)
            ;
        if (op == WIDGET_BATCH_DEL) {
            if (k < disk_n) {
                free(disk[k].row);
                disk[k] = disk[--disk_n];
            }
        } else {
            if (k == disk_n) {
                if (disk_n == DISK_MAX)
                    return -1;
                memcpy(disk[disk_n++].id, id, WIDGET_ROW_ID_BYTES);
            } else {
                free(disk[k].row);
            }
            disk[k].row = malloc(rlen + 1);
            memcpy(disk[k].row, b + i, rlen);
            disk[k].len = rlen;
        }
        i += rlen;
        records++;
    }
    return records;
}

/* Takes every batch; returns how many there were (their records in *records). */
static int take_batches(int *records)
{
    const uint8_t *p;
    size_t len;
    int n = 0;

    *records = 0;
    while (widget_store_next_batch(&p, &len)) {
        int r = disk_apply(p, len);

        CHECK(r > 0);
        *records += r;
        n++;
    }
    return n;
}

struct seen {
    char keys[16][8];
    size_t n;
    const parley_store *st;
};

static int collect(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                   size_t val_len)
{
    struct seen *s = arg;

    (void)val;
    (void)val_len;
    if (s->n < 16 && key_len < 8) {
        memcpy(s->keys[s->n], key, key_len);
        s->keys[s->n][key_len] = '\0';
        s->n++;
    }
    /* Writing while the scan is on: deleting what was seen, adding behind. */
    if (key_len == 2 && memcmp(key, "b1", 2) == 0) {
        CHECK(s->st->ops->del(s->st->ctx, "t", (const uint8_t *)"b1", 2) == 0);
        CHECK(s->st->ops->put(s->st->ctx, "t", (const uint8_t *)"b3", 2, (const uint8_t *)"x", 1) ==
              0);
    }
    return 0;
}

static void put(const parley_store *st, const char *table, const char *key, const char *val)
{
    CHECK(st->ops->put(st->ctx, table, (const uint8_t *)key, strlen(key), (const uint8_t *)val,
                       strlen(val)) == 0);
}

/* 1 with the value equal to want, 0 absent. */
static int has(const parley_store *st, const char *table, const char *key, const char *want)
{
    uint8_t *val = NULL;
    size_t len = 0;
    int rc = st->ops->get(st->ctx, table, (const uint8_t *)key, strlen(key), &val, &len);
    int ok = rc == 1 && want != NULL && len == strlen(want) && memcmp(val, want, len) == 0;

    free(val);
    return rc == 0 ? 0 : ok ? 1 : -1;
}

static void test_store(void)
{
    const parley_store *st = widget_store();
    uint8_t key[32];
    struct seen s = {.n = 0, .st = st};
    int records;

    widget_store_reset();
    randombytes_buf(key, sizeof(key));
    /* Before persisting: a store in memory only, no batch. */
    put(st, "t", "b2", "2");
    put(st, "t", "a", "0");
    put(st, "t", "b1", "1");
    put(st, "t", "c", "3");
    put(st, "u", "b0", "other table");
    CHECK(take_batches(&records) == 0);
    CHECK(widget_store_rows(NULL) == 5 && widget_store_rows("t") == 4);

    /* Prefix scans in bytewise order, seeing writes made during the scan. */
    CHECK(st->ops->scan(st->ctx, "t", (const uint8_t *)"b", 1, collect, &s) == 0);
    CHECK(s.n == 3 && strcmp(s.keys[0], "b1") == 0 && strcmp(s.keys[1], "b2") == 0 &&
          strcmp(s.keys[2], "b3") == 0);
    CHECK(has(st, "t", "b1", NULL) == 0 && has(st, "t", "b3", "x") == 1);

    /* Persisting: every row in one batch; then each write outside a transaction is one. */
    CHECK(widget_store_persist(key) == 0);
    CHECK(take_batches(&records) == 1 && records == 5);
    put(st, "t", "d", "4");
    CHECK(st->ops->del(st->ctx, "t", (const uint8_t *)"a", 1) == 0);
    CHECK(take_batches(&records) == 2 && records == 2);

    /* A transaction: one batch at commit; a rollback puts every row back and makes none. */
    CHECK(st->ops->begin(st->ctx) == 0);
    CHECK(st->ops->begin(st->ctx) == -1);
    put(st, "t", "e", "5");
    put(st, "t", "b2", "changed");
    CHECK(take_batches(&records) == 0);
    CHECK(st->ops->commit(st->ctx) == 0);
    CHECK(take_batches(&records) == 1 && records == 2);
    CHECK(st->ops->begin(st->ctx) == 0);
    put(st, "t", "b2", "again");
    put(st, "t", "b2", "and again");
    CHECK(st->ops->del(st->ctx, "t", (const uint8_t *)"c", 1) == 0);
    put(st, "t", "f", "new");
    CHECK(st->ops->del(st->ctx, "t", (const uint8_t *)"f", 1) == 0);
    put(st, "v", "g", "new table");
    CHECK(st->ops->rollback(st->ctx) == 0);
    CHECK(take_batches(&records) == 0);
    CHECK(has(st, "t", "b2", "changed") == 1 && has(st, "t", "c", "3") == 1 &&
          has(st, "t", "f", NULL) == 0 && has(st, "v", "g", NULL) == 0);
    CHECK(st->ops->commit(st->ctx) == -1 && st->ops->rollback(st->ctx) == -1);

    /* What the disk holds loads back to the same rows, and only under their own ids. */
    size_t rows = widget_store_rows(NULL);
    CHECK(disk_n == rows);
    widget_store_reset();
    CHECK(widget_store_persist(key) == 0);
    for (size_t i = 0; i < disk_n; i++)
        CHECK(widget_store_load(disk[i].id, disk[i].row, disk[i].len) == 0);
    CHECK(widget_store_rows(NULL) == rows && has(st, "t", "b2", "changed") == 1 &&
          has(st, "u", "b0", "other table") == 1 && has(st, "t", "a", NULL) == 0);
    CHECK(take_batches(&records) == 0);
    CHECK(disk_n >= 2 && widget_store_load(disk[1].id, disk[0].row, disk[0].len) == -1);
    CHECK(widget_store_load(disk[0].id, disk[0].row, 3) == -1);
    key[0] ^= 1; /* another installation's key: its ids are not these */
    widget_store_reset();
    CHECK(widget_store_persist(key) == 0);
    CHECK(widget_store_load(disk[0].id, disk[0].row, disk[0].len) == -1);
    widget_store_reset();
    disk_clear();
}

/* A session's state kept by batches alone: the same identity after a restart. */
static void test_session(void)
{
    uint8_t secret[32], other[32], pk[32], brand[32], dir_key[32];
    char pin[PARLEY_PIN_MAX + 1], b_hex[65], d_hex[65];
    int records;
    size_t rows;

    randombytes_buf(secret, sizeof(secret));
    randombytes_buf(other, sizeof(other));
    randombytes_buf(brand, sizeof(brand));
    randombytes_buf(dir_key, sizeof(dir_key));
    sodium_bin2hex(b_hex, sizeof(b_hex), brand, 32);
    sodium_bin2hex(d_hex, sizeof(d_hex), dir_key, 32);
    snprintf(pin, sizeof(pin), "parley-brand-v1 glue-shop %s %s\n", b_hex, d_hex);

    CHECK(parley_widget_session_start(pin, strlen(pin), 1.8e12) == PARLEY_EINVAL); /* no keys */
    CHECK(parley_widget_keys(secret, sizeof(secret)) == PARLEY_OK);
    CHECK(parley_widget_store_persist() == PARLEY_OK);
    CHECK(parley_widget_session_start(pin, strlen(pin), 1.8e12) == PARLEY_OK);
    CHECK(parley_widget_record_put((const uint8_t *)"k", 1, (const uint8_t *)"v", 1) == PARLEY_OK);
    memcpy(pk, parley_session_sign_pk(widget_session()), 32);
    CHECK(take_batches(&records) > 0);
    rows = widget_store_rows(NULL);
    parley_widget_session_end();
    CHECK(widget_store_rows(NULL) == 0 && disk_n == rows);

    /* The page starts again: keys, rows from the disk, the session. */
    CHECK(parley_widget_keys(secret, sizeof(secret)) == PARLEY_OK);
    CHECK(parley_widget_store_persist() == PARLEY_OK);
    for (size_t i = 0; i < disk_n; i++)
        CHECK(parley_widget_store_load(disk[i].id, disk[i].row, disk[i].len) == PARLEY_OK);
    CHECK(parley_widget_session_start(pin, strlen(pin), 1.8e12) == PARLEY_OK);
    CHECK(sodium_memcmp(pk, parley_session_sign_pk(widget_session()), 32) == 0);
    CHECK(parley_widget_record_get((const uint8_t *)"k", 1) == PARLEY_OK &&
          parley_widget_out_len() == 1 && *(const char *)parley_widget_out_ptr() == 'v');
    parley_widget_session_end();

    /* Another secret: the rows are not its own. */
    CHECK(parley_widget_keys(other, sizeof(other)) == PARLEY_OK);
    CHECK(parley_widget_store_persist() == PARLEY_OK);
    CHECK(parley_widget_store_load(disk[0].id, disk[0].row, disk[0].len) == PARLEY_EIO);
    parley_widget_session_end();
    /* A relay pin cannot open the directory: refused. */
    snprintf(pin, sizeof(pin), "parley-brand-v1 glue-shop %s\n", b_hex);
    CHECK(parley_widget_keys(secret, sizeof(secret)) == PARLEY_OK);
    CHECK(parley_widget_session_start(pin, strlen(pin), 1.8e12) == PARLEY_EWRONGTYPE);
    parley_widget_session_end();
    disk_clear();
}

static void test_json(void)
{
    struct json j = {0};
    /* A peer's text: a bidi override dropped, invalid bytes as U+FFFD, controls escaped. */
    static const char peer[] = "a\xe2\x80\xae"
                               "b\xff\"\\\n\x01"
                               "c";
    const char *r;

    json_text(&j, peer, sizeof(peer) - 1, true);
    CHECK(strcmp(j.p, "\"ab\xef\xbf\xbd\\\"\\\\\\u000a\\u0001c\"") == 0);
    json_reset(&j);
    json_text(&j, peer, sizeof(peer) - 1, false);
    CHECK(strstr(j.p, "\xe2\x80\xae") != NULL);
    json_free(&j);

    /* Guard offsets in UTF-16 units: the emoji before the card counts two. */
    CHECK(parley_widget_guard_policy(NULL) == PARLEY_OK);
    r = parley_widget_scan("\xf0\x9f\x98\x80 4111 1111 1111 1111", 24);
    CHECK(r != NULL && strstr(r, "\"category\":\"card\",\"start\":3,\"end\":22") != NULL &&
          strstr(r, "\"action\":\"redact\"") != NULL && strstr(r, "[card]") != NULL);
    r = parley_widget_scan("rien", 4);
    CHECK(r != NULL && strcmp(r, "{\"findings\":[],\"verdict\":\"pass\"}") == 0);
    uint8_t bad[PARLEY_SCAN_CATEGORY_COUNT] = {0};
    bad[3] = 9;
    CHECK(parley_widget_guard_policy(bad) == PARLEY_EINVAL);
    memset(bad, WIDGET_GUARD_BLOCK, sizeof(bad));
    CHECK(parley_widget_guard_policy(bad) == PARLEY_OK);
    r = parley_widget_scan("4111 1111 1111 1111", 19);
    CHECK(r != NULL && strstr(r, "\"verdict\":\"blocked\"") != NULL);
    CHECK(parley_widget_scan("x", PARLEY_MAX_TEXT + 1) == NULL);
}

int main(void)
{
    if (parley_widget_init() != PARLEY_OK)
        return 1;
    test_store();
    test_session();
    test_json();
    if (failures > 0) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("widget glue: ok\n");
    return 0;
}
