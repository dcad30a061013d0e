/*
 * What the relay keeps and what it writes down. Envelopes carry canary
 * strings in their sealed bytes, the brand directory carries them in its
 * notice and in an agent's display name. The sealed bytes must be in the
 * database (that is the store; on NATS, the servers' data), but no canary,
 * key or routing id may reach the log, and every log line must be a JSON
 * object on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "internal.h"
#include "testkit.h"

#define N_ENV 5

static void check_log_lines(const char *log, size_t len)
{
    size_t line = 0;

    for (const char *p = log; p < log + len;) {
        const char *eol = memchr(p, '\n', (size_t)(log + len - p));
        size_t n = eol != NULL ? (size_t)(eol - p) : (size_t)(log + len - p);
        line++;
        CHECKM(n >= 2 && p[0] == '{' && p[n - 1] == '}', "log line %zu is not a JSON object: %.*s",
               line, (int)(n > 200 ? 200 : n), p);
        p += n + 1;
    }
    CHECKM(line >= 3, "log has only %zu lines", line);
}

static void test_canaries(void)
{
    struct tk_env e;
    struct tk_brand b;
    parley_identity *agent = tk_identity(), *customer = tk_identity(), *away = tk_identity();
    char tag[17], env_canary[N_ENV][64], notice[128], name[96];
    uint8_t *cert = NULL, *dir = NULL, rnd[8], to_away[32], to_agent[32];
    size_t cert_len = 0, dir_len = 0, log_len = 0;
    const uint8_t *certs[1];
    size_t cert_lens[1];
    parley_directory_spec spec;
    char *log;
    wsc *a, *c;

    tk_random(rnd, sizeof(rnd));
    sodium_bin2hex(tag, sizeof(tag), rnd, sizeof(rnd));
    snprintf(notice, sizeof(notice), "We keep chats 30 days. CANARY-NOTICE-%s", tag);
    snprintf(name, sizeof(name), "CANARY-DISPLAYNAME-%s", tag);
    for (int i = 0; i < N_ENV; i++)
        snprintf(env_canary[i], sizeof(env_canary[i]), "CANARY-PLAINTEXT-%s-%d", tag, i);

    tk_env_init(&e, "canary");
    tk_brand_make(&b, "acme", e.dir);
    {
        const char *args[] = {"--brand", b.pin_path, "--log-level", "debug", NULL};
        tk_env_start(&e, args);
    }

    tk_cert(b.key, "acme", agent, "alice", name, 1, tk_now() - 60, tk_now() + 3600, &cert,
            &cert_len);
    certs[0] = cert;
    cert_lens[0] = cert_len;
    memset(&spec, 0, sizeof(spec));
    spec.brand_id = "acme";
    spec.version = 1;
    spec.certs = certs;
    spec.cert_lens = cert_lens;
    spec.n_certs = 1;
    spec.notice_text = notice;
    spec.notice_version = 1;
    spec.issued_at = tk_now();
    CHECK(parley_directory_build(b.key, &spec, &dir, &dir_len) == PARLEY_OK);

    /* The agent signs in with its certificate and publishes the directory. */
    a = pc_connect(e.relay.port, agent, cert, cert_len);
    CHECKM(a != NULL, "agent with a canary display name refused");
    {
        Parley__Frame f = PARLEY__FRAME__INIT, *r;
        Parley__DirectoryPublish p = PARLEY__DIRECTORY_PUBLISH__INIT;
        p.directory = parley__directory__unpack(NULL, dir_len, dir);
        CHECK(p.directory != NULL);
        f.kind_case = PARLEY__FRAME__KIND_DIRECTORY_PUBLISH;
        f.directory_publish = &p;
        CHECK(pc_send(a, &f) == 0);
        parley__directory__free_unpacked(p.directory, NULL);
        r = tk_expect_kind(a, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "publish");
        parley__frame__free_unpacked(r, NULL);
    }

    /* Envelopes with canaries in their sealed bytes: to an absent customer, and to the agent. */
    c = pc_connect(e.relay.port, customer, NULL, 0);
    CHECK(c != NULL);
    tk_routing(away, to_away);
    tk_agent_routing(agent, to_agent);
    for (int i = 0; i < N_ENV; i++) {
        uint8_t eid[16];
        tk_random(eid, 16);
        tk_send_acked(c, eid, i < N_ENV - 1 ? to_away : to_agent, (const uint8_t *)env_canary[i],
                      strlen(env_canary[i]));
    }
    parley__frame__free_unpacked(
        tk_expect_kind(a, PARLEY__FRAME__KIND_DELIVER, 5000, "agent delivery"), NULL);
    /* Junk and refusals also get logged; they must not echo anything either. */
    {
        wsc *bad = wsc_open(e.relay.port);
        CHECK(bad != NULL);
        CHECK(wsc_send_binary(bad, (const uint8_t *)env_canary[0], strlen(env_canary[0])) == 0);
        CHECK(wsc_wait_close(bad, 5000) == 1008);
        wsc_free(bad);
    }

    /* Stored: the sealed bytes are in the database or its WAL. */
    for (int i = 0; i < N_ENV - 1; i++)
        CHECKM(tk_in_store(&e.relay, env_canary[i]),
               "stored envelope %d's sealed bytes not found in the database", i);
    /* The directory is stored, but sealed: no display name, no notice text on disk. */
    CHECKM(!tk_in_store(&e.relay, name), "agent display name in the relay's database");
    CHECKM(!tk_in_store(&e.relay, notice + 23), "notice text in the relay's database");

    wsc_free(a);
    wsc_free(c);
    CHECK(relay_stop(&e.relay, 15000) == 0);
    for (int i = 0; i < N_ENV - 1; i++)
        CHECKM(tk_in_store(&e.relay, env_canary[i]),
               "stored envelope %d lost from the database after shutdown", i);

    log = read_file_all(e.relay.log, &log_len);
    CHECK(log != NULL);
    for (int i = 0; i < N_ENV; i++)
        CHECKM(!tk_contains(log, log_len, env_canary[i]), "envelope content in the log: %s",
               env_canary[i]);
    CHECKM(!tk_contains(log, log_len, "CANARY-"), "a canary reached the log");
    CHECKM(!tk_contains(log, log_len, name), "agent display name in the log");
    CHECKM(!tk_contains(log, log_len, notice + 23), "notice text in the log");
    {
        const parley_identity *who[] = {agent, customer, away};
        for (int i = 0; i < 3; i++) {
            char hex[65];
            uint8_t routing[32];
            sodium_bin2hex(hex, sizeof(hex), parley_identity_sign_pk(who[i]), 32);
            CHECKM(!tk_contains(log, log_len, hex), "a signing key in the log");
            for (int d = 0; d < 2; d++) {
                if (d == 0)
                    tk_routing(who[i], routing);
                else
                    tk_agent_routing(who[i], routing);
                sodium_bin2hex(hex, sizeof(hex), routing, 32);
                CHECKM(!tk_contains(log, log_len, hex), "a routing id in the log");
                hex[16] = '\0';
                CHECKM(!tk_contains(log, log_len, hex), "a routing id prefix in the log");
            }
        }
    }
    check_log_lines(log, log_len);
    free(log);
    free(cert);
    parley_free(dir, dir_len);
    parley_identity_free(agent);
    parley_identity_free(customer);
    parley_identity_free(away);
    tk_brand_free(&b);
    tk_env_end(&e);
}

