/*
 * Agents' prekeys cannot be drained: one-time prekeys are handed out at a
 * rate per requester and per owner, and past it (or once none is left)
 * the requester gets the agent's signed medium-term prekey, the newest
 * valid one, which the relay keeps outside the one-time supply and never
 * deletes on a fetch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testkit.h"

#define ONE_TIME 50
#define WEEK     (7u * 86400u)

struct agent_env {
    struct tk_env e;
    struct tk_brand b;
    parley_identity *agent;
    uint8_t *cert;
    size_t cert_len;
};

static void start(struct agent_env *ae, const char *tag)
{
    uint64_t now = tk_now();

    tk_env_init(&ae->e, tag);
    tk_brand_make(&ae->b, "acme", ae->e.dir);
    {
        const char *args[] = {"--brand", ae->b.pin_path, NULL};
        tk_env_start(&ae->e, args);
    }
    ae->agent = tk_identity();
    tk_cert(ae->b.key, "acme", ae->agent, "alice", "Alice", 1, now - 60, now + 3600, &ae->cert,
            &ae->cert_len);
}

static void finish(struct agent_env *ae)
{
    free(ae->cert);
    parley_identity_free(ae->agent);
    tk_brand_free(&ae->b);
    tk_env_end(&ae->e);
}

/* The agent connects; returns its connection and the one-time prekeys the relay says it has. */
static wsc *agent_connect(const struct agent_env *ae, uint32_t *prekeys_left)
{
    wsc *c = wsc_open(ae->e.relay.port);
    Parley__Frame *f;

    CHECK(c != NULL);
    f = pc_auth(c, ae->agent, ae->cert, ae->cert_len, 5000);
    CHECKM(f != NULL && f->kind_case == PARLEY__FRAME__KIND_AUTH_OK, "agent not authenticated");
    *prekeys_left = f->auth_ok->prekeys_left;
    parley__frame__free_unpacked(f, NULL);
    f = tk_expect_kind(c, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "agent's directory");
    parley__frame__free_unpacked(f, NULL);
    return c;
}

/* Publishes n prekeys (freed here) and waits for the relay's ack. */
static void publish(wsc *a, uint8_t **keys, size_t *lens, size_t n, bool replace)
{
    Parley__Frame *f;

    CHECK(pc_send_prekeys(a, keys, lens, n, replace) == 0);
    f = tk_expect_kind(a, PARLEY__FRAME__KIND_ACK, 5000, "prekey publication");
    parley__frame__free_unpacked(f, NULL);
}

struct handed {
    size_t one_time, medium, none;
};

/*
 * n fetches of the agent's prekey at once on c, sorted into one-time
 * ones (each must be a published one, handed out once), the medium-term
 * one (its exact bytes) and none.
 */
static void fetch_many(wsc *c, const struct agent_env *ae, size_t n, uint8_t **one_time,
                       size_t *one_time_len, bool *taken, const uint8_t *medium, size_t medium_len,
                       struct handed *h)
{
    for (size_t i = 0; i < n; i++)
        CHECK(pc_send_prekey_fetch(c, parley_identity_sign_pk(ae->agent)) == 0);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        uint8_t *pk = tk_read_prekey(c, ae->agent, &len);
        bool known = false;

        if (pk == NULL) {
            h->none++;
            continue;
        }
        if (medium != NULL && len == medium_len && memcmp(pk, medium, len) == 0) {
            h->medium++;
            known = true;
        }
        for (size_t k = 0; !known && k < ONE_TIME; k++)
            if (len == one_time_len[k] && memcmp(pk, one_time[k], len) == 0) {
                CHECKM(!taken[k], "one-time prekey %zu handed out twice", k);
                taken[k] = known = true;
                h->one_time++;
            }
        CHECKM(known, "a prekey the agent never published");
        free(pk);
    }
}

