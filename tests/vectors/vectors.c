/*
 * Known-answer vectors for every deterministic Parley encoding: keys
 * derived from fixed seeds, fingerprints, routing ids, signing prefixes
 * and signatures, certificate requests, certificates, revocation lists,
 * the directory, conversation ids, and a signed payload with its Sealed
 * encoding. Another implementation (the browser widget, a port) must
 * reproduce them byte for byte.
 *
 *   vectors DIR           recompute everything, compare with the .exp files in DIR
 *   vectors --write DIR   regenerate the .exp files in DIR
 *
 * Sealed boxes use a random ephemeral key, so no seal output is a vector:
 * the fixed Sealed bytes are sealed afresh to the fixed customer key and
 * must open, through parley__open_sealed and parley_open, to the fields
 * recorded in payload.exp.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody.h"
#include "internal.h"

#define BRAND_ID   "acme"
#define NOT_BEFORE UINT64_C(1700000000)
#define NOT_AFTER  UINT64_C(1800000000)
#define NOW        UINT64_C(1750000000)

struct entry {
    char *name;
    char *value;
    int seen;
};

/* One .exp file: written, or loaded and compared entry by entry. */
struct vecfile {
    const char *dir;
    const char *name;
    int writing;
    FILE *out;
    struct entry *entries;
    size_t n_entries;
    int failures;
};

static int total_failures;

static void die(const char *what)
{
    fprintf(stderr, "vectors: %s\n", what);
    exit(2);
}

static void die_err(const char *what, parley_err err)
{
    fprintf(stderr, "vectors: %s: %s\n", what, parley_strerror(err));
    exit(2);
}

static void path_of(char *buf, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(buf, cap, "%s/%s.exp", dir, name);

    if (n < 0 || (size_t)n >= cap)
        die("path too long");
}

static void load(struct vecfile *v)
{
    char path[4096];
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    FILE *f;

    path_of(path, sizeof(path), v->dir, v->name);
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        v->failures++;
        return;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        char *eq;
        struct entry *e;

        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        eq = strstr(line, " = ");
        if (eq == NULL) {
            fprintf(stderr, "%s: not a 'name = value' line: %s\n", path, line);
            v->failures++;
            continue;
        }
        *eq = '\0';
        e = realloc(v->entries, (v->n_entries + 1) * sizeof(*e));
        if (e == NULL)
            die("out of memory");
        v->entries = e;
        e = &v->entries[v->n_entries++];
        e->name = strdup(line);
        e->value = strdup(eq + 3);
        e->seen = 0;
        if (e->name == NULL || e->value == NULL)
            die("out of memory");
    }
    free(line);
    fclose(f);
}

static void vec_begin(struct vecfile *v, const char *dir, const char *name, int writing)
{
    char path[4096];

    memset(v, 0, sizeof(*v));
    v->dir = dir;
    v->name = name;
    v->writing = writing;
    if (writing) {
        path_of(path, sizeof(path), dir, name);
        v->out = fopen(path, "w");
        if (v->out == NULL) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
            exit(2);
        }
        fprintf(v->out,
                "# Parley known-answer vectors (%s). Checked by tests/vectors/vectors.c;\n"
                "# regenerate only for a deliberate format change.\n",
                name);
    } else {
        load(v);
    }
}

static void vec_end(struct vecfile *v)
{
    if (v->writing) {
        if (fclose(v->out) != 0)
            die("write failed");
        return;
    }
    for (size_t i = 0; i < v->n_entries; i++) {
        if (!v->entries[i].seen) {
            fprintf(stderr, "%s.exp: %s: in the file but no longer computed\n", v->name,
                    v->entries[i].name);
            v->failures++;
        }
        free(v->entries[i].name);
        free(v->entries[i].value);
    }
    free(v->entries);
    printf("%s.exp: %zu vectors, %d mismatches\n", v->name, v->n_entries, v->failures);
    total_failures += v->failures;
}

