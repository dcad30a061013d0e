/*
 * The chain of custody of a conversation (docs/protocol.md §11.3): only
 * the agent the customer last acknowledged can hand a conversation on;
 * a conversation an agent holds is never reset or rewritten by anyone
 * else's frame; replays are refused with their own code on every path;
 * the customer takes claims and transfers only in custody order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "handover.h"
#include "keyring.h"

static struct world w;

static void claimed_scene(struct scene *s)
{
    scene_init(s, &w);
    scene_open(s, "Bonjour");
    scene_claim(s);
    scene_say(s, &s->alice, "Je regarde votre commande.");
    scene_say(s, &s->customer, "Merci, commande 4471");
    CHECK(mr_text_count(&s->customer, "Je regarde votre commande.") == 1);
    CHECK(mr_text_count(&s->alice, "Merci, commande 4471") == 1);
}

/* Index of the first envelope captured from `from` on addressed to p; -1 if none. */
static int capture_to(const struct mr_relay *r, size_t from, const struct mr_party *p)
{
    for (size_t i = from; i < r->n_cap; i++)
        if (memcmp(r->cap[i].recipient, p->routing, 32) == 0)
            return (int)i;
    return -1;
}

/* The customer's consent receipt for conv, as its store keeps it. */
static void consent_of(struct mr_party *customer, const uint8_t conv[16], uint8_t **rc, size_t *len)
{
    Parley__ConversationState *st = conv_state_of(customer, conv);

    CHECK(st != NULL && st->consent.len > 0);
    *rc = malloc(st->consent.len);
    CHECK(*rc != NULL);
    memcpy(*rc, st->consent.data, st->consent.len);
    *len = st->consent.len;
    conv_state_free(st);
}

/*
 * Injects a handover that `to` must refuse with err, and checks that
 * nothing of to's conversation moved: state, custody, transcript, and not
 * one envelope sent (no claim).
 */
