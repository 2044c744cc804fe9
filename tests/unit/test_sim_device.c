/* The simulator's device in virtual time, driven by a tiny event loop: an Infer that finds its
 * weights still being transferred follows the same window rule as the threaded device
 * (executor_infer_awaits_load / executor_latest_after_load). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/status.h"
#include "controller/scheduler.h"
#include "sim/sim_device.h"
#include <string.h>

struct loop {
    uint64_t wake[2];
    int pending[2];
    struct sim_task *done[8];
    unsigned n_done;
};

static void l_wake_at(void *data, struct sim_device *d, unsigned ex, uint64_t t)
{
    (void)d;
    struct loop *l = data;
    assert_false(l->pending[ex]); /* at most one wake per executor */
    l->pending[ex] = 1;
    l->wake[ex] = t;
}

static void l_done(void *data, struct sim_device *d, struct sim_task *t)
{
    (void)d;
    struct loop *l = data;
    l->done[l->n_done++] = t;
}

static uint64_t l_exec_time(void *data, const struct sim_task *t, uint64_t profiled)
{
    (void)data, (void)t;
    return profiled;
}

static uint64_t l_turnaround(void *data)
{
    (void)data;
    return 0;
}

/* Runs wakes in time order until none is pending. */
static void run(struct sim_device *d, struct loop *l)
{
    while (l->pending[0] || l->pending[1]) {
        unsigned ex = !l->pending[0] || (l->pending[1] && l->wake[1] < l->wake[0]);
        l->pending[ex] = 0;
        sim_device_wake(d, ex, l->wake[ex]);
    }
}

static struct model_info model(void)
{
    struct model_info m;
    memset(&m, 0, sizeof m);
    m.num_weights_pages = 1;
    m.weights_load_ns = 400;
    m.n_batch_sizes = 1;
    m.batch_sizes[0] = 1;
    m.exec_ns[0] = 50;
    return m;
}

/* A 400 ns transfer the controller expects to take 200, and an Infer planned at 200. */
static void scenario(struct sim_task *load, struct sim_task *inf, const struct model_info *m, uint64_t latest)
{
    *load = (struct sim_task){.type = SCHED_LOAD_WEIGHTS,
                              .action_id = 1,
                              .model_id = 3,
                              .info = m,
                              .latest = UINT64_MAX,
                              .expected_duration = 200};
    *inf = (struct sim_task){.type = SCHED_INFER,
                             .action_id = 2,
                             .model_id = 3,
                             .info = m,
                             .batch_size = 1,
                             .earliest = 200,
                             .latest = latest};
}

static void start(struct sim_device *d, struct loop *l, struct sim_task *load, struct sim_task *inf)
{
    static struct sim_device_ops ops = {
        .wake_at = l_wake_at, .done = l_done, .exec_time = l_exec_time, .turnaround = l_turnaround};
    ops.data = l;
    assert_int_equal(sim_device_init(d, 0, 0, 0, 4096, 1024, &ops), 0);
    sim_device_submit(d, 0, load);
    sim_device_submit(d, 0, inf);
    run(d, l);
    assert_int_equal(l->n_done, 2);
}

static void test_infer_waits_for_overrunning_load(void **state)
{
    (void)state;
    struct model_info m = model();
    struct sim_task load, inf;
    scenario(&load, &inf, &m, 300);
    struct loop l = {0};
    struct sim_device d;
    start(&d, &l, &load, &inf);
    assert_ptr_equal(l.done[0], &load);
    assert_int_equal(load.status, ACTION_SUCCESS);
    assert_int_equal(load.end, 400);
    assert_ptr_equal(l.done[1], &inf);
    assert_int_equal(inf.status, ACTION_SUCCESS); /* latest 300 moved by the 200 ns overrun */
    assert_int_equal(inf.start, 400);
    assert_int_equal(inf.end, 450);
    sim_device_destroy(&d, NULL);
}

static void test_infer_fails_when_load_expected_after_its_latest(void **state)
{
    (void)state;
    struct model_info m = model();
    struct sim_task load, inf;
    scenario(&load, &inf, &m, 300);
    load.expected_duration = 350; /* expected to end at 350, after the Infer's latest */
    struct loop l = {0};
    struct sim_device d;
    start(&d, &l, &load, &inf);
    assert_ptr_equal(l.done[0], &inf); /* at its start, before the load ends */
    assert_int_equal(inf.status, ACTION_EXEC_WEIGHTS_NOT_PRESENT);
    assert_int_equal(inf.end, 200);
    assert_int_equal(load.status, ACTION_SUCCESS);
    sim_device_destroy(&d, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infer_waits_for_overrunning_load),
        cmocka_unit_test(test_infer_fails_when_load_expected_after_its_latest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
