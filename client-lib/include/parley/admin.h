/*
 * Brand administration: what a brand's key holder does with the brand
 * key, and an agent's half of it. An agent asks for a certificate with a
 * request signed by its own key; the brand issues certificates, signs
 * revocation lists and assembles the directory its clients and relays
 * fetch; it derives the directory key it hands to its clients with the
 * pin (parley_pin_format() in parley/pin.h writes that line).
 *
 * Widgets, agent clients and relays do not need these calls: they verify
 * what the brand signed with parley/cert.h. parley-keys is built on them.
 */
#ifndef PARLEY_ADMIN_H
#define PARLEY_ADMIN_H

#include "parley/common.h"
#include "parley/identity.h"
#include "parley/cert.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * An agent's certificate request, signed by the agent's own identity so the
 * brand knows the requester holds the keys. Secrets never leave the agent.
 * *out is freed with parley_free(). Returns PARLEY_EINVAL for a bad id or
 * name, PARLEY_ENOMEM.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_request_create(const parley_identity *agent,
                                                             const char *agent_id,
                                                             const char *display_name, uint64_t now,
                                                             uint8_t **out, size_t *out_len);

/*
 * Verifies a request's self-signature and fills info (brand_id empty,
 * serial 0, not_before = creation time). Returns PARLEY_EMALFORMED (also
 * for another kind of object), PARLEY_ETOOBIG, PARLEY_EBADSIG.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_request_verify(const uint8_t *buf, size_t len,
                                                             parley_cert_info *info);

/*
 * Issues a certificate for info with the brand key. Checks ids, name,
 * window (not_before < not_after). *out freed with parley_free().
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_cert_issue(const parley_identity *brand,
                                                         const parley_cert_info *info,
                                                         uint8_t **out, size_t *out_len);

/* Builds and signs a revocation list. serials may be NULL when n is 0. */
PARLEY_API PARLEY_NODISCARD parley_err parley_revlist_build(const parley_identity *brand,
                                                            const char *brand_id, uint64_t version,
                                                            const uint64_t *serials, size_t n,
                                                            uint64_t issued_at, uint8_t **out,
                                                            size_t *out_len);

/* What a brand admin puts into a directory. All pointers borrowed. */
typedef struct parley_queue_spec {
    const char *name;
    const char *const *agent_ids;
    size_t n_agent_ids;
} parley_queue_spec;

typedef struct parley_directory_spec {
    const char *brand_id;
    uint64_t version;
    const uint8_t *const *certs; /* encoded certificates */
    const size_t *cert_lens;
    size_t n_certs;
    const uint8_t *revocations; /* encoded revocation list, or NULL */
    size_t revocations_len;
    const char *notice_text; /* UTF-8, at most PARLEY_MAX_NOTICE bytes */
    uint32_t notice_version;
    /*
     * The processing purposes the notice names (ids, at most
     * PARLEY_MAX_PURPOSES, no two alike), each required for the service
     * unless purpose_optional says otherwise (see the end of the struct).
     */
    const char *const *purposes;
    size_t n_purposes;
    const parley_queue_spec *queues;
    size_t n_queues;
    uint64_t issued_at;
    /*
     * Unix seconds from which clients and relays refuse the directory; after
     * issued_at. 0: issued_at + PARLEY_DIRECTORY_DEFAULT_DAYS days.
     */
    uint64_t expires_at;
    int keep_on_erasure; /* the brand must keep conversations a customer asks to erase */
    /*
     * Per purpose (n_purposes entries each; either array may be NULL):
     * non-zero when the customer may refuse it (marketing, satisfaction
     * surveys, profiling...), and the sentence the customer is asked
     * (UTF-8, at most PARLEY_MAX_PURPOSE_TEXT bytes; NULL or "": none).
     * Without purpose_optional every purpose is required.
     */
    const int *purpose_optional;
    const char *const *purpose_descriptions;
    /*
     * The brand's guard policy (NULL: none; its min_confidence and mask
     * are not signed), devices' history retention in days (0: not set),
     * and how many days a conversation kept on erasure is kept after the
     * request (non-zero implies keep_on_erasure).
     */
    const parley_scan_policy *guard;
    uint32_t history_days;
    uint32_t legal_hold_days;
} parley_directory_spec;

/* How long a directory is valid when its builder does not say. */
#define PARLEY_DIRECTORY_DEFAULT_DAYS 30u

