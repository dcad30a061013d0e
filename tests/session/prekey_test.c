/*
 * When an agent's one-time prekeys are drained, first contacts go to its
 * signed medium-term prekey, never to its long-term key; both sides record
 * that the conversation's forward secrecy is reduced; and once the
 * medium-term prekey has been rotated, expired and its grace has passed,
 * the keys left on every device open none of the envelopes carried
 * (docs/protocol.md §11.5). Handovers go to fresh prekeys the same way.
 * A sender with no usable prekey at all waits rather than fall back.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "keyring.h"
#include "prekey.h"
#include "world.h"

#define DAY_MS (86400ull * 1000u)

static struct world w;

/* Which kind of key of its recipient opens each envelope carried (before it arrives). */
struct sealed_to {
    struct scene *s;
    int keyfile, prekey, mtkey, conv, identity;
};

static void classify(void *arg, struct mr_party *to, const uint8_t *env, size_t len)
{
    struct sealed_to *st = arg;
    struct keyring kr;
    int k;

    keyring_init(&kr);
    keyring_of_party(&kr, to);
    k = keyring_opens(&kr, env, len);
    CHECK(k >= 0);
    if (strcmp(kr.k[k].origin, "keyfile") == 0)
        st->keyfile++;
    else if (strcmp(kr.k[k].origin, "prekey") == 0)
        st->prekey++;
    else if (strcmp(kr.k[k].origin, "mtkey") == 0)
        st->mtkey++;
    else if (strcmp(kr.k[k].origin, "identity") == 0)
        st->identity++;
    else
        st->conv++;
    keyring_free(&kr);
}

/* Counts, from now on, which kind of key of its recipient opens each envelope. */
static void watch_sealing(struct scene *s, struct sealed_to *st)
{
    memset(st, 0, sizeof(*st));
    st->s = s;
    s->relay.before_deliver = classify;
    s->relay.hook_arg = st;
}

struct info_find {
    const uint8_t *conv;
    bool found;
    parley_conversation_info info;
};

static int find_info(void *user, const parley_conversation_info *info)
{
    struct info_find *f = user;

    if (memcmp(info->conversation_id, f->conv, 16) != 0)
        return 0;
    f->found = true;
    f->info = *info;
    f->info.queue = NULL;
    return 1;
}

static bool reduced(struct mr_party *p, const uint8_t conv[16])
{
    struct info_find f;

    memset(&f, 0, sizeof(f));
    f.conv = conv;
    CHECK_OK(parley__core_list(p->core, find_info, &f));
    CHECK(f.found);
    return f.info.reduced_secrecy != 0;
}

/* Events of kind about conv in p since mark. */
static int count_conv(const struct mr_party *p, int mark, parley_event_kind kind,
                      const uint8_t conv[16])
{
    int n = 0;

    for (int i = mark; i < p->n_events; i++)
        n += p->events[i].ev.kind == kind && memcmp(p->events[i].ev.conversation_id, conv, 16) == 0;
    return n;
}

/* No key any of them holds now opens any envelope captured in [from, to). */
static void check_none_opens(struct mr_party *const *parties, size_t n, struct mr_relay *r,
                             size_t from, size_t to)
{
    for (size_t p = 0; p < n; p++) {
        struct keyring kr;

        keyring_init(&kr);
        keyring_of_party(&kr, parties[p]);
        for (size_t i = from; i < to; i++) {
            int k = keyring_opens(&kr, r->cap[i].env.p, r->cap[i].env.n);
            if (k >= 0) {
                fprintf(stderr, "envelope %zu opens with a %s key of %s\n", i, kr.k[k].origin,
                        parties[p]->name);
                CHECK(!"keys held now open no envelope carried");
            }
        }
        keyring_free(&kr);
    }
}

/* Days pass with everyone connected: the clients' timers run (rotations, deletions). */
static void days_pass(struct scene *s, int days)
{
    for (int d = 0; d < days; d++) {
        mr_advance(&s->relay, DAY_MS);
        mr_pump(&s->relay);
    }
}

