/*
 * The client's WebSocket transport on libwebsockets 4.1: one lws_context
 * per transport, serviced by the caller, carrying whole binary messages of
 * the parley.v2 subprotocol. It reassembles fragmented messages, queues
 * outgoing ones until the socket takes them (one per writeable callback)
 * and reports the connection coming up and going down. It holds no
 * protocol state: what was queued but not written when the connection
 * drops is discarded, because the caller resends from its outbox after
 * its own backoff and reconnect.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "internal.h"
#include "transport.h"

#define TRANSPORT_SUBPROTOCOL "parley.v2"
#define TRANSPORT_MAX_MESSAGE (1024u * 1024u) /* one received message */
#define TRANSPORT_MAX_QUEUED (1024u * 1024u)  /* all frames waiting to be written */
#define TRANSPORT_RX_CHUNK 16384u
#define TRANSPORT_TIMEOUT_SECS 10u /* connect, TLS and upgrade, each */
#define TRANSPORT_MAX_URL 2048u

enum transport_state {
    T_IDLE,       /* no connection */
    T_CONNECTING, /* connect issued, not yet established */
    T_OPEN,       /* established: frames flow */
    T_CLOSING     /* close requested or started; on_state(0) still to come */
};

struct tx_frame {
    struct tx_frame *next;
    size_t len;
    uint8_t buf[]; /* LWS_PRE headroom, then len bytes */
};

struct parley__transport {
    struct lws_context *ctx;
    struct lws *wsi;
    lws_sorted_usec_list_t wait_sul; /* bounds one service call */

    char *url;           /* the parsed copy: address points into it */
    const char *address;
    char *path;          /* "/..." */
    int port;
    bool tls;
    bool tls_insecure;   /* PARLEY_TLS_INSECURE=1 when the transport was made */

    parley__transport_frame_fn on_frame;
    parley__transport_state_fn on_state;
    void *arg;

    enum transport_state state;
    int close_code;     /* from the peer's close frame, or the code we sent */
    bool close_wanted;  /* disconnect() asked for a normal closure */
    bool in_connect;    /* inside lws_client_connect_via_info */
    bool down_pending;  /* a failure during connect, reported at the next service */
    bool freeing;       /* lws_context_destroy: no more callbacks to the caller */

    struct tx_frame *tx_head, *tx_tail;
    size_t tx_bytes;

    uint8_t *rx;
    size_t rx_len, rx_cap;
};

static void tx_drop(struct parley__transport *t)
{
    struct tx_frame *f = t->tx_head;

    while (f != NULL) {
        struct tx_frame *next = f->next;
        free(f);
        f = next;
    }
    t->tx_head = t->tx_tail = NULL;
    t->tx_bytes = 0;
}

static void rx_drop(struct parley__transport *t)
{
    free(t->rx);
    t->rx = NULL;
    t->rx_len = t->rx_cap = 0;
}

/*
 * The connection is gone, whichever way: forget its state and tell the
 * caller once. A failure inside connect() is held back so that on_state
 * only ever runs from service.
 */
static void went_down(struct parley__transport *t)
{
    int code = t->close_code;

    if (t->state == T_IDLE)
        return;
    t->state = T_IDLE;
    t->wsi = NULL;
    t->close_wanted = false;
    tx_drop(t);
    rx_drop(t);
    if (t->freeing)
        return;
    if (t->in_connect) {
        t->down_pending = true;
        return;
    }
    t->on_state(t->arg, 0, code);
}

/* Appends a received chunk; false if the message would pass the cap. */
static bool rx_append(struct parley__transport *t, const uint8_t *in, size_t len)
{
    uint8_t *grown;

    if (len > TRANSPORT_MAX_MESSAGE - t->rx_len)
        return false;
    /* Powers of two from 16: never past TRANSPORT_MAX_MESSAGE, itself one. */
    grown = parley__grow(t->rx, &t->rx_cap, t->rx_len + len, 1);
    if (grown == NULL)
        return false;
    t->rx = grown;
    if (len > 0)
        memcpy(t->rx + t->rx_len, in, len);
    t->rx_len += len;
    return true;
}

/* Returns -1 to have lws close the connection, with the code set by lws_close_reason. */
static int on_receive(struct parley__transport *t, struct lws *wsi, const uint8_t *in,
                      size_t len)
{
    if (!lws_frame_is_binary(wsi)) {
        t->close_code = LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE;
        lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, NULL, 0);
        return -1;
    }
    if (lws_is_first_fragment(wsi))
        t->rx_len = 0;
    if (!rx_append(t, in, len)) {
        t->close_code = LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE;
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        return -1;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0)
        return 0;
    t->on_frame(t->arg, t->rx != NULL ? t->rx : (const uint8_t *)"", t->rx_len);
    t->rx_len = 0;
    if (t->rx_cap > TRANSPORT_RX_CHUNK)
        rx_drop(t); /* a large message does not pin its buffer */
    /* on_frame may have called disconnect() or found the connection replaced. */
    return 0;
}

