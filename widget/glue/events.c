/*
 * What the session says to the page, as JSON (json.h): its events, the
 * brand's privacy notice, the conversations and their history. Names and
 * texts written by other parties go through json_text's display rules.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <parley/cert.h>
#include <parley/pin.h>
#include <parley/session.h>
#include <sodium.h>

#include "glue.h"
#include "json.h"

static const char *const kind_names[] = {
    [PARLEY_EV_CONNECTED] = "connected",
    [PARLEY_EV_DISCONNECTED] = "disconnected",
    [PARLEY_EV_DIRECTORY] = "directory",
    [PARLEY_EV_CONVERSATION] = "conversation",
    [PARLEY_EV_MESSAGE] = "message",
    [PARLEY_EV_SENT] = "sent",
    [PARLEY_EV_DELIVERED] = "delivered",
    [PARLEY_EV_READ] = "read",
    [PARLEY_EV_TYPING] = "typing",
    [PARLEY_EV_GAP] = "gap",
    [PARLEY_EV_REPLAY] = "replay",
    [PARLEY_EV_REORDER] = "reorder",
    [PARLEY_EV_REJECTED] = "rejected",
    [PARLEY_EV_RELAY_ERROR] = "relay-error",
    [PARLEY_EV_ERASED] = "erased",
    [PARLEY_EV_REDUCED_SECRECY] = "reduced-secrecy",
    [PARLEY_EV_DIRECTORY_EXPIRY] = "directory-expiry",
    [PARLEY_EV_CONSENT] = "consent",
};

static const char *state_name(parley_conv_state s)
{
    static const char *const names[] = {"waiting",     "queued", "active", "transferring",
                                        "transferred", "taken",  "closed"};

    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static void key_u64(struct json *j, const char *name, uint64_t v)
{
    json_key(j, name);
    json_u64(j, v);
}

static void key_str(struct json *j, const char *name, const char *s, bool others)
{
    json_key(j, name);
    json_text(j, s, strlen(s), others);
}

/* {"id","name","key"}: an agent as a certificate names it. */
static void agent_json(struct json *j, const char *name, const parley_cert_info *a)
{
    json_key(j, name);
    if (a->agent_id[0] == '\0') {
        JSON_LIT(j, "null");
        return;
    }
    JSON_LIT(j, "{");
    key_str(j, "id", a->agent_id, true);
    key_str(j, "name", a->display_name[0] != '\0' ? a->display_name : a->agent_id, true);
    json_key(j, "key");
    json_hex(j, a->sign_pk, 32);
    JSON_LIT(j, "}");
}

static void error_json(struct json *j, parley_err err)
{
    key_u64(j, "error", (uint64_t)err);
    key_str(j, "errorText", parley_strerror(err), false);
}

static void event_fields(struct json *j, const parley_event *ev)
{
    switch (ev->kind) {
    case PARLEY_EV_DISCONNECTED:
        error_json(j, ev->error);
        key_u64(j, "retryMs", ev->retry_ms);
        break;
    case PARLEY_EV_DIRECTORY:
        key_u64(j, "noticeVersion", ev->notice_version);
        break;
    case PARLEY_EV_CONVERSATION:
        key_str(j, "state", state_name(ev->state), false);
        key_str(j, "queue", ev->queue != NULL ? ev->queue : "", false);
        agent_json(j, "agent", &ev->agent);
        break;
    case PARLEY_EV_MESSAGE:
        json_key(j, "text");
        json_text(j, ev->text != NULL ? ev->text : "", ev->text != NULL ? ev->text_len : 0, true);
        key_u64(j, "seq", ev->seq);
        key_u64(j, "timeMs", ev->time_ms);
        agent_json(j, "agent", &ev->agent);
        json_key(j, "senderKey");
        json_hex(j, ev->sender_sign_pk, 32);
        break;
    case PARLEY_EV_SENT:
    case PARLEY_EV_DELIVERED:
    case PARLEY_EV_READ:
        key_u64(j, "seq", ev->seq);
        break;
    case PARLEY_EV_TYPING:
        json_key(j, "active");
        json_bool(j, ev->active != 0);
        break;
    case PARLEY_EV_GAP:
        key_u64(j, "gapFrom", ev->gap_from);
        key_u64(j, "gapTo", ev->gap_to);
        break;
    case PARLEY_EV_RELAY_ERROR:
        key_u64(j, "relayCode", (uint64_t)ev->relay_code);
        error_json(j, ev->error);
        break;
    case PARLEY_EV_ERASED:
        key_u64(j, "erased", ev->erased);
        break;
    case PARLEY_EV_DIRECTORY_EXPIRY:
        key_u64(j, "expiresAt", ev->expires_at);
        error_json(j, ev->error);
        break;
    case PARLEY_EV_REPLAY:
    case PARLEY_EV_REORDER:
    case PARLEY_EV_REJECTED:
        error_json(j, ev->error);
        break;
    default:
        break;
    }
}

