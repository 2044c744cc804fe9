/* A model ready for GPUs: its cuda_plan, per batch size the cuDNN descriptors of every
 * convolution and their algorithms and workspace, and its weights in pinned host memory in
 * page layout (so LoadWeights is one async copy per page). Built at LoadModelFromDisk,
 * immutable afterwards, shared by all GPUs of the worker (one model, many copies). */
#ifndef CW_CUDA_MODEL_H
#define CW_CUDA_MODEL_H
#include "cuda_conv.h"
#include "cuda_gpu.h"
#include "cuda_plan.h"

#define CUDA_MAX_CONV_WORKSPACE (UINT64_C(1) << 30) /* per convolution, at most */

struct cuda_model {
    struct cuda_plan cp;
    struct cuda_conv *conv[CUDA_MAX_BATCHES]; /* per batch: cp.batch[i].n_convs descriptors */
    uint8_t *image;                           /* pinned host memory (cp.image_size bytes), NULL until prepared */
    uint64_t arena_need;                      /* device bytes of the largest batch's arena, once prepared */
};

/* Host only: takes ownership of *p (even on failure), checks and plans it (cuda_plan) and
 * describes every convolution to cuDNN. 0, or -1 with err. */
int cuda_model_build(struct cuda_model **out, struct plan *p, const unsigned *batch_sizes, unsigned n_batches,
                     uint64_t page_size, char *err, size_t errlen);
/* On g's GPU: chooses every convolution's algorithm within arena_limit bytes of arena per
 * batch size, sets arena_need, and moves the weights into pinned host memory (the plan's
 * own copy is freed). 0, or -1 with err. */
int cuda_model_prepare(struct cuda_model *m, struct cuda_gpu *g, uint64_t arena_limit, char *err, size_t errlen);
void cuda_model_destroy(struct cuda_model *m);
/* "implicit_precomp_gemm x40, winograd_nonfused x13; workspace <= 12.0 MiB" over all batch sizes
 * (and a warning when an algorithm is not deterministic). */
void cuda_model_describe_algorithms(const struct cuda_model *m, char *out, size_t len);

#endif
