/*
 * Writes the seed corpora of the fuzz targets: valid Parley objects made
 * from the fixed seeds of fixture.h (so the targets accept them and the
 * fuzzer starts from deep inside each decoder), each object's near misses
 * (wrong brand, wrong key, revoked, expired, wrong recipient, wrong
 * conversation, bad signature, bad padding), and hostile bytes (empty,
 * 10,000 levels of nested length-delimited fields, truncated and
 * bit-flipped objects, one byte over a size limit).
 *
 * Usage: make-corpus OUTDIR  (writes OUTDIR/<target>/<name>)
 * Seals are randomised, so every run writes different bytes for the
 * sealed objects; all of them open with the fixed recipient key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "corpus_out.h"
#include "fixture.h"

static const char *const targets[] = {
    "envelope", "sealed", "inner", "cert", "request", "revlist", "directory", "keyfile",
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);

    if (p == NULL) {
        fprintf(stderr, "make-corpus: out of memory\n");
        exit(1);
    }
    return p;
}

/* The near misses every valid object gets: cut in half, one bit flipped near the end. */
static void put_damaged(const char *target, const char *name, const uint8_t *buf, size_t len)
{
    char n2[256];
    uint8_t *copy;

    if (len < 2)
        return;
    snprintf(n2, sizeof(n2), "%s-truncated", name);
    put(target, n2, buf, len / 2);
    copy = xmalloc(len);
    memcpy(copy, buf, len);
    copy[len - 2] ^= 0x04;
    snprintf(n2, sizeof(n2), "%s-bitflip", name);
    put(target, n2, copy, len);
    free(copy);
}

/* Appends v as a protobuf varint at p; returns the bytes written. */
static size_t varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;

    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
    return n;
}

/*
 * depth levels of one length-delimited field with the given tag byte, each
 * holding the next. Built from the inside out at the end of a buffer.
 */
static uint8_t *nested(uint8_t tag, size_t depth, size_t *out_len)
{
    size_t cap = depth * 12 + 16, pos = cap;
    uint8_t *buf = xmalloc(cap);

    for (size_t i = 0; i < depth; i++) {
        uint8_t v[10];
        size_t inner = cap - pos, vn = varint(v, inner);

        pos -= vn;
        memcpy(buf + pos, v, vn);
        buf[--pos] = tag;
    }
    memmove(buf, buf + pos, cap - pos);
    *out_len = cap - pos;
    return buf;
}

/* Hostile bytes that go into every corpus. */
static void put_common(const char *target)
{
    static const uint8_t ff[64] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    };
    /* A length far past the end of the buffer, and a group tag protobuf-c refuses. */
    static const uint8_t huge_len[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
    static const uint8_t group[] = {0x0b, 0x0a, 0x00, 0x0c};
    size_t len;
    uint8_t *buf;

    put(target, "empty", (const uint8_t *)"", 0);
    put(target, "ff", ff, sizeof(ff));
    put(target, "huge-length", huge_len, sizeof(huge_len));
    put(target, "group", group, sizeof(group));
    buf = nested(0x0a, 10000, &len);
    put(target, "nested-10000-field1", buf, len);
    free(buf);
    buf = nested(0x12, 10000, &len);
    put(target, "nested-10000-field2", buf, len);
    free(buf);
}

static void put_over_limit(const char *target, size_t limit)
{
    uint8_t *buf = xmalloc(limit + 1);

    memset(buf, 0, limit + 1);
    put(target, "over-limit", buf, limit + 1);
    free(buf);
}

/* Signs an encoded body under domain and packs the {body, signature} wrapper. */
static void wrap(const ProtobufCMessage *body, const parley_identity *signer, const char *domain,
                 ProtobufCMessage *wrapper, ProtobufCBinaryData *w_body,
                 ProtobufCBinaryData *w_sig, uint8_t **out, size_t *out_len)
{
    uint8_t sig[64];
    uint8_t *bbuf;
    size_t blen;

    fixture_check(parley__pack(body, &bbuf, &blen), "pack body");
    fixture_check(parley__sign_raw(signer->secret->sign_sk, domain, bbuf, blen, sig), "sign");
    *w_body = (ProtobufCBinaryData){blen, bbuf};
    *w_sig = (ProtobufCBinaryData){sizeof(sig), sig};
    fixture_check(parley__pack(wrapper, out, out_len), "pack wrapper");
    *w_body = (ProtobufCBinaryData){0, NULL};
    *w_sig = (ProtobufCBinaryData){0, NULL};
    free(bbuf);
}

struct world {
    const struct fixture *f;
    parley_identity *other_brand, *alice, *bob, *customer;
    uint8_t *alice_cert, *bob_cert, *revoked_cert, *expired_cert;
    size_t alice_cert_len, bob_cert_len, revoked_cert_len, expired_cert_len;
    uint8_t *revlist;
    size_t revlist_len;
};

