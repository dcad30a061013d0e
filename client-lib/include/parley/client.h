/*
 * The Parley chat client: a customer or an agent connected to a relay,
 * with conversations, an outbox on disk, forward-secret keys and events.
 * It is a parley_session (parley/session.h, which also defines the events
 * and the conversation types) driven by a libwebsockets connection, the
 * system clock and a reconnection policy.
 *
 * Threads: a client is used from one thread at a time (the "host thread"),
 * except parley_client_wake(). Two ways to run it:
 *  - call parley_client_run_once() from the host's own loop or thread; or
 *  - parley_client_start_thread(): a service thread does the network and
 *    signals parley_client_event_fd(); the host polls that descriptor and
 *    calls parley_client_dispatch(), which runs the callbacks on the host
 *    thread. API calls are then made from the host thread too.
 * Events are delivered only from run_once() or dispatch(), never from
 * another API call. A message received is handed to the callback before
 * its record is committed (parley/session.h, "Receiving"): in
 * service-thread mode the service thread commits it while the callback
 * runs; run_once() runs the callback first, then commits.
 */
#ifndef PARLEY_CLIENT_H
#define PARLEY_CLIENT_H

#include <stdio.h>

#include "parley/common.h"
#include "parley/cert.h"
#include "parley/session.h"
#include "parley/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parley_client parley_client;

/* The application's callback for events (parley/session.h), on the host thread. */
typedef void (*parley_event_fn)(void *user, const parley_event *ev);

typedef struct parley_client_config {
    size_t struct_size;          /* sizeof(parley_client_config); 0: this first version, the
                                    fields up to `user` (the rules: parley/session.h) */
    const char *relay_url;       /* "ws://127.0.0.1:8787/" or "wss://..." */
    const uint8_t *brand_pk;     /* the pinned brand key, 32 bytes */
    const char *brand_id;
    const uint8_t *directory_key;/* the brand's directory key (parley_directory_key), 32 bytes */
    /*
     * State: a store (NULL: the default sqlite store at storage_path), and
     * the passphrase its values are encrypted under (Argon2id at kdf_cost,
     * salt kept in the store). Borrowed; the store is closed by
     * parley_client_free() when the library opened it.
     */
    const parley_store *store;
    const char *storage_path;
    const char *passphrase;
    size_t passphrase_len;
    parley_kdf_cost kdf_cost;
    /*
     * Agents: their key file (from `parley-keys agent request`), unlocked
     * with key_passphrase, and their certificate. Customers: NULL; the
     * client creates an identity on first use and keeps it in the store.
     */
    const uint8_t *agent_key;
    size_t agent_key_len;
    const char *key_passphrase;
    size_t key_passphrase_len;
    const uint8_t *agent_cert;
    size_t agent_cert_len;
    /*
     * Agents: when a customer asks for erasure, keep the conversation's
     * history (marked, and left out of parley_conversation_history) instead
     * of deleting it, where the brand must keep it by law. The brand can
     * also say so in its signed directory (parley_directory_keep_on_erasure);
     * either is enough.
     */
    int keep_on_erasure;
    /*
     * The client's history retention in days: the shorter of this and the
     * brand's (parley_directory_history_days) applies, or
     * PARLEY_HISTORY_DEFAULT_DAYS when neither sets one. A message goes
     * once it is older than that by this device's clock since it was
     * recorded here, checked hourly; a conversation with nothing left goes
     * whole (record, receipt, the other party's keys). Conversations kept
     * after an erasure request go when the brand's legal hold runs out
     * (parley_directory_legal_hold_days; else the same retention).
     */
    uint32_t history_retention_days;
    /* Optional: a signed directory this client publishes on connecting (agents). */
    const uint8_t *publish_directory;
    size_t publish_directory_len;
    parley_event_fn on_event;
    void *user;
} parley_client_config;

