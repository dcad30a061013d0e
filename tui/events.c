/*
 * parley-agent's model from the client: conversations and transcripts
 * reloaded from the local store when they change, and each event of the
 * client (host thread, from parley_client_dispatch) turned into states,
 * unread counts, delivery marks, typing, lines in the transcript and the
 * status bar; and the status bar's clock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "app.h"
#include "scanguard.h"

#define STATUS_MS 6000
#define TYPING_MS 15000

int64_t app_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void app_status(struct app *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a->status, sizeof(a->status), fmt, ap);
    va_end(ap);
    a->status_until = app_now() + STATUS_MS;
    a->redraw = 1;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void app_system_line(struct tui_conv *c, const char *text)
{
    struct tui_msg m;

    memset(&m, 0, sizeof(m));
    m.time_ms = wall_ms();
    m.system = 1;
    m.sender = "";
    m.text = (char *)text;
    (void)conv_add(c, &m);
}

/* ---- the model from the store ---- */

struct list_ctx {
    struct app *a;
    int all;      /* add every conversation (start-up), not only known ones */
};

/* The purposes of the customer's receipt, and those withdrawn since; returns the length written. */
static size_t purposes_summary(char *out, size_t cap, const parley_conversation_info *info)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < info->n_consent_purposes + info->n_consent_withdrawn && used < cap; i++) {
        int accepted = i < info->n_consent_purposes;
        const char *name = accepted ? info->consent_purposes[i]
                                    : info->consent_withdrawn[i - info->n_consent_purposes];
        const char *sep = i == 0 ? "consent: "
                          : i == info->n_consent_purposes ? "; withdrawn: "
                                                          : ", ";
        int n = snprintf(out + used, cap - used, "%s%s", sep, name);

        if (n < 0)
            break;
        used += (size_t)n;
    }
    return used < cap ? used : cap - 1;
}

/*
 * What the customer's receipt accepts, in the header: the purposes, and
 * those withdrawn since; a conversation without one says so. Then the
 * special categories the customer explicitly consented to send (art. 9).
 */
static void consent_summary(char *out, size_t cap, const parley_conversation_info *info)
{
    size_t used = 0;

    if (info->n_consent_purposes == 0)
        used = (size_t)snprintf(out, cap, "no consent receipt");
    else
        used = purposes_summary(out, cap, info);
    if (info->special_consent != 0 && used < cap) {
        char names[160];

        snprintf(out + used, cap - used, "; art. 9 consent: %s",
                 scanguard_names(info->special_consent, names, sizeof(names)));
    }
}

static int on_list(void *user, const parley_conversation_info *info)
{
    struct list_ctx *l = user;
    struct app *a = l->a;
    int i = convlist_find(&a->list, info->conversation_id), entered;
    struct tui_conv *c;

    if (i < 0 && !l->all)
        return 0;
    if (i < 0 || a->list.v[i].dirty) {
        i = convlist_update(&a->list, info->conversation_id, info->state, info->queue, &entered);
        if (i < 0)
            return 0;
        c = &a->list.v[i];
        memcpy(c->customer_pk, info->customer_sign_pk, 32);
        c->has_customer = !sodium_is_zero(info->customer_sign_pk, 32);
        if (info->has_agent)
            snprintf(c->agent_name, sizeof(c->agent_name), "%s", info->agent.display_name);
        consent_summary(c->consent, sizeof(c->consent), info);
        if (c->has_customer && a->locker != NULL) {
            char hex[65];
            sodium_bin2hex(hex, sizeof(hex), c->customer_pk, 32);
            c->verified = locker_get(a->locker, LOCKER_KIND_VERIFIED, hex) != NULL;
        }
    }
    return 0;
}

static int on_history(void *user, const parley_history_entry *e)
{
    struct tui_conv *c = user;
    struct tui_msg m;

    memset(&m, 0, sizeof(m));
    m.time_ms = e->time_ms;
    m.seq = e->seq;
    m.from_me = e->from_me;
    m.sender = (char *)e->sender_name;
    m.text = (char *)e->text;
    (void)conv_add(c, &m);
    if (!e->from_me && e->sender_name[0] == '\0' && e->seq > c->last_peer_seq)
        c->last_peer_seq = e->seq;
    return 0;
}

