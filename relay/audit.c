/*
 * Hash-chained audit log (see audit.h for the format). It exists so that
 * a data-protection officer can check what the relay did with people's
 * data, and detect any entry altered, reordered or removed since.
 *
 * Recording stays off the hot path's critical costs: an entry is built and
 * chained in memory on the loop thread (a few hundred bytes, two or three
 * BLAKE2b calls), the entries of one loop iteration reach the file in one
 * write(2), and fdatasync runs on a thread of its own once a second at
 * most, so the loop never waits on the disk for the audit log.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "log.h"

/* Entries held in memory while the file cannot be written; beyond it they are counted as lost. */
#define AUDIT_BUF_MAX (8u << 20)
/* The fixed tail of every line: ,"prev":"<64 hex>","hash":"<64 hex>"} */
#define TAIL_PREV       9
#define TAIL_LEN        (TAIL_PREV + 64 + 10 + 64 + 2)
#define HASH_MEMBER_LEN (9 + 64 + 1) /* ,"hash":"<64 hex>" */

const uint8_t audit_genesis[AUDIT_HASH_BYTES]; /* 32 zero bytes */

struct audit {
    int fd;
    char path[512];
    char dir[512];
    char base[512];
    uint8_t key[crypto_shorthash_KEYBYTES]; /* pseudonyms: SipHash-2-4 */
    uint64_t retention, segment;            /* seconds */
    uint64_t seq;                           /* last entry recorded */
    uint8_t head[AUDIT_HASH_BYTES];         /* its hash */
    char head_hex[AUDIT_HEX_BYTES];
    uint64_t seg_first_seq;
    int64_t seg_start; /* Unix seconds of the live segment's first entry */
    uint64_t size;     /* bytes of the live file known written */
    /* Recorded, not yet written. */
    char *buf;
    size_t len, cap;
    uint64_t lost;
    uint64_t retry_after_ms;
    bool failing;
    /* The entry being built. */
    char line[AUDIT_LINE_MAX];
    size_t line_len;
    bool line_bad;
    int64_t ts_sec;
    char ts_base[24];
    /* Sync thread. */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int sync_fd;
    bool dirty, syncing, stop, thread_started;
};

/* ------------------------------------------------------------------ */
/* The chain */

void audit_chain_hash(const uint8_t prev[AUDIT_HASH_BYTES], const char *canon, size_t len,
                      uint8_t out[AUDIT_HASH_BYTES])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, AUDIT_HASH_BYTES);
    crypto_generichash_update(&st, prev, AUDIT_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)canon, len);
    crypto_generichash_final(&st, out, AUDIT_HASH_BYTES);
}

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static int hex32(const char *s, uint8_t out[AUDIT_HASH_BYTES])
{
    size_t got = 0;

    if (!is_lower_hex(s, 64) ||
        sodium_hex2bin(out, AUDIT_HASH_BYTES, s, 64, NULL, &got, NULL) != 0 ||
        got != AUDIT_HASH_BYTES)
        return -1;
    return 0;
}

