/*
 * Test WebSocket client (RFC 6455, client side) and Parley relay protocol
 * helpers. Written against the RFC and docs/relay-spec.tmp.md, not against
 * the relay's code, so the tests check the contract rather than echo the
 * implementation. Every wait is a poll() with a deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "internal.h"
#include "wsc.h"

#define RX_MAX_FRAME (32u * 1024u * 1024u)
#define SEND_TIMEOUT_MS 5000

struct wsc {
    int fd;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    bool eof;
    enum wsc_result last;
    int last_close;
    bool paced;            /* reads limited to read_budget bytes */
    size_t read_budget;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining(int64_t deadline)
{
    int64_t left = deadline - now_ms();
    return left > 0 ? (int)left : 0;
}

void wsc_msg_clear(struct wsc_msg *m)
{
    free(m->payload);
    memset(m, 0, sizeof(*m));
}

int wsc_tcp_connect(uint16_t port, int timeout_ms)
{
    return wsc_tcp_connect_rcvbuf(port, timeout_ms, 0);
}

int wsc_tcp_connect_rcvbuf(uint16_t port, int timeout_ms, int rcvbuf)
{
    struct sockaddr_in sa;
    struct pollfd pfd;
    int fd, err = 0, flags;
    socklen_t elen = sizeof(err);

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)
        goto fail;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        goto fail;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (errno != EINPROGRESS)
            goto fail;
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if (poll(&pfd, 1, timeout_ms) != 1)
            goto fail;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)
            goto fail;
    }
    {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
fail:
    close(fd);
    return -1;
}

wsc *wsc_from_fd(int fd)
{
    wsc *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    return c;
}

wsc *wsc_tcp(uint16_t port)
{
    int fd = wsc_tcp_connect(port, 5000);
    return fd < 0 ? NULL : wsc_from_fd(fd);
}

void wsc_free(wsc *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->rx);
    free(c);
}

int wsc_fd(const wsc *c)
{
    return c->fd;
}

void wsc_pace(wsc *c, bool paced)
{
    c->paced = paced;
    c->read_budget = 0;
}

void wsc_allow_read(wsc *c, size_t bytes)
{
    c->read_budget += bytes;
}

size_t wsc_read_allowance(const wsc *c)
{
    return c->read_budget;
}

enum wsc_result wsc_last_result(const wsc *c)
{
    return c->last;
}

int wsc_last_close(const wsc *c)
{
    return c->last_close;
}

int wsc_send_raw(wsc *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    int64_t deadline = now_ms() + SEND_TIMEOUT_MS;

    while (n > 0) {
        ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
        if (w > 0) {
            b += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {c->fd, POLLOUT, 0};
            if (remaining(deadline) == 0 || poll(&pfd, 1, remaining(deadline)) < 0)
                return -1;
            continue;
        }
        return -1;
    }
    return 0;
}

/* Reads whatever is available into rx, waiting until deadline. 1 read, 0 timeout, -1 EOF/error. */
static int fill(wsc *c, int64_t deadline)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};
    ssize_t n;
    int rc;

    if (c->eof)
        return -1;
    if (c->paced && c->read_budget == 0)
        return 0; /* nothing more may be read until the budget is raised */
    if (c->rx_cap - c->rx_len < 65536) {
        size_t cap = c->rx_cap ? c->rx_cap * 2 : 131072;
        uint8_t *grown;
        while (cap - c->rx_len < 65536)
            cap *= 2;
        grown = realloc(c->rx, cap);
        if (grown == NULL)
            return -1;
        c->rx = grown;
        c->rx_cap = cap;
    }
    do {
        rc = poll(&pfd, 1, remaining(deadline));
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0)
        return 0;
    n = recv(c->fd, c->rx + c->rx_len,
             c->paced && c->read_budget < c->rx_cap - c->rx_len ? c->read_budget
                                                                  : c->rx_cap - c->rx_len,
             0);
    if (n > 0 && c->paced)
        c->read_budget -= (size_t)n;
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        c->eof = true;
        return -1;
    }
    c->rx_len += (size_t)n;
    return 1;
}

static void consume(wsc *c, size_t n)
{
    memmove(c->rx, c->rx + n, c->rx_len - n);
    c->rx_len -= n;
}

