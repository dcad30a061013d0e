/*
 * The protocol core of a Parley client (see core.h): authentication with
 * the relay, the brand directory, consent, conversations (open, claim,
 * transfer, close), texts, receipts and typing, the outbox, per-sender
 * sequence checks, and forward secrecy.
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
 * the relay is told to delete it and before the application hears of it.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "custody.h"
#include "prekey.h"

#define MAX_KEYS 32u            /* receive keys kept per conversation */
#define MAX_SENDERS 8u
#define MAX_FANOUT 32u
#define SEQ_WINDOW 64u
#define PREKEY_TARGET 20u
#define PREKEY_LOW 8u
#define OUTBOX_WINDOW 64u
#define RETRY_MS 2000u
#define PREKEY_RETRY_MS 60000u /* a payload found no prekey to seal to: asked again */
#define RETENTION_SWEEP_MS (3600u * 1000u)   /* history retention is applied hourly */
#define SEEN_KEEP_MS (60ull * 24 * 3600 * 1000) /* relays keep envelopes 30 days by default */
#define RELAY_AUTH_DOMAIN "relay-auth"
#define HANDOVER_MAX 60000u     /* a Handover's bytes: with a certificate, still one envelope */

/* ------------------------------------------------------------------ */
/* State kept in memory */

struct skey {
    uint8_t pk[32];
    uint8_t sk[32];
    uint64_t created;
    bool used;                   /* the peer has sealed to it */
};

struct sseq {
    uint8_t key[32];
    uint64_t highest, window;
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
    uint64_t custody;            /* custody counter: the customer's current, agents' highest */
    struct buf custody_ack;      /* agents: the newest acknowledgement naming this agent */
    uint64_t notice_seq;         /* customers: last number used for notices to other agents */
    bool reduced_secrecy;        /* an Open or Handover of it went to a medium-term prekey */
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
    uint64_t history_retention_ms; /* 0: history kept until erased */
    uint64_t next_sweep;         /* when the retention sweep runs next */
    uint64_t mt_next;            /* agents: when the medium-term prekey next needs care */
    uint64_t prekey_retry_at;    /* payloads that found no prekey are asked for again; 0: none */
    uint64_t *acked;             /* outbox rows acknowledged, deleted at the next tick */
    size_t n_acked, cap_acked;
    uint8_t receipts[64][16];    /* conversations owing a delivery receipt */
    uint64_t receipt_seq[64];
    size_t n_receipts;
};

static void buf_free(struct buf *b)
{
    parley_free(b->p, b->n);
    b->p = NULL;
    b->n = 0;
}

static bool buf_set(struct buf *b, const uint8_t *p, size_t n)
{
    uint8_t *copy = NULL;

    if (n > 0) {
        copy = malloc(n);
        if (copy == NULL)
            return false;
        memcpy(copy, p, n);
    }
    buf_free(b);
    b->p = copy;
    b->n = n;
    return true;
}

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* ------------------------------------------------------------------ */
/* Output queues */

/*
 * Makes room for one more element in a growable array of n used, *cap
 * allocated: returns the array (moved, perhaps), or NULL when out of
 * memory, the old one being left as it was.
 */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    size_t want = *cap ? *cap * 2 : 16;
    void *grown;

    if (n < *cap)
        return arr;
    grown = realloc(arr, want * elem);
    if (grown != NULL)
        *cap = want;
    return grown;
}


static void queue_frame(struct parley__core *c, const Parley__Frame *f)
{
    struct buf b, *frames = grow(c->frames, &c->cap_frames, c->n_frames, sizeof(*frames));

    if (frames == NULL)
        return;
    c->frames = frames;
    if (parley__pack(&f->base, &b.p, &b.n) != PARLEY_OK)
        return;
    c->frames[c->n_frames++] = b;
}

bool parley__core_next_frame(struct parley__core *c, uint8_t **frame, size_t *len)
{
    if (c->frame_head == c->n_frames) {
        c->frame_head = c->n_frames = 0;
        return false;
    }
    *frame = c->frames[c->frame_head].p;
    *len = c->frames[c->frame_head].n;
    c->frame_head++;
    return true;
}

static void event_clear(struct event_item *e)
{
    if (e->text != NULL)
        parley_free(e->text, strlen(e->text) + 1);
    free(e->queue);
    memset(e, 0, sizeof(*e));
}

/* Queues ev; text (may be NULL, n bytes) and queue are copied. */
static void emit(struct parley__core *c, const parley_event *ev, const uint8_t *text, size_t n)
{
    struct event_item *e = grow(c->events, &c->cap_events, c->n_events, sizeof(*e));

    if (e == NULL)
        return;
    c->events = e;
    e = &c->events[c->n_events];
    memset(e, 0, sizeof(*e));
    e->ev = *ev;
    if (text != NULL) {
        e->text = malloc(n + 1);
        if (e->text == NULL)
            return;
        memcpy(e->text, text, n);
        e->text[n] = '\0';
        e->ev.text = e->text;
        e->ev.text_len = n;
    }
    if (ev->queue != NULL) {
        e->queue = strdup(ev->queue);
        e->ev.queue = e->queue;
    }
    c->n_events++;
}

bool parley__core_next_event(struct parley__core *c, parley_event *ev)
{
    event_clear(&c->current);
    if (c->event_head == c->n_events) {
        c->event_head = c->n_events = 0;
        return false;
    }
    c->current = c->events[c->event_head++];
    *ev = c->current.ev;
    return true;
}

bool parley__core_has_events(const struct parley__core *c)
{
    return c->event_head < c->n_events;
}

void parley__core_note_disconnect(struct parley__core *c, parley_err why, uint64_t retry_ms)
{
    parley_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_DISCONNECTED;
    ev.error = why;
    ev.retry_ms = retry_ms;
    emit(c, &ev, NULL, 0);
}

static void emit_simple(struct parley__core *c, parley_event_kind kind, const uint8_t conv[16])
{
    parley_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    if (conv != NULL)
        memcpy(ev.conversation_id, conv, 16);
    emit(c, &ev, NULL, 0);
}

static void emit_rejected(struct parley__core *c, const uint8_t conv[16], parley_err err)
{
    parley_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_REJECTED;
    ev.error = err;
    if (conv != NULL)
        memcpy(ev.conversation_id, conv, 16);
    emit(c, &ev, NULL, 0);
}

static void emit_state_by(struct parley__core *c, const struct conv *cv, const char *claimer);

/*
 * A conversation's first contents (an Open, a Handover) went to or came
 * through a medium-term prekey: its forward secrecy is reduced until that
 * prekey's secret is deleted. Recorded in cv; true when newly so, for
 * emit_reduced once committed.
 */
static bool mark_reduced(struct conv *cv, const Parley__Payload *p, bool medium_term)
{
    if (!medium_term || cv->reduced_secrecy ||
        (p->body_case != PARLEY__PAYLOAD__BODY_OPEN &&
         p->body_case != PARLEY__PAYLOAD__BODY_HANDOVER))
        return false;
    cv->reduced_secrecy = true;
    return true;
}

static void emit_reduced(struct parley__core *c, const struct conv *cv)
{
    parley_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_REDUCED_SECRECY;
    memcpy(ev.conversation_id, cv->id, 16);
    ev.queue = cv->queue;
    emit(c, &ev, NULL, 0);
}

static void emit_state(struct parley__core *c, const struct conv *cv)
{
    emit_state_by(c, cv, NULL);
}

/* claimer: for a conversation taken by a colleague, that colleague's agent id. */
static void emit_state_by(struct parley__core *c, const struct conv *cv, const char *claimer)
{
    parley_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_CONVERSATION;
    memcpy(ev.conversation_id, cv->id, 16);
    ev.state = cv->state;
    ev.queue = cv->queue;
    if (cv->state == PARLEY_CONV_TRANSFERRING) {
        ev.agent = cv->target;
        ev.sender_is_agent = 1;
    } else if (cv->agent_cert.n > 0) {
        ev.agent = cv->agent;
        ev.sender_is_agent = 1;
    } else if (claimer != NULL) {
        parley__copy_str(ev.agent.agent_id, sizeof(ev.agent.agent_id), claimer);
    }
    emit(c, &ev, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* Conversations at rest */

static void conv_free(struct conv *cv)
{
    buf_free(&cv->agent_cert);
    buf_free(&cv->consent);
    buf_free(&cv->target_cert);
    buf_free(&cv->custody_ack);
    sodium_memzero(cv, sizeof(*cv));
}

static bool cert_of(const struct parley__core *c, const struct buf *b, parley_cert_info *info)
{
    return b->n > 0 && parley_cert_inspect(b->p, b->n, info) == PARLEY_OK;
}

static parley_err conv_load(struct parley__core *c, const uint8_t id[16], struct conv *cv)
{
    Parley__ConversationState *s;
    uint8_t *val;
    size_t len;
    parley_err err = parley__vault_get(c->vault, "conv", id, 16, &val, &len);

    memset(cv, 0, sizeof(*cv));
    if (err != PARLEY_OK)
        return err;
    s = parley__conversation_state__unpack(&parley__wiping_allocator, len, val);
    parley_free(val, len);
    if (s == NULL || !parley__len_is(s->conversation_id, 16))
        goto bad;
    memcpy(cv->id, s->conversation_id.data, 16);
    cv->state = (parley_conv_state)s->state;
    if (!parley__copy_str(cv->queue, sizeof(cv->queue), s->queue))
        goto bad;
    if (s->customer_sign_key.len == 32) {
        memcpy(cv->customer, s->customer_sign_key.data, 32);
        cv->has_customer = true;
    }
    if (s->conversation_salt.len == 16) {
        memcpy(cv->salt, s->conversation_salt.data, 16);
        cv->has_salt = true;
    }
    if (s->peer_receive_key.len == 32) {
        memcpy(cv->peer_rk, s->peer_receive_key.data, 32);
        cv->has_peer_rk = true;
    }
    cv->my_seq = s->my_seq;
    for (size_t i = 0; i < s->n_senders && cv->n_senders < MAX_SENDERS; i++) {
        if (!parley__len_is(s->senders[i]->sign_key, 32))
            goto bad;
        memcpy(cv->senders[cv->n_senders].key, s->senders[i]->sign_key.data, 32);
        cv->senders[cv->n_senders].highest = s->senders[i]->highest;
        cv->senders[cv->n_senders].window = s->senders[i]->window;
        cv->n_senders++;
    }
    for (size_t i = 0; i < s->n_receive_keys && cv->n_keys < MAX_KEYS; i++) {
        Parley__StoredKey *k = s->receive_keys[i];
        if (!parley__len_is(k->public_key, 32) || !parley__len_is(k->secret_key, 32))
            goto bad;
        memcpy(cv->keys[cv->n_keys].pk, k->public_key.data, 32);
        memcpy(cv->keys[cv->n_keys].sk, k->secret_key.data, 32);
        cv->keys[cv->n_keys].created = k->created_ms;
        cv->keys[cv->n_keys].used = k->used;
        cv->n_keys++;
    }
    for (size_t i = 0; i < s->n_fanout && cv->n_fanout < MAX_FANOUT; i++)
        if (parley__len_is(s->fanout[i], 32))
            memcpy(cv->fanout[cv->n_fanout++], s->fanout[i].data, 32);
    if (!buf_set(&cv->agent_cert, s->agent_cert.data, s->agent_cert.len) ||
        !buf_set(&cv->consent, s->consent.data, s->consent.len) ||
        !buf_set(&cv->target_cert, s->transfer_target.data, s->transfer_target.len))
        goto bad;
    cert_of(c, &cv->agent_cert, &cv->agent);
    cert_of(c, &cv->target_cert, &cv->target);
    cv->history_count = s->history_count;
    cv->peer_read = s->peer_read_seq;
    cv->peer_delivered = s->peer_delivered_seq;
    cv->erasure = s->erasure;
    cv->custody = s->custody_counter;
    cv->notice_seq = s->notice_seq;
    cv->reduced_secrecy = s->reduced_secrecy;
    if (!buf_set(&cv->custody_ack, s->custody_ack.data, s->custody_ack.len))
        goto bad;
    parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
    return PARLEY_OK;
bad:
    if (s != NULL)
        parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
    conv_free(cv);
    return PARLEY_EIO;
}

static parley_err conv_save(struct parley__core *c, const struct conv *cv)
{
    Parley__ConversationState s = PARLEY__CONVERSATION_STATE__INIT;
    Parley__SenderSeq seqs[MAX_SENDERS], *seq_ptrs[MAX_SENDERS];
    Parley__StoredKey keys[MAX_KEYS], *key_ptrs[MAX_KEYS];
    ProtobufCBinaryData fan[MAX_FANOUT];
    parley_err err;

    s.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)cv->id};
    s.state = (uint32_t)cv->state;
    s.queue = (char *)cv->queue;
    if (cv->has_customer)
        s.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)cv->customer};
    if (cv->has_salt)
        s.conversation_salt = (ProtobufCBinaryData){16, (uint8_t *)cv->salt};
    s.agent_cert = (ProtobufCBinaryData){cv->agent_cert.n, cv->agent_cert.p};
    if (cv->has_peer_rk)
        s.peer_receive_key = (ProtobufCBinaryData){32, (uint8_t *)cv->peer_rk};
    s.my_seq = cv->my_seq;
    for (size_t i = 0; i < cv->n_senders; i++) {
        parley__sender_seq__init(&seqs[i]);
        seqs[i].sign_key = (ProtobufCBinaryData){32, (uint8_t *)cv->senders[i].key};
        seqs[i].highest = cv->senders[i].highest;
        seqs[i].window = cv->senders[i].window;
        seq_ptrs[i] = &seqs[i];
    }
    s.senders = seq_ptrs;
    s.n_senders = cv->n_senders;
    for (size_t i = 0; i < cv->n_keys; i++) {
        parley__stored_key__init(&keys[i]);
        keys[i].public_key = (ProtobufCBinaryData){32, (uint8_t *)cv->keys[i].pk};
        keys[i].secret_key = (ProtobufCBinaryData){32, (uint8_t *)cv->keys[i].sk};
        keys[i].created_ms = cv->keys[i].created;
        keys[i].used = cv->keys[i].used;
        key_ptrs[i] = &keys[i];
    }
    s.receive_keys = key_ptrs;
    s.n_receive_keys = cv->n_keys;
    s.consent = (ProtobufCBinaryData){cv->consent.n, cv->consent.p};
    for (size_t i = 0; i < cv->n_fanout; i++)
        fan[i] = (ProtobufCBinaryData){32, (uint8_t *)cv->fanout[i]};
    s.fanout = fan;
    s.n_fanout = cv->n_fanout;
    s.transfer_target = (ProtobufCBinaryData){cv->target_cert.n, cv->target_cert.p};
    s.history_count = cv->history_count;
    s.peer_read_seq = cv->peer_read;
    s.peer_delivered_seq = cv->peer_delivered;
    s.erasure = cv->erasure;
    s.custody_counter = cv->custody;
    s.custody_ack = (ProtobufCBinaryData){cv->custody_ack.n, cv->custody_ack.p};
    s.notice_seq = cv->notice_seq;
    s.reduced_secrecy = cv->reduced_secrecy;
    err = parley__vault_put_pb(c->vault, "conv", cv->id, 16, &s.base);
    sodium_memzero(keys, sizeof(keys));
    return err;
}

/* Forgets every receive secret of the conversation (closed or handed over). */
static void conv_forget_keys(struct conv *cv)
{
    sodium_memzero(cv->keys, sizeof(cv->keys));
    cv->n_keys = 0;
}

/*
 * The receive key to announce in the next payload: the newest one until
 * the peer has used it, then a fresh one. So keys turn over once per
 * round trip, and a burst of payloads one way never outruns the keys the
 * peer can still seal to.
 */
static const uint8_t *conv_receive_key(struct conv *cv, uint64_t now)
{
    struct skey *k;

    if (cv->n_keys > 0 && !cv->keys[cv->n_keys - 1].used)
        return cv->keys[cv->n_keys - 1].pk;
    if (cv->n_keys == MAX_KEYS) {
        /* Only used keys are ever dropped here: the peer has moved past them. */
        sodium_memzero(&cv->keys[0], sizeof(cv->keys[0]));
        memmove(&cv->keys[0], &cv->keys[1], (MAX_KEYS - 1) * sizeof(cv->keys[0]));
        cv->n_keys--;
    }
    k = &cv->keys[cv->n_keys++];
    crypto_box_keypair(k->pk, k->sk);
    k->created = now;
    k->used = false;
    return k->pk;
}

static parley_err history_add(struct parley__core *c, struct conv *cv, const uint8_t *envelope_id,
                              bool from_me, const uint8_t sender[32], const char *name,
                              uint64_t seq, uint64_t time_ms, const uint8_t *text, size_t n,
                              parley_body_kind kind)
{
    Parley__HistoryRecord h = PARLEY__HISTORY_RECORD__INIT;
    uint8_t key[24];

    memcpy(key, cv->id, 16);
    be64(key + 16, cv->history_count++);
    if (envelope_id != NULL)
        h.envelope_id = (ProtobufCBinaryData){16, (uint8_t *)envelope_id};
    h.from_me = from_me;
    h.sender_sign_key = (ProtobufCBinaryData){32, (uint8_t *)sender};
    h.sender_name = (char *)(name != NULL ? name : "");
    h.seq = seq;
    h.time_ms = time_ms;
    h.text = (ProtobufCBinaryData){n, (uint8_t *)text};
    h.kind = (uint32_t)kind;
    return parley__vault_put_pb(c->vault, "history", key, sizeof(key), &h.base);
}

/* ------------------------------------------------------------------ */
/* Sealing and the outbox */

static size_t varint(uint8_t *out, size_t v)
{
    size_t n = 0;

    do {
        out[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v != 0)
            out[n] |= 0x80;
        n++;
    } while (v != 0);
    return n;
}

