/* test_relay_session.c - the STOMP engine (ws-relay/session.c, command.c, rooms.c)
 * with a fake store and a fake transport: client bytes in, frames out, no Redis, no
 * sockets, no event loop.
 *
 * The fake store (fs_*) answers from a small model of Redis (tokens, members, whether
 * it is up) but, like the real one, never inside the call: answers queue up and
 * fs_flush() delivers them in order, including channel confirmations and the room
 * messages a SEND publishes (which come back through rooms_on_message like Redis
 * Pub/Sub). The fake transport (ft) collects what the session writes. Covered: every
 * STOMP command, every ERROR slug, receipts (and receipt-id on ERROR), heart-beats
 * both ways, the CONNECT and Redis timeouts, the shared rate limit, the queue bound,
 * presence damping and the SUBSCRIBE/leave race. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "command.h"
#include "log.h"
#include "rooms.h"
#include "session.h"
#include "store.h"
#include "token.h"
#include "util.h"

/* ---- the fake store ------------------------------------------------------------------- */

enum pend_kind { P_USER, P_RC, P_FLAGS, P_SUBSCRIBED, P_UNSUBSCRIBED, P_MESSAGE, P_SUB, P_FILE };

#define HIST_MAX 16

typedef struct pend {
    struct pend *next;
    enum pend_kind kind;
    void *cb, *ud;
    chat_rc rc;
    char a[128], b[128];    /* user id / name; room id */
    char *body;             /* published message */
    bool flags[8];
    size_t n;
    /* P_SUB: the answer of sub_check, as read when it was sent */
    char epoch[24];
    int64_t newest, offs[HIST_MAX];
    char *bodies[HIST_MAX];
} pend;

static struct {
    bool up, sub_up;
    pend *head, *tail;
    char token_hash[TOKEN_HASH_LEN + 1], user_id[32], user_name[32]; /* one valid token */
    char members[8][64];    /* "room/user" pairs */
    int nmembers;
    int joins, leaves;      /* JOIN / LEAVE published */
    int online;             /* the presence count of the last user touched */
    int subscribes, unsubscribes;
    /* room r1's history: epoch, offsets 1..seq, the newest HIST_MAX bodies kept */
    char epoch[24];
    int64_t seq;
    char *hist[HIST_MAX + 1]; /* the body of offset o at hist[o % (HIST_MAX + 1)] */
} F;

static char *hist_get(int64_t off) { return off > F.seq - HIST_MAX && off >= 1 ? F.hist[off % (HIST_MAX + 1)] : NULL; }

static pend *push(enum pend_kind k, void *cb, void *ud)
{
    pend *p = xcalloc(1, sizeof *p);
    p->kind = k;
    p->cb = cb;
    p->ud = ud;
    if (F.tail) F.tail->next = p;
    else F.head = p;
    F.tail = p;
    return p;
}

static bool is_member_of(const char *room, const char *user)
{
    char k[64];
    snprintf(k, sizeof k, "%.30s/%.30s", room, user);
    for (int i = 0; i < F.nmembers; i++)
        if (strcmp(F.members[i], k) == 0) return true;
    return false;
}

static void set_member(const char *room, const char *user, bool yes)
{
    char k[64];
    snprintf(k, sizeof k, "%.30s/%.30s", room, user);
    for (int i = 0; i < F.nmembers; i++) {
        if (strcmp(F.members[i], k) != 0) continue;
        if (!yes) memmove(F.members[i], F.members[i + 1], (size_t)(--F.nmembers - i) * sizeof F.members[0]);
        return;
    }
    if (yes) snprintf(F.members[F.nmembers++], sizeof F.members[0], "%s", k);
}

static bool fs_ready(void) { return F.up; }
static bool fs_sub_ready(void) { return F.sub_up; }

static chat_rc fs_user_by_token(const char *hash, store_user_cb cb, void *ud)
{
    if (!F.up) return CHAT_EUNAVAIL;
    pend *p = push(P_USER, (void *)cb, ud);
    p->rc = strcmp(hash, F.token_hash) == 0 ? CHAT_OK : CHAT_EUNAUTH;
    snprintf(p->a, sizeof p->a, "%s", F.user_id);
    snprintf(p->b, sizeof p->b, "%s", F.user_name);
    return CHAT_OK;
}

static chat_rc fs_sub_check(const char *room, const char *user, int64_t after, size_t max,
                            store_sub_cb cb, void *ud)
{
    if (!F.up) return CHAT_EUNAVAIL;
    /* Answered as of now: the script runs in Redis when it is sent. */
    pend *p = push(P_SUB, (void *)cb, ud);
    p->rc = is_member_of(room, user) ? CHAT_OK : CHAT_EFORBIDDEN;
    snprintf(p->epoch, sizeof p->epoch, "%s", F.epoch);
    p->newest = F.seq;
    for (int64_t o = after + 1; after >= 0 && o <= F.seq && p->n < max && p->n < HIST_MAX; o++) {
        char *b = hist_get(o);
        if (!b) continue; /* trimmed */
        p->offs[p->n] = o;
        p->bodies[p->n++] = xstrdup(b);
    }
    return CHAT_OK;
}

static void publish(const char *room, const char *body, size_t len)
{
    pend *p = push(P_MESSAGE, NULL, NULL);
    snprintf(p->b, sizeof p->b, "%s", room);
    p->body = xstrndup(body, len);
}

