/*
 * A whole conversation through parley/session.h only, as a host without
 * libparley's I/O layer (the browser widget, a mobile app) drives it: the
 * test makes three sessions (a customer and two agents) on in-memory
 * stores, and is their host. It moves their frames to and from the
 * in-memory relay, feeds them the relay's answers, ticks them on a fake
 * clock, and reads their events; every application call is a
 * parley_session_* call. Consent, opening, a claim, texts and receipts
 * both ways, typing, a transfer, a connection lost and a session restarted
 * on its store with texts waiting, the history and the export, the host's
 * own records, and an erasure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "world.h"

#define MAX_SEEN 256

/* A host of one session, and what its application heard. */
struct host {
    struct mr_party party;       /* the relay's side of its connection */
    struct memstore *ms;
    parley_store store;
    parley_session *s;
    parley_session_config cfg;
    struct {
        parley_event_kind kind;
        parley_conv_state state;
        parley_err error;
        uint64_t seq;
        char text[64];
        char agent_id[PARLEY_MAX_ID + 1];
    } seen[MAX_SEEN];
    int n_seen;
};

static uint64_t now = W_T0;

/* Reads every event the session has for its application. */
static void host_events(struct host *h)
{
    parley_event ev;

    while (parley_session_next_event(h->s, &ev)) {
        CHECK(h->n_seen < MAX_SEEN);
        h->seen[h->n_seen].kind = ev.kind;
        h->seen[h->n_seen].state = ev.state;
        h->seen[h->n_seen].error = ev.error;
        h->seen[h->n_seen].seq = ev.seq;
        snprintf(h->seen[h->n_seen].text, sizeof(h->seen[0].text), "%s",
                 ev.text != NULL ? ev.text : "");
        snprintf(h->seen[h->n_seen].agent_id, sizeof(h->seen[0].agent_id), "%s",
                 ev.agent.agent_id);
        h->n_seen++;
    }
}

/* One turn of the host's loop: frames out, the relay's frames in, timers, events. */
static bool host_turn(struct host *h)
{
    const uint8_t *out;
    uint8_t *in;
    size_t len;
    bool moved = false;

    for (;;) {
        while (parley_session_next_frame(h->s, &out, &len)) {
            if (h->party.online)
                mr_relay_receive(&h->party, out, len);
            moved = true;
        }
        if (!mr_relay_take(&h->party, &in, &len))
            break;
        parley_session_feed(h->s, in, len, now);
        free(in);
        moved = true;
    }
    if (parley_session_deadline(h->s) <= now) {
        parley_session_tick(h->s, now);
        while (parley_session_next_frame(h->s, &out, &len)) {
            if (h->party.online)
                mr_relay_receive(&h->party, out, len);
            moved = true;
        }
    }
    host_events(h);
    return moved;
}

/* Runs every host and the relay until nothing moves. */
static void settle(struct mr_relay *r, struct host **hosts, int n)
{
    for (int round = 0; round < 10000; round++) {
        bool moved = false;

        for (int i = 0; i < n; i++)
            if (hosts[i]->s != NULL)
                moved |= host_turn(hosts[i]);
        mr_route(r);
        for (int i = 0; i < n; i++)
            if (hosts[i]->s != NULL && hosts[i]->party.n_in > hosts[i]->party.head_in)
                moved = true;
        if (!moved)
            return;
    }
    CHECK(!"the sessions and the relay never settle");
}

static void host_connect(struct host *h)
{
    mr_accept(&h->party);
    parley_session_opened(h->s, now);
}

static void host_start(struct host *h, struct mr_relay *r, const char *name, bool agent)
{
    CHECK_OK(parley_session_new(&h->s, &h->cfg, now));
    mr_attach(&h->party, r, name, h->s, agent);
}

static void host_init(struct host *h, const struct mr_relay *r)
{
    memset(h, 0, sizeof(*h));
    h->ms = memstore_new();
    CHECK(h->ms != NULL);
    memstore_as_store(h->ms, &h->store);
    h->cfg.struct_size = sizeof(h->cfg);
    h->cfg.store = &h->store;
    h->cfg.passphrase = "device passphrase";
    h->cfg.passphrase_len = strlen(h->cfg.passphrase);
    h->cfg.kdf_cost = PARLEY__KDF_TEST_ONLY;
    h->cfg.brand_pk = r->brand_pk;
    h->cfg.brand_id = W_BRAND;
    h->cfg.directory_key = r->client_dir_key;
}