/* Frame{send: envelope}: field 4, length-delimited, around the stored bytes. */
static void queue_send(struct parley__core *c, const struct out_item *it)
{
    struct buf b;
    struct buf *frames = grow(c->frames, &c->cap_frames, c->n_frames, sizeof(*frames));
    uint8_t head[11];
    size_t h;

    if (frames == NULL)
        return;
    c->frames = frames;
    head[0] = 0x22;
    h = 1 + varint(head + 1, it->env_len);
    b.n = h + it->env_len;
    b.p = malloc(b.n);
    if (b.p == NULL)
        return;
    memcpy(b.p, head, h);
    memcpy(b.p + h, it->env, it->env_len);
    c->frames[c->n_frames++] = b;
}

static void pump_outbox(struct parley__core *c, uint64_t now)
{
    size_t in_flight = 0;

    if (c->net != NET_READY)
        return;
    for (size_t i = 0; i < c->n_out; i++)
        in_flight += c->out[i].in_flight;
    for (size_t i = 0; i < c->n_out && in_flight < OUTBOX_WINDOW; i++) {
        struct out_item *it = &c->out[i];
        if (it->in_flight || it->retry_at > now)
            continue;
        queue_send(c, it);
        it->in_flight = true;
        in_flight++;
    }
}

static struct out_item *out_add(struct parley__core *c)
{
    struct out_item *out = grow(c->out, &c->cap_out, c->n_out, sizeof(*out));

    if (out == NULL)
        return NULL;
    c->out = out;
    memset(&c->out[c->n_out], 0, sizeof(c->out[0]));
    return &c->out[c->n_out++];
}

static void out_remove(struct parley__core *c, size_t i)
{
    free(c->out[i].env);
    memmove(&c->out[i], &c->out[i + 1], (c->n_out - i - 1) * sizeof(c->out[0]));
    c->n_out--;
}

/*
 * The routing id of a recipient: an agent's client writes to its customer
 * in the customer domain and to colleagues (handovers) in the agent
 * domain; a customer writes only to agents.
 */
static void route_to(const struct parley__core *c, const struct conv *cv, const uint8_t to_sign[32],
                     uint8_t routing[32])
{
    bool customer = c->agent && cv->has_customer && memcmp(to_sign, cv->customer, 32) == 0;

    parley_routing_id(to_sign, customer ? PARLEY_ROUTING_CUSTOMER : PARLEY_ROUTING_AGENT, routing);
}

/*
 * Seals p for (to_sign, to_box) in conversation cv and writes it to the
 * outbox. seq 0 means the next of cv; announce adds a fresh receive key.
 * Must run inside a vault transaction; the caller saves cv and commits,
 * then calls pump_outbox. On failure nothing is added in memory.
 */
static parley_err seal_to_outbox(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                                 uint64_t seq, bool announce, const uint8_t to_sign[32],
                                 const uint8_t to_box[32], uint64_t now, uint64_t *seq_out)
{
    /* p may come from an unpack: every field set here is put back before return. */
    Parley__Payload saved = *p;
    ProtobufCBinaryData saved_open_key = {0, NULL};
    Parley__AgentCert *cert = NULL;
    Parley__OutboxEntry e = PARLEY__OUTBOX_ENTRY__INIT;
    struct out_item *it;
    uint8_t envelope_id[16], routing[32], row[8];
    uint8_t *sealed = NULL, *env = NULL;
    size_t sealed_len = 0, env_len = 0;
    parley_err err;

    if (c->agent) {
        cert = parley__agent_cert__unpack(NULL, c->cert.n, c->cert.p);
        if (cert == NULL)
            return PARLEY_EMALFORMED;
    }
    p->sender_cert = cert;
    p->conversation_id = (ProtobufCBinaryData){16, cv->id};
    p->seq = seq != 0 ? seq : ++cv->my_seq;
    p->time_ms = now;
    if (announce)
        p->next_receive_key = (ProtobufCBinaryData){32, (uint8_t *)conv_receive_key(cv, now)};
    if (p->body_case == PARLEY__PAYLOAD__BODY_OPEN) {
        saved_open_key = p->open->customer_box_key;
        p->open->customer_box_key = p->next_receive_key;
    }
    *seq_out = p->seq;
    err = parley__seal_payload(p, c->id, to_box, &sealed, &sealed_len);
    if (err != PARLEY_OK)
        goto done;
    randombytes_buf(envelope_id, sizeof(envelope_id));
    route_to(c, cv, to_sign, routing);
    err = parley__envelope_pack(envelope_id, cv->id, routing, sealed, sealed_len, &env, &env_len);
    if (err != PARLEY_OK)
        goto done;
    e.envelope_id = (ProtobufCBinaryData){16, envelope_id};
    e.envelope = (ProtobufCBinaryData){env_len, env};
    e.conversation_id = (ProtobufCBinaryData){16, cv->id};
    e.seq = p->seq;
    be64(row, c->next_row);
    err = parley__vault_put_pb(c->vault, "outbox", row, sizeof(row), &e.base);
    if (err != PARLEY_OK)
        goto done;
    it = out_add(c);
    if (it == NULL) {
        err = PARLEY_ENOMEM;
        goto done;
    }
    it->key = c->next_row++;
    memcpy(it->envelope_id, envelope_id, 16);
    memcpy(it->conv, cv->id, 16);
    it->seq = p->seq;
    it->env = env;
    it->env_len = env_len;
    env = NULL;
done:
    if (p->body_case == PARLEY__PAYLOAD__BODY_OPEN)
        p->open->customer_box_key = saved_open_key;
    *p = saved;
    if (cert != NULL)
        parley__agent_cert__free_unpacked(cert, NULL);
    free(sealed);
    free(env);
    return err;
}

/* The peer of cv: who we seal to now. False when not known yet. */
static bool conv_peer(const struct parley__core *c, const struct conv *cv, const uint8_t **sign,
                      const uint8_t **box)
{
    if (!cv->has_peer_rk)
        return false;
    if (c->agent) {
        if (!cv->has_customer)
            return false;
        *sign = cv->customer;
    } else {
        if (cv->agent_cert.n == 0)
            return false;
        *sign = cv->agent.sign_pk;
    }
    *box = cv->peer_rk;
    return true;
}

/* What else a payload sent now changes, in its transaction; seq is the number it used. */
typedef parley_err (*send_also_fn)(struct parley__core *c, struct conv *cv, uint64_t seq,
                                   void *arg);

/*
 * Sends p to the conversation's peer now: seal, outbox, whatever `also`
 * adds, save, commit. announce: with a fresh receive key. Drops the
 * newest out item again if the commit fails.
 */
static parley_err send_now_with(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                                bool announce, send_also_fn also, void *arg, uint64_t *seq,
                                uint64_t now)
{
    const uint8_t *sign, *box;
    size_t n_before = c->n_out;
    uint64_t used = 0;
    parley_err err;

    if (!conv_peer(c, cv, &sign, &box))
        return PARLEY_ESTATE;
    err = parley__vault_begin(c->vault);
    if (err != PARLEY_OK)
        return err;
    err = seal_to_outbox(c, cv, p, 0, announce, sign, box, now, &used);
    if (err == PARLEY_OK && also != NULL)
        err = also(c, cv, used, arg);
    if (err == PARLEY_OK)
        err = conv_save(c, cv);
    if (err == PARLEY_OK)
        err = parley__vault_commit(c->vault);
    else
        parley__vault_rollback(c->vault);
    if (err != PARLEY_OK) {
        while (c->n_out > n_before)
            out_remove(c, c->n_out - 1);
        return err;
    }
    if (seq != NULL)
        *seq = used;
    pump_outbox(c, now);
    return PARLEY_OK;
}

struct sent_text {
    const uint8_t *text;
    size_t len;
    uint64_t now;
};

/* The text just sealed goes to our own history. */
static parley_err sent_to_history(struct parley__core *c, struct conv *cv, uint64_t seq,
                                  void *arg)
{
    const struct sent_text *t = arg;

    return history_add(c, cv, c->out[c->n_out - 1].envelope_id, true,
                       parley_identity_sign_pk(c->id), c->agent ? c->cert_info.display_name : NULL,
                       seq, t->now, t->text, t->len, PARLEY_BODY_TEXT);
}

/* Sends p to the conversation's peer now, announcing a fresh key; a text also goes to history. */
static parley_err send_now(struct parley__core *c, struct conv *cv, Parley__Payload *p,
                           const uint8_t *history_text, size_t history_len, uint64_t *seq,
                           uint64_t now)
{
    struct sent_text t = {history_text, history_len, now};

    return send_now_with(c, cv, p, true, history_text != NULL ? sent_to_history : NULL, &t, seq,
                         now);
}

/* ------------------------------------------------------------------ */
/* Payloads waiting for a key */

/* Saves a payload for later: to agent `to` (a prekey to fetch) or, to NULL, the current agent. */
static parley_err pending_add(struct parley__core *c, const uint8_t conv[16], const uint8_t *to,
                              const Parley__Payload *p)
{
    Parley__PendingSend ps = PARLEY__PENDING_SEND__INIT;
    uint8_t row[8], *pbuf;
    size_t plen;
    parley_err err = parley__pack(&p->base, &pbuf, &plen);

    if (err != PARLEY_OK)
        return err;
    ps.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)conv};
    if (to != NULL)
        ps.to_sign_key = (ProtobufCBinaryData){32, (uint8_t *)to};
    ps.payload = (ProtobufCBinaryData){plen, pbuf};
    be64(row, c->next_row++);
    err = parley__vault_put_pb(c->vault, "pending", row, sizeof(row), &ps.base);
    parley_free(pbuf, plen);
    return err;
}

struct pending_list {
    uint64_t rows[256];
    Parley__PendingSend *items[256];
    size_t n;
};

static int pending_collect(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                           size_t val_len)
{
    struct pending_list *l = arg;
    uint64_t row = 0;

    if (key_len != 8 || l->n == 256)
        return l->n == 256;
    for (int i = 0; i < 8; i++)
        row = (row << 8) | key[i];
    l->items[l->n] = parley__pending_send__unpack(&parley__wiping_allocator, val_len, val);
    if (l->items[l->n] != NULL)
        l->rows[l->n++] = row;
    return 0;
}

static void pending_list_free(struct pending_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        parley__pending_send__free_unpacked(l->items[i], &parley__wiping_allocator);
    l->n = 0;
}

static bool waiting_for(const struct parley__core *c, uint64_t row)
{
    for (size_t i = 0; i < c->n_waits; i++)
        if (c->waits[i].pending_key == row)
            return true;
    return false;
}

/*
 * Seals a pending payload to (to_sign, to_box) and removes it from
 * "pending", in one transaction. medium_term: to_box is a medium-term
 * prekey (the conversation's forward secrecy is reduced).
 */
static parley_err pending_seal(struct parley__core *c, uint64_t row, const Parley__PendingSend *ps,
                               const uint8_t to_sign[32], const uint8_t to_box[32], bool current,
                               bool medium_term, uint64_t now)
{
    Parley__Payload *p;
    struct conv cv;
    uint8_t key[8];
    size_t n_before = c->n_out;
    parley_err err;
    bool announce, reduced;
    uint64_t seq, used = 0;

    if (!parley__len_is(ps->conversation_id, 16))
        return PARLEY_EMALFORMED;
    p = parley__payload__unpack(&parley__wiping_allocator, ps->payload.len, ps->payload.data);
    if (p == NULL)
        return PARLEY_EMALFORMED;
    err = conv_load(c, ps->conversation_id.data, &cv);
    if (err != PARLEY_OK) {
        parley__payload_free(p);
        return err;
    }
    /*
     * Opens carry seq 1 to every agent and a key for the reply. Notices,
     * erasure requests and handovers to other agents carry numbers of
     * their own, above every number used so far, without using up the
     * current peer's (who would see a gap), and no key, since no reply
     * comes to them.
     */
    announce = current || p->body_case == PARLEY__PAYLOAD__BODY_OPEN;
    seq = 0;
    if (!current && p->body_case == PARLEY__PAYLOAD__BODY_OPEN)
        seq = 1;
    else if (!current)
        seq = cv.notice_seq = (cv.my_seq > cv.notice_seq ? cv.my_seq : cv.notice_seq) + 1;
    reduced = mark_reduced(&cv, p, medium_term);
    be64(key, row);
    err = parley__vault_begin(c->vault);
    if (err == PARLEY_OK) {
        err = seal_to_outbox(c, &cv, p, seq, announce, to_sign, to_box, now, &used);
        if (err == PARLEY_OK && current && p->body_case == PARLEY__PAYLOAD__BODY_TEXT)
            err = history_add(c, &cv, c->out[c->n_out - 1].envelope_id, true,
                              parley_identity_sign_pk(c->id), NULL, used, now,
                              p->text->text.data, p->text->text.len, PARLEY_BODY_TEXT);
        if (err == PARLEY_OK)
            err = conv_save(c, &cv);
        if (err == PARLEY_OK)
            err = parley__vault_del(c->vault, "pending", key, sizeof(key));
        if (err == PARLEY_OK)
            err = parley__vault_commit(c->vault);
        else
            parley__vault_rollback(c->vault);
    }
    if (err != PARLEY_OK)
        while (c->n_out > n_before)
            out_remove(c, c->n_out - 1);
    else if (reduced)
        emit_reduced(c, &cv);
    conv_free(&cv);
    parley__payload_free(p);
    return err;
}

/* Moves every pending payload forward: seals what has a key, asks for prekeys for the rest. */
static void flush_pending(struct parley__core *c, uint64_t now)
{
    struct pending_list l;

    l.n = 0;
    if (parley__vault_scan(c->vault, "pending", NULL, 0, pending_collect, &l) != PARLEY_OK) {
        pending_list_free(&l);
        return;
    }
    for (size_t i = 0; i < l.n; i++) {
        Parley__PendingSend *ps = l.items[i];

        if (ps->to_sign_key.len == 32) {
            Parley__Frame f = PARLEY__FRAME__INIT;
            Parley__PrekeyFetch pf = PARLEY__PREKEY_FETCH__INIT;

            if (c->net != NET_READY || waiting_for(c, l.rows[i]) ||
                c->n_waits == sizeof(c->waits) / sizeof(c->waits[0]))
                continue;
            c->waits[c->n_waits].pending_key = l.rows[i];
            memcpy(c->waits[c->n_waits].owner, ps->to_sign_key.data, 32);
            c->n_waits++;
            pf.owner_sign_key = ps->to_sign_key;
            f.kind_case = PARLEY__FRAME__KIND_PREKEY_FETCH;
            f.prekey_fetch = &pf;
            queue_frame(c, &f);
        } else if (parley__len_is(ps->conversation_id, 16)) {
            struct conv cv;
            const uint8_t *sign, *box;
            uint8_t s[32], b[32];

            if (conv_load(c, ps->conversation_id.data, &cv) != PARLEY_OK)
                continue;
            if (cv.state == PARLEY_CONV_ACTIVE && conv_peer(c, &cv, &sign, &box)) {
                memcpy(s, sign, 32);
                memcpy(b, box, 32);
                conv_free(&cv);
                pending_seal(c, l.rows[i], ps, s, b, true, false, now);
                continue;
            }
            conv_free(&cv);
        }
    }
    pending_list_free(&l);
    pump_outbox(c, now);
}

/* The held directory, if it has not expired: without one, nothing new starts. */
static bool dir_valid(const struct parley__core *c, uint64_t now)
{
    return c->dir != NULL && now / 1000u < parley_directory_expires_at(c->dir);
}

/* The directory's certificate for an agent signing key, if valid now. */
static bool agent_by_key(const struct parley__core *c, const uint8_t sign_pk[32],
                         parley_cert_info *info, const uint8_t **cert, size_t *cert_len)
{
    if (c->dir == NULL)
        return false;
    for (size_t i = 0; i < parley_directory_agent_count(c->dir); i++) {
        parley_cert_info tmp;
        if (parley_directory_agent(c->dir, i, &tmp) != PARLEY_OK ||
            sodium_memcmp(tmp.sign_pk, sign_pk, 32) != 0)
            continue;
        if (info != NULL)
            *info = tmp;
        if (cert != NULL)
            *cert = parley_directory_agent_cert(c->dir, i, cert_len);
        return true;
    }
    return false;
}

/*
 * A prekey for a payload waiting on it: checked (its owner signed it; a
 * medium-term one has not expired) and sealed to. Never the owner's
 * long-term key instead: without a usable prekey the payload waits, the
 * application is told (PARLEY_ENOPREKEY or why the prekey was refused),
 * and the prekey is asked for again later.
 */
static void on_prekey_result(struct parley__core *c, const Parley__PrekeyResult *r, uint64_t now)
{
    parley_cert_info agent;
    uint8_t key[8], box[32], *val = NULL;
    size_t i, len = 0;
    uint64_t row;
    Parley__PendingSend *ps = NULL;
    bool medium_term = false;
    parley_err err = PARLEY_ENOPREKEY;

    if (!parley__len_is(r->owner_sign_key, 32))
        return;
    for (i = 0; i < c->n_waits; i++)
        if (memcmp(c->waits[i].owner, r->owner_sign_key.data, 32) == 0)
            break;
    if (i == c->n_waits)
        return;
    row = c->waits[i].pending_key;
    memmove(&c->waits[i], &c->waits[i + 1], (c->n_waits - i - 1) * sizeof(c->waits[0]));
    c->n_waits--;
    if (!agent_by_key(c, r->owner_sign_key.data, &agent, NULL, NULL))
        return; /* no longer a valid agent: the payload stays pending */
    be64(key, row);
    if (parley__vault_get(c->vault, "pending", key, 8, &val, &len) != PARLEY_OK)
        return;
    ps = parley__pending_send__unpack(&parley__wiping_allocator, len, val);
    parley_free(val, len);
    if (ps == NULL)
        return;
    if (r->prekey != NULL)
        err = parley__prekey_verify(r->prekey, agent.sign_pk, now / 1000u, box, &medium_term);
    if (err == PARLEY_OK) {
        pending_seal(c, row, ps, agent.sign_pk, box, false, medium_term, now);
    } else {
        emit_rejected(c, parley__len_is(ps->conversation_id, 16) ? ps->conversation_id.data : NULL,
                      err);
        if (c->prekey_retry_at == 0)
            c->prekey_retry_at = now + PREKEY_RETRY_MS;
    }
    parley__pending_send__free_unpacked(ps, &parley__wiping_allocator);
    pump_outbox(c, now);
}

