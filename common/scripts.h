/* scripts.h - every Lua script the programs run in Redis, in one place.
 *
 * Each script takes every key it touches through KEYS (none is built inside Lua, so
 * the key schema lives only in keys.c and a script's keys are visible to anything that
 * routes by key); channels and values come through ARGV. The comment above each
 * script names its KEYS, ARGV and reply. fcgi-api/store*.c and ws-relay/store.c run
 * them with EVALSHA (SCRIPT LOAD first, EVAL again after NOSCRIPT).
 *
 * Deliberately not here: when a script is run, and what its reply means to a caller. */
#ifndef CHAT_SCRIPTS_H
#define CHAT_SCRIPTS_H

/* ---- the relay (ws-relay/store.c) ---- */
extern const char script_send[];
extern const char script_send_nohistory[]; /* HISTORY_WRITES=0: benchmark only */
extern const char script_sub_check[];
extern const char script_presence[];
extern const char script_presence_reassert[];
extern const char script_relay_alive[];
extern const char script_relay_sweep[];
extern const char script_relay_gone[];

/* ---- the API (fcgi-api/store.c, store_rooms.c) ---- */
extern const char script_signup[];
extern const char script_revoke[];
extern const char script_login_fail[];
extern const char script_room_create[];
extern const char script_room_join[];
extern const char script_room_leave[];
extern const char script_rooms_page[];
extern const char script_history[];
extern const char script_file_create[];

#endif
