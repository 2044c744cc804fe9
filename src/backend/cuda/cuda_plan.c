#include "cuda_plan.h"
#include "model/act_arena.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN_UP(x) (((x) + CUDA_ALIGN - 1) / CUDA_ALIGN * CUDA_ALIGN)
#define MAX_STEPS_PER_OP (PLAN_MAX_IN + 1) /* a conv: pad, conv, bias+act; a concat: one per input */

struct build {
    const struct plan *p;
    struct cuda_batch *cb;
    const struct plan_op *o;
    uint32_t idx;
    unsigned b;
    char *err;
    size_t errlen;
};

int64_t cuda_dims_elems(const struct cuda_dims *d)
{
    int64_t n = 1;
    for (uint32_t i = 0; i < d->nd; i++)
        n *= d->d[i];
    return n;
}

const char *cuda_step_name(uint32_t kind)
{
    static const char *const names[] = {"?",      "conv", "pad",     "bias+act", "pool", "gemm",
                                        "binary", "act",  "softmax", "affine",   "copy", "concat"};
    return kind < sizeof names / sizeof *names ? names[kind] : "?";
}

static void dims_of(const struct plan *p, int32_t t, unsigned b, struct cuda_dims *d)
{
    const struct plan_tensor *x = &p->tensors[t];
    memset(d, 0, sizeof *d);
    d->nd = x->ndim;
    memcpy(d->d, x->dims, x->ndim * sizeof x->dims[0]);
    if (x->kind == PLAN_ACT)
        d->d[0] *= b;
}

static int bad(struct build *c, const char *why)
{
    snprintf(c->err, c->errlen, "op %u (%s): %s at batch %u", c->idx, c->o->name, why, c->b);
    return -1;
}

static int is_act(const struct build *c, int32_t t) { return c->p->tensors[t].kind == PLAN_ACT; }

