/* redis.h - Redis URLs and the synchronous connection used by the API.
 *
 * rconn keeps one hiredis context and reconnects lazily: a command on a broken
 * connection reconnects once and retries when the command is safe to retry; when Redis
 * is not answering, commands return NULL fast (connect and I/O timeouts) so the API
 * answers 503, and the next request tries again. The relay uses only redis_url_parse()
 * and makes its own async connections. */
#ifndef CHAT_REDIS_H
#define CHAT_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include "result.h"

typedef struct redis_url {
    char host[256]; /* or a unix socket path when is_unix */
    int port;
    int db;
    char user[128];     /* ACL user ("" = the default user) */
    char password[256]; /* "" = no AUTH */
    int is_unix;
} redis_url;

/* Parse redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]. A bare
 * "secret@" is a password for the default user, as is ":secret@"; "user:secret@"
 * names an ACL user. User and password may be percent-encoded. 0 or -1. */
int redis_url_parse(const char *url, redis_url *out);

/* Connect once, AUTH and SELECT as url says, and PING, within timeout_ms: the
 * start-up check every program runs. 0 when all is well; -1 when Redis cannot be
 * reached (not fatal: programs retry later); -2 when Redis answered but refused the
 * credentials or the db (fatal: retrying cannot help). err gets the reason. */
int redis_check(const redis_url *url, int timeout_ms, char *err, size_t errlen);

/* Send AUTH for url on c when it has a password (NULL reply or an error reply as
 * hiredis gives them; NULL reply pointer and 0 when there is nothing to send). */
redisReply *redis_auth(redisContext *c, const redis_url *url, int *sent);

typedef struct rconn rconn;

/* Owning handle; connects on first use. timeout_ms bounds connect and each reply. */
rconn *rconn_new(const redis_url *url, int timeout_ms);
void rconn_free(rconn *c);

/* Run a command. Returns a reply the caller frees with freeReplyObject(), or NULL
 * when Redis is unreachable (the connection is dropped and retried next call). A
 * REDIS_REPLY_ERROR reply is returned as is. */
redisReply *rconn_cmd(rconn *c, const char *fmt, ...);
redisReply *rconn_cmdargv(rconn *c, int argc, const char **argv, const size_t *lens);

/* What a reply means to a caller that expects no error: CHAT_OK for any non-error
 * reply; CHAT_EUNAVAIL for NULL (no connection) or a server-state error (LOADING,
 * BUSY, MASTERDOWN, MISCONF, OOM, READONLY, NOREPLICAS, TRYAGAIN, CLUSTERDOWN: warned);
 * CHAT_EINTERNAL (logged as an error) for any other error reply. what names the
 * operation in the log line. Shared by the API's and the relay's stores. */
chat_rc redis_reply_rc(const redisReply *r, const char *what);

/* Pipeline: append commands, then collect exactly that many replies with
 * rconn_get_reply(). On failure rconn_get_reply returns NULL and the connection is
 * dropped. */
int rconn_append(rconn *c, const char *fmt, ...);
redisReply *rconn_get_reply(rconn *c);

#endif
