/*
 * The trust boundaries of docs/security.md that the other core tests do
 * not already cover: a colleague of the brand cannot speak in a
 * conversation it does not hold, to the agent or to the customer; an
 * erasure notice reaches an agent only from the conversation's customer,
 * under that customer's signature; a revoked agent is cut off by the
 * clients that hold the revocation; what a device's store shows to a
 * thief without the passphrase; and what a relay sees of a conversation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "handover.h"
#include "keyring.h"

static struct world w;

static void claimed_scene(struct scene *s)
{
    scene_init(s, &w);
    scene_open(s, "Bonjour, commande 4471");
    scene_claim(s);
    scene_say(s, &s->alice, "Alice, je regarde.");
    scene_say(s, &s->customer, "Merci Alice");
    CHECK(mr_text_count(&s->customer, "Alice, je regarde.") == 1);
    CHECK(mr_text_count(&s->alice, "Merci Alice") == 1);
}

/*
 * Injects f's envelope into `to` and checks it is refused with err and
 * nothing else: no message, no state change, no typing, read or delivered
 * event, and the envelope acknowledged (not left to come again).
 */
static void refused(struct scene *s, struct mr_party *to, const struct forge *f, parley_err err)
{
    uint8_t *env;
    size_t len;
    int mark = to->n_events;

    forge_envelope(f, &env, &len);
    mr_inject(&s->relay, to, env, len);
    mr_pump(&s->relay);
    free(env);
    if (!mr_rejected_since(to, mark, err) || to->n_events != mark + 1) {
        fprintf(stderr, "expected only one REJECTED %s in %s, got:\n", parley_strerror(err),
                to->name);
        mr_dump(to, mark);
        CHECK(!"refused as expected");
    }
    CHECK(mr_stored_for(&s->relay, to) == 0);
}

/* A forge for a payload from `from` (an agent of w, with its certificate) to the customer. */
static void from_agent_to_customer(struct forge *f, struct scene *s, int from, uint8_t key[32])
{
    CHECK(store_newest_receive_key(&s->customer, s->conv, key));
    memset(f, 0, sizeof(*f));
    f->sign_sk = w.agents[from]->secret->sign_sk;
    f->cert = w.certs[from];
    f->cert_len = w.cert_lens[from];
    f->to_box = key;
    f->to_sign = s->customer.sign_pk;
    f->conv = s->conv;
    f->time_ms = s->relay.now;
}

/* A forge for a payload signed by `from` (with cert, or none) to alice in s->conv. */
static void to_alice(struct forge *f, struct scene *s, const parley_identity *from,
                     const uint8_t *cert, size_t cert_len, uint8_t key[32])
{
    CHECK(store_newest_receive_key(&s->alice, s->conv, key));
    memset(f, 0, sizeof(*f));
    f->sign_sk = from->secret->sign_sk;
    f->cert = cert;
    f->cert_len = cert_len;
    f->to_box = key;
    f->to_sign = s->alice.sign_pk;
    f->to_agent = true;
    f->conv = s->conv;
    f->time_ms = s->relay.now;
}