static void host_free(struct host *h)
{
    mr_party_free(&h->party);
    parley_session_free(h->s);
    memstore_free(h->ms);
}

/* The newest event of kind, or -1. */
static int last(const struct host *h, parley_event_kind kind)
{
    for (int i = h->n_seen; i-- > 0;)
        if (h->seen[i].kind == kind)
            return i;
    return -1;
}

static int count_text(const struct host *h, const char *text)
{
    int n = 0;

    for (int i = 0; i < h->n_seen; i++)
        n += h->seen[i].kind == PARLEY_EV_MESSAGE && strcmp(h->seen[i].text, text) == 0;
    return n;
}

static parley_conv_state state_of(struct host *h, const uint8_t conv[16])
{
    parley_conv_state st;

    CHECK_OK(parley_session_conversation_state(h->s, conv, &st));
    return st;
}

struct transcript {
    char lines[16][64];
    int n;
};

static int history_line(void *user, const parley_history_entry *e)
{
    struct transcript *t = user;

    CHECK(t->n < 16);
    snprintf(t->lines[t->n++], sizeof(t->lines[0]), "%s", e->text);
    return 0;
}

/*
 * struct_size: 0 is the first version; a struct from a newer caller is
 * taken only if the fields this library does not know are zero.
 */
static void config_versions(const struct mr_relay *r)
{
    struct {
        parley_session_config cfg;
        uint64_t newer_option;
    } newer;
    struct host h;
    parley_session *s = NULL;

    host_init(&h, r);
    h.cfg.struct_size = 0;
    CHECK_OK(parley_session_new(&s, &h.cfg, now));
    parley_session_free(s);
    h.cfg.struct_size = sizeof(size_t); /* less than any version */
    CHECK_ERR(parley_session_new(&s, &h.cfg, now), PARLEY_EINVAL);
    CHECK(s == NULL);
    memset(&newer, 0, sizeof(newer));
    newer.cfg = h.cfg;
    newer.cfg.struct_size = sizeof(newer);
    CHECK_OK(parley_session_new(&s, &newer.cfg, now));
    parley_session_free(s);
    newer.newer_option = 1;
    CHECK_ERR(parley_session_new(&s, &newer.cfg, now), PARLEY_EINVAL);
    h.cfg.struct_size = sizeof(h.cfg);
    h.cfg.agent_identity = NULL;
    h.cfg.agent_key = (const uint8_t *)"k";
    h.cfg.agent_key_len = 1;
    CHECK_ERR(parley_session_new(&s, &h.cfg, now), PARLEY_EINVAL); /* no certificate */
    h.cfg.store = NULL;
    CHECK_ERR(parley_session_new(&s, &h.cfg, now), PARLEY_EINVAL);
    memstore_free(h.ms);
}

