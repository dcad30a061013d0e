/*
 * Fuzz target: a stream of WebSocket frames as a client sends them
 * (relay/ws.c: ws_parse_header(), ws_unmask()), read the way the relay
 * reads them: a header, then its payload once all of it is there. Checks
 * that every header is in its shortest encoding, that any shorter prefix
 * only asks for more, that the relay's own header for the same length
 * reads back the same, and that unmasking in pieces equals unmasking at
 * once and undoes itself.
 */
#include <string.h>

#include "fuzz.h"
#include "ws.h"

static void check_header(const uint8_t *p, size_t avail, const struct ws_header *h, int hs)
{
    size_t ext = h->len < 126 ? 0 : h->len <= 0xffff ? 2 : 8;
    uint8_t out[WS_MAX_HEADER];
    struct ws_header back, same;
    size_t n;

    FUZZ_ASSERT(hs > 0 && (size_t)hs == h->size && h->size <= avail);
    FUZZ_ASSERT(h->size == 2 + ext + (h->masked ? 4u : 0u));
    FUZZ_ASSERT((h->len >> 63) == 0 && h->rsv <= 7 && h->opcode <= 15);
    FUZZ_ASSERT(!h->masked || memcmp(h->mask, p + h->size - 4, 4) == 0);
    for (size_t k = 0; k < h->size; k++)
        FUZZ_ASSERT(ws_parse_header(p, k, &same) == 0);
    FUZZ_ASSERT(ws_parse_header(p, avail, &same) == hs && same.len == h->len);
    n = ws_write_header(out, h->opcode, h->len);
    FUZZ_ASSERT(n == 2 + ext);
    FUZZ_ASSERT(ws_parse_header(out, n, &back) == (int)n);
    FUZZ_ASSERT(back.len == h->len && back.opcode == h->opcode && back.fin && !back.masked &&
                back.rsv == 0);
}

static void check_unmask(const uint8_t *payload, size_t len, const uint8_t mask[4])
{
    uint8_t *a = malloc(len > 0 ? len : 1), *b = malloc(len > 0 ? len : 1);
    size_t cut = len / 3;

    FUZZ_ASSERT(a != NULL && b != NULL);
    memcpy(a, payload, len);
    memcpy(b, payload, len);
    ws_unmask(a, len, mask, 0);
    ws_unmask(b, cut, mask, 0);
    ws_unmask(b + cut, len - cut, mask, cut);
    FUZZ_ASSERT(memcmp(a, b, len) == 0);
    for (size_t i = 0; i < len; i++)
        FUZZ_ASSERT(a[i] == (payload[i] ^ mask[i & 3]));
    ws_unmask(a, len, mask, 0);
    FUZZ_ASSERT(memcmp(a, payload, len) == 0);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    while (off < size) {
        struct ws_header h;
        int hs = ws_parse_header(data + off, size - off, &h);

        if (hs <= 0) {
            FUZZ_ASSERT(hs == 0 || hs == -1);
            if (hs == 0)
                FUZZ_ASSERT(size - off < WS_MAX_HEADER);
            break;
        }
        check_header(data + off, size - off, &h, hs);
        off += (size_t)hs;
        if (h.len > size - off)
            break; /* the payload is still on its way */
        if (h.masked)
            check_unmask(data + off, (size_t)h.len, h.mask);
        off += (size_t)h.len;
    }
    return 0;
}
