#include "onnx_import.h"
#include "onnx.pb-c.h"
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A constant (initializer, Constant node or bound test input), float or int64. */
struct konst {
    const char *name;
    unsigned ndim;
    int64_t dims[PLAN_MAX_DIMS];
    uint64_t n;
    float *f;
    int64_t *i;
};

struct imp {
    struct plan p;
    uint32_t t_cap, o_cap;
    char **names; /* full name of each plan tensor */
    uint8_t *w;   /* weights blob */
    uint64_t w_cap;
    struct konst *k;
    size_t nk, k_cap;
    const Onnx__GraphProto *g;
    const Onnx__NodeProto *node; /* being imported, for messages */
    int64_t opset;
    char *err;
    size_t errlen;
};

static int fail(struct imp *m, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m->node)
        snprintf(m->err, m->errlen, "node '%s' (%s): %s", m->node->name ? m->node->name : "",
                 m->node->op_type ? m->node->op_type : "?", msg);
    else
        snprintf(m->err, m->errlen, "%s", msg);
    return -1;
}

static void *grow(void *p, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap)
        return p;
    uint32_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(p, (size_t)n * size);
    if (q)
        *cap = n;
    return q;
}

/* ---- tensors ---- */

static int new_tensor(struct imp *m, const char *name, uint32_t kind, unsigned ndim, const int64_t *dims)
{
    uint32_t cap = m->t_cap;
    struct plan_tensor *t = grow(m->p.tensors, &cap, m->p.n_tensors + 1, sizeof *t);
    if (!t)
        return fail(m, "out of memory");
    m->p.tensors = t;
    uint32_t cap2 = m->t_cap;
    char **names = grow(m->names, &cap2, m->p.n_tensors + 1, sizeof *names);
    if (!names)
        return fail(m, "out of memory");
    m->names = names;
    m->t_cap = cap;
    if (ndim < 1 || ndim > PLAN_MAX_DIMS)
        return fail(m, "tensor '%s' has rank %u (1..%d supported)", name, ndim, PLAN_MAX_DIMS);
    int id = (int)m->p.n_tensors;
    struct plan_tensor *x = &t[id];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->kind = kind;
    x->ndim = ndim;
    for (unsigned i = 0; i < ndim; i++) {
        if (dims[i] < 1)
            return fail(m, "tensor '%s' has a zero or negative dimension", name);
        x->dims[i] = dims[i];
    }
    names[id] = strdup(name);
    if (!names[id])
        return fail(m, "out of memory");
    m->p.n_tensors++;
    return id;
}

static int find_act(const struct imp *m, const char *name)
{
    for (uint32_t i = m->p.n_tensors; i-- > 0;)
        if (m->p.tensors[i].kind == PLAN_ACT && strcmp(m->names[i], name) == 0)
            return (int)i;
    return -1;
}

static struct konst *find_const(struct imp *m, const char *name)
{
    for (size_t i = 0; i < m->nk; i++)
        if (strcmp(m->k[i].name, name) == 0)
            return &m->k[i];
    return NULL;
}

static float *wdata(struct imp *m, int id) { return (float *)(m->w + m->p.tensors[id].offset); }

/* Copies n floats (or zeros when src is NULL) into a new weight tensor. */
static int add_weight(struct imp *m, const char *name, unsigned ndim, const int64_t *dims, const float *src)
{
    int id = new_tensor(m, name, PLAN_WEIGHT, ndim, dims);
    if (id < 0)
        return -1;
    uint64_t n = plan_tensor_elems(&m->p, id, 1), off = (m->p.weights_size + 63) / 64 * 64;
    if (off + n * 4 > m->w_cap) {
        uint64_t cap = m->w_cap ? m->w_cap : 1 << 20;
        while (cap < off + n * 4)
            cap *= 2;
        uint8_t *w = realloc(m->w, cap);
        if (!w)
            return fail(m, "out of memory");
        m->w = w;
        m->w_cap = cap;
    }
    memset(m->w + m->p.weights_size, 0, off - m->p.weights_size);
    m->p.tensors[id].offset = off;
    if (src)
        memcpy(m->w + off, src, n * 4);
    else
        memset(m->w + off, 0, n * 4);
    m->p.weights_size = off + n * 4;
    return id;
}

/* An op input: an activation, or a float constant copied in as a weight. */
static int operand(struct imp *m, const char *name)
{
    int id = find_act(m, name);
    if (id >= 0)
        return id;
    struct konst *k = find_const(m, name);
    if (!k)
        return fail(m, "input '%s' is not defined before this node", name);
    if (!k->f)
        return fail(m, "input '%s' is not a float32 tensor", name);
    int64_t one = 1;
    return k->ndim ? add_weight(m, name, k->ndim, k->dims, k->f) : add_weight(m, name, 1, &one, k->f);
}

/* ---- constants ---- */