/*
 * Assembles and signs a directory. Every certificate must verify under the
 * brand's own key (PARLEY_EBADSIG, PARLEY_EWRONGBRAND otherwise); expired
 * or revoked ones may be listed and are flagged to readers. What people
 * read (certificates with names, notice, purposes, queues) is sealed under
 * the brand's directory key; brand id, version, expiry and revocations stay
 * readable, for relays. PARLEY_EINVAL also for an expires_at not after
 * issued_at, and for a purpose that is not an id, named twice, or with
 * a description that is not text or too long; or a guard action out of range.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_directory_build(const parley_identity *brand,
                                                              const parley_directory_spec *spec,
                                                              uint8_t **out, size_t *out_len);

/*
 * The brand's directory key: derived from the brand key, handed to the
 * brand's clients (widget, agents) with the pin, never to a relay. Pure.
 */
PARLEY_API void parley_directory_key(const parley_identity *brand, uint8_t out[32]);

/*
 * Brand orders (docs/protocol.md §2.8): the brand asks the relay and every
 * agent client of the brand to erase (GDPR art. 17) or export (art. 15)
 * what they hold about one customer key, without the customer's device.
 * Each agent client answers with a receipt signed by its own key.
 */
typedef enum parley_order_kind {
    PARLEY_ORDER_ERASE = 0,
    PARLEY_ORDER_EXPORT = 1
} parley_order_kind;

typedef enum parley_order_outcome {
    PARLEY_ORDER_DONE = 0,       /* carried out (the counts may be zero: nothing held) */
    PARLEY_ORDER_KEPT = 1,       /* erase: kept under the brand's legal hold (keep_on_erasure) */
    PARLEY_ORDER_FAILED = 2      /* could not be carried out: PARLEY_EV_ORDER with an error (no
                                    receipt says it in this version) */
} parley_order_outcome;

#define PARLEY_ORDER_ID_BYTES 16u
#define PARLEY_ORDER_MAX_DAYS 90u      /* longest validity of an order */
#define PARLEY_MAX_ORDER 512u          /* an encoded order */
#define PARLEY_MAX_ORDER_RECEIPT (PARLEY_MAX_CERT + 256u)

typedef struct parley_order_info {
    char brand_id[PARLEY_MAX_ID + 1];
    uint8_t order_id[PARLEY_ORDER_ID_BYTES];
    parley_order_kind kind;
    uint8_t customer_sign_pk[32];
    uint64_t issued_at, expires_at;    /* Unix seconds */
} parley_order_info;

typedef struct parley_order_receipt_info {
    uint8_t order_id[PARLEY_ORDER_ID_BYTES];
    parley_cert_info agent;            /* the answering agent's certificate, authentic */
    parley_order_outcome outcome;
    uint32_t conversations;            /* conversations with the customer it held */
    uint64_t messages;                 /* history entries erased or exported */
    uint64_t time_ms;                  /* the agent's clock */
} parley_order_receipt_info;

/*
 * Builds and signs an order with a fresh random order id. The validity is
 * [issued_at, expires_at), at most PARLEY_ORDER_MAX_DAYS days. *out freed
 * with parley_free(). PARLEY_EINVAL (bad id, kind or window), PARLEY_ENOMEM.
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_order_build(const parley_identity *brand,
                                                          const char *brand_id,
                                                          parley_order_kind kind,
                                                          const uint8_t customer_sign_pk[32],
                                                          uint64_t issued_at, uint64_t expires_at,
                                                          uint8_t **out, size_t *out_len);

/*
 * Verifies an order under brand_pk and fills info. brand_id NULL: any;
 * now 0: expiry not judged; brand_pk NULL: nothing judged, the fields
 * read only (to show a file). Returns PARLEY_EMALFORMED, PARLEY_ETOOBIG,
 * PARLEY_EBADSIG, PARLEY_EWRONGBRAND, PARLEY_EEXPIRED (now >= expires_at).
 */
PARLEY_API PARLEY_NODISCARD parley_err parley_order_verify(const uint8_t *buf, size_t len,
                                                           const uint8_t brand_pk[32],
                                                           const char *brand_id, uint64_t now,
                                                           parley_order_info *info);

/*
 * Verifies an agent's receipt: its certificate signed by brand_pk for
 * brand_id (NULL: any; its validity and revocation are the caller's to
 * judge, against info->agent), the receipt signed by that certificate's
 * key. Returns PARLEY_EMALFORMED, PARLEY_ETOOBIG, PARLEY_EBADSIG,
 * PARLEY_EWRONGBRAND.
 */
PARLEY_API PARLEY_NODISCARD parley_err
parley_order_receipt_verify(const uint8_t *buf, size_t len, const uint8_t brand_pk[32],
                            const char *brand_id, parley_order_receipt_info *info);

#ifdef __cplusplus
}
#endif
#endif
