/*
 * parley-demo: the README's scripted demonstration. One process plays a
 * whole support conversation through a running relay with three clients
 * on the public libparley API: agent alice (who publishes the brand
 * directory), agent bob, and a customer who reads the privacy notice,
 * consents and asks a question; alice claims and answers, transfers to
 * bob, bob answers and closes. It then prints what each of the three saw.
 *
 * The clients run in this thread, each serviced in turn with
 * parley_client_run_once() until the next expected event arrives; every
 * wait is bounded, and a missing event ends the demo with exit status 1
 * and a line naming it.
 *
 * With --echo-agent ID it is instead a scripted agent for trying or
 * testing parley-customer and the widget: it claims the first
 * conversation queued to it (or takes the one another agent transfers to
 * it), answers every message with "echo: <text>", closes on "bye" and
 * hands the conversation over to agent OTHER on "transfer to OTHER".
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <parley/parley.h>
#include <sodium.h>

#include "files.h"
#include "passphrase.h"
#include "pin.h"

#define STORE_PASS "parley-demo temporary store"
#define MAX_LINES  512
#define MAX_TEXTS  4096 /* received and not yet answered (the echo agent frees what it answered) */

/* One of the three clients, and everything it saw. */
struct party {
    const char *role; /* "customer", "alice", "bob" */
    char title[256];  /* heading of its transcript */
    parley_client *c;
    struct files_object key, cert; /* agents: key file and certificate */
    char *lines[MAX_LINES];
    size_t n_lines;
    char *texts[MAX_TEXTS]; /* message texts received, for waits */
    size_t n_texts;
    int count[PARLEY_EV_SPECIAL_CONSENT + 1];
    bool have_conv;
    uint8_t conv[16];
    parley_conv_state state;
    char agent_id[PARLEY_MAX_ID + 1]; /* customer: the agent now in charge */
    uint64_t sent_seq;                /* our last message */
    uint64_t delivered_seq, read_seq;
};

struct options {
    const char *relay, *demo_dir, *echo_agent, *texts_out;
    const char *agent_relay[2]; /* "alice=URL", "bob=URL": an agent on another relay node */
    long timeout_s;
};

