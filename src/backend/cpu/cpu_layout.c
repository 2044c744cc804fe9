#include "cpu_layout.h"
#include <string.h>

static int same_dims(const struct plan_tensor *a, const struct plan_tensor *b)
{
    return a->ndim == b->ndim && memcmp(a->dims, b->dims, a->ndim * sizeof a->dims[0]) == 0;
}

/* Whether op o can read input k in a blocked layout (through a oneDNN primitive). */
static int accepts_blocked(const struct plan *p, const struct plan_op *o, uint32_t k)
{
    const struct plan_tensor *y = &p->tensors[o->out];
    switch (o->type) {
    case OP_CONV: return k == 0;
    case OP_MAXPOOL:
    case OP_AVGPOOL:
    case OP_ACT:
    case OP_COPY: return 1; /* copy: a reorder to plain */
    case OP_ADD:
    case OP_MUL: return o->n_in == 2 && same_dims(&p->tensors[o->in[0]], y) && same_dims(&p->tensors[o->in[1]], y);
    case OP_CONCAT: return o->axis == 1 && y->ndim == 4;
    default: return 0;
    }
}

void cpu_layout_blockable(const struct plan *p, uint8_t *ok)
{
    for (uint32_t t = 0; t < p->n_tensors; t++)
        ok[t] = p->tensors[t].kind == PLAN_ACT && p->tensors[t].ndim == 4;
    for (uint32_t i = 0; i < p->n_inputs; i++)
        ok[p->inputs[i]] = 0;
    for (uint32_t i = 0; i < p->n_outputs; i++)
        ok[p->outputs[i]] = 0;
    for (uint32_t i = 0; i < p->n_ops; i++)
        for (uint32_t k = 0; k < p->ops[i].n_in; k++)
            if (!accepts_blocked(p, &p->ops[i], k))
                ok[p->ops[i].in[k]] = 0;
    /* oneDNN's eltwise keeps its input's layout: a plain activation output needs a plain input.
     * Reverse order settles chains of activations in one pass. */
    for (uint32_t i = p->n_ops; i-- > 0;)
        if (p->ops[i].type == OP_ACT && !ok[p->ops[i].out])
            ok[p->ops[i].in[0]] = 0;
}
