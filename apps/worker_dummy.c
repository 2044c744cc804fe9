/* worker_dummy: a Clockwork worker with emulated devices (timings from each model's
 * profile, exact page accounting), indistinguishable from a real worker to the controller. */
#define _GNU_SOURCE
#include "common/config.h"
#include "common/log.h"
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
            "Runs a Clockwork worker with emulated GPUs.\n"
            "Options:\n"
            "  -n, --num_gpus N   number of GPUs to emulate (default 1)\n"
            "  -p, --port PORT    port to listen on for the controller (default 12345)\n"
            "      --host ADDR    address to listen on (default 0.0.0.0)\n"
            "  -v, --verbose      print every action and result (very chatty under load)\n"
            "  -q, --quiet        do not print the once-per-second status line\n"
            "  -h, --help         print this message\n"
            "Environment:\n"
            "  CLOCKWORK_CONFIG_FILE  worker config (default: config/default.cfg)\n",
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
static int parse_args(int argc, char **argv, struct worker_options *o)
{
    static const struct option longopts[] = {
        {"num_gpus", required_argument, NULL, 'n'}, {"port", required_argument, NULL, 'p'},
        {"host", required_argument, NULL, 'H'},     {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
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
    int rc = parse_args(argc, argv, &opt);
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
    struct worker *w = worker_create(&opt, &cfg, err, sizeof err);
    if (!w) {
        log_error("%s", err);
        return 1;
    }
    worker_run(w);
    worker_destroy(w);
    log_info("Clockwork Worker stopped");
    return 0;
}
