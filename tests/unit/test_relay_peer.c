/* test_relay_peer.c - ws-relay/peer.c: which address is the client's. Behind a
 * loopback proxy only the last X-Forwarded-For element (the one lighttpd appended)
 * counts; whatever a client puts in the header never reaches a log as its address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "peer.h"

static void test_pick(void **state)
{
    static const struct { int line; const char *sock, *xff, *want; } rows[] = {
        {__LINE__, "127.0.0.1", NULL, "127.0.0.1"},
        {__LINE__, "127.0.0.1", "203.0.113.7", "203.0.113.7"},
        {__LINE__, "127.0.0.1", "6.6.6.6, 203.0.113.7", "203.0.113.7"},     /* forged first */
        {__LINE__, "127.0.0.1", "6.6.6.6 forged=1, 198.51.100.2", "198.51.100.2"},
        {__LINE__, "127.0.0.1", "2001:db8::1", "2001:db8::1"},
        {__LINE__, "::1", "198.51.100.2", "198.51.100.2"},
        {__LINE__, "127.0.0.1", "6.6.6.6 forged=1", "127.0.0.1"},           /* not an address */
        {__LINE__, "127.0.0.1", "", "127.0.0.1"},
        {__LINE__, "127.0.0.1", "a\"b", "127.0.0.1"},
        {__LINE__, "203.0.113.9", "6.6.6.6", "203.0.113.9"},                /* not via a proxy */
        {__LINE__, "garbage", NULL, "-"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[48];
        peer_pick(rows[i].sock, rows[i].xff, out, sizeof out);
        if (strcmp(out, rows[i].want) != 0) fail_msg("row at line %d: got '%s'", rows[i].line, out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pick)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
