/* keys.h - the Redis key schema: the only place that spells a key or channel name.
 *
 * Every key starts with the prefix given to keys_init() (KEY_PREFIX, default
 * "chat:"). Each function writes a NUL-terminated key into buf and returns its length,
 * or 0 when it does not fit (callers use KEYS_MAX-sized buffers and validated ids, so
 * 0 means a bug). IDs are validated before they reach this module.
 *
 *   P user:{id}            hash  id name email pwhash createdAt
 *   P user-email:{email}   string -> user id (email lower-cased)
 *   P session:{sha256hex}  string -> user id, with a TTL
 *   P room:{id}            hash  id name createdBy createdAt
 *   P rooms                zset  room id scored by createdAt
 *   P room:{id}:members    set   user ids
 *   P user:{id}:rooms      set   room ids
 *   P room:{id}:online     hash  user id -> number of relays holding a live subscription
 *                          of the user to the room
 *   P relays               zset  relay id scored by the Unix ms its registration expires
 *                          (refreshed every PRESENCE_TTL/4; see ws-relay/registry.h)
 *   P relay:{id}:holds     hash  "{roomId} {userId}" -> user name: the entries of the
 *                          room online hashes this relay counted (one per room and user)
 *   P room:{id}:history    stream, the newest HISTORY_SIZE stored messages; entry id
 *                          "{offset}-0", one field "m" holding the MESSAGE body
 *   P room:{id}:seq        string counter: the room's last offset
 *   P room:{id}:epoch      string naming the room's history (new when it was lost)
 *   P archive              stream, every stored (CHAT, FILE) message once more, for
 *                          chat-archiver (consumer group "archiver"); one field "m"
 *                          holding the MESSAGE body; trimmed to about
 *                          ARCHIVE_BACKLOG_MAX entries
 *   P login-fail:{email}:{addr}  string counter with a TTL (failed logins from one address)
 *   P rooms-version        string, set to a fresh value by every room create, join and
 *                          leave (validates the API's cached first page of GET /api/rooms)
 *   P file:{id}            hash  id roomId name size type uploaderId createdAt blob
 *                          [width height thumb] json (the File document as the API
 *                          answered the upload; the relay copies it into FILE messages)
 *   P blob:{sha256hex}     set   ids of the files whose bytes are that blob (a blob in
 *                          FILES_DIR is only ever removed when this set is empty)
 *   channel P room:{id}    Pub/Sub, one MESSAGE body (JSON) per message
 *   channel P revoked      Pub/Sub, sha256hex of each token revoked by logout
 *   channel P left         Pub/Sub, "{roomId} {userId}" when a user leaves a room over
 *                          REST, so relays end that user's subscriptions to it */
#ifndef CHAT_KEYS_H
#define CHAT_KEYS_H

#include <stddef.h>

#define KEYS_MAX 512

void keys_init(const char *prefix);
const char *keys_prefix(void);

size_t keys_user(char *buf, size_t cap, const char *user_id);
size_t keys_user_email(char *buf, size_t cap, const char *email);
size_t keys_session(char *buf, size_t cap, const char *token_hash_hex);
size_t keys_room(char *buf, size_t cap, const char *room_id);
size_t keys_rooms(char *buf, size_t cap);
size_t keys_room_members(char *buf, size_t cap, const char *room_id);
size_t keys_user_rooms(char *buf, size_t cap, const char *user_id);
size_t keys_room_online(char *buf, size_t cap, const char *room_id);
size_t keys_relays(char *buf, size_t cap);
size_t keys_relay_holds(char *buf, size_t cap, const char *relay_id);
size_t keys_room_history(char *buf, size_t cap, const char *room_id);
size_t keys_room_seq(char *buf, size_t cap, const char *room_id);
size_t keys_room_epoch(char *buf, size_t cap, const char *room_id);
size_t keys_archive_feed(char *buf, size_t cap);
size_t keys_login_fail(char *buf, size_t cap, const char *email, const char *addr);
size_t keys_rooms_version(char *buf, size_t cap);
size_t keys_file(char *buf, size_t cap, const char *file_id);
size_t keys_blob(char *buf, size_t cap, const char *sha256_hex);
size_t keys_chan_room(char *buf, size_t cap, const char *room_id);
size_t keys_chan_revoked(char *buf, size_t cap);
size_t keys_chan_left(char *buf, size_t cap);

/* For a message on channel P room:{id}: point *id at the room id inside chan and
 * return its length, or 0 when chan is not a room channel of this prefix. */
size_t keys_chan_room_id(const char *chan, size_t len, const char **id);

#endif
