/*
 * Sealing and opening messages: round trips for customers and certified
 * agents, padded sizes, and every way a relay or a peer can tamper with
 * an envelope (flipped bits, truncation, bad padding, garbage, forged or
 * forwarded payloads, untrusted certificates), each with its own code.
 */
#include <string.h>

#include "check.h"
#include "fixture.h"

static parley_identity *brand, *other_brand, *agent, *agent2, *customer, *stranger;
static const uint8_t conv[16] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t next_pk[32] = {0x77, 1,  2,  3,  4,  5,  6,  7,  8,  9,   10,
                                    11,   12, 13, 14, 15, 16, 17, 18, 19, 20,  21,
                                    22,   23, 24, 25, 26, 27, 28, 29, 30, 0x99};
static uint8_t *agent_cert;
static size_t agent_cert_len;

static parley_seal_params params(const parley_identity *from, const parley_identity *to)
{
    parley_seal_params p;

    memset(&p, 0, sizeof(p));
    p.sender = from;
    p.recipient_sign_pk = parley_identity_sign_pk(to);
    p.recipient_box_pk = parley_identity_box_pk(to);
    p.conversation_id = conv;
    p.seq = 3;
    p.time_ms = UINT64_C(1750000000456);
    return p;
}

static parley_trust trust_of(int require_agent)
{
    parley_trust t;

    memset(&t, 0, sizeof(t));
    t.brand_pk = parley_identity_sign_pk(brand);
    t.brand_id = FX_BRAND_ID;
    t.now = FX_NOW;
    t.require_agent = require_agent;
    return t;
}

static uint8_t *seal(const parley_seal_params *p, const char *text, size_t len, size_t *env_len)
{
    uint8_t *env = NULL;

    CHECK_OK(parley_seal_text(p, text, len, &env, env_len));
    CHECK(*env_len <= PARLEY_MAX_ENVELOPE);
    return env;
}

/* The sealed field's position inside an encoded envelope. */
static size_t sealed_offset(const uint8_t *env, size_t env_len, size_t *sealed_len)
{
    uint8_t *sealed = fx_envelope_sealed(env, env_len, sealed_len);
    const uint8_t *at = memmem(env, env_len, sealed, *sealed_len);

    CHECK(at != NULL);
    free(sealed);
    return (size_t)(at - env);
}

static void check_text_round_trip(size_t len)
{
    parley_seal_params p = params(customer, agent);
    parley_trust t = trust_of(0);
    parley_opened o;
    char *text = malloc(len + 1);
    uint8_t *env, *inner;
    size_t env_len, sealed_len, inner_len;

    CHECK(text != NULL);
    for (size_t i = 0; i < len; i++)
        text[i] = (char)('a' + i % 26);
    text[len] = '\0';
    env = seal(&p, text, len, &env_len);

    CHECK_OK(parley_open(env, env_len, agent, &t, &o));
    CHECK(o.kind == PARLEY_BODY_TEXT);
    CHECK(o.text != NULL && o.text_len == len && memcmp(o.text, text, len) == 0);
    CHECK(o.text[len] == '\0');
    CHECK(o.seq == 3 && o.time_ms == UINT64_C(1750000000456));
    CHECK(memcmp(o.conversation_id, conv, 16) == 0);
    CHECK(memcmp(o.sender_sign_pk, parley_identity_sign_pk(customer), 32) == 0);
    CHECK(o.sender_is_agent == 0 && o.has_next_receive_pk == 0);
    parley_opened_clear(&o);
    CHECK(o.text == NULL);

    /* The sealed size is the signed Sealed, padded to whole blocks, plus the seal. */
    (void)sealed_offset(env, env_len, &sealed_len);
    inner = fx_unseal(env, env_len, agent, &inner_len);
    CHECK(sealed_len >= crypto_box_SEALBYTES);
    CHECK((sealed_len - crypto_box_SEALBYTES) % PARLEY_PAD_BLOCK == 0);
    CHECK(sealed_len - crypto_box_SEALBYTES ==
          (inner_len / PARLEY_PAD_BLOCK + 1) * PARLEY_PAD_BLOCK);
    CHECK(inner_len > len);
    /* The relay never sees the text. */
    if (len >= 8)
        CHECK(memmem(env, env_len, text, len) == NULL);
    free(inner);
    parley_free(env, env_len);
    free(text);
}

/* Sealed size of a text of len bytes, customer to agent. */
static size_t sealed_size(size_t len)
{
    parley_seal_params p = params(customer, agent);
    char *text = calloc(1, len + 1);
    uint8_t *env;
    size_t env_len, sealed_len;

    CHECK(text != NULL);
    memset(text, 'x', len);
    env = seal(&p, text, len, &env_len);
    (void)sealed_offset(env, env_len, &sealed_len);
    parley_free(env, env_len);
    free(text);
    return sealed_len;
}

