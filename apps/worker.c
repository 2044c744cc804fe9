/* worker: a Clockwork worker doing real inference on CPU devices (oneDNN): each device is a
 * set of pinned cores; models are converted ONNX models (see `convert`). Same protocol and
 * action semantics as worker_dummy; only the backend differs. */
#define _GNU_SOURCE
#include "backend/cpu/cpu_backend.h"
#include "common/log.h"
#include "common/parse.h"
#include "worker/worker_main.h"
#include <getopt.h>
#include <stdio.h>

struct cpu_program {
    struct cpu_options opts;
    struct cpu_worker *cpu;
};

static int handle_option(void *data, int opt, const char *arg)
{
    struct cpu_program *p = data;
    long v;
    switch (opt) {
    case 'C':
    case 'F':
        if (parse_long_range(arg, opt == 'C' ? 1 : 0, 4096, &v) != 0)
            return -1;
        *(opt == 'C' ? &p->opts.cores_per_device : &p->opts.first_core) = (unsigned)v;
        return 0;
    case 'M': p->opts.measure = 0; return 0;
    default: return -1;
    }
}

static int setup(void *data, struct worker_options *o, const struct worker_config *cfg, char *err, size_t errlen)
{
    struct cpu_program *p = data;
    p->cpu = cpu_worker_create(&p->opts, cfg, err, errlen);
    if (!p->cpu)
        return -1;
    log_info("CPU devices: %u x %u core(s), weights cache %llu MiB each (pages of %llu MiB)", o->num_devices,
             p->opts.cores_per_device, (unsigned long long)(cfg->weights_cache_size >> 20),
             (unsigned long long)(cfg->weights_cache_page_size >> 20));
    o->make_backend = cpu_worker_make_backend;
    o->load_model = cpu_worker_load_model;
    o->free_model = cpu_worker_free_model;
    o->backend_ctx = p->cpu;
    return 0;
}

static void teardown(void *data)
{
    struct cpu_program *p = data;
    cpu_worker_destroy(p->cpu);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"cores-per-device", required_argument, NULL, 'C'},
        {"first-core", required_argument, NULL, 'F'},
        {"no-measure", no_argument, NULL, 'M'},
        {NULL, 0, NULL, 0},
    };
    struct cpu_program prog = {0};
    cpu_options_defaults(&prog.opts);
    const struct worker_program p = {
        .description = "Runs a Clockwork worker whose devices are CPU cores (oneDNN).",
        .device_noun = "devices",
        .extra_usage = "      --cores-per-device N  cores per device (default 1); device i uses cores\n"
                       "                     first+i*N ... first+i*N+N-1 (mod online CPUs)\n"
                       "      --first-core C first core of device 0 (default 0)\n"
                       "      --no-measure   do not measure models on LoadModelFromDisk; use model.measurements\n",
        .extra_longopts = longopts,
        .handle_option = handle_option,
        .setup = setup,
        .teardown = teardown,
        .data = &prog,
    };
    return worker_program_main(&p, argc, argv);
}
