/*
 * The relay's own share of docs/security.md that the other relay tests do
 * not already cover: an erasure request is carried out only for the
 * customer that signs it on its own connection (an agent's, or one signed
 * by or naming another key, is refused whole); a connection's
 * acknowledgements delete only envelopes addressed to the routing id it
 * proved; and the operator log the relay creates is private to its user
 * whatever the umask.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "testkit.h"

/*
 * An erasure request naming `named` (its customer key) and the given
 * conversations with their salts, signed by `signer`.
 */
static int send_erase_as(wsc *c, const parley_identity *signer, const parley_identity *named,
                         const uint8_t conv[16], const uint8_t salt[16])
{
    size_t len;
    uint8_t *frame = pc_erase_frame(signer, named, (const uint8_t(*)[16])conv,
                                    (const uint8_t(*)[16])salt, 1, &len);
    int rc;

    CHECK(frame != NULL);
    rc = wsc_send_binary(c, frame, len);
    free(frame);
    return rc;
}

static void test_erasure_refused(void)
{
    struct tk_env e;
    struct tk_brand b;
    parley_identity *victim = tk_identity(), *other = tk_identity(), *agent = tk_identity();
    uint8_t salt[16], conv[16], to_victim[32], sealed[100], eid[16],
        *cert; /* 100: not a roundtrip's size */
    size_t cert_len;
    Parley__Frame *f;
    wsc *s, *a, *o;

    tk_env_init(&e, "trust-erasure");
    tk_brand_make(&b, "acme", e.dir);
    {
        const char *args[] = {"--brand", b.pin_path, NULL};
        tk_env_start(&e, args);
    }
    tk_random(salt, 16);
    parley_conversation_id(parley_identity_sign_pk(victim), salt, conv);
    tk_routing(victim, to_victim);
    tk_random(sealed, sizeof(sealed));

    /* Something for the victim, in its conversation, from a sender. */
    s = pc_connect(e.relay.port, other, NULL, 0);
    CHECK(s != NULL);
    tk_random(eid, 16);
    CHECK(pc_send_envelope(s, eid, conv, to_victim, sealed, sizeof(sealed)) == 0);
    tk_expect_ack(s, eid, 5000);
    CHECK(tk_stored_until(&e.relay, 1, sizeof(sealed), 5000));

    /* A certified agent of the brand, even with a request bound to its own key: NOT_ALLOWED. */
    tk_cert(b.key, "acme", agent, "alice", "Alice", 1, tk_now() - 60, tk_now() + 3600, &cert,
            &cert_len);
    a = pc_connect(e.relay.port, agent, cert, cert_len); /* which reads its directory */
    CHECK(a != NULL);
    {
        uint8_t own_salt[16], own_conv[16];
        tk_random(own_salt, 16);
        parley_conversation_id(parley_identity_sign_pk(agent), own_salt, own_conv);
        CHECK(send_erase_as(a, agent, agent, own_conv, own_salt) == 0);
    }
    tk_expect_error(a, PARLEY__ERROR__CODE__NOT_ALLOWED, NULL, 5000);
    CHECK(tk_rejects(&e.relay, "not_allowed", 1) >= 1);

    /* Another customer: the victim's request replayed, or one naming the victim signed by it. */
    o = s;
    CHECK(send_erase_as(o, victim, victim, conv, salt) == 0);
    tk_expect_error(o, PARLEY__ERROR__CODE__BAD_SIGNATURE, NULL, 5000);
    CHECK(send_erase_as(o, other, victim, conv, salt) == 0);
    tk_expect_error(o, PARLEY__ERROR__CODE__BAD_SIGNATURE, NULL, 5000);
    /* Naming itself but signed by the victim. */
    CHECK(send_erase_as(o, victim, other, conv, salt) == 0);
    tk_expect_error(o, PARLEY__ERROR__CODE__BAD_SIGNATURE, NULL, 5000);
    CHECK(tk_rejects(&e.relay, "bad_signature", 3) >= 3);
    tk_roundtrip(o, other); /* the connection stays usable */
    CHECKM(tk_stored_until(&e.relay, 1, sizeof(sealed), 5000),
           "a refused erasure request deleted something");

    /* The victim's own request, on its own connection, erases it. */
    {
        wsc *v = pc_connect(e.relay.port, victim, NULL, 0);

        CHECK(v != NULL);
        CHECK(send_erase_as(v, victim, victim, conv, salt) == 0);
        for (;;) {
            f = pc_recv(v, 5000);
            CHECKM(f != NULL, "no answer to the victim's erasure");
            if (f->kind_case == PARLEY__FRAME__KIND_ERASED)
                break;
            CHECKM(f->kind_case == PARLEY__FRAME__KIND_DELIVER, "unexpected frame %d",
                   (int)f->kind_case);
            parley__frame__free_unpacked(f, NULL);
        }
        CHECKM(f->erased->envelopes == 1, "erased %u envelopes, not 1", f->erased->envelopes);
        parley__frame__free_unpacked(f, NULL);
        wsc_free(v);
    }
    wsc_free(a);
    wsc_free(s);
    free(cert);
    parley_identity_free(victim);
    parley_identity_free(other);
    parley_identity_free(agent);
    tk_brand_free(&b);
    tk_env_end(&e);
}