static chat_rc fs_send(const char *room, const char *user, const char *body, size_t len, store_rc_cb cb, void *ud)
{
    if (!F.up) return CHAT_EUNAVAIL;
    bool ok = is_member_of(room, user);
    if (ok) { /* as script_send: the next offset and the epoch appended, stored, published */
        if (!F.epoch[0]) snprintf(F.epoch, sizeof F.epoch, "E1");
        F.seq++;
        char *full = xmalloc(len + 64);
        int n = snprintf(full, len + 64, "%.*s,\"offset\":%lld,\"epoch\":\"%s\"}", (int)len - 1, body,
                         (long long)F.seq, F.epoch);
        free(F.hist[F.seq % (HIST_MAX + 1)]);
        F.hist[F.seq % (HIST_MAX + 1)] = full;
        publish(room, full, (size_t)n);
    }
    push(P_RC, (void *)cb, ud)->rc = ok ? CHAT_OK : CHAT_EFORBIDDEN;
    return CHAT_OK;
}

/* Files: "f1" uploaded by u1 to r1, "f2" by u2 to r1, "f3" by u1 to r2. */
static chat_rc fs_file(const char *id, store_file_cb cb, void *ud)
{
    static const struct { const char *id, *room, *uploader; } files[] = {
        {"f1", "r1", "u1"}, {"f2", "r1", "u2"}, {"f3", "r2", "u1"}};
    if (!F.up) return CHAT_EUNAVAIL;
    pend *p = push(P_FILE, (void *)cb, ud);
    p->rc = CHAT_ENOTFOUND;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (strcmp(id, files[i].id) != 0) continue;
        p->rc = CHAT_OK;
        snprintf(p->a, sizeof p->a, "%s", files[i].room);
        snprintf(p->b, sizeof p->b, "%s", files[i].uploader);
        char json[128];
        snprintf(json, sizeof json, "{\"id\":\"%s\",\"name\":\"a \\\"b\\\".png\",\"size\":3}", id);
        p->body = xstrdup(json);
    }
    return CHAT_OK;
}

static chat_rc fs_presence(const char *room, const char *user, const char *name, int delta,
                           const char *body, size_t len)
{
    (void)name;
    if (!F.up) return CHAT_EUNAVAIL;
    F.online += delta;
    if ((delta > 0 && F.online == 1) || (delta < 0 && F.online == 0)) {
        if (delta > 0) F.joins++;
        else F.leaves++;
        publish(room, body, len);
    }
    (void)user;
    return CHAT_OK;
}

static chat_rc fs_reassert(const char *room, const char *user, const char *name, const char *body,
                           size_t len)
{
    (void)name;
    (void)body;
    (void)len;
    (void)room;
    (void)user;
    return F.up ? CHAT_OK : CHAT_EUNAVAIL;
}

static chat_rc fs_room_subscribe(const char *room)
{
    if (!F.sub_up) return CHAT_EUNAVAIL;
    F.subscribes++;
    snprintf(push(P_SUBSCRIBED, NULL, NULL)->b, sizeof F.head->b, "%s", room);
    return CHAT_OK;
}

static chat_rc fs_room_unsubscribe(const char *room)
{
    if (!F.sub_up) return CHAT_EUNAVAIL;
    F.unsubscribes++;
    snprintf(push(P_UNSUBSCRIBED, NULL, NULL)->b, sizeof F.head->b, "%s", room);
    return CHAT_OK;
}

static chat_rc fs_tokens_alive(const char *const *hashes, size_t n, store_flags_cb cb, void *ud)
{
    if (!F.up) return CHAT_EUNAVAIL;
    pend *p = push(P_FLAGS, (void *)cb, ud);
    p->n = n < 8 ? n : 8;
    for (size_t i = 0; i < p->n; i++) p->flags[i] = strcmp(hashes[i], F.token_hash) == 0;
    return CHAT_OK;
}

static chat_rc fs_members(const char *room, const char *const *users, size_t n, store_flags_cb cb, void *ud)
{
    if (!F.up) return CHAT_EUNAVAIL;
    pend *p = push(P_FLAGS, (void *)cb, ud);
    p->n = n < 8 ? n : 8;
    for (size_t i = 0; i < p->n; i++) p->flags[i] = is_member_of(room, users[i]);
    return CHAT_OK;
}

static const relay_store fake_store = {
    .ready = fs_ready, .sub_ready = fs_sub_ready, .user_by_token = fs_user_by_token,
    .sub_check = fs_sub_check, .send = fs_send, .presence = fs_presence,
    .presence_reassert = fs_reassert, .room_subscribe = fs_room_subscribe,
    .room_unsubscribe = fs_room_unsubscribe, .tokens_alive = fs_tokens_alive, .members = fs_members,
    .file = fs_file,
};