/*
 * Creates a client: opens the store, unlocks it (PARLEY_EPASSPHRASE when
 * wrong), loads or creates the identity, checks an agent's certificate
 * against the pinned brand key (PARLEY_EBADSIG, PARLEY_EWRONGBRAND,
 * PARLEY_EEXPIRED, ...), and loads the outbox. It does not connect yet.
 * cfg and what it points to are copied. Returns PARLEY_OK, PARLEY_EINVAL,
 * PARLEY_EIO, PARLEY_ENOMEM or a key/certificate error.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_new(parley_client **out,
                                                         const parley_client_config *cfg);
/* Stops the service thread if any, closes the connection and the store. NULL: no-op. */
PARLEY_API void parley_client_free(parley_client *c);

/*
 * Starts connecting; from then on the client keeps connected, reconnecting
 * by itself with exponential backoff (0.5 s doubling to 30 s) and jitter.
 * On each connection it authenticates, fetches the directory, resends
 * the outbox and (agents) replenishes one-time prekeys.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_connect(parley_client *c);

/* Services network and timers for up to timeout_ms; runs callbacks. Host thread. */
PARLEY_API void parley_client_run_once(parley_client *c, int timeout_ms);

/*
 * Service-thread mode: starts a thread that does the network. The host
 * polls parley_client_event_fd() for reading and then calls
 * parley_client_dispatch(), which runs callbacks on the host thread.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_start_thread(parley_client *c);
PARLEY_API int parley_client_event_fd(const parley_client *c);
PARLEY_API void parley_client_dispatch(parley_client *c);
/* Makes a run_once() in progress return soon. Safe from any thread. */
PARLEY_API void parley_client_wake(parley_client *c);

/* The client's own signing key (32 bytes, owned by c) and whether it is connected. */
PARLEY_API const uint8_t *parley_client_sign_pk(const parley_client *c);
PARLEY_API int parley_client_connected(const parley_client *c);

/*
 * The verified directory the client holds. On PARLEY_OK *out is the
 * caller's reference, released with parley_directory_free(); it stays
 * valid and unchanged whatever the client (or its service thread) does,
 * also when a newer directory replaces it, and may be read from any
 * thread. PARLEY_ENODIRECTORY before one was fetched, PARLEY_EEXPIRED
 * once the one held has expired (*out NULL in both), PARLEY_EINVAL.
 * Thread-safe.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_directory(const parley_client *c,
                                                               parley_directory **out);

/*
 * Installs a signed directory the host holds (shipped with the page, or
 * fetched over plain HTTP from the relay, e.g. the brand's directory file
 * under the relay's --web-root), without a connection: verified as one
 * from the relay is (pinned brand key and id, directory key, not expired,
 * not older than the one held, the same version only as the same bytes),
 * kept in the store, told as PARLEY_EV_DIRECTORY. With it a customer can
 * consent before the relay is ever contacted. A host that shows the
 * notice before a store or key exists opens the same bytes with
 * parley_directory_open() first. Returns PARLEY_OK, PARLEY_EINVAL, or the
 * verification's error (PARLEY_EBADSIG, PARLEY_EWRONGBRAND,
 * PARLEY_EBADSEAL, PARLEY_EEXPIRED, PARLEY_EROLLBACK, ...).
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_directory_install(parley_client *c,
                                                                       const uint8_t *directory,
                                                                       size_t len);

/*
 * Customers: records consent to the current directory's privacy notice,
 * purpose by purpose: a receipt signed by the customer key, bound to the
 * notice version and text, listing every purpose the directory marks
 * required (consenting to the notice is consenting to those) and, of its
 * optional purposes (parley_directory_purpose_required() 0), exactly
 * those named in accepted (n_accepted names; NULL and 0: none). Ask the
 * customer about each optional purpose on its own, with
 * parley_directory_purpose_description() as the question; never
 * pre-tick one. Called again (the customer changed an answer, or the
 * notice changed), it replaces the receipt, and the new one goes to every
 * agent holding a copy (each conversation's). An optional purpose
 * accepted before and left out now is recorded as withdrawn.
 * PARLEY_ENODIRECTORY without a valid (known, unexpired) directory,
 * PARLEY_EPURPOSE for a name the directory does not list, PARLEY_EINVAL.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_consent(parley_client *c,
                                                             const char *const *accepted,
                                                             size_t n_accepted);
/* 1 if consent for the current notice version is recorded. */
PARLEY_API int parley_client_has_consent(const parley_client *c);
/* 1 if the consent recorded for the current notice accepts purpose (required ones included). */
PARLEY_API int parley_client_consent_accepted(const parley_client *c, const char *purpose);

