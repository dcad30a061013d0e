/*
 * Parley — common definitions shared by every public header: the export
 * macro, the error enum and the buffer helpers.
 */
#ifndef PARLEY_COMMON_H
#define PARLEY_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PARLEY_BUILDING) && defined(__GNUC__)
#define PARLEY_API __attribute__((visibility("default")))
#else
#define PARLEY_API
#endif

#if defined(__GNUC__)
#define PARLEY_NODISCARD __attribute__((warn_unused_result))
#define PARLEY_DEPRECATED(use) __attribute__((deprecated("use " use)))
#else
#define PARLEY_NODISCARD
#define PARLEY_DEPRECATED(use)
#endif

/*
 * Every fallible function returns a parley_err: 0 on success, otherwise one
 * of the codes below. Cryptographic and trust failures have codes of their
 * own, never confused with bad input. The values are stable: they appear
 * in tests, in error frames and in the tools' exit messages.
 */
typedef enum parley_err {
    PARLEY_OK = 0,
    PARLEY_EINVAL = 1,              /* bad argument from the caller */
    PARLEY_ENOMEM = 2,              /* allocation failed */
    PARLEY_EIO = 3,                 /* file or storage I/O failed */
    PARLEY_EBADSEAL = 4,            /* sealed box does not open with our key */
    PARLEY_EBADPADDING = 5,         /* opened, but the padding is invalid */
    PARLEY_EMALFORMED = 6,          /* not a well-formed Parley object */
    PARLEY_ETOOBIG = 7,             /* over a size limit */
    PARLEY_EBADSIG = 8,             /* signature does not verify */
    PARLEY_EWRONGRECIPIENT = 9,     /* signed for another recipient key */
    PARLEY_EWRONGCONVERSATION = 10, /* signed for another conversation */
    PARLEY_EUNTRUSTED = 11,         /* sender not certified by the pinned brand */
    PARLEY_EEXPIRED = 12,           /* certificate past its validity window */
    PARLEY_ENOTYETVALID = 13,       /* certificate before its validity window */
    PARLEY_EREVOKED = 14,           /* certificate serial is revoked */
    PARLEY_EROLLBACK = 15,          /* version lower than one already seen */
    PARLEY_EPASSPHRASE = 16,        /* wrong passphrase (or damaged secret) */
    PARLEY_EWRONGBRAND = 17,        /* object belongs to another brand */
    PARLEY_EWRONGTYPE = 18,         /* a valid object, but not the kind expected */
    PARLEY_EEXIST = 19,             /* would overwrite an existing file */
    PARLEY_ENOCONSENT = 20,         /* the customer has not consented to the notice */
    PARLEY_ESTATE = 21,             /* not possible in the conversation's state */
    PARLEY_ENOAGENT = 22,           /* no valid agent for that queue or id */
    PARLEY_EREPLAY = 23,            /* a message already received came again */
    PARLEY_ECUSTODY = 24,           /* not the conversation's custodian as the customer acknowledged */
    PARLEY_ENODIRECTORY = 25,       /* no valid brand directory */
    PARLEY_ENOPREKEY = 26,          /* no prekey to seal to */
    PARLEY_EUNBOUND = 27,           /* conversation id not bound to the customer key claimed */
    PARLEY_EPURPOSE = 28,           /* not a purpose of the notice, or not one the customer may refuse */
    PARLEY_ESPECIAL = 29,           /* special-category data (GDPR art. 9) the customer has not
                                       explicitly consented to send in this conversation */
    PARLEY_EPOLICY = 30,            /* the brand's guard policy refuses this text */
    PARLEY_ETIMEOUT = 31,           /* the relay did not answer in time */
    PARLEY_EREFUSED = 32,           /* the relay refused the request (its code says why) */
    PARLEY_ERR_COUNT_ = 33
} parley_err;

/*
 * Returns a short English name for err, e.g. "bad signature". Always a
 * string literal (never NULL, never freed); unknown codes give
 * "unknown error". Thread-safe.
 */
PARLEY_API const char *parley_strerror(parley_err err);

/*
 * Frees a buffer the library returned through an out-parameter (uint8_t
 * ** or char **), wiping it first. len is the length the library
 * returned with that buffer, in the size_t out-parameter beside it; for
 * text it does not count the NUL terminator, which is nothing to wipe
 * (passing it counted as well does no harm). NULL is a no-op.
 * Thread-safe.
 */
PARLEY_API void parley_free(void *buf, size_t len);

/*
 * Initialises libsodium. Every constructor calls it; calling it first
 * from the main thread avoids a race in programs that start threads early.
 * Returns PARLEY_OK, or PARLEY_ENOMEM if libsodium cannot start.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_init(void);

/* Size limits, in bytes. docs/protocol.md explains each. */
#define PARLEY_MAX_ENVELOPE 65536u
#define PARLEY_MAX_TEXT 16384u
#define PARLEY_MAX_CERT 1024u
#define PARLEY_MAX_DIRECTORY (1024u * 1024u)
#define PARLEY_MAX_NOTICE 65536u
#define PARLEY_MAX_PURPOSES 256u    /* purposes of a notice */
#define PARLEY_MAX_PURPOSE_TEXT 1024u /* a purpose's description */
#define PARLEY_MAX_KEYFILE 1024u
#define PARLEY_MAX_ID 64u           /* brand and agent ids */
#define PARLEY_MAX_DISPLAY_NAME 128u
#define PARLEY_PAD_BLOCK 256u

#define PARLEY_KEY_BYTES 32u
#define PARLEY_CONVERSATION_ID_BYTES 16u
#define PARLEY_ENVELOPE_ID_BYTES 16u
#define PARLEY_ROUTING_ID_BYTES 32u

#ifdef __cplusplus
}
#endif
#endif
