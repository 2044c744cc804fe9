/* The clock-skew estimate (net/skew.h): minimum one-way delays give the offset and RTT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/skew.h"

static void test_skew_estimate(void **state)
{
    (void)state;
    struct net_skew s;
    net_skew_init(&s);
    assert_int_equal(net_skew_offset(&s), 0);
    assert_true(net_skew_local_min(&s) == INT64_MAX);
    /* peer clock is 1000 behind ours; one-way delay 50 each way */
    net_skew_update(&s, 10050 + 1000, 10000, 50 - 1000);
    assert_int_equal(net_skew_offset(&s), 1000);
    assert_int_equal(net_skew_rtt(&s), 100);
    /* a slower message does not change the minimum */
    net_skew_update(&s, 20500 + 1000, 20000, 400 - 1000);
    assert_int_equal(net_skew_offset(&s), 1000);
}

/* Timestamps and offsets are peer input: extreme ones saturate instead of overflowing (the
 * sanitizer build stops on a signed overflow). */
static void test_skew_extremes_saturate(void **state)
{
    (void)state;
    struct net_skew s;
    net_skew_init(&s);
    net_skew_update(&s, (uint64_t)INT64_MAX - 1, 0, INT64_MIN); /* local 2^63-2, remote -2^63 */
    assert_int_equal(net_skew_offset(&s), INT64_MAX / 2);
    assert_int_equal(net_skew_rtt(&s), 0);
    net_skew_init(&s);
    net_skew_update(&s, (uint64_t)INT64_MAX + 2, 0, INT64_MAX - 1); /* local -2^63+1, remote 2^63-2 */
    assert_int_equal(net_skew_offset(&s), INT64_MIN / 2);
    net_skew_init(&s);
    net_skew_update(&s, (uint64_t)INT64_MAX - 1, 0, INT64_MAX - 1);
    assert_int_equal(net_skew_rtt(&s), INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skew_estimate),
        cmocka_unit_test(test_skew_extremes_saturate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
