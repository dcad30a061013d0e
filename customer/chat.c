/*
 * The customer's view of a conversation. Every event from the library
 * becomes one line: messages as "[HH:MM] Name: text", status lines with
 * "* ", and anything that may mean a relay tampered with the traffic
 * (a rejected envelope, a gap, a replay, a reordering, an agent whose key
 * changed since an earlier conversation) as a "!!" line on both the
 * transcript and stderr, so it cannot scroll by unnoticed. Everything
 * printed goes through put_text(), so what an agent, the brand or a relay
 * wrote can neither drive the terminal nor reorder a line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat.h"

/*
 * The agent keys seen before, as the client's records (sealed in its
 * store, erased with it): brand id "/" agent id -> signing key. Earlier
 * versions kept them in this table of the store in clear;
 * chat_move_known_agents() moves them.
 */
#define OLD_KNOWN_AGENTS_TABLE "customer_agents"
#define MAX_KEPT_TEXTS     100000u

void chat_init(struct chat *c, FILE *out, const char *brand_id)
{
    memset(c, 0, sizeof(*c));
    c->out = out;
    c->err = stderr;
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
 * Writes text that may come from someone else so that it cannot drive the
 * terminal nor mislead: control characters (C0, DEL, C1) and bytes that
 * are not UTF-8 become '?', the invisible formatting characters of
 * parley_text_invisible() (bidirectional overrides, isolates and marks)
 * are dropped, as parley-agent drops them, and a line break continues
 * the text after indent.
 */
static void put_text(FILE *f, const char *s, const char *indent)
{
    size_t n = strlen(s), i = 0;

    while (i < n) {
        uint32_t cp;
        size_t len = parley_utf8_next(s + i, n - i, &cp);

        if (cp == '\n') {
            fputc('\n', f);
            fputs(indent, f);
        } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
                   (cp == 0xFFFD && len == 1)) {
            fputc('?', f);
        } else if (!parley_text_invisible(cp)) {
            fwrite(s + i, 1, len, f);
        }
        i += len;
    }
}

/* prefix, then the formatted text through put_text(), then a newline if asked. */
static void vline(FILE *f, const char *prefix, bool newline, const char *fmt, va_list ap)
{
    char *text = NULL;

    fputs(prefix, f);
    if (vasprintf(&text, fmt, ap) >= 0) {
        put_text(f, text, "    ");
        free(text);
    }
    if (newline)
        fputc('\n', f);
    fflush(f);
}

void chat_status(struct chat *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vline(c->out, "* ", true, fmt, ap);
    va_end(ap);
}

void chat_warn(struct chat *c, const char *fmt, ...)
{
    va_list ap;

    c->warnings++;
    va_start(ap, fmt);
    vline(c->out, "!! WARNING: ", true, fmt, ap);
    va_end(ap);
    if (c->out != c->err) {
        va_start(ap, fmt);
        vline(c->err, "!! WARNING: ", true, fmt, ap);
        va_end(ap);
    }
}

void chat_guard(struct chat *c, bool newline, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vline(c->out, "!! ", newline, fmt, ap);
    va_end(ap);
}

void chat_notice(struct chat *c, uint32_t version, const char *text, const char *const *purposes,
                 size_t n_purposes)
{
    size_t len = strlen(text);

    fprintf(c->out, "== Privacy notice of ");
    put_text(c->out, c->brand_id, "");
    fprintf(c->out, ", version %u (verified against the pinned brand key)\n", version);
    put_text(c->out, text, "");
    if (len > 0 && text[len - 1] != '\n')
        fputc('\n', c->out);
    if (n_purposes > 0) {
        fputs("== Purposes:", c->out);
        for (size_t i = 0; i < n_purposes; i++) {
            fputc(' ', c->out);
            put_text(c->out, purposes[i], "");
        }
        fputc('\n', c->out);
    }
    fflush(c->out);
}

