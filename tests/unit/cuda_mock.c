/* A host stand-in for the GPU, linked instead of the CUDA runtime, cuBLAS and our kernels
 * into the test_cuda_mock_* variants of the GPU tests, so that the CUDA backend's own logic
 * (plans, page addressing, operand resolution, descriptors, algorithm choice, copies, event
 * timing, error paths) runs on machines without a GPU, under ASan too. "Device" memory is
 * host memory; kernels are the CPU backend's plain-C kernels or the references in
 * cuda_reference.h; cuDNN's convolution is computed from its real descriptors (read back with
 * cuDNN's host-side getters), so wrong pads, strides, dilations or groups show as wrong outputs. */
#include "backend/cpu/kernels.h"
#include "backend/cuda/cuda_kernels.h"
#include "common/clock.h"
#include "cuda_reference.h"
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOCK_MEMORY (UINT64_C(64) << 30) /* larger allocations fail, as on a real GPU */

/* ---- CUDA runtime ---- */

cudaError_t cudaGetDeviceCount(int *n) { return *n = 1, cudaSuccess; }
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
cudaError_t cudaGetLastError(void) { return cudaSuccess; }
const char *cudaGetErrorName(cudaError_t e) { return e == cudaSuccess ? "cudaSuccess" : "cudaErrorMock"; }
const char *cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "mock error"; }
cudaError_t cudaDriverGetVersion(int *v) { return *v = CUDART_VERSION, cudaSuccess; }
cudaError_t cudaRuntimeGetVersion(int *v) { return *v = CUDART_VERSION, cudaSuccess; }

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int d)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "mock GPU");
    p->totalGlobalMem = MOCK_MEMORY;
    p->major = 9;
    p->multiProcessorCount = 1;
    return d == 0 ? cudaSuccess : cudaErrorInvalidDevice;
}

cudaError_t cudaDeviceGetPCIBusId(char *id, int len, int d)
{
    snprintf(id, (size_t)len, "0000:00:00.0");
    return d == 0 ? cudaSuccess : cudaErrorInvalidDevice;
}

cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total) { return *free_b = *total = MOCK_MEMORY, cudaSuccess; }

static cudaError_t mock_alloc(void **p, size_t size)
{
    *p = size <= MOCK_MEMORY ? aligned_alloc(256, (size + 255) / 256 * 256 + 256) : NULL;
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t cudaMalloc(void **p, size_t size) { return mock_alloc(p, size); }
cudaError_t cudaHostAlloc(void **p, size_t size, unsigned flags) { return (void)flags, mock_alloc(p, size); }
cudaError_t cudaFree(void *p) { return free(p), cudaSuccess; }
cudaError_t cudaFreeHost(void *p) { return free(p), cudaSuccess; }

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind kind, cudaStream_t s)
{
    (void)kind;
    (void)s;
    memmove(dst, src, n);
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags)
{
    (void)flags;
    *s = malloc(1);
    return *s ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) { return free(s), cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t s) { return (void)s, cudaSuccess; }

/* An event is the host time it was recorded at. */
cudaError_t cudaEventCreate(cudaEvent_t *e)
{
    *e = calloc(1, sizeof(uint64_t));
    return *e ? cudaSuccess : cudaErrorMemoryAllocation;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) { return free(e), cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t e) { return (void)e, cudaSuccess; }

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s)
{
    (void)s;
    *(uint64_t *)(void *)e = clock_now_ns();
    return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b)
{
    *ms = (float)((double)(*(uint64_t *)(void *)b - *(uint64_t *)(void *)a) / 1e6);
    return cudaSuccess;
}

/* ---- cuDNN: handles, algorithm choice and the convolution (descriptors are cuDNN's own) ---- */

cudnnStatus_t cudnnCreate(cudnnHandle_t *h)
{
    *h = malloc(1);
    return *h ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;
}

cudnnStatus_t cudnnDestroy(cudnnHandle_t h) { return free(h), CUDNN_STATUS_SUCCESS; }
cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s) { return (void)h, (void)s, CUDNN_STATUS_SUCCESS; }

#define MOCK_CONV_WORKSPACE 4096

