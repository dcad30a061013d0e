/*
 * Expiry after the default TTL (thirty days), with the relay's clock moved
 * forward instead of waited for: parley-relay-fakeclock reads
 * PARLEY_RELAY_CLOCK_OFFSET_S at start-up. The database persists across
 * restarts, so each restart is a jump of the clock:
 *   day 0   two envelopes stored;
 *   day 29  nothing expires; a third envelope is stored;
 *   day 30 + 1 min  the two from day 0 expire and their bytes leave the
 *           database and its WAL; the one from day 29 is kept and still
 *           delivered.
 * On another store (PARLEY_TEST_STORE, the NATS one: tests/cluster) the
 * same, but for the search of the sqlite file, which that store does not
 * write: there what the store holds (tk_stored_until) and the deliveries
 * show what is kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "testkit.h"

#define DAY_S 86400L

/* Whether the relay keeps its envelopes in the sqlite file the test can read. */
static bool in_sqlite(void)
{
    return getenv("PARLEY_TEST_STORE") == NULL;
}

static void start_at(struct tk_env *e, long offset_s)
{
    static const char *const args[] = {"--expiry-interval", "1", NULL};
    char v[32];

    snprintf(v, sizeof(v), "%ld", offset_s);
    CHECK(setenv("PARLEY_RELAY_CLOCK_OFFSET_S", v, 1) == 0);
    tk_env_start(e, args);
}

static void stop(struct tk_env *e)
{
    int status = relay_stop(&e->relay, 15000);

    CHECKM(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "relay did not exit 0 on SIGTERM (wait status %d)", status);
}

/* Sends text as the sealed bytes of an envelope to `to`, waiting for the ack. */
static void store_one(struct tk_env *e, const parley_identity *from, const uint8_t to[32],
                      const char *text)
{
    uint8_t eid[16];
    wsc *c = pc_connect(e->relay.port, from, NULL, 0);

    CHECK(c != NULL);
    tk_random(eid, sizeof(eid));
    tk_send_acked(c, eid, to, (const uint8_t *)text, strlen(text));
    wsc_free(c);
}

/* Waits up to ms for the relay's expired-envelopes counter to reach want. */
static double expired_after(struct tk_env *e, double want, int ms)
{
    int64_t deadline = mono_ms() + ms;
    double v;

    while ((v = relay_metric(&e->relay, "parley_envelopes_expired_total")) < want &&
           mono_ms() < deadline)
        sleep_ms(100);
    return v;
}

static void test_default_ttl(void)
{
    struct tk_env e;
    parley_identity *sender = tk_identity(), *away = tk_identity();
    char old[2][64], young[64], tag[17];
    uint8_t rnd[8], to_away[32];
    wsc *r;
    Parley__Frame *f;

    tk_random(rnd, sizeof(rnd));
    sodium_bin2hex(tag, sizeof(tag), rnd, sizeof(rnd));
    tk_routing(away, to_away);
    tk_env_init(&e, "expiry-clock");

    start_at(&e, 0);
    for (int i = 0; i < 2; i++) {
        snprintf(old[i], sizeof(old[i]), "CANARY-DAY0-%s-%d", tag, i);
        store_one(&e, sender, to_away, old[i]);
    }
    stop(&e);

    start_at(&e, 29 * DAY_S);
    /* Several sweeps run (one a second); none may take the day-0 envelopes. */
    sleep_ms(2500);
    CHECKM(relay_metric(&e.relay, "parley_envelopes_expired_total") == 0,
           "envelopes expired before the thirty-day TTL");
    snprintf(young, sizeof(young), "CANARY-DAY29-%s", tag);
    store_one(&e, sender, to_away, young);
    stop(&e);
    for (int i = 0; i < 2 && in_sqlite(); i++)
        CHECKM(tk_in_store(&e.relay, old[i]), "day-0 envelope %d gone before its TTL", i);

    start_at(&e, 30 * DAY_S + 60);
    CHECKM(expired_after(&e, 2, 8000) == 2, "the two day-0 envelopes did not expire");
    sleep_ms(1500); /* more sweeps: the day-29 one must survive them */
    CHECKM(relay_metric(&e.relay, "parley_envelopes_expired_total") == 2,
           "an envelope younger than the TTL expired");
    CHECKM(tk_stored_until(&e.relay, 1, strlen(young), 5000),
           "not the day-29 envelope alone stored");
    for (int i = 0; i < 2 && in_sqlite(); i++)
        CHECKM(!tk_in_store(&e.relay, old[i]),
               "expired envelope %d still in the database or its WAL", i);
    CHECKM(!in_sqlite() || tk_in_store(&e.relay, young), "the day-29 envelope is not in the store");

    /* The recipient gets the day-29 envelope only. */
    r = pc_connect(e.relay.port, away, NULL, 0);
    CHECK(r != NULL);
    f = tk_expect_kind(r, PARLEY__FRAME__KIND_DELIVER, 5000, "the day-29 envelope");
    CHECKM(f->deliver->sealed.len == strlen(young) &&
               memcmp(f->deliver->sealed.data, young, strlen(young)) == 0,
           "delivered something other than the day-29 envelope");
    parley__frame__free_unpacked(f, NULL);
    tk_expect_nothing(r, 500, "the expired envelopes are not delivered");
    wsc_free(r);

    parley_identity_free(sender);
    parley_identity_free(away);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"default_ttl_faked_clock", test_default_ttl},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
