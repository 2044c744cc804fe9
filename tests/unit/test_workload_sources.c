/* The workload sources in virtual time, through a builder of the test's own (as a simulator
 * would drive them): open/closed loops, trace replay, schedules, and the real workload setups
 * (fill_memory, slo-exp-1, slo-exp-2, scalability-exp-1, bursty_experiment, azure) checked for
 * their sources, rates and schedules. No clock, no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload/azure.h"
#include "workload/sources.h"
#include "workload/workloads.h"

#define SEC 1000000000ULL
#define MAX_BUCKETS 4096
#define MAX_PENDING 65536

struct sim {
    struct wl_sources *s;
    struct wl_emit emit;
    uint64_t now, service_ns;
    uint64_t sends, stops, notes;
    unsigned per_target[512];
    unsigned per_second[MAX_BUCKETS];
    struct {
        uint64_t at;
        unsigned src;
    } pending[MAX_PENDING];
    unsigned n_pending;
    float last_slo;
    char last_note[128];
};

static int sim_send(void *data, unsigned source, unsigned target, int user_id, float slo)
{
    (void)user_id;
    struct sim *m = data;
    m->sends++;
    m->last_slo = slo;
    if (target < 512)
        m->per_target[target]++;
    if (m->now / SEC < MAX_BUCKETS)
        m->per_second[m->now / SEC]++;
    if (m->service_ns > 0) {
        assert_true(m->n_pending < MAX_PENDING);
        m->pending[m->n_pending].at = m->now + m->service_ns;
        m->pending[m->n_pending++].src = source;
    }
    return 0;
}

static void sim_note(void *data, const char *msg)
{
    struct sim *m = data;
    m->notes++;
    snprintf(m->last_note, sizeof m->last_note, "%s", msg);
}

static void sim_stop(void *data, const char *reason)
{
    (void)reason;
    ((struct sim *)data)->stops++;
}

static struct sim *sim_new(uint64_t service_ns)
{
    struct sim *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->s = wl_sources_new();
    m->service_ns = service_ns;
    m->emit = (struct wl_emit){.send = sim_send, .note = sim_note, .stop = sim_stop, .data = m};
    return m;
}

static void sim_free(struct sim *m)
{
    wl_sources_free(m->s);
    free(m);
}

static unsigned earliest_pending(const struct sim *m)
{
    unsigned best = 0;
    for (unsigned i = 1; i < m->n_pending; i++)
        if (m->pending[i].at < m->pending[best].at)
            best = i;
    return best;
}

/* Runs events and completions in time order until `until` or a stop. */
static void sim_run(struct sim *m, uint64_t until)
{
    assert_int_equal(wl_sources_start(m->s, 0, &m->emit), 0);
    for (;;) {
        uint64_t te = wl_sources_next_time(m->s), tc = UINT64_MAX;
        unsigned pi = earliest_pending(m);
        if (m->n_pending > 0)
            tc = m->pending[pi].at;
        uint64_t t = te < tc ? te : tc;
        if (t > until)
            return;
        m->now = t;
        if (tc <= te) {
            unsigned src = m->pending[pi].src;
            m->pending[pi] = m->pending[--m->n_pending];
            wl_sources_completed(m->s, src, &m->emit);
        } else if (wl_sources_advance(m->s, t, &m->emit) != 0) {
            return;
        }
    }
}

/* ---- a builder in virtual time, as a simulator would implement it ---- */

static int b_load(void *data, const char *name, unsigned copies, struct wl_loaded *out)
{
    (void)name;
    struct sim *m = data;
    int first = wl_sources_add_targets(m->s, copies);
    if (first < 0)
        return -1;
    *out = (struct wl_loaded){.first = (unsigned)first, .n = copies, .input_size = 602112, .output_size = 4000};
    return 0;
}

static uint32_t b_model_id(void *data, unsigned target)
{
    (void)data;
    return target;
}

static int b_open(void *d, const struct wl_open_spec *s) { return wl_sources_open_loop(((struct sim *)d)->s, s); }
static int b_closed(void *d, const struct wl_closed_spec *s) { return wl_sources_closed_loop(((struct sim *)d)->s, s); }
static int b_trace(void *d, const struct wl_trace_spec *s) { return wl_sources_trace_replay(((struct sim *)d)->s, s); }

