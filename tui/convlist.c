/*
 * The conversation list model. The local store is the source of truth
 * for transcripts (the application reloads a conversation's history when
 * it changes); this module keeps what the store does not: sections,
 * selection, unread counts, typing, delivery marks and lines that
 * parley-agent adds itself.
 */
#include "convlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanguard.h"
#include "textwidth.h"

void convlist_init(struct convlist *cl)
{
    memset(cl, 0, sizeof(*cl));
    cl->sel = -1;
}

static void msg_free(struct tui_msg *m)
{
    free(m->sender);
    free(m->text);
}

void convlist_free(struct convlist *cl)
{
    for (size_t i = 0; i < cl->n; i++) {
        for (size_t j = 0; j < cl->v[i].n_msgs; j++)
            msg_free(&cl->v[i].msgs[j]);
        free(cl->v[i].msgs);
    }
    free(cl->v);
    convlist_init(cl);
}

enum conv_section convlist_section(parley_conv_state s)
{
    switch (s) {
    case PARLEY_CONV_QUEUED:
    case PARLEY_CONV_WAITING:
        return SECTION_QUEUED;
    case PARLEY_CONV_ACTIVE:
        return SECTION_MINE;
    case PARLEY_CONV_TRANSFERRING:
    case PARLEY_CONV_TRANSFERRED:
    case PARLEY_CONV_TAKEN:
        return SECTION_TRANSFERRED;
    case PARLEY_CONV_CLOSED:
    default:
        return SECTION_CLOSED;
    }
}

const char *convlist_section_name(enum conv_section s)
{
    static const char *const names[SECTION_COUNT] = {"QUEUED", "MINE", "TRANSFERRED", "CLOSED"};

    return (unsigned)s < SECTION_COUNT ? names[s] : "?";
}

const char *convlist_state_name(parley_conv_state s)
{
    switch (s) {
    case PARLEY_CONV_WAITING: return "waiting";
    case PARLEY_CONV_QUEUED: return "queued";
    case PARLEY_CONV_ACTIVE: return "mine";
    case PARLEY_CONV_TRANSFERRING: return "transferring";
    case PARLEY_CONV_TRANSFERRED: return "transferred";
    case PARLEY_CONV_TAKEN: return "taken by a colleague";
    case PARLEY_CONV_CLOSED: return "closed";
    }
    return "?";
}

int convlist_find(const struct convlist *cl, const uint8_t id[16])
{
    for (size_t i = 0; i < cl->n; i++)
        if (memcmp(cl->v[i].id, id, 16) == 0)
            return (int)i;
    return -1;
}

int convlist_update(struct convlist *cl, const uint8_t id[16], parley_conv_state state,
                    const char *queue, int *entered_queue)
{
    int i = convlist_find(cl, id);
    struct tui_conv *c;

    *entered_queue = 0;
    if (i < 0) {
        if (cl->n == cl->cap) {
            size_t cap = cl->cap ? cl->cap * 2 : 16;
            struct tui_conv *v = realloc(cl->v, cap * sizeof(*v));
            if (v == NULL)
                return -1;
            cl->v = v;
            cl->cap = cap;
        }
        c = &cl->v[cl->n];
        memset(c, 0, sizeof(*c));
        memcpy(c->id, id, 16);
        snprintf(c->label, sizeof(c->label), "%02x%02x%02x", id[0], id[1], id[2]);
        c->state = state;
        c->dirty = 1;
        *entered_queue = state == PARLEY_CONV_QUEUED;
        i = (int)cl->n++;
        if (cl->sel < 0)
            cl->sel = i;
    } else {
        c = &cl->v[i];
        if (state == PARLEY_CONV_QUEUED && c->state != PARLEY_CONV_QUEUED)
            *entered_queue = 1;
        c->state = state;
    }
    if (queue != NULL && queue[0] != '\0') {
        snprintf(c->queue, sizeof(c->queue), "%s", queue);
        tw_cut_utf8(c->queue, strlen(c->queue));
    }
    return i;
}

size_t convlist_order(const struct convlist *cl, int *order, size_t max)
{
    size_t k = 0;

    for (int s = 0; s < SECTION_COUNT; s++)
        for (size_t i = 0; i < cl->n && k < max; i++)
            if ((int)convlist_section(cl->v[i].state) == s)
                order[k++] = (int)i;
    return k;
}

