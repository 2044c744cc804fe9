/* Who drives a worker (worker/driver.h), on a fake clock: the first connection to act drives
 * it, others are refused while it lives and speaks, and one takes over after its close or its
 * silence past the timeout; the driver's own messages keep it alive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "worker/driver.h"

#define S 1000000000ull

static void test_one_driver_at_a_time(void **state)
{
    (void)state;
    struct net_session *a = (struct net_session *)0x10, *b = (struct net_session *)0x20;
    struct worker_driver d = {.timeout = 10 * S};
    assert_int_equal(worker_driver_admit(&d, a, 1 * S), DRIVER_FIRST);
    assert_int_equal(worker_driver_admit(&d, b, 2 * S), DRIVER_REFUSED);
    assert_int_equal(worker_driver_admit(&d, a, 9 * S), DRIVER_SAME); /* a speaks: heard at 9 s */
    assert_int_equal(worker_driver_admit(&d, b, 18 * S), DRIVER_REFUSED);
    assert_ptr_equal(d.session, a);
    assert_int_equal(worker_driver_admit(&d, b, 19 * S), DRIVER_TAKEOVER); /* 10 s of silence */
    assert_ptr_equal(d.session, b);
    assert_int_equal(worker_driver_admit(&d, a, 20 * S), DRIVER_REFUSED);
    worker_driver_closed(&d, a); /* not the driver: nothing changes */
    assert_ptr_equal(d.session, b);
    worker_driver_closed(&d, b);
    assert_null(d.session);
    assert_int_equal(worker_driver_admit(&d, a, 21 * S), DRIVER_FIRST); /* at once after a close */
}

static void test_clock_going_back_is_not_silence(void **state)
{
    (void)state;
    struct net_session *a = (struct net_session *)0x10, *b = (struct net_session *)0x20;
    struct worker_driver d = {.timeout = 10 * S};
    assert_int_equal(worker_driver_admit(&d, a, 100 * S), DRIVER_FIRST);
    assert_int_equal(worker_driver_admit(&d, b, 5 * S), DRIVER_REFUSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_driver_at_a_time),
        cmocka_unit_test(test_clock_going_back_is_not_silence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