static void test_delivered_only_own(void)
{
    struct tk_env e;
    parley_identity *sender = tk_identity(), *reader = tk_identity(), *thief = tk_identity();
    uint8_t to_reader[32], eid[16], sealed[100]; /* not the size of a roundtrip's */
    wsc *s, *t, *r;

    tk_env_init(&e, "trust-delivered");
    tk_env_start(&e, NULL);
    tk_routing(reader, to_reader);
    tk_random(sealed, sizeof(sealed));
    s = pc_connect(e.relay.port, sender, NULL, 0);
    CHECK(s != NULL);
    tk_random(eid, 16);
    tk_send_acked(s, eid, to_reader, sealed, sizeof(sealed));

    /* Someone who learnt the envelope id acknowledges it as its own: nothing is deleted. */
    t = pc_connect(e.relay.port, thief, NULL, 0);
    CHECK(t != NULL);
    CHECK(pc_send_delivered(t, (const uint8_t(*)[16])eid, 1) == 0);
    tk_roundtrip(t, thief); /* its acknowledgement has been applied by now */
    /* So does the sender, who chose the id. */
    CHECK(pc_send_delivered(s, (const uint8_t(*)[16])eid, 1) == 0);
    tk_roundtrip(s, sender);
    CHECKM(tk_stored_until(&e.relay, 1, sizeof(sealed), 5000),
           "another connection's acknowledgement deleted the reader's envelope");

    /* The reader still gets it. */
    r = pc_connect(e.relay.port, reader, NULL, 0);
    CHECK(r != NULL);
    tk_expect_deliver(r, eid, sealed, sizeof(sealed), 5000);
    wsc_free(r);
    wsc_free(t);
    wsc_free(s);
    parley_identity_free(sender);
    parley_identity_free(reader);
    parley_identity_free(thief);
    tk_env_end(&e);
}

static void test_operator_log_private(void)
{
    struct tk_env e;
    char log[400], arg[400];
    struct stat st;
    mode_t old = umask(0);
    parley_identity *id = tk_identity();
    wsc *c;

    tk_env_init(&e, "trust-log");
    snprintf(log, sizeof(log), "%s/operator.log", e.dir);
    snprintf(arg, sizeof(arg), "%s", log);
    {
        const char *args[] = {"--log", arg, NULL};
        tk_env_start(&e, args);
    }
    c = pc_connect(e.relay.port, id, NULL, 0);
    CHECK(c != NULL);
    tk_roundtrip(c, id);
    wsc_free(c);
    umask(old);
    CHECKM(stat(log, &st) == 0 && st.st_size > 0, "the relay wrote no operator log at %s", log);
    CHECKM((st.st_mode & 07777) == 0600, "operator log has mode %04o, not 0600",
           (unsigned)(st.st_mode & 07777));
    parley_identity_free(id);
    tk_env_end(&e);
}

int main(int argc, char **argv)
{
    static const struct tk_case cases[] = {
        {"erasure_refused", test_erasure_refused},
        {"delivered_only_own", test_delivered_only_own},
        {"operator_log_private", test_operator_log_private},
    };
    return tk_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
