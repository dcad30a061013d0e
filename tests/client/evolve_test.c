/*
 * How the client's API evolves without breaking its callers, checked on
 * the shared library as an application links it: the names of 0.2
 * (parley_send_text, parley_mark_read, parley_typing) still link and act
 * as the object-prefixed ones; parley_client_config's struct_size (0: the
 * first version; a newer caller's struct only with the fields this
 * library does not know left zero); parley_store_close.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"

/* A store that refuses every read: a client made over it fails at the store, after its config. */
static int closed;

static int st_fail(void *ctx)
{
    return -1;
}

static int st_get(void *ctx, const char *table, const uint8_t *key, size_t key_len, uint8_t **val,
                  size_t *val_len)
{
    return -1;
}

static void st_close(void *ctx)
{
    closed++;
}

static const parley_store_ops failing_ops = {
    .begin = st_fail,
    .commit = st_fail,
    .rollback = st_fail,
    .get = st_get,
    .close = st_close,
};

static void old_names(void)
{
    uint8_t conv[16] = {0};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    CHECK_ERR(parley_send_text(NULL, conv, "bonjour", NULL), PARLEY_EINVAL);
    CHECK_ERR(parley_mark_read(NULL, conv, 1), PARLEY_EINVAL);
    CHECK_ERR(parley_typing(NULL, conv, 1), PARLEY_EINVAL);
#pragma GCC diagnostic pop
    CHECK_ERR(parley_conversation_send_text(NULL, conv, "bonjour", NULL), PARLEY_EINVAL);
    CHECK_ERR(parley_conversation_mark_read(NULL, conv, 1), PARLEY_EINVAL);
    CHECK_ERR(parley_conversation_typing(NULL, conv, 1), PARLEY_EINVAL);
}

static void config_sizes(void)
{
    static const uint8_t key[32] = {1};
    parley_store store = {&failing_ops, NULL};
    struct {
        parley_client_config cfg;
        uint64_t newer_option;
    } newer;
    parley_client_config cfg;
    parley_client *c = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.relay_url = "ws://127.0.0.1:9/";
    cfg.brand_pk = key;
    cfg.brand_id = "acme";
    cfg.directory_key = key;
    cfg.store = &store;
    cfg.passphrase = "pass";
    cfg.passphrase_len = 4;
    /* Past the config, the store's refusal: PARLEY_EIO. */
    CHECK_ERR(parley_client_new(&c, &cfg), PARLEY_EIO); /* struct_size 0 */
    cfg.struct_size = sizeof(cfg);
    CHECK_ERR(parley_client_new(&c, &cfg), PARLEY_EIO);
    cfg.struct_size = 2 * sizeof(void *); /* shorter than any version */
    CHECK_ERR(parley_client_new(&c, &cfg), PARLEY_EINVAL);
    CHECK(c == NULL);
    memset(&newer, 0, sizeof(newer));
    newer.cfg = cfg;
    newer.cfg.struct_size = sizeof(newer);
    CHECK_ERR(parley_client_new(&c, &newer.cfg), PARLEY_EIO);
    newer.newer_option = 7; /* an option this library does not know: refused, not ignored */
    CHECK_ERR(parley_client_new(&c, &newer.cfg), PARLEY_EINVAL);
    CHECK(closed == 0); /* the host's store is the host's to close */
}

static void store_close(void)
{
    parley_store store = {&failing_ops, NULL};

    parley_store_close(&store);
    CHECK(closed == 1 && store.ops == NULL && store.ctx == NULL);
    parley_store_close(&store);
    parley_store_close(NULL);
    CHECK(closed == 1);
}

int main(void)
{
    CHECK_OK(parley_init());
    old_names();
    config_sizes();
    store_close();
    return 0;
}
