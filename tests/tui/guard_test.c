/*
 * The sensitive-data guard of the clients: --guard parsing, the default
 * policy, the descriptions shown to a person, and parley-agent's
 * second-Enter confirmation (a warning holds, Enter again on the same
 * text sends, an edit or another conversation warns again; block holds;
 * redact sends the copy). No status line may carry the text itself.
 */
#include <string.h>

#include "check.h"
#include "guard.h"

#define CARD "4970 1012 3456 7893" /* Visa range, Luhn-valid */

static const uint8_t conv_a[16] = {1};
static const uint8_t conv_b[16] = {2};

static enum guard_decision submit(struct guard *g, const uint8_t conv[16], const char *text,
                                  char *note, size_t cap, char *sent, size_t sent_cap)
{
    struct scanguard_result r;
    enum guard_decision d = guard_submit(g, conv, text, &r, note, cap);

    CHECK(strstr(note, "7893") == NULL);
    sent[0] = '\0';
    if (d == GUARD_SEND_REDACTED) {
        CHECK(r.redacted != NULL);
        snprintf(sent, sent_cap, "%s", r.redacted);
    } else if (d == GUARD_SEND) {
        CHECK(r.redacted == NULL);
    }
    scanguard_result_wipe(&r);
    return d;
}

static void test_parse(void)
{
    parley_scan_policy p, before;
    char err[256];

    scanguard_policy_default(&p);
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        CHECK(p.action[c] == (c == PARLEY_SCAN_EMAIL || c == PARLEY_SCAN_PHONE ? PARLEY_SCAN_ALLOW
                                                                               : PARLEY_SCAN_WARN));
    CHECK(scanguard_policy_parse(&p, "card=block,iban=redact,health=warn,email=allow", err,
                                 sizeof(err)) == 0);
    CHECK(p.action[PARLEY_SCAN_CARD] == PARLEY_SCAN_BLOCK);
    CHECK(p.action[PARLEY_SCAN_IBAN] == PARLEY_SCAN_REDACT);
    CHECK(p.action[PARLEY_SCAN_NIR] == PARLEY_SCAN_WARN);
    CHECK(scanguard_policy_parse(&p, "sexual_orientation=allow", err, sizeof(err)) == 0);
    CHECK(p.action[PARLEY_SCAN_SEXUAL_ORIENTATION] == PARLEY_SCAN_ALLOW);
    CHECK(p.action[PARLEY_SCAN_CARD] == PARLEY_SCAN_BLOCK); /* on top of the earlier spec */

    before = p;
    CHECK(scanguard_policy_parse(&p, "nir=allow,cards=warn", err, sizeof(err)) == -1);
    CHECK(strstr(err, "unknown category \"cards\"") != NULL);
    CHECK(memcmp(&p, &before, sizeof(p)) == 0); /* nir=allow not half-applied */
    CHECK(scanguard_policy_parse(&p, "card=shout", err, sizeof(err)) == -1);
    CHECK(strstr(err, "unknown action \"shout\"") != NULL);
    CHECK(scanguard_policy_parse(&p, "card", err, sizeof(err)) == -1);
    CHECK(scanguard_policy_parse(&p, "", err, sizeof(err)) == -1);
    CHECK(scanguard_policy_parse(&p, "card=warn,", err, sizeof(err)) == -1);
    CHECK(scanguard_policy_parse(&p, ",card=warn", err, sizeof(err)) == -1);
    CHECK(scanguard_policy_parse(&p, "card=Warn", err, sizeof(err)) == -1);
    CHECK(scanguard_policy_parse(&p, "=warn", err, sizeof(err)) == -1);
    CHECK(memcmp(&p, &before, sizeof(p)) == 0);
}

static void test_check_and_words(void)
{
    parley_scan_policy p;
    struct scanguard_result r;
    char buf[256];

    scanguard_policy_default(&p);
    CHECK_OK(scanguard_check(&p, "My card is " CARD ", thanks", &r));
    CHECK(r.verdict == PARLEY_SCAN_WARNED && r.warn == SCANGUARD_BIT(PARLEY_SCAN_CARD));
    CHECK(r.block == 0 && r.redact == 0 && r.redacted == NULL);
    CHECK_OK(scanguard_check(&p, "write to jane.doe@example.com or call 06 12 34 56 78", &r));
    CHECK(r.verdict == PARLEY_SCAN_PASS && r.warn == 0); /* allowed by default */
    CHECK_OK(scanguard_check(&p, "Where is my order 4471-2231?", &r));
    CHECK(r.verdict == PARLEY_SCAN_PASS);
    CHECK_OK(scanguard_check(&p, "", &r));
    CHECK(r.verdict == PARLEY_SCAN_PASS);

    CHECK(strcmp(scanguard_names(0, buf, sizeof(buf)), "") == 0);
    CHECK(
        strcmp(scanguard_names(SCANGUARD_BIT(PARLEY_SCAN_CARD) | SCANGUARD_BIT(PARLEY_SCAN_HEALTH),
                               buf, sizeof(buf)),
               "health, card") == 0);
    CHECK(strcmp(scanguard_describe(SCANGUARD_BIT(PARLEY_SCAN_CARD), buf, sizeof(buf)),
                 "a payment card number (card)") == 0);
    CHECK(strcmp(scanguard_describe(SCANGUARD_BIT(PARLEY_SCAN_HEALTH) |
                                        SCANGUARD_BIT(PARLEY_SCAN_CARD) |
                                        SCANGUARD_BIT(PARLEY_SCAN_IBAN),
                                    buf, sizeof(buf)),
                 "health information (health), a payment card number (card) and a bank "
                 "account number (iban)") == 0);
    /* Cut, still terminated. */
    CHECK(strlen(scanguard_describe(
              SCANGUARD_BIT(PARLEY_SCAN_HEALTH) | SCANGUARD_BIT(PARLEY_SCAN_CARD), buf, 10)) < 10);
}

