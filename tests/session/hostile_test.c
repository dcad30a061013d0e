/*
 * The core against a hostile relay (DESIGN.md, "Threat model"): dropped,
 * duplicated, re-wrapped, reordered and replayed envelopes; a directory
 * signed by another brand or rolled back; claims, texts and prekeys the
 * relay made up; Opens whose consent receipt does not hold; conversation
 * ids swapped. Each is detected with its own
 * event or error, and none reaches the application as a message.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "handover.h"
#include "keyring.h"

static struct world w;

/* Index of the first envelope captured from `from` on addressed to p; -1 if none. */
static int capture_to(const struct mr_relay *r, size_t from, const struct mr_party *p)
{
    for (size_t i = from; i < r->n_cap; i++)
        if (memcmp(r->cap[i].recipient, p->routing, 32) == 0)
            return (int)i;
    return -1;
}

/* Envelopes the relay stores for p, after p has had its turn: none may be left behind. */
static void check_all_acknowledged(const struct scene *s, const struct mr_party *p)
{
    CHECK(mr_stored_for(&s->relay, p) == 0);
}

static void inject_and_pump(struct scene *s, struct mr_party *to, const uint8_t *env, size_t len)
{
    mr_inject(&s->relay, to, env, len);
    mr_pump(&s->relay);
}

/* A scene up to an active conversation between the customer and alice. */
static void claimed_scene(struct scene *s)
{
    scene_init(s, &w);
    scene_open(s, "Bonjour");
    scene_claim(s);
}

static void test_duplicate_same_id(void)
{
    struct scene s;
    size_t before;
    int i, mark, acks;

    printf("hostile: a duplicate with the same envelope id is dropped silently and re-acked\n");
    claimed_scene(&s);
    before = s.relay.n_cap;
    scene_say(&s, &s.alice, "Je regarde.");
    i = capture_to(&s.relay, before, &s.customer);
    CHECK(i >= 0 && mr_text_count(&s.customer, "Je regarde.") == 1);
    mark = s.customer.n_events;
    acks = s.relay.delivered_ids;
    inject_and_pump(&s, &s.customer, s.relay.cap[i].env.p, s.relay.cap[i].env.n);
    CHECK(mr_text_count(&s.customer, "Je regarde.") == 1);
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_REJECTED) == 0);
    CHECK(s.relay.delivered_ids == acks + 1);
    check_all_acknowledged(&s, &s.customer);

    /* The same the other way. */
    before = s.relay.n_cap;
    scene_say(&s, &s.customer, "Merci");
    i = capture_to(&s.relay, before, &s.alice);
    CHECK(i >= 0 && mr_text_count(&s.alice, "Merci") == 1);
    mark = s.alice.n_events;
    inject_and_pump(&s, &s.alice, s.relay.cap[i].env.p, s.relay.cap[i].env.n);
    CHECK(mr_text_count(&s.alice, "Merci") == 1);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_MESSAGE) == 0);
    check_all_acknowledged(&s, &s.alice);
    scene_free(&s);
}