static struct party *everyone[4];
static char tmp_dir[64];
static parley_pin pin;
static struct passphrase agent_pass; /* the agents' key files', from PARLEY_DEMO_PASSPHRASE */
static const struct options *opts;
static FILE *texts_file;

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void note(struct party *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct party *p, const char *fmt, ...)
{
    va_list ap;
    char *line = NULL;

    va_start(ap, fmt);
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    if (line == NULL)
        return;
    if (p->n_lines == MAX_LINES) {
        free(line);
        return;
    }
    /* Control characters from a peer never reach the terminal. */
    for (char *s = line; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
    p->lines[p->n_lines++] = line;
}

static void hhmm(uint64_t ms, char out[8])
{
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;

    if (localtime_r(&t, &tm) == NULL || strftime(out, 8, "%H:%M", &tm) == 0)
        snprintf(out, 8, "--:--");
}

static const char *state_name(parley_conv_state s)
{
    static const char *const names[] = {
        "waiting for an agent", "queued", "active", "transferring", "transferred",
        "taken by a colleague", "closed"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static void on_event(void *user, const parley_event *ev)
{
    struct party *p = user;
    char fp[PARLEY_FINGERPRINT_LEN], when[8];

    if ((unsigned)ev->kind <= PARLEY_EV_SPECIAL_CONSENT)
        p->count[ev->kind]++;
    switch (ev->kind) {
    case PARLEY_EV_CONNECTED:
        note(p, "* connected to the relay");
        break;
    case PARLEY_EV_DISCONNECTED:
        note(p, "* disconnected: %s", parley_strerror(ev->error));
        break;
    case PARLEY_EV_DIRECTORY:
        note(p, "* verified the brand directory (notice version %u)", ev->notice_version);
        break;
    case PARLEY_EV_CONVERSATION:
        if (!p->have_conv) {
            memcpy(p->conv, ev->conversation_id, 16);
            p->have_conv = true;
        }
        p->state = ev->state;
        if (ev->sender_is_agent) {
            parley_fingerprint(ev->agent.sign_pk, fp);
            snprintf(p->agent_id, sizeof(p->agent_id), "%s", ev->agent.agent_id);
            note(p, "* conversation %s: %s (agent %s, fingerprint %s)", state_name(ev->state),
                 ev->agent.display_name, ev->agent.agent_id, fp);
        } else {
            note(p, "* conversation %s%s%s", state_name(ev->state),
                 ev->queue != NULL ? ", queue " : "", ev->queue != NULL ? ev->queue : "");
        }
        break;
    case PARLEY_EV_MESSAGE:
        hhmm(ev->time_ms, when);
        note(p, "[%s] %s: %s", when, ev->sender_is_agent ? ev->agent.display_name : "Customer",
             ev->text);
        if (p->n_texts < MAX_TEXTS)
            p->texts[p->n_texts++] = strdup(ev->text);
        /* The demo's people read what arrives at once (agents once they hold the conversation). */
        if (p->state != PARLEY_CONV_QUEUED &&
            parley_conversation_mark_read(p->c, ev->conversation_id, ev->seq) != PARLEY_OK)
            note(p, "* (read receipt not sent)");
        break;
    case PARLEY_EV_SENT:
        break;
    case PARLEY_EV_DELIVERED:
        if (ev->seq > p->delivered_seq)
            p->delivered_seq = ev->seq;
        note(p, "* \xe2\x9c\x93 delivered up to #%llu", (unsigned long long)ev->seq);
        break;
    case PARLEY_EV_READ:
        if (ev->seq > p->read_seq)
            p->read_seq = ev->seq;
        note(p, "* \xe2\x9c\x93\xe2\x9c\x93 read up to #%llu", (unsigned long long)ev->seq);
        break;
    case PARLEY_EV_TYPING:
        if (ev->active)
            note(p, "* typing...");
        break;
    case PARLEY_EV_GAP:
        note(p, "!! messages #%llu..#%llu never arrived", (unsigned long long)ev->gap_from,
             (unsigned long long)ev->gap_to);
        break;
    case PARLEY_EV_REPLAY:
        note(p, "!! replayed message #%llu dropped", (unsigned long long)ev->seq);
        break;
    case PARLEY_EV_REORDER:
        note(p, "!! reordered message #%llu dropped", (unsigned long long)ev->seq);
        break;
    case PARLEY_EV_REJECTED:
        note(p, "!! rejected an envelope: %s", parley_strerror(ev->error));
        break;
    case PARLEY_EV_RELAY_ERROR:
        note(p, "! relay error: %s (code %d)", parley_strerror(ev->error), ev->relay_code);
        break;
    case PARLEY_EV_ERASED:
        note(p, "* erasure applied");
        break;
    case PARLEY_EV_REDUCED_SECRECY:
        note(p, "! forward secrecy reduced: sealed to a medium-term prekey");
        break;
    case PARLEY_EV_DIRECTORY_EXPIRY:
        note(p, "!! the brand directory %s (Unix time %llu)",
             ev->error == PARLEY_EEXPIRED ? "has expired" : "expires soon",
             (unsigned long long)ev->expires_at);
        break;
    case PARLEY_EV_CONSENT:
        note(p, "* the customer changed its consent");
        break;
    case PARLEY_EV_ORDER:
        note(p, "* a brand order was carried out (%u conversations)", ev->order_conversations);
        break;
    case PARLEY_EV_SPECIAL_CONSENT:
        /* In the transcript, and at once (an echo agent's transcript comes at its end). */
        for (unsigned cat = 0; cat < PARLEY_SCAN_CATEGORY_COUNT; cat++)
            if (ev->special_categories & PARLEY_SCAN_BIT(cat)) {
                const char *name = parley_scan_category_name((parley_scan_category)cat);

                note(p, "* the customer explicitly consented (art. 9) to send: %s", name);
                say("%s heard: explicit consent (art. 9) to send %s", p->role, name);
            }
        break;
    }
}

/* Services every client once. */
static void pump(void)
{
    for (int i = 0; everyone[i] != NULL; i++)
        if (everyone[i]->c != NULL)
            parley_client_run_once(everyone[i]->c, 5);
}

/* Services everyone until cond(p, arg) or the timeout; false (and a message) on timeout. */
static bool wait_for(struct party *p, bool (*cond)(struct party *, const void *), const void *arg,
                     const char *what)
{
    int64_t deadline = mono_ms() + opts->timeout_s * 1000;

    while (!cond(p, arg)) {
        if (mono_ms() >= deadline) {
            fprintf(stderr, "parley-demo: timed out after %ld s: %s never %s\n", opts->timeout_s,
                    p->role, what);
            return false;
        }
        pump();
    }
    return true;
}

static bool got_event(struct party *p, const void *arg)
{
    return p->count[*(const parley_event_kind *)arg] > 0;
}

static bool in_state(struct party *p, const void *arg)
{
    parley_conv_state s;

    return p->have_conv && parley_conversation_state(p->c, p->conv, &s) == PARLEY_OK &&
           s == *(const parley_conv_state *)arg;
}

static bool got_text(struct party *p, const void *arg)
{
    for (size_t i = 0; i < p->n_texts; i++)
        if (strcmp(p->texts[i], arg) == 0)
            return true;
    return false;
}

static bool agent_is(struct party *p, const void *arg)
{
    return in_state(p, &(parley_conv_state){PARLEY_CONV_ACTIVE}) && strcmp(p->agent_id, arg) == 0;
}

static bool seen_by_peer(struct party *p, const void *arg)
{
    return p->delivered_seq >= p->sent_seq && p->read_seq >= p->sent_seq;
}

/* Everything sent has reached the relay: nothing in an outbox, nothing waiting for a key. */
static bool outboxes_empty(struct party *p, const void *arg)
{
    for (int i = 0; everyone[i] != NULL; i++)
        if (everyone[i]->c != NULL && (parley_client_outbox_size(everyone[i]->c) > 0 ||
                                       parley_client_waiting_size(everyone[i]->c) > 0))
            return false;
    return true;
}

#define WAIT_EVENT(p, kind, what) wait_for((p), got_event, &(parley_event_kind){(kind)}, (what))
#define WAIT_STATE(p, st, what)   wait_for((p), in_state, &(parley_conv_state){(st)}, (what))

static int load_party(struct party *p, const char *role)
{
    char path[4096];
    parley_cert_info info;

    memset(p, 0, sizeof(*p));
    p->role = role;
    if (strcmp(role, "customer") == 0) {
        snprintf(p->title, sizeof(p->title), "the customer");
        return 0;
    }
    snprintf(path, sizeof(path), "%s/%s.key", opts->demo_dir, role);
    if (files_load(path, FILES_KIND_KEY, &p->key) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/%s.cert", opts->demo_dir, role);
    if (files_load(path, FILES_KIND_CERT, &p->cert) != 0)
        return -1;
    if (parley_cert_inspect(p->cert.body, p->cert.body_len, &info) != PARLEY_OK) {
        fprintf(stderr, "parley-demo: %s: not a certificate\n", path);
        return -1;
    }
    snprintf(p->title, sizeof(p->title), "agent %s, %s", info.agent_id, info.display_name);
    return 0;
}

/* The relay a party connects to: its own --agent-relay, else --relay. */
static const char *relay_of(const char *role)
{
    size_t n = strlen(role);

    for (size_t i = 0; i < 2; i++)
        if (opts->agent_relay[i] != NULL && strncmp(opts->agent_relay[i], role, n) == 0 &&
            opts->agent_relay[i][n] == '=')
            return opts->agent_relay[i] + n + 1;
    return opts->relay;
}

static int start_party(struct party *p, const uint8_t *directory, size_t directory_len)
{
    parley_client_config cfg;
    char path[sizeof(tmp_dir) + 32];
    parley_err err;

    snprintf(path, sizeof(path), "%s/%s.db", tmp_dir, p->role);
    memset(&cfg, 0, sizeof(cfg));
    cfg.relay_url = relay_of(p->role);
    cfg.brand_pk = pin.brand_pk;
    cfg.brand_id = pin.brand_id;
    cfg.directory_key = pin.directory_key;
    cfg.storage_path = path;
    cfg.passphrase = STORE_PASS;
    cfg.passphrase_len = strlen(STORE_PASS);
    cfg.kdf_cost = PARLEY_KDF_INTERACTIVE; /* the cheapest; the store lives for one run */
    if (p->key.buf != NULL) {
        cfg.agent_key = p->key.body;
        cfg.agent_key_len = p->key.body_len;
        cfg.key_passphrase = agent_pass.buf;
        cfg.key_passphrase_len = agent_pass.len;
        cfg.agent_cert = p->cert.body;
        cfg.agent_cert_len = p->cert.body_len;
    }
    cfg.publish_directory = directory;
    cfg.publish_directory_len = directory_len;
    cfg.on_event = on_event;
    cfg.user = p;
    err = parley_client_new(&p->c, &cfg);
    if (err == PARLEY_OK)
        err = parley_client_connect(p->c);
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-demo: %s: cannot start: %s%s\n", p->role, parley_strerror(err),
                err == PARLEY_EPASSPHRASE ? " (PARLEY_DEMO_PASSPHRASE does not unlock the key)"
                                          : "");
        return -1;
    }
    return 0;
}

static void free_party(struct party *p)
{
    parley_client_free(p->c);
    p->c = NULL;
    files_release(&p->key);
    files_release(&p->cert);
    for (size_t i = 0; i < p->n_lines; i++)
        free(p->lines[i]);
    for (size_t i = 0; i < p->n_texts; i++)
        free(p->texts[i]);
    p->n_lines = p->n_texts = 0;
}

static void print_view(const struct party *p)
{
    say("%s", "");
    say("---- What %s saw ----", p->title);
    for (size_t i = 0; i < p->n_lines; i++)
        say("  %s", p->lines[i]);
}

/* Sends text from p, logs it in p's transcript and in --texts. */
static bool send(struct party *p, const char *text)
{
    parley_err err = parley_conversation_send_text(p->c, p->conv, text, &p->sent_seq);

    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-demo: %s could not send: %s\n", p->role, parley_strerror(err));
        return false;
    }
    note(p, "[you] %s", text);
    if (texts_file != NULL)
        fprintf(texts_file, "%s\n", text);
    return true;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* The scripted conversation. Returns 0, or 1 after naming what did not happen. */
static int play(struct party *customer, struct party *alice, struct party *bob,
                const uint8_t *directory, size_t directory_len)
{
    static const char *const lines[] = {
        "Hello, my order 4471 has not arrived yet. Can you help?",
        "Hi, Alice here. Let me look up order 4471 for you.",
        "Thank you! It was due last Tuesday.",
        "It is held at the Lyon depot. I am passing you to Bob, who handles shipping.",
        "Bob here: the depot releases parcel 4471 today, you will have it tomorrow morning.",
        "Perfect, thanks Bob. Have a nice day!",
    };
    parley_directory *dir = NULL;
    parley_err err;

    say("== alice connects and publishes the brand directory; bob connects");
    if (start_party(alice, directory, directory_len) != 0 ||
        !WAIT_EVENT(alice, PARLEY_EV_DIRECTORY, "got the directory back from the relay"))
        return 1;
    /* Clients fetch the directory when they connect: bob comes once it is published. */
    if (start_party(bob, NULL, 0) != 0 ||
        !WAIT_EVENT(bob, PARLEY_EV_DIRECTORY, "got the directory from the relay"))
        return 1;

    say("== the customer connects, verifies the directory against the pinned brand key");
    if (start_party(customer, NULL, 0) != 0)
        return 1;
    if (!WAIT_EVENT(customer, PARLEY_EV_DIRECTORY, "got a verified directory"))
        return 1;
    err = parley_client_directory(customer->c, &dir);
    if (err != PARLEY_OK) {
        say("!! the customer holds no valid directory: %s", parley_strerror(err));
        return 1;
    }
    note(customer, "* privacy notice version %u:", parley_directory_notice_version(dir));
    for (const char *s = parley_directory_notice_text(dir); *s != '\0';) {
        int n = (int)strcspn(s, "\n");

        note(customer, "*   %.*s", n, s);
        s += n + (s[n] == '\n');
    }
    note(customer, "* Do you agree? [y/N] y");
    say("== the customer reads privacy notice version %u and agrees",
        parley_directory_notice_version(dir));
    parley_directory_free(dir);
    err = parley_client_consent(customer->c, NULL, 0);
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-demo: consent failed: %s\n", parley_strerror(err));
        return 1;
    }

    say("== the customer asks a question in queue 'support'");
    err = parley_conversation_open(customer->c, "support", lines[0], customer->conv);
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-demo: opening the conversation failed: %s\n", parley_strerror(err));
        return 1;
    }
    customer->have_conv = true;
    note(customer, "[you] %s", lines[0]);
    if (texts_file != NULL)
        fprintf(texts_file, "%s\n", lines[0]);
    if (!WAIT_STATE(alice, PARLEY_CONV_QUEUED, "was offered the conversation") ||
        !WAIT_STATE(bob, PARLEY_CONV_QUEUED, "was offered the conversation"))
        return 1;

    say("== alice claims it and answers");
    err = parley_conversation_claim(alice->c, alice->conv);
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-demo: alice could not claim: %s\n", parley_strerror(err));
        return 1;
    }
    if (!wait_for(customer, agent_is, "alice", "saw alice join") ||
        !WAIT_STATE(bob, PARLEY_CONV_TAKEN, "learnt that alice took the conversation") ||
        !send(alice, lines[1]) || !wait_for(customer, got_text, lines[1], "got alice's answer") ||
        !send(customer, lines[2]) || !wait_for(alice, got_text, lines[2], "got the reply") ||
        !send(alice, lines[3]) || !wait_for(customer, got_text, lines[3], "got alice's message"))
        return 1;

    /*
     * alice hands over once the customer's receipts for her last message
     * are in: receipts still in flight to her when she transfers carry
     * sequence numbers bob never sees, and the library then reports them
     * to bob as a gap, since the handover starts bob's count of the
     * customer's messages where alice's stood.
     */
    if (!wait_for(alice, seen_by_peer, NULL, "got the customer's read receipt"))
        return 1;
    say("== alice transfers the conversation to bob");
    err = parley_conversation_transfer(alice->c, alice->conv, "bob");
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-demo: transfer failed: %s\n", parley_strerror(err));
        return 1;
    }
    if (!WAIT_STATE(bob, PARLEY_CONV_ACTIVE, "took over the conversation") ||
        !wait_for(customer, agent_is, "bob", "saw bob take over"))
        return 1;

    say("== bob answers; the customer thanks him; bob closes");
    if (!send(bob, lines[4]) || !wait_for(customer, got_text, lines[4], "got bob's answer") ||
        !send(customer, lines[5]) || !wait_for(bob, got_text, lines[5], "got the thanks"))
        return 1;
    err = parley_conversation_close(bob->c, bob->conv, "resolved");
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-demo: close failed: %s\n", parley_strerror(err));
        return 1;
    }
    if (!WAIT_STATE(customer, PARLEY_CONV_CLOSED, "saw the conversation closed") ||
        !wait_for(customer, outboxes_empty, NULL, "had every outbox acknowledged"))
        return 1;
    return 0;
}

