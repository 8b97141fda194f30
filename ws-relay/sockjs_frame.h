/* sockjs_frame.h - SockJS message framing: the JSON that goes inside SockJS frames.
 * Pure: bytes in, bytes or callbacks out; no I/O, no globals, no knowledge of HTTP,
 * WebSocket or STOMP (a "message" is any byte string, in practice one STOMP frame).
 *
 * Server to client:  a["msg1","msg2"]   (sockjs_frame_messages)
 *                    c[3000,"Go away!"]  (sockjs_frame_close)
 * The one-letter frames "o" (open) and "h" (heartbeat) need no helper.
 * Client to server:  ["msg1","msg2"]    (sockjs_decode: xhr_send bodies and
 *                                        websocket-transport messages)
 *
 * Strings are escaped like sockjs-node does, so that no browser or proxy on the way
 * mangles them: '"' and '\' as \" and \\, and as \uXXXX the code points U+0000-001F,
 * U+007F-009F, U+00AD, U+0600-0604, U+070F, U+17B4-17B5, U+200C-200F, U+2028-202F,
 * U+2060-206F, U+FEFF and U+FFF0-FFFF. Input that is not valid UTF-8 is sent as
 * U+FFFD (escaped), one per bad byte, so the output is always valid JSON in UTF-8. */
#ifndef SOCKJS_FRAME_H
#define SOCKJS_FRAME_H

#include <stddef.h>
#include "result.h"

struct buf;

/* Append s[0..len) as a JSON string literal, quotes included, escaped as above. */
void sockjs_quote(struct buf *out, const char *s, size_t len);

/* Append the frame a[...] holding the n messages msgs[i] of lens[i] bytes (which may
 * contain NULs). Nothing is kept. */
void sockjs_frame_messages(struct buf *out, const char *const *msgs, const size_t *lens,
                           size_t n);

/* Append the close frame c[code,"reason"]; reason NULL means "". */
void sockjs_frame_close(struct buf *out, int code, const char *reason);

/* Decode body[0..len), which must be a JSON array of strings (whitespace allowed
 * around tokens, nothing else: no bare string, no other JSON value, no trailing
 * bytes). Calls cb once per string, in order, with its UTF-8 bytes (\u0000 becomes a
 * NUL byte; a surrogate pair becomes one code point; a lone surrogate becomes U+FFFD,
 * as a browser's own UTF-8 encoder would make it). msg is NUL-terminated and valid
 * only during the call.
 *
 * The body is validated in full before the first callback: on any error cb is never
 * called. Returns CHAT_OK (also for []), CHAT_EMALFORMED, or CHAT_ETOOLARGE when the
 * decoded strings together exceed max_total bytes. Allocates at most one buffer of the
 * longest decoded string (so at most max_total + 1 bytes), freed before returning. */
chat_rc sockjs_decode(const char *body, size_t len, size_t max_total,
                      void (*cb)(void *ud, const char *msg, size_t len), void *ud);

#endif
