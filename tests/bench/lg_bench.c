/* lg_bench.c - pub/sub and connection benchmarks over lg_conn.c; see lg_bench.h.
 *
 * Timing: one monotonic clock in one process, so a publisher's embedded send time is
 * directly comparable with the subscriber's receive time. A message's latency is
 * recorded when its MESSAGE frame is parsed, which includes the loadgen's own queueing
 * behind other frames read in the same batch; the loadgen's CPU use is printed so that
 * a saturated loadgen can be told from a saturated server. */
#include "lg_bench.h"

#include "lg_proc.h"
#include "lg_stomp.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS 1000000000.0

/* ---- receiving -------------------------------------------------------------------- */

/* Parse "lg <pub> <seq> <ns> " at p; 0 on success. */
int lg_parse_tag(const char *p, const char *end, uint32_t *pub, uint32_t *seq, uint64_t *ts)
{
    uint64_t v[3] = {0, 0, 0};
    p += 3;
    for (int k = 0; k < 3; k++) {
        if (p >= end || *p < '0' || *p > '9') return -1;
        while (p < end && *p >= '0' && *p <= '9') v[k] = v[k] * 10 + (uint64_t)(*p++ - '0');
        if (p >= end || *p != ' ') return -1;
        p++;
    }
    *pub = (uint32_t)v[0];
    *seq = (uint32_t)v[1];
    *ts = v[2];
    return 0;
}

const char *lg_find_tag(const lg_ctx *ctx, const char *body, size_t len)
{
    if (ctx->peer == LG_PEER_RABBIT) return len > 3 && memcmp(body, "lg ", 3) == 0 ? body : NULL;
    /* Our JSON: {"type":"CHAT",...,"message":"lg 1 2 3 xxx",...}; user names are
     * "lg-user-N", so '"lg ' only starts a benchmark text. */
    const char *q = memmem(body, len, "\"lg ", 4);
    return q ? q + 1 : NULL;
}

void lg_bench_on_message(lg_ctx *ctx, lg_conn *c, const char *body, size_t len)
{
    const char *end = body + len, *tag = lg_find_tag(ctx, body, len);
    uint32_t pub, seq;
    uint64_t ts;
    if (!tag || c->role != LG_SUB || lg_parse_tag(tag, end, &pub, &seq, &ts) != 0 || pub >= ctx->npubs ||
        c->idx >= ctx->nsubs) {
        c->other++;
        ctx->other++;
        ctx->last_other_ns = ctx->now;
        return;
    }
    uint64_t now = lg_now_ns();
    c->got++;
    ctx->delivered++;
    if (ctx->measuring) ctx->window_delivered++;
    /* Latency of the messages sent inside the measured window, whenever they land. */
    if (ts >= ctx->lat_from && ts < ctx->lat_to) lg_hist_record(ctx->hist, now > ts ? now - ts : 0);
    uint32_t *last = &ctx->seq[(size_t)c->idx * ctx->npubs + pub];
    if (seq != *last + 1) {
        if (seq <= *last) ctx->reordered++;
        else ctx->gaps += seq - *last - 1;
    }
    if (seq > *last) *last = seq;
}

/* ---- helpers ------------------------------------------------------------------------ */

void lg_cpu_take(const lg_watch *w, lg_cpu_sample *s)
{
    s->t = (double)lg_now_ns() / NS;
    s->self = lg_proc_self_cpu_s();
    for (size_t i = 0; w && i < w->n; i++) s->pid[i] = lg_proc_cpu_s(w->pid[i]);
    s->ncpus = lg_proc_cpus_busy_s(s->cpu, LG_MAX_CPUS);
}

/* Percent of one core between two samples, per watched process and for ourselves. */
void lg_cpu_print(FILE *out, const lg_watch *w, const lg_cpu_sample *a, const lg_cpu_sample *b)
{
    double dt = b->t - a->t;
    if (dt <= 0) dt = 1e-9;
    for (size_t i = 0; w && i < w->n; i++)
        fprintf(out, " cpu.%s=%.1f", w->label[i], a->pid[i] < 0 || b->pid[i] < 0 ? -1.0 : 100.0 * (b->pid[i] - a->pid[i]) / dt);
    fprintf(out, " cpu.loadgen=%.1f", 100.0 * (b->self - a->self) / dt);
    /* Busy share of each CPU, whoever used it (other processes included). */
    for (int c = 0; c < a->ncpus && c < b->ncpus; c++) fprintf(out, " busy.cpu%d=%.1f", c, 100.0 * (b->cpu[c] - a->cpu[c]) / dt);
}

