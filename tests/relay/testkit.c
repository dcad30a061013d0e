/*
 * Test-case runner, failure handling, fixtures and frame expectations for
 * the relay integration tests (see testkit.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"
#include "people.h"
#include "testkit.h"

const char *tk_relay_bin;
static const char *current_case = "?";
static char current_dir[256];

void tk_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    fprintf(stderr, "FAIL [%s] %s:%d: %s\n", current_case, file, line, cond);
    if (fmt != NULL) {
        va_list ap;
        fputs("    ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    relay_kill_all(true);
    if (current_dir[0] != '\0') {
        if (getenv("PARLEY_TEST_KEEP") != NULL)
            fprintf(stderr, "kept %s\n", current_dir);
        else
            tmpdir_remove(current_dir);
    }
    fflush(NULL);
    _exit(1); /* not exit(): the half-run case's allocations are not leaks worth reporting */
}

/* Runs one case in a child process so a failure cannot hide the cases after it. */
static bool run_case(const struct tk_case *tc)
{
    int64_t t0 = mono_ms();
    int status = 0;
    pid_t pid;

    current_case = tc->name;
    printf("== %s\n", tc->name);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "fork: cannot run %s\n", tc->name);
        return false;
    }
    if (pid == 0) {
        tc->fn();
        relay_kill_all(false);
        fflush(NULL);
        _exit(0);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok %s (%.1f s)\n", tc->name, (double)(mono_ms() - t0) / 1000.0);
        return true;
    }
    if (WIFSIGNALED(status))
        printf("FAILED %s: killed by signal %d\n", tc->name, WTERMSIG(status));
    else
        printf("FAILED %s (%.1f s)\n", tc->name, (double)(mono_ms() - t0) / 1000.0);
    return false;
}

int tk_main(int argc, char **argv, const struct tk_case *cases, size_t n)
{
    size_t ran = 0, failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PARLEY-RELAY [CASE]\n", argv[0]);
        return 2;
    }
    if (sodium_init() < 0 || parley_init() != PARLEY_OK)
        return 1;
    tk_relay_bin = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < n; i++) {
        if (argc > 2 && strcmp(argv[2], cases[i].name) != 0)
            continue;
        ran++;
        if (!run_case(&cases[i]))
            failed++;
    }
    if (ran == 0) {
        fprintf(stderr, "no test case named %s\n", argc > 2 ? argv[2] : "?");
        return 1;
    }
    printf("%zu case(s): %zu passed, %zu failed\n", ran, ran - failed, failed);
    return failed == 0 ? 0 : 1;
}

size_t tk_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

int tk_audit_verify(const char *args, char *out, size_t cap)
{
    const char *env = getenv("PARLEY_AUDIT");
    const char *slash = strrchr(tk_relay_bin, '/');
    char bin[512], cmd[2048];
    FILE *p;
    size_t n;
    int st;

    if (env != NULL && env[0] != '\0')
        snprintf(bin, sizeof(bin), "%s", env);
    else if (slash != NULL)
        snprintf(bin, sizeof(bin), "%.*s/parley-audit", (int)(slash - tk_relay_bin), tk_relay_bin);
    else
        snprintf(bin, sizeof(bin), "parley-audit");
    snprintf(cmd, sizeof(cmd), "'%s' verify %s 2>&1", bin, args);
    p = popen(cmd, "r");
    CHECK(p != NULL);
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    st = pclose(p);
    CHECKM(WIFEXITED(st), "parley-audit did not exit: %s", cmd);
    return WEXITSTATUS(st);
}

bool tk_contains(const char *hay, size_t len, const char *needle)
{
    return hay != NULL && memmem(hay, len, needle, strlen(needle)) != NULL;
}

