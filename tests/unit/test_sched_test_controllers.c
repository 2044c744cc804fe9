/* The test controllers behind the scheduler interface, on the fake host of test_sched_harness.h:
 * ECHO answers at once without actions; DIRECT forwards each request as its own Infer (loading
 * weights first, round robin over GPUs, evicting LRU idle models when pages run out, failing
 * what a lost worker held, answering everything on drain); STRESS keeps each GPU loading,
 * evicting and inferring within its limits and its pages, and serves no clients. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_sched_harness.h"

static const uint64_t EXEC[] = {3 * MS, 5 * MS};

static struct harness *start(enum sched_type type, unsigned n_models, unsigned pages, unsigned n_gpus,
                             unsigned gpu_pages)
{
    struct harness *h = h_new();
    h->cfg.type = type;
    struct sched_model models[8];
    struct sched_gpu gpus[4];
    for (unsigned i = 0; i < n_models; i++)
        models[i] = h_model(i, 2, EXEC, 8 * MS, pages, 10);
    for (unsigned i = 0; i < n_gpus; i++)
        gpus[i] = (struct sched_gpu){.worker_id = i / 2, .gpu_id = i % 2, .total_pages = gpu_pages};
    h_start(h, models, n_models, gpus, n_gpus);
    assert_non_null(h->s);
    return h;
}

/* A request carrying a (compressed) input of len bytes. */
static struct sched_request *request_with_input(struct harness *h, uint64_t now, unsigned model, size_t len)
{
    static uint8_t input[64];
    struct sched_request *r = &h->reqs[h->n_reqs];
    memset(r, 0, sizeof *r);
    r->id = h->n_reqs++;
    r->model_id = model;
    r->arrival = now;
    r->input = input;
    r->input_len = len;
    scheduler_on_request(h->s, now, r);
    return r;
}

static void result(struct harness *h, unsigned act, int status, uint64_t now, const uint8_t *out, size_t out_len)
{
    struct sched_result r = h_ok(&h->acts[act], now - MS, MS, now);
    r.status = status;
    r.message = status ? "worker says no" : NULL;
    r.output = out;
    r.output_len = out_len;
    scheduler_on_result(h->s, now, &r);
}

/* ---- ECHO ---- */

static void test_echo_answers_at_once(void **state)
{
    (void)state;
    struct harness *h = start(SCHED_TYPE_ECHO, 2, 3, 2, 10);
    h_request(h, 1000, 0, 0);
    request_with_input(h, 2000, 1, 30);
    h_request(h, 3000, 7, 0); /* no such model */
    assert_int_equal(h->n_acts, 0);
    assert_int_equal(h->n_dones, 3);
    assert_int_equal(h->dones[0].status, CLIENT_SUCCESS);
    assert_int_equal(h->dones[0].out_len, 0); /* no input: no output, as a worker does */
    assert_int_equal(h->dones[1].status, CLIENT_SUCCESS);
    assert_int_equal(h->dones[1].out_len, 10); /* the model's output size */
    assert_int_equal(h->dones[2].status, CLIENT_INVALID_REQUEST);
    assert_int_equal(h->n_rrows, 3);
    assert_int_equal(h->rrows[1].departure_count, 2);
    assert_int_equal(h->rrows[1].latency, 0);
    assert_int_equal(h->rrows[1].deadline_met, 1);
    assert_int_equal(scheduler_gpu_count(h->s), 0);
    assert_int_equal(scheduler_next_wakeup(h->s, 5000), UINT64_MAX);
    scheduler_drain(h->s, 6000, CLIENT_ERROR);
    assert_int_equal(h->n_dones, 3);
    h_free(h);
}

/* ---- DIRECT ---- */

