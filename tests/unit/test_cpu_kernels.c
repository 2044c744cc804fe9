/* The plain-C kernels (activations, broadcasting add/mul, concat, softmax, channel affine)
 * against naive index-by-index references on seeded random shapes and data; and the oneDNN
 * blocked-layout path (conv -> add -> relu -> mul -> concat -> flatten) against the same
 * references at batch 1 and 2. */
#define _GNU_SOURCE
#include "backend/cpu/cpu_layout.h"
#include "backend/cpu/cpu_thread.h"
#include "backend/cpu/kernels.h"
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define ROUNDS 200

static uint64_t rng_state = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}
static float rndf(void) { return (float)rnd(20001) / 10000.0f - 1.0f; }

static float *random_data(uint64_t n)
{
    float *x = malloc(n * sizeof *x + 4);
    assert_non_null(x);
    for (uint64_t i = 0; i < n; i++)
        x[i] = rndf() * 4;
    return x;
}

static void random_shape(struct kshape *s, unsigned max_nd)
{
    s->nd = 1 + rnd(max_nd);
    for (unsigned i = 0; i < s->nd; i++)
        s->d[i] = 1 + rnd(5);
}

/* Index of element `flat` of shape `out` in a tensor of shape s broadcast (right-aligned) to out. */
static uint64_t bcast_index(const struct kshape *out, const struct kshape *s, uint64_t flat)
{
    uint64_t idx = 0, stride = 1;
    for (int i = (int)out->nd - 1; i >= 0; i--) {
        uint64_t coord = flat % (uint64_t)out->d[i];
        flat /= (uint64_t)out->d[i];
        int j = i - (int)(out->nd - s->nd);
        if (j < 0)
            continue;
        idx += (s->d[j] == 1 ? 0 : coord) * stride;
        stride *= (uint64_t)s->d[j];
    }
    return idx;
}

/* A shape that broadcasts to out: a suffix of it with some dimensions set to 1. */
static void broadcastable(const struct kshape *out, struct kshape *s)
{
    unsigned drop = rnd(out->nd);
    s->nd = out->nd - drop;
    for (unsigned i = 0; i < s->nd; i++)
        s->d[i] = rnd(3) == 0 ? 1 : out->d[i + drop];
}

static void test_binary_broadcast(void **state)
{
    (void)state;
    for (int r = 0; r < ROUNDS; r++) {
        struct kshape out, sa, sb;
        random_shape(&out, 5);
        broadcastable(&out, &sa);
        broadcastable(&out, &sb);
        if (r % 4 == 0)
            sa = out; /* the same-shape fast path */
        uint64_t n = kshape_elems(&out);
        float *a = random_data(kshape_elems(&sa)), *b = random_data(kshape_elems(&sb)), *y = random_data(n);
        int mul = r % 2;
        kernel_binary(y, &out, a, &sa, b, &sb, mul);
        for (uint64_t i = 0; i < n; i++) {
            float x0 = a[bcast_index(&out, &sa, i)], x1 = b[bcast_index(&out, &sb, i)];
            assert_true(y[i] == (mul ? x0 * x1 : x0 + x1));
        }
        free(a), free(b), free(y);
    }
}

static void test_concat(void **state)
{
    (void)state;
    for (int r = 0; r < ROUNDS; r++) {
        struct kshape out, part[4];
        random_shape(&out, 4);
        unsigned axis = rnd(out.nd), k = 1 + rnd(4);
        float *x[4];
        out.d[axis] = 0;
        for (unsigned j = 0; j < k; j++) {
            part[j] = out;
            part[j].d[axis] = 1 + rnd(3);
            out.d[axis] += part[j].d[axis];
        }
        for (unsigned j = 0; j < k; j++)
            x[j] = random_data(kshape_elems(&part[j]));
        uint64_t n = kshape_elems(&out), inner = 1;
        float *y = random_data(n);
        for (unsigned j = 0, off = 0; j < k; off += (unsigned)part[j].d[axis], j++)
            kernel_concat_part(y, &out, x[j], &part[j], axis, off);
        for (unsigned i = axis + 1; i < out.nd; i++)
            inner *= (uint64_t)out.d[i];
        for (uint64_t i = 0; i < n; i++) { /* find the part holding coordinate c along the axis */
            uint64_t c = i / inner % (uint64_t)out.d[axis], outer = i / inner / (uint64_t)out.d[axis], j = 0;
            while (c >= (uint64_t)part[j].d[axis])
                c -= (uint64_t)part[j++].d[axis];
            assert_true(y[i] == x[j][(outer * (uint64_t)part[j].d[axis] + c) * inner + i % inner]);
        }
        for (unsigned j = 0; j < k; j++)
            free(x[j]);
        free(y);
    }
}

