/*
 * Output queues of the core: frames for the relay and events for the
 * application.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

void queue_frame(struct parley__core *c, const Parley__Frame *f)
{
    struct buf b, *frames =
        parley__grow(c->frames, &c->cap_frames, c->n_frames + 1, sizeof(*frames));

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

void event_clear(struct event_item *e)
{
    if (e->text != NULL)
        parley_free(e->text, strlen(e->text) + 1);
    free(e->queue);
    memset(e, 0, sizeof(*e));
}

/* Queues ev; text (may be NULL, n bytes) and queue are copied. */
void emit(struct parley__core *c, const parley_event *ev, const uint8_t *text, size_t n)
{
    struct event_item *e =
        parley__grow(c->events, &c->cap_events, c->n_events + 1, sizeof(*e));

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

    event_init(&ev, PARLEY_EV_DISCONNECTED, NULL);
    ev.error = why;
    ev.retry_ms = retry_ms;
    emit(c, &ev, NULL, 0);
}

/* An event of kind about conversation conv (NULL: none), every other field zero. */
void event_init(parley_event *ev, parley_event_kind kind, const uint8_t conv[16])
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    if (conv != NULL)
        memcpy(ev->conversation_id, conv, 16);
}

void emit_simple(struct parley__core *c, parley_event_kind kind, const uint8_t conv[16])
{
    parley_event ev;

    event_init(&ev, kind, conv);
    emit(c, &ev, NULL, 0);
}

void emit_rejected(struct parley__core *c, const uint8_t conv[16], parley_err err)
{
    parley_event ev;

    event_init(&ev, PARLEY_EV_REJECTED, conv);
    ev.error = err;
    emit(c, &ev, NULL, 0);
}

/*
 * A conversation's first contents (an Open, a Handover) went to or came
 * through a medium-term prekey: its forward secrecy is reduced until that
 * prekey's secret is deleted. Recorded in cv; true when newly so, for
 * emit_reduced once committed.
 */
bool mark_reduced(struct conv *cv, const Parley__Payload *p, bool medium_term)
{
    if (!medium_term || cv->reduced_secrecy ||
        (p->body_case != PARLEY__PAYLOAD__BODY_OPEN &&
         p->body_case != PARLEY__PAYLOAD__BODY_HANDOVER))
        return false;
    cv->reduced_secrecy = true;
    return true;
}

void emit_reduced(struct parley__core *c, const struct conv *cv)
{
    parley_event ev;

    event_init(&ev, PARLEY_EV_REDUCED_SECRECY, cv->id);
    ev.queue = cv->queue;
    emit(c, &ev, NULL, 0);
}

void emit_state(struct parley__core *c, const struct conv *cv)
{
    emit_state_by(c, cv, NULL);
}

/* claimer: for a conversation taken by a colleague, that colleague's agent id. */
void emit_state_by(struct parley__core *c, const struct conv *cv, const char *claimer)
{
    parley_event ev;

    event_init(&ev, PARLEY_EV_CONVERSATION, cv->id);
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

void emit_message(struct parley__core *c, const struct conv *cv, const struct opened *o,
                  const uint8_t *text, size_t n)
{
    parley_event ev;

    event_init(&ev, PARLEY_EV_MESSAGE, cv->id);
    ev.seq = o->p->seq;
    ev.time_ms = o->p->time_ms;
    ev.sender_is_agent = o->is_agent;
    if (o->is_agent)
        ev.agent = o->cert;
    memcpy(ev.sender_sign_pk, o->p->sender_sign_key.data, 32);
    emit(c, &ev, text, n);
}

/* A sequence event about o's payload: GAP (from..seq-1), REPLAY (PARLEY_EREPLAY) or REORDER. */
void emit_seq(struct parley__core *c, const struct conv *cv, const struct opened *o,
              parley_event_kind kind, uint64_t gap_from)
{
    parley_event ev;

    event_init(&ev, kind, cv->id);
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

void emit_erased(struct parley__core *c, const struct conv *cv)
{
    parley_event ev;

    event_init(&ev, PARLEY_EV_ERASED, cv->id);
    ev.erasure = cv->erasure;
    emit(c, &ev, NULL, 0);
}