/* Reloads what changed: states and keys from the list, transcripts from the history. */
void app_refresh(struct app *a, int all)
{
    struct list_ctx l = {a, all};
    int any = all;

    for (size_t i = 0; i < a->list.n; i++)
        any |= a->list.v[i].dirty;
    if (!any)
        return;
    if (parley_conversation_list(a->client, on_list, &l) != PARLEY_OK)
        app_status(a, "cannot read the conversation list from the store");
    for (size_t i = 0; i < a->list.n; i++) {
        struct tui_conv *c = &a->list.v[i];
        if (!c->dirty)
            continue;
        c->dirty = 0;
        conv_clear_history(c);
        if (parley_conversation_history(a->client, c->id, on_history, c) != PARLEY_OK)
            app_system_line(c, "cannot read this conversation's history from the store");
    }
    a->redraw = 1;
}

/* The selected conversation is on screen: its messages are read. */
void app_mark_seen(struct app *a)
{
    struct tui_conv *c = convlist_selected(&a->list);

    if (c == NULL || a->panel)
        return;
    if (!a->viewed_set || memcmp(a->viewed, c->id, 16) != 0) {
        (void)accesslog_record(&a->access, "viewed", c->id, NULL); /* a failure: on stderr at exit */
        memcpy(a->viewed, c->id, 16);
        a->viewed_set = 1;
    }
    c->unread = 0;
    if (c->state == PARLEY_CONV_ACTIVE && c->last_peer_seq > c->read_sent_seq &&
        parley_conversation_mark_read(a->client, c->id, c->last_peer_seq) == PARLEY_OK)
        c->read_sent_seq = c->last_peer_seq;
}

/* ---- client events (host thread, from parley_client_dispatch) ---- */

static struct tui_conv *conv_for_event(struct app *a, const parley_event *ev)
{
    int i = convlist_find(&a->list, ev->conversation_id), entered;
    parley_conv_state st;

    if (i >= 0)
        return &a->list.v[i];
    if (parley_conversation_state(a->client, ev->conversation_id, &st) != PARLEY_OK)
        return NULL;
    i = convlist_update(&a->list, ev->conversation_id, st, NULL, &entered);
    if (i < 0)
        return NULL;
    if (entered)
        a->bell = 1;
    return &a->list.v[i];
}

/*
 * A marker, as the agent must know it before reading on: the customer
 * confirmed, explicitly and for these categories, that it sends such
 * data in this conversation. The header keeps it (consent_summary).
 */
static void on_special_consent(struct app *a, const parley_event *ev)
{
    struct tui_conv *c = conv_for_event(a, ev);
    char names[160];

    if (c == NULL)
        return;
    c->dirty = 1;
    app_status(a, "#%s: the customer explicitly consented (art. 9) to send: %s", c->label,
               scanguard_names(ev->special_categories, names, sizeof(names)));
}

static void on_conversation_event(struct app *a, const parley_event *ev)
{
    int i = convlist_find(&a->list, ev->conversation_id), entered;
    parley_conv_state before = i >= 0 ? a->list.v[i].state : PARLEY_CONV_CLOSED;
    struct tui_conv *c;
    char line[256];

    i = convlist_update(&a->list, ev->conversation_id, ev->state, ev->queue, &entered);
    if (i < 0)
        return;
    c = &a->list.v[i];
    c->dirty = 1;
    if (ev->sender_is_agent && ev->agent.display_name[0] != '\0')
        snprintf(c->agent_name, sizeof(c->agent_name), "%s", ev->agent.display_name);
    if (entered) {
        a->bell = 1;
        app_status(a, "new conversation #%s in queue %s", c->label,
                   c->queue[0] ? c->queue : "?");
    }
    if (before == ev->state && !entered)
        return;
    switch (ev->state) {
    case PARLEY_CONV_QUEUED:
        snprintf(line, sizeof(line), "waiting in queue %s: /claim to take it", c->queue);
        break;
    case PARLEY_CONV_ACTIVE:
        snprintf(line, sizeof(line), "you are talking with the customer");
        break;
    case PARLEY_CONV_TAKEN:
        snprintf(line, sizeof(line), "taken by %s", ev->agent.display_name[0] ? ev->agent.display_name : "a colleague");
        break;
    case PARLEY_CONV_TRANSFERRED:
        snprintf(line, sizeof(line), "transferred to %s", ev->agent.display_name[0] ? ev->agent.display_name : "a colleague");
        break;
    case PARLEY_CONV_CLOSED:
        snprintf(line, sizeof(line), "conversation closed");
        c->typing = 0;
        break;
    default:
        snprintf(line, sizeof(line), "%s", convlist_state_name(ev->state));
        break;
    }
    app_system_line(c, line);
}

