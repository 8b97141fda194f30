/* main.c - chat-relay: the STOMP-over-WebSocket relay process.
 *
 * Reads the configuration, creates the one libuv loop of the process and starts the
 * things that share it: the Redis connections (rds.c), the lws listener (relay.c), a
 * periodic sweep over sessions (heart-beats, timeouts) and the relay registry
 * (registry.c). SIGINT and SIGTERM hand over cleanly: no new connections, every
 * session closed with "going away" (1001) so its client reconnects to another relay,
 * every LEAVE published at once, the relay deregistered, pending Redis replies awaited
 * briefly, the loop ends: about 2 s at most, 3.5 s when Redis does not answer.
 * More cores = more relay processes on other ports, never threads.
 *
 * Deliberately not here: anything a test could exercise below the process level. */
#include "cfg.h"
#include "command.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "pubsub.h"
#include "rds.h"
#include "redis.h"
#include "registry.h"
#include "relay.h"
#include "rooms.h"
#include "session.h"
#include "store.h"
#include "token.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_loop_t loop;
static uv_signal_t sig_int, sig_term;
static uv_timer_t sweep_timer, drain_timer;
static int shutting_down;
static int64_t drain_until;

static void usage(FILE *f)
{
    fprintf(f, "usage: chat-relay [--port N] [--help]\n"
               "  STOMP 1.2 over WebSocket at /ws/websocket (subprotocols v12.stomp, v11.stomp,\n"
               "  v10.stomp) and over SockJS at /ws (websocket, xhr_streaming, xhr, xhr_send,\n"
               "  eventsource), relayed between relays through Redis Pub/Sub.\n"
               "  Configuration: $CHAT_CONF or conf/chat.conf, environment wins;\n"
               "  keys in docs/STOMP.md (RELAY_HOST, RELAY_PORT, REDIS_URL, HEARTBEAT_MS, ...).\n"
               "  REDIS_URL may carry redis://[[user]:password@]host:port/db; refused credentials\n"
               "  stop the relay at start-up (exit 1). GET /metrics on the same port serves\n"
               "  Prometheus metrics to loopback clients (METRICS=0 turns them off).\n"
               "  --port N   listen on port N (overrides RELAY_PORT)\n");
}

static void on_sweep(uv_timer_t *t)
{
    (void)t;
    int64_t now = mono_ms();
    sess_sweep(now);
    rooms_sweep(now);
}

static void noop_close(uv_handle_t *h) { (void)h; }

/* Shutdown, step 2: once every session is gone (or after DRAIN_MS), close the
 * listener and the connections, then let Redis answer what is pending and close. The
 * loop ends when every handle is closed. */
#define DRAIN_MS 1500
static void on_drain(uv_timer_t *t)
{
    if (sess_count() > 0 && mono_ms() < drain_until) return;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, noop_close);
    log_info("shutdown", "step=close sessions-left=%zu", sess_count());
    relay_stop();
    rds_shutdown();
}

/* Shutdown, step 1 (SIGTERM, SIGINT): stop accepting, close every session with
 * "going away" (WebSocket 1001, SockJS c[1001,...]) after what is queued for it, so
 * clients reconnect elsewhere; publish every LEAVE now (no grace: this relay will not
 * see them come back) and deregister. */
static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    if (shutting_down) return;
    shutting_down = 1;
    log_info("shutdown", "signal=%d sessions=%zu", signum, sess_count());
    uv_signal_stop(&sig_int);
    uv_signal_stop(&sig_term);
    uv_close((uv_handle_t *)&sig_int, noop_close);
    uv_close((uv_handle_t *)&sig_term, noop_close);
    uv_timer_stop(&sweep_timer);
    uv_close((uv_handle_t *)&sweep_timer, noop_close);
    relay_quiesce();
    sess_shutdown_all();
    rooms_flush_leaves();
    reg_stop();
    drain_until = mono_ms() + DRAIN_MS;
    uv_timer_init(&loop, &drain_timer);
    uv_timer_start(&drain_timer, on_drain, 0, 50);
}

