/* rds.c - two hiredis async connections (commands, Pub/Sub) on the relay's libuv loop,
 * with reconnect/backoff and EVALSHA scripts; see rds.h.
 *
 * The glue to the loop is hiredis' own adapters/libuv.h (five idempotent hooks), so
 * no event code is written here. Connection set-up (AUTH, SELECT, SCRIPT LOAD) is
 * pipelined right behind the connect, before anything a caller sends, so a caller's
 * EVALSHA on a fresh connection never meets an unloaded script.
 *
 * Deliberately not here: key names, channel meanings and what to re-subscribe after a
 * reconnect (the on_sub_up hook decides). */
#include "rds.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define RDS_MAX_SCRIPTS 8
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define SHUTDOWN_GRACE_MS 2000
#define CONNECT_TIMEOUT_MS 2000
#define WATCH_MS 100

enum { CONN_CMD = 0, CONN_SUB = 1 };
enum { ST_DOWN = 0, ST_CONNECTING, ST_UP };

typedef struct aconn {
    const char *name;         /* "cmd" or "sub", for logs */
    redisAsyncContext *ac;    /* NULL while down */
    int state;
    int ever_up;
    unsigned backoff_ms;
    int64_t connect_started;  /* mono ms, while CONNECTING */
    uv_timer_t retry;
} aconn;

typedef struct rscript {
    const char *src;
    char sha[41];             /* known after the first SCRIPT LOAD reply */
} rscript;

static struct {
    uv_loop_t *loop;
    redis_url url;
    rds_events ev;
    aconn conn[2];
    uv_timer_t guard;         /* shutdown deadline */
    uv_timer_t watch;         /* socket-error watchdog, see watch_fired */
    int shutting_down, closed;
    rscript scripts[RDS_MAX_SCRIPTS];
    int nscripts;
} R;

/* One script call in flight: the arguments are kept (one allocation) so a NOSCRIPT
 * reply can be retried with EVAL. argv[0..2] are filled in when sending. */
typedef struct eval_call {
    rds_reply_cb cb;
    void *ud;
    int script, retried, argc; /* argc includes the three leading slots */
    int64_t sent_us;           /* mono us, for the latency histogram */
    const char **argv;
    size_t *lens;
    char nkeys[12];
} eval_call;

static void conn_start(aconn *c);
static void retry_fired(uv_timer_t *t);

/* ---- small helpers -------------------------------------------------------------------- */

int rds_script_add(const char *src)
{
    if (R.nscripts >= RDS_MAX_SCRIPTS) abort(); /* a programming error, found at start */
    R.scripts[R.nscripts].src = src;
    return R.nscripts++;
}

bool rds_cmd_ready(void) { return R.conn[CONN_CMD].state == ST_UP && !R.shutting_down; }
bool rds_sub_ready(void) { return R.conn[CONN_SUB].state == ST_UP && !R.shutting_down; }

static const char *addr_str(void)
{
    static char s[300];
    if (R.url.is_unix) snprintf(s, sizeof s, "unix:%s", R.url.host);
    else snprintf(s, sizeof s, "%s:%d", R.url.host, R.url.port);
    return s;
}

static void schedule_retry(aconn *c)
{
    if (R.shutting_down) return;
    unsigned ms = c->backoff_ms ? c->backoff_ms : BACKOFF_MIN_MS;
    c->backoff_ms = ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
    log_debug("redis", "conn=%s retry_ms=%u", c->name, ms);
    uv_timer_start(&c->retry, retry_fired, ms, 0);
}

/* ---- shutdown ---------------------------------------------------------------------- */

static void noop_close(uv_handle_t *h) { (void)h; }

/* Once both connections are gone during shutdown, close this module's own handles so
 * the loop can end. */
static void maybe_finish(void)
{
    if (!R.shutting_down || R.closed) return;
    if (R.conn[CONN_CMD].ac || R.conn[CONN_SUB].ac) return;
    R.closed = 1;
    for (int i = 0; i < 2; i++) {
        uv_timer_stop(&R.conn[i].retry);
        uv_close((uv_handle_t *)&R.conn[i].retry, noop_close);
    }
    uv_timer_stop(&R.guard);
    uv_close((uv_handle_t *)&R.guard, noop_close);
    uv_timer_stop(&R.watch);
    uv_close((uv_handle_t *)&R.watch, noop_close);
    log_info("redis", "state=closed");
}

