/*
 * Client sessions through a real relay: a customer consents and opens a
 * conversation in a queue, one agent claims it (the other is told), they
 * talk, the agent transfers it to a colleague who answers and closes.
 * Checks isolation at each step: agents who are not in the conversation
 * cannot read it. The chain of custody (transfers there and back, the
 * customer away) and erasure bound to the customer, end to end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct h_brand brand;
static struct h_client alice, bob, carol, customer, customer2;
static struct h_client *all[] = {&alice, &bob, &carol, &customer, &customer2, NULL};

static bool conv_state_is(struct h_client *hc, const uint8_t conv[16], parley_conv_state want)
{
    parley_conv_state s;
    return parley_conversation_state(hc->c, conv, &s) == PARLEY_OK && s == want;
}

struct state_wait {
    struct h_client *hc;
    const uint8_t *conv;
    parley_conv_state want;
};

static bool state_reached(void *arg)
{
    struct state_wait *w = arg;
    return conv_state_is(w->hc, w->conv, w->want);
}

static bool wait_state(struct h_client *hc, const uint8_t conv[16], parley_conv_state want)
{
    struct state_wait w = {hc, conv, want};
    return h_pump(all, state_reached, &w, 10000);
}

struct history_seen {
    int n;
    char first[128];
    bool bob_wrote;
};

static int on_history(void *user, const parley_history_entry *e)
{
    struct history_seen *h = user;

    if (h->n++ == 0)
        snprintf(h->first, sizeof(h->first), "%s", e->text);
    if (e->from_me && strcmp(e->text, "Oui, c'est Bob. Colis parti ce matin.") == 0)
        h->bob_wrote = true;
    return 0;
}

static int on_conversation(void *user, const parley_conversation_info *info)
{
    (*(int *)user)++;
    CHECK(info->state == PARLEY_CONV_CLOSED);
    return 0;
}

static void test_conversation(void)
{
    uint8_t conv[16];
    uint64_t seq = 0;
    int i;

    printf("conversation: consent, open, claim, talk, transfer, close\n");
    CHECK(h_wait(all, &customer, PARLEY_EV_DIRECTORY, 1, 10000));
    /* Nothing can be sent before consent. */
    CHECK_ERR(parley_conversation_open(customer.c, "support", "Bonjour", conv), PARLEY_ENOCONSENT);
    CHECK_OK(parley_client_consent(customer.c, NULL, 0));
    CHECK(parley_client_has_consent(customer.c));
    CHECK_ERR(parley_conversation_open(customer.c, "nope", "Bonjour", conv), PARLEY_EINVAL);
    CHECK_OK(parley_conversation_open(customer.c, "support",
                                      "Bonjour, ma commande n'est pas arriv\xc3\xa9" "e", conv));
    CHECK_OK(parley_conversation_send_text(customer.c, conv, "Commande 4471", &seq));
    /* Both agents of the queue see it, with the first words. */
    CHECK(wait_state(&alice, conv, PARLEY_CONV_QUEUED));
    CHECK(wait_state(&bob, conv, PARLEY_CONV_QUEUED));
    CHECK(h_has_text(&alice, "Bonjour, ma commande n'est pas arriv\xc3\xa9" "e"));
    CHECK(!h_has_text(&alice, "Commande 4471")); /* held until an agent claims */
    CHECK_ERR(parley_conversation_send_text(alice.c, conv, "not yet", NULL), PARLEY_ESTATE);

    CHECK_OK(parley_conversation_claim(alice.c, conv));
    CHECK(wait_state(&customer, conv, PARLEY_CONV_ACTIVE));
    i = h_find(&customer, PARLEY_EV_CONVERSATION, conv);
    CHECK(i >= 0 && strcmp(customer.events[i].agent.agent_id, "alice") == 0);
    CHECK(wait_state(&bob, conv, PARLEY_CONV_TAKEN));
    CHECK_ERR(parley_conversation_claim(bob.c, conv), PARLEY_ESTATE);
    CHECK(h_wait_text(all, &alice, "Commande 4471", 10000));

    CHECK_OK(parley_conversation_send_text(alice.c, conv, "Je regarde votre commande.", NULL));
    CHECK(h_wait_text(all, &customer, "Je regarde votre commande.", 10000));
    i = h_find(&customer, PARLEY_EV_MESSAGE, conv);
    CHECK(customer.events[i].sender_is_agent);
    CHECK(strcmp(customer.events[i].agent.display_name, "Alice Martin") == 0);
    CHECK_OK(parley_conversation_send_text(customer.c, conv, "Merci \xf0\x9f\x99\x8f", NULL));
    CHECK(h_wait_text(all, &alice, "Merci \xf0\x9f\x99\x8f", 10000));
    CHECK(!h_has_text(&bob, "Merci \xf0\x9f\x99\x8f"));
    CHECK(h_wait(all, &alice, PARLEY_EV_DELIVERED, 1, 10000));

    CHECK_OK(parley_conversation_transfer(alice.c, conv, "bob"));
    CHECK(conv_state_is(&alice, conv, PARLEY_CONV_TRANSFERRED));
    CHECK(wait_state(&bob, conv, PARLEY_CONV_ACTIVE));
    CHECK(wait_state(&customer, conv, PARLEY_CONV_ACTIVE));
    i = h_find(&customer, PARLEY_EV_CONVERSATION, conv);
    CHECK(i >= 0 && strcmp(customer.events[i].agent.agent_id, "bob") == 0);
    CHECK_ERR(parley_conversation_send_text(alice.c, conv, "still here?", NULL), PARLEY_ESTATE);

    CHECK_OK(parley_conversation_send_text(customer.c, conv, "Toujours l\xc3\xa0 ?", NULL));
    CHECK(h_wait_text(all, &bob, "Toujours l\xc3\xa0 ?", 10000));
    h_pump_for(all, 300);
    CHECK(!h_has_text(&alice, "Toujours l\xc3\xa0 ?"));
    CHECK_OK(
        parley_conversation_send_text(bob.c, conv, "Oui, c'est Bob. Colis parti ce matin.", NULL));
    CHECK(h_wait_text(all, &customer, "Oui, c'est Bob. Colis parti ce matin.", 10000));
    CHECK_OK(parley_conversation_close(bob.c, conv, "resolved"));
    CHECK(wait_state(&customer, conv, PARLEY_CONV_CLOSED));
    CHECK_ERR(parley_conversation_send_text(customer.c, conv, "encore", NULL), PARLEY_ESTATE);
    h_pump_for(all, 200);
    CHECK(parley_client_outbox_size(customer.c) == 0);
    CHECK(parley_client_outbox_size(alice.c) == 0);
    CHECK(parley_client_outbox_size(bob.c) == 0);
    {
        /* Bob's local history holds what Alice handed over, then his own. */
        struct history_seen h;
        int n_conv = 0;

        memset(&h, 0, sizeof(h));
        CHECK_OK(parley_conversation_history(bob.c, conv, on_history, &h));
        CHECK(h.n >= 6);
        CHECK(strcmp(h.first, "Bonjour, ma commande n'est pas arriv\xc3\xa9" "e") == 0);
        CHECK(h.bob_wrote);
        CHECK_OK(parley_conversation_list(bob.c, on_conversation, &n_conv));
        CHECK(n_conv == 1);
    }
    {
        /* Export for an access request: history and the consent receipt, on both sides. */
        char *json = NULL;
        size_t len = 0;

        CHECK_OK(parley_conversation_export(bob.c, conv, &json, &len));
        CHECK(json != NULL && len == strlen(json) && json[len - 1] == '\n');
        CHECK(strstr(json, "\"format\":\"parley-export-v1\"") != NULL);
        CHECK(strstr(json, "\"state\":\"closed\"") != NULL);
        CHECK(strstr(json, "\"signature_valid\":true") != NULL);
        CHECK(strstr(json, "\"notice_version\":2") != NULL);
        CHECK(strstr(json, "Bonjour, ma commande n'est pas arriv\xc3\xa9" "e") != NULL);
        CHECK(strstr(json, "Oui, c'est Bob. Colis parti ce matin.") != NULL);
        CHECK(strstr(json, "\"display_name\":\"Bob Lef\xc3\xa8vre\"") != NULL);
        if (getenv("PARLEY_TEST_EXPORT") != NULL)
            fputs(json, stdout);
        parley_free(json, len);
        CHECK_OK(parley_conversation_export(customer.c, conv, &json, &len));
        CHECK(strstr(json, "Merci \xf0\x9f\x99\x8f") != NULL);
        CHECK(strstr(json, "\"signature_valid\":true") != NULL);
        parley_free(json, len);
        {
            uint8_t unknown[16] = {0};
            CHECK_ERR(parley_conversation_export(customer.c, unknown, &json, &len), PARLEY_EINVAL);
        }
    }
    CHECK(customer.count[PARLEY_EV_REJECTED] == 0);
    CHECK(alice.count[PARLEY_EV_REJECTED] == 0);
    CHECK(bob.count[PARLEY_EV_REJECTED] == 0);
}