static int decode_tensor(const Onnx__TensorProto *t, struct konst *k, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    k->name = t->name ? t->name : "";
    if (t->n_dims > PLAN_MAX_DIMS) {
        snprintf(err, errlen, "tensor '%s': rank %zu not supported", k->name, t->n_dims);
        return -1;
    }
    k->n = 1;
    k->ndim = (unsigned)t->n_dims;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || t->dims[i] > (1 << 28) ||
            (t->dims[i] && k->n > (UINT64_C(1) << 32) / (uint64_t)t->dims[i])) {
            snprintf(err, errlen, "tensor '%s': bad dimension", k->name);
            return -1;
        }
        k->dims[i] = t->dims[i];
        k->n *= (uint64_t)t->dims[i];
    }
    int is_f = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    int is_i = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    if (!is_f && !is_i) {
        snprintf(err, errlen, "tensor '%s': data type %d not supported (float32 and int64 only)", k->name,
                 t->data_type);
        return -1;
    }
    if (t->n_external_data) {
        snprintf(err, errlen, "tensor '%s': external data not supported", k->name);
        return -1;
    }
    size_t esz = is_f ? 4 : 8,
           have = t->has_raw_data ? t->raw_data.len / esz : (is_f ? t->n_float_data : t->n_int64_data);
    if (have != k->n || (t->has_raw_data && t->raw_data.len != k->n * esz)) {
        snprintf(err, errlen, "tensor '%s': %zu values for %llu elements", k->name, have, (unsigned long long)k->n);
        return -1;
    }
    void *dst = malloc(k->n * esz + 1);
    if (!dst) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(dst,
           t->has_raw_data ? (const void *)t->raw_data.data
           : is_f          ? (const void *)t->float_data
                           : (const void *)t->int64_data,
           k->n * esz);
    if (is_f)
        k->f = dst;
    else
        k->i = dst;
    return 0;
}

static int add_const(struct imp *m, const Onnx__TensorProto *t, const char *name)
{
    uint32_t cap = (uint32_t)m->k_cap;
    struct konst *k = grow(m->k, &cap, (uint32_t)m->nk + 1, sizeof *k);
    if (!k)
        return fail(m, "out of memory");
    m->k = k;
    m->k_cap = cap;
    char msg[300];
    if (decode_tensor(t, &k[m->nk], msg, sizeof msg) != 0)
        return fail(m, "%s", msg);
    k[m->nk].name = name;
    m->nk++;
    return 0;
}

/* ---- attributes ---- */

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0)
            return n->attribute[i];
    return NULL;
}

static int64_t attr_i(const Onnx__NodeProto *n, const char *name, int64_t def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_i ? a->i : def;
}

static float attr_f(const Onnx__NodeProto *n, const char *name, float def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_f ? a->f : def;
}

/* Copies exactly `want` ints of attribute `name` into out (def when absent). */
static int attr_ints(struct imp *m, const char *name, size_t want, int64_t *out, int64_t def)
{
    const Onnx__AttributeProto *a = attr(m->node, name);
    for (size_t i = 0; i < want; i++)
        out[i] = def;
    if (!a)
        return 0;
    if (a->n_ints != want)
        return fail(m, "attribute '%s' has %zu values, expected %zu (only 2-D spatial ops are supported)", name,
                    a->n_ints, want);
    memcpy(out, a->ints, want * sizeof *out);
    return 0;
}

static int attr_is(const Onnx__NodeProto *n, const char *name, const char *value)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_s && a->s.len == strlen(value) && memcmp(a->s.data, value, a->s.len) == 0;
}

/* Uses of `name` as a node input or graph output. */
static int uses(const struct imp *m, const char *name)
{
    int n = 0;
    for (size_t i = 0; i < m->g->n_node; i++)
        for (size_t j = 0; j < m->g->node[i]->n_input; j++)
            n += strcmp(m->g->node[i]->input[j], name) == 0;
    for (size_t i = 0; i < m->g->n_output; i++)
        n += strcmp(m->g->output[i]->name, name) == 0;
    return n;
}

static const char *in_name(const Onnx__NodeProto *n, size_t i)
{
    return i < n->n_input && n->input[i][0] ? n->input[i] : NULL;
}

/* ---- ops ---- */

static struct plan_op *new_op(struct imp *m, uint32_t type)
{
    uint32_t cap = m->o_cap;
    struct plan_op *o = grow(m->p.ops, &cap, m->p.n_ops + 1, sizeof *o);
    if (!o) {
        fail(m, "out of memory");
        return NULL;
    }
    m->p.ops = o;
    m->o_cap = cap;
    struct plan_op *op = &o[m->p.n_ops++];
    memset(op, 0, sizeof *op);
    snprintf(op->name, sizeof op->name, "%s", m->node->name ? m->node->name : "");
    op->type = type;
    op->out = -1;
    op->act_min = -FLT_MAX;
    op->act_max = FLT_MAX;
    return op;
}

/* Adds the op's output activation (node output 0); the op pointer may move, so by index. */
static int set_output(struct imp *m, uint32_t op_index, unsigned ndim, const int64_t *dims)
{
    if (m->node->n_output < 1 || !m->node->output[0][0])
        return fail(m, "node has no output");
    int id = new_tensor(m, m->node->output[0], PLAN_ACT, ndim, dims);
    if (id < 0)
        return -1;
    m->p.ops[op_index].out = id;
    return 0;
}

static const struct plan_tensor *T(const struct imp *m, int id) { return &m->p.tensors[id]; }