static void test_colleague_cannot_speak(void)
{
    struct scene s;
    struct forge f;
    uint8_t key[32];
    Parley__Payload body = PARLEY__PAYLOAD__INIT;
    Parley__Receipt rc = PARLEY__RECEIPT__INIT;
    Parley__Typing ty = PARLEY__TYPING__INIT;
    Parley__Close cl = PARLEY__CLOSE__INIT;
    struct transcript before, after;

    printf("colleague_cannot_speak: bob, certified by the same brand and offered the same Open, "
           "writes into alice's conversation: refused by the customer and by alice "
           "(EUNTRUSTED), nothing shown\n");
    claimed_scene(&s);
    transcript_of(&s.alice, s.conv, &before);

    /* To the customer, sealed to the key it announced last: text, receipt, typing, close. */
    from_agent_to_customer(&f, &s, W_BOB, key);
    f.seq = 40;
    f.text = "Bob ici, donnez-moi votre code";
    refused(&s, &s.customer, &f, PARLEY_EUNTRUSTED);
    rc.kind = PARLEY__RECEIPT__KIND__READ;
    rc.up_to_seq = 99;
    body.body_case = PARLEY__PAYLOAD__BODY_RECEIPT;
    body.receipt = &rc;
    f.body = &body;
    f.seq = 41;
    refused(&s, &s.customer, &f, PARLEY_EUNTRUSTED);
    ty.active = true;
    body.body_case = PARLEY__PAYLOAD__BODY_TYPING;
    body.typing = &ty;
    f.seq = 42;
    refused(&s, &s.customer, &f, PARLEY_EUNTRUSTED);
    body.body_case = PARLEY__PAYLOAD__BODY_CLOSE;
    body.close = &cl;
    f.seq = 43;
    refused(&s, &s.customer, &f, PARLEY_EUNTRUSTED);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    CHECK(mr_count(&s.customer, PARLEY_EV_TYPING) == 0 &&
          mr_count(&s.customer, PARLEY_EV_READ) == 0);

    /* To alice, sealed to her newest key for this conversation: text and close. */
    to_alice(&f, &s, w.agents[W_BOB], w.certs[W_BOB], w.cert_lens[W_BOB], key);
    f.seq = 44;
    f.text = "Laisse-moi ce client";
    refused(&s, &s.alice, &f, PARLEY_EUNTRUSTED);
    f.body = &body;
    f.seq = 45;
    refused(&s, &s.alice, &f, PARLEY_EUNTRUSTED);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_ACTIVE));
    transcript_of(&s.alice, s.conv, &after);
    CHECK(transcript_same(&before, &after));

    /* The conversation goes on between the customer and alice only. */
    scene_say(&s, &s.customer, "Toujours la ?");
    CHECK(mr_text_count(&s.alice, "Toujours la ?") == 1 &&
          mr_text_count(&s.bob, "Toujours la ?") == 0);
    CHECK(mr_text_count(&s.customer, "Bob ici, donnez-moi votre code") == 0);
    transcript_free(&before);
    transcript_free(&after);
    scene_free(&s);
}

