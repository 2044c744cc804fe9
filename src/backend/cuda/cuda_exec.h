/* Running a prepared cuda_model on one GPU: weights loads (one async copy per page on the
 * copy stream) and inferences (input copy, the batch's steps, output copy on the exec
 * stream, timed with CUDA events). Nothing is allocated or searched here; every call's
 * status is checked and a failure returns -1 with the step, the op and the library's error. */
#ifndef CW_CUDA_EXEC_H
#define CW_CUDA_EXEC_H
#include "cuda_model.h"
#include <stdint.h>

/* Where a model runs: the device arena (>= arena_need bytes) and its pages' device addresses. */
struct cuda_target {
    uint8_t *arena;
    uint8_t *const *page_base; /* cp.pages.n_pages entries */
};

/* Durations measured by the exec stream's events, ns from the start of the input copy. */
struct cuda_exec_times {
    uint64_t input_end, exec_end, output_end;
};

/* Copies the model's pinned weights into its pages and waits for the copy. */
int cuda_exec_load(const struct cuda_model *m, struct cuda_gpu *g, uint8_t *const *page_base, char *err, size_t errlen);
/* Enqueues batch index bi's steps on the exec stream (inputs already in the arena). */
int cuda_exec_enqueue(const struct cuda_model *m, unsigned bi, struct cuda_gpu *g, const struct cuda_target *t,
                      char *err, size_t errlen);
/* One inference at batch index bi: host_in (the padded batch's input, pinned) to the arena,
 * the steps, the output back to host_out (pinned); waits and fills *times. */
int cuda_exec_infer(const struct cuda_model *m, unsigned bi, struct cuda_gpu *g, const struct cuda_target *t,
                    const void *host_in, void *host_out, struct cuda_exec_times *times, char *err, size_t errlen);
/* Device address of activation t (or CUDA_TEMP) at batch index bi. */
float *cuda_exec_act(const struct cuda_model *m, unsigned bi, const struct cuda_target *t, int32_t tensor);

#endif
