/* The CUDA device: one GPU per worker device. Implements the worker's backend ops (weights
 * cache = one cudaMalloc pool cut into pages at start-up; LoadWeights = async copies of a
 * model's pinned pages on the copy stream; Infer = input copy, cuDNN/cuBLAS/our kernels,
 * output copy on the exec stream, timed by CUDA events) and its LoadModelFromDisk hook
 * (plan, cuDNN descriptors and algorithms per batch size, pinned weights, measurements). */
#ifndef CW_CUDA_BACKEND_H
#define CW_CUDA_BACKEND_H
#include "backend/backend.h"
#include "common/worker_config.h"
#include <stddef.h>

struct cuda_options {
    int measure;           /* measure timings on LoadModelFromDisk (default 1); 0: use model.measurements */
    unsigned measure_runs; /* timed runs per batch size (default 5; the median is reported) */
};

struct cuda_worker;

void cuda_options_defaults(struct cuda_options *o);
/* Checks that num_devices GPUs exist and prepares GPU 0 for loading models. NULL with err. */
struct cuda_worker *cuda_worker_create(const struct cuda_options *o, const struct worker_config *cfg,
                                       unsigned num_devices, char *err, size_t errlen);
void cuda_worker_destroy(struct cuda_worker *w);

/* Signatures of worker_options' make_backend / load_model / free_model (ctx = the cuda_worker).
 * make_backend allocates the GPU's whole weights cache, arena and pinned IO buffers and logs
 * the sizes that did not fit when it cannot. */
int cuda_worker_make_backend(unsigned gpu_id, struct backend *out, void *ctx);
int cuda_worker_load_model(void *ctx, struct model_info *m, char *err, size_t errlen);
void cuda_worker_free_model(void *ctx, struct model_info *m);

#endif
