/* view.h - JSON in and out for the API's resources: reading string fields from a
 * request body, and rendering User, Room and member lists as the contract spells
 * them. No Redis, no HTTP; a User here can never carry a password hash because
 * api_user has no such field. */
#ifndef CHAT_API_VIEW_H
#define CHAT_API_VIEW_H

#include <json-c/json.h>
#include <stddef.h>

#include "api.h"
#include "store.h"

/* The string field key of req->body: CHAT_OK with *s and *len pointing into the body
 * (owned by req), or CHAT_EINVALID with a message naming the field when it is
 * missing or not a string. */
chat_rc api_field_str(api_req *req, const char *key, const char **s, size_t *len);

/* New json-c objects; the caller owns (puts) the result. */
json_object *api_view_user(const api_user *u);
/* {"user": User, "token": token}, the answer to sign-up and login; wipes the caller's
 * token buffer once it is copied into the object. */
json_object *api_view_auth(const api_user *u, char *token);
json_object *api_view_room(const api_room *r);
json_object *api_view_rooms(const api_room *rooms, size_t n); /* an array */
json_object *api_view_members(const api_member *m, size_t n); /* [{"id","name"}] */

#endif
