/*
 * Conversations at rest: their state loaded from and saved to the vault,
 * receive keys, history rows.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

void buf_free(struct buf *b)
{
    parley_free(b->p, b->n);
    b->p = NULL;
    b->n = 0;
}

bool buf_set(struct buf *b, const uint8_t *p, size_t n)
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

void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

void conv_free(struct conv *cv)
{
    buf_free(&cv->agent_cert);
    buf_free(&cv->consent);
    buf_free(&cv->target_cert);
    buf_free(&cv->custody_ack);
    for (size_t i = 0; i < cv->n_special; i++)
        buf_free(&cv->special[i]);
    sodium_memzero(cv, sizeof(*cv));
}

static bool cert_of(const struct parley__core *c, const struct buf *b, parley_cert_info *info)
{
    return b->n > 0 && parley_cert_inspect(b->p, b->n, info) == PARLEY_OK;
}

/* The sequence counters and receive keys of a stored state; false when malformed. */
static bool conv_counters_from(const Parley__ConversationState *s, struct conv *cv)
{
    for (size_t i = 0; i < s->n_senders && cv->n_senders < MAX_SENDERS; i++) {
        if (!parley__len_is(s->senders[i]->sign_key, 32))
            return false;
        memcpy(cv->senders[cv->n_senders].key, s->senders[i]->sign_key.data, 32);
        cv->senders[cv->n_senders].highest = s->senders[i]->highest;
        cv->senders[cv->n_senders].window = s->senders[i]->window;
        cv->senders[cv->n_senders].typing_seq = s->senders[i]->typing_seq;
        cv->senders[cv->n_senders].typing_ms = s->senders[i]->typing_time_ms;
        cv->n_senders++;
    }
    for (size_t i = 0; i < s->n_receive_keys && cv->n_keys < MAX_KEYS; i++) {
        Parley__StoredKey *k = s->receive_keys[i];
        if (!parley__len_is(k->public_key, 32) || !parley__len_is(k->secret_key, 32))
            return false;
        memcpy(cv->keys[cv->n_keys].pk, k->public_key.data, 32);
        memcpy(cv->keys[cv->n_keys].sk, k->secret_key.data, 32);
        cv->keys[cv->n_keys].created = k->created_ms;
        cv->keys[cv->n_keys].used = k->used;
        cv->n_keys++;
    }
    return true;
}

/* A conversation from its stored state; false when malformed (or out of memory). */
static bool conv_from(const struct parley__core *c, const Parley__ConversationState *s,
                      struct conv *cv)
{
    if (!parley__len_is(s->conversation_id, 16) ||
        !parley__copy_str(cv->queue, sizeof(cv->queue), s->queue) || !conv_counters_from(s, cv))
        return false;
    memcpy(cv->id, s->conversation_id.data, 16);
    cv->state = (parley_conv_state)s->state;
    if ((cv->has_customer = s->customer_sign_key.len == 32))
        memcpy(cv->customer, s->customer_sign_key.data, 32);
    if ((cv->has_salt = s->conversation_salt.len == 16))
        memcpy(cv->salt, s->conversation_salt.data, 16);
    if ((cv->has_peer_rk = s->peer_receive_key.len == 32))
        memcpy(cv->peer_rk, s->peer_receive_key.data, 32);
    cv->my_seq = s->my_seq;
    for (size_t i = 0; i < s->n_fanout && cv->n_fanout < MAX_FANOUT; i++)
        if (parley__len_is(s->fanout[i], 32))
            memcpy(cv->fanout[cv->n_fanout++], s->fanout[i].data, 32);
    if (!buf_set(&cv->agent_cert, s->agent_cert.data, s->agent_cert.len) ||
        !buf_set(&cv->consent, s->consent.data, s->consent.len) ||
        !buf_set(&cv->target_cert, s->transfer_target.data, s->transfer_target.len) ||
        !buf_set(&cv->custody_ack, s->custody_ack.data, s->custody_ack.len) ||
        !special_load(cv, s->special_consents, s->n_special_consents))
        return false;
    cert_of(c, &cv->agent_cert, &cv->agent);
    cert_of(c, &cv->target_cert, &cv->target);
    cv->history_count = s->history_count;
    cv->peer_read = s->peer_read_seq;
    cv->peer_delivered = s->peer_delivered_seq;
    cv->erasure = s->erasure;
    cv->erasure_ms = s->erasure_ms;
    cv->custody = s->custody_counter;
    cv->notice_seq = s->notice_seq;
    cv->reduced_secrecy = s->reduced_secrecy;
    return true;
}