/* ------------------------------------------------------------------ */
/* Prekeys (agents) */

/* Sends prekeys (n, each unpacked by parley__prekey_sign) in one publication, and frees them. */
static void send_prekeys(struct parley__core *c, Parley__Prekey **pks, size_t n, bool replace)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__PrekeyPublish pub = PARLEY__PREKEY_PUBLISH__INIT;

    pub.prekeys = pks;
    pub.n_prekeys = n;
    pub.replace = replace;
    f.kind_case = PARLEY__FRAME__KIND_PREKEY_PUBLISH;
    f.prekey_publish = &pub;
    if (n > 0)
        queue_frame(c, &f);
    for (size_t i = 0; i < n; i++)
        parley__prekey__free_unpacked(pks[i], NULL);
}

/*
 * Publishes fresh one-time prekeys up to PREKEY_TARGET; their secrets are
 * stored first. replace: the relay drops the ones stored before.
 */
static void publish_prekeys(struct parley__core *c, uint64_t now, bool replace)
{
    Parley__Prekey *pks[PREKEY_TARGET];
    size_t n = 0, want;

    if (!c->agent || c->prekeys_left >= PREKEY_LOW)
        return;
    want = PREKEY_TARGET - c->prekeys_left;
    if (parley__vault_begin(c->vault) != PARLEY_OK)
        return;
    for (; n < want; n++) {
        Parley__StoredKey sk = PARLEY__STORED_KEY__INIT;
        uint8_t pk[32], sec[32];
        parley_err err;

        crypto_box_keypair(pk, sec);
        sk.public_key = (ProtobufCBinaryData){32, pk};
        sk.secret_key = (ProtobufCBinaryData){32, sec};
        sk.created_ms = now;
        err = parley__vault_put_pb(c->vault, "prekey", pk, 32, &sk.base);
        sodium_memzero(sec, sizeof(sec));
        if (err != PARLEY_OK || parley__prekey_sign(c->id, pk, now, false, &pks[n]) != PARLEY_OK)
            break;
    }
    if (n == want && parley__vault_commit(c->vault) == PARLEY_OK) {
        send_prekeys(c, pks, n, replace);
        c->prekeys_left = PREKEY_TARGET;
        return;
    }
    if (n != want)
        parley__vault_rollback(c->vault);
    for (size_t i = 0; i < n; i++)
        parley__prekey__free_unpacked(pks[i], NULL);
}

/*
 * Agents: the medium-term prekey, for when no one-time prekey is left. A
 * new one is made and published when there is none or the newest is a
 * week old (only while connected, so it reaches the relay at once); on
 * each connection the newest is published again (the relay keeps the
 * newest per agent, so this is harmless and restores one a relay lost);
 * secrets past their grace are deleted, connected or not.
 */
static void mt_maintain(struct parley__core *c, uint64_t now, bool connected_now)
{
    struct parley__mtkeys keys;
    Parley__Prekey *pk = NULL;
    bool ready = c->net == NET_READY, fresh = false;
    parley_err err;

    if (!c->agent)
        return;
    c->mt_next = UINT64_MAX;
    if (parley__mtkeys_load(c->vault, &keys) != PARLEY_OK)
        return;
    err = parley__vault_begin(c->vault);
    if (err == PARLEY_OK) {
        parley__mtkeys_sweep(c->vault, &keys, now);
        if (ready && parley__mtkeys_due(&keys, now)) {
            err = parley__mtkeys_add(c->vault, &keys, now);
            fresh = err == PARLEY_OK;
        }
        if (err == PARLEY_OK)
            err = parley__vault_commit(c->vault);
        else
            parley__vault_rollback(c->vault);
    }
    if (err == PARLEY_OK && ready && (fresh || connected_now) && keys.n > 0 &&
        parley__prekey_sign(c->id, keys.k[keys.n - 1].pk, keys.k[keys.n - 1].created_ms, true,
                            &pk) == PARLEY_OK)
        send_prekeys(c, &pk, 1, false);
    c->mt_next = parley__mtkeys_deadline(&keys, ready);
    parley__mtkeys_wipe(&keys);
}

struct key_list {
    struct skey keys[64];
    size_t n;
};

static int collect_prekey(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                          size_t val_len)
{
    struct key_list *l = arg;
    Parley__StoredKey *k;

    if (l->n == 64)
        return 1;
    k = parley__stored_key__unpack(&parley__wiping_allocator, val_len, val);
    if (k != NULL && parley__len_is(k->public_key, 32) && parley__len_is(k->secret_key, 32)) {
        memcpy(l->keys[l->n].pk, k->public_key.data, 32);
        memcpy(l->keys[l->n].sk, k->secret_key.data, 32);
        l->n++;
    }
    if (k != NULL)
        parley__stored_key__free_unpacked(k, &parley__wiping_allocator);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Receiving envelopes */

struct opened {
    Parley__Payload *p;
    parley_cert_info cert;
    int is_agent;
    uint8_t used_pk[32];
    bool used_prekey;
    bool used_mt;                /* sealed to a medium-term prekey: no one-time prekey was left */
};

/*
 * Tries the conversation's keys (newest first), then, for agents, the
 * one-time and the medium-term prekeys. Never the identity key: nothing is
 * sealed to it, so it opens nothing.
 */
static parley_err open_envelope(struct parley__core *c, const Parley__Envelope *env,
                                const struct conv *cv, bool have_conv, struct opened *o,
                                uint64_t now)
{
    parley_trust trust;
    parley_err best = PARLEY_EBADSEAL, err;
    struct key_list *pre = NULL;
    struct parley__mtkeys *mt = NULL;

    memset(o, 0, sizeof(*o));
    memset(&trust, 0, sizeof(trust));
    trust.brand_pk = c->brand_pk;
    trust.brand_id = c->brand_id;
    trust.now = now / 1000u;
    trust.revs = c->dir != NULL ? parley_directory_revocations(c->dir) : NULL;
    trust.require_agent = !c->agent;
    for (size_t i = have_conv ? cv->n_keys : 0; i-- > 0;) {
        err = parley__open_sealed(env->sealed.data, env->sealed.len, cv->keys[i].pk,
                                  cv->keys[i].sk, env->conversation_id.data, &trust, &o->p,
                                  &o->cert, &o->is_agent);
        if (err == PARLEY_OK) {
            memcpy(o->used_pk, cv->keys[i].pk, 32);
            return PARLEY_OK;
        }
        if (err != PARLEY_EBADSEAL)
            return err; /* it opened: what failed is the content, not the key */
    }
    if (!c->agent)
        return best;
    pre = calloc(1, sizeof(*pre));
    mt = calloc(1, sizeof(*mt));
    if (pre == NULL || mt == NULL) {
        free(pre);
        free(mt);
        return PARLEY_ENOMEM;
    }
    parley__vault_scan(c->vault, "prekey", NULL, 0, collect_prekey, pre);
    parley__mtkeys_load(c->vault, mt);
    /* One-time prekeys first, then the medium-term ones, newest first. */
    for (size_t i = 0; i < pre->n + mt->n && best == PARLEY_EBADSEAL; i++) {
        bool one_time = i < pre->n;
        const uint8_t *pk = one_time ? pre->keys[i].pk : mt->k[mt->n - 1 - (i - pre->n)].pk;
        const uint8_t *sk = one_time ? pre->keys[i].sk : mt->k[mt->n - 1 - (i - pre->n)].sk;

        err = parley__open_sealed(env->sealed.data, env->sealed.len, pk, sk,
                                  env->conversation_id.data, &trust, &o->p, &o->cert,
                                  &o->is_agent);
        if (err == PARLEY_OK) {
            memcpy(o->used_pk, pk, 32);
            o->used_prekey = one_time;
            o->used_mt = !one_time;
        }
        best = err;
    }
    sodium_memzero(pre, sizeof(*pre));
    free(pre);
    parley__mtkeys_wipe(mt);
    free(mt);
    return best;
}

/* The peer sealed to pk: it is used, and the keys older than it are dropped. */
static void conv_keys_used(struct conv *cv, const uint8_t pk[32])
{
    for (size_t i = 0; i < cv->n_keys; i++)
        if (memcmp(cv->keys[i].pk, pk, 32) == 0) {
            cv->keys[i].used = true;
            sodium_memzero(cv->keys, i * sizeof(cv->keys[0]));
            memmove(&cv->keys[0], &cv->keys[i], (cv->n_keys - i) * sizeof(cv->keys[0]));
            sodium_memzero(&cv->keys[cv->n_keys - i], i * sizeof(cv->keys[0]));
            cv->n_keys -= i;
            return;
        }
}

enum seq_verdict { SEQ_NEXT, SEQ_GAP, SEQ_REPLAY, SEQ_REORDER };

/* True when sender already used seq in cv (or so long ago the window has forgotten it). */
static bool seq_seen(const struct conv *cv, const uint8_t sender[32], uint64_t seq)
{
    for (size_t i = 0; i < cv->n_senders; i++) {
        const struct sseq *s = &cv->senders[i];
        uint64_t back;

        if (memcmp(s->key, sender, 32) != 0 || s->highest == 0 || seq > s->highest)
            continue;
        if (seq == s->highest)
            return true;
        back = s->highest - seq - 1;
        return back >= SEQ_WINDOW || ((s->window >> back) & 1);
    }
    return false;
}

/* Forgets what was counted from sender in cv: its numbering starts afresh. */
static void seq_forget(struct conv *cv, const uint8_t sender[32])
{
    for (size_t i = 0; i < cv->n_senders; i++)
        if (memcmp(cv->senders[i].key, sender, 32) == 0) {
            memmove(&cv->senders[i], &cv->senders[i + 1],
                    (cv->n_senders - i - 1) * sizeof(cv->senders[0]));
            cv->n_senders--;
            return;
        }
}

/* Per-sender sequence check with a window of the last 64 numbers. */
static enum seq_verdict seq_check(struct conv *cv, const uint8_t sender[32], uint64_t seq,
                                  uint64_t *gap_from)
{
    struct sseq *s = NULL;

    for (size_t i = 0; i < cv->n_senders; i++)
        if (memcmp(cv->senders[i].key, sender, 32) == 0)
            s = &cv->senders[i];
    if (s == NULL) {
        if (cv->n_senders == MAX_SENDERS) {
            memmove(&cv->senders[0], &cv->senders[1], (MAX_SENDERS - 1) * sizeof(cv->senders[0]));
            cv->n_senders--;
        }
        s = &cv->senders[cv->n_senders++];
        memset(s, 0, sizeof(*s));
        memcpy(s->key, sender, 32);
    }
    if (seq == s->highest)
        return SEQ_REPLAY;
    if (seq < s->highest) {
        uint64_t back = s->highest - seq - 1;
        if (back >= SEQ_WINDOW || (s->window >> back) & 1)
            return SEQ_REPLAY;
        return SEQ_REORDER; /* never seen, but later than what followed it */
    }
    {
        uint64_t shift = seq - s->highest;
        enum seq_verdict v = shift == 1 ? SEQ_NEXT : SEQ_GAP;
        *gap_from = s->highest + 1;
        s->window = shift >= SEQ_WINDOW ? 0 : (s->window << shift) | (1ull << (shift - 1));
        if (s->highest == 0)
            s->window = 0;
        s->highest = seq;
        return v;
    }
}

static void send_delivered(struct parley__core *c, const uint8_t envelope_id[16])
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Delivered d = PARLEY__DELIVERED__INIT;
    ProtobufCBinaryData id = {16, (uint8_t *)envelope_id};

    d.envelope_ids = &id;
    d.n_envelope_ids = 1;
    f.kind_case = PARLEY__FRAME__KIND_DELIVERED;
    f.delivered = &d;
    queue_frame(c, &f);
}

static void receipt_due(struct parley__core *c, const uint8_t conv[16], uint64_t seq)
{
    for (size_t i = 0; i < c->n_receipts; i++)
        if (memcmp(c->receipts[i], conv, 16) == 0) {
            if (seq > c->receipt_seq[i])
                c->receipt_seq[i] = seq;
            return;
        }
    if (c->n_receipts < 64) {
        memcpy(c->receipts[c->n_receipts], conv, 16);
        c->receipt_seq[c->n_receipts++] = seq;
    }
}

static bool consent_valid(const struct parley__core *c, const Parley__ConsentReceipt *r,
                          const uint8_t customer[32])
{
    Parley__ConsentReceiptBody *b;
    bool ok;

    /* Without the notice there is nothing to check consent against: never assumed. */
    if (r == NULL || c->dir == NULL ||
        parley__verify_pb(customer, 32, PARLEY__DOMAIN_CONSENT, r->body, r->signature) != PARLEY_OK)
        return false;
    b = parley__consent_receipt_body__unpack(NULL, r->body.len, r->body.data);
    if (b == NULL)
        return false;
    ok = strcmp(b->brand_id, c->brand_id) == 0 && parley__len_is(b->customer_sign_key, 32) &&
         memcmp(b->customer_sign_key.data, customer, 32) == 0 && b->notice_version > 0 &&
         !b->withdrawn;
    /*
     * Against the notice this agent knows: not a version from the future,
     * and for the current version, the very text (its hash) the brand signed.
     */
    if (ok) {
        uint32_t current = parley_directory_notice_version(c->dir);
        const char *notice = parley_directory_notice_text(c->dir);
        uint8_t hash[32];

        crypto_generichash(hash, sizeof(hash), (const uint8_t *)notice, strlen(notice), NULL, 0);
        ok = b->notice_version < current ||
             (b->notice_version == current && parley__len_is(b->notice_hash, 32) &&
              sodium_memcmp(b->notice_hash.data, hash, 32) == 0);
    }
    parley__consent_receipt_body__free_unpacked(b, NULL);
    return ok;
}

/*
 * Claims a conversation offered or handed to us: tells the customer who
 * now answers, with our key, and which custody the claim follows (0 after
 * an Open, else the counter of the acknowledgement the handover carried).
 */
static void claim_of(const struct parley__core *c, const struct conv *cv, Parley__Payload *p,
                     Parley__Claim *cl)
{
    cl->agent_id = (char *)c->cert_info.agent_id;
    cl->custody = cv->custody;
    p->body_case = PARLEY__PAYLOAD__BODY_CLAIM;
    p->claim = cl;
}

static parley_err send_claim(struct parley__core *c, struct conv *cv, uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Claim cl = PARLEY__CLAIM__INIT;

    claim_of(c, cv, &p, &cl);
    return send_now(c, cv, &p, NULL, 0, NULL, now);
}

/* The same inside the transaction that takes a handover, so that a crash cannot lose it. */
static parley_err seal_claim(struct parley__core *c, struct conv *cv)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Claim cl = PARLEY__CLAIM__INIT;
    uint64_t used;

    claim_of(c, cv, &p, &cl);
    return seal_to_outbox(c, cv, &p, 0, true, cv->customer, cv->peer_rk, c->now, &used);
}

/* Customer: tells every other agent the Open went to that the conversation is taken. */
static parley_err notify_fanout(struct parley__core *c, struct conv *cv,
                                const parley_cert_info *winner)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Claim cl = PARLEY__CLAIM__INIT;
    parley_err err = PARLEY_OK;

    cl.agent_id = (char *)winner->agent_id;
    p.body_case = PARLEY__PAYLOAD__BODY_CLAIM;
    p.claim = &cl;
    /* The list stays: these agents hold the first message, and hear of an erasure too. */
    for (size_t i = 0; err == PARLEY_OK && i < cv->n_fanout; i++)
        if (memcmp(cv->fanout[i], winner->sign_pk, 32) != 0)
            err = pending_add(c, cv->id, cv->fanout[i], &p);
    return err;
}

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
};

struct row_keys {
    uint8_t (*keys)[24];
    size_t n, cap;
};

static int collect_history_key(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                               size_t val_len)
{
    struct row_keys *k = arg;

    if (key_len != 24)
        return 0;
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        uint8_t(*grown)[24] = realloc(k->keys, cap * sizeof(*grown));
        if (grown == NULL)
            return 1;
        k->keys = grown;
        k->cap = cap;
    }
    memcpy(k->keys[k->n++], key, 24);
    return 0;
}

/*
 * Agents, on a customer's erasure request (inside the receiving
 * transaction): the conversation's history and consent receipt are
 * deleted, or, where the brand must keep them, marked and left out of
 * listings.
 */
static parley_err erase_local(struct parley__core *c, struct conv *cv)
{
    struct row_keys k = {NULL, 0, 0};
    parley_err err = PARLEY_OK;

    /* The brand's signed policy, or the host's own obligation. */
    if (c->keep_on_erasure || (c->dir != NULL && parley_directory_keep_on_erasure(c->dir))) {
        cv->erasure = 2;
        return PARLEY_OK;
    }
    err = parley__vault_scan(c->vault, "history", cv->id, 16, collect_history_key, &k);
    for (size_t i = 0; err == PARLEY_OK && i < k.n; i++)
        err = parley__vault_del(c->vault, "history", k.keys[i], 24);
    free(k.keys);
    buf_free(&cv->consent);
    cv->erasure = 1;
    return err;
}

/* Matching the start of a handed-over history against the rows already held. */
struct history_match {
    const Parley__Handover *h;
    const uint8_t *customer;
    size_t matched;
};

static int match_history(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                         size_t val_len)
{
    struct history_match *m = arg;
    Parley__HistoryRecord *r =
        parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    const Parley__HistoryEntry *e;
    bool same;

    (void)key;
    (void)key_len;
    if (r == NULL)
        return 0;
    if (r->kind != PARLEY_BODY_TEXT) {
        parley__history_record__free_unpacked(r, &parley__wiping_allocator);
        return 0;
    }
    e = m->matched < m->h->n_history ? m->h->history[m->matched] : NULL;
    same = e != NULL &&
           e->from_customer == (parley__len_is(r->sender_sign_key, 32) &&
                                memcmp(r->sender_sign_key.data, m->customer, 32) == 0) &&
           e->text.len == r->text.len &&
           (e->text.len == 0 || memcmp(e->text.data, r->text.data, e->text.len) == 0);
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    m->matched += same;
    return !same;
}

