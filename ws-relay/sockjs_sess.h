/* sockjs_sess.h - the SockJS session core: sessions, their table and timers, the
 * STOMP transport ops, frame production and the session-owner check. The bottom
 * layer of the SockJS module; everything above it (sockjs_conn.h, the transports,
 * sockjs.c) may call it, it calls none of them.
 *
 * Objects and ownership
 *   sockjs_sess  one SockJS session = one STOMP session (sess). HTTP sessions live in
 *                the table under their id and outlive the requests that carry them; a
 *                websocket-transport session belongs to its one connection. Freed only
 *                here (the sweep, sockjs_sess_ws_gone, shutdown), never inside a
 *                callback of the STOMP engine.
 *   sockjs_link  what the core knows of a connection, embedded in it: the session it
 *                receives for (at most one receiver per session), or whose queue of
 *                held xhr_send requests it waits on. The core reaches the connection
 *                behind a link only through the sockjs_link_ops it was given (the way
 *                rooms.h reaches sessions through rooms_hooks).
 *
 * Deliberately not here: lws, HTTP and WebSocket I/O, the connection (sockjs_conn.h),
 * URL parsing (sockjs_path.h), JSON framing (sockjs_frame.h). */
#ifndef SOCKJS_SESS_H
#define SOCKJS_SESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "list.h"

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
#define SOCKJS_COOKIE_NAME "sockjs_owner"
#define SOCKJS_COOKIE_LEN 32

typedef struct sockjs_sess sockjs_sess;

typedef struct sockjs_link {
    sockjs_sess *sj; /* receiver: its session; held xhr_send: the session it waits on */
    list_node held;  /* on sj's queue of held xhr_send requests */
} sockjs_link;

/* How the core reaches connections; every function is given the link embedded in one. */
typedef struct sockjs_link_ops {
    /* A receiver: have it write soon (it then calls sockjs_next_frame). */
    void (*want_write)(sockjs_link *l);
    /* A receiver: stop (0) or resume (1) reading client bytes, if it reads any. */
    void (*rx_flow)(sockjs_link *l, int enable);
    /* A receiver: end soon; write the close frame if the peer reads, else cut it. */
    void (*end_soon)(sockjs_link *l);
    /* A held xhr_send may now be answered: it has been taken off the queue and l->sj
     * cleared. sj: feed its body to sj (still open) and answer 204; NULL: the session
     * is gone, answer 404. Called outside lws callbacks too. */
    void (*release)(sockjs_link *l, sockjs_sess *sj);
} sockjs_link_ops;

/* What sockjs_next_frame produced. */
enum sockjs_next { SOCKJS_NEXT_NONE = 0, SOCKJS_NEXT_FRAME, SOCKJS_NEXT_CLOSE };

/* Read the SOCKJS_* configuration (before sockjs_sess_start). */
void sockjs_sess_configure(void);
/* Start the timers on loop, with ops (copied) to reach connections. */
void sockjs_sess_start(uv_loop_t *loop, const sockjs_link_ops *ops);
/* Shutdown: every receiver is detached and told to end, every STOMP session ended,
 * every session freed (held xhr_send requests released with NULL), the timers closed.
 * Idempotent. */
void sockjs_sess_stop(void);
const sockjs_conf *sockjs_config(void);
/* Between start and stop. */
bool sockjs_running(void);

/* The HTTP session with id, or NULL. */
sockjs_sess *sockjs_sess_find(const char *id, size_t len);
/* A new session with a new STOMP session for peer; in the table under id when id is
 * not NULL (websocket transport: NULL). NULL when the table is full. */
sockjs_sess *sockjs_sess_create(const char *id, size_t len, const char *peer);
/* Record the transport sj was opened with (enum rm_transport, metrics.h) and count it
 * as open until the session is freed. Once per session, right after create. */
void sockjs_sess_set_transport(sockjs_sess *sj, int rm_transport);
/* The binding cookie of an HTTP session (SOCKJS_COOKIE_LEN characters). */
const char *sockjs_sess_cookie(const sockjs_sess *sj);
/* Whether a request from address peer carrying binding cookie cookie ("" when none)
 * may act on HTTP session sj: the address must be the opener's, and the cookie must be
 * the session's, except from a client that has never sent it back (one without a
 * cookie jar: sockjs-client in Node). A match marks the cookie as required. */
bool sockjs_owner_ok(sockjs_sess *sj, const char *peer, const char *cookie);

/* Make l the receiver of sj and return 0; or, when sj is closed or already has a
 * receiver, leave l alone and return the close code l's request gets instead (*reason:
 * a static string): sj's own close frame, or 2010 "Another connection still open". */
int sockjs_sess_attach(sockjs_sess *sj, sockjs_link *l, const char **reason);
/* l stops being a receiver (no-op when it is none); the disconnect timer starts. */
void sockjs_sess_detach(sockjs_link *l);
/* l is going away: detach it, or take it off its held queue. */
void sockjs_sess_unlink(sockjs_link *l);
/* An xhr_send for sj whose body is valid: while sj is paused or already holds
 * requests (and is not closed), queue l behind them (l->sj = sj; ops.release comes
 * later, in order) and return true; else false: feed it now. */
bool sockjs_sess_hold(sockjs_sess *sj, sockjs_link *l);

/* Append the next SockJS frame of sj (without transport framing: "o", "a[...]", "h",
 * "c[...]") to out. SOCKJS_NEXT_CLOSE: the close frame was appended; the session is
 * closed and the receiver should end. Called only from lws write callbacks. */
enum sockjs_next sockjs_next_frame(sockjs_sess *sj, buf *out, int64_t now);
/* Feed one decoded client message to the STOMP session (ignored once closed). */
void sockjs_sess_input(sockjs_sess *sj, const char *msg, size_t len);
/* The websocket transport's connection is gone: end the STOMP session, free sj. */
void sockjs_sess_ws_gone(sockjs_sess *sj);

#endif
