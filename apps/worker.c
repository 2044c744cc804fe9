/* worker: a Clockwork worker doing real inference on converted models (see `convert`), on
 * NVIDIA GPUs (--device cuda: cuDNN + cuBLAS, one device per GPU) or on pinned CPU cores
 * (--device cpu: oneDNN). Same protocol and action semantics as worker_dummy; only the
 * backend differs. The default is cuda when this build has it and a GPU is present. */
#define _GNU_SOURCE
#include "backend/cpu/cpu_backend.h"
#include "backend/select/backend_select.h"
#include "common/log.h"
#include "common/parse.h"
#include "worker/worker_main.h"
#include <getopt.h>
#include <stdio.h>
#ifdef CLOCKWORK_HAVE_CUDA
#include "backend/cuda/cuda_backend.h"
#endif

struct real_program {
    enum backend_kind device;
    struct cpu_options cpu_opts;
    struct cpu_worker *cpu;
#ifdef CLOCKWORK_HAVE_CUDA
    struct cuda_options cuda_opts;
    struct cuda_worker *cuda;
#endif
};

static int handle_option(void *data, int opt, const char *arg)
{
    struct real_program *p = data;
    long v;
    switch (opt) {
    case 'C':
    case 'F':
        if (parse_long_range(arg, opt == 'C' ? 1 : 0, 4096, &v) != 0)
            return -1;
        *(opt == 'C' ? &p->cpu_opts.cores_per_device : &p->cpu_opts.first_core) = (unsigned)v;
        return 0;
    case 'M': p->cpu_opts.measure = 0;
#ifdef CLOCKWORK_HAVE_CUDA
        p->cuda_opts.measure = 0;
#endif
        return 0;
    case 'D': return backend_select_parse(arg, &p->device);
    default: return -1;
    }
}

static int setup_cpu(struct real_program *p, struct worker_options *o, const struct worker_config *cfg, char *err,
                     size_t errlen)
{
    p->cpu = cpu_worker_create(&p->cpu_opts, cfg, err, errlen);
    if (!p->cpu)
        return -1;
    log_info("CPU devices: %u x %u core(s), weights cache %llu MiB each (pages of %llu MiB)", o->num_devices,
             p->cpu_opts.cores_per_device, (unsigned long long)(cfg->weights_cache_size >> 20),
             (unsigned long long)(cfg->weights_cache_page_size >> 20));
    o->make_backend = cpu_worker_make_backend;
    o->load_model = cpu_worker_load_model;
    o->free_model = cpu_worker_free_model;
    o->backend_ctx = p->cpu;
    return 0;
}

#ifdef CLOCKWORK_HAVE_CUDA
static int setup_cuda(struct real_program *p, struct worker_options *o, const struct worker_config *cfg, char *err,
                      size_t errlen)
{
    p->cuda = cuda_worker_create(&p->cuda_opts, cfg, o->num_devices, err, errlen);
    if (!p->cuda)
        return -1;
    log_info("CUDA devices: %u GPU(s), weights cache %llu MiB each (pages of %llu MiB)", o->num_devices,
             (unsigned long long)(cfg->weights_cache_size >> 20),
             (unsigned long long)(cfg->weights_cache_page_size >> 20));
    o->make_backend = cuda_worker_make_backend;
    o->load_model = cuda_worker_load_model;
    o->free_model = cuda_worker_free_model;
    o->backend_ctx = p->cuda;
    return 0;
}
#endif

static int setup(void *data, struct worker_options *o, const struct worker_config *cfg, char *err, size_t errlen)
{
    struct real_program *p = data;
    if (backend_select_resolve(&p->device, err, errlen) != 0)
        return -1;
#ifdef CLOCKWORK_HAVE_CUDA
    if (p->device == BACKEND_CUDA)
        return setup_cuda(p, o, cfg, err, errlen);
#endif
    return setup_cpu(p, o, cfg, err, errlen);
}

static void teardown(void *data)
{
    struct real_program *p = data;
    cpu_worker_destroy(p->cpu);
#ifdef CLOCKWORK_HAVE_CUDA
    cuda_worker_destroy(p->cuda);
#endif
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"device", required_argument, NULL, 'D'},
        {"cores-per-device", required_argument, NULL, 'C'},
        {"first-core", required_argument, NULL, 'F'},
        {"no-measure", no_argument, NULL, 'M'},
        {NULL, 0, NULL, 0},
    };
    struct real_program prog = {0};
    cpu_options_defaults(&prog.cpu_opts);
#ifdef CLOCKWORK_HAVE_CUDA
    cuda_options_defaults(&prog.cuda_opts);
#endif
    const struct worker_program p = {
        .description = "Runs a Clockwork worker doing real inference on GPUs (cuDNN/cuBLAS) or CPU cores (oneDNN).",
        .device_noun = "devices (GPUs, or sets of CPU cores)",
        .extra_usage = "      --device cpu|cuda  where models run (default: cuda when built with CUDA and a GPU\n"
                       "                     is present, else cpu); with cuda, device i is GPU i\n"
                       "      --cores-per-device N  cpu: cores per device (default 1); device i uses cores\n"
                       "                     first+i*N ... first+i*N+N-1 (mod online CPUs)\n"
                       "      --first-core C cpu: first core of device 0 (default 0)\n"
                       "      --no-measure   do not measure models on LoadModelFromDisk; use model.measurements\n",
        .extra_longopts = longopts,
        .handle_option = handle_option,
        .setup = setup,
        .teardown = teardown,
        .data = &prog,
    };
    return worker_program_main(&p, argc, argv);
}
