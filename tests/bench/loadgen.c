/* loadgen.c - the benchmark load generator: flags, set-up, and the small modes.
 *
 *   loadgen --mode pubsub  [--url ws://...]... --subs N --pubs P [--rate R] ...
 *   loadgen --mode conns   [--url ws://...] --steps 1000,10000,50000 ...
 *   loadgen --mode prep    --users N --rooms R        (users/rooms for wrk; prints ids)
 *   loadgen --mode redis-sub --channel C              (raw Redis subscriber ceiling)
 *   loadgen --mode mix     --rooms R --room-size K --rate R0 ...  (many rooms, lg_mix.c)
 *   loadgen --mode storm   --rooms R --room-size K --missed M     (reconnect storm, lg_storm.c)
 *
 * One process, one thread, raw epoll (lg_conn.c), its own WebSocket framing
 * (lg_ws.c) and STOMP client (lg_stomp.c). For our relay (--peer chat, the default)
 * users, sessions and rooms are written straight into Redis (lg_prep.c) rather than
 * through the REST API; for RabbitMQ Web-STOMP (--peer rabbitmq) the guest login and
 * /topic/<room> destinations are used and SEND bodies are raw text. Results are
 * `key=value` lines on stdout ("result", "step", "base", "limit"); progress and
 * errors go to stderr. See `loadgen --help` and tests/bench/README.md. This file does
 * not measure anything itself: lg_bench.c does. */
#include "lg.h"
#include "lg_bench.h"
#include "lg_mix.h"
#include "lg_prep.h"
#include "lg_storm.h"

#include "log.h"
#include "redis.h"
#include "util.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_URLS 16
#define MAX_STEPS 16

typedef struct flags {
    const char *mode, *peer, *redis, *prefix, *channel;
    const char *urls[MAX_URLS];
    size_t nurls;
    size_t subs, pubs, users, rooms, room_size, concurrency, sources;
    size_t steps[MAX_STEPS], nsteps;
    lg_phase phases[LG_MAX_PHASES];
    size_t nphases;
    double warmup, duration, drain, settle, hold;
    double factor, min_delivered, max_p99_ms, timeout;
    size_t max_steps, missed;
    unsigned window, size;
    lg_watch watch;
} flags;

static void usage(FILE *f)
{
    fputs("usage: loadgen --mode pubsub|conns|prep|redis-sub|mix|storm [options]\n"
          "  --url ws://H:P/PATH   target (repeatable; connections go round-robin)\n"
          "                        default ws://127.0.0.1:8081/ws/websocket\n"
          "  --peer chat|rabbitmq  our relay (default) or RabbitMQ Web-STOMP (guest/guest,\n"
          "                        /topic/<room>, raw-text SEND, no JOIN/LEAVE)\n"
          "  --redis URL           chat: Redis to prepare users in (default $REDIS_URL or\n"
          "                        redis://127.0.0.1:6379/0)\n"
          "  --prefix P            key prefix (default $KEY_PREFIX or chat:)\n"
          "  --pid LABEL=PID       watch a server process: CPU (pubsub), RSS (conns); repeatable\n"
          "  --sources N           bind to 127.0.0.2..127.0.0.(N+1) (default: one per 2500 conns)\n"
          "  --concurrency N       handshakes in flight while connecting (default 256)\n"
          "pubsub: --subs N (50) --pubs P (1) --window W (64) --size BYTES (100)\n"
          "        --rate R[,R...]  one measured phase per entry, on the same connections:\n"
          "                 messages/s in total, 0 = flat out (at most W messages per\n"
          "                 publisher not yet received by every subscriber), or N% =\n"
          "                 N % of the median flat-out rate of the phases before (default 0)\n"
          "        --warmup S (1) --duration S (3) --drain S (2)   per phase\n"
          "conns:  --steps N,N,... (1000) --room-size K (10) --settle S (1) --hold S (0)\n"
          "prep:   --users N (1) --rooms R (1) --room-size K (users per room; default all)\n"
          "redis-sub: --channel C --duration S (10): counts messages, reports the rate\n"
          "           between the first and the last one\n"
          "mix:    --rooms R (1000) --room-size K (10): every member subscribed and sending, open\n"
          "        loop; --rate R0 (1000) SEND/s in total for the first step, --factor F (1.5) per\n"
          "        step until one does not hold (down, if the first does not, until one does):\n"
          "        MESSAGE/s below --min-delivered (0.95) of the\n"
          "        offered, a loss, or p99 above --max-p99-ms (250); then one step between the\n"
          "        last two (--max-steps 12 in all) and the latency at half the ceiling\n"
          "        --warmup S (1) --duration S (3) --drain S (2)   per step; --settle S (1)\n"
          "        once after the set-up\n"
          "storm:  --rooms R (100) --room-size K (10) --missed M (100) --timeout S (60): K x R\n"
          "        sessions subscribe, disconnect, miss M messages per room, reconnect at once\n"
          "        with x-since-offset/x-since-epoch; time and server CPU until all caught up\n"
          "        (chat peer only)\n",
          f);
}

