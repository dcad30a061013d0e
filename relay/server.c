/*
 * The relay's network side: libwebsockets raw sockets on the libev loop,
 * with HTTP (health, metrics, upgrade) and WebSocket framing done here so
 * every limit is enforced before a byte is buffered: masked client frames
 * only, no text, no extensions, a message cap checked against the declared
 * length, and bounded waits for frames, authentication and idle peers.
 *
 * Output is queued per connection as whole frames (conn.c) and written
 * in one send per writeable callback, so many small frames share a
 * syscall. Every frame received, control frames included, takes from the
 * connection's frame rate.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <sodium.h>

#include "audit.h"
#include "audit_store.h"
#include "conn.h"
#include "health.h"
#include "log.h"
#include "relay.h"
#include "server.h"
#include "session.h"
#include "ws.h"

/* Bytes a peer may still send once its connection is closing, before it is dropped at once. */
#define AFTER_CLOSE_MAX (1024u * 1024u)
#define AFTER_CLOSE_MAX_UNAUTH (64u * 1024u)

static uint64_t mono_ms(void)
{
    return relay_mono_ns() / 1000000u;
}

/* ------------------------------------------------------------------ */
/* HTTP */

static void http_reply(struct relay *r, struct conn *c, int status, const char *ctype,
                       const char *body, size_t body_len, const char *extra)
{
    char head[512], headers[256];
    size_t n;

    snprintf(headers, sizeof(headers), "Cache-Control: no-store\r\n%s", extra != NULL ? extra : "");
    n = http_format_head(head, sizeof(head), status, ctype, (int64_t)body_len, headers);
    if (n > 0)
        conn_queue_raw(c, head, n);
    if (body_len > 0)
        conn_queue_raw(c, body, body_len);
    conn_close(r, c, 0, REJECT_bad_request, false);
}

/*
 * A file of the web root: its head now, its bytes from conn_writable as
 * the socket takes them, so a large file costs one chunk of memory and a
 * slow reader holds nothing more. A transfer that makes no progress for
 * frame-timeout seconds is cut off.
 */
static void serve_file(struct relay *r, struct conn *c, const struct http_request *req)
{
    struct web_reply w;

    web_request(&r->web, req, &w);
    if (w.refused)
        metrics_reject(&r->metrics, REJECT_bad_request);
    if (w.head_len > 0)
        conn_queue_raw(c, w.head, w.head_len);
    c->file_fd = w.fd;
    c->file_left = w.body_len;
    conn_close(r, c, 0, REJECT_bad_request, false);
    if (c->file_fd >= 0)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, (int)r->cfg.frame_timeout);
}

static bool origin_allowed(const struct relay *r, const struct http_request *req)
{
    if (r->cfg.n_origins == 0 || !req->has_origin)
        return true;
    for (size_t i = 0; i < r->cfg.n_origins; i++)
        if (strcmp(r->cfg.origins[i], req->origin) == 0)
            return true;
    return false;
}

static void serve_metrics(struct relay *r, struct conn *c)
{
    static char buf[16384];
    size_t n;

    health_metrics(r);
    n = metrics_render(&r->metrics, buf, sizeof(buf));

    http_reply(r, c, n > 0 ? 200 : 500, "text/plain; version=0.0.4", buf, n, NULL);
}

/* 200 "ok", or 503 with a "degraded: ..." line per reason (the store or the audit log refuses writes). */
static void serve_health(struct relay *r, struct conn *c)
{
    char body[1024];
    size_t n = 0;
    int status = health_render(r, body, sizeof(body), &n);

    http_reply(r, c, status, "text/plain", body, n, NULL);
}

