/* session_int.h - the session's insides, shared by session.c (life cycle, queue,
 * heart-beats, closing) and command.c (one handler per STOMP command). Nothing else
 * includes this file; transports use session.h.
 *
 * Reference counting: the transport holds one reference until sess_transport_gone();
 * each Redis call in flight for the session holds one (see command.c's op). The
 * session is freed when the last one is dropped, never inside code that still uses it.
 * A Redis reply that comes back after the session closed, or after its command timed
 * out (gen changed), is dropped. */
#ifndef RELAY_SESSION_INT_H
#define RELAY_SESSION_INT_H

#include <stdbool.h>
#include <stdint.h>
#include "list.h"
#include "msg.h"
#include "outq.h"
#include "ratelimit.h"
#include "rooms.h"
#include "session.h"
#include "stomp.h"
#include "token.h"

enum sess_state {
    SS_NEW = 0,  /* waiting for CONNECT */
    SS_AUTH,     /* CONNECT received, token being looked up */
    SS_OPEN,     /* authenticated */
    SS_CLOSING,  /* finished: flushing the last frames, then the transport closes */
    SS_GONE      /* the transport is gone; only pending Redis replies keep it alive */
};

struct sess {
    list_node all;                  /* every session not yet GONE (for sweeps) */
    const sess_transport_ops *ops;
    void *t;                        /* NULL once GONE */
    unsigned refs;
    uint8_t state;                  /* enum sess_state */
    uint8_t version;                /* negotiated: 10, 11 or 12 */
    bool waiting;                   /* a command waits on Redis: frames stay queued */
    char *wait_receipt;             /* its frame's receipt header (owned), or NULL */
    size_t wait_receipt_len;
    bool pumping;                   /* inside pump(): no re-entry */
    bool hb_due;                    /* a heart-beat EOL should be sent */
    bool revoked;                   /* logout seen while authenticating */
    bool killed;                    /* ops->close(t, 0) already called */
    uint32_t gen;                   /* bumped when a waiting command is abandoned */
    stomp_parser *parser;           /* NULL while no input is pending */
    outq q;
    size_t held_bytes;              /* in pending subscriptions' held queues */
    sub *subs;
    unsigned nsubs;
    uint32_t hb_out, hb_in;         /* negotiated heart-beat periods in ms, 0 = off */
    int64_t created, last_rx, last_tx, op_started, closing_since; /* mono ms */
    rl_bucket rl;
    int8_t err_rc;                  /* the last ERROR logged (error_log) */
    uint32_t err_repeats;           /* ERRORs of that kind not logged since */
    int64_t err_logged;             /* mono ms of that line */
    char *user_id, *user_name;      /* set when OPEN */
    const char *close_reason;       /* static string for the disconnect log line */
    char token_hash[TOKEN_HASH_LEN + 1]; /* from CONNECT on, for logout */
    char id[MSG_ID_MAX];
    char peer[48];
};

/* ---- session.c services for command.c ---- */
void sess_hold(sess *s);
void sess_release(sess *s);           /* may free s */
/* Queue a control frame (copied) and ask the transport to write. */
void sess_queue(sess *s, const struct buf *frame);
/* RECEIPT for frame f if it has a receipt header. */
void sess_receipt_for(sess *s, const stomp_frame *f);
void sess_receipt(sess *s, const char *receipt, size_t len);
/* ERROR with the contract's slug for rc; closes unless msg_error_closes(rc) is
 * false. receipt may be NULL. text is the human-readable body. */
void sess_error(sess *s, chat_rc rc, const char *receipt, size_t rlen, const char *text);
/* Same, but always closes (slow consumer, revoked session). */
void sess_error_close(sess *s, chat_rc rc, const char *receipt, size_t rlen,
                      const char *text, const char *reason);
/* Finish the session after what is queued (DISCONNECT). */
void sess_close(sess *s, const char *reason);
/* A command starts / stops waiting on Redis (input processing pauses meanwhile).
 * receipt (copied; may be NULL) is its frame's receipt header: the ERROR for a
 * command Redis does not answer in time carries it as receipt-id. */
void sess_wait(sess *s, const char *receipt, size_t receipt_len);
void sess_resume(sess *s);
/* Unlink su from s, end its room membership (LEAVE as needed) and free it. */
void sess_sub_free(sess *s, sub *su);
sub *sess_sub_find(sess *s, const char *id, size_t len);
/* su went live: queue the MESSAGEs held while it was pending that follow a replay
 * (recover_keep_held: all of them when not recovered, those above newest when). */
void sess_sub_release_held(sess *s, sub *su, bool recovered, int64_t newest);
/* Queue MESSAGE m for su (a live subscription) like a fan-out delivery. */
void sess_sub_deliver(sess *s, sub *su, msg_shared *m);

/* The data layer the engine was started with (sess_init). */
const struct relay_store *sess_store(void);

#endif
