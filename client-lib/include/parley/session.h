/*
 * A Parley session: the client's protocol core without I/O, for any host
 * that brings its own connection, clock and storage: the browser widget
 * (JavaScript supplies the WebSocket, the timers and a parley_store over
 * IndexedDB), a mobile app, a test. It holds the crypto, sequencing,
 * retries and conversation state, and never reads a clock, blocks, or
 * starts a thread. parley_client (parley/client.h) is this same session
 * driven by a libwebsockets connection, optionally on a service thread.
 *
 * The host's side of the bargain:
 *  - connect to the relay (a WebSocket carrying binary messages of the
 *    subprotocol "parley.v2") and call parley_session_opened() once it is
 *    open; pass every message received to parley_session_feed(); call
 *    parley_session_closed() when it closes or an attempt fails, and try
 *    again later (the client waits 0.5 s doubling to 30 s, with jitter);
 *  - after every call into the session, send each frame
 *    parley_session_next_frame() gives, in order, as one binary message,
 *    and hand each event parley_session_next_event() gives to the
 *    application;
 *  - call parley_session_tick() once parley_session_deadline() has come.
 * Every call takes the time from the host, as Unix milliseconds (now_ms).
 *
 * Storage: the session keeps its state in the store given at creation,
 * every value sealed under a key derived from the passphrase, and writes
 * each change (in one store transaction) before the call that made it
 * returns, but for what it receives (below). Killing the host at any
 * moment loses nothing acknowledged.
 *
 * Receiving: a text (PARLEY_EV_MESSAGE), receipt or typing notice from a
 * conversation's current peer is handed out as soon as it is opened and
 * verified (signature, recipient, conversation, sequence number); its
 * record waits in a store transaction left open, which the next ones
 * join, until the next parley_session_tick() (the deadline is then 0) or
 * anything else that writes (an application call, another envelope that
 * changes a conversation's state, which is recorded before it is told).
 * Only after that commit does the relay hear `delivered` and the peer a
 * delivery receipt; a reply or receipt the application sends before it
 * commits what it answers first. So:
 *  - killed between the event and the commit, the host is shown that
 *    message again after the restart (the relay delivers it again): the
 *    same conversation_id, sender_sign_pk and seq, which is what
 *    identifies a message; the history records it once;
 *  - a failed commit is told as PARLEY_EV_REJECTED with error PARLEY_EIO
 *    (and the text's conversation_id, sender_sign_pk and seq) for each
 *    text it held: not in the history, not acknowledged, delivered and
 *    shown again on a later connection;
 *  - a message already recorded is never shown twice.
 * Hosts tick as soon as the deadline says so: until then the relay waits
 * for its `delivered`.
 *
 * Threads: a session is used from one thread at a time; none of its
 * calls is thread-safe. Events are produced only by the calls of the
 * host and of the application, and wait for parley_session_next_event().
 */
#ifndef PARLEY_SESSION_H
#define PARLEY_SESSION_H

#include "parley/common.h"
#include "parley/cert.h"
#include "parley/identity.h"
#include "parley/scan.h"
#include "parley/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum parley_conv_state {
    PARLEY_CONV_WAITING = 0,     /* customer: opened, no agent yet */
    PARLEY_CONV_QUEUED = 1,      /* agent: offered to this agent's queue */
    PARLEY_CONV_ACTIVE = 2,      /* an agent and the customer are talking */
    PARLEY_CONV_TRANSFERRING = 3,/* customer: told of a transfer, waiting for the new agent */
    PARLEY_CONV_TRANSFERRED = 4, /* agent: handed to another agent */
    PARLEY_CONV_TAKEN = 5,       /* agent: claimed by a colleague */
    PARLEY_CONV_CLOSED = 6
} parley_conv_state;

