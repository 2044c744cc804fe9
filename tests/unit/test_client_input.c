/* Client-side inputs (client/input.h): generation and the LZ4 round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

#include "client/input.h"

static void roundtrip(size_t size, uint64_t seed)
{
    uint8_t *raw = malloc(size + 1), *back = malloc(size + 1), *comp = NULL;
    size_t clen = 0;
    input_generate(raw, size, seed);
    assert_int_equal(input_compress(raw, size, &comp, &clen), 0);
    assert_true(clen > 0);
    int n = LZ4_decompress_safe((const char *)comp, (char *)back, (int)clen, (int)size);
    assert_int_equal(n, (int)size);
    assert_memory_equal(raw, back, size);
    free(comp);
    /* input_make_compressed yields the same bytes for the same seed */
    uint8_t *comp2 = NULL;
    size_t clen2 = 0;
    assert_int_equal(input_make_compressed(size, seed, &comp2, &clen2), 0);
    n = LZ4_decompress_safe((const char *)comp2, (char *)back, (int)clen2, (int)size);
    assert_int_equal(n, (int)size);
    assert_memory_equal(raw, back, size);
    free(comp2);
    free(raw);
    free(back);
}

static void test_input_roundtrip(void **state)
{
    (void)state;
    roundtrip(602112, 602112); /* resnet50_v2 */
    roundtrip(1003, 1);        /* not a multiple of 4 */
    roundtrip(4, 2);
}

static void test_input_is_image_like(void **state)
{
    (void)state;
    const size_t size = 602112;
    uint8_t *raw = malloc(size);
    input_generate(raw, size, 9);
    for (size_t i = 0; i < size / 4; i++) {
        float v;
        memcpy(&v, raw + 4 * i, 4);
        assert_true(v >= 0.0f && v <= 1.0f);
    }
    uint8_t *comp;
    size_t clen;
    assert_int_equal(input_compress(raw, size, &comp, &clen), 0);
    assert_true(clen < size); /* compresses, but is not trivial */
    assert_true(clen > size / 50);
    free(comp);
    free(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_roundtrip),
        cmocka_unit_test(test_input_is_image_like),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
