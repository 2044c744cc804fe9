/* Which activations may leave plain NCHW for the layouts convolutions work best on (NHWC,
 * nChw8c/16c): 4-D intermediate tensors whose every consumer runs on oneDNN. Graph inputs,
 * outputs and anything our plain-C kernels read stay plain NCHW. */
#ifndef CW_CPU_LAYOUT_H
#define CW_CPU_LAYOUT_H
#include "model/plan.h"
#include <stdint.h>

/* ok[t] (n_tensors entries) = 1 if tensor t may be blocked. Pure; needs a validated plan. */
void cpu_layout_blockable(const struct plan *p, uint8_t *ok);

#endif