/*
 * Customers: withdraws consent to one purpose. An optional purpose: a new
 * receipt without it (and naming it withdrawn) replaces the old one here
 * and at every agent holding a copy (PARLEY_EV_CONSENT on their side);
 * the conversations go on. A required purpose: the service cannot go on
 * without it, so this is parley_client_withdraw_consent(): consent ends
 * and erasure is requested. Withdrawing a purpose not accepted does
 * nothing. Works with the directory held even once it has expired.
 * PARLEY_EPURPOSE for a name the directory does not list,
 * PARLEY_ENOCONSENT without a receipt, PARLEY_ENODIRECTORY without any
 * directory, PARLEY_ESTATE for agents.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_withdraw_purpose(parley_client *c,
                                                                      const char *purpose);

/*
 * Customers: asks for erasure (GDPR art. 17). A request signed by the
 * customer key goes to the relay, which deletes every envelope it holds to
 * or from this customer, and to the agents of every open conversation,
 * whose clients delete their copy (or keep it, marked, where the brand
 * must); the conversations are closed. The relay's confirmation arrives as
 * PARLEY_EV_ERASED. Sent on the next connection when offline. The host's
 * records (parley_client_record_put()) are deleted too. Returns
 * PARLEY_ESTATE for agents, PARLEY_EIO.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_erase(parley_client *c);

/*
 * Customers: withdraws consent to every purpose: the consent receipt is
 * deleted from this device (nothing can be sent until consent is given
 * again) and an erasure is requested, as parley_client_erase(): agents
 * delete their copies with the conversations, or keep them marked where
 * the brand must.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_withdraw_consent(parley_client *c);

/*
 * Customers, once the relay has confirmed an erasure in this run
 * (PARLEY_EV_ERASED after parley_client_erase or
 * parley_client_withdraw_consent): deletes everything the client's store
 * holds, in one transaction, and compacts it (the default sqlite store
 * leaves nothing of the rows in its files): identity key, conversations
 * and their history, consent receipts, the host's records, the key
 * derivation salt. The client then reads and writes nothing more; free
 * it, close the store, and delete the store's files if they are to go
 * too (parley-customer erase --local does). Returns PARLEY_OK,
 * PARLEY_ESTATE (no confirmed erasure in this run, one still waiting,
 * or an agent), PARLEY_EIO, PARLEY_ENOMEM.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_wipe(parley_client *c);

/*
 * Customers: opens a conversation in queue with a first message; writes
 * its id to conversation_id. The first message is sealed separately to
 * each valid agent of the queue, to a one-time prekey where the relay has
 * one. Returns PARLEY_ENODIRECTORY without a valid (known, unexpired)
 * directory, PARLEY_ENOCONSENT without consent, PARLEY_EINVAL (unknown
 * queue, bad text), PARLEY_EPOLICY (as parley_conversation_send_text),
 * PARLEY_ESPECIAL (special-category data without the customer's explicit
 * consent: parley_conversation_special_consent with a NULL id first),
 * PARLEY_ENOAGENT (no valid agent in the queue), PARLEY_EIO.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_open(parley_client *c,
                                                                const char *queue,
                                                                const char *text,
                                                                uint8_t conversation_id[16]);

/*
 * The sensitive-data guard's policy this client applies before a send:
 * for each category the stricter (parley_scan_policy_stricter) of the
 * brand's policy in the directory held (parley_directory_guard_policy;
 * none before a directory is known) and local, the host's own (borrowed;
 * NULL: the library's default, parley_scan_policy_default). Call it
 * before each send: a new directory may change it. The library refuses
 * a text the brand's policy blocks, or one still holding what the brand
 * has redacted (PARLEY_EPOLICY from parley_conversation_open and
 * _send_text), whatever the host applies. Returns PARLEY_OK, or
 * PARLEY_EINVAL (NULL out, an action out of range in local).
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_scan_policy(parley_client *c,
                                                                 const parley_scan_policy *local,
                                                                 parley_scan_policy *out);

/*
 * Sends text in a conversation. The message is in the outbox on disk
 * before this returns, and is resent until the relay acknowledges it; a
 * customer's messages wait for an agent's claim. *seq (may be NULL) gets
 * its sequence number. Returns PARLEY_ENOCONSENT, PARLEY_ESTATE (closed,
 * transferred, not claimed by this agent), PARLEY_EPOLICY (the brand's
 * guard policy refuses the text: see parley_client_scan_policy),
 * PARLEY_ESPECIAL (customers: special-category data not consented to in
 * this conversation: see parley_conversation_special_consent),
 * PARLEY_EINVAL, PARLEY_EIO.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_send_text(
    parley_client *c, const uint8_t conversation_id[16], const char *text, uint64_t *seq);

/*
 * Special categories of personal data (GDPR art. 9: health, religion,
 * politics, union, ethnicity, sexual_orientation, biometric). A
 * customer's client may send a text in which the guard (parley_scan)
 * finds one of them only after the customer explicitly consented to
 * send data of that category in that conversation (art. 9(2)(a));
 * parley_conversation_open and _send_text refuse it otherwise with
 * PARLEY_ESPECIAL, after the brand's policy (PARLEY_EPOLICY) and before
 * anything is stored or sent. Agents are not asked: both calls are for
 * customers.
 *
 * special_needed: *categories gets the special categories (a mask of
 * PARLEY_SCAN_BIT(), within PARLEY_SCAN_SPECIAL) found in text and not
 * yet consented to in the conversation (conversation_id NULL: the one
 * parley_conversation_open opens next); 0: the text may go as far as
 * consent goes. Agents always get 0. Returns PARLEY_OK, PARLEY_EINVAL
 * (unknown conversation, NULL text or categories), PARLEY_ENOMEM.
 *
 * special_consent: records the customer's explicit consent to send data
 * of categories (a non-empty mask within PARLEY_SCAN_SPECIAL) in the
 * conversation, after the host showed wording (UTF-8, 1 to 1024 bytes:
 * what the customer read and confirmed). Ask for each category on its
 * own, as a question of its own, and take only an explicit answer:
 * never a default, a pre-ticked box or the same keystroke as sending.
 * The consent is signed by the customer key over the conversation, the
 * categories, the wording and the time, kept with the conversation and
 * sent to its agent before any text that follows (to the agent who
 * claims it, while none has); the agent's client verifies it, keeps it,
 * hands it on with a transfer and lists it in exports
 * (PARLEY_EV_SPECIAL_CONSENT on its side). With conversation_id NULL it
 * is for the next conversation this client opens, and travels inside
 * its Open (kept in memory until then). Categories consented to already
 * are not asked again (PARLEY_OK, nothing sent). Returns PARLEY_OK,
 * PARLEY_EINVAL (bad categories or wording, unknown conversation),
 * PARLEY_ESTATE (an agent, or a conversation closed or handed over),
 * PARLEY_EIO, PARLEY_ENOMEM.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_special_needed(
    parley_client *c, const uint8_t conversation_id[16], const char *text,
    uint32_t *categories);
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_special_consent(
    parley_client *c, const uint8_t conversation_id[16], uint32_t categories,
    const char *wording);

/* Agents: claims a queued conversation. PARLEY_ESTATE if not queued. */
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_claim(parley_client *c,
                                                                 const uint8_t conversation_id[16]);

