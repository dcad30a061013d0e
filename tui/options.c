/*
 * Command line of parley-agent. Every failure here is reported as one
 * line, before the screen is taken over.
 */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanguard.h"

const char options_usage[] =
    "usage: parley-agent --relay URL --brand BRAND.pub --key AGENT.key --cert AGENT.cert\n"
    "                    --store AGENT.db [--directory BRAND.dir]\n"
    "                    [--passphrase-env VAR | --passphrase-file FILE]\n"
    "                    [--kdf interactive|moderate|sensitive]\n"
    "                    [--guard CATEGORY=ACTION,...] [--history-days N]\n"
    "                    [--keep-on-erasure]\n"
    "\n"
    "  --relay URL          relay WebSocket URL, e.g. ws://127.0.0.1:8787/\n"
    "  --brand FILE         the brand's client pin (parley-brand-v1 ID KEY DIRKEY)\n"
    "  --key FILE           your key file (parley-keys agent request)\n"
    "  --cert FILE          your certificate (parley-keys brand sign)\n"
    "  --store FILE         your local store; saved replies go to FILE.canned\n"
    "  --directory FILE     a signed brand directory to publish on connecting\n"
    "  --passphrase-env VAR read the passphrase from environment variable VAR\n"
    "  --passphrase-file F  read it from the first line of F\n"
    "                       (default: asked on the terminal, echo off, 3 tries)\n"
    "  --kdf COST           hashing cost for a new store (default interactive)\n"
    "  --guard POLICY       what to do when a message looks sensitive, as\n"
    "                       CATEGORY=ACTION,... (repeatable); actions allow, warn,\n"
    "                       confirm, block, redact; categories health, religion,\n"
    "                       politics, union, ethnicity, sexual_orientation,\n"
    "                       biometric, card, iban, nir, email, phone. Default: warn\n"
    "                       for all but email and phone, which are allowed. The\n"
    "                       brand's signed policy applies where it is stricter. A\n"
    "                       warning holds the message until Enter is pressed again.\n"
    "  --history-days N     your store forgets messages N days after receiving them,\n"
    "                       checked hourly; the brand's limit applies where shorter\n"
    "                       (default: the brand's, else 180 days)\n"
    "  --keep-on-erasure    keep a conversation when its customer asks for erasure,\n"
    "                       for a legal obligation; also implied when the brand's\n"
    "                       signed directory says so\n";

int options_parse(struct options *o, int argc, char **argv, char *err, size_t err_cap)
{
    memset(o, 0, sizeof(*o));
    o->kdf = PARLEY_KDF_INTERACTIVE;
    scanguard_policy_default(&o->guard);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
            return 0;
        }
        if (strcmp(a, "--relay") == 0)
            slot = &o->relay;
        else if (strcmp(a, "--brand") == 0)
            slot = &o->brand_path;
        else if (strcmp(a, "--key") == 0)
            slot = &o->key_path;
        else if (strcmp(a, "--cert") == 0)
            slot = &o->cert_path;
        else if (strcmp(a, "--store") == 0)
            slot = &o->store_path;
        else if (strcmp(a, "--directory") == 0)
            slot = &o->directory_path;
        else if (strcmp(a, "--passphrase-env") == 0)
            slot = &o->pass.env;
        else if (strcmp(a, "--passphrase-file") == 0)
            slot = &o->pass.file;
        if (strcmp(a, "--keep-on-erasure") == 0) {
            o->keep_on_erasure = 1;
            continue;
        }
        if (strcmp(a, "--history-days") == 0) {
            char *end;
            unsigned long days;

            if (i + 1 >= argc) {
                snprintf(err, err_cap, "--history-days needs a value");
                return -1;
            }
            errno = 0;
            days = strtoul(argv[++i], &end, 10);
            if (argv[i][0] < '0' || argv[i][0] > '9' || *end != '\0' || errno != 0 ||
                days < 1 || days > 36500) {
                snprintf(err, err_cap, "--history-days takes days, 1..36500");
                return -1;
            }
            o->history_days = (uint32_t)days;
            continue;
        }
        if (strcmp(a, "--guard") == 0) {
            char why[256];

            if (i + 1 >= argc) {
                snprintf(err, err_cap, "--guard needs a value");
                return -1;
            }
            if (scanguard_policy_parse(&o->guard, argv[++i], why, sizeof(why)) != 0) {
                snprintf(err, err_cap, "--guard: %s", why);
                return -1;
            }
            continue;
        }
        if (slot == NULL && strcmp(a, "--kdf") != 0) {
            snprintf(err, err_cap, "unknown option %s (try --help)", a);
            return -1;
        }
        if (i + 1 >= argc) {
            snprintf(err, err_cap, "%s needs a value", a);
            return -1;
        }
        if (slot == NULL) {
            if (!passphrase_cost_parse(argv[++i], &o->kdf)) {
                snprintf(err, err_cap, "--kdf: " PASSPHRASE_COST_NAMES);
                return -1;
            }
            continue;
        }
        *slot = argv[++i];
    }
    if (o->relay == NULL || o->brand_path == NULL || o->key_path == NULL ||
        o->cert_path == NULL || o->store_path == NULL) {
        snprintf(err, err_cap, "--relay, --brand, --key, --cert and --store are required");
        return -1;
    }
    if (o->pass.env != NULL && o->pass.file != NULL) {
        snprintf(err, err_cap, "give --passphrase-env or --passphrase-file, not both");
        return -1;
    }
    return 0;
}
