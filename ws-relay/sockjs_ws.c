/* sockjs_ws.c - the SockJS websocket transport: /ws/{server}/{session}/websocket,
 * upgraded without a subprotocol. Each connection is its own session (not in the
 * table, like sockjs-node): "o" first, then one SockJS frame per WebSocket text
 * message ("a[...]", "h", and "c[...]" before the close). Client messages are JSON
 * arrays of strings; a message that is not (or is over the size limit) closes the
 * connection with 1002 "Broken framing." (1009 when too big), like sockjs-node.
 *
 * Written only from SERVER_WRITEABLE, one lws_write per callback, from one module
 * buffer with LWS_PRE headroom. The session ends (sess_transport_gone: LEAVE etc.)
 * when lws reports the connection closed.
 *
 * Deliberately not here: HTTP transports (sockjs_http.c), sessions and frames
 * (sockjs_sess.c), the connection (sockjs_conn.c), telling SockJS websockets from
 * others (sockjs.c). */
#include "sockjs_ws.h"
#include "sockjs_conn.h"
#include "sockjs_frame.h"
#include "metrics.h"
#include "util.h"

#include <string.h>

static buf wbuf; /* LWS_PRE headroom */

static void feed_cb(void *ud, const char *msg, size_t len)
{
    sockjs_sess_input(ud, msg, len);
}

void sockjs_ws_open(struct lws *wsi, void **slot, const char *peer)
{
    /* relay.c's on_established has set the socket options already. */
    const char *unused;
    if (!wbuf.mem) buf_init(&wbuf, LWS_PRE);
    sockjs_conn *c = sockjs_conn_new(wsi, SOCKJS_K_WS);
    *slot = c;
    sockjs_sess *sj = sockjs_sess_create(NULL, 0, peer);
    sockjs_sess_set_transport(sj, RM_T_SOCKJS_WEBSOCKET);
    (void)sockjs_sess_attach(sj, &c->link, &unused); /* a new session: always attaches */
}

/* Close with status and reason; returns -1 for the callback. */
static int ws_fail(struct lws *wsi, enum lws_close_status status, const char *reason)
{
    lws_close_reason(wsi, status, (unsigned char *)reason, strlen(reason));
    return -1;
}

/* Client bytes: assemble the message, then decode and feed it. */
static int ws_receive(sockjs_conn *c, const char *in, size_t len)
{
    const sockjs_conf *cf = sockjs_config();
    if (c->in.len + len > cf->max_body) return ws_fail(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "Message too big.");
    buf_append(&c->in, in, len);
    if (!lws_is_final_fragment(c->wsi)) {
        /* See relay.c: bytes lws already holds would otherwise wait for new traffic. */
        lws_cancel_service(lws_get_context(c->wsi));
        return 0;
    }
    chat_rc rc = CHAT_OK;
    if (c->in.len && c->link.sj)
        rc = sockjs_decode(buf_data(&c->in), c->in.len, cf->max_decoded, feed_cb, c->link.sj);
    buf_reset(&c->in);
    if (c->in.cap > 4096) { /* an idle connection keeps no big buffer */
        buf_free(&c->in);
        buf_init(&c->in, 0);
    }
    if (rc == CHAT_ETOOLARGE) return ws_fail(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "Message too big.");
    if (rc != CHAT_OK) return ws_fail(c->wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, "Broken framing.");
    return 0;
}

static int ws_writeable(sockjs_conn *c)
{
    if (c->ws_closing || !c->link.sj) {
        /* The close frame went out (or the session is gone): close politely, as
         * relay.c does; nothing is freed here. */
        lws_close_free_wsi(c->wsi, LWS_CLOSE_STATUS_NORMAL, "Go away!");
        return 0;
    }
    buf_reset(&wbuf);
    enum sockjs_next r = sockjs_next_frame(c->link.sj, &wbuf, mono_ms());
    if (r == SOCKJS_NEXT_NONE) return 0;
    if (lws_write(c->wsi, (unsigned char *)buf_data(&wbuf), wbuf.len, LWS_WRITE_TEXT) < (int)wbuf.len)
        return -1;
    if (r == SOCKJS_NEXT_CLOSE) c->ws_closing = true;
    lws_callback_on_writable(c->wsi); /* more frames, or the close */
    return 0;
}

int sockjs_ws_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void **slot,
                    void *in, size_t len)
{
    sockjs_conn *c = *slot;
    switch (reason) {
    case LWS_CALLBACK_RECEIVE:
        return ws_receive(c, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_writeable(c);
    case LWS_CALLBACK_CLOSED: {
        sockjs_sess *sj = c->link.sj;
        sockjs_conn_free(c); /* detaches it */
        *slot = NULL;
        if (sj) sockjs_sess_ws_gone(sj);
        return 0;
    }
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
