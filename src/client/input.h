/* Client-side inference inputs: a deterministic pseudo-image of the model's input size
 * (float32 pixels in [0,1], smooth along rows like a photo), compressed once with the LZ4
 * block format; every request for that model then shares the compressed bytes. */
#ifndef CW_CLIENT_INPUT_H
#define CW_CLIENT_INPUT_H
#include <stddef.h>
#include <stdint.h>

/* Fills buf with size bytes of generated input. */
void input_generate(uint8_t *buf, size_t size, uint64_t seed);
/* LZ4 block-compresses src into a malloc'd buffer. Returns 0, or -1 (too large / no memory). */
int input_compress(const uint8_t *src, size_t size, uint8_t **out, size_t *out_len);
/* Generates and compresses an input of size bytes. Returns 0 or -1. */
int input_make_compressed(size_t size, uint64_t seed, uint8_t **out, size_t *out_len);

#endif
