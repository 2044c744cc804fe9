/* A large cluster in the simulator: 100 devices (25 workers x 4), 4000 model copies, every
 * request answered and most on time. Prints the event rate; never fails on wall time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "test_sim_helpers.h"

static void large_cluster(const char *type)
{
    struct sim_stats st;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "-q -w 25 -g 4 --seed 5 %s 0 1000 -- slo-exp-1 resnet50_v2 4000 poisson 8000 50 100 2 mul 5",
             type);
    uint64_t w0 = clock_mono_ns();
    assert_int_equal(ts_run(cmd, NULL, NULL, &st), 0);
    double wall = (double)(clock_mono_ns() - w0) / 1e9;
    printf("%s: %u devices, %u models: %llu requests, %llu events in %.2f s wall (%.0f events/s), %.1f s simulated\n",
           type, st.devices, st.models, (unsigned long long)st.requests, (unsigned long long)st.events, wall,
           (double)st.events / wall, (double)st.sim_ns / 1e9);
    assert_int_equal(st.devices, 100);
    assert_int_equal(st.models, 4000);
    assert_true(st.requests > 50000);
    assert_int_equal(st.responses, st.requests);
    assert_true(st.deadline_met > st.requests / 2);
}

static void test_100_devices_4000_models(void **state)
{
    (void)state;
    large_cluster("INFER5");
}

static void test_infer6_100_devices_4000_models(void **state)
{
    (void)state;
    large_cluster("INFER6");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_100_devices_4000_models),
                                       cmocka_unit_test(test_infer6_100_devices_4000_models)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