/* Without a valid directory the client refuses new conversations: the agent must know why. */
static void app_directory_expiry(struct app *a, const parley_event *ev)
{
    uint64_t now = (uint64_t)time(NULL);
    uint64_t hours = ev->expires_at > now ? (ev->expires_at - now + 3599) / 3600 : 0;

    if (ev->error == PARLEY_EEXPIRED)
        app_status(a, "brand directory expired: new conversations are refused until the brand "
                      "publishes a new one");
    else
        app_status(a, "brand directory expires in %llu %s: the brand must publish a new one",
                   (unsigned long long)(hours > 48 ? hours / 24 : hours),
                   hours > 48 ? "days" : "hours");
}

/*
 * A customer's erasure request: besides what the library deletes, the
 * agent's own mark that it verified this customer (their key, in the
 * locker) goes, whether or not the brand keeps the history: it is the
 * agent's convenience, not a record the brand must keep.
 */
/* An erased customer: its verification mark goes, its conversations are read again. */
static int forget_customer(struct app *a, const uint8_t customer_pk[32])
{
    uint8_t pk[32];
    char hex[65];
    int rc = LOCKER_OK;

    memcpy(pk, customer_pk, 32); /* customer_pk may point into the list */
    sodium_bin2hex(hex, sizeof(hex), pk, 32);
    if (a->locker != NULL && locker_get(a->locker, LOCKER_KIND_VERIFIED, hex) != NULL)
        rc = locker_del(a->locker, LOCKER_KIND_VERIFIED, hex);
    for (size_t k = 0; k < a->list.n; k++)
        if (a->list.v[k].has_customer && sodium_memcmp(a->list.v[k].customer_pk, pk, 32) == 0) {
            a->list.v[k].verified = 0;
            a->list.v[k].dirty = 1;
        }
    return rc;
}

/*
 * A brand order carried out by the library (docs/agent.md): an erasure
 * forgets the customer here too; an export is written next to the agent,
 * 0600, never over another file. The status bar says which and how much.
 */
static void on_order(struct app *a, const parley_event *ev)
{
    char id[17], path[64];
    FILE *f;
    parley_err err;

    sodium_bin2hex(id, sizeof(id), ev->order_id, 8);
    if (ev->error != PARLEY_OK) {
        app_status(a, "brand order %s not carried out: %s", id, parley_strerror(ev->error));
        return;
    }
    if (ev->order_kind == PARLEY_ORDER_ERASE) {
        (void)forget_customer(a, ev->sender_sign_pk);
        app_status(a, "brand order %s: %s %u conversation(s), %llu message(s) of a customer", id,
                   ev->order_outcome == PARLEY_ORDER_KEPT ? "kept (legal hold)" : "erased",
                   ev->order_conversations, (unsigned long long)ev->order_messages);
        return;
    }
    snprintf(path, sizeof(path), "parley-order-%s.json", id);
    err = parley_export_file_open(path, 0, &f);
    if (err == PARLEY_OK && (fwrite(ev->text, 1, ev->text_len, f) != ev->text_len || fclose(f) != 0))
        err = PARLEY_EIO;
    if (err != PARLEY_OK)
        app_status(a, "brand order %s: export not written to %s: %s", id, path,
                   parley_strerror(err));
    else
        app_status(a, "brand order %s: %u conversation(s) of a customer exported to %s", id,
                   ev->order_conversations, path);
}

