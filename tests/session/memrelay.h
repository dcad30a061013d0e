/*
 * An in-memory relay for core tests, speaking the frames of
 * docs/protocol.md section 10 to several protocol cores, each with its own
 * in-memory store. Time is a fake clock. Prekeys behave as parley-relay's:
 * one-time ones handed out once, the newest medium-term one per agent kept
 * apart and handed out when no one-time one is left. Every envelope it carries is
 * captured, and hooks let a test turn it hostile: drop, hold and reorder,
 * serve another directory or prekey, inject envelopes of its own.
 */
#ifndef PARLEY_TEST_MEMRELAY_H
#define PARLEY_TEST_MEMRELAY_H

#include <stdbool.h>

#include "core.h"
#include "memstore.h"

#define MR_MAX_PARTIES 8
#define MR_MAX_EVENTS 2048
#define MR_TEXT 256

struct mr_relay;

struct mr_event {
    parley_event ev;             /* text points into `text`; queue is NULL */
    char text[MR_TEXT];
};

struct mr_buf {
    uint8_t *p;
    size_t n;
};

/*
 * A client device: its store, its session (parley/session.h, through which
 * the relay talks to it), and the relay's view of its connection. Tests
 * make the application's calls on the session's core and read its store
 * through the session's vault.
 */
struct mr_party {
    char name[32];
    struct mr_relay *relay;
    struct memstore *ms;
    parley_store store;
    parley_session *session;
    struct parley__core *core;       /* the session's; NULL while the device is down */
    struct parley__vault *vault;     /* the session's */
    const parley_identity *agent;    /* borrowed; NULL for a customer */
    const uint8_t *cert;
    size_t cert_len;
    const uint8_t *publish_dir;
    size_t publish_dir_len;
    uint32_t history_retention_days; /* given to the session when it (re)starts */
    uint8_t sign_pk[32], routing[32];
    /* relay side */
    bool online, authed, is_agent;
    bool watching;                   /* gets the brand's new directories as they are published */
    uint8_t nonce[32];
    struct mr_buf *in;               /* frames from the relay, not yet fed to the core */
    size_t n_in, head_in, cap_in;
    /* what the application saw, across restarts of the core */
    struct mr_event *events;
    int n_events;
    int count[PARLEY_EV_SPECIAL_CONSENT + 1];
    int incarnations;
    bool attached;                   /* the test owns and drives its session (mr_attach) */
};

struct mr_stored {
    uint8_t id[16];
    uint8_t recipient[32];
    uint8_t sender[32];              /* routing id of the connection that sent it */
    uint8_t conv[16];
    struct mr_buf env;
    bool sent;                       /* delivered on the recipient's current connection */
    bool held;
};

struct mr_capture {
    struct mr_buf env;
    uint8_t recipient[32];
    bool dropped;
};

struct mr_order {
    uint8_t id[16];
    struct mr_buf order;             /* encoded BrandOrder */
};

struct mr_receipt {
    uint8_t order_id[16];
    uint8_t agent[32];               /* the answering agent's signing key */
    struct mr_buf receipt;           /* encoded OrderReceipt */
};

struct mr_prekey {
    uint8_t owner[32];
    struct mr_buf prekey;            /* encoded Prekey */
    bool medium_term;                /* the owner's one medium-term prekey: never handed out
                                        while a one-time one is left, never deleted on fetch */
    uint64_t created_at, expires_at;
};

typedef void (*mr_deliver_hook)(void *arg, struct mr_party *to, const uint8_t *env, size_t len);

struct mr_relay {
    uint64_t now;                    /* Unix ms */
    uint8_t relay_key[32];
    uint8_t brand_pk[32];
    char brand_id[PARLEY_MAX_ID + 1];
    uint8_t client_dir_key[32];      /* what the brand gives its clients; the relay never uses it */
    struct mr_buf directory;
    uint64_t dir_version;
    struct mr_stored *stored;
    size_t n_stored, cap_stored;
    struct mr_capture *cap;
    size_t n_cap, cap_cap;
    struct mr_prekey *prekeys;
    size_t n_prekeys, cap_prekeys;
    struct mr_party *parties[MR_MAX_PARTIES];
    size_t n_parties;
    /* hostile hooks */
    int drop_next;                   /* the next sends are acknowledged and forgotten */
    bool hold;                       /* sends are stored but not delivered until released */
    const struct mr_party *hold_to;  /* the same, for sends to this party only */
    struct mr_buf serve_dir;         /* served on directory_fetch instead of the stored one */
    const char *watch;               /* counted in watch_hits each time a frame received holds it */
    int watch_hits;
    struct mr_buf serve_prekey;      /* handed out on the next prekey_fetch, once */
    mr_deliver_hook before_deliver;  /* called with each deliver, before the core sees it */
    void *hook_arg;
    struct mr_order *orders;         /* brand orders (memrelay_order.c) */
    size_t n_orders, cap_orders;
    struct mr_receipt *receipts;
    size_t n_receipts, cap_receipts;
    /* counters */
    int acks, delivered_ids, prekeys_published, prekeys_fetched, auth_failures;
    int medium_term_published, medium_term_fetched;
};

void mr_init(struct mr_relay *r, const uint8_t brand_pk[32], const char *brand_id, uint64_t now);
void mr_free(struct mr_relay *r);

/*
 * A device on r: a fresh store, the vault over it, a core. agent and cert
 * (borrowed, must outlive p) make it an agent; publish_dir (borrowed) is
 * published on each connection. Not connected yet.
 */
void mr_party_init(struct mr_party *p, struct mr_relay *r, const char *name,
                   const parley_identity *agent, const uint8_t *cert, size_t cert_len,
                   const uint8_t *publish_dir, size_t publish_dir_len);
