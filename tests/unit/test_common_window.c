/* The sample window's percentile (the scheduler's exec estimates) against a reference that
 * sorts with qsort, over random windows of every size and random percentiles. */
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

static void test_percentile_matches_sorted_reference(void **state)
{
    (void)state;
    uint64_t rng = 3;
    for (unsigned size = 1; size <= WINDOW_MAX; size++) {
        struct sample_window w;
        window_init(&w, size);
        assert_int_equal(window_percentile(&w, 0.99, 1234), 1234); /* empty: the fallback */
        for (unsigned step = 0; step < 3 * size; step++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            window_add(&w, (rng >> 33) % 50); /* duplicates too */
            uint64_t ref[WINDOW_MAX];
            memcpy(ref, w.samples, w.count * sizeof ref[0]);
            qsort(ref, w.count, sizeof ref[0], cmp_u64);
            double p = (double)((rng >> 20) % 101) / 100.0;
            unsigned idx = (unsigned)(p * (double)(w.count - 1) + 0.5);
            assert_int_equal(window_percentile(&w, p, 0), ref[idx < w.count ? idx : w.count - 1]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_percentile_matches_sorted_reference)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
