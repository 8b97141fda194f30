/* metrics.c - chat-archiver's counters and a minimal HTTP/1.x responder for GET
 * /metrics; see metrics.h. One thread, one connection at a time, each closed after its
 * answer (a Prometheus scrape is one request). Requests bigger than 4 KiB or slower
 * than 2 s are dropped. */
#include "metrics.h"
#include "log.h"
#include "loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

archiver_metrics am;

static int listen_fd = -1;
static int stop_pipe[2] = {-1, -1};
static pthread_t thread;
static int running;
static char consumer_name[128];

void am_commit_observe(uint64_t us)
{
    atomic_fetch_add(&am.commit_bucket[prom_bucket(us)], 1);
    atomic_fetch_add(&am.commit_sum_us, us);
}

static void counter(buf *b, const char *name, const char *help, uint64_t v)
{
    prom_family(b, name, "counter", help);
    prom_sample(b, name, NULL, 0, v);
}

static void gauge(buf *b, const char *name, const char *help, int64_t v)
{
    prom_family(b, name, "gauge", help);
    prom_sample_i(b, name, NULL, 0, v);
}

void am_write(buf *b, const char *consumer)
{
    buf_reset(b);
    const char *idl[] = {"consumer", consumer};
    prom_family(b, "chat_archiver_info", "gauge", "Always 1; the consumer label is this archiver's name in the group.");
    prom_sample(b, "chat_archiver_info", idl, 1, 1);
    counter(b, "chat_archiver_archived_total", "Messages from the feed written to the archive (new rows).",
            atomic_load(&am.archived));
    counter(b, "chat_archiver_duplicates_total",
            "Feed entries already in the archive (re-deliveries after a crash or an outage).",
            atomic_load(&am.duplicates));
    counter(b, "chat_archiver_backfilled_total",
            "Messages written by back-fill from room histories after feed entries were lost.",
            atomic_load(&am.backfilled));
    counter(b, "chat_archiver_batches_total", "Batches committed (one transaction each).", atomic_load(&am.batches));
    counter(b, "chat_archiver_expired_total", "Messages deleted by ARCHIVE_RETENTION_DAYS.", atomic_load(&am.expired));
    counter(b, "chat_archiver_feed_loss_total",
            "Times feed entries were found trimmed before the archiver read them (each starts a back-fill).",
            atomic_load(&am.lost_detected));
    static const char *const kinds[AM_ERR_N] = {"redis", "archive", "malformed"};
    const char *n = "chat_archiver_errors_total";
    prom_family(b, n, "counter", "Failures: redis (connection or command), archive (open, write, expire), "
                                 "malformed (feed entries that are not a stored message; acknowledged, not archived).");
    for (int k = 0; k < AM_ERR_N; k++) {
        const char *l[] = {"kind", kinds[k]};
        prom_sample(b, n, l, 1, atomic_load(&am.errors[k]));
    }
    gauge(b, "chat_archiver_feed_pending", "Feed entries delivered to the group and not yet acknowledged.",
          atomic_load(&am.pending));
    gauge(b, "chat_archiver_feed_lag", "Feed entries not yet delivered to the group (-1: unknown).",
          atomic_load(&am.lag));
    gauge(b, "chat_archiver_feed_length", "Entries in the feed stream.", atomic_load(&am.length));
    prom_family(b, "chat_archiver_lag_seconds", "gauge",
                "Age of the oldest stored message not archived yet (0 when the feed is empty), by the Redis clock.");
    buf_printf(b, "chat_archiver_lag_seconds %.3f\n", (double)atomic_load(&am.lag_ms) / 1000.0);
    gauge(b, "chat_archiver_last_commit_timestamp_seconds", "Unix time of the last committed batch (0: none).",
          atomic_load(&am.last_commit_ms) / 1000);
    gauge(b, "chat_archiver_redis_up", "1 when the last Redis command succeeded.", atomic_load(&am.redis_up));
    gauge(b, "chat_archiver_archive_up", "1 when the last archive operation succeeded.", atomic_load(&am.archive_up));
    prom_hist h;
    for (int i = 0; i <= PROM_BUCKETS; i++) h.bucket[i] = atomic_load(&am.commit_bucket[i]);
    h.sum_us = atomic_load(&am.commit_sum_us);
    n = "chat_archiver_commit_duration_seconds";
    prom_family(b, n, "histogram", "Time to write and commit one batch.");
    prom_histogram(b, n, NULL, 0, &h);
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            if (w < 0 && errno == EINTR) continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void answer(int fd, int status, const char *reason, const char *type, const buf *body)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n"
                     "Cache-Control: no-store\r\n\r\n",
                     status, reason, type, body->len);
    send_all(fd, head, (size_t)n);
    send_all(fd, buf_data(body), body->len);
}

