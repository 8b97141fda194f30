/* main.c - chat-api: the FastCGI responder behind lighttpd's /api.
 *
 * Reads the configuration (conf file + environment), opens one lazy Redis
 * connection for the process, then serves one request at a time with FCGX_Accept_r
 * until SIGTERM/SIGINT, and frees everything on the way out (so ASan's leak check at
 * exit covers every request served). Per request: route -> body -> auth -> handler
 * -> response -> one log line. It holds no request logic itself; lighttpd runs
 * several of these processes side by side. */
#include "api.h"
#include "blobs.h"
#include "archive_api.h"
#include "cfg.h"
#include "http.h"
#include "keys.h"
#include "log.h"
#include "media.h"
#include "metrics.h"
#include "router.h"
#include "token.h"
#include "util.h"

#include <errno.h>
#include <fcgiapp.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f)
{
    size_t n;
    const api_route *r = api_routes(&n);
    fprintf(f,
            "usage: chat-api [--socket PATH|:PORT] [--check-redis] [--help]\n"
            "\n"
            "The chat REST API as a FastCGI responder. Normally started by lighttpd\n"
            "(fastcgi.server bin-path), which passes the listening socket as stdin;\n"
            "--socket makes it listen itself instead. --check-redis only tries REDIS_URL\n"
            "once and exits: 1 when Redis refuses the credentials, else 0 (scripts/run.sh\n"
            "runs it first: lighttpd would otherwise respawn a failing chat-api for ever).\n"
            "\n"
            "Configuration: conf/chat.conf or $CHAT_CONF (KEY = value), overridden by\n"
            "environment variables of the same name:\n"
            "  REDIS_URL          redis://127.0.0.1:6379/0  (redis://[[user]:password@]host:port/db)\n"
            "  KEY_PREFIX         chat:\n"
            "  REDIS_TIMEOUT_MS   500      connect and reply timeout\n"
            "  SESSION_TTL        604800   seconds a login token lives\n"
            "  LOGIN_FAIL_LIMIT   10       failed logins per email ...\n"
            "  LOGIN_FAIL_WINDOW  60       ... per this many seconds, then 429\n"
            "  PWHASH_OPSLIMIT    %llu        argon2id passes (min %llu)\n"
            "  PWHASH_MEMLIMIT    %zu bytes (min %zu)\n"
            "  FILE_MAX           26214400 bytes per uploaded file (25 MiB)\n"
            "  FILE_PIXELS_MAX    50000000 images with more pixels get no thumbnail\n"
            "  FILES_DIR          var/files  where uploads are kept (relative: to the\n"
            "                     working directory; lighttpd's x-sendfile-docroot must match)\n"
            "  LOG_LEVEL          info\n"
            "  API_METRICS_FILE   (FastCGI socket path + .metrics) counters shared by all processes\n"
            "  ARCHIVE_URL        sqlite:var/archive.db  the message archive (search, older history):\n"
            "                     sqlite:PATH or PATH, or postgresql://user:password@host:port/db\n"
            "\nRoutes:\n",
            (unsigned long long)crypto_pwhash_OPSLIMIT_INTERACTIVE, (unsigned long long)crypto_pwhash_OPSLIMIT_MIN,
            (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE, (size_t)crypto_pwhash_MEMLIMIT_MIN);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-6s %-30s %s\n", r[i].method, r[i].pattern, r[i].flags & API_AUTH ? "(token)" : "");
}

static api_cfg read_cfg(void)
{
    api_cfg c = {
        .session_ttl = cfg_int("SESSION_TTL", 7L * 24 * 3600, 60, 366L * 24 * 3600),
        .login_fail_limit = cfg_int("LOGIN_FAIL_LIMIT", 10, 1, 1000000),
        .login_fail_window = cfg_int("LOGIN_FAIL_WINDOW", 60, 1, 24L * 3600),
        .pw_ops = (unsigned long long)cfg_int("PWHASH_OPSLIMIT", crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                              crypto_pwhash_OPSLIMIT_MIN, 64),
        .pw_mem = (size_t)cfg_int("PWHASH_MEMLIMIT", crypto_pwhash_MEMLIMIT_INTERACTIVE,
                                  crypto_pwhash_MEMLIMIT_MIN, 1L << 30),
        .redis_timeout_ms = cfg_int("REDIS_TIMEOUT_MS", 500, 10, 60000),
        .file_max = cfg_int("FILE_MAX", 25L << 20, 1, 1L << 40),
        .pixels_max = cfg_int("FILE_PIXELS_MAX", 50000000L, 1, 1L << 40),
        .archive_url = cfg_str("ARCHIVE_URL", "sqlite:var/archive.db"),
    };
    return c;
}

static void on_stop(int sig)
{
    (void)sig;
    FCGX_ShutdownPending(); /* only sets a flag: async-signal-safe */
}

/* Serve the request accepted in fr completely: response written, one log line. */
static void serve(FCGX_Request *fr, rconn *redis, const api_cfg *cfg)
{
    int64_t t0 = mono_us();
    api_req req = {.redis = redis, .cfg = cfg};
    api_match m;
    req.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
    req.uri = FCGX_GetParam("REQUEST_URI", fr->envp);
    if (!req.method) req.method = "";
    if (!req.uri) req.uri = "";
    req.query = api_uri_query(req.uri);
    req.authorization = FCGX_GetParam("HTTP_AUTHORIZATION", fr->envp);
    /* lighttpd's own peer address, never a header the client sets (X-Forwarded-For). */
    req.peer = FCGX_GetParam("REMOTE_ADDR", fr->envp);
    if (!req.peer || !*req.peer || strlen(req.peer) > 45) req.peer = "-";

    chat_rc rc = api_route_match(req.method, req.uri, &m);
    if (rc == CHAT_EMETHOD) {
        snprintf(req.allow, sizeof req.allow, "%s", m.allow);
        api_fail(&req, rc, "this resource allows %s", m.allow);
    } else if (rc == CHAT_ENOTFOUND) {
        api_fail(&req, rc, "no such endpoint");
    } else {
        memcpy(req.params, m.params, sizeof req.params);
        req.nparams = m.nparams;
        req.route_flags = m.route->flags;
        rc = api_http_read_body(fr, &req, m.route->flags);
        if (rc == CHAT_OK && (m.route->flags & API_AUTH)) rc = api_auth(&req);
        if (rc == CHAT_OK) rc = m.route->handler(&req);
    }
    int status = api_http_send(fr, &req, rc);
    if (m.route && (m.route->flags & API_FILE)) api_http_drain(fr);
    int64_t us = mono_us() - t0;
    size_t nroutes;
    const api_route *routes = api_routes(&nroutes);
    am_count(m.route ? (size_t)(m.route - routes) : nroutes, status, us);

    char path[201];
    size_t plen = strcspn(req.uri, "?#");
    snprintf(path, sizeof path, "%.*s", (int)(plen < 200 ? plen : 200), req.uri);
    log_info("request", "method=%s path=%s status=%d user=%s peer=%s route=%s error=%s us=%lld",
             log_q(0, req.method), log_q(1, path), status, req.user_id[0] ? req.user_id : "-", log_q(2, req.peer), m.route ? m.route->name : "-",
             rc == CHAT_OK ? "-" : api_http_slug(rc), (long long)us);
    api_req_clear(&req);
}

int main(int argc, char **argv)
{
    const char *listen_on = NULL;
    int check_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--check-redis") == 0) {
            check_only = 1;
        } else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            listen_on = argv[++i];
        } else {
            usage(stderr);
            return 2;
        }
    }

    char err[256];
    const char *conf = cfg_default_path();
    if (cfg_load(conf, getenv("CHAT_CONF") != NULL, err, sizeof err) != 0) {
        fprintf(stderr, "chat-api: %s\n", err);
        return 1;
    }
    log_init("chat-api", cfg_str("LOG_LEVEL", "info"));
    keys_init(cfg_str("KEY_PREFIX", "chat:"));
    if (token_init() != 0) {
        log_error("start", "problem=\"libsodium init failed\"");
        return 1;
    }
    api_cfg cfg = read_cfg();
    redis_url url;
    const char *url_s = cfg_str("REDIS_URL", "redis://127.0.0.1:6379/0");
    if (redis_url_parse(url_s, &url) != 0) {
        log_error("start", "problem=\"bad REDIS_URL\"");
        return 1;
    }

    char why[300];
    int checked = redis_check(&url, (int)cfg.redis_timeout_ms, why, sizeof why);
    if (checked == -2) {
        log_error("start", "problem=%s", log_q(0, why));
        cfg_reset();
        return 1;
    }
    if (check_only) {
        if (checked == -1) log_warn("start", "problem=%s", log_q(0, why));
        cfg_reset();
        return 0;
    }

    /* FILES_DIR as an absolute path (X-Sendfile paths must be). A directory that
     * cannot be made is logged and uploads then fail with 500; the rest of the API
     * keeps working (exiting would only make lighttpd respawn us for ever). */
    static char files_dir[PATH_MAX];
    const char *fd_s = cfg_str("FILES_DIR", "var/files");
    if ((mkdir(fd_s, 0755) != 0 && errno != EEXIST) || !realpath(fd_s, files_dir) || blobs_init(files_dir) != 0) {
        log_error("start", "problem=\"FILES_DIR unusable: uploads will fail\" dir=%s errno=%d", log_q(0, fd_s), errno);
        snprintf(files_dir, sizeof files_dir, "%s", fd_s);
    }
    cfg.files_dir = files_dir;
    media_init(); /* on failure (logged): every file is application/octet-stream, no thumbnails */
    int rc = 1, sock = 0;
    rconn *redis = NULL;
    FCGX_Request fr;
    if (FCGX_Init() != 0) {
        log_error("start", "problem=\"FCGX_Init failed\"");
        return 1;
    }
    if (listen_on) {
        sock = FCGX_OpenSocket(listen_on, 128);
        if (sock < 0) {
            log_error("start", "problem=\"cannot listen\" socket=%s", log_q(0, listen_on));
            return 1;
        }
    } else if (FCGX_IsCGI()) {
        fprintf(stderr, "chat-api: stdin is not a FastCGI socket; run it from lighttpd or pass --socket (see --help)\n");
        return 2;
    }

    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: accept() must return */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    am_init(cfg_str("API_METRICS_FILE", NULL), sock);
    redis = rconn_new(&url, (int)cfg.redis_timeout_ms);
    api_archive_init(cfg.archive_url);
    FCGX_InitRequest(&fr, sock, FCGI_FAIL_ACCEPT_ON_INTR);
    log_info("start", "redis_host=%s redis_port=%d prefix=%s session_ttl=%ld pwhash_ops=%llu pwhash_mem=%zu files_dir=%s file_max=%lld",
             log_q(0, url.host), url.port, log_q(1, keys_prefix()), cfg.session_ttl, cfg.pw_ops, cfg.pw_mem,
             log_q(2, cfg.files_dir), cfg.file_max);
    while (FCGX_Accept_r(&fr) >= 0) {
        serve(&fr, redis, &cfg);
        FCGX_Finish_r(&fr);
    }
    rc = 0;
    log_info("stop", "reason=shutdown");
    FCGX_Free(&fr, 1);
    api_rooms_cache_free();
    media_free();
    api_archive_shutdown();
    am_free();
    rconn_free(redis);
    cfg_reset();
    return rc;
}
