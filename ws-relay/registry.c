/* registry.c - the relay registry refresh and the sweep of dead relays; see
 * registry.h. */
#include "registry.h"
#include "buf.h"
#include "log.h"
#include "msg.h"
#include "rooms.h"
#include "store.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static uv_timer_t timer;
static bool started, refreshing;
static unsigned sweeps; /* sweeps in flight; new ones wait for the next refresh */
static const relay_store *store;

/* ---- the sweep of one dead relay ------------------------------------------------------ */

typedef struct sweep {
    char id[65];
} sweep;

static void swept(void *ud, chat_rc rc, long long v)
{
    sweep *sw = ud;
    sweeps--;
    if (rc != CHAT_OK) log_warn("presence", "action=sweep relay=%s problem=\"redis unavailable\"", sw->id);
    else if (v == -2) log_info("presence", "action=sweep relay=%s result=changed-read-again", sw->id);
    else if (v >= 0) log_info("presence", "action=sweep relay=%s leaves=%lld", sw->id, v);
    /* -1: another relay swept it first, or it came back */
    free(sw);
}

/* Index of room in rooms[0..*n), added when new. */
static size_t room_index(const char **rooms, size_t *n, const char *room)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(rooms[i], room) == 0) return i;
    rooms[*n] = room;
    return (*n)++;
}

/* The dead relay's holdings: a LEAVE body for each, then the script. */
static void got_holdings(void *ud, chat_rc rc, const char *const *fields, const char *const *names,
                         size_t n)
{
    sweep *sw = ud;
    if (rc != CHAT_OK) {
        swept(sw, rc, 0);
        return;
    }
    char **room_ids = xcalloc(n + 1, sizeof *room_ids);
    const char **rooms = xcalloc(n + 1, sizeof *rooms), **fl = xcalloc(n + 1, sizeof *fl);
    const char **bodies = xcalloc(n + 1, sizeof *bodies);
    size_t *blens = xcalloc(n + 1, sizeof *blens), nrooms = 0, k = 0;
    buf *b = xcalloc(n + 1, sizeof *b);
    for (size_t i = 0; i < n; i++) {
        const char *sp = strchr(fields[i], ' ');
        if (!sp || sp == fields[i] || !sp[1]) continue; /* the script answers -2 */
        room_ids[k] = xstrndup(fields[i], (size_t)(sp - fields[i]));
        room_index(rooms, &nrooms, room_ids[k]);
        buf_init(&b[k], 0);
        msg_presence_body(&b[k], false, room_ids[k], sp + 1, names[i]);
        fl[k] = fields[i];
        bodies[k] = buf_data(&b[k]);
        blens[k] = b[k].len;
        k++;
    }
    if (store->relay_sweep(sw->id, rooms, nrooms, fl, bodies, blens, k, swept, sw) != CHAT_OK)
        swept(sw, CHAT_EUNAVAIL, 0);
    for (size_t i = 0; i < k; i++) {
        free(room_ids[i]);
        buf_free(&b[i]);
    }
    free(b);
    free(blens);
    free(bodies);
    free(fl);
    free(rooms);
    free(room_ids);
}

static void sweep_start(const char *id)
{
    sweep *sw = xcalloc(1, sizeof *sw);
    snprintf(sw->id, sizeof sw->id, "%s", id);
    sweeps++;
    log_info("presence", "action=sweep-start relay=%s", sw->id);
    if (store->relay_holdings(sw->id, got_holdings, sw) != CHAT_OK) swept(sw, CHAT_EUNAVAIL, 0);
}

/* ---- the refresh ------------------------------------------------------------------------ */

static void refreshed(void *ud, chat_rc rc, bool added, const char *const *dead, size_t n)
{
    (void)ud;
    refreshing = false;
    if (rc != CHAT_OK) return; /* logged by the store; the next tick tries again */
    if (added) {
        log_info("presence", "action=register");
        rooms_reassert();
    }
    if (sweeps) return;
    for (size_t i = 0; i < n; i++) sweep_start(dead[i]);
}

static void refresh(void)
{
    if (!started || refreshing || !store->ready()) return;
    if (store->relay_alive(refreshed, NULL) == CHAT_OK) refreshing = true;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    refresh();
}

void reg_start(uv_loop_t *loop, const relay_store *st, unsigned ttl_ms)
{
    store = st;
    unsigned period = ttl_ms / 4;
    if (period < 50) period = 50;
    uv_timer_init(loop, &timer);
    uv_timer_start(&timer, on_tick, 0, period);
    started = true;
}

void reg_kick(void)
{
    refresh();
}

static void timer_closed(uv_handle_t *h) { (void)h; }

void reg_stop(void)
{
    if (!started) return;
    started = false;
    uv_timer_stop(&timer);
    uv_close((uv_handle_t *)&timer, timer_closed);
    if (store->relay_gone(NULL, NULL) != CHAT_OK)
        log_warn("presence", "action=deregister problem=\"redis unavailable; the next sweep clears it\"");
}
