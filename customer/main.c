/*
 * parley-customer: a line-oriented customer client that stands in for a
 * support widget. It pins the brand key, keeps its identity and history in
 * an encrypted store, shows the brand's privacy notice and asks for
 * consent before anything is sent, then chats over stdin and stdout, or
 * plays a script for tests and demos.
 *
 * Event loop: the client runs in this thread with parley_client_run_once()
 * in short slices (TICK_MS), and stdin is polled without waiting between
 * slices. The service-thread mode would let poll() wait on stdin and the
 * event descriptor together, but every API call, every callback and the
 * customer's own store (which also records agents' keys) would then be
 * shared with a network thread; one thread with a short slice keeps all of
 * that sequential, and a typed line waits at most TICK_MS, so neither the
 * prompt nor the network ever stalls the other.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <parley/parley.h>
#include <sodium.h>

#include "chat.h"
#include "consent.h"
#include "files.h"
#include "passphrase.h"
#include "pin.h"
#include "scanguard.h"
#include "script.h"

#define TICK_MS      20
#define EXIT_FAILED  1
#define EXIT_USAGE   2
#define EXIT_TIMEOUT 3
#define MAX_LINE     (PARLEY_MAX_TEXT + 1)
#define FLUSH_MAX_MS 5000

struct options {
    const char *relay, *brand, *store, *queue, *pass_env, *pass_file, *script, *export_path;
    long timeout_s;
    long history_days;      /* 0: the store keeps conversations until erased */
    bool erase, withdraw;   /* ask the relay to erase (after withdrawing consent) */
    bool local;             /* ... then wipe this store and delete its files */
    const char *accept[PARLEY_MAX_PURPOSES]; /* optional purposes accepted (--accept) */
    size_t n_accept;
    const char *withdraw_purpose; /* --withdraw-purpose */
    const char *directory;  /* --directory: the notice first, offline */
    parley_scan_policy guard; /* what the sensitive-data guard does before a send */
};

/* Lines from stdin, read without blocking. */
struct input {
    char buf[MAX_LINE + 1];
    size_t len;
    bool eof;
    bool overlong; /* dropping the rest of a line that was too long */
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: parley-customer --relay URL --brand brand.client --store customer.db\n"
            "                       [--queue NAME] [--passphrase-env VAR | --passphrase-file F]\n"
            "                       [--script FILE] [--timeout SECONDS] [--guard POLICY]\n"
            "                       [--history-days N] [--export FILE | --erase [--local] |\n"
            "                        --withdraw-consent [--local]]\n"
            "       parley-customer export [FILE] | erase | withdraw-consent  OPTIONS...\n"
            "                       (the same as --export FILE, --erase, --withdraw-consent;\n"
            "                       export does not contact the relay)\n"
            "\n"
            "A customer's end-to-end encrypted chat with a brand's agents, on stdin/stdout.\n"
            "\n"
            "  --relay URL            the relay, e.g. ws://127.0.0.1:8787/\n"
            "  --brand FILE           the brand's client pin (parley-brand-v1 ... with the\n"
            "                         directory key; the relay pin brand.pub is not enough)\n"
            "  --store FILE           this customer's encrypted store (created if missing)\n"
            "  --queue NAME           the brand's queue to ask in (default support)\n"
            "  --passphrase-env VAR   the store passphrase from environment variable VAR\n"
            "  --passphrase-file F    the store passphrase from the first line of F\n"
            "                         (default: asked on the terminal)\n"
            "  --script FILE          play FILE instead of reading stdin (see below)\n"
            "  --export FILE          write every conversation of the store, with the consent\n"
            "                         receipt, as JSON to FILE (- for stdout), then exit\n"
            "  --erase                ask the relay to erase everything it holds for this\n"
            "                         customer, wait until it confirms, then exit; the\n"
            "                         brand's agents erase their copies when they next connect\n"
            "  --withdraw-consent     forget the consent receipt, then erase as --erase\n"
            "  --local                with --erase or --withdraw-consent: once the relay has\n"
            "                         confirmed, also wipe this device's store (identity,\n"
            "                         conversations, receipts) and delete its files\n"
            );
    fprintf(f,
            "  --directory FILE       the brand's signed directory as shipped with the page:\n"
            "                         its notice is verified and answered before any key,\n"
            "                         store or connection exists; a refusal leaves nothing\n"
            "  --accept PURPOSE       accept this optional purpose of the notice without being\n"
            "                         asked (repeatable); the others are asked one by one\n"
            "                         (with --script: refused unless accepted here)\n"
            "  --withdraw-purpose P   withdraw consent to purpose P, tell the agents, exit;\n"
            "                         for a purpose the service needs, as --withdraw-consent\n"
            "  --history-days N       this store forgets messages N days after receiving them,\n"
            "                         checked hourly; the brand's limit applies where shorter\n"
            "                         (default: the brand's, else 180 days)\n"
            "  --timeout SECONDS      bound on every wait (default 30)\n"
            "  --guard POLICY         what to do when a message looks sensitive, as\n"
            "                         CATEGORY=ACTION,... (repeatable); actions allow, warn,\n"
            "                         confirm, block, redact; categories health, religion,\n"
            "                         politics, union, ethnicity, sexual_orientation,\n"
            "                         biometric, card, iban, nir, email, phone. Default, as\n"
            "                         the support widget's: redact card, iban and nir, warn\n"
            "                         for the special categories, allow email and phone.\n"
            "                         The brand's signed policy applies where it is\n"
            "                         stricter. Checked on this device only; a warning asks\n"
            "                         before sending.\n"
            "\n"
            "Commands while chatting: /close, /quit, /help. Lines starting with '//' send\n"
            "the text with one '/' removed.\n"
            "\n"
            "Script lines: text to send, or a directive: wait-agent, wait-text SUBSTRING,\n"
            "sleep MS, consent yes|no, close, expect-closed, say TEXT, guard-answer yes|no\n"
            "(the answer to the next sensitive-data warning; default no). Blank lines and\n"
            "lines starting with '#' are skipped.\n"
            "\n"
            "Exit status: 0 done (also when consent is refused), 1 failure, 2 usage,\n"
            "3 a wait timed out.\n");
}

