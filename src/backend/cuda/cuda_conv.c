#include "cuda_conv.h"
#include "cuda_status.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>

const char *cuda_conv_algo_name(cudnnConvolutionFwdAlgo_t a)
{
    static const char *const names[] = {"implicit_gemm", "implicit_precomp_gemm", "gemm", "direct", "fft", "fft_tiling",
                                        "winograd",      "winograd_nonfused"};
    return (unsigned)a < sizeof names / sizeof *names ? names[a] : "?";
}

static int fits_int(const struct cuda_dims *d)
{
    for (uint32_t i = 0; i < d->nd; i++)
        if (d->d[i] < 1 || d->d[i] > INT_MAX)
            return 0;
    return 1;
}

static int create(struct cuda_conv *c, char *err, size_t errlen)
{
    cudnnStatus_t st = cudnnCreateTensorDescriptor(&c->x);
    if (st == CUDNN_STATUS_SUCCESS)
        st = cudnnCreateTensorDescriptor(&c->y);
    if (st == CUDNN_STATUS_SUCCESS)
        st = cudnnCreateFilterDescriptor(&c->w);
    if (st == CUDNN_STATUS_SUCCESS)
        st = cudnnCreateConvolutionDescriptor(&c->conv);
    return st == CUDNN_STATUS_SUCCESS ? 0 : cuda_dnn_fail(err, errlen, "creating convolution descriptors", st);
}

static cudnnStatus_t set_descriptors(struct cuda_conv *c, const struct cuda_step *s)
{
    const int64_t *x = s->xd.d, *w = s->wd.d, *y = s->yd.d;
    cudnnStatus_t st = cudnnSetTensor4dDescriptor(c->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)x[0], (int)x[1],
                                                  (int)x[2], (int)x[3]);
    if (st == CUDNN_STATUS_SUCCESS)
        st = cudnnSetTensor4dDescriptor(c->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)y[0], (int)y[1], (int)y[2],
                                        (int)y[3]);
    if (st == CUDNN_STATUS_SUCCESS)
        st = cudnnSetFilter4dDescriptor(c->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, (int)w[0], (int)w[1], (int)w[2],
                                        (int)w[3]);
    if (st == CUDNN_STATUS_SUCCESS)
        st = cudnnSetConvolution2dDescriptor(c->conv, (int)s->pad_l[0], (int)s->pad_l[1], (int)s->stride[0],
                                             (int)s->stride[1], (int)s->dilation[0], (int)s->dilation[1],
                                             CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT);
    if (st == CUDNN_STATUS_SUCCESS)
        st = cudnnSetConvolutionGroupCount(c->conv, (int)s->group);
    if (st == CUDNN_STATUS_SUCCESS) /* plain FP32 arithmetic: no TF32 tensor cores (ONNX float semantics) */
        st = cudnnSetConvolutionMathType(c->conv, CUDNN_FMA_MATH);
    return st;
}

int cuda_conv_describe(struct cuda_conv *c, const struct cuda_step *s, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (s->kind != CSTEP_CONV || s->xd.nd != 4 || s->wd.nd != 4 || s->yd.nd != 4 || !fits_int(&s->xd) ||
        !fits_int(&s->wd) || !fits_int(&s->yd) || s->group < 1 || s->group > INT_MAX)
        return snprintf(err, errlen, "convolution shapes out of cuDNN's range"), -1;
    if (create(c, err, errlen) != 0) {
        cuda_conv_release(c);
        return -1;
    }
    cudnnStatus_t st = set_descriptors(c, s);
    int n = 0, k = 0, h = 0, w = 0;
    if (st == CUDNN_STATUS_SUCCESS)
        st = cudnnGetConvolution2dForwardOutputDim(c->conv, c->x, c->w, &n, &k, &h, &w);
    if (st != CUDNN_STATUS_SUCCESS) {
        cuda_conv_release(c);
        return cuda_dnn_fail(err, errlen, "setting up the convolution", st);
    }
    if (n != s->yd.d[0] || k != s->yd.d[1] || h != s->yd.d[2] || w != s->yd.d[3]) {
        cuda_conv_release(c);
        return snprintf(err, errlen, "cuDNN computes output %dx%dx%dx%d, the plan says %lldx%lldx%lldx%lld", n, k, h, w,
                        (long long)s->yd.d[0], (long long)s->yd.d[1], (long long)s->yd.d[2], (long long)s->yd.d[3]),
               -1;
    }
    return 0;
}

/* The first usable candidate in cuDNN's ranking: supported, within the workspace, FP32
 * arithmetic (FMA math first, else default math, run under the descriptor's FMA math type,
 * which rules out TF32 either way) and deterministic; only if none is deterministic, the
 * first that is not (flagged, so that it is reported). */
static int pick(const cudnnConvolutionFwdAlgoPerf_t *perf, int n, size_t ws_limit)
{
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < n; i++)
            if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= ws_limit &&
                (perf[i].determinism == CUDNN_DETERMINISTIC || pass == 2) &&
                (perf[i].mathType == CUDNN_FMA_MATH || (pass >= 1 && perf[i].mathType == CUDNN_DEFAULT_MATH)))
                return i;
    return -1;
}

/* What cuDNN offered, for the error message when nothing fits. */
static void describe_candidates(char *out, size_t len, const cudnnConvolutionFwdAlgoPerf_t *perf, int n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used + 1 < len; i++) {
        int k = snprintf(out + used, len - used, "%s%s(status %d, math %d, det %d, %zu B)", i ? " " : "",
                         cuda_conv_algo_name(perf[i].algo), (int)perf[i].status, (int)perf[i].mathType,
                         (int)perf[i].determinism, perf[i].memory);
        used += k > 0 ? (size_t)k : 0;
    }
}

int cuda_conv_choose(struct cuda_conv *c, cudnnHandle_t h, size_t ws_limit, char *err, size_t errlen)
{
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    cudnnStatus_t st = cudnnGetConvolutionForwardAlgorithm_v7(h, c->x, c->w, c->conv, c->y,
                                                              CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf);
    if (st != CUDNN_STATUS_SUCCESS)
        return cuda_dnn_fail(err, errlen, "ranking convolution algorithms", st);
    int i = pick(perf, n, ws_limit);
    if (i < 0) {
        char offered[512];
        describe_candidates(offered, sizeof offered, perf, n);
        return snprintf(err, errlen, "cuDNN offers no FP32 algorithm within %zu bytes of workspace: %s", ws_limit,
                        offered),
               -1;
    }
    c->algo = perf[i].algo;
    c->deterministic = perf[i].determinism == CUDNN_DETERMINISTIC;
    st = cudnnGetConvolutionForwardWorkspaceSize(h, c->x, c->w, c->conv, c->y, c->algo, &c->ws);
    if (st != CUDNN_STATUS_SUCCESS)
        return cuda_dnn_fail(err, errlen, "sizing the convolution workspace", st);
    return c->ws <= ws_limit
               ? 0
               : (snprintf(err, errlen, "convolution workspace %zu bytes exceeds %zu", c->ws, ws_limit), -1);
}

void cuda_conv_release(struct cuda_conv *c)
{
    if (c->x)
        cudnnDestroyTensorDescriptor(c->x);
    if (c->y)
        cudnnDestroyTensorDescriptor(c->y);
    if (c->w)
        cudnnDestroyFilterDescriptor(c->w);
    if (c->conv)
        cudnnDestroyConvolutionDescriptor(c->conv);
    memset(c, 0, sizeof *c);
}