/* from says text; it comes to `to` once more under a new envelope id: a REPLAY, shown once. */
static void replay_rewrapped(struct scene *s, struct mr_party *from, struct mr_party *to,
                             const char *text)
{
    uint8_t *env;
    size_t before = s->relay.n_cap, len;
    int i, mark;

    scene_say(s, from, text);
    i = capture_to(&s->relay, before, to);
    CHECK(i >= 0);
    forge_rewrap(s->relay.cap[i].env.p, s->relay.cap[i].env.n, true, NULL, &env, &len);
    mark = to->n_events;
    inject_and_pump(s, to, env, len);
    free(env);
    CHECK(mr_count_since(to, mark, PARLEY_EV_REPLAY) == 1);
    CHECK(mr_count_since(to, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(mr_text_count(to, text) == 1);
    check_all_acknowledged(s, to);
}

static void test_duplicate_new_id(void)
{
    struct scene s;

    printf("hostile: a duplicate re-wrapped under a new envelope id is a REPLAY\n");
    claimed_scene(&s);
    replay_rewrapped(&s, &s.alice, &s.customer, "Votre colis part demain.");
    replay_rewrapped(&s, &s.customer, &s.alice, "Parfait");
    scene_free(&s);
}

/* Re-wraps capture i under a new envelope id, injects it into `to`; true when a REPLAY came. */
static bool typing_again(struct scene *s, int i, struct mr_party *to)
{
    const struct mr_event *e;
    uint8_t *env;
    size_t len;
    int mark = to->n_events;

    forge_rewrap(s->relay.cap[i].env.p, s->relay.cap[i].env.n, true, NULL, &env, &len);
    inject_and_pump(s, to, env, len);
    free(env);
    CHECK(mr_count_since(to, mark, PARLEY_EV_TYPING) == 0);
    e = mr_last(to, PARLEY_EV_REPLAY);
    return mr_count_since(to, mark, PARLEY_EV_REPLAY) == 1 && e->ev.error == PARLEY_EREPLAY;
}

static void test_typing_replay(void)
{
    struct scene s;
    size_t before;
    int first, second, mark;

    printf("hostile: a typing notice delivered again under a new envelope id, also after a "
           "restart, or after a later message, is a REPLAY (EREPLAY)\n");
    claimed_scene(&s);
    /* Two notices at the same clock: each later than the one before, both taken. */
    before = s.relay.n_cap;
    mark = s.alice.n_events;
    CHECK_OK(parley__core_typing(s.customer.core, s.conv, 1, s.relay.now));
    CHECK_OK(parley__core_typing(s.customer.core, s.conv, 0, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_TYPING) == 2);
    first = capture_to(&s.relay, before, &s.alice);
    CHECK(first >= 0);
    second = capture_to(&s.relay, (size_t)first + 1, &s.alice);
    CHECK(second > first);
    CHECK(typing_again(&s, first, &s.alice));
    CHECK(typing_again(&s, second, &s.alice));
    check_all_acknowledged(&s, &s.alice);
    /* What alice took is remembered across a restart. */
    mr_reboot(&s.alice);
    CHECK(typing_again(&s, second, &s.alice));
    /* A text of the customer's, then its older notice again: overtaken, a replay. */
    mr_advance(&s.relay, 1000);
    scene_say(&s, &s.customer, "Commande 4471");
    CHECK(typing_again(&s, second, &s.alice));
    /* The customer's next notice is taken as ever, and so is the agent's. */
    mark = s.alice.n_events;
    CHECK_OK(parley__core_typing(s.customer.core, s.conv, 1, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_count_since(&s.alice, mark, PARLEY_EV_TYPING) == 1);
    before = s.relay.n_cap;
    mark = s.customer.n_events;
    CHECK_OK(parley__core_typing(s.alice.core, s.conv, 1, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_TYPING) == 1);
    first = capture_to(&s.relay, before, &s.customer);
    CHECK(first >= 0 && typing_again(&s, first, &s.customer));
    check_all_acknowledged(&s, &s.customer);
    scene_free(&s);
}

static void drop_one(struct scene *s, struct mr_party *from, struct mr_party *to)
{
    const struct mr_event *gap;
    uint64_t lost_seq = 0;
    int mark = to->n_events, sent = mr_count(from, PARLEY_EV_SENT);

    s->relay.drop_next = 1;
    mr_advance(&s->relay, 1000);
    CHECK_OK(parley__core_send_text(from->core, s->conv, "perdu", &lost_seq, s->relay.now));
    mr_pump(&s->relay);
    CHECK(s->relay.drop_next == 0);
    /* The relay acknowledged it: the sender believes it stored. */
    CHECK(mr_count(from, PARLEY_EV_SENT) == sent + 1);
    CHECK(mr_count_since(to, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(mr_count_since(to, mark, PARLEY_EV_GAP) == 0);
    scene_say(s, from, "la suite");
    CHECK(mr_text_count(to, "la suite") == 1);
    CHECK(mr_text_count(to, "perdu") == 0);
    CHECK(mr_count_since(to, mark, PARLEY_EV_GAP) == 1);
    gap = mr_last(to, PARLEY_EV_GAP);
    CHECK(gap->ev.gap_from == lost_seq && gap->ev.gap_to == lost_seq);
    CHECK(memcmp(gap->ev.conversation_id, s->conv, 16) == 0);
    CHECK(memcmp(gap->ev.sender_sign_pk, from->sign_pk, 32) == 0);
}

static void test_drop(void)
{
    struct scene s;

    printf("hostile: a dropped envelope is a GAP once the next one arrives\n");
    claimed_scene(&s);
    drop_one(&s, &s.alice, &s.customer);
    drop_one(&s, &s.customer, &s.alice);
    scene_free(&s);
}

static void reorder_two(struct scene *s, struct mr_party *from, struct mr_party *to)
{
    int mark = to->n_events;

    s->relay.hold = true;
    scene_say(s, from, "un");
    scene_say(s, from, "deux");
    s->relay.hold = false;
    CHECK(mr_count_since(to, mark, PARLEY_EV_MESSAGE) == 0);
    mr_release_reversed(&s->relay);
    mr_pump(&s->relay);
    /* "deux" came first: shown, with a gap; "un" after it is refused, not shown. */
    CHECK(mr_text_count(to, "deux") == 1);
    CHECK(mr_text_count(to, "un") == 0);
    CHECK(mr_count_since(to, mark, PARLEY_EV_REORDER) +
              mr_count_since(to, mark, PARLEY_EV_REPLAY) ==
          1);
    CHECK(mr_count_since(to, mark, PARLEY_EV_MESSAGE) == 1);
    check_all_acknowledged(s, to);
}

static void test_reorder(void)
{
    struct scene s;

    printf("hostile: two envelopes swapped in flight: REORDER, the late one is not shown\n");
    claimed_scene(&s);
    reorder_two(&s, &s.customer, &s.alice);
    reorder_two(&s, &s.alice, &s.customer);
    scene_free(&s);
}

static void replay_later(struct scene *s, int cap, struct mr_party *to, const char *text)
{
    uint8_t *env;
    size_t len;
    int mark = to->n_events;

    /* As it was: the same envelope id, already recorded. */
    inject_and_pump(s, to, s->relay.cap[cap].env.p, s->relay.cap[cap].env.n);
    CHECK(to->n_events == mark);
    /* Under a new id: its key is gone by now, or its sequence number is old. */
    forge_rewrap(s->relay.cap[cap].env.p, s->relay.cap[cap].env.n, true, NULL, &env, &len);
    inject_and_pump(s, to, env, len);
    free(env);
    CHECK(mr_count_since(to, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(mr_count_since(to, mark, PARLEY_EV_REPLAY) == 1 ||
          (mr_count_since(to, mark, PARLEY_EV_REJECTED) == 1 &&
           mr_rejected_since(to, mark, PARLEY_EBADSEAL)));
    CHECK(mr_text_count(to, text) == 1);
    check_all_acknowledged(s, to);
}

static void test_replay_later(void)
{
    struct scene s;
    size_t before;
    int to_customer, to_alice;

    printf("hostile: old envelopes replayed later are refused\n");
    claimed_scene(&s);
    before = s.relay.n_cap;
    scene_say(&s, &s.alice, "Bonjour, je suis Alice.");
    to_customer = capture_to(&s.relay, before, &s.customer);
    before = s.relay.n_cap;
    scene_say(&s, &s.customer, "Ma commande 4471");
    to_alice = capture_to(&s.relay, before, &s.alice);
    CHECK(to_customer >= 0 && to_alice >= 0);
    for (int i = 0; i < 3; i++) {
        scene_say(&s, &s.alice, "...");
        scene_say(&s, &s.customer, "?");
    }
    replay_later(&s, to_customer, &s.customer, "Bonjour, je suis Alice.");
    replay_later(&s, to_alice, &s.alice, "Ma commande 4471");
    /* The conversation goes on unharmed. */
    scene_say(&s, &s.alice, "Toujours la");
    CHECK(mr_text_count(&s.customer, "Toujours la") == 1);
    scene_free(&s);
}

/*
 * The customer reconnects to a relay that serves dir instead of the
 * stored directory; returns the customer's event mark from before.
 */
static int reconnect_served(struct scene *s, const uint8_t *dir, size_t len)
{
    int mark = s->customer.n_events;

    mr_disconnect(&s->customer);
    s->relay.serve_dir.p = malloc(len);
    CHECK(s->relay.serve_dir.p != NULL);
    memcpy(s->relay.serve_dir.p, dir, len);
    s->relay.serve_dir.n = len;
    mr_connect(&s->customer);
    mr_pump(&s->relay);
    return mark;
}

static void test_foreign_directory(void)
{
    struct scene s;
    parley_cert_info info;
    const parley_directory *d;
    int mark;

    printf("hostile: a directory signed by another brand is refused (EBADSIG)\n");
    scene_init(&s, &w);
    mark = reconnect_served(&s, w.other_dir, w.other_dir_len);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EBADSIG));
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_DIRECTORY) == 0);
    d = parley__core_directory(s.customer.core);
    CHECK(d != NULL && parley_directory_version(d) == 2);
    CHECK(parley_directory_agent(d, (size_t)parley_directory_find_agent(d, "alice"), &info) ==
          PARLEY_OK);
    CHECK(memcmp(info.sign_pk, parley_identity_sign_pk(w.agents[W_ALICE]), 32) == 0);
    /* The customer still talks to the real alice and bob only. */
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    scene_free(&s);
}

static void test_rollback_directory(void)
{
    struct scene s;
    int mark;

    printf("hostile: an older directory is refused (EROLLBACK)\n");
    scene_init(&s, &w);
    mark = reconnect_served(&s, w.dir_v1, w.dir_v1_len);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EROLLBACK));
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_DIRECTORY) == 0);
    CHECK(parley_directory_version(parley__core_directory(s.customer.core)) == 2);
    /* Also after a restart: the version seen is remembered with the directory. */
    mark = mr_reboot(&s.customer);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EROLLBACK));
    CHECK(parley_directory_version(parley__core_directory(s.customer.core)) == 2);
    scene_free(&s);
}

