/* CUDA backend, host side (no GPU needed): plan -> GPU step list (kinds, shapes with the
 * batch applied, pads, broadcast strides, concat parts, softmax rows), arena and weights page
 * layout (the pinned image a page-granular copy moves), cuDNN descriptor set-up checked
 * against the plan's shapes, and refusal of inconsistent plans with the op named. */
#include "backend/cuda/cuda_conv.h"
#include "backend/cuda/cuda_model.h"
#include "backend/cuda/cuda_plan.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* ---- a tiny plan builder (heap-allocated: the plan is handed over and freed by its taker) ---- */

struct builder {
    struct plan p;
};

static void b_init(struct builder *b)
{
    memset(b, 0, sizeof *b);
    b->p.tensors = calloc(32, sizeof *b->p.tensors);
    b->p.ops = calloc(16, sizeof *b->p.ops);
    b->p.inputs = calloc(1, sizeof *b->p.inputs);
    b->p.outputs = calloc(1, sizeof *b->p.outputs);
    b->p.n_inputs = b->p.n_outputs = 1;
}

static int32_t b_tensor(struct builder *b, uint32_t kind, uint32_t nd, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    int32_t id = (int32_t)b->p.n_tensors++;
    struct plan_tensor *t = &b->p.tensors[id];
    int64_t d[4] = {d0, d1, d2, d3};
    snprintf(t->name, sizeof t->name, "t%d", id);
    t->kind = kind;
    t->ndim = nd;
    memcpy(t->dims, d, nd * sizeof d[0]);
    if (kind == PLAN_WEIGHT) {
        t->offset = b->p.weights_size;
        b->p.weights_size += plan_tensor_elems(&b->p, id, 1) * 4;
    }
    return id;
}

static struct plan_op *b_op(struct builder *b, uint32_t type, const char *name, int32_t out, uint32_t n_in, int32_t i0,
                            int32_t i1, int32_t i2)
{
    struct plan_op *o = &b->p.ops[b->p.n_ops++];
    snprintf(o->name, sizeof o->name, "%s", name);
    o->type = type;
    o->out = out;
    o->n_in = n_in;
    o->in[0] = i0, o->in[1] = i1, o->in[2] = i2;
    o->stride[0] = o->stride[1] = o->dilation[0] = o->dilation[1] = 1;
    return o;
}

/* Graph input/output and the weights blob (float i at float index i). */
static struct plan *b_finish(struct builder *b, int32_t in, int32_t out)
{
    b->p.inputs[0] = in;
    b->p.outputs[0] = out;
    b->p.weights = malloc(b->p.weights_size + 4);
    for (uint64_t i = 0; i < b->p.weights_size / 4; i++)
        b->p.weights[i] = (float)i;
    return &b->p;
}

static struct cuda_plan built;
static char err[1024];

static void build_ok(struct builder *b, int32_t in, int32_t out, const unsigned *bs, unsigned n, uint64_t page)
{
    err[0] = '\0';
    int rc = cuda_plan_build(&built, b_finish(b, in, out), bs, n, page, err, sizeof err);
    if (rc != 0)
        print_error("unexpected refusal: %s\n", err);
    assert_int_equal(rc, 0);
}

static void build_refused(struct builder *b, int32_t in, int32_t out, unsigned batch, const char *what)
{
    err[0] = '\0';
    assert_int_equal(cuda_plan_build(&built, b_finish(b, in, out), &batch, 1, 1 << 20, err, sizeof err), -1);
    print_message("    %s\n", err);
    assert_non_null(strstr(err, what));
}

static int teardown(void **state)
{
    (void)state;
    cuda_plan_free(&built);
    return 0;
}

