/* CUDA backend on a GPU: each of our kernels against the CPU backend's plain-C kernels (or a
 * naive reference here) on seeded random data, with the output poisoned (NaN) before every
 * launch so that an element left unwritten fails. Skipped (77, "no CUDA device") without a GPU. */
#include "backend/cpu/kernels.h"
#include "backend/cuda/cuda_gpu.h"
#include "backend/cuda/cuda_kernels.h"
#include "cuda_reference.h"
#include "model/plan.h"
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MAXN (1 << 20)

static float *dx, *dy, *dw, *db; /* device buffers of MAXN floats */
static float hx[MAXN], hy[MAXN], hw[MAXN], hb[MAXN], want[MAXN];
static unsigned seed = 12345;

static float rnd(void)
{
    seed = seed * 1103515245u + 12345u;
    return (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void fill(float *h, float *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h[i] = rnd();
    assert_int_equal(cudaMemcpy(d, h, n * 4, cudaMemcpyHostToDevice), cudaSuccess);
}

static void poison(size_t n) { assert_int_equal(cudaMemset(dy, 0xff, n * 4), cudaSuccess); /* all-ones bytes: a NaN */ }

/* Waits for the launch, fetches y and compares with want: |d| <= atol + rtol |want|. */
static void check(cudaError_t launch, size_t n, double atol, double rtol, const char *what)
{
    assert_int_equal(launch, cudaSuccess);
    assert_int_equal(cudaDeviceSynchronize(), cudaSuccess);
    assert_int_equal(cudaMemcpy(hy, dy, n * 4, cudaMemcpyDeviceToHost), cudaSuccess);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)hy[i] - want[i]);
        if (!(d <= atol + rtol * fabs(want[i]))) {
            print_error("%s: element %zu of %zu: got %.9g want %.9g\n", what, i, n, hy[i], want[i]);
            fail();
        }
        worst = d > worst ? d : worst;
    }
    print_message("    %-28s %8zu values, max abs error %.3g\n", what, n, worst);
}

static void test_act(void **state)
{
    (void)state;
    size_t n = 100003;
    fill(hx, dx, n);
    for (unsigned act = ACT_NONE; act <= ACT_SIGMOID; act++) {
        struct ck_activation a = {act, -0.25f, 0.5f};
        kernel_act(want, hx, n, act, a.lo, a.hi);
        poison(n);
        check(ck_act(dy, dx, (long long)n, a, 0), n, 1e-6, 1e-6, act == ACT_SIGMOID ? "act sigmoid" : "act relu/clip");
    }
}

static void test_bias_act(void **state)
{
    (void)state;
    long long nb = 3, c = 17, hw_ = 49, n = nb * c * hw_;
    fill(hx, dx, (size_t)n);
    fill(hb, db, (size_t)c);
    for (unsigned act = ACT_NONE; act <= ACT_SIGMOID; act++) {
        struct ck_activation a = {act, 0.0f, 6.0f};
        for (long long i = 0; i < n; i++)
            want[i] = hx[i] + hb[(i / hw_) % c];
        kernel_act(want, want, (uint64_t)n, act, a.lo, a.hi);
        assert_int_equal(cudaMemcpy(dy, dx, (size_t)n * 4, cudaMemcpyDeviceToDevice), cudaSuccess); /* in place */
        check(ck_bias_act(dy, db, nb, c, hw_, a, 0), (size_t)n, 1e-6, 1e-6, "bias+act");
    }
}

static void binary_case(const struct kshape *so, const struct kshape *sa, const struct kshape *sb, int mul)
{
    size_t n = kshape_elems(so);
    fill(hx, dx, kshape_elems(sa));
    fill(hw, dw, kshape_elems(sb));
    kernel_binary(want, so, hx, sa, hw, sb, mul);
    struct ck_bcast bc = {.nd = (int)so->nd};
    int64_t acc_a = 1, acc_b = 1;
    for (int i = (int)so->nd - 1; i >= 0; i--) { /* strides as cuda_plan computes them */
        int ja = i - (int)(so->nd - sa->nd), jb = i - (int)(so->nd - sb->nd);
        int64_t da = ja >= 0 ? sa->d[ja] : 1, dbb = jb >= 0 ? sb->d[jb] : 1;
        bc.out[i] = so->d[i];
        bc.sa[i] = da == 1 ? 0 : acc_a;
        bc.sb[i] = dbb == 1 ? 0 : acc_b;
        acc_a *= da;
        acc_b *= dbb;
    }
    poison(n);
    check(ck_binary(dy, dx, dw, &bc, mul, 0), n, 1e-6, 1e-6, mul ? "binary mul (broadcast)" : "binary add (broadcast)");
}

static void test_binary(void **state)
{
    (void)state;
    struct kshape o = {4, {2, 8, 5, 7}}, same = o, ch = {3, {8, 1, 1}}, row = {2, {1, 7}}, sc = {1, {1}};
    binary_case(&o, &o, &same, 0);
    binary_case(&o, &o, &ch, 1);
    binary_case(&o, &row, &o, 0);
    binary_case(&o, &o, &sc, 1);
}

