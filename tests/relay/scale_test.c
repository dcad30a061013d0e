/*
 * A thousand authenticated customers connected at once: every connection
 * stays usable, envelopes still flow between them, and once they all
 * leave the relay is healthy and its gauges are back to zero.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "testkit.h"

#define N_CONN 1000

static void raise_fd_limit(void)
{
    struct rlimit rl;

    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_cur < 4096) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    CHECKM(rl.rlim_cur >= 2 * N_CONN + 100, "RLIMIT_NOFILE %llu too low for %d connections",
           (unsigned long long)rl.rlim_cur, N_CONN);
}

static void pass_envelope(wsc *from, wsc *to, const parley_identity *to_id)
{
    uint8_t eid[16], routing[32], sealed[100];

    tk_random(eid, 16);
    tk_random(sealed, sizeof(sealed));
    tk_routing(to_id, routing);
    tk_send_acked(from, eid, routing, sealed, sizeof(sealed));
    tk_expect_deliver(to, eid, sealed, sizeof(sealed), 5000);
    CHECK(pc_send_delivered(to, (const uint8_t(*)[16])eid, 1) == 0);
}

static void test_thousand(void)
{
    struct tk_env e;
    const char *args[] = {"--max-conn-per-ip", "2000", NULL};
    static parley_identity *ids[N_CONN];
    static wsc *conns[N_CONN];
    int64_t t0;
    double v = -1;

    raise_fd_limit();
    tk_env_init(&e, "scale");
    tk_env_start(&e, args);
    t0 = mono_ms();
    for (int i = 0; i < N_CONN; i++) {
        ids[i] = tk_identity();
        conns[i] = pc_connect(e.relay.port, ids[i], NULL, 0);
        CHECKM(conns[i] != NULL, "connection %d of %d failed", i + 1, N_CONN);
    }
    printf("   %d connections authenticated in %.1f s\n", N_CONN,
           (double)(mono_ms() - t0) / 1000.0);
    v = relay_metric(&e.relay, "parley_connections_authenticated");
    CHECKM(v == N_CONN, "parley_connections_authenticated is %g", v);

    /* Every connection answers a ping. */
    for (int i = 0; i < N_CONN; i++)
        CHECK(wsc_send_frame(conns[i], WSC_FIN | WSC_OP_PING, true, 2, (const uint8_t *)"hi", 2) ==
              0);
    for (int i = 0; i < N_CONN; i++) {
        struct wsc_msg m;
        CHECKM(wsc_recv(conns[i], 5000, &m) == WSC_OK && m.opcode == WSC_OP_PONG,
               "connection %d did not answer a ping", i);
        wsc_msg_clear(&m);
    }

    /* Envelopes flow between a few of them. */
    pass_envelope(conns[0], conns[N_CONN - 1], ids[N_CONN - 1]);
    pass_envelope(conns[N_CONN / 2], conns[1], ids[1]);
    pass_envelope(conns[N_CONN - 1], conns[N_CONN / 2], ids[N_CONN / 2]);
    tk_roundtrip(conns[123], ids[123]);

    /* All leave: half politely, half by dropping the socket. */
    for (int i = 0; i < N_CONN; i++) {
        if (i % 2 == 0)
            CHECK(wsc_send_close(conns[i], 1000) == 0);
        else
            wsc_free(conns[i]);
    }
    for (int i = 0; i < N_CONN; i += 2) {
        tk_expect_close(conns[i], 1000, 5000, "close handshake");
        wsc_free(conns[i]);
    }
    {
        int64_t deadline = mono_ms() + 10000;
        while (mono_ms() < deadline) {
            v = relay_metric(&e.relay, "parley_connections");
            if (v == 1)
                break;
            sleep_ms(100);
        }
    }
    CHECKM(v == 1, "parley_connections is %g after everyone left", v);
    CHECK(relay_metric(&e.relay, "parley_connections_authenticated") == 0);
    {
        char *body = NULL;
        CHECK(http_get(e.relay.port, "/healthz", &body) == 200);
        free(body);
    }
    conns[0] = pc_connect(e.relay.port, ids[0], NULL, 0);
    CHECK(conns[0] != NULL);
    tk_roundtrip(conns[0], ids[0]);
    wsc_free(conns[0]);
    for (int i = 0; i < N_CONN; i++)
        parley_identity_free(ids[i]);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"thousand_connections", test_thousand},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