int main(void)
{
    struct world w;
    struct mr_relay relay;
    struct host customer, alice, bob;
    struct host *all[] = {&customer, &alice, &bob};
    struct transcript t = {.n = 0};
    uint8_t conv[16], *key_file, *val;
    size_t key_file_len, val_len, json_len;
    uint64_t seq = 0;
    char *json;
    int i;

    printf("session API: a whole conversation, the host moving the bytes\n");
    parley__kdf_allow_test_cost(); /* the stores' passphrase hash at libsodium's minimum */
    world_init(&w);
    mr_init(&relay, parley_identity_sign_pk(w.brand), W_BRAND, now);
    parley_directory_key(w.brand, relay.client_dir_key);
    config_versions(&relay);

    /* alice from her key file, bob from an identity his host holds unlocked. */
    CHECK_OK(parley_identity_export(w.agents[W_ALICE], "alice", "key pass", 8, PARLEY__KDF_TEST_ONLY,
                                    &key_file, &key_file_len));
    host_init(&alice, &relay);
    alice.cfg.agent_key = key_file;
    alice.cfg.agent_key_len = key_file_len;
    alice.cfg.key_passphrase = "key pass";
    alice.cfg.key_passphrase_len = 8;
    alice.cfg.agent_cert = w.certs[W_ALICE];
    alice.cfg.agent_cert_len = w.cert_lens[W_ALICE];
    alice.cfg.publish_directory = w.dir_v2;
    alice.cfg.publish_directory_len = w.dir_v2_len;
    host_start(&alice, &relay, "alice", true);
    host_init(&bob, &relay);
    bob.cfg.agent_identity = w.agents[W_BOB];
    bob.cfg.agent_cert = w.certs[W_BOB];
    bob.cfg.agent_cert_len = w.cert_lens[W_BOB];
    host_start(&bob, &relay, "bob", true);
    host_init(&customer, &relay);
    host_start(&customer, &relay, "customer", false);
    CHECK(!parley_session_connected(customer.s));

    /* alice publishes the directory, then everyone connects. */
    host_connect(&alice);
    settle(&relay, all, 3);
    host_connect(&bob);
    host_connect(&customer);
    settle(&relay, all, 3);
    for (i = 0; i < 3; i++)
        CHECK(parley_session_connected(all[i]->s) && last(all[i], PARLEY_EV_CONNECTED) >= 0);
    CHECK(last(&customer, PARLEY_EV_DIRECTORY) >= 0);

    /* Consent, then the customer opens a conversation in queue support. */
    CHECK_ERR(parley_session_conversation_open(customer.s, "support", "Bonjour", conv, now),
              PARLEY_ENOCONSENT);
    CHECK_OK(parley_session_consent(customer.s, NULL, 0, now));
    CHECK(parley_session_has_consent(customer.s));
    CHECK_OK(parley_session_conversation_open(customer.s, "support", "Bonjour", conv, now));
    settle(&relay, all, 3);
    CHECK(state_of(&alice, conv) == PARLEY_CONV_QUEUED && state_of(&bob, conv) == PARLEY_CONV_QUEUED);
    CHECK(count_text(&alice, "Bonjour") == 1 && count_text(&bob, "Bonjour") == 1);

    /* alice claims it: the customer talks with her, bob is told a colleague took it. */
    CHECK_OK(parley_session_conversation_claim(alice.s, conv, now));
    settle(&relay, all, 3);
    CHECK(state_of(&customer, conv) == PARLEY_CONV_ACTIVE);
    i = last(&customer, PARLEY_EV_CONVERSATION);
    CHECK(i >= 0 && strcmp(customer.seen[i].agent_id, "alice") == 0);
    CHECK(state_of(&bob, conv) == PARLEY_CONV_TAKEN);

    /* Texts both ways, receipts, typing. */
    CHECK_OK(parley_session_conversation_send_text(customer.s, conv, "ma commande 4471", &seq, now));
    CHECK(seq > 0 && parley_session_outbox_size(customer.s) >= 1);
    settle(&relay, all, 3);
    CHECK(count_text(&alice, "ma commande 4471") == 1);
    CHECK(parley_session_outbox_size(customer.s) == 0 && last(&customer, PARLEY_EV_SENT) >= 0);
    now += 1000;
    settle(&relay, all, 3); /* the delivery receipt goes on the next tick */
    i = last(&customer, PARLEY_EV_DELIVERED);
    CHECK(i >= 0 && customer.seen[i].seq == seq);
    CHECK_OK(parley_session_conversation_send_text(alice.s, conv, "je regarde", &seq, now));
    CHECK_OK(parley_session_conversation_typing(customer.s, conv, 1, now));
    settle(&relay, all, 3);
    CHECK(count_text(&customer, "je regarde") == 1 && last(&alice, PARLEY_EV_TYPING) >= 0);
    CHECK_OK(parley_session_conversation_mark_read(customer.s, conv, seq, now));
    settle(&relay, all, 3);
    i = last(&alice, PARLEY_EV_READ);
    CHECK(i >= 0 && alice.seen[i].seq == seq);

    /* The customer's connection drops while alice writes; it comes back. */
    mr_hangup(&customer.party);
    parley_session_closed(customer.s, PARLEY_EIO, 500, now);
    CHECK(!parley_session_connected(customer.s));
    CHECK_OK(parley_session_conversation_send_text(alice.s, conv, "trouvée", NULL, now));
    settle(&relay, all, 3);
    i = last(&customer, PARLEY_EV_DISCONNECTED);
    CHECK(i >= 0 && customer.seen[i].error == PARLEY_EIO && count_text(&customer, "trouvée") == 0);
    now += 500;
    host_connect(&customer);
    settle(&relay, all, 3);
    CHECK(count_text(&customer, "trouvée") == 1);

    /* Offline, the customer writes; its host dies and starts again on the same store. */
    mr_hangup(&customer.party);
    parley_session_closed(customer.s, PARLEY_EIO, 500, now);
    CHECK_OK(parley_session_conversation_send_text(customer.s, conv, "merci !", NULL, now));
    parley_session_free(customer.s);
    CHECK_OK(parley_session_new(&customer.s, &customer.cfg, now));
    customer.party.session = customer.s;
    CHECK(parley_session_outbox_size(customer.s) == 1 && parley_session_has_consent(customer.s));
    host_connect(&customer);
    settle(&relay, all, 3);
    CHECK(count_text(&alice, "merci !") == 1 && parley_session_outbox_size(customer.s) == 0);

    /* alice hands the conversation to bob once the customer acknowledged her custody. */
    CHECK_OK(parley_session_conversation_transfer(alice.s, conv, "bob", now));
    /* The handover waits in alice's store for a prekey of bob's: not in her outbox yet. */
    CHECK(parley_session_waiting_size(alice.s) == 1);
    settle(&relay, all, 3);
    CHECK(parley_session_waiting_size(alice.s) == 0 && parley_session_outbox_size(alice.s) == 0);
    CHECK(state_of(&alice, conv) == PARLEY_CONV_TRANSFERRED);
    CHECK(state_of(&bob, conv) == PARLEY_CONV_ACTIVE && state_of(&customer, conv) == PARLEY_CONV_ACTIVE);
    i = last(&customer, PARLEY_EV_CONVERSATION);
    CHECK(i >= 0 && strcmp(customer.seen[i].agent_id, "bob") == 0);
    CHECK_OK(parley_session_conversation_send_text(bob.s, conv, "bob ici", NULL, now));
    settle(&relay, all, 3);
    CHECK(count_text(&customer, "bob ici") == 1);

    /* What the customer's device keeps: its history, and an export of it. */
    CHECK_OK(parley_session_conversation_history(customer.s, conv, history_line, &t));
    CHECK(t.n == 6 && strcmp(t.lines[0], "Bonjour") == 0 && strcmp(t.lines[5], "bob ici") == 0);
    CHECK_OK(parley_session_conversation_export(customer.s, conv, &json, &json_len));
    CHECK(strstr(json, "\"text\":\"ma commande 4471\"") != NULL && strstr(json, "\"bob\"") != NULL);
    parley_free(json, json_len);

    /* The host's own records, then an erasure: bob erases his copy, the records go. */
    CHECK_OK(parley_session_record_put(customer.s, (const uint8_t *)"seen:bob", 8,
                                       (const uint8_t *)"1", 1));
    CHECK_OK(parley_session_record_get(customer.s, (const uint8_t *)"seen:bob", 8, &val, &val_len));
    CHECK(val != NULL && val_len == 1 && val[0] == '1');
    parley_free(val, val_len);
    CHECK_OK(parley_session_erase(customer.s, now));
    settle(&relay, all, 3);
    CHECK(state_of(&customer, conv) == PARLEY_CONV_CLOSED && state_of(&bob, conv) == PARLEY_CONV_CLOSED);
    CHECK(last(&bob, PARLEY_EV_ERASED) >= 0);
    CHECK_OK(parley_session_record_get(customer.s, (const uint8_t *)"seen:bob", 8, &val, &val_len));
    CHECK(val == NULL && val_len == 0);

    for (i = 0; i < 3; i++)
        host_free(all[i]);
    parley_free(key_file, key_file_len);
    mr_free(&relay);
    world_free(&w);
    return 0;
}
