/*
 * A client on wss:// checks the relay's TLS certificate: against a relay
 * whose certificate it cannot verify (self-signed) it never authenticates
 * and is told why, so nobody on the path can stand in for the relay by
 * presenting a certificate of its own. Only PARLEY_TLS_INSECURE=1, meant
 * for local testing, accepts such a relay.
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

static struct h_brand brand;
static struct h_client strict, insecure;
static struct h_client *all[] = {&strict, &insecure, NULL};

int main(int argc, char **argv)
{
    const parley_event *e;
    int i;

    CHECK(argc == 2);
    h_tls = true;
    h_setup(&brand);
    h_relay_start(argv[1], NULL); /* self-signed; sets PARLEY_TLS_INSECURE for the harness */

    printf("tls: a customer that cannot verify the relay's certificate never authenticates\n");
    CHECK(unsetenv("PARLEY_TLS_INSECURE") == 0);
    h_client_new(&strict, "strict", &brand, -1, "strict.db", false);
    CHECK(h_wait(all, &strict, PARLEY_EV_DISCONNECTED, 2, 15000));
    CHECK(strict.count[PARLEY_EV_CONNECTED] == 0 && strict.count[PARLEY_EV_DIRECTORY] == 0);
    i = h_find(&strict, PARLEY_EV_DISCONNECTED, NULL);
    e = &strict.events[i];
    printf("   disconnected: %s, next attempt in %llu ms\n", parley_strerror(e->error),
           (unsigned long long)e->retry_ms);
    CHECK(e->error != PARLEY_OK && e->retry_ms > 0);
    /*
     * Stopped before the variable is set: every attempt reads it, so a
     * retry of this client from then on would rightly be accepted.
     */
    h_client_free(&strict);
    all[0] = &insecure;
    all[1] = NULL;

    printf("tls: the same relay, accepted on purpose (PARLEY_TLS_INSECURE=1)\n");
    CHECK(setenv("PARLEY_TLS_INSECURE", "1", 1) == 0);
    h_client_new(&insecure, "insecure", &brand, -1, "insecure.db", false);
    CHECK(h_wait(all, &insecure, PARLEY_EV_CONNECTED, 1, 15000));
    h_client_free(&insecure);
    h_teardown(&brand);
    printf("ok\n");
    return 0;
}