/* Limits and settings from the configuration (docs/STOMP.md lists them). */
static void read_conf(sess_conf *c, relay_conf *rc)
{
    memset(c, 0, sizeof *c);
    c->limits.max_frame = (size_t)cfg_int("MAX_FRAME", 16384, 256, 16 << 20);
    c->limits.max_headers = (size_t)cfg_int("MAX_HEADERS", 32, 1, 1024);
    c->limits.max_header_line = (size_t)cfg_int("MAX_HEADER_LINE", 4096, 64, 1 << 20);
    c->limits.max_pending = (size_t)cfg_int("MAX_PENDING", 65536, 256, 64 << 20);
    if (c->limits.max_pending < c->limits.max_frame) c->limits.max_pending = c->limits.max_frame;
    c->max_queue_bytes = (size_t)cfg_int("MAX_QUEUE_BYTES", 1 << 20, 4096, 1L << 30);
    c->send_rate.burst = (uint32_t)cfg_int("SEND_BURST", 100, 1, 1000000);
    c->send_rate.per_sec = (uint32_t)cfg_int("SEND_RATE", 20, 0, 1000000);
    c->heartbeat_ms = (unsigned)cfg_int("HEARTBEAT_MS", 10000, 0, 3600000);
    c->max_subs = (unsigned)cfg_int("MAX_SUBSCRIPTIONS", 100, 1, 100000);
    c->connect_timeout_ms = (unsigned)cfg_int("CONNECT_TIMEOUT_MS", 10000, 100, 3600000);
    c->redis_timeout_ms = (unsigned)cfg_int("REDIS_TIMEOUT_MS", 5000, 100, 600000);
    c->presence_grace_ms = (unsigned)cfg_int("PRESENCE_GRACE_MS", 1000, 0, 60000);
    c->recover_max = (unsigned)cfg_int("RECOVER_MAX", 500, 0, 100000);
    c->presence_ttl_ms = (unsigned)cfg_int("PRESENCE_TTL", 30, 1, 86400) * 1000u;
    char rid[9];
    token_id(rid, 8);
    rid[8] = '\0';
    snprintf(c->relay_id, sizeof c->relay_id, "%s", rid);
    rc->host = cfg_str("RELAY_HOST", "127.0.0.1");
    rc->port = (int)cfg_int("RELAY_PORT", 8081, 1, 65535);
    rc->rx_buffer = (size_t)cfg_int("RELAY_RX_BUFFER", 1024, 128, 1 << 20);
}

int main(int argc, char **argv)
{
    long port = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--port") == 0 && i + 1 < argc) v = argv[++i];
        else if (strncmp(a, "--port=", 7) == 0) v = a + 7;
        if (!v || parse_long(v, 1, 65535, &port) != 0) {
            usage(stderr);
            return 2;
        }
    }
    char err[512];
    if (cfg_load(cfg_default_path(), getenv("CHAT_CONF") != NULL, err, sizeof err) != 0) {
        fprintf(stderr, "chat-relay: %s\n", err);
        return 2;
    }
    log_init("chat-relay", cfg_str("LOG_LEVEL", "info"));
    keys_init(cfg_str("KEY_PREFIX", "chat:"));
    redis_url url;
    const char *rurl = cfg_str("REDIS_URL", "redis://127.0.0.1:6379/0");
    if (redis_url_parse(rurl, &url) != 0) {
        log_error("config", "key=REDIS_URL problem=\"not a redis:// or unix:// URL\"");
        return 2;
    }
    if (token_init() != 0) {
        log_error("start", "problem=\"libsodium failed to initialise\"");
        return 1;
    }
    /* Wrong credentials cannot heal by retrying: say so once and stop. An unreachable
     * Redis is not fatal (rds.c reconnects). */
    if (redis_check(&url, (int)cfg_int("REDIS_TIMEOUT_MS", 5000, 100, 600000), err, sizeof err) == -2) {
        log_error("start", "problem=%s", log_q(0, err));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    sess_conf sc;
    relay_conf rc;
    read_conf(&sc, &rc);
    if (port > 0) rc.port = (int)port;

    int status = 1;
    uv_loop_init(&loop);
    /* scripts: before rds_start */
    /* HISTORY_WRITES=0 exists only for the history on/off benchmark (docs/CONFIG.md). */
    size_t hsize = (size_t)cfg_int("HISTORY_SIZE", 1000, 1, 10000000);
    if (cfg_int("HISTORY_WRITES", 1, 0, 1) == 0) {
        hsize = 0;
        log_warn("config", "key=HISTORY_WRITES problem=\"0: messages are not stored (benchmark only; "
                           "no history, no recovery)\"");
    }
    store_init(hsize, (size_t)cfg_int("ARCHIVE_BACKLOG_MAX", 500000, 1000, 1000000000), sc.redis_timeout_ms,
               sc.relay_id, sc.presence_ttl_ms);
    sess_init(&sc, store_redis(), cmd_dispatch);
    rm_init(cfg_int("METRICS", 1, 0, 1) != 0);
    if (rds_start(&loop, &url, ps_events()) != 0 || relay_start(&loop, &rc) != 0) {
        rds_shutdown();
        uv_run(&loop, UV_RUN_DEFAULT);
        goto out;
    }
    uv_signal_init(&loop, &sig_int);
    uv_signal_init(&loop, &sig_term);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_timer_init(&loop, &sweep_timer);
    uv_timer_start(&sweep_timer, on_sweep, sess_sweep_period(), sess_sweep_period());
    reg_start(&loop, store_redis(), sc.presence_ttl_ms);
    log_info("start", "relay=%s host=%s port=%d redis=%s:%d heart-beat=%u", sc.relay_id, rc.host,
             rc.port, url.is_unix ? "unix" : url.host, url.port, sc.heartbeat_ms);

    uv_run(&loop, UV_RUN_DEFAULT);
    status = 0;
out:
    relay_finish();
    uv_run(&loop, UV_RUN_DEFAULT); /* let closing handles finish */
    if (uv_loop_close(&loop) != 0) log_warn("shutdown", "problem=\"uv handles still open\"");
    cfg_reset();
    log_info("exit", "status=%d", status);
    return status;
}