static void test_round_trips(void)
{
    static const size_t lens[] = {0, 1, 255, 256, 257, 1000, PARLEY_MAX_TEXT};
    parley_seal_params p = params(customer, agent);
    parley_trust t = trust_of(0);
    parley_opened o;
    char *big;
    uint8_t *env, *env2;
    size_t env_len, env2_len, base;

    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        check_text_round_trip(lens[i]);

    /* Sizes move in whole blocks: short texts look alike, a block more text is a block more. */
    base = sealed_size(0);
    CHECK(sealed_size(1) == base && sealed_size(20) == base);
    CHECK(sealed_size(300) == base + PARLEY_PAD_BLOCK);
    CHECK(sealed_size(556) == base + 2 * PARLEY_PAD_BLOCK);

    /* Over the text limit; text with a NUL; invalid parameters. */
    big = malloc(PARLEY_MAX_TEXT + 2);
    CHECK(big != NULL);
    memset(big, 'b', PARLEY_MAX_TEXT + 1);
    big[PARLEY_MAX_TEXT + 1] = '\0';
    env = (uint8_t *)1;
    CHECK_ERR(parley_seal_text(&p, big, PARLEY_MAX_TEXT + 1, &env, &env_len), PARLEY_ETOOBIG);
    free(big);
    CHECK_ERR(parley_seal_text(&p, "a\0b", 3, &env, &env_len), PARLEY_EINVAL);
    CHECK_ERR(parley_seal_text(&p, NULL, 1, &env, &env_len), PARLEY_EINVAL);
    CHECK_ERR(parley_seal_text(NULL, "a", 1, &env, &env_len), PARLEY_EINVAL);
    p.seq = 0;
    CHECK_ERR(parley_seal_text(&p, "a", 1, &env, &env_len), PARLEY_EINVAL);
    p = params(customer, agent);
    p.conversation_id = NULL;
    CHECK_ERR(parley_seal_text(&p, "a", 1, &env, &env_len), PARLEY_EINVAL);
    p = params(customer, agent);

    /* An empty text may be given as NULL. */
    CHECK_OK(parley_seal_text(&p, NULL, 0, &env, &env_len));
    CHECK_OK(parley_open(env, env_len, agent, &t, &o));
    CHECK(o.text != NULL && o.text_len == 0 && o.text[0] == '\0');
    parley_opened_clear(&o);

    /* Two seals of one message share nothing the relay could link. */
    CHECK_OK(parley_seal_text(&p, NULL, 0, &env2, &env2_len));
    CHECK(env_len == env2_len && memcmp(env, env2, env_len) != 0);
    {
        uint8_t *s1, *s2;
        size_t l1, l2;
        Parley__Envelope *e1, *e2;

        s1 = fx_envelope_sealed(env, env_len, &l1);
        s2 = fx_envelope_sealed(env2, env2_len, &l2);
        CHECK(l1 == l2 && memcmp(s1, s2, 32) != 0); /* fresh ephemeral key */
        e1 = parley__envelope__unpack(NULL, env_len, env);
        e2 = parley__envelope__unpack(NULL, env2_len, env2);
        CHECK(e1 != NULL && e2 != NULL);
        CHECK(memcmp(e1->envelope_id.data, e2->envelope_id.data, 16) != 0);
        /* Routed by the recipient's routing id, in the conversation given. */
        {
            uint8_t routing[32];

            parley_routing_id(parley_identity_sign_pk(agent), PARLEY_ROUTING_AGENT, routing);
            CHECK(parley__len_is(e1->recipient, 32) &&
                  memcmp(e1->recipient.data, routing, 32) == 0);
            CHECK(memcmp(e1->conversation_id.data, conv, 16) == 0);
        }
        parley__envelope__free_unpacked(e1, NULL);
        parley__envelope__free_unpacked(e2, NULL);
        free(s1);
        free(s2);
    }
    parley_free(env, env_len);
    parley_free(env2, env2_len);

    /* UTF-8 text with accents round-trips byte for byte. */
    {
        const char *fr = "Bonjour, \xc3\xa7"
                         "a va ? \xe2\x82\xac 12,50 \xf0\x9f\x98\x80";

        env = seal(&p, fr, strlen(fr), &env_len);
        CHECK_OK(parley_open(env, env_len, agent, &t, &o));
        CHECK(o.text_len == strlen(fr) && strcmp(o.text, fr) == 0);
        parley_opened_clear(&o);
        parley_free(env, env_len);
    }
}

