/* INFER5 scheduler core rules, driven with a fake clock and a recording host:
 * batching, strategy priority, drops and timeouts, estimates, action windows, errors,
 * worker loss, unknown models and batch-size limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "test_sched_harness.h"
#include <math.h>

static const uint64_t EXEC4[] = {1 * MS, 2 * MS, 3 * MS, 4 * MS};

/* One GPU holding models [0, n_models). */
static void start_one_gpu(struct harness *h, const struct sched_model *models, unsigned n)
{
    unsigned loaded[8];
    for (unsigned i = 0; i < n; i++)
        loaded[i] = models[i].id;
    struct sched_gpu gpu = {0, 0, 100, n, loaded};
    h_start(h, models, n, &gpu, 1);
}

static void test_batching_and_windows(void **state)
{
    (void)state;
    struct harness *h = h_new();
    h->cfg.schedule_ahead = 1 * MS;
    struct sched_model m = h_model(0, 4, EXEC4, 5 * MS, 1, 8);
    start_one_gpu(h, &m, 1);

    h_request(h, 0, 0, 0);
    assert_int_equal(h->n_acts, 1);
    assert_int_equal(h->acts[0].a.batch_size, 1);
    for (int i = 0; i < 6; i++)
        h_request(h, 0, 0, 0);
    assert_int_equal(h->n_acts, 1); /* GPU busy beyond the horizon: requests wait */

    scheduler_tick(h->s, MS / 2);
    assert_int_equal(h->n_acts, 2);
    const struct sched_action *a = &h->acts[1].a;
    assert_int_equal(a->type, SCHED_INFER);
    assert_int_equal(a->batch_size, 4); /* 6 queued: largest full batch is 4 */
    assert_int_equal(a->n_requests, 4);
    assert_int_equal(h->acts[1].req_ids[0], 1);
    assert_int_equal(h->acts[1].req_ids[3], 4);
    assert_int_equal(a->earliest, MS / 2);
    assert_int_equal(a->latest, MS / 2 + 1 * MS + 10 * MS);
    assert_int_equal(a->expected_duration, 3 * MS);
    assert_int_equal(a->expected_complete, 1 * MS + 3 * MS);

    assert_int_equal(scheduler_next_wakeup(h->s, MS / 2), 3 * MS + 1);
    scheduler_tick(h->s, 3 * MS + MS / 2);
    assert_int_equal(h->n_acts, 3);
    a = &h->acts[2].a;
    assert_int_equal(a->batch_size, 2);
    assert_int_equal(a->n_requests, 2);
    assert_int_equal(a->earliest, 3 * MS + MS / 2);
    assert_int_equal(a->latest, 3 * MS + MS / 2 + 11 * MS);
    assert_int_equal(a->expected_complete, 6 * MS);
    assert_int_equal(a->send_by, a->latest - 5 * MS);
    h_free(h);
}

/* Keeps the GPU busy with a 5 ms infer of model 2 so later requests queue. */
static struct harness *priority_setup(void)
{
    struct harness *h = h_new();
    h->cfg.schedule_ahead = 1 * MS;
    h->cfg.buffer = 0;
    static const uint64_t a_exec[] = {1 * MS, 2 * MS}, b_exec[] = {1 * MS}, c_exec[] = {5 * MS};
    struct sched_model ms[3] = {h_model(0, 2, a_exec, MS, 1, 0), h_model(1, 1, b_exec, MS, 1, 0),
                                h_model(2, 1, c_exec, MS, 1, 0)};
    start_one_gpu(h, ms, 3);
    h_request(h, 0, 2, 0);
    assert_int_equal(h->n_acts, 1);
    return h;
}

static void test_priority_most_urgent_first(void **state)
{
    (void)state;
    struct harness *h = priority_setup();
    h_request(h, 0, 0, 80); /* latest start 78 ms (b2) */
    h_request(h, 0, 1, 30); /* latest start 29 ms */
    scheduler_tick(h->s, 4 * MS + MS / 2);
    assert_int_equal(h->n_acts, 2);
    assert_int_equal(h->acts[1].a.model_id, 1);
    scheduler_tick(h->s, 5 * MS + MS / 2);
    assert_int_equal(h->acts[2].a.model_id, 0);
    h_free(h);
}