static void test_former_agent_cannot_speak(void)
{
    struct scene s;
    struct forge f;
    uint8_t key[32];

    printf("former_agent_cannot_speak: once alice handed the conversation to bob, her client "
           "will not write in it and the customer refuses what she writes anyway "
           "(EUNTRUSTED)\n");
    claimed_scene(&s);
    CHECK_OK(parley__core_transfer(s.alice.core, s.conv, "bob", s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    CHECK(strcmp(mr_last(&s.customer, PARLEY_EV_CONVERSATION)->ev.agent.agent_id, "bob") == 0);
    CHECK_ERR(parley__core_send_text(s.alice.core, s.conv, "Encore Alice", NULL, s.relay.now),
              PARLEY_ESTATE);
    from_agent_to_customer(&f, &s, W_ALICE, key);
    f.seq = 80;
    f.text = "Encore Alice, ignorez Bob";
    refused(&s, &s.customer, &f, PARLEY_EUNTRUSTED);
    scene_say(&s, &s.bob, "Bob ici.");
    CHECK(mr_text_count(&s.customer, "Bob ici.") == 1);
    CHECK(mr_text_count(&s.customer, "Encore Alice, ignorez Bob") == 0);
    scene_free(&s);
}

/* An Erase payload from signer (claiming sender_pk) to alice, carrying req signed by req_signer. */
static void erase_notice(struct forge *f, Parley__Payload *body, Parley__Erase *e,
                         Parley__ErasureRequest *r, uint8_t **bbuf, uint8_t sig[64],
                         const parley_identity *req_signer, const uint8_t req_customer[32],
                         const uint8_t conv[16], const uint8_t salt[16], uint64_t now)
{
    Parley__ErasureRequestBody b = PARLEY__ERASURE_REQUEST_BODY__INIT;
    ProtobufCBinaryData id = {16, (uint8_t *)conv}, sl = {16, (uint8_t *)salt};
    size_t blen;

    b.brand_id = (char *)W_BRAND;
    b.customer_sign_key = (ProtobufCBinaryData){32, (uint8_t *)req_customer};
    b.time_ms = now;
    b.conversation_ids = &id;
    b.n_conversation_ids = 1;
    b.conversation_salts = &sl;
    b.n_conversation_salts = 1;
    CHECK_OK(parley__pack(&b.base, bbuf, &blen));
    CHECK_OK(
        parley__sign_raw(req_signer->secret->sign_sk, PARLEY__DOMAIN_ERASURE, *bbuf, blen, sig));
    r->body = (ProtobufCBinaryData){blen, *bbuf};
    r->signature = (ProtobufCBinaryData){64, sig};
    e->request = r;
    body->body_case = PARLEY__PAYLOAD__BODY_ERASE;
    body->erase = e;
    f->body = body;
}

static void test_forged_erasure_notice(void)
{
    struct scene s;
    struct forge f;
    parley_identity *customer, *stranger;
    Parley__Payload body = PARLEY__PAYLOAD__INIT;
    Parley__Erase e = PARLEY__ERASE__INIT;
    Parley__ErasureRequest r = PARLEY__ERASURE_REQUEST__INIT;
    struct transcript before, after;
    uint8_t key[32], salt[16], sig[64], *bbuf = NULL;
    struct {
        const char *what;
        int sender; /* W_BOB, or -1: the customer, -2: a stranger */
        parley_identity **req_signer;
        parley_identity **req_customer;
        parley_err err;
    } cases[] = {
        {"a colleague's notice carrying the customer's genuine request", W_BOB, &customer,
         &customer, PARLEY_EUNTRUSTED},
        {"a stranger's notice with its own request", -2, &stranger, &stranger, PARLEY_EUNTRUSTED},
        {"a stranger's notice with a request claiming the customer", -2, &stranger, &customer,
         PARLEY_EUNTRUSTED},
        {"the customer's notice carrying a request signed by someone else", -1, &stranger,
         &customer, PARLEY_EBADSIG},
        {"the customer's notice carrying a request naming another customer", -1, &customer,
         &stranger, PARLEY_EMALFORMED},
    };

    printf("forged_erasure_notice: an erasure notice to an agent from anyone but the "
           "conversation's customer, or not signed by it for itself, erases nothing\n");
    claimed_scene(&s);
    customer = identity_of(&s.customer);
    CHECK_OK(parley_identity_generate(&stranger));
    salt_of(&s.customer, s.conv, salt);
    transcript_of(&s.alice, s.conv, &before);
    CHECK(before.n == 3);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const parley_identity *sender = cases[i].sender == W_BOB ? w.agents[W_BOB]
                                        : cases[i].sender == -1  ? customer
                                                                 : stranger;

        if (cases[i].sender == W_BOB)
            to_alice(&f, &s, sender, w.certs[W_BOB], w.cert_lens[W_BOB], key);
        else
            to_alice(&f, &s, sender, NULL, 0, key);
        f.seq = 60 + i;
        erase_notice(&f, &body, &e, &r, &bbuf, sig, *cases[i].req_signer,
                     parley_identity_sign_pk(*cases[i].req_customer), s.conv, salt, s.relay.now);
        printf("   %s\n", cases[i].what);
        refused(&s, &s.alice, &f, cases[i].err);
        free(bbuf);
        bbuf = NULL;
        CHECK(mr_count(&s.alice, PARLEY_EV_ERASED) == 0);
        CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_ACTIVE));
        transcript_of(&s.alice, s.conv, &after);
        CHECK(transcript_same(&before, &after));
        transcript_free(&after);
    }
    transcript_free(&before);
    parley_identity_free(customer);
    scene_free(&s);

    /* Not vacuous: the same notice, built the same way but genuine, erases. */
    claimed_scene(&s);
    customer = identity_of(&s.customer);
    salt_of(&s.customer, s.conv, salt);
    to_alice(&f, &s, customer, NULL, 0, key);
    f.seq = 60;
    erase_notice(&f, &body, &e, &r, &bbuf, sig, customer, s.customer.sign_pk, s.conv, salt,
                 s.relay.now);
    {
        uint8_t *env;
        size_t len;

        forge_envelope(&f, &env, &len);
        mr_inject(&s.relay, &s.alice, env, len);
        mr_pump(&s.relay);
        free(env);
    }
    free(bbuf);
    CHECK(mr_count(&s.alice, PARLEY_EV_ERASED) == 1);
    CHECK(mr_count(&s.alice, PARLEY_EV_REJECTED) == 0);
    transcript_of(&s.alice, s.conv, &after);
    CHECK(after.n == 0);
    transcript_free(&after);
    parley_identity_free(customer);
    parley_identity_free(stranger);
    scene_free(&s);
}

