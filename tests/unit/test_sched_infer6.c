/* INFER6 scheduler rules, driven with a fake clock and a recording host (before any result
 * arrives it plans with its default lags: dispatch 130 us typical / 70 us low / 300 us high,
 * post 300 / 170 / 550 us, turnaround 130 us): tight-SLO placement on an idle GPU, just-in-time
 * decisions, early drops (at arrival and as soon as hopeless), overload with a fake worker,
 * batching across models, weights loaded before use with LRU eviction, the order GPUs are
 * offered loads in, worker loss; and with
 * INFER5, a bounded SLO for any slo_factor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "controller/sched_report.h"
#include "test_sched_harness.h"
#include <math.h>

#define US 1000ULL
#define DISPATCH (130 * US) /* typical dispatch lag */
#define DISPATCH_LOW (70 * US)
#define POST_LOW (170 * US)
#define POST_ALLOW (550 * US) /* post lag allowance: p90, at most 2x the median */
#define TURN (130 * US)       /* executor turnaround */
#define LEAD (300 * US)       /* decisions this long before a GPU frees up */

/* resnet50_v2's profile: b1 2.9, b2 5.3, b4 7.5 ms */
static const uint64_t RESNET[] = {2900 * US, 5300 * US, 7500 * US};

static struct harness *new_infer6(void)
{
    struct harness *h = h_new();
    h->cfg.type = SCHED_TYPE_INFER6;
    return h;
}

/* One GPU holding models [0, n). */
static void start_one_gpu(struct harness *h, const struct sched_model *models, unsigned n)
{
    unsigned loaded[8];
    for (unsigned i = 0; i < n; i++)
        loaded[i] = models[i].id;
    struct sched_gpu gpu = {0, 0, 100, n, loaded};
    h_start(h, models, n, &gpu, 1);
}

/* Ticks at every wake-up the scheduler asks for up to `until`. */
static void run_until(struct harness *h, uint64_t until)
{
    for (int i = 0; i < 100000; i++) {
        uint64_t w = scheduler_next_wakeup(h->s, 0);
        if (w > until)
            return;
        scheduler_tick(h->s, w);
    }
    fail_msg("the scheduler keeps waking up");
}

static const struct h_done *done_of(const struct harness *h, uint64_t id)
{
    for (unsigned i = 0; i < h->n_dones; i++)
        if (h->dones[i].req_id == id)
            return &h->dones[i];
    return NULL;
}

static const struct request_row *row_of(const struct harness *h, uint64_t id)
{
    for (unsigned i = 0; i < h->n_rrows; i++)
        if (h->rrows[i].request_id == id)
            return &h->rrows[i];
    return NULL;
}

/* slo_factor giving a deadline at absolute `deadline` for a request arriving at `now`. */
static float factor_for(uint64_t now, uint64_t deadline)
{
    return (float)((double)(deadline - now) / (double)RESNET[0]);
}

/* Issue 11: any float a request carries (the controller's edge refuses these; the simulator and
 * the fuzzers do not) gives INFER5 and INFER6 a bounded deadline, never an out-of-range cast. */
static void test_any_slo_factor_bounded(void **state)
{
    (void)state;
    static const enum sched_type types[] = {SCHED_TYPE_INFER5, SCHED_TYPE_INFER6};
    const float factors[] = {INFINITY, 3e38f, NAN, -1.0f, 0.0f};
    for (unsigned t = 0; t < 2; t++) {
        struct harness *h = h_new();
        h->cfg.type = types[t];
        struct sched_model m = h_model(0, 3, RESNET, 8 * MS, 7, 8);
        start_one_gpu(h, &m, 1);
        for (unsigned i = 0; i < 5; i++) {
            struct sched_request *r = h_request(h, MS, 0, factors[i]);
            assert_int_equal(r->deadline - r->arrival, i < 2 ? SCHED_MAX_SLO : h->cfg.default_slo);
        }
        scheduler_drain(h->s, 2 * MS, CLIENT_ERROR);
        h_free(h);
    }
}

