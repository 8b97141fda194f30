/* lg_mix.c - the many-rooms mix; see lg_mix.h.
 *
 * Session i is user i, member i mod K of room i / K, in connection slot i. One loop
 * both sends (every message due by now, each tagged "lg <user> <seq> <scheduled-ns>")
 * and receives; a step's messages are told from the previous step's stragglers by
 * their scheduled time. */
#include "lg_mix.h"

#include "lg_stomp.h"
#include "util.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NS 1000000000.0
#define DRAIN_CAP_S 30.0 /* longest wait for an overloaded step's backlog */

typedef struct mix {
    const lg_mix_opts *o;
    size_t n;              /* sessions */
    uint32_t *seq;         /* n x room_size: last seq per receiver and sending member */
    uint32_t *sent_seq;    /* per sender */
    uint64_t *last_off;    /* per receiver: last room offset seen (chat) */
    uint64_t next;         /* messages scheduled so far, all steps */
    /* the current step */
    uint64_t ph_from, ph_to;    /* its messages: scheduled in [from, to) */
    uint64_t lat_from, lat_to;  /* latency of messages scheduled in the window */
    uint64_t sent, delivered, window_delivered;
    int measuring;
    lg_hist *hist;
    /* integrity, over the whole run */
    uint64_t gaps, reordered, off_gaps, off_back, foreign;
    char text[1024];
} mix;

/* ---- receiving ------------------------------------------------------------------- */

static uint64_t body_offset(const char *body, size_t len)
{
    const char *p = memmem(body, len, "\"offset\":", 9), *end = body + len;
    uint64_t v = 0;
    if (!p) return 0;
    for (p += 9; p < end && *p >= '0' && *p <= '9'; p++) v = v * 10 + (uint64_t)(*p - '0');
    return v;
}

static void on_message(lg_ctx *ctx, lg_conn *c, const lg_stomp_frame *f)
{
    mix *m = ctx->hooks.arg;
    const char *tag = lg_find_tag(ctx, f->body, f->body_len);
    uint32_t pub, seq;
    uint64_t ts;
    if (!tag || lg_parse_tag(tag, f->body + f->body_len, &pub, &seq, &ts) != 0) {
        c->other++;
        ctx->other++;
        ctx->last_other_ns = ctx->now;
        return;
    }
    size_t k = m->o->room_size;
    if (pub >= m->n || pub / k != c->room) { /* not from this room: the server mixed rooms up */
        m->foreign++;
        return;
    }
    uint64_t now = lg_now_ns();
    c->got++;
    if (ts >= m->ph_from && ts < m->ph_to) m->delivered++;
    if (m->measuring) m->window_delivered++;
    if (ts >= m->lat_from && ts < m->lat_to) lg_hist_record(m->hist, now > ts ? now - ts : 0);
    uint32_t *last = &m->seq[(size_t)c->idx * k + pub % k];
    if (seq != *last + 1) {
        if (seq <= *last) m->reordered++;
        else m->gaps += seq - *last - 1;
    }
    if (seq > *last) *last = seq;
    if (ctx->peer == LG_PEER_CHAT) {
        uint64_t off = body_offset(f->body, f->body_len), *lo = &m->last_off[c->idx];
        if (off == 0 || (*lo && off <= *lo)) m->off_back++;
        else if (*lo && off != *lo + 1) m->off_gaps += off - *lo - 1;
        if (off > *lo) *lo = off;
    }
}

/* ---- sending ------------------------------------------------------------------------ */

static void open_member(lg_ctx *ctx, size_t i, void *arg)
{
    mix *m = arg;
    lg_open(ctx, LG_SUB, (uint32_t)i, (uint32_t)(i / m->o->room_size), (uint32_t)i, (uint16_t)(i % ctx->ntargets));
}

/* Message number m->next, scheduled at ts: from the session whose turn it is. */
static void send_one(lg_ctx *ctx, mix *m, uint64_t ts)
{
    size_t s = (size_t)(m->next++ % m->n), rooms = m->o->rooms, k = m->o->room_size;
    size_t user = (s % rooms) * k + (s / rooms) % k;
    lg_conn *c = &ctx->conns[user];
    m->sent++;
    if (c->state != LG_ST_READY) return; /* counted as sent: its deliveries show as lost */
    uint32_t seq = ++m->sent_seq[user];
    int n = snprintf(m->text, sizeof m->text, "lg %zu %" PRIu32 " %" PRIu64 " ", user, seq, ts);
    size_t len = ctx->msg_size < sizeof m->text - 1 ? ctx->msg_size : sizeof m->text - 1;
    if ((size_t)n < len) memset(m->text + n, 'x', len - (size_t)n);
    else len = (size_t)n;
    m->text[len] = '\0';
    const char *room = ctx->users.room[c->room];
    char body[1400], frame[1800], dest[160];
    size_t flen;
    if (ctx->peer == LG_PEER_RABBIT) {
        snprintf(dest, sizeof dest, "%s%s", ctx->dest_prefix, room);
        flen = lg_stomp_send(frame, sizeof frame, dest, "text/plain", m->text, len);
    } else {
        int bl = snprintf(body, sizeof body, "{\"roomId\":\"%s\",\"message\":\"%s\"}", room, m->text);
        flen = lg_stomp_send(frame, sizeof frame, "/app/chat.sendMessage", "application/json", body, (size_t)bl);
    }
    lg_send_stomp(ctx, c, frame, flen);
}