/* Resolves pads (auto_pad or explicit) for 2-D spatial ops; fills op->pad_l/pad_r. */
static int spatial_pads(struct imp *m, struct plan_op *op, const int64_t *in_hw)
{
    int64_t pads[4];
    if (attr_ints(m, "pads", 4, pads, 0) != 0)
        return -1;
    int same_upper = attr_is(m->node, "auto_pad", "SAME_UPPER"),
        same_lower = attr_is(m->node, "auto_pad", "SAME_LOWER");
    for (int d = 0; d < 2; d++) {
        op->pad_l[d] = pads[d];
        op->pad_r[d] = pads[d + 2];
        if (same_upper || same_lower) {
            int64_t out = (in_hw[d] + op->stride[d] - 1) / op->stride[d];
            int64_t ek = (op->kernel[d] - 1) * op->dilation[d] + 1;
            int64_t total = (out - 1) * op->stride[d] + ek - in_hw[d];
            total = total < 0 ? 0 : total;
            op->pad_l[d] = same_upper ? total / 2 : total - total / 2;
            op->pad_r[d] = total - op->pad_l[d];
        } else if (attr_is(m->node, "auto_pad", "VALID")) {
            op->pad_l[d] = op->pad_r[d] = 0;
        }
        if (op->pad_l[d] < 0 || op->pad_r[d] < 0 || op->stride[d] < 1 || op->dilation[d] < 1 || op->kernel[d] < 1)
            return fail(m, "bad kernel, stride, dilation or pads");
    }
    return 0;
}

static int spatial_out(struct imp *m, const struct plan_op *op, const int64_t *in_hw, int ceil_mode, int64_t *out)
{
    for (int d = 0; d < 2; d++) {
        int64_t ek = (op->kernel[d] - 1) * op->dilation[d] + 1, span = in_hw[d] + op->pad_l[d] + op->pad_r[d] - ek;
        if (span < 0)
            return fail(m, "kernel larger than the padded input");
        out[d] = (ceil_mode ? (span + op->stride[d] - 1) / op->stride[d] : span / op->stride[d]) + 1;
    }
    return 0;
}

static int need_4d(struct imp *m, int x)
{
    return T(m, x)->ndim == 4 ? 0 : fail(m, "input must be 4-D (N,C,H,W); got rank %u", T(m, x)->ndim);
}

static int import_conv(struct imp *m)
{
    const char *wn = in_name(m->node, 1);
    struct konst *wk = wn ? find_const(m, wn) : NULL;
    int x = in_name(m->node, 0) ? operand(m, in_name(m->node, 0)) : fail(m, "missing input");
    if (x < 0 || need_4d(m, x) < 0)
        return -1;
    if (!wk || !wk->f || wk->ndim != 4)
        return fail(m, "weights must be a 4-D float constant (2-D convolution)");
    const struct plan_tensor *xt = T(m, x);
    int64_t group = attr_i(m->node, "group", 1);
    if (group < 1 || xt->dims[1] % group || wk->dims[0] % group || wk->dims[1] * group != xt->dims[1])
        return fail(m, "channels (%lld) do not match weights and group %lld", (long long)xt->dims[1], (long long)group);
    uint32_t idx = m->p.n_ops;
    struct plan_op *op = new_op(m, OP_CONV);
    if (!op)
        return -1;
    op->group = group;
    int64_t ks[2];
    if (attr_ints(m, "kernel_shape", 2, ks, 0) || attr_ints(m, "strides", 2, op->stride, 1) ||
        attr_ints(m, "dilations", 2, op->dilation, 1))
        return -1;
    op->kernel[0] = wk->dims[2];
    op->kernel[1] = wk->dims[3];
    if ((ks[0] && ks[0] != wk->dims[2]) || (ks[1] && ks[1] != wk->dims[3]))
        return fail(m, "kernel_shape does not match the weights");
    int64_t hw[2] = {xt->dims[2], xt->dims[3]}, out[4] = {xt->dims[0], wk->dims[0]};
    if (spatial_pads(m, op, hw) || spatial_out(m, op, hw, 0, out + 2))
        return -1;
    int w = add_weight(m, wn, 4, wk->dims, wk->f);
    const char *bn = in_name(m->node, 2);
    struct konst *bk = bn ? find_const(m, bn) : NULL;
    if (bn && (!bk || !bk->f || bk->n != (uint64_t)wk->dims[0]))
        return fail(m, "bias must be a float constant of %lld values", (long long)wk->dims[0]);
    int b = w < 0 ? -1 : add_weight(m, bn ? bn : "bias", 1, wk->dims, bk ? bk->f : NULL);
    if (b < 0)
        return -1;
    op = &m->p.ops[idx];
    op->n_in = 3;
    op->in[0] = x;
    op->in[1] = w;
    op->in[2] = b;
    return set_output(m, idx, 4, out);
}