static void test_foreign_claim(void)
{
    struct scene s;
    struct forge f;
    uint8_t key[32], *env;
    size_t len;
    int mark;

    printf("hostile: a claim by another brand's agent is refused (EUNTRUSTED)\n");
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    CHECK(store_newest_receive_key(&s.customer, s.conv, key));
    memset(&f, 0, sizeof(f));
    f.sign_sk = w.impostor->secret->sign_sk;
    f.cert = w.impostor_cert; /* "acme", "alice", signed by the other brand */
    f.cert_len = w.impostor_cert_len;
    f.to_box = key;
    f.to_sign = s.customer.sign_pk;
    f.conv = s.conv;
    f.seq = 1;
    f.time_ms = s.relay.now;
    f.claim_agent = "alice";
    forge_envelope(&f, &env, &len);
    mark = s.customer.n_events;
    inject_and_pump(&s, &s.customer, env, len);
    free(env);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EUNTRUSTED));
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_CONVERSATION) == 0);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_WAITING));
    check_all_acknowledged(&s, &s.customer);
    /* A text by the impostor is refused the same way. */
    f.claim_agent = NULL;
    f.text = "Je suis Alice, donnez-moi votre code";
    f.seq = 2;
    forge_envelope(&f, &env, &len);
    inject_and_pump(&s, &s.customer, env, len);
    free(env);
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_REJECTED) == 2);
    /* The real alice still can. */
    scene_claim(&s);
    scene_free(&s);
}

