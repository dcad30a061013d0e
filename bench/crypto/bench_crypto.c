/*
 * Crypto benchmark: the per-message cost of parley_seal_text() and
 * parley_open() beside the raw libsodium calls they are built on
 * (crypto_sign_detached + crypto_box_seal, crypto_box_seal_open +
 * crypto_sign_verify_detached) on the same text sizes. Parley and raw
 * batches alternate in one process, so machine noise falls on both sides
 * alike; the median of the batches is what the table reports.
 *
 * Usage: bench-crypto [--batches N] [--ops N] [--clock cpu|wall]
 * Prints a markdown table on stdout; exits non-zero if an operation fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "parley/parley.h"
#include "seal.h"

#define MAX_BATCHES 101
#define WARMUP_OPS  300
#define BRAND_ID    "bench"
#define CERT_NOW    1700000000u

static const size_t text_sizes[] = {256, 4096};
#define N_SIZES (sizeof(text_sizes) / sizeof(text_sizes[0]))

/* Everything one text size needs: keys, inputs sealed once, output buffers. */
struct fixture {
    size_t text_len;
    char *text;

    /* Parley: a customer talks to an agent certified by the brand. */
    parley_identity *customer, *agent;
    parley_seal_params to_agent;    /* customer sender, no certificate */
    parley_seal_params to_customer; /* agent sender, with its certificate */
    parley_trust agent_trust;       /* the agent opening a customer's message */
    parley_trust customer_trust;    /* the customer, require_agent */
    uint8_t *cert;                  /* the agent's certificate, issued by the brand */
    size_t cert_len;
    uint8_t *env_from_customer, *env_from_agent;
    size_t env_from_customer_len, env_from_agent_len;

    /* Raw libsodium: sign the text, seal signature || text. */
    uint8_t sign_pk[crypto_sign_PUBLICKEYBYTES], sign_sk[crypto_sign_SECRETKEYBYTES];
    uint8_t box_pk[crypto_box_PUBLICKEYBYTES], box_sk[crypto_box_SECRETKEYBYTES];
    uint8_t *raw_plain, *raw_box, *raw_sealed, *raw_opened;
    size_t raw_plain_len;
    uint8_t cert_sig[crypto_sign_BYTES]; /* raw stand-in for the certificate's signature */
};

/* Shared by every size: the brand (as a Parley identity and as a raw key pair). */
struct world {
    parley_identity *brand;
    uint8_t brand_pk[crypto_sign_PUBLICKEYBYTES], brand_sk[crypto_sign_SECRETKEYBYTES];
    uint8_t conversation_id[PARLEY_CONVERSATION_ID_BYTES];
    struct fixture fx[N_SIZES];
};

typedef int (*op_fn)(struct world *w, struct fixture *f);

struct series {
    double ns[MAX_BATCHES];
    size_t n;
};

/* One line of the table: a Parley operation and its raw baseline. */
struct pair {
    const char *what;
    const char *raw_what;
    size_t size_idx;
    op_fn parley, raw;
    double goal; /* maximum overhead, or < 0 when the goal does not apply */
    struct series p, r;
    double ratio[MAX_BATCHES];
};

static clockid_t bench_clock = CLOCK_PROCESS_CPUTIME_ID;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench-crypto: %s: %s\n", what, why);
    exit(1);
}

static void check(parley_err err, const char *what)
{
    if (err != PARLEY_OK)
        die(what, parley_strerror(err));
}

static int64_t now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(bench_clock, &ts) != 0)
        die("clock_gettime", strerror(errno));
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- operations: each returns 0 on success ---- */

static int op_parley_seal_customer(struct world *w, struct fixture *f)
{
    uint8_t *env;
    size_t len;

    (void)w;
    if (parley_seal_text(&f->to_agent, f->text, f->text_len, &env, &len) != PARLEY_OK)
        return -1;
    parley_free(env, len);
    return 0;
}

static int op_parley_seal_agent(struct world *w, struct fixture *f)
{
    uint8_t *env;
    size_t len;

    (void)w;
    if (parley_seal_text(&f->to_customer, f->text, f->text_len, &env, &len) != PARLEY_OK)
        return -1;
    parley_free(env, len);
    return 0;
}

static int op_parley_open_customer(struct world *w, struct fixture *f)
{
    parley_opened o;

    (void)w;
    if (parley_open(f->env_from_customer, f->env_from_customer_len, f->agent, &f->agent_trust,
                    &o) != PARLEY_OK)
        return -1;
    if (o.text_len != f->text_len || o.sender_is_agent) {
        parley_opened_clear(&o);
        return -1;
    }
    parley_opened_clear(&o);
    return 0;
}

