/* Bindings of a cpu_model to one device's weight pages and arena, and the run loop. */
#include "cpu_model.h"
#include "kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS (CPU_MAX_ARGS + 1) /* + scratchpad */

struct bound_batch {
    dnnl_memory_t scratch;
    dnnl_exec_arg_t *args; /* MAX_ARGS per op */
    int *nargs;
    dnnl_exec_arg_t *pre_args; /* 3 per op with an input reorder: from, to (the temp), scratchpad */
};

struct cpu_binding {
    const struct cpu_model *m;
    uint8_t *arena;
    uint8_t **wptr;      /* per tensor: weight address in the cache */
    dnnl_memory_t *wmem; /* per tensor: weight in its cache layout */
    dnnl_memory_t *wsrc; /* per tensor: host (plain) weight, for reorders */
    struct bound_batch bb[CPU_MAX_BATCHES];
};

const struct cpu_model *cpu_binding_model(const struct cpu_binding *b) { return b->m; }

float *cpu_binding_act(const struct cpu_binding *b, unsigned bi, int32_t t)
{
    return (float *)(b->arena + b->m->batch[bi].act_off[t]);
}

static int mem(dnnl_memory_t *out, const dnnl_memory_desc_t *md, dnnl_engine_t e, void *ptr)
{
    return dnnl_memory_create(out, md, e, ptr) == dnnl_success ? 0 : -1;
}

static int bind_weights(struct cpu_binding *b, uint8_t *const *pages)
{
    const struct cpu_model *m = b->m;
    for (uint32_t t = 0; t < m->plan.n_tensors; t++) {
        const struct cpu_weight *w = &m->w[t];
        if (m->plan.tensors[t].kind != PLAN_WEIGHT)
            continue;
        b->wptr[t] = pages[w->page] + w->offset;
        if (mem(&b->wmem[t], &w->cache, m->engine, b->wptr[t]) != 0)
            return -1;
        if (w->reorder &&
            mem(&b->wsrc[t], &w->plain, m->engine, (uint8_t *)m->plan.weights + m->plan.tensors[t].offset) != 0)
            return -1;
    }
    return 0;
}

static int is_weight(const struct cpu_model *m, int32_t t) { return t >= 0 && m->plan.tensors[t].kind == PLAN_WEIGHT; }

/* Address of argument tensor t of op i: an activation, or the op's temp. */
static void *arg_ptr(const struct cpu_binding *b, unsigned bi, uint32_t i, int32_t t)
{
    const struct cpu_batch *cb = &b->m->batch[bi];
    return t == CPU_ARG_TEMP ? b->arena + cb->scratch_off + cb->temp_off[i] : (void *)cpu_binding_act(b, bi, t);
}

/* The input reorder of op i: from input 0 to the memory the op reads as its source. */
static int bind_pre(struct cpu_binding *b, unsigned bi, uint32_t i, dnnl_memory_t temp)
{
    const struct cpu_model *m = b->m;
    const_dnnl_primitive_desc_t pd;
    dnnl_exec_arg_t *a = &b->bb[bi].pre_args[i * 3];
    if (dnnl_primitive_get_primitive_desc(m->batch[bi].pre[i], &pd) != dnnl_success)
        return -1;
    a[0].arg = DNNL_ARG_FROM;
    a[1] = (dnnl_exec_arg_t){DNNL_ARG_TO, temp};
    a[2] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, b->bb[bi].scratch};
    return mem(&a[0].memory, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), m->engine,
               cpu_binding_act(b, bi, m->plan.ops[i].in[0]));
}

/* Memory objects for op i's arguments: weights are the cache's, activations get their own
 * (in the layout the primitive expects, at their arena offset), then the scratchpad. */
