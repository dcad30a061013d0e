/*
 * Shared test fixtures: identities from fixed seeds, certificates issued
 * with chosen fields, and the hand tools a hostile relay or peer would
 * use to take an envelope apart and rebuild it (unseal, pad, seal, wrap).
 * Every helper ends the test on an unexpected failure, so tests read as
 * the behaviour they check.
 */
#ifndef PARLEY_TEST_FIXTURE_H
#define PARLEY_TEST_FIXTURE_H

#include "internal.h"

#define FX_BRAND_ID   "acme"
#define FX_NOT_BEFORE UINT64_C(1700000000)
#define FX_NOT_AFTER  UINT64_C(1800000000)
#define FX_NOW        UINT64_C(1750000000)

/* The identity derived from a seed of 32 bytes equal to fill. */
parley_identity *fx_identity(uint8_t fill);

/* A certificate for agent signed by brand; freed with parley_free(). */
uint8_t *fx_cert(const parley_identity *brand, const char *brand_id, const parley_identity *agent,
                 const char *agent_id, uint64_t serial, uint64_t not_before, uint64_t not_after,
                 size_t *len);

/* A fresh copy of an envelope's sealed field (malloc). */
uint8_t *fx_envelope_sealed(const uint8_t *env, size_t env_len, size_t *len);

/* An envelope re-packed with another conversation id (malloc). */
uint8_t *fx_envelope_with_conversation(const uint8_t *env, size_t env_len, const uint8_t conv[16],
                                       size_t *len);

/* Opens an envelope's seal with id's box key and removes the padding (malloc). */
uint8_t *fx_unseal(const uint8_t *env, size_t env_len, const parley_identity *id, size_t *len);

/* sodium_pad to PARLEY_PAD_BLOCK (malloc). */
uint8_t *fx_pad(const uint8_t *buf, size_t len, size_t *padded_len);

/* crypto_box_seal of exactly these bytes, no padding added (malloc). */
uint8_t *fx_seal_raw(const uint8_t *plain, size_t len, const uint8_t box_pk[32], size_t *out_len);

/* An envelope carrying sealed bytes to id in conversation conv (malloc). */
uint8_t *fx_wrap(const uint8_t conv[16], const parley_identity *to, const uint8_t *sealed,
                 size_t len, size_t *out_len);

/* Packs p, signs it as a payload with sk and packs the Sealed (malloc). */
uint8_t *fx_sealed_bytes(const Parley__Payload *p, const uint8_t sk[64], size_t *len);

/* A well-formed text payload from sender to recipient_box_pk (fields borrowed). */
void fx_text_payload(Parley__Payload *p, Parley__Text *t, const parley_identity *sender,
                     const uint8_t recipient_box_pk[32], const uint8_t conv[16], char *text);

#endif
