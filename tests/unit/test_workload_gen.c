/* Workload generators: Poisson statistics, fixed-rate exactness, SLO schedules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "workload/gen.h"

static void test_poisson_mean_and_cv(void **state)
{
    (void)state;
    struct wl_arrivals a;
    const double rate = 2400.0;
    wl_arrivals_init(&a, WL_DIST_POISSON, rate, 42, 1000);
    const int n = 200000;
    uint64_t prev = 1000;
    double sum = 0, sumsq = 0;
    for (int i = 0; i < n; i++) {
        uint64_t t = wl_arrivals_pop(&a);
        assert_true(t >= prev);
        double gap = (double)(t - prev);
        sum += gap;
        sumsq += gap * gap;
        prev = t;
    }
    double mean = sum / n, var = sumsq / n - mean * mean, cv = sqrt(var) / mean;
    double expect = 1e9 / rate;
    assert_true(fabs(mean - expect) / expect < 0.01);
    assert_true(fabs(cv - 1.0) < 0.02); /* exponential: CV = 1 */
}

static void test_poisson_is_seeded(void **state)
{
    (void)state;
    struct wl_arrivals a, b, c;
    wl_arrivals_init(&a, WL_DIST_POISSON, 100, 7, 0);
    wl_arrivals_init(&b, WL_DIST_POISSON, 100, 7, 0);
    wl_arrivals_init(&c, WL_DIST_POISSON, 100, 8, 0);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = wl_arrivals_pop(&a), y = wl_arrivals_pop(&b), z = wl_arrivals_pop(&c);
        assert_int_equal(x, y);
        differ |= x != z;
    }
    assert_true(differ);
}

static void test_fixed_rate_exact(void **state)
{
    (void)state;
    struct wl_arrivals a;
    wl_arrivals_init(&a, WL_DIST_FIXED_RATE, 3.0, 1, 0); /* 333,333,333.33 ns gaps */
    uint64_t t = 0;
    for (int i = 1; i <= 3000; i++) {
        t = wl_arrivals_pop(&a);
        double want = i * (1e9 / 3.0);
        assert_true(fabs((double)t - want) <= 1.0);
    }
    assert_true(llabs((long long)t - 1000000000000LL) <= 1); /* 3000 arrivals at 3 r/s: 1000 s, no drift */
    wl_arrivals_init(&a, WL_DIST_FIXED_RATE, 1000.0, 1, 500);
    assert_int_equal(wl_arrivals_peek(&a), 500 + 1000000);
    assert_int_equal(wl_arrivals_pop(&a), 500 + 1000000);
    assert_int_equal(wl_arrivals_pop(&a), 500 + 2000000);
}

static void expect_schedule(enum wl_slo_op op, double start, double end, double factor, const double *want, int n)
{
    struct wl_slo_schedule s;
    wl_slo_init(&s, op, start, factor, end, 1);
    assert_true(fabs(s.current - want[0]) < 1e-9);
    for (int i = 1; i < n; i++) {
        assert_int_equal(wl_slo_step(&s), 0);
        assert_true(fabs(s.current - want[i]) < 1e-9);
    }
    assert_int_equal(wl_slo_step(&s), 1); /* the next value exceeds end: terminate */
}

