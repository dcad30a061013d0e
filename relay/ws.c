/*
 * WebSocket server-side parsing (RFC 6455) over plain buffers. The relay
 * does this itself, on libwebsockets raw sockets, because the library's
 * own parser accepts unmasked client frames, does not cap message sizes
 * and waits forever on a frame that declares a length it never sends.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <libwebsockets.h>

#include "ws.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* Case-insensitive search for a comma-separated token in a header value. */
static bool has_token(const char *value, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = value;

    while (*p != '\0') {
        const char *end;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        end = p;
        while (*end != '\0' && *end != ',')
            end++;
        {
            const char *e = end;
            while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if ((size_t)(e - p) == tlen && strncasecmp(p, token, tlen) == 0)
                return true;
        }
        p = end;
    }
    return false;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* One mark into a combined Accept-Encoding state: a refusal (-1) stays. */
static void coding_mark(signed char *state, int weight)
{
    if (*state == 0 || weight < 0)
        *state = (signed char)weight;
}

/*
 * The weight of an Accept-Encoding element after its coding, p to end
 * (RFC 9110 12.4.2): 1 for none or a q above zero, -1 for q=0 or
 * anything else (another parameter, a malformed q), which is not
 * understood and so never taken as consent to an encoding.
 */
static int coding_weight(const char *p, const char *end)
{
    bool zero = true;
    const char *digits;

    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end)
        return 1;
    if (*p++ != ';')
        return -1;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (end - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=' || (p[2] != '0' && p[2] != '1'))
        return -1;
    zero = p[2] == '0';
    p += 3;
    if (p < end && *p == '.') {
        for (digits = ++p; p < end && p - digits < 3 && *p >= '0' && *p <= '9'; p++)
            if (*p != '0') {
                if (!zero)
                    return -1; /* "1.5": over 1 */
                zero = false;
            }
    }
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p == end ? (zero ? -1 : 1) : -1;
}

/* Reads one Accept-Encoding header (v, n bytes, never cut) into r's gzip state. */
static void accept_encoding(struct http_request *r, const char *v, size_t n)
{
    const char *end = v + n;

    for (const char *p = v; p < end;) {
        const char *e = memchr(p, ',', (size_t)(end - p)), *c;
        size_t clen;

        if (e == NULL)
            e = end;
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        for (c = p; c < e && *c != ';' && *c != ' ' && *c != '\t'; c++)
            ;
        clen = (size_t)(c - p);
        if ((clen == 4 && strncasecmp(p, "gzip", 4) == 0) ||
            (clen == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            coding_mark(&r->gzip, coding_weight(c, e));
        else if (clen == 1 && *p == '*')
            coding_mark(&r->any_coding, coding_weight(c, e));
        p = e < end ? e + 1 : end;
    }
}

bool http_accepts_gzip(const struct http_request *r)
{
    return r->gzip > 0 || (r->gzip == 0 && r->any_coding > 0);
}

static void header_field(struct http_request *r, const char *name, size_t nlen, const char *v,
                         size_t vlen)
{
    char value[512];

    copy_value(value, sizeof(value), v, vlen);
    /*
     * Upgrade and Connection are lists: repeated, their tokens add up
     * (RFC 7230 3.2.2). The key and the version must appear once (RFC
     * 6455 11.3.1, 11.3.5): a second one makes the handshake invalid.
     */
    if (nlen == 7 && strncasecmp(name, "upgrade", 7) == 0)
        r->upgrade_websocket = r->upgrade_websocket || has_token(value, "websocket");
    else if (nlen == 10 && strncasecmp(name, "connection", 10) == 0)
        r->connection_upgrade = r->connection_upgrade || has_token(value, "upgrade");
    else if (nlen == 21 && strncasecmp(name, "sec-websocket-version", 21) == 0)
        r->version = r->version == 0 && strcmp(value, "13") == 0 ? 13 : -1;
    else if (nlen == 17 && strncasecmp(name, "sec-websocket-key", 17) == 0) {
        r->key_count++;
        copy_value(r->key, sizeof(r->key), v, vlen < sizeof(r->key) ? vlen : 0);
    } else if (nlen == 22 && strncasecmp(name, "sec-websocket-protocol", 22) == 0) {
        r->has_protocol = true;
        r->protocol_ok = r->protocol_ok || has_token(value, WS_SUBPROTOCOL);
    } else if (nlen == 6 && strncasecmp(name, "origin", 6) == 0) {
        r->has_origin = true;
        copy_value(r->origin, sizeof(r->origin), v, vlen);
    } else if (nlen == 13 && strncasecmp(name, "if-none-match", 13) == 0) {
        /* Too long to be one of ours: as if absent (the file is sent whole). */
        copy_value(r->if_none_match, sizeof(r->if_none_match), v,
                   vlen < sizeof(r->if_none_match) ? vlen : 0);
    } else if (nlen == 15 && strncasecmp(name, "accept-encoding", 15) == 0) {
        accept_encoding(r, v, vlen); /* read whole: a cut "gzip;q=0" would read as "gzip" */
    }
}

long http_parse_request(const uint8_t *buf, size_t len, struct http_request *r)
{
    const char *s = (const char *)buf;
    const char *end = NULL, *line, *eol, *sp1, *sp2;
    size_t scan = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;

    for (size_t i = 3; i < scan; i++)
        if (memcmp(s + i - 3, "\r\n\r\n", 4) == 0) {
            end = s + i + 1;
            break;
        }
    if (end == NULL)
        return len >= HTTP_HEAD_MAX ? -1 : 0;
    memset(r, 0, sizeof(*r));
    for (const char *p = s; p < end; p++)
        if (*p == '\0')
            return -1;
    /* Request line: METHOD SP PATH SP HTTP/1.x CRLF */
    eol = memchr(s, '\r', (size_t)(end - s));
    sp1 = memchr(s, ' ', (size_t)(eol - s));
    if (sp1 == NULL || sp1 == s || (size_t)(sp1 - s) >= sizeof(r->method))
        return -1;
    sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    if (sp2 == NULL || sp2 == sp1 + 1 || (size_t)(sp2 - sp1 - 1) >= sizeof(r->path) ||
        (size_t)(eol - sp2 - 1) != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return -1;
    copy_value(r->method, sizeof(r->method), s, (size_t)(sp1 - s));
    copy_value(r->path, sizeof(r->path), sp1 + 1, (size_t)(sp2 - sp1 - 1));
    for (line = eol + 2; line < end - 2; line = eol + 2) {
        const char *colon, *v, *ve;

        eol = memchr(line, '\r', (size_t)(end - line));
        if (eol == NULL || eol[1] != '\n')
            return -1;
        colon = memchr(line, ':', (size_t)(eol - line));
        if (colon == NULL || colon == line)
            return -1;
        for (const char *c = line; c < colon; c++)
            if (!isgraph((unsigned char)*c))
                return -1;
        v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        ve = eol;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        header_field(r, line, (size_t)(colon - line), v, (size_t)(ve - v));
    }
    return (long)(end - s);
}

bool http_is_upgrade(const struct http_request *r)
{
    return strcmp(r->method, "GET") == 0 && r->upgrade_websocket && r->connection_upgrade &&
           r->version == 13 && r->key_count == 1 && r->key[0] != '\0';
}

bool http_wants_upgrade(const struct http_request *r)
{
    return r->upgrade_websocket || r->key_count > 0 || r->version != 0 || r->has_protocol;
}

const char *http_reason(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

size_t http_format_head(char *out, size_t cap, int status, const char *ctype, int64_t length,
                        const char *extra)
{
    char type[160] = "", size[48] = "";
    int n;

    if (ctype != NULL)
        snprintf(type, sizeof(type), "Content-Type: %s\r\n", ctype);
    if (length >= 0)
        snprintf(size, sizeof(size), "Content-Length: %lld\r\n", (long long)length);
    n = snprintf(out, cap, "HTTP/1.1 %d %s\r\n%s%sConnection: close\r\n%s\r\n", status,
                 http_reason(status), type, size, extra != NULL ? extra : "");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

void ws_accept_key(const char *key, char out[32])
{
    unsigned char digest[20];
    char joined[128];
    int n = snprintf(joined, sizeof(joined), "%s%s", key, ws_guid);

    if (n < 0 || (size_t)n >= sizeof(joined))
        n = 0;
    lws_SHA1((const unsigned char *)joined, (size_t)n, digest);
    lws_b64_encode_string((const char *)digest, 20, out, 32);
}

int ws_parse_header(const uint8_t *b, size_t avail, struct ws_header *h)
{
    size_t need = 2;
    uint64_t len;

    if (avail < 2)
        return 0;
    h->fin = (b[0] & 0x80) != 0;
    h->rsv = (uint8_t)((b[0] >> 4) & 0x7);
    h->opcode = b[0] & 0x0f;
    h->masked = (b[1] & 0x80) != 0;
    len = b[1] & 0x7f;
    if (len == 126)
        need += 2;
    else if (len == 127)
        need += 8;
    if (h->masked)
        need += 4;
    if (avail < need)
        return 0;
    if (len == 126) {
        len = ((uint64_t)b[2] << 8) | b[3];
        if (len < 126)
            return -1; /* not the minimal encoding */
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | b[2 + i];
        if (len >> 63 || len <= 0xffff)
            return -1;
    }
    h->len = len;
    if (h->masked)
        memcpy(h->mask, b + need - 4, 4);
    h->size = need;
    return (int)need;
}

void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t off)
{
    size_t i = 0;

    /* Word at a time once aligned to the mask phase. */
    while (i < n && ((off + i) & 3) != 0) {
        p[i] ^= mask[(off + i) & 3];
        i++;
    }
    if (n - i >= 8) {
        uint64_t m;
        uint8_t mm[8];
        for (int k = 0; k < 8; k++)
            mm[k] = mask[k & 3];
        memcpy(&m, mm, 8);
        for (; n - i >= 8; i += 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            w ^= m;
            memcpy(p + i, &w, 8);
        }
    }
    for (; i < n; i++)
        p[i] ^= mask[(off + i) & 3];
}

size_t ws_write_header(uint8_t *out, uint8_t opcode, uint64_t len)
{
    out[0] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}
