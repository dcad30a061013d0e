/*
 * parley_session (parley/session.h): the protocol core as a public,
 * sans-I/O object. It owns the vault over the host's store and the core
 * on top of it, hands frames and events out one at a time, and keeps the
 * host's own records. Every host drives this same object: parley_client
 * with libwebsockets and a thread, the browser widget with JavaScript's
 * WebSocket and timers, tests with an in-memory relay.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* The size of parley_session_config in its first version (struct_size 0). */
#define SESSION_CONFIG_V1                                                                          \
    (offsetof(parley_session_config, publish_directory_len) + sizeof(size_t))

#define HOST_TABLE "host"
#define HOST_KEY_MAX 256u
#define HOST_VALUE_MAX 65536u

struct parley_session {
    struct parley__vault vault;  /* over the host's store, borrowed */
    bool vault_open;
    struct parley__core *core;
    uint8_t *frame;              /* the frame last handed out */
    size_t frame_len;
};

struct parley__core *parley__session_core(parley_session *s)
{
    return s->core;
}

struct parley__vault *parley__session_vault(parley_session *s)
{
    return &s->vault;
}

/*
 * Agents: their identity, as the host unlocked it (*agent borrowed from
 * cfg) or from the config's key file (*agent = *imported, the caller's).
 */
static parley_err session_agent(const parley_session_config *cfg, const parley_identity **agent,
                                parley_identity **imported)
{
    parley_err err;

    *agent = NULL;
    *imported = NULL;
    if (cfg->agent_key == NULL && cfg->agent_identity == NULL)
        return PARLEY_OK;
    if ((cfg->agent_key != NULL && cfg->agent_identity != NULL) || cfg->agent_cert == NULL ||
        (cfg->agent_key != NULL && cfg->key_passphrase == NULL))
        return PARLEY_EINVAL;
    if (cfg->agent_identity != NULL) {
        *agent = cfg->agent_identity; /* the core keeps a copy */
        return PARLEY_OK;
    }
    err = parley_identity_import(imported, cfg->agent_key, cfg->agent_key_len,
                                 cfg->key_passphrase, cfg->key_passphrase_len, NULL, 0);
    *agent = *imported;
    return err;
}

static parley_err session_open(parley_session *s, const parley_session_config *cfg,
                               const parley_identity *agent, uint64_t now_ms)
{
    struct parley__core_config cc;
    parley_err err = parley__vault_open(&s->vault, cfg->store, cfg->passphrase,
                                        cfg->passphrase_len, cfg->kdf_cost);

    if (err != PARLEY_OK)
        return err;
    s->vault_open = true;
    memset(&cc, 0, sizeof(cc));
    cc.vault = &s->vault;
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
    return parley__core_new(&s->core, &cc, now_ms);
}