static uint8_t *issue(const parley_identity *signer, const char *brand_id, const char *agent_id,
                      const char *name, const parley_identity *agent, uint64_t serial,
                      uint64_t not_before, uint64_t not_after, size_t *len)
{
    parley_cert_info info;
    uint8_t *out = NULL;

    memset(&info, 0, sizeof(info));
    snprintf(info.brand_id, sizeof(info.brand_id), "%s", brand_id);
    snprintf(info.agent_id, sizeof(info.agent_id), "%s", agent_id);
    snprintf(info.display_name, sizeof(info.display_name), "%s", name);
    memcpy(info.sign_pk, parley_identity_sign_pk(agent), 32);
    memcpy(info.box_pk, parley_identity_box_pk(agent), 32);
    info.serial = serial;
    info.not_before = not_before;
    info.not_after = not_after;
    fixture_check(parley_cert_issue(signer, &info, &out, len), "cert issue");
    return out;
}

static void corpus_certs(struct world *w)
{
    const uint64_t now = FIXTURE_NOW, day = FIXTURE_DAY;
    uint8_t *c;
    size_t len;

    w->alice_cert = issue(w->f->brand, FIXTURE_BRAND_ID, "alice", "Alice Martin", w->alice, 42,
                          now - 30 * day, now + 365 * day, &w->alice_cert_len);
    w->bob_cert = issue(w->f->brand, FIXTURE_BRAND_ID, "bob.n", "Bob N\xc3\xba\xc3\xb1\x65z \xe6\x97\xa5",
                        w->bob, 43, now - day, now + 30 * day, &w->bob_cert_len);
    w->revoked_cert = issue(w->f->brand, FIXTURE_BRAND_ID, "carol", "Carol", w->bob, 7,
                            now - 30 * day, now + 30 * day, &w->revoked_cert_len);
    w->expired_cert = issue(w->f->brand, FIXTURE_BRAND_ID, "alice", "Alice Martin", w->alice, 44,
                            now - 400 * day, now - 35 * day, &w->expired_cert_len);
    put("cert", "alice", w->alice_cert, w->alice_cert_len);
    put_damaged("cert", "alice", w->alice_cert, w->alice_cert_len);
    put("cert", "bob-utf8-name", w->bob_cert, w->bob_cert_len);
    put("cert", "revoked", w->revoked_cert, w->revoked_cert_len);
    put("cert", "expired", w->expired_cert, w->expired_cert_len);
    c = issue(w->f->brand, FIXTURE_BRAND_ID, "alice", "Alice", w->alice, 45, now + 10 * day,
              now + 20 * day, &len);
    put("cert", "not-yet-valid", c, len);
    parley_free(c, len);
    c = issue(w->f->brand, "other", "alice", "Alice", w->alice, 46, now - day, now + day, &len);
    put("cert", "wrong-brand", c, len);
    parley_free(c, len);
    c = issue(w->other_brand, FIXTURE_BRAND_ID, "alice", "Alice", w->alice, 47, now - day,
              now + day, &len);
    put("cert", "foreign-signer", c, len);
    parley_free(c, len);
    c = issue(w->f->brand, FIXTURE_BRAND_ID, "x", "x", w->alice, UINT64_MAX, 0, UINT64_MAX,
              &len);
    put("cert", "extremes", c, len);
    parley_free(c, len);
    put_over_limit("cert", PARLEY_MAX_CERT);
    put_common("cert");
}

static void corpus_requests(struct world *w)
{
    uint8_t *r;
    size_t len;

    fixture_check(parley_request_create(w->alice, "alice", "Alice Martin", FIXTURE_NOW, &r, &len),
                  "request");
    put("request", "alice", r, len);
    put_damaged("request", "alice", r, len);
    parley_free(r, len);
    fixture_check(parley_request_create(w->bob, "bob.n",
                                        "Bob N\xc3\xba\xc3\xb1\x65z \xf0\x9f\x98\x80", 0, &r,
                                        &len),
                  "request");
    put("request", "bob-utf8-name", r, len);
    parley_free(r, len);
    put_over_limit("request", PARLEY_MAX_CERT);
    put_common("request");
}

