/*
 * Unit checks of the sensitive-data guard: each identifier's checksum
 * (Luhn, IBAN mod 97, NIR key with the Corsican 2A/2B rule), e-mail edge
 * cases, the hard negatives that must not fire, the lexicon's folding of
 * case and accents, and what each policy does to a text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "parley/scan.h"

#define MAX 32

static size_t scan(const char *text, parley_scan_finding *f)
{
    size_t n = 0;

    CHECK_OK(parley_scan(text, strlen(text), f, MAX, &n));
    return n;
}

/*
 * Exactly one finding, of category c, over substring want: covering it
 * exactly, or (exact false) overlapping it.
 */
static void expect_span(const char *text, parley_scan_category c, const char *want, int exact)
{
    parley_scan_finding f[MAX];
    size_t n = scan(text, f);
    const char *at = strstr(text, want);
    size_t a = at ? (size_t)(at - text) : 0, b = a + strlen(want);
    int ok = n == 1 && f[0].category == c && at != NULL &&
             (exact ? f[0].start == a && f[0].end == b : f[0].start < b && f[0].end > a);

    if (!ok) {
        fprintf(stderr, "text: %s\nwanted one %s at \"%s\", got %zu:\n", text,
                parley_scan_category_name(c), want, n);
        for (size_t i = 0; i < n && i < MAX; i++)
            fprintf(stderr, "  %s [%zu, %zu)\n", parley_scan_category_name(f[i].category),
                    f[i].start, f[i].end);
        CHECK(0);
    }
}

static void expect_one(const char *text, parley_scan_category c, const char *want)
{
    expect_span(text, c, want, 1);
}

/* Lexicon spans may take in a word of context: only the overlap is checked. */
static void expect_about(const char *text, parley_scan_category c, const char *want)
{
    expect_span(text, c, want, 0);
}

static void expect_none(const char *text)
{
    parley_scan_finding f[MAX];
    size_t n = scan(text, f);

    if (n != 0) {
        fprintf(stderr, "text: %s\nwanted nothing, got %s [%zu, %zu)\n", text,
                parley_scan_category_name(f[0].category), f[0].start, f[0].end);
        CHECK(0);
    }
}

