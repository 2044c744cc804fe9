#include "cpu_model.h"
#include "cpu_layout.h"
#include "kernels.h"
#include "model/act_arena.h"
#include "model/weights_pages.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 64
#define ALIGN_UP(x) (((x) + ALIGN - 1) / ALIGN * ALIGN)

static const dnnl_format_tag_t plain_tags[] = {dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde, dnnl_abcdef};

static void tensor_dims(const struct plan *p, int32_t t, unsigned b, dnnl_dims_t d)
{
    const struct plan_tensor *x = &p->tensors[t];
    for (uint32_t i = 0; i < x->ndim; i++)
        d[i] = x->dims[i];
    if (x->kind == PLAN_ACT)
        d[0] *= b;
}

static int plain_md(const struct plan *p, int32_t t, unsigned b, dnnl_memory_desc_t *md)
{
    dnnl_dims_t d;
    tensor_dims(p, t, b, d);
    return dnnl_memory_desc_init_by_tag(md, (int)p->tensors[t].ndim, d, dnnl_f32, plain_tags[p->tensors[t].ndim - 1]) ==
                   dnnl_success
               ? 0
               : -1;
}

/* ---- primitives ---- */

struct prim_ctx {
    struct cpu_model *m;
    struct cpu_batch *cb;
    uint32_t idx; /* op index */
    const struct plan_op *op;
    unsigned b;
    int first;                       /* first batch size: weights layouts are chosen here */
    int out_from_pd;                 /* the primitive decides the output's layout */
    uint64_t pre_scratch, temp_size; /* of the input reorder, if any */
    dnnl_memory_desc_t *md;          /* per tensor: its layout at this batch size */
    const uint8_t *blockable;
    char *err;
    size_t errlen;
};

static int dnnl_fail(struct prim_ctx *c, const char *what, dnnl_status_t st)
{
    snprintf(c->err, c->errlen,
             "op '%s': oneDNN cannot create the %s at batch %u (status %d: shapes or "
             "parameters not supported)",
             c->op->name, what, c->b, (int)st);
    return -1;
}

static void add_arg(struct prim_ctx *c, int kind, int32_t t)
{
    uint8_t *n = &c->cb->nargs[c->idx];
    c->cb->args[c->idx * CPU_MAX_ARGS + *n] = (struct cpu_arg){kind, t};
    (*n)++;
}

static int is_plain(const struct prim_ctx *c, int32_t t)
{
    dnnl_memory_desc_t pm;
    return plain_md(&c->m->plan, t, c->b, &pm) == 0 && dnnl_memory_desc_equal(&pm, &c->md[t]);
}

/* The output's descriptor: `any` (the primitive picks, usually its input's blocked layout)
 * where the output may be blocked, else plain. */
static void out_md(struct prim_ctx *c, dnnl_memory_desc_t *d, dnnl_format_tag_t tag)
{
    *d = c->md[c->op->out];
    if (c->blockable[c->op->out]) {
        dnnl_dims_t dims;
        tensor_dims(&c->m->plan, c->op->out, c->b, dims);
        dnnl_memory_desc_init_by_tag(d, d->ndims, dims, dnnl_f32, tag);
        c->out_from_pd = 1;
    }
}

/* With AVX-512, oneDNN's fastest f32 convolutions (brgemm) work on NHWC; elsewhere let it choose. */
static dnnl_format_tag_t conv_act_tag(void)
{
    return (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core ? dnnl_acdb
                                                                                                 : dnnl_format_tag_any;
}

static dnnl_primitive_attr_t plain_attr(void);

/* Where the convolution wants its input in another layout than the producer's (the plain
 * graph input, mostly), a reorder into the op's temp runs first; the conv reads the temp. */
static int conv_src(struct prim_ctx *c, dnnl_memory_desc_t *src)
{
    const struct plan_op *o = c->op;
    dnnl_format_tag_t tag = conv_act_tag();
    *src = c->md[o->in[0]];
    if (tag == dnnl_format_tag_any || !c->blockable[o->out])
        return add_arg(c, DNNL_ARG_SRC, o->in[0]), 0;
    dnnl_memory_desc_t want;
    dnnl_memory_desc_init_by_tag(&want, 4, src->dims, dnnl_f32, tag);
    if (dnnl_memory_desc_equal(&want, src))
        return add_arg(c, DNNL_ARG_SRC, o->in[0]), 0;
    dnnl_primitive_attr_t attr = plain_attr();
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = attr ? dnnl_reorder_primitive_desc_create(&pd, src, c->m->engine, &want, c->m->engine, attr)
                            : dnnl_out_of_memory;
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success)
        return dnnl_fail(c, "input reorder", st);
    c->pre_scratch = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
    c->temp_size = dnnl_memory_desc_get_size(&want);
    st = dnnl_primitive_create(&c->cb->pre[c->idx], pd);
    dnnl_primitive_desc_destroy(pd);
    *src = want;
    add_arg(c, DNNL_ARG_SRC, CPU_ARG_TEMP);
    return st == dnnl_success ? 0 : dnnl_fail(c, "input reorder", st);
}