/*
 * How many entries at the start of a handed-over history this agent holds
 * already: its own transcript of a conversation it held before (or was
 * offered) begins the history that comes back. Only what follows is
 * added; nothing held is ever replaced.
 */
static size_t history_held(struct parley__core *c, const struct conv *cv,
                           const Parley__Handover *h)
{
    struct history_match m = {h, cv->customer, 0};

    if (parley__vault_scan(c->vault, "history", cv->id, 16, match_history, &m) != PARLEY_OK)
        return 0;
    return m.matched;
}

/* Customer: queues its signed acknowledgement of the agent now holding cv, for that agent. */
static parley_err acknowledge_custody(struct parley__core *c, const struct conv *cv,
                                      const uint8_t agent[32])
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__CustodyAck *ack;
    uint8_t *packed;
    size_t len;
    parley_err err = parley__custody_ack_make(c->id, cv->id, agent, cv->custody, c->now, &packed,
                                              &len);

    if (err != PARLEY_OK)
        return err;
    ack = parley__custody_ack__unpack(NULL, len, packed);
    free(packed);
    if (ack == NULL)
        return PARLEY_ENOMEM;
    p.body_case = PARLEY__PAYLOAD__BODY_CUSTODY_ACK;
    p.custody_ack = ack;
    err = pending_add(c, cv->id, NULL, &p);
    parley__custody_ack__free_unpacked(ack, NULL);
    return err;
}

static parley_err accept_commit(struct parley__core *c, const struct accept *a)
{
    uint8_t when[8];
    size_t held = 0, n_before = c->n_out;
    parley_err err = parley__vault_begin(c->vault);

    if (err != PARLEY_OK)
        return err;
    /* Remembered with its arrival time, so the retention sweep can forget it. */
    be64(when, c->now);
    err = parley__vault_put(c->vault, "seen", a->env->envelope_id.data, 16, when, sizeof(when));
    if (a->merge_history)
        held = history_held(c, a->cv, a->handover);
    for (size_t i = held; err == PARLEY_OK && a->handover != NULL && i < a->handover->n_history;
         i++) {
        const Parley__HistoryEntry *e = a->handover->history[i];
        err = history_add(c, a->cv, NULL, false,
                          e->from_customer ? a->cv->customer : a->o->p->sender_sign_key.data,
                          e->from_customer ? NULL : e->agent_id, 0, e->time_ms, e->text.data,
                          e->text.len, PARLEY_BODY_TEXT);
    }
    if (err == PARLEY_OK && a->text != NULL)
        err = history_add(c, a->cv, a->env->envelope_id.data, false,
                          a->o->p->sender_sign_key.data, a->sender_name, a->o->p->seq,
                          a->o->p->time_ms, a->text, a->text_len, PARLEY_BODY_TEXT);
    if (err == PARLEY_OK && a->o->used_prekey)
        err = parley__vault_del(c->vault, "prekey", a->o->used_pk, 32);
    if (err == PARLEY_OK && a->notify_fanout)
        err = notify_fanout(c, a->cv, &a->o->cert);
    if (err == PARLEY_OK && a->acknowledge)
        err = acknowledge_custody(c, a->cv, a->o->cert.sign_pk);
    if (err == PARLEY_OK && a->claim)
        err = seal_claim(c, a->cv);
    if (err == PARLEY_OK && a->erase)
        err = erase_local(c, a->cv);
    if (err == PARLEY_OK)
        err = conv_save(c, a->cv);
    if (err == PARLEY_OK)
        err = parley__vault_commit(c->vault);
    else
        parley__vault_rollback(c->vault);
    if (err != PARLEY_OK)
        while (c->n_out > n_before)
            out_remove(c, c->n_out - 1);
    return err;
}

static void emit_message(struct parley__core *c, const struct conv *cv, const struct opened *o,
                         const uint8_t *text, size_t n)
{
    parley_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_MESSAGE;
    memcpy(ev.conversation_id, cv->id, 16);
    ev.seq = o->p->seq;
    ev.time_ms = o->p->time_ms;
    ev.sender_is_agent = o->is_agent;
    if (o->is_agent)
        ev.agent = o->cert;
    memcpy(ev.sender_sign_pk, o->p->sender_sign_key.data, 32);
    emit(c, &ev, text, n);
}

/* A sequence event about o's payload: GAP (from..seq-1), REPLAY (PARLEY_EREPLAY) or REORDER. */
static void emit_seq(struct parley__core *c, const struct conv *cv, const struct opened *o,
                     parley_event_kind kind, uint64_t gap_from)
{
    parley_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    memcpy(ev.conversation_id, cv->id, 16);
    memcpy(ev.sender_sign_pk, o->p->sender_sign_key.data, 32);
    ev.seq = o->p->seq;
    if (kind == PARLEY_EV_GAP) {
        ev.gap_from = gap_from;
        ev.gap_to = o->p->seq - 1;
    }
    if (kind == PARLEY_EV_REPLAY)
        ev.error = PARLEY_EREPLAY;
    emit(c, &ev, NULL, 0);
}

/*
 * Sequence check with its events; false when the payload must be dropped.
 * A first contact (an Open, a handover, a notice from the customer to an
 * agent who never heard from it since) has no gap to report.
 */
static bool seq_ok(struct parley__core *c, struct conv *cv, const struct opened *o,
                   bool first_contact)
{
    uint64_t from = 0;
    enum seq_verdict v;

    /* Nothing counted from this sender yet (e.g. after a handover): no gap to speak of. */
    {
        bool counted = false;
        for (size_t i = 0; i < cv->n_senders; i++)
            if (memcmp(cv->senders[i].key, o->p->sender_sign_key.data, 32) == 0)
                counted = cv->senders[i].highest > 0;
        first_contact = first_contact || !counted;
    }
    v = seq_check(cv, o->p->sender_sign_key.data, o->p->seq, &from);
    if (v == SEQ_NEXT || (v == SEQ_GAP && first_contact))
        return true;
    emit_seq(c, cv, o,
             v == SEQ_GAP      ? PARLEY_EV_GAP
             : v == SEQ_REPLAY ? PARLEY_EV_REPLAY
                               : PARLEY_EV_REORDER,
             from);
    return v == SEQ_GAP;
}

/*
 * Any sequenced payload (all but typing notices) whose number its sender
 * already used in cv is a replay, whatever its body, and goes no further:
 * reported (PARLEY_EREPLAY), acknowledged to the relay, dropped.
 */
static bool replayed(struct parley__core *c, const Parley__Envelope *env, const struct conv *cv,
                     const struct opened *o)
{
    if (o->p->body_case == PARLEY__PAYLOAD__BODY_TYPING ||
        !seq_seen(cv, o->p->sender_sign_key.data, o->p->seq))
        return false;
    emit_seq(c, cv, o, PARLEY_EV_REPLAY, 0);
    send_delivered(c, env->envelope_id.data);
    return true;
}

/*
 * Agents: an erasure request for cv must be signed by its customer and
 * list cv's id with the salt that binds it to that customer (§4.6).
 */
static parley_err erasure_check(const Parley__ErasureRequest *r, const struct conv *cv)
{
    Parley__ErasureRequestBody *b;
    parley_err err = PARLEY_EUNBOUND;

    if (r == NULL || parley__verify_pb(cv->customer, 32, PARLEY__DOMAIN_ERASURE, r->body,
                                       r->signature) != PARLEY_OK)
        return PARLEY_EBADSIG;
    b = parley__erasure_request_body__unpack(NULL, r->body.len, r->body.data);
    if (b == NULL || !parley__len_is(b->customer_sign_key, 32) ||
        memcmp(b->customer_sign_key.data, cv->customer, 32) != 0)
        err = PARLEY_EMALFORMED;
    for (size_t i = 0; err == PARLEY_EUNBOUND && i < b->n_conversation_ids; i++)
        if (parley__len_is(b->conversation_ids[i], 16) &&
            memcmp(b->conversation_ids[i].data, cv->id, 16) == 0 &&
            i < b->n_conversation_salts &&
            parley__conversation_bound(cv->customer, b->conversation_salts[i], cv->id))
            err = PARLEY_OK;
    if (b != NULL)
        parley__erasure_request_body__free_unpacked(b, NULL);
    return err;
}

/* Bodies either side may receive from its current peer. */
static void peer_body(struct parley__core *c, struct conv *cv, const struct opened *o,
                      struct accept *a, bool *changed)
{
    const Parley__Payload *p = o->p;
    parley_event ev;

    memset(&ev, 0, sizeof(ev));
    memcpy(ev.conversation_id, cv->id, 16);
    switch (p->body_case) {
    case PARLEY__PAYLOAD__BODY_TEXT:
        a->text = p->text->text.data;
        a->text_len = p->text->text.len;
        a->sender_name = o->is_agent ? o->cert.display_name : NULL;
        break;
    case PARLEY__PAYLOAD__BODY_RECEIPT:
        if (p->receipt->kind == PARLEY__RECEIPT__KIND__READ) {
            if (p->receipt->up_to_seq > cv->peer_read)
                cv->peer_read = p->receipt->up_to_seq;
            ev.kind = PARLEY_EV_READ;
        } else {
            if (p->receipt->up_to_seq > cv->peer_delivered)
                cv->peer_delivered = p->receipt->up_to_seq;
            ev.kind = PARLEY_EV_DELIVERED;
        }
        ev.seq = p->receipt->up_to_seq;
        emit(c, &ev, NULL, 0);
        break;
    case PARLEY__PAYLOAD__BODY_TYPING:
        ev.kind = PARLEY_EV_TYPING;
        ev.active = p->typing->active;
        emit(c, &ev, NULL, 0);
        break;
    case PARLEY__PAYLOAD__BODY_CLOSE:
        cv->state = PARLEY_CONV_CLOSED;
        conv_forget_keys(cv);
        *changed = true;
        break;
    case PARLEY__PAYLOAD__BODY_ERASE:
        /* Only an agent acts on it, once erasure_check found it the customer's, for cv. */
        if (!c->agent)
            break;
        a->erase = true;
        cv->state = PARLEY_CONV_CLOSED;
        conv_forget_keys(cv);
        *changed = true;
        break;
    default:
        break;
    }
}

/* Keeps an unpacked signed object in b, as the bytes it packs to. */
static bool buf_set_pb(struct buf *b, const ProtobufCMessage *m)
{
    uint8_t *packed;
    size_t len;
    bool ok;

    if (parley__pack(m, &packed, &len) != PARLEY_OK)
        return false;
    ok = buf_set(b, packed, len);
    free(packed);
    return ok;
}

/* Agents: the first message of a conversation, from its customer. */
static parley_err agent_open(struct parley__core *c, const Parley__Envelope *env, struct conv *cv,
                             const struct opened *o)
{
    const Parley__Payload *p = o->p;

    /* The id must be this customer's (§4.6): nobody opens a conversation in another's name. */
    if (!parley__conversation_bound(p->sender_sign_key.data, p->open->conversation_salt,
                                    env->conversation_id.data))
        return PARLEY_EUNBOUND;
    if (!consent_valid(c, p->open->consent, p->sender_sign_key.data))
        return PARLEY_ENOCONSENT;
    memcpy(cv->id, env->conversation_id.data, 16);
    memcpy(cv->salt, p->open->conversation_salt.data, 16);
    cv->has_salt = true;
    cv->state = PARLEY_CONV_QUEUED;
    parley__copy_str(cv->queue, sizeof(cv->queue), p->open->queue);
    memcpy(cv->customer, p->sender_sign_key.data, 32);
    cv->has_customer = true;
    memcpy(cv->peer_rk, p->next_receive_key.len == 32 ? p->next_receive_key.data
                                                      : p->open->customer_box_key.data,
           32);
    cv->has_peer_rk = true;
    buf_set_pb(&cv->consent, &p->open->consent->base);
    seq_ok(c, cv, o, true);
    return PARLEY_OK;
}

/*
 * Agents: a colleague hands a conversation over (§11.3). Accepted only
 * with a chain of custody: the id bound to the customer key by the salt,
 * the customer's acknowledgement that the sender holds the conversation,
 * at a custody counter above any this client has seen for it. A
 * conversation already held is updated, never reset: its history,
 * consent, numbering of other senders and erasure mark stay.
 */
static parley_err agent_handover(struct parley__core *c, const Parley__Envelope *env,
                                 struct conv *cv, bool have_conv, const struct opened *o)
{
    const Parley__Handover *h = o->p->handover;
    const uint8_t *id = env->conversation_id.data, *customer = h->customer_sign_key.data;
    struct parley__custody held;

    if (!parley__conversation_bound(customer, h->conversation_salt, id))
        return PARLEY_EUNBOUND;
    if (parley__custody_ack_check(h->custody, customer, id, &held) != PARLEY_OK ||
        sodium_memcmp(held.agent, o->p->sender_sign_key.data, 32) != 0)
        return PARLEY_ECUSTODY;
    if (have_conv && ((cv->has_customer && sodium_memcmp(cv->customer, customer, 32) != 0) ||
                      held.counter <= cv->custody || cv->erasure != 0))
        return PARLEY_ECUSTODY;
    /* A conversation new to this agent: its consent is checked as an Open's would be. */
    if (!have_conv && !dir_valid(c, c->now))
        return PARLEY_ENODIRECTORY;
    if (!have_conv && !consent_valid(c, h->consent, customer))
        return PARLEY_ENOCONSENT;
    if (!have_conv) {
        memcpy(cv->id, id, 16);
        parley__copy_str(cv->queue, sizeof(cv->queue), h->queue);
        memcpy(cv->customer, customer, 32);
        cv->has_customer = true;
    }
    if (cv->consent.n == 0 && h->consent != NULL)
        buf_set_pb(&cv->consent, &h->consent->base);
    memcpy(cv->salt, h->conversation_salt.data, 16);
    cv->has_salt = true;
    cv->state = PARLEY_CONV_ACTIVE;
    memcpy(cv->peer_rk, h->customer_receive_key.data, 32);
    cv->has_peer_rk = true;
    cv->custody = held.counter;
    /*
     * The customer's count starts afresh: its receipts to the previous
     * agent used numbers this agent never sees, and what it sent before
     * is sealed to keys this agent never had.
     */
    seq_forget(cv, customer);
    seq_ok(c, cv, o, true);
    return PARLEY_OK;
}

/* Agents: the customer acknowledges our claim (§11.3). */
static parley_err agent_custody_ack(struct parley__core *c, struct conv *cv,
                                    const Parley__CustodyAck *ack)
{
    struct parley__custody got;

    if (cv->state != PARLEY_CONV_ACTIVE ||
        parley__custody_ack_check(ack, cv->customer, cv->id, &got) != PARLEY_OK ||
        sodium_memcmp(got.agent, parley_identity_sign_pk(c->id), 32) != 0 ||
        got.counter <= cv->custody || !buf_set_pb(&cv->custody_ack, &ack->base))
        return PARLEY_ECUSTODY;
    cv->custody = got.counter;
    return PARLEY_OK;
}

/* Reports a payload refused with err, and acknowledges it: it will not be taken later either. */
static void refuse(struct parley__core *c, const Parley__Envelope *env, parley_err err)
{
    emit_rejected(c, env->conversation_id.data, err);
    send_delivered(c, env->envelope_id.data);
}

static void agent_receive(struct parley__core *c, const Parley__Envelope *env, struct conv *cv,
                          bool have_conv, struct opened *o, uint64_t now)
{
    const Parley__Payload *p = o->p;
    struct accept a = {env, cv, o, NULL, 0, NULL, NULL, false, false, false, false, false};
    bool changed = false, reduced;
    const char *taken_by = NULL;
    parley_err err;

    if (have_conv && replayed(c, env, cv, o))
        return;
    if (p->body_case == PARLEY__PAYLOAD__BODY_OPEN && !have_conv && !o->is_agent) {
        /* Consent can only be checked against the notice of a valid directory. */
        err = dir_valid(c, now) ? agent_open(c, env, cv, o) : PARLEY_ENODIRECTORY;
        if (err != PARLEY_OK) {
            refuse(c, env, err);
            return;
        }
        a.text = p->open->text.data;
        a.text_len = p->open->text.len;
        changed = true;
    } else if (p->body_case == PARLEY__PAYLOAD__BODY_HANDOVER && o->is_agent) {
        err = agent_handover(c, env, cv, have_conv, o);
        if (err != PARLEY_OK) {
            refuse(c, env, err);
            return;
        }
        a.handover = p->handover;
        a.merge_history = have_conv;
        a.claim = true;
        changed = true;
    } else if (have_conv && cv->has_customer &&
               memcmp(p->sender_sign_key.data, cv->customer, 32) == 0 && !o->is_agent) {
        /* Typing notices are not sequenced: sent once, never stored, replays are harmless. */
        if (p->body_case != PARLEY__PAYLOAD__BODY_TYPING &&
            !seq_ok(c, cv, o,
                    p->body_case == PARLEY__PAYLOAD__BODY_CLAIM ||
                        p->body_case == PARLEY__PAYLOAD__BODY_ERASE)) {
            send_delivered(c, env->envelope_id.data);
            return;
        }
        if (p->body_case == PARLEY__PAYLOAD__BODY_CLAIM) {
            /* The customer tells us a colleague took it. */
            if (cv->state == PARLEY_CONV_QUEUED) {
                cv->state = PARLEY_CONV_TAKEN;
                taken_by = p->claim->agent_id;
                changed = true;
            }
        } else if (p->body_case == PARLEY__PAYLOAD__BODY_CUSTODY_ACK) {
            err = agent_custody_ack(c, cv, p->custody_ack);
            if (err != PARLEY_OK) {
                refuse(c, env, err);
                return;
            }
            changed = true; /* told again: it can now be handed on */
        } else if (p->body_case == PARLEY__PAYLOAD__BODY_ERASE &&
                   (err = erasure_check(p->erase->request, cv)) != PARLEY_OK) {
            refuse(c, env, err);
            return;
        } else {
            peer_body(c, cv, o, &a, &changed);
        }
        if (p->next_receive_key.len == 32) {
            memcpy(cv->peer_rk, p->next_receive_key.data, 32);
            cv->has_peer_rk = true;
        }
        if (!o->used_prekey && !o->used_mt)
            conv_keys_used(cv, o->used_pk);
    } else {
        refuse(c, env, PARLEY_EUNTRUSTED);
        return;
    }
    reduced = mark_reduced(cv, p, o->used_mt);
    if (accept_commit(c, &a) != PARLEY_OK)
        return; /* not acknowledged: the relay delivers it again */
    send_delivered(c, env->envelope_id.data);
    if (changed)
        emit_state_by(c, cv, taken_by);
    if (reduced)
        emit_reduced(c, cv);
    if (a.erase) {
        parley_event ev;

        parley__vault_compact(c->vault); /* no old copy of what was erased stays in the files */
        memset(&ev, 0, sizeof(ev));
        ev.kind = PARLEY_EV_ERASED;
        memcpy(ev.conversation_id, cv->id, 16);
        ev.erasure = cv->erasure;
        emit(c, &ev, NULL, 0);
    }
    if (a.text != NULL) {
        emit_message(c, cv, o, a.text, a.text_len);
        receipt_due(c, cv->id, p->seq);
    }
    if (a.claim)
        pump_outbox(c, now);
    /*
     * Every first contact (open, notice, handover) uses a prekey; one sealed
     * to the medium-term prekey means the relay has no one-time one left:
     * replenish now.
     */
    if (o->used_prekey && c->prekeys_left > 0)
        c->prekeys_left--;
    if (o->used_mt)
        c->prekeys_left = 0;
    if (o->used_prekey || o->used_mt)
        publish_prekeys(c, now, false);
}