static void test_tight_slo_placed_at_once(void **state)
{
    (void)state;
    struct harness *h = new_infer6();
    h->cfg.schedule_ahead = 5 * MS; /* the Figure 7 setting: INFER5 would aim at 10 ms */
    struct sched_model m = h_model(0, 3, RESNET, 8 * MS, 7, 8);
    start_one_gpu(h, &m, 1);
    h_request(h, 0, 0, 1.5f); /* deadline 4.35 ms */
    assert_int_equal(h->n_acts, 1);
    const struct sched_action *a = &h->acts[0].a;
    assert_int_equal(a->type, SCHED_INFER);
    assert_int_equal(a->batch_size, 1);
    assert_int_equal(a->earliest, 0);
    assert_int_equal(a->expected_complete, DISPATCH + RESNET[0]);
    /* worth starting while the deadline can still be met with the fastest result path */
    assert_int_equal(a->latest, 4350 * US - RESNET[0] - POST_LOW);
    assert_int_equal(a->send_by, a->latest - DISPATCH_LOW);
    assert_true(a->expected_complete + POST_ALLOW <= 4350 * US);
    h_free(h);
}

static void test_decided_just_in_time(void **state)
{
    (void)state;
    struct harness *h = new_infer6();
    struct sched_model m = h_model(0, 3, RESNET, 8 * MS, 7, 8);
    start_one_gpu(h, &m, 1);
    h_request(h, 0, 0, 10.0f); /* runs from 0.13 ms to 3.03 ms */
    assert_int_equal(h->n_acts, 1);
    uint64_t free_at = DISPATCH + RESNET[0] + TURN;
    h_request(h, MS / 2, 0, 10.0f);
    assert_int_equal(h->n_acts, 1); /* not before the GPU is about to free up */
    assert_int_equal(scheduler_next_wakeup(h->s, MS / 2), free_at - LEAD);
    scheduler_tick(h->s, free_at - LEAD - 1);
    assert_int_equal(h->n_acts, 1);
    h_request(h, free_at - LEAD - 1, 0, 10.0f); /* a late arrival still joins the batch */
    scheduler_tick(h->s, free_at - LEAD);
    assert_int_equal(h->n_acts, 2);
    assert_int_equal(h->acts[1].a.n_requests, 2);
    assert_int_equal(h->acts[1].a.batch_size, 2);
    assert_int_equal(h->acts[1].a.expected_complete, free_at + RESNET[1]);
    h_free(h);
}

static void test_dropped_at_arrival_when_hopeless(void **state)
{
    (void)state;
    struct harness *h = new_infer6();
    struct sched_model m = h_model(0, 3, RESNET, 8 * MS, 7, 8);
    start_one_gpu(h, &m, 1);
    h_request(h, MS, 0, 1.0f); /* deadline = exec time: no result can be back in time */
    assert_int_equal(h->n_acts, 0);
    assert_int_equal(h->answered[0], 1);
    assert_int_equal(h->dones[0].status, CLIENT_TIMEOUT);
    const struct request_row *row = row_of(h, 0);
    assert_non_null(row);
    assert_int_equal(row->latency, 0);
    assert_int_equal(row->deadline_met, 0);
    h_free(h);
}

static void test_dropped_as_soon_as_hopeless(void **state)
{
    (void)state;
    struct harness *h = new_infer6();
    struct sched_model m = h_model(0, 3, RESNET, 8 * MS, 7, 8);
    start_one_gpu(h, &m, 1);
    h_request(h, 0, 0, 10.0f); /* the GPU is busy until 3.16 ms */
    uint64_t deadline = 2 * MS + 4350 * US;
    h_request(h, 2 * MS, 0, 1.5f); /* could make it on an idle GPU, not after this one */
    assert_int_equal(h->answered[1], 0);
    uint64_t hopeless = deadline - POST_ALLOW - RESNET[0] - DISPATCH + 1;
    assert_int_equal(scheduler_next_wakeup(h->s, 2 * MS), hopeless);
    run_until(h, hopeless);
    assert_int_equal(h->answered[1], 1);
    assert_int_equal(done_of(h, 1)->status, CLIENT_TIMEOUT);
    assert_true(row_of(h, 1)->latency < deadline - 2 * MS); /* told well before its deadline */
    assert_int_equal(h->n_acts, 1);                         /* and no GPU time spent on it */
    h_free(h);
}

