/* sockjs_int.h - the SockJS module's insides, shared by sockjs.c (sessions, the table,
 * timers, the STOMP transport ops, frame production), sockjs_http.c (the HTTP
 * transports), sockjs_eof.c (noticing HTTP clients that hang up) and sockjs_ws.c (the
 * websocket transport). Nothing else includes it;
 * relay.c uses sockjs.h.
 *
 * Objects and ownership
 *   sj_sess  one SockJS session = one STOMP session (sess). HTTP sessions live in the
 *            table under their id and outlive the requests that carry them; a
 *            websocket-transport session belongs to its one connection. Freed only by
 *            sockjs.c (the sweep, the websocket close, shutdown), never inside a
 *            callback of the STOMP engine.
 *   sj_conn  one lws connection doing SockJS (an HTTP request, or a websocket). Owned
 *            by the connection: created on the request / ESTABLISHED, freed when lws
 *            says the transaction or the connection is over. It may be the session's
 *            receiver (sj->recv == conn, conn->sj == sj); detach before freeing.
 *
 * Deliberately not here: path parsing (sockjs_path.h), JSON framing (sockjs_frame.h). */
#ifndef SOCKJS_INT_H
#define SOCKJS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include "buf.h"
#include "metrics.h"
#include "session.h"
#include "sockjs_path.h"

#include <libwebsockets.h>
#include <uv.h>

typedef struct sockjs_conf {
    unsigned heartbeat_ms;   /* SOCKJS_HEARTBEAT_MS: "h" after this long without a frame */
    unsigned disconnect_ms;  /* SOCKJS_DISCONNECT_MS: session ends this long after its
                              * receiver went away with no new one */
    size_t response_limit;   /* SOCKJS_RESPONSE_LIMIT: streaming responses end after this */
    size_t max_sessions;     /* SOCKJS_MAX_SESSIONS: HTTP sessions in the table */
    size_t max_body;         /* raw xhr_send body / websocket message bytes */
    size_t max_decoded;      /* decoded strings of one body, together */
} sockjs_conf;

/* The binding cookie: name and length of its random value. */
#define SJ_COOKIE_NAME "sockjs_owner"
#define SJ_COOKIE_LEN 32

typedef struct sj_sess sj_sess;
typedef struct sj_conn sj_conn;

struct sj_sess {
    sj_sess *prev, *next;        /* every live session (sweeps, shutdown) */
    sj_sess *pend_prev, *pend_next; /* sessions with deferred work (sockjs.c, pend) */
    sess *stomp;                 /* the STOMP engine; NULL once told it is gone */
    sj_conn *recv;               /* the receiving connection, or NULL */
    sj_conn *wait_head, *wait_tail; /* xhr_send requests held while input is paused */
    bool in_table;               /* HTTP session (keyed by id) vs websocket transport */
    bool pending;                /* on the pending list */
    bool opened;                 /* "o" sent */
    bool closed;                 /* no more STOMP: every receiver gets the close frame */
    bool gone_due;               /* sess_transport_gone to be called (deferred) */
    bool paused;                 /* the engine asked us to stop feeding input */
    bool resume_due;             /* held xhr_send bodies to be fed (deferred) */
    int close_code;
    int mtransport;              /* enum rm_transport, for the connection gauges */
    const char *close_reason;    /* static string */
    int64_t last_tx;             /* mono ms of the last frame sent (heart-beat) */
    int64_t detached_since;      /* mono ms the last receiver went away */
    char id[SOCKJS_SESSION_MAX + 1];
    size_t id_len;
    /* Who the session belongs to (HTTP sessions; sj_owner_ok): the address of the
     * client that opened it and the binding cookie it was given. */
    bool cookie_seen;            /* the owner has sent the cookie back: now required */
    char owner[48];
    char cookie[SJ_COOKIE_LEN + 1];
};

/* The kinds of connection; receivers are XHR, XHR_STREAMING, EVENTSOURCE and WS. */
enum sj_kind { SJK_SIMPLE = 0, SJK_XHR, SJK_XHR_STREAMING, SJK_EVENTSOURCE, SJK_XHR_SEND, SJK_WS };

/* Where an HTTP response is. */
enum sj_phase {
    SJP_BODY_IN = 0, /* reading the request body (xhr_send) */
    SJP_HELD,        /* xhr_send waiting on its session's wait queue */
    SJP_HEAD,        /* headers to write at the next WRITEABLE */
    SJP_BODY,        /* fixed body (conn->out) to write */
    SJP_STREAM,      /* receiver: frames from the session, or one close frame */
    SJP_DONE         /* everything written */
};