static void test_agent_sender(void)
{
    parley_seal_params p = params(agent, customer);
    parley_trust t = trust_of(1);
    parley_opened o;
    char *big = malloc(PARLEY_MAX_TEXT + 1);
    uint8_t *env;
    size_t env_len;

    p.sender_cert = agent_cert;
    p.sender_cert_len = agent_cert_len;
    p.next_receive_pk = next_pk;
    env = seal(&p, "Bonjour, je suis Zo\xc3\xa9", 21, &env_len);
    CHECK_OK(parley_open(env, env_len, customer, &t, &o));
    CHECK(o.sender_is_agent == 1);
    CHECK(strcmp(o.sender_cert.agent_id, "amelie") == 0);
    CHECK(strcmp(o.sender_cert.brand_id, FX_BRAND_ID) == 0);
    CHECK(strcmp(o.sender_cert.display_name, "Agent Zo\xc3\xa9") == 0);
    CHECK(o.sender_cert.serial == 7);
    CHECK(memcmp(o.sender_cert.sign_pk, parley_identity_sign_pk(agent), 32) == 0);
    CHECK(memcmp(o.sender_sign_pk, parley_identity_sign_pk(agent), 32) == 0);
    CHECK(o.has_next_receive_pk == 1 && memcmp(o.next_receive_pk, next_pk, 32) == 0);
    CHECK(strcmp(o.text, "Bonjour, je suis Zo\xc3\xa9") == 0);
    parley_opened_clear(&o);

    /* Without require_agent the agent is still recognised. */
    t.require_agent = 0;
    CHECK_OK(parley_open(env, env_len, customer, &t, &o));
    CHECK(o.sender_is_agent == 1);
    parley_opened_clear(&o);
    parley_free(env, env_len);

    /* The largest text, from an agent with a certificate and a next key, still fits. */
    CHECK(big != NULL);
    memset(big, 'z', PARLEY_MAX_TEXT);
    big[PARLEY_MAX_TEXT] = '\0';
    env = seal(&p, big, PARLEY_MAX_TEXT, &env_len);
    CHECK_OK(parley_open(env, env_len, customer, &t, &o));
    CHECK(o.text_len == PARLEY_MAX_TEXT && memcmp(o.text, big, PARLEY_MAX_TEXT) == 0);
    parley_opened_clear(&o);
    parley_free(env, env_len);
    free(big);

    /* A certificate that does not parse, or is too big, is refused at sealing. */
    p.sender_cert_len = 5;
    p.sender_cert = (const uint8_t *)"\xff\xff\xff\xff\xff";
    CHECK_ERR(parley_seal_text(&p, "x", 1, &env, &env_len), PARLEY_EMALFORMED);
    p.sender_cert = agent_cert;
    p.sender_cert_len = PARLEY_MAX_CERT + 1;
    CHECK_ERR(parley_seal_text(&p, "x", 1, &env, &env_len), PARLEY_ETOOBIG);
}

/* Opens env as the customer with trust t and expects want; out must be left empty. */
static void expect_open(const uint8_t *env, size_t env_len, const parley_identity *id,
                        const parley_trust *t, parley_err want)
{
    parley_opened o;

    memset(&o, 0x5a, sizeof(o));
    CHECK_ERR(parley_open(env, env_len, id, t, &o), want);
    if (want != PARLEY_OK) {
        CHECK(o.text == NULL && o.sender_is_agent == 0 && o.kind == PARLEY_BODY_NONE);
    }
    parley_opened_clear(&o);
}

/* An agent message carrying cert, sealed to the customer. */
static uint8_t *agent_msg(const parley_identity *from, const uint8_t *cert, size_t cert_len,
                          size_t *env_len)
{
    parley_seal_params p = params(from, customer);

    p.sender_cert = cert;
    p.sender_cert_len = cert_len;
    return seal(&p, "hello", 5, env_len);
}