/* Two candidates: a TF32 one (must be passed over) and an FP32 FMA one with a workspace. */
cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t h, const cudnnTensorDescriptor_t x,
                                                     const cudnnFilterDescriptor_t w,
                                                     const cudnnConvolutionDescriptor_t c,
                                                     const cudnnTensorDescriptor_t y, const int requested,
                                                     int *returned, cudnnConvolutionFwdAlgoPerf_t *perf)
{
    (void)h, (void)x, (void)w, (void)c, (void)y;
    if (requested < 2)
        return CUDNN_STATUS_BAD_PARAM;
    memset(perf, 0, 2 * sizeof *perf);
    perf[0] = (cudnnConvolutionFwdAlgoPerf_t){CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED,
                                              CUDNN_STATUS_SUCCESS,
                                              0.1f,
                                              0,
                                              CUDNN_DETERMINISTIC,
                                              CUDNN_TENSOR_OP_MATH,
                                              {0}};
    perf[1] = (cudnnConvolutionFwdAlgoPerf_t){CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
                                              CUDNN_STATUS_SUCCESS,
                                              0.2f,
                                              MOCK_CONV_WORKSPACE,
                                              CUDNN_DETERMINISTIC,
                                              CUDNN_FMA_MATH,
                                              {0}};
    *returned = 2;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t h, const cudnnTensorDescriptor_t x,
                                                      const cudnnFilterDescriptor_t w,
                                                      const cudnnConvolutionDescriptor_t c,
                                                      const cudnnTensorDescriptor_t y, cudnnConvolutionFwdAlgo_t a,
                                                      size_t *size)
{
    (void)h, (void)x, (void)w, (void)c, (void)y;
    *size = a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ? MOCK_CONV_WORKSPACE : 0;
    return CUDNN_STATUS_SUCCESS;
}

struct conv_geometry {
    int n, c, h, w, k, cg, r, s, oh, ow, ph, pw, u, v, dh, dw, groups;
};

static cudnnStatus_t read_geometry(const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
                                   const cudnnConvolutionDescriptor_t c, const cudnnTensorDescriptor_t y,
                                   struct conv_geometry *g)
{
    cudnnDataType_t t;
    cudnnTensorFormat_t f;
    cudnnConvolutionMode_t mode;
    int st[4], n2, k2;
    cudnnStatus_t rc = cudnnGetTensor4dDescriptor(x, &t, &g->n, &g->c, &g->h, &g->w, &st[0], &st[1], &st[2], &st[3]);
    if (rc == CUDNN_STATUS_SUCCESS)
        rc = cudnnGetFilter4dDescriptor(w, &t, &f, &g->k, &g->cg, &g->r, &g->s);
    if (rc == CUDNN_STATUS_SUCCESS)
        rc = cudnnGetConvolution2dDescriptor(c, &g->ph, &g->pw, &g->u, &g->v, &g->dh, &g->dw, &mode, &t);
    if (rc == CUDNN_STATUS_SUCCESS)
        rc = cudnnGetConvolutionGroupCount(c, &g->groups);
    if (rc == CUDNN_STATUS_SUCCESS)
        rc = cudnnGetTensor4dDescriptor(y, &t, &n2, &k2, &g->oh, &g->ow, &st[0], &st[1], &st[2], &st[3]);
    if (rc == CUDNN_STATUS_SUCCESS && (mode != CUDNN_CROSS_CORRELATION || n2 != g->n || k2 != g->k))
        rc = CUDNN_STATUS_BAD_PARAM;
    return rc;
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void *alpha, const cudnnTensorDescriptor_t xd,
                                      const void *xp, const cudnnFilterDescriptor_t wd, const void *wp,
                                      const cudnnConvolutionDescriptor_t cd, cudnnConvolutionFwdAlgo_t algo, void *ws,
                                      size_t ws_size, const void *beta, const cudnnTensorDescriptor_t yd, void *yp)
{
    struct conv_geometry g;
    cudnnStatus_t rc = read_geometry(xd, wd, cd, yd, &g);
    (void)h;
    if (rc != CUDNN_STATUS_SUCCESS || *(const float *)alpha != 1.0f || *(const float *)beta != 0.0f ||
        algo != CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM || ws_size != MOCK_CONV_WORKSPACE || !ws)
        return CUDNN_STATUS_BAD_PARAM;
    memset(ws, 0x5a, ws_size); /* the workspace is scratch: the backend must not rely on it */
    const float *x = xp, *w = wp;
    float *y = yp;
    int kg = g.k / g.groups;
    for (int n = 0; n < g.n; n++)
        for (int k = 0; k < g.k; k++)
            for (int oh = 0; oh < g.oh; oh++)
                for (int ow = 0; ow < g.ow; ow++) {
                    double acc = 0;
                    int c0 = k / kg * g.cg;
                    for (int c = 0; c < g.cg; c++)
                        for (int r = 0; r < g.r; r++)
                            for (int s = 0; s < g.s; s++) {
                                int ih = oh * g.u - g.ph + r * g.dh, iw = ow * g.v - g.pw + s * g.dw;
                                if (ih >= 0 && ih < g.h && iw >= 0 && iw < g.w)
                                    acc += (double)x[(((size_t)n * g.c + c0 + c) * g.h + ih) * g.w + iw] *
                                           w[(((size_t)k * g.cg + c) * g.r + r) * g.s + s];
                            }
                    y[(((size_t)n * g.k + k) * g.oh + oh) * g.ow + ow] = (float)acc;
                }
    return CUDNN_STATUS_SUCCESS;
}

