/*
 * Recording the hash-chained audit log (see audit.h for the format). It
 * exists so that a data-protection officer can check what the relay did
 * with people's data, and detect any entry altered, reordered or removed
 * since, or lost.
 *
 * Recording stays off the hot path's critical costs: an entry is built and
 * chained in memory on the loop thread (a few hundred bytes, two or three
 * BLAKE2b calls), the entries of one loop iteration reach the file in one
 * write(2), and fdatasync runs on a thread of its own once a second at
 * most, so the loop never waits on the disk for the audit log. Entries
 * about store changes are made durable by the store's own commit (its
 * outbox) and only chained here; what else a crash could lose while the
 * file refuses writes is kept in the held record, so that the next start
 * records it as a gap instead of losing it silently.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h" /* parley__grow */
#include "audit_impl.h"
#include "log.h"
#include "relay.h"

/* Entries held while the file cannot be written; beyond it they are dropped, and counted. */
#define AUDIT_BUF_MAX (8u << 20)
/* How soon a file that refused a write is tried again. */
#define RETRY_MS 100

const char *const audit_event_names[EV_COUNT] = {
#define X(n) #n,
    AUDIT_EVENTS(X)
#undef X
};

enum audit_event audit_event_of(const char *s, size_t n)
{
    for (int i = 0; i < EV_COUNT; i++)
        if (strlen(audit_event_names[i]) == n && memcmp(audit_event_names[i], s, n) == 0)
            return (enum audit_event)i;
    return EV_COUNT;
}

/* The relay's wall clock (relay_now_ms), which a test build of the relay can move. */
int64_t audit_now_ms(void)
{
    return (int64_t)relay_now_ms();
}

static int64_t wall_ms(void)
{
    return audit_now_ms();
}

static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
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

void audit_set_head(struct audit *a, const uint8_t h[AUDIT_HASH_BYTES])
{
    memcpy(a->head, h, AUDIT_HASH_BYTES);
    to_hex(a->head_hex, h, AUDIT_HASH_BYTES);
}

