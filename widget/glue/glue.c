/*
 * The widget's session glue: parley/session.h driven by the page. The
 * page (widget/engine/engine.js) owns the WebSocket, the timers and
 * IndexedDB; everything the protocol decides happens here, in the same
 * C as every other Parley client. This file holds the installation's
 * secrets, the session and the store's entry points; events.c turns what
 * the session says into JSON.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <parley/identity.h>
#include <parley/pin.h>
#include <parley/session.h>
#include <sodium.h>

#include "glue.h"
#include "json.h"
#include "store.h"

/*
 * What the installation's secret gives (32 bytes each, in sodium_malloc
 * memory): the passphrase of the session's vault and the key of the row
 * ids in IndexedDB, each its own keyed BLAKE2b of a label.
 */
struct keys {
    uint8_t vault_pass[32];
    uint8_t row_key[32];
};

static struct {
    parley_session *s;
    struct keys *keys;
    parley_pin pin;
    struct json json;
    const uint8_t *out_p;
    size_t out_len;
    uint8_t *record; /* the host record last read */
    size_t record_len;
} g;

struct json *widget_json(void)
{
    return &g.json;
}

parley_session *widget_session(void)
{
    return g.s;
}

const char *widget_brand_id(void)
{
    return g.pin.brand_id;
}

uint64_t widget_time(double ms)
{
    return ms > 0 && ms < 9007199254740992.0 ? (uint64_t)ms : 0;
}

bool widget_conv_id(const char *hex, uint8_t id[16])
{
    size_t n = 0;

    return hex != NULL && strlen(hex) == 32 &&
           sodium_hex2bin(id, 16, hex, 32, NULL, &n, NULL) == 0 && n == 16;
}

uintptr_t parley_widget_out_ptr(void)
{
    return (uintptr_t)g.out_p;
}

size_t parley_widget_out_len(void)
{
    return g.out_len;
}

const char *parley_widget_text(void)
{
    return g.json.p != NULL && !g.json.failed ? g.json.p : "";
}

const char *parley_widget_strerror(int err)
{
    return parley_strerror((parley_err)err);
}

int parley_widget_init(void)
{
    return parley_init();
}

/* The installation's secret (random, kept by the page wrapped under its WebCrypto key). */
int parley_widget_keys(const uint8_t *secret, size_t len)
{
    static const uint8_t vault_label[] = "parley/widget/vault-passphrase/v1";
    static const uint8_t row_label[] = "parley/widget/row-id/v1";

    if (secret == NULL || len < 16 || len > crypto_generichash_KEYBYTES_MAX || g.s != NULL)
        return PARLEY_EINVAL;
    if (g.keys == NULL && (g.keys = sodium_malloc(sizeof(*g.keys))) == NULL)
        return PARLEY_ENOMEM;
    crypto_generichash(g.keys->vault_pass, 32, vault_label, sizeof(vault_label), secret, len);
    crypto_generichash(g.keys->row_key, 32, row_label, sizeof(row_label), secret, len);
    return PARLEY_OK;
}

/* Starts journaling the store for IndexedDB (widget_store_persist). */
int parley_widget_store_persist(void)
{
    if (g.keys == NULL)
        return PARLEY_EINVAL;
    return widget_store_persist(g.keys->row_key) == 0 ? PARLEY_OK : PARLEY_ENOMEM;
}

int parley_widget_store_load(const uint8_t *id, const uint8_t *row, size_t len)
{
    if (!widget_store_persistent() || g.s != NULL)
        return PARLEY_EINVAL;
    return widget_store_load(id, row, len) == 0 ? PARLEY_OK : PARLEY_EIO;
}

/* The next batch for IndexedDB: 1 and the bytes in out, 0 when none is left. */
int parley_widget_next_batch(void)
{
    const uint8_t *p;
    size_t len;

    if (!widget_store_next_batch(&p, &len))
        return 0;
    g.out_p = p;
    g.out_len = len;
    return 1;
}

/*
 * Rows of a table of the session's store (NULL: all): the page waits
 * for "outbox" and "pending" (what has not left yet) to empty before it
 * deletes an erased installation.
 */
double parley_widget_store_rows(const char *table)
{
    return (double)widget_store_rows(table);
}

/*
 * Creates the session over the store with the client pin line (the
 * brand's trust anchor, from the page's data-brand). Without an
 * installation secret (parley_widget_keys) nothing can be unlocked.
 */