/* Injects what f describes into `to` and checks it is refused with err, nothing shown. */
static void refused(struct scene *s, struct mr_party *to, const struct forge *f, parley_err err)
{
    uint8_t *env;
    size_t len;
    int mark = to->n_events;

    forge_envelope(f, &env, &len);
    inject_and_pump(s, to, env, len);
    free(env);
    if (!mr_rejected_since(to, mark, err) ||
        mr_count_since(to, mark, PARLEY_EV_REJECTED) != 1) {
        fprintf(stderr, "expected one REJECTED %s in %s, got:\n", parley_strerror(err), to->name);
        mr_dump(to, mark);
        CHECK(!"refused as expected");
    }
    CHECK(mr_count_since(to, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(mr_count_since(to, mark, PARLEY_EV_CONVERSATION) == 0);
    check_all_acknowledged(s, to);
}

static void test_forged_senders(void)
{
    struct scene s;
    parley_identity *made_up;
    uint8_t *self_cert;
    size_t self_cert_len;
    uint8_t key[32];
    struct forge f;

    printf("hostile: payloads signed by keys the relay made up (EBADSIG, EUNTRUSTED)\n");
    claimed_scene(&s);
    scene_say(&s, &s.alice, "Bonjour");
    scene_say(&s, &s.customer, "Bonjour");
    CHECK_OK(parley_identity_generate(&made_up));
    self_cert = world_cert(made_up, made_up, "alice", "Alice Martin", 100, &self_cert_len);

    /* To the customer, sealed to the key it announced last. */
    CHECK(store_newest_receive_key(&s.customer, s.conv, key));
    memset(&f, 0, sizeof(f));
    f.to_box = key;
    f.to_sign = s.customer.sign_pk;
    f.conv = s.conv;
    f.seq = 50;
    f.time_ms = s.relay.now;
    f.text = "Cliquez ici";
    /* alice's key and certificate, signed by another key. */
    f.sign_sk = made_up->secret->sign_sk;
    f.claimed_pk = parley_identity_sign_pk(w.agents[W_ALICE]);
    f.cert = w.certs[W_ALICE];
    f.cert_len = w.cert_lens[W_ALICE];
    refused(&s, &s.customer, &f, PARLEY_EBADSIG);
    /* The made-up key with alice's genuine certificate. */
    f.claimed_pk = NULL;
    refused(&s, &s.customer, &f, PARLEY_EUNTRUSTED);
    /* The made-up key with a certificate it signed itself. */
    f.cert = self_cert;
    f.cert_len = self_cert_len;
    refused(&s, &s.customer, &f, PARLEY_EUNTRUSTED);
    /* No certificate at all. */
    f.cert = NULL;
    f.cert_len = 0;
    refused(&s, &s.customer, &f, PARLEY_EUNTRUSTED);

    /* To alice, sealed to her newest key, as though from the customer. */
    CHECK(store_newest_receive_key(&s.alice, s.conv, key));
    f.to_box = key;
    f.to_sign = s.alice.sign_pk;
    f.claimed_pk = s.customer.sign_pk;
    refused(&s, &s.alice, &f, PARLEY_EBADSIG);
    f.claimed_pk = NULL;
    refused(&s, &s.alice, &f, PARLEY_EUNTRUSTED);

    /* Nothing of it shows; the conversation goes on. */
    CHECK(mr_text_count(&s.customer, "Cliquez ici") == 0);
    CHECK(mr_text_count(&s.alice, "Cliquez ici") == 0);
    scene_say(&s, &s.alice, "Encore la");
    CHECK(mr_text_count(&s.customer, "Encore la") == 1);
    parley_free(self_cert, self_cert_len);
    parley_identity_free(made_up);
    scene_free(&s);
}

/* A receipt that holds: the customer's own, for acme's current notice (version 3). */
static void good_consent(struct forge_consent *fc, const parley_identity *cust)
{
    memset(fc, 0, sizeof(*fc));
    fc->sign_sk = cust->secret->sign_sk;
    fc->customer_pk = parley_identity_sign_pk(cust);
    fc->brand_id = W_BRAND;
    fc->notice_version = 3;
    fc->notice_text = "Acme keeps this conversation to answer you.";
}

static void change_signer(struct forge_consent *fc, const parley_identity *other)
{
    fc->sign_sk = other->secret->sign_sk;
}

static void change_customer(struct forge_consent *fc, const parley_identity *other)
{
    fc->sign_sk = other->secret->sign_sk;
    fc->customer_pk = parley_identity_sign_pk(other);
}

static void change_brand(struct forge_consent *fc, const parley_identity *other)
{
    (void)other;
    fc->brand_id = "another-shop";
}

static void change_future(struct forge_consent *fc, const parley_identity *other)
{
    (void)other;
    fc->notice_version = 4;
}

static void change_text(struct forge_consent *fc, const parley_identity *other)
{
    (void)other;
    fc->notice_text = "Acme sells this conversation to anyone.";
}

static void change_withdrawn(struct forge_consent *fc, const parley_identity *other)
{
    (void)other;
    fc->withdrawn = true;
}

static void change_required(struct forge_consent *fc, const parley_identity *other)
{
    static const char *const optional_only[] = {"surveys", "marketing"};

    (void)other;
    fc->purposes = optional_only;
    fc->n_purposes = 2;
}

/*
 * An Open carrying rc (NULL: no receipt), from a made-up customer, to alice.
 * Returns whether alice took the conversation; when she did not, she must
 * have refused it with ENOCONSENT.
 */
static bool open_accepted(struct scene *s, const parley_identity *cust, const uint8_t *rc,
                          size_t rc_len)
{
    uint8_t salt[16], conv[16];
    int mark = s->alice.n_events;

    randombytes_buf(salt, sizeof(salt));
    parley_conversation_id(parley_identity_sign_pk(cust), salt, conv);
    open_to_alice(s, &w, cust, conv, salt, rc, rc_len);
    if (mr_state_is(&s->alice, conv, PARLEY_CONV_QUEUED))
        return true;
    CHECK(mr_rejected_since(&s->alice, mark, PARLEY_ENOCONSENT));
    CHECK(mr_count_since(&s->alice, mark, PARLEY_EV_REJECTED) == 1);
    CHECK(mr_count_since(&s->alice, mark, PARLEY_EV_CONVERSATION) == 0);
    CHECK(mr_text_count(&s->alice, "Bonjour, ma commande") == 0);
    return false;
}

static void test_bad_consent(void)
{
    struct scene s;
    parley_identity *cust, *other;
    struct forge_consent fc;
    uint8_t *rc;
    size_t rc_len;
    struct {
        const char *what;
        void (*change)(struct forge_consent *fc, const parley_identity *other);
    } const cases[] = {
        {"signed by another key", change_signer},
        {"for another customer", change_customer},
        {"for another brand", change_brand},
        {"for a notice version not yet published", change_future},
        {"for another text under the current version", change_text},
        {"marked withdrawn", change_withdrawn},
        {"without the purpose the service requires", change_required},
    };

    printf("hostile: an Open whose consent receipt does not hold is refused (ENOCONSENT)\n");
    scene_init(&s, &w);
    CHECK_OK(parley_identity_generate(&cust));
    CHECK_OK(parley_identity_generate(&other));
    /* None at all. */
    CHECK(!open_accepted(&s, cust, NULL, 0));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        good_consent(&fc, cust);
        cases[i].change(&fc, other);
        forge_consent(&fc, &rc, &rc_len);
        if (open_accepted(&s, cust, rc, rc_len)) {
            fprintf(stderr, "a receipt %s was accepted\n", cases[i].what);
            CHECK(!"receipt refused");
        }
        free(rc);
    }
    /* The same receipt, untouched, is taken; so is one for an older notice version. */
    for (uint32_t version = 3; version >= 2; version--) {
        good_consent(&fc, cust);
        fc.notice_version = version;
        forge_consent(&fc, &rc, &rc_len);
        CHECK(open_accepted(&s, cust, rc, rc_len));
        free(rc);
    }
    parley_identity_free(cust);
    parley_identity_free(other);
    scene_free(&s);
}

static void test_swapped_conversation(void)
{
    struct scene s;
    uint8_t other[16], *env;
    size_t before, len;
    int to_alice, to_bob, mark, i;

    printf("hostile: a swapped conversation id is refused (EWRONGCONVERSATION)\n");
    scene_init(&s, &w);
    /* The Opens are carried, then the relay forwards bob's under another conversation id. */
    before = s.relay.n_cap;
    s.relay.drop_next = 2;
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "support", "Bonjour", s.conv, s.relay.now));
    mr_pump(&s.relay);
    to_alice = capture_to(&s.relay, before, &s.alice);
    to_bob = capture_to(&s.relay, before, &s.bob);
    CHECK(to_alice >= 0 && to_bob >= 0);
    randombytes_buf(other, sizeof(other));
    forge_rewrap(s.relay.cap[to_bob].env.p, s.relay.cap[to_bob].env.n, false, other, &env, &len);
    mark = s.bob.n_events;
    inject_and_pump(&s, &s.bob, env, len);
    free(env);
    CHECK(mr_rejected_since(&s.bob, mark, PARLEY_EWRONGCONVERSATION));
    CHECK(mr_count_since(&s.bob, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(mr_count_since(&s.bob, mark, PARLEY_EV_CONVERSATION) == 0);
    check_all_acknowledged(&s, &s.bob);
    inject_and_pump(&s, &s.alice, s.relay.cap[to_alice].env.p, s.relay.cap[to_alice].env.n);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED));
    CHECK_OK(parley__core_claim(s.alice.core, s.conv, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.customer, s.conv, PARLEY_CONV_ACTIVE));

    /* In an active conversation: a text moved to another conversation id. */
    before = s.relay.n_cap;
    s.relay.drop_next = 1;
    scene_say(&s, &s.alice, "Pour vous");
    i = capture_to(&s.relay, before, &s.customer);
    CHECK(i >= 0 && mr_text_count(&s.customer, "Pour vous") == 0);
    forge_rewrap(s.relay.cap[i].env.p, s.relay.cap[i].env.n, true, other, &env, &len);
    mark = s.customer.n_events;
    inject_and_pump(&s, &s.customer, env, len);
    free(env);
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_MESSAGE) == 0);
    CHECK(mr_count_since(&s.customer, mark, PARLEY_EV_REJECTED) == 1);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EWRONGCONVERSATION) ||
          mr_rejected_since(&s.customer, mark, PARLEY_EBADSEAL));
    check_all_acknowledged(&s, &s.customer);
    scene_free(&s);
}

