/* scripts.c - the Lua sources; see scripts.h. */
#include "scripts.h"

/* ---- relay ------------------------------------------------------------------------ */

/* The part the two send scripts below share: the deadline, the membership check, the
 * epoch (a new one when the history's keys are gone), the next offset and the body. */
#define SEND_SCRIPT_HEAD \
    "local t = redis.call('TIME')\n" \
    "if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[5]) then return -2 end\n" \
    "if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -1 end\n" \
    "local e = redis.call('GET', KEYS[4])\n" \
    "if not e or redis.call('EXISTS', KEYS[3]) == 0 then\n" \
    "  e = ARGV[4]\n" \
    "  redis.call('SET', KEYS[4], e)\n" \
    "  redis.call('DEL', KEYS[3], KEYS[5])\n" \
    "end\n" \
    "local n = redis.call('INCR', KEYS[3])\n" \
    "local body = string.sub(ARGV[2], 1, -2) .. ',\"offset\":' .. n .. ',\"epoch\":\"' .. e .. '\"}'\n"

/* KEYS[1] room members set, KEYS[2] room channel (a channel, passed as a key so the
 * script's whole footprint is declared), KEYS[3] room seq, KEYS[4] room epoch,
 * KEYS[5] room history; ARGV[1] user id, ARGV[2] the MESSAGE body (a JSON object
 * without offset and epoch), ARGV[3] HISTORY_SIZE, ARGV[4] a fresh epoch value,
 * ARGV[5] a deadline in Unix ms. -2 when Redis runs it after the deadline (the relay
 * has told its client "unavailable" by then: a hung Redis that resumes must not
 * publish what was refused), -1 when the user is not a member; else {offset, epoch}.
 * In one atomic step: the
 * membership check, the room's next offset (a history whose keys are gone starts a
 * new epoch at offset 1), the body completed with "offset" and "epoch", appended to
 * the history (entry id "{offset}-0", trimmed to HISTORY_SIZE) and published. So every
 * relay agrees on one order, and what is published is exactly what is stored.
 * KEYS[6] the archive feed (a stream), ARGV[6] ARCHIVE_BACKLOG_MAX: the stored body is
 * also appended there (one field "m", trimmed to about that many entries) for
 * chat-archiver, in the same atomic step. */
const char script_send[] =
    SEND_SCRIPT_HEAD
    "redis.call('XADD', KEYS[5], 'MAXLEN', ARGV[3], n .. '-0', 'm', body)\n"
    "redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[6], '*', 'm', body)\n"
    "redis.call('PUBLISH', KEYS[2], body)\n"
    "return {n, e}\n";

/* For the history on/off benchmark only (HISTORY_WRITES=0, docs/CONFIG.md): the same
 * KEYS, ARGV and reply as script_send, the same offsets, epochs and published body,
 * but nothing is stored (no XADD: no history, no recovery, nothing to archive). Kept
 * beside script_send so that the benchmark measures exactly what storing costs. */
const char script_send_nohistory[] =
    SEND_SCRIPT_HEAD
    "redis.call('PUBLISH', KEYS[2], body)\n"
    "return {n, e}\n";

/* KEYS[1] room members set, KEYS[2] room epoch, KEYS[3] room seq, KEYS[4] room
 * history; ARGV[1] user id, ARGV[2] the offset after which to read (-1: read
 * nothing), ARGV[3] how many entries at most. -1 when the user is not a member; else
 * {epoch or "", newest offset or 0, then offset and body of each stored message after
 * ARGV[2], oldest first}. One atomic step: the newest offset and the entries agree. */
const char script_sub_check[] =
    "if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -1 end\n"
    "local e = redis.call('GET', KEYS[2]) or ''\n"
    "local n = tonumber(redis.call('GET', KEYS[3]) or '0')\n"
    "local out = {e, n}\n"
    "local after = tonumber(ARGV[2])\n"
    "if e ~= '' and after >= 0 and after < n then\n"
    "  local r = redis.call('XRANGE', KEYS[4], (after + 1) .. '-0', '+', 'COUNT', ARGV[3])\n"
    "  for i = 1, #r do\n"
    "    out[#out + 1] = tonumber(string.match(r[i][1], '^(%d+)'))\n"
    "    out[#out + 1] = r[i][2][2]\n"
    "  end\n"
    "end\n"
    "return out\n";

/* Presence is counted per relay: P room:{id}:online[user] is the number of relays that
 * hold a live subscription of the user to the room, and each relay lists what it
 * counted in its P relay:{id}:holds hash ("{room} {user}" -> name), so that when it
 * dies another relay can take exactly its share back (script_relay_sweep). Every
 * script below keeps the two in step in one atomic step. */

