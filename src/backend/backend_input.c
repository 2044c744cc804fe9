#include "backend_input.h"
#include <lz4.h>
#include <string.h>

void backend_input_generate(float *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)(i % 17) * 0.05f;
}

int backend_input_unpack(const struct backend_infer_io *io, size_t row, uint8_t *dst)
{
    if (!io->input || io->input_len == 0) {
        backend_input_generate((float *)dst, row / 4 * io->padded_batch);
        return 0;
    }
    if (io->batch_size > io->padded_batch || row > INT32_MAX)
        return -1;
    size_t pad = (size_t)(io->padded_batch - io->batch_size) * row;
    if (io->n_inputs == 0 && io->input_len == (size_t)io->batch_size * row) {
        /* a raw batch input without input_sizes, as the original's STRESS controller sends it */
        memcpy(dst, io->input, io->input_len);
        memset(dst + io->input_len, 0, pad);
        return 0;
    }
    if (io->n_inputs != io->batch_size)
        return -1;
    size_t off = 0;
    for (unsigned i = 0; i < io->batch_size; i++) {
        if (io->input_sizes[i] > io->input_len - off || io->input_sizes[i] > INT32_MAX)
            return -1;
        int n = LZ4_decompress_safe((const char *)io->input + off, (char *)dst + i * row, (int)io->input_sizes[i],
                                    (int)row);
        if (n != (int)row)
            return -1;
        off += io->input_sizes[i];
    }
    memset(dst + (size_t)io->batch_size * row, 0, pad);
    return 0;
}