static int op_parley_open_agent(struct world *w, struct fixture *f)
{
    parley_opened o;

    (void)w;
    if (parley_open(f->env_from_agent, f->env_from_agent_len, f->customer, &f->customer_trust,
                    &o) != PARLEY_OK)
        return -1;
    if (o.text_len != f->text_len || !o.sender_is_agent) {
        parley_opened_clear(&o);
        return -1;
    }
    parley_opened_clear(&o);
    return 0;
}

static int op_raw_seal(struct world *w, struct fixture *f)
{
    (void)w;
    memcpy(f->raw_plain + crypto_sign_BYTES, f->text, f->text_len);
    if (crypto_sign_detached(f->raw_plain, NULL, f->raw_plain + crypto_sign_BYTES, f->text_len,
                             f->sign_sk) != 0)
        return -1;
    return crypto_box_seal(f->raw_box, f->raw_plain, f->raw_plain_len, f->box_pk);
}

static int op_raw_open(struct world *w, struct fixture *f)
{
    (void)w;
    if (crypto_box_seal_open(f->raw_opened, f->raw_sealed, f->raw_plain_len + crypto_box_SEALBYTES,
                             f->box_pk, f->box_sk) != 0)
        return -1;
    return crypto_sign_verify_detached(f->raw_opened, f->raw_opened + crypto_sign_BYTES,
                                       f->text_len, f->sign_pk);
}

/* The raw open plus one more Ed25519 verification, the price of a certificate. */
static int op_raw_open_cert(struct world *w, struct fixture *f)
{
    if (op_raw_open(w, f) != 0)
        return -1;
    return crypto_sign_verify_detached(f->cert_sig, f->cert, f->cert_len, w->brand_pk);
}

/* ---- setup ---- */

static void fixture_init(struct world *w, struct fixture *f, size_t text_len)
{
    parley_cert_info info;

    f->text_len = text_len;
    f->text = malloc(text_len);
    if (f->text == NULL)
        die("malloc", "out of memory");
    for (size_t i = 0; i < text_len; i++)
        f->text[i] = (char)('a' + i % 26);

    check(parley_identity_generate(&f->customer), "customer identity");
    check(parley_identity_generate(&f->agent), "agent identity");

    f->to_agent = (parley_seal_params){
        .sender = f->customer,
        .recipient_sign_pk = parley_identity_sign_pk(f->agent),
        .recipient_box_pk = parley_identity_box_pk(f->agent),
        .conversation_id = w->conversation_id,
        .seq = 1,
        .time_ms = (uint64_t)CERT_NOW * 1000u,
    };
    f->to_customer = (parley_seal_params){
        .sender = f->agent,
        .recipient_sign_pk = parley_identity_sign_pk(f->customer),
        .recipient_box_pk = parley_identity_box_pk(f->customer),
        .conversation_id = w->conversation_id,
        .seq = 1,
        .time_ms = (uint64_t)CERT_NOW * 1000u,
    };

    memset(&info, 0, sizeof(info));
    memcpy(info.brand_id, BRAND_ID, sizeof(BRAND_ID));
    memcpy(info.agent_id, "agent-1", sizeof("agent-1"));
    memcpy(info.display_name, "Agent One", sizeof("Agent One"));
    memcpy(info.sign_pk, parley_identity_sign_pk(f->agent), 32);
    memcpy(info.box_pk, parley_identity_box_pk(f->agent), 32);
    info.serial = 1;
    info.not_before = CERT_NOW - 3600;
    info.not_after = CERT_NOW + 3600;
    check(parley_cert_issue(w->brand, &info, &f->cert, &f->cert_len), "certificate");
    f->to_customer.sender_cert = f->cert;
    f->to_customer.sender_cert_len = f->cert_len;

    f->agent_trust = (parley_trust){
        .brand_pk = parley_identity_sign_pk(w->brand),
        .brand_id = BRAND_ID,
        .now = CERT_NOW,
        .require_agent = 0,
    };
    f->customer_trust = f->agent_trust;
    f->customer_trust.require_agent = 1;

    check(parley_seal_text(&f->to_agent, f->text, f->text_len, &f->env_from_customer,
                           &f->env_from_customer_len),
          "seal from customer");
    check(parley_seal_text(&f->to_customer, f->text, f->text_len, &f->env_from_agent,
                           &f->env_from_agent_len),
          "seal from agent");

    crypto_sign_keypair(f->sign_pk, f->sign_sk);
    crypto_box_keypair(f->box_pk, f->box_sk);
    f->raw_plain_len = crypto_sign_BYTES + text_len;
    f->raw_plain = malloc(f->raw_plain_len);
    f->raw_box = malloc(f->raw_plain_len + crypto_box_SEALBYTES);
    f->raw_sealed = malloc(f->raw_plain_len + crypto_box_SEALBYTES);
    f->raw_opened = malloc(f->raw_plain_len);
    if (f->raw_plain == NULL || f->raw_box == NULL || f->raw_sealed == NULL ||
        f->raw_opened == NULL)
        die("malloc", "out of memory");
    crypto_sign_detached(f->cert_sig, NULL, f->cert, f->cert_len, w->brand_sk);
    if (op_raw_seal(w, f) != 0)
        die("raw seal", "failed");
    memcpy(f->raw_sealed, f->raw_box, f->raw_plain_len + crypto_box_SEALBYTES);
}