/* The grace period is over: drop whatever is still pending (callbacks get NULL). */
static void guard_fired(uv_timer_t *t)
{
    (void)t;
    for (int i = 0; i < 2; i++) {
        redisAsyncContext *ac = R.conn[i].ac;
        if (!ac) continue;
        R.conn[i].ac = NULL;
        R.conn[i].state = ST_DOWN;
        redisAsyncFree(ac);
    }
    maybe_finish();
}

void rds_shutdown(void)
{
    if (R.shutting_down || !R.loop) return;
    R.shutting_down = 1;
    for (int i = 0; i < 2; i++) {
        aconn *c = &R.conn[i];
        uv_timer_stop(&c->retry);
        if (!c->ac) continue;
        if (c->state == ST_UP) {
            redisAsyncDisconnect(c->ac); /* after pending replies; on_disconnect follows */
        } else {
            redisAsyncContext *ac = c->ac; /* not connected: no disconnect callback */
            c->ac = NULL;
            c->state = ST_DOWN;
            redisAsyncFree(ac);
        }
    }
    uv_timer_start(&R.guard, guard_fired, SHUTDOWN_GRACE_MS, 0);
    maybe_finish();
}

/* ---- connection life cycle ----------------------------------------------------------- */

/* Replies to AUTH / SELECT / SCRIPT LOAD. An error reply means the connection is
 * unusable (wrong password, bad db): drop it and let the backoff retry. */
static void setup_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *r = reply;
    aconn *c = ac->data;
    intptr_t idx = (intptr_t)priv; /* -1 for AUTH/SELECT, else a script index */
    if (!r) return;
    if (r->type == REDIS_REPLY_ERROR) {
        log_error("redis", "conn=%s addr=%s problem=%s", c->name, addr_str(), log_q(0, r->str));
        redisAsyncDisconnect(ac);
        return;
    }
    if (idx >= 0 && idx < R.nscripts && r->type == REDIS_REPLY_STRING && r->len == 40) {
        memcpy(R.scripts[idx].sha, r->str, 40);
        R.scripts[idx].sha[40] = '\0';
    }
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    aconn *c = cac->data;
    if (status != REDIS_OK) {
        /* hiredis frees the context right after this callback */
        log_warn("redis", "conn=%s addr=%s state=down problem=%s", c->name, addr_str(),
                 log_q(0, cac->errstr));
        RM_ADD(redis_failures[c - R.conn], 1);
        c->ac = NULL;
        c->state = ST_DOWN;
        schedule_retry(c);
        maybe_finish();
        return;
    }
    int again = c->ever_up;
    if (again) RM_ADD(redis_reconnects[c - R.conn], 1);
    c->state = ST_UP;
    c->ever_up = 1;
    c->backoff_ms = 0;
    log_info("redis", "conn=%s addr=%s state=up", c->name, addr_str());
    if (c == &R.conn[CONN_SUB] && R.ev.on_sub_up) R.ev.on_sub_up();
    if (c == &R.conn[CONN_CMD] && again && R.ev.on_cmd_reup) R.ev.on_cmd_reup();
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
    aconn *c = cac->data;
    c->ac = NULL; /* freed by hiredis after this callback */
    c->state = ST_DOWN;
    if (!R.shutting_down) RM_ADD(redis_failures[c - R.conn], 1);
    if (!R.shutting_down)
        log_warn("redis", "conn=%s addr=%s state=down problem=%s", c->name, addr_str(),
                 log_q(0, status == REDIS_OK ? "closed" : cac->errstr));
    if (c == &R.conn[CONN_SUB] && R.ev.on_sub_down) R.ev.on_sub_down();
    schedule_retry(c);
    maybe_finish();
}

/* Open the connection and pipeline its set-up commands. On an immediate failure the
 * retry timer is armed instead. */
