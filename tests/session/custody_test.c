/*
 * Conversation ids bound to the customer: the customer derives each id
 * from its key and a salt it keeps, and its signed erasure request lists
 * every id with the salt that binds it, so a relay can recompute them.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "world.h"

static struct world w;

/* The erasure request the customer keeps until the relay confirms it. */
static Parley__ErasureRequestBody *stored_erasure(struct mr_party *p)
{
    Parley__ErasureRequest *r;
    Parley__ErasureRequestBody *b;
    uint8_t *val;
    size_t len;

    CHECK_OK(parley__vault_get(&p->vault, "meta", (const uint8_t *)"erase", 5, &val, &len));
    r = parley__erasure_request__unpack(NULL, len, val);
    CHECK(r != NULL);
    CHECK_OK(parley__verify_pb(p->sign_pk, 32, PARLEY__DOMAIN_ERASURE, r->body, r->signature));
    b = parley__erasure_request_body__unpack(NULL, r->body.len, r->body.data);
    CHECK(b != NULL);
    parley__erasure_request__free_unpacked(r, NULL);
    parley_free(val, len);
    return b;
}

static void test_conversation_id_binding(void)
{
    struct scene s;
    Parley__ErasureRequestBody *b;
    uint8_t second[16], id[16];
    bool first_listed = false, second_listed = false;

    printf("conversation_id_binding: ids come from the customer key and a salt; the erasure "
           "request lists each id with its salt\n");
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    CHECK_OK(parley__core_open(s.customer.core, "support", "Encore moi", second, s.relay.now));
    mr_pump(&s.relay);
    CHECK(memcmp(s.conv, second, 16) != 0);
    CHECK_OK(parley__core_erase(s.customer.core, s.relay.now));
    mr_pump(&s.relay);
    b = stored_erasure(&s.customer);
    CHECK(b->n_conversation_ids == 2 && b->n_conversation_salts == 2);
    for (size_t i = 0; i < b->n_conversation_ids; i++) {
        CHECK(parley__len_is(b->conversation_ids[i], 16));
        CHECK(parley__len_is(b->conversation_salts[i], 16));
        parley_conversation_id(s.customer.sign_pk, b->conversation_salts[i].data, id);
        CHECK(memcmp(id, b->conversation_ids[i].data, 16) == 0);
        /* Bound to this customer only. */
        parley_conversation_id(s.alice.sign_pk, b->conversation_salts[i].data, id);
        CHECK(memcmp(id, b->conversation_ids[i].data, 16) != 0);
        first_listed = first_listed || memcmp(b->conversation_ids[i].data, s.conv, 16) == 0;
        second_listed = second_listed || memcmp(b->conversation_ids[i].data, second, 16) == 0;
    }
    CHECK(first_listed && second_listed);
    parley__erasure_request_body__free_unpacked(b, NULL);
    scene_free(&s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    world_init(&w);
    test_conversation_id_binding();
    world_free(&w);
    printf("ok\n");
    return 0;
}