void mr_party_free(struct mr_party *p);

/*
 * A device whose session the test makes and drives itself through
 * parley/session.h, as a host would (an agent when agent): the relay knows
 * it, mr_pump leaves it alone, and the test moves its bytes with the four
 * calls below. p keeps no reference to the session after mr_party_free.
 * With s NULL, p is a bare connection whose frames the test writes and
 * reads itself (mr_accept, mr_relay_receive, mr_relay_take).
 */
void mr_attach(struct mr_party *p, struct mr_relay *r, const char *name, parley_session *s,
               bool agent);
/* The relay accepts a connection from p (it sends hello), or loses it. */
void mr_accept(struct mr_party *p);
void mr_hangup(struct mr_party *p);
/* A frame p sends to the relay (borrowed). */
void mr_relay_receive(struct mr_party *p, const uint8_t *frame, size_t len);
/* The next frame the relay sent p: true with *frame (malloc'd, the caller frees) and *len. */
bool mr_relay_take(struct mr_party *p, uint8_t **frame, size_t *len);

void mr_connect(struct mr_party *p);
void mr_disconnect(struct mr_party *p);
/* The device dies: the core is freed with its unsent frames, the connection drops. */
void mr_crash(struct mr_party *p);
/* The same, but the store loses its open transaction before the core is freed (kill -9). */
void mr_power_cut(struct mr_party *p);
/* A new core on the same store (vault reopened); not connected. */
void mr_restart(struct mr_party *p);
/* Crash, restart, connect and pump; returns p's event mark from before it connected. */
int mr_reboot(struct mr_party *p);

/* Runs every core and the relay until nothing moves. */
void mr_pump(struct mr_relay *r);
/* Passes only p's outgoing frames to the relay (its answers wait in p's inbound queue). */
void mr_flush_out(struct mr_party *p);
/* Delivers what the relay stores to whoever is connected (mr_pump does it too). */
void mr_route(struct mr_relay *r);
/* Feeds one queued relay frame to p's core and records its events; its answers stay in the core. */
bool mr_feed_one(struct mr_party *p);
void mr_advance(struct mr_relay *r, uint64_t ms);

/* Stores env (an encoded Envelope) for `to` as if a client had sent it; delivered when it can. */
void mr_inject(struct mr_relay *r, struct mr_party *to, const uint8_t *env, size_t len);
/* Releases held envelopes, in reverse order of arrival. */
void mr_release_reversed(struct mr_relay *r);
void mr_release(struct mr_relay *r);
/* Envelopes the relay stores for p. */
size_t mr_stored_for(const struct mr_relay *r, const struct mr_party *p);
/* One-time prekeys the relay holds for p, and p's medium-term one (NULL when none). */
size_t mr_prekeys_for(const struct mr_relay *r, const struct mr_party *p);
const struct mr_prekey *mr_medium_term_of(const struct mr_relay *r, const struct mr_party *p);
/* The box key of p's medium-term prekey (something p opens, that the relay does not take). */
void mr_medium_term_box(const struct mr_relay *r, const struct mr_party *p, uint8_t box[32]);
/*
 * Someone fetches every one-time prekey of p, as an attacker draining them
 * would; with medium_term the relay also loses p's medium-term one.
 */
size_t mr_drain_prekeys(struct mr_relay *r, const struct mr_party *p, bool medium_term);

/* Events */
int mr_count(const struct mr_party *p, parley_event_kind kind);
int mr_count_since(const struct mr_party *p, int mark, parley_event_kind kind);
int mr_text_count(const struct mr_party *p, const char *text);
bool mr_rejected_since(const struct mr_party *p, int mark, parley_err err);
const struct mr_event *mr_last(const struct mr_party *p, parley_event_kind kind);
/* Prints p's events from mark on (for failing tests and PARLEY_TEST_VERBOSE). */
void mr_dump(const struct mr_party *p, int mark);

bool mr_state_is(struct mr_party *p, const uint8_t conv[16], parley_conv_state want);

/*
 * Brand orders, as parley-relay keeps them (memrelay_order.c): an order
 * checked against the brand key and the relay's clock, stored, handed to
 * every agent connected and to each agent that authenticates until its
 * receipt is stored; receipts checked (the agent's own, for an order
 * held) and answered with order_stored. mr_submit_order returns 0 or the
 * relay's refusal (Error code). mr_push_order hands p an order frame
 * whatever the relay holds (a replaying or forging relay). mr_receipt_of
 * gives the receipt stored for order_id by agent, or NULL.
 */
int mr_submit_order(struct mr_relay *r, const uint8_t *order, size_t len);
void mr_push_order(struct mr_party *p, const uint8_t *order, size_t len);
size_t mr_receipt_count(const struct mr_relay *r, const uint8_t order_id[16]);
const struct mr_buf *mr_receipt_of(const struct mr_relay *r, const uint8_t order_id[16],
                                   const uint8_t agent[32]);

/* Internals shared by memrelay.c and memrelay_order.c. */
void mr__push_frame(struct mr_party *p, const Parley__Frame *f);
void mr__push_error(struct mr_party *p, Parley__Error__Code code, const uint8_t *envelope_id);
void mr__orders_on_auth(struct mr_relay *r, struct mr_party *p);
void mr__on_order_receipt(struct mr_relay *r, struct mr_party *p, const Parley__OrderReceipt *rc);
void mr__on_order_submit(struct mr_relay *r, struct mr_party *p, const Parley__BrandOrder *o);
void mr__orders_free(struct mr_relay *r);

#endif