static void conn_start(aconn *c)
{
    redisAsyncContext *ac = R.url.is_unix ? redisAsyncConnectUnix(R.url.host)
                                          : redisAsyncConnect(R.url.host, R.url.port);
    if (!ac || ac->err) {
        log_warn("redis", "conn=%s addr=%s state=down problem=%s", c->name, addr_str(),
                 log_q(0, ac ? ac->errstr : "out of memory"));
        if (ac) redisAsyncFree(ac);
        RM_ADD(redis_failures[c - R.conn], 1);
        schedule_retry(c);
        return;
    }
    ac->data = c;
    if (redisLibuvAttach(ac, R.loop) != REDIS_OK) {
        log_error("redis", "conn=%s problem=\"cannot attach to the loop\"", c->name);
        redisAsyncFree(ac);
        schedule_retry(c);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    c->ac = ac;
    c->state = ST_CONNECTING;
    c->connect_started = mono_ms();
    if (R.url.password[0] && R.url.user[0])
        redisAsyncCommand(ac, setup_reply, (void *)(intptr_t)-1, "AUTH %s %s", R.url.user, R.url.password);
    else if (R.url.password[0])
        redisAsyncCommand(ac, setup_reply, (void *)(intptr_t)-1, "AUTH %s", R.url.password);
    if (R.url.db)
        redisAsyncCommand(ac, setup_reply, (void *)(intptr_t)-1, "SELECT %d", R.url.db);
    if (c == &R.conn[CONN_CMD])
        for (int i = 0; i < R.nscripts; i++)
            redisAsyncCommand(ac, setup_reply, (void *)(intptr_t)i, "SCRIPT LOAD %s",
                              R.scripts[i].src);
}

/* hiredis 0.14's libuv adapter drops a poll error on the floor (`if (status != 0)
 * return;`), and libuv reports a refused connect or a reset socket exactly that way
 * (UV_EBADF, poll stopped): hiredis would wait forever. So look at the sockets
 * ourselves: a pending socket error, or a connect taking too long, ends the
 * connection here (callbacks get NULL) and the usual backoff retries. */
static void watch_fired(uv_timer_t *t)
{
    (void)t;
    int64_t now = mono_ms();
    for (int i = 0; i < 2; i++) {
        aconn *c = &R.conn[i];
        if (!c->ac || R.shutting_down) continue;
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->ac->c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        bool slow = c->state == ST_CONNECTING && now - c->connect_started > CONNECT_TIMEOUT_MS;
        if (!err && !slow) continue;
        log_warn("redis", "conn=%s addr=%s state=down problem=%s", c->name, addr_str(),
                 log_q(0, err ? strerror(err) : "connect timed out"));
        redisAsyncContext *ac = c->ac;
        bool was_up = c->state == ST_UP;
        c->ac = NULL;
        c->state = ST_DOWN;
        ac->onDisconnect = NULL; /* we report the loss ourselves, once */
        redisAsyncFree(ac);
        if (was_up && c == &R.conn[CONN_SUB] && R.ev.on_sub_down) R.ev.on_sub_down();
        schedule_retry(c);
    }
}

static void retry_fired(uv_timer_t *t)
{
    aconn *c = t->data;
    if (!R.shutting_down && !c->ac) conn_start(c);
}

int rds_start(uv_loop_t *loop, const redis_url *url, const rds_events *ev)
{
    R.loop = loop;
    R.url = *url;
    if (ev) R.ev = *ev;
    if (uv_timer_init(loop, &R.guard) != 0 || uv_timer_init(loop, &R.watch) != 0) return -1;
    uv_timer_start(&R.watch, watch_fired, WATCH_MS, WATCH_MS);
    for (int i = 0; i < 2; i++) {
        aconn *c = &R.conn[i];
        c->name = i == CONN_CMD ? "cmd" : "sub";
        if (uv_timer_init(loop, &c->retry) != 0) return -1;
        c->retry.data = c;
    }
    for (int i = 0; i < 2; i++) conn_start(&R.conn[i]);
    return 0;
}

/* ---- commands ---------------------------------------------------------------------- */

typedef struct cmd_call {
    rds_reply_cb cb;
    void *ud;
    int64_t sent_us; /* mono us, for the latency histogram */
} cmd_call;

static void cmd_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    cmd_call *call = priv;
    if (reply) rm_observe(&rm.redis_latency, mono_us() - call->sent_us);
    if (call->cb) call->cb(reply, call->ud);
    free(call);
}

chat_rc rds_cmd(rds_reply_cb cb, void *ud, int argc, const char **argv, const size_t *lens)
{
    if (!rds_cmd_ready()) return CHAT_EUNAVAIL;
    cmd_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->ud = ud;
    call->sent_us = rm_on ? mono_us() : 0;
    if (redisAsyncCommandArgv(R.conn[CONN_CMD].ac, cmd_reply, call, argc, argv, lens) != REDIS_OK) {
        free(call);
        return CHAT_EUNAVAIL;
    }
    return CHAT_OK;
}