/* ---- one step ------------------------------------------------------------------------ */

typedef struct step {
    double rate, dt, publish_per_s, delivered_per_s, share;
    uint64_t sent, expected, delivered, lost, integrity;
    uint64_t p50, p99, p999, max, samples;
    double mean;
    int held;
    lg_cpu_sample ca, cb;
} step;

static uint64_t integrity(const mix *m) { return m->gaps + m->reordered + m->off_gaps + m->off_back + m->foreign; }

static void run_step(lg_ctx *ctx, mix *m, double rate, double duration_s, step *st)
{
    const lg_mix_opts *o = m->o;
    memset(st, 0, sizeof *st);
    st->rate = rate;
    uint64_t integ0 = integrity(m);
    lg_hist_reset(m->hist);
    m->sent = m->delivered = m->window_delivered = 0;
    ctx->now = lg_now_ns();
    uint64_t t0 = ctx->now, tw = t0 + (uint64_t)(o->warmup_s * NS), te = tw + (uint64_t)(duration_s * NS);
    m->ph_from = t0;
    m->ph_to = te;
    m->lat_from = tw;
    m->lat_to = te;
    uint64_t j = 0, sent_w0 = 0;
    while (ctx->now < te) {
        /* Every message due by now goes out, stamped with the time it was due. */
        uint64_t due = (uint64_t)((double)(ctx->now - t0) * rate / NS) + 1;
        while (j < due) {
            uint64_t ts = t0 + (uint64_t)((double)j * NS / rate);
            if (ts >= te) break;
            send_one(ctx, m, ts);
            j++;
        }
        uint64_t next_at = t0 + (uint64_t)((double)j * NS / rate);
        uint64_t timeout = next_at > ctx->now ? next_at - ctx->now : 0;
        if (timeout > 1000000) timeout = 1000000;
        if (lg_poll(ctx, timeout) < 0) break;
        if (!m->measuring && ctx->now >= tw) {
            m->measuring = 1;
            m->window_delivered = 0;
            sent_w0 = m->sent;
            lg_cpu_take(o->watch, &st->ca);
        }
    }
    lg_cpu_take(o->watch, &st->cb);
    if (!m->measuring) st->ca = st->cb;
    m->measuring = 0;
    st->dt = st->cb.t - st->ca.t;
    st->sent = m->sent;
    st->expected = m->sent * o->room_size;
    uint64_t sent_w = m->sent - sent_w0;
    st->publish_per_s = st->dt > 0 ? (double)sent_w / st->dt : 0;
    st->delivered_per_s = st->dt > 0 ? (double)m->window_delivered / st->dt : 0;
    st->share = sent_w ? (double)m->window_delivered / ((double)sent_w * (double)o->room_size) : 0;
    /* Wait for the step's stragglers: while they keep coming (an overloaded server
     * works off its backlog), then drain_s of silence at most. */
    ctx->now = lg_now_ns();
    uint64_t last = m->delivered, news = ctx->now, cap = ctx->now + (uint64_t)(DRAIN_CAP_S * NS);
    while (m->delivered < st->expected && ctx->now - news < (uint64_t)(o->drain_s * NS) && ctx->now < cap) {
        lg_poll(ctx, 10000000);
        if (m->delivered != last) {
            last = m->delivered;
            news = ctx->now;
        }
    }
    st->delivered = m->delivered;
    st->lost = st->expected > st->delivered ? st->expected - st->delivered : 0;
    st->integrity = integrity(m) - integ0;
    st->samples = lg_hist_count(m->hist);
    st->p50 = lg_hist_quantile(m->hist, 0.5);
    st->p99 = lg_hist_quantile(m->hist, 0.99);
    st->p999 = lg_hist_quantile(m->hist, 0.999);
    st->max = lg_hist_max(m->hist);
    st->mean = lg_hist_mean(m->hist);
    st->held = ctx->failed == 0 && st->lost == 0 && st->integrity == 0 && st->share >= o->min_delivered &&
               (double)st->p99 / 1e6 <= o->max_p99_ms;
}

