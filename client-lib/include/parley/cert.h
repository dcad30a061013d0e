/*
 * Brand-signed objects as their readers check them: agents' certificates,
 * revocation lists and the brand directory. Every verification takes the
 * brand key pinned by the caller; nothing here trusts the relay. Making
 * these objects is the brand's (parley/admin.h).
 */
#ifndef PARLEY_CERT_H
#define PARLEY_CERT_H

#include "parley/common.h"
#include "parley/identity.h"
#include "parley/scan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a certificate (or a request, where noted) says. Plain data. */
typedef struct parley_cert_info {
    char brand_id[PARLEY_MAX_ID + 1];                 /* empty in a request */
    char agent_id[PARLEY_MAX_ID + 1];
    char display_name[PARLEY_MAX_DISPLAY_NAME + 1];   /* UTF-8 */
    uint8_t sign_pk[32];
    uint8_t box_pk[32];
    uint64_t serial;                                  /* 0 in a request */
    uint64_t not_before;                              /* Unix seconds; a request's creation time */
    uint64_t not_after;                               /* Unix seconds, exclusive; 0 in a request */
} parley_cert_info;

/*
 * Ids (brand and agent) are 1..PARLEY_MAX_ID bytes of [a-z0-9._-]; display
 * names 1..PARLEY_MAX_DISPLAY_NAME bytes of valid UTF-8 without control
 * characters. Returns 1 if valid, 0 otherwise.
 */
PARLEY_API int parley_id_valid(const char *id);
PARLEY_API int parley_display_name_valid(const char *name);

typedef struct parley_revlist parley_revlist;

/*
 * Verifies a certificate against the pinned brand key and id at time now,
 * in this order: size, structure, signature (PARLEY_EBADSIG: a certificate
 * signed by another brand's key fails here), brand id (PARLEY_EWRONGBRAND:
 * signed by this key for another brand id), validity window (PARLEY_ENOTYETVALID,
 * PARLEY_EEXPIRED), revocation (PARLEY_EREVOKED, when revs is not NULL).
 * info (may be NULL) is filled on PARLEY_OK and also on EEXPIRED,
 * ENOTYETVALID and EREVOKED so callers can say which certificate failed.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_cert_verify(const uint8_t *buf, size_t len,
                                                          const uint8_t brand_pk[32],
                                                          const char *brand_id, uint64_t now,
                                                          const parley_revlist *revs,
                                                          parley_cert_info *info);

/*
 * Decodes a certificate without checking the signature, for display only.
 * Returns PARLEY_EMALFORMED, PARLEY_ETOOBIG.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_cert_inspect(const uint8_t *buf, size_t len,
                                                           parley_cert_info *info);

/*
 * Verifies a revocation list (signature, brand id) and rejects a version
 * lower than last_seen_version with PARLEY_EROLLBACK. *out is freed with
 * parley_revlist_free().
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_revlist_open(parley_revlist **out,
                                                           const uint8_t *buf, size_t len,
                                                           const uint8_t brand_pk[32],
                                                           const char *brand_id,
                                                           uint64_t last_seen_version);
PARLEY_API void parley_revlist_free(parley_revlist *r);
PARLEY_API uint64_t parley_revlist_version(const parley_revlist *r);
PARLEY_API size_t parley_revlist_count(const parley_revlist *r);
PARLEY_API uint64_t parley_revlist_serial(const parley_revlist *r, size_t i);
PARLEY_API int parley_revlist_contains(const parley_revlist *r, uint64_t serial);

/* Clients warn when a directory they hold has fewer days than this left. */
#define PARLEY_DIRECTORY_WARN_DAYS 7u

