/*
 * The protocol core of a Parley client (see core.h), one file per concern
 * in this folder; this header holds what those files share. The core
 * covers authentication with the relay, the brand directory, consent,
 * conversations (open, claim, transfer, close), texts, receipts and
 * typing, the outbox, per-sender sequence checks, and forward secrecy.
 *
 * Forward secrecy: every payload a party sends announces a fresh receive
 * key for the conversation, and the peer seals its next payload to the
 * newest key it has seen. A receive secret is deleted as soon as a
 * payload sealed to a newer key arrives, and all of them when the
 * conversation closes. First contact uses the agents' one-time prekeys,
 * deleted on use. So the keys a party holds at the end open none of the
 * envelopes it received.
 *
 * Durability: every outgoing envelope is written to the outbox (with the
 * conversation state it changes) in one transaction before it is sent,
 * and resent until the relay acknowledges it. Every incoming envelope is
 * recorded (history, state, seen envelope id) in one transaction before
 * the relay is told to delete it (`delivered`). One that changes a
 * conversation's state, keys held or outbox is recorded before the
 * application hears of it; a text, receipt or typing notice from the
 * current peer is told at once and recorded in a transaction held open
 * for the next ones (receive.c, "the held group"), committed at the next
 * tick or before anything else writes, and only then acknowledged.
 */
#ifndef PARLEY_CORE_IMPL_H
#define PARLEY_CORE_IMPL_H

#include "core.h"
#include "custody.h"
#include "prekey.h"
#include "special.h"

#define MAX_KEYS 32u            /* receive keys kept per conversation */
#define MAX_SENDERS 8u
#define MAX_FANOUT 32u

struct skey {
    uint8_t pk[32];
    uint8_t sk[32];
    uint64_t created;
    bool used;                   /* the peer has sealed to it */
};

struct sseq {
    uint8_t key[32];
    uint64_t highest, window;
    uint64_t typing_seq, typing_ms; /* the last typing notice taken: (seq, time_ms) */
};

struct buf {
    uint8_t *p;
    size_t n;
};

/* A conversation, as loaded from (and saved to) the vault. */
struct conv {
    uint8_t id[16];
    uint8_t salt[16];            /* id = parley_conversation_id(customer, salt) */
    bool has_salt;
    parley_conv_state state;
    char queue[PARLEY_MAX_ID + 1];
    uint8_t customer[32];
    bool has_customer;
    struct buf agent_cert;
    parley_cert_info agent;
    uint8_t peer_rk[32];
    bool has_peer_rk;
    uint64_t my_seq;
    struct sseq senders[MAX_SENDERS];
    size_t n_senders;
    struct skey keys[MAX_KEYS];
    size_t n_keys;
    struct buf consent;
    uint8_t fanout[MAX_FANOUT][32];
    size_t n_fanout;
    struct buf target_cert;
    parley_cert_info target;
    uint64_t history_count, peer_read, peer_delivered;
    uint32_t erasure;            /* agents: 1 history erased, 2 kept by policy */
    uint64_t erasure_ms;         /* agents: when this device received the erasure request */
    uint64_t custody;            /* custody counter: the customer's current, agents' highest */
    struct buf custody_ack;      /* agents: the newest acknowledgement naming this agent */
    uint64_t notice_seq;         /* customers: last number used for notices to other agents */
    bool reduced_secrecy;        /* an Open or Handover of it went to a medium-term prekey */
    struct buf special[PARLEY_SCAN_CATEGORY_COUNT]; /* the customer's SpecialConsents, oldest
                                                       first, each adding a category */
    size_t n_special;
    uint32_t special_mask;       /* the categories they name */
};

struct out_item {
    uint64_t key;                /* row key in "outbox" */
    uint8_t envelope_id[16];
    uint8_t conv[16];
    uint64_t seq;
    uint8_t *env;
    size_t env_len;
    bool in_flight;
    uint64_t retry_at;
};

struct held_text {
    uint8_t conv[16];
    uint8_t sender[32];
    uint64_t seq;
};

struct event_item {
    parley_event ev;
    char *text;
    char *queue;
};

struct prekey_wait {
    uint64_t pending_key;        /* row in "pending" */
    uint8_t owner[32];
};

enum net_state { NET_DOWN, NET_HELLO, NET_AUTH, NET_READY };