/*
 * Customer: an agent's claim, in custody order (§11.3): the first claim
 * from an agent the Open went to, following no custody; or, during a
 * transfer, the claim of the target the current agent announced,
 * following the current custody counter. Each accepted claim moves the
 * counter on by one, and the customer acknowledges it. Sets *notify when
 * the other agents must be told.
 */
static bool customer_claim(struct conv *cv, const struct opened *o, bool *notify)
{
    bool from_fanout = false, first, transfer;

    for (size_t i = 0; i < cv->n_fanout; i++)
        from_fanout = from_fanout || memcmp(cv->fanout[i], o->cert.sign_pk, 32) == 0;
    first = cv->state == PARLEY_CONV_WAITING && from_fanout && cv->custody == 0 &&
            o->p->claim->custody == 0;
    transfer = cv->state == PARLEY_CONV_TRANSFERRING &&
               memcmp(cv->target.sign_pk, o->cert.sign_pk, 32) == 0 &&
               o->p->claim->custody == cv->custody;
    if (!(first || transfer) || !buf_set_pb(&cv->agent_cert, &o->p->sender_cert->base))
        return false;
    cv->agent = o->cert;
    *notify = first;
    if (!from_fanout && cv->n_fanout < MAX_FANOUT)
        memcpy(cv->fanout[cv->n_fanout++], o->cert.sign_pk, 32); /* a transfer target */
    buf_free(&cv->target_cert);
    memset(&cv->target, 0, sizeof(cv->target));
    cv->state = PARLEY_CONV_ACTIVE;
    cv->custody++;
    return true;
}

/* Customer: the current agent announces a transfer; the target must hold a valid certificate. */
static parley_err customer_transfer(struct parley__core *c, struct conv *cv,
                                    const Parley__Transfer *t, uint64_t now)
{
    parley_cert_info target;
    uint8_t *tb;
    size_t tl;
    parley_err err = parley__pack(&t->target->base, &tb, &tl);

    if (err != PARLEY_OK)
        return err;
    err = parley_cert_verify(tb, tl, c->brand_pk, c->brand_id, now / 1000u,
                             c->dir != NULL ? parley_directory_revocations(c->dir) : NULL,
                             &target);
    if (err == PARLEY_OK && sodium_memcmp(target.sign_pk, cv->agent.sign_pk, 32) == 0)
        err = PARLEY_ECUSTODY; /* to itself: no transfer at all */
    if (err == PARLEY_OK && !buf_set(&cv->target_cert, tb, tl))
        err = PARLEY_ENOMEM;
    if (err == PARLEY_OK) {
        cv->target = target;
        cv->state = PARLEY_CONV_TRANSFERRING;
    }
    free(tb);
    return err;
}

static void customer_receive(struct parley__core *c, const Parley__Envelope *env, struct conv *cv,
                             bool have_conv, struct opened *o, uint64_t now)
{
    const Parley__Payload *p = o->p;
    struct accept a = {env, cv, o, NULL, 0, NULL, NULL, false, false, false, false, false};
    bool changed = false, current;
    parley_err err;

    if (!have_conv || !o->is_agent) {
        refuse(c, env, PARLEY_EUNTRUSTED);
        return;
    }
    if (replayed(c, env, cv, o))
        return;
    current = cv->agent_cert.n > 0 && cv->state != PARLEY_CONV_TRANSFERRING &&
              memcmp(cv->agent.sign_pk, o->cert.sign_pk, 32) == 0;
    if (p->body_case == PARLEY__PAYLOAD__BODY_CLAIM && !current) {
        if (!customer_claim(cv, o, &a.notify_fanout)) {
            /* Too late, not an agent of this conversation, or out of custody order: not shown. */
            refuse(c, env, PARLEY_ECUSTODY);
            return;
        }
        changed = true;
        a.acknowledge = true;
        seq_ok(c, cv, o, true);
    } else if (current) {
        if (p->body_case != PARLEY__PAYLOAD__BODY_TYPING && !seq_ok(c, cv, o, false)) {
            send_delivered(c, env->envelope_id.data);
            return;
        }
        if (p->body_case == PARLEY__PAYLOAD__BODY_TRANSFER) {
            err = customer_transfer(c, cv, p->transfer, now);
            if (err != PARLEY_OK)
                emit_rejected(c, cv->id, err);
            changed = err == PARLEY_OK;
        } else {
            peer_body(c, cv, o, &a, &changed);
        }
    } else {
        /* A transfer only the current agent may announce; nobody else speaks here. */
        refuse(c, env,
               p->body_case == PARLEY__PAYLOAD__BODY_TRANSFER ? PARLEY_ECUSTODY
                                                              : PARLEY_EUNTRUSTED);
        return;
    }
    if (p->next_receive_key.len == 32 && cv->state != PARLEY_CONV_CLOSED) {
        memcpy(cv->peer_rk, p->next_receive_key.data, 32);
        cv->has_peer_rk = true;
    }
    conv_keys_used(cv, o->used_pk);
    if (accept_commit(c, &a) != PARLEY_OK)
        return;
    send_delivered(c, env->envelope_id.data);
    if (changed)
        emit_state(c, cv);
    if (a.text != NULL) {
        emit_message(c, cv, o, a.text, a.text_len);
        receipt_due(c, cv->id, p->seq);
    }
    if (changed && cv->state == PARLEY_CONV_ACTIVE)
        flush_pending(c, now);
}

static void on_deliver(struct parley__core *c, const Parley__Envelope *env, uint64_t now)
{
    struct conv cv;
    struct opened o;
    uint8_t *seen = NULL;
    size_t seen_len = 0;
    bool have_conv;
    parley_err err;

    if (!parley__len_is(env->envelope_id, 16) || !parley__len_is(env->conversation_id, 16) ||
        env->sealed.data == NULL) {
        emit_rejected(c, NULL, PARLEY_EMALFORMED);
        if (parley__len_is(env->envelope_id, 16))
            send_delivered(c, env->envelope_id.data);
        return;
    }
    /* Already recorded: the relay did not get our acknowledgement. Acknowledge again, show nothing. */
    if (parley__vault_get(c->vault, "seen", env->envelope_id.data, 16, &seen, &seen_len) ==
        PARLEY_OK) {
        parley_free(seen, seen_len);
        send_delivered(c, env->envelope_id.data);
        return;
    }
    have_conv = conv_load(c, env->conversation_id.data, &cv) == PARLEY_OK;
    if (!have_conv)
        memset(&cv, 0, sizeof(cv));
    err = open_envelope(c, env, &cv, have_conv, &o, now);
    if (err == PARLEY_EBADSEAL && have_conv &&
        (cv.state == PARLEY_CONV_CLOSED || cv.state == PARLEY_CONV_TRANSFERRED ||
         cv.state == PARLEY_CONV_TAKEN)) {
        /* Late traffic for a conversation whose keys are gone by design: dropped quietly. */
        send_delivered(c, env->envelope_id.data);
    } else if (err != PARLEY_OK) {
        emit_rejected(c, env->conversation_id.data, err);
        send_delivered(c, env->envelope_id.data);
    } else if (c->agent) {
        agent_receive(c, env, &cv, have_conv, &o, now);
    } else {
        customer_receive(c, env, &cv, have_conv, &o, now);
    }
    parley__payload_free(o.p);
    conv_free(&cv);
}

/* ------------------------------------------------------------------ */
/* Relay frames */

/* Customers: an erasure request not yet confirmed by the relay goes (again). */
static void send_erase_frame(struct parley__core *c)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__ErasureRequest *r;

    if (c->net != NET_READY || c->erase_request.n == 0)
        return;
    r = parley__erasure_request__unpack(NULL, c->erase_request.n, c->erase_request.p);
    if (r == NULL)
        return;
    f.kind_case = PARLEY__FRAME__KIND_ERASE;
    f.erase = r;
    queue_frame(c, &f);
    parley__erasure_request__free_unpacked(r, NULL);
}

static void on_hello(struct parley__core *c, const Parley__Hello *h)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Auth a = PARLEY__AUTH__INIT;
    Parley__AgentCert *cert = NULL;
    uint8_t msg[96], sig[64];

    if (c->net != NET_HELLO || !parley__len_is(h->nonce, 32) || !parley__len_is(h->relay_key, 32))
        return;
    memcpy(msg, h->nonce.data, 32);
    memcpy(msg + 32, h->relay_key.data, 32);
    memcpy(msg + 64, parley_identity_sign_pk(c->id), 32);
    if (parley_identity_sign(c->id, RELAY_AUTH_DOMAIN, msg, sizeof(msg), sig) != PARLEY_OK)
        return;
    a.sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(c->id)};
    a.signature = (ProtobufCBinaryData){64, sig};
    if (c->agent) {
        cert = parley__agent_cert__unpack(NULL, c->cert.n, c->cert.p);
        a.cert = cert;
    }
    f.kind_case = PARLEY__FRAME__KIND_AUTH;
    f.auth = &a;
    queue_frame(c, &f);
    if (cert != NULL)
        parley__agent_cert__free_unpacked(cert, NULL);
    c->net = NET_AUTH;
}

static void on_auth_ok(struct parley__core *c, const Parley__AuthOk *ok, uint64_t now)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryFetch df = PARLEY__DIRECTORY_FETCH__INIT;
    bool replace_prekeys = false;

    if (c->net != NET_AUTH)
        return;
    c->net = NET_READY;
    c->prekeys_left = ok->prekeys_left;
    if (c->agent) {
        /*
         * More prekeys on the relay than secrets here (a new store for the
         * same key): customers would seal to keys this device cannot open.
         * A fresh set replaces them.
         */
        struct key_list *mine = calloc(1, sizeof(*mine));
        if (mine != NULL) {
            parley__vault_scan(c->vault, "prekey", NULL, 0, collect_prekey, mine);
            if (ok->prekeys_left > mine->n) {
                c->prekeys_left = 0;
                replace_prekeys = true;
            }
            sodium_memzero(mine, sizeof(*mine));
            free(mine);
        }
    }
    emit_simple(c, PARLEY_EV_CONNECTED, NULL);
    if (c->publish_dir.n > 0) {
        Parley__Directory *d = parley__directory__unpack(NULL, c->publish_dir.n, c->publish_dir.p);
        if (d != NULL) {
            Parley__DirectoryPublish dp = PARLEY__DIRECTORY_PUBLISH__INIT;
            dp.directory = d;
            f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_PUBLISH;
            f.directory_publish = &dp;
            queue_frame(c, &f);
            parley__directory__free_unpacked(d, NULL);
        }
    }
    df.brand_id = c->brand_id;
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_FETCH;
    f.directory_fetch = &df;
    queue_frame(c, &f);
    publish_prekeys(c, now, replace_prekeys);
    mt_maintain(c, now, true); /* after a replacing publication, which may drop what came before */
    c->prekey_retry_at = 0;    /* flush_pending below asks again */
    send_erase_frame(c); /* before the outbox: what is sent after it is not erased */
    for (size_t i = 0; i < c->n_out; i++)
        c->out[i].in_flight = false;
    pump_outbox(c, now);
    flush_pending(c, now);
}

/*
 * Tells the application, once per directory, that it expires within
 * PARLEY_DIRECTORY_WARN_DAYS days, and once that it has expired.
 */
static void directory_expiry_check(struct parley__core *c, uint64_t now)
{
    parley_event ev;
    uint64_t expires;
    int level;

    if (c->dir == NULL)
        return;
    expires = parley_directory_expires_at(c->dir);
    level = now / 1000u >= expires                                        ? 2
            : now / 1000u + PARLEY_DIRECTORY_WARN_DAYS * 86400u > expires ? 1
                                                                          : 0;
    if (level <= c->dir_warned)
        return;
    c->dir_warned = level;
    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_DIRECTORY_EXPIRY;
    ev.expires_at = expires;
    ev.error = level == 2 ? PARLEY_EEXPIRED : PARLEY_OK;
    emit(c, &ev, NULL, 0);
}

/* When directory_expiry_check has something new to say (Unix ms), or UINT64_MAX. */
static uint64_t directory_expiry_deadline(const struct parley__core *c)
{
    uint64_t expires;

    if (c->dir == NULL || c->dir_warned == 2)
        return UINT64_MAX;
    expires = parley_directory_expires_at(c->dir);
    if (c->dir_warned == 0 && expires > PARLEY_DIRECTORY_WARN_DAYS * 86400u)
        return (expires - PARLEY_DIRECTORY_WARN_DAYS * 86400u) * 1000u;
    return expires * 1000u;
}

/*
 * Installs a verified directory: from the relay (refused when expired, older
 * than the one held, or of the same version but other bytes, so a relay
 * cannot swap a directory for another of the same version), or the one held
 * in the store at start-up (kept even if expired since: its version and
 * revocations still count).
 */
static parley_err directory_install(struct parley__core *c, const uint8_t *buf, size_t len,
                                    uint64_t now, bool from_relay)
{
    parley_directory *d = NULL;
    parley_err err =
        parley__directory_open_any(&d, buf, len, c->brand_pk, c->brand_id, c->dir_key,
                                   from_relay ? c->dir_version : 0, now / 1000u, from_relay);
    bool same;

    if (err != PARLEY_OK)
        return err;
    same = c->dir != NULL && parley_directory_version(d) == c->dir_version;
    if (same && (c->dir_bytes.n != len || sodium_memcmp(c->dir_bytes.p, buf, len) != 0)) {
        parley_directory_free(d);
        return PARLEY_EROLLBACK;
    }
    if (!same) {
        if (from_relay)
            err = parley__vault_put(c->vault, "meta", (const uint8_t *)"directory", 9, buf, len);
        if (err != PARLEY_OK || !buf_set(&c->dir_bytes, buf, len)) {
            parley_directory_free(d);
            return err != PARLEY_OK ? err : PARLEY_ENOMEM;
        }
        c->dir_warned = 0;
    }
    /* References the application holds keep the old one alive. */
    parley_directory_free(c->dir);
    c->dir = d;
    c->dir_version = parley_directory_version(d);
    return PARLEY_OK;
}

static void on_directory(struct parley__core *c, const Parley__DirectoryResult *r, uint64_t now)
{
    parley_event ev;
    uint8_t *buf;
    size_t len;
    parley_err err;

    if (r->directory == NULL)
        return; /* none published yet: keep what we have */
    if (parley__pack(&r->directory->base, &buf, &len) != PARLEY_OK)
        return;
    err = directory_install(c, buf, len, now, true);
    free(buf);
    if (err != PARLEY_OK) {
        /* A relay serving an older, expired, swapped or forged directory: refused, reported. */
        emit_rejected(c, NULL, err);
        return;
    }
    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_DIRECTORY;
    ev.notice_version = parley_directory_notice_version(c->dir);
    emit(c, &ev, NULL, 0);
    directory_expiry_check(c, now);
}

/*
 * The relay holds the envelope: it leaves the outbox. The row itself is
 * deleted at the next tick, with every other acknowledged row, in one
 * transaction; should the process die first, the envelope is simply sent
 * again and acknowledged again (the relay and the recipient both
 * de-duplicate by envelope id).
 */
static void on_ack(struct parley__core *c, const Parley__Ack *a)
{
    if (!parley__len_is(a->envelope_id, 16))
        return;
    for (size_t i = 0; i < c->n_out; i++) {
        parley_event ev;
        uint64_t *acked;

        if (memcmp(c->out[i].envelope_id, a->envelope_id.data, 16) != 0)
            continue;
        acked = grow(c->acked, &c->cap_acked, c->n_acked, sizeof(*acked));
        if (acked == NULL)
            return; /* kept: resent later, acknowledged again */
        c->acked = acked;
        c->acked[c->n_acked++] = c->out[i].key;
        memset(&ev, 0, sizeof(ev));
        ev.kind = PARLEY_EV_SENT;
        memcpy(ev.conversation_id, c->out[i].conv, 16);
        ev.seq = c->out[i].seq;
        out_remove(c, i);
        emit(c, &ev, NULL, 0);
        return;
    }
}

static void flush_acked(struct parley__core *c)
{
    uint8_t row[8];
    parley_err err;

    if (c->n_acked == 0 || parley__vault_begin(c->vault) != PARLEY_OK)
        return;
    err = PARLEY_OK;
    for (size_t i = 0; err == PARLEY_OK && i < c->n_acked; i++) {
        be64(row, c->acked[i]);
        err = parley__vault_del(c->vault, "outbox", row, sizeof(row));
    }
    if (err == PARLEY_OK)
        err = parley__vault_commit(c->vault);
    else
        parley__vault_rollback(c->vault);
    if (err == PARLEY_OK)
        c->n_acked = 0;
}