static void corpus_revlists(struct world *w)
{
    Parley__RevocationListBody body = PARLEY__REVOCATION_LIST_BODY__INIT;
    Parley__RevocationList rl = PARLEY__REVOCATION_LIST__INIT;
    uint64_t unsorted[] = {9, 3, 3, UINT64_MAX, 1, 9};
    uint64_t many[1000];
    uint8_t *r;
    size_t len;

    fixture_check(parley_revlist_build(w->f->brand, FIXTURE_BRAND_ID, FIXTURE_REVLIST_VERSION,
                                       fixture_revoked, 2, FIXTURE_NOW - FIXTURE_DAY,
                                       &w->revlist, &w->revlist_len),
                  "revlist");
    put("revlist", "fixed", w->revlist, w->revlist_len);
    put_damaged("revlist", "fixed", w->revlist, w->revlist_len);
    fixture_check(parley_revlist_build(w->f->brand, FIXTURE_BRAND_ID, 1, NULL, 0, 0, &r, &len),
                  "revlist");
    put("revlist", "empty-list", r, len);
    parley_free(r, len);
    for (size_t i = 0; i < 1000; i++)
        many[i] = i * 3 + 1;
    fixture_check(parley_revlist_build(w->f->brand, FIXTURE_BRAND_ID, 5, many, 1000, FIXTURE_NOW,
                                       &r, &len),
                  "revlist");
    put("revlist", "thousand", r, len);
    parley_free(r, len);
    fixture_check(parley_revlist_build(w->f->brand, "other", 2, fixture_revoked, 2, 0, &r, &len),
                  "revlist");
    put("revlist", "wrong-brand", r, len);
    parley_free(r, len);
    fixture_check(parley_revlist_build(w->other_brand, FIXTURE_BRAND_ID, 2, fixture_revoked, 2, 0,
                                       &r, &len),
                  "revlist");
    put("revlist", "foreign-signer", r, len);
    parley_free(r, len);
    /* Signed, but unsorted with duplicates: readers must sort on their side. */
    body.brand_id = (char *)FIXTURE_BRAND_ID;
    body.version = UINT64_MAX;
    body.serials = unsorted;
    body.n_serials = sizeof(unsorted) / sizeof(unsorted[0]);
    wrap(&body.base, w->f->brand, PARLEY__DOMAIN_REVOCATIONS, &rl.base, &rl.body, &rl.signature,
         &r, &len);
    put("revlist", "unsorted-max-version", r, len);
    free(r);
    /* Signed, version 0. */
    body.version = 0;
    wrap(&body.base, w->f->brand, PARLEY__DOMAIN_REVOCATIONS, &rl.base, &rl.body, &rl.signature,
         &r, &len);
    put("revlist", "version-zero", r, len);
    free(r);
    put_common("revlist");
}

static void corpus_directories(struct world *w)
{
    static const char *const billing[] = {"alice", "bob.n"};
    static const char *const sales[] = {"alice", "nobody"};
    static const char *const purposes[] = {"support", "order-tracking", "satisfaction-survey"};
    const parley_queue_spec queues[] = {{"billing", billing, 2}, {"sales", sales, 2}};
    const uint8_t *certs[] = {w->alice_cert, w->bob_cert, w->revoked_cert, w->expired_cert};
    const size_t cert_lens[] = {w->alice_cert_len, w->bob_cert_len, w->revoked_cert_len,
                                w->expired_cert_len};
    parley_directory_spec spec;
    Parley__DirectoryBody body = PARLEY__DIRECTORY_BODY__INIT;
    Parley__DirectoryContent content = PARLEY__DIRECTORY_CONTENT__INIT;
    uint8_t nonce[24], *sealed = NULL;
    size_t sealed_len = 0;
    Parley__Directory dir = PARLEY__DIRECTORY__INIT;
    Parley__AgentCert *foreign;
    uint8_t *d, *c;
    size_t len, clen;

    memset(&spec, 0, sizeof(spec));
    spec.brand_id = FIXTURE_BRAND_ID;
    spec.version = 7;
    spec.certs = certs;
    spec.cert_lens = cert_lens;
    spec.n_certs = 4;
    spec.revocations = w->revlist;
    spec.revocations_len = w->revlist_len;
    spec.notice_text = "Acme traite vos messages pour r\xc3\xa9pondre \xc3\xa0 vos demandes.";
    spec.notice_version = 2;
    spec.purposes = purposes;
    spec.n_purposes = 3;
    spec.queues = queues;
    spec.n_queues = 2;
    spec.issued_at = FIXTURE_NOW - FIXTURE_DAY;
    fixture_check(parley_directory_build(w->f->brand, &spec, &d, &len), "directory");
    put("directory", "full", d, len);
    put_damaged("directory", "full", d, len);
    parley_free(d, len);

    memset(&spec, 0, sizeof(spec));
    spec.brand_id = FIXTURE_BRAND_ID;
    spec.version = 1;
    spec.notice_text = "";
    spec.issued_at = FIXTURE_NOW - FIXTURE_DAY;
    fixture_check(parley_directory_build(w->f->brand, &spec, &d, &len), "directory");
    put("directory", "minimal", d, len);
    parley_free(d, len);

    /* Sound, but past the expiry its brand signed. */
    spec.expires_at = FIXTURE_NOW;
    fixture_check(parley_directory_build(w->f->brand, &spec, &d, &len), "directory");
    put("directory", "expired", d, len);
    parley_free(d, len);
    spec.expires_at = 0;

    spec.brand_id = "other";
    fixture_check(parley_directory_build(w->f->brand, &spec, &d, &len), "directory");
    put("directory", "wrong-brand", d, len);
    parley_free(d, len);

    spec.brand_id = FIXTURE_BRAND_ID;
    fixture_check(parley_directory_build(w->other_brand, &spec, &d, &len), "directory");
    put("directory", "foreign-signer", d, len);
    parley_free(d, len);

    /* Signed by the brand, but listing a certificate the brand did not sign. */
    c = issue(w->other_brand, FIXTURE_BRAND_ID, "mallory", "Mallory", w->customer, 99,
              FIXTURE_NOW - FIXTURE_DAY, FIXTURE_NOW + FIXTURE_DAY, &clen);
    foreign = parley__agent_cert__unpack(NULL, clen, c);
    if (foreign == NULL)
        fixture_check(PARLEY_EMALFORMED, "unpack cert");
    body.brand_id = (char *)FIXTURE_BRAND_ID;
    body.version = 8;
    body.expires_at = FIXTURE_NOW + FIXTURE_DAY;
    content.certs = &foreign;
    content.n_certs = 1;
    content.notice_text = (char *)"notice";
    fixture_check(parley__directory_seal_content(w->f->brand, &content, &body, nonce, &sealed,
                                                 &sealed_len),
                  "seal directory content");
    wrap(&body.base, w->f->brand, PARLEY__DOMAIN_DIRECTORY, &dir.base, &dir.body, &dir.signature,
         &d, &len);
    put("directory", "foreign-cert-inside", d, len);
    free(d);
    free(sealed);
    parley__agent_cert__free_unpacked(foreign, NULL);
    parley_free(c, clen);
    put_common("directory");
}

