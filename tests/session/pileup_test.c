/*
 * One-time prekeys someone takes from the relay and never uses: their
 * secrets stay on the agent's device, and each time the agent learns the
 * relay has none left it publishes a fresh set. However many pile up, an
 * Open sealed to a prekey the agent published must still reach it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "handover.h"

static struct world w;

/* p's one-time prekey secrets (rows of its "prekey" table). */
static size_t secrets_of(const struct mr_party *p)
{
    return memstore_rows(p->ms, "prekey");
}

struct rank {
    const uint8_t *box;
    size_t below;                /* rows whose key sorts before box */
};

static int rank_row(void *arg, const char *table, const uint8_t *key, size_t key_len,
                    const uint8_t *val, size_t val_len)
{
    struct rank *r = arg;

    (void)val;
    (void)val_len;
    if (strcmp(table, "prekey") == 0 && key_len == 32 && memcmp(key, r->box, 32) < 0)
        r->below++;
    return 0;
}

/*
 * Among p's one-time prekeys the relay holds, the one whose secret comes
 * last in p's store, moved to the front: the next sender gets it. Returns
 * how many of p's secrets come before it.
 */
static size_t next_prekey_last_in_store(struct mr_relay *r, const struct mr_party *p)
{
    size_t best = 0, best_i = 0;
    bool any = false;

    for (size_t i = 0; i < r->n_prekeys; i++) {
        Parley__Prekey *pk;
        Parley__PrekeyBody *body;
        struct rank rk = {NULL, 0};

        if (r->prekeys[i].medium_term || memcmp(r->prekeys[i].owner, p->sign_pk, 32) != 0)
            continue;
        pk = parley__prekey__unpack(NULL, r->prekeys[i].prekey.n, r->prekeys[i].prekey.p);
        CHECK(pk != NULL);
        body = parley__prekey_body__unpack(NULL, pk->body.len, pk->body.data);
        CHECK(body != NULL && parley__len_is(body->box_key, 32));
        rk.box = body->box_key.data;
        memstore_each(p->ms, rank_row, &rk);
        if (!any || rk.below > best) {
            best = rk.below;
            best_i = i;
            any = true;
        }
        parley__prekey_body__free_unpacked(body, NULL);
        parley__prekey__free_unpacked(pk, NULL);
    }
    CHECK(any);
    {
        struct mr_prekey chosen = r->prekeys[best_i];

        memmove(&r->prekeys[1], &r->prekeys[0], best_i * sizeof(r->prekeys[0]));
        r->prekeys[0] = chosen;
    }
    return best;
}

static void test_prekeys_taken_and_unused(void)
{
    struct scene s;
    size_t before;
    int mark;

    printf("prekeys_taken_and_unused: someone takes alice's one-time prekeys and never uses "
           "them, again and again; an Open sealed to the next one she publishes still reaches "
           "her\n");
    scene_init(&s, &w);
    /* Each round: everything on the relay taken, alice reconnects and publishes a fresh set. */
    for (int round = 0; round < 6; round++) {
        CHECK(mr_drain_prekeys(&s.relay, &s.alice, false) == 20);
        mr_disconnect(&s.alice);
        mr_connect(&s.alice);
        mr_pump(&s.relay);
        CHECK(mr_prekeys_for(&s.relay, &s.alice) == 20);
    }
    printf("   alice keeps %zu one-time prekey secrets after 6 rounds\n", secrets_of(&s.alice));
    before = next_prekey_last_in_store(&s.relay, &s.alice);
    printf("   the next prekey the relay hands out comes after %zu of them in her store\n", before);
    mark = s.alice.n_events;
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "support", "Bonjour Alice ?", s.conv, s.relay.now));
    mr_pump(&s.relay);
    if (!mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED)) {
            CHECK(!"alice opened the Open sealed to her own prekey");
    }
    CHECK(mr_text_count(&s.alice, "Bonjour Alice ?") == 1);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_REJECTED) == 0);
    scene_free(&s);
}

/*
 * Taken round after round until alice holds PREKEY_KEEP (256) secrets: she
 * publishes no more, senders get her medium-term prekey (reduced forward
 * secrecy, told to both sides) and still reach her; once those taken
 * prekeys are as old as a medium-term secret can be (16 days), their
 * secrets go and she publishes one-time prekeys again.
 */
static void test_prekeys_pileup_capped(void)
{
    struct scene s;
    int mark, rounds = 0, mt_before;

    printf("prekeys_pileup_capped: alice's prekeys taken until she holds 256 secrets; she "
           "publishes no more, a new customer reaches her on her medium-term prekey; 16 days "
           "later the unused secrets are gone and she publishes afresh\n");
    scene_init(&s, &w);
    while (mr_prekeys_for(&s.relay, &s.alice) > 0) {
        CHECK(++rounds <= 20);
        mr_drain_prekeys(&s.relay, &s.alice, false);
        mr_disconnect(&s.alice);
        mr_connect(&s.alice);
        mr_pump(&s.relay);
    }
    printf("   after %d rounds alice keeps %zu secrets and publishes no more\n", rounds,
           secrets_of(&s.alice));
    CHECK(secrets_of(&s.alice) == 256);
    mark = s.alice.n_events;
    mt_before = s.relay.medium_term_fetched;
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "support", "Bonjour Alice ?", s.conv, s.relay.now));
    mr_pump(&s.relay);
    CHECK(s.relay.medium_term_fetched - mt_before == 1); /* alice's; bob still has one-time ones */
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED));
    CHECK(mr_text_count(&s.alice, "Bonjour Alice ?") == 1);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_REDUCED_SECRECY) == 1);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_REJECTED) == 0);
    CHECK(secrets_of(&s.alice) == 256 && mr_prekeys_for(&s.relay, &s.alice) == 0);
    /* 16 days on, what was taken and never used is given up, as a medium-term secret would be. */
    mr_advance(&s.relay, 16ull * 86400 * 1000 + 1000);
    mr_pump(&s.relay);
    mr_disconnect(&s.alice);
    mr_connect(&s.alice);
    mr_pump(&s.relay);
    printf("   16 days later alice keeps %zu secrets, the relay holds %zu of her prekeys\n",
           secrets_of(&s.alice), mr_prekeys_for(&s.relay, &s.alice));
    CHECK(secrets_of(&s.alice) == 20 && mr_prekeys_for(&s.relay, &s.alice) == 20);
    scene_free(&s);
}

int main(int argc, char **argv)
{
    static const struct named_case cases[] = {
        {"prekeys_taken_and_unused", test_prekeys_taken_and_unused},
        {"prekeys_pileup_capped", test_prekeys_pileup_capped},
    };

    return run_cases(argc, argv, &w, cases, sizeof(cases) / sizeof(cases[0]));
}
