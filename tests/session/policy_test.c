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
    /* ... nor send an IBAN the brand redacts; the redacted copy goes. */
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

int main(void)
{
    world_init(&w);
    test_fields_signed();
    test_stricter_of_both();
    test_library_refuses();
    world_free(&w);
    return 0;
}
