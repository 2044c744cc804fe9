/* A walk over an LZ4 block's sequences: token, literal length, literals, offset, match
 * length (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md), with the limits
 * LZ4_decompress_safe applies to a full block. */
#include "lz4_block.h"
#include <stdlib.h>
#include <string.h>

#define MIN_MATCH 4
#define LAST_LITERALS 5 /* the last 5 bytes are always literals */
#define MF_LIMIT 12     /* the last match starts at least 12 bytes before the end */
#define LZ4_MAX_INPUT 0x7E000000ull

uint64_t lz4_block_bound(uint64_t size) { return size > LZ4_MAX_INPUT ? 0 : size + size / 255 + 16; }

/* Adds the bytes of an extended length (255 means "more follows"). -1 if it would read at
 * or beyond `limit`. */
static int read_length(const uint8_t *src, size_t *pos, size_t limit, size_t *length)
{
    uint8_t b;
    do {
        if (*pos >= limit)
            return -1;
        b = src[(*pos)++];
        *length += b;
    } while (b == 255);
    return 0;
}

int lz4_block_check(const uint8_t *src, size_t len, size_t size)
{
    if (size == 0) /* LZ4's one encoding of nothing */
        return len == 1 && src[0] == 0 ? 0 : -1;
    size_t pos = 0, out = 0;
    while (pos < len) {
        uint8_t token = src[pos++];
        size_t lit = token >> 4;
        if (lit == 15 && read_length(src, &pos, len, &lit) != 0)
            return -1;
        if (lit > len - pos || lit > size - out)
            return -1;
        pos += lit;
        out += lit;
        if (pos == len) /* the last sequence: literals only */
            return out == size ? 0 : -1;
        /* a match follows: it must leave room for the end-of-block rules */
        if (size - out < MF_LIMIT || len - pos < 2 + 1 + LAST_LITERALS)
            return -1;
        size_t offset = (size_t)src[pos] | (size_t)src[pos + 1] << 8;
        pos += 2;
        if (offset == 0 || offset > out)
            return -1;
        size_t match = token & 15;
        if (match == 15 && read_length(src, &pos, len - LAST_LITERALS + 1, &match) != 0)
            return -1;
        match += MIN_MATCH;
        if (match > size - out - LAST_LITERALS)
            return -1;
        out += match;
    }
    return -1; /* an empty block, or one whose match needs another sequence after it */
}

static void memo_keep(struct lz4_block_memo *memo, const uint8_t *src, size_t len, size_t size)
{
    struct lz4_block_memo_slot *e = &memo->slot[memo->next];
    if (e->cap < len) {
        uint8_t *grown = realloc(e->bytes, len);
        if (!grown)
            return; /* not remembered: checked again next time */
        e->bytes = grown;
        e->cap = len;
    }
    memcpy(e->bytes, src, len);
    e->len = len;
    e->size = size;
    memo->next = (memo->next + 1) % LZ4_BLOCK_MEMO_SLOTS;
}

int lz4_block_check_memo(struct lz4_block_memo *memo, const uint8_t *src, size_t len, size_t size)
{
    for (unsigned i = 0; i < LZ4_BLOCK_MEMO_SLOTS; i++) {
        const struct lz4_block_memo_slot *e = &memo->slot[i];
        if (e->bytes && e->len == len && e->size == size && memcmp(e->bytes, src, len) == 0)
            return 0;
    }
    if (lz4_block_check(src, len, size) != 0)
        return -1;
    memo_keep(memo, src, len, size);
    return 0;
}

void lz4_block_memo_free(struct lz4_block_memo *memo)
{
    for (unsigned i = 0; i < LZ4_BLOCK_MEMO_SLOTS; i++)
        free(memo->slot[i].bytes);
    memset(memo, 0, sizeof *memo);
}
