/* The rules behind `profile check`: verdicts and advice for given values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/env_check.h"
#include <string.h>

static void test_rlimit_rules(void **state)
{
    (void)state;
    struct env_result r;
    env_judge_rlimit(&r, "nofile", 1024, 4096, 16384, "nofile");
    assert_int_equal(r.verdict, ENV_WARN);
    assert_string_equal(r.value, "soft=1024 hard=4096");
    assert_non_null(strstr(r.advice, "* soft nofile unlimited"));
    env_judge_rlimit(&r, "nofile", 65536, 65536, 16384, "nofile");
    assert_int_equal(r.verdict, ENV_OK);
    assert_string_equal(r.advice, "");
    env_judge_rlimit(&r, "memlock", 65536, RLIM_INFINITY, RLIM_INFINITY, "memlock");
    assert_int_equal(r.verdict, ENV_WARN); /* memlock must be unlimited */
    env_judge_rlimit(&r, "memlock", RLIM_INFINITY, RLIM_INFINITY, RLIM_INFINITY, "memlock");
    assert_int_equal(r.verdict, ENV_OK);
    assert_string_equal(r.value, "soft=unlimited hard=unlimited");
}

static void test_other_rules(void **state)
{
    (void)state;
    struct env_result r;
    env_judge_map_count(&r, 65530, 10000000);
    assert_int_equal(r.verdict, ENV_WARN);
    assert_non_null(strstr(r.advice, "vm.max_map_count=10000000"));
    env_judge_map_count(&r, 10000000, 10000000);
    assert_int_equal(r.verdict, ENV_OK);
    env_judge_governors(&r, 0, 0);
    assert_int_equal(r.verdict, ENV_INFO);
    env_judge_governors(&r, 4, 3);
    assert_int_equal(r.verdict, ENV_WARN);
    env_judge_governors(&r, 4, 4);
    assert_int_equal(r.verdict, ENV_OK);
    env_judge_timer(&r, 50000, 90000);
    assert_int_equal(r.verdict, ENV_OK);
    env_judge_timer(&r, 50000, 400000);
    assert_int_equal(r.verdict, ENV_WARN);
}

static void test_all_checks_run(void **state)
{
    (void)state;
    struct env_result r[16];
    assert_int_equal(env_check_all(r, 4), 0); /* too small a buffer: nothing written */
    unsigned n = env_check_all(r, 16);
    assert_int_equal(n, 9);
    for (unsigned i = 0; i < n; i++) {
        assert_true(r[i].name[0] != '\0');
        if (r[i].verdict == ENV_WARN)
            assert_true(r[i].advice[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rlimit_rules),
        cmocka_unit_test(test_other_rules),
        cmocka_unit_test(test_all_checks_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