static void on_error(struct parley__core *c, const Parley__Error *e, uint64_t now)
{
    parley_event ev;

    /* Envelopes refused for now (rate, quota, store): resent after a pause. */
    if (parley__len_is(e->envelope_id, 16) && (e->code == PARLEY__ERROR__CODE__RATE_LIMITED ||
                                               e->code == PARLEY__ERROR__CODE__QUOTA_FULL ||
                                               e->code == PARLEY__ERROR__CODE__UNAVAILABLE)) {
        for (size_t i = 0; i < c->n_out; i++)
            if (memcmp(c->out[i].envelope_id, e->envelope_id.data, 16) == 0) {
                c->out[i].in_flight = false;
                c->out[i].retry_at = now + RETRY_MS;
            }
    }
    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_RELAY_ERROR;
    ev.relay_code = (int)e->code;
    ev.error = PARLEY_EIO;
    emit(c, &ev, NULL, 0);
}

void parley__core_frame(struct parley__core *c, const uint8_t *frame, size_t len, uint64_t now)
{
    Parley__Frame *f;

    c->now = now;
    if (len > PARLEY_MAX_DIRECTORY + 1024) {
        emit_rejected(c, NULL, PARLEY_ETOOBIG);
        return;
    }
    f = parley__frame__unpack(NULL, len, frame);
    if (f == NULL) {
        emit_rejected(c, NULL, PARLEY_EMALFORMED);
        return;
    }
    switch (f->kind_case) {
    case PARLEY__FRAME__KIND_HELLO:
        on_hello(c, f->hello);
        break;
    case PARLEY__FRAME__KIND_AUTH_OK:
        on_auth_ok(c, f->auth_ok, now);
        break;
    case PARLEY__FRAME__KIND_ACK:
        on_ack(c, f->ack);
        pump_outbox(c, now);
        break;
    case PARLEY__FRAME__KIND_DELIVER:
        if (c->net == NET_READY)
            on_deliver(c, f->deliver, now);
        break;
    case PARLEY__FRAME__KIND_DIRECTORY_RESULT:
        on_directory(c, f->directory_result, now);
        break;
    case PARLEY__FRAME__KIND_PREKEY_RESULT:
        on_prekey_result(c, f->prekey_result, now);
        break;
    case PARLEY__FRAME__KIND_ERROR:
        on_error(c, f->error, now);
        break;
    case PARLEY__FRAME__KIND_ERASED:
        if (c->erase_request.n > 0 &&
            parley__vault_del(c->vault, "meta", (const uint8_t *)"erase", 5) == PARLEY_OK) {
            parley_event ev;

            buf_free(&c->erase_request);
            memset(&ev, 0, sizeof(ev));
            ev.kind = PARLEY_EV_ERASED;
            ev.erased = f->erased->envelopes;
            emit(c, &ev, NULL, 0);
        }
        break;
    default:
        break;
    }
    parley__frame__free_unpacked(f, NULL);
}

void parley__core_connected(struct parley__core *c, uint64_t now)
{
    c->net = NET_HELLO;
}

void parley__core_disconnected(struct parley__core *c, uint64_t now)
{
    c->net = NET_DOWN;
    c->n_waits = 0;
    for (size_t i = 0; i < c->n_out; i++)
        c->out[i].in_flight = false;
    /* Frames not yet written are dropped: the outbox resends what matters. */
    for (size_t i = c->frame_head; i < c->n_frames; i++)
        free(c->frames[i].p);
    c->frame_head = c->n_frames = 0;
}

int parley__core_ready(const struct parley__core *c)
{
    return c->net == NET_READY;
}

struct sweep {
    uint64_t cutoff;             /* history older than this goes */
    uint64_t seen_cutoff;
    const uint8_t *held;         /* conversation ids kept after an erasure request */
    size_t n_held;
    uint8_t (*keys)[24];
    size_t n, cap;
    bool seen;
};

static bool sweep_add(struct sweep *w, const uint8_t *key, size_t len)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        uint8_t(*grown)[24] = realloc(w->keys, cap * sizeof(*grown));
        if (grown == NULL)
            return false;
        w->keys = grown;
        w->cap = cap;
    }
    memset(w->keys[w->n], 0, 24);
    memcpy(w->keys[w->n++], key, len);
    return true;
}

static int sweep_history(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                         size_t val_len)
{
    struct sweep *w = arg;
    Parley__HistoryRecord *r;
    bool old;

    if (key_len != 24)
        return 0;
    for (size_t i = 0; i < w->n_held; i++)
        if (memcmp(key, w->held + 16 * i, 16) == 0)
            return 0; /* kept by the brand's obligation: retention does not apply */
    r = parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    if (r == NULL)
        return 0;
    old = r->time_ms < w->cutoff;
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    return old && !sweep_add(w, key, 24);
}

static int sweep_seen(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                      size_t val_len)
{
    struct sweep *w = arg;
    uint64_t when = 0;

    if (key_len != 16 || val_len != 8)
        return 0;
    for (int i = 0; i < 8; i++)
        when = (when << 8) | val[i];
    return when < w->seen_cutoff && !sweep_add(w, key, 16);
}

static int collect_held(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    struct sweep *w = arg;
    Parley__ConversationState *s;

    if (key_len != 16)
        return 0;
    s = parley__conversation_state__unpack(&parley__wiping_allocator, val_len, val);
    if (s != NULL && s->erasure == 2) {
        uint8_t *grown = realloc((void *)w->held, (w->n_held + 1) * 16);
        if (grown != NULL) {
            memcpy(grown + 16 * w->n_held++, key, 16);
            w->held = grown;
        }
    }
    if (s != NULL)
        parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
    return 0;
}

/*
 * The client's own retention: history older than history_retention_ms
 * (when set) is deleted, except conversations the brand must keep, and
 * envelope ids seen long ago are forgotten (relays keep envelopes for 30
 * days by default, so none will come again).
 */
static void sweep_retention(struct parley__core *c, uint64_t now)
{
    struct sweep w;
    parley_err err;

    memset(&w, 0, sizeof(w));
    w.cutoff = c->history_retention_ms > 0 && now > c->history_retention_ms
                   ? now - c->history_retention_ms
                   : 0;
    w.seen_cutoff = now > SEEN_KEEP_MS ? now - SEEN_KEEP_MS : 0;
    if (w.cutoff > 0) {
        parley__vault_scan(c->vault, "conv", NULL, 0, collect_held, &w);
        parley__vault_scan(c->vault, "history", NULL, 0, sweep_history, &w);
    }
    {
        size_t n_history = w.n;
        parley__vault_scan(c->vault, "seen", NULL, 0, sweep_seen, &w);
        if (w.n > 0 && parley__vault_begin(c->vault) == PARLEY_OK) {
            err = PARLEY_OK;
            for (size_t i = 0; err == PARLEY_OK && i < w.n; i++)
                err = parley__vault_del(c->vault, i < n_history ? "history" : "seen", w.keys[i],
                                        i < n_history ? 24 : 16);
            if (err == PARLEY_OK && parley__vault_commit(c->vault) == PARLEY_OK && n_history > 0)
                parley__vault_compact(c->vault); /* retention means gone from the files too */
            else if (err != PARLEY_OK)
                parley__vault_rollback(c->vault);
        }
    }
    free(w.keys);
    free((void *)w.held);
}

static void send_receipts(struct parley__core *c, uint64_t now)
{
    size_t n = c->n_receipts;

    c->n_receipts = 0;
    for (size_t i = 0; i < n; i++) {
        Parley__Payload p = PARLEY__PAYLOAD__INIT;
        Parley__Receipt r = PARLEY__RECEIPT__INIT;
        struct conv cv;

        if (conv_load(c, c->receipts[i], &cv) != PARLEY_OK)
            continue;
        if (cv.state == PARLEY_CONV_ACTIVE || cv.state == PARLEY_CONV_QUEUED) {
            r.kind = PARLEY__RECEIPT__KIND__DELIVERED;
            r.up_to_seq = c->receipt_seq[i];
            p.body_case = PARLEY__PAYLOAD__BODY_RECEIPT;
            p.receipt = &r;
            /* An agent who has not claimed stays silent: the customer learns nothing of the queue. */
            if (cv.state == PARLEY_CONV_ACTIVE)
                send_now(c, &cv, &p, NULL, 0, NULL, now);
        }
        conv_free(&cv);
    }
}

void parley__core_tick(struct parley__core *c, uint64_t now)
{
    c->now = now;
    flush_acked(c);
    if (now >= c->next_sweep) {
        sweep_retention(c, now);
        c->next_sweep = now + RETENTION_SWEEP_MS;
    }
    directory_expiry_check(c, now);
    if (c->agent && now >= c->mt_next)
        mt_maintain(c, now, false);
    if (c->prekey_retry_at != 0 && now >= c->prekey_retry_at && c->net == NET_READY) {
        c->prekey_retry_at = 0;
        flush_pending(c, now);
    }
    if (c->n_receipts > 0)
        send_receipts(c, now);
    pump_outbox(c, now);
}

uint64_t parley__core_deadline(const struct parley__core *c)
{
    uint64_t d = c->next_sweep;

    if (c->n_receipts > 0 || c->n_acked > 0)
        return 0;
    if (directory_expiry_deadline(c) < d)
        d = directory_expiry_deadline(c);
    if (c->agent && c->mt_next < d)
        d = c->mt_next;
    if (c->net != NET_READY)
        return d;
    if (c->prekey_retry_at != 0 && c->prekey_retry_at < d)
        d = c->prekey_retry_at;
    for (size_t i = 0; i < c->n_out; i++)
        if (!c->out[i].in_flight && c->out[i].retry_at < d)
            d = c->out[i].retry_at;
    return d;
}

/* ------------------------------------------------------------------ */
/* Start-up */

struct row_scan {
    struct parley__core *c;
    uint64_t max_row;
};

static uint64_t row_of(const uint8_t *key, size_t len)
{
    uint64_t row = 0;

    for (size_t i = 0; i < len && i < 8; i++)
        row = (row << 8) | key[i];
    return row;
}

static int load_outbox(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                       size_t val_len)
{
    struct row_scan *s = arg;
    Parley__OutboxEntry *e;
    struct out_item *it;

    if (key_len != 8)
        return 0;
    if (row_of(key, 8) > s->max_row)
        s->max_row = row_of(key, 8);
    e = parley__outbox_entry__unpack(NULL, val_len, val);
    if (e == NULL || !parley__len_is(e->envelope_id, 16) ||
        !parley__len_is(e->conversation_id, 16) || e->envelope.len == 0 ||
        (it = out_add(s->c)) == NULL) {
        if (e != NULL)
            parley__outbox_entry__free_unpacked(e, NULL);
        return 0;
    }
    it->key = row_of(key, 8);
    memcpy(it->envelope_id, e->envelope_id.data, 16);
    memcpy(it->conv, e->conversation_id.data, 16);
    it->seq = e->seq;
    it->env = malloc(e->envelope.len);
    if (it->env != NULL) {
        memcpy(it->env, e->envelope.data, e->envelope.len);
        it->env_len = e->envelope.len;
    } else {
        s->c->n_out--;
    }
    parley__outbox_entry__free_unpacked(e, NULL);
    return 0;
}

static int max_row(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                   size_t val_len)
{
    struct row_scan *s = arg;

    if (key_len == 8 && row_of(key, 8) > s->max_row)
        s->max_row = row_of(key, 8);
    return 0;
}

static parley_err load_identity(struct parley__core *c, const struct parley__core_config *cfg)
{
    static const uint8_t self[] = "self";
    uint8_t *seed = NULL;
    size_t len = 0;
    parley_err err;

    if (cfg->agent_id != NULL)
        return parley_identity_from_seed(&c->id, cfg->agent_id->secret->sign_sk);
    err = parley__vault_get(c->vault, "identity", self, 4, &seed, &len);
    if (err == PARLEY_OK) {
        err = len == 32 ? parley_identity_from_seed(&c->id, seed) : PARLEY_EIO;
        parley_free(seed, len);
        return err;
    }
    if (err != PARLEY_EINVAL)
        return err;
    /* First use: a new customer identity, kept in the store. */
    err = parley_identity_generate(&c->id);
    if (err == PARLEY_OK)
        err = parley__vault_put(c->vault, "identity", self, 4, c->id->secret->sign_sk, 32);
    return err;
}

static uint32_t consent_version_of(const struct buf *b)
{
    Parley__ConsentReceipt *r = parley__consent_receipt__unpack(NULL, b->n, b->p);
    Parley__ConsentReceiptBody *body = NULL;
    uint32_t v = 0;

    if (r != NULL)
        body = parley__consent_receipt_body__unpack(NULL, r->body.len, r->body.data);
    if (body != NULL) {
        v = body->notice_version;
        parley__consent_receipt_body__free_unpacked(body, NULL);
    }
    if (r != NULL)
        parley__consent_receipt__free_unpacked(r, NULL);
    return v;
}

parley_err parley__core_new(struct parley__core **out, const struct parley__core_config *cfg,
                            uint64_t now)
{
    struct parley__core *c = calloc(1, sizeof(*c));
    struct row_scan rs;
    uint8_t *val = NULL;
    size_t len = 0;
    parley_err err;

    *out = NULL;
    if (c == NULL)
        return PARLEY_ENOMEM;
    c->vault = cfg->vault;
    memcpy(c->brand_pk, cfg->brand_pk, 32);
    c->dir_key = sodium_malloc(32);
    if (c->dir_key == NULL || cfg->directory_key == NULL) {
        err = c->dir_key == NULL ? PARLEY_ENOMEM : PARLEY_EINVAL;
        goto fail;
    }
    memcpy(c->dir_key, cfg->directory_key, 32);
    if (!parley__copy_str(c->brand_id, sizeof(c->brand_id), cfg->brand_id)) {
        err = PARLEY_EINVAL;
        goto fail;
    }
    err = load_identity(c, cfg);
    if (err != PARLEY_OK)
        goto fail;
    if (cfg->agent_id != NULL) {
        c->agent = true;
        err = parley_cert_verify(cfg->agent_cert, cfg->agent_cert_len, c->brand_pk, c->brand_id,
                                 now / 1000u, NULL, &c->cert_info);
        if (err == PARLEY_OK &&
            sodium_memcmp(c->cert_info.sign_pk, parley_identity_sign_pk(c->id), 32) != 0)
            err = PARLEY_EUNTRUSTED;
        if (err != PARLEY_OK || !buf_set(&c->cert, cfg->agent_cert, cfg->agent_cert_len))
            goto fail;
    }
    if (cfg->publish_directory_len > 0 &&
        !buf_set(&c->publish_dir, cfg->publish_directory, cfg->publish_directory_len)) {
        err = PARLEY_ENOMEM;
        goto fail;
    }
    if (parley__vault_get(c->vault, "meta", (const uint8_t *)"directory", 9, &val, &len) ==
        PARLEY_OK) {
        directory_install(c, val, len, now, false); /* kept even if expired; refused if damaged */
        parley_free(val, len);
        directory_expiry_check(c, now);
    }
    c->keep_on_erasure = cfg->keep_on_erasure;
    c->history_retention_ms = cfg->history_retention_ms;
    c->now = now;
    c->next_sweep = now; /* once soon after start, then hourly */
    mt_maintain(c, now, false); /* secrets past their grace go even before connecting */
    if (parley__vault_get(c->vault, "meta", (const uint8_t *)"erase", 5, &val, &len) ==
        PARLEY_OK) {
        buf_set(&c->erase_request, val, len);
        parley_free(val, len);
    }
    if (parley__vault_get(c->vault, "meta", (const uint8_t *)"consent", 7, &val, &len) ==
        PARLEY_OK) {
        buf_set(&c->consent, val, len);
        c->consent_version = consent_version_of(&c->consent);
        parley_free(val, len);
    }
    rs.c = c;
    rs.max_row = 0;
    err = parley__vault_scan(c->vault, "outbox", NULL, 0, load_outbox, &rs);
    if (err == PARLEY_OK)
        err = parley__vault_scan(c->vault, "pending", NULL, 0, max_row, &rs);
    if (err != PARLEY_OK)
        goto fail;
    c->next_row = rs.max_row + 1;
    *out = c;
    return PARLEY_OK;
fail:
    parley__core_free(c);
    return err;
}

void parley__core_free(struct parley__core *c)
{
    if (c == NULL)
        return;
    flush_acked(c);
    free(c->acked);
    parley_identity_free(c->id);
    sodium_free(c->dir_key);
    buf_free(&c->cert);
    buf_free(&c->publish_dir);
    buf_free(&c->consent);
    buf_free(&c->erase_request);
    parley_directory_free(c->dir);
    buf_free(&c->dir_bytes);
    for (size_t i = 0; i < c->n_out; i++)
        free(c->out[i].env);
    free(c->out);
    for (size_t i = c->frame_head; i < c->n_frames; i++)
        free(c->frames[i].p);
    free(c->frames);
    event_clear(&c->current);
    for (size_t i = c->event_head; i < c->n_events; i++)
        event_clear(&c->events[i]);
    free(c->events);
    free(c);
}

/* ------------------------------------------------------------------ */
/* Application calls */

const uint8_t *parley__core_sign_pk(const struct parley__core *c)
{
    return parley_identity_sign_pk(c->id);
}

const parley_directory *parley__core_directory(const struct parley__core *c)
{
    return c->dir;
}

parley_err parley__core_directory_ref(struct parley__core *c, uint64_t now, parley_directory **out)
{
    if (c->dir == NULL)
        return PARLEY_ENODIRECTORY;
    if (!dir_valid(c, now))
        return PARLEY_EEXPIRED;
    /* Shared, never copied: a directory does not change once opened. */
    *out = parley__directory_ref(c->dir);
    return PARLEY_OK;
}

size_t parley__core_outbox_size(const struct parley__core *c)
{
    return c->n_out;
}

int parley__core_has_consent(const struct parley__core *c)
{
    return c->dir != NULL && c->consent.n > 0 &&
           c->consent_version == parley_directory_notice_version(c->dir);
}