/* Deliver every queued answer, and those they cause, in order. */
static void fs_flush(void)
{
    while (F.head) {
        pend *p = F.head;
        F.head = p->next;
        if (!F.head) F.tail = NULL;
        switch (p->kind) {
        case P_USER: ((store_user_cb)p->cb)(p->ud, p->rc, p->a, p->b); break;
        case P_RC: ((store_rc_cb)p->cb)(p->ud, p->rc); break;
        case P_FLAGS: ((store_flags_cb)p->cb)(p->ud, CHAT_OK, p->flags, p->n); break;
        case P_SUBSCRIBED: rooms_on_subscribed(p->b, strlen(p->b)); break;
        case P_UNSUBSCRIBED: rooms_on_unsubscribed(p->b, strlen(p->b)); break;
        case P_MESSAGE: rooms_on_message(p->b, strlen(p->b), p->body, strlen(p->body)); break;
        case P_FILE:
            ((store_file_cb)p->cb)(p->ud, p->rc, p->rc == CHAT_OK ? p->a : NULL, p->rc == CHAT_OK ? p->b : NULL,
                                   p->body, p->body ? strlen(p->body) : 0);
            break;
        case P_SUB: {
            size_t lens[HIST_MAX];
            for (size_t i = 0; i < p->n; i++) lens[i] = strlen(p->bodies[i]);
            store_history h = {.epoch = p->epoch, .offset = p->newest, .n = p->n, .offsets = p->offs,
                               .bodies = (const char *const *)p->bodies, .lens = lens};
            ((store_sub_cb)p->cb)(p->ud, p->rc, p->rc == CHAT_OK ? &h : NULL);
            for (size_t i = 0; i < p->n; i++) free(p->bodies[i]);
            break;
        }
        }
        free(p->body);
        free(p);
    }
}

/* ---- the fake transport ----------------------------------------------------------------- */

typedef struct ft {
    sess *s;
    buf out;        /* everything written, frames back to back */
    int closed;     /* 0, or 1 + flush */
    int wants;
} ft;

static void ft_want_write(void *t) { ((ft *)t)->wants++; }
static void ft_close(void *t, int flush) { ((ft *)t)->closed = 1 + flush; }
static const sess_transport_ops ft_ops = {.want_write = ft_want_write, .close = ft_close};

/* Take everything the session has to write. True when it said CLOSE. */
static bool ft_drain(ft *t)
{
    for (;;) {
        enum sess_out r = sess_out_take(t->s, &t->out);
        if (r == SESS_OUT_NONE) return false;
        if (r == SESS_OUT_CLOSE) return true;
    }
}

/* The i-th frame written (0-based) as a string, "" past the end; frames are split at
 * NUL, heart-beat EOLs before a command dropped. */
static const char *ft_frame(ft *t, int i)
{
    static char f[4096];
    const char *d = buf_data(&t->out), *end = d + t->out.len;
    for (int k = 0; d < end; k++) {
        while (d < end && *d == '\n') d++;
        const char *z = memchr(d, '\0', (size_t)(end - d));
        if (!z) break;
        if (k == i) {
            snprintf(f, sizeof f, "%.*s", (int)(z - d), d);
            return f;
        }
        d = z + 1;
    }
    return "";
}

static int ft_count(ft *t, const char *prefix)
{
    int n = 0;
    for (int i = 0; *ft_frame(t, i); i++)
        if (strncmp(ft_frame(t, i), prefix, strlen(prefix)) == 0) n++;
    return n;
}

/* The last frame starting with prefix, or "". */
static const char *ft_last(ft *t, const char *prefix)
{
    static char f[4096];
    f[0] = '\0';
    for (int i = 0; *ft_frame(t, i); i++)
        if (strncmp(ft_frame(t, i), prefix, strlen(prefix)) == 0) snprintf(f, sizeof f, "%s", ft_frame(t, i));
    return f;
}

static ft *ft_open(void)
{
    ft *t = xcalloc(1, sizeof *t);
    buf_init(&t->out, 0);
    t->s = sess_new(&ft_ops, t, "127.0.0.1");
    return t;
}

static void ft_gone(ft *t)
{
    sess_transport_gone(t->s, "test");
    fs_flush();
    buf_free(&t->out);
    free(t);
}

/* ---- set-up ------------------------------------------------------------------------------ */

#define TOKEN "tok-0123456789abcdefghijklmnopqrstuvwxyzABC" /* 43 characters */

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    F.up = F.sub_up = true;
    token_hash(TOKEN, strlen(TOKEN), F.token_hash);
    snprintf(F.user_id, sizeof F.user_id, "u1");
    snprintf(F.user_name, sizeof F.user_name, "Alice");
    set_member("r1", "u1", true);
    sess_conf c = {
        .limits = STOMP_LIMITS_DEFAULT, .max_queue_bytes = 8192,
        .send_rate = {.burst = 5, .per_sec = 0}, .heartbeat_ms = 1000, .max_subs = 3,
        .connect_timeout_ms = 1000, .redis_timeout_ms = 500, .presence_grace_ms = 0,
        .relay_id = "test", .recover_max = 5,
    };
    sess_init(&c, &fake_store, cmd_dispatch);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rooms_flush_leaves();
    fs_flush();
    for (int i = 0; i <= HIST_MAX; i++) free(F.hist[i]);
    assert_int_equal(sess_count(), 0);
    return 0;
}

/* An open session for TOKEN (heart-beats off unless hb given). */
static ft *connected(const char *hb)
{
    ft *t = ft_open();
    char f[256];
    snprintf(f, sizeof f, "CONNECT\naccept-version:1.2\npasscode:%s\nheart-beat:%s\n\n", TOKEN, hb ? hb : "0,0");
    sess_input(t->s, f, strlen(f) + 1);
    fs_flush();
    ft_drain(t);
    assert_true(strncmp(ft_frame(t, 0), "CONNECTED\n", 10) == 0);
    return t;
}