/* The step's figures as " key=value" pairs (the caller starts the line). */
static void print_step(FILE *out, const lg_ctx *ctx, const mix *m, const step *st)
{
    fprintf(out,
            " held=%d peer=%s rooms=%zu room_size=%zu rate=%.0f duration_s=%.2f sent=%" PRIu64
            " publish_per_s=%.0f delivered_per_s=%.0f delivered_share=%.3f expected=%" PRIu64 " delivered=%" PRIu64
            " lost=%" PRIu64 " integrity=%" PRIu64 " gaps=%" PRIu64 " reordered=%" PRIu64 " offset_gaps=%" PRIu64
            " offset_back=%" PRIu64 " foreign=%" PRIu64 " failed=%zu samples=%" PRIu64
            " p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f mean_us=%.1f",
            st->held, ctx->peer == LG_PEER_RABBIT ? "rabbitmq" : "chat", m->o->rooms, m->o->room_size,
            st->rate, st->dt, st->sent, st->publish_per_s, st->delivered_per_s, st->share, st->expected,
            st->delivered, st->lost, st->integrity, m->gaps, m->reordered, m->off_gaps, m->off_back, m->foreign,
            ctx->failed, st->samples, (double)st->p50 / 1e3, (double)st->p99 / 1e3, (double)st->p999 / 1e3,
            (double)st->max / 1e3, st->mean / 1e3);
    lg_cpu_print(out, m->o->watch, &st->ca, &st->cb);
}

int lg_bench_mix(lg_ctx *ctx, const lg_mix_opts *o, FILE *out)
{
    mix m = {.o = o, .n = o->rooms * o->room_size};
    m.seq = xcalloc(m.n * o->room_size + 1, sizeof *m.seq);
    m.sent_seq = xcalloc(m.n + 1, sizeof *m.sent_seq);
    m.last_off = xcalloc(m.n + 1, sizeof *m.last_off);
    m.hist = lg_hist_new();
    ctx->hooks = (lg_hooks){.on_message = on_message, .arg = &m};
    int rc = -1;
    uint64_t t_setup = lg_now_ns();
    lg_open_range(ctx, 0, m.n, o->concurrency, open_member, &m);
    if (ctx->ready == 0) {
        fprintf(out, "result ok=0 mode=mix error=no-session ready=0 failed=%zu\n", ctx->failed);
        goto out;
    }
    /* Let the JOIN notices of the set-up die down. */
    ctx->now = lg_now_ns();
    uint64_t quiet = ctx->now;
    while (ctx->now - (ctx->last_other_ns > quiet ? ctx->last_other_ns : quiet) < 300000000u &&
           ctx->now - quiet < 60 * (uint64_t)NS)
        lg_poll(ctx, 10000000);
    double setup_s = (double)(lg_now_ns() - t_setup) / NS;
    fprintf(stderr, "loadgen: %zu of %zu sessions ready in %zu rooms, %zu failed, in %.2f s\n", ctx->ready, m.n,
            o->rooms, ctx->failed, setup_s);
    lg_run_for(ctx, o->settle_s);

    /* Step up until a step does not hold (or down until one holds, when the first
     * does not), then once between the last two. */
    double ok_rate = 0, bad_rate = 0, rate = o->rate0;
    size_t nsteps = 0;
    step st;
    while (nsteps < o->max_steps) {
        run_step(ctx, &m, rate, o->duration_s, &st);
        fprintf(out, "step mode=mix step=%zu", nsteps++);
        print_step(out, ctx, &m, &st);
        fputc('\n', out);
        fflush(out);
        if (st.held) {
            ok_rate = rate;
            if (bad_rate > 0) break;
            rate *= o->factor;
        } else {
            bad_rate = rate;
            if (ok_rate > 0) break;
            rate /= o->factor;
        }
    }
    if (ok_rate > 0 && bad_rate > 0 && nsteps < o->max_steps) {
        rate = sqrt(ok_rate * bad_rate);
        run_step(ctx, &m, rate, o->duration_s, &st);
        fprintf(out, "step mode=mix step=%zu", nsteps++);
        print_step(out, ctx, &m, &st);
        fputc('\n', out);
        if (st.held) ok_rate = rate;
    }
    const char *limit = ok_rate > 0 && bad_rate > 0 ? "step-did-not-hold" : "max-steps";
    /* Latency at half the ceiling (or at the first step's rate, when none held). */
    double half = ok_rate > 0 ? ok_rate / 2 : o->rate0;
    run_step(ctx, &m, half, o->duration_s, &st);
    int clean = ok_rate > 0 && integrity(&m) == 0 && st.lost == 0 && ctx->failed == 0;
    fprintf(out, "result ok=%d mode=mix sessions=%zu ready=%zu setup_s=%.2f ceiling_send_per_s=%.0f "
                 "ceiling_message_per_s=%.0f ceiling_limit=%s steps=%zu half=1",
            clean, m.n, ctx->ready, setup_s, ok_rate, ok_rate * (double)o->room_size, limit, nsteps);
    print_step(out, ctx, &m, &st);
    fputc('\n', out);
    fflush(out);
    rc = 0;
out:
    ctx->hooks = (lg_hooks){0};
    free(m.seq);
    free(m.sent_seq);
    free(m.last_off);
    lg_hist_free(m.hist);
    return rc;
}
