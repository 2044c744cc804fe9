/* Device backend interface: what a worker device needs from the hardware (or its
 * emulation) to transfer weights into cache pages and run one inference. The protocol,
 * executors and page accounting never depend on which backend is behind this table. */
#ifndef CW_BACKEND_H
#define CW_BACKEND_H
#include "model/model_info.h"
#include <stddef.h>
#include <stdint.h>

struct backend_infer_timing {
    uint64_t copy_input_begin, copy_input_end;
    uint64_t exec_begin, exec_end;
    uint64_t copy_output_begin, copy_output_end;
    unsigned clock_before, clock_after; /* device clock, MHz */
};

struct backend_infer_io {
    unsigned batch_size, padded_batch; /* padded_batch is a supported size >= batch_size */
    const uint8_t *input;              /* compressed inputs (or, with n_inputs 0, the raw batch input);
                                        * NULL when the backend does not need them */
    const uint32_t *input_sizes;
    size_t n_inputs, input_len;
    uint8_t *output; /* batch_size * output_size bytes, zeroed; NULL for zero-size inputs */
    size_t output_len;
};

struct backend_ops {
    const char *name;
    int needs_input; /* 0: the worker need not keep the input bytes (emulation) */
    /* Transfers m's weights into `pages`, starting at `start` (worker clock, already reached);
     * blocks until done and sets *end. Returns an action status (0 on success). */
    int (*load_weights)(void *impl, const struct model_info *m, const unsigned *pages, unsigned npages, uint64_t start,
                        uint64_t *end);
    /* Copies inputs in, executes the padded batch, copies outputs out; blocks until done. */
    int (*infer)(void *impl, const struct model_info *m, const unsigned *pages, unsigned npages,
                 const struct backend_infer_io *io, uint64_t start, struct backend_infer_timing *t);
    void (*destroy)(void *impl);
};

struct backend {
    const struct backend_ops *ops;
    void *impl;
};

#endif
