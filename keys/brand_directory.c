/*
 * "parley-keys brand directory": assembles and signs what customers'
 * clients fetch through the relay and check against the pinned brand key:
 * the agents' certificates, the revocation list, the privacy notice and
 * its purposes (each required for the service or optional, so that
 * customers answer the optional ones one by one), and the queues. A notice
 * with no text, or without a purpose the service needs, is refused. Each input is checked under the brand key
 * first so that an error names the file at fault. Versions only go up:
 * clients refuse a directory older than one they have seen, and one past
 * the expiry signed into it (--valid-days), so a brand re-publishes at
 * least that often and a relay cannot freeze a revocation out. The readable
 * content (names, notice) is sealed under the brand's directory key, which
 * the relay that stores the directory never holds.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "commands.h"
#include "describe.h"
#include "files.h"
#include "keyfile.h"
#include "scanguard.h"
#include "util.h"

#define CMD "brand directory"
#define MAX_VALID_DAYS 365u
#define MAX_RETENTION_DAYS 36500u

static const char usage[] =
    "Usage: parley-keys brand directory --key brand.key --out directory.dir\n"
    "           --notice notice.txt --notice-version N --purpose P[=TEXT]...\n"
    "           [--optional-purpose P[=TEXT]]...\n"
    "           [--revocations revoked.list] [--queue NAME=agent1,agent2]...\n"
    "           [--guard CATEGORY=ACTION,...] [--history-days N] [--legal-hold-days N]\n"
    "           [--version N] [--valid-days N] [--force]\n"
    "           [--passphrase-file FILE | --passphrase-env VAR]\n"
    "           CERT...\n"
    "\n"
    "Assembles and signs the brand directory from agent certificates (CERT...).\n"
    "\n"
    "  --key FILE              the brand key file\n"
    "  --out FILE              the directory to write\n"
    "  --notice FILE           privacy notice text (UTF-8) customers consent to\n"
    "  --notice-version N      version of that notice (a new text needs a new number)\n"
    "  --purpose P[=TEXT]      a processing purpose the service needs, named in the\n"
    "                          notice (repeatable; at least one): its id, and the\n"
    "                          sentence customers are asked about it\n"
    "  --optional-purpose P[=TEXT]\n"
    "                          a purpose customers may refuse (marketing, surveys...):\n"
    "                          each is asked separately (repeatable)\n"
    "  --keep-on-erasure       the brand must keep conversations whose customer asks for\n"
    "                          erasure: agents' clients mark them instead of deleting\n"
    "  --legal-hold-days N     ... and keep them N days after the request, then delete\n"
    "                          them (implies --keep-on-erasure; default: as long as the\n"
    "                          history retention)\n"
    "  --guard POLICY          the brand's sensitive-data policy, CATEGORY=ACTION,...\n"
    "                          (repeatable): actions allow, warn, confirm, redact, block\n"
    "                          on the categories of parley-scan; every client applies\n"
    "                          the stricter of this and its own (default: none)\n"
    "  --history-days N        devices keep message history at most N days (default\n"
    "                          180), counted from when each device received a message\n"
    "  --revocations FILE      the brand's revocation list to embed\n"
    "  --queue NAME=IDS        a queue and its agent ids, comma-separated (repeatable)\n"
    "  --version N             directory version (default: the version in --out plus 1\n"
    "                          when --out is a directory of this brand, otherwise 1)\n"
    "  --valid-days N          days until clients and relays refuse it, 1-365 (default\n"
    "                          30; clients warn when fewer than 7 remain): publish a new\n"
    "                          version before then\n"
    "  --force                 replace --out even if it is not an older directory of\n"
    "                          this brand, or --version does not go up\n" CLI_HELP_PASS;

struct dir_opts {
    const char *key, *out, *notice, *revocations;
    uint64_t notice_version, version, valid_days, history_days, legal_hold_days;
    int have_notice_version, force, keep_on_erasure;
    const char **purpose_args, **queue_args;
    int *purpose_optional;
    parley_scan_policy guard;
    size_t n_purposes, n_queues, n_certs;
    char **cert_paths;
    struct passphrase_source pass;
};

struct queue_arg {
    char *copy; /* "name=a,b" split in place */
    const char **ids;
    size_t n;
};

struct dir_inputs {
    char *notice_text;
    char **purpose_copies; /* "name=text" split in place */
    const char **purposes, **purpose_texts;
    struct files_object *certs;
    const uint8_t **cert_bufs;
    size_t *cert_lens;
    parley_cert_info *infos;
    struct files_object revs_file;
    parley_revlist *revs;
    struct queue_arg *queues;
    parley_queue_spec *qspecs;
};

