#include "cuda_kernels.h"
#include <math.h>

#define THREADS 256
#define MAX_BLOCKS 65535LL /* grid-stride loops cover the rest */

static unsigned blocks_for(long long n)
{
    long long b = (n + THREADS - 1) / THREADS;
    return (unsigned)(b < 1 ? 1 : b > MAX_BLOCKS ? MAX_BLOCKS : b);
}

#define GRID_STRIDE(i, n)                                                                  \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n);          \
         i += (long long)gridDim.x * blockDim.x)

__device__ __forceinline__ float apply_act(float v, struct ck_activation a)
{
    if (a.act == 1)
        return v > 0.0f ? v : 0.0f;
    if (a.act == 2)
        return v < a.lo ? a.lo : v > a.hi ? a.hi : v;
    if (a.act == 3)
        return 1.0f / (1.0f + expf(-v));
    return v;
}

__global__ void act_kernel(float *y, const float *x, long long n, struct ck_activation a)
{
    GRID_STRIDE(i, n) y[i] = apply_act(x[i], a);
}

__global__ void bias_act_kernel(float *y, const float *bias, long long total, long long c, long long hw,
                                struct ck_activation a)
{
    GRID_STRIDE(i, total) y[i] = apply_act(y[i] + bias[(i / hw) % c], a);
}

__global__ void binary_kernel(float *y, const float *a, const float *b, struct ck_bcast bc, long long n, int mul)
{
    GRID_STRIDE(i, n)
    {
        long long rest = i, oa = 0, ob = 0;
        for (int d = bc.nd - 1; d >= 0; d--) {
            long long idx = rest % bc.out[d];
            rest /= bc.out[d];
            oa += idx * bc.sa[d];
            ob += idx * bc.sb[d];
        }
        y[i] = mul ? a[oa] * b[ob] : a[oa] + b[ob];
    }
}

__global__ void affine_kernel(float *y, const float *x, const float *scale, const float *shift, long long total,
                              long long c, long long rest)
{
    GRID_STRIDE(i, total)
    {
        long long ch = (i / rest) % c;
        y[i] = x[i] * scale[ch] + shift[ch];
    }
}

__global__ void pool_kernel(float *y, const float *x, struct ck_pool_shape p, long long total)
{
    GRID_STRIDE(i, total)
    {
        long long ow = i % p.ow, oh = (i / p.ow) % p.oh, nc = i / (p.ow * p.oh);
        const float *xp = x + nc * p.h * p.w;
        long long h0 = oh * p.sh - p.ph, w0 = ow * p.sw - p.pw;
        float acc = p.max ? -INFINITY : 0.0f;
        int count = 0;
        for (int kh = 0; kh < p.kh; kh++) {
            long long hh = h0 + (long long)kh * p.dh;
            if (hh < 0 || hh >= p.h)
                continue;
            for (int kw = 0; kw < p.kw; kw++) {
                long long ww = w0 + (long long)kw * p.dw;
                if (ww < 0 || ww >= p.w)
                    continue;
                float v = xp[hh * p.w + ww];
                acc = p.max ? fmaxf(acc, v) : acc + v;
                count++;
            }
        }
        if (!p.max) {
            int div = p.include_pad ? p.kh * p.kw : count;
            acc = div > 0 ? acc / (float)div : 0.0f;
        }
        y[i] = acc;
    }
}

/* One warp per row: max, sum of exponentials, normalise (lanes stride over the row). */
__global__ void softmax_kernel(float *y, const float *x, long long outer, long long len, long long inner)
{
    long long warps = (long long)gridDim.x * (blockDim.x / 32);
    int lane = threadIdx.x % 32;
    for (long long row = (long long)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; row < outer * inner;
         row += warps) {
        long long base = (row / inner) * len * inner + row % inner;
        const float *xp = x + base;
        float *yp = y + base;
        float mx = -INFINITY, sum = 0.0f;
        for (long long k = lane; k < len; k += 32)
            mx = fmaxf(mx, xp[k * inner]);
        for (int o = 16; o > 0; o /= 2)
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
        for (long long k = lane; k < len; k += 32) {
            float e = expf(xp[k * inner] - mx);
            yp[k * inner] = e;
            sum += e;
        }
        for (int o = 16; o > 0; o /= 2)
            sum += __shfl_xor_sync(0xffffffffu, sum, o);
        __syncwarp();
        for (long long k = lane; k < len; k += 32)
            yp[k * inner] /= sum;
    }
}

