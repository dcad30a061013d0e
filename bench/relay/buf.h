/*
 * Growable byte buffers for the load generator's sockets: bytes are
 * appended at the end and consumed from the front, and the consumed part is
 * reclaimed lazily so a steady stream costs no memmove per message.
 */
#ifndef BENCH_RELAY_BUF_H
#define BENCH_RELAY_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
    uint8_t *p;
    size_t off; /* first unconsumed byte */
    size_t len; /* end of the data (absolute index into p) */
    size_t cap;
};

/* Bytes waiting to be consumed, and where they start. */
static inline size_t buf_used(const struct buf *b) { return b->len - b->off; }
static inline uint8_t *buf_data(const struct buf *b) { return b->p + b->off; }

/*
 * Makes room for n more bytes at the end and returns where they go; the
 * caller then commits what it wrote with buf_commit(). NULL when memory
 * runs out or the buffer would exceed the hard limit (BUF_MAX).
 */
uint8_t *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *data, size_t n);
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

#define BUF_MAX (64u * 1024u * 1024u)

#endif
