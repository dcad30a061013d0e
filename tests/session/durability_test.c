/*
 * Durability of the core across crashes (a core freed without running
 * further, its store kept): an outgoing message in the outbox survives and
 * is resent under the same envelope id; a received envelope recorded
 * before its `delivered` reached the relay is not shown twice when the
 * relay delivers it again, and is acknowledged again. A text is shown
 * before its record is committed (the held group): a power cut or a
 * failed commit in between means it is delivered and shown again, and
 * recorded once; a reply made before the commit commits it first.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "forge.h"
#include "keyring.h"
#include "world.h"

static struct world w;

struct outbox_ids {
    uint8_t ids[16][16];
    size_t n;
};

static int collect_outbox(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                          size_t val_len)
{
    struct outbox_ids *o = arg;
    Parley__OutboxEntry *e = parley__outbox_entry__unpack(NULL, val_len, val);

    (void)key;
    (void)key_len;
    CHECK(e != NULL && parley__len_is(e->envelope_id, 16) && o->n < 16);
    memcpy(o->ids[o->n++], e->envelope_id.data, 16);
    parley__outbox_entry__free_unpacked(e, NULL);
    return 0;
}

static void outbox_of(struct mr_party *p, struct outbox_ids *o)
{
    memset(o, 0, sizeof(*o));
    CHECK_OK(parley__vault_scan(p->vault, "outbox", NULL, 0, collect_outbox, o));
}

/* Envelopes with this id the relay was handed, from `from` on. */
static int carried(const struct mr_relay *r, size_t from, const uint8_t id[16])
{
    int n = 0;

    for (size_t i = from; i < r->n_cap; i++) {
        uint8_t got[16];
        envelope_id_of(r->cap[i].env.p, r->cap[i].env.n, got);
        n += memcmp(got, id, 16) == 0;
    }
    return n;
}

static void claimed_scene(struct scene *s)
{
    scene_init(s, &w);
    scene_open(s, "Bonjour");
    scene_claim(s);
    scene_say(s, &s->alice, "Bonjour, je suis Alice");
    scene_say(s, &s->customer, "Bonjour Alice");
}

static void restart(struct scene *s, struct mr_party *p)
{
    mr_restart(p);
    mr_connect(p);
    mr_pump(&s->relay);
}

static int history_rows(struct mr_party *p)
{
    return (int)memstore_rows(p->ms, "history");
}

/* The message never left: the frame died with the core. */
static void crash_before_send(struct scene *s, struct mr_party *from, struct mr_party *to)
{
    static int turn;
    struct outbox_ids o;
    size_t before = s->relay.n_cap;
    int sent;
    char text[32];

    snprintf(text, sizeof(text), "avant la panne %d", turn++);
    mr_advance(&s->relay, 1000);
    CHECK_OK(parley__core_send_text(from->core, s->conv, text, NULL, s->relay.now));
    outbox_of(from, &o);
    CHECK(o.n == 1);
    mr_crash(from);
    mr_pump(&s->relay);
    CHECK(s->relay.n_cap == before && mr_text_count(to, text) == 0);
    sent = mr_count(from, PARLEY_EV_SENT);
    restart(s, from);
    CHECK(mr_text_count(to, text) == 1);
    CHECK(carried(&s->relay, before, o.ids[0]) == 1);
    CHECK(mr_count(from, PARLEY_EV_SENT) == sent + 1);
    CHECK(parley__core_outbox_size(from->core) == 0 && memstore_rows(from->ms, "outbox") == 0);
    CHECK(mr_stored_for(&s->relay, to) == 0);
}

/* The relay stored it (and the peer may have it already), but its ack died with the core. */
static void crash_before_ack(struct scene *s, struct mr_party *from, struct mr_party *to,
                             bool peer_online)
{
    static int turn;
    struct outbox_ids o;
    size_t before = s->relay.n_cap;
    int mark = to->n_events;
    char text[32];

    snprintf(text, sizeof(text), "ack perdu %d", turn++);
    if (!peer_online)
        mr_disconnect(to);
    mr_advance(&s->relay, 1000);
    CHECK_OK(parley__core_send_text(from->core, s->conv, text, NULL, s->relay.now));
    outbox_of(from, &o);
    CHECK(o.n == 1);
    mr_flush_out(from);
    CHECK(s->relay.n_cap == before + 1 && from->n_in > from->head_in); /* the ack, not yet read */
    mr_crash(from);
    mr_pump(&s->relay);
    CHECK(mr_text_count(to, text) == (peer_online ? 1 : 0));
    restart(s, from);
    if (!peer_online) {
        CHECK(mr_stored_for(&s->relay, to) == 1); /* the resend was stored once */
        mr_connect(to);
        mr_pump(&s->relay);
    }
    CHECK(carried(&s->relay, before, o.ids[0]) == 2);
    CHECK(mr_text_count(to, text) == 1);
    CHECK(mr_count_since(to, mark, PARLEY_EV_REJECTED) == 0);
    CHECK(mr_count_since(to, mark, PARLEY_EV_REPLAY) == 0);
    CHECK(parley__core_outbox_size(from->core) == 0 && memstore_rows(from->ms, "outbox") == 0);
    CHECK(mr_stored_for(&s->relay, to) == 0);
}