static int import_pool(struct imp *m, uint32_t type, int global)
{
    int x = in_name(m->node, 0) ? operand(m, in_name(m->node, 0)) : fail(m, "missing input");
    if (x < 0 || need_4d(m, x) < 0)
        return -1;
    if (m->node->n_output > 1 && m->node->output[1][0])
        return fail(m, "the Indices output is not supported");
    const struct plan_tensor *xt = T(m, x);
    int64_t hw[2] = {xt->dims[2], xt->dims[3]}, out[4] = {xt->dims[0], xt->dims[1], 1, 1};
    uint32_t idx = m->p.n_ops;
    struct plan_op *op = new_op(m, type);
    if (!op)
        return -1;
    op->n_in = 1;
    op->in[0] = x;
    if (global) {
        op->kernel[0] = hw[0];
        op->kernel[1] = hw[1];
        op->stride[0] = op->stride[1] = op->dilation[0] = op->dilation[1] = 1;
        return set_output(m, idx, 4, out);
    }
    if (attr_ints(m, "kernel_shape", 2, op->kernel, 0) || attr_ints(m, "strides", 2, op->stride, 1) ||
        attr_ints(m, "dilations", 2, op->dilation, 1) || spatial_pads(m, op, hw))
        return -1;
    op->flag = (uint32_t)attr_i(m->node, "count_include_pad", 0);
    int ceil_mode = (int)attr_i(m->node, "ceil_mode", 0);
    if (spatial_out(m, op, hw, ceil_mode, out + 2))
        return -1;
    for (int d = 0; d < 2 && ceil_mode; d++) /* extra right padding realises ceil_mode */
        op->pad_r[d] =
            (out[2 + d] - 1) * op->stride[d] + (op->kernel[d] - 1) * op->dilation[d] + 1 - hw[d] - op->pad_l[d];
    return set_output(m, idx, 4, out);
}

/* If the node's input is the output of the last op, a convolution with no activation used
 * only here, returns that op (to fold into). */
static struct plan_op *foldable_conv(struct imp *m)
{
    const char *x = in_name(m->node, 0);
    if (!x || m->p.n_ops == 0)
        return NULL;
    struct plan_op *last = &m->p.ops[m->p.n_ops - 1];
    int id = find_act(m, x);
    if (id < 0 || last->type != OP_CONV || last->out != id || last->act != ACT_NONE || uses(m, x) != 1)
        return NULL;
    return last;
}

/* The folded op now produces this node's output: rename its tensor. */
static int rename_output(struct imp *m, struct plan_op *op)
{
    if (m->node->n_output < 1 || !m->node->output[0][0])
        return fail(m, "node has no output");
    char *n = strdup(m->node->output[0]);
    if (!n)
        return fail(m, "out of memory");
    free(m->names[op->out]);
    m->names[op->out] = n;
    snprintf(m->p.tensors[op->out].name, PLAN_NAME_LEN, "%s", n);
    return 0;
}

static int bn_params(struct imp *m, int64_t c, float *scale, float *shift)
{
    struct konst *k[4];
    for (int i = 0; i < 4; i++) {
        const char *n = in_name(m->node, (size_t)i + 1);
        k[i] = n ? find_const(m, n) : NULL;
        if (!k[i] || !k[i]->f || k[i]->n != (uint64_t)c)
            return fail(m, "scale, B, mean and var must be float constants of %lld values", (long long)c);
    }
    float eps = attr_f(m->node, "epsilon", 1e-5f);
    for (int64_t i = 0; i < c; i++) {
        scale[i] = k[0]->f[i] / sqrtf(k[3]->f[i] + eps);
        shift[i] = k[1]->f[i] - k[2]->f[i] * scale[i];
    }
    return 0;
}

static int import_bn(struct imp *m)
{
    if (m->node->n_output > 1 || attr_i(m->node, "training_mode", 0))
        return fail(m, "training mode (extra outputs) is not supported");
    struct plan_op *conv = foldable_conv(m);
    int x = conv ? conv->out : in_name(m->node, 0) ? operand(m, in_name(m->node, 0)) : fail(m, "missing input");
    if (x < 0)
        return -1;
    if (T(m, x)->ndim < 2)
        return fail(m, "input must have a channel dimension");
    int64_t c = T(m, x)->dims[1];
    float *buf = malloc((size_t)c * 2 * sizeof *buf + 1);
    if (!buf)
        return fail(m, "out of memory");
    int rc = bn_params(m, c, buf, buf + c);
    if (rc == 0 && conv) { /* w' = w * scale[o], b' = b * scale + shift */
        float *w = wdata(m, conv->in[1]), *b = wdata(m, conv->in[2]);
        uint64_t per = plan_tensor_elems(&m->p, conv->in[1], 1) / (uint64_t)c;
        for (int64_t o = 0; o < c; o++) {
            for (uint64_t i = 0; i < per; i++)
                w[(uint64_t)o * per + i] *= buf[o];
            b[o] = b[o] * buf[o] + buf[c + o];
        }
        rc = rename_output(m, conv);
    } else if (rc == 0) {
        int s = add_weight(m, "bn_scale", 1, &c, buf), t = s < 0 ? -1 : add_weight(m, "bn_shift", 1, &c, buf + c);
        uint32_t idx = m->p.n_ops;
        struct plan_op *op = t < 0 ? NULL : new_op(m, OP_CHANNEL_AFFINE);
        rc = op ? 0 : -1;
        if (op) {
            op->n_in = 3;
            op->in[0] = x;
            op->in[1] = s;
            op->in[2] = t;
            rc = set_output(m, idx, T(m, x)->ndim, T(m, x)->dims);
        }
    }
    free(buf);
    return rc;
}

static int clip_bound(struct imp *m, size_t i, float *v)
{
    const char *n = in_name(m->node, i);
    if (!n)
        return 0;
    struct konst *k = find_const(m, n);
    if (!k || !k->f || k->n != 1)
        return fail(m, "min/max must be scalar float constants");
    *v = k->f[0];
    return 0;
}

