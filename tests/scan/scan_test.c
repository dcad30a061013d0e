/*
 * Unit checks of the sensitive-data guard: each identifier's checksum
 * (Luhn, IBAN mod 97, NIR key with the Corsican 2A/2B rule), e-mail edge
 * cases, the hard negatives that must not fire, the lexicon's folding of
 * case and accents, and what each policy does to a text.
 */
#include <stdbool.h>
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
static void expect_span(const char *text, parley_scan_category c, const char *want, bool exact)
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

/*
 * A text and what the scanner must find in it: nothing (NONE), or one
 * finding of a category over a substring, exactly (ONE) or overlapping it
 * (ABOUT: lexicon spans may take in a word of context).
 */
struct expect {
    const char *text;
    int category; /* -1: nothing */
    const char *want;
    bool exact;
};

/* clang-format off */
#define ONE(text, c, want)   {(text), (int)(c), (want), true}
#define ABOUT(text, c, want) {(text), (int)(c), (want), false}
#define NONE(text)           {(text), -1, NULL, false}
/* clang-format on */

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

static void expect_all(const struct expect *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (cases[i].category < 0)
            expect_none(cases[i].text);
        else
            expect_span(cases[i].text, (parley_scan_category)cases[i].category, cases[i].want,
                        cases[i].exact);
    }
}

#define EXPECT_ALL(cases) expect_all((cases), sizeof(cases) / sizeof((cases)[0]))

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

static const struct expect card_cases[] = {
    ONE("card 4970 1012 3456 7893 please", PARLEY_SCAN_CARD, "4970 1012 3456 7893"),
    ONE("carte 4970-1012-3456-7893.", PARLEY_SCAN_CARD, "4970-1012-3456-7893"),
    ONE("4970101234567893", PARLEY_SCAN_CARD, "4970101234567893"),
    ONE("Amex 3782 822463 10005", PARLEY_SCAN_CARD, "3782 822463 10005"),
    ONE("MC 5555555555554444 exp 09/27", PARLEY_SCAN_CARD, "5555555555554444"),
    /* Luhn: the last digit off by one */
    NONE("card 4970 1012 3456 7890 please"),
    /* Luhn-valid, but no issuer starts with 1 (a serial number) */
    NONE("serial 1234-5678-9012-3452"),
    /* mixed separators are not how anyone writes a card */
    NONE("4970 1012-3456 7893"),
    NONE("card 1234"),
    NONE("card ending in 4242"),
    NONE("order 4471-2231"),
    NONE("IMEI 356938035643809"),
    NONE("EAN 4006381333931"),
    NONE("ref A4970101234567893"),
};

static const struct expect iban_cases[] = {
    ONE("IBAN FR76 3000 6000 0112 3456 7890 189 merci", PARLEY_SCAN_IBAN,
        "FR76 3000 6000 0112 3456 7890 189"),
    ONE("fr7630006000011234567890189", PARLEY_SCAN_IBAN, "fr7630006000011234567890189"),
    ONE("to GB82 WEST 1234 5698 7654 32.", PARLEY_SCAN_IBAN, "GB82 WEST 1234 5698 7654 32"),
    ONE("DE89370400440532013000", PARLEY_SCAN_IBAN, "DE89370400440532013000"),
    /* mod 97 fails with one digit changed, or the check digits swapped */
    NONE("IBAN FR76 3000 6000 0112 3456 7890 188"),
    NONE("IBAN FR67 3000 6000 0112 3456 7890 189"),
    /* wrong length for the country */
    NONE("IBAN FR76 3000 6000 0112 3456 7890 1890"),
    NONE("IBAN DE89 3704 0044 0532 0130"),
};

static const struct expect nir_cases[] = {
    ONE("sécu 1 85 05 78 006 084 91", PARLEY_SCAN_NIR, "1 85 05 78 006 084 91"),
    ONE("NIR 185057800608491.", PARLEY_SCAN_NIR, "185057800608491"),
    /* Corsica: 2A counts as 19, 2B as 18 */
    ONE("né à Ajaccio : 2 84 05 2A 123 456 32", PARLEY_SCAN_NIR, "2 84 05 2A 123 456 32"),
    ONE("Bastia 2 84 05 2B 123 456 59", PARLEY_SCAN_NIR, "2 84 05 2B 123 456 59"),
    ONE("2840519123456 32", PARLEY_SCAN_NIR, "2840519123456 32"),
    NONE("Bastia 2 84 05 2B 123 456 32"),
    NONE("Ajaccio 2 84 05 2A 123 456 59"),
    NONE("sécu 1 85 05 78 006 084 12"),
    /* month 13 does not exist */
    NONE("sécu 1 85 13 78 006 084 36"),
    NONE("Reference: 1 85 05 78 006 084"),
};