static void test_priority_ties_to_larger_batch(void **state)
{
    (void)state;
    struct harness *h = priority_setup();
    h_request(h, 0, 1, 49); /* b1: 49 - 1 = 48 ms */
    h_request(h, 0, 0, 50); /* b2: 50 - 2 = 48 ms: tie, larger batch wins */
    scheduler_tick(h->s, 4 * MS + MS / 2);
    assert_int_equal(h->n_acts, 2);
    assert_int_equal(h->acts[1].a.model_id, 0);
    h_free(h);
}

static void test_infeasible_request_dropped(void **state)
{
    (void)state;
    struct harness *h = h_new();
    h->cfg.schedule_ahead = 1 * MS;
    h->cfg.buffer = 0;
    static const uint64_t e[] = {5 * MS};
    struct sched_model m = h_model(0, 1, e, MS, 1, 0);
    start_one_gpu(h, &m, 1);
    h_request(h, 0, 0, 0);    /* runs 0..5 ms */
    h_request(h, 0, 0, 1.2f); /* target 6 ms: cannot finish before 10 ms */
    h_request(h, 0, 0, 3.0f); /* target 15 ms: fine */
    scheduler_tick(h->s, 4 * MS + MS / 2);
    assert_int_equal(h->answered[1], 1);
    assert_int_equal(h->n_dones, 1);
    assert_int_equal(h->dones[0].req_id, 1);
    assert_int_equal(h->dones[0].status, CLIENT_TIMEOUT);
    assert_int_equal(h->n_rrows, 1);
    assert_int_equal(h->rrows[0].result, 4);
    assert_int_equal(h->rrows[0].deadline_met, 0);
    assert_int_equal(h->rrows[0].deadline, 6 * MS);
    assert_int_equal(h->n_acts, 2);
    assert_int_equal(h->acts[1].req_ids[0], 2);
    h_free(h);
}

static void test_deadline_expiry_while_queued(void **state)
{
    (void)state;
    struct harness *h = h_new();
    static const uint64_t e[] = {1 * MS};
    struct sched_model m = h_model(0, 1, e, MS, 4, 0); /* 4 pages never fit in 2 */
    struct sched_gpu gpu = {0, 0, 2, 0, NULL};
    h_start(h, &m, 1, &gpu, 1);
    h_request(h, 0, 0, 0);
    assert_int_equal(h->n_acts, 0);
    assert_int_equal(scheduler_next_wakeup(h->s, 0), 95 * MS); /* deadline 100 - buffer 5 */
    scheduler_tick(h->s, 94 * MS);
    assert_int_equal(h->n_dones, 0);
    scheduler_tick(h->s, 95 * MS);
    assert_int_equal(h->n_dones, 1);
    assert_int_equal(h->dones[0].status, CLIENT_TIMEOUT);
    assert_int_equal(h->rrows[0].latency, 95 * MS);
    scheduler_tick(h->s, 200 * MS);
    assert_int_equal(h->answered[0], 1);
    assert_int_equal(scheduler_next_wakeup(h->s, 200 * MS), UINT64_MAX);
    h_free(h);
}

/* One request at a time far apart; returns the infer action it produced. */
static const struct h_action *run_one(struct harness *h, uint64_t now, uint64_t duration)
{
    h_request(h, now, 0, 0);
    const struct h_action *x = h_last(h, SCHED_INFER);
    struct sched_result r = h_ok(x, now, duration, now + duration);
    scheduler_on_result(h->s, now + duration, &r);
    return x;
}

static void test_estimates_follow_measurements(void **state)
{
    (void)state;
    struct harness *h = h_new();
    static const uint64_t e[] = {1 * MS};
    struct sched_model m = h_model(0, 1, e, MS, 1, 0);
    start_one_gpu(h, &m, 1);
    uint64_t t = 0;
    assert_int_equal(run_one(h, t, 1 * MS)->a.expected_duration, 1 * MS); /* profile */
    for (uint64_t d = 2; d <= 12; d++)
        run_one(h, t += 1000 * MS, d * MS);
    /* window of 10 now holds 3..12 ms; p99 of it is the largest */
    assert_int_equal(run_one(h, t += 1000 * MS, 2 * MS)->a.expected_duration, 12 * MS);
    for (int i = 0; i < 9; i++)
        run_one(h, t += 1000 * MS, 2 * MS);
    assert_int_equal(run_one(h, t += 1000 * MS, 2 * MS)->a.expected_duration, 2 * MS);
    h_free(h);
}

