/*
 * The relay's web root (see web.h). A request path is decoded once, every
 * segment checked, then opened one directory at a time from the root's
 * descriptor with O_NOFOLLOW: a symbolic link anywhere, a name that climbs
 * out, a device or a FIFO is never reached, whatever the request spells.
 * Files are revalidated cheaply (ETag from size and modification time,
 * Cache-Control: no-cache), so a new widget build is picked up at once.
 * A file with a gzip copy beside it (NAME.gz, made when the widget is
 * built) is sent as that copy to a client that accepts gzip: the relay
 * never compresses anything itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "web.h"

int web_open(struct web *w, const char *root, const char *frame_ancestors, uint64_t max_file,
             char *err, size_t cap)
{
    int n;

    w->root_fd = -1;
    w->max_file = max_file;
    /*
     * Scripts only from the relay's own files (wasm compiled from them),
     * nothing inline, nothing evaluated; the socket back to the relay;
     * framed only by the pages the operator names.
     */
    n = snprintf(w->csp, sizeof(w->csp),
                 "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
                 "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                 "form-action 'none'; frame-ancestors %s",
                 frame_ancestors);
    if (n < 0 || (size_t)n >= sizeof(w->csp) || !web_frame_ancestors_ok(frame_ancestors)) {
        snprintf(err, cap, "bad web-frame-ancestors value");
        return -1;
    }
    if (root[0] == '\0')
        return 0;
    w->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->root_fd < 0) {
        snprintf(err, cap, "%s: %s", root, strerror(errno));
        return -1;
    }
    return 0;
}

void web_close(struct web *w)
{
    if (w->root_fd >= 0)
        close(w->root_fd);
    w->root_fd = -1;
}

bool web_frame_ancestors_ok(const char *value)
{
    if (value[0] == '\0')
        return false;
    for (const char *p = value; *p != '\0'; p++)
        if (*p < 0x20 || *p > 0x7e || *p == ';' || *p == ',')
            return false;
    return true;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Whether one decoded segment (n bytes at s) may name something in the web root. */
static bool segment_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.')
        return false; /* "", ".", "..", and dot files (.git, .htaccess) */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')
            return false;
    return true;
}

