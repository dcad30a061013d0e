/*
 * Forward secrecy and isolation, checked on every envelope the relay
 * carries in a whole conversation: consent, an Open to a queue of two
 * agents with prekeys published, a claim, texts both ways with delivery
 * and read receipts and typing, a transfer to the other agent, more texts,
 * a close.
 *
 * Just before each envelope reaches its recipient, every party's complete
 * key store is taken (every row of every table, decrypted) and tried on
 * it: the recipient's must open it (so the final check is not vacuous),
 * the agent not in the conversation must not. At the end, no key left on
 * any device opens any envelope carried.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "keyring.h"
#include "world.h"

enum { P_CUSTOMER, P_ALICE, P_BOB, P_COUNT };

struct delivery {
    bool seen;
    int recipient;
    bool opens[P_COUNT];         /* with that party's keys just before delivery */
};

struct watch {
    struct scene *s;
    struct delivery d[1024];
};

static struct world w;
static struct scene s;
static struct watch watch;

static struct mr_party *party(int i)
{
    return i == P_CUSTOMER ? &s.customer : i == P_ALICE ? &s.alice : &s.bob;
}

static int capture_index(const struct mr_relay *r, const uint8_t *env, size_t len)
{
    for (size_t i = 0; i < r->n_cap; i++)
        if (r->cap[i].env.n == len && memcmp(r->cap[i].env.p, env, len) == 0)
            return (int)i;
    return -1;
}

static void before_deliver(void *arg, struct mr_party *to, const uint8_t *env, size_t len)
{
    struct watch *wa = arg;
    int i = capture_index(&wa->s->relay, env, len);
    struct delivery *d;

    CHECK(i >= 0 && i < 1024);
    d = &wa->d[i];
    if (d->seen)
        return;
    d->seen = true;
    for (int p = 0; p < P_COUNT; p++) {
        struct keyring kr;

        if (party(p) == to)
            d->recipient = p;
        keyring_init(&kr);
        keyring_of_party(&kr, party(p));
        d->opens[p] = keyring_opens(&kr, env, len) >= 0;
        keyring_free(&kr);
    }
}

static void say(struct mr_party *p, const char *text, uint64_t *seq)
{
    mr_advance(&s.relay, 1000);
    CHECK_OK(parley__core_send_text(p->core, s.conv, text, seq, s.relay.now));
    mr_pump(&s.relay);
}

static void check_delivered(size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        const struct delivery *d = &watch.d[i];
        if (!d->seen || !d->opens[d->recipient]) {
            fprintf(stderr, "envelope %zu: delivered %d, opened by its recipient %d\n", i,
                    d->seen, d->seen && d->opens[d->recipient]);
            CHECK(!"every envelope reaches a recipient who can open it");
        }
    }
}

/* No envelope in [from, to) opened with `who`'s keys as they were when it was delivered. */
static void check_unreadable_by(int who, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (watch.d[i].recipient != who && watch.d[i].opens[who]) {
            fprintf(stderr, "envelope %zu for party %d opens with party %d's keys\n", i,
                    watch.d[i].recipient, who);
            CHECK(!"isolation");
        }
}

/* Neither with `who`'s keys as they are now. */
static void check_unreadable_now(int who, size_t from, size_t to)
{
    struct keyring kr;

    keyring_init(&kr);
    keyring_of_party(&kr, party(who));
    CHECK(kr.n > 0);
    for (size_t i = from; i < to; i++) {
        int k = keyring_opens(&kr, s.relay.cap[i].env.p, s.relay.cap[i].env.n);
        if (k >= 0) {
            fprintf(stderr, "envelope %zu (for party %d) opens with a %s key of party %d\n", i,
                    watch.d[i].recipient, kr.k[k].origin, who);
            CHECK(!"keys held now open no envelope carried");
        }
    }
    keyring_free(&kr);
}

static size_t count_for(int who, size_t from, size_t to)
{
    size_t n = 0;

    for (size_t i = from; i < to; i++)
        n += watch.d[i].recipient == who;
    return n;
}

