/*
 * Relay configuration. One table lists every setting once: its name (the
 * config-file key and the long flag), its kind and where it goes, so the
 * file, the flags and --help never disagree.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "pin.h"
#include "store.h"
#include "web.h"

enum kind { K_STR, K_INT, K_U32, K_U64, K_SIZE, K_LEVEL, K_BRAND, K_ORIGIN, K_DB };

struct option_def {
    const char *name;
    enum kind kind;
    size_t offset;
    size_t size;     /* K_STR: buffer size */
    const char *help;
};

#define OPT(n, k, field, h) {n, k, offsetof(struct relay_config, field), \
                             sizeof(((struct relay_config *)0)->field), h}

static const struct option_def options[] = {
    OPT("listen", K_STR, listen, "address to listen on (default 127.0.0.1)"),
    OPT("port", K_INT, port, "TCP port, 0 for an ephemeral one (default 8787)"),
    OPT("store", K_STR, store,
        "where envelopes are stored: sqlite:PATH (default sqlite:parley-relay.db), or "
        "nats://HOST:PORT,HOST:PORT,... (a NATS JetStream cluster shared by relay nodes)"),
    OPT("db", K_DB, store, "sqlite database path: the same as --store sqlite:PATH"),
    OPT("nats-user", K_STR, nats_user, "nats:// store: the user NATS knows this relay as"),
    OPT("nats-password", K_STR, nats_password, "nats:// store: that user's password"),
    OPT("nats-token", K_STR, nats_token, "nats:// store: an authentication token instead"),
    OPT("nats-creds", K_STR, nats_creds,
        "nats:// store: a NATS .creds file (the user's JWT and NKey seed) to authenticate with"),
    OPT("nats-nkey", K_STR, nats_nkey,
        "nats:// store: a file holding the user's NKey seed (SU...) to authenticate with"),
    OPT("nats-tls-ca", K_STR, nats_tls_ca,
        "nats:// store: CA certificates (PEM) the servers' certificates are checked against; "
        "TLS is on with it or with nats-tls-cert"),
    OPT("nats-tls-cert", K_STR, nats_tls_cert,
        "nats:// store: this relay's client certificate (PEM), for servers that ask for one"),
    OPT("nats-tls-key", K_STR, nats_tls_key, "nats:// store: that certificate's key (PEM)"),
    OPT("brand", K_BRAND, brands, "brand pin file to serve (repeatable)"),
    OPT("tls-cert", K_STR, tls_cert, "TLS certificate (PEM); TLS is off without it"),
    OPT("tls-key", K_STR, tls_key, "TLS private key (PEM)"),
    OPT("origin", K_ORIGIN, origins, "allowed browser Origin (repeatable; default any)"),
    OPT("log", K_STR, log_path, "log file (JSON lines; default stderr)"),
    OPT("log-level", K_LEVEL, log_level, "debug, info, warn or error (default info)"),
    OPT("port-file", K_STR, port_file, "write the bound port to this file once listening"),
    OPT("ttl", K_U64, ttl, "seconds an envelope is kept (default 2592000, 30 days)"),
    OPT("max-frame", K_SIZE, max_frame, "largest WebSocket message in bytes (default 66560)"),
    OPT("rate", K_U32, rate, "frames per second per connection (default 200)"),
    OPT("burst", K_U32, burst, "burst of frames per connection (default 400)"),
    OPT("rate-unauth", K_U32, rate_unauth,
        "frames per second before authentication, control frames included (default 5)"),
    OPT("burst-unauth", K_U32, burst_unauth, "burst of frames before authentication (default 20)"),
    OPT("publish-rate", K_U32, publish_rate,
        "directory publications per minute per connection, also the burst (default 6)"),
    OPT("prekey-fetch-rate", K_U32, prekey_fetch_rate,
        "one-time prekeys a minute to one connection, also the burst (default 20, 0: no limit)"),
    OPT("prekey-owner-rate", K_U32, prekey_owner_rate,
        "one-time prekeys a minute of one owner, also the burst (default 10, 0: no limit)"),
    OPT("max-conn-per-ip", K_U32, max_conn_per_ip, "connections per client IP (default 256)"),
    OPT("max-outbound", K_SIZE, max_outbound, "bytes queued to one connection (default 1 MiB)"),
    OPT("max-outbound-unauth", K_SIZE, max_outbound_unauth,
        "bytes queued to a connection before it authenticates (default 16384)"),
    OPT("window-envelopes", K_U32, window_envelopes,
        "envelopes delivered to a connection and not yet acknowledged (default 64)"),
    OPT("window-bytes", K_U64, window_bytes,
        "bytes of those, at most half of max-outbound (default 131072)"),
    OPT("quota-count", K_U32, quota_count, "envelopes stored per recipient (default 10000)"),
    OPT("quota-bytes", K_U64, quota_bytes, "bytes stored per recipient (default 64 MiB)"),
    OPT("pair-quota-count", K_U32, pair_quota_count,
        "envelopes stored for one recipient from one sender (default 2500, 0: no limit)"),
    OPT("pair-quota-bytes", K_U64, pair_quota_bytes,
        "bytes stored for one recipient from one sender (default 16 MiB, 0: no limit)"),
    OPT("sender-count", K_U32, sender_count,
        "envelopes one sender may store per sender-window (default 10000, 0: no limit)"),
    OPT("sender-bytes", K_U64, sender_bytes,
        "bytes one sender may store per sender-window (default 16 MiB, 0: no limit)"),
    OPT("sender-window", K_U32, sender_window,
        "seconds over which a sender's budget refills (default 3600)"),
    OPT("max-db-bytes", K_U64, max_db_bytes,
        "database size beyond which sends are refused (default 4 GiB, 0: no limit)"),
    OPT("auth-timeout", K_U32, auth_timeout, "seconds to authenticate (default 10)"),
    OPT("idle-timeout", K_U32, idle_timeout, "seconds without traffic before close (default 60)"),
    OPT("frame-timeout", K_U32, frame_timeout, "seconds to finish a started frame (default 10)"),
    OPT("expiry-interval", K_U32, expiry_interval, "seconds between expiry sweeps (default 60)"),
    OPT("audit-log", K_STR, audit_log,
        "audit log, hash-chained JSON lines (default <db>.audit; on NATS parley-relay.audit)"),
    OPT("audit-retention", K_U64, audit_retention,
        "seconds audit entries are kept: 15552000 (180 days) to 31536000 (365 days, default)"),
    OPT("audit-segment", K_U64, audit_segment,
        "seconds per audit segment file (default 86400; with the retention at most 366 days)"),
    OPT("web-root", K_STR, web_root,
        "directory of static files served over HTTP GET (the widget; default none)"),
    OPT("web-frame-ancestors", K_STR, web_frame_ancestors,
        "pages that may frame what web-root serves, as CSP frame-ancestors (default 'self')"),
    OPT("web-max-file", K_U64, web_max_file,
        "largest file web-root serves in bytes (default 16 MiB)"),
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

void config_defaults(struct relay_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->listen, sizeof(c->listen), "127.0.0.1");
    c->port = 8787;
    snprintf(c->store, sizeof(c->store), "sqlite:parley-relay.db");
    c->log_level = 1;
    c->ttl = 30u * 24 * 3600;
    c->max_frame = 65536 + 1024;
    c->rate = 200;
    c->burst = 400;
    c->rate_unauth = 5;
    c->burst_unauth = 20;
    c->publish_rate = 6;
    c->prekey_fetch_rate = 20;
    c->prekey_owner_rate = 10;
    c->max_conn_per_ip = 256;
    c->max_outbound = 1u << 20;
    c->max_outbound_unauth = 16384;
    c->window_envelopes = 64;
    c->window_bytes = 128u * 1024;
    c->quota_count = 10000;
    c->quota_bytes = 64ull << 20;
    c->pair_quota_count = 2500;
    c->pair_quota_bytes = 16ull << 20;
    c->sender_count = 10000;
    c->sender_bytes = 16ull << 20;
    c->sender_window = 3600;
    c->max_db_bytes = 4ull << 30;
    c->auth_timeout = 10;
    c->idle_timeout = 60;
    c->frame_timeout = 10;
    c->expiry_interval = 60;
    c->audit_retention = 365u * 24 * 3600;
    c->audit_segment = 24u * 3600;
    snprintf(c->web_frame_ancestors, sizeof(c->web_frame_ancestors), "'self'");
    c->web_max_file = 16u << 20;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (*s == '\0' || *s == '-' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The pin line is libparley's to parse (parley_pin_parse); a relay takes only a relay pin. */
int config_load_brand(struct relay_brand *b, const char *path)
{
    parley_pin pin;

    _Static_assert(sizeof(b->id) >= sizeof(pin.brand_id), "a brand id fits relay_brand");
    if (pin_load(path, PIN_RELAY, &pin) != 0)
        return -1;
    memcpy(b->id, pin.brand_id, sizeof(pin.brand_id));
    memcpy(b->key, pin.brand_pk, sizeof(b->key));
    sodium_memzero(&pin, sizeof(pin));
    return 0;
}

static int set_option(struct relay_config *c, const struct option_def *o, const char *value)
{
    char *field = (char *)c + o->offset;
    uint64_t v;

    switch (o->kind) {
    case K_STR:
        if (strlen(value) >= o->size)
            return -1;
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case K_INT:
        if (parse_u64(value, 65535, &v) != 0)
            return -1;
        *(int *)field = (int)v;
        return 0;
    case K_U32:
        if (parse_u64(value, UINT32_MAX, &v) != 0)
            return -1;
        *(uint32_t *)field = (uint32_t)v;
        return 0;
    case K_U64:
        if (parse_u64(value, UINT64_MAX, &v) != 0)
            return -1;
        *(uint64_t *)field = v;
        return 0;
    case K_SIZE:
        if (parse_u64(value, SIZE_MAX, &v) != 0)
            return -1;
        *(size_t *)field = (size_t)v;
        return 0;
    case K_LEVEL: {
        static const char *const levels[] = {"debug", "info", "warn", "error"};
        for (int i = 0; i < 4; i++)
            if (strcmp(value, levels[i]) == 0) {
                *(int *)field = i;
                return 0;
            }
        return -1;
    }
    case K_BRAND:
        if (c->n_brands == RELAY_MAX_BRANDS)
            return -1;
        if (config_load_brand(&c->brands[c->n_brands], value) != 0)
            return -2; /* already reported */
        c->n_brands++;
        return 0;
    case K_DB:
        if (value[0] == '\0' || strlen(value) + 8 > o->size)
            return -1;
        snprintf(field, o->size, "sqlite:%s", value);
        return 0;
    case K_ORIGIN:
        if (c->n_origins == RELAY_MAX_ORIGINS || value[0] == '\0' ||
            strlen(value) >= sizeof(c->origins[0]))
            return -1;
        snprintf(c->origins[c->n_origins++], sizeof(c->origins[0]), "%s", value);
        return 0;
    }
    return -1;
}

static const struct option_def *find_option(const char *name)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

static int apply(struct relay_config *c, const char *where, const char *name, const char *value)
{
    const struct option_def *o = find_option(name);
    int rc;

    if (o == NULL) {
        fprintf(stderr, "parley-relay: %s: unknown setting '%s'\n", where, name);
        return -1;
    }
    rc = set_option(c, o, value);
    if (rc == -1)
        fprintf(stderr, "parley-relay: %s: bad value for %s: '%s'\n", where, name, value);
    return rc < 0 ? -1 : 0;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int config_load_stream(struct relay_config *c, FILE *f, const char *name)
{
    char line[CONFIG_MAX_LINE + 2], where[600];
    int lineno = 0, rc = 0;

    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        char *s, *eq;

        lineno++;
        snprintf(where, sizeof(where), "%s:%d", name, lineno);
        /*
         * A line that does not fit is an error, not two lines: the rest of
         * a long comment must never be read as a setting. A NUL byte
         * hides the newline from strchr() and is refused the same way.
         */
        if (strchr(line, '\n') == NULL && !feof(f)) {
            fprintf(stderr,
                    "parley-relay: %s: line longer than %d bytes or holding a NUL byte\n",
                    where, CONFIG_MAX_LINE);
            rc = -1;
            break;
        }
        s = strchr(line, '#');
        if (s != NULL)
            *s = '\0';
        s = trim(line);
        if (*s == '\0')
            continue;
        eq = strchr(s, '=');
        if (eq == NULL) {
            fprintf(stderr, "parley-relay: %s: expected 'key = value'\n", where);
            rc = -1;
            break;
        }
        *eq = '\0';
        rc = apply(c, where, trim(s), trim(eq + 1));
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "parley-relay: %s: read error\n", name);
        rc = -1;
    }
    return rc;
}

static int config_load_file(struct relay_config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    int rc;

    if (f == NULL) {
        fprintf(stderr, "parley-relay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    rc = config_load_stream(c, f, path);
    fclose(f);
    return rc;
}

static void usage(void)
{
    printf("usage: parley-relay [--config FILE] [--SETTING VALUE]...\n\n"
           "The Parley relay: stores and forwards end-to-end encrypted envelopes.\n"
           "Every setting can be given as a flag or as 'SETTING = VALUE' in the config file;\n"
           "flags override the file.\n\n");
    for (size_t i = 0; i < N_OPTIONS; i++)
        printf("  --%-17s %s\n", options[i].name, options[i].help);
    printf("\nGET /healthz and GET /metrics are served on the same listener, and with\n"
           "--web-root the files of that directory.\n");
}

int config_parse_args(struct relay_config *c, int argc, char **argv)
{
    /* The config file first, so that flags override it wherever they appear. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "parley-relay: --config needs a file\n");
                return -1;
            }
            if (config_load_file(c, argv[i + 1]) != 0)
                return -1;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "parley-relay: unexpected argument '%s' (try --help)\n", a);
            return -1;
        }
        if (apply(c, "command line", a + 2, argv[i + 1]) != 0)
            return -1;
        i++;
    }
    return config_check(c);
}

/*
 * The audit log's retention, within the six to twelve months the CNIL
 * recommends for logs: long enough to investigate an incident, no longer
 * than needed. Entries go a segment at a time, so a segment adds to it.
 */
static int config_check_audit(const struct relay_config *c)
{
    if (c->audit_retention < CONFIG_AUDIT_RETENTION_MIN ||
        c->audit_retention > CONFIG_AUDIT_RETENTION_MAX) {
        fprintf(stderr,
                "parley-relay: audit-retention must be between %llu (180 days) and %llu (365 "
                "days) seconds, not %llu: the audit log is kept 6 to 12 months\n",
                CONFIG_AUDIT_RETENTION_MIN, CONFIG_AUDIT_RETENTION_MAX,
                (unsigned long long)c->audit_retention);
        return -1;
    }
    if (c->audit_segment > CONFIG_AUDIT_KEPT_MAX - c->audit_retention) {
        fprintf(stderr,
                "parley-relay: audit-segment %llu is too long for audit-retention %llu: an "
                "entry is kept up to one segment past the retention, at most %llu seconds "
                "(366 days) in all\n",
                (unsigned long long)c->audit_segment, (unsigned long long)c->audit_retention,
                CONFIG_AUDIT_KEPT_MAX);
        return -1;
    }
    return 0;
}

/* The nats-* settings: for a nats:// store only, and in the pairs NATS takes them. */
static int config_check_nats(const struct relay_config *c)
{
    bool any = c->nats_user[0] || c->nats_password[0] || c->nats_token[0] || c->nats_tls_ca[0] ||
               c->nats_tls_cert[0] || c->nats_tls_key[0] || c->nats_creds[0] || c->nats_nkey[0];
    int ways = (c->nats_user[0] != '\0') + (c->nats_token[0] != '\0') +
               (c->nats_creds[0] != '\0') + (c->nats_nkey[0] != '\0');

    if (any && strncmp(c->store, "nats:", 5) != 0) {
        fprintf(stderr, "parley-relay: the nats-* settings are for a nats:// store, not '%s'\n",
                c->store);
        return -1;
    }
    if ((c->nats_user[0] == '\0') != (c->nats_password[0] == '\0')) {
        fprintf(stderr, "parley-relay: nats-user and nats-password go together\n");
        return -1;
    }
    if (ways > 1) {
        fprintf(stderr, "parley-relay: one of nats-user, nats-token, nats-creds and nats-nkey, "
                        "not several\n");
        return -1;
    }
    if ((c->nats_tls_cert[0] == '\0') != (c->nats_tls_key[0] == '\0')) {
        fprintf(stderr, "parley-relay: nats-tls-cert and nats-tls-key go together\n");
        return -1;
    }
    return 0;
}

int config_check(const struct relay_config *c)
{
    if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
        fprintf(stderr, "parley-relay: --tls-cert and --tls-key go together\n");
        return -1;
    }
    if (c->listen[0] == '\0') {
        fprintf(stderr, "parley-relay: listen cannot be empty\n");
        return -1;
    }
    if (!store_spec_ok(c->store)) {
        if (strncmp(c->store, "nats://", 7) == 0)
            fprintf(stderr, "parley-relay: store '%s': this relay was built without libnats (the "
                            "NATS JetStream store); rebuild it with libnats-dev installed\n",
                    c->store);
        else
            fprintf(stderr, "parley-relay: store must be sqlite:PATH or nats://HOST:PORT,..., "
                            "not '%s'\n", c->store);
        return -1;
    }
    if (config_check_nats(c) != 0)
        return -1;
    if (!web_frame_ancestors_ok(c->web_frame_ancestors)) {
        fprintf(stderr, "parley-relay: web-frame-ancestors must be a CSP source list "
                        "(printable, without ';' or ',')\n");
        return -1;
    }
    /*
     * Upper bounds too: the relay counts timeouts in 32-bit milliseconds,
     * adds max_frame to its buffer sizes and compares durations as signed
     * 64-bit seconds; past these a value would wrap around into a much
     * smaller one (an audit retention of 2^63 seconds would delete every
     * closed audit segment at once).
     */
    if (c->max_frame < 1024 || c->max_frame > CONFIG_MAX_FRAME || c->rate == 0 || c->burst == 0 ||
        c->rate_unauth == 0 || c->burst_unauth == 0 || c->max_outbound_unauth < 1024 ||
        c->publish_rate == 0 || c->sender_window == 0 || c->sender_window > CONFIG_MAX_DURATION ||
        c->window_envelopes == 0 || c->window_envelopes > 65536 || c->window_bytes == 0 ||
        c->auth_timeout == 0 || c->auth_timeout > CONFIG_MAX_TIMEOUT || c->idle_timeout < 2 ||
        c->idle_timeout > CONFIG_MAX_TIMEOUT || c->frame_timeout == 0 ||
        c->frame_timeout > CONFIG_MAX_TIMEOUT || c->expiry_interval == 0 ||
        c->expiry_interval > CONFIG_MAX_TIMEOUT || c->ttl == 0 || c->ttl > CONFIG_MAX_DURATION ||
        c->audit_segment == 0 || c->web_max_file > CONFIG_MAX_WEB_FILE) {
        fprintf(stderr, "parley-relay: a limit is out of range (see --help)\n");
        return -1;
    }
    return config_check_audit(c);
}