/* Open connection slots [from, to) with open_one(i), keeping at most concurrency
 * handshakes in flight, until all are ready or dead or nothing moved for 15 s. */
void lg_open_range(lg_ctx *ctx, size_t from, size_t to, size_t concurrency,
                       void (*open_one)(lg_ctx *, size_t, void *), void *arg)
{
    size_t next = from, last_done = 0;
    ctx->now = lg_now_ns();
    uint64_t last_move = ctx->now;
    if (concurrency == 0) concurrency = 256;
    while (next < to || ctx->pending > 0) {
        while (next < to && ctx->pending < concurrency) open_one(ctx, next++, arg);
        if (lg_poll(ctx, 1000000) < 0) break;
        size_t done = ctx->ready + ctx->failed;
        if (done != last_done) {
            last_done = done;
            last_move = ctx->now;
        } else if (ctx->now - last_move > 15 * (uint64_t)NS) {
            fprintf(stderr, "loadgen: %zu connections stuck in their handshake; giving up on them\n", ctx->pending);
            break;
        }
    }
}

/* Keep the loop running for s seconds. */
void lg_run_for(lg_ctx *ctx, double s)
{
    ctx->now = lg_now_ns();
    uint64_t end = ctx->now + (uint64_t)(s * NS);
    while (ctx->now < end) {
        if (lg_poll(ctx, end - ctx->now < 10000000 ? end - ctx->now : 10000000) < 0) break;
    }
}

/* ---- pub/sub --------------------------------------------------------------------------- */

typedef struct pubsub {
    const lg_pubsub_opts *o;
    size_t *pub_slot;  /* connection slot of each publisher */
    uint32_t *acked;   /* per publisher: lowest seq every live subscriber has */
    char text[1024];
} pubsub;

static void open_pubsub(lg_ctx *ctx, size_t i, void *arg)
{
    pubsub *ps = arg;
    size_t subs = ps->o->subs;
    int role = i < subs ? LG_SUB : LG_PUB;
    uint32_t idx = (uint32_t)(i < subs ? i : i - subs);
    long slot = lg_open(ctx, role, (uint32_t)i, 0, idx, (uint16_t)(idx % ctx->ntargets));
    if (role == LG_PUB) ps->pub_slot[idx] = slot < 0 ? SIZE_MAX : (size_t)slot;
}

static void publish(lg_ctx *ctx, pubsub *ps, size_t p)
{
    if (ps->pub_slot[p] == SIZE_MAX) return;
    lg_conn *c = &ctx->conns[ps->pub_slot[p]];
    if (c->state != LG_ST_READY) return;
    uint64_t seq = ++ctx->sent[p];
    int n = snprintf(ps->text, sizeof ps->text, "lg %zu %" PRIu64 " %" PRIu64 " ", p, seq, lg_now_ns());
    size_t len = ctx->msg_size < sizeof ps->text - 1 ? ctx->msg_size : sizeof ps->text - 1;
    if ((size_t)n < len) memset(ps->text + n, 'x', len - (size_t)n);
    else len = (size_t)n;
    ps->text[len] = '\0';
    char body[1400], frame[1800];
    size_t flen;
    if (ctx->peer == LG_PEER_RABBIT) {
        char dest[160];
        snprintf(dest, sizeof dest, "%s%s", ctx->dest_prefix, ctx->users.room[0]);
        flen = lg_stomp_send(frame, sizeof frame, dest, "text/plain", ps->text, len);
    } else {
        int bl = snprintf(body, sizeof body, "{\"roomId\":\"%s\",\"message\":\"%s\"}", ctx->users.room[0], ps->text);
        flen = lg_stomp_send(frame, sizeof frame, "/app/chat.sendMessage", "application/json", body, (size_t)bl);
    }
    lg_send_stomp(ctx, c, frame, flen);
}

static void update_acked(lg_ctx *ctx, pubsub *ps, size_t sub_slot0)
{
    for (size_t p = 0; p < ctx->npubs; p++) ps->acked[p] = UINT32_MAX;
    for (size_t s = 0; s < ctx->nsubs; s++) {
        if (ctx->conns[sub_slot0 + s].state != LG_ST_READY) continue;
        const uint32_t *row = &ctx->seq[s * ctx->npubs];
        for (size_t p = 0; p < ctx->npubs; p++)
            if (row[p] < ps->acked[p]) ps->acked[p] = row[p];
    }
}

static size_t live_subs(const lg_ctx *ctx, size_t sub_slot0)
{
    size_t n = 0;
    for (size_t s = 0; s < ctx->nsubs; s++) n += ctx->conns[sub_slot0 + s].state == LG_ST_READY;
    return n;
}