/* --purpose and --optional-purpose (repeatable): kept for parse_purposes. */
static int add_purpose(const char *cmd, const char *opt, const char *arg, void *dest)
{
    struct dir_opts *o = dest;

    (void)cmd;
    o->purpose_optional[o->n_purposes] = strcmp(opt, "--optional-purpose") == 0;
    o->purpose_args[o->n_purposes++] = arg;
    return 0;
}

/* --queue (repeatable): kept for parse_queue. */
static int add_queue(const char *cmd, const char *opt, const char *arg, void *dest)
{
    struct dir_opts *o = dest;

    (void)cmd;
    (void)opt;
    o->queue_args[o->n_queues++] = arg;
    return 0;
}

/* --guard (repeatable): its rules added to the policy. */
static int add_guard(const char *cmd, const char *opt, const char *arg, void *dest)
{
    char why[256];

    if (scanguard_policy_parse(dest, arg, why, sizeof(why)) != 0)
        return cli_usage_error(cmd, "%s: %s", opt, why);
    return 0;
}

/* Returns -1 to continue, or an exit code. o's argument arrays are malloc'd. */
static int parse(int argc, char **argv, struct dir_opts *o)
{
    const struct cli_opt opts[] = {
        CLI_STR_OPT("key", &o->key),
        CLI_STR_OPT("out", &o->out),
        CLI_STR_OPT("notice", &o->notice),
        CLI_U64_OPT("notice-version", &o->notice_version, &o->have_notice_version, 0, UINT32_MAX),
        CLI_CALL_OPT("purpose", add_purpose, o),
        CLI_CALL_OPT("optional-purpose", add_purpose, o),
        CLI_FLAG_OPT("keep-on-erasure", &o->keep_on_erasure),
        CLI_U64_OPT("legal-hold-days", &o->legal_hold_days, NULL, 1, MAX_RETENTION_DAYS),
        CLI_CALL_OPT("guard", add_guard, &o->guard),
        CLI_U64_OPT("history-days", &o->history_days, NULL, 1, MAX_RETENTION_DAYS),
        CLI_STR_OPT("revocations", &o->revocations),
        CLI_CALL_OPT("queue", add_queue, o),
        CLI_U64_OPT("version", &o->version, NULL, 1, 0),
        CLI_U64_OPT("valid-days", &o->valid_days, NULL, 1, MAX_VALID_DAYS),
        CLI_FLAG_OPT("force", &o->force),
        CLI_END_OPT,
    };
    int rc, first;

    if ((rc = cli_parse(CMD, usage, argc, argv, opts, &o->pass, &first)) != -1)
        return rc;
    o->cert_paths = argv + first;
    o->n_certs = (size_t)(argc - first);
    if (o->key == NULL || o->out == NULL || o->notice == NULL || !o->have_notice_version)
        return cli_usage_error(CMD, "--key, --out, --notice and --notice-version are required");
    for (size_t i = 0; i < o->n_purposes; i++)
        if (!o->purpose_optional[i])
            return -1;
    /* Consent is to purposes: without one the service needs, customers would consent to nothing. */
    return cli_usage_error(CMD, "at least one --purpose is required: the purpose the conversation "
                                "itself serves (e.g. --purpose support)");
}

/*
 * "name=text" -> name (a valid id, not given twice) and the sentence
 * customers are asked; "name" alone has no sentence.
 */
static int parse_purposes(const struct dir_opts *o, struct dir_inputs *in)
{
    for (size_t i = 0; i < o->n_purposes; i++) {
        char *eq, *copy = strdup(o->purpose_args[i]);
        const char *text;

        if (copy == NULL) {
            report_error(NULL, "out of memory");
            return KEYS_EXIT_FAIL;
        }
        in->purpose_copies[i] = copy;
        eq = strchr(copy, '=');
        if (eq != NULL)
            *eq = '\0';
        text = eq != NULL ? eq + 1 : "";
        if (!parley_id_valid(copy))
            return cli_usage_error(CMD, "purpose '%s': not an id ([a-z0-9._-], 1 to %u bytes)",
                                   copy, PARLEY_MAX_ID);
        if (strlen(text) > PARLEY_MAX_PURPOSE_TEXT)
            return cli_usage_error(CMD, "purpose %s: its text is over %u bytes", copy,
                                   PARLEY_MAX_PURPOSE_TEXT);
        for (size_t j = 0; j < i; j++)
            if (strcmp(in->purposes[j], copy) == 0)
                return cli_usage_error(CMD, "purpose %s is given twice", copy);
        in->purposes[i] = copy;
        in->purpose_texts[i] = text;
    }
    return 0;
}