static int b_bursty(void *d, int src, double b, double i, uint64_t seed)
{
    return wl_sources_bursty(((struct sim *)d)->s, src, b, i, seed);
}

static const struct wl_builder_ops SIM_OPS = {b_load, b_model_id, b_open, b_closed, b_trace, b_bursty};

static char *ZOO_NAMES[] = {"alexnet", "resnet50_v2", "vgg16"};
static const struct zoo ZOO = {.dir = "/zoo", .names = ZOO_NAMES, .count = 3};

/* Parses and sets up a workload through the virtual-time builder. */
static int try_setup(struct sim *m, const char *name, const char *params)
{
    char buf[256], *argv[16], err[256];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", params);
    for (char *t = strtok(buf, " "); t && argc < 16; t = strtok(NULL, " "))
        argv[argc++] = t;
    struct wl_args a;
    assert_int_equal(wl_parse(name, argc, argv, &a, err, sizeof err), 0);
    struct wl_builder b = {.ops = &SIM_OPS, .data = m, .zoo = &ZOO, .sources = m->s};
    return wl_find(name)->setup(&b, &a);
}

static void setup_workload(struct sim *m, const char *name, const char *params)
{
    assert_int_equal(try_setup(m, name, params), 0);
}

static int near(double got, double want, double tol) { return fabs(got - want) <= tol * want; }

/* ---- the state machine itself ---- */

static void test_open_loop_rate_and_spread(void **state)
{
    (void)state;
    struct sim *m = sim_new(0);
    assert_int_equal(wl_sources_add_targets(m->s, 4), 0);
    struct wl_open_spec o = {.first = 0, .n = 4, .dist = WL_DIST_POISSON, .rate = 200, .seed = 3};
    assert_int_equal(wl_sources_open_loop(m->s, &o), 0);
    sim_run(m, 100 * SEC);
    assert_true(near((double)m->sends, 20000, 0.04));
    for (int t = 0; t < 4; t++)
        assert_true(near(m->per_target[t], 5000, 0.08));
    sim_free(m);
}

static void test_closed_loop_limit(void **state)
{
    (void)state;
    struct sim *m = sim_new(1000000);
    assert_int_equal(wl_sources_add_targets(m->s, 2), 0);
    struct wl_closed_spec c = {.first = 0, .n = 2, .concurrency = 3, .max_requests = 50};
    assert_int_equal(wl_sources_closed_loop(m->s, &c), 0);
    assert_false(wl_sources_all_done(m->s));
    sim_run(m, 10 * SEC);
    assert_int_equal(m->sends, 50);
    assert_int_equal(m->per_target[0], 25); /* round-robin */
    assert_true(wl_sources_all_done(m->s));
    sim_free(m);
}

static void test_trace_replay_per_interval(void **state)
{
    (void)state;
    struct sim *m = sim_new(0);
    uint32_t counts[3] = {60, 0, 600}; /* per minute: 1, 0 and 10 r/s */
    assert_int_equal(wl_sources_add_targets(m->s, 1), 0);
    struct wl_trace_spec t = {.target = 0, .counts = counts, .n_intervals = 3, .scale = 2, .interval_s = 1};
    assert_int_equal(wl_sources_trace_replay(m->s, &t), 0);
    counts[0] = 0; /* the sources copied the counts */
    sim_run(m, 600 * SEC);
    unsigned by_interval[3] = {0};
    for (unsigned sec = 0; sec < 600; sec++)
        by_interval[sec % 3] += m->per_second[sec];
    assert_true(near(by_interval[0], 200 * 2, 0.15));
    assert_int_equal(by_interval[1], 0);
    assert_true(near(by_interval[2], 200 * 20, 0.05));
    sim_free(m);
}