/* A whole number 1..max for option name, counted in unit; 0, or -1 with a message. */
static int parse_count(const char *arg, const char *name, const char *unit, long max, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || errno != 0 || *out < 1 || *out > max) {
        fprintf(stderr, "parley-customer: %s takes %s, 1..%ld\n", name, unit, max);
        return -1;
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longs[] = {
        {"relay", required_argument, NULL, 'r'},
        {"brand", required_argument, NULL, 'b'},
        {"store", required_argument, NULL, 's'},
        {"queue", required_argument, NULL, 'q'},
        {"passphrase-env", required_argument, NULL, 'e'},
        {"passphrase-file", required_argument, NULL, 'f'},
        {"script", required_argument, NULL, 'S'},
        {"timeout", required_argument, NULL, 't'},
        {"export", required_argument, NULL, 'x'},
        {"guard", required_argument, NULL, 'g'},
        {"erase", no_argument, NULL, 'E'},
        {"withdraw-consent", no_argument, NULL, 'W'},
        {"local", no_argument, NULL, 'L'},
        {"accept", required_argument, NULL, 'A'},
        {"directory", required_argument, NULL, 'D'},
        {"withdraw-purpose", required_argument, NULL, 'P'},
        {"history-days", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    memset(o, 0, sizeof(*o));
    o->queue = "support";
    o->timeout_s = 30;
    parley_scan_policy_default(&o->guard); /* the library's customer default, as the widget's */
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'r':
            o->relay = optarg;
            break;
        case 'b':
            o->brand = optarg;
            break;
        case 's':
            o->store = optarg;
            break;
        case 'q':
            o->queue = optarg;
            break;
        case 'e':
            o->pass_env = optarg;
            break;
        case 'f':
            o->pass_file = optarg;
            break;
        case 'S':
            o->script = optarg;
            break;
        case 'x':
            o->export_path = optarg;
            break;
        case 'E':
            o->erase = true;
            break;
        case 'W':
            o->withdraw = true;
            break;
        case 'L':
            o->local = true;
            break;
        case 'A':
            if (o->n_accept == PARLEY_MAX_PURPOSES) {
                fprintf(stderr, "parley-customer: --accept: at most %u purposes\n",
                        PARLEY_MAX_PURPOSES);
                return -1;
            }
            o->accept[o->n_accept++] = optarg;
            break;
        case 'P':
            o->withdraw_purpose = optarg;
            break;
        case 'D':
            o->directory = optarg;
            break;
        case 'H':
            if (parse_count(optarg, "--history-days", "days", 36500, &o->history_days) != 0)
                return -1;
            break;
        case 'g': {
            char why[256];

            if (scanguard_policy_parse(&o->guard, optarg, why, sizeof(why)) != 0) {
                fprintf(stderr, "parley-customer: --guard: %s\n", why);
                return -1;
            }
            break;
        }
        case 't':
            if (parse_count(optarg, "--timeout", "seconds", 86400, &o->timeout_s) != 0)
                return -1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    /* The same as commands: export [FILE], erase, withdraw-consent. */
    if (optind < argc) {
        const char *cmd = argv[optind++];

        if (strcmp(cmd, "export") == 0) {
            o->export_path = optind < argc ? argv[optind++] : "-";
        } else if (strcmp(cmd, "erase") == 0) {
            o->erase = true;
        } else if (strcmp(cmd, "withdraw-consent") == 0) {
            o->withdraw = true;
        } else {
            fprintf(stderr, "parley-customer: unknown command '%s' (try --help)\n", cmd);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "parley-customer: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (o->relay == NULL || o->brand == NULL || o->store == NULL) {
        fprintf(stderr, "parley-customer: --relay, --brand and --store are required\n");
        return -1;
    }
    if (o->pass_env != NULL && o->pass_file != NULL) {
        fprintf(stderr, "parley-customer: give --passphrase-env or --passphrase-file, not both\n");
        return -1;
    }
    if (o->local && !o->erase && !o->withdraw) {
        fprintf(stderr, "parley-customer: --local goes with erase or withdraw-consent\n");
        return -1;
    }
    if ((o->export_path != NULL) + o->erase + o->withdraw + (o->script != NULL) +
            (o->withdraw_purpose != NULL) >
        1) {
        fprintf(stderr, "parley-customer: --export, --erase, --withdraw-consent, "
                        "--withdraw-purpose and --script exclude each other\n");
        return -1;
    }
    return 0;
}

struct conv_ids {
    uint8_t (*ids)[16];
    size_t n, cap;
};

/* Listing callbacks may not call into the client: ids first, exports after. */
static int collect_id(void *user, const parley_conversation_info *info)
{
    struct conv_ids *l = user;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        uint8_t(*grown)[16] = realloc(l->ids, cap * sizeof(*grown));
        if (grown == NULL)
            return 1;
        l->ids = grown;
        l->cap = cap;
    }
    memcpy(l->ids[l->n++], info->conversation_id, 16);
    return 0;
}

/*
 * Access and portability requests: every conversation in the store, as a
 * JSON array of the library's export documents. No connection is made.
 */
static int export_all(parley_client *client, const char *path)
{
    struct conv_ids l = {NULL, 0, 0};
    parley_err err = parley_conversation_list(client, collect_id, &l);
    FILE *f = stdout;
    parley_err open_err = PARLEY_OK;
    int failed;

    /* Private to its owner (0600) whatever the umask: it holds the conversations in clear. */
    if (strcmp(path, "-") != 0)
        open_err = parley_export_file_open(path, 1, &f);
    if (open_err != PARLEY_OK) {
        fprintf(stderr, "parley-customer: %s: %s\n", path,
                open_err == PARLEY_EIO ? strerror(errno) : parley_strerror(open_err));
        free(l.ids);
        return EXIT_FAILED;
    }
    fputs("[", f);
    for (size_t i = 0; err == PARLEY_OK && i < l.n; i++) {
        char *json = NULL;
        size_t len = 0;

        err = parley_conversation_export(client, l.ids[i], &json, &len);
        if (err != PARLEY_OK)
            break;
        fputs(i > 0 ? ",\n" : "\n", f);
        fwrite(json, 1, len > 0 && json[len - 1] == '\n' ? len - 1 : len, f);
        parley_free(json, len);
    }
    fputs(l.n > 0 ? "\n]\n" : "]\n", f);
    failed = ferror(f) != 0;
    if (f != stdout)
        failed = fclose(f) != 0 || failed;
    free(l.ids);
    if (err != PARLEY_OK || failed) {
        fprintf(stderr, "parley-customer: %s: export failed: %s\n", path,
                err != PARLEY_OK ? parley_strerror(err) : strerror(errno));
        return EXIT_FAILED;
    }
    if (f != stdout)
        fprintf(stderr, "parley-customer: %zu conversation(s) exported to %s\n", l.n, path);
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Returns 1 and a NUL-terminated line (without its newline) in line when
 * one is complete, 0 when none is yet, -1 at end of input. Never blocks.
 */
static int input_line(struct input *in, char line[MAX_LINE + 1])
{
    for (;;) {
        char *nl = memchr(in->buf, '\n', in->len);
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        ssize_t n;

        if (nl != NULL) {
            size_t take = (size_t)(nl - in->buf);
            bool drop = in->overlong;

            memcpy(line, in->buf, take);
            line[take] = '\0';
            if (take > 0 && line[take - 1] == '\r')
                line[take - 1] = '\0';
            memmove(in->buf, nl + 1, in->len - take - 1);
            in->len -= take + 1;
            in->overlong = false;
            if (drop)
                continue;
            return 1;
        }
        if (in->len == MAX_LINE) {
            /* Too long to send: dropped whole, never cut into pieces. */
            if (!in->overlong)
                fprintf(stderr, "parley-customer: line too long (over %u bytes), not sent\n",
                        PARLEY_MAX_TEXT);
            in->overlong = true;
            in->len = 0;
        }
        if (in->eof) {
            if (in->len > 0 && !in->overlong) {
                memcpy(line, in->buf, in->len);
                line[in->len] = '\0';
                in->len = 0;
                return 1;
            }
            return -1;
        }
        if (poll(&p, 1, 0) <= 0)
            return 0;
        n = read(STDIN_FILENO, in->buf + in->len, MAX_LINE - in->len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return 0;
        if (n <= 0)
            in->eof = true;
        else
            in->len += (size_t)n;
    }
}

/* Runs the client for up to ms, in slices. */
static void service(parley_client *client, int ms)
{
    int64_t end = mono_ms() + ms;

    do {
        int64_t left = end - mono_ms();

        parley_client_run_once(client, left > TICK_MS ? TICK_MS : left > 0 ? (int)left : 0);
    } while (mono_ms() < end && stop_signal == 0);
}

/* Services until done(c) or timeout_ms; returns done(c). */
static bool wait_until(parley_client *client, struct chat *c, bool (*done)(struct chat *),
                       long timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;

    while (!done(c)) {
        if (mono_ms() >= deadline || stop_signal != 0)
            return false;
        parley_client_run_once(client, TICK_MS);
    }
    return true;
}

static bool have_directory(struct chat *c)
{
    return c->directory;
}

static bool erased(struct chat *c)
{
    return c->erased;
}

static bool agent_present(struct chat *c)
{
    return c->agent_present;
}

static bool conv_closed(struct chat *c)
{
    return c->closed;
}

/* Lets queued messages reach the relay before exiting (they would be resent next run anyway). */
static void flush_outbox(parley_client *client, long timeout_ms)
{
    int64_t deadline = mono_ms() + (timeout_ms < FLUSH_MAX_MS ? timeout_ms : FLUSH_MAX_MS);

    while (parley_client_outbox_size(client) > 0 && mono_ms() < deadline && stop_signal == 0)
        parley_client_run_once(client, TICK_MS);
}

/* Interactive yes/no to question, read from stdin while the network is serviced. */
static int ask_consent(parley_client *client, struct input *in, const char *question)
{
    char line[MAX_LINE + 1];

    fputs(question, stdout);
    fflush(stdout);
    for (;;) {
        int r = input_line(in, line);

        if (r < 0 || stop_signal != 0)
            return 0;
        if (r > 0)
            return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 || strcasecmp(line, "yes") == 0;
        if (client != NULL)
            parley_client_run_once(client, TICK_MS);
        else
            poll(NULL, 0, TICK_MS); /* before the client exists: only stdin to wait for */
    }
}

/* One optional purpose, asked on its own (consent_per_purpose's question). */
struct asker {
    parley_client *client;
    struct input *in;
};

static int ask_optional(void *arg, const char *question)
{
    struct asker *a = arg;

    return ask_consent(a->client, a->in, question);
}

/*
 * --directory: the notice before anything else. The file is verified
 * offline against the client pin and its notice answered before a
 * passphrase is asked, a store or key created, or the relay contacted.
 * Returns 1 (agreed: *file, files_release'd by the caller, to install), 0
 * (refused: nothing was created or sent), or -1 (printed).
 */
static int notice_first(const struct options *o, const parley_pin *pin, struct chat *c,
                        const struct script *script, struct input *in, struct files_object *file)
{
    parley_directory *dir = NULL;
    parley_err err;
    int agree;

    if (files_load(o->directory, FILES_KIND_DIRECTORY, file) != 0)
        return -1;
    err = parley_directory_open(&dir, file->body, file->body_len, pin->brand_pk, pin->brand_id,
                                pin->directory_key, 0, (uint64_t)time(NULL));
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-customer: %s: not a valid directory of brand %s: %s\n",
                o->directory, pin->brand_id, parley_strerror(err));
        return -1;
    }
    show_notice(c, dir);
    parley_directory_free(dir);
    if (o->script != NULL) {
        agree = script->consent;
        printf("Do you agree? [y/N] %s (script)\n", agree ? "y" : "n");
    } else {
        agree = ask_consent(NULL, in, "Do you agree? [y/N] ");
    }
    if (!agree)
        chat_status(c, "you did not agree: no key was made, nothing was stored or sent; goodbye");
    return agree ? 1 : 0;
}

/* Sends text: the first line opens the conversation. Returns 0 or -1 (printed). */
static int send_line(parley_client *client, struct chat *c, const char *queue, const char *text)
{
    uint8_t conv[16];
    uint64_t seq = 1;
    parley_err err;

    if (!c->have_conv || c->closed) {
        err = parley_conversation_open(client, queue, text, conv);
        if (err == PARLEY_OK) {
            chat_opened(c, conv);
            chat_print_own(c, text, seq);
        }
    } else {
        err = parley_conversation_send_text(client, c->conv, text, &seq);
        if (err == PARLEY_OK)
            chat_print_own(c, text, seq);
    }
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-customer: not sent: %s\n", parley_strerror(err));
        chat_status(c, "not sent: %s", parley_strerror(err));
        return -1;
    }
    return 0;
}

enum guard_answer { GUARD_NO, GUARD_YES, GUARD_EDIT };

/* What a script answers to the guard's questions, each answer used once. */
struct script_answers {
    int guard;           /* the next warning: 1 yes, 0 no */
    const char *special; /* the line typed at the next art. 9 consent question; NULL: none */
};

/* One line the person types, read from stdin while the network is serviced; false at EOF. */
static bool read_answer(parley_client *client, struct input *in, char line[MAX_LINE + 1])
{
    for (;;) {
        int r = input_line(in, line);

        if (r < 0 || stop_signal != 0)
            return false;
        if (r > 0)
            return true;
        parley_client_run_once(client, TICK_MS);
    }
}

/* The person's answer to a warning. */
static enum guard_answer ask_guard(parley_client *client, struct input *in)
{
    char line[MAX_LINE + 1];

    if (!read_answer(client, in, line))
        return GUARD_NO;
    if (strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0)
        return GUARD_YES;
    if (strcasecmp(line, "e") == 0 || strcasecmp(line, "edit") == 0)
        return GUARD_EDIT;
    return GUARD_NO;
}

/*
 * GDPR art. 9(2)(a): each special category in need gets a question of its
 * own, answered only by typing "consent CATEGORY" (no default, not the
 * keystroke that sends); the answer is recorded by the library as the
 * customer's signed consent in the conversation (or the one this text
 * opens), with the question's wording. True when every one was given.
 */
static bool ask_special(parley_client *client, struct chat *c, struct input *in,
                        struct script_answers *sa, uint32_t need)
{
    for (unsigned cat = 0; cat < PARLEY_SCAN_CATEGORY_COUNT; cat++) {
        const char *name = parley_scan_category_name((parley_scan_category)cat);
        char what[128], expect[64], wording[512], line[MAX_LINE + 1];
        const char *typed = NULL;
        parley_err err;

        if (!(need & PARLEY_SCAN_BIT(cat)))
            continue;
        scanguard_describe(PARLEY_SCAN_BIT(cat), what, sizeof(what));
        snprintf(expect, sizeof(expect), "consent %s", name);
        snprintf(wording, sizeof(wording),
                 "this message contains what looks like %s, a special category of personal "
                 "data (GDPR art. 9). It is sent only with your explicit consent to sending %s "
                 "in this conversation, which is signed by you and shown to the agent. To "
                 "consent, type: %s",
                 what, name, expect);
        if (sa == NULL) {
            chat_guard(c, false, "%s ", wording);
            if (read_answer(client, in, line))
                typed = line;
        } else {
            typed = sa->special;
            sa->special = NULL;
            chat_guard(c, true, "%s > %s (script)", wording, typed != NULL ? typed : "");
        }
        if (typed == NULL || strcmp(typed, expect) != 0) {
            chat_status(c, "not sent: no explicit consent to sending %s", name);
            return false;
        }
        err = parley_conversation_special_consent(client, c->have_conv && !c->closed ? c->conv
                                                                                     : NULL,
                                                  PARLEY_SCAN_BIT(cat), wording);
        if (err != PARLEY_OK) {
            chat_status(c, "not sent: your consent could not be recorded (%s)",
                        parley_strerror(err));
            return false;
        }
        chat_status(c, "your consent to sending %s in this conversation is recorded", name);
    }
    return true;
}

/* The y/N/e question of a warning about the categories in warn; the script's answer when sa. */
static enum guard_answer ask_warning(parley_client *client, struct chat *c, struct input *in,
                                     struct script_answers *sa, unsigned warn)
{
    const char *shown = sa == NULL ? " " : sa->guard ? " y (script)" : " n (script)";
    enum guard_answer answer;
    char what[512];

    chat_guard(c, sa != NULL,
               "this message contains what looks like %s \xe2\x80\x94 send anyway? "
               "[y/N/e(dit)]%s",
               scanguard_describe(warn, what, sizeof(what)), shown);
    if (sa == NULL)
        return ask_guard(client, in);
    answer = sa->guard ? GUARD_YES : GUARD_NO;
    sa->guard = 0;
    return answer;
}

/*
 * The sensitive-data guard, then send_line(). The text is scanned here,
 * on this device; the person is told the categories found and nothing
 * else is recorded anywhere. BLOCK refuses, REDACT sends the copy with
 * markers and says so, WARN asks: on stdin (in), or with the script's
 * answer (sa->guard, used once: it falls back to no). A special category
 * the customer has not consented to in this conversation is asked about
 * on its own (ask_special), whatever the policy says of it. Returns 0 when
 * the text was sent or held back on purpose, -1 when sending failed or
 * the text could not be checked.
 */
static int guard_send(parley_client *client, struct chat *c, const struct options *o,
                      struct input *in, struct script_answers *sa, const char *text)
{
    struct scanguard_result r;
    parley_scan_policy policy;
    const char *out = text;
    char what[512];
    enum guard_answer answer = GUARD_YES;
    uint32_t need = 0;
    int rc = 0;
    parley_err err = parley_client_scan_policy(client, &o->guard, &policy);

    /* The brand's signed policy where it is stricter than this client's own. */
    if (err == PARLEY_OK)
        err = scanguard_check(&policy, text, &r);
    if (err == PARLEY_OK && r.verdict == PARLEY_SCAN_REDACTED)
        out = r.redacted;
    /* Special categories not consented to yet, in what would go. */
    if (err == PARLEY_OK)
        err = parley_conversation_special_needed(
            client, c->have_conv && !c->closed ? c->conv : NULL, out, &need);
    if (err != PARLEY_OK) {
        chat_status(c, "not sent: the message could not be checked for sensitive data (%s)",
                    parley_strerror(err));
        scanguard_result_wipe(&r);
        return -1;
    }
    if (r.verdict == PARLEY_SCAN_BLOCKED) {
        chat_guard(c, true,
                   "not sent: this message contains what looks like %s, which this client "
                   "does not send; rephrase it without that",
                   scanguard_describe(r.block, what, sizeof(what)));
        goto done;
    }
    /* Identifiers warned of get the y/N question; special categories their own, below. */
    if (((r.warn | r.confirm) & ~PARLEY_SCAN_SPECIAL) != 0)
        answer = ask_warning(client, c, in, sa, (r.warn | r.confirm) & ~PARLEY_SCAN_SPECIAL);
    if (answer == GUARD_EDIT) {
        chat_status(c, "not sent; type it again. You wrote:");
        chat_print_draft(c, text);
        goto done;
    }
    if (answer == GUARD_NO) {
        chat_status(c, "not sent");
        goto done;
    }
    if (need != 0 && !ask_special(client, c, in, sa, need))
        goto done;
    rc = send_line(client, c, o->queue, out);
    if (rc == 0 && r.verdict == PARLEY_SCAN_REDACTED)
        chat_status(c, "sent with %s replaced by a marker",
                    scanguard_describe(r.redact, what, sizeof(what)));
done:
    scanguard_result_wipe(&r);
    return rc;
}

static int close_conversation(parley_client *client, struct chat *c)
{
    parley_err err;

    if (!c->have_conv || c->closed) {
        chat_status(c, "no open conversation");
        return 0;
    }
    err = parley_conversation_close(client, c->conv, "closed by the customer");
    if (err != PARLEY_OK) {
        chat_status(c, "could not close: %s", parley_strerror(err));
        return -1;
    }
    c->closed = true;
    c->agent_present = false;
    chat_status(c, "you closed the conversation");
    return 0;
}

static int run_interactive(parley_client *client, struct chat *c, const struct options *o,
                           struct input *in)
{
    char line[MAX_LINE + 1];

    chat_status(c, "type a message and press Enter; /help for commands");
    while (stop_signal == 0) {
        int r = input_line(in, line);

        if (r < 0)
            break;
        if (r == 0) {
            parley_client_run_once(client, TICK_MS);
            continue;
        }
        if (strcmp(line, "/quit") == 0)
            break;
        if (strcmp(line, "/help") == 0) {
            chat_status(c, "/close ends the conversation, /quit leaves (the conversation "
                           "stays open), //text sends /text");
        } else if (strcmp(line, "/close") == 0) {
            (void)close_conversation(client, c);
        } else if (line[0] == '/' && line[1] != '/') {
            chat_status(c, "unknown command %s; /help lists them", line);
        } else if (line[0] != '\0') {
            (void)guard_send(client, c, o, in, NULL, line[0] == '/' ? line + 1 : line);
        }
    }
    flush_outbox(client, o->timeout_s * 1000);
    return 0;
}

static int timed_out(struct chat *c, const struct options *o, const struct script_step *st,
                     const char *what)
{
    fprintf(stderr, "parley-customer: %s:%u: timed out after %ld s waiting for %s\n", o->script,
            st->line, o->timeout_s, what);
    chat_status(c, "timed out after %ld s waiting for %s", o->timeout_s, what);
    return EXIT_TIMEOUT;
}

static int run_script(parley_client *client, struct chat *c, const struct options *o,
                      const struct script *s)
{
    long timeout_ms = o->timeout_s * 1000;
    struct script_answers answers = {0, NULL};

    for (size_t i = 0; i < s->n && stop_signal == 0; i++) {
        const struct script_step *st = &s->steps[i];
        int64_t deadline = mono_ms() + timeout_ms;

        switch (st->op) {
        case SCRIPT_SEND:
            if (guard_send(client, c, o, NULL, &answers, st->arg) != 0)
                return EXIT_FAILED;
            break;
        case SCRIPT_GUARD_ANSWER:
            answers.guard = st->yes;
            break;
        case SCRIPT_SPECIAL_ANSWER:
            answers.special = st->arg;
            break;
        case SCRIPT_WAIT_AGENT:
            if (!wait_until(client, c, agent_present, timeout_ms))
                return timed_out(c, o, st, "an agent");
            break;
        case SCRIPT_WAIT_TEXT:
            while (!chat_take_text(c, st->arg)) {
                if (mono_ms() >= deadline || stop_signal != 0) {
                    char what[96];

                    snprintf(what, sizeof(what), "a message containing \"%.64s\"", st->arg);
                    return timed_out(c, o, st, what);
                }
                parley_client_run_once(client, TICK_MS);
            }
            break;
        case SCRIPT_SLEEP:
            service(client, (int)st->ms);
            break;
        case SCRIPT_CONSENT:
            break; /* decided before the script runs */
        case SCRIPT_CLOSE:
            if (close_conversation(client, c) != 0)
                return EXIT_FAILED;
            break;
        case SCRIPT_EXPECT_CLOSED:
            if (!wait_until(client, c, conv_closed, timeout_ms))
                return timed_out(c, o, st, "the conversation to close");
            break;
        }
    }
    flush_outbox(client, timeout_ms);
    if (parley_client_outbox_size(client) > 0)
        chat_status(c, "%zu message(s) still waiting in the outbox; they are sent next time",
                    parley_client_outbox_size(client));
    return stop_signal != 0 ? EXIT_FAILED : 0;
}

/*
 * --erase and --withdraw-consent: the request goes out once the relay has
 * authenticated this customer; done when the relay confirms it.
 */
static int erase_all(parley_client *client, struct chat *c, const struct options *o)
{
    parley_err err = o->withdraw ? parley_client_withdraw_consent(client)
                                 : parley_client_erase(client);

    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-customer: cannot ask for erasure: %s\n", parley_strerror(err));
        return EXIT_FAILED;
    }
    if (o->withdraw)
        chat_status(c, "consent withdrawn: this store no longer holds a consent receipt");
    if (!wait_until(client, c, erased, o->timeout_s * 1000)) {
        fprintf(stderr,
                "parley-customer: timed out after %ld s waiting for the relay to confirm the "
                "erasure; it is asked again on the next connection\n",
                o->timeout_s);
        return stop_signal != 0 ? EXIT_FAILED : EXIT_TIMEOUT;
    }
    return 0;
}

