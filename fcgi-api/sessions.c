/* sessions.c - login (POST /api/sessions), logout (DELETE /api/sessions/current)
 * and the bearer-token middleware every authenticated route runs first.
 *
 * A token is shown to the client once and stored only as its SHA-256 (common/token.h).
 * Login answers a wrong password and an unknown email with the same 401 after the
 * same hashing work, and counts failures per email to answer 429 past the limit.
 * It never logs tokens, passwords or hashes. Sign-up lives in users.c. */
#include "password.h"
#include "store.h"
#include "valid.h"
#include "view.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define WRONG_LOGIN "wrong email or password"

chat_rc api_auth(api_req *req)
{
    const char *h = req->authorization;
    size_t len;
    if (!h || !*h) return api_fail(req, CHAT_EUNAUTH, "missing bearer token");
    if (!token_from_bearer(h, strlen(h), &h, &len))
        return api_fail(req, CHAT_EUNAUTH, "the Authorization scheme must be Bearer");
    if (!token_wellformed(h, len)) return api_fail(req, CHAT_EUNAUTH, "malformed bearer token");

    char th[TOKEN_HASH_LEN + 1], uid[API_ID_MAX + 1];
    token_hash(h, len, th);
    chat_rc rc = api_store_session_get(req->redis, th, uid,
                                       req->route_flags & API_ROOMS_VERSION ? req->rooms_version : NULL);
    if (rc == CHAT_ENOTFOUND) return api_fail(req, CHAT_EUNAUTH, "invalid or expired token");
    if (rc != CHAT_OK) return rc;
    if (!valid_id(uid, strlen(uid))) return CHAT_EINTERNAL;
    memcpy(req->token_hash, th, sizeof th);
    memcpy(req->user_id, uid, sizeof uid);
    return CHAT_OK;
}

/* Record a failed login for email (when it is a countable address) and answer 401.
 * A failure to count is not reported over the 401: the attempt failed either way. */
static chat_rc login_failed(api_req *req, const char *email, bool countable)
{
    if (countable) (void)api_store_login_fail_add(req->redis, email, req->peer, req->cfg->login_fail_window);
    return api_fail(req, CHAT_EUNAUTH, WRONG_LOGIN);
}

/* POST /api/sessions {"email","password"} -> 200 {"user","token"}. */
chat_rc api_sessions_login(api_req *req)
{
    const char *email_in, *pw;
    size_t email_len, pw_len;
    char email[API_EMAIL_MAX + 1], pwhash[API_PWHASH_MAX + 1] = "", token[TOKEN_LEN + 1], th[TOKEN_HASH_LEN + 1];
    api_user u;

    chat_rc rc = api_field_str(req, "email", &email_in, &email_len);
    if (rc == CHAT_OK) rc = api_field_str(req, "password", &pw, &pw_len);
    if (rc != CHAT_OK) return rc;

    api_password_prepare(req->cfg);
    /* An address that could never have signed up is simply unknown. */
    bool countable = email_len <= API_EMAIL_MAX && valid_email(email_in, email_len) == CHAT_OK;
    email[0] = '\0';
    if (countable) {
        valid_email_lower(email_in, email_len, email);

        long fails, ttl;
        if ((rc = api_store_login_fails(req->redis, email, req->peer, &fails, &ttl)) != CHAT_OK) return rc;
        if (fails >= req->cfg->login_fail_limit) {
            req->retry_after = ttl > 0 ? ttl : req->cfg->login_fail_window;
            return api_fail(req, CHAT_ERATE, "too many failed logins for this email from this address, try again in %ld s", req->retry_after);
        }
        rc = api_store_user_by_email(req->redis, email, &u, pwhash);
    } else {
        rc = CHAT_ENOTFOUND;
    }
    if (rc == CHAT_ENOTFOUND) {
        api_password_burn(req->cfg, pw, pw_len);
        return login_failed(req, email, countable);
    }
    if (rc != CHAT_OK) return rc;

    bool ok = api_password_verify(pwhash, pw, pw_len);
    sodium_memzero(pwhash, sizeof pwhash);
    if (!ok) return login_failed(req, email, true);

    token_new(token);
    token_hash(token, TOKEN_LEN, th);
    if ((rc = api_store_session_new(req->redis, th, u.id, req->cfg->session_ttl)) != CHAT_OK) return rc;
    (void)api_store_login_fail_reset(req->redis, email, req->peer);

    snprintf(req->user_id, sizeof req->user_id, "%s", u.id);
    return api_reply(req, 200, api_view_auth(&u, token));
}

/* DELETE /api/sessions/current -> 204. Deletes this token's session and tells the
 * relays (revoked channel) to close STOMP sessions opened with it. */
chat_rc api_sessions_logout(api_req *req)
{
    chat_rc rc = api_store_session_revoke(req->redis, req->token_hash);
    if (rc != CHAT_OK) return rc;
    return api_reply(req, 204, NULL);
}
