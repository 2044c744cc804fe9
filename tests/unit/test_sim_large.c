/* A large cluster in the simulator: 100 devices (25 workers x 4), 4000 model copies, under
 * INFER5 and under INFER6. Each run is deterministic (virtual time, fixed seed), so it must deliver exactly what it
 * delivered when this test was written: the same counts of requests, answers, successes, deadlines met, actions and
 * events; every request answered exactly once; no device running two inferences at once; every action started inside
 * its window. A change to the scheduler, the simulator or the workload that changes the outcome fails here: check the
 * change, then update EXPECT_* from the printed figures. Prints the event rate; never fails on wall time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/clock.h"
#include "common/status.h"
#include "test_sim_helpers.h"

#define LARGE "-q -w 25 -g 4 --seed 5 %s 0 1000 -- slo-exp-1 resnet50_v2 4000 poisson 8000 50 100 2 mul 5"

struct expect {
    uint64_t requests, success, deadline_met, actions, events, sim_ns;
};
static const struct expect EXPECT_INFER5 = {79911, 79905, 79905, 83841, 830515, 10027203728ULL};
static const struct expect EXPECT_INFER6 = {79911, 79876, 79876, 90815, 944137, 10004017519ULL};

struct obs {
    struct ts_answers answers;
    uint64_t infers;
    uint64_t *exec_free; /* per device: end of its last inference */
    uint64_t overlaps, outside_window;
};

static void on_action(void *data, const struct sim_trace *t)
{
    struct obs *o = data;
    if (t->status != ACTION_SUCCESS)
        return;
    if (t->start < t->earliest || t->start > t->latest)
        o->outside_window++;
    if (t->type != SCHED_INFER)
        return;
    o->infers++;
    /* an executor runs its actions in order, so starts are seen in order per device */
    if (t->start < o->exec_free[t->device])
        o->overlaps++;
    o->exec_free[t->device] = t->end;
}

static void on_response(void *data, uint64_t id, int status)
{
    (void)status;
    ts_answers_add(&((struct obs *)data)->answers, id);
}

static void large_cluster(const char *type, const struct expect *e)
{
    struct sim_stats st;
    char cmd[256];
    snprintf(cmd, sizeof cmd, LARGE, type);
    struct obs o = {.exec_free = calloc(100, sizeof(uint64_t))};
    struct sim_observer obs = {.action = on_action, .response = on_response, .data = &o};
    uint64_t w0 = clock_mono_ns();
    assert_int_equal(ts_run(cmd, NULL, &obs, &st), 0);
    double wall = (double)(clock_mono_ns() - w0) / 1e9;
    printf("%s: %u devices, %u models: %llu events in %.2f s wall (%.0f events/s)\n", type, st.devices, st.models,
           (unsigned long long)st.events, wall, (double)st.events / wall);
    printf("requests=%llu responses=%llu success=%llu deadline_met=%llu actions=%llu infers=%llu events=%llu "
           "sim_ns=%llu\n",
           (unsigned long long)st.requests, (unsigned long long)st.responses, (unsigned long long)st.success,
           (unsigned long long)st.deadline_met, (unsigned long long)st.actions, (unsigned long long)o.infers,
           (unsigned long long)st.events, (unsigned long long)st.sim_ns);
    assert_int_equal(st.devices, 100);
    assert_int_equal(st.models, 4000);
    assert_int_equal(st.requests, e->requests);
    assert_int_equal(st.responses, st.requests);
    assert_int_equal(st.success, e->success);
    assert_int_equal(st.deadline_met, e->deadline_met);
    assert_int_equal(st.actions, e->actions);
    assert_int_equal(st.events, e->events);
    assert_int_equal(st.sim_ns, e->sim_ns);

    assert_true(ts_answers_once(&o.answers, st.requests));
    assert_int_equal(o.overlaps, 0);
    assert_int_equal(o.outside_window, 0);
    free(o.answers.count);
    free(o.exec_free);
}

static void test_100_devices_4000_models(void **state)
{
    (void)state;
    large_cluster("INFER5", &EXPECT_INFER5);
}

static void test_infer6_100_devices_4000_models(void **state)
{
    (void)state;
    large_cluster("INFER6", &EXPECT_INFER6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_100_devices_4000_models),
                                       cmocka_unit_test(test_infer6_100_devices_4000_models)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