typedef enum parley_event_kind {
    PARLEY_EV_CONNECTED = 1,     /* authenticated with the relay */
    PARLEY_EV_DISCONNECTED,      /* error: why; retry_ms: when the next attempt is */
    PARLEY_EV_DIRECTORY,         /* a verified directory (notice_version set) */
    PARLEY_EV_CONVERSATION,      /* a conversation changed state (state set); agents also
                                    hear it, state unchanged, when the customer acknowledges
                                    their custody (they may transfer it from then on) */
    PARLEY_EV_MESSAGE,           /* text from the peer: text, seq, time_ms, sender */
    PARLEY_EV_SENT,              /* the relay stored our message seq */
    PARLEY_EV_DELIVERED,         /* the peer received our messages up to seq */
    PARLEY_EV_READ,              /* the peer read our messages up to seq */
    PARLEY_EV_TYPING,            /* active set */
    PARLEY_EV_GAP,               /* sender skipped seq gap_from..gap_to (messages lost) */
    PARLEY_EV_REPLAY,            /* a message already received came again: dropped
                                    (error PARLEY_EREPLAY) */
    PARLEY_EV_REORDER,           /* an older message came after a newer one: dropped */
    PARLEY_EV_REJECTED,          /* an envelope failed verification: error says why (e.g.
                                    PARLEY_ECUSTODY: out of the chain of custody;
                                    PARLEY_EUNBOUND: an id not the customer's); or
                                    PARLEY_EIO (PARLEY_ENOMEM): a text shown (seq,
                                    sender_sign_pk) could not be recorded, and comes again
                                    ("Receiving" above) */
    PARLEY_EV_RELAY_ERROR,       /* the relay refused something: error, relay_code */
    PARLEY_EV_ERASED,            /* customers: the relay erased (erased: envelopes deleted);
                                    agents: a customer's erasure request for conversation_id
                                    was applied (erasure: 1 history deleted, 2 kept by policy) */
    PARLEY_EV_REDUCED_SECRECY,   /* forward secrecy of conversation_id is reduced: its first
                                    contents (an Open or a Handover) went to an agent's
                                    medium-term prekey, because no one-time prekey was left;
                                    they stay readable with that prekey until the agent
                                    deletes it (within 3 weeks). Told to both sides. */
    PARLEY_EV_DIRECTORY_EXPIRY,  /* the brand directory held expires within
                                    PARLEY_DIRECTORY_WARN_DAYS days (error PARLEY_OK) or has
                                    expired (error PARLEY_EEXPIRED: no new conversation until
                                    the brand publishes a newer one); expires_at set */
    PARLEY_EV_CONSENT,           /* agents: the customer of conversation_id changed its consent
                                    (an optional purpose withdrawn or accepted): the receipt
                                    this client holds for it was replaced; list the
                                    conversation to read the purposes */
    PARLEY_EV_ORDER,             /* agents: a brand order (parley/admin.h) was carried out on
                                    the customer sender_sign_pk's conversations: order_id,
                                    order_kind, order_outcome, order_conversations,
                                    order_messages; an export's JSON document in text
                                    (text_len bytes; the host writes it, as
                                    parley_client_export_customer's); the signed receipt is
                                    on its way to the relay. error not PARLEY_OK: it could
                                    not be (nothing changed, no receipt: the relay hands
                                    the order over again on the next connection) */
    PARLEY_EV_SPECIAL_CONSENT    /* agents: the customer of conversation_id explicitly consented
                                    (GDPR art. 9(2)(a)) to send data of special_categories in
                                    it; a verified consent the customer signed, now kept with
                                    the conversation. text: the wording the customer was shown;
                                    time_ms: when it confirmed. Told before the text it came
                                    with, and for each one an Open or a handover brings */
} parley_event_kind;

/*
 * An event. Everything it points to is owned by the library and valid
 * only during the callback: copy what you keep.
 */