/* Whether needle is in any file under path (a directory walked whole, or one file). */
static bool in_tree(const char *path, const char *needle)
{
    DIR *d = opendir(path);
    struct dirent *de;
    bool found = false;

    if (d == NULL) {
        size_t len = 0;
        char *data = read_file_all(path, &len);
        found = tk_contains(data, len, needle);
        free(data);
        return found;
    }
    while (!found && (de = readdir(d)) != NULL) {
        char sub[1024];
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        found = in_tree(sub, needle);
    }
    closedir(d);
    return found;
}

bool tk_on_sqlite(const struct relay_proc *r)
{
    return r->store[0] == '\0';
}

bool tk_in_store(const struct relay_proc *r, const char *needle)
{
    char wal[400];
    size_t len = 0;
    char *db;
    bool found;

    if (!tk_on_sqlite(r)) {
        /* Another store: its servers' data, which relay_suite_nats.sh names. */
        const char *data = getenv("PARLEY_TEST_STORE_DATA");
        CHECKM(data != NULL, "PARLEY_TEST_STORE_DATA unset: where %s keeps its data", r->store);
        return in_tree(data, needle);
    }
    db = read_file_all(r->db, &len);
    found = tk_contains(db, len, needle);

    free(db);
    snprintf(wal, sizeof(wal), "%s-wal", r->db);
    db = read_file_all(wal, &len);
    found = found || tk_contains(db, len, needle);
    free(db);
    return found;
}

void tk_env_init(struct tk_env *e, const char *tag)
{
    memset(e, 0, sizeof(*e));
    tmpdir_make(e->dir, sizeof(e->dir), tag);
    snprintf(current_dir, sizeof(current_dir), "%s", e->dir);
}

void tk_env_start(struct tk_env *e, const char *const *args)
{
    CHECKM(relay_start(&e->relay, tk_relay_bin, e->dir, args) == 0, "relay failed to start");
}

/* Fails the test if the relay's log holds a sanitizer report. */
static void check_sanitizers(const char *log_path)
{
    static const char *const markers[] = {"AddressSanitizer", "LeakSanitizer", "runtime error:",
                                          "ThreadSanitizer"};
    size_t len = 0;
    char *log = read_file_all(log_path, &len);

    for (size_t i = 0; log != NULL && i < sizeof(markers) / sizeof(markers[0]); i++)
        if (memmem(log, len, markers[i], strlen(markers[i])) != NULL) {
            free(log);
            tk_fail(__FILE__, __LINE__, "sanitizer report", "%s in the relay log %s", markers[i],
                    log_path);
        }
    free(log);
}

void tk_env_end(struct tk_env *e)
{
    if (e->relay.pid != 0) {
        int status = relay_stop(&e->relay, 15000);
        CHECKM(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "relay did not exit 0 on SIGTERM (wait status %d%s)", status,
               status < 0 ? ", had to be killed" : "");
    }
    check_sanitizers(e->relay.log);
    tmpdir_remove(e->dir);
    current_dir[0] = '\0';
}

parley_identity *tk_identity(void)
{
    parley_identity *id = NULL;
    CHECK(parley_identity_generate(&id) == PARLEY_OK);
    return id;
}

wsc *tk_connect_new(uint16_t port, parley_identity **id)
{
    wsc *c;

    *id = tk_identity();
    c = pc_connect(port, *id, NULL, 0);
    CHECKM(c != NULL, "cannot authenticate");
    return c;
}

void tk_routing(const parley_identity *id, uint8_t out[32])
{
    parley_routing_id(parley_identity_sign_pk(id), PARLEY_ROUTING_CUSTOMER, out);
}

void tk_agent_routing(const parley_identity *id, uint8_t out[32])
{
    parley_routing_id(parley_identity_sign_pk(id), PARLEY_ROUTING_AGENT, out);
}

void tk_random(uint8_t *p, size_t n)
{
    randombytes_buf(p, n);
}

uint64_t tk_now(void)
{
    return (uint64_t)time(NULL);
}

void tk_brand_make(struct tk_brand *b, const char *id, const char *dir)
{
    memset(b, 0, sizeof(*b));
    b->key = tk_identity();
    snprintf(b->id, sizeof(b->id), "%s", id);
    snprintf(b->pin_path, sizeof(b->pin_path), "%s/%s.pub", dir, id);
    people_write_pin(b->pin_path, id, b->key);
}

