/*
 * relay/web.c's pure parts on their own: how a request target becomes a
 * file name under the web root (decoded once, every segment checked, so
 * nothing encoded or not climbs out), which types are served, and which
 * frame-ancestors values may reach the CSP header.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "web.h"

static void expect_path(const char *target, const char *want)
{
    char out[WEB_PATH_MAX];
    int rc = web_path(target, out);

    if (rc != 0 || strcmp(out, want) != 0) {
        fprintf(stderr, "web_path(\"%s\"): %d \"%s\", expected \"%s\"\n", target, rc,
                rc == 0 ? out : "", want);
        CHECK(false);
    }
}

static void expect_refused(const char *target, int status)
{
    char out[WEB_PATH_MAX];
    int rc = web_path(target, out);

    if (rc != status) {
        fprintf(stderr, "web_path(\"%s\"): %d, expected %d\n", target, rc, status);
        CHECK(false);
    }
}

static void test_paths(void)
{
    expect_path("/", "index.html");
    expect_path("/index.html", "index.html");
    expect_path("/demo/", "demo/index.html");
    expect_path("/a/b/c.js?v=1&x=/../..", "a/b/c.js");
    expect_path("/a%20b.txt", "a b.txt");
    expect_path("/%73ub/x%2Ejs", "sub/x.js");
    expect_path("/caf%C3%A9.txt", "caf\xc3\xa9.txt");
    expect_path("/x.js#frag", "x.js");
    expect_path("/a..b.js", "a..b.js");
}

static void test_refused(void)
{
    static const char *const not_found[] = {
        "/..", "/../x", "/a/../x", "/a/..", "/.", "/./x", "//x", "/a//b", "/.git/config",
        "/%2e%2e/x", "/%2E%2e/x", "/.%2E/x", "/..%2fx", "/a%2f..%2f..%2fx", "/%2fetc/passwd",
        "/a%5c..%5cx", "/%2e", "/x/%2ehtaccess", "/a%01b", "/a%7fb", "/a%0d%0aSet-Cookie:x",
    };
    static const char *const bad[] = {
        "", "x", "*", "http://host/x", "/%", "/%4", "/%g0", "/%00", "/a%00.html", "/a b",
        "/a\tb", "/caf\xc3\xa9", "/\x7f",
    };
    char longest[WEB_PATH_MAX + 8];

    for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++)
        expect_refused(not_found[i], 404);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_refused(bad[i], 400);
    /* A name that does not fit, with or without the index appended. */
    memset(longest, 'a', sizeof(longest) - 1);
    longest[0] = '/';
    longest[sizeof(longest) - 1] = '\0';
    expect_refused(longest, 404);
    longest[WEB_PATH_MAX - 8] = '/';
    longest[WEB_PATH_MAX - 7] = '\0';
    expect_refused(longest, 404);
}

static void test_types(void)
{
    CHECK(strcmp(web_mime("parley-widget.wasm"), "application/wasm") == 0);
    CHECK(strcmp(web_mime("a/b.MJS"), "text/javascript; charset=utf-8") == 0);
    CHECK(strcmp(web_mime("index.html"), "text/html; charset=utf-8") == 0);
    CHECK(web_mime("relay.db") == NULL);
    CHECK(web_mime("README") == NULL);
    CHECK(web_mime("dir.html/file") == NULL);
    CHECK(web_mime("x.wasm.bak") == NULL);
}

static void test_frame_ancestors(void)
{
    CHECK(web_frame_ancestors_ok("'self'"));
    CHECK(web_frame_ancestors_ok("'none'"));
    CHECK(web_frame_ancestors_ok("https://shop.example https://*.acme.example"));
    CHECK(!web_frame_ancestors_ok(""));
    CHECK(!web_frame_ancestors_ok("'self'; script-src *"));
    CHECK(!web_frame_ancestors_ok("'self', *"));
    CHECK(!web_frame_ancestors_ok("'self'\r\nSet-Cookie: x"));
}

int main(void)
{
    test_paths();
    test_refused();
    test_types();
    test_frame_ancestors();
    printf("relay web paths: ok\n");
    return 0;
}