/* x [1,3,8,8] -> conv(w [4,3,3,3], bias [4]) -> y [1,4,OH,OW] with the given pads/stride. */
static void conv_plan(struct builder *b, int64_t pl, int64_t pr, int64_t stride, int64_t oh, int32_t *x, int32_t *y)
{
    b_init(b);
    *x = b_tensor(b, PLAN_ACT, 4, 1, 3, 8, 8);
    int32_t w = b_tensor(b, PLAN_WEIGHT, 4, 4, 3, 3, 3), bias = b_tensor(b, PLAN_WEIGHT, 1, 4, 0, 0, 0);
    *y = b_tensor(b, PLAN_ACT, 4, 1, 4, oh, oh);
    struct plan_op *o = b_op(b, OP_CONV, "conv0", *y, 3, *x, w, bias);
    o->kernel[0] = o->kernel[1] = 3;
    o->stride[0] = o->stride[1] = stride;
    o->pad_l[0] = o->pad_l[1] = pl;
    o->pad_r[0] = o->pad_r[1] = pr;
    o->group = 1;
    o->act = ACT_RELU;
}

static void test_conv_symmetric_is_conv_then_bias_act(void **state)
{
    (void)state;
    struct builder b;
    int32_t x, y;
    conv_plan(&b, 1, 1, 1, 8, &x, &y);
    unsigned bs[2] = {1, 4};
    build_ok(&b, x, y, bs, 2, 1 << 20);
    const struct cuda_batch *cb = &built.batch[1];
    assert_int_equal(cb->b, 4);
    assert_int_equal(cb->n_steps, 2);
    assert_int_equal(cb->n_convs, 1);
    const struct cuda_step *c = &cb->steps[0], *ba = &cb->steps[1];
    assert_int_equal(c->kind, CSTEP_CONV);
    assert_int_equal(c->x, x);
    assert_int_equal(c->xd.d[0], 4); /* batch applied */
    assert_int_equal(c->yd.d[0], 4);
    assert_int_equal(c->pad_l[0], 1);
    assert_int_equal(c->wd.d[0], 4);
    assert_int_equal(ba->kind, CSTEP_BIAS_ACT);
    assert_int_equal(ba->act, ACT_RELU);
    assert_int_equal(ba->n, 4);
    assert_int_equal(ba->k, 4);
    assert_int_equal(ba->m, 64);
    assert_int_equal(cb->temp_size, 0);
    assert_true(cb->act_off[x] != cb->act_off[y]);
    assert_true(cb->ws_off >= (uint64_t)4 * 4 * 64 * 4 + 4 * 3 * 64 * 4); /* both activations live */
    assert_int_equal(cb->ws_off % CUDA_ALIGN, 0);
}

static void test_conv_asymmetric_pads_pad_into_temp(void **state)
{
    (void)state;
    struct builder b;
    int32_t x, y;
    conv_plan(&b, 0, 1, 2, 4, &x, &y); /* (8 + 0 + 1 - 3) / 2 + 1 = 4 */
    unsigned bs = 2;
    build_ok(&b, x, y, &bs, 1, 1 << 20);
    const struct cuda_batch *cb = &built.batch[0];
    assert_int_equal(cb->n_steps, 3);
    const struct cuda_step *pad = &cb->steps[0], *c = &cb->steps[1];
    assert_int_equal(pad->kind, CSTEP_PAD);
    assert_int_equal(pad->y, CUDA_TEMP);
    assert_int_equal(pad->yd.d[2], 9);
    assert_int_equal(pad->pad_l[0], 0);
    assert_int_equal(pad->pad_r[0], 1);
    assert_int_equal(c->kind, CSTEP_CONV);
    assert_int_equal(c->x, CUDA_TEMP);
    assert_int_equal(c->xd.d[3], 9);
    assert_int_equal(c->pad_l[0], 0);
    assert_int_equal(cb->temp_size, (uint64_t)2 * 3 * 9 * 9 * 4);
    assert_true(cb->ws_off >= cb->temp_off + cb->temp_size);
}

static void test_conv_inconsistent_output_refused(void **state)
{
    (void)state;
    struct builder b;
    int32_t x, y;
    conv_plan(&b, 1, 1, 1, 7, &x, &y); /* should be 8 */
    build_refused(&b, x, y, 1, "op 0 (conv0)");
}