struct history_count {
    int n;
};

static int count_history(void *user, const parley_history_entry *e)
{
    ((struct history_count *)user)->n++;
    return 0;
}

static int history_size(struct h_client *hc, const uint8_t conv[16])
{
    struct history_count h = {0};

    CHECK_OK(parley_conversation_history(hc->c, conv, count_history, &h));
    return h.n;
}

/* CONVERSATION events of hc for conv in state ACTIVE. */
static int active_events(const struct h_client *hc, const uint8_t conv[16])
{
    int n = 0;

    for (int i = 0; i < hc->n_events; i++)
        n += hc->events[i].kind == PARLEY_EV_CONVERSATION &&
             hc->events[i].state == PARLEY_CONV_ACTIVE &&
             memcmp(hc->events[i].conversation_id, conv, 16) == 0;
    return n;
}

struct active_wait {
    struct h_client *hc;
    const uint8_t *conv;
    int n;
};

static bool active_reached(void *arg)
{
    struct active_wait *w = arg;
    return active_events(w->hc, w->conv) >= w->n;
}

/*
 * Waits until hc heard n times that conv is active: on its claim or a
 * handover, then on the customer's acknowledgement.
 */
static bool wait_active(struct h_client *hc, const uint8_t conv[16], int n)
{
    struct active_wait w = {hc, conv, n};
    return h_pump(all, active_reached, &w, 10000);
}