static uint64_t sent_sum(const lg_ctx *ctx)
{
    uint64_t n = 0;
    for (size_t p = 0; p < ctx->npubs; p++) n += ctx->sent[p];
    return n;
}

/* True while some live subscriber still misses messages of this phase. */
static int in_flight(const lg_ctx *ctx, size_t sub_slot0, uint64_t sent0)
{
    uint64_t sent = sent_sum(ctx) - sent0;
    for (size_t s = 0; s < ctx->nsubs; s++) {
        const lg_conn *c = &ctx->conns[sub_slot0 + s];
        if (c->state == LG_ST_READY && c->got < sent) return 1;
    }
    return 0;
}

/* One phase: publish for warmup + duration at `rate` (0: flat out under the window),
 * then wait for stragglers. */
static void pubsub_measure(lg_ctx *ctx, pubsub *ps, size_t sub_slot0, double rate, lg_cpu_sample *ca,
                           lg_cpu_sample *cb, uint64_t *sent_in_window)
{
    const lg_pubsub_opts *o = ps->o;
    ctx->now = lg_now_ns();
    uint64_t t0 = ctx->now, tw = t0 + (uint64_t)(o->warmup_s * NS), te = tw + (uint64_t)(o->duration_s * NS);
    uint64_t sent0 = sent_sum(ctx), sent_w0 = sent0, sent_total = 0, period = rate > 0 ? (uint64_t)(NS / rate) : 0;
    uint64_t last_acked = 0, acked_period = (uint64_t)(12.5 * (double)(ctx->nsubs * ctx->npubs));
    if (acked_period > 100000) acked_period = 100000;
    ctx->lat_from = tw;
    ctx->lat_to = te;
    while (ctx->now < te) {
        uint64_t timeout = 1000000;
        if (rate > 0) {
            uint64_t due_at = t0 + (uint64_t)((double)sent_total * NS / rate);
            timeout = due_at > ctx->now ? due_at - ctx->now : 0;
            if (timeout > period) timeout = period;
        }
        if (lg_poll(ctx, timeout) < 0) break;
        if (!ctx->measuring && ctx->now >= tw) {
            ctx->measuring = 1;
            ctx->window_delivered = 0;
            sent_w0 = sent_sum(ctx);
            lg_cpu_take(o->watch, ca);
        }
        if (rate > 0) {
            /* Message k is due at t0 + k / rate; the first one at once. */
            uint64_t due = (uint64_t)((double)(ctx->now - t0) * rate / NS) + 1;
            while (sent_total < due) publish(ctx, ps, sent_total++ % o->pubs);
            continue;
        }
        /* The minimum over all subscribers costs subs x pubs reads (~0.5 ns each):
         * redo it at most every 12.5 ns per entry (50 us for 1000 x 4), so that it
         * stays a few per cent of the loop, and at least every 100 us. */
        if (ctx->now - last_acked >= acked_period) {
            update_acked(ctx, ps, sub_slot0);
            last_acked = ctx->now;
        }
        for (size_t p = 0; p < o->pubs; p++) {
            if (ps->pub_slot[p] == SIZE_MAX) continue;
            uint32_t acked = ps->acked[p] == UINT32_MAX ? (uint32_t)ctx->sent[p] : ps->acked[p];
            while (ctx->sent[p] - acked < o->window && ctx->conns[ps->pub_slot[p]].state == LG_ST_READY)
                publish(ctx, ps, p);
        }
    }
    lg_cpu_take(o->watch, cb);
    if (!ctx->measuring) *ca = *cb;
    ctx->measuring = 0;
    *sent_in_window = sent_sum(ctx) - sent_w0;

    ctx->now = lg_now_ns();
    uint64_t last = ctx->delivered, last_news = ctx->now;
    while (in_flight(ctx, sub_slot0, sent0) && ctx->now - last_news < (uint64_t)(o->drain_s * NS)) {
        lg_poll(ctx, 10000000);
        if (ctx->delivered != last) {
            last = ctx->delivered;
            last_news = ctx->now;
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The rate of phase i: its own, or a percentage of the median flat-out publish rate
 * of the earlier phases; -1 when there is no such peak yet. */
static double phase_rate(const lg_pubsub_opts *o, size_t i, const double *peaks, size_t npeaks)
{
    if (o->phases[i].pct <= 0) return o->phases[i].rate;
    if (npeaks == 0) return -1;
    double sorted[LG_MAX_PHASES];
    memcpy(sorted, peaks, npeaks * sizeof *peaks);
    qsort(sorted, npeaks, sizeof *sorted, cmp_double);
    double med = npeaks % 2 ? sorted[npeaks / 2] : (sorted[npeaks / 2 - 1] + sorted[npeaks / 2]) / 2;
    return med * o->phases[i].pct / 100.0;
}

static void print_phase(lg_ctx *ctx, const lg_pubsub_opts *o, FILE *out, size_t i, double rate,
                        const lg_cpu_sample *ca, const lg_cpu_sample *cb, uint64_t sent, uint64_t sent_w,
                        size_t subs_at_start, double setup_s, uint64_t other0)
{
    /* Every subscriber live at the phase's start should have had every message;
     * one that died (e.g. dropped as a slow consumer) lost the rest. */
    uint64_t expected = sent * subs_at_start;
    uint64_t lost = expected > ctx->delivered ? expected - ctx->delivered : 0;
    double dt = cb->t - ca->t;
    char load[32] = "flat-out";
    if (o->phases[i].pct > 0) snprintf(load, sizeof load, "%g%%", o->phases[i].pct);
    else if (rate > 0) snprintf(load, sizeof load, "fixed");
    fprintf(out,
            "result ok=1 phase=%zu load=%s peer=%s subs=%zu pubs=%zu ready=%zu failed=%zu setup_s=%.2f rate=%.0f "
            "window=%u duration_s=%.2f sent=%" PRIu64 " publish_per_s=%.0f delivered_per_s=%.0f expected=%" PRIu64
            " delivered=%" PRIu64 " lost=%" PRIu64 " gaps=%" PRIu64 " reordered=%" PRIu64 " other=%" PRIu64,
            i, load, ctx->peer == LG_PEER_RABBIT ? "rabbitmq" : "chat", o->subs, o->pubs, ctx->ready, ctx->failed,
            setup_s, rate, o->window, dt, sent, dt > 0 ? (double)sent_w / dt : 0,
            dt > 0 ? (double)ctx->window_delivered / dt : 0, expected, ctx->delivered, lost, ctx->gaps, ctx->reordered,
            ctx->other - other0);
    const lg_hist *h = ctx->hist;
    fprintf(out, " samples=%" PRIu64 " p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f mean_us=%.1f",
            lg_hist_count(h), (double)lg_hist_quantile(h, 0.5) / 1e3, (double)lg_hist_quantile(h, 0.99) / 1e3,
            (double)lg_hist_quantile(h, 0.999) / 1e3, (double)lg_hist_max(h) / 1e3, lg_hist_mean(h) / 1e3);
    lg_cpu_print(out, o->watch, ca, cb);
    fputc('\n', out);
    fflush(out);
}

int lg_bench_pubsub(lg_ctx *ctx, const lg_pubsub_opts *o, FILE *out)
{
    pubsub ps = {.o = o};
    ctx->npubs = o->pubs;
    ctx->nsubs = o->subs;
    ctx->seq = xcalloc(o->subs * o->pubs + 1, sizeof *ctx->seq);
    ctx->sent = xcalloc(o->pubs + 1, sizeof *ctx->sent);
    ctx->hist = lg_hist_new();
    ps.pub_slot = xcalloc(o->pubs + 1, sizeof *ps.pub_slot);
    ps.acked = xcalloc(o->pubs + 1, sizeof *ps.acked);
    size_t sub_slot0 = ctx->nconns;
    uint64_t t_setup = lg_now_ns();
    int rc = -1;

    lg_open_range(ctx, 0, o->subs + o->pubs, o->concurrency, open_pubsub, &ps);
    size_t subs_ready = live_subs(ctx, sub_slot0);
    if (subs_ready == 0 || ctx->ready == subs_ready) {
        fprintf(out, "result ok=0 error=%s ready=%zu failed=%zu\n", subs_ready ? "no-publisher" : "no-subscriber",
                ctx->ready, ctx->failed);
        goto out;
    }
    /* Let the JOIN notices of the set-up die down before measuring. */
    ctx->now = lg_now_ns();
    uint64_t quiet_from = ctx->now;
    while (ctx->now - (ctx->last_other_ns > quiet_from ? ctx->last_other_ns : quiet_from) < 300000000u &&
           ctx->now - quiet_from < 60 * (uint64_t)NS)
        lg_poll(ctx, 10000000);
    double setup_s = (double)(lg_now_ns() - t_setup) / NS;
    fprintf(stderr, "loadgen: %zu sessions ready, %" PRIu64 " set-up notices (JOIN) received, in %.2f s\n", ctx->ready,
            ctx->other, setup_s);

    double peaks[LG_MAX_PHASES];
    size_t npeaks = 0;
    for (size_t i = 0; i < o->nphases; i++) {
        double rate = phase_rate(o, i, peaks, npeaks);
        if (rate < 0) {
            fprintf(out, "result ok=0 phase=%zu error=no-peak-measured-before-this-phase\n", i);
            continue;
        }
        size_t subs_at_start = live_subs(ctx, sub_slot0);
        uint64_t other0 = ctx->other, sent0 = sent_sum(ctx);
        ctx->delivered = ctx->gaps = ctx->reordered = 0;
        lg_hist_reset(ctx->hist);
        for (size_t s = 0; s < o->subs; s++) ctx->conns[sub_slot0 + s].got = 0;
        lg_cpu_sample ca = {0}, cb = {0};
        uint64_t sent_w = 0;
        pubsub_measure(ctx, &ps, sub_slot0, rate, &ca, &cb, &sent_w);
        print_phase(ctx, o, out, i, rate, &ca, &cb, sent_sum(ctx) - sent0, sent_w, subs_at_start, setup_s, other0);
        if (rate == 0 && cb.t > ca.t) peaks[npeaks++] = (double)sent_w / (cb.t - ca.t);
    }
    rc = 0;
out:
    free(ps.pub_slot);
    free(ps.acked);
    return rc;
}

/* ---- idle connections ---------------------------------------------------------------- */

static void open_idle(lg_ctx *ctx, size_t i, void *arg)
{
    (void)arg;
    size_t room_size = ctx->users.room_size ? ctx->users.room_size : 1;
    lg_open(ctx, LG_SUB, (uint32_t)i, (uint32_t)(i / room_size), (uint32_t)i, (uint16_t)(i % ctx->ntargets));
}

int lg_bench_conns(lg_ctx *ctx, const lg_conns_opts *o, FILE *out)
{
    const lg_watch *w = o->watch;
    long rss0[LG_MAX_PIDS], prev[LG_MAX_PIDS];
    for (size_t k = 0; w && k < w->n; k++) prev[k] = rss0[k] = lg_proc_rss_kib(w->pid[k]);
    fprintf(out, "base");
    for (size_t k = 0; w && k < w->n; k++) fprintf(out, " rss_kib.%s=%ld", w->label[k], rss0[k]);
    fputc('\n', out);
    size_t opened = 0, prev_ready = 0;
    ctx->nsubs = 0; /* idle: no message accounting */
    for (size_t s = 0; s < o->nsteps; s++) {
        size_t target = o->steps[s], failed0 = ctx->failed;
        int capped = target > ctx->cap;
        if (capped) target = ctx->cap;
        uint64_t t = lg_now_ns();
        lg_open_range(ctx, opened, target, o->concurrency, open_idle, NULL);
        double setup = (double)(lg_now_ns() - t) / NS;
        opened = target;
        lg_run_for(ctx, o->settle_s);
        fprintf(out, "step conns=%zu ready=%zu failed=%zu setup_s=%.2f connect_per_s=%.0f", target, ctx->ready,
                ctx->failed, setup, setup > 0 ? (double)(ctx->ready - prev_ready) / setup : 0);
        for (size_t k = 0; w && k < w->n; k++) {
            long rss = lg_proc_rss_kib(w->pid[k]);
            double per = ctx->ready ? (double)(rss - rss0[k]) * 1024.0 / (double)ctx->ready : 0;
            double marginal = ctx->ready > prev_ready ? (double)(rss - prev[k]) * 1024.0 / (double)(ctx->ready - prev_ready) : 0;
            fprintf(out, " rss_kib.%s=%ld bytes_per_conn.%s=%.0f marginal_bytes.%s=%.0f", w->label[k], rss, w->label[k],
                    per, w->label[k], marginal);
            prev[k] = rss;
        }
        fprintf(out, " rss_kib.loadgen=%ld\n", lg_proc_rss_kib(getpid()));
        fflush(out);
        prev_ready = ctx->ready;
        if (capped) {
            fprintf(out, "limit conns=%zu ready=%zu reason=loadgen-fd-limit\n", o->steps[s], ctx->ready);
            break;
        }
        if (ctx->pending > 0) {
            fprintf(out, "limit conns=%zu ready=%zu reason=handshakes-stuck(%zu)\n", target, ctx->ready, ctx->pending);
            break;
        }
        if (ctx->failed - failed0 > (target - (s ? o->steps[s - 1] : 0)) / 100) {
            fprintf(out, "limit conns=%zu ready=%zu reason=failures(%zu)\n", target, ctx->ready, ctx->failed - failed0);
            break;
        }
    }
    lg_run_for(ctx, o->hold_s);
    return 0;
}
