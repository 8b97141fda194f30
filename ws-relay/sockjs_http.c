/* sockjs_http.c - the SockJS HTTP transports on lws: /ws (greeting), /ws/info,
 * OPTIONS, the receiving transports (xhr_streaming, xhr polling, eventsource),
 * xhr_send (and the release of held xhr_send requests, for the session core), and the
 * 404/405/400 answers.
 *
 * Every response is written from LWS_CALLBACK_HTTP_WRITEABLE only, one lws_write per
 * callback, from one module buffer with LWS_PRE headroom (lws sends or copies before
 * returning). Fixed answers carry a Content-Length (the connection can be kept);
 * receivers stream a close-delimited body (lws adds "connection: close"): headers,
 * then the transport's prelude and frames as the session produces them, then the end.
 * Each HTTP request gets a sockjs_conn in the caller's slot, freed (and the slot
 * cleared) before lws_http_transaction_completed() or when lws reports the connection
 * closed. Receivers are also put on the EOF watch (sockjs_conn.h).
 *
 * Deliberately not here: sessions and frame production (sockjs_sess.c), the
 * connection and its EOF watch (sockjs_conn.c), the websocket transport
 * (sockjs_ws.c), telling SockJS requests from others and LWS_CALLBACK_HTTP
 * (sockjs.c), URL parsing (sockjs_path.c). */
#include "sockjs_http.h"
#include "sockjs_conn.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "sockjs_frame.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CT_JS "application/javascript; charset=UTF-8"
#define CT_TEXT "text/plain; charset=UTF-8"
#define CT_JSON "application/json; charset=UTF-8"
#define CT_SSE "text/event-stream; charset=UTF-8"
#define STREAM_CHUNK (32 * 1024) /* frames batched into one write */
#define PRELUDE_H 2048           /* xhr_streaming: "h" bytes before the first frame */
#define ONE_YEAR 31536000
#define EARLY_413_FACTOR 16      /* bodies declared this far over the limit: 413 and close */

static buf wbuf; /* LWS_PRE headroom; see the file comment */
static buf frame_buf;

/* ---- request headers ----------------------------------------------------------------------- */

/* Copy header tok into out when it is printable ASCII and fits; else out = "". */
static void copy_header(struct lws *wsi, enum lws_token_indexes tok, char *out, size_t cap)
{
    out[0] = '\0';
    int n = lws_hdr_total_length(wsi, tok);
    if (n <= 0 || (size_t)n >= cap) return;
    if (lws_hdr_copy(wsi, out, (int)cap, tok) != n) {
        out[0] = '\0';
        return;
    }
    for (int i = 0; i < n; i++) {
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e) {
            out[0] = '\0';
            return;
        }
    }
}

/* ---- writing ---------------------------------------------------------------------------------- */

/* Write the status line and headers: CORS and caching as sockjs-node does, the
 * content type, Content-Length clen (LWS_ILLEGAL_HTTP_CONTENT_LEN: close-delimited).
 * Returns 0 or -1. */