static int num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0) return -1;
    *out = v;
    return 0;
}

static int parse_flags(int argc, char **argv, flags *f)
{
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!v || strncmp(k, "--", 2) != 0) goto bad;
        i++;
        double d = 0;
        int isnum = num(v, &d) == 0;
        if (!strcmp(k, "--mode")) f->mode = v;
        else if (!strcmp(k, "--peer")) f->peer = v;
        else if (!strcmp(k, "--redis")) f->redis = v;
        else if (!strcmp(k, "--prefix")) f->prefix = v;
        else if (!strcmp(k, "--channel")) f->channel = v;
        else if (!strcmp(k, "--url")) {
            if (f->nurls == MAX_URLS) goto bad;
            f->urls[f->nurls++] = v;
        } else if (!strcmp(k, "--pid")) {
            const char *eq = strchr(v, '=');
            long pid;
            if (!eq || f->watch.n == LG_MAX_PIDS || parse_long(eq + 1, 1, 1 << 30, &pid)) goto bad;
            f->watch.label[f->watch.n] = xstrndup(v, (size_t)(eq - v));
            f->watch.pid[f->watch.n++] = (pid_t)pid;
        } else if (!strcmp(k, "--rate")) {
            /* A comma-separated list: numbers (0 = flat out) or "N%" of the peak. */
            char *copy = xstrdup(v), *save = NULL;
            f->nphases = 0;
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                size_t tl = strlen(t);
                int pct = tl > 1 && t[tl - 1] == '%';
                if (pct) t[tl - 1] = '\0';
                double x;
                if (f->nphases == LG_MAX_PHASES || num(t, &x) || (pct && x <= 0)) { free(copy); goto bad; }
                f->phases[f->nphases++] = pct ? (lg_phase){0, x} : (lg_phase){x, 0};
            }
            free(copy);
        } else if (!strcmp(k, "--steps")) {
            char *copy = xstrdup(v), *save = NULL;
            f->nsteps = 0;
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                long n;
                if (f->nsteps == MAX_STEPS || parse_long(t, 1, 10000000, &n)) { free(copy); goto bad; }
                f->steps[f->nsteps++] = (size_t)n;
            }
            free(copy);
        } else if (!isnum) goto bad;
        else if (!strcmp(k, "--subs")) f->subs = (size_t)d;
        else if (!strcmp(k, "--pubs")) f->pubs = (size_t)d;
        else if (!strcmp(k, "--users")) f->users = (size_t)d;
        else if (!strcmp(k, "--rooms")) f->rooms = (size_t)d;
        else if (!strcmp(k, "--room-size")) f->room_size = (size_t)d;
        else if (!strcmp(k, "--concurrency")) f->concurrency = (size_t)d;
        else if (!strcmp(k, "--sources")) f->sources = (size_t)d;
        else if (!strcmp(k, "--window")) f->window = (unsigned)d;
        else if (!strcmp(k, "--size")) f->size = (unsigned)d;
        else if (!strcmp(k, "--warmup")) f->warmup = d;
        else if (!strcmp(k, "--duration")) f->duration = d;
        else if (!strcmp(k, "--drain")) f->drain = d;
        else if (!strcmp(k, "--settle")) f->settle = d;
        else if (!strcmp(k, "--hold")) f->hold = d;
        else if (!strcmp(k, "--factor") && d > 1) f->factor = d;
        else if (!strcmp(k, "--max-steps") && d >= 1) f->max_steps = (size_t)d;
        else if (!strcmp(k, "--min-delivered") && d <= 1) f->min_delivered = d;
        else if (!strcmp(k, "--max-p99-ms")) f->max_p99_ms = d;
        else if (!strcmp(k, "--missed") && d >= 1) f->missed = (size_t)d;
        else if (!strcmp(k, "--timeout")) f->timeout = d;
        else goto bad;
        continue;
    bad:
        fprintf(stderr, "loadgen: bad argument %s %s\n", k, v ? v : "");
        usage(stderr);
        return -1;
    }
    return 0;
}