/* The next event as {"kind", "conv", ...fields of its kind}, or NULL when none is left. */
const char *parley_widget_next_event(void)
{
    static const uint8_t no_conv[16];
    parley_session *s = widget_session();
    struct json *j = widget_json();
    parley_event ev;

    do {
        if (s == NULL || !parley_session_next_event(s, &ev))
            return NULL;
    } while ((unsigned)ev.kind >= sizeof(kind_names) / sizeof(kind_names[0]) ||
             kind_names[ev.kind] == NULL); /* a kind newer than this glue: nothing to show */
    json_reset(j);
    JSON_LIT(j, "{");
    key_str(j, "kind", kind_names[ev.kind], false);
    if (sodium_memcmp(ev.conversation_id, no_conv, 16) != 0) {
        json_key(j, "conv");
        json_hex(j, ev.conversation_id, 16);
    }
    event_fields(j, &ev);
    JSON_LIT(j, "}");
    return j->failed ? "{\"kind\":\"error\",\"error\":2}" : j->p;
}

/* {"brandId","version","text","purposes","expiresAt","queues":[...]} of a directory. */
static void notice_json(struct json *j, const char *brand_id, const parley_directory *d)
{
    JSON_LIT(j, "{");
    key_str(j, "brandId", brand_id, false);
    key_u64(j, "version", parley_directory_notice_version(d));
    key_u64(j, "directoryVersion", parley_directory_version(d));
    key_str(j, "text", parley_directory_notice_text(d), true);
    key_u64(j, "expiresAt", parley_directory_expires_at(d));
    json_key(j, "purposes");
    JSON_LIT(j, "[");
    for (size_t i = 0; i < parley_directory_purpose_count(d); i++) {
        const char *description = parley_directory_purpose_description(d, i);

        json_item(j);
        JSON_LIT(j, "{");
        key_str(j, "name", parley_directory_purpose(d, i), true);
        json_key(j, "required");
        json_bool(j, parley_directory_purpose_required(d, i) != 0);
        key_str(j, "description", description != NULL ? description : "", true);
        JSON_LIT(j, "}");
    }
    JSON_LIT(j, "]");
    json_key(j, "queues");
    JSON_LIT(j, "[");
    for (size_t q = 0; q < parley_directory_queue_count(d); q++) {
        json_item(j);
        json_text(j, parley_directory_queue_name(d, q), strlen(parley_directory_queue_name(d, q)),
                  true);
    }
    JSON_LIT(j, "]}");
}

/* The notice of the directory the session holds, or NULL (none yet, or expired). */
const char *parley_widget_notice(double now)
{
    parley_session *s = widget_session();
    struct json *j = widget_json();
    parley_directory *d = NULL;

    json_reset(j);
    if (s == NULL || parley_session_directory(s, widget_time(now), &d) != PARLEY_OK)
        return NULL;
    /* The brand id is the pin's, which the directory was verified against. */
    notice_json(j, widget_brand_id(), d);
    parley_directory_free(d);
    return j->failed ? NULL : j->p;
}

/*
 * The notice of a directory shipped with the page, verified against the
 * client pin (pin_len bytes) at time now, before any session exists; NULL
 * with the reason as parley_widget_text() ({"error":n}) when it does not
 * verify.
 */
