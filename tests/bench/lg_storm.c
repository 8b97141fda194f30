/* lg_storm.c - the reconnect storm; see lg_storm.h.
 *
 * Connection slots: [0, R) the senders (room r's sender is user r x K, idx r), then
 * [R, R + N) the member sessions before the storm and [R + N, R + 2N) the same users
 * reconnecting (idx = user). The hooks tell them apart by slot. */
#include "lg_storm.h"

#include "lg_stomp.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NS 1000000000.0
#define EPOCH_MAX 64

typedef struct storm {
    const lg_storm_opts *o;
    size_t n, r;            /* member sessions, rooms */
    /* per room */
    char (*epoch)[EPOCH_MAX];
    uint64_t *room_off;     /* newest offset the room's sender has seen */
    uint64_t *sender_got;   /* benchmark messages the sender received */
    /* per member (user index) */
    uint64_t *since;        /* offset from the first SUBSCRIBE's RECEIPT */
    uint64_t *got;          /* recovered messages received after the storm */
    uint64_t *done_ns;      /* when the last of them arrived */
    uint64_t t0, done, recovered, not_recovered, bad_order, extra, mismatch, sender_bad;
    lg_hist *hist;
} storm;

/* The value of "key":"..." or "key":N in a JSON body (no escapes in our values). */
static const char *json_val(const char *body, size_t len, const char *key, size_t *vlen)
{
    char pat[32];
    int pl = snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = memmem(body, len, pat, (size_t)pl), *end = body + len;
    if (!p) return NULL;
    p += pl;
    if (p < end && *p == '"') p++;
    const char *v = p;
    while (p < end && *p != '"' && *p != ',' && *p != '}') p++;
    *vlen = (size_t)(p - v);
    return v;
}

static uint64_t to_u64(const char *v, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; v && i < n && v[i] >= '0' && v[i] <= '9'; i++) x = x * 10 + (uint64_t)(v[i] - '0');
    return x;
}

/* ---- hooks ----------------------------------------------------------------------------- */

static void on_message(lg_ctx *ctx, lg_conn *c, const lg_stomp_frame *f)
{
    storm *s = ctx->hooks.arg;
    size_t slot = (size_t)(c - ctx->conns);
    const char *tag = lg_find_tag(ctx, f->body, f->body_len);
    uint32_t pub, seq;
    uint64_t ts;
    if (!tag || lg_parse_tag(tag, f->body + f->body_len, &pub, &seq, &ts) != 0) {
        c->other++; /* JOIN / LEAVE */
        ctx->other++;
        return;
    }
    size_t vl = 0;
    const char *v = json_val(f->body, f->body_len, "offset", &vl);
    uint64_t off = to_u64(v, vl);
    if (slot < s->r) { /* a sender seeing its own message stored */
        size_t r = c->idx;
        v = json_val(f->body, f->body_len, "epoch", &vl);
        if (pub != r || !v || vl >= EPOCH_MAX || (s->room_off[r] && off != s->room_off[r] + 1)) s->sender_bad++;
        if (v && vl < EPOCH_MAX) {
            memcpy(s->epoch[r], v, vl);
            s->epoch[r][vl] = '\0';
        }
        if (off > s->room_off[r]) s->room_off[r] = off;
        s->sender_got[r]++;
        return;
    }
    if (slot < s->r + s->n) return; /* nothing is sent while the first sessions are open */
    size_t u = c->idx;
    if (pub != c->room || off != s->since[u] + s->got[u] + 1) s->bad_order++;
    if (++s->got[u] > s->o->missed) {
        s->extra++;
        return;
    }
    if (s->got[u] == s->o->missed) {
        uint64_t now = lg_now_ns();
        s->done_ns[u] = now;
        s->done++;
        lg_hist_record(s->hist, now - s->t0);
    }
}

static void on_subscribed(lg_ctx *ctx, lg_conn *c, const lg_stomp_frame *f)
{
    storm *s = ctx->hooks.arg;
    size_t slot = (size_t)(c - ctx->conns), vl = 0, el = 0;
    if (slot < s->r) return;
    const char *v = lg_stomp_header(f, "x-offset", &vl), *e = lg_stomp_header(f, "x-epoch", &el);
    uint64_t off = to_u64(v, vl);
    size_t r = c->room;
    /* Both times the RECEIPT names the room's epoch and its newest offset. */
    if (!v || !e || el != strlen(s->epoch[r]) || memcmp(e, s->epoch[r], el) != 0 || off != s->room_off[r])
        s->mismatch++;
    if (slot < s->r + s->n) {
        s->since[c->idx] = off;
        return;
    }
    const char *rec = lg_stomp_header(f, "x-recovered", &vl);
    if (rec && vl == 4 && memcmp(rec, "true", 4) == 0) s->recovered++;
    else s->not_recovered++;
}

