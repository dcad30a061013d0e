/*
 * The brand directory's signed expiry, as clients apply it: an expired
 * directory is refused, fewer than seven days left is told to the
 * application, a directory is accepted only when newer than the one held
 * or byte for byte the same, and without a valid directory nothing new
 * starts (customers cannot open, agents refuse Opens: they could not check
 * the consent against the notice). So a relay that freezes what it serves
 * cannot hide a revocation for longer than the brand allows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "world.h"

#define DAY_MS (86400ull * 1000u)
#define T0_S (W_T0 / 1000u)

static struct world w;

/* p reconnects to a relay that serves dir (len bytes, copied) on every fetch; returns p's mark. */
static int reconnect_served(struct scene *s, struct mr_party *p, const uint8_t *dir, size_t len)
{
    int mark = p->n_events;

    scene_serve_directory(s, p, dir, len);
    return mark;
}

static uint64_t held_version(struct mr_party *p)
{
    const parley_directory *d = parley__core_directory(p->core);

    return d != NULL ? parley_directory_version(d) : 0;
}

static void test_expired_refused(void)
{
    struct scene s;
    uint8_t *dir;
    size_t len;
    int mark;

    printf("directory: a directory past its signed expiry is refused (EEXPIRED)\n");
    scene_init(&s, &w);
    /* Newer than the one held, but its brand let it lapse an hour ago. */
    world_directory(&w, 3, T0_S - 3600u, &dir, &len);
    mark = reconnect_served(&s, &s.customer, dir, len);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EEXPIRED));
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_DIRECTORY) == 0);
    CHECK(held_version(&s.customer) == 2);
    /* The one held still serves: consent and a conversation. */
    scene_open(&s, "Bonjour");
    parley_free(dir, len);
    scene_free(&s);
}

static void test_same_version_other_bytes(void)
{
    struct scene s;
    uint8_t *dir;
    size_t len;
    int mark;

    printf("directory: the same version with other bytes is refused (EROLLBACK), the same "
           "bytes accepted\n");
    scene_init(&s, &w);
    /* Version 2 again, signed by the brand, but not the version 2 the customer holds. */
    world_directory(&w, 2, T0_S + 20u * 86400u, &dir, &len);
    CHECK(len != w.dir_v2_len || memcmp(dir, w.dir_v2, len) != 0);
    mark = reconnect_served(&s, &s.customer, dir, len);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EROLLBACK));
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_DIRECTORY) == 0);
    CHECK(parley_directory_expires_at(parley__core_directory(s.customer.core)) ==
          T0_S + 30u * 86400u);
    /* Also after a restart: the bytes held are remembered with the version. */
    mark = mr_reboot(&s.customer);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EROLLBACK));
    /* The very same directory again is fine. */
    mark = reconnect_served(&s, &s.customer, w.dir_v2, w.dir_v2_len);
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_REJECTED) == 0);
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_DIRECTORY) == 1);
    parley_free(dir, len);
    scene_free(&s);
}

static const struct mr_event *expiry_since(const struct mr_party *p, int mark, int *n)
{
    const struct mr_event *last = NULL;

    *n = 0;
    for (int i = mark; i < p->n_events; i++)
        if (p->events[i].ev.kind == PARLEY_EV_DIRECTORY_EXPIRY) {
            last = &p->events[i];
            (*n)++;
        }
    return last;
}