static bool has_prefix(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" -> Unix seconds. */
static int parse_ts(const char *s, int64_t *out)
{
    struct tm tm;
    const char *e;

    memset(&tm, 0, sizeof(tm));
    e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (e == NULL || e - s != 19 || e[0] != '.' || e[1] < '0' || e[1] > '9' || e[2] < '0' ||
        e[2] > '9' || e[3] < '0' || e[3] > '9' || e[4] != 'Z')
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

int audit_line_parse(const char *line, size_t len, struct audit_line *l)
{
    const char *p = line, *end = line + len, *tail;
    char ts[25];
    size_t n;

    memset(l, 0, sizeof(*l));
    if (len < 40 + TAIL_LEN || len >= AUDIT_LINE_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
            return -1;
    if (!has_prefix(p, end, "{\"seq\":"))
        return -1;
    p += 7;
    if (*p < '1' || *p > '9')
        return -1;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (l->seq > (UINT64_MAX - 9) / 10)
            return -1;
        l->seq = l->seq * 10 + (uint64_t)(*p - '0');
    }
    if (!has_prefix(p, end, ",\"ts\":\""))
        return -1;
    p += 7;
    if (end - p < 24 + 11)
        return -1;
    memcpy(ts, p, 24);
    ts[24] = '\0';
    if (parse_ts(ts, &l->ts) != 0)
        return -1;
    p += 24;
    if (!has_prefix(p, end, "\",\"event\":\""))
        return -1;
    p += 11;
    for (n = 0; p + n < end && ((p[n] >= 'a' && p[n] <= 'z') || p[n] == '_'); n++)
        ;
    if (n == 0 || n >= sizeof(l->event) || p + n >= end || p[n] != '"')
        return -1;
    memcpy(l->event, p, n);
    p += n + 1;
    tail = end - TAIL_LEN;
    if (p > tail || (p < tail && *p != ','))
        return -1;
    if (!has_prefix(tail, end, ",\"prev\":\"") || hex32(tail + TAIL_PREV, l->prev) != 0 ||
        !has_prefix(tail + TAIL_PREV + 64, end, "\",\"hash\":\"") ||
        hex32(tail + TAIL_PREV + 74, l->hash) != 0 || memcmp(end - 2, "\"}", 2) != 0)
        return -1;
    return 0;
}

bool audit_line_hash_ok(const char *line, size_t len, const struct audit_line *l)
{
    crypto_generichash_state st;
    uint8_t h[AUDIT_HASH_BYTES];

    /* Canonical bytes: the line without its hash member, i.e. up to prev's closing quote, then '}'.
     */
    crypto_generichash_init(&st, NULL, 0, AUDIT_HASH_BYTES);
    crypto_generichash_update(&st, l->prev, AUDIT_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)line, len - HASH_MEMBER_LEN - 1);
    crypto_generichash_update(&st, (const uint8_t *)"}", 1);
    crypto_generichash_final(&st, h, sizeof(h));
    return sodium_memcmp(h, l->hash, sizeof(h)) == 0;
}

/* ------------------------------------------------------------------ */
/* Verification */

struct vfile {
    const char *path;
    uint64_t first_seq;
    bool dated; /* first line parsed */
    size_t order;
};

static int vfile_cmp(const void *x, const void *y)
{
    const struct vfile *a = x, *b = y;

    if (a->dated != b->dated)
        return a->dated ? -1 : 1;
    if (a->dated && a->first_seq != b->first_seq)
        return a->first_seq < b->first_seq ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Reads the first line of path; -1 if it cannot be opened. */
static int first_entry(const char *path, struct audit_line *l, bool *parsed)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    *parsed = false;
    if (f == NULL)
        return -1;
    n = getline(&line, &cap, f);
    if (n > 1 && line[n - 1] == '\n')
        *parsed = audit_line_parse(line, (size_t)n - 1, l) == 0;
    free(line);
    fclose(f);
    return 0;
}

struct vstate {
    FILE *out;
    const char *path;
    uint64_t line_no;
    bool seq_known;
    uint64_t expected;
};

static int vfail(const struct vstate *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int vfail(const struct vstate *v, const char *fmt, ...)
{
    va_list ap;

    if (v->seq_known)
        fprintf(v->out, "FAIL at entry seq %" PRIu64 " (line %" PRIu64 " of %s): ", v->expected,
                v->line_no, v->path);
    else
        fprintf(v->out, "FAIL at line %" PRIu64 " of %s: ", v->line_no, v->path);
    va_start(ap, fmt);
    vfprintf(v->out, fmt, ap);
    va_end(ap);
    fputc('\n', v->out);
    return 1;
}

/* After a seq that jumps ahead: is the missing entry the next line (a swap) or gone? */
static bool next_is(FILE *f, uint64_t seq)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    struct audit_line l;
    bool yes = n > 1 && line[n - 1] == '\n' && audit_line_parse(line, (size_t)n - 1, &l) == 0 &&
               l.seq == seq;

    free(line);
    return yes;
}

static int verify_entry(struct vstate *v, FILE *f, const char *line, size_t len, bool started,
                        uint8_t prev[AUDIT_HASH_BYTES], struct audit_line *l)
{
    char hex[AUDIT_HEX_BYTES];

    if (audit_line_parse(line, len, l) != 0)
        return vfail(v, "malformed line");
    if (!started) {
        v->seq_known = true;
        v->expected = l->seq;
        if (l->seq == 1 && sodium_memcmp(l->prev, audit_genesis, AUDIT_HASH_BYTES) != 0)
            return vfail(v, "prev mismatch: entry 1 does not chain from the genesis value");
    } else {
        if (l->seq > v->expected && next_is(f, v->expected))
            return vfail(
                v, "reordered: found seq %" PRIu64 " where seq %" PRIu64 " belongs (it comes next)",
                l->seq, v->expected);
        if (l->seq > v->expected)
            return vfail(v,
                         "seq gap: found seq %" PRIu64 ", expected %" PRIu64 " (entries missing)",
                         l->seq, v->expected);
        if (l->seq < v->expected)
            return vfail(v, "reordered: found seq %" PRIu64 " again or out of place", l->seq);
        if (sodium_memcmp(l->prev, prev, AUDIT_HASH_BYTES) != 0) {
            sodium_bin2hex(hex, sizeof(hex), prev, AUDIT_HASH_BYTES);
            return vfail(v, "prev mismatch: does not chain to the entry before it (%s)", hex);
        }
    }
    if (v->line_no == 1 && strcmp(l->event, "segment") != 0)
        return vfail(v, "a file must begin with a segment entry: entries before it are missing");
    if (!audit_line_hash_ok(line, len, l))
        return vfail(v, "hash mismatch: the entry was altered");
    return 0;
}

int audit_verify(const char *const *paths, size_t n, const uint8_t *expect, FILE *out)
{
    struct vfile *files = calloc(n ? n : 1, sizeof(*files));
    struct vstate v = {out, NULL, 0, false, 0};
    uint8_t prev[AUDIT_HASH_BYTES], anchor[AUDIT_HASH_BYTES];
    uint64_t entries = 0, first = 0;
    bool reached = expect == NULL;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;

    if (files == NULL)
        return 2;
    for (size_t i = 0; i < n; i++) {
        struct audit_line l;
        files[i].path = paths[i];
        files[i].order = i;
        if (first_entry(paths[i], &l, &files[i].dated) != 0) {
            fprintf(out, "parley-audit: %s: %s\n", paths[i], strerror(errno));
            rc = 2;
            goto done;
        }
        files[i].first_seq = l.seq;
    }
    if (n > 1)
        qsort(files, n, sizeof(*files), vfile_cmp);
    for (size_t i = 0; i < n && rc == 0; i++) {
        FILE *f = fopen(files[i].path, "rb");
        ssize_t got;

        if (f == NULL) {
            fprintf(out, "parley-audit: %s: %s\n", files[i].path, strerror(errno));
            rc = 2;
            break;
        }
        v.path = files[i].path;
        v.line_no = 0;
        while (rc == 0 && (got = getline(&line, &cap, f)) > 0) {
            struct audit_line l;
            size_t len = (size_t)got;

            v.line_no++;
            if (line[len - 1] != '\n') {
                rc = vfail(&v, "torn line: the file ends mid-entry (truncated)");
                break;
            }
            rc = verify_entry(&v, f, line, len - 1, entries > 0, prev, &l);
            if (rc != 0)
                break;
            if (entries == 0) {
                memcpy(anchor, l.prev, sizeof(anchor));
                first = l.seq;
            }
            memcpy(prev, l.hash, sizeof(prev));
            entries++;
            v.expected = l.seq + 1;
            if (!reached && sodium_memcmp(l.hash, expect, AUDIT_HASH_BYTES) == 0)
                reached = true;
        }
        fclose(f);
    }
    if (rc == 0 && entries == 0) {
        fprintf(out, "FAIL: no entries\n");
        rc = 1;
    }
    if (rc == 0 && !reached) {
        fprintf(out,
                "FAIL at entry seq %" PRIu64 " (line %" PRIu64 " of %s): truncated: the "
                "chain ends at seq %" PRIu64 " without reaching the expected hash\n",
                v.expected, v.line_no + 1, v.path, v.expected - 1);
        rc = 1;
    }
    if (rc == 0) {
        char a[AUDIT_HEX_BYTES], h[AUDIT_HEX_BYTES];
        sodium_bin2hex(a, sizeof(a), anchor, sizeof(anchor));
        sodium_bin2hex(h, sizeof(h), prev, sizeof(prev));
        fprintf(out,
                "OK %" PRIu64 " entries (seq %" PRIu64 "..%" PRIu64 "; anchor %s; last hash %s)\n",
                entries, first, v.expected - 1, a, h);
    }
done:
    free(line);
    free(files);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Building entries */

/* Hashes and pseudonyms are not secrets: a plain table beats sodium_bin2hex's constant time. */
static void to_hex(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void set_head(struct audit *a, const uint8_t h[AUDIT_HASH_BYTES])
{
    memcpy(a->head, h, AUDIT_HASH_BYTES);
    to_hex(a->head_hex, h, AUDIT_HASH_BYTES);
}

static void put(struct audit *a, const char *s, size_t n)
{
    if (a->line_len + n >= sizeof(a->line)) {
        a->line_bad = true;
        return;
    }
    memcpy(a->line + a->line_len, s, n);
    a->line_len += n;
}

static void put_s(struct audit *a, const char *s)
{
    put(a, s, strlen(s));
}

static void put_u64(struct audit *a, const char *name, uint64_t v)
{
    char digits[24];
    size_t i = sizeof(digits);

    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put_s(a, ",\"");
    put_s(a, name);
    put_s(a, "\":");
    put(a, digits + i, sizeof(digits) - i);
}

static void put_str(struct audit *a, const char *name, const char *value)
{
    put_s(a, ",\"");
    put_s(a, name);
    put_s(a, "\":\"");
    put_s(a, value);
    put_s(a, "\"");
}

/*
 * A keyed hash of id: the same id always gives the same pseudonym under
 * this relay's key, and nothing about the id without the key. SipHash is
 * a PRF made for short inputs and costs a tenth of a keyed BLAKE2b, which
 * matters at three entries per envelope.
 */
static void put_id(struct audit *a, const char *name, const uint8_t *id, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    char hex[2 * crypto_shorthash_BYTES + 1];

    crypto_shorthash(h, id, len, a->key);
    to_hex(hex, h, sizeof(h));
    put_str(a, name, hex);
}

static bool begin(struct audit *a, const char *event)
{
    struct timespec now;
    char ms[6];
    int msec;

    if (a == NULL)
        return false;
    if (a->len > AUDIT_BUF_MAX) {
        a->lost++;
        return false;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != a->ts_sec) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        strftime(a->ts_base, sizeof(a->ts_base), "%Y-%m-%dT%H:%M:%S", &tm);
        a->ts_sec = now.tv_sec;
    }
    msec = (int)(now.tv_nsec / 1000000) % 1000;
    ms[0] = '.';
    ms[1] = (char)('0' + msec / 100);
    ms[2] = (char)('0' + msec / 10 % 10);
    ms[3] = (char)('0' + msec % 10);
    ms[4] = 'Z';
    ms[5] = '\0';
    a->line_len = 0;
    a->line_bad = false;
    put_u64(a, "seq", a->seq + 1);
    a->line[0] = '{'; /* put_u64 wrote ",\"seq\":N"; the entry opens instead */
    put_s(a, ",\"ts\":\"");
    put_s(a, a->ts_base);
    put_s(a, ms);
    put_s(a, "\"");
    put_str(a, "event", event);
    return true;
}

/* Closes the entry with prev and hash and appends it to the buffer. */
static void finish(struct audit *a)
{
    char hex[AUDIT_HEX_BYTES];
    uint8_t h[AUDIT_HASH_BYTES];

    put_str(a, "prev", a->head_hex);
    put_s(a, "}");
    if (a->line_bad || a->line_len + HASH_MEMBER_LEN + 2 >= sizeof(a->line)) {
        a->lost++;
        return;
    }
    audit_chain_hash(a->head, a->line, a->line_len, h);
    a->line_len--; /* reopen: the hash member goes before the closing brace */
    to_hex(hex, h, sizeof(h));
    put_str(a, "hash", hex);
    put_s(a, "}\n");
    if (a->len + a->line_len > a->cap) {
        size_t cap = a->cap ? a->cap : 16384;
        char *grown;
        while (cap < a->len + a->line_len)
            cap *= 2;
        grown = realloc(a->buf, cap);
        if (grown == NULL) {
            a->lost++;
            return;
        }
        a->buf = grown;
        a->cap = cap;
    }
    memcpy(a->buf + a->len, a->line, a->line_len);
    a->len += a->line_len;
    a->seq++;
    set_head(a, h);
}

/* ------------------------------------------------------------------ */
/* Events */

void audit_conn_open(struct audit *a, uint64_t conn, const uint8_t addr[32])
{
    if (!begin(a, "conn_open"))
        return;
    put_u64(a, "conn", conn);
    if (!sodium_is_zero(addr, 32))
        put_id(a, "addr", addr, 32);
    finish(a);
}

void audit_conn_close(struct audit *a, uint64_t conn, unsigned code)
{
    if (!begin(a, "conn_close"))
        return;
    put_u64(a, "conn", conn);
    put_u64(a, "code", code);
    finish(a);
}

void audit_auth(struct audit *a, uint64_t conn, const char *role, int brand, const uint8_t *who,
                const char *failure)
{
    if (!begin(a, "auth"))
        return;
    put_u64(a, "conn", conn);
    put_s(a, failure == NULL ? ",\"ok\":true" : ",\"ok\":false");
    if (role != NULL)
        put_str(a, "role", role);
    if (brand >= 0)
        put_u64(a, "brand", (uint64_t)brand);
    if (failure == NULL && who != NULL)
        put_id(a, "who", who, 32);
    if (failure != NULL)
        put_str(a, "reason", failure);
    finish(a);
}

void audit_stored(struct audit *a, const uint8_t envelope_id[16], const uint8_t from[32],
                  const uint8_t to[32], size_t bytes)
{
    if (!begin(a, "stored"))
        return;
    put_id(a, "env", envelope_id, 16);
    put_id(a, "from", from, 32);
    put_id(a, "to", to, 32);
    put_u64(a, "bytes", bytes);
    finish(a);
}

void audit_delivered(struct audit *a, uint64_t conn, const uint8_t envelope_id[16])
{
    if (!begin(a, "delivered"))
        return;
    put_u64(a, "conn", conn);
    put_id(a, "env", envelope_id, 16);
    finish(a);
}

void audit_acked(struct audit *a, const uint8_t envelope_id[16])
{
    if (!begin(a, "acked"))
        return;
    put_id(a, "env", envelope_id, 16);
    finish(a);
}

void audit_expired(struct audit *a, uint64_t envelopes, uint64_t bytes)
{
    if (!begin(a, "expired"))
        return;
    put_u64(a, "envelopes", envelopes);
    put_u64(a, "bytes", bytes);
    finish(a);
}

void audit_erased(struct audit *a, const uint8_t who[32], uint64_t envelopes, uint64_t bytes)
{
    if (!begin(a, "erased"))
        return;
    put_id(a, "who", who, 32);
    put_u64(a, "envelopes", envelopes);
    put_u64(a, "bytes", bytes);
    finish(a);
}

void audit_directory(struct audit *a, uint64_t conn, int brand, uint64_t version)
{
    if (!begin(a, "directory"))
        return;
    put_u64(a, "conn", conn);
    put_u64(a, "brand", brand >= 0 ? (uint64_t)brand : 0);
    put_u64(a, "version", version);
    finish(a);
}

static void record_simple(struct audit *a, const char *event, const char *name, uint64_t v)
{
    if (!begin(a, event))
        return;
    if (name != NULL)
        put_u64(a, name, v);
    finish(a);
}

void audit_head(const struct audit *a, uint64_t *seq, char hex[AUDIT_HEX_BYTES])
{
    *seq = a->seq;
    sodium_bin2hex(hex, AUDIT_HEX_BYTES, a->head, sizeof(a->head));
}

/* ------------------------------------------------------------------ */
/* Files */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t wall_s(void)
{
    return (int64_t)time(NULL);
}

static void *sync_main(void *arg)
{
    struct audit *a = arg;

    pthread_mutex_lock(&a->lock);
    while (!a->stop) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += 1;
        pthread_cond_timedwait(&a->cond, &a->lock, &t);
        if (a->dirty && a->sync_fd >= 0) {
            int fd = a->sync_fd;
            a->dirty = false;
            a->syncing = true;
            pthread_mutex_unlock(&a->lock);
            fdatasync(fd);
            pthread_mutex_lock(&a->lock);
            a->syncing = false;
            pthread_cond_broadcast(&a->cond);
        }
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* Takes the live fd away from the sync thread (before it is closed). */
static void sync_detach(struct audit *a)
{
    pthread_mutex_lock(&a->lock);
    while (a->syncing)
        pthread_cond_wait(&a->cond, &a->lock);
    a->sync_fd = -1;
    a->dirty = false;
    pthread_mutex_unlock(&a->lock);
}

static void sync_attach(struct audit *a)
{
    pthread_mutex_lock(&a->lock);
    a->sync_fd = a->fd;
    pthread_mutex_unlock(&a->lock);
}

/*
 * Writes the buffer in one write(2). A short write is cut back off the
 * file so it never holds half an entry; the entries stay buffered and are
 * tried again a second later.
 */
static int write_out(struct audit *a, bool force)
{
    size_t done = 0;

    if (a->len == 0)
        return 0;
    if (!force && now_ms() < a->retry_after_ms)
        return -1;
    while (done < a->len) {
        ssize_t n = write(a->fd, a->buf + done, a->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (done < a->len) {
        int e = errno;
        if (done > 0 && ftruncate(a->fd, (off_t)a->size) != 0)
            e = errno;
        if (!a->failing)
            log_event(LOG_ERROR, "audit_write_failed", "\"error\":\"%s\",\"buffered\":%zu",
                      strerror(e), a->len);
        a->failing = true;
        a->retry_after_ms = now_ms() + 1000;
        return -1;
    }
    if (a->failing)
        log_event(LOG_INFO, "audit_write_resumed", NULL);
    a->failing = false;
    a->size += a->len;
    a->len = 0;
    if (a->cap > (1u << 20)) {
        free(a->buf); /* a burst is over: do not keep its memory */
        a->buf = NULL;
        a->cap = 0;
    }
    pthread_mutex_lock(&a->lock);
    a->dirty = true;
    pthread_mutex_unlock(&a->lock);
    return 0;
}

/* The last line of fd (which ends with '\n' at size). -1 if none fits in cap. */
static int last_line(int fd, uint64_t size, char *out, size_t cap, size_t *len)
{
    size_t want = size < cap ? (size_t)size : cap, start;
    off_t base = (off_t)(size - want);

    if (size == 0 || pread(fd, out, want, base) != (ssize_t)want || out[want - 1] != '\n')
        return -1;
    for (start = want - 1; start > 0 && out[start - 1] != '\n'; start--)
        ;
    if (start == 0 && base != 0)
        return -1;
    *len = want - 1 - start;
    memmove(out, out + start, *len);
    return 0;
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

/* The last entry of a closed segment file. */
static int file_last_entry(const char *path, struct audit_line *l)
{
    char buf[AUDIT_LINE_MAX + 1];
    struct stat st;
    size_t len;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) == 0 && last_line(fd, (uint64_t)st.st_size, buf, sizeof(buf), &len) == 0 &&
        audit_line_parse(buf, len, l) == 0 && audit_line_hash_ok(buf, len, l))
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
static size_t list_segments(const struct audit *a, uint64_t **out)
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
        if (n == cap) {
            uint64_t *grown = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));
            if (grown == NULL)
                break;
            v = grown;
            cap = cap ? cap * 2 : 16;
        }
        v[n++] = num;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof(*v), u64_cmp);
    *out = v;
    return n;
}

static void segment_path(const struct audit *a, uint64_t first_seq, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.%012" PRIu64, a->dir, a->base, first_seq);
}

/*
 * Deletes closed segments whose newest entry is older than the retention,
 * oldest first, and records each deletion. What remains starts with a
 * segment entry anchored to the last hash of what was deleted, which the
 * operator log also keeps.
 */
static void prune(struct audit *a, int64_t now)
{
    uint64_t *segs;
    size_t n = list_segments(a, &segs);

    for (size_t i = 0; i < n; i++) {
        char path[1100], hex[AUDIT_HEX_BYTES];
        struct audit_line l;

        segment_path(a, segs[i], path, sizeof(path));
        if (file_last_entry(path, &l) != 0) {
            log_event(LOG_WARN, "audit_prune_stopped",
                      "\"segment\":%" PRIu64 ",\"why\":\"last entry unreadable\"", segs[i]);
            break;
        }
        if (l.ts + (int64_t)a->retention > now || unlink(path) != 0)
            break;
        sodium_bin2hex(hex, sizeof(hex), l.hash, sizeof(l.hash));
        record_simple(a, "pruned", "through", l.seq);
        log_event(LOG_INFO, "audit_pruned", "\"through\":%" PRIu64 ",\"anchor\":\"%s\"", l.seq,
                  hex);
    }
    free(segs);
}

static void fsync_dir(const struct audit *a)
{
    int fd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int open_live(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        errno = EWOULDBLOCK;
        return -1;
    }
    return fd;
}

static void start_segment(struct audit *a, int64_t now)
{
    char hex[AUDIT_HEX_BYTES];

    a->seg_first_seq = a->seq + 1;
    a->seg_start = now;
    sodium_bin2hex(hex, sizeof(hex), a->head, sizeof(a->head));
    record_simple(a, "segment", NULL, 0);
    log_event(LOG_INFO, "audit_segment", "\"seq\":%" PRIu64 ",\"anchor\":\"%s\"", a->seg_first_seq,
              hex);
}

/* Closes the live segment under its first seq's name and opens a new one. */
static void rotate(struct audit *a, int64_t now)
{
    char old[1100];
    int fd;

    if (write_out(a, false) != 0)
        return;
    segment_path(a, a->seg_first_seq, old, sizeof(old));
    sync_detach(a);
    fdatasync(a->fd);
    if (rename(a->path, old) != 0 || (fd = open_live(a->path)) < 0) {
        log_event(LOG_ERROR, "audit_rotate_failed", "\"error\":\"%s\"", strerror(errno));
        if (access(a->path, F_OK) != 0)
            rename(old, a->path);
        a->seg_start = now; /* try again one period later */
        sync_attach(a);
        return;
    }
    close(a->fd);
    a->fd = fd;
    a->size = 0;
    fsync_dir(a);
    sync_attach(a);
    start_segment(a, now);
    prune(a, now);
    write_out(a, false);
}

void audit_flush(struct audit *a)
{
    int64_t now;

    if (a == NULL)
        return;
    if (write_out(a, false) == 0 && a->lost > 0) {
        uint64_t lost = a->lost;
        a->lost = 0;
        log_event(LOG_ERROR, "audit_lost", "\"entries\":%" PRIu64, lost);
        record_simple(a, "lost", "entries", lost);
    }
    now = wall_s();
    if (now - a->seg_start >= (int64_t)a->segment)
        rotate(a, now);
}

/*
 * Reads the live file's state: cuts a torn last line (a write cut short
 * by a crash), then continues the chain from the last entry, which must
 * verify on its own. *repaired gets the bytes cut.
 */
static int resume(struct audit *a, uint64_t *repaired, char *err, size_t cap)
{
    char buf[AUDIT_LINE_MAX + 1], tail[8192];
    struct audit_line l;
    struct stat st;
    size_t len;

    *repaired = 0;
    if (fstat(a->fd, &st) != 0) {
        snprintf(err, cap, "%s: %s", a->path, strerror(errno));
        return -1;
    }
    a->size = (uint64_t)st.st_size;
    if (a->size > 0) {
        size_t want = a->size < sizeof(tail) ? (size_t)a->size : sizeof(tail);
        off_t base = (off_t)(a->size - want);
        size_t keep = want;

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
                snprintf(err, cap, "%s: cannot cut its torn last line: %s", a->path,
                         strerror(errno));
                return -1;
            }
            a->size = (uint64_t)base + keep;
        }
    }
    if (a->size > 0) {
        if (last_line(a->fd, a->size, buf, sizeof(buf), &len) != 0 ||
            audit_line_parse(buf, len, &l) != 0 || !audit_line_hash_ok(buf, len, &l)) {
            snprintf(err, cap,
                     "%s: its last entry does not verify; check it with parley-audit verify "
                     "and move it aside",
                     a->path);
            return -1;
        }
        a->seq = l.seq;
        set_head(a, l.hash);
        if (first_line(a->fd, buf, sizeof(buf), &len) != 0 || audit_line_parse(buf, len, &l) != 0) {
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
        size_t n = list_segments(a, &segs);
        int rc = 0;

        set_head(a, audit_genesis);
        a->seq = 0;
        if (n > 0) {
            char path[1100];
            segment_path(a, segs[n - 1], path, sizeof(path));
            if (file_last_entry(path, &l) != 0) {
                snprintf(err, cap, "%s: its last entry does not verify", path);
                rc = -1;
            } else {
                a->seq = l.seq;
                set_head(a, l.hash);
            }
        }
        free(segs);
        if (rc == 0)
            start_segment(a, wall_s());
        return rc;
    }
}

