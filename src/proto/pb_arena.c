/* The arena allocator: bump allocation in the buffer, malloc beyond it. */
#include "pb_arena.h"
#include <stdalign.h>
#include <stdlib.h>

static void *arena_alloc(void *data, size_t size)
{
    struct pb_arena *a = data;
    size_t need = (size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    if (need >= size && need <= sizeof a->buf - a->used) {
        void *p = a->buf + a->used;
        a->used += need;
        return p;
    }
    return malloc(size);
}

static void arena_free(void *data, void *p)
{
    struct pb_arena *a = data;
    uintptr_t u = (uintptr_t)p, lo = (uintptr_t)a->buf;
    if (u < lo || u >= lo + sizeof a->buf)
        free(p);
}

void pb_arena_init(struct pb_arena *a)
{
    a->allocator = (ProtobufCAllocator){.alloc = arena_alloc, .free = arena_free, .allocator_data = a};
    a->used = 0;
}
