/* test_relay_recover.c - ws-relay/recover.c: when a replay is complete, and which held
 * live messages follow it (overlapping the replay, arriving before it, skipping ahead). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "recover.h"

static void test_ok(void **state)
{
    (void)state;
    static const int64_t seq[] = {4, 5, 6, 7}, gap[] = {4, 6, 7}, late[] = {5, 6, 7}, dup[] = {4, 4, 5, 6};
    static const struct {
        int line;
        int64_t since;
        const char *since_epoch, *epoch;
        int64_t newest;
        const int64_t *offs;
        size_t n, max;
        bool ok;
    } rows[] = {
        {__LINE__, 3, "E", "E", 7, seq, 4, 500, true},   /* 4..7 missed, 4..7 read */
        {__LINE__, 7, "E", "E", 7, seq, 0, 500, true},   /* nothing missed */
        {__LINE__, 3, "E", "F", 7, seq, 4, 500, false},  /* the history was lost meanwhile */
        {__LINE__, 3, "E", "", 0, seq, 0, 500, false},   /* the room has no history now */
        {__LINE__, 3, "E", "E", 7, seq, 4, 3, false},    /* more than RECOVER_MAX */
        {__LINE__, 3, "E", "E", 7, seq, 4, 4, true},     /* exactly RECOVER_MAX */
        {__LINE__, 3, "E", "E", 7, gap, 3, 500, false},  /* a hole */
        {__LINE__, 3, "E", "E", 7, late, 3, 500, false}, /* 4 trimmed from history */
        {__LINE__, 3, "E", "E", 7, dup, 4, 500, false},
        {__LINE__, 3, "E", "E", 7, seq, 3, 500, false},  /* read fewer than missed */
        {__LINE__, 9, "E", "E", 7, seq, 0, 500, false},  /* ahead of the room */
        {__LINE__, -1, "E", "E", 7, seq, 0, 500, false},
        {__LINE__, 0, "", "", 0, seq, 0, 500, true},     /* an empty room, seen empty */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        recover_in in = {rows[i].since, rows[i].since_epoch, rows[i].epoch, rows[i].newest,
                         rows[i].offs, rows[i].n, rows[i].max};
        if (recover_ok(&in) != rows[i].ok) fail_msg("row at line %d", rows[i].line);
    }
}

static void test_held(void **state)
{
    (void)state;
    /* recovered up to 7: held 6 and 7 overlap the replay, 8 follows, presence always */
    assert_false(recover_keep_held(6, true, 7));
    assert_false(recover_keep_held(7, true, 7));
    assert_true(recover_keep_held(8, true, 7));
    assert_true(recover_keep_held(10, true, 7)); /* skips ahead: the client sees the gap */
    assert_true(recover_keep_held(0, true, 7));
    /* not recovered: every held message is live for this subscriber */
    assert_true(recover_keep_held(6, false, 7));
    assert_true(recover_keep_held(0, false, 7));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_ok), cmocka_unit_test(test_held)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