int wsc_upgrade(wsc *c, const char *protocol, const char *origin, int timeout_ms)
{
    uint8_t key_raw[16], digest[EVP_MAX_MD_SIZE];
    char key[32], want[64], req[1024], joined[128], proto_h[300] = "", origin_h[300] = "";
    unsigned int dlen = 0;
    int64_t deadline = now_ms() + timeout_ms;
    int n, status = -1;
    char *head_end = NULL;

    randombytes_buf(key_raw, sizeof(key_raw));
    sodium_bin2base64(key, sizeof(key), key_raw, sizeof(key_raw),
                      sodium_base64_VARIANT_ORIGINAL);
    if (protocol != NULL)
        snprintf(proto_h, sizeof(proto_h), "Sec-WebSocket-Protocol: %s\r\n", protocol);
    if (origin != NULL)
        snprintf(origin_h, sizeof(origin_h), "Origin: %s\r\n", origin);
    n = snprintf(req, sizeof(req),
                 "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                 "%s%s\r\n",
                 key, proto_h, origin_h);
    if (n <= 0 || (size_t)n >= sizeof(req) || wsc_send_raw(c, req, (size_t)n) != 0)
        return -1;
    /* Read up to the blank line, and no further: frames may follow at once. */
    while (head_end == NULL) {
        if (c->rx_len > 0 && c->rx_len < c->rx_cap) {
            c->rx[c->rx_len] = '\0';
            head_end = strstr((char *)c->rx, "\r\n\r\n");
            if (head_end != NULL)
                break;
        }
        if (c->rx_len > 16384 || fill(c, deadline) <= 0)
            return -1;
    }
    if (sscanf((char *)c->rx, "HTTP/1.1 %d", &status) != 1)
        return -1;
    if (status == 101) {
        const char *h;
        bool accept_ok = false, proto_ok = false;
        /* Check headers in the head only. */
        *head_end = '\0';
        n = snprintf(joined, sizeof(joined), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
        if (n <= 0 || EVP_Digest(joined, (size_t)n, digest, &dlen, EVP_sha1(), NULL) != 1)
            return -1;
        sodium_bin2base64(want, sizeof(want), digest, dlen, sodium_base64_VARIANT_ORIGINAL);
        for (h = strstr((char *)c->rx, "\r\n"); h != NULL; h = strstr(h + 2, "\r\n")) {
            const char *line = h + 2;
            if (strncasecmp(line, "Sec-WebSocket-Accept:", 21) == 0) {
                const char *v = line + 21;
                while (*v == ' ')
                    v++;
                accept_ok = strncmp(v, want, strlen(want)) == 0 &&
                            (v[strlen(want)] == '\r' || v[strlen(want)] == '\0');
            }
            if (strncasecmp(line, "Sec-WebSocket-Protocol:", 23) == 0)
                proto_ok = strstr(line + 23, "parley.v2") != NULL;
        }
        if (!accept_ok || (protocol != NULL && !proto_ok))
            return -1;
    }
    consume(c, (size_t)(head_end + 4 - (char *)c->rx));
    return status;
}

wsc *wsc_open(uint16_t port)
{
    return wsc_open_rcvbuf(port, 0);
}

wsc *wsc_open_rcvbuf(uint16_t port, int rcvbuf)
{
    int fd = wsc_tcp_connect_rcvbuf(port, 5000, rcvbuf);
    wsc *c = fd < 0 ? NULL : wsc_from_fd(fd);

    if (c != NULL && wsc_upgrade(c, "parley.v2", NULL, 5000) != 101) {
        wsc_free(c);
        return NULL;
    }
    return c;
}

int wsc_send_frame(wsc *c, uint8_t b0, bool masked, uint64_t declared_len, const uint8_t *payload,
                   size_t send_len)
{
    uint8_t hdr[14], mask[4];
    size_t h = 2;
    uint8_t *copy = NULL;
    int rc;

    hdr[0] = b0;
    if (declared_len < 126) {
        hdr[1] = (uint8_t)declared_len;
    } else if (declared_len <= 0xffff) {
        hdr[1] = 126;
        hdr[2] = (uint8_t)(declared_len >> 8);
        hdr[3] = (uint8_t)declared_len;
        h = 4;
    } else {
        hdr[1] = 127;
        for (int i = 0; i < 8; i++)
            hdr[2 + i] = (uint8_t)(declared_len >> (56 - 8 * i));
        h = 10;
    }
    if (masked) {
        hdr[1] |= 0x80;
        randombytes_buf(mask, sizeof(mask));
        memcpy(hdr + h, mask, 4);
        h += 4;
    }
    if (send_len > 0) {
        copy = malloc(h + send_len);
        if (copy == NULL)
            return -1;
        memcpy(copy, hdr, h);
        for (size_t i = 0; i < send_len; i++)
            copy[h + i] = masked ? (uint8_t)(payload[i] ^ mask[i & 3]) : payload[i];
        rc = wsc_send_raw(c, copy, h + send_len);
        free(copy);
        return rc;
    }
    return wsc_send_raw(c, hdr, h);
}

int wsc_send_binary(wsc *c, const uint8_t *p, size_t n)
{
    return wsc_send_frame(c, WSC_FIN | WSC_OP_BINARY, true, n, p, n);
}

int wsc_send_close(wsc *c, uint16_t code)
{
    uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    return wsc_send_frame(c, WSC_FIN | WSC_OP_CLOSE, true, 2, p, 2);
}

int wsc_frame_append(uint8_t **buf, size_t *len, const uint8_t *msg, size_t n)
{
    uint8_t *grown = realloc(*buf, *len + 14 + n);
    uint8_t *o, mask[4];
    size_t h = 2;

    if (grown == NULL)
        return -1;
    *buf = grown;
    o = grown + *len;
    o[0] = WSC_FIN | WSC_OP_BINARY;
    if (n < 126) {
        o[1] = (uint8_t)n;
    } else if (n <= 0xffff) {
        o[1] = 126;
        o[2] = (uint8_t)(n >> 8);
        o[3] = (uint8_t)n;
        h = 4;
    } else {
        o[1] = 127;
        for (int i = 0; i < 8; i++)
            o[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
        h = 10;
    }
    o[1] |= 0x80;
    randombytes_buf(mask, 4);
    memcpy(o + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        o[h + i] = (uint8_t)(msg[i] ^ mask[i & 3]);
    *len += h + n;
    return 0;
}

enum wsc_result wsc_recv(wsc *c, int timeout_ms, struct wsc_msg *m)
{
    int64_t deadline = now_ms() + timeout_ms;

    memset(m, 0, sizeof(*m));
    for (;;) {
        size_t need = 2;
        uint64_t len;

        if (c->rx_len >= 2) {
            if (c->rx[1] & 0x80)
                return WSC_ERROR; /* servers never mask */
            len = c->rx[1] & 0x7f;
            if (len == 126)
                need = 4;
            else if (len == 127)
                need = 10;
            if (c->rx_len >= need) {
                if (len == 126)
                    len = ((uint64_t)c->rx[2] << 8) | c->rx[3];
                else if (len == 127) {
                    len = 0;
                    for (int i = 0; i < 8; i++)
                        len = (len << 8) | c->rx[2 + i];
                }
                if (len > RX_MAX_FRAME)
                    return WSC_ERROR;
                if (c->rx_len >= need + len) {
                    m->fin = (c->rx[0] & 0x80) != 0;
                    m->opcode = c->rx[0] & 0x0f;
                    m->len = (size_t)len;
                    m->payload = malloc(m->len + 1);
                    if (m->payload == NULL)
                        return WSC_ERROR;
                    memcpy(m->payload, c->rx + need, m->len);
                    m->payload[m->len] = 0;
                    if (m->opcode == WSC_OP_CLOSE)
                        m->close_code = m->len >= 2 ? (m->payload[0] << 8) | m->payload[1] : 1005;
                    consume(c, need + m->len);
                    return WSC_OK;
                }
            }
        }
        {
            int rc = fill(c, deadline);
            if (rc < 0)
                return WSC_EOF;
            if (rc == 0)
                return WSC_TIMEOUT;
        }
    }
}

int wsc_wait_close(wsc *c, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;

    for (;;) {
        struct wsc_msg m;
        enum wsc_result r = wsc_recv(c, remaining(deadline), &m);
        int code;

        if (r == WSC_EOF)
            return 0;
        if (r != WSC_OK)
            return -1;
        code = m.opcode == WSC_OP_CLOSE ? m.close_code : -1;
        wsc_msg_clear(&m);
        if (code >= 0)
            return code;
    }
}

bool wsc_wait_eof(wsc *c, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;

    c->rx_len = 0;
    while (!c->eof) {
        if (fill(c, deadline) == 0 && remaining(deadline) == 0)
            return false;
        c->rx_len = 0;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Parley */

int pc_send(wsc *c, const Parley__Frame *f)
{
    size_t n = parley__frame__get_packed_size(f);
    uint8_t *buf = malloc(n ? n : 1);
    int rc;

    if (buf == NULL)
        return -1;
    parley__frame__pack(f, buf);
    rc = wsc_send_binary(c, buf, n);
    free(buf);
    return rc;
}

Parley__Frame *pc_recv(wsc *c, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;

    c->last = WSC_OK;
    c->last_close = 0;
    for (;;) {
        struct wsc_msg m;
        enum wsc_result r = wsc_recv(c, remaining(deadline), &m);
        Parley__Frame *f;

        if (r != WSC_OK) {
            c->last = r;
            return NULL;
        }
        if (m.opcode == WSC_OP_PING || m.opcode == WSC_OP_PONG) {
            wsc_msg_clear(&m);
            continue;
        }
        if (m.opcode == WSC_OP_CLOSE) {
            c->last = WSC_EOF;
            c->last_close = m.close_code;
            wsc_msg_clear(&m);
            return NULL;
        }
        if (m.opcode != WSC_OP_BINARY || !m.fin) {
            c->last = WSC_ERROR;
            wsc_msg_clear(&m);
            return NULL;
        }
        f = parley__frame__unpack(NULL, m.len, m.payload);
        wsc_msg_clear(&m);
        if (f == NULL)
            c->last = WSC_ERROR;
        return f;
    }
}

int pc_read_hello(wsc *c, uint8_t nonce[32], uint8_t relay_key[32])
{
    Parley__Frame *f = pc_recv(c, 5000);
    int rc = -1;

    if (f != NULL && f->kind_case == PARLEY__FRAME__KIND_HELLO && f->hello->nonce.len == 32 &&
        f->hello->relay_key.len == 32) {
        memcpy(nonce, f->hello->nonce.data, 32);
        memcpy(relay_key, f->hello->relay_key.data, 32);
        rc = 0;
    }
    if (f != NULL)
        parley__frame__free_unpacked(f, NULL);
    return rc;
}

int pc_build_auth(const parley_identity *id, const uint8_t nonce[32], const uint8_t relay_key[32],
                  const uint8_t *cert, size_t cert_len, uint8_t **out, size_t *out_len)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Auth a = PARLEY__AUTH__INIT;
    Parley__AgentCert *ac = NULL;
    uint8_t msg[96], sig[64];
    int rc = -1;

    memcpy(msg, nonce, 32);
    memcpy(msg + 32, relay_key, 32);
    memcpy(msg + 64, parley_identity_sign_pk(id), 32);
    if (parley_identity_sign(id, "relay-auth", msg, sizeof(msg), sig) != PARLEY_OK)
        goto fail;
    a.sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(id)};
    a.signature = (ProtobufCBinaryData){64, sig};
    if (cert != NULL) {
        ac = parley__agent_cert__unpack(NULL, cert_len, cert);
        if (ac == NULL)
            goto fail;
        a.cert = ac;
    }
    f.kind_case = PARLEY__FRAME__KIND_AUTH;
    f.auth = &a;
    *out_len = parley__frame__get_packed_size(&f);
    *out = malloc(*out_len);
    if (*out == NULL)
        goto fail;
    parley__frame__pack(&f, *out);
    rc = 0;
fail:
    if (ac != NULL)
        parley__agent_cert__free_unpacked(ac, NULL);
    return rc;
}

Parley__Frame *pc_auth(wsc *c, const parley_identity *id, const uint8_t *cert, size_t cert_len,
                       int timeout_ms)
{
    uint8_t nonce[32], relay_key[32], *auth = NULL;
    size_t auth_len = 0;
    Parley__Frame *f = NULL;

    if (pc_read_hello(c, nonce, relay_key) != 0 ||
        pc_build_auth(id, nonce, relay_key, cert, cert_len, &auth, &auth_len) != 0)
        goto fail;
    if (wsc_send_binary(c, auth, auth_len) != 0)
        goto fail;
    f = pc_recv(c, timeout_ms);
fail:
    free(auth);
    return f;
}

wsc *pc_connect(uint16_t port, const parley_identity *id, const uint8_t *cert, size_t cert_len)
{
    wsc *c = wsc_open(port);
    Parley__Frame *f;
    uint8_t routing[32];
    bool ok;

    if (c == NULL)
        return NULL;
    f = pc_auth(c, id, cert, cert_len, 5000);
    parley_routing_id(parley_identity_sign_pk(id),
                      cert != NULL ? PARLEY_ROUTING_AGENT : PARLEY_ROUTING_CUSTOMER, routing);
    ok = f != NULL && f->kind_case == PARLEY__FRAME__KIND_AUTH_OK &&
         f->auth_ok->routing_id.len == 32 &&
         memcmp(f->auth_ok->routing_id.data, routing, 32) == 0 &&
         f->auth_ok->agent == (cert != NULL);
    if (f != NULL)
        parley__frame__free_unpacked(f, NULL);
    /* An agent is then sent its brand's directory, before anything stored. */
    if (ok && cert != NULL) {
        f = pc_recv(c, 5000);
        ok = f != NULL && f->kind_case == PARLEY__FRAME__KIND_DIRECTORY_RESULT;
        if (f != NULL)
            parley__frame__free_unpacked(f, NULL);
    }
    if (!ok) {
        wsc_free(c);
        return NULL;
    }
    return c;
}

int pc_pack_envelope(const uint8_t envelope_id[16], const uint8_t conversation_id[16],
                     const uint8_t recipient[32], const uint8_t *sealed, size_t sealed_len,
                     uint8_t **out, size_t *out_len)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Envelope e = PARLEY__ENVELOPE__INIT;

    e.envelope_id = (ProtobufCBinaryData){16, (uint8_t *)envelope_id};
    e.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)conversation_id};
    e.recipient = (ProtobufCBinaryData){32, (uint8_t *)recipient};
    e.sealed = (ProtobufCBinaryData){sealed_len, (uint8_t *)sealed};
    f.kind_case = PARLEY__FRAME__KIND_SEND;
    f.send = &e;
    *out_len = parley__frame__get_packed_size(&f);
    *out = malloc(*out_len);
    if (*out == NULL)
        return -1;
    parley__frame__pack(&f, *out);
    return 0;
}

