/*
 * Nothing lost, nothing twice: a stream of messages while the relay is
 * killed (SIGKILL) and restarted on its database, and while the
 * customer's process state is thrown away and rebuilt from its store.
 * Also runs the customer in service-thread mode (event fd + dispatch).
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define N_MESSAGES 40

static struct h_brand brand;
static struct h_client alice, customer;
static struct h_client *all[] = {&alice, &customer, NULL};

static int count_text(const struct h_client *hc, const char *text)
{
    int n = 0;
    for (int i = 0; i < hc->n_events; i++)
        n += hc->events[i].kind == PARLEY_EV_MESSAGE && strcmp(hc->texts[i], text) == 0;
    return n;
}

struct all_arrived {
    struct h_client *hc;
    int from, to;
};

static bool arrived(void *arg)
{
    struct all_arrived *a = arg;
    char text[32];

    for (int i = a->from; i < a->to; i++) {
        snprintf(text, sizeof(text), "message %d", i);
        if (count_text(a->hc, text) == 0)
            return false;
    }
    return true;
}

static void check_exactly_once(struct h_client *hc, int from, int to)
{
    char text[32];

    for (int i = from; i < to; i++) {
        snprintf(text, sizeof(text), "message %d", i);
        if (count_text(hc, text) != 1) {
            fprintf(stderr, "%s seen %d times\n", text, count_text(hc, text));
            CHECK(0);
        }
    }
}

static bool claimed(void *arg)
{
    parley_conv_state s;
    return parley_conversation_state(customer.c, arg, &s) == PARLEY_OK && s == PARLEY_CONV_ACTIVE;
}

static void start_conversation(uint8_t conv[16])
{
    parley_conv_state s;

    CHECK(h_wait(all, &customer, PARLEY_EV_DIRECTORY, 1, 10000));
    CHECK_OK(parley_client_consent(customer.c, NULL, 0));
    CHECK_OK(parley_conversation_open(customer.c, "support", "hello", conv));
    CHECK(h_wait_text(all, &alice, "hello", 10000));
    CHECK_OK(parley_conversation_state(alice.c, conv, &s));
    CHECK(s == PARLEY_CONV_QUEUED);
    CHECK_OK(parley_conversation_claim(alice.c, conv));
    CHECK(h_pump(all, claimed, conv, 10000));
}

static void test_relay_killed(const char *relay_bin, const uint8_t conv[16])
{
    struct all_arrived a = {&alice, 0, N_MESSAGES};
    char text[32];

    printf("relay killed and restarted in the middle of a stream\n");
    for (int i = 0; i < N_MESSAGES; i++) {
        snprintf(text, sizeof(text), "message %d", i);
        CHECK_OK(parley_conversation_send_text(customer.c, conv, text, NULL));
        if (i % 4 == 0)
            h_pump_for(all, 5);
        if (i == N_MESSAGES / 2) {
            h_relay_stop(SIGKILL);
            h_pump_for(all, 200);
            h_relay_start(relay_bin, NULL);
        }
    }
    CHECK(h_pump(all, arrived, &a, 60000)); /* reconnect backoff grows while a loaded machine restarts the relay */
    h_pump_for(all, 500);
    check_exactly_once(&alice, 0, N_MESSAGES);
    CHECK(customer.count[PARLEY_EV_DISCONNECTED] >= 1);
    CHECK(parley_client_outbox_size(customer.c) == 0);
}