static void test_direct_forwards_each_request(void **state)
{
    (void)state;
    struct harness *h = start(SCHED_TYPE_DIRECT, 1, 3, 2, 10);
    uint64_t t = 1000 * MS;
    h_request(h, t, 0, 0); /* GPU 0: weights first */
    h_request(h, t, 0, 0); /* GPU 1 */
    h_request(h, t, 0, 0); /* GPU 0 again: waits for the same load */
    assert_int_equal(h->n_acts, 2);
    assert_int_equal(h->acts[0].a.type, SCHED_LOAD_WEIGHTS);
    assert_int_equal(h->acts[0].a.gpu_id, 0);
    assert_int_equal(h->acts[1].a.gpu_id, 1);
    assert_int_equal(h->acts[0].a.expected_duration, 8 * MS);
    assert_int_equal(h->acts[0].a.latest - h->acts[0].a.earliest, 10000 * MS);
    assert_int_equal(h->acts[0].a.send_by, h->acts[0].a.latest); /* past its window: dropped (issue 11) */
    result(h, 0, 0, t + 9 * MS, NULL, 0);
    assert_int_equal(h->n_acts, 4); /* two infers on GPU 0, one request each */
    for (unsigned i = 2; i < 4; i++) {
        assert_int_equal(h->acts[i].a.type, SCHED_INFER);
        assert_int_equal(h->acts[i].a.n_requests, 1);
        assert_int_equal(h->acts[i].a.batch_size, 1);
        assert_int_equal(h->acts[i].a.expected_duration, 3 * MS);
    }
    assert_int_equal(h->acts[2].req_ids[0], 0);
    assert_int_equal(h->acts[3].req_ids[0], 2);
    uint8_t out[10] = {42};
    result(h, 2, 0, t + 12 * MS, out, sizeof out);
    result(h, 3, ACTION_EXEC_TOO_LATE, t + 13 * MS, NULL, 0);
    assert_int_equal(h->n_dones, 2);
    assert_int_equal(h->dones[0].status, CLIENT_SUCCESS);
    assert_int_equal(h->dones[0].first_byte, 42);
    assert_int_equal(h->dones[1].status, CLIENT_ERROR); /* a worker error, as the original */
    result(h, 1, 0, t + 14 * MS, NULL, 0);              /* GPU 1's load: request 1's infer */
    assert_int_equal(h->acts[4].a.gpu_id, 1);
    /* weights resident on GPU 1, next in turn: the request goes straight to an Infer */
    h_request(h, t + 20 * MS, 0, 0);
    assert_int_equal(h->acts[5].a.type, SCHED_INFER);
    assert_int_equal(h->acts[5].a.gpu_id, 1);
    assert_int_equal(h->n_arows, 4); /* one telemetry row per finished action */
    assert_int_equal(h->n_rrows, 2); /* requests 0 and 2 waited for weights: cold starts */
    assert_int_equal(h->rrows[0].is_coldstart, 1);
    assert_int_equal(h->rrows[1].is_coldstart, 1);
    assert_int_equal(h->rrows[0].deadline, 100 * MS); /* the default SLO */
    scheduler_drain(h->s, t + 30 * MS, CLIENT_ERROR);
    for (unsigned i = 0; i < h->n_rrows; i++) /* only request 3 found its weights resident */
        assert_int_equal(h->rrows[i].is_coldstart, h->rrows[i].request_id != 3);
    for (unsigned i = 0; i < h->n_reqs; i++)
        assert_int_equal(h->answered[i], 1);
    result(h, 5, 0, t + 31 * MS, NULL, 0); /* after the drain: ignored */
    assert_int_equal(h->answered[3], 1);
    h_free(h);
}

static void test_direct_evicts_least_recently_used(void **state)
{
    (void)state;
    struct harness *h = start(SCHED_TYPE_DIRECT, 3, 4, 1, 10); /* two models of 4 pages fit */
    uint64_t t = 1000 * MS;
    h_request(h, t, 0, 0);
    result(h, 0, 0, t + MS, NULL, 0);
    result(h, 1, 0, t + 2 * MS, NULL, 0); /* model 0 idle */
    h_request(h, t + 3 * MS, 1, 0);
    result(h, 2, 0, t + 4 * MS, NULL, 0);
    h_request(h, t + 5 * MS, 1, 0); /* model 1 busy (its infer in flight) */
    h_request(h, t + 6 * MS, 2, 0); /* no room: model 0, idle and least recent, goes */
    assert_int_equal(h->acts[h->n_acts - 2].a.type, SCHED_EVICT_WEIGHTS);
    assert_int_equal(h->acts[h->n_acts - 2].a.model_id, 0);
    assert_int_equal(h->acts[h->n_acts - 1].a.type, SCHED_LOAD_WEIGHTS);
    assert_int_equal(h->acts[h->n_acts - 1].a.model_id, 2);
    /* a load that fails answers its waiters with the error */
    result(h, h->n_acts - 1, ACTION_LOAD_WEIGHTS_INSUFFICIENT_CACHE, t + 7 * MS, NULL, 0);
    assert_int_equal(h->dones[h->n_dones - 1].req_id, 3);
    assert_int_equal(h->dones[h->n_dones - 1].status, CLIENT_ERROR);
    h_free(h);
}

static void test_direct_worker_lost_and_back(void **state)
{
    (void)state;
    struct harness *h = start(SCHED_TYPE_DIRECT, 1, 3, 4, 10); /* workers 0 and 1, two GPUs each */
    uint64_t t = 1000 * MS;
    for (int i = 0; i < 4; i++)
        h_request(h, t, 0, 0); /* one load per GPU, each with a waiter */
    scheduler_on_worker_lost(h->s, t + MS, 1);
    assert_int_equal(h->n_dones, 2);
    assert_int_equal(h->dones[0].status, CLIENT_ERROR);
    result(h, 2, 0, t + 2 * MS, NULL, 0); /* worker 1's late result: ignored */
    assert_int_equal(h->n_dones, 2);
    result(h, 0, 0, t + 3 * MS, NULL, 0); /* worker 0's GPU 0 has the weights */
    unsigned sent = h->n_acts;
    for (int i = 0; i < 4; i++)
        h_request(h, t + 4 * MS, 0, 0); /* only worker 0's GPUs now */
    assert_true(h->n_acts > sent);
    for (unsigned i = sent; i < h->n_acts; i++)
        assert_int_equal(h->acts[i].a.worker_id, 0);
    scheduler_on_worker_back(h->s, t + 5 * MS, 1);
    sent = h->n_acts;
    for (int i = 0; i < 4; i++)
        h_request(h, t + 6 * MS, 0, 0);
    unsigned loads_on_1 = 0; /* back, empty: its GPUs load the weights again */
    for (unsigned i = sent; i < h->n_acts; i++)
        loads_on_1 += h->acts[i].a.worker_id == 1 && h->acts[i].a.type == SCHED_LOAD_WEIGHTS;
    assert_int_equal(loads_on_1, 2);
    scheduler_drain(h->s, t + 6 * MS, CLIENT_ERROR);
    for (unsigned i = 0; i < h->n_reqs; i++)
        assert_int_equal(h->answered[i], 1);
    h_free(h);
}

