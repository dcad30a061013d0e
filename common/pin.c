/*
 * Brand pin files (see pin.h). The line itself is libparley's to parse;
 * what is here is the file around it and the advice a person needs when
 * a program is given the wrong one of the two pins parley-keys writes.
 */
#include <string.h>

#include <sodium.h>

#include "files.h"
#include "pin.h"
#include "report.h"

/* Says a relay pin was given to a client, and names the client pin parley-keys wrote beside it. */
static void report_relay_pin(const char *path)
{
    size_t n = strlen(path);

    if (n > 4 && strcmp(path + n - 4, ".pub") == 0)
        report_error(path, "this is a relay pin; clients need the client pin (%.*s.client)",
                     (int)(n - 4), path);
    else
        report_error(path, "this is a relay pin; clients need the client pin (the .client file "
                           "from parley-keys brand init)");
}

int pin_load(const char *path, enum pin_use use, parley_pin *pin)
{
    struct files_object f;
    parley_err err;
    int rc = -1;

    memset(pin, 0, sizeof(*pin));
    if (files_load(path, FILES_KIND_PIN, &f) != 0)
        return -1;
    err = parley_pin_parse((const char *)f.buf, f.len, pin);
    if (err != PARLEY_OK)
        report_error(path, "malformed brand pin line "
                           "(parley-brand-v1 <brand-id> <hex key> [<hex directory key>])");
    else if (use == PIN_CLIENT && !pin->has_directory_key)
        report_relay_pin(path);
    else if (use == PIN_RELAY && pin->has_directory_key)
        report_error(path, "this is a client pin (it holds the brand's directory key); give "
                           "the relay the relay pin (.pub)");
    else
        rc = 0;
    if (rc != 0)
        sodium_memzero(pin, sizeof(*pin));
    files_release(&f);
    return rc;
}