/* KEYS[1] room online hash, KEYS[2] room channel, KEYS[3] this relay's holds hash,
 * KEYS[4] relays zset; ARGV[1] user id, ARGV[2] +1 or -1, ARGV[3] the JOIN or LEAVE
 * body, ARGV[4] the holds field "{room} {user}", ARGV[5] the user's name, ARGV[6] this
 * relay's id, ARGV[7] PRESENCE_TTL in ms. +1 counts the user once for this relay (a
 * repeat changes nothing) and publishes JOIN when the total becomes 1; -1 takes this
 * relay's count back (nothing when it holds none: a sweep took it already) and
 * publishes LEAVE when the total becomes 0. A relay that counts someone while it is
 * not registered (it was swept while alive) registers, so what it holds is always
 * found by a sweep. Returns the new total, or -1 when nothing changed. */
const char script_presence[] =
    "local n\n"
    "if tonumber(ARGV[2]) > 0 then\n"
    "  if redis.call('HSETNX', KEYS[3], ARGV[4], ARGV[5]) == 0 then return -1 end\n"
    "  if not redis.call('ZSCORE', KEYS[4], ARGV[6]) then\n"
    "    local t = redis.call('TIME')\n"
    "    redis.call('ZADD', KEYS[4], tonumber(t[1]) * 1000 + tonumber(ARGV[7]), ARGV[6])\n"
    "  end\n"
    "  n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)\n"
    "  if n == 1 then redis.call('PUBLISH', KEYS[2], ARGV[3]) end\n"
    "else\n"
    "  if redis.call('HDEL', KEYS[3], ARGV[4]) == 0 then return -1 end\n"
    "  n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)\n"
    "  if n <= 0 then\n"
    "    redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "    if n == 0 then redis.call('PUBLISH', KEYS[2], ARGV[3]) end\n"
    "  end\n"
    "end\n"
    "return n\n";

/* KEYS[1] room online hash, KEYS[2] room channel, KEYS[3] this relay's holds hash;
 * ARGV[1] user id, ARGV[2] the holds field, ARGV[3] the name, ARGV[4] a JOIN body.
 * After Redis lost data or a sweep took this relay's holdings while it was alive:
 * count the user again for this relay if Redis no longer has it, publishing JOIN when
 * the total becomes 1 (the others may have seen a LEAVE). 1 when re-added, else 0. */
const char script_presence_reassert[] =
    "if redis.call('HSETNX', KEYS[3], ARGV[2], ARGV[3]) == 0 then return 0 end\n"
    "if redis.call('HINCRBY', KEYS[1], ARGV[1], 1) == 1 then\n"
    "  redis.call('PUBLISH', KEYS[2], ARGV[4])\n"
    "end\n"
    "return 1\n";

/* KEYS[1] relays zset; ARGV[1] this relay's id, ARGV[2] how long the registration
 * lasts (ms), ARGV[3] how many expired relays to name at most. Refreshes this relay's
 * registration to Redis' now + ARGV[2] and returns {1 when it was missing (first
 * start, swept, or Redis lost it) else 0, the ids of expired relays...}. Redis' clock
 * is the only one used, so relays' clocks need not agree. */
const char script_relay_alive[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local out = {redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])}\n"
    "local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[3]))\n"
    "for i = 1, #dead do out[#out + 1] = dead[i] end\n"
    "return out\n";

/* KEYS[1] relays zset, KEYS[2] the dead relay's holds hash, then for each of its rooms
 * KEYS[2+2i-1] the room online hash and KEYS[2+2i] the room channel; ARGV[1] the dead
 * relay's id, ARGV[2] the number of rooms R, ARGV[3..2+R] the room ids in KEYS order,
 * then pairs (holds field, LEAVE body) for every field the caller read. Takes the
 * dead relay's holdings back in one step, so of several relays sweeping the same dead
 * one exactly one does it: -1 when the relay is not (or no longer) expired, -2 when
 * the holds hash has a field the caller did not pass a room or body for (it read an
 * older state: read again); else every held count is decremented, LEAVE is published
 * for each user whose total reaches 0, the hash and the registration are deleted,
 * and the number of LEAVEs is returned. */
