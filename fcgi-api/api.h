/* api.h - what the chat-api modules share: limits, the configuration read at start,
 * the per-request context and the handler signature, and the handlers themselves.
 *
 * A request flows main.c -> router.c (which handler) -> http.c (body) -> sessions.c
 * (who is asking) -> a handler in users.c / sessions.c / rooms.c -> http.c (response).
 * Handlers never write to FastCGI and never pick an HTTP status for an error: they
 * return a chat_rc and leave a message in the context with api_fail(); http.c maps it.
 * This header deliberately knows nothing about libfcgi. */
#ifndef CHAT_API_H
#define CHAT_API_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "redis.h"
#include "result.h"
#include "token.h"

#define API_BODY_MAX 16384 /* request body bytes (contract: 16 KiB) */
#define API_ID_MAX 64      /* longest id accepted anywhere (valid_id) */
#define API_NEW_ID_LEN 16  /* length of the ids this API creates */
#define API_PARAMS_MAX 2   /* path parameters per route */
#define API_NAME_MAX_CP 50
#define API_ROOM_NAME_MAX_CP 100
#define API_EMAIL_MAX 254
#define API_PASSWORD_MIN_CP 8
#define API_PASSWORD_MAX_CP 128
#define API_PAGE_DEFAULT 20
#define API_PAGE_MAX 100
#define API_VERSION_LEN 27 /* rooms version values this API writes (at most) */
#define API_VERSION_MAX 64 /* longest rooms version a page cache accepts */
#define API_FILE_NAME_MAX_CP 255 /* file names: 1..255 code points */

/* Read once at start (main.c) from cfg_* and never changed afterwards. */
typedef struct api_cfg {
    long session_ttl;          /* SESSION_TTL seconds */
    long login_fail_limit;     /* LOGIN_FAIL_LIMIT failures ... */
    long login_fail_window;    /* ... per LOGIN_FAIL_WINDOW seconds, then 429 */
    unsigned long long pw_ops; /* PWHASH_OPSLIMIT */
    size_t pw_mem;             /* PWHASH_MEMLIMIT bytes */
    long redis_timeout_ms;     /* REDIS_TIMEOUT_MS */
    long long file_max;        /* FILE_MAX bytes per uploaded file */
    long long pixels_max;      /* FILE_PIXELS_MAX: larger images get no thumbnail */
    const char *files_dir;     /* FILES_DIR, absolute (owned by main.c) */
    const char *archive_url;   /* ARCHIVE_URL (search, history past Redis) */
} api_cfg;

/* Route flags. API_ROOMS_VERSION: api_auth() also reads the rooms version (for the
 * room list's page cache) in the same Redis command as the session. API_FILE: the
 * body is a file of up to FILE_MAX bytes that the handler reads itself, in chunks,
 * with api_body_read() (http.c checks only its length first). */
enum { API_AUTH = 1, API_BODY = 2, API_ROOMS_VERSION = 4, API_FILE = 8 };

/* One request. Everything in it is owned by it and released by api_req_clear(),
 * except redis and cfg (owned by main.c) and the FastCGI strings method, path and
 * query point into (owned by libfcgi until FCGX_Finish_r). */
typedef struct api_req {
    const char *method;
    const char *uri;           /* REQUEST_URI as sent: path plus optional ?query */
    const char *query;         /* after '?', or "" */
    const char *authorization; /* Authorization header or NULL */
    const char *peer;          /* the client's address as lighttpd saw it (REMOTE_ADDR), or "-" */
    char params[API_PARAMS_MAX][API_ID_MAX + 1];
    size_t nparams;
    json_object *body; /* parsed body for API_BODY routes, else NULL */
    void *body_in;        /* API_FILE routes: the body stream (http.c's business) */
    long long body_len;   /* API_FILE routes: Content-Length, or -1 when not given */
    rconn *redis;
    const api_cfg *cfg;

    unsigned route_flags;

    /* Set by api_auth(); rooms_version only for API_ROOMS_VERSION routes ("" when
     * unknown). */
    char user_id[API_ID_MAX + 1];
    char token_hash[TOKEN_HASH_LEN + 1];
    char rooms_version[API_VERSION_MAX + 1];

    /* The outcome: on success status + out (NULL for 204); on error err holds the
     * message, allow the Allow header (405), retry_after the seconds for 429.
     * out_raw (with out NULL) is a ready JSON body borrowed from the handler's
     * cache, valid until the response is written. */
    int status;
    json_object *out;
    const char *out_raw;
    size_t out_raw_len;
    const char *out_ctype; /* Content-Type of out_raw; NULL: JSON */
    char *out_owned;   /* a body built by the handler, freed with the request */
    /* A file lighttpd sends (X-Sendfile): its absolute path and the header lines
     * (each ending in CRLF) to send with it; both owned, NULL when not a file. */
    char *out_sendfile;
    char *out_headers;
    char err[200];
    char allow[64];
    long retry_after;
} api_req;

typedef chat_rc (*api_handler)(api_req *req);

/* Record an error message (printf-style) in req and return rc, so handlers can write
 * `return api_fail(req, CHAT_EINVALID, "name %s", why);`. Defined in http.c. */
chat_rc api_fail(api_req *req, chat_rc rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Set the success response; req takes ownership of body (NULL for no body). */
chat_rc api_reply(api_req *req, int status, json_object *body);
/* Set a success response whose body is the ready JSON text body[0..len), which must
 * stay valid until the response is written (req does not own it). */
chat_rc api_reply_raw(api_req *req, int status, const char *body, size_t len);
/* Answer with the file at path (absolute, inside FILES_DIR), sent by lighttpd, with
 * the extra header lines headers ("Name: value\r\n"...); both are copied. */
chat_rc api_reply_sendfile(api_req *req, const char *path, const char *headers);
/* API_FILE routes: read up to cap bytes of the body into dst. Returns the count, 0 at
 * its end, -1 on a read error. Defined in http.c. */
long api_body_read(api_req *req, char *dst, size_t cap);
/* Release what req owns and zero it (safe to call twice). */
void api_req_clear(api_req *req);

/* Middleware (sessions.c): Bearer token -> session -> req->user_id. CHAT_OK,
 * CHAT_EUNAUTH or CHAT_EUNAVAIL. */
chat_rc api_auth(api_req *req);

/* Handlers, one per route (see the table in router.c). */
chat_rc api_users_signup(api_req *req);
chat_rc api_users_me(api_req *req);
chat_rc api_users_my_rooms(api_req *req);
chat_rc api_sessions_login(api_req *req);
chat_rc api_sessions_logout(api_req *req);
chat_rc api_rooms_create(api_req *req);
chat_rc api_rooms_list(api_req *req);
chat_rc api_rooms_get(api_req *req);
chat_rc api_rooms_join(api_req *req);
chat_rc api_rooms_leave(api_req *req);
chat_rc api_rooms_messages(api_req *req); /* history.c */
chat_rc api_search(api_req *req);         /* search.c */
chat_rc api_health(api_req *req);
chat_rc api_files_upload(api_req *req); /* files.c */
chat_rc api_files_get(api_req *req);
chat_rc api_files_thumb(api_req *req);

/* Free the room list's page cache (rooms.c), at exit so leak checks stay clean. */
void api_rooms_cache_free(void);

#endif
