/*
 * The C side of the browser widget: parley/session.h, the in-memory store
 * (store.h) and the sensitive-data guard, exported to the page's
 * JavaScript by emscripten (widget/engine/engine.js is the only caller).
 *
 * Conventions of the boundary:
 *  - times are Unix milliseconds as doubles (exact up to 2^53);
 *  - conversation ids and keys travel as lowercase hex strings;
 *  - functions returning int return a parley_err (0: PARLEY_OK) unless
 *    said otherwise;
 *  - structured results are JSON text (json.h), returned as a
 *    NUL-terminated string owned by the glue and valid until the next
 *    call that returns JSON; byte results (frames, batches, records) are
 *    left in parley_widget_out_ptr()/parley_widget_out_len() until the
 *    next call that sets them;
 *  - one session per module, used from the page's one thread.
 */
#ifndef PARLEY_WIDGET_GLUE_H
#define PARLEY_WIDGET_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/scan.h>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#define WIDGET_API EMSCRIPTEN_KEEPALIVE
#else
#define WIDGET_API
#endif

/* What the page may ask of the guard for a category (guard.c). */
enum widget_guard_action {
    WIDGET_GUARD_ALLOW = 0,   /* say nothing */
    WIDGET_GUARD_WARN = 1,    /* tell the person, send without asking */
    WIDGET_GUARD_CONFIRM = 2, /* send only once the person confirmed */
    WIDGET_GUARD_BLOCK = 3,   /* never send */
    WIDGET_GUARD_REDACT = 4   /* send a copy with the finding replaced */
};

/* glue.c: the installation, the session and the store. */
WIDGET_API int parley_widget_init(void);
WIDGET_API int parley_widget_keys(const uint8_t *secret, size_t len);
WIDGET_API int parley_widget_store_persist(void);
WIDGET_API int parley_widget_store_load(const uint8_t *id, const uint8_t *row, size_t len);
WIDGET_API int parley_widget_next_batch(void);
WIDGET_API double parley_widget_store_rows(const char *table);
WIDGET_API int parley_widget_session_start(const char *pin, size_t pin_len, double now);
WIDGET_API void parley_widget_session_end(void);
WIDGET_API void parley_widget_opened(double now);
WIDGET_API void parley_widget_feed(const uint8_t *frame, size_t len, double now);
WIDGET_API void parley_widget_closed(int untrusted, double retry_ms, double now);
WIDGET_API void parley_widget_tick(double now);
WIDGET_API double parley_widget_deadline(void);
WIDGET_API int parley_widget_connected(void);
WIDGET_API double parley_widget_outbox(void);
WIDGET_API int parley_widget_next_frame(void);
WIDGET_API int parley_widget_consent(const char *accepted, double now);
WIDGET_API int parley_widget_withdraw_purpose(const char *purpose, double now);
WIDGET_API int parley_widget_consent_accepted(const char *purpose);
WIDGET_API int parley_widget_has_consent(void);
WIDGET_API int parley_widget_erase(double now);
WIDGET_API int parley_widget_open(const char *queue, const char *text, double now);
WIDGET_API int parley_widget_send(const char *conv, const char *text, double now);
WIDGET_API int parley_widget_mark_read(const char *conv, double seq, double now);
WIDGET_API int parley_widget_typing(const char *conv, int active, double now);
WIDGET_API int parley_widget_export(const char *conv);
WIDGET_API const char *parley_widget_fingerprint(const char *key_hex);
WIDGET_API const char *parley_widget_sign_pk(void);
WIDGET_API int parley_widget_record_put(const uint8_t *key, size_t key_len, const uint8_t *val,
                                        size_t val_len);
WIDGET_API int parley_widget_record_get(const uint8_t *key, size_t key_len);

/* events.c: what the session says, as JSON. */
WIDGET_API const char *parley_widget_next_event(void);
WIDGET_API const char *parley_widget_notice(double now);
WIDGET_API const char *parley_widget_directory_notice(const uint8_t *dir, size_t len,
                                                      const char *pin, size_t pin_len, double now);
WIDGET_API const char *parley_widget_conversations(void);
WIDGET_API const char *parley_widget_history(const char *conv);

/* The bytes of the last byte result. */
WIDGET_API uintptr_t parley_widget_out_ptr(void);
WIDGET_API size_t parley_widget_out_len(void);
/* The last JSON or text result (also returned by the call that made it). */
WIDGET_API const char *parley_widget_text(void);
/* The English name of a parley_err (a string literal). */
WIDGET_API const char *parley_widget_strerror(int err);

/* guard.c: the widget's policy (one widget_guard_action per category) and the scan. */
WIDGET_API int parley_widget_guard_policy(const uint8_t actions[PARLEY_SCAN_CATEGORY_COUNT]);
WIDGET_API const char *parley_widget_scan(const char *text, size_t len);
/*
 * Special categories (GDPR art. 9) in the customer's text not consented to
 * in conv (32 hex digits; "" : the conversation opened next), as a mask in
 * parley_widget_text(); and the customer's explicit consent to categories
 * (a mask) there, after the page showed wording.
 */
WIDGET_API int parley_widget_special_needed(const char *conv, const char *text);
WIDGET_API int parley_widget_special_consent(const char *conv, double categories,
                                             const char *wording, double now);

/* Shared by the glue's files. */
struct parley_session;
struct json *widget_json(void);
struct parley_session *widget_session(void);
/* The brand id of the session's pin. */
const char *widget_brand_id(void);
/* Unix ms from the page (a double) as the library takes them; 0 for nonsense. */
uint64_t widget_time(double ms);
/* A conversation id from its 32 hex digits; false when it is not that. */
bool widget_conv_id(const char *hex, uint8_t id[16]);

#endif
