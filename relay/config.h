/*
 * Relay configuration: embedded defaults, a `key = value` file, and
 * command-line flags with the same names.
 */
#ifndef RELAY_CONFIG_H
#define RELAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RELAY_MAX_BRANDS 64
#define RELAY_MAX_ORIGINS 32

struct relay_brand {
    char id[65];
    uint8_t key[32];
};

struct relay_config {
    char listen[64];
    int port;
    char store[520];               /* KIND:WHERE, e.g. sqlite:parley-relay.db */
    /* A nats:// store's client settings (empty: not given); the secrets wiped once connected. */
    char nats_user[128], nats_password[256], nats_token[256];
    char nats_tls_ca[512], nats_tls_cert[512], nats_tls_key[512];
    char nats_creds[512], nats_nkey[512]; /* files: a .creds (JWT and seed), an NKey seed */
    char tls_cert[512];
    char tls_key[512];
    char log_path[512];
    char port_file[512];
    int log_level;                 /* 0 debug, 1 info, 2 warn, 3 error */
    struct relay_brand brands[RELAY_MAX_BRANDS];
    size_t n_brands;
    char origins[RELAY_MAX_ORIGINS][256];
    size_t n_origins;
    uint64_t ttl;                  /* seconds */
    size_t max_frame;              /* bytes, whole message */
    uint32_t rate;                 /* frames per second */
    uint32_t burst;
    uint32_t rate_unauth;          /* the same before authentication */
    uint32_t burst_unauth;
    uint32_t publish_rate;         /* directory publications per minute per connection */
    uint32_t prekey_fetch_rate;    /* one-time prekeys per minute per requesting connection */
    uint32_t prekey_owner_rate;    /* ... per owner (both also bursts; 0: no limit) */
    uint32_t max_conn_per_ip;
    size_t max_outbound;           /* bytes queued to one connection */
    size_t max_outbound_unauth;    /* ... before it authenticates */
    uint32_t window_envelopes;     /* delivered and not yet acknowledged, per connection */
    uint64_t window_bytes;         /* ... in bytes (at most half of max_outbound) */
    uint32_t quota_count;          /* envelopes stored per recipient */
    uint64_t quota_bytes;
    uint32_t pair_quota_count;     /* ... from one sender (0: no limit) */
    uint64_t pair_quota_bytes;
    uint32_t sender_count;         /* a sender's budget, refilled over sender_window (0: none) */
    uint64_t sender_bytes;
    uint32_t sender_window;        /* seconds */
    uint64_t max_db_bytes;         /* database pages in use (0: no limit) */
    uint32_t auth_timeout;         /* seconds */
    uint32_t idle_timeout;
    uint32_t frame_timeout;
    uint32_t expiry_interval;      /* seconds between expiry sweeps */
    char audit_log[512];           /* empty: <db>.audit */
    uint64_t audit_retention;      /* seconds */
    uint64_t audit_segment;        /* seconds per segment file */
    char web_root[512];            /* static files served over HTTP (empty: none) */
    char web_frame_ancestors[256]; /* CSP frame-ancestors of what is served */
    uint64_t web_max_file;         /* bytes: larger files are not served */
};

/* Longest config-file line, without its newline. */
#define CONFIG_MAX_LINE 1022
/* Upper bounds of settings: see config_check(). */
#define CONFIG_MAX_FRAME (64u << 20)              /* bytes */
#define CONFIG_MAX_TIMEOUT 86400u                 /* seconds: timeouts, expiry interval */
#define CONFIG_MAX_DURATION (100ull * 366 * 86400) /* seconds: ttl */
/*
 * The audit log is kept six to twelve months (the CNIL's guidance on
 * logs): audit-retention in seconds, 180 to 365 days, and an entry never
 * outlives its retention by more than a day (the segment it is in).
 */
#define CONFIG_AUDIT_RETENTION_MIN (180ull * 86400)
#define CONFIG_AUDIT_RETENTION_MAX (365ull * 86400)
#define CONFIG_AUDIT_KEPT_MAX (366ull * 86400)
#define CONFIG_MAX_WEB_FILE (1ull << 30)          /* bytes */

void config_defaults(struct relay_config *c);

/*
 * Applies argv (and the file named by --config, first) on top of the
 * defaults. Prints a one-line error to stderr and returns -1 on a bad
 * option or value; returns 1 when --help was printed; 0 otherwise.
 */
int config_parse_args(struct relay_config *c, int argc, char **argv);

/*
 * Applies the `key = value` lines of f (named name in messages) on top of
 * c: '#' starts a comment, blank lines are skipped, keys are the long
 * flags' names. Prints a one-line error naming the line to stderr and
 * returns -1 on an unknown key, a bad value, a line without '=', a line
 * longer than CONFIG_MAX_LINE or holding a NUL byte; 0 otherwise. Ranges
 * across settings are config_check()'s.
 */
int config_load_stream(struct relay_config *c, FILE *f, const char *name);

/* Checks that the settings go together and are in range; -1 with a message on stderr. */
int config_check(const struct relay_config *c);

/* Reads a brand pin file ("parley-brand-v1 <id> <hex>") into b; -1 with a message on error. */
int config_load_brand(struct relay_brand *b, const char *path);

#endif
