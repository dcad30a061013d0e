/*
 * parley-customer's view (customer/chat.c) fed events directly, with a
 * real client on a store in a temporary directory (never connected):
 *  - what others wrote (agents' names and texts, the brand's notice,
 *    warnings that quote them) reaches the terminal without bidirectional
 *    overrides, isolates, marks or control characters, on the transcript
 *    and on stderr alike;
 *  - the agent keys it remembers are sealed records of the client, not
 *    rows in clear: the store file holds neither the agent id nor the key;
 *  - rows in clear left by earlier versions are moved into the records,
 *    and an erasure request deletes the records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "check.h"

#define BRAND "test-shop"

/* Every invisible formatting character, UTF-8. */
static const char *const invisible[] = {
    "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x80\xae", /* 202A..E */
    "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9",                 /* 2066..9 */
    "\xe2\x80\x8e", "\xe2\x80\x8f", "\xd8\x9c",                                     /* marks */
};
#define N_INVISIBLE (sizeof(invisible) / sizeof(invisible[0]))

static char dir[] = "/tmp/parley-customer-chat-XXXXXX";

struct capture {
    char *out, *err;
    size_t out_len, err_len;
};

static void capture_open(struct chat *c, struct capture *cap)
{
    memset(cap, 0, sizeof(*cap));
    c->out = open_memstream(&cap->out, &cap->out_len);
    c->err = open_memstream(&cap->err, &cap->err_len);
    CHECK(c->out != NULL && c->err != NULL);
}

static void capture_close(struct chat *c, struct capture *cap)
{
    fclose(c->out);
    fclose(c->err);
    c->out = c->err = NULL;
    (void)cap;
}

static void capture_free(struct capture *cap)
{
    free(cap->out);
    free(cap->err);
}

static void check_clean(const char *s)
{
    for (size_t i = 0; i < N_INVISIBLE; i++)
        CHECK(strstr(s, invisible[i]) == NULL);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        CHECK(*p >= 0x20 || *p == '\n');
        CHECK(*p != 0x7f && !(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f));
    }
}

/* A string with every invisible character between the letters of word. */
static void laced(const char *word, char *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; word[i] != '\0'; i++) {
        const char *inv = invisible[i % N_INVISIBLE];
        CHECK(n + 1 + strlen(inv) < cap);
        out[n++] = word[i];
        memcpy(out + n, inv, strlen(inv));
        n += strlen(inv);
    }
    out[n] = '\0';
}

static void agent(parley_cert_info *a, const char *id, const char *name, uint8_t key_byte)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->brand_id, sizeof(a->brand_id), BRAND);
    snprintf(a->agent_id, sizeof(a->agent_id), "%s", id);
    snprintf(a->display_name, sizeof(a->display_name), "%s", name);
    memset(a->sign_pk, key_byte, 32);
}

static void event_active(struct chat *c, const parley_cert_info *a)
{
    parley_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_CONVERSATION;
    ev.state = PARLEY_CONV_ACTIVE;
    ev.sender_is_agent = 1;
    ev.agent = *a;
    memcpy(ev.conversation_id, c->conv, 16);
    chat_on_event(c, &ev);
}

/* Appends tail to the string in out (cap bytes). */
static void append(char *out, size_t cap, const char *tail)
{
    size_t n = strlen(out);

    CHECK(n + strlen(tail) < cap);
    memcpy(out + n, tail, strlen(tail) + 1);
}

static parley_client *client_open(parley_store *store, const char *name)
{
    parley_client_config cfg;
    parley_client *client = NULL;
    uint8_t brand_pk[32] = {1}, dir_key[32] = {2};
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    CHECK_OK(parley_store_sqlite_open(store, path));
    memset(&cfg, 0, sizeof(cfg));
    cfg.relay_url = "ws://127.0.0.1:9/";
    cfg.brand_pk = brand_pk;
    cfg.brand_id = BRAND;
    cfg.directory_key = dir_key;
    cfg.store = store;
    cfg.passphrase = "customer passphrase";
    cfg.passphrase_len = strlen(cfg.passphrase);
    cfg.kdf_cost = PARLEY_KDF_INTERACTIVE;
    CHECK_OK(parley_client_new(&client, &cfg));
    return client;
}

