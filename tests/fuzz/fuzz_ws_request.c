/*
 * Fuzz target: http_parse_request() and http_is_upgrade() (relay/ws.c) on
 * the bytes a peer sends before the WebSocket upgrade, unauthenticated,
 * ws_accept_key() on every key the relay would answer, and web_path()
 * (relay/web.c) on every request target: a file name it accepts never
 * climbs out of the web root.
 */
#include <string.h>

#include "fuzz.h"
#include "web.h"
#include "ws.h"

static void check_terminated(const char *s, size_t cap)
{
    FUZZ_ASSERT(memchr(s, '\0', cap) != NULL);
}

/* A name web_path accepted: relative, no empty, dot or dot-dot segment, no control byte. */
static void check_web_path(const char *target)
{
    char file[WEB_PATH_MAX];
    int rc = web_path(target, file);

    FUZZ_ASSERT(rc == 0 || rc == 400 || rc == 404);
    if (rc != 0)
        return;
    check_terminated(file, sizeof(file));
    for (const char *seg = file;; seg = strchr(seg, '/') + 1) {
        FUZZ_ASSERT(seg[0] != '\0' && seg[0] != '/' && seg[0] != '.');
        if (strchr(seg, '/') == NULL)
            break;
    }
    for (const char *p = file; *p != '\0'; p++)
        FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f && *p != '\\');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct http_request r, again;
    long n = http_parse_request(data, size, &r);

    FUZZ_ASSERT(n >= -1);
    if (n == 0) {
        /* More is needed only while under the limit and without a blank line. */
        FUZZ_ASSERT(size < HTTP_HEAD_MAX);
        for (size_t i = 3; i < size; i++)
            FUZZ_ASSERT(memcmp(data + i - 3, "\r\n\r\n", 4) != 0);
        return 0;
    }
    if (n < 0)
        return 0;
    /* A head: within the input and the limit, ending at the first blank line. */
    FUZZ_ASSERT((size_t)n <= size && (size_t)n <= HTTP_HEAD_MAX && n >= 4);
    FUZZ_ASSERT(memcmp(data + n - 4, "\r\n\r\n", 4) == 0);
    for (long i = 3; i < n - 1; i++)
        FUZZ_ASSERT(memcmp(data + i - 3, "\r\n\r\n", 4) != 0);
    check_terminated(r.method, sizeof(r.method));
    check_terminated(r.path, sizeof(r.path));
    check_terminated(r.key, sizeof(r.key));
    check_terminated(r.origin, sizeof(r.origin));
    FUZZ_ASSERT(r.method[0] != '\0' && r.path[0] != '\0');
    FUZZ_ASSERT(!r.protocol_ok || r.has_protocol);
    FUZZ_ASSERT(r.has_origin || r.origin[0] == '\0');
    check_terminated(r.if_none_match, sizeof(r.if_none_match));
    check_web_path(r.path);
    if (http_is_upgrade(&r)) {
        char accept[32];

        FUZZ_ASSERT(strcmp(r.method, "GET") == 0 && r.version == 13 && r.key_count == 1);
        FUZZ_ASSERT(r.key[0] != '\0' && r.upgrade_websocket && r.connection_upgrade);
        ws_accept_key(r.key, accept);
        FUZZ_ASSERT(strlen(accept) == 28);
    }
    /* The head alone parses the same: what follows it (frames) changes nothing. */
    FUZZ_ASSERT(http_parse_request(data, (size_t)n, &again) == n);
    FUZZ_ASSERT(memcmp(&r, &again, sizeof(r)) == 0);
    /* Cut one byte short, it needs more. */
    FUZZ_ASSERT(http_parse_request(data, (size_t)n - 1, &again) == 0);
    return 0;
}
