/*
 * The audit log's files: the live segment and the closed ones beside it,
 * resuming the chain after a restart (a torn last line cut off), the held
 * record, and reading the log back from its end to find which of the
 * store's entries it already holds. Split from audit.c, which records.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h" /* parley__grow */
#include "audit_impl.h"
#include "log.h"

/* Size of the held record: one line, space-padded, rewritten in place. */
#define HELD_RECORD 2048
#define HELD_MAGIC  "parley-audit-held 1 "
/* Reading the log back: bytes per read. */
#define SCAN_CHUNK (64u << 10)

/* ------------------------------------------------------------------ */
/* Lines and segments */

/*
 * Finds the file's last batch, from the end of its first size bytes
 * (which end a line): the last sealed line l, which must verify with the
 * lines of its batch before it. *end gets the offset just after l (any
 * lines after it are entries whose batch was never sealed). 0, or -1 when
 * there is no such line or it does not verify.
 */
int audit_last_batch(int fd, uint64_t size, struct audit_line *l, uint64_t *end)
{
    size_t cap = AUDIT_BATCH_MAX + 3 * AUDIT_LINE_MAX, want = size < cap ? (size_t)size : cap;
    off_t base = (off_t)(size - want);
    char *buf = malloc(cap);
    size_t stop = want, start, first;
    int rc = -1;

    if (buf == NULL || size == 0 || pread(fd, buf, want, base) != (ssize_t)want ||
        buf[want - 1] != '\n')
        goto done;
    /* The last sealed line: [start, stop). */
    for (;;) {
        for (start = stop - 1; start > 0 && buf[start - 1] != '\n'; start--)
            ;
        if ((start == 0 && base != 0) || stop - start < 2)
            goto done;
        if (audit_entry_parse(buf + start, stop - 1 - start, l) != 0)
            goto done;
        if (l->sealed)
            break;
        if (start == 0)
            goto done;
        stop = start;
    }
    /* Its batch begins after the sealed line before it, or at the file's start. */
    for (first = start; first > 0;) {
        struct audit_line before;
        size_t b;
        for (b = first - 1; b > 0 && buf[b - 1] != '\n'; b--)
            ;
        if (b == 0 && base != 0)
            goto done; /* longer than a batch can be */
        if (audit_entry_parse(buf + b, first - 1 - b, &before) != 0 || before.sealed)
            break;
        first = b;
    }
    if (audit_line_hash_ok(buf + first, stop - 1 - first, l)) {
        *end = (uint64_t)base + stop;
        rc = 0;
    }
done:
    free(buf);
    return rc;
}

static int first_line(int fd, char *out, size_t cap, size_t *len)
{
    ssize_t n = pread(fd, out, cap, 0);
    char *nl = n > 0 ? memchr(out, '\n', (size_t)n) : NULL;

    if (nl == NULL)
        return -1;
    *len = (size_t)(nl - out);
    return 0;
}

/* The last entry of a closed segment file, which ends its last batch. */
int audit_file_last_entry(const char *path, struct audit_line *l)
{
    struct stat st;
    uint64_t end = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) == 0 && audit_last_batch(fd, (uint64_t)st.st_size, l, &end) == 0 &&
        end == (uint64_t)st.st_size)
        rc = 0;
    close(fd);
    return rc;
}

static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* The closed segments beside the live file ("<base>.<first seq>"), oldest first. */
size_t audit_list_segments(const struct audit *a, uint64_t **out)
{
    DIR *d = opendir(a->dir);
    struct dirent *de;
    uint64_t *v = NULL;
    size_t n = 0, cap = 0, bl = strlen(a->base);

    *out = NULL;
    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        const char *s = de->d_name + bl + 1;
        uint64_t num = 0;
        size_t digits = 0;

        if (strncmp(de->d_name, a->base, bl) != 0 || de->d_name[bl] != '.')
            continue;
        for (; s[digits] >= '0' && s[digits] <= '9' && digits < 20; digits++)
            num = num * 10 + (uint64_t)(s[digits] - '0');
        if (digits < 12 || s[digits] != '\0')
            continue;
        uint64_t *grown = parley__grow(v, &cap, n + 1, sizeof(*v));
        if (grown == NULL)
            break;
        v = grown;
        v[n++] = num;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof(*v), u64_cmp);
    *out = v;
    return n;
}

