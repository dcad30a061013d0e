/*
 * parley_client: the protocol core wired to the libwebsockets transport,
 * the clock and a reconnection policy, in the host's thread or on a
 * service thread. One recursive lock guards the core, so callbacks run on
 * the host thread may call back into the API.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "transport.h"

#define BACKOFF_MIN_MS 500u
#define BACKOFF_MAX_MS 30000u

struct parley_client {
    char *url;
    parley_store store;
    bool own_store;
    struct parley__vault vault;
    bool vault_open;
    struct parley__core *core;
    struct parley__transport *t;
    parley_event_fn on_event;
    void *user;
    bool want_connected, connecting;
    uint64_t reconnect_at;
    uint32_t backoff_ms;
    pthread_mutex_t lock;
    pthread_t thread;
    bool threaded, stop;
    int efd;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void lock(const parley_client *c)
{
    pthread_mutex_lock((pthread_mutex_t *)&c->lock);
}

static void unlock(const parley_client *c)
{
    pthread_mutex_unlock((pthread_mutex_t *)&c->lock);
}

/* Hands the core's pending frames to the transport (the thread that services it). */
static void drain_frames(parley_client *c)
{
    uint8_t *f;
    size_t n;

    while (parley__core_next_frame(c->core, &f, &n)) {
        if (parley__transport_connected(c->t))
            (void)parley__transport_send(c->t, f, n);
        free(f);
    }
}

static void signal_events(parley_client *c)
{
    uint64_t one = 1;

    if (c->threaded && c->efd >= 0)
        (void)!write(c->efd, &one, sizeof(one));
}

static void dispatch_events(parley_client *c)
{
    parley_event ev;

    while (parley__core_next_event(c->core, &ev))
        if (c->on_event != NULL)
            c->on_event(c->user, &ev);
}

static void on_frame(void *arg, const uint8_t *frame, size_t len)
{
    parley_client *c = arg;

    lock(c);
    parley__core_frame(c->core, frame, len, now_ms());
    if (parley__core_ready(c->core))
        c->backoff_ms = BACKOFF_MIN_MS;
    unlock(c);
}

static void schedule_reconnect(parley_client *c, uint64_t now, parley_err why)
{
    uint32_t jitter = randombytes_uniform(c->backoff_ms / 2 + 1);

    /* Exponential backoff with jitter, so a relay restart is not met by everyone at once. */
    c->reconnect_at = now + c->backoff_ms / 2 + jitter;
    parley__core_note_disconnect(c->core, why, c->reconnect_at - now);
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

static void on_state(void *arg, int connected, int close_code)
{
    parley_client *c = arg;
    uint64_t now = now_ms();

    lock(c);
    c->connecting = false;
    if (connected) {
        parley__core_connected(c->core, now);
    } else {
        parley__core_disconnected(c->core, now);
        if (c->want_connected)
            schedule_reconnect(c, now, close_code == 1008 ? PARLEY_EUNTRUSTED : PARLEY_EIO);
    }
    unlock(c);
}

/* One turn: reconnect when due, timers, frames out. Caller holds the lock. */
static int turn(parley_client *c, int timeout_ms)
{
    uint64_t now = now_ms(), deadline;

    if (c->want_connected && !c->connecting && !parley__transport_connected(c->t) &&
        now >= c->reconnect_at) {
        c->connecting = true;
        if (parley__transport_connect(c->t) != PARLEY_OK) {
            c->connecting = false;
            schedule_reconnect(c, now, PARLEY_EIO);
        }
    }
    deadline = parley__core_deadline(c->core);
    if (deadline <= now)
        parley__core_tick(c->core, now);
    drain_frames(c);
    deadline = parley__core_deadline(c->core);
    if (deadline != UINT64_MAX && deadline > now && deadline - now < (uint64_t)timeout_ms)
        timeout_ms = (int)(deadline - now);
    if (c->want_connected && !parley__transport_connected(c->t) && !c->connecting &&
        c->reconnect_at > now && c->reconnect_at - now < (uint64_t)timeout_ms)
        timeout_ms = (int)(c->reconnect_at - now);
    return timeout_ms < 0 ? 0 : timeout_ms;
}

void parley_client_run_once(parley_client *c, int timeout_ms)
{
    int wait;

    if (c == NULL || c->threaded)
        return;
    lock(c);
    wait = turn(c, timeout_ms);
    dispatch_events(c);
    drain_frames(c);
    unlock(c);
    parley__transport_service(c->t, wait);
    lock(c);
    turn(c, 0);
    dispatch_events(c);
    drain_frames(c);
    unlock(c);
}

static void *service_main(void *arg)
{
    parley_client *c = arg;

    for (;;) {
        int wait;
        bool events;

        lock(c);
        if (c->stop) {
            unlock(c);
            break;
        }
        wait = turn(c, 1000);
        events = parley__core_has_events(c->core);
        unlock(c);
        if (events)
            signal_events(c);
        parley__transport_service(c->t, wait);
        lock(c);
        events = parley__core_has_events(c->core);
        unlock(c);
        if (events)
            signal_events(c);
    }
    return NULL;
}

parley_err parley_client_start_thread(parley_client *c)
{
    if (c == NULL || c->threaded)
        return PARLEY_EINVAL;
    c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->efd < 0)
        return PARLEY_EIO;
    c->threaded = true;
    if (pthread_create(&c->thread, NULL, service_main, c) != 0) {
        c->threaded = false;
        close(c->efd);
        c->efd = -1;
        return PARLEY_ENOMEM;
    }
    return PARLEY_OK;
}

