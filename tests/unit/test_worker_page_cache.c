/* Paged weights cache: exact accounting, non-contiguous pages, exhaustion, bad frees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "worker/page_cache.h"

static void test_init_counts_whole_pages(void **state)
{
    (void)state;
    struct page_cache pc;
    assert_int_equal(page_cache_init(&pc, 23085449216ULL, 16777216ULL), 0);
    assert_int_equal(pc.total_pages, 1376);
    assert_int_equal(page_cache_free_count(&pc), 1376);
    assert_int_equal(page_cache_used_count(&pc), 0);
    page_cache_destroy(&pc);
    assert_int_equal(page_cache_init(&pc, 100, 16), 0); /* partial page is not usable */
    assert_int_equal(pc.total_pages, 6);
    page_cache_destroy(&pc);
    assert_int_equal(page_cache_init(&pc, 100, 0), -1);
}

static void test_alloc_free_accounting(void **state)
{
    (void)state;
    struct page_cache pc;
    unsigned a[7], b[3];
    assert_int_equal(page_cache_init(&pc, 10 * 16, 16), 0);
    assert_int_equal(page_cache_alloc(&pc, 7, a), 0);
    assert_int_equal(page_cache_free_count(&pc), 3);
    assert_int_equal(page_cache_used_count(&pc), 7);
    assert_int_equal(page_cache_alloc(&pc, 3, b), 0);
    assert_int_equal(page_cache_free_count(&pc), 0);
    for (int i = 0; i < 7; i++) /* all distinct */
        for (int j = 0; j < 3; j++)
            assert_int_not_equal(a[i], b[j]);
    assert_int_equal(page_cache_free(&pc, a, 7), 0);
    assert_int_equal(page_cache_free(&pc, b, 3), 0);
    assert_int_equal(page_cache_free_count(&pc), 10);
    page_cache_destroy(&pc);
}

static void test_non_contiguous_reuse(void **state)
{
    (void)state;
    struct page_cache pc;
    unsigned x[2], y[2], z[2], big[4];
    assert_int_equal(page_cache_init(&pc, 6, 1), 0);
    assert_int_equal(page_cache_alloc(&pc, 2, x), 0);
    assert_int_equal(page_cache_alloc(&pc, 2, y), 0);
    assert_int_equal(page_cache_alloc(&pc, 2, z), 0);
    /* free x and z: the 4 free pages are in two separate holes */
    assert_int_equal(page_cache_free(&pc, x, 2), 0);
    assert_int_equal(page_cache_free(&pc, z, 2), 0);
    assert_int_equal(page_cache_alloc(&pc, 4, big), 0);
    for (int i = 0; i < 4; i++)
        assert_true(big[i] != y[0] && big[i] != y[1]);
    assert_int_equal(page_cache_free_count(&pc), 0);
    page_cache_destroy(&pc);
}

static void test_exhaustion_takes_nothing(void **state)
{
    (void)state;
    struct page_cache pc;
    unsigned p[8];
    assert_int_equal(page_cache_init(&pc, 5, 1), 0);
    assert_int_equal(page_cache_alloc(&pc, 3, p), 0);
    assert_int_equal(page_cache_alloc(&pc, 3, p + 3), -1);
    assert_int_equal(page_cache_free_count(&pc), 2);
    assert_int_equal(page_cache_alloc(&pc, 2, p + 3), 0);
    assert_int_equal(page_cache_alloc(&pc, 1, p + 5), -1);
    assert_int_equal(page_cache_alloc(&pc, 0, p + 5), 0);
    page_cache_destroy(&pc);
}

static void test_bad_free_rejected(void **state)
{
    (void)state;
    struct page_cache pc;
    unsigned p[2], bogus = 99;
    assert_int_equal(page_cache_init(&pc, 4, 1), 0);
    assert_int_equal(page_cache_alloc(&pc, 2, p), 0);
    assert_int_equal(page_cache_free(&pc, &bogus, 1), -1);
    assert_int_equal(page_cache_free(&pc, p, 1), 0);
    assert_int_equal(page_cache_free(&pc, p, 1), -1); /* double free */
    assert_int_equal(page_cache_free_count(&pc), 3);
    page_cache_destroy(&pc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_counts_whole_pages), cmocka_unit_test(test_alloc_free_accounting),
        cmocka_unit_test(test_non_contiguous_reuse),    cmocka_unit_test(test_exhaustion_takes_nothing),
        cmocka_unit_test(test_bad_free_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