/*
 * --withdraw-purpose: an optional purpose leaves the receipt, which goes
 * to every agent holding a copy; a required one ends consent (as
 * --withdraw-consent).
 */
static int withdraw_purpose(parley_client *client, struct chat *c, const struct options *o)
{
    bool ends = parley_client_consent_accepted(client, o->withdraw_purpose) &&
                !optional_purpose(client, o->withdraw_purpose);
    parley_err err;

    if (ends) {
        struct options all = *o;

        all.withdraw = true;
        return erase_all(client, c, &all);
    }
    err = parley_client_withdraw_purpose(client, o->withdraw_purpose);
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-customer: cannot withdraw %s: %s\n", o->withdraw_purpose,
                parley_strerror(err));
        return EXIT_FAILED;
    }
    chat_status(c, "consent to %s withdrawn; the agents' copies of your receipt are updated",
                o->withdraw_purpose);
    flush_outbox(client, o->timeout_s * 1000);
    return parley_client_outbox_size(client) > 0 ? EXIT_TIMEOUT : 0;
}

/* erase --local, once the relay confirmed: the store emptied (its files go after it closes). */
static int wipe_store(parley_client *client, struct chat *c, bool *wiped)
{
    parley_err err = parley_client_wipe(client);

    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-customer: the relay erased, but this store could not be wiped: "
                        "%s\n", parley_strerror(err));
        return EXIT_FAILED;
    }
    *wiped = true;
    chat_status(c, "this device's store was wiped: identity, conversations and receipts");
    return 0;
}

