/*
 * Internals of the audit log shared by its files: audit.c (recording),
 * audit_file.c (the files: segments, resuming, the held record, finding
 * the store's entries already written) and audit_chain.c (verifying).
 * Nothing outside the audit module includes this.
 */
#ifndef RELAY_AUDIT_IMPL_H
#define RELAY_AUDIT_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "audit.h"

/* The fixed tail of every line: ,"prev":"<64 hex>","hash":"<64 hex>"} */
#define TAIL_PREV       9
#define TAIL_LEN        (TAIL_PREV + 64 + 10 + 64 + 2)
#define HASH_MEMBER_LEN (9 + 64 + 1) /* ,"hash":"<64 hex>" */

/*
 * Every event the relay records. Those from `stored` on record a change
 * to the store and reach the log through the store's outbox (audit.h,
 * audit_export); the others are recorded by the loop as they happen.
 */
#define AUDIT_EVENTS(X)                                                                            \
    X(segment)                                                                                     \
    X(start) X(stop) X(gap) X(pruned) X(conn_open) X(conn_close) X(auth) X(delivered) X(stored)    \
        X(acked) X(expired) X(erased) X(directory) X(order)

enum audit_event {
#define X(n) EV_##n,
    AUDIT_EVENTS(X)
#undef X
        EV_COUNT
};
#define EV_FIRST_STORE EV_stored

/* Unix milliseconds on the relay's clock: entry times, segments and retention. */
int64_t audit_now_ms(void);

extern const char *const audit_event_names[EV_COUNT];
/* The event named by s[0..n), or EV_COUNT. */
enum audit_event audit_event_of(const char *s, size_t n);

/*
 * Entries recorded but not yet in the file: what a crash would lose. The
 * store's entries are not counted: its outbox keeps them until the file
 * has them. Written to the held record while the file refuses writes.
 */
struct audit_held {
    uint64_t first_seq, last_seq;   /* chained, not written (0: none) */
    int64_t held_since, held_until; /* Unix ms of the entries counted in n */
    int64_t drop_since, drop_until; /* ... and in dropped */
    uint64_t n[EV_COUNT];           /* chained, not written */
    uint64_t dropped[EV_COUNT];     /* never chained: over the memory limit */
};

struct ts_cache {
    int64_t sec;
    char base[24];
};

struct audit {
    int fd;
    int held_fd; /* the held record, .<base>.held, rewritten in place */
    char path[512];
    char dir[512];
    char base[512];
    uint8_t key[crypto_shorthash_KEYBYTES]; /* pseudonyms: SipHash-2-4 */
    uint64_t retention, segment;            /* seconds */
    uint64_t seq;                           /* last entry recorded */
    uint64_t file_seq;                      /* last entry in the files when opened */
    uint8_t head[AUDIT_HASH_BYTES];         /* the last sealed batch's hash */
    char head_hex[AUDIT_HEX_BYTES];
    uint64_t seg_first_seq;
    int64_t seg_start; /* Unix seconds of the live segment's first entry */
    uint64_t size;     /* bytes of the live file known written */
    /* Recorded, not yet written; the entries from batch_start on await their batch's hash. */
    char *buf;
    size_t len, cap;
    size_t batch_start;
    uint32_t batch_n;
    uint64_t sealed_seq; /* the last entry of the last batch sealed */
    struct audit_held held;
    uint64_t held_version, held_written; /* changes to held / the one in the record */
    bool held_on_disk;                   /* the record names entries */
    bool drop_crash;                     /* dropped holds what a crash lost (from the record) */
    uint64_t retry_after_ms;
    bool failing;
    int fail_errno;
    int64_t fail_since_ms;
    uint64_t lost_total; /* entries declared lost by gap entries since start */
    /* The store's outbox: the last entry chained. */
    struct audit_pos exported;
    /* The entry being built: its body, then its line. */
    char body[AUDIT_LINE_MAX];
    size_t body_len;
    bool body_bad;
    enum audit_event body_event;
    int64_t body_ms;
    char line[AUDIT_LINE_MAX];
    struct ts_cache ts;
    /* Sync thread. */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int sync_fd;
    bool dirty, syncing, stop, thread_started;
    struct audit_pos dirty_pos;  /* outbox position written, not yet synced */
    struct audit_pos synced_pos; /* outbox position known synced */
};

/* audit.c */
/* Ends the batch being recorded (its last line takes prev and the batch's hash). */
void audit_seal(struct audit *a);
void audit_set_head(struct audit *a, const uint8_t h[AUDIT_HASH_BYTES]);
void audit_start_segment(struct audit *a, int64_t now);
void audit_record_gap(struct audit *a, const char *why, const uint64_t *counts, int64_t since,
                      int64_t until);

/* audit_file.c */
/* The last sealed entry of fd's first size bytes, verified with its batch; *end just after it. */
int audit_last_batch(int fd, uint64_t size, struct audit_line *l, uint64_t *end);
int audit_file_last_entry(const char *path, struct audit_line *l);
/* The closed segments' first seqs, oldest first (malloc'd). */
size_t audit_list_segments(const struct audit *a, uint64_t **out);
void audit_segment_path(const struct audit *a, uint64_t first_seq, char *out, size_t cap);
void audit_fsync_dir(const struct audit *a);
int audit_open_live(const char *path);
/* Reads the live file's state, repairing a torn last line. 0 or -1 with err. */
int audit_resume(struct audit *a, uint64_t *repaired, char *err, size_t cap);
/* Opens the held record and carries what it says a crash lost, to be recorded as a gap. 0 or -1. */
int audit_held_open(struct audit *a, char *err, size_t cap);
/* Rewrites the held record in place (empty when nothing waits). 0 or -1. */
int audit_held_save(struct audit *a);

#endif