struct sj_conn {
    struct lws *wsi;
    sj_sess *sj;          /* receiver: its session; held xhr_send: the session it waits on */
    sj_conn *next_wait;   /* next held xhr_send of the same session */
    uint8_t kind, phase;
    bool prelude_sent;    /* streaming prelude written */
    bool close_after;     /* close the connection after the response (early 413) */
    bool too_large;       /* request body over the limit: discarded */
    bool ws_closing;      /* websocket: the close frame went out; close at next WRITEABLE */
    bool peer_gone;       /* receiver: the client hung up (sockjs_eof.c) */
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
    char cookie[SJ_COOKIE_LEN + 1]; /* transports: the binding cookie sent, or "" */
    char cookie_path[SOCKJS_SERVER_MAX + SOCKJS_SESSION_MAX + 8]; /* see request_owner */
    char set_cookie[SJ_COOKIE_LEN + 1]; /* opened a session: its cookie to set, else "" */
    char origin[128];     /* Origin, if sane ("" otherwise) */
    char acrh[256];       /* Access-Control-Request-Headers, if sane */
};

/* What sj_next_frame produced. */
enum sj_frame { SJF_NONE = 0, SJF_FRAME, SJF_CLOSE };

/* ---- sockjs.c ---- */
const sockjs_conf *sj_conf(void);
bool sj_running(void);
/* The HTTP session with id, or NULL. */
sj_sess *sj_find(const char *id, size_t len);
/* A new session with a new STOMP session for peer; in the table under id when id is
 * not NULL (websocket transport: NULL). NULL when the table is full. */
sj_sess *sj_create(const char *id, size_t len, const char *peer);
/* Whether a request from address peer carrying binding cookie cookie ("" when none)
 * may act on HTTP session sj: the address must be the opener's, and the cookie must be
 * the session's, except from a client that has never sent it back (one without a
 * cookie jar: sockjs-client in Node). A match marks the cookie as required. */
bool sj_owner_ok(sj_sess *sj, const char *peer, const char *cookie);
/* Make conn the receiver of sj (which has none) / stop conn being a receiver. */
void sj_attach(sj_sess *sj, sj_conn *conn);
void sj_detach(sj_conn *conn);
/* Append the next SockJS frame of sj (without transport framing: "o", "a[...]", "h",
 * "c[...]") to out. SJF_CLOSE: the close frame was appended; the session is closed
 * and the receiver should end. Called only from lws write callbacks. */
enum sj_frame sj_next_frame(sj_sess *sj, buf *out, int64_t now);
/* Feed one decoded client message to the STOMP session (ignored once closed). */
void sj_input(sj_sess *sj, const char *msg, size_t len);
/* The websocket transport's connection is gone: end the STOMP session, free sj. */
void sj_ws_gone(sj_sess *sj);
/* Ask the receiver (if any) to write soon. */
void sj_wake(sj_sess *sj);

/* ---- sockjs_http.c / sockjs_ws.c: what sockjs.c calls back ---- */
/* A held xhr_send (conn->sj set, on sj's wait queue) may now be answered: it has been
 * unlinked; its body is fed when conn->sj is still open, then 204 (404 if the
 * session is gone: conn->sj NULL). Called outside lws callbacks too. */
void sj_http_release(sj_conn *conn);
/* sockjs_http.c: free the module's write buffers (shutdown). */
void sj_http_stop(void);

/* ---- sockjs_eof.c: the receivers' EOF watch ---- */
/* Start on loop (0, or -1 logged) / stop (idempotent). */
int sj_eof_start(uv_loop_t *loop);
void sj_eof_stop(void);
/* Watch conn's socket for its peer hanging up; then conn->peer_gone is set, conn is
 * detached from its session and a WRITEABLE requested. / Stop watching (idempotent). */
void sj_eof_watch(sj_conn *conn);
void sj_eof_unwatch(sj_conn *conn);
/* A new connection state for wsi (owned by the slot it is stored in) / unlink it from
 * its session (receiver or wait queue) and free it; NULL is fine. */
sj_conn *sj_conn_new(struct lws *wsi, enum sj_kind kind);
void sj_conn_free(sj_conn *conn);
/* Make the receiving connection end soon: write the close frame if the peer reads,
 * else cut it after a few seconds. */
void sj_conn_end_soon(sj_conn *conn);
/* sockjs_ws.c: a SockJS websocket was established (always takes it: true), and every
 * later event of it. sj_ws_event returns what the lws callback returns and clears
 * *slot when the connection is gone. */
bool sj_ws_open(struct lws *wsi, void **slot, const char *peer);
int sj_ws_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void **slot,
                void *in, size_t len);

#endif
