/* The precise wait's plan (clock_wait_split): when to sleep and what is left to spin, as a pure
 * function of now, the target and the spin margin. No assertion on how precise a real wait is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"

static void test_far_target_sleeps_then_spins(void **state)
{
    (void)state;
    uint64_t to = 0;
    assert_int_equal(clock_wait_split(1000 * NS_PER_US, 3000 * NS_PER_US, 50 * NS_PER_US, &to), 1);
    assert_int_equal(to, 2950 * NS_PER_US); /* sleep to 50 µs before, spin the rest */
}

static void test_near_target_only_spins(void **state)
{
    (void)state;
    uint64_t to = 7;
    assert_int_equal(clock_wait_split(1000, 1000 + 50 * NS_PER_US, 50 * NS_PER_US, &to), 0);
    assert_int_equal(clock_wait_split(1000, 1001, 50 * NS_PER_US, &to), 0);
    assert_int_equal(to, 7); /* untouched: no sleep */
}

static void test_past_or_present_target_does_nothing(void **state)
{
    (void)state;
    uint64_t to = 7;
    assert_int_equal(clock_wait_split(5000, 5000, 0, &to), 0);
    assert_int_equal(clock_wait_split(5000, 4000, 50 * NS_PER_US, &to), 0);
    assert_int_equal(to, 7);
}

static void test_zero_spin_sleeps_to_the_target(void **state)
{
    (void)state;
    uint64_t to = 0;
    assert_int_equal(clock_wait_split(1000, 2000, 0, &to), 1);
    assert_int_equal(to, 2000);
}

static void test_wait_until_a_past_time_returns(void **state)
{
    (void)state;
    uint64_t before = clock_now_ns();
    clock_wait_until(before - NS_PER_MS, 50 * NS_PER_US); /* nothing to wait for */
    clock_wait_until(clock_now_ns() + 100 * NS_PER_US, 50 * NS_PER_US);
    assert_true(clock_now_ns() >= before + 100 * NS_PER_US); /* never early (an order, not a precision) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_far_target_sleeps_then_spins),
        cmocka_unit_test(test_near_target_only_spins),
        cmocka_unit_test(test_past_or_present_target_does_nothing),
        cmocka_unit_test(test_zero_spin_sleeps_to_the_target),
        cmocka_unit_test(test_wait_until_a_past_time_returns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
