/* The CUDA device as a model_runner (check_model, convert, the CUDA worker's measurements):
 * a prepared model with private device memory (weights in page layout, arena) and pinned
 * host buffers on one GPU. Times come from the exec stream's events. */
#ifndef CW_CUDA_RUNNER_H
#define CW_CUDA_RUNNER_H
#include "backend/model_runner.h"
#include "cuda_gpu.h"
#include "cuda_model.h"

#define CUDA_RUNNER_PAGE_SIZE (UINT64_C(1) << 30) /* check_model / convert: one big page per GiB */
#define CUDA_RUNNER_ARENA (UINT64_C(4) << 30)     /* their arena limit (activations + workspace) */

/* Builds and prepares the model from *p (taken, even on failure) on GPU `ordinal`. */
int cuda_runner_open(struct model_runner *r, struct plan *p, const unsigned *batch_sizes, unsigned n_batches,
                     int ordinal, char *err, size_t errlen);
/* Runs a prepared model on g (both borrowed: they must outlive the runner). */
int cuda_runner_wrap(struct model_runner *r, const struct cuda_model *m, struct cuda_gpu *g, char *err, size_t errlen);

#endif