/* The recipient recorded it and told the application, but its `delivered` died with it. */
static void crash_before_delivered(struct scene *s, struct mr_party *from, struct mr_party *to)
{
    static int turn;
    int mark = to->n_events, hist, acks;
    char text[32], back[32], more[32];

    snprintf(text, sizeof(text), "recu ? %d", turn);
    snprintf(back, sizeof(back), "de retour %d", turn);
    snprintf(more, sizeof(more), "bien %d", turn++);
    mr_advance(&s->relay, 1000);
    CHECK_OK(parley__core_send_text(from->core, s->conv, text, NULL, s->relay.now));
    mr_flush_out(from);
    mr_route(&s->relay);
    while (mr_text_count(to, text) == 0)
        CHECK(mr_feed_one(to));
    hist = history_rows(to);
    mr_crash(to);
    CHECK(mr_stored_for(&s->relay, to) == 1);
    acks = s->relay.delivered_ids;
    restart(s, to);
    CHECK(s->relay.delivered_ids > acks);
    CHECK(mr_stored_for(&s->relay, to) == 0);
    CHECK(mr_text_count(to, text) == 1);
    CHECK(history_rows(to) == hist);
    CHECK(mr_count_since(to, mark, PARLEY_EV_MESSAGE) == 1);
    CHECK(mr_count_since(to, mark, PARLEY_EV_REJECTED) == 0);
    CHECK(mr_count_since(to, mark, PARLEY_EV_REPLAY) == 0);
    /* And the conversation goes on after the restart, both ways. */
    scene_say(s, to, back);
    CHECK(mr_text_count(from, back) == 1);
    scene_say(s, from, more);
    CHECK(mr_text_count(to, more) == 1);
}

/*
 * A text from `from`, delivered to `to` and shown there, its record not
 * committed yet: nothing acknowledged to the relay. Returns to's history
 * rows before it.
 */
static int shown_not_committed(struct scene *s, struct mr_party *from, struct mr_party *to,
                               const char *text)
{
    int hist = history_rows(to), acks;

    mr_advance(&s->relay, 1000);
    CHECK_OK(parley__core_send_text(from->core, s->conv, text, NULL, s->relay.now));
    mr_flush_out(from);
    mr_route(&s->relay);
    acks = s->relay.delivered_ids;
    while (mr_text_count(to, text) == 0)
        CHECK(mr_feed_one(to));
    mr_flush_out(to);
    CHECK(memstore_in_tx(to->ms));                  /* held, not committed */
    CHECK(parley__core_deadline(to->core) == 0);    /* the host is asked to tick at once */
    CHECK(s->relay.delivered_ids == acks);          /* no `delivered` before the commit */
    CHECK(mr_stored_for(&s->relay, to) == 1);
    return hist;
}

static void test_power_cut_before_commit(void)
{
    struct scene s;
    int hist, mark, receipts;

    printf("durability: text shown, power cut before its commit; shown again, recorded once\n");
    claimed_scene(&s);
    hist = shown_not_committed(&s, &s.customer, &s.alice, "avant le commit");
    receipts = mr_count(&s.customer, PARLEY_EV_DELIVERED);
    mark = s.alice.n_events;
    mr_power_cut(&s.alice);
    CHECK(history_rows(&s.alice) == hist);
    restart(&s, &s.alice);
    CHECK(mr_text_count(&s.alice, "avant le commit") == 2);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_MESSAGE) == 1);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_REPLAY) == 0);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_REJECTED) == 0);
    CHECK(history_rows(&s.alice) == hist + 1);
    CHECK(mr_stored_for(&s.relay, &s.alice) == 0);
    CHECK(mr_count(&s.customer, PARLEY_EV_DELIVERED) > receipts); /* the receipt, once recorded */
    /* Once more after a clean restart: recorded, acknowledged, never shown a third time. */
    mark = mr_reboot(&s.alice);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(history_rows(&s.alice) == hist + 1);
    scene_say(&s, &s.alice, "on continue");
    CHECK(mr_text_count(&s.customer, "on continue") == 1);
    scene_free(&s);
}

