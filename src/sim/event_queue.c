#include "event_queue.h"
#include <stdlib.h>
#include <string.h>

/* A 4-ary heap (shallower than a binary one: fewer cache lines per operation) moved by holes
 * rather than swaps. (time, seq) is unique, so the pop order is the same as any heap's. */
#define ARITY 4

void event_queue_init(struct event_queue *q) { memset(q, 0, sizeof *q); }

void event_queue_free(struct event_queue *q)
{
    free(q->heap);
    memset(q, 0, sizeof *q);
}

static int before(const struct sim_event *a, const struct sim_event *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

int event_queue_push(struct event_queue *q, uint64_t t, unsigned kind, unsigned idx, void *p)
{
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 1024;
        struct sim_event *h = realloc(q->heap, cap * sizeof *h);
        if (!h)
            return -1;
        q->heap = h;
        q->cap = cap;
    }
    struct sim_event e = {.t = t, .seq = q->next_seq++, .kind = kind, .idx = idx, .p = p};
    size_t i = q->len++;
    while (i > 0 && before(&e, &q->heap[(i - 1) / ARITY])) {
        q->heap[i] = q->heap[(i - 1) / ARITY];
        i = (i - 1) / ARITY;
    }
    q->heap[i] = e;
    return 0;
}

/* The earliest child of i, or 0 if it has none. */
static size_t first_child(const struct event_queue *q, size_t i)
{
    size_t c = ARITY * i + 1, end = c + ARITY < q->len ? c + ARITY : q->len, m = c;
    if (c >= q->len)
        return 0;
    for (size_t k = c + 1; k < end; k++)
        if (before(&q->heap[k], &q->heap[m]))
            m = k;
    return m;
}

int event_queue_pop(struct event_queue *q, struct sim_event *out)
{
    if (q->len == 0)
        return -1;
    *out = q->heap[0];
    struct sim_event last = q->heap[--q->len];
    size_t i = 0, c;
    while ((c = first_child(q, i)) && before(&q->heap[c], &last)) {
        q->heap[i] = q->heap[c];
        i = c;
    }
    if (q->len)
        q->heap[i] = last;
    return 0;
}
