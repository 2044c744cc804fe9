/* Static memory plan for a model's activations at one batch size: each activation gets an
 * offset in one arena, reusing the space of tensors no later op reads (first fit over live
 * ranges, in op order). Running a model then allocates nothing. */
#ifndef CW_MODEL_ACT_ARENA_H
#define CW_MODEL_ACT_ARENA_H
#include "model/plan.h"
#include <stdint.h>

/* size[t]: bytes of tensor t (activations only; weights are ignored). Offsets are multiples
 * of `align` (a power of two). Fills off[t] for graph inputs and op outputs and *total (the
 * arena's size, aligned). p must be validated. 0, or -1 when out of memory. */
int act_arena_plan(const struct plan *p, const uint64_t *size, uint64_t align, uint64_t *off, uint64_t *total);

#endif
