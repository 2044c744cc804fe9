#include "event_queue.h"
#include <stdlib.h>
#include <string.h>

/* A 4-ary heap moved by holes rather than swaps. Its nodes are 16 bytes (the payload waits in
 * a slot table), and the array is offset so that the four children of a node fill exactly one
 * cache line: a pop reads one line per level. (time, seq) is unique, so the pop order is the
 * same as any heap's. */
#define ARITY 4
#define SLOT_MASK ((1ULL << EVENT_QUEUE_SLOT_BITS) - 1)
#define NODES_BEFORE_ROOT 3 /* heap[1] starts a cache line */
#define LINE 64

void event_queue_init(struct event_queue *q)
{
    memset(q, 0, sizeof *q);
    q->seq_limit = 1ULL << (64 - EVENT_QUEUE_SLOT_BITS);
}

void event_queue_free(struct event_queue *q)
{
    free(q->heap_block);
    free(q->slots);
    free(q->free_slots);
    memset(q, 0, sizeof *q);
}

/* (t, key) as one number: a single comparison orders two nodes. */
__extension__ typedef unsigned __int128 eq_order;

static inline eq_order order_of(const struct eq_node *n) { return (eq_order)n->t << 64 | n->key; }

static int before(const struct eq_node *a, const struct eq_node *b) { return order_of(a) < order_of(b); }

static int grow(struct event_queue *q)
{
    size_t cap = q->cap ? q->cap * 2 : 1024;
    if (cap > SLOT_MASK + 1)
        return -1;
    size_t bytes = (cap + NODES_BEFORE_ROOT) * sizeof(struct eq_node);
    void *block = aligned_alloc(LINE, (bytes + LINE - 1) / LINE * LINE);
    struct eq_payload *slots = realloc(q->slots, cap * sizeof *slots);
    if (slots)
        q->slots = slots;
    unsigned *free_slots = realloc(q->free_slots, cap * sizeof *free_slots);
    if (free_slots)
        q->free_slots = free_slots;
    if (!block || !slots || !free_slots) {
        free(block);
        return -1;
    }
    struct eq_node *heap = (struct eq_node *)block + NODES_BEFORE_ROOT;
    if (q->len)
        memcpy(heap, q->heap, q->len * sizeof *heap);
    free(q->heap_block);
    q->heap_block = block;
    q->heap = heap;
    q->cap = cap;
    return 0;
}

static int by_time_then_key(const void *a, const void *b)
{
    const struct eq_node *x = a, *y = b;
    return before(x, y) ? -1 : before(y, x);
}

/* Sequence numbers ran out: number the pending events 0.. in their order. A sorted array is a
 * heap, and every comparison between pending events comes out as before. */
static void renumber(struct event_queue *q)
{
    qsort(q->heap, q->len, sizeof q->heap[0], by_time_then_key);
    for (size_t i = 0; i < q->len; i++)
        q->heap[i].key = (uint64_t)i << EVENT_QUEUE_SLOT_BITS | (q->heap[i].key & SLOT_MASK);
    q->next_seq = q->len;
}

static unsigned take_slot(struct event_queue *q)
{
    return q->n_free ? q->free_slots[--q->n_free] : (unsigned)q->n_slots++;
}

int event_queue_push(struct event_queue *q, uint64_t t, unsigned kind, unsigned idx, void *p)
{
    if (q->len == q->cap && grow(q) != 0)
        return -1;
    if (q->next_seq >= q->seq_limit)
        renumber(q);
    unsigned slot = take_slot(q);
    q->slots[slot] = (struct eq_payload){.kind = kind, .idx = idx, .p = p};
    struct eq_node e = {.t = t, .key = q->next_seq++ << EVENT_QUEUE_SLOT_BITS | slot};
    size_t i = q->len++;
    while (i > 0 && before(&e, &q->heap[(i - 1) / ARITY])) {
        q->heap[i] = q->heap[(i - 1) / ARITY];
        i = (i - 1) / ARITY;
    }
    q->heap[i] = e;
    return 0;
}

/* The earliest of the children c.. (at most ARITY, below len). */
static size_t min_child(const struct eq_node *heap, size_t c, size_t len)
{
    size_t end = c + ARITY < len ? c + ARITY : len, m = c;
    eq_order best = order_of(&heap[c]);
    for (size_t k = c + 1; k < end; k++) {
        eq_order o = order_of(&heap[k]);
        if (o < best) {
            best = o;
            m = k;
        }
    }
    return m;
}

int event_queue_pop(struct event_queue *q, struct sim_event *out)
{
    if (q->len == 0)
        return -1;
    struct eq_node top = q->heap[0];
    unsigned slot = (unsigned)(top.key & SLOT_MASK);
    const struct eq_payload *pl = &q->slots[slot];
    *out = (struct sim_event){
        .t = top.t, .seq = top.key >> EVENT_QUEUE_SLOT_BITS, .kind = pl->kind, .idx = pl->idx, .p = pl->p};
    q->free_slots[q->n_free++] = slot;
    if (--q->len == 0)
        return 0;
    /* The last node is about the latest pending, so it would sink to the bottom: move the hole
     * down the earliest children to a leaf without comparing it, then let it rise (Floyd). */
    struct eq_node last = q->heap[q->len];
    size_t i = 0, c;
    while ((c = ARITY * i + 1) < q->len) {
        size_t m = min_child(q->heap, c, q->len);
        q->heap[i] = q->heap[m];
        i = m;
    }
    while (i > 0 && before(&last, &q->heap[(i - 1) / ARITY])) {
        q->heap[i] = q->heap[(i - 1) / ARITY];
        i = (i - 1) / ARITY;
    }
    q->heap[i] = last;
    return 0;
}
