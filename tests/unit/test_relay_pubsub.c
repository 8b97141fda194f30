/* test_relay_pubsub.c - unit tests for ws-relay/pubsub.c's parser of the REST leave
 * notice "{roomId} {userId}" published on P left. Table-driven with __LINE__. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pubsub.h"

struct row {
    int line;
    const char *in;
    int rc;
    const char *room, *user;
};

static const struct row rows[] = {
    {__LINE__, "r1 u1", 0, "r1", "u1"},
    {__LINE__, "room_A-b user-9_Z", 0, "room_A-b", "user-9_Z"},
    {__LINE__, "r1", -1, NULL, NULL},
    {__LINE__, "r1 ", -1, NULL, NULL},
    {__LINE__, " u1", -1, NULL, NULL},
    {__LINE__, "r1 u1 extra", -1, NULL, NULL},
    {__LINE__, "r:1 u1", -1, NULL, NULL},
    {__LINE__, "", -1, NULL, NULL},
};

static void test_left(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        const char *room = NULL, *user = NULL;
        size_t rl = 0, ul = 0;
        int rc = ps_parse_left(r->in, strlen(r->in), &room, &rl, &user, &ul);
        if (rc != r->rc) fail_msg("line %d: rc %d", r->line, rc);
        if (rc) continue;
        if (rl != strlen(r->room) || memcmp(room, r->room, rl) || ul != strlen(r->user) ||
            memcmp(user, r->user, ul))
            fail_msg("line %d: wrong split", r->line);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
