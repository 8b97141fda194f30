/* sockjs_ws.h - the SockJS websocket transport (/ws/{server}/{session}/websocket).
 * Above the connection (sockjs_conn.h) and the session core (sockjs_sess.h); called
 * by sockjs.c.
 *
 * Deliberately not here: telling SockJS websockets from raw STOMP ones (sockjs.c,
 * relay.c), the HTTP transports (sockjs_http.h). */
#ifndef SOCKJS_WS_H
#define SOCKJS_WS_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

/* A SockJS websocket was established: a new session with this connection as its
 * receiver, in *slot. peer is the client address. */
void sockjs_ws_open(struct lws *wsi, void **slot, const char *peer);
/* Every later event of it. Returns what the lws callback returns; clears *slot when
 * the connection is gone. */
int sockjs_ws_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void **slot,
                    void *in, size_t len);

#endif
