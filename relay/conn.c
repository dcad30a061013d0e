/*
 * Connection output and close (see conn.h).
 *
 * Plain TCP is written with send() directly, taking only what the socket
 * accepts: libwebsockets keeps a partial write itself and stops reading
 * the connection until it is out, which would stop a slow reader's
 * acknowledgements from being read. Under TLS, lws_write gets chunks of
 * at most TX_TLS_CHUNK, so such a pause is short.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "conn.h"
#include "log.h"
#include "relay.h"
#include "ws.h"

#define TX_CHUNK_MIN 4096u
#define TX_TLS_CHUNK 16384u
#define FILE_CHUNK 32768u     /* read from a served file at a time */
#define RATE_STRIKES_MAX 1000u   /* frames over the rate in a row before a close */

bool bucket_take(struct bucket *b, double rate, double burst, double n, uint64_t now_ms)
{
    if (b->ms == 0)
        b->tokens = burst;
    else if (now_ms > b->ms)
        b->tokens += (double)(now_ms - b->ms) * rate / 1000.0;
    b->ms = now_ms;
    if (b->tokens > burst)
        b->tokens = burst;
    if (b->tokens < n)
        return false;
    b->tokens -= n;
    return true;
}

/* ------------------------------------------------------------------ */
/* Output queue */

void conn_pools_init(struct relay *r)
{
    pool_init(&r->tx_pool, LWS_PRE + TX_CHUNK_MIN, 128);
    pool_init(&r->window_pool, r->cfg.window_envelopes * sizeof(struct inflight), 128);
}

/* A queue's buffer goes back to the pool if it is of the pool's size, else to the heap. */
static void tx_release(struct relay *r, struct conn *c)
{
    if (c->tx_cap == r->tx_pool.size)
        pool_put(&r->tx_pool, c->tx);
    else
        free(c->tx);
    c->tx = NULL;
    c->tx_cap = 0;
}

void conn_release(struct relay *r, struct conn *c)
{
    tx_release(r, c);
    c->tx_len = c->tx_off = 0;
}

static bool tx_reserve(struct relay *r, struct conn *c, size_t n)
{
    size_t need;

    if (c->tx_off > 0 && LWS_PRE + c->tx_len + n > c->tx_cap) {
        /* What was sent already makes room first. */
        memmove(c->tx + LWS_PRE, c->tx + LWS_PRE + c->tx_off, c->tx_len - c->tx_off);
        c->tx_len -= c->tx_off;
        c->tx_off = 0;
    }
    need = LWS_PRE + c->tx_len + n;
    if (need <= c->tx_cap)
        return true;
    if (c->tx == NULL && r != NULL && need <= r->tx_pool.size) {
        c->tx = pool_get(&r->tx_pool);
        c->tx_cap = c->tx != NULL ? r->tx_pool.size : 0;
        return c->tx != NULL;
    }
    {
        size_t cap = c->tx_cap ? c->tx_cap : LWS_PRE + TX_CHUNK_MIN;
        uint8_t *grown;
        while (cap < need)
            cap *= 2;
        grown = realloc(c->tx, cap);
        if (grown == NULL)
            return false;
        c->tx = grown;
        c->tx_cap = cap;
    }
    return true;
}

bool conn_queue_raw(struct conn *c, const void *data, size_t len)
{
    if (!tx_reserve(NULL, c, len))
        return false;
    memcpy(c->tx + LWS_PRE + c->tx_len, data, len);
    c->tx_len += len;
    lws_callback_on_writable(c->wsi);
    return true;
}

size_t conn_queued(const struct conn *c)
{
    return c->tx_len - c->tx_off;
}

static size_t out_budget(const struct relay *r, const struct conn *c)
{
    return c->authed ? r->cfg.max_outbound : r->cfg.max_outbound_unauth;
}

/*
 * Queues one frame's header and returns where its len payload bytes go,
 * or NULL. Past the connection's budget, the reader is cut off instead
 * (what is stored stays stored); only the close frame may exceed it.
 */
static uint8_t *frame_reserve(struct relay *r, struct conn *c, uint8_t opcode, size_t len)
{
    uint8_t hdr[WS_MAX_HEADER];
    size_t h = ws_write_header(hdr, opcode, len);

    if (opcode != WS_OP_CLOSE && conn_queued(c) + h + len > out_budget(r, c)) {
        conn_close(r, c, 4003, REJECT_slow_reader, true);
        return NULL;
    }
    if (!tx_reserve(r, c, h + len))
        return NULL;
    memcpy(c->tx + LWS_PRE + c->tx_len, hdr, h);
    c->tx_len += h + len;
    if (opcode == WS_OP_BINARY)
        r->metrics.frames_out++;
    lws_callback_on_writable(c->wsi);
    return c->tx + LWS_PRE + c->tx_len - len;
}

