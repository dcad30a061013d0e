/*
 * Buffers of one size kept for reuse (loop thread only). A busy relay
 * takes the buffers a message needs (a connection's output queue, its
 * delivery window, an envelope's sealed bytes, the decoding of a frame)
 * from here and gives them back, instead of allocating and freeing them
 * per message; at most a bounded number are kept, so an idle relay
 * holds little, and an idle connection none.
 */
#ifndef RELAY_POOL_H
#define RELAY_POOL_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct pool {
    void **free;                  /* buffers kept, each of size bytes */
    size_t n, max;
    size_t size;
};

/* Sets the pool up for buffers of size bytes, keeping at most max (none allocated yet). */
void pool_init(struct pool *p, size_t size, size_t max);
/* A buffer of p->size bytes (not zeroed), or NULL when out of memory. */
void *pool_get(struct pool *p);
/* Gives b (from pool_get, or malloc'd with p->size bytes) back; NULL: no-op. */
void pool_put(struct pool *p, void *b);
/* Frees every buffer kept. */
void pool_free(struct pool *p);

/*
 * Memory for decoding one frame at a time: protobuf-c's allocations come
 * from one buffer, all given back at once by arena_reset. What does not
 * fit is allocated (and freed) as usual.
 */
struct arena {
    ProtobufCAllocator allocator; /* pass &arena.allocator to the unpack call */
    unsigned char *buf;
    size_t cap, used;
};

int arena_init(struct arena *a, size_t cap);
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