static void fixture_free(struct fixture *f)
{
    free(f->text);
    parley_free(f->cert, f->cert_len);
    parley_free(f->env_from_customer, f->env_from_customer_len);
    parley_free(f->env_from_agent, f->env_from_agent_len);
    parley_identity_free(f->customer);
    parley_identity_free(f->agent);
    free(f->raw_plain);
    free(f->raw_box);
    free(f->raw_sealed);
    free(f->raw_opened);
    sodium_memzero(f->sign_sk, sizeof(f->sign_sk));
    sodium_memzero(f->box_sk, sizeof(f->box_sk));
}

/* ---- measurement ---- */

/* Runs ops operations and returns the mean cost of one, in nanoseconds. */
static double run_batch(op_fn fn, struct world *w, struct fixture *f, size_t ops, const char *what)
{
    int64_t t0, t1;

    t0 = now_ns();
    for (size_t i = 0; i < ops; i++) {
        if (fn(w, f) != 0)
            die(what, "operation failed");
    }
    t1 = now_ns();
    return (double)(t1 - t0) / (double)ops;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(const double *v, size_t n)
{
    double s[MAX_BATCHES];

    memcpy(s, v, n * sizeof(*v));
    qsort(s, n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void min_max(const double *v, size_t n, double *lo, double *hi)
{
    *lo = *hi = v[0];
    for (size_t i = 1; i < n; i++) {
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
}

static size_t parse_count(const char *s, const char *what, size_t lo, size_t hi)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "bench-crypto: %s must be %zu..%zu\n", what, lo, hi);
        exit(2);
    }
    return (size_t)v;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-crypto [--batches N] [--ops N] [--clock cpu|wall]\n");
    exit(2);
}

static const char *compiler_name(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown compiler";
#endif
}

int main(int argc, char **argv)
{
    static struct world w;
    /* A goal below zero means none applies: the agent lines carry extra work. */
#define PAIR(what_, raw_what_, size_idx_, parley_, raw_, goal_)                                    \
    {                                                                                              \
        .what = what_, .raw_what = raw_what_, .size_idx = size_idx_, .parley = parley_,            \
        .raw = raw_, .goal = goal_                                                                 \
    }
    struct pair pairs[] = {
        PAIR("seal, customer", "sign + seal", 0, op_parley_seal_customer, op_raw_seal, 0.20),
        PAIR("open, customer", "seal_open + verify", 0, op_parley_open_customer, op_raw_open, 0.20),
        PAIR("seal, customer", "sign + seal", 1, op_parley_seal_customer, op_raw_seal, 0.10),
        PAIR("open, customer", "seal_open + verify", 1, op_parley_open_customer, op_raw_open, 0.10),
        PAIR("seal, agent", "sign + seal", 0, op_parley_seal_agent, op_raw_seal, -1),
        PAIR("open, agent (require_agent)", "seal_open + 2 verify", 0, op_parley_open_agent,
             op_raw_open_cert, -1),
        PAIR("seal, agent", "sign + seal", 1, op_parley_seal_agent, op_raw_seal, -1),
        PAIR("open, agent (require_agent)", "seal_open + 2 verify", 1, op_parley_open_agent,
             op_raw_open_cert, -1),
    };
#undef PAIR
    const size_t n_pairs = sizeof(pairs) / sizeof(pairs[0]);
    size_t batches = 7, ops = 2000;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--batches") == 0 && i + 1 < argc) {
            batches = parse_count(argv[++i], "--batches", 1, MAX_BATCHES);
        } else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
            ops = parse_count(argv[++i], "--ops", 1, 10000000);
        } else if (strcmp(argv[i], "--clock") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "cpu") == 0)
                bench_clock = CLOCK_PROCESS_CPUTIME_ID;
            else if (strcmp(argv[i], "wall") == 0)
                bench_clock = CLOCK_MONOTONIC;
            else
                usage();
        } else {
            usage();
        }
    }

    check(parley_init(), "parley_init");
    check(parley_identity_generate(&w.brand), "brand identity");
    crypto_sign_keypair(w.brand_pk, w.brand_sk);
    randombytes_buf(w.conversation_id, sizeof(w.conversation_id));
    for (size_t s = 0; s < N_SIZES; s++)
        fixture_init(&w, &w.fx[s], text_sizes[s]);
    /* Warm up: caches, branch predictors, the allocator, CPU frequency. */
    for (size_t k = 0; k < n_pairs; k++) {
        struct fixture *f = &w.fx[pairs[k].size_idx];

        run_batch(pairs[k].parley, &w, f, WARMUP_OPS, pairs[k].what);
        run_batch(pairs[k].raw, &w, f, WARMUP_OPS, pairs[k].raw_what);
    }

    /* Alternate which side goes first so neither always follows the other. */
    for (size_t b = 0; b < batches; b++) {
        for (size_t k = 0; k < n_pairs; k++) {
            struct pair *p = &pairs[k];
            struct fixture *f = &w.fx[p->size_idx];

            if ((b + k) % 2 == 0) {
                p->p.ns[b] = run_batch(p->parley, &w, f, ops, p->what);
                p->r.ns[b] = run_batch(p->raw, &w, f, ops, p->raw_what);
            } else {
                p->r.ns[b] = run_batch(p->raw, &w, f, ops, p->raw_what);
                p->p.ns[b] = run_batch(p->parley, &w, f, ops, p->what);
            }
            p->ratio[b] = p->p.ns[b] / p->r.ns[b] - 1;
            p->p.n = p->r.n = b + 1;
        }
    }

    printf("%zu batches x %zu ops per line, Parley and raw batches alternating; "
           "clock %s; libsodium %s; %s\n\n",
           batches, ops,
           bench_clock == CLOCK_PROCESS_CPUTIME_ID ? "CLOCK_PROCESS_CPUTIME_ID" : "CLOCK_MONOTONIC",
           sodium_version_string(), compiler_name());