static void on_erased(struct app *a, const parley_event *ev)
{
    int i = convlist_find(&a->list, ev->conversation_id), rc = LOCKER_OK;
    const char *what = ev->erasure == 2 ? "history kept (brand policy)" : "history deleted";

    if (i >= 0 && a->list.v[i].has_customer)
        rc = forget_customer(a, a->list.v[i].customer_pk);
    if (rc != LOCKER_OK)
        app_status(a, "customer asked for erasure: %s; their verification mark could not be "
                      "removed: %s", what, locker_strerror(rc));
    else
        app_status(a, "customer asked for erasure: %s", what);
}

void app_on_event(void *user, const parley_event *ev)
{
    struct app *a = user;
    struct tui_conv *c;
    char line[160];

    a->redraw = 1;
    switch (ev->kind) {
    case PARLEY_EV_CONNECTED:
        a->conn = CONN_CONNECTED;
        app_status(a, "connected to %s", a->relay);
        break;
    case PARLEY_EV_DISCONNECTED:
        a->conn = CONN_RETRYING;
        a->conn_error = ev->error;
        a->reconnect_at = app_now() + (int64_t)ev->retry_ms;
        break;
    case PARLEY_EV_DIRECTORY:
        break;
    case PARLEY_EV_CONVERSATION:
        on_conversation_event(a, ev);
        break;
    case PARLEY_EV_MESSAGE:
        c = conv_for_event(a, ev);
        if (c == NULL)
            break;
        c->dirty = 1;
        if (!ev->sender_is_agent) {
            c->typing = 0;
            if (ev->seq > c->last_peer_seq)
                c->last_peer_seq = ev->seq;
        }
        if (c != convlist_selected(&a->list) || a->panel)
            c->unread++;
        break;
    case PARLEY_EV_SENT:
        if ((c = conv_for_event(a, ev)) != NULL && ev->seq > c->sent_seq)
            c->sent_seq = ev->seq;
        break;
    case PARLEY_EV_DELIVERED:
        if ((c = conv_for_event(a, ev)) != NULL && ev->seq > c->delivered_seq)
            c->delivered_seq = ev->seq;
        break;
    case PARLEY_EV_READ:
        if ((c = conv_for_event(a, ev)) != NULL) {
            if (ev->seq > c->read_seq)
                c->read_seq = ev->seq;
            if (ev->seq > c->delivered_seq)
                c->delivered_seq = ev->seq;
        }
        break;
    case PARLEY_EV_TYPING:
        if ((c = conv_for_event(a, ev)) != NULL) {
            c->typing = ev->active;
            c->typing_until = app_now() + TYPING_MS;
        }
        break;
    case PARLEY_EV_GAP:
        if ((c = conv_for_event(a, ev)) != NULL) {
            snprintf(line, sizeof(line), "messages %llu to %llu were lost on the way",
                     (unsigned long long)ev->gap_from, (unsigned long long)ev->gap_to);
            app_system_line(c, line);
        }
        break;
    case PARLEY_EV_REPLAY:
    case PARLEY_EV_REORDER:
        app_status(a, "dropped a %s message", ev->kind == PARLEY_EV_REPLAY ? "replayed" : "reordered");
        break;
    case PARLEY_EV_REJECTED:
        app_status(a, "rejected a message that failed verification: %s",
                   parley_strerror(ev->error));
        break;
    case PARLEY_EV_RELAY_ERROR:
        app_status(a, "relay refused: %s (code %d)", parley_strerror(ev->error), ev->relay_code);
        break;
    case PARLEY_EV_ERASED:
        on_erased(a, ev);
        break;
    case PARLEY_EV_ORDER:
        on_order(a, ev);
        break;
    case PARLEY_EV_CONSENT:
        /* The header shows the new receipt once the list is read again. */
        if ((c = conv_for_event(a, ev)) != NULL) {
            c->dirty = 1;
            app_status(a, "#%s: the customer changed their consent: see the purposes above",
                       c->label);
        }
        break;
    case PARLEY_EV_SPECIAL_CONSENT:
        on_special_consent(a, ev);
        break;
    case PARLEY_EV_DIRECTORY_EXPIRY:
        app_directory_expiry(a, ev);
        break;
    case PARLEY_EV_REDUCED_SECRECY:
        app_status(a, "reduced forward secrecy: a conversation went through a medium-term "
                      "prekey (no one-time prekey was left)");
        break;
    }
}