struct parley__core {
    struct parley__vault *vault;
    parley_identity *id;
    bool agent;
    struct buf cert;
    parley_cert_info cert_info;
    uint8_t brand_pk[32];
    char brand_id[PARLEY_MAX_ID + 1];
    uint8_t *dir_key;            /* sodium_malloc, 32 bytes */
    bool keep_on_erasure;
    struct buf erase_request;    /* customers: sent to the relay, until it confirms */
    bool erase_confirmed;        /* customers: the relay confirmed an erasure in this run */
    bool wiped;                  /* the store was wiped: nothing is read or written any more */
    struct buf publish_dir;
    enum net_state net;
    uint32_t prekeys_left;
    parley_directory *dir;       /* the newest held, kept once expired for its revocations */
    uint64_t dir_version;
    struct buf dir_bytes;        /* its encoding: the same version must come as the same bytes */
    int dir_warned;              /* expiry told to the application: 1 soon, 2 expired */
    struct buf consent;
    uint32_t consent_version;
    struct out_item *out;
    size_t n_out, cap_out;
    uint64_t next_row;           /* row keys for outbox, pending, history */
    struct prekey_wait waits[64];
    size_t n_waits;
    struct buf *frames;
    size_t n_frames, cap_frames, frame_head;
    struct event_item *events;
    size_t n_events, cap_events, event_head;
    struct event_item current;
    uint64_t now;                /* the clock of the call in progress */
    uint64_t typing_ms;          /* time_ms of the last typing notice sent: each is later */
    uint64_t history_retention_ms; /* 0: history kept until erased */
    uint64_t next_sweep;         /* when the retention sweep runs next */
    uint64_t mt_next;            /* agents: when the medium-term prekey next needs care */
    uint64_t prekey_retry_at;    /* payloads that found no prekey are asked for again; 0: none */
    uint64_t *acked;             /* outbox rows acknowledged, deleted at the next tick */
    size_t n_acked, cap_acked;
    uint8_t receipts[64][16];    /* conversations owing a delivery receipt */
    uint64_t receipt_seq[64];
    size_t n_receipts;
    /* The held group (receive.c): told, in the held transaction, not yet committed. */
    struct held_text *held;      /* texts told: owed a receipt once committed */
    size_t n_held, cap_held;
    uint8_t (*acks)[16];         /* envelope ids to acknowledge once committed */
    size_t n_acks, cap_acks;
    struct special_next *special_next; /* customers: consents for the next conversation opened */
};

/*
 * One-time prekey secrets an agent keeps at most: its client publishes no
 * more while it holds this many (senders then get its medium-term prekey),
 * and tries every one of them on a first contact.
 */
#define PREKEY_KEEP 256u
/*
 * A one-time prekey secret handed out and never used is kept as long as a
 * medium-term one at least: its lifetime and grace (16 days).
 */
#define PREKEY_KEEP_MS (PREKEY_MT_LIFETIME_S * 1000u + PREKEY_MT_GRACE_MS)

struct key_list {
    struct skey keys[PREKEY_KEEP];
    size_t n;
};

struct opened {
    Parley__Payload *p;
    parley_cert_info cert;
    int is_agent;
    uint8_t used_pk[32];
    bool used_prekey;
    bool used_mt;                /* sealed to a medium-term prekey: no one-time prekey was left */
};

/* What an accepted envelope changes, written in one transaction. */
struct accept {
    const Parley__Envelope *env;
    struct conv *cv;
    const struct opened *o;
    const uint8_t *text;         /* history, when a text */
    size_t text_len;
    const char *sender_name;
    const Parley__Handover *handover; /* history handed over with a transfer */
    bool notify_fanout;          /* customer: tell the other agents the conversation is taken */
    bool erase;                  /* agents: the customer asked for erasure */
    bool merge_history;          /* agents: the handover is for a conversation held already */
    bool claim;                  /* agents: claim the conversation handed over */
    bool acknowledge;            /* customer: sign the claimer's custody (counter cv->custody) */
    bool consent_changed;        /* agents: the customer's receipt was replaced */
    size_t special_from;         /* agents: cv's special consents from here on are new */
    bool special;                /* agents: a consent to special categories taken (committed
                                    before it is told, as any change the application hears of) */
    /* Told to the application once committed: */
    bool changed;                /* the conversation's state (or custody) changed */
    const char *taken_by;        /* agents: the colleague who took it from the queue */
};

