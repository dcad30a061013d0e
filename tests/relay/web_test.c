/*
 * The relay's web root (--web-root): the widget's files served over HTTP
 * with their types, confined to the directory whatever the request
 * spells, without listings, revalidated by ETag, with the security
 * headers, whole for large files and refused past the size cap, gzip
 * copies sent to the clients that accept them, while a WebSocket
 * conversation goes on beside them undisturbed.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testkit.h"

#define MAX_FILE (8u << 20)

/* A relay serving dir/www, and a conversation between two customers on it. */
struct fixture {
    struct tk_env e;
    char www[400];
    parley_identity *a_id, *b_id;
    wsc *a, *b;
    uint8_t a_routing[32], b_routing[32];
};

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[600];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECKM(fd >= 0, "cannot write %s", path);
    CHECK(write(fd, p, n) == (ssize_t)n);
    close(fd);
}

static void make_dir(const char *dir, const char *name)
{
    char path[600];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    CHECKM(mkdir(path, 0755) == 0, "cannot make %s", path);
}

static void fixture_start(struct fixture *f, const char *tag, const char *const *extra)
{
    const char *args[16] = {"--web-root", f->www, "--web-max-file", "8388608"};
    size_t n = 4;

    tk_env_init(&f->e, tag);
    snprintf(f->www, sizeof(f->www), "%s/www", f->e.dir);
    CHECK(mkdir(f->www, 0755) == 0);
    for (; extra != NULL && *extra != NULL && n < 15; extra++)
        args[n++] = *extra;
    args[n] = NULL;
    /* Outside the web root: what no request may reach. */
    write_file(f->e.dir, "secret.txt", "TOP-SECRET-OUTSIDE\n", 19);
    tk_env_start(&f->e, args);
    f->a = tk_connect_new(f->e.relay.port, &f->a_id);
    f->b = tk_connect_new(f->e.relay.port, &f->b_id);
    tk_routing(f->a_id, f->a_routing);
    tk_routing(f->b_id, f->b_routing);
}

static void fixture_end(struct fixture *f)
{
    wsc_free(f->a);
    wsc_free(f->b);
    parley_identity_free(f->a_id);
    parley_identity_free(f->b_id);
    tk_env_end(&f->e);
}

/* One message each way between the two customers: sent, acknowledged, delivered, deleted. */
static void converse(struct fixture *f)
{
    wsc *from[2] = {f->a, f->b}, *to[2] = {f->b, f->a};
    const uint8_t *dest[2] = {f->b_routing, f->a_routing};

    for (int i = 0; i < 2; i++) {
        uint8_t eid[16], sealed[200];
        tk_random(eid, sizeof(eid));
        tk_random(sealed, sizeof(sealed));
        tk_send_acked(from[i], eid, dest[i], sealed, sizeof(sealed));
        tk_expect_deliver(to[i], eid, sealed, sizeof(sealed), 5000);
        CHECK(pc_send_delivered(to[i], (const uint8_t(*)[16])eid, 1) == 0);
    }
}

/* A response, split into its status, head and body. */
struct resp {
    char *raw;
    size_t len;
    int status;
    const char *body;
    size_t body_len;
};

static void request(struct fixture *f, const char *method, const char *target, const char *headers,
                    struct resp *r)
{
    char req[8192];
    char *sep;
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", method,
                     target, headers != NULL ? headers : "");

    CHECK(n > 0 && (size_t)n < sizeof(req));
    r->status = http_exchange(f->e.relay.port, req, (size_t)n, 30000, &r->raw, &r->len);
    CHECKM(r->status > 0, "%s %s: no answer", method, target);
    sep = strstr(r->raw, "\r\n\r\n");
    CHECK(sep != NULL);
    r->body = sep + 4;
    r->body_len = r->len - (size_t)(r->body - r->raw);
}

static void get(struct fixture *f, const char *target, struct resp *r)
{
    request(f, "GET", target, NULL, r);
}

/* The value of header name (case-insensitive), copied into out; false if absent. */
static bool header(const struct resp *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);

    for (const char *p = strstr(r->raw, "\r\n"); p != NULL && p + 2 < r->body;
         p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2, *end = strstr(line, "\r\n");
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(end - v), v);
            return true;
        }
    }
    return false;
}