static void test_drained(void)
{
    struct mr_party *all[3];
    struct scene s;
    struct sealed_to st;
    int mark_c, mark_a, mark_b, mt_before;
    size_t cap_before, cap_end, prekeys_before;

    printf("prekeys: drained one-time prekeys: the Open goes to the medium-term prekey, never "
           "the long-term key, and both sides record reduced forward secrecy\n");
    scene_init(&s, &w);
    all[0] = &s.customer;
    all[1] = &s.alice;
    all[2] = &s.bob;
    CHECK(mr_medium_term_of(&s.relay, &s.alice) != NULL &&
          mr_medium_term_of(&s.relay, &s.bob) != NULL);
    CHECK(mr_drain_prekeys(&s.relay, &s.alice, false) == 20);
    CHECK(mr_drain_prekeys(&s.relay, &s.bob, false) == 20);
    watch_sealing(&s, &st);
    mark_c = s.customer.n_events;
    mark_a = s.alice.n_events;
    mark_b = s.bob.n_events;
    cap_before = s.relay.n_cap;
    prekeys_before = (size_t)s.relay.prekeys_published;
    mt_before = s.relay.medium_term_fetched;
    scene_open(&s, "Bonjour, plus de cles a usage unique");
    /* One prekey per agent of the queue, no more, and each Open on the medium-term key. */
    CHECK(s.relay.medium_term_fetched - mt_before == 2);
    CHECK(st.mtkey == 2 && st.keyfile == 0 && st.prekey == 0);
    CHECK(count_conv(&s.customer, mark_c, PARLEY_EV_REDUCED_SECRECY, s.conv) == 1);
    CHECK(count_conv(&s.alice, mark_a, PARLEY_EV_REDUCED_SECRECY, s.conv) == 1);
    CHECK(count_conv(&s.bob, mark_b, PARLEY_EV_REDUCED_SECRECY, s.conv) == 1);
    CHECK(reduced(&s.customer, s.conv) && reduced(&s.alice, s.conv) && reduced(&s.bob, s.conv));
    /* Each agent saw the relay has none left and published a fresh set. */
    CHECK((size_t)s.relay.prekeys_published == prekeys_before + 40);
    CHECK(mr_prekeys_for(&s.relay, &s.alice) == 20 && mr_prekeys_for(&s.relay, &s.bob) == 20);

    scene_claim(&s);
    scene_say(&s, &s.customer, "Commande 4471");
    scene_say(&s, &s.alice, "Je regarde");
    scene_say(&s, &s.customer, "Merci");
    CHECK(mr_text_count(&s.alice, "Merci") == 1 && mr_text_count(&s.customer, "Je regarde") == 1);
    CHECK(st.keyfile == 0 && st.identity == 0);
    CHECK_OK(parley__core_close(s.alice.core, s.conv, "", s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_CLOSED));
    cap_end = s.relay.n_cap;

    /*
     * What reduced means: right after the close, the two Opens still open
     * with the agents' medium-term keys, and nothing else opens with
     * anything. Three weeks on (rotated after one, refused by senders after
     * two, deleted two days later) nothing opens at all.
     */
    {
        struct keyring kr;
        int opened = 0;

        for (size_t p = 0; p < 3; p++) {
            keyring_init(&kr);
            keyring_of_party(&kr, all[p]);
            for (size_t i = cap_before; i < cap_end; i++) {
                int k = keyring_opens(&kr, s.relay.cap[i].env.p, s.relay.cap[i].env.n);
                if (k >= 0) {
                    CHECK(strcmp(kr.k[k].origin, "mtkey") == 0);
                    opened++;
                }
            }
            keyring_free(&kr);
        }
        CHECK(opened == 2);
    }
    mt_before = s.relay.medium_term_published;
    days_pass(&s, 8);
    CHECK(s.relay.medium_term_published >= mt_before + 2); /* alice and bob rotated */
    days_pass(&s, 9);
    check_none_opens(all, 3, &s.relay, cap_before, cap_end);
    CHECK(mr_count(&s.customer, PARLEY_EV_REJECTED) == 0);
    CHECK(mr_count(&s.alice, PARLEY_EV_REJECTED) == 0 && mr_count(&s.bob, PARLEY_EV_REJECTED) == 0);
    scene_free(&s);
}

static void test_handover_drained(void)
{
    struct scene s;
    struct sealed_to st;
    int mark_a, mark_b;

    printf("prekeys: a handover to a colleague without one-time prekeys goes to its medium-term "
           "prekey; both agents record reduced forward secrecy\n");
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    CHECK(!reduced(&s.alice, s.conv));
    scene_say(&s, &s.customer, "Avant le transfert");
    mr_drain_prekeys(&s.relay, &s.bob, false);
    watch_sealing(&s, &st);
    mark_a = s.alice.n_events;
    mark_b = s.bob.n_events;
    CHECK_OK(parley__core_transfer(s.alice.core, s.conv, "bob", s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.bob, s.conv, PARLEY_CONV_ACTIVE));
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    CHECK(st.keyfile == 0 && st.mtkey == 1);
    CHECK(count_conv(&s.alice, mark_a, PARLEY_EV_REDUCED_SECRECY, s.conv) == 1);
    CHECK(count_conv(&s.bob, mark_b, PARLEY_EV_REDUCED_SECRECY, s.conv) == 1);
    CHECK(reduced(&s.alice, s.conv) && reduced(&s.bob, s.conv));
    scene_say(&s, &s.bob, "Bob, je reprends");
    CHECK(mr_text_count(&s.customer, "Bob, je reprends") == 1);
    scene_free(&s);
}

