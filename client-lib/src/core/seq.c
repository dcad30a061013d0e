/*
 * Per-sender sequence numbers: gaps, replays and reorders.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define SEQ_WINDOW 64u

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
void seq_forget(struct conv *cv, const uint8_t sender[32])
{
    for (size_t i = 0; i < cv->n_senders; i++)
        if (memcmp(cv->senders[i].key, sender, 32) == 0) {
            memmove(&cv->senders[i], &cv->senders[i + 1],
                    (cv->n_senders - i - 1) * sizeof(cv->senders[0]));
            cv->n_senders--;
            return;
        }
}

/* What is counted from sender in cv, or NULL. */
static const struct sseq *sseq_find(const struct conv *cv, const uint8_t sender[32])
{
    for (size_t i = 0; i < cv->n_senders; i++)
        if (memcmp(cv->senders[i].key, sender, 32) == 0)
            return &cv->senders[i];
    return NULL;
}

/* What is counted from sender in cv, made (the oldest forgotten when full) if new. */
static struct sseq *sseq_of(struct conv *cv, const uint8_t sender[32])
{
    struct sseq *s = (struct sseq *)sseq_find(cv, sender);

    if (s == NULL) {
        if (cv->n_senders == MAX_SENDERS) {
            memmove(&cv->senders[0], &cv->senders[1], (MAX_SENDERS - 1) * sizeof(cv->senders[0]));
            cv->n_senders--;
        }
        s = &cv->senders[cv->n_senders++];
        memset(s, 0, sizeof(*s));
        memcpy(s->key, sender, 32);
    }
    return s;
}

/* Per-sender sequence check with a window of the last 64 numbers. */
static enum seq_verdict seq_check(struct conv *cv, const uint8_t sender[32], uint64_t seq,
                                  uint64_t *gap_from)
{
    struct sseq *s = sseq_of(cv, sender);

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

/*
 * Sequence check with its events; false when the payload must be dropped.
 * A first contact (an Open, a handover, a notice from the customer to an
 * agent who never heard from it since) has no gap to report.
 */
bool seq_ok(struct parley__core *c, struct conv *cv, const struct opened *o,
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
 * A typing notice uses no number of its own: it carries the sender's last
 * number and its clock. It is stale when that number is below the highest
 * taken from the sender (messages came since), or (number, time) is not
 * past the last typing notice taken from it: the same one again.
 */
static bool typing_stale(const struct conv *cv, const Parley__Payload *p)
{
    const struct sseq *s = sseq_find(cv, p->sender_sign_key.data);

    return s != NULL && (p->seq < s->highest || p->seq < s->typing_seq ||
                         (p->seq == s->typing_seq && p->time_ms <= s->typing_ms));
}

/* A typing notice taken from its sender: later ones must come after it (typing_stale). */
void typing_taken(struct conv *cv, const Parley__Payload *p)
{
    struct sseq *s = sseq_of(cv, p->sender_sign_key.data);

    s->typing_seq = p->seq;
    s->typing_ms = p->time_ms;
}

/*
 * Any payload whose sequence number its sender already used in cv is a
 * replay, whatever its body, and goes no further; so is a stale typing
 * notice (typing_stale): reported (PARLEY_EREPLAY), acknowledged to the
 * relay, dropped.
 */
bool replayed(struct parley__core *c, const Parley__Envelope *env, const struct conv *cv,
              const struct opened *o)
{
    if (o->p->body_case == PARLEY__PAYLOAD__BODY_TYPING ? !typing_stale(cv, o->p)
                                                        : !seq_seen(cv, o->p->sender_sign_key.data,
                                                                    o->p->seq))
        return false;
    emit_seq(c, cv, o, PARLEY_EV_REPLAY, 0);
    send_delivered(c, env->envelope_id.data);
    return true;
}