struct row_keys {
    uint8_t (*keys)[24];
    size_t n, cap;
};

/* What else a payload sent now changes, in its transaction; seq is the number it used. */
typedef parley_err (*send_also_fn)(struct parley__core *c, struct conv *cv, uint64_t seq,
                                   void *arg);

/* An agent's medium-term prekeys at rest (table "mtkey"), oldest first. */
struct parley__mtkeys {
    struct {
        uint8_t pk[32];
        uint8_t sk[32];
        uint64_t created_ms;
    } k[PREKEY_MT_MAX];
    size_t n;
};

/* conv.c: conversations at rest */
void buf_free(struct buf *b);
bool buf_set(struct buf *b, const uint8_t *p, size_t n);
void be64(uint8_t out[8], uint64_t v);
void conv_free(struct conv *cv);
parley_err conv_load(struct parley__core *c, const uint8_t id[16], struct conv *cv);
parley_err conv_save(struct parley__core *c, const struct conv *cv);
void conv_forget_keys(struct conv *cv);
const uint8_t *conv_receive_key(struct conv *cv, uint64_t now);
parley_err history_add(struct parley__core *c, struct conv *cv, const uint8_t *envelope_id,
                       bool from_me, const uint8_t sender[32], const char *name,
                       uint64_t seq, uint64_t time_ms, const uint8_t *text, size_t n,
                       parley_body_kind kind);
void conv_keys_used(struct conv *cv, const uint8_t pk[32]);
int collect_history_key(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len);
bool buf_set_pb(struct buf *b, const ProtobufCMessage *m);

/* seq.c: sequence numbers */
void seq_forget(struct conv *cv, const uint8_t sender[32]);
bool seq_ok(struct parley__core *c, struct conv *cv, const struct opened *o,
            bool first_contact);
void typing_taken(struct conv *cv, const Parley__Payload *p);
bool replayed(struct parley__core *c, const Parley__Envelope *env, const struct conv *cv,
              const struct opened *o);

/* events.c: output queues and events */
void queue_frame(struct parley__core *c, const Parley__Frame *f);
void event_clear(struct event_item *e);
void emit(struct parley__core *c, const parley_event *ev, const uint8_t *text, size_t n);
void event_init(parley_event *ev, parley_event_kind kind, const uint8_t conv[16]);
void emit_simple(struct parley__core *c, parley_event_kind kind, const uint8_t conv[16]);
void emit_rejected(struct parley__core *c, const uint8_t conv[16], parley_err err);
bool mark_reduced(struct conv *cv, const Parley__Payload *p, bool medium_term);
void emit_reduced(struct parley__core *c, const struct conv *cv);
void emit_state(struct parley__core *c, const struct conv *cv);
void emit_state_by(struct parley__core *c, const struct conv *cv, const char *claimer);
void emit_message(struct parley__core *c, const struct conv *cv, const struct opened *o,
                  const uint8_t *text, size_t n);
void emit_seq(struct parley__core *c, const struct conv *cv, const struct opened *o,
              parley_event_kind kind, uint64_t gap_from);
void emit_erased(struct parley__core *c, const struct conv *cv);

/* outbox.c: sealing and the outbox */
void queue_send(struct parley__core *c, const struct out_item *it);
void pump_outbox(struct parley__core *c, uint64_t now);
struct out_item *out_add(struct parley__core *c);
void out_remove(struct parley__core *c, size_t i);
void route_to(const struct parley__core *c, const struct conv *cv, const uint8_t to_sign[32],
              uint8_t routing[32]);
parley_err seal_to_outbox(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                          uint64_t seq, bool announce, const uint8_t to_sign[32],
                          const uint8_t to_box[32], uint64_t now, uint64_t *seq_out);
parley_err peer_refusal(const struct parley__core *c, const struct conv *cv, uint64_t now);
parley_err peer_check(struct parley__core *c, const struct conv *cv, uint64_t now);
bool conv_peer(const struct parley__core *c, const struct conv *cv, const uint8_t **sign,
               const uint8_t **box);
parley_err send_now_with(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                         bool announce, send_also_fn also, void *arg, uint64_t *seq,
                         uint64_t now);
parley_err send_now(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                    const uint8_t *history_text, size_t history_len, uint64_t *seq,
                    uint64_t now);