/* Returns bytes consumed from rx, or -1 when the connection is closing. */
static long http_input(struct relay *r, struct conn *c)
{
    struct http_request req;
    long head = http_parse_request(c->rx, c->rx_len, &req);
    char extra[256], accept[32];

    if (head == 0)
        return 0;
    if (head < 0) {
        metrics_reject(&r->metrics, REJECT_bad_request);
        http_reply(r, c, 400, "text/plain", "bad request\n", 12, NULL);
        return -1;
    }
    if (http_wants_upgrade(&req) && !http_is_upgrade(&req)) {
        /* A WebSocket handshake that is not one the relay can answer. */
        metrics_reject(&r->metrics, REJECT_bad_request);
        http_reply(r, c, 400, "text/plain", "bad websocket handshake\n", 24,
                   req.version != 13 ? "Sec-WebSocket-Version: 13\r\n" : NULL);
        return -1;
    }
    if (!http_is_upgrade(&req)) {
        if (strcmp(req.method, "GET") == 0 && strcmp(req.path, "/healthz") == 0)
            serve_health(r, c);
        else if (strcmp(req.method, "GET") == 0 && strcmp(req.path, "/metrics") == 0)
            serve_metrics(r, c);
        else if (r->web.root_fd >= 0)
            serve_file(r, c, &req);
        else
            http_reply(r, c, 404, "text/plain", "not found\n", 10, NULL);
        return -1;
    }
    if (!req.protocol_ok) {
        metrics_reject(&r->metrics, REJECT_subprotocol);
        http_reply(r, c, 400, "text/plain", "subprotocol parley.v2 required\n", 31, NULL);
        return -1;
    }
    if (!origin_allowed(r, &req)) {
        metrics_reject(&r->metrics, REJECT_origin);
        http_reply(r, c, 403, "text/plain", "origin not allowed\n", 19, NULL);
        return -1;
    }
    ws_accept_key(req.key, accept);
    snprintf(extra, sizeof(extra),
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: " WS_SUBPROTOCOL "\r\n\r\n",
             accept);
    conn_queue_raw(c, extra, strlen(extra));
    c->state = CONN_WS;
    session_start(r, c);
    return head;
}

/* ------------------------------------------------------------------ */
/* WebSocket frames */

static void ws_control(struct relay *r, struct conn *c, const struct ws_header *h,
                       const uint8_t *p)
{
    switch (h->opcode) {
    case WS_OP_PING:
        /* Over the frame rate, or once closing, a ping is not answered. */
        if (!c->closing && conn_rate_take(r, c))
            conn_queue_frame(r, c, WS_OP_PONG, p, (size_t)h->len);
        break;
    case WS_OP_PONG:
        if (!c->closing)
            conn_rate_take(r, c);
        break;
    case WS_OP_CLOSE:
        /* The peer's close: echoed, unless it answers ours; nothing is read after it. */
        c->rx_stop = true;
        if (c->closing)
            break;
        c->closing = true;
        c->close_code = h->len >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 1005;
        conn_queue_frame(r, c, WS_OP_CLOSE, p, h->len >= 2 ? 2 : 0);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
        break;
    default:
        break;
    }
}

static bool msg_append(struct relay *r, struct conn *c, const uint8_t *p, size_t n)
{
    uint8_t *grown = realloc(c->msg, c->msg_len + n + 1);

    if (grown == NULL)
        return false;
    c->msg = grown;
    memcpy(c->msg + c->msg_len, p, n);
    c->msg_len += n;
    return true;
}

/* Checks a frame header against the protocol rules; returns a close code or 0. */
static uint16_t ws_check(struct relay *r, struct conn *c, const struct ws_header *h,
                         enum reject_reason *why)
{
    bool control = (h->opcode & 0x8) != 0;

    *why = REJECT_protocol;
    if (h->rsv != 0)
        return 1002;
    if (!h->masked) {
        *why = REJECT_unmasked;
        return 1002;
    }
    if (control) {
        if (h->opcode != WS_OP_CLOSE && h->opcode != WS_OP_PING && h->opcode != WS_OP_PONG)
            return 1002;
        return (!h->fin || h->len > 125) ? 1002 : 0;
    }
    if (h->opcode == WS_OP_TEXT || (h->opcode == WS_OP_CONT && c->msg_opcode == WS_OP_TEXT)) {
        *why = REJECT_text_frame;
        return 1003;
    }
    if (h->opcode != WS_OP_BINARY && h->opcode != WS_OP_CONT)
        return 1002;
    if ((h->opcode == WS_OP_CONT) != (c->msg_opcode != 0))
        return 1002; /* continuation without a start, or a new start mid-message */
    if (h->len > r->cfg.max_frame || c->msg_len + h->len > r->cfg.max_frame) {
        *why = REJECT_too_big;
        return 1009;
    }
    return 0;
}