static int on_writeable(struct parley__transport *t, struct lws *wsi)
{
    struct tx_frame *f;
    int n;

    if (t->close_wanted) {
        t->close_code = LWS_CLOSE_STATUS_NORMAL;
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        return -1;
    }
    f = t->tx_head;
    if (f == NULL)
        return 0; /* an extra writeable: nothing to do */
    t->tx_head = f->next;
    if (t->tx_head == NULL)
        t->tx_tail = NULL;
    t->tx_bytes -= f->len;
    n = lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_BINARY);
    free(f);
    if (n < 0)
        return -1;
    if (t->tx_head != NULL)
        lws_callback_on_writable(wsi);
    return 0;
}

static int transport_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                              void *in, size_t len)
{
    struct parley__transport *t = lws_context_user(lws_get_context(wsi));

    if (t == NULL)
        return 0;
    /* Callbacks of a connection we have already let go of are not ours to report. */
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        /* Not the connection we are waiting for, or one disconnect() abandoned. */
        if (wsi != t->wsi || t->state != T_CONNECTING)
            return -1;
        t->state = T_OPEN;
        t->close_code = 0;
        if (!t->freeing)
            t->on_state(t->arg, 1, 0);
        /* disconnect() called from on_state, or frames queued there, need a writeable. */
        if (t->close_wanted || t->tx_head != NULL)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (wsi != t->wsi || t->state != T_OPEN)
            return 0;
        return on_receive(t, wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (wsi != t->wsi || (t->state != T_OPEN && t->state != T_CLOSING))
            return 0;
        return on_writeable(t, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (wsi == t->wsi && in != NULL && len >= 2) {
            const uint8_t *p = in;
            t->close_code = (int)((unsigned)p[0] << 8 | p[1]);
        }
        if (wsi == t->wsi && t->state == T_OPEN)
            t->state = T_CLOSING;
        return 0; /* lws echoes the close */
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        /* WSI_DESTROY catches a connection killed before it got anywhere. */
        if (wsi == t->wsi || (t->in_connect && t->wsi == NULL))
            went_down(t);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols transport_protocols[] = {
    {TRANSPORT_SUBPROTOCOL, transport_callback, 0, TRANSPORT_RX_CHUNK, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Fills t->address, port, path and tls from url; PARLEY_EINVAL if it is not ws:// or wss://. */
static parley_err url_parse(struct parley__transport *t, const char *url)
{
    const char *prot = NULL, *address = NULL, *path = NULL;
    size_t n = strnlen(url, TRANSPORT_MAX_URL + 1), plen;
    int port = 0;

    if (n == 0 || n > TRANSPORT_MAX_URL)
        return PARLEY_EINVAL;
    t->url = malloc(n + 1);
    if (t->url == NULL)
        return PARLEY_ENOMEM;
    memcpy(t->url, url, n + 1);
    if (lws_parse_uri(t->url, &prot, &address, &port, &path) != 0 || prot == NULL ||
        address == NULL || address[0] == '\0' || path == NULL)
        return PARLEY_EINVAL;
    if (strcmp(prot, "ws") == 0)
        t->tls = false;
    else if (strcmp(prot, "wss") == 0) {
        const char *insecure = getenv("PARLEY_TLS_INSECURE");

        /*
         * PARLEY_TLS_INSECURE=1 accepts a self-signed relay certificate:
         * for local testing only. The relay is not trusted with content
         * either way (every envelope is sealed end to end), but without
         * certificate checks anyone on the path can read the metadata.
         * Read once, here: a client keeps the checking it was made with,
         * and the service thread never reads the environment.
         */
        t->tls = true;
        t->tls_insecure = insecure != NULL && strcmp(insecure, "1") == 0;
    } else
        return PARLEY_EINVAL;
    if (port <= 0 || port > 65535)
        return PARLEY_EINVAL;
    /* lws_parse_uri drops the leading '/' of the path. */
    if (path[0] == '/')
        path++;
    plen = strlen(path);
    t->path = malloc(plen + 2);
    if (t->path == NULL)
        return PARLEY_ENOMEM;
    t->path[0] = '/';
    memcpy(t->path + 1, path, plen + 1);
    t->address = address;
    t->port = port;
    return PARLEY_OK;
}

parley_err parley__transport_new(struct parley__transport **out, const char *url,
                                 parley__transport_frame_fn on_frame,
                                 parley__transport_state_fn on_state, void *arg)
{
    struct lws_context_creation_info info;
    struct parley__transport *t;
    parley_err err;

    if (out == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    if (url == NULL || on_frame == NULL || on_state == NULL)
        return PARLEY_EINVAL;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return PARLEY_ENOMEM;
    t->on_frame = on_frame;
    t->on_state = on_state;
    t->arg = arg;
    err = url_parse(t, url);
    if (err != PARLEY_OK)
        goto fail;

    lws_set_log_level(LLL_ERR, lwsl_emit_stderr);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = transport_protocols;
    info.user = t;
    info.gid = -1;
    info.uid = -1;
    info.timeout_secs = TRANSPORT_TIMEOUT_SECS;
    info.connect_timeout_secs = TRANSPORT_TIMEOUT_SECS;
    if (t->tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    t->ctx = lws_create_context(&info);
    if (t->ctx == NULL) {
        err = PARLEY_EIO;
        goto fail;
    }
    *out = t;
    return PARLEY_OK;
fail:
    parley__transport_free(t);
    return err;
}

void parley__transport_free(struct parley__transport *t)
{
    if (t == NULL)
        return;
    t->freeing = true;
    if (t->ctx != NULL) {
        lws_sul_cancel(&t->wait_sul);
        lws_context_destroy(t->ctx);
    }
    tx_drop(t);
    rx_drop(t);
    free(t->path);
    free(t->url);
    free(t);
}

parley_err parley__transport_connect(struct parley__transport *t)
{
    struct lws_client_connect_info ci;
    struct lws *wsi;

    if (t == NULL || t->state != T_IDLE || t->down_pending)
        return PARLEY_EINVAL;
    memset(&ci, 0, sizeof(ci));
    ci.context = t->ctx;
    ci.address = t->address;
    ci.port = t->port;
    ci.path = t->path;
    ci.host = t->address;
    ci.origin = t->address;
    ci.protocol = TRANSPORT_SUBPROTOCOL;
    ci.local_protocol_name = TRANSPORT_SUBPROTOCOL;
    ci.ietf_version_or_minus_one = -1;
    if (t->tls) {
        ci.ssl_connection = LCCSCF_USE_SSL;
        if (t->tls_insecure)
            ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
    }
    t->state = T_CONNECTING;
    t->close_code = 0;
    t->close_wanted = false;
    t->wsi = NULL;
    t->in_connect = true;
    wsi = lws_client_connect_via_info(&ci);
    t->in_connect = false;
    if (t->state == T_IDLE)
        return PARLEY_OK; /* failed already: down_pending reports it */
    if (wsi == NULL) {
        /* Refused without a callback: report it the same way, from service. */
        t->state = T_IDLE;
        t->wsi = NULL;
        t->down_pending = true;
        return PARLEY_OK;
    }
    t->wsi = wsi;
    return PARLEY_OK;
}

void parley__transport_disconnect(struct parley__transport *t)
{
    if (t == NULL || t->wsi == NULL)
        return;
    switch (t->state) {
    case T_CONNECTING:
        /* Not open yet: no close frame to send, just drop the attempt. */
        t->state = T_CLOSING;
        lws_set_timeout(t->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        break;
    case T_OPEN:
        t->state = T_CLOSING;
        t->close_wanted = true;
        tx_drop(t);
        lws_callback_on_writable(t->wsi);
        /* If the peer never answers, lws gives up on it. */
        lws_set_timeout(t->wsi, PENDING_TIMEOUT_CLOSE_SEND, (int)TRANSPORT_TIMEOUT_SECS);
        break;
    default:
        break;
    }
}

parley_err parley__transport_send(struct parley__transport *t, const uint8_t *frame, size_t len)
{
    struct tx_frame *f;

    if (t == NULL || t->state != T_OPEN || t->wsi == NULL || (frame == NULL && len > 0))
        return PARLEY_EINVAL;
    if (len > TRANSPORT_MAX_QUEUED - t->tx_bytes)
        return PARLEY_ETOOBIG;
    f = malloc(sizeof(*f) + LWS_PRE + len);
    if (f == NULL)
        return PARLEY_ENOMEM;
    f->next = NULL;
    f->len = len;
    if (len > 0)
        memcpy(f->buf + LWS_PRE, frame, len);
    if (t->tx_tail != NULL)
        t->tx_tail->next = f;
    else
        t->tx_head = f;
    t->tx_tail = f;
    t->tx_bytes += len;
    lws_callback_on_writable(t->wsi);
    return PARLEY_OK;
}

static void wait_over(lws_sorted_usec_list_t *sul)
{
    /* Nothing to do: being due is what ends the poll wait. */
}

/*
 * lws 4.1 ignores lws_service's timeout beyond "negative: do not wait":
 * otherwise it sleeps until the next scheduled event. A scheduled event
 * of our own at timeout_ms is what bounds the wait.
 */
void parley__transport_service(struct parley__transport *t, int timeout_ms)
{
    if (t == NULL)
        return;
    if (t->down_pending) {
        t->down_pending = false;
        t->on_state(t->arg, 0, t->close_code);
        timeout_ms = 0; /* something happened: do not sleep on top of it */
    }
    if (timeout_ms <= 0) {
        lws_service(t->ctx, -1);
        return;
    }
    lws_sul_schedule(t->ctx, 0, &t->wait_sul, wait_over, (lws_usec_t)timeout_ms * LWS_US_PER_MS);
    lws_service(t->ctx, 0);
    lws_sul_cancel(&t->wait_sul);
}

void parley__transport_wake(struct parley__transport *t)
{
    if (t != NULL && t->ctx != NULL)
        lws_cancel_service(t->ctx);
}

int parley__transport_connected(const struct parley__transport *t)
{
    return t != NULL && t->state == T_OPEN;
}