typedef struct parley_event {
    parley_event_kind kind;
    uint8_t conversation_id[16];
    parley_conv_state state;
    const char *text;            /* MESSAGE: UTF-8, NUL-terminated */
    size_t text_len;
    uint64_t seq;
    uint64_t time_ms;
    uint64_t gap_from, gap_to;
    int active;                  /* TYPING */
    int sender_is_agent;
    parley_cert_info agent;      /* the agent concerned (sender, claimer, transfer target);
                                    for a conversation TAKEN by a colleague, only agent_id */
    uint8_t sender_sign_pk[32];
    parley_err error;            /* REJECTED, REPLAY, DISCONNECTED, RELAY_ERROR */
    int relay_code;              /* RELAY_ERROR: the relay's error code */
    uint32_t notice_version;     /* DIRECTORY */
    uint64_t retry_ms;           /* DISCONNECTED */
    uint32_t erased;             /* ERASED (customers) */
    uint32_t erasure;            /* ERASED (agents) */
    const char *queue;           /* CONVERSATION */
    uint64_t expires_at;         /* DIRECTORY_EXPIRY: Unix seconds */
    uint8_t order_id[16];        /* ORDER */
    int order_kind;              /* ORDER: parley_order_kind */
    int order_outcome;           /* ORDER: parley_order_outcome */
    uint32_t order_conversations;/* ORDER: the customer's conversations this client held */
    uint64_t order_messages;     /* ORDER: history entries erased or exported */
    uint32_t special_categories; /* SPECIAL_CONSENT: PARLEY_SCAN_BIT() of each category */
} parley_event;

/* A conversation as the local store knows it. Valid during the callback only. */
typedef struct parley_conversation_info {
    uint8_t conversation_id[16];
    parley_conv_state state;
    const char *queue;
    int has_agent;               /* 1 when agent is set (the agent talking with the customer) */
    parley_cert_info agent;
    uint8_t customer_sign_pk[32];
    uint64_t messages;           /* entries in its history */
    uint64_t peer_delivered_seq; /* our messages up to this seq reached the peer */
    uint64_t peer_read_seq;      /* ... and were read */
    uint32_t consent_notice_version; /* the customer's consent receipt: notice version (0: none) */
    uint32_t erasure;            /* agents: 0, or 1 history erased, 2 kept by policy on request */
    uint64_t consent_time_ms;    /* ... and when it was given */
    int reduced_secrecy;         /* 1: see PARLEY_EV_REDUCED_SECRECY */
    /*
     * The customer's consent receipt, as signed: the purposes it accepts
     * (the directory's names; every required one among them) and the
     * optional ones accepted earlier under the same notice and withdrawn
     * since. Agents must not process the customer's data for a purpose
     * not in consent_purposes.
     */
    const char *const *consent_purposes;
    size_t n_consent_purposes;
    const char *const *consent_withdrawn;
    size_t n_consent_withdrawn;
    /*
     * The special categories (GDPR art. 9, PARLEY_SCAN_BIT() of each) the
     * customer explicitly consented to send in this conversation: each by
     * a consent it signed (parley_conversation_special_consent), which
     * this client verified and keeps; exports list them.
     */
    uint32_t special_consent;
} parley_conversation_info;

/* One message of a conversation's local history. Valid during the callback only. */
typedef struct parley_history_entry {
    uint64_t seq;                /* the sender's sequence number (0 when handed over) */
    uint64_t time_ms;            /* the sender's clock */
    int from_me;
    uint8_t sender_sign_pk[32];
    const char *sender_name;     /* an agent's display name or id; "" for the customer */
    const char *text;            /* UTF-8, NUL-terminated */
    size_t text_len;
} parley_history_entry;

/* Callbacks for the listings below: return non-zero to stop early. */
typedef int (*parley_conversation_fn)(void *user, const parley_conversation_info *info);
typedef int (*parley_history_fn)(void *user, const parley_history_entry *entry);

typedef struct parley_session parley_session;

/*
 * Configuration structs carry their own size in their first member,
 * struct_size: set it to sizeof the struct as compiled (0 is read as the
 * size of its first version, so code that zeroes the struct and fills in
 * fields keeps working). Fields added later are read only from callers
 * that say they have them; a caller newer than the library may pass a
 * larger struct only if the fields the library does not know are zero
 * (PARLEY_EINVAL otherwise).
 */
