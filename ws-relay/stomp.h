/* stomp.h - STOMP 1.2 frame parser and writer. Pure: bytes in, frames or an error
 * out; no I/O, no globals, no knowledge of WebSocket, SockJS or Redis.
 *
 * Parser use (hiredis-style feed and pull):
 *
 *     stomp_parser p; stomp_parser_init(&p, &limits);
 *     rc = stomp_feed(&p, bytes, n);           // CHAT_OK or CHAT_ETOOLARGE (pending limit)
 *     while ((rc = stomp_next(&p, &frame)) == CHAT_OK) { ...use frame... }
 *     // rc == CHAT_AGAIN: need more bytes; anything else: error, p.err says why
 *
 * A frame returned by stomp_next() points into the parser's own storage and is valid
 * until the next stomp_next/stomp_feed/stomp_parser_free call. Header names and
 * values are unescaped (STOMP 1.2 rules; CONNECT/CONNECTED frames are not unescaped,
 * per the spec). Repeated headers are all kept in order; stomp_header_get() returns
 * the first. Heart-beat EOLs between frames are skipped and counted. */
#ifndef STOMP_H
#define STOMP_H

#include <stddef.h>
#include <stdint.h>
#include "result.h"

typedef enum stomp_cmd {
    STOMP_CMD_NONE = 0,
    STOMP_CONNECT, STOMP_STOMP, STOMP_SEND, STOMP_SUBSCRIBE, STOMP_UNSUBSCRIBE,
    STOMP_ACK, STOMP_NACK, STOMP_BEGIN, STOMP_COMMIT, STOMP_ABORT, STOMP_DISCONNECT,
    STOMP_CONNECTED, STOMP_MESSAGE, STOMP_RECEIPT, STOMP_ERROR,
    STOMP_CMD_UNKNOWN /* well-formed frame with an unknown command word */
} stomp_cmd;

typedef struct stomp_header {
    const char *name;  size_t name_len;
    const char *value; size_t value_len;
} stomp_header;

typedef struct stomp_limits {
    size_t max_headers;     /* headers per frame (default 32) */
    size_t max_header_line; /* bytes of one header line or command line (default 4096) */
    size_t max_frame;       /* bytes of one whole frame incl. body (default 16384) */
    size_t max_pending;     /* bytes buffered but not yet parsed (default 65536) */
} stomp_limits;

#define STOMP_LIMITS_DEFAULT { 32, 4096, 16384, 65536 }

typedef struct stomp_frame {
    stomp_cmd cmd;
    const char *command; size_t command_len; /* the command word as sent */
    stomp_header *headers; size_t nheaders;
    const char *body; size_t body_len;       /* may contain NULs when content-length used */
} stomp_frame;

typedef struct stomp_parser stomp_parser; /* defined in stomp.c's view; see below */

struct stomp_parser {
    stomp_limits lim;
    char *in; size_t in_len, in_cap, in_off; /* pending input; in_off = parsed prefix */
    int state;              /* private state of the incremental machine */
    size_t scan;            /* private: resume offset */
    /* private: offsets relative to in + in_off, the start of the current frame */
    size_t line;            /* start of the line being scanned */
    size_t hstart;          /* first header line */
    size_t body;            /* first body byte */
    size_t clen;            /* content-length, SIZE_MAX when absent */
    size_t nhdrs;           /* header lines seen so far */
    size_t cmd_len;         /* command word length */
    stomp_cmd cmd;          /* command of the frame being parsed */
    stomp_header *hdrs; size_t hdrs_cap;
    char *scratch; size_t scratch_cap;         /* unescaped copies */
    uint64_t heartbeats;    /* EOLs seen between frames */
    chat_rc err_rc;         /* sticky once an error is returned */
    char err[128];          /* human-readable reason for the last error */
    int raw_headers;        /* STOMP 1.0: no header escaping in any frame */
};

void stomp_parser_init(stomp_parser *p, const stomp_limits *lim); /* lim NULL = defaults */
void stomp_parser_free(stomp_parser *p);                          /* accepts zeroed */
chat_rc stomp_feed(stomp_parser *p, const char *buf, size_t len);
/* STOMP 1.0 had no header escaping: after a 1.0 CONNECT, take every header byte as
 * sent (a backslash is just a backslash). Applies from the next frame on. */
void stomp_parser_set_raw_headers(stomp_parser *p, int on);
chat_rc stomp_next(stomp_parser *p, stomp_frame *out);

/* First header named name (NUL-terminated), or NULL; *len gets its length. */
const char *stomp_header_get(const stomp_frame *f, const char *name, size_t *len);
stomp_cmd stomp_cmd_parse(const char *s, size_t len);
const char *stomp_cmd_name(stomp_cmd c);

/* ---- writer ----
 * Append one frame to out (buf.h): command, headers (escaped per 1.2 unless cmd is
 * CONNECTED), an automatic content-length when body_len > 0 and the caller did not
 * give one, the blank line, the body and the NUL. */
struct buf;
typedef struct stomp_kv { const char *name; const char *value; } stomp_kv;
void stomp_write(struct buf *out, stomp_cmd cmd, const stomp_kv *headers, size_t n,
                 const char *body, size_t body_len);
/* Escape a header value into out per STOMP 1.2 (\\ \n \r \c). */
void stomp_escape(struct buf *out, const char *s, size_t len);

#endif