__global__ void concat_kernel(float *y, const float *x, long long outer, long long chunk, long long ychunk,
                              long long offset)
{
    GRID_STRIDE(i, outer * chunk) y[(i / chunk) * ychunk + offset + i % chunk] = x[i];
}

__global__ void pad_kernel(float *y, const float *x, long long nc, long long h, long long w, long long oh,
                           long long ow, long long pt, long long pl)
{
    GRID_STRIDE(i, nc * oh * ow)
    {
        long long c = i % ow - pl, r = (i / ow) % oh - pt, plane = i / (ow * oh);
        y[i] = r >= 0 && r < h && c >= 0 && c < w ? x[(plane * h + r) * w + c] : 0.0f;
    }
}

extern "C" {

cudaError_t ck_act(float *y, const float *x, long long n, struct ck_activation a, cudaStream_t s)
{
    act_kernel<<<blocks_for(n), THREADS, 0, s>>>(y, x, n, a);
    return cudaGetLastError();
}

cudaError_t ck_bias_act(float *y, const float *bias, long long n, long long c, long long hw, struct ck_activation a,
                        cudaStream_t s)
{
    long long total = n * c * hw;
    bias_act_kernel<<<blocks_for(total), THREADS, 0, s>>>(y, bias, total, c, hw, a);
    return cudaGetLastError();
}

cudaError_t ck_binary(float *y, const float *a, const float *b, const struct ck_bcast *bc, int mul, cudaStream_t s)
{
    long long n = 1;
    for (int d = 0; d < bc->nd; d++)
        n *= bc->out[d];
    binary_kernel<<<blocks_for(n), THREADS, 0, s>>>(y, a, b, *bc, n, mul);
    return cudaGetLastError();
}

cudaError_t ck_affine(float *y, const float *x, const float *scale, const float *shift, long long n, long long c,
                      long long rest, cudaStream_t s)
{
    long long total = n * c * rest;
    affine_kernel<<<blocks_for(total), THREADS, 0, s>>>(y, x, scale, shift, total, c, rest);
    return cudaGetLastError();
}

cudaError_t ck_pool(float *y, const float *x, const struct ck_pool_shape *p, cudaStream_t s)
{
    long long total = p->nc * p->oh * p->ow;
    pool_kernel<<<blocks_for(total), THREADS, 0, s>>>(y, x, *p, total);
    return cudaGetLastError();
}

cudaError_t ck_softmax(float *y, const float *x, long long outer, long long len, long long inner, cudaStream_t s)
{
    long long rows = outer * inner, per_block = THREADS / 32;
    long long b = (rows + per_block - 1) / per_block;
    softmax_kernel<<<(unsigned)(b < 1 ? 1 : b > MAX_BLOCKS ? MAX_BLOCKS : b), THREADS, 0, s>>>(y, x, outer, len, inner);
    return cudaGetLastError();
}

cudaError_t ck_concat_part(float *y, const float *x, long long outer, long long chunk, long long ychunk,
                           long long offset, cudaStream_t s)
{
    concat_kernel<<<blocks_for(outer * chunk), THREADS, 0, s>>>(y, x, outer, chunk, ychunk, offset);
    return cudaGetLastError();
}

cudaError_t ck_pad(float *y, const float *x, long long nc, long long h, long long w, long long oh, long long ow,
                   long long pt, long long pl, cudaStream_t s)
{
    pad_kernel<<<blocks_for(nc * oh * ow), THREADS, 0, s>>>(y, x, nc, h, w, oh, ow, pt, pl);
    return cudaGetLastError();
}

} /* extern "C" */
