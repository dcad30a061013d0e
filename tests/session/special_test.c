/*
 * Special categories of data (GDPR art. 9(2)(a)): a customer's client
 * refuses to send what the guard finds of a special category until the
 * customer explicitly consented to it in that conversation
 * (PARLEY_ESPECIAL); the consent, signed by the customer, reaches the
 * agent before the text and is verified there; a forged, misdirected or
 * replayed one is refused; a transfer carries it to the next agent, and
 * exports list it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "handover.h"
#include "keyring.h"
#include "special.h"

static struct world w;

#define HEALTH PARLEY_SCAN_BIT(PARLEY_SCAN_HEALTH)
#define RELIGION PARLEY_SCAN_BIT(PARLEY_SCAN_RELIGION)
#define SICK "Bonjour, j'ai du diab\xc3\xa8te et je ne peux pas me d\xc3\xa9placer."
#define FAITH "Je fais le ramadan, livrez apr\xc3\xa8s 20h."
#define WORDING "Send health information to the brand? Type: yes health"

struct info_of {
    const uint8_t *conv;
    uint32_t special;
    bool found;
};

static int on_conv(void *user, const parley_conversation_info *info)
{
    struct info_of *x = user;

    if (memcmp(info->conversation_id, x->conv, 16) == 0) {
        x->special = info->special_consent;
        x->found = true;
    }
    return 0;
}

/* The categories p's listing says the customer consented to in conv. */
static uint32_t special_of(struct mr_party *p, const uint8_t conv[16])
{
    struct info_of x = {conv, 0, false};

    CHECK_OK(parley__core_list(p->core, on_conv, &x));
    CHECK(x.found);
    return x.special;
}

/* Index in p's events of the first one of kind from mark on; -1 if none. */
static int event_at(const struct mr_party *p, int mark, parley_event_kind kind)
{
    for (int i = mark; i < p->n_events; i++)
        if (p->events[i].ev.kind == kind)
            return i;
    return -1;
}

static void test_refused_then_sent(void)
{
    struct scene s;
    uint8_t conv[16];
    uint32_t need = 0;
    size_t before;
    int mark, at_consent, at_text;

    printf("special: refused (ESPECIAL) until the customer consents, for that category, in "
           "that conversation; the agent hears the consent before the text\n");
    scene_init(&s, &w);
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    before = s.relay.n_stored;
    CHECK_ERR(parley__core_open(s.customer.core, "support", SICK, conv, s.relay.now),
              PARLEY_ESPECIAL);
    mr_pump(&s.relay);
    CHECK(s.relay.n_stored == before && parley__core_outbox_size(s.customer.core) == 0);
    CHECK_OK(parley__core_special_needed(s.customer.core, NULL, SICK, &need));
    CHECK(need == HEALTH);
    CHECK_OK(parley__core_special_needed(s.customer.core, NULL, "Bonjour", &need));
    CHECK(need == 0);
    /* Bad consents: no category, an identifier, no wording, an agent. */
    CHECK_ERR(parley__core_special_consent(s.customer.core, NULL, 0, WORDING, s.relay.now),
              PARLEY_EINVAL);
    CHECK_ERR(parley__core_special_consent(s.customer.core, NULL,
                                           PARLEY_SCAN_BIT(PARLEY_SCAN_CARD), WORDING, s.relay.now),
              PARLEY_EINVAL);
    CHECK_ERR(parley__core_special_consent(s.customer.core, NULL, HEALTH, "", s.relay.now),
              PARLEY_EINVAL);
    CHECK_ERR(parley__core_special_consent(s.alice.core, NULL, HEALTH, WORDING, s.relay.now),
              PARLEY_ESTATE);

    /* Consent for the conversation about to open: it goes inside the Open. */
    CHECK_OK(parley__core_special_consent(s.customer.core, NULL, HEALTH, WORDING, s.relay.now));
    CHECK_OK(parley__core_special_needed(s.customer.core, NULL, SICK, &need));
    CHECK(need == 0);
    mark = s.alice.n_events;
    scene_open(&s, SICK);
    at_consent = event_at(&s.alice, mark, PARLEY_EV_SPECIAL_CONSENT);
    at_text = event_at(&s.alice, mark, PARLEY_EV_MESSAGE);
    CHECK(at_consent >= 0 && at_text > at_consent);
    CHECK(s.alice.events[at_consent].ev.special_categories == HEALTH);
    CHECK(strcmp(s.alice.events[at_consent].text, WORDING) == 0);
    CHECK(special_of(&s.alice, s.conv) == HEALTH && special_of(&s.bob, s.conv) == HEALTH);
    CHECK(special_of(&s.customer, s.conv) == HEALTH);
    scene_claim(&s);

    /* Another category in the same conversation: asked again, for it. */
    CHECK_ERR(parley__core_send_text(s.customer.core, s.conv, FAITH, NULL, s.relay.now),
              PARLEY_ESPECIAL);
    CHECK_OK(parley__core_special_needed(s.customer.core, s.conv, FAITH, &need));
    CHECK(need == RELIGION);
    mark = s.alice.n_events;
    CHECK_OK(parley__core_special_consent(s.customer.core, s.conv, RELIGION | HEALTH,
                                          "Send religious beliefs? yes religion", s.relay.now));
    scene_say(&s, &s.customer, FAITH);
    at_consent = event_at(&s.alice, mark, PARLEY_EV_SPECIAL_CONSENT);
    at_text = event_at(&s.alice, mark, PARLEY_EV_MESSAGE);
    CHECK(at_consent >= 0 && at_text > at_consent);
    CHECK(s.alice.events[at_consent].ev.special_categories == RELIGION); /* health was given */
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_SPECIAL_CONSENT) == 1);
    CHECK(mr_text_count(&s.alice, FAITH) == 1);
    CHECK(special_of(&s.alice, s.conv) == (HEALTH | RELIGION));
    /* Asked once: the same categories need nothing more in this conversation. */
    CHECK_OK(parley__core_special_consent(s.customer.core, s.conv, HEALTH, WORDING, s.relay.now));
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_SPECIAL_CONSENT) == 1);
    scene_say(&s, &s.customer, "Et le diab\xc3\xa8te, je suis diab\xc3\xa9tique.");
    CHECK(mr_count(&s.alice, PARLEY_EV_REJECTED) == 0);

    /* A new conversation starts without any. */
    CHECK_ERR(parley__core_open(s.customer.core, "support", SICK, conv, s.relay.now),
              PARLEY_ESPECIAL);
    /* Agents are not asked. */
    scene_say(&s, &s.alice, "Avec votre diab\xc3\xa8te, un livreur montera.");
    CHECK(mr_text_count(&s.customer, "Avec votre diab\xc3\xa8te, un livreur montera.") == 1);
    scene_free(&s);
}