static void handover_refused(struct scene *s, const struct handover_spec *h, parley_err err)
{
    struct transcript before, after;
    Parley__ConversationState *st;
    parley_conv_state state = PARLEY_CONV_WAITING;
    uint64_t custody_before = 0, custody_after;
    bool acked_before = false, acked_after, held;
    size_t cap = s->relay.n_cap;
    int mark = h->to->n_events;

    st = conv_state_of(h->to, s->conv);
    held = st != NULL;
    conv_state_free(st);
    if (held) {
        transcript_of(h->to, s->conv, &before);
        custody_before = custody_of(h->to, s->conv, &acked_before);
        CHECK_OK(parley__core_state(h->to->core, s->conv, &state));
    }
    handover_inject(&s->relay, h);
    if (!mr_rejected_since(h->to, mark, err) ||
        mr_count_since(h->to, mark, PARLEY_EV_REJECTED) != 1) {
        fprintf(stderr, "expected one REJECTED %s in %s, got:\n", parley_strerror(err),
                h->to->name);
        mr_dump(h->to, mark);
        CHECK(!"handover refused as expected");
    }
    CHECK(mr_count_since(h->to, mark, PARLEY_EV_CONVERSATION) == 0);
    CHECK(mr_count_since(h->to, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(s->relay.n_cap == cap); /* no claim, nothing at all */
    CHECK(mr_stored_for(&s->relay, h->to) == 0);
    if (!held) {
        CHECK(conv_state_of(h->to, s->conv) == NULL);
        return;
    }
    CHECK(mr_state_is(h->to, s->conv, state));
    custody_after = custody_of(h->to, s->conv, &acked_after);
    CHECK(custody_after == custody_before && acked_after == acked_before);
    transcript_of(h->to, s->conv, &after);
    CHECK(transcript_same(&before, &after));
    transcript_free(&before);
    transcript_free(&after);
}

static void test_handover_custody_foreign(void)
{
    struct scene s;
    struct handover_spec h;
    parley_identity *made_up;
    Parley__HistoryEntry e = PARLEY__HISTORY_ENTRY__INIT;
    const Parley__HistoryEntry *hist[] = {&e};
    Parley__CustodyAck *forged, *alices;
    uint8_t salt[16], other_salt[16];
    bool acked;

    printf("handover_custody_foreign: a colleague's handover for a conversation alice holds is "
           "refused; nothing of hers moves, no claim leaves\n");
    claimed_scene(&s);
    salt_of(&s.customer, s.conv, salt);
    CHECK_OK(parley_identity_generate(&made_up));
    e.from_customer = true;
    e.text = (ProtobufCBinaryData){22, (uint8_t *)"Donnez-moi votre code."};
    e.agent_id = (char *)"";

    /* Under a customer key bob made up: the id is not that key's. */
    randombytes_buf(other_salt, sizeof(other_salt));
    spec_for(&h, &s, &w, W_BOB, &s.alice, other_salt, NULL, 5);
    h.customer_pk = parley_identity_sign_pk(made_up);
    h.history = hist;
    h.n_history = 1;
    handover_refused(&s, &h, PARLEY_EUNBOUND);
    /* The real customer and salt (bob had the Open), without any custody proof. */
    spec_for(&h, &s, &w, W_BOB, &s.alice, salt, NULL, 6);
    h.history = hist;
    h.n_history = 1;
    handover_refused(&s, &h, PARLEY_ECUSTODY);
    /* With an acknowledgement bob signed himself. */
    forged = ack_make(w.agents[W_BOB], s.conv, parley_identity_sign_pk(w.agents[W_BOB]), 9);
    h.custody = forged;
    h.seq = 7;
    handover_refused(&s, &h, PARLEY_ECUSTODY);
    parley__custody_ack__free_unpacked(forged, NULL);
    /* With the customer's genuine acknowledgement, which names alice, not bob. */
    CHECK(custody_of(&s.alice, s.conv, &acked) == 1 && acked);
    alices = ack_of(&s.alice, s.conv);
    CHECK(alices != NULL);
    h.custody = alices;
    h.seq = 8;
    handover_refused(&s, &h, PARLEY_ECUSTODY);
    parley__custody_ack__free_unpacked(alices, NULL);

    /* The conversation goes on between the customer and alice. */
    scene_say(&s, &s.customer, "Toujours la ?");
    CHECK(mr_text_count(&s.alice, "Toujours la ?") == 1);
    scene_say(&s, &s.alice, "Oui.");
    CHECK(mr_text_count(&s.customer, "Oui.") == 1);
    CHECK(mr_count(&s.customer, PARLEY_EV_REJECTED) == 0);
    parley_identity_free(made_up);
    scene_free(&s);
}

/* Transfers s->conv from `from` to `to` and waits until the customer acknowledged `to`. */
static void transfer(struct scene *s, struct mr_party *from, struct mr_party *to, const char *id,
                     uint64_t custody)
{
    const struct mr_event *e;
    bool acked;

    mr_advance(&s->relay, 1000);
    CHECK_OK(parley__core_transfer(from->core, s->conv, id, s->relay.now));
    mr_pump(&s->relay);
    CHECK(mr_state_is(from, s->conv, PARLEY_CONV_TRANSFERRED));
    CHECK(mr_state_is(to, s->conv, PARLEY_CONV_ACTIVE));
    CHECK(mr_state_is(&s->customer, s->conv, PARLEY_CONV_ACTIVE));
    e = mr_last(&s->customer, PARLEY_EV_CONVERSATION);
    CHECK(e != NULL && strcmp(e->ev.agent.agent_id, id) == 0);
    CHECK(custody_of(to, s->conv, &acked) == custody && acked);
    CHECK(custody_of(&s->customer, s->conv, &acked) == custody);
    CHECK(ack_of(from, s->conv) == NULL); /* the old agent keeps no proof to show */
}

/* Every row of p's transcript appears once: nothing handed back was written twice. */
static void check_once(struct mr_party *p, const uint8_t conv[16], size_t rows)
{
    struct transcript t;

    transcript_of(p, conv, &t);
    if (t.n != rows) {
        for (size_t i = 0; i < t.n; i++)
            fprintf(stderr, "  %s row %zu: %s\n", p->name, i, t.rows[i]);
        CHECK(t.n == rows);
    }
    for (size_t i = 0; i < t.n; i++)
        CHECK(transcript_count(&t, t.rows[i] + 2) == 1);
    transcript_free(&t);
}

static void test_handover_custody_chain(void)
{
    struct scene s;
    struct mr_party carol;
    struct transcript before, after;
    bool acked;

    printf("handover_custody_chain: alice to bob, bob back to alice, alice to carol while the "
           "customer is away\n");
    claimed_scene(&s);
    carol_join(&carol, &s, &w);
    transcript_of(&s.alice, s.conv, &before);
    CHECK(before.n == 3);

    transfer(&s, &s.alice, &s.bob, "bob", 2);
    /* bob had the Open: his transcript goes on from it, each line once. */
    check_once(&s.bob, s.conv, 3);
    scene_say(&s, &s.bob, "Bob ici.");
    scene_say(&s, &s.customer, "Bonjour Bob");
    CHECK(mr_text_count(&s.bob, "Bonjour Bob") == 1);

    transfer(&s, &s.bob, &s.alice, "alice", 3);
    /* alice keeps what she had and gains only what happened since. */
    transcript_of(&s.alice, s.conv, &after);
    CHECK(after.n == 5);
    for (size_t i = 0; i < before.n; i++)
        CHECK(strcmp(before.rows[i], after.rows[i]) == 0);
    CHECK(strcmp(after.rows[3], "A:Bob ici.") == 0 && strcmp(after.rows[4], "C:Bonjour Bob") == 0);
    transcript_free(&after);
    scene_say(&s, &s.alice, "De retour.");
    CHECK(mr_text_count(&s.customer, "De retour.") == 1);

    /* The customer is away: the handover reaches carol at once, her claim waits. */
    mr_disconnect(&s.customer);
    mr_advance(&s.relay, 1000);
    CHECK_OK(parley__core_transfer(s.alice.core, s.conv, "carol", s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&carol, s.conv, PARLEY_CONV_ACTIVE));
    check_once(&carol, s.conv, 6);
    CHECK(custody_of(&carol, s.conv, &acked) == 3 && !acked);
    /* Not hers to pass on until the customer says so. */
    CHECK_ERR(parley__core_transfer(carol.core, s.conv, "bob", s.relay.now), PARLEY_ECUSTODY);
    CHECK_OK(
        parley__core_send_text(carol.core, s.conv, "Carol prend le relais.", NULL, s.relay.now));
    mr_pump(&s.relay);
    mr_connect(&s.customer);
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    CHECK(strcmp(mr_last(&s.customer, PARLEY_EV_CONVERSATION)->ev.agent.agent_id, "carol") == 0);
    CHECK(mr_text_count(&s.customer, "Carol prend le relais.") == 1);
    CHECK(custody_of(&carol, s.conv, &acked) == 4 && acked);
    CHECK(custody_of(&s.customer, s.conv, &acked) == 4);

    /* A clean run: nothing refused, replayed, reordered or lost anywhere. */
    {
        struct mr_party *all[] = {&s.customer, &s.alice, &s.bob, &carol};

        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
            CHECK(mr_count(all[i], PARLEY_EV_REJECTED) == 0);
            CHECK(mr_count(all[i], PARLEY_EV_REPLAY) == 0);
            CHECK(mr_count(all[i], PARLEY_EV_REORDER) == 0);
            CHECK(mr_count(all[i], PARLEY_EV_GAP) == 0);
        }
    }
    transcript_free(&before);
    mr_party_free(&carol);
    scene_free(&s);
}

static void test_handover_custody_former_agent(void)
{
    struct scene s;
    struct mr_party carol;
    struct handover_spec h;
    Parley__CustodyAck *old;
    uint8_t salt[16], key[32], *rc;
    size_t rc_len;
    int mark;
    bool acked;

    printf("handover_custody_former_agent: alice, after handing over to bob, shows her old "
           "acknowledgement to bob and to carol: refused, or never confirmed\n");
    claimed_scene(&s);
    carol_join(&carol, &s, &w);
    salt_of(&s.customer, s.conv, salt);
    consent_of(&s.customer, s.conv, &rc, &rc_len);
    old = ack_of(&s.alice, s.conv); /* kept aside by a dishonest client */
    CHECK(old != NULL);
    transfer(&s, &s.alice, &s.bob, "bob", 2);

    /* To bob, who holds a newer custody. */
    spec_for(&h, &s, &w, W_ALICE, &s.bob, salt, old, 90);
    h.consent = rc;
    h.consent_len = rc_len;
    handover_refused(&s, &h, PARLEY_ECUSTODY);

    /*
     * To carol, who holds nothing: she cannot know it is stale. The
     * customer can: it refuses her claim, shows nothing of hers, and she
     * can hand nothing on.
     */
    mark = s.customer.n_events;
    spec_for(&h, &s, &w, W_ALICE, &carol, salt, old, 91);
    h.consent = rc;
    h.consent_len = rc_len;
    CHECK(store_newest_receive_key(&s.customer, s.conv, key)); /* one it still holds */
    h.receive_pk = key;
    handover_inject(&s.relay, &h);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_ECUSTODY));
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_CONVERSATION) == 0);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    CHECK(custody_of(&s.customer, s.conv, &acked) == 2);
    CHECK(custody_of(&carol, s.conv, &acked) == 1 && !acked);
    CHECK_ERR(parley__core_transfer(carol.core, s.conv, "alice", s.relay.now), PARLEY_ECUSTODY);
    CHECK_OK(parley__core_send_text(carol.core, s.conv, "Je suis votre agent.", NULL, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_text_count(&s.customer, "Je suis votre agent.") == 0);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EUNTRUSTED));
    /* bob and the customer are undisturbed. */
    scene_say(&s, &s.customer, "Bob ?");
    CHECK(mr_text_count(&s.bob, "Bob ?") == 1 && mr_text_count(&carol, "Bob ?") == 0);
    scene_say(&s, &s.bob, "Oui.");
    CHECK(mr_text_count(&s.customer, "Oui.") == 1);
    CHECK(custody_of(&s.bob, s.conv, &acked) == 2 && acked);
    parley__custody_ack__free_unpacked(old, NULL);
    free(rc);
    mr_party_free(&carol);
    scene_free(&s);
}