/*
 * Agents: transfers an active conversation to the agent with agent_id in
 * the directory: the customer is told (and verifies the target's
 * certificate against the brand key) and the history, with the
 * customer's acknowledgement of this agent's custody, is sealed to the
 * target. PARLEY_ENOAGENT if no valid agent has that id, PARLEY_ESTATE if
 * the conversation is not active, PARLEY_ECUSTODY while the customer has
 * not acknowledged this agent's custody yet (just after a claim or a
 * handover, or with the customer away since).
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_transfer(
    parley_client *c, const uint8_t conversation_id[16], const char *agent_id);

/* Either side: closes the conversation and forgets its keys. */
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_close(parley_client *c,
                                                                 const uint8_t conversation_id[16],
                                                                 const char *reason);

/*
 * Read receipt for the peer's messages up to seq (durable, like texts),
 * and typing notices (sent at once if connected, otherwise dropped; never
 * stored or resent).
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_mark_read(
    parley_client *c, const uint8_t conversation_id[16], uint64_t seq);
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_typing(
    parley_client *c, const uint8_t conversation_id[16], int active);

/* A conversation's state; PARLEY_EINVAL if unknown. */
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_state(
    const parley_client *c, const uint8_t conversation_id[16], parley_conv_state *state);


/*
 * Lists the conversations in the local store (in id order), and one
 * conversation's history (oldest first). Host thread; callbacks run before
 * the call returns and must not call back into the client. Returns
 * PARLEY_OK, PARLEY_EINVAL (unknown conversation), PARLEY_EIO.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_list(parley_client *c,
                                                                parley_conversation_fn fn,
                                                                void *user);
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_history(
    parley_client *c, const uint8_t conversation_id[16], parley_history_fn fn, void *user);

/*
 * Exports a conversation for an access or portability request: one JSON
 * object with the conversation id, queue and state, the customer's key,
 * the agent (id, name, key, fingerprint), the customer's consent receipt
 * (the signed bytes in base64, with its notice version and time, checked
 * again here) and every message of the local history (sequence number,
 * time, sender, text), then what GDPR art. 15 asks to be told
 * ("processing": controller, the notice's purposes, recipients, this
 * device's retention and legal hold, source). *json is NUL-terminated,
 * *len bytes without the NUL, freed with parley_free(*json, *len).
 * Returns PARLEY_OK, PARLEY_EINVAL (unknown conversation), PARLEY_EIO,
 * PARLEY_ENOMEM.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_export(
    parley_client *c, const uint8_t conversation_id[16], char **json, size_t *len);

/*
 * Redacts, in this device's store only, the nth most recent message the
 * other party wrote in a conversation (nth 1: the last one received):
 * every span the sensitive-data guard finds, of any category, is replaced
 * by its marker ("[health]"), or the whole text by "[redacted]" when it
 * finds none; the store is then compacted, so the old text is gone from
 * its files. Histories and exports show the redacted text from then on;
 * nobody else's copy changes. Returns
 * PARLEY_OK, PARLEY_EINVAL (unknown conversation, nth 0 or more than the
 * messages received), PARLEY_EIO, PARLEY_ENOMEM.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_conversation_redact(
    parley_client *c, const uint8_t conversation_id[16], size_t nth);

/*
 * Exports every conversation this device holds with one customer (by
 * the customer's signing key, parley_conversation_info.customer_sign_pk),
 * including those kept after an erasure request, for an access request:
 * {"format":"parley-customer-export-v1","brand_id","customer_sign_key",
 * "conversations":[each as parley_conversation_export writes it]}. None
 * held gives an empty list. Freed and errors as parley_conversation_export.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_export_customer(
    parley_client *c, const uint8_t customer_sign_pk[32], char **json, size_t *len);

/*
 * Opens path to write an export into: the file is created readable and
 * writable by its owner only (mode 0600 whatever the umask, since an
 * export holds conversations in clear). An existing file is refused
 * (PARLEY_EEXIST) unless replace is non-zero, in which case it is emptied
 * and, if it is a regular file, narrowed to mode 0600 before anything is
 * written. *out is the open stream, closed by the caller with fclose().
 * Returns PARLEY_OK, PARLEY_EINVAL, PARLEY_EEXIST, PARLEY_EIO (errno
 * says why). Thread-safe.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_export_file_open(const char *path, int replace,
                                                               FILE **out);

/*
 * The host's own records about other parties (for example the agent keys
 * a customer's client has seen before), kept in the client's encrypted
 * store: each value sealed under the store's key like the library's own
 * state, and each key replaced by a keyed hash, so the store file shows
 * neither. parley_client_erase() and parley_client_withdraw_consent()
 * delete them all along with the rest. key: 1..256 bytes; value: at most
 * 65,536 bytes. Host thread, callbacks included.
 *
 * put writes or replaces the record: PARLEY_OK, PARLEY_EINVAL, PARLEY_EIO.
 * get returns PARLEY_OK with *val (malloc'd, freed with
 * parley_free(*val, *val_len)), or PARLEY_OK with *val NULL and *val_len
 * 0 when there is no such record; PARLEY_EINVAL, PARLEY_EIO (also for a
 * record that does not decrypt), PARLEY_ENOMEM.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_client_record_put(parley_client *c,
                                                                const uint8_t *key,
                                                                size_t key_len,
                                                                const uint8_t *val,
                                                                size_t val_len);
PARLEY_API PARLEY_NODISCARD parley_err parley_client_record_get(parley_client *c,
                                                                const uint8_t *key,
                                                                size_t key_len, uint8_t **val,
                                                                size_t *val_len);

/* Envelopes in the outbox not yet acknowledged by the relay. */
PARLEY_API size_t parley_client_outbox_size(const parley_client *c);