static int import_act(struct imp *m, uint32_t act)
{
    float lo = -FLT_MAX, hi = FLT_MAX;
    if (act == ACT_CLIP && m->opset < 11) {
        lo = attr_f(m->node, "min", lo);
        hi = attr_f(m->node, "max", hi);
    } else if (act == ACT_CLIP && (clip_bound(m, 1, &lo) || clip_bound(m, 2, &hi))) {
        return -1;
    }
    struct plan_op *conv = foldable_conv(m);
    if (conv) {
        conv->act = act;
        conv->act_min = lo;
        conv->act_max = hi;
        return rename_output(m, conv);
    }
    int x = in_name(m->node, 0) ? operand(m, in_name(m->node, 0)) : fail(m, "missing input");
    uint32_t idx = m->p.n_ops;
    struct plan_op *op = x < 0 ? NULL : new_op(m, OP_ACT);
    if (!op)
        return -1;
    op->n_in = 1;
    op->in[0] = x;
    op->act = act;
    op->act_min = lo;
    op->act_max = hi;
    return set_output(m, idx, T(m, x)->ndim, T(m, x)->dims);
}

static int import_binary(struct imp *m, uint32_t type)
{
    const char *an = in_name(m->node, 0), *bn = in_name(m->node, 1);
    if (!an || !bn)
        return fail(m, "needs two inputs");
    int a = operand(m, an), b = a < 0 ? -1 : operand(m, bn);
    if (b < 0)
        return -1;
    if (T(m, a)->kind == PLAN_WEIGHT && T(m, b)->kind == PLAN_WEIGHT)
        return fail(m, "both inputs are constants (constant folding is not supported)");
    const struct plan_tensor *ta = T(m, a), *tb = T(m, b);
    unsigned nd = ta->ndim > tb->ndim ? ta->ndim : tb->ndim;
    int64_t out[PLAN_MAX_DIMS];
    for (unsigned i = 0; i < nd; i++) {
        int64_t da = i + ta->ndim >= nd ? ta->dims[i + ta->ndim - nd] : 1;
        int64_t db = i + tb->ndim >= nd ? tb->dims[i + tb->ndim - nd] : 1;
        if (da != db && da != 1 && db != 1)
            return fail(m, "shapes cannot be broadcast");
        out[i] = da > db ? da : db;
    }
    uint32_t idx = m->p.n_ops;
    struct plan_op *op = new_op(m, type);
    if (!op)
        return -1;
    op->n_in = 2;
    op->in[0] = a;
    op->in[1] = b;
    return set_output(m, idx, nd, out);
}

static int import_concat(struct imp *m)
{
    if (m->node->n_input < 1 || m->node->n_input > PLAN_MAX_IN)
        return fail(m, "%zu inputs (1..%d supported)", m->node->n_input, PLAN_MAX_IN);
    int ids[PLAN_MAX_IN];
    for (size_t i = 0; i < m->node->n_input; i++)
        if ((ids[i] = operand(m, m->node->input[i])) < 0)
            return -1;
    const struct plan_tensor *t0 = T(m, ids[0]);
    int64_t axis = attr_i(m->node, "axis", 1), out[PLAN_MAX_DIMS];
    axis = axis < 0 ? axis + t0->ndim : axis;
    if (axis < 0 || axis >= t0->ndim)
        return fail(m, "axis out of range");
    memcpy(out, t0->dims, sizeof out);
    for (size_t i = 1; i < m->node->n_input; i++) {
        const struct plan_tensor *t = T(m, ids[i]);
        for (unsigned d = 0; d < t0->ndim; d++)
            if (t->ndim != t0->ndim || (d != axis && t->dims[d] != t0->dims[d]))
                return fail(m, "input shapes differ outside the axis");
        out[axis] += t->dims[axis];
    }
    uint32_t idx = m->p.n_ops;
    struct plan_op *op = new_op(m, OP_CONCAT);
    if (!op)
        return -1;
    op->n_in = (uint32_t)m->node->n_input;
    memcpy(op->in, ids, sizeof(int) * op->n_in);
    op->axis = axis;
    return set_output(m, idx, t0->ndim, out);
}

static int add_copy(struct imp *m, int x, unsigned nd, const int64_t *dims)
{
    uint64_t n = 1;
    for (unsigned i = 0; i < nd; i++)
        n *= (uint64_t)(dims[i] > 0 ? dims[i] : 0);
    if (n != plan_tensor_elems(&m->p, x, 1))
        return fail(m, "new shape has a different number of elements");
    uint32_t idx = m->p.n_ops;
    struct plan_op *op = new_op(m, OP_COPY);
    if (!op)
        return -1;
    op->n_in = 1;
    op->in[0] = x;
    return set_output(m, idx, nd, dims);
}

static int import_flatten(struct imp *m)
{
    int x = in_name(m->node, 0) ? operand(m, in_name(m->node, 0)) : fail(m, "missing input");
    if (x < 0)
        return -1;
    const struct plan_tensor *t = T(m, x);
    int64_t axis = attr_i(m->node, "axis", 1), d[2] = {1, 1};
    axis = axis < 0 ? axis + t->ndim : axis;
    if (axis < 0 || axis > t->ndim)
        return fail(m, "axis out of range");
    for (unsigned i = 0; i < t->ndim; i++)
        d[i >= axis] *= t->dims[i];
    return add_copy(m, x, 2, d);
}

