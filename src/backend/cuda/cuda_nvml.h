/* The GPU's SM clock and the driver version through NVML, loaded at run time (libnvidia-ml
 * comes with the driver, not the toolkit: a worker built with CUDA still starts, and reports
 * clock 0, where there is no driver). */
#ifndef CW_CUDA_NVML_H
#define CW_CUDA_NVML_H
#include <stddef.h>

struct cuda_nvml;

/* NULL when NVML cannot be loaded or initialised (why says which). */
struct cuda_nvml *cuda_nvml_open(char *why, size_t whylen);
void cuda_nvml_close(struct cuda_nvml *n);
/* NVML's handle of CUDA device `ordinal` (matched by PCI bus id), or NULL. */
void *cuda_nvml_device(struct cuda_nvml *n, int ordinal);
/* Current SM clock in MHz, 0 if unknown. n and dev may be NULL. */
unsigned cuda_nvml_sm_clock(struct cuda_nvml *n, void *dev);
/* The driver's version string ("580.159.03"); 0, or -1. */
int cuda_nvml_driver_version(struct cuda_nvml *n, char *out, size_t len);

#endif
