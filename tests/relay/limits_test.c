/*
 * The relay's hard limits, each hit by one misbehaving connection while a
 * well-behaved one (the bystander) keeps working: message size, frame
 * rate, connections per address, idle peers and frames that never finish.
 * Every refusal must show up in parley_rejects_total. (Slow readers and
 * what is queued to a connection: outbound_test.c.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>

#include "testkit.h"

struct bystander {
    parley_identity *id;
    wsc *c;
};

static void bystander_open(struct bystander *b, const struct tk_env *e)
{
    b->id = tk_identity();
    b->c = pc_connect(e->relay.port, b->id, NULL, 0);
    CHECKM(b->c != NULL, "bystander cannot connect");
}

static void bystander_close(struct bystander *b)
{
    wsc_free(b->c);
    parley_identity_free(b->id);
}

/* A connection authenticated as a fresh customer; *id receives its identity. */
static wsc *customer(const struct tk_env *e, parley_identity **id)
{
    wsc *c;

    *id = tk_identity();
    c = pc_connect(e->relay.port, *id, NULL, 0);
    CHECKM(c != NULL, "customer cannot connect");
    return c;
}

static void test_max_frame(void)
{
    struct tk_env e;
    const char *args[] = {"--max-frame", "4096", NULL};
    struct bystander by;
    parley_identity *id, *id2, *id3;
    uint8_t msg[5000], eid[16], to[32], sealed[3900];
    int64_t t0;
    wsc *c;

    tk_env_init(&e, "maxframe");
    tk_env_start(&e, args);
    bystander_open(&by, &e);
    tk_random(msg, sizeof(msg));

    /* Just under the cap: accepted. */
    c = customer(&e, &id);
    tk_random(eid, 16);
    tk_random(to, 32);
    tk_random(sealed, sizeof(sealed));
    tk_send_acked(c, eid, to, sealed, sizeof(sealed));

    /* A whole 5000-byte message. */
    CHECK(wsc_send_binary(c, msg, sizeof(msg)) == 0);
    tk_expect_close(c, 1009, 5000, "5000-byte message");
    wsc_free(c);

    /* Only the header declaring 5000 bytes: refused before any payload. */
    c = customer(&e, &id2);
    t0 = mono_ms();
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_BINARY, true, 5000, msg, 0) == 0);
    tk_expect_close(c, 1009, 3000, "declared 5000 bytes, none sent");
    CHECKM(mono_ms() - t0 < 1500, "1009 came only after a timeout, not at the header");
    wsc_free(c);

    /* Fragments that add up to more than the cap. */
    c = customer(&e, &id3);
    CHECK(wsc_send_frame(c, WSC_OP_BINARY, true, 3000, msg, 3000) == 0);
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_CONT, true, 2000, msg, 2000) == 0);
    tk_expect_close(c, 1009, 5000, "two fragments summing to 5000 bytes");
    wsc_free(c);

    CHECK(tk_rejects(&e.relay, "too_big", 3) >= 3);
    tk_roundtrip(by.c, by.id);
    bystander_close(&by);
    parley_identity_free(id);
    parley_identity_free(id2);
    parley_identity_free(id3);
    tk_env_end(&e);
}

