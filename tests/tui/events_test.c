/*
 * parley-agent's model fed client events (events.c): when a customer asks
 * for erasure, the agent's mark that it verified that customer leaves the
 * encrypted locker file and every conversation with that customer, whether
 * the brand keeps the history or not; other customers keep theirs.
 */
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

int main(void)
{
    CHECK(sodium_init() >= 0);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/agent.db.canned", dir);
    test_erasure_forgets_verified_customer(1);
    test_erasure_forgets_verified_customer(2);
    unlink(path);
    CHECK(rmdir(dir) == 0);
    printf("tui events: ok\n");
    return 0;
}
