#include "cuda_nvml.h"
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

/* The few NVML entry points used, declared here (the toolkit ships no nvml.h); their ABI is
 * stable across drivers. */
typedef int nvml_return_t;
typedef struct nvml_device_st *nvml_device_t;
#define NVML_SUCCESS 0
#define NVML_CLOCK_SM 1

struct cuda_nvml {
    void *lib;
    nvml_return_t (*shutdown)(void);
    nvml_return_t (*by_pci)(const char *bus_id, nvml_device_t *dev);
    nvml_return_t (*by_index)(unsigned index, nvml_device_t *dev);
    nvml_return_t (*clock)(nvml_device_t dev, int type, unsigned *mhz);
    nvml_return_t (*driver)(char *out, unsigned len);
};

/* dlsym's object pointer to a function pointer, without a cast ISO C forbids. */
static void sym(void *lib, const char *name, void *fn_ptr_addr)
{
    void *p = dlsym(lib, name);
    *(void **)fn_ptr_addr = p;
}

struct cuda_nvml *cuda_nvml_open(char *why, size_t whylen)
{
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(why, whylen, "libnvidia-ml.so.1 not found (no NVIDIA driver?)");
        return NULL;
    }
    struct cuda_nvml *n = calloc(1, sizeof *n);
    nvml_return_t (*init)(void) = NULL;
    sym(lib, "nvmlInit_v2", &init);
    if (n) {
        n->lib = lib;
        sym(lib, "nvmlShutdown", &n->shutdown);
        sym(lib, "nvmlDeviceGetHandleByPciBusId_v2", &n->by_pci);
        sym(lib, "nvmlDeviceGetHandleByIndex_v2", &n->by_index);
        sym(lib, "nvmlDeviceGetClockInfo", &n->clock);
        sym(lib, "nvmlSystemGetDriverVersion", &n->driver);
    }
    if (!n || !init || !n->shutdown || !n->clock || init() != NVML_SUCCESS) {
        snprintf(why, whylen, "NVML did not initialise");
        free(n);
        dlclose(lib);
        return NULL;
    }
    return n;
}

void cuda_nvml_close(struct cuda_nvml *n)
{
    if (!n)
        return;
    n->shutdown();
    dlclose(n->lib);
    free(n);
}

void *cuda_nvml_device(struct cuda_nvml *n, int ordinal)
{
    nvml_device_t dev = NULL;
    char bus[32];
    if (!n)
        return NULL;
    if (n->by_pci && cudaDeviceGetPCIBusId(bus, sizeof bus, ordinal) == cudaSuccess &&
        n->by_pci(bus, &dev) == NVML_SUCCESS)
        return dev;
    if (n->by_index && n->by_index((unsigned)ordinal, &dev) == NVML_SUCCESS)
        return dev;
    return NULL;
}

unsigned cuda_nvml_sm_clock(struct cuda_nvml *n, void *dev)
{
    unsigned mhz = 0;
    if (!n || !dev || n->clock(dev, NVML_CLOCK_SM, &mhz) != NVML_SUCCESS)
        return 0;
    return mhz;
}

int cuda_nvml_driver_version(struct cuda_nvml *n, char *out, size_t len)
{
    return n && n->driver && n->driver(out, (unsigned)len) == NVML_SUCCESS ? 0 : -1;
}
