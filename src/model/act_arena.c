#include "act_arena.h"
#include <stdlib.h>
#include <string.h>

struct block {
    uint64_t off, size;
    int32_t t;
};

struct arena {
    struct block *live; /* sorted by offset */
    unsigned n;
    uint64_t align, top;
};

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

static uint64_t place(struct arena *a, uint64_t size, int32_t t)
{
    uint64_t off = 0;
    unsigned i = 0;
    for (; i < a->n; i++) {
        if (a->live[i].off >= off + size)
            break;
        uint64_t end = align_up(a->live[i].off + a->live[i].size, a->align);
        off = end > off ? end : off;
    }
    memmove(a->live + i + 1, a->live + i, (a->n - i) * sizeof *a->live);
    a->live[i] = (struct block){off, size, t};
    a->n++;
    a->top = off + size > a->top ? off + size : a->top;
    return off;
}

static void release(struct arena *a, int32_t t)
{
    for (unsigned i = 0; i < a->n; i++)
        if (a->live[i].t == t) {
            memmove(a->live + i, a->live + i + 1, (a->n - i - 1) * sizeof *a->live);
            a->n--;
            return;
        }
}

/* Per tensor, the index of the last op reading it (INT32_MAX for graph outputs, -1 if none). */
static int32_t *last_uses(const struct plan *p)
{
    int32_t *lu = malloc((p->n_tensors + 1) * sizeof *lu);
    if (!lu)
        return NULL;
    for (uint32_t t = 0; t < p->n_tensors; t++)
        lu[t] = -1;
    for (uint32_t i = 0; i < p->n_ops; i++)
        for (uint32_t k = 0; k < p->ops[i].n_in; k++)
            lu[p->ops[i].in[k]] = (int32_t)i;
    for (uint32_t i = 0; i < p->n_outputs; i++)
        lu[p->outputs[i]] = INT32_MAX;
    return lu;
}

int act_arena_plan(const struct plan *p, const uint64_t *size, uint64_t align, uint64_t *off, uint64_t *total)
{
    struct arena a = {calloc(p->n_tensors + 1, sizeof *a.live), 0, align, 0};
    int32_t *lu = last_uses(p);
    if (!a.live || !lu) {
        free(a.live);
        free(lu);
        return -1;
    }
    for (uint32_t i = 0; i < p->n_inputs; i++)
        off[p->inputs[i]] = place(&a, size[p->inputs[i]], p->inputs[i]);
    for (uint32_t i = 0; i < p->n_ops; i++) {
        const struct plan_op *o = &p->ops[i];
        off[o->out] = place(&a, size[o->out], o->out);
        for (uint32_t k = 0; k < o->n_in; k++)
            if (lu[o->in[k]] == (int32_t)i && p->tensors[o->in[k]].kind == PLAN_ACT)
                release(&a, o->in[k]);
    }
    free(a.live);
    free(lu);
    *total = align_up(a.top, align);
    return 0;
}