/*
 * What a relay checks of a directory, without the directory key: size,
 * structure, signature (PARLEY_EBADSIG), brand id (PARLEY_EWRONGBRAND),
 * version against last_seen_version (PARLEY_EROLLBACK), the embedded
 * revocation list, and last its expiry at time now (Unix seconds):
 * PARLEY_EEXPIRED from expires_at on, and for a directory without one.
 * *version and *expires_at (each may be NULL) are filled on PARLEY_OK and
 * on PARLEY_EEXPIRED, which means every other check passed.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_directory_check(const uint8_t *buf, size_t len,
                                                              const uint8_t brand_pk[32],
                                                              const char *brand_id,
                                                              uint64_t last_seen_version,
                                                              uint64_t now, uint64_t *version,
                                                              uint64_t *expires_at);

typedef struct parley_directory parley_directory;

/*
 * Verifies and opens a directory: the checks of parley_directory_check
 * (PARLEY_EEXPIRED at or after its expiry, at time now), then the sealed
 * content with dir_key (PARLEY_EBADSEAL with a wrong key, PARLEY_EMALFORMED
 * if it does not decode), then every certificate's signature and brand.
 * Certificates that are expired, not yet valid or revoked at time now are
 * kept but flagged. *out is freed with parley_directory_free(). A
 * directory never changes once opened: a reference may be read from any
 * thread.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_directory_open(parley_directory **out,
                                                             const uint8_t *buf, size_t len,
                                                             const uint8_t brand_pk[32],
                                                             const char *brand_id,
                                                             const uint8_t dir_key[32],
                                                             uint64_t last_seen_version,
                                                             uint64_t now);
/* Releases d (or the caller's reference to it). NULL is a no-op. Thread-safe. */
PARLEY_API void parley_directory_free(parley_directory *d);
PARLEY_API uint64_t parley_directory_version(const parley_directory *d);
/* Unix seconds: when the brand issued it, and from when it is refused. */
PARLEY_API uint64_t parley_directory_issued_at(const parley_directory *d);
PARLEY_API uint64_t parley_directory_expires_at(const parley_directory *d);
PARLEY_API uint32_t parley_directory_notice_version(const parley_directory *d);
/* NUL-terminated, owned by d. */
PARLEY_API const char *parley_directory_notice_text(const parley_directory *d);
/* 1 when the brand must keep conversations whose customer asks for erasure (agents then mark them). */
PARLEY_API int parley_directory_keep_on_erasure(const parley_directory *d);
/*
 * The brand's guard policy: *out gets, for each category, the action the
 * brand signed (ALLOW for a category it does not name; BLOCK for an
 * action this library does not know), min_confidence 0 and no mask.
 * Every client applies the stricter of this and its own policy
 * (parley_scan_policy_stricter; parley_session_scan_policy does both).
 */
PARLEY_API void parley_directory_guard_policy(const parley_directory *d, parley_scan_policy *out);
/*
 * How many days devices keep message history (the brand's limit; 0 when
 * it sets none, and then PARLEY_HISTORY_DEFAULT_DAYS applies where the
 * device sets none either), and how many days a conversation kept on a
 * customer's erasure request is kept after it (0: as long as the
 * history retention).
 */
PARLEY_API uint32_t parley_directory_history_days(const parley_directory *d);
PARLEY_API uint32_t parley_directory_legal_hold_days(const parley_directory *d);

/* What a device keeps of its history, in days, when neither the brand nor its host says. */
#define PARLEY_HISTORY_DEFAULT_DAYS 180u
/*
 * The processing purposes the notice names, in the brand's order: purpose
 * i's name (an id, owned by d; NULL for i out of range), whether the
 * service needs it (1) or the customer may refuse it (0), and the sentence
 * the customer is asked about it (UTF-8, owned by d; "" when the brand
 * gave none). A directory from before optional purposes existed has only
 * required ones.
 */
PARLEY_API size_t parley_directory_purpose_count(const parley_directory *d);
PARLEY_API const char *parley_directory_purpose(const parley_directory *d, size_t i);
PARLEY_API int parley_directory_purpose_required(const parley_directory *d, size_t i);
PARLEY_API const char *parley_directory_purpose_description(const parley_directory *d, size_t i);
/* Index of the purpose named name, or -1. */
PARLEY_API int parley_directory_find_purpose(const parley_directory *d, const char *name);
PARLEY_API size_t parley_directory_agent_count(const parley_directory *d);
/*
 * Agent i's certificate info; returns its status at the time given to
 * parley_directory_open(): PARLEY_OK, PARLEY_EEXPIRED, PARLEY_ENOTYETVALID
 * or PARLEY_EREVOKED. PARLEY_EINVAL for i out of range.
 */
PARLEY_API parley_err parley_directory_agent(const parley_directory *d, size_t i,
                                             parley_cert_info *info);
/* Encoded certificate of agent i (borrowed from d), for transfers. */
PARLEY_API const uint8_t *parley_directory_agent_cert(const parley_directory *d, size_t i,
                                                      size_t *len);
/* The revocation list the directory carries (borrowed from d), or NULL. */
PARLEY_API const parley_revlist *parley_directory_revocations(const parley_directory *d);
/* Index of the agent with agent_id, or -1. */
PARLEY_API int parley_directory_find_agent(const parley_directory *d, const char *agent_id);
PARLEY_API size_t parley_directory_queue_count(const parley_directory *d);
PARLEY_API const char *parley_directory_queue_name(const parley_directory *d, size_t i);
/* Number of agents in queue q; agent ids through parley_directory_queue_agent(). */
PARLEY_API size_t parley_directory_queue_size(const parley_directory *d, size_t q);
PARLEY_API const char *parley_directory_queue_agent(const parley_directory *d, size_t q,
                                                    size_t i);

#ifdef __cplusplus
}
#endif
#endif
