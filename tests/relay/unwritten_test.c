/*
 * Envelopes their recipient confirms before the relay commits them. The
 * test holds the database's write lock itself, so the relay's store sits
 * on a batch while the connections go on: an envelope sent meanwhile
 * waits in the next batch, and its recipient receives it live.
 *
 * What must hold: the sender is acknowledged once the envelope is safe,
 * committed or confirmed by its recipient, whichever comes first, and
 * never before; an envelope confirmed before its batch was handed over is
 * never written to the relay's disk; one confirmed while its batch is
 * being committed is acknowledged once, not again at the commit; after a
 * kill -9 nothing acknowledged is lost and nothing confirmed comes back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "testkit.h"

struct race {
    struct tk_env e;
    parley_identity *sender, *recipient;
    uint8_t to[32], conv[16];
    wsc *s, *r;
    sqlite3 *lock;
};

/* Sealed bytes that name the envelope, so the relay's files can be searched for them. */
static void marked(char out[48], const char *what, const uint8_t eid[16])
{
    snprintf(out, 48, "sealed-%s-%02x%02x%02x%02x%02x%02x", what, eid[0], eid[1], eid[2], eid[3],
             eid[4], eid[5]);
}

static void send_env(struct race *k, const uint8_t eid[16], const char *what)
{
    char sealed[48];

    marked(sealed, what, eid);
    CHECK(pc_send_envelope(k->s, eid, k->conv, k->to, (const uint8_t *)sealed, strlen(sealed)) ==
          0);
}

static void confirm(wsc *c, const uint8_t eid[16])
{
    uint8_t ids[1][16];

    memcpy(ids[0], eid, 16);
    CHECK(pc_send_delivered(c, (const uint8_t(*)[16])ids, 1) == 0);
}

static void stored_not(struct race *k, const uint8_t eid[16], const char *what)
{
    char sealed[48];

    marked(sealed, what, eid);
    CHECKM(!tk_in_store(&k->e.relay, sealed), "%s was written to the relay's disk", what);
}

/*
 * A relay with a sender and its live recipient: one envelope sent,
 * acknowledged, delivered and confirmed first, so the recipient is
 * caught up and receives new envelopes as they arrive.
 */
static void race_start(struct race *k, const char *tag)
{
    uint8_t eid[16];
    char sealed[48];

    memset(k, 0, sizeof(*k));
    k->sender = tk_identity();
    k->recipient = tk_identity();
    tk_env_init(&k->e, tag);
    tk_env_start(&k->e, NULL);
    tk_routing(k->recipient, k->to);
    tk_random(k->conv, sizeof(k->conv));
    k->s = pc_connect(k->e.relay.port, k->sender, NULL, 0);
    k->r = pc_connect(k->e.relay.port, k->recipient, NULL, 0);
    CHECK(k->s != NULL && k->r != NULL);
    tk_random(eid, sizeof(eid));
    marked(sealed, "first", eid);
    tk_send_acked(k->s, eid, k->to, (const uint8_t *)sealed, strlen(sealed));
    tk_expect_deliver(k->r, eid, (const uint8_t *)sealed, strlen(sealed), 5000);
    confirm(k->r, eid);
    tk_metric_until(&k->e.relay, "parley_envelopes_acknowledged_total", 1, 5000);
}