static int import_reshape(struct imp *m)
{
    const char *sn = in_name(m->node, 1);
    struct konst *k = sn ? find_const(m, sn) : NULL;
    int x = in_name(m->node, 0) ? operand(m, in_name(m->node, 0)) : fail(m, "missing input");
    if (x < 0)
        return -1;
    if (!k || !k->i || k->n < 1 || k->n > PLAN_MAX_DIMS)
        return fail(m, "shape must be an int64 constant of 1..%d values", PLAN_MAX_DIMS);
    const struct plan_tensor *t = T(m, x);
    int64_t d[PLAN_MAX_DIMS], known = 1, total = (int64_t)plan_tensor_elems(&m->p, x, 1);
    int infer = -1, allowzero = (int)attr_i(m->node, "allowzero", 0);
    for (unsigned i = 0; i < k->n; i++) {
        d[i] = k->i[i];
        if (d[i] == 0 && !allowzero)
            d[i] = i < t->ndim ? t->dims[i] : 0;
        if (d[i] == -1 && infer < 0)
            infer = (int)i;
        else if (d[i] < 1)
            return fail(m, "bad shape value %lld", (long long)k->i[i]);
        else
            known *= d[i];
    }
    if (infer >= 0)
        d[infer] = known > 0 && total % known == 0 ? total / known : 0;
    return add_copy(m, x, (unsigned)k->n, d);
}

static int import_alias(struct imp *m)
{
    for (size_t i = 1; i < m->node->n_output; i++)
        if (m->node->output[i][0] && uses(m, m->node->output[i]))
            return fail(m, "the mask output is not supported");
    int x = in_name(m->node, 0) ? operand(m, in_name(m->node, 0)) : fail(m, "missing input");
    if (x < 0)
        return -1;
    return add_copy(m, x, T(m, x)->ndim, T(m, x)->dims);
}

/* B as [K,N] (transposed if transB), scaled by alpha. */
static int gemm_weights(struct imp *m, const struct konst *bk, int trans, float alpha, int64_t *kn)
{
    kn[0] = trans ? bk->dims[1] : bk->dims[0];
    kn[1] = trans ? bk->dims[0] : bk->dims[1];
    int w = add_weight(m, bk->name, 2, kn, NULL);
    if (w < 0)
        return -1;
    float *dst = wdata(m, w);
    for (int64_t r = 0; r < kn[0]; r++)
        for (int64_t c = 0; c < kn[1]; c++)
            dst[r * kn[1] + c] = alpha * (trans ? bk->f[c * kn[0] + r] : bk->f[r * kn[1] + c]);
    return w;
}

/* C broadcast to [1|M, 1|N] and scaled by beta; zeros when absent. */
static int gemm_bias(struct imp *m, int64_t rows, int64_t cols, float beta)
{
    const char *cn = in_name(m->node, 2);
    struct konst *ck = cn ? find_const(m, cn) : NULL;
    if (cn && (!ck || !ck->f || ck->ndim > 2))
        return fail(m, "C must be a float constant of rank <= 2");
    int64_t d[2] = {1, cols};
    if (ck && ck->ndim == 2) {
        d[0] = ck->dims[0];
        d[1] = ck->dims[1];
    } else if (ck && ck->ndim == 1) {
        d[1] = ck->dims[0];
    } else if (ck) {
        d[1] = 1;
    }
    if ((d[0] != 1 && d[0] != rows) || (d[1] != 1 && d[1] != cols))
        return fail(m, "C cannot be broadcast to [%lld,%lld]", (long long)rows, (long long)cols);
    int c = add_weight(m, cn ? cn : "gemm_bias", 2, d, ck ? ck->f : NULL);
    if (c >= 0 && ck && beta != 1.0f) {
        float *p = wdata(m, c);
        for (int64_t i = 0; i < d[0] * d[1]; i++)
            p[i] *= beta;
    }
    return c;
}

static int import_gemm(struct imp *m, int matmul)
{
    const char *bn = in_name(m->node, 1);
    struct konst *bk = bn ? find_const(m, bn) : NULL;
    int a = in_name(m->node, 0) ? operand(m, in_name(m->node, 0)) : fail(m, "missing input");
    if (a < 0)
        return -1;
    if (!bk || !bk->f || bk->ndim != 2)
        return fail(m, "B must be a 2-D float constant");
    if (!matmul && (attr_i(m->node, "transA", 0) || T(m, a)->ndim != 2))
        return fail(m, "A must be a 2-D activation, not transposed");
    const struct plan_tensor *ta = T(m, a);
    int64_t kn[2], rows = ta->ndim >= 2 ? ta->dims[ta->ndim - 2] : 1;
    int w = gemm_weights(m, bk, matmul ? 0 : (int)attr_i(m->node, "transB", 0),
                         matmul ? 1.0f : attr_f(m->node, "alpha", 1.0f), kn);
    if (w < 0)
        return -1;
    if (T(m, a)->dims[T(m, a)->ndim - 1] != kn[0] || T(m, a)->ndim < 2)
        return fail(m, "inner dimensions differ (A [..,%lld], B [%lld,..])",
                    (long long)T(m, a)->dims[T(m, a)->ndim - 1], (long long)kn[0]);
    int c = gemm_bias(m, matmul ? 1 : rows, kn[1], matmul ? 0.0f : attr_f(m->node, "beta", 1.0f));
    if (c < 0)
        return -1;
    int64_t out[PLAN_MAX_DIMS];
    memcpy(out, T(m, a)->dims, sizeof out);
    out[T(m, a)->ndim - 1] = kn[1];
    uint32_t idx = m->p.n_ops;
    struct plan_op *op = new_op(m, OP_GEMM);
    if (!op)
        return -1;
    op->n_in = 3;
    op->in[0] = a;
    op->in[1] = w;
    op->in[2] = c;
    return set_output(m, idx, T(m, a)->ndim, out);
}

