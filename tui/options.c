/*
 * Command line and input files for parley-agent. Every failure here is
 * reported as one line naming the file, before the screen is taken over.
 */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "scanguard.h"

const char options_usage[] =
    "usage: parley-agent --relay URL --brand BRAND.pub --key AGENT.key --cert AGENT.cert\n"
    "                    --store AGENT.db [--directory BRAND.dir]\n"
    "                    [--passphrase-env VAR | --passphrase-file FILE]\n"
    "                    [--kdf interactive|moderate|sensitive|minimum]\n"
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
    "  --kdf COST           hashing cost for a new store (default interactive;\n"
    "                       minimum is for tests only)\n"
    "  --guard POLICY       what to do when a message looks sensitive, as\n"
    "                       CATEGORY=ACTION,... (repeatable); actions allow, warn,\n"
    "                       block, redact; categories health, religion, politics,\n"
    "                       union, ethnicity, sexual_orientation, biometric, card,\n"
    "                       iban, nir, email, phone. Default: warn for all but email\n"
    "                       and phone, which are allowed. A warning holds the\n"
    "                       message until Enter is pressed again.\n"
    "  --history-days N     your store forgets messages older than N days, checked\n"
    "                       hourly (default: kept until the customer erases them)\n"
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
            slot = &o->passphrase_env;
        else if (strcmp(a, "--passphrase-file") == 0)
            slot = &o->passphrase_file;
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
            const char *v = argv[++i];
            if (strcmp(v, "interactive") == 0)
                o->kdf = PARLEY_KDF_INTERACTIVE;
            else if (strcmp(v, "moderate") == 0)
                o->kdf = PARLEY_KDF_MODERATE;
            else if (strcmp(v, "sensitive") == 0)
                o->kdf = PARLEY_KDF_SENSITIVE;
            else if (strcmp(v, "minimum") == 0)
                o->kdf = PARLEY_KDF_TEST_ONLY;
            else {
                snprintf(err, err_cap, "--kdf: interactive, moderate, sensitive or minimum");
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
    if (o->passphrase_env != NULL && o->passphrase_file != NULL) {
        snprintf(err, err_cap, "give --passphrase-env or --passphrase-file, not both");
        return -1;
    }
    return 0;
}

static int read_small(const char *path, size_t max, uint8_t **out, size_t *len, char *err,
                      size_t err_cap)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t n;

    if (f == NULL) {
        snprintf(err, err_cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(err, err_cap, "%s: out of memory", path);
        return -1;
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f)) {
        snprintf(err, err_cap, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (n > max) {
        snprintf(err, err_cap, "%s: too big", path);
        goto fail;
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
fail:
    fclose(f);
    sodium_memzero(buf, max + 1);
    free(buf);
    return -1;
}

int options_load_magic(const char *path, const char *magic, size_t max, uint8_t **out,
                       size_t *out_len, char *err, size_t err_cap)
{
    uint8_t *buf;
    size_t n;

    if (read_small(path, max + 8, &buf, &n, err, err_cap) != 0)
        return -1;
    if (n < 8 || memcmp(buf, magic, 8) != 0) {
        snprintf(err, err_cap, "%s: not a %s file", path, magic);
        sodium_memzero(buf, n);
        free(buf);
        return -1;
    }
    memmove(buf, buf + 8, n - 8);
    *out = buf;
    *out_len = n - 8;
    return 0;
}

int options_load_pin(const char *path, char id[PARLEY_MAX_ID + 1], uint8_t pk[32],
                     uint8_t dir_key[32], char *err, size_t err_cap)
{
    uint8_t *buf;
    size_t n, hex_len = 0, bin_len = 0;
    char line[256], word_id[128], word_hex[128], word_key[128];
    int words;

    if (read_small(path, 255, &buf, &n, err, err_cap) != 0)
        return -1;
    memcpy(line, buf, n);
    line[n] = '\0';
    sodium_memzero(buf, n);
    free(buf);
    words = sscanf(line, "parley-brand-v1 %127s %127s %127s", word_id, word_hex, word_key);
    sodium_memzero(line, sizeof(line));
    if (words < 2 || !parley_id_valid(word_id)) {
        snprintf(err, err_cap, "%s: not a brand pin file", path);
        return -1;
    }
    if (words == 2) {
        snprintf(err, err_cap,
                 "%s: this is a relay pin; agents need the client pin (it holds the directory "
                 "key)",
                 path);
        return -1;
    }
    hex_len = strlen(word_hex);
    if (hex_len != 64 ||
        sodium_hex2bin(pk, 32, word_hex, hex_len, NULL, &bin_len, NULL) != 0 || bin_len != 32) {
        snprintf(err, err_cap, "%s: bad brand key in the pin file", path);
        return -1;
    }
    hex_len = strlen(word_key);
    if (hex_len != 64 ||
        sodium_hex2bin(dir_key, 32, word_key, hex_len, NULL, &bin_len, NULL) != 0 ||
        bin_len != 32) {
        sodium_memzero(word_key, sizeof(word_key));
        snprintf(err, err_cap, "%s: bad directory key in the pin file", path);
        return -1;
    }
    sodium_memzero(word_key, sizeof(word_key));
    memcpy(id, word_id, strlen(word_id) + 1); /* parley_id_valid: at most PARLEY_MAX_ID */
    return 0;
}

int options_passphrase(const struct options *o, char *out, size_t *len, char *err,
                       size_t err_cap)
{
    if (o->passphrase_env != NULL) {
        const char *v = getenv(o->passphrase_env);
        size_t n;
        if (v == NULL) {
            snprintf(err, err_cap, "--passphrase-env: %s is not set", o->passphrase_env);
            return -1;
        }
        n = strlen(v);
        if (n > OPTIONS_MAX_PASSPHRASE) {
            snprintf(err, err_cap, "--passphrase-env: longer than %u bytes",
                     OPTIONS_MAX_PASSPHRASE);
            return -1;
        }
        memcpy(out, v, n + 1);
        *len = n;
        return 1;
    }
    if (o->passphrase_file != NULL) {
        uint8_t *buf;
        size_t n, k = 0;
        if (read_small(o->passphrase_file, OPTIONS_MAX_PASSPHRASE + 2, &buf, &n, err, err_cap) !=
            0)
            return -1;
        while (k < n && buf[k] != '\n')
            k++;
        if (k > 0 && buf[k - 1] == '\r')
            k--;
        if (k > OPTIONS_MAX_PASSPHRASE) {
            sodium_memzero(buf, n);
            free(buf);
            snprintf(err, err_cap, "%s: passphrase longer than %u bytes", o->passphrase_file,
                     OPTIONS_MAX_PASSPHRASE);
            return -1;
        }
        memcpy(out, buf, k);
        out[k] = '\0';
        *len = k;
        sodium_memzero(buf, n);
        free(buf);
        return 1;
    }
    return 0;
}
