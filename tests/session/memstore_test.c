/*
 * The in-memory store the core tests run on keeps the parley_store_ops
 * contract: get/put/del, scans in bytewise key order with prefixes,
 * transactions that commit or roll back whole, a crash that loses only
 * the open transaction, and the vault on top of it.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "memstore.h"
#include "vault.h"

struct seen {
    char keys[8][8];
    int n;
};

static int collect(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                   size_t val_len)
{
    struct seen *s = arg;

    (void)val;
    (void)val_len;
    CHECK(s->n < 8 && key_len < 8);
    memcpy(s->keys[s->n], key, key_len);
    s->keys[s->n][key_len] = '\0';
    s->n++;
    return 0;
}

static void put_str(const parley_store *st, const char *table, const char *key, const char *val)
{
    CHECK(st->ops->put(st->ctx, table, (const uint8_t *)key, strlen(key), (const uint8_t *)val,
                       strlen(val)) == 0);
}

static int get_str(const parley_store *st, const char *table, const char *key, char *out)
{
    uint8_t *v = NULL;
    size_t n = 0;
    int rc = st->ops->get(st->ctx, table, (const uint8_t *)key, strlen(key), &v, &n);

    if (rc == 1) {
        memcpy(out, v, n);
        out[n] = '\0';
        free(v);
    }
    return rc;
}

static void test_rows(void)
{
    struct memstore *ms = memstore_new();
    parley_store st;
    struct seen s;
    char buf[32];

    printf("memstore: rows, order, prefixes\n");
    memstore_as_store(ms, &st);
    put_str(&st, "t", "b", "2");
    put_str(&st, "t", "ab", "1");
    put_str(&st, "t", "a", "0");
    put_str(&st, "u", "a", "x");
    put_str(&st, "t", "b", "3"); /* replaces */
    CHECK(get_str(&st, "t", "b", buf) == 1 && strcmp(buf, "3") == 0);
    CHECK(get_str(&st, "t", "c", buf) == 0);
    CHECK(memstore_rows(ms, NULL) == 4 && memstore_rows(ms, "t") == 3);
    memset(&s, 0, sizeof(s));
    CHECK(st.ops->scan(st.ctx, "t", NULL, 0, collect, &s) == 0);
    CHECK(s.n == 3 && strcmp(s.keys[0], "a") == 0 && strcmp(s.keys[1], "ab") == 0 &&
          strcmp(s.keys[2], "b") == 0);
    memset(&s, 0, sizeof(s));
    CHECK(st.ops->scan(st.ctx, "t", (const uint8_t *)"a", 1, collect, &s) == 0);
    CHECK(s.n == 2);
    CHECK(st.ops->del(st.ctx, "t", (const uint8_t *)"a", 1) == 0);
    CHECK(get_str(&st, "t", "a", buf) == 0);
    memstore_free(ms);
}

static void test_transactions(void)
{
    struct memstore *ms = memstore_new();
    parley_store st;
    char buf[32];

    printf("memstore: commit, rollback, crash\n");
    memstore_as_store(ms, &st);
    put_str(&st, "t", "k", "before");
    CHECK(st.ops->begin(st.ctx) == 0);
    CHECK(st.ops->begin(st.ctx) == -1 && memstore_nested_begins(ms) == 1);
    put_str(&st, "t", "k", "during");
    put_str(&st, "t", "new", "x");
    CHECK(st.ops->rollback(st.ctx) == 0);
    CHECK(get_str(&st, "t", "k", buf) == 1 && strcmp(buf, "before") == 0);
    CHECK(get_str(&st, "t", "new", buf) == 0);
    CHECK(st.ops->begin(st.ctx) == 0);
    put_str(&st, "t", "k", "after");
    CHECK(st.ops->commit(st.ctx) == 0);
    CHECK(get_str(&st, "t", "k", buf) == 1 && strcmp(buf, "after") == 0);
    CHECK(st.ops->begin(st.ctx) == 0);
    put_str(&st, "t", "k", "lost");
    memstore_crash(ms);
    CHECK(!memstore_in_tx(ms));
    CHECK(get_str(&st, "t", "k", buf) == 1 && strcmp(buf, "after") == 0);
    memstore_free(ms);
}

static void test_vault(void)
{
    struct memstore *ms = memstore_new();
    struct parley__vault v;
    parley_store st;
    uint8_t *val = NULL;
    size_t n = 0;

    printf("memstore: the vault seals every value, a wrong passphrase is refused\n");
    memstore_as_store(ms, &st);
    CHECK_OK(parley__vault_open(&v, &st, "pass", 4, PARLEY__KDF_TEST_ONLY));
    CHECK_OK(parley__vault_put(&v, "conv", (const uint8_t *)"k", 1, (const uint8_t *)"secret", 6));
    CHECK_OK(parley__vault_get(&v, "conv", (const uint8_t *)"k", 1, &val, &n));
    CHECK(n == 6 && memcmp(val, "secret", 6) == 0);
    parley_free(val, n);
    CHECK(st.ops->get(st.ctx, "conv", (const uint8_t *)"k", 1, &val, &n) == 1);
    CHECK(memmem(val, n, "secret", 6) == NULL);
    free(val);
    parley__vault_close(&v);
    CHECK_ERR(parley__vault_open(&v, &st, "wrong", 5, PARLEY__KDF_TEST_ONLY), PARLEY_EPASSPHRASE);
    parley__vault_close(&v);
    memstore_free(ms);
}

/*
 * A store written by libparley 0.1.0 (the passphrase's salt and check
 * value, but no format mark) is refused with its own code, untouched,
 * whatever the passphrase.
 */
static void test_store_of_version_1(void)
{
    struct memstore *ms = memstore_new();
    struct parley__vault v;
    parley_store st;
    size_t rows;

    printf("memstore: a store of libparley 0.1.0 is refused (EWRONGTYPE), not rewritten\n");
    memstore_as_store(ms, &st);
    CHECK_OK(parley__vault_open(&v, &st, "pass", 4, PARLEY__KDF_TEST_ONLY));
    CHECK_OK(parley__vault_put(&v, "conv", (const uint8_t *)"k", 1, (const uint8_t *)"v1", 2));
    parley__vault_close(&v);
    /* As 0.1.0 left it. */
    CHECK(st.ops->del(st.ctx, "meta", (const uint8_t *)"format", 6) == 0);
    rows = memstore_rows(ms, NULL);
    CHECK_ERR(parley__vault_open(&v, &st, "pass", 4, PARLEY__KDF_TEST_ONLY), PARLEY_EWRONGTYPE);
    CHECK_ERR(parley__vault_open(&v, &st, "wrong", 5, PARLEY__KDF_TEST_ONLY), PARLEY_EWRONGTYPE);
    CHECK(memstore_rows(ms, NULL) == rows);
    /* Another format's mark, too. */
    CHECK(st.ops->put(st.ctx, "meta", (const uint8_t *)"format", 6,
                      (const uint8_t *)"parley/store/v9", 15) == 0);
    CHECK_ERR(parley__vault_open(&v, &st, "pass", 4, PARLEY__KDF_TEST_ONLY), PARLEY_EWRONGTYPE);
    memstore_free(ms);
}

int main(void)
{
    CHECK_OK(parley_init());
    parley__kdf_allow_test_cost();
    test_rows();
    test_transactions();
    test_vault();
    test_store_of_version_1();
    printf("ok\n");
    return 0;
}