static dnnl_alg_kind_t act_alg(unsigned act)
{
    return act == ACT_RELU ? dnnl_eltwise_relu : act == ACT_CLIP ? dnnl_eltwise_clip : dnnl_eltwise_logistic;
}

/* Attributes: user-managed scratchpad (in the arena: nothing allocated when running) and the
 * convolution's fused activation, if any (ACT_NONE for every other primitive). */
static dnnl_primitive_attr_t make_attr_act(unsigned fused_act, float lo, float hi)
{
    dnnl_primitive_attr_t attr = NULL;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success)
        return NULL;
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (fused_act != ACT_NONE) {
        dnnl_post_ops_t po;
        if (dnnl_post_ops_create(&po) == dnnl_success) {
            int clip = fused_act == ACT_CLIP;
            dnnl_post_ops_append_eltwise(po, 1.0f, act_alg(fused_act), clip ? lo : 0.0f, clip ? hi : 0.0f);
            dnnl_primitive_attr_set_post_ops(attr, po);
            dnnl_post_ops_destroy(po);
        }
    }
    return attr;
}

static dnnl_primitive_attr_t plain_attr(void) { return make_attr_act(ACT_NONE, 0.0f, 0.0f); }

static dnnl_primitive_attr_t op_attr(const struct plan_op *op)
{
    return op->type == OP_CONV ? make_attr_act(op->act, op->act_min, op->act_max) : plain_attr();
}

/* Creates the primitive from its descriptor (consumed); records the weights layout on the
 * first batch and the output layout where the primitive chose it. */
static int finish_pd(struct prim_ctx *c, dnnl_primitive_desc_t pd, const char *what, int32_t wid,
                     dnnl_primitive_t *prim, uint64_t *scratch)
{
    if (wid >= 0 && c->first)
        c->m->w[wid].cache = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if (c->out_from_pd)
        c->md[c->op->out] = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    *scratch = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
    dnnl_status_t st = dnnl_primitive_create(prim, pd);
    dnnl_primitive_desc_destroy(pd);
    return st == dnnl_success ? 0 : dnnl_fail(c, what, st);
}

static int finish_prim(struct prim_ctx *c, const_dnnl_op_desc_t desc, const char *what, int32_t wid,
                       dnnl_primitive_t *prim, uint64_t *scratch)
{
    dnnl_primitive_attr_t attr = op_attr(c->op);
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = attr ? dnnl_primitive_desc_create(&pd, desc, attr, c->m->engine, NULL) : dnnl_out_of_memory;
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return st != dnnl_success ? dnnl_fail(c, what, st) : finish_pd(c, pd, what, wid, prim, scratch);
}

