/*
 * Minimal WebSocket client framing for the load generator (see ws.h). It
 * exists so every broker is driven through the same code path: the same
 * handshake, the same masking cost, the same frame per message.
 */
#include "ws.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

int ws_request(struct buf *out, const char *host, uint16_t port, const char *subprotocol)
{
    uint8_t nonce[16];
    char key[sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_ORIGINAL)];
    char req[512];
    int n;

    randombytes_buf(nonce, sizeof nonce);
    sodium_bin2base64(key, sizeof key, nonce, sizeof nonce, sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(req, sizeof req,
                 "GET / HTTP/1.1\r\n"
                 "Host: %s:%u\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n"
                 "%s%s%s"
                 "\r\n",
                 host, (unsigned)port, key, subprotocol ? "Sec-WebSocket-Protocol: " : "",
                 subprotocol ? subprotocol : "", subprotocol ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof req)
        return -1;
    return buf_append(out, req, (size_t)n);
}

/* Finds header name (case-insensitive) in a NUL-terminated header block. */
static const char *find_header(const char *hdrs, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *line = strstr(hdrs, "\r\n");

    while (line != NULL) {
        line += 2;
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            const char *end = strstr(v, "\r\n");
            if (end == NULL)
                return NULL;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            *vlen = (size_t)(end - v);
            return v;
        }
        line = strstr(line, "\r\n");
    }
    return NULL;
}

long ws_response(const uint8_t *data, size_t len, const char *subprotocol, char *err,
                 size_t errlen)
{
    char hdrs[4096];
    const uint8_t *end = NULL;
    size_t hlen, vlen;
    const char *v;

    for (size_t i = 3; i < len; i++) {
        if (data[i - 3] == '\r' && data[i - 2] == '\n' && data[i - 1] == '\r' && data[i] == '\n') {
            end = data + i + 1;
            break;
        }
    }
    if (end == NULL) {
        if (len >= sizeof hdrs) {
            snprintf(err, errlen, "upgrade response headers too long");
            return -1;
        }
        return 0;
    }
    hlen = (size_t)(end - data);
    if (hlen >= sizeof hdrs) {
        snprintf(err, errlen, "upgrade response headers too long");
        return -1;
    }
    memcpy(hdrs, data, hlen);
    hdrs[hlen] = '\0';
    if (strncmp(hdrs, "HTTP/1.1 101", 12) != 0) {
        const char *eol = strstr(hdrs, "\r\n");
        snprintf(err, errlen, "upgrade refused: %.*s", (int)(eol - hdrs), hdrs);
        return -1;
    }
    if (subprotocol != NULL) {
        v = find_header(hdrs, "Sec-WebSocket-Protocol", &vlen);
        if (v == NULL || vlen != strlen(subprotocol) || strncmp(v, subprotocol, vlen) != 0) {
            snprintf(err, errlen, "server did not select subprotocol %s", subprotocol);
            return -1;
        }
    }
    v = find_header(hdrs, "Sec-WebSocket-Extensions", &vlen);
    if (v != NULL && vlen > 0) {
        snprintf(err, errlen, "server enabled an extension: %.*s", (int)vlen, v);
        return -1;
    }
    return (long)hlen;
}

uint8_t *ws_frame_begin(struct buf *out, uint8_t opcode, size_t len, uint32_t mask)
{
    uint8_t *h = buf_reserve(out, len + 14);
    size_t n = 0;

    if (h == NULL)
        return NULL;
    h[n++] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        h[n++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        h[n++] = 0x80 | 126;
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else {
        h[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            h[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(h + n, &mask, 4);
    n += 4;
    buf_commit(out, n + len);
    return h + n;
}

void ws_frame_end(uint8_t *payload, size_t len)
{
    uint8_t key[4];
    uint64_t k8;
    size_t i = 0;

    memcpy(key, payload - 4, 4);
    for (int j = 0; j < 8; j++)
        ((uint8_t *)&k8)[j] = key[j & 3];
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, payload + i, 8);
        w ^= k8;
        memcpy(payload + i, &w, 8);
    }
    for (; i < len; i++)
        payload[i] ^= key[i & 3];
}

int ws_frame_parse(const uint8_t *data, size_t len, struct ws_frame *f)
{
    size_t n = 2;
    uint64_t plen;

    if (len < 2)
        return 0;
    if (data[0] & 0x70)
        return -1; /* RSV bits: no extension was negotiated */
    if (data[1] & 0x80)
        return -1; /* servers never mask */
    plen = data[1] & 0x7f;
    if (plen == 126) {
        if (len < 4)
            return 0;
        plen = ((uint64_t)data[2] << 8) | data[3];
        n = 4;
    } else if (plen == 127) {
        if (len < 10)
            return 0;
        plen = 0;
        for (int i = 0; i < 8; i++)
            plen = (plen << 8) | data[2 + i];
        n = 10;
    }
    if (plen > WS_MAX_FRAME)
        return -1;
    if (len - n < plen)
        return 0;
    f->opcode = data[0] & 0x0f;
    f->fin = (data[0] & 0x80) != 0;
    f->payload = data + n;
    f->len = (size_t)plen;
    f->total = n + (size_t)plen;
    return 1;
}