int web_path(const char *target, char out[WEB_PATH_MAX])
{
    size_t n = 0, seg = 0;

    if (target[0] != '/')
        return 400;
    for (const char *p = target + 1; *p != '\0' && *p != '?' && *p != '#'; p++) {
        int ch = (unsigned char)*p;

        if (ch <= 0x20 || ch >= 0x7f)
            return 400;
        if (ch == '%') {
            int hi = hex_digit(p[1]), lo = hi >= 0 ? hex_digit(p[2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return 400;
            ch = hi << 4 | lo;
            p += 2;
        }
        if (n + 1 >= WEB_PATH_MAX)
            return 404;
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    /* Segment by segment, after decoding: an encoded "/" or "." is checked like a plain one. */
    for (size_t i = 0; i <= n; i++) {
        if (i < n && out[i] != '/')
            continue;
        if (!(i == n && i == seg) && !segment_ok(out + seg, i - seg))
            return 404; /* only the last segment may be empty: a directory's index */
        seg = i + 1;
    }
    if (n == 0 || out[n - 1] == '/') {
        static const char index[] = "index.html";
        if (n + sizeof(index) > WEB_PATH_MAX)
            return 404;
        memcpy(out + n, index, sizeof(index));
    }
    return 0;
}

const char *web_mime(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"wasm", "application/wasm"},
        {"json", "application/json"},
        {"png", "image/png"},
        {"svg", "image/svg+xml"},
        {"ico", "image/x-icon"},
        {"txt", "text/plain; charset=utf-8"},
        {"woff2", "font/woff2"},
    };
    const char *dot = strrchr(name, '.'), *slash = strrchr(name, '/');

    if (dot == NULL || (slash != NULL && dot < slash))
        return NULL;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/*
 * Opens path under the root, one segment at a time, never following a
 * symbolic link; fills st. The fd, or -1 (errno set).
 */
static int open_beneath(int root_fd, char *path, struct stat *st)
{
    int dir = root_fd, fd = -1;
    char *seg = path;

    for (;;) {
        char *slash = strchr(seg, '/');
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;

        if (slash != NULL)
            *slash = '\0';
        /* The last segment: never block on a FIFO or a device; only regular files pass below. */
        fd = openat(dir, seg, flags | (slash != NULL ? O_DIRECTORY : O_NONBLOCK));
        if (slash != NULL)
            *slash = '/';
        if (dir != root_fd)
            close(dir);
        if (fd < 0 || slash == NULL)
            break;
        dir = fd;
        seg = slash + 1;
    }
    if (fd >= 0 && fstat(fd, st) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/*
 * The ETag of a file: its size and modification time, which change with
 * every new build; "-gz" for its gzip copy, another representation.
 */
static void file_etag(const struct stat *st, bool gzip, char out[64])
{
    snprintf(out, 64, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "%s\"", (uint64_t)st->st_size,
             (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec, gzip ? "-gz" : "");
}

/*
 * The gzip copy of path (NAME.gz beside it, opened as path is) when it is
 * a regular file within the size cap and not older than the file itself
 * (in whole seconds: a copy left behind by an edit of the file is not
 * sent). Its fd and *gst, or -1.
 */
static int open_gzip(const struct web *w, const char *path, const struct stat *st,
                     struct stat *gst)
{
    char gz[WEB_PATH_MAX + 3];
    int fd;

    if ((size_t)snprintf(gz, sizeof(gz), "%s.gz", path) >= sizeof(gz))
        return -1;
    fd = open_beneath(w->root_fd, gz, gst);
    if (fd >= 0 && (!S_ISREG(gst->st_mode) || (uint64_t)gst->st_size > w->max_file ||
                    gst->st_mtim.tv_sec < st->st_mtim.tv_sec)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Whether an If-None-Match list names etag (weak comparison, as RFC 9110 asks for it). */
static bool etag_matches(const char *list, const char *etag)
{
    size_t elen = strlen(etag);

    for (const char *p = list; *p != '\0';) {
        const char *end;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        end = p;
        while (*end != '\0' && *end != ',')
            end++;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - p) == elen && memcmp(p, etag, elen) == 0)
            return true;
        p = end;
    }
    return false;
}

/* An error answer: the head and a one-line text body. */
static void reply_error(const struct web *w, struct web_reply *out, int status, const char *extra)
{
    char headers[768];
    const char *text = http_reason(status);
    size_t len = strlen(text) + 1;
    size_t h;

    snprintf(headers, sizeof(headers),
             "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
             "Content-Security-Policy: %s\r\n%s",
             w->csp, extra != NULL ? extra : "");
    out->status = status;
    h = http_format_head(out->head, sizeof(out->head) - len - 1, status,
                         "text/plain; charset=utf-8", (int64_t)len, headers);
    if (h > 0)
        h += (size_t)snprintf(out->head + h, sizeof(out->head) - h, "%s\n", text);
    out->head_len = h;
}

/* A directory named without its final '/': sent to the name with one, which serves its index. */
static void reply_redirect(const struct web *w, const struct http_request *req,
                           struct web_reply *out)
{
    char location[WEB_PATH_MAX + 32];
    size_t n = strcspn(req->path, "?#");

    /* The path was checked by web_path: printable, no empty segment, so never "//host". */
    snprintf(location, sizeof(location), "Location: %.*s/\r\n", (int)n, req->path);
    reply_error(w, out, 301, location);
}

/* fd: the file, or its gzip copy (gzip) whose st it is; mime: the file's type either way. */
static void reply_file(const struct web *w, const struct http_request *req, int fd,
                       const struct stat *st, bool gzip, const char *mime, struct web_reply *out)
{
    char headers[1024], etag[64], modified[64];
    struct tm tm;
    bool head_only = strcmp(req->method, "HEAD") == 0;
    bool fresh;

    file_etag(st, gzip, etag);
    gmtime_r(&st->st_mtim.tv_sec, &tm);
    strftime(modified, sizeof(modified), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    fresh = req->if_none_match[0] != '\0' && etag_matches(req->if_none_match, etag);
    /* Every file's answer may depend on Accept-Encoding: caches must key on it (Vary). */
    snprintf(headers, sizeof(headers),
             "ETag: %s\r\nLast-Modified: %s\r\nCache-Control: no-cache\r\n"
             "Vary: Accept-Encoding\r\n%s"
             "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
             "Content-Security-Policy: %s\r\n",
             etag, modified, gzip ? "Content-Encoding: gzip\r\n" : "", w->csp);
    out->status = fresh ? 304 : 200;
    out->head_len = http_format_head(out->head, sizeof(out->head), out->status,
                                     fresh ? NULL : mime, fresh ? -1 : (int64_t)st->st_size,
                                     headers);
    if (fresh || head_only || out->head_len == 0 || st->st_size == 0) {
        close(fd);
        return;
    }
    out->fd = fd;
    out->body_len = (uint64_t)st->st_size;
}

void web_request(const struct web *w, const struct http_request *req, struct web_reply *out)
{
    char path[WEB_PATH_MAX];
    const char *mime;
    struct stat st;
    int fd, status;

    out->fd = -1;
    out->body_len = 0;
    out->head_len = 0;
    out->refused = false;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        reply_error(w, out, 405, "Allow: GET, HEAD\r\n");
        return;
    }
    status = web_path(req->path, path);
    if (status != 0) {
        out->refused = true;
        reply_error(w, out, status, NULL);
        return;
    }
    fd = open_beneath(w->root_fd, path, &st);
    if (fd >= 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        reply_redirect(w, req, out);
        return;
    }
    mime = web_mime(path);
    if (fd < 0 || !S_ISREG(st.st_mode) || mime == NULL) {
        if (fd >= 0)
            close(fd);
        reply_error(w, out, 404, NULL);
        return;
    }
    if ((uint64_t)st.st_size > w->max_file) {
        close(fd);
        reply_error(w, out, 403, NULL);
        return;
    }
    if (http_accepts_gzip(req)) {
        struct stat gst;
        int gz = open_gzip(w, path, &st, &gst);

        if (gz >= 0) {
            close(fd);
            reply_file(w, req, gz, &gst, true, mime, out);
            return;
        }
    }
    reply_file(w, req, fd, &st, false, mime, out);
}