/* The store's files, the database and its journals: gone once wiped. */
static int remove_store_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char name[4096];
    int rc = 0;

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (snprintf(name, sizeof(name), "%s%s", path, suffixes[i]) >= (int)sizeof(name))
            return -1;
        if (unlink(name) != 0 && errno != ENOENT) {
            fprintf(stderr, "parley-customer: %s: %s\n", name, strerror(errno));
            rc = -1;
        }
    }
    if (rc == 0)
        printf("* the store's files are deleted: %s\n", path);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    parley_pin pin;
    struct passphrase_source pass_src;
    struct passphrase pass = {NULL, 0};
    struct script script;
    struct chat chat;
    static struct input in;
    parley_store store = {NULL, NULL};
    parley_client_config cfg;
    parley_client *client = NULL;
    parley_directory *dir = NULL;
    struct files_object shipped = {0}; /* --directory */
    struct asker asker = {NULL, &in};
    struct sigaction sa;
    parley_err err;
    int agree, rc = EXIT_FAILED;
    bool wiped = false;

    memset(&script, 0, sizeof(script));
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (parse_options(argc, argv, &o) != 0)
        return EXIT_USAGE;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    if (parley_init() != PARLEY_OK) {
        fprintf(stderr, "parley-customer: cannot initialise libsodium\n");
        return EXIT_FAILED;
    }
    if (pin_load(o.brand, PIN_CLIENT, &pin) != 0)
        goto fail;
    if (o.script != NULL && script_load(o.script, &script) != 0)
        goto fail;
    chat_init(&chat, stdout, pin.brand_id);
    if (o.directory != NULL) {
        agree = notice_first(&o, &pin, &chat, &script, &in, &shipped);
        if (agree <= 0) {
            rc = agree == 0 ? 0 : EXIT_FAILED;
            goto fail;
        }
    }
    pass_src = (struct passphrase_source){o.pass_file, o.pass_env};
    if (passphrase_get(&pass_src, o.store, PASSPHRASE_NONEMPTY, &pass) < 0)
        goto fail;
    err = parley_store_sqlite_open(&store, o.store);
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-customer: %s: cannot open the store: %s\n", o.store,
                parley_strerror(err));
        goto fail;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.relay_url = o.relay;
    cfg.brand_pk = pin.brand_pk;
    cfg.brand_id = pin.brand_id;
    cfg.directory_key = pin.directory_key;
    cfg.store = &store;
    cfg.passphrase = pass.buf;
    cfg.passphrase_len = pass.len;
    cfg.kdf_cost = PARLEY_KDF_INTERACTIVE;
    cfg.on_event = chat_on_event;
    cfg.user = &chat;
    cfg.history_retention_days = (uint32_t)o.history_days;
    err = parley_client_new(&client, &cfg);
    passphrase_release(&pass);
    /* The client keeps its own copy of the directory key. */
    sodium_memzero(pin.directory_key, sizeof(pin.directory_key));
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-customer: %s: %s\n", o.store,
                err == PARLEY_EPASSPHRASE ? "wrong passphrase for this store"
                : err == PARLEY_EWRONGTYPE
                    ? "a store of an older Parley (0.1.0): move it aside to start afresh"
                    : parley_strerror(err));
        goto fail;
    }
    chat.client = client;
    asker.client = client;
    if (chat_move_known_agents(&chat, &store) != 0)
        fprintf(stderr, "parley-customer: %s: could not move the agent keys of an earlier version "
                        "into the sealed records; they stay in the store as they were\n",
                o.store);
    if (o.export_path != NULL) {
        rc = export_all(client, o.export_path);
        goto fail;
    }
    /* Agreed offline: consent is recorded before the relay is contacted. */
    if (shipped.body != NULL) {
        err = parley_client_directory_install(client, shipped.body, shipped.body_len);
        if (err == PARLEY_OK && !parley_client_has_consent(client))
            err = consent_per_purpose(client, o.accept, o.n_accept,
                                      o.script != NULL ? NULL : ask_optional, &asker);
        if (err != PARLEY_OK) {
            fprintf(stderr, "parley-customer: cannot record consent to %s: %s\n", o.directory,
                    parley_strerror(err));
            goto fail;
        }
    }
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (parley_client_connect(client) != PARLEY_OK)
        goto fail;
    chat_status(&chat, "connecting to %s for brand %s", o.relay, pin.brand_id);
    if (!wait_until(client, &chat, have_directory, o.timeout_s * 1000)) {
        fprintf(stderr,
                "parley-customer: timed out after %ld s waiting for the brand's verified "
                "directory from %s\n",
                o.timeout_s, o.relay);
        rc = stop_signal != 0 ? EXIT_FAILED : EXIT_TIMEOUT;
        goto fail;
    }
    if (o.erase || o.withdraw) {
        rc = erase_all(client, &chat, &o);
        if (rc == 0 && o.local)
            rc = wipe_store(client, &chat, &wiped);
        goto fail;
    }
    if (o.withdraw_purpose != NULL) {
        rc = withdraw_purpose(client, &chat, &o);
        goto fail;
    }
    err = parley_client_directory(client, &dir);
    if (err != PARLEY_OK) {
        fprintf(stderr, "parley-customer: no valid directory of brand %s: %s\n", pin.brand_id,
                parley_strerror(err));
        goto fail;
    }
    if (shipped.body == NULL || !parley_client_has_consent(client))
        show_notice(&chat, dir); /* the relay's directory may carry a newer notice */
    parley_directory_free(dir);
    if (shipped.body != NULL && parley_client_has_consent(client)) {
        agree = 1;
    } else if (o.script != NULL) {
        agree = script.consent;
        printf("Do you agree? [y/N] %s (script)\n", agree ? "y" : "n");
    } else {
        agree = ask_consent(client, &in, "Do you agree? [y/N] ");
    }
    if (!agree) {
        chat_status(&chat, "you did not agree: nothing was sent; goodbye");
        rc = 0;
        goto fail;
    }
    if (!parley_client_has_consent(client)) {
        err = consent_per_purpose(client, o.accept, o.n_accept,
                                      o.script != NULL ? NULL : ask_optional, &asker);
        if (err != PARLEY_OK) {
            fprintf(stderr, "parley-customer: cannot record consent: %s\n", parley_strerror(err));
            goto fail;
        }
    }
    chat_status(&chat, "consent to notice version %u recorded", chat.notice_version);
    rc = o.script != NULL ? run_script(client, &chat, &o, &script)
                          : run_interactive(client, &chat, &o, &in);
    if (chat.warnings > 0)
        fprintf(stderr, "!! parley-customer: %u warning(s) during this session; see above\n",
                chat.warnings);
fail:
    parley_client_free(client);
    if (store.ops != NULL) { /* the chat is set up once the store is open */
        chat_free(&chat);
        parley_store_close(&store);
    }
    if (wiped && remove_store_files(o.store) != 0)
        rc = EXIT_FAILED;
    passphrase_release(&pass);
    script_free(&script);
    files_release(&shipped);
    sodium_memzero(&pin, sizeof(pin));
    return rc;
}
