/* test_relay_outq.c - unit tests for ws-relay/outq.c: FIFO order, byte accounting,
 * shared tails referenced (not copied) until popped, clearing releases everything.
 *
 * Deliberately not here: the MAX_QUEUE_BYTES policy (session.c); the slow-consumer test
 * tests/node/relay_slow_consumer.test.mjs drives it over the wire. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "msg.h"
#include "outq.h"

static void test_fifo_and_bytes(void **state)
{
    (void)state;
    outq q = OUTQ_INIT;
    msg_shared *m = msg_shared_new("r", 1, "id-1", "{}", 2);
    outq_push(&q, "RECEIPT\n\n", 10);
    outq_push_shared(&q, "MESSAGE\nsubscription:a\n", 23, m);
    outq_push_shared(&q, "MESSAGE\nsubscription:b\n", 23, m);
    assert_int_equal(m->refs, 3); /* ours + two queued frames */
    assert_int_equal(q.bytes, 10 + 2 * (23 + m->len));

    buf out;
    buf_init(&out, 16);
    assert_true(outq_pop(&q, &out));
    assert_int_equal(out.len, 10);
    assert_memory_equal(buf_data(&out), "RECEIPT\n\n", 10);
    buf_reset(&out);
    assert_true(outq_pop(&q, &out));
    assert_int_equal(out.len, 23 + m->len);
    assert_memory_equal(buf_data(&out), "MESSAGE\nsubscription:a\n", 23);
    assert_memory_equal(buf_data(&out) + 23, m->data, m->len);
    assert_int_equal(m->refs, 2);
    assert_int_equal(q.bytes, 23 + m->len);
    assert_false(outq_empty(&q));

    outq_clear(&q);
    assert_true(outq_empty(&q));
    assert_int_equal(q.bytes, 0);
    assert_int_equal(m->refs, 1);
    buf_reset(&out);
    assert_false(outq_pop(&q, &out));
    assert_int_equal(out.len, 0);
    msg_shared_unref(m);
    buf_free(&out);
}

/* Pushing after draining works (tail reset). */
static bool keep_all(const msg_shared *m, void *ctx)
{
    (void)m;
    (void)ctx;
    return true;
}

/* outq_move_if keeping everything: a pending subscription's held frames join the
 * session's queue behind what is already there, bytes and all. */
static void test_move(void **state)
{
    (void)state;
    outq a = OUTQ_INIT, b = OUTQ_INIT;
    buf out;
    buf_init(&out, 0);
    outq_move_if(&a, &b, keep_all, NULL); /* both empty */
    assert_true(outq_empty(&a));
    outq_push(&a, "A", 1);
    outq_push(&b, "BB", 2);
    outq_push(&b, "CCC", 3);
    outq_move_if(&a, &b, keep_all, NULL);
    assert_true(outq_empty(&b));
    assert_int_equal(b.bytes, 0);
    assert_int_equal(a.bytes, 6);
    while (outq_pop(&a, &out)) {}
    assert_int_equal(out.len, 6);
    assert_memory_equal(buf_data(&out), "ABBCCC", 6);
    assert_int_equal(a.bytes, 0);
    outq_push(&b, "D", 1);
    outq_move_if(&a, &b, keep_all, NULL); /* into an empty queue */
    outq_push(&a, "E", 1);
    buf_reset(&out);
    while (outq_pop(&a, &out)) {}
    assert_memory_equal(buf_data(&out), "DE", 2);
    buf_free(&out);
}

static void test_reuse(void **state)
{
    (void)state;
    outq q = OUTQ_INIT;
    buf out;
    buf_init(&out, 0);
    for (int round = 0; round < 3; round++) {
        outq_push(&q, "A", 1);
        outq_push(&q, "B", 1);
        assert_true(outq_pop(&q, &out));
        assert_true(outq_pop(&q, &out));
        assert_false(outq_pop(&q, &out));
    }
    assert_int_equal(out.len, 6);
    assert_memory_equal(buf_data(&out), "ABABAB", 6);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_and_bytes),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_move),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