static int bind_op(struct cpu_binding *b, unsigned bi, uint32_t i)
{
    const struct cpu_model *m = b->m;
    const struct cpu_batch *cb = &m->batch[bi];
    struct bound_batch *bb = &b->bb[bi];
    const_dnnl_primitive_desc_t pd;
    if (dnnl_primitive_get_primitive_desc(cb->prim[i], &pd) != dnnl_success)
        return -1;
    dnnl_exec_arg_t *a = &bb->args[i * MAX_ARGS];
    for (int k = 0; k < cb->nargs[i]; k++) {
        const struct cpu_arg *arg = &cb->args[i * CPU_MAX_ARGS + k];
        a[k].arg = arg->kind;
        if (is_weight(m, arg->t)) {
            a[k].memory = b->wmem[arg->t];
        } else if (mem(&a[k].memory, dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg->kind), m->engine,
                       arg_ptr(b, bi, i, arg->t)) != 0) {
            return -1;
        }
        bb->nargs[i] = k + 1; /* what destroy must release */
        if (arg->t == CPU_ARG_TEMP && bind_pre(b, bi, i, a[k].memory) != 0)
            return -1;
    }
    a[cb->nargs[i]] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, bb->scratch};
    bb->nargs[i] = cb->nargs[i] + 1;
    return 0;
}

static int bind_batch(struct cpu_binding *b, unsigned bi)
{
    const struct cpu_model *m = b->m;
    const struct cpu_batch *cb = &m->batch[bi];
    struct bound_batch *bb = &b->bb[bi];
    bb->args = calloc((size_t)m->plan.n_ops * MAX_ARGS + 1, sizeof *bb->args);
    bb->nargs = calloc(m->plan.n_ops + 1, sizeof *bb->nargs);
    bb->pre_args = calloc((size_t)m->plan.n_ops * 3 + 1, sizeof *bb->pre_args);
    if (!bb->args || !bb->nargs || !bb->pre_args)
        return -1;
    dnnl_dims_t sd = {(int64_t)(cb->arena_size - cb->scratch_off) + 1};
    dnnl_memory_desc_t smd;
    dnnl_memory_desc_init_by_tag(&smd, 1, sd, dnnl_u8, dnnl_a);
    if (mem(&bb->scratch, &smd, m->engine, b->arena + cb->scratch_off) != 0)
        return -1;
    for (uint32_t i = 0; i < m->plan.n_ops; i++)
        if (cb->prim[i] && bind_op(b, bi, i) != 0)
            return -1;
    return 0;
}

void cpu_binding_destroy(struct cpu_binding *b)
{
    if (!b)
        return;
    const struct cpu_model *m = b->m;
    for (unsigned bi = 0; bi < CPU_MAX_BATCHES; bi++) {
        struct bound_batch *bb = &b->bb[bi];
        for (uint32_t i = 0; bb->args && i < m->plan.n_ops; i++) /* the activations' memories are ours */
            for (int k = 0; k < bb->nargs[i] && k < m->batch[bi].nargs[i]; k++)
                if (!is_weight(m, m->batch[bi].args[i * CPU_MAX_ARGS + k].t))
                    dnnl_memory_destroy(bb->args[i * MAX_ARGS + k].memory);
        for (uint32_t i = 0; bb->pre_args && i < m->plan.n_ops; i++)
            if (bb->pre_args[i * 3].memory)
                dnnl_memory_destroy(bb->pre_args[i * 3].memory);
        if (bb->scratch)
            dnnl_memory_destroy(bb->scratch);
        free(bb->pre_args);
        free(bb->args);
        free(bb->nargs);
    }
    for (uint32_t t = 0; b->wmem && t < m->plan.n_tensors; t++) {
        if (b->wmem[t])
            dnnl_memory_destroy(b->wmem[t]);
        if (b->wsrc && b->wsrc[t])
            dnnl_memory_destroy(b->wsrc[t]);
    }
    free(b->wptr);
    free(b->wmem);
    free(b->wsrc);
    free(b);
}

int cpu_binding_create(struct cpu_binding **out, const struct cpu_model *m, uint8_t *const *pages, uint8_t *arena,
                       char *err, size_t errlen)
{
    struct cpu_binding *b = calloc(1, sizeof *b);
    if (!b)
        return snprintf(err, errlen, "out of memory"), -1;
    b->m = m;
    b->arena = arena;
    b->wptr = calloc(m->plan.n_tensors + 1, sizeof *b->wptr);
    b->wmem = calloc(m->plan.n_tensors + 1, sizeof *b->wmem);
    b->wsrc = calloc(m->plan.n_tensors + 1, sizeof *b->wsrc);
    int rc = b->wptr && b->wmem && b->wsrc ? bind_weights(b, pages) : -1;
    for (unsigned bi = 0; rc == 0 && bi < m->n_batches; bi++)
        rc = bind_batch(b, bi);
    if (rc != 0) {
        cpu_binding_destroy(b);
        return snprintf(err, errlen, "cannot create oneDNN memory objects"), -1;
    }
    *out = b;
    return 0;
}

