/*
 * Makes NATS credentials for the tests (relay_nats_auth.sh), afresh each
 * run; the keys' text form is relay/nkey.c's, and nats-server and libnats
 * check it with their own code.
 *
 *   nkey-make nkey SEED-FILE  a user NKey: its seed file (one line, SU...)
 *                             is written, its public key (U...) printed;
 *   nkey-make jwt DIR         an operator, a system account and an account
 *                             with JetStream, and a user of that account:
 *                             DIR/relay.creds (the user's JWT and seed, as
 *                             NATS tools write a .creds file) and
 *                             DIR/resolver.conf (operator, system account
 *                             and the accounts' JWTs, for nats-server).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "nkey.h"

struct key {
    enum nkey_type type;
    uint8_t pk[32], sk[64];
    char pub[NKEY_PUBLIC_LEN + 1], seed[NKEY_SEED_LEN + 1];
};

static void key_make(struct key *k, enum nkey_type type)
{
    uint8_t seed[32];

    k->type = type;
    randombytes_buf(seed, sizeof(seed));
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    nkey_seed_text(type, seed, k->seed);
    nkey_public_text(type, k->pk, k->pub);
}

/* A JWT of the claims "nats" (JSON) about sub, signed by iss: header.claims.signature. */
static void jwt_make(char *out, size_t cap, const struct key *iss, const char *sub,
                     const char *name, const char *nats)
{
    static const char header[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
    char claims[2048], jti[33], signing[4096];
    uint8_t id[16], sig[64];
    size_t n;

    randombytes_buf(id, sizeof(id));
    sodium_bin2hex(jti, sizeof(jti), id, sizeof(id));
    snprintf(claims, sizeof(claims),
             "{\"jti\":\"%s\",\"iat\":%lld,\"iss\":\"%s\",\"name\":\"%s\",\"sub\":\"%s\","
             "\"nats\":%s}",
             jti, (long long)time(NULL), iss->pub, name, sub, nats);
    sodium_bin2base64(signing, sizeof(signing), (const uint8_t *)header, strlen(header),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    n = strlen(signing);
    signing[n++] = '.';
    sodium_bin2base64(signing + n, sizeof(signing) - n, (const uint8_t *)claims, strlen(claims),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_sign_detached(sig, NULL, (const uint8_t *)signing, strlen(signing), iss->sk);
    n = (size_t)snprintf(out, cap, "%s.", signing);
    sodium_bin2base64(out + n, cap - n, sig, sizeof(sig),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Writes text to dir/name (dir NULL: name is the path). */
static int write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s%s%s", dir != NULL ? dir : "", dir != NULL ? "/" : "", name);
    if ((f = fopen(path, "w")) == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

#define ACCOUNT_CLAIMS                                                                         \
    "{\"limits\":{\"subs\":-1,\"data\":-1,\"payload\":-1,\"imports\":-1,\"exports\":-1,"       \
    "\"wildcards\":true,\"conn\":-1,\"leaf\":-1,\"mem_storage\":%s,\"disk_storage\":%s,"      \
    "\"streams\":%s,\"consumer\":%s},\"default_permissions\":{\"pub\":{},\"sub\":{}},"         \
    "\"type\":\"account\",\"version\":2}"

static int make_jwt(const char *dir)
{
    static char op_jwt[4096], sys_jwt[4096], acc_jwt[4096], user_jwt[4096], text[16384];
    struct key op, sys, acc, user;
    char claims[1024];

    key_make(&op, NKEY_OPERATOR);
    key_make(&sys, NKEY_ACCOUNT);
    key_make(&acc, NKEY_ACCOUNT);
    key_make(&user, NKEY_USER);
    snprintf(claims, sizeof(claims),
             "{\"system_account\":\"%s\",\"type\":\"operator\",\"version\":2}", sys.pub);
    jwt_make(op_jwt, sizeof(op_jwt), &op, op.pub, "test-operator", claims);
    snprintf(claims, sizeof(claims), ACCOUNT_CLAIMS, "0", "0", "0", "0");
    jwt_make(sys_jwt, sizeof(sys_jwt), &op, sys.pub, "SYS", claims);
    snprintf(claims, sizeof(claims), ACCOUNT_CLAIMS, "-1", "-1", "-1", "-1");
    jwt_make(acc_jwt, sizeof(acc_jwt), &op, acc.pub, "parley", claims);
    jwt_make(user_jwt, sizeof(user_jwt), &acc, user.pub, "relay",
             "{\"pub\":{},\"sub\":{},\"subs\":-1,\"data\":-1,\"payload\":-1,"
             "\"type\":\"user\",\"version\":2}");
    snprintf(text, sizeof(text),
             "-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
             "************************* IMPORTANT *************************\n"
             "NKEY Seed printed below can be used to sign and prove identity.\n"
             "NKEYs are sensitive and should be treated as secrets.\n\n"
             "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\n"
             "*************************************************************\n",
             user_jwt, user.seed);
    if (write_file(dir, "relay.creds", text) != 0)
        return 1;
    snprintf(text, sizeof(text),
             "operator: \"%s\"\nsystem_account: %s\nresolver: MEMORY\n"
             "resolver_preload: {\n  %s: \"%s\"\n  %s: \"%s\"\n}\n",
             op_jwt, sys.pub, sys.pub, sys_jwt, acc.pub, acc_jwt);
    return write_file(dir, "resolver.conf", text) != 0;
}

static int make_nkey(const char *path)
{
    struct key user;
    char line[NKEY_SEED_LEN + 2];

    key_make(&user, NKEY_USER);
    snprintf(line, sizeof(line), "%s\n", user.seed);
    if (write_file(NULL, path, line) != 0)
        return 1;
    printf("%s\n", user.pub);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || sodium_init() < 0 ||
        (strcmp(argv[1], "nkey") != 0 && strcmp(argv[1], "jwt") != 0)) {
        fprintf(stderr, "usage: nkey-make nkey SEED-FILE | nkey-make jwt DIR\n");
        return 2;
    }
    return strcmp(argv[1], "nkey") == 0 ? make_nkey(argv[2]) : make_jwt(argv[2]);
}
