/*
 * relay/map.c on its own: the hash map behind the relay's per-connection,
 * per-recipient and per-address records. Entries are found, replaced and
 * deleted exactly, survive every doubling, keys that differ in one bit
 * stay apart, and chains stay short even for keys a client chose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "map.h"

static void key_of(uint32_t i, uint8_t k[32])
{
    memset(k, 0, 32);
    memcpy(k, &i, sizeof(i));
}

static size_t longest_chain(const struct map *m)
{
    size_t longest = 0;

    for (size_t b = 0; b < m->n_buckets; b++) {
        size_t n = 0;
        for (const struct map_entry *e = m->buckets[b]; e != NULL; e = e->next)
            n++;
        if (n > longest)
            longest = n;
    }
    return longest;
}

static void test_put_get_del(void)
{
    struct map m;
    uint8_t a[32], b[32];
    struct map_entry *e;

    CHECK(map_init(&m) == 0 && m.count == 0);
    key_of(1, a);
    key_of(2, b);
    CHECK(map_get(&m, a) == NULL);
    e = map_put(&m, a);
    CHECK(e != NULL && e->ptr == NULL && e->a == 0 && e->b == 0 && memcmp(e->key, a, 32) == 0);
    e->a = 41;
    /* Putting a key that is there gives the same entry, untouched. */
    CHECK(map_put(&m, a) == e && e->a == 41 && m.count == 1);
    CHECK(map_get(&m, a) == e && map_get(&m, b) == NULL);
    map_del(&m, b); /* absent: nothing happens */
    CHECK(m.count == 1 && map_get(&m, a) == e);
    map_del(&m, a);
    CHECK(m.count == 0 && map_get(&m, a) == NULL);
    map_del(&m, a);
    CHECK(m.count == 0);
    e = map_put(&m, a);
    CHECK(e != NULL && e->a == 0); /* a new entry starts zeroed */
    map_free(&m);
    CHECK(m.buckets == NULL && m.count == 0);
    map_free(&m); /* twice: still nothing to free */
}

/* 100,000 entries through eight doublings: each found with its own value; half deleted. */
static void test_growth_keeps_every_entry(void)
{
    struct map m;
    uint8_t k[32];
    const uint32_t n = 100000;

    CHECK(map_init(&m) == 0);
    for (uint32_t i = 0; i < n; i++) {
        struct map_entry *e;
        key_of(i, k);
        e = map_put(&m, k);
        CHECK(e != NULL);
        e->a = i;
        e->b = ~(uint64_t)i;
    }
    CHECK(m.count == n && m.n_buckets >= n);
    CHECK((m.n_buckets & (m.n_buckets - 1)) == 0);
    for (uint32_t i = 0; i < n; i++) {
        struct map_entry *e;
        key_of(i, k);
        e = map_get(&m, k);
        CHECK(e != NULL && e->a == i && e->b == ~(uint64_t)i);
    }
    for (uint32_t i = 0; i < n; i += 2) {
        key_of(i, k);
        map_del(&m, k);
    }
    CHECK(m.count == n / 2);
    for (uint32_t i = 0; i < n; i++) {
        key_of(i, k);
        CHECK((map_get(&m, k) != NULL) == (i % 2 == 1));
    }
    map_free(&m);
}

/* Keys one bit apart, in every bit position, are distinct entries. */
static void test_one_bit_apart(void)
{
    struct map m;
    uint8_t k[32];

    CHECK(map_init(&m) == 0);
    memset(k, 0, 32);
    CHECK(map_put(&m, k) != NULL);
    for (int bit = 0; bit < 256; bit++) {
        struct map_entry *e;
        memset(k, 0, 32);
        k[bit / 8] = (uint8_t)(1u << (bit % 8));
        e = map_put(&m, k);
        CHECK(e != NULL && e->a == 0);
        e->a = (uint64_t)bit + 1;
    }
    CHECK(m.count == 257);
    for (int bit = 0; bit < 256; bit++) {
        memset(k, 0, 32);
        k[bit / 8] = (uint8_t)(1u << (bit % 8));
        CHECK(map_get(&m, k)->a == (uint64_t)bit + 1);
    }
    memset(k, 0, 32);
    CHECK(map_get(&m, k)->a == 0);
    map_free(&m);
}

/*
 * Keys a client could pick to share their low bits (all equal but the
 * last bytes, or equal in the first eight) still spread: with a keyed
 * hash, 65,536 of them end in chains of a handful, never in one list.
 */
static void test_chosen_keys_spread(void)
{
    struct map m;
    uint8_t k[32];

    CHECK(map_init(&m) == 0);
    for (uint32_t i = 0; i < 65536; i++) {
        memset(k, 0xab, 32);
        k[30] = (uint8_t)(i >> 8);
        k[31] = (uint8_t)i;
        CHECK(map_put(&m, k) != NULL);
    }
    CHECK(longest_chain(&m) <= 16);
    map_free(&m);
    /* Two maps hash the same keys differently: the hash key is random per map. */
    {
        struct map m1, m2;
        CHECK(map_init(&m1) == 0 && map_init(&m2) == 0);
        CHECK(sodium_memcmp(m1.hash_key, m2.hash_key, sizeof(m1.hash_key)) != 0);
        map_free(&m1);
        map_free(&m2);
    }
}

int main(void)
{
    CHECK(sodium_init() >= 0);
    test_put_get_del();
    test_growth_keeps_every_entry();
    test_one_bit_apart();
    test_chosen_keys_spread();
    printf("relay map: ok\n");
    return 0;
}
