/* Device executors on the emulated backend: window rules, weights residency, padding,
 * page accounting through loads/evicts, FIFO one-at-a-time execution, concurrent evicts.
 * Assertions are on states, codes and order; timeouts are generous. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backend/emu/emu_backend.h"
#include "common/clock.h"
#include "common/status.h"
#include "worker/device.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct collector {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct task_queue q;
};

static void collect(struct worker_task *t, void *ctx)
{
    struct collector *c = ctx;
    pthread_mutex_lock(&c->lock);
    task_queue_push(&c->q, t);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static struct worker_task *next_result(struct collector *c)
{
    uint64_t deadline = clock_now_ns() + 20 * NS_PER_S;
    struct timespec ts = {.tv_sec = (time_t)(deadline / NS_PER_S), .tv_nsec = (long)(deadline % NS_PER_S)};
    pthread_mutex_lock(&c->lock);
    while (!c->q.head)
        if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) != 0)
            break;
    struct worker_task *t = task_queue_pop(&c->q);
    pthread_mutex_unlock(&c->lock);
    assert_non_null(t);
    return t;
}

struct fixture {
    struct collector col;
    struct device *dev;
    struct model_info model;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->col.lock, NULL);
    pthread_cond_init(&f->col.cond, NULL);
    struct model_info m = {.input_size = 100,
                           .output_size = 10,
                           .weights_size = 3 * 1024,
                           .num_weights_pages = 3,
                           .weights_load_ns = 2 * NS_PER_MS,
                           .n_batch_sizes = 3,
                           .batch_sizes = {1, 2, 4},
                           .exec_ns = {1 * NS_PER_MS, 2 * NS_PER_MS, 3 * NS_PER_MS}};
    f->model = m;
    struct backend b;
    assert_int_equal(emu_backend_create(&b, 0), 0);
    struct device_config cfg = {.id = 0, .weights_cache_size = 10 * 1024, .page_size = 1024};
    char err[128];
    f->dev = device_create(&cfg, b, collect, &f->col, err, sizeof err);
    assert_non_null(f->dev);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    device_destroy(f->dev);
    struct worker_task *t;
    while ((t = task_queue_pop(&f->col.q)) != NULL)
        task_free(t);
    pthread_cond_destroy(&f->col.cond);
    pthread_mutex_destroy(&f->col.lock);
    free(f);
    return 0;
}

static struct worker_task *make(struct fixture *f, int kind, int32_t model, uint64_t earliest, uint64_t latest)
{
    struct worker_task *t = task_new(kind);
    t->action_id = model;
    t->model_id = model;
    t->info = &f->model;
    t->earliest = earliest;
    t->latest = latest;
    return t;
}

static struct worker_task *make_infer(struct fixture *f, int32_t model, unsigned batch, uint64_t earliest)
{
    struct worker_task *t = make(f, TASK_INFER, model, earliest, UINT64_MAX);
    t->batch_size = batch;
    for (unsigned i = 0; i < f->model.n_batch_sizes; i++)
        if (f->model.batch_sizes[i] >= batch) {
            t->padded_batch = f->model.batch_sizes[i];
            break;
        }
    return t;
}

/* Submits one task and returns its status (the task is freed). */
static int run_one(struct fixture *f, struct worker_task *t)
{
    device_submit(f->dev, t);
    struct worker_task *r = next_result(&f->col);
    assert_ptr_equal(r, t);
    int status = r->status;
    task_free(r);
    return status;
}

static void test_window_pure(void **state)
{
    (void)state;
    uint64_t start;
    assert_int_equal(executor_window_start(TASK_INFER, 100, 50, 200, &start), 0);
    assert_int_equal(start, 100);
    assert_int_equal(executor_window_start(TASK_INFER, 100, 150, 200, &start), 0);
    assert_int_equal(start, 150);
    /* too late: each kind with the original's code */
    assert_int_equal(executor_window_start(TASK_INFER, 300, 150, 200, &start), ACTION_EXEC_TOO_LATE);
    assert_int_equal(executor_window_start(TASK_INFER, 100, 250, 200, &start), ACTION_EXEC_TOO_LATE);
    assert_int_equal(executor_window_start(TASK_LOAD_WEIGHTS, 300, 0, 200, &start), ACTION_LOAD_WEIGHTS_TOO_LATE);
    assert_int_equal(executor_window_start(TASK_EVICT_WEIGHTS, 300, 0, 200, &start), ACTION_EVICT_TOO_LATE);
}