/*
 * Payloads not sealed yet, kept in the store until they can be: a
 * customer's texts before an agent claims the conversation, a handover
 * waiting for the new agent's prekey. Once sealed they are in the outbox.
 * A host that wants to stop only when everything it sent has reached the
 * relay waits until this and the outbox are both 0.
 */
PARLEY_API size_t parley_client_waiting_size(const parley_client *c);

/*
 * Brand orders at a relay (parley/admin.h builds them): one short
 * connection each, authenticated with a throwaway key, waiting at most
 * timeout_ms. Call from any thread; blocking.
 *
 * parley_order_submit hands the encoded order to the relay at relay_url
 * and returns once the relay has stored it. parley_order_status reads
 * back the agents' receipts the relay stores for the order, calling fn
 * with each encoded receipt (borrowed during the call; verify it with
 * parley_order_receipt_verify).
 *
 * Returns PARLEY_OK; PARLEY_EINVAL, PARLEY_ETOOBIG, PARLEY_EMALFORMED for
 * a bad argument; PARLEY_EIO when the connection failed or closed;
 * PARLEY_ETIMEOUT; or the relay's refusal, its code in *relay_code (may be
 * NULL): PARLEY_EBADSIG (not signed by the brand key the relay serves),
 * PARLEY_EWRONGBRAND (a brand the relay does not serve), PARLEY_EEXPIRED,
 * PARLEY_EREPLAY (submitted before), PARLEY_EREFUSED (any other reason,
 * such as an order the relay does not hold, or a relay on a store without
 * orders).
 */