static int import_softmax(struct imp *m)
{
    int x = in_name(m->node, 0) ? operand(m, in_name(m->node, 0)) : fail(m, "missing input");
    if (x < 0)
        return -1;
    const struct plan_tensor *t = T(m, x);
    int64_t axis = attr_i(m->node, "axis", m->opset < 13 ? 1 : -1);
    axis = axis < 0 ? axis + t->ndim : axis;
    if (axis < 0 || axis >= t->ndim)
        return fail(m, "axis out of range");
    uint32_t idx = m->p.n_ops;
    struct plan_op *op = new_op(m, OP_SOFTMAX);
    if (!op)
        return -1;
    op->n_in = 1;
    op->in[0] = x;
    op->axis = axis;
    op->flag = m->opset < 13;
    return set_output(m, idx, t->ndim, t->dims);
}

static int import_constant(struct imp *m)
{
    const Onnx__AttributeProto *a = attr(m->node, "value");
    if (!a || !a->t || m->node->n_output != 1)
        return fail(m, "only the 'value' tensor form is supported");
    return add_const(m, a->t, m->node->output[0]);
}

static int import_node(struct imp *m)
{
    const char *t = m->node->op_type ? m->node->op_type : "";
    if (m->node->domain && m->node->domain[0] && strcmp(m->node->domain, "ai.onnx") != 0)
        return fail(m, "operator domain '%s' is not supported", m->node->domain);
    if (!strcmp(t, "Conv"))
        return import_conv(m);
    if (!strcmp(t, "MaxPool"))
        return import_pool(m, OP_MAXPOOL, 0);
    if (!strcmp(t, "AveragePool"))
        return import_pool(m, OP_AVGPOOL, 0);
    if (!strcmp(t, "GlobalAveragePool"))
        return import_pool(m, OP_AVGPOOL, 1);
    if (!strcmp(t, "GlobalMaxPool"))
        return import_pool(m, OP_MAXPOOL, 1);
    if (!strcmp(t, "BatchNormalization"))
        return import_bn(m);
    if (!strcmp(t, "Relu"))
        return import_act(m, ACT_RELU);
    if (!strcmp(t, "Clip"))
        return import_act(m, ACT_CLIP);
    if (!strcmp(t, "Sigmoid"))
        return import_act(m, ACT_SIGMOID);
    if (!strcmp(t, "Add"))
        return import_binary(m, OP_ADD);
    if (!strcmp(t, "Mul"))
        return import_binary(m, OP_MUL);
    if (!strcmp(t, "Concat"))
        return import_concat(m);
    if (!strcmp(t, "Flatten"))
        return import_flatten(m);
    if (!strcmp(t, "Reshape"))
        return import_reshape(m);
    if (!strcmp(t, "Dropout") || !strcmp(t, "Identity"))
        return import_alias(m);
    if (!strcmp(t, "Gemm"))
        return import_gemm(m, 0);
    if (!strcmp(t, "MatMul"))
        return import_gemm(m, 1);
    if (!strcmp(t, "Softmax"))
        return import_softmax(m);
    if (!strcmp(t, "Constant"))
        return import_constant(m);
    return fail(m, "unsupported operator '%s'", t);
}

/* ---- graph ---- */

static int input_shape(struct imp *m, const Onnx__ValueInfoProto *v, unsigned *nd, int64_t *dims)
{
    const Onnx__TypeProto *tp = v->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type ||
        tp->tensor_type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || !tp->tensor_type->shape)
        return fail(m, "graph input '%s' must be a float32 tensor with a shape", v->name);
    const Onnx__TensorShapeProto *s = tp->tensor_type->shape;
    if (s->n_dim < 1 || s->n_dim > PLAN_MAX_DIMS)
        return fail(m, "graph input '%s' has rank %zu", v->name, s->n_dim);
    *nd = (unsigned)s->n_dim;
    for (size_t i = 0; i < s->n_dim; i++) {
        int fixed = s->dim[i]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (!fixed && i != 0)
            return fail(m, "graph input '%s': symbolic dimension %zu (only the batch may be symbolic)", v->name, i);
        dims[i] = fixed ? s->dim[i]->dim_value : 1;
    }
    return 0;
}

static int add_list(struct imp *m, int32_t **list, uint32_t *n, int id)
{
    int32_t *l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l)
        return fail(m, "out of memory");
    l[(*n)++] = id;
    *list = l;
    return 0;
}