static void test_too_early_waits(void **state)
{
    struct fixture *f = *state;
    uint64_t earliest = clock_now_ns() + 30 * NS_PER_MS;
    struct worker_task *t = make(f, TASK_LOAD_WEIGHTS, 1, earliest, UINT64_MAX);
    device_submit(f->dev, t);
    struct worker_task *r = next_result(&f->col);
    assert_int_equal(r->status, ACTION_SUCCESS);
    assert_true(r->begin >= earliest);
    assert_int_equal(r->end - r->begin, f->model.weights_load_ns);
    assert_true(clock_now_ns() >= r->end); /* it waited out the emulated transfer */
    task_free(r);
    assert_int_equal(device_free_pages(f->dev), 10 - 3);
    assert_true(device_has_weights(f->dev, 1));
}

static void test_too_late_changes_nothing(void **state)
{
    struct fixture *f = *state;
    uint64_t now = clock_now_ns();
    assert_int_equal(run_one(f, make(f, TASK_LOAD_WEIGHTS, 1, 0, now - NS_PER_MS)), ACTION_LOAD_WEIGHTS_TOO_LATE);
    assert_int_equal(device_free_pages(f->dev), 10);
    assert_false(device_has_weights(f->dev, 1));
    int32_t *ids;
    assert_int_equal(device_resident_models(f->dev, &ids), 0);
    free(ids);
    /* an infer whose window has passed fails the same way, with its own code */
    struct worker_task *t = make_infer(f, 1, 1, 0);
    t->latest = now - NS_PER_MS;
    assert_int_equal(run_one(f, t), ACTION_EXEC_TOO_LATE);
}

static void test_infer_needs_weights(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(run_one(f, make_infer(f, 2, 1, 0)), ACTION_EXEC_WEIGHTS_NOT_PRESENT);
    assert_int_equal(run_one(f, make(f, TASK_LOAD_WEIGHTS, 2, 0, UINT64_MAX)), ACTION_SUCCESS);
    assert_int_equal(run_one(f, make_infer(f, 2, 1, 0)), ACTION_SUCCESS);
    assert_int_equal(run_one(f, make(f, TASK_EVICT_WEIGHTS, 2, 0, UINT64_MAX)), ACTION_SUCCESS);
    assert_int_equal(run_one(f, make_infer(f, 2, 1, 0)), ACTION_EXEC_WEIGHTS_NOT_PRESENT);
}

static void test_padded_batch(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(run_one(f, make(f, TASK_LOAD_WEIGHTS, 3, 0, UINT64_MAX)), ACTION_SUCCESS);
    struct worker_task *t = make_infer(f, 3, 3, 0);
    assert_int_equal(t->padded_batch, 4);
    device_submit(f->dev, t);
    struct worker_task *r = next_result(&f->col);
    assert_int_equal(r->status, ACTION_SUCCESS);
    assert_int_equal(r->infer.exec_end - r->infer.exec_begin, f->model.exec_ns[2]); /* b4's time */
    assert_int_equal(r->output_len, 3 * f->model.output_size);                      /* unpadded output */
    assert_int_equal(r->infer.clock_before, EMU_DEFAULT_CLOCK_MHZ);
    assert_int_equal(r->infer.clock_after, EMU_DEFAULT_CLOCK_MHZ);
    task_free(r);
    /* zero-size inputs: empty output */
    t = make_infer(f, 3, 2, 0);
    t->zero_inputs = 1;
    device_submit(f->dev, t);
    r = next_result(&f->col);
    assert_int_equal(r->status, ACTION_SUCCESS);
    assert_int_equal(r->output_len, 0);
    assert_null(r->output);
    task_free(r);
}

static void test_page_accounting(void **state)
{
    struct fixture *f = *state;
    /* 10 pages, 3 per model: three fit, the fourth does not */
    for (int m = 0; m < 3; m++)
        assert_int_equal(run_one(f, make(f, TASK_LOAD_WEIGHTS, m, 0, UINT64_MAX)), ACTION_SUCCESS);
    assert_int_equal(device_free_pages(f->dev), 1);
    assert_int_equal(run_one(f, make(f, TASK_LOAD_WEIGHTS, 3, 0, UINT64_MAX)), ACTION_LOAD_WEIGHTS_INSUFFICIENT_CACHE);
    assert_int_equal(run_one(f, make(f, TASK_LOAD_WEIGHTS, 1, 0, UINT64_MAX)), ACTION_LOAD_WEIGHTS_ALREADY_LOADED);
    assert_int_equal(device_free_pages(f->dev), 1);
    /* evict the middle one: its pages are reused by model 3 */
    assert_int_equal(run_one(f, make(f, TASK_EVICT_WEIGHTS, 1, 0, UINT64_MAX)), ACTION_SUCCESS);
    assert_int_equal(run_one(f, make(f, TASK_EVICT_WEIGHTS, 1, 0, UINT64_MAX)), ACTION_EVICT_WEIGHTS_NOT_PRESENT);
    assert_int_equal(device_free_pages(f->dev), 4);
    assert_int_equal(run_one(f, make(f, TASK_LOAD_WEIGHTS, 3, 0, UINT64_MAX)), ACTION_SUCCESS);
    assert_int_equal(device_free_pages(f->dev), 1);
    int32_t *ids;
    assert_int_equal(device_resident_models(f->dev, &ids), 3);
    assert_int_equal(ids[0], 0);
    assert_int_equal(ids[1], 2);
    assert_int_equal(ids[2], 3);
    free(ids);
    device_clear(f->dev);
    assert_int_equal(device_free_pages(f->dev), 10);
    assert_false(device_has_weights(f->dev, 0));
}

