/* Our own CUDA kernels for the plan's memory-bound ops (element-wise, broadcasting binary,
 * bias+activation after cuDNN convolutions, pooling with any pads or dilation, softmax,
 * concat parts, zero padding). C-callable launchers: each enqueues on `s`, allocates nothing
 * and returns the launch's status (execution errors surface at the next synchronisation). */
#ifndef CW_CUDA_KERNELS_H
#define CW_CUDA_KERNELS_H
#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CK_MAX_DIMS 6

/* Activation codes: the plan's (0 none, 1 relu, 2 clip to [lo, hi], 3 sigmoid). */
struct ck_activation {
    unsigned act;
    float lo, hi;
};

struct ck_bcast {
    int nd;
    long long out[CK_MAX_DIMS];                 /* output dims */
    long long sa[CK_MAX_DIMS], sb[CK_MAX_DIMS]; /* element strides of a and b, 0 = broadcast */
};

struct ck_pool_shape {
    long long nc, h, w, oh, ow;         /* nc: batch x channels */
    int kh, kw, sh, sw, dh, dw, ph, pw; /* ph/pw: top/left pads */
    int max, include_pad;               /* include_pad: average over the whole kernel window */
};

cudaError_t ck_act(float *y, const float *x, long long n, struct ck_activation a, cudaStream_t s);
/* y[n][c][hw] = act(y + bias[c]) */
cudaError_t ck_bias_act(float *y, const float *bias, long long n, long long c, long long hw, struct ck_activation a,
                        cudaStream_t s);
cudaError_t ck_binary(float *y, const float *a, const float *b, const struct ck_bcast *bc, int mul, cudaStream_t s);
/* y[n][c][rest] = x * scale[c] + shift[c] */
cudaError_t ck_affine(float *y, const float *x, const float *scale, const float *shift, long long n, long long c,
                      long long rest, cudaStream_t s);
cudaError_t ck_pool(float *y, const float *x, const struct ck_pool_shape *p, cudaStream_t s);
/* Softmax over `len` elements `inner` apart, for each (outer, inner) row. */
cudaError_t ck_softmax(float *y, const float *x, long long outer, long long len, long long inner, cudaStream_t s);
/* For o < outer: y[o*ychunk + offset .. + chunk] = x[o*chunk .. + chunk] (one concat input). */
cudaError_t ck_concat_part(float *y, const float *x, long long outer, long long chunk, long long ychunk,
                           long long offset, cudaStream_t s);
/* y (nc, h+pt+pb, w+pl+pr) = x (nc, h, w) with zeros around; pt/pl: top/left pads. */
cudaError_t ck_pad(float *y, const float *x, long long nc, long long h, long long w, long long oh, long long ow,
                   long long pt, long long pl, cudaStream_t s);

#ifdef __cplusplus
}
#endif
#endif