static const struct expect email_cases[] = {
    ONE("write to jean.dupont@orange.fr.", PARLEY_SCAN_EMAIL, "jean.dupont@orange.fr"),
    ONE("(mail: a.b+tag@sub.example.co.uk)", PARLEY_SCAN_EMAIL, "a.b+tag@sub.example.co.uk"),
    ONE("<x_y-z@mail-server.io>", PARLEY_SCAN_EMAIL, "x_y-z@mail-server.io"),
    ONE("zoé@exemple.fr", PARLEY_SCAN_EMAIL, "zoé@exemple.fr"),
    NONE("user@localhost"),
    NONE("a@b.c"),
    NONE("jean..dupont@orange.fr"),
    NONE(".jean@orange.fr is not an address, nor jean.@orange.fr"),
    NONE("support@ is incomplete"),
    NONE("my handle is @julie_b"),
    /* the top-level domain must be on the Public Suffix List */
    NONE("the file logo@2x.png will not upload"),
    NONE("icons: cart@3x.jpg, user@2x.webp"),
    ONE("write to atelier@nord.paris", PARLEY_SCAN_EMAIL, "atelier@nord.paris"),
    ONE("K.WONG@EXAMPLE-CORP.COM.", PARLEY_SCAN_EMAIL, "K.WONG@EXAMPLE-CORP.COM"),
    ONE("jean@orange.fr.Merci", PARLEY_SCAN_EMAIL, "jean@orange.fr"),
    ONE("a@exemple.xn--p1ai", PARLEY_SCAN_EMAIL, "a@exemple.xn--p1ai"),
    NONE("x@-bad.fr"),
    NONE("price 3@4.50"),
};

static const struct expect phone_cases[] = {
    ONE("appelez le 06 12 34 56 78 svp", PARLEY_SCAN_PHONE, "06 12 34 56 78"),
    ONE("tel 0612345678", PARLEY_SCAN_PHONE, "0612345678"),
    ONE("tel 06.12.34.56.78.", PARLEY_SCAN_PHONE, "06.12.34.56.78"),
    ONE("+33 6 12 34 56 78", PARLEY_SCAN_PHONE, "+33 6 12 34 56 78"),
    ONE("+33 (0)6 12 34 56 78", PARLEY_SCAN_PHONE, "+33 (0)6 12 34 56 78"),
    ONE("+33612345678", PARLEY_SCAN_PHONE, "+33612345678"),
    ONE("call +44 20 7946 0958", PARLEY_SCAN_PHONE, "+44 20 7946 0958"),
    ONE("call 07700 900123", PARLEY_SCAN_PHONE, "07700 900123"),
    ONE("call (212) 555-0147", PARLEY_SCAN_PHONE, "(212) 555-0147"),
    NONE("order 0612345678"),
    NONE("commande n° 0612345678"),
    NONE("le 12/03/2024 à 10:30"),
    NONE("1 299,99 €"),
    NONE("2024-03-15"),
    NONE("05 78 006 084"),
    NONE("12.06.2024"),
};

static const struct expect special_cases[] = {
    ABOUT("I have diabetes", PARLEY_SCAN_HEALTH, "diabetes"),
    ABOUT("JE SUIS ENCEINTE", PARLEY_SCAN_HEALTH, "SUIS ENCEINTE"),
    ABOUT("j\xe2\x80\x99\xc3\xa9tais \xc3\xa0 l'HO\xcc\x82PITAL", PARLEY_SCAN_HEALTH,
        "HO\xcc\x82PITAL"),
    ABOUT("my wife and I are Muslim", PARLEY_SCAN_RELIGION, "Muslim"),
    ABOUT("je vote RN", PARLEY_SCAN_POLITICS, "vote RN"),
    ABOUT("member of the Labour party", PARLEY_SCAN_POLITICS, "Labour party"),
    ABOUT("I'm in the CGT", PARLEY_SCAN_UNION, "CGT"),
    ABOUT("je suis syndiqu\xc3\xa9", PARLEY_SCAN_UNION, "syndiqu\xc3\xa9"),
    ABOUT("as a Black woman", PARLEY_SCAN_ETHNICITY, "as a Black woman"),
    ABOUT("je suis d'origine maghr\xc3\xa9" "bine", PARLEY_SCAN_ETHNICITY,
        "maghr\xc3\xa9" "bine"),
    ABOUT("je suis lesbienne", PARLEY_SCAN_SEXUAL_ORIENTATION, "lesbienne"),
    ABOUT("I'm gay", PARLEY_SCAN_SEXUAL_ORIENTATION, "gay"),
    ABOUT("I'm a man and my boyfriend will sign", PARLEY_SCAN_SEXUAL_ORIENTATION,
        "my boyfriend"),
    ABOUT("empreinte digitale", PARLEY_SCAN_BIOMETRIC, "empreinte digitale"),
    ABOUT("the DNA test", PARLEY_SCAN_BIOMETRIC, "DNA test"),
    NONE("I am sick of waiting"),
    NONE("\xc3\xa7" "a me rend malade"),
    NONE("Christmas party"),
    NONE("shipping to the European Union"),
    NONE("black friday deals"),
    NONE("my boyfriend will sign"),
    NONE("Gay-Lussac street"),
    NONE("undiabetic"),
    NONE("enceinte bluetooth"),
    NONE("la qualit\xc3\xa9 est dans l'ADN de la marque"),
};