static void test_conv_descriptors_match_plan(void **state)
{
    (void)state;
    struct builder b;
    int32_t x, y;
    conv_plan(&b, 0, 1, 2, 4, &x, &y);
    unsigned bs[2] = {1, 3};
    struct cuda_model *m = NULL;
    err[0] = '\0';
    int rc = cuda_model_build(&m, b_finish(&b, x, y), bs, 2, 1 << 20, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(m->conv[1][0].conv);
    cuda_model_destroy(m);
}

static void test_descriptor_disagreement_detected(void **state)
{
    (void)state;
    struct cuda_step s = {.kind = CSTEP_CONV,
                          .xd = {4, {1, 3, 8, 8}},
                          .wd = {4, {4, 3, 3, 3}},
                          .yd = {4, {1, 4, 8, 8}},
                          .stride = {1, 1},
                          .dilation = {1, 1},
                          .group = 1};
    struct cuda_conv c;
    assert_int_equal(cuda_conv_describe(&c, &s, err, sizeof err), -1); /* no pads: cuDNN says 6x6 */
    print_message("    %s\n", err);
    assert_non_null(strstr(err, "cuDNN computes output 1x4x6x6"));
    s.pad_l[0] = s.pad_l[1] = 1;
    assert_int_equal(cuda_conv_describe(&c, &s, err, sizeof err), 0);
    cuda_conv_release(&c);
    s.xd.d[1] = 0;
    assert_int_equal(cuda_conv_describe(&c, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "out of cuDNN's range"));
}

static void test_gemm_and_bias(void **state)
{
    (void)state;
    struct builder b;
    b_init(&b);
    int32_t x = b_tensor(&b, PLAN_ACT, 2, 1, 8, 0, 0), w = b_tensor(&b, PLAN_WEIGHT, 2, 8, 5, 0, 0);
    int32_t c = b_tensor(&b, PLAN_WEIGHT, 2, 1, 5, 0, 0), y = b_tensor(&b, PLAN_ACT, 2, 1, 5, 0, 0);
    b_op(&b, OP_GEMM, "fc", y, 3, x, w, c);
    unsigned bs = 6;
    build_ok(&b, x, y, &bs, 1, 1 << 20);
    const struct cuda_step *g = &built.batch[0].steps[0], *bias = &built.batch[0].steps[1];
    assert_int_equal(g->kind, CSTEP_GEMM);
    assert_int_equal(g->m, 6);
    assert_int_equal(g->n, 5);
    assert_int_equal(g->k, 8);
    assert_int_equal(bias->kind, CSTEP_BINARY);
    assert_int_equal(bias->x, y);
    assert_int_equal(bias->y, y);
    assert_int_equal(bias->w, c);
    assert_int_equal(bias->sw[0], 0); /* broadcast over rows */
    assert_int_equal(bias->sw[1], 1);
    assert_int_equal(bias->sx[0], 5);
}

static void test_gemm_inner_mismatch_refused(void **state)
{
    (void)state;
    struct builder b;
    b_init(&b);
    int32_t x = b_tensor(&b, PLAN_ACT, 2, 1, 7, 0, 0), w = b_tensor(&b, PLAN_WEIGHT, 2, 8, 5, 0, 0);
    int32_t c = b_tensor(&b, PLAN_WEIGHT, 2, 1, 5, 0, 0), y = b_tensor(&b, PLAN_ACT, 2, 1, 5, 0, 0);
    b_op(&b, OP_GEMM, "fc", y, 3, x, w, c);
    build_refused(&b, x, y, 1, "matrix shapes");
}

static void test_binary_broadcast_strides(void **state)
{
    (void)state;
    struct builder b;
    b_init(&b);
    int32_t x = b_tensor(&b, PLAN_ACT, 4, 1, 4, 2, 2), s = b_tensor(&b, PLAN_WEIGHT, 3, 4, 1, 1, 0);
    int32_t y = b_tensor(&b, PLAN_ACT, 4, 1, 4, 2, 2);
    b_op(&b, OP_MUL, "scale", y, 2, x, s, 0);
    unsigned bs = 2;
    build_ok(&b, x, y, &bs, 1, 1 << 20);
    const struct cuda_step *st = &built.batch[0].steps[0];
    assert_int_equal(st->kind, CSTEP_BINARY);
    assert_int_equal(st->mul, 1);
    int64_t sx[4] = {16, 4, 2, 1}, sw[4] = {0, 1, 0, 0};
    assert_memory_equal(st->sx, sx, sizeof sx);
    assert_memory_equal(st->sw, sw, sizeof sw);
    assert_int_equal(st->yd.d[0], 2);
}

static void test_binary_not_broadcastable_refused(void **state)
{
    (void)state;
    struct builder b;
    b_init(&b);
    int32_t x = b_tensor(&b, PLAN_ACT, 2, 1, 4, 0, 0), s = b_tensor(&b, PLAN_WEIGHT, 1, 3, 0, 0, 0);
    int32_t y = b_tensor(&b, PLAN_ACT, 2, 1, 4, 0, 0);
    b_op(&b, OP_ADD, "add", y, 2, x, s, 0);
    build_refused(&b, x, y, 1, "broadcast");
}

/* x [1,2,3,3], r = relu(x), y = concat(x, r) on `axis`. */
static void concat_plan(struct builder *b, int64_t axis, int32_t *x, int32_t *y)
{
    b_init(b);
    *x = b_tensor(b, PLAN_ACT, 4, 1, 2, 3, 3);
    int32_t r = b_tensor(b, PLAN_ACT, 4, 1, 2, 3, 3);
    *y = axis == 1 ? b_tensor(b, PLAN_ACT, 4, 1, 4, 3, 3) : b_tensor(b, PLAN_ACT, 4, 2, 2, 3, 3);
    b_op(b, OP_ACT, "relu", r, 1, *x, 0, 0)->act = ACT_RELU;
    b_op(b, OP_CONCAT, "cat", *y, 2, *x, r, 0)->axis = axis;
}

static void test_concat_parts(void **state)
{
    (void)state;
    struct builder b;
    int32_t x, y;
    concat_plan(&b, 1, &x, &y); /* [1,2,3,3] ++ [1,2,3,3] -> [1,4,3,3] */
    unsigned bs = 2;
    build_ok(&b, x, y, &bs, 1, 1 << 20);
    const struct cuda_batch *cb = &built.batch[0];
    assert_int_equal(cb->n_steps, 3);
    const struct cuda_step *a = &cb->steps[1], *c = &cb->steps[2];
    assert_int_equal(a->kind, CSTEP_CONCAT_PART);
    assert_int_equal(a->outer, 2);
    assert_int_equal(a->len, 18);
    assert_int_equal(a->inner, 36);
    assert_int_equal(a->offset, 0);
    assert_int_equal(c->offset, 18);
}

static void test_concat_axis0_only_at_batch1(void **state)
{
    (void)state;
    struct builder b;
    int32_t x, y;
    concat_plan(&b, 0, &x, &y);
    build_refused(&b, x, y, 2, "axis 0 only at batch 1");
}

static void softmax_case(int64_t axis, uint32_t legacy, int64_t outer, int64_t len, int64_t inner)
{
    struct builder b;
    b_init(&b);
    int32_t x = b_tensor(&b, PLAN_ACT, 3, 1, 3, 4, 0), y = b_tensor(&b, PLAN_ACT, 3, 1, 3, 4, 0);
    struct plan_op *o = b_op(&b, OP_SOFTMAX, "sm", y, 1, x, 0, 0);
    o->axis = axis;
    o->flag = legacy;
    unsigned bs = 2;
    build_ok(&b, x, y, &bs, 1, 1 << 20);
    const struct cuda_step *s = &built.batch[0].steps[0];
    assert_int_equal(s->outer, outer);
    assert_int_equal(s->len, len);
    assert_int_equal(s->inner, inner);
    cuda_plan_free(&built);
}

static void test_softmax_rows(void **state)
{
    (void)state;
    softmax_case(2, 0, 6, 4, 1);
    softmax_case(1, 0, 2, 3, 4);
    softmax_case(1, 1, 2, 12, 1); /* opset < 13: everything from the axis is one row */
    softmax_case(0, 0, 1, 2, 12);
}

static void test_pool_keeps_asymmetric_pads_and_dilation(void **state)
{
    (void)state;
    struct builder b;
    b_init(&b);
    int32_t x = b_tensor(&b, PLAN_ACT, 4, 1, 2, 6, 6), y = b_tensor(&b, PLAN_ACT, 4, 1, 2, 3, 3);
    struct plan_op *o = b_op(&b, OP_AVGPOOL, "pool", y, 1, x, 0, 0);
    o->kernel[0] = o->kernel[1] = 2;
    o->stride[0] = o->stride[1] = 2;
    o->dilation[0] = o->dilation[1] = 2;
    o->pad_r[0] = o->pad_r[1] = 1; /* (6 + 1 - 3) / 2 + 1 = 3 */
    o->flag = 1;
    unsigned bs = 1;
    build_ok(&b, x, y, &bs, 1, 1 << 20);
    const struct cuda_step *s = &built.batch[0].steps[0];
    assert_int_equal(s->kind, CSTEP_POOL);
    assert_int_equal(s->pool_max, 0);
    assert_int_equal(s->include_pad, 1);
    assert_int_equal(s->dilation[1], 2);
    assert_int_equal(s->pad_r[1], 1);
    assert_int_equal(s->pad_l[1], 0);
}

static void test_affine_and_copy(void **state)
{
    (void)state;
    struct builder b;
    b_init(&b);
    int32_t x = b_tensor(&b, PLAN_ACT, 4, 1, 3, 2, 2), sc = b_tensor(&b, PLAN_WEIGHT, 1, 3, 0, 0, 0);
    int32_t sh = b_tensor(&b, PLAN_WEIGHT, 1, 3, 0, 0, 0), a = b_tensor(&b, PLAN_ACT, 4, 1, 3, 2, 2);
    int32_t y = b_tensor(&b, PLAN_ACT, 2, 1, 12, 0, 0);
    b_op(&b, OP_CHANNEL_AFFINE, "bn", a, 3, x, sc, sh);
    b_op(&b, OP_COPY, "flatten", y, 1, a, 0, 0);
    unsigned bs = 5;
    build_ok(&b, x, y, &bs, 1, 1 << 20);
    const struct cuda_step *af = &built.batch[0].steps[0], *cp = &built.batch[0].steps[1];
    assert_int_equal(af->kind, CSTEP_AFFINE);
    assert_int_equal(af->n, 5);
    assert_int_equal(af->k, 3);
    assert_int_equal(af->m, 4);
    assert_int_equal(af->b, sh);
    assert_int_equal(cp->kind, CSTEP_COPY);
    assert_int_equal(cp->bytes, 5 * 12 * 4);
}

static void test_weights_page_layout_and_image(void **state)
{
    (void)state;
    struct builder b;
    b_init(&b);
    int32_t x = b_tensor(&b, PLAN_ACT, 1, 100, 0, 0, 0);
    int32_t w1 = b_tensor(&b, PLAN_WEIGHT, 1, 100, 0, 0, 0), w2 = b_tensor(&b, PLAN_WEIGHT, 1, 200, 0, 0, 0);
    int32_t w3 = b_tensor(&b, PLAN_WEIGHT, 1, 10, 0, 0, 0);
    int32_t a1 = b_tensor(&b, PLAN_ACT, 1, 100, 0, 0, 0), a2 = b_tensor(&b, PLAN_ACT, 1, 200, 0, 0, 0);
    int32_t y = b_tensor(&b, PLAN_ACT, 1, 10, 0, 0, 0);
    b_op(&b, OP_ADD, "a1", a1, 2, x, w1, 0);
    b_op(&b, OP_CONCAT, "a2", a2, 2, a1, w1, 0)->axis = 0;
    b_op(&b, OP_COPY, "y", y, 1, x, 0, 0);
    b.p.tensors[y].dims[0] = 100;
    (void)w2;
    (void)w3;
    unsigned bs = 1;
    build_ok(&b, x, y, &bs, 1, 1024);
    /* 400 B at page 0; 800 B does not fit after it (512 + 800 > 1024): page 1; 40 B: page 2 */
    assert_int_equal(built.pages.n_pages, 3);
    assert_int_equal(built.slot[w1].page, 0);
    assert_int_equal(built.slot[w2].page, 1);
    assert_int_equal(built.slot[w3].page, 2);
    assert_int_equal(built.page_used[0], 400);
    assert_int_equal(built.page_used[1], 800);
    assert_int_equal(built.page_image_off[2], 1200);
    assert_int_equal(built.image_size, 1240);
    uint8_t *image = malloc(built.image_size);
    cuda_plan_fill_image(&built, image);
    float f;
    memcpy(&f, image + 400 + 4 * 7, 4); /* w2's float 7 = blob float 100 + 7 */
    assert_true(f == 107.0f);
    memcpy(&f, image + 1200, 4);
    assert_true(f == 300.0f);
    free(image);
}

static void test_weight_larger_than_page_refused(void **state)
{
    (void)state;
    struct builder b;
    b_init(&b);
    int32_t x = b_tensor(&b, PLAN_ACT, 1, 300, 0, 0, 0), w = b_tensor(&b, PLAN_WEIGHT, 1, 300, 0, 0, 0);
    int32_t y = b_tensor(&b, PLAN_ACT, 1, 300, 0, 0, 0);
    b_op(&b, OP_ADD, "add", y, 2, x, w, 0);
    unsigned bs = 1;
    assert_int_equal(cuda_plan_build(&built, b_finish(&b, x, y), &bs, 1, 1024, err, sizeof err), -1);
    print_message("    %s\n", err);
    assert_non_null(strstr(err, "more than a page"));
}

static void test_two_outputs_refused(void **state)
{
    (void)state;
    struct builder b;
    b_init(&b);
    int32_t x = b_tensor(&b, PLAN_ACT, 1, 3, 0, 0, 0), y = b_tensor(&b, PLAN_ACT, 1, 3, 0, 0, 0);
    b_op(&b, OP_ACT, "relu", y, 1, x, 0, 0);
    free(b.p.outputs);
    b.p.outputs = calloc(2, sizeof *b.p.outputs);
    b.p.n_outputs = 2;
    b.p.outputs[1] = x;
    build_refused(&b, x, y, 1, "1 and 1 needed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_conv_symmetric_is_conv_then_bias_act, teardown),
        cmocka_unit_test_teardown(test_conv_asymmetric_pads_pad_into_temp, teardown),
        cmocka_unit_test_teardown(test_conv_inconsistent_output_refused, teardown),
        cmocka_unit_test(test_conv_descriptors_match_plan),
        cmocka_unit_test(test_descriptor_disagreement_detected),
        cmocka_unit_test_teardown(test_gemm_and_bias, teardown),
        cmocka_unit_test_teardown(test_gemm_inner_mismatch_refused, teardown),
        cmocka_unit_test_teardown(test_binary_broadcast_strides, teardown),
        cmocka_unit_test_teardown(test_binary_not_broadcastable_refused, teardown),
        cmocka_unit_test_teardown(test_concat_parts, teardown),
        cmocka_unit_test_teardown(test_concat_axis0_only_at_batch1, teardown),
        cmocka_unit_test_teardown(test_softmax_rows, teardown),
        cmocka_unit_test_teardown(test_pool_keeps_asymmetric_pads_and_dilation, teardown),
        cmocka_unit_test_teardown(test_affine_and_copy, teardown),
        cmocka_unit_test_teardown(test_weights_page_layout_and_image, teardown),
        cmocka_unit_test_teardown(test_weight_larger_than_page_refused, teardown),
        cmocka_unit_test_teardown(test_two_outputs_refused, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
