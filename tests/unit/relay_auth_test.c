/*
 * The relay-auth transcript, defined once in the wire layer for the
 * client and the relay: the documented signing input (docs/protocol.md
 * §10.3), and an answer that is useless on another connection (nonce),
 * at another relay (relay key) or for another key.
 */
#include <string.h>

#include "check.h"
#include "fixture.h"

static void answer_verifies(void)
{
    parley_identity *client = fx_identity(0x11), *other = fx_identity(0x12);
    uint8_t nonce[32], relay_key[32], msg[PARLEY__RELAY_AUTH_LEN], sig[64], doc_sig[64];

    memset(nonce, 0xa5, sizeof(nonce));
    memset(relay_key, 0x5a, sizeof(relay_key));
    CHECK_OK(parley__relay_auth_sign(client, nonce, relay_key, sig));
    CHECK_OK(parley__relay_auth_verify(parley_identity_sign_pk(client), nonce, relay_key, sig));

    /* The transcript is nonce || relay_key || sign_key, signed under "relay-auth". */
    parley__relay_auth_transcript(nonce, relay_key, parley_identity_sign_pk(client), msg);
    CHECK(memcmp(msg, nonce, 32) == 0 && memcmp(msg + 32, relay_key, 32) == 0 &&
          memcmp(msg + 64, parley_identity_sign_pk(client), 32) == 0);
    CHECK_OK(parley_identity_sign(client, "relay-auth", msg, sizeof(msg), doc_sig));
    CHECK(memcmp(sig, doc_sig, 64) == 0); /* Ed25519 is deterministic */
    CHECK_OK(parley_verify(parley_identity_sign_pk(client), "relay-auth", msg, sizeof(msg), sig));

    /* Another connection, another relay, another key: refused. */
    nonce[0] ^= 1;
    CHECK_ERR(parley__relay_auth_verify(parley_identity_sign_pk(client), nonce, relay_key, sig),
              PARLEY_EBADSIG);
    nonce[0] ^= 1;
    relay_key[31] ^= 0x80;
    CHECK_ERR(parley__relay_auth_verify(parley_identity_sign_pk(client), nonce, relay_key, sig),
              PARLEY_EBADSIG);
    relay_key[31] ^= 0x80;
    CHECK_ERR(parley__relay_auth_verify(parley_identity_sign_pk(other), nonce, relay_key, sig),
              PARLEY_EBADSIG);
    sig[10] ^= 4;
    CHECK_ERR(parley__relay_auth_verify(parley_identity_sign_pk(client), nonce, relay_key, sig),
              PARLEY_EBADSIG);
    parley_identity_free(client);
    parley_identity_free(other);
}

int main(void)
{
    CHECK_OK(parley_init());
    answer_verifies();
    return 0;
}
