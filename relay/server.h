/*
 * The relay's network loop: libwebsockets raw sockets on the libev loop,
 * HTTP and WebSocket framing, the timers (sweep, expiry), the signals and
 * the group commit before the loop sleeps. Loop thread only, but for
 * server_wake.
 */
#ifndef RELAY_SERVER_H
#define RELAY_SERVER_H

struct relay;

/*
 * Creates the loop and the listener (writing the port file), and starts
 * the watchers. 0, or -1 with a message on stderr.
 */
int server_listen(struct relay *r);
/* Runs until SIGTERM/SIGINT has drained the relay. Returns the exit status. */
int server_run(struct relay *r);
/* Stops the watchers (none started: no-op). */
void server_stop(struct relay *r);
/* Closes the listener and every connection (none: no-op). */
void server_close(struct relay *r);
/* Wakes the loop to take the store's results; any thread. arg: the relay. */
void server_wake(void *arg);

#endif