#define SEND_F(body, extra) "SEND\ndestination:/app/chat.sendMessage\n" extra "\n" body
/* One frame (its NUL added), nothing answered yet. */
static void feed(ft *t, const char *frame_without_nul)
{
    sess_input(t->s, frame_without_nul, strlen(frame_without_nul) + 1);
}

/* One frame, every answer delivered, the output taken. */
static void send0(ft *t, const char *frame_without_nul)
{
    sess_input(t->s, frame_without_nul, strlen(frame_without_nul) + 1);
    fs_flush();
    ft_drain(t);
}

/* ---- CONNECT ------------------------------------------------------------------------------ */

static void test_connect(void **state)
{
    (void)state;
    ft *t = connected(NULL);
    const char *c = ft_frame(t, 0);
    assert_non_null(strstr(c, "\nversion:1.2\n"));
    assert_non_null(strstr(c, "\nuser-name:u1\n"));
    assert_non_null(strstr(c, "\nsession:"));
    assert_non_null(strstr(c, "\nserver:"));
    /* a second CONNECT is a protocol error with its receipt-id, and closes */
    send0(t, "CONNECT\naccept-version:1.2\nreceipt:again\n\n");
    assert_non_null(strstr(ft_last(t, "ERROR"), "message:protocol"));
    assert_non_null(strstr(ft_last(t, "ERROR"), "receipt-id:again"));
    assert_int_equal(t->closed, 2);
    ft_gone(t);

    /* STOMP is a synonym; Authorization: Bearer works too */
    t = ft_open();
    char f[256];
    snprintf(f, sizeof f, "STOMP\naccept-version:1.1,1.2\nAuthorization:Bearer %s\n\n", TOKEN);
    send0(t, f);
    assert_true(strncmp(ft_frame(t, 0), "CONNECTED", 9) == 0);
    ft_gone(t);
}

static void test_connect_errors(void **state)
{
    (void)state;
    static const struct { int line; const char *frame; const char *slug; } rows[] = {
        {__LINE__, "CONNECT\naccept-version:1.2\n\n", "unauthorized"},                 /* no token */
        {__LINE__, "CONNECT\naccept-version:1.2\npasscode:nope-not-a-token-at-all-xxxxxxxxxxxxxxxxx\n\n", "unauthorized"},
        {__LINE__, "CONNECT\naccept-version:2.0\npasscode:" TOKEN "\n\n", "protocol"},  /* version */
        {__LINE__, "CONNECT\naccept-version:1.2\nheart-beat:x\npasscode:" TOKEN "\n\n", "protocol"},
        {__LINE__, "SEND\ndestination:/app/chat.sendMessage\n\n{}", "protocol"},       /* not CONNECT first */
        {__LINE__, "CONNECT\nno colon here\n\n", "protocol"},                           /* malformed */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ft *t = ft_open();
        send0(t, rows[i].frame);
        char want[64];
        snprintf(want, sizeof want, "message:%s", rows[i].slug);
        if (!strstr(ft_last(t, "ERROR"), want)) fail_msg("row at line %d: got '%s'", rows[i].line, ft_last(t, "ERROR"));
        if (t->closed != 2) fail_msg("row at line %d: not closed after ERROR", rows[i].line);
        ft_gone(t);
    }
    /* Redis down while authenticating: unavailable, and the session closes */
    F.up = false;
    ft *t = ft_open();
    send0(t, "CONNECT\naccept-version:1.2\npasscode:" TOKEN "\n\n");
    assert_non_null(strstr(ft_last(t, "ERROR"), "message:unavailable"));
    assert_int_equal(t->closed, 2);
    ft_gone(t);
}

static void test_connect_timeout(void **state)
{
    (void)state;
    ft *t = ft_open();
    sess_sweep(mono_ms() + 500);
    ft_drain(t);
    assert_int_equal(t->closed, 0);
    sess_sweep(mono_ms() + 1500);
    ft_drain(t);
    assert_non_null(strstr(ft_last(t, "ERROR"), "message:protocol"));
    assert_int_equal(t->closed, 2);
    ft_gone(t);
}

/* ---- SUBSCRIBE, SEND, UNSUBSCRIBE, DISCONNECT ----------------------------------------------- */

static void test_chat(void **state)
{
    (void)state;
    ft *t = connected(NULL);
    send0(t, "SUBSCRIBE\nid:s1\ndestination:/topic/room/r1\nreceipt:sub\n\n");
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "receipt-id:sub"));
    assert_int_equal(F.joins, 1);
    send0(t, SEND_F("{\"roomId\":\"r1\",\"message\":\"  hello  \",\"sender\":\"Mallory\",\"type\":\"LEAVE\"}", "receipt:m1\n"));
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "receipt-id:m1"));
    const char *m = ft_last(t, "MESSAGE\nsubscription:s1");
    assert_non_null(strstr(m, "\"type\":\"CHAT\""));
    assert_non_null(strstr(m, "\"message\":\"hello\""));   /* trimmed */
    assert_non_null(strstr(m, "\"sender\":\"Alice\""));    /* the server decides */
    assert_non_null(strstr(m, "\"senderId\":\"u1\""));
    assert_non_null(strstr(m, "destination:/topic/room/r1"));
    /* ACK/NACK are accepted (receipt), UNSUBSCRIBE ends the subscription: LEAVE */
    send0(t, "ACK\nid:x\nreceipt:ack\n\n");
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "receipt-id:ack"));
    send0(t, "UNSUBSCRIBE\nid:s1\nreceipt:uns\n\n");
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "receipt-id:uns"));
    assert_int_equal(F.leaves, 1);
    int msgs = ft_count(t, "MESSAGE");
    send0(t, SEND_F("{\"roomId\":\"r1\",\"message\":\"after\"}", ""));
    assert_int_equal(ft_count(t, "MESSAGE"), msgs); /* no longer subscribed */
    /* DISCONNECT: RECEIPT then close */
    sess_input(t->s, "DISCONNECT\nreceipt:bye\n\n", 25);
    fs_flush();
    assert_true(ft_drain(t));
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "receipt-id:bye"));
    assert_int_equal(t->closed, 2);
    ft_gone(t);
}

