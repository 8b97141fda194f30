/* msg.h - what the relay says on the wire, apart from the STOMP grammar itself:
 * the JSON body of a chat MESSAGE, the shared (refcounted) part of a MESSAGE frame
 * fanned out to many subscribers, and ERROR frames with the one mapping from the
 * project's result codes to the contract's `message` slugs.
 *
 * Pure apart from the id counter: no I/O, no Redis, no session state. Deliberately not here: the frame parser
 * and the generic frame writer (stomp.h), and deciding when to send what (session). */
#ifndef RELAY_MSG_H
#define RELAY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "result.h"

struct buf;

/* ---- ids ---- */

#define MSG_ID_MAX 48

/* Set the relay's id (copied, at most 16 characters) used to make ids unique across
 * relays. */
void msg_ids_init(const char *relay_id);
/* Write the next id "<relay>-<n>" (n counting up from 1 in this process) into out,
 * which holds MSG_ID_MAX bytes. */
void msg_next_id(char *out);

/* ---- MESSAGE bodies ---- */

/* Fields of {"type","id","roomId","senderId","sender","message","ts"} (and "file" for
 * FILE). Strings are byte ranges (sender and text may be any UTF-8); nothing is kept. */
typedef struct msg_fields {
    const char *type;                    /* "CHAT", "FILE", "JOIN" or "LEAVE" */
    const char *id;                      /* unique message id */
    const char *room_id;
    const char *sender_id;
    const char *sender; size_t sender_len;
    const char *text; size_t text_len;
    int64_t ts;                          /* Unix ms */
    const char *file; size_t file_len;   /* FILE: the File document (a JSON object), else NULL */
} msg_fields;

/* Append the JSON document for f to out (json_escape()d strings, compact, field
 * order as in the contract). */
void msg_body(struct buf *out, const msg_fields *f);
/* Append a JOIN (join) or LEAVE body for user_id named name in room_id, with a fresh
 * id, the text "{name} joined" / "{name} left" and the time now. */
void msg_presence_body(struct buf *out, bool join, const char *room_id, const char *user_id,
                       const char *name);

/* ---- the shared part of a MESSAGE frame ----
 * A MESSAGE to one subscription is "MESSAGE\nsubscription:<id>\n" (per subscription,
 * see msg_sub_prefix) followed by the shared tail
 *     destination:/topic/room/<room>\ncontent-type:application/json\n
 *     message-id:<mid>\ncontent-length:<n>\n\n<body>\0
 * built once per Redis message and shared by reference between every queue that
 * holds it. */
typedef struct msg_shared {
    uint32_t refs;
    uint32_t len;   /* bytes in data */
    int64_t offset; /* the body's "offset" (a stored message), 0 for JOIN/LEAVE */
    char data[];
} msg_shared;

/* The "offset" of a stored message's body (the script that stores it appends
 * ,"offset":N,"epoch":"E"} last), or 0 when the body has none. */
int64_t msg_body_offset(const char *body, size_t len);

/* New shared tail with one reference (the caller's). Copies everything it is given. */
msg_shared *msg_shared_new(const char *room_id, size_t room_len, const char *message_id,
                           const char *body, size_t body_len);
msg_shared *msg_shared_ref(msg_shared *m);
void msg_shared_unref(msg_shared *m); /* frees at zero; accepts NULL */

/* Append "MESSAGE\nsubscription:<escaped sub_id>\n" to out. */
void msg_sub_prefix(struct buf *out, const char *sub_id, size_t sub_len);

/* ---- ERROR frames: the only chat_rc -> STOMP mapping ---- */

/* The contract's slug for rc: unauthorized, forbidden, not-found, invalid, too-large,
 * rate-limited, unavailable or protocol. Never NULL. */
const char *msg_error_slug(chat_rc rc);

/* Whether an ERROR for rc ends the session. Every error does (STOMP says the server
 * MUST close after ERROR) except rate-limited and unavailable: the offending frame is
 * dropped and the session stays usable (a documented deviation, see docs/STOMP.md). */
bool msg_error_closes(chat_rc rc);

/* Append an ERROR frame: message:<slug>, receipt-id when receipt is not NULL
 * (receipt[0..receipt_len)), content-type:text/plain and text as the body. */
void msg_error_frame(struct buf *out, chat_rc rc, const char *receipt, size_t receipt_len,
                     const char *text);

#endif
