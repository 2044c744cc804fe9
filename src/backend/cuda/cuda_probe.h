/* What this machine offers for CUDA, for `profile check` and for choosing a default device:
 * GPUs (name, memory, compute capability), driver, CUDA runtime, cuDNN and cuBLAS versions. */
#ifndef CW_CUDA_PROBE_H
#define CW_CUDA_PROBE_H
#include "common/env_check.h"

/* Number of usable CUDA devices (0 on a machine without GPU or driver). */
int cuda_probe_count(void);
/* Fills r: OK listing the GPUs and versions, or INFO "no CUDA device (why)". */
void cuda_probe_env(struct env_result *r);

#endif