static void corpus_keyfiles(struct world *w)
{
    char long_label[129];
    uint8_t *k;
    size_t len;

    fixture_check(parley_identity_export(w->f->recipient, "fuzz recipient", FIXTURE_PASSPHRASE,
                                         strlen(FIXTURE_PASSPHRASE), PARLEY__KDF_TEST_ONLY, &k,
                                         &len),
                  "export");
    put("keyfile", "recipient", k, len);
    put_damaged("keyfile", "recipient", k, len);
    parley_free(k, len);
    memset(long_label, 'l', 128);
    long_label[128] = '\0';
    fixture_check(parley_identity_export(w->f->brand, long_label, FIXTURE_PASSPHRASE,
                                         strlen(FIXTURE_PASSPHRASE), PARLEY__KDF_TEST_ONLY, &k,
                                         &len),
                  "export");
    put("keyfile", "brand-long-label", k, len);
    parley_free(k, len);
    fixture_check(parley_identity_export(w->alice, NULL, "another passphrase", 18,
                                         PARLEY__KDF_TEST_ONLY, &k, &len),
                  "export");
    put("keyfile", "other-passphrase-no-label", k, len);
    parley_free(k, len);
    put_over_limit("keyfile", PARLEY_MAX_KEYFILE);
    put_common("keyfile");
}

enum seal_flaw {
    FLAW_NONE,
    FLAW_BAD_SIGNATURE,
    FLAW_WRONG_RECIPIENT,      /* payload binds another key; sealed to ours */
    FLAW_WRONG_CONVERSATION,   /* envelope and payload disagree */
    FLAW_UNPADDED,             /* sealed without sodium_pad */
    FLAW_SEALED_TO_OTHER,      /* the box is for someone else */
};

/*
 * Signs p as sender, and writes it three ways under one name: the Sealed
 * encoding (inner), its padded seal to the fixed recipient (sealed), and
 * that seal in an envelope (envelope).
 */