static void test_client_restarted(const uint8_t conv[16])
{
    struct all_arrived a = {&alice, N_MESSAGES, N_MESSAGES + 10};
    char text[32];

    printf("customer process state dropped mid-stream and rebuilt from its store\n");
    for (int i = N_MESSAGES; i < N_MESSAGES + 10; i++) {
        snprintf(text, sizeof(text), "message %d", i);
        CHECK_OK(parley_conversation_send_text(customer.c, conv, text, NULL));
    }
    /* No service at all: everything is only in the outbox on disk. */
    CHECK(parley_client_outbox_size(customer.c) == 10);
    h_client_free(&customer);
    h_client_new(&customer, "customer", &brand, -1, "customer.db", false);
    CHECK(parley_client_outbox_size(customer.c) == 10);
    CHECK(h_pump(all, arrived, &a, 20000));
    h_pump_for(all, 300);
    check_exactly_once(&alice, 0, N_MESSAGES + 10);
    CHECK(alice.count[PARLEY_EV_GAP] == 0 && alice.count[PARLEY_EV_REPLAY] == 0);
}

static void test_service_thread(const uint8_t conv[16])
{
    struct pollfd pfd;
    int64_t waited = 0;

    printf("service thread: events through the event fd, callbacks on this thread\n");
    CHECK_OK(parley_client_start_thread(customer.c));
    CHECK(parley_client_event_fd(customer.c) >= 0);
    CHECK_OK(
        parley_conversation_send_text(alice.c, conv, "from alice, to a threaded customer", NULL));
    pfd.fd = parley_client_event_fd(customer.c);
    pfd.events = POLLIN;
    while (!h_has_text(&customer, "from alice, to a threaded customer") && waited < 10000) {
        parley_client_run_once(alice.c, 5);
        if (poll(&pfd, 1, 5) > 0)
            parley_client_dispatch(customer.c);
        waited += 10;
    }
    CHECK(h_has_text(&customer, "from alice, to a threaded customer"));
    CHECK_OK(parley_conversation_send_text(customer.c, conv, "threaded reply", NULL));
    waited = 0;
    while (!h_has_text(&alice, "threaded reply") && waited < 10000) {
        parley_client_run_once(alice.c, 5);
        if (poll(&pfd, 1, 5) > 0)
            parley_client_dispatch(customer.c);
        waited += 10;
    }
    CHECK(h_has_text(&alice, "threaded reply"));
}

/*
 * An agent reinstalled with a new, empty store (same key): the relay still
 * holds the prekeys its old store published. Its client replaces them on
 * connecting, so a new customer's first message reaches it.
 */
static void test_agent_new_store(void)
{
    static struct h_client newcomer;
    struct h_client *both[] = {&alice, &newcomer, NULL};
    uint8_t conv[16];

    printf("agent with a new store: its stale prekeys on the relay are replaced\n");
    h_client_free(&alice);
    h_client_new(&alice, "alice", &brand, 0, "alice-reinstalled.db", false);
    CHECK(h_wait(both, &alice, PARLEY_EV_CONNECTED, 1, 10000));
    h_pump_for(both, 300); /* the replacement set is published */
    h_client_new(&newcomer, "newcomer", &brand, -1, "newcomer.db", false);
    CHECK(h_wait(both, &newcomer, PARLEY_EV_DIRECTORY, 1, 10000));
    CHECK_OK(parley_client_consent(newcomer.c, NULL, 0));
    CHECK_OK(parley_conversation_open(newcomer.c, "support", "first words after a reinstall",
                                      conv));
    /* Envelopes stored for the old store's conversations cannot open here: that is expected. */
    CHECK(h_wait_text(both, &alice, "first words after a reinstall", 15000));
    h_client_free(&newcomer);
}

int main(int argc, char **argv)
{
    uint8_t conv[16];

    CHECK(argc == 2);
    h_setup(&brand);
    h_relay_start(argv[1], NULL);
    h_client_new(&alice, "alice", &brand, 0, "alice.db", true);
    CHECK(h_wait(all, &alice, PARLEY_EV_DIRECTORY, 1, 10000));
    h_client_new(&customer, "customer", &brand, -1, "customer.db", false);
    start_conversation(conv);
    test_relay_killed(argv[1], conv);
    test_client_restarted(conv);
    test_service_thread(conv);
    h_client_free(&customer);
    test_agent_new_store();
    h_client_free(&alice);
    h_teardown(&brand);
    printf("ok\n");
    return 0;
}