/* The customer's payload of a SpecialConsent (enc) to alice, at seq; alice's event mark. */
static int consent_inject(struct scene *s, const parley_identity *customer, const uint8_t *enc,
                          size_t enc_len, uint64_t seq)
{
    Parley__Payload body = PARLEY__PAYLOAD__INIT;
    int mark;

    body.body_case = PARLEY__PAYLOAD__BODY_SPECIAL_CONSENT;
    body.special_consent = parley__special_consent__unpack(NULL, enc_len, enc);
    CHECK(body.special_consent != NULL);
    mark = customer_to_alice(s, customer, &body, seq);
    parley__special_consent__free_unpacked(body.special_consent, NULL);
    return mark;
}

static void test_forged(void)
{
    struct scene s;
    parley_identity *customer, *other;
    uint8_t *enc, other_conv[16], *env;
    size_t len, env_len, before;
    int mark, i;

    printf("special: a consent not signed by the customer, for another conversation, naming "
           "no special category, or replayed, is refused\n");
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    customer = identity_of(&s.customer);
    CHECK_OK(parley_identity_generate(&other));
    /* Signed by someone else, inside a payload the customer signed. */
    CHECK_OK(parley__special_make(other, s.conv, HEALTH, WORDING, s.relay.now, &enc, &len));
    mark = consent_inject(&s, customer, enc, len, 40);
    free(enc);
    CHECK(mr_rejected_since(&s.alice, mark, PARLEY_EBADSIG));
    /* The customer's, for another of its conversations. */
    randombytes_buf(other_conv, sizeof(other_conv));
    CHECK_OK(parley__special_make(customer, other_conv, HEALTH, WORDING, s.relay.now, &enc, &len));
    mark = consent_inject(&s, customer, enc, len, 41);
    free(enc);
    CHECK(mr_rejected_since(&s.alice, mark, PARLEY_EWRONGCONVERSATION));
    CHECK(special_of(&s.alice, s.conv) == 0);
    CHECK(mr_count(&s.alice, PARLEY_EV_SPECIAL_CONSENT) == 0);

    /* The genuine one, then the same envelope under a new id: a replay. */
    before = s.relay.n_cap;
    CHECK_OK(parley__core_special_consent(s.customer.core, s.conv, HEALTH, WORDING, s.relay.now));
    mr_pump(&s.relay);
    CHECK(special_of(&s.alice, s.conv) == HEALTH);
    CHECK(mr_count(&s.alice, PARLEY_EV_SPECIAL_CONSENT) == 1);
    for (i = (int)before; i < (int)s.relay.n_cap; i++)
        if (memcmp(s.relay.cap[i].recipient, s.alice.routing, 32) == 0)
            break;
    CHECK(i < (int)s.relay.n_cap);
    forge_rewrap(s.relay.cap[i].env.p, s.relay.cap[i].env.n, true, NULL, &env, &env_len);
    mark = s.alice.n_events;
    mr_inject(&s.relay, &s.alice, env, env_len);
    mr_pump(&s.relay);
    free(env);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_REPLAY) == 1);
    CHECK(mr_count(&s.alice, PARLEY_EV_SPECIAL_CONSENT) == 1);
    parley_identity_free(other);
    parley_identity_free(customer);
    scene_free(&s);
}