static void test_commit_fails(void)
{
    struct scene s;
    const struct mr_event *e;
    int hist, mark;

    printf("durability: text shown, its commit fails; told, delivered again, recorded once\n");
    claimed_scene(&s);
    hist = shown_not_committed(&s, &s.customer, &s.alice, "disque plein");
    mark = s.alice.n_events;
    memstore_fail_commits(s.alice.ms, 1);
    mr_pump(&s.relay);
    CHECK(!memstore_in_tx(s.alice.ms));
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_REJECTED) == 1);
    e = mr_last(&s.alice, PARLEY_EV_REJECTED);
    CHECK(e->ev.error == PARLEY_EIO && memcmp(e->ev.conversation_id, s.conv, 16) == 0);
    CHECK(memcmp(e->ev.sender_sign_pk, s.customer.sign_pk, 32) == 0 && e->ev.seq > 0);
    CHECK(history_rows(&s.alice) == hist);
    CHECK(mr_stored_for(&s.relay, &s.alice) == 1); /* never acknowledged */
    mr_disconnect(&s.alice);
    mr_connect(&s.alice);
    mr_pump(&s.relay);
    CHECK(mr_text_count(&s.alice, "disque plein") == 2);
    CHECK(history_rows(&s.alice) == hist + 1);
    CHECK(mr_stored_for(&s.relay, &s.alice) == 0);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_REPLAY) == 0);
    scene_free(&s);
}

static void test_reply_before_commit(void)
{
    struct scene s;
    int hist, mark;

    printf("durability: a reply before the commit commits the text first\n");
    claimed_scene(&s);
    hist = shown_not_committed(&s, &s.customer, &s.alice, "une question");
    CHECK_OK(parley__core_send_text(s.alice.core, s.conv, "une reponse", NULL, s.relay.now));
    CHECK(!memstore_in_tx(s.alice.ms));
    CHECK(history_rows(&s.alice) == hist + 2);
    /* Killed before anything left: the text is recorded, the reply in the outbox. */
    mark = s.alice.n_events;
    mr_power_cut(&s.alice);
    CHECK(history_rows(&s.alice) == hist + 2);
    restart(&s, &s.alice);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(mr_text_count(&s.alice, "une question") == 1);
    CHECK(mr_stored_for(&s.relay, &s.alice) == 0);
    CHECK(mr_text_count(&s.customer, "une reponse") == 1);
    CHECK(mr_count(&s.customer, PARLEY_EV_REPLAY) == 0 && mr_count(&s.customer, PARLEY_EV_GAP) == 0);
    scene_free(&s);
}

static void test_sender_crash(void)
{
    struct scene s;

    printf("durability: sender crashes before its message left; resent, shown once\n");
    claimed_scene(&s);
    crash_before_send(&s, &s.customer, &s.alice);
    crash_before_send(&s, &s.alice, &s.customer);
    scene_free(&s);
}

static void test_ack_lost(void)
{
    struct scene s;

    printf("durability: sender crashes before the relay's ack; same envelope id, shown once\n");
    claimed_scene(&s);
    crash_before_ack(&s, &s.customer, &s.alice, true);
    crash_before_ack(&s, &s.alice, &s.customer, true);
    crash_before_ack(&s, &s.customer, &s.alice, false);
    crash_before_ack(&s, &s.alice, &s.customer, false);
    scene_free(&s);
}

static void test_recipient_crash(void)
{
    struct scene s;

    printf("durability: recipient crashes before `delivered`; redelivered, not shown twice\n");
    claimed_scene(&s);
    crash_before_delivered(&s, &s.alice, &s.customer);
    crash_before_delivered(&s, &s.customer, &s.alice);
    scene_free(&s);
}

static void test_crash_after_open(void)
{
    struct scene s;

    printf("durability: customer crashes right after opening; the Open still goes out\n");
    scene_init(&s, &w);
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "support", "Bonjour", s.conv, s.relay.now));
    mr_crash(&s.customer);
    mr_pump(&s.relay);
    CHECK(!mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED));
    restart(&s, &s.customer);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED));
    CHECK(mr_state_is(&s.bob, s.conv, PARLEY_CONV_QUEUED));
    CHECK(mr_text_count(&s.alice, "Bonjour") == 1 && mr_text_count(&s.bob, "Bonjour") == 1);
    scene_claim(&s);
    scene_free(&s);
}