static void test_rate(void)
{
    struct tk_env e;
    const char *args[] = {"--rate", "5", "--burst", "5", NULL};
    struct bystander by;
    parley_identity *id, *id2;
    uint8_t ids[10][16], conv[16], to[32], sealed[32], *buf = NULL;
    size_t len = 0;
    bool acked[10] = {false}, limited[10] = {false};
    wsc *c;

    tk_env_init(&e, "rate");
    tk_env_start(&e, args);
    bystander_open(&by, &e);
    c = customer(&e, &id);
    tk_random(conv, 16);
    tk_random(to, 32);
    tk_random(sealed, sizeof(sealed));
    for (int i = 0; i < 10; i++) {
        uint8_t *m = NULL;
        size_t mlen = 0;
        tk_random(ids[i], 16);
        CHECK(pc_pack_envelope(ids[i], conv, to, sealed, sizeof(sealed), &m, &mlen) == 0);
        CHECK(wsc_frame_append(&buf, &len, m, mlen) == 0);
        free(m);
    }
    CHECK(wsc_send_raw(c, buf, len) == 0);
    free(buf);
    for (int k = 0; k < 10; k++) {
        Parley__Frame *f = pc_recv(c, 5000);
        const ProtobufCBinaryData *eid;
        CHECKM(f != NULL, "answer %d of 10 missing", k);
        CHECKM(f->kind_case == PARLEY__FRAME__KIND_ACK ||
                   (f->kind_case == PARLEY__FRAME__KIND_ERROR &&
                    f->error->code == PARLEY__ERROR__CODE__RATE_LIMITED),
               "unexpected answer to a burst (kind %d)", (int)f->kind_case);
        eid = f->kind_case == PARLEY__FRAME__KIND_ACK ? &f->ack->envelope_id
                                                      : &f->error->envelope_id;
        for (int i = 0; i < 10; i++)
            if (eid->len == 16 && memcmp(eid->data, ids[i], 16) == 0) {
                if (f->kind_case == PARLEY__FRAME__KIND_ACK)
                    acked[i] = true;
                else
                    limited[i] = true;
            }
        parley__frame__free_unpacked(f, NULL);
    }
    for (int i = 0; i < 10; i++)
        CHECKM(i < 5 ? acked[i] && !limited[i] : limited[i] && !acked[i],
               "frame %d of a burst of 10 (burst 5): %s", i + 1,
               acked[i] ? "accepted" : limited[i] ? "rate limited" : "unanswered");
    CHECK(tk_rejects(&e.relay, "rate_limited", 5) >= 5);

    /* The connection stays open and recovers as tokens refill. */
    sleep_ms(1200);
    tk_send_acked(c, ids[9], to, sealed, sizeof(sealed));

    /* Sustained abuse: 1000 over-limit frames in a row end with 1008. */
    {
        Parley__Frame f = PARLEY__FRAME__INIT;
        Parley__DirectoryFetch df = PARLEY__DIRECTORY_FETCH__INIT;
        uint8_t one[64];
        size_t n;
        wsc *abuser = customer(&e, &id2);

        df.brand_id = "acme";
        f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_FETCH;
        f.directory_fetch = &df;
        n = parley__frame__pack(&f, one);
        buf = NULL;
        len = 0;
        for (int i = 0; i < 1100; i++)
            CHECK(wsc_frame_append(&buf, &len, one, n) == 0);
        CHECK(wsc_send_raw(abuser, buf, len) == 0);
        free(buf);
        tk_expect_close(abuser, 1008, 8000, "1100 frames at once with rate 5");
        wsc_free(abuser);
    }
    tk_roundtrip(by.c, by.id);
    bystander_close(&by);
    wsc_free(c);
    parley_identity_free(id);
    parley_identity_free(id2);
    tk_env_end(&e);
}

static void test_conn_per_ip(void)
{
    struct tk_env e;
    const char *args[] = {"--max-conn-per-ip", "5", NULL};
    parley_identity *ids[5];
    wsc *conns[5], *extra;
    int64_t t0;

    tk_env_init(&e, "connlimit");
    tk_env_start(&e, args);
    for (int i = 0; i < 5; i++)
        conns[i] = customer(&e, &ids[i]);

    /* The sixth is closed at once, before any HTTP exchange. */
    extra = wsc_tcp(e.relay.port);
    CHECK(extra != NULL);
    t0 = mono_ms();
    CHECKM(wsc_wait_eof(extra, 3000), "sixth connection from the same address kept open");
    CHECKM(mono_ms() - t0 < 1500, "sixth connection closed only after a delay");
    wsc_free(extra);
    /* Let the relay's periodic sweep walk its connection list past the refused one. */
    sleep_ms(1200);

    /* The five still work. */
    for (int i = 0; i < 5; i++)
        tk_roundtrip(conns[i], ids[i]);

    /* Free one slot to read the metrics. */
    wsc_free(conns[4]);
    conns[4] = NULL;
    {
        double v = -1;
        int64_t deadline = mono_ms() + 3000;
        char *body = NULL;
        while (mono_ms() < deadline) {
            if (http_get(e.relay.port, "/metrics", &body) == 200 && body != NULL) {
                v = metric_in(body, "parley_rejects_total{reason=\"conn_limit\"}");
                free(body);
                break;
            }
            free(body);
            body = NULL;
            sleep_ms(50);
        }
        CHECKM(v >= 1, "conn_limit refusal not counted (%g)", v);
    }

    /* Once everyone has left, the address gets its full allowance back. */
    for (int i = 0; i < 4; i++) {
        wsc_free(conns[i]);
        conns[i] = NULL;
    }
    {
        int64_t deadline = mono_ms() + 3000;
        double open = -1;
        while (mono_ms() < deadline) {
            open = relay_metric(&e.relay, "parley_connections");
            if (open == 1)
                break;
            sleep_ms(50);
        }
        CHECKM(open == 1, "parley_connections is %g with only the metrics request open", open);
    }
    for (int i = 0; i < 5; i++) {
        conns[i] = pc_connect(e.relay.port, ids[i], NULL, 0);
        CHECKM(conns[i] != NULL, "connection %d of 5 refused after the others closed", i + 1);
    }
    for (int i = 0; i < 5; i++) {
        tk_roundtrip(conns[i], ids[i]);
        wsc_free(conns[i]);
        parley_identity_free(ids[i]);
    }
    tk_env_end(&e);
}