/* A notice with nothing but blanks informs nobody: consent to it would mean nothing. */
static bool notice_empty(const char *text)
{
    for (; *text != '\0'; text++)
        if (*text != ' ' && *text != '\t' && *text != '\n' && *text != '\r')
            return false;
    return true;
}

/* "name=a,b,c" -> name and ids, each a valid id. */
static int parse_queue(const char *arg, struct queue_arg *q, parley_queue_spec *spec)
{
    char *eq, *s;
    size_t cap = 1;

    q->copy = strdup(arg);
    if (q->copy == NULL) {
        report_error(NULL, "out of memory");
        return KEYS_EXIT_FAIL;
    }
    eq = strchr(q->copy, '=');
    if (eq == NULL)
        return cli_usage_error(CMD, "--queue wants NAME=agent1,agent2, not '%s'", arg);
    *eq = '\0';
    for (s = eq + 1; *s != '\0'; s++)
        cap += *s == ',';
    q->ids = calloc(cap, sizeof(*q->ids));
    if (q->ids == NULL)
        return KEYS_EXIT_FAIL;
    for (s = eq + 1; *s != '\0';) {
        char *comma = strchr(s, ',');

        if (comma != NULL)
            *comma = '\0';
        if (!parley_id_valid(s))
            return cli_usage_error(CMD, "--queue %s: invalid agent id '%s'", q->copy, s);
        q->ids[q->n++] = s;
        if (comma == NULL)
            break;
        s = comma + 1;
    }
    if (!parley_id_valid(q->copy))
        return cli_usage_error(CMD, "--queue: invalid queue name '%s'", q->copy);
    *spec = (parley_queue_spec){q->copy, q->ids, q->n};
    return 0;
}

static void inputs_free(struct dir_inputs *in, const struct dir_opts *o)
{
    for (size_t i = 0; in->certs != NULL && i < o->n_certs; i++)
        files_release(&in->certs[i]);
    for (size_t i = 0; in->queues != NULL && i < o->n_queues; i++) {
        free(in->queues[i].copy);
        free(in->queues[i].ids);
    }
    for (size_t i = 0; in->purpose_copies != NULL && i < o->n_purposes; i++)
        free(in->purpose_copies[i]);
    free(in->purpose_copies);
    free(in->purposes);
    free(in->purpose_texts);
    free(in->certs);
    free(in->cert_bufs);
    free(in->cert_lens);
    free(in->infos);
    free(in->queues);
    free(in->qspecs);
    free(in->notice_text);
    files_release(&in->revs_file);
    parley_revlist_free(in->revs);
}

/* Reads every input file and parses the queues; nothing is verified yet. */
static int inputs_load(const struct dir_opts *o, struct dir_inputs *in)
{
    int rc;

    in->certs = calloc(o->n_certs + 1, sizeof(*in->certs));
    in->cert_bufs = calloc(o->n_certs + 1, sizeof(*in->cert_bufs));
    in->cert_lens = calloc(o->n_certs + 1, sizeof(*in->cert_lens));
    in->infos = calloc(o->n_certs + 1, sizeof(*in->infos));
    in->queues = calloc(o->n_queues + 1, sizeof(*in->queues));
    in->qspecs = calloc(o->n_queues + 1, sizeof(*in->qspecs));
    in->purpose_copies = calloc(o->n_purposes + 1, sizeof(*in->purpose_copies));
    in->purposes = calloc(o->n_purposes + 1, sizeof(*in->purposes));
    in->purpose_texts = calloc(o->n_purposes + 1, sizeof(*in->purpose_texts));
    if (in->certs == NULL || in->cert_bufs == NULL || in->cert_lens == NULL || in->infos == NULL ||
        in->queues == NULL || in->qspecs == NULL || in->purpose_copies == NULL ||
        in->purposes == NULL || in->purpose_texts == NULL) {
        report_error(NULL, "out of memory");
        return KEYS_EXIT_FAIL;
    }
    for (size_t i = 0; i < o->n_queues; i++)
        if ((rc = parse_queue(o->queue_args[i], &in->queues[i], &in->qspecs[i])) != 0)
            return rc;
    if ((rc = parse_purposes(o, in)) != 0)
        return rc;
    if (files_text_load(o->notice, PARLEY_MAX_NOTICE, &in->notice_text) != 0)
        return KEYS_EXIT_FAIL;
    if (notice_empty(in->notice_text)) {
        report_error(o->notice, "the notice is empty: customers would consent to nothing they "
                                "can read");
        return KEYS_EXIT_FAIL;
    }
    for (size_t i = 0; i < o->n_certs; i++) {
        if (files_load(o->cert_paths[i], FILES_KIND_CERT, &in->certs[i]) != 0)
            return KEYS_EXIT_FAIL;
        in->cert_bufs[i] = in->certs[i].body;
        in->cert_lens[i] = in->certs[i].body_len;
    }
    if (o->revocations != NULL &&
        files_load(o->revocations, FILES_KIND_REVLIST, &in->revs_file) != 0)
        return KEYS_EXIT_FAIL;
    return 0;
}

