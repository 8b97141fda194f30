/* result.c - names of the project-wide result codes (for logs only; the HTTP and
 * STOMP mappings live in their own layers). */
#include "result.h"

const char *chat_rc_name(chat_rc rc)
{
    switch (rc) {
    case CHAT_OK: return "ok";
    case CHAT_AGAIN: return "again";
    case CHAT_EMALFORMED: return "malformed";
    case CHAT_EUNAUTH: return "unauthorized";
    case CHAT_EFORBIDDEN: return "forbidden";
    case CHAT_ENOTFOUND: return "not-found";
    case CHAT_EMETHOD: return "method-not-allowed";
    case CHAT_ECONFLICT: return "conflict";
    case CHAT_ETOOLARGE: return "too-large";
    case CHAT_EMEDIA: return "unsupported-media-type";
    case CHAT_EINVALID: return "invalid";
    case CHAT_ERATE: return "rate-limited";
    case CHAT_EUNAVAIL: return "unavailable";
    case CHAT_EPROTOCOL: return "protocol";
    case CHAT_EINTERNAL: return "internal";
    }
    return "unknown";
}