/* A conversation offered to the queue, or handed over by another agent. */
static bool offered_or_handed_over(struct party *p, const void *arg)
{
    (void)arg;
    return in_state(p, &(parley_conv_state){PARLEY_CONV_QUEUED}) ||
           in_state(p, &(parley_conv_state){PARLEY_CONV_ACTIVE});
}

/* Frees the texts received, all answered. */
static void forget_texts(struct party *p)
{
    for (size_t i = 0; i < p->n_texts; i++)
        free(p->texts[i]);
    p->n_texts = 0;
}

/*
 * The echo agent's answer to one text: 0 to go on, 1 when it is done with
 * the conversation (closed on "bye", handed over on "transfer to OTHER")
 * and -1 on a failure.
 */
static int echo_one(struct party *agent, const char *text)
{
    static const char transfer[] = "transfer to ";
    char reply[PARLEY_MAX_TEXT + 8];

    if (strcmp(text, "bye") == 0) {
        if (parley_conversation_close(agent->c, agent->conv, "customer said bye") != PARLEY_OK)
            return -1;
        note(agent, "* closed the conversation");
        return 1;
    }
    if (strncmp(text, transfer, sizeof(transfer) - 1) == 0) {
        parley_err err = parley_conversation_transfer(agent->c, agent->conv,
                                                      text + sizeof(transfer) - 1);
        if (err != PARLEY_OK) {
            fprintf(stderr, "parley-demo: transfer failed: %s\n", parley_strerror(err));
            return -1;
        }
        note(agent, "* transferred the conversation to %s", text + sizeof(transfer) - 1);
        return 1;
    }
    if (parley_conversation_typing(agent->c, agent->conv, 1) != PARLEY_OK)
        note(agent, "* (typing notice not sent)");
    snprintf(reply, sizeof(reply), "echo: %s", text);
    return send(agent, reply) ? 0 : -1;
}

