/* worker: a Clockwork worker doing real inference on CPU devices (oneDNN): each device is a
 * set of pinned cores; models are converted ONNX models (see `convert`). Same protocol and
 * action semantics as worker_dummy; only the backend differs. */
#define _GNU_SOURCE
#include "common/config.h"
#include "common/log.h"
#include "backend/cpu/cpu_backend.h"
#include "worker/worker.h"
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
            "Usage: %s [OPTIONS]\n"
            "Runs a Clockwork worker whose devices are CPU cores (oneDNN).\n"
            "Options:\n"
            "  -n, --num_gpus N   number of devices (default 1)\n"
            "      --cores-per-device N  cores per device (default 1); device i uses cores\n"
            "                     first+i*N ... first+i*N+N-1 (mod online CPUs)\n"
            "      --first-core C first core of device 0 (default 0)\n"
            "      --no-measure   do not measure models on LoadModelFromDisk; use model.measurements\n"
            "  -p, --port PORT    port to listen on for the controller (default 12345)\n"
            "      --host ADDR    address to listen on (default 0.0.0.0)\n"
            "  -v, --verbose      print every action and result (very chatty under load)\n"
            "  -q, --quiet        do not print the once-per-second status line\n"
            "  -h, --help         print this message\n"
            "Environment:\n"
            "  CLOCKWORK_CONFIG_FILE  worker config (default: config/default.cfg)\n"
            "  CLOCKWORK_MODEL_DIR    model zoo used by clients to name models\n",
            prog);
}

static int parse_uint(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Returns 0 to run, 1 after -h, -1 on a bad command line. */
static int parse_args(int argc, char **argv, struct worker_options *o, struct cpu_options *cpu)
{
    static const struct option longopts[] = {
        {"num_gpus", required_argument, NULL, 'n'}, {"port", required_argument, NULL, 'p'},
        {"host", required_argument, NULL, 'H'},     {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {"cores-per-device", required_argument, NULL, 'C'}, {"first-core", required_argument, NULL, 'F'},
        {"no-measure", no_argument, NULL, 'M'},
        {NULL, 0, NULL, 0},
    };
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "n:p:vqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_uint(optarg, 1, 1024, &v) != 0)
                return -1;
            o->num_devices = (unsigned)v;
            break;
        case 'p':
            if (parse_uint(optarg, 1, 65535, &v) != 0)
                return -1;
            o->port = (int)v;
            break;
        case 'H': o->host = optarg; break;
        case 'C':
        case 'F':
            if (parse_uint(optarg, c == 'C' ? 1 : 0, 4096, &v) != 0)
                return -1;
            *(c == 'C' ? &cpu->cores_per_device : &cpu->first_core) = (unsigned)v;
            break;
        case 'M': cpu->measure = 0; break;
        case 'v': o->verbose = 1; break;
        case 'q': o->print_status = 0; break;
        case 'h': return 1;
        default: return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct worker_options opt;
    worker_options_defaults(&opt);
    struct cpu_options cpu_opt;
    cpu_options_defaults(&cpu_opt);
    int rc = parse_args(argc, argv, &opt, &cpu_opt);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr, argv[0]);
        return rc > 0 ? 0 : 1;
    }
    log_info("Starting Clockwork Worker");
    struct worker_config cfg;
    char err[512];
    if (worker_config_load_default(&cfg, err, sizeof err) != 0) {
        log_error("%s", err);
        return 1;
    }
    if (cfg.source[0])
        log_info("Loading Clockwork worker default config from %s", cfg.source);
    else
        log_info("No config file found, using the built-in default config");
    struct cpu_worker *cpu = cpu_worker_create(&cpu_opt, &cfg, err, sizeof err);
    if (!cpu) {
        log_error("%s", err);
        return 1;
    }
    log_info("CPU devices: %u x %u core(s), weights cache %llu MiB each (pages of %llu MiB)", opt.num_devices,
             cpu_opt.cores_per_device, (unsigned long long)(cfg.weights_cache_size >> 20),
             (unsigned long long)(cfg.weights_cache_page_size >> 20));
    opt.make_backend = cpu_worker_make_backend;
    opt.load_model = cpu_worker_load_model;
    opt.free_model = cpu_worker_free_model;
    opt.backend_ctx = cpu;
    struct worker *w = worker_create(&opt, &cfg, err, sizeof err);
    if (!w) {
        log_error("%s", err);
        cpu_worker_destroy(cpu);
        return 1;
    }
    worker_run(w);
    worker_destroy(w);
    cpu_worker_destroy(cpu);
    log_info("Clockwork Worker stopped");
    return 0;
}