parley_err parley_session_new(parley_session **out, const parley_session_config *config,
                              uint64_t now_ms)
{
    parley_session_config cfg;
    const parley_identity *agent;
    parley_identity *imported;
    parley_session *s;
    parley_err err;

    if (out == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    if (config == NULL || !parley__config_copy(&cfg, sizeof(cfg), config, SESSION_CONFIG_V1) ||
        cfg.store == NULL || cfg.store->ops == NULL || cfg.brand_pk == NULL ||
        cfg.directory_key == NULL || !parley_id_valid(cfg.brand_id) || cfg.passphrase == NULL)
        return PARLEY_EINVAL;
    if (parley_init() != PARLEY_OK)
        return PARLEY_ENOMEM;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return PARLEY_ENOMEM;
    /* The agent's key first: a wrong passphrase must not leave a store locked under another. */
    err = session_agent(&cfg, &agent, &imported);
    if (err == PARLEY_OK)
        err = session_open(s, &cfg, agent, now_ms);
    parley_identity_free(imported);
    if (err != PARLEY_OK) {
        parley_session_free(s);
        return err;
    }
    *out = s;
    return PARLEY_OK;
}

void parley_session_free(parley_session *s)
{
    if (s == NULL)
        return;
    parley__core_free(s->core);
    if (s->vault_open)
        parley__vault_close(&s->vault);
    free(s->frame);
    free(s);
}

void parley_session_opened(parley_session *s, uint64_t now_ms)
{
    parley__core_connected(s->core, now_ms);
}

void parley_session_feed(parley_session *s, const uint8_t *frame, size_t len, uint64_t now_ms)
{
    parley__core_frame(s->core, frame, len, now_ms);
}

void parley_session_closed(parley_session *s, parley_err why, uint64_t retry_ms, uint64_t now_ms)
{
    parley__core_disconnected(s->core, now_ms);
    parley__core_note_disconnect(s->core, why, retry_ms);
}

int parley_session_connected(const parley_session *s)
{
    return parley__core_ready(s->core);
}

int parley_session_next_frame(parley_session *s, const uint8_t **frame, size_t *len)
{
    free(s->frame);
    s->frame = NULL;
    s->frame_len = 0;
    if (!parley__core_next_frame(s->core, &s->frame, &s->frame_len))
        return 0;
    *frame = s->frame;
    *len = s->frame_len;
    return 1;
}

int parley_session_next_event(parley_session *s, parley_event *ev)
{
    return parley__core_next_event(s->core, ev);
}

int parley_session_has_events(const parley_session *s)
{
    return parley__core_has_events(s->core);
}

void parley_session_tick(parley_session *s, uint64_t now_ms)
{
    parley__core_tick(s->core, now_ms);
}

uint64_t parley_session_deadline(const parley_session *s)
{
    return parley__core_deadline(s->core);
}

const uint8_t *parley_session_sign_pk(const parley_session *s)
{
    return parley__core_sign_pk(s->core);
}

size_t parley_session_outbox_size(const parley_session *s)
{
    return parley__core_outbox_size(s->core);
}

size_t parley_session_waiting_size(const parley_session *s)
{
    return parley__core_waiting_size(s->core);
}

parley_err parley_session_directory(parley_session *s, uint64_t now_ms, parley_directory **out)
{
    if (out == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    return parley__core_directory_ref(s->core, now_ms, out);
}

/* ------------------------------------------------------------------ */
/* The host's records */

/* The row of a host key: a hash keyed from the store key, so the store learns no name. */
static void host_row(const parley_session *s, const uint8_t *key, size_t key_len,
                     uint8_t row[32])
{
    static const uint8_t label[] = "parley/host-record-row/v1";
    uint8_t k[32];

    crypto_generichash(k, sizeof(k), label, sizeof(label), s->vault.key, 32);
    crypto_generichash(row, 32, key, key_len, k, sizeof(k));
    sodium_memzero(k, sizeof(k));
}

parley_err parley_session_record_put(parley_session *s, const uint8_t *key, size_t key_len,
                                     const uint8_t *val, size_t val_len)
{
    static const uint8_t none[1];
    uint8_t row[32];

    if (s == NULL || key == NULL || key_len == 0 || key_len > HOST_KEY_MAX ||
        (val == NULL && val_len > 0) || val_len > HOST_VALUE_MAX)
        return PARLEY_EINVAL;
    host_row(s, key, key_len, row);
    return parley__vault_put(&s->vault, HOST_TABLE, row, sizeof(row), val != NULL ? val : none,
                             val_len);
}

parley_err parley_session_record_get(parley_session *s, const uint8_t *key, size_t key_len,
                                     uint8_t **val, size_t *val_len)
{
    uint8_t row[32];
    parley_err err;

    if (val == NULL || val_len == NULL)
        return PARLEY_EINVAL;
    *val = NULL;
    *val_len = 0;
    if (s == NULL || key == NULL || key_len == 0 || key_len > HOST_KEY_MAX)
        return PARLEY_EINVAL;
    host_row(s, key, key_len, row);
    err = parley__vault_get(&s->vault, HOST_TABLE, row, sizeof(row), val, val_len);
    return err == PARLEY_EINVAL ? PARLEY_OK : err; /* EINVAL: no such row */
}

/* Deletes every host record, in one transaction; undecryptable ones too. */
static parley_err host_clear(parley_session *s)
{
    static const char *const tables[] = {HOST_TABLE};

    return parley__vault_wipe(&s->vault, tables, 1);
}

/*
 * Every table the library writes, the host's records, and last the
 * store's own marks (key derivation salt, format): a blank store.
 */
parley_err parley_session_wipe(parley_session *s)
{
    static const char *const tables[] = {"history", "conv",   "outbox", "pending",
                                         "seen",    "prekey", "mtkey",  "orders",
                                         HOST_TABLE, "identity", "meta"};
    parley_err err;

    if (s == NULL)
        return PARLEY_EINVAL;
    if (!parley__core_erase_confirmed(s->core))
        return PARLEY_ESTATE;
    err = parley__vault_wipe(&s->vault, tables, sizeof(tables) / sizeof(tables[0]));
    if (err == PARLEY_OK)
        parley__core_wiped(s->core);
    return err;
}

/* ------------------------------------------------------------------ */
/* The application's calls */

parley_err parley_session_directory_install(parley_session *s, const uint8_t *directory,
                                            size_t len, uint64_t now_ms)
{
    return parley__core_directory_install(s->core, directory, len, now_ms);
}

parley_err parley_session_consent(parley_session *s, const char *const *accepted,
                                  size_t n_accepted, uint64_t now_ms)
{
    return parley__core_consent(s->core, accepted, n_accepted, now_ms);
}

int parley_session_has_consent(const parley_session *s)
{
    return parley__core_has_consent(s->core);
}

int parley_session_consent_accepted(const parley_session *s, const char *purpose)
{
    return parley__core_consent_accepted(s->core, purpose);
}

/* After a successful erasure request: the host's records go too. */
parley_err parley_session_erase(parley_session *s, uint64_t now_ms)
{
    parley_err err = parley__core_erase(s->core, now_ms);

    return err == PARLEY_OK ? host_clear(s) : err;
}

parley_err parley_session_withdraw_consent(parley_session *s, uint64_t now_ms)
{
    parley_err err = parley__core_withdraw_consent(s->core, now_ms);

    return err == PARLEY_OK ? host_clear(s) : err;
}

parley_err parley_session_withdraw_purpose(parley_session *s, const char *purpose,
                                           uint64_t now_ms)
{
    bool ended = false;
    parley_err err = parley__core_withdraw_purpose(s->core, purpose, &ended, now_ms);

    /* Withdrawing what the service needs is withdrawing consent: erased as such. */
    return err == PARLEY_OK && ended ? host_clear(s) : err;
}

parley_err parley_session_conversation_open(parley_session *s, const char *queue,
                                            const char *text, uint8_t conversation_id[16],
                                            uint64_t now_ms)
{
    return parley__core_open(s->core, queue, text, conversation_id, now_ms);
}

parley_err parley_session_conversation_send_text(parley_session *s,
                                                 const uint8_t conversation_id[16],
                                                 const char *text, uint64_t *seq, uint64_t now_ms)
{
    return parley__core_send_text(s->core, conversation_id, text, seq, now_ms);
}

parley_err parley_session_conversation_special_needed(parley_session *s,
                                                      const uint8_t conversation_id[16],
                                                      const char *text, uint32_t *categories)
{
    if (s == NULL)
        return PARLEY_EINVAL;
    return parley__core_special_needed(s->core, conversation_id, text, categories);
}

parley_err parley_session_conversation_special_consent(parley_session *s,
                                                       const uint8_t conversation_id[16],
                                                       uint32_t categories, const char *wording,
                                                       uint64_t now_ms)
{
    if (s == NULL)
        return PARLEY_EINVAL;
    return parley__core_special_consent(s->core, conversation_id, categories, wording, now_ms);
}

parley_err parley_session_conversation_claim(parley_session *s, const uint8_t conversation_id[16],
                                             uint64_t now_ms)
{
    return parley__core_claim(s->core, conversation_id, now_ms);
}

parley_err parley_session_conversation_transfer(parley_session *s,
                                                const uint8_t conversation_id[16],
                                                const char *agent_id, uint64_t now_ms)
{
    return parley__core_transfer(s->core, conversation_id, agent_id, now_ms);
}

parley_err parley_session_conversation_close(parley_session *s, const uint8_t conversation_id[16],
                                             const char *reason, uint64_t now_ms)
{
    return parley__core_close(s->core, conversation_id, reason, now_ms);
}

parley_err parley_session_conversation_mark_read(parley_session *s,
                                                 const uint8_t conversation_id[16], uint64_t seq,
                                                 uint64_t now_ms)
{
    return parley__core_mark_read(s->core, conversation_id, seq, now_ms);
}

parley_err parley_session_conversation_typing(parley_session *s,
                                              const uint8_t conversation_id[16], int active,
                                              uint64_t now_ms)
{
    return parley__core_typing(s->core, conversation_id, active, now_ms);
}

parley_err parley_session_conversation_state(parley_session *s, const uint8_t conversation_id[16],
                                             parley_conv_state *state)
{
    if (state == NULL)
        return PARLEY_EINVAL;
    return parley__core_state(s->core, conversation_id, state);
}

parley_err parley_session_conversation_list(parley_session *s, parley_conversation_fn fn,
                                            void *user)
{
    return parley__core_list(s->core, fn, user);
}

parley_err parley_session_conversation_history(parley_session *s,
                                               const uint8_t conversation_id[16],
                                               parley_history_fn fn, void *user)
{
    return parley__core_history(s->core, conversation_id, fn, user);
}

parley_err parley_session_conversation_redact(parley_session *s,
                                              const uint8_t conversation_id[16], size_t nth)
{
    if (s == NULL)
        return PARLEY_EINVAL;
    return parley__core_redact(s->core, conversation_id, nth);
}

parley_err parley_session_export_customer(parley_session *s, const uint8_t customer_sign_pk[32],
                                          char **json, size_t *len)
{
    if (s == NULL)
        return PARLEY_EINVAL;
    return parley__core_export_customer(s->core, customer_sign_pk, json, len);
}

parley_err parley_session_scan_policy(parley_session *s, const parley_scan_policy *local,
                                      parley_scan_policy *out)
{
    if (s == NULL)
        return PARLEY_EINVAL;
    return parley__core_scan_policy(s->core, local, out);
}

parley_err parley_session_conversation_export(parley_session *s,
                                              const uint8_t conversation_id[16], char **json,
                                              size_t *len)
{
    return parley__core_export(s->core, conversation_id, json, len);
}
