/*
 * relay/config.c on its own: a config file and flags as an operator (or
 * a careless script) writes them. Every bad value is refused with a
 * message naming the file, the line and the setting: garbage, negative,
 * overflowing, past a range the relay can count in, unknown keys, lines
 * without '=', lines too long to read whole, empty paths and origins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

static char dir[] = "/tmp/parley-relay-config-XXXXXX";
static char conf_path[128], err_path[128], pin_path[128];
static char err_text[4096];

/* Runs config_parse_args on argv (NULL-terminated) with stderr captured in err_text. */
static int run_args(struct relay_config *c, const char *const *args)
{
    char *argv[64];
    int argc = 0, saved, rc;
    FILE *e;
    size_t n;

    argv[argc++] = (char *)"parley-relay";
    for (size_t i = 0; args[i] != NULL; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    fflush(stderr);
    saved = dup(2);
    e = fopen(err_path, "w+");
    CHECK(saved >= 0 && e != NULL);
    CHECK(dup2(fileno(e), 2) == 2);
    config_defaults(c);
    rc = config_parse_args(c, argc, argv);
    fflush(stderr);
    CHECK(dup2(saved, 2) == 2);
    close(saved);
    rewind(e);
    n = fread(err_text, 1, sizeof(err_text) - 1, e);
    err_text[n] = '\0';
    fclose(e);
    return rc;
}

/* Writes text (len bytes) as the config file and loads it, then the extra flags. */
static int run_file_n(struct relay_config *c, const char *text, size_t len, const char *flag,
                      const char *value)
{
    FILE *f = fopen(conf_path, "wb");
    const char *args[] = {"--config", conf_path, flag, value, NULL};

    CHECK(f != NULL && fwrite(text, 1, len, f) == len && fclose(f) == 0);
    return run_args(c, args);
}

static int run_file(struct relay_config *c, const char *text)
{
    return run_file_n(c, text, strlen(text), NULL, NULL);
}

static int err_has(const char *needle)
{
    return strstr(err_text, needle) != NULL;
}

static void test_defaults_valid(void)
{
    struct relay_config c;

    config_defaults(&c);
    CHECK(config_check(&c) == 0);
    CHECK(c.port == 8787 && strcmp(c.listen, "127.0.0.1") == 0 && c.max_frame == 66560);
}

static void test_file_then_flags(void)
{
    struct relay_config c;

    CHECK(run_file(&c, "# relay\n\n   port =  1234   # trailing comment\n"
                       "\tdb=/var/lib/parley/relay.db\r\nrate = 50\nlog-level = warn") == 0);
    CHECK(c.port == 1234 && strcmp(c.store, "sqlite:/var/lib/parley/relay.db") == 0 && c.rate == 50 &&
          c.log_level == 2);
    /* A flag overrides the file, wherever it stands on the command line. */
    CHECK(run_file_n(&c, "port = 1234\n", 12, "--port", "99") == 0 && c.port == 99);
    {
        const char *args[] = {"--port", "7", "--config", conf_path, NULL};
        CHECK(run_args(&c, args) == 0 && c.port == 7);
    }
}

/* Each numeric setting refuses garbage, signs, fractions, hex, overflow and trailing junk. */
static void test_bad_numbers_refused(void)
{
    static const char *const names[] = {
        "port",         "ttl",          "max-frame",       "rate",
        "burst",        "rate-unauth",  "burst-unauth",    "max-conn-per-ip",
        "max-outbound", "max-outbound-unauth", "quota-count", "quota-bytes",
        "auth-timeout", "idle-timeout", "frame-timeout",   "expiry-interval",
        "audit-retention", "audit-segment"};
    static const char *const values[] = {"",     "-1",   "abc", "1.5", "0x10", "1 2", "1e3",
                                         "99999999999999999999", "18446744073709551616",
                                         " -0", "12abc"};
    struct relay_config c;
    char text[256], want[128];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        for (size_t j = 0; j < sizeof(values) / sizeof(values[0]); j++) {
            snprintf(text, sizeof(text), "# line 1\n%s = %s\n", names[i], values[j]);
            CHECK(run_file(&c, text) == -1);
            snprintf(want, sizeof(want), ":2: bad value for %s", names[i]);
            CHECK(err_has(want));
        }
    /* The same through a flag. */
    {
        const char *args[] = {"--rate", "-5", NULL};
        CHECK(run_args(&c, args) == -1 && err_has("command line: bad value for rate"));
    }
}

/*
 * Values that parse but that the relay could not count in: timeouts past
 * a day (32-bit milliseconds wrap), durations past a century (signed
 * 64-bit seconds), a frame cap past 64 MiB (buffer arithmetic), a port
 * past 65535, zero where zero means nothing would ever pass.
 */
static void test_out_of_range_refused(void)
{
    static const char *const bad[] = {
        "port = 65536\n",
        "rate = 0\n",
        "burst = 0\n",
        "rate-unauth = 0\n",
        "burst-unauth = 0\n",
        "max-outbound-unauth = 1023\n",
        "max-frame = 1023\n",
        "max-frame = 67108865\n",
        "max-frame = 18446744073709551615\n",
        "auth-timeout = 0\n",
        "auth-timeout = 4294968\n",
        "idle-timeout = 1\n",
        "idle-timeout = 86401\n",
        "frame-timeout = 4294967295\n",
        "expiry-interval = 86401\n",
        "ttl = 0\n",
        "ttl = 18446744073709551615\n",
        "audit-segment = 0\n",
    };
    static const char *const good[] = {
        "port = 0\n",
        "port = 65535\n",
        "max-frame = 67108864\n",
        "auth-timeout = 86400\nidle-timeout = 86400\nframe-timeout = 86400\n",
        "ttl = 3162240000\n",
        "max-outbound = 18446744073709551615\nquota-bytes = 18446744073709551615\n",
    };
    struct relay_config c;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(run_file(&c, bad[i]) == -1);
        CHECK(err_has("bad value for port") || err_has("a limit is out of range"));
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(run_file(&c, good[i]) == 0);
}

/*
 * The audit log is kept six to twelve months: a retention outside 180 to
 * 365 days, or a segment that would keep entries past 366 days, is refused
 * with a message that says so; the default is twelve months.
 */
static void test_audit_retention_range(void)
{
    static const char *const too_short[] = {
        "audit-retention = 0\n",
        "audit-retention = 60\naudit-segment = 61\n",
        "audit-retention = 15551999\n",
    };
    static const char *const too_long[] = {
        "audit-retention = 31536001\n",
        "audit-retention = 3162240000\n",
        "audit-retention = 9223372036854775808\n",
        "audit-retention = 18446744073709551615\naudit-segment = 86400\n",
    };
    static const char *const segment_too_long[] = {
        "audit-segment = 86401\n",
        "audit-retention = 15552000\naudit-segment = 16070401\n",
        "audit-segment = 18446744073709551615\n",
    };
    static const char *const good[] = {
        "audit-retention = 15552000\n",
        "audit-retention = 15552000\naudit-segment = 16070400\n",
        "audit-retention = 31536000\naudit-segment = 86400\n",
        "audit-retention = 23328000\naudit-segment = 3600\n",
    };
    struct relay_config c;

    config_defaults(&c);
    CHECK(c.audit_retention == 31536000 && c.audit_segment == 86400);
    for (size_t i = 0; i < sizeof(too_short) / sizeof(too_short[0]); i++) {
        CHECK(run_file(&c, too_short[i]) == -1);
        CHECK(err_has("audit-retention must be between 15552000 (180 days) and 31536000 (365 "
                      "days) seconds") &&
              err_has("kept 6 to 12 months"));
    }
    for (size_t i = 0; i < sizeof(too_long) / sizeof(too_long[0]); i++) {
        CHECK(run_file(&c, too_long[i]) == -1);
        CHECK(err_has("audit-retention must be between"));
    }
    for (size_t i = 0; i < sizeof(segment_too_long) / sizeof(segment_too_long[0]); i++) {
        CHECK(run_file(&c, segment_too_long[i]) == -1);
        CHECK(err_has("is too long for audit-retention") && err_has("(366 days) in all"));
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(run_file(&c, good[i]) == 0);
    {
        const char *args[] = {"--audit-retention", "2", NULL};
        CHECK(run_args(&c, args) == -1 && err_has("audit-retention must be between"));
    }
}

static void test_unknown_and_malformed_lines_refused(void)
{
    struct relay_config c;

    CHECK(run_file(&c, "port = 1\nprot = 2\n") == -1 && err_has(":2: unknown setting 'prot'"));
    CHECK(run_file(&c, "port 1\n") == -1 && err_has(":1: expected 'key = value'"));
    CHECK(run_file(&c, "= 5\n") == -1 && err_has("unknown setting ''"));
    CHECK(run_file(&c, "PORT = 5\n") == -1 && err_has("unknown setting 'PORT'"));
    CHECK(run_file(&c, "log-level = loud\n") == -1 && err_has("bad value for log-level"));
    {
        const char *args[] = {"--port", NULL};
        CHECK(run_args(&c, args) == -1 && err_has("unexpected argument '--port'"));
    }
    {
        const char *args[] = {"stray", "1", NULL};
        CHECK(run_args(&c, args) == -1 && err_has("unexpected argument 'stray'"));
    }
    {
        const char *args[] = {"--config", NULL};
        CHECK(run_args(&c, args) == -1 && err_has("--config needs a file"));
    }
    {
        const char *args[] = {"--config", "/nonexistent/parley.conf", NULL};
        CHECK(run_args(&c, args) == -1 && err_has("/nonexistent/parley.conf: "));
    }
}

/* A line too long to read whole is refused; its tail is never read as a setting. */
static void test_long_lines_refused(void)
{
    struct relay_config c;
    size_t n = 3000;
    char *text = malloc(n + 64);
    int len;

    CHECK(text != NULL);
    text[0] = '#';
    memset(text + 1, 'x', CONFIG_MAX_LINE);
    len = snprintf(text + 1 + CONFIG_MAX_LINE, 64, "port = 1\n");
    CHECK(run_file_n(&c, text, (size_t)(1 + CONFIG_MAX_LINE + len), NULL, NULL) == -1);
    CHECK(err_has(":1: line longer than") && c.port != 1);
    /* Exactly CONFIG_MAX_LINE characters is still one line. */
    memset(text, ' ', CONFIG_MAX_LINE);
    memcpy(text + CONFIG_MAX_LINE - 9, "port = 42", 9);
    text[CONFIG_MAX_LINE] = '\n';
    CHECK(run_file_n(&c, text, CONFIG_MAX_LINE + 1, NULL, NULL) == 0 && c.port == 42);
    /* A very long value: refused as a value, never cut to fit its field. */
    memcpy(text, "db = ", 5);
    memset(text + 5, 'd', 600);
    text[605] = '\n';
    CHECK(run_file_n(&c, text, 606, NULL, NULL) == -1 && err_has("bad value for db"));
    /* A NUL byte in a line. */
    CHECK(run_file_n(&c, "port = 80\0port = 81\nrate = 5\n", 29, NULL, NULL) == -1);
    CHECK(err_has(":1: line longer than") && err_has("NUL byte"));
    free(text);
}

static void test_strings_origins_and_brands(void)
{
    struct relay_config c;
    char text[600];
    FILE *f;

    CHECK(run_file(&c, "db =\n") == -1 && err_has("bad value for db"));
    CHECK(run_file(&c, "listen =   \n") == -1 && err_has("listen cannot be empty"));
    /* The store: sqlite:PATH, and db as its alias; the last one given counts. */
    CHECK(run_file(&c, "store = redis://127.0.0.1:6379\n") == -1 && err_has("store must be"));
    /* nats:// when the relay was built with libnats, else a clear word on why not. */
    CHECK(run_file(&c, "store = nats://127.0.0.1:4222\n") == 0
              ? strcmp(c.store, "nats://127.0.0.1:4222") == 0
              : err_has("built without libnats"));
    CHECK(run_file(&c, "store = sqlite:\n") == -1 && err_has("store must be"));
    CHECK(run_file(&c, "store = /var/lib/relay.db\n") == -1 && err_has("store must be"));
    CHECK(run_file(&c, "db = a.db\nstore = sqlite:b.db\n") == 0 && strcmp(c.store, "sqlite:b.db") == 0);
    CHECK(run_file(&c, "store = sqlite:b.db\ndb = a.db\n") == 0 && strcmp(c.store, "sqlite:a.db") == 0);
    CHECK(run_file(&c, "origin =\n") == -1 && err_has("bad value for origin"));
    CHECK(run_file(&c, "tls-cert = a.pem\n") == -1 && err_has("go together"));
    snprintf(text, sizeof(text), "origin = https://%0*d\n", 247, 0);
    CHECK(run_file(&c, text) == 0 && c.n_origins == 1 && strlen(c.origins[0]) == 255);
    snprintf(text, sizeof(text), "origin = https://%0*d\n", 248, 0);
    CHECK(run_file(&c, text) == -1);
    {
        char many[33 * 32];
        size_t n = 0;
        for (int i = 0; i <= RELAY_MAX_ORIGINS; i++)
            n += (size_t)snprintf(many + n, sizeof(many) - n, "origin = https://o%d\n", i);
        CHECK(run_file(&c, many) == -1 && err_has(":33: bad value for origin"));
    }
    /* Brands: a relay pin is taken, a client pin (with the directory key) is refused. */
    f = fopen(pin_path, "w");
    CHECK(f != NULL);
    fprintf(f, "parley-brand-v1 acme %064d\n", 0);
    CHECK(fclose(f) == 0);
    snprintf(text, sizeof(text), "brand = %s\nbrand = %s\n", pin_path, pin_path);
    CHECK(run_file(&c, text) == 0 && c.n_brands == 2 && strcmp(c.brands[0].id, "acme") == 0);
    f = fopen(pin_path, "w");
    CHECK(f != NULL);
    fprintf(f, "parley-brand-v1 acme %064d %064d\n", 0, 0);
    CHECK(fclose(f) == 0);
    snprintf(text, sizeof(text), "brand = %s\n", pin_path);
    CHECK(run_file(&c, text) == -1 && err_has("this is a client pin"));
    f = fopen(pin_path, "w");
    CHECK(f != NULL);
    fprintf(f, "parley-brand-v1 acme 00zz\n");
    CHECK(fclose(f) == 0);
    CHECK(run_file(&c, text) == -1 && err_has("malformed brand pin line"));
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    snprintf(conf_path, sizeof(conf_path), "%s/relay.conf", dir);
    snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
    snprintf(pin_path, sizeof(pin_path), "%s/brand.pub", dir);
    test_defaults_valid();
    test_file_then_flags();
    test_bad_numbers_refused();
    test_out_of_range_refused();
    test_audit_retention_range();
    test_unknown_and_malformed_lines_refused();
    test_long_lines_refused();
    test_strings_origins_and_brands();
    unlink(conf_path);
    unlink(err_path);
    unlink(pin_path);
    CHECK(rmdir(dir) == 0);
    printf("relay config: ok\n");
    return 0;
}
