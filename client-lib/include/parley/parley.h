/*
 * Parley client library: end-to-end encrypted customer chat.
 * Include this header for the whole public API.
 */
#ifndef PARLEY_H
#define PARLEY_H

#include "parley/common.h"
#include "parley/identity.h"
#include "parley/cert.h"
#include "parley/seal.h"
#include "parley/store.h"
#include "parley/client.h"
#include "parley/scan.h"
#include "parley/text.h"
#include "parley/pin.h"

#define PARLEY_VERSION_STRING "0.2.0"

#endif