int pc_send_envelope(wsc *c, const uint8_t envelope_id[16], const uint8_t conversation_id[16],
                     const uint8_t recipient[32], const uint8_t *sealed, size_t sealed_len)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = -1;

    if (pc_pack_envelope(envelope_id, conversation_id, recipient, sealed, sealed_len, &buf,
                         &len) == 0)
        rc = wsc_send_binary(c, buf, len);
    free(buf);
    return rc;
}

int pc_send_delivered(wsc *c, const uint8_t (*ids)[16], size_t n)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Delivered d = PARLEY__DELIVERED__INIT;
    ProtobufCBinaryData *list = calloc(n ? n : 1, sizeof(*list));
    int rc;

    if (list == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        list[i] = (ProtobufCBinaryData){16, (uint8_t *)ids[i]};
    d.envelope_ids = list;
    d.n_envelope_ids = n;
    f.kind_case = PARLEY__FRAME__KIND_DELIVERED;
    f.delivered = &d;
    rc = pc_send(c, &f);
    free(list);
    return rc;
}

int pc_send_publish(wsc *c, const uint8_t *dir, size_t len)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryPublish p = PARLEY__DIRECTORY_PUBLISH__INIT;
    int rc;

    p.directory = parley__directory__unpack(NULL, len, dir);
    if (p.directory == NULL)
        return -1;
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_PUBLISH;
    f.directory_publish = &p;
    rc = pc_send(c, &f);
    parley__directory__free_unpacked(p.directory, NULL);
    return rc;
}

