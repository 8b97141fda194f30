/* pubsub.c - Pub/Sub routing between rds.c and rooms/sessions; see pubsub.h.
 * Deliberately not here: any state (rooms.c and session.c own it) or Redis I/O beyond
 * the two fixed SUBSCRIBEs on (re)connect. */
#include "pubsub.h"
#include "registry.h"
#include "keys.h"
#include "log.h"
#include "rooms.h"
#include "session.h"
#include "store.h"
#include "valid.h"

#include <stdbool.h>
#include <string.h>

/* Whether chan[0..len) is the channel spell() writes (keys.h spells every name). */
static int is_chan(const char *chan, size_t len, size_t (*spell)(char *, size_t))
{
    char want[KEYS_MAX];
    size_t n = spell(want, sizeof want);
    return n == len && memcmp(want, chan, len) == 0;
}

int ps_parse_left(const char *msg, size_t len, const char **room, size_t *rlen,
                  const char **user, size_t *ulen)
{
    const char *sp = memchr(msg, ' ', len);
    if (!sp) return -1;
    *room = msg;
    *rlen = (size_t)(sp - msg);
    *user = sp + 1;
    *ulen = len - *rlen - 1;
    return valid_id(*room, *rlen) && valid_id(*user, *ulen) ? 0 : -1;
}

static void on_message(const char *chan, size_t clen, const char *msg, size_t mlen)
{
    const char *id, *user;
    size_t n, ulen;
    if ((n = keys_chan_room_id(chan, clen, &id)) != 0) {
        rooms_on_message(id, n, msg, mlen);
    } else if (is_chan(chan, clen, keys_chan_revoked)) {
        sess_revoke(msg, mlen);
    } else if (is_chan(chan, clen, keys_chan_left)) {
        if (ps_parse_left(msg, mlen, &id, &n, &user, &ulen) == 0) rooms_user_left(id, n, user, ulen);
        else log_warn("pubsub", "problem=\"malformed left message\"");
    }
}

/* Set when the fixed channels are subscribed again after an outage and the command
 * connection could not take the re-checks yet; on_cmd_reup runs them. */
static bool recheck_due;

/* Logouts and REST leaves published while the Pub/Sub connection was down were never
 * heard: once both fixed channels are subscribed again (nothing more can be missed),
 * look up what may have changed meanwhile. */
static void recheck(void)
{
    if (!rds_cmd_ready()) {
        recheck_due = true;
        return;
    }
    recheck_due = false;
    sess_recheck_tokens();
    rooms_recheck_members();
}

static void on_subscribed(const char *chan, size_t len)
{
    const char *id;
    size_t n = keys_chan_room_id(chan, len, &id);
    if (n) rooms_on_subscribed(id, n);
    else if (is_chan(chan, len, keys_chan_left)) recheck(); /* subscribed after revoked */
}

static void on_cmd_reup(void)
{
    reg_kick(); /* registers again first if Redis forgot this relay */
    rooms_reassert();
    if (recheck_due) recheck();
}

static void on_unsubscribed(const char *chan, size_t len)
{
    const char *id;
    size_t n = keys_chan_room_id(chan, len, &id);
    if (n) rooms_on_unsubscribed(id, n);
}

/* Subscribe the fixed channels, then every room that has local subscribers. */
static void on_sub_up(void)
{
    store_subscribe_fixed();
    rooms_resubscribe();
}

static const rds_events events = {
    .on_message = on_message,
    .on_subscribed = on_subscribed,
    .on_unsubscribed = on_unsubscribed,
    .on_sub_up = on_sub_up,
    .on_sub_down = rooms_on_sub_down,
    .on_cmd_reup = on_cmd_reup,
};

const rds_events *ps_events(void)
{
    return &events;
}
