#include "cuda_probe.h"
#include "cuda_gpu.h"
#include "cuda_nvml.h"
#include <library_types.h>
#include <stdio.h>
#include <string.h>

int cuda_probe_count(void)
{
    char why[128];
    return cuda_gpu_count(why, sizeof why);
}

static void append(char *out, size_t len, const char *fmt_text)
{
    size_t used = strlen(out);
    if (used + 1 < len)
        snprintf(out + used, len - used, "%s", fmt_text);
}

static void describe_gpus(char *out, size_t len, int n)
{
    for (int i = 0; i < n; i++) {
        struct cudaDeviceProp p;
        char one[200];
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess)
            snprintf(one, sizeof one, "%sGPU %d: properties unreadable", i ? "; " : "", i);
        else
            snprintf(one, sizeof one, "%sGPU %d: %.60s, %.1f GiB, sm_%d%d, %d SMs", i ? "; " : "", i, p.name,
                     p.totalGlobalMem / 1073741824.0, p.major, p.minor, p.multiProcessorCount);
        append(out, len, one);
    }
}

static void describe_versions(char *out, size_t len)
{
    int drv = 0, rt = 0, blas_major = 0, blas_minor = 0, blas_patch = 0;
    char driver[96] = "?", why[128], one[320];
    struct cuda_nvml *n = cuda_nvml_open(why, sizeof why);
    if (cuda_nvml_driver_version(n, driver, sizeof driver) != 0)
        snprintf(driver, sizeof driver, "version unknown (%.60s)", n ? "NVML did not say" : why);
    cuda_nvml_close(n);
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    cublasGetProperty(MAJOR_VERSION, &blas_major);
    cublasGetProperty(MINOR_VERSION, &blas_minor);
    cublasGetProperty(PATCH_LEVEL, &blas_patch);
    size_t dnn = cudnnGetVersion();
    snprintf(one, sizeof one, "; driver %s (CUDA %d.%d); runtime %d.%d; cuDNN %zu.%zu.%zu; cuBLAS %d.%d.%d", driver,
             drv / 1000, drv % 1000 / 10, rt / 1000, rt % 1000 / 10, dnn / 10000, dnn % 10000 / 100, dnn % 100,
             blas_major, blas_minor, blas_patch);
    append(out, len, one);
}

void cuda_probe_env(struct env_result *r)
{
    char why[128] = "";
    int n = cuda_gpu_count(why, sizeof why);
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "CUDA devices");
    if (n < 1) {
        r->verdict = ENV_INFO;
        snprintf(r->value, sizeof r->value, "no CUDA device (%.200s); worker --device cpu only", why);
        return;
    }
    r->verdict = ENV_OK;
    describe_gpus(r->value, sizeof r->value, n);
    describe_versions(r->value, sizeof r->value);
}