static void test_trust(void)
{
    parley_trust t = trust_of(1);
    parley_revlist *revs = NULL;
    parley_cert_info info;
    uint8_t *env, *cert, *rl;
    size_t env_len, cert_len, rl_len;
    const uint8_t *bpk = parley_identity_sign_pk(brand);
    static const uint64_t revoked[] = {7};

    /* A customer message where only agents are expected. */
    {
        parley_seal_params p = params(customer, agent);

        env = seal(&p, "hi", 2, &env_len);
        expect_open(env, env_len, agent, &t, PARLEY_EUNTRUSTED);
        t.require_agent = 0;
        expect_open(env, env_len, agent, &t, PARLEY_OK);
        expect_open(env, env_len, agent, NULL, PARLEY_OK);
        t.require_agent = 1;
        parley_free(env, env_len);
    }

    /* A certificate with nobody to trust it: no pinned key, no trust at all. */
    env = agent_msg(agent, agent_cert, agent_cert_len, &env_len);
    expect_open(env, env_len, customer, NULL, PARLEY_EUNTRUSTED);
    t.brand_pk = NULL;
    expect_open(env, env_len, customer, &t, PARLEY_EUNTRUSTED);
    t = trust_of(1);

    /* Validity window and revocation, in parley_open as in parley_cert_verify. */
    t.now = FX_NOT_AFTER;
    expect_open(env, env_len, customer, &t, PARLEY_EEXPIRED);
    CHECK_ERR(parley_cert_verify(agent_cert, agent_cert_len, bpk, FX_BRAND_ID, t.now, NULL, &info),
              PARLEY_EEXPIRED);
    t.now = FX_NOT_BEFORE - 1;
    expect_open(env, env_len, customer, &t, PARLEY_ENOTYETVALID);
    CHECK_ERR(parley_cert_verify(agent_cert, agent_cert_len, bpk, FX_BRAND_ID, t.now, NULL, &info),
              PARLEY_ENOTYETVALID);
    t.now = FX_NOT_BEFORE;
    expect_open(env, env_len, customer, &t, PARLEY_OK);
    t = trust_of(1);
    CHECK_OK(parley_revlist_build(brand, FX_BRAND_ID, 2, revoked, 1, FX_NOW, &rl, &rl_len));
    CHECK_OK(parley_revlist_open(&revs, rl, rl_len, bpk, FX_BRAND_ID, 0));
    t.revs = revs;
    expect_open(env, env_len, customer, &t, PARLEY_EREVOKED);
    CHECK_ERR(parley_cert_verify(agent_cert, agent_cert_len, bpk, FX_BRAND_ID, FX_NOW, revs, &info),
              PARLEY_EREVOKED);
    t = trust_of(1);
    /* Another brand pinned: the same message is untrusted; another brand id: wrong brand. */
    t.brand_pk = parley_identity_sign_pk(other_brand);
    expect_open(env, env_len, customer, &t, PARLEY_EUNTRUSTED);
    t = trust_of(1);
    t.brand_id = "other";
    expect_open(env, env_len, customer, &t, PARLEY_EWRONGBRAND);
    parley_free(env, env_len);

    /* A certificate issued by another brand key under our brand id. */
    cert = fx_cert(other_brand, FX_BRAND_ID, agent, "amelie", 7, FX_NOT_BEFORE, FX_NOT_AFTER,
                   &cert_len);
    env = agent_msg(agent, cert, cert_len, &env_len);
    t = trust_of(1);
    expect_open(env, env_len, customer, &t, PARLEY_EUNTRUSTED);
    t.require_agent = 0;
    expect_open(env, env_len, customer, &t, PARLEY_EUNTRUSTED);
    CHECK_ERR(parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, FX_NOW, NULL, &info),
              PARLEY_EBADSIG);
    parley_free(env, env_len);
    parley_free(cert, cert_len);

    /* Signed by our brand key, but for another brand id. */
    cert = fx_cert(brand, "other", agent, "amelie", 7, FX_NOT_BEFORE, FX_NOT_AFTER, &cert_len);
    env = agent_msg(agent, cert, cert_len, &env_len);
    t = trust_of(1);
    expect_open(env, env_len, customer, &t, PARLEY_EWRONGBRAND);
    CHECK_ERR(parley_cert_verify(cert, cert_len, bpk, FX_BRAND_ID, FX_NOW, NULL, &info),
              PARLEY_EWRONGBRAND);
    parley_free(env, env_len);
    parley_free(cert, cert_len);

    /*
     * A valid certificate of another agent, presented by agent2's key:
     * parley_seal_text refuses to build it, and a hand-made one is refused
     * by the receiver.
     */
    {
        parley_seal_params p = params(agent2, customer);
        Parley__Payload pl;
        Parley__Text tx;
        Parley__AgentCert *c = parley__agent_cert__unpack(NULL, agent_cert_len, agent_cert);
        uint8_t *inner, *padded, *sealed;
        size_t inner_len, padded_len, sealed_len;
        char text[] = "je suis Am\xc3\xa9lie";

        p.sender_cert = agent_cert;
        p.sender_cert_len = agent_cert_len;
        env = (uint8_t *)1;
        CHECK_ERR(parley_seal_text(&p, "x", 1, &env, &env_len), PARLEY_EINVAL);
        CHECK(c != NULL);
        fx_text_payload(&pl, &tx, agent2, parley_identity_box_pk(customer), conv, text);
        pl.sender_cert = c;
        inner = fx_sealed_bytes(&pl, agent2->secret->sign_sk, &inner_len);
        padded = fx_pad(inner, inner_len, &padded_len);
        sealed = fx_seal_raw(padded, padded_len, parley_identity_box_pk(customer), &sealed_len);
        env = fx_wrap(conv, customer, sealed, sealed_len, &env_len);
        t = trust_of(1);
        expect_open(env, env_len, customer, &t, PARLEY_EUNTRUSTED);
        t.require_agent = 0;
        expect_open(env, env_len, customer, &t, PARLEY_EUNTRUSTED);
        /* The same payload signed by the certified agent's key: accepted. */
        free(inner);
        free(padded);
        free(sealed);
        free(env);
        pl.sender_sign_key = (ProtobufCBinaryData){32, agent->sign_pk};
        inner = fx_sealed_bytes(&pl, agent->secret->sign_sk, &inner_len);
        padded = fx_pad(inner, inner_len, &padded_len);
        sealed = fx_seal_raw(padded, padded_len, parley_identity_box_pk(customer), &sealed_len);
        env = fx_wrap(conv, customer, sealed, sealed_len, &env_len);
        t.require_agent = 1;
        expect_open(env, env_len, customer, &t, PARLEY_OK);
        free(inner);
        free(padded);
        free(sealed);
        free(env);
        parley__agent_cert__free_unpacked(c, NULL);
    }

    parley_revlist_free(revs);
    parley_free(rl, rl_len);
}