/* A close for input that cannot be parsed any further. */
static void rx_broken(struct relay *r, struct conn *c, uint16_t code, enum reject_reason why)
{
    c->rx_stop = true;
    conn_close(r, c, code, why, true);
}

/*
 * Parses and handles every complete frame in rx; returns bytes consumed.
 * Once the connection is closing, session_message acts on nothing but
 * acknowledgements.
 */
static size_t ws_input(struct relay *r, struct conn *c, size_t off)
{
    while (!c->rx_stop && off < c->rx_len) {
        struct ws_header h;
        enum reject_reason why;
        uint16_t code;
        uint8_t *p;
        int hs = ws_parse_header(c->rx + off, c->rx_len - off, &h);

        if (hs == 0)
            break;
        if (hs < 0) {
            rx_broken(r, c, 1002, REJECT_protocol);
            break;
        }
        code = ws_check(r, c, &h, &why);
        if (code != 0) {
            rx_broken(r, c, code, why);
            break;
        }
        if (c->rx_len - off - (size_t)hs < h.len)
            break; /* payload still on its way */
        p = c->rx + off + (size_t)hs;
        ws_unmask(p, (size_t)h.len, h.mask, 0);
        off += (size_t)hs + (size_t)h.len;
        c->frame_started_ms = 0;
        if (h.opcode & 0x8) {
            ws_control(r, c, &h, p);
            continue;
        }
        r->metrics.frames_in += h.fin ? 1 : 0;
        /* Authenticated messages pay in session_message, where a refusal can name the envelope. */
        if (h.fin && !c->authed && !c->closing && !conn_rate_take(r, c))
            break;
        if (h.fin && c->msg_opcode == 0) {
            session_message(r, c, p, (size_t)h.len); /* the common case: no copy */
            continue;
        }
        if (!msg_append(r, c, p, (size_t)h.len)) {
            rx_broken(r, c, 1011, REJECT_unavailable);
            break;
        }
        c->msg_opcode = WS_OP_BINARY;
        if (h.fin) {
            session_message(r, c, c->msg, c->msg_len);
            free(c->msg);
            c->msg = NULL;
            c->msg_len = 0;
            c->msg_opcode = 0;
        }
    }
    return off;
}