static void test_confirm(void)
{
    parley_scan_policy p;
    struct guard g;
    char note[256], sent[256];
    const char *warned = "My card is " CARD ", thanks";

    scanguard_policy_default(&p);
    guard_init(&g, &p);

    /* Nothing sensitive: sent at once, nothing to say. */
    CHECK(submit(&g, conv_a, "Bonjour, votre colis est parti", note, sizeof(note), sent,
                 sizeof(sent)) == GUARD_SEND);
    CHECK(note[0] == '\0' && !guard_pending(&g));

    /* A warning holds; Enter again on the same text sends. */
    CHECK(submit(&g, conv_a, warned, note, sizeof(note), sent, sizeof(sent)) == GUARD_HOLD);
    CHECK(strcmp(note, "sensitive: card \xe2\x80\x94 Enter again to send, Esc to edit") == 0);
    CHECK(guard_pending(&g));
    CHECK(submit(&g, conv_a, warned, note, sizeof(note), sent, sizeof(sent)) == GUARD_SEND);
    CHECK(!guard_pending(&g));
    /* Confirmed once is not confirmed for ever. */
    CHECK(submit(&g, conv_a, warned, note, sizeof(note), sent, sizeof(sent)) == GUARD_HOLD);

    /* An edit in between, another text, another conversation: warned again. */
    guard_reset(&g);
    CHECK(!guard_pending(&g));
    CHECK(submit(&g, conv_a, warned, note, sizeof(note), sent, sizeof(sent)) == GUARD_HOLD);
    CHECK(submit(&g, conv_a, "My card is " CARD ", thanks!", note, sizeof(note), sent,
                 sizeof(sent)) == GUARD_HOLD);
    CHECK(submit(&g, conv_b, "My card is " CARD ", thanks!", note, sizeof(note), sent,
                 sizeof(sent)) == GUARD_HOLD);
    CHECK(submit(&g, conv_b, "My card is " CARD ", thanks!", note, sizeof(note), sent,
                 sizeof(sent)) == GUARD_SEND);

    /* A plain message between the two Enters drops the pending warning. */
    CHECK(submit(&g, conv_a, warned, note, sizeof(note), sent, sizeof(sent)) == GUARD_HOLD);
    CHECK(submit(&g, conv_a, "hello", note, sizeof(note), sent, sizeof(sent)) == GUARD_SEND);
    CHECK(submit(&g, conv_a, warned, note, sizeof(note), sent, sizeof(sent)) == GUARD_HOLD);
    guard_free(&g);

    /* Block: held however often Enter is pressed. */
    CHECK(scanguard_policy_parse(&p, "card=block", note, sizeof(note)) == 0);
    guard_init(&g, &p);
    for (int i = 0; i < 3; i++) {
        CHECK(submit(&g, conv_a, warned, note, sizeof(note), sent, sizeof(sent)) == GUARD_HOLD);
        CHECK(strstr(note, "not sent: card is blocked") != NULL);
        CHECK(!guard_pending(&g));
    }
    guard_free(&g);

    /* Redact: the copy goes, with the marker; with a warning too, after the second Enter. */
    CHECK(scanguard_policy_parse(&p, "card=redact", note, sizeof(note)) == 0);
    guard_init(&g, &p);
    CHECK(submit(&g, conv_a, warned, note, sizeof(note), sent, sizeof(sent)) ==
          GUARD_SEND_REDACTED);
    CHECK(strcmp(sent, "My card is [card], thanks") == 0);
    CHECK(strcmp(note, "sent with card replaced by a marker") == 0);
    CHECK(submit(&g, conv_a, "I am pregnant, my card is " CARD, note, sizeof(note), sent,
                 sizeof(sent)) == GUARD_HOLD);
    CHECK(strstr(note, "sensitive: health ") == note);
    CHECK(submit(&g, conv_a, "I am pregnant, my card is " CARD, note, sizeof(note), sent,
                 sizeof(sent)) == GUARD_SEND_REDACTED);
    CHECK(strcmp(sent, "I am pregnant, my card is [card]") == 0);
    guard_free(&g);
}

int main(void)
{
    CHECK(parley_init() == PARLEY_OK);
    test_parse();
    test_check_and_words();
    test_confirm();
    return 0;
}