static void emit_text(struct vecfile *v, const char *name, const char *value)
{
    if (strchr(value, '\n') != NULL)
        die("vector text with a newline");
    if (v->writing) {
        fprintf(v->out, "%s = %s\n", name, value);
        return;
    }
    for (size_t i = 0; i < v->n_entries; i++) {
        if (strcmp(v->entries[i].name, name) != 0)
            continue;
        v->entries[i].seen = 1;
        if (strcmp(v->entries[i].value, value) != 0) {
            fprintf(stderr, "%s.exp: %s mismatch\n  expected %s\n  computed %s\n", v->name, name,
                    v->entries[i].value, value);
            v->failures++;
        }
        return;
    }
    fprintf(stderr, "%s.exp: %s missing (computed %s)\n", v->name, name, value);
    v->failures++;
}

static void emit_hex(struct vecfile *v, const char *name, const uint8_t *buf, size_t len)
{
    char *hex = malloc(len * 2 + 1);

    if (hex == NULL)
        die("out of memory");
    sodium_bin2hex(hex, len * 2 + 1, buf, len);
    emit_text(v, name, hex);
    free(hex);
}

static void emit_u64(struct vecfile *v, const char *name, uint64_t x)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)x);
    emit_text(v, name, buf);
}

static void emit_err(struct vecfile *v, const char *name, parley_err err)
{
    emit_text(v, name, parley_strerror(err));
}

/* name built from a prefix and a suffix, for per-party and per-domain vectors. */
static const char *join(char *buf, size_t cap, const char *a, const char *b)
{
    int n = snprintf(buf, cap, "%s.%s", a, b);

    if (n < 0 || (size_t)n >= cap)
        die("name too long");
    return buf;
}

static parley_identity *seeded(uint8_t fill)
{
    uint8_t seed[32];
    parley_identity *id = NULL;
    parley_err err;

    memset(seed, fill, sizeof(seed));
    err = parley_identity_from_seed(&id, seed);
    if (err != PARLEY_OK)
        die_err("identity_from_seed", err);
    return id;
}

struct parties {
    parley_identity *brand, *agent, *customer, *agent2;
};

static void identity_vectors(struct vecfile *v, const char *who, const parley_identity *id)
{
    char name[64], fp[PARLEY_FINGERPRINT_LEN];
    uint8_t routing[32];

    emit_hex(v, join(name, sizeof(name), who, "sign_pk"), parley_identity_sign_pk(id), 32);
    emit_hex(v, join(name, sizeof(name), who, "box_pk"), parley_identity_box_pk(id), 32);
    parley_fingerprint(parley_identity_sign_pk(id), fp);
    emit_text(v, join(name, sizeof(name), who, "fingerprint"), fp);
    parley_routing_id(parley_identity_sign_pk(id), PARLEY_ROUTING_CUSTOMER, routing);
    emit_hex(v, join(name, sizeof(name), who, "routing_id.customer"), routing, 32);
    parley_routing_id(parley_identity_sign_pk(id), PARLEY_ROUTING_AGENT, routing);
    emit_hex(v, join(name, sizeof(name), who, "routing_id.agent"), routing, 32);
}

static const char message[] = "Parley known-answer message: \xc3\xa9t\xc3\xa9 2025";

static void signing_vectors(struct vecfile *v, const struct parties *p)
{
    static const char *const domains[] = {
        PARLEY__DOMAIN_PAYLOAD,   PARLEY__DOMAIN_CERT,    PARLEY__DOMAIN_REVOCATIONS,
        PARLEY__DOMAIN_DIRECTORY, PARLEY__DOMAIN_CONSENT, PARLEY__DOMAIN_PREKEY,
        PARLEY__DOMAIN_REQUEST,   PARLEY__DOMAIN_ERASURE, PARLEY__DOMAIN_CUSTODY,
        PARLEY__DOMAIN_ORDER,     PARLEY__DOMAIN_ORDER_RECEIPT, PARLEY__DOMAIN_SPECIAL,
        "relay-auth",
    };
    char name[64];
    uint8_t prefix[64], sig[64];

    emit_text(v, "message", message);
    for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
        size_t n = parley__signing_prefix(domains[i], prefix, sizeof(prefix));
        parley_err err;

        if (n == 0)
            die("signing prefix");
        emit_hex(v, join(name, sizeof(name), "prefix", domains[i]), prefix, n);
        err = parley__sign_raw(p->brand->secret->sign_sk, domains[i], (const uint8_t *)message,
                               strlen(message), sig);
        if (err != PARLEY_OK)
            die_err("sign_raw", err);
        emit_hex(v, join(name, sizeof(name), "brand_sig", domains[i]), sig, 64);
        if (parley_verify(p->brand->sign_pk, domains[i], (const uint8_t *)message, strlen(message),
                          sig) != PARLEY_OK)
            die("a vector signature does not verify");
    }
    if (parley_identity_sign(p->customer, "relay-auth", (const uint8_t *)message, strlen(message),
                             sig) != PARLEY_OK)
        die("identity_sign");
    emit_hex(v, "customer_sig.relay-auth", sig, 64);
}

