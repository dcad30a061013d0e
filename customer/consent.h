/*
 * parley-customer's consent: the notice as the customer reads it, and the
 * answers, purpose by purpose (public libparley API only).
 */
#ifndef PARLEY_CUSTOMER_CONSENT_H
#define PARLEY_CUSTOMER_CONSENT_H

#include <stdbool.h>
#include <stddef.h>

#include "chat.h"
#include "parley/client.h"

/* Prints the verified notice: its version, text and the purposes it needs. */
void show_notice(struct chat *c, const parley_directory *dir);

/*
 * Consent to the held directory's notice: the required purposes with it,
 * the optional ones named in accept (n_accept, --accept) and, when ask is
 * given, each other optional one asked on its own (ask returns non-zero
 * for yes); never assumed: no answer is no.
 */
parley_err consent_per_purpose(parley_client *client, const char *const *accept, size_t n_accept,
                               int (*ask)(void *arg, const char *question), void *ask_arg);

/* True when the directory held lists purpose as one the customer may refuse. */
bool optional_purpose(parley_client *client, const char *purpose);

#endif
