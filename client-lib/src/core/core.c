/*
 * The core as an object: start-up from the store, timers and deadline,
 * accessors.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

#define RETENTION_SWEEP_MS (3600u * 1000u)   /* history retention is applied hourly */

static void send_receipts(struct parley__core *c, uint64_t now)
{
    size_t n = c->n_receipts;

    c->n_receipts = 0;
    for (size_t i = 0; i < n; i++) {
        Parley__Payload p = PARLEY__PAYLOAD__INIT;
        Parley__Receipt r = PARLEY__RECEIPT__INIT;
        struct conv cv;

        if (conv_load(c, c->receipts[i], &cv) != PARLEY_OK)
            continue;
        if (cv.state == PARLEY_CONV_ACTIVE || cv.state == PARLEY_CONV_QUEUED) {
            r.kind = PARLEY__RECEIPT__KIND__DELIVERED;
            r.up_to_seq = c->receipt_seq[i];
            p.body_case = PARLEY__PAYLOAD__BODY_RECEIPT;
            p.receipt = &r;
            /* An agent who has not claimed stays silent: the customer learns nothing of the queue. */
            if (cv.state == PARLEY_CONV_ACTIVE)
                send_now(c, &cv, &p, NULL, 0, NULL, now);
        }
        conv_free(&cv);
    }
}

void parley__core_tick(struct parley__core *c, uint64_t now)
{
    c->now = now;
    if (c->wiped)
        return;
    flush_acked(c);     /* joins the held group: one commit for both */
    settle_received(c); /* before the receipts it makes due */
    if (now >= c->next_sweep) {
        sweep_retention(c, now);
        c->next_sweep = now + RETENTION_SWEEP_MS;
    }
    directory_expiry_check(c, now);
    if (c->agent && now >= c->mt_next)
        mt_maintain(c, now, false);
    if (c->prekey_retry_at != 0 && now >= c->prekey_retry_at && c->net == NET_READY) {
        c->prekey_retry_at = 0;
        flush_pending(c, now);
    }
    if (c->n_receipts > 0)
        send_receipts(c, now);
    pump_outbox(c, now);
}

uint64_t parley__core_deadline(const struct parley__core *c)
{
    uint64_t d = c->next_sweep;

    if (c->n_receipts > 0 || c->n_acked > 0 || c->vault->held)
        return 0;
    if (directory_expiry_deadline(c) < d)
        d = directory_expiry_deadline(c);
    if (c->agent && c->mt_next < d)
        d = c->mt_next;
    if (c->net != NET_READY)
        return d;
    if (c->prekey_retry_at != 0 && c->prekey_retry_at < d)
        d = c->prekey_retry_at;
    for (size_t i = 0; i < c->n_out; i++)
        if (!c->out[i].in_flight && c->out[i].retry_at < d)
            d = c->out[i].retry_at;
    return d;
}

struct row_scan {
    struct parley__core *c;
    uint64_t max_row;
};

uint64_t row_of(const uint8_t *key, size_t len)
{
    uint64_t row = 0;

    for (size_t i = 0; i < len && i < 8; i++)
        row = (row << 8) | key[i];
    return row;
}

static int load_outbox(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                       size_t val_len)
{
    struct row_scan *s = arg;
    Parley__OutboxEntry *e;
    struct out_item *it;

    if (key_len != 8)
        return 0;
    if (row_of(key, 8) > s->max_row)
        s->max_row = row_of(key, 8);
    e = parley__outbox_entry__unpack(NULL, val_len, val);
    if (e == NULL || !parley__len_is(e->envelope_id, 16) ||
        !parley__len_is(e->conversation_id, 16) || e->envelope.len == 0 ||
        (it = out_add(s->c)) == NULL) {
        if (e != NULL)
            parley__outbox_entry__free_unpacked(e, NULL);
        return 0;
    }
    it->key = row_of(key, 8);
    memcpy(it->envelope_id, e->envelope_id.data, 16);
    memcpy(it->conv, e->conversation_id.data, 16);
    it->seq = e->seq;
    it->env = malloc(e->envelope.len);
    if (it->env != NULL) {
        memcpy(it->env, e->envelope.data, e->envelope.len);
        it->env_len = e->envelope.len;
    } else {
        s->c->n_out--;
    }
    parley__outbox_entry__free_unpacked(e, NULL);
    return 0;
}

static int max_row(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                   size_t val_len)
{
    struct row_scan *s = arg;

    if (key_len == 8 && row_of(key, 8) > s->max_row)
        s->max_row = row_of(key, 8);
    return 0;
}

static parley_err load_identity(struct parley__core *c, const struct parley__core_config *cfg)
{
    static const uint8_t self[] = "self";
    uint8_t *seed = NULL;
    size_t len = 0;
    parley_err err;

    if (cfg->agent_id != NULL)
        return parley_identity_from_seed(&c->id, cfg->agent_id->secret->sign_sk);
    err = parley__vault_get(c->vault, "identity", self, 4, &seed, &len);
    if (err == PARLEY_OK) {
        err = len == 32 ? parley_identity_from_seed(&c->id, seed) : PARLEY_EIO;
        parley_free(seed, len);
        return err;
    }
    if (err != PARLEY_EINVAL)
        return err;
    /* First use: a new customer identity, kept in the store. */
    err = parley_identity_generate(&c->id);
    if (err == PARLEY_OK)
        err = parley__vault_put(c->vault, "identity", self, 4, c->id->secret->sign_sk, 32);
    return err;
}

