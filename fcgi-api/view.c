/* view.c - request fields and resource JSON; see view.h. The field order of each
 * object follows the contract so responses read the same as the docs. */
#include "view.h"
#include "json.h"

#include <sodium.h>
#include <string.h>

chat_rc api_field_str(api_req *req, const char *key, const char **s, size_t *len)
{
    json_object *v;
    if (!req->body || !json_object_object_get_ex(req->body, key, &v) || json_object_is_type(v, json_type_null))
        return api_fail(req, CHAT_EINVALID, "%s is required", key);
    if (!json_object_is_type(v, json_type_string)) return api_fail(req, CHAT_EINVALID, "%s must be a string", key);
    *s = json_get_str(req->body, key, len);
    return CHAT_OK;
}

json_object *api_view_user(const api_user *u)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(u->id));
    json_object_object_add(o, "name", json_object_new_string(u->name));
    json_object_object_add(o, "email", json_object_new_string(u->email));
    json_object_object_add(o, "createdAt", json_object_new_int64(u->created_at));
    return o;
}

json_object *api_view_room(const api_room *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(r->id));
    json_object_object_add(o, "name", json_object_new_string(r->name));
    json_object_object_add(o, "createdBy", json_object_new_string(r->created_by));
    json_object_object_add(o, "createdAt", json_object_new_int64(r->created_at));
    json_object_object_add(o, "memberCount", json_object_new_int64(r->member_count));
    return o;
}

json_object *api_view_rooms(const api_room *rooms, size_t n)
{
    json_object *a = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) json_object_array_add(a, api_view_room(&rooms[i]));
    return a;
}

json_object *api_view_members(const api_member *m, size_t n)
{
    json_object *a = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(m[i].id));
        json_object_object_add(o, "name", json_object_new_string(m[i].name));
        json_object_object_add(o, "online", json_object_new_boolean(m[i].online));
        json_object_array_add(a, o);
    }
    return a;
}

json_object *api_view_auth(const api_user *u, char *token)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "user", api_view_user(u));
    json_object_object_add(o, "token", json_object_new_string(token));
    sodium_memzero(token, strlen(token));
    return o;
}