const char script_relay_sweep[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local s = redis.call('ZSCORE', KEYS[1], ARGV[1])\n"
    "if not s or tonumber(s) >= now then return -1 end\n"
    "local nr = tonumber(ARGV[2])\n"
    "local room, body = {}, {}\n"
    "for i = 1, nr do room[ARGV[2 + i]] = i end\n"
    "for i = 3 + nr, #ARGV - 1, 2 do body[ARGV[i]] = ARGV[i + 1] end\n"
    "local h = redis.call('HKEYS', KEYS[2])\n"
    "local todo = {}\n"
    "for i = 1, #h do\n"
    "  local r, u = string.match(h[i], '^(%S+) (%S+)$')\n"
    "  if not r or not room[r] or not body[h[i]] then return -2 end\n"
    "  todo[#todo + 1] = {room[r], u, body[h[i]]}\n"
    "end\n"
    "local leaves = 0\n"
    "for i = 1, #todo do\n"
    "  local k = todo[i][1]\n"
    "  local n = redis.call('HINCRBY', KEYS[1 + 2 * k], todo[i][2], -1)\n"
    "  if n <= 0 then\n"
    "    redis.call('HDEL', KEYS[1 + 2 * k], todo[i][2])\n"
    "    if n == 0 then\n"
    "      redis.call('PUBLISH', KEYS[2 + 2 * k], todo[i][3])\n"
    "      leaves = leaves + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call('DEL', KEYS[2])\n"
    "redis.call('ZREM', KEYS[1], ARGV[1])\n"
    "return leaves\n";

/* KEYS[1] relays zset, KEYS[2] this relay's holds hash; ARGV[1] its id. A relay that
 * stops: deregister when it holds nothing any more (1); else (its LEAVEs could not be
 * run) mark it expired now so the next sweep takes the rest (0). */
const char script_relay_gone[] =
    "if redis.call('HLEN', KEYS[2]) == 0 then\n"
    "  redis.call('ZREM', KEYS[1], ARGV[1])\n"
    "  return 1\n"
    "end\n"
    "redis.call('ZADD', KEYS[1], 0, ARGV[1])\n"
    "return 0\n";

/* ---- API: users and sessions ------------------------------------------------------- */

/* KEYS: user-email, user, session. ARGV: id name email pwhash createdAt ttl.
 * Claims the email first; when it is taken nothing else happens. 1, or 0 (taken). */
const char script_signup[] =
    "if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end\n"
    "redis.call('HSET', KEYS[2], 'id', ARGV[1], 'name', ARGV[2], 'email', ARGV[3],\n"
    "           'pwhash', ARGV[4], 'createdAt', ARGV[5])\n"
    "redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[6])\n"
    "return 1\n";

/* KEYS: session. ARGV: revoked channel, token hash. Deletes the session and announces
 * it in one step. */
const char script_revoke[] =
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('PUBLISH', ARGV[1], ARGV[2])\n"
    "return 1\n";

/* KEYS: counter. ARGV: window seconds. A counter that somehow lost its TTL gets one
 * again, so an address is never locked out for good. Returns the count. */
const char script_login_fail[] =
    "local n = redis.call('INCR', KEYS[1])\n"
    "if n == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end\n"
    "return n\n";

/* ---- API: rooms ----------------------------------------------------------------------
 * Every write that changes what GET /api/rooms shows (a new room, a changed member
 * count) also sets the rooms version key to a fresh value in the same atomic step
 * (page caches in fcgi-api/rooms.c are valid only while it is unchanged). */

/* KEYS: room, rooms, members, user rooms, rooms version.
 * ARGV: id name createdBy createdAt new-version. 1, or 0 (id taken). */
const char script_room_create[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'id', ARGV[1], 'name', ARGV[2], 'createdBy', ARGV[3], 'createdAt', ARGV[4])\n"
    "redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])\n"
    "redis.call('SADD', KEYS[3], ARGV[3])\n"
    "redis.call('SADD', KEYS[4], ARGV[1])\n"
    "redis.call('SET', KEYS[5], ARGV[5])\n"
    "return 1\n";

/* KEYS: room, members, user rooms, rooms version. ARGV: user id, room id, new-version.
 * -1 when the room does not exist, else {memberCount, id, name, createdBy, createdAt}.
 * A repeated join changes nothing, so it keeps the version (and the caches). */
const char script_room_join[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
    "if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then redis.call('SET', KEYS[4], ARGV[3]) end\n"
    "redis.call('SADD', KEYS[3], ARGV[2])\n"
    "local h = redis.call('HMGET', KEYS[1], 'id', 'name', 'createdBy', 'createdAt')\n"
    "return {redis.call('SCARD', KEYS[2]), h[1], h[2], h[3], h[4]}\n";

/* KEYS: room, members, user rooms, rooms version. ARGV: user id, room id, "left"
 * channel, new-version. -1 when the room does not exist, 0 when the user was not a
 * member, 1. A real leave is announced as "{roomId} {userId}" so relays end that
 * user's subscriptions to the room. */
const char script_room_leave[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
    "local n = redis.call('SREM', KEYS[2], ARGV[1])\n"
    "redis.call('SREM', KEYS[3], ARGV[2])\n"
    "if n == 1 then\n"
    "  redis.call('SET', KEYS[4], ARGV[4])\n"
    "  redis.call('PUBLISH', ARGV[3], ARGV[2] .. ' ' .. ARGV[1])\n"
    "end\n"
    "return n\n";

/* KEYS: rooms, rooms version. ARGV: count, new-version [, score, id]. The ids of up to
 * count + 1 rooms in newest-first order (score descending, then id descending by
 * bytes, which is how ZREVRANGEBYSCORE orders ties) strictly after (score, id), or
 * from the newest without them, and the rooms version they were read at (set to
 * new-version when there is none yet): {version, id...}. The caller loads the rooms
 * themselves by their keys. Ids are compared byte by byte because Lua's `<` follows
 * the server's locale. */
const char script_rooms_page[] =
    "local n = tonumber(ARGV[1])\n"
    "local ver = redis.call('GET', KEYS[2])\n"
    "if not ver then ver = ARGV[2]; redis.call('SET', KEYS[2], ver) end\n"
    "local ids\n"
    "if ARGV[3] == nil then\n"
    "  ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '-inf', 'LIMIT', 0, n + 1)\n"
    "else\n"
    "  local function before(a, b)\n"
    "    for i = 1, math.min(#a, #b) do\n"
    "      local x, y = a:byte(i), b:byte(i)\n"
    "      if x ~= y then return x < y end\n"
    "    end\n"
    "    return #a < #b\n"
    "  end\n"
    "  ids = {}\n"
    "  local ties = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[3], ARGV[3])\n"
    "  for i = 1, #ties do\n"
    "    if #ids <= n and before(ties[i], ARGV[4]) then ids[#ids + 1] = ties[i] end\n"
    "  end\n"
    "  if #ids <= n then\n"
    "    local rest = redis.call('ZREVRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], '-inf', 'LIMIT', 0, n + 1 - #ids)\n"
    "    for i = 1, #rest do ids[#ids + 1] = rest[i] end\n"
    "  end\n"
    "end\n"
    "local out = {ver}\n"
    "for i = 1, #ids do out[#out + 1] = ids[i] end\n"
    "return out\n";

/* ---- API: history -------------------------------------------------------------------- */

/* KEYS: members, room, epoch, seq, history. ARGV: user id, mode ("newest", "before",
 * "after"), offset, limit. -2 when the room does not exist, -1 when the user is not a
 * member; else {epoch or "", newest offset or 0, the oldest offset still in the
 * history or 0, then offset and body of each message} in ascending offset order: the
 * newest limit messages, or the newest limit older than offset ("before"), or the
 * oldest limit newer than offset ("after"). One atomic step, so the page, the oldest
 * and the newest offset agree (the API continues below the oldest in the archive). */
const char script_history[] =
    "if redis.call('EXISTS', KEYS[2]) == 0 then return -2 end\n"
    "if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -1 end\n"
    "local first, lo = redis.call('XRANGE', KEYS[5], '-', '+', 'COUNT', 1), 0\n"
    "if #first > 0 then lo = tonumber(string.match(first[1][1], '^(%d+)')) end\n"
    "local out = {redis.call('GET', KEYS[3]) or '', tonumber(redis.call('GET', KEYS[4]) or '0'), lo}\n"
    "local off, lim, r = tonumber(ARGV[3]), tonumber(ARGV[4]), {}\n"
    "local function put(e)\n"
    "  out[#out + 1] = tonumber(string.match(e[1], '^(%d+)'))\n"
    "  out[#out + 1] = e[2][2]\n"
    "end\n"
    "if ARGV[2] == 'after' then\n"
    "  r = redis.call('XRANGE', KEYS[5], '(' .. off .. '-0', '+', 'COUNT', lim)\n"
    "  for i = 1, #r do put(r[i]) end\n"
    "else\n"
    "  if ARGV[2] == 'newest' then r = redis.call('XREVRANGE', KEYS[5], '+', '-', 'COUNT', lim)\n"
    "  elseif off > 1 then r = redis.call('XREVRANGE', KEYS[5], '(' .. off .. '-0', '-', 'COUNT', lim) end\n"
    "  for i = #r, 1, -1 do put(r[i]) end\n"
    "end\n"
    "return out\n";

/* ---- API: files ---------------------------------------------------------------------- */

/* KEYS: room members, file, blob. ARGV: user id, then field/value pairs of the file
 * hash (an even number of them). -1 when the user is not a member (nothing written);
 * else 1. In one step the file record and the blob's reference to it, so a blob with
 * an empty reference set is never one a file points at. */
const char script_file_create[] =
    "if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -1 end\n"
    "redis.call('HSET', KEYS[2], unpack(ARGV, 2))\n"
    "redis.call('SADD', KEYS[3], redis.call('HGET', KEYS[2], 'id'))\n"
    "return 1\n";