static int build_conv(struct prim_ctx *c, dnnl_primitive_t *prim, uint64_t *scratch)
{
    const struct plan *p = &c->m->plan;
    const struct plan_op *o = c->op;
    const struct plan_tensor *wt = &p->tensors[o->in[1]];
    if (wt->ndim != 4 || p->tensors[o->in[0]].ndim != 4 || o->group < 1 || wt->dims[0] % o->group)
        return snprintf(c->err, c->errlen, "op '%s': bad convolution shapes", o->name), -1;
    dnnl_memory_desc_t w, dst, src;
    dnnl_dims_t wd = {o->group, wt->dims[0] / o->group, wt->dims[1], wt->dims[2], wt->dims[3]};
    int wnd = o->group > 1 ? 5 : 4;
    if (o->group == 1)
        memmove(wd, wd + 1, 4 * sizeof wd[0]);
    if (c->first) {
        dnnl_memory_desc_init_by_tag(&c->m->w[o->in[1]].plain, wnd, wd, dnnl_f32, wnd == 5 ? dnnl_goihw : dnnl_oihw);
        dnnl_memory_desc_init_by_tag(&w, wnd, wd, dnnl_f32, dnnl_format_tag_any);
    } else {
        w = c->m->w[o->in[1]].cache;
    }
    out_md(c, &dst, conv_act_tag());
    if (conv_src(c, &src) != 0)
        return -1;
    dnnl_dims_t strides = {o->stride[0], o->stride[1]}, dil = {o->dilation[0] - 1, o->dilation[1] - 1},
                pl = {o->pad_l[0], o->pad_l[1]}, pr = {o->pad_r[0], o->pad_r[1]};
    dnnl_convolution_desc_t cd;
    dnnl_status_t st = dnnl_dilated_convolution_forward_desc_init(
        &cd, dnnl_forward_inference, dnnl_convolution_direct, &src, &w, &c->md[o->in[2]], &dst, strides, dil, pl, pr);
    add_arg(c, DNNL_ARG_WEIGHTS, o->in[1]);
    add_arg(c, DNNL_ARG_BIAS, o->in[2]);
    add_arg(c, DNNL_ARG_DST, o->out);
    return st != dnnl_success ? dnnl_fail(c, "convolution", st)
                              : finish_prim(c, &cd, "convolution", o->in[1], prim, scratch);
}

static int build_pool(struct prim_ctx *c, dnnl_primitive_t *prim, uint64_t *scratch)
{
    const struct plan_op *o = c->op;
    if (c->m->plan.tensors[o->in[0]].ndim != 4 || c->m->plan.tensors[o->out].ndim != 4)
        return dnnl_fail(c, "memory descriptors", dnnl_invalid_arguments);
    dnnl_memory_desc_t dst;
    out_md(c, &dst, dnnl_format_tag_any);
    dnnl_dims_t strides = {o->stride[0], o->stride[1]}, k = {o->kernel[0], o->kernel[1]},
                dil = {o->dilation[0] - 1, o->dilation[1] - 1}, pl = {o->pad_l[0], o->pad_l[1]},
                pr = {o->pad_r[0], o->pad_r[1]};
    dnnl_alg_kind_t alg = o->type == OP_MAXPOOL ? dnnl_pooling_max
                          : o->flag             ? dnnl_pooling_avg_include_padding
                                                : dnnl_pooling_avg_exclude_padding;
    dnnl_pooling_v2_desc_t pd;
    dnnl_status_t st = dnnl_pooling_v2_forward_desc_init(&pd, dnnl_forward_inference, alg, &c->md[o->in[0]], &dst,
                                                         strides, k, dil, pl, pr);
    add_arg(c, DNNL_ARG_SRC, o->in[0]);
    add_arg(c, DNNL_ARG_DST, o->out);
    return st != dnnl_success ? dnnl_fail(c, "pooling", st) : finish_prim(c, &pd, "pooling", -1, prim, scratch);
}

/* Gemm/MatMul as a 2-D matmul: A's leading dimensions (with the batch) are the rows. */
static int build_gemm(struct prim_ctx *c, dnnl_primitive_t *prim, uint64_t *scratch)
{
    const struct plan *p = &c->m->plan;
    const struct plan_op *o = c->op;
    const struct plan_tensor *a = &p->tensors[o->in[0]], *w = &p->tensors[o->in[1]], *bt = &p->tensors[o->in[2]];
    if (w->ndim != 2 || bt->ndim != 2 || a->dims[a->ndim - 1] != w->dims[0])
        return snprintf(c->err, c->errlen, "op '%s': bad matrix shapes", o->name), -1;
    int64_t rows = (int64_t)(plan_tensor_elems(p, o->in[0], c->b) / (uint64_t)w->dims[0]);
    dnnl_dims_t ad = {rows, w->dims[0]}, wd = {w->dims[0], w->dims[1]}, bd = {bt->dims[0], bt->dims[1]},
                dd = {rows, w->dims[1]};
    dnnl_memory_desc_t src, wm, bias, dst;
    dnnl_memory_desc_init_by_tag(&src, 2, ad, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&wm, 2, wd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&bias, 2, bd, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&dst, 2, dd, dnnl_f32, dnnl_ab);
    if (plan_tensor_elems(p, o->out, c->b) != (uint64_t)(rows * w->dims[1]))
        return snprintf(c->err, c->errlen, "op '%s': output shape mismatch", o->name), -1;
    dnnl_matmul_desc_t md;
    dnnl_status_t st = dnnl_matmul_desc_init(&md, &src, &wm, &bias, &dst);
    add_arg(c, DNNL_ARG_SRC, o->in[0]);
    add_arg(c, DNNL_ARG_WEIGHTS, o->in[1]);
    add_arg(c, DNNL_ARG_BIAS, o->in[2]);
    add_arg(c, DNNL_ARG_DST, o->out);
    return st != dnnl_success ? dnnl_fail(c, "matmul", st) : finish_prim(c, &md, "matmul", -1, prim, scratch);
}

