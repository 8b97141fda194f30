/* health.c - GET /api/health: 200 {"status":"ok"} when Redis answers PING, else
 * the usual 503 "unavailable" error. No token; no other checks (the relay has its
 * own). */
#include "api.h"
#include "store.h"

chat_rc api_health(api_req *req)
{
    chat_rc rc = api_store_ping(req->redis);
    if (rc != CHAT_OK) return api_fail(req, CHAT_EUNAVAIL, "redis is not answering");
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("ok"));
    return api_reply(req, 200, o);
}
