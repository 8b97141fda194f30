/* test_list.c - common/list.h: order, removal in a walk, entries, unlinked nodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "list.h"

typedef struct item {
    int v;
    list_node node;
} item;

static void test_list(void **state)
{
    (void)state;
    list_node head = LIST_INIT(head);
    item a = {.v = 1}, b = {.v = 2}, c = {.v = 3};
    assert_true(list_empty(&head));
    assert_false(list_linked(&a.node));
    list_add_tail(&head, &a.node);
    list_add_tail(&head, &b.node);
    list_add(&head, &c.node); /* c a b */
    int want[] = {3, 1, 2}, k = 0;
    list_for_each(p, &head) assert_int_equal(list_entry(p, item, node)->v, want[k++]);
    assert_int_equal(k, 3);
    assert_int_equal(list_first(&head, item, node)->v, 3);
    list_for_each_safe(p, &head) if (list_entry(p, item, node)->v != 2) list_del(p); /* remove while walking */
    assert_int_equal(list_first(&head, item, node)->v, 2);
    assert_false(list_linked(&a.node));
    list_del(&a.node); /* harmless when unlinked */
    list_del(&b.node);
    assert_true(list_empty(&head));
    assert_null(list_first(&head, item, node));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_list)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