/* The relay's store waits for the test's write lock (for 5 s at most, then gives up). */
static void lock_store(struct race *k)
{
    CHECK(sqlite3_open(k->e.relay.db, &k->lock) == SQLITE_OK);
    CHECK(sqlite3_exec(k->lock, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
}

static void unlock_store(struct race *k)
{
    CHECK(sqlite3_exec(k->lock, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_close(k->lock) == SQLITE_OK);
    k->lock = NULL;
}

/*
 * e0 goes to the store, which waits on the lock; e1 (and e2 if not NULL)
 * wait in the next batch. The recipient receives all of them live.
 */
static void send_during_commit(struct race *k, const uint8_t e0[16], const uint8_t e1[16],
                               const uint8_t *e2)
{
    char sealed[48];

    lock_store(k);
    send_env(k, e0, "committing");
    marked(sealed, "committing", e0);
    tk_expect_deliver(k->r, e0, (const uint8_t *)sealed, strlen(sealed), 5000);
    send_env(k, e1, "pending");
    marked(sealed, "pending", e1);
    tk_expect_deliver(k->r, e1, (const uint8_t *)sealed, strlen(sealed), 5000);
    if (e2 != NULL) {
        send_env(k, e2, "unconfirmed");
        marked(sealed, "unconfirmed", e2);
        tk_expect_deliver(k->r, e2, (const uint8_t *)sealed, strlen(sealed), 5000);
    }
}

static int audit_ok(char *out, size_t cap, const struct race *k)
{
    char args[400];

    snprintf(args, sizeof(args), "'%s.audit'*", k->e.relay.db);
    return tk_audit_verify(args, out, cap);
}

static void race_end(struct race *k)
{
    if (k->lock != NULL)
        unlock_store(k);
    wsc_free(k->s);
    wsc_free(k->r);
    parley_identity_free(k->sender);
    parley_identity_free(k->recipient);
    tk_env_end(&k->e);
}

/*
 * Confirmed while its insert waits: the sender is acknowledged at once,
 * though nothing is committed, and the envelope never reaches the disk.
 * Confirmed while its insert is being committed: acknowledged at once,
 * and not a second time when the commit is done.
 */
static void test_confirmed_before_commit(void)
{
    struct race k;
    uint8_t e0[16], e1[16];
    char out[4096];

    race_start(&k, "unwritten");
    tk_random(e0, 16);
    tk_random(e1, 16);
    send_during_commit(&k, e0, e1, NULL);
    tk_expect_nothing(k.s, 200, "an acknowledgement before anything was safe");
    confirm(k.r, e1);
    tk_expect_ack(k.s, e1, 3000);
    confirm(k.r, e0);
    tk_expect_ack(k.s, e0, 3000);
    unlock_store(&k);
    /* The commit of e0, then the deletion of it: e1 was never part of either. */
    CHECK(tk_metric_until(&k.e.relay, "parley_envelopes_stored_total", 2, 10000) == 2);
    CHECK(tk_metric_until(&k.e.relay, "parley_envelopes_acknowledged_total", 3, 10000) == 3);
    CHECK(tk_metric_until(&k.e.relay, "parley_envelopes_unwritten_total", 1, 5000) == 1);
    tk_expect_nothing(k.s, 300, "a second acknowledgement at the commit");
    stored_not(&k, e1, "pending");
    /* Nothing is delivered again: a new connection of the recipient gets nothing. */
    wsc_free(k.r);
    k.r = pc_connect(k.e.relay.port, k.recipient, NULL, 0);
    CHECK(k.r != NULL);
    tk_expect_nothing(k.r, 300, "a confirmed envelope delivered again");
    CHECK(relay_stop(&k.e.relay, 15000) == 0);
    CHECKM(audit_ok(out, sizeof(out), &k) == 0 && strncmp(out, "OK ", 3) == 0, "verify: %s", out);
    race_end(&k);
}

/*
 * kill -9 while the store still waits: the sender was acknowledged for
 * what the recipient confirmed, and only that; none of it is on the
 * disk, and none of it comes back after the restart. What was not
 * acknowledged the sender sends again, and it arrives once.
 */
static void test_kill_before_commit(void)
{
    struct race k;
    uint8_t e0[16], e1[16], e2[16];
    char sealed[48], out[4096];

    race_start(&k, "unwritten-kill");
    tk_random(e0, 16);
    tk_random(e1, 16);
    tk_random(e2, 16);
    send_during_commit(&k, e0, e1, e2);
    confirm(k.r, e1);
    tk_expect_ack(k.s, e1, 3000);
    confirm(k.r, e0);
    tk_expect_ack(k.s, e0, 3000);
    tk_expect_nothing(k.s, 300, "an acknowledgement of what is neither committed nor confirmed");
    relay_kill(&k.e.relay);
    unlock_store(&k);
    stored_not(&k, e0, "committing");
    stored_not(&k, e1, "pending");
    stored_not(&k, e2, "unconfirmed");

    wsc_free(k.s);
    wsc_free(k.r);
    tk_env_start(&k.e, NULL);
    k.r = pc_connect(k.e.relay.port, k.recipient, NULL, 0);
    k.s = pc_connect(k.e.relay.port, k.sender, NULL, 0);
    CHECK(k.r != NULL && k.s != NULL);
    tk_expect_nothing(k.r, 300, "a confirmed envelope delivered again");
    /* The sender's outbox still holds e2: sent again, acknowledged, delivered once. */
    marked(sealed, "unconfirmed", e2);
    tk_send_acked(k.s, e2, k.to, (const uint8_t *)sealed, strlen(sealed));
    tk_expect_deliver(k.r, e2, (const uint8_t *)sealed, strlen(sealed), 5000);
    confirm(k.r, e2);
    tk_expect_nothing(k.r, 300, "an envelope twice");
    CHECK(relay_stop(&k.e.relay, 15000) == 0);
    CHECKM(audit_ok(out, sizeof(out), &k) == 0 && strncmp(out, "OK ", 3) == 0, "verify: %s", out);
    race_end(&k);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"confirmed_before_commit", test_confirmed_before_commit},
        {"kill_before_commit", test_kill_before_commit},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