int pc_send_fetch(wsc *c, const char *brand_id)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__DirectoryFetch df = PARLEY__DIRECTORY_FETCH__INIT;

    df.brand_id = (char *)brand_id;
    f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_FETCH;
    f.directory_fetch = &df;
    return pc_send(c, &f);
}

int pc_send_prekeys(wsc *c, uint8_t *const *keys, const size_t *lens, size_t n, bool replace)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__PrekeyPublish p = PARLEY__PREKEY_PUBLISH__INIT;
    Parley__Prekey **list = calloc(n + 1, sizeof(*list));
    int rc = -1;

    if (list == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((list[i] = parley__prekey__unpack(NULL, lens[i], keys[i])) == NULL)
            goto done;
    p.prekeys = list;
    p.n_prekeys = n;
    p.replace = replace;
    f.kind_case = PARLEY__FRAME__KIND_PREKEY_PUBLISH;
    f.prekey_publish = &p;
    rc = pc_send(c, &f);
done:
    for (size_t i = 0; i < n; i++)
        if (list[i] != NULL)
            parley__prekey__free_unpacked(list[i], NULL);
    free(list);
    return rc;
}

int pc_send_prekey_fetch(wsc *c, const uint8_t owner_sign_pk[32])
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__PrekeyFetch pf = PARLEY__PREKEY_FETCH__INIT;

    pf.owner_sign_key = (ProtobufCBinaryData){32, (uint8_t *)owner_sign_pk};
    f.kind_case = PARLEY__FRAME__KIND_PREKEY_FETCH;
    f.prekey_fetch = &pf;
    return pc_send(c, &f);
}

