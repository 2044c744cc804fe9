/* Changing the models while serving (scheduler_add_models, scheduler_set_model_serving), on the
 * fake host of test_sched_harness.h: INFER5 answers an unloaded model's queued requests once,
 * lets its batches in flight complete, refuses new ones, evicts its copies before any other
 * idle model, serves it again on request, and takes models added after creation; ECHO refuses
 * an unloaded model; INFER6, DIRECT and STRESS say they cannot (-1) and change nothing (the HTTP
 * front end then answers 501 with the TYPE's name). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_sched_harness.h"

static const uint64_t EXEC[] = {1 * MS, 2 * MS, 3 * MS};

static struct harness *one_gpu(unsigned n_models, unsigned gpu_pages, unsigned n_loaded)
{
    struct harness *h = h_new();
    h->cfg.schedule_ahead = 1 * MS;
    struct sched_model models[4];
    static unsigned loaded[4] = {0, 1, 2, 3};
    for (unsigned i = 0; i < n_models; i++)
        models[i] = h_model(i, 3, EXEC, 2 * MS, 4, 8);
    struct sched_gpu gpu = {0, 0, gpu_pages, n_loaded, loaded};
    h_start(h, models, n_models, &gpu, 1);
    assert_non_null(h->s);
    return h;
}

static unsigned answers_with(const struct harness *h, int status)
{
    unsigned n = 0;
    for (unsigned i = 0; i < h->n_dones; i++)
        n += h->dones[i].status == status;
    return n;
}

static void test_infer5_unload_answers_queued_once(void **state)
{
    (void)state;
    struct harness *h = one_gpu(1, 16, 1);
    assert_true(scheduler_models_changeable(h->s));
    h_request(h, 0, 0, 0); /* goes out at once */
    for (int i = 0; i < 5; i++)
        h_request(h, 0, 0, 0); /* the GPU is busy beyond the horizon: these queue */
    assert_int_equal(h_count(h, SCHED_INFER), 1);
    const struct h_action *inflight = h_last(h, SCHED_INFER);

    assert_int_equal(scheduler_set_model_serving(h->s, MS / 4, 0, 0), 0);
    assert_int_equal(h->n_dones, 5);
    assert_int_equal(answers_with(h, CLIENT_ERROR), 5);
    for (unsigned i = 1; i <= 5; i++)
        assert_int_equal(h->answered[i], 1);
    assert_int_equal(h->n_rrows, 5); /* each answer has its telemetry row */

    h_request(h, MS / 2, 0, 0); /* refused */
    assert_int_equal(h->dones[5].status, CLIENT_INVALID_REQUEST);
    scheduler_tick(h->s, MS);
    assert_int_equal(h_count(h, SCHED_INFER), 1); /* nothing more to run */

    struct sched_result r = h_ok(inflight, 0, MS, 2 * MS); /* the batch in flight completes */
    scheduler_on_result(h->s, 2 * MS, &r);
    assert_int_equal(h->answered[0], 1);
    assert_int_equal(h->dones[6].status, CLIENT_SUCCESS);

    assert_int_equal(scheduler_set_model_serving(h->s, 3 * MS, 0, 1), 0); /* served again */
    h_request(h, 3 * MS, 0, 0);
    assert_int_equal(h_count(h, SCHED_INFER), 2);
    assert_int_equal(scheduler_set_model_serving(h->s, 3 * MS, 9, 0), -1); /* no such model */
    scheduler_drain(h->s, 4 * MS, CLIENT_ERROR);
    for (unsigned i = 0; i < h->n_reqs; i++)
        assert_int_equal(h->answered[i], 1);
    h_free(h);
}

/* Models 0 and 1 resident (4 pages each, 8 of 8 used), both idle; model 0 used more recently
 * but unloaded: a request for model 2 evicts model 0 although model 1 is the LRU one. */
static void test_infer5_unloaded_evicted_first(void **state)
{
    (void)state;
    struct harness *h = one_gpu(3, 8, 2);
    for (unsigned model = 1, i = 0; i < 2; model--, i++) { /* model 1, then model 0 */
        uint64_t t = i * 10 * MS;
        h_request(h, t, model, 0);
        assert_int_equal(h_count(h, SCHED_INFER), i + 1);
        struct sched_result r = h_ok(&h->acts[i], t, MS, t + 2 * MS);
        scheduler_on_result(h->s, t + 2 * MS, &r);
    }
    assert_int_equal(scheduler_set_model_serving(h->s, 20 * MS, 0, 0), 0);
    h_request(h, 21 * MS, 2, 0);
    const struct h_action *evict = h_last(h, SCHED_EVICT_WEIGHTS);
    assert_non_null(evict);
    assert_int_equal(evict->a.model_id, 0);
    assert_int_equal(h_count(h, SCHED_EVICT_WEIGHTS), 1);
    assert_int_equal(h_last(h, SCHED_LOAD_WEIGHTS)->a.model_id, 2);
    scheduler_drain(h->s, 22 * MS, CLIENT_ERROR);
    h_free(h);
}