static void test_prekey_drain(void)
{
    struct agent_env ae;
    uint8_t *keys[ONE_TIME + 1], *copies[ONE_TIME], *medium;
    size_t lens[ONE_TIME + 1], medium_len;
    bool taken[ONE_TIME] = {false};
    struct handed h = {0, 0, 0};
    parley_identity *drainer_ids[5], *late_id = tk_identity();
    uint32_t left;
    int64_t t0;
    wsc *a, *late;

    start(&ae, "prekeydrain");
    for (size_t i = 0; i < ONE_TIME; i++) {
        tk_prekey(ae.agent, ae.agent, i + 1, false, 0, &keys[i], &lens[i]);
        copies[i] = malloc(lens[i]);
        CHECK(copies[i] != NULL);
        memcpy(copies[i], keys[i], lens[i]);
    }
    tk_prekey(ae.agent, ae.agent, 1000, true, tk_now() + WEEK, &keys[ONE_TIME], &lens[ONE_TIME]);
    medium = malloc(lens[ONE_TIME]);
    CHECK(medium != NULL);
    memcpy(medium, keys[ONE_TIME], lens[ONE_TIME]);
    medium_len = lens[ONE_TIME];
    a = agent_connect(&ae, &left);
    CHECK(left == 0);
    publish(a, keys, lens, ONE_TIME + 1, false);
    for (size_t i = 0; i <= ONE_TIME; i++)
        free(keys[i]);
    wsc_free(a);

    /* Five connections ask for 60 prekeys each, as fast as they can. */
    t0 = mono_ms();
    for (int d = 0; d < 5; d++) {
        wsc *c;
        drainer_ids[d] = tk_identity();
        c = pc_connect(ae.e.relay.port, drainer_ids[d], NULL, 0);
        CHECK(c != NULL);
        fetch_many(c, &ae, 60, copies, lens, taken, medium, medium_len, &h);
        wsc_free(c);
    }
    {
        /* The owner's allowance: 10 at once, refilled at 10 a minute. */
        size_t allowed = 10 + (size_t)((mono_ms() - t0) / 6000) + 1;
        printf("   300 fetches: %zu one-time prekeys, %zu medium-term, %zu none\n", h.one_time,
               h.medium, h.none);
        CHECKM(h.one_time <= allowed, "%zu one-time prekeys handed out (at most %zu)", h.one_time,
               allowed);
        CHECKM(h.none == 0 && h.medium == 300 - h.one_time,
               "past the rate: %zu medium-term, %zu none", h.medium, h.none);
    }
    CHECK(tk_rejects(&ae.e.relay, "prekey_rate", 1) >= 1);

    /* The agent still has its supply; a customer opening a conversation gets a signed prekey. */
    late = pc_connect(ae.e.relay.port, late_id, NULL, 0);
    CHECK(late != NULL);
    tk_roundtrip(late, late_id); /* committed after the prekeys' deletions: they are done */
    a = agent_connect(&ae, &left);
    CHECKM(left == ONE_TIME - h.one_time, "the relay says %u one-time prekeys are left, not %zu",
           left, ONE_TIME - h.one_time);
    {
        struct handed l = {0, 0, 0};
        fetch_many(late, &ae, 1, copies, lens, taken, medium, medium_len, &l);
        CHECKM(l.none == 0, "a customer got no prekey at all");
    }
    wsc_free(a);
    wsc_free(late);
    for (size_t i = 0; i < ONE_TIME; i++)
        free(copies[i]);
    for (int d = 0; d < 5; d++)
        parley_identity_free(drainer_ids[d]);
    parley_identity_free(late_id);
    free(medium);
    finish(&ae);
}

/*
 * The medium-term prekey: the newest is kept, it is handed out only when
 * no one-time prekey is left, never deleted, outside the one-time count;
 * an expired one is refused; a replacing publication drops it.
 */
