/*
 * parley-agent's model fed client events (events.c): when a customer asks
 * for erasure, the agent's mark that it verified that customer leaves the
 * encrypted locker file and every conversation with that customer, whether
 * the brand keeps the history or not; other customers keep theirs. A
 * brand's erasure order does the same for its customer and says so in the
 * status bar; an export order's document is written beside the agent, 0600,
 * never over another file.
 */
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "app.h"
#include "check.h"

static char dir[] = "/tmp/parley-tui-events-XXXXXX";
static char path[128];

static void add_conv(struct app *a, uint8_t n, uint8_t customer_byte)
{
    uint8_t id[16] = {n};
    int entered, i = convlist_update(&a->list, id, PARLEY_CONV_ACTIVE, "support", &entered);
    char hex[65];

    CHECK(i >= 0);
    memset(a->list.v[i].customer_pk, customer_byte, 32);
    a->list.v[i].has_customer = 1;
    a->list.v[i].verified = 1;
    sodium_bin2hex(hex, sizeof(hex), a->list.v[i].customer_pk, 32);
    CHECK(locker_put(a->locker, LOCKER_KIND_VERIFIED, hex, "1") == LOCKER_OK);
}

static int verified_in_file(uint8_t customer_byte)
{
    struct locker *l = NULL;
    uint8_t pk[32];
    char hex[65];
    int found;

    memset(pk, customer_byte, 32);
    sodium_bin2hex(hex, sizeof(hex), pk, 32);
    CHECK(locker_open(&l, path, "agent pass", 10, PARLEY_KDF_INTERACTIVE) == LOCKER_OK);
    found = locker_get(l, LOCKER_KIND_VERIFIED, hex) != NULL;
    locker_free(l);
    return found;
}

static void erased(struct app *a, uint8_t n, uint32_t erasure)
{
    parley_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_ERASED;
    ev.conversation_id[0] = n;
    ev.erasure = erasure;
    app_on_event(a, &ev);
}

/* erasure 1 (history deleted) and 2 (kept by brand policy) both forget the verification. */
static void test_erasure_forgets_verified_customer(uint32_t erasure)
{
    static struct app a;

    memset(&a, 0, sizeof(a));
    unlink(path);
    convlist_init(&a.list);
    CHECK(locker_open(&a.locker, path, "agent pass", 10, PARLEY_KDF_INTERACTIVE) == LOCKER_OK);
    add_conv(&a, 1, 0xc1); /* two conversations with one customer */
    add_conv(&a, 2, 0xc1);
    add_conv(&a, 3, 0xc2); /* and one with another */
    CHECK(verified_in_file(0xc1) && verified_in_file(0xc2));
    erased(&a, 2, erasure);
    CHECK(!verified_in_file(0xc1) && verified_in_file(0xc2));
    CHECK(!a.list.v[0].verified && !a.list.v[1].verified && a.list.v[2].verified);
    CHECK(strstr(a.status, "customer asked for erasure") != NULL);
    CHECK(strstr(a.status, "could not") == NULL);
    /* Again, or for a conversation it does not know: nothing else changes. */
    erased(&a, 2, erasure);
    erased(&a, 9, erasure);
    CHECK(verified_in_file(0xc2) && a.list.v[2].verified);
    locker_free(a.locker);
    convlist_free(&a.list);
}

static void order_event(struct app *a, parley_order_kind kind, uint8_t customer_byte,
                        const char *text)
{
    parley_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = PARLEY_EV_ORDER;
    memset(ev.order_id, 0xab, sizeof(ev.order_id));
    memset(ev.sender_sign_pk, customer_byte, 32);
    ev.order_kind = kind;
    ev.order_outcome = PARLEY_ORDER_DONE;
    ev.order_conversations = 2;
    ev.order_messages = 5;
    ev.text = text;
    ev.text_len = text != NULL ? strlen(text) : 0;
    app_on_event(a, &ev);
}

static void test_orders(void)
{
    static struct app a;
    static const char json[] = "{\"format\":\"parley-customer-export-v1\"}\n";
    char got[128] = "";
    struct stat st;
    FILE *f;

    memset(&a, 0, sizeof(a));
    unlink(path);
    convlist_init(&a.list);
    CHECK(locker_open(&a.locker, path, "agent pass", 10, PARLEY_KDF_INTERACTIVE) == LOCKER_OK);
    add_conv(&a, 1, 0xc1);
    add_conv(&a, 3, 0xc2);
    order_event(&a, PARLEY_ORDER_ERASE, 0xc1, NULL);
    CHECK(!verified_in_file(0xc1) && verified_in_file(0xc2));
    CHECK(!a.list.v[0].verified && a.list.v[1].verified);
    CHECK(strstr(a.status, "brand order abababababababab: erased 2 conversation(s), 5 message(s)") !=
          NULL);

    order_event(&a, PARLEY_ORDER_EXPORT, 0xc2, json);
    CHECK(strstr(a.status, "exported to parley-order-abababababababab.json") != NULL);
    CHECK(stat("parley-order-abababababababab.json", &st) == 0 && (st.st_mode & 0777) == 0600);
    f = fopen("parley-order-abababababababab.json", "r");
    CHECK(f != NULL && fgets(got, sizeof(got), f) != NULL);
    fclose(f);
    CHECK(strcmp(got, json) == 0);
    /* The same again: the file is there, never overwritten. */
    order_event(&a, PARLEY_ORDER_EXPORT, 0xc2, "{}");
    CHECK(strstr(a.status, "export not written") != NULL);
    CHECK(unlink("parley-order-abababababababab.json") == 0);
    locker_free(a.locker);
    convlist_free(&a.list);
}

int main(void)
{
    CHECK(sodium_init() >= 0);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/agent.db.canned", dir);
    test_erasure_forgets_verified_customer(1);
    test_erasure_forgets_verified_customer(2);
    CHECK(chdir(dir) == 0); /* where parley-agent writes an order's export */
    test_orders();
    unlink(path);
    CHECK(rmdir(dir) == 0);
    printf("tui events: ok\n");
    return 0;
}
