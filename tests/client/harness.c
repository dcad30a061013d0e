/*
 * Client session test harness (see harness.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "people.h"
#include "relayproc.h"

char h_dir[256];
int h_port;
bool h_tls;
bool h_keep_on_erasure;
const parley_store *h_store;
static struct relay_proc relay;

void h_directory(struct h_brand *b, uint64_t version, uint32_t notice_version,
                 const char *notice)
{
    static const char *const support[] = {"alice", "bob"};
    parley_queue_spec q[2];
    parley_directory_spec spec;

    people_directory_spec(&spec, q, version, (uint64_t)time(NULL),
                          (const uint8_t *const *)b->certs, b->cert_lens, (size_t)b->n_agents,
                          support, 2);
    spec.notice_text = notice;
    spec.notice_version = notice_version;
    parley_free(b->directory, b->directory_len);
    b->directory = NULL;
    CHECK_OK(parley_directory_build(b->brand, &spec, &b->directory, &b->directory_len));
}

void h_setup(struct h_brand *b)
{
    uint64_t now = (uint64_t)time(NULL);
    char path[320];

    CHECK_OK(parley_init());
    parley__kdf_allow_test_cost(); /* the stores and key files of tests protect nothing */
    tmpdir_make(h_dir, sizeof(h_dir), "session");
    memset(b, 0, sizeof(*b));
    CHECK_OK(parley_identity_generate(&b->brand));
    b->n_agents = PEOPLE_AGENTS;
    people_agents(b->brand, now - 3600, now + 86400, b->agents, b->certs, b->cert_lens);
    for (int i = 0; i < PEOPLE_AGENTS; i++)
        CHECK_OK(parley_identity_export(b->agents[i], people_agent_ids[i], "agent pass", 10,
                                        PARLEY__KDF_TEST_ONLY, &b->keyfiles[i],
                                        &b->keyfile_lens[i]));
    h_directory(b, 1, 2, "Acme keeps this conversation to answer you. Messages are end-to-end "
                         "encrypted.");
    parley_directory_key(b->brand, b->dir_key);
    snprintf(path, sizeof(path), "%s/brand.pub", h_dir);
    people_write_pin(path, H_BRAND, b->brand);
}

