/* State shared by the CUDA worker's files (cuda_backend.c: models; cuda_device.c: devices). */
#ifndef CW_CUDA_INTERNAL_H
#define CW_CUDA_INTERNAL_H
#include "cuda_backend.h"
#include "cuda_gpu.h"
#include "cuda_nvml.h"

struct cuda_worker {
    struct cuda_options opt;
    struct worker_config cfg;
    int n_gpus;
    struct cuda_gpu loader; /* GPU 0's handles for LoadModelFromDisk (algorithms, measurements) */
    struct cuda_nvml *nvml; /* NULL without NVML: clocks read 0 */
};

#endif