static void resp_free(struct resp *r)
{
    free(r->raw);
    r->raw = NULL;
}

static void expect_type(struct fixture *f, const char *name, const char *type)
{
    char target[300], got[200];
    struct resp r;

    snprintf(target, sizeof(target), "/%s", name);
    get(f, target, &r);
    CHECKM(r.status == 200, "%s: status %d", name, r.status);
    CHECKM(header(&r, "Content-Type", got, sizeof(got)) && strcmp(got, type) == 0,
           "%s: Content-Type '%s', expected '%s'", name, got, type);
    CHECKM(header(&r, "X-Content-Type-Options", got, sizeof(got)) && strcmp(got, "nosniff") == 0,
           "%s: no nosniff", name);
    resp_free(&r);
}

static void expect_status(struct fixture *f, const char *target, int status)
{
    struct resp r;

    get(f, target, &r);
    CHECKM(r.status == status, "GET %s: status %d, expected %d", target, r.status, status);
    CHECKM(strstr(r.raw, "TOP-SECRET") == NULL, "GET %s reached a file outside the web root",
           target);
    resp_free(&r);
}

static void test_mime_types(void)
{
    static const struct {
        const char *name, *type;
    } files[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"parley-widget.js", "text/javascript; charset=utf-8"},
        {"engine.mjs", "text/javascript; charset=utf-8"},
        {"panel.css", "text/css; charset=utf-8"},
        {"parley-widget.wasm", "application/wasm"},
        {"strings.json", "application/json"},
        {"logo.png", "image/png"},
        {"logo.svg", "image/svg+xml"},
        {"favicon.ico", "image/x-icon"},
        {"robots.txt", "text/plain; charset=utf-8"},
        {"UPPER.HTML", "text/html; charset=utf-8"},
    };
    struct fixture f;

    fixture_start(&f, "web-mime", NULL);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        write_file(f.www, files[i].name, "x", 1);
    write_file(f.www, "backup.db", "x", 1);
    write_file(f.www, "noext", "x", 1);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        expect_type(&f, files[i].name, files[i].type);
        if (i % 4 == 0)
            converse(&f);
    }
    /* Only the types a widget needs are served: not a database someone left there. */
    expect_status(&f, "/backup.db", 404);
    expect_status(&f, "/noext", 404);
    converse(&f);
    fixture_end(&f);
}

static void test_traversal(void)
{
    static const char *const attempts[] = {
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..%5csecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "//secret.txt",
        "/sub//inner.txt",
        "/./index.html",
        "/%2e/index.html",
        "/.hidden.txt",
        "/%2ehidden.txt",
        "/out.txt",
        "/outdir/secret.txt",
        "/in.txt",
        "/%252e%252e/secret.txt",
    };
    static const char *const malformed[] = {
        "/secret%00.txt", "/%zz", "/%2", "http://127.0.0.1/index.html", "*", "/caf\xc3\xa9.txt",
    };
    char path[700], target[700];
    struct fixture f;

    fixture_start(&f, "web-traversal", NULL);
    write_file(f.www, "index.html", "<p>home</p>", 11);
    write_file(f.www, ".hidden.txt", "TOP-SECRET-DOTFILE", 18);
    make_dir(f.www, "sub");
    write_file(f.www, "sub/inner.txt", "inner", 5);
    /* Links, whether they point out of the web root or inside it, are not followed. */
    snprintf(path, sizeof(path), "%s/out.txt", f.www);
    snprintf(target, sizeof(target), "%s/secret.txt", f.e.dir);
    CHECK(symlink(target, path) == 0);
    snprintf(path, sizeof(path), "%s/outdir", f.www);
    CHECK(symlink(f.e.dir, path) == 0);
    snprintf(path, sizeof(path), "%s/in.txt", f.www);
    CHECK(symlink("sub/inner.txt", path) == 0);
    for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
        expect_status(&f, attempts[i], 404);
        if (i % 5 == 0)
            converse(&f);
    }
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
        expect_status(&f, malformed[i], 400);
    /* What is inside is served, encoded or not. */
    expect_status(&f, "/sub/inner.txt", 200);
    expect_status(&f, "/sub/inner%2Etxt", 200);
    expect_status(&f, "/%73ub/inner.txt?v=2", 200);
    CHECK(tk_rejects(&f.e.relay, "bad_request", 20) >= 20);
    converse(&f);
    fixture_end(&f);
}