static void test_revoked_agent_cut_off(void)
{
    struct scene s;
    struct forge f;
    struct handover_spec h;
    Parley__CustodyAck *ack;
    uint8_t key[32], salt[16], *dir;
    size_t dir_len;
    int mark;

    printf("revoked_agent_cut_off: once the customer and a colleague hold the directory that "
           "revokes alice, her texts, her transfer and her handover are refused (EREVOKED), and "
           "new conversations go "
           "to bob only\n");
    claimed_scene(&s);
    salt_of(&s.customer, s.conv, salt);
    ack = ack_of(&s.alice, s.conv); /* her genuine, current custody */
    CHECK(ack != NULL);
    world_directory_revoking(&w, 3, 100, &dir, &dir_len); /* alice's serial */
    scene_serve_directory(&s, &s.customer, dir, dir_len);
    scene_serve_directory(&s, &s.bob, dir, dir_len);
    CHECK(parley_directory_version(parley__core_directory(s.customer.core)) == 3);
    CHECK(parley_directory_version(parley__core_directory(s.bob.core)) == 3);

    /* Her text, through her own client: the customer shows nothing of it. */
    mark = s.customer.n_events;
    scene_say(&s, &s.alice, "Toujours moi, Alice");
    CHECK(mr_text_count(&s.customer, "Toujours moi, Alice") == 0);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EREVOKED));
    /* A transfer she announces is refused too: the conversation stays where it is. */
    from_agent_to_customer(&f, &s, W_ALICE, key);
    {
        Parley__Payload tp = PARLEY__PAYLOAD__INIT;
        Parley__Transfer t = PARLEY__TRANSFER__INIT;

        t.target = parley__agent_cert__unpack(NULL, w.cert_lens[W_BOB], w.certs[W_BOB]);
        CHECK(t.target != NULL);
        tp.body_case = PARLEY__PAYLOAD__BODY_TRANSFER;
        tp.transfer = &t;
        f.body = &tp;
        f.seq = 70;
        refused(&s, &s.customer, &f, PARLEY_EREVOKED);
        parley__agent_cert__free_unpacked(t.target, NULL);
    }
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
    /* Her handover to bob, with the customer's genuine acknowledgement of her custody. */
    memset(&h, 0, sizeof(h));
    h.from = w.agents[W_ALICE];
    h.from_cert = w.certs[W_ALICE];
    h.from_cert_len = w.cert_lens[W_ALICE];
    h.to = &s.bob;
    h.conv = s.conv;
    h.seq = 71;
    h.customer_pk = s.customer.sign_pk;
    h.salt = salt;
    h.custody = ack;
    mark = s.bob.n_events;
    handover_inject(&s.relay, &h);
    CHECK(mr_rejected_since(&s.bob, mark, PARLEY_EREVOKED));
    CHECK(mr_state_is(&s.bob, s.conv, PARLEY_CONV_TAKEN));
    CHECK(mr_count_since(&s.bob, mark, PARLEY_EV_CONVERSATION) == 0);
    parley__custody_ack__free_unpacked(ack, NULL);
    /* A new conversation goes to the agents the directory still certifies: bob only. */
    {
        uint8_t conv2[16];
        size_t alice_prekeys = mr_prekeys_for(&s.relay, &s.alice);

        mark = s.alice.n_events;
        CHECK_OK(parley__core_open(s.customer.core, "support", "Une autre question", conv2,
                                   s.relay.now));
        mr_pump(&s.relay);
        CHECK(mr_state_is(&s.bob, conv2, PARLEY_CONV_QUEUED));
        CHECK(conv_state_of(&s.alice, conv2) == NULL);
        CHECK(mr_text_count(&s.alice, "Une autre question") == 0);
        CHECK(mr_prekeys_for(&s.relay, &s.alice) == alice_prekeys); /* none asked for */
    }
    parley_free(dir, dir_len);
    scene_free(&s);
}