static int count_line(void *user, const parley_history_entry *e)
{
    int *n = user;

    *n += strcmp(e->text, "Une autre question") == 0;
    return 0;
}

/*
 * The chain of custody through the relay: alice claims, the customer
 * acknowledges; alice hands over to bob, who is acknowledged in turn;
 * with the customer away, bob hands it back to alice at once, but she
 * cannot pass it on before the customer, back, acknowledges her again.
 */
static void test_custody_round_trip(void)
{
    uint8_t conv[16];
    int n, lines = 0;

    printf("custody: alice to bob and back through the relay, the customer away the second time\n");
    CHECK_OK(parley_conversation_open(customer.c, "support", "Une autre question", conv));
    CHECK(wait_state(&alice, conv, PARLEY_CONV_QUEUED));
    CHECK_OK(parley_conversation_claim(alice.c, conv));
    CHECK(wait_active(&alice, conv, 2));
    CHECK_OK(parley_conversation_transfer(alice.c, conv, "bob"));
    CHECK(wait_active(&bob, conv, 2));
    CHECK(conv_state_is(&customer, conv, PARLEY_CONV_ACTIVE));
    CHECK_OK(parley_conversation_send_text(bob.c, conv, "Bob pour la suite.", NULL));
    CHECK(h_wait_text(all, &customer, "Bob pour la suite.", 10000));

    h_client_free(&customer);
    n = active_events(&alice, conv);
    CHECK_OK(parley_conversation_transfer(bob.c, conv, "alice"));
    CHECK(wait_active(&alice, conv, n + 1));
    CHECK_ERR(parley_conversation_transfer(alice.c, conv, "bob"), PARLEY_ECUSTODY);
    h_client_new(&customer, "customer", &brand, -1, "customer.db", false);
    CHECK(wait_active(&alice, conv, n + 2));
    CHECK(wait_state(&customer, conv, PARLEY_CONV_ACTIVE));
    CHECK(strcmp(customer.events[h_find(&customer, PARLEY_EV_CONVERSATION, conv)].agent.agent_id,
                 "alice") == 0);
    /* Her transcript goes on from her own: the first words once. */
    CHECK_OK(parley_conversation_history(alice.c, conv, count_line, &lines));
    CHECK(lines == 1);
    CHECK(h_find(&alice, PARLEY_EV_REJECTED, conv) < 0);
    CHECK(h_find(&bob, PARLEY_EV_REJECTED, conv) < 0);
    CHECK(h_find(&customer, PARLEY_EV_REJECTED, conv) < 0);
    CHECK_OK(parley_conversation_close(alice.c, conv, "resolved"));
    CHECK(wait_state(&customer, conv, PARLEY_CONV_CLOSED));
}