static int count_rows(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                      size_t val_len)
{
    (void)key;
    (void)key_len;
    (void)val;
    (void)val_len;
    (*(size_t *)arg)++;
    return 0;
}

static size_t rows(const parley_store *store, const char *table)
{
    size_t n = 0;

    CHECK(store->ops->scan(store->ctx, table, NULL, 0, count_rows, &n) == 0);
    return n;
}

/* 1 if needle (n bytes) occurs in the file at path (a missing file has nothing). */
static int file_has(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t len;
    int found = 0;

    if (f == NULL)
        return 0;
    buf = malloc(64u << 20);
    CHECK(buf != NULL);
    len = fread(buf, 1, 64u << 20, f);
    fclose(f);
    for (size_t i = 0; i + n <= len && !found; i++)
        found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    return found;
}

static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
#define N_SUFFIXES (sizeof(suffixes) / sizeof(suffixes[0]))

static int store_files_have(const char *name, const void *needle, size_t n)
{
    for (size_t i = 0; i < N_SUFFIXES; i++) {
        char path[160];
        snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffixes[i]);
        if (file_has(path, needle, n))
            return 1;
    }
    return 0;
}

static void store_files_remove(const char *name)
{
    for (size_t i = 0; i < N_SUFFIXES; i++) {
        char path[160];
        snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffixes[i]);
        unlink(path);
    }
}

static void test_peer_text_loses_invisible_formatting_and_controls(void)
{
    struct chat c;
    struct capture cap;
    parley_event ev;
    char name[256], text[512];

    chat_init(&c, NULL, BRAND);
    capture_open(&c, &cap);
    chat_opened(&c, (const uint8_t *)"conversation 001");
    laced("Eve gnp.exe", name, sizeof(name));
    laced("pay to account 1234", text, sizeof(text));
    append(text, sizeof(text), " \x1b[2J\xc2\x9b\x7f\xff\nsecond line");
    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_MESSAGE;
    memcpy(ev.conversation_id, c.conv, 16);
    ev.sender_is_agent = 1;
    agent(&ev.agent, "eve", name, 7);
    ev.text = text;
    ev.text_len = strlen(text);
    ev.seq = 1;
    chat_on_event(&c, &ev);
    capture_close(&c, &cap);
    check_clean(cap.out);
    CHECK(strstr(cap.out, "] Eve gnp.exe: pay to account 1234 ?[2J???\n    second line\n") !=
          NULL);
    chat_free(&c);
    capture_free(&cap);
}

static void test_notice_loses_invisible_formatting_keeps_its_lines(void)
{
    struct chat c;
    struct capture cap;
    char text[256], purpose[64];
    const char *purposes[1] = {purpose};

    chat_init(&c, NULL, BRAND);
    capture_open(&c, &cap);
    laced("We keep it", text, sizeof(text));
    append(text, sizeof(text), "\nfor 30 days.\x1b]0;owned\x07");
    laced("support", purpose, sizeof(purpose));
    chat_notice(&c, 3, text, purposes, 1);
    capture_close(&c, &cap);
    check_clean(cap.out);
    CHECK(strstr(cap.out, "version 3 (verified against the pinned brand key)\nWe keep it\n"
                          "for 30 days.?]0;owned?\n== Purposes: support\n") != NULL);
    chat_free(&c);
    capture_free(&cap);
}

/*
 * Names in status lines and in the key-change warning, on the transcript
 * and on stderr; the keys behind the warning are sealed records.
 */
