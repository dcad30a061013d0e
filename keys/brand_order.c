/*
 * "parley-keys brand order": the brand's erasure and access orders for a
 * customer key, carried out without the customer's device (docs/gdpr.md).
 * erase|export signs an order with the brand key into a file; submit hands
 * it to a relay; status reads back the agents' signed receipts, verifies
 * each against the brand pin, and lists who has carried it out and, given
 * the directory, who has not yet.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "commands.h"
#include "files.h"
#include "keyfile.h"
#include "pin.h"
#include "util.h"

#define CMD "brand order"
#define DEFAULT_DAYS 30u
#define DEFAULT_TIMEOUT_S 20u
#define MAX_RECEIPTS 4096u

static const char usage[] =
    "Usage: parley-keys brand order erase|export --customer KEY --key brand.key --out FILE\n"
    "                               [--days N] [--force]\n"
    "                               [--passphrase-file FILE | --passphrase-env VAR]\n"
    "       parley-keys brand order submit FILE --relay URL [--timeout SECONDS]\n"
    "       parley-keys brand order status FILE --relay URL --brand PIN\n"
    "                               [--directory FILE] [--timeout SECONDS]\n"
    "\n"
    "erase|export signs an order, for the customer whose Ed25519 key is KEY (64 hex\n"
    "digits, the customer_sign_key of an export), that the relay and every agent\n"
    "client of the brand carry out without the customer's device: erase what they\n"
    "hold, or export it (GDPR art. 17, art. 15). submit hands the order to the relay;\n"
    "status reads back the agents' signed receipts, verifies them against the pin and\n"
    "prints one line per agent: done, kept (legal hold), failed, or, with the client\n"
    "pin and the directory, pending.\n"
    "\n"
    "  --customer KEY          the customer's signing key, hex\n"
    "  --key FILE              the brand key file\n"
    "  --out FILE              the order file to write\n"
    "  --days N                validity from now, 1 to 90 days (default 30)\n"
    "  --force                 replace an existing order file\n"
    "  --relay URL             the relay, ws://HOST:PORT/ or wss://...\n"
    "  --brand FILE            the brand pin (the client pin with --directory)\n"
    "  --directory FILE        the brand directory: its agents without a receipt are pending\n"
    "  --timeout SECONDS       how long to wait for the relay (default 20)\n" CLI_HELP_PASS
    "\n"
    "Exit status of status: 0 when no agent of the directory is pending or failed.\n";

struct order_opts {
    const char *cmd;  /* erase, export, submit, status */
    const char *file; /* submit, status: the order */
    const char *customer, *key, *out, *relay, *brand, *directory;
    uint64_t days, timeout;
    int force;
    struct passphrase_source pass;
};

/* What each subcommand needs, its operands from first on; -1 to go on, or an exit code. */
static int parse_check(struct order_opts *o, int argc, char **argv, int first)
{
    bool sign = strcmp(o->cmd, "erase") == 0 || strcmp(o->cmd, "export") == 0;

    if (sign) {
        if (argc - first != 0)
            return cli_usage_error(CMD, "%s takes no FILE: --out names it", o->cmd);
        if (o->customer == NULL || o->key == NULL || o->out == NULL)
            return cli_usage_error(CMD, "--customer, --key and --out are required");
        return -1;
    }
    if (argc - first != 1)
        return cli_usage_error(CMD, "give exactly one order FILE");
    o->file = argv[first];
    if (o->relay == NULL)
        return cli_usage_error(CMD, "--relay is required");
    if (strcmp(o->cmd, "status") == 0 && o->brand == NULL)
        return cli_usage_error(CMD, "--brand is required to verify the receipts");
    return -1;
}