static int import_inputs(struct imp *m, const struct onnx_blob *extra, size_t n_extra, Onnx__TensorProto **bound)
{
    size_t runtime = 0;
    for (size_t i = 0; i < m->g->n_input; i++) {
        const Onnx__ValueInfoProto *v = m->g->input[i];
        if (!v->name || find_const(m, v->name))
            continue; /* an initializer listed as input */
        if (runtime >= 1 && runtime - 1 < n_extra) {
            const struct onnx_blob *b = &extra[runtime - 1];
            bound[runtime - 1] = onnx__tensor_proto__unpack(NULL, b->len, b->data);
            if (!bound[runtime - 1] || add_const(m, bound[runtime - 1], v->name) != 0)
                return bound[runtime - 1] ? -1 : fail(m, "cannot parse the tensor bound to input '%s'", v->name);
            runtime++;
            continue;
        }
        runtime++;
        unsigned nd = 0;
        int64_t dims[PLAN_MAX_DIMS] = {0};
        int id = input_shape(m, v, &nd, dims) ? -1 : new_tensor(m, v->name, PLAN_ACT, nd, dims);
        if (id < 0 || add_list(m, &m->p.inputs, &m->p.n_inputs, id) != 0)
            return -1;
    }
    return m->p.n_inputs ? 0 : fail(m, "the graph has no runtime input");
}

static int import_graph(struct imp *m, const struct onnx_blob *extra, size_t n_extra, Onnx__TensorProto **bound)
{
    for (size_t i = 0; i < m->g->n_initializer; i++)
        if (add_const(m, m->g->initializer[i], m->g->initializer[i]->name ? m->g->initializer[i]->name : "") != 0)
            return -1;
    if (import_inputs(m, extra, n_extra, bound) != 0)
        return -1;
    for (size_t i = 0; i < m->g->n_node; i++) {
        m->node = m->g->node[i];
        if (import_node(m) != 0)
            return -1;
    }
    m->node = NULL;
    for (size_t i = 0; i < m->g->n_output; i++) {
        int id = find_act(m, m->g->output[i]->name);
        if (id < 0)
            return fail(m, "graph output '%s' is not computed by any supported node", m->g->output[i]->name);
        if (add_list(m, &m->p.outputs, &m->p.n_outputs, id) != 0)
            return -1;
    }
    return 0;
}

static void imp_free(struct imp *m)
{
    for (uint32_t i = 0; i < m->p.n_tensors; i++)
        free(m->names[i]);
    free(m->names);
    for (size_t i = 0; i < m->nk; i++) {
        free(m->k[i].f);
        free(m->k[i].i);
    }
    free(m->k);
}

static int64_t opset_of(const Onnx__ModelProto *mp)
{
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const char *d = mp->opset_import[i]->domain;
        if (!d || !d[0] || !strcmp(d, "ai.onnx"))
            return mp->opset_import[i]->version;
    }
    return 1;
}

int onnx_import(const uint8_t *buf, size_t len, const struct onnx_blob *extra, size_t n_extra, struct plan *out,
                char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    if (!mp || !mp->graph) {
        snprintf(err, errlen, "not a valid ONNX model (protobuf parse failed)");
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        return -1;
    }
    struct imp m = {.g = mp->graph, .opset = opset_of(mp), .err = err, .errlen = errlen};
    Onnx__TensorProto **bound = calloc(n_extra + 1, sizeof *bound);
    int rc = bound ? import_graph(&m, extra, n_extra, bound) : fail(&m, "out of memory");
    if (rc == 0)
        rc = plan_validate(&m.p, err, errlen);
    for (size_t i = 0; bound && i < n_extra; i++)
        if (bound[i])
            onnx__tensor_proto__free_unpacked(bound[i], NULL);
    free(bound);
    imp_free(&m);
    onnx__model_proto__free_unpacked(mp, NULL);
    m.p.weights = (float *)m.w;
    if (rc != 0) {
        plan_free(&m.p);
        return -1;
    }
    *out = m.p;
    return 0;
}

uint8_t *onnx_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    uint8_t *buf = n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    if (!buf)
        snprintf(err, errlen, "cannot read %s", path);
    *len = buf ? (size_t)n : 0;
    return buf;
}

int onnx_import_file(const char *path, struct plan *out, char *err, size_t errlen)
{
    size_t len;
    uint8_t *buf = onnx_read_file(path, &len, err, errlen);
    if (!buf)
        return -1;
    char msg[512];
    int rc = onnx_import(buf, len, NULL, 0, out, msg, sizeof msg);
    if (rc)
        snprintf(err, errlen, "%s: %s", path, msg);
    free(buf);
    return rc;
}

int onnx_tensor_decode(const uint8_t *buf, size_t len, float **data, int64_t *dims, unsigned *ndim, char *err,
                       size_t errlen)
{
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
    if (!t) {
        snprintf(err, errlen, "not a TensorProto");
        return -1;
    }
    struct konst k;
    int rc = decode_tensor(t, &k, err, errlen);
    if (rc == 0 && !k.f) {
        snprintf(err, errlen, "tensor is not float32");
        free(k.i);
        rc = -1;
    }
    if (rc == 0) {
        *data = k.f;
        *ndim = k.ndim;
        memcpy(dims, k.dims, sizeof k.dims);
    }
    onnx__tensor_proto__free_unpacked(t, NULL);
    return rc;
}
