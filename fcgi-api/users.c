/* users.c - the user resources: sign-up (POST /api/users), the caller's own record
 * (GET /api/users/me) and the rooms the caller belongs to (GET /api/users/me/rooms).
 *
 * Sign-up validates the fields against the contract's limits, hashes the password,
 * and creates the user and a first session in one Redis step. Logging in and out
 * and the bearer-token check live in sessions.c. */
#include "password.h"
#include "store.h"
#include "valid.h"
#include "view.h"

#include <sodium.h>
#include <string.h>

#include "util.h"

/* Validate and lower-case the email field into out[API_EMAIL_MAX + 1]. CHAT_OK or
 * CHAT_EINVALID (message set). Only ASCII letters are folded: valid_email() admits
 * nothing else in an address. */
static chat_rc read_email(api_req *req, char *out)
{
    const char *s;
    size_t len;
    chat_rc rc = api_field_str(req, "email", &s, &len);
    if (rc != CHAT_OK) return rc;
    if (len > API_EMAIL_MAX) return api_fail(req, CHAT_EINVALID, "email is too long (at most %d characters)", API_EMAIL_MAX);
    if (valid_email(s, len) != CHAT_OK) return api_fail(req, CHAT_EINVALID, "email is not a valid address");
    valid_email_lower(s, len, out);
    return CHAT_OK;
}

/* POST /api/users {"name","email","password"} -> 201 {"user","token"}. */
chat_rc api_users_signup(api_req *req)
{
    api_user u = {0};
    const char *name, *pw, *why = "";
    size_t name_len, pw_len;
    char pwhash[API_PWHASH_MAX + 1], token[TOKEN_LEN + 1], th[TOKEN_HASH_LEN + 1];

    chat_rc rc = api_field_str(req, "name", &name, &name_len);
    if (rc != CHAT_OK) return rc;
    if (valid_text(name, name_len, 1, API_NAME_MAX_CP, VALID_NAME, &name, &name_len, &why) != CHAT_OK)
        return api_fail(req, CHAT_EINVALID, "name %s (1 to %d characters with a visible one, no control or invisible formatting characters)", why, API_NAME_MAX_CP);
    memcpy(u.name, name, name_len);
    u.name[name_len] = '\0';

    if ((rc = read_email(req, u.email)) != CHAT_OK) return rc;

    if ((rc = api_field_str(req, "password", &pw, &pw_len)) != CHAT_OK) return rc;
    size_t cps = valid_cp_count(pw, pw_len);
    if (cps < API_PASSWORD_MIN_CP || cps > API_PASSWORD_MAX_CP)
        return api_fail(req, CHAT_EINVALID, "password is too %s (%d to %d characters)", cps < API_PASSWORD_MIN_CP ? "short" : "long",
                        API_PASSWORD_MIN_CP, API_PASSWORD_MAX_CP);

    if ((rc = api_password_hash(req->cfg, pw, pw_len, pwhash)) != CHAT_OK) return rc;
    token_id(u.id, API_NEW_ID_LEN);
    u.created_at = now_ms();
    token_new(token);
    token_hash(token, TOKEN_LEN, th);

    rc = api_store_user_create(req->redis, &u, pwhash, th, req->cfg->session_ttl);
    sodium_memzero(pwhash, sizeof pwhash);
    if (rc == CHAT_ECONFLICT) return api_fail(req, rc, "email is already registered");
    if (rc != CHAT_OK) return rc;

    snprintf(req->user_id, sizeof req->user_id, "%s", u.id);
    return api_reply(req, 201, api_view_auth(&u, token));
}

/* GET /api/users/me -> 200 User. A session whose user is gone is no session. */
chat_rc api_users_me(api_req *req)
{
    api_user u;
    chat_rc rc = api_store_user_get(req->redis, req->user_id, &u);
    if (rc == CHAT_ENOTFOUND) return api_fail(req, CHAT_EUNAUTH, "the user of this session no longer exists");
    if (rc != CHAT_OK) return rc;
    return api_reply(req, 200, api_view_user(&u));
}

/* GET /api/users/me/rooms -> 200 {"rooms": [Room...]}, newest first. */
chat_rc api_users_my_rooms(api_req *req)
{
    api_room *rooms = NULL;
    size_t n = 0;
    chat_rc rc = api_store_user_rooms(req->redis, req->user_id, &rooms, &n);
    if (rc != CHAT_OK) goto done;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "rooms", api_view_rooms(rooms, n));
    rc = api_reply(req, 200, o);
done:
    free(rooms);
    return rc;
}