const char *parley_widget_directory_notice(const uint8_t *dir, size_t len, const char *pin,
                                           size_t pin_len, double now)
{
    struct json *j = widget_json();
    parley_directory *d = NULL;
    parley_pin p;
    parley_err err;

    json_reset(j);
    err = pin != NULL ? parley_pin_parse(pin, pin_len, &p) : PARLEY_EINVAL;
    if (err == PARLEY_OK && !p.has_directory_key)
        err = PARLEY_EWRONGTYPE;
    if (err == PARLEY_OK)
        err = dir != NULL ? parley_directory_open(&d, dir, len, p.brand_pk, p.brand_id,
                                                  p.directory_key, 0, widget_time(now) / 1000u)
                          : PARLEY_EINVAL;
    if (err == PARLEY_OK)
        notice_json(j, p.brand_id, d);
    parley_directory_free(d);
    sodium_memzero(&p, sizeof(p));
    if (err == PARLEY_OK && !j->failed)
        return j->p;
    json_reset(j);
    JSON_LIT(j, "{");
    error_json(j, err != PARLEY_OK ? err : PARLEY_ENOMEM);
    JSON_LIT(j, "}");
    return NULL;
}

static int conversation_json(void *user, const parley_conversation_info *c)
{
    struct json *j = user;

    json_item(j);
    JSON_LIT(j, "{");
    json_key(j, "id");
    json_hex(j, c->conversation_id, 16);
    key_str(j, "state", state_name(c->state), false);
    key_str(j, "queue", c->queue != NULL ? c->queue : "", false);
    if (c->has_agent) {
        agent_json(j, "agent", &c->agent);
    } else {
        json_key(j, "agent");
        JSON_LIT(j, "null");
    }
    key_u64(j, "messages", c->messages);
    key_u64(j, "peerDelivered", c->peer_delivered_seq);
    key_u64(j, "peerRead", c->peer_read_seq);
    key_u64(j, "consentVersion", c->consent_notice_version);
    key_u64(j, "consentTimeMs", c->consent_time_ms);
    json_key(j, "reducedSecrecy");
    json_bool(j, c->reduced_secrecy != 0);
    JSON_LIT(j, "}");
    return j->failed;
}

/* [{id, state, queue, agent, messages, peerDelivered, peerRead, ...}], or NULL on failure. */
const char *parley_widget_conversations(void)
{
    parley_session *s = widget_session();
    struct json *j = widget_json();

    json_reset(j);
    JSON_LIT(j, "[");
    if (s != NULL && parley_session_conversation_list(s, conversation_json, j) != PARLEY_OK)
        return NULL;
    JSON_LIT(j, "]");
    return j->failed ? NULL : j->p;
}

static int history_json(void *user, const parley_history_entry *e)
{
    struct json *j = user;

    json_item(j);
    JSON_LIT(j, "{");
    key_u64(j, "seq", e->seq);
    key_u64(j, "timeMs", e->time_ms);
    json_key(j, "fromMe");
    json_bool(j, e->from_me != 0);
    key_str(j, "senderName", e->sender_name != NULL ? e->sender_name : "", true);
    json_key(j, "senderKey");
    json_hex(j, e->sender_sign_pk, 32);
    json_key(j, "text");
    json_text(j, e->text != NULL ? e->text : "", e->text != NULL ? e->text_len : 0, !e->from_me);
    JSON_LIT(j, "}");
    return j->failed;
}

/* [{seq, timeMs, fromMe, senderName, senderKey, text}] oldest first, or NULL (unknown id). */
const char *parley_widget_history(const char *conv)
{
    parley_session *s = widget_session();
    struct json *j = widget_json();
    uint8_t id[16];

    json_reset(j);
    if (s == NULL || !widget_conv_id(conv, id))
        return NULL;
    JSON_LIT(j, "[");
    if (parley_session_conversation_history(s, id, history_json, j) != PARLEY_OK)
        return NULL;
    JSON_LIT(j, "]");
    return j->failed ? NULL : j->p;
}