void audit_segment_path(const struct audit *a, uint64_t first_seq, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.%012" PRIu64, a->dir, a->base, first_seq);
}

void audit_fsync_dir(const struct audit *a)
{
    int fd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/*
 * The log's files are the relay's user's only (mode 0600), those an older
 * relay or an operator left more open included. 0, or -1 with errno.
 */
static int make_private(int fd)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return -1;
    return (st.st_mode & 07777) == 0600 ? 0 : fchmod(fd, 0600);
}

int audit_open_live(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600), saved;

    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        errno = EWOULDBLOCK;
        return -1;
    }
    if (fd >= 0 && make_private(fd) != 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Cuts a torn last line (a write cut short by a crash) off the live file. 0 or -1 with err. */
static int cut_torn(struct audit *a, uint64_t *repaired, char *err, size_t cap)
{
    char tail[8192];
    size_t want = a->size < sizeof(tail) ? (size_t)a->size : sizeof(tail), keep = want;
    off_t base = (off_t)(a->size - want);

    if (pread(a->fd, tail, want, base) != (ssize_t)want) {
        snprintf(err, cap, "%s: %s", a->path, strerror(errno));
        return -1;
    }
    while (keep > 0 && tail[keep - 1] != '\n')
        keep--;
    if (keep == 0 && base != 0) {
        snprintf(err, cap, "%s: not an audit log (no line end in its last %zu bytes)", a->path,
                 want);
        return -1;
    }
    if (keep < want) {
        *repaired = want - keep;
        if (ftruncate(a->fd, base + (off_t)keep) != 0) {
            snprintf(err, cap, "%s: cannot cut its torn last line: %s", a->path, strerror(errno));
            return -1;
        }
        a->size = (uint64_t)base + keep;
    }
    return 0;
}

/*
 * Reads the live file's state: cuts a torn last line, and entries after
 * the last batch's hash, then continues the chain from that batch, which
 * must verify. *repaired gets the bytes cut.
 */
int audit_resume(struct audit *a, uint64_t *repaired, char *err, size_t cap)
{
    char buf[AUDIT_LINE_MAX + 1];
    struct audit_line l;
    struct stat st;
    size_t len;

    *repaired = 0;
    if (fstat(a->fd, &st) != 0) {
        snprintf(err, cap, "%s: %s", a->path, strerror(errno));
        return -1;
    }
    a->size = (uint64_t)st.st_size;
    if (a->size > 0 && cut_torn(a, repaired, err, cap) != 0)
        return -1;
    if (a->size > 0) {
        uint64_t end = 0;
        if (audit_last_batch(a->fd, a->size, &l, &end) != 0) {
            snprintf(err, cap,
                     "%s: its last entry does not verify; check it with parley-audit verify "
                     "and move it aside",
                     a->path);
            return -1;
        }
        /* Entries after the last batch's hash were never sealed (a write cut short): they go. */
        if (end < a->size) {
            if (ftruncate(a->fd, (off_t)end) != 0) {
                snprintf(err, cap, "%s: cannot cut its unsealed last entries: %s", a->path,
                         strerror(errno));
                return -1;
            }
            *repaired += a->size - end;
            a->size = end;
        }
        a->seq = a->sealed_seq = a->file_seq = l.seq;
        audit_set_head(a, l.hash);
        if (first_line(a->fd, buf, sizeof(buf), &len) != 0 || audit_entry_parse(buf, len, &l) != 0) {
            snprintf(err, cap, "%s: its first entry does not parse", a->path);
            return -1;
        }
        a->seg_first_seq = l.seq;
        a->seg_start = l.ts;
        return 0;
    }
    /* A new live file: continue from the newest closed segment, if any. */
    {
        uint64_t *segs;
        size_t n = audit_list_segments(a, &segs);
        int rc = 0;

        audit_set_head(a, audit_genesis);
        a->seq = a->sealed_seq = 0;
        if (n > 0) {
            char path[1100];
            audit_segment_path(a, segs[n - 1], path, sizeof(path));
            if (audit_file_last_entry(path, &l) != 0) {
                snprintf(err, cap, "%s: its last entry does not verify", path);
                rc = -1;
            } else {
                a->seq = a->sealed_seq = a->file_seq = l.seq;
                audit_set_head(a, l.hash);
            }
        }
        free(segs);
        if (rc == 0)
            audit_start_segment(a, audit_now_ms() / 1000);
        return rc;
    }
}

/* ------------------------------------------------------------------ */
/* Reading the log back from its end */

struct scan {
    uint64_t after;            /* stop at the first entry with seq <= after */
    uint64_t counts[EV_COUNT]; /* entries after it, by event */
    uint64_t last_store;       /* seq of the last entry about a store change */
    bool done;
};

static void scan_line(struct scan *s, const char *line, size_t len)
{
    struct audit_line l;
    enum audit_event ev;

    if (audit_entry_parse(line, len, &l) != 0)
        return; /* not ours: the chain check is parley-audit's */
    if (l.seq <= s->after) {
        s->done = true;
        return;
    }
    ev = audit_event_of(l.event, strlen(l.event));
    if (ev == EV_COUNT)
        return;
    s->counts[ev]++;
    if (ev >= EV_FIRST_STORE && l.seq > s->last_store)
        s->last_store = l.seq;
}

/* Scans fd's first size bytes (whole lines) from the end. 0, or -1 if it cannot be read. */
static int scan_file(struct scan *s, int fd, uint64_t size, char *buf)
{
    uint64_t end = size;

    while (end > 0 && !s->done) {
        size_t want = end < SCAN_CHUNK ? (size_t)end : SCAN_CHUNK, i, j;
        uint64_t start = end - want;

        if (pread(fd, buf, want, (off_t)start) != (ssize_t)want)
            return -1;
        /* buf ends a line; take whole lines back to the first one that may begin earlier. */
        i = want;
        while (i > 0 && !s->done) {
            for (j = i - 1; j > 0 && buf[j - 1] != '\n'; j--)
                ;
            if (j == 0 && start != 0)
                break;
            if (i - j > 1)
                scan_line(s, buf + j, i - j - 1);
            i = j;
        }
        if (start + i == end)
            return -1; /* a line longer than a chunk: not an audit log */
        end = start + i;
    }
    return 0;
}

/* Scans the live file, then closed segments from the newest, to an entry with seq <= after. */
static int scan_back(struct audit *a, struct scan *s)
{
    char *buf = malloc(SCAN_CHUNK);
    uint64_t *segs = NULL;
    size_t n;
    int rc;

    if (buf == NULL)
        return -1;
    rc = scan_file(s, a->fd, a->size, buf);
    n = rc == 0 && !s->done ? audit_list_segments(a, &segs) : 0;
    while (rc == 0 && !s->done && n > 0) {
        char path[1100];
        struct stat st;
        int fd;

        audit_segment_path(a, segs[--n], path, sizeof(path));
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) != 0)
            rc = -1;
        else
            rc = scan_file(s, fd, (uint64_t)st.st_size, buf);
        if (fd >= 0)
            close(fd);
    }
    free(segs);
    free(buf);
    return rc;
}

