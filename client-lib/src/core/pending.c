/*
 * Payloads waiting for a key: kept on disk until the agent claims, or until
 * a prekey of the recipient comes from the relay.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define PREKEY_RETRY_MS 60000u /* a payload found no prekey to seal to: asked again */

/* Saves a payload for later: to agent `to` (a prekey to fetch) or, to NULL, the current agent. */
parley_err pending_add(struct parley__core *c, const uint8_t conv[16], const uint8_t *to,
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

static int count_row(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                     size_t val_len)
{
    (void)key;
    (void)val;
    (void)val_len;
    *(size_t *)arg += key_len == 8;
    return 0;
}

size_t parley__core_waiting_size(const struct parley__core *c)
{
    size_t n = 0;

    if (parley__vault_scan(c->vault, "pending", NULL, 0, count_row, &n) != PARLEY_OK)
        return 0;
    return n;
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
            err = parley__vault_del(c->vault, "pending", key, sizeof(key));
        err = conv_commit(c, &cv, err, n_before);
    }
    if (err == PARLEY_OK && reduced)
        emit_reduced(c, &cv);
    conv_free(&cv);
    parley__payload_free(p);
    return err;
}

/* Moves every pending payload forward: seals what has a key, asks for prekeys for the rest. */
void flush_pending(struct parley__core *c, uint64_t now)
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
            if (cv.state == PARLEY_CONV_ACTIVE && conv_peer(c, &cv, &sign, &box) &&
                peer_refusal(c, &cv, now) == PARLEY_OK) {
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

/*
 * A prekey for a payload waiting on it: checked (its owner signed it; a
 * medium-term one has not expired) and sealed to. Never the owner's
 * long-term key instead: without a usable prekey the payload waits, the
 * application is told (PARLEY_ENOPREKEY or why the prekey was refused),
 * and the prekey is asked for again later.
 */
void on_prekey_result(struct parley__core *c, const Parley__PrekeyResult *r, uint64_t now)
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