/* Softmax over `axis` (legacy: over all dims from axis on) in double precision. */
static void softmax_ref(double *y, const float *x, const struct kshape *s, unsigned axis, int legacy)
{
    uint64_t outer = 1, len = 1, inner = 1;
    for (unsigned i = 0; i < s->nd; i++)
        *(i < axis ? &outer : i == axis || legacy ? &len : &inner) *= (uint64_t)s->d[i];
    for (uint64_t o = 0; o < outer; o++)
        for (uint64_t in = 0; in < inner; in++) {
            double sum = 0;
            for (uint64_t k = 0; k < len; k++)
                sum += exp(x[(o * len + k) * inner + in]);
            for (uint64_t k = 0; k < len; k++)
                y[(o * len + k) * inner + in] = exp(x[(o * len + k) * inner + in]) / sum;
        }
}

static void test_softmax(void **state)
{
    (void)state;
    for (int r = 0; r < ROUNDS; r++) {
        struct kshape s;
        random_shape(&s, 4);
        unsigned axis = rnd(s.nd);
        int legacy = r % 3 == 0;
        uint64_t n = kshape_elems(&s);
        float *x = random_data(n), *y = random_data(n);
        double *ref = malloc(n * sizeof *ref);
        assert_non_null(ref);
        kernel_softmax(y, x, &s, axis, legacy);
        softmax_ref(ref, x, &s, axis, legacy);
        for (uint64_t i = 0; i < n; i++)
            assert_true(fabs(y[i] - ref[i]) <= 1e-6 + 1e-5 * ref[i]);
        free(x), free(y), free(ref);
    }
}

static float act_ref(float v, unsigned act, float lo, float hi)
{
    switch (act) {
    case ACT_RELU: return v < 0 ? 0 : v;
    case ACT_CLIP: return fminf(fmaxf(v, lo), hi);
    case ACT_SIGMOID: return (float)(1.0 / (1.0 + exp(-(double)v)));
    default: return v;
    }
}

static void test_activations(void **state)
{
    (void)state;
    uint64_t n = 1000;
    float *x = random_data(n), *y = random_data(n);
    for (unsigned act = ACT_NONE; act <= ACT_SIGMOID; act++) {
        kernel_act(y, x, n, act, -0.5f, 1.5f);
        for (uint64_t i = 0; i < n; i++)
            assert_true(fabsf(y[i] - act_ref(x[i], act, -0.5f, 1.5f)) <= 1e-6f);
    }
    free(x), free(y);
}

static void test_channel_affine(void **state)
{
    (void)state;
    for (int r = 0; r < ROUNDS / 4; r++) {
        struct kshape s;
        random_shape(&s, 4);
        if (s.nd < 2)
            s.nd = 2, s.d[1] = 3;
        uint64_t n = kshape_elems(&s), rest = n / (uint64_t)s.d[0] / (uint64_t)s.d[1];
        float *x = random_data(n), *y = random_data(n), *sc = random_data((uint64_t)s.d[1]),
              *sh = random_data((uint64_t)s.d[1]);
        kernel_channel_affine(y, x, &s, sc, sh);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t c = i / rest % (uint64_t)s.d[1];
            assert_true(y[i] == x[i] * sc[c] + sh[c]);
        }
        free(x), free(y), free(sc), free(sh);
    }
}

/* ---- the blocked-layout path through oneDNN ---- */

enum { C = 16, CIN = 3, HW = 3, NT = 10 };

/* x (3 channels) -> conv(channel c copies input channel c % 3) a; conv(identity, bias) b; c = a + b; d = relu c; e = d
 * * a; f = concat(e, a) on channels; g = flatten f (graph output). Weights: identity, zeros, bias. */
