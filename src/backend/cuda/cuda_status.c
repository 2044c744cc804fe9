#include "cuda_status.h"
#include <stdio.h>

int cuda_rt_fail(char *err, size_t errlen, const char *what, cudaError_t e)
{
    snprintf(err, errlen, "%s: CUDA error %d %s (%s)", what, (int)e, cudaGetErrorName(e), cudaGetErrorString(e));
    return -1;
}

int cuda_dnn_fail(char *err, size_t errlen, const char *what, cudnnStatus_t s)
{
    char detail[256] = "";
    cudnnGetLastErrorString(detail, sizeof detail);
    snprintf(err, errlen, "%s: cuDNN %s%s%s", what, cudnnGetErrorString(s), detail[0] ? ": " : "", detail);
    return -1;
}

int cuda_blas_fail(char *err, size_t errlen, const char *what, cublasStatus_t s)
{
    snprintf(err, errlen, "%s: cuBLAS %s (%d)", what, cublasGetStatusString(s), (int)s);
    return -1;
}