/* A replayed envelope: reported as a replay with PARLEY_EREPLAY, nothing else. */
static void replay_refused(struct scene *s, struct mr_party *to, const uint8_t *env, size_t len,
                           parley_conv_state state)
{
    struct transcript before, after;
    const struct mr_event *e;
    uint8_t *copy;
    size_t copy_len, cap = s->relay.n_cap;
    int mark = to->n_events;

    transcript_of(to, s->conv, &before);
    forge_rewrap(env, len, true, NULL, &copy, &copy_len);
    mr_inject(&s->relay, to, copy, copy_len);
    mr_pump(&s->relay);
    free(copy);
    if (mr_count_since(to, mark, PARLEY_EV_REPLAY) != 1) {
        mr_dump(to, mark);
        CHECK(!"one REPLAY event");
    }
    e = mr_last(to, PARLEY_EV_REPLAY);
    CHECK(e->ev.error == PARLEY_EREPLAY && memcmp(e->ev.conversation_id, s->conv, 16) == 0);
    CHECK(to->n_events == mark + 1);
    CHECK(mr_state_is(to, s->conv, state));
    CHECK(s->relay.n_cap == cap); /* no claim */
    CHECK(mr_stored_for(&s->relay, to) == 0);
    transcript_of(to, s->conv, &after);
    CHECK(transcript_same(&before, &after));
    transcript_free(&before);
    transcript_free(&after);
}