/*
 * The customer holds the directory that revokes its current agent: nothing
 * more is sealed to her (text, receipt, typing, close), each call says
 * PARLEY_EREVOKED and the application hears it as a rejected event; the
 * conversation can still be closed on the customer's side.
 */
static void test_customer_stops_writing_to_revoked_agent(void)
{
    struct scene s;
    uint8_t *dir;
    size_t dir_len, cap_before;
    uint64_t seq = 99;
    int mark;

    printf("customer_stops_writing_to_revoked_agent: once the customer holds the directory that "
           "revokes alice, nothing more is sealed to her (EREVOKED) and the application is "
           "told\n");
    claimed_scene(&s);
    world_directory_revoking(&w, 3, 100, &dir, &dir_len); /* alice's serial */
    scene_serve_directory(&s, &s.customer, dir, dir_len);
    mr_pump(&s.relay);
    cap_before = s.relay.n_cap;
    mark = s.customer.n_events;
    CHECK_ERR(parley__core_send_text(s.customer.core, s.conv, "Mon IBAN, pour Alice", &seq,
                                     s.relay.now),
              PARLEY_EREVOKED);
    CHECK(seq == 0);
    CHECK_ERR(parley__core_typing(s.customer.core, s.conv, 1, s.relay.now), PARLEY_EREVOKED);
    CHECK_ERR(parley__core_mark_read(s.customer.core, s.conv, 1, s.relay.now), PARLEY_EREVOKED);
    mr_pump(&s.relay);
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_REJECTED) == 3);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EREVOKED));
    CHECK(s.relay.n_cap == cap_before); /* nothing sealed to anyone */
    CHECK(mr_text_count(&s.alice, "Mon IBAN, pour Alice") == 0);
    CHECK_OK(parley__core_close(s.customer.core, s.conv, "", s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_CLOSED));
    CHECK(s.relay.n_cap == cap_before);
    parley_free(dir, dir_len);
    scene_free(&s);
}

/*
 * No agent's display name reaches the relay: not in the certificate an
 * agent authenticates with, nor in any other frame of a conversation with
 * a transfer; the customer still sees the names, from sealed content.
 */
