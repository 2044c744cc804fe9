/* One-line messages for failed CUDA runtime, cuDNN and cuBLAS calls, so that every error
 * names the call, the library's status and its explanation. Each returns -1. */
#ifndef CW_CUDA_STATUS_H
#define CW_CUDA_STATUS_H
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <stddef.h>

int cuda_rt_fail(char *err, size_t errlen, const char *what, cudaError_t e);
int cuda_dnn_fail(char *err, size_t errlen, const char *what, cudnnStatus_t s);
int cuda_blas_fail(char *err, size_t errlen, const char *what, cublasStatus_t s);

#endif
