/*
 * parley-relay: the WebSocket relay that stores and forwards only
 * ciphertext. main() reads the configuration, then opens, runs and
 * closes the relay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <sodium.h>

#include "relay.h"

int main(int argc, char **argv)
{
    static struct relay r;
    int rc;

    /*
     * Everything the relay writes (database, WAL, audit log, operator log)
     * is metadata about people: readable by its own user only, whatever
     * umask it was started with.
     */
    umask(077);
    if (sodium_init() < 0) {
        fprintf(stderr, "parley-relay: libsodium failed to start\n");
        return 1;
    }
    config_defaults(&r.cfg);
    rc = config_parse_args(&r.cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    rc = relay_open(&r) == 0 ? relay_run(&r) : 1;
    relay_close(&r);
    return rc;
}