static struct cuda_step *add_step(struct build *c, uint32_t kind, int32_t x, int32_t y)
{
    struct cuda_step *s = &c->cb->steps[c->cb->n_steps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->op = c->idx;
    s->x = x;
    s->y = y;
    s->w = s->b = -1;
    if (x >= 0)
        dims_of(c->p, x, c->b, &s->xd);
    if (y >= 0)
        dims_of(c->p, y, c->b, &s->yd);
    return s;
}

/* ---- convolution ---- */

static int64_t window_out(int64_t in, int64_t k, int64_t s, int64_t dil, int64_t pl, int64_t pr)
{
    int64_t span = in + pl + pr - ((k - 1) * dil + 1);
    return span < 0 || s < 1 ? -1 : span / s + 1;
}

static int spatial_ok(const struct plan_op *o, const struct cuda_dims *x, const struct cuda_dims *y)
{
    for (int d = 0; d < 2; d++) {
        int64_t out = window_out(x->d[2 + d], o->kernel[d], o->stride[d], o->dilation[d], o->pad_l[d], o->pad_r[d]);
        if (o->kernel[d] < 1 || o->dilation[d] < 1 || o->pad_l[d] < 0 || o->pad_r[d] < 0 || out != y->d[2 + d])
            return 0;
    }
    return 1;
}

static int conv_shapes_ok(struct build *c, const struct cuda_dims *x, const struct cuda_dims *w,
                          const struct cuda_dims *y)
{
    const struct plan_op *o = c->o;
    if (o->n_in != 3 || x->nd != 4 || w->nd != 4 || y->nd != 4 || !is_act(c, o->in[0]) || is_act(c, o->in[1]) ||
        is_act(c, o->in[2]) || o->group < 1 || o->act > ACT_SIGMOID)
        return 0;
    if (x->d[1] % o->group || w->d[0] % o->group || w->d[1] * o->group != x->d[1] || y->d[0] != x->d[0] ||
        y->d[1] != w->d[0] || o->kernel[0] != w->d[2] || o->kernel[1] != w->d[3])
        return 0;
    return plan_tensor_elems(c->p, o->in[2], 1) == (uint64_t)w->d[0] && spatial_ok(o, x, y);
}

/* Asymmetric pads (cuDNN takes one pad per axis): zero-pad into the temp, convolve unpadded. */
static int32_t conv_input(struct build *c, const struct cuda_dims *x, struct cuda_dims *xd, int64_t *pads)
{
    const struct plan_op *o = c->o;
    *xd = *x;
    if (o->pad_l[0] == o->pad_r[0] && o->pad_l[1] == o->pad_r[1]) {
        pads[0] = o->pad_l[0];
        pads[1] = o->pad_l[1];
        return o->in[0];
    }
    struct cuda_step *s = add_step(c, CSTEP_PAD, o->in[0], -1);
    s->y = CUDA_TEMP;
    s->yd = *x;
    for (int d = 0; d < 2; d++) {
        s->yd.d[2 + d] += o->pad_l[d] + o->pad_r[d];
        s->pad_l[d] = o->pad_l[d];
        s->pad_r[d] = o->pad_r[d];
        pads[d] = 0;
    }
    uint64_t bytes = (uint64_t)cuda_dims_elems(&s->yd) * 4;
    c->cb->temp_size = bytes > c->cb->temp_size ? bytes : c->cb->temp_size;
    *xd = s->yd;
    return CUDA_TEMP;
}

static int build_conv(struct build *c)
{
    const struct plan_op *o = c->o;
    struct cuda_dims x, w, y, xd;
    dims_of(c->p, o->in[0], c->b, &x);
    dims_of(c->p, o->in[1], c->b, &w);
    dims_of(c->p, o->out, c->b, &y);
    if (!conv_shapes_ok(c, &x, &w, &y))
        return bad(c, "convolution shapes, kernel, strides, dilations, pads or group inconsistent");
    int64_t pads[2];
    int32_t in = conv_input(c, &x, &xd, pads);
    struct cuda_step *s = add_step(c, CSTEP_CONV, -1, o->out);
    s->x = in;
    s->xd = xd;
    s->w = o->in[1];
    s->wd = w;
    for (int d = 0; d < 2; d++) {
        s->kernel[d] = o->kernel[d];
        s->stride[d] = o->stride[d];
        s->dilation[d] = o->dilation[d];
        s->pad_l[d] = s->pad_r[d] = pads[d];
    }
    s->group = o->group;
    s->conv = (int32_t)c->cb->n_convs++;
    struct cuda_step *ba = add_step(c, CSTEP_BIAS_ACT, o->out, o->out);
    ba->w = o->in[2];
    ba->act = o->act;
    ba->lo = o->act_min;
    ba->hi = o->act_max;
    ba->n = y.d[0];
    ba->k = y.d[1];
    ba->m = y.d[2] * y.d[3];
    return 0;
}

/* ---- pooling, GEMM ---- */

static int build_pool(struct build *c)
{
    const struct plan_op *o = c->o;
    struct cuda_step *s = add_step(c, CSTEP_POOL, o->in[0], o->out);
    if (s->xd.nd != 4 || s->yd.nd != 4 || !is_act(c, o->in[0]) || s->yd.d[0] != s->xd.d[0] ||
        s->yd.d[1] != s->xd.d[1] || !spatial_ok(o, &s->xd, &s->yd))
        return bad(c, "pooling shapes, kernel, strides, dilations or pads inconsistent");
    for (int d = 0; d < 2; d++) {
        s->kernel[d] = o->kernel[d];
        s->stride[d] = o->stride[d];
        s->dilation[d] = o->dilation[d];
        s->pad_l[d] = o->pad_l[d];
        s->pad_r[d] = o->pad_r[d];
    }
    s->pool_max = o->type == OP_MAXPOOL;
    s->include_pad = o->flag != 0;
    return 0;
}

/* Element strides of `in` aligned right to `out`, 0 along broadcast dimensions; 0 if `in`
 * does not broadcast to `out`. */
static int broadcast_strides(const struct cuda_dims *in, const struct cuda_dims *out, int64_t *st)
{
    if (in->nd > out->nd)
        return 0;
    int64_t acc = 1;
    for (int i = (int)out->nd - 1; i >= 0; i--) {
        int j = i - (int)(out->nd - in->nd);
        int64_t dim = j >= 0 ? in->d[j] : 1;
        if (dim != 1 && dim != out->d[i])
            return 0;
        st[i] = dim == 1 ? 0 : acc;
        acc *= dim;
    }
    return 1;
}

static int add_binary(struct build *c, int32_t x, int32_t w, int32_t y, int mul)
{
    struct cuda_step *s = add_step(c, CSTEP_BINARY, x, y);
    s->w = w;
    dims_of(c->p, w, c->b, &s->wd);
    s->mul = (uint32_t)mul;
    if (!broadcast_strides(&s->xd, &s->yd, s->sx) || !broadcast_strides(&s->wd, &s->yd, s->sw))
        return bad(c, "operands do not broadcast to the output shape");
    return 0;
}

static int build_gemm(struct build *c)
{
    const struct plan_op *o = c->o;
    if (o->n_in != 3 || !is_act(c, o->in[0]) || is_act(c, o->in[1]) || is_act(c, o->in[2]))
        return bad(c, "GEMM needs an activation, a weight matrix and a bias");
    struct cuda_step *s = add_step(c, CSTEP_GEMM, o->in[0], o->out);
    s->w = o->in[1];
    dims_of(c->p, o->in[1], c->b, &s->wd);
    s->k = s->wd.d[0];
    s->n = s->wd.nd == 2 ? s->wd.d[1] : 0;
    s->m = s->k > 0 ? cuda_dims_elems(&s->xd) / s->k : 0;
    if (s->wd.nd != 2 || s->xd.d[s->xd.nd - 1] != s->k || s->m * s->n != cuda_dims_elems(&s->yd) || s->m > INT32_MAX ||
        s->n > INT32_MAX || s->k > INT32_MAX)
        return bad(c, "matrix shapes inconsistent");
    struct cuda_step *bias = add_step(c, CSTEP_BINARY, o->out, o->out); /* y += c, broadcast over [m, n] */
    int64_t m = s->m, n = s->n;
    bias->xd = bias->yd = (struct cuda_dims){2, {m, n}};
    bias->w = o->in[2];
    dims_of(c->p, o->in[2], c->b, &bias->wd);
    if (bias->wd.nd != 2 || !broadcast_strides(&bias->xd, &bias->yd, bias->sx) ||
        !broadcast_strides(&bias->wd, &bias->yd, bias->sw))
        return bad(c, "GEMM bias does not broadcast to the output");
    return 0;
}

/* ---- the ops our small kernels run ---- */

static int build_concat(struct build *c)
{
    const struct plan_op *o = c->o;
    struct cuda_dims y;
    dims_of(c->p, o->out, c->b, &y);
    if (o->axis < 0 || o->axis >= y.nd || (o->axis == 0 && c->b > 1))
        return bad(c, "concat axis out of range (axis 0 only at batch 1)");
    int64_t off = 0, inner = 1;
    for (uint32_t d = (uint32_t)o->axis + 1; d < y.nd; d++)
        inner *= y.d[d];
    for (uint32_t k = 0; k < o->n_in; k++) {
        struct cuda_step *s = add_step(c, CSTEP_CONCAT_PART, o->in[k], o->out);
        int ok = s->xd.nd == y.nd && (is_act(c, o->in[k]) || c->b == 1);
        for (uint32_t d = 0; ok && d < y.nd; d++)
            ok = d == o->axis || s->xd.d[d] == y.d[d];
        if (!ok)
            return bad(c, "concat inputs differ from the output outside the axis");
        s->outer = cuda_dims_elems(&y) / (y.d[o->axis] * inner);
        s->len = s->xd.d[o->axis] * inner;
        s->inner = y.d[o->axis] * inner;
        s->offset = off * inner;
        off += s->xd.d[o->axis];
    }
    return off == y.d[o->axis] ? 0 : bad(c, "concat inputs do not add up to the output");
}

static int build_softmax(struct build *c)
{
    const struct plan_op *o = c->o;
    struct cuda_step *s = add_step(c, CSTEP_SOFTMAX, o->in[0], o->out);
    if (s->xd.nd != s->yd.nd || cuda_dims_elems(&s->xd) != cuda_dims_elems(&s->yd) || o->axis < 0 ||
        o->axis >= s->xd.nd)
        return bad(c, "softmax shapes or axis inconsistent");
    s->outer = s->len = s->inner = 1;
    for (uint32_t i = 0; i < s->xd.nd; i++) {
        if (i < o->axis)
            s->outer *= s->xd.d[i];
        else if (i == o->axis || o->flag) /* legacy: everything from the axis on is one row */
            s->len *= s->xd.d[i];
        else
            s->inner *= s->xd.d[i];
    }
    return 0;
}

static int build_affine(struct build *c)
{
    const struct plan_op *o = c->o;
    struct cuda_step *s = add_step(c, CSTEP_AFFINE, o->in[0], o->out);
    if (o->n_in != 3 || !is_act(c, o->in[0]) || s->xd.nd < 2 || cuda_dims_elems(&s->xd) != cuda_dims_elems(&s->yd) ||
        plan_tensor_elems(c->p, o->in[1], 1) != (uint64_t)s->xd.d[1] ||
        plan_tensor_elems(c->p, o->in[2], 1) != (uint64_t)s->xd.d[1])
        return bad(c, "channel affine shapes inconsistent");
    s->w = o->in[1];
    s->b = o->in[2];
    s->n = s->xd.d[0];
    s->k = s->xd.d[1];
    s->m = cuda_dims_elems(&s->xd) / (s->n * s->k);
    return 0;
}

static int build_elementwise(struct build *c)
{
    const struct plan_op *o = c->o;
    struct cuda_step *s = add_step(c, o->type == OP_COPY ? CSTEP_COPY : CSTEP_ACT, o->in[0], o->out);
    if (!is_act(c, o->in[0]) || cuda_dims_elems(&s->xd) != cuda_dims_elems(&s->yd) || o->act > ACT_SIGMOID)
        return bad(c, "input and output sizes differ");
    s->act = o->act;
    s->lo = o->act_min;
    s->hi = o->act_max;
    s->bytes = (uint64_t)cuda_dims_elems(&s->yd) * 4;
    return 0;
}

static int build_op(struct build *c)
{
    switch (c->o->type) {
    case OP_CONV: return build_conv(c);
    case OP_MAXPOOL:
    case OP_AVGPOOL: return build_pool(c);
    case OP_GEMM: return build_gemm(c);
    case OP_ADD:
    case OP_MUL:
        return c->o->n_in == 2 ? add_binary(c, c->o->in[0], c->o->in[1], c->o->out, c->o->type == OP_MUL)
                               : bad(c, "Add/Mul needs two operands");
    case OP_CONCAT: return build_concat(c);
    case OP_COPY:
    case OP_ACT: return build_elementwise(c);
    case OP_SOFTMAX: return build_softmax(c);
    case OP_CHANNEL_AFFINE: return build_affine(c);
    default: return bad(c, "unsupported op type");
    }
}

/* ---- layouts ---- */

static int build_batch(struct cuda_plan *cp, unsigned i, char *err, size_t errlen)
{
    const struct plan *p = &cp->plan;
    struct cuda_batch *cb = &cp->batch[i];
    uint64_t *size = calloc(p->n_tensors + 1, sizeof *size);
    cb->steps = calloc((size_t)p->n_ops * MAX_STEPS_PER_OP + 1, sizeof *cb->steps);
    cb->act_off = calloc(p->n_tensors + 1, sizeof *cb->act_off);
    if (!size || !cb->steps || !cb->act_off) {
        free(size);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    int rc = 0;
    for (uint32_t k = 0; rc == 0 && k < p->n_ops; k++) {
        struct build c = {p, cb, &p->ops[k], k, cb->b, err, errlen};
        rc = build_op(&c);
    }
    for (uint32_t t = 0; t < p->n_tensors; t++)
        size[t] = p->tensors[t].kind == PLAN_ACT ? plan_tensor_elems(p, (int32_t)t, cb->b) * 4 : 0;
    uint64_t acts = 0;
    if (rc == 0 && act_arena_plan(p, size, CUDA_ALIGN, cb->act_off, &acts) != 0)
        rc = (snprintf(err, errlen, "out of memory"), -1);
    free(size);
    cb->temp_off = acts;
    cb->ws_off = cb->temp_off + ALIGN_UP(cb->temp_size);
    return rc;
}

static int layout_weights(struct cuda_plan *cp, char *err, size_t errlen)
{
    const struct plan *p = &cp->plan;
    uint64_t *size = calloc(p->n_tensors + 1, sizeof *size);
    uint32_t big = 0;
    cp->slot = calloc(p->n_tensors + 1, sizeof *cp->slot);
    if (!size || !cp->slot) {
        free(size);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    for (uint32_t t = 0; t < p->n_tensors; t++)
        size[t] = p->tensors[t].kind == PLAN_WEIGHT ? plan_tensor_elems(p, (int32_t)t, 1) * 4 : 0;
    int rc = weights_pages_pack(size, p->n_tensors, cp->page_size, CUDA_ALIGN, cp->slot, &cp->pages, &big);
    if (rc != 0)
        snprintf(err, errlen, "weight '%s' needs %llu bytes, more than a page (%llu)", p->tensors[big].name,
                 (unsigned long long)size[big], (unsigned long long)cp->page_size);
    cp->page_used = rc == 0 ? calloc(cp->pages.n_pages, sizeof *cp->page_used) : NULL;
    cp->page_image_off = rc == 0 ? calloc(cp->pages.n_pages, sizeof *cp->page_image_off) : NULL;
    if (rc == 0 && (!cp->page_used || !cp->page_image_off))
        rc = (snprintf(err, errlen, "out of memory"), -1);
    for (uint32_t t = 0; rc == 0 && t < p->n_tensors; t++)
        if (size[t] && cp->slot[t].offset + size[t] > cp->page_used[cp->slot[t].page])
            cp->page_used[cp->slot[t].page] = cp->slot[t].offset + size[t];
    for (unsigned i = 0; rc == 0 && i < cp->pages.n_pages; i++) {
        cp->page_image_off[i] = cp->image_size;
        cp->image_size += cp->page_used[i];
    }
    free(size);
    return rc;
}

int cuda_plan_build(struct cuda_plan *cp, struct plan *p, const unsigned *batch_sizes, unsigned n_batches,
                    uint64_t page_size, char *err, size_t errlen)
{
    memset(cp, 0, sizeof *cp);
    cp->plan = *p;
    memset(p, 0, sizeof *p);
    cp->page_size = page_size;
    cp->n_batches = n_batches > CUDA_MAX_BATCHES ? CUDA_MAX_BATCHES : n_batches;
    int rc = 0;
    if (cp->plan.n_inputs != 1 || cp->plan.n_outputs != 1 || page_size == 0 || n_batches == 0)
        rc = (snprintf(err, errlen, "the plan has %u inputs and %u outputs (1 and 1 needed)", cp->plan.n_inputs,
                       cp->plan.n_outputs),
              -1);
    if (rc == 0)
        rc = plan_validate(&cp->plan, err, errlen);
    for (unsigned i = 0; rc == 0 && i < cp->n_batches; i++) {
        cp->batch[i].b = batch_sizes[i];
        rc = batch_sizes[i] > 0 ? build_batch(cp, i, err, errlen) : (snprintf(err, errlen, "batch size 0"), -1);
    }
    if (rc == 0)
        rc = layout_weights(cp, err, errlen);
    if (rc != 0)
        cuda_plan_free(cp);
    return rc;
}

void cuda_plan_free(struct cuda_plan *cp)
{
    for (unsigned i = 0; i < CUDA_MAX_BATCHES; i++) {
        free(cp->batch[i].steps);
        free(cp->batch[i].act_off);
    }
    free(cp->slot);
    free(cp->page_used);
    free(cp->page_image_off);
    plan_free(&cp->plan);
    memset(cp, 0, sizeof *cp);
}

void cuda_plan_fill_image(const struct cuda_plan *cp, uint8_t *image)
{
    const struct plan *p = &cp->plan;
    memset(image, 0, cp->image_size);
    for (uint32_t t = 0; t < p->n_tensors; t++) {
        if (p->tensors[t].kind != PLAN_WEIGHT)
            continue;
        const struct weights_slot *s = &cp->slot[t];
        memcpy(image + cp->page_image_off[s->page] + s->offset, (const uint8_t *)p->weights + p->tensors[t].offset,
               plan_tensor_elems(p, (int32_t)t, 1) * 4);
    }
}

uint64_t cuda_plan_arena_size(const struct cuda_plan *cp, unsigned i)
{
    return ALIGN_UP(cp->batch[i].ws_off + cp->batch[i].ws_size);
}

uint64_t cuda_plan_input_bytes(const struct cuda_plan *cp)
{
    return plan_tensor_elems(&cp->plan, cp->plan.inputs[0], 1) * 4;
}

uint64_t cuda_plan_output_bytes(const struct cuda_plan *cp)
{
    return plan_tensor_elems(&cp->plan, cp->plan.outputs[0], 1) * 4;
}
