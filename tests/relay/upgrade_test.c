/*
 * A relay started on a database an earlier Parley wrote (docs/protocol.md
 * §1.5): one from before erasure requests (no sender column) and one of
 * libparley 0.1.0 (wire version 1 routing ids). It starts, indexes what
 * erasures need, serves and erases as usual, and what those databases
 * hold for version-1 routing ids (envelopes, prekeys) reaches nobody.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testkit.h"

/* The layouts as those versions created them. */
static const char before_erasure[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE envelopes(seq INTEGER PRIMARY KEY, envelope_id BLOB NOT NULL UNIQUE,"
    " recipient BLOB NOT NULL, conversation_id BLOB NOT NULL, sealed BLOB NOT NULL,"
    " stored_at INTEGER NOT NULL);"
    "CREATE INDEX envelopes_by_recipient ON envelopes(recipient, seq);"
    "CREATE INDEX envelopes_by_time ON envelopes(stored_at);"
    "CREATE TABLE directories(brand_id TEXT PRIMARY KEY, version INTEGER NOT NULL,"
    " directory BLOB NOT NULL);"
    "CREATE TABLE prekeys(id INTEGER PRIMARY KEY, owner BLOB NOT NULL, prekey BLOB NOT NULL);"
    "CREATE TABLE meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);";

static const char version_0_1[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE envelopes(seq INTEGER PRIMARY KEY, envelope_id BLOB NOT NULL UNIQUE,"
    " recipient BLOB NOT NULL, conversation_id BLOB NOT NULL, sealed BLOB NOT NULL,"
    " stored_at INTEGER NOT NULL, sender BLOB);"
    "CREATE INDEX envelopes_by_recipient ON envelopes(recipient, seq);"
    "CREATE INDEX envelopes_by_time ON envelopes(stored_at);"
    "CREATE TABLE directories(brand_id TEXT PRIMARY KEY, version INTEGER NOT NULL,"
    " directory BLOB NOT NULL);"
    "CREATE TABLE prekeys(id INTEGER PRIMARY KEY, owner BLOB NOT NULL, prekey BLOB NOT NULL);"
    "CREATE INDEX prekeys_by_owner ON prekeys(owner, id);"
    "CREATE TABLE meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);";

#define OLD_SEALED 300

/* Wire version 1's one routing domain. */
static void routing_v1(const parley_identity *id, uint8_t out[32])
{
    static const char label[] = "parley/routing/v1";
    uint8_t msg[sizeof(label) + 32];

    memcpy(msg, label, sizeof(label)); /* with its zero byte */
    memcpy(msg + sizeof(label), parley_identity_sign_pk(id), 32);
    crypto_generichash(out, 32, msg, sizeof(msg), NULL, 0);
}

/*
 * Writes a database of that layout at path holding an envelope for `to`
 * (from `from` when the layout has senders) and, when prekey is given, a
 * prekey row for prekey_owner.
 */
static void write_old(const char *path, const char *layout, bool with_sender, const uint8_t to[32],
                      const uint8_t from[32], const uint8_t *prekey, size_t prekey_len,
                      const uint8_t prekey_owner[32])
{
    sqlite3 *db;
    sqlite3_stmt *st;
    uint8_t eid[16], conv[16], sealed[OLD_SEALED];

    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, layout, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db,
                             with_sender ? "INSERT INTO envelopes VALUES(1, ?, ?, ?, ?, ?, ?)"
                                         : "INSERT INTO envelopes VALUES(1, ?, ?, ?, ?, ?)",
                             -1, &st, NULL) == SQLITE_OK);
    tk_random(eid, 16);
    tk_random(conv, 16);
    tk_random(sealed, sizeof(sealed));
    sqlite3_bind_blob(st, 1, eid, 16, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, to, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, conv, 16, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, sealed, sizeof(sealed), SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)tk_now());
    if (with_sender)
        sqlite3_bind_blob(st, 6, from, 32, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    if (prekey != NULL) {
        CHECK(sqlite3_prepare_v2(db, "INSERT INTO prekeys(owner, prekey) VALUES(?, ?)", -1, &st,
                                 NULL) == SQLITE_OK);
        sqlite3_bind_blob(st, 1, prekey_owner, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, prekey, (int)prekey_len, SQLITE_STATIC);
        CHECK(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_finalize(st);
    }
    CHECK(sqlite3_close(db) == SQLITE_OK);
}

/* The erasure a customer with no conversations asks for: answered with the count deleted. */
static uint32_t erase_all(wsc *c, const parley_identity *id)
{
    Parley__Frame *f;
    uint32_t n;

    CHECK(pc_send_erase(c, id, NULL, NULL, 0) == 0);
    f = tk_expect_kind(c, PARLEY__FRAME__KIND_ERASED, 5000, "the erasure's answer");
    n = f->erased->envelopes;
    parley__frame__free_unpacked(f, NULL);
    return n;
}

static void test_before_erasure(void)
{
    struct tk_env e;
    parley_identity *cust = tk_identity(), *other = tk_identity();
    uint8_t old_to[32];
    wsc *c, *o;

    tk_env_init(&e, "upgrade-before-erasure");
    routing_v1(cust, old_to);
    {
        char path[400]; /* relay.db, where tk_env_start will point the relay */
        snprintf(path, sizeof(path), "%s/relay.db", e.dir);
        write_old(path, before_erasure, false, old_to, NULL, NULL, 0, NULL);
    }
    tk_env_start(&e, NULL);
    CHECKM(relay_metric(&e.relay, "parley_bytes_stored") == OLD_SEALED,
           "the relay does not count the old envelope");
    c = pc_connect(e.relay.port, cust, NULL, 0);
    CHECK(c != NULL);
    tk_roundtrip(c, cust); /* fails on any other frame, such as the old envelope */
    /* What erasures need works on it: an erasure deletes by sender, by conversation. */
    o = pc_connect(e.relay.port, other, NULL, 0);
    CHECK(o != NULL);
    {
        uint8_t eid[16], to[32], sealed[64];
        tk_random(eid, 16);
        tk_random(sealed, sizeof(sealed));
        tk_random(to, 32);
        tk_send_acked(c, eid, to, sealed, sizeof(sealed));
    }
    CHECKM(erase_all(c, cust) == 1, "the customer's erasure did not take what it sent");
    CHECKM(erase_all(o, other) == 0, "another customer's erasure took something");
    wsc_free(o);
    wsc_free(c);
    parley_identity_free(cust);
    parley_identity_free(other);
    tk_env_end(&e);
}

static void test_version_0_1(void)
{
    struct tk_env e;
    struct tk_brand b;
    parley_identity *agent = tk_identity(), *cust = tk_identity();
    uint8_t old_agent[32], old_cust[32], *cert, *prekey;
    size_t cert_len, prekey_len;
    Parley__Frame *f;
    wsc *a, *c;

    tk_env_init(&e, "upgrade-0.1");
    tk_brand_make(&b, "acme", e.dir);
    routing_v1(agent, old_agent);
    routing_v1(cust, old_cust);
    tk_prekey(agent, agent, 1, false, 0, &prekey, &prekey_len);
    {
        char path[400]; /* relay.db, where tk_env_start will point the relay */
        snprintf(path, sizeof(path), "%s/relay.db", e.dir);
        write_old(path, version_0_1, true, old_agent, old_cust, prekey, prekey_len, old_agent);
    }
    {
        const char *args[] = {"--brand", b.pin_path, NULL};
        tk_env_start(&e, args);
    }
    CHECKM(relay_metric(&e.relay, "parley_bytes_stored") == OLD_SEALED,
           "the relay does not count the old envelope");
    /* The agent: nothing delivered, no one-time prekey counted, none handed out. */
    tk_cert(b.key, "acme", agent, "alice", "Alice", 1, tk_now() - 60, tk_now() + 3600, &cert,
            &cert_len);
    a = wsc_open(e.relay.port);
    CHECK(a != NULL);
    f = pc_auth(a, agent, cert, cert_len, 5000);
    CHECK(f != NULL && f->kind_case == PARLEY__FRAME__KIND_AUTH_OK);
    CHECKM(f->auth_ok->prekeys_left == 0, "a version-1 prekey counted for the agent");
    parley__frame__free_unpacked(f, NULL);
    f = tk_expect_kind(a, PARLEY__FRAME__KIND_DIRECTORY_RESULT, 5000, "the agent's directory");
    parley__frame__free_unpacked(f, NULL);
    {
        uint8_t me[32];
        tk_agent_routing(agent, me);
        tk_roundtrip_to(a, me);
    }
    c = pc_connect(e.relay.port, cust, NULL, 0);
    CHECK(c != NULL);
    {
        Parley__Frame fetch = PARLEY__FRAME__INIT;
        Parley__PrekeyFetch pf = PARLEY__PREKEY_FETCH__INIT;
        size_t len = 0;
        uint8_t *got;

        pf.owner_sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(agent)};
        fetch.kind_case = PARLEY__FRAME__KIND_PREKEY_FETCH;
        fetch.prekey_fetch = &pf;
        CHECK(pc_send(c, &fetch) == 0);
        got = tk_read_prekey(c, agent, &len);
        CHECKM(got == NULL, "a version-1 prekey was handed out");
    }
    tk_roundtrip(c, cust);
    wsc_free(a);
    wsc_free(c);
    free(cert);
    free(prekey);
    parley_identity_free(agent);
    parley_identity_free(cust);
    tk_brand_free(&b);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"database_before_erasure", test_before_erasure},
        {"database_of_0_1", test_version_0_1},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