static int write_head(sockjs_conn *c, lws_filepos_t clen)
{
    unsigned char hb[LWS_PRE + 2048], *start = hb + LWS_PRE, *p = start, *end = hb + sizeof hb;
    struct lws *wsi = c->wsi;
    char v[64];
#define ADD(name, val)                                                                       \
    do {                                                                                     \
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)(name),                  \
                                        (const unsigned char *)(val), (int)strlen(val), &p,  \
                                        end))                                                \
            return -1;                                                                       \
    } while (0)
    if (c->status == 204) {
        /* No Content-Length on a 204 (RFC 9110), and the connection can be kept. */
        if (lws_add_http_header_status(wsi, 204, &p, end)) return -1;
        if (c->ctype) ADD("content-type:", c->ctype);
    } else if (lws_add_http_common_headers(wsi, (unsigned)c->status, c->ctype, clen, &p, end)) {
        return -1;
    }
    if (c->set_cookie[0]) {
        /* The opener's binding cookie, scoped to this session's URLs only. */
        char ck[sizeof c->cookie_path + SOCKJS_COOKIE_LEN + 96];
        snprintf(ck, sizeof ck, "%s=%s; Path=%s; Max-Age=86400; HttpOnly; SameSite=Strict",
                 SOCKJS_COOKIE_NAME, c->set_cookie, c->cookie_path);
        ADD("set-cookie:", ck);
    }
    ADD("access-control-allow-origin:", c->origin[0] ? c->origin : "*");
    ADD("access-control-allow-credentials:", "true");
    ADD("vary:", "Origin");
    if (c->acrh[0]) ADD("access-control-allow-headers:", c->acrh);
    if (c->status == 204 && c->methods) { /* OPTIONS: cacheable for a year */
        time_t t = time(NULL) + ONE_YEAR;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(v, sizeof v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        ADD("cache-control:", "public, max-age=31536000");
        ADD("expires:", v);
        ADD("access-control-max-age:", "31536000");
        ADD("access-control-allow-methods:", c->methods);
    } else {
        ADD("cache-control:", "no-store, no-cache, no-transform, must-revalidate, max-age=0");
        if (c->status == 405 && c->methods) ADD("allow:", c->methods);
    }
#undef ADD
    return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

/* Answer with a fixed body (copied). */
static void respond(sockjs_conn *c, int status, const char *ctype, const char *body)
{
    c->status = status;
    c->ctype = ctype;
    buf_reset(&c->out);
    if (body) buf_puts(&c->out, body);
    c->phase = SOCKJS_P_HEAD;
    lws_callback_on_writable(c->wsi);
}

static void respond_error(sockjs_conn *c, int status, const char *text)
{
    respond(c, status, CT_TEXT, text);
}

/* The response is complete: free c, clear the slot, let lws finish the transaction. */
static int finish(sockjs_conn *c, void **slot)
{
    struct lws *wsi = c->wsi;
    bool close = c->close_after;
    sockjs_conn_free(c);
    *slot = NULL;
    if (close) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Wrap one SockJS frame in the receiver's transport framing, into out. */
static void wrap(const sockjs_conn *c, buf *out, const char *f, size_t n)
{
    if (c->kind == SOCKJS_K_EVENTSOURCE) buf_puts(out, "data: ");
    buf_append(out, f, n);
    buf_puts(out, c->kind == SOCKJS_K_EVENTSOURCE ? "\r\n\r\n" : "\n");
}

/* One WRITEABLE of a receiver: prelude, then frames (or the one close frame), until
 * the session has nothing more, the response is over its limit, or it ends. */
static int stream_writeable(sockjs_conn *c, void **slot)
{
    bool ending = false;
    buf_reset(&wbuf);
    if (!c->prelude_sent) {
        c->prelude_sent = true;
        if (c->kind == SOCKJS_K_XHR_STREAMING) {
            buf_reserve(&wbuf, PRELUDE_H + 1);
            memset(buf_data(&wbuf) + wbuf.len, 'h', PRELUDE_H);
            wbuf.len += PRELUDE_H;
            buf_putc(&wbuf, '\n');
        } else if (c->kind == SOCKJS_K_EVENTSOURCE) {
            buf_puts(&wbuf, "\r\n");
        }
    }
    if (c->oneshot_code) {
        buf_reset(&frame_buf);
        sockjs_frame_close(&frame_buf, c->oneshot_code, c->oneshot_reason);
        wrap(c, &wbuf, buf_data(&frame_buf), frame_buf.len);
        ending = true;
    } else if (!c->link.sj) {
        ending = true; /* the session went away (shutdown) */
    } else {
        int64_t now = mono_ms();
        while (wbuf.len < STREAM_CHUNK) {
            buf_reset(&frame_buf);
            enum sockjs_next r = sockjs_next_frame(c->link.sj, &frame_buf, now);
            if (r == SOCKJS_NEXT_NONE) break;
            wrap(c, &wbuf, buf_data(&frame_buf), frame_buf.len);
            if (r == SOCKJS_NEXT_CLOSE || c->kind == SOCKJS_K_XHR) {
                ending = true;
                break;
            }
        }
    }
    if (wbuf.len) {
        if (lws_write(c->wsi, (unsigned char *)buf_data(&wbuf), wbuf.len, LWS_WRITE_HTTP) <
            (int)wbuf.len)
            return -1;
        c->sent += wbuf.len;
        if (c->sent >= sockjs_config()->response_limit) ending = true;
    }
    if (ending) return finish(c, slot);
    if (wbuf.len) lws_callback_on_writable(c->wsi); /* there may be more */
    return 0;
}

static int http_writeable(sockjs_conn *c, void **slot)
{
    if (c->peer_gone) {
        sockjs_conn_free(c);
        *slot = NULL;
        return -1; /* lws closes the connection; no more events reach us */
    }
    switch (c->phase) {
    case SOCKJS_P_HEAD:
        if (c->kind != SOCKJS_K_SIMPLE && c->kind != SOCKJS_K_XHR_SEND) {
            if (write_head(c, LWS_ILLEGAL_HTTP_CONTENT_LEN)) return -1;
            c->phase = SOCKJS_P_STREAM;
            lws_callback_on_writable(c->wsi);
            return 0;
        }
        if (write_head(c, c->out.len)) return -1;
        if (!c->out.len) return finish(c, slot);
        c->phase = SOCKJS_P_BODY;
        lws_callback_on_writable(c->wsi);
        return 0;
    case SOCKJS_P_BODY:
        buf_reset(&wbuf);
        buf_append(&wbuf, buf_data(&c->out), c->out.len);
        if (lws_write(c->wsi, (unsigned char *)buf_data(&wbuf), wbuf.len, LWS_WRITE_HTTP_FINAL) <
            (int)wbuf.len)
            return -1;
        return finish(c, slot);
    case SOCKJS_P_STREAM:
        return stream_writeable(c, slot);
    default:
        return 0; /* nothing to write yet */
    }
}

/* ---- receivers ------------------------------------------------------------------------------ */

/* Who sends this transport request (sockjs_owner_ok): the client's address and the binding
 * cookie, if any; and the path a new session's cookie is scoped to,
 * "{prefix}/{server}/{session}" (left empty when the ids hold characters a cookie path
 * cannot carry: such a session is bound by address only). */
static void request_owner(sockjs_conn *c, const char *path, const sockjs_path *sp)
{
    char hdr[1024];
    peer_name(c->wsi, c->peer, sizeof c->peer);
    c->cookie[0] = '\0';
    if (lws_hdr_copy(c->wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_COOKIE) > 0)
        sockjs_cookie_get(hdr, SOCKJS_COOKIE_NAME, c->cookie, sizeof c->cookie);
    size_t plen = (size_t)(sp->session + sp->session_len - path);
    c->cookie_path[0] = '\0';
    if (plen >= sizeof c->cookie_path || memchr(path, ';', plen) || memchr(path, ',', plen)) return;
    memcpy(c->cookie_path, path, plen);
    c->cookie_path[plen] = '\0';
}

/* xhr_streaming, xhr, eventsource: find or create the session and become its receiver,
 * or answer the close frame that says why not. A session that exists belongs to the
 * client that opened it: anyone else gets 404, as if there were none. */
static void start_receiver(sockjs_conn *c, const sockjs_path *sp)
{
    c->kind = sp->transport == SOCKJS_T_XHR_STREAMING ? SOCKJS_K_XHR_STREAMING
              : sp->transport == SOCKJS_T_EVENTSOURCE ? SOCKJS_K_EVENTSOURCE : SOCKJS_K_XHR;
    c->status = 200;
    c->ctype = c->kind == SOCKJS_K_EVENTSOURCE ? CT_SSE : CT_JS;
    sockjs_sess *sj = sockjs_sess_find(sp->session, sp->session_len);
    if (sj && !sockjs_owner_ok(sj, c->peer, c->cookie)) {
        log_info("sockjs-refused", "peer=%s transport=%s reason=\"not the session's owner\"", c->peer,
                 sockjs_transport_name(sp->transport));
        c->kind = SOCKJS_K_SIMPLE;
        respond_error(c, 404, "Not Found");
        return;
    }
    if (!sj) {
        sj = sockjs_sess_create(sp->session, sp->session_len, c->peer);
        if (!sj) {
            c->kind = SOCKJS_K_SIMPLE;
            respond_error(c, 503, "Too many SockJS sessions.");
            return;
        }
        if (c->cookie_path[0]) memcpy(c->set_cookie, sockjs_sess_cookie(sj), sizeof c->set_cookie);
        sockjs_sess_set_transport(sj, sp->transport == SOCKJS_T_XHR_STREAMING ? RM_T_SOCKJS_XHR_STREAMING
                                      : sp->transport == SOCKJS_T_EVENTSOURCE  ? RM_T_SOCKJS_EVENTSOURCE
                                                                               : RM_T_SOCKJS_XHR);
        log_debug("sockjs-open", "sockjs=%.*s transport=%s", (int)sp->session_len, sp->session,
                  sockjs_transport_name(sp->transport));
    }
    /* A closed session, or one with a receiver already: only a close frame. */
    c->oneshot_code = sockjs_sess_attach(sj, &c->link, &c->oneshot_reason);
    /* A streaming response may stay open for a long time: no lws timeout on it, and
     * no header table held (lws closes connections holding one for over ~6 minutes,
     * "ah excessive hold"); what we need from the headers is copied by now. */
    lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    lws_http_headers_detach(c->wsi);
    sockjs_eof_watch(c);
    c->phase = SOCKJS_P_HEAD;
    lws_callback_on_writable(c->wsi);
}

/* ---- xhr_send -------------------------------------------------------------------------------- */

static void count_cb(void *ud, const char *msg, size_t len)
{
    (void)msg;
    (void)len;
    (*(size_t *)ud)++;
}

static void feed_cb(void *ud, const char *msg, size_t len)
{
    sockjs_sess_input(ud, msg, len);
}

/* Feed the valid body of c to sj (dropped when sj is closed, like sockjs-node), 204. */
static void feed_and_answer(sockjs_conn *c, sockjs_sess *sj)
{
    sockjs_decode(buf_data(&c->in), c->in.len, sockjs_config()->max_decoded, feed_cb, sj);
    respond(c, 204, CT_TEXT, NULL);
}

/* Body complete: validate, then feed the session (now or when it takes input). */
static void xhr_send_done(sockjs_conn *c)
{
    size_t n = 0;
    if (c->too_large) {
        respond_error(c, 413, "Payload too large.");
        return;
    }
    if (c->in.len == 0) {
        respond_error(c, 500, "Payload expected.");
        return;
    }
    chat_rc rc = sockjs_decode(buf_data(&c->in), c->in.len, sockjs_config()->max_decoded, count_cb, &n);
    if (rc == CHAT_ETOOLARGE) {
        respond_error(c, 413, "Payload too large.");
        return;
    }
    if (rc != CHAT_OK) {
        /* Valid JSON that is not an array of strings is "Payload expected.", like
         * sockjs-node's answer for a non-array. */
        chat_rc jrc;
        json_object *o = json_parse_object(buf_data(&c->in), c->in.len, &jrc);
        if (o) json_object_put(o);
        respond_error(c, 500, jrc == CHAT_EMALFORMED ? "Broken JSON encoding." : "Payload expected.");
        return;
    }
    sockjs_sess *sj = sockjs_sess_find(c->sid, strlen(c->sid));
    if (sj && !sockjs_owner_ok(sj, c->peer, c->cookie)) {
        log_info("sockjs-refused", "peer=%s transport=xhr_send reason=\"not the session's owner\"",
                 c->peer);
        sj = NULL;
    }
    if (!sj) {
        respond_error(c, 404, "Not Found");
        return;
    }
    if (sockjs_sess_hold(sj, &c->link)) {
        c->phase = SOCKJS_P_HELD; /* sockjs_http_release answers it */
        return;
    }
    feed_and_answer(c, sj);
}

void sockjs_http_release(sockjs_link *l, sockjs_sess *sj)
{
    sockjs_conn *c = sockjs_conn_of(l);
    if (!sj) {
        respond_error(c, 404, "Not Found");
        return;
    }
    feed_and_answer(c, sj);
}

/* POST .../xhr_send: note the session; the body comes in LWS_CALLBACK_HTTP_BODY. */
static void start_xhr_send(sockjs_conn *c, const sockjs_path *sp)
{
    char cl[32] = "";
    c->kind = SOCKJS_K_XHR_SEND;
    memcpy(c->sid, sp->session, sp->session_len);
    c->sid[sp->session_len] = '\0';
    long declared = 0;
    if (lws_hdr_total_length(c->wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        /* lws 4.1 does not decode chunked request bodies (lighttpd in front sends a
         * Content-Length); we will not read it. */
        c->close_after = true;
        respond_error(c, 411, "Length Required.");
        return;
    }
    if (lws_hdr_copy(c->wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        parse_long(cl, 0, 1L << 40, &declared) != 0)
        declared = -1;
    if (declared < 0 || (size_t)declared > sockjs_config()->max_body * EARLY_413_FACTOR) {
        c->close_after = true; /* we will not read that body */
        respond_error(c, declared < 0 ? 400 : 413, declared < 0 ? "Bad Content-Length."
                                                                 : "Payload too large.");
        return;
    }
    c->phase = SOCKJS_P_BODY_IN;
    if (declared == 0) xhr_send_done(c); /* no body will come */
}

static void http_body(sockjs_conn *c, const char *in, size_t len)
{
    if (c->kind != SOCKJS_K_XHR_SEND || c->phase != SOCKJS_P_BODY_IN) return; /* ignored */
    if (c->too_large || c->in.len + len > sockjs_config()->max_body) {
        c->too_large = true; /* read on, keep nothing */
        return;
    }
    buf_append(&c->in, in, len);
}

/* ---- requests and events ------------------------------------------------------------------ */

static int method_of(struct lws *wsi)
{
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI)) return LWSHUMETH_GET;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI)) return LWSHUMETH_POST;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI)) return LWSHUMETH_OPTIONS;
    return -1;
}

