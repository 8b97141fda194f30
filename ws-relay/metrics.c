/* metrics.c - the relay's counters and GET /metrics; see metrics.h. */
#include "metrics.h"
#include "buf.h"
#include "msg.h"
#include "loopback.h"
#include "rds.h"
#include "rooms.h"
#include "session.h"

#include <libwebsockets.h>
#include <string.h>

relay_metrics rm;
bool rm_on = true;
static char relay_id[16];

void rm_init(bool on)
{
    memset(&rm, 0, sizeof rm);
    rm_on = on;
    snprintf(relay_id, sizeof relay_id, "%s", sess_config()->relay_id);
}

int64_t rm_body_ts(const char *body, size_t len)
{
    static const char key[] = "\"ts\":";
    const size_t kn = sizeof key - 1;
    if (len < kn + 1) return -1;
    /* msg_body() writes ts last; later fields (offset, epoch) are short. Scan back. */
    for (size_t i = len - kn; ; i--) {
        if (memcmp(body + i, key, kn) == 0) {
            int64_t v = 0;
            size_t j = i + kn, digits = 0;
            while (j < len && body[j] >= '0' && body[j] <= '9' && digits < 18) {
                v = v * 10 + (body[j++] - '0');
                digits++;
            }
            return digits ? v : -1;
        }
        if (i == 0) break;
    }
    return -1;
}

static const char *const transport_names[RM_T_N] = {
    [RM_T_WEBSOCKET] = "websocket",
    [RM_T_SOCKJS_WEBSOCKET] = "sockjs-websocket",
    [RM_T_SOCKJS_XHR_STREAMING] = "sockjs-xhr_streaming",
    [RM_T_SOCKJS_XHR] = "sockjs-xhr",
    [RM_T_SOCKJS_EVENTSOURCE] = "sockjs-eventsource",
};

/* The client commands, then "other" for server commands and unknown words. */
static const stomp_cmd client_cmds[] = {
    STOMP_CONNECT, STOMP_STOMP, STOMP_SEND, STOMP_SUBSCRIBE, STOMP_UNSUBSCRIBE, STOMP_ACK,
    STOMP_NACK, STOMP_BEGIN, STOMP_COMMIT, STOMP_ABORT, STOMP_DISCONNECT,
};

static const char *const slugs[] = {
    "unauthorized", "forbidden", "not-found", "invalid", "too-large", "rate-limited",
    "unavailable", "protocol",
};

static void one(buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
    prom_family(b, name, type, help);
    prom_sample(b, name, NULL, 0, v);
}

static void write_frames(buf *b)
{
    const char *n = "chat_relay_frames_received_total";
    uint64_t other = 0;
    prom_family(b, n, "counter", "STOMP frames received from clients, by command.");
    for (size_t i = 0; i < sizeof client_cmds / sizeof client_cmds[0]; i++) {
        const char *l[] = {"command", stomp_cmd_name(client_cmds[i])};
        prom_sample(b, n, l, 1, rm.frames_in[client_cmds[i]]);
    }
    for (int c = 0; c <= STOMP_CMD_UNKNOWN; c++) {
        bool client = false;
        for (size_t i = 0; i < sizeof client_cmds / sizeof client_cmds[0]; i++)
            if (client_cmds[i] == (stomp_cmd)c) client = true;
        if (!client) other += rm.frames_in[c];
    }
    const char *l[] = {"command", "other"};
    prom_sample(b, n, l, 1, other);
}

static void write_errors(buf *b)
{
    const char *n = "chat_relay_errors_total";
    prom_family(b, n, "counter", "STOMP ERROR frames sent, by message slug.");
    for (size_t s = 0; s < sizeof slugs / sizeof slugs[0]; s++) {
        uint64_t v = 0;
        for (int rc = 0; rc <= CHAT_EINTERNAL; rc++)
            if (strcmp(msg_error_slug((chat_rc)rc), slugs[s]) == 0) v += rm.errors[rc];
        const char *l[] = {"slug", slugs[s]};
        prom_sample(b, n, l, 1, v);
    }
}

static void write_redis(buf *b)
{
    static const char *const conns[2] = {"command", "pubsub"};
    const char *n = "chat_relay_redis_up";
    prom_family(b, n, "gauge", "1 when the Redis connection is up.");
    for (int i = 0; i < 2; i++) {
        const char *l[] = {"conn", conns[i]};
        prom_sample(b, n, l, 1, i == RM_REDIS_CMD ? rds_cmd_ready() : rds_sub_ready());
    }
    n = "chat_relay_redis_reconnects_total";
    prom_family(b, n, "counter", "Redis connections established again after being down.");
    for (int i = 0; i < 2; i++) {
        const char *l[] = {"conn", conns[i]};
        prom_sample(b, n, l, 1, rm.redis_reconnects[i]);
    }
    n = "chat_relay_redis_failures_total";
    prom_family(b, n, "counter", "Redis connection attempts that failed and connections lost.");
    for (int i = 0; i < 2; i++) {
        const char *l[] = {"conn", conns[i]};
        prom_sample(b, n, l, 1, rm.redis_failures[i]);
    }
    n = "chat_relay_redis_command_duration_seconds";
    prom_family(b, n, "histogram", "Time from sending a Redis command to its reply.");
    prom_histogram(b, n, NULL, 0, &rm.redis_latency);
}

