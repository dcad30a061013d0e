/*
 * The customer's view of a conversation. Every event from the library
 * becomes one line: messages as "[HH:MM] Name: text", status lines with
 * "* ", and anything that may mean a relay tampered with the traffic
 * (a rejected envelope, a gap, a replay, a reordering, an agent whose key
 * changed since an earlier conversation) as a "!!" line on both the
 * transcript and stderr, so it cannot scroll by unnoticed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat.h"

/* Table in the customer's store: brand id "/" agent id -> signing key last seen. */
#define KNOWN_AGENTS_TABLE "customer_agents"
#define MAX_KEPT_TEXTS     100000u

void chat_init(struct chat *c, FILE *out, const parley_store *store, const char *brand_id)
{
    memset(c, 0, sizeof(*c));
    c->out = out;
    c->store = store;
    c->brand_id = brand_id;
}

void chat_free(struct chat *c)
{
    for (size_t i = 0; i < c->n_texts; i++)
        free(c->texts[i]);
    free(c->texts);
    c->texts = NULL;
    c->n_texts = c->cap_texts = c->text_cursor = 0;
}

/*
 * Writes peer-controlled text so that it cannot drive the terminal:
 * control characters (C0, DEL, and C1 as UTF-8) become '?', and line
 * breaks continue indented under the message.
 */
static void put_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '\n')
            fputs("\n    ", f);
        else if (*p < 0x20 || *p == 0x7f)
            fputc('?', f);
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            fputc('?', f);
            p++;
        } else
            fputc(*p, f);
    }
}

