/* The relay's network loop (server.c). */
#ifndef RELAY_SERVER_H
#define RELAY_SERVER_H

#include <stdint.h>

struct relay;
struct conn;

/* Runs until SIGTERM/SIGINT has drained the relay. Returns the exit status. */
int server_run(struct relay *r);

/*
 * Reserves room for one binary frame of len payload bytes on c's queue
 * and returns where to write the payload. NULL when c is closing or, being
 * too far behind (over max_outbound), has just been cut off.
 */
uint8_t *conn_frame_begin(struct relay *r, struct conn *c, size_t len);

#endif
