/* keys.c - the Redis key schema; see keys.h for the full list. Nothing else in the
 * project writes a key name. */
#include "keys.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char key_prefix[64] = "chat:";
static size_t key_prefix_len = 5;

void keys_init(const char *prefix)
{
    if (!prefix) prefix = "chat:";
    snprintf(key_prefix, sizeof key_prefix, "%s", prefix);
    key_prefix_len = strlen(key_prefix);
}

const char *keys_prefix(void)
{
    return key_prefix;
}

static size_t fmt(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static size_t fmt(char *buf, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, cap, f, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        if (cap) buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

size_t keys_user(char *b, size_t c, const char *id) { return fmt(b, c, "%suser:%s", key_prefix, id); }
size_t keys_user_email(char *b, size_t c, const char *email) { return fmt(b, c, "%suser-email:%s", key_prefix, email); }
size_t keys_session(char *b, size_t c, const char *h) { return fmt(b, c, "%ssession:%s", key_prefix, h); }
size_t keys_room(char *b, size_t c, const char *id) { return fmt(b, c, "%sroom:%s", key_prefix, id); }
size_t keys_rooms(char *b, size_t c) { return fmt(b, c, "%srooms", key_prefix); }
size_t keys_room_members(char *b, size_t c, const char *id) { return fmt(b, c, "%sroom:%s:members", key_prefix, id); }
size_t keys_user_rooms(char *b, size_t c, const char *id) { return fmt(b, c, "%suser:%s:rooms", key_prefix, id); }
size_t keys_room_online(char *b, size_t c, const char *id) { return fmt(b, c, "%sroom:%s:online", key_prefix, id); }
size_t keys_relays(char *b, size_t c) { return fmt(b, c, "%srelays", key_prefix); }
size_t keys_relay_holds(char *b, size_t c, const char *id) { return fmt(b, c, "%srelay:%s:holds", key_prefix, id); }
size_t keys_room_history(char *b, size_t c, const char *id) { return fmt(b, c, "%sroom:%s:history", key_prefix, id); }
size_t keys_room_seq(char *b, size_t c, const char *id) { return fmt(b, c, "%sroom:%s:seq", key_prefix, id); }
size_t keys_room_epoch(char *b, size_t c, const char *id) { return fmt(b, c, "%sroom:%s:epoch", key_prefix, id); }
size_t keys_archive_feed(char *b, size_t c) { return fmt(b, c, "%sarchive", key_prefix); }
size_t keys_login_fail(char *b, size_t c, const char *email, const char *addr) { return fmt(b, c, "%slogin-fail:%s:%s", key_prefix, email, addr); }
size_t keys_rooms_version(char *b, size_t c) { return fmt(b, c, "%srooms-version", key_prefix); }
size_t keys_file(char *b, size_t c, const char *id) { return fmt(b, c, "%sfile:%s", key_prefix, id); }
size_t keys_blob(char *b, size_t c, const char *sha) { return fmt(b, c, "%sblob:%s", key_prefix, sha); }
size_t keys_chan_room(char *b, size_t c, const char *id) { return fmt(b, c, "%sroom:%s", key_prefix, id); }
size_t keys_chan_revoked(char *b, size_t c) { return fmt(b, c, "%srevoked", key_prefix); }
size_t keys_chan_left(char *b, size_t c) { return fmt(b, c, "%sleft", key_prefix); }

size_t keys_chan_room_id(const char *chan, size_t len, const char **id)
{
    static const char tag[] = "room:";
    size_t pre = key_prefix_len + sizeof tag - 1;
    if (len <= pre || memcmp(chan, key_prefix, key_prefix_len) != 0 ||
        memcmp(chan + key_prefix_len, tag, sizeof tag - 1) != 0)
        return 0;
    *id = chan + pre;
    return len - pre;
}
