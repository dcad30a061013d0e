/*
 * A brand's erasure order end to end, without the customer's device: the
 * order handed to a real relay (parley_order_submit, as parley-keys does),
 * carried out by each agent client as it connects, its receipts collected
 * and verified by `parley-keys brand order status`, which names the agent
 * still to answer until it has.
 * Usage: client-order PARLEY-RELAY PARLEY-KEYS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"

static struct h_brand brand;
static struct h_client alice, bob, customer;
static struct h_client *all[] = {&alice, &bob, &customer, NULL};
static const char *keys_bin;

/* A file of parley-keys' framing: magic, then the object. */
static void write_framed(const char *name, const char *magic, const uint8_t *p, size_t n)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", h_dir, name);
    f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(magic, 1, 8, f) == 8 && fwrite(p, 1, n, f) == n);
    CHECK(fclose(f) == 0);
}

/* The client pin: the brand key and the directory key, for --directory. */
static void write_client_pin(void)
{
    char path[512], pk[65], dk[65];
    FILE *f;

    snprintf(path, sizeof(path), "%s/brand.client", h_dir);
    sodium_bin2hex(pk, sizeof(pk), parley_identity_sign_pk(brand.brand), 32);
    sodium_bin2hex(dk, sizeof(dk), brand.dir_key, 32);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "parley-brand-v1 %s %s %s\n", H_BRAND, pk, dk);
    CHECK(fclose(f) == 0);
}

/* `parley-keys brand order status` on the order: its exit status, its output in out. */
static int keys_status(char *out, size_t cap)
{
    char cmd[2048];
    FILE *p;
    size_t n;
    int st;

    snprintf(cmd, sizeof(cmd),
             "'%s' brand order status '%s/erase.order' --relay ws://127.0.0.1:%d/ "
             "--brand '%s/brand.client' --directory '%s/acme.dir' 2>&1",
             keys_bin, h_dir, h_port, h_dir, h_dir);
    p = popen(cmd, "r");
    CHECK(p != NULL);
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    st = pclose(p);
    CHECK(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void open_conversation(uint8_t conv[16])
{
    CHECK(h_wait(all, &customer, PARLEY_EV_DIRECTORY, 1, 10000));
    CHECK_OK(parley_client_consent(customer.c, NULL, 0));
    CHECK_OK(parley_conversation_open(customer.c, "support", "Mon IBAN a change", conv));
    CHECK(h_wait_text(all, &alice, "Mon IBAN a change", 10000));
    CHECK(h_wait_text(all, &bob, "Mon IBAN a change", 10000));
    CHECK_OK(parley_conversation_claim(alice.c, conv));
    CHECK_OK(parley_conversation_send_text(alice.c, conv, "Je note le nouveau", NULL));
    CHECK(h_wait_text(all, &customer, "Je note le nouveau", 10000));
}

static int history_count(void *user, const parley_history_entry *e)
{
    (void)e;
    (*(int *)user)++;
    return 0;
}

int main(int argc, char **argv)
{
    uint8_t conv[16], customer_pk[32], *order;
    size_t order_len;
    uint64_t now;
    char out[8192];
    int relay_code = -1, i, n = 0;

    CHECK(argc == 3);
    keys_bin = argv[2];
    h_setup(&brand);
    h_relay_start(argv[1], NULL);
    write_client_pin();
    write_framed("acme.dir", "PRLYDIR1", brand.directory, brand.directory_len);
    h_client_new(&alice, "alice", &brand, 0, "alice.db", true);
    CHECK(h_wait(all, &alice, PARLEY_EV_DIRECTORY, 1, 10000));
    h_client_new(&bob, "bob", &brand, 1, "bob.db", false);
    h_client_new(&customer, "customer", &brand, -1, "customer.db", false);
    CHECK(h_wait(all, &bob, PARLEY_EV_CONNECTED, 1, 10000));
    open_conversation(conv);
    memcpy(customer_pk, parley_client_sign_pk(customer.c), 32);
    /* The customer's device is gone; bob is offline when the order comes. */
    h_client_free(&customer);
    h_client_free(&bob);

    now = (uint64_t)time(NULL);
    CHECK_OK(parley_order_build(brand.brand, H_BRAND, PARLEY_ORDER_ERASE, customer_pk, now,
                                now + 86400, &order, &order_len));
    write_framed("erase.order", "PRLYORD1", order, order_len);
    {
        char url[64];
        snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", h_port);
        CHECK_OK(parley_order_submit(url, order, order_len, 10000, &relay_code));
        CHECK_ERR(parley_order_submit(url, order, order_len, 10000, &relay_code), PARLEY_EREPLAY);
        CHECK(relay_code == 18); /* REPLAYED */
    }

    /* Alice, online, carries it out: the conversation's history is gone. */
    CHECK(h_wait(all, &alice, PARLEY_EV_ORDER, 1, 10000));
    i = h_find(&alice, PARLEY_EV_ORDER, NULL);
    CHECK(alice.events[i].error == PARLEY_OK && alice.events[i].order_conversations == 1 &&
          alice.events[i].order_outcome == PARLEY_ORDER_DONE);
    CHECK_OK(parley_conversation_history(alice.c, conv, history_count, &n));
    CHECK(n == 0);
    h_pump_for(all, 500); /* her receipt reaches the relay */
    CHECK(keys_status(out, sizeof(out)) == 1);
    CHECK(strstr(out, "done     alice") != NULL && strstr(out, "pending  bob") != NULL);
    CHECK(strstr(out, "1 receipt, 2 pending") != NULL); /* bob, and carol who never connected */

    /* Bob connects later: handed the order, he answers too. */
    h_client_new(&bob, "bob", &brand, 1, "bob.db", false);
    CHECK(h_wait(all, &bob, PARLEY_EV_ORDER, 1, 10000));
    h_pump_for(all, 500);
    CHECK(keys_status(out, sizeof(out)) == 1);
    CHECK(strstr(out, "done     bob") != NULL && strstr(out, "pending  bob") == NULL);
    CHECK(strstr(out, "2 receipts, 1 pending, 0 invalid") != NULL);
    fputs(out, stdout);

    parley_free(order, order_len);
    h_client_free(&alice);
    h_client_free(&bob);
    h_teardown(&brand);
    printf("ok\n");
    return 0;
}
