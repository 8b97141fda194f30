/* registry.h - this relay's entry in the relay registry, and the sweep of dead relays.
 *
 * Presence is counted per relay (common/scripts.c): P room:{id}:online[user] is the
 * number of relays holding a live subscription of the user to the room, and each
 * relay lists what it counted in P relay:{id}:holds. A relay stays registered in the
 * P relays sorted set, scored by the time (Redis' clock) its registration expires:
 * it refreshes it every PRESENCE_TTL/4 to now + PRESENCE_TTL*3/4. The same refresh
 * names the relays whose registration has expired (killed, lost machine, cut off for
 * longer than that); for each, this relay reads its holds and runs one script that
 * takes them back atomically: only the first of the surviving relays to run it finds
 * the dead relay still registered, so exactly one LEAVE goes out for each user whose
 * count reaches 0. A relay dies at worst just after a refresh: its registration
 * expires PRESENCE_TTL*3/4 later and the next refresh of a survivor, at most
 * PRESENCE_TTL/4 after that, sweeps it: within PRESENCE_TTL.
 *
 * A refresh that finds this relay's own registration missing (first start, Redis lost
 * its data, or it was swept while alive but cut off) registers it and re-counts
 * everything it holds (rooms_reassert), so Redis and the relay agree again.
 *
 * Deliberately not here: what is held (rooms.c), the scripts (common/scripts.c). */
#ifndef RELAY_REGISTRY_H
#define RELAY_REGISTRY_H

#include <uv.h>

struct relay_store;

/* Start the refresh timer on loop (first refresh at once). ttl_ms: PRESENCE_TTL. */
void reg_start(uv_loop_t *loop, const struct relay_store *store, unsigned ttl_ms);
/* The command connection is back: refresh now (re-counting what Redis forgot). */
void reg_kick(void);
/* Shutdown, after the last LEAVEs were sent: stop the timer and deregister. */
void reg_stop(void);

#endif