/* Models A (0) and B (1) wait while C (2) runs until 3.16 ms; A's single request is the most
 * urgent, B has four. */
static struct harness *contention(uint64_t b_deadline)
{
    struct harness *h = new_infer6();
    struct sched_model ms[3] = {h_model(0, 3, RESNET, 8 * MS, 7, 8), h_model(1, 3, RESNET, 8 * MS, 7, 8),
                                h_model(2, 3, RESNET, 8 * MS, 7, 8)};
    start_one_gpu(h, ms, 3);
    h_request(h, 0, 2, 10.0f);
    assert_int_equal(h->n_acts, 1);
    h_request(h, MS, 0, factor_for(MS, 7 * MS + POST_ALLOW)); /* must start by 4.1 ms */
    for (int i = 0; i < 4; i++)
        h_request(h, MS, 1, factor_for(MS, b_deadline));
    return h;
}

static void test_batching_across_models_conflict(void **state)
{
    (void)state;
    /* B's four need a b4 started by 4.5 ms: running A first (3.16 to 6.19 ms) would lose them */
    struct harness *h = contention(12 * MS + POST_ALLOW);
    run_until(h, 3 * MS);
    assert_int_equal(h->n_acts, 2);
    assert_int_equal(h->acts[1].a.model_id, 1);
    assert_int_equal(h->acts[1].a.n_requests, 4);
    assert_int_equal(h->acts[1].a.batch_size, 4);
    run_until(h, 8 * MS);
    assert_int_equal(h->answered[1], 1); /* A's request was dropped, early, without GPU time */
    assert_int_equal(done_of(h, 1)->status, CLIENT_TIMEOUT);
    assert_int_equal(h->n_acts, 2);
    h_free(h);
}

static void test_batching_across_models_no_conflict(void **state)
{
    (void)state;
    /* B can wait until after A: the most urgent goes first, then B's batch */
    struct harness *h = contention(20 * MS + POST_ALLOW);
    run_until(h, 3 * MS);
    assert_int_equal(h->n_acts, 2);
    assert_int_equal(h->acts[1].a.model_id, 0);
    run_until(h, 6 * MS);
    assert_int_equal(h->n_acts, 3);
    assert_int_equal(h->acts[2].a.model_id, 1);
    assert_int_equal(h->acts[2].a.n_requests, 4);
    assert_int_equal(h->answered[1], 0);
    h_free(h);
}

/* ---- a fake worker: runs infers in order, exactly as estimated; results come back after
 * the typical post lag ---- */

struct fake {
    struct harness *h;
    uint64_t now, exec_free;
    struct {
        uint64_t at;
        struct sched_result r;
    } results[512];
    unsigned n_results;
    unsigned late_starts;
};

static void fake_send(void *d, const struct sched_action *a)
{
    struct fake *f = d;
    h_send(f->h, a);
    struct sched_result r;
    memset(&r, 0, sizeof r);
    r.action_id = a->id;
    uint64_t start = f->now + DISPATCH > f->exec_free ? f->now + DISPATCH : f->exec_free;
    if (start > a->latest) {
        r.status = ACTION_COULD_NOT_START_IN_TIME;
        f->late_starts++;
    } else {
        r.worker_action_received = f->now + DISPATCH;
        r.worker_exec_begin = start;
        r.worker_exec_end = start + a->expected_duration;
        r.worker_exec_duration = a->expected_duration;
        f->exec_free = r.worker_exec_end + TURN;
    }
    uint64_t at = (r.worker_exec_end ? r.worker_exec_end : f->now) + 300 * US;
    f->results[f->n_results].at = at;
    f->results[f->n_results++].r = r;
}