/*
 * Checks the revocation list and every certificate under the brand key.
 * Expired, not yet valid or revoked certificates may be listed (readers
 * see them flagged); anything not authentic is refused.
 */
static int inputs_verify(const struct dir_opts *o, struct dir_inputs *in, const uint8_t *pk,
                         const char *brand_id, uint64_t now)
{
    parley_err err;

    if (o->revocations != NULL) {
        err = parley_revlist_open(&in->revs, in->revs_file.body, in->revs_file.body_len, pk,
                                  brand_id, 0);
        if (err != PARLEY_OK) {
            report_error(o->revocations, "%s", keys_strerror(err));
            return -1;
        }
    }
    for (size_t i = 0; i < o->n_certs; i++) {
        err = parley_cert_verify(in->cert_bufs[i], in->cert_lens[i], pk, brand_id, now, in->revs,
                                 &in->infos[i]);
        if (err == PARLEY_EEXPIRED || err == PARLEY_ENOTYETVALID || err == PARLEY_EREVOKED) {
            fprintf(stderr, KEYS_PROG ": %s: warning: listed, but %s\n", o->cert_paths[i],
                    keys_status_name(err));
        } else if (err != PARLEY_OK) {
            keys_report_cert_error(o->cert_paths[i], err, in->cert_bufs[i], in->cert_lens[i],
                                   brand_id, &in->infos[i]);
            return -1;
        }
    }
    return 0;
}

/* Every agent a queue names must have a certificate in the directory. */
static int queues_check(const struct dir_opts *o, const struct dir_inputs *in)
{
    for (size_t q = 0; q < o->n_queues; q++) {
        for (size_t a = 0; a < in->queues[q].n; a++) {
            size_t i = 0;

            while (i < o->n_certs && strcmp(in->infos[i].agent_id, in->queues[q].ids[a]) != 0)
                i++;
            if (i == o->n_certs) {
                report_error(NULL, "queue %s: agent '%s' has no certificate among the CERT files",
                           in->queues[q].copy, in->queues[q].ids[a]);
                return -1;
            }
        }
    }
    return 0;
}

/*
 * The version in the existing --out, if it is a directory of this brand; 0
 * otherwise. The signature, as a relay checks it, is enough: the content
 * is not needed.
 */
static uint64_t existing_version(const char *path, const uint8_t *pk, const char *brand_id)
{
    struct files_object f;
    uint64_t v = 0;

    /* Any kind is loaded: a file that is not a directory is reported by the caller. */
    if (!files_path_exists(path) || files_load(path, FILES_KIND_UNKNOWN, &f) != 0)
        return 0;
    /* An expired directory still holds the version clients saw last. */
    if (f.kind == FILES_KIND_DIRECTORY) {
        parley_err err =
            parley_directory_check(f.body, f.body_len, pk, brand_id, 0, keys_now(), &v, NULL);
        if (err != PARLEY_OK && err != PARLEY_EEXPIRED)
            v = 0;
    }
    files_release(&f);
    return v;
}

/* Picks the version to sign and whether --out may be replaced. */
static int choose_version(const struct dir_opts *o, const uint8_t *pk, const char *brand_id,
                          uint64_t *version, int *replace)
{
    int exists = files_path_exists(o->out);
    uint64_t prev = exists ? existing_version(o->out, pk, brand_id) : 0;

    if (exists && prev == 0 && !o->force) {
        report_error(o->out, "already exists and is not a directory of brand '%s' (use --force)",
                   brand_id);
        return -1;
    }
    if (o->version != 0 && prev != 0 && o->version <= prev && !o->force) {
        report_error(o->out,
                   "holds version %" PRIu64 "; version %" PRIu64
                   " would be refused by clients that saw it (use --force)",
                   prev, o->version);
        return -1;
    }
    if (o->version == 0 && prev == UINT64_MAX) {
        report_error(o->out, "version cannot go higher");
        return -1;
    }
    *version = o->version != 0 ? o->version : prev + 1;
    *replace = exists || o->force;
    return 0;
}

