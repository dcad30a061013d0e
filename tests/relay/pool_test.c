/*
 * relay/pool.c on its own, and the reuse of map entries: what the relay
 * takes per message comes back to it. A buffer given back is the next one
 * handed out; a pool keeps no more than its bound; frames decoded in the
 * arena read the same as decoded on the heap, land in the arena when they
 * fit and still decode (on the heap) when they do not; a map's removed
 * entry is reused, zeroed, by its next insertion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "internal.h"
#include "map.h"
#include "pool.h"

static void test_pool_reuses(void)
{
    struct pool p;
    void *a, *b, *again;

    pool_init(&p, 4096, 2);
    a = pool_get(&p);
    b = pool_get(&p);
    CHECK(a != NULL && b != NULL && a != b);
    memset(a, 0xab, 4096);
    pool_put(&p, a);
    again = pool_get(&p);
    CHECK(again == a); /* the buffer just given back, not a new one */
    pool_put(&p, again);
    pool_put(&p, b);
    pool_put(&p, malloc(4096)); /* past the bound: freed, not kept */
    CHECK(p.n == 2);
    pool_put(&p, NULL);
    CHECK(p.n == 2);
    pool_free(&p);
    CHECK(p.n == 0 && p.free == NULL);
}

static bool inside(const struct arena *a, const void *p)
{
    const unsigned char *c = p;
    return c >= a->buf && c < a->buf + a->cap;
}

/* A send frame with sealed bytes of len, packed. */
static uint8_t *send_frame(size_t len, size_t *out_len, uint8_t *sealed)
{
    Parley__Frame f = PARLEY__FRAME__INIT;
    Parley__Envelope env = PARLEY__ENVELOPE__INIT;
    uint8_t ids[64], *buf;

    randombytes_buf(ids, sizeof(ids));
    randombytes_buf(sealed, len);
    env.envelope_id = (ProtobufCBinaryData){16, ids};
    env.conversation_id = (ProtobufCBinaryData){16, ids + 16};
    env.recipient = (ProtobufCBinaryData){32, ids + 32};
    env.sealed = (ProtobufCBinaryData){len, sealed};
    f.kind_case = PARLEY__FRAME__KIND_SEND;
    f.send = &env;
    *out_len = parley__frame__get_packed_size(&f);
    buf = malloc(*out_len);
    CHECK(buf != NULL);
    parley__frame__pack(&f, buf);
    return buf;
}

static void test_arena_decodes(void)
{
    struct arena a;
    size_t sizes[] = {1, 1024, 60000, 200000}; /* the last does not fit in the arena */

    CHECK(arena_init(&a, 64 * 1024) == 0);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t *sealed = malloc(sizes[i]), *wire;
        size_t len;
        Parley__Frame *f;

        CHECK(sealed != NULL);
        wire = send_frame(sizes[i], &len, sealed);
        f = parley__frame__unpack(&a.allocator, len, wire);
        CHECK(f != NULL && f->kind_case == PARLEY__FRAME__KIND_SEND);
        CHECK(f->send->sealed.len == sizes[i] &&
              memcmp(f->send->sealed.data, sealed, sizes[i]) == 0);
        CHECK(inside(&a, f)); /* the frame itself always fits */
        CHECK(inside(&a, f->send->sealed.data) == (sizes[i] < 60000 + 1));
        parley__frame__free_unpacked(f, &a.allocator);
        arena_reset(&a);
        CHECK(a.used == 0);
        free(wire);
        free(sealed);
    }
    arena_free(&a);
}

static void test_map_reuses_entries(void)
{
    struct map m;
    uint8_t k1[32] = {1}, k2[32] = {2};
    struct map_entry *e, *again;

    CHECK(map_init(&m) == 0);
    e = map_put(&m, k1);
    CHECK(e != NULL);
    e->a = 7;
    e->b = 9;
    e->ptr = &m;
    map_del(&m, k1);
    CHECK(map_get(&m, k1) == NULL && m.count == 0);
    again = map_put(&m, k2);
    CHECK(again == e); /* the removed entry, reused */
    CHECK(again->a == 0 && again->b == 0 && again->ptr == NULL);
    CHECK(memcmp(again->key, k2, 32) == 0 && map_get(&m, k2) == again);
    /* At most 64 removed entries are kept. */
    for (uint8_t i = 0; i < 100; i++) {
        uint8_t k[32] = {3, i};
        CHECK(map_put(&m, k) != NULL);
    }
    for (uint8_t i = 0; i < 100; i++) {
        uint8_t k[32] = {3, i};
        map_del(&m, k);
    }
    CHECK(m.n_spare == 64 && m.count == 1);
    map_free(&m);
}

int main(void)
{
    CHECK(sodium_init() >= 0);
    test_pool_reuses();
    test_arena_decodes();
    test_map_reuses_entries();
    printf("relay pool: ok\n");
    return 0;
}
