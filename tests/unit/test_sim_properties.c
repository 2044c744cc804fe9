/* The scheduler's properties, checked over whole simulated runs with heavy weights churn
 * (48 models, 4 small devices) and noisy execution times: no device ever runs two inferences
 * at once; no action starts outside its window; every request gets exactly one response;
 * pages in use never exceed capacity; a model is never inferred where its weights are not
 * loaded (tracked independently from the devices' load/evict history). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/status.h"
#include "test_sim_helpers.h"

#define PAGE (16ULL << 20)
#define CHURN_FLAGS "-q -w 2 -g 2 --cache-size 503316480 --exec-noise 0.05 --seed 3 "
#define CHURN_WORKLOAD " -- slo-exp-1 resnet50_v2 48 poisson 800 2 100 2 mul 3"
#define CHURN CHURN_FLAGS "INFER5" CHURN_WORKLOAD
#define CHURN6 CHURN_FLAGS "INFER6" CHURN_WORKLOAD

struct obs {
    struct sim_trace *t;
    size_t n, cap;
    struct ts_answers answers;
};

static void on_action(void *data, const struct sim_trace *t)
{
    struct obs *o = data;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 4096;
        o->t = realloc(o->t, o->cap * sizeof *o->t);
    }
    o->t[o->n++] = *t;
}

static void on_response(void *data, uint64_t id, int status)
{
    (void)status;
    ts_answers_add(&((struct obs *)data)->answers, id);
}

/* A point in a device's history; at equal times: ends, then evicts, then starts. */
struct point {
    unsigned device;
    uint64_t t;
    int order; /* 0 infer end, 1 load ready, 2 evict, 3 load start, 4 infer start */
    int32_t model;
    unsigned pages;
};

static int cmp_point(const void *a, const void *b)
{
    const struct point *x = a, *y = b;
    if (x->device != y->device)
        return x->device < y->device ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->order - y->order;
}

static size_t history(const struct obs *o, struct point *p)
{
    size_t n = 0;
    for (size_t i = 0; i < o->n; i++) {
        const struct sim_trace *t = &o->t[i];
        if (t->status != ACTION_SUCCESS)
            continue;
        struct point base = {.device = t->device, .model = t->model_id, .pages = 7};
        if (t->type == SCHED_INFER) {
            p[n] = base, p[n].t = t->start, p[n++].order = 4;
            p[n] = base, p[n].t = t->end, p[n++].order = 0;
        } else if (t->type == SCHED_LOAD_WEIGHTS) {
            p[n] = base, p[n].t = t->start, p[n++].order = 3;
            p[n] = base, p[n].t = t->end, p[n++].order = 1;
        } else {
            p[n] = base, p[n].t = t->start, p[n++].order = 2;
        }
    }
    qsort(p, n, sizeof *p, cmp_point);
    return n;
}

/* Replays each device's history: weights state per model, pages held, inferences running. */
static void check_history(const struct obs *o, unsigned total_pages)
{
    struct point *p = calloc(2 * o->n + 1, sizeof *p);
    size_t n = history(o, p);
    enum { ABSENT, LOADING, READY };
    int state[64] = {0}, running = 0;
    unsigned pages = 0, dev = UINT32_MAX;
    uint64_t infers = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].device != dev) {
            memset(state, 0, sizeof state);
            dev = p[i].device, running = 0, pages = 0;
        }
        int32_t m = p[i].model;
        assert_true(m >= 0 && m < 64);
        switch (p[i].order) {
        case 4: /* infer start: one at a time, weights ready */
            assert_int_equal(state[m], READY);
            assert_int_equal(running, 0);
            running = 1, infers++;
            break;
        case 0: running = 0; break;
        case 3:
            assert_int_equal(state[m], ABSENT);
            state[m] = LOADING, pages += p[i].pages;
            assert_true(pages <= total_pages);
            break;
        case 1: state[m] = READY; break;
        case 2:
            assert_int_not_equal(state[m], ABSENT);
            state[m] = ABSENT, pages -= p[i].pages;
            break;
        default: break;
        }
    }
    assert_true(infers > 1000);
    free(p);
}

/* Every action started inside its window, after it arrived; pages never exceed the cache. */
static void check_windows_only(const struct obs *o)
{
    for (size_t i = 0; i < o->n; i++) {
        const struct sim_trace *t = &o->t[i];
        assert_true(t->pages_used <= t->pages_total);
        if (t->status == ACTION_LOAD_WEIGHTS_TOO_LATE || t->status == ACTION_EVICT_TOO_LATE ||
            t->status == ACTION_EXEC_TOO_LATE) {
            assert_true(t->start > t->latest);
            continue;
        }
        assert_true(t->start >= t->earliest);
        assert_true(t->start <= t->latest);
        assert_true(t->start >= t->received);
    }
}

/* The windows, and weights churning: the cache holds 4 of 48 models. */
static void check_windows(const struct obs *o)
{
    uint64_t loads = 0, evicts = 0;
    check_windows_only(o);
    for (size_t i = 0; i < o->n; i++) {
        loads += o->t[i].type == SCHED_LOAD_WEIGHTS && o->t[i].status == 0;
        evicts += o->t[i].type == SCHED_EVICT_WEIGHTS && o->t[i].status == 0;
    }
    assert_true(loads > 48);
    assert_true(evicts > 0);
}

static void run_checked(const char *cmd, unsigned total_pages)
{
    struct obs o = {0};
    struct sim_observer obs = {.action = on_action, .response = on_response, .data = &o};
    struct sim_stats st;
    assert_int_equal(ts_run(cmd, NULL, &obs, &st), 0);
    assert_true(st.requests > 5000);
    assert_int_equal(st.responses, st.requests);
    assert_true(ts_answers_once(&o.answers, st.requests));
    check_windows(&o);
    check_history(&o, total_pages);
    free(o.t);
    free(o.answers.count);
}

static void test_churn_default_overheads(void **state)
{
    (void)state;
    run_checked(CHURN, 30);
}

static void test_churn_ideal_exact_ticks(void **state)
{
    (void)state;
    run_checked("--ideal --tick-us 0 " CHURN, 30);
}

static void test_infer6_churn_default_overheads(void **state)
{
    (void)state;
    run_checked(CHURN6, 30);
}

static void test_infer6_churn_ideal_ms_ticks(void **state)
{
    (void)state;
    run_checked("--ideal --tick-us 1000 " CHURN6, 30);
}

/* Tight SLOs under overload on 6 roomy devices: INFER6's just-in-time decisions and drops. */
static void test_infer6_tight_overload(void **state)
{
    (void)state;
    struct obs o = {0};
    struct sim_observer obs = {.action = on_action, .response = on_response, .data = &o};
    struct sim_stats st;
    assert_int_equal(ts_run("-q --gpus 6 --seed 5 --exec-noise 0.02 INFER6 0 6 5000000 -- "
                            "slo-exp-1 resnet50_v2 48 poisson 2400 1.5 3.4 1.5 mul 2",
                            NULL, &obs, &st),
                     0);
    assert_int_equal(st.responses, st.requests);
    assert_true(ts_answers_once(&o.answers, st.requests));
    check_windows_only(&o);
    check_history(&o, 1376);
    free(o.t);
    free(o.answers.count);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_churn_default_overheads),        cmocka_unit_test(test_churn_ideal_exact_ticks),
        cmocka_unit_test(test_infer6_churn_default_overheads), cmocka_unit_test(test_infer6_churn_ideal_ms_ticks),
        cmocka_unit_test(test_infer6_tight_overload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