parley_err conv_commit(struct parley__core *c, const struct conv *cv, parley_err err,
                       size_t n_before);
void on_ack(struct parley__core *c, const Parley__Ack *a);
void flush_acked(struct parley__core *c);
void on_error(struct parley__core *c, const Parley__Error *e, uint64_t now);

/* pending.c: payloads waiting for a key */
parley_err pending_add(struct parley__core *c, const uint8_t conv[16], const uint8_t *to,
                       const Parley__Payload *p);
void flush_pending(struct parley__core *c, uint64_t now);
void on_prekey_result(struct parley__core *c, const Parley__PrekeyResult *r, uint64_t now);

/* brand.c: the brand directory held */
bool dir_valid(const struct parley__core *c, uint64_t now);
bool agent_by_key(const struct parley__core *c, const uint8_t sign_pk[32],
                  parley_cert_info *info, const uint8_t **cert, size_t *cert_len);
void directory_expiry_check(struct parley__core *c, uint64_t now);
uint64_t directory_expiry_deadline(const struct parley__core *c);
parley_err directory_install(struct parley__core *c, const uint8_t *buf, size_t len,
                             uint64_t now, bool from_relay);
void on_directory(struct parley__core *c, const Parley__DirectoryResult *r, uint64_t now);

/* consent.c: consent */
bool consent_valid(const struct parley__core *c, const Parley__ConsentReceipt *r,
                   const uint8_t customer[32]);
uint32_t consent_version_of(const struct buf *b);
/* The body of an encoded receipt (free_unpacked with NULL), or NULL. */
Parley__ConsentReceiptBody *consent_body_of(const uint8_t *p, size_t n);
/* True when r is a later receipt than the one held (or none is). */
bool consent_newer(const struct buf *held, const Parley__ConsentReceipt *r);
/* Customers: the receipt held, to every agent of every conversation not erased. */
parley_err consent_propagate(struct parley__core *c, uint64_t now);

/* prekeys.c: agents' prekeys */
void publish_prekeys(struct parley__core *c, uint64_t now, bool replace, bool counted);
void mt_maintain(struct parley__core *c, uint64_t now, bool connected_now);
struct key_list *prekeys_load(struct parley__core *c);
void prekeys_unload(struct key_list *l);

/* receive.c: receiving envelopes */
/* Acknowledges to the relay: now, or once the held group is committed. */
void send_delivered(struct parley__core *c, const uint8_t envelope_id[16]);
/* Commits the held group, then acknowledges and owes receipts, or tells what was lost. */
void settle_received(struct parley__core *c);
/* The held group ended with err (rolled back already unless PARLEY_OK). */
void group_end(struct parley__core *c, parley_err err);
/* The vault's settle hook (struct parley__vault): arg is the core. */
void settle_hook(void *arg);
void receipt_due(struct parley__core *c, const uint8_t conv[16], uint64_t seq);
parley_err accept_commit(struct parley__core *c, const struct accept *a);
void peer_body(struct parley__core *c, struct conv *cv, const struct opened *o,
               struct accept *a);
void emit_received_text(struct parley__core *c, const struct accept *a);
void refuse(struct parley__core *c, const Parley__Envelope *env, parley_err err);
void on_deliver(struct parley__core *c, const Parley__Envelope *env, uint64_t now);

/* agent.c: receiving, agents' side */
parley_err send_claim(struct parley__core *c, struct conv *cv, uint64_t now);
parley_err seal_claim(struct parley__core *c, struct conv *cv);
parley_err erase_local(struct parley__core *c, struct conv *cv);
size_t history_held(struct parley__core *c, const struct conv *cv,
                    const Parley__Handover *h);
void agent_receive(struct parley__core *c, const Parley__Envelope *env, struct conv *cv,
                   bool have_conv, struct opened *o, uint64_t now);

/* customer.c: receiving, customers' side */
parley_err notify_fanout(struct parley__core *c, struct conv *cv,
                         const parley_cert_info *winner);
parley_err acknowledge_custody(struct parley__core *c, const struct conv *cv,
                               const uint8_t agent[32]);
void customer_receive(struct parley__core *c, const Parley__Envelope *env, struct conv *cv,
                      bool have_conv, struct opened *o, uint64_t now);