void tk_brand_free(struct tk_brand *b)
{
    parley_identity_free(b->key);
    b->key = NULL;
}

void tk_cert(const parley_identity *signer, const char *brand_id, const parley_identity *agent,
             const char *agent_id, const char *name, uint64_t serial, uint64_t not_before,
             uint64_t not_after, uint8_t **out, size_t *out_len)
{
    uint8_t *buf = people_cert(signer, brand_id, agent, agent_id, name, serial, not_before,
                               not_after, out_len);

    *out = malloc(*out_len);
    CHECK(*out != NULL);
    memcpy(*out, buf, *out_len);
    parley_free(buf, *out_len);
}

void tk_directory(const parley_identity *signer, const char *brand_id, uint64_t version,
                  const char *notice, const uint8_t *revs, size_t revs_len, uint8_t **out,
                  size_t *out_len)
{
    parley_directory_spec spec;
    uint8_t *buf = NULL;
    size_t len = 0;

    memset(&spec, 0, sizeof(spec));
    spec.brand_id = brand_id;
    spec.version = version;
    spec.notice_text = notice;
    spec.notice_version = (uint32_t)version;
    spec.revocations = revs;
    spec.revocations_len = revs_len;
    spec.issued_at = tk_now();
    CHECK(parley_directory_build(signer, &spec, &buf, &len) == PARLEY_OK);
    *out = malloc(len);
    CHECK(*out != NULL);
    memcpy(*out, buf, len);
    *out_len = len;
    parley_free(buf, len);
}

void tk_prekey(const parley_identity *owner, const parley_identity *signer, uint64_t id,
               bool medium, uint64_t expires_at, uint8_t **out, size_t *out_len)
{
    Parley__PrekeyBody body = PARLEY__PREKEY_BODY__INIT;
    Parley__Prekey pk = PARLEY__PREKEY__INIT;
    uint8_t box[32], sig[64], *bbuf;
    size_t blen;

    tk_random(box, sizeof(box));
    body.owner_sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(owner)};
    body.prekey_id = id;
    body.box_key = (ProtobufCBinaryData){32, box};
    body.created_at = tk_now();
    body.medium_term = medium;
    body.expires_at = expires_at;
    blen = parley__prekey_body__get_packed_size(&body);
    bbuf = malloc(blen);
    CHECK(bbuf != NULL);
    parley__prekey_body__pack(&body, bbuf);
    /* The public signing call refuses object domains: sign as the library itself does. */
    CHECK(parley__sign_raw(signer->secret->sign_sk, PARLEY__DOMAIN_PREKEY, bbuf, blen, sig) ==
          PARLEY_OK);
    pk.body = (ProtobufCBinaryData){blen, bbuf};
    pk.signature = (ProtobufCBinaryData){64, sig};
    *out_len = parley__prekey__get_packed_size(&pk);
    *out = malloc(*out_len);
    CHECK(*out != NULL);
    parley__prekey__pack(&pk, *out);
    free(bbuf);
}

uint8_t *tk_read_prekey(wsc *c, const parley_identity *owner, size_t *len)
{
    Parley__Frame *f = tk_expect_kind(c, PARLEY__FRAME__KIND_PREKEY_RESULT, 5000, "prekey result");
    Parley__PrekeyResult *r = f->prekey_result;
    uint8_t *buf = NULL;

    CHECKM(r->owner_sign_key.len == 32 &&
               memcmp(r->owner_sign_key.data, parley_identity_sign_pk(owner), 32) == 0,
           "prekey result names another owner");
    *len = 0;
    if (r->prekey != NULL) {
        *len = parley__prekey__get_packed_size(r->prekey);
        buf = malloc(*len);
        CHECK(buf != NULL);
        parley__prekey__pack(r->prekey, buf);
    }
    parley__frame__free_unpacked(f, NULL);
    return buf;
}