static void fake_done(void *d, struct sched_request *r, int st, const char *m, const uint8_t *o, size_t n)
{
    h_done_cb(((struct fake *)d)->h, r, st, m, o, n);
}
static void fake_log_req(void *d, const struct request_row *row) { h_log_req(((struct fake *)d)->h, row); }
static void fake_log_act(void *d, const struct action_row *row) { h_log_act(((struct fake *)d)->h, row); }
static const struct sched_ops FAKE_OPS = {fake_send, fake_done, fake_log_req, fake_log_act};

/* Delivers results and wake-ups in time order until nothing is left. */
static void fake_run(struct fake *f)
{
    for (int steps = 0; steps < 100000; steps++) {
        uint64_t w = scheduler_next_wakeup(f->h->s, f->now);
        unsigned first = f->n_results;
        for (unsigned i = 0; i < f->n_results; i++)
            if (f->results[i].at != UINT64_MAX && (first == f->n_results || f->results[i].at < f->results[first].at))
                first = i;
        uint64_t r = first < f->n_results ? f->results[first].at : UINT64_MAX;
        if (w == UINT64_MAX && r == UINT64_MAX)
            return;
        if (r <= w) {
            f->now = r > f->now ? r : f->now;
            f->results[first].at = UINT64_MAX;
            f->results[first].r.received = f->now;
            scheduler_on_result(f->h->s, f->now, &f->results[first].r);
        } else {
            f->now = w > f->now ? w : f->now;
            scheduler_tick(f->h->s, f->now);
        }
    }
    fail_msg("the run does not end");
}

/* 60 tight requests at once on one GPU: each is answered exactly once; every one that got GPU
 * time met its deadline, every other was told before its deadline and cost no GPU time. */
static void overload(enum sched_type type, unsigned *met, unsigned *late)
{
    struct fake *f = calloc(1, sizeof *f);
    f->h = h_new();
    f->h->cfg.type = type;
    f->h->cfg.schedule_ahead = 5 * MS;
    struct sched_model m = h_model(0, 3, RESNET, 8 * MS, 7, 8);
    unsigned loaded = 0;
    struct sched_gpu gpu = {0, 0, 100, 1, &loaded};
    f->h->s = scheduler_create(&f->h->cfg, &m, 1, &gpu, 1, &FAKE_OPS, f);
    for (unsigned i = 0; i < 60; i++)
        h_request(f->h, 0, 0, 3.0f); /* deadline 8.7 ms: two or three b1, or one b2 and one b1 */
    fake_run(f);
    *met = *late = 0;
    for (unsigned i = 0; i < 60; i++) {
        assert_int_equal(f->h->answered[i], 1);
        const struct request_row *row = row_of(f->h, i);
        *met += row->deadline_met;
        *late += row->result == CLIENT_SUCCESS && !row->deadline_met;
        if (type == SCHED_TYPE_INFER6 && !row->deadline_met)
            assert_true(row->latency < row->deadline);
    }
    if (type == SCHED_TYPE_INFER6)
        assert_int_equal(f->late_starts, 0);
    h_free(f->h);
    free(f);
}

static void test_overload_drops_early(void **state)
{
    (void)state;
    unsigned met6, late6, met5, late5;
    overload(SCHED_TYPE_INFER6, &met6, &late6);
    overload(SCHED_TYPE_INFER5, &met5, &late5);
    assert_int_equal(late6, 0); /* no capacity spent on requests that miss */
    assert_true(met6 >= 2);
    assert_true(met6 >= met5);
    printf("  60 requests, deadline 8.7 ms, one GPU: INFER6 met %u (served late %u), INFER5 met %u (late %u)\n", met6,
           late6, met5, late5);
}