static void emit(struct world *w, const char *name, Parley__Payload *p,
                 const parley_identity *sender, enum seal_flaw flaw, uint8_t **inner_copy,
                 size_t *inner_len)
{
    static const uint8_t envelope_id[16] = "envelope id 001";
    static const uint8_t other_conv[16] = "conversation 02";
    Parley__Sealed sealed = PARLEY__SEALED__INIT;
    const uint8_t *rcpt_box = parley_identity_box_pk(w->f->recipient);
    uint8_t sig[64], routing[32];
    uint8_t *pbuf, *plain, *box, *env;
    size_t plen, slen, padded, env_len;

    p->sender_sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(sender)};
    p->recipient_key = (ProtobufCBinaryData){
        32, (uint8_t *)(flaw == FLAW_WRONG_RECIPIENT ? parley_identity_box_pk(w->customer)
                                                     : rcpt_box)};
    p->conversation_id = (ProtobufCBinaryData){16, (uint8_t *)fixture_conversation_id};
    fixture_check(parley__pack(&p->base, &pbuf, &plen), "pack payload");
    fixture_check(parley__sign_raw(sender->secret->sign_sk, PARLEY__DOMAIN_PAYLOAD, pbuf, plen,
                                   sig),
                  "sign payload");
    if (flaw == FLAW_BAD_SIGNATURE)
        sig[10] ^= 0x01;
    sealed.payload = (ProtobufCBinaryData){plen, pbuf};
    sealed.signature = (ProtobufCBinaryData){64, sig};
    slen = parley__sealed__get_packed_size(&sealed);
    plain = xmalloc(slen + PARLEY_PAD_BLOCK);
    parley__sealed__pack(&sealed, plain);
    put("inner", name, plain, slen);
    if (inner_copy != NULL) {
        *inner_copy = xmalloc(slen);
        memcpy(*inner_copy, plain, slen);
        *inner_len = slen;
    }
    padded = slen;
    if (flaw != FLAW_UNPADDED &&
        sodium_pad(&padded, plain, slen, PARLEY_PAD_BLOCK, slen + PARLEY_PAD_BLOCK) != 0)
        fixture_check(PARLEY_EINVAL, "pad");
    box = xmalloc(padded + crypto_box_SEALBYTES);
    crypto_box_seal(box, plain, padded,
                    flaw == FLAW_SEALED_TO_OTHER ? parley_identity_box_pk(w->customer)
                                                 : rcpt_box);
    put("sealed", name, box, padded + crypto_box_SEALBYTES);
    parley_routing_id(parley_identity_sign_pk(w->f->recipient), PARLEY_ROUTING_CUSTOMER, routing);
    fixture_check(parley__envelope_pack(envelope_id,
                                        flaw == FLAW_WRONG_CONVERSATION ? other_conv
                                                                        : fixture_conversation_id,
                                        routing, box, padded + crypto_box_SEALBYTES, &env,
                                        &env_len),
                  "envelope");
    put("envelope", name, env, env_len);
    if (flaw == FLAW_NONE && strcmp(name, "text-agent") == 0) {
        put_damaged("envelope", name, env, env_len);
        put_damaged("sealed", name, box, padded + crypto_box_SEALBYTES);
        put_damaged("inner", name, plain, slen);
    }
    free(env);
    free(box);
    parley_free(plain, slen + PARLEY_PAD_BLOCK);
    free(pbuf);
}

/*
 * A valid Sealed whose first byte is odd (an unknown fixed64 field comes
 * first), padded here: fuzz_inner seals odd inputs as they are, so this
 * one reaches the decoders through the unpadded route.
 */
static void emit_odd_prepadded(const uint8_t *sealed, size_t len)
{
    uint8_t *inner = xmalloc(len + 9 + PARLEY_PAD_BLOCK);
    size_t padded;

    inner[0] = 0x19; /* field 3, wire type 1 */
    memset(inner + 1, 0x5a, 8);
    memcpy(inner + 9, sealed, len);
    if (sodium_pad(&padded, inner, len + 9, PARLEY_PAD_BLOCK, len + 9 + PARLEY_PAD_BLOCK) != 0)
        fixture_check(PARLEY_EINVAL, "pad");
    put("inner", "odd-first-byte-prepadded", inner, padded);
    free(inner);
}

/* A protobuf bytes field holding a string, without its NUL. */
static ProtobufCBinaryData bytes_of(const char *s)
{
    return (ProtobufCBinaryData){strlen(s), (uint8_t *)s};
}

static Parley__AgentCert *unpack_cert(const uint8_t *buf, size_t len)
{
    Parley__AgentCert *c = parley__agent_cert__unpack(NULL, len, buf);

    if (c == NULL)
        fixture_check(PARLEY_EMALFORMED, "unpack cert");
    return c;
}

/*
 * The chain of custody: the customer's acknowledgement, a handover that
 * carries it with a history (and its near misses one byte over a
 * history limit), and an erasure request.
 */