static void info_vectors(struct vecfile *v, const char *prefix, const parley_cert_info *info)
{
    char name[64];

    emit_text(v, join(name, sizeof(name), prefix, "brand_id"), info->brand_id);
    emit_text(v, join(name, sizeof(name), prefix, "agent_id"), info->agent_id);
    emit_text(v, join(name, sizeof(name), prefix, "display_name"), info->display_name);
    emit_u64(v, join(name, sizeof(name), prefix, "serial"), info->serial);
    emit_u64(v, join(name, sizeof(name), prefix, "not_before"), info->not_before);
    emit_u64(v, join(name, sizeof(name), prefix, "not_after"), info->not_after);
}

static uint8_t *issue(const parley_identity *brand, const parley_identity *agent,
                      const char *agent_id, const char *display_name, uint64_t serial, size_t *len)
{
    parley_cert_info info;
    uint8_t *out = NULL;
    parley_err err;

    memset(&info, 0, sizeof(info));
    if (!parley__copy_str(info.brand_id, sizeof(info.brand_id), BRAND_ID) ||
        !parley__copy_str(info.agent_id, sizeof(info.agent_id), agent_id) ||
        !parley__copy_str(info.display_name, sizeof(info.display_name), display_name))
        die("cert fields");
    memcpy(info.sign_pk, parley_identity_sign_pk(agent), 32);
    memcpy(info.box_pk, parley_identity_box_pk(agent), 32);
    info.serial = serial;
    info.not_before = NOT_BEFORE;
    info.not_after = NOT_AFTER;
    err = parley_cert_issue(brand, &info, &out, len);
    if (err != PARLEY_OK)
        die_err("cert_issue", err);
    return out;
}

static const char amelie_name[] = "Am\xc3\xa9lie Dupr\xc3\xa9";
static const char zoe_name[] = "Zo\xc3\xab \xc5\x81ukasiewicz";

struct certs {
    uint8_t *amelie, *zoe, *revlist;
    size_t amelie_len, zoe_len, revlist_len;
};