typedef struct parley_session_config {
    size_t struct_size;          /* sizeof(parley_session_config) */
    /*
     * The store (parley/store.h), borrowed: it must outlive the session,
     * which never closes it. Its values are sealed under a key derived
     * from passphrase with Argon2id at kdf_cost (the salt kept in the
     * store); PARLEY_EPASSPHRASE when the passphrase is not the store's.
     */
    const parley_store *store;
    const char *passphrase;
    size_t passphrase_len;
    parley_kdf_cost kdf_cost;
    const uint8_t *brand_pk;     /* the pinned brand key, 32 bytes */
    const char *brand_id;
    const uint8_t *directory_key;/* the brand's directory key, 32 bytes */
    /*
     * Agents: their identity, either as their key file (from `parley-keys
     * agent request`) unlocked with key_passphrase, or already unlocked
     * (agent_identity, borrowed and copied: for a host that keeps it
     * itself); one of the two, and their certificate. Customers: all
     * NULL; an identity is created on first use and kept in the store.
     */
    const uint8_t *agent_key;
    size_t agent_key_len;
    const char *key_passphrase;
    size_t key_passphrase_len;
    const parley_identity *agent_identity;
    const uint8_t *agent_cert;
    size_t agent_cert_len;
    int keep_on_erasure;         /* as parley_client_config's */
    uint32_t history_retention_days; /* as parley_client_config's; 0: the brand's or 180 */
    const uint8_t *publish_directory; /* agents: a signed directory published on connecting */
    size_t publish_directory_len;
} parley_session_config;

/*
 * Creates a session at time now_ms: unlocks the store, loads or creates
 * the identity, checks an agent's certificate against the pinned brand
 * key, loads the outbox. cfg and what it points to are copied, but for
 * the store, which is borrowed. Returns PARLEY_OK, PARLEY_EINVAL,
 * PARLEY_EPASSPHRASE, PARLEY_EWRONGTYPE (a store of another format),
 * PARLEY_EIO, PARLEY_ENOMEM or a key or certificate error
 * (PARLEY_EBADSIG, PARLEY_EWRONGBRAND, PARLEY_EEXPIRED, ...).
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_session_new(parley_session **out,
                                                          const parley_session_config *cfg,
                                                          uint64_t now_ms);
/* Wipes and frees the session; the store stays open. NULL: no-op. */
PARLEY_API void parley_session_free(parley_session *s);

/* The host's connection to the relay. */

/* The WebSocket is open: the session authenticates and starts its work on it. */
PARLEY_API void parley_session_opened(parley_session *s, uint64_t now_ms);
/*
 * One whole binary message from the relay (borrowed during the call).
 * Whatever it holds, bad input included, ends up as frames to send and
 * events, never as an error of the call.
 */
PARLEY_API void parley_session_feed(parley_session *s, const uint8_t *frame, size_t len,
                                    uint64_t now_ms);
/*
 * The connection closed, or an attempt failed. Frames not yet taken are
 * dropped (the outbox sends again what matters on the next connection).
 * The application hears PARLEY_EV_DISCONNECTED with why (PARLEY_EIO;
 * PARLEY_EUNTRUSTED when the relay refused the authentication, close code
 * 1008) and retry_ms, in how many milliseconds the host tries again.
 */
PARLEY_API void parley_session_closed(parley_session *s, parley_err why, uint64_t retry_ms,
                                      uint64_t now_ms);
/* 1 once the relay accepted the authentication on the open connection, else 0. */
PARLEY_API int parley_session_connected(const parley_session *s);

/*
 * The next frame to send, as one binary message: 1 with *frame and *len
 * set (the bytes belong to the session and stay valid until the next call
 * of parley_session_next_frame() or parley_session_free()), 0 when none
 * is left. Frames produced while no connection is open are not kept.
 */
PARLEY_API int parley_session_next_frame(parley_session *s, const uint8_t **frame, size_t *len);
/*
 * The next event for the application: 1 with *ev filled, 0 when none is
 * left. What ev points to (text, queue) belongs to the session and stays
 * valid until the next call of parley_session_next_event() or
 * parley_session_free().
 */
PARLEY_API int parley_session_next_event(parley_session *s, parley_event *ev);
/* 1 while events wait for parley_session_next_event(). */
PARLEY_API int parley_session_has_events(const parley_session *s);

