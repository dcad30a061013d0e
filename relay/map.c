/*
 * Chained hash map with doubling. Small and predictable: the relay keeps
 * one entry per online connection, per recipient with stored envelopes
 * and per client address.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "map.h"

#define SPARE_MAX 64

/* A removed entry: kept for the next put, or freed. */
static void retire(struct map *m, struct map_entry *e)
{
    if (m->n_spare == SPARE_MAX) {
        free(e);
        return;
    }
    e->next = m->spare;
    m->spare = e;
    m->n_spare++;
}

static size_t slot(const struct map *m, const uint8_t key[32])
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;

    crypto_shorthash(h, key, 32, m->hash_key);
    memcpy(&v, h, sizeof(v));
    return (size_t)(v & (m->n_buckets - 1));
}

int map_init(struct map *m)
{
    memset(m, 0, sizeof(*m));
    m->n_buckets = 256;
    m->buckets = calloc(m->n_buckets, sizeof(*m->buckets));
    randombytes_buf(m->hash_key, sizeof(m->hash_key));
    return m->buckets != NULL ? 0 : -1;
}

void map_free(struct map *m)
{
    for (size_t i = 0; m->buckets != NULL && i < m->n_buckets; i++) {
        struct map_entry *e = m->buckets[i];
        while (e != NULL) {
            struct map_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    while (m->spare != NULL) {
        struct map_entry *next = m->spare->next;
        free(m->spare);
        m->spare = next;
    }
    free(m->buckets);
    memset(m, 0, sizeof(*m));
}

struct map_entry *map_get(const struct map *m, const uint8_t key[32])
{
    for (struct map_entry *e = m->buckets[slot(m, key)]; e != NULL; e = e->next)
        if (memcmp(e->key, key, 32) == 0)
            return e;
    return NULL;
}

static void grow(struct map *m)
{
    size_t n = m->n_buckets * 2;
    struct map_entry **b = calloc(n, sizeof(*b));
    struct map old = *m;

    if (b == NULL)
        return; /* stay at the current size: slower, still correct */
    m->buckets = b;
    m->n_buckets = n;
    for (size_t i = 0; i < old.n_buckets; i++) {
        struct map_entry *e = old.buckets[i];
        while (e != NULL) {
            struct map_entry *next = e->next;
            size_t s = slot(m, e->key);
            e->next = b[s];
            b[s] = e;
            e = next;
        }
    }
    free(old.buckets);
}

struct map_entry *map_put(struct map *m, const uint8_t key[32])
{
    struct map_entry *e = map_get(m, key);
    size_t s;

    if (e != NULL)
        return e;
    if (m->count >= m->n_buckets)
        grow(m);
    if (m->spare != NULL) {
        e = m->spare;
        m->spare = e->next;
        m->n_spare--;
        memset(e, 0, sizeof(*e));
    } else if ((e = calloc(1, sizeof(*e))) == NULL) {
        return NULL;
    }
    memcpy(e->key, key, 32);
    s = slot(m, key);
    e->next = m->buckets[s];
    m->buckets[s] = e;
    m->count++;
    return e;
}

void map_del(struct map *m, const uint8_t key[32])
{
    struct map_entry **pp = &m->buckets[slot(m, key)];

    for (; *pp != NULL; pp = &(*pp)->next)
        if (memcmp((*pp)->key, key, 32) == 0) {
            struct map_entry *e = *pp;
            *pp = e->next;
            retire(m, e);
            m->count--;
            return;
        }
}

void map_sweep(struct map *m, bool (*fn)(struct map_entry *e, void *arg), void *arg)
{
    for (size_t i = 0; i < m->n_buckets; i++)
        for (struct map_entry **pp = &m->buckets[i]; *pp != NULL;) {
            struct map_entry *e = *pp;
            if (fn(e, arg)) {
                *pp = e->next;
                retire(m, e);
                m->count--;
            } else {
                pp = &e->next;
            }
        }
}