static void test_jitter_and_bursts(void **state)
{
    (void)state;
    struct sim *m = sim_new(SEC / 100);
    assert_int_equal(wl_sources_add_targets(m->s, 2), 0);
    struct wl_closed_spec c = {.first = 0, .n = 1, .concurrency = 1, .jitter_s = 5, .seed = 9};
    assert_int_equal(wl_sources_closed_loop(m->s, &c), 0);
    struct wl_open_spec o = {.first = 1, .n = 1, .dist = WL_DIST_POISSON, .rate = 100, .seed = 1};
    int bo = wl_sources_open_loop(m->s, &o);
    assert_int_equal(wl_sources_bursty(m->s, bo, 10, 30, 4), bo);
    sim_run(m, 400 * SEC);
    unsigned first_closed = 0;
    while (first_closed < 400 && m->per_second[first_closed] == 0)
        first_closed++;
    assert_true(first_closed <= 5);
    /* bursts: about a quarter of the time at 100 r/s */
    assert_true(m->per_target[1] > 400 * 100 / 8 && m->per_target[1] < 400 * 100 / 2);
    sim_free(m);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct wl_sources *s = wl_sources_new();
    struct wl_open_spec o = {.first = 0, .n = 1, .dist = WL_DIST_POISSON, .rate = 1};
    assert_int_equal(wl_sources_open_loop(s, &o), -1); /* no targets yet */
    assert_int_equal(wl_sources_add_targets(s, 2), 0);
    o.n = 3;
    assert_int_equal(wl_sources_open_loop(s, &o), -1);
    o.n = 1;
    o.rate = 0;
    assert_int_equal(wl_sources_open_loop(s, &o), -1);
    struct wl_closed_spec c = {.first = 0, .n = 1, .concurrency = 0};
    assert_int_equal(wl_sources_closed_loop(s, &c), -1);
    assert_int_equal(wl_sources_bursty(s, 0, 1, 1, 0), -1);
    struct wl_slo_schedule sch;
    wl_slo_init(&sch, WL_SLO_MUL, 2, 2, 8, 1);
    assert_int_equal(wl_sources_slo_schedule(s, 1, 2, &sch, 1, 1), -1);
    assert_int_equal(wl_sources_scale_schedule(s, 0, 1, &sch, 1, 1, "rate"), -1); /* no sources */
    assert_int_equal(wl_sources_set_slo(s, 2, 1), -1);
    wl_sources_free(s);
}

/* ---- the real workloads through the virtual-time builder ---- */

static void test_fill_memory(void **state)
{
    (void)state;
    struct sim *m = sim_new(0);
    setup_workload(m, "fill_memory", "");
    assert_int_equal(wl_sources_num_targets(m->s), 411);
    assert_int_equal(wl_sources_num_sources(m->s), 411);
    sim_run(m, 20 * SEC);
    assert_true(near((double)m->sends, 20 * 1500, 0.03));
    assert_true(near(m->per_target[0], 20 * 1000, 0.04));
    assert_true(near(m->per_target[5], 20 * 10, 0.5));
    sim_free(m);
}

static void test_slo_exp_1_schedule(void **state)
{
    (void)state;
    struct sim *m = sim_new(0);
    setup_workload(m, "slo-exp-1", "resnet50_v2 4 poisson 100 2 32 2 mul 7");
    assert_true(wl_sources_target_slo(m->s, 3) == 2);
    sim_run(m, 1000 * SEC);
    /* 2 4 8 16 32 then the next step exceeds 32: stops at 5 x 7 s */
    assert_int_equal(m->stops, 1);
    assert_int_equal(m->now, 35 * SEC);
    assert_true(wl_sources_target_slo(m->s, 0) == 32);
    assert_string_equal(m->last_note, "Updating slo_factor to 32");
    assert_true(near((double)m->sends, 35 * 100, 0.06));
    sim_free(m);
}

static void test_slo_exp_2(void **state)
{
    (void)state;
    struct sim *m = sim_new(SEC / 200);
    setup_workload(m, "slo-exp-2", "resnet50_v2 2 poisson 200 2 32 2 mul 7 4 1 100");
    assert_int_equal(wl_sources_num_targets(m->s), 6);
    assert_int_equal(wl_sources_num_sources(m->s), 6);
    assert_true(wl_sources_target_slo(m->s, 0) == 2);
    assert_true(wl_sources_target_slo(m->s, 5) == 100);
    sim_run(m, 60 * SEC);
    assert_int_equal(m->stops, 1);
    for (unsigned t = 2; t < 6; t++) /* background: closed loops, 200/s each once started */
        assert_true(m->per_target[t] > 25 * 200);
    sim_free(m);
}

