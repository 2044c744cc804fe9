/* The CPU device: a set of pinned cores running oneDNN. Implements the worker's backend ops
 * (weights reordered into a pre-allocated page-backed cache, inference on a static arena)
 * and its LoadModelFromDisk hook (load plan, build primitives, measure timings). */
#ifndef CW_CPU_BACKEND_H
#define CW_CPU_BACKEND_H
#include "common/worker_config.h"
#include "backend/backend.h"
#include <stddef.h>

struct cpu_options {
    unsigned cores_per_device; /* default 1 */
    unsigned first_core;       /* device i uses cores first + i*cores_per_device ... (mod online CPUs) */
    int measure;               /* measure timings on LoadModelFromDisk (default 1); 0: use model.measurements */
    unsigned measure_runs;     /* timed runs per batch size (default 3; the median is reported) */
};

struct cpu_worker;

void cpu_options_defaults(struct cpu_options *o);
struct cpu_worker *cpu_worker_create(const struct cpu_options *o, const struct worker_config *cfg, char *err,
                                     size_t errlen);
void cpu_worker_destroy(struct cpu_worker *w);

/* Signatures of worker_options' make_backend / load_model / free_model (ctx = the cpu_worker). */
int cpu_worker_make_backend(unsigned gpu_id, struct backend *out, void *ctx);
int cpu_worker_load_model(void *ctx, struct model_info *m, char *err, size_t errlen);
void cpu_worker_free_model(void *ctx, struct model_info *m);

#endif
