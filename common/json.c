/* json.c - json-c parsing helpers and a fast string escaper; see json.h. */
#include "json.h"

#include <stdio.h>
#include <string.h>

/* json-c's strict mode still takes single-quoted strings; RFC 8259 does not. True
 * when a quote character appears outside a double-quoted string. */
static int has_single_quote(const char *buf, size_t len)
{
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '\'') {
            return 1;
        }
    }
    return 0;
}

json_object *json_parse_object(const char *buf, size_t len, chat_rc *rc)
{
    *rc = CHAT_EMALFORMED;
    if (len == 0 || len > (size_t)1 << 30) return NULL;
    /* json-c stops at a NUL byte; a NUL inside a request body is malformed. */
    if (memchr(buf, '\0', len) || has_single_quote(buf, len)) return NULL;
    json_tokener *tok = json_tokener_new_ex(16);
    if (!tok) return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!obj || jerr != json_tokener_success) {
        json_object_put(obj);
        return NULL;
    }
    for (size_t i = used; i < len; i++) {
        char c = buf[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            json_object_put(obj);
            return NULL;
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        *rc = CHAT_EINVALID;
        return NULL;
    }
    *rc = CHAT_OK;
    return obj;
}

const char *json_get_str(json_object *obj, const char *key, size_t *len)
{
    json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    if (len) *len = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

const char *json_compact(json_object *obj)
{
    return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

size_t json_escape(char *out, size_t cap, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
#define PUT(ch) do { if (n < cap) out[n] = (ch); n++; } while (0)
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': PUT('\\'); PUT('"'); break;
        case '\\': PUT('\\'); PUT('\\'); break;
        case '\n': PUT('\\'); PUT('n'); break;
        case '\r': PUT('\\'); PUT('r'); break;
        case '\t': PUT('\\'); PUT('t'); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                PUT('\\'); PUT('u'); PUT('0'); PUT('0');
                PUT(hex[c >> 4]); PUT(hex[c & 15]);
            } else {
                PUT((char)c);
            }
        }
    }
#undef PUT
    if (n < cap) out[n] = '\0';
    return n;
}