static void json_error(int fd, int status, const char *reason, const char *code, const char *msg)
{
    buf b;
    buf_init(&b, 0);
    buf_printf(&b, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, msg);
    answer(fd, status, reason, "application/json; charset=utf-8", &b);
    buf_free(&b);
}

/* Read the request head (up to the blank line); answer. */
static void serve(int fd)
{
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char req[4096];
    size_t len = 0;
    while (len < sizeof req - 1) {
        ssize_t r = recv(fd, req + len, sizeof req - 1 - len, 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            return;
        }
        len += (size_t)r;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n")) break;
    }
    req[len] = '\0';
    if (!strstr(req, "\r\n\r\n") && !strstr(req, "\n\n")) {
        json_error(fd, 400, "Bad Request", "invalid", "request head too large or incomplete");
        return;
    }
    if (!loopback_fd(fd)) {
        json_error(fd, 403, "Forbidden", "forbidden", "metrics are served to loopback clients only");
        return;
    }
    char method[16], target[256];
    if (sscanf(req, "%15s %255s", method, target) != 2) {
        json_error(fd, 400, "Bad Request", "invalid", "malformed request line");
        return;
    }
    char *q = strchr(target, '?');
    if (q) *q = '\0';
    if (strcmp(target, "/metrics") != 0) {
        json_error(fd, 404, "Not Found", "not-found", "only /metrics is served here");
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        json_error(fd, 405, "Method Not Allowed", "method-not-allowed", "GET only");
        return;
    }
    buf b;
    buf_init(&b, 0);
    am_write(&b, consumer_name);
    if (strcmp(method, "HEAD") == 0) {
        char head[256];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                         PROM_CONTENT_TYPE, b.len);
        send_all(fd, head, (size_t)n);
    } else {
        answer(fd, 200, "OK", PROM_CONTENT_TYPE, &b);
    }
    buf_free(&b);
}

static void *run(void *arg)
{
    (void)arg;
    struct pollfd p[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = stop_pipe[0], .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents) break;
        if (!(p[0].revents & POLLIN)) continue;
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) continue;
        serve(fd);
        close(fd);
    }
    return NULL;
}

int metrics_start(const char *host, int port, const char *consumer)
{
    snprintf(consumer_name, sizeof consumer_name, "%s", consumer);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int rc = getaddrinfo(host, ps, &hints, &ai);
    if (rc != 0) {
        log_error("metrics", "problem=\"cannot resolve METRICS_HOST\" host=%s err=%s", log_q(0, host),
                  log_q(1, gai_strerror(rc)));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 16) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        log_error("metrics", "problem=\"cannot listen\" host=%s port=%d err=%s", log_q(0, host), port,
                  log_q(1, strerror(errno)));
        return -1;
    }
    if (pipe2(stop_pipe, O_CLOEXEC) != 0) {
        close(fd);
        return -1;
    }
    listen_fd = fd;
    if (pthread_create(&thread, NULL, run, NULL) != 0) {
        close(fd);
        listen_fd = -1;
        return -1;
    }
    running = 1;
    return 0;
}

void metrics_stop(void)
{
    if (running) {
        if (write(stop_pipe[1], "x", 1) < 0) { /* the thread then never wakes; join would hang */
            pthread_cancel(thread);
        }
        pthread_join(thread, NULL);
        running = 0;
    }
    if (listen_fd >= 0) close(listen_fd);
    for (int i = 0; i < 2; i++)
        if (stop_pipe[i] >= 0) close(stop_pipe[i]);
    listen_fd = stop_pipe[0] = stop_pipe[1] = -1;
}