static void corpus_custody(struct world *w, Parley__AgentCert *alice)
{
    Parley__CustodyAckBody ab = PARLEY__CUSTODY_ACK_BODY__INIT;
    Parley__CustodyAck ack = PARLEY__CUSTODY_ACK__INIT;
    Parley__HistoryEntry e1 = PARLEY__HISTORY_ENTRY__INIT, e2 = PARLEY__HISTORY_ENTRY__INIT;
    Parley__HistoryEntry *hist[] = {&e1, &e2};
    Parley__Handover h = PARLEY__HANDOVER__INIT;
    Parley__ErasureRequestBody eb = PARLEY__ERASURE_REQUEST_BODY__INIT;
    Parley__ErasureRequest er = PARLEY__ERASURE_REQUEST__INIT;
    Parley__Erase erase = PARLEY__ERASE__INIT;
    Parley__Payload p = PARLEY__PAYLOAD__INIT;
    ProtobufCBinaryData id = {16, (uint8_t *)fixture_conversation_id}, salt;
    uint8_t salt_bytes[16], abuf_sig[64], ebuf_sig[64], *abuf, *ebuf;
    char name[PARLEY_MAX_DISPLAY_NAME + 2], *long_text = malloc(PARLEY_MAX_TEXT + 2);
    size_t alen, elen;

    if (long_text == NULL)
        fixture_check(PARLEY_ENOMEM, "history text");
    memset(salt_bytes, 0x5a, sizeof(salt_bytes));
    salt = (ProtobufCBinaryData){16, salt_bytes};
    ab.conversation_id = id;
    ab.customer_sign_key =
        (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(w->customer)};
    ab.agent_sign_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(w->alice)};
    ab.counter = 1;
    ab.time_ms = (uint64_t)FIXTURE_NOW * 1000u;
    fixture_check(parley__pack(&ab.base, &abuf, &alen), "pack custody");
    fixture_check(parley__sign_raw(w->customer->secret->sign_sk, PARLEY__DOMAIN_CUSTODY, abuf,
                                   alen, abuf_sig),
                  "sign custody");
    ack.body = (ProtobufCBinaryData){alen, abuf};
    ack.signature = (ProtobufCBinaryData){64, abuf_sig};
    p.seq = 4;
    p.time_ms = (uint64_t)FIXTURE_NOW * 1000u + 9;
    p.body_case = PARLEY__PAYLOAD__BODY_CUSTODY_ACK;
    p.custody_ack = &ack;
    emit(w, "custody-ack", &p, w->customer, FLAW_NONE, NULL, NULL);

    e1.from_customer = 1;
    e1.agent_id = (char *)"";
    e1.text = bytes_of("Ma commande 1234");
    e2.agent_id = (char *)"Alice Martin";
    e2.text = bytes_of("Je regarde.");
    h.customer_sign_key = ab.customer_sign_key;
    h.customer_receive_key =
        (ProtobufCBinaryData){32, (uint8_t *)parley_identity_box_pk(w->customer)};
    h.customer_seq = 3;
    h.queue = (char *)"billing";
    h.history = hist;
    h.n_history = 2;
    h.conversation_salt = salt;
    h.custody = &ack;
    p.sender_cert = alice;
    p.body_case = PARLEY__PAYLOAD__BODY_HANDOVER;
    p.handover = &h;
    emit(w, "handover", &p, w->alice, FLAW_NONE, NULL, NULL);
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    e2.agent_id = name;
    emit(w, "handover-name-129", &p, w->alice, FLAW_NONE, NULL, NULL);
    e2.agent_id = (char *)"Alice Martin";
    memset(long_text, 't', PARLEY_MAX_TEXT + 1);
    e2.text = (ProtobufCBinaryData){PARLEY_MAX_TEXT + 1, (uint8_t *)long_text};
    emit(w, "handover-text-16385", &p, w->alice, FLAW_NONE, NULL, NULL);

    eb.brand_id = (char *)FIXTURE_BRAND_ID;
    eb.customer_sign_key = ab.customer_sign_key;
    eb.time_ms = (uint64_t)FIXTURE_NOW * 1000u;
    eb.conversation_ids = &id;
    eb.n_conversation_ids = 1;
    eb.conversation_salts = &salt;
    eb.n_conversation_salts = 1;
    fixture_check(parley__pack(&eb.base, &ebuf, &elen), "pack erasure");
    fixture_check(parley__sign_raw(w->customer->secret->sign_sk, PARLEY__DOMAIN_ERASURE, ebuf,
                                   elen, ebuf_sig),
                  "sign erasure");
    er.body = (ProtobufCBinaryData){elen, ebuf};
    er.signature = (ProtobufCBinaryData){64, ebuf_sig};
    erase.request = &er;
    p.sender_cert = NULL;
    p.body_case = PARLEY__PAYLOAD__BODY_ERASE;
    p.erase = &erase;
    emit(w, "erase", &p, w->customer, FLAW_NONE, NULL, NULL);
    free(abuf);
    free(ebuf);
    free(long_text);
}

