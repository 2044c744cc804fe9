/* The CPU device as a model_runner (check_model, convert, the CPU worker's measurements):
 * a model on a private weights buffer and arena, run on the calling thread's pinned cores. */
#ifndef CW_CPU_RUNNER_H
#define CW_CPU_RUNNER_H
#include "backend/model_runner.h"
#include "cpu_model.h"

/* Builds the model from *p (taken, even on failure) for the given batch sizes on `cores`
 * cores pinned from core 0 (the calling thread's affinity and team are set). 0, or -1 with err. */
int cpu_runner_open(struct model_runner *r, struct plan *p, const unsigned *batch_sizes, unsigned n_batches,
                    unsigned cores, char *err, size_t errlen);
/* Runs an already built model (borrowed: it must outlive the runner). */
int cpu_runner_wrap(struct model_runner *r, const struct cpu_model *m, char *err, size_t errlen);

#endif
