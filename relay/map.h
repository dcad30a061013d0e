/*
 * A hash map from 32-byte keys (routing ids, client addresses) to small
 * records, hashed with SipHash under a random key so clients cannot
 * choose colliding keys.
 */
#ifndef RELAY_MAP_H
#define RELAY_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct map_entry {
    struct map_entry *next;
    uint8_t key[32];
    void *ptr;          /* user data */
    uint64_t a, b;      /* user counters */
};

struct map {
    struct map_entry **buckets;
    size_t n_buckets, count;
    uint8_t hash_key[16];
    struct map_entry *spare;   /* removed entries kept for reuse (a few): no allocation per put */
    size_t n_spare;
};

int map_init(struct map *m);
void map_free(struct map *m);
struct map_entry *map_get(const struct map *m, const uint8_t key[32]);
/* Returns the existing entry or a new zeroed one; NULL on allocation failure. */
struct map_entry *map_put(struct map *m, const uint8_t key[32]);
void map_del(struct map *m, const uint8_t key[32]);
/*
 * Calls fn on every entry; an entry for which fn returns true is removed
 * (fn has released what its ptr held). fn must not change m otherwise.
 */
void map_sweep(struct map *m, bool (*fn)(struct map_entry *e, void *arg), void *arg);

#endif
