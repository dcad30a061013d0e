/*
 * The files Parley's programs read and write: the 8-byte magic that names
 * each kind of object parley-keys writes (key files, certificate
 * requests, certificates, revocation lists, directories, orders) and the brand
 * pin line; size-capped reading that detects the kind; and atomic
 * replacement (temp file, fsync, rename, fsync of the directory) so a
 * crash never leaves a partial file.
 */
#ifndef PARLEY_COMMON_FILES_H
#define PARLEY_COMMON_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FILES_MAGIC_LEN       8u
#define FILES_MAGIC_KEY       "PRLYKEY1"
#define FILES_MAGIC_REQUEST   "PRLYREQ1"
#define FILES_MAGIC_CERT      "PRLYCRT1"
#define FILES_MAGIC_REVLIST   "PRLYREV1"
#define FILES_MAGIC_DIRECTORY "PRLYDIR1"
#define FILES_MAGIC_ORDER     "PRLYORD1"

/* Mode of files that hold (encrypted) secrets, and of public outputs. */
#define FILES_MODE_SECRET 0600
#define FILES_MODE_PUBLIC 0644

enum files_kind {
    FILES_KIND_UNKNOWN = 0,
    FILES_KIND_KEY,
    FILES_KIND_REQUEST,
    FILES_KIND_CERT,
    FILES_KIND_REVLIST,
    FILES_KIND_DIRECTORY,
    FILES_KIND_PIN, /* brand pin file, a text line (parley/pin.h) */
    FILES_KIND_ORDER /* a brand order (parley-keys brand order) */
};

/* "key file", "certificate request", ...: for messages. */
const char *files_kind_name(enum files_kind kind);

/* The magic of a binary kind, or NULL for the pin file and unknown. */
const char *files_kind_magic(enum files_kind kind);

/* The kind a file's first bytes announce; FILES_KIND_UNKNOWN if none. */
enum files_kind files_kind_detect(const uint8_t *buf, size_t len);

/* A whole file in memory; body points past the magic for binary kinds. */
struct files_object {
    uint8_t *buf;
    size_t len;
    enum files_kind kind;
    const uint8_t *body;
    size_t body_len;
};

/*
 * Reads path and detects its kind. When want is not FILES_KIND_UNKNOWN, a
 * file of another kind is refused, and so is one larger than the biggest
 * object of that kind the library accepts; otherwise the cap is the
 * biggest object of any kind. Prints one error line naming the file and
 * returns -1 on any failure; 0 on success, with f released by
 * files_release().
 */
int files_load(const char *path, enum files_kind want, struct files_object *f);

/*
 * Prints why a file of unknown kind is not usable: empty, truncated inside
 * its magic, or not a Parley file at all.
 */
void files_report_unknown(const char *path, const struct files_object *f);

/* Wipes and frees what files_load() read. Safe on a zeroed struct. */
void files_release(struct files_object *f);

/*
 * Reads a text file of at most cap bytes with no NUL byte, as a
 * NUL-terminated string freed with free(). Prints an error and returns -1
 * on failure.
 */
int files_text_load(const char *path, size_t cap, char **out);

/* 1 if something exists at path (any type, even a dangling link). */
int files_path_exists(const char *path);

/* Prints "<path>: already exists (use --force)" and returns -1 when path exists. */
int files_refuse_existing(const char *path);

/*
 * A file written in full to a temp file beside its destination, not yet
 * visible under its name. files_stage() fills s; then files_commit() or
 * files_discard() (each safe to call after the other).
 */
struct files_staged {
    char *path;
    char *tmp;
};

/* magic may be NULL (text files). Prints an error and returns -1 on failure. */
int files_stage(struct files_staged *s, const char *path, const char *magic, const uint8_t *data,
                size_t len, mode_t mode);

/*
 * Renames the temp file onto the destination and syncs the directory. With
 * replace 0 an existing destination is never overwritten. Prints an error
 * and discards the temp file on failure (-1).
 */
int files_commit(struct files_staged *s, int replace);

/* Removes the temp file if still there and frees s's strings. */
void files_discard(struct files_staged *s);

/* files_stage() then files_commit(). */
int files_write(const char *path, const char *magic, const uint8_t *data, size_t len, mode_t mode,
                int replace);

#endif