/*
 * --echo-agent: claims the first conversation queued to it (or takes one
 * transferred to it), echoes, closes on "bye", hands over on "transfer to OTHER".
 */
static int echo(struct party *agent)
{
    size_t answered = 0;
    int64_t deadline;

    if (!WAIT_EVENT(agent, PARLEY_EV_DIRECTORY, "got the directory back from the relay"))
        return 1;
    say("ready: agent %s waiting for a conversation", agent->role);
    /* Each wait is bounded by --timeout; the agent never runs forever. */
    if (!wait_for(agent, offered_or_handed_over, NULL, "was offered a conversation"))
        return 1;
    if (in_state(agent, &(parley_conv_state){PARLEY_CONV_QUEUED}) &&
        parley_conversation_claim(agent->c, agent->conv) != PARLEY_OK) {
        fprintf(stderr, "parley-demo: could not claim\n");
        return 1;
    }
    deadline = mono_ms() + opts->timeout_s * 1000;
    for (;;) {
        while (answered < agent->n_texts) {
            int done = echo_one(agent, agent->texts[answered++]);

            if (done != 0)
                return done < 0 || !wait_for(agent, outboxes_empty, NULL,
                                             "had its outbox acknowledged");
            deadline = mono_ms() + opts->timeout_s * 1000;
        }
        forget_texts(agent);
        answered = 0;
        if (agent->state == PARLEY_CONV_CLOSED) {
            note(agent, "* the customer closed the conversation");
            return 0;
        }
        if (mono_ms() >= deadline) {
            fprintf(stderr, "parley-demo: timed out after %ld s: no message and no 'bye'\n",
                    opts->timeout_s);
            return 1;
        }
        pump();
    }
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longs[] = {
        {"relay", required_argument, NULL, 'r'},
        {"demo-dir", required_argument, NULL, 'd'},
        {"echo-agent", required_argument, NULL, 'e'},
        {"texts", required_argument, NULL, 'x'},
        {"timeout", required_argument, NULL, 't'},
        {"agent-relay", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    char *end;

    memset(o, 0, sizeof(*o));
    o->timeout_s = 20;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'r':
            o->relay = optarg;
            break;
        case 'd':
            o->demo_dir = optarg;
            break;
        case 'e':
            o->echo_agent = optarg;
            break;
        case 'x':
            o->texts_out = optarg;
            break;
        case 'a':
            if (o->agent_relay[1] != NULL || strchr(optarg, '=') == NULL)
                return -1;
            o->agent_relay[o->agent_relay[0] != NULL] = optarg;
            break;
        case 't':
            errno = 0;
            o->timeout_s = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || errno != 0 || o->timeout_s < 1 ||
                o->timeout_s > 3600)
                return -1;
            break;
        case 'h':
        default:
            return -1;
        }
    }
    if (optind != argc || o->relay == NULL || o->demo_dir == NULL)
        return -1;
    if (o->echo_agent != NULL && !parley_id_valid(o->echo_agent))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    static struct party customer, alice, bob;
    struct options o;
    char path[4096];
    struct files_object directory = {0};
    int rc = 1;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (parse_options(argc, argv, &o) != 0) {
        fprintf(stderr,
                "usage: parley-demo --relay URL --demo-dir DIR [--texts FILE] [--timeout S]\n"
                "       parley-demo --relay URL --demo-dir DIR --echo-agent ID [--timeout S]\n"
                "--agent-relay AGENT=URL (twice at most): that agent connects to another relay\n"
                "node (the clustered store), the others to --relay.\n"
                "DIR holds brand.client (the client pin), directory.dir and AGENT.key/AGENT.cert\n"
                "from parley-keys;\n"
                "the agents' key passphrase is read from PARLEY_DEMO_PASSPHRASE.\n");
        return 2;
    }
    opts = &o;
    if (parley_init() != PARLEY_OK)
        return 1;
    if (passphrase_get(&(struct passphrase_source){NULL, "PARLEY_DEMO_PASSPHRASE"},
                       "the agents' key files", 0, &agent_pass) < 0)
        return 1;
    snprintf(tmp_dir, sizeof(tmp_dir), "%s", "/tmp/parley-demo-XXXXXX");
    if (mkdtemp(tmp_dir) == NULL) {
        fprintf(stderr, "parley-demo: cannot make a temporary directory: %s\n", strerror(errno));
        passphrase_release(&agent_pass);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/brand.client", o.demo_dir);
    if (pin_load(path, PIN_CLIENT, &pin) != 0)
        goto out;
    snprintf(path, sizeof(path), "%s/directory.dir", o.demo_dir);
    if (files_load(path, FILES_KIND_DIRECTORY, &directory) != 0)
        goto out;
    if (o.texts_out != NULL && (texts_file = fopen(o.texts_out, "we")) == NULL) {
        fprintf(stderr, "parley-demo: %s: %s\n", o.texts_out, strerror(errno));
        goto out;
    }

    if (o.echo_agent != NULL) {
        everyone[0] = &alice;
        if (load_party(&alice, o.echo_agent) != 0 ||
            start_party(&alice, directory.body, directory.body_len) != 0)
            goto out;
        rc = echo(&alice);
        print_view(&alice);
        goto out;
    }

    say("== Parley demo: brand %s, relay %s", pin.brand_id, o.relay);
    everyone[0] = &alice;
    everyone[1] = &bob;
    everyone[2] = &customer;
    if (load_party(&alice, "alice") != 0 || load_party(&bob, "bob") != 0 ||
        load_party(&customer, "customer") != 0)
        goto out;
    rc = play(&customer, &alice, &bob, directory.body, directory.body_len);
    print_view(&customer);
    print_view(&alice);
    print_view(&bob);
    say("%s", "");
    for (int i = 0; everyone[i] != NULL; i++) {
        const struct party *p = everyone[i];
        int bad = p->count[PARLEY_EV_REJECTED] + p->count[PARLEY_EV_GAP] +
                  p->count[PARLEY_EV_REPLAY] + p->count[PARLEY_EV_REORDER];

        if (bad > 0) {
            fprintf(stderr, "parley-demo: %s saw %d rejected or out-of-order message(s)\n", p->role,
                    bad);
            rc = 1;
        }
    }
    if (rc == 0)
        say("== Demo complete: every message was sealed end to end; the relay only stored "
            "and forwarded ciphertext.");
out:
    if (texts_file != NULL && fclose(texts_file) != 0 && rc == 0) {
        fprintf(stderr, "parley-demo: %s: write error\n", o.texts_out);
        rc = 1;
    }
    free_party(&customer);
    free_party(&alice);
    free_party(&bob);
    files_release(&directory);
    sodium_memzero(&pin, sizeof(pin));
    passphrase_release(&agent_pass);
    nftw(tmp_dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
    return rc;
}
