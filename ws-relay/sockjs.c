/* sockjs.c - the SockJS module's entry: what relay.c calls through sockjs.h. It tells
 * SockJS requests and websockets from others (sockjs_path.h), hands each to its
 * transport (sockjs_http.h, sockjs_ws.h), and starts and stops the layers below,
 * giving the session core the ops that reach connections.
 *
 * The layers, each calling only downwards:
 *   sockjs.c                     entry: dispatch, start and stop
 *   sockjs_http.c, sockjs_ws.c   the transports
 *   sockjs_conn.c                the connection and its EOF watch
 *   sockjs_sess.c                the session core (reaches connections through
 *                                sockjs_link_ops only)
 *   sockjs_path.c, sockjs_frame.c    pure parsing and framing
 *
 * Deliberately not here: anything a transport or a session does. */
#include "sockjs.h"
#include "sockjs_conn.h"
#include "sockjs_http.h"
#include "sockjs_path.h"
#include "sockjs_sess.h"
#include "sockjs_ws.h"

#include <string.h>

/* Receivers through the connection layer; held xhr_send requests are the HTTP
 * transport's to answer. */
static const sockjs_link_ops link_ops = {
    .want_write = sockjs_conn_want_write,
    .rx_flow = sockjs_conn_rx_flow,
    .end_soon = sockjs_conn_end_soon,
    .release = sockjs_http_release,
};

int sockjs_start(uv_loop_t *loop)
{
    sockjs_sess_configure();
    if (sockjs_eof_start(loop) != 0) return -1;
    sockjs_sess_start(loop, &link_ops);
    return 0;
}

void sockjs_stop(void)
{
    if (!sockjs_running()) return;
    sockjs_sess_stop();
    sockjs_http_stop();
    sockjs_eof_stop();
}

bool sockjs_is_ws_path(const char *path)
{
    return sockjs_path_is_ws(path, strlen(path));
}

int sockjs_http(struct lws *wsi, void **slot, const char *path, size_t len)
{
    sockjs_path sp;
    if (!slot || sockjs_path_parse(path, len, &sp) == SOCKJS_NOT_OURS) return 1;
    return sockjs_http_request(wsi, slot, path, &sp);
}

bool sockjs_ws_established(struct lws *wsi, void **slot, const char *peer)
{
    char path[256];
    if (!slot || lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0 ||
        !sockjs_is_ws_path(path))
        return false;
    sockjs_ws_open(wsi, slot, peer);
    return true;
}

int sockjs_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void **slot,
                    void *in, size_t len)
{
    sockjs_conn *c = *slot;
    if (c->kind == SOCKJS_K_WS) return sockjs_ws_event(wsi, reason, user, slot, in, len);
    if (reason == LWS_CALLBACK_HTTP) {
        /* A new request while ours was not finished: drop ours. */
        sockjs_conn_free(c);
        *slot = NULL;
        if (sockjs_http(wsi, slot, in ? in : "", len) != 1) return 0;
        if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "Not Found")) return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    return sockjs_http_event(wsi, reason, user, slot, in, len);
}