#ifndef __OPTIMIZE__
    printf("**warning: built without optimisation; figures are not representative**\n\n");
#endif
    printf("| operation | text | Parley ns/op: median (min-max) | raw libsodium | "
           "raw ns/op: median (min-max) | overhead | per-batch range | goal | met |\n");
    printf("|---|---:|---:|---|---:|---:|---:|---:|---|\n");
    for (size_t k = 0; k < n_pairs; k++) {
        struct pair *p = &pairs[k];
        double pm = median(p->p.ns, p->p.n), rm = median(p->r.ns, p->r.n);
        double plo, phi, rlo, rhi, qlo, qhi, over = pm / rm - 1;
        char goal[16], met[8];

        min_max(p->p.ns, p->p.n, &plo, &phi);
        min_max(p->r.ns, p->r.n, &rlo, &rhi);
        min_max(p->ratio, p->p.n, &qlo, &qhi);
        if (p->goal >= 0) {
            snprintf(goal, sizeof(goal), "<= %.0f %%", p->goal * 100);
            snprintf(met, sizeof(met), "%s", over <= p->goal ? "yes" : "no");
        } else {
            snprintf(goal, sizeof(goal), "-");
            snprintf(met, sizeof(met), "-");
        }
        printf("| %s | %zu B | %.0f (%.0f-%.0f) | %s | %.0f (%.0f-%.0f) | %+.1f %% | "
               "%+.1f..%+.1f %% | %s | %s |\n",
               p->what, text_sizes[p->size_idx], pm, plo, phi, p->raw_what, rm, rlo, rhi,
               over * 100, qlo * 100, qhi * 100, goal, met);
    }
    printf("\n");
    /* pairs[1], [3] are the customer opens; [5], [7] the agent opens of the same size. */
    for (size_t s = 0; s < N_SIZES; s++) {
        double cust = median(pairs[1 + 2 * s].p.ns, batches);
        double agent = median(pairs[5 + 2 * s].p.ns, batches);

        printf("%zu B text: opening an agent's message with require_agent costs %.0f ns "
               "(%+.1f %%) more than a customer's: the certificate check\n",
               text_sizes[s], agent - cust, (agent / cust - 1) * 100);
    }
    for (size_t s = 0; s < N_SIZES; s++) {
        struct fixture *f = &w.fx[s];

        printf("%zu B text: envelope %zu B (customer), %zu B (agent); raw sealed box %zu B\n",
               f->text_len, f->env_from_customer_len, f->env_from_agent_len,
               f->raw_plain_len + crypto_box_SEALBYTES);
    }

    for (size_t s = 0; s < N_SIZES; s++)
        fixture_free(&w.fx[s]);
    parley_identity_free(w.brand);
    sodium_memzero(w.brand_sk, sizeof(w.brand_sk));
    return 0;
}
