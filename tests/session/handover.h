/*
 * Chain-of-custody scenes for the core tests: a party's conversation
 * state and history as its store holds them, one-time prekeys a hostile
 * relay keeps back, the customer's own key taken from its store, and
 * handovers and custody acknowledgements forged by hand.
 */
#ifndef PARLEY_TEST_HANDOVER_H
#define PARLEY_TEST_HANDOVER_H

#include "forge.h"
#include "world.h"

/* p's stored state of conv (free with conv_state_free), or NULL when it holds none. */
Parley__ConversationState *conv_state_of(struct mr_party *p, const uint8_t conv[16]);
void conv_state_free(Parley__ConversationState *s);
/* The custody counter p holds for conv, and whether it holds an acknowledgement naming itself. */
uint64_t custody_of(struct mr_party *p, const uint8_t conv[16], bool *acknowledged);
/* The salt the customer keeps for conv. */
void salt_of(struct mr_party *customer, const uint8_t conv[16], uint8_t salt[16]);

/* The texts of p's history of conv, oldest first: "C:" customer, "A:" an agent, then the text. */
struct transcript {
    char (*rows)[MR_TEXT];
    size_t n;
};
void transcript_of(struct mr_party *p, const uint8_t conv[16], struct transcript *t);
void transcript_free(struct transcript *t);
bool transcript_same(const struct transcript *a, const struct transcript *b);
/* Rows of t whose text is text. */
int transcript_count(const struct transcript *t, const char *text);

/* Takes one of owner's one-time prekeys off the relay, as a sender would; its box key in box_pk. */
void take_prekey(struct mr_relay *r, const struct mr_party *owner, uint8_t box_pk[32]);

/* The customer identity p keeps in its store (free with parley_identity_free). */
parley_identity *identity_of(struct mr_party *p);

/* An acknowledgement signed by signer (free with parley__custody_ack__free_unpacked(a, NULL)). */
Parley__CustodyAck *ack_make(const parley_identity *signer, const uint8_t conv[16],
                             const uint8_t agent_pk[32], uint64_t counter);
/* The acknowledgement p keeps for conv (NULL when none). */
Parley__CustodyAck *ack_of(struct mr_party *p, const uint8_t conv[16]);

/* A handover as a hostile colleague writes it. */
struct handover_spec {
    const parley_identity *from; /* signs it */
    const uint8_t *from_cert;    /* and presents this certificate */
    size_t from_cert_len;
    struct mr_party *to;         /* sealed to one of its prekeys taken off the relay */
    const uint8_t *conv;
    uint64_t seq;
    const uint8_t *customer_pk;
    const uint8_t *receive_pk;   /* the customer's receive key it names; NULL: a made-up one */
    const uint8_t *salt;         /* NULL: none */
    const Parley__CustodyAck *custody; /* NULL: none */
    const uint8_t *consent;      /* encoded ConsentReceipt, or NULL */
    size_t consent_len;
    const Parley__HistoryEntry *const *history;
    size_t n_history;
    Parley__SpecialConsent *const *specials; /* the customer's consents to special categories */
    size_t n_specials;
};

/* A handover of s->conv from agent `from` of w to `to`, as that agent's colleague writes it. */
void spec_for(struct handover_spec *h, struct scene *s, const struct world *w, int from,
              struct mr_party *to, const uint8_t *salt, const Parley__CustodyAck *custody,
              uint64_t seq);

/*
 * A payload of body's kind signed by customer, sealed to alice's newest key
 * of s->conv at seq, stored for her and run until everything settles.
 * Returns alice's event mark from before it arrived.
 */
int customer_to_alice(struct scene *s, const parley_identity *customer,
                      const Parley__Payload *body, uint64_t seq);

/* Stores the forged handover for spec->to at the relay and runs everything until it settles. */
void handover_inject(struct mr_relay *r, const struct handover_spec *spec);

/* carol (queue "vip") on the scene's relay, connected. */
void carol_join(struct mr_party *carol, struct scene *s, const struct world *w);

/*
 * An Open to queue "support" from cust, for conv with salt (NULL: none) and
 * consent receipt rc (NULL: none), sealed to alice's identity key; stored
 * for alice and run until everything settles.
 */
void open_to_alice(struct scene *s, const struct world *w, const parley_identity *cust,
                   const uint8_t conv[16], const uint8_t *salt, const uint8_t *rc, size_t rc_len);

/* A test program's cases: all of them, or those named on the command line. */
struct named_case {
    const char *name;
    void (*run)(void);
};
int run_cases(int argc, char **argv, struct world *w, const struct named_case *cases, size_t n);

#endif
