/*
 * Reading the files parley-keys writes: the brand's client pin and the
 * magic-framed binary objects (key files, certificates, directories).
 * Shared by parley-customer and parley-demo.
 */
#ifndef PARLEY_CUSTOMER_LOADFILE_H
#define PARLEY_CUSTOMER_LOADFILE_H

#include <stddef.h>
#include <stdint.h>

#include <parley/parley.h>

#define LOADFILE_MAGIC_LEN       8
#define LOADFILE_MAGIC_KEY       "PRLYKEY1"
#define LOADFILE_MAGIC_CERT      "PRLYCRT1"
#define LOADFILE_MAGIC_DIRECTORY "PRLYDIR1"

/*
 * The pinned brand: its id, Ed25519 public key, and the directory key that
 * opens its directory's sealed content. Wipe with loadfile_pin_wipe().
 */
struct loadfile_pin {
    char brand_id[PARLEY_MAX_ID + 1];
    uint8_t brand_pk[32];
    uint8_t dir_key[32];
};

/*
 * Reads and parses a client pin file, `parley-brand-v1 <id> <64 lowercase
 * hex> <64 lowercase hex>` on one line. A relay pin (no directory key) is
 * refused: clients cannot read the directory without the key. Returns 0,
 * or -1 after printing why on stderr.
 */
int loadfile_pin(const char *path, struct loadfile_pin *pin);

/* Wipes a pin once its directory key has been handed to the client. */
void loadfile_pin_wipe(struct loadfile_pin *pin);

/*
 * Reads a binary object file, checks its 8-byte magic and returns the
 * object without it: *out (malloc'd, at least 1 byte, wiped and freed by
 * loadfile_release) holds *len bytes, at most cap. Returns 0, or -1 after
 * printing why on stderr.
 */
int loadfile_object(const char *path, const char *magic, size_t cap, uint8_t **out, size_t *len);

/* Wipes and frees what loadfile_object returned. NULL is a no-op. */
void loadfile_release(uint8_t *buf, size_t len);

#endif
