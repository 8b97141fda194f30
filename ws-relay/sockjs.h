/* sockjs.h - SockJS (protocol 0.3, what sockjs-client 1.x speaks) at /ws, carrying
 * the same STOMP sessions (session.h) as the raw WebSocket endpoint.
 *
 * Served: GET /ws/info, OPTIONS on info and the transports, and under
 * /ws/{server}/{session}/: websocket, xhr_streaming, xhr (polling), xhr_send and
 * eventsource. iframe, htmlfile, jsonp and jsonp_send answer 404. docs/STOMP.md
 * ("SockJS") has the details, limits and configuration keys.
 *
 * relay.c plugs this in with a handful of hooks: sockjs_start/stop with the lws
 * context, sockjs_http() for every plain HTTP request, sockjs_ws_established() for
 * every WebSocket, and sockjs_callback() for every later event of a connection
 * whose slot (a void * in relay's per-connection data) this module filled.
 *
 * Deliberately not here: STOMP (session.c), the raw WebSocket transport (relay.c).
 * How the module is layered: sockjs.c. */
#ifndef SOCKJS_H
#define SOCKJS_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* Read the SOCKJS_* configuration and start the module's timers on loop. 0 or -1. */
int sockjs_start(uv_loop_t *loop);
/* Shutdown: end every STOMP session (they were closed by sess_shutdown_all), detach
 * every connection, close the timers. Connections still get their lws close events
 * afterwards. Idempotent. */
void sockjs_stop(void);

/* True for the upgrade path of the SockJS websocket transport (routing). */
bool sockjs_is_ws_path(const char *path);

/* A plain HTTP request for path[0..len): 1 when it is not a SockJS URL (the caller
 * answers), else what the lws callback should return (0, or -1 to close). On 0 the
 * request is this module's: *slot holds its state until sockjs_callback clears it. */
int sockjs_http(struct lws *wsi, void **slot, const char *path, size_t len);

/* A WebSocket was established: true when it is a SockJS websocket (then *slot is
 * filled and the caller does nothing more), false when it is not ours. peer is the
 * client address for logs. */
bool sockjs_ws_established(struct lws *wsi, void **slot, const char *peer);

/* Every callback of a connection whose *slot is set. Returns what the lws callback
 * returns; clears *slot when the connection or its transaction is over. */
int sockjs_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void **slot,
                    void *in, size_t len);

#endif
