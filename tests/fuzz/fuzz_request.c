/*
 * Fuzz target: parley_request_verify(), the agent's self-signed
 * certificate request a brand admin receives from outside.
 */
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parley_cert_info info;
    parley_err err;

    (void)fixture_get();
    memset(&info, 0, sizeof(info));
    err = parley_request_verify(data, size, &info);
    if (err == PARLEY_OK) {
        FUZZ_ASSERT(info.brand_id[0] == '\0' && info.serial == 0 && info.not_after == 0);
        FUZZ_ASSERT(parley_id_valid(info.agent_id));
        FUZZ_ASSERT(parley_display_name_valid(info.display_name));
    }
    return 0;
}
