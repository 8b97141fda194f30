/* test_sockjs_sess.c - the SockJS session core (ws-relay/sockjs_sess.c) on its own:
 * fake connections behind sockjs_link_ops, the real STOMP engine with a fake store that
 * knows one token and answers only when told (fs_flush), a private uv loop for the
 * core's timers. No lws, no sockets: what the core asks of its connections is counted.
 *
 * Covered: frame production ("o", a[...], "h", c[...]), one receiver per session
 * (2010), the owner check (address, then the cookie once seen), held xhr_send requests
 * released in order once the engine resumes, and 404 (NULL) when their session is
 * freed, the disconnect timeout, shutdown.
 *
 * Deliberately not here: HTTP and WebSocket framing (tests/node), URL parsing and JSON
 * framing (test_sockjs_path.c, test_sockjs_frame.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "command.h"
#include "log.h"
#include "session.h"
#include "sockjs_sess.h"
#include "store.h"
#include "token.h"
#include "util.h"

#define TOKEN "tok-0123456789abcdefghijklmnopqrstuvwxyzABC"
#define PEER "192.0.2.1"

/* ---- the fake store: one token, one answer held at a time ---------------------------- */

static char token_hash_hex[TOKEN_HASH_LEN + 1];
static store_user_cb held_cb;
static void *held_ud;

static bool fs_up(void) { return true; }

static chat_rc fs_user_by_token(const char *hash, store_user_cb cb, void *ud)
{
    assert_string_equal(hash, token_hash_hex);
    held_cb = cb;
    held_ud = ud;
    return CHAT_OK;
}

static void fs_flush(void)
{
    store_user_cb cb = held_cb;
    held_cb = NULL;
    if (cb) cb(held_ud, CHAT_OK, "u1", "Alice");
}

static const relay_store fake_store = {.ready = fs_up, .sub_ready = fs_up,
                                       .user_by_token = fs_user_by_token};

/* ---- fake connections ----------------------------------------------------------------- */

typedef struct fc {
    sockjs_link link;
    int wants, ended, released, release_order;
    int rx;                  /* last rx_flow: 1 reading, 0 paused */
    sockjs_sess *released_to;
} fc;

static int releases; /* release calls so far, for their order */

static fc *fc_of(sockjs_link *l) { return (fc *)(void *)((char *)l - offsetof(fc, link)); }
static void fc_want_write(sockjs_link *l) { fc_of(l)->wants++; }
static void fc_rx_flow(sockjs_link *l, int enable) { fc_of(l)->rx = enable; }
static void fc_end_soon(sockjs_link *l) { fc_of(l)->ended++; }
static void fc_release(sockjs_link *l, sockjs_sess *sj)
{
    fc *c = fc_of(l);
    assert_null(l->sj);
    c->released++;
    c->release_order = ++releases;
    c->released_to = sj;
}

static const sockjs_link_ops fc_ops = {.want_write = fc_want_write, .rx_flow = fc_rx_flow,
                                       .end_soon = fc_end_soon, .release = fc_release};

/* ---- set-up ------------------------------------------------------------------------------ */

static uv_loop_t loop;
static buf out;