/* Agents: the certificate must be the brand's, valid now, and for this identity. */
static parley_err load_agent_cert(struct parley__core *c, const struct parley__core_config *cfg,
                                  uint64_t now)
{
    parley_err err = parley_cert_verify(cfg->agent_cert, cfg->agent_cert_len, c->brand_pk,
                                        c->brand_id, now / 1000u, NULL, &c->cert_info);

    if (err == PARLEY_OK &&
        sodium_memcmp(c->cert_info.sign_pk, parley_identity_sign_pk(c->id), 32) != 0)
        err = PARLEY_EUNTRUSTED;
    if (err == PARLEY_OK && !buf_set(&c->cert, cfg->agent_cert, cfg->agent_cert_len))
        err = PARLEY_ENOMEM;
    return err;
}

/* What the store's meta table keeps: the directory held, an erasure request, consent. */
static void load_meta(struct parley__core *c, uint64_t now)
{
    uint8_t *val = NULL;
    size_t len = 0;

    if (parley__vault_get(c->vault, "meta", (const uint8_t *)"directory", 9, &val, &len) ==
        PARLEY_OK) {
        directory_install(c, val, len, now, false); /* kept even if expired; refused if damaged */
        parley_free(val, len);
        directory_expiry_check(c, now);
    }
    if (parley__vault_get(c->vault, "meta", (const uint8_t *)"erase", 5, &val, &len) ==
        PARLEY_OK) {
        buf_set(&c->erase_request, val, len);
        parley_free(val, len);
    }
    if (parley__vault_get(c->vault, "meta", (const uint8_t *)"consent", 7, &val, &len) ==
        PARLEY_OK) {
        buf_set(&c->consent, val, len);
        c->consent_version = consent_version_of(&c->consent);
        parley_free(val, len);
    }
}

/* The outbox, and the next free row key of outbox, pending and history. */
static parley_err load_rows(struct parley__core *c)
{
    struct row_scan rs = {c, 0};
    parley_err err = parley__vault_scan(c->vault, "outbox", NULL, 0, load_outbox, &rs);

    if (err == PARLEY_OK)
        err = parley__vault_scan(c->vault, "pending", NULL, 0, max_row, &rs);
    c->next_row = rs.max_row + 1;
    return err;
}

parley_err parley__core_new(struct parley__core **out, const struct parley__core_config *cfg,
                            uint64_t now)
{
    struct parley__core *c = calloc(1, sizeof(*c));
    parley_err err;

    *out = NULL;
    if (c == NULL)
        return PARLEY_ENOMEM;
    c->vault = cfg->vault;
    memcpy(c->brand_pk, cfg->brand_pk, 32);
    c->dir_key = sodium_malloc(32);
    if (c->dir_key == NULL || cfg->directory_key == NULL) {
        err = c->dir_key == NULL ? PARLEY_ENOMEM : PARLEY_EINVAL;
        goto fail;
    }
    memcpy(c->dir_key, cfg->directory_key, 32);
    if (!parley__copy_str(c->brand_id, sizeof(c->brand_id), cfg->brand_id)) {
        err = PARLEY_EINVAL;
        goto fail;
    }
    err = load_identity(c, cfg);
    if (err == PARLEY_OK && cfg->agent_id != NULL) {
        c->agent = true;
        err = load_agent_cert(c, cfg, now);
    }
    if (err == PARLEY_OK && cfg->publish_directory_len > 0 &&
        !buf_set(&c->publish_dir, cfg->publish_directory, cfg->publish_directory_len))
        err = PARLEY_ENOMEM;
    if (err != PARLEY_OK)
        goto fail;
    c->vault->settle = settle_hook;
    c->vault->settle_arg = c;
    c->keep_on_erasure = cfg->keep_on_erasure;
    c->history_retention_ms = cfg->history_retention_ms;
    c->now = now;
    c->next_sweep = now; /* once soon after start, then hourly */
    load_meta(c, now);
    mt_maintain(c, now, false); /* secrets past their grace go even before connecting */
    err = load_rows(c);
    if (err != PARLEY_OK)
        goto fail;
    *out = c;
    return PARLEY_OK;
fail:
    parley__core_free(c);
    return err;
}

void parley__core_free(struct parley__core *c)
{
    if (c == NULL)
        return;
    flush_acked(c);
    settle_received(c);
    if (c->vault->settle_arg == c)
        c->vault->settle = NULL;
    free(c->acked);
    free(c->held);
    free(c->acks);
    parley_identity_free(c->id);
    sodium_free(c->dir_key);
    buf_free(&c->cert);
    buf_free(&c->publish_dir);
    buf_free(&c->consent);
    buf_free(&c->erase_request);
    parley_directory_free(c->dir);
    buf_free(&c->dir_bytes);
    for (size_t i = 0; i < c->n_out; i++)
        free(c->out[i].env);
    free(c->out);
    for (size_t i = c->frame_head; i < c->n_frames; i++)
        free(c->frames[i].p);
    free(c->frames);
    event_clear(&c->current);
    for (size_t i = c->event_head; i < c->n_events; i++)
        event_clear(&c->events[i]);
    free(c->events);
    special_next_free(c);
    free(c);
}

const uint8_t *parley__core_sign_pk(const struct parley__core *c)
{
    return parley_identity_sign_pk(c->id);
}

const parley_directory *parley__core_directory(const struct parley__core *c)
{
    return c->dir;
}

parley_err parley__core_directory_ref(struct parley__core *c, uint64_t now, parley_directory **out)
{
    if (c->dir == NULL)
        return PARLEY_ENODIRECTORY;
    if (!dir_valid(c, now))
        return PARLEY_EEXPIRED;
    /* Shared, never copied: a directory does not change once opened. */
    *out = parley__directory_ref(c->dir);
    return PARLEY_OK;
}

size_t parley__core_outbox_size(const struct parley__core *c)
{
    return c->n_out;
}
