/* A model loaded on one device outside a worker (check_model, convert, the worker's own
 * measurements at LoadModelFromDisk): load its weights, run a batch size on a given input,
 * read the output, with timings. The CPU and CUDA backends each provide one. */
#ifndef CW_MODEL_RUNNER_H
#define CW_MODEL_RUNNER_H
#include "model/model_info.h"
#include <stddef.h>
#include <stdint.h>

struct model_run_times {
    uint64_t exec_ns;  /* computing only */
    uint64_t total_ns; /* what an Infer costs the device: input copy + exec + output copy */
};

struct model_runner_ops {
    /* Loads (or reloads) the weights; *ns: time taken. 0, or -1 with err. */
    int (*load)(void *impl, uint64_t *ns, char *err, size_t errlen);
    /* Runs batch index bi on `in` (batch x input_bytes) into `out` (batch x output_bytes). */
    int (*run)(void *impl, unsigned bi, const float *in, float *out, struct model_run_times *t, char *err,
               size_t errlen);
    void (*close)(void *impl);
};

struct model_runner {
    const struct model_runner_ops *ops;
    void *impl;
    char device[32]; /* "cpu (1 core)", "cuda:0 NVIDIA H200" */
    unsigned n_batches;
    unsigned batch_sizes[MODEL_MAX_BATCH_SIZES];
    uint64_t input_bytes, output_bytes; /* at batch 1 */
    uint64_t weights_bytes;
};

/* Fills n floats with a fixed, non-trivial pattern in [-1, 1) (never time on zeros). */
void model_runner_pattern(float *x, uint64_t n);
/* Median of `runs` timed runs (after one warm-up) of the load and of each batch size (total_ns,
 * the Infer's device time), on the pattern input. 0, or -1 with err. */
int model_runner_measure(struct model_runner *r, unsigned runs, uint64_t *load_ns, uint64_t *exec_ns, char *err,
                         size_t errlen);
void model_runner_close(struct model_runner *r);

#endif
