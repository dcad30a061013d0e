/*
 * Senders' budgets over time in the NATS JetStream store (docs/cluster.md
 * §3.9), so that a sender who moves to another relay node finds there
 * what it has left, not a full budget.
 *
 * One entry per sender in the key-value bucket parley_budgets, key = the
 * sender's routing id in hex, value = what is left of its two buckets
 * (envelopes, bytes) and the Unix ms they were counted at: 24 bytes, no
 * more than the routing ids that subjects already carry. The bucket's
 * max_age is sender-window: an entry that old describes a full budget,
 * which is the same as none.
 *
 * Writes are plain publications on the bucket's subject: the stream takes
 * them, nobody waits for an answer, and one that is lost (the store out of
 * reach) only leaves an older, fuller budget. Reads go to the stream's
 * leader (STREAM.MSG.GET), which holds every write it took; a replica could
 * still lack the last one.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store_nats.h"

#define BUDGET_LEN 24

static void budget_subject(const struct nats_store *s, const uint8_t sender[32], char out[160])
{
    char hex[65];

    nats_hex(sender, 32, hex);
    snprintf(out, 160, "$KV.%sbudgets.%s", s->bucket_prefix, hex);
}

static void put_double(uint8_t *p, double v)
{
    uint64_t bits;

    memcpy(&bits, &v, sizeof(bits));
    nats_put_be64(p, bits);
}

static double get_double(const uint8_t *p)
{
    uint64_t bits = nats_get_be64(p);
    double v;

    memcpy(&v, &bits, sizeof(v));
    return v;
}

void nats_budget_write(struct nats_store *s, const struct store_op *op)
{
    char subject[160];
    uint8_t v[BUDGET_LEN];

    budget_subject(s, op->env.recipient, subject);
    put_double(v, op->budget.count);
    put_double(v + 8, op->budget.bytes);
    nats_put_be64(v + 16, op->budget.at_ms);
    (void)natsConnection_Publish(s->nc, subject, v, BUDGET_LEN);
}

void nats_budget_read(struct nats_store *s, struct store_op *op)
{
    char subject[160], stream[112];
    natsMsg *msg = NULL;
    jsErrCode code = 0;
    const uint8_t *v;

    op->budget = (struct store_budget){0, 0, 0};
    budget_subject(s, op->env.recipient, subject);
    snprintf(stream, sizeof(stream), "KV_%sbudgets", s->bucket_prefix);
    /* Not found, or not answered: no budget kept, the node goes on with what it holds. */
    if (js_GetLastMsg(&msg, s->js, stream, subject, NULL, &code) != NATS_OK)
        return;
    v = (const uint8_t *)natsMsg_GetData(msg);
    if (natsMsg_GetDataLength(msg) == BUDGET_LEN) {
        double count = get_double(v), bytes = get_double(v + 8);
        /* Anything but two counts that are numbers is no budget at all. */
        if (isfinite(count) && isfinite(bytes))
            op->budget = (struct store_budget){count, bytes, nats_get_be64(v + 16)};
    }
    natsMsg_Destroy(msg);
}