static void vline(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
    fputs(prefix, f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
}

void chat_status(struct chat *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vline(c->out, "* ", fmt, ap);
    va_end(ap);
}

void chat_warn(struct chat *c, const char *fmt, ...)
{
    va_list ap;

    c->warnings++;
    va_start(ap, fmt);
    vline(c->out, "!! WARNING: ", fmt, ap);
    va_end(ap);
    if (c->out != stderr) {
        va_start(ap, fmt);
        vline(stderr, "!! WARNING: ", fmt, ap);
        va_end(ap);
    }
}

void chat_guard(struct chat *c, bool newline, const char *fmt, ...)
{
    va_list ap;

    fputs("!! ", c->out);
    va_start(ap, fmt);
    vfprintf(c->out, fmt, ap);
    va_end(ap);
    if (newline)
        fputc('\n', c->out);
    fflush(c->out);
}

void chat_print_draft(struct chat *c, const char *text)
{
    fputs("    ", c->out);
    put_text(c->out, text);
    fputc('\n', c->out);
    fflush(c->out);
}

static void hhmm(uint64_t time_ms, char out[8])
{
    time_t t = (time_t)(time_ms / 1000u);
    struct tm tm;

    if (localtime_r(&t, &tm) == NULL || strftime(out, 8, "%H:%M", &tm) == 0)
        snprintf(out, 8, "--:--");
}

void chat_print_own(struct chat *c, const char *text, uint64_t seq)
{
    char when[8];

    hhmm((uint64_t)time(NULL) * 1000u, when);
    fprintf(c->out, "[%s] You (#%llu): ", when, (unsigned long long)seq);
    put_text(c->out, text);
    fputc('\n', c->out);
    fflush(c->out);
}

void chat_opened(struct chat *c, const uint8_t conv[16])
{
    memcpy(c->conv, conv, 16);
    c->have_conv = true;
    c->state = PARLEY_CONV_WAITING;
    c->agent_present = false;
    c->closed = false;
    c->agent_name[0] = '\0';
    c->delivered = c->read = 0;
    c->typing = false;
    chat_free(c);
}

/*
 * Trust on first use across conversations: the brand certifies every
 * agent key (the library checks that), and on top of it a customer is
 * told when the agent they talked to before comes back with another key,
 * which is what a stolen or mis-issued certificate would look like. Only
 * public values are kept: the agent id and its public signing key.
 */
static void check_agent_key(struct chat *c, const parley_cert_info *agent)
{
    char key[2 * (PARLEY_MAX_ID + 1)];
    uint8_t *known = NULL;
    size_t known_len = 0, key_len;
    int n, rc;

    n = snprintf(key, sizeof(key), "%s/%s", c->brand_id, agent->agent_id);
    if (n <= 0 || (size_t)n >= sizeof(key))
        return;
    key_len = (size_t)n;
    rc = c->store->ops->get(c->store->ctx, KNOWN_AGENTS_TABLE, (const uint8_t *)key, key_len,
                            &known, &known_len);
    if (rc == 1 && known_len == 32 && memcmp(known, agent->sign_pk, 32) == 0) {
        free(known);
        return;
    }
    if (rc == 1) {
        char was[PARLEY_FINGERPRINT_LEN], now[PARLEY_FINGERPRINT_LEN];

        if (known_len == 32)
            parley_fingerprint(known, was);
        else
            snprintf(was, sizeof(was), "(unreadable)");
        parley_fingerprint(agent->sign_pk, now);
        chat_warn(c,
                  "the key of agent '%s' (%s) CHANGED since an earlier conversation: "
                  "fingerprint was %s, is now %s. Check it with the brand before "
                  "sharing anything.",
                  agent->agent_id, agent->display_name, was, now);
    }
    free(known);
    if (rc < 0 || c->store->ops->put(c->store->ctx, KNOWN_AGENTS_TABLE, (const uint8_t *)key,
                                     key_len, agent->sign_pk, 32) != 0)
        chat_warn(c, "could not record the key of agent '%s' in the store", agent->agent_id);
}

static int is_current(const struct chat *c, const parley_event *ev)
{
    return c->have_conv && memcmp(c->conv, ev->conversation_id, 16) == 0;
}

/* Prefix for lines about a conversation from an earlier run, kept in the store. */
static void other_prefix(const struct chat *c, const parley_event *ev, char *out, size_t cap)
{
    char hex[9];

    if (is_current(c, ev)) {
        out[0] = '\0';
        return;
    }
    for (int i = 0; i < 4; i++)
        snprintf(hex + 2 * i, 3, "%02x", ev->conversation_id[i]);
    snprintf(out, cap, "(earlier conversation %s) ", hex);
}

static void on_state(struct chat *c, const parley_event *ev)
{
    char fp[PARLEY_FINGERPRINT_LEN], pre[48];
    int current = is_current(c, ev);
    parley_conv_state before = current ? c->state : PARLEY_CONV_WAITING;

    other_prefix(c, ev, pre, sizeof(pre));
    if (ev->sender_is_agent)
        parley_fingerprint(ev->agent.sign_pk, fp);
    switch (ev->state) {
    case PARLEY_CONV_WAITING:
        chat_status(c, "%swaiting for an agent (queue %s)", pre,
                    ev->queue != NULL ? ev->queue : "?");
        break;
    case PARLEY_CONV_ACTIVE:
        if (!ev->sender_is_agent)
            break;
        if (before == PARLEY_CONV_TRANSFERRING)
            chat_status(c, "%stransferred to %s (agent %s, fingerprint %s)", pre,
                        ev->agent.display_name, ev->agent.agent_id, fp);
        else
            chat_status(c, "%s%s joined (agent %s, fingerprint %s)", pre, ev->agent.display_name,
                        ev->agent.agent_id, fp);
        check_agent_key(c, &ev->agent);
        if (current) {
            snprintf(c->agent_name, sizeof(c->agent_name), "%s", ev->agent.display_name);
            c->agent_present = true;
        }
        break;
    case PARLEY_CONV_TRANSFERRING:
        chat_status(c, "%s%s is transferring you to %s (agent %s, fingerprint %s)", pre,
                    current && c->agent_name[0] != '\0' ? c->agent_name : "the agent",
                    ev->agent.display_name, ev->agent.agent_id, fp);
        if (current)
            c->agent_present = false;
        break;
    case PARLEY_CONV_CLOSED:
        chat_status(c, "%sconversation closed", pre);
        if (current) {
            c->closed = true;
            c->agent_present = false;
        }
        break;
    default:
        chat_status(c, "%sconversation state %d", pre, (int)ev->state);
        break;
    }
    if (current)
        c->state = ev->state;
}

static void keep_text(struct chat *c, const char *text)
{
    char *copy;

    if (c->n_texts == MAX_KEPT_TEXTS)
        return;
    if (c->n_texts == c->cap_texts) {
        size_t cap = c->cap_texts != 0 ? c->cap_texts * 2 : 16;
        char **grown = realloc(c->texts, cap * sizeof(*grown));

        if (grown == NULL)
            return;
        c->texts = grown;
        c->cap_texts = cap;
    }
    copy = strdup(text);
    if (copy != NULL)
        c->texts[c->n_texts++] = copy;
}

static void on_message(struct chat *c, const parley_event *ev)
{
    char when[8], pre[48];

    other_prefix(c, ev, pre, sizeof(pre));
    hhmm(ev->time_ms, when);
    fprintf(c->out, "%s[%s] %s: ", pre, when,
            ev->sender_is_agent ? ev->agent.display_name : "(not an agent)");
    put_text(c->out, ev->text != NULL ? ev->text : "");
    fputc('\n', c->out);
    fflush(c->out);
    if (ev->sender_is_agent)
        check_agent_key(c, &ev->agent);
    if (!is_current(c, ev))
        return;
    c->typing = false;
    keep_text(c, ev->text != NULL ? ev->text : "");
    /* Printed is read: tell the agent. */
    if (c->client != NULL && parley_mark_read(c->client, ev->conversation_id, ev->seq) != PARLEY_OK)
        chat_status(c, "could not send a read receipt");
}

void chat_on_event(void *user, const parley_event *ev)
{
    struct chat *c = user;
    char pre[48];

    other_prefix(c, ev, pre, sizeof(pre));
    switch (ev->kind) {
    case PARLEY_EV_CONNECTED:
        c->connected = true;
        chat_status(c, "connected to the relay");
        break;
    case PARLEY_EV_DISCONNECTED:
        c->connected = false;
        chat_status(c, "disconnected from the relay (%s); retrying in %llu ms",
                    parley_strerror(ev->error), (unsigned long long)ev->retry_ms);
        break;
    case PARLEY_EV_DIRECTORY:
        if (c->directory && ev->notice_version != c->notice_version)
            chat_status(c, "the brand published a new privacy notice (version %u)",
                        ev->notice_version);
        c->directory = true;
        c->notice_version = ev->notice_version;
        break;
    case PARLEY_EV_CONVERSATION:
        on_state(c, ev);
        break;
    case PARLEY_EV_MESSAGE:
        on_message(c, ev);
        break;
    case PARLEY_EV_SENT:
        break;
    case PARLEY_EV_DELIVERED:
        if (is_current(c, ev) && ev->seq <= c->delivered)
            break;
        if (is_current(c, ev))
            c->delivered = ev->seq;
        chat_status(c, "%s\xe2\x9c\x93 delivered up to #%llu", pre, (unsigned long long)ev->seq);
        break;
    case PARLEY_EV_READ:
        if (is_current(c, ev) && ev->seq <= c->read)
            break;
        if (is_current(c, ev))
            c->read = ev->seq;
        chat_status(c, "%s\xe2\x9c\x93\xe2\x9c\x93 read up to #%llu", pre,
                    (unsigned long long)ev->seq);
        break;
    case PARLEY_EV_TYPING:
        if (!is_current(c, ev) || (ev->active != 0) == c->typing)
            break;
        c->typing = ev->active != 0;
        if (c->typing)
            chat_status(c, "%s is typing...",
                        c->agent_name[0] != '\0' ? c->agent_name : "the agent");
        break;
    case PARLEY_EV_GAP:
        chat_warn(c,
                  "%smessages #%llu..#%llu of this conversation never arrived: lost, "
                  "or withheld by the relay",
                  pre, (unsigned long long)ev->gap_from, (unsigned long long)ev->gap_to);
        break;
    case PARLEY_EV_REPLAY:
        chat_warn(c, "%smessage #%llu arrived a second time (replayed) and was dropped", pre,
                  (unsigned long long)ev->seq);
        break;
    case PARLEY_EV_REORDER:
        chat_warn(c,
                  "%sthe older message #%llu arrived after a newer one (reordered) and was "
                  "dropped",
                  pre, (unsigned long long)ev->seq);
        break;
    case PARLEY_EV_REJECTED:
        chat_warn(c, "%sa message failed verification and was NOT shown: %s", pre,
                  parley_strerror(ev->error));
        break;
    case PARLEY_EV_RELAY_ERROR:
        chat_status(c, "the relay refused a request: %s (relay code %d)",
                    parley_strerror(ev->error), ev->relay_code);
        fprintf(stderr, "%s: relay error: %s (relay code %d)\n", program_invocation_short_name,
                parley_strerror(ev->error), ev->relay_code);
        break;
    case PARLEY_EV_ERASED:
        c->erased = true;
        chat_status(c, "the relay erased what it held for you (%u envelopes)", ev->erased);
        break;
    }
}

int chat_take_text(struct chat *c, const char *needle)
{
    for (size_t i = c->text_cursor; i < c->n_texts; i++) {
        if (strstr(c->texts[i], needle) != NULL) {
            c->text_cursor = i + 1;
            return 1;
        }
    }
    return 0;
}