static int setup(void **state)
{
    (void)state;
    token_hash(TOKEN, strlen(TOKEN), token_hash_hex);
    held_cb = NULL;
    releases = 0;
    sess_conf c = {
        .limits = STOMP_LIMITS_DEFAULT, .max_queue_bytes = 8192,
        .send_rate = {.burst = 5, .per_sec = 0}, .heartbeat_ms = 0, .max_subs = 3,
        .connect_timeout_ms = 10000, .redis_timeout_ms = 10000, .relay_id = "test",
    };
    sess_init(&c, &fake_store, cmd_dispatch);
    setenv("SOCKJS_HEARTBEAT_MS", "50", 1);
    setenv("SOCKJS_DISCONNECT_MS", "100", 1);
    sockjs_sess_configure();
    uv_loop_init(&loop);
    sockjs_sess_start(&loop, &fc_ops);
    buf_init(&out, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sockjs_sess_stop();
    uv_run(&loop, UV_RUN_NOWAIT); /* the timers' close callbacks */
    assert_int_equal(uv_loop_close(&loop), 0);
    buf_free(&out);
    assert_int_equal(sess_count(), 0);
    return 0;
}

/* The next frame of sj as a string ("" for none). */
static const char *next(sockjs_sess *sj, enum sockjs_next want)
{
    static char f[2048];
    buf_reset(&out);
    assert_int_equal(sockjs_next_frame(sj, &out, mono_ms()), want);
    snprintf(f, sizeof f, "%.*s", (int)out.len, buf_data(&out));
    return f;
}

static void feed(sockjs_sess *sj, const char *frame)
{
    sockjs_sess_input(sj, frame, strlen(frame) + 1); /* with its NUL */
}

#define CONNECT_F "CONNECT\naccept-version:1.2\nheart-beat:0,0\npasscode:" TOKEN "\n\n"

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_frames_and_receivers(void **state)
{
    (void)state;
    fc a = {0}, b = {0};
    const char *why = NULL;
    sockjs_sess *sj = sockjs_sess_create("s1", 2, PEER);
    assert_non_null(sj);
    assert_ptr_equal(sockjs_sess_find("s1", 2), sj);
    assert_int_equal(sockjs_sess_attach(sj, &a.link, &why), 0);
    assert_ptr_equal(a.link.sj, sj);
    assert_int_equal(a.wants, 1);
    assert_int_equal(sockjs_sess_attach(sj, &b.link, &why), 2010);
    assert_string_equal(why, "Another connection still open");
    assert_null(b.link.sj);

    assert_string_equal(next(sj, SOCKJS_NEXT_FRAME), "o");
    assert_string_equal(next(sj, SOCKJS_NEXT_NONE), "");
    feed(sj, CONNECT_F);
    assert_int_equal(a.rx, 0); /* paused while the token is looked up */
    fs_flush();
    assert_int_equal(a.rx, 1);
    assert_true(a.wants > 1);
    assert_memory_equal(next(sj, SOCKJS_NEXT_FRAME), "a[\"CONNECTED\\u000a", 18);
    usleep(60 * 1000);
    assert_string_equal(next(sj, SOCKJS_NEXT_FRAME), "h");

    feed(sj, "DISCONNECT\n\n");
    const char *f = next(sj, SOCKJS_NEXT_CLOSE);
    assert_string_equal(f, "c[3000,\"Go away!\"]");
    assert_int_equal(a.ended, 1); /* DISCONNECT: the receiver is told to end */
    /* A closed session: a new receiver only gets the close frame. */
    sockjs_sess_detach(&a.link);
    assert_null(a.link.sj);
    assert_int_equal(sockjs_sess_attach(sj, &b.link, &why), 3000);
    assert_string_equal(why, "Go away!");
}

static void test_owner(void **state)
{
    (void)state;
    sockjs_sess *sj = sockjs_sess_create("s2", 2, PEER);
    const char *cookie = sockjs_sess_cookie(sj);
    char wrong[SOCKJS_COOKIE_LEN + 1];
    assert_int_equal(strlen(cookie), SOCKJS_COOKIE_LEN);
    memset(wrong, 'x', SOCKJS_COOKIE_LEN);
    wrong[SOCKJS_COOKIE_LEN] = '\0';
    assert_false(sockjs_owner_ok(sj, "192.0.2.2", ""));
    assert_false(sockjs_owner_ok(sj, "192.0.2.2", cookie));
    assert_true(sockjs_owner_ok(sj, PEER, ""));  /* no cookie jar: address only */
    assert_false(sockjs_owner_ok(sj, PEER, wrong));
    assert_false(sockjs_owner_ok(sj, PEER, "short"));
    assert_true(sockjs_owner_ok(sj, PEER, cookie));
    assert_false(sockjs_owner_ok(sj, PEER, "")); /* the cookie was seen: now required */
}

static void test_held_order(void **state)
{
    (void)state;
    fc r = {0}, h1 = {0}, h2 = {0}, h3 = {0};
    const char *why;
    sockjs_sess *sj = sockjs_sess_create("s3", 2, PEER);
    assert_int_equal(sockjs_sess_attach(sj, &r.link, &why), 0);
    assert_false(sockjs_sess_hold(sj, &h1.link)); /* taking input: feed it now */
    feed(sj, CONNECT_F);
    assert_true(sockjs_sess_hold(sj, &h1.link));
    assert_true(sockjs_sess_hold(sj, &h2.link));
    assert_true(sockjs_sess_hold(sj, &h3.link));
    assert_ptr_equal(h1.link.sj, sj);
    sockjs_sess_unlink(&h2.link); /* its request went away */
    assert_null(h2.link.sj);
    fs_flush();
    assert_int_equal(h1.released, 0); /* deferred: never inside the engine's op */
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(h1.released, 1);
    assert_int_equal(h3.released, 1);
    assert_int_equal(h2.released, 0);
    assert_ptr_equal(h1.released_to, sj);
    assert_int_equal(h1.release_order, 1);
    assert_int_equal(h3.release_order, 2);

    /* Held when its session is freed (disconnect timeout): released with NULL. */
    fc r2 = {0}, h4 = {0};
    sockjs_sess *sj2 = sockjs_sess_create("s6", 2, PEER);
    assert_int_equal(sockjs_sess_attach(sj2, &r2.link, &why), 0);
    feed(sj2, CONNECT_F);
    assert_true(sockjs_sess_hold(sj2, &h4.link));
    sockjs_sess_detach(&r2.link);
    for (int i = 0; i < 20 && !h4.released; i++) {
        usleep(20 * 1000);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(h4.released, 1);
    assert_null(h4.released_to);
    assert_null(sockjs_sess_find("s6", 2));
    fs_flush(); /* the late answer finds its session gone */
    sockjs_sess_detach(&r.link); /* r lives on this stack */
}

static void test_timeout_and_stop(void **state)
{
    (void)state;
    fc r = {0};
    const char *why;
    sockjs_sess *gone = sockjs_sess_create("s4", 2, PEER);
    sockjs_sess *kept = sockjs_sess_create("s5", 2, PEER);
    assert_int_equal(sockjs_sess_attach(kept, &r.link, &why), 0);
    (void)gone;
    usleep(150 * 1000);
    for (int i = 0; i < 20 && sockjs_sess_find("s4", 2); i++) {
        usleep(20 * 1000);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    assert_null(sockjs_sess_find("s4", 2));   /* no receiver for SOCKJS_DISCONNECT_MS */
    assert_ptr_equal(sockjs_sess_find("s5", 2), kept);
    sockjs_sess_stop();
    assert_int_equal(r.ended, 1);             /* shutdown: its receiver is told to end */
    assert_null(r.link.sj);
    assert_null(sockjs_sess_find("s5", 2));
}

int main(void)
{
    log_init("test", "error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_frames_and_receivers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_and_stop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