static void test_slo_schedules(void **state)
{
    (void)state;
    const double mul[] = {2, 4, 8, 16, 32};
    expect_schedule(WL_SLO_MUL, 2, 32, 2, mul, 5);
    const double add[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    expect_schedule(WL_SLO_ADD, 10, 100, 10, add, 10);
    const double fig7[] = {1,         1.5,        2.25,        3.375,        5.0625,        7.59375,
                           11.390625, 17.0859375, 25.62890625, 38.443359375, 57.6650390625, 86.49755859375};
    expect_schedule(WL_SLO_MUL, 1, 100, 1.5, fig7, 12);
    const double tenth[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
    expect_schedule(WL_SLO_ADD, 0.1, 1.0, 0.1, tenth, 10); /* rounding does not end it early */
}

static void test_slo_toggle_and_parse(void **state)
{
    (void)state;
    struct wl_slo_schedule s;
    wl_slo_init(&s, WL_SLO_TOGGLE, 10, 1, 0, 0);
    assert_int_equal(wl_slo_step(&s), 0);
    assert_true(s.current == 1);
    assert_int_equal(wl_slo_step(&s), 0);
    assert_true(s.current == 10);
    enum wl_slo_op op;
    enum wl_dist d;
    assert_int_equal(wl_slo_op_parse("add", &op), 0);
    assert_int_equal(op, WL_SLO_ADD);
    assert_int_equal(wl_slo_op_parse("mul", &op), 0);
    assert_int_equal(op, WL_SLO_MUL);
    assert_int_equal(wl_slo_op_parse("div", &op), -1);
    assert_int_equal(wl_dist_parse("poisson", &d), 0);
    assert_int_equal(d, WL_DIST_POISSON);
    assert_int_equal(wl_dist_parse("fixed-rate", &d), 0);
    assert_int_equal(d, WL_DIST_FIXED_RATE);
    assert_int_equal(wl_dist_parse("uniform", &d), -1);
}

static void test_rng_below_uniform(void **state)
{
    (void)state;
    struct wl_rng r;
    wl_rng_seed(&r, 3);
    unsigned counts[12] = {0};
    for (int i = 0; i < 120000; i++) {
        uint32_t v = wl_rng_below(&r, 12);
        assert_true(v < 12);
        counts[v]++;
    }
    for (int i = 0; i < 12; i++)
        assert_true(counts[i] > 9000 && counts[i] < 11000);
}

static void test_trace_arrivals(void **state)
{
    (void)state;
    const uint32_t counts[4] = {600, 0, 6000, 60}; /* per minute: 10, 0, 100, 1 r/s */
    struct wl_trace_arrivals t;
    wl_trace_init(&t, counts, 4, 1.0, 2e9, 0, 0, 5, 1000); /* 2 s intervals from t=1000 ns */
    unsigned per[4] = {0};
    uint64_t prev = 0, t_end = 1000 + 400ULL * 8000000000ULL; /* 400 cycles of 8 s */
    for (uint64_t at = wl_trace_pop(&t); at < t_end; at = wl_trace_pop(&t)) {
        assert_true(at >= prev);
        prev = at;
        per[((at - 1000) / 2000000000ULL) % 4]++;
    }
    assert_true(fabs(per[0] - 400 * 20.0) < 400 * 20.0 * 0.05);
    assert_int_equal(per[1], 0);
    assert_true(fabs(per[2] - 400 * 200.0) < 400 * 200.0 * 0.02);
    assert_true(fabs(per[3] - 400 * 2.0) < 400 * 2.0 * 0.2);
    /* scale doubles the rate from the next gap on */
    wl_trace_init(&t, counts + 2, 1, 1.0, 1e9, 0, 0, 6, 0);
    wl_trace_set_scale(&t, 2.0);
    unsigned n = 0;
    while (wl_trace_pop(&t) < 100ULL * 1000000000ULL)
        n++;
    assert_true(fabs(n - 20000.0) < 20000 * 0.03);
    /* all zero: never */
    const uint32_t zeros[3] = {0, 0, 0};
    wl_trace_init(&t, zeros, 3, 1.0, 1e9, 1, 0, 7, 0);
    assert_int_equal(wl_trace_peek(&t), UINT64_MAX);
    assert_int_equal(wl_trace_pop(&t), UINT64_MAX);
    /* a random phase: the first interval is shorter, arrivals start at interval `start` */
    wl_trace_init(&t, counts, 4, 1.0, 2e9, 1, 0.5e9, 8, 0);
    assert_true(wl_trace_peek(&t) >= 500000000ULL); /* interval 1 (count 0) lasts 0.5 s */
    assert_true(wl_trace_peek(&t) < 2500000000ULL);
}

static void test_arrivals_set_rate(void **state)
{
    (void)state;
    struct wl_arrivals a;
    wl_arrivals_init(&a, WL_DIST_FIXED_RATE, 10, 1, 0);
    assert_int_equal(wl_arrivals_pop(&a), 100000000ULL);
    wl_arrivals_set_rate(&a, 100);
    assert_int_equal(wl_arrivals_pop(&a), 200000000ULL); /* already drawn at the old rate */
    assert_int_equal(wl_arrivals_pop(&a), 210000000ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poisson_mean_and_cv),  cmocka_unit_test(test_poisson_is_seeded),
        cmocka_unit_test(test_fixed_rate_exact),     cmocka_unit_test(test_slo_schedules),
        cmocka_unit_test(test_slo_toggle_and_parse), cmocka_unit_test(test_rng_below_uniform),
        cmocka_unit_test(test_trace_arrivals),       cmocka_unit_test(test_arrivals_set_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