static void cert_vectors(struct vecfile *v, const struct parties *p, struct certs *c)
{
    static const uint64_t serials[] = {42, 8, 8, 5};
    const uint8_t *bpk = parley_identity_sign_pk(p->brand);
    parley_cert_info info;
    parley_revlist *r = NULL;
    uint8_t *req = NULL;
    size_t req_len;
    parley_err err;
    char list[128];
    size_t used = 0;

    err = parley_request_create(p->agent, "amelie", amelie_name, NOT_BEFORE, &req, &req_len);
    if (err != PARLEY_OK)
        die_err("request_create", err);
    emit_hex(v, "request", req, req_len);
    emit_err(v, "request.verify", parley_request_verify(req, req_len, &info));
    emit_text(v, "request.agent_id", info.agent_id);
    emit_text(v, "request.display_name", info.display_name);
    emit_u64(v, "request.created_at", info.not_before);
    parley_free(req, req_len);

    c->amelie = issue(p->brand, p->agent, "amelie", amelie_name, 7, &c->amelie_len);
    emit_hex(v, "cert.amelie", c->amelie, c->amelie_len);
    emit_err(v, "cert.amelie.verify",
             parley_cert_verify(c->amelie, c->amelie_len, bpk, BRAND_ID, NOW, NULL, &info));
    info_vectors(v, "cert.amelie", &info);
    c->zoe = issue(p->brand, p->agent2, "zoe", zoe_name, 8, &c->zoe_len);
    emit_hex(v, "cert.zoe", c->zoe, c->zoe_len);
    emit_err(v, "cert.zoe.verify",
             parley_cert_verify(c->zoe, c->zoe_len, bpk, BRAND_ID, NOW, NULL, &info));
    info_vectors(v, "cert.zoe", &info);

    err =
        parley_revlist_build(p->brand, BRAND_ID, 3, serials, 4, NOW, &c->revlist, &c->revlist_len);
    if (err != PARLEY_OK)
        die_err("revlist_build", err);
    emit_hex(v, "revlist", c->revlist, c->revlist_len);
    emit_err(v, "revlist.open",
             parley_revlist_open(&r, c->revlist, c->revlist_len, bpk, BRAND_ID, 3));
    if (r == NULL)
        die("revlist_open");
    emit_u64(v, "revlist.version", parley_revlist_version(r));
    for (size_t i = 0; i < parley_revlist_count(r); i++) {
        int n = snprintf(list + used, sizeof(list) - used, "%s%llu", i > 0 ? "," : "",
                         (unsigned long long)parley_revlist_serial(r, i));
        if (n < 0 || (size_t)n >= sizeof(list) - used)
            die("serial list");
        used += (size_t)n;
    }
    emit_text(v, "revlist.serials", list);
    emit_err(v, "cert.zoe.verify_with_revlist",
             parley_cert_verify(c->zoe, c->zoe_len, bpk, BRAND_ID, NOW, r, &info));
    parley_revlist_free(r);
}

static void directory_vectors(struct vecfile *v, const struct parties *p, const struct certs *c)
{
    static const char *const purposes[] = {"support", "improvement"};
    static const int optional[] = {0, 1};
    static const char *const texts[] = {"R\xc3\xa9pondre \xc3\xa0 vos questions",
                                        "Am\xc3\xa9lioration du service"};
    static const char *const billing[] = {"amelie", "zoe"};
    static const char *const tech[] = {"zoe"};
    const parley_queue_spec queues[] = {{"billing", billing, 2}, {"tech", tech, 1}};
    const uint8_t *certs[] = {c->amelie, c->zoe};
    const size_t lens[] = {c->amelie_len, c->zoe_len};
    parley_directory_spec spec;
    parley_directory *d = NULL;
    parley_cert_info info;
    uint8_t *dir = NULL, dkey[32];
    size_t dir_len;
    parley_err err;

    memset(&spec, 0, sizeof(spec));
    spec.brand_id = BRAND_ID;
    spec.version = 12;
    spec.certs = certs;
    spec.cert_lens = lens;
    spec.n_certs = 2;
    spec.revocations = c->revlist;
    spec.revocations_len = c->revlist_len;
    spec.notice_text = "Vos donn\xc3\xa9"
                       "es sont trait\xc3\xa9"
                       "es par ACME pour r\xc3\xa9pondre "
                       "\xc3\xa0 vos questions (art. 6.1.b RGPD).";
    spec.notice_version = 4;
    spec.purposes = purposes;
    spec.n_purposes = 2;
    spec.purpose_optional = optional;
    spec.purpose_descriptions = texts;
    spec.queues = queues;
    spec.n_queues = 2;
    spec.issued_at = NOW;
    err = parley_directory_build(p->brand, &spec, &dir, &dir_len);
    if (err != PARLEY_OK)
        die_err("directory_build", err);
    parley_directory_key(p->brand, dkey);
    emit_hex(v, "directory_key", dkey, 32);
    emit_hex(v, "directory", dir, dir_len);
    emit_err(v, "directory.open",
             parley_directory_open(&d, dir, dir_len, p->brand->sign_pk, BRAND_ID, dkey, 12, NOW));
    if (d == NULL)
        die("directory_open");
    emit_u64(v, "directory.version", parley_directory_version(d));
    emit_u64(v, "directory.notice_version", parley_directory_notice_version(d));
    emit_text(v, "directory.notice_text", parley_directory_notice_text(d));
    emit_text(v, "directory.purpose.0", parley_directory_purpose(d, 0));
    emit_text(v, "directory.purpose.1", parley_directory_purpose(d, 1));
    emit_u64(v, "directory.purpose.0.required", (uint64_t)parley_directory_purpose_required(d, 0));
    emit_u64(v, "directory.purpose.1.required", (uint64_t)parley_directory_purpose_required(d, 1));
    emit_text(v, "directory.purpose.1.description", parley_directory_purpose_description(d, 1));
    emit_err(v, "directory.agent.0.status", parley_directory_agent(d, 0, &info));
    emit_text(v, "directory.agent.0.display_name", info.display_name);
    emit_err(v, "directory.agent.1.status", parley_directory_agent(d, 1, &info));
    emit_text(v, "directory.agent.1.display_name", info.display_name);
    emit_text(v, "directory.queue.0", parley_directory_queue_name(d, 0));
    emit_text(v, "directory.queue.1", parley_directory_queue_name(d, 1));
    emit_u64(v, "directory.queue.0.size", parley_directory_queue_size(d, 0));
    parley_directory_free(d);
    parley_free(dir, dir_len);
}

