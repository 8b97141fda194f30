/* sockjs_http.h - the SockJS HTTP transports (xhr, xhr_streaming, eventsource,
 * xhr_send) and the fixed answers (greeting, info, OPTIONS, 400/404/405). Above the
 * connection (sockjs_conn.h) and the session core (sockjs_sess.h); called by sockjs.c.
 *
 * Deliberately not here: telling SockJS requests from others (sockjs.c), the
 * websocket transport (sockjs_ws.h). */
#ifndef SOCKJS_HTTP_H
#define SOCKJS_HTTP_H

#include <stddef.h>
#include "sockjs_path.h"
#include "sockjs_sess.h"

#include <libwebsockets.h>

/* A SockJS HTTP request for path, which sp classifies (not SOCKJS_NOT_OURS): *slot
 * gets its sockjs_conn until sockjs_http_event clears it. Returns what the lws
 * callback returns. */
int sockjs_http_request(struct lws *wsi, void **slot, const char *path, const sockjs_path *sp);
/* Every later event of such a request but LWS_CALLBACK_HTTP (sockjs.c handles that).
 * Returns what the lws callback returns; clears *slot when the request is over. */
int sockjs_http_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void **slot,
                      void *in, size_t len);
/* sockjs_link_ops.release: answer a held xhr_send (fed to sj and 204, or 404). */
void sockjs_http_release(sockjs_link *l, sockjs_sess *sj);
/* Free the module's write buffers (shutdown). */
void sockjs_http_stop(void);

#endif