static void test_no_prekey(void)
{
    struct scene s;
    struct sealed_to st;
    int mark;

    printf("prekeys: no prekey at all: the Open waits (ENOPREKEY) instead of going to the "
           "long-term key, and leaves once the agent publishes again\n");
    scene_init(&s, &w);
    mr_drain_prekeys(&s.relay, &s.alice, true);
    watch_sealing(&s, &st);
    mark = s.customer.n_events;
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "support", "Alice ?", s.conv, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_ENOPREKEY));
    CHECK(mr_state_is(&s.bob, s.conv, PARLEY_CONV_QUEUED));
    CHECK(mr_text_count(&s.alice, "Alice ?") == 0);
    CHECK(mr_stored_for(&s.relay, &s.alice) == 0);
    /* Asked again each minute; alice comes back, publishes, and the Open reaches her. */
    mr_disconnect(&s.alice);
    mr_connect(&s.alice);
    mr_pump(&s.relay);
    mr_advance(&s.relay, 60000);
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED));
    CHECK(mr_text_count(&s.alice, "Alice ?") == 1);
    CHECK(st.keyfile == 0 && st.identity == 0);
    scene_free(&s);
}

static void test_expired_medium_term(void)
{
    struct scene s;
    Parley__Prekey *old;
    uint8_t box[32], sk[32], *enc;
    size_t enc_len;
    int mark;

    printf("prekeys: an expired medium-term prekey the relay keeps serving is refused "
           "(EEXPIRED)\n");
    scene_init(&s, &w);
    mr_drain_prekeys(&s.relay, &s.alice, false);
    crypto_box_keypair(box, sk);
    /* Genuinely alice's, but fifteen days old. */
    CHECK_OK(parley__prekey_sign(w.agents[W_ALICE], box, s.relay.now - 15u * DAY_MS, true, &old));
    CHECK_OK(parley__pack(&old->base, &enc, &enc_len));
    parley__prekey__free_unpacked(old, NULL);
    s.relay.serve_prekey.p = enc;
    s.relay.serve_prekey.n = enc_len;
    mark = s.customer.n_events;
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "support", "Encore la ?", s.conv, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EEXPIRED));
    for (size_t i = 0; i < s.relay.n_cap; i++) {
        struct keyring kr;

        keyring_init(&kr);
        keyring_add(&kr, sk, "old");
        CHECK(keyring_opens(&kr, s.relay.cap[i].env.p, s.relay.cap[i].env.n) < 0);
        keyring_free(&kr);
    }
    sodium_memzero(sk, sizeof(sk));
    /* A minute later the relay's current one serves. */
    mr_advance(&s.relay, 60000);
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED));
    scene_free(&s);
}

static void test_rotation_grace(void)
{
    struct mr_party *alice_only[1];
    struct scene s;
    size_t cap_before, cap_open;
    const struct mr_prekey *mt;
    uint64_t first_created;

    printf("prekeys: an Open sealed to the medium-term prekey before a rotation still opens "
           "after it, until the old secret's grace ends\n");
    scene_init(&s, &w);
    alice_only[0] = &s.alice;
    mr_drain_prekeys(&s.relay, &s.alice, false);
    mt = mr_medium_term_of(&s.relay, &s.alice);
    first_created = mt->created_at;
    /* Sealed now, delivered to alice only after she has rotated. */
    s.relay.hold_to = &s.alice;
    cap_before = s.relay.n_cap;
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "support", "Tardif", s.conv, s.relay.now));
    mr_pump(&s.relay);
    cap_open = s.relay.n_cap;
    CHECK(cap_open > cap_before);
    days_pass(&s, 8);
    mt = mr_medium_term_of(&s.relay, &s.alice);
    CHECK(mt != NULL && mt->created_at > first_created);
    s.relay.hold_to = NULL;
    mr_release(&s.relay);
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED));
    CHECK(mr_text_count(&s.alice, "Tardif") == 1);
    /* Past the old one's expiry and grace, its secret is gone. */
    days_pass(&s, 9);
    check_none_opens(alice_only, 1, &s.relay, cap_before, cap_open);
    scene_free(&s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    world_init(&w);
    test_drained();
    test_handover_drained();
    test_no_prekey();
    test_expired_medium_term();
    test_rotation_grace();
    world_free(&w);
    printf("ok\n");
    return 0;
}