static void test_infer5_add_models(void **state)
{
    (void)state;
    struct harness *h = one_gpu(1, 16, 1);
    h_request(h, 0, 1, 0); /* not known yet */
    assert_int_equal(h->dones[0].status, CLIENT_INVALID_REQUEST);

    static const uint64_t big[] = {1 * MS, 2 * MS, 3 * MS, 4 * MS, 5 * MS, 6 * MS};
    struct sched_model added[2] = {h_model(1, 3, EXEC, 2 * MS, 4, 8), h_model(2, 6, big, 2 * MS, 4, 8)};
    assert_int_equal(scheduler_add_models(h->s, MS, added, 2), 0);
    assert_int_equal(scheduler_add_models(h->s, MS, added, 1), -1); /* ids are never reused */

    h_request(h, 2 * MS, 1, 0); /* cold: loads, then runs */
    assert_int_equal(h_last(h, SCHED_LOAD_WEIGHTS)->a.model_id, 1);
    struct sched_result r = h_ok(h_last(h, SCHED_LOAD_WEIGHTS), 2 * MS, 2 * MS, 4 * MS);
    scheduler_on_result(h->s, 4 * MS, &r);
    scheduler_tick(h->s, 4 * MS);
    assert_int_equal(h_last(h, SCHED_INFER)->a.model_id, 1);

    /* model 2 allows batches of 32: a batch that large is formed and recorded */
    unsigned answered_acts = h->n_acts;
    for (int i = 0; i < 40; i++)
        h_request(h, 10 * MS, 2, 100);
    for (uint64_t t = 10 * MS; t < 60 * MS; t += MS) {
        scheduler_tick(h->s, t);
        while (answered_acts < h->n_acts) { /* every action succeeds at once */
            struct sched_result ok = h_ok(&h->acts[answered_acts++], t, 1, t);
            scheduler_on_result(h->s, t, &ok);
        }
    }
    unsigned largest = 0;
    for (unsigned i = 0; i < h->n_acts; i++)
        if (h->acts[i].a.type == SCHED_INFER && h->acts[i].a.batch_size > largest)
            largest = h->acts[i].a.batch_size;
    assert_int_equal(largest, 16); /* max_batch (16) still applies to added models */
    scheduler_drain(h->s, 61 * MS, CLIENT_ERROR);
    for (unsigned i = 0; i < h->n_reqs; i++)
        assert_int_equal(h->answered[i], 1);
    h_free(h);
}

static void test_echo_unload_and_add(void **state)
{
    (void)state;
    struct harness *h = h_new();
    h->cfg.type = SCHED_TYPE_ECHO;
    struct sched_model m = h_model(0, 1, EXEC, MS, 1, 8);
    h_start(h, &m, 1, NULL, 0);
    static uint8_t input[4];
    struct sched_model added = h_model(1, 1, EXEC, MS, 1, 64);
    assert_int_equal(scheduler_add_models(h->s, 0, &added, 1), 0);
    assert_int_equal(scheduler_set_model_serving(h->s, 0, 0, 0), 0);
    for (unsigned model = 0; model < 2; model++) {
        struct sched_request *r = &h->reqs[h->n_reqs];
        memset(r, 0, sizeof *r);
        r->id = h->n_reqs++;
        r->model_id = model;
        r->input = input;
        r->input_len = sizeof input;
        scheduler_on_request(h->s, 0, r);
    }
    assert_int_equal(h->dones[0].status, CLIENT_INVALID_REQUEST);
    assert_int_equal(h->dones[1].status, CLIENT_SUCCESS);
    assert_int_equal(h->dones[1].out_len, 64);
    assert_int_equal(scheduler_set_model_serving(h->s, 0, 2, 0), -1);
    h_free(h);
}

static void test_infer6_direct_and_stress_cannot(void **state)
{
    (void)state;
    enum sched_type types[3] = {SCHED_TYPE_INFER6, SCHED_TYPE_DIRECT, SCHED_TYPE_STRESS};
    for (int t = 0; t < 3; t++) {
        struct harness *h = h_new();
        h->cfg.type = types[t];
        struct sched_model m = h_model(0, 1, EXEC, MS, 1, 8);
        struct sched_gpu gpu = {0, 0, 16, 0, NULL};
        h_start(h, &m, 1, &gpu, 1);
        assert_false(scheduler_models_changeable(h->s));
        struct sched_model added = h_model(1, 1, EXEC, MS, 1, 8);
        assert_int_equal(scheduler_add_models(h->s, 0, &added, 1), -1);
        assert_int_equal(scheduler_set_model_serving(h->s, 0, 0, 0), -1);
        scheduler_drain(h->s, 0, CLIENT_ERROR);
        h_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infer5_unload_answers_queued_once),
        cmocka_unit_test(test_infer5_unloaded_evicted_first),
        cmocka_unit_test(test_infer5_add_models),
        cmocka_unit_test(test_echo_unload_and_add),
        cmocka_unit_test(test_infer6_direct_and_stress_cannot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