/* Text under construction in a fixed buffer; bad once something did not fit. */
struct text {
    char *p;
    size_t cap, len;
    bool bad;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (t->len + n >= t->cap) {
        t->bad = true;
        return;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

static void put_s(struct text *t, const char *s)
{
    put(t, s, strlen(s));
}

static void put_num(struct text *t, uint64_t v)
{
    char digits[24];
    size_t i = sizeof(digits);

    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(t, digits + i, sizeof(digits) - i);
}

static void put_u64(struct text *t, const char *name, uint64_t v)
{
    put_s(t, ",\"");
    put_s(t, name);
    put_s(t, "\":");
    put_num(t, v);
}

static void put_str(struct text *t, const char *name, const char *value)
{
    put_s(t, ",\"");
    put_s(t, name);
    put_s(t, "\":\"");
    put_s(t, value);
    put_s(t, "\"");
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ"; the date part is formatted once a second. */
static void put_time(struct text *t, struct ts_cache *tc, int64_t ms)
{
    int64_t sec = ms / 1000;
    int m = (int)(ms % 1000);
    char tail[6] = {
        '.', (char)('0' + m / 100), (char)('0' + m / 10 % 10), (char)('0' + m % 10), 'Z', '\0'};

    if (sec != tc->sec) {
        time_t tt = (time_t)sec;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(tc->base, sizeof(tc->base), "%Y-%m-%dT%H:%M:%S", &tm);
        tc->sec = sec;
    }
    put_s(t, tc->base);
    put_s(t, tail);
}

static void put_time_field(struct text *t, struct ts_cache *tc, const char *name, int64_t ms)
{
    put_s(t, ",\"");
    put_s(t, name);
    put_s(t, "\":\"");
    put_time(t, tc, ms);
    put_s(t, "\"");
}

/*
 * A keyed hash of id: the same id always gives the same pseudonym under
 * this relay's key, and nothing about the id without the key. SipHash is
 * a PRF made for short inputs and costs a tenth of a keyed BLAKE2b, which
 * matters at three entries per envelope.
 */
static void put_id(struct text *t, const struct audit *a, const char *name, const uint8_t *id,
                   size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    char hex[2 * crypto_shorthash_BYTES + 1];

    crypto_shorthash(h, id, len, a->key);
    to_hex(hex, h, sizeof(h));
    put_str(t, name, hex);
}

/* An entry's body: "ts":"...","event":"..." then its fields. */
static void body_begin(struct text *t, char *buf, size_t cap, struct ts_cache *tc, int64_t ms,
                       enum audit_event ev)
{
    t->p = buf;
    t->cap = cap;
    t->len = 0;
    t->bad = false;
    put_s(t, "\"ts\":\"");
    put_time(t, tc, ms);
    put_s(t, "\"");
    put_str(t, "event", audit_event_names[ev]);
}

static void held_note(int64_t *since, int64_t *until, int64_t ms)
{
    if (*since == 0 || ms < *since)
        *since = ms;
    if (ms > *until)
        *until = ms;
}

/* Room for n more bytes in the buffer. 0, or -1 out of memory. */
static int reserve(struct audit *a, size_t n)
{
    char *grown = parley__grow(a->buf, &a->cap, a->len + n, 1);

    if (grown == NULL)
        return -1;
    a->buf = grown;
    return 0;
}

/*
 * Wraps a body into its line, {"seq":N,<body>}, and appends it to the
 * batch being recorded, with room for the tail its batch's last line
 * takes; a batch that reached AUDIT_BATCH_MAX bytes is sealed. 0; -1 if
 * it does not fit a line; -2 out of memory.
 */
static int chain(struct audit *a, enum audit_event ev, int64_t ms, const char *body, size_t len)
{
    struct text l = {a->line, sizeof(a->line), 0, false};

    put_s(&l, "{\"seq\":");
    put_num(&l, a->seq + 1);
    put_s(&l, ",");
    put(&l, body, len);
    put_s(&l, "}\n");
    /* Any line may end its batch: its tail replaces "}\n" and must fit a line too. */
    if (l.bad || l.len - 2 + TAIL_LEN >= AUDIT_LINE_MAX)
        return -1;
    if (reserve(a, l.len + TAIL_LEN) != 0)
        return -2;
    memcpy(a->buf + a->len, l.p, l.len);
    a->len += l.len;
    a->seq++;
    a->batch_n++;
    if (a->held.first_seq == 0)
        a->held.first_seq = a->seq;
    a->held.last_seq = a->seq;
    if (ev < EV_FIRST_STORE) {
        a->held.n[ev]++;
        held_note(&a->held.held_since, &a->held.held_until, ms);
    }
    a->held_version++;
    if (a->len - a->batch_start >= AUDIT_BATCH_MAX)
        audit_seal(a);
    return 0;
}

/*
 * One hash per batch rather than per entry: the batch's last line gets
 * ,"prev":"<hex>" and the hash of prev and the whole batch (audit.h), so
 * that an entry changed, removed or moved inside it, or a batch removed
 * or moved, no longer verifies. chain() reserved the room.
 */
void audit_seal(struct audit *a)
{
    struct text t = {a->buf, a->cap, a->len - 2, false};
    uint8_t h[AUDIT_HASH_BYTES];
    char hex[AUDIT_HEX_BYTES];

    if (a->batch_n == 0)
        return;
    put_str(&t, "prev", a->head_hex);
    put_s(&t, "}");
    audit_chain_hash(a->head, a->buf + a->batch_start, t.len - a->batch_start, h);
    t.len--; /* reopen: the hash member goes before the closing brace */
    to_hex(hex, h, sizeof(h));
    put_str(&t, "hash", hex);
    put_s(&t, "}\n");
    a->len = t.len;
    a->batch_start = a->len;
    a->batch_n = 0;
    a->sealed_seq = a->seq;
    audit_set_head(a, h);
}

static void drop(struct audit *a, enum audit_event ev, int64_t ms)
{
    a->held.dropped[ev]++;
    held_note(&a->held.drop_since, &a->held.drop_until, ms);
    a->held_version++;
}

/* Starts an entry of the loop's own; false (and the entry counted as dropped) when it cannot be. */
static bool begin(struct audit *a, enum audit_event ev)
{
    struct text t;

    if (a == NULL)
        return false;
    a->body_ms = wall_ms();
    a->body_event = ev;
    if (a->len > AUDIT_BUF_MAX) {
        drop(a, ev, a->body_ms);
        return false;
    }
    body_begin(&t, a->body, sizeof(a->body), &a->ts, a->body_ms, ev);
    a->body_len = t.len;
    a->body_bad = t.bad;
    return true;
}

static struct text body_text(struct audit *a)
{
    struct text t = {a->body, sizeof(a->body), a->body_len, a->body_bad};
    return t;
}

static void body_keep(struct audit *a, const struct text *t)
{
    a->body_len = t->len;
    a->body_bad = t->bad;
}

static void finish(struct audit *a)
{
    if (a->body_bad || chain(a, a->body_event, a->body_ms, a->body, a->body_len) != 0)
        drop(a, a->body_event, a->body_ms);
}

static void record_simple(struct audit *a, enum audit_event ev, const char *name, uint64_t v)
{
    struct text t;

    if (!begin(a, ev))
        return;
    t = body_text(a);
    if (name != NULL)
        put_u64(&t, name, v);
    body_keep(a, &t);
    finish(a);
}

/*
 * A gap: entries the relay recorded but lost (why: "crash", it died while
 * the file refused them; "memory", more than the memory limit waited),
 * with their number, the time range and the count of each event.
 */
void audit_record_gap(struct audit *a, const char *why, const uint64_t *counts, int64_t since,
                      int64_t until)
{
    uint64_t total = 0;
    struct text t;

    for (int i = 0; i < EV_COUNT; i++)
        total += counts[i];
    if (total == 0 || !begin(a, EV_gap))
        return;
    t = body_text(a);
    put_str(&t, "why", why);
    put_u64(&t, "entries", total);
    put_time_field(&t, &a->ts, "since", since);
    put_time_field(&t, &a->ts, "until", until);
    for (int i = 0; i < EV_COUNT; i++)
        if (counts[i] > 0)
            put_u64(&t, audit_event_names[i], counts[i]);
    body_keep(a, &t);
    finish(a);
    a->lost_total += total;
    log_event(LOG_ERROR, "audit_gap", "\"why\":\"%s\",\"entries\":%" PRIu64 ",\"seq\":%" PRIu64,
              why, total, a->seq);
}

/* ------------------------------------------------------------------ */
/* Events of the loop */

void audit_conn_open(struct audit *a, uint64_t conn, const uint8_t addr[32])
{
    struct text t;

    if (!begin(a, EV_conn_open))
        return;
    t = body_text(a);
    put_u64(&t, "conn", conn);
    if (!sodium_is_zero(addr, 32))
        put_id(&t, a, "addr", addr, 32);
    body_keep(a, &t);
    finish(a);
}

void audit_conn_close(struct audit *a, uint64_t conn, unsigned code)
{
    struct text t;

    if (!begin(a, EV_conn_close))
        return;
    t = body_text(a);
    put_u64(&t, "conn", conn);
    put_u64(&t, "code", code);
    body_keep(a, &t);
    finish(a);
}

void audit_auth(struct audit *a, uint64_t conn, const char *role, int brand, const uint8_t *who,
                const char *failure)
{
    struct text t;

    if (!begin(a, EV_auth))
        return;
    t = body_text(a);
    put_u64(&t, "conn", conn);
    put_s(&t, failure == NULL ? ",\"ok\":true" : ",\"ok\":false");
    if (role != NULL)
        put_str(&t, "role", role);
    if (brand >= 0)
        put_u64(&t, "brand", (uint64_t)brand);
    if (failure == NULL && who != NULL)
        put_id(&t, a, "who", who, 32);
    if (failure != NULL)
        put_str(&t, "reason", failure);
    body_keep(a, &t);
    finish(a);
}

void audit_delivered(struct audit *a, uint64_t conn, const uint8_t envelope_id[16])
{
    struct text t;

    if (!begin(a, EV_delivered))
        return;
    t = body_text(a);
    put_u64(&t, "conn", conn);
    put_id(&t, a, "env", envelope_id, 16);
    body_keep(a, &t);
    finish(a);
}

void audit_head(const struct audit *a, uint64_t *seq, char hex[AUDIT_HEX_BYTES])
{
    *seq = a->sealed_seq;
    sodium_bin2hex(hex, AUDIT_HEX_BYTES, a->head, sizeof(a->head));
}

/* ------------------------------------------------------------------ */
/* Entries about store changes: built on the writer thread, chained here */

static size_t store_body(struct text *t)
{
    return t->bad ? 0 : t->len;
}

size_t audit_body_stored(const struct audit *a, char *out, size_t cap,
                         const uint8_t envelope_id[16], const uint8_t from[32],
                         const uint8_t to[32], size_t bytes)
{
    struct ts_cache tc = {-1, ""};
    struct text t;

    body_begin(&t, out, cap, &tc, wall_ms(), EV_stored);
    put_id(&t, a, "env", envelope_id, 16);
    put_id(&t, a, "from", from, 32);
    put_id(&t, a, "to", to, 32);
    put_u64(&t, "bytes", bytes);
    return store_body(&t);
}

size_t audit_body_acked(const struct audit *a, char *out, size_t cap, const uint8_t envelope_id[16])
{
    struct ts_cache tc = {-1, ""};
    struct text t;

    body_begin(&t, out, cap, &tc, wall_ms(), EV_acked);
    put_id(&t, a, "env", envelope_id, 16);
    return store_body(&t);
}

size_t audit_body_expired(const struct audit *a, char *out, size_t cap, uint64_t envelopes,
                          uint64_t bytes)
{
    struct ts_cache tc = {-1, ""};
    struct text t;

    body_begin(&t, out, cap, &tc, wall_ms(), EV_expired);
    put_u64(&t, "envelopes", envelopes);
    put_u64(&t, "bytes", bytes);
    return store_body(&t);
}

size_t audit_body_erased(const struct audit *a, char *out, size_t cap, const uint8_t who[32],
                         uint64_t envelopes, uint64_t bytes)
{
    struct ts_cache tc = {-1, ""};
    struct text t;

    body_begin(&t, out, cap, &tc, wall_ms(), EV_erased);
    put_id(&t, a, "who", who, 32);
    put_u64(&t, "envelopes", envelopes);
    put_u64(&t, "bytes", bytes);
    return store_body(&t);
}

size_t audit_body_directory(const struct audit *a, char *out, size_t cap, uint64_t conn, int brand,
                            uint64_t version)
{
    struct ts_cache tc = {-1, ""};
    struct text t;

    body_begin(&t, out, cap, &tc, wall_ms(), EV_directory);
    put_u64(&t, "conn", conn);
    put_u64(&t, "brand", brand >= 0 ? (uint64_t)brand : 0);
    put_u64(&t, "version", version);
    return store_body(&t);
}

size_t audit_body_order(const struct audit *a, char *out, size_t cap, uint64_t conn, int brand,
                        const uint8_t order_id[16], const char *kind, const uint8_t who[32])
{
    struct ts_cache tc = {-1, ""};
    char hex[33];
    struct text t;

    sodium_bin2hex(hex, sizeof(hex), order_id, 16);
    body_begin(&t, out, cap, &tc, wall_ms(), EV_order);
    put_u64(&t, "conn", conn);
    put_u64(&t, "brand", brand >= 0 ? (uint64_t)brand : 0);
    put_str(&t, "order", hex);
    put_str(&t, "kind", kind);
    put_id(&t, a, "who", who, 32);
    return store_body(&t);
}

/* The store's builders name the event right after the timestamp: "ts":"<24>","event":"NAME". */
static enum audit_event trusted_event_of(const char *body, size_t len)
{
    const char *p = body + 6 + 24 + 11, *q = len > 41 ? memchr(p, '"', len - 41) : NULL;

    return q != NULL ? audit_event_of(p, (size_t)(q - p)) : EV_COUNT;
}

/* A body read back from the store: printable, "ts":"<24>","event":"..."; its event or EV_COUNT. */
static enum audit_event store_event_of(const char *body, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)body[i] < 0x20 || (unsigned char)body[i] > 0x7e)
            return EV_COUNT;
    if (len >= AUDIT_BODY_MAX || len < 6 + 24 + 11 + 2 || memcmp(body, "\"ts\":\"", 6) != 0 ||
        memcmp(body + 30, "\",\"event\":\"", 11) != 0)
        return EV_COUNT;
    return trusted_event_of(body, len);
}

int audit_export(struct audit *a, uint64_t row, uint32_t idx, const char *body, size_t len,
                 bool trusted)
{
    enum audit_event ev;
    int rc;

    if (row < a->exported.row || (row == a->exported.row && idx <= a->exported.idx))
        return 0; /* chained already */
    if (a->len > AUDIT_BUF_MAX)
        return 1;
    ev = trusted ? trusted_event_of(body, len) : store_event_of(body, len);
    rc = ev >= EV_FIRST_STORE && ev < EV_COUNT ? chain(a, ev, 0, body, len) : -1;
    if (rc == -2)
        return 1;
    a->exported.row = row;
    a->exported.idx = idx;
    if (rc != 0) {
        log_event(LOG_ERROR, "audit_outbox_skipped", "\"row\":%" PRIu64 ",\"entry\":%u", row, idx);
        return -1;
    }
    a->exported.seq = a->seq;
    return 0;
}

struct audit_pos audit_exported(const struct audit *a)
{
    return a->exported;
}

struct audit_pos audit_synced(struct audit *a)
{
    struct audit_pos p;

