/*
 * An agent's client killed (SIGKILL) after it showed a text and before
 * its store committed the record: the relay, never told `delivered`,
 * delivers it again to the restarted client, which shows it once more
 * and records it once (parley/session.h, "Receiving"). The agent runs in
 * a child process on a store that kills that process in its first commit
 * after the text was shown; the customer and the relay stay up.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define DOOMED "the last words before the kill"

static struct h_brand brand;
static struct h_client alice, customer;
static parley_store sqlite_store;
static int shown_pipe = -1;

/* A store that forwards to the sqlite one, but dies in a commit once DOOMED was shown. */
static int k_begin(void *ctx)
{
    return sqlite_store.ops->begin(sqlite_store.ctx);
}

static int k_commit(void *ctx)
{
    if (h_has_text(&alice, DOOMED)) {
        (void)!write(shown_pipe, "1", 1);
        raise(SIGKILL);
    }
    return sqlite_store.ops->commit(sqlite_store.ctx);
}

static int k_rollback(void *ctx)
{
    return sqlite_store.ops->rollback(sqlite_store.ctx);
}

static int k_get(void *ctx, const char *table, const uint8_t *key, size_t key_len, uint8_t **val,
                 size_t *val_len)
{
    return sqlite_store.ops->get(sqlite_store.ctx, table, key, key_len, val, val_len);
}

static int k_put(void *ctx, const char *table, const uint8_t *key, size_t key_len,
                 const uint8_t *val, size_t val_len)
{
    return sqlite_store.ops->put(sqlite_store.ctx, table, key, key_len, val, val_len);
}

static int k_del(void *ctx, const char *table, const uint8_t *key, size_t key_len)
{
    return sqlite_store.ops->del(sqlite_store.ctx, table, key, key_len);
}

static int k_scan(void *ctx, const char *table, const uint8_t *prefix, size_t prefix_len,
                  parley_store_scan_fn fn, void *arg)
{
    return sqlite_store.ops->scan(sqlite_store.ctx, table, prefix, prefix_len, fn, arg);
}

static const parley_store_ops killing_ops = {
    .begin = k_begin, .commit = k_commit, .rollback = k_rollback, .get = k_get,
    .put = k_put,     .del = k_del,       .scan = k_scan,
};

/* The agent's process: claims what is offered, and runs until its store kills it. */
static void agent_child(void)
{
    parley_store killing = {&killing_ops, NULL};
    char path[320];
    bool claimed = false;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    snprintf(path, sizeof(path), "%s/alice.db", h_dir);
    CHECK_OK(parley_store_sqlite_open(&sqlite_store, path));
    h_store = &killing;
    h_client_new(&alice, "alice", &brand, 0, "alice.db", true);
    for (;;) {
        int i = h_find(&alice, PARLEY_EV_MESSAGE, NULL);

        parley_client_run_once(alice.c, 10);
        if (!claimed && i >= 0) {
            CHECK_OK(parley_conversation_claim(alice.c, alice.events[i].conversation_id));
            claimed = true;
        }
    }
}

static bool active(void *arg)
{
    parley_conv_state s;

    return parley_conversation_state(customer.c, arg, &s) == PARLEY_OK && s == PARLEY_CONV_ACTIVE;
}

static int count_text(const struct h_client *hc, const char *text)
{
    int n = 0;

    for (int i = 0; i < hc->n_events; i++)
        n += hc->events[i].kind == PARLEY_EV_MESSAGE && strcmp(hc->texts[i], text) == 0;
    return n;
}

static int count_history(void *user, const parley_history_entry *e)
{
    *(int *)user += strcmp(e->text, DOOMED) == 0;
    return 0;
}

static int recorded(const uint8_t conv[16])
{
    int n = 0;

    CHECK_OK(parley_conversation_history(alice.c, conv, count_history, &n));
    return n;
}

/* The child, dead by SIGKILL in its commit, after showing DOOMED once. */
static void wait_killed(pid_t pid)
{
    struct h_client *cust[] = {&customer, NULL};
    char shown[4];
    int status = 0;

    for (int waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited += 10) {
        CHECK(waited < 20000);
        h_pump_for(cust, 10);
    }
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(read(shown_pipe, shown, sizeof(shown)) == 1 && shown[0] == '1');
}

int main(int argc, char **argv)
{
    struct h_client *all[] = {&alice, &customer, NULL};
    struct h_client *cust[] = {&customer, NULL};
    uint8_t conv[16];
    int fds[2], delivered;
    pid_t pid;

    CHECK(argc == 2);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("agent killed between showing a text and committing it: shown again, recorded once\n");
    h_setup(&brand);
    h_relay_start(argv[1], NULL);
    CHECK(pipe(fds) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        shown_pipe = fds[1];
        agent_child();
    }
    close(fds[1]);
    shown_pipe = fds[0];
    h_client_new(&customer, "customer", &brand, -1, "customer.db", false);
    CHECK(h_wait(cust, &customer, PARLEY_EV_DIRECTORY, 1, 15000));
    CHECK_OK(parley_client_consent(customer.c, NULL, 0));
    CHECK_OK(parley_conversation_open(customer.c, "support", "hello", conv));
    CHECK(h_pump(cust, active, conv, 20000));
    CHECK_OK(parley_conversation_send_text(customer.c, conv, DOOMED, NULL));
    wait_killed(pid);
    delivered = customer.count[PARLEY_EV_DELIVERED];

    /* The same agent, its store as the kill left it. */
    h_client_new(&alice, "alice", &brand, 0, "alice.db", false);
    CHECK(h_wait_text(all, &alice, DOOMED, 15000));
    h_pump_for(all, 300);
    CHECK(count_text(&alice, DOOMED) == 1 && count_text(&alice, "hello") == 0);
    CHECK(alice.count[PARLEY_EV_REPLAY] == 0 && alice.count[PARLEY_EV_REJECTED] == 0);
    CHECK(recorded(conv) == 1);
    CHECK(h_wait(all, &customer, PARLEY_EV_DELIVERED, delivered + 1, 10000)); /* once recorded */

    /* Acknowledged now: a clean restart shows it no more, and it stays recorded once. */
    h_client_free(&alice);
    h_client_new(&alice, "alice", &brand, 0, "alice.db", false);
    CHECK(h_wait(all, &alice, PARLEY_EV_CONNECTED, 1, 15000));
    h_pump_for(all, 500);
    CHECK(count_text(&alice, DOOMED) == 0);
    CHECK(recorded(conv) == 1);
    h_client_free(&alice);
    h_client_free(&customer);
    h_teardown(&brand);
    printf("ok\n");
    return 0;
}
