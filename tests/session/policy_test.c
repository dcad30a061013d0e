/*
 * The brand's policy as every client applies it: the guard policy, the
 * history retention and the legal hold the brand signs into its
 * directory reach each client intact; the policy a client applies is,
 * category by category, the stricter of the brand's and its own; and the
 * library itself refuses to send what the brand blocks or has redacted,
 * whatever the host application does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "world.h"

#define CARD "4970 1012 3456 7893" /* Luhn-valid */

static struct world w;

#define DAY_MS (86400ull * 1000u)

static int count_row(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                     size_t val_len)
{
    (void)key, (void)key_len, (void)val, (void)val_len;
    (*(int *)arg)++;
    return 0;
}

/* Rows of a table in p's store, those whose key starts with prefix (NULL: all). */
static int rows(struct mr_party *p, const char *table, const uint8_t *prefix, size_t prefix_len)
{
    int n = 0;

    CHECK_OK(parley__vault_scan(p->vault, table, prefix, prefix_len, count_row, &n));
    return n;
}

/* p's device restarts with its host's history retention set to days. */
static void restart_keeping(struct scene *s, struct mr_party *p, uint32_t days)
{
    mr_crash(p);
    p->history_retention_days = days;
    mr_restart(p);
    mr_connect(p);
    mr_pump(&s->relay);
}

static void tick_at(struct scene *s, struct mr_party *p, uint64_t advance_ms)
{
    mr_advance(&s->relay, advance_ms);
    parley__core_tick(p->core, s->relay.now);
}

static void allow_all(parley_scan_policy *p)
{
    memset(p, 0, sizeof(*p));
}

static parley_err open_dir(parley_directory **d, const uint8_t *dir, size_t len)
{
    uint8_t key[32];

    parley_directory_key(w.brand, key);
    return parley_directory_open(d, dir, len, parley_identity_sign_pk(w.brand), W_BRAND, key, 0,
                                 W_T0 / 1000u);
}

/* A scene whose parties all hold directory v3 carrying *policy. */
static void scene_with_policy(struct scene *s, const parley_directory_spec *policy)
{
    uint8_t *dir;
    size_t len;

    scene_init(s, &w);
    world_directory_policy(&w, 3, policy, &dir, &len);
    scene_serve_directory(s, &s->customer, dir, len);
    scene_serve_directory(s, &s->alice, dir, len);
    scene_serve_directory(s, &s->bob, dir, len);
    CHECK(parley_directory_version(parley__core_directory(s->customer.core)) == 3);
    CHECK(parley_directory_version(parley__core_directory(s->alice.core)) == 3);
    parley_free(dir, len);
}

