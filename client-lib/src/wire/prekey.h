/*
 * Prekeys: what a customer (or a colleague handing over) seals a first
 * contact to, since an agent's long-term key must never serve for that.
 * An agent publishes one-time prekeys, each deleted once used, and keeps
 * one signed medium-term prekey on the relay for when they run out: it is
 * rotated every PREKEY_MT_ROTATE_MS, refused by senders after its
 * expires_at, and its secret is deleted PREKEY_MT_GRACE_MS after it has
 * both expired and been replaced, so envelopes in flight still open.
 */
#ifndef PARLEY_PREKEY_H
#define PARLEY_PREKEY_H

#include "internal.h"

#define PREKEY_MT_ROTATE_MS (7ull * 24 * 3600 * 1000)   /* a new medium-term prekey weekly */
#define PREKEY_MT_LIFETIME_S (14ull * 24 * 3600)        /* senders refuse it after two weeks */
#define PREKEY_MT_GRACE_MS (2ull * 24 * 3600 * 1000)    /* kept for envelopes in flight */
#define PREKEY_MT_MAX 8u                                /* secrets held at once */

/*
 * A prekey of id's for box_pk, created at created_ms, signed: one-time
 * (random id), or medium-term with its expiry (an id derived from the key,
 * so publishing it again gives the same bytes). *out is the unpacked
 * Prekey, freed with parley__prekey__free_unpacked(*out, NULL).
 */
parley_err parley__prekey_sign(const parley_identity *id, const uint8_t box_pk[32],
                               uint64_t created_ms, bool medium_term, Parley__Prekey **out);

/*
 * A sender's checks of a prekey handed out for owner (an agent's signing
 * key) at now_s: its owner's signature (PARLEY_EBADSIG), a well-formed
 * body for this owner (PARLEY_EMALFORMED), and for a medium-term one its
 * expiry (PARLEY_EEXPIRED). On PARLEY_OK box gets the key to seal to.
 */
parley_err parley__prekey_verify(const Parley__Prekey *pk, const uint8_t owner[32],
                                 uint64_t now_s, uint8_t box[32], bool *medium_term);

#endif