/*
 * Timers (resending, receipts, prekey upkeep, retention, the directory's
 * expiry): parley_session_deadline() is the Unix millisecond at which
 * parley_session_tick() is next needed (0: at once; UINT64_MAX: nothing is
 * scheduled); it changes after any call. Ticking early does no harm.
 */
PARLEY_API void parley_session_tick(parley_session *s, uint64_t now_ms);
PARLEY_API uint64_t parley_session_deadline(const parley_session *s);

/*
 * The application's calls. Each does what the parley_client call of the
 * same name does (parley/client.h gives each one's effects and return
 * codes), at the host's time now_ms, and leaves what it produced to
 * parley_session_next_frame() and parley_session_next_event():
 * parley_session_X(s, ..., now_ms) for parley_client_X(c, ...) and
 * parley_session_conversation_X(s, ..., now_ms) for
 * parley_conversation_X(c, ...).
 */
PARLEY_API const uint8_t *parley_session_sign_pk(const parley_session *s); /* 32 bytes, owned by s */
PARLEY_API size_t parley_session_outbox_size(const parley_session *s);
PARLEY_API size_t parley_session_waiting_size(const parley_session *s);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_directory(parley_session *s,
                                                                uint64_t now_ms,
                                                                parley_directory **out);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_directory_install(parley_session *s,
                                                                        const uint8_t *directory,
                                                                        size_t len,
                                                                        uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_consent(parley_session *s,
                                                              const char *const *accepted,
                                                              size_t n_accepted, uint64_t now_ms);
PARLEY_API int parley_session_has_consent(const parley_session *s);
PARLEY_API int parley_session_consent_accepted(const parley_session *s, const char *purpose);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_withdraw_purpose(parley_session *s,
                                                                       const char *purpose,
                                                                       uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_erase(parley_session *s, uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_withdraw_consent(parley_session *s,
                                                                       uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_open(
    parley_session *s, const char *queue, const char *text, uint8_t conversation_id[16],
    uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_send_text(
    parley_session *s, const uint8_t conversation_id[16], const char *text, uint64_t *seq,
    uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_special_needed(
    parley_session *s, const uint8_t conversation_id[16], const char *text,
    uint32_t *categories);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_special_consent(
    parley_session *s, const uint8_t conversation_id[16], uint32_t categories,
    const char *wording, uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_claim(
    parley_session *s, const uint8_t conversation_id[16], uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_transfer(
    parley_session *s, const uint8_t conversation_id[16], const char *agent_id, uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_close(
    parley_session *s, const uint8_t conversation_id[16], const char *reason, uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_mark_read(
    parley_session *s, const uint8_t conversation_id[16], uint64_t seq, uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_typing(
    parley_session *s, const uint8_t conversation_id[16], int active, uint64_t now_ms);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_state(
    parley_session *s, const uint8_t conversation_id[16], parley_conv_state *state);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_list(parley_session *s,
                                                                        parley_conversation_fn fn,
                                                                        void *user);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_history(
    parley_session *s, const uint8_t conversation_id[16], parley_history_fn fn, void *user);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_export(
    parley_session *s, const uint8_t conversation_id[16], char **json, size_t *len);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_wipe(parley_session *s);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_conversation_redact(
    parley_session *s, const uint8_t conversation_id[16], size_t nth);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_export_customer(
    parley_session *s, const uint8_t customer_sign_pk[32], char **json, size_t *len);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_scan_policy(parley_session *s,
                                                                  const parley_scan_policy *local,
                                                                  parley_scan_policy *out);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_record_put(parley_session *s,
                                                                 const uint8_t *key,
                                                                 size_t key_len,
                                                                 const uint8_t *val,
                                                                 size_t val_len);
PARLEY_API PARLEY_NODISCARD parley_err parley_session_record_get(parley_session *s,
                                                                 const uint8_t *key,
                                                                 size_t key_len, uint8_t **val,
                                                                 size_t *val_len);

#ifdef __cplusplus
}
#endif
#endif
