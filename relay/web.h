/*
 * Static files under --web-root: the browser widget and a demo page,
 * served by the relay itself over HTTP GET and HEAD, so a brand can try
 * the widget with one process. Only regular files of known types inside
 * the directory are served: no listing, no path that climbs out of it
 * (`..`, dot files, empty segments, encoded or not), no symbolic link
 * followed, no file over the size cap. Every answer carries a strict
 * Content-Security-Policy whose frame-ancestors the operator sets, so the
 * widget's frame can be embedded by the brand's pages and no others.
 *
 * Pure functions over the request and the file system; the connection
 * code streams the file (server.c).
 */
#ifndef RELAY_WEB_H
#define RELAY_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws.h"

#define WEB_PATH_MAX 256u
#define WEB_HEAD_MAX 1536u

struct web {
    int root_fd;          /* the web root, opened at start; -1: no web root */
    uint64_t max_file;    /* bytes; larger files are refused */
    char csp[512];        /* the Content-Security-Policy header value */
};

/*
 * Opens root (following a symbolic link there: the root itself is the
 * operator's choice) and readies the headers. An empty root leaves the
 * web root off (w->root_fd = -1). 0, or -1 with a message in err.
 */
int web_open(struct web *w, const char *root, const char *frame_ancestors, uint64_t max_file,
             char *err, size_t err_cap);
void web_close(struct web *w);

/* Whether value may stand as a CSP frame-ancestors source list (no header or directive break). */
bool web_frame_ancestors_ok(const char *value);

/*
 * The file a request target names, relative to the web root: the path
 * before any '?', percent-decoded, "index.html" for a path ending in '/'.
 * Returns 0, or 400 (not a path: no leading '/', a byte outside
 * printable ASCII, a bad or NUL escape) or 404 (a segment that is empty,
 * "." or "..", starts with a dot, or holds a control byte or a
 * backslash once decoded; or too long).
 */
int web_path(const char *target, char out[WEB_PATH_MAX]);

/* The Content-Type of a file name by its extension; NULL for types not served. */
const char *web_mime(const char *name);

/* What the relay answers to a request for a file. */
struct web_reply {
    int status;           /* 200, 301, 304, 400, 403, 404 or 405 */
    bool refused;         /* the path broke the rules (web_path), as opposed to naming no file */
    int fd;               /* 200 to a GET: the open file (the caller closes it); else -1 */
    uint64_t body_len;    /* bytes of the file to send after the head (0 for HEAD) */
    char head[WEB_HEAD_MAX];
    size_t head_len;      /* the whole head; for errors, with a short text body after it */
};

/* Answers req (a GET or HEAD, or another method: 405) from the web root. */
void web_request(const struct web *w, const struct http_request *req, struct web_reply *out);

#endif