parley_err parley__core_consent(struct parley__core *c, uint64_t now)
{
    Parley__ConsentReceiptBody body = PARLEY__CONSENT_RECEIPT_BODY__INIT;
    Parley__ConsentReceipt r = PARLEY__CONSENT_RECEIPT__INIT;
    const char *purposes[256];
    uint8_t hash[32], sig[64], *bbuf, *rbuf;
    size_t blen, rlen, np;
    const char *notice;
    parley_err err;

    if (c->agent)
        return PARLEY_ESTATE;
    if (!dir_valid(c, now))
        return PARLEY_ENODIRECTORY;
    notice = parley_directory_notice_text(c->dir);
    crypto_generichash(hash, sizeof(hash), (const uint8_t *)notice, strlen(notice), NULL, 0);
    np = parley_directory_purpose_count(c->dir);
    if (np > 256)
        np = 256;
    for (size_t i = 0; i < np; i++)
        purposes[i] = parley_directory_purpose(c->dir, i);
    body.brand_id = c->brand_id;
    body.notice_version = parley_directory_notice_version(c->dir);
    body.notice_hash = (ProtobufCBinaryData){32, hash};
    body.purposes = (char **)purposes;
    body.n_purposes = np;
    body.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(c->id)};
    body.time_ms = now;
    err = parley__pack(&body.base, &bbuf, &blen);
    if (err != PARLEY_OK)
        return err;
    parley__sign_raw(c->id->secret->sign_sk, PARLEY__DOMAIN_CONSENT, bbuf, blen, sig);
    r.body = (ProtobufCBinaryData){blen, bbuf};
    r.signature = (ProtobufCBinaryData){64, sig};
    err = parley__pack(&r.base, &rbuf, &rlen);
    free(bbuf);
    if (err != PARLEY_OK)
        return err;
    err = parley__vault_put(c->vault, "meta", (const uint8_t *)"consent", 7, rbuf, rlen);
    if (err == PARLEY_OK) {
        buf_set(&c->consent, rbuf, rlen);
        c->consent_version = body.notice_version;
    }
    free(rbuf);
    return err;
}

parley_err parley__core_open(struct parley__core *c, const char *queue, const char *text,
                             uint8_t conversation_id[16], uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Open o = PARLEY__OPEN__INIT;
    Parley__ConsentReceipt *consent = NULL;
    struct conv cv;
    size_t n = text != NULL ? strlen(text) : 0, q;
    int qi = -1;
    parley_err err;

    if (c->agent)
        return PARLEY_ESTATE;
    if (!dir_valid(c, now))
        return PARLEY_ENODIRECTORY;
    if (!parley__core_has_consent(c))
        return PARLEY_ENOCONSENT;
    if (text == NULL || n > PARLEY_MAX_TEXT || !parley__utf8_valid((const uint8_t *)text, n, true) ||
        !parley_id_valid(queue))
        return PARLEY_EINVAL;
    for (q = 0; q < parley_directory_queue_count(c->dir); q++)
        if (strcmp(parley_directory_queue_name(c->dir, q), queue) == 0)
            qi = (int)q;
    if (qi < 0)
        return PARLEY_EINVAL;
    memset(&cv, 0, sizeof(cv));
    /* The id is bound to this customer: the salt stays here, and travels only end to end. */
    randombytes_buf(cv.salt, sizeof(cv.salt));
    cv.has_salt = true;
    memcpy(cv.customer, parley_identity_sign_pk(c->id), 32);
    cv.has_customer = true;
    parley_conversation_id(cv.customer, cv.salt, cv.id);
    cv.state = PARLEY_CONV_WAITING;
    parley__copy_str(cv.queue, sizeof(cv.queue), queue);
    cv.my_seq = 1; /* the Open is seq 1 to every agent */
    for (size_t i = 0; i < parley_directory_queue_size(c->dir, (size_t)qi); i++) {
        int a = parley_directory_find_agent(c->dir,
                                            parley_directory_queue_agent(c->dir, (size_t)qi, i));
        parley_cert_info info;
        if (a >= 0 && parley_directory_agent(c->dir, (size_t)a, &info) == PARLEY_OK &&
            cv.n_fanout < MAX_FANOUT)
            memcpy(cv.fanout[cv.n_fanout++], info.sign_pk, 32);
    }
    if (cv.n_fanout == 0)
        return PARLEY_ENOAGENT;
    if (!buf_set(&cv.consent, c->consent.p, c->consent.n) ||
        (consent = parley__consent_receipt__unpack(NULL, c->consent.n, c->consent.p)) == NULL) {
        conv_free(&cv);
        return PARLEY_ENOMEM;
    }
    o.queue = cv.queue;
    o.consent = consent;
    o.conversation_salt = (ProtobufCBinaryData){16, cv.salt};
    o.text = (ProtobufCBinaryData){n, (uint8_t *)text};
    o.customer_box_key = (ProtobufCBinaryData){0, NULL}; /* set when sealed */
    p.body_case = PARLEY__PAYLOAD__BODY_OPEN;
    p.open = &o;
    err = parley__vault_begin(c->vault);
    for (size_t i = 0; err == PARLEY_OK && i < cv.n_fanout; i++)
        err = pending_add(c, cv.id, cv.fanout[i], &p);
    if (err == PARLEY_OK)
        err = history_add(c, &cv, NULL, true, cv.customer, NULL, 1, now, (const uint8_t *)text, n,
                          PARLEY_BODY_TEXT);
    if (err == PARLEY_OK)
        err = conv_save(c, &cv);
    if (err == PARLEY_OK)
        err = parley__vault_commit(c->vault);
    else if (c->vault->in_tx)
        parley__vault_rollback(c->vault);
    parley__consent_receipt__free_unpacked(consent, NULL);
    if (err == PARLEY_OK) {
        memcpy(conversation_id, cv.id, 16);
        emit_state(c, &cv);
        flush_pending(c, now);
    }
    conv_free(&cv);
    return err;
}

static bool can_send(const struct parley__core *c, const struct conv *cv)
{
    if (c->agent)
        return cv->state == PARLEY_CONV_ACTIVE;
    return cv->state == PARLEY_CONV_WAITING || cv->state == PARLEY_CONV_ACTIVE ||
           cv->state == PARLEY_CONV_TRANSFERRING;
}

parley_err parley__core_send_text(struct parley__core *c, const uint8_t conv[16],
                                  const char *text, uint64_t *seq, uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Text t = PARLEY__TEXT__INIT;
    struct conv cv;
    size_t n = text != NULL ? strlen(text) : 0;
    parley_err err;

    if (seq != NULL)
        *seq = 0;
    if (!c->agent && !parley__core_has_consent(c))
        return PARLEY_ENOCONSENT;
    if (text == NULL || n > PARLEY_MAX_TEXT || !parley__utf8_valid((const uint8_t *)text, n, true))
        return PARLEY_EINVAL;
    err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err == PARLEY_EINVAL ? PARLEY_EINVAL : err;
    if (!can_send(c, &cv)) {
        conv_free(&cv);
        return PARLEY_ESTATE;
    }
    t.text = (ProtobufCBinaryData){n, (uint8_t *)text};
    p.body_case = PARLEY__PAYLOAD__BODY_TEXT;
    p.text = &t;
    if (cv.state == PARLEY_CONV_ACTIVE) {
        err = send_now(c, &cv, &p, (const uint8_t *)text, n, seq, now);
    } else {
        /* No agent yet: kept (on disk) until one claims, then sealed to it. */
        err = pending_add(c, cv.id, NULL, &p);
    }
    conv_free(&cv);
    return err;
}

parley_err parley__core_claim(struct parley__core *c, const uint8_t conv[16], uint64_t now)
{
    struct conv cv;
    parley_err err;

    if (!c->agent)
        return PARLEY_ESTATE;
    err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err;
    if (cv.state != PARLEY_CONV_QUEUED) {
        conv_free(&cv);
        return PARLEY_ESTATE;
    }
    cv.state = PARLEY_CONV_ACTIVE;
    err = send_claim(c, &cv, now);
    if (err == PARLEY_OK)
        emit_state(c, &cv);
    conv_free(&cv);
    return err;
}

struct history_collect {
    Parley__HistoryEntry *entries;
    Parley__HistoryEntry **ptrs;
    uint8_t **texts;
    char **names;
    size_t n, cap;
    const uint8_t *customer;
};

static int collect_history(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                           size_t val_len)
{
    struct history_collect *h = arg;
    Parley__HistoryRecord *r;

    if (h->n == h->cap)
        return 1;
    r = parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    if (r == NULL)
        return 0;
    if (r->kind == PARLEY_BODY_TEXT && (h->texts[h->n] = malloc(r->text.len + 1)) != NULL) {
        Parley__HistoryEntry *e = &h->entries[h->n];
        parley__history_entry__init(e);
        memcpy(h->texts[h->n], r->text.data, r->text.len);
        e->text = (ProtobufCBinaryData){r->text.len, h->texts[h->n]};
        e->from_customer = parley__len_is(r->sender_sign_key, 32) &&
                           memcmp(r->sender_sign_key.data, h->customer, 32) == 0;
        h->names[h->n] = strdup(r->sender_name);
        e->agent_id = h->names[h->n] != NULL ? h->names[h->n] : (char *)"";
        e->time_ms = r->time_ms;
        h->ptrs[h->n] = e;
        h->n++;
    }
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    return 0;
}

/* Agents: our custody of cv, as the customer acknowledged it; NULL while unconfirmed. */
static Parley__CustodyAck *custody_confirmed(const struct parley__core *c, const struct conv *cv)
{
    struct parley__custody got;

    if (parley__custody_ack_check_buf(cv->custody_ack.p, cv->custody_ack.n, cv->customer, cv->id,
                                      &got) != PARLEY_OK ||
        sodium_memcmp(got.agent, parley_identity_sign_pk(c->id), 32) != 0 ||
        got.counter != cv->custody)
        return NULL;
    return parley__custody_ack__unpack(NULL, cv->custody_ack.n, cv->custody_ack.p);
}

/*
 * The history a handover carries: the most recent entries that fit in
 * one envelope (a long conversation's oldest lines are left out rather
 * than the handover never leaving).
 */
static void handover_fit(Parley__Handover *h)
{
    while (h->n_history > 0 && parley__handover__get_packed_size(h) > HANDOVER_MAX) {
        h->history++;
        h->n_history--;
    }
}

static void history_collect_free(struct history_collect *hc)
{
    for (size_t i = 0; i < hc->n; i++) {
        parley_free(hc->texts[i], hc->entries[i].text.len + 1);
        free(hc->names[i]);
    }
    free(hc->entries);
    free(hc->ptrs);
    free(hc->texts);
    free(hc->names);
}

struct handing {
    Parley__Payload *handover;
    const uint8_t *target;
};

/*
 * With the Transfer to the customer, in its transaction: the Handover
 * (with our custody acknowledgement and the salt) waiting for a prekey of
 * the target, and the conversation handed over, its keys and our
 * acknowledgement forgotten.
 */
static parley_err hand_over(struct parley__core *c, struct conv *cv, uint64_t seq, void *arg)
{
    const struct handing *h = arg;

    (void)seq;
    cv->state = PARLEY_CONV_TRANSFERRED;
    conv_forget_keys(cv);
    buf_free(&cv->custody_ack);
    return pending_add(c, cv->id, h->target, h->handover);
}

parley_err parley__core_transfer(struct parley__core *c, const uint8_t conv[16],
                                 const char *agent_id, uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT, hp = PARLEY__PAYLOAD__INIT;
    Parley__Transfer t = PARLEY__TRANSFER__INIT;
    Parley__Handover h = PARLEY__HANDOVER__INIT;
    Parley__AgentCert *target = NULL;
    Parley__ConsentReceipt *consent = NULL;
    Parley__CustodyAck *custody = NULL;
    struct history_collect hc;
    parley_cert_info info;
    const uint8_t *cert;
    size_t cert_len = 0;
    struct conv cv;
    int a;
    parley_err err;

    if (!c->agent)
        return PARLEY_ESTATE;
    if (c->dir == NULL || (a = parley_directory_find_agent(c->dir, agent_id)) < 0 ||
        parley_directory_agent(c->dir, (size_t)a, &info) != PARLEY_OK ||
        memcmp(info.sign_pk, parley_identity_sign_pk(c->id), 32) == 0)
        return PARLEY_ENOAGENT;
    cert = parley_directory_agent_cert(c->dir, (size_t)a, &cert_len);
    err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err;
    memset(&hc, 0, sizeof(hc));
    if (cv.state != PARLEY_CONV_ACTIVE) {
        err = PARLEY_ESTATE;
        goto done;
    }
    /* Only a custody the customer acknowledged can be handed on (§11.3). */
    custody = custody_confirmed(c, &cv);
    if (custody == NULL || !cv.has_salt) {
        err = PARLEY_ECUSTODY;
        goto done;
    }
    target = parley__agent_cert__unpack(NULL, cert_len, cert);
    hc.cap = cv.history_count < PARLEY__MAX_HISTORY ? cv.history_count : PARLEY__MAX_HISTORY;
    hc.entries = calloc(hc.cap + 1, sizeof(*hc.entries));
    hc.ptrs = calloc(hc.cap + 1, sizeof(*hc.ptrs));
    hc.texts = calloc(hc.cap + 1, sizeof(*hc.texts));
    hc.names = calloc(hc.cap + 1, sizeof(*hc.names));
    hc.customer = cv.customer;
    if (target == NULL || hc.entries == NULL || hc.ptrs == NULL || hc.texts == NULL ||
        hc.names == NULL) {
        err = PARLEY_ENOMEM;
        goto done;
    }
    /* The new agent gets what it needs to go on, sealed to it. */
    err = parley__vault_scan(c->vault, "history", cv.id, 16, collect_history, &hc);
    if (err != PARLEY_OK)
        goto done;
    if (cv.consent.n > 0)
        consent = parley__consent_receipt__unpack(NULL, cv.consent.n, cv.consent.p);
    h.customer_sign_key = (ProtobufCBinaryData){32, cv.customer};
    h.customer_receive_key = (ProtobufCBinaryData){32, cv.peer_rk};
    for (size_t i = 0; i < cv.n_senders; i++)
        if (memcmp(cv.senders[i].key, cv.customer, 32) == 0)
            h.customer_seq = cv.senders[i].highest;
    h.consent = consent;
    h.queue = cv.queue;
    h.history = hc.ptrs;
    h.n_history = hc.n;
    h.conversation_salt = (ProtobufCBinaryData){16, cv.salt};
    h.custody = custody;
    handover_fit(&h);
    hp.body_case = PARLEY__PAYLOAD__BODY_HANDOVER;
    hp.handover = &h;
    /* The customer learns the new agent's certificate and checks it against the brand key. */
    t.target = target;
    p.body_case = PARLEY__PAYLOAD__BODY_TRANSFER;
    p.transfer = &t;
    /* No key announced: the customer's replies go to the new agent. */
    err = send_now_with(c, &cv, &p, false, hand_over, &(struct handing){&hp, info.sign_pk}, NULL,
                        now);
    if (err == PARLEY_OK) {
        emit_state(c, &cv);
        flush_pending(c, now);
    }
done:
    history_collect_free(&hc);
    if (custody != NULL)
        parley__custody_ack__free_unpacked(custody, NULL);
    if (consent != NULL)
        parley__consent_receipt__free_unpacked(consent, NULL);
    if (target != NULL)
        parley__agent_cert__free_unpacked(target, NULL);
    conv_free(&cv);
    return err;
}

parley_err parley__core_close(struct parley__core *c, const uint8_t conv[16], const char *reason,
                              uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Close cl = PARLEY__CLOSE__INIT;
    struct conv cv;
    parley_err err = conv_load(c, conv, &cv);

    if (err != PARLEY_OK)
        return err;
    if (cv.state == PARLEY_CONV_CLOSED) {
        conv_free(&cv);
        return PARLEY_OK;
    }
    if (cv.state == PARLEY_CONV_ACTIVE) {
        cl.reason = (char *)(reason != NULL ? reason : "");
        p.body_case = PARLEY__PAYLOAD__BODY_CLOSE;
        p.close = &cl;
        err = send_now(c, &cv, &p, NULL, 0, NULL, now);
    }
    if (err == PARLEY_OK) {
        cv.state = PARLEY_CONV_CLOSED;
        conv_forget_keys(&cv);
        err = conv_save(c, &cv);
    }
    if (err == PARLEY_OK)
        emit_state(c, &cv);
    conv_free(&cv);
    return err;
}

static parley_err send_small(struct parley__core *c, const uint8_t conv[16], Parley__Payload *p,
                             uint64_t now)
{
    struct conv cv;
    parley_err err = conv_load(c, conv, &cv);

    if (err != PARLEY_OK)
        return err;
    err = cv.state == PARLEY_CONV_ACTIVE ? send_now(c, &cv, p, NULL, 0, NULL, now) : PARLEY_ESTATE;
    conv_free(&cv);
    return err;
}

parley_err parley__core_mark_read(struct parley__core *c, const uint8_t conv[16], uint64_t seq,
                                  uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Receipt r = PARLEY__RECEIPT__INIT;

    r.kind = PARLEY__RECEIPT__KIND__READ;
    r.up_to_seq = seq;
    p.body_case = PARLEY__PAYLOAD__BODY_RECEIPT;
    p.receipt = &r;
    return send_small(c, conv, &p, now);
}

