/* test_prom.c - common/prom (exposition format) and common/loopback (the loopback check
 * behind every metrics endpoint). Table-driven; failures name the row's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "buf.h"
#include "loopback.h"
#include "prom.h"

static void test_family_and_samples(void **state)
{
    buf b;
    buf_init(&b, 0);
    prom_family(&b, "x_total", "counter", "a \\ b\nc");
    const char *l[] = {"route", "a\"b\\c\nd", "status", "200"};
    prom_sample(&b, "x_total", l, 2, 42);
    prom_sample(&b, "x_total", NULL, 0, 0);
    prom_sample_i(&b, "g", NULL, 0, -3);
    assert_string_equal(buf_data(&b),
                        "# HELP x_total a \\\\ b\\nc\n"
                        "# TYPE x_total counter\n"
                        "x_total{route=\"a\\\"b\\\\c\\nd\",status=\"200\"} 42\n"
                        "x_total 0\n"
                        "g -3\n");
    buf_free(&b);
}

static void test_buckets(void **state)
{
    const struct { int line; uint64_t us; size_t want; } rows[] = {
        {__LINE__, 0, 0},
        {__LINE__, 100, 0},          /* le is inclusive */
        {__LINE__, 101, 1},
        {__LINE__, 1000, 3},
        {__LINE__, 10000000, PROM_BUCKETS - 1},
        {__LINE__, 10000001, PROM_BUCKETS},
        {__LINE__, UINT64_MAX, PROM_BUCKETS},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t got = prom_bucket(rows[i].us);
        if (got != rows[i].want) fail_msg("line %d: %llu us -> bucket %zu, want %zu", rows[i].line,
                                          (unsigned long long)rows[i].us, got, rows[i].want);
    }
    for (size_t i = 1; i < PROM_BUCKETS; i++) assert_true(prom_bounds_us[i] > prom_bounds_us[i - 1]);
}

static void test_histogram(void **state)
{
    prom_hist h = {0}, h2 = {0};
    prom_observe(&h, 50);       /* bucket 0.0001 */
    prom_observe(&h, 2000);     /* 0.0025 */
    prom_observe(&h, 2000);
    prom_observe(&h2, 20000000); /* +Inf only */
    prom_hist_add(&h, &h2);
    buf b;
    buf_init(&b, 0);
    const char *l[] = {"route", "r"};
    prom_histogram(&b, "lat_seconds", l, 1, &h);
    const char *s = buf_data(&b);
    assert_non_null(strstr(s, "lat_seconds_bucket{route=\"r\",le=\"0.0001\"} 1\n"));
    assert_non_null(strstr(s, "lat_seconds_bucket{route=\"r\",le=\"0.001\"} 1\n"));
    assert_non_null(strstr(s, "lat_seconds_bucket{route=\"r\",le=\"0.0025\"} 3\n"));
    assert_non_null(strstr(s, "lat_seconds_bucket{route=\"r\",le=\"10\"} 3\n"));
    assert_non_null(strstr(s, "lat_seconds_bucket{route=\"r\",le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(s, "lat_seconds_sum{route=\"r\"} 20.00405\n"));
    assert_non_null(strstr(s, "lat_seconds_count{route=\"r\"} 4\n"));
    /* Cumulative: every bucket line's value is >= the one before. */
    unsigned long long prev = 0, v;
    int lines = 0;
    for (const char *p = s; (p = strstr(p, "_bucket{")); p++) {
        const char *sp = strchr(p, '}');
        assert_int_equal(sscanf(sp + 1, " %llu", &v), 1);
        assert_true(v >= prev);
        prev = v;
        lines++;
    }
    assert_int_equal(lines, PROM_BUCKETS + 1);
    buf_reset(&b);
    prom_histogram(&b, "n", NULL, 0, &h2);
    assert_non_null(strstr(buf_data(&b), "n_bucket{le=\"+Inf\"} 1\nn_sum 20\nn_count 1\n"));
    buf_free(&b);
}

static void test_loopback_text(void **state)
{
    const struct { int line; const char *addr; bool want; } rows[] = {
        {__LINE__, "127.0.0.1", true},
        {__LINE__, "127.255.3.4", true},
        {__LINE__, "::1", true},
        {__LINE__, "::ffff:127.0.0.1", true},
        {__LINE__, "10.0.0.1", false},
        {__LINE__, "192.168.1.20", false},
        {__LINE__, "128.0.0.1", false},
        {__LINE__, "0.0.0.0", false},
        {__LINE__, "203.0.113.7", false},
        {__LINE__, "::", false},
        {__LINE__, "::2", false},
        {__LINE__, "fe80::1", false},
        {__LINE__, "2001:db8::1", false},
        {__LINE__, "::ffff:10.1.2.3", false},
        {__LINE__, "::127.0.0.1", false}, /* IPv4-compatible, not mapped */
        {__LINE__, "localhost", false},   /* names are never trusted */
        {__LINE__, "127.0.0.1, 10.0.0.1", false},
        {__LINE__, "", false},
        {__LINE__, NULL, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bool got = loopback_text(rows[i].addr);
        if (got != rows[i].want) fail_msg("line %d: %s -> %d", rows[i].line, rows[i].addr ? rows[i].addr : "(null)", got);
    }
}

static void test_loopback_sockaddr(void **state)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    const struct { int line; int fam; const char *addr; bool want; } rows[] = {
        {__LINE__, AF_INET, "127.0.0.1", true},
        {__LINE__, AF_INET, "127.1.2.3", true},
        {__LINE__, AF_INET, "172.17.0.2", false},
        {__LINE__, AF_INET, "8.8.8.8", false},
        {__LINE__, AF_INET6, "::1", true},
        {__LINE__, AF_INET6, "::ffff:127.0.0.2", true},
        {__LINE__, AF_INET6, "::ffff:192.0.2.1", false},
        {__LINE__, AF_INET6, "2001:db8::5", false},
        {__LINE__, AF_INET6, "fd00::1", false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bool got;
        if (rows[i].fam == AF_INET) {
            assert_int_equal(inet_pton(AF_INET, rows[i].addr, &v4.sin_addr), 1);
            got = loopback_sockaddr((struct sockaddr *)&v4, sizeof v4);
        } else {
            assert_int_equal(inet_pton(AF_INET6, rows[i].addr, &v6.sin6_addr), 1);
            got = loopback_sockaddr((struct sockaddr *)&v6, sizeof v6);
        }
        if (got != rows[i].want) fail_msg("line %d: %s -> %d", rows[i].line, rows[i].addr, got);
    }
    /* A truncated address is not trusted; a unix-domain peer is local. */
    inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
    assert_false(loopback_sockaddr((struct sockaddr *)&v4, 4));
    assert_false(loopback_sockaddr(NULL, 0));
    assert_true(loopback_sockaddr((struct sockaddr *)&un, sizeof un));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_and_samples),
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_loopback_text),
        cmocka_unit_test(test_loopback_sockaddr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