/* SEND with a fileId: a FILE message with the File, for the sender's own file in that
 * room only; the message may be empty. */
static void test_send_file(void **state)
{
    (void)state;
    ft *t = connected(NULL);
    send0(t, "SUBSCRIBE\nid:s1\ndestination:/topic/room/r1\nreceipt:sub\n\n");
    send0(t, SEND_F("{\"roomId\":\"r1\",\"fileId\":\"f1\",\"message\":\" look \"}", "receipt:f\n"));
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "receipt-id:f"));
    const char *m = ft_last(t, "MESSAGE\nsubscription:s1");
    assert_non_null(strstr(m, "\"type\":\"FILE\""));
    assert_non_null(strstr(m, "\"message\":\"look\""));
    assert_non_null(strstr(m, ",\"file\":{\"id\":\"f1\",\"name\":\"a \\\"b\\\".png\",\"size\":3},\"offset\":1,\"epoch\":\"E1\"}"));
    send0(t, SEND_F("{\"roomId\":\"r1\",\"fileId\":\"f1\"}", "receipt:g\n"));
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "receipt-id:g"));
    assert_non_null(strstr(ft_last(t, "MESSAGE\nsubscription:s1"), "\"message\":\"\""));
    assert_int_equal(F.seq, 2);
    ft_gone(t);

    static const struct {
        int line;
        const char *body, *slug;
    } rows[] = {
        {__LINE__, "{\"roomId\":\"r1\",\"fileId\":\"f2\",\"message\":\"x\"}", "forbidden"},  /* another user's */
        {__LINE__, "{\"roomId\":\"r1\",\"fileId\":\"f3\",\"message\":\"x\"}", "forbidden"},  /* another room's */
        {__LINE__, "{\"roomId\":\"r1\",\"fileId\":\"nope\",\"message\":\"x\"}", "not-found"},
        {__LINE__, "{\"roomId\":\"r1\",\"fileId\":\"a/b\",\"message\":\"x\"}", "invalid"},
        {__LINE__, "{\"roomId\":\"r1\",\"fileId\":7,\"message\":\"x\"}", "invalid"},
        {__LINE__, "{\"roomId\":\"r1\",\"fileId\":\"f1\",\"message\":7}", "invalid"},
        {__LINE__, "{\"roomId\":\"r1\",\"message\":\"\"}", "invalid"}, /* empty without a file */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ft *u = connected(NULL);
        char f[512];
        snprintf(f, sizeof f, "SEND\ndestination:/app/chat.sendMessage\nreceipt:r\n\n%s", rows[i].body);
        send0(u, f);
        const char *e = ft_last(u, "ERROR");
        char want[64];
        snprintf(want, sizeof want, "message:%s\n", rows[i].slug);
        if (!strstr(e, want) || !strstr(e, "receipt-id:r")) fail_msg("row at line %d: got %s", rows[i].line, e);
        if (!u->closed) fail_msg("row at line %d: the session stays open", rows[i].line);
        ft_gone(u);
    }
    assert_int_equal(F.seq, 2); /* nothing refused was stored */
}

/* The session goes away while its file lookup is out: the answer is dropped, nothing
 * is sent. */
static void test_send_file_gone(void **state)
{
    (void)state;
    ft *t = connected(NULL);
    feed(t, SEND_F("{\"roomId\":\"r1\",\"fileId\":\"f1\",\"message\":\"m\"}", "receipt:f\n"));
    ft_gone(t); /* flushes the pending answer after the transport is gone */
    assert_int_equal(F.seq, 0);
}

/* Every ERROR slug a command can produce, with the frame's receipt as receipt-id and
 * whether the session closes. */