static void test_expiry_warning(void)
{
    struct scene s;
    const struct mr_event *e;
    uint8_t *dir, conv[16];
    uint64_t expires = T0_S + 8u * 86400u;
    size_t len;
    int mark, n;

    printf("directory: fewer than 7 days left is told once, expiry once; then nothing new "
           "starts (ENODIRECTORY)\n");
    scene_init(&s, &w);
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    world_directory(&w, 3, expires, &dir, &len);
    mark = reconnect_served(&s, &s.customer, dir, len);
    CHECK(held_version(&s.customer) == 3);
    CHECK(expiry_since(&s.customer, mark, &n) == NULL); /* 8 days left: nothing to say yet */
    /* A day later, by the clock alone, the warning comes, once. */
    mr_advance(&s.relay, DAY_MS + 1000u);
    mr_pump(&s.relay);
    e = expiry_since(&s.customer, mark, &n);
    CHECK(n == 1 && e->ev.error == PARLEY_OK && e->ev.expires_at == expires);
    mr_advance(&s.relay, DAY_MS);
    mr_pump(&s.relay);
    expiry_since(&s.customer, mark, &n);
    CHECK(n == 1);
    /* Reconnecting to the same directory does not repeat it. */
    reconnect_served(&s, &s.customer, dir, len);
    expiry_since(&s.customer, mark, &n);
    CHECK(n == 1);
    /* A restarted client tells its application again. */
    mr_reboot(&s.customer);
    expiry_since(&s.customer, mark, &n);
    CHECK(n == 2);
    CHECK_OK(parley__core_open(s.customer.core, "support", "Encore valide", conv, s.relay.now));
    /* Expired: said once more, and the client starts nothing new. */
    mr_advance(&s.relay, 6u * DAY_MS);
    mr_pump(&s.relay);
    e = expiry_since(&s.customer, mark, &n);
    CHECK(n == 3 && e->ev.error == PARLEY_EEXPIRED && e->ev.expires_at == expires);
    CHECK_ERR(parley__core_open(s.customer.core, "support", "Trop tard", conv, s.relay.now),
              PARLEY_ENODIRECTORY);
    CHECK_ERR(parley__core_consent(s.customer.core, NULL, 0, s.relay.now), PARLEY_ENODIRECTORY);
    {
        parley_directory *ref = NULL;

        CHECK_ERR(parley__core_directory_ref(s.customer.core, s.relay.now, &ref), PARLEY_EEXPIRED);
        CHECK(ref == NULL);
    }
    /* The expired one is still held (its revocations count), and a newer one is taken. */
    CHECK(held_version(&s.customer) == 3);
    parley_free(dir, len);
    world_directory(&w, 4, T0_S + 60u * 86400u, &dir, &len);
    reconnect_served(&s, &s.customer, dir, len);
    CHECK(held_version(&s.customer) == 4);
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "support", "De nouveau", conv, s.relay.now));
    parley_free(dir, len);
    scene_free(&s);
}

static void test_agent_without_directory(void)
{
    struct scene s;
    uint8_t *dir;
    size_t len;
    int mark;

    printf("directory: an agent whose directory expired refuses new conversations "
           "(ENODIRECTORY)\n");
    scene_init(&s, &w);
    world_directory(&w, 3, T0_S + 2u * 86400u, &dir, &len);
    reconnect_served(&s, &s.alice, dir, len);
    reconnect_served(&s, &s.bob, dir, len);
    reconnect_served(&s, &s.customer, dir, len);
    CHECK(held_version(&s.bob) == 3 && held_version(&s.customer) == 3);
    /* The customer opens in time; bob's copy waits at the relay past the expiry. */
    s.relay.hold_to = &s.bob;
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "support", "Bonjour", s.conv, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED));
    mr_advance(&s.relay, 3u * DAY_MS);
    mark = s.bob.n_events;
    s.relay.hold_to = NULL;
    mr_release(&s.relay);
    mr_pump(&s.relay);
    CHECK(mr_rejected_since(&s.bob, mark, PARLEY_ENODIRECTORY));
    CHECK(mr_text_count(&s.bob, "Bonjour") == 0);
    CHECK(mr_count_since(&s.bob, mark, PARLEY_EV_CONVERSATION) == 0);
    CHECK(mr_stored_for(&s.relay, &s.bob) == 0); /* refused, not left to come again */
    /* The customer, told of the expiry, opens nothing new either. */
    CHECK_ERR(parley__core_open(s.customer.core, "support", "Encore", s.conv, s.relay.now),
              PARLEY_ENODIRECTORY);
    parley_free(dir, len);
    scene_free(&s);
}

static void test_agent_never_had_directory(void)
{
    struct scene s;
    struct mr_party carol;
    struct mr_buf stored;
    uint8_t conv[16];
    int mark;

    printf("directory: an agent that never had a directory refuses Opens instead of skipping "
           "the consent check (ENODIRECTORY)\n");
    scene_init(&s, &w);
    mr_party_init(&carol, &s.relay, "carol", w.agents[W_CAROL], w.certs[W_CAROL],
                  w.cert_lens[W_CAROL], NULL, 0);
    /* The relay tells carol it has no directory. */
    stored = s.relay.directory;
    memset(&s.relay.directory, 0, sizeof(s.relay.directory));
    mr_connect(&carol);
    mr_pump(&s.relay);
    s.relay.directory = stored;
    CHECK(parley__core_ready(carol.core) && parley__core_directory(carol.core) == NULL);
    mark = carol.n_events;
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "vip", "Bonjour Carol", conv, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_rejected_since(&carol, mark, PARLEY_ENODIRECTORY));
    CHECK(mr_text_count(&carol, "Bonjour Carol") == 0);
    CHECK(mr_count_since(&carol, mark, PARLEY_EV_CONVERSATION) == 0);
    /* Once it has one, the next Open is taken. */
    mr_disconnect(&carol);
    mr_connect(&carol);
    mr_pump(&s.relay);
    CHECK(parley__core_directory(carol.core) != NULL);
    CHECK_OK(parley__core_open(s.customer.core, "vip", "Bonjour encore", conv, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&carol, conv, PARLEY_CONV_QUEUED));
    CHECK(mr_text_count(&carol, "Bonjour encore") == 1);
    mr_party_free(&carol);
    scene_free(&s);
}