/* Three 2 ms infers planned back to back (0-2, 2-4, 4-6 ms). The first ends 0.5 ms late, and so
 * does the second, because it ran behind the first: the timeline moves by 0.5 ms once. */
static void test_timeline_counts_a_lateness_once(void **state)
{
    (void)state;
    struct harness *h = h_new();
    static const uint64_t e[] = {2 * MS};
    struct sched_model m = h_model(0, 1, e, MS, 1, 0);
    start_one_gpu(h, &m, 1);
    for (int i = 0; i < 3; i++)
        h_request(h, 0, 0, 0);
    assert_int_equal(h->n_acts, 3);
    assert_int_equal(h->acts[2].a.expected_complete, 6 * MS);
    struct sched_result r = h_ok(&h->acts[0], MS / 2, 2 * MS, 3 * MS);
    scheduler_on_result(h->s, 3 * MS, &r);
    r = h_ok(&h->acts[1], 2 * MS + MS / 2, 2 * MS, 5 * MS);
    scheduler_on_result(h->s, 5 * MS, &r);
    h_request(h, 5 * MS, 0, 0); /* planned behind the third, now expected to end at 6.5 ms */
    assert_int_equal(h->n_acts, 4);
    assert_int_equal(h->acts[3].a.expected_complete, 6 * MS + MS / 2 + 2 * MS);
    /* the third ends on its corrected time; an early end moves the timeline back once too */
    r = h_ok(&h->acts[2], 4 * MS + MS / 2, 2 * MS - MS / 4, 6 * MS + MS / 4);
    scheduler_on_result(h->s, 6 * MS + MS / 4, &r);
    h_request(h, 6 * MS + MS / 4, 0, 0);
    assert_int_equal(h->acts[4].a.expected_complete, 6 * MS + MS / 4 + 2 * MS + 2 * MS);
    h_free(h);
}

static void test_infer_error_answers_once(void **state)
{
    (void)state;
    struct harness *h = h_new();
    h->cfg.schedule_ahead = 1 * MS;
    struct sched_model m = h_model(0, 3, EXEC4, MS, 1, 0);
    start_one_gpu(h, &m, 1);
    h_request(h, 0, 0, 0);
    for (int i = 0; i < 4; i++)
        h_request(h, 0, 0, 0);
    scheduler_tick(h->s, MS / 2);
    assert_int_equal(h->n_acts, 2);
    assert_int_equal(h->acts[1].a.n_requests, 4);

    struct sched_result r = {
        .action_id = h->acts[1].a.id, .status = ACTION_RUNTIME_ERROR, .message = "boom", .received = 2 * MS};
    scheduler_on_result(h->s, 2 * MS, &r);
    scheduler_on_result(h->s, 2 * MS, &r); /* duplicate: ignored */
    assert_int_equal(h->n_dones, 4);
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(h->answered[i], 1);
    }
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(h->dones[i].status, CLIENT_ERROR);
    assert_int_equal(h->n_arows, 1);
    assert_int_equal(h->arows[0].status, ACTION_RUNTIME_ERROR);
    assert_true(h->arows[0].goodput == 0.0);

    struct sched_result late = {.action_id = h->acts[0].a.id, .status = ACTION_NETWORK_SEND_TOO_LATE};
    scheduler_on_result(h->s, 3 * MS, &late);
    assert_int_equal(h->answered[0], 1);
    assert_int_equal(h->dones[4].status, CLIENT_TIMEOUT);
    h_free(h);
}