/*
 * Erasure: a second customer talks with Alice, then asks for erasure.
 * Alice's client deletes its copy; Bob's (the brand keeps his, by policy)
 * marks it and leaves it out of listings, but still exports it. The relay
 * confirms. Nothing the customer sends afterwards is lost.
 */
static void test_erasure(void)
{
    uint8_t conv[16];
    char *json = NULL;
    size_t len = 0;
    int i;

    printf("erasure: the agents delete (or keep, marked) and the relay confirms\n");
    CHECK(h_wait(all, &customer2, PARLEY_EV_DIRECTORY, 1, 10000));
    CHECK_OK(parley_client_consent(customer2.c, NULL, 0));
    CHECK_OK(parley_conversation_open(customer2.c, "support", "Mon dossier m\xc3\xa9" "dical", conv));
    CHECK(wait_state(&alice, conv, PARLEY_CONV_QUEUED));
    CHECK(wait_state(&bob, conv, PARLEY_CONV_QUEUED));
    CHECK_OK(parley_conversation_claim(alice.c, conv));
    CHECK(wait_state(&customer2, conv, PARLEY_CONV_ACTIVE));
    CHECK(wait_state(&bob, conv, PARLEY_CONV_TAKEN));
    CHECK_OK(parley_conversation_send_text(customer2.c, conv,
                                           "Mon num\xc3\xa9ro est le 0612345678", NULL));
    CHECK(h_wait_text(all, &alice, "Mon num\xc3\xa9ro est le 0612345678", 10000));
    CHECK(history_size(&alice, conv) == 2);
    CHECK(history_size(&bob, conv) == 1);

    CHECK_ERR(parley_client_erase(alice.c), PARLEY_ESTATE);
    CHECK_OK(parley_client_withdraw_consent(customer2.c));
    CHECK(!parley_client_has_consent(customer2.c));
    CHECK_ERR(parley_conversation_open(customer2.c, "support", "encore", conv), PARLEY_ENOCONSENT);
    CHECK(h_wait(all, &customer2, PARLEY_EV_ERASED, 1, 10000));
    CHECK(h_wait(all, &alice, PARLEY_EV_ERASED, 1, 10000));
    CHECK(h_wait(all, &bob, PARLEY_EV_ERASED, 1, 10000));
    i = h_find(&alice, PARLEY_EV_ERASED, conv);
    CHECK(i >= 0 && alice.events[i].erasure == 1);
    i = h_find(&bob, PARLEY_EV_ERASED, conv);
    CHECK(i >= 0 && bob.events[i].erasure == 2);
    CHECK(conv_state_is(&alice, conv, PARLEY_CONV_CLOSED));
    CHECK(conv_state_is(&customer2, conv, PARLEY_CONV_CLOSED));
    CHECK(history_size(&alice, conv) == 0);
    CHECK(history_size(&bob, conv) == 0);
    CHECK_OK(parley_conversation_export(alice.c, conv, &json, &len));
    CHECK(strstr(json, "\"erasure\":\"deleted\"") != NULL && strstr(json, "0612345678") == NULL);
    CHECK(strstr(json, "\"consent\"") == NULL);
    parley_free(json, len);
    CHECK_OK(parley_conversation_export(bob.c, conv, &json, &len));
    CHECK(strstr(json, "\"erasure\":\"kept\"") != NULL);
    CHECK(strstr(json, "Mon dossier m\xc3\xa9" "dical") != NULL);
    parley_free(json, len);
    /* A new consent, a new conversation: all works again. */
    CHECK_OK(parley_client_consent(customer2.c, NULL, 0));
    CHECK_OK(parley_conversation_open(customer2.c, "support", "Nouvelle question", conv));
    CHECK(h_wait_text(all, &alice, "Nouvelle question", 10000));
}