uint8_t *conn_frame_begin(struct relay *r, struct conn *c, size_t len)
{
    return c->closing ? NULL : frame_reserve(r, c, WS_OP_BINARY, len);
}

bool conn_queue_frame(struct relay *r, struct conn *c, uint8_t opcode, const uint8_t *payload,
                      size_t len)
{
    uint8_t *p = frame_reserve(r, c, opcode, len);

    if (p == NULL)
        return false;
    if (len > 0)
        memcpy(p, payload, len);
    return true;
}

bool conn_rate_take(struct relay *r, struct conn *c)
{
    uint32_t rate = c->authed ? r->cfg.rate : r->cfg.rate_unauth;
    uint32_t burst = c->authed ? r->cfg.burst : r->cfg.burst_unauth;

    if (bucket_take(&c->frames, rate, burst, 1, relay_now_ms())) {
        c->over_limit = 0;
        return true;
    }
    metrics_reject(&r->metrics, REJECT_rate_limited);
    /* Before authenticating there is nothing to slow down for: one strike. */
    if (!c->authed || ++c->over_limit >= RATE_STRIKES_MAX)
        conn_close(r, c, 1008, REJECT_rate_limited, true);
    return false;
}

void conn_close(struct relay *r, struct conn *c, uint16_t code, enum reject_reason why,
                bool count)
{
    if (c->closing)
        return;
    c->closing = true;
    c->close_code = code;
    if (count)
        metrics_reject(&r->metrics, why);
    if (c->state == CONN_WS && code != 0) {
        uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
        conn_queue_frame(r, c, WS_OP_CLOSE, p, sizeof(p));
    }
    if (count)
        log_event(LOG_INFO, "close", "\"conn\":\"%s\",\"code\":%u,\"reason\":\"%s\"",
                  c->pseudonym, code, metrics_reason_name(why));
    /* Whatever the peer does now, the connection is gone within seconds. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
    lws_callback_on_writable(c->wsi);
}

/* ------------------------------------------------------------------ */
/* Writing */

/*
 * Writes what the socket takes of the queue: 1 when all of it went, 0
 * when some is left for the next writeable callback, -1 on error.
 */
static int tx_flush(struct conn *c)
{
    size_t n = conn_queued(c);
    uint8_t *p = c->tx + LWS_PRE + c->tx_off;

    if (lws_is_ssl(c->wsi)) {
        /* LWS_PRE bytes precede p: the queue's headroom, or bytes already sent. */
        if (n > TX_TLS_CHUNK)
            n = TX_TLS_CHUNK;
        if (lws_write(c->wsi, p, n, LWS_WRITE_RAW) < (int)n)
            return -1;
    } else {
        ssize_t w = send(lws_get_socket_fd(c->wsi), p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
        n = (size_t)w;
    }
    c->tx_off += n;
    if (c->tx_off < c->tx_len)
        return 0;
    c->tx_len = c->tx_off = 0;
    return 1;
}

/*
 * The next chunk of the file being served, once the queue is out. -1
 * when the file cannot be read whole (it shrank, or failed): the peer was
 * promised Content-Length bytes, so the connection is cut.
 */
static int file_refill(struct conn *c)
{
    size_t n = c->file_left < FILE_CHUNK ? (size_t)c->file_left : FILE_CHUNK;
    ssize_t got;

    if (!tx_reserve(NULL, c, n))
        return -1;
    got = read(c->file_fd, c->tx + LWS_PRE + c->tx_len, n);
    if (got <= 0)
        return -1;
    c->tx_len += (size_t)got;
    c->file_left -= (uint64_t)got;
    if (c->file_left == 0) {
        close(c->file_fd);
        c->file_fd = -1;
    }
    return 0;
}

int conn_write(struct relay *r, struct conn *c)
{
    if (conn_queued(c) == 0 && c->file_fd >= 0 && file_refill(c) != 0)
        return -1;
    if (conn_queued(c) > 0) {
        size_t before = conn_queued(c);
        int rc = tx_flush(c);
        if (rc < 0)
            return -1;
        if (c->file_fd >= 0 && conn_queued(c) < before) /* progress: the transfer goes on */
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, (int)r->cfg.frame_timeout);
        if (rc > 0 && c->tx_cap > LWS_PRE + 64 * 1024u)
            tx_release(r, c); /* a burst's buffer is not kept */
        /* Come back once the socket took it all, to close or to refill. */
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->closing) {
        /*
         * Everything is out, the close frame last. Half-close and let the
         * peer finish: closing now, with its unread bytes in our receive
         * buffer, would reset the connection and could lose the close
         * frame. The timeout set in conn_close bounds the wait.
         */
        if (r->stopping)
            return -1; /* shutting down: no waiting on peers */
        if (!c->shut) {
            c->shut = true;
            shutdown(lws_get_socket_fd(c->wsi), SHUT_WR);
        }
        return 0;
    }
    tx_release(r, c); /* idle connections hold no buffers */
    return 1;
}