static void test_success_output_and_goodput(void **state)
{
    (void)state;
    struct harness *h = h_new();
    h->cfg.schedule_ahead = 1 * MS;
    struct sched_model m = h_model(0, 2, EXEC4, MS, 1, 4);
    start_one_gpu(h, &m, 1);
    h_request(h, 0, 0, 0);
    h_request(h, 0, 0, 0);
    h_request(h, 0, 0, 0);
    scheduler_tick(h->s, MS / 2);
    const struct h_action *x = &h->acts[1];
    assert_int_equal(x->a.batch_size, 2);
    uint8_t out[8] = {0xA0, 0, 0, 0, 0xB0, 0, 0, 0};
    struct sched_result r = h_ok(x, 1 * MS, 2 * MS, 3 * MS);
    r.output = out;
    r.output_len = sizeof out;
    scheduler_on_result(h->s, 3 * MS, &r);
    assert_int_equal(h->n_dones, 2);
    assert_int_equal(h->dones[0].req_id, 1);
    assert_int_equal(h->dones[0].status, 0);
    assert_int_equal(h->dones[0].out_len, 4);
    assert_int_equal(h->dones[0].first_byte, 0xA0);
    assert_int_equal(h->dones[1].first_byte, 0xB0);
    assert_int_equal(h->rrows[0].deadline_met, 1);
    assert_int_equal(h->rrows[1].departure_count, 2);
    assert_int_equal(h->rrows[1].arrival_count, 3);
    assert_int_equal(h->n_arows, 1);
    assert_true(h->arows[0].goodput == 1.0);
    assert_int_equal(h->arows[0].batch_size, 2);
    assert_int_equal(h->arows[0].copies_loaded, 1);
    assert_int_equal(h->arows[0].requests_queued, 0); /* request 0 is in flight, not queued */
    assert_int_equal(h->arows[0].expected_exec_complete, 3 * MS - MS / 2);
    assert_int_equal(h->arows[0].worker_exec_complete, 3 * MS - MS / 2);
    struct sched_gpu_stats st;
    assert_int_equal(scheduler_take_stats(h->s, &st, 1), 1);
    assert_int_equal(st.infer_count, 1);
    assert_int_equal(st.infer_exec_max, 2 * MS);
    h_free(h);
}

static void test_unknown_model_rejected(void **state)
{
    (void)state;
    struct harness *h = h_new();
    struct sched_model m = h_model(0, 1, EXEC4, MS, 1, 0);
    start_one_gpu(h, &m, 1);
    h_request(h, 0, 5, 0);
    assert_int_equal(h->n_dones, 1);
    assert_int_equal(h->dones[0].status, CLIENT_INVALID_REQUEST);
    assert_int_equal(h->rrows[0].result, CLIENT_INVALID_REQUEST);
    assert_int_equal(h->n_acts, 0);
    h_free(h);
}

/* slo_factor is any float a client sends: huge and infinite ones give a far deadline, not an
 * out-of-range conversion (UBSan) or a deadline that wraps around; NaN means the default. */
static void test_any_slo_factor_gives_a_sane_deadline(void **state)
{
    (void)state;
    struct harness *h = h_new();
    struct sched_model m = h_model(0, 1, EXEC4, MS, 1, 0);
    start_one_gpu(h, &m, 1);
    const float factors[] = {1e30f, (float)INFINITY, 3e9f, (float)NAN};
    for (unsigned i = 0; i < 4; i++) {
        struct sched_request *r = h_request(h, 10 * MS, 0, factors[i]);
        assert_true(r->deadline > 10 * MS);
        assert_true(r->deadline < 10 * MS + 400ULL * 86400 * 1000000000ULL);
    }
    assert_int_equal(h->reqs[3].deadline, 10 * MS + h->cfg.default_slo);
    h_free(h);
}

