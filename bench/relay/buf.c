/*
 * Growable byte buffers (see buf.h). The load generator keeps three per
 * connection, so empty buffers hold no memory and a drained buffer is reset
 * in place instead of shifting its tail.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

uint8_t *buf_reserve(struct buf *b, size_t n)
{
    if (b->off == b->len) {
        b->off = 0;
        b->len = 0;
    }
    if (n > BUF_MAX || b->len - b->off > BUF_MAX - n)
        return NULL;
    if (b->cap - b->len >= n)
        return b->p + b->len;
    /* Reclaim the consumed front before growing. */
    if (b->off > 0) {
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->cap - b->len >= n)
            return b->p + b->len;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL)
        return NULL;
    b->p = p;
    b->cap = cap;
    return b->p + b->len;
}

void buf_commit(struct buf *b, size_t n) { b->len += n; }

int buf_append(struct buf *b, const void *data, size_t n)
{
    uint8_t *p = buf_reserve(b, n);
    if (p == NULL)
        return -1;
    memcpy(p, data, n);
    b->len += n;
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len) {
        b->off = 0;
        b->len = 0;
    }
}

void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->off = b->len = b->cap = 0;
}