/* Returns -1 when the connection must be dropped at once. */
static int conn_input(struct relay *r, struct conn *c, const uint8_t *in, size_t len)
{
    size_t off = 0, limit = r->cfg.max_frame + WS_MAX_HEADER + HTTP_HEAD_MAX + len;

    if (c->closing) {
        /*
         * A peer told to go that keeps sending is dropped without waiting
         * for the timeout. Until then, what it acknowledges (by the routing
         * id it proved) is still applied; nothing else is acted upon.
         */
        c->rx_after_close += len;
        if (c->rx_after_close > (c->proven ? AFTER_CLOSE_MAX : AFTER_CLOSE_MAX_UNAUTH))
            return -1;
        if (c->rx_stop || !c->proven || c->state != CONN_WS)
            return 0;
    }
    c->last_rx_ms = mono_ms();
    c->ping_sent = false;
    if (c->rx_len + len > limit || c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_len + len;
        uint8_t *grown;
        if (cap > limit) {
            rx_broken(r, c, 1009, REJECT_too_big);
            return 0;
        }
        grown = realloc(c->rx, cap);
        if (grown == NULL) {
            rx_broken(r, c, 1011, REJECT_unavailable);
            return 0;
        }
        c->rx = grown;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (c->state == CONN_HTTP) {
        long used = http_input(r, c);
        if (used < 0 || (used == 0 && c->state == CONN_HTTP)) {
            if (used < 0)
                c->rx_len = 0;
            goto compact;
        }
        off = (size_t)used;
    }
    off = ws_input(r, c, off);
    if (off < c->rx_len && c->frame_started_ms == 0)
        c->frame_started_ms = mono_ms();
compact:
    if (off > 0 && off < c->rx_len)
        memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off < c->rx_len ? off : c->rx_len;
    if (c->rx_len == 0) {
        free(c->rx); /* idle connections hold no buffers */
        c->rx = NULL;
        c->rx_cap = 0;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Connection lifecycle */

static bool addr_key(struct lws *wsi, uint8_t key[32])
{
    char ip[64];
    struct in6_addr a6;
    struct in_addr a4;

    memset(key, 0, 32);
    if (lws_get_peer_simple(wsi, ip, sizeof(ip)) == NULL)
        return false;
    if (inet_pton(AF_INET6, ip, &a6) == 1) {
        memcpy(key, &a6, 16);
        return true;
    }
    if (inet_pton(AF_INET, ip, &a4) == 1) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &a4, 4);
        return true;
    }
    return false;
}

static int conn_open(struct relay *r, struct conn *c, struct lws *wsi)
{
    struct map_entry *ip;

    memset(c, 0, sizeof(*c));
    c->file_fd = -1;
    if (r->stopping)
        return -1; /* c->wsi stays NULL: conn_gone has nothing to undo */
    c->wsi = wsi;
    c->brand = -1;
    c->watch_brand = -1;
    c->serial = ++r->next_serial;
    c->opened_ms = c->last_rx_ms = mono_ms();
    randombytes_buf(c->nonce, sizeof(c->nonce));
    log_pseudonym((const uint8_t *)&c->serial, sizeof(c->serial), c->pseudonym);
    addr_key(wsi, c->addr);
    ip = map_put(&r->per_ip, c->addr);
    if (ip == NULL) {
        c->wsi = NULL;
        return -1;
    }
    ip->a++;
    c->next = r->conns;
    if (r->conns != NULL)
        r->conns->prev = c;
    r->conns = c;
    r->metrics.connections++;
    if (ip->a > r->cfg.max_conn_per_ip) {
        metrics_reject(&r->metrics, REJECT_conn_limit);
        log_event(LOG_WARN, "conn_limit", "\"conn\":\"%s\"", c->pseudonym);
        return -1;
    }
    return 0;
}

static void conn_gone(struct relay *r, struct conn *c)
{
    struct map_entry *ip;

    if (c->wsi == NULL)
        return; /* never opened */
    session_closed(r, c);
    ip = map_get(&r->per_ip, c->addr);
    if (ip != NULL && --ip->a == 0)
        map_del(&r->per_ip, c->addr);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        r->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    r->metrics.connections--;
    free(c->rx);
    free(c->msg);
    conn_release(r, c);
    if (c->file_fd >= 0)
        close(c->file_fd);
    c->file_fd = -1;
    c->wsi = NULL;
}

static int conn_writable(struct relay *r, struct conn *c)
{
    int rc = conn_write(r, c);

    if (rc > 0)
        session_writable(r, c);
    return rc < 0 ? -1 : 0;
}

static struct relay *relay_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

static int callback_relay(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                          void *in, size_t len)
{
    struct relay *r;
    struct conn *c = user;

    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT:
        return conn_open(relay_of(wsi), c, wsi);
    case LWS_CALLBACK_RAW_RX:
        return conn_input(relay_of(wsi), c, in, len);
    case LWS_CALLBACK_RAW_WRITEABLE:
        return conn_writable(relay_of(wsi), c);
    case LWS_CALLBACK_RAW_CLOSE:
        if (c != NULL)
            conn_gone(relay_of(wsi), c);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        r = relay_of(wsi);
        if (r != NULL)
            session_store_done(r);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {"parley-raw", callback_relay, sizeof(struct conn), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ------------------------------------------------------------------ */
/* Loop: timers, signals, group commit */

void server_wake(void *arg)
{
    struct relay *r = arg;
    /* Safe from any thread: wakes the loop, which calls EVENT_WAIT_CANCELLED. */
    if (r->ctx != NULL)
        lws_cancel_service(r->ctx);
}

/* Before the loop sleeps: hand everything that arrived to the writer as one batch. */
static void on_prepare(struct ev_loop *l, ev_prepare *w, int revents)
{
    struct relay *r = w->data;

    session_submit(r);
    audit_store_pump(r);
    audit_flush(r->audit);
}

static void sweep_conn(struct relay *r, struct conn *c, uint64_t now)
{
    if (c->closing)
        return;
    if (c->frame_started_ms != 0 && now - c->frame_started_ms > r->cfg.frame_timeout * 1000u) {
        conn_close(r, c, 4005, REJECT_frame_timeout, true);
        return;
    }
    if (!c->authed && now - c->opened_ms > r->cfg.auth_timeout * 1000u) {
        conn_close(r, c, 4001, REJECT_auth_timeout, true);
        return;
    }
    if (c->state == CONN_WS && !c->ping_sent &&
        now - c->last_rx_ms > r->cfg.idle_timeout * 500u) {
        /* Also when a late sweep (a busy loop) closes it at once: the ping still goes first. */
        c->ping_sent = true;
        conn_queue_frame(r, c, WS_OP_PING, NULL, 0);
    }
    if (now - c->last_rx_ms > r->cfg.idle_timeout * 1000u)
        conn_close(r, c, 4002, REJECT_idle_timeout, true);
}

static void on_sweep(struct ev_loop *l, ev_timer *w, int revents)
{
    struct relay *r = w->data;
    uint64_t now = mono_ms();

    for (struct conn *c = r->conns; c != NULL; c = c->next)
        sweep_conn(r, c, now);
    health_tick(r);
    audit_store_tick(r);
    if (r->stopping) {
        /* Drain: once every acknowledgement is out, close everyone; then stop. */
        bool flushed = r->pending.n == 0 && !store_busy(r->store);
        if (flushed)
            for (struct conn *c = r->conns; c != NULL; c = c->next)
                conn_close(r, c, 1001, REJECT_unavailable, false);
        if ((flushed && r->conns == NULL) || now > r->stop_deadline_ms)
            ev_break(l, EVBREAK_ALL);
    }
}

static void on_expiry(struct ev_loop *l, ev_timer *w, int revents)
{
    session_expire(w->data);
}

static void on_signal(struct ev_loop *l, ev_signal *w, int revents)
{
    struct relay *r = w->data;

    if (w->signum == SIGHUP) {
        if (log_reopen() != 0)
            log_event(LOG_ERROR, "log_reopen_failed", NULL);
        else
            log_event(LOG_INFO, "log_reopened", NULL);
        return;
    }
    if (r->stopping)
        return;
    r->stopping = true;
    r->stop_deadline_ms = mono_ms() + 10000;
    log_event(LOG_INFO, "draining", "\"signal\":%d", w->signum);
    ev_timer_set(&r->sweep_timer, 0.05, 0.05);
    ev_timer_again(l, &r->sweep_timer);
}

static void lws_log(int level, const char *line)
{
    char msg[256];
    size_t j = 0;

    /* lws lines become JSON strings: keep printable ASCII, drop quotes and escapes. */
    for (size_t i = 0; line[i] != '\0' && j + 1 < sizeof(msg); i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
            msg[j++] = (char)ch;
    }
    msg[j] = '\0';
    log_event(level == LLL_ERR ? LOG_ERROR : LOG_WARN, "lws", "\"message\":\"%s\"", msg);
}

static int write_port_file(const char *path, int port)
{
    char tmp[600], text[16];
    int fd, n = snprintf(text, sizeof(text), "%d\n", port);

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    if (write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    return rename(tmp, path);
}

/* The loop's watchers: group commit before it sleeps, the sweep, expiry, signals. */
static void watchers_start(struct relay *r)
{
    ev_prepare_init(&r->flush_watcher, on_prepare);
    r->flush_watcher.data = r;
    ev_prepare_start(r->loop, &r->flush_watcher);
    ev_timer_init(&r->sweep_timer, on_sweep, 1.0, 1.0);
    r->sweep_timer.data = r;
    ev_timer_start(r->loop, &r->sweep_timer);
    ev_timer_init(&r->expiry_timer, on_expiry, 1.0, (double)r->cfg.expiry_interval);
    r->expiry_timer.data = r;
    ev_timer_start(r->loop, &r->expiry_timer);
    ev_signal_init(&r->sig_term, on_signal, SIGTERM);
    ev_signal_init(&r->sig_int, on_signal, SIGINT);
    ev_signal_init(&r->sig_hup, on_signal, SIGHUP);
    r->sig_term.data = r->sig_int.data = r->sig_hup.data = r;
    ev_signal_start(r->loop, &r->sig_term);
    ev_signal_start(r->loop, &r->sig_int);
    ev_signal_start(r->loop, &r->sig_hup);
    r->watching = true;
}

int server_listen(struct relay *r)
{
    struct lws_context_creation_info info;
    void *foreign[1];
    int port;

    r->loop = ev_default_loop(EVFLAG_AUTO);
    if (r->loop == NULL) {
        fprintf(stderr, "parley-relay: cannot create the event loop\n");
        return -1;
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    memset(&info, 0, sizeof(info));
    foreign[0] = r->loop;
    info.foreign_loops = foreign;
    info.options = LWS_SERVER_OPTION_LIBEV | LWS_SERVER_OPTION_ONLY_RAW |
                   LWS_SERVER_OPTION_DISABLE_IPV6;
    info.port = r->cfg.port;
    info.iface = r->cfg.listen;
    info.protocols = protocols;
    info.user = r;
    info.pt_serv_buf_size = 32768;
    info.fd_limit_per_thread = 0;
    if (r->cfg.tls_cert[0] != '\0') {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = r->cfg.tls_cert;
        info.ssl_private_key_filepath = r->cfg.tls_key;
        /* lws would offer h2 by default; the relay speaks HTTP/1.1 and WebSocket only. */
        info.alpn = "http/1.1";
    }
    r->ctx = lws_create_context(&info);
    if (r->ctx == NULL) {
        fprintf(stderr, "parley-relay: cannot listen on %s:%d\n", r->cfg.listen, r->cfg.port);
        return -1;
    }
    r->vhost = lws_get_vhost_by_name(r->ctx, "default");
    port = r->vhost != NULL ? lws_get_vhost_listen_port(r->vhost) : r->cfg.port;
    if (r->cfg.port_file[0] != '\0' && write_port_file(r->cfg.port_file, port) != 0) {
        fprintf(stderr, "parley-relay: %s: %s\n", r->cfg.port_file, strerror(errno));
        return -1;
    }
    log_event(LOG_INFO, "listening",
              "\"address\":\"%s\",\"port\":%d,\"tls\":%s,\"brands\":%zu,\"stored\":%llu",
              r->cfg.listen, port, r->cfg.tls_cert[0] ? "true" : "false", r->n_brands,
              (unsigned long long)r->metrics.bytes_stored);
    watchers_start(r);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int server_run(struct relay *r)
{
    ev_run(r->loop, 0);
    return r->exit_code;
}

void server_stop(struct relay *r)
{
    if (!r->watching)
        return;
    ev_prepare_stop(r->loop, &r->flush_watcher);
    ev_timer_stop(r->loop, &r->sweep_timer);
    ev_timer_stop(r->loop, &r->expiry_timer);
    /*
     * The signals are ignored from here on rather than their watchers
     * stopped, which would give them their default action back: a second
     * SIGTERM or SIGINT (or a SIGHUP) while the relay commits what is left
     * and closes the store would kill it half-way, with a status other
     * than the drained stop's 0.
     */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    r->watching = false;
}

void server_close(struct relay *r)
{
    if (r->ctx != NULL)
        lws_context_destroy(r->ctx);
    r->ctx = NULL;
    r->vhost = NULL;
}
