/*
 * Every X25519 secret a device holds, taken from its complete store
 * (every row of every table, decrypted through its vault) as an attacker
 * who seized the device and its passphrase would: the customer identity
 * seed, the conversations' receive keys, the agents' one-time prekeys,
 * plus an agent's identity from its key file. Then: does any of them open
 * a captured envelope?
 */
#ifndef PARLEY_TEST_KEYRING_H
#define PARLEY_TEST_KEYRING_H

#include "memrelay.h"

struct kr_key {
    uint8_t pk[32], sk[32];
    char origin[16];             /* table it came from */
};

struct keyring {
    struct kr_key *k;
    size_t n, cap;
};

void keyring_init(struct keyring *kr);
void keyring_free(struct keyring *kr);   /* wipes */
void keyring_add(struct keyring *kr, const uint8_t sk[32], const char *origin);
/* Adds p's keys; fails the test on a row that does not decrypt or a table it does not know. */
void keyring_of_party(struct keyring *kr, struct mr_party *p);
/* Index of a key that opens the sealed bytes of env (an encoded Envelope), or -1. */
int keyring_opens(const struct keyring *kr, const uint8_t *env, size_t len);

/* The newest receive key p holds for conv (its public half); false when none. */
bool store_newest_receive_key(struct mr_party *p, const uint8_t conv[16], uint8_t pk[32]);
/* Rows of p's store, every table, as the store holds them. */
size_t store_rows(const struct mr_party *p);

#endif