/* A directory shows its index.html or nothing: never a list of what it holds. */
static void test_no_listing(void)
{
    struct fixture f;
    char location[200];
    struct resp r;

    fixture_start(&f, "web-listing", NULL);
    make_dir(f.www, "assets");
    write_file(f.www, "assets/app.js", "app()", 5);
    make_dir(f.www, "demo");
    write_file(f.www, "demo/index.html", "<p>demo</p>", 11);
    get(&f, "/", &r);
    CHECKM(r.status == 404 && strstr(r.raw, "assets") == NULL, "/ without an index: %d", r.status);
    resp_free(&r);
    get(&f, "/assets/", &r);
    CHECKM(r.status == 404 && strstr(r.raw, "app.js") == NULL, "/assets/: %d", r.status);
    resp_free(&r);
    get(&f, "/demo", &r);
    CHECKM(r.status == 301 && header(&r, "Location", location, sizeof(location)) &&
               strcmp(location, "/demo/") == 0,
           "/demo: %d", r.status);
    resp_free(&r);
    get(&f, "/demo/", &r);
    CHECKM(r.status == 200 && r.body_len == 11 && memcmp(r.body, "<p>demo</p>", 11) == 0,
           "/demo/: %d", r.status);
    resp_free(&r);
    converse(&f);
    fixture_end(&f);
}

/* HEAD: the same head as GET, no body. ETag revalidation; the security headers. */
static void test_head_and_headers(void)
{
    static const char *const extra[] = {"--web-frame-ancestors",
                                        "'self' https://shop.example https://www.acme.example",
                                        NULL};
    static const char page[] = "<!doctype html><title>widget</title>";
    char etag[100], len[32], csp[600], cond[200];
    struct fixture f;
    struct resp r;

    fixture_start(&f, "web-head", extra);
    write_file(f.www, "index.html", page, sizeof(page) - 1);
    request(&f, "HEAD", "/index.html", NULL, &r);
    CHECKM(r.status == 200 && r.body_len == 0, "HEAD: %d with %zu body bytes", r.status,
           r.body_len);
    CHECK(header(&r, "Content-Length", len, sizeof(len)) &&
          strtoul(len, NULL, 10) == sizeof(page) - 1);
    CHECK(header(&r, "ETag", etag, sizeof(etag)));
    CHECK(header(&r, "Last-Modified", cond, sizeof(cond)));
    CHECK(header(&r, "Content-Security-Policy", csp, sizeof(csp)));
    CHECKM(strstr(csp, "script-src 'self' 'wasm-unsafe-eval'") != NULL &&
               strstr(csp, "frame-ancestors 'self' https://shop.example https://www.acme.example") !=
                   NULL &&
               strstr(csp, "'unsafe-inline'") == NULL && strstr(csp, "'unsafe-eval'") == NULL,
           "CSP: %s", csp);
    resp_free(&r);
    converse(&f);

    snprintf(cond, sizeof(cond), "If-None-Match: %s\r\n", etag);
    request(&f, "GET", "/index.html", cond, &r);
    CHECKM(r.status == 304 && r.body_len == 0, "revalidation: %d", r.status);
    resp_free(&r);
    request(&f, "GET", "/index.html", "If-None-Match: \"other\"\r\n", &r);
    CHECKM(r.status == 200 && r.body_len == sizeof(page) - 1, "stale ETag: %d", r.status);
    resp_free(&r);
    /* A new build of the file is a new ETag. */
    write_file(f.www, "index.html", "<p>v2</p>", 9);
    request(&f, "GET", "/index.html", cond, &r);
    CHECKM(r.status == 200 && r.body_len == 9, "changed file: %d", r.status);
    resp_free(&r);

    request(&f, "POST", "/index.html", "Content-Length: 0\r\n", &r);
    CHECKM(r.status == 405 && header(&r, "Allow", len, sizeof(len)), "POST: %d", r.status);
    resp_free(&r);
    converse(&f);
    fixture_end(&f);
}