/* ---- cuBLAS ---- */

cublasStatus_t cublasCreate(cublasHandle_t *h)
{
    *h = malloc(1);
    return *h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

cublasStatus_t cublasDestroy(cublasHandle_t h) { return free(h), CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s) { return (void)h, (void)s, CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m) { return (void)h, (void)m, CUBLAS_STATUS_SUCCESS; }
const char *cublasGetStatusString(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS ? "success" : "mock error"; }

cublasStatus_t cublasSetWorkspace(cublasHandle_t h, void *ws, size_t size)
{
    (void)h;
    return ws && size ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_INVALID_VALUE;
}

cublasStatus_t cublasGetProperty(libraryPropertyType t, int *v)
{
    *v = t == MAJOR_VERSION ? 13 : 0;
    return CUBLAS_STATUS_SUCCESS;
}

/* Column-major C = alpha A B + beta C, no transposes (what the backend asks for). */
cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float *alpha, const float *a, int lda, const float *b, int ldb, const float *beta,
                           float *c, int ldc)
{
    (void)h;
    if (ta != CUBLAS_OP_N || tb != CUBLAS_OP_N || lda < m || ldb < k || ldc < m)
        return CUBLAS_STATUS_INVALID_VALUE;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double acc = 0;
            for (int l = 0; l < k; l++)
                acc += (double)a[i + (size_t)l * lda] * b[l + (size_t)j * ldb];
            c[i + (size_t)j * ldc] = (float)(*alpha * acc + (*beta != 0.0f ? *beta * c[i + (size_t)j * ldc] : 0.0f));
        }
    return CUBLAS_STATUS_SUCCESS;
}

/* ---- our kernels, by their CPU counterparts ---- */

cudaError_t ck_act(float *y, const float *x, long long n, struct ck_activation a, cudaStream_t s)
{
    (void)s;
    kernel_act(y, x, (uint64_t)n, a.act, a.lo, a.hi);
    return cudaSuccess;
}

cudaError_t ck_bias_act(float *y, const float *bias, long long n, long long c, long long hw, struct ck_activation a,
                        cudaStream_t s)
{
    for (long long i = 0; i < n * c * hw; i++)
        y[i] += bias[(i / hw) % c];
    return ck_act(y, y, n * c * hw, a, s);
}

cudaError_t ck_binary(float *y, const float *a, const float *b, const struct ck_bcast *bc, int mul, cudaStream_t s)
{
    struct kshape so = {(unsigned)bc->nd, {0}}, sa = so, sb = so;
    (void)s;
    for (int d = 0; d < bc->nd; d++) {
        so.d[d] = bc->out[d];
        sa.d[d] = bc->sa[d] ? bc->out[d] : 1;
        sb.d[d] = bc->sb[d] ? bc->out[d] : 1;
    }
    kernel_binary(y, &so, a, &sa, b, &sb, mul);
    return cudaSuccess;
}

cudaError_t ck_affine(float *y, const float *x, const float *scale, const float *shift, long long n, long long c,
                      long long rest, cudaStream_t s)
{
    struct kshape sh = {3, {n, c, rest}};
    (void)s;
    kernel_channel_affine(y, x, &sh, scale, shift);
    return cudaSuccess;
}

cudaError_t ck_pool(float *y, const float *x, const struct ck_pool_shape *p, cudaStream_t s)
{
    (void)s;
    ref_pool(y, x, p);
    return cudaSuccess;
}

cudaError_t ck_softmax(float *y, const float *x, long long outer, long long len, long long inner, cudaStream_t s)
{
    struct kshape sh = {3, {outer, len, inner}};
    (void)s;
    kernel_softmax(y, x, &sh, 1, 0);
    return cudaSuccess;
}

cudaError_t ck_concat_part(float *y, const float *x, long long outer, long long chunk, long long ychunk,
                           long long offset, cudaStream_t s)
{
    struct kshape out = {2, {outer, ychunk}}, in = {2, {outer, chunk}};
    (void)s;
    kernel_concat_part(y, &out, x, &in, 1, offset);
    return cudaSuccess;
}

cudaError_t ck_pad(float *y, const float *x, long long nc, long long h, long long w, long long oh, long long ow,
                   long long pt, long long pl, cudaStream_t s)
{
    (void)s;
    ref_pad(y, x, nc, h, w, oh, ow, pt, pl);
    return cudaSuccess;
}
