/* session.h - the transport-agnostic STOMP engine: one sess per client connection.
 *
 * A transport (raw WebSocket in relay.c; the SockJS transports in sockjs*.c) owns the socket and
 * moves bytes; the session owns everything STOMP: it feeds client bytes to the frame
 * parser, runs each command (authentication, SUBSCRIBE, SEND, ... against Redis,
 * asynchronously), keeps the bounded queue of outgoing frames, heart-beats and the
 * decision to close. It reaches its transport only through sess_transport_ops.
 *
 * Transport contract
 *   - sess_new() when the client connection is established; keep the pointer.
 *   - sess_input() with every chunk of client bytes (any split; several frames per
 *     chunk are fine). Never frees the session.
 *   - When ops->want_write() was called (or any time), call sess_out_take() to get the
 *     next whole STOMP frame to send (append-only into your buffer); after sending,
 *     if sess_out_ready() is still true, arrange to be called again. A return of
 *     SESS_OUT_CLOSE means "everything is written; close the connection now".
 *   - When the connection is gone for any reason, call sess_transport_gone() exactly
 *     once and forget the pointer; the session frees itself when its pending Redis
 *     replies have come back (never inside a callback that still uses it).
 *   - The ops must not call back into the session synchronously.
 *
 * Deliberately not here: sockets, WebSocket or SockJS framing, the Redis connections
 * (rds.h), the room index (rooms.h). */
#ifndef RELAY_SESSION_H
#define RELAY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ratelimit.h"
#include "stomp.h"

struct buf;
struct relay_store;
typedef struct sess sess;
/* Runs one parsed frame (command.h's cmd_dispatch in the relay; tests may wire another). */
typedef void (*sess_dispatch_fn)(sess *s, const stomp_frame *f);

typedef struct sess_transport_ops {
    /* The session has something to write (or wants to close): make sure
     * sess_out_take() is called soon. Cheap to call repeatedly. */
    void (*want_write)(void *t);
    /* Stop (enable = 0) or resume (1) reading client bytes while a command waits on
     * Redis. Optional (NULL): bytes keep arriving and are buffered up to MAX_PENDING. */
    void (*rx_flow)(void *t, int enable);
    /* End the connection. flush = 1: write what sess_out_take() still returns (an
     * ERROR or RECEIPT) then close, but give up after about a second; flush = 0: close
     * now without writing. Either way sess_transport_gone() follows, later. */
    void (*close)(void *t, int flush);
} sess_transport_ops;

/* Limits and settings, from configuration (see docs/STOMP.md for the keys). */
typedef struct sess_conf {
    stomp_limits limits;        /* MAX_HEADERS, MAX_HEADER_LINE, MAX_FRAME, MAX_PENDING */
    size_t max_queue_bytes;     /* MAX_QUEUE_BYTES */
    rl_conf send_rate;          /* SEND_BURST, SEND_RATE */
    unsigned heartbeat_ms;      /* HEARTBEAT_MS: offered and wanted; 0 = none */
    unsigned max_subs;          /* MAX_SUBSCRIPTIONS per session */
    unsigned connect_timeout_ms; /* CONNECT_TIMEOUT_MS: time to send CONNECT */
    unsigned redis_timeout_ms;  /* REDIS_TIMEOUT_MS: a command answered later fails */
    unsigned presence_grace_ms; /* PRESENCE_GRACE_MS: LEAVE damping (rooms.h) */
    unsigned recover_max;       /* RECOVER_MAX: most messages a SUBSCRIBE recovers */
    unsigned presence_ttl_ms;   /* PRESENCE_TTL: a dead relay's users leave within it */
    char relay_id[16];          /* unique per process: prefixes session and message ids */
} sess_conf;

enum sess_out { SESS_OUT_NONE = 0, SESS_OUT_FRAME = 1, SESS_OUT_CLOSE = -1 };

/* Module set-up: the settings (copied), the data layer every Redis call goes through
 * (store.h; kept, not copied) and the command dispatcher. */
void sess_init(const sess_conf *c, const struct relay_store *store, sess_dispatch_fn dispatch);
const sess_conf *sess_config(void);

/* ---- transport API ---- */

/* A new session for transport t (ops is not copied: keep it static). peer is the
 * client address for logs (copied; may be NULL). Never NULL. */
sess *sess_new(const sess_transport_ops *ops, void *t, const char *peer);
/* Client bytes. */
void sess_input(sess *s, const char *data, size_t len);
/* Append the next frame (or a heart-beat EOL) to out; see the contract above. */
enum sess_out sess_out_take(sess *s, struct buf *out);
/* More to take: queued frames, a heart-beat due, or a pending close. */
bool sess_out_ready(const sess *s);
/* The transport is gone (reason for the log, e.g. "socket-closed"). Drops the
 * transport's reference; s must not be used by the transport afterwards. */
void sess_transport_gone(sess *s, const char *reason);

/* ---- relay-wide events ---- */

/* Heart-beats, dead clients, CONNECT and Redis timeouts, stuck closes: call
 * periodically (every few hundred ms) with mono_ms(). O(sessions). */
void sess_sweep(int64_t now);
/* Suggested sweep period in ms for the configured heart-beat. */
unsigned sess_sweep_period(void);
/* Logout: every session authenticated (or authenticating) with the token whose
 * SHA-256 hex is hash gets ERROR unauthorized and is closed. */
void sess_revoke(const char *hash, size_t len);
/* After the Pub/Sub connection came back: logouts published while it was down were
 * never heard, so look every authenticated (or authenticating) session's token up
 * again; the ones gone from Redis are revoked as above. */
void sess_recheck_tokens(void);
/* Shutdown: end every session's subscriptions (LEAVE as usual) and close it after
 * what is queued, as "going away" (sess_going_away). */
void sess_shutdown_all(void);
/* Whether the relay is shutting down: transports close with WebSocket status 1001
 * (SockJS c[1001,"Server shutting down"]) instead of a normal close. */
bool sess_going_away(void);
/* Sessions alive (for logs and tests). */
size_t sess_count(void);

#endif