static void test_weights_loaded_before_use_and_lru(void **state)
{
    (void)state;
    struct harness *h = new_infer6();
    struct sched_model ms[2] = {h_model(0, 3, RESNET, 8 * MS, 2, 8), h_model(1, 3, RESNET, 8 * MS, 2, 8)};
    struct sched_gpu gpu = {0, 0, 3, 0, NULL}; /* room for one of them */
    h_start(h, ms, 2, &gpu, 1);
    h_request(h, 0, 0, 10.0f);
    assert_int_equal(h->n_acts, 1);
    const struct sched_action *load = &h->acts[0].a;
    assert_int_equal(load->type, SCHED_LOAD_WEIGHTS);
    run_until(h, 12 * MS); /* the infer is decided as the weights are predicted in */
    assert_int_equal(h->n_acts, 2);
    const struct sched_action *inf = &h->acts[1].a;
    assert_int_equal(inf->type, SCHED_INFER);
    assert_true(inf->earliest >= load->expected_complete);
    struct sched_result r = h_ok(&h->acts[0], DISPATCH, 8 * MS, 8 * MS + 300 * US);
    scheduler_on_result(h->s, r.received, &r);
    r = h_ok(&h->acts[1], inf->earliest, RESNET[0], inf->earliest + RESNET[0] + 300 * US);
    scheduler_on_result(h->s, r.received, &r);
    assert_int_equal(h->answered[0], 1);
    uint64_t now = r.received + MS;
    h_request(h, now, 1, 10.0f); /* model 0 is idle: evicted to make room */
    assert_int_equal(h->n_acts, 4);
    assert_int_equal(h->acts[2].a.type, SCHED_EVICT_WEIGHTS);
    assert_int_equal(h->acts[2].a.model_id, 0);
    assert_int_equal(h->acts[3].a.type, SCHED_LOAD_WEIGHTS);
    assert_int_equal(h->acts[3].a.model_id, 1);
    run_until(h, now + 12 * MS);
    assert_int_equal(h->n_acts, 5);
    assert_int_equal(h->acts[4].a.type, SCHED_INFER);
    assert_true(h->acts[4].a.earliest >= h->acts[3].a.expected_complete);
    h_free(h);
}

/* The first action of type t sent at or after index `from`. */
static const struct h_action *first_from(const struct harness *h, unsigned from, enum sched_action_type t)
{
    for (unsigned i = from; i < h->n_acts; i++)
        if (h->acts[i].a.type == t)
            return &h->acts[i];
    fail_msg("no such action");
    return NULL;
}

/* A load pass offers a cold model to the due GPUs least loaded first; between equal loads, those
 * due since an earlier pass come before one whose load executor came free since, then by index.
 * (GPU 4, the roomiest, takes the spare copies a cold model's queued requests ask for.) */
static void test_load_goes_to_least_loaded_then_longest_due(void **state)
{
    (void)state;
    struct harness *h = new_infer6();
    struct sched_model ms[4];
    for (unsigned i = 0; i < 4; i++)
        ms[i] = h_model(i, 3, RESNET, 8 * MS, 3, 8);
    unsigned held[2] = {0, 1};
    struct sched_gpu gpus[5] = {
        {0, 0, 6, 1, &held[0]}, {0, 1, 6, 1, &held[1]}, {0, 2, 6, 0, NULL}, {0, 3, 6, 0, NULL}, {0, 4, 9, 0, NULL},
    };
    h_start(h, ms, 4, gpus, 5);
    h_request(h, 0, 0, 20.0f); /* GPUs 0 and 1 carry load until these are answered */
    h_request(h, 0, 1, 20.0f);
    unsigned from = h->n_acts;
    h_request(h, MS, 2, 20.0f);
    const struct h_action *load = first_from(h, from, SCHED_LOAD_WEIGHTS);
    assert_int_equal(load->a.gpu_id, 2); /* not GPU 0: it has room, but load */
    struct sched_result r = h_ok(load, MS + DISPATCH, 8 * MS, 10 * MS);
    scheduler_on_result(h->s, r.received, &r); /* GPU 2's load executor is free again from now */
    run_until(h, 20 * MS);
    const struct h_action *inf = h_last(h, SCHED_INFER);
    assert_int_equal(inf->a.model_id, 2);
    r = h_ok(inf, inf->a.earliest, RESNET[0], inf->a.earliest + RESNET[0] + 300 * US);
    scheduler_on_result(h->s, r.received, &r);
    assert_int_equal(h->answered[2], 1); /* GPU 2 is as idle as GPU 3 again */
    from = h->n_acts;
    h_request(h, 30 * MS, 3, 20.0f);
    assert_int_equal(first_from(h, from, SCHED_LOAD_WEIGHTS)->a.gpu_id, 3); /* due since the first pass */
    scheduler_drain(h->s, 40 * MS, CLIENT_ERROR);
    h_free(h);
}