static const char *const error_names[] = {
    "UNKNOWN",       "MALFORMED",    "TOO_BIG",   "NOT_AUTHENTICATED", "AUTH_FAILED",
    "UNKNOWN_BRAND", "BAD_CERTIFICATE", "EXPIRED", "REVOKED",          "RATE_LIMITED",
    "QUOTA_FULL",    "BAD_SIGNATURE", "ROLLBACK", "NOT_ALLOWED",       "UNAVAILABLE",
    "UNEXPECTED",    "CONFLICT",     "UNBOUND",   "REPLAYED",    "UNKNOWN_ORDER"};

const char *tk_error_name(int code)
{
    return code >= 0 && (size_t)code < sizeof(error_names) / sizeof(error_names[0])
               ? error_names[code]
               : "?";
}

static const char *kind_name(const Parley__Frame *f)
{
    const ProtobufCFieldDescriptor *fd;

    if (f == NULL)
        return "nothing";
    fd = protobuf_c_message_descriptor_get_field(&parley__frame__descriptor,
                                                 (unsigned)f->kind_case);
    return fd != NULL ? fd->name : "empty";
}

static const char *result_text(const wsc *c)
{
    static char text[64];

    switch (wsc_last_result(c)) {
    case WSC_TIMEOUT:
        return "timeout";
    case WSC_EOF:
        if (wsc_last_close(c) != 0) {
            snprintf(text, sizeof(text), "close %d", wsc_last_close(c));
            return text;
        }
        return "EOF";
    case WSC_ERROR:
        return "bad frame";
    default:
        return "ok";
    }
}

Parley__Frame *tk_expect_kind(wsc *c, Parley__Frame__KindCase kind, int timeout_ms,
                              const char *what)
{
    Parley__Frame *f = pc_recv(c, timeout_ms);

    if (f == NULL)
        tk_fail(__FILE__, __LINE__, what, "expected a frame, got %s", result_text(c));
    if (f->kind_case != kind) {
        char extra[96] = "";
        if (f->kind_case == PARLEY__FRAME__KIND_ERROR)
            snprintf(extra, sizeof(extra), " (code %s, \"%s\")", tk_error_name(f->error->code),
                     f->error->message != NULL ? f->error->message : "");
        tk_fail(__FILE__, __LINE__, what, "expected frame kind %d, got %s%s", (int)kind,
                kind_name(f), extra);
    }
    return f;
}

void tk_expect_ack(wsc *c, const uint8_t envelope_id[16], int timeout_ms)
{
    Parley__Frame *f = tk_expect_kind(c, PARLEY__FRAME__KIND_ACK, timeout_ms, "ack");

    CHECKM(f->ack->envelope_id.len == 16 && memcmp(f->ack->envelope_id.data, envelope_id, 16) == 0,
           "ack names another envelope");
    parley__frame__free_unpacked(f, NULL);
}

void tk_expect_directory(wsc *c, const uint8_t *want, size_t want_len, int timeout_ms,
                         const char *what)
{
    Parley__Frame *f = tk_expect_kind(c, PARLEY__FRAME__KIND_DIRECTORY_RESULT, timeout_ms, what);
    Parley__Directory *d = f->directory_result->directory;
    size_t n = d != NULL ? parley__directory__get_packed_size(d) : 0;
    uint8_t *got = malloc(n + 1);

    CHECK(got != NULL);
    if (d != NULL)
        parley__directory__pack(d, got);
    CHECKM(d != NULL && n == want_len && memcmp(got, want, n) == 0,
           "%s: not the directory expected", what);
    free(got);
    parley__frame__free_unpacked(f, NULL);
}

