/*
 * The agent's access log (see accesslog.h): entries in the relay audit
 * log's format, chained with its hash (audit_chain_hash), so that the
 * relay's verifier checks both.
 */
#include "accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"

/* ,"hash":"<64 hex>"} and the newline */
#define HASH_TAIL (9 + 64 + 2 + 1)

/* Reads the last complete line of fd (size bytes) into line; its length, or -1. */
static ssize_t last_line(int fd, off_t size, char *line, size_t cap, off_t *line_end)
{
    char buf[2 * AUDIT_LINE_MAX];
    off_t from = size > (off_t)sizeof(buf) ? size - (off_t)sizeof(buf) : 0;
    ssize_t n = pread(fd, buf, (size_t)(size - from), from), end, start;

    if (n != size - from)
        return -1;
    for (end = n; end > 0 && buf[end - 1] != '\n'; end--)
        ;
    *line_end = from + end; /* what follows was cut short */
    if (end == 0)
        return -1;
    for (start = end - 1; start > 0 && buf[start - 1] != '\n'; start--)
        ;
    if ((size_t)(end - 1 - start) >= cap || (start == 0 && from > 0))
        return -1;
    memcpy(line, buf + start, (size_t)(end - 1 - start));
    return end - 1 - start;
}

static void now_iso(char out[25])
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + 19, 6, ".%03uZ", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

static int append(struct accesslog *l, const char *event, const char *members)
{
    char line[AUDIT_LINE_MAX + 1], ts[25], prev[65], hash_hex[65];
    uint8_t hash[32];
    int n;

    now_iso(ts);
    sodium_bin2hex(prev, sizeof(prev), l->hash, sizeof(l->hash));
    /* The canonical bytes: the entry up to prev, closed; hashed under prev (audit.h). */
    n = snprintf(line, sizeof(line), "{\"seq\":%" PRIu64 ",\"ts\":\"%s\",\"event\":\"%s\"%s%s,"
                 "\"prev\":\"%s\"}",
                 l->seq + 1, ts, event, members[0] != '\0' ? "," : "", members, prev);
    if (n < 0 || (size_t)n + HASH_TAIL > sizeof(line))
        return -1;
    audit_chain_hash(l->hash, line, (size_t)n, hash);
    sodium_bin2hex(hash_hex, sizeof(hash_hex), hash, sizeof(hash));
    n += snprintf(line + n - 1, sizeof(line) - (size_t)n + 1, ",\"hash\":\"%s\"}\n", hash_hex) - 1;
    if (write(l->fd, line, (size_t)n) != n || fdatasync(l->fd) != 0)
        return -1;
    l->seq++;
    memcpy(l->hash, hash, sizeof(hash));
    return 0;
}

int accesslog_open(struct accesslog *l, const char *path, const char *agent_id, char *err,
                   size_t err_cap)
{
    char line[AUDIT_LINE_MAX];
    struct audit_line last;
    struct stat st;
    off_t end = 0;
    ssize_t n;

    memset(l, 0, sizeof(*l));
    if (snprintf(l->agent, sizeof(l->agent), "%s", agent_id) >= (int)sizeof(l->agent)) {
        snprintf(err, err_cap, "agent id too long");
        return -1;
    }
    l->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    l->open = l->fd >= 0;
    if (l->fd < 0 || fstat(l->fd, &st) != 0) {
        snprintf(err, err_cap, "%s: %s", path, strerror(errno));
        accesslog_close(l);
        return -1;
    }
    if (st.st_size == 0) {
        if (append(l, "segment", "") == 0)
            return 0;
        snprintf(err, err_cap, "%s: %s", path, strerror(errno));
        accesslog_close(l);
        return -1;
    }
    n = last_line(l->fd, st.st_size, line, sizeof(line), &end);
    if (n <= 0 || audit_line_parse(line, (size_t)n, &last) != 0 ||
        !audit_line_hash_ok(line, (size_t)n, &last)) {
        snprintf(err, err_cap, "%s: the last entry is not an access-log entry; check it with "
                               "parley-audit verify",
                 path);
        accesslog_close(l);
        return -1;
    }
    /* A line cut short by a crash was never written whole: it goes. */
    if (end < st.st_size && ftruncate(l->fd, end) != 0) {
        snprintf(err, err_cap, "%s: %s", path, strerror(errno));
        accesslog_close(l);
        return -1;
    }
    l->seq = last.seq;
    memcpy(l->hash, last.hash, sizeof(l->hash));
    return 0;
}

int accesslog_record(struct accesslog *l, const char *event, const uint8_t conv[16],
                     const char *extra)
{
    char members[AUDIT_LINE_MAX / 2], hex[33] = "";

    if (!l->open || event == NULL)
        return -1;
    if (conv != NULL)
        sodium_bin2hex(hex, sizeof(hex), conv, 16);
    if (snprintf(members, sizeof(members), "\"agent\":\"%s\"%s%s%s%s%s", l->agent,
                 conv != NULL ? ",\"conversation\":\"" : "", hex, conv != NULL ? "\"" : "",
                 extra != NULL ? "," : "", extra != NULL ? extra : "") >= (int)sizeof(members))
        return -1;
    return append(l, event, members);
}

void accesslog_close(struct accesslog *l)
{
    if (l->open)
        close(l->fd);
    l->open = 0;
    sodium_memzero(l->hash, sizeof(l->hash));
}