static void test_command_errors(void **state)
{
    (void)state;
    static const struct { int line; const char *frame; const char *slug; int closes; } rows[] = {
        {__LINE__, "SUBSCRIBE\nid:a\ndestination:/topic/room/r2\nreceipt:R\n\n", "forbidden", 1},
        {__LINE__, "SUBSCRIBE\nid:a\ndestination:/queue/x\nreceipt:R\n\n", "not-found", 1},
        {__LINE__, "SUBSCRIBE\ndestination:/topic/room/r1\nreceipt:R\n\n", "protocol", 1},
        {__LINE__, "SUBSCRIBE\nid:a\ndestination:/topic/room/r1\nack:maybe\nreceipt:R\n\n", "protocol", 1},
        {__LINE__, SEND_F("{\"roomId\":\"r2\",\"message\":\"x\"}", "receipt:R\n"), "forbidden", 1},
        {__LINE__, SEND_F("not json", "receipt:R\n"), "invalid", 1},
        {__LINE__, SEND_F("{\"roomId\":\"r1\",\"message\":\"   \"}", "receipt:R\n"), "invalid", 1},
        {__LINE__, SEND_F("{\"roomId\":\"r1\"}", "receipt:R\n"), "invalid", 1},
        {__LINE__, "SEND\ndestination:/app/other\nreceipt:R\n\n{}", "not-found", 1},
        {__LINE__, "SEND\nreceipt:R\n\n{}", "protocol", 1},
        {__LINE__, "BEGIN\ntransaction:t\nreceipt:R\n\n", "protocol", 1},
        {__LINE__, "MESSAGE\nreceipt:R\n\n", "protocol", 1},
        {__LINE__, "FROB\nreceipt:R\n\n", "protocol", 1},
        {__LINE__, "UNSUBSCRIBE\nreceipt:R\n\n", "protocol", 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ft *t = connected(NULL);
        send0(t, rows[i].frame);
        const char *e = ft_last(t, "ERROR");
        char want[64];
        snprintf(want, sizeof want, "message:%s", rows[i].slug);
        if (!strstr(e, want)) fail_msg("row at line %d: got '%s'", rows[i].line, e);
        if (!strstr(e, "receipt-id:R")) fail_msg("row at line %d: no receipt-id in '%s'", rows[i].line, e);
        if ((t->closed == 2) != rows[i].closes) fail_msg("row at line %d: closed=%d", rows[i].line, t->closed);
        ft_gone(t);
    }
}

static void test_limits(void **state)
{
    (void)state;
    /* too-large: a frame over MAX_FRAME */
    ft *t = connected(NULL);
    char *big = xmalloc(20000);
    snprintf(big, 20000, "SEND\ndestination:/app/chat.sendMessage\n\n");
    size_t n = strlen(big);
    memset(big + n, 'x', 17000);
    big[n + 17000] = '\0';
    sess_input(t->s, big, n + 17001);
    fs_flush();
    ft_drain(t);
    free(big);
    assert_non_null(strstr(ft_last(t, "ERROR"), "message:too-large"));
    assert_int_equal(t->closed, 2);
    ft_gone(t);
    /* too-large: more subscriptions than MAX_SUBSCRIPTIONS (3) */
    t = connected(NULL);
    send0(t, "SUBSCRIBE\nid:1\ndestination:/topic/room/r1\n\n");
    send0(t, "SUBSCRIBE\nid:2\ndestination:/topic/room/r1\n\n");
    send0(t, "SUBSCRIBE\nid:3\ndestination:/topic/room/r1\n\n");
    assert_int_equal(ft_count(t, "ERROR"), 0);
    send0(t, "SUBSCRIBE\nid:4\ndestination:/topic/room/r1\n\n");
    assert_non_null(strstr(ft_last(t, "ERROR"), "message:too-large"));
    ft_gone(t);
}

/* SEND, SUBSCRIBE and UNSUBSCRIBE share one bucket (burst 5, no refill here). */
static void test_rate_limit(void **state)
{
    (void)state;
    ft *t = connected(NULL);
    send0(t, "SUBSCRIBE\nid:a\ndestination:/topic/room/r1\n\n");
    send0(t, "UNSUBSCRIBE\nid:a\n\n");
    for (int i = 0; i < 3; i++) send0(t, SEND_F("{\"roomId\":\"r1\",\"message\":\"m\"}", ""));
    assert_int_equal(ft_count(t, "ERROR"), 0);
    send0(t, SEND_F("{\"roomId\":\"r1\",\"message\":\"m\"}", "receipt:over\n"));
    send0(t, "SUBSCRIBE\nid:b\ndestination:/topic/room/r1\nreceipt:over2\n\n");
    assert_int_equal(ft_count(t, "ERROR"), 2);
    assert_non_null(strstr(ft_last(t, "ERROR"), "message:rate-limited"));
    assert_non_null(strstr(ft_last(t, "ERROR"), "receipt-id:over2"));
    assert_int_equal(t->closed, 0); /* rate-limited keeps the session */
    ft_gone(t);
}

/* SEND while Redis is down: unavailable, the session stays. */
static void test_unavailable(void **state)
{
    (void)state;
    ft *t = connected(NULL);
    F.up = false;
    send0(t, SEND_F("{\"roomId\":\"r1\",\"message\":\"m\"}", "receipt:x\n"));
    assert_non_null(strstr(ft_last(t, "ERROR"), "message:unavailable"));
    assert_non_null(strstr(ft_last(t, "ERROR"), "receipt-id:x"));
    assert_int_equal(t->closed, 0);
    F.up = true;
    send0(t, SEND_F("{\"roomId\":\"r1\",\"message\":\"m\"}", "receipt:y\n"));
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "receipt-id:y"));
    ft_gone(t);
}

/* A command Redis never answers: after REDIS_TIMEOUT_MS, ERROR unavailable and the
 * session reads on; the late answer is dropped. */
static void test_redis_timeout(void **state)
{
    (void)state;
    ft *t = connected(NULL);
    feed(t, SEND_F("{\"roomId\":\"r1\",\"message\":\"m\"}", "receipt:slow\n"));
    ft_drain(t);
    assert_int_equal(ft_count(t, "RECEIPT"), 0); /* not flushed: waiting */
    sess_sweep(mono_ms() + 600);
    ft_drain(t);
    assert_non_null(strstr(ft_last(t, "ERROR"), "message:unavailable"));
    fs_flush(); /* the late reply */
    ft_drain(t);
    assert_int_equal(ft_count(t, "RECEIPT"), 0);
    assert_int_equal(t->closed, 0);
    ft_gone(t);
}