void tk_expect_error(wsc *c, Parley__Error__Code code, const uint8_t *envelope_id, int timeout_ms)
{
    Parley__Frame *f = tk_expect_kind(c, PARLEY__FRAME__KIND_ERROR, timeout_ms, "error frame");

    CHECKM(f->error->code == code, "error code %s, expected %s", tk_error_name(f->error->code),
           tk_error_name(code));
    if (envelope_id != NULL)
        CHECKM(f->error->envelope_id.len == 16 &&
                   memcmp(f->error->envelope_id.data, envelope_id, 16) == 0,
               "error %s does not carry the envelope id", tk_error_name(code));
    parley__frame__free_unpacked(f, NULL);
}

void tk_expect_close(wsc *c, int code, int timeout_ms, const char *what)
{
    int got = wsc_wait_close(c, timeout_ms);

    CHECKM(got == code, "%s: expected close %d, got %s %d", what, code,
           got == 0 ? "EOF" : got < 0 ? "timeout" : "close", got);
}

void tk_expect_deliver(wsc *c, const uint8_t envelope_id[16], const uint8_t *sealed,
                       size_t sealed_len, int timeout_ms)
{
    Parley__Frame *f = tk_expect_kind(c, PARLEY__FRAME__KIND_DELIVER, timeout_ms, "deliver");

    CHECKM(f->deliver->envelope_id.len == 16 &&
               memcmp(f->deliver->envelope_id.data, envelope_id, 16) == 0,
           "delivered another envelope than expected");
    if (sealed != NULL)
        CHECKM(f->deliver->sealed.len == sealed_len &&
                   memcmp(f->deliver->sealed.data, sealed, sealed_len) == 0,
               "sealed bytes altered in delivery");
    parley__frame__free_unpacked(f, NULL);
}

void tk_expect_nothing(wsc *c, int ms, const char *what)
{
    Parley__Frame *f = pc_recv(c, ms);

    if (f != NULL) {
        const char *k = kind_name(f);
        parley__frame__free_unpacked(f, NULL);
        tk_fail(__FILE__, __LINE__, what, "expected no frame, got %s", k);
    }
    CHECKM(wsc_last_result(c) == WSC_TIMEOUT, "%s: connection ended (%s)", what, result_text(c));
}

void tk_send_acked(wsc *c, const uint8_t envelope_id[16], const uint8_t recipient[32],
                   const uint8_t *sealed, size_t sealed_len)
{
    uint8_t conv[16];

    tk_random(conv, sizeof(conv));
    CHECK(pc_send_envelope(c, envelope_id, conv, recipient, sealed, sealed_len) == 0);
    tk_expect_ack(c, envelope_id, 5000);
}

void tk_send_many(wsc *c, size_t n, const uint8_t (*convs)[16], const uint8_t *recipient,
                  const uint8_t *sealed, size_t sealed_len)
{
    uint8_t *buf = NULL, eid[16], conv[16], to[32];
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        uint8_t *m = NULL;
        size_t mlen = 0;
        tk_random(eid, 16);
        tk_random(conv, 16);
        tk_random(to, 32);
        CHECK(pc_pack_envelope(eid, convs != NULL ? convs[i] : conv,
                               recipient != NULL ? recipient : to, sealed, sealed_len, &m,
                               &mlen) == 0);
        CHECK(wsc_frame_append(&buf, &len, m, mlen) == 0);
        free(m);
    }
    CHECK(wsc_send_raw(c, buf, len) == 0);
    free(buf);
    for (size_t acked = 0; acked < n;) {
        Parley__Frame *f = pc_recv(c, 10000);
        CHECKM(f != NULL, "%zu of %zu sends unanswered", n - acked, n);
        CHECKM(f->kind_case == PARLEY__FRAME__KIND_ACK ||
                   f->kind_case == PARLEY__FRAME__KIND_DELIVER,
               "a send of many answered with frame kind %d", (int)f->kind_case);
        acked += f->kind_case == PARLEY__FRAME__KIND_ACK; /* deliveries are left unacknowledged */
        parley__frame__free_unpacked(f, NULL);
    }
}

void tk_roundtrip(wsc *c, const parley_identity *id)
{
    uint8_t me[32];

    tk_routing(id, me);
    tk_roundtrip_to(c, me);
}