static unsigned max_batch_used(unsigned max_batch)
{
    struct harness *h = h_new();
    h->cfg.schedule_ahead = 1 * MS;
    h->cfg.max_batch = max_batch;
    static const uint64_t e[] = {1 * MS, 2 * MS, 3 * MS, 4 * MS, 30 * MS, 40 * MS};
    struct sched_model m = h_model(0, 6, e, MS, 1, 0);
    start_one_gpu(h, &m, 1);
    h_request(h, 0, 0, 0);
    for (int i = 0; i < 40; i++)
        h_request(h, 0, 0, 0);
    for (uint64_t t = 0; t < 90 * MS; t += MS / 2)
        scheduler_tick(h->s, t);
    unsigned best = 0, total = 0;
    for (unsigned i = 0; i < h->n_acts; i++) {
        if (h->acts[i].a.batch_size > best)
            best = h->acts[i].a.batch_size;
        total += h->acts[i].a.n_requests;
    }
    assert_int_equal(total, 41);
    h_free(h);
    return best;
}

static void test_max_batch_and_max_exec(void **state)
{
    (void)state;
    assert_int_equal(max_batch_used(4), 4);  /* max_batch */
    assert_int_equal(max_batch_used(32), 8); /* 16 and 32 exceed max_exec */
}

static void test_worker_lost_answers_once(void **state)
{
    (void)state;
    struct harness *h = h_new();
    h->cfg.schedule_ahead = 1 * MS;
    struct sched_model m = h_model(0, 1, EXEC4, MS, 1, 0);
    unsigned loaded[] = {0};
    struct sched_gpu gpus[2] = {{0, 0, 10, 1, loaded}, {1, 0, 10, 1, loaded}};
    h_start(h, &m, 1, gpus, 2);
    for (int i = 0; i < 4; i++)
        h_request(h, 0, 0, 0);
    assert_int_equal(h->n_acts, 2);
    assert_int_equal(h->acts[0].a.worker_id, 0);
    assert_int_equal(h->acts[1].a.worker_id, 1);
    scheduler_on_worker_lost(h->s, MS / 4, 0);
    assert_int_equal(h->answered[0], 1);
    assert_int_equal(h->dones[0].status, CLIENT_ERROR);
    unsigned before = h->n_acts;
    scheduler_tick(h->s, MS / 2);
    for (unsigned i = before; i < h->n_acts; i++)
        assert_int_equal(h->acts[i].a.worker_id, 1);
    scheduler_drain(h->s, MS, CLIENT_ERROR);
    for (int i = 0; i < 4; i++)
        assert_int_equal(h->answered[i], 1);
    assert_int_equal(h->n_rrows, 4);
    h_free(h);
}

/* After a lost worker comes back (empty cache), its GPU loads the model again and serves. */
static void test_worker_back_serves_again(void **state)
{
    (void)state;
    struct harness *h = h_new();
    h->cfg.schedule_ahead = 1 * MS;
    struct sched_model m = h_model(0, 1, EXEC4, MS, 1, 0);
    unsigned loaded[] = {0};
    struct sched_gpu gpus[1] = {{0, 0, 10, 1, loaded}};
    h_start(h, &m, 1, gpus, 1);
    scheduler_on_worker_lost(h->s, 0, 0);
    unsigned before = h->n_acts;
    scheduler_on_worker_back(h->s, 10 * MS, 0);
    h_request(h, 10 * MS, 0, 0);
    assert_true(h->n_acts > before);
    /* weights were lost with the worker: a load precedes any infer on the GPU */
    assert_int_equal(h->acts[before].a.type, SCHED_LOAD_WEIGHTS);
    assert_int_equal(h->acts[before].a.worker_id, 0);
    assert_true(h->acts[before].a.earliest >= 10 * MS);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batching_and_windows),
        cmocka_unit_test(test_priority_most_urgent_first),
        cmocka_unit_test(test_priority_ties_to_larger_batch),
        cmocka_unit_test(test_infeasible_request_dropped),
        cmocka_unit_test(test_deadline_expiry_while_queued),
        cmocka_unit_test(test_estimates_follow_measurements),
        cmocka_unit_test(test_timeline_counts_a_lateness_once),
        cmocka_unit_test(test_infer_error_answers_once),
        cmocka_unit_test(test_success_output_and_goodput),
        cmocka_unit_test(test_unknown_model_rejected),
        cmocka_unit_test(test_any_slo_factor_gives_a_sane_deadline),
        cmocka_unit_test(test_max_batch_and_max_exec),
        cmocka_unit_test(test_worker_lost_answers_once),
        cmocka_unit_test(test_worker_back_serves_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