/* The opened message every tampered copy is compared with. */
static int same_content(const parley_opened *a, const parley_opened *b)
{
    return a->kind == b->kind && a->text_len == b->text_len &&
           memcmp(a->text, b->text, a->text_len) == 0 && a->seq == b->seq &&
           a->time_ms == b->time_ms && memcmp(a->conversation_id, b->conversation_id, 16) == 0 &&
           memcmp(a->sender_sign_pk, b->sender_sign_pk, 32) == 0 &&
           a->sender_is_agent == b->sender_is_agent &&
           memcmp(&a->sender_cert, &b->sender_cert, sizeof(a->sender_cert)) == 0 &&
           a->has_next_receive_pk == b->has_next_receive_pk &&
           memcmp(a->next_receive_pk, b->next_receive_pk, 32) == 0;
}

static void test_bit_flips(void)
{
    parley_seal_params p = params(agent, customer);
    parley_trust t = trust_of(1);
    parley_opened ref, o;
    uint8_t *env, *bad, *sealed;
    size_t env_len, sealed_len, s_off, eid_off, conv_off, rcpt_off;
    size_t n_ok_same = 0, n_ok_eid = 0;
    Parley__Payload *payload = NULL;
    parley_cert_info ci;
    int is_agent;
    parley_err got;

    p.sender_cert = agent_cert;
    p.sender_cert_len = agent_cert_len;
    p.next_receive_pk = next_pk;
    env = seal(&p, "Votre remboursement est valid\xc3\xa9.", 32, &env_len);
    CHECK_OK(parley_open(env, env_len, customer, &t, &ref));

    /* Every bit of the sealed bytes: the seal no longer opens. */
    sealed = fx_envelope_sealed(env, env_len, &sealed_len);
    CHECK_OK(parley__open_sealed(sealed, sealed_len, customer->box_pk, customer->secret->box_sk,
                                 conv, &t, &payload, &ci, &is_agent));
    parley__payload_free(payload);
    for (size_t bit = 0; bit < sealed_len * 8; bit++) {
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        payload = (Parley__Payload *)1;
        CHECK_ERR(parley__open_sealed(sealed, sealed_len, customer->box_pk,
                                      customer->secret->box_sk, conv, &t, &payload, &ci, &is_agent),
                  PARLEY_EBADSEAL);
        CHECK(payload == NULL);
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    free(sealed);

    /*
     * Every bit of the whole envelope. Inside the sealed bytes: EBADSEAL.
     * Inside the conversation id: EWRONGCONVERSATION (it is bound in the
     * signed payload). The envelope id and routing id are the relay's
     * routing data, outside the signature: the message still opens, with
     * the same content; only a changed envelope id shows. Tags and
     * lengths: the envelope no longer decodes to a valid one.
     */
    s_off = sealed_offset(env, env_len, &sealed_len);
    eid_off = (size_t)((const uint8_t *)memmem(env, env_len, ref.envelope_id, 16) - env);
    conv_off = (size_t)((const uint8_t *)memmem(env, env_len, conv, 16) - env);
    {
        uint8_t routing[32];

        parley_routing_id(parley_identity_sign_pk(customer), PARLEY_ROUTING_CUSTOMER, routing);
        rcpt_off = (size_t)((const uint8_t *)memmem(env, env_len, routing, 32) - env);
    }
    CHECK(eid_off < env_len && conv_off < env_len && rcpt_off < env_len);
    bad = malloc(env_len);
    CHECK(bad != NULL);
    memcpy(bad, env, env_len);
    for (size_t bit = 0; bit < env_len * 8; bit++) {
        size_t at = bit / 8;

        bad[at] ^= (uint8_t)(1u << (bit % 8));
        memset(&o, 0, sizeof(o));
        got = parley_open(bad, env_len, customer, &t, &o);
        if (at >= s_off && at < s_off + sealed_len) {
            CHECK_ERR(got, PARLEY_EBADSEAL);
        } else if (at >= conv_off && at < conv_off + 16) {
            CHECK_ERR(got, PARLEY_EWRONGCONVERSATION);
        } else if (at >= eid_off && at < eid_off + 16) {
            CHECK_OK(got);
            CHECK(same_content(&o, &ref));
            CHECK(o.envelope_id[at - eid_off] ==
                  (ref.envelope_id[at - eid_off] ^ (1u << (bit % 8))));
            n_ok_eid++;
        } else if (at >= rcpt_off && at < rcpt_off + 32) {
            CHECK_OK(got);
            CHECK(same_content(&o, &ref));
            CHECK(memcmp(o.envelope_id, ref.envelope_id, 16) == 0);
            n_ok_same++;
        } else if (got == PARLEY_OK) {
            /* A framing byte whose change decodes to the same envelope. */
            CHECK(same_content(&o, &ref));
            CHECK(memcmp(o.envelope_id, ref.envelope_id, 16) == 0);
            n_ok_same++;
        }
        CHECK(got == PARLEY_OK || (o.text == NULL && o.kind == PARLEY_BODY_NONE));
        parley_opened_clear(&o);
        bad[at] ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK(n_ok_eid == 16 * 8);
    CHECK(n_ok_same == 32 * 8);

    /* Every truncation: refused, never a crash. */
    for (size_t n = 0; n < env_len; n++) {
        CHECK_NOT_OK(parley_open(bad, n, customer, &t, &o), got);
        CHECK(o.text == NULL);
    }
    free(bad);
    parley_opened_clear(&ref);
    parley_free(env, env_len);
}

/* Seals hand-made plaintext (already padded, or deliberately not) to the customer. */
static void expect_inner(const uint8_t *plain, size_t len, parley_err want)
{
    parley_trust t = trust_of(0);
    uint8_t *sealed, *env;
    size_t sealed_len, env_len;

    sealed = fx_seal_raw(plain, len, parley_identity_box_pk(customer), &sealed_len);
    env = fx_wrap(conv, customer, sealed, sealed_len, &env_len);
    expect_open(env, env_len, customer, &t, want);
    free(sealed);
    free(env);
}

/* Pads correctly and seals; expects want. */
static void expect_padded(const uint8_t *buf, size_t len, parley_err want)
{
    size_t padded_len;
    uint8_t *padded = fx_pad(buf, len, &padded_len);

    expect_inner(padded, padded_len, want);
    free(padded);
}

static void test_inner_tampering(void)
{
    Parley__Payload pl;
    Parley__Text tx;
    uint8_t *sealed, *plain, *env, *sealed2, *env2;
    size_t sealed_len, plain_len, env_len, sealed2_len, env2_len;
    uint8_t junk[300];
    char text[] = "Merci pour votre patience.";

    /* A correctly signed Sealed, sealed by hand: the baseline opens. */
    fx_text_payload(&pl, &tx, agent2, parley_identity_box_pk(customer), conv, text);
    sealed = fx_sealed_bytes(&pl, agent2->secret->sign_sk, &sealed_len);
    expect_padded(sealed, sealed_len, PARLEY_OK);

    /*
     * Padding: no 0x80 marker, bytes after the marker, more than a block of
     * it, a length that is not whole blocks. sodium_pad always leaves the
     * marker in the last block.
     */
    plain_len = (sealed_len / PARLEY_PAD_BLOCK + 1) * PARLEY_PAD_BLOCK;
    CHECK(plain_len - sealed_len >= 2); /* room for a byte after the marker */
    plain = calloc(1, plain_len + 2 * PARLEY_PAD_BLOCK);
    CHECK(plain != NULL);
    memcpy(plain, sealed, sealed_len);
    expect_inner(plain, plain_len, PARLEY_EBADPADDING); /* no marker */
    expect_inner(plain, plain_len + PARLEY_PAD_BLOCK, PARLEY_EBADPADDING);
    plain[sealed_len] = 0x80;
    expect_inner(plain, plain_len, PARLEY_OK); /* as sodium_pad writes it */
    plain[plain_len - 1] = 0x01;
    expect_inner(plain, plain_len, PARLEY_EBADPADDING); /* nonzero after the marker */
    plain[plain_len - 1] = 0x00;
    expect_inner(plain, plain_len + PARLEY_PAD_BLOCK, PARLEY_EBADPADDING); /* a block too many */
    expect_inner(plain, plain_len - 1, PARLEY_EBADPADDING);                /* not whole blocks */
    expect_inner(plain, plain_len + 1, PARLEY_EBADPADDING);
    expect_inner(plain, sealed_len + 1, PARLEY_EBADPADDING); /* marker, no rounding */
    expect_inner(plain, 0, PARLEY_EBADPADDING);              /* nothing inside the seal */
    /* Valid padding around a Sealed with a stray byte: padding is fine, content is not. */
    plain[sealed_len + 1] = 0x80;
    expect_inner(plain, plain_len, PARLEY_EMALFORMED);
    free(plain);

    /* Seals that do not open: too short, or sealed to someone else. */
    {
        parley_trust t = trust_of(0);
        uint8_t tiny[crypto_box_SEALBYTES - 1] = {0};

        env = fx_wrap(conv, customer, tiny, sizeof(tiny), &env_len);
        expect_open(env, env_len, customer, &t, PARLEY_EBADSEAL);
        free(env);
        env = fx_wrap(conv, customer, tiny, 0, &env_len);
        expect_open(env, env_len, customer, &t, PARLEY_EMALFORMED);
        free(env);
        plain_len = 0;
        plain = fx_pad(sealed, sealed_len, &plain_len);
        sealed2 = fx_seal_raw(plain, plain_len, parley_identity_box_pk(stranger), &sealed2_len);
        env = fx_wrap(conv, customer, sealed2, sealed2_len, &env_len);
        expect_open(env, env_len, customer, &t, PARLEY_EBADSEAL);
        free(env);
        free(sealed2);
        free(plain);
    }

    /* Garbage inside a valid seal and padding. */
    memset(junk, 0xff, sizeof(junk));
    expect_padded(junk, 100, PARLEY_EMALFORMED);
    expect_padded(junk, 0, PARLEY_EMALFORMED);
    expect_padded(sealed, sealed_len - 1, PARLEY_EMALFORMED);
    {
        Parley__Sealed s = PARLEY__SEALED__INIT;
        uint8_t sig[64], *buf;
        size_t len;

        /* A signed payload that is not a payload. */
        CHECK_OK(parley__sign_raw(agent2->secret->sign_sk, PARLEY__DOMAIN_PAYLOAD, junk, 50, sig));
        s.payload = (ProtobufCBinaryData){50, junk};
        s.signature = (ProtobufCBinaryData){64, sig};
        CHECK_OK(parley__pack(&s.base, &buf, &len));
        expect_padded(buf, len, PARLEY_EMALFORMED);
        free(buf);
        /* A payload without signature; with a short one. */
        CHECK_OK(parley__pack(&pl.base, &buf, &len));
        s.payload = (ProtobufCBinaryData){len, buf};
        s.signature = (ProtobufCBinaryData){0, NULL};
        {
            uint8_t *sb;
            size_t sl;

            CHECK_OK(parley__pack(&s.base, &sb, &sl));
            expect_padded(sb, sl, PARLEY_EMALFORMED);
            free(sb);
            s.signature = (ProtobufCBinaryData){63, sig};
            CHECK_OK(parley__pack(&s.base, &sb, &sl));
            expect_padded(sb, sl, PARLEY_EMALFORMED);
            free(sb);
            /* The right payload under a signature made for another domain. */
            CHECK_OK(
                parley__sign_raw(agent2->secret->sign_sk, PARLEY__DOMAIN_CONSENT, buf, len, sig));
            s.signature = (ProtobufCBinaryData){64, sig};
            CHECK_OK(parley__pack(&s.base, &sb, &sl));
            expect_padded(sb, sl, PARLEY_EBADSIG);
            free(sb);
        }
        free(buf);
    }

    /* Well-signed payloads that break the structure rules. */
    {
        uint8_t *b;
        size_t l;

        pl.seq = 0;
        b = fx_sealed_bytes(&pl, agent2->secret->sign_sk, &l);
        expect_padded(b, l, PARLEY_EMALFORMED);
        free(b);
        pl.seq = 1;
        pl.next_receive_key = (ProtobufCBinaryData){31, (uint8_t *)next_pk};
        b = fx_sealed_bytes(&pl, agent2->secret->sign_sk, &l);
        expect_padded(b, l, PARLEY_EMALFORMED);
        free(b);
        pl.next_receive_key = (ProtobufCBinaryData){0, NULL};
        pl.conversation_id.len = 15;
        b = fx_sealed_bytes(&pl, agent2->secret->sign_sk, &l);
        expect_padded(b, l, PARLEY_EMALFORMED);
        free(b);
        pl.conversation_id.len = 16;
        pl.body_case = PARLEY__PAYLOAD__BODY__NOT_SET;
        b = fx_sealed_bytes(&pl, agent2->secret->sign_sk, &l);
        expect_padded(b, l, PARLEY_EMALFORMED);
        free(b);
        pl.body_case = PARLEY__PAYLOAD__BODY_TEXT;
    }

    /* Payload says the sender is agent2; the signature is by the stranger's key. */
    free(sealed);
    sealed = fx_sealed_bytes(&pl, stranger->secret->sign_sk, &sealed_len);
    expect_padded(sealed, sealed_len, PARLEY_EBADSIG);
    free(sealed);

    /* Sealed to the customer's key, but the payload names another recipient key. */
    fx_text_payload(&pl, &tx, agent2, parley_identity_box_pk(stranger), conv, text);
    sealed = fx_sealed_bytes(&pl, agent2->secret->sign_sk, &sealed_len);
    expect_padded(sealed, sealed_len, PARLEY_EWRONGRECIPIENT);
    free(sealed);

    /*
     * Forwarding: a message agent2 sealed to the customer is opened by the
     * customer, whose Sealed is then re-sealed to the stranger and wrapped
     * for them. The stranger's seal opens, but the signed recipient key
     * is the customer's.
     */
    {
        parley_seal_params p = params(agent2, customer);
        parley_trust t = trust_of(0);
        uint8_t *inner, *padded;
        size_t inner_len, padded_len;

        env = seal(&p, "pour vous seulement", 19, &env_len);
        expect_open(env, env_len, customer, &t, PARLEY_OK);
        expect_open(env, env_len, stranger, &t, PARLEY_EBADSEAL);
        inner = fx_unseal(env, env_len, customer, &inner_len);
        padded = fx_pad(inner, inner_len, &padded_len);
        sealed2 = fx_seal_raw(padded, padded_len, parley_identity_box_pk(stranger), &sealed2_len);
        env2 = fx_wrap(conv, stranger, sealed2, sealed2_len, &env2_len);
        expect_open(env2, env2_len, stranger, &t, PARLEY_EWRONGRECIPIENT);
        free(env2);
        free(sealed2);
        free(padded);
        free(inner);

        /* The relay moves the envelope into another conversation. */
        {
            uint8_t other_conv[16];

            memcpy(other_conv, conv, 16);
            other_conv[15] ^= 0xff;
            env2 = fx_envelope_with_conversation(env, env_len, other_conv, &env2_len);
            expect_open(env2, env2_len, customer, &t, PARLEY_EWRONGCONVERSATION);
            free(env2);
        }
        parley_free(env, env_len);
    }
}

/* Text is UTF-8 without NUL on both ends: refused when sealing, malformed when opened. */
static void test_text_encoding(void)
{
    static const char *const bad[] = {"\xff\xfe", "\xc0\xaf", "caf\xc3", "\xed\xa0\x80"};
    parley_seal_params sp = params(agent2, customer);
    Parley__Payload pl;
    Parley__Text tx;
    uint8_t *env = NULL, *sealed;
    size_t env_len = 0, sealed_len;
    char with_nul[] = "avant\0apr\xc3\xa8s";

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_ERR(parley_seal_text(&sp, bad[i], strlen(bad[i]), &env, &env_len), PARLEY_EINVAL);
    CHECK_ERR(parley_seal_text(&sp, with_nul, sizeof(with_nul) - 1, &env, &env_len),
              PARLEY_EINVAL);
    {
        static const char good[] = "ligne 1\n\tligne 2 \xf0\x9f\x99\x82";
        CHECK_OK(parley_seal_text(&sp, good, sizeof(good) - 1, &env, &env_len));
    }
    parley_free(env, env_len);

    /* Signed by a real sender, but carrying a NUL or invalid UTF-8: never reaches the app. */
    fx_text_payload(&pl, &tx, agent2, parley_identity_box_pk(customer), conv, "x");
    tx.text = (ProtobufCBinaryData){sizeof(with_nul) - 1, (uint8_t *)with_nul};
    sealed = fx_sealed_bytes(&pl, agent2->secret->sign_sk, &sealed_len);
    expect_padded(sealed, sealed_len, PARLEY_EMALFORMED);
    free(sealed);
    tx.text = (ProtobufCBinaryData){2, (uint8_t *)"\xff\xfe"};
    sealed = fx_sealed_bytes(&pl, agent2->secret->sign_sk, &sealed_len);
    expect_padded(sealed, sealed_len, PARLEY_EMALFORMED);
    free(sealed);
}

int main(void)
{
    CHECK_OK(parley_init());
    brand = fx_identity(0x01);
    agent = fx_identity(0x02);
    customer = fx_identity(0x03);
    agent2 = fx_identity(0x04);
    stranger = fx_identity(0x06);
    other_brand = fx_identity(0x09);
    agent_cert = fx_cert(brand, FX_BRAND_ID, agent, "amelie", 7, FX_NOT_BEFORE, FX_NOT_AFTER,
                         &agent_cert_len);

    test_round_trips();
    test_agent_sender();
    test_trust();
    test_bit_flips();
    test_inner_tampering();
    test_text_encoding();

    parley_free(agent_cert, agent_cert_len);
    parley_identity_free(brand);
    parley_identity_free(agent);
    parley_identity_free(customer);
    parley_identity_free(agent2);
    parley_identity_free(stranger);
    parley_identity_free(other_brand);
    return 0;
}
