/* Executor thread policy: what to ask the OS for under given limits (pure), CPU lists, and the
 * one-line description of what was granted or refused. Applying it is checked only for never
 * failing the thread: what the OS grants depends on the machine. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "worker/thread_policy.h"
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static struct thread_policy policy(int rt, int nice)
{
    struct thread_policy p;
    thread_policy_defaults(&p);
    p.rt_priority = rt;
    p.nice = nice;
    return p;
}

static void test_defaults(void **state)
{
    (void)state;
    struct thread_policy p;
    thread_policy_defaults(&p);
    assert_int_equal(p.rt_priority, THREAD_POLICY_DEFAULT_RT);
    assert_int_equal(p.nice, THREAD_POLICY_DEFAULT_NICE);
    assert_int_equal(p.spin_ns, THREAD_POLICY_DEFAULT_SPIN_NS);
    assert_false(thread_policy_has_cpus(&p));
}

static void test_plan_privileged_gets_what_it_asks(void **state)
{
    (void)state;
    struct thread_policy_plan pl;
    struct thread_policy p = policy(50, -10);
    thread_policy_plan(&p, 0, 20, 1, &pl);
    assert_int_equal(pl.rt_priority, 50);
    assert_int_equal(pl.nice, -10);
    p = policy(120, -40); /* out of range: clamped */
    thread_policy_plan(&p, 0, 20, 1, &pl);
    assert_int_equal(pl.rt_priority, 99);
    assert_int_equal(pl.nice, -20);
}

static void test_plan_unprivileged_follows_limits(void **state)
{
    (void)state;
    struct thread_policy_plan pl;
    struct thread_policy p = policy(50, -10);
    thread_policy_plan(&p, 0, 0, 0, &pl); /* RLIMIT_RTPRIO 0: no real-time; RLIMIT_NICE: no lower niceness */
    assert_int_equal(pl.rt_priority, 0);
    assert_int_equal(pl.nice, 0);
    thread_policy_plan(&p, 20, -5, 0, &pl); /* rtprio 20 allowed, nice down to -5 */
    assert_int_equal(pl.rt_priority, 20);
    assert_int_equal(pl.nice, -5);
    thread_policy_plan(&p, 99, -20, 0, &pl);
    assert_int_equal(pl.rt_priority, 50);
    assert_int_equal(pl.nice, -10);
    p = policy(0, 5); /* real-time off; a higher niceness is always allowed */
    thread_policy_plan(&p, 99, 0, 0, &pl);
    assert_int_equal(pl.rt_priority, 0);
    assert_int_equal(pl.nice, 5);
}

static int has_cpu(const struct thread_policy *p, int c) { return (p->cpus[c / 64] >> (c % 64)) & 1; }

static void test_parse_cpus(void **state)
{
    (void)state;
    struct thread_policy p = policy(0, 0);
    assert_int_equal(thread_policy_parse_cpus(&p, "0-2,5,64"), 0);
    assert_true(has_cpu(&p, 0) && has_cpu(&p, 1) && has_cpu(&p, 2) && has_cpu(&p, 5) && has_cpu(&p, 64));
    assert_false(has_cpu(&p, 3) || has_cpu(&p, 4) || has_cpu(&p, 63));
    assert_true(thread_policy_has_cpus(&p));
    const char *bad[] = {"", "x", "1-", "3-1", "1,", ",1", "1;2", "-1", "1024", "0-99999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct thread_policy q = policy(0, 0);
        assert_int_equal(thread_policy_parse_cpus(&q, bad[i]), -1);
        assert_false(thread_policy_has_cpus(&q)); /* unchanged */
    }
}

static void test_describe(void **state)
{
    (void)state;
    char buf[256];
    struct thread_policy_outcome o = {.rt_priority = 50};
    thread_policy_describe(&o, buf, sizeof buf);
    assert_string_equal(buf, "SCHED_FIFO priority 50");
    o = (struct thread_policy_outcome){.nice = -10, .rt_errno = EPERM};
    thread_policy_describe(&o, buf, sizeof buf);
    assert_string_equal(buf, "nice -10 (real-time refused: Operation not permitted)");
    o = (struct thread_policy_outcome){.rt_limited = 1, .nice_limited = 1};
    thread_policy_describe(&o, buf, sizeof buf);
    assert_string_equal(buf, "normal priority (real-time not permitted by RLIMIT_RTPRIO; RLIMIT_NICE limits niceness)");
    o = (struct thread_policy_outcome){.rt_priority = 1, .pin_errno = EINVAL};
    thread_policy_describe(&o, buf, sizeof buf);
    assert_string_equal(buf, "SCHED_FIFO priority 1, not pinned (Invalid argument)");
    o = (struct thread_policy_outcome){0};
    thread_policy_describe(&o, buf, sizeof buf);
    assert_string_equal(buf, "normal priority");
}

static void test_apply_never_fails_the_thread(void **state)
{
    (void)state;
    errno = 0;
    int now = getpriority(PRIO_PROCESS, (id_t)gettid());
    int nice = now < 19 ? now + 1 : 19;
    struct thread_policy p = policy(0, nice ? nice : 1); /* raising the niceness is always permitted */
    struct thread_policy_outcome o;
    thread_policy_apply(&p, &o);
    assert_int_equal(o.rt_priority, 0);
    assert_int_equal(o.nice, p.nice);
    assert_int_equal(o.nice_errno, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_plan_privileged_gets_what_it_asks),
        cmocka_unit_test(test_plan_unprivileged_follows_limits),
        cmocka_unit_test(test_parse_cpus),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_apply_never_fails_the_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
