#include "event_queue.h"
#include <stdlib.h>
#include <string.h>

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

static void swap(struct sim_event *a, struct sim_event *b)
{
    struct sim_event x = *a;
    *a = *b;
    *b = x;
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
    size_t i = q->len++;
    q->heap[i] = (struct sim_event){.t = t, .seq = q->next_seq++, .kind = kind, .idx = idx, .p = p};
    while (i > 0 && before(&q->heap[i], &q->heap[(i - 1) / 2])) {
        swap(&q->heap[i], &q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    return 0;
}

int event_queue_pop(struct event_queue *q, struct sim_event *out)
{
    if (q->len == 0)
        return -1;
    *out = q->heap[0];
    q->heap[0] = q->heap[--q->len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->len && before(&q->heap[l], &q->heap[m]))
            m = l;
        if (r < q->len && before(&q->heap[r], &q->heap[m]))
            m = r;
        if (m == i)
            break;
        swap(&q->heap[i], &q->heap[m]);
        i = m;
    }
    return 0;
}
