/* rds.h - the relay's two asynchronous Redis connections on the shared libuv loop.
 *
 * One connection carries commands (GET, HGET, SISMEMBER, the Lua scripts); the other
 * is in Pub/Sub mode. Both use hiredis' own libuv adapter, so nothing blocks the loop.
 * When either goes away it is re-established with backoff (100 ms doubling to 2 s);
 * every state change is logged. Scripts are registered once at start and run with
 * EVALSHA; a NOSCRIPT reply (someone ran SCRIPT FLUSH) is retried once with EVAL.
 *
 * Deliberately not here: what any key, channel or script means. Callers spell keys
 * through keys.h and decide what to subscribe; this module only reports Pub/Sub
 * events through the rds_events hooks.
 *
 * Ownership: a reply passed to a callback lives only during that call (hiredis frees
 * it afterwards); copy what must outlive it. Arguments passed to rds_cmd/rds_eval are
 * copied before they return. */
#ifndef RELAY_RDS_H
#define RELAY_RDS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>
#include "redis.h"
#include "result.h"

/* Reply callback: r is the reply, or NULL when the connection was lost before the
 * reply came (treat as "Redis unavailable"). Called exactly once per accepted call. */
typedef void (*rds_reply_cb)(const redisReply *r, void *ud);

/* Pub/Sub and connection events, all called from the loop. Any may be NULL. */
typedef struct rds_events {
    /* A message published on a channel this relay subscribed. */
    void (*on_message)(const char *chan, size_t chan_len, const char *msg, size_t msg_len);
    /* Redis confirmed SUBSCRIBE / UNSUBSCRIBE of chan. */
    void (*on_subscribed)(const char *chan, size_t chan_len);
    void (*on_unsubscribed)(const char *chan, size_t chan_len);
    /* The Pub/Sub connection is up (subscribe everything now) or was lost (every
     * subscription is gone; confirmations still pending will never come). */
    void (*on_sub_up)(void);
    void (*on_sub_down)(void);
    /* The command connection is up again after having been down (not on the first
     * connect). */
    void (*on_cmd_reup)(void);
} rds_events;

/* Register a Lua script before rds_start(); returns its handle for rds_eval(). The
 * source must be a string literal (not copied). At most 8 scripts. */
int rds_script_add(const char *src);

/* Start connecting. url and ev are copied. Returns 0, or -1 if the loop refused a
 * timer (the caller exits). */
int rds_start(uv_loop_t *loop, const redis_url *url, const rds_events *ev);

/* Begin a graceful shutdown: no more reconnects; pending commands get their replies,
 * then both connections close and every uv handle of this module is closed, so the
 * loop can end. Anything still pending after 2 s is dropped (callbacks get NULL). */
void rds_shutdown(void);

bool rds_cmd_ready(void); /* the command connection is up */
bool rds_sub_ready(void); /* the Pub/Sub connection is up */

/* Send a command (argv with byte lengths; copied). Returns CHAT_OK and calls cb later
 * exactly once, or CHAT_EUNAVAIL at once (cb never called) when the command
 * connection is down. cb may be NULL when the reply does not matter. */
chat_rc rds_cmd(rds_reply_cb cb, void *ud, int argc, const char **argv, const size_t *lens);

/* Run script `script` with nkeys keys followed by the other arguments in argv (all
 * copied). Same return and callback rules as rds_cmd. */
chat_rc rds_eval(int script, rds_reply_cb cb, void *ud, int nkeys, int argc,
                 const char **argv, const size_t *lens);

/* SUBSCRIBE / UNSUBSCRIBE one channel on the Pub/Sub connection. CHAT_EUNAVAIL when it
 * is down (nothing to undo: a lost connection has no subscriptions). Confirmations
 * arrive through on_subscribed / on_unsubscribed, in the order sent. */
chat_rc rds_subscribe(const char *chan, size_t len);
chat_rc rds_unsubscribe(const char *chan, size_t len);

#endif