/* ---- element-wise ops and concat on blocked activations ---- */

static int build_eltwise(struct prim_ctx *c, dnnl_primitive_t *prim, uint64_t *scratch)
{
    const struct plan_op *o = c->op;
    int clip = o->act == ACT_CLIP;
    dnnl_eltwise_desc_t d;
    dnnl_status_t st = dnnl_eltwise_forward_desc_init(&d, dnnl_forward_inference, act_alg(o->act), &c->md[o->in[0]],
                                                      clip ? o->act_min : 0.0f, clip ? o->act_max : 0.0f);
    c->md[o->out] = c->md[o->in[0]];
    add_arg(c, DNNL_ARG_SRC, o->in[0]);
    add_arg(c, DNNL_ARG_DST, o->out);
    return st != dnnl_success ? dnnl_fail(c, "eltwise", st) : finish_prim(c, &d, "eltwise", -1, prim, scratch);
}

static int build_binary(struct prim_ctx *c, dnnl_primitive_t *prim, uint64_t *scratch)
{
    const struct plan_op *o = c->op;
    dnnl_memory_desc_t dst;
    out_md(c, &dst, dnnl_format_tag_any);
    dnnl_binary_desc_t d;
    dnnl_status_t st = dnnl_binary_desc_init(&d, o->type == OP_MUL ? dnnl_binary_mul : dnnl_binary_add,
                                             &c->md[o->in[0]], &c->md[o->in[1]], &dst);
    add_arg(c, DNNL_ARG_SRC_0, o->in[0]);
    add_arg(c, DNNL_ARG_SRC_1, o->in[1]);
    add_arg(c, DNNL_ARG_DST, o->out);
    return st != dnnl_success ? dnnl_fail(c, "binary", st) : finish_prim(c, &d, "binary", -1, prim, scratch);
}

static int build_concat(struct prim_ctx *c, dnnl_primitive_t *prim, uint64_t *scratch)
{
    const struct plan_op *o = c->op;
    dnnl_memory_desc_t dst, src[PLAN_MAX_IN];
    out_md(c, &dst, dnnl_format_tag_any);
    for (uint32_t k = 0; k < o->n_in; k++) {
        src[k] = c->md[o->in[k]];
        add_arg(c, DNNL_ARG_MULTIPLE_SRC + (int)k, o->in[k]);
    }
    add_arg(c, DNNL_ARG_DST, o->out);
    dnnl_primitive_attr_t attr = plain_attr();
    dnnl_primitive_desc_t pd;
    dnnl_status_t st =
        attr ? dnnl_concat_primitive_desc_create(&pd, &dst, (int)o->n_in, (int)o->axis, src, attr, c->m->engine)
             : dnnl_out_of_memory;
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return st != dnnl_success ? dnnl_fail(c, "concat", st) : finish_pd(c, pd, "concat", -1, prim, scratch);
}

/* Flatten/Reshape of a blocked tensor: a reorder to the plain layout of the input's shape,
 * which is byte for byte the output. */
static int build_unblock(struct prim_ctx *c, dnnl_primitive_t *prim, uint64_t *scratch)
{
    const struct plan_op *o = c->op;
    dnnl_memory_desc_t dst;
    if (plain_md(&c->m->plan, o->in[0], c->b, &dst) != 0)
        return dnnl_fail(c, "memory descriptors", dnnl_invalid_arguments);
    add_arg(c, DNNL_ARG_FROM, o->in[0]);
    add_arg(c, DNNL_ARG_TO, o->out);
    dnnl_primitive_attr_t attr = plain_attr();
    dnnl_primitive_desc_t pd;
    dnnl_status_t st =
        attr ? dnnl_reorder_primitive_desc_create(&pd, &c->md[o->in[0]], c->m->engine, &dst, c->m->engine, attr)
             : dnnl_out_of_memory;
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return st != dnnl_success ? dnnl_fail(c, "reorder", st) : finish_pd(c, pd, "reorder", -1, prim, scratch);
}