/* Raise the fd limit to what `want` connections need, the hard limit too when we
 * may (CAP_SYS_RESOURCE). Returns how many connections fit under the limit we got,
 * keeping FD_RESERVE descriptors for /proc reads, epoll, Redis and stdio. */
#define FD_RESERVE 64
static size_t raise_nofile(size_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return want;
    rlim_t need = (rlim_t)want + FD_RESERVE;
    if (rl.rlim_max < need) {
        struct rlimit hard = {need, need};
        if (setrlimit(RLIMIT_NOFILE, &hard) == 0) return want;
    }
    if (rl.rlim_cur < need) {
        rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur >= need) return want;
    size_t fit = rl.rlim_cur > FD_RESERVE ? (size_t)rl.rlim_cur - FD_RESERVE : 0;
    fprintf(stderr, "loadgen: fd limit %lu (hard %lu) allows %zu of the %zu connections asked for\n",
            (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max, fit, want);
    return fit;
}

/* RabbitMQ needs no users: fill in room names only. */
static void rabbit_rooms(lg_users *u, size_t n, size_t room_size)
{
    memset(u, 0, sizeof *u);
    u->n = n;
    u->room_size = room_size ? room_size : (n ? n : 1);
    u->nrooms = n ? (n + u->room_size - 1) / u->room_size : 1;
    u->room = xcalloc(u->nrooms, sizeof *u->room);
    unsigned tag = (unsigned)(lg_now_ns() % 1000000u);
    for (size_t r = 0; r < u->nrooms; r++) snprintf(u->room[r], LG_ID_MAX, "lg%ur%zu", tag, r);
}

/* ---- redis-sub: the raw subscriber ceiling ------------------------------------------ */

static int mode_redis_sub(const flags *f)
{
    redis_url u;
    if (redis_url_parse(f->redis, &u) != 0) {
        fprintf(stderr, "loadgen: bad redis url %s\n", f->redis);
        return 1;
    }
    redisContext *c = redisConnect(u.host, u.port);
    if (!c || c->err) {
        fprintf(stderr, "loadgen: redis connect: %s\n", c ? c->errstr : "no memory");
        return 1;
    }
    redisReply *r = redisCommand(c, "SUBSCRIBE %s", f->channel);
    if (!r) {
        fprintf(stderr, "loadgen: SUBSCRIBE failed: %s\n", c->errstr);
        return 1;
    }
    freeReplyObject(r);
    fprintf(stderr, "loadgen: subscribed to %s\n", f->channel);
    uint64_t count = 0, first = 0, lastt = 0, bytes = 0;
    uint64_t start = lg_now_ns(), end = start + (uint64_t)(f->duration * 1e9);
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    for (;;) {
        void *rep = NULL;
        while (redisReaderGetReply(c->reader, &rep) == REDIS_OK && rep) {
            redisReply *m = rep;
            if (m->type == REDIS_REPLY_ARRAY && m->elements == 3) {
                if (!count) first = lg_now_ns();
                count++;
                bytes += m->element[2]->len;
            }
            freeReplyObject(m);
            rep = NULL;
        }
        uint64_t now = lg_now_ns();
        if (count) lastt = now;
        if (now >= end || (count && now - lastt > 1000000000u)) break;
        int n = poll(&pfd, 1, 100);
        if (n > 0 && redisBufferRead(c) != REDIS_OK) break;
        if (n == 0 && count) break; /* publisher finished */
    }
    double dt = (double)(lastt - first) / 1e9;
    printf("result ok=%d mode=redis-sub received=%" PRIu64 " bytes=%" PRIu64 " seconds=%.3f received_per_s=%.0f\n",
           count > 0, count, bytes, dt, dt > 0 ? (double)(count - 1) / dt : 0);
    redisFree(c);
    return count > 0 ? 0 : 1;
}

/* ---- main --------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    flags f = {.mode = "pubsub", .peer = "chat", .subs = 50, .pubs = 1, .window = 64, .size = 100,
               .warmup = 1, .duration = 3, .drain = 2, .settle = 1, .concurrency = 256, .users = 1,
               .rooms = 0, .room_size = 0, .channel = "lgbench", .factor = 1.5, .max_steps = 12,
               .min_delivered = 0.95, .max_p99_ms = 250, .missed = 100, .timeout = 60};
    f.redis = getenv("REDIS_URL") ? getenv("REDIS_URL") : "redis://127.0.0.1:6379/0";
    f.prefix = getenv("KEY_PREFIX") ? getenv("KEY_PREFIX") : "chat:";
    f.steps[0] = 1000;
    f.nsteps = 1;
    if (parse_flags(argc, argv, &f) != 0) return 2;
    log_init("loadgen", "warn");
    if (!strcmp(f.mode, "redis-sub")) return mode_redis_sub(&f);

    int is_pubsub = !strcmp(f.mode, "pubsub"), is_conns = !strcmp(f.mode, "conns"), is_prep = !strcmp(f.mode, "prep");
    int is_mix = !strcmp(f.mode, "mix"), is_storm = !strcmp(f.mode, "storm");
    if (!is_pubsub && !is_conns && !is_prep && !is_mix && !is_storm) {
        fprintf(stderr, "loadgen: unknown mode %s\n", f.mode);
        return 2;
    }
    int rabbit = !strcmp(f.peer, "rabbitmq");
    if (!rabbit && strcmp(f.peer, "chat") != 0) {
        fprintf(stderr, "loadgen: unknown peer %s\n", f.peer);
        return 2;
    }
    if (is_storm && rabbit) {
        fprintf(stderr, "loadgen: storm measures our relay's recovery; RabbitMQ has none\n");
        return 2;
    }
    if (!f.rooms) f.rooms = is_mix ? 1000 : is_storm ? 100 : 1;
    if ((is_mix || is_storm) && !f.room_size) f.room_size = 10;
    size_t total = is_pubsub ? f.subs + f.pubs : is_conns ? f.steps[f.nsteps - 1]
                 : is_mix || is_storm ? f.rooms * f.room_size : f.users;
    if (is_pubsub && (f.subs == 0 || f.pubs == 0)) {
        fprintf(stderr, "loadgen: pubsub needs --subs and --pubs above 0\n");
        return 2;
    }
    size_t room_size = is_pubsub ? total : f.room_size ? f.room_size : is_conns ? 10 : total;

    lg_ctx ctx = {.peer = rabbit ? LG_PEER_RABBIT : LG_PEER_CHAT, .ep = -1, .login = "guest",
                  .passcode = "guest", .dest_prefix = "/topic/", .msg_size = f.size};
    char err[256];
    uint64_t t = lg_now_ns();
    if (rabbit) {
        rabbit_rooms(&ctx.users, total, room_size);
    } else if (lg_prep(f.redis, f.prefix, total, room_size, is_prep || is_mix ? f.rooms : 1, &ctx.users, err,
                       sizeof err) != 0) {
        fprintf(stderr, "loadgen: preparing users: %s\n", err);
        return 1;
    }
    if (is_prep) {
        for (size_t i = 0; i < ctx.users.n; i++) printf("user id=%s token=%s\n", ctx.users.id[i], ctx.users.token[i]);
        for (size_t r = 0; r < ctx.users.nrooms; r++) printf("room id=%s\n", ctx.users.room[r]);
        lg_users_free(&ctx.users);
        return 0;
    }
    if (!rabbit)
        fprintf(stderr, "loadgen: prepared %zu users in %zu rooms in Redis in %.2f s\n", total, ctx.users.nrooms,
                (double)(lg_now_ns() - t) / 1e9);

    lg_target targets[MAX_URLS];
    if (f.nurls == 0) f.urls[f.nurls++] = rabbit ? "ws://127.0.0.1:15674/ws" : "ws://127.0.0.1:8081/ws/websocket";
    for (size_t i = 0; i < f.nurls; i++)
        if (lg_target_parse(f.urls[i], &targets[i]) != 0) {
            fprintf(stderr, "loadgen: bad url %s (want ws://IPv4:port/path)\n", f.urls[i]);
            return 2;
        }
    ctx.targets = targets;
    ctx.ntargets = f.nurls;
    /* The kernel's search for a free ephemeral port on bind() slows down as one source
     * address fills up (connects fell from 19k/s to 1.5k/s past 10,000 on one
     * address), so spread connections thinly: one source address per 2,500. */
    ctx.nsources = (unsigned)(f.sources ? f.sources : total / 2500 + 1);
    /* The storm opens each member session twice (slots are never reused) plus a
     * sender per room, but holds at most one of the two at a time. */
    size_t slots = is_storm ? 2 * total + f.rooms : total, fds = is_storm ? total + f.rooms : total;
    size_t fit = raise_nofile(fds);
    if (fit < fds && !is_conns) {
        fprintf(stderr, "loadgen: not enough file descriptors for %zu connections\n", fds);
        return 1;
    }
    if (lg_ctx_init(&ctx, is_conns ? fit : slots) != 0) return 1;

    int rc;
    if (is_pubsub) {
        if (f.nphases == 0) f.phases[f.nphases++] = (lg_phase){0, 0};
        lg_pubsub_opts o = {.subs = f.subs, .pubs = f.pubs, .phases = f.phases, .nphases = f.nphases, .window = f.window,
                            .warmup_s = f.warmup, .duration_s = f.duration, .drain_s = f.drain,
                            .concurrency = f.concurrency, .watch = &f.watch};
        rc = lg_bench_pubsub(&ctx, &o, stdout) == 0 ? 0 : 1;
    } else if (is_mix) {
        lg_mix_opts o = {.rooms = f.rooms, .room_size = f.room_size,
                         .rate0 = f.nphases && f.phases[0].rate > 0 ? f.phases[0].rate : 1000, .factor = f.factor,
                         .max_steps = f.max_steps, .settle_s = f.settle, .warmup_s = f.warmup, .duration_s = f.duration,
                         .drain_s = f.drain, .min_delivered = f.min_delivered, .max_p99_ms = f.max_p99_ms,
                         .concurrency = f.concurrency, .watch = &f.watch};
        rc = lg_bench_mix(&ctx, &o, stdout) == 0 ? 0 : 1;
    } else if (is_storm) {
        lg_storm_opts o = {.rooms = f.rooms, .room_size = f.room_size, .missed = f.missed, .timeout_s = f.timeout,
                           .concurrency = f.concurrency, .watch = &f.watch};
        rc = lg_bench_storm(&ctx, &o, stdout) == 0 ? 0 : 1;
    } else {
        lg_conns_opts o = {.steps = f.steps, .nsteps = f.nsteps, .settle_s = f.settle, .hold_s = f.hold,
                           .concurrency = f.concurrency, .watch = &f.watch};
        rc = lg_bench_conns(&ctx, &o, stdout) == 0 ? 0 : 1;
    }
    lg_ctx_free(&ctx);
    free(ctx.seq);
    free(ctx.sent);
    lg_hist_free(ctx.hist);
    lg_users_free(&ctx.users);
    for (size_t i = 0; i < f.watch.n; i++) free((char *)f.watch.label[i]);
    return rc;
}