static const uint8_t conversation_id[16] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                            0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t envelope_id[16] = {0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
                                        0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef};
static char payload_text[] = "Bonjour, votre commande n\xc2\xb0"
                             "42 est exp\xc3\xa9"
                             "di\xc3\xa9"
                             "e.";

/* The customer's acknowledgement that the agent holds its conversation, at counter 1. */
static void custody_vectors(struct vecfile *v, const struct parties *p)
{
    uint8_t salt[PARLEY_CONVERSATION_SALT_BYTES], id[PARLEY_CONVERSATION_ID_BYTES];
    uint8_t *ack_buf;
    size_t ack_len;
    Parley__CustodyAck *ack;
    struct parley__custody got;

    for (size_t i = 0; i < sizeof(salt); i++)
        salt[i] = (uint8_t)(0xa0 + i);
    parley_conversation_id(p->customer->sign_pk, salt, id);
    if (parley__custody_ack_make(p->customer, id, p->agent->sign_pk, 1, NOW * 1000u, &ack_buf,
                                 &ack_len) != PARLEY_OK)
        die("custody_ack_make");
    ack = parley__custody_ack__unpack(NULL, ack_len, ack_buf);
    if (ack == NULL)
        die("custody ack unpack");
    emit_hex(v, "custody_ack.body", ack->body.data, ack->body.len);
    emit_hex(v, "custody_ack.signature", ack->signature.data, ack->signature.len);
    if (parley__custody_ack_check(ack, p->customer->sign_pk, id, &got) != PARLEY_OK ||
        memcmp(got.agent, p->agent->sign_pk, 32) != 0 || got.counter != 1)
        die("the vector acknowledgement does not check");
    parley__custody_ack__free_unpacked(ack, NULL);
    free(ack_buf);
}

/* Conversation ids bound to the customer's key by a salt. */
static void conversation_vectors(struct vecfile *v, const struct parties *p)
{
    uint8_t salt[PARLEY_CONVERSATION_SALT_BYTES], id[PARLEY_CONVERSATION_ID_BYTES];

    for (size_t i = 0; i < sizeof(salt); i++)
        salt[i] = (uint8_t)(0xa0 + i);
    emit_hex(v, "salt", salt, sizeof(salt));
    parley_conversation_id(p->customer->sign_pk, salt, id);
    emit_hex(v, "customer.conversation_id", id, sizeof(id));
    parley_conversation_id(p->agent->sign_pk, salt, id);
    emit_hex(v, "agent.conversation_id", id, sizeof(id));
    custody_vectors(v, p);
}