int parley_widget_session_start(const char *pin, size_t pin_len, double now)
{
    parley_session_config cfg;
    parley_err err;

    if (g.s != NULL || g.keys == NULL || pin == NULL)
        return PARLEY_EINVAL;
    err = parley_pin_parse(pin, pin_len, &g.pin);
    if (err != PARLEY_OK)
        return err;
    if (!g.pin.has_directory_key)
        return PARLEY_EWRONGTYPE; /* a relay pin: it cannot open the brand's directory */
    memset(&cfg, 0, sizeof(cfg));
    cfg.struct_size = sizeof(cfg);
    cfg.store = widget_store();
    cfg.passphrase = (const char *)g.keys->vault_pass;
    cfg.passphrase_len = sizeof(g.keys->vault_pass);
    /* The cheapest Argon2id: the passphrase is a random key, not something a person chose. */
    cfg.kdf_cost = PARLEY_KDF_INTERACTIVE;
    cfg.brand_pk = g.pin.brand_pk;
    cfg.brand_id = g.pin.brand_id;
    cfg.directory_key = g.pin.directory_key;
    return parley_session_new(&g.s, &cfg, widget_time(now));
}

/* Frees the session, forgets the store and the installation's keys. */
void parley_widget_session_end(void)
{
    parley_session_free(g.s);
    g.s = NULL;
    widget_store_reset();
    sodium_free(g.keys); /* wipes */
    g.keys = NULL;
    parley_free(g.record, g.record_len);
    g.record = NULL;
    g.record_len = 0;
    json_free(&g.json);
    sodium_memzero(&g.pin, sizeof(g.pin));
}

void parley_widget_opened(double now)
{
    if (g.s != NULL)
        parley_session_opened(g.s, widget_time(now));
}

void parley_widget_feed(const uint8_t *frame, size_t len, double now)
{
    if (g.s != NULL && frame != NULL)
        parley_session_feed(g.s, frame, len, widget_time(now));
}

/* untrusted: the relay refused the authentication (close code 1008). */
void parley_widget_closed(int untrusted, double retry_ms, double now)
{
    if (g.s != NULL)
        parley_session_closed(g.s, untrusted ? PARLEY_EUNTRUSTED : PARLEY_EIO,
                              widget_time(retry_ms), widget_time(now));
}

void parley_widget_tick(double now)
{
    if (g.s != NULL)
        parley_session_tick(g.s, widget_time(now));
}

/* When to tick next (Unix ms), or -1 when nothing is scheduled. */
double parley_widget_deadline(void)
{
    uint64_t d;

    if (g.s == NULL)
        return -1;
    d = parley_session_deadline(g.s);
    return d == UINT64_MAX ? -1 : (double)d;
}

int parley_widget_connected(void)
{
    return g.s != NULL && parley_session_connected(g.s);
}

double parley_widget_outbox(void)
{
    return g.s != NULL ? (double)parley_session_outbox_size(g.s) : 0;
}

/* The next frame to send: 1 and the bytes in out, 0 when none is left. */
int parley_widget_next_frame(void)
{
    const uint8_t *p;
    size_t len;

    if (g.s == NULL || !parley_session_next_frame(g.s, &p, &len))
        return 0;
    g.out_p = p;
    g.out_len = len;
    return 1;
}

/*
 * Consent to the notice the session holds, with the optional purposes
 * accepted: their names one per line in accepted ("" for none; the
 * required purposes are always in the receipt).
 */
int parley_widget_consent(const char *accepted, double now)
{
    enum { MAX_ACCEPTED = 64 };
    const char *names[MAX_ACCEPTED];
    char *copy, *line, *save = NULL;
    size_t n = 0;
    parley_err err = PARLEY_OK;

    if (g.s == NULL || accepted == NULL)
        return PARLEY_EINVAL;
    copy = strdup(accepted);
    if (copy == NULL)
        return PARLEY_ENOMEM;
    for (line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (n == MAX_ACCEPTED) {
            err = PARLEY_EPURPOSE;
            break;
        }
        names[n++] = line;
    }
    if (err == PARLEY_OK)
        err = parley_session_consent(g.s, names, n, widget_time(now));
    free(copy);
    return err;
}

/* Withdraws one optional purpose (a required one withdraws consent: erasure). */
int parley_widget_withdraw_purpose(const char *purpose, double now)
{
    if (g.s == NULL || purpose == NULL)
        return PARLEY_EINVAL;
    return parley_session_withdraw_purpose(g.s, purpose, widget_time(now));
}