/* ---- STRESS ---- */

/* Drives STRESS for n results, answering the oldest outstanding action each time, and checks
 * that the device's pages never run out (the worker runs a GPU's loads and evictions in order). */
static void run_stress(struct harness *h, unsigned n, unsigned fit)
{
    unsigned next = 0, resident = 0, max_infers = 0;
    uint64_t t = 1000 * MS;
    scheduler_tick(h->s, t);
    for (unsigned k = 0; k < n && next < h->n_acts; k++, next++) {
        const struct sched_action *a = &h->acts[next].a;
        resident += a->type == SCHED_LOAD_WEIGHTS;
        resident -= a->type == SCHED_EVICT_WEIGHTS;
        assert_true(resident <= fit);
        unsigned infers = 0;
        for (unsigned i = next; i < h->n_acts; i++)
            infers += h->acts[i].a.type == SCHED_INFER;
        max_infers = infers > max_infers ? infers : max_infers;
        result(h, next, 0, t += MS, NULL, 0);
    }
    assert_true(max_infers <= 2);
}

static void test_stress_churns_within_its_limits(void **state)
{
    (void)state;
    struct harness *h = h_new();
    h->cfg.type = SCHED_TYPE_STRESS;
    struct sched_model models[8];
    for (unsigned i = 0; i < 8; i++)
        models[i] = h_model(i, 2, EXEC, 8 * MS, 4, 10);
    struct sched_gpu gpu = {.worker_id = 0, .gpu_id = 0, .total_pages = 20}; /* 5 copies fit */
    h_start(h, models, 8, &gpu, 1);
    scheduler_tick(h->s, 1000 * MS);
    assert_int_equal(h->n_acts, 2); /* max_outstanding loads, nothing resident to infer on yet */
    assert_int_equal(h_count(h, SCHED_LOAD_WEIGHTS), 2);
    run_stress(h, 400, 5);
    assert_true(h_count(h, SCHED_EVICT_WEIGHTS) > 20);
    assert_true(h_count(h, SCHED_INFER) > 100);
    struct sched_gpu_stats st;
    assert_int_equal(scheduler_take_stats(h->s, &st, 1), 1);
    assert_true(st.load_count > 20 && st.infer_count > 100);
    assert_int_equal(st.infer_errors + st.load_errors, 0);
    /* clients are refused */
    h_request(h, 2000 * MS, 0, 0);
    assert_int_equal(h->dones[0].status, CLIENT_INVALID_REQUEST);
    /* a lost worker: its actions are forgotten, nothing more is sent to it */
    unsigned sent = h->n_acts;
    scheduler_on_worker_lost(h->s, 2001 * MS, 0);
    scheduler_tick(h->s, 2002 * MS);
    assert_int_equal(h->n_acts, sent);
    assert_int_equal(scheduler_next_wakeup(h->s, 2003 * MS), UINT64_MAX);
    scheduler_on_worker_back(h->s, 2004 * MS, 0);
    assert_int_equal(h->acts[sent].a.type, SCHED_LOAD_WEIGHTS); /* starts over */
    h_free(h);
}

static void test_stress_options(void **state)
{
    (void)state;
    struct harness *h = h_new();
    h->cfg.type = SCHED_TYPE_STRESS;
    h->cfg.stress.no_load = 1; /* load up to the limit once, then only infer */
    h->cfg.stress.max_models_on_gpu = 3;
    h->cfg.stress.max_outstanding = 1;
    struct sched_model models[8];
    for (unsigned i = 0; i < 8; i++)
        models[i] = h_model(i, 2, EXEC, 8 * MS, 1, 10);
    struct sched_gpu gpu = {.worker_id = 0, .gpu_id = 0, .total_pages = 100};
    h_start(h, models, 8, &gpu, 1);
    run_stress(h, 200, 3);
    assert_int_equal(h_count(h, SCHED_LOAD_WEIGHTS), 3);
    assert_int_equal(h_count(h, SCHED_EVICT_WEIGHTS), 0);
    assert_true(h_count(h, SCHED_INFER) > 150);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_answers_at_once),
        cmocka_unit_test(test_direct_forwards_each_request),
        cmocka_unit_test(test_direct_evicts_least_recently_used),
        cmocka_unit_test(test_direct_worker_lost_and_back),
        cmocka_unit_test(test_stress_churns_within_its_limits),
        cmocka_unit_test(test_stress_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