static void test_handover_and_export(void)
{
    struct scene s;
    struct mr_party carol;
    struct handover_spec h;
    parley_identity *other;
    Parley__SpecialConsent *forged;
    Parley__CustodyAck *ack;
    uint8_t salt[16], *enc;
    char *json;
    size_t len, json_len;
    int mark;

    printf("special: a transfer carries the consent to the next agent, which checks it; "
           "exports list it; an erasure request deletes it\n");
    scene_init(&s, &w);
    CHECK_OK(parley__core_special_consent(s.customer.core, NULL, HEALTH, WORDING, s.relay.now));
    scene_open(&s, SICK);
    scene_claim(&s);
    scene_say(&s, &s.customer, "Merci");

    /* A colleague's handover carrying a consent the customer never signed: refused. */
    CHECK_OK(parley_identity_generate(&other));
    CHECK_OK(parley__special_make(other, s.conv, RELIGION, WORDING, s.relay.now, &enc, &len));
    forged = parley__special_consent__unpack(NULL, len, enc);
    free(enc);
    CHECK(forged != NULL);
    salt_of(&s.customer, s.conv, salt);
    ack = ack_of(&s.alice, s.conv);
    CHECK(ack != NULL);
    spec_for(&h, &s, &w, W_ALICE, &s.bob, salt, ack, 70);
    h.specials = &forged;
    h.n_specials = 1;
    mark = s.bob.n_events;
    handover_inject(&s.relay, &h);
    CHECK(mr_rejected_since(&s.bob, mark, PARLEY_EBADSIG));
    CHECK(mr_state_is(&s.bob, s.conv, PARLEY_CONV_TAKEN));
    parley__special_consent__free_unpacked(forged, NULL);
    parley__custody_ack__free_unpacked(ack, NULL);
    parley_identity_free(other);

    /*
     * The real transfer, to carol (queue vip: the Open never reached her):
     * she holds and verifies the customer's consent from the handover.
     */
    carol_join(&carol, &s, &w);
    mark = carol.n_events;
    mr_advance(&s.relay, 1000);
    CHECK_OK(parley__core_transfer(s.alice.core, s.conv, "carol", s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&carol, s.conv, PARLEY_CONV_ACTIVE));
    CHECK(special_of(&carol, s.conv) == HEALTH);
    CHECK(mr_count_since(&carol, mark, PARLEY_EV_SPECIAL_CONSENT) == 1);
    scene_say(&s, &s.customer, "Je suis diab\xc3\xa9tique.");
    CHECK(mr_text_count(&carol, "Je suis diab\xc3\xa9tique.") == 1);

    /* Exports: the consent, its wording, checked again. */
    CHECK_OK(parley__core_export(carol.core, s.conv, &json, &json_len));
    CHECK(strstr(json, "\"special_consents\":[{\"categories\":[\"health\"],\"wording\":\"" WORDING
                       "\"") != NULL);
    CHECK(strstr(json, "\"signature_valid\":true,\"consent_base64\":") != NULL);
    parley_free(json, json_len);
    CHECK_OK(parley__core_export(s.customer.core, s.conv, &json, &json_len));
    CHECK(strstr(json, "\"special_consents\":[{\"categories\":[\"health\"]") != NULL);
    parley_free(json, json_len);
    /* The customer's erasure request takes them with the consent receipt. */
    CHECK_OK(parley__core_erase(s.customer.core, s.relay.now));
    mr_pump(&s.relay);
    CHECK(special_of(&carol, s.conv) == 0 && special_of(&s.alice, s.conv) == 0);
    mr_party_free(&carol);
    scene_free(&s);
}

int main(int argc, char **argv)
{
    static const struct named_case cases[] = {
        {"refused_then_sent", test_refused_then_sent},
        {"forged", test_forged},
        {"handover_and_export", test_handover_and_export},
    };

    return run_cases(argc, argv, &w, cases, sizeof(cases) / sizeof(cases[0]));
}
