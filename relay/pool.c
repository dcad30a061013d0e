/* Buffer pools and the frame-decoding arena (see pool.h). */
#include <stdint.h>
#include <stdlib.h>

#include "pool.h"

void pool_init(struct pool *p, size_t size, size_t max)
{
    p->free = NULL;
    p->n = 0;
    p->max = max;
    p->size = size;
}

void *pool_get(struct pool *p)
{
    return p->n > 0 ? p->free[--p->n] : malloc(p->size);
}

void pool_put(struct pool *p, void *b)
{
    if (b == NULL)
        return;
    if (p->free == NULL && p->max > 0)
        p->free = malloc(p->max * sizeof(*p->free));
    if (p->free == NULL || p->n == p->max) {
        free(b);
        return;
    }
    p->free[p->n++] = b;
}

void pool_free(struct pool *p)
{
    while (p->n > 0)
        free(p->free[--p->n]);
    free(p->free);
    p->free = NULL;
}

#define ARENA_ALIGN 16u

static void *arena_alloc(void *data, size_t size)
{
    struct arena *a = data;
    size_t at = (a->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

    if (size <= a->cap && at <= a->cap - size) {
        a->used = at + size;
        return a->buf + at;
    }
    return malloc(size);
}

static void arena_release(void *data, void *ptr)
{
    struct arena *a = data;
    unsigned char *p = ptr;

    if (p != NULL && (p < a->buf || p >= a->buf + a->cap))
        free(ptr); /* did not fit: allocated on its own */
}

int arena_init(struct arena *a, size_t cap)
{
    a->buf = malloc(cap);
    a->cap = a->buf != NULL ? cap : 0;
    a->used = 0;
    a->allocator.alloc = arena_alloc;
    a->allocator.free = arena_release;
    a->allocator.allocator_data = a;
    return a->buf != NULL ? 0 : -1;
}

void arena_reset(struct arena *a)
{
    a->used = 0;
}

void arena_free(struct arena *a)
{
    free(a->buf);
    a->buf = NULL;
    a->cap = a->used = 0;
}