void rm_write(buf *b)
{
    buf_reset(b);
    const char *idl[] = {"relay", relay_id};
    prom_family(b, "chat_relay_info", "gauge", "Always 1; the relay label is this process's id.");
    prom_sample(b, "chat_relay_info", idl, 1, 1);

    const char *n = "chat_relay_connections_opened_total";
    prom_family(b, n, "counter", "Client connections (STOMP sessions) opened, by transport.");
    for (int t = 0; t < RM_T_N; t++) {
        const char *l[] = {"transport", transport_names[t]};
        prom_sample(b, n, l, 1, rm.conns_opened[t]);
    }
    n = "chat_relay_connections";
    prom_family(b, n, "gauge", "Client connections (STOMP sessions) open now, by transport.");
    for (int t = 0; t < RM_T_N; t++) {
        const char *l[] = {"transport", transport_names[t]};
        prom_sample_i(b, n, l, 1, rm.conns_open[t]);
    }
    one(b, "chat_relay_stomp_sessions", "gauge", "STOMP sessions alive (any state).", sess_count());
    prom_family(b, "chat_relay_subscriptions", "gauge", "Live STOMP subscriptions.");
    prom_sample_i(b, "chat_relay_subscriptions", NULL, 0, rm.subscriptions);
    one(b, "chat_relay_rooms", "gauge", "Rooms with local subscribers or pending subscriptions.",
        rooms_count());
    write_frames(b);
    one(b, "chat_relay_messages_published_total", "counter",
        "Chat messages accepted from this relay's clients and published.", rm.published);
    one(b, "chat_relay_deliveries_total", "counter",
        "MESSAGE frames queued to this relay's subscribers.", rm.deliveries);
    one(b, "chat_relay_bytes_sent_total", "counter",
        "STOMP bytes (frames and heart-beats) handed to client transports.", rm.bytes_out);
    one(b, "chat_relay_slow_consumers_dropped_total", "counter",
        "Sessions closed because their outgoing queue was full.", rm.slow_dropped);
    one(b, "chat_relay_rate_limited_total", "counter",
        "SEND frames refused by the per-session rate limit.", rm.rate_limited);
    write_errors(b);
    static const char *const outcomes[RM_REC_N] = {
        [RM_REC_RECOVERED] = "recovered", [RM_REC_EPOCH_CHANGED] = "epoch-changed",
        [RM_REC_INCOMPLETE] = "incomplete", [RM_REC_TOO_LARGE] = "too-large",
    };
    n = "chat_relay_recoveries_total";
    prom_family(b, n, "counter", "SUBSCRIBEs that asked to recover missed messages (x-since-offset), by outcome.");
    for (int i = 0; i < RM_REC_N; i++) {
        const char *l[] = {"outcome", outcomes[i]};
        prom_sample(b, n, l, 1, rm.recoveries[i]);
    }
    write_redis(b);
    n = "chat_relay_publish_to_deliver_seconds";
    prom_family(b, n, "histogram",
                "From a message's server timestamp (ts) to its queueing to this relay's subscribers.");
    prom_histogram(b, n, NULL, 0, &rm.deliver_latency);
}

/* Status line, headers and body in one go; the body is small (tens of KiB at most). */
static int answer(struct lws *wsi, int status, const char *ctype, const buf *body)
{
    unsigned char hb[LWS_PRE + 512], *start = hb + LWS_PRE, *p = start, *end = hb + sizeof hb;
    static const char cc[] = "no-store";
    if (lws_add_http_common_headers(wsi, (unsigned)status, ctype, body->len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)cc, (int)strlen(cc), &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    buf out;
    buf_init(&out, LWS_PRE);
    buf_append(&out, buf_data(body), body->len);
    int n = lws_write(wsi, (unsigned char *)buf_data(&out), out.len, LWS_WRITE_HTTP_FINAL);
    buf_free(&out);
    if (n < 0) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int rm_http(struct lws *wsi, const char *path)
{
    if (!rm_on || strcmp(path, "/metrics") != 0) return 1;
    buf body;
    buf_init(&body, 0);
    int r;
    if (!loopback_fd(lws_get_socket_fd(wsi))) {
        buf_puts(&body, "{\"error\":{\"code\":\"forbidden\",\"message\":\"metrics are served to loopback clients only\"}}");
        r = answer(wsi, 403, "application/json; charset=utf-8", &body);
    } else {
        rm_write(&body);
        r = answer(wsi, 200, PROM_CONTENT_TYPE, &body);
    }
    buf_free(&body);
    return r;
}
