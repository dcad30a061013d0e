/*
 * Parley client library: end-to-end encrypted customer chat.
 *
 * This header includes the whole public API; each part can also be
 * included alone, by the audience it serves:
 *
 *   applications and widgets   parley/client.h  the chat client (customers, agents)
 *                              parley/session.h the client's protocol core without I/O,
 *                                               for hosts with their own connection
 *                                               (the browser widget, mobile apps)
 *                              parley/store.h   the store interface and sqlite store
 *                              parley/pin.h     the brand pin a client is configured with
 *                              parley/cert.h    certificates and directories, as read
 *                              parley/identity.h identities, fingerprints, key files
 *                              parley/scan.h    the sensitive-data guard
 *                              parley/text.h    showing someone else's text
 *   brand administration       parley/admin.h   certificate requests and issuing,
 *                                               revocation lists, directories
 *   everyone                   parley/common.h  errors, limits, parley_free
 *                              parley/version.h PARLEY_VERSION_STRING (generated)
 *
 * Test hooks and the one-envelope seal and open are internal: the shared
 * library does not export them.
 */
#ifndef PARLEY_H
#define PARLEY_H

#include "parley/common.h"
#include "parley/identity.h"
#include "parley/cert.h"
#include "parley/admin.h"
#include "parley/pin.h"
#include "parley/store.h"
#include "parley/session.h"
#include "parley/client.h"
#include "parley/scan.h"
#include "parley/text.h"
#include "parley/version.h"

#endif