int audit_count_store_entries(struct audit *a, uint64_t after_seq, uint64_t *n, uint64_t *last)
{
    struct scan s;

    memset(&s, 0, sizeof(s));
    s.after = after_seq;
    *n = *last = 0;
    if (scan_back(a, &s) != 0)
        return -1;
    for (int i = EV_FIRST_STORE; i < EV_COUNT; i++)
        *n += s.counts[i];
    *last = s.last_store;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The held record */

/*
 * .<base>.held, beside the live file (a dot file, so that the globs and
 * directories given to parley-audit leave it out), is one line of HELD_RECORD bytes, rewritten in
 * place while the log file refuses writes: the seqs of the entries waiting in memory, their time
 * range and the count of each event (the store's excepted: its outbox keeps those), and the entries
 * dropped over the memory limit. Its blocks are allocated when the relay starts, so a disk that has
 * filled up since still takes the rewrite (ext4, xfs and tmpfs do; a
 * copy-on-write file system may not). A relay killed while entries wait
 * leaves the record behind, and the next start records a gap from it.
 */

static int put_counts(char *rec, size_t cap, size_t n, const char *label, const uint64_t *c)
{
    int k = snprintf(rec + n, cap - n, " %s", label);

    for (int i = 0; k > 0 && (size_t)k < cap - n && i < EV_COUNT; i++)
        if (c[i] > 0)
            k += snprintf(rec + n + (size_t)k, cap - n - (size_t)k, " %s=%" PRIu64,
                          audit_event_names[i], c[i]);
    return k > 0 && (size_t)k < cap - n ? k : -1;
}

int audit_held_save(struct audit *a)
{
    const struct audit_held *h = &a->held;
    bool empty = a->len == 0 && h->drop_until == 0;
    char rec[HELD_RECORD];
    int n, k;

    if (a->held_fd < 0)
        return -1;
    n = empty ? snprintf(rec, sizeof(rec), HELD_MAGIC "0 0 0 0 0 0 held dropped")
              : snprintf(rec, sizeof(rec),
                         HELD_MAGIC "%" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64
                                    " %" PRId64,
                         h->first_seq, h->last_seq, h->held_since, h->held_until, h->drop_since,
                         h->drop_until);
    if (!empty && n > 0 && (k = put_counts(rec, sizeof(rec) - 1, (size_t)n, "held", h->n)) > 0) {
        n += k;
        k = put_counts(rec, sizeof(rec) - 1, (size_t)n, "dropped", h->dropped);
        n = k > 0 ? n + k : -1;
    }
    if (n <= 0 || (size_t)n >= sizeof(rec))
        return -1;
    memset(rec + n, ' ', sizeof(rec) - 1 - (size_t)n);
    rec[sizeof(rec) - 1] = '\n';
    if (pwrite(a->held_fd, rec, sizeof(rec), 0) != (ssize_t)sizeof(rec)) {
        log_event(LOG_ERROR, "audit_held_unwritten", "\"error\":\"%s\"", strerror(errno));
        return -1;
    }
    a->held_written = a->held_version;
    a->held_on_disk = !empty;
    return 0;
}

/* Parses " held ev=n ... dropped ev=n ..." into the two count arrays. */
static void parse_counts(const char *p, uint64_t held[EV_COUNT], uint64_t dropped[EV_COUNT])
{
    uint64_t *into = NULL;

    while (*p != '\0') {
        const char *w = p + strspn(p, " \n"), *e = w + strcspn(w, " \n"), *eq;
        if (w == e)
            break;
        eq = memchr(w, '=', (size_t)(e - w));
        if (eq == NULL) {
            into = (size_t)(e - w) == 4 && memcmp(w, "held", 4) == 0      ? held
                   : (size_t)(e - w) == 7 && memcmp(w, "dropped", 7) == 0 ? dropped
                                                                          : NULL;
        } else if (into != NULL) {
            enum audit_event ev = audit_event_of(w, (size_t)(eq - w));
            if (ev != EV_COUNT)
                into[ev] += strtoull(eq + 1, NULL, 10);
        }
        p = e;
    }
}

static void note_range(struct audit_held *h, int64_t since, int64_t until)
{
    if (since != 0 && (h->drop_since == 0 || since < h->drop_since))
        h->drop_since = since;
    if (until > h->drop_until)
        h->drop_until = until;
}

/*
 * What the last run's record says it lost: the waiting entries the log
 * does not hold (a write cut short may have taken some of them), and the
 * dropped ones. Carried as dropped entries, recorded as a crash gap once
 * the log takes writes.
 */
static void held_recover(struct audit *a, const char *rec)
{
    uint64_t first = 0, last = 0, held[EV_COUNT] = {0}, dropped[EV_COUNT] = {0}, lost = 0;
    int64_t hs = 0, hu = 0, ds = 0, du = 0;
    int used = 0;

    if (sscanf(rec,
               HELD_MAGIC "%" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64
                          "%n",
               &first, &last, &hs, &hu, &ds, &du, &used) < 6 ||
        used == 0)
        return;
    parse_counts(rec + used, held, dropped);
    if (last != 0 && a->file_seq >= first) {
        /* Some or all of them reached the file: only the rest is lost. */
        struct scan s;
        memset(&s, 0, sizeof(s));
        s.after = first - 1;
        if (a->file_seq >= last || scan_back(a, &s) != 0)
            memset(held, 0, sizeof(held));
        else
            for (int i = 0; i < EV_COUNT; i++)
                held[i] -= s.counts[i] < held[i] ? s.counts[i] : held[i];
    }
    for (int i = 0; i < EV_COUNT; i++) {
        a->held.dropped[i] += held[i] + dropped[i];
        lost += held[i] + dropped[i];
    }
    if (lost == 0)
        return;
    for (int i = 0; i < EV_COUNT; i++)
        if (held[i] > 0) {
            note_range(&a->held, hs, hu);
            break;
        }
    for (int i = 0; i < EV_COUNT; i++)
        if (dropped[i] > 0) {
            note_range(&a->held, ds, du);
            break;
        }
    if (a->held.drop_until == 0)
        a->held.drop_until = a->held.drop_since = 1; /* no time known: the epoch, never 0 */
    a->drop_crash = true;
    a->held_version++;
    log_event(LOG_ERROR, "audit_lost_in_crash", "\"entries\":%" PRIu64 ",\"after_seq\":%" PRIu64,
              lost, a->file_seq);
}

int audit_held_open(struct audit *a, char *err, size_t cap)
{
    char path[1100], rec[HELD_RECORD + 1];
    struct stat st;
    ssize_t got;

    snprintf(path, sizeof(path), "%s/.%s.held", a->dir, a->base);
    a->held_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (a->held_fd < 0 || make_private(a->held_fd) != 0 || fstat(a->held_fd, &st) != 0) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    got = pread(a->held_fd, rec, HELD_RECORD, 0);
    rec[got > 0 ? got : 0] = '\0';
    if (got > 0 && strncmp(rec, HELD_MAGIC, strlen(HELD_MAGIC)) == 0) {
        held_recover(a, rec);
        a->held_on_disk = true; /* cleared once what it says is in the log */
    }
    if (st.st_size < HELD_RECORD) {
        /* Allocate its blocks now, while there is room. */
        if (audit_held_save(a) != 0 || fdatasync(a->held_fd) != 0) {
            snprintf(err, cap, "%s: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The node's id */

/*
 * .<base>.node, beside the live file: 32 hex digits, random, written once
 * (through a temporary file renamed into place) by the first start that
 * asks. It names this log's outbox in a shared store, so it goes where
 * the log goes, whatever the host is called.
 */
int audit_node_id(struct audit *a, uint8_t out[16], char *err, size_t cap)
{
    char path[1100], tmp[1110], hex[34];
    int fd;
    ssize_t got;
    bool ok;

    snprintf(path, sizeof(path), "%s/.%s.node", a->dir, a->base);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
        if (make_private(fd) != 0) {
            snprintf(err, cap, "%s: cannot make it private: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        got = read(fd, hex, 33);
        close(fd);
        if (got >= 32 && (got == 32 || hex[32] == '\n') &&
            sodium_hex2bin(out, 16, hex, 32, NULL, NULL, NULL) == 0)
            return 0;
        snprintf(err, cap, "%s: not a node id (32 hex digits)", path);
        return -1;
    }
    if (errno != ENOENT) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    randombytes_buf(out, 16);
    sodium_bin2hex(hex, sizeof(hex) - 1, out, 16);
    hex[32] = '\n';
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ok = fd >= 0 && write(fd, hex, 33) == 33 && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    audit_fsync_dir(a);
    return 0;
}
