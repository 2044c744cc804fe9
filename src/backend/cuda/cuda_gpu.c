#include "cuda_gpu.h"
#include "cuda_status.h"
#include <stdio.h>
#include <string.h>

int cuda_gpu_count(char *why, size_t whylen)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorInsufficientDriver)
        snprintf(why, whylen, "no NVIDIA driver, or one older than this build's CUDA %d.%d: %s", CUDART_VERSION / 1000,
                 CUDART_VERSION % 1000 / 10, cudaGetErrorName(e));
    else if (e != cudaSuccess)
        snprintf(why, whylen, "%s: %s", cudaGetErrorName(e), cudaGetErrorString(e));
    if (e != cudaSuccess)
        return 0;
    if (n == 0)
        snprintf(why, whylen, "the driver reports no devices");
    return n;
}

static int open_streams(struct cuda_gpu *g, char *err, size_t errlen)
{
    cudaError_t e = cudaStreamCreateWithFlags(&g->exec, cudaStreamNonBlocking);
    if (e == cudaSuccess)
        e = cudaStreamCreateWithFlags(&g->copy, cudaStreamNonBlocking);
    for (int i = 0; e == cudaSuccess && i < CUDA_EV_COUNT; i++)
        e = cudaEventCreate(&g->ev[i]);
    return e == cudaSuccess ? 0 : cuda_rt_fail(err, errlen, "creating streams and events", e);
}

static int open_dnn(struct cuda_gpu *g, char *err, size_t errlen)
{
    cudnnStatus_t st = cudnnCreate(&g->dnn);
    if (st == CUDNN_STATUS_SUCCESS)
        st = cudnnSetStream(g->dnn, g->exec);
    return st == CUDNN_STATUS_SUCCESS ? 0 : cuda_dnn_fail(err, errlen, "creating the cuDNN handle", st);
}

/* cublasSetStream resets the workspace, so the workspace is set after it. */
static int open_blas(struct cuda_gpu *g, char *err, size_t errlen)
{
    cudaError_t e = cudaMalloc(&g->blas_ws, CUDA_BLAS_WORKSPACE);
    if (e != cudaSuccess)
        return cuda_rt_fail(err, errlen, "allocating the cuBLAS workspace", e);
    cublasStatus_t st = cublasCreate(&g->blas);
    if (st == CUBLAS_STATUS_SUCCESS)
        st = cublasSetStream(g->blas, g->exec);
    if (st == CUBLAS_STATUS_SUCCESS)
        st = cublasSetWorkspace(g->blas, g->blas_ws, CUDA_BLAS_WORKSPACE);
    if (st == CUBLAS_STATUS_SUCCESS) /* no TF32: plain FP32 like the CPU backend */
        st = cublasSetMathMode(g->blas, CUBLAS_DEFAULT_MATH);
    return st == CUBLAS_STATUS_SUCCESS ? 0 : cuda_blas_fail(err, errlen, "creating the cuBLAS handle", st);
}

int cuda_gpu_open(struct cuda_gpu *g, int ordinal, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    g->ordinal = ordinal;
    cudaError_t e = cudaSetDevice(ordinal);
    if (e != cudaSuccess)
        return cuda_rt_fail(err, errlen, "selecting the GPU", e);
    if (open_streams(g, err, errlen) != 0 || open_dnn(g, err, errlen) != 0 || open_blas(g, err, errlen) != 0) {
        cuda_gpu_close(g);
        return -1;
    }
    return 0;
}

void cuda_gpu_close(struct cuda_gpu *g)
{
    if (cudaSetDevice(g->ordinal) != cudaSuccess)
        return; /* nothing of it can exist */
    if (g->blas)
        cublasDestroy(g->blas);
    if (g->dnn)
        cudnnDestroy(g->dnn);
    if (g->blas_ws)
        cudaFree(g->blas_ws);
    for (int i = 0; i < CUDA_EV_COUNT; i++)
        if (g->ev[i])
            cudaEventDestroy(g->ev[i]);
    if (g->exec)
        cudaStreamDestroy(g->exec);
    if (g->copy)
        cudaStreamDestroy(g->copy);
    memset(g, 0, sizeof *g);
}