/* erasure.c: customers' conversations and who holds them */
struct conv_ref {
    uint8_t id[16], salt[16];
    bool salted;
};

struct conv_ids {
    struct conv_ref *ids;
    size_t n, cap;
};

/* parley__vault_scan callback over "conv": appends each id (and salt) to a struct conv_ids. */
int collect_conv_id(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                    size_t val_len);
/*
 * Customers: p to every agent holding part of cv: the current one over the
 * conversation's keys, the others (those the first message went to, a
 * transfer's target, a closed conversation's last agent) through prekeys.
 */
parley_err send_to_holders(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                           uint64_t now);

/* Drops what waits to go out in conversation id (outbox rows, pending payloads). */
parley_err drop_unsent(struct parley__core *c, const uint8_t id[16]);

/* order.c: brand orders, agents' side */
void on_order(struct parley__core *c, const Parley__BrandOrder *bo);

/* relay.c: the relay link */
void send_erase_frame(struct parley__core *c);

/* policy.c: the brand's policy */
parley_err brand_policy_check(const struct parley__core *c, const char *text, size_t n);
/* The categories the guard finds in text (n bytes), as a mask of PARLEY_SCAN_BIT(). */
parley_err text_categories(const char *text, size_t n, uint32_t *mask);

/* special.c: consent to special-category data (art. 9) */
/* cv's consents from a stored state (encoded SpecialConsents); false when malformed. */
bool special_load(struct conv *cv, const ProtobufCBinaryData *list, size_t n);
/* Customers: PARLEY_ESPECIAL when text holds a special category cv's customer did not consent to. */
parley_err special_check(const struct parley__core *c, const struct conv *cv, const char *text,
                         size_t n);
/* Customers: the consents given for the next conversation, signed for cv and put into o. */
parley_err special_for_open(struct parley__core *c, struct conv *cv, Parley__Open *o);
/* Frees what special_for_open put into o; forgets the consents given for it once opened. */
void special_open_done(struct parley__core *c, Parley__Open *o, bool opened);
/* Agents: takes the n consents of an Open or Handover for cv, each checked. */
parley_err special_take_all(struct conv *cv, Parley__SpecialConsent *const *list, size_t n);
/* Agents: takes one consent of cv's customer, checked (PARLEY_EBADSIG, ...); kept if it adds. */
parley_err special_take(struct conv *cv, const Parley__SpecialConsent *s);
/* Customers: forgets the consents given for the next conversation. */
void special_next_free(struct parley__core *c);
/* The PARLEY_EV_SPECIAL_CONSENT events of the consents of cv from index `from` on. */
void special_emit(struct parley__core *c, const struct conv *cv, size_t from);
/* cv's consents as SpecialConsents for a Handover (free with special_list_free). */
parley_err special_list(const struct conv *cv, Parley__SpecialConsent ***out, size_t *n);
void special_list_free(Parley__SpecialConsent **list, size_t n);

/* retention.c: retention */
void sweep_retention(struct parley__core *c, uint64_t now);
/* The history retention this device applies, in ms: the shorter of the host's and the brand's. */
uint64_t retention_ms(const struct parley__core *c);

/* core.c: start-up */
uint64_t row_of(const uint8_t *key, size_t len);

/* mtkeys.c: medium-term prekey secrets at rest */
/* Loads the medium-term secrets (wiped by parley__mtkeys_wipe). */
parley_err parley__mtkeys_load(struct parley__vault *v, struct parley__mtkeys *keys);
void parley__mtkeys_wipe(struct parley__mtkeys *keys);
/* True when there is none, or the newest is due for rotation at now_ms. */
bool parley__mtkeys_due(const struct parley__mtkeys *keys, uint64_t now_ms);
/* Creates and stores a new one (inside the caller's transaction); appended to keys. */
parley_err parley__mtkeys_add(struct parley__vault *v, struct parley__mtkeys *keys,
                              uint64_t now_ms);
/* Deletes the secrets past their grace (inside the caller's transaction); returns how many. */
size_t parley__mtkeys_sweep(struct parley__vault *v, struct parley__mtkeys *keys,
                            uint64_t now_ms);
/* When a deletion (or, with rotation, a rotation) is next due (Unix ms), or UINT64_MAX. */
uint64_t parley__mtkeys_deadline(const struct parley__mtkeys *keys, bool rotation);

#endif
