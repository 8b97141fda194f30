/* metrics.c - shared request counters and GET /api/metrics; see metrics.h. */
#include "metrics.h"
#include "buf.h"
#include "log.h"
#include "loopback.h"
#include "prom.h"
#include "router.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define AM_SLOTS 64
#define AM_ROUTES 24 /* routes in the table + 1 for "no route" must fit */
#define AM_MAGIC "chatam01"

/* The statuses this API answers with; anything else counts as "other". */
static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 411, 413, 415, 422, 429, 500, 503};
#define AM_STATUSES (sizeof statuses / sizeof statuses[0] + 1)

typedef struct am_slot {
    int32_t pid; /* owner; 0 = never used */
    int32_t pad;
    uint64_t requests[AM_ROUTES][AM_STATUSES];
    prom_hist latency[AM_ROUTES];
} am_slot;

typedef struct am_file {
    char magic[8];
    uint32_t slots, routes, statuses, size;
    am_slot slot[AM_SLOTS];
} am_file;

static am_file *shared;   /* the mapping (shared or private) */
static am_slot *mine;     /* our slot in it */
static int is_shared;
static buf scrape;        /* the last /api/metrics body (lives until the next one) */

/* The FastCGI socket's path + ".metrics", or "" when it is not a unix socket. With
 * max-procs > 1, lighttpd gives process i the socket "<socket>-i": the "-i" is
 * dropped so that every process of the fastcgi.server finds the same file. */
static void derive_path(int fd, char *out, size_t cap)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    out[0] = '\0';
    memset(&sa, 0, sizeof sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0 || sa.sun_family != AF_UNIX ||
        sa.sun_path[0] == '\0')
        return;
    size_t n = strnlen(sa.sun_path, sizeof sa.sun_path), d = n;
    while (d > 0 && sa.sun_path[d - 1] >= '0' && sa.sun_path[d - 1] <= '9') d--;
    if (d < n && d > 1 && sa.sun_path[d - 1] == '-') n = d - 1;
    snprintf(out, cap, "%.*s.metrics", (int)n, sa.sun_path);
}

/* Open and map path with a valid header (initialising it under an exclusive lock
 * when it is new or of another layout). NULL on failure (logged). */
static am_file *map_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_warn("metrics", "file=%s problem=%s", log_q(0, path), log_q(1, strerror(errno)));
        return NULL;
    }
    am_file *f = NULL;
    struct stat st;
    flock(fd, LOCK_EX);
    if (fstat(fd, &st) != 0) goto out;
    if ((size_t)st.st_size != sizeof(am_file)) {
        if (ftruncate(fd, 0) != 0 || ftruncate(fd, sizeof(am_file)) != 0) goto out;
    }
    f = mmap(NULL, sizeof *f, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (f == MAP_FAILED) {
        f = NULL;
        goto out;
    }
    if (memcmp(f->magic, AM_MAGIC, 8) != 0 || f->slots != AM_SLOTS || f->routes != AM_ROUTES ||
        f->statuses != AM_STATUSES || f->size != sizeof *f) {
        memset(f, 0, sizeof *f);
        f->slots = AM_SLOTS;
        f->routes = AM_ROUTES;
        f->statuses = AM_STATUSES;
        f->size = sizeof *f;
        memcpy(f->magic, AM_MAGIC, 8);
    }
out:
    if (!f) log_warn("metrics", "file=%s problem=%s", log_q(0, path), log_q(1, strerror(errno)));
    flock(fd, LOCK_UN);
    close(fd);
    return f;
}

/* Claim a slot: a never-used one, or one whose owner is gone. */
static am_slot *claim(am_file *f)
{
    int32_t me = (int32_t)getpid();
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < AM_SLOTS; i++) {
            am_slot *s = &f->slot[i];
            int32_t owner = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
            if (owner == me) return s;
            bool free_now = pass == 0 ? owner == 0 : (kill(owner, 0) != 0 && errno == ESRCH);
            if (!free_now) continue;
            if (__atomic_compare_exchange_n(&s->pid, &owner, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                return s;
        }
    }
    return NULL;
}