int audit_open(struct audit **out, const char *path, const char *db, uint64_t retention,
               uint64_t segment, const uint8_t key[32], char *err, size_t cap)
{
    struct audit *a = calloc(1, sizeof(*a));
    uint64_t repaired = 0;
    const char *slash;
    char hex[AUDIT_HEX_BYTES];
    int n;

    *out = NULL;
    if (a == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    a->fd = -1;
    a->sync_fd = -1;
    a->retention = retention;
    a->segment = segment;
    crypto_generichash(a->key, sizeof(a->key), (const uint8_t *)"parley-audit-pseudonym", 22, key,
                       32);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    n = path != NULL && path[0] != '\0' ? snprintf(a->path, sizeof(a->path), "%s", path)
                                        : snprintf(a->path, sizeof(a->path), "%s.audit", db);
    if (n <= 0 || (size_t)n >= sizeof(a->path)) {
        snprintf(err, cap, "audit log path too long");
        goto fail;
    }
    slash = strrchr(a->path, '/');
    if (slash == NULL) {
        snprintf(a->dir, sizeof(a->dir), ".");
        snprintf(a->base, sizeof(a->base), "%s", a->path);
    } else {
        snprintf(a->dir, sizeof(a->dir), "%.*s", slash == a->path ? 1 : (int)(slash - a->path),
                 a->path);
        snprintf(a->base, sizeof(a->base), "%s", slash + 1);
    }
    a->fd = open_live(a->path);
    if (a->fd < 0) {
        snprintf(err, cap, "%s: %s", a->path,
                 errno == EWOULDBLOCK ? "in use by another relay" : strerror(errno));
        goto fail;
    }
    if (resume(a, &repaired, err, cap) != 0)
        goto fail;
    if (begin(a, "start")) {
        if (repaired > 0)
            put_u64(a, "repaired_bytes", repaired);
        finish(a);
    }
    a->sync_fd = a->fd;
    if (pthread_create(&a->thread, NULL, sync_main, a) != 0) {
        snprintf(err, cap, "cannot start the audit sync thread");
        goto fail;
    }
    a->thread_started = true;
    prune(a, wall_s());
    if (write_out(a, true) != 0) {
        snprintf(err, cap, "%s: cannot write", a->path);
        goto fail;
    }
    sodium_bin2hex(hex, sizeof(hex), a->head, sizeof(a->head));
    log_event(repaired > 0 ? LOG_WARN : LOG_INFO, "audit_opened",
              "\"seq\":%" PRIu64 ",\"hash\":\"%s\",\"repaired_bytes\":%" PRIu64, a->seq, hex,
              repaired);
    *out = a;
    return 0;
fail:
    a->len = 0; /* nothing of a failed start is written */
    audit_close(a);
    return -1;
}

void audit_close(struct audit *a)
{
    char hex[AUDIT_HEX_BYTES];

    if (a == NULL)
        return;
    if (a->thread_started) {
        record_simple(a, "stop", NULL, 0);
        if (write_out(a, true) != 0)
            log_event(LOG_ERROR, "audit_unwritten", "\"bytes\":%zu", a->len);
        pthread_mutex_lock(&a->lock);
        a->stop = true;
        pthread_cond_broadcast(&a->cond);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->thread, NULL);
        fdatasync(a->fd);
        sodium_bin2hex(hex, sizeof(hex), a->head, sizeof(a->head));
        log_event(LOG_INFO, "audit_closed", "\"seq\":%" PRIu64 ",\"hash\":\"%s\"", a->seq, hex);
    }
    if (a->fd >= 0)
        close(a->fd);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    sodium_memzero(a->key, sizeof(a->key));
    free(a->buf);
    free(a);
}