/* Bytes from a socket (non-blocking, as wsc leaves it) within 10 s; 0 on EOF, -1 on error. */
static ssize_t recv_some(int fd, void *buf, size_t n)
{
    struct pollfd pfd = {fd, POLLIN, 0};

    if (poll(&pfd, 1, 10000) <= 0)
        return -1;
    return recv(fd, buf, n, 0);
}

static uint8_t *random_file(struct fixture *f, const char *name, size_t n)
{
    uint8_t *p = malloc(n);

    CHECK(p != NULL);
    tk_random(p, n);
    write_file(f->www, name, p, n);
    return p;
}

/*
 * A file near the cap arrives whole; one over it is refused. A reader that
 * stops taking a large file holds up nobody, and gets the rest when it
 * reads again.
 */
static void test_big_file(void)
{
    size_t big = MAX_FILE - 4096, over = MAX_FILE + 1, head_len = 0;
    struct fixture f;
    struct resp r;
    uint8_t *data, *got;
    char *sep, head[4096];
    size_t have;
    wsc *slow;
    int fd;

    fixture_start(&f, "web-big", NULL);
    data = random_file(&f, "parley-widget.wasm", big);
    free(random_file(&f, "huge.wasm", over));
    get(&f, "/parley-widget.wasm", &r);
    CHECKM(r.status == 200 && r.body_len == big && memcmp(r.body, data, big) == 0,
           "large file: %d, %zu of %zu bytes", r.status, r.body_len, big);
    resp_free(&r);
    expect_status(&f, "/huge.wasm", 403);

    /* A reader with a small window, that stops reading after the head. */
    fd = wsc_tcp_connect_rcvbuf(f.e.relay.port, 5000, 4096);
    CHECK(fd >= 0);
    slow = wsc_from_fd(fd);
    CHECK(slow != NULL);
    CHECK(wsc_send_raw(slow, "GET /parley-widget.wasm HTTP/1.1\r\n\r\n", 36) == 0);
    while ((sep = memmem(head, head_len, "\r\n\r\n", 4)) == NULL) {
        ssize_t n = recv_some(fd, head + head_len, sizeof(head) - head_len);
        CHECK(n > 0);
        head_len += (size_t)n;
    }
    for (int i = 0; i < 5; i++)
        converse(&f);
    expect_status(&f, "/huge.wasm", 403);
    get(&f, "/parley-widget.wasm", &r);
    CHECK(r.status == 200 && r.body_len == big);
    resp_free(&r);
    /* Now it reads: everything, in order. */
    got = malloc(big);
    CHECK(got != NULL);
    have = head_len - (size_t)(sep + 4 - head);
    memcpy(got, sep + 4, have);
    while (have < big) {
        ssize_t n = recv_some(fd, got + have, big - have);
        CHECKM(n > 0, "slow reader cut off after %zu of %zu bytes", have, big);
        have += (size_t)n;
    }
    CHECK(memcmp(got, data, big) == 0);
    CHECK(wsc_wait_eof(slow, 5000));
    wsc_free(slow);
    free(got);
    free(data);
    converse(&f);
    fixture_end(&f);
}

/* Sets name's modification time to seconds before now. */
static void age_file(const char *dir, const char *name, time_t seconds)
{
    char path[600];
    struct timespec t[2];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    CHECK(clock_gettime(CLOCK_REALTIME, &t[0]) == 0);
    t[0].tv_sec -= seconds;
    t[1] = t[0];
    CHECKM(utimensat(AT_FDCWD, path, t, 0) == 0, "cannot age %s", path);
}

/*
 * GET target with the header lines headers; checks the body is want (n
 * bytes, the file or its gzip copy as gzip says), the type, the encoding
 * and Vary. Returns the ETag in etag.
 */
