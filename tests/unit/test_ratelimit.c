/* test_ratelimit.c - unit tests for ws-relay/ratelimit.c (the SEND token bucket).
 *
 * Table-driven: each row is a bucket configuration and a script of (time, expected
 * result) steps; every failure names the row's __LINE__ and the step. The clock is
 * passed in, so nothing sleeps.
 *
 * Deliberately not here: how the session reacts to a refusal (integration tests). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "ratelimit.h"

#define MAXSTEPS 16

struct step {
    int64_t at;  /* ms since the bucket was created */
    int times;   /* rl_take calls at that time */
    int granted; /* how many of them must succeed */
};

struct row {
    int line;
    rl_conf conf;
    struct step steps[MAXSTEPS]; /* ends at times == 0 */
};

static const struct row rows[] = {
    /* starts full: the burst passes at once, the next is refused */
    {__LINE__, {100, 20}, {{0, 100, 100}, {0, 1, 0}}},
    /* 20/s refills one token per 50 ms, never more than asked for */
    {__LINE__, {100, 20}, {{0, 100, 100}, {49, 1, 0}, {50, 1, 1}, {50, 1, 0}, {150, 3, 2}}},
    /* the bucket never holds more than the burst, however long it was idle */
    {__LINE__, {5, 20}, {{0, 5, 5}, {100000, 10, 5}}},
    /* sustained rate: 1/s with burst 1 */
    {__LINE__, {1, 1}, {{0, 2, 1}, {999, 1, 0}, {1000, 1, 1}, {1500, 1, 0}, {2000, 1, 1}}},
    /* rate 0: only the burst, ever */
    {__LINE__, {3, 0}, {{0, 4, 3}, {1000000, 1, 0}}},
    /* partial tokens accumulate across calls (3/s: 333 ms is not yet one token); a
     * full bucket drops the surplus fraction (1002 thousandths are capped to 1000) */
    {__LINE__, {1, 3}, {{0, 1, 1}, {333, 1, 0}, {334, 1, 1}, {667, 1, 0}, {668, 1, 1}}},
    /* a clock going backwards refills nothing and breaks nothing */
    {__LINE__, {2, 10}, {{1000, 2, 2}, {500, 1, 0}, {1100, 1, 1}}},
    /* burst 0 is treated as 1 */
    {__LINE__, {0, 0}, {{0, 2, 1}}},
    /* very long idle periods do not overflow */
    {__LINE__, {1000000, 1000000}, {{0, 1, 1}, {INT64_MAX / 2, 3, 3}}},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const struct row *row = &rows[r];
        rl_bucket b;
        rl_init(&b, &row->conf, 0);
        for (int s = 0; s < MAXSTEPS && row->steps[s].times; s++) {
            const struct step *st = &row->steps[s];
            int granted = 0;
            for (int i = 0; i < st->times; i++) granted += rl_take(&b, &row->conf, st->at);
            if (granted != st->granted)
                fail_msg("line %d step %d (t=%lld): %d of %d granted, expected %d", row->line, s,
                         (long long)st->at, granted, st->times, st->granted);
        }
    }
}

/* The defaults from the contract: a burst of 100 and 20 a second sustained, over a
 * simulated minute of a client sending as fast as it can every 10 ms. */
static void test_defaults_sustained(void **state)
{
    (void)state;
    rl_conf c = {100, 20};
    rl_bucket b;
    rl_init(&b, &c, 0);
    int granted = 0;
    for (int64_t t = 0; t <= 60000; t += 10) granted += rl_take(&b, &c, t);
    /* 100 at once plus 20 per second for 60 s */
    assert_int_equal(granted, 100 + 20 * 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_defaults_sustained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