static size_t subscribe_frame(lg_ctx *ctx, lg_conn *c, char *out, size_t cap)
{
    storm *s = ctx->hooks.arg;
    char dest[160];
    snprintf(dest, sizeof dest, "/topic/room/%s", ctx->users.room[c->room]);
    if ((size_t)(c - ctx->conns) < s->r + s->n) return lg_stomp_subscribe(out, cap, "0", dest, "sub-0");
    return lg_stomp_subscribe_since(out, cap, "0", dest, "sub-0", (long long)s->since[c->idx], s->epoch[c->room]);
}

/* ---- the run ---------------------------------------------------------------------------- */

static void open_sender(lg_ctx *ctx, size_t i, void *arg)
{
    storm *s = arg;
    lg_open(ctx, LG_SUB, (uint32_t)(i * s->o->room_size), (uint32_t)i, (uint32_t)i, (uint16_t)(i % ctx->ntargets));
}

static void open_member(lg_ctx *ctx, size_t i, void *arg)
{
    storm *s = arg;
    size_t u = (i - s->r) % s->n;
    lg_open(ctx, LG_SUB, (uint32_t)u, (uint32_t)(u / s->o->room_size), (uint32_t)u, (uint16_t)(u % ctx->ntargets));
}

/* Each sender sends `count` messages to its room. */
static void send_round(lg_ctx *ctx, storm *s, size_t count, uint32_t *seq)
{
    char text[256], body[512], frame[800];
    for (size_t r = 0; r < s->r; r++) {
        lg_conn *c = &ctx->conns[r];
        if (c->state != LG_ST_READY) continue;
        for (size_t k = 0; k < count; k++) {
            int tl = snprintf(text, sizeof text, "lg %zu %" PRIu32 " %" PRIu64 " storm", r, ++seq[r], lg_now_ns());
            int bl = snprintf(body, sizeof body, "{\"roomId\":\"%s\",\"message\":\"%.*s\"}", ctx->users.room[r],
                              tl, text);
            size_t fl =
                lg_stomp_send(frame, sizeof frame, "/app/chat.sendMessage", "application/json", body, (size_t)bl);
            lg_send_stomp(ctx, c, frame, fl);
        }
    }
}

/* Poll until every sender has received `want` of its messages, or timeout_s. */
static int wait_senders(lg_ctx *ctx, storm *s, uint64_t want, double timeout_s)
{
    uint64_t end = lg_now_ns() + (uint64_t)(timeout_s * NS);
    for (;;) {
        size_t r = 0;
        while (r < s->r && s->sender_got[r] >= want) r++;
        if (r == s->r) return 0;
        if (ctx->now > end || lg_poll(ctx, 10000000) < 0) return -1;
    }
}