/*
 * A directory that has expired vouches for no new agent key: a claim, a
 * transfer or a handover that arrives after the expiry is refused
 * (ENODIRECTORY), an agent transfers to nobody, and the customer seals
 * nothing more to its agent (ENODIRECTORY), each told to the application
 * besides the expiry itself; a fresh directory lets the conversation go on.
 */
static void test_expired_no_new_agent_key(void)
{
    struct scene s;
    const struct mr_event *e;
    uint8_t *dir, conv2[16];
    size_t len, cap_before;
    uint64_t seq = 99;
    int mark_c, mark_b, n;

    printf("directory: once expired, no new agent key is taken (claim, transfer, handover: "
           "ENODIRECTORY) and the customer seals nothing more to its agent\n");
    scene_init(&s, &w);
    world_directory(&w, 3, T0_S + 2u * 86400u, &dir, &len);
    reconnect_served(&s, &s.alice, dir, len);
    reconnect_served(&s, &s.bob, dir, len);
    reconnect_served(&s, &s.customer, dir, len);
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    CHECK_OK(parley__core_open(s.customer.core, "support", "Autre question", conv2, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.bob, conv2, PARLEY_CONV_QUEUED));
    /* In time: bob claims the second, alice hands the first to bob; all held past the expiry. */
    s.relay.hold = true;
    CHECK_OK(parley__core_claim(s.bob.core, conv2, s.relay.now));
    CHECK_OK(parley__core_transfer(s.alice.core, s.conv, "bob", s.relay.now));
    mr_pump(&s.relay);
    mr_advance(&s.relay, 3u * DAY_MS);
    mark_c = s.customer.n_events;
    mark_b = s.bob.n_events;
    s.relay.hold = false;
    mr_release(&s.relay);
    mr_pump(&s.relay);
    e = expiry_since(&s.customer, mark_c, &n);
    CHECK(n == 1 && e->ev.error == PARLEY_EEXPIRED);
    CHECK(mr_rejected_since(&s.customer, mark_c, PARLEY_ENODIRECTORY));
    CHECK(mr_count_since(&s.customer, mark_c, PARLEY_EV_REJECTED) == 2); /* claim, transfer */
    CHECK(mr_state_is(&s.customer, conv2, PARLEY_CONV_WAITING));
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    CHECK(mr_rejected_since(&s.bob, mark_b, PARLEY_ENODIRECTORY)); /* alice's handover */
    CHECK(!mr_state_is(&s.bob, s.conv, PARLEY_CONV_ACTIVE));
    /* Nothing more sealed to alice by the customer, and alice transfers to nobody. */
    cap_before = s.relay.n_cap;
    mark_c = s.customer.n_events;
    CHECK_ERR(parley__core_send_text(s.customer.core, s.conv, "Encore une chose", &seq,
                                     s.relay.now),
              PARLEY_ENODIRECTORY);
    CHECK(seq == 0);
    CHECK_ERR(parley__core_transfer(s.alice.core, s.conv, "bob", s.relay.now),
              PARLEY_ENODIRECTORY);
    mr_pump(&s.relay);
    CHECK(mr_rejected_since(&s.customer, mark_c, PARLEY_ENODIRECTORY));
    CHECK(s.relay.n_cap == cap_before);
    /* A fresh directory: the customer writes again. */
    parley_free(dir, len);
    world_directory(&w, 4, T0_S + 60u * 86400u, &dir, &len);
    reconnect_served(&s, &s.customer, dir, len);
    CHECK(held_version(&s.customer) == 4);
    CHECK_OK(parley__core_send_text(s.customer.core, s.conv, "De nouveau", &seq, s.relay.now));
    mr_pump(&s.relay);
    CHECK(seq > 0 && s.relay.n_cap > cap_before);
    parley_free(dir, len);
    scene_free(&s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    world_init(&w);
    test_expired_refused();
    test_same_version_other_bytes();
    test_expiry_warning();
    test_agent_without_directory();
    test_agent_never_had_directory();
    test_expired_no_new_agent_key();
    world_free(&w);
    printf("ok\n");
    return 0;
}
