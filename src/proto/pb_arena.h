/* A protobuf-c allocator for decoding one small message off the heap: unpack takes memory from
 * a buffer inside the arena (on the caller's stack), the heap only beyond it; free_unpacked gives
 * back the heap pieces only. For the hot decodes (inference requests and results), where
 * malloc/free per field cost more than the parsing. One arena per message, living as long as
 * the message. */
#ifndef CW_PB_ARENA_H
#define CW_PB_ARENA_H
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define PB_ARENA_BYTES 1024

struct pb_arena {
    ProtobufCAllocator allocator; /* pass &arena.allocator to unpack and free_unpacked */
    size_t used;
    _Alignas(max_align_t) uint8_t buf[PB_ARENA_BYTES];
};

void pb_arena_init(struct pb_arena *a);

#endif