void tk_roundtrip_to(wsc *c, const uint8_t me[32])
{
    uint8_t eid[16], conv[16], sealed[64];
    bool acked = false, delivered = false;
    int64_t deadline = mono_ms() + 5000;

    tk_random(eid, sizeof(eid));
    tk_random(conv, sizeof(conv));
    tk_random(sealed, sizeof(sealed));
    CHECKM(pc_send_envelope(c, eid, conv, me, sealed, sizeof(sealed)) == 0,
           "well-behaved connection cannot send");
    /* Live delivery and the ack may come in either order. */
    while (!(acked && delivered)) {
        int left = (int)(deadline - mono_ms());
        Parley__Frame *f = pc_recv(c, left > 0 ? left : 0);

        CHECKM(f != NULL, "well-behaved connection stopped working (%s)", result_text(c));
        if (f->kind_case == PARLEY__FRAME__KIND_ACK && f->ack->envelope_id.len == 16 &&
            memcmp(f->ack->envelope_id.data, eid, 16) == 0)
            acked = true;
        else if (f->kind_case == PARLEY__FRAME__KIND_DELIVER &&
                 f->deliver->envelope_id.len == 16 &&
                 memcmp(f->deliver->envelope_id.data, eid, 16) == 0)
            delivered = true;
        else
            CHECKM(false, "unexpected %s on the well-behaved connection", kind_name(f));
        parley__frame__free_unpacked(f, NULL);
    }
    CHECK(pc_send_delivered(c, (const uint8_t(*)[16])eid, 1) == 0);
}

double tk_rejects(const struct relay_proc *r, const char *reason, double min)
{
    char series[128];
    int64_t deadline = mono_ms() + 3000;
    double v;

    snprintf(series, sizeof(series), "parley_rejects_total{reason=\"%s\"}", reason);
    for (;;) {
        v = relay_metric(r, series);
        if (v >= min || mono_ms() > deadline)
            return v;
        sleep_ms(50);
    }
}

/* The messages of the relay's envelope stream, from its servers' monitor (/jsz); -1: unknown. */
static long stream_envelopes(const struct relay_proc *r)
{
    const char *port = getenv("PARLEY_TEST_STORE_MONITOR"), *ns = strrchr(r->store, '/');
    char name[64], *body = NULL, *at;
    long n = -1;

    CHECKM(port != NULL && ns != NULL, "PARLEY_TEST_STORE_MONITOR unset: %s's monitor port",
           r->store);
    snprintf(name, sizeof(name), "\"PARLEY_%.32s_ENV_0\"", ns + 1);
    if (http_get((uint16_t)strtol(port, NULL, 10), "/jsz?accounts=true&streams=true", &body) ==
            200 &&
        (at = strstr(body, name)) != NULL && (at = strstr(at, "\"messages\"")) != NULL &&
        (at = strchr(at, ':')) != NULL)
        n = strtol(at + 1, NULL, 10);
    free(body);
    return n;
}

bool tk_stored_until(const struct relay_proc *r, size_t n, size_t each, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    double bytes = -1;
    long msgs = -1;

    for (;;) {
        if (tk_on_sqlite(r) &&
            (bytes = relay_metric(r, "parley_bytes_stored")) == (double)(n * each))
            return true;
        if (!tk_on_sqlite(r) && (msgs = stream_envelopes(r)) == (long)n)
            return true;
        if (mono_ms() >= deadline)
            break;
        sleep_ms(20);
    }
    if (tk_on_sqlite(r))
        fprintf(stderr, "%.0f bytes stored, not %zu envelopes of %zu\n", bytes, n, each);
    else
        fprintf(stderr, "%ld envelopes in the stream, not %zu\n", msgs, n);
    return false;
}

double tk_metric_until(const struct relay_proc *r, const char *series, double want,
                       int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    double v;

    while ((v = relay_metric(r, series)) != want && mono_ms() < deadline)
        sleep_ms(20);
    return v;
}