static void test_affine(void **state)
{
    (void)state;
    struct kshape s = {4, {3, 16, 9, 11}};
    size_t n = kshape_elems(&s);
    fill(hx, dx, n);
    fill(hw, dw, 16);
    fill(hb, db, 16);
    kernel_channel_affine(want, hx, &s, hw, hb);
    poison(n);
    check(ck_affine(dy, dx, dw, db, 3, 16, 99, 0), n, 1e-6, 1e-6, "channel affine");
}

static void pool_case(struct ck_pool_shape p, const char *what)
{
    fill(hx, dx, (size_t)(p.nc * p.h * p.w));
    ref_pool(want, hx, &p);
    size_t n = (size_t)(p.nc * p.oh * p.ow);
    poison(n);
    check(ck_pool(dy, dx, &p, 0), n, 1e-6, 1e-5, what);
}

static void test_pool(void **state)
{
    (void)state;
    /* ResNet's max pool: 3x3 stride 2 pad 1 on 112x112 */
    pool_case((struct ck_pool_shape){2 * 8, 112, 112, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0}, "maxpool 3x3/2 pad 1");
    /* global average pool 7x7 */
    pool_case((struct ck_pool_shape){4 * 64, 7, 7, 1, 1, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0}, "global avgpool 7x7");
    /* average, count_include_pad, ceil-mode style extra right pad, dilation 2 */
    pool_case((struct ck_pool_shape){3, 9, 9, 4, 4, 2, 2, 2, 2, 2, 2, 1, 1, 0, 1}, "avgpool dilated incl. pad");
    pool_case((struct ck_pool_shape){3, 9, 9, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0}, "avgpool excl. pad");
}

static void softmax_case(const struct kshape *s, unsigned axis, int legacy)
{
    size_t n = kshape_elems(s);
    long long outer = 1, len = 1, inner = 1;
    for (unsigned i = 0; i < s->nd; i++) {
        if (i < axis)
            outer *= s->d[i];
        else if (i == axis || legacy)
            len *= s->d[i];
        else
            inner *= s->d[i];
    }
    fill(hx, dx, n);
    for (size_t i = 0; i < n; i++)
        hx[i] *= 8.0f; /* a wider range than [-1, 1) */
    assert_int_equal(cudaMemcpy(dx, hx, n * 4, cudaMemcpyHostToDevice), cudaSuccess);
    kernel_softmax(want, hx, s, axis, legacy);
    poison(n);
    check(ck_softmax(dy, dx, outer, len, inner, 0), n, 1e-6, 1e-5, legacy ? "softmax (legacy rows)" : "softmax");
}

static void test_softmax(void **state)
{
    (void)state;
    struct kshape logits = {2, {16, 1000}}, nchw = {4, {2, 5, 3, 7}};
    softmax_case(&logits, 1, 0);
    softmax_case(&nchw, 1, 0); /* strided rows (inner 21) */
    softmax_case(&nchw, 1, 1);
    softmax_case(&nchw, 0, 0);
}

static void test_concat_part(void **state)
{
    (void)state;
    struct kshape out = {4, {2, 7, 4, 4}}, a = {4, {2, 3, 4, 4}}, b = {4, {2, 4, 4, 4}};
    size_t n = kshape_elems(&out);
    fill(hx, dx, kshape_elems(&a));
    fill(hw, dw, kshape_elems(&b));
    kernel_concat_part(want, &out, hx, &a, 1, 0);
    kernel_concat_part(want, &out, hw, &b, 1, 3);
    poison(n);
    assert_int_equal(ck_concat_part(dy, dx, 2, 3 * 16, 7 * 16, 0, 0), cudaSuccess);
    check(ck_concat_part(dy, dw, 2, 4 * 16, 7 * 16, 3 * 16, 0), n, 0, 0, "concat parts");
}

static void test_pad(void **state)
{
    (void)state;
    long long nc = 6, h = 5, w = 7, pt = 1, pl = 0, oh = h + pt + 2, ow = w + pl + 1;
    fill(hx, dx, (size_t)(nc * h * w));
    ref_pad(want, hx, nc, h, w, oh, ow, pt, pl);
    poison((size_t)(nc * oh * ow));
    check(ck_pad(dy, dx, nc, h, w, oh, ow, pt, pl, 0), (size_t)(nc * oh * ow), 0, 0, "zero pad");
}

static int setup(void **state)
{
    (void)state;
    void *p[4];
    for (int i = 0; i < 4; i++)
        if (cudaMalloc(&p[i], MAXN * 4) != cudaSuccess)
            return -1;
    dx = p[0], dy = p[1], dw = p[2], db = p[3];
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cudaFree(dx);
    cudaFree(dy);
    cudaFree(dw);
    cudaFree(db);
    return 0;
}

int main(void)
{
    char why[256];
    if (cuda_gpu_count(why, sizeof why) < 1) {
        printf("SKIP: no CUDA device (%s)\n", why);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_act),         cmocka_unit_test(test_bias_act), cmocka_unit_test(test_binary),
        cmocka_unit_test(test_affine),      cmocka_unit_test(test_pool),     cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_concat_part), cmocka_unit_test(test_pad),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
