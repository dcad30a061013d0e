/*
 * parley_client: a parley_session (the sans-I/O protocol core) wired to
 * the libwebsockets transport, the clock and a reconnection policy, in
 * the host's thread or on a service thread. One recursive lock guards the
 * session, so callbacks run on the host thread may call back into the API.
 *
 * On a service thread, events are copied out of the session into the
 * client's own queue (its own small lock) as soon as a turn of the
 * network produced them, and the host's dispatch reads that queue: a
 * message received is in the application's hands while the service
 * thread commits it to the store (parley/session.h, "Receiving").
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "parley/client.h"
#include "transport.h"

/* The size of parley_client_config in its first version (struct_size 0). */
#define CLIENT_CONFIG_V1 (offsetof(parley_client_config, user) + sizeof(void *))

#define BACKOFF_MIN_MS 500u
#define BACKOFF_MAX_MS 30000u

/* An event copied out of the session, with what it points to. */
struct queued_event {
    parley_event ev;
    char *text;                  /* wiped when freed */
    size_t text_len;
    char *queue;
};

struct parley_client {
    char *url;
    parley_store store;
    bool own_store;
    parley_session *s;
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
    pthread_mutex_t qlock;       /* guards the queue below: service thread -> host thread */
    struct queued_event *q;
    size_t q_head, q_n, q_cap;
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

/* Hands the session's frames to the transport (the thread that services it). */
static void drain_frames(parley_client *c)
{
    const uint8_t *f;
    size_t n;

    while (parley_session_next_frame(c->s, &f, &n))
        if (parley__transport_connected(c->t))
            (void)parley__transport_send(c->t, f, n);
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

    while (parley_session_next_event(c->s, &ev))
        if (c->on_event != NULL)
            c->on_event(c->user, &ev);
}

static void queued_free(struct queued_event *e)
{
    if (e->text != NULL)
        parley_free(e->text, e->text_len + 1);
    free(e->queue);
}

/* Copies ev into a queue entry; false when out of memory. */
static bool queued_set(struct queued_event *e, const parley_event *ev)
{
    memset(e, 0, sizeof(*e));
    e->ev = *ev;
    if (ev->text != NULL) {
        e->text = malloc(ev->text_len + 1);
        if (e->text == NULL)
            return false;
        memcpy(e->text, ev->text, ev->text_len);
        e->text[ev->text_len] = '\0';
        e->text_len = ev->text_len;
        e->ev.text = e->text;
    }
    if (ev->queue != NULL && (e->queue = strdup(ev->queue)) == NULL) {
        queued_free(e);
        return false;
    }
    e->ev.queue = e->queue;
    return true;
}

/*
 * Service thread: moves the session's events to the host's queue (caller
 * holds the session lock); true when there are some. An event that cannot
 * be copied is dropped, as the session drops one it cannot queue.
 */
static bool take_events(parley_client *c)
{
    parley_event ev;
    bool any;

    pthread_mutex_lock(&c->qlock);
    while (parley_session_next_event(c->s, &ev)) {
        struct queued_event *q = c->q;

        if (c->q_head > 0 && c->q_n == c->q_cap) {
            memmove(c->q, c->q + c->q_head, (c->q_n - c->q_head) * sizeof(*c->q));
            c->q_n -= c->q_head;
            c->q_head = 0;
        }
        q = parley__grow(c->q, &c->q_cap, c->q_n + 1, sizeof(*q));
        if (q == NULL)
            continue;
        c->q = q;
        if (queued_set(&c->q[c->q_n], &ev))
            c->q_n++;
    }
    any = c->q_head < c->q_n;
    pthread_mutex_unlock(&c->qlock);
    return any;
}

/* Host thread: the queued events, oldest first, to the callback (the session lock not held). */
static void dispatch_queued(parley_client *c)
{
    for (;;) {
        struct queued_event e;

        pthread_mutex_lock(&c->qlock);
        if (c->q_head == c->q_n) {
            c->q_head = c->q_n = 0;
            pthread_mutex_unlock(&c->qlock);
            return;
        }
        e = c->q[c->q_head++];
        pthread_mutex_unlock(&c->qlock);
        if (c->on_event != NULL)
            c->on_event(c->user, &e.ev);
        queued_free(&e);
    }
}

static void on_frame(void *arg, const uint8_t *frame, size_t len)
{
    parley_client *c = arg;
    bool events = false;

    lock(c);
    parley_session_feed(c->s, frame, len, now_ms());
    if (parley_session_connected(c->s))
        c->backoff_ms = BACKOFF_MIN_MS;
    if (c->threaded)
        events = take_events(c); /* to the host now, not after the frames read with it */
    unlock(c);
    if (events)
        signal_events(c);
}

static void schedule_reconnect(parley_client *c, uint64_t now, parley_err why)
{
    uint32_t jitter = randombytes_uniform(c->backoff_ms / 2 + 1);

    /* Exponential backoff with jitter, so a relay restart is not met by everyone at once. */
    c->reconnect_at = now + c->backoff_ms / 2 + jitter;
    parley_session_closed(c->s, why, c->reconnect_at - now, now);
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

static void on_state(void *arg, int connected, int close_code)
{
    parley_client *c = arg;
    uint64_t now = now_ms();

    lock(c);
    c->connecting = false;
    if (connected)
        parley_session_opened(c->s, now);
    else if (c->want_connected)
        schedule_reconnect(c, now, close_code == 1008 ? PARLEY_EUNTRUSTED : PARLEY_EIO);
    else
        parley_session_closed(c->s, PARLEY_EIO, 0, now); /* nobody waits for this event */
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
    deadline = parley_session_deadline(c->s);
    if (deadline <= now)
        parley_session_tick(c->s, now);
    drain_frames(c);
    deadline = parley_session_deadline(c->s);
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
    dispatch_events(c); /* what arrived, before the turn commits it */
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
        wait = turn(c, 1000); /* commits what the last service took in */
        events = take_events(c);
        unlock(c);
        if (events)
            signal_events(c);
        parley__transport_service(c->t, wait);
        lock(c);
        events = take_events(c); /* to the host before the next turn commits them */
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
    if (c->threaded) {
        dispatch_queued(c);
        lock(c);
        take_events(c); /* those of the host's own calls */
        unlock(c);
        dispatch_queued(c);
    } else {
        lock(c);
        dispatch_events(c);
        unlock(c);
    }
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

/*
 * The client's session over its store: the host's, or the default sqlite
 * store at storage_path, which the client then owns. The agent's key is
 * unlocked first: a wrong passphrase must not create a store locked under
 * another.
 */
static parley_err client_session(parley_client *c, const parley_client_config *cfg)
{
    parley_session_config sc;
    parley_identity *agent = NULL;
    parley_err err = load_agent(cfg, &agent);

    if (err == PARLEY_OK && cfg->store != NULL) {
        c->store = *cfg->store;
    } else if (err == PARLEY_OK) {
        err = parley_store_sqlite_open(&c->store, cfg->storage_path);
        c->own_store = err == PARLEY_OK;
    }
    if (err == PARLEY_OK) {
        memset(&sc, 0, sizeof(sc));
        sc.struct_size = sizeof(sc);
        sc.store = &c->store;
        sc.passphrase = cfg->passphrase;
        sc.passphrase_len = cfg->passphrase_len;
        sc.kdf_cost = cfg->kdf_cost;
        sc.brand_pk = cfg->brand_pk;
        sc.brand_id = cfg->brand_id;
        sc.directory_key = cfg->directory_key;
        sc.agent_identity = agent;
        sc.agent_cert = cfg->agent_cert;
        sc.agent_cert_len = cfg->agent_cert_len;
        sc.keep_on_erasure = cfg->keep_on_erasure;
        sc.history_retention_days = cfg->history_retention_days;
        sc.publish_directory = cfg->publish_directory;
        sc.publish_directory_len = cfg->publish_directory_len;
        err = parley_session_new(&c->s, &sc, now_ms());
    }
    parley_identity_free(agent);
    return err;
}

parley_err parley_client_new(parley_client **out, const parley_client_config *config)
{
    parley_client_config copy, *cfg = &copy;
    pthread_mutexattr_t attr;
    parley_client *c;
    parley_err err;

    if (out == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    if (config == NULL || !parley__config_copy(&copy, sizeof(copy), config, CLIENT_CONFIG_V1) ||
        cfg->relay_url == NULL || cfg->brand_pk == NULL ||
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
    pthread_mutex_init(&c->qlock, NULL);
    c->url = strdup(cfg->relay_url);
    err = c->url == NULL ? PARLEY_ENOMEM : client_session(c, cfg);
    if (err == PARLEY_OK)
        err = parley__transport_new(&c->t, c->url, on_frame, on_state, c);
    if (err != PARLEY_OK) {
        parley_client_free(c);
        return err;
    }
    *out = c;
    return PARLEY_OK;
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
    parley_session_free(c->s);
    if (c->own_store)
        parley_store_close(&c->store);
    free(c->url);
    for (size_t i = c->q_head; i < c->q_n; i++)
        queued_free(&c->q[i]);
    free(c->q);
    pthread_mutex_destroy(&c->qlock);
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
    return parley_session_sign_pk(c->s);
}

int parley_client_connected(const parley_client *c)
{
    int r;

    lock(c);
    r = parley_session_connected(c->s);
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
    err = parley_session_directory(c->s, now_ms(), out);
    unlock(c);
    return err;
}

size_t parley_client_outbox_size(const parley_client *c)
{
    size_t n;

    lock(c);
    n = parley_session_outbox_size(c->s);
    unlock(c);
    return n;
}

size_t parley_client_waiting_size(const parley_client *c)
{
    size_t n;

    lock(c);
    n = parley_session_waiting_size(c->s);
    unlock(c);
    return n;
}

int parley_client_has_consent(const parley_client *c)
{
    int r;

    lock(c);
    r = parley_session_has_consent(c->s);
    unlock(c);
    return r;
}

int parley_client_consent_accepted(const parley_client *c, const char *purpose)
{
    int r;

    lock(c);
    r = parley_session_consent_accepted(c->s, purpose);
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

parley_err parley_client_consent(parley_client *c, const char *const *accepted, size_t n_accepted)
{
    CALL(c, parley_session_consent(c->s, accepted, n_accepted, now_ms()));
}

parley_err parley_client_directory_install(parley_client *c, const uint8_t *directory, size_t len)
{
    CALL(c, parley_session_directory_install(c->s, directory, len, now_ms()));
}

parley_err parley_client_withdraw_purpose(parley_client *c, const char *purpose)
{
    CALL(c, parley_session_withdraw_purpose(c->s, purpose, now_ms()));
}

parley_err parley_conversation_open(parley_client *c, const char *queue, const char *text,
                                    uint8_t conversation_id[16])
{
    CALL(c, parley_session_conversation_open(c->s, queue, text, conversation_id, now_ms()));
}

parley_err parley_conversation_send_text(parley_client *c, const uint8_t conversation_id[16],
                                          const char *text,
                            uint64_t *seq)
{
    CALL(c, parley_session_conversation_send_text(c->s, conversation_id, text, seq, now_ms()));
}

parley_err parley_conversation_claim(parley_client *c, const uint8_t conversation_id[16])
{
    CALL(c, parley_session_conversation_claim(c->s, conversation_id, now_ms()));
}

parley_err parley_conversation_transfer(parley_client *c, const uint8_t conversation_id[16],
                                        const char *agent_id)
{
    CALL(c, parley_session_conversation_transfer(c->s, conversation_id, agent_id, now_ms()));
}

parley_err parley_conversation_close(parley_client *c, const uint8_t conversation_id[16],
                                     const char *reason)
{
    CALL(c, parley_session_conversation_close(c->s, conversation_id, reason, now_ms()));
}

parley_err parley_conversation_mark_read(parley_client *c, const uint8_t conversation_id[16],
                                          uint64_t seq)
{
    CALL(c, parley_session_conversation_mark_read(c->s, conversation_id, seq, now_ms()));
}

parley_err parley_conversation_typing(parley_client *c, const uint8_t conversation_id[16],
                                       int active)
{
    CALL(c, parley_session_conversation_typing(c->s, conversation_id, active, now_ms()));
}

parley_err parley_conversation_state(const parley_client *c, const uint8_t conversation_id[16],
                                     parley_conv_state *state)
{
    parley_err err;

    if (c == NULL || state == NULL)
        return PARLEY_EINVAL;
    lock(c);
    err = parley_session_conversation_state(c->s, conversation_id, state);
    unlock(c);
    return err;
}

parley_err parley_conversation_list(parley_client *c, parley_conversation_fn fn, void *user)
{
    CALL(c, parley_session_conversation_list(c->s, fn, user));
}

parley_err parley_conversation_history(parley_client *c, const uint8_t conversation_id[16],
                                       parley_history_fn fn, void *user)
{
    CALL(c, parley_session_conversation_history(c->s, conversation_id, fn, user));
}

parley_err parley_conversation_export(parley_client *c, const uint8_t conversation_id[16],
                                      char **json, size_t *len)
{
    CALL(c, parley_session_conversation_export(c->s, conversation_id, json, len));
}

parley_err parley_conversation_special_needed(parley_client *c,
                                             const uint8_t conversation_id[16], const char *text,
                                             uint32_t *categories)
{
    CALL(c, parley_session_conversation_special_needed(c->s, conversation_id, text, categories));
}

parley_err parley_conversation_special_consent(parley_client *c,
                                              const uint8_t conversation_id[16],
                                              uint32_t categories, const char *wording)
{
    CALL(c, parley_session_conversation_special_consent(c->s, conversation_id, categories,
                                                        wording, now_ms()));
}

parley_err parley_conversation_redact(parley_client *c, const uint8_t conversation_id[16],
                                     size_t nth)
{
    CALL(c, parley_session_conversation_redact(c->s, conversation_id, nth));
}

parley_err parley_client_export_customer(parley_client *c, const uint8_t customer_sign_pk[32],
                                         char **json, size_t *len)
{
    CALL(c, parley_session_export_customer(c->s, customer_sign_pk, json, len));
}

parley_err parley_client_scan_policy(parley_client *c, const parley_scan_policy *local,
                                     parley_scan_policy *out)
{
    CALL(c, parley_session_scan_policy(c->s, local, out));
}

parley_err parley_client_record_put(parley_client *c, const uint8_t *key, size_t key_len,
                                    const uint8_t *val, size_t val_len)
{
    parley_err err;

    if (c == NULL)
        return PARLEY_EINVAL;
    lock(c);
    err = parley_session_record_put(c->s, key, key_len, val, val_len);
    unlock(c);
    return err;
}

parley_err parley_client_record_get(parley_client *c, const uint8_t *key, size_t key_len,
                                    uint8_t **val, size_t *val_len)
{
    parley_err err;

    if (c == NULL) {
        if (val != NULL && val_len != NULL) {
            *val = NULL;
            *val_len = 0;
        }
        return PARLEY_EINVAL;
    }
    lock(c);
    err = parley_session_record_get(c->s, key, key_len, val, val_len);
    unlock(c);
    return err;
}

parley_err parley_client_erase(parley_client *c)
{
    CALL(c, parley_session_erase(c->s, now_ms()));
}

parley_err parley_client_wipe(parley_client *c)
{
    CALL(c, parley_session_wipe(c->s));
}

parley_err parley_client_withdraw_consent(parley_client *c)
{
    CALL(c, parley_session_withdraw_consent(c->s, now_ms()));
}

/* The names of libparley 0.2 (parley/client.h). */
parley_err parley_send_text(parley_client *c, const uint8_t conversation_id[16], const char *text,
                            uint64_t *seq)
{
    return parley_conversation_send_text(c, conversation_id, text, seq);
}

parley_err parley_mark_read(parley_client *c, const uint8_t conversation_id[16], uint64_t seq)
{
    return parley_conversation_mark_read(c, conversation_id, seq);
}

parley_err parley_typing(parley_client *c, const uint8_t conversation_id[16], int active)
{
    return parley_conversation_typing(c, conversation_id, active);
}