typedef void (*parley_order_receipt_fn)(void *arg, const uint8_t *receipt, size_t len);
PARLEY_API PARLEY_NODISCARD parley_err parley_order_submit(const char *relay_url,
                                                           const uint8_t *order, size_t len,
                                                           int timeout_ms, int *relay_code);
PARLEY_API PARLEY_NODISCARD parley_err parley_order_status(const char *relay_url,
                                                           const uint8_t *order, size_t len,
                                                           int timeout_ms,
                                                           parley_order_receipt_fn fn, void *arg,
                                                           int *relay_code);

/*
 * The names of libparley 0.2, kept for one release: the same calls as
 * parley_conversation_send_text, _mark_read and _typing.
 */
PARLEY_API PARLEY_NODISCARD PARLEY_DEPRECATED("parley_conversation_send_text") parley_err
parley_send_text(parley_client *c, const uint8_t conversation_id[16], const char *text,
                 uint64_t *seq);
PARLEY_API PARLEY_NODISCARD PARLEY_DEPRECATED("parley_conversation_mark_read") parley_err
parley_mark_read(parley_client *c, const uint8_t conversation_id[16], uint64_t seq);
PARLEY_API PARLEY_NODISCARD PARLEY_DEPRECATED("parley_conversation_typing") parley_err
parley_typing(parley_client *c, const uint8_t conversation_id[16], int active);

#ifdef __cplusplus
}
#endif
#endif