static void test_scalability_rates(void **state)
{
    (void)state;
    struct sim *m = sim_new(0);
    setup_workload(m, "scalability-exp-1", "4 100 400 100 add 10");
    sim_run(m, 1000 * SEC);
    assert_int_equal(m->stops, 1);
    assert_int_equal(m->now, 40 * SEC);
    for (unsigned step = 0; step < 4; step++) {
        unsigned n = 0;
        for (unsigned s = step * 10; s < step * 10 + 10; s++)
            n += m->per_second[s];
        assert_true(near(n, 1000.0 * (step + 1), 0.08));
    }
    assert_string_equal(m->last_note, "Updating rate to 400");
    sim_free(m);
}

static void test_bursty_experiment(void **state)
{
    (void)state;
    struct sim *m = sim_new(0);
    setup_workload(m, "bursty_experiment", "5");
    assert_int_equal(wl_sources_num_targets(m->s), 6);
    assert_int_equal(wl_sources_num_sources(m->s), 6);
    sim_run(m, 310 * SEC);
    for (unsigned t = 0; t < 5; t++) /* lead-in: nothing for the major models for 300 s */
        assert_true(m->per_target[t] < 10 * 1000);
    unsigned lead = 0, after = 0;
    for (unsigned s = 0; s < 300; s++)
        lead += m->per_second[s];
    for (unsigned s = 300; s < 305; s++) /* 5 steps of 1 s, then the trace wraps around */
        after += m->per_second[s];
    assert_true(near(lead, 300 * 200, 0.03));
    assert_true(near(after, 5 * 1200, 0.06));
    assert_true(m->per_second[307] < 300);
    sim_free(m);
}

static void write_small_trace(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/invocations_per_function_md.anon.d02.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("HashOwner,HashApp,HashFunction,Trigger", f);
    for (int i = 1; i <= AZURE_MINUTES; i++)
        fprintf(f, ",%d", i);
    fputs("\n", f);
    for (int fn = 0; fn < 10; fn++) { /* function fn: 480*(fn+1) per minute */
        fprintf(f, "o,a,f%d,http", fn);
        for (int i = 0; i < AZURE_MINUTES; i++)
            fprintf(f, ",%d", 480 * (fn + 1));
        fputs("\n", f);
    }
    fclose(f);
}

static void test_azure_replay(void **state)
{
    (void)state;
    char dir[] = "/tmp/cw-azure-src-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    write_small_trace(dir);
    setenv("AZURE_TRACE_DIR", dir, 1);
    struct sim *m = sim_new(0);
    /* 1 worker, resnet50_v2 only, load 2.0, 200 copies, 1 s intervals, trace 2 */
    setup_workload(m, "azure", "1 0 2.0 1 1 2 0");
    assert_int_equal(wl_sources_num_targets(m->s), 200);
    assert_int_equal(wl_sources_num_sources(m->s), 10);
    sim_run(m, 100 * SEC);
    /* scale = 2.0 * 0.125: function fn sends 480*(fn+1)/60*0.25 = 2*(fn+1) r/s; the busiest
     * (fn 9) is first, on the first block of copies */
    assert_true(near((double)m->sends, 100 * 2 * 55, 0.05));
    assert_true(near(m->per_target[0], 100 * 20, 0.08));
    assert_true(near(m->per_target[180], 100 * 2, 0.2));
    sim_free(m);
    struct sim *all = sim_new(0);
    assert_int_equal(try_setup(all, "azure_small", ""), -1); /* trace 1 is missing: fails, says why */
    sim_free(all);
    snprintf(path, sizeof path, "%s/invocations_per_function_md.anon.d02.csv", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_loop_rate_and_spread),
        cmocka_unit_test(test_closed_loop_limit),
        cmocka_unit_test(test_trace_replay_per_interval),
        cmocka_unit_test(test_jitter_and_bursts),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_fill_memory),
        cmocka_unit_test(test_slo_exp_1_schedule),
        cmocka_unit_test(test_slo_exp_2),
        cmocka_unit_test(test_scalability_rates),
        cmocka_unit_test(test_bursty_experiment),
        cmocka_unit_test(test_azure_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