static void corpus_messages(struct world *w)
{
    Parley__AgentCert *alice = unpack_cert(w->alice_cert, w->alice_cert_len);
    Parley__AgentCert *bob = unpack_cert(w->bob_cert, w->bob_cert_len);
    Parley__AgentCert *revoked = unpack_cert(w->revoked_cert, w->revoked_cert_len);
    Parley__AgentCert *expired = unpack_cert(w->expired_cert, w->expired_cert_len);
    Parley__Text text = PARLEY__TEXT__INIT;
    Parley__Open open = PARLEY__OPEN__INIT;
    Parley__ConsentReceiptBody cbody = PARLEY__CONSENT_RECEIPT_BODY__INIT;
    Parley__ConsentReceipt consent = PARLEY__CONSENT_RECEIPT__INIT;
    Parley__Claim claim = PARLEY__CLAIM__INIT;
    Parley__Transfer transfer = PARLEY__TRANSFER__INIT;
    Parley__Close close_ = PARLEY__CLOSE__INIT;
    Parley__Receipt receipt = PARLEY__RECEIPT__INIT;
    Parley__Typing typing = PARLEY__TYPING__INIT;
    Parley__Payload p;
    static char *const purposes[] = {(char *)"support"};
    uint8_t notice_hash[32], *sealed_text = NULL;
    size_t sealed_text_len = 0;

    /* Customer, text, announcing a next receive key. */
    p = (Parley__Payload)PARLEY__PAYLOAD__INIT;
    p.seq = 2;
    p.time_ms = (uint64_t)FIXTURE_NOW * 1000u;
    p.next_receive_key = (ProtobufCBinaryData){32, (uint8_t *)parley_identity_box_pk(w->bob)};
    text.text = bytes_of("Bonjour, o\xc3\xb9 en est ma commande 1234 ?");
    p.body_case = PARLEY__PAYLOAD__BODY_TEXT;
    p.text = &text;
    emit(w, "text-customer", &p, w->customer, FLAW_NONE, &sealed_text, &sealed_text_len);
    emit(w, "bad-signature", &p, w->customer, FLAW_BAD_SIGNATURE, NULL, NULL);
    emit(w, "wrong-recipient", &p, w->customer, FLAW_WRONG_RECIPIENT, NULL, NULL);
    emit(w, "wrong-conversation", &p, w->customer, FLAW_WRONG_CONVERSATION, NULL, NULL);
    emit(w, "unpadded", &p, w->customer, FLAW_UNPADDED, NULL, NULL);
    emit(w, "sealed-to-other", &p, w->customer, FLAW_SEALED_TO_OTHER, NULL, NULL);
    emit_odd_prepadded(sealed_text, sealed_text_len);
    free(sealed_text);

    /* Agent with a valid certificate. */
    p.next_receive_key = (ProtobufCBinaryData){0, NULL};
    p.sender_cert = alice;
    text.text = bytes_of("Je regarde tout de suite.");
    emit(w, "text-agent", &p, w->alice, FLAW_NONE, NULL, NULL);
    /* Someone else's certificate, a revoked and an expired one. */
    emit(w, "cert-of-another-key", &p, w->customer, FLAW_NONE, NULL, NULL);
    p.sender_cert = revoked;
    emit(w, "revoked-agent", &p, w->bob, FLAW_NONE, NULL, NULL);
    p.sender_cert = expired;
    emit(w, "expired-agent", &p, w->alice, FLAW_NONE, NULL, NULL);
    /* Structure faults behind a good signature: seq 0, empty text. */
    p.sender_cert = NULL;
    p.seq = 0;
    emit(w, "seq-zero", &p, w->customer, FLAW_NONE, NULL, NULL);
    p.seq = UINT64_MAX;
    text.text = bytes_of("");
    emit(w, "empty-text-max-seq", &p, w->customer, FLAW_NONE, NULL, NULL);

    /* Open: the customer's first message, with a consent receipt. */
    cbody.brand_id = (char *)FIXTURE_BRAND_ID;
    cbody.notice_version = 2;
    memset(notice_hash, 0x33, sizeof(notice_hash));
    cbody.notice_hash = (ProtobufCBinaryData){32, notice_hash};
    cbody.purposes = (char **)purposes;
    cbody.n_purposes = 1;
    cbody.customer_sign_key =
        (ProtobufCBinaryData){32, (uint8_t *)parley_identity_sign_pk(w->customer)};
    cbody.time_ms = (uint64_t)FIXTURE_NOW * 1000u;
    /* Signed by hand: the receipt is a field of Open, not a packed buffer. */
    {
        uint8_t *bbuf, sig[64];
        size_t blen;

        fixture_check(parley__pack(&cbody.base, &bbuf, &blen), "pack consent");
        fixture_check(parley__sign_raw(w->customer->secret->sign_sk, PARLEY__DOMAIN_CONSENT,
                                       bbuf, blen, sig),
                      "sign consent");
        consent.body = (ProtobufCBinaryData){blen, bbuf};
        consent.signature = (ProtobufCBinaryData){64, sig};
        open.queue = (char *)"billing";
        open.customer_box_key =
            (ProtobufCBinaryData){32, (uint8_t *)parley_identity_box_pk(w->customer)};
        open.consent = &consent;
        open.text = bytes_of("Ma commande n'est pas arriv\xc3\xa9\x65.");
        p = (Parley__Payload)PARLEY__PAYLOAD__INIT;
        p.seq = 1;
        p.time_ms = (uint64_t)FIXTURE_NOW * 1000u;
        p.body_case = PARLEY__PAYLOAD__BODY_OPEN;
        p.open = &open;
        emit(w, "open", &p, w->customer, FLAW_NONE, NULL, NULL);
        open.queue = (char *)"Billing!";
        emit(w, "open-bad-queue", &p, w->customer, FLAW_NONE, NULL, NULL);
        free(bbuf);
    }

    /* Agent bodies: claim, transfer, close, receipt, typing. */
    p = (Parley__Payload)PARLEY__PAYLOAD__INIT;
    p.seq = 3;
    p.time_ms = (uint64_t)FIXTURE_NOW * 1000u + 5;
    p.sender_cert = alice;
    claim.agent_id = (char *)"alice";
    p.body_case = PARLEY__PAYLOAD__BODY_CLAIM;
    p.claim = &claim;
    emit(w, "claim", &p, w->alice, FLAW_NONE, NULL, NULL);
    transfer.target = bob;
    p.body_case = PARLEY__PAYLOAD__BODY_TRANSFER;
    p.transfer = &transfer;
    emit(w, "transfer", &p, w->alice, FLAW_NONE, NULL, NULL);
    close_.reason = (char *)"resolved";
    p.body_case = PARLEY__PAYLOAD__BODY_CLOSE;
    p.close = &close_;
    emit(w, "close", &p, w->alice, FLAW_NONE, NULL, NULL);
    receipt.kind = PARLEY__RECEIPT__KIND__READ;
    receipt.up_to_seq = 2;
    p.body_case = PARLEY__PAYLOAD__BODY_RECEIPT;
    p.receipt = &receipt;
    emit(w, "receipt", &p, w->alice, FLAW_NONE, NULL, NULL);
    typing.active = 1;
    p.body_case = PARLEY__PAYLOAD__BODY_TYPING;
    p.typing = &typing;
    p.sender_cert = NULL;
    emit(w, "typing-customer", &p, w->customer, FLAW_NONE, NULL, NULL);
    p.body_case = PARLEY__PAYLOAD__BODY__NOT_SET;
    emit(w, "no-body", &p, w->customer, FLAW_NONE, NULL, NULL);
    corpus_custody(w, alice);

    parley__agent_cert__free_unpacked(alice, NULL);
    parley__agent_cert__free_unpacked(bob, NULL);
    parley__agent_cert__free_unpacked(revoked, NULL);
    parley__agent_cert__free_unpacked(expired, NULL);
}