static void test_conversation(void)
{
    size_t cap_claim, cap_transfer, cap_bob, cap_end;
    const struct mr_event *e;
    uint64_t seq = 0;
    char text[64];

    printf("secrecy: a whole conversation, every envelope captured\n");
    scene_init(&s, &w);
    watch.s = &s;
    s.relay.before_deliver = before_deliver;
    s.relay.hook_arg = &watch;
    scene_open(&s, "Bonjour, ma commande n'est pas arriv\xc3\xa9" "e");
    CHECK_OK(parley__core_send_text(s.customer.core, s.conv, "Commande 4471", NULL, s.relay.now));
    mr_pump(&s.relay);
    CHECK(s.relay.prekeys_fetched >= 2);
    scene_claim(&s);
    CHECK(mr_text_count(&s.alice, "Commande 4471") == 1);
    cap_claim = s.relay.n_cap;

    for (int i = 0; i < 3; i++) {
        snprintf(text, sizeof(text), "alice %d", i);
        say(&s.alice, text, NULL);
        CHECK(mr_text_count(&s.customer, text) == 1);
        e = mr_last(&s.customer, PARLEY_EV_MESSAGE);
        CHECK_OK(parley__core_mark_read(s.customer.core, s.conv, e->ev.seq, s.relay.now));
        CHECK_OK(parley__core_typing(s.customer.core, s.conv, 1, s.relay.now));
        snprintf(text, sizeof(text), "customer %d", i);
        say(&s.customer, text, &seq);
        CHECK(mr_text_count(&s.alice, text) == 1);
    }
    CHECK(mr_count(&s.alice, PARLEY_EV_READ) == 3 && mr_count(&s.alice, PARLEY_EV_TYPING) == 3);
    CHECK(mr_count(&s.alice, PARLEY_EV_DELIVERED) >= 3);
    CHECK(mr_count(&s.customer, PARLEY_EV_DELIVERED) >= 3);
    CHECK(mr_count(&s.bob, PARLEY_EV_MESSAGE) == 1); /* the Open only */
    check_unreadable_by(P_BOB, cap_claim, s.relay.n_cap);
    check_unreadable_now(P_BOB, cap_claim, s.relay.n_cap);

    printf("secrecy: transfer to the other agent of the queue\n");
    cap_transfer = s.relay.n_cap;
    s.relay.hold_to = &s.bob;
    CHECK_OK(parley__core_transfer(s.alice.core, s.conv, "bob", s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_TRANSFERRING));
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_TRANSFERRED));
    /* Written while the transfer is under way: held for the new agent. */
    say(&s.customer, "Vous etes la ?", NULL);
    s.relay.hold_to = NULL;
    mr_release(&s.relay);
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.bob, s.conv, PARLEY_CONV_ACTIVE));
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    e = mr_last(&s.customer, PARLEY_EV_CONVERSATION);
    CHECK(e != NULL && strcmp(e->ev.agent.agent_id, "bob") == 0);
    CHECK(mr_text_count(&s.bob, "Vous etes la ?") == 1);
    CHECK(mr_text_count(&s.alice, "Vous etes la ?") == 0);
    cap_bob = s.relay.n_cap;

    for (int i = 0; i < 3; i++) {
        snprintf(text, sizeof(text), "bob %d", i);
        say(&s.bob, text, NULL);
        CHECK(mr_text_count(&s.customer, text) == 1);
        e = mr_last(&s.customer, PARLEY_EV_MESSAGE);
        CHECK_OK(parley__core_mark_read(s.customer.core, s.conv, e->ev.seq, s.relay.now));
        snprintf(text, sizeof(text), "customer after %d", i);
        say(&s.customer, text, NULL);
        CHECK(mr_text_count(&s.bob, text) == 1 && mr_text_count(&s.alice, text) == 0);
    }
    CHECK(count_for(P_BOB, cap_bob, s.relay.n_cap) >= 6);
    check_unreadable_by(P_ALICE, cap_bob, s.relay.n_cap);
    check_unreadable_now(P_ALICE, cap_transfer, s.relay.n_cap);
    /* The new agent reads what is his: checked by check_delivered below. */

    printf("secrecy: close, then every key left on every device against every envelope\n");
    mr_advance(&s.relay, 1000);
    CHECK_OK(parley__core_close(s.bob.core, s.conv, "resolu", s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_CLOSED));
    CHECK(mr_state_is(&s.bob, s.conv, PARLEY_CONV_CLOSED));
    mr_advance(&s.relay, 60000);
    mr_pump(&s.relay);
    cap_end = s.relay.n_cap;
    CHECK(cap_end > 30);
    for (size_t i = 0; i < cap_end; i++)
        CHECK(!s.relay.cap[i].dropped);
    /* Not vacuous: each envelope opened with its recipient's keys just before it arrived. */
    check_delivered(0, cap_end);
    CHECK(count_for(P_CUSTOMER, 0, cap_end) > 10 && count_for(P_ALICE, 0, cap_end) > 5 &&
          count_for(P_BOB, 0, cap_end) > 5);
    /* Forward secrecy: nothing a device holds now opens anything it received. */
    for (int p = 0; p < P_COUNT; p++) {
        struct keyring kr;

        keyring_init(&kr);
        keyring_of_party(&kr, party(p));
        printf("secrecy: %s holds %zu X25519 secrets in %zu rows; none opens any of %zu "
               "envelopes\n", party(p)->name, kr.n, store_rows(party(p)), cap_end);
        keyring_free(&kr);
        check_unreadable_now(p, 0, cap_end);
    }
    /* A clean run: nothing was lost, replayed, reordered or refused. */
    for (int p = 0; p < P_COUNT; p++) {
        CHECK(mr_count(party(p), PARLEY_EV_GAP) == 0);
        CHECK(mr_count(party(p), PARLEY_EV_REPLAY) == 0);
        CHECK(mr_count(party(p), PARLEY_EV_REORDER) == 0);
        CHECK(mr_count(party(p), PARLEY_EV_REJECTED) == 0);
    }
    scene_free(&s);
}