int parley_client_event_fd(const parley_client *c)
{
    return c != NULL && c->threaded ? c->efd : -1;
}

void parley_client_dispatch(parley_client *c)
{
    uint64_t v;

    if (c == NULL)
        return;
    if (c->efd >= 0)
        (void)!read(c->efd, &v, sizeof(v));
    lock(c);
    dispatch_events(c);
    unlock(c);
    parley_client_wake(c);
}

void parley_client_wake(parley_client *c)
{
    if (c != NULL && c->t != NULL)
        parley__transport_wake(c->t);
}

/* After an API call: let the network thread send what it produced. */
static parley_err after_call(parley_client *c, parley_err err)
{
    if (c->threaded)
        parley__transport_wake(c->t);
    return err;
}

static parley_err load_agent(const parley_client_config *cfg, parley_identity **id)
{
    *id = NULL;
    if (cfg->agent_key == NULL)
        return PARLEY_OK;
    if (cfg->agent_cert == NULL || cfg->key_passphrase == NULL)
        return PARLEY_EINVAL;
    return parley_identity_import(id, cfg->agent_key, cfg->agent_key_len, cfg->key_passphrase,
                                  cfg->key_passphrase_len, NULL, 0);
}

parley_err parley_client_new(parley_client **out, const parley_client_config *cfg)
{
    struct parley__core_config cc;
    parley_identity *agent = NULL;
    pthread_mutexattr_t attr;
    parley_client *c;
    parley_err err;

    if (out == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    if (cfg == NULL || cfg->relay_url == NULL || cfg->brand_pk == NULL ||
        cfg->directory_key == NULL ||
        !parley_id_valid(cfg->brand_id) || cfg->passphrase == NULL ||
        (cfg->store == NULL && cfg->storage_path == NULL))
        return PARLEY_EINVAL;
    if (parley_init() != PARLEY_OK)
        return PARLEY_ENOMEM;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return PARLEY_ENOMEM;
    c->efd = -1;
    c->backoff_ms = BACKOFF_MIN_MS;
    c->on_event = cfg->on_event;
    c->user = cfg->user;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&c->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    c->url = strdup(cfg->relay_url);
    if (c->url == NULL) {
        err = PARLEY_ENOMEM;
        goto fail;
    }
    /* The agent key first: a wrong passphrase must not create a store locked under it. */
    err = load_agent(cfg, &agent);
    if (err != PARLEY_OK)
        goto fail;
    if (cfg->store != NULL) {
        c->store = *cfg->store;
    } else {
        err = parley_store_sqlite_open(&c->store, cfg->storage_path);
        if (err != PARLEY_OK)
            goto fail;
        c->own_store = true;
    }
    err = parley__vault_open(&c->vault, &c->store, cfg->passphrase, cfg->passphrase_len,
                             cfg->kdf_cost);
    if (err != PARLEY_OK)
        goto fail;
    c->vault_open = true;
    memset(&cc, 0, sizeof(cc));
    cc.vault = &c->vault;
    cc.brand_pk = cfg->brand_pk;
    cc.brand_id = cfg->brand_id;
    cc.directory_key = cfg->directory_key;
    cc.agent_id = agent;
    cc.agent_cert = cfg->agent_cert;
    cc.agent_cert_len = cfg->agent_cert_len;
    cc.publish_directory = cfg->publish_directory;
    cc.publish_directory_len = cfg->publish_directory_len;
    cc.keep_on_erasure = cfg->keep_on_erasure != 0;
    cc.history_retention_ms = (uint64_t)cfg->history_retention_days * 24 * 3600 * 1000;
    err = parley__core_new(&c->core, &cc, now_ms());
    parley_identity_free(agent);
    agent = NULL;
    if (err != PARLEY_OK)
        goto fail;
    err = parley__transport_new(&c->t, c->url, on_frame, on_state, c);
    if (err != PARLEY_OK)
        goto fail;
    *out = c;
    return PARLEY_OK;
fail:
    parley_identity_free(agent);
    parley_client_free(c);
    return err;
}

void parley_client_free(parley_client *c)
{
    if (c == NULL)
        return;
    if (c->threaded) {
        lock(c);
        c->stop = true;
        unlock(c);
        parley__transport_wake(c->t);
        pthread_join(c->thread, NULL);
        close(c->efd);
    }
    c->want_connected = false;
    parley__transport_free(c->t);
    parley__core_free(c->core);
    if (c->vault_open)
        parley__vault_close(&c->vault);
    if (c->own_store)
        c->store.ops->close(c->store.ctx);
    free(c->url);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

parley_err parley_client_connect(parley_client *c)
{
    if (c == NULL)
        return PARLEY_EINVAL;
    lock(c);
    c->want_connected = true;
    c->reconnect_at = 0;
    unlock(c);
    return after_call(c, PARLEY_OK);
}

const uint8_t *parley_client_sign_pk(const parley_client *c)
{
    return parley__core_sign_pk(c->core);
}

int parley_client_connected(const parley_client *c)
{
    int r;

    lock(c);
    r = parley__core_ready(c->core);
    unlock(c);
    return r;
}

parley_err parley_client_directory(const parley_client *c, parley_directory **out)
{
    parley_err err;

    if (out == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    if (c == NULL)
        return PARLEY_EINVAL;
    lock(c);
    err = parley__core_directory_ref(c->core, now_ms(), out);
    unlock(c);
    return err;
}

size_t parley_client_outbox_size(const parley_client *c)
{
    size_t n;

    lock(c);
    n = parley__core_outbox_size(c->core);
    unlock(c);
    return n;
}

int parley_client_has_consent(const parley_client *c)
{
    int r;

    lock(c);
    r = parley__core_has_consent(c->core);
    unlock(c);
    return r;
}

/* Every mutating call: the lock, the core, then a wake for the network thread. */
#define CALL(c, expr)                                                                              \
    do {                                                                                           \
        parley_err err_;                                                                           \
        if ((c) == NULL)                                                                           \
            return PARLEY_EINVAL;                                                                  \
        lock(c);                                                                                   \
        err_ = (expr);                                                                             \
        unlock(c);                                                                                 \
        return after_call((c), err_);                                                              \
    } while (0)

parley_err parley_client_consent(parley_client *c)
{
    CALL(c, parley__core_consent(c->core, now_ms()));
}

parley_err parley_conversation_open(parley_client *c, const char *queue, const char *text,
                                    uint8_t conversation_id[16])
{
    CALL(c, parley__core_open(c->core, queue, text, conversation_id, now_ms()));
}

parley_err parley_send_text(parley_client *c, const uint8_t conversation_id[16], const char *text,
                            uint64_t *seq)
{
    CALL(c, parley__core_send_text(c->core, conversation_id, text, seq, now_ms()));
}

parley_err parley_conversation_claim(parley_client *c, const uint8_t conversation_id[16])
{
    CALL(c, parley__core_claim(c->core, conversation_id, now_ms()));
}

parley_err parley_conversation_transfer(parley_client *c, const uint8_t conversation_id[16],
                                        const char *agent_id)
{
    CALL(c, parley__core_transfer(c->core, conversation_id, agent_id, now_ms()));
}

parley_err parley_conversation_close(parley_client *c, const uint8_t conversation_id[16],
                                     const char *reason)
{
    CALL(c, parley__core_close(c->core, conversation_id, reason, now_ms()));
}

parley_err parley_mark_read(parley_client *c, const uint8_t conversation_id[16], uint64_t seq)
{
    CALL(c, parley__core_mark_read(c->core, conversation_id, seq, now_ms()));
}

parley_err parley_typing(parley_client *c, const uint8_t conversation_id[16], int active)
{
    CALL(c, parley__core_typing(c->core, conversation_id, active, now_ms()));
}

parley_err parley_conversation_state(const parley_client *c, const uint8_t conversation_id[16],
                                     parley_conv_state *state)
{
    parley_err err;

    if (c == NULL || state == NULL)
        return PARLEY_EINVAL;
    lock(c);
    err = parley__core_state(c->core, conversation_id, state);
    unlock(c);
    return err;
}

parley_err parley_conversation_list(parley_client *c, parley_conversation_fn fn, void *user)
{
    CALL(c, parley__core_list(c->core, fn, user));
}

parley_err parley_conversation_history(parley_client *c, const uint8_t conversation_id[16],
                                       parley_history_fn fn, void *user)
{
    CALL(c, parley__core_history(c->core, conversation_id, fn, user));
}

parley_err parley_conversation_export(parley_client *c, const uint8_t conversation_id[16],
                                      char **json, size_t *len)
{
    CALL(c, parley__core_export(c->core, conversation_id, json, len));
}

/* ---- the host's records ---- */

#define HOST_TABLE "host"
#define HOST_KEY_MAX 256u
#define HOST_VALUE_MAX 65536u

/* The row of a host key: a hash keyed from the store key, so the store learns no name. */
static void host_row(const parley_client *c, const uint8_t *key, size_t key_len, uint8_t row[32])
{
    static const uint8_t label[] = "parley/host-record-row/v1";
    uint8_t k[32];

    crypto_generichash(k, sizeof(k), label, sizeof(label), c->vault.key, 32);
    crypto_generichash(row, 32, key, key_len, k, sizeof(k));
    sodium_memzero(k, sizeof(k));
}

parley_err parley_client_record_put(parley_client *c, const uint8_t *key, size_t key_len,
                                    const uint8_t *val, size_t val_len)
{
    static const uint8_t none[1];
    uint8_t row[32];
    parley_err err;

    if (c == NULL || key == NULL || key_len == 0 || key_len > HOST_KEY_MAX ||
        (val == NULL && val_len > 0) || val_len > HOST_VALUE_MAX)
        return PARLEY_EINVAL;
    lock(c);
    host_row(c, key, key_len, row);
    err = parley__vault_put(&c->vault, HOST_TABLE, row, sizeof(row), val != NULL ? val : none,
                            val_len);
    unlock(c);
    return err;
}

parley_err parley_client_record_get(parley_client *c, const uint8_t *key, size_t key_len,
                                    uint8_t **val, size_t *val_len)
{
    uint8_t row[32];
    parley_err err;

    if (val == NULL || val_len == NULL)
        return PARLEY_EINVAL;
    *val = NULL;
    *val_len = 0;
    if (c == NULL || key == NULL || key_len == 0 || key_len > HOST_KEY_MAX)
        return PARLEY_EINVAL;
    lock(c);
    host_row(c, key, key_len, row);
    err = parley__vault_get(&c->vault, HOST_TABLE, row, sizeof(row), val, val_len);
    unlock(c);
    if (err == PARLEY_EINVAL) /* no such row */
        err = PARLEY_OK;
    return err;
}

struct host_rows {
    uint8_t (*v)[32];
    size_t n, cap;
    bool failed;
};

static int collect_host_row(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                            size_t val_len)
{
    struct host_rows *r = arg;
    uint8_t(*grown)[32];

    (void)val;
    (void)val_len;
    if (key_len != 32)
        return 0; /* not a row this library wrote */
    grown = parley__grow(r->v, &r->cap, r->n + 1, sizeof(*grown));
    if (grown == NULL) {
        r->failed = true;
        return 1;
    }
    r->v = grown;
    memcpy(r->v[r->n++], key, 32);
    return 0;
}

/* Deletes every host record, in one transaction; undecryptable ones too. */
static parley_err host_clear(parley_client *c)
{
    struct host_rows r = {NULL, 0, 0, false};
    parley_err err = PARLEY_OK;

    if (c->store.ops->scan(c->store.ctx, HOST_TABLE, NULL, 0, collect_host_row, &r) != 0)
        err = PARLEY_EIO;
    else if (r.failed)
        err = PARLEY_ENOMEM;
    if (err == PARLEY_OK && r.n > 0) {
        err = parley__vault_begin(&c->vault);
        for (size_t i = 0; err == PARLEY_OK && i < r.n; i++)
            err = parley__vault_del(&c->vault, HOST_TABLE, r.v[i], 32);
        if (err == PARLEY_OK)
            err = parley__vault_commit(&c->vault);
        else
            parley__vault_rollback(&c->vault);
    }
    free(r.v);
    return err;
}

/* After a successful erasure request: the host's records go too. */
static parley_err erase_host(parley_client *c, parley_err err)
{
    return err == PARLEY_OK ? host_clear(c) : err;
}

parley_err parley_client_erase(parley_client *c)
{
    CALL(c, erase_host(c, parley__core_erase(c->core, now_ms())));
}

parley_err parley_client_withdraw_consent(parley_client *c)
{
    CALL(c, erase_host(c, parley__core_withdraw_consent(c->core, now_ms())));
}