/* Inflections by stem, context and negative cues, conditions, names of products. */
static const struct expect lexicon_cases[] = {
    /* one entry, its inflections in both spellings and both languages */
    ABOUT("I was hospitalised twice", PARLEY_SCAN_HEALTH, "hospitalised"),
    ABOUT("she was hospitalized in May", PARLEY_SCAN_HEALTH, "hospitalized"),
    ABOUT("mes filles sont diab\xc3\xa9tiques", PARLEY_SCAN_HEALTH, "diab\xc3\xa9tiques"),
    ABOUT("MES FILLES SONT DIABETIQUES", PARLEY_SCAN_HEALTH, "DIABETIQUES"),
    /* abbreviations match exactly, and only in their context */
    ABOUT("I've got MS and stairs are hard", PARLEY_SCAN_HEALTH, "MS"),
    NONE("Ms Dupont will collect it"),
    NONE("the MS Office licence"),
    /* a short French stem does not catch other words (aïd / aide) */
    NONE("le minuteur l'aide beaucoup"),
    /* a derivational stem does not catch its bare root (royaliste / royal) */
    ABOUT("je suis royaliste", PARLEY_SCAN_POLITICS, "royaliste"),
    NONE("la gel\xc3\xa9" "e royale est en rupture"),
    /* a word that needs a personal cue */
    ABOUT("my son is deaf", PARLEY_SCAN_HEALTH, "deaf"),
    NONE("deaf to our complaints, the shop"),
    /* figurative and non-personal uses */
    NONE("Your bill gave me a heart attack"),
    NONE("am I blind or is the button gone?"),
    NONE("this offer is sick"),
    NONE("My dog has diabetes, any special food?"),
    NONE("Mon chien est diab\xc3\xa9tique"),
    NONE("Where is the Prescriptions tab?"),
    NONE("leave it at the mosque next to my flat"),
    NONE("I sent it by Western Union"),
    NONE("The RMT strike cancelled my train, I'm stuck"),
    NONE("Face ID stopped working"),
    NONE("le chat du site ne r\xc3\xa9pond pas, je fais des crises de nerfs"),
    /* membership, not news */
    ABOUT("I'm an RMT rep", PARLEY_SCAN_UNION, "RMT"),
    /* a partner's gender says something only when the writer's does too */
    ABOUT("As a woman, my wife and I want a joint account",
        PARLEY_SCAN_SEXUAL_ORIENTATION, "my wife"),
    NONE("my wife and I want a joint account"),
    ABOUT("we're two dads", PARLEY_SCAN_SEXUAL_ORIENTATION, "two dads"),
    ABOUT("nous sommes un couple de deux femmes", PARLEY_SCAN_SEXUAL_ORIENTATION,
        "deux femmes"),
    /* heritage, percentages, and origin of goods */
    ABOUT("I'm of Korean heritage", PARLEY_SCAN_ETHNICITY, "Korean heritage"),
    ABOUT("I'm Roma", PARLEY_SCAN_ETHNICITY, "Roma"),
    NONE("Roma tomatoes are out of stock"),
    NONE("Ces pi\xc3\xa8" "ces sont d'origine chinoise"),
    NONE("I ordered the African print cushion"),
};

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
    /* The customer's default: explicit consent for the special categories (art. 9(2)(a)). */
    for (int c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
        CHECK(p.action[c] == ((PARLEY_SCAN_BIT(c) & PARLEY_SCAN_SPECIAL) ? PARLEY_SCAN_CONFIRM
                              : c == PARLEY_SCAN_EMAIL || c == PARLEY_SCAN_PHONE
                                  ? PARLEY_SCAN_ALLOW
                                  : PARLEY_SCAN_REDACT));
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
    EXPECT_ALL(card_cases);
    EXPECT_ALL(iban_cases);
    EXPECT_ALL(nir_cases);
    EXPECT_ALL(email_cases);
    EXPECT_ALL(phone_cases);
    EXPECT_ALL(special_cases);
    EXPECT_ALL(lexicon_cases);
    test_long_sentence();
    test_random_texts();
    test_scan_api();
    test_policy();
    test_stricter();
    return 0;
}
