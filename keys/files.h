/*
 * parley-keys files: the 8-byte magic that names each kind of object,
 * size-capped reading, and atomic replacement (temp file, fsync, rename,
 * fsync of the directory) so a crash never leaves a partial file.
 */
#ifndef KEYS_FILES_H
#define KEYS_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KEYS_MAGIC_LEN       8u
#define KEYS_MAGIC_KEY       "PRLYKEY1"
#define KEYS_MAGIC_REQUEST   "PRLYREQ1"
#define KEYS_MAGIC_CERT      "PRLYCRT1"
#define KEYS_MAGIC_REVLIST   "PRLYREV1"
#define KEYS_MAGIC_DIRECTORY "PRLYDIR1"

/* Mode of files that hold (encrypted) secrets, and of public outputs. */
#define KEYS_MODE_SECRET 0600
#define KEYS_MODE_PUBLIC 0644

enum keys_kind {
    KEYS_KIND_UNKNOWN = 0,
    KEYS_KIND_KEY,
    KEYS_KIND_REQUEST,
    KEYS_KIND_CERT,
    KEYS_KIND_REVLIST,
    KEYS_KIND_DIRECTORY,
    KEYS_KIND_PIN /* brand public pin file, a text line */
};

/* "key file", "certificate request", ...: for messages. */
const char *keys_kind_name(enum keys_kind kind);

/* The magic of a binary kind, or NULL for the pin file and unknown. */
const char *keys_kind_magic(enum keys_kind kind);

/* The kind a file's first bytes announce; KEYS_KIND_UNKNOWN if none. */
enum keys_kind keys_kind_detect(const uint8_t *buf, size_t len);

/* A whole file in memory; body points past the magic for binary kinds. */
struct keys_file {
    uint8_t *buf;
    size_t len;
    enum keys_kind kind;
    const uint8_t *body;
    size_t body_len;
};

/*
 * Reads path (at most the size limit of any Parley object) and detects its
 * kind. When want is not KEYS_KIND_UNKNOWN, a file of another kind is
 * refused. Prints one error line naming the file and returns -1 on any
 * failure; 0 on success, with f released by keys_file_release().
 */
int keys_file_load(const char *path, enum keys_kind want, struct keys_file *f);

/*
 * Prints why a file of unknown kind is not usable: empty, truncated inside
 * its magic, or not a Parley file at all.
 */
void keys_report_unknown(const char *path, const struct keys_file *f);

/* Wipes and frees what keys_file_load() read. Safe on a zeroed struct. */
void keys_file_release(struct keys_file *f);

/*
 * Reads a text file of at most cap bytes with no NUL byte, as a
 * NUL-terminated string freed with free(). Prints an error and returns -1
 * on failure.
 */
int keys_text_load(const char *path, size_t cap, char **out);

/* 1 if something exists at path (any type, even a dangling link). */
int keys_path_exists(const char *path);

/* Prints "<path>: already exists (use --force)" and returns -1 when path exists. */
int keys_refuse_existing(const char *path);

/*
 * A file written in full to a temp file beside its destination, not yet
 * visible under its name. keys_stage() fills s; then keys_commit() or
 * keys_discard() (each safe to call after the other).
 */
struct keys_staged {
    char *path;
    char *tmp;
};

/* magic may be NULL (text files). Prints an error and returns -1 on failure. */
int keys_stage(struct keys_staged *s, const char *path, const char *magic, const uint8_t *data,
               size_t len, mode_t mode);

/*
 * Renames the temp file onto the destination and syncs the directory. With
 * replace 0 an existing destination is never overwritten. Prints an error
 * and discards the temp file on failure (-1).
 */
int keys_commit(struct keys_staged *s, int replace);

/* Removes the temp file if still there and frees s's strings. */
void keys_discard(struct keys_staged *s);

/* keys_stage() then keys_commit(). */
int keys_write(const char *path, const char *magic, const uint8_t *data, size_t len, mode_t mode,
               int replace);

#endif