int am_init(const char *path, int listen_fd)
{
    size_t n;
    api_routes(&n);
    if (n + 1 > AM_ROUTES) {
        log_error("metrics", "problem=\"route table larger than AM_ROUTES\"");
        abort();
    }
    char derived[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
    if (!path || !*path) {
        derive_path(listen_fd, derived, sizeof derived);
        path = derived;
    }
    if (*path && (shared = map_file(path)) != NULL && (mine = claim(shared)) != NULL) {
        is_shared = 1;
        log_info("metrics", "file=%s slot=%td", log_q(0, path), mine - shared->slot);
        return 0;
    }
    if (shared && !mine) {
        log_warn("metrics", "file=%s problem=\"every slot is taken\"", log_q(0, path));
        munmap(shared, sizeof *shared);
    }
    shared = xcalloc(1, sizeof *shared);
    mine = &shared->slot[0];
    is_shared = 0;
    log_warn("metrics", "problem=\"no shared metrics file; /api/metrics counts this process only\"");
    return -1;
}

void am_free(void)
{
    if (shared && is_shared) munmap(shared, sizeof *shared);
    else free(shared);
    shared = NULL;
    mine = NULL;
    buf_free(&scrape);
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < AM_STATUSES - 1; i++)
        if (statuses[i] == status) return i;
    return AM_STATUSES - 1;
}

void am_count(size_t route, int status, int64_t us)
{
    if (!mine) return;
    size_t n;
    api_routes(&n);
    if (route > n) route = n;
    uint64_t v = us > 0 ? (uint64_t)us : 0;
    __atomic_fetch_add(&mine->requests[route][status_index(status)], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&mine->latency[route].bucket[prom_bucket(v)], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&mine->latency[route].sum_us, v, __ATOMIC_RELAXED);
}

/* ---- the scrape ----------------------------------------------------------------------- */

static uint64_t ld(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

static void write_all(buf *b)
{
    size_t n;
    const api_route *routes = api_routes(&n);
    static uint64_t req[AM_ROUTES][AM_STATUSES];
    static prom_hist lat[AM_ROUTES];
    memset(req, 0, sizeof req);
    memset(lat, 0, sizeof lat);
    size_t procs = 0;
    for (size_t s = 0; s < AM_SLOTS; s++) {
        const am_slot *sl = &shared->slot[s];
        int32_t owner = __atomic_load_n(&sl->pid, __ATOMIC_ACQUIRE);
        if (owner == 0) continue;
        if (kill(owner, 0) == 0 || errno != ESRCH) procs++;
        for (size_t r = 0; r <= n; r++) {
            for (size_t k = 0; k < AM_STATUSES; k++) req[r][k] += ld(&sl->requests[r][k]);
            for (size_t k = 0; k <= PROM_BUCKETS; k++) lat[r].bucket[k] += ld(&sl->latency[r].bucket[k]);
            lat[r].sum_us += ld(&sl->latency[r].sum_us);
        }
    }
    if (!is_shared) procs = 1;

    buf_reset(b);
    prom_family(b, "chat_api_processes", "gauge", "chat-api processes whose counters are in this total.");
    prom_sample(b, "chat_api_processes", NULL, 0, procs);
    const char *name = "chat_api_requests_total";
    prom_family(b, name, "counter", "API requests answered, by route and HTTP status (all chat-api processes).");
    for (size_t r = 0; r <= n; r++) {
        for (size_t k = 0; k < AM_STATUSES; k++) {
            if (!req[r][k]) continue;
            char code[16];
            if (k < AM_STATUSES - 1) snprintf(code, sizeof code, "%d", statuses[k]);
            else snprintf(code, sizeof code, "other");
            const char *l[] = {"route", r < n ? routes[r].name : "none", "status", code};
            prom_sample(b, name, l, 2, req[r][k]);
        }
    }
    name = "chat_api_request_duration_seconds";
    prom_family(b, name, "histogram", "Time from accepting an API request to its response, by route.");
    for (size_t r = 0; r <= n; r++) {
        const char *l[] = {"route", r < n ? routes[r].name : "none"};
        prom_histogram(b, name, l, 1, &lat[r]);
    }
}

chat_rc api_metrics(api_req *req)
{
    if (!loopback_text(req->peer))
        return api_fail(req, CHAT_EFORBIDDEN, "metrics are served to loopback clients only");
    write_all(&scrape);
    req->out_ctype = PROM_CONTENT_TYPE;
    return api_reply_raw(req, 200, buf_data(&scrape), scrape.len);
}
