/*
 * parley_client_directory() hands the application a reference of its
 * own: the client's service thread replaces the directory when the brand
 * publishes a new one, and a reference taken before stays readable and
 * unchanged until the application releases it. Run under AddressSanitizer
 * (the sanitizer pass of the test suite), a reference that the service
 * thread freed under the reader is a use after free.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define VERSIONS 6

static struct h_brand brand;
static struct h_client alice, customer;
static struct h_client *all[] = {&alice, &customer, NULL};

static void notice_of(uint64_t version, char *out, size_t cap)
{
    snprintf(out, cap, "Acme keeps this conversation to answer you (notice %llu).",
             (unsigned long long)version);
}

/* Reads everything a reader would, and checks it is still the version it was taken as. */
static void read_all(const parley_directory *d, uint64_t version)
{
    char want[96];
    size_t n;

    notice_of(version, want, sizeof(want));
    CHECK(parley_directory_version(d) == version);
    CHECK(strcmp(parley_directory_notice_text(d), want) == 0);
    CHECK(parley_directory_notice_version(d) == (uint32_t)version);
    n = parley_directory_agent_count(d);
    CHECK(n == 3);
    for (size_t i = 0; i < n; i++) {
        parley_cert_info info;
        size_t len = 0;

        CHECK_OK(parley_directory_agent(d, i, &info));
        CHECK(parley_directory_agent_cert(d, i, &len) != NULL && len > 0);
        CHECK(parley_directory_find_agent(d, info.agent_id) == (int)i);
    }
    CHECK(parley_directory_queue_count(d) == 2);
    CHECK(strcmp(parley_directory_queue_name(d, 0), "support") == 0);
}

static void make_directory(uint64_t v)
{
    char notice[96];

    notice_of(v, notice, sizeof(notice));
    h_directory(&brand, v, (uint32_t)v, notice);
}

/* alice comes back publishing version v; the threaded customer is pushed it. */
static void publish(uint64_t v)
{
    h_client_free(&alice);
    make_directory(v);
    h_client_new(&alice, "alice", &brand, 0, "alice.db", true);
}

/*
 * Runs alice's client and dispatches the customer's events until the
 * customer has seen `want` directories, taking and reading a reference on
 * every turn while its service thread installs them.
 */
static void read_while_replaced(int want)
{
    struct pollfd pfd = {parley_client_event_fd(customer.c), POLLIN, 0};
    int turns = 0;

    while (customer.count[PARLEY_EV_DIRECTORY] < want && turns++ < 4000) {
        parley_directory *d = NULL;

        parley_client_run_once(alice.c, 5);
        CHECK_OK(parley_client_directory(customer.c, &d));
        read_all(d, parley_directory_version(d));
        parley_directory_free(d);
        if (poll(&pfd, 1, 0) > 0)
            parley_client_dispatch(customer.c);
    }
    CHECK(customer.count[PARLEY_EV_DIRECTORY] >= want);
}

int main(int argc, char **argv)
{
    parley_directory *first = NULL, *d = NULL;
    int seen;

    CHECK(argc == 2);
    h_setup(&brand);
    make_directory(1);
    h_relay_start(argv[1], NULL);
    h_client_new(&alice, "alice", &brand, 0, "alice.db", true);
    CHECK(h_wait(all, &alice, PARLEY_EV_DIRECTORY, 1, 10000));
    h_client_new(&customer, "customer", &brand, -1, "customer.db", false);
    CHECK_ERR(parley_client_directory(customer.c, &d), PARLEY_ENODIRECTORY);
    CHECK(d == NULL);
    CHECK_ERR(parley_client_directory(customer.c, NULL), PARLEY_EINVAL);
    CHECK(h_wait(all, &customer, PARLEY_EV_DIRECTORY, 1, 10000));

    printf("directory reference: kept by the application across a replacement\n");
    CHECK_OK(parley_client_start_thread(customer.c));
    CHECK_OK(parley_client_directory(customer.c, &first));
    read_all(first, 1);
    seen = customer.count[PARLEY_EV_DIRECTORY];
    publish(2);
    read_while_replaced(seen + 1);
    CHECK_OK(parley_client_directory(customer.c, &d));
    CHECK(parley_directory_version(d) == 2);
    /* The service thread has dropped version 1: the application's reference still reads it. */
    read_all(first, 1);
    parley_directory_free(d);

    printf("directory reference: read on every turn while the service thread installs %d "
           "versions\n",
           VERSIONS - 2);
    for (uint64_t v = 3; v <= VERSIONS; v++) {
        seen = customer.count[PARLEY_EV_DIRECTORY];
        publish(v);
        read_while_replaced(seen + 1);
    }
    CHECK_OK(parley_client_directory(customer.c, &d));
    read_all(d, VERSIONS);
    read_all(first, 1);
    parley_directory_free(first);
    /* Released by the application after the client is gone: still its own. */
    h_client_free(&customer);
    read_all(d, VERSIONS);
    parley_directory_free(d);
    h_client_free(&alice);
    h_teardown(&brand);
    printf("ok\n");
    return 0;
}
