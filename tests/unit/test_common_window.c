/* The sample window's percentile (the scheduler's exec estimates, INFER6's lags) against a
 * reference that keeps the last N samples itself and sorts them with qsort, over random windows
 * of every size, random percentiles, runs of duplicates and re-initialisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/window.h"
#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t next_rand(uint64_t *rng)
{
    *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return *rng >> 33;
}

/* The reference: the last `size` samples, in a plain array, sorted on every query. */
struct ref_window {
    uint64_t v[WINDOW_MAX];
    unsigned size, count, next;
};

static void ref_add(struct ref_window *r, uint64_t x)
{
    r->v[r->next] = x;
    r->next = (r->next + 1) % r->size;
    if (r->count < r->size)
        r->count++;
}

static uint64_t ref_percentile(const struct ref_window *r, double p)
{
    uint64_t sorted[WINDOW_MAX];
    memcpy(sorted, r->v, r->count * sizeof sorted[0]);
    qsort(sorted, r->count, sizeof sorted[0], cmp_u64);
    unsigned idx = (unsigned)(p * (double)(r->count - 1) + 0.5);
    return sorted[idx < r->count ? idx : r->count - 1];
}

/* Samples from a range that makes ties likely (spread 50), rare (2^31) or runs of one value (1). */
static void check_sizes(uint64_t spread, unsigned steps_per_slot)
{
    uint64_t rng = 3 + spread;
    for (unsigned size = 1; size <= WINDOW_MAX; size++) {
        struct sample_window w;
        struct ref_window r = {.size = size};
        window_init(&w, size);
        assert_int_equal(window_percentile(&w, 0.99, 1234), 1234); /* empty: the fallback */
        for (unsigned step = 0; step < steps_per_slot * size; step++) {
            uint64_t x = next_rand(&rng) % spread;
            window_add(&w, x);
            ref_add(&r, x);
            assert_int_equal(w.count, r.count);
            double p = (double)(next_rand(&rng) % 101) / 100.0;
            assert_int_equal(window_percentile(&w, p, 0), ref_percentile(&r, p));
            assert_int_equal(window_percentile(&w, 0.0, 0), ref_percentile(&r, 0.0));
            assert_int_equal(window_percentile(&w, 1.0, 0), ref_percentile(&r, 1.0));
        }
    }
}

static void test_percentile_matches_sorted_reference(void **state)
{
    (void)state;
    check_sizes(50, 5);
    check_sizes(1ULL << 31, 5);
    check_sizes(1, 3);
}

/* Re-initialising a window (INFER6 forgets stale lags) starts it afresh, at any fill. */
static void test_reinit_forgets(void **state)
{
    (void)state;
    uint64_t rng = 9;
    struct sample_window w;
    window_init(&w, 64);
    for (unsigned round = 0; round < 50; round++) {
        unsigned n = (unsigned)(next_rand(&rng) % 150);
        struct ref_window r = {.size = 64};
        window_init(&w, 64);
        for (unsigned i = 0; i < n; i++) {
            uint64_t x = next_rand(&rng) % 1000;
            window_add(&w, x);
            ref_add(&r, x);
        }
        for (unsigned q = 0; q <= 100; q += 10)
            assert_int_equal(window_percentile(&w, q / 100.0, 777), n ? ref_percentile(&r, q / 100.0) : 777);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_percentile_matches_sorted_reference),
                                       cmocka_unit_test(test_reinit_forgets)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