static void test_agent_crash_after_open(void)
{
    struct scene s;
    struct keyring kr;
    size_t prekeys;

    printf("durability: agent crashes after recording an Open; redelivered, shown once\n");
    scene_init(&s, &w);
    prekeys = memstore_rows(s.bob.ms, "prekey");
    s.relay.hold_to = &s.bob;
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "support", "Bonjour", s.conv, s.relay.now));
    mr_pump(&s.relay);
    s.relay.hold_to = NULL;
    mr_release(&s.relay);
    mr_route(&s.relay);
    while (mr_text_count(&s.bob, "Bonjour") == 0)
        CHECK(mr_feed_one(&s.bob));
    /* The prekey it was sealed to went in the same transaction as the record. */
    CHECK(memstore_rows(s.bob.ms, "prekey") == prekeys - 1);
    mr_crash(&s.bob);
    CHECK(mr_stored_for(&s.relay, &s.bob) == 1);
    restart(&s, &s.bob);
    CHECK(mr_stored_for(&s.relay, &s.bob) == 0);
    CHECK(mr_text_count(&s.bob, "Bonjour") == 1);
    CHECK(mr_count(&s.bob, PARLEY_EV_REJECTED) == 0);
    CHECK(mr_state_is(&s.bob, s.conv, PARLEY_CONV_QUEUED));
    keyring_init(&kr);
    keyring_of_party(&kr, &s.bob);
    for (size_t i = 0; i < s.relay.n_cap; i++)
        if (memcmp(s.relay.cap[i].recipient, s.bob.routing, 32) == 0)
            CHECK(keyring_opens(&kr, s.relay.cap[i].env.p, s.relay.cap[i].env.n) < 0);
    keyring_free(&kr);
    CHECK_OK(parley__core_claim(s.bob.core, s.conv, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    scene_free(&s);
}

static int count_entry(void *user, const parley_history_entry *e)
{
    (*(int *)user)++;
    return 0;
}

static int history_of(struct mr_party *p, const uint8_t conv[16])
{
    int n = 0;

    CHECK_OK(parley__core_history(p->core, conv, count_entry, &n));
    return n;
}

/* A client's own history retention, on the fake clock: old messages go, new ones stay. */
static void test_history_retention(void)
{
    struct scene s;

    printf("retention: history older than the client's limit is deleted on the clock\n");
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    scene_say(&s, &s.customer, "an old message");
    CHECK(history_of(&s.alice, s.conv) == 2);
    mr_crash(&s.alice);
    s.alice.history_retention_days = 1;
    mr_restart(&s.alice);
    mr_connect(&s.alice);
    mr_pump(&s.relay);
    CHECK(history_of(&s.alice, s.conv) == 2); /* not a day old yet */
    mr_advance(&s.relay, 25ull * 3600 * 1000);
    parley__core_tick(s.alice.core, s.relay.now);
    /* Nothing of it left inside the limit: the conversation went whole (see session-policy). */
    CHECK_ERR(parley__core_history(s.alice.core, s.conv, count_entry, &(int){0}), PARLEY_EINVAL);
    CHECK(history_of(&s.customer, s.conv) == 2); /* the customer set no limit */
    scene_free(&s);

    /* A conversation still in use keeps its new messages while the old ones go. */
    scene_init(&s, &w);
    mr_crash(&s.alice);
    s.alice.history_retention_days = 1;
    mr_restart(&s.alice);
    mr_connect(&s.alice);
    mr_pump(&s.relay);
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    mr_advance(&s.relay, 23ull * 3600 * 1000);
    scene_say(&s, &s.customer, "a new message");
    CHECK(history_of(&s.alice, s.conv) == 2);
    mr_advance(&s.relay, 2ull * 3600 * 1000);
    parley__core_tick(s.alice.core, s.relay.now);
    CHECK(history_of(&s.alice, s.conv) == 1);
    scene_free(&s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    world_init(&w);
    test_sender_crash();
    test_ack_lost();
    test_recipient_crash();
    test_crash_after_open();
    test_agent_crash_after_open();
    test_power_cut_before_commit();
    test_commit_fails();
    test_reply_before_commit();
    test_history_retention();
    world_free(&w);
    printf("ok\n");
    return 0;
}