parley_err parley__core_typing(struct parley__core *c, const uint8_t conv[16], int active,
                               uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Typing t = PARLEY__TYPING__INIT;
    Parley__AgentCert *cert = NULL;
    struct out_item it;
    const uint8_t *sign, *box;
    uint8_t routing[32], *sealed = NULL;
    size_t sealed_len = 0;
    struct conv cv;
    parley_err err = conv_load(c, conv, &cv);

    if (err != PARLEY_OK)
        return err;
    /*
     * A typing notice is fleeting: sealed and sent now if connected, never
     * written to the outbox nor resent, and it neither uses a sequence
     * number nor announces a key (receivers do not sequence-check it).
     */
    if (cv.state != PARLEY_CONV_ACTIVE || !conv_peer(c, &cv, &sign, &box)) {
        err = PARLEY_ESTATE;
        goto done;
    }
    if (c->net != NET_READY)
        goto done;
    if (c->agent && (cert = parley__agent_cert__unpack(NULL, c->cert.n, c->cert.p)) == NULL) {
        err = PARLEY_EMALFORMED;
        goto done;
    }
    t.active = active != 0;
    p.body_case = PARLEY__PAYLOAD__BODY_TYPING;
    p.typing = &t;
    p.sender_cert = cert;
    p.conversation_id = (ProtobufCBinaryData){16, cv.id};
    p.seq = cv.my_seq > 0 ? cv.my_seq : 1;
    p.time_ms = now;
    memset(&it, 0, sizeof(it));
    err = parley__seal_payload(&p, c->id, box, &sealed, &sealed_len);
    if (err == PARLEY_OK) {
        randombytes_buf(it.envelope_id, 16);
        route_to(c, &cv, sign, routing);
        err = parley__envelope_pack(it.envelope_id, cv.id, routing, sealed, sealed_len, &it.env,
                                    &it.env_len);
    }
    if (err == PARLEY_OK)
        queue_send(c, &it);
    free(it.env);
    free(sealed);
    if (cert != NULL)
        parley__agent_cert__free_unpacked(cert, NULL);
done:
    conv_free(&cv);
    return err;
}

parley_err parley__core_state(struct parley__core *c, const uint8_t conv[16],
                              parley_conv_state *state)
{
    struct conv cv;
    parley_err err = conv_load(c, conv, &cv);

    if (err == PARLEY_OK)
        *state = cv.state;
    conv_free(&cv);
    return err;
}

/* ------------------------------------------------------------------ */
/* Listings */

struct list_ctx {
    struct parley__core *c;
    parley_conversation_fn fn;
    void *user;
};

/* What a listing tells of a conversation; pointers into cv. */
static void conv_info(const struct conv *cv, parley_conversation_info *info)
{
    memset(info, 0, sizeof(*info));
    memcpy(info->conversation_id, cv->id, 16);
    info->state = cv->state;
    info->queue = cv->queue;
    if (cv->state == PARLEY_CONV_TRANSFERRING && cv->target_cert.n > 0) {
        info->has_agent = 1;
        info->agent = cv->target;
    } else if (cv->agent_cert.n > 0) {
        info->has_agent = 1;
        info->agent = cv->agent;
    }
    memcpy(info->customer_sign_pk, cv->customer, 32);
    info->messages = cv->history_count;
    info->peer_delivered_seq = cv->peer_delivered;
    info->peer_read_seq = cv->peer_read;
    info->erasure = cv->erasure;
    info->reduced_secrecy = cv->reduced_secrecy;
    if (cv->consent.n > 0) {
        Parley__ConsentReceipt *r = parley__consent_receipt__unpack(NULL, cv->consent.n, cv->consent.p);
        Parley__ConsentReceiptBody *b =
            r != NULL ? parley__consent_receipt_body__unpack(NULL, r->body.len, r->body.data)
                      : NULL;
        if (b != NULL) {
            info->consent_notice_version = b->notice_version;
            info->consent_time_ms = b->time_ms;
            parley__consent_receipt_body__free_unpacked(b, NULL);
        }
        if (r != NULL)
            parley__consent_receipt__free_unpacked(r, NULL);
    }
}

static int list_one(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                    size_t val_len)
{
    struct list_ctx *l = arg;
    parley_conversation_info info;
    struct conv cv;
    int stop;

    if (key_len != 16 || conv_load(l->c, key, &cv) != PARLEY_OK)
        return 0;
    conv_info(&cv, &info);
    stop = l->fn(l->user, &info);
    conv_free(&cv);
    return stop;
}

parley_err parley__core_list(struct parley__core *c, parley_conversation_fn fn, void *user)
{
    struct list_ctx l = {c, fn, user};

    if (fn == NULL)
        return PARLEY_EINVAL;
    return parley__vault_scan(c->vault, "conv", NULL, 0, list_one, &l);
}

struct history_ctx {
    parley_history_fn fn;
    void *user;
};

static int history_one(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                       size_t val_len)
{
    struct history_ctx *h = arg;
    Parley__HistoryRecord *r = parley__history_record__unpack(&parley__wiping_allocator, val_len, val);
    parley_history_entry e;
    char *text;
    int stop = 0;

    if (r == NULL)
        return 0;
    text = malloc(r->text.len + 1);
    if (text != NULL && parley__len_is(r->sender_sign_key, 32)) {
        memcpy(text, r->text.data, r->text.len);
        text[r->text.len] = '\0';
        memset(&e, 0, sizeof(e));
        e.seq = r->seq;
        e.time_ms = r->time_ms;
        e.from_me = r->from_me;
        memcpy(e.sender_sign_pk, r->sender_sign_key.data, 32);
        e.sender_name = r->sender_name;
        e.text = text;
        e.text_len = r->text.len;
        stop = h->fn(h->user, &e);
    }
    if (text != NULL)
        parley_free(text, r->text.len + 1);
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    return stop;
}

/* A conversation's history; include_held: also one kept after an erasure request. */
static parley_err history_scan(struct parley__core *c, const uint8_t conv[16],
                               parley_history_fn fn, void *user, bool include_held)
{
    struct history_ctx h = {fn, user};
    struct conv cv;
    bool held;
    parley_err err;

    if (fn == NULL)
        return PARLEY_EINVAL;
    err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err;
    held = cv.erasure == 2;
    conv_free(&cv);
    if (held && !include_held)
        return PARLEY_OK; /* kept only because the brand must: left out of searches */
    return parley__vault_scan(c->vault, "history", conv, 16, history_one, &h);
}

parley_err parley__core_history(struct parley__core *c, const uint8_t conv[16],
                                parley_history_fn fn, void *user)
{
    return history_scan(c, conv, fn, user, false);
}

parley_err parley__core_history_all(struct parley__core *c, const uint8_t conv[16],
                                    parley_history_fn fn, void *user)
{
    return history_scan(c, conv, fn, user, true);
}

parley_err parley__core_export(struct parley__core *c, const uint8_t conv[16], char **json,
                               size_t *len)
{
    parley_conversation_info info;
    struct conv cv;
    parley_err err;

    if (json == NULL || len == NULL)
        return PARLEY_EINVAL;
    err = conv_load(c, conv, &cv);
    if (err != PARLEY_OK)
        return err;
    conv_info(&cv, &info);
    if (c->agent && !info.has_agent) {
        /* Exported by an agent: the agent of the record is the one exporting. */
        info.has_agent = 1;
        info.agent = c->cert_info;
    }
    err = parley__core_export_json(c, &info, cv.consent.p, cv.consent.n, c->brand_id, json, len);
    conv_free(&cv);
    return err;
}

/* ------------------------------------------------------------------ */
/* Erasure (customers) */


/* A customer's conversations, with their salts. */
struct conv_ref {
    uint8_t id[16], salt[16];
    bool salted;
};

struct conv_ids {
    struct conv_ref *ids;
    size_t n, cap;
};

static int collect_conv_id(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                           size_t val_len)
{
    struct conv_ids *l = arg;
    struct conv_ref *r;
    Parley__ConversationState *s;

    if (key_len != 16)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct conv_ref *grown = realloc(l->ids, cap * sizeof(*grown));
        if (grown == NULL)
            return 1;
        l->ids = grown;
        l->cap = cap;
    }
    r = &l->ids[l->n++];
    memset(r, 0, sizeof(*r));
    memcpy(r->id, key, 16);
    s = parley__conversation_state__unpack(&parley__wiping_allocator, val_len, val);
    if (s != NULL && parley__len_is(s->conversation_salt, 16)) {
        memcpy(r->salt, s->conversation_salt.data, 16);
        r->salted = true;
    }
    if (s != NULL)
        parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
    return 0;
}

/*
 * Tells every agent who holds part of one conversation (the agents its
 * first message went to, and those it was transferred to) and closes it.
 */
struct rows_of {
    const uint8_t *conv;
    uint64_t *rows;
    size_t n, cap;
};

/* The "pending" rows of one conversation. */
static int collect_pending_of(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                              size_t val_len)
{
    struct rows_of *r = arg;
    Parley__PendingSend *ps;
    bool mine;

    if (key_len != 8)
        return 0;
    ps = parley__pending_send__unpack(&parley__wiping_allocator, val_len, val);
    mine = ps != NULL && parley__len_is(ps->conversation_id, 16) &&
           memcmp(ps->conversation_id.data, r->conv, 16) == 0;
    if (ps != NULL)
        parley__pending_send__free_unpacked(ps, &parley__wiping_allocator);
    if (!mine)
        return 0;
    if (r->n == r->cap) {
        uint64_t *grown = grow(r->rows, &r->cap, r->n, sizeof(*r->rows));
        if (grown == NULL)
            return 1;
        r->rows = grown;
    }
    r->rows[r->n++] = row_of(key, 8);
    return 0;
}

/*
 * Customers, asking for erasure: what still waits to go out in conversation
 * id (texts not yet sent or not yet sealed, an Open not yet sealed) is
 * dropped, so that nothing of it reaches the relay after the request.
 */
static parley_err drop_unsent(struct parley__core *c, const uint8_t id[16])
{
    struct rows_of l = {id, NULL, 0, 0};
    parley_err err = PARLEY_OK;
    uint8_t row[8];

    for (size_t i = c->n_out; err == PARLEY_OK && i-- > 0;) {
        if (memcmp(c->out[i].conv, id, 16) != 0)
            continue;
        be64(row, c->out[i].key);
        err = parley__vault_del(c->vault, "outbox", row, sizeof(row));
        if (err == PARLEY_OK)
            out_remove(c, i);
    }
    if (err == PARLEY_OK)
        err = parley__vault_scan(c->vault, "pending", NULL, 0, collect_pending_of, &l);
    for (size_t i = 0; err == PARLEY_OK && i < l.n; i++) {
        be64(row, l.rows[i]);
        err = parley__vault_del(c->vault, "pending", row, sizeof(row));
    }
    free(l.rows);
    return err;
}

/* A history row written by an agent loses the agent's name and key; the text stays. */
static parley_err anonymise_row(struct parley__core *c, const uint8_t key[24])
{
    static uint8_t nobody[32];
    Parley__HistoryRecord *r;
    uint8_t *val;
    size_t len;
    parley_err err = parley__vault_get(c->vault, "history", key, 24, &val, &len);

    if (err != PARLEY_OK)
        return err;
    r = parley__history_record__unpack(&parley__wiping_allocator, len, val);
    parley_free(val, len);
    if (r == NULL)
        return PARLEY_EIO;
    if (!r->from_me) {
        char *name = r->sender_name;
        ProtobufCBinaryData key_was = r->sender_sign_key;

        r->sender_name = (char *)"";
        r->sender_sign_key = (ProtobufCBinaryData){32, nobody};
        err = parley__vault_put_pb(c->vault, "history", key, 24, &r->base);
        r->sender_name = name; /* freed with the rest */
        r->sender_sign_key = key_was;
    }
    parley__history_record__free_unpacked(r, &parley__wiping_allocator);
    return err;
}

/*
 * Customers, once the agents are told: what the conversation kept about
 * them goes (their certificates with names and keys, the agents its first
 * message went to, their receive keys and sequence counters, their names
 * and keys in the history). The customer's own copy of the conversation,
 * its texts and consent, stays on the device.
 */
static parley_err forget_parties(struct parley__core *c, struct conv *cv)
{
    struct row_keys k = {NULL, 0, 0};
    parley_err err = parley__vault_scan(c->vault, "history", cv->id, 16, collect_history_key, &k);

    if (err == PARLEY_OK)
        err = parley__vault_begin(c->vault);
    for (size_t i = 0; err == PARLEY_OK && i < k.n; i++)
        err = anonymise_row(c, k.keys[i]);
    free(k.keys);
    if (err != PARLEY_OK) {
        if (c->vault->in_tx)
            parley__vault_rollback(c->vault);
        return err;
    }
    buf_free(&cv->agent_cert);
    buf_free(&cv->target_cert);
    sodium_memzero(&cv->agent, sizeof(cv->agent));
    sodium_memzero(&cv->target, sizeof(cv->target));
    sodium_memzero(cv->fanout, sizeof(cv->fanout));
    cv->n_fanout = 0;
    sodium_memzero(cv->senders, sizeof(cv->senders));
    cv->n_senders = 0;
    sodium_memzero(cv->peer_rk, sizeof(cv->peer_rk));
    cv->has_peer_rk = false;
    err = conv_save(c, cv);
    if (err == PARLEY_OK)
        return parley__vault_commit(c->vault);
    parley__vault_rollback(c->vault);
    return err;
}

static parley_err erase_conversation(struct parley__core *c, const uint8_t id[16],
                                     Parley__ErasureRequest *req, uint64_t now)
{
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    Parley__Erase e = PARLEY__ERASE__INIT;
    const uint8_t *current = NULL;
    struct conv cv;
    parley_err err = conv_load(c, id, &cv);

    if (err != PARLEY_OK)
        return err;
    e.request = req;
    p.body_case = PARLEY__PAYLOAD__BODY_ERASE;
    p.erase = &e;
    if (cv.state == PARLEY_CONV_ACTIVE) {
        current = cv.agent.sign_pk;
        err = send_now(c, &cv, &p, NULL, 0, NULL, now);
    }
    /* The others through one-time prekeys: their conversation keys are gone or never were. */
    for (size_t i = 0; err == PARLEY_OK && i < cv.n_fanout; i++)
        if (current == NULL || memcmp(cv.fanout[i], current, 32) != 0)
            err = pending_add(c, cv.id, cv.fanout[i], &p);
    if (err == PARLEY_OK && cv.state == PARLEY_CONV_TRANSFERRING && cv.target_cert.n > 0)
        err = pending_add(c, cv.id, cv.target.sign_pk, &p); /* handed the history already */
    if (err == PARLEY_OK && cv.state != PARLEY_CONV_CLOSED) {
        cv.state = PARLEY_CONV_CLOSED;
        conv_forget_keys(&cv);
        err = conv_save(c, &cv);
        if (err == PARLEY_OK)
            emit_state(c, &cv);
    }
    if (err == PARLEY_OK)
        err = forget_parties(c, &cv);
    conv_free(&cv);
    return err;
}

parley_err parley__core_erase(struct parley__core *c, uint64_t now)
{
    Parley__ErasureRequestBody body = PARLEY__ERASURE_REQUEST_BODY__INIT;
    Parley__ErasureRequest *req;
    struct conv_ids l = {NULL, 0, 0};
    uint8_t sig[64], *bbuf = NULL, *rbuf = NULL;
    size_t blen = 0, rlen = 0, n = 0;
    parley_err err;

    ProtobufCBinaryData *ids = NULL, *salts = NULL;

    if (c->agent)
        return PARLEY_ESTATE;
    err = parley__vault_scan(c->vault, "conv", NULL, 0, collect_conv_id, &l);
    if (err != PARLEY_OK) {
        free(l.ids);
        return err;
    }
    ids = calloc(l.n + 1, sizeof(*ids));
    salts = calloc(l.n + 1, sizeof(*salts));
    if (ids == NULL || salts == NULL) {
        free(ids);
        free(salts);
        free(l.ids);
        return PARLEY_ENOMEM;
    }
    /*
     * Each id with its salt, so the relay can check that they are this
     * customer's. A conversation without a salt (none is made so) could
     * not pass that check and would make the relay refuse the request.
     */
    for (size_t i = 0; i < l.n; i++)
        if (l.ids[i].salted) {
            ids[n] = (ProtobufCBinaryData){16, l.ids[i].id};
            salts[n++] = (ProtobufCBinaryData){16, l.ids[i].salt};
        }
    body.brand_id = c->brand_id;
    body.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(c->id)};
    body.time_ms = now;
    /* The relay also deletes what agents sent each other about these (handovers). */
    body.conversation_ids = ids;
    body.n_conversation_ids = n;
    body.conversation_salts = salts;
    body.n_conversation_salts = n;
    err = parley__pack(&body.base, &bbuf, &blen);
    free(ids);
    free(salts);
    if (err != PARLEY_OK) {
        free(l.ids);
        return err;
    }
    {
        Parley__ErasureRequest r = PARLEY__ERASURE_REQUEST__INIT;
        parley__sign_raw(c->id->secret->sign_sk, PARLEY__DOMAIN_ERASURE, bbuf, blen, sig);
        r.body = (ProtobufCBinaryData){blen, bbuf};
        r.signature = (ProtobufCBinaryData){64, sig};
        err = parley__pack(&r.base, &rbuf, &rlen);
    }
    free(bbuf);
    if (err != PARLEY_OK) {
        free(l.ids);
        return err;
    }
    /* Kept until the relay confirms, and sent again on every connection until then. */
    err = parley__vault_put(c->vault, "meta", (const uint8_t *)"erase", 5, rbuf, rlen);
    if (err == PARLEY_OK && !buf_set(&c->erase_request, rbuf, rlen))
        err = PARLEY_ENOMEM;
    req = err == PARLEY_OK ? parley__erasure_request__unpack(NULL, rlen, rbuf) : NULL;
    free(rbuf);
    if (err == PARLEY_OK && req == NULL)
        err = PARLEY_ENOMEM;
    if (err != PARLEY_OK) {
        free(l.ids);
        return err;
    }
    /* Nothing written before the request leaves after it. */
    for (size_t i = 0; err == PARLEY_OK && i < l.n; i++)
        err = drop_unsent(c, l.ids[i].id);
    /* The relay first, so that the notices to the agents sent next are not erased with the rest. */
    send_erase_frame(c);
    for (size_t i = 0; err == PARLEY_OK && i < l.n; i++)
        err = erase_conversation(c, l.ids[i].id, req, now);
    free(l.ids);
    parley__erasure_request__free_unpacked(req, NULL);
    flush_pending(c, now);
    parley__vault_compact(c->vault); /* no old copy of what was forgotten stays in the files */
    return err;
}

parley_err parley__core_withdraw_consent(struct parley__core *c, uint64_t now)
{
    parley_err err;

    if (c->agent)
        return PARLEY_ESTATE;
    err = parley__vault_del(c->vault, "meta", (const uint8_t *)"consent", 7);
    if (err != PARLEY_OK)
        return err;
    buf_free(&c->consent);
    c->consent_version = 0;
    return parley__core_erase(c, now);
}