/*
 * Signs, then reopens with the directory key, as clients holding the
 * client pin will, to print what they will see; then writes.
 */
static int build_and_write(const struct dir_opts *o, const parley_identity *brand,
                           const parley_directory_spec *spec, int replace, uint64_t now)
{
    parley_directory *d = NULL;
    uint8_t *buf = NULL, dir_key[32];
    size_t len = 0;
    parley_err err = parley_directory_build(brand, spec, &buf, &len);
    int rc = -1;

    parley_directory_key(brand, dir_key);
    if (err == PARLEY_OK)
        err = parley_directory_open(&d, buf, len, parley_identity_sign_pk(brand), spec->brand_id,
                                    dir_key, 0, now);
    sodium_memzero(dir_key, sizeof(dir_key));
    if (err != PARLEY_OK) {
        report_error(o->out, "cannot build the directory: %s", keys_strerror(err));
        goto done;
    }
    if (files_write(o->out, FILES_MAGIC_DIRECTORY, buf, len, FILES_MODE_PUBLIC, replace) != 0)
        goto done;
    printf("directory:    %s\n", o->out);
    printf("brand id:     %s\n", spec->brand_id);
    keys_print_directory(d);
    rc = 0;
done:
    parley_directory_free(d);
    parley_free(buf, len);
    return rc;
}

static int run(const struct dir_opts *o)
{
    struct dir_inputs in;
    parley_identity *brand = NULL;
    parley_directory_spec spec;
    char brand_id[PARLEY_MAX_ID + 1];
    uint64_t now = keys_now(), version = 0;
    const uint8_t *pk;
    int replace = 0, rc;

    memset(&in, 0, sizeof(in));
    if ((rc = inputs_load(o, &in)) != 0)
        goto done;
    rc = KEYS_EXIT_FAIL;
    if (keys_brand_load(o->key, &o->pass, &brand, brand_id) != 0)
        goto done;
    pk = parley_identity_sign_pk(brand);
    if (inputs_verify(o, &in, pk, brand_id, now) != 0 || queues_check(o, &in) != 0 ||
        choose_version(o, pk, brand_id, &version, &replace) != 0)
        goto done;
    spec = (parley_directory_spec){
        .brand_id = brand_id,
        .version = version,
        .certs = in.cert_bufs,
        .cert_lens = in.cert_lens,
        .n_certs = o->n_certs,
        .revocations = o->revocations != NULL ? in.revs_file.body : NULL,
        .revocations_len = o->revocations != NULL ? in.revs_file.body_len : 0,
        .notice_text = in.notice_text,
        .notice_version = (uint32_t)o->notice_version,
        .purposes = in.purposes,
        .n_purposes = o->n_purposes,
        .purpose_optional = o->purpose_optional,
        .purpose_descriptions = in.purpose_texts,
        .queues = in.qspecs,
        .n_queues = o->n_queues,
        .issued_at = now,
        .expires_at =
            now + (o->valid_days != 0 ? o->valid_days : PARLEY_DIRECTORY_DEFAULT_DAYS) * 86400u,
        .keep_on_erasure = o->keep_on_erasure,
        .guard = &o->guard,
        .history_days = (uint32_t)(o->history_days != 0 ? o->history_days
                                                        : PARLEY_HISTORY_DEFAULT_DAYS),
        .legal_hold_days = (uint32_t)o->legal_hold_days,
    };
    if (build_and_write(o, brand, &spec, replace, now) == 0)
        rc = KEYS_EXIT_OK;
done:
    parley_identity_free(brand);
    inputs_free(&in, o);
    return rc;
}

int cmd_brand_directory(int argc, char **argv)
{
    struct dir_opts o;
    int rc;

    memset(&o, 0, sizeof(o));
    scanguard_policy_none(&o.guard);
    /* Each repeatable option takes at least one argv slot: argc bounds their count. */
    o.purpose_args = calloc((size_t)argc + 1, sizeof(*o.purpose_args));
    o.purpose_optional = calloc((size_t)argc + 1, sizeof(*o.purpose_optional));
    o.queue_args = calloc((size_t)argc + 1, sizeof(*o.queue_args));
    if (o.purpose_args == NULL || o.purpose_optional == NULL || o.queue_args == NULL) {
        report_error(NULL, "out of memory");
        rc = KEYS_EXIT_FAIL;
    } else {
        rc = parse(argc, argv, &o);
        if (rc < 0)
            rc = run(&o);
    }
    free(o.purpose_args);
    free(o.purpose_optional);
    free(o.queue_args);
    return rc;
}