struct sealed_to {
    struct scene *s;
    int identity_sealed;         /* envelopes for bob that only his key file's key opens */
    int prekey_sealed;
};

static void classify(void *arg, struct mr_party *to, const uint8_t *env, size_t len)
{
    struct sealed_to *st = arg;
    struct keyring kr;
    int k;

    if (to != &st->s->bob)
        return;
    keyring_init(&kr);
    keyring_of_party(&kr, to);
    k = keyring_opens(&kr, env, len);
    CHECK(k >= 0);
    if (strcmp(kr.k[k].origin, "keyfile") == 0)
        st->identity_sealed++;
    else if (strcmp(kr.k[k].origin, "prekey") == 0)
        st->prekey_sealed++;
    keyring_free(&kr);
}

/*
 * bob stays in the queue, connected, while alice claims conversation after
 * conversation: each costs bob two one-time prekeys on the relay (the Open
 * and the customer's notice that alice took it). His prekeys must be
 * replenished before they run out, or first contacts fall back to his
 * long-term key, which then opens them for ever.
 */
static void test_many_conversations(void)
{
    struct sealed_to st;
    struct keyring kr;
    char text[32];

    printf("secrecy: 14 conversations taken by a colleague; first contacts stay on prekeys\n");
    scene_init(&s, &w);
    memset(&st, 0, sizeof(st));
    st.s = &s;
    s.relay.before_deliver = classify;
    s.relay.hook_arg = &st;
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    for (int i = 0; i < 14; i++) {
        snprintf(text, sizeof(text), "Bonjour %d", i);
        mr_advance(&s.relay, 60000);
        scene_open(&s, text);
        scene_claim(&s);
        scene_say(&s, &s.alice, "Bonjour");
        CHECK_OK(parley__core_close(s.customer.core, s.conv, "", s.relay.now));
        mr_pump(&s.relay);
        CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_CLOSED));
    }
    printf("secrecy: bob got %d first contacts on prekeys, %d on his long-term key\n",
           st.prekey_sealed, st.identity_sealed);
    CHECK(st.identity_sealed == 0);
    CHECK(st.prekey_sealed == 28);
    keyring_init(&kr);
    keyring_of_party(&kr, &s.bob);
    for (size_t i = 0; i < s.relay.n_cap; i++)
        if (memcmp(s.relay.cap[i].recipient, s.bob.routing, 32) == 0)
            CHECK(keyring_opens(&kr, s.relay.cap[i].env.p, s.relay.cap[i].env.n) < 0);
    keyring_free(&kr);
    scene_free(&s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    world_init(&w);
    test_conversation();
    test_many_conversations();
    world_free(&w);
    printf("ok\n");
    return 0;
}