static void blocked_plan(struct plan *p)
{
    static const struct {
        const char *name;
        uint32_t kind, nd;
        int64_t d[4];
        uint64_t off;
    } t[NT] = {
        {"x", PLAN_ACT, 4, {1, CIN, HW, HW}, 0},    {"w", PLAN_WEIGHT, 4, {C, CIN, 1, 1}, 0},
        {"zero", PLAN_WEIGHT, 1, {C}, C * CIN * 4}, {"bias", PLAN_WEIGHT, 1, {C}, C * CIN * 4 + C * 4},
        {"a", PLAN_ACT, 4, {1, C, HW, HW}, 0},      {"b", PLAN_ACT, 4, {1, C, HW, HW}, 0},
        {"c", PLAN_ACT, 4, {1, C, HW, HW}, 0},      {"d", PLAN_ACT, 4, {1, C, HW, HW}, 0},
        {"e", PLAN_ACT, 4, {1, C, HW, HW}, 0},      {"f", PLAN_ACT, 4, {1, 2 * C, HW, HW}, 0},
    };
    memset(p, 0, sizeof *p);
    p->n_tensors = NT + 1, p->n_ops = 7, p->n_inputs = 1, p->n_outputs = 1;
    p->tensors = calloc(NT + 1, sizeof *p->tensors);
    p->ops = calloc(7, sizeof *p->ops);
    p->inputs = calloc(1, sizeof *p->inputs);
    p->outputs = calloc(1, sizeof *p->outputs);
    p->weights_size = (C * CIN + 2 * C) * 4;
    p->weights = calloc(C * CIN + 2 * C, 4);
    assert_true(p->tensors && p->ops && p->inputs && p->outputs && p->weights);
    for (int i = 0; i < NT; i++) {
        struct plan_tensor *x = &p->tensors[i];
        snprintf(x->name, sizeof x->name, "%s", t[i].name);
        x->kind = t[i].kind, x->ndim = t[i].nd, x->offset = t[i].off;
        memcpy(x->dims, t[i].d, sizeof t[i].d);
    }
    p->tensors[NT] = (struct plan_tensor){"g", PLAN_ACT, 2, {1, 2 * C * HW * HW}, 0};
    for (int i = 0; i < C; i++)
        p->weights[i * CIN + i % CIN] = 1, p->weights[C * CIN + C + i] = (float)i / 8 - 1;
    static const struct {
        uint32_t type, n_in;
        int32_t in[2], out;
    } o[7] = {
        {OP_CONV, 3, {0, 1}, 4}, {OP_CONV, 3, {0, 1}, 5},   {OP_ADD, 2, {4, 5}, 6}, {OP_ACT, 1, {6}, 7},
        {OP_MUL, 2, {7, 4}, 8},  {OP_CONCAT, 2, {8, 4}, 9}, {OP_COPY, 1, {9}, NT},
    };
    for (int i = 0; i < 7; i++) {
        struct plan_op *op = &p->ops[i];
        snprintf(op->name, sizeof op->name, "op%d", i);
        op->type = o[i].type, op->n_in = o[i].n_in, op->in[0] = o[i].in[0], op->in[1] = o[i].in[1], op->out = o[i].out;
        op->kernel[0] = op->kernel[1] = op->stride[0] = op->stride[1] = op->dilation[0] = op->dilation[1] = 1;
        op->group = 1, op->axis = 1, op->act = o[i].type == OP_ACT ? ACT_RELU : ACT_NONE;
    }
    p->ops[0].in[2] = 2, p->ops[1].in[2] = 3;
    p->outputs[0] = NT;
}

static float blocked_ref(const float *x, const float *bias, uint64_t i)
{
    uint64_t per = 2 * C * HW * HW, n = i / per, c = i % per / (HW * HW), s = i % (HW * HW);
    float a = x[(n * CIN + c % C % CIN) * HW * HW + s];
    if (c >= C)
        return a;
    return fmaxf(a + a + bias[c], 0.0f) * a;
}

static void test_blocked_path(void **state)
{
    (void)state;
    struct plan p;
    char err[512];
    blocked_plan(&p);
    assert_int_equal(plan_validate(&p, err, sizeof err), 0);
    uint8_t ok[NT + 1];
    cpu_layout_blockable(&p, ok);
    for (int t = 4; t < NT; t++)
        assert_true(ok[t]); /* every intermediate may be blocked; x and g stay plain */
    assert_false(ok[0] || ok[NT]);
    float bias[C];
    memcpy(bias, p.weights + C * CIN + C, sizeof bias);
    dnnl_engine_t eng;
    assert_int_equal(dnnl_engine_create(&eng, dnnl_cpu, 0), dnnl_success);
    static const unsigned batches[2] = {1, 2};
    struct cpu_model *m;
    assert_int_equal(cpu_model_build(&m, &p, eng, batches, 2, 1 << 20, err, sizeof err), 0);
    struct cpu_standalone x;
    uint64_t ns;
    assert_int_equal(cpu_standalone_open(&x, m, err, sizeof err), 0);
    assert_int_equal(cpu_standalone_load(&x, &ns), 0);
    for (unsigned bi = 0; bi < 2; bi++) {
        uint64_t nin = (uint64_t)batches[bi] * CIN * HW * HW, nout = (uint64_t)batches[bi] * 2 * C * HW * HW;
        float *in = random_data(nin); /* the arena slot of x is reused once x is dead */
        memcpy(cpu_binding_act(x.b, bi, m->plan.inputs[0]), in, nin * sizeof *in);
        assert_int_equal(cpu_standalone_run(&x, bi, &ns), 0);
        const float *out = cpu_binding_act(x.b, bi, m->plan.outputs[0]);
        for (uint64_t i = 0; i < nout; i++)
            if (!(fabsf(out[i] - blocked_ref(in, bias, i)) <= 1e-5f * (1 + fabsf(out[i]))))
                fail_msg("batch %u element %llu: %g, expected %g", batches[bi], (unsigned long long)i, out[i],
                         blocked_ref(in, bias, i));
        free(in);
    }
    cpu_standalone_close(&x);
    cpu_model_destroy(m);
    dnnl_engine_destroy(eng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_broadcast), cmocka_unit_test(test_concat),
        cmocka_unit_test(test_softmax),          cmocka_unit_test(test_activations),
        cmocka_unit_test(test_channel_affine),   cmocka_unit_test(test_blocked_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