static void test_exec_fifo_one_at_a_time(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(run_one(f, make(f, TASK_LOAD_WEIGHTS, 5, 0, UINT64_MAX)), ACTION_SUCCESS);
    struct worker_task *sent[4];
    for (int i = 0; i < 4; i++) {
        sent[i] = make_infer(f, 5, (unsigned)(i % 2 + 1), 0);
        device_submit(f->dev, sent[i]);
    }
    uint64_t prev_end = 0;
    for (int i = 0; i < 4; i++) {
        struct worker_task *r = next_result(&f->col);
        assert_ptr_equal(r, sent[i]); /* arrival order */
        assert_int_equal(r->status, ACTION_SUCCESS);
        assert_true(r->infer.exec_begin >= prev_end); /* never overlapping */
        prev_end = r->infer.exec_end;
        task_free(r);
    }
}

static void wait_resident(struct fixture *f, int32_t model)
{
    for (int i = 0; i < 20000; i++) {
        int32_t *ids;
        size_t n = device_resident_models(f->dev, &ids);
        int found = 0;
        for (size_t k = 0; k < n; k++)
            found |= ids[k] == model;
        free(ids);
        if (found)
            return;
        clock_sleep_until(clock_now_ns() + 100 * NS_PER_US);
    }
    fail_msg("model %d never became resident", model);
}

static void test_clear_during_load(void **state)
{
    struct fixture *f = *state;
    f->model.weights_load_ns = 300 * NS_PER_MS;
    struct worker_task *t = make(f, TASK_LOAD_WEIGHTS, 7, 0, UINT64_MAX);
    device_submit(f->dev, t);
    wait_resident(f, 7); /* pages taken, transfer under way */
    device_clear(f->dev);
    struct worker_task *r = next_result(&f->col);
    assert_int_equal(r->status, ACTION_LOAD_WEIGHTS_CONCURRENT_EVICT);
    task_free(r);
    assert_int_equal(device_free_pages(f->dev), 10);
    assert_false(device_has_weights(f->dev, 7));
}

static void test_evict_during_infer(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(run_one(f, make(f, TASK_LOAD_WEIGHTS, 8, 0, UINT64_MAX)), ACTION_SUCCESS);
    f->model.exec_ns[0] = 300 * NS_PER_MS;
    uint64_t now = clock_now_ns();
    struct worker_task *inf = make_infer(f, 8, 1, now + 20 * NS_PER_MS);
    struct worker_task *ev = make(f, TASK_EVICT_WEIGHTS, 8, now + 120 * NS_PER_MS, UINT64_MAX);
    device_submit(f->dev, inf);
    device_submit(f->dev, ev);
    for (int i = 0; i < 2; i++) {
        struct worker_task *r = next_result(&f->col);
        if (r == ev)
            assert_int_equal(r->status, ACTION_SUCCESS);
        else /* normally evicted mid-run (84); on a badly stalled machine it may find no weights (20) */
            assert_true(r->status == ACTION_EXEC_WEIGHTS_CHANGED || r->status == ACTION_EXEC_WEIGHTS_NOT_PRESENT);
        task_free(r);
    }
}

static void test_shutdown_returns_pending(void **state)
{
    struct fixture *f = *state;
    struct worker_task *t = make(f, TASK_LOAD_WEIGHTS, 9, clock_now_ns() + 3600 * NS_PER_S, UINT64_MAX);
    device_submit(f->dev, t);
    struct worker_task *t2 = make_infer(f, 9, 1, clock_now_ns() + 3600 * NS_PER_S);
    device_submit(f->dev, t2);
    device_destroy(f->dev); /* must not wait an hour */
    f->dev = NULL;
    for (int i = 0; i < 2; i++) {
        struct worker_task *r = next_result(&f->col);
        assert_int_equal(r->status, ACTION_SHUTTING_DOWN);
        task_free(r);
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_pure), T(test_too_early_waits),   T(test_too_late_changes_nothing),
        T(test_infer_needs_weights),        T(test_padded_batch),      T(test_page_accounting),
        T(test_exec_fifo_one_at_a_time),    T(test_clear_during_load), T(test_evict_during_infer),
        T(test_shutdown_returns_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