static void expect_encoding(struct fixture *f, const char *target, const char *headers,
                            const char *want, size_t n, bool gzip, char etag[100])
{
    char got[200];
    struct resp r;

    request(f, "GET", target, headers, &r);
    CHECKM(r.status == 200 && r.body_len == n && memcmp(r.body, want, n) == 0,
           "GET %s with [%s]: %d, %zu bytes, not the %s", target, headers != NULL ? headers : "",
           r.status, r.body_len, gzip ? "gzip copy" : "file");
    CHECKM(header(&r, "Content-Encoding", got, sizeof(got)) == gzip &&
               (!gzip || strcmp(got, "gzip") == 0),
           "GET %s with [%s]: Content-Encoding %s", target, headers != NULL ? headers : "",
           gzip ? got : "present");
    CHECKM(header(&r, "Vary", got, sizeof(got)) && strcmp(got, "Accept-Encoding") == 0,
           "GET %s: no Vary: Accept-Encoding", target);
    CHECK(header(&r, "Content-Type", got, sizeof(got)) &&
          strcmp(got, "text/javascript; charset=utf-8") == 0);
    CHECK(header(&r, "ETag", etag, 100));
    resp_free(&r);
}

/*
 * NAME.gz beside a file is sent, encoded, to a client whose
 * Accept-Encoding allows gzip, and only to it; a hostile or contradictory
 * header, a missing, stale, linked or oversized copy: the file itself.
 */
static void test_gzip(void)
{
    static const char js[] = "console.log('the widget, as built');\n";
    static const char gz[] = "\x1f\x8b gzip copy of the widget";
    static const char *const accepted[] = {
        "Accept-Encoding: gzip\r\n",
        "Accept-Encoding: gzip, deflate, br, zstd\r\n",
        "Accept-Encoding: br;q=1.0, GZIP;q=0.5\r\n",
        "Accept-Encoding: x-gzip\r\n",
        "Accept-Encoding: *\r\n",
        "Accept-Encoding: identity;q=0, gzip ; q=0.001\r\n",
        "Accept-Encoding: gzip;q=1.000\r\n",
        "Accept-Encoding: br\r\nAccept-Encoding: gzip\r\n",
    };
    static const char *const refused[] = {
        NULL,
        "Accept-Encoding:\r\n",
        "Accept-Encoding: identity\r\n",
        "Accept-Encoding: br, deflate\r\n",
        "Accept-Encoding: gzip;q=0\r\n",
        "Accept-Encoding: gzip;q=0.000, *\r\n",
        "Accept-Encoding: *;q=0\r\n",
        "Accept-Encoding: gzip\r\nAccept-Encoding: gzip;q=0\r\n",
        "Accept-Encoding: gzip;q=1.5\r\n",
        "Accept-Encoding: gzip;q=0.0001\r\n",
        "Accept-Encoding: gzip;q=abc\r\n",
        "Accept-Encoding: gzip;q=\r\n",
        "Accept-Encoding: gzip;level=9\r\n",
        "Accept-Encoding: gzip q=1\r\n",
        "Accept-Encoding: gzipx, xgzip, gzi\r\n",
        "Accept-Encoding: \"gzip\"\r\n",
    };
    char *long_refusal, etag[100], etag2[100], cond[200], path[600], target[700];
    struct fixture f;
    struct resp r;
    size_t n;

    fixture_start(&f, "web-gzip", NULL);
    write_file(f.www, "app.js", js, sizeof(js) - 1);
    write_file(f.www, "app.js.gz", gz, sizeof(gz) - 1);
    write_file(f.www, "plain.js", js, sizeof(js) - 1);
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
        expect_encoding(&f, "/app.js", accepted[i], gz, sizeof(gz) - 1, true, etag);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        expect_encoding(&f, "/app.js", refused[i], js, sizeof(js) - 1, false, etag2);
        if (i % 5 == 0)
            converse(&f);
    }
    /* The two representations have their own ETags; each revalidates as itself. */
    CHECKM(strcmp(etag, etag2) != 0, "the gzip copy has the file's ETag %s", etag);
    snprintf(cond, sizeof(cond), "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n", etag);
    request(&f, "GET", "/app.js", cond, &r);
    CHECKM(r.status == 304 && r.body_len == 0, "revalidating the gzip copy: %d", r.status);
    resp_free(&r);
    snprintf(cond, sizeof(cond), "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n", etag2);
    expect_encoding(&f, "/app.js", cond, gz, sizeof(gz) - 1, true, etag);
    request(&f, "HEAD", "/app.js", "Accept-Encoding: gzip\r\n", &r);
    CHECKM(r.status == 200 && r.body_len == 0 && header(&r, "Content-Length", cond, sizeof(cond)) &&
               strtoul(cond, NULL, 10) == sizeof(gz) - 1,
           "HEAD with gzip: %d, length %s", r.status, cond);
    resp_free(&r);

    /* A refusal past the first 512 bytes of a long header is still read. */
    n = 3000;
    long_refusal = malloc(n + 64);
    CHECK(long_refusal != NULL);
    memcpy(long_refusal, "Accept-Encoding: ", 17);
    memset(long_refusal + 17, ' ', n);
    memcpy(long_refusal + 17 + n - 20, "br,", 3);
    snprintf(long_refusal + 17 + n, 64, "gzip;q=0\r\n");
    expect_encoding(&f, "/app.js", long_refusal, js, sizeof(js) - 1, false, etag2);
    free(long_refusal);

    /* No copy, a copy older than its file, a link, a directory: the file. */
    expect_encoding(&f, "/plain.js", "Accept-Encoding: gzip\r\n", js, sizeof(js) - 1, false, etag);
    age_file(f.www, "app.js.gz", 10);
    expect_encoding(&f, "/app.js", "Accept-Encoding: gzip\r\n", js, sizeof(js) - 1, false, etag);
    write_file(f.www, "linked.js", js, sizeof(js) - 1);
    write_file(f.www, "real.gz", gz, sizeof(gz) - 1);
    snprintf(path, sizeof(path), "%s/linked.js.gz", f.www);
    CHECK(symlink("real.gz", path) == 0);
    expect_encoding(&f, "/linked.js", "Accept-Encoding: gzip\r\n", js, sizeof(js) - 1, false, etag);
    write_file(f.www, "dir.js", js, sizeof(js) - 1);
    make_dir(f.www, "dir.js.gz");
    expect_encoding(&f, "/dir.js", "Accept-Encoding: gzip\r\n", js, sizeof(js) - 1, false, etag);
    /* The copies themselves are no type the relay serves. */
    write_file(f.www, "app.js.gz", gz, sizeof(gz) - 1);
    expect_status(&f, "/app.js.gz", 404);
    expect_encoding(&f, "/app.js", "Accept-Encoding: gzip\r\n", gz, sizeof(gz) - 1, true, etag);
    snprintf(target, sizeof(target), "/%s", "app%2Ejs");
    expect_encoding(&f, target, "Accept-Encoding: gzip\r\n", gz, sizeof(gz) - 1, true, etag);
    converse(&f);
    fixture_end(&f);
}