void chat_print_draft(struct chat *c, const char *text)
{
    fputs("    ", c->out);
    put_text(c->out, text, "    ");
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
    put_text(c->out, text, "    ");
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
 * public values are kept, as the client's sealed records: the agent id
 * and its public signing key.
 */
static void check_agent_key(struct chat *c, const parley_cert_info *agent)
{
    char key[2 * (PARLEY_MAX_ID + 1)];
    uint8_t *known = NULL;
    size_t known_len = 0, key_len;
    parley_err err;
    int n;

    if (c->client == NULL)
        return;
    n = snprintf(key, sizeof(key), "%s/%s", c->brand_id, agent->agent_id);
    if (n <= 0 || (size_t)n >= sizeof(key))
        return;
    key_len = (size_t)n;
    err = parley_client_record_get(c->client, (const uint8_t *)key, key_len, &known, &known_len);
    if (err == PARLEY_OK && known != NULL && known_len == 32 &&
        memcmp(known, agent->sign_pk, 32) == 0) {
        parley_free(known, known_len);
        return;
    }
    if (err == PARLEY_OK && known != NULL) {
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
    parley_free(known, known_len);
    if (err != PARLEY_OK || parley_client_record_put(c->client, (const uint8_t *)key, key_len,
                                                     agent->sign_pk, 32) != PARLEY_OK)
        chat_warn(c, "could not record the key of agent '%s' in the store", agent->agent_id);
}

struct old_row {
    uint8_t key[256];
    size_t key_len;
    uint8_t val[32];
    size_t val_len;
};

struct old_rows {
    struct old_row *v;
    size_t n, cap;
    bool failed;
};

static int collect_old_row(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                           size_t val_len)
{
    struct old_rows *r = arg;

    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct old_row *grown = realloc(r->v, cap * sizeof(*grown));

        if (grown == NULL) {
            r->failed = true;
            return 1;
        }
        r->v = grown;
        r->cap = cap;
    }
    /* Keys and values that earlier versions could not have written are dropped, not moved. */
    r->v[r->n].key_len = key_len <= sizeof(r->v[0].key) ? key_len : 0;
    memcpy(r->v[r->n].key, key, r->v[r->n].key_len);
    r->v[r->n].val_len = val_len == 32 ? 32 : 0;
    memcpy(r->v[r->n].val, val, r->v[r->n].val_len);
    r->n++;
    return 0;
}

int chat_move_known_agents(struct chat *c, const parley_store *store)
{
    struct old_rows r = {NULL, 0, 0, false};
    int rc = 0;

    if (store->ops->scan(store->ctx, OLD_KNOWN_AGENTS_TABLE, NULL, 0, collect_old_row, &r) != 0 ||
        r.failed) {
        free(r.v);
        return -1;
    }
    for (size_t i = 0; i < r.n && rc == 0; i++) {
        const struct old_row *o = &r.v[i];

        if (o->key_len > 0 && o->val_len == 32 &&
            parley_client_record_put(c->client, o->key, o->key_len, o->val, 32) != PARLEY_OK)
            rc = -1;
        else if (store->ops->del(store->ctx, OLD_KNOWN_AGENTS_TABLE, o->key, o->key_len) != 0)
            rc = -1;
    }
    free(r.v);
    return rc;
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
    fprintf(c->out, "%s[%s] ", pre, when);
    put_text(c->out, ev->sender_is_agent ? ev->agent.display_name : "(not an agent)", "    ");
    fputs(": ", c->out);
    put_text(c->out, ev->text != NULL ? ev->text : "", "    ");
    fputc('\n', c->out);
    fflush(c->out);
    if (ev->sender_is_agent)
        check_agent_key(c, &ev->agent);
    if (!is_current(c, ev))
        return;
    c->typing = false;
    keep_text(c, ev->text != NULL ? ev->text : "");
    /* Printed is read: tell the agent. */
    if (c->client != NULL &&
        parley_conversation_mark_read(c->client, ev->conversation_id, ev->seq) != PARLEY_OK)
        chat_status(c, "could not send a read receipt");
}

/* The brand's directory expires soon, or has: no new conversation can start without one. */
static void on_directory_expiry(struct chat *c, const parley_event *ev)
{
    time_t t = (time_t)ev->expires_at;
    struct tm tm;
    char when[32];

    if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(when, sizeof(when), "%llu", (unsigned long long)ev->expires_at);
    if (ev->error == PARLEY_EEXPIRED)
        chat_warn(c,
                  "the brand's directory expired on %s: no new conversation until the brand "
                  "publishes a new one",
                  when);
    else
        chat_warn(c, "the brand's directory expires on %s", when);
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
        fprintf(c->err, "%s: relay error: %s (relay code %d)\n", program_invocation_short_name,
                parley_strerror(ev->error), ev->relay_code);
        break;
    case PARLEY_EV_ERASED:
        c->erased = true;
        chat_status(c, "the relay erased what it held for you (%u envelopes)", ev->erased);
        break;
    case PARLEY_EV_DIRECTORY_EXPIRY:
        on_directory_expiry(c, ev);
        break;
    case PARLEY_EV_CONSENT:
    case PARLEY_EV_ORDER:
    case PARLEY_EV_SPECIAL_CONSENT:
        break; /* agents' only */
    case PARLEY_EV_REDUCED_SECRECY:
        chat_warn(c,
                  "%syour first message went to the agent's medium-term key (it had no one-time "
                  "key left): it stays readable with that key for up to three weeks",
                  pre);
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
