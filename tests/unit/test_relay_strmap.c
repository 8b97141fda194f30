/* test_relay_strmap.c - unit tests for ws-relay/strmap.c: put/get/replace/delete,
 * growth past many entries, iteration visiting each entry once, an emptied map
 * holding no memory, keys with NUL bytes and common prefixes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "strmap.h"

#define N 5000

static char keys[N][24];

static void test_many(void **state)
{
    (void)state;
    strmap m = STRMAP_INIT;
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "room-%d", i);
        strmap_put(&m, keys[i], strlen(keys[i]), keys[i]);
    }
    assert_int_equal(m.count, N);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(strmap_get(&m, keys[i], strlen(keys[i])), keys[i]);
    assert_null(strmap_get(&m, "room-", 5));
    assert_null(strmap_get(&m, "room-50000", 10));

    /* iteration sees every entry exactly once */
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    size_t slot = 0, n = 0;
    strmap_ent *cur = NULL;
    while (strmap_next(&m, &slot, &cur)) {
        int i = (int)((char(*)[24])cur->val - keys);
        assert_true(i >= 0 && i < N);
        assert_int_equal(seen[i], 0);
        seen[i] = 1;
        n++;
    }
    assert_int_equal(n, N);

    /* replace keeps the count */
    strmap_put(&m, keys[7], strlen(keys[7]), keys[8]);
    assert_int_equal(m.count, N);
    assert_ptr_equal(strmap_get(&m, keys[7], strlen(keys[7])), keys[8]);

    for (int i = 0; i < N; i++) assert_non_null(strmap_del(&m, keys[i], strlen(keys[i])));
    assert_int_equal(m.count, 0);
    assert_null(m.slots); /* empty maps hold no memory */
    assert_null(strmap_del(&m, keys[0], strlen(keys[0])));
    strmap_free(&m);
}

static void test_binary_keys(void **state)
{
    (void)state;
    strmap m = STRMAP_INIT;
    static const char a[] = "a\0b", b[] = "a\0c";
    strmap_put(&m, a, 3, (void *)a);
    strmap_put(&m, b, 3, (void *)b);
    assert_ptr_equal(strmap_get(&m, a, 3), a);
    assert_ptr_equal(strmap_get(&m, b, 3), b);
    assert_null(strmap_get(&m, a, 1));
    size_t slot = 0;
    strmap_ent *cur = NULL;
    assert_non_null(strmap_next(&m, &slot, &cur));
    strmap_free(&m);
    slot = 0;
    cur = NULL;
    assert_null(strmap_next(&m, &slot, &cur)); /* empty map: nothing to walk */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_binary_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
