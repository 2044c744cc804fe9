/* The LZ4 block check agrees with LZ4 itself: whatever LZ4 compresses is accepted with its
 * exact size and no other; what the check accepts LZ4_decompress_safe decodes to that size;
 * truncations, bad offsets, bombs and broken end-of-block rules are refused; the memo of
 * blocks that passed answers only for the same bytes and size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/lz4_block.h"
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

/* The check's verdict, checked against the decoder: accepted blocks must decode. */
static int check(const uint8_t *src, size_t len, size_t size)
{
    int rc = lz4_block_check(src, len, size);
    if (rc == 0) {
        char *dst = malloc(size ? size : 1);
        assert_int_equal(LZ4_decompress_safe((const char *)src, dst, (int)len, (int)size), (int)size);
        free(dst);
    }
    return rc;
}

static void test_compressor_output_accepted(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 5, 12, 13, 100, 4000, 602112};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint8_t *in = malloc(n);
        for (size_t i = 0; i < n; i++) /* half compressible, half noise */
            in[i] = (uint8_t)(i < n / 2 ? i % 7 : (i * 2654435761u) >> 13);
        int bound = LZ4_compressBound((int)n);
        assert_int_equal((uint64_t)bound, lz4_block_bound(n));
        uint8_t *out = malloc((size_t)bound);
        int len = LZ4_compress_default((const char *)in, (char *)out, (int)n, bound);
        assert_true(len > 0);
        assert_int_equal(check(out, (size_t)len, n), 0);
        assert_int_equal(check(out, (size_t)len, n + 1), -1);
        assert_int_equal(check(out, (size_t)len, n - 1), -1);
        assert_int_equal(check(out, (size_t)len - 1, n), -1); /* truncated */
        free(in);
        free(out);
    }
    uint8_t empty = 0;
    assert_int_equal(check(&empty, 1, 0), 0);
    assert_int_equal(check(&empty, 0, 5), -1);
}

/* One literal, a long match at offset 1, five literals: `size` bytes from ~size/255. */
static size_t bomb(uint8_t *out, size_t size)
{
    size_t ml = size - 6 - 4 - 15, n = 0;
    out[n++] = 0x1F;
    out[n++] = 'A';
    out[n++] = 1;
    out[n++] = 0;
    for (; ml >= 255; ml -= 255)
        out[n++] = 255;
    out[n++] = (uint8_t)ml;
    out[n++] = 0x50;
    memcpy(out + n, "AAAAA", 5);
    return n + 5;
}

static void test_bombs_and_broken_blocks_refused(void **state)
{
    (void)state;
    uint8_t *b = malloc(2 << 20);
    size_t n = bomb(b, 256u << 20); /* 1 MB that decodes to 256 MiB */
    assert_true(n < (2u << 20));
    assert_int_equal(lz4_block_check(b, n, 602112), -1);
    assert_int_equal(check(b, n, 256u << 20), 0); /* well formed: only its size is wrong */
    n = bomb(b, 602112);
    assert_int_equal(check(b, n, 602112), 0);
    b[2] = 0; /* offset 0 */
    assert_int_equal(check(b, n, 602112), -1);
    b[2] = 2; /* offset beyond what was produced */
    assert_int_equal(check(b, n, 602112), -1);
    b[2] = 1;
    b[n - 6] = 0x40; /* four final literals: the match ends within the last five bytes */
    assert_int_equal(check(b, n - 1, 602112 - 1), -1);
    /* a match may not start within the last 12 bytes */
    const uint8_t late[] = {0xB0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 1, 0, 0x50, 1, 2, 3, 4, 5};
    assert_int_equal(check(late, sizeof late, 11 + 4 + 5), -1);
    free(b);
}

/* The memo answers only for the very bytes and size that passed: a block that differs in one
 * byte, or the same block for another size, is checked in full (and refused). */
static void test_memo_remembers_only_what_passed(void **state)
{
    (void)state;
    enum { SIZE = 4000 };
    static uint8_t raw[SIZE];
    for (size_t i = 0; i < SIZE; i++)
        raw[i] = (uint8_t)(i / 7);
    uint8_t block[LZ4_COMPRESSBOUND(SIZE)];
    int len = LZ4_compress_default((const char *)raw, (char *)block, SIZE, (int)sizeof block);
    assert_true(len > 16);
    struct lz4_block_memo memo = {0};
    for (int round = 0; round < 2; round++) /* the second answer comes from the memo */
        assert_int_equal(lz4_block_check_memo(&memo, block, (size_t)len, SIZE), 0);
    assert_non_null(memo.slot[0].bytes);
    assert_null(memo.slot[1].bytes);
    assert_int_equal(lz4_block_check_memo(&memo, block, (size_t)len, SIZE + 1), -1);
    uint8_t bomb[sizeof block];
    memcpy(bomb, block, (size_t)len);
    bomb[len - 6] ^= 0xFF; /* the last match's length or offset: no longer SIZE bytes */
    assert_int_equal(lz4_block_check(bomb, (size_t)len, SIZE), -1);
    assert_int_equal(lz4_block_check_memo(&memo, bomb, (size_t)len, SIZE), -1);
    for (unsigned i = 0; i < 2 * LZ4_BLOCK_MEMO_SLOTS; i++) { /* slots are reused, nothing grows */
        uint8_t other[] = {0x10, (uint8_t)i};
        assert_int_equal(lz4_block_check_memo(&memo, other, 2, 1), 0);
    }
    assert_int_equal(lz4_block_check_memo(&memo, block, (size_t)len, SIZE), 0); /* checked again */
    lz4_block_memo_free(&memo);
}

static void test_random_bytes_never_accepted_wrongly(void **state)
{
    (void)state;
    uint8_t buf[64];
    uint32_t x = 12345;
    for (int round = 0; round < 200000; round++) {
        size_t len = 1 + round % 63;
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
        check(buf, len, (size_t)(round % 97)); /* asserts inside if accepted */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compressor_output_accepted),
        cmocka_unit_test(test_bombs_and_broken_blocks_refused),
        cmocka_unit_test(test_memo_remembers_only_what_passed),
        cmocka_unit_test(test_random_bytes_never_accepted_wrongly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
