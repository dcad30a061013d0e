/*
 * The browser smoke module: libparley's C, compiled to wasm32 for the web,
 * called from a page in Chromium (browser_smoke.mjs drives it). Each call
 * returns a malloc'd NUL-terminated string for the page to read and free
 * with smoke_free(); the test compares what the page read with the .exp
 * files of tests/vectors and with what it sent, so a wrong build fails.
 */
#include <emscripten/emscripten.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* one-envelope seal and open, identities from a seed */
#include "parley/parley.h"

#define SMOKE_TIME_MS UINT64_C(1750000000123)

/* Called from JavaScript only. */
char *smoke_identity(int fill, const char *who);
char *smoke_sign(int fill, const char *domain, const char *message);
char *smoke_round_trip(const char *text);
char *smoke_tampered(const char *text, int flip);
void smoke_free(char *s);

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *out = malloc(n);

    if (out != NULL)
        memcpy(out, s, n);
    return out;
}

/* "what: <the error's name>" */
static char *describe(const char *what, parley_err err)
{
    char buf[160];

    snprintf(buf, sizeof(buf), "%s: %s", what, parley_strerror(err));
    return copy_string(buf);
}

static parley_err seeded(int fill, parley_identity **out)
{
    uint8_t seed[32];

    memset(seed, fill, sizeof(seed));
    return parley_identity_from_seed(out, seed);
}

/*
 * The identity vectors of the identity derived from 32 bytes equal to
 * fill, as "who.name = value" lines in the .exp format.
 */
EMSCRIPTEN_KEEPALIVE char *smoke_identity(int fill, const char *who)
{
    char sign_pk[65], box_pk[65], customer_hex[65], agent_hex[65], *out;
    char fp[PARLEY_FINGERPRINT_LEN];
    uint8_t routing[32];
    parley_identity *id = NULL;
    parley_err err = seeded(fill, &id);
    size_t cap = 5 * strlen(who) + 640;
    int n;

    if (err != PARLEY_OK)
        return describe("error: identity from seed", err);
    sodium_bin2hex(sign_pk, sizeof(sign_pk), parley_identity_sign_pk(id), 32);
    sodium_bin2hex(box_pk, sizeof(box_pk), parley_identity_box_pk(id), 32);
    parley_fingerprint(parley_identity_sign_pk(id), fp);
    parley_routing_id(parley_identity_sign_pk(id), PARLEY_ROUTING_CUSTOMER, routing);
    sodium_bin2hex(customer_hex, sizeof(customer_hex), routing, sizeof(routing));
    parley_routing_id(parley_identity_sign_pk(id), PARLEY_ROUTING_AGENT, routing);
    sodium_bin2hex(agent_hex, sizeof(agent_hex), routing, sizeof(routing));
    parley_identity_free(id);
    out = malloc(cap);
    if (out == NULL)
        return NULL;
    n = snprintf(out, cap,
                 "%s.sign_pk = %s\n%s.box_pk = %s\n%s.fingerprint = %s\n"
                 "%s.routing_id.customer = %s\n%s.routing_id.agent = %s\n",
                 who, sign_pk, who, box_pk, who, fp, who, customer_hex, who, agent_hex);
    if (n < 0 || (size_t)n >= cap) {
        free(out);
        return copy_string("error: output too long");
    }
    return out;
}

/* Hex of the domain-separated signature of message by the seeded identity. */
EMSCRIPTEN_KEEPALIVE char *smoke_sign(int fill, const char *domain, const char *message)
{
    uint8_t sig[64];
    char sig_hex[129];
    parley_identity *id = NULL;
    parley_err err = seeded(fill, &id);

    if (err != PARLEY_OK)
        return describe("error: identity from seed", err);
    err = parley_identity_sign(id, domain, (const uint8_t *)message, strlen(message), sig);
    parley_identity_free(id);
    if (err != PARLEY_OK)
        return describe("error: sign", err);
    sodium_bin2hex(sig_hex, sizeof(sig_hex), sig, sizeof(sig));
    return copy_string(sig_hex);
}

/*
 * A customer identity and an agent identity made from the browser's
 * randomness; text sealed from one to the other. flip < 0: opened by the
 * agent, giving the text. flip >= 0: the envelope's byte that lies flip
 * bytes before its last one (inside the sealed box, which ends it) is
 * changed first, giving "refused: <error>", or an error if it opened.
 */
static char *seal_and_open(const char *text, int flip)
{
    parley_identity *customer = NULL, *agent = NULL;
    uint8_t conversation[16], *env = NULL;
    size_t env_len = 0;
    parley_opened opened;
    parley_trust trust = {0};
    parley_seal_params p = {0};
    parley_err err;
    char *result = NULL;

    memset(&opened, 0, sizeof(opened));
    err = parley_identity_generate(&customer);
    if (err == PARLEY_OK)
        err = parley_identity_generate(&agent);
    if (err != PARLEY_OK) {
        result = describe("error: identity generate", err);
        goto out;
    }
    if (memcmp(parley_identity_sign_pk(customer), parley_identity_sign_pk(agent), 32) == 0) {
        result = copy_string("error: two generated identities are equal");
        goto out;
    }
    randombytes_buf(conversation, sizeof(conversation));
    p.sender = customer;
    p.recipient_sign_pk = parley_identity_sign_pk(agent);
    p.recipient_box_pk = parley_identity_box_pk(agent);
    p.conversation_id = conversation;
    p.seq = 1;
    p.time_ms = SMOKE_TIME_MS;
    err = parley_seal_text(&p, text, strlen(text), &env, &env_len);
    if (err != PARLEY_OK) {
        result = describe("error: seal", err);
        goto out;
    }
    if (flip >= 0)
        env[env_len - 1 - (size_t)flip % env_len] ^= 0x01;
    trust.now = SMOKE_TIME_MS / 1000;
    err = parley_open(env, env_len, agent, &trust, &opened);
    if (flip >= 0) {
        if (err == PARLEY_OK)
            result = copy_string("error: a changed envelope opened");
        else
            result = describe("refused", err);
    } else if (err != PARLEY_OK) {
        result = describe("error: open", err);
    } else if (opened.kind != PARLEY_BODY_TEXT || opened.seq != 1 ||
               opened.time_ms != SMOKE_TIME_MS || opened.sender_is_agent ||
               memcmp(opened.sender_sign_pk, parley_identity_sign_pk(customer), 32) != 0 ||
               memcmp(opened.conversation_id, conversation, 16) != 0) {
        result = copy_string("error: opened fields differ from the sealed ones");
    } else {
        result = copy_string(opened.text);
    }
out:
    parley_opened_clear(&opened);
    parley_free(env, env_len);
    parley_identity_free(customer);
    parley_identity_free(agent);
    return result;
}

EMSCRIPTEN_KEEPALIVE char *smoke_round_trip(const char *text)
{
    return seal_and_open(text, -1);
}

EMSCRIPTEN_KEEPALIVE char *smoke_tampered(const char *text, int flip)
{
    return seal_and_open(text, flip < 0 ? 0 : flip);
}

EMSCRIPTEN_KEEPALIVE void smoke_free(char *s)
{
    free(s);
}