/* Send call as EVALSHA (sha known and not retrying) or EVAL. REDIS_OK or REDIS_ERR. */
static void eval_reply(redisAsyncContext *ac, void *reply, void *priv);
static int eval_send(eval_call *call)
{
    rscript *s = &R.scripts[call->script];
    int sha = s->sha[0] && !call->retried;
    call->argv[0] = sha ? "EVALSHA" : "EVAL";
    call->argv[1] = sha ? s->sha : s->src;
    call->lens[0] = strlen(call->argv[0]);
    call->lens[1] = strlen(call->argv[1]);
    if (!rds_cmd_ready()) return REDIS_ERR;
    return redisAsyncCommandArgv(R.conn[CONN_CMD].ac, eval_reply, call, call->argc,
                                 call->argv, call->lens);
}

/* A script's reply: NOSCRIPT is retried once with the full source (the order relative
 * to later commands is then not kept; only after a SCRIPT FLUSH). */
static void eval_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    redisReply *r = reply;
    eval_call *call = priv;
    if (r) rm_observe(&rm.redis_latency, mono_us() - call->sent_us);
    if (r && r->type == REDIS_REPLY_ERROR && !call->retried && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        call->retried = 1;
        R.scripts[call->script].sha[0] = '\0';
        log_warn("redis", "problem=noscript script=%d action=eval", call->script);
        if (eval_send(call) == REDIS_OK) return;
        r = NULL;
    }
    if (call->cb) call->cb(r, call->ud);
    free(call);
}

chat_rc rds_eval(int script, rds_reply_cb cb, void *ud, int nkeys, int argc,
                 const char **argv, const size_t *lens)
{
    if (!rds_cmd_ready()) return CHAT_EUNAVAIL;
    size_t data = 0;
    for (int i = 0; i < argc; i++) data += lens[i];
    int total = argc + 3;
    eval_call *call = xmalloc(sizeof *call + (size_t)total * (sizeof(char *) + sizeof(size_t)) + data);
    call->cb = cb;
    call->ud = ud;
    call->script = script;
    call->retried = 0;
    call->sent_us = rm_on ? mono_us() : 0;
    call->argc = total;
    call->argv = (const char **)(call + 1);
    call->lens = (size_t *)(call->argv + total);
    char *p = (char *)(call->lens + total);
    snprintf(call->nkeys, sizeof call->nkeys, "%d", nkeys);
    call->argv[2] = call->nkeys;
    call->lens[2] = strlen(call->nkeys);
    for (int i = 0; i < argc; i++) {
        if (lens[i]) memcpy(p, argv[i], lens[i]);
        call->argv[3 + i] = p;
        call->lens[3 + i] = lens[i];
        p += lens[i];
    }
    if (eval_send(call) != REDIS_OK) {
        free(call);
        return CHAT_EUNAVAIL;
    }
    return CHAT_OK;
}

/* ---- Pub/Sub --------------------------------------------------------------------------- */

/* Every SUBSCRIBE uses this one callback: hiredis calls it for the confirmation, each
 * message and the UNSUBSCRIBE confirmation of that channel (and with NULL when the
 * connection goes; on_sub_down covers that). */
static void sub_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    (void)priv;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
    redisReply *kind = r->element[0], *chan = r->element[1], *val = r->element[2];
    if (kind->type != REDIS_REPLY_STRING || chan->type != REDIS_REPLY_STRING) return;
    if (strcmp(kind->str, "message") == 0 && val->type == REDIS_REPLY_STRING) {
        if (R.ev.on_message) R.ev.on_message(chan->str, chan->len, val->str, val->len);
    } else if (strcmp(kind->str, "subscribe") == 0) {
        if (R.ev.on_subscribed) R.ev.on_subscribed(chan->str, chan->len);
    } else if (strcmp(kind->str, "unsubscribe") == 0) {
        if (R.ev.on_unsubscribed) R.ev.on_unsubscribed(chan->str, chan->len);
    }
}

static chat_rc sub_cmd(const char *verb, const char *chan, size_t len)
{
    if (!rds_sub_ready()) return CHAT_EUNAVAIL;
    const char *argv[2] = {verb, chan};
    size_t lens[2] = {strlen(verb), len};
    int rc = redisAsyncCommandArgv(R.conn[CONN_SUB].ac, sub_reply, NULL, 2, argv, lens);
    return rc == REDIS_OK ? CHAT_OK : CHAT_EUNAVAIL;
}

chat_rc rds_subscribe(const char *chan, size_t len) { return sub_cmd("SUBSCRIBE", chan, len); }
chat_rc rds_unsubscribe(const char *chan, size_t len) { return sub_cmd("UNSUBSCRIBE", chan, len); }