static int parse(int argc, char **argv, struct order_opts *o)
{
    const struct cli_opt opts[] = {
        CLI_STR_OPT("customer", &o->customer),
        CLI_STR_OPT("key", &o->key),
        CLI_STR_OPT("out", &o->out),
        CLI_U64_OPT("days", &o->days, NULL, 1, PARLEY_ORDER_MAX_DAYS),
        CLI_FLAG_OPT("force", &o->force),
        CLI_STR_OPT("relay", &o->relay),
        CLI_STR_OPT("brand", &o->brand),
        CLI_STR_OPT("directory", &o->directory),
        CLI_U64_OPT("timeout", &o->timeout, NULL, 1, 3600),
        CLI_END_OPT,
    };
    int rc, first;

    memset(o, 0, sizeof(*o));
    o->days = DEFAULT_DAYS;
    o->timeout = DEFAULT_TIMEOUT_S;
    if (argc < 2 || (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return argc < 2 ? cli_usage_error(CMD, "erase, export, submit or status?")
                        : cli_help(usage);
    o->cmd = argv[1];
    if (strcmp(o->cmd, "erase") != 0 && strcmp(o->cmd, "export") != 0 &&
        strcmp(o->cmd, "submit") != 0 && strcmp(o->cmd, "status") != 0)
        return cli_usage_error(CMD, "unknown command '%s'", o->cmd);
    if ((rc = cli_parse(CMD, usage, argc - 1, argv + 1, opts, &o->pass, &first)) != -1)
        return rc;
    return parse_check(o, argc - 1, argv + 1, first);
}

static int sign_order(const struct order_opts *o)
{
    parley_identity *brand = NULL;
    char brand_id[PARLEY_MAX_ID + 1], expires[KEYS_TIME_LEN], hex[33];
    uint8_t customer[32], *order = NULL;
    size_t order_len = 0, bin_len = 0;
    parley_order_info info;
    uint64_t now = keys_now();
    parley_err err;
    int rc = KEYS_EXIT_FAIL;

    if (strlen(o->customer) != 64 ||
        sodium_hex2bin(customer, sizeof(customer), o->customer, 64, NULL, &bin_len, NULL) != 0 ||
        bin_len != 32)
        return cli_usage_error(CMD, "--customer must be 64 hex digits");
    if (!o->force && files_refuse_existing(o->out) != 0)
        return KEYS_EXIT_FAIL;
    if (keys_brand_load(o->key, &o->pass, &brand, brand_id) != 0)
        return KEYS_EXIT_FAIL;
    err = parley_order_build(brand, brand_id,
                             strcmp(o->cmd, "erase") == 0 ? PARLEY_ORDER_ERASE : PARLEY_ORDER_EXPORT,
                             customer, now, now + o->days * 86400u, &order, &order_len);
    if (err == PARLEY_OK)
        err = parley_order_verify(order, order_len, parley_identity_sign_pk(brand), brand_id, 0,
                                  &info);
    if (err != PARLEY_OK) {
        report_error(o->out, "cannot sign the order: %s", keys_strerror(err));
        goto done;
    }
    if (files_write(o->out, FILES_MAGIC_ORDER, order, order_len, FILES_MODE_SECRET, o->force) != 0)
        goto done;
    sodium_bin2hex(hex, sizeof(hex), info.order_id, sizeof(info.order_id));
    keys_format_time(info.expires_at, expires);
    printf("order:        %s (%s) for brand %s\n", hex, o->cmd, brand_id);
    printf("customer:     %s\n", o->customer);
    printf("expires:      %s\n", expires);
    printf("file:         %s\n", o->out);
    rc = KEYS_EXIT_OK;
done:
    parley_free(order, order_len);
    parley_identity_free(brand);
    return rc;
}

/* The relay's answer, said for an admin. */
static void report_relay(const char *path, const char *what, parley_err err, int relay_code)
{
    if (err == PARLEY_EREPLAY)
        report_error(path, "%s: the relay holds this order already (submitted before)", what);
    else if (relay_code != 0)
        report_error(path, "%s: refused by the relay: %s (relay code %d)", what,
                     keys_strerror(err), relay_code);
    else
        report_error(path, "%s: %s", what, keys_strerror(err));
}

static int submit(const struct order_opts *o, const struct files_object *f)
{
    int relay_code = 0;
    parley_err err = parley_order_submit(o->relay, f->body, f->body_len,
                                         (int)(o->timeout * 1000u), &relay_code);

    if (err != PARLEY_OK) {
        report_relay(o->file, "submit", err, relay_code);
        return KEYS_EXIT_FAIL;
    }
    printf("stored by the relay: %s\n", o->relay);
    return KEYS_EXIT_OK;
}

struct receipts {
    const parley_pin *pin;
    const uint8_t *order_id;
    parley_order_receipt_info *list;
    size_t n, cap;
    size_t invalid;
};

static void take_receipt(void *arg, const uint8_t *buf, size_t len)
{
    struct receipts *r = arg;
    parley_order_receipt_info info;
    parley_order_receipt_info *grown;
    parley_err err = parley_order_receipt_verify(buf, len, r->pin->brand_pk, r->pin->brand_id,
                                                 &info);

    if (err == PARLEY_OK && sodium_memcmp(info.order_id, r->order_id, 16) != 0)
        err = PARLEY_EWRONGTYPE;
    if (err != PARLEY_OK || r->n >= MAX_RECEIPTS) {
        report_error(NULL, "a receipt does not verify: %s", keys_strerror(err));
        r->invalid++;
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        grown = realloc(r->list, cap * sizeof(*grown));
        if (grown == NULL) {
            r->invalid++;
            return;
        }
        r->list = grown;
        r->cap = cap;
    }
    r->list[r->n++] = info;
}

static const char *outcome_name(parley_order_outcome o)
{
    return o == PARLEY_ORDER_DONE ? "done" : o == PARLEY_ORDER_KEPT ? "kept" : "failed";
}

/* One line per receipt; then, from the directory, its agents that have none. Pending: counted. */
static size_t print_status(const struct receipts *r, const parley_directory *d, size_t *failed)
{
    size_t pending = 0;

    *failed = 0;
    for (size_t i = 0; i < r->n; i++) {
        char at[KEYS_TIME_LEN];
        keys_format_time(r->list[i].time_ms / 1000u, at);
        printf("%-8s %-24s conversations %" PRIu32 "  messages %" PRIu64 "  at %s\n",
               outcome_name(r->list[i].outcome), r->list[i].agent.agent_id,
               r->list[i].conversations, r->list[i].messages, at);
        *failed += r->list[i].outcome == PARLEY_ORDER_FAILED;
    }
    for (size_t a = 0; d != NULL && a < parley_directory_agent_count(d); a++) {
        parley_cert_info info;
        bool answered = false;

        if (parley_directory_agent(d, a, &info) != PARLEY_OK)
            continue; /* expired or revoked: not expected to answer */
        for (size_t i = 0; i < r->n && !answered; i++)
            answered = sodium_memcmp(r->list[i].agent.sign_pk, info.sign_pk, 32) == 0;
        if (!answered) {
            printf("%-8s %s\n", "pending", info.agent_id);
            pending++;
        }
    }
    return pending;
}

static int load_directory(const struct order_opts *o, const parley_pin *pin, parley_directory **d)
{
    struct files_object f;
    parley_err err;

    *d = NULL;
    if (o->directory == NULL)
        return 0;
    if (!pin->has_directory_key) {
        report_error(o->brand, "--directory needs the client pin (it opens the agents' list)");
        return -1;
    }
    if (files_load(o->directory, FILES_KIND_DIRECTORY, &f) != 0)
        return -1;
    err = parley_directory_open(d, f.body, f.body_len, pin->brand_pk, pin->brand_id,
                                pin->directory_key, 0, keys_now());
    files_release(&f);
    if (err != PARLEY_OK)
        report_error(o->directory, "%s", keys_strerror(err));
    return err == PARLEY_OK ? 0 : -1;
}

static int status(const struct order_opts *o, const struct files_object *f, const parley_pin *pin)
{
    struct receipts r = {pin, NULL, NULL, 0, 0, 0};
    parley_directory *d = NULL;
    parley_order_info info;
    size_t pending, failed;
    int relay_code = 0, rc = KEYS_EXIT_FAIL;
    parley_err err = parley_order_verify(f->body, f->body_len, pin->brand_pk, pin->brand_id, 0,
                                         &info);

    if (err != PARLEY_OK) {
        report_error(o->file, "not an order of brand %s: %s", pin->brand_id, keys_strerror(err));
        return KEYS_EXIT_FAIL;
    }
    if (load_directory(o, pin, &d) != 0)
        return KEYS_EXIT_FAIL;
    r.order_id = info.order_id;
    err = parley_order_status(o->relay, f->body, f->body_len, (int)(o->timeout * 1000u),
                              take_receipt, &r, &relay_code);
    if (err != PARLEY_OK) {
        report_relay(o->file, "status", err, relay_code);
        goto done;
    }
    pending = print_status(&r, d, &failed);
    printf("%zu receipt%s, %zu pending, %zu invalid\n", r.n, r.n == 1 ? "" : "s", pending,
           r.invalid);
    rc = pending == 0 && failed == 0 ? KEYS_EXIT_OK : KEYS_EXIT_FAIL;
done:
    free(r.list);
    parley_directory_free(d);
    return rc;
}

static int relay_call(const struct order_opts *o)
{
    struct files_object f;
    parley_pin pin;
    int rc = KEYS_EXIT_FAIL;

    memset(&pin, 0, sizeof(pin));
    if (files_load(o->file, FILES_KIND_ORDER, &f) != 0)
        return KEYS_EXIT_FAIL;
    if (strcmp(o->cmd, "submit") == 0)
        rc = submit(o, &f);
    else if (pin_load(o->brand, PIN_ANY, &pin) == 0)
        rc = status(o, &f, &pin);
    sodium_memzero(&pin, sizeof(pin));
    files_release(&f);
    return rc;
}

int cmd_brand_order(int argc, char **argv)
{
    struct order_opts o;
    int rc = parse(argc, argv, &o);

    if (rc >= 0)
        return rc;
    if (strcmp(o.cmd, "erase") == 0 || strcmp(o.cmd, "export") == 0)
        return sign_order(&o);
    return relay_call(&o);
}

int keys_show_order(const char *path, const struct files_object *f, const parley_pin *pin)
{
    parley_order_info info;
    char hex[65], t1[KEYS_TIME_LEN], t2[KEYS_TIME_LEN];
    parley_err err;

    err = parley_order_verify(f->body, f->body_len, pin != NULL ? pin->brand_pk : NULL,
                              pin != NULL ? pin->brand_id : NULL, 0, &info);
    if (err != PARLEY_OK) {
        report_error(path, "%s", keys_strerror(err));
        return KEYS_EXIT_FAIL;
    }
    printf("brand:        %s\n", info.brand_id);
    sodium_bin2hex(hex, sizeof(hex), info.order_id, 16);
    printf("order:        %s (%s)\n", hex, info.kind == PARLEY_ORDER_ERASE ? "erase" : "export");
    keys_hex32(info.customer_sign_pk, hex);
    printf("customer:     %s\n", hex);
    keys_format_time(info.issued_at, t1);
    keys_format_time(info.expires_at, t2);
    printf("valid:        %s to %s\n", t1, t2);
    printf("signature:    %s\n", pin != NULL ? "valid (brand key of the pin)" : "not checked");
    return KEYS_EXIT_OK;
}