/* Envelopes exactly as parley_seal_text() writes them. */
static void corpus_seal_text(struct world *w)
{
    parley_seal_params sp;
    uint8_t *env;
    size_t len;

    memset(&sp, 0, sizeof(sp));
    sp.sender = w->alice;
    sp.sender_cert = w->alice_cert;
    sp.sender_cert_len = w->alice_cert_len;
    sp.recipient_sign_pk = parley_identity_sign_pk(w->f->recipient);
    sp.recipient_box_pk = parley_identity_box_pk(w->f->recipient);
    sp.conversation_id = fixture_conversation_id;
    sp.seq = 9;
    sp.time_ms = (uint64_t)FIXTURE_NOW * 1000u;
    sp.next_receive_pk = parley_identity_box_pk(w->bob);
    fixture_check(parley_seal_text(&sp, "Merci !", 7, &env, &len), "seal text");
    put("envelope", "seal-text-agent", env, len);
    parley_free(env, len);
    sp.sender = w->customer;
    sp.sender_cert = NULL;
    sp.sender_cert_len = 0;
    sp.next_receive_pk = NULL;
    fixture_check(parley_seal_text(&sp, NULL, 0, &env, &len), "seal text");
    put("envelope", "seal-text-customer-empty", env, len);
    parley_free(env, len);
    put_over_limit("envelope", PARLEY_MAX_ENVELOPE);
    put_over_limit("sealed", PARLEY_MAX_ENVELOPE);
    put_common("envelope");
    put_common("sealed");
    put_common("inner");
}

int main(int argc, char **argv)
{
    struct world w;

    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    corpus_start(argv[1], targets, sizeof(targets) / sizeof(targets[0]));
    parley__kdf_allow_test_cost();
    memset(&w, 0, sizeof(w));
    w.f = fixture_get();
    w.other_brand = fixture_identity(fixture_other_brand_seed);
    w.alice = fixture_identity(fixture_agent_seed);
    w.bob = fixture_identity(fixture_agent2_seed);
    w.customer = fixture_identity(fixture_customer_seed);

    corpus_certs(&w);
    corpus_requests(&w);
    corpus_revlists(&w);
    corpus_directories(&w);
    corpus_keyfiles(&w);
    corpus_messages(&w);
    corpus_seal_text(&w);

    parley_free(w.alice_cert, w.alice_cert_len);
    parley_free(w.bob_cert, w.bob_cert_len);
    parley_free(w.revoked_cert, w.revoked_cert_len);
    parley_free(w.expired_cert, w.expired_cert_len);
    parley_free(w.revlist, w.revlist_len);
    parley_identity_free(w.other_brand);
    parley_identity_free(w.alice);
    parley_identity_free(w.bob);
    parley_identity_free(w.customer);
    printf("make-corpus: wrote %s\n", out_root);
    return 0;
}
