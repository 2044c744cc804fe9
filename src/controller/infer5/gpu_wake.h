/* Which GPUs' infer loops a tick must run. A GPU's loop, once run, stays idle until its state
 * changes (marked) or its wake-up time comes (due); a tick visits exactly the marked and due
 * GPUs, in index order as a scan over all GPUs would, so a tick costs O(log n) per GPU that
 * may act instead of O(n). A GPU marked during a tick once the tick has visited (or passed)
 * it waits for the next tick, as a scan would leave it. */
#ifndef CW_INFER5_GPU_WAKE_H
#define CW_INFER5_GPU_WAKE_H
#include "controller/infer5/idheap.h"
#include "controller/infer5/idset.h"
#include <stdint.h>

#define GPU_WAKE_NEVER UINT64_MAX

struct gpu_wake {
    struct idheap due;   /* GPUs with a wake-up time, by (time, index) */
    unsigned *due_pos;   /* per GPU, in `due` */
    struct idset marked; /* GPUs to run at the next tick */
    unsigned next_min;   /* during a tick: the lowest index it may still visit */
};

void gpu_wake_init(struct gpu_wake *w, unsigned n_gpus);
void gpu_wake_free(struct gpu_wake *w);
/* g's state changed since its loop last ran: the next tick runs it. */
void gpu_wake_mark(struct gpu_wake *w, unsigned g);
/* g's loop just ran: it is clean and wants to run again at t (GPU_WAKE_NEVER: only if marked). */
void gpu_wake_ran(struct gpu_wake *w, unsigned g, uint64_t t);
/* Whether some GPU's state changed since its loop last ran (the next tick runs it). */
int gpu_wake_any_marked(const struct gpu_wake *w);
/* The earliest wake-up time of any GPU, GPU_WAKE_NEVER if none. */
uint64_t gpu_wake_next(const struct gpu_wake *w);

/* A tick: gpu_wake_begin(now), then run each GPU gpu_wake_step returns (ascending, until -1;
 * each run must end with gpu_wake_ran). */
void gpu_wake_begin(struct gpu_wake *w, uint64_t now);
int gpu_wake_step(struct gpu_wake *w);

#endif
