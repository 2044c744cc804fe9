/* What every real backend does with an Infer's input on the host: decompress each request's
 * LZ4 input into its row of the batch (or take a raw, uncompressed batch sent without input
 * sizes), zero the padding rows, or generate a fixed input for
 * zero-size inputs (so that served and checked outputs are reproducible). */
#ifndef CW_BACKEND_INPUT_H
#define CW_BACKEND_INPUT_H
#include "backend/backend.h"
#include <stddef.h>
#include <stdint.h>

/* Writes io->padded_batch rows of `row` bytes (a float32 input) into dst. 0, or -1 when an
 * input does not decompress to exactly one row. */
int backend_input_unpack(const struct backend_infer_io *io, size_t row, uint8_t *dst);
/* The generated input for zero-size inputs: n floats of a fixed pattern. */
void backend_input_generate(float *dst, size_t n);

#endif