/*
 * What the silent client c sees until the relay closes it (whether a ping
 * came first; the close code, 0 on EOF, -1 if none in a minute) while the
 * bystander, if any, keeps talking.
 */
static int idle_close(wsc *c, const struct bystander *by, bool *pinged)
{
    int64_t deadline = mono_ms() + 60000;

    *pinged = false;
    while (mono_ms() < deadline) {
        struct wsc_msg m;
        enum wsc_result r = wsc_recv(c, 400, &m);
        int code = -1;

        if (r == WSC_EOF)
            return 0;
        if (r == WSC_OK) {
            if (m.opcode == WSC_OP_PING)
                *pinged = true;
            else if (m.opcode == WSC_OP_CLOSE)
                code = m.close_code;
            wsc_msg_clear(&m);
        }
        if (code >= 0)
            return code;
        if (by != NULL)
            tk_roundtrip(by->c, by->id);
    }
    return -1;
}

static void test_idle_timeout(void)
{
    struct tk_env e;
    const char *args[] = {"--idle-timeout", "2", NULL};
    struct bystander by;
    parley_identity *id;
    bool pinged;
    int code;
    int64_t t0;
    wsc *c;

    tk_env_init(&e, "idle");
    tk_env_start(&e, args);
    bystander_open(&by, &e);
    /* Before the customer's last frame (its authentication): its silence starts after t0. */
    t0 = mono_ms();
    c = customer(&e, &id);
    /* The silent client sees a ping first, then the close (however late a slowed relay sends
       it); the bystander keeps talking. */
    code = idle_close(c, &by, &pinged);
    CHECKM(pinged, "no ping before the idle close");
    CHECKM(code == 4002, "idle client: expected close 4002, got %d", code);
    CHECKM(mono_ms() - t0 >= 1500, "closed before the idle timeout");
    CHECK(tk_rejects(&e.relay, "idle_timeout", 1) >= 1);
    tk_roundtrip(by.c, by.id);
    wsc_free(c);
    bystander_close(&by);
    parley_identity_free(id);
    tk_env_end(&e);
}

/*
 * A relay that could not look at its connections for longer than the
 * idle timeout (here stopped: as under heavy load, its once-a-second sweep
 * misses the half-way point) still pings the silent client before it
 * closes it.
 */
static void test_idle_late_sweep(void)
{
    struct tk_env e;
    const char *args[] = {"--idle-timeout", "2", NULL};
    parley_identity *id;
    bool pinged;
    int code;
    wsc *c;

    tk_env_init(&e, "idle-late");
    tk_env_start(&e, args);
    c = customer(&e, &id);
    /* Resumed past the whole timeout: the first sweep finds the client silent too long. */
    CHECK(kill(e.relay.pid, SIGSTOP) == 0);
    sleep_ms(3000);
    CHECK(kill(e.relay.pid, SIGCONT) == 0);
    code = idle_close(c, NULL, &pinged);
    CHECKM(pinged, "no ping before the idle close");
    CHECKM(code == 4002, "idle client: expected close 4002, got %d", code);
    wsc_free(c);
    parley_identity_free(id);
    tk_env_end(&e);
}

static void test_frame_timeout(void)
{
    struct tk_env e;
    const char *args[] = {"--frame-timeout", "1", NULL};
    struct bystander by;
    parley_identity *id, *id2;
    uint8_t part[10] = {0};
    uint8_t half_header = WSC_FIN | WSC_OP_BINARY;
    int64_t t0;
    wsc *c, *c2;

    tk_env_init(&e, "frametimeout");
    tk_env_start(&e, args);
    bystander_open(&by, &e);
    c = customer(&e, &id);
    c2 = customer(&e, &id2);
    t0 = mono_ms();
    /* 1000 bytes declared, 10 sent; and a header cut after its first byte. */
    CHECK(wsc_send_frame(c, WSC_FIN | WSC_OP_BINARY, true, 1000, part, sizeof(part)) == 0);
    CHECK(wsc_send_raw(c2, &half_header, 1) == 0);
    tk_expect_close(c, 4005, 5000, "frame declared 1000 bytes, sent 10");
    tk_expect_close(c2, 4005, 5000, "frame header never finished");
    CHECKM(mono_ms() - t0 < 4000, "frame timeout took too long");
    CHECKM(mono_ms() - t0 >= 800, "closed before the frame timeout");
    CHECK(tk_rejects(&e.relay, "frame_timeout", 2) >= 2);
    tk_roundtrip(by.c, by.id);
    wsc_free(c);
    wsc_free(c2);
    bystander_close(&by);
    parley_identity_free(id);
    parley_identity_free(id2);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"max_frame", test_max_frame},
        {"rate_limit", test_rate},
        {"max_conn_per_ip", test_conn_per_ip},
        {"idle_timeout", test_idle_timeout},
        {"idle_late_sweep", test_idle_late_sweep},
        {"frame_timeout", test_frame_timeout},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
