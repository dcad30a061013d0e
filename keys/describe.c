/*
 * Human-readable renderings of Parley objects for the brand admin. Keys
 * are shown as lowercase hex and as the fingerprint people compare aloud;
 * times as UTC ISO-8601 followed by the Unix seconds used on the wire.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "describe.h"
#include "scanguard.h"
#include "util.h"

void keys_print_keys(const uint8_t sign_pk[32], const uint8_t box_pk[32])
{
    char hex[KEYS_HEX32_LEN];
    char fp[PARLEY_FINGERPRINT_LEN];

    keys_hex32(sign_pk, hex);
    printf("signing key:  %s\n", hex);
    if (box_pk != NULL) {
        keys_hex32(box_pk, hex);
        printf("box key:      %s\n", hex);
    }
    parley_fingerprint(sign_pk, fp);
    printf("fingerprint:  %s\n", fp);
}

void keys_print_cert(const parley_cert_info *info)
{
    char from[KEYS_TIME_LEN], until[KEYS_TIME_LEN];

    keys_format_time(info->not_before, from);
    keys_format_time(info->not_after, until);
    printf("brand id:     %s\n", info->brand_id);
    printf("serial:       %" PRIu64 "\n", info->serial);
    printf("agent id:     %s\n", info->agent_id);
    printf("name:         %s\n", info->display_name);
    keys_print_keys(info->sign_pk, info->box_pk);
    printf("valid from:   %s (%" PRIu64 ")\n", from, info->not_before);
    printf("valid until:  %s (%" PRIu64 ", exclusive)\n", until, info->not_after);
}

const char *keys_status_name(parley_err status)
{
    switch (status) {
    case PARLEY_OK:
        return "valid";
    case PARLEY_EEXPIRED:
        return "expired";
    case PARLEY_ENOTYETVALID:
        return "not yet valid";
    case PARLEY_EREVOKED:
        return "revoked";
    default:
        return parley_strerror(status);
    }
}

void keys_print_revlist(const parley_revlist *r)
{
    size_t n = parley_revlist_count(r);

    printf("version:      %" PRIu64 "\n", parley_revlist_version(r));
    printf("revoked:      %zu serial%s\n", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++)
        printf("  serial %" PRIu64 "\n", parley_revlist_serial(r, i));
}

static void print_directory_agents(const parley_directory *d)
{
    size_t n = parley_directory_agent_count(d);

    printf("agents:       %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        parley_cert_info info;
        parley_err st = parley_directory_agent(d, i, &info);
        char fp[PARLEY_FINGERPRINT_LEN], until[KEYS_TIME_LEN];

        parley_fingerprint(info.sign_pk, fp);
        keys_format_time(info.not_after, until);
        printf("  agent %s (%s) serial %" PRIu64 ": %s; until %s; fingerprint %s\n", info.agent_id,
               info.display_name, info.serial, keys_status_name(st), until, fp);
    }
}

static void print_directory_queues(const parley_directory *d)
{
    size_t nq = parley_directory_queue_count(d);

    printf("queues:       %zu\n", nq);
    for (size_t q = 0; q < nq; q++) {
        size_t n = parley_directory_queue_size(d, q);

        printf("  queue %s:", parley_directory_queue_name(d, q));
        for (size_t i = 0; i < n; i++)
            printf("%s%s", i == 0 ? " " : ",", parley_directory_queue_agent(d, q, i));
        printf("\n");
    }
}

static void print_directory_expiry(uint64_t expires_at)
{
    char until[KEYS_TIME_LEN];

    keys_format_time(expires_at, until);
    printf("valid until:  %s (%" PRIu64 ", exclusive; clients refuse it from then on)\n", until,
           expires_at);
}

/* The retention and legal hold the brand signed, as devices will apply them. */
static void print_directory_retention(const parley_directory *d)
{
    uint32_t days = parley_directory_history_days(d), hold = parley_directory_legal_hold_days(d);

    if (days != 0)
        printf("history:      devices keep messages %" PRIu32 " days after receiving them\n", days);
    else
        printf("history:      not set (devices keep messages %u days unless set locally)\n",
               PARLEY_HISTORY_DEFAULT_DAYS);
    if (parley_directory_keep_on_erasure(d) && hold != 0)
        printf("legal hold:   %" PRIu32 " days after an erasure request, then deleted\n", hold);
    else if (parley_directory_keep_on_erasure(d))
        printf("legal hold:   as long as the history retention, then deleted\n");
}