/* Element-wise ops, concat and copies run on oneDNN when an input is blocked, else on our kernels. */
static int build_follower(struct prim_ctx *c, dnnl_primitive_t *prim, uint64_t *scratch)
{
    const struct plan_op *o = c->op;
    int blocked = 0;
    for (uint32_t k = 0; k < o->n_in; k++)
        blocked |= !is_plain(c, o->in[k]);
    if (!blocked)
        return 0;
    switch (o->type) {
    case OP_ACT: return build_eltwise(c, prim, scratch);
    case OP_ADD:
    case OP_MUL: return build_binary(c, prim, scratch);
    case OP_CONCAT: return build_concat(c, prim, scratch);
    case OP_COPY: return build_unblock(c, prim, scratch);
    default: return snprintf(c->err, c->errlen, "op '%s': internal error: blocked input", o->name), -1;
    }
}

/* Shape checks for the ops our kernels run (a plan from disk is untrusted). */
static int check_simple(const struct plan *p, const struct plan_op *o, unsigned b, char *err, size_t errlen)
{
    uint64_t out = plan_tensor_elems(p, o->out, 1), in0 = plan_tensor_elems(p, o->in[0], 1);
    const struct plan_tensor *x = &p->tensors[o->in[0]], *y = &p->tensors[o->out];
    int ok = 1;
    switch (o->type) {
    case OP_COPY:
    case OP_ACT: ok = in0 == out && x->kind == PLAN_ACT; break;
    case OP_SOFTMAX: ok = in0 == out && x->ndim == y->ndim && o->axis >= 0 && o->axis < x->ndim; break;
    case OP_CHANNEL_AFFINE:
        ok = o->n_in == 3 && in0 == out && x->ndim >= 2 && x->kind == PLAN_ACT &&
             plan_tensor_elems(p, o->in[1], 1) == (uint64_t)x->dims[1] &&
             plan_tensor_elems(p, o->in[2], 1) == (uint64_t)x->dims[1];
        break;
    case OP_ADD:
    case OP_MUL:
        ok = o->n_in == 2;
        for (uint32_t k = 0; ok && k < 2; k++) {
            const struct plan_tensor *t = &p->tensors[o->in[k]];
            dnnl_dims_t td, yd;
            tensor_dims(p, o->in[k], b, td);
            tensor_dims(p, o->out, b, yd);
            ok = t->ndim <= y->ndim;
            for (uint32_t d = 0; ok && d < t->ndim; d++)
                ok = td[d] == yd[d + y->ndim - t->ndim] || td[d] == 1;
        }
        break;
    case OP_CONCAT: {
        int64_t sum = 0;
        ok = o->axis >= 0 && o->axis < y->ndim;
        for (uint32_t k = 0; ok && k < o->n_in; k++) {
            const struct plan_tensor *t = &p->tensors[o->in[k]];
            ok = t->ndim == y->ndim && (t->kind == PLAN_ACT || b == 1);
            for (uint32_t d = 0; ok && d < t->ndim; d++)
                ok = d == o->axis || t->dims[d] == y->dims[d];
            sum += ok ? t->dims[o->axis] : 0;
        }
        ok = ok && sum == y->dims[o->axis] && (o->axis > 0 || b == 1);
        break;
    }
    default: ok = 0;
    }
    if (!ok)
        snprintf(err, errlen, "op '%s': inconsistent shapes", o->name);
    return ok ? 0 : -1;
}