static void test_handover_replay(void)
{
    struct scene s;
    struct mr_buf handover;
    size_t before;
    int i;

    printf("handover_replay: the relay replays a handover, to the agent who holds the "
           "conversation and after it closed: REPLAY (EREPLAY), nothing reopened\n");
    claimed_scene(&s);
    /* The relay hands out none of bob's one-time prekeys: the handover is sealed to a key he keeps
     * (his medium-term prekey). */
    mr_drain_prekeys(&s.relay, &s.bob, false);
    before = s.relay.n_cap;
    transfer(&s, &s.alice, &s.bob, "bob", 2);
    i = capture_to(&s.relay, before, &s.bob);
    CHECK(i >= 0);
    handover.n = s.relay.cap[i].env.n;
    handover.p = malloc(handover.n);
    CHECK(handover.p != NULL);
    memcpy(handover.p, s.relay.cap[i].env.p, handover.n);
    scene_say(&s, &s.bob, "Bob ici.");

    replay_refused(&s, &s.bob, handover.p, handover.n, PARLEY_CONV_ACTIVE);
    mr_advance(&s.relay, 1000);
    CHECK_OK(parley__core_close(s.bob.core, s.conv, "resolu", s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_CLOSED));
    replay_refused(&s, &s.bob, handover.p, handover.n, PARLEY_CONV_CLOSED);
    free(handover.p);
    scene_free(&s);
}