static void test_medium_prekey(void)
{
    struct agent_env ae;
    parley_identity *cust = tk_identity();
    uint8_t *one[1], *m1[1], *m2[1], *old[1], *fresh[1], *got;
    size_t one_len[1], m1_len[1], m2_len[1], old_len[1], fresh_len[1], len;
    uint8_t *m2_copy, *one_copy;
    size_t m2_copy_len, one_copy_len;
    uint32_t left;
    wsc *a, *c;

    start(&ae, "mediumprekey");
    a = agent_connect(&ae, &left);
    c = pc_connect(ae.e.relay.port, cust, NULL, 0);
    CHECK(c != NULL);

    /* Expired at publication: refused. */
    tk_prekey(ae.agent, ae.agent, 1, true, tk_now() - 1, &old[0], &old_len[0]);
    CHECK(pc_send_prekeys(a, old, old_len, 1, false) == 0);
    tk_expect_error(a, PARLEY__ERROR__CODE__EXPIRED, NULL, 5000);
    free(old[0]);

    /* Two medium-term prekeys, the second newer, and one one-time prekey. */
    tk_prekey(ae.agent, ae.agent, 2, true, tk_now() + WEEK, &m1[0], &m1_len[0]);
    tk_prekey(ae.agent, ae.agent, 3, true, tk_now() + WEEK, &m2[0], &m2_len[0]);
    tk_prekey(ae.agent, ae.agent, 4, false, 0, &one[0], &one_len[0]);
    m2_copy_len = m2_len[0];
    m2_copy = malloc(m2_copy_len);
    one_copy_len = one_len[0];
    one_copy = malloc(one_copy_len);
    CHECK(m2_copy != NULL && one_copy != NULL);
    memcpy(m2_copy, m2[0], m2_copy_len);
    memcpy(one_copy, one[0], one_copy_len);
    publish(a, m1, m1_len, 1, false);
    publish(a, m2, m2_len, 1, false);
    publish(a, one, one_len, 1, false);
    free(m1[0]);
    free(m2[0]);
    free(one[0]);
    wsc_free(a);
    a = agent_connect(&ae, &left);
    CHECKM(left == 1, "%u one-time prekeys counted, not 1: the medium-term one is apart", left);

    /* The one-time prekey first, then the newest medium-term one, again and again. */
    CHECK(pc_send_prekey_fetch(c, parley_identity_sign_pk(ae.agent)) == 0);
    got = tk_read_prekey(c, ae.agent, &len);
    CHECKM(got != NULL && len == one_copy_len && memcmp(got, one_copy, len) == 0,
           "not the one-time prekey first");
    free(got);
    for (int i = 0; i < 3; i++) {
        CHECK(pc_send_prekey_fetch(c, parley_identity_sign_pk(ae.agent)) == 0);
        got = tk_read_prekey(c, ae.agent, &len);
        CHECKM(got != NULL && len == m2_copy_len && memcmp(got, m2_copy, len) == 0,
               "fetch %d: not the newest medium-term prekey", i);
        free(got);
    }

    /* A new device store replaces everything: the old medium-term prekey is gone too. */
    tk_prekey(ae.agent, ae.agent, 5, false, 0, &fresh[0], &fresh_len[0]);
    publish(a, fresh, fresh_len, 1, true);
    free(fresh[0]);
    for (int i = 0; i < 2; i++) {
        CHECK(pc_send_prekey_fetch(c, parley_identity_sign_pk(ae.agent)) == 0);
        got = tk_read_prekey(c, ae.agent, &len);
        CHECKM(i == 0 ? got != NULL : got == NULL,
               i == 0 ? "the fresh one-time prekey missing" : "a replaced prekey handed out");
        free(got);
    }
    wsc_free(a);
    wsc_free(c);
    free(m2_copy);
    free(one_copy);
    parley_identity_free(cust);
    finish(&ae);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"prekey_drain", test_prekey_drain},
        {"medium_prekey", test_medium_prekey},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