static void test_foreign_prekey(void)
{
    struct scene s;
    parley_identity *made_up;
    uint8_t *pk, box_pk[32], box_sk[32];
    size_t pk_len, before;
    struct keyring relay_keys;
    int mark;

    printf("hostile: a prekey the relay made up is refused (EBADSIG), nothing sealed to it nor "
           "to the long-term key; the Open waits for a genuine one\n");
    scene_init(&s, &w);
    CHECK_OK(parley_identity_generate(&made_up));
    crypto_box_keypair(box_pk, box_sk);
    forge_prekey(s.alice.sign_pk, made_up->secret->sign_sk, box_pk, &pk, &pk_len);
    s.relay.serve_prekey.p = pk;
    s.relay.serve_prekey.n = pk_len;
    mark = s.customer.n_events;
    before = s.relay.n_cap;
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    CHECK_OK(parley__core_open(s.customer.core, "support", "Bonjour", s.conv, s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_rejected_since(&s.customer, mark, PARLEY_EBADSIG));
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED) !=
          mr_state_is(&s.bob, s.conv, PARLEY_CONV_QUEUED));
    keyring_init(&relay_keys);
    keyring_add(&relay_keys, box_sk, "relay");
    keyring_add(&relay_keys, w.agents[W_ALICE]->secret->box_sk, "keyfile");
    keyring_add(&relay_keys, w.agents[W_BOB]->secret->box_sk, "keyfile");
    for (size_t i = before; i < s.relay.n_cap; i++)
        CHECK(keyring_opens(&relay_keys, s.relay.cap[i].env.p, s.relay.cap[i].env.n) < 0);
    /* Asked again a minute later: a genuine prekey, and the Open arrives. */
    mr_advance(&s.relay, 60000);
    mr_pump(&s.relay);
    CHECK(mr_state_is(&s.alice, s.conv, PARLEY_CONV_QUEUED));
    CHECK(mr_state_is(&s.bob, s.conv, PARLEY_CONV_QUEUED));
    CHECK(mr_text_count(&s.alice, "Bonjour") == 1 && mr_text_count(&s.bob, "Bonjour") == 1);
    for (size_t i = before; i < s.relay.n_cap; i++)
        CHECK(keyring_opens(&relay_keys, s.relay.cap[i].env.p, s.relay.cap[i].env.n) < 0);
    keyring_free(&relay_keys);
    sodium_memzero(box_sk, sizeof(box_sk));
    parley_identity_free(made_up);
    scene_free(&s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    world_init(&w);
    test_duplicate_same_id();
    test_duplicate_new_id();
    test_drop();
    test_reorder();
    test_replay_later();
    test_typing_replay();
    test_foreign_directory();
    test_rollback_directory();
    test_foreign_claim();
    test_forged_senders();
    test_bad_consent();
    test_swapped_conversation();
    test_foreign_prekey();
    world_free(&w);
    printf("ok\n");
    return 0;
}
