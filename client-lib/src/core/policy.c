/*
 * The brand's policy on this device: the guard policy the brand signed
 * into its directory, combined with the host's own into the one the host
 * applies before a send, and enforced here too, so that a host which
 * ignores it cannot send what the brand blocks or has redacted.
 */
#include <stdlib.h>
#include <string.h>

#include "core_impl.h"

/* Findings scanned on the stack first; a text with more is scanned again into the heap. */
#define POLICY_FINDINGS 16u

parley_err parley__core_scan_policy(struct parley__core *c, const parley_scan_policy *local,
                                    parley_scan_policy *out)
{
    parley_scan_policy brand, mine;

    if (out == NULL)
        return PARLEY_EINVAL;
    if (local != NULL)
        mine = *local;
    else
        parley_scan_policy_default(&mine);
    /* The newest directory held, also once expired: it is still the brand's last word. */
    if (c->dir != NULL)
        parley_directory_guard_policy(c->dir, &brand);
    else
        memset(&brand, 0, sizeof(brand)); /* no brand policy yet: everything ALLOW */
    return parley_scan_policy_stricter(out, &brand, &mine);
}

/*
 * Refuses text (n bytes) with PARLEY_EPOLICY when it holds a finding
 * that the brand's policy blocks or has redacted: the host either
 * refused it or sent the redacted copy, whose markers are no finding.
 * A text that cannot be scanned is refused too (PARLEY_ENOMEM).
 */
parley_err brand_policy_check(const struct parley__core *c, const char *text, size_t n)
{
    parley_scan_finding stack[POLICY_FINDINGS], *f = stack;
    parley_scan_policy brand;
    size_t found = 0, cap = POLICY_FINDINGS;
    parley_err err;

    if (c->dir == NULL)
        return PARLEY_OK;
    parley_directory_guard_policy(c->dir, &brand);
    err = parley_scan(text, n, f, cap, &found);
    if (err == PARLEY_ETOOBIG && found > cap) {
        f = calloc(found, sizeof(*f));
        if (f == NULL)
            return PARLEY_ENOMEM;
        cap = found;
        err = parley_scan(text, n, f, cap, &found);
    }
    for (size_t i = 0; err == PARLEY_OK && i < found; i++)
        if (brand.action[f[i].category] == PARLEY_SCAN_BLOCK ||
            brand.action[f[i].category] == PARLEY_SCAN_REDACT)
            err = PARLEY_EPOLICY;
    /* Where the findings were says something about the text. */
    sodium_memzero(f, cap * sizeof(*f));
    if (f != stack)
        free(f);
    return err;
}