/* 1 when the receipt held accepts purpose. */
int parley_widget_consent_accepted(const char *purpose)
{
    return g.s != NULL && purpose != NULL && parley_session_consent_accepted(g.s, purpose);
}

int parley_widget_has_consent(void)
{
    return g.s != NULL && parley_session_has_consent(g.s);
}

int parley_widget_erase(double now)
{
    return g.s != NULL ? parley_session_erase(g.s, widget_time(now)) : PARLEY_EINVAL;
}

/* Opens a conversation; its id (hex) is then parley_widget_text(). */
int parley_widget_open(const char *queue, const char *text, double now)
{
    uint8_t id[16];
    parley_err err;

    if (g.s == NULL || queue == NULL || text == NULL)
        return PARLEY_EINVAL;
    err = parley_session_conversation_open(g.s, queue, text, id, widget_time(now));
    json_reset(&g.json);
    if (err == PARLEY_OK) {
        char hex[33];

        sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
        json_raw(&g.json, hex, 32);
    }
    return err;
}

/* Sends text; its sequence number is then the value of parley_widget_text(). */
int parley_widget_send(const char *conv, const char *text, double now)
{
    uint8_t id[16];
    uint64_t seq = 0;
    parley_err err;

    if (g.s == NULL || !widget_conv_id(conv, id) || text == NULL)
        return PARLEY_EINVAL;
    err = parley_session_conversation_send_text(g.s, id, text, &seq, widget_time(now));
    json_reset(&g.json);
    if (err == PARLEY_OK)
        json_u64(&g.json, seq);
    return err;
}

int parley_widget_mark_read(const char *conv, double seq, double now)
{
    uint8_t id[16];

    if (g.s == NULL || !widget_conv_id(conv, id))
        return PARLEY_EINVAL;
    return parley_session_conversation_mark_read(g.s, id, widget_time(seq), widget_time(now));
}

int parley_widget_typing(const char *conv, int active, double now)
{
    uint8_t id[16];

    if (g.s == NULL || !widget_conv_id(conv, id))
        return PARLEY_EINVAL;
    return parley_session_conversation_typing(g.s, id, active != 0, widget_time(now));
}

/* The export JSON of libparley for one conversation, as parley_widget_text(). */
int parley_widget_export(const char *conv)
{
    uint8_t id[16];
    char *out = NULL;
    size_t len = 0;
    parley_err err;

    if (g.s == NULL || !widget_conv_id(conv, id))
        return PARLEY_EINVAL;
    err = parley_session_conversation_export(g.s, id, &out, &len);
    json_reset(&g.json);
    if (err == PARLEY_OK) {
        json_raw(&g.json, out, len);
        parley_free(out, len + 1);
        if (g.json.failed)
            err = PARLEY_ENOMEM;
    }
    return err;
}

/* The fingerprint of a signing key (hex), or of the customer's own key (NULL). */
const char *parley_widget_fingerprint(const char *key_hex)
{
    static char fp[PARLEY_FINGERPRINT_LEN];
    uint8_t pk[32];
    size_t n = 0;

    if (key_hex == NULL) {
        if (g.s == NULL)
            return "";
        memcpy(pk, parley_session_sign_pk(g.s), 32);
    } else if (strlen(key_hex) != 64 || sodium_hex2bin(pk, 32, key_hex, 64, NULL, &n, NULL) != 0 ||
               n != 32) {
        return "";
    }
    parley_fingerprint(pk, fp);
    return fp;
}

/* The customer's own signing key, hex. */
const char *parley_widget_sign_pk(void)
{
    static char hex[65];

    if (g.s == NULL)
        return "";
    sodium_bin2hex(hex, sizeof(hex), parley_session_sign_pk(g.s), 32);
    return hex;
}

/* The widget's own records (kept sealed in the store like the session's state). */
int parley_widget_record_put(const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    return g.s != NULL ? parley_session_record_put(g.s, key, key_len, val, val_len) : PARLEY_EINVAL;
}

/* Reads a record into out (length 0 and a NULL pointer when there is none). */
int parley_widget_record_get(const uint8_t *key, size_t key_len)
{
    parley_err err;

    parley_free(g.record, g.record_len);
    g.record = NULL;
    g.record_len = 0;
    if (g.s == NULL)
        return PARLEY_EINVAL;
    err = parley_session_record_get(g.s, key, key_len, &g.record, &g.record_len);
    g.out_p = g.record;
    g.out_len = g.record_len;
    return err;
}