static void test_names(void)
{
    static const char *const names[] = {"health",    "religion",
                                        "politics",  "union",
                                        "ethnicity", "sexual_orientation",
                                        "biometric", "card",
                                        "iban",      "nir",
                                        "email",     "phone"};

    for (int c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        CHECK(strcmp(parley_scan_category_name((parley_scan_category)c), names[c]) == 0);
    CHECK(parley_scan_category_name(PARLEY_SCAN_CATEGORY_COUNT) == NULL);
}

static void test_card(void)
{
    expect_one("card 4970 1012 3456 7893 please", PARLEY_SCAN_CARD, "4970 1012 3456 7893");
    expect_one("carte 4970-1012-3456-7893.", PARLEY_SCAN_CARD, "4970-1012-3456-7893");
    expect_one("4970101234567893", PARLEY_SCAN_CARD, "4970101234567893");
    expect_one("Amex 3782 822463 10005", PARLEY_SCAN_CARD, "3782 822463 10005");
    expect_one("MC 5555555555554444 exp 09/27", PARLEY_SCAN_CARD, "5555555555554444");
    /* Luhn: the last digit off by one */
    expect_none("card 4970 1012 3456 7890 please");
    /* Luhn-valid, but no issuer starts with 1 (a serial number) */
    expect_none("serial 1234-5678-9012-3452");
    /* mixed separators are not how anyone writes a card */
    expect_none("4970 1012-3456 7893");
    expect_none("card 1234");
    expect_none("card ending in 4242");
    expect_none("order 4471-2231");
    expect_none("IMEI 356938035643809");
    expect_none("EAN 4006381333931");
    expect_none("ref A4970101234567893");
}

static void test_iban(void)
{
    expect_one("IBAN FR76 3000 6000 0112 3456 7890 189 merci", PARLEY_SCAN_IBAN,
               "FR76 3000 6000 0112 3456 7890 189");
    expect_one("fr7630006000011234567890189", PARLEY_SCAN_IBAN, "fr7630006000011234567890189");
    expect_one("to GB82 WEST 1234 5698 7654 32.", PARLEY_SCAN_IBAN, "GB82 WEST 1234 5698 7654 32");
    expect_one("DE89370400440532013000", PARLEY_SCAN_IBAN, "DE89370400440532013000");
    /* mod 97 fails with one digit changed, or the check digits swapped */
    expect_none("IBAN FR76 3000 6000 0112 3456 7890 188");
    expect_none("IBAN FR67 3000 6000 0112 3456 7890 189");
    /* wrong length for the country */
    expect_none("IBAN FR76 3000 6000 0112 3456 7890 1890");
    expect_none("IBAN DE89 3704 0044 0532 0130");
}

static void test_nir(void)
{
    expect_one("sécu 1 85 05 78 006 084 91", PARLEY_SCAN_NIR, "1 85 05 78 006 084 91");
    expect_one("NIR 185057800608491.", PARLEY_SCAN_NIR, "185057800608491");
    /* Corsica: 2A counts as 19, 2B as 18 */
    expect_one("né à Ajaccio : 2 84 05 2A 123 456 32", PARLEY_SCAN_NIR, "2 84 05 2A 123 456 32");
    expect_one("Bastia 2 84 05 2B 123 456 59", PARLEY_SCAN_NIR, "2 84 05 2B 123 456 59");
    expect_one("2840519123456 32", PARLEY_SCAN_NIR, "2840519123456 32");
    expect_none("Bastia 2 84 05 2B 123 456 32");
    expect_none("Ajaccio 2 84 05 2A 123 456 59");
    expect_none("sécu 1 85 05 78 006 084 12");
    /* month 13 does not exist */
    expect_none("sécu 1 85 13 78 006 084 36");
    expect_none("Reference: 1 85 05 78 006 084");
}

static void test_email(void)
{
    expect_one("write to jean.dupont@orange.fr.", PARLEY_SCAN_EMAIL, "jean.dupont@orange.fr");
    expect_one("(mail: a.b+tag@sub.example.co.uk)", PARLEY_SCAN_EMAIL, "a.b+tag@sub.example.co.uk");
    expect_one("<x_y-z@mail-server.io>", PARLEY_SCAN_EMAIL, "x_y-z@mail-server.io");
    expect_one("zoé@exemple.fr", PARLEY_SCAN_EMAIL, "zoé@exemple.fr");
    expect_none("user@localhost");
    expect_none("a@b.c");
    expect_none("jean..dupont@orange.fr");
    expect_none(".jean@orange.fr is not an address, nor jean.@orange.fr");
    expect_none("support@ is incomplete");
    expect_none("my handle is @julie_b");
    /* the top-level domain must be on the Public Suffix List */
    expect_none("the file logo@2x.png will not upload");
    expect_none("icons: cart@3x.jpg, user@2x.webp");
    expect_one("write to atelier@nord.paris", PARLEY_SCAN_EMAIL, "atelier@nord.paris");
    expect_one("K.WONG@EXAMPLE-CORP.COM.", PARLEY_SCAN_EMAIL, "K.WONG@EXAMPLE-CORP.COM");
    expect_one("jean@orange.fr.Merci", PARLEY_SCAN_EMAIL, "jean@orange.fr");
    expect_one("a@exemple.xn--p1ai", PARLEY_SCAN_EMAIL, "a@exemple.xn--p1ai");
    expect_none("x@-bad.fr");
    expect_none("price 3@4.50");
}

static void test_phone(void)
{
    expect_one("appelez le 06 12 34 56 78 svp", PARLEY_SCAN_PHONE, "06 12 34 56 78");
    expect_one("tel 0612345678", PARLEY_SCAN_PHONE, "0612345678");
    expect_one("tel 06.12.34.56.78.", PARLEY_SCAN_PHONE, "06.12.34.56.78");
    expect_one("+33 6 12 34 56 78", PARLEY_SCAN_PHONE, "+33 6 12 34 56 78");
    expect_one("+33 (0)6 12 34 56 78", PARLEY_SCAN_PHONE, "+33 (0)6 12 34 56 78");
    expect_one("+33612345678", PARLEY_SCAN_PHONE, "+33612345678");
    expect_one("call +44 20 7946 0958", PARLEY_SCAN_PHONE, "+44 20 7946 0958");
    expect_one("call 07700 900123", PARLEY_SCAN_PHONE, "07700 900123");
    expect_one("call (212) 555-0147", PARLEY_SCAN_PHONE, "(212) 555-0147");
    expect_none("order 0612345678");
    expect_none("commande n° 0612345678");
    expect_none("le 12/03/2024 à 10:30");
    expect_none("1 299,99 €");
    expect_none("2024-03-15");
    expect_none("05 78 006 084");
    expect_none("12.06.2024");
}

static void test_special(void)
{
    expect_about("I have diabetes", PARLEY_SCAN_HEALTH, "diabetes");
    expect_about("JE SUIS ENCEINTE", PARLEY_SCAN_HEALTH, "SUIS ENCEINTE");
    expect_about("j\xe2\x80\x99\xc3\xa9tais \xc3\xa0 l'HO\xcc\x82PITAL", PARLEY_SCAN_HEALTH,
               "HO\xcc\x82PITAL");
    expect_about("my wife and I are Muslim", PARLEY_SCAN_RELIGION, "Muslim");
    expect_about("je vote RN", PARLEY_SCAN_POLITICS, "vote RN");
    expect_about("member of the Labour party", PARLEY_SCAN_POLITICS, "Labour party");
    expect_about("I'm in the CGT", PARLEY_SCAN_UNION, "CGT");
    expect_about("je suis syndiqu\xc3\xa9", PARLEY_SCAN_UNION, "syndiqu\xc3\xa9");
    expect_about("as a Black woman", PARLEY_SCAN_ETHNICITY, "as a Black woman");
    expect_about("je suis d'origine maghr\xc3\xa9" "bine", PARLEY_SCAN_ETHNICITY,
               "maghr\xc3\xa9" "bine");
    expect_about("je suis lesbienne", PARLEY_SCAN_SEXUAL_ORIENTATION, "lesbienne");
    expect_about("I'm gay", PARLEY_SCAN_SEXUAL_ORIENTATION, "gay");
    expect_about("I'm a man and my boyfriend will sign", PARLEY_SCAN_SEXUAL_ORIENTATION,
               "my boyfriend");
    expect_about("empreinte digitale", PARLEY_SCAN_BIOMETRIC, "empreinte digitale");
    expect_about("the DNA test", PARLEY_SCAN_BIOMETRIC, "DNA test");
    expect_none("I am sick of waiting");
    expect_none("\xc3\xa7" "a me rend malade");
    expect_none("Christmas party");
    expect_none("shipping to the European Union");
    expect_none("black friday deals");
    expect_none("my boyfriend will sign");
    expect_none("Gay-Lussac street");
    expect_none("undiabetic");
    expect_none("enceinte bluetooth");
    expect_none("la qualit\xc3\xa9 est dans l'ADN de la marque");
}

/* Inflections by stem, context and negative cues, conditions, names of products. */
static void test_lexicon(void)
{
    /* one entry, its inflections in both spellings and both languages */
    expect_about("I was hospitalised twice", PARLEY_SCAN_HEALTH, "hospitalised");
    expect_about("she was hospitalized in May", PARLEY_SCAN_HEALTH, "hospitalized");
    expect_about("mes filles sont diab\xc3\xa9tiques", PARLEY_SCAN_HEALTH, "diab\xc3\xa9tiques");
    expect_about("MES FILLES SONT DIABETIQUES", PARLEY_SCAN_HEALTH, "DIABETIQUES");
    /* abbreviations match exactly, and only in their context */
    expect_about("I've got MS and stairs are hard", PARLEY_SCAN_HEALTH, "MS");
    expect_none("Ms Dupont will collect it");
    expect_none("the MS Office licence");
    /* a short French stem does not catch other words (aïd / aide) */
    expect_none("le minuteur l'aide beaucoup");
    /* a derivational stem does not catch its bare root (royaliste / royal) */
    expect_about("je suis royaliste", PARLEY_SCAN_POLITICS, "royaliste");
    expect_none("la gel\xc3\xa9" "e royale est en rupture");
    /* a word that needs a personal cue */
    expect_about("my son is deaf", PARLEY_SCAN_HEALTH, "deaf");
    expect_none("deaf to our complaints, the shop");
    /* figurative and non-personal uses */
    expect_none("Your bill gave me a heart attack");
    expect_none("am I blind or is the button gone?");
    expect_none("this offer is sick");
    expect_none("My dog has diabetes, any special food?");
    expect_none("Mon chien est diab\xc3\xa9tique");
    expect_none("Where is the Prescriptions tab?");
    expect_none("leave it at the mosque next to my flat");
    expect_none("I sent it by Western Union");
    expect_none("The RMT strike cancelled my train, I'm stuck");
    expect_none("Face ID stopped working");
    expect_none("le chat du site ne r\xc3\xa9pond pas, je fais des crises de nerfs");
    /* membership, not news */
    expect_about("I'm an RMT rep", PARLEY_SCAN_UNION, "RMT");
    /* a partner's gender says something only when the writer's does too */
    expect_about("As a woman, my wife and I want a joint account",
                 PARLEY_SCAN_SEXUAL_ORIENTATION, "my wife");
    expect_none("my wife and I want a joint account");
    expect_about("we're two dads", PARLEY_SCAN_SEXUAL_ORIENTATION, "two dads");
    expect_about("nous sommes un couple de deux femmes", PARLEY_SCAN_SEXUAL_ORIENTATION,
                 "deux femmes");
    /* heritage, percentages, and origin of goods */
    expect_about("I'm of Korean heritage", PARLEY_SCAN_ETHNICITY, "Korean heritage");
    expect_about("I'm Roma", PARLEY_SCAN_ETHNICITY, "Roma");
    expect_none("Roma tomatoes are out of stock");
    expect_none("Ces pi\xc3\xa8" "ces sont d'origine chinoise");
    expect_none("I ordered the African print cushion");
}

/* A sentence longer than one window of words: every term once, at its place. */
static void test_long_sentence(void)
{
    static char text[8192];
    parley_scan_finding f[MAX];
    size_t n = 0, len = 0;

    for (int i = 0; i < 400; i++) {
        const char *w = (i == 5 || i == 140 || i == 150 || i == 300) ? "diabetes " : "parcel ";

        memcpy(text + len, w, strlen(w));
        len += strlen(w);
    }
    CHECK_OK(parley_scan(text, len, f, MAX, &n));
    CHECK(n == 4);
    for (size_t i = 0; i < n && i < MAX; i++) {
        CHECK(f[i].category == PARLEY_SCAN_HEALTH);
        CHECK(memcmp(text + f[i].start, "diabetes", 8) == 0 && f[i].end == f[i].start + 8);
    }
    /* the same words one sentence each, and runs of near-matches */
    len = 0;
    for (int i = 0; i < 600; i++) {
        const char *w = i % 3 == 0 ? "I am sick of " : i % 3 == 1 ? "d'origine. " : "type 1 ";

        memcpy(text + len, w, strlen(w));
        len += strlen(w);
    }
    CHECK_OK(parley_scan(text, len, f, MAX, &n));
    CHECK(n == 0);
}

/*
 * Random texts made of lexicon words, cues, punctuation, digits, '@' and
 * broken UTF-8: the scan never fails, and its findings are in bounds and
 * in order.
 */
static void test_random_texts(void)
{
    static const char *const pieces[] = {
        "I'm ", "my ", "je suis ", "d'", "origine ", "diabetes ", "sick ", "of ", "the ",
        "union ", "member ", "CGT ", "gay ", "two ", "dads ", "as a ", "woman ", "Black ",
        "Friday ", "DNA ", "test ", "heart attack ", ", ", ". ", "\n", "(", ")", "4970 ",
        "1012 ", "06 ", "a@b.fr ", "x@2x.png ", "FR76 ", "% ", "40", "\xc3", "\xa9",
        "\xcc\x81", "\xff", "-", "'", "\xe2\x80\x99", ("pi\xc3\xa8" "ce "), "RN ", "...",
    };
    static char text[4096];
    parley_scan_finding f[MAX];
    uint32_t seed = 2463534242u;

    for (int round = 0; round < 3000; round++) {
        size_t len = 0, n = 0, words = 1 + round % 300;

        for (size_t w = 0; w < words; w++) {
            const char *p;

            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            p = pieces[seed % (sizeof(pieces) / sizeof(pieces[0]))];
            if (len + strlen(p) >= sizeof(text))
                break;
            memcpy(text + len, p, strlen(p));
            len += strlen(p);
        }
        {
            parley_err err = parley_scan(text, len, f, MAX, &n);

            CHECK(err == PARLEY_OK || (err == PARLEY_ETOOBIG && n > MAX));
        }
        for (size_t i = 0; i < n && i < MAX; i++) {
            CHECK(f[i].start < f[i].end && f[i].end <= len);
            CHECK(f[i].category < PARLEY_SCAN_CATEGORY_COUNT);
            CHECK(i == 0 || f[i - 1].start < f[i].start ||
                  (f[i - 1].start == f[i].start && f[i - 1].category <= f[i].category));
        }
    }
}

static void test_scan_api(void)
{
    const char *t = "06 12 34 56 78, 07 12 34 56 78, 01 12 34 56 78";
    parley_scan_finding f[2];
    size_t n = 99;

    CHECK_ERR(parley_scan(t, strlen(t), f, 2, &n), PARLEY_ETOOBIG);
    CHECK(n == 3);
    CHECK(f[0].start == 0 && f[1].start == 16);
    CHECK_ERR(parley_scan(t, strlen(t), NULL, 0, &n), PARLEY_ETOOBIG);
    CHECK(n == 3);
    CHECK_ERR(parley_scan(t, strlen(t), f, 2, NULL), PARLEY_EINVAL);
    CHECK_ERR(parley_scan(NULL, 1, f, 2, &n), PARLEY_EINVAL);
    CHECK_ERR(parley_scan(t, strlen(t), NULL, 2, &n), PARLEY_EINVAL);
    CHECK_OK(parley_scan(NULL, 0, NULL, 0, &n));
    CHECK(n == 0);
    CHECK_ERR(parley_scan(t, PARLEY_SCAN_MAX_TEXT + 1, f, 2, &n), PARLEY_ETOOBIG);
    /* invalid UTF-8 and NUL bytes are scanned through; offsets stay bytes */
    {
        static const char bad[] = "\xff\xfe\x00 06 12 34 56 78";
        parley_scan_finding g[MAX];

        CHECK_OK(parley_scan(bad, sizeof(bad) - 1, g, MAX, &n));
        CHECK(n == 1 && g[0].category == PARLEY_SCAN_PHONE && g[0].start == 4 && g[0].end == 18);
    }
}

static void test_policy(void)
{
    const char *t = "Carte 4970 1012 3456 7893, j'ai du diab\xc3\xa8te, tel 06 12 34 56 78";
    parley_scan_finding f[MAX];
    parley_scan_policy p;
    parley_scan_verdict v;
    char *red = NULL;
    size_t rlen = 0, n = scan(t, f);

    CHECK(n == 3);
    parley_scan_policy_default(&p);
    CHECK_OK(parley_scan_apply(&p, t, strlen(t), f, n, &red, &rlen, &v));
    CHECK(v == PARLEY_SCAN_REDACTED);
    CHECK(red != NULL && rlen == strlen(red));
    CHECK(strcmp(red, "Carte [card], j'ai du diab\xc3\xa8te, tel 06 12 34 56 78") == 0);
    parley_free(red, rlen);

    p.action[PARLEY_SCAN_HEALTH] = PARLEY_SCAN_REDACT;
    p.action[PARLEY_SCAN_PHONE] = PARLEY_SCAN_REDACT;
    p.mask = '*';
    CHECK_OK(parley_scan_apply(&p, t, strlen(t), f, n, &red, &rlen, &v));
    CHECK(v == PARLEY_SCAN_REDACTED);
    CHECK(strcmp(red, "Carte **** **** **** ****, j'ai du *******, tel ** ** ** ** **") == 0);
    parley_free(red, rlen);

    /* BLOCK wins over everything and yields no copy */
    p.action[PARLEY_SCAN_HEALTH] = PARLEY_SCAN_BLOCK;
    CHECK_OK(parley_scan_apply(&p, t, strlen(t), f, n, &red, &rlen, &v));
    CHECK(v == PARLEY_SCAN_BLOCKED && red == NULL && rlen == 0);

    /* WARN only */
    for (int c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        p.action[c] = PARLEY_SCAN_WARN;
    CHECK_OK(parley_scan_apply(&p, t, strlen(t), f, n, &red, &rlen, &v));
    CHECK(v == PARLEY_SCAN_WARNED && red == NULL);

    /* ALLOW everything, or every finding under min_confidence: PASS */
    p.min_confidence = 101;
    CHECK_OK(parley_scan_apply(&p, t, strlen(t), f, n, &red, &rlen, &v));
    CHECK(v == PARLEY_SCAN_PASS && red == NULL);
    p.min_confidence = 0;
    CHECK_OK(parley_scan_apply(&p, t, strlen(t), f, 0, &red, &rlen, &v));
    CHECK(v == PARLEY_SCAN_PASS);

    /* overlapping spans are redacted once */
    {
        parley_scan_finding o[2] = {{PARLEY_SCAN_CARD, 2, 6, 90}, {PARLEY_SCAN_PHONE, 4, 9, 90}};

        p.mask = 0;
        p.action[PARLEY_SCAN_CARD] = PARLEY_SCAN_REDACT;
        p.action[PARLEY_SCAN_PHONE] = PARLEY_SCAN_REDACT;
        CHECK_OK(parley_scan_apply(&p, "ab0123456cd", 11, o, 2, &red, &rlen, &v));
        CHECK(strcmp(red, "ab[card]cd") == 0);
        parley_free(red, rlen);
    }

    /* bad findings and policies */
    {
        parley_scan_finding bad = {PARLEY_SCAN_CARD, 5, 99, 90};

        CHECK_ERR(parley_scan_apply(&p, t, strlen(t), &bad, 1, &red, &rlen, &v), PARLEY_EINVAL);
        bad.end = 5;
        CHECK_ERR(parley_scan_apply(&p, t, strlen(t), &bad, 1, &red, &rlen, &v), PARLEY_EINVAL);
        bad.end = 6;
        bad.category = PARLEY_SCAN_CATEGORY_COUNT;
        CHECK_ERR(parley_scan_apply(&p, t, strlen(t), &bad, 1, &red, &rlen, &v), PARLEY_EINVAL);
        p.mask = ' ';
        CHECK_ERR(parley_scan_apply(&p, t, strlen(t), f, n, &red, &rlen, &v), PARLEY_EINVAL);
        p.mask = 0;
        p.action[0] = (parley_scan_action)7;
        CHECK_ERR(parley_scan_apply(&p, t, strlen(t), f, n, &red, &rlen, &v), PARLEY_EINVAL);
        CHECK_ERR(parley_scan_apply(NULL, t, strlen(t), f, n, &red, &rlen, &v), PARLEY_EINVAL);
    }
}

/* CONFIRM sits between WARN and REDACT, and the stricter of two policies wins category by category. */
static void test_stricter(void)
{
    const char *t = "Carte 4970 1012 3456 7893, j'ai du diab\xc3\xa8te, tel 06 12 34 56 78";
    parley_scan_finding f[MAX];
    parley_scan_policy brand, local, both;
    parley_scan_verdict v;
    char *red = NULL;
    size_t rlen = 0, n = scan(t, f);

    for (int c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        brand.action[c] = local.action[c] = PARLEY_SCAN_ALLOW;
    brand.min_confidence = 80;
    local.min_confidence = 0;
    brand.mask = 0;
    local.mask = '#';
    brand.action[PARLEY_SCAN_HEALTH] = PARLEY_SCAN_CONFIRM;
    brand.action[PARLEY_SCAN_CARD] = PARLEY_SCAN_REDACT;
    brand.action[PARLEY_SCAN_PHONE] = PARLEY_SCAN_WARN;
    local.action[PARLEY_SCAN_HEALTH] = PARLEY_SCAN_WARN;
    local.action[PARLEY_SCAN_CARD] = PARLEY_SCAN_BLOCK;
    local.action[PARLEY_SCAN_PHONE] = PARLEY_SCAN_CONFIRM;
    CHECK_OK(parley_scan_policy_stricter(&both, &brand, &local));
    CHECK(both.action[PARLEY_SCAN_HEALTH] == PARLEY_SCAN_CONFIRM);
    CHECK(both.action[PARLEY_SCAN_CARD] == PARLEY_SCAN_BLOCK);
    CHECK(both.action[PARLEY_SCAN_PHONE] == PARLEY_SCAN_CONFIRM);
    CHECK(both.action[PARLEY_SCAN_IBAN] == PARLEY_SCAN_ALLOW);
    CHECK(both.min_confidence == 0 && both.mask == '#');
    /* The order of the arguments changes only the mask. */
    CHECK_OK(parley_scan_policy_stricter(&both, &local, &brand));
    CHECK(both.action[PARLEY_SCAN_CARD] == PARLEY_SCAN_BLOCK && both.mask == '#');
    /* In place, and REDACT over CONFIRM over WARN. */
    local.action[PARLEY_SCAN_CARD] = PARLEY_SCAN_CONFIRM;
    CHECK_OK(parley_scan_policy_stricter(&local, &local, &brand));
    CHECK(local.action[PARLEY_SCAN_CARD] == PARLEY_SCAN_REDACT);
    CHECK(local.action[PARLEY_SCAN_HEALTH] == PARLEY_SCAN_CONFIRM);

    /* A CONFIRM finding alone asks for the confirmation; REDACT decides over it. */
    for (int c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        both.action[c] = PARLEY_SCAN_WARN;
    both.action[PARLEY_SCAN_HEALTH] = PARLEY_SCAN_CONFIRM;
    CHECK_OK(parley_scan_apply(&both, t, strlen(t), f, n, &red, &rlen, &v));
    CHECK(v == PARLEY_SCAN_CONFIRM_NEEDED && red == NULL);
    both.action[PARLEY_SCAN_CARD] = PARLEY_SCAN_REDACT;
    both.mask = 0;
    CHECK_OK(parley_scan_apply(&both, t, strlen(t), f, n, &red, &rlen, &v));
    CHECK(v == PARLEY_SCAN_REDACTED && red != NULL);
    parley_free(red, rlen);

    /* Bad input changes nothing. */
    both.action[3] = (parley_scan_action)5;
    local.action[3] = PARLEY_SCAN_ALLOW;
    CHECK_ERR(parley_scan_policy_stricter(&local, &both, &brand), PARLEY_EINVAL);
    CHECK(local.action[3] == PARLEY_SCAN_ALLOW);
    CHECK_ERR(parley_scan_policy_stricter(NULL, &brand, &brand), PARLEY_EINVAL);
    CHECK_ERR(parley_scan_policy_stricter(&local, NULL, &brand), PARLEY_EINVAL);
}

int main(void)
{
    test_names();
    test_card();
    test_iban();
    test_nir();
    test_email();
    test_phone();
    test_special();
    test_lexicon();
    test_long_sentence();
    test_random_texts();
    test_scan_api();
    test_policy();
    test_stricter();
    return 0;
}
