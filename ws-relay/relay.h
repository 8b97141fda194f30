/* relay.h - the libwebsockets side of the relay: one context and vhost on the
 * process's libuv loop (a foreign loop lws shares with hiredis), the protocol table,
 * the callback with its switch (reason), and the raw WebSocket transport that plugs
 * a connection into a STOMP session (session.h).
 *
 * HTTP requests that are not WebSocket upgrades go to relay_http(): SockJS's /ws,
 * /ws/info and /ws/{server}/{session}/{transport} (sockjs.h), 404 for anything else.
 * WebSocket upgrades are accepted on /ws/websocket and /websocket, with subprotocol
 * v12.stomp, v11.stomp, v10.stomp or none; no extensions (no permessage-deflate).
 *
 * Deliberately not here: STOMP (session.c, command.c), Redis (rds.c). */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct relay_conf {
    const char *host;     /* RELAY_HOST: address to listen on */
    int port;             /* RELAY_PORT */
    size_t rx_buffer;     /* RELAY_RX_BUFFER: lws per-connection receive buffer */
} relay_conf;

/* Create the lws context on loop and start listening. 0, or -1 (logged). */
int relay_start(uv_loop_t *loop, const relay_conf *c);
/* Shutdown, first step: refuse new connections from now on (established ones go on). */
void relay_quiesce(void);
/* Begin destroying the context: every connection is closed (sessions see
 * sess_transport_gone). Completion is asynchronous: the loop ends once it is done. */
void relay_stop(void);
/* Finish destruction after the loop has ended (idempotent). */
void relay_finish(void);

#endif
