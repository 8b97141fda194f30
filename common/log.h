/* log.h - one line per event to stderr:
 *
 *   2026-11-25T07:23:00.123Z info chat-api event=login user=u_abc status=200
 *
 * The caller passes `key=value` pairs as a printf format; values that may contain
 * spaces or quotes go through log_q(), which quotes them into a per-thread buffer.
 * This module never buffers and never allocates on the hot path. */
#ifndef CHAT_LOG_H
#define CHAT_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Name the program and pick the least level printed ("debug", "info", "warn",
 * "error"; unknown names mean info). */
void log_init(const char *prog, const char *level);
int log_enabled(enum log_level lvl);
void log_msg(enum log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Quote a value for a log line: returned pointer is valid until the next log_q call
 * with the same slot (0..3) on this thread. Long values are cut to 200 bytes. */
const char *log_q(int slot, const char *s);

#define log_debug(ev, ...) do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, ev, __VA_ARGS__); } while (0)
#define log_info(ev, ...) log_msg(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_msg(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_msg(LOG_ERROR, ev, __VA_ARGS__)

#endif