    pthread_mutex_lock(&a->lock);
    p = a->synced_pos;
    pthread_mutex_unlock(&a->lock);
    return p;
}

void audit_set_exported(struct audit *a, struct audit_pos pos)
{
    a->exported = pos;
}

/* ------------------------------------------------------------------ */
/* Writing */

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
            struct audit_pos pos = a->dirty_pos;
            a->dirty = false;
            a->syncing = true;
            pthread_mutex_unlock(&a->lock);
            if (fdatasync(fd) == 0) {
                pthread_mutex_lock(&a->lock);
                a->synced_pos = pos;
            } else {
                pthread_mutex_lock(&a->lock);
            }
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

/* The file is synced here, on the loop thread: everything exported is on disk. */
static void synced_all(struct audit *a)
{
    pthread_mutex_lock(&a->lock);
    a->synced_pos = a->exported;
    pthread_mutex_unlock(&a->lock);
}

static void clear_held(struct audit_held *h)
{
    h->first_seq = h->last_seq = 0;
    h->held_since = h->held_until = 0;
    memset(h->n, 0, sizeof(h->n));
}

/*
 * Writes the buffer in one write(2). A short write is cut back off the
 * file so it never holds half an entry; the entries stay buffered and are
 * tried again RETRY_MS later, and the held record says what they are.
 */
static int write_out(struct audit *a, bool force)
{
    size_t done = 0;

    audit_seal(a);
    if (a->len == 0)
        return 0;
    if (!force && mono_ms() < a->retry_after_ms)
        return -1;
    errno = 0;
    while (done < a->len) {
        ssize_t n = write(a->fd, a->buf + done, a->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (done < a->len) {
        int e = errno != 0 ? errno : EIO;
        if (done > 0 && ftruncate(a->fd, (off_t)a->size) != 0)
            e = errno;
        if (!a->failing) {
            log_event(LOG_ERROR, "audit_write_failed", "\"error\":\"%s\",\"buffered\":%zu",
                      strerror(e), a->len);
            a->fail_since_ms = wall_ms();
        }
        a->failing = true;
        a->fail_errno = e;
        a->retry_after_ms = mono_ms() + RETRY_MS;
        return -1;
    }
    if (a->failing)
        log_event(LOG_INFO, "audit_write_resumed", "\"bytes\":%zu,\"failed_ms\":%" PRId64, a->len,
                  wall_ms() - a->fail_since_ms);
    a->failing = false;
    a->size += a->len;
    a->len = a->batch_start = 0;
    clear_held(&a->held);
    a->held_version++;
    if (a->cap > (1u << 20)) {
        free(a->buf); /* a burst is over: do not keep its memory */
        a->buf = NULL;
        a->cap = 0;
    }
    pthread_mutex_lock(&a->lock);
    a->dirty = true;
    a->dirty_pos = a->exported;
    pthread_mutex_unlock(&a->lock);
    return 0;
}

/* Writes what waits; once written, entries dropped meanwhile are recorded as a gap. */
static int write_all(struct audit *a, bool force)
{
    bool dropped = false;

    if (write_out(a, force) != 0)
        return -1;
    for (int i = 0; i < EV_COUNT; i++)
        dropped = dropped || a->held.dropped[i] > 0;
    if (dropped) {
        uint64_t counts[EV_COUNT];
        int64_t since = a->held.drop_since, until = a->held.drop_until;
        memcpy(counts, a->held.dropped, sizeof(counts));
        memset(a->held.dropped, 0, sizeof(a->held.dropped));
        a->held.drop_since = a->held.drop_until = 0;
        audit_record_gap(a, a->drop_crash ? "crash" : "memory", counts, since, until);
        a->drop_crash = false;
        if (write_out(a, true) != 0)
            return -1;
    }
    return 0;
}

/* Keeps the held record in step: what is waiting while the file refuses, nothing once written. */
static void held_sync(struct audit *a)
{
    bool waiting = a->len > 0 || a->held.drop_until != 0;

    if (waiting && a->failing && a->held_version != a->held_written)
        audit_held_save(a);
    else if (!waiting && a->held_on_disk)
        audit_held_save(a);
}

void audit_retry_now(struct audit *a)
{
    if (a != NULL)
        a->retry_after_ms = 0;
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
    size_t n = audit_list_segments(a, &segs);

    for (size_t i = 0; i < n; i++) {
        char path[1100], hex[AUDIT_HEX_BYTES];
        struct audit_line l;

        audit_segment_path(a, segs[i], path, sizeof(path));
        if (audit_file_last_entry(path, &l) != 0) {
            log_event(LOG_WARN, "audit_prune_stopped",
                      "\"segment\":%" PRIu64 ",\"why\":\"last entry unreadable\"", segs[i]);
            break;
        }
        if (l.ts + (int64_t)a->retention > now || unlink(path) != 0)
            break;
        sodium_bin2hex(hex, sizeof(hex), l.hash, sizeof(l.hash));
        record_simple(a, EV_pruned, "through", l.seq);
        log_event(LOG_INFO, "audit_pruned", "\"through\":%" PRIu64 ",\"anchor\":\"%s\"", l.seq,
                  hex);
    }
    free(segs);
}

void audit_start_segment(struct audit *a, int64_t now)
{
    char hex[AUDIT_HEX_BYTES];

    a->seg_first_seq = a->seq + 1;
    a->seg_start = now;
    audit_seal(a); /* the segment entry is a batch of its own: its prev is the anchor */
    sodium_bin2hex(hex, sizeof(hex), a->head, sizeof(a->head));
    record_simple(a, EV_segment, NULL, 0);
    audit_seal(a);
    log_event(LOG_INFO, "audit_segment", "\"seq\":%" PRIu64 ",\"anchor\":\"%s\"", a->seg_first_seq,
              hex);
}

/* Closes the live segment under its first seq's name and opens a new one. */
static void rotate(struct audit *a, int64_t now)
{
    char old[1100];
    int fd;

    if (write_all(a, false) != 0)
        return;
    audit_segment_path(a, a->seg_first_seq, old, sizeof(old));
    sync_detach(a);
    if (fdatasync(a->fd) == 0)
        synced_all(a);
    if (rename(a->path, old) != 0 || (fd = audit_open_live(a->path)) < 0) {
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
    audit_fsync_dir(a);
    sync_attach(a);
    audit_start_segment(a, now);
    prune(a, now);
    write_all(a, false);
}

void audit_flush(struct audit *a)
{
    int64_t now;

    if (a == NULL)
        return;
    write_all(a, false);
    held_sync(a);
    now = audit_now_ms() / 1000;
    if (now - a->seg_start >= (int64_t)a->segment)
        rotate(a, now);
}

void audit_sync_now(struct audit *a)
{
    if (a == NULL || write_all(a, true) != 0)
        return;
    held_sync(a);
    if (fdatasync(a->fd) == 0)
        synced_all(a);
}

void audit_status(const struct audit *a, struct audit_status *st)
{
    memset(st, 0, sizeof(*st));
    if (a == NULL)
        return;
    st->failing = a->failing;
    st->error = a->fail_errno;
    st->since_ms = a->fail_since_ms;
    st->held = a->held.first_seq != 0 ? a->held.last_seq - a->held.first_seq + 1 : 0;
    for (int i = 0; i < EV_COUNT; i++)
        st->held += a->held.dropped[i];
    st->lost = a->lost_total;
}

/* ------------------------------------------------------------------ */
/* Opening and closing */

static int set_paths(struct audit *a, const char *path, const char *db)
{
    const char *slash;
    int n = path != NULL && path[0] != '\0' ? snprintf(a->path, sizeof(a->path), "%s", path)
                                            : snprintf(a->path, sizeof(a->path), "%s.audit", db);

    if (n <= 0 || (size_t)n >= sizeof(a->path))
        return -1;
    slash = strrchr(a->path, '/');
    if (slash == NULL) {
        snprintf(a->dir, sizeof(a->dir), ".");
        snprintf(a->base, sizeof(a->base), "%s", a->path);
    } else {
        snprintf(a->dir, sizeof(a->dir), "%.*s", slash == a->path ? 1 : (int)(slash - a->path),
                 a->path);
        snprintf(a->base, sizeof(a->base), "%s", slash + 1);
    }
    return 0;
}

int audit_open(struct audit **out, const char *path, const char *db, uint64_t retention,
               uint64_t segment, const uint8_t key[32], char *err, size_t cap)
{
    struct audit *a = calloc(1, sizeof(*a));
    uint64_t repaired = 0;
    char hex[AUDIT_HEX_BYTES];

    *out = NULL;
    if (a == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    a->fd = -1;
    a->held_fd = -1;
    a->sync_fd = -1;
    a->ts.sec = -1;
    a->retention = retention;
    a->segment = segment;
    crypto_generichash(a->key, sizeof(a->key), (const uint8_t *)"parley-audit-pseudonym", 22, key,
                       32);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    if (set_paths(a, path, db) != 0) {
        snprintf(err, cap, "audit log path too long");
        goto fail;
    }
    a->fd = audit_open_live(a->path);
    if (a->fd < 0) {
        snprintf(err, cap, "%s: %s", a->path,
                 errno == EWOULDBLOCK ? "in use by another relay" : strerror(errno));
        goto fail;
    }
    if (audit_resume(a, &repaired, err, cap) != 0 || audit_held_open(a, err, cap) != 0)
        goto fail;
    if (begin(a, EV_start)) {
        struct text t = body_text(a);
        if (repaired > 0)
            put_u64(&t, "repaired_bytes", repaired);
        body_keep(a, &t);
        finish(a);
    }
    a->sync_fd = a->fd;
    if (pthread_create(&a->thread, NULL, sync_main, a) != 0) {
        snprintf(err, cap, "cannot start the audit sync thread");
        goto fail;
    }
    a->thread_started = true;
    prune(a, audit_now_ms() / 1000);
    if (write_all(a, true) != 0) {
        snprintf(err, cap, "%s: cannot write: %s", a->path, strerror(a->fail_errno));
        goto fail;
    }
    held_sync(a);
    sodium_bin2hex(hex, sizeof(hex), a->head, sizeof(a->head));
    log_event(repaired > 0 ? LOG_WARN : LOG_INFO, "audit_opened",
              "\"seq\":%" PRIu64 ",\"hash\":\"%s\",\"repaired_bytes\":%" PRIu64, a->seq, hex,
              repaired);
    *out = a;
    return 0;
fail:
    a->len = a->batch_start = 0; /* nothing of a failed start is written */
    a->batch_n = 0;
    audit_close(a);
    return -1;
}

void audit_close(struct audit *a)
{
    char hex[AUDIT_HEX_BYTES];

    if (a == NULL)
        return;
    if (a->thread_started) {
        record_simple(a, EV_stop, NULL, 0);
        if (write_all(a, true) != 0)
            log_event(LOG_ERROR, "audit_unwritten", "\"bytes\":%zu", a->len);
        held_sync(a);
        pthread_mutex_lock(&a->lock);
        a->stop = true;
        pthread_cond_broadcast(&a->cond);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->thread, NULL);
        fdatasync(a->fd);
        if (a->held_fd >= 0)
            fdatasync(a->held_fd);
        sodium_bin2hex(hex, sizeof(hex), a->head, sizeof(a->head));
        log_event(LOG_INFO, "audit_closed", "\"seq\":%" PRIu64 ",\"hash\":\"%s\"", a->seq, hex);
    }
    if (a->fd >= 0)
        close(a->fd);
    if (a->held_fd >= 0)
        close(a->held_fd);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    sodium_memzero(a->key, sizeof(a->key));
    free(a->buf);
    free(a);
}