static void test_heartbeats(void **state)
{
    (void)state;
    ft *t = connected("1000,1000");
    assert_non_null(strstr(ft_frame(t, 0), "heart-beat:1000,1000"));
    size_t before = t->out.len;
    sess_sweep(mono_ms() + 1000);
    ft_drain(t);
    assert_true(t->out.len == before + 1 && buf_data(&t->out)[before] == '\n'); /* an EOL went out */
    sess_input(t->s, "\n", 1); /* the client's heart-beat */
    sess_sweep(mono_ms() + 1500);
    assert_int_equal(t->closed, 0);
    sess_sweep(mono_ms() + 2500); /* 2 x 1000 ms without a byte: dead */
    assert_int_equal(t->closed, 1); /* closed without writing */
    ft_gone(t);
}

/* Everything queued counts: a client that never reads while asking for RECEIPTs is
 * dropped at max_queue_bytes (8 KiB here) with ERROR unavailable. */
static void test_queue_bound(void **state)
{
    (void)state;
    ft *t = connected(NULL);
    char f[1200];
    int n = snprintf(f, sizeof f, "ACK\nid:a\nreceipt:");
    memset(f + n, 'r', 1000);
    memcpy(f + n + 1000, "\n\n", 3);
    for (int i = 0; i < 20 && t->closed == 0; i++) {
        sess_input(t->s, f, strlen(f) + 1); /* no drain: the client does not read */
        fs_flush();
    }
    assert_int_equal(t->closed, 2);
    assert_true(ft_drain(t));
    assert_non_null(strstr(ft_last(t, "ERROR"), "slow consumer"));
    assert_int_equal(ft_count(t, "RECEIPT"), 0); /* dropped, not sent */
    ft_gone(t);
}

/* A REST leave that lands while a SUBSCRIBE is being checked: the subscription never
 * delivers, and nothing of the room is lost for one that is checked fine. */
static void test_subscribe_leave_race(void **state)
{
    (void)state;
    ft *t = connected(NULL);
    feed(t, "SUBSCRIBE\nid:a\ndestination:/topic/room/r1\nreceipt:s\n\n");
    /* the channel confirmation comes, then the check is sent (member: yes) ... */
    pend *p = F.head;
    assert_int_equal(p->kind, P_SUBSCRIBED);
    F.head = p->next;
    if (!F.head) F.tail = NULL;
    rooms_on_subscribed(p->b, strlen(p->b));
    free(p);
    /* ... and before it is answered the user leaves (the left notice arrives first) */
    set_member("r1", "u1", false);
    rooms_user_left("r1", 2, "u1", 2);
    fs_flush();
    ft_drain(t);
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "receipt-id:s"));
    assert_int_equal(F.joins, 0); /* never counted present */
    ft_gone(t);

    /* messages published while the check is under way are held, then delivered after
     * the RECEIPT */
    set_member("r1", "u1", true);
    t = connected(NULL);
    feed(t, "SUBSCRIBE\nid:b\ndestination:/topic/room/r1\nreceipt:s2\n\n");
    p = F.head;
    F.head = p->next;
    if (!F.head) F.tail = NULL;
    rooms_on_subscribed(p->b, strlen(p->b));
    free(p);
    rooms_on_message("r1", 2, "{\"type\":\"CHAT\",\"message\":\"meanwhile\"}", 38);
    fs_flush();
    ft_drain(t);
    int r = -1, m = -1;
    for (int i = 0; *ft_frame(t, i); i++) {
        if (strncmp(ft_frame(t, i), "RECEIPT", 7) == 0) r = i;
        if (strstr(ft_frame(t, i), "meanwhile")) m = i;
    }
    assert_true(r > 0 && m > r);
    ft_gone(t);
}

/* Presence damping: with a grace, an UNSUBSCRIBE followed by a SUBSCRIBE within it
 * publishes neither LEAVE nor a second JOIN; after it, one LEAVE. */
static void test_presence_grace(void **state)
{
    (void)state;
    sess_conf c = {
        .limits = STOMP_LIMITS_DEFAULT, .max_queue_bytes = 65536,
        .send_rate = {.burst = 100, .per_sec = 0}, .heartbeat_ms = 0, .max_subs = 10,
        .connect_timeout_ms = 1000, .redis_timeout_ms = 500, .presence_grace_ms = 1000,
        .relay_id = "test", .recover_max = 5,
    };
    sess_init(&c, &fake_store, cmd_dispatch);
    ft *t = connected(NULL);
    for (int i = 0; i < 10; i++) {
        char f[128];
        snprintf(f, sizeof f, "SUBSCRIBE\nid:%d\ndestination:/topic/room/r1\n\n", i);
        send0(t, f);
        snprintf(f, sizeof f, "UNSUBSCRIBE\nid:%d\n\n", i);
        send0(t, f);
    }
    assert_int_equal(F.joins, 1);
    assert_int_equal(F.leaves, 0);
    rooms_sweep(mono_ms() + 500);
    assert_int_equal(F.leaves, 0);
    rooms_sweep(mono_ms() + 1100);
    fs_flush();
    assert_int_equal(F.leaves, 1);
    ft_gone(t);
}

/* After a Pub/Sub outage the tokens are looked up again: a session whose token is
 * gone is revoked (ERROR unauthorized, close). */
