/* The relay's network loop (server.c). */
#ifndef RELAY_SERVER_H
#define RELAY_SERVER_H

#include <stdint.h>

struct relay;

/* Runs until SIGTERM/SIGINT has drained the relay. Returns the exit status. */
int server_run(struct relay *r);

#endif
