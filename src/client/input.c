#include "input.h"
#include "workload/gen.h"
#include <limits.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

#define ROW_PIXELS 224

void input_generate(uint8_t *buf, size_t size, uint64_t seed)
{
    struct wl_rng rng;
    wl_rng_seed(&rng, seed);
    size_t nfloats = size / sizeof(float);
    int level = 128;
    for (size_t i = 0; i < nfloats; i++) {
        if (i % ROW_PIXELS == 0)
            level = (int)wl_rng_below(&rng, 256);
        /* A random walk over 8-bit levels: neighbouring pixels mostly repeat or change a little. */
        uint32_t r = wl_rng_below(&rng, 8);
        if (r == 0 && level < 255)
            level++;
        else if (r == 1 && level > 0)
            level--;
        float v = (float)level / 255.0f;
        memcpy(buf + i * sizeof v, &v, sizeof v);
    }
    for (size_t i = nfloats * sizeof(float); i < size; i++)
        buf[i] = (uint8_t)wl_rng_below(&rng, 256);
}

int input_compress(const uint8_t *src, size_t size, uint8_t **out, size_t *out_len)
{
    if (size > (size_t)LZ4_MAX_INPUT_SIZE)
        return -1;
    int bound = LZ4_compressBound((int)size);
    uint8_t *dst = malloc(bound > 0 ? (size_t)bound : 1);
    if (!dst)
        return -1;
    int n = LZ4_compress_default((const char *)src, (char *)dst, (int)size, bound);
    if (n <= 0 && size > 0) {
        free(dst);
        return -1;
    }
    uint8_t *shrunk = realloc(dst, n > 0 ? (size_t)n : 1);
    *out = shrunk ? shrunk : dst;
    *out_len = (size_t)(n > 0 ? n : 0);
    return 0;
}

int input_make_compressed(size_t size, uint64_t seed, uint8_t **out, size_t *out_len)
{
    uint8_t *raw = malloc(size ? size : 1);
    if (!raw)
        return -1;
    input_generate(raw, size, seed);
    int rc = input_compress(raw, size, out, out_len);
    free(raw);
    return rc;
}