static void test_recheck_tokens(void **state)
{
    (void)state;
    ft *t = connected(NULL);
    sess_recheck_tokens();
    fs_flush();
    ft_drain(t);
    assert_int_equal(t->closed, 0);
    F.token_hash[0] = 'X'; /* logged out meanwhile */
    sess_recheck_tokens();
    fs_flush();
    ft_drain(t);
    assert_non_null(strstr(ft_last(t, "ERROR"), "message:unauthorized"));
    assert_int_equal(t->closed, 2);
    ft_gone(t);
}

/* Stored messages carry offset and epoch; a SUBSCRIBE's RECEIPT names the epoch and
 * the newest offset. */
static void test_offsets(void **state)
{
    (void)state;
    ft *t = connected(NULL);
    send0(t, "SUBSCRIBE\nid:a\ndestination:/topic/room/r1\nreceipt:s\n\n");
    const char *r = ft_last(t, "RECEIPT");
    assert_non_null(strstr(r, "x-epoch:\n") || strstr(r, "x-epoch:"));
    assert_non_null(strstr(r, "x-offset:0"));
    assert_null(strstr(r, "x-recovered")); /* not asked */
    send0(t, SEND_F("{\"roomId\":\"r1\",\"message\":\"one\"}", ""));
    send0(t, SEND_F("{\"roomId\":\"r1\",\"message\":\"two\"}", ""));
    assert_non_null(strstr(ft_last(t, "MESSAGE"), "\"offset\":2,\"epoch\":\"E1\"}"));
    send0(t, "SUBSCRIBE\nid:b\ndestination:/topic/room/r1\nreceipt:s2\n\n");
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "x-offset:2"));
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "x-epoch:E1"));
    ft_gone(t);
}

/* Recovery: the RECEIPT (x-recovered:true), then exactly the missed messages in order,
 * then live ones; a message published while the check ran comes once. */
static void test_recovery(void **state)
{
    (void)state;
    ft *w = connected(NULL);
    for (int i = 1; i <= 4; i++) {
        char f[128];
        snprintf(f, sizeof f, SEND_F("{\"roomId\":\"r1\",\"message\":\"m%d\"}", ""), i);
        send0(w, f);
    }
    ft *t = connected(NULL);
    feed(t, "SUBSCRIBE\nid:a\ndestination:/topic/room/r1\nreceipt:s\nx-since-offset:1\nx-since-epoch:E1\n\n");
    /* channel confirmed; then m5 is published before the check runs, m6 after */
    pend *p = F.head;
    F.head = p->next;
    if (!F.head) F.tail = NULL;
    rooms_on_subscribed(p->b, strlen(p->b)); /* sends the check: reads up to m4 */
    free(p);
    send0(w, SEND_F("{\"roomId\":\"r1\",\"message\":\"m5\"}", "")); /* flushes all */
    ft_drain(t);
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "x-recovered:true"));
    assert_non_null(strstr(ft_last(t, "RECEIPT"), "x-offset:4"));
    int want = 2;
    for (int i = 0; *ft_frame(t, i); i++) {
        const char *f = ft_frame(t, i);
        if (strncmp(f, "MESSAGE", 7) != 0 || !strstr(f, "\"type\":\"CHAT\"")) continue;
        char m[16];
        snprintf(m, sizeof m, "\"m%d\"", want);
        if (!strstr(f, m)) fail_msg("frame %d: wanted m%d, got %s", i, want, f);
        want++;
    }
    assert_int_equal(want, 6); /* m2 m3 m4 replayed, m5 live: each once, in order */
    ft_gone(t);

    /* another epoch, or more than RECOVER_MAX (5) missed: x-recovered:false, live only */
    static const char *const asks[] = {"x-since-offset:1\nx-since-epoch:OLD\n", "x-since-offset:0\nx-since-epoch:E1\n"};
    for (int k = 0; k < 2; k++) {
        if (k == 1) { /* 7 stored: more than RECOVER_MAX after offset 0 (w's bucket is empty) */
            ft *w2 = connected(NULL);
            for (int i = 0; i < 2; i++) send0(w2, SEND_F("{\"roomId\":\"r1\",\"message\":\"more\"}", ""));
            assert_int_equal(F.seq, 7);
            ft_gone(w2);
        }
        t = connected(NULL);
        char f[256];
        snprintf(f, sizeof f, "SUBSCRIBE\nid:x\ndestination:/topic/room/r1\nreceipt:s\n%s\n", asks[k]);
        send0(t, f);
        if (!strstr(ft_last(t, "RECEIPT"), "x-recovered:false"))
            fail_msg("k=%d: receipt '%s', error '%s'", k, ft_last(t, "RECEIPT"), ft_last(t, "ERROR"));
        for (int i = 0; *ft_frame(t, i); i++) assert_null(strstr(ft_frame(t, i), "\"type\":\"CHAT\""));
        ft_gone(t);
    }
    /* malformed since headers: protocol error */
    t = connected(NULL);
    send0(t, "SUBSCRIBE\nid:y\ndestination:/topic/room/r1\nx-since-offset:abc\nx-since-epoch:E1\n\n");
    assert_non_null(strstr(ft_last(t, "ERROR"), "message:protocol"));
    ft_gone(t);
    ft_gone(w);
}

int main(void)
{
    log_init("test", "error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redis_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscribe_leave_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_presence_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recheck_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_file_gone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
