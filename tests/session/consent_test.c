/*
 * Consent purpose by purpose: acme's notice needs "support" and asks
 * about "surveys" and "marketing" one by one. The receipt records exactly
 * what the customer accepted, every agent holding a copy reads the same,
 * withdrawing an optional purpose updates every copy and the conversation
 * goes on, and withdrawing the required one ends consent and erases.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "world.h"

static struct world w;

/* The consent receipt of one conversation, as a party's listing shows it. */
struct seen_consent {
    const uint8_t *conv;
    bool found;
    char purposes[256], withdrawn[256];
};

static void join(char *out, size_t cap, const char *const *names, size_t n)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++) {
        int k = snprintf(out + used, cap - used, "%s%s", i > 0 ? "," : "", names[i]);

        CHECK(k > 0);
        used += (size_t)k;
    }
}

static int on_conv(void *user, const parley_conversation_info *info)
{
    struct seen_consent *sc = user;

    if (memcmp(info->conversation_id, sc->conv, 16) != 0)
        return 0;
    sc->found = true;
    join(sc->purposes, sizeof(sc->purposes), info->consent_purposes, info->n_consent_purposes);
    join(sc->withdrawn, sizeof(sc->withdrawn), info->consent_withdrawn, info->n_consent_withdrawn);
    return 1;
}

/* True when p holds conversation conv with a receipt accepting purposes and naming withdrawn. */
static bool consent_is(struct mr_party *p, const uint8_t conv[16], const char *purposes,
                       const char *withdrawn)
{
    struct seen_consent sc = {conv, false, "", ""};

    CHECK_OK(parley__core_list(p->core, on_conv, &sc));
    if (sc.found && strcmp(sc.purposes, purposes) == 0 && strcmp(sc.withdrawn, withdrawn) == 0)
        return true;
    fprintf(stderr, "%s: consent [%s] withdrawn [%s], expected [%s] [%s]\n", p->name, sc.purposes,
            sc.withdrawn, purposes, withdrawn);
    return false;
}

static void test_per_purpose_receipt(void)
{
    static const char *const typo[] = {"survey"};
    static const char *const surveys[] = {"surveys"};
    struct scene s;

    printf("consent: the receipt records the purposes accepted, one by one; agents read them\n");
    scene_init(&s, &w);
    CHECK_ERR(parley__core_consent(s.customer.core, typo, 1, s.relay.now), PARLEY_EPURPOSE);
    CHECK_ERR(parley__core_consent(s.customer.core, NULL, 1, s.relay.now), PARLEY_EINVAL);
    CHECK(!parley__core_has_consent(s.customer.core));
    CHECK_OK(parley__core_consent(s.customer.core, surveys, 1, s.relay.now));
    CHECK(parley__core_consent_accepted(s.customer.core, "support") == 1);
    CHECK(parley__core_consent_accepted(s.customer.core, "surveys") == 1);
    CHECK(parley__core_consent_accepted(s.customer.core, "marketing") == 0);
    CHECK_OK(parley__core_open(s.customer.core, "support", "Bonjour", s.conv, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED));
    CHECK(consent_is(&s.alice, s.conv, "support,surveys", ""));
    CHECK(consent_is(&s.bob, s.conv, "support,surveys", ""));
    CHECK(consent_is(&s.customer, s.conv, "support,surveys", ""));
    scene_free(&s);

    /* No answer to an optional purpose is no: only what the service needs. */
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    CHECK(consent_is(&s.alice, s.conv, "support", ""));
    CHECK(parley__core_consent_accepted(s.customer.core, "surveys") == 0);
    scene_free(&s);
}

