/*
 * The brand pin line (parley/pin.h): the two kinds parsed and written
 * back byte for byte, and every way a line can be wrong refused as
 * malformed with nothing left in the output, so that a widget, an agent
 * client and a relay can never read a different key out of one file.
 */
#include <string.h>

#include "check.h"

#define ID         "acme"
#define KEY        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define DIR        "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define RELAY_PIN  "parley-brand-v1 " ID " " KEY
#define CLIENT_PIN "parley-brand-v1 " ID " " KEY " " DIR

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

/* The line is refused with want, and nothing of it is left in the output. */
static void check_refused(const char *line, size_t len, parley_err want)
{
    parley_pin pin;
    parley_err got;

    memset(&pin, 0xa5, sizeof(pin));
    got = parley_pin_parse(line, len, &pin);
    if (got != want) {
        fprintf(stderr, "\"%.*s\": %s, not %s\n", (int)len, line, parley_strerror(got),
                parley_strerror(want));
        CHECK(!"a bad pin line is refused with its own code");
    }
    CHECK(all_zero(&pin, sizeof(pin)));
}

static void check_malformed(const char *line, size_t len)
{
    check_refused(line, len, PARLEY_EMALFORMED);
}

static void test_kinds_and_round_trip(void)
{
    static const char *const lines[] = {RELAY_PIN "\n", CLIENT_PIN "\n"};
    char out[PARLEY_PIN_MAX + 1];
    parley_pin pin;

    for (size_t i = 0; i < 2; i++) {
        size_t len = strlen(lines[i]);

        CHECK_OK(parley_pin_parse(lines[i], len, &pin));
        CHECK(strcmp(pin.brand_id, ID) == 0);
        CHECK(pin.brand_pk[0] == 0x00 && pin.brand_pk[1] == 0x11 && pin.brand_pk[31] == 0xff);
        CHECK(pin.has_directory_key == (int)i);
        CHECK(i == 0 ? all_zero(pin.directory_key, 32)
                     : pin.directory_key[0] == 0xff && pin.directory_key[31] == 0x00);
        /* Written back, the line is the same bytes. */
        CHECK(parley_pin_format(&pin, out, sizeof(out)) == len);
        CHECK(memcmp(out, lines[i], len + 1) == 0);
        /* A line whose final newline was lost is the same pin. */
        CHECK_OK(parley_pin_parse(lines[i], len - 1, &pin));
        CHECK(pin.has_directory_key == (int)i);
    }
}

static void test_longest_line(void)
{
    char id[PARLEY_MAX_ID + 1], line[PARLEY_PIN_MAX + 8], out[PARLEY_PIN_MAX + 1];
    parley_pin pin;
    int n;

    memset(id, 'a', PARLEY_MAX_ID);
    id[PARLEY_MAX_ID] = '\0';
    n = snprintf(line, sizeof(line), "parley-brand-v1 %s %s %s\n", id, KEY, DIR);
    CHECK(n == (int)PARLEY_PIN_MAX);
    CHECK_OK(parley_pin_parse(line, (size_t)n, &pin));
    /* One byte short of the buffer: refused, nothing written. */
    memset(out, 'x', sizeof(out));
    CHECK(parley_pin_format(&pin, out, PARLEY_PIN_MAX) == 0 && out[0] == 'x');
    CHECK(parley_pin_format(&pin, out, PARLEY_PIN_MAX + 1) == PARLEY_PIN_MAX);
    /* An id one byte longer, and anything longer than the longest line. */
    n = snprintf(line, sizeof(line), "parley-brand-v1 %sa %s %s\n", id, KEY, DIR);
    check_refused(line, (size_t)n, PARLEY_ETOOBIG);
    n = snprintf(line, sizeof(line), "parley-brand-v1 %sa %s\n", id, KEY);
    check_malformed(line, (size_t)n);
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "\n",
        "parley-brand-v1 ",
        "parley-brand-v1 " ID,
        "parley-brand-v1 " ID " ",
        "parley-brand-v2 " ID " " KEY,
        "Parley-brand-v1 " ID " " KEY,
        " parley-brand-v1 " ID " " KEY,
        "parley-brand-v1  " ID " " KEY, /* two spaces */
        "parley-brand-v1 " ID "  " KEY,
        "parley-brand-v1 " ID " " KEY "  " DIR,
        "parley-brand-v1 " ID " " KEY " ", /* trailing space */
        "parley-brand-v1 " ID " " KEY "0", /* 65 hex digits */
        "parley-brand-v1 " ID " " KEY " " DIR "0",
        "parley-brand-v1 " ID " 0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "parley-brand-v1 " ID " 00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
        "parley-brand-v1 " ID " 00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
        "parley-brand-v1 " ID " " KEY
        " FFEEDDCCBBAA99887766554433221100ffeeddccbbaa99887766554433221100",
        "parley-brand-v1 Acme " KEY, /* ids are lowercase */
        "parley-brand-v1 ac/me " KEY,
        "parley-brand-v1 " ID "\t" KEY,
        "parley-brand-v1 " ID " " KEY "\r\n", /* CRLF */
        "parley-brand-v1 " ID " " KEY "\n\n",
        "parley-brand-v1 " ID " " KEY "\nparley-brand-v1 " ID " " KEY "\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_malformed(bad[i], strlen(bad[i]));
    /* A third key makes a line longer than any pin. */
    check_refused(CLIENT_PIN " " DIR, strlen(CLIENT_PIN " " DIR), PARLEY_ETOOBIG);
    /* A NUL inside the line, where a C string would end it. */
    {
        char line[] = RELAY_PIN "\n";
        line[20] = '\0';
        check_malformed(line, sizeof(line) - 1);
    }
}

static void test_bad_arguments(void)
{
    parley_pin pin;
    char out[PARLEY_PIN_MAX + 1];

    CHECK_ERR(parley_pin_parse(NULL, 3, &pin), PARLEY_EINVAL);
    CHECK_ERR(parley_pin_parse(RELAY_PIN, strlen(RELAY_PIN), NULL), PARLEY_EINVAL);
    CHECK(parley_pin_format(NULL, out, sizeof(out)) == 0);
    CHECK_OK(parley_pin_parse(RELAY_PIN, strlen(RELAY_PIN), &pin));
    CHECK(parley_pin_format(&pin, NULL, sizeof(out)) == 0);
    /* A pin whose brand id is not one is never written. */
    memcpy(pin.brand_id, "A", 2);
    CHECK(parley_pin_format(&pin, out, sizeof(out)) == 0);
    pin.brand_id[0] = '\0';
    CHECK(parley_pin_format(&pin, out, sizeof(out)) == 0);
}

int main(void)
{
    CHECK_OK(parley_init());
    test_kinds_and_round_trip();
    test_longest_line();
    test_malformed();
    test_bad_arguments();
    printf("pin: ok\n");
    return 0;
}
