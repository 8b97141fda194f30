/* sockjs_conn.h - one lws connection doing SockJS (an HTTP request, or a websocket),
 * and the watch that notices a receiving client hanging up. Above the session core
 * (sockjs_sess.h), below the transports (sockjs_http.h, sockjs_ws.h).
 *
 * A sockjs_conn is owned by its connection: created on the request / ESTABLISHED
 * (stored in the slot relay.c keeps for it), freed when lws says the transaction or
 * the connection is over. Its link (sockjs_sess.h) ties it to a session as the
 * receiver or as a held xhr_send; sockjs_conn_free undoes that first. The receiver
 * half of the core's sockjs_link_ops is here (sockjs_conn_want_write, _rx_flow,
 * _end_soon); the release of held requests is the HTTP transport's.
 *
 * Deliberately not here: what a transport writes or reads (sockjs_http.c,
 * sockjs_ws.c), sessions (sockjs_sess.c). */
#ifndef SOCKJS_CONN_H
#define SOCKJS_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include "buf.h"
#include "sockjs_path.h"
#include "sockjs_sess.h"

#include <libwebsockets.h>
#include <uv.h>

/* The kinds of connection; receivers are XHR, XHR_STREAMING, EVENTSOURCE and WS. */
enum sockjs_kind {
    SOCKJS_K_SIMPLE = 0,
    SOCKJS_K_XHR,
    SOCKJS_K_XHR_STREAMING,
    SOCKJS_K_EVENTSOURCE,
    SOCKJS_K_XHR_SEND,
    SOCKJS_K_WS
};

/* Where an HTTP response is. */
enum sockjs_phase {
    SOCKJS_P_BODY_IN = 0, /* reading the request body (xhr_send) */
    SOCKJS_P_HELD,        /* xhr_send waiting on its session's held queue */
    SOCKJS_P_HEAD,        /* headers to write at the next WRITEABLE */
    SOCKJS_P_BODY,        /* fixed body (conn->out) to write */
    SOCKJS_P_STREAM,      /* receiver: frames from the session, or one close frame */
    SOCKJS_P_DONE         /* everything written */
};

typedef struct sockjs_conn {
    struct lws *wsi;
    sockjs_link link;     /* link.sj: the session received for / waited on, or NULL */
    uint8_t kind, phase;
    bool prelude_sent;    /* streaming prelude written */
    bool close_after;     /* close the connection after the response (early 413) */
    bool too_large;       /* request body over the limit: discarded */
    bool ws_closing;      /* websocket: the close frame went out; close at next WRITEABLE */
    bool peer_gone;       /* receiver: the client hung up (the EOF watch) */
    int eof_fd;           /* socket watched for the peer's EOF, or -1 */
    int status;           /* fixed responses: HTTP status */
    int oneshot_code;     /* receiver that only gets c[code,reason] (2010, 3000) */
    const char *oneshot_reason;
    const char *ctype;    /* Content-Type of the response */
    const char *methods;  /* set for OPTIONS and 405 answers only: the methods allowed */
    buf in;               /* request body / websocket message being assembled */
    buf out;              /* fixed response body */
    size_t sent;          /* streamed body bytes (response limit) */
    char sid[SOCKJS_SESSION_MAX + 1]; /* xhr_send: the session id */
    char peer[48];        /* transports: the client's address (peer.h) */
    char cookie[SOCKJS_COOKIE_LEN + 1]; /* transports: the binding cookie sent, or "" */
    char cookie_path[SOCKJS_SERVER_MAX + SOCKJS_SESSION_MAX + 8]; /* see request_owner */
    char set_cookie[SOCKJS_COOKIE_LEN + 1]; /* opened a session: its cookie to set, else "" */
    char origin[128];     /* Origin, if sane ("" otherwise) */
    char acrh[256];       /* Access-Control-Request-Headers, if sane */
} sockjs_conn;

/* A new connection state for wsi (owned by the slot it is stored in) / unlink it from
 * its session (receiver or held queue), stop watching it and free it; NULL is fine. */
sockjs_conn *sockjs_conn_new(struct lws *wsi, enum sockjs_kind kind);
void sockjs_conn_free(sockjs_conn *c);
/* The connection a link is embedded in. */
sockjs_conn *sockjs_conn_of(sockjs_link *l);

/* The receiver half of sockjs_link_ops. want_write: a WRITEABLE soon. rx_flow: the
 * websocket transport stops / resumes reading (HTTP receivers read nothing).
 * end_soon: the close frame is written at the next WRITEABLE if the peer reads, else
 * the connection is cut after a few seconds. */
void sockjs_conn_want_write(sockjs_link *l);
void sockjs_conn_rx_flow(sockjs_link *l, int enable);
void sockjs_conn_end_soon(sockjs_link *l);

/* The EOF watch: start on loop (0, or -1 logged) / stop (idempotent). */
int sockjs_eof_start(uv_loop_t *loop);
void sockjs_eof_stop(void);
/* Watch c's socket for its peer hanging up; then c->peer_gone is set, c is detached
 * from its session and a WRITEABLE requested. sockjs_conn_free stops the watch. */
void sockjs_eof_watch(sockjs_conn *c);

#endif
