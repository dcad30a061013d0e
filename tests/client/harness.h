/*
 * Test harness for client sessions: a real parley-relay on an ephemeral
 * port in a temporary directory, a brand with agents and a directory
 * made in memory, clients on that relay, and a loop that services them
 * all until a condition holds (bounded in time).
 */
#ifndef PARLEY_TEST_HARNESS_H
#define PARLEY_TEST_HARNESS_H

#include <stdbool.h>

#include "check.h"
#include "internal.h"
#include "people.h"
#include "parley/parley.h"

#define H_MAX_EVENTS 512
#define H_BRAND PEOPLE_BRAND

struct h_client {
    parley_client *c;
    const char *name;
    parley_event events[H_MAX_EVENTS];
    char texts[H_MAX_EVENTS][256];
    int n_events;
    int count[PARLEY_EV_SPECIAL_CONSENT + 1];
};

struct h_brand {
    parley_identity *brand;
    parley_identity *agents[4];
    uint8_t *keyfiles[4];
    size_t keyfile_lens[4];
    uint8_t *certs[4];
    size_t cert_lens[4];
    uint8_t *directory;
    size_t directory_len;
    uint8_t dir_key[32];
    int n_agents;
};

extern char h_dir[256];
extern int h_port;
/* When set before h_relay_start: the relay serves TLS (self-signed) and clients use wss://. */
extern bool h_tls;
/* When set before h_client_new: an agent keeps a conversation's history on an erasure request. */
extern bool h_keep_on_erasure;
/* When set before h_client_new: the client's store (borrowed), instead of the sqlite one at db. */
extern const parley_store *h_store;

/* Makes the temp dir, the brand (agents "alice", "bob", "carol" in queue "support") and the pin file. */
void h_setup(struct h_brand *b);
/* (Re)builds b->directory: this version, with this notice, the three agents and two queues. */
void h_directory(struct h_brand *b, uint64_t version, uint32_t notice_version,
                 const char *notice);
/* Starts the relay serving the brand (extra args NULL-terminated, may be NULL). */
void h_relay_start(const char *bin, const char *const *extra);
void h_relay_stop(int sig);
void h_teardown(struct h_brand *b);

/* A client: agent index >= 0, or -1 for a customer; db names its store in h_dir. */
void h_client_new(struct h_client *hc, const char *name, const struct h_brand *b, int agent,
                  const char *db, bool publish_directory);
void h_client_free(struct h_client *hc);
/* Services every client in the NULL-terminated list until pred or timeout; returns pred's last value. */
bool h_pump(struct h_client **all, bool (*pred)(void *), void *arg, int timeout_ms);
/* Services for ms. */
void h_pump_for(struct h_client **all, int ms);
/* Index of the last event of kind (optionally for conv), or -1. */
int h_find(const struct h_client *hc, parley_event_kind kind, const uint8_t *conv);
/* Waits until hc has at least n events of kind. */
bool h_wait(struct h_client **all, struct h_client *hc, parley_event_kind kind, int n,
            int timeout_ms);
/* Waits for a MESSAGE with text in hc. */
bool h_wait_text(struct h_client **all, struct h_client *hc, const char *text, int timeout_ms);
bool h_has_text(const struct h_client *hc, const char *text);

#endif