static void test_relay_sees_no_display_name(void)
{
    static const char *const names[] = {"Alice Martin", "Bob Lef\xc3\xa8vre"};
    struct scene s;
    const struct mr_event *e;

    printf("relay_sees_no_display_name: the frames agents send to the relay (authentication, "
           "prekeys, a conversation and a transfer) hold no display name\n");
    for (size_t i = 0; i < 2; i++) {
        scene_init(&s, &w);
        s.relay.watch = names[i];
        mr_disconnect(&s.alice);
        mr_disconnect(&s.bob);
        mr_connect(&s.alice);
        mr_connect(&s.bob);
        mr_pump(&s.relay);
        scene_open(&s, "Bonjour");
        scene_claim(&s);
        scene_say(&s, &s.alice, "Je transfere a Bob");
        CHECK_OK(parley__core_transfer(s.alice.core, s.conv, "bob", s.relay.now));
        mr_pump(&s.relay);
        CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));
        scene_say(&s, &s.bob, "Bob, je prends la suite");
        printf("   frames holding \"%s\": %d\n", names[i], s.relay.watch_hits);
        CHECK(s.relay.watch_hits == 0);
        e = mr_last(&s.customer, PARLEY_EV_MESSAGE);
        CHECK(e != NULL && strcmp(e->ev.agent.display_name, names[1]) == 0);
        scene_free(&s);
    }
}

/* Fails when any raw row (key or value) of p's store holds needle. */
struct raw_search {
    const char *who;
    const uint8_t *needle;
    size_t len;
    const char *what;
    int found;
};

static int raw_row(void *arg, const char *table, const uint8_t *key, size_t key_len,
                   const uint8_t *val, size_t val_len)
{
    struct raw_search *rs = arg;

    if (memmem(key, key_len, rs->needle, rs->len) != NULL ||
        memmem(val, val_len, rs->needle, rs->len) != NULL) {
        fprintf(stderr, "%s's store, table %s: %s in clear\n", rs->who, table, rs->what);
        rs->found++;
    }
    return 0;
}

static void not_in_clear(struct mr_party *p, const void *needle, size_t len, const char *what)
{
    struct raw_search rs = {p->name, needle, len, what, 0};

    memstore_each(p->ms, raw_row, &rs);
    CHECK(rs.found == 0);
}

static void test_device_without_passphrase(void)
{
    static const char *const texts[] = {"Bonjour, commande 4471", "Alice, je regarde.",
                                        "Merci Alice", "Bob prend la suite, IBAN FR76",
                                        "Acme keeps this conversation to answer you."};
    static const char *const names[] = {"Alice Martin", "Bob Lef\xc3\xa8vre", "Carol Diaz"};
    struct mr_party *all[3];
    struct scene s;
    uint8_t salt[16];

    printf("device_without_passphrase: after a conversation with a transfer, no row of any "
           "device's store (row keys included) holds a text, the notice, a display name, the "
           "peer's signing key or the conversation's salt in clear\n");
    claimed_scene(&s);
    all[0] = &s.customer;
    all[1] = &s.alice;
    all[2] = &s.bob;
    CHECK_OK(parley__core_transfer(s.alice.core, s.conv, "bob", s.relay.now));
    mr_pump(&s.relay);
    scene_say(&s, &s.bob, "Bob prend la suite, IBAN FR76");
    CHECK(mr_text_count(&s.customer, "Bob prend la suite, IBAN FR76") == 1);
    salt_of(&s.customer, s.conv, salt);
    for (size_t p = 0; p < 3; p++) {
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
            not_in_clear(all[p], texts[i], strlen(texts[i]), texts[i]);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            not_in_clear(all[p], names[i], strlen(names[i]), names[i]);
        not_in_clear(all[p], salt, 16, "the conversation salt");
    }
    /* Who talked to whom: the customer's key on agents' devices, agents' keys on the customer's. */
    not_in_clear(&s.alice, s.customer.sign_pk, 32, "the customer's signing key");
    not_in_clear(&s.bob, s.customer.sign_pk, 32, "the customer's signing key");
    not_in_clear(&s.customer, s.alice.sign_pk, 32, "alice's signing key");
    not_in_clear(&s.customer, s.bob.sign_pk, 32, "bob's signing key");
    not_in_clear(&s.alice, s.bob.sign_pk, 32, "bob's signing key");
    not_in_clear(&s.bob, s.alice.sign_pk, 32, "alice's signing key");
    /* Not vacuous: with the passphrase, everything is there (every value opens: keyring.c). */
    {
        struct keyring kr;

        for (size_t p = 0; p < 3; p++) {
            keyring_init(&kr);
            keyring_of_party(&kr, all[p]);
            keyring_free(&kr);
        }
    }
    CHECK(store_rows(&s.alice) > 10 && store_rows(&s.customer) > 10);
    scene_free(&s);
}

