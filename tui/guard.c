/*
 * The agent's second-Enter confirmation for sensitive texts (see
 * guard.h). Scanning and the policy are scanguard.c's, shared with
 * parley-customer; what is kept here between two Enters is only a keyed
 * hash, so no copy of a warned text outlives the input line.
 */
#include "guard.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

void guard_init(struct guard *g, const parley_scan_policy *p)
{
    memset(g, 0, sizeof(*g));
    g->local = *p;
    g->policy = *p;
    randombytes_buf(g->key, sizeof(g->key));
}

void guard_free(struct guard *g)
{
    sodium_memzero(g, sizeof(*g));
}

void guard_reset(struct guard *g)
{
    g->pending = 0;
    sodium_memzero(g->mark, sizeof(g->mark));
}

int guard_pending(const struct guard *g)
{
    return g->pending;
}

static void mark_of(const struct guard *g, const uint8_t conv[16], const char *text,
                    uint8_t out[32])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, g->key, sizeof(g->key), 32);
    crypto_generichash_update(&st, conv, 16);
    crypto_generichash_update(&st, (const unsigned char *)text, strlen(text));
    crypto_generichash_final(&st, out, 32);
    sodium_memzero(&st, sizeof(st));
}

enum guard_decision guard_submit(struct guard *g, const uint8_t conv[16], const char *text,
                                 struct scanguard_result *r, char *note, size_t note_cap)
{
    char names[256];
    uint8_t mark[32];
    int confirmed;
    parley_err err = scanguard_check(&g->policy, text, r);

    note[0] = '\0';
    if (err != PARLEY_OK) {
        guard_reset(g);
        snprintf(note, note_cap,
                 "not sent: the message could not be checked for sensitive data (%s)",
                 parley_strerror(err));
        return GUARD_HOLD;
    }
    if (r->verdict == PARLEY_SCAN_BLOCKED) {
        guard_reset(g);
        snprintf(note, note_cap, "not sent: %s is blocked here \xe2\x80\x94 edit the message",
                 scanguard_names(r->block, names, sizeof(names)));
        return GUARD_HOLD;
    }
    if ((r->warn | r->confirm) != 0) {
        mark_of(g, conv, text, mark);
        confirmed = g->pending && sodium_memcmp(mark, g->mark, sizeof(mark)) == 0;
        if (!confirmed) {
            g->pending = 1;
            memcpy(g->mark, mark, sizeof(mark));
            sodium_memzero(mark, sizeof(mark));
            snprintf(note, note_cap, "sensitive: %s \xe2\x80\x94 Enter again to send, Esc to edit",
                     scanguard_names(r->warn | r->confirm, names, sizeof(names)));
            return GUARD_HOLD;
        }
        sodium_memzero(mark, sizeof(mark));
    }
    guard_reset(g);
    if (r->verdict == PARLEY_SCAN_REDACTED) {
        snprintf(note, note_cap, "sent with %s replaced by a marker",
                 scanguard_names(r->redact, names, sizeof(names)));
        return GUARD_SEND_REDACTED;
    }
    return GUARD_SEND;
}
