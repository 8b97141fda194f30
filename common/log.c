/* log.c - one line per event on stderr; see log.h. A single write(2) per line keeps
 * lines from several processes sharing one stderr (lighttpd's FastCGI children) whole. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "chat";
static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *prog, const char *level)
{
    if (prog) log_prog = prog;
    log_min = LOG_INFO;
    for (int i = 0; level && i < 4; i++)
        if (strcasecmp(level, level_names[i]) == 0) log_min = (enum log_level)i;
}

int log_enabled(enum log_level lvl)
{
    return lvl >= log_min;
}

void log_msg(enum log_level lvl, const char *event, const char *fmt, ...)
{
    if (lvl < log_min) return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s[%d] event=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000), level_names[lvl], log_prog,
                     (int)getpid(), event);
    if (n < 0) return;
    if ((size_t)n < sizeof line) {
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        va_end(ap);
        if (m > 0) n += m;
    }
    if ((size_t)n >= sizeof line - 1) n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

const char *log_q(int slot, const char *s)
{
    static _Thread_local char bufs[4][256];
    char *o = bufs[slot & 3];
    size_t j = 0;
    o[j++] = '"';
    for (size_t i = 0; s && s[i] && j < 200; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            o[j++] = '\\';
            o[j++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o[j++] = '?';
        } else {
            o[j++] = (char)c;
        }
    }
    o[j++] = '"';
    o[j] = '\0';
    return o;
}