static void test_worker_lost_and_unknown_model(void **state)
{
    (void)state;
    struct harness *h = new_infer6();
    struct sched_model m = h_model(0, 3, RESNET, 8 * MS, 7, 8);
    start_one_gpu(h, &m, 1);
    for (int i = 0; i < 5; i++)
        h_request(h, 0, 0, 20.0f);
    h_request(h, 0, 9, 20.0f);
    assert_int_equal(h->answered[5], 1);
    assert_int_equal(done_of(h, 5)->status, CLIENT_INVALID_REQUEST);
    scheduler_on_worker_lost(h->s, MS, 0);
    run_until(h, 100 * MS);
    scheduler_drain(h->s, 100 * MS, CLIENT_ERROR);
    for (int i = 0; i < 6; i++)
        assert_int_equal(h->answered[i], 1);
    assert_int_equal(done_of(h, 0)->status, CLIENT_ERROR);
    scheduler_on_worker_back(h->s, 200 * MS, 0);
    unsigned infers = h_count(h, SCHED_INFER);
    h_request(h, 200 * MS, 0, 20.0f); /* weights were cleared: loaded again, then served */
    assert_int_equal(h_last(h, SCHED_LOAD_WEIGHTS)->a.model_id, 0);
    run_until(h, 220 * MS);
    assert_int_equal(h_count(h, SCHED_INFER), infers + 1);
    assert_true(h_last(h, SCHED_INFER)->a.earliest >= h_last(h, SCHED_LOAD_WEIGHTS)->a.expected_complete);
    scheduler_drain(h->s, 300 * MS, CLIENT_ERROR);
    assert_int_equal(h->answered[6], 1);
    h_free(h);
}

/* Results that all came back 3 ms after their exec ended make every tight request look
 * hopeless; once no result has come for 50 ms the estimates fall back, and it is tried again. */
static void test_stalled_lags_do_not_lock_out(void **state)
{
    (void)state;
    struct harness *h = new_infer6();
    struct sched_model m = h_model(0, 3, RESNET, 8 * MS, 7, 8);
    start_one_gpu(h, &m, 1);
    uint64_t now = 0;
    for (unsigned i = 0; i < 16; i++) {
        h_request(h, now, 0, 20.0f);
        const struct h_action *x = h_last(h, SCHED_INFER);
        assert_int_equal(h->n_acts, i + 1);
        uint64_t begin = now + DISPATCH, end = begin + RESNET[0];
        struct sched_result r = h_ok(x, begin, RESNET[0], end + 3 * MS);
        r.worker_action_received = begin;
        now = end + 3 * MS;
        scheduler_on_result(h->s, now, &r);
    }
    h_request(h, now, 0, 1.5f);
    assert_int_equal(h->answered[16], 1); /* hopeless at arrival with a 3 ms post lag */
    assert_int_equal(h->n_acts, 16);
    now += 60 * MS;
    h_request(h, now, 0, 1.5f);
    assert_int_equal(h->n_acts, 17); /* stale estimates forgotten: placed */
    assert_int_equal(h->answered[17], 0);
    scheduler_drain(h->s, now, CLIENT_ERROR);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_slo_factor_bounded),
        cmocka_unit_test(test_tight_slo_placed_at_once),
        cmocka_unit_test(test_decided_just_in_time),
        cmocka_unit_test(test_dropped_at_arrival_when_hopeless),
        cmocka_unit_test(test_dropped_as_soon_as_hopeless),
        cmocka_unit_test(test_batching_across_models_conflict),
        cmocka_unit_test(test_batching_across_models_no_conflict),
        cmocka_unit_test(test_overload_drops_early),
        cmocka_unit_test(test_weights_loaded_before_use_and_lru),
        cmocka_unit_test(test_load_goes_to_least_loaded_then_longest_due),
        cmocka_unit_test(test_worker_lost_and_unknown_model),
        cmocka_unit_test(test_stalled_lags_do_not_lock_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
