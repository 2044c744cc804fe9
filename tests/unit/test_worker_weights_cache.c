/* The pure weights-cache rules shared by the threaded device and clockwork-sim's device:
 * status codes 51/52/53/61/20/84, versions, exact page accounting, clear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/status.h"
#include "worker/weights_cache.h"

static void test_load_ready_infer(void **state)
{
    (void)state;
    struct weights_cache wc;
    uint64_t v, iv;
    assert_int_equal(weights_cache_init(&wc, 10 * 16, 16), 0);
    assert_int_equal(weights_cache_infer_begin(&wc, 3, &iv), ACTION_EXEC_WEIGHTS_NOT_PRESENT);
    assert_int_equal(weights_cache_load_begin(&wc, 3, 4, &v), 0);
    assert_int_equal(weights_cache_free_pages(&wc), 6);
    assert_int_equal(weights_cache_infer_begin(&wc, 3, &iv), ACTION_EXEC_WEIGHTS_NOT_PRESENT); /* still loading */
    assert_int_equal(weights_cache_load_begin(&wc, 3, 4, &v), ACTION_LOAD_WEIGHTS_ALREADY_LOADED);
    assert_int_equal(weights_cache_load_end(&wc, 3, v, ACTION_SUCCESS), 0);
    assert_true(weights_cache_ready(&wc, 3));
    assert_int_equal(weights_cache_infer_begin(&wc, 3, &iv), 0);
    assert_int_equal(weights_cache_infer_end(&wc, 3, iv), 0);
    unsigned n;
    assert_non_null(weights_cache_pages(&wc, 3, &n));
    assert_int_equal(n, 4);
    weights_cache_destroy(&wc);
}

static void test_insufficient_and_evict(void **state)
{
    (void)state;
    struct weights_cache wc;
    uint64_t v;
    assert_int_equal(weights_cache_init(&wc, 10 * 16, 16), 0);
    assert_int_equal(weights_cache_load_begin(&wc, 0, 7, &v), 0);
    assert_int_equal(weights_cache_load_begin(&wc, 1, 4, &v), ACTION_LOAD_WEIGHTS_INSUFFICIENT_CACHE);
    assert_int_equal(weights_cache_free_pages(&wc), 3);
    assert_int_equal(weights_cache_evict(&wc, 1), ACTION_EVICT_WEIGHTS_NOT_PRESENT);
    assert_int_equal(weights_cache_evict(&wc, 1000), ACTION_EVICT_WEIGHTS_NOT_PRESENT);
    assert_int_equal(weights_cache_evict(&wc, 0), 0);
    assert_int_equal(weights_cache_free_pages(&wc), 10);
    assert_int_equal(weights_cache_load_begin(&wc, -1, 1, &v), ACTION_RUNTIME_ERROR);
    weights_cache_destroy(&wc);
}

static void test_evict_during_load_and_infer(void **state)
{
    (void)state;
    struct weights_cache wc;
    uint64_t v, v2, iv;
    assert_int_equal(weights_cache_init(&wc, 10 * 16, 16), 0);
    assert_int_equal(weights_cache_load_begin(&wc, 5, 2, &v), 0);
    assert_int_equal(weights_cache_evict(&wc, 5), 0);
    assert_int_equal(weights_cache_load_begin(&wc, 5, 2, &v2), 0); /* reloaded meanwhile */
    assert_int_equal(weights_cache_load_end(&wc, 5, v, ACTION_SUCCESS), ACTION_LOAD_WEIGHTS_CONCURRENT_EVICT);
    assert_int_equal(weights_cache_load_end(&wc, 5, v2, ACTION_SUCCESS), 0);
    assert_int_equal(weights_cache_infer_begin(&wc, 5, &iv), 0);
    assert_int_equal(weights_cache_evict(&wc, 5), 0);
    assert_int_equal(weights_cache_infer_end(&wc, 5, iv), ACTION_EXEC_WEIGHTS_CHANGED);
    /* a failed transfer frees its pages and reports its own status */
    assert_int_equal(weights_cache_load_begin(&wc, 6, 3, &v), 0);
    assert_int_equal(weights_cache_load_end(&wc, 6, v, ACTION_RUNTIME_ERROR), ACTION_RUNTIME_ERROR);
    assert_int_equal(weights_cache_free_pages(&wc), 10);
    weights_cache_destroy(&wc);
}

static void test_clear_and_resident(void **state)
{
    (void)state;
    struct weights_cache wc;
    uint64_t v;
    assert_int_equal(weights_cache_init(&wc, 10 * 16, 16), 0);
    assert_int_equal(weights_cache_load_begin(&wc, 200, 1, &v), 0);
    assert_int_equal(weights_cache_load_begin(&wc, 2, 1, &v), 0);
    int32_t *ids;
    assert_int_equal(weights_cache_resident(&wc, &ids), 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 200);
    free(ids);
    weights_cache_clear(&wc);
    assert_int_equal(weights_cache_free_pages(&wc), 10);
    assert_int_equal(weights_cache_load_end(&wc, 2, v, ACTION_SUCCESS), ACTION_LOAD_WEIGHTS_CONCURRENT_EVICT);
    assert_int_equal(weights_cache_resident(&wc, &ids), 0);
    free(ids);
    weights_cache_destroy(&wc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_ready_infer),
        cmocka_unit_test(test_insufficient_and_evict),
        cmocka_unit_test(test_evict_during_load_and_infer),
        cmocka_unit_test(test_clear_and_resident),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