/* OPTIONS -> 204 with the methods; a method not in allowed -> 405; else false (go on). */
static bool preflight(sockjs_conn *c, int method, const char *methods, int allowed)
{
    if (method == LWSHUMETH_OPTIONS) {
        c->methods = methods;
        respond(c, 204, NULL, NULL);
        return true;
    }
    if (method != allowed) {
        c->methods = methods;
        respond_error(c, 405, "Method Not Allowed");
        return true;
    }
    return false;
}

static void info(sockjs_conn *c)
{
    char body[160];
    snprintf(body, sizeof body,
             "{\"websocket\":true,\"cookie_needed\":false,\"origins\":[\"*:*\"],\"entropy\":%u}",
             (unsigned)randombytes_random());
    respond(c, 200, CT_JSON, body);
}

int sockjs_http_request(struct lws *wsi, void **slot, const char *path, const sockjs_path *sp)
{
    sockjs_conn *c = sockjs_conn_new(wsi, SOCKJS_K_SIMPLE);
    *slot = c;
    if (!wbuf.mem) {
        buf_init(&wbuf, LWS_PRE);
        buf_init(&frame_buf, 0);
    }
    copy_header(wsi, WSI_TOKEN_ORIGIN, c->origin, sizeof c->origin);
    if (strcmp(c->origin, "null") == 0) c->origin[0] = '\0';
    copy_header(wsi, WSI_TOKEN_HTTP_AC_REQUEST_HEADERS, c->acrh, sizeof c->acrh);
    int m = method_of(wsi);
    if (!sockjs_running()) {
        respond_error(c, 503, "Shutting down.");
        return 0;
    }
    switch (sp->route) {
    case SOCKJS_GREETING:
        if (!preflight(c, m, "OPTIONS, GET", LWSHUMETH_GET))
            respond(c, 200, CT_TEXT, "Welcome to SockJS!\n");
        return 0;
    case SOCKJS_INFO:
        if (!preflight(c, m, "OPTIONS, GET", LWSHUMETH_GET)) info(c);
        return 0;
    case SOCKJS_RAW_WS:
        respond_error(c, 400, "Can \"Upgrade\" only to \"WebSocket\".");
        return 0;
    case SOCKJS_TRANSPORT:
        break;
    default:
        respond_error(c, 404, "Not Found");
        return 0;
    }
    request_owner(c, path, sp);
    switch (sp->transport) {
    case SOCKJS_T_WEBSOCKET: /* a plain request on the upgrade path */
        if (!preflight(c, m, "GET", LWSHUMETH_GET))
            respond_error(c, 400, "Can \"Upgrade\" only to \"WebSocket\".");
        return 0;
    case SOCKJS_T_XHR:
    case SOCKJS_T_XHR_STREAMING:
        if (!preflight(c, m, "OPTIONS, POST", LWSHUMETH_POST)) start_receiver(c, sp);
        return 0;
    case SOCKJS_T_EVENTSOURCE:
        if (!preflight(c, m, "OPTIONS, GET", LWSHUMETH_GET)) start_receiver(c, sp);
        return 0;
    case SOCKJS_T_XHR_SEND:
        if (!preflight(c, m, "OPTIONS, POST", LWSHUMETH_POST)) start_xhr_send(c, sp);
        return 0;
    default: /* htmlfile, jsonp, jsonp_send: not served */
        respond_error(c, 404, "Not Found");
        return 0;
    }
}

int sockjs_http_event(struct lws *wsi, enum lws_callback_reasons reason, void *user, void **slot,
                      void *in, size_t len)
{
    sockjs_conn *c = *slot;
    switch (reason) {
    case LWS_CALLBACK_HTTP_BODY:
        http_body(c, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (c->kind == SOCKJS_K_XHR_SEND && c->phase == SOCKJS_P_BODY_IN) xhr_send_done(c);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writeable(c, slot);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        sockjs_conn_free(c);
        *slot = NULL;
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

void sockjs_http_stop(void)
{
    buf_free(&wbuf);
    buf_free(&frame_buf);
}
