/* Checks an LZ4 *block* (the wire's inference input) without decoding it: the controller
 * refuses at the edge an input that would not decompress to exactly the model's input size,
 * in time linear in the compressed bytes and with no memory, before it can fail a whole batch
 * on a worker (or, decoded, take 256 MiB out of 1 MB). */
#ifndef CW_LZ4_BLOCK_H
#define CW_LZ4_BLOCK_H
#include <stddef.h>
#include <stdint.h>

/* The largest block a `size`-byte input compresses to (LZ4_COMPRESSBOUND); 0 if size is
 * beyond what LZ4 compresses. */
uint64_t lz4_block_bound(uint64_t size);

/* 0 if src[0..len) is one LZ4 block, following the format's end-of-block rules (the last
 * match starts at least 12 bytes and ends at least 5 bytes before the end; the block ends
 * with literals), that decodes to exactly `size` bytes; -1 otherwise. Every block accepted
 * here is accepted by LZ4_decompress_safe with a `size`-byte output (fuzz/fuzz_lz4.c
 * checks it), and every block LZ4's compressors produce is accepted. */
int lz4_block_check(const uint8_t *src, size_t len, size_t size);

#endif
