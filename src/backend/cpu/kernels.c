#include "kernels.h"
#include "model/plan.h"
#include <math.h>
#include <string.h>

uint64_t kshape_elems(const struct kshape *s)
{
    uint64_t n = 1;
    for (unsigned i = 0; i < s->nd; i++)
        n *= (uint64_t)s->d[i];
    return n;
}

void kernel_act(float *y, const float *x, uint64_t n, unsigned act, float lo, float hi)
{
    for (uint64_t i = 0; i < n; i++) {
        float v = x[i];
        if (act == ACT_RELU)
            v = v > 0 ? v : 0;
        else if (act == ACT_CLIP)
            v = v < lo ? lo : v > hi ? hi : v;
        else if (act == ACT_SIGMOID)
            v = 1.0f / (1.0f + expf(-v));
        y[i] = v;
    }
}

/* Element strides of s aligned right to `out`'s rank, 0 along broadcast dimensions. */
static void bstrides(const struct kshape *s, const struct kshape *out, int64_t *st)
{
    int64_t acc = 1;
    for (int i = (int)out->nd - 1; i >= 0; i--) {
        int j = i - (int)(out->nd - s->nd);
        int64_t dim = j >= 0 ? s->d[j] : 1;
        st[i] = dim == 1 ? 0 : acc;
        acc *= dim;
    }
}

void kernel_binary(float *y, const struct kshape *out, const float *a, const struct kshape *sa, const float *b,
                   const struct kshape *sb, int mul)
{
    uint64_t n = kshape_elems(out);
    if (kshape_elems(sa) == n && kshape_elems(sb) == n) {
        for (uint64_t i = 0; i < n; i++)
            y[i] = mul ? a[i] * b[i] : a[i] + b[i];
        return;
    }
    int64_t st_a[6], st_b[6], idx[6] = {0};
    bstrides(sa, out, st_a);
    bstrides(sb, out, st_b);
    int64_t oa = 0, ob = 0;
    for (uint64_t i = 0; i < n; i++) {
        y[i] = mul ? a[oa] * b[ob] : a[oa] + b[ob];
        for (int d = (int)out->nd - 1; d >= 0; d--) { /* odometer increment */
            idx[d]++;
            oa += st_a[d];
            ob += st_b[d];
            if (idx[d] < out->d[d])
                break;
            oa -= st_a[d] * out->d[d];
            ob -= st_b[d] * out->d[d];
            idx[d] = 0;
        }
    }
}

void kernel_concat_part(float *y, const struct kshape *out, const float *x, const struct kshape *s, unsigned axis,
                        int64_t offset)
{
    uint64_t outer = 1, inner = 1;
    for (unsigned i = 0; i < axis; i++)
        outer *= (uint64_t)s->d[i];
    for (unsigned i = axis + 1; i < s->nd; i++)
        inner *= (uint64_t)s->d[i];
    uint64_t chunk = (uint64_t)s->d[axis] * inner, ochunk = (uint64_t)out->d[axis] * inner;
    for (uint64_t o = 0; o < outer; o++)
        memcpy(y + o * ochunk + (uint64_t)offset * inner, x + o * chunk, chunk * sizeof *y);
}

void kernel_softmax(float *y, const float *x, const struct kshape *s, unsigned axis, int legacy)
{
    uint64_t outer = 1, len = 1, inner = 1;
    for (unsigned i = 0; i < s->nd; i++) {
        if (i < axis)
            outer *= (uint64_t)s->d[i];
        else if (i == axis || legacy)
            len *= (uint64_t)s->d[i];
        else
            inner *= (uint64_t)s->d[i];
    }
    for (uint64_t o = 0; o < outer; o++)
        for (uint64_t in = 0; in < inner; in++) {
            const float *xp = x + o * len * inner + in;
            float *yp = y + o * len * inner + in, mx = -INFINITY, sum = 0;
            for (uint64_t k = 0; k < len; k++)
                mx = xp[k * inner] > mx ? xp[k * inner] : mx;
            for (uint64_t k = 0; k < len; k++)
                sum += yp[k * inner] = expf(xp[k * inner] - mx);
            for (uint64_t k = 0; k < len; k++)
                yp[k * inner] /= sum;
        }
}

void kernel_channel_affine(float *y, const float *x, const struct kshape *s, const float *scale, const float *shift)
{
    uint64_t n = (uint64_t)s->d[0], c = s->nd > 1 ? (uint64_t)s->d[1] : 1, rest = 1;
    for (unsigned i = 2; i < s->nd; i++)
        rest *= (uint64_t)s->d[i];
    for (uint64_t i = 0; i < n; i++)
        for (uint64_t k = 0; k < c; k++) {
            const float *xp = x + (i * c + k) * rest;
            float *yp = y + (i * c + k) * rest;
            for (uint64_t r = 0; r < rest; r++)
                yp[r] = xp[r] * scale[k] + shift[k];
        }
}
