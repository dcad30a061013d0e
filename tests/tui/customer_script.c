/*
 * A scripted customer for the parley-agent end-to-end test, on the public
 * libparley API: it consents, opens a conversation and follows steps
 * given on the command line, printing what it sees. Every wait is bounded.
 *
 *   customer-script RELAY_URL BRAND.pub STORE STEP...
 *   open:QUEUE:TEXT   consent to the notice and open a conversation
 *   expect:TEXT       wait for an agent message containing TEXT
 *   say:TEXT          send TEXT
 *   special:CATEGORY  the customer's explicit consent to send that special
 *                     category (art. 9) in the conversation
 *   typing            send a typing notice
 *   agent:ID          wait until agent ID holds the conversation
 *   closed            wait until the conversation is closed
 *   pause:MS          keep servicing the client for MS milliseconds
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "parley/parley.h"

#define WAIT_MS 60000
#define MAX_SEEN 256

struct customer {
    parley_client *c;
    int has_directory;
    char seen[MAX_SEEN][512];
    int n_seen;
    uint8_t conv[16];
    int open;
    parley_conv_state state;
    char agent[PARLEY_MAX_ID + 1];
    uint64_t last_seq;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_event(void *user, const parley_event *ev)
{
    struct customer *cu = user;

    switch (ev->kind) {
    case PARLEY_EV_CONNECTED:
        printf("connected\n");
        break;
    case PARLEY_EV_DISCONNECTED:
        printf("disconnected, retry in %llu ms\n", (unsigned long long)ev->retry_ms);
        break;
    case PARLEY_EV_DIRECTORY:
        cu->has_directory = 1;
        printf("directory (notice %u)\n", ev->notice_version);
        break;
    case PARLEY_EV_CONVERSATION:
        cu->state = ev->state;
        if (ev->sender_is_agent)
            snprintf(cu->agent, sizeof(cu->agent), "%s", ev->agent.agent_id);
        printf("state %d agent %s\n", (int)ev->state, cu->agent);
        break;
    case PARLEY_EV_MESSAGE:
        printf("message from %s: %s\n", ev->agent.display_name, ev->text);
        if (cu->n_seen < MAX_SEEN)
            snprintf(cu->seen[cu->n_seen++], sizeof(cu->seen[0]), "%s", ev->text);
        if (ev->seq > cu->last_seq)
            cu->last_seq = ev->seq;
        break;
    case PARLEY_EV_REJECTED:
        printf("rejected: %s\n", parley_strerror(ev->error));
        break;
    case PARLEY_EV_RELAY_ERROR:
        printf("relay error: %s (%d)\n", parley_strerror(ev->error), ev->relay_code);
        break;
    default:
        break;
    }
    fflush(stdout);
}

static int seen(const struct customer *cu, const char *text)
{
    for (int i = 0; i < cu->n_seen; i++)
        if (strstr(cu->seen[i], text) != NULL)
            return 1;
    return 0;
}

/* Services the client until done(cu, arg) or the deadline; marks agent messages read. */
static int pump(struct customer *cu, int (*done)(struct customer *, const char *), const char *arg,
                int ms)
{
    int64_t deadline = mono_ms() + ms;
    uint64_t read_up_to = 0;

    while (done == NULL || !done(cu, arg)) {
        if (mono_ms() > deadline)
            return done == NULL ? 0 : -1;
        parley_client_run_once(cu->c, 20);
        if (cu->open && cu->last_seq > read_up_to && cu->state == PARLEY_CONV_ACTIVE) {
            parley_err err = parley_conversation_mark_read(cu->c, cu->conv, cu->last_seq);
            if (err == PARLEY_OK)
                read_up_to = cu->last_seq;
        }
    }
    return 0;
}

static int has_directory(struct customer *cu, const char *arg)
{
    return cu->has_directory;
}

static int has_text(struct customer *cu, const char *arg)
{
    return seen(cu, arg);
}

static int agent_is(struct customer *cu, const char *arg)
{
    return cu->state == PARLEY_CONV_ACTIVE && strcmp(cu->agent, arg) == 0;
}

static int is_closed(struct customer *cu, const char *arg)
{
    return cu->state == PARLEY_CONV_CLOSED;
}

static int fail(const char *step, const char *why)
{
    printf("FAIL %s: %s\n", step, why);
    fflush(stdout);
    return 1;
}

/* The client pin: brand id, brand key, directory key. */
static int load_pin(const char *path, parley_pin *pin)
{
    char line[PARLEY_PIN_MAX + 1];
    size_t n;
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return -1;
    n = fread(line, 1, sizeof(line), f);
    fclose(f);
    return parley_pin_parse(line, n, pin) == PARLEY_OK && pin->has_directory_key ? 0 : -1;
}