/*
 * A new notice while alice is away: the customer is asked again, and the
 * Open sealed under the new consent waits on the relay for alice, who
 * must accept it when she comes back (the relay gives her the new
 * directory before what it stored).
 */
static void test_new_notice(void)
{
    static const char text[] = "Une question apr\xc3\xa8s la nouvelle notice";
    int dirs = customer2.count[PARLEY_EV_DIRECTORY];
    uint8_t conv[16];

    printf("new notice: consent asked again; an agent away accepts the Open on return\n");
    h_client_free(&alice);
    h_directory(&brand, 2, 3, "Acme keeps this conversation to answer you, and now says so.");
    h_client_new(&carol, "carol", &brand, 2, "carol.db", true);
    CHECK(h_wait(all, &customer2, PARLEY_EV_DIRECTORY, dirs + 1, 10000));
    CHECK(customer2.events[h_find(&customer2, PARLEY_EV_DIRECTORY, NULL)].notice_version == 3);
    CHECK(!parley_client_has_consent(customer2.c));
    CHECK_ERR(parley_conversation_open(customer2.c, "support", text, conv), PARLEY_ENOCONSENT);
    CHECK_OK(parley_client_consent(customer2.c, NULL, 0));
    CHECK_OK(parley_conversation_open(customer2.c, "support", text, conv));
    CHECK(h_wait_text(all, &bob, text, 10000));
    h_client_new(&alice, "alice", &brand, 0, "alice.db", false);
    CHECK(h_wait_text(all, &alice, text, 10000));
    CHECK(h_find(&alice, PARLEY_EV_REJECTED, NULL) < 0);
    CHECK(wait_state(&alice, conv, PARLEY_CONV_QUEUED));
}

int main(int argc, char **argv)
{
    CHECK(argc == 2 || argc == 3);
    h_tls = argc == 3 && strcmp(argv[2], "tls") == 0;
    h_setup(&brand);
    h_relay_start(argv[1], NULL);
    h_client_new(&alice, "alice", &brand, 0, "alice.db", true);
    h_keep_on_erasure = true; /* Bob's brand must keep conversations: his client marks them */
    h_client_new(&bob, "bob", &brand, 1, "bob.db", false);
    h_keep_on_erasure = false;
    CHECK(h_wait(all, &alice, PARLEY_EV_CONNECTED, 1, 10000));
    CHECK(h_wait(all, &alice, PARLEY_EV_DIRECTORY, 1, 10000));
    h_client_new(&customer, "customer", &brand, -1, "customer.db", false);
    test_conversation();
    test_custody_round_trip();
    h_client_new(&customer2, "customer2", &brand, -1, "customer2.db", false);
    test_erasure();
    test_new_notice();
    h_client_free(&carol);
    h_client_free(&customer2);
    h_client_free(&customer);
    h_client_free(&alice);
    h_client_free(&bob);
    h_teardown(&brand);
    printf("ok\n");
    return 0;
}