/* The payload an agent sends to the customer, encoded and signed by hand. */
static void payload_vectors(struct vecfile *v, const struct parties *p, const struct certs *c)
{
    Parley__Payload pl = PARLEY__PAYLOAD__INIT;
    Parley__Text text = PARLEY__TEXT__INIT;
    Parley__Sealed sealed = PARLEY__SEALED__INIT;
    Parley__AgentCert *cert;
    uint8_t next_key[32], sig[64], routing[32];
    uint8_t *pbuf = NULL, *sbuf = NULL, *padded, *boxed, *env = NULL, *fixed_sealed;
    size_t plen, slen, padded_len, env_len;
    Parley__Payload *opened = NULL;
    parley_cert_info ci;
    parley_trust trust;
    parley_opened o;
    int is_agent = 0;
    parley_err err;

    for (size_t i = 0; i < 32; i++)
        next_key[i] = (uint8_t)(0x20 + i);
    cert = parley__agent_cert__unpack(NULL, c->amelie_len, c->amelie);
    if (cert == NULL)
        die("cert unpack");
    text.text = (ProtobufCBinaryData){strlen(payload_text), (uint8_t *)payload_text};
    pl.sender_sign_key = (ProtobufCBinaryData){32, p->agent->sign_pk};
    pl.sender_cert = cert;
    pl.recipient_key = (ProtobufCBinaryData){32, p->customer->box_pk};
    pl.conversation_id = (ProtobufCBinaryData){16, (uint8_t *)conversation_id};
    pl.seq = 5;
    pl.time_ms = UINT64_C(1750000000123);
    pl.next_receive_key = (ProtobufCBinaryData){32, next_key};
    pl.body_case = PARLEY__PAYLOAD__BODY_TEXT;
    pl.text = &text;
    if (parley__pack(&pl.base, &pbuf, &plen) != PARLEY_OK)
        die("payload pack");
    emit_hex(v, "payload", pbuf, plen);
    if (parley__sign_raw(p->agent->secret->sign_sk, PARLEY__DOMAIN_PAYLOAD, pbuf, plen, sig) !=
        PARLEY_OK)
        die("payload sign");
    emit_hex(v, "payload.signature", sig, 64);
    sealed.payload = (ProtobufCBinaryData){plen, pbuf};
    sealed.signature = (ProtobufCBinaryData){64, sig};
    if (parley__pack(&sealed.base, &sbuf, &slen) != PARLEY_OK)
        die("sealed pack");
    emit_hex(v, "sealed", sbuf, slen);

    /* Padding is deterministic too. */
    padded = malloc(slen + PARLEY_PAD_BLOCK);
    boxed = malloc(slen + PARLEY_PAD_BLOCK + crypto_box_SEALBYTES);
    if (padded == NULL || boxed == NULL)
        die("out of memory");
    memcpy(padded, sbuf, slen);
    if (sodium_pad(&padded_len, padded, slen, PARLEY_PAD_BLOCK, slen + PARLEY_PAD_BLOCK) != 0)
        die("pad");
    emit_u64(v, "sealed.padded_len", padded_len);
    emit_hex(v, "sealed.padding", padded + slen, padded_len - slen);

    /* The envelope around fixed sealed bytes (a 0x00..0xff pattern, as long as this seal). */
    fixed_sealed = malloc(padded_len + crypto_box_SEALBYTES);
    if (fixed_sealed == NULL)
        die("out of memory");
    for (size_t i = 0; i < padded_len + crypto_box_SEALBYTES; i++)
        fixed_sealed[i] = (uint8_t)i;
    parley_routing_id(p->customer->sign_pk, PARLEY_ROUTING_CUSTOMER, routing);
    if (parley__envelope_pack(envelope_id, conversation_id, routing, fixed_sealed,
                              padded_len + crypto_box_SEALBYTES, &env, &env_len) != PARLEY_OK)
        die("envelope pack");
    emit_hex(v, "envelope.fixed_sealed", env, env_len);
    free(env);
    free(fixed_sealed);

    /* Sealed to the customer now: it must open to the fields recorded here. */
    crypto_box_seal(boxed, padded, padded_len, p->customer->box_pk);
    memset(&trust, 0, sizeof(trust));
    trust.brand_pk = p->brand->sign_pk;
    trust.brand_id = BRAND_ID;
    trust.now = NOW;
    trust.require_agent = 1;
    err = parley__open_sealed(boxed, padded_len + crypto_box_SEALBYTES, p->customer->box_pk,
                              p->customer->secret->box_sk, conversation_id, &trust, &opened, &ci,
                              &is_agent);
    emit_err(v, "open_sealed", err);
    if (err == PARLEY_OK) {
        emit_u64(v, "open_sealed.seq", opened->seq);
        emit_u64(v, "open_sealed.time_ms", opened->time_ms);
        emit_u64(v, "open_sealed.sender_is_agent", (uint64_t)is_agent);
        emit_text(v, "open_sealed.agent_id", ci.agent_id);
        emit_hex(v, "open_sealed.sender_sign_pk", opened->sender_sign_key.data, 32);
        emit_hex(v, "open_sealed.next_receive_key", opened->next_receive_key.data,
                 opened->next_receive_key.len);
        {
            char got[256] = "";
            if (opened->body_case == PARLEY__PAYLOAD__BODY_TEXT &&
                opened->text->text.len < sizeof(got)) {
                memcpy(got, opened->text->text.data, opened->text->text.len);
                got[opened->text->text.len] = '\0';
            }
            emit_text(v, "open_sealed.text", got);
        }
        parley__payload_free(opened);
    }
    if (parley__envelope_pack(envelope_id, conversation_id, routing, boxed,
                              padded_len + crypto_box_SEALBYTES, &env, &env_len) != PARLEY_OK)
        die("envelope pack");
    err = parley_open(env, env_len, p->customer, &trust, &o);
    emit_err(v, "open", err);
    if (err == PARLEY_OK) {
        emit_hex(v, "open.envelope_id", o.envelope_id, 16);
        emit_hex(v, "open.conversation_id", o.conversation_id, 16);
        emit_u64(v, "open.seq", o.seq);
        emit_u64(v, "open.kind", (uint64_t)o.kind);
        emit_text(v, "open.sender_display_name", o.sender_cert.display_name);
        emit_u64(v, "open.sender_serial", o.sender_cert.serial);
        emit_text(v, "open.text", o.text);
        parley_opened_clear(&o);
    }
    free(env);
    free(boxed);
    parley_free(padded, slen + PARLEY_PAD_BLOCK);
    parley_free(sbuf, slen);
    parley_free(pbuf, plen);
    parley__agent_cert__free_unpacked(cert, NULL);
}