/* The customer refuses claim/transfer forged as `from`, sealed to its newest key, with ECUSTODY. */
static void customer_refuses(struct scene *s, int from, const char *claim, uint64_t custody,
                             const Parley__Payload *body, uint64_t seq)
{
    struct forge f;
    uint8_t key[32], *env;
    size_t len;
    int mark = s->customer.n_events;

    CHECK(store_newest_receive_key(&s->customer, s->conv, key));
    memset(&f, 0, sizeof(f));
    f.sign_sk = w.agents[from]->secret->sign_sk;
    f.cert = w.certs[from];
    f.cert_len = w.cert_lens[from];
    f.to_box = key;
    f.to_sign = s->customer.sign_pk;
    f.conv = s->conv;
    f.seq = seq;
    f.time_ms = s->relay.now;
    f.claim_agent = claim;
    f.claim_custody = custody;
    f.body = body;
    forge_envelope(&f, &env, &len);
    mr_inject(&s->relay, &s->customer, env, len);
    mr_pump(&s->relay);
    free(env);
    if (!mr_rejected_since(&s->customer, mark, PARLEY_ECUSTODY) ||
        mr_count_since(&s->customer, mark, PARLEY_EV_REJECTED) != 1) {
        mr_dump(&s->customer, mark);
        CHECK(!"refused out of custody order (ECUSTODY)");
    }
    CHECK(mr_count_since(&s->customer, mark, PARLEY_EV_CONVERSATION) == 0);
    CHECK(mr_stored_for(&s->relay, &s->customer) == 0);
}

static void test_custody_customer_order(void)
{
    struct scene s;
    Parley__Payload tp = PARLEY__PAYLOAD__INIT;
    Parley__Transfer t = PARLEY__TRANSFER__INIT;
    Parley__AgentCert *carol_cert;
    bool acked;

    printf("custody_customer_order: the customer takes claims and transfers only in custody "
           "order (ECUSTODY)\n");
    claimed_scene(&s);
    CHECK(custody_of(&s.customer, s.conv, &acked) == 1);
    /* bob claims too late. */
    customer_refuses(&s, W_BOB, "bob", 0, NULL, 2);
    /* bob, not the customer's agent, announces a transfer to carol. */
    carol_cert = parley__agent_cert__unpack(NULL, w.cert_lens[W_CAROL], w.certs[W_CAROL]);
    CHECK(carol_cert != NULL);
    t.target = carol_cert;
    tp.body_case = PARLEY__PAYLOAD__BODY_TRANSFER;
    tp.transfer = &t;
    customer_refuses(&s, W_BOB, NULL, 0, &tp, 3);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));

    /* alice transfers to bob; bob's envelopes wait at the relay. */
    s.relay.hold_to = &s.bob;
    mr_advance(&s.relay, 1000);
    CHECK_OK(parley__core_transfer(s.alice.core, s.conv, "bob", s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_TRANSFERRING));
    /* carol was not announced. */
    customer_refuses(&s, W_CAROL, "carol", 1, NULL, 1);
    /* bob, announced, but following a custody that is not the current one. */
    customer_refuses(&s, W_BOB, "bob", 0, NULL, 4);
    customer_refuses(&s, W_BOB, "bob", 7, NULL, 5);
    /* alice, who handed it over, cannot announce another transfer. */
    customer_refuses(&s, W_ALICE, NULL, 0, &tp, 40);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_TRANSFERRING));
    /* bob's own claim, following alice's custody, is taken. */
    s.relay.hold_to = NULL;
    mr_release(&s.relay);
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    CHECK(strcmp(mr_last(&s.customer, PARLEY_EV_CONVERSATION)->ev.agent.agent_id, "bob") == 0);
    CHECK(custody_of(&s.customer, s.conv, &acked) == 2);
    CHECK(custody_of(&s.bob, s.conv, &acked) == 2 && acked);
    /* bob announcing a transfer to himself is no transfer. */
    t.target = parley__agent_cert__unpack(NULL, w.cert_lens[W_BOB], w.certs[W_BOB]);
    CHECK(t.target != NULL);
    customer_refuses(&s, W_BOB, NULL, 0, &tp, 60);
    parley__agent_cert__free_unpacked(t.target, NULL);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    parley__agent_cert__free_unpacked(carol_cert, NULL);
    scene_free(&s);
}

