/*
 * Linked into parley-relay-natsfaults, the relay built for the NATS
 * store's fault tests: while PARLEY_NATS_FAULT is "lose-order", every
 * brand order's kvStore_Create (a key o.<brand>.<order>) is carried out
 * and then answered with a timeout, as when the bucket's leader changes
 * after the write landed and before its answer reached the relay.
 *
 * None of this is in parley-relay: the link (-Wl,--wrap=kvStore_Create)
 * sends this executable's calls here, and this hands them to libnats.
 */
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

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