int lg_bench_storm(lg_ctx *ctx, const lg_storm_opts *o, FILE *out)
{
    storm s = {.o = o, .n = o->rooms * o->room_size, .r = o->rooms};
    s.epoch = xcalloc(s.r, sizeof *s.epoch);
    s.room_off = xcalloc(s.r, sizeof *s.room_off);
    s.sender_got = xcalloc(s.r, sizeof *s.sender_got);
    s.since = xcalloc(s.n, sizeof *s.since);
    s.got = xcalloc(s.n, sizeof *s.got);
    s.done_ns = xcalloc(s.n, sizeof *s.done_ns);
    s.hist = lg_hist_new();
    uint32_t *seq = xcalloc(s.r, sizeof *seq);
    ctx->hooks = (lg_hooks){.on_message = on_message, .on_subscribed = on_subscribed,
                            .subscribe_frame = subscribe_frame, .arg = &s};
    int rc = -1;
    const char *err = NULL;

    /* 1. Senders, and one stored message per room, so every room has an epoch. */
    lg_open_range(ctx, 0, s.r, o->concurrency, open_sender, &s);
    if (ctx->ready != s.r) { err = "senders-not-ready"; goto fail; }
    send_round(ctx, &s, 1, seq);
    if (wait_senders(ctx, &s, 1, 30) != 0) { err = "first-message-not-stored"; goto fail; }
    /* 2. The members subscribe (noting epoch and offset), then all disconnect. */
    lg_open_range(ctx, s.r, s.r + s.n, o->concurrency, open_member, &s);
    if (ctx->ready != s.r + s.n) { err = "members-not-ready"; goto fail; }
    lg_run_for(ctx, 0.3);
    for (size_t i = s.r; i < s.r + s.n; i++) lg_close(ctx, &ctx->conns[i]);
    lg_run_for(ctx, 0.5);
    /* 3. What they miss: `missed` messages per room, each seen stored. */
    uint64_t t = lg_now_ns();
    send_round(ctx, &s, o->missed, seq);
    if (wait_senders(ctx, &s, 1 + o->missed, 60) != 0) { err = "missed-messages-not-stored"; goto fail; }
    double send_s = (double)(lg_now_ns() - t) / NS;
    fprintf(stderr, "loadgen: %zu rooms, %zu sessions gone, %zu messages sent and stored in %.2f s; reconnecting all\n",
            s.r, s.n, s.r * o->missed, send_s);

    /* 4. The storm: every member session at once, with the since headers. */
    lg_cpu_sample ca, cb;
    lg_cpu_take(o->watch, &ca);
    s.t0 = lg_now_ns();
    lg_open_range(ctx, s.r + s.n, s.r + 2 * s.n, s.n, open_member, &s);
    double ready_s = (double)(lg_now_ns() - s.t0) / NS;
    uint64_t end = s.t0 + (uint64_t)(o->timeout_s * NS);
    while (s.done < s.n && ctx->now < end)
        if (lg_poll(ctx, 1000000) < 0) break;
    lg_cpu_take(o->watch, &cb);
    uint64_t last = s.t0;
    for (size_t u = 0; u < s.n; u++)
        if (s.done_ns[u] > last) last = s.done_ns[u];
    double catchup_s = (double)(last - s.t0) / NS;
    lg_run_for(ctx, 0.3); /* anything after the recovered messages is a duplicate */

    uint64_t messages = 0;
    for (size_t u = 0; u < s.n; u++) messages += s.got[u];
    int clean = s.done == s.n && s.recovered == s.n && s.bad_order == 0 && s.extra == 0 && s.mismatch == 0 &&
                s.sender_bad == 0 && ctx->failed == 0;
    fprintf(out,
            "result ok=%d mode=storm rooms=%zu room_size=%zu sessions=%zu missed=%zu ready=%zu failed=%zu "
            "recovered=%" PRIu64 " not_recovered=%" PRIu64 " complete=%" PRIu64 " messages=%" PRIu64
            " expected=%zu bad_order=%" PRIu64 " extra=%" PRIu64 " receipt_mismatch=%" PRIu64 " sender_bad=%" PRIu64
            " send_s=%.3f ready_s=%.3f catchup_s=%.3f messages_per_s=%.0f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f",
            clean, s.r, o->room_size, s.n, o->missed, ctx->ready, ctx->failed, s.recovered, s.not_recovered, s.done,
            messages, s.n * o->missed, s.bad_order, s.extra, s.mismatch, s.sender_bad, send_s, ready_s, catchup_s,
            catchup_s > 0 ? (double)messages / catchup_s : 0, (double)lg_hist_quantile(s.hist, 0.5) / 1e6,
            (double)lg_hist_quantile(s.hist, 0.99) / 1e6, (double)lg_hist_max(s.hist) / 1e6);
    for (size_t i = 0; o->watch && i < o->watch->n; i++)
        fprintf(out, " cpu_s.%s=%.3f", o->watch->label[i],
                ca.pid[i] < 0 || cb.pid[i] < 0 ? -1.0 : cb.pid[i] - ca.pid[i]);
    lg_cpu_print(out, o->watch, &ca, &cb);
    fputc('\n', out);
    fflush(out);
    rc = 0;
    goto out;
fail:
    fprintf(out, "result ok=0 mode=storm error=%s ready=%zu failed=%zu sender_bad=%" PRIu64 "\n", err, ctx->ready,
            ctx->failed, s.sender_bad);
out:
    ctx->hooks = (lg_hooks){0};
    free(s.epoch);
    free(s.room_off);
    free(s.sender_got);
    free(s.since);
    free(s.got);
    free(s.done_ns);
    free(seq);
    lg_hist_free(s.hist);
    return rc;
}