static void test_fields_signed(void)
{
    parley_scan_policy guard, got;
    parley_directory_spec policy;
    parley_directory *d;
    uint8_t *dir;
    size_t len;

    printf("policy: guard, history days and legal hold reach clients as the brand signed them\n");
    allow_all(&guard);
    guard.action[PARLEY_SCAN_CARD] = PARLEY_SCAN_BLOCK;
    guard.action[PARLEY_SCAN_IBAN] = PARLEY_SCAN_REDACT;
    guard.action[PARLEY_SCAN_HEALTH] = PARLEY_SCAN_CONFIRM;
    guard.action[PARLEY_SCAN_PHONE] = PARLEY_SCAN_WARN;
    guard.min_confidence = 90; /* not signed: the brand's policy acts on every finding */
    guard.mask = '#';
    memset(&policy, 0, sizeof(policy));
    policy.guard = &guard;
    policy.history_days = 30;
    policy.legal_hold_days = 400;
    world_directory_policy(&w, 3, &policy, &dir, &len);
    CHECK_OK(open_dir(&d, dir, len));
    parley_directory_guard_policy(d, &got);
    for (int c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        CHECK(got.action[c] == guard.action[c]);
    CHECK(got.min_confidence == 0 && got.mask == 0);
    CHECK(parley_directory_history_days(d) == 30);
    CHECK(parley_directory_legal_hold_days(d) == 400);
    /* A legal hold is a duration of keeping on erasure: it implies it. */
    CHECK(parley_directory_keep_on_erasure(d) == 1);
    parley_directory_free(d);
    parley_free(dir, len);

    /* A directory without a policy: everything allowed, nothing set. */
    CHECK_OK(open_dir(&d, w.dir_v2, w.dir_v2_len));
    parley_directory_guard_policy(d, &got);
    for (int c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        CHECK(got.action[c] == PARLEY_SCAN_ALLOW);
    CHECK(parley_directory_history_days(d) == 0 && parley_directory_legal_hold_days(d) == 0);
    CHECK(parley_directory_keep_on_erasure(d) == 0);
    parley_directory_free(d);

    /* The builder refuses an action it does not know. */
    guard.action[PARLEY_SCAN_EMAIL] = (parley_scan_action)9;
    {
        static const char *const support[] = {"alice"};
        parley_queue_spec q = {"support", support, 1};
        parley_directory_spec spec;

        memset(&spec, 0, sizeof(spec));
        spec.brand_id = W_BRAND;
        spec.version = 4;
        spec.certs = (const uint8_t *const *)w.certs;
        spec.cert_lens = w.cert_lens;
        spec.n_certs = 1;
        spec.notice_text = "n";
        spec.notice_version = 1;
        spec.queues = &q;
        spec.n_queues = 1;
        spec.issued_at = W_T0 / 1000u;
        spec.guard = &guard;
        dir = NULL;
        CHECK_ERR(parley_directory_build(w.brand, &spec, &dir, &len), PARLEY_EINVAL);
        CHECK(dir == NULL);
    }
}

static void test_stricter_of_both(void)
{
    parley_scan_policy guard, local, out;
    parley_directory_spec policy;
    struct scene s;

    printf("policy: a client applies the stricter of the brand's policy and its own\n");
    allow_all(&guard);
    guard.action[PARLEY_SCAN_CARD] = PARLEY_SCAN_BLOCK;
    guard.action[PARLEY_SCAN_HEALTH] = PARLEY_SCAN_WARN;
    memset(&policy, 0, sizeof(policy));
    policy.guard = &guard;
    scene_with_policy(&s, &policy);

    /* A laxer host: allow everything, with its own mask and threshold. */
    allow_all(&local);
    local.min_confidence = 70;
    local.mask = '*';
    local.action[PARLEY_SCAN_RELIGION] = PARLEY_SCAN_REDACT;
    CHECK_OK(parley_session_scan_policy(s.customer.session, &local, &out));
    CHECK(out.action[PARLEY_SCAN_CARD] == PARLEY_SCAN_BLOCK);
    CHECK(out.action[PARLEY_SCAN_HEALTH] == PARLEY_SCAN_WARN);
    CHECK(out.action[PARLEY_SCAN_RELIGION] == PARLEY_SCAN_REDACT); /* its own, stricter */
    CHECK(out.action[PARLEY_SCAN_IBAN] == PARLEY_SCAN_ALLOW);
    CHECK(out.min_confidence == 0 && out.mask == '*');
    /* A stricter host keeps its own. */
    local.action[PARLEY_SCAN_HEALTH] = PARLEY_SCAN_BLOCK;
    CHECK_OK(parley_session_scan_policy(s.alice.session, &local, &out));
    CHECK(out.action[PARLEY_SCAN_HEALTH] == PARLEY_SCAN_BLOCK);
    /* No local policy: the library's default (which redacts IBANs), under the brand's. */
    CHECK_OK(parley_session_scan_policy(s.customer.session, NULL, &out));
    CHECK(out.action[PARLEY_SCAN_CARD] == PARLEY_SCAN_BLOCK);
    CHECK(out.action[PARLEY_SCAN_IBAN] == PARLEY_SCAN_REDACT);
    /* Bad arguments. */
    CHECK_ERR(parley_session_scan_policy(s.customer.session, &local, NULL), PARLEY_EINVAL);
    local.action[PARLEY_SCAN_PHONE] = (parley_scan_action)7;
    CHECK_ERR(parley_session_scan_policy(s.customer.session, &local, &out), PARLEY_EINVAL);
    scene_free(&s);
}

static void test_library_refuses(void)
{
    parley_scan_policy guard;
    parley_directory_spec policy;
    struct scene s;
    uint8_t conv[16];
    size_t before;

    printf("policy: what the brand blocks or redacts is refused by the library (EPOLICY)\n");
    allow_all(&guard);
    guard.action[PARLEY_SCAN_CARD] = PARLEY_SCAN_BLOCK;
    guard.action[PARLEY_SCAN_IBAN] = PARLEY_SCAN_REDACT;
    guard.action[PARLEY_SCAN_HEALTH] = PARLEY_SCAN_WARN; /* warnings are the host's to ask */
    memset(&policy, 0, sizeof(policy));
    policy.guard = &guard;
    scene_with_policy(&s, &policy);

    /* A host that ignores the policy cannot open with a card number... */
    CHECK_OK(parley__core_consent(s.customer.core, NULL, 0, s.relay.now));
    before = s.relay.n_stored;
    CHECK_ERR(parley__core_open(s.customer.core, "support", "card " CARD, conv, s.relay.now),
              PARLEY_EPOLICY);
    mr_pump(&s.relay);
    CHECK(s.relay.n_stored == before);
    CHECK(parley__core_outbox_size(s.customer.core) == 0);
    /* ... nor send an IBAN the brand redacts; the redacted copy goes. Health data goes
     * with the customer's explicit consent (session-special). */
    CHECK_OK(parley__core_special_consent(s.customer.core, NULL,
                                          PARLEY_SCAN_BIT(PARLEY_SCAN_HEALTH), "health: yes",
                                          s.relay.now));
    scene_open(&s, "Bonjour, j'ai du diab\xc3\xa8te");
    scene_claim(&s);
    CHECK_ERR(parley__core_send_text(s.customer.core, s.conv, "IBAN FR76 3000 6000 0112 3456 7890 189",
                                     NULL, s.relay.now),
              PARLEY_EPOLICY);
    scene_say(&s, &s.customer, "IBAN [iban]");
    CHECK(mr_text_count(&s.alice, "IBAN [iban]") == 1);
    /* Agents too. */
    CHECK_ERR(parley__core_send_text(s.alice.core, s.conv, "Your card " CARD "?", NULL,
                                     s.relay.now),
              PARLEY_EPOLICY);
    CHECK(parley__core_outbox_size(s.alice.core) == 0);
    scene_say(&s, &s.alice, "Noted.");
    CHECK(mr_text_count(&s.customer, "Noted.") == 1);
    CHECK(mr_text_count(&s.customer, CARD) == 0 && mr_text_count(&s.alice, "FR76") == 0);
    scene_free(&s);
}

static void test_retention_receive_time(void)
{
    parley_directory_spec policy;
    struct scene s;
    int seen_before;

    printf("retention: counted from this device's receive time; the conversation goes whole\n");
    memset(&policy, 0, sizeof(policy));
    policy.history_days = 10;
    scene_with_policy(&s, &policy);
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    /* The customer's clock is three weeks behind: by its time the message is already old. */
    CHECK_OK(parley__core_send_text(s.customer.core, s.conv, "from a slow clock", NULL,
                                    s.relay.now - 21 * DAY_MS));
    mr_pump(&s.relay);
    CHECK(mr_text_count(&s.alice, "from a slow clock") == 1);
    CHECK(rows(&s.alice, "history", s.conv, 16) == 2);
    seen_before = rows(&s.alice, "seen", NULL, 0);
    CHECK(seen_before >= 2);
    tick_at(&s, &s.alice, 9 * DAY_MS);
    CHECK(rows(&s.alice, "history", s.conv, 16) == 2); /* nine days after it arrived */
    CHECK(rows(&s.alice, "conv", s.conv, 16) == 1);
    /* Past ten days: history, the seen ids of its envelopes, the conversation record
     * (consent receipt, the customer's keys) are gone. */
    tick_at(&s, &s.alice, 2 * DAY_MS);
    CHECK(rows(&s.alice, "history", s.conv, 16) == 0);
    CHECK(rows(&s.alice, "conv", s.conv, 16) == 0);
    CHECK(rows(&s.alice, "seen", NULL, 0) <= seen_before - 2);
    /* The customer holds the same directory: its copy goes on its own clock too. */
    CHECK(rows(&s.customer, "conv", s.conv, 16) == 1);
    parley__core_tick(s.customer.core, s.relay.now);
    CHECK(rows(&s.customer, "history", s.conv, 16) == 0);
    CHECK(rows(&s.customer, "conv", s.conv, 16) == 0);
    scene_free(&s);
}

static void test_retention_stricter(void)
{
    parley_directory_spec policy;
    struct scene s;

    printf("retention: the shorter of the brand's and the device's; 180 days when neither says\n");
    memset(&policy, 0, sizeof(policy));
    policy.history_days = 10;
    scene_with_policy(&s, &policy);
    /* alice's host would keep a year; bob's three days. */
    restart_keeping(&s, &s.alice, 365);
    restart_keeping(&s, &s.bob, 3);
    scene_open(&s, "Bonjour");
    tick_at(&s, &s.bob, 4 * DAY_MS);
    CHECK(rows(&s.bob, "history", s.conv, 16) == 0 && rows(&s.bob, "conv", s.conv, 16) == 0);
    parley__core_tick(s.alice.core, s.relay.now);
    CHECK(rows(&s.alice, "history", s.conv, 16) == 1);
    tick_at(&s, &s.alice, 7 * DAY_MS);
    CHECK(rows(&s.alice, "history", s.conv, 16) == 0 && rows(&s.alice, "conv", s.conv, 16) == 0);
    scene_free(&s);

    /* No brand limit, no host limit: the library's default. */
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    tick_at(&s, &s.alice, (PARLEY_HISTORY_DEFAULT_DAYS - 1) * DAY_MS);
    CHECK(rows(&s.alice, "history", s.conv, 16) == 1);
    tick_at(&s, &s.alice, 2 * DAY_MS);
    CHECK(rows(&s.alice, "history", s.conv, 16) == 0 && rows(&s.alice, "conv", s.conv, 16) == 0);
    scene_free(&s);
}

static void test_legal_hold(void)
{
    parley_directory_spec policy;
    struct scene s;

    printf("retention: a conversation kept on erasure goes when its legal hold runs out\n");
    memset(&policy, 0, sizeof(policy));
    policy.history_days = 10;
    policy.legal_hold_days = 30;
    scene_with_policy(&s, &policy);
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    tick_at(&s, &s.alice, 5 * DAY_MS);
    CHECK_OK(parley__core_erase(s.customer.core, s.relay.now));
    mr_pump(&s.relay);
    CHECK(rows(&s.alice, "history", s.conv, 16) == 1); /* kept and marked */
    /* Past the history retention, inside the hold: kept. */
    tick_at(&s, &s.alice, 29 * DAY_MS);
    CHECK(rows(&s.alice, "history", s.conv, 16) == 1 && rows(&s.alice, "conv", s.conv, 16) == 1);
    /* Thirty days after the request: gone whole. */
    tick_at(&s, &s.alice, 1 * DAY_MS + 1);
    CHECK(rows(&s.alice, "history", s.conv, 16) == 0 && rows(&s.alice, "conv", s.conv, 16) == 0);
    scene_free(&s);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_export_customer(void)
{
    parley_directory_spec policy;
    struct scene s;
    uint8_t second[16], customer[32];
    char *json = NULL;
    size_t len = 0;

    printf("export: every conversation of one customer, with what art. 15 asks for\n");
    memset(&policy, 0, sizeof(policy));
    policy.history_days = 90;
    policy.legal_hold_days = 400;
    scene_with_policy(&s, &policy);
    scene_open(&s, "first question");
    scene_claim(&s);
    CHECK_OK(parley__core_open(s.customer.core, "support", "second question", second,
                               s.relay.now));
    mr_pump(&s.relay);
    CHECK(mr_text_count(&s.alice, "second question") == 1);
    memcpy(customer, parley__core_sign_pk(s.customer.core), 32);
    CHECK_OK(parley_session_export_customer(s.alice.session, customer, &json, &len));
    CHECK(strlen(json) == len && json[len - 1] == '\n');
    CHECK(strstr(json, "\"format\":\"parley-customer-export-v1\"") != NULL);
    CHECK(count_of(json, "\"format\":\"parley-export-v1\"") == 2);
    CHECK(strstr(json, "first question") != NULL && strstr(json, "second question") != NULL);
    CHECK(count_of(json, "\"processing\":{\"controller\":\"acme\"") == 2);
    CHECK(strstr(json, "\"history_days\":90,\"counted_from\":\"receipt on this device\","
                       "\"legal_hold_days\":400") != NULL);
    CHECK(strstr(json, "{\"kind\":\"agent\",\"agent_id\":\"alice\"}") != NULL);
    CHECK(strstr(json, "\"role\":\"processor\"") != NULL && strstr(json, "\"source\":") != NULL);
    parley_free(json, len);
    /* Another key: nothing of this customer. */
    customer[0] ^= 1;
    CHECK_OK(parley_session_export_customer(s.alice.session, customer, &json, &len));
    CHECK(strstr(json, "\"conversations\":[]") != NULL && strstr(json, "question") == NULL);
    parley_free(json, len);
    CHECK_ERR(parley_session_export_customer(s.alice.session, NULL, &json, &len), PARLEY_EINVAL);
    scene_free(&s);
}

static void test_wipe_after_erasure(void)
{
    struct scene s;

    printf("erase --local: the customer's store is wiped once the relay confirmed, not before\n");
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    CHECK_ERR(parley_session_wipe(s.customer.session), PARLEY_ESTATE); /* no erasure asked */
    CHECK_OK(parley__core_erase(s.customer.core, s.relay.now));
    CHECK_ERR(parley_session_wipe(s.customer.session), PARLEY_ESTATE); /* not confirmed yet */
    CHECK(memstore_rows(s.customer.ms, NULL) > 0);
    mr_pump(&s.relay);
    CHECK(mr_count(&s.customer, PARLEY_EV_ERASED) == 1);
    CHECK(memstore_rows(s.customer.ms, "conv") == 1); /* erasure alone keeps the customer's copy */
    CHECK_OK(parley_session_wipe(s.customer.session));
    CHECK(memstore_rows(s.customer.ms, NULL) == 0);
    /* Nothing is written afterwards: not on the clock, not on a reconnection, not on consent. */
    tick_at(&s, &s.customer, 2 * DAY_MS);
    mr_disconnect(&s.customer);
    mr_connect(&s.customer);
    mr_pump(&s.relay);
    CHECK_ERR(parley__core_consent(s.customer.core, NULL, 0, s.relay.now), PARLEY_ESTATE);
    CHECK(memstore_rows(s.customer.ms, NULL) == 0);
    /* Agents have nothing of the kind. */
    CHECK_ERR(parley_session_wipe(s.alice.session), PARLEY_ESTATE);
    scene_free(&s);
}

static int collect_text(void *user, const parley_history_entry *e)
{
    char *all = user;
    size_t n = strlen(all);

    snprintf(all + n, 1024 - n, "%s|", e->text);
    return 0;
}

static void test_redact_received(void)
{
    struct scene s;
    char all[1024];

    printf("redact: one received message, in this device's store only\n");
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    CHECK_OK(parley__core_special_consent(s.customer.core, s.conv,
                                          PARLEY_SCAN_BIT(PARLEY_SCAN_HEALTH), "health: yes",
                                          s.relay.now));
    scene_say(&s, &s.customer, "je suis enceinte et diab\xc3\xa9tique");
    scene_say(&s, &s.alice, "Merci, je note.");
    scene_say(&s, &s.customer, "rien de sp\xc3\xa9" "cial");
    /* Counting back from the last message received: 2 is the health one. */
    CHECK_OK(parley_session_conversation_redact(s.alice.session, s.conv, 2));
    all[0] = '\0';
    CHECK_OK(parley__core_history(s.alice.core, s.conv, collect_text, all));
    CHECK(strstr(all, "enceinte") == NULL && strstr(all, "[health]") != NULL);
    CHECK(strstr(all, "Bonjour|") != NULL && strstr(all, "Merci, je note.|") != NULL);
    CHECK(strstr(all, "rien de sp\xc3\xa9" "cial|") != NULL);
    /* Nothing found by the guard: the whole text goes. */
    CHECK_OK(parley_session_conversation_redact(s.alice.session, s.conv, 1));
    all[0] = '\0';
    CHECK_OK(parley__core_history(s.alice.core, s.conv, collect_text, all));
    CHECK(strstr(all, "rien de") == NULL && strstr(all, "[redacted]|") != NULL);
    /* The customer's own copy is untouched. */
    all[0] = '\0';
    CHECK_OK(parley__core_history(s.customer.core, s.conv, collect_text, all));
    CHECK(strstr(all, "enceinte") != NULL);
    /* No such message. */
    CHECK_ERR(parley_session_conversation_redact(s.alice.session, s.conv, 4), PARLEY_EINVAL);
    CHECK_ERR(parley_session_conversation_redact(s.alice.session, s.conv, 0), PARLEY_EINVAL);
    scene_free(&s);
}

int main(void)
{
    world_init(&w);
    test_fields_signed();
    test_stricter_of_both();
    test_library_refuses();
    test_retention_receive_time();
    test_retention_stricter();
    test_legal_hold();
    test_export_customer();
    test_wipe_after_erasure();
    test_redact_received();
    world_free(&w);
    return 0;
}