/* The categories the brand's guard policy does not allow, with their action. */
static void print_directory_guard(const parley_directory *d)
{
    parley_scan_policy p;
    int any = 0;

    parley_directory_guard_policy(d, &p);
    printf("guard:       ");
    for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++) {
        if (p.action[c] == PARLEY_SCAN_ALLOW)
            continue;
        printf(" %s=%s", parley_scan_category_name((parley_scan_category)c),
               scanguard_action_name(p.action[c]));
        any = 1;
    }
    printf("%s\n", any ? "" : " (none: each client's own policy)");
}

void keys_print_directory(const parley_directory *d)
{
    size_t np = parley_directory_purpose_count(d);

    printf("version:      %" PRIu64 "\n", parley_directory_version(d));
    print_directory_expiry(parley_directory_expires_at(d));
    printf("notice:       version %" PRIu32 ", %zu bytes\n", parley_directory_notice_version(d),
           strlen(parley_directory_notice_text(d)));
    printf("purposes:    ");
    for (size_t i = 0; i < np; i++)
        printf(" %s%s", parley_directory_purpose(d, i),
               parley_directory_purpose_required(d, i) ? "" : " (optional)");
    printf("%s\n", np == 0 ? " (none)" : "");
    printf("on erasure:   %s\n", parley_directory_keep_on_erasure(d)
                                      ? "agents keep (marked): the brand must retain conversations"
                                      : "agents delete their copy");
    print_directory_retention(d);
    print_directory_guard(d);
    print_directory_agents(d);
    print_directory_queues(d);
}

void keys_print_sealed_directory(uint64_t version, uint64_t expires_at)
{
    printf("version:      %" PRIu64 "\n", version);
    print_directory_expiry(expires_at);
    /* parley_directory_check() verified any embedded list under the brand key. */
    printf("revocations:  valid (signed by the brand)\n");
    printf("content:      sealed (give the client pin to read agents and notice)\n");
}

void keys_report_directory_error(const char *path, parley_err err, const char *brand_id,
                                 uint64_t expires_at)
{
    char until[KEYS_TIME_LEN];

    if (err == PARLEY_EBADSEAL) {
        report_error(path, "%s (directory key does not match)", keys_strerror(err));
    } else if (err == PARLEY_EEXPIRED) {
        keys_format_time(expires_at, until);
        report_error(path, "%s (valid until %s: publish a new version)", keys_strerror(err), until);
    } else
        report_error(path, "%s (checked against brand '%s')", keys_strerror(err), brand_id);
}

void keys_report_cert_error(const char *path, parley_err err, const uint8_t *buf, size_t len,
                            const char *brand_id, const parley_cert_info *info)
{
    parley_cert_info claimed;
    char when[KEYS_TIME_LEN];

    switch (err) {
    case PARLEY_EBADSIG:
        /* Another brand's key signed it, or it was forged: say which brand it claims. */
        if (parley_cert_inspect(buf, len, &claimed) == PARLEY_OK &&
            strcmp(claimed.brand_id, brand_id) != 0) {
            report_error(path, "%s (issued for brand '%s', not '%s')",
                       parley_strerror(PARLEY_EWRONGBRAND), claimed.brand_id, brand_id);
            return;
        }
        report_error(path, "%s (not signed by brand '%s')", keys_strerror(err), brand_id);
        return;
    case PARLEY_EWRONGBRAND:
        report_error(path, "%s (not issued for brand '%s')", keys_strerror(err), brand_id);
        return;
    case PARLEY_EEXPIRED:
        keys_format_time(info->not_after, when);
        report_error(path, "%s (valid until %s)", keys_strerror(err), when);
        return;
    case PARLEY_ENOTYETVALID:
        keys_format_time(info->not_before, when);
        report_error(path, "%s (valid from %s)", keys_strerror(err), when);
        return;
    case PARLEY_EREVOKED:
        report_error(path, "%s (serial %" PRIu64 ")", keys_strerror(err), info->serial);
        return;
    default:
        report_error(path, "%s", keys_strerror(err));
        return;
    }
}