uint8_t *pc_erase_frame(const parley_identity *signer, const parley_identity *named,
                        const uint8_t (*convs)[16], const uint8_t (*salts)[16], size_t n,
                        size_t *len)
{
    Parley__ErasureRequestBody body = PARLEY__ERASURE_REQUEST_BODY__INIT;
    Parley__ErasureRequest req = PARLEY__ERASURE_REQUEST__INIT;
    Parley__Frame f = PARLEY__FRAME__INIT;
    ProtobufCBinaryData *ids = calloc(2 * n + 1, sizeof(*ids));
    uint8_t *b = NULL, *out = NULL, sig[64];
    size_t blen;

    if (ids == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        ids[i] = (ProtobufCBinaryData){16, (uint8_t *)convs[i]};
        if (salts != NULL)
            ids[n + i] = (ProtobufCBinaryData){16, (uint8_t *)salts[i]};
    }
    if (salts != NULL) {
        body.conversation_salts = ids + n;
        body.n_conversation_salts = n;
    }
    body.brand_id = (char *)"acme";
    body.customer_sign_key =
        (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(named)};
    body.time_ms = 1;
    body.conversation_ids = ids;
    body.n_conversation_ids = n;
    blen = parley__erasure_request_body__get_packed_size(&body);
    b = malloc(blen ? blen : 1);
    if (b == NULL)
        goto done;
    parley__erasure_request_body__pack(&body, b);
    /* The library keeps this domain to itself; the tests sign as it does. */
    if (parley__sign_raw(signer->secret->sign_sk, PARLEY__DOMAIN_ERASURE, b, blen, sig) !=
        PARLEY_OK)
        goto done;
    req.body = (ProtobufCBinaryData){blen, b};
    req.signature = (ProtobufCBinaryData){64, sig};
    f.kind_case = PARLEY__FRAME__KIND_ERASE;
    f.erase = &req;
    *len = parley__frame__get_packed_size(&f);
    if ((out = malloc(*len)) != NULL)
        parley__frame__pack(&f, out);
done:
    free(b);
    free(ids);
    return out;
}

int pc_send_erase(wsc *c, const parley_identity *id, const uint8_t (*convs)[16],
                  const uint8_t (*salts)[16], size_t n)
{
    size_t len;
    uint8_t *frame = pc_erase_frame(id, id, convs, salts, n, &len);
    int rc = frame != NULL ? wsc_send_binary(c, frame, len) : -1;

    free(frame);
    return rc;
}
