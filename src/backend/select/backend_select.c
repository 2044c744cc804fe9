#include "backend_select.h"
#include "backend/cpu/cpu_runner.h"
#include <stdio.h>
#include <string.h>
#ifdef CLOCKWORK_HAVE_CUDA
#include "backend/cuda/cuda_gpu.h"
#include "backend/cuda/cuda_runner.h"
#endif

int backend_select_parse(const char *name, enum backend_kind *out)
{
    if (strcmp(name, "cpu") == 0)
        *out = BACKEND_CPU;
    else if (strcmp(name, "cuda") == 0)
        *out = BACKEND_CUDA;
    else
        return -1;
    return 0;
}

const char *backend_select_name(enum backend_kind kind) { return kind == BACKEND_CUDA ? "cuda" : "cpu"; }

int backend_select_resolve(enum backend_kind *kind, char *err, size_t errlen)
{
#ifdef CLOCKWORK_HAVE_CUDA
    char why[256] = "";
    int gpus = cuda_gpu_count(why, sizeof why);
    if (*kind == BACKEND_DEFAULT)
        *kind = gpus > 0 ? BACKEND_CUDA : BACKEND_CPU;
    if (*kind == BACKEND_CUDA && gpus < 1)
        return snprintf(err, errlen, "--device cuda: no CUDA device (%s)", why), -1;
#else
    if (*kind == BACKEND_CUDA)
        return snprintf(err, errlen,
                        "--device cuda: this build has no CUDA support (configure with "
                        "-DCLOCKWORK_CUDA=ON where the CUDA toolkit, cuDNN and cuBLAS are installed)"),
               -1;
    *kind = BACKEND_CPU;
#endif
    return 0;
}

int backend_select_runner(struct model_runner *r, enum backend_kind kind, struct plan *p, const unsigned *batch_sizes,
                          unsigned n_batches, unsigned cores, char *err, size_t errlen)
{
#ifdef CLOCKWORK_HAVE_CUDA
    if (kind == BACKEND_CUDA)
        return cuda_runner_open(r, p, batch_sizes, n_batches, 0, err, errlen);
#endif
    if (kind != BACKEND_CPU) {
        plan_free(p);
        return snprintf(err, errlen, "device %s not available", backend_select_name(kind)), -1;
    }
    return cpu_runner_open(r, p, batch_sizes, n_batches, cores, err, errlen);
}
