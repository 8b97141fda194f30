/* main.c - chat-archiver: configuration, signals, the metrics thread, then the
 * consumer loop (loop.c). Copies every stored message from the Redis archive feed
 * into the durable archive (archive/), at least once and without duplicates. */
#include "cfg.h"
#include "keys.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "redis.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: chat-archiver [--help]\n"
            "  Copies every stored chat message (CHAT, FILE) into the archive: reads the Redis\n"
            "  stream KEY_PREFIX + \"archive\" (which the relays append to) as consumer group\n"
            "  \"archiver\", writes ARCHIVE_BATCH messages per transaction, acknowledges only\n"
            "  after the commit. At least once, stored once (by message id).\n"
            "  Configuration: $CHAT_CONF or conf/chat.conf, environment wins; docs/CONFIG.md:\n"
            "    ARCHIVE_URL             sqlite:PATH or PATH (SQLite; a relative PATH is relative to\n"
            "                            the working directory; default sqlite:var/archive.db), or\n"
            "                            postgresql://user:password@host:port/db\n"
            "    ARCHIVE_BATCH           messages per transaction (default 500)\n"
            "    ARCHIVE_RETENTION_DAYS  delete messages older than this (default 0: keep forever)\n"
            "    ARCHIVE_EXPIRE_SECONDS  how often retention runs (default 600)\n"
            "    ARCHIVER_NAME           this archiver's name in the group (default archiver-HOSTNAME)\n"
            "    ARCHIVE_CLAIM_IDLE_MS   take over another archiver's entries pending this long (60000)\n"
            "    METRICS_HOST, METRICS_PORT  GET /metrics for loopback clients (default\n"
            "                            127.0.0.1:8091; METRICS_PORT=0 turns it off)\n"
            "    REDIS_URL, KEY_PREFIX, REDIS_TIMEOUT_MS, LOG_LEVEL\n"
            "  SIGTERM/SIGINT: stops within 5 s; work not committed is not acknowledged (it is\n"
            "  read again on the next start).\n");
}

static void on_stop(int sig)
{
    (void)sig;
    if (stop_flag) return;
    stop_flag = 1;
    /* The loop notices within about a second; a call stuck in a database that does not
     * answer cannot delay the exit past 5 s: SIGALRM (default action) ends the process
     * then. Nothing uncommitted has been acknowledged either way. */
    alarm(5);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    char err[512];
    if (cfg_load(cfg_default_path(), getenv("CHAT_CONF") != NULL, err, sizeof err) != 0) {
        fprintf(stderr, "chat-archiver: %s\n", err);
        return 2;
    }
    log_init("chat-archiver", cfg_str("LOG_LEVEL", "info"));
    keys_init(cfg_str("KEY_PREFIX", "chat:"));
    archiver_conf conf = {0};
    if (redis_url_parse(cfg_str("REDIS_URL", "redis://127.0.0.1:6379/0"), &conf.redis) != 0) {
        log_error("config", "key=REDIS_URL problem=\"not a redis:// or unix:// URL\"");
        return 2;
    }
    conf.archive_url = cfg_str("ARCHIVE_URL", "sqlite:var/archive.db");
    conf.batch = (int)cfg_int("ARCHIVE_BATCH", 500, 1, 10000);
    conf.retention_days = (int)cfg_int("ARCHIVE_RETENTION_DAYS", 0, 0, 1000000);
    conf.expire_seconds = (int)cfg_int("ARCHIVE_EXPIRE_SECONDS", 600, 1, 86400 * 7);
    conf.claim_idle_ms = (int)cfg_int("ARCHIVE_CLAIM_IDLE_MS", 60000, 1000, 86400000);
    /* XREADGROUP blocks up to 1 s: the reply timeout must be longer. */
    conf.redis_timeout_ms = (int)cfg_int("REDIS_TIMEOUT_MS", 5000, 100, 600000);
    if (conf.redis_timeout_ms < 3000) conf.redis_timeout_ms = 3000;
    char name[160];
    const char *cn = cfg_str("ARCHIVER_NAME", NULL);
    if (cn && *cn) {
        snprintf(name, sizeof name, "%s", cn);
    } else {
        char host[128] = "localhost";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(name, sizeof name, "archiver-%s", host);
    }
    conf.consumer = name;
    /* libpq waits forever for an unreachable host unless told otherwise. */
    setenv("PGCONNECT_TIMEOUT", "5", 0);

    if (redis_check(&conf.redis, conf.redis_timeout_ms, err, sizeof err) == -2) {
        log_error("start", "problem=%s", log_q(0, err));
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    long mport = cfg_int("METRICS_PORT", 8091, 0, 65535);
    if (mport > 0 && metrics_start(cfg_str("METRICS_HOST", "127.0.0.1"), (int)mport, name) != 0) return 1;
    const char *kind = strncmp(conf.archive_url, "postgres", 8) == 0 ? "postgresql" : "sqlite";
    char cwd[512] = "?";
    if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, "?");
    log_info("start", "consumer=%s archive=%s batch=%d retention-days=%d metrics-port=%ld redis=%s:%d cwd=%s",
             log_q(0, name), kind, conf.batch, conf.retention_days, mport,
             conf.redis.is_unix ? "unix" : conf.redis.host, conf.redis.port, log_q(1, cwd));
    int status = archiver_run(&conf, &stop_flag);
    metrics_stop();
    cfg_reset();
    log_info("exit", "status=%d", status);
    return status;
}