int main(int argc, char **argv)
{
    static struct customer cu;
    parley_client_config cfg;
    parley_pin pin;
    int rc = 0;

    if (argc < 4) {
        fprintf(stderr, "usage: customer-script RELAY_URL BRAND.pub STORE STEP...\n");
        return 2;
    }
    if (parley_init() != PARLEY_OK || load_pin(argv[2], &pin) != 0)
        return fail("start", "bad brand pin file");
    memset(&cfg, 0, sizeof(cfg));
    cfg.relay_url = argv[1];
    cfg.brand_pk = pin.brand_pk;
    cfg.brand_id = pin.brand_id;
    cfg.directory_key = pin.directory_key;
    cfg.storage_path = argv[3];
    cfg.passphrase = "customer store";
    cfg.passphrase_len = strlen(cfg.passphrase);
    cfg.kdf_cost = PARLEY_KDF_INTERACTIVE;
    cfg.on_event = on_event;
    cfg.user = &cu;
    if (parley_client_new(&cu.c, &cfg) != PARLEY_OK || parley_client_connect(cu.c) != PARLEY_OK)
        return fail("start", "cannot create the client");
    for (int i = 4; i < argc && rc == 0; i++) {
        const char *step = argv[i];
        printf("step %s\n", step);
        fflush(stdout);
        if (strncmp(step, "open:", 5) == 0) {
            char queue[80];
            const char *colon = strchr(step + 5, ':');
            parley_err err;
            if (colon == NULL || (size_t)(colon - step - 5) >= sizeof(queue)) {
                rc = fail(step, "bad step");
                break;
            }
            memcpy(queue, step + 5, (size_t)(colon - step - 5));
            queue[colon - step - 5] = '\0';
            if (pump(&cu, has_directory, NULL, WAIT_MS) != 0) {
                rc = fail(step, "no directory");
                break;
            }
            err = parley_client_consent(cu.c, NULL, 0);
            if (err == PARLEY_OK)
                err = parley_conversation_open(cu.c, queue, colon + 1, cu.conv);
            if (err != PARLEY_OK) {
                rc = fail(step, parley_strerror(err));
                break;
            }
            cu.open = 1;
            cu.state = PARLEY_CONV_WAITING;
        } else if (strncmp(step, "expect:", 7) == 0) {
            if (pump(&cu, has_text, step + 7, WAIT_MS) != 0)
                rc = fail(step, "timed out");
        } else if (strncmp(step, "say:", 4) == 0) {
            parley_err err = parley_conversation_send_text(cu.c, cu.conv, step + 4, NULL);
            if (err != PARLEY_OK)
                rc = fail(step, parley_strerror(err));
        } else if (strncmp(step, "special:", 8) == 0) {
            parley_err err = PARLEY_EINVAL;
            for (unsigned c = 0; c < PARLEY_SCAN_CATEGORY_COUNT; c++)
                if (strcmp(parley_scan_category_name((parley_scan_category)c), step + 8) == 0)
                    err = parley_conversation_special_consent(
                        cu.c, cu.conv, PARLEY_SCAN_BIT(c),
                        "Send this to the brand? Type: consent (explicit, for this category)");
            if (err != PARLEY_OK)
                rc = fail(step, parley_strerror(err));
        } else if (strcmp(step, "typing") == 0) {
            parley_err err = parley_conversation_typing(cu.c, cu.conv, 1);
            if (err != PARLEY_OK)
                rc = fail(step, parley_strerror(err));
        } else if (strncmp(step, "agent:", 6) == 0) {
            if (pump(&cu, agent_is, step + 6, WAIT_MS) != 0)
                rc = fail(step, "timed out");
        } else if (strcmp(step, "closed") == 0) {
            if (pump(&cu, is_closed, NULL, WAIT_MS) != 0)
                rc = fail(step, "timed out");
        } else if (strncmp(step, "pause:", 6) == 0) {
            char *end;
            long ms = strtol(step + 6, &end, 10);
            if (*end != '\0' || ms < 0 || ms > WAIT_MS)
                rc = fail(step, "bad pause");
            else
                (void)pump(&cu, NULL, NULL, (int)ms);
        } else {
            rc = fail(step, "unknown step");
        }
    }
    if (rc == 0) {
        (void)pump(&cu, NULL, NULL, 500); /* let receipts go out */
        printf("DONE\n");
    }
    fflush(stdout);
    parley_client_free(cu.c);
    return rc;
}