/* An acknowledgement sent to alice as the customer: alice must refuse it with ECUSTODY. */
static void ack_refused(struct scene *s, const parley_identity *customer,
                        const Parley__CustodyAck *ack, uint64_t seq)
{
    Parley__Payload body = PARLEY__PAYLOAD__INIT;
    uint64_t custody;
    bool acked;
    int mark;

    custody = custody_of(&s->alice, s->conv, &acked);
    body.body_case = PARLEY__PAYLOAD__BODY_CUSTODY_ACK;
    body.custody_ack = (Parley__CustodyAck *)ack;
    mark = customer_to_alice(s, customer, &body, seq);
    CHECK(mr_rejected_since(&s->alice, mark, PARLEY_ECUSTODY));
    CHECK(custody_of(&s->alice, s->conv, &acked) == custody && acked);
}

static void test_custody_ack_order(void)
{
    struct scene s;
    parley_identity *customer;
    Parley__CustodyAck *ack;

    printf("custody_ack_order: alice takes only the customer's acknowledgement of herself, "
           "newer than the one she holds (ECUSTODY)\n");
    claimed_scene(&s);
    customer = identity_of(&s.customer);
    /* The same counter again, freshly signed. */
    ack = ack_make(customer, s.conv, s.alice.sign_pk, 1);
    ack_refused(&s, customer, ack, 50);
    parley__custody_ack__free_unpacked(ack, NULL);
    /* Naming bob. */
    ack = ack_make(customer, s.conv, s.bob.sign_pk, 5);
    ack_refused(&s, customer, ack, 51);
    parley__custody_ack__free_unpacked(ack, NULL);
    /* Signed by someone else. */
    ack = ack_make(w.agents[W_BOB], s.conv, s.alice.sign_pk, 5);
    ack_refused(&s, customer, ack, 52);
    parley__custody_ack__free_unpacked(ack, NULL);
    parley_identity_free(customer);
    scene_free(&s);
}

static void test_handover_long_history(void)
{
    struct scene s;
    struct transcript t;
    char *text = malloc(12001);
    char head[32];

    printf("handover_long_history: a conversation longer than one envelope is handed over with "
           "its most recent lines\n");
    CHECK(text != NULL);
    claimed_scene(&s);
    for (int i = 0; i < 8; i++) {
        snprintf(head, sizeof(head), "ligne %d:", i);
        memset(text, 'x', 12000);
        memcpy(text, head, strlen(head));
        text[12000] = '\0';
        scene_say(&s, i % 2 ? &s.alice : &s.customer, text);
    }
    transfer(&s, &s.alice, &s.bob, "bob", 2);
    transcript_of(&s.bob, s.conv, &t);
    /* The newest lines are there, whole; what did not fit is the oldest. */
    CHECK(t.n >= 4 && t.n < 12);
    CHECK(strncmp(t.rows[t.n - 1], "A:ligne 7:", 10) == 0);
    CHECK(strncmp(t.rows[t.n - 2], "C:ligne 6:", 10) == 0);
    transcript_free(&t);
    scene_say(&s, &s.bob, "Bob ici.");
    CHECK(mr_text_count(&s.customer, "Bob ici.") == 1);
    free(text);
    scene_free(&s);
}

int main(int argc, char **argv)
{
    static const struct named_case cases[] = {
        {"handover_custody_foreign", test_handover_custody_foreign},
        {"handover_custody_chain", test_handover_custody_chain},
        {"handover_custody_former_agent", test_handover_custody_former_agent},
        {"handover_replay", test_handover_replay},
        {"custody_customer_order", test_custody_customer_order},
        {"custody_ack_order", test_custody_ack_order},
        {"handover_long_history", test_handover_long_history},
    };

    return run_cases(argc, argv, &w, cases, sizeof(cases) / sizeof(cases[0]));
}