static int build_prims(struct cpu_model *m, struct cpu_batch *cb, int first, dnnl_memory_desc_t *md,
                       const uint8_t *blockable, uint64_t *max_scratch, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < m->plan.n_ops; i++) {
        struct prim_ctx c = {m, cb, i, &m->plan.ops[i], cb->b, first, 0, 0, 0, md, blockable, err, errlen};
        uint64_t scratch = 0;
        int rc;
        switch (c.op->type) {
        case OP_CONV: rc = c.op->n_in == 3 ? build_conv(&c, &cb->prim[i], &scratch) : -1; break;
        case OP_MAXPOOL:
        case OP_AVGPOOL: rc = build_pool(&c, &cb->prim[i], &scratch); break;
        case OP_GEMM: rc = c.op->n_in == 3 ? build_gemm(&c, &cb->prim[i], &scratch) : -1; break;
        default:
            rc = check_simple(&m->plan, c.op, cb->b, err, errlen);
            rc = rc == 0 ? build_follower(&c, &cb->prim[i], &scratch) : rc;
        }
        if (rc != 0) {
            if (err[0] == '\0')
                snprintf(err, errlen, "op '%s': bad inputs", c.op->name);
            return -1;
        }
        scratch = scratch > c.pre_scratch ? scratch : c.pre_scratch; /* they run one after the other */
        if (c.temp_size) {
            cb->temp_off[i] = ALIGN_UP(scratch);
            scratch = cb->temp_off[i] + c.temp_size;
        }
        *max_scratch = scratch > *max_scratch ? scratch : *max_scratch;
    }
    return 0;
}

/* ---- weights: layouts, reorders, packing into pages ---- */

static int weight_layout(struct cpu_model *m, uint32_t t, char *err, size_t errlen)
{
    struct cpu_weight *w = &m->w[t];
    if (w->plain.ndims == 0 && plain_md(&m->plan, (int32_t)t, 1, &w->plain) != 0)
        return snprintf(err, errlen, "weight '%s': bad shape", m->plan.tensors[t].name), -1;
    if (w->cache.ndims == 0)
        w->cache = w->plain;
    w->size = ALIGN_UP(dnnl_memory_desc_get_size(&w->cache));
    if (dnnl_memory_desc_equal(&w->plain, &w->cache))
        return 0;
    dnnl_primitive_desc_t pd;
    if (dnnl_reorder_primitive_desc_create(&pd, &w->plain, m->engine, &w->cache, m->engine, NULL) != dnnl_success)
        return snprintf(err, errlen, "weight '%s': no reorder", m->plan.tensors[t].name), -1;
    dnnl_status_t st = dnnl_primitive_create(&w->reorder, pd);
    dnnl_primitive_desc_destroy(pd);
    return st == dnnl_success ? 0 : (snprintf(err, errlen, "weight '%s': no reorder", m->plan.tensors[t].name), -1);
}

static int pack_weights(struct cpu_model *m, char *err, size_t errlen)
{
    uint32_t nt = m->plan.n_tensors, big = 0;
    uint64_t *size = calloc(nt + 1, sizeof *size);
    struct weights_slot *slot = calloc(nt + 1, sizeof *slot);
    struct weights_pages wp;
    int rc = size && slot ? 0 : (snprintf(err, errlen, "out of memory"), -1);
    for (uint32_t t = 0; rc == 0 && t < nt; t++)
        if (m->plan.tensors[t].kind == PLAN_WEIGHT && (rc = weight_layout(m, t, err, errlen)) == 0)
            size[t] = m->w[t].size;
    if (rc == 0 && weights_pages_pack(size, nt, m->page_size, ALIGN, slot, &wp, &big) != 0)
        rc = (snprintf(err, errlen, "weight '%s' needs %llu bytes, more than a page (%llu)", m->plan.tensors[big].name,
                       (unsigned long long)size[big], (unsigned long long)m->page_size),
              -1);
    for (uint32_t t = 0; rc == 0 && t < nt; t++) {
        m->w[t].page = slot[t].page;
        m->w[t].offset = slot[t].offset;
    }
    if (rc == 0) {
        m->n_pages = wp.n_pages;
        m->last_page_used = wp.last_page_used;
    }
    free(size);
    free(slot);
    return rc;
}

/* Per-tensor layouts, all plain to begin with; primitives replace those they choose. */
static dnnl_memory_desc_t *plain_layouts(const struct plan *p, unsigned b)
{
    dnnl_memory_desc_t *md = calloc(p->n_tensors + 1, sizeof *md);
    for (uint32_t t = 0; md && t < p->n_tensors; t++)
        if (plain_md(p, (int32_t)t, b, &md[t]) != 0) {
            free(md);
            return NULL;
        }
    return md;
}

