/* msg.c - chat MESSAGE bodies, shared MESSAGE frame tails and ERROR frames; see msg.h.
 *
 * Pure string building over buf.h: no I/O and no knowledge of sessions or Redis. */
#include "msg.h"
#include "buf.h"
#include "json.h"
#include "stomp.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ids ------------------------------------------------------------------------------ */

static char relay_id[17] = "relay";
static unsigned long long id_counter;

void msg_ids_init(const char *rid)
{
    snprintf(relay_id, sizeof relay_id, "%s", rid);
    id_counter = 0;
}

void msg_next_id(char *out)
{
    snprintf(out, MSG_ID_MAX, "%s-%llu", relay_id, ++id_counter);
}

/* ---- MESSAGE bodies ------------------------------------------------------------------ */

/* Append s[0..len) as a quoted JSON string. */
static void put_json_str(buf *out, const char *s, size_t len)
{
    size_t need = json_escape(NULL, 0, s, len);
    buf_putc(out, '"');
    buf_reserve(out, need);
    json_escape(buf_data(out) + out->len, need + 1, s, len);
    out->len += need;
    buf_putc(out, '"');
}

void msg_body(buf *out, const msg_fields *f)
{
    buf_puts(out, "{\"type\":");
    put_json_str(out, f->type, strlen(f->type));
    buf_puts(out, ",\"id\":");
    put_json_str(out, f->id, strlen(f->id));
    buf_puts(out, ",\"roomId\":");
    put_json_str(out, f->room_id, strlen(f->room_id));
    buf_puts(out, ",\"senderId\":");
    put_json_str(out, f->sender_id, strlen(f->sender_id));
    buf_puts(out, ",\"sender\":");
    put_json_str(out, f->sender, f->sender_len);
    buf_puts(out, ",\"message\":");
    put_json_str(out, f->text, f->text_len);
    buf_printf(out, ",\"ts\":%lld", (long long)f->ts);
    if (f->file) {
        buf_puts(out, ",\"file\":");
        buf_append(out, f->file, f->file_len);
    }
    buf_putc(out, '}');
}

void msg_presence_body(buf *out, bool join, const char *room_id, const char *user_id,
                       const char *name)
{
    char id[MSG_ID_MAX];
    buf text;
    buf_init(&text, 0);
    buf_printf(&text, "%s %s", name, join ? "joined" : "left");
    msg_next_id(id);
    msg_fields f = {
        .type = join ? "JOIN" : "LEAVE", .id = id, .room_id = room_id, .sender_id = user_id,
        .sender = name, .sender_len = strlen(name),
        .text = buf_data(&text), .text_len = text.len, .ts = now_ms(),
    };
    msg_body(out, &f);
    buf_free(&text);
}

/* ---- shared MESSAGE tails --------------------------------------------------------------- */

int64_t msg_body_offset(const char *body, size_t len)
{
    static const char key[] = ",\"offset\":";
    const size_t kl = sizeof key - 1;
    /* From the end: inside a JSON string a quote is always escaped, so the last
     * ,"offset": is the field the script appended. */
    for (size_t i = len >= kl ? len - kl + 1 : 0; i-- > 0;) {
        if (memcmp(body + i, key, kl) != 0) continue;
        int64_t v = 0;
        size_t j = i + kl, digits = 0;
        for (; j < len && body[j] >= '0' && body[j] <= '9' && digits < 18; j++, digits++) v = v * 10 + (body[j] - '0');
        return digits ? v : 0;
    }
    return 0;
}

msg_shared *msg_shared_new(const char *room_id, size_t room_len, const char *message_id,
                           const char *body, size_t body_len)
{
    static const char fmt[] = "destination:/topic/room/%.*s\ncontent-type:application/json\n"
                              "message-id:%s\ncontent-length:%zu\n\n";
    int n = snprintf(NULL, 0, fmt, (int)room_len, room_id, message_id, body_len);
    size_t hn = n < 0 ? 0 : (size_t)n;
    msg_shared *m = xmalloc(sizeof *m + hn + body_len + 1);
    snprintf(m->data, hn + 1, fmt, (int)room_len, room_id, message_id, body_len);
    m->refs = 1;
    m->len = (uint32_t)(hn + body_len + 1);
    m->offset = msg_body_offset(body, body_len);
    if (body_len) memcpy(m->data + hn, body, body_len);
    m->data[hn + body_len] = '\0';
    return m;
}

msg_shared *msg_shared_ref(msg_shared *m)
{
    m->refs++;
    return m;
}

void msg_shared_unref(msg_shared *m)
{
    if (m && --m->refs == 0) free(m);
}

void msg_sub_prefix(buf *out, const char *sub_id, size_t sub_len)
{
    buf_puts(out, "MESSAGE\nsubscription:");
    stomp_escape(out, sub_id, sub_len);
    buf_putc(out, '\n');
}

/* ---- ERROR frames --------------------------------------------------------------------- */

const char *msg_error_slug(chat_rc rc)
{
    switch (rc) {
    case CHAT_EUNAUTH: return "unauthorized";
    case CHAT_EFORBIDDEN: return "forbidden";
    case CHAT_ENOTFOUND: return "not-found";
    case CHAT_EINVALID:
    case CHAT_EMEDIA: return "invalid";
    case CHAT_ETOOLARGE: return "too-large";
    case CHAT_ERATE: return "rate-limited";
    case CHAT_EUNAVAIL:
    case CHAT_EINTERNAL: return "unavailable";
    case CHAT_OK:
    case CHAT_AGAIN:
    case CHAT_EMALFORMED:
    case CHAT_EMETHOD:
    case CHAT_ECONFLICT:
    case CHAT_EPROTOCOL: return "protocol";
    }
    return "protocol";
}

bool msg_error_closes(chat_rc rc)
{
    return rc != CHAT_ERATE && rc != CHAT_EUNAVAIL;
}

void msg_error_frame(buf *out, chat_rc rc, const char *receipt, size_t receipt_len,
                     const char *text)
{
    stomp_kv h[3];
    size_t n = 0;
    char *rid = NULL;
    h[n++] = (stomp_kv){"message", msg_error_slug(rc)};
    if (receipt) {
        rid = xstrndup(receipt, receipt_len);
        h[n++] = (stomp_kv){"receipt-id", rid};
    }
    h[n++] = (stomp_kv){"content-type", "text/plain"};
    stomp_write(out, STOMP_ERROR, h, n, text, strlen(text));
    free(rid);
}