parley_err conv_load(struct parley__core *c, const uint8_t id[16], struct conv *cv)
{
    Parley__ConversationState *s;
    uint8_t *val;
    size_t len;
    bool ok;
    parley_err err = parley__vault_get(c->vault, "conv", id, 16, &val, &len);

    memset(cv, 0, sizeof(*cv));
    if (err != PARLEY_OK)
        return err;
    s = parley__conversation_state__unpack(&parley__wiping_allocator, len, val);
    parley_free(val, len);
    ok = s != NULL && conv_from(c, s, cv);
    if (s != NULL)
        parley__conversation_state__free_unpacked(s, &parley__wiping_allocator);
    if (!ok) {
        conv_free(cv);
        return PARLEY_EIO;
    }
    return PARLEY_OK;
}

parley_err conv_save(struct parley__core *c, const struct conv *cv)
{
    Parley__ConversationState s = PARLEY__CONVERSATION_STATE__INIT;
    Parley__SenderSeq seqs[MAX_SENDERS], *seq_ptrs[MAX_SENDERS];
    Parley__StoredKey keys[MAX_KEYS], *key_ptrs[MAX_KEYS];
    ProtobufCBinaryData fan[MAX_FANOUT], special[PARLEY_SCAN_CATEGORY_COUNT];
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
        seqs[i].typing_seq = cv->senders[i].typing_seq;
        seqs[i].typing_time_ms = cv->senders[i].typing_ms;
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
    s.erasure_ms = cv->erasure_ms;
    s.custody_counter = cv->custody;
    s.custody_ack = (ProtobufCBinaryData){cv->custody_ack.n, cv->custody_ack.p};
    s.notice_seq = cv->notice_seq;
    s.reduced_secrecy = cv->reduced_secrecy;
    for (size_t i = 0; i < cv->n_special; i++)
        special[i] = (ProtobufCBinaryData){cv->special[i].n, cv->special[i].p};
    s.special_consents = special;
    s.n_special_consents = cv->n_special;
    err = parley__vault_put_pb(c->vault, "conv", cv->id, 16, &s.base);
    sodium_memzero(keys, sizeof(keys));
    return err;
}

/* Forgets every receive secret of the conversation (closed or handed over). */
void conv_forget_keys(struct conv *cv)
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
const uint8_t *conv_receive_key(struct conv *cv, uint64_t now)
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

parley_err history_add(struct parley__core *c, struct conv *cv, const uint8_t *envelope_id,
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
    h.received_ms = from_me ? time_ms : c->now; /* our own clock either way */
    return parley__vault_put_pb(c->vault, "history", key, sizeof(key), &h.base);
}

/* The peer sealed to pk: it is used, and the keys older than it are dropped. */
void conv_keys_used(struct conv *cv, const uint8_t pk[32])
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

int collect_history_key(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    struct row_keys *k = arg;
    uint8_t(*grown)[24];

    if (key_len != 24)
        return 0;
    grown = parley__grow(k->keys, &k->cap, k->n + 1, sizeof(*grown));
    if (grown == NULL)
        return -1;
    k->keys = grown;
    memcpy(k->keys[k->n++], key, 24);
    return 0;
}

/* Keeps an unpacked signed object in b, as the bytes it packs to. */
bool buf_set_pb(struct buf *b, const ProtobufCMessage *m)
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