static int build_batch(struct cpu_model *m, unsigned i, const uint8_t *blockable, char *err, size_t errlen)
{
    struct cpu_batch *cb = &m->batch[i];
    uint32_t nt = m->plan.n_tensors, no = m->plan.n_ops;
    cb->act_off = calloc(nt + 1, sizeof *cb->act_off);
    cb->prim = calloc(no + 1, sizeof *cb->prim);
    cb->args = calloc((size_t)no * CPU_MAX_ARGS + 1, sizeof *cb->args);
    cb->nargs = calloc(no + 1, 1);
    cb->pre = calloc(no + 1, sizeof *cb->pre);
    cb->temp_off = calloc(no + 1, sizeof *cb->temp_off);
    dnnl_memory_desc_t *md = plain_layouts(&m->plan, cb->b);
    uint64_t *size = calloc(nt + 1, sizeof *size), scratch = 0;
    int rc = cb->act_off && cb->prim && cb->args && cb->nargs && cb->pre && cb->temp_off && md && size
                 ? 0
                 : (snprintf(err, errlen, "out of memory"), -1);
    if (rc == 0)
        rc = build_prims(m, cb, i == 0, md, blockable, &scratch, err, errlen);
    for (uint32_t t = 0; rc == 0 && t < nt; t++)
        size[t] = dnnl_memory_desc_get_size(&md[t]);
    if (rc == 0 && act_arena_plan(&m->plan, size, ALIGN, cb->act_off, &cb->arena_size) != 0)
        rc = (snprintf(err, errlen, "out of memory"), -1);
    free(md);
    free(size);
    if (rc != 0)
        return -1;
    cb->scratch_off = cb->arena_size;
    cb->arena_size += ALIGN_UP(scratch);
    m->arena_need = cb->arena_size > m->arena_need ? cb->arena_size : m->arena_need;
    return 0;
}

int cpu_model_build(struct cpu_model **out, struct plan *plan, dnnl_engine_t engine, const unsigned *batch_sizes,
                    unsigned n_batches, uint64_t page_size, char *err, size_t errlen)
{
    err[0] = '\0';
    struct cpu_model *m = calloc(1, sizeof *m);
    if (!m) {
        plan_free(plan);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    m->plan = *plan;
    memset(plan, 0, sizeof *plan);
    m->engine = engine;
    m->page_size = page_size;
    m->n_batches = n_batches > CPU_MAX_BATCHES ? CPU_MAX_BATCHES : n_batches;
    m->w = calloc(m->plan.n_tensors + 1, sizeof *m->w);
    uint8_t *blockable = calloc(m->plan.n_tensors + 1, 1);
    if (blockable)
        cpu_layout_blockable(&m->plan, blockable);
    int rc = m->w && blockable && (m->plan.weights || m->plan.weights_size == 0) && page_size > 0
                 ? 0
                 : (snprintf(err, errlen, "out of memory"), -1);
    for (unsigned i = 0; rc == 0 && i < m->n_batches; i++) {
        m->batch[i].b = batch_sizes[i];
        rc = build_batch(m, i, blockable, err, errlen);
    }
    free(blockable);
    if (rc == 0)
        rc = pack_weights(m, err, errlen);
    if (rc != 0) {
        cpu_model_destroy(m);
        return -1;
    }
    *out = m;
    return 0;
}

void cpu_model_destroy(struct cpu_model *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < CPU_MAX_BATCHES; i++) {
        struct cpu_batch *cb = &m->batch[i];
        for (uint32_t k = 0; k < m->plan.n_ops; k++) {
            if (cb->prim && cb->prim[k])
                dnnl_primitive_destroy(cb->prim[k]);
            if (cb->pre && cb->pre[k])
                dnnl_primitive_destroy(cb->pre[k]);
        }
        free(cb->pre);
        free(cb->temp_off);
        free(cb->prim);
        free(cb->act_off);
        free(cb->args);
        free(cb->nargs);
    }
    for (uint32_t t = 0; m->w && t < m->plan.n_tensors; t++)
        if (m->w[t].reorder)
            dnnl_primitive_destroy(m->w[t].reorder);
    free(m->w);
    plan_free(&m->plan);
    free(m);
}

uint64_t cpu_model_input_bytes(const struct cpu_model *m)
{
    return plan_tensor_elems(&m->plan, m->plan.inputs[0], 1) * 4;
}
uint64_t cpu_model_output_bytes(const struct cpu_model *m)
{
    return plan_tensor_elems(&m->plan, m->plan.outputs[0], 1) * 4;
}