static void test_agent_keys_are_sealed_records_and_warnings_clean(void)
{
    parley_store store;
    parley_client *client = client_open(&store, "sealed.db");
    struct chat c;
    struct capture cap;
    parley_cert_info a;
    char name[256];
    uint8_t key1[32], key2[32];

    chat_init(&c, NULL, BRAND);
    c.client = client;
    capture_open(&c, &cap);
    chat_opened(&c, (const uint8_t *)"conversation 002");
    laced("Alice Admin", name, sizeof(name));
    agent(&a, "alice", name, 0xa1);
    memcpy(key1, a.sign_pk, 32);
    event_active(&c, &a);
    CHECK(c.warnings == 0);
    agent(&a, "alice", name, 0xa2);
    memcpy(key2, a.sign_pk, 32);
    event_active(&c, &a);
    capture_close(&c, &cap);
    CHECK(c.warnings == 1);
    check_clean(cap.out);
    check_clean(cap.err);
    CHECK(strstr(cap.out, "* Alice Admin joined (agent alice, fingerprint ") != NULL);
    CHECK(strstr(cap.out, "the key of agent 'alice' (Alice Admin) CHANGED") != NULL);
    CHECK(strstr(cap.err, "the key of agent 'alice' (Alice Admin) CHANGED") != NULL);
    /* Neither the agent id nor either key is in the store's files; no row in clear. */
    CHECK(rows(&store, "customer_agents") == 0);
    CHECK(rows(&store, "host") == 1);
    parley_client_free(client);
    parley_store_close(&store);
    CHECK(!store_files_have("sealed.db", BRAND "/alice", strlen(BRAND "/alice")));
    CHECK(!store_files_have("sealed.db", key1, 32) && !store_files_have("sealed.db", key2, 32));
    store_files_remove("sealed.db");
    chat_free(&c);
    capture_free(&cap);
}

/* Rows an earlier version wrote in clear move into the records; erasure deletes the records. */
static void test_old_rows_moved_then_erased(void)
{
    parley_store store;
    parley_client *client;
    struct chat c;
    struct capture cap;
    parley_cert_info a;
    uint8_t bob_key[32], *val = NULL;
    size_t val_len = 0;
    const char *old_key = BRAND "/bob";

    memset(bob_key, 0xb0, 32);
    client = client_open(&store, "moved.db");
    CHECK(store.ops->put(store.ctx, "customer_agents", (const uint8_t *)old_key, strlen(old_key),
                         bob_key, 32) == 0);
    chat_init(&c, NULL, BRAND);
    c.client = client;
    CHECK(chat_move_known_agents(&c, &store) == 0);
    CHECK(rows(&store, "customer_agents") == 0);
    CHECK_OK(parley_client_record_get(client, (const uint8_t *)old_key, strlen(old_key), &val,
                                      &val_len));
    CHECK(val != NULL && val_len == 32 && memcmp(val, bob_key, 32) == 0);
    parley_free(val, val_len);
    /* Moved, it still does its job: the same key is quiet, another one warns. */
    capture_open(&c, &cap);
    chat_opened(&c, (const uint8_t *)"conversation 003");
    agent(&a, "bob", "Bob", 0xb0);
    event_active(&c, &a);
    CHECK(c.warnings == 0);
    agent(&a, "bob", "Bob", 0xb1);
    event_active(&c, &a);
    CHECK(c.warnings == 1);
    capture_close(&c, &cap);
    /* Erasure: the records go with the rest. */
    CHECK(rows(&store, "host") == 1);
    CHECK_OK(parley_client_erase(client));
    CHECK(rows(&store, "host") == 0);
    CHECK_OK(parley_client_record_get(client, (const uint8_t *)old_key, strlen(old_key), &val,
                                      &val_len));
    CHECK(val == NULL && val_len == 0);
    parley_client_free(client);
    parley_store_close(&store);
    store_files_remove("moved.db");
    chat_free(&c);
    capture_free(&cap);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    CHECK_OK(parley_init());
    test_peer_text_loses_invisible_formatting_and_controls();
    test_notice_loses_invisible_formatting_keeps_its_lines();
    test_agent_keys_are_sealed_records_and_warnings_clean();
    test_old_rows_moved_then_erased();
    CHECK(rmdir(dir) == 0);
    printf("customer chat: ok\n");
    return 0;
}