/* Expired envelopes leave nothing behind: not in the database, not in its WAL. */
static void test_expiry_leaves_nothing(void)
{
    struct tk_env e;
    parley_identity *sender = tk_identity(), *away = tk_identity();
    const char *args[] = {"--ttl", "1", "--expiry-interval", "1", NULL};
    char canary[3][64], tag[17];
    uint8_t rnd[8], to_away[32];
    int64_t deadline;
    bool gone = false;
    wsc *c;

    tk_random(rnd, sizeof(rnd));
    sodium_bin2hex(tag, sizeof(tag), rnd, sizeof(rnd));
    tk_env_init(&e, "expiry-bytes");
    tk_env_start(&e, args);
    c = pc_connect(e.relay.port, sender, NULL, 0);
    CHECK(c != NULL);
    tk_routing(away, to_away);
    for (int i = 0; i < 3; i++) {
        uint8_t eid[16];
        snprintf(canary[i], sizeof(canary[i]), "CANARY-EXPIRES-%s-%d", tag, i);
        tk_random(eid, 16);
        tk_send_acked(c, eid, to_away, (const uint8_t *)canary[i], strlen(canary[i]));
    }
    CHECKM(tk_in_store(&e.relay, canary[0]), "envelope not stored before it expired");
    /* Expiry runs every second with a one-second TTL; allow a few sweeps. */
    deadline = mono_ms() + 8000;
    while (!gone && mono_ms() < deadline) {
        gone = true;
        for (int i = 0; i < 3; i++)
            gone = gone && !tk_in_store(&e.relay, canary[i]);
        if (!gone) {
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    CHECKM(gone, "expired envelopes' bytes still in the database or its WAL");
    wsc_free(c);
    parley_identity_free(sender);
    parley_identity_free(away);
    tk_env_end(&e);
}

/*
 * A customer's erasure request: every envelope the relay holds to or from
 * the customer leaves the database and its WAL; what it sends afterwards
 * is kept; another customer cannot erase for it.
 */
static void test_erasure_leaves_nothing(void)
{
    struct tk_env e;
    parley_identity *cust = tk_identity(), *other = tk_identity(), *away = tk_identity();
    char canary[4][64], later[64], tag[17];
    uint8_t rnd[8], to_away[32], to_cust[32], eid[16], conv[16], salt[16];
    Parley__Frame *f;
    wsc *c, *o;

    tk_random(rnd, sizeof(rnd));
    sodium_bin2hex(tag, sizeof(tag), rnd, sizeof(rnd));
    for (int i = 0; i < 4; i++)
        snprintf(canary[i], sizeof(canary[i]), "CANARY-ERASE-%s-%d", tag, i);
    snprintf(later, sizeof(later), "CANARY-AFTER-%s", tag);
    tk_env_init(&e, "erasure");
    tk_env_start(&e, NULL);
    tk_routing(away, to_away);
    tk_routing(cust, to_cust);
    /* From the customer, to someone offline; and to the customer, while it is away. */
    c = pc_connect(e.relay.port, cust, NULL, 0);
    CHECK(c != NULL);
    for (int i = 0; i < 2; i++) {
        tk_random(eid, 16);
        tk_send_acked(c, eid, to_away, (const uint8_t *)canary[i], strlen(canary[i]));
    }
    wsc_free(c);
    o = pc_connect(e.relay.port, other, NULL, 0);
    CHECK(o != NULL);
    tk_random(eid, 16);
    tk_send_acked(o, eid, to_cust, (const uint8_t *)canary[2], strlen(canary[2]));
    /* Someone else's envelope in one of the customer's conversations (an agents' handover). */
    tk_random(eid, 16);
    tk_random(salt, 16);
    parley_conversation_id(parley_identity_sign_pk(cust), salt, conv);
    {
        uint8_t *m = NULL;
        size_t mlen = 0;
        Parley__Frame *a;
        CHECK(pc_pack_envelope(eid, conv, to_away, (const uint8_t *)canary[3], strlen(canary[3]),
                               &m, &mlen) == 0);
        CHECK(wsc_send_binary(o, m, mlen) == 0);
        free(m);
        a = tk_expect_kind(o, PARLEY__FRAME__KIND_ACK, 5000, "handover stored");
        parley__frame__free_unpacked(a, NULL);
    }
    for (int i = 0; i < 4; i++)
        CHECKM(tk_in_store(&e.relay, canary[i]), "envelope %d not stored", i);
    /* Someone else's erasure request is refused. */
    {
        /* Signed by the customer's key, but on another connection. */
        CHECK(pc_send_erase(o, cust, NULL, NULL, 0) == 0);
        f = tk_expect_kind(o, PARLEY__FRAME__KIND_ERROR, 5000, "erasure for another key");
        parley__frame__free_unpacked(f, NULL);
    }
    c = pc_connect(e.relay.port, cust, NULL, 0);
    CHECK(c != NULL);
    /* The stored envelope for the customer comes first; it is not acknowledged. */
    f = tk_expect_kind(c, PARLEY__FRAME__KIND_DELIVER, 5000, "stored envelope");
    parley__frame__free_unpacked(f, NULL);
    CHECK(pc_send_erase(c, cust, (const uint8_t(*)[16])conv, (const uint8_t(*)[16])salt, 1) == 0);
    f = tk_expect_kind(c, PARLEY__FRAME__KIND_ERASED, 5000, "erasure");
    CHECKM(f->erased->envelopes == 4, "erased %u envelopes, not 4", f->erased->envelopes);
    parley__frame__free_unpacked(f, NULL);
    tk_random(eid, 16);
    tk_send_acked(c, eid, to_away, (const uint8_t *)later, strlen(later));
    for (int i = 0; i < 4; i++)
        CHECKM(!tk_in_store(&e.relay, canary[i]), "erased envelope %d still in the database or WAL",
               i);
    CHECKM(tk_in_store(&e.relay, later), "an envelope sent after the erasure was lost");
    wsc_free(c);
    wsc_free(o);
    parley_identity_free(cust);
    parley_identity_free(other);
    parley_identity_free(away);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"canaries", test_canaries},
        {"expiry_leaves_nothing", test_expiry_leaves_nothing},
        {"erasure_leaves_nothing", test_erasure_leaves_nothing},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
