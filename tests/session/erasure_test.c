/*
 * What a customer's device keeps about the agents it talked to (their
 * certificates with names and keys, the agents its first message went to,
 * their receive keys, their names and keys in the history) is in the
 * encrypted vault, and a customer's erasure request removes it from the
 * device too, with whatever the customer wrote that had not left yet:
 * nothing of it reaches the relay after the request. The customer's own
 * copy of the conversation (the texts) stays.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "world.h"

static struct world w;

struct needles {
    struct mr_party *p;
    const char *names[8];
    const uint8_t *keys[8];
    size_t n_names, n_keys;
    int found;
    bool in_clear;               /* look at the rows as stored, not decrypted */
};

static int look(void *arg, const char *table, const uint8_t *key, size_t key_len,
                const uint8_t *val, size_t val_len)
{
    struct needles *nd = arg;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    const uint8_t *hay = val;
    size_t hay_len = val_len;

    if (!nd->in_clear) {
        /* The brand's directory lists every agent for everyone: it is not about this customer. */
        if (strcmp(table, "meta") == 0 &&
            ((key_len == 3 && memcmp(key, "kdf", 3) == 0) ||
             (key_len == 6 && memcmp(key, "format", 6) == 0) ||
             (key_len == 9 && memcmp(key, "directory", 9) == 0)))
            return 0;
        CHECK_OK(parley__vault_get(nd->p->vault, table, key, key_len, &plain, &plain_len));
        hay = plain;
        hay_len = plain_len;
    }
    for (size_t i = 0; i < nd->n_names; i++)
        if (memmem(hay, hay_len, nd->names[i], strlen(nd->names[i])) != NULL ||
            memmem(key, key_len, nd->names[i], strlen(nd->names[i])) != NULL) {
            fprintf(stderr, "%s/%zu bytes holds \"%s\"\n", table, key_len, nd->names[i]);
            nd->found++;
        }
    for (size_t i = 0; i < nd->n_keys; i++)
        if (memmem(hay, hay_len, nd->keys[i], 32) != NULL ||
            memmem(key, key_len, nd->keys[i], 32) != NULL) {
            fprintf(stderr, "%s/%zu bytes holds an agent's key\n", table, key_len);
            nd->found++;
        }
    if (plain != NULL)
        parley_free(plain, plain_len);
    return 0;
}

/* How many rows of p (decrypted, or as stored) hold an agent's name or key. */
static int about_agents(struct mr_party *p, bool in_clear)
{
    struct needles nd;

    memset(&nd, 0, sizeof(nd));
    nd.p = p;
    nd.in_clear = in_clear;
    nd.names[nd.n_names++] = "Alice Martin";
    nd.names[nd.n_names++] = "Bob Lef\xc3\xa8vre";
    nd.keys[nd.n_keys++] = parley_identity_sign_pk(w.agents[W_ALICE]);
    nd.keys[nd.n_keys++] = parley_identity_box_pk(w.agents[W_ALICE]);
    nd.keys[nd.n_keys++] = parley_identity_sign_pk(w.agents[W_BOB]);
    nd.keys[nd.n_keys++] = parley_identity_box_pk(w.agents[W_BOB]);
    memstore_each(p->ms, look, &nd);
    return nd.found;
}

struct info_of {
    const uint8_t *conv;
    parley_conversation_info info;
    int n;
};

static int info_one(void *user, const parley_conversation_info *info)
{
    struct info_of *io = user;

    if (memcmp(info->conversation_id, io->conv, 16) == 0) {
        io->info = *info;
        io->info.queue = NULL;
        io->n++;
    }
    return 0;
}

static int history_one(void *user, const parley_history_entry *e)
{
    static const uint8_t nobody[32];

    CHECK(e->from_me || (e->sender_name[0] == '\0' && memcmp(e->sender_sign_pk, nobody, 32) == 0));
    (*(int *)user)++;
    return 0;
}

static void test_customer_forgets_agents(void)
{
    struct scene s;
    struct info_of io;
    size_t cap_erase;
    int rows = 0;

    printf("erasure: the customer's device keeps what it knows of agents only in the vault, and "
           "forgets it on erasure, with what had not left yet\n");
    scene_init(&s, &w);
    scene_open(&s, "Bonjour");
    scene_claim(&s);
    scene_say(&s, &s.alice, "Alice, a votre service");
    CHECK_OK(parley__core_transfer(s.alice.core, s.conv, "bob", s.relay.now));
    mr_pump(&s.relay);
    scene_say(&s, &s.bob, "Bob, je reprends");
    CHECK(mr_text_count(&s.customer, "Bob, je reprends") == 1);
    /* Names and keys of both agents are on the device, encrypted: never in clear. */
    CHECK(about_agents(&s.customer, false) > 0);
    CHECK(about_agents(&s.customer, true) == 0);

    /* Written offline, then erased before it could leave. */
    mr_disconnect(&s.customer);
    CHECK_OK(parley__core_send_text(s.customer.core, s.conv, "Pas encore parti", NULL,
                                    s.relay.now));
    CHECK(parley__core_outbox_size(s.customer.core) == 1);
    CHECK_OK(parley__core_erase(s.customer.core, s.relay.now));
    cap_erase = s.relay.n_cap;
    mr_connect(&s.customer);
    mr_pump(&s.relay);
    mr_advance(&s.relay, 60000);
    mr_pump(&s.relay);
    CHECK(mr_text_count(&s.bob, "Pas encore parti") == 0);
    CHECK(mr_count(&s.bob, PARLEY_EV_ERASED) == 1);
    CHECK(parley__core_outbox_size(s.customer.core) == 0);
    CHECK(s.relay.n_cap > cap_erase); /* the notices to the agents left */

    /* Nothing about the agents is left, even decrypted; the customer's texts are. */
    CHECK(about_agents(&s.customer, false) == 0);
    memset(&io, 0, sizeof(io));
    io.conv = s.conv;
    CHECK_OK(parley__core_list(s.customer.core, info_one, &io));
    CHECK(io.n == 1 && io.info.state == PARLEY_CONV_CLOSED && !io.info.has_agent);
    CHECK_OK(parley__core_history_all(s.customer.core, s.conv, history_one, &rows));
    CHECK(rows >= 3 && (uint64_t)rows == io.info.messages);
    /* And after a restart. */
    mr_reboot(&s.customer);
    CHECK(about_agents(&s.customer, false) == 0);
    scene_free(&s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    world_init(&w);
    test_customer_forgets_agents();
    world_free(&w);
    printf("ok\n");
    return 0;
}
