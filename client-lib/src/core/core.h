/*
 * The client's protocol core, without I/O: it is fed whole relay frames
 * and the clock, keeps its state in the vault, and hands back frames to
 * send, events for the application and the time it next needs a tick.
 * Tests drive it in memory; parley_client wraps it with a transport.
 */
#ifndef PARLEY_CORE_H
#define PARLEY_CORE_H

#include "parley/session.h"
#include "vault.h"

struct parley__core;

struct parley__core_config {
    struct parley__vault *vault;        /* borrowed, opened */
    const uint8_t *brand_pk;            /* 32 bytes */
    const char *brand_id;
    const uint8_t *directory_key;       /* 32 bytes */
    const parley_identity *agent_id;    /* agents: their identity (copied by seed); NULL: customer */
    const uint8_t *agent_cert;
    size_t agent_cert_len;
    const uint8_t *publish_directory;
    size_t publish_directory_len;
    bool keep_on_erasure;
    uint64_t history_retention_ms;      /* 0: no limit */
};

parley_err parley__core_new(struct parley__core **out, const struct parley__core_config *cfg,
                            uint64_t now_ms);
void parley__core_free(struct parley__core *c);
/* The core of a session and its vault (tests drive and read them directly). */
struct parley__core *parley__session_core(parley_session *s);
struct parley__vault *parley__session_vault(parley_session *s);

/* Network, as the transport reports it. */
void parley__core_connected(struct parley__core *c, uint64_t now_ms);
void parley__core_disconnected(struct parley__core *c, uint64_t now_ms);
void parley__core_frame(struct parley__core *c, const uint8_t *frame, size_t len,
                        uint64_t now_ms);
/* Timers: retries, receipts. Call when the deadline has passed (or any time). */
void parley__core_tick(struct parley__core *c, uint64_t now_ms);
/* Unix ms at which tick is next needed; UINT64_MAX when nothing is scheduled. */
uint64_t parley__core_deadline(const struct parley__core *c);
int parley__core_ready(const struct parley__core *c);

/* Output: the next frame to send (*frame malloc'd, caller frees), false when none. */
bool parley__core_next_frame(struct parley__core *c, uint8_t **frame, size_t *len);
/* Queues a DISCONNECTED event (why, retry_ms) for the application. */
void parley__core_note_disconnect(struct parley__core *c, parley_err why, uint64_t retry_ms);
/* True while events wait for parley__core_next_event. */
bool parley__core_has_events(const struct parley__core *c);
/* The next event, valid until the next call; false when none. */
bool parley__core_next_event(struct parley__core *c, parley_event *ev);

/* Application calls (see parley/client.h for their contracts). */
const uint8_t *parley__core_sign_pk(const struct parley__core *c);
const parley_directory *parley__core_directory(const struct parley__core *c);
/* A reference to the held directory if valid at now (parley_client_directory's contract). */
parley_err parley__core_directory_ref(struct parley__core *c, uint64_t now_ms,
                                      parley_directory **out);
parley_err parley__core_directory_install(struct parley__core *c, const uint8_t *buf, size_t len,
                                          uint64_t now_ms);
parley_err parley__core_consent(struct parley__core *c, const char *const *accepted,
                                size_t n_accepted, uint64_t now_ms);
/* *ended: the purpose was a required one, so consent was withdrawn whole (and erasure asked). */
parley_err parley__core_withdraw_purpose(struct parley__core *c, const char *purpose,
                                         bool *ended, uint64_t now_ms);
int parley__core_consent_accepted(const struct parley__core *c, const char *purpose);
parley_err parley__core_erase(struct parley__core *c, uint64_t now_ms);
/* Customers: the relay confirmed an erasure in this run and none is waiting. */
bool parley__core_erase_confirmed(const struct parley__core *c);
/* The store was wiped (parley_session_wipe): from now on the core reads and writes nothing. */
void parley__core_wiped(struct parley__core *c);
parley_err parley__core_withdraw_consent(struct parley__core *c, uint64_t now_ms);
int parley__core_has_consent(const struct parley__core *c);
parley_err parley__core_open(struct parley__core *c, const char *queue, const char *text,
                             uint8_t conversation_id[16], uint64_t now_ms);
parley_err parley__core_send_text(struct parley__core *c, const uint8_t conv[16],
                                  const char *text, uint64_t *seq, uint64_t now_ms);
parley_err parley__core_claim(struct parley__core *c, const uint8_t conv[16], uint64_t now_ms);
parley_err parley__core_transfer(struct parley__core *c, const uint8_t conv[16],
                                 const char *agent_id, uint64_t now_ms);
parley_err parley__core_close(struct parley__core *c, const uint8_t conv[16], const char *reason,
                              uint64_t now_ms);
parley_err parley__core_mark_read(struct parley__core *c, const uint8_t conv[16], uint64_t seq,
                                  uint64_t now_ms);
parley_err parley__core_typing(struct parley__core *c, const uint8_t conv[16], int active,
                               uint64_t now_ms);
/* Customers: the special categories in text not consented to in conv (NULL: the next opened). */
parley_err parley__core_special_needed(struct parley__core *c, const uint8_t conv[16],
                                       const char *text, uint32_t *categories);
/* Customers: explicit consent to categories in conv (NULL: the next conversation opened). */
parley_err parley__core_special_consent(struct parley__core *c, const uint8_t conv[16],
                                        uint32_t categories, const char *wording,
                                        uint64_t now_ms);
parley_err parley__core_state(struct parley__core *c, const uint8_t conv[16],
                              parley_conv_state *state);
size_t parley__core_outbox_size(const struct parley__core *c);
/* Rows of "pending": payloads kept until they can be sealed (pending.c). */
size_t parley__core_waiting_size(const struct parley__core *c);
/* The stricter of the brand's guard policy and local (NULL: the library default). */
parley_err parley__core_scan_policy(struct parley__core *c, const parley_scan_policy *local,
                                    parley_scan_policy *out);
parley_err parley__core_list(struct parley__core *c, parley_conversation_fn fn, void *user);
parley_err parley__core_history(struct parley__core *c, const uint8_t conv[16],
                                parley_history_fn fn, void *user);
/* The nth most recent message of the other party (1: the last) redacted in this store. */
parley_err parley__core_redact(struct parley__core *c, const uint8_t conv[16], size_t nth);
/* Every conversation of one customer (by signing key), as one JSON document. */
parley_err parley__core_export_customer(struct parley__core *c, const uint8_t customer[32],
                                        char **json, size_t *len);
parley_err parley__core_export(struct parley__core *c, const uint8_t conv[16], char **json,
                               size_t *len);
/* History including a conversation kept after an erasure request (for export). */
parley_err parley__core_history_all(struct parley__core *c, const uint8_t conv[16],
                                    parley_history_fn fn, void *user);
/* export.c: the JSON document of parley_conversation_export. */
parley_err parley__core_export_json(struct parley__core *c, const parley_conversation_info *info,
                                    const uint8_t *consent, size_t consent_len,
                                    const char *brand_id, char **json, size_t *len);

#endif