/* What each captured envelope shows anyone who is not its recipient. */
static void test_relay_view(void)
{
    struct scene s;
    size_t from;
    uint8_t routing[4][32];
    bool seen[4] = {false, false, false, false};

    printf("relay_view: every envelope of a conversation shows the relay a random envelope id, "
           "the conversation id, a routing id of its recipient and a length of 256k+48, and no "
           "byte of any text\n");
    scene_init(&s, &w);
    from = s.relay.n_cap;
    scene_open(&s, "Bonjour, commande 4471");
    scene_claim(&s);
    scene_say(&s, &s.alice, "Alice, je regarde.");
    scene_say(&s, &s.customer, "Merci Alice");
    CHECK_OK(parley__core_transfer(s.alice.core, s.conv, "bob", s.relay.now));
    mr_pump(&s.relay);
    scene_say(&s, &s.bob, "Bob prend la suite");
    CHECK(mr_text_count(&s.customer, "Bob prend la suite") == 1);
    parley_routing_id(s.customer.sign_pk, PARLEY_ROUTING_CUSTOMER, routing[0]);
    parley_routing_id(s.alice.sign_pk, PARLEY_ROUTING_AGENT, routing[1]);
    parley_routing_id(s.bob.sign_pk, PARLEY_ROUTING_AGENT, routing[2]);
    CHECK(s.relay.n_cap - from > 10);
    for (size_t i = from; i < s.relay.n_cap; i++) {
        const struct mr_buf *b = &s.relay.cap[i].env;
        Parley__Envelope *e = parley__envelope__unpack(NULL, b->n, b->p);
        size_t who;

        CHECK(e != NULL);
        CHECK(memcmp(e->conversation_id.data, s.conv, 16) == 0);
        CHECK(e->sealed.len >= 304 &&
              (e->sealed.len - crypto_box_SEALBYTES) % PARLEY_PAD_BLOCK == 0);
        for (who = 0; who < 3 && memcmp(e->recipient.data, routing[who], 32) != 0; who++)
            ;
        CHECK(who < 3);
        seen[who] = true;
        for (const char *const *t = (const char *const[]){"commande 4471", "je regarde",
                                                          "Merci Alice", "Bob prend", NULL};
             *t != NULL; t++)
            CHECK(memmem(b->p, b->n, *t, strlen(*t)) == NULL);
        CHECK(memmem(b->p, b->n, s.customer.sign_pk, 32) == NULL);
        CHECK(memmem(b->p, b->n, s.alice.sign_pk, 32) == NULL);
        parley__envelope__free_unpacked(e, NULL);
    }
    CHECK(seen[0] && seen[1] && seen[2]);
    scene_free(&s);
}

int main(int argc, char **argv)
{
    static const struct named_case cases[] = {
        {"colleague_cannot_speak", test_colleague_cannot_speak},
        {"former_agent_cannot_speak", test_former_agent_cannot_speak},
        {"forged_erasure_notice", test_forged_erasure_notice},
        {"revoked_agent_cut_off", test_revoked_agent_cut_off},
        {"customer_stops_writing_to_revoked_agent", test_customer_stops_writing_to_revoked_agent},
        {"device_without_passphrase", test_device_without_passphrase},
        {"relay_view", test_relay_view},
        {"relay_sees_no_display_name", test_relay_sees_no_display_name},
    };

    return run_cases(argc, argv, &w, cases, sizeof(cases) / sizeof(cases[0]));
}
