/* What running models on one GPU needs besides memory: an exec stream (inference: input
 * copy, kernels, output copy), a copy stream (weights loads, concurrent with inference),
 * cuDNN and cuBLAS handles bound to the exec stream (cuBLAS with its own fixed workspace)
 * and the events that time an inference. Used by one thread per stream. */
#ifndef CW_CUDA_GPU_H
#define CW_CUDA_GPU_H
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <stddef.h>

#define CUDA_BLAS_WORKSPACE (32u << 20) /* cuBLAS's workspace, set once (none taken at run time) */

enum { CUDA_EV_START, CUDA_EV_INPUT, CUDA_EV_EXEC, CUDA_EV_OUTPUT, CUDA_EV_COUNT };

struct cuda_gpu {
    int ordinal;
    cudaStream_t exec, copy;
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    void *blas_ws;
    cudaEvent_t ev[CUDA_EV_COUNT];
};

/* 0, or -1 with err (g is closed again). Makes `ordinal` the calling thread's device. */
int cuda_gpu_open(struct cuda_gpu *g, int ordinal, char *err, size_t errlen);
void cuda_gpu_close(struct cuda_gpu *g);
/* Number of usable CUDA devices (0 with the reason in why when there are none). */
int cuda_gpu_count(char *why, size_t whylen);

#endif
