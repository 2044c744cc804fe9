/* libFuzzer target: LZ4 input decoding, both ends of it. The input as a block: the edge's
 * linear check (common/lz4_block.h) and LZ4_decompress_safe must agree wherever the check
 * accepts (a block the controller lets through must decode on the worker to exactly the
 * model's input size); the input as data: whatever LZ4 compresses, the check accepts at its
 * exact size only. The block then goes through the worker's input unpacking
 * (backend_input_unpack) as a batch. Nothing may crash, read out of bounds or disagree. */
#include "backend/backend_input.h"
#include "common/lz4_block.h"
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIZE (1u << 20)

static uint8_t scratch[MAX_SIZE + 64], packed[LZ4_COMPRESSBOUND(4096)];

/* As a block: the first three bytes choose the expected decoded size. */
static void check_block(const uint8_t *data, size_t size)
{
    if (size < 4)
        return;
    size_t expect = ((size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16) % (MAX_SIZE + 1);
    const uint8_t *block = data + 3;
    size_t len = size - 3;
    if (lz4_block_check(block, len, expect) != 0)
        return;
    int n = LZ4_decompress_safe((const char *)block, (char *)scratch, (int)len, (int)expect);
    if (n != (int)expect)
        abort(); /* accepted at the edge, refused by the decoder */
    /* the worker's unpacking of a batch of two such inputs (rows of `expect` bytes) */
    if (expect == 0 || expect % 4 || 2 * len > sizeof packed || 3 * expect > MAX_SIZE)
        return;
    memcpy(packed, block, len);
    memcpy(packed + len, block, len);
    uint32_t sizes[2] = {(uint32_t)len, (uint32_t)len};
    struct backend_infer_io io = {
        .batch_size = 2, .padded_batch = 3, .input = packed, .input_sizes = sizes, .n_inputs = 2, .input_len = 2 * len};
    if (backend_input_unpack(&io, expect, scratch) != 0)
        abort();
}

/* As data: the compressor's output is always accepted at its size, never at another. */
static void check_roundtrip(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096)
        return;
    int len = LZ4_compress_default((const char *)data, (char *)packed, (int)size, (int)sizeof packed);
    if (len <= 0 || lz4_block_check(packed, (size_t)len, size) != 0 ||
        lz4_block_check(packed, (size_t)len, size + 1) == 0 || (uint64_t)len > lz4_block_bound(size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_block(data, size);
    check_roundtrip(data, size);
    return 0;
}
