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

/* The walk is as dear as decoding (about 0.3 ms for a 600 KB image): the last few blocks that
 * passed are kept, so that an input a client sends again (clients send the same image many
 * times) costs one memcmp. Zero-initialize; the owner calls lz4_block_memo_free. */
#define LZ4_BLOCK_MEMO_SLOTS 4
struct lz4_block_memo {
    struct lz4_block_memo_slot {
        uint8_t *bytes; /* owned copy of a block that passed, NULL if empty */
        size_t len, cap, size;
    } slot[LZ4_BLOCK_MEMO_SLOTS];
    unsigned next; /* slot replaced next */
};
/* lz4_block_check, answered from memo when the same bytes passed for the same size. */
int lz4_block_check_memo(struct lz4_block_memo *memo, const uint8_t *src, size_t len, size_t size);
void lz4_block_memo_free(struct lz4_block_memo *memo);

#endif
