/*
 * Internals of the sqlite store, shared by its two files: store_sqlite.c
 * (opening, the writer thread, start-up reads) and store_sqlite_ops.c
 * (what each op does inside the batch's transaction). Nothing outside
 * the sqlite store includes this.
 */
#ifndef RELAY_STORE_SQLITE_H
#define RELAY_STORE_SQLITE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/* The writer's statements (store_sqlite_ops.c). */
enum {
    W_INSERT,
    W_DELETE_FIND,
    W_DELETE,
    W_EXPIRE,
    W_DIRECTORY,
    W_PREKEY_ADD,
    W_PREKEY_DEL,
    W_ERASE_TO,
    W_ERASE_FROM,
    W_ERASE_CONV,
    W_PREKEY_CLEAR,
    W_MEDIUM_SET,
    W_MEDIUM_CLEAR,
    W_OUTBOX_ADD,
    W_OUTBOX_DONE,
    W_META_SET,
    W_FETCH,
    W_PREKEY_COUNT,
    W_PREKEY_FIRST,
    W_MEDIUM_GET,
    W_ORDER_PUT,
    W_ORDER_FIND,
    W_ORDER_PENDING,
    W_RECEIPT_PUT,
    W_RECEIPT_COUNT,
    W_RECEIPT_LIST,
    W_ORDER_EXPIRE_RECEIPTS,
    W_ORDER_EXPIRE,
    W_COUNT
};

struct sqlite_store {
    struct store base;
    sqlite3 *wdb, *rdb;           /* the writer's; the start-up reads' and the outbox's */
    sqlite3_stmt *w[W_COUNT];
    sqlite3_stmt *outbox;
    sqlite3_stmt *page_count, *freelist_count; /* the writer's, for the database's size */
    uint64_t page_size;
    store_wake_fn wake;
    void *wake_arg;
    /* The failure of the batch being committed (writer thread). */
    int err, sys_err;
    char errmsg[128];
};

int sqlite_exec(sqlite3 *db, const char *sql);
/* Prepares the writer's statements on s->wdb. 0, or -1 with a message in err. */
int sqlite_prepare_writer(struct sqlite_store *s, char *err, size_t cap);
/* Runs b in one transaction on the writer thread, filling every op's results. */
void sqlite_commit_batch(struct sqlite_store *s, struct store_batch *b);
uint64_t sqlite_get_be64(const uint8_t *p);

#endif