int cpu_binding_load_weights(struct cpu_binding *b, dnnl_stream_t s)
{
    const struct cpu_model *m = b->m;
    for (uint32_t t = 0; t < m->plan.n_tensors; t++) {
        const struct cpu_weight *w = &m->w[t];
        if (m->plan.tensors[t].kind != PLAN_WEIGHT)
            continue;
        if (!w->reorder) {
            memcpy(b->wptr[t], (uint8_t *)m->plan.weights + m->plan.tensors[t].offset,
                   plan_tensor_elems(&m->plan, (int32_t)t, 1) * 4);
            continue;
        }
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, b->wsrc[t]}, {DNNL_ARG_TO, b->wmem[t]}};
        if (dnnl_primitive_execute(w->reorder, s, 2, a) != dnnl_success)
            return -1;
    }
    return dnnl_stream_wait(s) == dnnl_success ? 0 : -1;
}

static void shape_of(const struct plan *p, int32_t t, unsigned b, struct kshape *s)
{
    const struct plan_tensor *x = &p->tensors[t];
    s->nd = x->ndim;
    for (uint32_t i = 0; i < x->ndim; i++)
        s->d[i] = x->dims[i];
    if (x->kind == PLAN_ACT)
        s->d[0] *= b;
}

static const float *ptr(const struct cpu_binding *b, unsigned bi, int32_t t)
{
    return b->m->plan.tensors[t].kind == PLAN_WEIGHT ? (const float *)b->wptr[t] : cpu_binding_act(b, bi, t);
}

static void run_simple(const struct cpu_binding *b, unsigned bi, const struct plan_op *o)
{
    const struct plan *p = &b->m->plan;
    unsigned bs = b->m->batch[bi].b;
    struct kshape so, s0, s1;
    shape_of(p, o->out, bs, &so);
    shape_of(p, o->in[0], bs, &s0);
    float *y = cpu_binding_act(b, bi, o->out);
    const float *x = ptr(b, bi, o->in[0]);
    switch (o->type) {
    case OP_COPY: memcpy(y, x, kshape_elems(&so) * 4); break;
    case OP_ACT: kernel_act(y, x, kshape_elems(&so), o->act, o->act_min, o->act_max); break;
    case OP_SOFTMAX: kernel_softmax(y, x, &s0, (unsigned)o->axis, (int)o->flag); break;
    case OP_CHANNEL_AFFINE: kernel_channel_affine(y, x, &s0, ptr(b, bi, o->in[1]), ptr(b, bi, o->in[2])); break;
    case OP_ADD:
    case OP_MUL:
        shape_of(p, o->in[1], bs, &s1);
        kernel_binary(y, &so, x, &s0, ptr(b, bi, o->in[1]), &s1, o->type == OP_MUL);
        break;
    case OP_CONCAT: {
        int64_t off = 0;
        for (uint32_t k = 0; k < o->n_in; k++) {
            shape_of(p, o->in[k], bs, &s1);
            kernel_concat_part(y, &so, ptr(b, bi, o->in[k]), &s1, (unsigned)o->axis, off);
            off += s1.d[o->axis];
        }
        break;
    }
    default: break;
    }
}

int cpu_binding_run(struct cpu_binding *b, unsigned bi, dnnl_stream_t s)
{
    const struct cpu_model *m = b->m;
    if (bi >= m->n_batches)
        return -1;
    const struct cpu_batch *cb = &m->batch[bi];
    int pending = 0;
    for (uint32_t i = 0; i < m->plan.n_ops; i++) {
        if (cb->pre[i] && dnnl_primitive_execute(cb->pre[i], s, 3, &b->bb[bi].pre_args[i * 3]) != dnnl_success)
            return -1;
        if (cb->prim[i]) {
            if (dnnl_primitive_execute(cb->prim[i], s, b->bb[bi].nargs[i], &b->bb[bi].args[i * MAX_ARGS]) !=
                dnnl_success)
                return -1;
            pending = 1;
            continue;
        }
        if (pending && dnnl_stream_wait(s) != dnnl_success)
            return -1;
        pending = 0;
        run_simple(b, bi, &m->plan.ops[i]);
    }
    return dnnl_stream_wait(s) == dnnl_success ? 0 : -1;
}