static void test_withdraw_optional(void)
{
    static const char *const both[] = {"marketing", "surveys"};
    struct scene s;
    int mark_alice, mark_bob;

    printf("consent: withdrawing an optional purpose updates every copy; the chat goes on\n");
    scene_init(&s, &w);
    CHECK_OK(parley__core_consent(s.customer.core, both, 2, s.relay.now));
    /* scene_open would answer the notice again, with no optional purpose. */
    CHECK_OK(parley__core_open(s.customer.core, "support", "Bonjour", s.conv, s.relay.now));
    mr_pump(&s.relay);
    scene_claim(&s);
    CHECK(consent_is(&s.alice, s.conv, "support,surveys,marketing", ""));
    CHECK(consent_is(&s.bob, s.conv, "support,surveys,marketing", ""));
    mark_alice = s.alice.n_events;
    mark_bob = s.bob.n_events;
    mr_advance(&s.relay, 1000);
    {
        bool ended = true;

        CHECK_ERR(parley__core_withdraw_purpose(s.customer.core, "nothing", &ended, s.relay.now),
                  PARLEY_EPURPOSE);
        ended = false;
        CHECK_OK(parley__core_withdraw_purpose(s.customer.core, "marketing", &ended, s.relay.now));
        CHECK(!ended);
    }
    mr_pump(&s.relay);
    /* alice talks with the customer, bob saw the Open: both hold a copy, both are updated. */
    CHECK(consent_is(&s.alice, s.conv, "support,surveys", "marketing"));
    CHECK(consent_is(&s.bob, s.conv, "support,surveys", "marketing"));
    CHECK(consent_is(&s.customer, s.conv, "support,surveys", "marketing"));
    CHECK(mr_count_since(&s.alice, mark_alice, PARLEY_EV_CONSENT) == 1);
    CHECK(mr_count_since(&s.bob, mark_bob, PARLEY_EV_CONSENT) == 1);
    CHECK(mr_count_since(&s.alice, mark_alice, PARLEY_EV_REJECTED) == 0);
    CHECK(mr_count_since(&s.bob, mark_bob, PARLEY_EV_REJECTED) == 0);
    CHECK(parley__core_has_consent(s.customer.core));
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_ACTIVE));
    scene_say(&s, &s.customer, "Toujours l\xc3\xa0");
    CHECK(mr_text_count(&s.alice, "Toujours l\xc3\xa0") == 1);

    /* Withdrawing it again changes nothing and sends nothing. */
    mark_alice = s.alice.n_events;
    {
        bool ended = false;

        CHECK_OK(parley__core_withdraw_purpose(s.customer.core, "marketing", &ended, s.relay.now));
    }
    mr_pump(&s.relay);
    CHECK(mr_count_since(&s.alice, mark_alice, PARLEY_EV_CONSENT) == 0);

    /* Accepted again later: no longer withdrawn, everywhere. */
    mr_advance(&s.relay, 1000);
    CHECK_OK(parley__core_consent(s.customer.core, both, 2, s.relay.now));
    mr_pump(&s.relay);
    CHECK(consent_is(&s.alice, s.conv, "support,surveys,marketing", ""));
    CHECK(consent_is(&s.bob, s.conv, "support,surveys,marketing", ""));
    /* Both left out now: both withdrawn, in one new receipt. */
    mr_advance(&s.relay, 1000);
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    mr_pump(&s.relay);
    CHECK(consent_is(&s.alice, s.conv, "support", "surveys,marketing"));
    scene_free(&s);
}

static void test_withdraw_required(void)
{
    struct scene s;
    bool ended = false;

    printf("consent: withdrawing the purpose the service needs ends consent and erases\n");
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    mr_advance(&s.relay, 1000);
    CHECK_OK(parley__core_withdraw_purpose(s.customer.core, "support", &ended, s.relay.now));
    CHECK(ended);
    mr_pump(&s.relay);
    CHECK(!parley__core_has_consent(s.customer.core));
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_CLOSED));
    CHECK(mr_count(&s.alice, PARLEY_EV_ERASED) == 1);
    CHECK_ERR(parley__core_send_text(s.customer.core, s.conv, "encore", NULL, s.relay.now),
              PARLEY_ENOCONSENT);
    scene_free(&s);
}

int main(void)
{
    CHECK_OK(parley_init());
    world_init(&w);
    test_per_purpose_receipt();
    test_withdraw_optional();
    test_withdraw_required();
    world_free(&w);
    printf("consent: ok\n");
    return 0;
}