void convlist_select(struct convlist *cl, int i)
{
    if (i < 0 || (size_t)i >= cl->n)
        return;
    cl->sel = i;
    cl->v[i].unread = 0;
}

void convlist_step(struct convlist *cl, int dir)
{
    int *order;
    size_t n, pos = 0;

    if (cl->n == 0)
        return;
    order = malloc(cl->n * sizeof(*order));
    if (order == NULL)
        return;
    n = convlist_order(cl, order, cl->n);
    for (size_t k = 0; k < n; k++)
        if (order[k] == cl->sel)
            pos = k;
    pos = dir > 0 ? (pos + 1) % n : (pos + n - 1) % n;
    convlist_select(cl, order[pos]);
    free(order);
}

struct tui_conv *convlist_selected(struct convlist *cl)
{
    return cl->sel >= 0 && (size_t)cl->sel < cl->n ? &cl->v[cl->sel] : NULL;
}

void conv_clear_history(struct tui_conv *c)
{
    size_t k = 0;

    for (size_t i = 0; i < c->n_msgs; i++) {
        if (c->msgs[i].system)
            c->msgs[k++] = c->msgs[i];
        else
            msg_free(&c->msgs[i]);
    }
    c->n_msgs = k;
}

/* The special categories (GDPR art. 9) the guard finds in a received text; 0 if it cannot scan. */
static unsigned special_categories(const char *text)
{
    struct scanguard_result r;
    parley_scan_policy p;
    unsigned found;

    memset(&p, 0, sizeof(p));
    for (unsigned cat = PARLEY_SCAN_HEALTH; cat <= PARLEY_SCAN_BIOMETRIC; cat++)
        p.action[cat] = PARLEY_SCAN_WARN;
    if (scanguard_check(&p, text, &r) != PARLEY_OK)
        return 0;
    found = r.warn;
    scanguard_result_wipe(&r);
    return found;
}

int conv_add(struct tui_conv *c, const struct tui_msg *m)
{
    struct tui_msg copy = *m;
    size_t pos;

    copy.sender = strdup(m->sender != NULL ? m->sender : "");
    copy.text = strdup(m->text != NULL ? m->text : "");
    if (copy.sender == NULL || copy.text == NULL) {
        msg_free(&copy);
        return -1;
    }
    copy.special = m->system || m->from_me ? 0 : special_categories(copy.text);
    if (c->n_msgs == CONVLIST_MAX_MESSAGES) {
        msg_free(&c->msgs[0]);
        memmove(c->msgs, c->msgs + 1, (c->n_msgs - 1) * sizeof(c->msgs[0]));
        c->n_msgs--;
    }
    if (c->n_msgs == c->cap_msgs) {
        size_t cap = c->cap_msgs ? c->cap_msgs * 2 : 32;
        struct tui_msg *v;
        if (cap > CONVLIST_MAX_MESSAGES)
            cap = CONVLIST_MAX_MESSAGES;
        v = realloc(c->msgs, cap * sizeof(*v));
        if (v == NULL) {
            msg_free(&copy);
            return -1;
        }
        c->msgs = v;
        c->cap_msgs = cap;
    }
    /* Stable by time: after every line not later than this one. */
    pos = c->n_msgs;
    while (pos > 0 && c->msgs[pos - 1].time_ms > copy.time_ms)
        pos--;
    memmove(c->msgs + pos + 1, c->msgs + pos, (c->n_msgs - pos) * sizeof(c->msgs[0]));
    c->msgs[pos] = copy;
    c->n_msgs++;
    return 0;
}

enum msg_mark conv_mark(const struct tui_conv *c, const struct tui_msg *m)
{
    if (!m->from_me || m->system || m->seq == 0)
        return MARK_NONE;
    if (m->seq <= c->read_seq)
        return MARK_READ;
    if (m->seq <= c->delivered_seq)
        return MARK_DELIVERED;
    if (c->session_first_seq != 0 && m->seq >= c->session_first_seq && m->seq > c->sent_seq)
        return MARK_PENDING;
    return MARK_NONE;
}

unsigned convlist_unread(const struct convlist *cl)
{
    unsigned n = 0;

    for (size_t i = 0; i < cl->n; i++)
        n += cl->v[i].unread;
    return n;
}