void h_relay_start(const char *bin, const char *const *extra)
{
    static char brand[320], cert[320], key[320];
    const char *args[48];
    int n = 0;

    snprintf(brand, sizeof(brand), "%s/brand.pub", h_dir);
    args[n++] = "--brand";
    args[n++] = brand;
    if (h_tls) {
        char cmd[1024];

        snprintf(cert, sizeof(cert), "%s/cert.pem", h_dir);
        snprintf(key, sizeof(key), "%s/key.pem", h_dir);
        if (access(cert, R_OK) != 0) {
            snprintf(cmd, sizeof(cmd),
                     "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 1 "
                     "-subj /CN=127.0.0.1 >/dev/null 2>&1",
                     key, cert);
            CHECK(system(cmd) == 0);
        }
        setenv("PARLEY_TLS_INSECURE", "1", 1);
        args[n++] = "--tls-cert";
        args[n++] = cert;
        args[n++] = "--tls-key";
        args[n++] = key;
    }
    for (int i = 0; extra != NULL && extra[i] != NULL && n < 46; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    /* The first time on an ephemeral port; on a restart, the same port again. */
    if (relay_start_on(&relay, bin, h_dir, (uint16_t)h_port, args) != 0)
        exit(1);
    h_port = relay.port;
}

void h_relay_stop(int sig)
{
    if (sig == SIGKILL)
        relay_kill(&relay);
    else
        relay_stop(&relay, 10000);
}

void h_teardown(struct h_brand *b)
{
    h_relay_stop(SIGKILL);
    for (int i = 0; i < b->n_agents; i++) {
        parley_identity_free(b->agents[i]);
        parley_free(b->keyfiles[i], b->keyfile_lens[i]);
        parley_free(b->certs[i], b->cert_lens[i]);
    }
    parley_identity_free(b->brand);
    parley_free(b->directory, b->directory_len);
    if (getenv("PARLEY_KEEP_TEST_DIR") == NULL)
        tmpdir_remove(h_dir);
}

static void on_event(void *user, const parley_event *ev)
{
    struct h_client *hc = user;

    if (ev->kind <= PARLEY_EV_SPECIAL_CONSENT)
        hc->count[ev->kind]++;
    if (getenv("PARLEY_TEST_VERBOSE") != NULL)
        fprintf(stderr, "[%s] event %d state %d err %s text %s\n", hc->name, ev->kind, ev->state,
                parley_strerror(ev->error), ev->text != NULL ? ev->text : "");
    if (hc->n_events == H_MAX_EVENTS)
        return;
    hc->events[hc->n_events] = *ev;
    hc->events[hc->n_events].queue = NULL;
    hc->texts[hc->n_events][0] = '\0';
    if (ev->text != NULL)
        snprintf(hc->texts[hc->n_events], sizeof(hc->texts[0]), "%s", ev->text);
    hc->events[hc->n_events].text = hc->texts[hc->n_events];
    hc->n_events++;
}

void h_client_new(struct h_client *hc, const char *name, const struct h_brand *b, int agent,
                  const char *db, bool publish_directory)
{
    parley_client_config cfg;
    char url[64], path[320];

    memset(hc, 0, sizeof(*hc));
    hc->name = name;
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d/", h_tls ? "wss" : "ws", h_port);
    snprintf(path, sizeof(path), "%s/%s", h_dir, db);
    memset(&cfg, 0, sizeof(cfg));
    cfg.relay_url = url;
    cfg.brand_pk = parley_identity_sign_pk(b->brand);
    cfg.brand_id = H_BRAND;
    cfg.directory_key = b->dir_key;
    cfg.storage_path = path;
    cfg.store = h_store;
    cfg.passphrase = "store pass";
    cfg.passphrase_len = 10;
    cfg.kdf_cost = PARLEY__KDF_TEST_ONLY;
    if (agent >= 0) {
        cfg.agent_key = b->keyfiles[agent];
        cfg.agent_key_len = b->keyfile_lens[agent];
        cfg.key_passphrase = "agent pass";
        cfg.key_passphrase_len = 10;
        cfg.agent_cert = b->certs[agent];
        cfg.agent_cert_len = b->cert_lens[agent];
        cfg.keep_on_erasure = h_keep_on_erasure;
    }
    if (publish_directory) {
        cfg.publish_directory = b->directory;
        cfg.publish_directory_len = b->directory_len;
    }
    cfg.on_event = on_event;
    cfg.user = hc;
    CHECK_OK(parley_client_new(&hc->c, &cfg));
    CHECK_OK(parley_client_connect(hc->c));
}

void h_client_free(struct h_client *hc)
{
    parley_client_free(hc->c);
    hc->c = NULL;
}

bool h_pump(struct h_client **all, bool (*pred)(void *), void *arg, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;

    while (!pred(arg)) {
        if (mono_ms() > deadline)
            return false;
        for (int i = 0; all[i] != NULL; i++)
            if (all[i]->c != NULL)
                parley_client_run_once(all[i]->c, 5);
    }
    return true;
}

static bool never(void *arg)
{
    return false;
}

void h_pump_for(struct h_client **all, int ms)
{
    h_pump(all, never, NULL, ms);
}

int h_find(const struct h_client *hc, parley_event_kind kind, const uint8_t *conv)
{
    for (int i = hc->n_events; i-- > 0;)
        if (hc->events[i].kind == kind &&
            (conv == NULL || memcmp(hc->events[i].conversation_id, conv, 16) == 0))
            return i;
    return -1;
}

struct wait_arg {
    struct h_client *hc;
    parley_event_kind kind;
    int n;
    const char *text;
};

static bool count_reached(void *arg)
{
    struct wait_arg *w = arg;
    return w->hc->count[w->kind] >= w->n;
}

bool h_wait(struct h_client **all, struct h_client *hc, parley_event_kind kind, int n,
            int timeout_ms)
{
    struct wait_arg w = {hc, kind, n, NULL};
    return h_pump(all, count_reached, &w, timeout_ms);
}

bool h_has_text(const struct h_client *hc, const char *text)
{
    for (int i = 0; i < hc->n_events; i++)
        if (hc->events[i].kind == PARLEY_EV_MESSAGE && strcmp(hc->texts[i], text) == 0)
            return true;
    return false;
}

static bool text_arrived(void *arg)
{
    struct wait_arg *w = arg;
    return h_has_text(w->hc, w->text);
}

bool h_wait_text(struct h_client **all, struct h_client *hc, const char *text, int timeout_ms)
{
    struct wait_arg w = {hc, PARLEY_EV_MESSAGE, 0, text};
    return h_pump(all, text_arrived, &w, timeout_ms);
}
