/* Plain-C references for the CUDA kernels that have no CPU backend counterpart (pooling with
 * any pads and dilation, zero padding), with the plan's semantics: average pooling with
 * count_include_pad divides by the kernel area (oneDNN's), else by the valid positions. */
#ifndef CW_TEST_CUDA_REFERENCE_H
#define CW_TEST_CUDA_REFERENCE_H
#include "backend/cuda/cuda_kernels.h"
#include <math.h>

static void ref_pool(float *y, const float *x, const struct ck_pool_shape *p)
{
    for (long long nc = 0; nc < p->nc; nc++)
        for (long long oh = 0; oh < p->oh; oh++)
            for (long long ow = 0; ow < p->ow; ow++) {
                double acc = p->max ? -INFINITY : 0;
                int count = 0;
                for (int kh = 0; kh < p->kh; kh++)
                    for (int kw = 0; kw < p->kw; kw++) {
                        long long h = oh * p->sh - p->ph + (long long)kh * p->dh;
                        long long w = ow * p->sw - p->pw + (long long)kw * p->dw;
                        if (h < 0 || h >= p->h || w < 0 || w >= p->w)
                            continue;
                        double v = x[(nc * p->h + h) * p->w + w];
                        acc = p->max ? (v > acc ? v : acc) : acc + v;
                        count++;
                    }
                int div = p->include_pad ? p->kh * p->kw : count;
                y[(nc * p->oh + oh) * p->ow + ow] = (float)(p->max ? acc : div ? acc / div : 0);
            }
}

static void ref_pad(float *y, const float *x, long long nc, long long h, long long w, long long oh, long long ow,
                    long long pt, long long pl)
{
    for (long long p = 0; p < nc; p++)
        for (long long r = 0; r < oh; r++)
            for (long long c = 0; c < ow; c++) {
                long long sr = r - pt, sc = c - pl;
                y[(p * oh + r) * ow + c] = sr >= 0 && sr < h && sc >= 0 && sc < w ? x[(p * h + sr) * w + sc] : 0;
            }
}

#endif
