#include "controller/infer5/model_queue.h"
#include "controller/infer5/xalloc.h"
#include <stdlib.h>
#include <string.h>

static struct qreq **slot(const struct model_queue *q, uint64_t seq) { return &q->ring[seq & (q->cap - 1)]; }

void model_queue_init(struct model_queue *q, unsigned nv)
{
    memset(q, 0, sizeof *q);
    q->nv = nv;
    q->cap = 16;
    q->ring = xcalloc(q->cap, sizeof q->ring[0]);
}

void model_queue_free(struct model_queue *q)
{
    free(q->ring);
    q->ring = NULL;
}

/* Slots keep their seq-derived index when the ring doubles. */
static void grow(struct model_queue *q)
{
    unsigned cap = q->cap * 2;
    struct qreq **ring = xcalloc(cap, sizeof ring[0]);
    for (uint64_t s = q->head; s < q->tail; s++)
        ring[s & (cap - 1)] = *slot(q, s);
    free(q->ring);
    q->ring = ring;
    q->cap = cap;
}

/* Moves a virtual head past removed entries so model_queue_front is O(1). */
static void skip_holes(struct model_queue *q, unsigned v)
{
    while (q->vhead[v] < q->tail && *slot(q, q->vhead[v]) == NULL)
        q->vhead[v]++;
}

/* Releases ring slots that precede every virtual head and are already empty. */
static void advance_head(struct model_queue *q)
{
    while (q->head < q->tail && *slot(q, q->head) == NULL)
        q->head++;
}

void model_queue_push(struct model_queue *q, struct qreq *r)
{
    if (q->tail - q->head == q->cap)
        grow(q);
    r->seq = q->tail++;
    *slot(q, r->seq) = r;
    for (unsigned v = 0; v < q->nv; v++)
        q->vcount[v]++;
    q->live++;
}

void model_queue_remove(struct model_queue *q, struct qreq *r)
{
    uint64_t seq = r->seq;
    *slot(q, seq) = NULL;
    int counted = 0;
    for (unsigned v = 0; v < q->nv; v++) {
        if (q->vhead[v] <= seq) {
            q->vcount[v]--;
            counted = 1;
        }
        skip_holes(q, v);
    }
    if (counted)
        q->live--;
    advance_head(q);
}

struct qreq *model_queue_front(const struct model_queue *q, unsigned v)
{
    return q->vcount[v] ? *slot(q, q->vhead[v]) : NULL;
}

void model_queue_drop_front(struct model_queue *q, unsigned v)
{
    if (!q->vcount[v])
        return;
    uint64_t seq = q->vhead[v]++;
    q->vcount[v]--;
    skip_holes(q, v);
    int still_queued = 0;
    for (unsigned w = 0; w < q->nv; w++)
        still_queued |= q->vhead[w] <= seq;
    if (!still_queued)
        q->live--;
}

static uint64_t min_vhead(const struct model_queue *q)
{
    uint64_t m = q->tail;
    for (unsigned v = 0; v < q->nv; v++)
        if (q->vhead[v] < m)
            m = q->vhead[v];
    return m;
}

struct qreq *model_queue_pop_orphan(struct model_queue *q)
{
    uint64_t limit = min_vhead(q);
    advance_head(q);
    if (q->head >= limit)
        return NULL;
    struct qreq *r = *slot(q, q->head);
    *slot(q, q->head) = NULL;
    advance_head(q);
    return r;
}

unsigned model_queue_take(struct model_queue *q, unsigned v, unsigned max, struct qreq **out)
{
    unsigned n = 0;
    while (n < max && q->vcount[v]) {
        out[n] = model_queue_front(q, v);
        model_queue_remove(q, out[n]);
        n++;
    }
    return n;
}

void model_queue_drop_infeasible(struct model_queue *q, const uint64_t *est, uint64_t start)
{
    for (unsigned v = 0; v < q->nv; v++) {
        struct qreq *f;
        while ((f = model_queue_front(q, v)) && f->target < start + est[v])
            model_queue_drop_front(q, v);
    }
}

int model_queue_most_urgent(const struct model_queue *q, const uint64_t *est, uint64_t *start)
{
    int best = -1;
    for (unsigned v = 0; v < q->nv; v++) {
        struct qreq *f = model_queue_front(q, v);
        if (!f)
            continue;
        uint64_t s = f->target > est[v] ? f->target - est[v] : 0;
        if (best < 0 || s <= *start) {
            best = (int)v;
            *start = s;
        }
    }
    return best;
}
