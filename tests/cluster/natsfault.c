/*
 * Linked into parley-relay-natsfaults, the relay built for the NATS
 * store's fault tests, as PARLEY_NATS_FAULT says:
 * - "lose-order": every brand order's kvStore_Create (a key
 *   o.<brand>.<order>) is carried out and then answered with a timeout,
 *   as when the bucket's leader changes after the write landed and before
 *   its answer reached the relay;
 * - "lose-ledger-answer": the first time each quota ledger write (a
 *   publication on $KV.<bucket>quota.* following a revision) is sent, it
 *   is carried out and its answer goes nowhere;
 * - "drop-ledger-write": the first time each is sent, it is not.
 * A write sent again (the same entry, following the same revision) goes
 * through.
 *
 * None of this is in parley-relay: the link (-Wl,--wrap=kvStore_Create,
 * --wrap=natsConnection_PublishMsg) sends this executable's calls here,
 * and this hands them to libnats.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>
#include <sodium.h>

natsStatus __real_kvStore_Create(uint64_t *rev, kvStore *kv, const char *key, const void *data,
                                 int len);
natsStatus __wrap_kvStore_Create(uint64_t *rev, kvStore *kv, const char *key, const void *data,
                                 int len);

natsStatus __wrap_kvStore_Create(uint64_t *rev, kvStore *kv, const char *key, const void *data,
                                 int len)
{
    const char *fault = getenv("PARLEY_NATS_FAULT");
    natsStatus st = __real_kvStore_Create(rev, kv, key, data, len);

    if (st == NATS_OK && fault != NULL && strcmp(fault, "lose-order") == 0 && key != NULL &&
        strncmp(key, "o.", 2) == 0)
        return NATS_TIMEOUT;
    return st;
}

natsStatus __real_natsConnection_PublishMsg(natsConnection *nc, natsMsg *msg);
natsStatus __wrap_natsConnection_PublishMsg(natsConnection *nc, natsMsg *msg);

/* Whether this write (its subject and the revision it follows) was sent before; notes it. */
static bool sent_before(const char *subject, const char *rev)
{
    static uint8_t seen[256][16];
    static size_t next;
    crypto_generichash_state st;
    uint8_t h[16];

    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const uint8_t *)subject, strlen(subject) + 1);
    crypto_generichash_update(&st, (const uint8_t *)rev, strlen(rev));
    crypto_generichash_final(&st, h, sizeof(h));
    for (size_t i = 0; i < 256; i++)
        if (memcmp(seen[i], h, sizeof(h)) == 0)
            return true;
    memcpy(seen[next++ % 256], h, sizeof(h));
    return false;
}

natsStatus __wrap_natsConnection_PublishMsg(natsConnection *nc, natsMsg *msg)
{
    const char *fault = getenv("PARLEY_NATS_FAULT"), *subject = natsMsg_GetSubject(msg);
    const char *rev = NULL;
    natsMsg *lost = NULL;
    natsStatus st;

    if (fault == NULL || subject == NULL || strncmp(subject, "$KV.", 4) != 0 ||
        strstr(subject, "quota.") == NULL ||
        natsMsgHeader_Get(msg, "Nats-Expected-Last-Subject-Sequence", &rev) != NATS_OK ||
        sent_before(subject, rev))
        return __real_natsConnection_PublishMsg(nc, msg);
    if (strcmp(fault, "drop-ledger-write") == 0)
        return NATS_OK;
    if (strcmp(fault, "lose-ledger-answer") != 0)
        return __real_natsConnection_PublishMsg(nc, msg);
    st = natsMsg_Create(&lost, subject, "parley.test.lost", natsMsg_GetData(msg),
                        natsMsg_GetDataLength(msg));
    if (st == NATS_OK)
        st = natsMsgHeader_Set(lost, "Nats-Expected-Last-Subject-Sequence", rev);
    if (st == NATS_OK)
        st = __real_natsConnection_PublishMsg(nc, lost);
    natsMsg_Destroy(lost);
    return st;
}