int main(int argc, char **argv)
{
    struct parties p;
    struct certs c;
    struct vecfile v;
    const char *dir;
    int writing = 0;

    if (argc == 3 && strcmp(argv[1], "--write") == 0) {
        writing = 1;
        dir = argv[2];
    } else if (argc == 2) {
        dir = argv[1];
    } else {
        fprintf(stderr, "usage: %s [--write] DIR\n", argv[0]);
        return 2;
    }
    if (parley_init() != PARLEY_OK)
        die("parley_init");
    p.brand = seeded(0x01);
    p.agent = seeded(0x02);
    p.customer = seeded(0x03);
    p.agent2 = seeded(0x04);

    vec_begin(&v, dir, "identity", writing);
    identity_vectors(&v, "brand", p.brand);
    identity_vectors(&v, "agent", p.agent);
    identity_vectors(&v, "customer", p.customer);
    identity_vectors(&v, "agent2", p.agent2);
    vec_end(&v);

    vec_begin(&v, dir, "signing", writing);
    signing_vectors(&v, &p);
    vec_end(&v);

    vec_begin(&v, dir, "cert", writing);
    cert_vectors(&v, &p, &c);
    vec_end(&v);

    vec_begin(&v, dir, "directory", writing);
    directory_vectors(&v, &p, &c);
    vec_end(&v);

    vec_begin(&v, dir, "conversation", writing);
    conversation_vectors(&v, &p);
    vec_end(&v);

    vec_begin(&v, dir, "payload", writing);
    payload_vectors(&v, &p, &c);
    vec_end(&v);

    parley_free(c.amelie, c.amelie_len);
    parley_free(c.zoe, c.zoe_len);
    parley_free(c.revlist, c.revlist_len);
    parley_identity_free(p.brand);
    parley_identity_free(p.agent);
    parley_identity_free(p.customer);
    parley_identity_free(p.agent2);
    if (total_failures > 0) {
        fprintf(stderr, "vectors: %d mismatches\n", total_failures);
        return 1;
    }
    return 0;
}