/* Without a web root, and for names not there: 404; --origin still bounds the WebSocket. */
static void test_not_found_and_origin(void)
{
    static const char *const extra[] = {"--origin", "https://shop.example", NULL};
    struct tk_env e;
    struct fixture f;
    wsc *c;

    tk_env_init(&e, "web-off");
    tk_env_start(&e, NULL);
    CHECK(http_get(e.relay.port, "/", NULL) == 404);
    CHECK(http_get(e.relay.port, "/index.html", NULL) == 404);
    CHECK(http_get(e.relay.port, "/healthz", NULL) == 200);
    tk_env_end(&e);

    fixture_start(&f, "web-origin", extra);
    write_file(f.www, "index.html", "x", 1);
    expect_status(&f, "/missing.html", 404);
    expect_status(&f, "/missing/", 404);
    expect_status(&f, "/healthz", 200);
    expect_status(&f, "/index.html", 200);
    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL);
    CHECKM(wsc_upgrade(c, "parley.v2", "https://evil.example", 5000) == 403,
           "a page from another origin may connect");
    wsc_free(c);
    c = wsc_tcp(f.e.relay.port);
    CHECK(c != NULL);
    CHECKM(wsc_upgrade(c, "parley.v2", "https://shop.example", 5000) == 101,
           "the allowed origin may not connect");
    wsc_free(c);
    converse(&f);
    fixture_end(&f);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"mime_types", test_mime_types},
        {"traversal", test_traversal},
        {"no_listing", test_no_listing},
        {"head_and_headers", test_head_and_headers},
        {"big_file", test_big_file},
        {"gzip", test_gzip},
        {"not_found_and_origin", test_not_found_and_origin},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
